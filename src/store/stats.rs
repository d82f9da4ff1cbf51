//! Board figures from the database: each stall with its sums over a window and its latest day
//! with a credit, and a market's daily rollups, read together from one snapshot. Every sum comes
//! from the rollups (`credit_days` per stall, `market_days` per market), so a market's figures
//! cost the same with ten credits or ten million.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;

use crate::domain::day::Day;

use super::credits::{DAILY_BY_MARKET, DAILY_SUM_COLUMNS, DailyRow};
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

/// A market's stalls alike in what a board counts: account, poster and activity in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct StallTally {
    /// Whether they have an account linked.
    pub linked: bool,
    /// Whether a poster was ever printed for them.
    pub printed: bool,
    /// Whether their account was linked after their last poster was printed.
    pub relinked: bool,
    /// Whether they had a credit within the window.
    pub active: bool,
    /// How many open stalls.
    pub stalls: i64,
}

/// Markets read by one statement of a snapshot (one bound id each).
const MARKETS_PER_READ: usize = 200;

/// Stall lines of markets `IN ({markets})` (placeholders from `$5`) with `id > $3`, in market
/// then id order, at most `$4`, with their sums over days `$1..=$2`. The window's rollup rows
/// are summed once per stall from one range of the market-and-day index per market (every sum
/// is in that index: migration 0008); the latest day is the window's when the stall had a credit
/// in it, and one index probe before the window only when it had none.
fn lines_of_markets(markets: &str) -> String {
    format!(
        "WITH w AS (SELECT stall_id, {DAILY_SUM_COLUMNS}, MAX(day) AS last_in FROM credit_days \
         WHERE market_id IN ({markets}) AND day BETWEEN $1 AND $2 AND stall_id <> 0 GROUP BY stall_id) \
         SELECT s.market_id, s.id, s.code, s.vendor_name, s.goods, s.status, s.payee_bin IS NOT NULL AS linked, \
         s.account_linked_at_ms, s.poster_printed_at_ms, \
         CAST(COALESCE(w.credits, 0) AS BIGINT) AS credits, CAST(COALESCE(w.amount_dong, 0) AS BIGINT) AS amount_dong, \
         CAST(COALESCE(w.dynamic_credits, 0) AS BIGINT) AS dynamic_credits, \
         CAST(COALESCE(w.dynamic_amount_dong, 0) AS BIGINT) AS dynamic_amount_dong, \
         CAST(COALESCE(w.static_credits, 0) AS BIGINT) AS static_credits, \
         CAST(COALESCE(w.static_amount_dong, 0) AS BIGINT) AS static_amount_dong, \
         CAST(COALESCE(w.assigned_credits, 0) AS BIGINT) AS assigned_credits, \
         CAST(COALESCE(w.assigned_amount_dong, 0) AS BIGINT) AS assigned_amount_dong, \
         CAST(COALESCE(w.last_in, (SELECT MAX(x.day) FROM credit_days x WHERE x.stall_id = s.id AND x.day < $1)) AS BIGINT) AS last_day \
         FROM stalls s LEFT JOIN w ON w.stall_id = s.id WHERE s.market_id IN ({markets}) AND s.id > $3 \
         ORDER BY s.market_id, s.id LIMIT $4"
    )
}

/// The open stalls of markets `IN ({markets})` (placeholders from `$3`) counted by
/// [`StallTally`], active meaning a credit within days `$1..=$2`: one range of the
/// market-and-day index per market for the active stalls, one pass over the stalls, no row per
/// stall sent back.
fn tallies_of_markets(markets: &str) -> String {
    format!(
        "SELECT s.market_id, s.payee_bin IS NOT NULL AS linked, s.poster_printed_at_ms IS NOT NULL AS printed, \
         COALESCE(s.account_linked_at_ms > s.poster_printed_at_ms, FALSE) AS relinked, \
         w.stall_id IS NOT NULL AS active, CAST(COUNT(*) AS BIGINT) AS stalls \
         FROM stalls s LEFT JOIN (SELECT DISTINCT stall_id FROM credit_days \
         WHERE market_id IN ({markets}) AND day BETWEEN $1 AND $2 AND credits > 0) w ON w.stall_id = s.id \
         WHERE s.market_id IN ({markets}) AND s.status = 'active' GROUP BY s.market_id, 2, 3, 4, 5"
    )
}

/// Daily sums of markets `IN ({markets})` (placeholders from `$3`) over days `$1..=$2`, in
/// market then day order, from the markets' own rollup (a row per market, day and ledger writer).
fn daily_of_markets(markets: &str) -> String {
    format!(
        "SELECT market_id, day, {DAILY_SUM_COLUMNS} FROM market_days \
         WHERE market_id IN ({markets}) AND day BETWEEN $1 AND $2 GROUP BY market_id, day ORDER BY market_id, day"
    )
}

/// `$first, $first+1, …`: one placeholder per market.
fn placeholders(first: usize, markets: usize) -> String {
    (first..first + markets)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A stall line with its market.
#[derive(sqlx::FromRow)]
struct MarketLine {
    market_id: i64,
    #[sqlx(flatten)]
    line: StallLine,
}

/// A tally with its market.
#[derive(sqlx::FromRow)]
struct MarketTally {
    market_id: i64,
    #[sqlx(flatten)]
    tally: StallTally,
}

/// A market's day with its market.
#[derive(sqlx::FromRow)]
struct MarketDay {
    market_id: i64,
    #[sqlx(flatten)]
    day: DailyRow,
}

/// The days a snapshot reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// Per-stall sums and latest credit day over these days (or, counted, activity).
    pub stalls: (Day, Day),
    /// Each stall listed with its sums (a market's board), or only counted (a district's
    /// board and the index, which show counts and shares).
    pub list_stalls: bool,
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
    /// Its stalls.
    pub stalls: Stalls,
    /// Its days with credits in `range`, oldest first.
    pub range: Vec<DailyRow>,
    /// Its days with credits in `recent`, oldest first.
    pub recent: Vec<DailyRow>,
}

