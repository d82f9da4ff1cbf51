//! VietQR encoding: writes a checked [`VietQr`] as its EMVCo payload in one pass.
//!
//! Nested lengths are computed arithmetically, so the payload is written into a single buffer
//! sized up front; the CRC is appended last (EMVCo MPM §4.7.3). Tags go in ascending order and
//! every value is ASCII, so lengths in characters and bytes agree.

use super::{NAPAS_GUID, VietQr, crc};

/// Appends a two-digit tag and a two-digit length. Callers guarantee `length <= 99`.
fn push_header(out: &mut String, tag: &str, length: usize) {
    debug_assert!(length <= 99, "tag {tag} length {length} exceeds 99");
    out.push_str(tag);
    let tens = u8::try_from(length / 10 % 10).unwrap_or(9);
    let units = u8::try_from(length % 10).unwrap_or(9);
    out.push(char::from(b'0' + tens));
    out.push(char::from(b'0' + units));
}

fn push_field(out: &mut String, tag: &str, value: &str) {
    push_header(out, tag, value.len());
    out.push_str(value);
}

impl VietQr {
    /// The payload: what the QR code carries and bank apps read.
    pub fn payload(&self) -> String {
        let f = self.fields();
        let mut out = String::with_capacity(160 + self.additional_data_len());
        push_field(&mut out, "00", "01");
        push_field(&mut out, "01", if f.amount.is_some() { "12" } else { "11" });

        // 38: {00 GUID, 01 {00 BIN, 01 account}, 02 service}
        let beneficiary_len = 4 + f.bin.len() + 4 + f.account.len();
        let service = f.service.code();
        let merchant_len = 4 + NAPAS_GUID.len() + 4 + beneficiary_len + 4 + service.len();
        push_header(&mut out, "38", merchant_len);
        push_field(&mut out, "00", NAPAS_GUID);
        push_header(&mut out, "01", beneficiary_len);
        push_field(&mut out, "00", &f.bin);
        push_field(&mut out, "01", &f.account);
        push_field(&mut out, "02", service);

        if let Some(mcc) = &f.mcc {
            push_field(&mut out, "52", mcc);
        }
        push_field(&mut out, "53", "704");
        if let Some(amount) = f.amount {
            push_header(&mut out, "54", amount.digit_count());
            amount.push_digits(&mut out);
        }
        push_field(&mut out, "58", "VN");
        if let Some(name) = &f.merchant_name {
            push_field(&mut out, "59", name);
        }
        if let Some(city) = &f.merchant_city {
            push_field(&mut out, "60", city);
        }
        let additional_len = self.additional_data_len();
        if additional_len > 0 {
            push_header(&mut out, "62", additional_len);
            for (tag, value) in self.additional_fields() {
                if let Some(value) = value {
                    push_field(&mut out, tag, value);
                }
            }
        }
        out.push_str("6304");
        for digit in crc::to_hex(crc::checksum(out.as_bytes())) {
            out.push(char::from(digit));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Service, VietQrFields};
    use super::*;
    use crate::domain::money::Vnd;

    fn qr(fields: VietQrFields) -> VietQr {
        VietQr::new(fields).unwrap()
    }

    #[test]
    fn the_napas_dynamic_example_is_reproduced_byte_for_byte() {
        let code = qr(VietQrFields {
            bin: "970403".into(),
            account: "0011012345678".into(),
            amount: Some(Vnd::from_dong(180_000).unwrap()),
            bill_number: Some("NPS6869".into()),
            purpose: Some("thanh toan don hang".into()),
            ..VietQrFields::default()
        });
        assert_eq!(
            code.payload(),
            "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E"
        );
    }

    #[test]
    fn a_static_card_code_has_no_amount_and_service_qribfttc() {
        let code = qr(VietQrFields {
            bin: "970403".into(),
            account: "9704031101234567".into(),
            service: Service::Card,
            ..VietQrFields::default()
        });
        assert_eq!(
            code.payload(),
            "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN63044F52"
        );
    }

    #[test]
    fn vietnamese_purposes_are_folded_before_they_are_measured() {
        let code = qr(VietQrFields {
            bin: "970436".into(),
            account: "1234567890".into(),
            amount: Some(Vnd::from_dong(50_000).unwrap()),
            purpose: Some("Chuyển tiền chợ Mơ".into()),
            ..VietQrFields::default()
        });
        assert!(
            code.payload().contains("0818Chuyen tien cho Mo6304"),
            "{}",
            code.payload()
        );
    }
}
