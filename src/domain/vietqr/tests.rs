//! Behaviour of the VietQR codec as a bank app or a person meets it: public examples, lenient
//! reading, precise errors, and the properties every payload must keep.

use proptest::prelude::*;

use super::*;
use crate::domain::money::Vnd;

/// Appends `6304` and the right CRC to a payload body.
fn with_crc(body: &str) -> String {
    let mut payload = format!("{body}6304");
    let crc = crc::to_hex(crc::checksum(payload.as_bytes()));
    payload.push_str(std::str::from_utf8(&crc).unwrap());
    payload
}

const NAPAS_DYNAMIC: &str = "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E";
const NAPAS_STATIC_CARD: &str = "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN63044F52";
const ACB_STATIC: &str =
    "00020101021138530010A0000007270123000697041601092576788590208QRIBFTTA53037045802VN6304AE9F";
const MB_LOWERCASE_CRC: &str =
    "00020101021138540010A00000072701240006970422011003523509170208QRIBFTTA53037045802VN630479db";

#[test]
fn the_public_napas_dynamic_example_reads_completely() {
    let d = decode(NAPAS_DYNAMIC).unwrap();
    assert_eq!(d.scheme, Scheme::Vietqr);
    assert_eq!(d.point_of_initiation, Some(Initiation::Dynamic));
    assert_eq!(d.bin.as_deref(), Some("970403"));
    assert_eq!(
        d.bank.as_ref().map(|b| b.short_name.as_str()),
        Some("Sacombank")
    );
    assert_eq!(d.account.as_deref(), Some("0011012345678"));
    assert_eq!(d.service, Some(Service::Account));
    assert_eq!(d.amount, Some(Vnd::from_dong(180_000).unwrap()));
    assert_eq!(d.bill_number.as_deref(), Some("NPS6869"));
    assert_eq!(d.purpose.as_deref(), Some("thanh toan don hang"));
    assert_eq!(d.currency.as_deref(), Some("704"));
    assert_eq!(d.country.as_deref(), Some("VN"));
    assert_eq!(d.crc, "2E2E");
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    assert_eq!(
        d.fields.iter().map(|f| f.tag.as_str()).collect::<Vec<_>>(),
        ["00", "01", "38", "53", "54", "58", "62", "63"]
    );
}

#[test]
fn the_public_static_examples_read_with_their_banks() {
    let card = decode(NAPAS_STATIC_CARD).unwrap();
    assert_eq!(
        (card.service, card.account.as_deref()),
        (Some(Service::Card), Some("9704031101234567"))
    );
    assert_eq!(card.point_of_initiation, Some(Initiation::Static));
    assert_eq!(card.amount, None);
    let acb = decode(ACB_STATIC).unwrap();
    assert_eq!(
        (acb.bin.as_deref(), acb.account.as_deref()),
        (Some("970416"), Some("257678859"))
    );
    assert_eq!(acb.bank.map(|b| b.short_name), Some("ACB".to_owned()));
}

#[test]
fn a_lower_case_crc_is_accepted_with_a_warning() {
    let d = decode(MB_LOWERCASE_CRC).unwrap();
    assert_eq!(
        (d.bin.as_deref(), d.account.as_deref()),
        (Some("970422"), Some("0352350917"))
    );
    assert_eq!(d.crc, "79db");
    assert_eq!(
        d.warnings,
        ["CRC written in lower case ('79db'); encoders should write '79DB'"]
    );
}

#[test]
fn a_wrong_crc_is_refused_with_the_expected_and_found_values() {
    let broken = NAPAS_DYNAMIC.replace("63042E2E", "63042E2F");
    assert_eq!(
        decode(&broken).unwrap_err().to_string(),
        "wrong CRC: expected 2E2E, found 2E2F"
    );
    let edited = NAPAS_DYNAMIC.replace("5406180000", "5406980000");
    assert!(matches!(
        decode(&edited),
        Err(DecodeError::CrcMismatch { .. })
    ));
}

