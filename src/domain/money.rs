//! Vietnamese đồng amounts.
//!
//! [`Vnd`] is the only way an amount exists in chopay: a `rust_decimal::Decimal` with scale 0,
//! between 1 and 9 999 999 999 999 đồng (13 digits, the most VietQR tag 54 can carry). It parses
//! what vendors type ("50000", "50.000", "50.000đ", "50,000 VND", "50k", "1,5tr") and prints the
//! Vietnamese way ("50.000đ"). Fractions, zero, negatives and overflows are rejected with a message
//! that says which. No floating point anywhere.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::domain::digits::push_u64;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of Vietnamese đồng: whole, positive and at most [`Vnd::MAX_DONG`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vnd(Decimal);

/// Why an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Nothing was typed.
    #[error("amount is empty")]
    Empty,
    /// The text is not a number in any accepted form.
    #[error("'{0}' is not an amount; write it like 50000, 50.000đ or 50k")]
    NotAnAmount(String),
    /// A minus sign or a negative value.
    #[error("amount must be positive")]
    Negative,
    /// Zero đồng.
    #[error("amount must be at least 1đ")]
    Zero,
    /// A fraction of a đồng: VND has no minor unit.
    #[error("amount must be whole đồng without fractions (got {0})")]
    Fraction(String),
    /// More than [`Vnd::MAX_DONG`].
    #[error("amount must be at most 9.999.999.999.999đ")]
    TooLarge,
}

/// The longest text [`Vnd::parse`] looks at; anything longer cannot be a valid amount.
const MAX_INPUT_CHARS: usize = 40;

impl Vnd {
    /// The largest amount: 13 digits, the width of VietQR tag 54.
    pub const MAX_DONG: i64 = 9_999_999_999_999;

    /// Makes an amount from a decimal that must be whole, positive and within bounds.
    pub fn new(value: Decimal) -> Result<Self, MoneyError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(MoneyError::Negative);
        }
        if !value.fract().is_zero() {
            return Err(MoneyError::Fraction(value.normalize().to_string()));
        }
        if value.is_zero() {
            return Err(MoneyError::Zero);
        }
        if value > Decimal::from(Self::MAX_DONG) {
            return Err(MoneyError::TooLarge);
        }
        let mut whole = value.trunc();
        whole.rescale(0);
        Ok(Self(whole))
    }

    /// Makes an amount from whole đồng (as stored in the database).
    pub fn from_dong(dong: i64) -> Result<Self, MoneyError> {
        Self::new(Decimal::from(dong))
    }

    /// The amount in whole đồng; always fits, since `MAX_DONG` < `i64::MAX`.
    pub fn to_dong(self) -> i64 {
        // The mantissa of a scale-0 decimal within bounds is the integer itself.
        i64::try_from(self.0.mantissa()).unwrap_or(Self::MAX_DONG)
    }

    /// The amount as a decimal with scale 0.
    pub fn as_decimal(self) -> Decimal {
        self.0
    }

    /// Adds two amounts; `None` when the sum leaves the allowed range.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0
            .checked_add(other.0)
            .and_then(|sum| Self::new(sum).ok())
    }

    /// How many digits [`Vnd::push_digits`] writes.
    pub fn digit_count(self) -> usize {
        crate::domain::digits::count(self.to_dong().unsigned_abs())
    }

    /// Appends the plain digits (`"50000"`) to `out`, as VietQR tag 54 wants them.
    pub fn push_digits(self, out: &mut String) {
        push_u64(out, self.to_dong().unsigned_abs());
    }

    /// Parses what a vendor types. Accepted, case-insensitive, spaces anywhere:
    /// - plain digits: `50000`;
    /// - thousands grouped with `.` or `,` (Vietnamese or English habit): `50.000`, `1,250,000`;
    /// - a currency mark before or after: `đ`, `₫`, `d`, `vnd`, `vnđ`, `đồng`: `50.000đ`, `50,000 VND`;
    /// - a multiplier: `k`/`nghìn`/`ngàn` (× 1 000), `tr`/`triệu` (× 1 000 000), with a decimal
    ///   part where the result is whole: `50k`, `1,5tr`, `2.5k`.
    ///
    /// Separators are read so that no typing slip quietly becomes another amount (`1.500k` is
    /// 1 500 000đ as written in Vietnam, `0.500k` is 500đ, `10.0000` is refused); see
    /// `number_literal` for the exact rules.
    pub fn parse(input: &str) -> Result<Self, MoneyError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(MoneyError::Empty);
        }
        let not_an_amount =
            || MoneyError::NotAnAmount(trimmed.chars().take(MAX_INPUT_CHARS).collect());
        if trimmed.chars().count() > MAX_INPUT_CHARS {
            return Err(not_an_amount());
        }
        let compact = compact(trimmed);
        let unsigned = match compact.strip_prefix(['-', '−']) {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => {
                return Err(MoneyError::Negative);
            }
            Some(_) => return Err(not_an_amount()),
            None => compact.strip_prefix('+').unwrap_or(&compact),
        };
        let without_currency = strip_currency(unsigned);
        let (number, multiplier) = split_multiplier(without_currency);
        let value = match parse_number(number, multiplier > 1) {
            Number::Value(value) => value,
            Number::TooLarge => return Err(MoneyError::TooLarge),
            Number::Invalid => return Err(not_an_amount()),
        };
        let scaled = value
            .checked_mul(Decimal::from(multiplier))
            .ok_or(MoneyError::TooLarge)?;
        Self::new(scaled)
    }
}

