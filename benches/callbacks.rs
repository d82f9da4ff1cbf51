//! Webhook callback benchmark: the whole chopay path of a bank notification (verify the Standard
//! Webhooks signature, match the credit to an order or a stall, record it in the ledger, answer
//! 200) against a real HTTP server on loopback, on SQLite and on PostgreSQL, beside two baselines
//! measured in the same run on the same machine:
//!
//! - `bare`: an axum handler that answers 200 to the same POST (no database);
//! - `naive`: an axum handler that verifies the same HMAC-SHA256 signature over the raw body,
//!   parses the JSON and inserts one row per request with sqlx (autocommit, no batching), on a
//!   pool (SQLite: WAL, `synchronous=FULL`, 8 connections, as chopay's store; PostgreSQL: 16);
//! - `chopay`: `chopay::http::router` over a seeded store (the Ba Vì demo, market `cho-mo`: 56
//!   stalls with accounts), one `chopay` channel and `CALLBACKS_ORDERS` pending orders.
//!
//! Every delivery has a new transaction id, so every 200 is a new ledger row. The mix is ~50 %
//! payments of an order by its reference in the description (delivery `i` can only pay order
//! `i mod CALLBACKS_ORDERS`, so two payments of one order are never in flight together; after the
//! first payment an order is overpaid), ~40 % static payments to a stall's account, ~10 % into an
//! account no stall has (unmatched). All requests are built and signed before timing starts (the
//! signature is the sender's cost): each is a complete HTTP/1.1 request in memory.
//!
//! The server runs in this process on its own multi-thread Tokio runtime (2 workers on a 2-core
//! machine), bound to 127.0.0.1:0. The load comes from a separate runtime
//! (`CALLBACKS_CLIENT_THREADS` workers, default 2) over K keep-alive HTTP/1.1 connections, each
//! sending one request at a time (closed loop). The default client is a minimal HTTP/1.1 client
//! over `tokio::net::TcpStream` that writes the pre-built bytes and reads the answer by
//! `content-length`, so the load generator costs as little CPU as possible: it shares the cores
//! with the server. `CALLBACKS_CLIENT=reqwest` uses a pooled reqwest client instead.
//!
//! Per configuration: a fresh database, a warm-up (`CALLBACKS_WARMUP`, 2 s), then a measured
//! phase (`CALLBACKS_SECONDS`, 5 s). Reported: deliveries/s, their ratio to the bare handler's in
//! the same run (`× bare`, at the same K), p50/p99/max latency of the measured phase, answers
//! other than 200 (all phases), whether the rows in the table (`credits` or the naive table)
//! equal the 200 answers (all phases), the deadlocks PostgreSQL counted in the run's database
//! (`pg_stat_database`), and the CPU other processes used meanwhile (`other cpu %`, from `/proc`:
//! anything well above 0 means the machine was shared and the row should be re-run). The line
//! printed per run also splits the CPU (client, server runtime, SQLite worker threads,
//! PostgreSQL, kernel threads, irq) and counts context switches per delivery.
//!
//! Not measured: logging. `chopay serve` installs a `tracing` fmt subscriber (level info, so the
//! per-request spans are built but nothing is printed per request); here no subscriber is
//! installed (except in the `trace` runs), which makes the in-process server slightly cheaper.
//!
//! Extra tables: `batch-<backend>` times a `store::ledger::Writer` directly at fixed batch
//! sizes (what one ledger batch costs), and `trace` (only when asked for) re-runs chopay with a
//! `tracing` layer on sqlx's statement events to show where its database time goes under load,
//! statement by statement (it perturbs the run a little).
//!
//! Run:
//!
//! ```text
//! cargo bench --bench callbacks                       # everything available
//! cargo bench --bench callbacks -- sqlite             # scenarios whose name has every word
//! cargo bench --bench callbacks -- chopay postgres
//! cargo bench --bench callbacks -- trace sqlite       # the traced chopay run
//! CHOPAY_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench callbacks
//! ```
//!
//! Scenario names: `bare`, `naive-sqlite`, `chopay-sqlite`, `batch-sqlite`, and with
//! `CHOPAY_BENCH_POSTGRES_URL` set `naive-postgres`, `chopay-postgres`, `batch-postgres` (a fresh
//! database `bench_<random>` is created for each run and dropped after), plus
//! `trace-chopay-sqlite` / `trace-chopay-postgres`, which run only when a filter word is `trace`.
//! Environment: `CALLBACKS_SECONDS` (5), `CALLBACKS_WARMUP` (2), `CALLBACKS_CONCURRENCY`
//! (`16,64`), `CALLBACKS_CLIENT_THREADS` (2), `CALLBACKS_CLIENT` (`raw` or `reqwest`),
//! `CALLBACKS_ORDERS` (2000), `CALLBACKS_NAIVE_SQLITE_POOL` (8: connections of the naive SQLite
//! pool; with 1 the writers queue in the pool instead of in SQLite's busy handler),
//! `CALLBACKS_SQLITE_SYNC` (FULL; NORMAL or OFF run chopay and naive on SQLite without the fsync
//! per commit, to show what the commit costs: not durable, a diagnostic only).

// A benchmark whose setup is wrong must stop, not measure something else.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::as_conversions
)]

/// The server's allocator, as in `src/main.rs`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Connection, PgPool, SqlitePool};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

use chopay::domain::money::Vnd;
use chopay::http::{AppState, Limits, Settings, router};
use chopay::service::{channels, demo, orders};
use chopay::store::ledger::{self, CreditInput};
use chopay::store::{DatabaseUrl, Store, markets, now_ms, stalls};
use chopay::webhooks::{BankCredit, Secret, sign_chopay};

/// The market the deliveries pay into.
const MARKET: &str = "cho-mo";
/// An account no stall of the demo has.
const NOBODY_ACCOUNT: &str = "99887766554433";
/// Ledger batch sizes timed by the `batch-*` scenarios.
const BATCH_SIZES: [usize; 6] = [1, 4, 16, 64, 128, 256];

// ------------------------------------------------------------------------------------------------
// Configuration

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientKind {
    Raw,
    Reqwest,
}

#[derive(Debug, Clone)]
struct Config {
    seconds: f64,
    warmup: f64,
    concurrency: Vec<usize>,
    client_threads: usize,
    naive_sqlite_pool: usize,
    sqlite_sync: SqliteSynchronous,
    client: ClientKind,
    orders: usize,
    postgres: Option<String>,
    filter: Vec<String>,
}

fn env_f64(name: &str, default: f64) -> f64 {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| *v > 0.0)
            .unwrap_or_else(|| panic!("{name} must be a positive number, not {text:?}")),
        Err(_) => default,
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|v| *v > 0)
            .unwrap_or_else(|| panic!("{name} must be a positive integer, not {text:?}")),
        Err(_) => default,
    }
}

