//! PostgreSQL's way to record a batch in two round trips, without holding a lock between them.
//!
//! 1. Read the orders the references name and the stalls behind the receiving accounts, at once
//!    on two connections, without locks; assume no delivery was recorded before (repeats are
//!    the exception).
//! 2. Decide in memory, then write everything in one statement, which commits on its own: the new
//!    credits, the orders' new totals (each only if it still has the total and status it was
//!    read with) and the day rollups, as data-modifying `WITH` parts. Its last part checks that
//!    every credit was inserted and every order updated, and otherwise aborts the statement with
//!    `40001` (`chopay_abort_unless`, migration 0003), which undoes all of it.
//!
//! A repeat, a conflicting amount, or a race with another writer thus writes nothing and comes
//! back as [`StoreError::Race`]; the caller then records the batch the locking way
//! ([`super::locked`]), which tells duplicates from conflicts and keeps the latter for review.

use std::collections::HashMap;

use sqlx::PgConnection;

use super::plan::{Batch, Lookups, Planned, RollupDelta, Written};
use super::sql::{Reads, add_to_rollups, credits_insert, rollups_insert};
use crate::store::StoreError;
use crate::store::credits::Recorded;
use crate::store::orders::{OrderRow, columns as order_columns};

/// What the statement returns: the new credits (id, channel, transaction id) and the rollup rows
/// after (stall, day, credits, amount), as parallel arrays.
/// (`ARRAY_AGG` of no rows is NULL.)
type Returned = (
    bool,
    Option<Vec<i64>>,
    Option<Vec<i64>>,
    Option<Vec<String>>,
    Option<Vec<i64>>,
    Option<Vec<i64>>,
    Option<Vec<i64>>,
    Option<Vec<i64>>,
);

