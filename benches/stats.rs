//! Board figures benchmark (criterion): a market with 1 000 000 credits answers its stats from
//! the daily rollups (`credit_days`), not from the ledger, on SQLite and on PostgreSQL.
//!
//! Data, per backend, in a fresh database (SQLite: a file in a temporary directory, WAL,
//! `synchronous=FULL`, chopay's own pool; PostgreSQL: a new database `bench_<random>` on the
//! server of `CHOPAY_BENCH_POSTGRES_URL`, dropped after): `Store::connect` + `migrate`,
//! `demo::seed` (district `ba-vi`: `cho-mo`, 56 stalls, and `cho-quang-oai`, 328 stalls of which
//! 321 have an account), one `chopay` channel per market (`demo::payment_channel`), then in bulk
//! SQL (one `INSERT … SELECT` over a generated series: a recursive CTE on SQLite,
//! `generate_series` on PostgreSQL):
//!
//! - `cho-quang-oai`: 1 000 000 credits over the last 365 Vietnam days (today included), spread
//!   over its linked stalls with a Zipf-like skew (of the matched credits the busiest stall takes
//!   ~4 %, the quietest ~0.1 %), 5 stalls silent all year and 5 whose last credit is 60 days old;
//!   ~10 % unmatched (stall NULL, outcome `unmatched`), the rest half `order_paid` (dynamic),
//!   half `static_payment`; 5 000–504 000 đồng, skewed to small amounts; received 06:00–18:00;
//! - `cho-mo`: 50 000 credits the same way, so the district has two markets with figures.
//!
//! Credits are inserted in time order, so ids grow with time as in the ledger. Dynamic credits
//! carry no `order_id` (no order rows are made): no figure read joins orders. Then the rollups
//! are built from the credits with one `INSERT INTO credit_days … SELECT … GROUP BY market_id,
//! COALESCE(stall_id, 0), day ORDER BY day, MIN(received_at_ms)` (rows in the order the ledger
//! would have made them, so the table's layout on disk is that of a year of use; the ledger
//! keeps them in each credit's own transaction; bulk SQL is fine for a read benchmark), and the
//! bench asserts that the rollups add up to the credits (count, sum, and per kind), then
//! `ANALYZE` (PostgreSQL: `VACUUM ANALYZE`, what autovacuum does after a bulk insert). Before
//! timing, it also asserts that each figure equals what a scan of the ledger says (market 30 and
//! 366 days, district, monthly report).
//!
//! Timed (criterion: 20 samples over 3 s after 1 s of warm-up, by default), per backend, on a
//! fresh pool opened after loading (as a server started on this database):
//!
//! - `market stats 30 days`: `service::stats::of_market` with `Ask::last_30_days(today)` (one
//!   read snapshot: the stall lines with their 30-day sums and latest credit day, the market's
//!   daily rollups);
//! - `market stats 366 days`: the same with `from = today − 365` (the longest range allowed);
//! - `district stats 30 days`: `service::stats::of_district("ba-vi")`;
//! - `monthly report`: what `GET /api/v1/markets/{slug}/report.csv` reads for last month, in one
//!   `store::stats::Snapshot`: every page of `lines_after` (500 stalls a page) and the month's
//!   `daily`, summed (no CSV written);
//! - `naive ledger scan 30 days` / `naive ledger scan 366 days`: `SELECT COUNT(*),
//!   SUM(amount_dong) FROM credits WHERE market_id = $1 AND day BETWEEN $2 AND $3`, what the
//!   totals would cost read from the ledger (the 366-day range covers the whole year of data).
//!
//! At the end a Markdown table gives the median time per call (median over criterion's samples
//! of each sample's mean) per benchmark and backend, with the load average of the machine, and a
//! second one times the statements behind the figures one by one (`lines_after` over 30 days and
//! over last month, `credits::daily` over 30 days, 366 days and last month): where the time goes.
//!
//! Run:
//!
//! ```text
//! cargo bench --bench stats                        # SQLite (PostgreSQL skipped without a URL)
//! CHOPAY_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench stats
//! cargo bench --bench stats -- postgres            # one backend (only its data is generated)
//! ```
//!
//! Environment: `STATS_CREDITS` (1 000 000: credits of `cho-quang-oai`; `cho-mo` gets a
//! twentieth), `STATS_KEEP_DB=1` (keep the database for `EXPLAIN` and print where it is).
//! Under `cargo test --benches` (criterion's test mode) the data is 20 000 credits and each
//! benchmark runs once.

