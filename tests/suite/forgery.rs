//! Forgery and replay at `POST /webhooks/{provider}/{channel}`, table-driven over every provider
//! (chopay, payOS, Casso, SePay in its HMAC and API-key modes) on a real app: tampered and
//! re-serialized bodies, truncated and doubled signatures, another channel's secret, stale,
//! far-future and non-numeric timestamps, a payOS `data` with an extra field, missing
//! signatures, bodies over 64 KiB (with a length and as an endless chunked stream). Each is
//! refused with the status the provider gets, counted in `/metrics` by provider and reason, and
//! changes nothing in the ledger. Authentic deliveries that carry stall X's order reference into
//! stall Y's account (or an account no stall has) are quarantined as unmatched, for review, and
//! never pay X's order.
//!
//! The deliveries are signed here with `hmac` directly from WEBHOOKS.md, not with chopay's signer.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::{Sha256, Sha512};

use crate::api::payments::{Market, NOWHERE, bank_description, now_s};
use crate::app::{Reply, assert_books_balance};

/// A way of authenticating deliveries: a provider, and for SePay one of its two modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Chopay,
    PayOs,
    Casso,
    SepayHmac,
    SepayKey,
}

const SCHEMES: [Scheme; 5] = [
    Scheme::Chopay,
    Scheme::PayOs,
    Scheme::Casso,
    Scheme::SepayHmac,
    Scheme::SepayKey,
];

impl Scheme {
    fn provider(self) -> &'static str {
        match self {
            Self::Chopay => "chopay",
            Self::PayOs => "payos",
            Self::Casso => "casso",
            Self::SepayHmac | Self::SepayKey => "sepay",
        }
    }

    /// Whether a signed timestamp travels with the delivery.
    fn has_timestamp(self) -> bool {
        matches!(self, Self::Chopay | Self::Casso | Self::SepayHmac)
    }

    /// Whether the exact body bytes are signed (a re-serialized body must fail).
    fn signs_raw_body(self) -> bool {
        matches!(self, Self::Chopay | Self::SepayHmac)
    }

    /// The header that carries the signature (payOS carries it in the body).
    fn signature_header(self) -> Option<&'static str> {
        match self {
            Self::Chopay => Some("webhook-signature"),
            Self::PayOs => None,
            Self::Casso => Some("x-casso-signature"),
            Self::SepayHmac => Some("x-sepay-signature"),
            Self::SepayKey => Some("authorization"),
        }
    }

    /// A credit of `amount` đồng to `account` with this description, in the provider's shape.
    fn credit(self, txn: &str, amount: i64, account: &str, description: &str) -> Value {
        match self {
            Self::Chopay => json!({
                "transaction_id": txn, "amount": amount.to_string(), "account_number": account,
                "bin": "970436", "description": description, "counterparty_name": "PHAM DUC LONG",
            }),
            Self::PayOs => json!({
                "code": "00", "desc": "success", "success": true,
                "data": {
                    "orderCode": 123_456, "amount": amount, "description": description,
                    "accountNumber": account, "reference": txn, "currency": "VND",
                    "transactionDateTime": "2026-11-23 10:15:00", "paymentLinkId": "pl_1",
                    "code": "00", "desc": "success",
                },
            }),
            Self::Casso => json!({
                "error": 0,
                "data": {
                    "id": txn, "amount": amount, "description": description,
                    "accountNumber": account, "transactionDateTime": "2026-11-23 10:15:00",
                },
            }),
            Self::SepayHmac | Self::SepayKey => json!({
                "id": txn, "gateway": "Vietcombank", "transactionDate": "2026-11-23 10:15:00",
                "accountNumber": account, "content": description, "transferType": "in",
                "transferAmount": amount,
            }),
        }
    }

    /// Now, in the unit this scheme's timestamp uses (Casso: milliseconds).
    fn now(self) -> i64 {
        match self {
            Self::Casso => chopay::store::now_ms(),
            _ => now_s(),
        }
    }

    /// Seconds in this scheme's timestamp unit.
    fn per_second(self) -> i64 {
        if self == Self::Casso { 1000 } else { 1 }
    }
}

