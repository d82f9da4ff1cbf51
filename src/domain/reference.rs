//! Order references: short codes with a check character, and finding them in mangled bank descriptions.
//!
//! A reference is what the shopper's bank app carries in the transfer description (VietQR tags
//! 62.08 and 62.01): `CP` + 8 body characters + 1 check character, 11 characters in all, from the
//! Crockford base-32 alphabet `0123456789ABCDEFGHJKMNPQRSTVWXYZ` (no I, L, O, U, so nothing reads
//! as another character; `O`, `I` and `L` typed by a person are read as `0`, `1` and `1`).
//!
//! # The check character
//!
//! The check character is a weighted sum over the field GF(32) (polynomial x⁵ + x² + 1, symbol
//! values as 5-bit field elements): body character `i` (0-based from the left) has weight α⁸⁻ⁱ and
//! the check character weight α⁰ = 1, and a valid reference sums to zero. The nine weights are
//! distinct and non-zero (α has order 31), so the check catches every single-character
//! substitution (a change `d ≠ 0` at weight `w` shifts the sum by `w·d ≠ 0`) and every
//! transposition of two distinct characters, adjacent or not (the sum shifts by
//! `(wᵢ − wⱼ)(xᵢ − xⱼ) ≠ 0`). Luhn mod 32 was considered and rejected: like Luhn mod 10 with
//! `09`/`90`, it misses the swap of the first and last symbols (`0Z` ↔ `Z0`), see the tests.
//!
//! # Finding references
//!
//! Banks mangle descriptions (prefixes such as `MBVCB.3278907687.`, changed case, punctuation
//! added or removed, truncation), so [`extract`] searches instead of comparing: it folds the text
//! to upper-case ASCII letters and digits and tries every `CP` it finds. A window of noise passes
//! the check 1 time in 32, so [`extract`] returns every candidate and the caller keeps the ones
//! the database knows.

use std::fmt;

use crate::domain::fold;

/// The Crockford base-32 alphabet; a symbol's value is its position.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// What every reference starts with.
const PREFIX: &[u8; 2] = b"CP";
/// Characters of the body, 5 random bits each.
const BODY_LEN: usize = 8;
/// Characters after the prefix: the body and the check character.
const CODE_LEN: usize = BODY_LEN + 1;
/// The reduction polynomial of GF(32): x⁵ + x² + 1.
const GF32_POLY: u8 = 0b10_0101;

/// The longest part of a description [`extract`] looks at, in bytes.
pub const MAX_SCAN_BYTES: usize = 4096;
/// The most references [`extract`] returns.
pub const MAX_FOUND: usize = 8;

/// An order reference, valid by construction: `CP`, 8 body characters and a correct check
/// character, upper case, from the Crockford base-32 alphabet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference(String);

impl Reference {
    /// Characters in a reference: `CP` + 8 body + 1 check.
    pub const LEN: usize = PREFIX.len() + CODE_LEN;

    /// Makes a reference from 40 random bits (the caller supplies the randomness): 8 body
    /// characters of 5 bits each, most significant first, then the check character.
    pub fn from_random(random: [u8; 5]) -> Self {
        let bits = random
            .iter()
            .fold(0_u64, |acc, byte| (acc << 8) | u64::from(*byte));
        let mut values = [0_u8; BODY_LEN];
        let mut shift = 5 * BODY_LEN;
        for value in &mut values {
            shift -= 5;
            // Masked to 5 bits, so the narrowing cannot lose anything.
            *value = u8::try_from((bits >> shift) & 0x1F).unwrap_or(0);
        }
        Self::with_check(values)
    }

    /// Parses a reference exactly as typed or stored: trims white space around it, upper-cases,
    /// reads the confusables `O` as `0` and `I`/`L` as `1`, and requires `CP`, 9 alphabet
    /// characters and a correct check character. `None` for anything else (inner spaces or
    /// punctuation included: [`extract`] is for descriptions).
    pub fn parse(text: &str) -> Option<Self> {
        let trimmed = text.trim().as_bytes();
        let (prefix, code) = trimmed.split_at_checked(PREFIX.len())?;
        if !prefix.eq_ignore_ascii_case(PREFIX) || code.len() != CODE_LEN {
            return None;
        }
        Self::from_code(code)
    }

    /// The 11 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Builds the reference with these body values (each below 32) and its check character.
    fn with_check(body: [u8; BODY_LEN]) -> Self {
        let check = body_sum(body);
        let mut text = String::with_capacity(Self::LEN);
        text.extend(PREFIX.iter().map(|b| char::from(*b)));
        text.extend(
            body.iter()
                .chain(std::iter::once(&check))
                .map(|v| char::from(symbol(*v))),
        );
        Self(text)
    }