impl Config {
    fn from_env() -> Self {
        let concurrency = std::env::var("CALLBACKS_CONCURRENCY")
            .unwrap_or_else(|_| "16,64".into())
            .split(',')
            .map(|k| {
                k.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|k| (1..=4096).contains(k))
                    .unwrap_or_else(|| panic!("CALLBACKS_CONCURRENCY: bad value {k:?}"))
            })
            .collect();
        let client = match std::env::var("CALLBACKS_CLIENT").as_deref() {
            Err(_) | Ok("raw") => ClientKind::Raw,
            Ok("reqwest") => ClientKind::Reqwest,
            Ok(other) => panic!("CALLBACKS_CLIENT must be raw or reqwest, not {other:?}"),
        };
        Self {
            seconds: env_f64("CALLBACKS_SECONDS", 5.0),
            warmup: env_f64("CALLBACKS_WARMUP", 2.0),
            concurrency,
            client_threads: env_usize("CALLBACKS_CLIENT_THREADS", 2),
            naive_sqlite_pool: env_usize("CALLBACKS_NAIVE_SQLITE_POOL", 8),
            sqlite_sync: match std::env::var("CALLBACKS_SQLITE_SYNC")
                .unwrap_or_else(|_| "FULL".into())
                .to_uppercase()
                .as_str()
            {
                "FULL" => SqliteSynchronous::Full,
                "NORMAL" => SqliteSynchronous::Normal,
                "OFF" => SqliteSynchronous::Off,
                other => panic!("CALLBACKS_SQLITE_SYNC must be FULL, NORMAL or OFF, not {other:?}"),
            },
            client,
            orders: env_usize("CALLBACKS_ORDERS", 2000),
            postgres: std::env::var("CHOPAY_BENCH_POSTGRES_URL")
                .ok()
                .filter(|u| !u.trim().is_empty()),
            // `cargo bench` passes `--bench`; every other word filters scenarios.
            filter: std::env::args()
                .skip(1)
                .filter(|a| !a.starts_with("--"))
                .map(|a| a.to_lowercase())
                .collect(),
        }
    }

    fn selects(&self, name: &str) -> bool {
        let traced = name.starts_with("trace-");
        let asks_trace = self.filter.iter().any(|w| w == "trace");
        traced == asks_trace && self.filter.iter().all(|w| name.contains(w.as_str()))
    }
}

// ------------------------------------------------------------------------------------------------
// Scenarios and databases

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bare,
    Naive,
    Chopay,
}

#[derive(Debug, Clone, Copy)]
struct Scenario {
    kind: Kind,
    backend: Option<Backend>,
    traced: bool,
}

impl Scenario {
    fn name(self) -> String {
        let kind = match self.kind {
            Kind::Bare => "bare",
            Kind::Naive => "naive",
            Kind::Chopay => "chopay",
        };
        let mut name = match self.backend {
            Some(backend) => format!("{kind}-{}", backend.name()),
            None => kind.to_owned(),
        };
        if self.traced {
            name = format!("trace-{name}");
        }
        name
    }
}

/// A fresh database for one run.
enum Db {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin: String,
        name: String,
        url: String,
    },
}

impl Db {
    fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
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

async fn fresh_db(backend: Backend, config: &Config) -> Db {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("bench.db");
            let url = format!("sqlite://{}", path.display());
            Db::Sqlite { _dir: dir, url }
        }
        Backend::Postgres => {
            let admin = config.postgres.clone().expect("CHOPAY_BENCH_POSTGRES_URL");
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
            Db::Postgres { admin, name, url }
        }
    }
}

/// Drops a PostgreSQL run's database; answers the deadlocks PostgreSQL detected in it (counted
/// once its sessions have ended and reported their statistics).
async fn drop_db(db: Db) -> Option<i64> {
    if let Db::Postgres { admin, name, .. } = db {
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("connect to CHOPAY_BENCH_POSTGRES_URL");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let deadlocks: Option<i64> =
            sqlx::query_scalar("SELECT deadlocks FROM pg_stat_database WHERE datname = $1")
                .bind(&name)
                .fetch_optional(&mut conn)
                .await
                .ok()
                .flatten();
        sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await
        .expect("DROP DATABASE");
        let _ = conn.close().await;
        deadlocks
    } else {
        None
    }
}

/// `postgres(fsync=on,sc=on)`: the settings that decide what a commit costs.
async fn postgres_label(url: &str) -> String {
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    let mut settings = Vec::new();
    for setting in ["fsync", "synchronous_commit"] {
        let value: String = sqlx::query_scalar(AssertSqlSafe(format!("SHOW {setting}")))
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|_| "?".into());
        settings.push(value);
    }
    let _ = conn.close().await;
    let (fsync, commit) = (&settings[0], &settings[1]);
    format!("postgres(fsync={fsync},sync_commit={commit})")
}

// ------------------------------------------------------------------------------------------------
// What the deliveries pay

/// Who a delivery can pay: stall accounts and orders (real ones for chopay, look-alikes for the
/// baselines, so the bodies have the same shape and size).
#[derive(Debug, Clone)]
struct Payees {
    /// `(bin, account)` of stalls.
    stalls: Vec<(String, String)>,
    /// `(reference, amount, bin, account)` of pending orders.
    orders: Vec<(String, i64, String, String)>,
}

