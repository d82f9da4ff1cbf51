//! `chopay simulate` (*contract*): a crowd of shoppers for a running server. Each shopper buys at
//! a random stall: pays an order exactly, short then the rest, twice (a bank's duplicate
//! notification), too much, on the printed static poster, or into an account no stall has; every
//! payment arrives as a signed `chopay`-format callback, retried like a bank retries. Bounded
//! (rate, duration, requests in flight, a retry deadline) and loopback only.
//!
//! `--acked FILE` writes one JSON line per acknowledged delivery (channel, transaction id, amount,
//! outcome), so a test that kills the server can check that every 2xx it gave is in the ledger;
//! `--retry-for SECS` keeps retrying deliveries that got no answer or a 5xx for that long, so a
//! restarted server drains them.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::CliError;
use crate::webhooks::{Secret, sign_chopay};

/// `chopay simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The server, e.g. `http://127.0.0.1:8080` (loopback only).
    #[arg(long)]
    url: String,
    /// The market's `chopay` channel id.
    #[arg(long)]
    channel: i64,
    /// That channel's secret (`whsec_…`).
    #[arg(long, env = "CHOPAY_WEBHOOK_SECRET", hide_env_values = true)]
    secret: String,
    /// The market's slug.
    #[arg(long)]
    market: String,
    /// An admin token, to read the stalls and issue orders as their vendors would.
    #[arg(long, env = "CHOPAY_TOKEN", hide_env_values = true)]
    token: String,
    /// Shoppers per second.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=2000))]
    rate: u32,
    /// How long to send, in seconds (retries then drain).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    duration: u64,
    /// Seed of the random choices, to replay a run.
    #[arg(long)]
    seed: Option<u64>,
    /// Write one JSON line per delivery the server acknowledged with a 2xx:
    /// `{"channel","transaction_id","amount","outcome","credit_id","duplicate","attempts"}`.
    #[arg(long)]
    acked: Option<PathBuf>,
    /// Keep retrying a delivery that got no answer or a 5xx for this many seconds after its first
    /// attempt (every 8 s once the bank-like schedule is over); without it, six retries over
    /// about 16 s.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=3600))]
    retry_for: Option<u64>,
}

/// What a crowd needs to know.
#[derive(Debug, Clone)]
pub struct Crowd {
    /// Server base URL.
    pub url: String,
    /// Channel id.
    pub channel: i64,
    /// Channel secret.
    pub secret: String,
    /// Market slug.
    pub market: String,
    /// Admin token.
    pub token: String,
    /// Shoppers per second.
    pub rate: u32,
    /// Sending time.
    pub duration: Duration,
    /// Random seed.
    pub seed: u64,
}

/// How a crowd retries and what it writes down, beyond [`Crowd`].
#[derive(Debug, Default)]
pub struct Delivering {
    /// Where to write a JSON line per acknowledged delivery.
    pub acked: Option<std::fs::File>,
    /// How long after its first attempt a delivery is still retried; `None`: the bank-like
    /// schedule once.
    pub retry_for: Option<Duration>,
}

/// Most shoppers in flight at once: beyond this, new ones are skipped (and counted).
const MAX_IN_FLIGHT: usize = 256;
/// Waits between retries of a delivery, as a bank would.
const RETRY_DELAYS_MS: [u64; 6] = [200, 500, 1000, 2000, 4000, 8000];