#[test]
fn a_static_code_with_an_amount_is_read_with_a_warning() {
    let payload = with_crc(
        "00020101021138540010A00000072701240006970422011003523509170208QRIBFTTA53037045405500005802VN",
    );
    let d = decode(&payload).unwrap();
    assert_eq!(d.point_of_initiation, Some(Initiation::Static));
    assert_eq!(d.amount, Some(Vnd::from_dong(50_000).unwrap()));
    assert_eq!(
        d.warnings,
        ["a static code (01 = 11) carries an amount; bank apps may pre-fill it"]
    );
}

#[test]
fn lengths_in_utf8_bytes_are_understood() {
    // "Hà Nội" is 6 characters and 9 bytes; this encoder counted bytes.
    let payload = with_crc(
        "00020101021138540010A00000072701240006970422011003523509170208QRIBFTTA53037045802VN6009Hà Nội",
    );
    let d = decode(&payload).unwrap();
    assert_eq!(d.merchant_city.as_deref(), Some("Hà Nội"));
    assert!(
        d.warnings
            .iter()
            .any(|w| w == "lengths count UTF-8 bytes, not characters"),
        "{:?}",
        d.warnings
    );
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("60 (merchant_city) has non-ASCII")),
        "{:?}",
        d.warnings
    );
    let in_chars = with_crc(
        "00020101021138540010A00000072701240006970422011003523509170208QRIBFTTA53037045802VN6006Hà Nội",
    );
    assert_eq!(
        decode(&in_chars).unwrap().merchant_city.as_deref(),
        Some("Hà Nội")
    );
}

#[test]
fn a_malformed_beneficiary_is_reported_by_its_path() {
    // 38.01 claims 40 characters; only 36 are left in 38.
    let payload = with_crc(
        "00020101021138540010A00000072701400006970422011003523509170208QRIBFTTA53037045802VN",
    );
    let error = decode(&payload).unwrap_err().to_string();
    assert_eq!(
        error,
        "malformed field 38.01: declared length 40 but only 36 characters remain"
    );
    // Inside 38.01, the account claims 12 characters; only 10 are left.
    let payload = with_crc(
        "00020101021138540010A00000072701240006970422011203523509170208QRIBFTTA53037045802VN",
    );
    let error = decode(&payload).unwrap_err().to_string();
    assert_eq!(
        error,
        "malformed field 38.01.01: declared length 12 but only 10 characters remain"
    );
    let bad_bin = with_crc(
        "00020101021138540010A00000072701240006970X22011003523509170208QRIBFTTA53037045802VN",
    );
    assert_eq!(
        decode(&bad_bin).unwrap_err().to_string(),
        "38.01.00 (acquirer_bin): must be 6 digits, got '970X22'"
    );
}