impl Payees {
    fn lookalike(orders: usize) -> Self {
        let stalls: Vec<(String, String)> = (0..56)
            .map(|k| ("970436".to_owned(), format!("10{k:08}")))
            .collect();
        let orders = (0..orders)
            .map(|k| {
                let (bin, account) = stalls[k % stalls.len()].clone();
                (
                    format!("CPZ{k:08}"),
                    10_000 + (k as i64 % 50) * 1000,
                    bin,
                    account,
                )
            })
            .collect();
        Self { stalls, orders }
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The fields of delivery number `index`.
struct Delivery {
    txn: String,
    amount: i64,
    bin: String,
    account: String,
    description: String,
}

fn delivery(run: u64, index: u64, payees: &Payees) -> Delivery {
    let roll = splitmix(index ^ run);
    let txn = format!("FT{run:08x}{index:010}");
    let pick = roll >> 8;
    match roll % 100 {
        // Half pay an order. Delivery `i` may only pay order `i mod orders`, so two payments of
        // one order are at least `orders` deliveries apart (no two in flight at once).
        0..50 => {
            let (reference, amount, bin, account) =
                &payees.orders[index as usize % payees.orders.len()];
            Delivery {
                description: format!(
                    "MBVCB.{:010}.{reference}.CT tu 0123456789 NGUYEN VAN A toi {account}",
                    pick % 10_000_000_000
                ),
                txn,
                amount: *amount,
                bin: bin.clone(),
                account: account.clone(),
            }
        }
        // Static poster payments to a stall's account, no reference.
        50..90 => {
            let (bin, account) = &payees.stalls[pick as usize % payees.stalls.len()];
            Delivery {
                description: format!("NGUYEN VAN A chuyen tien mua hang {}", pick % 100_000),
                txn,
                amount: 20_000 + (pick % 30) as i64 * 5_000,
                bin: bin.clone(),
                account: account.clone(),
            }
        }
        // Into an account no stall has: unmatched, kept for review.
        _ => Delivery {
            description: format!("Chuyen khoan {}", pick % 100_000),
            txn,
            amount: 50_000,
            bin: "970436".into(),
            account: NOBODY_ACCOUNT.into(),
        },
    }
}

fn body_json(d: &Delivery) -> String {
    format!(
        "{{\"transaction_id\":\"{}\",\"amount\":\"{}\",\"account_number\":\"{}\",\"bin\":\"{}\",\
         \"description\":\"{}\",\"counterparty_name\":\"NGUYEN VAN A\",\"counterparty_account\":\"0123456789\",\
         \"booked_at\":\"2026-11-23T10:00:00Z\"}}",
        d.txn, d.amount, d.account, d.bin, d.description
    )
}

/// Requests built and signed before timing.
enum Requests {
    /// Whole HTTP/1.1 requests, bytes on the wire.
    Raw(Vec<Vec<u8>>),
    /// Headers and body, for reqwest.
    Reqwest(Vec<ReqwestRequest>),
}

struct ReqwestRequest {
    id: String,
    timestamp: String,
    signature: String,
    body: Bytes,
}

/// Where and how to send.
#[derive(Clone)]
struct Target {
    addr: SocketAddr,
    path: String,
    secret: Secret,
    payees: Arc<Payees>,
    run: u64,
}

fn build_requests(target: &Target, client: ClientKind, from: u64, count: usize) -> Requests {
    let timestamp = now_ms() / 1000;
    let host = target.addr.to_string();
    let one = |index: u64| {
        let d = delivery(target.run, index, &target.payees);
        let body = body_json(&d);
        let id = format!("msg_{}", d.txn);
        let signature = sign_chopay(&target.secret, &id, timestamp, body.as_bytes())
            .unwrap_or_else(|e| panic!("cannot sign: {e}"));
        (id, signature, body)
    };
    match client {
        ClientKind::Raw => Requests::Raw(
            (from..from + count as u64)
                .map(|index| {
                    let (id, signature, body) = one(index);
                    let mut raw = format!(
                        "POST {} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nwebhook-id: {id}\r\nwebhook-timestamp: {timestamp}\r\n\
                         webhook-signature: {signature}\r\n\r\n",
                        target.path,
                        body.len()
                    )
                    .into_bytes();
                    raw.extend_from_slice(body.as_bytes());
                    raw
                })
                .collect(),
        ),
        ClientKind::Reqwest => Requests::Reqwest(
            (from..from + count as u64)
                .map(|index| {
                    let (id, signature, body) = one(index);
                    ReqwestRequest {
                        id,
                        timestamp: timestamp.to_string(),
                        signature,
                        body: Bytes::from(body),
                    }
                })
                .collect(),
        ),
    }
}

// ------------------------------------------------------------------------------------------------
// Servers

fn new_secret() -> String {
    let mut key = [0_u8; 32];
    getrandom::fill(&mut key).expect("randomness");
    format!("whsec_{}", STANDARD.encode(key))
}

async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("server") });
    addr
}

/// The bare baseline: 200 to a POST.
async fn start_bare(config: &Config) -> Target {
    let app = Router::new().route(
        "/webhooks/chopay/{channel}",
        post(|| async { StatusCode::OK }),
    );
    Target {
        addr: serve(app).await,
        path: "/webhooks/chopay/1".into(),
        secret: Secret::new(new_secret()),
        payees: Arc::new(Payees::lookalike(config.orders)),
        run: random_u64() >> 32,
    }
}

#[derive(Clone)]
enum NaivePool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Clone)]
struct Naive {
    pool: NaivePool,
    key: Arc<Vec<u8>>,
}

#[derive(serde::Deserialize)]
struct NaiveBody {
    transaction_id: String,
    amount: String,
    #[serde(default)]
    account_number: Option<String>,
    description: String,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The naive baseline: verify HMAC-SHA256 over `<id>.<timestamp>.<raw body>`, parse, insert one
/// row, answer.
async fn naive_handler(State(naive): State<Naive>, headers: HeaderMap, body: Bytes) -> Response {
    let (Some(id), Some(timestamp), Some(signature)) = (
        header(&headers, "webhook-id"),
        header(&headers, "webhook-timestamp"),
        header(&headers, "webhook-signature"),
    ) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let fresh = timestamp
        .parse::<i64>()
        .is_ok_and(|ts| (now_ms() / 1000 - ts).abs() <= 300);
    let Some(tag) = signature
        .strip_prefix("v1,")
        .and_then(|t| STANDARD.decode(t).ok())
    else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&naive.key).expect("key");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&body);
    if !fresh || mac.verify_slice(&tag).is_err() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Ok(parsed) = serde_json::from_slice::<NaiveBody>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Ok(amount) = parsed.amount.parse::<i64>() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    const INSERT: &str = "INSERT INTO deliveries (txn_id, amount_dong, account, description, raw_body, received_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (txn_id) DO NOTHING";
    let result = match &naive.pool {
        NaivePool::Sqlite(pool) => sqlx::query(INSERT)
            .bind(&parsed.transaction_id)
            .bind(amount)
            .bind(&parsed.account_number)
            .bind(&parsed.description)
            .bind(&body[..])
            .bind(now_ms())
            .execute(pool)
            .await
            .map(|_| ()),
        NaivePool::Postgres(pool) => sqlx::query(INSERT)
            .bind(&parsed.transaction_id)
            .bind(amount)
            .bind(&parsed.account_number)
            .bind(&parsed.description)
            .bind(&body[..])
            .bind(now_ms())
            .execute(pool)
            .await
            .map(|_| ()),
    };
    match result {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"success": true})),
        )
            .into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn start_naive(db: &Db, config: &Config) -> (Target, NaivePool) {
    let pool = if db.url().starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(db.url())
            .expect("sqlite URL")
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(config.sqlite_sync)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(u32::try_from(config.naive_sqlite_pool).unwrap_or(8))
            .connect_with(options)
            .await
            .expect("sqlite pool");
        sqlx::query(
            "CREATE TABLE deliveries (id INTEGER PRIMARY KEY, txn_id TEXT NOT NULL UNIQUE, \
             amount_dong INTEGER NOT NULL, account TEXT, description TEXT NOT NULL, raw_body BLOB NOT NULL, \
             received_at_ms INTEGER NOT NULL)",
        )
        .execute(&pool)
        .await
        .expect("create table");
        NaivePool::Sqlite(pool)
    } else {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect(db.url())
            .await
            .expect("postgres pool");
        sqlx::query(
            "CREATE TABLE deliveries (id BIGSERIAL PRIMARY KEY, txn_id TEXT NOT NULL UNIQUE, \
             amount_dong BIGINT NOT NULL, account TEXT, description TEXT NOT NULL, raw_body BYTEA NOT NULL, \
             received_at_ms BIGINT NOT NULL)",
        )
        .execute(&pool)
        .await
        .expect("create table");
        NaivePool::Postgres(pool)
    };
    let secret = new_secret();
    let key = STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .expect("base64");
    let naive = Naive {
        pool: pool.clone(),
        key: Arc::new(key),
    };
    let app = Router::new()
        .route("/webhooks/chopay/{channel}", post(naive_handler))
        .with_state(naive);
    let target = Target {
        addr: serve(app).await,
        path: "/webhooks/chopay/1".into(),
        secret: Secret::new(secret),
        payees: Arc::new(Payees::lookalike(config.orders)),
        run: random_u64() >> 32,
    };
    (target, pool)
}

