//! Crashes: the real `chopay serve` under `chopay simulate`'s callbacks is killed with SIGKILL at
//! random moments and restarted on the same port; once the simulator's retries have drained,
//! every delivery that got a 2xx is in the ledger with its amount, none twice, and the books
//! balance. Both databases (`CHOPAY_TEST_POSTGRES_URL`).
//!
//! Short by default (5 kills, about 15 s); `CHOPAY_CRASH_ROUNDS=50` kills 50 times,
//! `CHOPAY_CRASH_SEED=N` replays the kill moments of a run (each run prints its seed). Also the
//! helpers the other real-server tests share: a prepared database and a server process.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use chopay::service::{demo, tokens};
use chopay::store::{DatabaseUrl, Store};

use crate::app::{TestDatabase, assert_books_balance, serve_durability_args};

/// What a server needs to be paid: the demo's markets and stalls (no history), Chợ Mơ's
/// `chopay` channel and an admin token.
pub struct Prepared {
    pub channel: i64,
    pub secret: String,
    pub admin: String,
}

/// Seeds `database_url` for a real server and the simulator.
pub async fn prepare(database_url: &str) -> Prepared {
    let store = Store::open(&DatabaseUrl::new(database_url.to_owned()))
        .await
        .expect("store opens");
    demo::seed(&store).await.expect("demo markets");
    let (channel, secret) = demo::payment_channel(&store, "cho-mo")
        .await
        .expect("channel");
    let admin = tokens::create(
        &store,
        &tokens::TokenRequest {
            role: "admin".into(),
            label: "test".into(),
            ..tokens::TokenRequest::default()
        },
    )
    .await
    .expect("admin token")
    .token;
    store.close().await;
    Prepared {
        channel,
        secret,
        admin,
    }
}

/// A port the kernel reports free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A real `chopay serve` on a fixed loopback port; killed (SIGKILL, by its process id) when
/// dropped. Its log goes to `log`.
pub struct Served {
    child: Option<Child>,
    pub port: u16,
    pub base: String,
    database_url: String,
    log: std::path::PathBuf,
}

impl Served {
    /// Starts the server and waits until `/healthz` answers 200.
    pub fn start(database_url: &str, port: u16, log: &Path) -> Self {
        let mut served = Self {
            child: None,
            port,
            base: format!("http://127.0.0.1:{port}"),
            database_url: database_url.to_owned(),
            log: log.to_owned(),
        };
        served.restart();
        served
    }

