//! Queries on `channels`: a provider and its secret, bound to a market. The secret is read only to
//! verify deliveries; it never leaves through `Debug`.

use std::fmt;

use crate::dispatch;

use super::{Store, StoreError};

/// A channel as stored.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChannelRow {
    /// Database id: the `{channel}` of its webhook path.
    pub id: i64,
    /// The market whose stalls it pays.
    pub market_id: i64,
    /// `payos`, `casso`, `sepay` or `chopay`.
    pub provider: String,
    /// The provider's secret (checksum key, API key or `whsec_…`).
    pub secret: String,
    /// What it is for.
    pub label: String,
    /// When it was created.
    pub created_at_ms: i64,
    /// When it last received an authentic delivery.
    pub last_used_at_ms: Option<i64>,
    /// Authentic deliveries received.
    pub accepted_count: i64,
    /// Deliveries refused (failed verification, unusable).
    pub rejected_count: i64,
}

impl fmt::Debug for ChannelRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelRow")
            .field("id", &self.id)
            .field("market_id", &self.market_id)
            .field("provider", &self.provider)
            .field("secret", &"***")
            .field("last_used_at_ms", &self.last_used_at_ms)
            .finish_non_exhaustive()
    }
}

macro_rules! columns {
    () => {
        "id, market_id, provider, secret, label, created_at_ms, last_used_at_ms, accepted_count, rejected_count"
    };
}

/// Creates a channel.
pub async fn insert(
    store: &Store,
    market_id: i64,
    provider: &str,
    secret: &str,
    label: &str,
    now_ms: i64,
) -> Result<ChannelRow, StoreError> {
    const SQL: &str = concat!(
        "INSERT INTO channels (market_id, provider, secret, label, created_at_ms) VALUES ($1, $2, $3, $4, $5) RETURNING ",
        columns!()
    );
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, ChannelRow>(SQL)
        .bind(market_id).bind(provider).bind(secret).bind(label).bind(now_ms)
        .fetch_one(pool).await)?,
    )
}

/// The channel with this id.
pub async fn by_id(store: &Store, id: i64) -> Result<Option<ChannelRow>, StoreError> {
    const SQL: &str = concat!("SELECT ", columns!(), " FROM channels WHERE id = $1");
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, ChannelRow>(SQL).bind(id).fetch_optional(pool).await)?,
    )
}

/// A market's channels, oldest first.
pub async fn in_market(store: &Store, market_id: i64) -> Result<Vec<ChannelRow>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM channels WHERE market_id = $1 ORDER BY id"
    );
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, ChannelRow>(SQL).bind(market_id).fetch_all(pool).await)?,
    )
}

/// Adds deliveries to a channel's counts, and moves its last use forward when some were
/// accepted (batched by the caller: one write per channel per flush, not one per request, so
/// neither a flood of forgeries nor a busy day contends on the channel's row).
pub async fn add_counts(
    store: &Store,
    id: i64,
    accepted: i64,
    rejected: i64,
    last_used_at_ms: Option<i64>,
) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE channels SET accepted_count = accepted_count + $2, rejected_count = rejected_count + $3, \
         last_used_at_ms = COALESCE($4, last_used_at_ms) WHERE id = $1";
    dispatch!(store, pool => sqlx::query(SQL)
        .bind(id).bind(accepted).bind(rejected).bind(last_used_at_ms)
        .execute(pool).await.map(|_| ()))?;
    Ok(())
}
