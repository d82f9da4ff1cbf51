//! Who may do what: roles, their scopes, and the object-level checks every endpoint makes.
//!
//! - `admin`: everything.
//! - `board`: reads one market, or every market of one district.
//! - `vendor`: reads one stall (and, later, issues its orders).
//!
//! Bearer tokens are random; only their SHA-256 is stored, so a leaked database does not leak
//! working tokens.

use std::fmt;

use sha2::{Digest, Sha256};

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything.
    Admin,
    /// Reads a market or a district.
    Board,
    /// Reads and, later, sells at one stall.
    Vendor,
}

impl Role {
    /// `admin`, `board` or `vendor`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Board => "board",
            Self::Vendor => "vendor",
        }
    }

    /// Reads a stored or typed role.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "admin" => Some(Self::Admin),
            "board" => Some(Self::Board),
            "vendor" => Some(Self::Vendor),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a token reaches beyond its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// No limit (admin).
    All,
    /// One market, by id.
    Market(i64),
    /// Every market of a district, by district slug.
    District(String),
    /// One stall, by id.
    Stall(i64),
}

/// The caller behind a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The role.
    pub role: Role,
    /// Its reach.
    pub scope: Scope,
}

/// Where a market sits, for access checks.
#[derive(Debug, Clone, Copy)]
pub struct MarketPlace<'a> {
    /// The market's id.
    pub market_id: i64,
    /// Its district's slug.
    pub district_slug: &'a str,
}

impl Principal {
    /// Whether this is an admin.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the caller may read the market as a whole (its stall list, its figures).
    pub fn can_read_market(&self, market: MarketPlace<'_>) -> bool {
        match (&self.role, &self.scope) {
            (Role::Admin, _) => true,
            (Role::Board, Scope::Market(id)) => *id == market.market_id,
            (Role::Board, Scope::District(slug)) => slug == market.district_slug,
            _ => false,
        }
    }

    /// Whether the caller may read one stall of `market`.
    pub fn can_read_stall(&self, stall_id: i64, market: MarketPlace<'_>) -> bool {
        match (&self.role, &self.scope) {
            (Role::Vendor, Scope::Stall(id)) => *id == stall_id,
            _ => self.can_read_market(market),
        }
    }
}

/// Prefix of every chopay token, so a leaked one is recognizable in logs and scanners.
pub const TOKEN_PREFIX: &str = "cp_";

/// The stored form of a token: hex SHA-256 of its text.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A token's text from 32 random bytes: `cp_` and 64 hex digits.
pub fn token_text(random: &[u8; 32]) -> String {
    format!("{TOKEN_PREFIX}{}", hex::encode(random))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MO: MarketPlace<'static> = MarketPlace {
        market_id: 1,
        district_slug: "ba-vi",
    };
    const OTHER: MarketPlace<'static> = MarketPlace {
        market_id: 2,
        district_slug: "son-tay",
    };

    #[test]
    fn each_role_reaches_only_its_scope() {
        let admin = Principal {
            role: Role::Admin,
            scope: Scope::All,
        };
        let board = Principal {
            role: Role::Board,
            scope: Scope::Market(1),
        };
        let district = Principal {
            role: Role::Board,
            scope: Scope::District("ba-vi".into()),
        };
        let vendor = Principal {
            role: Role::Vendor,
            scope: Scope::Stall(7),
        };
        assert!(admin.can_read_market(OTHER) && admin.can_read_stall(99, OTHER));
        assert!(board.can_read_market(MO) && !board.can_read_market(OTHER));
        assert!(board.can_read_stall(7, MO) && !board.can_read_stall(8, OTHER));
        assert!(district.can_read_market(MO) && !district.can_read_market(OTHER));
        assert!(vendor.can_read_stall(7, MO) && !vendor.can_read_stall(8, MO));
        assert!(!vendor.can_read_market(MO));
    }

    #[test]
    fn tokens_are_prefixed_and_stored_hashed() {
        let token = token_text(&[7; 32]);
        assert!(token.starts_with("cp_") && token.len() == 67);
        assert_eq!(token_hash(&token).len(), 64);
        assert_ne!(token_hash(&token), token_hash(&token_text(&[8; 32])));
    }
}