// A benchmark whose setup is wrong must stop, not measure something else.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::as_conversions
)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::Criterion;
use sqlx::AssertSqlSafe;
use tokio::runtime::Runtime;

use chopay::dispatch;
use chopay::domain::day::Day;
use chopay::domain::stats::Totals;
use chopay::service::stats::{self as figures, Ask, DEFAULT_ACTIVE_DAYS};
use chopay::service::{catalog, demo};
use chopay::store::credits::{self, CreditScope, DailyRow};
use chopay::store::markets::MarketRow;
use chopay::store::stats::{Snapshot, lines_after};
use chopay::store::{DatabaseUrl, Store, now_ms};

mod common;

use common::{Backend, Db, exec, last_month, loadavg, median, scalar_pair, series, shown, table};

/// The market with the big ledger.
const BIG: &str = "cho-quang-oai";
/// The district's other market.
const SMALL: &str = "cho-mo";
/// The demo district.
const DISTRICT: &str = "ba-vi";
/// Days of history generated, today included.
const HISTORY_DAYS: i64 = 365;
/// Stall rows per page of the monthly report (as `http::stats::REPORT_BATCH`).
const REPORT_BATCH: i64 = 500;
/// Criterion samples per benchmark.
const SAMPLE_SIZE: usize = 20;
/// An account no stall has.
const NOBODY_ACCOUNT: &str = "99887766554433";

// ------------------------------------------------------------------------------------------------
// What is timed

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Bench {
    Market30,
    Market366,
    District30,
    MonthlyReport,
    Naive30,
    Naive366,
}

impl Bench {
    const ALL: [Self; 6] = [
        Self::Market30,
        Self::Market366,
        Self::District30,
        Self::MonthlyReport,
        Self::Naive30,
        Self::Naive366,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Market30 => "market stats 30 days",
            Self::Market366 => "market stats 366 days",
            Self::District30 => "district stats 30 days",
            Self::MonthlyReport => "monthly report",
            Self::Naive30 => "naive ledger scan 30 days",
            Self::Naive366 => "naive ledger scan 366 days",
        }
    }
}

/// A loaded database and what the benchmarks ask of it.
struct Loaded {
    store: Store,
    today: Day,
    big: MarketRow,
    /// Last month, first and last day.
    month: (Day, Day),
}

impl Loaded {
    fn ask(&self, days: i64) -> Ask {
        Ask {
            from: self.today.plus_days(1 - days),
            to: self.today,
            today: self.today,
            active_days: DEFAULT_ACTIVE_DAYS,
        }
    }

    /// One call of `bench`; answers (credits, đồng) so the work cannot be optimized away and the
    /// figures can be checked.
    async fn run(&self, bench: Bench) -> (i64, i64) {
        let tally = |t: Totals| (t.all().count, t.all().amount_dong);
        match bench {
            Bench::Market30 | Bench::Market366 => {
                let ask = if bench == Bench::Market30 {
                    Ask::last_30_days(self.today)
                } else {
                    self.ask(366)
                };
                let f = figures::of_market(&self.store, self.big.clone(), ask)
                    .await
                    .expect("of_market");
                tally(f.totals)
            }
            Bench::District30 => {
                let f = figures::of_district(&self.store, DISTRICT, Ask::last_30_days(self.today))
                    .await
                    .expect("of_district");
                tally(f.totals)
            }
            Bench::MonthlyReport => {
                let (stalls, totals) = monthly_report(&self.store, self.big.id, self.month).await;
                // Stall rows plus the unmatched row add up to the total row.
                let unmatched = (totals.unmatched.count, totals.unmatched.amount_dong);
                (stalls.0 + unmatched.0, stalls.1 + unmatched.1)
            }
            Bench::Naive30 | Bench::Naive366 => {
                let days = if bench == Bench::Naive30 { 30 } else { 366 };
                naive(
                    &self.store,
                    self.big.id,
                    self.today.plus_days(1 - days),
                    self.today,
                )
                .await
            }
        }
    }
}

