//! CRC-16/CCITT-FALSE, the checksum in VietQR tag 63 (EMVCo MPM §4.7.3).
//!
//! Polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR; computed over the UTF-8
//! bytes of the whole payload up to and including `6304`, written as four upper-case hex digits,
//! zero-padded. The `crc` crate's catalogue calls this algorithm `CRC_16_IBM_3740`; the 16-table
//! slicing variant keeps a whole payload under a hundred nanoseconds.

use crc::{CRC_16_IBM_3740, Crc, Table};

const CCITT_FALSE: Crc<u16, Table<16>> = Crc::<u16, Table<16>>::new(&CRC_16_IBM_3740);

/// The checksum of `bytes`.
pub fn checksum(bytes: &[u8]) -> u16 {
    CCITT_FALSE.checksum(bytes)
}

/// The checksum as VietQR writes it: four upper-case hex digits.
pub fn to_hex(crc: u16) -> [u8; 4] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let nibble = |shift: u16| HEX[usize::from((crc >> shift) & 0xF)];
    [nibble(12), nibble(8), nibble(4), nibble(0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_check_value_is_29b1() {
        assert_eq!(checksum(b"123456789"), 0x29B1);
    }

    #[test]
    fn small_checksums_keep_their_leading_zeros() {
        assert_eq!(&to_hex(0x0F52), b"0F52");
        assert_eq!(&to_hex(0x0000), b"0000");
        assert_eq!(&to_hex(0xAE9F), b"AE9F");
    }

    #[test]
    fn a_public_napas_payload_checks_out() {
        let body = "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN62340107NPS68690819thanh toan don hang6304";
        assert_eq!(&to_hex(checksum(body.as_bytes())), b"2E2E");
    }
}