pub(super) async fn record(
    write: &mut PgConnection,
    read: &mut PgConnection,
    batch: &Batch<'_>,
    now_ms: i64,
) -> Result<Vec<Recorded>, StoreError> {
    let reads = Reads::of(batch);
    let references: Vec<&str> = reads.references.iter().copied().collect();
    let orders = async {
        if references.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query_as::<_, OrderRow>(ORDERS)
            .bind(&references)
            .fetch_all(&mut *write)
            .await
    };
    let stalls = async {
        let mut stalls = HashMap::new();
        for (market_id, accounts) in &reads.accounts {
            let accounts: Vec<&str> = accounts.iter().map(String::as_str).collect();
            let rows = sqlx::query_as(STALLS)
                .bind(market_id)
                .bind(&accounts)
                .fetch_all(&mut *read)
                .await?;
            stalls.insert(*market_id, rows);
        }
        Ok(stalls)
    };
    let (orders, stalls) = tokio::try_join!(orders, stalls)?;
    let lookups = Lookups {
        existing: HashMap::new(),
        orders: orders
            .into_iter()
            .map(|row| (row.reference.clone(), row))
            .collect(),
        stalls,
    };
    let planned = batch.plan(&lookups);

    let credits = Columns::of(batch, &planned);
    let orders = &planned.orders;
    let rollups = &planned.rollups;
    let day_column = |pick: fn(&(i64, i64, i64), &RollupDelta) -> i64| -> Vec<i64> {
        rollups
            .iter()
            .map(|(key, delta)| pick(key, delta))
            .collect()
    };
    let (_, ids, channels, txns, stalls, days, counts, amounts): Returned = sqlx::query_as(WRITE)
        .bind(credits.channel_id)
        .bind(credits.market_id)
        .bind(credits.provider_txn_id)
        .bind(credits.amount_dong)
        .bind(credits.account)
        .bind(credits.bin)
        .bind(credits.virtual_account)
        .bind(credits.description)
        .bind(credits.counterparty_name)
        .bind(credits.counterparty_account)
        .bind(credits.counterparty_bank)
        .bind(credits.booked_at_ms)
        .bind(credits.received_at_ms)
        .bind(credits.day)
        .bind(credits.stall_id)
        .bind(credits.order_id)
        .bind(credits.outcome)
        .bind(credits.note)
        .bind(credits.raw_body)
        .bind(now_ms)
        .bind(orders.iter().map(|o| o.before.id).collect::<Vec<i64>>())
        .bind(
            orders
                .iter()
                .map(|o| o.before.paid_dong)
                .collect::<Vec<i64>>(),
        )
        .bind(
            orders
                .iter()
                .map(|o| o.before.status.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(orders.iter().map(|o| o.paid_dong).collect::<Vec<i64>>())
        .bind(
            orders
                .iter()
                .map(|o| o.status.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(day_column(|k, _| k.0))
        .bind(day_column(|k, _| k.1))
        .bind(day_column(|k, _| k.2))
        .bind(day_column(|_, d| d.credits))
        .bind(day_column(|_, d| d.amount_dong))
        .bind(day_column(|_, d| d.by_kind[0].0))
        .bind(day_column(|_, d| d.by_kind[0].1))
        .bind(day_column(|_, d| d.by_kind[1].0))
        .bind(day_column(|_, d| d.by_kind[1].1))
        .bind(day_column(|_, d| d.by_kind[2].0))
        .bind(day_column(|_, d| d.by_kind[2].1))
        .fetch_one(&mut *write)
        .await
        .map_err(|error| match &error {
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("40001" | "40P01")) =>
            {
                StoreError::Race("another writer got there first")
            }
            _ => StoreError::Database(error),
        })?;

    let mut written = Written::default();
    let keys = channels
        .unwrap_or_default()
        .into_iter()
        .zip(txns.unwrap_or_default());
    written.ids.extend(keys.zip(ids.unwrap_or_default()));
    let rows = stalls
        .unwrap_or_default()
        .into_iter()
        .zip(days.unwrap_or_default())
        .zip(counts.unwrap_or_default())
        .zip(amounts.unwrap_or_default());
    for (((stall_id, day), credits), amount_dong) in rows {
        written.total(stall_id, day, credits, amount_dong);
    }
    batch.answers(&planned, &written, now_ms)
}

/// The orders with these references (`$1`), unlocked.
const ORDERS: &str = concat!(
    "SELECT ",
    order_columns!(),
    " FROM orders WHERE reference = ANY($1)"
);

/// The stalls `(id, bin, account)` of market `$1` paid into one of the accounts `$2`.
const STALLS: &str = "SELECT id, payee_bin, payee_account FROM stalls \
     WHERE payee_bin IS NOT NULL AND market_id = $1 AND payee_account = ANY($2)";

/// The one write, as one statement of one shape whatever the batch (so it is prepared once per
/// connection): the batch arrives as arrays, a column each. `$1`–`$19` the new credits, `$20`
/// the time, `$21`–`$25` the orders (id, paid and status as read, paid and status after),
/// `$26`–`$36` the rollup rows.
const WRITE: &str = concat!(
    "WITH new_credits AS (",
    credits_insert!(),
    "SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::BIGINT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], \
       $8::TEXT[], $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::BIGINT[], $13::BIGINT[], $14::BIGINT[], $15::BIGINT[], \
       $16::BIGINT[], $17::TEXT[], $18::TEXT[], $19::BYTEA[]) \
     ON CONFLICT (channel_id, provider_txn_id) DO NOTHING \
     RETURNING id, channel_id, provider_txn_id\
     ), paid_orders AS (\
       UPDATE orders SET paid_dong = v.paid_dong, status = v.status, updated_at_ms = $20 \
       FROM UNNEST($21::BIGINT[], $22::BIGINT[], $23::TEXT[], $24::BIGINT[], $25::TEXT[]) \
         AS v (id, paid_before, status_before, paid_dong, status) \
       WHERE orders.id = v.id AND orders.paid_dong = v.paid_before AND orders.status = v.status_before \
       RETURNING orders.id\
     ), days AS (",
    rollups_insert!(),
    "SELECT * FROM UNNEST($26::BIGINT[], $27::BIGINT[], $28::BIGINT[], $29::BIGINT[], $30::BIGINT[], $31::BIGINT[], \
       $32::BIGINT[], $33::BIGINT[], $34::BIGINT[], $35::BIGINT[], $36::BIGINT[])",
    add_to_rollups!(),
    ") \
     SELECT chopay_abort_unless(c.n = CARDINALITY($1::BIGINT[]) AND o.n = CARDINALITY($21::BIGINT[]), \
         'a repeat, or another writer recorded one of these transactions or paid one of these orders'), \
       c.ids, c.channels, c.txns, d.stalls, d.days, d.credits, d.amounts \
     FROM (SELECT COUNT(*) AS n, ARRAY_AGG(id) AS ids, ARRAY_AGG(channel_id) AS channels, \
             ARRAY_AGG(provider_txn_id) AS txns FROM new_credits) AS c, \
          (SELECT COUNT(*) AS n FROM paid_orders) AS o, \
          (SELECT ARRAY_AGG(stall_id) AS stalls, ARRAY_AGG(day) AS days, ARRAY_AGG(credits) AS credits, \
             ARRAY_AGG(amount_dong) AS amounts FROM days) AS d"
);

/// The new credits of a batch, a column each, in the fixed order.
#[derive(Default)]
struct Columns<'a> {
    channel_id: Vec<i64>,
    market_id: Vec<i64>,
    provider_txn_id: Vec<&'a str>,
    amount_dong: Vec<i64>,
    account: Vec<Option<&'a str>>,
    bin: Vec<Option<&'a str>>,
    virtual_account: Vec<Option<&'a str>>,
    description: Vec<&'a str>,
    counterparty_name: Vec<Option<&'a str>>,
    counterparty_account: Vec<Option<&'a str>>,
    counterparty_bank: Vec<Option<&'a str>>,
    booked_at_ms: Vec<Option<i64>>,
    received_at_ms: Vec<i64>,
    day: Vec<i64>,
    stall_id: Vec<Option<i64>>,
    order_id: Vec<Option<i64>>,
    outcome: Vec<&'static str>,
    note: Vec<Option<&'static str>>,
    raw_body: Vec<&'a [u8]>,
}

impl<'a> Columns<'a> {
    fn of(batch: &'a Batch<'a>, planned: &'a Planned) -> Self {
        let mut columns = Self::default();
        for (item, decision, day) in batch.new_credits(planned) {
            let credit = item.credit;
            columns.channel_id.push(item.channel_id);
            columns.market_id.push(item.market_id);
            columns.provider_txn_id.push(&credit.provider_txn_id);
            columns.amount_dong.push(credit.amount.to_dong());
            columns.account.push(credit.account.as_deref());
            columns.bin.push(credit.bin.as_deref());
            columns
                .virtual_account
                .push(credit.virtual_account.as_deref());
            columns.description.push(&credit.description);
            columns
                .counterparty_name
                .push(credit.counterparty_name.as_deref());
            columns
                .counterparty_account
                .push(credit.counterparty_account.as_deref());
            columns
                .counterparty_bank
                .push(credit.counterparty_bank.as_deref());
            columns.booked_at_ms.push(credit.booked_at_ms);
            columns.received_at_ms.push(item.received_at_ms);
            columns.day.push(day.number());
            columns.stall_id.push(decision.stall_id);
            columns.order_id.push(decision.order_id);
            columns.outcome.push(decision.outcome.as_str());
            columns.note.push(decision.note);
            columns.raw_body.push(item.raw_body);
        }
        columns
    }
}