/// The demo market, a `chopay` channel, and `count` pending orders over its stalls.
struct Seeded {
    store: Store,
    market: markets::MarketRow,
    channel_id: i64,
    secret: String,
    payees: Payees,
}

/// chopay's store on `url`. With `CALLBACKS_SQLITE_SYNC` other than FULL, a SQLite store is
/// built here with chopay's options but that `synchronous` (a diagnostic: the cost of the fsync).
async fn open_store(url: &str, config: &Config) -> Store {
    if url.starts_with("sqlite:") && config.sqlite_sync != SqliteSynchronous::Full {
        let options = SqliteConnectOptions::from_str(url)
            .expect("sqlite URL")
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(config.sqlite_sync)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .expect("sqlite pool");
        let store = Store::Sqlite(pool);
        store.migrate().await.expect("migrate");
        store
    } else {
        Store::open(&DatabaseUrl::new(url))
            .await
            .expect("open the store")
    }
}

async fn seed(url: &str, config: &Config) -> Seeded {
    let count = config.orders;
    let store = open_store(url, config).await;
    demo::seed(&store).await.expect("seed the demo");
    let market = markets::by_slug(&store, MARKET)
        .await
        .expect("markets")
        .expect("the demo market");
    let all: Vec<stalls::StallRow> = stalls::all_in_market(&store, market.id)
        .await
        .expect("stalls")
        .into_iter()
        .filter(|s| s.payee().is_some())
        .collect();
    assert!(!all.is_empty(), "the demo market has stalls with accounts");
    let new = channels::create(&store, &market, "chopay", None, "bench")
        .await
        .expect("channel");
    // Orders are issued by 8 tasks at once (setup only, not timed).
    let all = Arc::new(all);
    let mut tasks = Vec::new();
    for part in 0..8 {
        let (store, market, all) = (store.clone(), market.clone(), Arc::clone(&all));
        tasks.push(tokio::spawn(async move {
            let mut made = Vec::new();
            for k in (part..count).step_by(8) {
                let stall = &all[k % all.len()];
                let amount = 10_000 + (k as i64 % 50) * 1000;
                let request = orders::OrderRequest {
                    amount: Vnd::from_dong(amount).expect("amount"),
                    note: None,
                    idempotency_key: None,
                };
                let (order, _) =
                    orders::issue(&store, stall, &market, &request, Duration::from_secs(3600))
                        .await
                        .expect("issue an order");
                made.push((
                    k,
                    (
                        order.reference,
                        order.amount_dong,
                        order.payee_bin,
                        order.payee_account,
                    ),
                ));
            }
            made
        }));
    }
    let mut made = Vec::new();
    for task in tasks {
        made.extend(task.await.expect("order task"));
    }
    made.sort_by_key(|(k, _)| *k);
    let payees = Payees {
        stalls: all
            .iter()
            .filter_map(|s| s.payee().map(|p| (p.bin, p.account)))
            .collect(),
        orders: made.into_iter().map(|(_, order)| order).collect(),
    };
    Seeded {
        store,
        market,
        channel_id: new.channel.id,
        secret: new.secret,
        payees,
    }
}

async fn start_chopay(db: &Db, config: &Config) -> (Target, Store) {
    let seeded = seed(db.url(), config).await;
    let state = AppState::new(seeded.store.clone(), Settings::default());
    let app = router(state, Limits::default());
    let target = Target {
        addr: serve(app).await,
        path: format!("/webhooks/chopay/{}", seeded.channel_id),
        secret: Secret::new(seeded.secret),
        payees: Arc::new(seeded.payees),
        run: random_u64() >> 32,
    };
    (target, seeded.store)
}

// ------------------------------------------------------------------------------------------------
// Load generator