pub fn run(args: &SimulateArgs) -> Result<(), CliError> {
    let crowd = Crowd {
        url: args.url.trim_end_matches('/').to_owned(),
        channel: args.channel,
        secret: args.secret.clone(),
        market: args.market.clone(),
        token: args.token.clone(),
        rate: args.rate,
        duration: Duration::from_secs(args.duration),
        seed: args.seed.unwrap_or_else(random_seed),
    };
    check_loopback(&crowd.url)?;
    let acked = match &args.acked {
        Some(path) => Some(
            std::fs::File::create(path)
                .map_err(|e| CliError::Io(format!("cannot write {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let delivering = Delivering {
        acked,
        retry_for: args.retry_for.map(Duration::from_secs),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Io(format!("cannot start the runtime: {e}")))?;
    let report = runtime.block_on(simulate_with(crowd, delivering))?;
    println!("{report}");
    if report.acknowledged == 0 {
        return Err(CliError::Io(
            "no payment was acknowledged by the server".into(),
        ));
    }
    Ok(())
}

fn random_seed() -> u64 {
    let mut bytes = [0_u8; 8];
    let _ = getrandom::fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

/// Refuses any server but this machine: the simulator must never load someone else's service.
pub fn check_loopback(url: &str) -> Result<(), CliError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| CliError::Input(format!("--url: {e}")))?;
    let host = parsed.host_str().unwrap_or("");
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if parsed.scheme() != "http" || !loopback {
        return Err(CliError::Input(format!(
            "--url must be http:// on this machine (127.0.0.1, ::1 or localhost), not {url}"
        )));
    }
    Ok(())
}

/// A small deterministic generator (xorshift64*): reproducible runs from `--seed`.
#[derive(Debug, Clone)]
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        let mut x = self.0.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A stall a shopper can pay.
#[derive(Debug, Clone)]
struct Stall {
    id: i64,
    bin: String,
    account: String,
}

/// What happened, for the closing summary.
#[derive(Debug, Default)]
pub struct Report {
    /// Shoppers started.
    pub shoppers: u64,
    /// Shoppers skipped because too many were in flight.
    pub skipped: u64,
    /// Orders issued.
    pub orders: u64,
    /// Deliveries sent (each distinct, retries not counted).
    pub deliveries: u64,
    /// Deliveries the server acknowledged with 2xx.
    pub acknowledged: u64,
    /// Retries after a failure or 5xx.
    pub retries: u64,
    /// Deliveries never acknowledged.
    pub failed: u64,
    /// Acknowledged outcomes, and `duplicate` answers.
    pub outcomes: BTreeMap<String, u64>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "shoppers:     {} ({} skipped: too many in flight)",
            self.shoppers, self.skipped
        )?;
        writeln!(f, "orders:       {}", self.orders)?;
        writeln!(
            f,
            "deliveries:   {} sent, {} acknowledged, {} retries, {} failed",
            self.deliveries, self.acknowledged, self.retries, self.failed
        )?;
        for (outcome, count) in &self.outcomes {
            writeln!(f, "  {outcome:<16} {count}")?;
        }
        Ok(())
    }
}

struct Shared {
    crowd: Crowd,
    client: reqwest::Client,
    stalls: Vec<Stall>,
    report: Mutex<Report>,
    acked: Option<Mutex<std::fs::File>>,
    retry_for: Option<Duration>,
}

impl Shared {
    fn count(&self, update: impl FnOnce(&mut Report)) {
        if let Ok(mut report) = self.report.lock() {
            update(&mut report);
        }
    }
}

/// Runs a crowd until its duration is over and every delivery is acknowledged or given up.
pub async fn simulate(crowd: Crowd) -> Result<Report, CliError> {
    simulate_with(crowd, Delivering::default()).await
}

/// [`simulate`], retrying and writing down acknowledgements as `delivering` says.
pub async fn simulate_with(crowd: Crowd, delivering: Delivering) -> Result<Report, CliError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| CliError::Io(e.to_string()))?;
    let stalls = load_stalls(&client, &crowd).await?;
    if stalls.is_empty() {
        return Err(CliError::Input(format!(
            "market '{}' has no stall with a linked account",
            crowd.market
        )));
    }
    let shared = Arc::new(Shared {
        crowd: crowd.clone(),
        client,
        stalls,
        report: Mutex::new(Report::default()),
        acked: delivering.acked.map(Mutex::new),
        retry_for: delivering.retry_for,
    });
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut dice = Dice(crowd.seed);
    let period = Duration::from_secs(1) / crowd.rate;
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let deadline = tokio::time::Instant::now() + crowd.duration;
    let mut tasks = tokio::task::JoinSet::new();
    while tokio::time::Instant::now() < deadline {
        tick.tick().await;
        let Ok(permit) = Arc::clone(&in_flight).try_acquire_owned() else {
            shared.count(|r| r.skipped += 1);
            continue;
        };
        shared.count(|r| r.shoppers += 1);
        let shopper = Dice(dice.next());
        let shared = Arc::clone(&shared);
        tasks.spawn(async move {
            shop(&shared, shopper).await;
            drop(permit);
        });
        // Reap finished shoppers so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let report = std::mem::take(
        &mut *shared
            .report
            .lock()
            .map_err(|_| CliError::Io("report lost".into()))?,
    );
    if let Some(Ok(file)) = shared.acked.as_ref().map(Mutex::lock) {
        file.sync_all()
            .map_err(|e| CliError::Io(format!("cannot write the acknowledged deliveries: {e}")))?;
    }
    Ok(report)
}