#[test]
fn a_malformed_additional_data_field_is_a_warning_not_a_failure() {
    let payload = with_crc(
        "00020101021138540010A00000072701240006970422011003523509170208QRIBFTTA53037045802VN62080830abcd",
    );
    let d = decode(&payload).unwrap();
    assert_eq!(d.account.as_deref(), Some("0352350917"));
    assert_eq!(d.purpose, None);
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("62.08: declared length 30")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn fractions_in_the_amount_are_refused_and_a_zero_fraction_is_a_warning() {
    let fraction = with_crc(
        "00020101021238540010A00000072701240006970422011003523509170208QRIBFTTA53037045406150.505802VN",
    );
    assert_eq!(
        decode(&fraction).unwrap_err().to_string(),
        "54 (transaction_amount): '150.50' has a fraction of a đồng"
    );
    let zero = with_crc(
        "00020101021238540010A00000072701240006970422011003523509170208QRIBFTTA530370454061000.05802VN",
    );
    let d = decode(&zero).unwrap();
    assert_eq!(d.amount, Some(Vnd::from_dong(1000).unwrap()));
    assert!(d.warnings[0].contains("decimal point"));
}

#[test]
fn other_schemes_are_named_rather_than_refused() {
    let pix = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D";
    let d = decode(pix).unwrap();
    assert_eq!(d.scheme, Scheme::Emvco);
    assert_eq!((d.bin, d.account, d.amount), (None, None, None));
    assert_eq!(d.merchant_name.as_deref(), Some("Fulano de Tal"));
    assert_eq!(d.fields[1].fields[0].value, "br.gov.bcb.pix");
    let vnpay = with_crc(
        "00020101021126280010A0000007750110010531431452045812530370454061200005802VN5910VNPAY TEST6005HANOI",
    );
    let d = decode(&vnpay).unwrap();
    assert_eq!(d.scheme, Scheme::Vnpay);
    assert_eq!(d.amount, Some(Vnd::from_dong(120_000).unwrap()));
    assert_eq!(d.merchant_category_code.as_deref(), Some("5812"));
}

#[test]
fn a_shared_bin_shows_every_bank() {
    let payload = with_crc(
        "00020101021138540010A00000072701240006970406011003523509170208QRIBFTTA53037045802VN",
    );
    let d = decode(&payload).unwrap();
    assert_eq!(
        d.bank.as_ref().map(|b| b.short_name.as_str()),
        Some("Vikki Bank / DongA Bank")
    );
    assert_eq!(d.bank.map(|b| b.institutions.len()), Some(2));
    assert!(
        d.warnings
            .iter()
            .any(|w| w == "BIN 970406 is shared by Vikki Bank / DongA Bank")
    );
}

#[test]
fn an_unknown_bin_is_a_warning() {
    let payload = with_crc(
        "00020101021138540010A00000072701240006123456011003523509170208QRIBFTTA53037045802VN",
    );
    let d = decode(&payload).unwrap();
    assert_eq!(d.bank, None);
    assert_eq!(d.warnings, ["BIN 123456 is not in the NAPAS directory"]);
}

#[test]
fn nonsense_gets_a_precise_error() {
    assert_eq!(decode("").unwrap_err(), DecodeError::Empty);
    assert_eq!(decode("hello").unwrap_err(), DecodeError::MissingCrc);
    assert_eq!(
        decode("000201…6304ZZZZ").unwrap_err(),
        DecodeError::BadCrc("ZZZZ".into())
    );
    let no_format = with_crc("0102115802VN");
    assert_eq!(
        decode(&no_format).unwrap_err().to_string(),
        "00 (payload_format_indicator): must come first, with value 01"
    );
}

#[test]
fn field_errors_name_the_field() {
    let too_long = VietQr::new(VietQrFields {
        bin: "970436".into(),
        account: "1".into(),
        purpose: Some("Thanh toán tiền rau muống chợ Mơ".into()),
        ..VietQrFields::default()
    });
    assert_eq!(
        too_long.unwrap_err().to_string(),
        "62.08 (purpose): at most 25 characters, got 32 ('Thanh toan tien rau muong cho Mo')"
    );
    let bad_bin = VietQr::new(VietQrFields {
        bin: "97043".into(),
        account: "1".into(),
        ..VietQrFields::default()
    });
    assert_eq!(
        bad_bin.unwrap_err().to_string(),
        "38.01.00 (bin): must be 6 digits, got '97043'"
    );
    let card = VietQr::new(VietQrFields {
        bin: "970436".into(),
        account: "VQR123".into(),
        service: Service::Card,
        ..VietQrFields::default()
    });
    assert_eq!(card.unwrap_err().path, "38.01.01");
    let long_account = VietQr::new(VietQrFields {
        bin: "970436".into(),
        account: "1".repeat(20),
        ..VietQrFields::default()
    });
    assert_eq!(
        long_account.unwrap_err().to_string(),
        "38.01.01 (account): at most 19 characters, got 20"
    );
    let crowded = VietQr::new(VietQrFields {
        bin: "970436".into(),
        account: "1".into(),
        bill_number: Some("B".repeat(25)),
        store_label: Some("S".repeat(25)),
        reference_label: Some("R".repeat(25)),
        purpose: Some("P".repeat(25)),
        ..VietQrFields::default()
    });
    assert_eq!(
        crowded.unwrap_err().to_string(),
        "62 (additional data): its sub-fields take 116 characters; at most 99 fit"
    );
}

/// Text a vendor might type: Vietnamese letters, digits, spaces and a little punctuation.
fn vietnamese_text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-zA-Z0-9 .,àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵĐƯƠ]{{1,{max}}}"))
        .unwrap()
        .prop_filter("not blank", |s| !s.trim().is_empty())
}

