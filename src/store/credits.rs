//! Reading the ledger: credits (append-only; written by [`super::ledger`]), listings, daily
//! totals from the rollups, deliveries kept for review, and assigning an unmatched credit to a
//! stall after review (a new entry; the credit row never changes).

use crate::domain::day::Day;
use crate::domain::order::Outcome;
use crate::domain::stats::{Tally, Totals};
use crate::{dispatch, write_transaction};

use super::orders::OrderRow;
use super::{Page, Store, StoreError};

/// A credit as stored (without its raw body).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CreditRow {
    /// Ledger id.
    pub id: i64,
    /// The channel it came through.
    pub channel_id: i64,
    /// The channel's market.
    pub market_id: i64,
    /// The provider's transaction id.
    pub provider_txn_id: String,
    /// Amount, whole đồng.
    pub amount_dong: i64,
    /// Receiving account.
    pub account: Option<String>,
    /// Receiving BIN.
    pub bin: Option<String>,
    /// Receiving virtual account.
    pub virtual_account: Option<String>,
    /// Description as received.
    pub description: String,
    /// Payer name.
    pub counterparty_name: Option<String>,
    /// Payer account.
    pub counterparty_account: Option<String>,
    /// Payer bank.
    pub counterparty_bank: Option<String>,
    /// When the bank booked it.
    pub booked_at_ms: Option<i64>,
    /// When chopay received it.
    pub received_at_ms: i64,
    /// Vietnam day of receipt, `YYYYMMDD`.
    pub day: i64,
    /// The stall it was matched to.
    pub stall_id: Option<i64>,
    /// The order it was matched to.
    pub order_id: Option<i64>,
    /// What it was: see [`Outcome`].
    pub outcome: String,
    /// Why, when unmatched or odd.
    pub note: Option<String>,
    /// The stall a reviewer later gave it to (unmatched credits only).
    pub assigned_stall_id: Option<i64>,
}

impl CreditRow {
    /// The stall the money belongs to now: matched, or assigned after review.
    pub fn effective_stall_id(&self) -> Option<i64> {
        self.stall_id.or(self.assigned_stall_id)
    }
}

macro_rules! columns {
    () => {
        "c.id, c.channel_id, c.market_id, c.provider_txn_id, c.amount_dong, c.account, c.bin, c.virtual_account, \
         c.description, c.counterparty_name, c.counterparty_account, c.counterparty_bank, c.booked_at_ms, \
         c.received_at_ms, c.day, c.stall_id, c.order_id, c.outcome, c.note, a.stall_id AS assigned_stall_id"
    };
}

macro_rules! from {
    () => {
        " FROM credits c LEFT JOIN credit_assignments a ON a.credit_id = c.id "
    };
}
pub(crate) use {columns, from};

/// A stall's figures for one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayTotal {
    /// The day.
    pub day: Day,
    /// Credits received.
    pub credits: i64,
    /// Their sum, whole đồng.
    pub amount_dong: i64,
}

/// What recording one delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A new ledger row.
    New {
        /// The row.
        credit: Box<CreditRow>,
        /// Its order after the credit, if it paid one.
        order: Option<OrderRow>,
        /// The day's figures of its stall after the credit, if it went to a stall.
        today: Option<DayTotal>,
    },
    /// The same transaction was recorded before: nothing changed.
    Duplicate(CreditRow),
    /// The same transaction id was recorded before with another amount: nothing changed, the
    /// delivery is kept for review.
    Conflict(CreditRow),
}

const SELECT_BY_ID: &str = concat!("SELECT ", columns!(), from!(), "WHERE c.id = $1");
/// Keeps a delivery for review (`unusable` or `conflict`).
pub(super) const INSERT_REVIEW: &str = "INSERT INTO webhook_reviews (channel_id, market_id, kind, reason, provider_txn_id, raw_body, \
     received_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Keeps an authentic delivery that could not become a credit, for review.
