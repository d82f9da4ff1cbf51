//! Board figures from the database: each stall with its sums over a window and its latest day
//! with a credit, and a market's daily rollups, read together from one snapshot. Every sum comes
//! from `credit_days`, so a market's figures cost the same with ten credits or ten million.

use crate::domain::day::Day;
use crate::read_snapshot;

use super::credits::{DAILY_BY_MARKET, DailyRow};
use super::{Store, StoreError};

/// A stall as a board lists it: its account and poster, and its credits within a window.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StallLine {
    /// Stall id.
    pub id: i64,
    /// Stall code.
    pub code: String,
    /// Vendor.
    pub vendor_name: String,
    /// What it sells.
    pub goods: String,
    /// `active` or `inactive` (closed).
    pub status: String,
    /// Whether an account is linked.
    pub linked: bool,
    /// When that account was linked.
    pub account_linked_at_ms: Option<i64>,
    /// When its poster was last printed.
    pub poster_printed_at_ms: Option<i64>,
    /// Credits within the window.
    pub credits: i64,
    /// Their sum.
    pub amount_dong: i64,
    /// Of them, paid to an order.
    pub dynamic_credits: i64,
    /// Their sum.
    pub dynamic_amount_dong: i64,
    /// Of them, paid to the poster.
    pub static_credits: i64,
    /// Their sum.
    pub static_amount_dong: i64,
    /// Of them, assigned after review.
    pub assigned_credits: i64,
    /// Their sum.
    pub assigned_amount_dong: i64,
    /// The latest day with a credit, up to the window's end (`YYYYMMDD`).
    pub last_day: Option<i64>,
}

/// Stalls of market `$1` with `id > $4`, in id order, at most `$5`, with their sums over days
/// `$2..=$3`. The sums join on the rollup's key (the market named, so PostgreSQL's first, generic
/// plans never read other markets' rows); the latest day is one index probe each.
const LINES: &str = "SELECT s.id, s.code, s.vendor_name, s.goods, s.status, s.payee_bin IS NOT NULL AS linked, \
     s.account_linked_at_ms, s.poster_printed_at_ms, \
     CAST(COALESCE(SUM(d.credits), 0) AS BIGINT) AS credits, CAST(COALESCE(SUM(d.amount_dong), 0) AS BIGINT) AS amount_dong, \
     CAST(COALESCE(SUM(d.dynamic_credits), 0) AS BIGINT) AS dynamic_credits, \
     CAST(COALESCE(SUM(d.dynamic_amount_dong), 0) AS BIGINT) AS dynamic_amount_dong, \
     CAST(COALESCE(SUM(d.static_credits), 0) AS BIGINT) AS static_credits, \
     CAST(COALESCE(SUM(d.static_amount_dong), 0) AS BIGINT) AS static_amount_dong, \
     CAST(COALESCE(SUM(d.assigned_credits), 0) AS BIGINT) AS assigned_credits, \
     CAST(COALESCE(SUM(d.assigned_amount_dong), 0) AS BIGINT) AS assigned_amount_dong, \
     (SELECT MAX(x.day) FROM credit_days x WHERE x.stall_id = s.id AND x.day <= $3) AS last_day \
     FROM stalls s LEFT JOIN credit_days d ON d.market_id = $1 AND d.stall_id = s.id AND d.day BETWEEN $2 AND $3 \
     WHERE s.market_id = $1 AND s.id > $4 GROUP BY s.id ORDER BY s.id LIMIT $5";

/// The days a snapshot reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// Per-stall sums and latest credit day over these days.
    pub stalls: (Day, Day),
    /// The daily series of the market over these days.
    pub range: (Day, Day),
    /// And over these (today's windows); read once when equal to `range`.
    pub recent: (Day, Day),
}

