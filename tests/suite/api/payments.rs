//! Payments as vendors, boards and admins see them: orders with dynamic codes, bank credits
//! matched to orders and stalls, the ledger and its exports, daily figures and the vendor
//! screen's event stream. Deliveries use chopay's own signed format (`sign_chopay`); the other
//! providers and the forgery cases are in `webhooks.rs`.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use chopay::webhooks::{Secret, sign_chopay};

use crate::app::{Reply, TestApp};

/// The NAPAS BIN of Vietcombank, the bank of every test stall.
pub const BIN: &str = "970436";
/// The Crockford base-32 alphabet references are written in.
const CROCKFORD: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// An account no stall has.
pub const NOWHERE: &str = "000000000001";

/// Now, Unix seconds.
pub fn now_s() -> i64 {
    chopay::store::now_ms() / 1000
}

/// A fresh `webhook-id`.
pub fn message_id() -> String {
    let mut bytes = [0_u8; 8];
    getrandom::fill(&mut bytes).expect("random");
    format!("msg_{}", hex::encode(bytes))
}

/// The three chopay headers for a body signed with `secret` at `timestamp`.
pub fn signed(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Vec<(String, String)> {
    let signature =
        sign_chopay(&Secret::new(secret.to_owned()), id, timestamp, body).expect("signs");
    vec![
        ("content-type".into(), "application/json".into()),
        ("webhook-id".into(), id.to_owned()),
        ("webhook-timestamp".into(), timestamp.to_string()),
        ("webhook-signature".into(), signature),
    ]
}

/// A chopay-format credit body to a Vietcombank account.
pub fn credit(txn: &str, amount: &str, account: &str, description: &str) -> Value {
    json!({
        "transaction_id": txn, "amount": amount, "account_number": account, "bin": BIN,
        "description": description, "counterparty_name": "PHAM DUC LONG", "counterparty_account": "0987654321",
    })
}

/// What a bank makes of a transfer description carrying `reference`.
pub fn bank_description(reference: &str) -> String {
    format!("MBVCB.3278907687.{reference}.CT tu 0987654321 PHAM DUC LONG")
}

/// Milliseconds since the epoch of an RFC 3339 UTC time as the API writes it
/// (`2026-11-23T10:28:03.123Z`).
pub fn unix_ms(text: &str) -> i64 {
    let (date, time) = text.split_once('T').expect("a T");
    let time = time.strip_suffix('Z').expect("UTC");
    let mut ymd = date
        .split('-')
        .map(|p| p.parse::<i64>().expect("date part"));
    let (y, m, d) = (
        ymd.next().unwrap(),
        ymd.next().unwrap(),
        ymd.next().unwrap(),
    );
    let (hms, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let mut hms = hms.split(':').map(|p| p.parse::<i64>().expect("time part"));
    let (h, mi, s) = (
        hms.next().unwrap(),
        hms.next().unwrap(),
        hms.next().unwrap(),
    );
    let ms: i64 = format!("{fraction:0<3}")[..3].parse().expect("fraction");
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 86_400 + h * 3600 + mi * 60 + s) * 1000) + ms
}

/// A market `cho-mo` with a chopay channel, on a fresh in-process service.
pub struct Market {
    pub app: TestApp,
    pub channel: i64,
    pub secret: String,
}

impl Market {
    pub async fn new() -> Self {
        let app = TestApp::spawn().await;
        app.create_market("cho-mo", "ba-vi").await;
        let made = app
            .post_json(
                "/api/v1/markets/cho-mo/channels",
                Some(&app.admin),
                &json!({"provider": "chopay"}),
            )
            .await
            .expect(StatusCode::CREATED)
            .json();
        Self {
            channel: made["id"].as_i64().expect("id"),
            secret: made["secret"].as_str().expect("secret").to_owned(),
            app,
        }
    }

    /// A stall with its own Vietcombank account; returns its id.
    pub async fn stall(&self, code: &str, account: &str) -> i64 {
        let body = json!({
            "code": code, "vendor_name": "Nguyễn Thị Hương", "goods": "Rau củ",
            "payee": {"bank": "VCB", "account": account, "holder": "Nguyễn Thị Hương"}
        });
        self.app
            .post_json(
                "/api/v1/markets/cho-mo/stalls",
                Some(&self.app.admin),
                &body,
            )
            .await
            .expect(StatusCode::CREATED)
            .json()["id"]
            .as_i64()
            .expect("id")
    }

    /// An order issued by an admin.
    pub async fn order(&self, stall: i64, amount: &str) -> Value {
        self.app
            .post_json(
                &format!("/api/v1/stalls/{stall}/orders"),
                Some(&self.app.admin),
                &json!({ "amount": amount }),
            )
            .await
            .expect(StatusCode::CREATED)
            .json()
    }

    /// An order as it is now.
    pub async fn get_order(&self, order: &Value) -> Value {
        self.app
            .get(order["url"].as_str().expect("url"), Some(&self.app.admin))
            .await
            .expect(StatusCode::OK)
            .json()
    }

    /// Sends `body` to this market's channel, signed now.
    pub async fn deliver_bytes(&self, body: &[u8]) -> Reply {
        let headers = signed(&self.secret, &message_id(), now_s(), body);
        self.send(&headers, body.to_vec()).await
    }

    /// Sends a delivery with these headers to this market's channel.
    pub async fn send(&self, headers: &[(String, String)], body: Vec<u8>) -> Reply {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        self.app
            .post_raw(
                &format!("/webhooks/chopay/{}", self.channel),
                &headers,
                body,
            )
            .await
    }