pub async fn keep_unusable(
    store: &Store,
    channel_id: i64,
    market_id: i64,
    reason: &str,
    raw_body: &[u8],
    now_ms: i64,
) -> Result<(), StoreError> {
    dispatch!(store, pool => sqlx::query(INSERT_REVIEW)
        .bind(channel_id).bind(market_id).bind("unusable").bind(reason).bind(None::<String>).bind(raw_body).bind(now_ms)
        .execute(pool).await.map(|_| ()))?;
    Ok(())
}

/// Which credits a listing covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditScope {
    /// A market's.
    Market(i64),
    /// A stall's: matched to it or assigned to it.
    Stall(i64),
}

/// The ids of a stall's credits, matched to it or assigned to it, for `WHERE c.id IN (…)`: the
/// union of two index ranges (`credits_by_stall`, `credit_assignments_by_stall`), each cut to
/// what the page can need, instead of `c.stall_id = $1 OR a.stall_id = $1` over the join, which
/// no index serves (both databases scanned the whole ledger for it).
macro_rules! stall_ids {
    ($matched:literal, $assigned:literal) => {
        concat!(
            "SELECT id FROM (SELECT id FROM credits WHERE stall_id = $1 ",
            $matched,
            ") AS matched UNION ALL SELECT credit_id FROM (SELECT s.credit_id FROM credit_assignments s \
             JOIN credits x ON x.id = s.credit_id WHERE s.stall_id = $1 ",
            $assigned,
            ") AS assigned"
        )
    };
}

/// A page of credits, newest first, optionally of one outcome, and the total.
pub async fn list(
    store: &Store,
    scope: CreditScope,
    outcome: Option<Outcome>,
    page: Page,
) -> Result<(Vec<CreditRow>, i64), StoreError> {
    const BY_MARKET: &str = concat!(
        "SELECT ",
        columns!(),
        from!(),
        "WHERE c.market_id = $1 AND ($2 = '' OR c.outcome = $2) ORDER BY c.id DESC LIMIT $3 OFFSET $4"
    );
    // Each side keeps its newest `$5` (= offset + page size) of the outcome asked for.
    const BY_STALL: &str = concat!(
        "SELECT ",
        columns!(),
        from!(),
        "WHERE c.id IN (",
        stall_ids!(
            "AND ($2 = '' OR outcome = $2) ORDER BY id DESC LIMIT $5",
            "AND ($2 = '' OR x.outcome = $2) ORDER BY s.credit_id DESC LIMIT $5"
        ),
        ") ORDER BY c.id DESC LIMIT $3 OFFSET $4"
    );
    const COUNT_MARKET: &str =
        "SELECT COUNT(*) FROM credits c WHERE c.market_id = $1 AND ($2 = '' OR c.outcome = $2)";
    // The review list: the partial index `credits_unmatched`, which a parameter cannot select.
    const UNMATCHED_OF_MARKET: &str = concat!(
        "SELECT ",
        columns!(),
        from!(),
        "WHERE c.market_id = $1 AND c.outcome = 'unmatched' ORDER BY c.id DESC LIMIT $2 OFFSET $3"
    );
    const COUNT_UNMATCHED_OF_MARKET: &str =
        "SELECT COUNT(*) FROM credits WHERE market_id = $1 AND outcome = 'unmatched'";
    // A stall's own credits, and those assigned to it that are not its own already; without an
    // outcome, the first count reads the index alone.
    const COUNT_STALL_ALL: &str = "SELECT (SELECT COUNT(*) FROM credits WHERE stall_id = $1) \
         + (SELECT COUNT(*) FROM credit_assignments s JOIN credits x ON x.id = s.credit_id \
         WHERE s.stall_id = $1 AND x.stall_id IS DISTINCT FROM $1)";
    const COUNT_STALL_OF: &str = "SELECT (SELECT COUNT(*) FROM credits WHERE stall_id = $1 AND outcome = $2) \
         + (SELECT COUNT(*) FROM credit_assignments s JOIN credits x ON x.id = s.credit_id \
         WHERE s.stall_id = $1 AND x.stall_id IS DISTINCT FROM $1 AND x.outcome = $2)";
    let outcome_text = outcome.map_or("", Outcome::as_str);
    let (rows, total) = match scope {
        CreditScope::Market(id) if outcome == Some(Outcome::Unmatched) => {
            let rows = dispatch!(store, pool => sqlx::query_as::<_, CreditRow>(UNMATCHED_OF_MARKET)
                .bind(id).bind(page.size).bind(page.offset())
                .fetch_all(pool).await)?;
            let total: i64 = dispatch!(store, pool => sqlx::query_scalar(COUNT_UNMATCHED_OF_MARKET)
                .bind(id).fetch_one(pool).await)?;
            (rows, total)
        }
        CreditScope::Market(id) => {
            let rows = dispatch!(store, pool => sqlx::query_as::<_, CreditRow>(BY_MARKET)
                .bind(id).bind(outcome_text).bind(page.size).bind(page.offset())
                .fetch_all(pool).await)?;
            let total: i64 = dispatch!(store, pool => sqlx::query_scalar(COUNT_MARKET)
                .bind(id).bind(outcome_text).fetch_one(pool).await)?;
            (rows, total)
        }
        CreditScope::Stall(id) => {
            let reach = page.offset().saturating_add(page.size);
            let rows = dispatch!(store, pool => sqlx::query_as::<_, CreditRow>(BY_STALL)
                .bind(id).bind(outcome_text).bind(page.size).bind(page.offset()).bind(reach)
                .fetch_all(pool).await)?;
            let total: i64 = match outcome {
                None => dispatch!(store, pool => sqlx::query_scalar(COUNT_STALL_ALL)
                    .bind(id).fetch_one(pool).await)?,
                Some(_) => dispatch!(store, pool => sqlx::query_scalar(COUNT_STALL_OF)
                    .bind(id).bind(outcome_text).fetch_one(pool).await)?,
            };
            (rows, total)
        }
    };
    Ok((rows, total))
}

