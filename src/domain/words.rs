//! Amounts in Vietnamese words ("Năm mươi nghìn đồng"), for the vendor screen and announcements.
//!
//! The reading follows the convention of Vietnamese invoices and accounting software ("đọc số
//! trên hóa đơn"):
//! - digits are grouped by three: đơn vị, nghìn, triệu, tỷ; above tỷ the count of tỷ is read as a
//!   number of its own ("Chín nghìn … tỷ");
//! - a group of zeros is skipped entirely ("Một triệu đồng", "Hai triệu không trăm năm mươi đồng");
//! - after a higher group, a group's hundreds are always read, zero included ("Một nghìn không
//!   trăm linh năm đồng");
//! - a zero ten before a non-zero unit reads "linh" ("Một trăm linh một đồng");
//! - the tens 10–19 read "mười"; 20–90 read "hai mươi" … "chín mươi";
//! - a unit 1 after "mươi" reads "mốt" (but "mười một"); a unit 5 after "mười"/"mươi" reads
//!   "lăm" (but "linh năm"); 4 is always "bốn", never "tư".
//!
//! All text is NFC (precomposed), starts with a capital letter and ends with " đồng".

use crate::domain::money::Vnd;

/// One tỷ (10⁹ đồng): amounts are read as (count of tỷ) tỷ + (the rest below a tỷ).
const BILLION: u64 = 1_000_000_000;

/// The word of a digit (0–9).
fn digit(value: u64) -> &'static str {
    match value % 10 {
        0 => "không",
        1 => "một",
        2 => "hai",
        3 => "ba",
        4 => "bốn",
        5 => "năm",
        6 => "sáu",
        7 => "bảy",
        8 => "tám",
        _ => "chín",
    }
}

/// Reads a non-zero group of three digits. `after_higher` says a higher group was read before,
/// so the hundreds are read even when zero.
fn read_group(group: u64, after_higher: bool, words: &mut Vec<&'static str>) {
    let (hundreds, tens, units) = (group / 100 % 10, group / 10 % 10, group % 10);
    let hundreds_read = after_higher || hundreds > 0;
    if hundreds_read {
        words.push(digit(hundreds));
        words.push("trăm");
    }
    match tens {
        0 => {
            if units != 0 {
                if hundreds_read {
                    words.push("linh");
                }
                words.push(digit(units));
            }
        }
        1 => {
            words.push("mười");
            match units {
                0 => {}
                5 => words.push("lăm"),
                other => words.push(digit(other)),
            }
        }
        other => {
            words.push(digit(other));
            words.push("mươi");
            match units {
                0 => {}
                1 => words.push("mốt"),
                5 => words.push("lăm"),
                unit => words.push(digit(unit)),
            }
        }
    }
}

/// Reads `value` (below a tỷ) group by group, skipping empty groups; `after_higher` says
/// something was read before. Returns whether anything has been read now.
fn read_below_billion(value: u64, after_higher: bool, words: &mut Vec<&'static str>) -> bool {
    let mut started = after_higher;
    for (group, scale) in [
        (value / 1_000_000 % 1000, Some("triệu")),
        (value / 1000 % 1000, Some("nghìn")),
        (value % 1000, None),
    ] {
        if group == 0 {
            continue;
        }
        read_group(group, started, words);
        words.extend(scale);
        started = true;
    }
    started
}

