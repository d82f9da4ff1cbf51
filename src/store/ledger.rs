//! Recording a batch of bank credits: one write transaction and a handful of statements for the
//! whole batch, whatever its size.
//!
//! 1. Look up, per channel, which transactions were recorded before (one query).
//! 2. Lock the orders whose references the credits carry (one query, in reference order).
//! 3. Look up the stalls whose accounts received credits without an order (one query per market).
//! 4. Decide each credit in memory with [`matching::decide`], in a fixed order, carrying each
//!    order's paid total from one credit to the next.
//! 5. Insert the new credits (one statement, `ON CONFLICT DO NOTHING`), update the orders (one
//!    statement) and the day's rollups (one statement), then commit.
//!
//! Exactly-once rests on the database: `UNIQUE (channel_id, provider_txn_id)`. If another writer
//! (another server on the same PostgreSQL) records one of the batch's transactions between steps
//! 1 and 5, the insert comes back short and the whole batch is rolled back with
//! [`StoreError::Race`], to be tried again.
//!
//! The statements are built for the batch's size and prepared once per size (sqlx's statement
//! cache), so a busy server reuses them.
//!
//! Deadlock-free with several writers: every transaction takes its locks in one global order —
//! orders by reference, then new ledger keys by (channel, transaction id), then rollup rows by
//! key — so no two batches can wait on each other in a cycle.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::QueryBuilder;

use crate::domain::credit::BankCredit;
use crate::domain::day::Day;
use crate::domain::matching::{self, Decision, MatchInput, OrderFacts};
use crate::domain::money::Vnd;
use crate::domain::order::{OrderStatus, Outcome};
use crate::domain::reference::{self, Reference};
use crate::write_transaction;

use super::credits::{
    CreditRow, DayTotal, INSERT_REVIEW, Recorded, columns as credit_columns, from as credit_from,
};
use super::orders::{OrderRow, columns as order_columns};
use super::{Backend, Store, StoreError};

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

/// What the batch decided for one delivery.
#[derive(Debug, Clone)]
enum Plan {
    /// Recorded before this batch.
    Existing(Box<CreditRow>),
    /// The same transaction as an earlier delivery of this batch (by index).
    SameAs(usize),
    /// A new ledger row.
    New { decision: Decision, day: Day },
}

