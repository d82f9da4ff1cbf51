//! Queries on `tokens`: only SHA-256 digests are stored, never a token's text; a revoked token
//! keeps its row and is never found by its digest again.

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
    /// When it was made.
    pub created_at_ms: i64,
    /// When it was revoked; `None` while it works.
    pub revoked_at_ms: Option<i64>,
}

/// The columns of a [`TokenRow`], never the digest.
macro_rules! columns {
    () => {
        "id, role, market_id, district_slug, stall_id, label, created_at_ms, revoked_at_ms"
    };
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

/// The working (not revoked) token with this digest.
pub async fn by_digest(store: &Store, token_sha256: &str) -> Result<Option<TokenRow>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM tokens WHERE token_sha256 = $1 AND revoked_at_ms IS NULL"
    );
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, TokenRow>(SQL).bind(token_sha256).fetch_optional(pool).await)?,
    )
}

/// Every token, revoked ones included, in id order.
pub async fn all(store: &Store) -> Result<Vec<TokenRow>, StoreError> {
    const SQL: &str = concat!("SELECT ", columns!(), " FROM tokens ORDER BY id");
    Ok(dispatch!(store, pool => sqlx::query_as::<_, TokenRow>(SQL).fetch_all(pool).await)?)
}

/// Revokes the token with this id (a second revocation keeps the first time); `None` when there
/// is no such token.
pub async fn revoke(store: &Store, id: i64, now_ms: i64) -> Result<Option<TokenRow>, StoreError> {
    const SQL: &str = concat!(
        "UPDATE tokens SET revoked_at_ms = COALESCE(revoked_at_ms, $2) WHERE id = $1 RETURNING ",
        columns!()
    );
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, TokenRow>(SQL).bind(id).bind(now_ms).fetch_optional(pool).await)?,
    )
}
