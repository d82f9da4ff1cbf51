//! Queries on `tokens`: only SHA-256 digests are stored, never a token's text.

use crate::dispatch;

use super::{Store, StoreError};

/// A token as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRow {
    /// Database id.
    pub id: i64,
    /// `admin`, `board` or `vendor`.
    pub role: String,
    /// Market scope of a board token.
    pub market_id: Option<i64>,
    /// District scope of a board token.
    pub district_slug: Option<String>,
    /// Stall scope of a vendor token.
    pub stall_id: Option<i64>,
    /// What it was made for.
    pub label: String,
}

/// A token to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken<'a> {
    /// Hex SHA-256 of the token text.
    pub token_sha256: &'a str,
    /// Role.
    pub role: &'a str,
    /// Market scope.
    pub market_id: Option<i64>,
    /// District scope.
    pub district_slug: Option<&'a str>,
    /// Stall scope.
    pub stall_id: Option<i64>,
    /// Label.
    pub label: &'a str,
}

/// Stores a token's digest and scope; returns its id.
pub async fn insert(store: &Store, token: &NewToken<'_>, now_ms: i64) -> Result<i64, StoreError> {
    const SQL: &str = "INSERT INTO tokens (token_sha256, role, market_id, district_slug, stall_id, label, created_at_ms) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    Ok(dispatch!(store, pool => sqlx::query_scalar(SQL)
        .bind(token.token_sha256)
        .bind(token.role)
        .bind(token.market_id)
        .bind(token.district_slug)
        .bind(token.stall_id)
        .bind(token.label)
        .bind(now_ms)
        .fetch_one(pool)
        .await)?)
}

/// The token with this digest.
pub async fn by_digest(store: &Store, token_sha256: &str) -> Result<Option<TokenRow>, StoreError> {
    const SQL: &str = "SELECT id, role, market_id, district_slug, stall_id, label FROM tokens WHERE token_sha256 = $1";
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, TokenRow>(SQL).bind(token_sha256).fetch_optional(pool).await)?,
    )
}