    /// Sends a credit and expects it accepted; returns the answer.
    pub async fn pay(&self, body: &Value) -> Value {
        let reply = self.deliver_bytes(body.to_string().as_bytes()).await;
        let answer = reply.expect(StatusCode::OK).json();
        assert_eq!(answer["success"], true, "{answer}");
        crate::app::assert_books_balance(&self.app.store).await;
        answer
    }

    /// The market's ledger (admin), with a query string such as `?outcome=unmatched`.
    pub async fn credits(&self, query: &str) -> Value {
        self.app
            .get(
                &format!("/api/v1/markets/cho-mo/credits{query}"),
                Some(&self.app.admin),
            )
            .await
            .expect(StatusCode::OK)
            .json()
    }

    /// A stall's credits as `token` sees them, with a query string such as `?per_page=2`.
    pub async fn stall_credits(&self, stall: i64, query: &str, token: &str) -> Value {
        self.app
            .get(
                &format!("/api/v1/stalls/{stall}/credits{query}"),
                Some(token),
            )
            .await
            .expect(StatusCode::OK)
            .json()
    }

    /// How many credits the market's ledger holds.
    pub async fn credit_count(&self) -> i64 {
        self.credits("").await["total"].as_i64().expect("total")
    }

    /// The credit with this id, from the market's ledger.
    pub async fn credit(&self, id: i64) -> Value {
        let list = self.credits("?per_page=500").await;
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("credit {id} not listed: {list}"))
    }

    /// Today's figures of the market.
    pub async fn market_today(&self) -> Value {
        let days = self
            .app
            .get(
                "/api/v1/markets/cho-mo/credits/daily",
                Some(&self.app.admin),
            )
            .await
            .expect(StatusCode::OK)
            .json();
        days.as_array()
            .and_then(|d| d.last())
            .cloned()
            .unwrap_or_else(|| panic!("no day: {days}"))
    }
}

fn crockford(reference: &str) -> bool {
    reference.len() == 11
        && reference.starts_with("CP")
        && reference[2..].chars().all(|c| CROCKFORD.contains(c))
}

async fn post_with_key(app: &TestApp, path: &str, token: &str, key: &str, body: &Value) -> Reply {
    let request = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", key)
        .body(Body::from(body.to_string()))
        .expect("request");
    app.send(request).await
}

#[tokio::test]
async fn a_vendor_issues_an_order_whose_code_pays_the_stall_and_can_cancel_it() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let vendor = m.app.token("vendor", None, None, Some(stall)).await;
    let order = m
        .app
        .post_json(
            &format!("/api/v1/stalls/{stall}/orders"),
            Some(&vendor),
            &json!({"amount": "50000"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let reference = order["reference"].as_str().unwrap();
    assert!(crockford(reference), "{reference}");
    assert_eq!(order["stall_id"], stall);
    assert_eq!(order["amount"], "50000");
    assert_eq!(order["amount_text"], "50.000đ");
    assert_eq!(order["amount_words"], "Năm mươi nghìn đồng");
    assert_eq!(order["status"], "pending");
    assert_eq!(order["paid_total"], "0");
    let id = order["id"].as_i64().unwrap();
    assert_eq!(order["url"], format!("/api/v1/orders/{id}"));
    assert!(order["svg"].as_str().unwrap().starts_with("<svg"));
    let lifetime = unix_ms(order["expires_at"].as_str().unwrap())
        - unix_ms(order["created_at"].as_str().unwrap());
    assert!((lifetime - 15 * 60_000).abs() <= 1000, "{lifetime} ms");

    let decoded = chopay::domain::vietqr::decode(order["payload"].as_str().unwrap()).unwrap();
    assert_eq!(decoded.bin.as_deref(), Some(BIN));
    assert_eq!(decoded.account.as_deref(), Some("1012345678"));
    assert_eq!(decoded.amount.map(|a| a.to_dong()), Some(50_000));
    assert_eq!(decoded.bill_number.as_deref(), Some(reference), "62.01");
    assert_eq!(decoded.purpose.as_deref(), Some(reference), "62.08");

    let read = m
        .app
        .get(&format!("/api/v1/orders/{id}"), Some(&vendor))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(read, order);

    let cancel = format!("/api/v1/orders/{id}/cancel");
    for _ in 0..2 {
        let cancelled = m
            .app
            .post_json(&cancel, Some(&vendor), &json!({}))
            .await
            .expect(StatusCode::OK)
            .json();
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(cancelled["reference"], reference);
    }
    let read = m
        .app
        .get(&format!("/api/v1/orders/{id}"), Some(&vendor))
        .await;
    assert_eq!(read.expect(StatusCode::OK).json()["status"], "cancelled");
}

#[tokio::test]
async fn an_order_amount_is_whole_positive_dong_within_range() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let path = format!("/api/v1/stalls/{stall}/orders");
    for amount in [
        json!(0),
        json!("0"),
        json!(-5),
        json!("-5"),
        json!("1.5"),
        json!(5e4),
        json!(50000.0),
        json!(10_000_000_000_000_i64),
        json!("10000000000000"),
        json!(null),
        json!("năm mươi"),
    ] {
        let reply = m
            .app
            .post_json(&path, Some(&m.app.admin), &json!({ "amount": amount }))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{amount}: {}",
            reply.text()
        );
        let error = reply.json();
        assert!(
            error["code"].is_string() && error["message"].is_string(),
            "{error}"
        );
    }
    // What vendors type is fine.
    for (amount, dong) in [(json!(50000), "50000"), (json!("50.000đ"), "50000")] {
        let order = m
            .app
            .post_json(&path, Some(&m.app.admin), &json!({ "amount": amount }))
            .await
            .expect(StatusCode::CREATED)
            .json();
        assert_eq!(order["amount"], dong);
    }
}

