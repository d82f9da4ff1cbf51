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
    /// A single separator followed by exactly three digits groups thousands (`1.500k` is
    /// 1 500 000đ, as written in Vietnam); otherwise it is a decimal point, and the result must
    /// still be a whole number of đồng.
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
        let compact: String = trimmed
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect();
        let unsigned = match compact.strip_prefix(['-', '−']) {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => {
                return Err(MoneyError::Negative);
            }
            Some(_) => return Err(not_an_amount()),
            None => compact.strip_prefix('+').unwrap_or(&compact),
        };
        let without_currency = strip_currency(unsigned);
        let (number, multiplier) = split_multiplier(without_currency);
        let value = match parse_number(number) {
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

/// What [`parse_number`] found.
enum Number {
    Value(Decimal),
    /// Well-formed but beyond what a decimal holds (more than 28 digits).
    TooLarge,
    Invalid,
}

/// Reads digits with optional thousands separators and an optional decimal part.
fn parse_number(text: &str) -> Number {
    let Some(literal) = number_literal(text) else {
        return Number::Invalid;
    };
    match Decimal::from_str(&literal) {
        Ok(value) => Number::Value(value),
        Err(_) => Number::TooLarge,
    }
}

/// Rewrites the typed number as a plain decimal literal (`"1.250.000,5"` → `"1250000.5"`).
fn number_literal(text: &str) -> Option<String> {
    if text.is_empty()
        || !text
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return None;
    }
    let dots = text.matches('.').count();
    let commas = text.matches(',').count();
    let (integer, fraction) = match (dots, commas) {
        (0, 0) => (text.to_owned(), ""),
        (_, 0) | (0, _) => {
            let separator = if dots > 0 { '.' } else { ',' };
            let count = dots + commas;
            let (head, tail) = text.rsplit_once(separator)?;
            if count == 1 && tail.len() != 3 {
                (head.to_owned(), tail)
            } else {
                (ungroup(text, separator)?, "")
            }
        }
        _ => {
            // Both kinds: whichever comes last is the decimal point.
            let last_dot = text.rfind('.')?;
            let last_comma = text.rfind(',')?;
            let (thousands, decimal) = if last_dot > last_comma {
                (',', '.')
            } else {
                ('.', ',')
            };
            let (head, tail) = text.rsplit_once(decimal)?;
            if tail.contains(thousands) {
                return None;
            }
            (ungroup(head, thousands)?, tail)
        }
    };
    if integer.is_empty() || fraction.contains(['.', ',']) {
        return None;
    }
    Some(if fraction.is_empty() {
        integer
    } else {
        format!("{integer}.{fraction}")
    })
}

/// Removes thousands separators, checking the groups: 1–3 digits, then groups of exactly 3.
fn ungroup(text: &str, separator: char) -> Option<String> {
    let mut groups = text.split(separator);
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 || first.contains(['.', ',']) {
        return None;
    }
    let mut digits = first.to_owned();
    for group in groups {
        if group.len() != 3 || !group.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.push_str(group);
    }
    Some(digits)
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
        for nonsense in [
            "abc", "5.0.0", "50,00,0", "k", "đ", "1e5", "0x10", "50.000.5", "--5", "5-",
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