async fn load_stalls(client: &reqwest::Client, crowd: &Crowd) -> Result<Vec<Stall>, CliError> {
    let mut stalls = Vec::new();
    for page in 1.. {
        let url = format!(
            "{}/api/v1/markets/{}/stalls?per_page=500&page={page}",
            crowd.url, crowd.market
        );
        let response = client
            .get(&url)
            .bearer_auth(&crowd.token)
            .send()
            .await
            .map_err(|e| CliError::Io(format!("cannot reach {}: {e}", crowd.url)))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| CliError::Io(e.to_string()))?;
        if !status.is_success() {
            return Err(CliError::Input(format!(
                "listing stalls: {status}: {}",
                body["message"]
            )));
        }
        let items = body["items"].as_array().cloned().unwrap_or_default();
        for item in &items {
            if let (Some(id), Some(bin), Some(account)) = (
                item["id"].as_i64(),
                item["payee"]["bin"].as_str(),
                item["payee"]["account"].as_str(),
            ) {
                stalls.push(Stall {
                    id,
                    bin: bin.to_owned(),
                    account: account.to_owned(),
                });
            }
        }
        if items.len() < 500 {
            break;
        }
    }
    Ok(stalls)
}

const NAMES: [&str; 6] = [
    "NGUYEN VAN AN",
    "TRAN THI BICH",
    "LE VAN CUONG",
    "PHAM THI DUNG",
    "HOANG VAN EM",
    "VU THI GIANG",
];

/// One shopper's visit.
async fn shop(shared: &Shared, mut dice: Dice) {
    let Some(stall) = usize::try_from(dice.below(u64::try_from(shared.stalls.len()).unwrap_or(1)))
        .ok()
        .and_then(|i| shared.stalls.get(i))
    else {
        return;
    };
    // Prices in thousands of đồng, as in a market: 5.000đ to 500.000đ.
    let amount = (5 + dice.below(496)) * 1000;
    let name = NAMES
        .get(usize::try_from(dice.below(6)).unwrap_or(0))
        .copied()
        .unwrap_or("KHACH");
    let roll = dice.below(100);
    if roll < 35 {
        // On the printed poster: the shopper types the amount, no reference.
        let description = format!("{name} chuyen tien");
        deliver(shared, &mut dice, stall, amount, &description, 1).await;
        return;
    }
    if roll < 40 {
        // Into an account no stall has.
        let nowhere = Stall {
            id: 0,
            bin: stall.bin.clone(),
            account: "000000000001".into(),
        };
        deliver(
            shared,
            &mut dice,
            &nowhere,
            amount,
            &format!("{name} ck"),
            1,
        )
        .await;
        return;
    }
    let Some(reference) = issue_order(shared, stall, amount).await else {
        return;
    };
    // Banks mangle descriptions: a prefix with their own ids, the reference, the payer.
    let description = format!(
        "MBVCB.{}.{reference}.CT tu {} {name}",
        3_000_000_000 + dice.below(999_999_999),
        1000 + dice.below(8999)
    );
    match roll {
        40..=74 => deliver(shared, &mut dice, stall, amount, &description, 1).await,
        75..=84 => {
            // Twice: the bank notifies the same transaction again.
            deliver(shared, &mut dice, stall, amount, &description, 2).await;
        }
        85..=94 => {
            // Short, then the rest a moment later.
            let short = amount / 2;
            deliver(shared, &mut dice, stall, short, &description, 1).await;
            tokio::time::sleep(Duration::from_millis(300 + dice.below(1500))).await;
            deliver(shared, &mut dice, stall, amount - short, &description, 1).await;
        }
        _ => deliver(shared, &mut dice, stall, amount + 2000, &description, 1).await,
    }
}

async fn issue_order(shared: &Shared, stall: &Stall, amount: u64) -> Option<String> {
    let url = format!("{}/api/v1/stalls/{}/orders", shared.crowd.url, stall.id);
    let response = shared
        .client
        .post(&url)
        .bearer_auth(&shared.crowd.token)
        .json(&json!({ "amount": amount.to_string() }))
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body: Value = response.json().await.ok()?;
    shared.count(|r| r.orders += 1);
    body["reference"].as_str().map(str::to_owned)
}