/// The amount in Vietnamese words, capitalised, ending with " đồng":
/// 50 000 → "Năm mươi nghìn đồng", 1 005 → "Một nghìn không trăm linh năm đồng".
pub fn in_words(amount: Vnd) -> String {
    let dong = amount.to_dong().unsigned_abs();
    let mut words: Vec<&'static str> = Vec::with_capacity(40);
    let billions = dong / BILLION;
    let mut started = false;
    if billions > 0 {
        // At most 9 999 (13 digits), itself below a tỷ.
        read_below_billion(billions, false, &mut words);
        words.push("tỷ");
        started = true;
    }
    read_below_billion(dong % BILLION, started, &mut words);

    let text = words.join(" ");
    let mut chars = text.chars();
    let mut out = String::with_capacity(text.len() + 8);
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
    }
    out.push_str(chars.as_str());
    out.push_str(" đồng");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use unicode_normalization::UnicodeNormalization;

    fn words(dong: i64) -> String {
        in_words(Vnd::from_dong(dong).unwrap())
    }

    #[test]
    fn amounts_read_the_way_vietnamese_invoices_read_them() {
        for (dong, expected) in [
            (1, "Một đồng"),
            (4, "Bốn đồng"),
            (5, "Năm đồng"),
            (7, "Bảy đồng"),
            (10, "Mười đồng"),
            (11, "Mười một đồng"),
            (14, "Mười bốn đồng"),
            (15, "Mười lăm đồng"),
            (20, "Hai mươi đồng"),
            (21, "Hai mươi mốt đồng"),
            (24, "Hai mươi bốn đồng"),
            (25, "Hai mươi lăm đồng"),
            (99, "Chín mươi chín đồng"),
            (100, "Một trăm đồng"),
            (101, "Một trăm linh một đồng"),
            (104, "Một trăm linh bốn đồng"),
            (105, "Một trăm linh năm đồng"),
            (110, "Một trăm mười đồng"),
            (111, "Một trăm mười một đồng"),
            (115, "Một trăm mười lăm đồng"),
            (121, "Một trăm hai mươi mốt đồng"),
            (999, "Chín trăm chín mươi chín đồng"),
            (1_000, "Một nghìn đồng"),
            (1_005, "Một nghìn không trăm linh năm đồng"),
            (1_010, "Một nghìn không trăm mười đồng"),
            (1_100, "Một nghìn một trăm đồng"),
            (2_500, "Hai nghìn năm trăm đồng"),
            (10_000, "Mười nghìn đồng"),
            (15_000, "Mười lăm nghìn đồng"),
            (21_000, "Hai mươi mốt nghìn đồng"),
            (50_000, "Năm mươi nghìn đồng"),
            (105_000, "Một trăm linh năm nghìn đồng"),
            (180_000, "Một trăm tám mươi nghìn đồng"),
            (1_000_000, "Một triệu đồng"),
            (1_000_001, "Một triệu không trăm linh một đồng"),
            (1_001_000, "Một triệu không trăm linh một nghìn đồng"),
            (1_500_000, "Một triệu năm trăm nghìn đồng"),
            (1_250_000, "Một triệu hai trăm năm mươi nghìn đồng"),
            (2_000_050, "Hai triệu không trăm năm mươi đồng"),
            (
                35_075_000,
                "Ba mươi lăm triệu không trăm bảy mươi lăm nghìn đồng",
            ),
            (1_000_000_000, "Một tỷ đồng"),
            (5_000_000_001, "Năm tỷ không trăm linh một đồng"),
            (1_000_000_000_000, "Một nghìn tỷ đồng"),
            (1_001_000_000_000, "Một nghìn không trăm linh một tỷ đồng"),
            (
                2_020_300_004_005,
                "Hai nghìn không trăm hai mươi tỷ ba trăm triệu không trăm linh bốn nghìn \
                 không trăm linh năm đồng",
            ),
            (
                9_999_999_999_999,
                "Chín nghìn chín trăm chín mươi chín tỷ chín trăm chín mươi chín triệu chín trăm \
                 chín mươi chín nghìn chín trăm chín mươi chín đồng",
            ),
        ] {
            assert_eq!(words(dong), expected, "{dong}");
        }
    }

    #[test]
    fn the_text_is_nfc() {
        let text = words(9_876_543_210_145);
        assert_eq!(text.nfc().collect::<String>(), text);
    }

    proptest! {
        #[test]
        fn every_amount_reads_as_a_capitalised_sentence_in_dong(dong in 1..=Vnd::MAX_DONG) {
            let text = words(dong);
            prop_assert!(text.chars().next().is_some_and(char::is_uppercase), "{}", text);
            prop_assert!(text.ends_with(" đồng"), "{}", text);
            prop_assert!(text.len() > " đồng".len());
            prop_assert!(!text.contains("  "), "{}", text);
            prop_assert!(!text.to_lowercase().starts_with("không"), "{}", text);
            prop_assert_eq!(text.nfc().collect::<String>(), text.clone());
        }

        #[test]
        fn a_thousand_times_more_reads_with_one_more_scale_word(dong in 1..=999_999_i64) {
            // Below a tỷ, with a non-zero last group, appending three zeros adds one scale word.
            prop_assume!(dong % 1000 != 0);
            let small = words(dong);
            let big = words(dong * 1000);
            prop_assert!(big.ends_with(" nghìn đồng"), "{}", big);
            prop_assert_eq!(
                small.trim_end_matches(" đồng").split(' ').count() + 1,
                big.trim_end_matches(" đồng").split(' ').count(),
                "{} / {}", small, big
            );
        }
    }
}
