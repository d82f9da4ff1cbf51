//! Bank and gateway callbacks at `POST /webhooks/{provider}/{channel}`: channels and their
//! secrets, exactly-once recording (duplicates, concurrent deliveries, conflicts), forgeries and
//! unusable deliveries, and one real delivery from each gateway (payOS, Casso, SePay) built from
//! the golden vectors in `tests/golden/webhooks.jsonl`.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sha2::{Sha256, Sha512};
use tower::ServiceExt;

use super::payments::{Market, NOWHERE, bank_description, credit, message_id, now_s, signed};
use crate::helpers::repo_file;

/// The `webhook_deliveries` counter for this provider and result, as `/metrics` shows it.
async fn deliveries_metric(m: &Market, provider: &str, result: &str) -> u64 {
    let text = m
        .app
        .get("/metrics", None)
        .await
        .expect(StatusCode::OK)
        .text();
    text.lines()
        .filter(|l| l.starts_with("chopay_webhook_deliveries_total{"))
        .filter(|l| {
            l.contains(&format!("provider=\"{provider}\""))
                && l.contains(&format!("result=\"{result}\""))
        })
        .map(|l| {
            l.rsplit(' ')
                .next()
                .unwrap()
                .parse::<u64>()
                .expect("a count")
        })
        .sum()
}

/// The market's channels as the admin lists them.
async fn channels(m: &Market) -> Value {
    m.app
        .get("/api/v1/markets/cho-mo/channels", Some(&m.app.admin))
        .await
        .expect(StatusCode::OK)
        .json()
}

fn channel_in(list: &Value, id: i64) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("channel {id} not listed: {list}"))
}

async fn reviews(m: &Market) -> Vec<Value> {
    m.app
        .get("/api/v1/markets/cho-mo/reviews", Some(&m.app.admin))
        .await
        .expect(StatusCode::OK)
        .json()
        .as_array()
        .unwrap()
        .clone()
}

/// A golden case by name.
fn golden(name: &str) -> Value {
    let text = std::fs::read_to_string(repo_file("tests/golden/webhooks.jsonl")).unwrap();
    text.lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|case| case["name"] == name)
        .unwrap_or_else(|| panic!("no golden case {name}"))
}

/// JSON with object keys sorted recursively and compact separators, non-ASCII unescaped: the
/// form Casso signs (Python's `json.dumps(sort_keys=True, separators=(",", ":"),
/// ensure_ascii=False)`).
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        serde_json::to_string(k).unwrap(),
                        canonical(&map[k])
                    )
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => serde_json::to_string(other).unwrap(),
    }
}