/// Every credit of a scope, oldest first, in pages of `batch` (for CSV export without holding the
/// whole ledger): rows with id greater than `after_id`.
pub async fn after(
    store: &Store,
    scope: CreditScope,
    after_id: i64,
    batch: i64,
) -> Result<Vec<CreditRow>, StoreError> {
    const BY_MARKET: &str = concat!(
        "SELECT ",
        columns!(),
        from!(),
        "WHERE c.market_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3"
    );
    const BY_STALL: &str = concat!(
        "SELECT ",
        columns!(),
        from!(),
        "WHERE c.id IN (",
        stall_ids!(
            "AND id > $2 ORDER BY id LIMIT $3",
            "AND s.credit_id > $2 ORDER BY s.credit_id LIMIT $3"
        ),
        ") ORDER BY c.id LIMIT $3"
    );
    let (sql, id) = match scope {
        CreditScope::Market(id) => (BY_MARKET, id),
        CreditScope::Stall(id) => (BY_STALL, id),
    };
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, CreditRow>(sql).bind(id).bind(after_id).bind(batch).fetch_all(pool).await)?,
    )
}

/// The credit with this id.
pub async fn by_id(store: &Store, id: i64) -> Result<Option<CreditRow>, StoreError> {
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, CreditRow>(SELECT_BY_ID).bind(id).fetch_optional(pool).await)?,
    )
}

