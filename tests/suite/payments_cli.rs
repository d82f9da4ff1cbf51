//! The payment commands through the real binary: `channel create`, `webhook verify` (offline
//! checks of a saved callback) and `simulate` against a real `chopay serve --demo` on a port.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use chopay::domain::market::MarketFields;
use chopay::http::{AppState, Limits, Settings, router};
use chopay::service::catalog;
use chopay::store::{DatabaseUrl, Store};
use chopay::webhooks::{Secret, sign_chopay};

use crate::app::TestDatabase;
use crate::demo_server::DemoServer;
use crate::helpers::{chopay, chopay_with_stdin};

/// A database with the market `cho-mo` and no stalls.
async fn market_database() -> (TestDatabase, Store) {
    let database = TestDatabase::new().await;
    let store = Store::open(&DatabaseUrl::new(database.url.clone()))
        .await
        .unwrap();
    let fields = MarketFields::parse(
        "Chợ Mơ",
        "xã Vạn Thắng",
        "huyện Ba Vì",
        "ba-vi",
        "Hà Nội",
        Some(56),
    )
    .unwrap();
    catalog::create_market(&store, "cho-mo", &fields)
        .await
        .unwrap();
    (database, store)
}

#[tokio::test]
async fn channel_create_prints_the_secret_once_and_it_verifies_deliveries() {
    let (database, store) = market_database().await;
    let url = database.url.as_str();
    let run = chopay(&[
        "channel",
        "create",
        "--market",
        "cho-mo",
        "--provider",
        "chopay",
        "--label",
        "VCB",
        "--database-url",
        url,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let made: Value = serde_json::from_slice(&run.stdout).expect("JSON on stdout");
    let id = made["id"].as_i64().unwrap();
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{made}");
    assert_eq!(made["provider"], "chopay");
    assert_eq!(made["webhook_path"], format!("/webhooks/chopay/{id}"));
    assert!(
        !run.stderr.contains(&secret),
        "the secret goes to stdout only"
    );

    // The printed secret is the one the service verifies with.
    let app = router(
        AppState::new(store.clone(), Settings::default()),
        Limits::default(),
    );
    let body =
        json!({"transaction_id": "CLI-1", "amount": "25000", "account_number": "000000000001",
        "bin": "970436", "description": "chuyen tien"})
        .to_string();
    let timestamp = chopay::store::now_ms() / 1000;
    let signature = sign_chopay(
        &Secret::new(secret.clone()),
        "msg_cli",
        timestamp,
        body.as_bytes(),
    )
    .unwrap();
    let request = Request::post(format!("/webhooks/chopay/{id}"))
        .header("webhook-id", "msg_cli")
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(Body::from(body))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let answer = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));

    let payos = chopay(&[
        "channel",
        "create",
        "--market",
        "cho-mo",
        "--provider",
        "payos",
        "--secret",
        "1a54716c8f0efb2744fb28b6e38b25da7f67a925d98bc1c18bd8faaecadd7675",
        "--database-url",
        url,
    ]);
    assert_eq!(payos.code, 0, "{}", payos.stderr);
    let made: Value = serde_json::from_slice(&payos.stdout).unwrap();
    assert_eq!(
        made["secret"],
        "1a54716c8f0efb2744fb28b6e38b25da7f67a925d98bc1c18bd8faaecadd7675"
    );

    for (args, fragment) in [
        (
            vec!["--market", "cho-xa", "--provider", "chopay"],
            "market 'cho-xa' not found",
        ),
        (vec!["--market", "cho-mo", "--provider", "payos"], "payos"),
        (vec!["--market", "cho-mo", "--provider", "visa"], "provider"),
        (
            vec![
                "--market",
                "cho-mo",
                "--provider",
                "chopay",
                "--secret",
                "whsec_short",
            ],
            "secret",
        ),
    ] {
        let mut full = vec!["channel", "create"];
        full.extend(args.iter().copied());
        full.extend(["--database-url", url]);
        let run = Command::new(env!("CARGO_BIN_EXE_chopay"))
            .args(&full)
            .env_remove("CHOPAY_CHANNEL_SECRET")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("chopay: ") && stderr.ends_with('\n'),
            "{args:?}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(fragment), "{args:?}: {stderr}");
        assert!(run.stdout.is_empty(), "{args:?}");
    }
    let market = catalog::market(&store, "cho-mo").await.unwrap();
    let kept = chopay::store::channels::in_market(&store, market.id)
        .await
        .unwrap();
    assert_eq!(kept.len(), 2, "failed runs made no channel");
}

const SECRET: &str = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const AT: i64 = 1_723_692_329;

