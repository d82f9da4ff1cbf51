//! Boards at scale (criterion): a thousand markets, three hundred thousand stalls and ten million
//! credits on PostgreSQL (the same markets and stalls with a million credits on SQLite), and the
//! board figures of a typical and of the busiest market, of a typical and of the largest district,
//! and the monthly report.
//!
//! Data, per backend, in a fresh database (as `benches/stats.rs`: SQLite a file in a temporary
//! directory, WAL, `synchronous=FULL`; PostgreSQL a new database `bench_<random>` on the server
//! of `CHOPAY_BENCH_POSTGRES_URL`, dropped after), everything in bulk SQL:
//!
//! - `SCALE_MARKETS` markets (1 000 on both backends) in about one district per 33
//!   markets (30 and 3), district `k` of `D` weighing `k + D/2`: the largest is three times the
//!   smallest (with 1 000 markets: 17 to 50 markets, 33 in the middle one);
//! - 200 to 400 stalls per market (300 on average: 300 000), 85–95 % of them with an
//!   account, 95 % of those with a poster printed after it was linked, the last two closed;
//! - one `chopay` channel per market;
//! - `SCALE_CREDITS` credits (10 000 000 on PostgreSQL, 1 000 000 on SQLite: the issue's figure)
//!   over the last 365 Vietnam days, the same number each day, inserted day by day in time order
//!   (ids grow with time, as the ledger writes them). A credit goes to a market by weight (Zipf-like
//!   on a shuffled rank: the busiest market weighs 64, a typical one 4, so the busiest takes
//!   ~1.4 % of the credits with 1 000 markets), then half of the time to any linked
//!   stall of it and half of the time to a skewed one (the first stalls take most); 10 % are
//!   unmatched (stall NULL), the rest half `order_paid` (without an order row: no figure reads
//!   orders), half `static_payment`; 5 000–504 000 đồng;
//! - after each day's credits, that day's rollups are built from them (`INSERT INTO credit_days …
//!   SELECT … GROUP BY`, in the order of each stall's first credit of the day), so the rollups lie
//!   on disk as a year of ledger writes would leave them; then the bench asserts that the rollups
//!   add up to the credits (count, sum, kinds) and runs `ANALYZE` (PostgreSQL: `VACUUM ANALYZE`).
//!
//! Before timing, every timed figure is checked against a scan of the ledger (credits and đồng
//! of each market over the range; the district's the sum of its markets'; the report's stall rows
//! plus its unmatched row equal to the month's credits).
//!
//! Timed (criterion: 20 samples over 3 s after 1 s of warm-up), on a fresh pool opened after
//! loading:
//!
//! - `market stats 30 days, typical`: `service::stats::of_market` for the market of middle rank;
//! - `market stats 30 days, busiest`: the same for the busiest market;
//! - `district stats 30 days, typical` / `…, largest`: `service::stats::of_district` for the
//!   middle district and for the one with the most markets;
//! - `monthly report, busiest`: what `GET /api/v1/markets/{slug}/report.csv` reads for last month
//!   (every page of 500 stall lines, then the month's days, in one snapshot);
//! - `stall credits page 1, busiest stall` / `…, quiet stall`: what a vendor's credits screen
//!   reads (`store::credits::list`: the newest 50 and the total) for the stall with the most
//!   credits of the busiest market and for one with the fewest of the typical market (checked,
//!   and timed once, against a scan of the ledger through the join);
//! - `unmatched credits page 1, busiest market`: the review list's first page and total (checked,
//!   and timed once, against the query with the outcome as a parameter).
//!
//! At the end a Markdown table gives, per backend, the data, the generation times, the median
//! time per call (median over criterion's samples of each sample's mean) and the load average.
//!
//! Run (about 10 minutes with PostgreSQL, most of it generating):
//!
//! ```text
//! CHOPAY_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench scale
//! cargo bench --bench scale -- sqlite              # one backend (only its data is generated)
//! ```
//!
//! Environment: `SCALE_MARKETS`, `SCALE_CREDITS` (override both backends' sizes; stalls follow
//! the markets), `SCALE_KEEP_DB=1` (keep the databases for `EXPLAIN` and print where they are),
//! `SCALE_SQLITE_DB=sqlite://…` / `SCALE_POSTGRES_DB=postgres://…` (time a database kept by an
//! earlier run of the same shape again, after this build's migrations, without generating).
//! Under `cargo test --benches` (criterion's test mode) the data is 20 markets and 20 000 credits
//! and each benchmark runs once.

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
use chopay::domain::order::Outcome;
use chopay::domain::stats::Totals;
use chopay::service::stats::{self as figures, Ask};
use chopay::store::credits::{self, CreditScope, DailyRow};
use chopay::store::markets::MarketRow;
use chopay::store::stats::Snapshot;
use chopay::store::{DatabaseUrl, Page, Store, now_ms};

