//! The ledger's column lists and upserts, shared by every way of writing, and the batch
//! statements of the locking way ([`super::locked`]): the reads, the new credits, the orders' new
//! totals and the day rollups. Each of those takes one shape per batch size and stays prepared
//! (sqlx's statement cache).

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Database, Encode, QueryBuilder, Type};

use super::plan::{Batch, Planned};
use crate::store::credits::{columns as credit_columns, from as credit_from};
use crate::store::orders::columns as order_columns;

/// The columns of `credits` the ledger writes (all but the id).
macro_rules! written_columns {
    () => {
        "channel_id, market_id, provider_txn_id, amount_dong, account, bin, virtual_account, \
         description, counterparty_name, counterparty_account, counterparty_bank, booked_at_ms, received_at_ms, day, \
         stall_id, order_id, outcome, note, raw_body"
    };
}
pub(super) use written_columns;

/// `INSERT INTO credits (…)`: the columns the ledger writes.
macro_rules! credits_insert {
    () => {
        concat!(
            "INSERT INTO credits (",
            $crate::store::ledger::sql::written_columns!(),
            ") "
        )
    };
}
pub(super) use credits_insert;

/// `INSERT INTO credit_days (…)`: the rollup columns.
macro_rules! rollups_insert {
    () => {
        "INSERT INTO credit_days (market_id, stall_id, day, credits, amount_dong, dynamic_credits, dynamic_amount_dong, \
         static_credits, static_amount_dong, unmatched_credits, unmatched_amount_dong) "
    };
}
pub(super) use rollups_insert;

/// Adds the inserted rollup rows to the existing ones.
macro_rules! rollups_upsert {
    () => {
        " ON CONFLICT (market_id, stall_id, day) DO UPDATE SET credits = credit_days.credits + excluded.credits, \
         amount_dong = credit_days.amount_dong + excluded.amount_dong, \
         dynamic_credits = credit_days.dynamic_credits + excluded.dynamic_credits, \
         dynamic_amount_dong = credit_days.dynamic_amount_dong + excluded.dynamic_amount_dong, \
         static_credits = credit_days.static_credits + excluded.static_credits, \
         static_amount_dong = credit_days.static_amount_dong + excluded.static_amount_dong, \
         unmatched_credits = credit_days.unmatched_credits + excluded.unmatched_credits, \
         unmatched_amount_dong = credit_days.unmatched_amount_dong + excluded.unmatched_amount_dong"
    };
}
pub(super) use rollups_upsert;

/// Adds the inserted rollup rows to the existing ones and returns each row as it is after.
macro_rules! add_to_rollups {
    () => {
        concat!(
            $crate::store::ledger::sql::rollups_upsert!(),
            " RETURNING stall_id, day, credits, amount_dong"
        )
    };
}
pub(super) use add_to_rollups;

/// The credits of one channel recorded before, among `txn_ids`.
pub(super) fn recorded_before<DB: Database>(
    channel_id: i64,
    txn_ids: &BTreeSet<&str>,
) -> QueryBuilder<DB>
where
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> &'t str: Encode<'t, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new(concat!(
        "SELECT ",
        credit_columns!(),
        credit_from!(),
        "WHERE c.channel_id = "
    ));
    query
        .push_bind(channel_id)
        .push(" AND c.provider_txn_id IN (");
    let mut list = query.separated(", ");
    for txn_id in txn_ids {
        list.push_bind(*txn_id);
    }
    query.push(")");
    query
}

/// The orders with these references, in reference order, with `suffix` (a lock clause or
/// nothing).
pub(super) fn orders<DB: Database>(references: &BTreeSet<&str>, suffix: &str) -> QueryBuilder<DB>
where
    for<'t> &'t str: Encode<'t, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new(concat!(
        "SELECT ",
        order_columns!(),
        " FROM orders WHERE reference IN ("
    ));
    let mut list = query.separated(", ");
    for reference in references {
        list.push_bind(*reference);
    }
    query.push(") ORDER BY reference").push(suffix);
    query
}

/// The stalls `(id, bin, account)` of a market paid into one of `accounts`.
pub(super) fn stalls<DB: Database>(market_id: i64, accounts: &BTreeSet<String>) -> QueryBuilder<DB>
where
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> &'t str: Encode<'t, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new(
        "SELECT id, payee_bin, payee_account FROM stalls WHERE payee_bin IS NOT NULL AND market_id = ",
    );
    query.push_bind(market_id).push(" AND payee_account IN (");
    let mut list = query.separated(", ");
    for account in accounts {
        list.push_bind(account.as_str());
    }
    query.push(")");
    query
}

/// Every read of a batch at once: per channel, per market.
pub(super) struct Reads<'a> {
    pub txn_ids: BTreeMap<i64, BTreeSet<&'a str>>,
    pub references: BTreeSet<&'a str>,
    pub accounts: BTreeMap<i64, BTreeSet<String>>,
}

impl<'a> Reads<'a> {
    pub fn of(batch: &'a Batch<'a>) -> Self {
        Self {
            txn_ids: batch.txn_ids(),
            references: batch.references(),
            accounts: batch.accounts(),
        }
    }
}

/// `INSERT INTO credits … VALUES …` for the batch's new credits, in the fixed order, skipping
/// transactions already recorded and returning `(id, channel_id, provider_txn_id)` of each row
/// written.
pub(super) fn insert_credits<DB: Database>(
    query: &mut QueryBuilder<DB>,
    batch: &Batch<'_>,
    planned: &Planned,
) where
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
    for<'t> &'t str: Encode<'t, DB> + Type<DB>,
    for<'t> Option<&'t str>: Encode<'t, DB> + Type<DB>,
    for<'t> &'t [u8]: Encode<'t, DB> + Type<DB>,
{
    query.push(credits_insert!());
    query.push_values(
        batch.new_credits(planned),
        |mut row, (item, decision, day)| {
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
        },
    );
    query.push(" ON CONFLICT (channel_id, provider_txn_id) DO NOTHING RETURNING id, channel_id, provider_txn_id");
}

/// `UPDATE orders …` to the batch's new totals, each row only if it still has the total and
/// status it was read with (so the statement changes exactly `planned.orders.len()` rows, or
/// another writer got there first).
pub(super) fn update_orders<DB: Database>(
    query: &mut QueryBuilder<DB>,
    planned: &Planned,
    now_ms: i64,
) where
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> &'t str: Encode<'t, DB> + Type<DB>,
{
    query.push("UPDATE orders SET paid_dong = v.column4, status = v.column5, updated_at_ms = ");
    query.push_bind(now_ms).push(" FROM (");
    query.push_values(&planned.orders, |mut row, change| {
        row.push_bind(change.before.id)
            .push_bind(change.before.paid_dong)
            .push_bind(change.before.status.as_str())
            .push_bind(change.paid_dong)
            .push_bind(change.status.as_str());
    });
    query.push(
        ") AS v WHERE orders.id = v.column1 AND orders.paid_dong = v.column2 AND orders.status = v.column3",
    );
}

/// `INSERT INTO credit_days … ON CONFLICT … DO UPDATE` adding the batch to each day rollup,
/// returning `(stall_id, day, credits, amount_dong)` as each row is after.
pub(super) fn add_rollups<DB: Database>(query: &mut QueryBuilder<DB>, planned: &Planned)
where
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    query.push(rollups_insert!());
    query.push_values(
        &planned.rollups,
        |mut row, (&(market_id, stall_id, day), delta)| {
            for value in [market_id, stall_id, day].into_iter().chain(delta.sums()) {
                row.push_bind(value);
            }
        },
    );
    query.push(add_to_rollups!());
}
