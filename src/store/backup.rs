//! Online backups of a SQLite store: `VACUUM INTO` writes a consistent copy of one snapshot while
//! payments keep landing (WAL readers never block the writer), then the copy is synced to disk.
//! PostgreSQL is backed up with its own tools (`pg_basebackup`), not here.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::sqlite::SqliteConnectOptions;

use super::{DatabaseUrl, Store, StoreError};

/// The file of a `sqlite:` URL (`None` for another backend or a URL that names no file).
pub fn sqlite_file(url: &DatabaseUrl) -> Option<PathBuf> {
    let text = url.expose();
    if !text.starts_with("sqlite:") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(text).ok()?;
    Some(options.get_filename().to_path_buf())
}

/// A backup just written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// Its size in bytes.
    pub bytes: u64,
    /// How long it took.
    pub took: Duration,
}

/// Why a backup was not taken.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The target exists: a backup never overwrites anything.
    #[error("{0} already exists; a backup never overwrites a file")]
    Exists(String),
    /// PostgreSQL is backed up with its own tools.
    #[error(
        "chopay backup copies SQLite databases; for PostgreSQL take an online physical backup with \
         `pg_basebackup -d URL -D DIR -X stream -c fast` (or `pg_dump -Fc` for a logical one)"
    )]
    Postgres,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Syncing the copy failed.
    #[error("cannot sync {path}: {error}")]
    Io {
        /// The copy.
        path: String,
        /// What went wrong.
        error: std::io::Error,
    },
}

/// Writes a consistent copy of the SQLite database to `to` (which must not exist) and syncs it.
pub async fn sqlite_copy(store: &Store, to: &Path) -> Result<Backup, BackupError> {
    let Store::Sqlite(pool) = store else {
        return Err(BackupError::Postgres);
    };
    let shown = to.display().to_string();
    if to.exists() {
        return Err(BackupError::Exists(shown));
    }
    let started = Instant::now();
    sqlx::query("VACUUM INTO $1")
        .bind(to.to_string_lossy().into_owned())
        .execute(pool)
        .await
        .map_err(StoreError::from)?;
    let io = |error| BackupError::Io {
        path: shown.clone(),
        error,
    };
    let file = std::fs::File::open(to).map_err(io)?;
    file.sync_all().map_err(io)?;
    let bytes = file.metadata().map_err(io)?.len();
    Ok(Backup {
        bytes,
        took: started.elapsed(),
    })
}
