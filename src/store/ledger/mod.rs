//! Recording bank credits, a batch at a time: every delivery waiting for the ledger is decided
//! and written together, in a handful of statements whatever the batch's size.
//!
//! - [`plan`]: what to read, what each delivery becomes ([`crate::domain::matching::decide`],
//!   in a fixed order, each order's paid total carried from one credit to the next), what to
//!   write, and the answers. No I/O.
//! - [`sql`]: the batch statements, written once for both backends.
//! - [`sqlite`]: SQLite, in one `BEGIN IMMEDIATE` transaction on the writer's own thread
//!   ([`Writer::commit_blocking`]; a blocking thread for [`Writer::commit`]), over its own
//!   connection, row by row in prepared statements.
//! - [`wal`]: when a SQLite commit is durable: the writer's own fsync of the write-ahead log,
//!   one for every batch committed meanwhile, off the writer's path.
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

mod checkpoint;
mod locked;
mod optimistic;
mod plan;
mod sql;
mod sqlite;
#[cfg(test)]
pub(crate) mod testing;
mod wal;

pub use wal::Durability;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

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
    Sqlite(sqlite::Conn),
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
    /// How a SQLite writer syncs its WAL.
    wal_sync: wal::SyncFn,
    /// Set while a failed sync of its WAL has not been made good: kept across connections.
    wal_tainted: Arc<AtomicBool>,
}