/// What the monthly CSV reads, as `http::stats::report_csv` reads it: in one `Snapshot`, every
/// page of stall lines, then the month's days. Answers the stall rows' (credits, đồng) and the
/// month's totals.
async fn monthly_report(store: &Store, market_id: i64, month: (Day, Day)) -> ((i64, i64), Totals) {
    let mut snapshot = Snapshot::begin(store).await.expect("snapshot");
    let (mut credits, mut amount, mut after) = (0_i64, 0_i64, 0_i64);
    loop {
        let page = snapshot
            .lines_after(market_id, month, after, REPORT_BATCH)
            .await
            .expect("lines_after");
        for line in &page {
            credits += line.credits;
            amount += line.amount_dong;
        }
        match page.last() {
            Some(last) if page.len() as i64 == REPORT_BATCH => after = last.id,
            _ => break,
        }
    }
    let rows = snapshot.daily(market_id, month).await.expect("daily");
    let totals = rows
        .iter()
        .filter_map(DailyRow::totals)
        .map(|(_, t)| t)
        .sum();
    ((credits, amount), totals)
}

/// The ledger scan: count and sum of a market's credits over days `from..=to`.
async fn naive(store: &Store, market_id: i64, from: Day, to: Day) -> (i64, i64) {
    const SQL: &str = "SELECT COUNT(*), CAST(COALESCE(SUM(amount_dong), 0) AS BIGINT) FROM credits \
         WHERE market_id = $1 AND day BETWEEN $2 AND $3";
    dispatch!(store, pool => sqlx::query_as::<_, (i64, i64)>(SQL)
        .bind(market_id).bind(from.number()).bind(to.number())
        .fetch_one(pool).await)
    .expect("naive scan")
}

// ------------------------------------------------------------------------------------------------
// Data generation

/// Credits `$6..=$7` of market `$2` on channel `$1`, inserted in time order (ids grow with time,
/// as the ledger writes them). Each credit number `i` picks, by
/// multiplicative hashes: a slot of `bench_slots` (`$5` slots: a stall, weighted), a day among the
/// slot's `days` oldest of `bench_days`, a kind (k < 2: unmatched to account `$3`; even: an
/// order's payment; odd: a static payment), an amount and a time of day (06:00–18:00).
fn insert_credits(backend: Backend) -> String {
    format!(
        "WITH {} \
         INSERT INTO credits (channel_id, market_id, provider_txn_id, amount_dong, account, bin, description, \
         counterparty_name, booked_at_ms, received_at_ms, day, stall_id, outcome, raw_body) \
         SELECT $1, $2, 'gen-' || h.i, 1000 * (5 + h.a * h.a / 2000), \
         CASE WHEN h.k < 2 THEN $3 ELSE s.account END, \
         CASE WHEN h.k < 2 THEN '970415' ELSE s.bin END, \
         CASE WHEN h.k < 2 THEN 'chuyen tien' WHEN h.k % 2 = 0 THEN 'CP7K3F2Q thanh toan don hang' \
              ELSE 'Thanh toan tien hang' END, \
         'NGUYEN VAN A', d.start_ms + 21600000 + h.t - 2000, d.start_ms + 21600000 + h.t, d.day, \
         CASE WHEN h.k < 2 THEN NULL ELSE s.stall_id END, \
         CASE WHEN h.k < 2 THEN 'unmatched' WHEN h.k % 2 = 0 THEN 'order_paid' ELSE 'static_payment' END, \
         $4 \
         FROM (SELECT i, (i * 2654435761) % 1000003 % $5 AS slot, (i * 48271) % 2147483647 AS hd, \
               (i * 69621) % 2147483629 % 20 AS k, (i * 16807) % 2147483647 % 1000 AS a, \
               (i * 40692) % 2147483399 % 43200000 AS t FROM g) h \
         JOIN bench_slots s ON s.market_id = $2 AND s.slot = h.slot \
         JOIN bench_days d ON d.idx = h.hd % s.days \
         ORDER BY d.idx, h.t, h.i",
        series(backend, "$6", "$7")
    )
}

