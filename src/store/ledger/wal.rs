//! When a SQLite ledger commit is durable: the ledger's connection commits with
//! `synchronous=NORMAL` (the commit's frames are written to the write-ahead log, not yet synced)
//! and its batch is answered only once [`Durability::sync_all`] has fsynced the WAL file after the
//! commit. One fsync covers every batch committed before it began, and while the disk syncs one
//! group of batches the writer already records the next: group commit with the fsync off the
//! writer's path. A 2xx still means the credit is on disk.
//!
//! A failed fsync taints the file: Linux may drop the pages it could not write and report that
//! only once, so no later fsync of the WAL proves anything about them. Every batch waiting is
//! refused (503, to be retried), and nothing is acknowledged again until the writer has copied the
//! WAL into the database file with a checkpoint, which syncs that file ([`recover`]).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::Connection;

use crate::store::StoreError;

/// How the WAL file is synced: `File::sync_data`, or a failing stand-in in tests.
pub(super) type SyncFn = fn(&File) -> io::Result<()>;

/// The write-ahead log of the ledger's database, opened to be synced.
#[derive(Debug)]
pub(super) struct Wal {
    file: File,
    sync: SyncFn,
    /// Set when a sync fails, until a checkpoint succeeds: the writer's, so that it outlives this
    /// file handle (a file opened after the failure would not be told of it).
    tainted: Arc<AtomicBool>,
}

/// The WAL of the database file at `db`: SQLite's name for it.
pub(super) fn path_of(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

impl Wal {
    /// Opens the WAL of the database at `db` (it exists once the connection has committed), and
    /// syncs its directory, so that the file itself survives a power loss.
    pub(super) fn open(db: &Path, sync: SyncFn, tainted: Arc<AtomicBool>) -> io::Result<Self> {
        let path = path_of(db);
        let file = std::fs::OpenOptions::new().write(true).open(&path)?;
        if let Some(dir) = path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            File::open(dir)?.sync_all()?;
        }
        Ok(Self {
            file,
            sync,
            tainted,
        })
    }

    /// Makes every commit before this call durable.
    fn sync(&self) -> Result<(), StoreError> {
        if self.tainted.load(Ordering::Acquire) {
            return Err(StoreError::WalSync(
                "an earlier fsync failed and the log has not been checkpointed since".into(),
            ));
        }
        (self.sync)(&self.file).map_err(|error| {
            self.tainted.store(true, Ordering::Release);
            StoreError::WalSync(error.to_string())
        })
    }
}

/// After a failed sync (`tainted`): checkpoints the whole log into the database file over `conn`
/// (the writer's, inside no transaction), which syncs the log and then the database file; every
/// commit so far is then durable and the log trusted again. Does nothing otherwise.
pub(super) fn recover(conn: &Connection, tainted: &AtomicBool) -> Result<(), StoreError> {
    if !tainted.load(Ordering::Acquire) {
        return Ok(());
    }
    let (busy, log, done): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(FULL)", [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
    if busy != 0 || done < log {
        return Err(StoreError::WalSync(format!(
            "the checkpoint after a failed fsync copied {done} of {log} frames"
        )));
    }
    tainted.store(false, Ordering::Release);
    Ok(())
}

/// When a batch's commit is durable: at once, or after its WAL has been synced.
#[derive(Debug, Clone, Default)]
pub struct Durability(Option<Arc<Wal>>);

impl Durability {
    /// Durable when its commit returned (PostgreSQL; SQLite when SQLite syncs itself).
    pub(crate) fn at_commit() -> Self {
        Self(None)
    }

    /// Whether it was durable when its commit returned.
    pub fn is_at_commit(&self) -> bool {
        self.0.is_none()
    }

    /// Durable once `wal` is synced.
    pub(super) fn after_sync(wal: Arc<Wal>) -> Self {
        Self(Some(wal))
    }

    /// Makes every commit behind `pending` durable, on the calling thread: one fsync per WAL file
    /// (in practice one in all). An error means none of them may be acknowledged.
    pub fn sync_all<'a>(
        pending: impl IntoIterator<Item = &'a Durability>,
    ) -> Result<(), StoreError> {
        let mut wals: Vec<&Arc<Wal>> = Vec::new();
        for wal in pending.into_iter().filter_map(|d| d.0.as_ref()) {
            if !wals.iter().any(|w| Arc::ptr_eq(w, wal)) {
                wals.push(wal);
            }
        }
        wals.iter().try_for_each(|wal| wal.sync())
    }

    /// Waits until this commit is durable, syncing on a blocking thread.
    pub async fn wait(&self) -> Result<(), StoreError> {
        if self.is_at_commit() {
            return Ok(());
        }
        let pending = self.clone();
        tokio::task::spawn_blocking(move || Self::sync_all([&pending]))
            .await
            .map_err(|e| StoreError::WriterGone(e.to_string()))?
    }
}
