//! The ledger: append-only credits, recorded in batches (one transaction, one commit for many
//! deliveries), each matched to an order or a stall inside the transaction that records it, with
//! its order and the day's rollup updated in the same commit.
//!
//! Exactly-once rests on the database: `UNIQUE (channel_id, provider_txn_id)` and
//! `INSERT … ON CONFLICT DO NOTHING`, so concurrent duplicates, from this process or another,
//! cannot both land.

use std::collections::BTreeMap;

use crate::domain::credit::BankCredit;
use crate::domain::day::Day;
use crate::domain::matching::{self, Decision, MatchInput, OrderFacts};
use crate::domain::money::Vnd;
use crate::domain::order::{OrderStatus, Outcome};
use crate::domain::reference::{self, Reference};

use crate::{dispatch, write_transaction};

use super::orders::{OrderRow, columns as order_columns};
use super::{Backend, Page, Store, StoreError};

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

/// One authentic delivery to record.
#[derive(Debug, Clone, Copy)]
pub struct CreditInput<'a> {
    /// Its channel.
    pub channel_id: i64,
    /// The channel's market.
    pub market_id: i64,
    /// The normalized credit.
    pub credit: &'a BankCredit,
    /// The body exactly as received.
    pub raw_body: &'a [u8],
    /// When it was received.
    pub received_at_ms: i64,
}

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

/// The rollup columns a credit adds to, by outcome.
fn rollup_kind(outcome: Outcome) -> usize {
    match outcome {
        Outcome::OrderPaid
        | Outcome::OrderUnderpaid
        | Outcome::OrderOverpaid
        | Outcome::OrderLate => 0,
        Outcome::StaticPayment => 1,
        Outcome::Unmatched => 2,
    }
}

const SELECT_EXISTING: &str = concat!(
    "SELECT ",
    columns!(),
    from!(),
    "WHERE c.channel_id = $1 AND c.provider_txn_id = $2"
);
const SELECT_BY_ID: &str = concat!("SELECT ", columns!(), from!(), "WHERE c.id = $1");
const INSERT_CREDIT: &str = "INSERT INTO credits (channel_id, market_id, provider_txn_id, amount_dong, account, bin, \
     virtual_account, description, counterparty_name, counterparty_account, counterparty_bank, booked_at_ms, \
     received_at_ms, day, stall_id, order_id, outcome, note, raw_body) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
     ON CONFLICT (channel_id, provider_txn_id) DO NOTHING RETURNING id";
const SELECT_STALLS_BY_ACCOUNT: &str = "SELECT id, payee_bin, payee_account FROM stalls \
     WHERE market_id = $1 AND payee_account IN ($2, $3)";
const UPDATE_ORDER: &str = concat!(
    "UPDATE orders SET paid_dong = $2, status = $3, updated_at_ms = $4 WHERE id = $1 RETURNING ",
    order_columns!()
);
const UPSERT_DAY: &str = "INSERT INTO credit_days (market_id, stall_id, day, credits, amount_dong, \
     dynamic_credits, dynamic_amount_dong, static_credits, static_amount_dong, unmatched_credits, unmatched_amount_dong) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
     ON CONFLICT (market_id, stall_id, day) DO UPDATE SET credits = credit_days.credits + excluded.credits, \
     amount_dong = credit_days.amount_dong + excluded.amount_dong, \
     dynamic_credits = credit_days.dynamic_credits + excluded.dynamic_credits, \
     dynamic_amount_dong = credit_days.dynamic_amount_dong + excluded.dynamic_amount_dong, \
     static_credits = credit_days.static_credits + excluded.static_credits, \
     static_amount_dong = credit_days.static_amount_dong + excluded.static_amount_dong, \
     unmatched_credits = credit_days.unmatched_credits + excluded.unmatched_credits, \
     unmatched_amount_dong = credit_days.unmatched_amount_dong + excluded.unmatched_amount_dong \
     RETURNING credits, amount_dong";
const INSERT_REVIEW: &str = "INSERT INTO webhook_reviews (channel_id, market_id, kind, reason, provider_txn_id, raw_body, \
     received_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Account numbers as stored: letters and digits, upper case.
fn normalized_account(text: Option<&str>) -> Option<String> {
    let account: String = text?
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (!account.is_empty()).then_some(account)
}

