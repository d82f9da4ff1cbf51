//! Storage: SQLite (embedded default) or PostgreSQL, picked by the database URL; the only place
//! that speaks SQL.
//!
//! [`Store`] holds a native pool for either backend. Queries are written once, with `$N`
//! placeholders both backends accept, and compiled for each pool by [`dispatch!`]; only where the
//! dialects differ is SQL written twice. Amounts are whole đồng in 64-bit integers, times UTC
//! milliseconds since the epoch.
//!
//! Durability: SQLite runs in WAL mode with `synchronous=FULL` (a commit is on disk when it
//! returns; the ledger's own connection syncs the log itself before a credit is acknowledged, see
//! [`ledger`]) and write transactions begin `IMMEDIATE` with a busy timeout, so a writer waits for
//! the lock instead of failing with SQLITE_BUSY halfway through.

pub mod backup;
pub mod books;
pub mod channels;
pub mod credits;
pub mod ledger;
pub mod markets;
pub mod orders;
pub mod posters;
pub mod stalls;
pub mod stats;
pub mod tokens;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection as _, PgPool, SqlitePool};

/// A database URL whose `Debug` and `Display` hide the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Wraps a URL (`sqlite://chopay.db`, `postgres://user:pass@host/db`).
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL itself, password included: only for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        let url = &self.0;
        let Some((scheme, rest)) = url.split_once("://") else {
            return url.clone();
        };
        let Some((credentials, host)) = rest.rsplit_once('@') else {
            return url.clone();
        };
        match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.clone(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no backend chopay speaks.
    #[error("unsupported database URL {0}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// A concurrent writer changed what a transaction relied on; it was rolled back and may be
    /// tried again.
    #[error("write race: {0}")]
    Race(&'static str),
    /// A uniqueness rule: the named thing already exists.
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// Migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database would acknowledge a commit before it is on disk.
    #[error("the database is not durable: {0}")]
    NotDurable(String),
    /// Anything else from the database.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Anything from the SQLite ledger writer's own connection.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The schema is not the one this build's code was written for.
    #[error("unexpected database schema: {0}")]
    Schema(String),
    /// The thread that records a SQLite batch stopped before answering.
    #[error("the ledger writer stopped: {0}")]
    WriterGone(String),
    /// The SQLite ledger's write-ahead log could not be synced: its last commits are not known to
    /// be on disk.
    #[error("could not sync the ledger's write-ahead log: {0}")]
    WalSync(String),
}

/// Why settings read off a database would let an acknowledged commit be lost, if they would.
/// `fsync` and `synchronous_commit` as PostgreSQL's `SHOW` prints them; SQLite's
/// `PRAGMA synchronous` (2 FULL, 3 EXTRA) and `journal_mode`.
pub fn weak_durability(settings: &DurabilitySettings) -> Option<String> {
    match settings {
        DurabilitySettings::Postgres {
            fsync,
            synchronous_commit,
        } => {
            if fsync != "on" {
                Some(format!("PostgreSQL runs with fsync={fsync}"))
            } else if synchronous_commit == "off" {
                Some("PostgreSQL runs with synchronous_commit=off".to_owned())
            } else {
                None
            }
        }
        DurabilitySettings::Sqlite {
            synchronous,
            journal_mode,
        } => {
            if *synchronous < 2 {
                Some(format!(
                    "SQLite runs with synchronous={synchronous} (FULL is 2)"
                ))
            } else if !journal_mode.eq_ignore_ascii_case("wal") {
                Some(format!(
                    "SQLite runs with journal_mode={journal_mode}, not WAL"
                ))
            } else {
                None
            }
        }
    }
}

/// The settings that decide whether a commit is on disk when it is acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurabilitySettings {
    /// PostgreSQL's.
    Postgres {
        /// `SHOW fsync`.
        fsync: String,
        /// `SHOW synchronous_commit`.
        synchronous_commit: String,
    },
    /// SQLite's, on a pooled connection.
    Sqlite {
        /// `PRAGMA synchronous`.
        synchronous: i64,
        /// `PRAGMA journal_mode`.
        journal_mode: String,
    },
}