fn hmac_hex<M: Mac + KeyInit>(key: &str, message: &[u8]) -> String {
    let mut mac = <M as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

async fn create_channel(m: &Market, provider: &str, secret: Option<&str>) -> (i64, String) {
    let mut body = json!({ "provider": provider });
    if let Some(secret) = secret {
        body["secret"] = json!(secret);
    }
    let made = m
        .app
        .post_json("/api/v1/markets/cho-mo/channels", Some(&m.app.admin), &body)
        .await
        .expect(StatusCode::CREATED)
        .json();
    (
        made["id"].as_i64().unwrap(),
        made["secret"].as_str().unwrap().to_owned(),
    )
}

async fn post(
    m: &Market,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> crate::app::Reply {
    m.app.post_raw(path, headers, body).await
}

#[tokio::test]
async fn admins_make_channels_whose_secrets_are_shown_once() {
    let m = Market::new().await;
    let path = "/api/v1/markets/cho-mo/channels";
    let made = m
        .app
        .post_json(
            path,
            Some(&m.app.admin),
            &json!({"provider": "chopay", "label": "VCB trực tiếp"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let id = made["id"].as_i64().unwrap();
    assert_eq!(made["provider"], "chopay");
    assert_eq!(made["webhook_path"], format!("/webhooks/chopay/{id}"));
    let chopay_secret = made["secret"].as_str().unwrap().to_owned();
    assert!(chopay_secret.starts_with("whsec_"), "{chopay_secret}");
    assert_ne!(chopay_secret, m.secret, "a fresh secret per channel");

    for provider in ["payos", "casso", "payOS"] {
        m.app
            .post_json(path, Some(&m.app.admin), &json!({ "provider": provider }))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    for body in [
        json!({"provider": "visa"}),
        json!({"provider": "chopay", "secret": "whsec_c2hvcnQ="}),
        json!({"provider": "payos", "secret": "short"}),
        json!({"provider": "chopay", "colour": "red"}),
    ] {
        m.app
            .post_json(path, Some(&m.app.admin), &body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    let payos_key = "1a54716c8f0efb2744fb28b6e38b25da7f67a925d98bc1c18bd8faaecadd7675";
    let casso_key = "casso-webhook-key-cho-mo-2024-A1b2C3";
    let mut secrets = vec![m.secret.clone(), chopay_secret];
    for (provider, key) in [("payos", payos_key), ("casso", casso_key)] {
        let made = m
            .app
            .post_json(
                path,
                Some(&m.app.admin),
                &json!({ "provider": provider, "secret": key }),
            )
            .await
            .expect(StatusCode::CREATED)
            .json();
        assert_eq!(made["secret"], key, "echoed once");
        assert_eq!(made["provider"], provider);
        secrets.push(key.to_owned());
    }
    let (_, sepay) = create_channel(&m, "sepay", None).await;
    assert!(sepay.len() >= 32, "a generated SePay key: {sepay}");
    secrets.push(sepay);

    let listed = m.app.get(path, Some(&m.app.admin)).await;
    let text = listed.expect(StatusCode::OK).text();
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret in the listing: {text}"
        );
    }
    assert!(!text.contains("\"secret\""), "{text}");
    let list = listed.json();
    assert_eq!(list.as_array().unwrap().len(), 5, "{list}");
    let listed = channel_in(&list, id);
    assert_eq!(listed["label"], "VCB trực tiếp");
    assert_eq!(listed["webhook_path"], format!("/webhooks/chopay/{id}"));
    assert_eq!(
        (
            listed["accepted_count"].as_i64(),
            listed["rejected_count"].as_i64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(listed["last_used_at"], Value::Null);

    let stall = m.stall("A01", "1012345678").await;
    let vendor = m.app.token("vendor", None, None, Some(stall)).await;
    let board = m.app.token("board", Some("cho-mo"), None, None).await;
    // The market's board sees the market but not its channels; a vendor does not see the market.
    for (token, status, code) in [
        (&vendor, StatusCode::NOT_FOUND, "not_found"),
        (&board, StatusCode::FORBIDDEN, "forbidden"),
    ] {
        m.app
            .get(path, Some(token))
            .await
            .expect_error(status, code);
        m.app
            .post_json(path, Some(token), &json!({"provider": "chopay"}))
            .await
            .expect_error(status, code);
    }
    m.app
        .get(path, None)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(channels(&m).await.as_array().unwrap().len(), 5);

    // An accepted delivery shows on its channel.
    m.pay(&credit("A-1", "25000", "1012345678", "chuyen tien"))
        .await;
    let used = channel_in(&channels(&m).await, m.channel);
    assert_eq!(used["accepted_count"], 1, "{used}");
    assert!(used["last_used_at"].is_string(), "{used}");
    assert_eq!(channel_in(&channels(&m).await, id)["accepted_count"], 0);
}

#[tokio::test]
async fn a_repeated_delivery_answers_the_original_outcome_and_records_nothing_new() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let order = m.order(stall, "50000").await;
    let body = credit(
        "D-1",
        "50000",
        "1012345678",
        &bank_description(order["reference"].as_str().unwrap()),
    )
    .to_string()
    .into_bytes();
    let headers = signed(&m.secret, &message_id(), now_s(), &body);
    let first = m
        .send(&headers, body.clone())
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        (first["outcome"].as_str(), first["duplicate"].as_bool()),
        (Some("order_paid"), Some(false))
    );
    let again = m
        .send(&headers, body.clone())
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(again["duplicate"], true, "{again}");
    assert_eq!(again["outcome"], "order_paid");
    assert_eq!(again["credit_id"], first["credit_id"]);
    // A bank's retry is signed afresh: still the same transaction.
    let retry = m.deliver_bytes(&body).await.expect(StatusCode::OK).json();
    assert_eq!(
        (retry["duplicate"].as_bool(), &retry["credit_id"]),
        (Some(true), &first["credit_id"])
    );

    assert_eq!(m.credit_count().await, 1);
    let now = m.get_order(&order).await;
    assert_eq!(
        (now["status"].as_str(), now["paid_total"].as_str()),
        (Some("paid"), Some("50000"))
    );
    let day = m.market_today().await;
    assert_eq!(
        (day["count"].as_i64(), day["amount"].as_str()),
        (Some(1), Some("50000"))
    );
    let accepted = channel_in(&channels(&m).await, m.channel)["accepted_count"].as_i64();
    assert!(accepted >= Some(1), "{accepted:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_identical_deliveries_at_once_make_one_credit() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let order = m.order(stall, "50000").await;
    let body = credit(
        "RACE-1",
        "50000",
        "1012345678",
        &bank_description(order["reference"].as_str().unwrap()),
    )
    .to_string();
    let headers = signed(&m.secret, &message_id(), now_s(), body.as_bytes());
    let path = format!("/webhooks/chopay/{}", m.channel);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let router = m.app.router.clone();
        let mut request = Request::post(&path);
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request.body(Body::from(body.clone())).unwrap();
        tasks.spawn(async move {
            let response = router.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        });
    }
    let answers = tasks.join_all().await;
    assert_eq!(answers.len(), 200);
    for (status, answer) in &answers {
        assert_eq!(*status, StatusCode::OK, "{answer}");
        assert_eq!(answer["outcome"], "order_paid", "{answer}");
    }
    let fresh = answers
        .iter()
        .filter(|(_, a)| a["duplicate"] == false)
        .count();
    assert_eq!(fresh, 1, "exactly one delivery records the credit");
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(_, a)| a["credit_id"].to_string())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(m.credit_count().await, 1);
    let now = m.get_order(&order).await;
    assert_eq!(
        (now["status"].as_str(), now["paid_total"].as_str()),
        (Some("paid"), Some("50000"))
    );
    assert_eq!(m.market_today().await["count"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_payments_add_up_on_the_order_and_in_the_daily_totals() {
    let m = Market::new().await;
    let accounts = ["1012345678", "1098765432", "1011111111", "1022222222"];
    let mut stalls = Vec::new();
    for (index, account) in accounts.iter().enumerate() {
        stalls.push(m.stall(&format!("A0{index}"), account).await);
    }
    let order = m.order(stalls[0], "100000").await;
    let description = bank_description(order["reference"].as_str().unwrap());
    let path = format!("/webhooks/chopay/{}", m.channel);
    let mut tasks = tokio::task::JoinSet::new();
    // Twenty shoppers pay 5.000đ each on one order, forty more pay the posters, all at once.
    for index in 0..60 {
        let body = if index < 20 {
            credit(&format!("ORDER-{index}"), "5000", accounts[0], &description)
        } else {
            credit(
                &format!("POSTER-{index}"),
                "1000",
                accounts[index % accounts.len()],
                "chuyen tien",
            )
        }
        .to_string();
        let headers = signed(&m.secret, &message_id(), now_s(), body.as_bytes());
        let mut request = Request::post(&path);
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request.body(Body::from(body.clone())).unwrap();
        let router = m.app.router.clone();
        let (secret, path) = (m.secret.clone(), path.clone());
        tasks.spawn(async move {
            // Banks retry a 503 (see a_burst_of_payments_is_recorded_without_asking_the_bank_to_retry).
            let mut response = router.clone().oneshot(request).await.unwrap();
            for _ in 0..5 {
                if response.status() != StatusCode::SERVICE_UNAVAILABLE {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                let headers = signed(&secret, &message_id(), now_s(), body.as_bytes());
                let mut retry = Request::post(&path);
                for (name, value) in &headers {
                    retry = retry.header(name.as_str(), value.as_str());
                }
                response = router
                    .clone()
                    .oneshot(retry.body(Body::from(body.clone())).unwrap())
                    .await
                    .unwrap();
            }
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        });
    }
    let answers = tasks.join_all().await;
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for (status, answer) in &answers {
        assert_eq!(*status, StatusCode::OK, "{answer}");
        *outcomes
            .entry(answer["outcome"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let expected: std::collections::BTreeMap<String, usize> = [
        ("order_paid".to_owned(), 1),
        ("order_underpaid".to_owned(), 19),
        ("static_payment".to_owned(), 40),
    ]
    .into();
    assert_eq!(outcomes, expected);
    let now = m.get_order(&order).await;
    assert_eq!(
        (now["status"].as_str(), now["paid_total"].as_str()),
        (Some("paid"), Some("100000"))
    );
    assert_eq!(m.credit_count().await, 60);
    let day = m.market_today().await;
    assert_eq!(
        (day["count"].as_i64(), day["amount"].as_str()),
        (Some(60), Some("140000")),
        "{day}"
    );
    assert_eq!(
        (day["dynamic_count"].as_i64(), day["static_count"].as_i64()),
        (Some(20), Some(40)),
        "{day}"
    );
    let mut total = 0;
    for stall in &stalls {
        let today = m
            .app
            .get(&format!("/api/v1/stalls/{stall}/today"), Some(&m.app.admin))
            .await
            .expect(StatusCode::OK)
            .json();
        total += today["total"].as_str().unwrap().parse::<i64>().unwrap();
    }
    assert_eq!(total, 140_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_payments_is_recorded_without_asking_the_bank_to_retry() {
    let m = Market::new().await;
    let mut orders = Vec::new();
    for index in 0..8 {
        let account = format!("10{index:08}");
        let stall = m.stall(&format!("S{index}"), &account).await;
        for _ in 0..3 {
            orders.push((account.clone(), m.order(stall, "9000000").await));
        }
    }
    let path = format!("/webhooks/chopay/{}", m.channel);
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..600 {
        let (account, order) = &orders[(index * 7) % orders.len()];
        let body = credit(
            &format!("B-{index}"),
            "1000",
            account,
            &bank_description(order["reference"].as_str().unwrap()),
        )
        .to_string();
        let headers = signed(&m.secret, &message_id(), now_s(), body.as_bytes());
        let mut request = Request::post(&path);
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request.body(Body::from(body)).unwrap();
        let router = m.app.router.clone();
        tasks.spawn(async move { router.oneshot(request).await.unwrap().status() });
    }
    let statuses = tasks.join_all().await;
    let refused = statuses.iter().filter(|s| **s != StatusCode::OK).count();
    // Several writers on PostgreSQL take their row locks in one global order, so concurrent
    // batches never deadlock and no authentic delivery is answered 503.
    assert_eq!(refused, 0, "{refused} of 600 deliveries were refused");
    assert_eq!(
        m.credit_count().await,
        i64::try_from(600 - refused).unwrap()
    );
}

#[tokio::test]
async fn the_same_transaction_with_another_amount_is_a_conflict_kept_for_review() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let order = m.order(stall, "50000").await;
    let description = bank_description(order["reference"].as_str().unwrap());
    let first = m
        .pay(&credit("K-1", "50000", "1012345678", &description))
        .await;
    let reply = m
        .deliver_bytes(
            credit("K-1", "60000", "1012345678", &description)
                .to_string()
                .as_bytes(),
        )
        .await;
    let answer = reply.expect(StatusCode::CONFLICT).json();
    assert_eq!(
        (answer["success"].as_bool(), answer["code"].as_str()),
        (Some(false), Some("conflict")),
        "{answer}"
    );

    assert_eq!(m.credit_count().await, 1);
    let original = m.credit(first["credit_id"].as_i64().unwrap()).await;
    assert_eq!(
        (original["amount"].as_str(), original["outcome"].as_str()),
        (Some("50000"), Some("order_paid"))
    );
    let now = m.get_order(&order).await;
    assert_eq!(
        (now["status"].as_str(), now["paid_total"].as_str()),
        (Some("paid"), Some("50000"))
    );
    let kept = reviews(&m).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["kind"], "conflict");
    assert_eq!(kept[0]["provider_txn_id"], "K-1");
    assert_eq!(kept[0]["channel_id"], m.channel);
    assert!(kept[0]["body"].as_str().unwrap().contains("60000"));
    let board = m.app.token("board", Some("cho-mo"), None, None).await;
    m.app
        .get("/api/v1/markets/cho-mo/reviews", Some(&board))
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn forged_deliveries_are_refused_and_change_nothing() {
    let m = Market::new().await;
    m.stall("A01", "1012345678").await;
    let (_, other_secret) = create_channel(&m, "chopay", None).await;
    let body = credit("F-1", "25000", "1012345678", "chuyen tien")
        .to_string()
        .into_bytes();
    let forged_before = deliveries_metric(&m, "chopay", "forged").await;
    let now = now_s();

    // What is wrong, the headers and the body.
    type Attempt = (&'static str, Vec<(String, String)>, Vec<u8>);
    let mut attempts: Vec<Attempt> = Vec::new();
    let tampered = credit("F-1", "2500000", "1012345678", "chuyen tien")
        .to_string()
        .into_bytes();
    attempts.push((
        "tampered body",
        signed(&m.secret, "msg_1", now, &body),
        tampered,
    ));
    let mut bad_signature = signed(&m.secret, "msg_1", now, &body);
    let signature = &mut bad_signature[3].1;
    let flipped = if signature.as_bytes()[3] == b'A' {
        "B"
    } else {
        "A"
    };
    signature.replace_range(3..4, flipped);
    attempts.push(("tampered signature", bad_signature, body.clone()));
    attempts.push((
        "another channel's secret",
        signed(&other_secret, "msg_1", now, &body),
        body.clone(),
    ));
    attempts.push((
        "stale",
        signed(&m.secret, "msg_1", now - 400, &body),
        body.clone(),
    ));
    attempts.push((
        "future",
        signed(&m.secret, "msg_1", now + 400, &body),
        body.clone(),
    ));
    let mut words = signed(&m.secret, "msg_1", now, &body);
    words[2].1 = "yesterday".into();
    attempts.push(("non-numeric timestamp", words, body.clone()));
    for missing in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let headers: Vec<(String, String)> = signed(&m.secret, "msg_1", now, &body)
            .into_iter()
            .filter(|(name, _)| name != missing)
            .collect();
        attempts.push((missing, headers, body.clone()));
    }
    attempts.push(("no headers", vec![], body.clone()));
    let mut old_version = signed(&m.secret, "msg_1", now, &body);
    old_version[3].1 = old_version[3].1.replacen("v1,", "v0,", 1);
    attempts.push(("unknown signature version", old_version, body.clone()));
    let mut huge = signed(&m.secret, "msg_1", now, &body);
    huge[3].1 = format!("v1,{}", "A".repeat(8 * 1024));
    attempts.push(("an 8 KiB signature header", huge, body.clone()));
    let mut truncated = signed(&m.secret, "msg_1", now, &body);
    truncated[3].1.truncate(20);
    attempts.push(("truncated signature", truncated, body.clone()));

    for (what, headers, sent) in &attempts {
        let reply = m.send(headers, sent.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{what}: {}",
            reply.text()
        );
        let answer = reply.json();
        assert_eq!(
            (answer["success"].as_bool(), answer["code"].as_str()),
            (Some(false), Some("forged")),
            "{what}"
        );
        assert!(!reply.text().contains(&m.secret));
    }
    assert_eq!(m.credit_count().await, 0);
    assert!(reviews(&m).await.is_empty());
    let count = u64::try_from(attempts.len()).unwrap();
    assert_eq!(
        deliveries_metric(&m, "chopay", "forged").await,
        forged_before + count
    );
    let listed = channel_in(&channels(&m).await, m.channel);
    assert_eq!(
        (listed["accepted_count"].as_i64(), &listed["last_used_at"]),
        (Some(0), &Value::Null)
    );

    // Within the tolerance is fine; the same body still pays once.
    let fine = m
        .send(&signed(&m.secret, "msg_2", now - 290, &body), body.clone())
        .await;
    assert_eq!(
        fine.expect(StatusCode::OK).json()["outcome"],
        "static_payment"
    );
    assert_eq!(m.credit_count().await, 1);

    // Refusals are counted on the channel, written in the background.
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let listed = channel_in(&channels(&m).await, m.channel);
        if listed["rejected_count"] == json!(count) {
            assert_eq!(listed["accepted_count"], 1);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "rejected_count never reached {count}: {listed}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn unknown_channels_wrong_providers_and_huge_bodies_are_refused() {
    let m = Market::new().await;
    let body = credit("N-1", "25000", NOWHERE, "chuyen tien")
        .to_string()
        .into_bytes();
    let headers = signed(&m.secret, &message_id(), now_s(), &body);
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let unknown = m.channel + 1000;
    for path in [
        format!("/webhooks/chopay/{unknown}"),
        format!("/webhooks/payos/{}", m.channel),
        format!("/webhooks/sepay/{}", m.channel),
        format!("/webhooks/visa/{}", m.channel),
    ] {
        post(&m, &path, &headers, body.clone())
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
    // Over 64 KiB: refused before it is read whole.
    let mut huge = credit("N-2", "25000", NOWHERE, &"x".repeat(64 * 1024))
        .to_string()
        .into_bytes();
    huge.truncate(64 * 1024 + 1);
    let huge_headers = signed(&m.secret, &message_id(), now_s(), &huge);
    let reply = m.send(&huge_headers, huge).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text()
    );
    assert_eq!(m.credit_count().await, 0);
    // Just under the limit is read (and this one is authentic).
    let description = "x".repeat(60 * 1024);
    let big = credit("N-3", "25000", NOWHERE, &description)
        .to_string()
        .into_bytes();
    assert!(big.len() < 64 * 1024);
    m.deliver_bytes(&big).await.expect(StatusCode::OK);
    assert_eq!(m.credit_count().await, 1);
}

#[tokio::test]
async fn authentic_but_unusable_deliveries_are_kept_for_review() {
    let m = Market::new().await;
    m.stall("A01", "1012345678").await;
    let zero = credit("U-1", "0", "1012345678", "chuyen tien").to_string();
    let float = r#"{"transaction_id":"U-2","amount":50000.0,"account_number":"1012345678","bin":"970436","description":"chuyen tien"}"#;
    let exponent = r#"{"transaction_id":"U-3","amount":5e4,"account_number":"1012345678","bin":"970436","description":"chuyen tien"}"#;
    let no_id = r#"{"amount":"50000","account_number":"1012345678","description":"chuyen tien"}"#;
    let not_json = "amount=50000";
    let unusable = [zero.as_str(), float, exponent, no_id, not_json];
    for body in unusable {
        let reply = m.deliver_bytes(body.as_bytes()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text()
        );
        let answer = reply.json();
        assert_eq!(
            (answer["success"].as_bool(), answer["code"].as_str()),
            (Some(false), Some("unusable")),
            "{body}"
        );
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(m.credit_count().await, 0);
    let kept = reviews(&m).await;
    assert_eq!(kept.len(), unusable.len(), "{kept:?}");
    for review in &kept {
        assert_eq!(review["kind"], "unusable", "{review}");
        assert_eq!(review["channel_id"], m.channel);
        assert!(review["reason"].as_str().is_some_and(|r| !r.is_empty()));
    }
    let bodies: Vec<&str> = kept.iter().map(|r| r["body"].as_str().unwrap()).collect();
    for body in unusable {
        assert!(
            bodies.contains(&body),
            "{body} not kept as received: {bodies:?}"
        );
    }
    assert!(deliveries_metric(&m, "chopay", "unusable").await >= 5);
}

#[tokio::test]
async fn gateway_deliveries_from_payos_casso_and_sepay_are_recorded() {
    let m = Market::new().await;
    // The payOS case's receiving account belongs to a stall here.
    let stall = m.stall("A01", "0352350917").await;

    let case = golden("payos_credit_vietnamese");
    let (payos, _) = create_channel(&m, "payos", case["secrets"][0].as_str()).await;
    let body = case["body"].as_str().unwrap().to_owned();
    let reply = post(
        &m,
        &format!("/webhooks/payos/{payos}"),
        &[("content-type", "application/json")],
        body.clone(),
    )
    .await;
    let answer = reply.expect(StatusCode::OK).json();
    assert_eq!(
        (answer["success"].as_bool(), answer["outcome"].as_str()),
        (Some(true), Some("static_payment")),
        "{answer}"
    );
    let row = m.credit(answer["credit_id"].as_i64().unwrap()).await;
    assert_eq!(row["provider_txn_id"], "FT24228819562301");
    assert_eq!(row["amount"], "180000");
    assert_eq!(row["channel_id"], payos);
    assert_eq!(row["stall_id"], stall);
    assert_eq!(row["counterparty_name"], "NGUYEN THI HUONG");
    // payOS signs no time: a replay is stopped by de-duplication only.
    let replay = post(&m, &format!("/webhooks/payos/{payos}"), &[], body.clone()).await;
    assert_eq!(replay.expect(StatusCode::OK).json()["duplicate"], true);
    let tampered = body.replace("180000", "980000");
    post(&m, &format!("/webhooks/payos/{payos}"), &[], tampered)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    assert_eq!(m.credit_count().await, 1);

    let case = golden("casso_credit_vietnamese");
    let secret = case["secrets"][0].as_str().unwrap();
    let (casso, _) = create_channel(&m, "casso", Some(secret)).await;
    let body = case["body"].as_str().unwrap().to_owned();
    let path = format!("/webhooks/casso/{casso}");
    // The golden signature is from 2024: stale now.
    let golden_header = case["headers"]["X-Casso-Signature"].as_str().unwrap();
    post(
        &m,
        &path,
        &[("x-casso-signature", golden_header)],
        body.clone(),
    )
    .await
    .expect(StatusCode::UNAUTHORIZED);
    let t = chopay::store::now_ms().to_string();
    let parsed: Value = serde_json::from_str(&body).unwrap();
    let message = format!("{t}.{}", canonical(&parsed));
    let header = format!(
        "t={t},v1={}",
        hmac_hex::<Hmac<Sha512>>(secret, message.as_bytes())
    );
    let answer = post(&m, &path, &[("x-casso-signature", &header)], body.clone())
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(answer["success"], true, "{answer}");
    let row = m.credit(answer["credit_id"].as_i64().unwrap()).await;
    assert_eq!(
        (row["provider_txn_id"].as_str(), row["amount"].as_str()),
        (Some("8231577"), Some("250000"))
    );
    assert_eq!(row["channel_id"], casso);
    assert_eq!(m.credit_count().await, 2);

    let case = golden("sepay_apikey_credit_vietnamese");
    let key = case["secrets"][0].as_str().unwrap();
    let (sepay, _) = create_channel(&m, "sepay", Some(key)).await;
    let path = format!("/webhooks/sepay/{sepay}");
    let authorization = format!("Apikey {key}");
    let body = case["body"].as_str().unwrap().to_owned();
    let answer = post(
        &m,
        &path,
        &[("authorization", &authorization)],
        body.clone(),
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(answer["success"], true, "{answer}");
    let row = m.credit(answer["credit_id"].as_i64().unwrap()).await;
    assert_eq!(
        (row["provider_txn_id"].as_str(), row["amount"].as_str()),
        (Some("92704"), Some("95000"))
    );
    assert_eq!(m.credit_count().await, 3);
    post(
        &m,
        &path,
        &[("authorization", "Apikey not-the-key-at-all")],
        body.clone(),
    )
    .await
    .expect(StatusCode::UNAUTHORIZED);

    // SePay's HMAC mode, signed now.
    let body = body.replace("\"id\":92704", "\"id\":92705");
    let timestamp = now_s().to_string();
    let message = format!("{timestamp}.{body}");
    let signature = format!(
        "sha256={}",
        hmac_hex::<Hmac<Sha256>>(key, message.as_bytes())
    );
    let answer = post(
        &m,
        &path,
        &[
            ("x-sepay-signature", &signature),
            ("x-sepay-timestamp", &timestamp),
        ],
        body.clone(),
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(answer["duplicate"], false, "{answer}");
    assert_eq!(m.credit_count().await, 4);

    // Money going out is acknowledged and not recorded.
    let out = golden("sepay_outgoing_is_ignored");
    let answer = post(
        &m,
        &path,
        &[("authorization", &authorization)],
        out["body"].as_str().unwrap().to_owned(),
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(
        (answer["success"].as_bool(), answer["outcome"].as_str()),
        (Some(true), Some("ignored")),
        "{answer}"
    );
    assert_eq!(m.credit_count().await, 4);
    assert!(deliveries_metric(&m, "sepay", "ignored").await >= 1);
    assert!(deliveries_metric(&m, "payos", "accepted").await >= 1);
}