/// A keep-alive HTTP/1.1 connection that sends pre-built requests one at a time.
struct Conn {
    addr: SocketAddr,
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            addr,
            stream,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends one request and reads its answer: the status, and the body when it is not 200.
    async fn send(&mut self, request: &[u8]) -> std::io::Result<(u16, Option<String>)> {
        use std::io::{Error, ErrorKind};
        let mut written = 0;
        while written < request.len() {
            match self.stream.try_write(&request[written..]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => self.stream.writable().await?,
                Err(e) => return Err(e),
            }
        }
        let mut scratch = [0_u8; 8192];
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end]).map_err(|_| {
                    Error::new(ErrorKind::InvalidData, "response head is not UTF-8")
                })?;
                let status: u16 = head
                    .get(9..12)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| Error::new(ErrorKind::InvalidData, "no status"))?;
                let mut length = None;
                for line in head.split("\r\n").skip(1) {
                    if let Some((name, value)) = line.split_once(':') {
                        if name.eq_ignore_ascii_case("content-length") {
                            length = value.trim().parse::<usize>().ok();
                        } else if name.eq_ignore_ascii_case("transfer-encoding") {
                            return Err(Error::other("chunked answers are not supported"));
                        }
                    }
                }
                let total = end + 4 + length.unwrap_or(0);
                if self.buf.len() >= total {
                    let body = (status != 200)
                        .then(|| String::from_utf8_lossy(&self.buf[end + 4..total]).into_owned());
                    self.buf.drain(..total);
                    return Ok((status, body));
                }
            }
            self.stream.readable().await?;
            match self.stream.try_read(&mut scratch) {
                Ok(0) => return Err(Error::new(ErrorKind::UnexpectedEof, "server closed")),
                Ok(n) => self.buf.extend_from_slice(&scratch[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One worker's or one phase's tally.
#[derive(Debug, Default)]
struct Tally {
    ok: u64,
    statuses: BTreeMap<u16, u64>,
    io_errors: u64,
    samples: Vec<String>,
    latencies_ns: Vec<u64>,
    exhausted: bool,
}

impl Tally {
    fn count(&mut self, status: u16, body: Option<String>, latency: Duration) {
        if status == 200 {
            self.ok += 1;
        } else {
            *self.statuses.entry(status).or_insert(0) += 1;
            if self.samples.len() < 3 {
                self.samples
                    .push(format!("{status} {}", body.unwrap_or_default()));
            }
        }
        self.latencies_ns
            .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
    }

    fn error(&mut self, error: &dyn std::fmt::Display) {
        self.io_errors += 1;
        if self.samples.len() < 3 {
            self.samples.push(format!("i/o: {error}"));
        }
    }

    fn merge(&mut self, other: Self) {
        self.ok += other.ok;
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_insert(0) += n;
        }
        self.io_errors += other.io_errors;
        for sample in other.samples {
            if self.samples.len() < 3 {
                self.samples.push(sample);
            }
        }
        self.latencies_ns.extend(other.latencies_ns);
        self.exhausted |= other.exhausted;
    }

    fn non_ok(&self) -> u64 {
        self.statuses.values().sum::<u64>() + self.io_errors
    }
}

/// The next request index, or `None` when the list is used up (bare cycles through its list).
fn next_index(next: &AtomicUsize, len: usize, cycle: bool) -> Option<usize> {
    let index = next.fetch_add(1, Ordering::Relaxed);
    if index < len {
        Some(index)
    } else if cycle {
        Some(index % len)
    } else {
        None
    }
}

/// Load over K connections: raw ones, or one pooled reqwest client.
enum Load {
    Raw(Vec<Conn>),
    Reqwest {
        client: reqwest::Client,
        url: String,
        k: usize,
    },
}

async fn open_load(kind: ClientKind, target: &Target, k: usize) -> Load {
    match kind {
        ClientKind::Raw => {
            let mut conns = Vec::with_capacity(k);
            for _ in 0..k {
                conns.push(Conn::open(target.addr).await.expect("connect"));
            }
            Load::Raw(conns)
        }
        ClientKind::Reqwest => Load::Reqwest {
            client: reqwest::Client::builder()
                .no_proxy()
                .tcp_nodelay(true)
                .pool_max_idle_per_host(k)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("reqwest client"),
            url: format!("http://{}{}", target.addr, target.path),
            k,
        },
    }
}

/// Runs the K senders until `seconds` have passed (or the list is used up); the load comes back
/// for the next phase, with the tally and the phase's wall time (until the last answer).
async fn run_phase(
    load: Load,
    requests: Arc<Requests>,
    seconds: f64,
    cycle: bool,
) -> (Load, Tally, Duration) {
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tally = Tally::default();
    let load = match load {
        Load::Raw(conns) => {
            let mut tasks = Vec::new();
            for mut conn in conns {
                let (requests, next) = (Arc::clone(&requests), Arc::clone(&next));
                tasks.push(tokio::spawn(async move {
                    let Requests::Raw(list) = requests.as_ref() else {
                        unreachable!()
                    };
                    let mut tally = Tally::default();
                    tally.latencies_ns.reserve(1 << 16);
                    while Instant::now() < end {
                        let Some(index) = next_index(&next, list.len(), cycle) else {
                            tally.exhausted = true;
                            break;
                        };
                        let sent = Instant::now();
                        match conn.send(&list[index]).await {
                            Ok((status, body)) => tally.count(status, body, sent.elapsed()),
                            Err(e) => {
                                tally.error(&e);
                                conn = Conn::open(conn.addr).await.expect("reconnect");
                            }
                        }
                    }
                    (conn, tally)
                }));
            }
            let mut conns = Vec::new();
            for task in tasks {
                let (conn, one) = task.await.expect("sender");
                conns.push(conn);
                tally.merge(one);
            }
            Load::Raw(conns)
        }
        Load::Reqwest { client, url, k } => {
            let mut tasks = Vec::new();
            for _ in 0..k {
                let (requests, next) = (Arc::clone(&requests), Arc::clone(&next));
                let (client, url) = (client.clone(), url.clone());
                tasks.push(tokio::spawn(async move {
                    let Requests::Reqwest(list) = requests.as_ref() else {
                        unreachable!()
                    };
                    let mut tally = Tally::default();
                    tally.latencies_ns.reserve(1 << 16);
                    while Instant::now() < end {
                        let Some(index) = next_index(&next, list.len(), cycle) else {
                            tally.exhausted = true;
                            break;
                        };
                        let request = &list[index];
                        let sent = Instant::now();
                        let answer = client
                            .post(&url)
                            .header("content-type", "application/json")
                            .header("webhook-id", &request.id)
                            .header("webhook-timestamp", &request.timestamp)
                            .header("webhook-signature", &request.signature)
                            .body(request.body.clone())
                            .send()
                            .await;
                        match answer {
                            Ok(response) => {
                                let status = response.status().as_u16();
                                let body = response.bytes().await;
                                let body = (status != 200).then(|| {
                                    body.map(|b| String::from_utf8_lossy(&b).into_owned())
                                        .unwrap_or_default()
                                });
                                tally.count(status, body, sent.elapsed());
                            }
                            Err(e) => tally.error(&e),
                        }
                    }
                    tally
                }));
            }
            for task in tasks {
                tally.merge(task.await.expect("sender"));
            }
            Load::Reqwest { client, url, k }
        }
    };
    (load, tally, start.elapsed())
}

// ------------------------------------------------------------------------------------------------
// Tracing sqlx statements (the `trace-*` scenarios)

#[derive(Debug, Default)]
struct TraceState {
    /// By statement (first words): count, seconds.
    kinds: HashMap<String, (u64, f64)>,
}

#[derive(Debug, Default)]
struct SqlTrace {
    on: AtomicBool,
    state: Mutex<TraceState>,
}

#[derive(Default)]
struct StatementFields {
    summary: String,
    elapsed_secs: f64,
}

impl tracing::field::Visit for StatementFields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "summary" {
            value.clone_into(&mut self.summary);
        }
    }

    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed_secs = value;
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.summary = format!("{value:?}").trim_matches('"').to_owned();
        }
    }
}

