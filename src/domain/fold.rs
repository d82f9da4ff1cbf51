//! ASCII folding of Vietnamese text.
//!
//! VietQR fields 59, 60 and 62 must be ASCII (several bank apps fail on anything else, and lengths
//! become ambiguous), and holder names on bank accounts are ASCII upper case. Folding decomposes
//! (NFKD), drops combining marks, maps `đ`/`Đ` (which have no decomposition) to `d`/`D`, and drops
//! whatever is still outside printable ASCII. The result is always printable ASCII.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds `text` to printable ASCII (`0x20..=0x7E`): `"Chuyển tiền"` → `"Chuyen tien"`.
pub fn to_ascii(text: &str) -> String {
    if text.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
        return text.to_owned();
    }
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            other => other,
        })
        .filter(|c| matches!(c, ' '..='~'))
        .collect()
}

/// Folds `text` for comparisons and look-ups: ASCII, lower case, letters and digits only
/// (`"Ngân hàng Á Châu"` → `"nganhangachau"`).
pub fn search_key(text: &str) -> String {
    to_ascii(text)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vietnamese_diacritics_fold_to_their_base_letters() {
        assert_eq!(to_ascii("Chuyển tiền"), "Chuyen tien");
        assert_eq!(to_ascii("Đặc sản Ba Vì"), "Dac san Ba Vi");
        assert_eq!(to_ascii("NGUYỄN THỊ HƯƠNG"), "NGUYEN THI HUONG");
        assert_eq!(to_ascii("chợ Mơ, đường Ưng"), "cho Mo, duong Ung");
    }

    #[test]
    fn characters_without_an_ascii_form_are_dropped() {
        assert_eq!(to_ascii("phở 🍜 ngon\n"), "pho  ngon");
        assert_eq!(to_ascii("ＡＢＣ１２３"), "ABC123");
    }

    #[test]
    fn search_keys_ignore_case_spaces_and_diacritics() {
        assert_eq!(search_key("Ngân hàng TMCP Á Châu"), "nganhangtmcpachau");
        assert_eq!(search_key("  Vietin-Bank "), "vietinbank");
    }

    proptest! {
        #[test]
        fn folded_text_is_pure_printable_ascii(text in any::<String>()) {
            let folded = to_ascii(&text);
            prop_assert!(folded.bytes().all(|b| (0x20..=0x7E).contains(&b)), "{folded:?}");
        }

        #[test]
        fn folding_is_idempotent(text in "\\PC*") {
            let once = to_ascii(&text);
            prop_assert_eq!(to_ascii(&once), once.clone());
        }
    }
}