/// A batch committed: what each delivery became, in the order given, and when that is durable.
/// Nothing of it may be acknowledged before it is durable ([`Durability::wait`] or
/// [`Durability::sync_all`] succeeded).
#[derive(Debug)]
pub struct Committed {
    /// Each delivery's outcome.
    pub recorded: Vec<Recorded>,
    /// When the commit is on disk.
    pub durability: Durability,
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
            wal_sync: std::fs::File::sync_data,
            wal_tainted: Arc::default(),
        }
    }

    /// A SQLite writer whose every WAL sync is `sync` (tests of a failing disk).
    #[cfg(test)]
    pub(crate) fn syncing_with(store: Store, sync: wal::SyncFn) -> Self {
        Self {
            wal_sync: sync,
            ..Self::new(store)
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

    /// Records a batch of authentic deliveries and waits until it is durable; each gets its
    /// [`Recorded`], in the order given. Any failure means the caller must not acknowledge any
    /// of it.
    pub async fn record(
        &mut self,
        items: &[CreditInput<'_>],
        now_ms: i64,
    ) -> Result<Vec<Recorded>, StoreError> {
        let committed = self.commit(items, now_ms).await?;
        committed.durability.wait().await?;
        Ok(committed.recorded)
    }

    /// Records a batch of authentic deliveries, without waiting for the disk: the next batch
    /// may be committed while this one syncs. A failure writes nothing.
    pub async fn commit(
        &mut self,
        items: &[CreditInput<'_>],
        now_ms: i64,
    ) -> Result<Committed, StoreError> {
        if items.is_empty() {
            return Ok(Committed {
                recorded: Vec::new(),
                durability: Durability::at_commit(),
            });
        }
        let mut held = match self.held.take() {
            Some(held) => held,
            None => match &self.store {
                Store::Sqlite(pool) => Held::Sqlite(
                    sqlite::open(pool, self.wal_sync, Arc::clone(&self.wal_tainted)).await?,
                ),
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
            } => record_postgres(write, read, &plan::Batch::new(items), now_ms)
                .await
                .map(|recorded| Committed {
                    recorded,
                    durability: Durability::at_commit(),
                }),
        };
        // A connection that failed a statement is not kept (the pool checks its own; the
        // SQLite one is opened again).
        if !matches!(result, Err(StoreError::Database(_) | StoreError::Sqlite(_))) {
            self.held = Some(held);
        }
        result
    }
}

impl Writer {
    /// [`Writer::commit`] on the calling thread, for a SQLite writer with an OS thread of its own
    /// (never a runtime's worker): SQLite is called directly, with no hop to a blocking thread and
    /// no copy of the batch; `runtime` opens the connection.
    pub fn commit_blocking(
        &mut self,
        runtime: &tokio::runtime::Handle,
        items: &[CreditInput<'_>],
        now_ms: i64,
    ) -> Result<Committed, StoreError> {
        let Store::Sqlite(pool) = &self.store else {
            return Err(StoreError::WriterGone(
                "a PostgreSQL writer records on its runtime, not on a thread".into(),
            ));
        };
        if items.is_empty() {
            return Ok(Committed {
                recorded: Vec::new(),
                durability: Durability::at_commit(),
            });
        }
        let mut conn = match self.held.take() {
            Some(Held::Sqlite(conn)) => conn,
            _ => {
                let pool = pool.clone();
                let (sync, tainted) = (self.wal_sync, Arc::clone(&self.wal_tainted));
                on_runtime(
                    runtime,
                    async move { sqlite::open(&pool, sync, tainted).await },
                )?
            }
        };
        let result = sqlite::record(&mut conn, &plan::Batch::new(items), now_ms);
        // A connection that failed a statement is opened again.
        if !matches!(result, Err(StoreError::Sqlite(_))) {
            self.held = Some(Held::Sqlite(conn));
        }
        let (recorded, durability) = result?;
        Ok(Committed {
            recorded,
            durability,
        })
    }
}

/// Runs `work` on `runtime` and waits for it on this thread (not one of the runtime's); a runtime
/// shutting down drops it, which is an error, never a panic.
fn on_runtime<T: Send + 'static>(
    runtime: &tokio::runtime::Handle,
    work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Result<T, StoreError> {
    let (done, result) = tokio::sync::oneshot::channel();
    runtime.spawn(async move {
        let _ = done.send(work.await);
    });
    result
        .blocking_recv()
        .map_err(|_| StoreError::WriterGone("the runtime is shutting down".into()))?
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
    mut conn: sqlite::Conn,
    items: &[CreditInput<'_>],
    now_ms: i64,
) -> Result<(sqlite::Conn, Result<Committed, StoreError>), StoreError> {
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
        let result = sqlite::record(&mut conn, &plan::Batch::new(&inputs), now_ms).map(
            |(recorded, durability)| Committed {
                recorded,
                durability,
            },
        );
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

#[cfg(test)]
mod tests {
    use super::testing::{credit, demo_store, fail_next_sync, failing_disk};
    use super::*;

    #[tokio::test]
    async fn the_sqlite_writer_refuses_a_schema_with_a_trigger_it_does_not_write_for() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ledger.db");
        let (store, channel_id, market_id) = demo_store(&db).await;
        let Store::Sqlite(pool) = &store else {
            unreachable!()
        };
        sqlx::query(
            "CREATE TRIGGER credits_counted AFTER INSERT ON credits BEGIN \
             UPDATE markets SET name = name WHERE id = NEW.market_id; END",
        )
        .execute(pool)
        .await
        .unwrap();
        let credit = credit("T-1", 10_000);
        let input = CreditInput {
            channel_id,
            market_id,
            credit: &credit,
            raw_body: b"{}",
            received_at_ms: 1,
        };
        let refused = Writer::new(store.clone()).commit(&[input], 1).await;
        assert!(
            matches!(&refused, Err(StoreError::Schema(message)) if message.contains("credits_counted")),
            "{refused:?}"
        );
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM credits")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(rows, 0, "nothing is written without the trigger's work");
    }

    #[tokio::test]
    async fn after_a_failed_fsync_nothing_is_acknowledged_until_the_log_is_checkpointed() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ledger.db");
        let (store, channel_id, market_id) = demo_store(&db).await;
        let mut writer = Writer::syncing_with(store.clone(), failing_disk);
        let credits = [
            credit("A", 10_000),
            credit("B", 20_000),
            credit("C", 30_000),
        ];
        let [a, b, c] = credits.each_ref().map(|credit| CreditInput {
            channel_id,
            market_id,
            credit,
            raw_body: b"{}",
            received_at_ms: 1,
        });

        // Two batches committed, then the disk fails the sync that covers them both.
        let first = writer.commit(&[a], 1).await.unwrap();
        let second = writer.commit(&[b], 1).await.unwrap();
        assert!(
            !first.durability.is_at_commit(),
            "the writer syncs its WAL itself"
        );
        fail_next_sync(&db);
        let failed = first.durability.wait().await.unwrap_err();
        assert!(failed.is_unavailable(), "{failed}");
        // The next sync would succeed, but proves nothing about the pages the failure lost.
        let untrusted = second.durability.wait().await.unwrap_err();
        assert!(
            untrusted.to_string().contains("not been checkpointed"),
            "{untrusted}"
        );

        // The next batch first checkpoints the log into the database file, then is durable.
        let third = writer.record(&[c], 1).await.unwrap();
        assert!(matches!(third[..], [Recorded::New { .. }]));
        // The banks' retries of the first two find them recorded, once, and are acknowledged.
        let retried = writer.record(&[a, b], 1).await.unwrap();
        assert!(
            retried.iter().all(|r| matches!(r, Recorded::Duplicate(_))),
            "{retried:?}"
        );
        for txn in ["A", "B", "C"] {
            let rows: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM credits WHERE channel_id = $1 AND provider_txn_id = $2",
            )
            .bind(channel_id)
            .bind(txn)
            .fetch_one(match &store {
                Store::Sqlite(pool) => pool,
                Store::Postgres(_) => unreachable!(),
            })
            .await
            .unwrap();
            assert_eq!(rows, 1, "{txn}");
        }
        assert!(
            crate::store::books::check(&store, None)
                .await
                .unwrap()
                .balanced()
        );
        store.close().await;
    }
}