/// The references a credit may carry: the provider's extracted code first, then the description's.
fn candidate_references(credit: &BankCredit) -> Vec<Reference> {
    let mut found: Vec<Reference> = credit
        .payment_code
        .as_deref()
        .map(reference::extract)
        .unwrap_or_default();
    for candidate in reference::extract(&credit.description) {
        if !found.contains(&candidate) {
            found.push(candidate);
        }
    }
    found
}

fn order_facts(row: &OrderRow) -> Option<OrderFacts> {
    Some(OrderFacts {
        order_id: row.id,
        stall_id: row.stall_id,
        amount: Vnd::from_dong(row.amount_dong).ok()?,
        paid_dong: row.paid_dong,
        status: OrderStatus::parse(&row.status)?,
        expires_at_ms: row.expires_at_ms,
        payee_bin: row.payee_bin.clone(),
        payee_account: row.payee_account.clone(),
    })
}

/// What a batch adds to one rollup row: (market, stall or 0, day).
#[derive(Debug, Default, Clone, Copy)]
struct RollupDelta {
    credits: i64,
    amount_dong: i64,
    by_kind: [(i64, i64); 3],
}

/// Records a batch of authentic deliveries in one write transaction; each gets its [`Recorded`],
/// in the order given. Any database failure fails the whole batch and nothing of it is kept, so
/// the caller must not acknowledge any of it.
///
/// Deadlock-free with several writers (PostgreSQL): every transaction takes its row locks in
/// one global order — order rows and ledger keys in the order of (reference, channel,
/// transaction id), then rollup rows in key order — so no two batches can wait on each other
/// in a cycle.
pub async fn record_batch(
    store: &Store,
    items: &[CreditInput<'_>],
    now_ms: i64,
) -> Result<Vec<Recorded>, StoreError> {
    // PostgreSQL may run several writers: lock the order row being paid.
    const SELECT_ORDER: &str = concat!(
        "SELECT ",
        order_columns!(),
        " FROM orders WHERE market_id = $1 AND reference = $2"
    );
    const SELECT_ORDER_LOCKED: &str = concat!(
        "SELECT ",
        order_columns!(),
        " FROM orders WHERE market_id = $1 AND reference = $2 FOR UPDATE"
    );
    let select_order = match store.backend() {
        Backend::Sqlite => SELECT_ORDER,
        Backend::Postgres => SELECT_ORDER_LOCKED,
    };
    let candidates: Vec<Vec<Reference>> = items
        .iter()
        .map(|item| candidate_references(item.credit))
        .collect();
    let mut sequence: Vec<usize> = (0..items.len()).collect();
    sequence.sort_by(|&a, &b| {
        let key = |i: usize| {
            let item = &items[i];
            let reference = candidates[i].first().map_or("~", Reference::as_str);
            (
                reference,
                item.channel_id,
                item.credit.provider_txn_id.as_str(),
            )
        };
        key(a).cmp(&key(b))
    });
    let mut results: Vec<Option<Recorded>> = vec![None; items.len()];
    let mut rollups: BTreeMap<(i64, i64, i64), RollupDelta> = BTreeMap::new();
    write_transaction!(store, tx => {
        for &index in &sequence {
            let (Some(item), Some(references), Some(slot)) = (items.get(index), candidates.get(index), results.get_mut(index))
            else {
                continue;
            };
            let credit = item.credit;
            // Match first, then insert-or-nothing: a new credit (the common case) costs no look
            // for a duplicate; a duplicate's decision is simply not applied.
            let mut order_row = None;
            for candidate in references {
                let row: Option<OrderRow> = sqlx::query_as(select_order)
                    .bind(item.market_id)
                    .bind(candidate.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                if row.is_some() {
                    order_row = row;
                    break;
                }
            }
            let facts = order_row.as_ref().and_then(order_facts);
            let mut account_stall = None;
            let account = normalized_account(credit.account.as_deref());
            let virtual_account = normalized_account(credit.virtual_account.as_deref());
            if facts.is_none() && (account.is_some() || virtual_account.is_some()) {
                let stalls: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(SELECT_STALLS_BY_ACCOUNT)
                    .bind(item.market_id)
                    .bind(account.as_deref().unwrap_or(""))
                    .bind(virtual_account.as_deref().unwrap_or(""))
                    .fetch_all(&mut *tx)
                    .await?;
                let paid: Vec<i64> = stalls
                    .iter()
                    .filter_map(|(id, bin, acc)| match (bin, acc) {
                        (Some(bin), Some(acc)) if matching::pays_account(credit, bin, acc) == Some(true) => Some(*id),
                        _ => None,
                    })
                    .collect();
                // Two stalls on one account cannot be told apart: leave it for review.
                if let [only] = paid.as_slice() {
                    account_stall = Some(*only);
                }
            }
            let decision: Decision = matching::decide(&MatchInput {
                credit,
                order: facts.as_ref(),
                account_stall,
                received_at_ms: item.received_at_ms,
            });

            let day = Day::of_ms(item.received_at_ms);
            let amount = credit.amount.to_dong();
            let inserted: Option<i64> = sqlx::query_scalar(INSERT_CREDIT)
                .bind(item.channel_id)
                .bind(item.market_id)
                .bind(&credit.provider_txn_id)
                .bind(amount)
                .bind(&credit.account)
                .bind(&credit.bin)
                .bind(&credit.virtual_account)
                .bind(&credit.description)
                .bind(&credit.counterparty_name)
                .bind(&credit.counterparty_account)
                .bind(&credit.counterparty_bank)
                .bind(credit.booked_at_ms)
                .bind(item.received_at_ms)
                .bind(day.number())
                .bind(decision.stall_id)
                .bind(decision.order_id)
                .bind(decision.outcome.as_str())
                .bind(decision.note)
                .bind(item.raw_body)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(credit_id) = inserted else {
                // Recorded before (by an earlier delivery, this batch, or another writer).
                let row: CreditRow = sqlx::query_as(SELECT_EXISTING)
                    .bind(item.channel_id)
                    .bind(&credit.provider_txn_id)
                    .fetch_one(&mut *tx)
                    .await?;
                *slot = Some(duplicate_or_conflict(row, credit));
                continue;
            };

            let mut order = None;
            if let (Some(order_id), Some(status), Some(paid)) =
                (decision.order_id, decision.order_status, decision.order_paid_dong)
            {
                let row: OrderRow = sqlx::query_as(UPDATE_ORDER)
                    .bind(order_id)
                    .bind(paid)
                    .bind(status.as_str())
                    .bind(now_ms)
                    .fetch_one(&mut *tx)
                    .await?;
                order = Some(row);
            }

            let delta = rollups.entry((item.market_id, decision.stall_id.unwrap_or(0), day.number())).or_default();
            delta.credits += 1;
            delta.amount_dong += amount;
            if let Some(kind) = delta.by_kind.get_mut(rollup_kind(decision.outcome)) {
                kind.0 += 1;
                kind.1 += amount;
            }
            let row = CreditRow {
                id: credit_id,
                channel_id: item.channel_id,
                market_id: item.market_id,
                provider_txn_id: credit.provider_txn_id.clone(),
                amount_dong: amount,
                account: credit.account.clone(),
                bin: credit.bin.clone(),
                virtual_account: credit.virtual_account.clone(),
                description: credit.description.clone(),
                counterparty_name: credit.counterparty_name.clone(),
                counterparty_account: credit.counterparty_account.clone(),
                counterparty_bank: credit.counterparty_bank.clone(),
                booked_at_ms: credit.booked_at_ms,
                received_at_ms: item.received_at_ms,
                day: day.number(),
                stall_id: decision.stall_id,
                order_id: decision.order_id,
                outcome: decision.outcome.as_str().to_owned(),
                note: decision.note.map(str::to_owned),
                assigned_stall_id: None,
            };
            *slot = Some(Recorded::New { credit: Box::new(row), order, today: None });
        }

        // The day's rollups, one upsert per row the batch touched, in key order.
        let mut totals: BTreeMap<(i64, i64), DayTotal> = BTreeMap::new();
        for (&(market_id, stall_id, day), delta) in &rollups {
            let [dynamic, fixed, unmatched] = delta.by_kind;
            let (credits, amount_dong): (i64, i64) = sqlx::query_as(UPSERT_DAY)
                .bind(market_id)
                .bind(stall_id)
                .bind(day)
                .bind(delta.credits)
                .bind(delta.amount_dong)
                .bind(dynamic.0)
                .bind(dynamic.1)
                .bind(fixed.0)
                .bind(fixed.1)
                .bind(unmatched.0)
                .bind(unmatched.1)
                .fetch_one(&mut *tx)
                .await?;
            if let (true, Some(day)) = (stall_id != 0, Day::from_number(day)) {
                totals.insert((stall_id, day.number()), DayTotal { day, credits, amount_dong });
            }
        }
        for result in results.iter_mut().flatten() {
            if let Recorded::New { credit, today, .. } = result
                && let Some(stall_id) = credit.stall_id
            {
                *today = totals.get(&(stall_id, credit.day)).copied();
            }
        }

        for (index, result) in results.iter().enumerate() {
            if let (Some(Recorded::Conflict(original)), Some(item)) = (result, items.get(index)) {
                let reason = format!(
                    "transaction {} was recorded as {}đ (credit {}); this delivery says {}đ",
                    original.provider_txn_id,
                    original.amount_dong,
                    original.id,
                    item.credit.amount.to_dong()
                );
                sqlx::query(INSERT_REVIEW)
                    .bind(item.channel_id)
                    .bind(item.market_id)
                    .bind("conflict")
                    .bind(reason)
                    .bind(&item.credit.provider_txn_id)
                    .bind(item.raw_body)
                    .bind(item.received_at_ms)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok::<(), sqlx::Error>(())
    })?;
    Ok(results.into_iter().flatten().collect())
}

fn duplicate_or_conflict(row: CreditRow, credit: &BankCredit) -> Recorded {
    if row.amount_dong == credit.amount.to_dong() {
        Recorded::Duplicate(row)
    } else {
        Recorded::Conflict(row)
    }
}

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
    const BY_STALL: &str = concat!(
        "SELECT ",
        columns!(),
        from!(),
        "WHERE (c.stall_id = $1 OR a.stall_id = $1) AND ($2 = '' OR c.outcome = $2) ORDER BY c.id DESC LIMIT $3 OFFSET $4"
    );
    const COUNT_MARKET: &str =
        "SELECT COUNT(*) FROM credits c WHERE c.market_id = $1 AND ($2 = '' OR c.outcome = $2)";
    const COUNT_STALL: &str = concat!(
        "SELECT COUNT(*)",
        from!(),
        "WHERE (c.stall_id = $1 OR a.stall_id = $1) AND ($2 = '' OR c.outcome = $2)"
    );
    let (sql, count, id) = match scope {
        CreditScope::Market(id) => (BY_MARKET, COUNT_MARKET, id),
        CreditScope::Stall(id) => (BY_STALL, COUNT_STALL, id),
    };
    let outcome = outcome.map_or("", Outcome::as_str);
    let rows = dispatch!(store, pool => sqlx::query_as::<_, CreditRow>(sql)
        .bind(id).bind(outcome).bind(page.size).bind(page.offset())
        .fetch_all(pool).await)?;
    let total: i64 = dispatch!(store, pool => sqlx::query_scalar(count).bind(id).bind(outcome).fetch_one(pool).await)?;
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
        "WHERE (c.stall_id = $1 OR a.stall_id = $1) AND c.id > $2 ORDER BY c.id LIMIT $3"
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

/// Daily totals, oldest first, for days in `from..=to`.
pub async fn daily(
    store: &Store,
    scope: CreditScope,
    from: Day,
    to: Day,
) -> Result<Vec<DailyRow>, StoreError> {
    macro_rules! sums {
        () => {
            "SELECT day, CAST(SUM(credits) AS BIGINT) AS credits, CAST(SUM(amount_dong) AS BIGINT) AS amount_dong, \
             CAST(SUM(dynamic_credits) AS BIGINT) AS dynamic_credits, CAST(SUM(dynamic_amount_dong) AS BIGINT) AS dynamic_amount_dong, \
             CAST(SUM(static_credits) AS BIGINT) AS static_credits, CAST(SUM(static_amount_dong) AS BIGINT) AS static_amount_dong, \
             CAST(SUM(unmatched_credits) AS BIGINT) AS unmatched_credits, CAST(SUM(unmatched_amount_dong) AS BIGINT) AS unmatched_amount_dong, \
             CAST(SUM(assigned_credits) AS BIGINT) AS assigned_credits, CAST(SUM(assigned_amount_dong) AS BIGINT) AS assigned_amount_dong \
             FROM credit_days "
        };
    }
    const BY_MARKET: &str = concat!(
        sums!(),
        "WHERE market_id = $1 AND day BETWEEN $2 AND $3 GROUP BY day ORDER BY day"
    );
    const BY_STALL: &str = concat!(
        sums!(),
        "WHERE stall_id = $1 AND day BETWEEN $2 AND $3 GROUP BY day ORDER BY day"
    );
    let (sql, id) = match scope {
        CreditScope::Market(id) => (BY_MARKET, id),
        CreditScope::Stall(id) => (BY_STALL, id),
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