#[tokio::test]
async fn only_the_stalls_vendor_or_an_admin_issues_orders_and_only_for_a_linked_account() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let other = m.stall("A02", "1098765432").await;
    let unlinked = m
        .app
        .post_json(
            "/api/v1/markets/cho-mo/stalls",
            Some(&m.app.admin),
            &json!({"code": "B01", "vendor_name": "Trần Văn Hùng"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json()["id"]
        .as_i64()
        .unwrap();
    let body = json!({"amount": "50000"});
    let orders = |id: i64| format!("/api/v1/stalls/{id}/orders");

    let reply = m
        .app
        .post_json(&orders(unlinked), Some(&m.app.admin), &body)
        .await;
    reply.expect_error(StatusCode::CONFLICT, "conflict");
    let unlinked_vendor = m.app.token("vendor", None, None, Some(unlinked)).await;
    let reply = m
        .app
        .post_json(&orders(unlinked), Some(&unlinked_vendor), &body)
        .await;
    reply.expect_error(StatusCode::CONFLICT, "conflict");

    let other_vendor = m.app.token("vendor", None, None, Some(other)).await;
    let board = m.app.token("board", Some("cho-mo"), None, None).await;
    // Another vendor does not see the stall; its market's board sees it but may not sell.
    let reply = m
        .app
        .post_json(&orders(stall), Some(&other_vendor), &body)
        .await;
    reply.expect_error(StatusCode::NOT_FOUND, "not_found");
    let reply = m.app.post_json(&orders(stall), Some(&board), &body).await;
    reply.expect_error(StatusCode::FORBIDDEN, "forbidden");
    let reply = m.app.post_json(&orders(stall), None, &body).await;
    reply.expect_error(StatusCode::UNAUTHORIZED, "unauthorized");

    // Nor can they read or cancel an order of another stall.
    let order = m.order(stall, "50000").await;
    let id = order["id"].as_i64().unwrap();
    m.app
        .get(&format!("/api/v1/orders/{id}"), Some(&other_vendor))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    for (token, status, code) in [
        (&other_vendor, StatusCode::NOT_FOUND, "not_found"),
        (&board, StatusCode::FORBIDDEN, "forbidden"),
    ] {
        m.app
            .post_json(
                &format!("/api/v1/orders/{id}/cancel"),
                Some(token),
                &json!({}),
            )
            .await
            .expect_error(status, code);
    }
    assert_eq!(m.get_order(&order).await["status"], "pending");
}

#[tokio::test]
async fn an_idempotency_key_replays_the_order_it_made() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let other = m.stall("A02", "1098765432").await;
    let vendor = m.app.token("vendor", None, None, Some(stall)).await;
    let other_vendor = m.app.token("vendor", None, None, Some(other)).await;
    let path = format!("/api/v1/stalls/{stall}/orders");
    let body = json!({"amount": "50000"});

    let first = post_with_key(&m.app, &path, &vendor, "sale-0001", &body)
        .await
        .expect(StatusCode::CREATED)
        .json();
    let again = post_with_key(&m.app, &path, &vendor, "sale-0001", &body)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["reference"], first["reference"]);
    post_with_key(
        &m.app,
        &path,
        &vendor,
        "sale-0001",
        &json!({"amount": "60000"}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    let theirs = post_with_key(
        &m.app,
        &format!("/api/v1/stalls/{other}/orders"),
        &other_vendor,
        "sale-0001",
        &body,
    )
    .await
    .expect(StatusCode::CREATED)
    .json();
    assert_ne!(theirs["id"], first["id"]);
    assert_ne!(theirs["reference"], first["reference"]);
    assert_eq!(theirs["stall_id"], other);
    // The key used elsewhere changed nothing here.
    let replay = post_with_key(&m.app, &path, &vendor, "sale-0001", &body)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(replay["id"], first["id"]);
}

#[tokio::test]
async fn an_exact_payment_marks_the_order_paid_and_lands_in_the_ledger() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let order = m.order(stall, "50000").await;
    let reference = order["reference"].as_str().unwrap();
    let answer = m
        .pay(&credit(
            "VCB-000731",
            "50000",
            "1012345678",
            &format!("{reference} Phạm Đức Long mua bánh đa cua"),
        ))
        .await;
    assert_eq!(answer["outcome"], "order_paid", "{answer}");
    assert_eq!(answer["duplicate"], false);
    let credit_id = answer["credit_id"].as_i64().unwrap();

    let paid = m.get_order(&order).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["paid_total"], "50000");
    let cancel = format!("/api/v1/orders/{}/cancel", order["id"]);
    m.app
        .post_json(&cancel, Some(&m.app.admin), &json!({}))
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");

    let vendor = m.app.token("vendor", None, None, Some(stall)).await;
    for (path, token) in [
        ("/api/v1/markets/cho-mo/credits".to_owned(), &m.app.admin),
        (format!("/api/v1/stalls/{stall}/credits"), &vendor),
    ] {
        let list = m
            .app
            .get(&path, Some(token))
            .await
            .expect(StatusCode::OK)
            .json();
        assert_eq!(list["total"], 1, "{path}: {list}");
        let row = &list["items"][0];
        assert_eq!(row["id"], credit_id);
        assert_eq!(row["provider_txn_id"], "VCB-000731");
        assert_eq!(row["amount"], "50000");
        assert_eq!(row["outcome"], "order_paid");
        assert_eq!(row["stall_id"], stall);
        assert_eq!(row["order_id"], order["id"]);
        assert_eq!(row["channel_id"], m.channel);
        assert_eq!(row["counterparty_name"], "PHAM DUC LONG");
    }
}

