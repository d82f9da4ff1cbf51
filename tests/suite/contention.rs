//! Write contention: 50 clients at once make mixed writes over HTTP to a real `chopay serve` —
//! orders issued and cancelled, stalls patched, CSV imports, bank deliveries, unmatched credits
//! assigned — and none gets a 5xx or a "database is locked" (SQLite's write transactions begin
//! `IMMEDIATE` with a busy timeout). 5 s by default; `CHOPAY_CONTENTION_SECS=90` for the long run.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::app::TestDatabase;
use crate::crash::{
    LinkedStall, Prepared, Served, assert_every_ack_recorded_once, delivery, free_port,
    linked_stalls, prepare,
};

const WRITERS: usize = 50;

/// What every writer shares: the server, its secrets, and what was answered.
struct Run {
    client: reqwest::Client,
    base: String,
    prepared: Prepared,
    stalls: Vec<LinkedStall>,
    /// (operation, status) → count.
    answers: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// Answers that were not a 2xx, with their bodies.
    unexpected: Mutex<Vec<String>>,
    /// Acknowledged deliveries: transaction id → amount.
    acked: Mutex<BTreeMap<String, i64>>,
}

impl Run {
    /// Sends a request and notes its answer; returns the JSON body of a 2xx.
    async fn send(
        &self,
        operation: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Option<Value> {
        let (status, text) = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            }
            Err(error) => (0, format!("no answer: {error}")),
        };
        *self
            .answers
            .lock()
            .unwrap()
            .entry((operation, status))
            .or_insert(0) += 1;
        let lower = text.to_lowercase();
        if !(200..300).contains(&status) || lower.contains("busy") || lower.contains("locked") {
            self.unexpected
                .lock()
                .unwrap()
                .push(format!("{operation}: {status} {text}"));
            return None;
        }
        serde_json::from_str(&text).ok()
    }

    fn admin(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.bearer_auth(&self.prepared.admin)
    }

    /// A signed bank credit into `account`; returns the credit's id once acknowledged.
    async fn deliver(
        &self,
        operation: &'static str,
        txn: String,
        amount: i64,
        stall: &LinkedStall,
        account: &str,
    ) -> Option<i64> {
        let request = delivery(
            &self.client,
            &self.base,
            &self.prepared,
            &txn,
            amount,
            &stall.bin,
            account,
        );
        let answer = self.send(operation, request).await?;
        self.acked.lock().unwrap().insert(txn, amount);
        answer["credit_id"].as_i64()
    }

    /// One writer's step number `n`.
    async fn step(&self, writer: usize, n: usize) {
        let stall = &self.stalls[(writer * 7 + n) % self.stalls.len()];
        let amount = i64::try_from(10_000 + (n % 50) * 1000).unwrap();
        match (writer + n) % 6 {
            0 => {
                let order = self
                    .send(
                        "order",
                        self.admin(
                            self.client
                                .post(format!("{}/api/v1/stalls/{}/orders", self.base, stall.id)),
                        )
                        .json(&json!({"amount": amount.to_string()})),
                    )
                    .await;
                if let Some(id) = order.and_then(|o| o["id"].as_i64()) {
                    let cancel = self
                        .client
                        .post(format!("{}/api/v1/orders/{id}/cancel", self.base));
                    self.send("cancel", self.admin(cancel)).await;
                }
            }
            1 => {
                let patch = self
                    .client
                    .patch(format!("{}/api/v1/stalls/{}", self.base, stall.id))
                    .json(&json!({"goods": format!("Rau củ, lượt {n}")}));
                self.send("patch", self.admin(patch)).await;
            }
            2 | 3 => {
                let txn = format!("W{writer:02}N{n:06}");
                self.deliver("delivery", txn, amount, stall, &stall.account)
                    .await;
            }
            4 => {
                let mut csv = csv::Writer::from_writer(Vec::new());
                csv.write_record(["code", "vendor_name", "goods", "bank", "account", "holder"])
                    .unwrap();
                let other = &self.stalls[(writer * 7 + n + 1) % self.stalls.len()];
                for s in [stall, other] {
                    let goods = format!("Hàng khô, nhập {n}");
                    csv.write_record([
                        &s.code,
                        &s.vendor_name,
                        &goods,
                        &s.bin,
                        &s.account,
                        &s.holder,
                    ])
                    .unwrap();
                }
                let import = self
                    .client
                    .post(format!("{}/api/v1/markets/cho-mo/stalls/import", self.base))
                    .header("content-type", "text/csv")
                    .body(csv.into_inner().unwrap());
                self.send("import", self.admin(import)).await;
            }
            _ => {
                let txn = format!("U{writer:02}N{n:06}");
                if let Some(credit) = self
                    .deliver("unmatched delivery", txn, amount, stall, "000000000001")
                    .await
                {
                    let assign = self
                        .client
                        .post(format!("{}/api/v1/credits/{credit}/assign", self.base))
                        .json(&json!({"stall_id": stall.id, "note": "contention test"}));
                    self.send("assign", self.admin(assign)).await;
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_writers_get_no_5xx_and_no_busy_database() {
    let seconds: u64 = std::env::var("CHOPAY_CONTENTION_SECS")
        .ok()
        .map(|v| {
            v.parse()
                .expect("CHOPAY_CONTENTION_SECS is a number of seconds")
        })
        .unwrap_or(5);
    let database = TestDatabase::new().await;
    let prepared = prepare(&database.url).await;
    let dir = tempfile::tempdir().unwrap();
    let server = tokio::task::spawn_blocking({
        let url = database.url.clone();
        let log = dir.path().join("server.log");
        move || Served::start(&url, free_port(), &log)
    })
    .await
    .unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(WRITERS)
        .build()
        .unwrap();
    let stalls = linked_stalls(&client, &server.base, &prepared.admin).await;
    assert!(stalls.len() > 10, "the demo market has linked stalls");
    let channel = prepared.channel;
    let run = Arc::new(Run {
        client,
        base: server.base.clone(),
        prepared,
        stalls,
        answers: Mutex::new(BTreeMap::new()),
        unexpected: Mutex::new(Vec::new()),
        acked: Mutex::new(BTreeMap::new()),
    });
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let run = Arc::clone(&run);
            tokio::spawn(async move {
                let mut n = 0;
                while Instant::now() < deadline {
                    run.step(writer, n).await;
                    n += 1;
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let elapsed = started.elapsed();
    let answers = run.answers.lock().unwrap().clone();
    let unexpected = run.unexpected.lock().unwrap().clone();
    let total: u64 = answers.values().sum();
    eprintln!(
        "contention: {WRITERS} writers for {:.1} s: {total} requests ({:.0}/s): {answers:?}",
        elapsed.as_secs_f64(),
        f64::from(u32::try_from(total).unwrap()) / elapsed.as_secs_f64()
    );
    assert!(
        unexpected.is_empty(),
        "{} of {total} answers were not a 2xx (or said busy/locked); first: {:#?}\n{}",
        unexpected.len(),
        &unexpected[..unexpected.len().min(5)],
        server.log_tail()
    );
    for operation in [
        "order",
        "cancel",
        "patch",
        "delivery",
        "import",
        "unmatched delivery",
        "assign",
    ] {
        assert!(
            answers.keys().any(|(o, _)| *o == operation),
            "no {operation} was made: {answers:?}"
        );
    }
    let acked = run.acked.lock().unwrap().clone();
    let rows = assert_every_ack_recorded_once(&database.url, channel, &acked).await;
    assert_eq!(rows, acked.len());
}