prop_compose! {
    fn any_fields()(
        bin in "[0-9]{6}",
        card in any::<bool>(),
        account in "[0-9A-Z]{1,19}",
        digits in "[0-9]{1,19}",
        amount in proptest::option::of(1..=Vnd::MAX_DONG),
        mcc in proptest::option::of("[0-9]{4}"),
        merchant_name in proptest::option::of(vietnamese_text(25)),
        merchant_city in proptest::option::of(vietnamese_text(15)),
        bill_number in proptest::option::of(vietnamese_text(12)),
        mobile in proptest::option::of("0[0-9]{9}"),
        store_label in proptest::option::of(vietnamese_text(12)),
        reference_label in proptest::option::of("[A-Z0-9]{4,12}"),
        terminal_label in proptest::option::of(vietnamese_text(12)),
        purpose in proptest::option::of(vietnamese_text(25)),
    ) -> VietQrFields {
        VietQrFields {
            bin,
            account: if card { digits } else { account },
            service: if card { Service::Card } else { Service::Account },
            amount: amount.map(|a| Vnd::from_dong(a).unwrap()),
            mcc, merchant_name, merchant_city, bill_number, mobile, store_label, reference_label, terminal_label, purpose,
        }
    }
}

proptest! {
    #[test]
    fn decoding_an_encoded_code_gives_back_its_fields(fields in any_fields()) {
        let Ok(code) = VietQr::new(fields) else { return Ok(()) };
        let payload = code.payload();
        prop_assert!(payload.is_ascii());
        let decoded = decode(&payload).unwrap();
        prop_assert_eq!(decoded.scheme, Scheme::Vietqr);
        prop_assert_eq!(decoded.point_of_initiation, Some(code.initiation()));
        let again = VietQr::new(decoded.to_fields()).unwrap();
        prop_assert_eq!(&again, &code);
        prop_assert_eq!(again.payload(), payload);
        prop_assert!(decoded.warnings.iter().all(|w| w.contains("NAPAS directory")), "{:?}", decoded.warnings);
    }

    #[test]
    fn every_single_character_change_is_rejected_or_reported(
        fields in any_fields(),
        position in any::<proptest::sample::Index>(),
        replacement in proptest::char::range(' ', '~'),
    ) {
        let Ok(code) = VietQr::new(fields) else { return Ok(()) };
        let payload = code.payload();
        let index = position.index(payload.len());
        let original = char::from(payload.as_bytes()[index]);
        prop_assume!(original != replacement);
        let mut changed = payload.clone();
        changed.replace_range(index..=index, &replacement.to_string());
        match decode(&changed) {
            Err(_) => {}
            Ok(decoded) => prop_assert!(
                !decoded.warnings.is_empty(),
                "changing {original:?} to {replacement:?} at {index} went unnoticed"
            ),
        }
    }

    #[test]
    fn the_decoder_never_panics(text in any::<String>()) {
        let _ = decode(&text);
        let _ = decode(&with_crc(&text));
    }

    #[test]
    fn folded_text_in_a_payload_is_pure_ascii(fields in any_fields()) {
        if let Ok(code) = VietQr::new(fields) {
            prop_assert!(code.payload().bytes().all(|b| (0x20..=0x7E).contains(&b)));
        }
    }
}