#[tokio::test]
async fn references_survive_what_banks_do_to_descriptions_but_not_a_typo() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let mangles: [fn(&str) -> String; 4] = [
        |r| bank_description(r),
        |r| format!("{} thanh toan", r.to_lowercase()),
        |r| format!("ck {} {}.{} {} rau", &r[..2], &r[2..5], &r[5..8], &r[8..]),
        |r| {
            format!(
                "MBVCB.3278907687.{}.CT tu",
                r.to_lowercase().replace('0', "o")
            )
        },
    ];
    for (index, mangle) in mangles.iter().enumerate() {
        let order = m.order(stall, "50000").await;
        let description = mangle(order["reference"].as_str().unwrap());
        let answer = m
            .pay(&credit(
                &format!("T{index}"),
                "50000",
                "1012345678",
                &description,
            ))
            .await;
        assert_eq!(answer["outcome"], "order_paid", "{description}: {answer}");
        assert_eq!(m.get_order(&order).await["status"], "paid", "{description}");
    }

    let order = m.order(stall, "50000").await;
    let reference = order["reference"].as_str().unwrap();
    let position = 6;
    let original = reference.as_bytes()[position];
    let replacement = if original == b'7' { 'K' } else { '7' };
    let typo = format!(
        "{}{replacement}{}",
        &reference[..position],
        &reference[position + 1..]
    );
    let answer = m
        .pay(&credit(
            "T-typo",
            "50000",
            "1012345678",
            &bank_description(&typo),
        ))
        .await;
    assert_eq!(answer["outcome"], "static_payment", "{typo}: {answer}");
    let row = m.credit(answer["credit_id"].as_i64().unwrap()).await;
    assert_eq!(
        (row["stall_id"].as_i64(), row["order_id"].as_i64()),
        (Some(stall), None)
    );
    let untouched = m.get_order(&order).await;
    assert_eq!(
        (
            untouched["status"].as_str(),
            untouched["paid_total"].as_str()
        ),
        (Some("pending"), Some("0"))
    );
}

#[tokio::test]
async fn partial_excess_and_late_payments_are_told_apart() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;

    let order = m.order(stall, "50000").await;
    let description = bank_description(order["reference"].as_str().unwrap());
    let first = m
        .pay(&credit("P1", "20000", "1012345678", &description))
        .await;
    assert_eq!(first["outcome"], "order_underpaid");
    let now = m.get_order(&order).await;
    assert_eq!(
        (now["status"].as_str(), now["paid_total"].as_str()),
        (Some("underpaid"), Some("20000"))
    );
    let rest = m
        .pay(&credit("P2", "30000", "1012345678", &description))
        .await;
    assert_eq!(rest["outcome"], "order_paid");
    let now = m.get_order(&order).await;
    assert_eq!(
        (now["status"].as_str(), now["paid_total"].as_str()),
        (Some("paid"), Some("50000"))
    );

    let order = m.order(stall, "50000").await;
    let description = bank_description(order["reference"].as_str().unwrap());
    let over = m
        .pay(&credit("O1", "60000", "1012345678", &description))
        .await;
    assert_eq!(over["outcome"], "order_overpaid");
    let now = m.get_order(&order).await;
    assert_eq!(
        (now["status"].as_str(), now["paid_total"].as_str()),
        (Some("overpaid"), Some("60000"))
    );

    // Booked after the code expired (`booked_at` is the bank's time).
    let order = m.order(stall, "50000").await;
    let expires = unix_ms(order["expires_at"].as_str().unwrap());
    let mut late = credit(
        "L1",
        "50000",
        "1012345678",
        &bank_description(order["reference"].as_str().unwrap()),
    );
    late["booked_at"] = json!(chopay::http::rfc3339(expires + 60_000));
    let answer = m.pay(&late).await;
    assert_eq!(answer["outcome"], "order_late", "{answer}");
    let row = m.credit(answer["credit_id"].as_i64().unwrap()).await;
    assert_eq!(row["order_id"], order["id"]);
    assert_eq!(row["stall_id"], stall);
    assert_ne!(m.get_order(&order).await["status"], "paid");

    // Paid into a cancelled order.
    let order = m.order(stall, "50000").await;
    m.app
        .post_json(
            &format!("/api/v1/orders/{}/cancel", order["id"]),
            Some(&m.app.admin),
            &json!({}),
        )
        .await
        .expect(StatusCode::OK);
    let description = bank_description(order["reference"].as_str().unwrap());
    let answer = m
        .pay(&credit("C1", "50000", "1012345678", &description))
        .await;
    assert_eq!(answer["outcome"], "order_late", "{answer}");
    assert_eq!(m.get_order(&order).await["status"], "cancelled");
}