/// A delivery as it goes on the wire.
#[derive(Debug, Clone)]
struct Sent {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Sent {
    fn header_mut(&mut self, name: &str) -> &mut String {
        &mut self
            .headers
            .iter_mut()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .1
    }

    fn without_header(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| n != name);
        self
    }
}

fn hmac_bytes<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = <M as KeyInit>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// payOS's signed string: `data`'s keys sorted, `key=value` joined by `&`.
fn payos_query(data: &Value) -> String {
    let sorted: BTreeMap<&String, &Value> = data.as_object().unwrap().iter().collect();
    sorted
        .into_iter()
        .map(|(key, value)| match value {
            Value::String(text) => format!("{key}={text}"),
            Value::Null => format!("{key}="),
            other => format!("{key}={other}"),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Signs `body` for `scheme` with `secret`, with `timestamp` written as given (it may be garbage).
fn sign(scheme: Scheme, secret: &str, body: &Value, timestamp: &str) -> Sent {
    let json = ("content-type".to_owned(), "application/json".to_owned());
    match scheme {
        Scheme::Chopay => {
            let bytes = body.to_string().into_bytes();
            let key = STANDARD
                .decode(secret.strip_prefix("whsec_").unwrap())
                .unwrap();
            let id = "msg_forgery";
            let message = [id.as_bytes(), b".", timestamp.as_bytes(), b".", &bytes].concat();
            let signature = STANDARD.encode(hmac_bytes::<Hmac<Sha256>>(&key, &message));
            Sent {
                headers: vec![
                    json,
                    ("webhook-id".into(), id.into()),
                    ("webhook-timestamp".into(), timestamp.into()),
                    ("webhook-signature".into(), format!("v1,{signature}")),
                ],
                body: bytes,
            }
        }
        Scheme::PayOs => {
            let query = payos_query(&body["data"]);
            let mut signed = body.clone();
            signed["signature"] = json!(hex::encode(hmac_bytes::<Hmac<Sha256>>(
                secret.as_bytes(),
                query.as_bytes()
            )));
            Sent {
                headers: vec![json],
                body: signed.to_string().into_bytes(),
            }
        }
        Scheme::Casso => {
            // serde_json keeps object keys sorted and writes compact, non-ASCII raw: the
            // canonical form Casso signs.
            let canonical = body.to_string();
            let message = format!("{timestamp}.{canonical}");
            let signature = hex::encode(hmac_bytes::<Hmac<Sha512>>(
                secret.as_bytes(),
                message.as_bytes(),
            ));
            Sent {
                headers: vec![
                    json,
                    (
                        "x-casso-signature".into(),
                        format!("t={timestamp},v1={signature}"),
                    ),
                ],
                body: canonical.into_bytes(),
            }
        }
        Scheme::SepayHmac => {
            let bytes = body.to_string().into_bytes();
            let message = [timestamp.as_bytes(), b".", &bytes].concat();
            let signature = hex::encode(hmac_bytes::<Hmac<Sha256>>(secret.as_bytes(), &message));
            Sent {
                headers: vec![
                    json,
                    ("x-sepay-signature".into(), format!("sha256={signature}")),
                    ("x-sepay-timestamp".into(), timestamp.into()),
                ],
                body: bytes,
            }
        }
        Scheme::SepayKey => Sent {
            headers: vec![json, ("authorization".into(), format!("Apikey {secret}"))],
            body: body.to_string().into_bytes(),
        },
    }
}

/// A forgery: what it is, the delivery, and the reason `/metrics` must count it under.
struct Case {
    what: String,
    sent: Sent,
    reason: &'static str,
}

/// Two channels per provider on one market: the one deliveries go to, and another whose secret
/// must not open the first.
struct Channels {
    market: Market,
    /// (channel id, secret) per scheme; both SePay schemes share one channel.
    own: Vec<(Scheme, i64, String)>,
    other: Vec<(Scheme, String)>,
}

/// A secret for a provider that issues its own (payOS, Casso) or for SePay, made up per test.
fn issued_secret(provider: &str, n: u8) -> Option<String> {
    match provider {
        "chopay" => None,
        _ => Some(format!("{provider}-checksum-key-{n}-0123456789abcdef")),
    }
}

impl Channels {
    async fn new() -> Self {
        let market = Market::new().await;
        let mut own = Vec::new();
        let mut other = Vec::new();
        let mut made: BTreeMap<&str, ((i64, String), String)> = BTreeMap::new();
        for provider in ["chopay", "payos", "casso", "sepay"] {
            let first = create_channel(&market, provider, issued_secret(provider, 1)).await;
            let (_, second) = create_channel(&market, provider, issued_secret(provider, 2)).await;
            made.insert(provider, (first, second));
        }
        for scheme in SCHEMES {
            let ((id, secret), second) = made[&scheme.provider()].clone();
            own.push((scheme, id, secret));
            other.push((scheme, second));
        }
        Self { market, own, other }
    }

    fn channel(&self, scheme: Scheme) -> (i64, &str) {
        let (_, id, secret) = self.own.iter().find(|(s, ..)| *s == scheme).unwrap();
        (*id, secret)
    }

    fn other_secret(&self, scheme: Scheme) -> &str {
        &self.other.iter().find(|(s, _)| *s == scheme).unwrap().1
    }

    async fn send(&self, scheme: Scheme, sent: &Sent) -> Reply {
        self.send_body(scheme, &sent.headers, sent.body.clone().into())
            .await
    }

    async fn send_body(&self, scheme: Scheme, headers: &[(String, String)], body: Body) -> Reply {
        let (id, _) = self.channel(scheme);
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        self.market
            .app
            .post_raw(
                &format!("/webhooks/{}/{id}", scheme.provider()),
                &headers,
                body,
            )
            .await
    }
}

async fn create_channel(m: &Market, provider: &str, secret: Option<String>) -> (i64, String) {
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

/// Every forgery that applies to `scheme`, aimed at its channel, each with a fresh transaction id
/// (so one wrongly accepted would show as a new credit).
fn forgeries(channels: &Channels, scheme: Scheme, order_reference: &str) -> Vec<Case> {
    let (_, secret) = channels.channel(scheme);
    let now = scheme.now();
    let mut n = 0;
    let mut body = |amount: i64| {
        n += 1;
        scheme.credit(
            &format!("FORGED-{}-{n}", scheme.provider()),
            amount,
            "1012345678",
            &bank_description(order_reference),
        )
    };
    let at = |t: i64| t.to_string();
    let mut cases = Vec::new();
    let mut case = |what: &str, sent: Sent, reason: &'static str| {
        cases.push(Case {
            what: format!("{scheme:?}: {what}"),
            sent,
            reason,
        });
    };

    if scheme != Scheme::SepayKey {
        // An API key authenticates the sender, not the body: tampering is only caught by MACs.
        let mut tampered = sign(scheme, secret, &body(50_000), &at(now));
        let text = String::from_utf8(tampered.body.clone()).unwrap();
        assert!(text.contains("50000"));
        tampered.body = text.replacen("50000", "5000000", 1).into_bytes();
        case("body changed after signing", tampered, "bad_signature");
    }
    case(
        "signed with another channel's secret",
        sign(
            scheme,
            channels.other_secret(scheme),
            &body(50_000),
            &at(now),
        ),
        "bad_signature",
    );
    if scheme.signs_raw_body() {
        let original = body(50_000);
        let mut reserialized = sign(scheme, secret, &original, &at(now));
        reserialized.body = serde_json::to_vec_pretty(&original).unwrap();
        case(
            "re-serialized body under the original signature",
            reserialized,
            "bad_signature",
        );
    }

    // Truncated and doubled signatures.
    let mut truncated = sign(scheme, secret, &body(50_000), &at(now));
    let doubled = sign(scheme, secret, &body(50_000), &at(now));
    match scheme.signature_header() {
        Some(name) => {
            let value = truncated.header_mut(name);
            let keep = value.len() - 16;
            value.truncate(keep);
            let mut doubled = doubled;
            let value = doubled.header_mut(name).clone();
            doubled.headers.push((name.to_owned(), value));
            // Still decodes (hex, or base64 of 28 characters), but to a shorter MAC.
            case("truncated signature", truncated, "bad_signature");
            case("signature header sent twice", doubled, "repeated_header");
        }
        None => {
            let mut value: Value = serde_json::from_slice(&truncated.body).unwrap();
            let signature = value["signature"].as_str().unwrap().to_owned();
            value["signature"] = json!(&signature[..48]);
            truncated.body = value.to_string().into_bytes();
            case("truncated signature", truncated, "malformed_signature");
            let mut doubled = doubled;
            let mut value: Value = serde_json::from_slice(&doubled.body).unwrap();
            value["signature"] = json!(format!("{signature}{signature}"));
            doubled.body = value.to_string().into_bytes();
            case("signature written twice", doubled, "malformed_signature");
        }
    }

    if scheme.has_timestamp() {
        let second = scheme.per_second();
        case(
            "replayed 400 s after it was signed (tolerance 300 s)",
            sign(scheme, secret, &body(50_000), &at(now - 400 * second)),
            "stale_timestamp",
        );
        case(
            "signed a day ago",
            sign(scheme, secret, &body(50_000), &at(now - 86_400 * second)),
            "stale_timestamp",
        );
        case(
            "timestamp ten years in the future",
            sign(
                scheme,
                secret,
                &body(50_000),
                &at(now + 10 * 365 * 86_400 * second),
            ),
            "future_timestamp",
        );
        for garbage in ["yesterday", "-60", "1.7e9", "0x6553F100", ""] {
            case(
                &format!("timestamp {garbage:?} (signed as written)"),
                sign(scheme, secret, &body(50_000), garbage),
                "malformed_timestamp",
            );
        }
    }

    if scheme == Scheme::PayOs {
        let original = body(50_000);
        let mut extended = sign(scheme, secret, &original, "");
        let mut value: Value = serde_json::from_slice(&extended.body).unwrap();
        value["data"]["counterAccountName"] = json!("KE GIAN");
        extended.body = value.to_string().into_bytes();
        case(
            "data gains a field the signature does not cover",
            extended,
            "bad_signature",
        );
    }

    // No signature at all.
    let unsigned = sign(scheme, secret, &body(50_000), &at(now));
    match scheme {
        Scheme::PayOs => {
            let mut value: Value = serde_json::from_slice(&unsigned.body).unwrap();
            value.as_object_mut().unwrap().remove("signature");
            let mut sent = unsigned;
            sent.body = value.to_string().into_bytes();
            case("no signature field", sent, "missing_signature");
        }
        Scheme::SepayHmac => case(
            "neither signature nor API key",
            unsigned
                .without_header("x-sepay-signature")
                .without_header("x-sepay-timestamp"),
            "missing_header",
        ),
        _ => {
            let name = scheme.signature_header().unwrap();
            case(
                "no signature header",
                unsigned.without_header(name),
                "missing_header",
            );
        }
    }
    cases
}

/// What a forgery must not change: the ledger, X's order, the review list, and the books.
#[derive(Debug, PartialEq, Eq)]
struct Ledger {
    credits: i64,
    order_status: String,
    order_paid: String,
    reviews: usize,
}

async fn ledger(m: &Market, order: &Value) -> Ledger {
    assert_books_balance(&m.app.store).await;
    let now = m.get_order(order).await;
    let reviews = m
        .app
        .get("/api/v1/markets/cho-mo/reviews", Some(&m.app.admin))
        .await
        .expect(StatusCode::OK)
        .json();
    Ledger {
        credits: m.credit_count().await,
        order_status: now["status"].as_str().unwrap().to_owned(),
        order_paid: now["paid_total"].as_str().unwrap().to_owned(),
        reviews: reviews.as_array().unwrap().len(),
    }
}

/// A counter of `/metrics` with these labels (0 when the series does not exist yet).
async fn metric(m: &Market, name: &str, labels: &[(&str, &str)]) -> u64 {
    let text = m
        .app
        .get("/metrics", None)
        .await
        .expect(StatusCode::OK)
        .text();
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

#[tokio::test]
async fn every_forgery_on_every_provider_is_refused_counted_and_changes_nothing() {
    let channels = Channels::new().await;
    let m = &channels.market;
    let x = m.stall("A01", "1012345678").await;
    let order = m.order(x, "50000").await;
    let reference = order["reference"].as_str().unwrap().to_owned();
    let before = ledger(m, &order).await;
    assert_eq!(
        (before.credits, before.order_status.as_str()),
        (0, "pending")
    );

    let mut expected: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    let mut total = 0;
    for scheme in SCHEMES {
        for case in forgeries(&channels, scheme, &reference) {
            let reply = channels.send(scheme, &case.sent).await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{}: {}",
                case.what,
                reply.text()
            );
            let answer = reply.json();
            assert_eq!(
                (answer["success"].as_bool(), answer["code"].as_str()),
                (Some(false), Some("forged")),
                "{}",
                case.what
            );
            let (_, secret) = channels.channel(scheme);
            assert!(!reply.text().contains(secret), "{}", case.what);
            assert_eq!(ledger(m, &order).await, before, "{}", case.what);
            let key = (scheme.provider(), case.reason);
            *expected.entry(key).or_default() += 1;
            total += 1;
            assert_eq!(
                metric(
                    m,
                    "chopay_webhook_rejected_total",
                    &[("provider", key.0), ("reason", key.1)]
                )
                .await,
                expected[&key],
                "{} is counted as {}",
                case.what,
                case.reason
            );
        }
    }
    // 51 forgeries over the five schemes: the README's figure.
    assert_eq!(total, 51, "{expected:?}");
    for provider in ["chopay", "payos", "casso", "sepay"] {
        let refused: u64 = expected
            .iter()
            .filter(|((p, _), _)| *p == provider)
            .map(|(_, n)| n)
            .sum();
        assert_eq!(
            metric(
                m,
                "chopay_webhook_deliveries_total",
                &[("provider", provider), ("result", "forged")]
            )
            .await,
            refused,
            "{provider}"
        );
    }

    // The same deliveries, signed properly, are accepted: the refusals were for the forgery.
    for scheme in SCHEMES {
        let (_, secret) = channels.channel(scheme);
        let body = scheme.credit(
            &format!("REAL-{scheme:?}"),
            10_000,
            "1012345678",
            "tien rau",
        );
        let reply = channels
            .send(
                scheme,
                &sign(scheme, secret, &body, &scheme.now().to_string()),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{scheme:?}: {}", reply.text());
    }
    assert_eq!(m.credit_count().await, 5);
    assert_books_balance(&m.app.store).await;
}

#[tokio::test]
async fn replays_of_recorded_deliveries_record_nothing_new() {
    let channels = Channels::new().await;
    let m = &channels.market;
    m.stall("A01", "1012345678").await;
    for scheme in SCHEMES {
        let (_, secret) = channels.channel(scheme);
        let body = scheme.credit(
            &format!("REPLAY-{scheme:?}"),
            20_000,
            "1012345678",
            "tien ca",
        );
        let sent = sign(scheme, secret, &body, &scheme.now().to_string());
        let first = channels.send(scheme, &sent).await;
        let first = first.expect(StatusCode::OK).json();
        let credits = m.credit_count().await;
        // payOS and SePay's API key sign no time: a replay is stopped by the transaction id.
        // The timestamped schemes would refuse it once it is older than 300 s (above); within
        // the window it is a duplicate too.
        for _ in 0..3 {
            let again = channels.send(scheme, &sent).await;
            let again = again.expect(StatusCode::OK).json();
            assert_eq!(again["duplicate"], true, "{scheme:?}: {again}");
            assert_eq!(again["credit_id"], first["credit_id"], "{scheme:?}");
        }
        assert_eq!(m.credit_count().await, credits, "{scheme:?}");
    }
    assert_eq!(
        metric(
            m,
            "chopay_webhook_deliveries_total",
            &[("result", "duplicate")]
        )
        .await,
        15
    );
    assert_books_balance(&m.app.store).await;
}

#[tokio::test]
async fn authentic_but_unusable_signed_bodies_are_kept_for_review_and_credit_nothing() {
    let channels = Channels::new().await;
    let m = &channels.market;
    for scheme in [Scheme::Chopay, Scheme::SepayHmac, Scheme::SepayKey] {
        let (_, secret) = channels.channel(scheme);
        // Signed over the raw bytes, so authentic; but no amount a ledger could take.
        let mut body = scheme.credit("UNUSABLE-1", 50_000, "1012345678", "x");
        let amount = if scheme == Scheme::Chopay {
            "amount"
        } else {
            "transferAmount"
        };
        body[amount] = json!(50_000.5);
        let reply = channels
            .send(
                scheme,
                &sign(scheme, secret, &body, &scheme.now().to_string()),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{scheme:?}: {}",
            reply.text()
        );
        assert_eq!(reply.json()["code"], "unusable");
    }
    assert_eq!(m.credit_count().await, 0);
    let reviews = m
        .app
        .get("/api/v1/markets/cho-mo/reviews", Some(&m.app.admin))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(reviews.as_array().unwrap().len(), 3, "{reviews}");
    assert_eq!(
        metric(
            m,
            "chopay_webhook_deliveries_total",
            &[("result", "unusable")]
        )
        .await,
        3
    );
}

/// An endless body: 8 KiB of spaces, for ever, with no `Content-Length`.
fn endless_body() -> Body {
    let chunk = Bytes::from(vec![b' '; 8 * 1024]);
    Body::from_stream(futures_util::stream::repeat_with(move || {
        Ok::<_, std::io::Error>(chunk.clone())
    }))
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused_with_413_before_they_are_read_whole() {
    let channels = Channels::new().await;
    let m = &channels.market;
    let mut refused = 0;
    for scheme in SCHEMES {
        let (_, secret) = channels.channel(scheme);
        let description = "x".repeat(65 * 1024);
        let body = scheme.credit("HUGE-1", 50_000, "1012345678", &description);
        let sent = sign(scheme, secret, &body, &scheme.now().to_string());
        assert!(sent.body.len() > 64 * 1024);
        // With a Content-Length over the limit, and as a chunked stream that never ends: the
        // answer comes once 64 KiB have been read, so the body is never buffered whole.
        let with_length = channels.send(scheme, &sent).await;
        with_length.expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        let endless = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            channels.send_body(scheme, &sent.headers, endless_body()),
        )
        .await
        .expect("an endless body is answered, not read for ever");
        endless.expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        refused += 2;
    }
    assert_eq!(m.credit_count().await, 0);
    let counted: u64 = metric(
        m,
        "chopay_webhook_rejected_total",
        &[("reason", "oversized")],
    )
    .await;
    assert_eq!(counted, refused);
}

#[tokio::test]
async fn another_stalls_reference_never_pays_the_order_it_names() {
    let channels = Channels::new().await;
    let m = &channels.market;
    let x = m.stall("A01", "1012345678").await;
    m.stall("A02", "2012345678").await;
    let order = m.order(x, "50000").await;
    let reference = order["reference"].as_str().unwrap().to_owned();
    for scheme in SCHEMES {
        let (_, secret) = channels.channel(scheme);
        // Into stall Y's account, and into an account no stall has: quarantined either way,
        // credited to no stall (Y did not sell this) and never to X's order.
        for (account, note) in [
            ("2012345678", "reference of an order of another account"),
            (NOWHERE, "reference of an order of another account"),
        ] {
            let body = scheme.credit(
                &format!("CROSS-{scheme:?}-{account}"),
                50_000,
                account,
                &bank_description(&reference),
            );
            let reply = channels
                .send(
                    scheme,
                    &sign(scheme, secret, &body, &scheme.now().to_string()),
                )
                .await;
            let answer = reply.expect(StatusCode::OK).json();
            assert_eq!(answer["outcome"], "unmatched", "{scheme:?} into {account}");
            let credit = m.credit(answer["credit_id"].as_i64().unwrap()).await;
            assert_eq!(
                (&credit["stall_id"], &credit["order_id"], &credit["note"]),
                (&Value::Null, &Value::Null, &json!(note)),
                "{scheme:?}: {credit}"
            );
            let now = m.get_order(&order).await;
            assert_eq!(
                (now["status"].as_str(), now["paid_total"].as_str()),
                (Some("pending"), Some("0")),
                "{scheme:?} into {account}: X's order stays unpaid"
            );
            assert_books_balance(&m.app.store).await;
        }
    }
    for (provider, deliveries) in [("chopay", 2), ("payos", 2), ("casso", 2), ("sepay", 4)] {
        assert_eq!(
            metric(
                m,
                "chopay_webhook_credits_total",
                &[("provider", provider), ("outcome", "unmatched")]
            )
            .await,
            deliveries,
            "{provider}"
        );
    }
    let unmatched = m.credits("?outcome=unmatched").await;
    assert_eq!(unmatched["total"], 10, "{unmatched}");
}