/// Currency marks a vendor may add, longest first so that `vnđ` is not read as `vn` + `đ`.
const CURRENCY_MARKS: [&str; 7] = ["đồng", "dong", "vnđ", "vnd", "đ", "₫", "d"];

fn strip_currency(text: &str) -> &str {
    for mark in CURRENCY_MARKS {
        if let Some(rest) = text.strip_suffix(mark) {
            return rest;
        }
        if let Some(rest) = text.strip_prefix(mark) {
            return rest;
        }
    }
    text
}

/// Multiplier words, longest first.
const MULTIPLIERS: [(&str, i64); 7] = [
    ("triệu", 1_000_000),
    ("trieu", 1_000_000),
    ("nghìn", 1_000),
    ("nghin", 1_000),
    ("ngàn", 1_000),
    ("tr", 1_000_000),
    ("k", 1_000),
];

fn split_multiplier(text: &str) -> (&str, i64) {
    MULTIPLIERS
        .iter()
        .find_map(|(word, factor)| text.strip_suffix(word).map(|rest| (rest, *factor)))
        .unwrap_or((text, 1))
}

/// Lower-cases `text` and drops white space, except that a space between two digits is kept as
/// one `' '`: it groups thousands (`50 000`) and is checked like any other separator.
fn compact(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (index, c) in chars.iter().enumerate() {
        if c.is_whitespace() {
            let after_digit = out.ends_with(|p: char| p.is_ascii_digit());
            let before_digit = chars[index..]
                .iter()
                .find(|n| !n.is_whitespace())
                .is_some_and(char::is_ascii_digit);
            if after_digit && before_digit {
                out.push(' ');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// What [`parse_number`] found.
enum Number {
    Value(Decimal),
    /// Well-formed but beyond what a decimal holds (more than 28 digits).
    TooLarge,
    Invalid,
}

/// Reads digits with optional thousands separators and an optional decimal part.
fn parse_number(text: &str, has_multiplier: bool) -> Number {
    let Some(literal) = number_literal(text, has_multiplier) else {
        return Number::Invalid;
    };
    match Decimal::from_str(&literal) {
        Ok(value) => Number::Value(value),
        Err(_) => Number::TooLarge,
    }
}

/// Rewrites the typed number as a plain decimal literal (`"1.250.000,5"` → `"1250000.5"`).
///
/// Rules, so that no typing slip becomes a different amount:
/// - spaces group thousands only, in groups of three, and mix with no other separator;
/// - several `.` (or several `,`) group thousands and must form groups of three;
/// - one `.` or `,` groups thousands when a group of three follows a first group that does not
///   start with 0 (`1.500`); otherwise it is a decimal point (`2.5k`, `0.500k`);
/// - with both, the last one is the decimal point (`1.234.567,00`);
/// - without a multiplier (`k`, `tr`) a decimal part is only accepted as the `.0`/`.00` of an
///   amount of at least 1 000 (`180000.00`, as exported by spreadsheets); a non-zero one is a
///   fraction (refused by [`Vnd::new`]), and other zeros (`50,00`, `10.0000`) are ambiguous.
fn number_literal(text: &str, has_multiplier: bool) -> Option<String> {
    let digits_only = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if text.contains(' ') {
        return ungroup(text, ' ');
    }
    if !text
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return None;
    }
    let dots = text.matches('.').count();
    let commas = text.matches(',').count();
    let (integer, fraction) = match (dots, commas) {
        (0, 0) => return digits_only(text).then(|| text.to_owned()),
        (1, 0) | (0, 1) => {
            let separator = if dots == 1 { '.' } else { ',' };
            if let Some(grouped) = ungroup(text, separator) {
                return Some(grouped);
            }
            let (head, tail) = text.split_once(separator)?;
            (head.to_owned(), tail)
        }
        (_, 0) => return ungroup(text, '.'),
        (0, _) => return ungroup(text, ','),
        _ => {
            let last_dot = text.rfind('.')?;
            let last_comma = text.rfind(',')?;
            let (thousands, decimal) = if last_dot > last_comma {
                (',', '.')
            } else {
                ('.', ',')
            };
            let (head, tail) = text.rsplit_once(decimal)?;
            (ungroup(head, thousands)?, tail)
        }
    };
    if !digits_only(&integer) || !digits_only(fraction) {
        return None;
    }
    let zeros = fraction.bytes().all(|b| b == b'0');
    let spreadsheet_cents =
        zeros && fraction.len() <= 2 && integer.trim_start_matches('0').len() >= 4;
    if !has_multiplier && zeros && !spreadsheet_cents {
        return None;
    }
    Some(format!("{integer}.{fraction}"))
}

/// Removes thousands separators, checking the groups: a first group of 1–3 digits that does not
/// start with 0, then groups of exactly 3. `None` when the text is not grouped that way.
fn ungroup(text: &str, separator: char) -> Option<String> {
    let mut groups = text.split(separator);
    let first = groups.next()?;
    let first_ok = (1..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_digit())
        && !first.starts_with('0');
    if !first_ok {
        return None;
    }
    let mut digits = first.to_owned();
    let mut grouped = false;
    for group in groups {
        if group.len() != 3 || !group.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.push_str(group);
        grouped = true;
    }
    grouped.then_some(digits)
}

impl fmt::Display for Vnd {
    /// Vietnamese form: thousands grouped with dots, then `đ` (`50.000đ`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = String::with_capacity(16);
        self.push_digits(&mut digits);
        let mut grouped = String::with_capacity(24);
        for (index, digit) in digits.chars().enumerate() {
            if index > 0 && (digits.len() - index).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(digit);
        }
        write!(f, "{grouped}đ")
    }
}

impl FromStr for Vnd {
    type Err = MoneyError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for Vnd {
    /// A string of digits (`"50000"`): JSON numbers invite floating point.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut digits = String::with_capacity(16);
        self.push_digits(&mut digits);
        serializer.serialize_str(&digits)
    }
}

impl<'de> Deserialize<'de> for Vnd {
    /// Accepts a JSON integer or a string in any form [`Vnd::parse`] accepts; never a float.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct VndVisitor;
        impl Visitor<'_> for VndVisitor {
            type Value = Vnd;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount of đồng as an integer or a string such as \"50000\"")
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Vnd, E> {
                let dong = i64::try_from(value).map_err(|_| E::custom(MoneyError::TooLarge))?;
                Vnd::from_dong(dong).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Vnd, E> {
                Vnd::from_dong(value).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Vnd, E> {
                Vnd::parse(value).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(VndVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dong(text: &str) -> i64 {
        Vnd::parse(text)
            .map(Vnd::to_dong)
            .unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn what_vendors_type_parses_to_whole_dong() {
        for (typed, expected) in [
            ("50000", 50_000),
            ("50.000", 50_000),
            ("50.000đ", 50_000),
            ("50,000 VND", 50_000),
            ("50k", 50_000),
            ("50K", 50_000),
            ("50 nghìn", 50_000),
            ("2,5k", 2_500),
            ("2.5k", 2_500),
            ("1,5tr", 1_500_000),
            ("1 triệu", 1_000_000),
            ("1.500k", 1_500_000),
            ("1.250.000 đồng", 1_250_000),
            ("1,250,000₫", 1_250_000),
            ("VND 180000", 180_000),
            ("1.234.567,00", 1_234_567),
            ("180000.00", 180_000),
            ("1000.0", 1_000),
            ("50 000 đ", 50_000),
            ("50 k", 50_000),
            ("0.500k", 500),
            ("0,5tr", 500_000),
            ("  7 000 ", 7_000),
            ("1", 1),
            ("9.999.999.999.999", 9_999_999_999_999),
        ] {
            assert_eq!(dong(typed), expected, "{typed:?}");
        }
    }

    #[test]
    fn fractions_negatives_zero_and_nonsense_are_refused_with_the_reason() {
        assert_eq!(Vnd::parse("50.5"), Err(MoneyError::Fraction("50.5".into())));
        assert_eq!(
            Vnd::parse("1.2345k"),
            Err(MoneyError::Fraction("1234.5".into()))
        );
        assert_eq!(Vnd::parse("-5000"), Err(MoneyError::Negative));
        assert_eq!(Vnd::parse("0"), Err(MoneyError::Zero));
        assert_eq!(Vnd::parse("0đ"), Err(MoneyError::Zero));
        assert_eq!(Vnd::parse(""), Err(MoneyError::Empty));
        assert_eq!(Vnd::parse("10.000.000.000.000"), Err(MoneyError::TooLarge));
        assert_eq!(
            Vnd::parse("99999999999999999999999999999999k"),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(Vnd::parse("0.500"), Err(MoneyError::Fraction("0.5".into())));
        // Nonsense, and typing slips that must not quietly become a different amount.
        for nonsense in [
            "abc",
            "5.0.0",
            "50,00,0",
            "k",
            "đ",
            "1e5",
            "0x10",
            "50.000.5",
            "--5",
            "5-",
            "1.000 000",
            "10.0000",
            "50,00",
            "1.000,000",
            "1 0000",
            "05.000",
            "1.00.000",
        ] {
            assert!(
                matches!(Vnd::parse(nonsense), Err(MoneyError::NotAnAmount(_))),
                "{nonsense:?} gave {:?}",
                Vnd::parse(nonsense)
            );
        }
    }

    #[test]
    fn error_messages_say_what_to_do() {
        let message = Vnd::parse("năm chục")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(
            message,
            "'năm chục' is not an amount; write it like 50000, 50.000đ or 50k"
        );
        assert_eq!(
            Vnd::parse("12.5")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default(),
            "amount must be whole đồng without fractions (got 12.5)"
        );
    }

    #[test]
    fn amounts_print_the_vietnamese_way() {
        assert_eq!(
            Vnd::from_dong(50_000).map(|v| v.to_string()),
            Ok("50.000đ".into())
        );
        assert_eq!(Vnd::from_dong(1).map(|v| v.to_string()), Ok("1đ".into()));
        assert_eq!(
            Vnd::from_dong(999).map(|v| v.to_string()),
            Ok("999đ".into())
        );
        assert_eq!(
            Vnd::from_dong(1_000).map(|v| v.to_string()),
            Ok("1.000đ".into())
        );
        assert_eq!(
            Vnd::from_dong(Vnd::MAX_DONG).map(|v| v.to_string()),
            Ok("9.999.999.999.999đ".into())
        );
    }

    #[test]
    fn json_carries_amounts_as_strings_and_accepts_integers() {
        let amount = Vnd::from_dong(180_000).unwrap();
        assert_eq!(serde_json::to_string(&amount).unwrap(), "\"180000\"");
        assert_eq!(serde_json::from_str::<Vnd>("180000").unwrap(), amount);
        assert_eq!(serde_json::from_str::<Vnd>("\"180.000đ\"").unwrap(), amount);
        assert!(serde_json::from_str::<Vnd>("180000.0").is_err());
        assert!(serde_json::from_str::<Vnd>("-1").is_err());
    }

    #[test]
    fn decimals_with_a_zero_fraction_are_whole() {
        let amount = Vnd::new(Decimal::new(500_000, 1)).unwrap();
        assert_eq!(amount.to_dong(), 50_000);
        assert_eq!(amount.as_decimal().scale(), 0);
    }

    proptest! {
        #[test]
        fn every_amount_in_range_round_trips_through_its_printed_form(value in 1..=Vnd::MAX_DONG) {
            let amount = Vnd::from_dong(value).unwrap();
            prop_assert_eq!(Vnd::parse(&amount.to_string()), Ok(amount));
            let mut digits = String::new();
            amount.push_digits(&mut digits);
            prop_assert_eq!(digits, value.to_string());
            prop_assert_eq!(amount.to_dong(), value);
        }

        #[test]
        fn anything_outside_the_range_is_refused(value in prop_oneof![i64::MIN..=0, (Vnd::MAX_DONG + 1)..=i64::MAX]) {
            prop_assert!(Vnd::from_dong(value).is_err());
        }

        #[test]
        fn parsing_never_panics(text in any::<String>()) {
            let _ = Vnd::parse(&text);
        }

        #[test]
        fn sums_stay_in_range_or_say_none(a in 1..=Vnd::MAX_DONG, b in 1..=Vnd::MAX_DONG) {
            let sum = Vnd::from_dong(a).unwrap().checked_add(Vnd::from_dong(b).unwrap());
            prop_assert_eq!(sum.map(Vnd::to_dong), (a + b <= Vnd::MAX_DONG).then_some(a + b));
        }
    }
}
