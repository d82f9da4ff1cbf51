//! Markets: the slug that names one in URLs and scripts, and the checked fields of a new market.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::text::{self, TextError};

/// A URL-safe name such as `cho-mo` or `ba-vi`: lower-case ASCII letters, digits and single
/// hyphens, 2–64 characters. Used for markets and districts (*contract*).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// Why a slug was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a slug: use 2-64 lower-case letters, digits and single hyphens, like cho-mo")]
pub struct SlugError(pub String);

impl Slug {
    /// Checks `text` is a slug.
    pub fn parse(text: &str) -> Result<Self, SlugError> {
        let ok = (2..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !text.starts_with('-')
            && !text.ends_with('-')
            && !text.contains("--");
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(SlugError(text.chars().take(80).collect()))
        }
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<Slug> for String {
    fn from(slug: Slug) -> Self {
        slug.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest place name (market, commune, district, province).
pub const MAX_PLACE_CHARS: usize = 120;

/// The checked fields of a market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketFields {
    /// Display name, e.g. "Chợ Quảng Oai".
    pub name: String,
    /// Commune or town, e.g. "thị trấn Tây Đằng".
    pub commune: String,
    /// District name, e.g. "huyện Ba Vì".
    pub district: String,
    /// District slug, e.g. `ba-vi`: board tokens may be scoped to it.
    pub district_slug: Slug,
    /// Province, e.g. "Hà Nội".
    pub province: String,
    /// Vendor households the market registers, when the board knows it (for adoption figures).
    pub households_registered: Option<i64>,
}

/// Largest household count accepted (no market has a million stalls).
pub const MAX_HOUSEHOLDS: i64 = 1_000_000;

/// Why a market was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarketError {
    /// A text field.
    #[error(transparent)]
    Text(#[from] TextError),
    /// The district slug.
    #[error("district_slug: {0}")]
    Slug(#[from] SlugError),
    /// The household count.
    #[error("households_registered must be between 0 and {MAX_HOUSEHOLDS}, got {0}")]
    Households(i64),
}

impl MarketFields {
    /// Checks and normalizes the fields of a market.
    pub fn parse(
        name: &str,
        commune: &str,
        district: &str,
        district_slug: &str,
        province: &str,
        households_registered: Option<i64>,
    ) -> Result<Self, MarketError> {
        if let Some(count) = households_registered.filter(|c| !(0..=MAX_HOUSEHOLDS).contains(c)) {
            return Err(MarketError::Households(count));
        }
        Ok(Self {
            name: text::clean(name, "name", MAX_PLACE_CHARS)?,
            commune: text::clean(commune, "commune", MAX_PLACE_CHARS)?,
            district: text::clean(district, "district", MAX_PLACE_CHARS)?,
            district_slug: Slug::parse(district_slug)?,
            province: text::clean(province, "province", MAX_PLACE_CHARS)?,
            households_registered,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_words_joined_by_hyphens() {
        for good in ["cho-mo", "cho-quang-oai", "ba-vi", "c1"] {
            assert!(Slug::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "Cho-Mo",
            "chợ-mơ",
            "-cho",
            "cho-",
            "cho--mo",
            "c",
            "cho mo",
            &"a".repeat(65),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn market_fields_are_normalized_and_bounded() {
        let market = MarketFields::parse(
            " Chợ  Mơ ",
            "xã Vạn Thắng",
            "huyện Ba Vì",
            "ba-vi",
            "Hà Nội",
            Some(56),
        )
        .unwrap();
        assert_eq!(market.name, "Chợ Mơ");
        assert_eq!(
            MarketFields::parse("Chợ", "x", "h", "ba-vi", "HN", Some(-1)),
            Err(MarketError::Households(-1))
        );
        assert!(MarketFields::parse("", "x", "h", "ba-vi", "HN", None).is_err());
        assert!(MarketFields::parse("Chợ", "x", "h", "Ba Vì", "HN", None).is_err());
    }
}
