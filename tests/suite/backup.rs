//! Online backups under load: `chopay backup --to PATH` copies a SQLite database while
//! `chopay simulate` pays the real server, and the copy's books balance; on PostgreSQL,
//! `pg_basebackup` of the test server under the same load starts as a second cluster whose books
//! balance. Also the throwaway-cluster helper the PostgreSQL durability test shares.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chopay::store::{DatabaseUrl, Store};

use crate::app::{TestDatabase, assert_books_balance, on_postgres};
use crate::crash::{
    Served, delivery_counts, finish_simulate, free_port, ledger_rows, prepare, simulate,
};
use crate::helpers::{Run, chopay};

/// A PostgreSQL program: on `PATH`, else the newest Debian install (`/usr/lib/postgresql/*/bin`).
pub fn pg_program(name: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file());
    let debian = || {
        let mut installed: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path().join("bin").join(name))
            .filter(|candidate| candidate.is_file())
            .collect();
        installed.sort();
        installed.pop()
    };
    on_path.or_else(debian).unwrap_or_else(|| {
        panic!(
            "{name} is needed by this test; install the Debian package postgresql (.ci/run does)"
        )
    })
}

/// Runs a PostgreSQL server program as the `postgres` user (the server refuses to run as root).
fn as_postgres(program: &str, args: &[&str]) -> std::process::Output {
    let program = pg_program(program);
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut command = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]);
        c
    } else {
        let mut c = Command::new("sudo");
        c.args(["-u", "postgres", "--"]);
        c
    };
    command
        .arg(program)
        .args(args)
        .current_dir("/")
        .output()
        .expect("the PostgreSQL program runs")
}

/// A throwaway PostgreSQL server of our own, on a free 127.0.0.1 port, stopped and removed when
/// dropped.
pub struct PgCluster {
    dir: tempfile::TempDir,
    pub port: u16,
    fsync: bool,
    running: bool,
}

impl PgCluster {
    /// A new cluster (initdb), started; `fsync` on or off.
    pub fn init(fsync: bool) -> Self {
        let dir = Self::data_dir();
        let data = dir.path().to_str().unwrap().to_owned();
        let made = as_postgres(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
        );
        assert!(
            made.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        Self::from_data(dir, fsync)
    }

    /// A new cluster (`fsync` on) holding one empty database `name`; its URL.
    pub async fn with_database(name: &str) -> (Self, String) {
        let cluster = tokio::task::spawn_blocking(|| Self::init(true))
            .await
            .unwrap();
        let admin = sqlx::PgPool::connect(&cluster.url("postgres"))
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let url = cluster.url(name);
        (cluster, url)
    }

    /// An empty directory the `postgres` user owns, for a cluster's data.
    pub fn data_dir() -> tempfile::TempDir {
        let dir = tempfile::Builder::new()
            .prefix("chopay-pg.")
            .tempdir()
            .unwrap();
        own_by_postgres(dir.path());
        dir
    }

    /// Starts a cluster on data already in `dir` (a base backup, say).
    pub fn from_data(dir: tempfile::TempDir, fsync: bool) -> Self {
        let mut cluster = Self {
            dir,
            port: free_port(),
            fsync,
            running: false,
        };
        cluster.start();
        cluster
    }

    /// `postgres://postgres@127.0.0.1:PORT/DATABASE`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The server's log: next to the data directory (`DIR.log`), removed with it.
    fn log(&self) -> String {
        format!("{}.log", self.dir.path().display())
    }

    pub fn start(&mut self) {
        let data = self.dir.path().to_str().unwrap().to_owned();
        let options = format!(
            "-p {} -k {data} -c listen_addresses=127.0.0.1 -c fsync={}",
            self.port,
            if self.fsync { "on" } else { "off" }
        );
        // Outside the data directory, so a base backup does not carry the source's log along.
        let log = self.log();
        let started = as_postgres(
            "pg_ctl",
            &[
                "-D", &data, "-o", &options, "-w", "-t", "60", "-l", &log, "start",
            ],
        );
        assert!(
            started.status.success(),
            "pg_ctl start: {}\n{}",
            String::from_utf8_lossy(&started.stderr),
            tail(&std::fs::read_to_string(&log).unwrap_or_default())
        );
        self.running = true;
    }

    /// A fast shutdown: clients are disconnected.
    pub fn stop(&mut self) {
        let data = self.dir.path().to_str().unwrap().to_owned();
        let stopped = as_postgres(
            "pg_ctl",
            &["-D", &data, "-m", "fast", "-w", "-t", "60", "stop"],
        );
        assert!(
            stopped.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&stopped.stderr)
        );
        self.running = false;
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.running {
            let data = self.dir.path().to_str().unwrap_or_default().to_owned();
            let _ = as_postgres("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        }
        let _ = std::fs::remove_file(self.log());
    }
}

/// The last lines of a log, for failure messages.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

fn own_by_postgres(path: &Path) {
    let owned = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(path)
        .status()
        .expect("chown runs");
    assert!(owned.success(), "chown postgres {}", path.display());
}

async fn count(url: &str, channel: i64) -> usize {
    let store = Store::connect(&DatabaseUrl::new(url.to_owned()))
        .await
        .unwrap();
    let rows = ledger_rows(&store, channel).await.len();
    store.close().await;
    rows
}

/// Runs `take` halfway through a bounded crowd's payments to a real server on `database_url`;
/// returns what it returned, with the live ledger's size once the crowd is done.
async fn under_load<T: Send + 'static>(
    database_url: &str,
    take: impl FnOnce() -> T + Send + 'static,
) -> (T, usize, i64) {
    let prepared = prepare(database_url).await;
    let channel = prepared.channel;
    let url = database_url.to_owned();
    let taken = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let server = Served::start(&url, free_port(), &dir.path().join("server.log"));
        let acked = dir.path().join("acked.jsonl");
        let crowd = simulate(&server.base, &prepared, 60, 4, 30, &acked);
        std::thread::sleep(Duration::from_millis(2000));
        let taken = take();
        let summary = finish_simulate(crowd, Duration::from_secs(90));
        let [_, acknowledged, _, failed] = delivery_counts(&summary);
        assert!(acknowledged > 0 && failed == 0, "{summary}");
        taken
    })
    .await
    .unwrap();
    (taken, count(database_url, channel).await, channel)
}