#[tokio::test]
async fn static_and_unmatched_payments_and_assigning_one_after_review() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let other = m.stall("A02", "1098765432").await;

    let poster = m
        .pay(&credit(
            "S1",
            "25000",
            "1012345678",
            "PHAM DUC LONG chuyen tien",
        ))
        .await;
    assert_eq!(poster["outcome"], "static_payment");
    let row = m.credit(poster["credit_id"].as_i64().unwrap()).await;
    assert_eq!(
        (row["stall_id"].as_i64(), row["order_id"].as_i64()),
        (Some(stall), None)
    );

    let lost = m
        .pay(&credit("U1", "70000", NOWHERE, "PHAM DUC LONG ck"))
        .await;
    assert_eq!(lost["outcome"], "unmatched");
    let lost_id = lost["credit_id"].as_i64().unwrap();
    let review = m.credits("?outcome=unmatched").await;
    assert_eq!(review["total"], 1, "{review}");
    assert_eq!(review["items"][0]["id"], lost_id);
    assert_eq!(review["items"][0]["stall_id"], Value::Null);
    assert_eq!(review["items"][0]["assigned_stall_id"], Value::Null);
    assert_eq!(m.credits("?outcome=static_payment").await["total"], 1);
    m.app
        .get(
            "/api/v1/markets/cho-mo/credits?outcome=lost",
            Some(&m.app.admin),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    let day = m.market_today().await;
    assert_eq!(
        (day["count"].as_i64(), day["amount"].as_str()),
        (Some(2), Some("95000"))
    );
    assert_eq!(
        (
            day["unmatched_count"].as_i64(),
            day["unmatched_amount"].as_str()
        ),
        (Some(1), Some("70000"))
    );
    assert_eq!(
        (day["static_count"].as_i64(), day["static_amount"].as_str()),
        (Some(1), Some("25000"))
    );
    assert_eq!(day["assigned_count"], 0);

    let assign = format!("/api/v1/credits/{lost_id}/assign");
    let board = m.app.token("board", Some("cho-mo"), None, None).await;
    m.app
        .post_json(&assign, Some(&board), &json!({"stall_id": other}))
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    let assigned = m
        .app
        .post_json(
            &assign,
            Some(&m.app.admin),
            &json!({"stall_id": other, "note": "khách gọi điện"}),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(assigned["id"], lost_id);
    assert_eq!(assigned["assigned_stall_id"], other);
    assert_eq!(
        assigned["outcome"], "unmatched",
        "the credit itself is never edited"
    );
    m.app
        .post_json(
            &assign,
            Some(&m.app.admin),
            &json!({"stall_id": stall, "note": "nhầm"}),
        )
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
    // Only unmatched credits are assigned.
    m.app
        .post_json(
            &format!("/api/v1/credits/{}/assign", poster["credit_id"]),
            Some(&m.app.admin),
            &json!({"stall_id": other, "note": "nhầm"}),
        )
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");

    let theirs = m.stall_credits(other, "", &m.app.admin).await;
    assert_eq!(theirs["total"], 1, "{theirs}");
    assert_eq!(theirs["items"][0]["id"], lost_id);
    assert_eq!(theirs["items"][0]["assigned_stall_id"], other);
    assert_eq!(m.credit(lost_id).await["assigned_stall_id"], other);

    let day = m.market_today().await;
    assert_eq!(
        (day["count"].as_i64(), day["amount"].as_str()),
        (Some(2), Some("95000")),
        "{day}"
    );
    assert_eq!(
        (
            day["unmatched_count"].as_i64(),
            day["unmatched_amount"].as_str()
        ),
        (Some(0), Some("0")),
        "{day}"
    );
    assert_eq!(
        (
            day["assigned_count"].as_i64(),
            day["assigned_amount"].as_str()
        ),
        (Some(1), Some("70000")),
        "{day}"
    );
    let stall_days = m
        .app
        .get(
            &format!("/api/v1/stalls/{other}/credits/daily"),
            Some(&m.app.admin),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(stall_days[0]["assigned_count"], 1, "{stall_days}");
    let today = m
        .app
        .get(&format!("/api/v1/stalls/{other}/today"), Some(&m.app.admin))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        (today["count"].as_i64(), today["total"].as_str()),
        (Some(1), Some("70000"))
    );
}

#[tokio::test]
async fn a_reference_paid_into_another_stalls_account_never_pays_that_order() {
    let m = Market::new().await;
    let x = m.stall("A01", "1012345678").await;
    m.stall("A02", "1098765432").await;
    let order = m.order(x, "50000").await;
    let description = bank_description(order["reference"].as_str().unwrap());
    let answer = m
        .pay(&credit("X1", "50000", "1098765432", &description))
        .await;
    assert!(
        !answer["outcome"].as_str().unwrap().starts_with("order_"),
        "{answer}"
    );
    let row = m.credit(answer["credit_id"].as_i64().unwrap()).await;
    assert_eq!(row["order_id"], Value::Null, "{row}");
    assert_ne!(row["stall_id"], x, "{row}");
    let untouched = m.get_order(&order).await;
    assert_eq!(
        (
            untouched["status"].as_str(),
            untouched["paid_total"].as_str()
        ),
        (Some("pending"), Some("0"))
    );
    let xs = m.stall_credits(x, "", &m.app.admin).await;
    assert_eq!(xs["total"], 0, "{xs}");
    // The same with no account named at all is not that order's either when the BIN differs.
    let mut elsewhere = credit("X2", "50000", "1012345678", &description);
    elsewhere["bin"] = json!("970422");
    let answer = m.pay(&elsewhere).await;
    assert!(
        !answer["outcome"].as_str().unwrap().starts_with("order_"),
        "{answer}"
    );
    assert_eq!(m.get_order(&order).await["paid_total"], "0");
}

#[tokio::test]
async fn a_market_never_pays_the_orders_of_another_market() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let order = m.order(stall, "50000").await;
    m.app.create_market("cho-quang-oai", "ba-vi").await;
    let other = m
        .app
        .post_json(
            "/api/v1/markets/cho-quang-oai/channels",
            Some(&m.app.admin),
            &json!({"provider": "chopay"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let body = credit(
        "M-1",
        "50000",
        "1012345678",
        &bank_description(order["reference"].as_str().unwrap()),
    )
    .to_string();
    let headers = signed(
        other["secret"].as_str().unwrap(),
        &message_id(),
        now_s(),
        body.as_bytes(),
    );
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let answer = m
        .app
        .post_raw(&format!("/webhooks/chopay/{}", other["id"]), &headers, body)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(answer["outcome"], "unmatched", "{answer}");
    let untouched = m.get_order(&order).await;
    assert_eq!(
        (
            untouched["status"].as_str(),
            untouched["paid_total"].as_str()
        ),
        (Some("pending"), Some("0"))
    );
    assert_eq!(m.credit_count().await, 0, "nothing in cho-mo's ledger");
    // Nor can it be given to a stall of another market.
    m.app
        .post_json(
            &format!("/api/v1/credits/{}/assign", answer["credit_id"]),
            Some(&m.app.admin),
            &json!({"stall_id": stall, "note": "nhầm chợ"}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // And cho-mo's board does not see cho-quang-oai's ledger.
    let board = m.app.token("board", Some("cho-mo"), None, None).await;
    m.app
        .get("/api/v1/markets/cho-quang-oai/credits", Some(&board))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn a_credit_kept_for_review_counts_once_in_the_daily_totals_after_assignment() {
    let m = Market::new().await;
    let x = m.stall("A01", "1012345678").await;
    let y = m.stall("A02", "1098765432").await;
    let order = m.order(x, "50000").await;
    let description = bank_description(order["reference"].as_str().unwrap());
    // Stall X's reference paid into stall Y's account: kept for review as unmatched.
    let answer = m
        .pay(&credit("X1", "50000", "1098765432", &description))
        .await;
    assert_eq!(answer["outcome"], "unmatched", "{answer}");
    let id = answer["credit_id"].as_i64().unwrap();
    let before = m.market_today().await;
    assert_eq!(
        (before["count"].as_i64(), before["unmatched_count"].as_i64()),
        (Some(1), Some(1)),
        "{before}"
    );

    m.app
        .post_json(
            &format!("/api/v1/credits/{id}/assign"),
            Some(&m.app.admin),
            &json!({"stall_id": x, "note": "khách gọi điện"}),
        )
        .await
        .expect(StatusCode::OK);
    // Quarantined money counts once: in the suspense row while unmatched, on the stall once
    // assigned, never on the account's stall as well.
    let after = m.market_today().await;
    assert_eq!(m.credit_count().await, 1);
    assert_eq!(
        (
            after["count"].as_i64(),
            after["amount"].as_str(),
            after["unmatched_count"].as_i64(),
            after["assigned_count"].as_i64()
        ),
        (Some(1), Some("50000"), Some(0), Some(1)),
        "{after}"
    );
    let ys = m.stall_credits(y, "", &m.app.admin).await;
    assert_eq!(ys["total"], 0, "given to X, it is not Y's too: {ys}");
}

#[tokio::test]
async fn an_unmatched_credit_is_assigned_with_just_a_stall() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let lost = m
        .pay(&credit("U1", "70000", NOWHERE, "PHAM DUC LONG ck"))
        .await;
    let assign = format!("/api/v1/credits/{}/assign", lost["credit_id"]);
    // The note is optional.
    let reply = m
        .app
        .post_json(&assign, Some(&m.app.admin), &json!({ "stall_id": stall }))
        .await;
    assert_eq!(
        reply.expect(StatusCode::OK).json()["assigned_stall_id"],
        stall
    );
}

#[tokio::test]
async fn a_stall_lists_its_own_and_its_assigned_credits_newest_first_page_by_page() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let other = m.stall("A02", "1098765432").await;
    // Oldest first: own, someone else's, assigned (arrives unmatched), own, own.
    let mut ids = Vec::new();
    for (txn, account) in [
        ("S1", "1012345678"),
        ("S2", "1098765432"),
        ("S3", NOWHERE),
        ("S4", "1012345678"),
        ("S5", "1012345678"),
    ] {
        let answer = m.pay(&credit(txn, "20000", account, "ck tien hang")).await;
        ids.push(answer["credit_id"].as_i64().unwrap());
    }
    m.app
        .post_json(
            &format!("/api/v1/credits/{}/assign", ids[2]),
            Some(&m.app.admin),
            &json!({ "stall_id": stall }),
        )
        .await
        .expect(StatusCode::OK);
    let vendor = m.app.token("vendor", None, None, Some(stall)).await;
    let page = |query: &'static str| m.stall_credits(stall, query, &vendor);
    let listed = |list: &Value| -> Vec<i64> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    };
    let (first, second) = (page("?per_page=2").await, page("?per_page=2&page=2").await);
    assert_eq!(listed(&first), [ids[4], ids[3]], "{first}");
    assert_eq!(listed(&second), [ids[2], ids[0]], "{second}");
    assert_eq!(
        (first["total"].as_i64(), second["total"].as_i64()),
        (Some(4), Some(4))
    );
    assert_eq!(listed(&page("?per_page=2&page=3").await), Vec::<i64>::new());
    // The assigned credit keeps its outcome: it is the stall's one unmatched credit.
    let unmatched = page("?outcome=unmatched").await;
    assert_eq!(
        (listed(&unmatched), unmatched["total"].as_i64()),
        (vec![ids[2]], Some(1))
    );
    let static_payments = page("?outcome=static_payment&per_page=1&page=3").await;
    assert_eq!(listed(&static_payments), [ids[0]], "{static_payments}");
    assert_eq!(static_payments["total"], 3);
    // The export, oldest first, has the same four.
    let csv = m
        .app
        .get(
            &format!("/api/v1/stalls/{stall}/credits.csv"),
            Some(&vendor),
        )
        .await
        .expect(StatusCode::OK)
        .text();
    let exported: Vec<i64> = csv
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(exported, [ids[0], ids[2], ids[3], ids[4]], "{csv}");
    let theirs = m.stall_credits(other, "", &m.app.admin).await;
    assert_eq!(
        (listed(&theirs), theirs["total"].as_i64()),
        (vec![ids[1]], Some(1))
    );
}

/// The next `credit` event on a server-sent event stream, within `wait`.
async fn next_credit_event(body: &mut Body, buffer: &mut String, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if block.lines().any(|l| l == "event: credit") {
                let data: String = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect::<Vec<_>>()
                    .join("\n");
                return Some(serde_json::from_str(&data).expect("event data is JSON"));
            }
        }
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .ok()??;
        if let Ok(data) = frame.expect("stream frame").into_data() {
            buffer.push_str(std::str::from_utf8(&data).expect("UTF-8 events"));
        }
    }
}

#[tokio::test]
async fn a_vendor_screen_hears_its_own_payments_as_they_land() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let other = m.stall("A02", "1098765432").await;
    let vendor = m.app.token("vendor", None, None, Some(stall)).await;
    let other_vendor = m.app.token("vendor", None, None, Some(other)).await;
    let events = format!("/api/v1/stalls/{stall}/events");

    m.app
        .get(&format!("{events}?access_token={other_vendor}"), None)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    m.app
        .get(&events, None)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    m.app
        .get(&format!("{events}?access_token=cp_nonsense"), None)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");

    let request = Request::get(format!("{events}?access_token={vendor}"))
        .body(Body::empty())
        .unwrap();
    let response = m.app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let mut body = response.into_body();
    let mut buffer = String::new();

    // Another stall's payment first: it must not show on this screen.
    m.pay(&credit("OTHER-1", "30000", "1098765432", "chuyen tien"))
        .await;
    let order = m.order(stall, "50000").await;
    let answer = m
        .pay(&credit(
            "OWN-1",
            "50000",
            "1012345678",
            &bank_description(order["reference"].as_str().unwrap()),
        ))
        .await;
    let event = next_credit_event(&mut body, &mut buffer, Duration::from_secs(1))
        .await
        .expect("a credit event within a second");
    assert_eq!(event["stall_id"], stall, "{event}");
    assert_eq!(event["credit_id"], answer["credit_id"]);
    assert_eq!(event["announcement"], "Đã nhận 50.000đ");
    assert_eq!(event["amount"], "50000");
    assert_eq!(event["amount_text"], "50.000đ");
    assert_eq!(event["outcome"], "order_paid");
    assert_eq!(event["order_id"], order["id"]);
    assert_eq!(event["reference"], order["reference"]);
    assert_eq!(event["order_status"], "paid");
    assert_eq!(event["today"]["count"], 1);
    assert_eq!(event["today"]["total"], "50000");

    let poster = m
        .pay(&credit("OWN-2", "20000", "1012345678", "chuyen tien"))
        .await;
    let event = next_credit_event(&mut body, &mut buffer, Duration::from_secs(1))
        .await
        .expect("a second credit event");
    assert_eq!(event["credit_id"], poster["credit_id"]);
    assert_eq!(event["outcome"], "static_payment");
    assert_eq!(event["announcement"], "Đã nhận 20.000đ");
    assert_eq!(
        (
            event["today"]["count"].as_i64(),
            event["today"]["total"].as_str()
        ),
        (Some(2), Some("70000"))
    );

    // A duplicate is not news.
    m.pay(&credit("OWN-2", "20000", "1012345678", "chuyen tien"))
        .await;
    assert!(
        next_credit_event(&mut body, &mut buffer, Duration::from_millis(300))
            .await
            .is_none(),
        "no event for a duplicate"
    );
}