/// Gives an unmatched credit to a stall after review: a new assignment entry and the rollups move;
/// the credit row itself never changes. `None` when it was already assigned.
pub async fn assign(
    store: &Store,
    credit: &CreditRow,
    stall_id: i64,
    note: &str,
    token_id: Option<i64>,
    now_ms: i64,
) -> Result<Option<CreditRow>, StoreError> {
    const INSERT: &str = "INSERT INTO credit_assignments (credit_id, stall_id, note, token_id, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (credit_id) DO NOTHING RETURNING id";
    // The money leaves the market's suspense row of its day and joins the stall's.
    const OUT_OF_SUSPENSE: &str = "UPDATE credit_days SET unmatched_credits = unmatched_credits - 1, \
         unmatched_amount_dong = unmatched_amount_dong - $4, credits = credits - 1, amount_dong = amount_dong - $4 \
         WHERE market_id = $1 AND stall_id = $2 AND day = $3";
    const INTO_STALL: &str = "INSERT INTO credit_days (market_id, stall_id, day, credits, amount_dong, assigned_credits, \
         assigned_amount_dong) VALUES ($1, $2, $3, 1, $4, 1, $4) \
         ON CONFLICT (market_id, stall_id, day) DO UPDATE SET credits = credit_days.credits + 1, \
         amount_dong = credit_days.amount_dong + excluded.amount_dong, \
         assigned_credits = credit_days.assigned_credits + 1, \
         assigned_amount_dong = credit_days.assigned_amount_dong + excluded.amount_dong";
    let assigned = write_transaction!(store, tx => {
        let inserted: Option<i64> = sqlx::query_scalar(INSERT)
            .bind(credit.id).bind(stall_id).bind(note).bind(token_id).bind(now_ms)
            .fetch_optional(&mut *tx).await?;
        if inserted.is_some() {
            sqlx::query(OUT_OF_SUSPENSE)
                .bind(credit.market_id).bind(0_i64).bind(credit.day).bind(credit.amount_dong)
                .execute(&mut *tx).await?;
            sqlx::query(INTO_STALL)
                .bind(credit.market_id).bind(stall_id).bind(credit.day).bind(credit.amount_dong)
                .execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<bool, sqlx::Error>(inserted.is_some())
    })?;
    if assigned {
        by_id(store, credit.id).await
    } else {
        Ok(None)
    }
}

/// A stall's figures for a day.
pub async fn stall_day(store: &Store, stall_id: i64, day: Day) -> Result<DayTotal, StoreError> {
    const SQL: &str = "SELECT CAST(COALESCE(SUM(credits), 0) AS BIGINT), CAST(COALESCE(SUM(amount_dong), 0) AS BIGINT) \
         FROM credit_days WHERE stall_id = $1 AND day = $2";
    let (credits, amount_dong): (i64, i64) = dispatch!(store, pool => sqlx::query_as(SQL)
        .bind(stall_id).bind(day.number()).fetch_one(pool).await)?;
    Ok(DayTotal {
        day,
        credits,
        amount_dong,
    })
}

/// Daily figures of a market (all stalls and its suspense) or of one stall, between two days.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DailyRow {
    /// `YYYYMMDD`.
    pub day: i64,
    /// Credits.
    pub credits: i64,
    /// Their sum.
    pub amount_dong: i64,
    /// Credits that paid an order.
    pub dynamic_credits: i64,
    /// Their sum.
    pub dynamic_amount_dong: i64,
    /// Credits on a static poster.
    pub static_credits: i64,
    /// Their sum.
    pub static_amount_dong: i64,
    /// Credits waiting for review.
    pub unmatched_credits: i64,
    /// Their sum.
    pub unmatched_amount_dong: i64,
    /// Credits given to a stall after review.
    pub assigned_credits: i64,
    /// Their sum.
    pub assigned_amount_dong: i64,
}