/// What a batch adds to one rollup row.
#[derive(Debug, Default, Clone, Copy)]
struct RollupDelta {
    credits: i64,
    amount_dong: i64,
    /// (credits, amount) for dynamic, static and unmatched credits.
    by_kind: [(i64, i64); 3],
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

fn duplicate_or_conflict(row: CreditRow, credit: &BankCredit) -> Recorded {
    if row.amount_dong == credit.amount.to_dong() {
        Recorded::Duplicate(row)
    } else {
        Recorded::Conflict(row)
    }
}

/// The new ledger row, as the insert wrote it.
fn new_row(id: i64, item: &CreditInput<'_>, decision: &Decision, day: Day) -> CreditRow {
    let credit = item.credit;
    CreditRow {
        id,
        channel_id: item.channel_id,
        market_id: item.market_id,
        provider_txn_id: credit.provider_txn_id.clone(),
        amount_dong: credit.amount.to_dong(),
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
    }
}

/// The stalls whose payee is this credit's receiving account (among `stalls` of its market).
fn account_stall(credit: &BankCredit, stalls: &[(i64, String, String)]) -> Option<i64> {
    let paid: Vec<i64> = stalls
        .iter()
        .filter(|(_, bin, account)| matching::pays_account(credit, bin, account) == Some(true))
        .map(|(id, ..)| *id)
        .collect();
    // Two stalls on one account cannot be told apart: leave it for review.
    match paid.as_slice() {
        [only] => Some(*only),
        _ => None,
    }
}

/// Records a batch of authentic deliveries in one write transaction; each gets its [`Recorded`],
/// in the order given. Any failure rolls the whole batch back, so the caller must not
/// acknowledge any of it.
pub async fn record_batch(
    store: &Store,
    items: &[CreditInput<'_>],
    now_ms: i64,
) -> Result<Vec<Recorded>, StoreError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let lock_orders = match store.backend() {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    };
    let candidates: Vec<Vec<Reference>> = items
        .iter()
        .map(|i| candidate_references(i.credit))
        .collect();
    // The fixed order of decisions and inserts: see the module documentation.
    let mut sequence: Vec<usize> = (0..items.len()).collect();
    sequence.sort_by(|&a, &b| {
        let key = |i: usize| {
            let reference = candidates
                .get(i)
                .and_then(|c| c.first())
                .map_or("~", Reference::as_str);
            let item = items.get(i);
            (
                reference,
                item.map(|i| i.channel_id),
                item.map(|i| i.credit.provider_txn_id.as_str()),
            )
        };
        key(a).cmp(&key(b))
    });

    write_transaction!(store, tx => {
        // 1. Transactions recorded before, per channel.
        let mut by_channel: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
        for item in items {
            by_channel.entry(item.channel_id).or_default().insert(&item.credit.provider_txn_id);
        }
        let mut existing: HashMap<(i64, String), CreditRow> = HashMap::new();
        for (channel_id, txn_ids) in &by_channel {
            let mut query = QueryBuilder::new(concat!("SELECT ", credit_columns!(), credit_from!(), "WHERE c.channel_id = "));
            query.push_bind(*channel_id).push(" AND c.provider_txn_id IN (");
            let mut list = query.separated(", ");
            for txn_id in txn_ids {
                list.push_bind(*txn_id);
            }
            query.push(")");
            let rows: Vec<CreditRow> = query.build_query_as().fetch_all(&mut *tx).await?;
            for row in rows {
                existing.insert((row.channel_id, row.provider_txn_id.clone()), row);
            }
        }

        // 2. The orders the new credits' references name, locked in reference order.
        let references: BTreeSet<&str> = items
            .iter()
            .zip(&candidates)
            .filter(|(item, _)| !existing.contains_key(&(item.channel_id, item.credit.provider_txn_id.clone())))
            .flat_map(|(_, refs)| refs.iter().map(Reference::as_str))
            .collect();
        let mut orders: HashMap<String, OrderRow> = HashMap::new();
        if !references.is_empty() {
            let mut query = QueryBuilder::new(concat!("SELECT ", order_columns!(), " FROM orders WHERE reference IN ("));
            let mut list = query.separated(", ");
            for reference in &references {
                list.push_bind(*reference);
            }
            query.push(") ORDER BY reference").push(lock_orders);
            let rows: Vec<OrderRow> = query.build_query_as().fetch_all(&mut *tx).await?;
            orders.extend(rows.into_iter().map(|row| (row.reference.clone(), row)));
        }
        let order_of = |index: usize, market_id: i64| -> Option<&OrderRow> {
            candidates
                .get(index)?
                .iter()
                .find_map(|r| orders.get(r.as_str()).filter(|o| o.market_id == market_id))
        };

        // 3. The stalls behind the receiving accounts of credits without an order, per market.
        let mut accounts: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
        for (index, item) in items.iter().enumerate() {
            if order_of(index, item.market_id).is_some() {
                continue;
            }
            for account in [item.credit.account.as_deref(), item.credit.virtual_account.as_deref()] {
                if let Some(account) = account.and_then(matching::account_lookup_key) {
                    accounts.entry(item.market_id).or_default().insert(account);
                }
            }
        }
        let mut stalls: HashMap<i64, Vec<(i64, String, String)>> = HashMap::new();
        for (market_id, wanted) in &accounts {
            let mut query = QueryBuilder::new(
                "SELECT id, payee_bin, payee_account FROM stalls WHERE payee_bin IS NOT NULL AND market_id = ",
            );
            query.push_bind(*market_id).push(" AND payee_account IN (");
            let mut list = query.separated(", ");
            for account in wanted {
                list.push_bind(account.as_str());
            }
            query.push(")");
            let rows: Vec<(i64, String, String)> = query.build_query_as().fetch_all(&mut *tx).await?;
            stalls.insert(*market_id, rows);
        }

        // 4. Decisions, in the fixed order, each order's state carried from credit to credit.
        let mut order_state: HashMap<i64, OrderFacts> = HashMap::new();
        let mut first_index: HashMap<(i64, &str), usize> = HashMap::new();
        let mut plans: Vec<Option<Plan>> = vec![None; items.len()];
        for &index in &sequence {
            let (Some(item), Some(slot)) = (items.get(index), plans.get_mut(index)) else { continue };
            let credit = item.credit;
            if let Some(row) = existing.get(&(item.channel_id, credit.provider_txn_id.clone())) {
                *slot = Some(Plan::Existing(Box::new(row.clone())));
                continue;
            }
            if let Some(&first) = first_index.get(&(item.channel_id, credit.provider_txn_id.as_str())) {
                *slot = Some(Plan::SameAs(first));
                continue;
            }
            first_index.insert((item.channel_id, credit.provider_txn_id.as_str()), index);
            let facts = order_of(index, item.market_id).and_then(|row| {
                order_state.get(&row.id).cloned().or_else(|| order_facts(row))
            });
            let account_stall = match &facts {
                Some(_) => None,
                None => stalls.get(&item.market_id).and_then(|s| account_stall(credit, s)),
            };
            let decision = matching::decide(&MatchInput {
                credit,
                order: facts.as_ref(),
                account_stall,
                received_at_ms: item.received_at_ms,
            });
            if let (Some(mut facts), Some(status), Some(paid)) = (facts, decision.order_status, decision.order_paid_dong) {
                facts.status = status;
                facts.paid_dong = paid;
                order_state.insert(facts.order_id, facts);
            }
            *slot = Some(Plan::New { decision, day: Day::of_ms(item.received_at_ms) });
        }

        // 5a. The new credits, in the fixed order.
        let new: Vec<usize> = sequence
            .iter()
            .copied()
            .filter(|&i| matches!(plans.get(i), Some(Some(Plan::New { .. }))))
            .collect();
        let mut ids: HashMap<(i64, String), i64> = HashMap::new();
        if !new.is_empty() {
            let mut query = QueryBuilder::new(
                "INSERT INTO credits (channel_id, market_id, provider_txn_id, amount_dong, account, bin, virtual_account, \
                 description, counterparty_name, counterparty_account, counterparty_bank, booked_at_ms, received_at_ms, day, \
                 stall_id, order_id, outcome, note, raw_body) ",
            );
            query.push_values(new.iter().filter_map(|&i| Some((items.get(i)?, plans.get(i)?.as_ref()?))), |mut row, (item, plan)| {
                let Plan::New { decision, day } = plan else { return };
                let credit = item.credit;
                row.push_bind(item.channel_id)
                    .push_bind(item.market_id)
                    .push_bind(credit.provider_txn_id.as_str())
                    .push_bind(credit.amount.to_dong())
                    .push_bind(credit.account.as_deref())
                    .push_bind(credit.bin.as_deref())
                    .push_bind(credit.virtual_account.as_deref())
                    .push_bind(credit.description.as_str())
                    .push_bind(credit.counterparty_name.as_deref())
                    .push_bind(credit.counterparty_account.as_deref())
                    .push_bind(credit.counterparty_bank.as_deref())
                    .push_bind(credit.booked_at_ms)
                    .push_bind(item.received_at_ms)
                    .push_bind(day.number())
                    .push_bind(decision.stall_id)
                    .push_bind(decision.order_id)
                    .push_bind(decision.outcome.as_str())
                    .push_bind(decision.note)
                    .push_bind(item.raw_body);
            });
            query.push(" ON CONFLICT (channel_id, provider_txn_id) DO NOTHING RETURNING id, channel_id, provider_txn_id");
            let rows: Vec<(i64, i64, String)> = query.build_query_as().fetch_all(&mut *tx).await?;
            if rows.len() != new.len() {
                return Err(StoreError::Race("another writer recorded one of these transactions meanwhile"));
            }
            ids.extend(rows.into_iter().map(|(id, channel, txn)| ((channel, txn), id)));
        }

        // 5b. The orders' paid totals and statuses.
        let mut updated: HashMap<i64, OrderRow> = HashMap::new();
        if !order_state.is_empty() {
            let mut query = QueryBuilder::new("UPDATE orders SET paid_dong = v.column2, status = v.column3, updated_at_ms = ");
            query.push_bind(now_ms).push(" FROM (");
            let mut states: Vec<&OrderFacts> = order_state.values().collect();
            states.sort_by_key(|f| f.order_id);
            query.push_values(states, |mut row, facts| {
                row.push_bind(facts.order_id).push_bind(facts.paid_dong).push_bind(facts.status.as_str());
            });
            query.push(") AS v WHERE orders.id = v.column1 RETURNING ");
            query.push(order_columns!());
            let rows: Vec<OrderRow> = query.build_query_as().fetch_all(&mut *tx).await?;
            updated.extend(rows.into_iter().map(|row| (row.id, row)));
        }

        // 5c. The day's rollups, one row per (market, stall or 0, day), in key order.
        let mut rollups: BTreeMap<(i64, i64, i64), RollupDelta> = BTreeMap::new();
        for &index in &new {
            if let (Some(item), Some(Some(Plan::New { decision, day }))) = (items.get(index), plans.get(index)) {
                let amount = item.credit.amount.to_dong();
                let delta = rollups.entry((item.market_id, decision.stall_id.unwrap_or(0), day.number())).or_default();
                delta.credits += 1;
                delta.amount_dong += amount;
                if let Some(kind) = delta.by_kind.get_mut(rollup_kind(decision.outcome)) {
                    kind.0 += 1;
                    kind.1 += amount;
                }
            }
        }
        let mut totals: HashMap<(i64, i64), DayTotal> = HashMap::new();
        if !rollups.is_empty() {
            let mut query = QueryBuilder::new(
                "INSERT INTO credit_days (market_id, stall_id, day, credits, amount_dong, dynamic_credits, dynamic_amount_dong, \
                 static_credits, static_amount_dong, unmatched_credits, unmatched_amount_dong) ",
            );
            query.push_values(&rollups, |mut row, (&(market_id, stall_id, day), delta)| {
                let [dynamic, fixed, unmatched] = delta.by_kind;
                row.push_bind(market_id)
                    .push_bind(stall_id)
                    .push_bind(day)
                    .push_bind(delta.credits)
                    .push_bind(delta.amount_dong)
                    .push_bind(dynamic.0)
                    .push_bind(dynamic.1)
                    .push_bind(fixed.0)
                    .push_bind(fixed.1)
                    .push_bind(unmatched.0)
                    .push_bind(unmatched.1);
            });
            query.push(
                " ON CONFLICT (market_id, stall_id, day) DO UPDATE SET credits = credit_days.credits + excluded.credits, \
                 amount_dong = credit_days.amount_dong + excluded.amount_dong, \
                 dynamic_credits = credit_days.dynamic_credits + excluded.dynamic_credits, \
                 dynamic_amount_dong = credit_days.dynamic_amount_dong + excluded.dynamic_amount_dong, \
                 static_credits = credit_days.static_credits + excluded.static_credits, \
                 static_amount_dong = credit_days.static_amount_dong + excluded.static_amount_dong, \
                 unmatched_credits = credit_days.unmatched_credits + excluded.unmatched_credits, \
                 unmatched_amount_dong = credit_days.unmatched_amount_dong + excluded.unmatched_amount_dong \
                 RETURNING stall_id, day, credits, amount_dong",
            );
            let rows: Vec<(i64, i64, i64, i64)> = query.build_query_as().fetch_all(&mut *tx).await?;
            for (stall_id, day, credits, amount_dong) in rows {
                if let (true, Some(day)) = (stall_id != 0, Day::from_number(day)) {
                    totals.insert((stall_id, day.number()), DayTotal { day, credits, amount_dong });
                }
            }
        }

        // The answers, in the order given.
        let mut rows: HashMap<usize, CreditRow> = HashMap::new();
        for (index, item) in items.iter().enumerate() {
            if let Some(Some(Plan::New { decision, day })) = plans.get(index) {
                let id = ids.get(&(item.channel_id, item.credit.provider_txn_id.clone())).copied().unwrap_or_default();
                rows.insert(index, new_row(id, item, decision, *day));
            }
        }
        let mut results: Vec<Recorded> = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let original = |first: usize| match plans.get(first) {
                Some(Some(Plan::Existing(row))) => Some((**row).clone()),
                _ => rows.get(&first).cloned(),
            };
            let result = match plans.get(index).cloned().flatten() {
                Some(Plan::Existing(row)) => duplicate_or_conflict(*row, item.credit),
                Some(Plan::SameAs(first)) => match original(first) {
                    Some(row) => duplicate_or_conflict(row, item.credit),
                    None => return Err(StoreError::Race("a repeated delivery lost its original")),
                },
                Some(Plan::New { decision, day }) => {
                    let Some(row) = rows.get(&index).cloned() else {
                        return Err(StoreError::Race("a new credit lost its row"));
                    };
                    let order = decision.order_id.and_then(|id| updated.get(&id).cloned());
                    let today = decision.stall_id.and_then(|stall| totals.get(&(stall, day.number())).copied());
                    Recorded::New { credit: Box::new(row), order, today }
                }
                None => return Err(StoreError::Race("a delivery was not planned")),
            };
            results.push(result);
        }

        // Deliveries that contradict a recorded transaction are kept for review.
        for (result, item) in results.iter().zip(items) {
            if let Recorded::Conflict(original) = result {
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
        Ok(results)
    })
}