    /// Starts the process again (after [`Served::kill`]) on the same port and database.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is still running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log");
        let child = Command::new(env!("CARGO_BIN_EXE_chopay"))
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{}", self.port),
                "--database-url",
                &self.database_url,
            ])
            .args(serve_durability_args())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("chopay serve starts");
        self.child = Some(child);
        self.wait_healthy();
    }

    fn wait_healthy(&mut self) {
        let started = Instant::now();
        let address = format!("127.0.0.1:{}", self.port);
        loop {
            if blocking_status(&address, "/healthz") == Some(200) {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("the server exited ({status}):\n{}", self.log_tail());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not answer /healthz in 30 s:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// SIGKILL: no shutdown, no flush, whatever was in flight is cut.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("SIGKILL");
        child.wait().expect("the server is gone");
    }

    /// The end of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A GET's status over a fresh blocking connection (`None`: no answer).
fn blocking_status(address: &str, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}

/// `chopay simulate` against `base`, as a child process writing its acknowledgements to `acked`.
pub fn simulate(
    base: &str,
    prepared: &Prepared,
    rate: u32,
    duration_s: u64,
    retry_for_s: u64,
    acked: &Path,
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_chopay"))
        .args([
            "simulate",
            "--url",
            base,
            "--market",
            "cho-mo",
            "--channel",
            &prepared.channel.to_string(),
            "--secret",
            &prepared.secret,
            "--token",
            &prepared.admin,
            "--rate",
            &rate.to_string(),
            "--duration",
            &duration_s.to_string(),
            "--retry-for",
            &retry_for_s.to_string(),
            "--seed",
            "11",
            "--acked",
            acked.to_str().expect("UTF-8 path"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chopay simulate starts")
}

/// Waits for the simulator (bounded) and returns its summary; panics if it failed.
pub fn finish_simulate(child: Child, limit: Duration) -> String {
    let pid = child.id();
    let (done, waited) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let output = waited
        .recv_timeout(limit)
        .unwrap_or_else(|_| {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("chopay simulate did not finish in {limit:?}")
        })
        .expect("simulate ran");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "simulate failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The simulator's `deliveries:` line as numbers: sent, acknowledged, retries, failed.
pub fn delivery_counts(summary: &str) -> [u64; 4] {
    let line = summary
        .lines()
        .find_map(|line| line.strip_prefix("deliveries:"))
        .unwrap_or_else(|| panic!("no deliveries line in: {summary}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().expect("a count"))
        .collect();
    [numbers[0], numbers[1], numbers[2], numbers[3]]
}

/// What the simulator's `--acked` file says.
#[derive(Debug, Default)]
pub struct Acks {
    /// Every acknowledged transaction: id → amount (in đồng).
    pub amounts: BTreeMap<String, i64>,
    /// Transactions first acknowledged after a retry (their first attempt got no 2xx).
    pub retried: usize,
    /// Transactions whose first acknowledgement said "duplicate": an attempt before it was
    /// committed, but the server was killed before it answered.
    pub committed_unanswered: usize,
}

/// Reads the simulator's `--acked` file (lines in the order the answers came), checking that
/// repeats of a transaction were acknowledged with the same amount.
pub fn acknowledged(path: &Path, channel: i64) -> Acks {
    let mut acks = Acks::default();
    let text = std::fs::read_to_string(path).expect("the acked file");
    for line in text.lines() {
        let ack: Value = serde_json::from_str(line).expect("one JSON object per line");
        assert_eq!(ack["channel"], channel, "{line}");
        let txn = ack["transaction_id"].as_str().expect("txn").to_owned();
        let amount: i64 = ack["amount"].as_str().expect("amount").parse().unwrap();
        match acks.amounts.insert(txn.clone(), amount) {
            Some(before) => assert_eq!(before, amount, "{txn} acknowledged with two amounts"),
            None => {
                let attempts = ack["attempts"].as_u64().expect("attempts");
                acks.retried += usize::from(attempts > 1);
                acks.committed_unanswered += usize::from(ack["duplicate"] == true);
            }
        }
    }
    acks
}

/// The ledger rows of a channel: (transaction id, amount in đồng).
pub async fn ledger_rows(store: &Store, channel: i64) -> Vec<(String, i64)> {
    chopay::dispatch!(store, pool => sqlx::query_as::<_, (String, i64)>(
        "SELECT provider_txn_id, amount_dong FROM credits WHERE channel_id = $1 ORDER BY id")
        .bind(channel)
        .fetch_all(pool)
        .await)
    .expect("the ledger reads")
}

/// Checks the ledger of `channel` against what the simulator was told: every acknowledged
/// delivery recorded with its amount, no transaction twice; returns the number of rows.
pub async fn assert_every_ack_recorded_once(
    database_url: &str,
    channel: i64,
    acked: &BTreeMap<String, i64>,
) -> usize {
    let store = Store::connect(&DatabaseUrl::new(database_url.to_owned()))
        .await
        .expect("store opens");
    let rows = ledger_rows(&store, channel).await;
    let mut recorded = BTreeMap::new();
    for (txn, amount) in &rows {
        assert!(
            recorded.insert(txn.clone(), *amount).is_none(),
            "{txn} is in the ledger twice"
        );
    }
    for (txn, amount) in acked {
        assert_eq!(
            recorded.get(txn),
            Some(amount),
            "{txn} was acknowledged with {amount}đ; the ledger has {:?}",
            recorded.get(txn)
        );
    }
    assert_books_balance(&store).await;
    store.close().await;
    rows.len()
}

/// A stall with a linked account, as the API lists it.
#[derive(Debug, Clone)]
pub struct LinkedStall {
    pub id: i64,
    pub code: String,
    pub vendor_name: String,
    pub bin: String,
    pub account: String,
    pub holder: String,
}

/// Chợ Mơ's stalls with a linked account, read through the API.
pub async fn linked_stalls(client: &reqwest::Client, base: &str, admin: &str) -> Vec<LinkedStall> {
    let listing: Value = client
        .get(format!("{base}/api/v1/markets/cho-mo/stalls?per_page=500"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["payee"].is_object())
        .map(|s| LinkedStall {
            id: s["id"].as_i64().unwrap(),
            code: s["code"].as_str().unwrap().to_owned(),
            vendor_name: s["vendor_name"].as_str().unwrap().to_owned(),
            bin: s["payee"]["bin"].as_str().unwrap().to_owned(),
            account: s["payee"]["account"].as_str().unwrap().to_owned(),
            holder: s["payee"]["holder"].as_str().unwrap().to_owned(),
        })
        .collect()
}

/// A bank credit of `amount` đồng into `account` at `bin`, as a signed `chopay` delivery (the
/// webhook id follows from the transaction id, so a retry is the same delivery).
pub fn delivery(
    client: &reqwest::Client,
    base: &str,
    prepared: &Prepared,
    txn: &str,
    amount: i64,
    bin: &str,
    account: &str,
) -> reqwest::RequestBuilder {
    let body = serde_json::json!({
        "transaction_id": txn, "amount": amount.to_string(), "account_number": account,
        "bin": bin, "description": "KHACH HANG chuyen tien",
    })
    .to_string();
    let webhook_id = format!("msg_{txn}");
    let timestamp = chopay::store::now_ms() / 1000;
    let signature = chopay::webhooks::sign_chopay(
        &chopay::webhooks::Secret::new(prepared.secret.clone()),
        &webhook_id,
        timestamp,
        body.as_bytes(),
    )
    .unwrap();
    client
        .post(format!("{base}/webhooks/chopay/{}", prepared.channel))
        .header("content-type", "application/json")
        .header("webhook-id", webhook_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
}

/// A small deterministic generator (xorshift64*) for the kill moments.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} must be a number"))
        })
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_delivery_survives_sigkill_of_the_server_and_none_is_recorded_twice() {
    let rounds = env_number("CHOPAY_CRASH_ROUNDS", 5).max(5);
    let seed = env_number("CHOPAY_CRASH_SEED", chopay::store::now_ms().unsigned_abs());
    let database = TestDatabase::new().await;
    let prepared = prepare(&database.url).await;
    let dir = tempfile::tempdir().unwrap();
    let acked_file = dir.path().join("acked.jsonl");
    let port = free_port();
    let url = database.url.clone();
    let log = dir.path().join("server.log");

    let started = Instant::now();
    let (kills, summary, mut server) = tokio::task::spawn_blocking({
        let acked_file = acked_file.clone();
        let admin = prepared.admin.clone();
        let secret = prepared.secret.clone();
        let channel = prepared.channel;
        move || {
            let prepared = Prepared {
                channel,
                secret,
                admin,
            };
            let mut server = Served::start(&url, port, &log);
            // Kills land between 0.4 and 2.4 s apart: the crowd sends long enough to see them all.
            let duration_s = rounds * 2 + 2;
            let sim = simulate(&server.base, &prepared, 40, duration_s, 60, &acked_file);
            let mut dice = Dice(seed);
            let mut kills = 0;
            std::thread::sleep(Duration::from_millis(800));
            for _ in 0..rounds {
                std::thread::sleep(Duration::from_millis(400 + dice.below(2000)));
                server.kill();
                kills += 1;
                std::thread::sleep(Duration::from_millis(dice.below(300)));
                server.restart();
            }
            let summary = finish_simulate(sim, Duration::from_secs(duration_s + 120));
            (kills, summary, server)
        }
    })
    .await
    .unwrap();
    let elapsed = started.elapsed();
    let [sent, acknowledged_count, retries, failed] = delivery_counts(&summary);
    assert_eq!(
        failed,
        0,
        "every delivery drains once the server is back:\n{summary}\n{}",
        server.log_tail()
    );
    assert!(retries > 0, "the kills cut deliveries short:\n{summary}");
    let acks = acknowledged(&acked_file, prepared.channel);
    let acked = &acks.amounts;
    let rows = assert_every_ack_recorded_once(&database.url, prepared.channel, acked).await;
    // Everything drained: the ledger holds exactly the acknowledged transactions.
    assert_eq!(
        rows,
        acked.len(),
        "no credit was recorded but never acknowledged"
    );
    server.kill();
    eprintln!(
        "crash harness ({}): seed {seed}, {kills} SIGKILLs, {sent} deliveries, \
         {acknowledged_count} acknowledged ({} distinct transactions, {} of them only after a \
         retry, {} committed by a server killed before it answered), {retries} retries, \
         {failed} failed, in {:.1} s",
        if crate::app::on_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        acked.len(),
        acks.retried,
        acks.committed_unanswered,
        elapsed.as_secs_f64()
    );
}