/// Stall `k` of `n` (linked stalls in id order): how many slots it gets (Zipf-like on a
/// shuffled rank; 0 for the silent ones) and on how many of the oldest days it is paid.
fn stall_weight(k: usize, n: usize) -> (i64, i64) {
    if k % 64 == 63 {
        return (0, HISTORY_DAYS);
    }
    let rank = (k * 97 % n) as i64;
    let weight = (200 + rank + 4) / (rank + 5);
    let days = if k % 64 == 31 {
        HISTORY_DAYS - 60
    } else {
        HISTORY_DAYS
    };
    (weight, days)
}

/// What generation did.
struct Generated {
    credits: i64,
    credit_days: i64,
    insert: Duration,
    rollups: Duration,
    analyze: Duration,
}

async fn generate(store: &Store, backend: Backend, today: Day, big_credits: i64) -> Generated {
    exec(
        store,
        "CREATE TABLE bench_days (idx BIGINT PRIMARY KEY, day BIGINT NOT NULL, start_ms BIGINT NOT NULL)",
    )
    .await;
    exec(
        store,
        "CREATE TABLE bench_slots (market_id BIGINT NOT NULL, slot BIGINT NOT NULL, stall_id BIGINT NOT NULL, \
         bin TEXT NOT NULL, account TEXT NOT NULL, days BIGINT NOT NULL, PRIMARY KEY (market_id, slot))",
    )
    .await;
    // Index 0 is the oldest day, HISTORY_DAYS - 1 today.
    let days: Vec<(i64, i64, i64)> = (0..HISTORY_DAYS)
        .map(|idx| {
            let day = today.plus_days(idx + 1 - HISTORY_DAYS);
            (idx, day.number(), day.start_ms())
        })
        .collect();
    dispatch!(store, pool => async {
        let mut tx = pool.begin().await?;
        for (idx, day, start_ms) in &days {
            sqlx::query("INSERT INTO bench_days (idx, day, start_ms) VALUES ($1, $2, $3)")
                .bind(idx).bind(day).bind(start_ms).execute(&mut *tx).await?;
        }
        tx.commit().await
    }.await)
    .expect("bench_days");

    let small_credits = (big_credits / 20).max(1);
    let mut next = 1_i64;
    let insert_start = Instant::now();
    for (slug, count) in [(BIG, big_credits), (SMALL, small_credits)] {
        let market = catalog::market(store, slug).await.expect("market");
        let (channel_id, _) = demo::payment_channel(store, slug).await.expect("channel");
        const LINKED: &str = "SELECT id, payee_bin, payee_account FROM stalls \
             WHERE market_id = $1 AND payee_bin IS NOT NULL ORDER BY id";
        let linked: Vec<(i64, String, String)> = dispatch!(store, pool =>
            sqlx::query_as(LINKED).bind(market.id).fetch_all(pool).await)
        .expect("stalls");
        let mut slots = Vec::new();
        for (k, (stall_id, bin, account)) in linked.iter().enumerate() {
            let (weight, days) = stall_weight(k, linked.len());
            for _ in 0..weight {
                slots.push((*stall_id, bin.clone(), account.clone(), days));
            }
        }
        dispatch!(store, pool => async {
            let mut tx = pool.begin().await?;
            for (slot, (stall_id, bin, account, days)) in slots.iter().enumerate() {
                sqlx::query("INSERT INTO bench_slots (market_id, slot, stall_id, bin, account, days) \
                     VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(market.id).bind(slot as i64).bind(stall_id).bind(bin).bind(account).bind(days)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await
        }.await)
        .expect("bench_slots");
        let sql = insert_credits(backend);
        let (first, last) = (next, next + count - 1);
        dispatch!(store, pool => sqlx::query(AssertSqlSafe(sql.clone()))
            .bind(channel_id).bind(market.id).bind(NOBODY_ACCOUNT).bind(b"{}".to_vec())
            .bind(slots.len() as i64).bind(first).bind(last)
            .execute(pool).await.map(|_| ()))
        .unwrap_or_else(|e| panic!("insert credits of {slug}: {e}"));
        next = last + 1;
    }
    let insert = insert_start.elapsed();
    exec(store, "DROP TABLE bench_slots").await;
    exec(store, "DROP TABLE bench_days").await;

    let (rollup_rows, _) =
        scalar_pair(store, "SELECT COUNT(*), CAST(0 AS BIGINT) FROM credit_days").await;
    assert_eq!(
        rollup_rows, 0,
        "credit_days must be empty before the rollups are built"
    );
    let rollups_start = Instant::now();
    exec(store, &common::rollups("TRUE")).await;
    let rollups = rollups_start.elapsed();

    let ledger = common::assert_rollups_add_up(store).await;
    assert_eq!(
        ledger.0,
        big_credits + small_credits,
        "every credit inserted"
    );

    let analyze_start = Instant::now();
    exec(store, backend.analyze()).await;
    let analyze = analyze_start.elapsed();
    let (credit_days, _) =
        scalar_pair(store, "SELECT COUNT(*), CAST(0 AS BIGINT) FROM credit_days").await;
    Generated {
        credits: ledger.0,
        credit_days,
        insert,
        rollups,
        analyze,
    }
}

/// Checks every figure against a scan of the ledger, once, before timing.
async fn check(loaded: &Loaded) {
    let today = loaded.today;
    for (bench, days) in [(Bench::Market30, 30), (Bench::Market366, 366)] {
        let from = today.plus_days(1 - days);
        let want = naive(&loaded.store, loaded.big.id, from, today).await;
        assert_eq!(loaded.run(bench).await, want, "{}", bench.name());
        assert!(want.0 > 0, "credits in {days} days");
    }
    let small = catalog::market(&loaded.store, SMALL).await.expect("market");
    let from = today.plus_days(-29);
    let big = naive(&loaded.store, loaded.big.id, from, today).await;
    let other = naive(&loaded.store, small.id, from, today).await;
    assert_eq!(
        loaded.run(Bench::District30).await,
        (big.0 + other.0, big.1 + other.1),
        "district"
    );
    let (month_from, month_to) = loaded.month;
    let (stalls, totals) = monthly_report(&loaded.store, loaded.big.id, loaded.month).await;
    let want = naive(&loaded.store, loaded.big.id, month_from, month_to).await;
    assert_eq!(
        (totals.all().count, totals.all().amount_dong),
        want,
        "month's total"
    );
    assert_eq!(
        (
            stalls.0 + totals.unmatched.count,
            stalls.1 + totals.unmatched.amount_dong
        ),
        want,
        "stall rows + unmatched == total"
    );
    let f = figures::of_market(&loaded.store, loaded.big.clone(), Ask::last_30_days(today))
        .await
        .expect("of_market");
    println!(
        "  {BIG}, last 30 days: {} credits, {} đồng; {} stalls listed, active {}/{}, {} to visit; \
         month {month_from}..{month_to}: {} credits",
        f.totals.all().count,
        f.totals.all().amount_dong,
        f.stalls.len(),
        f.adoption.active.count,
        f.adoption.active.of,
        f.adoption.visits.len(),
        totals.all().count,
    );
}

async fn load(backend: Backend, postgres: Option<&str>, big_credits: i64) -> (Db, Loaded, String) {
    let db = Db::fresh(backend, postgres, "stats.db").await;
    let store = Store::connect(&DatabaseUrl::new(db.url()))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    demo::seed(&store).await.expect("demo seed");
    let today = Day::of_ms(now_ms());
    let started = Instant::now();
    let generated = generate(&store, backend, today, big_credits).await;
    let total = started.elapsed();
    // A fresh pool, as a server started on this database: its connections load the statistics
    // ANALYZE wrote (SQLite reads them when a connection loads the schema), and closing the
    // loading pool checkpoints SQLite's write-ahead log.
    store.close().await;
    let store = Store::connect(&DatabaseUrl::new(db.url()))
        .await
        .expect("connect");
    let label = db.label(&store).await;
    println!(
        "{}: generated {} credits ({} in {BIG}, {} in {SMALL}) and {} credit_days rows in {:.1} s \
         (credits {:.1} s, rollups {:.1} s, {} {:.1} s); {label}",
        backend.name(),
        generated.credits,
        big_credits,
        generated.credits - big_credits,
        generated.credit_days,
        total.as_secs_f64(),
        generated.insert.as_secs_f64(),
        generated.rollups.as_secs_f64(),
        backend.analyze(),
        generated.analyze.as_secs_f64(),
    );
    let big = catalog::market(&store, BIG).await.expect("market");
    let loaded = Loaded {
        store,
        today,
        big,
        month: last_month(today),
    };
    check(&loaded).await;
    (db, loaded, common::seconds(total))
}

/// The statements behind the figures, each timed alone (`reps` calls, median): where the time of
/// a stats call goes. `of_market` reads, in one snapshot, the stall lines over the active window
/// (30 days) and the market's days over the range (once more over the last 30 days when the
/// range is longer); the monthly report reads stall pages and the month's days.
async fn parts(loaded: &Loaded, reps: usize) -> Vec<(&'static str, f64)> {
    let (store, id, today) = (&loaded.store, loaded.big.id, loaded.today);
    let last_30 = (today.plus_days(-29), today);
    let year = (today.plus_days(-365), today);
    let mut out = Vec::new();
    for (name, part) in [
        ("stall lines, 30 days (lines_after)", 0),
        ("market days, 30 days (credits::daily)", 1),
        ("market days, 366 days (credits::daily)", 2),
        ("stall lines, last month, 500 a page", 3),
        ("market days, last month", 4),
    ] {
        let mut times = Vec::with_capacity(reps);
        for _ in 0..reps {
            let start = Instant::now();
            let rows = match part {
                0 => lines_after(store, id, last_30, 0, i64::MAX)
                    .await
                    .map(|r| r.len()),
                1 => credits::daily(store, CreditScope::Market(id), last_30.0, last_30.1)
                    .await
                    .map(|r| r.len()),
                2 => credits::daily(store, CreditScope::Market(id), year.0, year.1)
                    .await
                    .map(|r| r.len()),
                3 => lines_after(store, id, loaded.month, 0, REPORT_BATCH)
                    .await
                    .map(|r| r.len()),
                _ => credits::daily(
                    store,
                    CreditScope::Market(id),
                    loaded.month.0,
                    loaded.month.1,
                )
                .await
                .map(|r| r.len()),
            }
            .expect("part");
            times.push(start.elapsed().as_secs_f64());
            black_box(rows);
        }
        out.push((name, median(&times).unwrap_or(0.0)));
    }
    out
}

// ------------------------------------------------------------------------------------------------
// Running

/// Per (backend, benchmark): each criterion sample's mean time per call, in seconds.
type Samples = Mutex<BTreeMap<(&'static str, Bench), Vec<f64>>>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benchmarking = common::benchmarking(&args);
    let big_credits = common::env_count("STATS_CREDITS", 20).unwrap_or(if benchmarking {
        1_000_000
    } else {
        20_000
    });
    let keep = common::env_flag("STATS_KEEP_DB");
    let postgres = common::postgres_url();
    let backends = common::backends(&args, postgres.as_deref(), "stats");
    println!(
        "stats: {big_credits} credits in {BIG} over {HISTORY_DAYS} days; {} CPU(s), load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );

    let mut criterion = Criterion::default()
        .sample_size(SAMPLE_SIZE)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let samples: Samples = Mutex::new(BTreeMap::new());
    let mut generation = Vec::new();
    let mut breakdown = Vec::new();
    let part_reps = if benchmarking { 30 } else { 1 };
    for backend in backends {
        let rt: Runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (db, loaded, took) = rt.block_on(load(backend, postgres.as_deref(), big_credits));
        generation.push((backend.name(), took));
        let mut group = criterion.benchmark_group(backend.name());
        for bench in Bench::ALL {
            group.bench_function(bench.name(), |b| {
                b.iter_custom(|iters| {
                    let elapsed = rt.block_on(async {
                        let start = Instant::now();
                        for _ in 0..iters {
                            black_box(loaded.run(black_box(bench)).await);
                        }
                        start.elapsed()
                    });
                    samples
                        .lock()
                        .expect("samples")
                        .entry((backend.name(), bench))
                        .or_default()
                        .push(elapsed.as_secs_f64() / iters.max(1) as f64);
                    elapsed
                });
            });
        }
        group.finish();
        breakdown.push((backend.name(), rt.block_on(parts(&loaded, part_reps))));
        rt.block_on(async {
            loaded.store.close().await;
            db.drop(keep).await;
        });
        rt.shutdown_timeout(Duration::from_secs(2));
    }
    criterion.final_summary();

    let samples = samples.into_inner().expect("samples");
    // As configured above, unless given on the command line.
    let sample_size = args
        .iter()
        .position(|a| a == "--sample-size")
        .and_then(|i| args.get(i + 1)?.parse::<usize>().ok())
        .unwrap_or(SAMPLE_SIZE);
    let columns: Vec<&'static str> = generation.iter().map(|(b, _)| *b).collect();
    let mut rows = Vec::new();
    for bench in Bench::ALL {
        let cells: Vec<String> = columns
            .iter()
            .map(|name| {
                // The warm-up calls come first; criterion's samples are the last ones.
                let all = samples.get(&(*name, bench))?;
                median(&all[all.len().saturating_sub(sample_size)..])
            })
            .map(|cell| cell.map_or_else(|| "—".into(), shown))
            .collect();
        if samples.keys().any(|(_, b)| *b == bench) {
            rows.push((bench.name().to_owned(), cells));
        }
    }
    if !rows.is_empty() {
        rows.push((
            "generation (credits, rollups, analyze)".into(),
            generation.iter().map(|(_, t)| t.clone()).collect(),
        ));
        println!();
        println!(
            "Median per call ({big_credits} credits in {BIG}, {HISTORY_DAYS} days; load average now {}):",
            loadavg()
        );
        table("benchmark", &columns, &rows);
    }
    let rows: Vec<(String, Vec<String>)> = breakdown
        .first()
        .map(|(_, first)| {
            first
                .iter()
                .enumerate()
                .map(|(i, (part, _))| {
                    let cells = breakdown
                        .iter()
                        .map(|(_, timed)| {
                            timed.get(i).map_or_else(|| "—".into(), |(_, t)| shown(*t))
                        })
                        .collect();
                    ((*part).to_owned(), cells)
                })
                .collect()
        })
        .unwrap_or_default();
    if !rows.is_empty() {
        println!();
        println!("Where the time goes: each statement alone, median of {part_reps} call(s):");
        table("statement", &columns, &rows);
    }
}