impl StoreError {
    /// Turns a unique violation into [`StoreError::Duplicate`] naming `what`.
    pub fn or_duplicate(error: sqlx::Error, what: &'static str) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Duplicate(what),
            _ => Self::Database(error),
        }
    }

    /// Whether the database could not do the work right now, through no fault of the request:
    /// the disk is full or failing, the server is gone or shutting down, no connection came in
    /// time. Nothing was written, and the same request may succeed later.
    pub fn is_unavailable(&self) -> bool {
        let error = match self {
            Self::Database(error) => error,
            // The ledger writer's own SQLite connection: the same primary codes as below.
            Self::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) => {
                use rusqlite::ErrorCode::{
                    DatabaseBusy, DatabaseLocked, DiskFull, SystemIoFailure,
                };
                return matches!(
                    failure.code,
                    DatabaseBusy | DatabaseLocked | SystemIoFailure | DiskFull
                );
            }
            Self::WriterGone(_) | Self::WalSync(_) => return true,
            _ => return false,
        };
        match error {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    // The primary result code: SQLITE_BUSY 5, SQLITE_LOCKED 6, SQLITE_IOERR 10
                    // (a failed fsync among them), SQLITE_FULL 13.
                    let primary = code.parse::<i64>().map_or(0, |c| c & 0xff);
                    matches!(primary, 5 | 6 | 10 | 13)
                } else {
                    // PostgreSQL's SQLSTATE classes: 08 connection, 53 insufficient resources
                    // (53100 disk full), 57P0x shutting down.
                    code.starts_with("08") || code.starts_with("53") || code.starts_with("57P0")
                }
            }
            _ => false,
        }
    }
}

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A connection pool to either backend.
#[derive(Debug, Clone)]
pub enum Store {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the store's native pool: the same query text and code,
/// compiled once per backend.
#[macro_export]
macro_rules! dispatch {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}

/// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite (take the write lock now, waiting up to
/// the busy timeout), a plain `BEGIN` on PostgreSQL.
#[macro_export]
macro_rules! write_transaction {
    ($store:expr, $tx:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite(pool) => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                $body
            }
            $crate::store::Store::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                $body
            }
        }
    };
}

/// Begins a read-only transaction whose statements all see one snapshot of the database, while
/// writes go on: a deferred `BEGIN` on SQLite (WAL readers keep the snapshot of their first read),
/// `REPEATABLE READ READ ONLY` on PostgreSQL.
#[macro_export]
macro_rules! read_snapshot {
    ($store:expr, $tx:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite(pool) => {
                let mut $tx = pool.begin().await?;
                $body
            }
            $crate::store::Store::Postgres(pool) => {
                let mut $tx = pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?;
                $body
            }
        }
    };
}

/// Prepared statements kept per connection (sqlx's default is 100).
const STATEMENT_CACHE: usize = 1024;

/// Page cache per SQLite connection, in KiB (negative: a size, not a page count). The default,
/// 2 MiB, makes a board's stall lines over a million credits wait on the disk cache: 21 ms
/// against 9 ms with 16 MiB (`benches/stats.rs`). Eight connections: at most 128 MiB.
pub(crate) const SQLITE_CACHE_KIB: &str = "-16384";

/// How long a SQLite writer waits for the lock before giving up.
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl Store {
    /// Connects to `url`: `sqlite://PATH` (created if missing) or `postgres://…`.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let text = url.expose();
        if text.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(text)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .statement_cache_capacity(STATEMENT_CACHE)
                .pragma("cache_size", SQLITE_CACHE_KIB)
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                // A statement that fails for want of disk space (SQLITE_FULL) or an I/O error
                // makes SQLite roll the transaction back itself; sqlx's rollback then fails and
                // the connection stays "in a transaction" for sqlx, refusing every BEGIN after.
                // Such a connection is closed instead of handed out, so writes resume once the
                // disk has room again.
                .before_acquire(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
                .connect_with(options)
                .await?;
            Ok(Self::Sqlite(pool))
        } else if text.starts_with("postgres:") || text.starts_with("postgresql:") {
            // The ledger's batch statements take one shape per batch size: keep them all prepared.
            let options =
                PgConnectOptions::from_str(text)?.statement_cache_capacity(STATEMENT_CACHE);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Self::Postgres(pool))
        } else {
            Err(StoreError::UnsupportedUrl(url.redacted()))
        }
    }

    /// The settings that decide whether an acknowledged commit is on disk.
    pub async fn durability(&self) -> Result<DurabilitySettings, StoreError> {
        Ok(match self {
            Self::Postgres(pool) => DurabilitySettings::Postgres {
                fsync: sqlx::query_scalar("SHOW fsync").fetch_one(pool).await?,
                synchronous_commit: sqlx::query_scalar("SHOW synchronous_commit")
                    .fetch_one(pool)
                    .await?,
            },
            Self::Sqlite(pool) => {
                let mut connection = pool.acquire().await?;
                DurabilitySettings::Sqlite {
                    synchronous: sqlx::query_scalar("PRAGMA synchronous")
                        .fetch_one(&mut *connection)
                        .await?,
                    journal_mode: sqlx::query_scalar("PRAGMA journal_mode")
                        .fetch_one(&mut *connection)
                        .await?,
                }
            }
        })
    }

    /// Refuses a database that would acknowledge a commit before it is on disk.
    pub async fn require_durable(&self) -> Result<(), StoreError> {
        match weak_durability(&self.durability().await?) {
            Some(why) => Err(StoreError::NotDurable(why)),
            None => Ok(()),
        }
    }

    /// Connects and brings the schema up to date.
    pub async fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations of this backend that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await?,
            Self::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// The engine behind this store.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        dispatch!(self, pool => pool.close().await);
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// The page of a listing a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based page number.
    pub number: i64,
    /// Rows per page, 1–500.
    pub size: i64,
}