struct TraceLayer(Arc<SqlTrace>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for TraceLayer {
    fn register_callsite(
        &self,
        metadata: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if metadata.target() == "sqlx::query" {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(
        &self,
        metadata: &tracing::Metadata<'_>,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        metadata.target() == "sqlx::query" && self.0.on.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = StatementFields::default();
        event.record(&mut fields);
        let words: Vec<&str> = fields.summary.split_whitespace().take(3).collect();
        let kind = words.join(" ");
        let Ok(mut state) = self.0.state.lock() else {
            return;
        };
        let entry = state.kinds.entry(kind).or_insert((0, 0.0));
        entry.0 += 1;
        entry.1 += fields.elapsed_secs;
    }
}

fn install_trace() -> Arc<SqlTrace> {
    use tracing_subscriber::layer::SubscriberExt;
    let trace = Arc::new(SqlTrace::default());
    let subscriber = tracing_subscriber::registry().with(TraceLayer(Arc::clone(&trace)));
    tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
    trace
}

fn report_trace(trace: &SqlTrace, window: Duration) {
    let Ok(mut state) = trace.state.lock() else {
        return;
    };
    let state = std::mem::take(&mut *state);
    println!(
        "    statements (as sqlx times them: sent to answered) over the {:.0} s run:",
        window.as_secs_f64()
    );
    let mut kinds: Vec<(String, (u64, f64))> = state.kinds.into_iter().collect();
    kinds.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
    for (kind, (n, secs)) in kinds.iter().take(10) {
        println!(
            "      {kind:<28} {n:>8} × {:>7.1} µs = {:>7.0} ms",
            secs * 1e6 / (*n).max(1) as f64,
            secs * 1000.0
        );
    }
}

// ------------------------------------------------------------------------------------------------
// Runs

struct Row {
    scenario: String,
    backend: String,
    k: usize,
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    non_ok: u64,
    check: String,
    /// Deadlocks PostgreSQL detected in the run's database.
    deadlocks: String,
    /// CPU of other processes during the measured phase, % of one core.
    noise: f64,
    note: String,
}

fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1e6
}

fn runtime(threads: usize, name: &str) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("runtime")
}

/// CPU time so far, in clock ticks (Linux `/proc`; empty elsewhere): the machine, this process's
/// threads by group (client runtime, server runtime, sqlx's SQLite workers, the rest), and every
/// other process by pid, classed as PostgreSQL, kernel thread or other.
#[derive(Debug, Default, Clone)]
struct CpuSnapshot {
    /// `/proc/stat`: user + nice + system.
    machine: u64,
    /// `/proc/stat`: irq + softirq.
    irq: u64,
    /// `/proc/stat`: steal (the hypervisor gave the CPU to someone else).
    steal: u64,
    ours: BTreeMap<&'static str, u64>,
    others: HashMap<u32, (&'static str, u64)>,
    /// Context switches of this process's threads, voluntary and not.
    switches: u64,
}

/// `(name, ppid, utime + stime)` from a `stat` file of `/proc`.
fn proc_stat(path: &std::path::Path) -> Option<(String, u64, u64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    // After the name: state, ppid, …; utime is field 14 of the line and stime 15.
    let fields: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    let number = |i: usize| -> u64 { fields.get(i).and_then(|v| v.parse().ok()).unwrap_or(0) };
    Some((
        stat.get(open + 1..close)?.to_owned(),
        number(1),
        number(11) + number(12),
    ))
}

impl CpuSnapshot {
    fn take() -> Self {
        let mut snapshot = Self::default();
        if let Ok(stat) = std::fs::read_to_string("/proc/stat") {
            let ticks: Vec<u64> = stat
                .lines()
                .next()
                .unwrap_or("")
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            let at = |i: usize| ticks.get(i).copied().unwrap_or(0);
            // user nice system idle iowait irq softirq steal
            snapshot.machine = at(0) + at(1) + at(2);
            snapshot.irq = at(5) + at(6);
            snapshot.steal = at(7);
        }
        if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
            for task in tasks.flatten() {
                let Some((name, _, ticks)) = proc_stat(&task.path().join("stat")) else {
                    continue;
                };
                let group = if name.starts_with("bench-client") {
                    "client"
                } else if name.starts_with("bench-server") {
                    "server"
                } else if name.starts_with("sqlx-sqlite") {
                    "sqlite"
                } else {
                    "other"
                };
                *snapshot.ours.entry(group).or_insert(0) += ticks;
                if let Ok(status) = std::fs::read_to_string(task.path().join("status")) {
                    snapshot.switches += status
                        .lines()
                        .filter(|l| l.contains("ctxt_switches:"))
                        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                        .sum::<u64>();
                }
            }
        }
        let me = std::process::id();
        if let Ok(processes) = std::fs::read_dir("/proc") {
            for process in processes.flatten() {
                let Some(pid) = process
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<u32>().ok())
                else {
                    continue;
                };
                if pid == me {
                    continue;
                }
                let Some((name, ppid, ticks)) = proc_stat(&process.path().join("stat")) else {
                    continue;
                };
                let class = if name == "postgres" {
                    "postgres"
                } else if pid == 2 || ppid == 2 {
                    "kernel threads"
                } else {
                    "other processes"
                };
                snapshot.others.insert(pid, (class, ticks));
            }
        }
        snapshot
    }

    /// Where the CPU went between `before` and `self`, in % of one core, and the CPU of other
    /// processes (the noise of the measurement: what neither the bench nor its database used).
    fn since(&self, before: &Self, wall: Duration, deliveries: u64) -> (String, f64) {
        let percent = |ticks: u64| ticks as f64 / wall.as_secs_f64();
        let machine = percent(self.machine.saturating_sub(before.machine));
        let mut ours = 0.0;
        let mut parts = Vec::new();
        for (group, ticks) in &self.ours {
            let spent = percent(ticks.saturating_sub(before.ours.get(group).copied().unwrap_or(0)));
            ours += spent;
            parts.push(format!("{group} {spent:.0}"));
        }
        let mut classes: BTreeMap<&'static str, f64> = BTreeMap::new();
        for (pid, (class, ticks)) in &self.others {
            let earlier = before.others.get(pid).map_or(0, |(_, t)| *t);
            *classes.entry(class).or_insert(0.0) += percent(ticks.saturating_sub(earlier));
        }
        let postgres = classes.get("postgres").copied().unwrap_or(0.0);
        let kernel = classes.get("kernel threads").copied().unwrap_or(0.0);
        // Whatever the machine spent that neither we, PostgreSQL nor kernel threads did: other
        // processes, including those that ended during the window.
        let noise = (machine - ours - postgres - kernel).max(0.0);
        let text = format!(
            "cpu in % of one core ({} cores): busy {machine:.0} = this process {ours:.0} ({}) + postgres {postgres:.0} \
             + kernel threads {kernel:.0} + other processes {noise:.0}; irq {:.0}, steal {:.0}; \
             {:.1} context switches per delivery in this process",
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            parts.join(", "),
            percent(self.irq.saturating_sub(before.irq)),
            percent(self.steal.saturating_sub(before.steal)),
            self.switches.saturating_sub(before.switches) as f64 / deliveries.max(1) as f64
        );
        (text, noise)
    }
}

/// What the server side of a run holds for the checks afterwards.
enum Checks {
    None,
    Naive(NaivePool),
    Chopay(Store),
}

