//! No acknowledgement without a durable commit, when the storage fails: a SQLite database on a
//! full filesystem (a small tmpfs, filled) answers deliveries 503 `{success:false, code:
//! "unavailable"}` and records nothing, and the same deliveries succeed, once each, when space is
//! back; a PostgreSQL server that goes away (stopped) gives 503s, and the retries succeed when it
//! is back. A failed fsync is not provoked here (it needs a faulty block device): SQLite reports
//! it as an I/O error of the commit, the same failed-batch path as a full disk.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::app::on_postgres;
use crate::backup::PgCluster;
use crate::crash::{
    LinkedStall, Prepared, Served, assert_every_ack_recorded_once, delivery, free_port,
    ledger_rows, linked_stalls, prepare,
};

/// A tmpfs of `megabytes` mounted on `path` (root only), unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, megabytes: u32) -> Self {
        std::fs::create_dir_all(path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(path)
            .output()
            .expect("mount runs");
        assert!(
            mounted.status.success(),
            "this test mounts a tmpfs and needs root (.ci/run runs as root): {}",
            String::from_utf8_lossy(&mounted.stderr)
        );
        Self(path.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Writes zeros into `path` until the filesystem is full; returns the bytes written.
fn fill(path: &Path) -> u64 {
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0_u8; 16 * 1024];
    let mut written = 0;
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += u64::try_from(n).unwrap(),
            Err(error) => {
                assert_eq!(
                    error.raw_os_error(),
                    Some(28),
                    "ENOSPC expected, got {error}"
                );
                break;
            }
        }
    }
    let _ = file.sync_all();
    written
}

/// Sends a delivery; its status and JSON answer.
async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// A 503 of the ledger: `{success: false, code: "unavailable", message}`, no credit.
#[track_caller]
fn assert_unavailable(answer: &Value) {
    assert_eq!(answer["code"], "unavailable", "{answer}");
    assert_eq!(answer["success"], false, "{answer}");
    assert_refused(answer);
}