/// `chopay backup --to TO --database-url URL`.
fn backup(to: &Path, url: &str) -> Run {
    chopay(&[
        "backup",
        "--to",
        to.to_str().unwrap(),
        "--database-url",
        url,
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_payments_land_opens_with_books_that_balance() {
    let database = TestDatabase::new().await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.db");
    if on_postgres() {
        prepare(&database.url).await;
        let run = backup(&copy, &database.url);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("pg_basebackup"), "{}", run.stderr);
        assert!(!copy.exists());
        return;
    }
    let target = copy.clone();
    let url = database.url.clone();
    let ((run, took), live, channel) = under_load(&database.url, move || {
        let started = Instant::now();
        let run = backup(&target, &url);
        (run, started.elapsed())
    })
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed = run.stdout_text();
    assert!(printed.contains("bytes in"), "{printed}");
    let bytes = std::fs::metadata(&copy).unwrap().len();
    let copy_url = format!("sqlite://{}", copy.display());
    let store = Store::connect(&DatabaseUrl::new(copy_url.clone()))
        .await
        .unwrap();
    assert_books_balance(&store).await;
    store.close().await;
    let in_copy = count(&copy_url, channel).await;
    assert!(in_copy > 0, "the backup was taken while payments landed");
    assert!(
        in_copy <= live,
        "{in_copy} credits in the copy, {live} live"
    );
    eprintln!(
        "backup (SQLite, VACUUM INTO) under load: {bytes} bytes in {} ms, {in_copy} of the crowd's {live} credits",
        took.as_millis()
    );

    // A backup never overwrites, and never makes the database it was asked to copy.
    let again = backup(&copy, &database.url);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    let missing = dir.path().join("missing.db");
    let nothing = backup(
        &dir.path().join("other.db"),
        &format!("sqlite://{}", missing.display()),
    );
    assert_eq!(nothing.code, 2, "{}", nothing.stderr);
    assert!(
        nothing.stderr.contains("does not exist"),
        "{}",
        nothing.stderr
    );
    assert!(!missing.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs pg_basebackup and pg_ctl (Debian package postgresql; .ci/run installs it)"]
async fn a_pg_basebackup_taken_while_payments_land_starts_with_books_that_balance() {
    if !on_postgres() {
        // The SQLite pass has its online backup in the test above.
        return;
    }
    // A cluster of our own (fsync on), so the backup holds this test's database only.
    let name = "chopay_backup";
    let (source, database_url) = PgCluster::with_database(name).await;
    let server = source.url("postgres");
    let backup_dir = PgCluster::data_dir();
    let target = backup_dir.path().to_str().unwrap().to_owned();
    let ((made, took), live, channel) = under_load(&database_url, move || {
        let started = Instant::now();
        // As `postgres`, so the copy has the owner and modes a server accepts.
        let made = as_postgres(
            "pg_basebackup",
            &["-d", &server, "-D", &target, "-X", "stream", "-c", "fast"],
        );
        (made, started.elapsed())
    })
    .await;
    assert!(
        made.status.success(),
        "pg_basebackup: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let bytes = directory_bytes(backup_dir.path());
    // A server refuses a data directory others can read.
    std::fs::set_permissions(backup_dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let restored = PgCluster::from_data(backup_dir, false);
    let url = restored.url(name);
    let store = Store::connect(&DatabaseUrl::new(url.clone()))
        .await
        .unwrap();
    assert_books_balance(&store).await;
    store.close().await;
    let in_copy = count(&url, channel).await;
    assert!(
        in_copy > 0 && in_copy <= live,
        "{in_copy} credits in the copy, {live} live"
    );
    drop(restored);
    drop(source);
    eprintln!(
        "backup (PostgreSQL, pg_basebackup -X stream) under load: {bytes} bytes in {} ms, {in_copy} of the crowd's {live} credits",
        took.as_millis()
    );
}

fn directory_bytes(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => directory_bytes(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}