fn run(scenario: Scenario, k: usize, config: &Config, trace: Option<&Arc<SqlTrace>>) -> Row {
    let server_rt = runtime(
        std::thread::available_parallelism().map_or(2, |n| n.get()),
        "bench-server",
    );
    let client_rt = runtime(config.client_threads, "bench-client");
    let db = scenario
        .backend
        .map(|backend| server_rt.block_on(fresh_db(backend, config)));
    let mut backend_label = match (scenario.backend, scenario.kind) {
        (None, _) => "-".to_owned(),
        (Some(Backend::Sqlite), Kind::Naive) => format!(
            "sqlite(WAL,sync={:?},pool={})",
            config.sqlite_sync, config.naive_sqlite_pool
        ),
        (Some(Backend::Sqlite), _) => format!("sqlite(WAL,sync={:?},pool=8)", config.sqlite_sync),
        (Some(Backend::Postgres), _) => "postgres".to_owned(),
    };
    if let Some(db @ Db::Postgres { .. }) = &db {
        backend_label = server_rt.block_on(postgres_label(db.url()));
    }
    let setup = Instant::now();
    let (target, checks) = server_rt.block_on(async {
        match (scenario.kind, &db) {
            (Kind::Bare, _) => (start_bare(config).await, Checks::None),
            (Kind::Naive, Some(db)) => {
                let (target, pool) = start_naive(db, config).await;
                (target, Checks::Naive(pool))
            }
            (Kind::Chopay, Some(db)) => {
                let (target, store) = start_chopay(db, config).await;
                (target, Checks::Chopay(store))
            }
            _ => unreachable!("a database scenario without a database"),
        }
    });
    let setup = setup.elapsed();
    let cycle = scenario.kind == Kind::Bare;

    // Warm-up, with requests enough for a fast server.
    let warm_count = if cycle { 100_000 } else { 60_000 };
    let requests = Arc::new(build_requests(&target, config.client, 0, warm_count));
    let load = client_rt.block_on(open_load(config.client, &target, k));
    let (load, warm, warm_time) =
        client_rt.block_on(run_phase(load, Arc::clone(&requests), config.warmup, cycle));
    let warm_sent = if cycle {
        0
    } else {
        (warm.ok + warm.non_ok()) as usize
    };
    drop(requests);

    // The measured phase: sized from the warm-up rate, with room to spare.
    let warm_rate = (warm.ok + warm.non_ok()) as f64 / warm_time.as_secs_f64();
    let count = if cycle {
        warm_count
    } else {
        (warm_rate * config.seconds * 2.0) as usize + 20 * k + 10_000
    };
    let first = (warm_sent + 1_000_000) as u64;
    let requests = Arc::new(build_requests(&target, config.client, first, count));
    if let Some(trace) = trace {
        trace.on.store(true, Ordering::Relaxed);
    }
    let cpu_before = CpuSnapshot::take();
    let (load, mut tally, window) =
        client_rt.block_on(run_phase(load, requests, config.seconds, cycle));
    let cpu_after = CpuSnapshot::take();
    if let Some(trace) = trace {
        trace.on.store(false, Ordering::Relaxed);
    }
    drop(load);
    client_rt.shutdown_timeout(Duration::from_secs(2));

    tally.latencies_ns.sort_unstable();
    let measured = tally.ok + tally.non_ok();
    let answered_ok = warm.ok + tally.ok;
    let non_ok = warm.non_ok() + tally.non_ok();
    let (cpu, noise) = cpu_after.since(&cpu_before, window, measured);
    let mut note = format!("setup {:.1} s; {cpu}", setup.as_secs_f64());
    if tally.exhausted {
        note.push_str("; ran out of pre-built requests: window shortened");
    }
    let mut samples = warm.samples.clone();
    samples.extend(tally.samples.iter().cloned());
    if let Some(sample) = samples.first() {
        note.push_str(&format!(
            "; first failure: {}",
            sample.chars().take(160).collect::<String>()
        ));
    }

    let check = server_rt.block_on(async {
        match &checks {
            Checks::None => "n/a".to_owned(),
            Checks::Naive(pool) => {
                let rows: i64 = match pool {
                    NaivePool::Sqlite(p) => sqlx::query_scalar("SELECT COUNT(*) FROM deliveries")
                        .fetch_one(p)
                        .await
                        .expect("count"),
                    NaivePool::Postgres(p) => {
                        sqlx::query_scalar("SELECT COUNT(*) FROM deliveries")
                            .fetch_one(p)
                            .await
                            .expect("count")
                    }
                };
                verdict(rows, answered_ok)
            }
            Checks::Chopay(store) => {
                let (rows, outcomes): (i64, Vec<(String, i64)>) = chopay::dispatch!(store, pool => {
                    let rows = sqlx::query_scalar("SELECT COUNT(*) FROM credits")
                        .fetch_one(pool).await.expect("count");
                    let outcomes = sqlx::query_as("SELECT outcome, COUNT(*) FROM credits GROUP BY outcome ORDER BY outcome")
                        .fetch_all(pool).await.expect("outcomes");
                    (rows, outcomes)
                });
                let mix: Vec<String> = outcomes
                    .iter()
                    .map(|(outcome, n)| format!("{outcome} {:.0}%", *n as f64 * 100.0 / rows.max(1) as f64))
                    .collect();
                note.push_str(&format!("; outcomes: {}", mix.join(", ")));
                verdict(rows, answered_ok)
            }
        }
    });
    if let Some(trace) = trace {
        println!("  {} K={k}:", scenario.name());
        report_trace(trace, window);
    }
    server_rt.block_on(async {
        match &checks {
            Checks::None => {}
            Checks::Naive(NaivePool::Sqlite(p)) => p.close().await,
            Checks::Naive(NaivePool::Postgres(p)) => p.close().await,
            Checks::Chopay(store) => store.close().await,
        }
    });
    drop(checks);
    server_rt.shutdown_timeout(Duration::from_secs(2));
    let deadlocks = db.and_then(|db| runtime(1, "bench-admin").block_on(drop_db(db)));

    Row {
        scenario: scenario.name(),
        backend: backend_label,
        k,
        rate: measured as f64 / window.as_secs_f64(),
        p50_ms: percentile(&tally.latencies_ns, 0.50),
        p99_ms: percentile(&tally.latencies_ns, 0.99),
        max_ms: percentile(&tally.latencies_ns, 1.0),
        non_ok,
        check,
        deadlocks: deadlocks.map_or_else(|| "-".to_owned(), |n| n.to_string()),
        noise,
        note,
    }
}

/// A row's rate as a fraction of the bare handler's in the same run: at the same K if it ran,
/// else at the largest K it ran at; `-` without a bare row.
fn ratio_to_bare(row: &Row, rows: &[Row]) -> String {
    let bare: Vec<&Row> = rows.iter().filter(|r| r.scenario == "bare").collect();
    let reference = bare
        .iter()
        .find(|r| r.k == row.k)
        .or_else(|| bare.iter().max_by_key(|r| r.k));
    match reference {
        Some(bare) if bare.rate > 0.0 => format!("{:.3}", row.rate / bare.rate),
        _ => "-".to_owned(),
    }
}

fn verdict(rows: i64, ok: u64) -> String {
    if u64::try_from(rows).is_ok_and(|r| r == ok) {
        format!("yes ({rows})")
    } else {
        format!("NO: {rows} rows, {ok} × 200")
    }
}