mod common;

use common::{Backend, Db, exec, loadavg, median, scalar_pair, series, shown, table};

/// Days of history generated, today included.
const HISTORY_DAYS: i64 = 365;
/// Stall rows per page of the monthly report (as `http::stats::REPORT_BATCH`).
const REPORT_BATCH: i64 = 500;
/// Criterion samples per benchmark.
const SAMPLE_SIZE: usize = 20;
/// Markets per district, on average.
const MARKETS_PER_DISTRICT: i64 = 33;
/// An account no stall has.
const NOBODY_ACCOUNT: &str = "99887766554433";

// ------------------------------------------------------------------------------------------------
// What is timed

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Bench {
    MarketTypical,
    MarketBusiest,
    DistrictTypical,
    DistrictLargest,
    ReportBusiest,
    StallBusiest,
    StallQuiet,
    UnmatchedBusiest,
}

impl Bench {
    const ALL: [Self; 8] = [
        Self::MarketTypical,
        Self::MarketBusiest,
        Self::DistrictTypical,
        Self::DistrictLargest,
        Self::ReportBusiest,
        Self::StallBusiest,
        Self::StallQuiet,
        Self::UnmatchedBusiest,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::MarketTypical => "market stats 30 days, typical",
            Self::MarketBusiest => "market stats 30 days, busiest",
            Self::DistrictTypical => "district stats 30 days, typical",
            Self::DistrictLargest => "district stats 30 days, largest",
            Self::ReportBusiest => "monthly report, busiest",
            Self::StallBusiest => "stall credits page 1, busiest stall",
            Self::StallQuiet => "stall credits page 1, quiet stall",
            Self::UnmatchedBusiest => "unmatched credits page 1, busiest market",
        }
    }
}

/// The data of one backend.
#[derive(Debug, Clone, Copy)]
struct Shape {
    markets: i64,
    credits: i64,
}

impl Shape {
    fn districts(self) -> i64 {
        ((self.markets + MARKETS_PER_DISTRICT / 2) / MARKETS_PER_DISTRICT).max(1)
    }
}

/// A market as generated.
#[derive(Debug, Clone)]
struct Planned {
    slug: String,
    district: i64,
    stalls: i64,
    linked: i64,
    postered: i64,
    /// Its weight among the markets (credit slots).
    slots: i64,
}

/// The markets of a shape: districts, stalls and weights (deterministic).
fn plan(shape: Shape) -> Vec<Planned> {
    let (m, d) = (shape.markets, shape.districts());
    let weights: Vec<i64> = (0..d).map(|k| k + d / 2 + 1).collect();
    let total: i64 = weights.iter().sum();
    // District k holds markets [bounds[k], bounds[k + 1]).
    let mut bounds = vec![0_i64];
    let mut acc = 0;
    for w in &weights {
        acc += w;
        bounds.push(acc * m / total);
    }
    (0..m)
        .map(|i| {
            let district = (bounds.iter().rposition(|&b| b <= i).unwrap_or(0) as i64).min(d - 1);
            let stalls = 200 + i * 7919 % 201;
            let linked = stalls * (85 + i % 11) / 100;
            // A permutation of 0..m when 379 is prime to m (it is prime).
            let rank = if m % 379 == 0 { i } else { i * 379 % m };
            Planned {
                slug: format!("cho-{district:02}-{i:04}"),
                district,
                stalls,
                linked,
                postered: linked * 95 / 100,
                slots: 4 + 60 / (rank + 1),
            }
        })
        .collect()
}

fn district_slug(k: i64) -> String {
    format!("huyen-{k:02}")
}

/// A loaded database and what the benchmarks ask of it.
struct Loaded {
    store: Store,
    today: Day,
    typical: MarketRow,
    busiest: MarketRow,
    typical_district: String,
    largest_district: String,
    month: (Day, Day),
    /// The stall with the most credits in the busiest market, and one with the fewest (but some)
    /// in the typical market.
    busiest_stall: i64,
    quiet_stall: i64,
}

impl Loaded {
    /// The stall a stall benchmark reads.
    fn stall_of(&self, bench: Bench) -> i64 {
        if bench == Bench::StallBusiest {
            self.busiest_stall
        } else {
            self.quiet_stall
        }
    }