/// The API's error shape, acknowledging nothing: a code, a message, no success, no credit.
#[track_caller]
fn assert_refused(answer: &Value) {
    assert!(
        answer["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{answer}"
    );
    assert_ne!(answer["success"], true, "{answer}");
    assert!(
        answer["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{answer}"
    );
    assert!(
        answer.get("credit_id").is_none_or(Value::is_null),
        "{answer}"
    );
}

struct Paying {
    client: reqwest::Client,
    base: String,
    prepared: Prepared,
    stall: LinkedStall,
}

impl Paying {
    /// Seeds `url`, starts a real server on it (its log in `dir`), and pays through it.
    async fn start(url: &str, dir: &Path) -> (Served, Self) {
        let prepared = prepare(url).await;
        let server = tokio::task::spawn_blocking({
            let url = url.to_owned();
            let log = dir.join("server.log");
            move || Served::start(&url, free_port(), &log)
        })
        .await
        .unwrap();
        let paying = Self::new(&server.base, prepared).await;
        (server, paying)
    }

    async fn new(base: &str, prepared: Prepared) -> Self {
        let client = reqwest::Client::new();
        let stall = linked_stalls(&client, base, &prepared.admin)
            .await
            .into_iter()
            .next()
            .expect("a linked stall");
        Self {
            client,
            base: base.to_owned(),
            prepared,
            stall,
        }
    }

    async fn pay(&self, txn: &str, amount: i64) -> (u16, Value) {
        send(delivery(
            &self.client,
            &self.base,
            &self.prepared,
            txn,
            amount,
            &self.stall.bin,
            &self.stall.account,
        ))
        .await
    }

    /// Re-imports its stall with `goods` (the board's CSV: one write transaction on the pool).
    async fn import(&self, goods: &str) -> (u16, Value) {
        let s = &self.stall;
        let mut csv = csv::Writer::from_writer(Vec::new());
        csv.write_record(["code", "vendor_name", "goods", "bank", "account", "holder"])
            .unwrap();
        csv.write_record([
            &s.code,
            &s.vendor_name,
            goods,
            &s.bin,
            &s.account,
            &s.holder,
        ])
        .unwrap();
        send(
            self.client
                .post(format!("{}/api/v1/markets/cho-mo/stalls/import", self.base))
                .bearer_auth(&self.prepared.admin)
                .header("content-type", "text/csv")
                .body(csv.into_inner().unwrap()),
        )
        .await
    }
}

/// Imports tried on the full disk: as many as the pool has connections.
const IMPORTS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root: mounts a small tmpfs (.ci/run runs as root)"]
async fn a_full_disk_answers_503_acknowledges_nothing_and_the_retry_succeeds_once_space_is_back() {
    if on_postgres() {
        // PostgreSQL's storage failure is the server going away, below; the full disk is SQLite's.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mount = Tmpfs::mount(&dir.path().join("disk"), 8);
    let url = format!("sqlite://{}", mount.0.join("chopay.db").display());
    let (server, paying) = Paying::start(&url, dir.path()).await;
    let channel = paying.prepared.channel;
    let (status, answer) = paying.pay("DISK-0", 25_000).await;
    assert_eq!(status, 200, "{answer}");

    let filler = mount.0.join("filler");
    let filled = fill(&filler);
    // The WAL may still have room for a few commits: pay until the disk refuses one, then a few
    // more, and keep what each answer said.
    let mut acked = BTreeMap::from([("DISK-0".to_owned(), 25_000)]);
    let mut refused = Vec::new();
    for n in 1..=500 {
        let txn = format!("DISK-{n}");
        let amount = 10_000 + n * 1000;
        let (status, answer) = paying.pay(&txn, amount).await;
        match status {
            200 => {
                assert_eq!(answer["duplicate"], false, "{answer}");
                acked.insert(txn, amount);
            }
            503 => {
                assert_unavailable(&answer);
                refused.push((txn, amount));
            }
            other => panic!("{txn}: {other} {answer}\n{}", server.log_tail()),
        }
        if refused.len() >= 5 {
            break;
        }
    }
    assert_eq!(
        refused.len(),
        5,
        "a full disk refuses deliveries ({filled} bytes filled, {} acknowledged)",
        acked.len()
    );
    // The API's other writes (a CSV import: a write transaction on the pool) are refused alike.
    for n in 0..IMPORTS {
        let (status, answer) = paying.import(&format!("Rau, lượt {n}")).await;
        assert_eq!(status, 503, "{answer}\n{}", server.log_tail());
        assert_eq!(answer["code"], "unavailable", "{answer}");
        assert_refused(&answer);
    }
    // Nothing refused was recorded.
    let store = chopay::store::Store::connect(&chopay::store::DatabaseUrl::new(url.clone()))
        .await
        .unwrap();
    let in_ledger: Vec<String> = ledger_rows(&store, channel)
        .await
        .into_iter()
        .map(|(txn, _)| txn)
        .collect();
    store.close().await;
    for (txn, _) in &refused {
        assert!(
            !in_ledger.contains(txn),
            "{txn} got a 503 but is in the ledger"
        );
    }

    // Space is back: the bank's retries go through, each recorded now and once.
    std::fs::remove_file(&filler).unwrap();
    for (txn, amount) in &refused {
        let (status, answer) = paying.pay(txn, *amount).await;
        assert_eq!(status, 200, "{txn}: {answer}\n{}", server.log_tail());
        assert_eq!(answer["duplicate"], false, "{answer}");
        let (status, again) = paying.pay(txn, *amount).await;
        assert_eq!(status, 200);
        assert_eq!(again["duplicate"], true, "{again}");
        acked.insert(txn.clone(), *amount);
    }
    // And the imports, on every connection of the pool (one that failed for want of space must
    // not be handed out stuck in its failed transaction: that answered 500 for ever).
    for n in 0..2 * IMPORTS {
        let (status, answer) = paying.import(&format!("Rau củ, lượt {n}")).await;
        assert_eq!(status, 200, "import {n}: {answer}\n{}", server.log_tail());
    }
    let rows = assert_every_ack_recorded_once(&url, channel, &acked).await;
    assert_eq!(rows, acked.len());
    eprintln!(
        "disk full (SQLite on an 8 MiB tmpfs): {} deliveries acknowledged before the first refusal, \
         5 refused with 503, all 5 recorded once on retry after freeing {filled} bytes; \
         {IMPORTS} imports refused with 503, {} accepted after",
        acked.len() - refused.len(),
        2 * IMPORTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs initdb and pg_ctl (Debian package postgresql; .ci/run installs it)"]
async fn postgres_going_away_answers_503_and_the_retry_succeeds_once_it_is_back() {
    if !on_postgres() {
        // SQLite's storage failure is the full disk, above.
        return;
    }
    // A server of our own to stop (fsync on: chopay starts without --allow-weak-durability).
    let (mut cluster, url) = PgCluster::with_database("chopay_away").await;
    let dir = tempfile::tempdir().unwrap();
    let (server, paying) = Paying::start(&url, dir.path()).await;
    let channel = paying.prepared.channel;
    let (status, answer) = paying.pay("AWAY-1", 30_000).await;
    assert_eq!(status, 200, "{answer}");

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.stop();
        cluster
    })
    .await
    .unwrap();
    let gone = Instant::now();
    let (status, answer) = paying.pay("AWAY-2", 40_000).await;
    let refused_in = gone.elapsed();
    let answer_code = answer["code"].as_str().unwrap_or_default().to_owned();
    assert_eq!(status, 503, "{answer}\n{}", server.log_tail());
    // The ledger retries the batch while each connection attempt waits out the pool's 10 s, so
    // the request's own 30 s limit answers first: a 503 either way, and nothing acknowledged.
    assert!(
        ["unavailable", "timeout"].contains(&answer["code"].as_str().unwrap_or_default()),
        "{answer} after {refused_in:?}"
    );
    assert_refused(&answer);

    let mut cluster = cluster;
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.start();
        cluster
    })
    .await
    .unwrap();
    // The bank retries; the first retries may still meet connections from before the stop.
    let back = Instant::now();
    let answer = loop {
        let (status, answer) = paying.pay("AWAY-2", 40_000).await;
        if status == 200 {
            break answer;
        }
        assert_eq!(status, 503, "{answer}");
        assert!(
            back.elapsed() < Duration::from_secs(30),
            "no retry succeeded in 30 s: {answer}\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // A 503 acknowledges nothing, and promises nothing either: the ledger may still have been
    // retrying that batch and recorded it once the server was back, and then the bank's retry
    // is answered as a duplicate. Recorded once, either way.
    assert_eq!(answer["success"], true, "{answer}");
    let answered_as = if answer["duplicate"] == true {
        "a duplicate of the batch the ledger had kept retrying"
    } else {
        "new"
    };
    let acked = BTreeMap::from([("AWAY-1".to_owned(), 30_000), ("AWAY-2".to_owned(), 40_000)]);
    let rows = assert_every_ack_recorded_once(&url, channel, &acked).await;
    assert_eq!(rows, 2);
    drop(server);
    drop(cluster);
    eprintln!(
        "PostgreSQL stopped: 503 ({}) after {} ms; restarted: the retry answered 200 ({answered_as}) \
         after {} ms, recorded once",
        answer_code,
        refused_in.as_millis(),
        back.elapsed().as_millis()
    );
}