/// A ledger writer timed directly at fixed batch sizes (one writer kept across batches, as the
/// service keeps it), the bytes this process wrote per credit meanwhile (SQLite: the WAL), and an
/// empty write transaction.
fn batch_table(backend: Backend, config: &Config) {
    let rt = runtime(2, "bench-server");
    let db = rt.block_on(fresh_db(backend, config));
    let mut label = format!("sqlite(WAL,sync={:?})", config.sqlite_sync);
    if matches!(db, Db::Postgres { .. }) {
        label = rt.block_on(postgres_label(db.url()));
    }
    rt.block_on(async {
        let seeded = seed(db.url(), config).await;
        let run = random_u64() >> 32;
        let mut index = 0_u64;
        // A write transaction that only counts on the channel: the fixed cost of a commit.
        let empty = {
            let reps = 50;
            let start = Instant::now();
            for _ in 0..reps {
                match &seeded.store {
                    Store::Sqlite(pool) => {
                        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
                        sqlx::query(
                            "UPDATE channels SET accepted_count = accepted_count + 0 WHERE id = $1",
                        )
                        .bind(seeded.channel_id)
                        .execute(&mut *tx)
                        .await
                        .expect("update");
                        tx.commit().await.expect("commit");
                    }
                    Store::Postgres(pool) => {
                        let mut tx = pool.begin().await.expect("begin");
                        sqlx::query(
                            "UPDATE channels SET accepted_count = accepted_count + 0 WHERE id = $1",
                        )
                        .bind(seeded.channel_id)
                        .execute(&mut *tx)
                        .await
                        .expect("update");
                        tx.commit().await.expect("commit");
                    }
                }
            }
            start.elapsed().as_secs_f64() * 1000.0 / f64::from(reps)
        };
        println!(
            "  {label}: one-statement write transaction (BEGIN, UPDATE, COMMIT): {empty:.3} ms"
        );
        println!(
            "  {:<10} {:>8} {:>12} {:>14} {:>18} {:>16}",
            "batch", "reps", "ms/batch", "µs/credit", "credits/s (1 writer)", "KiB written/credit"
        );
        let mut writer = ledger::Writer::new(seeded.store.clone());
        for size in BATCH_SIZES {
            let reps = (2048 / size).clamp(8, 200);
            let mut total = Duration::ZERO;
            let mut written = 0_u64;
            for _ in 0..reps {
                let credits: Vec<(BankCredit, Vec<u8>)> = (0..size)
                    .map(|_| {
                        let d = delivery(run, index, &seeded.payees);
                        index += 1;
                        let body = body_json(&d).into_bytes();
                        let credit = BankCredit {
                            provider_txn_id: d.txn,
                            amount: Vnd::from_dong(d.amount).expect("amount"),
                            account: Some(d.account),
                            bin: Some(d.bin),
                            virtual_account: None,
                            description: d.description,
                            counterparty_name: Some("NGUYEN VAN A".into()),
                            counterparty_account: Some("0123456789".into()),
                            counterparty_bank: None,
                            booked_at_ms: Some(1_795_428_000_000),
                            payment_code: None,
                        };
                        (credit, body)
                    })
                    .collect();
                let received = now_ms();
                let inputs: Vec<CreditInput<'_>> = credits
                    .iter()
                    .map(|(credit, body)| CreditInput {
                        channel_id: seeded.channel_id,
                        market_id: seeded.market.id,
                        credit,
                        raw_body: body,
                        received_at_ms: received,
                    })
                    .collect();
                let bytes_before = bytes_written();
                let start = Instant::now();
                let recorded = writer.record(&inputs, now_ms()).await.expect("record");
                total += start.elapsed();
                written += bytes_written() - bytes_before;
                assert_eq!(recorded.len(), size);
            }
            let per_batch = total.as_secs_f64() / f64::from(u32::try_from(reps).unwrap_or(1));
            println!(
                "  {size:<10} {reps:>8} {:>12.3} {:>14.1} {:>18.0} {:>16.1}",
                per_batch * 1000.0,
                per_batch * 1e6 / size as f64,
                size as f64 / per_batch,
                written as f64 / 1024.0 / (reps * size) as f64
            );
        }
        drop(writer);
        seeded.store.close().await;
    });
    rt.shutdown_timeout(Duration::from_secs(2));
    let _ = runtime(1, "bench-admin").block_on(drop_db(db));
}

/// Bytes this process has handed to `write`-like calls so far (`wchar` in `/proc/self/io`).
fn bytes_written() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|line| line.strip_prefix("wchar: ").map(str::to_owned))
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let config = Config::from_env();
    let mut backends = vec![Backend::Sqlite];
    if config.postgres.is_some() {
        backends.push(Backend::Postgres);
    }
    let mut scenarios = vec![Scenario {
        kind: Kind::Bare,
        backend: None,
        traced: false,
    }];
    for traced in [false, true] {
        for &backend in &backends {
            if !traced {
                scenarios.push(Scenario {
                    kind: Kind::Naive,
                    backend: Some(backend),
                    traced,
                });
            }
            scenarios.push(Scenario {
                kind: Kind::Chopay,
                backend: Some(backend),
                traced,
            });
        }
    }
    let scenarios: Vec<Scenario> = scenarios
        .into_iter()
        .filter(|s| config.selects(&s.name()))
        .collect();
    let batches: Vec<Backend> = backends
        .iter()
        .copied()
        .filter(|b| config.selects(&format!("batch-{}", b.name())))
        .collect();
    println!(
        "callbacks: {:.0} s measured after {:.0} s warm-up, K = {:?}, client {:?} on {} thread(s), \
         server on {} worker thread(s), {} orders; {} CPU(s){}",
        config.seconds,
        config.warmup,
        config.concurrency,
        config.client,
        config.client_threads,
        std::thread::available_parallelism().map_or(2, |n| n.get()),
        config.orders,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if config.postgres.is_none() {
            "; PostgreSQL skipped (set CHOPAY_BENCH_POSTGRES_URL)"
        } else {
            ""
        }
    );
    let trace = scenarios.iter().any(|s| s.traced).then(install_trace);
    let mut rows = Vec::new();
    for scenario in &scenarios {
        for &k in &config.concurrency {
            let row = run(
                *scenario,
                k,
                &config,
                trace.as_ref().filter(|_| scenario.traced),
            );
            println!(
                "  {} {} K={k}: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, non-200 {}, rows==200s {}, deadlocks {}; {}",
                row.scenario,
                row.backend,
                row.rate,
                row.p50_ms,
                row.p99_ms,
                row.non_ok,
                row.check,
                row.deadlocks,
                row.note
            );
            rows.push(row);
        }
    }
    if !rows.is_empty() {
        println!();
        println!(
            "| {:<21} | {:<36} | {:>3} | {:>12} | {:>7} | {:>7} | {:>7} | {:>8} | {:>7} | {:<14} | {:>9} | {:>11} |",
            "scenario",
            "backend",
            "K",
            "deliveries/s",
            "× bare",
            "p50 ms",
            "p99 ms",
            "max ms",
            "non-200",
            "rows == 200s",
            "deadlocks",
            "other cpu %"
        );
        println!(
            "|{:-<23}|{:-<38}|{:->5}|{:->14}|{:->9}|{:->9}|{:->9}|{:->10}|{:->9}|{:-<16}|{:->11}|{:->13}|",
            "", "", "", "", "", "", "", "", "", "", "", ""
        );
        for row in &rows {
            println!(
                "| {:<21} | {:<36} | {:>3} | {:>12.0} | {:>7} | {:>7.2} | {:>7.2} | {:>8.2} | {:>7} | {:<14} | {:>9} | {:>11.0} |",
                row.scenario,
                row.backend,
                row.k,
                row.rate,
                ratio_to_bare(row, &rows),
                row.p50_ms,
                row.p99_ms,
                row.max_ms,
                row.non_ok,
                row.check,
                row.deadlocks,
                row.noise
            );
        }
    }
    for backend in batches {
        println!();
        println!(
            "batch-{}: a store::ledger::Writer timed directly ({} orders)",
            backend.name(),
            config.orders
        );
        batch_table(backend, &config);
    }
}