    /// One call of `bench`; answers (credits, đồng) so the work cannot be optimized away and the
    /// figures can be checked.
    async fn run(&self, bench: Bench) -> (i64, i64) {
        let tally = |t: Totals| (t.all().count, t.all().amount_dong);
        let ask = Ask::last_30_days(self.today);
        match bench {
            Bench::MarketTypical | Bench::MarketBusiest => {
                let market = if bench == Bench::MarketTypical {
                    &self.typical
                } else {
                    &self.busiest
                };
                let f = figures::of_market(&self.store, market.clone(), ask)
                    .await
                    .expect("of_market");
                tally(f.totals)
            }
            Bench::DistrictTypical | Bench::DistrictLargest => {
                let slug = if bench == Bench::DistrictTypical {
                    &self.typical_district
                } else {
                    &self.largest_district
                };
                let f = figures::of_district(&self.store, slug, ask)
                    .await
                    .expect("of_district");
                tally(f.totals)
            }
            Bench::ReportBusiest => {
                let (stalls, totals) =
                    monthly_report(&self.store, self.busiest.id, self.month).await;
                let unmatched = (totals.unmatched.count, totals.unmatched.amount_dong);
                (stalls.0 + unmatched.0, stalls.1 + unmatched.1)
            }
            Bench::StallBusiest | Bench::StallQuiet => {
                page_of(&self.store, CreditScope::Stall(self.stall_of(bench)), None).await
            }
            Bench::UnmatchedBusiest => {
                let scope = CreditScope::Market(self.busiest.id);
                page_of(&self.store, scope, Some(Outcome::Unmatched)).await
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

/// What a credits screen reads (a vendor's, `GET /api/v1/stalls/{id}/credits`; the review list,
/// `GET /api/v1/markets/{slug}/credits?outcome=unmatched`): the newest page of 50 and the total.
/// Answers (total, đồng on the page).
async fn page_of(store: &Store, scope: CreditScope, outcome: Option<Outcome>) -> (i64, i64) {
    let (rows, total) = credits::list(store, scope, outcome, Page::new(None, None))
        .await
        .expect("credits::list");
    (total, rows.iter().map(|r| r.amount_dong).sum())
}

/// The same as [`page_of`] for a stall by a scan: every credit matched or assigned to the stall, through
/// the join (as the listing read them before it read the two indexes).
async fn naive_stall(store: &Store, stall_id: i64) -> (i64, i64) {
    const SQL: &str = "SELECT (SELECT COUNT(*) FROM credits c LEFT JOIN credit_assignments a ON a.credit_id = c.id \
         WHERE c.stall_id = $1 OR a.stall_id = $1), \
         (SELECT CAST(COALESCE(SUM(amount_dong), 0) AS BIGINT) FROM (SELECT c.amount_dong FROM credits c \
         LEFT JOIN credit_assignments a ON a.credit_id = c.id WHERE c.stall_id = $1 OR a.stall_id = $1 \
         ORDER BY c.id DESC LIMIT 50) AS page)";
    dispatch!(store, pool => sqlx::query_as::<_, (i64, i64)>(SQL).bind(stall_id).fetch_one(pool).await)
        .expect("naive stall scan")
}

/// The same as [`page_of`] for a market's unmatched credits, as the listing read them before it
/// read the partial index `credits_unmatched` (the outcome a parameter).
async fn naive_unmatched(store: &Store, market_id: i64) -> (i64, i64) {
    const SQL: &str = "SELECT (SELECT COUNT(*) FROM credits c WHERE c.market_id = $1 AND ($2 = '' OR c.outcome = $2)), \
         (SELECT CAST(COALESCE(SUM(amount_dong), 0) AS BIGINT) FROM (SELECT c.amount_dong FROM credits c \
         WHERE c.market_id = $1 AND ($2 = '' OR c.outcome = $2) ORDER BY c.id DESC LIMIT 50) AS page)";
    dispatch!(store, pool => sqlx::query_as::<_, (i64, i64)>(SQL).bind(market_id).bind("unmatched").fetch_one(pool).await)
        .expect("naive unmatched scan")
}

/// The stall of `market_id` with the most credits (`most`) or the fewest but some.
async fn stall_by_credits(store: &Store, market_id: i64, most: bool) -> i64 {
    const MOST: &str = "SELECT stall_id FROM credits WHERE market_id = $1 AND stall_id IS NOT NULL \
         GROUP BY stall_id ORDER BY COUNT(*) DESC, stall_id LIMIT 1";
    const FEWEST: &str = "SELECT stall_id FROM credits WHERE market_id = $1 AND stall_id IS NOT NULL \
         GROUP BY stall_id ORDER BY COUNT(*), stall_id LIMIT 1";
    let sql = if most { MOST } else { FEWEST };
    dispatch!(store, pool => sqlx::query_scalar::<_, i64>(sql).bind(market_id).fetch_one(pool).await)
        .expect("a stall with credits")
}

/// The ledger scan: count and sum of the credits of the markets of `district` (or of one market)
/// over days `from..=to`.
async fn naive(
    store: &Store,
    market_id: Option<i64>,
    district: &str,
    from: Day,
    to: Day,
) -> (i64, i64) {
    const SQL: &str = "SELECT COUNT(*), CAST(COALESCE(SUM(c.amount_dong), 0) AS BIGINT) FROM credits c \
         JOIN markets m ON m.id = c.market_id \
         WHERE (c.market_id = $1 OR ($1 = 0 AND m.district_slug = $2)) AND c.day BETWEEN $3 AND $4";
    dispatch!(store, pool => sqlx::query_as::<_, (i64, i64)>(SQL)
        .bind(market_id.unwrap_or(0)).bind(district).bind(from.number()).bind(to.number())
        .fetch_one(pool).await)
    .expect("naive scan")
}

// ------------------------------------------------------------------------------------------------
// Data generation

/// Stalls `0..stalls` of each market of `bench_markets` (the series runs `$1..=$2`): the first
/// `linked` with an account (linked 200 days ago), the first `postered` of them with a poster
/// printed 100 days ago, the last two closed.
fn insert_stalls(backend: Backend) -> String {
    format!(
        "WITH {} \
         INSERT INTO stalls (market_id, code, vendor_name, goods, payee_bin, payee_account, payee_name, payee_service, \
         account_linked_at_ms, status, poster_printed_at_ms, created_at_ms, updated_at_ms) \
         SELECT b.market_id, 'A' || (g.i + 1), 'Người bán ' || (g.i + 1), 'Rau củ', \
         CASE WHEN g.i < b.linked THEN '970436' END, \
         CASE WHEN g.i < b.linked THEN '10' || (1000000 * b.market_id + g.i) END, \
         CASE WHEN g.i < b.linked THEN 'NGUYEN VAN ' || (g.i + 1) END, \
         CASE WHEN g.i < b.linked THEN 'account' END, \
         CASE WHEN g.i < b.linked THEN $3 - 17280000000 END, \
         CASE WHEN g.i >= b.stalls - 2 THEN 'inactive' ELSE 'active' END, \
         CASE WHEN g.i < b.postered THEN $3 - 8640000000 END, $3, $3 \
         FROM bench_markets b JOIN g ON g.i < b.stalls ORDER BY b.market_id, g.i",
        series(backend, "$1", "$2")
    )
}

/// Credits `$1..=$2` (the series), all on day `$3` (starting at `$4` ms), spread evenly over
/// 06:00–18:00 in number order (`$5` of them). Each credit number `i` picks, by multiplicative
/// hashes: a slot of `bench_slots` (`$6` slots: a market, weighted), a stall among the market's
/// linked ones (half of the time any, half a skewed one: offset r² / linked), a kind (k < 2:
/// unmatched to account `$7`; even: an order's payment; odd: a static payment) and an amount.
fn insert_credits(backend: Backend) -> String {
    format!(
        "WITH {} \
         INSERT INTO credits (channel_id, market_id, provider_txn_id, amount_dong, account, bin, description, \
         counterparty_name, booked_at_ms, received_at_ms, day, stall_id, outcome, raw_body) \
         SELECT h.channel_id, h.market_id, 'gen-' || h.i, 1000 * (5 + h.a * h.a / 2000), \
         CASE WHEN h.k < 2 THEN $7 ELSE '10' || (1000000 * h.market_id + h.offset_in) END, '970436', \
         CASE WHEN h.k < 2 THEN 'chuyen tien' WHEN h.k % 2 = 0 THEN 'CP7K3F2Q thanh toan don hang' \
              ELSE 'Thanh toan tien hang' END, \
         'NGUYEN VAN A', h.at - 2000, h.at, $3, \
         CASE WHEN h.k < 2 THEN NULL ELSE h.first_stall + h.offset_in END, \
         CASE WHEN h.k < 2 THEN 'unmatched' WHEN h.k % 2 = 0 THEN 'order_paid' ELSE 'static_payment' END, \
         $8 \
         FROM (SELECT x.i, x.k, x.a, x.at, sl.market_id, sl.channel_id, sl.first_stall, \
               CASE WHEN x.r % 2 = 0 THEN x.r / 2 % sl.linked \
                    ELSE (x.r / 2 % sl.linked) * (x.r / 2 % sl.linked) / sl.linked END AS offset_in \
               FROM (SELECT i, (i * 2654435761) % 1000003 % $6 AS slot, (i * 48271) % 2147483647 AS r, \
                     (i * 69621) % 2147483629 % 20 AS k, (i * 16807) % 2147483647 % 1000 AS a, \
                     $4 + 21600000 + (i - $1) * 43200000 / $5 AS at FROM g) x \
               JOIN bench_slots sl ON sl.slot = x.slot) h \
         ORDER BY h.i",
        series(backend, "$1", "$2")
    )
}

/// What generation did.
struct Generated {
    stalls: i64,
    credits: i64,
    credit_days: i64,
    setup: Duration,
    insert: Duration,
    analyze: Duration,
}

async fn generate(store: &Store, backend: Backend, today: Day, shape: Shape) -> Generated {
    let setup_start = Instant::now();
    let plan = plan(shape);
    let now = now_ms();
    // Markets, then their layout for the stall and credit statements.
    dispatch!(store, pool => async {
        let mut tx = pool.begin().await?;
        for (i, p) in plan.iter().enumerate() {
            sqlx::query("INSERT INTO markets (slug, name, commune, district, district_slug, province, \
                 households_registered, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, 'Hà Nội', $6, $7, $7)")
                .bind(&p.slug).bind(format!("Chợ số {i}")).bind(format!("xã số {i}"))
                .bind(format!("huyện số {}", p.district)).bind(district_slug(p.district))
                .bind(p.stalls).bind(now)
                .execute(&mut *tx).await?;
        }
        tx.commit().await
    }.await)
    .expect("markets");
    exec(
        store,
        "CREATE TABLE bench_markets (market_id BIGINT PRIMARY KEY, stalls BIGINT NOT NULL, \
         linked BIGINT NOT NULL, postered BIGINT NOT NULL)",
    )
    .await;
    let ids: Vec<(i64, String)> = dispatch!(store, pool =>
        sqlx::query_as("SELECT id, slug FROM markets ORDER BY id").fetch_all(pool).await)
    .expect("market ids");
    let by_slug: BTreeMap<&str, &Planned> = plan.iter().map(|p| (p.slug.as_str(), p)).collect();
    dispatch!(store, pool => async {
        let mut tx = pool.begin().await?;
        for (id, slug) in &ids {
            let p = by_slug[slug.as_str()];
            sqlx::query("INSERT INTO bench_markets (market_id, stalls, linked, postered) VALUES ($1, $2, $3, $4)")
                .bind(id).bind(p.stalls).bind(p.linked).bind(p.postered)
                .execute(&mut *tx).await?;
        }
        tx.commit().await
    }.await)
    .expect("bench_markets");
    let most = plan.iter().map(|p| p.stalls).max().unwrap_or(1);
    dispatch!(store, pool => sqlx::query(AssertSqlSafe(insert_stalls(backend)))
        .bind(0_i64).bind(most - 1).bind(now)
        .execute(pool).await.map(|_| ()))
    .unwrap_or_else(|e| panic!("insert stalls: {e}"));
    exec(
        store,
        &format!(
            "INSERT INTO channels (market_id, provider, secret, label, created_at_ms) \
             SELECT id, 'chopay', 'bench-not-a-secret', 'bench', {now} FROM markets ORDER BY id"
        ),
    )
    .await;
    // Each market's stalls have consecutive ids (one INSERT in order): a credit's stall is the
    // market's first stall id plus an offset.
    let layout: Vec<(i64, i64, i64, i64, i64)> = dispatch!(store, pool =>
        sqlx::query_as("SELECT s.market_id, MIN(s.id), MAX(s.id), COUNT(*), MIN(c.id) FROM stalls s \
             JOIN channels c ON c.market_id = s.market_id GROUP BY s.market_id ORDER BY s.market_id")
            .fetch_all(pool).await)
    .expect("layout");
    exec(
        store,
        "CREATE TABLE bench_slots (slot BIGINT PRIMARY KEY, market_id BIGINT NOT NULL, channel_id BIGINT NOT NULL, \
         first_stall BIGINT NOT NULL, linked BIGINT NOT NULL)",
    )
    .await;
    let mut slots = 0_i64;
    let mut stalls = 0_i64;
    dispatch!(store, pool => async {
        let mut tx = pool.begin().await?;
        for ((id, slug), (market_id, first, last, count, channel_id)) in ids.iter().zip(&layout) {
            assert_eq!(id, market_id, "one layout row per market");
            assert_eq!(last - first + 1, *count, "consecutive stall ids in {slug}");
            let p = by_slug[slug.as_str()];
            assert_eq!(*count, p.stalls, "stalls of {slug}");
            stalls += count;
            for _ in 0..p.slots {
                sqlx::query("INSERT INTO bench_slots (slot, market_id, channel_id, first_stall, linked) \
                     VALUES ($1, $2, $3, $4, $5)")
                    .bind(slots).bind(market_id).bind(channel_id).bind(first).bind(p.linked)
                    .execute(&mut *tx).await?;
                slots += 1;
            }
        }
        tx.commit().await
    }.await)
    .expect("bench_slots");
    let setup = setup_start.elapsed();

    let insert_sql = insert_credits(backend);
    let insert_start = Instant::now();
    let mut next = 1_i64;
    for idx in 0..HISTORY_DAYS {
        let day = today.plus_days(idx + 1 - HISTORY_DAYS);
        // The same number of credits each day, the remainder on the first days.
        let count = shape.credits / HISTORY_DAYS + i64::from(idx < shape.credits % HISTORY_DAYS);
        if count == 0 {
            continue;
        }
        let (before, _) = scalar_pair(
            store,
            "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT), CAST(0 AS BIGINT) FROM credits",
        )
        .await;
        let (first, last) = (next, next + count - 1);
        dispatch!(store, pool => sqlx::query(AssertSqlSafe(insert_sql.clone()))
            .bind(first).bind(last).bind(day.number()).bind(day.start_ms()).bind(count)
            .bind(slots).bind(NOBODY_ACCOUNT).bind(b"{}".to_vec())
            .execute(pool).await.map(|_| ()))
        .unwrap_or_else(|e| panic!("insert credits of {day}: {e}"));
        exec(store, &common::rollups(&format!("id > {before}"))).await;
        next = last + 1;
    }
    let insert = insert_start.elapsed();
    exec(store, "DROP TABLE bench_slots").await;
    exec(store, "DROP TABLE bench_markets").await;
    let ledger = common::assert_rollups_add_up(store).await;
    assert_eq!(ledger.0, shape.credits, "every credit inserted");

    let analyze_start = Instant::now();
    exec(store, backend.analyze()).await;
    let analyze = analyze_start.elapsed();
    let (credit_days, _) =
        scalar_pair(store, "SELECT COUNT(*), CAST(0 AS BIGINT) FROM credit_days").await;
    Generated {
        stalls,
        credits: ledger.0,
        credit_days,
        setup,
        insert,
        analyze,
    }
}

/// Checks every timed figure against a scan of the ledger, once, before timing.
async fn check(loaded: &Loaded) {
    let today = loaded.today;
    let from = today.plus_days(-29);
    for (bench, market) in [
        (Bench::MarketTypical, &loaded.typical),
        (Bench::MarketBusiest, &loaded.busiest),
    ] {
        let want = naive(&loaded.store, Some(market.id), "", from, today).await;
        assert_eq!(loaded.run(bench).await, want, "{}", bench.name());
        assert!(want.0 > 0, "{}: credits in 30 days", bench.name());
    }
    for (bench, slug) in [
        (Bench::DistrictTypical, &loaded.typical_district),
        (Bench::DistrictLargest, &loaded.largest_district),
    ] {
        let want = naive(&loaded.store, None, slug, from, today).await;
        assert_eq!(loaded.run(bench).await, want, "{}", bench.name());
    }
    let (month_from, month_to) = loaded.month;
    let want = naive(
        &loaded.store,
        Some(loaded.busiest.id),
        "",
        month_from,
        month_to,
    )
    .await;
    assert_eq!(
        loaded.run(Bench::ReportBusiest).await,
        want,
        "monthly report"
    );
    for bench in [Bench::StallBusiest, Bench::StallQuiet] {
        let stall = loaded.stall_of(bench);
        let started = Instant::now();
        let want = naive_stall(&loaded.store, stall).await;
        let scan = started.elapsed();
        assert_eq!(loaded.run(bench).await, want, "{}", bench.name());
        println!(
            "  {}: stall {stall}, {} credits; the same by a scan of the ledger: {:.1} ms",
            bench.name(),
            want.0,
            scan.as_secs_f64() * 1e3
        );
    }
    let started = Instant::now();
    let want = naive_unmatched(&loaded.store, loaded.busiest.id).await;
    let scan = started.elapsed();
    let bench = Bench::UnmatchedBusiest;
    assert_eq!(loaded.run(bench).await, want, "{}", bench.name());
    println!(
        "  {}: {} credits; the same with the outcome as a parameter: {:.1} ms",
        bench.name(),
        want.0,
        scan.as_secs_f64() * 1e3
    );
    for (what, market) in [("typical", &loaded.typical), ("busiest", &loaded.busiest)] {
        let f = figures::of_market(&loaded.store, market.clone(), Ask::last_30_days(today))
            .await
            .expect("of_market");
        println!(
            "  {what} market {}: last 30 days {} credits, {} đồng; {} stalls listed, active {}/{}, {} to visit",
            market.slug,
            f.totals.all().count,
            f.totals.all().amount_dong,
            f.stalls.len(),
            f.adoption.active.count,
            f.adoption.active.of,
            f.adoption.visits.len(),
        );
    }
    for (what, slug) in [
        ("typical", &loaded.typical_district),
        ("largest", &loaded.largest_district),
    ] {
        let f = figures::of_district(&loaded.store, slug, Ask::last_30_days(today))
            .await
            .expect("of_district");
        println!(
            "  {what} district {slug}: {} markets, {} open stalls ({} to visit), last 30 days {} credits",
            f.markets.len(),
            f.adoption.registered,
            f.adoption.to_visit,
            f.totals.all().count,
        );
    }
}

/// What one backend's run says for the table.
struct Summary {
    backend: &'static str,
    shape: String,
    generation: String,
    load_before: String,
}

async fn load(backend: Backend, postgres: Option<&str>, shape: Shape) -> (Db, Loaded, Summary) {
    let load_before = loadavg();
    // A database kept by an earlier run of the same shape (`SCALE_KEEP_DB=1`) is timed again
    // as it is.
    let reuse = std::env::var(format!("SCALE_{}_DB", backend.name().to_uppercase()))
        .ok()
        .filter(|url| !url.trim().is_empty());
    let today = Day::of_ms(now_ms());
    let started = Instant::now();
    let (db, generated) = if let Some(url) = reuse {
        let db = Db::Existing { url };
        let store = Store::connect(&DatabaseUrl::new(db.url()))
            .await
            .expect("connect");
        let count = |sql: &'static str| {
            let store = store.clone();
            async move { scalar_pair(&store, sql).await.0 }
        };
        let generated = Generated {
            stalls: count("SELECT COUNT(*), CAST(0 AS BIGINT) FROM stalls").await,
            credits: count("SELECT COUNT(*), CAST(0 AS BIGINT) FROM credits").await,
            credit_days: count("SELECT COUNT(*), CAST(0 AS BIGINT) FROM credit_days").await,
            setup: Duration::ZERO,
            insert: Duration::ZERO,
            analyze: Duration::ZERO,
        };
        store.close().await;
        (db, generated)
    } else {
        let db = Db::fresh(backend, postgres, "scale.db").await;
        let store = Store::connect(&DatabaseUrl::new(db.url()))
            .await
            .expect("connect");
        store.migrate().await.expect("migrate");
        let generated = generate(&store, backend, today, shape).await;
        // A fresh pool, as a server started on this database (statistics loaded, SQLite's
        // write-ahead log checkpointed by closing the loading pool).
        store.close().await;
        (db, generated)
    };
    let total = started.elapsed();
    let store = Store::connect(&DatabaseUrl::new(db.url()))
        .await
        .expect("connect");
    // A kept database gets this build's migrations (read-side indexes) before timing.
    store.migrate().await.expect("migrate");
    let label = db.label(&store).await;
    println!(
        "{}: {} markets in {} districts, {} stalls, {} credits, {} credit_days rows in {:.1} s \
         (markets and stalls {:.1} s, credits and rollups {:.1} s, {} {:.1} s); {label}",
        backend.name(),
        shape.markets,
        shape.districts(),
        generated.stalls,
        generated.credits,
        generated.credit_days,
        total.as_secs_f64(),
        generated.setup.as_secs_f64(),
        generated.insert.as_secs_f64(),
        backend.analyze(),
        generated.analyze.as_secs_f64(),
    );
    let plan = plan(shape);
    let busiest = plan
        .iter()
        .max_by_key(|p| p.slots)
        .expect("a market")
        .slug
        .clone();
    // The middle market by weight, then by stalls.
    let mut by_weight: Vec<&Planned> = plan.iter().collect();
    by_weight.sort_by_key(|p| (p.slots, p.stalls, p.slug.clone()));
    let typical = by_weight[by_weight.len() / 2].slug.clone();
    let mut sizes: BTreeMap<i64, i64> = BTreeMap::new();
    for p in &plan {
        *sizes.entry(p.district).or_default() += 1;
    }
    let mut by_size: Vec<(i64, i64)> = sizes.into_iter().map(|(k, n)| (n, k)).collect();
    by_size.sort_unstable();
    let largest_district = district_slug(by_size.last().map_or(0, |(_, k)| *k));
    let typical_district = district_slug(by_size[by_size.len() / 2].1);
    let market = |slug: String| {
        let store = store.clone();
        async move {
            chopay::service::catalog::market(&store, &slug)
                .await
                .expect("market")
        }
    };
    let (typical, busiest) = (market(typical).await, market(busiest).await);
    let loaded = Loaded {
        busiest_stall: stall_by_credits(&store, busiest.id, true).await,
        quiet_stall: stall_by_credits(&store, typical.id, false).await,
        typical,
        busiest,
        store,
        today,
        typical_district,
        largest_district,
        month: common::last_month(today),
    };
    check(&loaded).await;
    let summary = Summary {
        backend: backend.name(),
        shape: format!(
            "{} markets, {} districts, {} stalls, {} credits, {} rollup rows; {label}",
            shape.markets,
            shape.districts(),
            generated.stalls,
            generated.credits,
            generated.credit_days
        ),
        generation: format!(
            "{} (credits and rollups {})",
            common::seconds(total),
            common::seconds(generated.insert)
        ),
        load_before,
    };
    (db, loaded, summary)
}

// ------------------------------------------------------------------------------------------------
// Running

/// Per (backend, benchmark): each criterion sample's mean time per call, in seconds.
type Samples = Mutex<BTreeMap<(&'static str, Bench), Vec<f64>>>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benchmarking = common::benchmarking(&args);
    let keep = common::env_flag("SCALE_KEEP_DB");
    let postgres = common::postgres_url();
    let backends = common::backends(&args, postgres.as_deref(), "scale");
    let shape = |backend: Backend| {
        let (markets, credits) = match (benchmarking, backend) {
            (false, _) => (20, 20_000),
            (true, Backend::Postgres) => (1_000, 10_000_000),
            (true, Backend::Sqlite) => (1_000, 1_000_000),
        };
        Shape {
            markets: common::env_count("SCALE_MARKETS", 1).unwrap_or(markets),
            credits: common::env_count("SCALE_CREDITS", 1).unwrap_or(credits),
        }
    };
    println!(
        "scale: {} CPU(s), load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );

    let mut criterion = Criterion::default()
        .sample_size(SAMPLE_SIZE)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let samples: Samples = Mutex::new(BTreeMap::new());
    let mut summaries = Vec::new();
    for backend in backends {
        let rt: Runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (db, loaded, summary) = rt.block_on(load(backend, postgres.as_deref(), shape(backend)));
        let mut group = criterion.benchmark_group(format!("scale {}", backend.name()));
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
        summaries.push((summary, loadavg()));
        rt.block_on(async {
            loaded.store.close().await;
            db.drop(keep).await;
        });
        rt.shutdown_timeout(Duration::from_secs(2));
    }
    criterion.final_summary();

    let samples = samples.into_inner().expect("samples");
    let sample_size = args
        .iter()
        .position(|a| a == "--sample-size")
        .and_then(|i| args.get(i + 1)?.parse::<usize>().ok())
        .unwrap_or(SAMPLE_SIZE);
    let columns: Vec<&'static str> = summaries.iter().map(|(s, _)| s.backend).collect();
    if columns.is_empty() {
        return;
    }
    let mut rows: Vec<(String, Vec<String>)> = vec![
        (
            "data".into(),
            summaries.iter().map(|(s, _)| s.shape.clone()).collect(),
        ),
        (
            "generation".into(),
            summaries
                .iter()
                .map(|(s, _)| s.generation.clone())
                .collect(),
        ),
    ];
    for bench in Bench::ALL {
        let cells = columns
            .iter()
            .map(|name| {
                // The warm-up calls come first; criterion's samples are the last ones.
                let all = samples.get(&(*name, bench))?;
                median(&all[all.len().saturating_sub(sample_size)..])
            })
            .map(|cell| cell.map_or_else(|| "—".into(), shown))
            .collect();
        rows.push((bench.name().to_owned(), cells));
    }
    rows.push((
        "load average before generating / after timing".into(),
        summaries
            .iter()
            .map(|(s, after)| format!("{} / {after}", s.load_before))
            .collect(),
    ));
    println!();
    println!("Median per call, 30 days up to today, {HISTORY_DAYS} days of history:");
    table("benchmark", &columns, &rows);
}