    /// Reads the 9 characters after `CP` (any case, confusables allowed): the reference when
    /// they are all in the alphabet and the check character is right.
    fn from_code(code: &[u8]) -> Option<Self> {
        if code.len() != CODE_LEN {
            return None;
        }
        let mut body = [0_u8; BODY_LEN];
        let mut check = 0;
        for (index, byte) in code.iter().enumerate() {
            let value = value_of(*byte)?;
            match body.get_mut(index) {
                Some(slot) => *slot = value,
                None => check = value,
            }
        }
        (body_sum(body) == check).then(|| Self::with_check(body))
    }
}

impl fmt::Display for Reference {
    /// The 11 characters (`CP7K2Q9X4M7`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The symbol of a value below 32.
fn symbol(value: u8) -> u8 {
    ALPHABET
        .get(usize::from(value & 0x1F))
        .copied()
        .unwrap_or(b'0')
}

/// The value of a symbol typed in any case, reading `O` as `0` and `I`/`L` as `1`; `None`
/// outside the alphabet (`U`, punctuation, anything non-ASCII).
fn value_of(byte: u8) -> Option<u8> {
    let canonical = match byte.to_ascii_uppercase() {
        b'O' => b'0',
        b'I' | b'L' => b'1',
        other => other,
    };
    ALPHABET
        .iter()
        .position(|s| *s == canonical)
        .and_then(|p| u8::try_from(p).ok())
}

/// Multiplies two elements of GF(32) (values below 32).
fn gf32_mul(a: u8, b: u8) -> u8 {
    let (mut a, mut b, mut product) = (a & 0x1F, b & 0x1F, 0);
    while b != 0 {
        if b & 1 != 0 {
            product ^= a;
        }
        b >>= 1;
        a <<= 1;
        if a & 0x20 != 0 {
            a ^= GF32_POLY;
        }
    }
    product
}

/// The weighted sum Σ α⁸⁻ⁱ·bodyᵢ over GF(32) (Horner's rule with α = x = 2): the check value,
/// since the check character's weight is 1 and a valid reference sums to zero.
fn body_sum(body: [u8; BODY_LEN]) -> u8 {
    body.iter()
        .fold(0, |acc, value| gf32_mul(acc ^ (value & 0x1F), 2))
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a character boundary.
fn capped(text: &str, max_bytes: usize) -> &str {
    let mut end = max_bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// Every valid reference in a bank transfer description, in order of appearance, without
/// duplicates, at most [`MAX_FOUND`].
///
/// Survives what banks do to descriptions: prefixes and suffixes (`MBVCB.3278907687.CP….CT tu`),
/// changed case, spaces or punctuation inserted inside the reference or removed around it,
/// Vietnamese diacritics next to it, truncation right after it, and `O`/`I`/`L` typed for
/// `0`/`1`. A typo inside a reference does not yield that reference (the check character catches
/// it). Looks at the first [`MAX_SCAN_BYTES`] bytes only; linear time.
pub fn extract(description: &str) -> Vec<Reference> {
    let compact: Vec<u8> = fold::to_ascii(capped(description, MAX_SCAN_BYTES))
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_uppercase())
        .collect();
    let mut found: Vec<Reference> = Vec::new();
    for (start, pair) in compact.windows(PREFIX.len()).enumerate() {
        if pair != PREFIX {
            continue;
        }
        let code_start = start + PREFIX.len();
        // Later windows are shorter still: nothing more to find.
        let Some(code) = compact.get(code_start..code_start + CODE_LEN) else {
            break;
        };
        if let Some(reference) = Reference::from_code(code)
            && !found.contains(&reference)
        {
            found.push(reference);
            if found.len() == MAX_FOUND {
                break;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference with the body `7K2Q9X4M` (its check character is computed, not assumed).
    fn sample() -> Reference {
        let body = b"7K2Q9X4M".map(|b| value_of(b).unwrap());
        Reference::with_check(body)
    }

    fn positions_after_prefix() -> std::ops::Range<usize> {
        PREFIX.len()..Reference::LEN
    }

    fn replace_at(text: &str, index: usize, byte: u8) -> String {
        let mut bytes = text.as_bytes().to_vec();
        bytes[index] = byte;
        String::from_utf8(bytes).unwrap()
    }

    fn swap_at(text: &str, index: usize) -> String {
        let mut bytes = text.as_bytes().to_vec();
        bytes.swap(index, index + 1);
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_reference_is_cp_eight_body_characters_and_a_check_character() {
        let reference = Reference::from_random([0x12, 0x34, 0x56, 0x78, 0x9A]);
        assert_eq!(reference.as_str().len(), Reference::LEN);
        assert!(reference.as_str().starts_with("CP"));
        assert!(
            reference.as_str()[2..]
                .bytes()
                .all(|b| ALPHABET.contains(&b))
        );
        assert_eq!(reference.to_string(), reference.as_str());
        // 0x123456789A = 00010 01000 11010 00101 01100 11110 00100 11010
        assert_eq!(&reference.as_str()[2..10], "28T5CY4T");
    }

    #[test]
    fn check_characters_stay_what_they_were() {
        // Known answers: references already issued must stay valid if this code changes.
        assert_eq!(sample().as_str(), "CP7K2Q9X4M7");
        assert_eq!(Reference::from_random([0; 5]).as_str(), "CP000000000");
        let wrong: Vec<String> = ALPHABET
            .iter()
            .filter(|c| **c != b'7')
            .map(|c| format!("CP7K2Q9X4M{}", char::from(*c)))
            .collect();
        assert!(wrong.iter().all(|text| Reference::parse(text).is_none()));
        assert_eq!(extract(&wrong.concat()), vec![]);
    }

    #[test]
    fn all_zero_and_all_one_bits_give_the_extreme_bodies() {
        assert_eq!(&Reference::from_random([0; 5]).as_str()[..10], "CP00000000");
        assert_eq!(Reference::from_random([0; 5]).as_str(), "CP000000000");
        assert_eq!(
            &Reference::from_random([0xFF; 5]).as_str()[..10],
            "CPZZZZZZZZ"
        );
    }

    #[test]
    fn the_nine_weights_are_distinct_and_non_zero() {
        let mut weights = vec![1_u8];
        let mut power = 1;
        for _ in 0..BODY_LEN {
            power = gf32_mul(power, 2);
            weights.push(power);
        }
        let mut sorted = weights.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), weights.len(), "{weights:?}");
        assert!(!weights.contains(&0));
        // α has order 31: the multiplicative group is cyclic and generated by it.
        let mut element = 1;
        for exponent in 1..=31 {
            element = gf32_mul(element, 2);
            assert_eq!(element == 1, exponent == 31, "α^{exponent}");
        }
    }

    #[test]
    fn parse_accepts_what_people_type_and_reads_confusables() {
        let reference = Reference::with_check([0, 1, 0, 1, 2, 3, 4, 5]);
        let text = reference.as_str().to_owned();
        assert_eq!(&text[..10], "CP01012345");
        assert_eq!(Reference::parse(&text), Some(reference.clone()));
        assert_eq!(
            Reference::parse(&format!("  {}\n", text.to_lowercase())),
            Some(reference.clone())
        );
        let confused = format!("CPO1oI{}", &text[6..]);
        assert_eq!(Reference::parse(&confused), Some(reference.clone()));
        let confused = format!("cpoLol{}", &text[6..]);
        assert_eq!(Reference::parse(&confused), Some(reference.clone()));
    }

    #[test]
    fn parse_refuses_anything_else() {
        let text = sample().as_str().to_owned();
        for bad in [
            String::new(),
            "CP".to_owned(),
            text[..10].to_owned(),
            format!("{text}0"),
            format!("X{}", &text[1..]),
            format!("CQ{}", &text[2..]),
            format!("CP {}", &text[2..]),
            format!("{} {}", &text[..6], &text[6..]),
            format!("{}-{}", &text[..6], &text[6..]),
            replace_at(&text, 5, b'U'),
            replace_at(&text, 5, b'*'),
            format!("{}ế{}", &text[..5], &text[7..]),
            "CP0000000000".to_owned(),
            "ĆP000000000".to_owned(),
        ] {
            assert_eq!(Reference::parse(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_single_substitution_is_rejected_exhaustively() {
        for random in [
            [0; 5],
            [0xFF; 5],
            [0x12, 0x34, 0x56, 0x78, 0x9A],
            [7, 0, 200, 3, 99],
        ] {
            let text = Reference::from_random(random).as_str().to_owned();
            for index in positions_after_prefix() {
                for &symbol in ALPHABET {
                    if symbol == text.as_bytes()[index] {
                        continue;
                    }
                    let typo = replace_at(&text, index, symbol);
                    assert_eq!(Reference::parse(&typo), None, "{text} -> {typo}");
                }
            }
        }
    }

    #[test]
    fn every_adjacent_transposition_is_rejected_exhaustively() {
        // The check is linear, so the rest of the body does not matter; still, vary it.
        for background in [0_u8, 17, 31] {
            // Two body positions: every ordered pair of distinct values.
            for index in 0..BODY_LEN - 1 {
                for a in 0..32_u8 {
                    for b in 0..32_u8 {
                        if a == b {
                            continue;
                        }
                        let mut body = [background; BODY_LEN];
                        body[index] = a;
                        body[index + 1] = b;
                        let text = Reference::with_check(body).as_str().to_owned();
                        let swapped = swap_at(&text, PREFIX.len() + index);
                        assert_eq!(Reference::parse(&swapped), None, "{text} -> {swapped}");
                    }
                }
            }
            // The last body character and the check character: reach every pair by varying the
            // first body character too.
            for first in 0..32_u8 {
                for last in 0..32_u8 {
                    let mut body = [background; BODY_LEN];
                    body[0] = first;
                    body[BODY_LEN - 1] = last;
                    let text = Reference::with_check(body).as_str().to_owned();
                    let index = PREFIX.len() + BODY_LEN - 1;
                    if text.as_bytes()[index] == text.as_bytes()[index + 1] {
                        continue;
                    }
                    let swapped = swap_at(&text, index);
                    assert_eq!(Reference::parse(&swapped), None, "{text} -> {swapped}");
                }
            }
        }
    }

    /// Why the check is not Luhn mod 32: it cannot see `0Z` ↔ `Z0`.
    #[test]
    fn luhn_mod_32_would_miss_swapping_0_and_z() {
        fn luhn_check(body: &[u8]) -> u8 {
            let mut sum = 0_u32;
            for (position, value) in body.iter().rev().enumerate() {
                let factor = if position % 2 == 0 { 2 } else { 1 };
                let addend = factor * u32::from(*value);
                sum += addend / 32 + addend % 32;
            }
            u8::try_from((32 - sum % 32) % 32).unwrap()
        }
        let mut one = [5_u8; BODY_LEN];
        let mut other = one;
        (one[6], one[7]) = (0, 31);
        (other[6], other[7]) = (31, 0);
        assert_eq!(luhn_check(&one), luhn_check(&other));
        assert_ne!(body_sum(one), body_sum(other));
    }

    #[test]
    fn references_are_found_in_descriptions_the_way_banks_send_them() {
        let reference = sample();
        let r = reference.as_str();
        let (head, tail) = r.split_at(6);
        let lower = r.to_lowercase();
        let confused = r.replace('0', "O").replace('1', "l");
        for description in [
            r.to_owned(),
            format!("MBVCB.3278907687.{r}.CT tu 0123456789 NGUYEN VAN A"),
            format!("IBFT {r} thanh toan"),
            format!("thanh toan {lower}"),
            format!("CP {}-{}", &r[2..6], &r[6..]),
            format!("CP.{}", &r[2..]),
            format!("{head} {tail}"),
            format!("ABC{r}DEF"),
            format!("Chuyển tiền {r}"),
            format!("Thanh toán đơn hàng{r}Nguyễn Thị Hương"),
            format!("Đơn {confused} chợ Mơ"),
            format!("{}/{}:{}_{}", &r[..1], &r[1..4], &r[4..9], &r[9..]),
            format!("FT24123{r}"),
        ] {
            assert_eq!(
                extract(&description),
                vec![reference.clone()],
                "{description:?}"
            );
        }
    }

    #[test]
    fn a_typo_inside_the_reference_does_not_produce_it() {
        let reference = sample();
        let text = reference.as_str();
        for index in positions_after_prefix() {
            let replacement = if text.as_bytes()[index] == b'7' {
                b'8'
            } else {
                b'7'
            };
            let typo = replace_at(text, index, replacement);
            let found = extract(&format!("MBVCB.123.{typo}.CT tu"));
            assert!(!found.contains(&reference), "{typo}: {found:?}");
        }
        assert_eq!(extract(&format!("IBFT {}", &text[..10])), vec![]);
    }

    #[test]
    fn references_come_in_order_without_duplicates_and_at_most_eight() {
        let references: Vec<Reference> = (0..20_u8)
            .map(|i| Reference::from_random([i, 3 * i, 7, 11, i ^ 0x55]))
            .collect();
        let (a, b) = (&references[0], &references[1]);
        assert_eq!(
            extract(&format!("{b} {a} {b} {a}")),
            vec![b.clone(), a.clone()]
        );
        let many: Vec<String> = references.iter().map(ToString::to_string).collect();
        assert_eq!(extract(&many.join(" ")), references[..MAX_FOUND].to_vec());
    }

    #[test]
    fn only_the_first_4096_bytes_are_scanned() {
        let reference = sample();
        let early = format!("{}{reference}", "x".repeat(MAX_SCAN_BYTES - Reference::LEN));
        assert_eq!(extract(&early), vec![reference.clone()]);
        let late = format!("{}{reference}", "x".repeat(MAX_SCAN_BYTES));
        assert_eq!(extract(&late), vec![]);
        // A multi-byte character across the limit is cut cleanly.
        let straddling = format!("{}ế{reference}", "x".repeat(MAX_SCAN_BYTES - 1));
        assert_eq!(extract(&straddling), vec![]);
    }

    /// Random Vietnamese-looking text: bank codes, words with diacritics, digits, separators.
    fn noise() -> impl Strategy<Value = String> {
        let word = prop_oneof![
            prop::sample::select(vec![
                "MBVCB", "IBFT", "FT24123", "CT", "tu", "thanh", "toán", "Chuyển", "tiền",
                "NGUYEN", "VAN", "A", "Nguyễn", "Thị", "Hương", "đơn", "hàng", "chợ", "Mơ",
                "Quảng", "Oai", "rau", "phở", "ĐÃ", "nhận", "CP", "cp", "Ư", "ơ",
            ])
            .prop_map(str::to_owned),
            "[0-9]{1,12}",
            "\\PC{0,6}",
        ];
        prop::collection::vec((word, "[ .\\-_/:]{0,2}"), 0..6).prop_map(|parts| {
            parts
                .into_iter()
                .map(|(word, separator)| word + &separator)
                .collect()
        })
    }

    /// A reference as a bank might pass it on: case changed, confusables typed, separators
    /// inserted between characters.
    fn mangled(reference: &Reference) -> impl Strategy<Value = String> + use<> {
        let text = reference.as_str().to_owned();
        prop::collection::vec((any::<bool>(), 0..3_u8, "[ .\\-_/:]{0,2}"), Reference::LEN).prop_map(
            move |choices| {
                let mut out = String::new();
                for (c, (lower, confusable, separator)) in text.chars().zip(choices) {
                    let c = match (c, confusable) {
                        ('0', 1) => 'O',
                        ('1', 1) => 'I',
                        ('1', 2) => 'L',
                        (other, _) => other,
                    };
                    out.push(if lower { c.to_ascii_lowercase() } else { c });
                    out.push_str(&separator);
                }
                out
            },
        )
    }

    fn any_reference() -> impl Strategy<Value = Reference> {
        any::<[u8; 5]>().prop_map(Reference::from_random)
    }

    proptest! {
        #[test]
        fn references_round_trip_through_parse(reference in any_reference()) {
            prop_assert_eq!(Reference::parse(reference.as_str()), Some(reference.clone()));
            prop_assert_eq!(Reference::parse(&reference.as_str().to_lowercase()), Some(reference));
        }

        #[test]
        fn mangled_references_are_still_extracted(
            (reference, mangled) in any_reference().prop_flat_map(|r| {
                let m = mangled(&r);
                (Just(r), m)
            }),
            prefix in noise(),
            suffix in noise(),
        ) {
            let description = format!("{prefix}{mangled}{suffix}");
            let found = extract(&description);
            prop_assert!(found.contains(&reference), "{:?} in {:?}: {:?}", reference, description, found);
        }

        #[test]
        fn any_single_substitution_is_rejected(
            reference in any_reference(),
            index in PREFIX.len()..Reference::LEN,
            symbol in prop::sample::select(ALPHABET.to_vec()),
        ) {
            let text = reference.as_str();
            prop_assume!(text.as_bytes()[index] != symbol);
            prop_assert_eq!(Reference::parse(&replace_at(text, index, symbol)), None);
        }

        #[test]
        fn any_adjacent_transposition_of_distinct_characters_is_rejected(
            reference in any_reference(),
            index in PREFIX.len()..Reference::LEN - 1,
        ) {
            let text = reference.as_str();
            prop_assume!(text.as_bytes()[index] != text.as_bytes()[index + 1]);
            prop_assert_eq!(Reference::parse(&swap_at(text, index)), None);
        }

        #[test]
        fn extract_never_panics_and_returns_at_most_eight(text in any::<String>()) {
            prop_assert!(extract(&text).len() <= MAX_FOUND);
            let _ = Reference::parse(&text);
        }

        #[test]
        fn extract_on_reference_like_noise_stays_bounded(text in "([Cc][Pp]|[0-9A-Za-z .]){0,400}") {
            let found = extract(&text);
            prop_assert!(found.len() <= MAX_FOUND);
            for reference in &found {
                prop_assert_eq!(Reference::parse(reference.as_str()), Some(reference.clone()));
            }
        }
    }
}
