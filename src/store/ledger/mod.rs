//! Recording bank credits, a batch at a time: every delivery waiting for the ledger is decided
//! and written together, in a handful of statements whatever the batch's size.
//!
//! - [`plan`]: what to read, what each delivery becomes ([`crate::domain::matching::decide`],
//!   in a fixed order, each order's paid total carried from one credit to the next), what to
//!   write, and the answers. No I/O.
//! - [`sql`]: the batch statements, written once for both backends.
//! - [`sqlite`]: SQLite, in one `BEGIN IMMEDIATE` transaction on a blocking thread, over the
//!   writer's own connection, row by row in prepared statements.
//! - [`optimistic`]: PostgreSQL, in two round trips and one self-committing statement, assuming
//!   no repeat and no race, and writing nothing if that was wrong.
//! - [`locked`]: one write transaction that locks what it decides on: PostgreSQL when the
//!   optimistic write wrote nothing.
//!
//! Exactly-once rests on the database: `UNIQUE (channel_id, provider_txn_id)`. A transaction
//! recorded by another writer (another server on the same PostgreSQL) between the reads and the
//! insert makes the insert come back short; the write is then undone and reported as
//! [`StoreError::Race`], to be tried again.
//!
//! Deadlock-free with several writers on the locking path: every transaction takes its locks in
//! one global order — orders by reference, then new ledger keys by (channel, transaction id),
//! then rollup rows by key, then (by the triggers of migration 0009) the market rollup rows by
//! key, each writer's its own — so no two batches can wait on each other in a cycle. The optimistic
//! statement holds no lock between round trips; should it ever deadlock with another, PostgreSQL
//! aborts it (`40P01`) and it goes the locking way.

mod locked;
mod optimistic;
mod plan;
mod sql;
mod sqlite;

use sqlx::Postgres;
use sqlx::pool::PoolConnection;

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
    /// Its own connection to the database file, outside the pool.
    Sqlite(rusqlite::Connection),
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
    shard: i16,
}

/// Sets the session's row of each market's day in `market_days` (migration 0009).
const SET_SHARD: &str = "SELECT set_config('chopay.shard', $1, FALSE)";

impl Writer {
    /// A writer on `store`; it takes its connections at its first batch.
    pub fn new(store: Store) -> Self {
        Self::numbered(store, 0)
    }

    /// A writer that, on PostgreSQL, adds to its own row of each market's day (`shard`, 1 and up
    /// for the service's writers), so that concurrent writers never wait on each other's lock
    /// of it (0 is every other session's row).
    pub fn numbered(store: Store, shard: i16) -> Self {
        Self {
            store,
            held: None,
            shard,
        }
    }

    /// Gives its connections back to the pool (an idle writer must not keep them: closing the
    /// pool waits for every connection), the write connection with the shared row again.
    pub async fn release(&mut self) {
        if let Some(Held::Postgres { mut write, .. }) = self.held.take()
            && self.shard != 0
            && let Err(error) = sqlx::query(SET_SHARD).bind("0").execute(&mut *write).await
        {
            // The connection then goes back as it is: its shard changes no sum, only whose row
            // a later session adds to.
            tracing::warn!(%error, "resetting a ledger connection's shard failed");
        }
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
                Store::Sqlite(pool) => Held::Sqlite(sqlite::open(pool).await?),
                Store::Postgres(pool) => {
                    let (mut write, read) = tokio::try_join!(pool.acquire(), pool.acquire())?;
                    if self.shard != 0 {
                        sqlx::query(SET_SHARD)
                            .bind(self.shard.to_string())
                            .execute(&mut *write)
                            .await?;
                    }
                    Held::Postgres { write, read }
                }
            },
        };
        let result = match held {
            Held::Sqlite(conn) => {
                let (conn, result) = record_sqlite(conn, items, now_ms).await?;
                held = Held::Sqlite(conn);
                result
            }
            Held::Postgres {
                ref mut write,
                ref mut read,
            } => record_postgres(write, read, &plan::Batch::new(items), now_ms).await,
        };
        // A connection that failed a statement is not kept (the pool checks its own; the
        // SQLite one is opened again).
        if !matches!(result, Err(StoreError::Database(_) | StoreError::Sqlite(_))) {
            self.held = Some(held);
        }
        result
    }
}

/// A delivery owned, to cross to the blocking thread.
struct Owned {
    channel_id: i64,
    market_id: i64,
    credit: BankCredit,
    raw_body: Vec<u8>,
    received_at_ms: i64,
}

/// Records a batch on SQLite on a blocking thread, which gives the connection back.
async fn record_sqlite(
    mut conn: rusqlite::Connection,
    items: &[CreditInput<'_>],
    now_ms: i64,
) -> Result<(rusqlite::Connection, Result<Vec<Recorded>, StoreError>), StoreError> {
    let owned: Vec<Owned> = items
        .iter()
        .map(|item| Owned {
            channel_id: item.channel_id,
            market_id: item.market_id,
            credit: item.credit.clone(),
            raw_body: item.raw_body.to_vec(),
            received_at_ms: item.received_at_ms,
        })
        .collect();
    tokio::task::spawn_blocking(move || {
        let inputs: Vec<CreditInput<'_>> = owned
            .iter()
            .map(|item| CreditInput {
                channel_id: item.channel_id,
                market_id: item.market_id,
                credit: &item.credit,
                raw_body: &item.raw_body,
                received_at_ms: item.received_at_ms,
            })
            .collect();
        let result = sqlite::record(&mut conn, &plan::Batch::new(&inputs), now_ms);
        (conn, result)
    })
    .await
    .map_err(|e| StoreError::WriterGone(e.to_string()))
}

async fn record_postgres(
    write: &mut PoolConnection<Postgres>,
    read: &mut PoolConnection<Postgres>,
    batch: &plan::Batch<'_>,
    now_ms: i64,
) -> Result<Vec<Recorded>, StoreError> {
    match optimistic::record(write, read, batch, now_ms).await {
        // A repeat or a race: nothing was written; take the locks.
        Err(StoreError::Race(_)) => locked::record(write, batch, now_ms).await,
        done => done,
    }
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
