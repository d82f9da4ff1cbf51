//! Recording a batch in one write transaction that locks what it decides on: PostgreSQL's way
//! when the one-statement write ([`super::optimistic`]) finds a repeat or loses a race.
//!
//! Inside the transaction: the transactions recorded before (per channel), the orders the
//! references name (locked, in reference order), the stalls behind the receiving accounts (per
//! market); then the new credits, the orders' totals and the day rollups, one statement each,
//! deliveries that contradict a recorded transaction kept for review, and the commit.

use sqlx::{Connection, PgConnection, QueryBuilder};

use super::plan::{Batch, Lookups, Written};
use super::sql::{self, Reads};
use crate::store::StoreError;
use crate::store::credits::{CreditRow, INSERT_REVIEW, Recorded};
use crate::store::orders::OrderRow;

pub(super) async fn record(
    write: &mut PgConnection,
    batch: &Batch<'_>,
    now_ms: i64,
) -> Result<Vec<Recorded>, StoreError> {
    let reads = Reads::of(batch);
    let mut tx = write.begin().await?;
    let mut lookups = Lookups::default();
    for (channel_id, txn_ids) in &reads.txn_ids {
        let rows: Vec<CreditRow> = sql::recorded_before(*channel_id, txn_ids)
            .build_query_as()
            .fetch_all(&mut *tx)
            .await?;
        lookups.existing.extend(
            rows.into_iter()
                .map(|row| ((row.channel_id, row.provider_txn_id.clone()), row)),
        );
    }
    if !reads.references.is_empty() {
        let rows: Vec<OrderRow> = sql::orders(&reads.references, " FOR UPDATE")
            .build_query_as()
            .fetch_all(&mut *tx)
            .await?;
        lookups
            .orders
            .extend(rows.into_iter().map(|row| (row.reference.clone(), row)));
    }
    for (market_id, accounts) in &reads.accounts {
        let rows = sql::stalls(*market_id, accounts)
            .build_query_as()
            .fetch_all(&mut *tx)
            .await?;
        lookups.stalls.insert(*market_id, rows);
    }

    let planned = batch.plan(&lookups);
    let mut written = Written::default();
    if !planned.new.is_empty() {
        let mut query = QueryBuilder::new("");
        sql::insert_credits(&mut query, batch, &planned);
        let rows: Vec<(i64, i64, String)> = query.build_query_as().fetch_all(&mut *tx).await?;
        if rows.len() != planned.new.len() {
            return Err(StoreError::Race(
                "another writer recorded one of these transactions meanwhile",
            ));
        }
        written.ids.extend(
            rows.into_iter()
                .map(|(id, channel, txn)| ((channel, txn), id)),
        );
    }
    if !planned.orders.is_empty() {
        let mut query = QueryBuilder::new("");
        sql::update_orders(&mut query, &planned, now_ms);
        let changed = query.build().execute(&mut *tx).await?.rows_affected();
        if usize::try_from(changed).ok() != Some(planned.orders.len()) {
            return Err(StoreError::Race("an order changed while it was locked"));
        }
    }
    if !planned.rollups.is_empty() {
        let mut query = QueryBuilder::new("");
        sql::add_rollups(&mut query, &planned);
        let rows: Vec<(i64, i64, i64, i64)> = query.build_query_as().fetch_all(&mut *tx).await?;
        for (stall_id, day, credits, amount_dong) in rows {
            written.total(stall_id, day, credits, amount_dong);
        }
    }
    let results = batch.answers(&planned, &written, now_ms)?;

    // Deliveries that contradict a recorded transaction are kept for review.
    for (result, item) in results.iter().zip(batch.items) {
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
}
