//! What the board-figure benchmarks (`stats.rs`, `scale.rs`) share: a fresh database per backend
//! (SQLite file in a temporary directory, or a new PostgreSQL database dropped after), bulk-SQL
//! helpers (a generated series, the rollups built from the credits and checked against them),
//! medians, the load average and Markdown tables.

// Each bench includes this module and uses most, not all, of it.
#![allow(dead_code)]

use std::time::Duration;

use sqlx::{AssertSqlSafe, Connection};

use chopay::dispatch;
use chopay::domain::day::Day;
use chopay::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const ALL: [Self; 2] = [Self::Sqlite, Self::Postgres];

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    /// What refreshes the planner's statistics after a bulk load (PostgreSQL: what autovacuum
    /// does after one, visibility map included).
    pub fn analyze(self) -> &'static str {
        match self {
            Self::Sqlite => "ANALYZE",
            Self::Postgres => "VACUUM ANALYZE",
        }
    }
}

/// The backends named on the command line (`-- sqlite`, `-- postgres`; both when neither is),
/// PostgreSQL only when `postgres` (its server's URL) is known.
pub fn backends(args: &[String], postgres: Option<&str>, bench: &str) -> Vec<Backend> {
    let words: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(|a| a.to_lowercase())
        .collect();
    let named = |b: Backend| words.iter().any(|w| w.contains(b.name()));
    let wanted = |b: Backend| named(b) || !Backend::ALL.iter().any(|&o| named(o));
    let mut out = Vec::new();
    if wanted(Backend::Sqlite) {
        out.push(Backend::Sqlite);
    }
    if wanted(Backend::Postgres) {
        if postgres.is_some() {
            out.push(Backend::Postgres);
        } else {
            println!("{bench}: PostgreSQL skipped (set CHOPAY_BENCH_POSTGRES_URL=postgres://…)");
        }
    }
    out
}

/// `CHOPAY_BENCH_POSTGRES_URL`, when set.
pub fn postgres_url() -> Option<String> {
    std::env::var("CHOPAY_BENCH_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// Whether `cargo bench` runs us (`--bench`), not `cargo test --benches` (criterion's test mode).
pub fn benchmarking(args: &[String]) -> bool {
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test")
}

/// A whole number from the environment (`_` and spaces allowed), at least `min`.
pub fn env_count(name: &str, min: i64) -> Option<i64> {
    let text = std::env::var(name).ok()?;
    Some(
        text.trim()
            .replace(['_', ' '], "")
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= min)
            .unwrap_or_else(|| panic!("{name} must be an integer ≥ {min}, not {text:?}")),
    )
}

/// Whether the environment variable is set to something other than `0`.
pub fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// A fresh database for one backend, or one kept from an earlier run.
pub enum Db {
    Sqlite {
        dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin: String,
        name: String,
        url: String,
    },
    /// Given by URL: used as it is, never dropped.
    Existing {
        url: String,
    },
}

impl Db {
    /// A new, empty database: SQLite file `file` in a temporary directory, or a database
    /// `bench_<random>` on the server of `postgres`.
    pub async fn fresh(backend: Backend, postgres: Option<&str>, file: &str) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join(file).display());
                Self::Sqlite { dir, url }
            }
            Backend::Postgres => {
                let admin = postgres.expect("CHOPAY_BENCH_POSTGRES_URL").to_owned();
                let name = format!("bench_{:016x}", random_u64());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .expect("connect to CHOPAY_BENCH_POSTGRES_URL");
                sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("CREATE DATABASE");
                let _ = conn.close().await;
                let url = with_database(&admin, &name);
                Self::Postgres { admin, name, url }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } | Self::Existing { url } => url,
        }
    }

    /// Drops the database, or keeps it (and says where) when `keep`.
    pub async fn drop(self, keep: bool) {
        match self {
            Self::Existing { .. } => {}
            Self::Sqlite { dir, url } => {
                if keep {
                    let path = dir.keep();
                    println!("  kept: {url} (directory {})", path.display());
                }
            }
            Self::Postgres { admin, name, url } => {
                if keep {
                    println!("  kept: {url}");
                    return;
                }
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .expect("connect to CHOPAY_BENCH_POSTGRES_URL");
                sqlx::query(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .expect("DROP DATABASE");
                let _ = conn.close().await;
            }
        }
    }

    /// What the database is and how big: `sqlite (WAL, synchronous=FULL; files 123 MB)` or
    /// `postgres 15.x (fsync=off, shared_buffers=128MB); database 456 MB`.
    pub async fn label(&self, store: &Store) -> String {
        match store {
            Store::Sqlite(_) => {
                let path = self.url().trim_start_matches("sqlite://");
                // The database file and its write-ahead log.
                let size: u64 = ["", "-wal"]
                    .iter()
                    .filter_map(|tail| std::fs::metadata(format!("{path}{tail}")).ok())
                    .map(|m| m.len())
                    .sum();
                format!("sqlite (WAL, synchronous=FULL; files {} MB)", size >> 20)
            }
            Store::Postgres(pool) => {
                let mut values = Vec::new();
                for setting in ["server_version", "fsync", "shared_buffers"] {
                    let value: String =
                        sqlx::query_scalar(AssertSqlSafe(format!("SHOW {setting}")))
                            .fetch_one(pool)
                            .await
                            .unwrap_or_else(|_| "?".into());
                    values.push(value);
                }
                let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(pool)
                    .await
                    .unwrap_or(0);
                format!(
                    "postgres {} (fsync={}, shared_buffers={}); database {} MB",
                    values[0],
                    values[1],
                    values[2],
                    size >> 20
                )
            }
        }
    }
}

