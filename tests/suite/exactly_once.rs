//! Exactly once over real connections: a thousand identical deliveries of one credit at once over
//! fifty keep-alive connections, SePay's retry schedule for another, and a hundred different
//! credits delivered three times each in shuffled order, all against the service listening on a
//! loopback port. One ledger row per credit, every delivery answered 2xx with the same outcome,
//! and the books balance.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::api::payments::{Market, credit, message_id, now_s, signed};

/// Deliveries in flight at once, each on its own connection.
const CONNECTIONS: usize = 50;

/// SePay's retry schedule, in minutes after the first attempt (it gives up after 5 hours). The
/// retries carry the same body; in API-key mode nothing in them depends on the time.
const SEPAY_RETRIES_MIN: [u64; 8] = [0, 1, 2, 4, 7, 12, 20, 33];

struct Served {
    base: String,
    client: reqwest::Client,
}

async fn serve(market: &Market) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = market.app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    Served { base, client }
}

/// A delivery to send: the credit it carries (a label), the path, the headers and the body.
type Outgoing = (String, String, Vec<(String, String)>, Vec<u8>);

/// Sends every delivery, at most [`CONNECTIONS`] at once; each answer with its label.
async fn deliver_all(served: &Served, deliveries: Vec<Outgoing>) -> Vec<(String, u16, Value)> {
    let gate = Arc::new(Semaphore::new(CONNECTIONS));
    let mut tasks = tokio::task::JoinSet::new();
    for (label, path, headers, body) in deliveries {
        let (client, url, gate) = (
            served.client.clone(),
            format!("{}{path}", served.base),
            gate.clone(),
        );
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            let mut request = client.post(url).body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let response = request.send().await.expect("the server answers");
            let status = response.status().as_u16();
            (label, status, response.json::<Value>().await.expect("JSON"))
        });
    }
    tasks.join_all().await
}

/// Every delivery of a credit got 2xx with the same outcome and credit id, and exactly one of
/// them recorded it; returns the outcome per credit.
fn one_outcome_each(answers: &[(String, u16, Value)]) -> BTreeMap<String, String> {
    let mut by_credit: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for (label, status, answer) in answers {
        assert!((200..300).contains(status), "{label}: {status} {answer}");
        by_credit.entry(label).or_default().push(answer);
    }
    by_credit
        .into_iter()
        .map(|(label, answers)| {
            let shapes: BTreeSet<String> = answers
                .iter()
                .map(|a| format!("{} {}", a["outcome"], a["credit_id"]))
                .collect();
            assert_eq!(shapes.len(), 1, "{label}: {shapes:?}");
            let fresh = answers.iter().filter(|a| a["duplicate"] == false).count();
            assert_eq!(fresh, 1, "{label}: exactly one delivery records it");
            (
                label.to_owned(),
                answers[0]["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_identical_deliveries_retries_and_shuffled_credits_are_each_recorded_once() {
    let market = Market::new().await;
    market.stall("A01", "1234567890").await;
    let served = serve(&market).await;
    let path = format!("/webhooks/chopay/{}", market.channel);

    // One credit, one delivery repeated a thousand times byte for byte (the same message id,
    // timestamp and signature), all at once.
    let body = credit("TXN-ONCE-1", "50000", "1234567890", "mua rau")
        .to_string()
        .into_bytes();
    let headers = signed(&market.secret, &message_id(), now_s(), &body);
    let same: Vec<_> = (0..1000)
        .map(|_| {
            (
                "once".to_owned(),
                path.clone(),
                headers.clone(),
                body.clone(),
            )
        })
        .collect();
    let outcomes = one_outcome_each(&deliver_all(&served, same).await);
    assert_eq!(outcomes["once"], "static_payment");

    // A hundred different credits, each delivered three times (newly signed each time, as a
    // retry would be), in a shuffled order, at once.
    let mut shuffled = Vec::new();
    for n in 0..100 {
        let body = credit(&format!("TXN-MANY-{n}"), "20000", "1234567890", "mua rau")
            .to_string()
            .into_bytes();
        for _ in 0..3 {
            let headers = signed(&market.secret, &message_id(), now_s(), &body);
            shuffled.push((format!("many-{n}"), path.clone(), headers, body.clone()));
        }
    }
    // A fixed, thorough shuffle: stride through the list by a step prime to its length.
    let len = shuffled.len();
    let shuffled: Vec<_> = (0..len)
        .map(|i| shuffled[(i * 137) % len].clone())
        .collect();
    let outcomes = one_outcome_each(&deliver_all(&served, shuffled).await);
    assert_eq!(outcomes.len(), 100);
    assert!(outcomes.values().all(|o| o == "static_payment"));

    // SePay's retry schedule for one credit: the same body and API key eight times, one after
    // the other (the wait between them changes nothing the server sees in API-key mode).
    let key = "4f3c2b1a0998877665544332211ffeeddccbbaa99887766554433221100aabbc";
    let made = market
        .app
        .post_json(
            "/api/v1/markets/cho-mo/channels",
            Some(&market.app.admin),
            &json!({"provider": "sepay", "secret": key}),
        )
        .await
        .json();
    let sepay = format!("/webhooks/sepay/{}", made["id"]);
    let body = json!({
        "id": 92704, "gateway": "Vietcombank", "transactionDate": "2026-11-23 10:22:41",
        "accountNumber": "1234567890", "code": null, "content": "Lê Thị Cúc thanh toán đồ khô",
        "transferType": "in", "transferAmount": 95000, "accumulated": 19077000,
        "referenceCode": "MBVCB.3278907687", "description": "BankAPINotify Lê Thị Cúc thanh toán đồ khô"
    })
    .to_string()
    .into_bytes();
    let mut answers = Vec::new();
    for _minute in SEPAY_RETRIES_MIN {
        let retry = vec![(
            "sepay".to_owned(),
            sepay.clone(),
            vec![("authorization".to_owned(), format!("Apikey {key}"))],
            body.clone(),
        )];
        answers.extend(deliver_all(&served, retry).await);
    }
    let outcomes = one_outcome_each(&answers);
    assert_eq!(outcomes["sepay"], "static_payment");

    // One ledger row per credit: 1 + 100 + 1.
    let ledger = market.credits("").await;
    assert_eq!(ledger["total"], 102, "{ledger}");
    crate::app::assert_books_balance(&market.app.store).await;
}