impl Page {
    /// The most rows one page may hold.
    pub const MAX_SIZE: i64 = 500;

    /// Clamps a requested page into range.
    pub fn new(number: Option<i64>, size: Option<i64>) -> Self {
        Self {
            number: number.unwrap_or(1).max(1),
            size: size.unwrap_or(50).clamp(1, Self::MAX_SIZE),
        }
    }

    /// Rows to skip.
    pub fn offset(self) -> i64 {
        (self.number - 1).saturating_mul(self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_database_that_cannot_work_now_is_unavailable_and_a_bad_statement_is_not() {
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(!StoreError::Duplicate("stall").is_unavailable());
        // One connection: an in-memory database is the connection's own.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let failed = |sql: &'static str| {
            let pool = pool.clone();
            async move { StoreError::from(sqlx::query(sql).execute(&pool).await.unwrap_err()) }
        };
        // A full database: SQLITE_FULL once the page limit is reached.
        let full = async {
            sqlx::query("PRAGMA max_page_count = 2")
                .execute(&pool)
                .await
                .unwrap();
            sqlx::query("CREATE TABLE t (x TEXT)")
                .execute(&pool)
                .await
                .unwrap();
            failed("INSERT INTO t SELECT hex(randomblob(5000))").await
        };
        assert!(full.await.is_unavailable());
        assert!(!failed("SELECT * FROM no_such_table").await.is_unavailable());
    }

    #[test]
    fn only_settings_that_keep_a_commit_on_disk_pass() {
        let pg = |fsync: &str, commit: &str| DurabilitySettings::Postgres {
            fsync: fsync.into(),
            synchronous_commit: commit.into(),
        };
        assert_eq!(weak_durability(&pg("on", "on")), None);
        assert_eq!(weak_durability(&pg("on", "local")), None);
        assert!(
            weak_durability(&pg("off", "on"))
                .unwrap()
                .contains("fsync=off")
        );
        assert!(
            weak_durability(&pg("on", "off"))
                .unwrap()
                .contains("synchronous_commit")
        );
        let lite = |synchronous, mode: &str| DurabilitySettings::Sqlite {
            synchronous,
            journal_mode: mode.into(),
        };
        assert_eq!(weak_durability(&lite(2, "wal")), None);
        assert!(weak_durability(&lite(1, "wal")).is_some());
        assert!(weak_durability(&lite(2, "delete")).is_some());
    }

    #[test]
    fn passwords_never_show_in_debug_or_display() {
        let url = DatabaseUrl::new("postgres://chopay:s3cret@db.local:5432/chopay");
        assert_eq!(
            format!("{url:?}"),
            "DatabaseUrl(postgres://chopay:***@db.local:5432/chopay)"
        );
        assert_eq!(
            url.to_string(),
            "postgres://chopay:***@db.local:5432/chopay"
        );
        assert_eq!(
            DatabaseUrl::new("sqlite://chopay.db").to_string(),
            "sqlite://chopay.db"
        );
    }

    #[test]
    fn pages_stay_in_range() {
        assert_eq!(
            Page::new(None, None),
            Page {
                number: 1,
                size: 50
            }
        );
        assert_eq!(
            Page::new(Some(0), Some(10_000)),
            Page {
                number: 1,
                size: 500
            }
        );
        assert_eq!(Page::new(Some(3), Some(20)).offset(), 40);
    }
}