/// Sends one bank credit `copies` times (the same signed delivery), retrying each until it is
/// acknowledged or the retries run out.
async fn deliver(
    shared: &Shared,
    dice: &mut Dice,
    stall: &Stall,
    amount: u64,
    description: &str,
    copies: u32,
) {
    let transaction_id = format!("SIM{:016X}", dice.next());
    let body = json!({
        "transaction_id": transaction_id,
        "amount": amount.to_string(),
        "account_number": stall.account,
        "bin": stall.bin,
        "description": description,
        "counterparty_name": "KHACH HANG",
        "counterparty_account": format!("{:010}", dice.below(10_000_000_000)),
        "booked_at": crate::http::rfc3339(crate::store::now_ms()),
    })
    .to_string();
    let webhook_id = format!("msg_{:016x}", dice.next());
    let url = format!(
        "{}/webhooks/chopay/{}",
        shared.crowd.url, shared.crowd.channel
    );
    shared.count(|r| r.deliveries += 1);
    for _ in 0..copies {
        let first_attempt = tokio::time::Instant::now();
        let mut acknowledged = false;
        for attempt in 0.. {
            if attempt > 0 {
                let Some(delay) = retry_delay(attempt, first_attempt.elapsed(), shared.retry_for)
                else {
                    break;
                };
                shared.count(|r| r.retries += 1);
                tokio::time::sleep(delay).await;
            }
            // Sign at each attempt: the timestamp must be fresh, as a bank's retry is.
            let timestamp = crate::store::now_ms() / 1000;
            let Ok(signature) = sign_chopay(
                &Secret::new(shared.crowd.secret.clone()),
                &webhook_id,
                timestamp,
                body.as_bytes(),
            ) else {
                break;
            };
            let sent = shared
                .client
                .post(&url)
                .header("content-type", "application/json")
                .header("webhook-id", &webhook_id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature)
                .body(body.clone())
                .send()
                .await;
            let Ok(response) = sent else { continue };
            let status = response.status();
            if status.is_success() {
                let answer: Value = response.json().await.unwrap_or_default();
                let duplicate = answer["duplicate"].as_bool() == Some(true);
                let outcome = if duplicate {
                    "duplicate".to_owned()
                } else {
                    answer["outcome"].as_str().unwrap_or("ignored").to_owned()
                };
                if let Some(Ok(mut file)) = shared.acked.as_ref().map(Mutex::lock) {
                    let line = json!({
                        "channel": shared.crowd.channel,
                        "transaction_id": transaction_id,
                        "amount": amount.to_string(),
                        "outcome": answer["outcome"],
                        "credit_id": answer["credit_id"],
                        "duplicate": duplicate,
                        "attempts": attempt + 1,
                    });
                    if let Err(error) = writeln!(file, "{line}") {
                        tracing::warn!(%error, "cannot write an acknowledged delivery down");
                    }
                }
                shared.count(|r| *r.outcomes.entry(outcome).or_insert(0) += 1);
                acknowledged = true;
                break;
            }
            if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
                // A 4xx will not change on retry (wrong secret, wrong channel): stop.
                let answer: Value = response.json().await.unwrap_or_default();
                tracing::warn!(%status, message = %answer["message"], "the server refused a delivery");
                break;
            }
        }
        if acknowledged {
            shared.count(|r| r.acknowledged += 1);
        } else {
            shared.count(|r| r.failed += 1);
        }
    }
}

/// The wait before retry number `attempt` (1-based), `elapsed` after the first attempt: the
/// bank-like schedule, then (with a deadline) its last step again until the deadline; `None`:
/// give up.
fn retry_delay(attempt: usize, elapsed: Duration, retry_for: Option<Duration>) -> Option<Duration> {
    let scheduled = RETRY_DELAYS_MS.get(attempt - 1).copied();
    let Some(limit) = retry_for else {
        return scheduled.map(Duration::from_millis);
    };
    let last = RETRY_DELAYS_MS.last().copied().unwrap_or(1000);
    let delay = Duration::from_millis(scheduled.unwrap_or(last));
    (elapsed + delay <= limit).then_some(delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_servers() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:80/",
        ] {
            assert!(check_loopback(url).is_ok(), "{url}");
        }
        for url in [
            "http://10.0.0.1:8080",
            "https://127.0.0.1",
            "http://example.com",
            "nonsense",
        ] {
            assert!(check_loopback(url).is_err(), "{url}");
        }
    }

    #[test]
    fn retries_follow_the_schedule_then_stop_at_the_deadline() {
        let ms = Duration::from_millis;
        let once: Vec<_> = (1..=7).map(|n| retry_delay(n, ms(0), None)).collect();
        assert_eq!(
            once,
            RETRY_DELAYS_MS
                .iter()
                .map(|d| Some(ms(*d)))
                .chain([None])
                .collect::<Vec<_>>()
        );
        let minute = Some(Duration::from_secs(60));
        assert_eq!(retry_delay(1, ms(0), minute), Some(ms(200)));
        assert_eq!(retry_delay(20, ms(40_000), minute), Some(ms(8000)));
        assert_eq!(retry_delay(20, ms(55_000), minute), None);
        assert_eq!(retry_delay(1, ms(59_900), minute), None);
    }

    #[test]
    fn dice_replay_from_a_seed() {
        let mut a = Dice(42);
        let mut b = Dice(42);
        let rolls: Vec<u64> = (0..5).map(|_| a.below(100)).collect();
        assert_eq!(rolls, (0..5).map(|_| b.below(100)).collect::<Vec<_>>());
        assert!(rolls.iter().all(|r| *r < 100));
    }
}
