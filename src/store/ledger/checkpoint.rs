//! Checkpoints of the SQLite ledger's write-ahead log on a thread of their own, so that copying
//! the log into the database file, and the two fsyncs that takes, is mostly off the writer's path.
//!
//! SQLite's writer checkpoints by itself once the log holds `wal_autocheckpoint` pages, between
//! two commits, and the next batch waits meanwhile: under the callback benchmark's load that was a
//! tenth of the writer's time, once every ~30 batches, and its longest pauses. Here the writer
//! wakes this thread every [`EVERY`] commits, and it runs a passive checkpoint on a connection of
//! its own, which blocks neither the writer nor the readers. The log starts again from its
//! beginning only when a write begins with all of it checkpointed, which a checkpoint running
//! beside a busy writer seldom leaves, so the writer keeps its own automatic checkpoint, at
//! [`WRITER_PAGES`]: by then this thread has copied nearly all of the log, and the writer's
//! checkpoint copies the last pages and lets the log restart. Either way a checkpoint syncs the
//! log before it copies it and the database file after; nothing here changes when a commit is
//! durable ([`super::wal`]).

use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;

use super::sqlite::{self, FULL};

/// Commits between two wake-ups of the checkpoint thread (~300 pages of log at the benchmark's
/// batches).
const EVERY: u32 = 8;

/// The writer's own automatic checkpoint, in pages of log (SQLite's default is 1 000).
pub(super) const WRITER_PAGES: i64 = 4_000;

/// The writer's handle on its checkpoint thread; the thread ends when this is dropped.
#[derive(Debug)]
pub(super) struct Checkpointer {
    wake: SyncSender<()>,
    commits: u32,
    /// Held by whoever checkpoints in this process on purpose: the thread, or the writer
    /// recovering from a failed fsync (SQLite refuses a second checkpoint at once, it never waits).
    one_at_a_time: Arc<Mutex<()>>,
}

impl Checkpointer {
    /// Starts the checkpoint thread on the database file at `path`. `None` (logged) if the system
    /// cannot start a thread: the writer's own checkpoints then keep the log bounded alone.
    pub(super) fn start(path: &Path) -> Option<Self> {
        let (wake, woken) = mpsc::sync_channel(1);
        let one_at_a_time = Arc::new(Mutex::new(()));
        let lock = Arc::clone(&one_at_a_time);
        let path = path.to_owned();
        let spawned = std::thread::Builder::new()
            .name("chopay-checkpoint".into())
            .spawn(move || run(&path, &woken, &lock));
        match spawned {
            Ok(_) => Some(Self {
                wake,
                commits: 0,
                one_at_a_time,
            }),
            Err(error) => {
                tracing::warn!(%error, "cannot start the ledger's checkpoint thread; the writer checkpoints alone");
                None
            }
        }
    }

    /// Counts a commit; every [`EVERY`]th wakes the thread (if a wake-up is already waiting, that
    /// one will do).
    pub(super) fn committed(&mut self) {
        self.commits = self.commits.wrapping_add(1);
        if self.commits.is_multiple_of(EVERY) {
            // Full: a checkpoint is already due. Disconnected: the thread has ended (it said why).
            let _ = self.wake.try_send(());
        }
    }

    /// Waits for the thread's checkpoint, if one runs, and keeps it from starting another until
    /// the guard is dropped.
    pub(super) fn hold(&self) -> MutexGuard<'_, ()> {
        self.one_at_a_time
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The thread: one passive checkpoint per wake-up, until the writer lets go.
fn run(path: &Path, woken: &Receiver<()>, one_at_a_time: &Mutex<()>) {
    let conn = match open(path) {
        Ok(conn) => conn,
        Err(error) => {
            tracing::warn!(%error, "the ledger's checkpoint thread cannot open the database; the writer checkpoints alone");
            return;
        }
    };
    let mut failing = false;
    while woken.recv().is_ok() {
        let outcome = {
            let _alone = one_at_a_time.lock().unwrap_or_else(PoisonError::into_inner);
            // A row (busy, log pages, pages checkpointed); busy only means try again later.
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        };
        match outcome {
            Err(error) if !failing => {
                tracing::warn!(%error, "a checkpoint of the ledger's log failed; the next one tries again");
                failing = true;
            }
            Ok(()) if failing => {
                tracing::info!("checkpoints of the ledger's log succeed again");
                failing = false;
            }
            _ => {}
        }
    }
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = sqlite::connect(path)?;
    // Sync the log before copying it and the database file after, whatever the default.
    conn.pragma_update(None, "synchronous", FULL)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::store::ledger::testing::{credit, demo_store};
    use crate::store::ledger::{CreditInput, Writer};
    use crate::store::now_ms;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_reaches_the_database_file_long_before_the_writer_would_copy_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ledger.db");
        let (store, channel_id, market_id) = demo_store(&db).await;
        let size = || std::fs::metadata(&db).unwrap().len();
        let before = size();
        let mut writer = Writer::new(store.clone());
        let body = vec![b'x'; 2_000];
        // 160 credits of 2 000 bytes: a few hundred pages of log, far below WRITER_PAGES.
        for batch in 0..16 {
            let credits: Vec<_> = (0..10)
                .map(|i| credit(&format!("FT-CKPT-{batch}-{i}"), 10_000))
                .collect();
            let inputs: Vec<CreditInput<'_>> = credits
                .iter()
                .map(|credit| CreditInput {
                    channel_id,
                    market_id,
                    credit,
                    raw_body: &body,
                    received_at_ms: now_ms(),
                })
                .collect();
            writer.record(&inputs, now_ms()).await.unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while size() < before + 160 * 2_000 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            size() >= before + 160 * 2_000,
            "the credits are still only in the log: the database file grew from {before} to {} bytes",
            size()
        );
        writer.release().await;
        store.close().await;
    }
}