fn random_u64() -> u64 {
    let mut bytes = [0_u8; 8];
    getrandom::fill(&mut bytes).expect("randomness");
    u64::from_le_bytes(bytes)
}

/// `admin` with its database name replaced by `name` (query string kept).
fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin, String::new()),
    };
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{authority}/{name}{query}")
}

// ------------------------------------------------------------------------------------------------
// Bulk SQL

/// The generated series of integers `from..=to` (placeholders or literals), as a CTE named
/// `g(i)`: a recursive CTE on SQLite, `generate_series` on PostgreSQL.
pub fn series(backend: Backend, from: &str, to: &str) -> String {
    match backend {
        Backend::Sqlite => format!(
            "RECURSIVE g(i) AS (SELECT CAST({from} AS INTEGER) UNION ALL SELECT i + 1 FROM g WHERE i < {to})"
        ),
        Backend::Postgres => {
            format!(
                "g(i) AS (SELECT generate_series(CAST({from} AS BIGINT), CAST({to} AS BIGINT)))"
            )
        }
    }
}

/// The rollups of the credits `WHERE {filter}`, built as the ledger would have kept them and in
/// the order it would have made them (a stall's row of a day comes with its first credit of that
/// day), so the table is laid out on disk as after a year of use.
pub fn rollups(filter: &str) -> String {
    format!(
        "INSERT INTO credit_days (market_id, stall_id, day, credits, amount_dong, \
     dynamic_credits, dynamic_amount_dong, static_credits, static_amount_dong, unmatched_credits, unmatched_amount_dong) \
     SELECT market_id, COALESCE(stall_id, 0), day, COUNT(*), SUM(amount_dong), \
     SUM(CASE WHEN outcome LIKE 'order%' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome LIKE 'order%' THEN amount_dong ELSE 0 END), \
     SUM(CASE WHEN outcome = 'static_payment' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'static_payment' THEN amount_dong ELSE 0 END), \
     SUM(CASE WHEN outcome = 'unmatched' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'unmatched' THEN amount_dong ELSE 0 END) \
     FROM credits WHERE {filter} GROUP BY market_id, COALESCE(stall_id, 0), day ORDER BY day, MIN(received_at_ms)"
    )
}

/// Asserts that the rollups say what the credits say (count and sum, and the kinds adding up to
/// them); answers the ledger's (count, sum).
pub async fn assert_rollups_add_up(store: &Store) -> (i64, i64) {
    let ledger = scalar_pair(
        store,
        "SELECT COUNT(*), CAST(COALESCE(SUM(amount_dong), 0) AS BIGINT) FROM credits",
    )
    .await;
    let rolled = scalar_pair(
        store,
        "SELECT CAST(COALESCE(SUM(credits), 0) AS BIGINT), CAST(COALESCE(SUM(amount_dong), 0) AS BIGINT) FROM credit_days",
    )
    .await;
    assert_eq!(ledger, rolled, "credit_days (count, sum) == credits");
    let by_kind = scalar_pair(
        store,
        "SELECT CAST(COALESCE(SUM(dynamic_credits + static_credits + unmatched_credits), 0) AS BIGINT), \
         CAST(COALESCE(SUM(dynamic_amount_dong + static_amount_dong + unmatched_amount_dong), 0) AS BIGINT) FROM credit_days",
    )
    .await;
    assert_eq!(by_kind, ledger, "the kinds add up to the credits");
    ledger
}

pub async fn exec(store: &Store, sql: &str) {
    dispatch!(store, pool => sqlx::query(AssertSqlSafe(sql.to_owned())).execute(pool).await.map(|_| ()))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

pub async fn scalar_pair(store: &Store, sql: &'static str) -> (i64, i64) {
    dispatch!(store, pool => sqlx::query_as::<_, (i64, i64)>(sql).fetch_one(pool).await)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The first and last day of the month before `today`'s.
pub fn last_month(today: Day) -> (Day, Day) {
    let first_of_this = Day::from_number(today.number() / 100 * 100 + 1).expect("a date");
    let last = first_of_this.plus_days(-1);
    let first = Day::from_number(last.number() / 100 * 100 + 1).expect("a date");
    (first, last)
}

// ------------------------------------------------------------------------------------------------
// Reporting

pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

pub fn shown(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else if seconds >= 0.01 {
        format!("{:.1} ms", seconds * 1e3)
    } else if seconds >= 0.001 {
        format!("{:.2} ms", seconds * 1e3)
    } else {
        format!("{:.0} µs", seconds * 1e6)
    }
}

pub fn seconds(took: Duration) -> String {
    format!("{:.1} s", took.as_secs_f64())
}

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "?".into())
}

/// Prints a Markdown table.
pub fn table(first: &str, columns: &[&str], rows: &[(String, Vec<String>)]) {
    println!();
    println!("| {first} | {} |", columns.join(" | "));
    println!("|---|{}", "---:|".repeat(columns.len()));
    for (name, cells) in rows {
        println!("| {name} | {} |", cells.join(" | "));
    }
}