#[tokio::test]
async fn a_stall_counts_todays_takings_and_a_vendor_token_knows_its_stall() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let other = m.stall("A02", "1098765432").await;
    let vendor = m.app.token("vendor", None, None, Some(stall)).await;
    let today = format!("/api/v1/stalls/{stall}/today");

    let empty = m
        .app
        .get(&today, Some(&vendor))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        (empty["count"].as_i64(), empty["total"].as_str()),
        (Some(0), Some("0")),
        "{empty}"
    );
    let order = m.order(stall, "50000").await;
    m.pay(&credit(
        "T1",
        "50000",
        "1012345678",
        &bank_description(order["reference"].as_str().unwrap()),
    ))
    .await;
    m.pay(&credit("T2", "15000", "1012345678", "chuyen tien"))
        .await;
    m.pay(&credit("T3", "99000", "1098765432", "chuyen tien"))
        .await;
    m.pay(&credit("T4", "99000", NOWHERE, "chuyen tien")).await;
    let figures = m
        .app
        .get(&today, Some(&vendor))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(figures["count"], 2, "{figures}");
    assert_eq!(figures["total"], "65000");
    assert_eq!(figures["total_text"], "65.000đ");
    m.app
        .get(&format!("/api/v1/stalls/{other}/today"), Some(&vendor))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");

    let me = m
        .app
        .get("/api/v1/me", Some(&vendor))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(me["role"], "vendor");
    assert_eq!(me["stall"]["id"], stall);
    assert_eq!(me["stall"]["code"], "A01");
    assert_eq!(me["stall"]["market_slug"], "cho-mo");
    assert_eq!(me["stall"]["linked"], true);
    assert_eq!(me["stall"]["account_masked"], "•••• 5678");
    assert!(!me.to_string().contains("1012345678"), "{me}");
    let admin = m
        .app
        .get("/api/v1/me", Some(&m.app.admin))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        (admin["role"].as_str(), &admin["stall"]),
        (Some("admin"), &Value::Null)
    );
    m.app
        .get("/api/v1/me", None)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn exports_give_boards_amounts_but_never_who_paid() {
    let m = Market::new().await;
    let stall = m.stall("A01", "1012345678").await;
    let order = m.order(stall, "50000").await;
    let payer = "PHAM DUC LONG";
    m.pay(&credit(
        "E1",
        "50000",
        "1012345678",
        &bank_description(order["reference"].as_str().unwrap()),
    ))
    .await;
    m.pay(&credit(
        "E2",
        "15000",
        "1012345678",
        &format!("{payer} chuyen tien"),
    ))
    .await;
    m.pay(&credit("E3", "70000", NOWHERE, &format!("{payer} ck")))
        .await;

    let csv = m
        .app
        .get("/api/v1/markets/cho-mo/credits.csv", Some(&m.app.admin))
        .await;
    csv.expect(StatusCode::OK);
    assert!(
        csv.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(
        lines[0],
        "id,received_at,booked_at,provider_txn_id,amount,outcome,stall_id,assigned_stall_id,order_id,account,note,\
         description,counterparty_name,counterparty_account"
    );
    assert!(lines[1].contains(",E1,50000,order_paid,"), "{}", lines[1]);
    assert!(lines[3].contains(",E3,70000,unmatched,"), "{}", lines[3]);
    assert!(text.contains(payer));

    let board = m.app.token("board", Some("cho-mo"), None, None).await;
    let csv = m
        .app
        .get("/api/v1/markets/cho-mo/credits.csv", Some(&board))
        .await;
    csv.expect(StatusCode::OK);
    let text = csv.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(
        lines[0],
        "id,received_at,booked_at,provider_txn_id,amount,outcome,stall_id,assigned_stall_id,order_id,account,note"
    );
    for secret in [payer, "0987654321", "chuyen tien", "MBVCB"] {
        assert!(
            !text.contains(secret),
            "{secret} in the board's CSV:\n{text}"
        );
    }
    let listing = m
        .app
        .get("/api/v1/markets/cho-mo/credits", Some(&board))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(listing["total"], 3);
    for item in listing["items"].as_array().unwrap() {
        assert_eq!(item["counterparty_name"], Value::Null, "{item}");
        assert_eq!(item["counterparty_account"], Value::Null, "{item}");
        assert_eq!(item["description"], Value::Null, "{item}");
    }
    assert!(!listing.to_string().contains(payer), "{listing}");

    // The stall's own export, for its vendor, has its two credits and who paid.
    let vendor = m.app.token("vendor", None, None, Some(stall)).await;
    let own = m
        .app
        .get(
            &format!("/api/v1/stalls/{stall}/credits.csv"),
            Some(&vendor),
        )
        .await;
    let own = own.expect(StatusCode::OK).text();
    assert_eq!(own.lines().count(), 3, "{own}");
    assert!(own.contains(payer));
    m.app
        .get("/api/v1/markets/cho-mo/credits.csv", Some(&vendor))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn the_books_check_notices_wrong_rollups_and_a_credit_of_no_stall() {
    let market = Market::new().await;
    let stall = market.stall("A01", "1234567890").await;
    market
        .pay(&credit("TXN-BOOKS-1", "50000", "1234567890", "mua rau"))
        .await;
    market
        .pay(&credit("TXN-BOOKS-2", "7000", NOWHERE, "chuyen tien"))
        .await;
    let books = chopay::store::books::check(&market.app.store, None)
        .await
        .unwrap();
    assert!(books.balanced(), "{books:#?}");
    assert_eq!(
        (books.credits.count, books.credits.amount_dong),
        (2, 57_000)
    );
    assert_eq!(
        (books.suspense.count, books.suspense.amount_dong),
        (1, 7_000)
    );

    // One đồng too many in the stall's rollup: the check must say so and name the stall.
    market.app.books_broken_on_purpose();
    let corrupt = "UPDATE credit_days SET amount_dong = amount_dong + 1 WHERE stall_id = $1";
    chopay::dispatch!(&market.app.store, pool => {
        sqlx::query(corrupt).bind(stall).execute(pool).await.unwrap();
    });
    let books = chopay::store::books::check(&market.app.store, None)
        .await
        .unwrap();
    assert!(!books.balanced());
    assert_eq!(books.disagreeing.len(), 1);
    assert_eq!(books.disagreeing[0].0, stall);
    // The market's own rollup follows every change to its stalls' (the database keeps it).
    assert_eq!(books.disagreeing_days, []);

    // A đồng missing from the market's rollup of a day: the check names the market and the day.
    let corrupt = "UPDATE market_days SET static_amount_dong = static_amount_dong - 1 \
         WHERE (market_id, day, shard) IN (SELECT market_id, day, shard FROM market_days LIMIT 1) \
         RETURNING market_id, day";
    let corrupted: (i64, i64) = chopay::dispatch!(&market.app.store, pool => {
        sqlx::query_as(corrupt).fetch_one(pool).await.unwrap()
    });
    let books = chopay::store::books::check(&market.app.store, None)
        .await
        .unwrap();
    assert_eq!(books.disagreeing_days, [corrupted], "{books:#?}");
    assert_eq!(books.orphans, Vec::<i64>::new());

    // A credit naming a stall that does not exist: PostgreSQL's ledger writes without that
    // foreign-key check (migration 0011), so the books check is what would notice. SQLite's pool
    // checks foreign keys, so the corruption turns them off on its connection first.
    let orphan = "UPDATE credits SET stall_id = stall_id + 1000000 \
         WHERE provider_txn_id = 'TXN-BOOKS-1' RETURNING id";
    let orphaned: i64 = match &market.app.store {
        chopay::store::Store::Sqlite(pool) => {
            let mut conn = pool.acquire().await.unwrap();
            sqlx::query("PRAGMA foreign_keys = OFF")
                .execute(&mut *conn)
                .await
                .unwrap();
            let id = sqlx::query_scalar(orphan)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            sqlx::query("PRAGMA foreign_keys = ON")
                .execute(&mut *conn)
                .await
                .unwrap();
            id
        }
        chopay::store::Store::Postgres(pool) => {
            sqlx::query_scalar(orphan).fetch_one(pool).await.unwrap()
        }
    };
    let books = chopay::store::books::check(&market.app.store, None)
        .await
        .unwrap();
    assert!(!books.balanced());
    assert_eq!(books.orphans, [orphaned], "{books:#?}");
}