fn verify_args<'a>(signature: &'a str, at: &'a str, file: &'a str) -> Vec<String> {
    [
        "webhook",
        "verify",
        "--provider",
        "chopay",
        "--secret",
        SECRET,
        "--header",
        "webhook-id: msg_2kQe9fW7Lr4tXb8Zc1Vn",
        "--header",
        &format!("webhook-timestamp: {AT}"),
        "--header",
        &format!("webhook-signature: {signature}"),
        "--at",
        at,
        file,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

#[test]
fn webhook_verify_checks_a_saved_callback_offline() {
    let body = r#"{"transaction_id":"VCB-20240815-000731","amount":"50000","account_number":"1012345678","bin":"970436","description":"CP7K2Q9X4M7 Phạm Đức Long mua bánh đa cua","counterparty_name":"PHAM DUC LONG","counterparty_account":"0987654321","booked_at":"2024-08-15T10:23:12+07:00"}"#;
    let signature = sign_chopay(
        &Secret::new(SECRET.to_owned()),
        "msg_2kQe9fW7Lr4tXb8Zc1Vn",
        AT,
        body.as_bytes(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("callback.json");
    std::fs::write(&file, body).unwrap();
    let file = file.to_str().unwrap();
    let at = (AT + 1).to_string();

    let args = verify_args(&signature, &at, file);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = chopay(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed: Value = serde_json::from_slice(&run.stdout).expect("JSON");
    assert_eq!(printed["provider_txn_id"], "VCB-20240815-000731");
    assert_eq!(printed["amount"], "50000");
    assert_eq!(printed["account"], "1012345678");
    assert_eq!(printed["bin"], "970436");
    assert_eq!(
        printed["description"],
        "CP7K2Q9X4M7 Phạm Đức Long mua bánh đa cua"
    );
    assert_eq!(printed["counterparty_name"], "PHAM DUC LONG");
    assert_eq!(printed["booked_at"], "2024-08-15T03:23:12Z");

    let stdin_args = verify_args(&signature, &at, "-");
    let stdin_args: Vec<&str> = stdin_args.iter().map(String::as_str).collect();
    let piped = chopay_with_stdin(&stdin_args, body);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert_eq!(piped.stdout, run.stdout);

    let refused = |run: crate::helpers::Run, reason: &str| {
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stdout.is_empty());
        assert!(
            run.stderr.starts_with("chopay: webhook verify: "),
            "{}",
            run.stderr
        );
        assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
        assert!(run.stderr.contains(reason), "{}", run.stderr);
    };
    let tampered = body.replace("50000", "500000");
    refused(
        chopay_with_stdin(&stdin_args, &tampered),
        "forged: no signature matches",
    );
    std::fs::write(dir.path().join("tampered.json"), &tampered).unwrap();
    let tampered_file = dir.path().join("tampered.json");
    let tampered_args = verify_args(&signature, &at, tampered_file.to_str().unwrap());
    let tampered_args: Vec<&str> = tampered_args.iter().map(String::as_str).collect();
    refused(chopay(&tampered_args), "forged");
    let late = (AT + 400).to_string();
    let stale_args = verify_args(&signature, &late, file);
    let stale_args: Vec<&str> = stale_args.iter().map(String::as_str).collect();
    refused(chopay(&stale_args), "forged");

    let zero = body.replace("\"50000\"", "\"0\"");
    let zero_signature = sign_chopay(
        &Secret::new(SECRET.to_owned()),
        "msg_2kQe9fW7Lr4tXb8Zc1Vn",
        AT,
        zero.as_bytes(),
    )
    .unwrap();
    let zero_args = verify_args(&zero_signature, &at, "-");
    let zero_args: Vec<&str> = zero_args.iter().map(String::as_str).collect();
    refused(chopay_with_stdin(&zero_args, &zero), "unusable");
}

/// The number of credits in the demo market's ledger.
async fn credits_total(server: &DemoServer) -> i64 {
    let (status, body) = server
        .get("/api/v1/markets/cho-mo/credits", &server.admin)
        .await;
    assert_eq!(status, 200);
    body["total"].as_i64().unwrap()
}

#[tokio::test]
async fn serve_keeps_running_when_nobody_reads_its_output_any_more() {
    let database = TestDatabase::new().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_chopay"))
        .args([
            "serve",
            "--demo",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &database.url,
        ])
        .args(crate::app::serve_durability_args())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chopay serve starts");
    let mut base = String::new();
    // Read the greeting up to the URL of the API description, then stop reading, as a
    // supervisor or `| head` would.
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("chopay demo is running at ") {
            base = rest.trim().to_owned();
        } else if line.trim().starts_with("API description:") {
            break;
        }
    }
    let server = DemoGuard(child);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let health = reqwest::get(format!("{base}/healthz"))
        .await
        .map(|r| r.status().as_u16());
    let exited = server.0.id();
    // The greeting is best effort: a closed standard output must not stop the server.
    assert_eq!(
        health.ok(),
        Some(200),
        "server {exited} stopped answering once its stdout closed"
    );
}

/// Stops a server started by a test (by its process id) when the test ends.
struct DemoGuard(Child);

impl Drop for DemoGuard {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// `simulate`'s closing summary: the delivery counts and the outcomes.
fn summary(text: &str) -> (u64, u64, u64, BTreeMap<String, u64>) {
    let mut counts = (0, 0, 0);
    let mut outcomes = BTreeMap::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(rest) = line.strip_prefix("deliveries:") {
            let numbers: Vec<u64> = rest
                .split(|c: char| !c.is_ascii_digit())
                .filter(|w| !w.is_empty())
                .map(|w| w.parse().unwrap())
                .collect();
            // "N sent, A acknowledged, R retries, F failed"
            counts = (numbers[0], numbers[1], numbers[3]);
        } else if line.starts_with("  ") && words.len() == 2 {
            outcomes.insert(words[0].to_owned(), words[1].parse().unwrap());
        }
    }
    (counts.0, counts.1, counts.2, outcomes)
}

#[tokio::test]
async fn simulate_pays_a_real_server_and_every_acknowledged_payment_is_recorded_once() {
    let database = TestDatabase::new().await;
    let server = DemoServer::start(&database.url);
    // The demo starts with a month of history; the crowd adds to it.
    let before = credits_total(&server).await;

    let run = tokio::task::spawn_blocking({
        let args: Vec<String> = [
            "simulate",
            "--url",
            &server.base,
            "--market",
            "cho-mo",
            "--channel",
            &server.channel,
            "--secret",
            &server.secret,
            "--token",
            &server.admin,
            "--rate",
            "20",
            "--duration",
            "3",
            "--seed",
            "7",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            chopay(&args)
        }
    })
    .await
    .unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = run.stdout_text();
    let (sent, acknowledged, failed, outcomes) = summary(&text);
    assert!(sent >= 20, "{text}");
    assert_eq!(failed, 0, "{text}");
    let duplicates = outcomes.get("duplicate").copied().unwrap_or(0);
    let recorded: u64 = outcomes
        .iter()
        .filter(|(k, _)| *k != "duplicate")
        .map(|(_, v)| v)
        .sum();
    assert_eq!(recorded + duplicates, acknowledged, "{text}");
    assert!(
        duplicates > 0,
        "the crowd repeats some notifications: {text}"
    );
    assert_eq!(
        u64::try_from(credits_total(&server).await - before).unwrap(),
        recorded,
        "one ledger row per distinct acknowledged delivery:\n{text}"
    );
    for outcome in ["order_paid", "static_payment", "unmatched"] {
        assert!(outcomes.contains_key(outcome), "{outcome} missing:\n{text}");
    }
    let store =
        chopay::store::Store::connect(&chopay::store::DatabaseUrl::new(database.url.clone()))
            .await
            .unwrap();
    crate::app::assert_books_balance(&store).await;
    store.close().await;
}

#[test]
fn simulate_only_loads_this_machine() {
    let run = chopay(&[
        "simulate",
        "--url",
        "http://10.0.0.1:1",
        "--market",
        "cho-mo",
        "--channel",
        "1",
        "--secret",
        SECRET,
        "--token",
        "cp_x",
        "--duration",
        "1",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("chopay: --url must be http:// on this machine"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

#[tokio::test]
async fn serve_refuses_a_database_that_would_lose_acknowledged_payments() {
    let database = TestDatabase::new().await;
    let store = chopay::store::Store::open(&chopay::store::DatabaseUrl::new(database.url.clone()))
        .await
        .unwrap();
    let weak = chopay::store::weak_durability(&store.durability().await.unwrap());
    store.close().await;
    if !crate::app::on_postgres() {
        assert_eq!(weak, None, "chopay's SQLite is WAL with synchronous=FULL");
        return;
    }
    // .ci/run's throwaway cluster runs with fsync=off: serve must refuse it unless told.
    let Some(why) = weak else {
        return; // a durable PostgreSQL server: nothing to refuse
    };
    assert!(why.contains("fsync"), "{why}");
    let run = chopay(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        &database.url,
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("fsync=off"), "{}", run.stderr);
    assert!(
        run.stderr.contains("--allow-weak-durability"),
        "{}",
        run.stderr
    );
}