/// A market's stalls as a snapshot read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stalls {
    /// Each open or closed stall, in id order.
    Listed(Vec<StallLine>),
    /// The open stalls, counted.
    Counted(Vec<StallTally>),
}

/// Rows of many markets, grouped by market (each group in the statement's order).
fn by_market<T>(rows: impl IntoIterator<Item = (i64, T)>) -> HashMap<i64, Vec<T>> {
    let mut out: HashMap<i64, Vec<T>> = HashMap::new();
    for (market_id, row) in rows {
        out.entry(market_id).or_default().push(row);
    }
    out
}

/// The figures of these markets, all read in one snapshot while writes go on: a few statements
/// for all of them (a district's markets together), not a few per market.
pub async fn snapshot(
    store: &Store,
    market_ids: &[i64],
    reading: Reading,
) -> Result<Vec<MarketSnapshot>, StoreError> {
    let mut snapshot = Snapshot::begin(store).await?;
    let (mut lines, mut tallies, mut range, mut recent) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for chunk in market_ids.chunks(MARKETS_PER_READ) {
        if reading.list_stalls {
            lines.extend(
                snapshot
                    .lines_of(chunk, reading.stalls, 0, i64::MAX)
                    .await?,
            );
        } else {
            tallies.extend(snapshot.tallies_of(chunk, reading.stalls).await?);
        }
        range.extend(snapshot.days_of(chunk, reading.range).await?);
        if reading.recent != reading.range {
            recent.extend(snapshot.days_of(chunk, reading.recent).await?);
        }
    }
    snapshot.end().await?;
    let same = reading.recent == reading.range;
    let (mut lines, mut tallies) = (by_market(lines), by_market(tallies));
    let (mut range, mut recent) = (by_market(range), by_market(recent));
    Ok(market_ids
        .iter()
        .map(|&market_id| {
            let days = range.remove(&market_id).unwrap_or_default();
            MarketSnapshot {
                market_id,
                stalls: if reading.list_stalls {
                    Stalls::Listed(lines.remove(&market_id).unwrap_or_default())
                } else {
                    Stalls::Counted(tallies.remove(&market_id).unwrap_or_default())
                },
                recent: if same {
                    days.clone()
                } else {
                    recent.remove(&market_id).unwrap_or_default()
                },
                range: days,
            }
        })
        .collect())
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

    /// Ends the snapshot.
    pub async fn end(self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(tx) => tx.commit().await?,
            Self::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// A page of a market's stall lines after stall id `after`, with sums over `days`.
    pub async fn lines_after(
        &mut self,
        market_id: i64,
        days: (Day, Day),
        after: i64,
        limit: i64,
    ) -> Result<Vec<StallLine>, StoreError> {
        let lines = self.lines_of(&[market_id], days, after, limit).await?;
        Ok(lines.into_iter().map(|(_, line)| line).collect())
    }

    /// The stall lines of these markets after stall id `after`, at most `limit`, with sums over
    /// `days`, each with its market.
    async fn lines_of(
        &mut self,
        market_ids: &[i64],
        (from, to): (Day, Day),
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, StallLine)>, StoreError> {
        let params = [from.number(), to.number(), after, limit];
        let sql = lines_of_markets(&placeholders(params.len() + 1, market_ids.len()));
        let rows: Vec<MarketLine> = self.of_markets(sql, &params, market_ids).await?;
        Ok(rows.into_iter().map(|r| (r.market_id, r.line)).collect())
    }

    /// The open stalls of these markets counted by [`StallTally`] (active: a credit within
    /// `days`), each tally with its market.
    async fn tallies_of(
        &mut self,
        market_ids: &[i64],
        (from, to): (Day, Day),
    ) -> Result<Vec<(i64, StallTally)>, StoreError> {
        let params = [from.number(), to.number()];
        let sql = tallies_of_markets(&placeholders(params.len() + 1, market_ids.len()));
        let rows: Vec<MarketTally> = self.of_markets(sql, &params, market_ids).await?;
        Ok(rows.into_iter().map(|r| (r.market_id, r.tally)).collect())
    }

    /// The days with credits of these markets in `days`, each with its market, oldest first.
    async fn days_of(
        &mut self,
        market_ids: &[i64],
        (from, to): (Day, Day),
    ) -> Result<Vec<(i64, DailyRow)>, StoreError> {
        let params = [from.number(), to.number()];
        let sql = daily_of_markets(&placeholders(params.len() + 1, market_ids.len()));
        let rows: Vec<MarketDay> = self.of_markets(sql, &params, market_ids).await?;
        Ok(rows.into_iter().map(|r| (r.market_id, r.day)).collect())
    }

    /// The rows of `sql` with `params` bound first, then one market id each.
    async fn of_markets<R>(
        &mut self,
        sql: String,
        params: &[i64],
        market_ids: &[i64],
    ) -> Result<Vec<R>, StoreError>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        macro_rules! read {
            ($tx:expr) => {
                params
                    .iter()
                    .chain(market_ids)
                    .fold(
                        sqlx::query_as::<_, R>(AssertSqlSafe(sql)),
                        |query, value| query.bind(*value),
                    )
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