macro_rules! sum_columns {
    () => {
        "CAST(SUM(credits) AS BIGINT) AS credits, CAST(SUM(amount_dong) AS BIGINT) AS amount_dong, \
         CAST(SUM(dynamic_credits) AS BIGINT) AS dynamic_credits, CAST(SUM(dynamic_amount_dong) AS BIGINT) AS dynamic_amount_dong, \
         CAST(SUM(static_credits) AS BIGINT) AS static_credits, CAST(SUM(static_amount_dong) AS BIGINT) AS static_amount_dong, \
         CAST(SUM(unmatched_credits) AS BIGINT) AS unmatched_credits, CAST(SUM(unmatched_amount_dong) AS BIGINT) AS unmatched_amount_dong, \
         CAST(SUM(assigned_credits) AS BIGINT) AS assigned_credits, CAST(SUM(assigned_amount_dong) AS BIGINT) AS assigned_amount_dong"
    };
}

/// The sums of a [`DailyRow`] (without its day), over rollup rows (`credit_days`: a stall's
/// day; `market_days`: a shard of a market's day) grouped by day.
pub(crate) const DAILY_SUM_COLUMNS: &str = sum_columns!();

/// A market's daily sums (its stalls and its suspense) for `market_id = $1 AND day BETWEEN $2 AND
/// $3`: its own rollup (migration 0009), a row per day and ledger writer, not one per stall.
pub(crate) const DAILY_BY_MARKET: &str = concat!(
    "SELECT day, ",
    sum_columns!(),
    " FROM market_days WHERE market_id = $1 AND day BETWEEN $2 AND $3 GROUP BY day ORDER BY day"
);
/// A stall's daily sums for `stall_id = $1 AND day BETWEEN $2 AND $3`.
const DAILY_BY_STALL: &str = concat!(
    "SELECT day, ",
    sum_columns!(),
    " FROM credit_days WHERE stall_id = $1 AND day BETWEEN $2 AND $3 GROUP BY day ORDER BY day"
);

impl DailyRow {
    /// The day and its totals by kind; `None` for a day number that is not a date.
    pub fn totals(&self) -> Option<(Day, Totals)> {
        let tally = |count, amount_dong| Tally { count, amount_dong };
        Some((
            Day::from_number(self.day)?,
            Totals {
                dynamic: tally(self.dynamic_credits, self.dynamic_amount_dong),
                fixed: tally(self.static_credits, self.static_amount_dong),
                unmatched: tally(self.unmatched_credits, self.unmatched_amount_dong),
                assigned: tally(self.assigned_credits, self.assigned_amount_dong),
            },
        ))
    }
}

/// Daily totals, oldest first, for days in `from..=to`.
pub async fn daily(
    store: &Store,
    scope: CreditScope,
    from: Day,
    to: Day,
) -> Result<Vec<DailyRow>, StoreError> {
    let (sql, id) = match scope {
        CreditScope::Market(id) => (DAILY_BY_MARKET, id),
        CreditScope::Stall(id) => (DAILY_BY_STALL, id),
    };
    Ok(dispatch!(store, pool => sqlx::query_as::<_, DailyRow>(sql)
        .bind(id).bind(from.number()).bind(to.number()).fetch_all(pool).await)?)
}

/// An authentic delivery kept for review.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReviewRow {
    /// Id.
    pub id: i64,
    /// Channel.
    pub channel_id: i64,
    /// `unusable` or `conflict`.
    pub kind: String,
    /// Why.
    pub reason: String,
    /// The transaction id, when known.
    pub provider_txn_id: Option<String>,
    /// The body as received.
    pub raw_body: Vec<u8>,
    /// When.
    pub received_at_ms: i64,
}

/// A page of a market's kept deliveries, newest first.
pub async fn reviews(
    store: &Store,
    market_id: i64,
    page: Page,
) -> Result<Vec<ReviewRow>, StoreError> {
    const SQL: &str = "SELECT id, channel_id, kind, reason, provider_txn_id, raw_body, received_at_ms \
         FROM webhook_reviews WHERE market_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3";
    Ok(dispatch!(store, pool => sqlx::query_as::<_, ReviewRow>(SQL)
        .bind(market_id).bind(page.size).bind(page.offset()).fetch_all(pool).await)?)
}