/// One market's figures as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketSnapshot {
    /// Market id.
    pub market_id: i64,
    /// Its stalls, in id order.
    pub lines: Vec<StallLine>,
    /// Its days with credits in `range`, oldest first.
    pub range: Vec<DailyRow>,
    /// Its days with credits in `recent`, oldest first.
    pub recent: Vec<DailyRow>,
}

/// The figures of these markets, all read in one snapshot while writes go on.
pub async fn snapshot(
    store: &Store,
    market_ids: &[i64],
    reading: Reading,
) -> Result<Vec<MarketSnapshot>, StoreError> {
    let (stalls_from, stalls_to) = reading.stalls;
    let read = read_snapshot!(store, tx => {
        let mut markets = Vec::with_capacity(market_ids.len());
        for &market_id in market_ids {
            let lines = sqlx::query_as::<_, StallLine>(LINES)
                .bind(market_id).bind(stalls_from.number()).bind(stalls_to.number())
                .bind(0_i64).bind(i64::MAX)
                .fetch_all(&mut *tx).await?;
            let days = |(from, to): (Day, Day)| {
                sqlx::query_as::<_, DailyRow>(DAILY_BY_MARKET)
                    .bind(market_id).bind(from.number()).bind(to.number())
            };
            let range = days(reading.range).fetch_all(&mut *tx).await?;
            let recent = if reading.recent == reading.range {
                range.clone()
            } else {
                days(reading.recent).fetch_all(&mut *tx).await?
            };
            markets.push(MarketSnapshot { market_id, lines, range, recent });
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(markets)
    })?;
    Ok(read)
}

/// A read snapshot kept open while an export streams: every page it reads and its closing
/// totals see the database as it was when the export began, however many credits land meanwhile.
/// Dropping it ends the transaction.
pub enum Snapshot {
    /// On SQLite.
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    /// On PostgreSQL.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Snapshot")
    }
}

impl Snapshot {
    /// Begins the snapshot.
    pub async fn begin(store: &Store) -> Result<Self, StoreError> {
        Ok(match store {
            Store::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                // SQLite takes its snapshot at the first read.
                sqlx::query("SELECT 1").execute(&mut *tx).await?;
                Self::Sqlite(tx)
            }
            Store::Postgres(pool) => Self::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
        })
    }

    /// A page of a market's stall lines after stall id `after`, with sums over `days`.
    pub async fn lines_after(
        &mut self,
        market_id: i64,
        days: (Day, Day),
        after: i64,
        limit: i64,
    ) -> Result<Vec<StallLine>, StoreError> {
        macro_rules! read {
            ($tx:expr) => {
                sqlx::query_as::<_, StallLine>(LINES)
                    .bind(market_id)
                    .bind(days.0.number())
                    .bind(days.1.number())
                    .bind(after)
                    .bind(limit)
                    .fetch_all(&mut **$tx)
                    .await?
            };
        }
        Ok(match self {
            Self::Sqlite(tx) => read!(tx),
            Self::Postgres(tx) => read!(tx),
        })
    }

    /// A market's days with credits in `days`, oldest first.
    pub async fn daily(
        &mut self,
        market_id: i64,
        days: (Day, Day),
    ) -> Result<Vec<DailyRow>, StoreError> {
        macro_rules! read {
            ($tx:expr) => {
                sqlx::query_as::<_, DailyRow>(DAILY_BY_MARKET)
                    .bind(market_id)
                    .bind(days.0.number())
                    .bind(days.1.number())
                    .fetch_all(&mut **$tx)
                    .await?
            };
        }
        Ok(match self {
            Self::Sqlite(tx) => read!(tx),
            Self::Postgres(tx) => read!(tx),
        })
    }
}

/// A page of a market's stall lines after stall id `after`, read in a snapshot of its own.
pub async fn lines_after(
    store: &Store,
    market_id: i64,
    days: (Day, Day),
    after: i64,
    limit: i64,
) -> Result<Vec<StallLine>, StoreError> {
    Snapshot::begin(store)
        .await?
        .lines_after(market_id, days, after, limit)
        .await
}