#[test]
fn a_byte_counted_payload_is_not_misread_in_characters() {
    // 62 holds "0809Tiền 15": 11 characters but 13 bytes, and this encoder counted bytes. Read in
    // characters, 62 would swallow the "63" of the CRC field.
    let payload = with_crc(
        "00020101021238540010A00000072701240006970422011003523509170208QRIBFTTA53037045802VN62130809Tiền 15",
    );
    let d = decode(&payload).unwrap();
    assert_eq!(d.purpose.as_deref(), Some("Tiền 15"));
    assert_eq!(d.fields.last().map(|f| f.tag.as_str()), Some("63"));
    assert!(
        d.warnings
            .iter()
            .any(|w| w == "lengths count UTF-8 bytes, not characters"),
        "{:?}",
        d.warnings
    );
}

#[test]
fn a_napas_account_under_another_tag_is_still_read() {
    let payload = with_crc(
        "00020101021126540010A00000072701240006970422011003523509170208QRIBFTTA53037045802VN",
    );
    let d = decode(&payload).unwrap();
    assert_eq!(d.scheme, Scheme::Vietqr);
    assert_eq!(
        (d.bin.as_deref(), d.account.as_deref()),
        (Some("970422"), Some("0352350917"))
    );
    assert_eq!(d.warnings, ["the NAPAS template is under tag 26, not 38"]);
}

#[test]
fn odd_but_readable_payloads_say_what_is_odd() {
    let broken_language = with_crc(
        "00020101021138540010A00000072701240006970422011003523509170208QRIBFTTA53037045802VN6404abcd",
    );
    let d = decode(&broken_language).unwrap();
    assert_eq!(d.account.as_deref(), Some("0352350917"));
    assert!(
        d.warnings
            .iter()
            .any(|w| w.starts_with("malformed field 64: ") && w.ends_with("kept as text")),
        "{:?}",
        d.warnings
    );

    let bare = with_crc("0002015802VN");
    let d = decode(&bare).unwrap();
    assert_eq!(d.scheme, Scheme::Emvco);
    assert!(
        d.warnings
            .iter()
            .any(|w| w.starts_with("no merchant account information")),
        "{:?}",
        d.warnings
    );
    assert!(
        d.warnings
            .iter()
            .any(|w| w.starts_with("no point of initiation")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn surrounding_spaces_do_not_reach_the_payload() {
    let code = VietQr::new(VietQrFields {
        bin: "970436".into(),
        account: "1".into(),
        purpose: Some("  Tiền rau 🍜 ".into()),
        ..VietQrFields::default()
    })
    .unwrap();
    assert_eq!(code.fields().purpose.as_deref(), Some("Tien rau"));
}

/// Characters that stress the reader: digits (they look like headers), ASCII, and multi-byte.
fn mutation_char() -> impl Strategy<Value = char> {
    prop_oneof![
        proptest::char::range('0', '9'),
        proptest::char::range(' ', '~'),
        Just('ệ'),
        Just('đ'),
        Just('🍜')
    ]
}

proptest! {
    #[test]
    fn edited_payloads_with_a_fresh_crc_never_panic_and_end_with_the_crc(
        fields in any_fields(),
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), mutation_char(), any::<bool>()), 1..6),
    ) {
        let Ok(code) = VietQr::new(fields) else { return Ok(()) };
        let payload = code.payload();
        let mut chars: Vec<char> = payload[..payload.len() - 8].chars().collect();
        for (position, c, insert) in edits {
            let index = position.index(chars.len());
            if insert { chars.insert(index, c) } else { chars[index] = c }
        }
        let body: String = chars.into_iter().collect();
        if let Ok(decoded) = decode(&with_crc(&body)) {
            prop_assert_eq!(decoded.fields.last().map(|f| f.tag.as_str()), Some("63"));
        }
    }
}
