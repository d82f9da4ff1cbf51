//! Recording bank credits, a batch at a time: every delivery waiting for the ledger is decided
//! and written together, in a handful of statements whatever the batch's size.
//!
//! - [`plan`]: what to read, what each delivery becomes ([`crate::domain::matching::decide`],
//!   in a fixed order, each order's paid total carried from one credit to the next), what to
//!   write, and the answers. No I/O.
//! - [`sql`]: the batch statements, written once for both backends.
//! - [`optimistic`]: PostgreSQL, in two round trips and one self-committing statement, assuming
//!   no repeat and no race, and writing nothing if that was wrong.
//! - [`locked`]: one write transaction that locks what it decides on: SQLite always, PostgreSQL
//!   when the optimistic write wrote nothing.
//!
//! Exactly-once rests on the database: `UNIQUE (channel_id, provider_txn_id)`. A transaction
//! recorded by another writer (another server on the same PostgreSQL) between the reads and the
//! insert makes the insert come back short; the write is then undone and reported as
//! [`StoreError::Race`], to be tried again.
//!
//! Deadlock-free with several writers on the locking path: every transaction takes its locks in
//! one global order — orders by reference, then new ledger keys by (channel, transaction id),
//! then rollup rows by key — so no two batches can wait on each other in a cycle. The optimistic
//! statement holds no lock between round trips; should it ever deadlock with another, PostgreSQL
//! aborts it (`40P01`) and it goes the locking way.

mod locked;
mod optimistic;
mod plan;
mod sql;

use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Sqlite};

use crate::domain::credit::BankCredit;

use super::credits::Recorded;
use super::{Store, StoreError};

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

/// The connections a ledger writer keeps between batches, so that a batch pays no pool round
/// trips (sqlx checks a pooled connection with a round trip when it is taken and another when
/// it is given back).
#[derive(Debug)]
enum Held {
    Sqlite(PoolConnection<Sqlite>),
    /// Two, so the two reads of a batch run at once.
    Postgres {
        write: PoolConnection<Postgres>,
        read: PoolConnection<Postgres>,
    },
}

/// Records batches of credits on its own connections. One per writer task.
#[derive(Debug)]
pub struct Writer {
    store: Store,
    held: Option<Held>,
}

impl Writer {
    /// A writer on `store`; it takes its connections at its first batch.
    pub fn new(store: Store) -> Self {
        Self { store, held: None }
    }

    /// Gives its connections back to the pool (an idle writer must not keep them: closing the
    /// pool waits for every connection).
    pub fn release(&mut self) {
        self.held = None;
    }

    /// Records a batch of authentic deliveries; each gets its [`Recorded`], in the order given.
    /// Any failure writes nothing, so the caller must not acknowledge any of it.
    pub async fn record(
        &mut self,
        items: &[CreditInput<'_>],
        now_ms: i64,
    ) -> Result<Vec<Recorded>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut held = match self.held.take() {
            Some(held) => held,
            None => match &self.store {
                Store::Sqlite(pool) => Held::Sqlite(pool.acquire().await?),
                Store::Postgres(pool) => {
                    let (write, read) = tokio::try_join!(pool.acquire(), pool.acquire())?;
                    Held::Postgres { write, read }
                }
            },
        };
        let result = record(&mut held, &plan::Batch::new(items), now_ms).await;
        // A connection that failed a statement goes back to the pool, which checks it.
        if !matches!(result, Err(StoreError::Database(_))) {
            self.held = Some(held);
        }
        result
    }
}

async fn record(
    held: &mut Held,
    batch: &plan::Batch<'_>,
    now_ms: i64,
) -> Result<Vec<Recorded>, StoreError> {
    if let Held::Postgres { write, read } = held {
        match optimistic::record(write, read, batch, now_ms).await {
            // A repeat or a race: nothing was written; take the locks.
            Err(StoreError::Race(_)) => {}
            done => return done,
        }
    }
    locked::record(held, batch, now_ms).await
}

/// Records one batch with a writer of its own (tools and benchmarks; the service keeps its
/// writers).
pub async fn record_batch(
    store: &Store,
    items: &[CreditInput<'_>],
    now_ms: i64,
) -> Result<Vec<Recorded>, StoreError> {
    Writer::new(store.clone()).record(items, now_ms).await
}
