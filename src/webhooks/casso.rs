//! Casso webhook v2 (WEBHOOKS.md § Casso): `X-Casso-Signature: t=<unix ms>,v1=<hex>` where the
//! hex is HMAC-SHA512 of `<t>.` + the whole body as canonical JSON (keys sorted recursively,
//! compact, non-ASCII raw: see [`canonical`](super::canonical)).
//!
//! Decisions:
//! - Several `v1=` entries are accepted (rotation); other keys in the header are ignored; `t`
//!   must appear exactly once, as digits, within the clock's tolerance (it is in milliseconds).
//! - Casso v1's static `secure-token` header is not accepted: no channel is configured for it.
//! - The body is `{"error": 0, "data": {…}}`; `data` may also be an array holding exactly one
//!   transaction (chopay records one credit per delivery: several are unusable). A non-zero
//!   `error` is ignored.
//! - A negative amount is an outgoing transfer: ignored.

use super::canonical::{self, Node};
use super::fields::{self, Object};
use super::{Clock, Delivery, Forgery, Secret, Verified, WebhookError, forged, sig, unusable};

/// The signature header.
const SIGNATURE_HEADER: &str = "x-casso-signature";

/// Verifies the signature and timestamp, then reads the credit.
pub(super) fn verify(
    secrets: &[Secret],
    delivery: &Delivery<'_>,
    clock: Clock,
) -> Result<Verified, WebhookError> {
    let header = sig::required_header(delivery.headers, SIGNATURE_HEADER)?;
    let (timestamp, signatures) = parse_header(header)?;
    let sent_ms = sig::parse_unix(timestamp).ok_or_else(|| {
        forged(
            Forgery::MalformedTimestamp,
            "t in X-Casso-Signature is not a number of milliseconds",
        )
    })?;
    sig::check_age_ms(sent_ms, clock)?;
    let text = std::str::from_utf8(delivery.body).map_err(|_| {
        forged(
            Forgery::MalformedBody,
            "body is not UTF-8 JSON, so it cannot carry a Casso signature",
        )
    })?;
    let body = canonical::parse(text).map_err(|e| {
        forged(
            Forgery::MalformedBody,
            format!("body is not JSON ({e}), so it cannot carry a Casso signature"),
        )
    })?;
    let mut message = String::with_capacity(text.len() + 16);
    message.push_str(timestamp);
    message.push('.');
    canonical::write_json(&body, &mut message);
    let expected: Vec<Vec<u8>> = secrets
        .iter()
        .filter_map(|secret| sig::hmac_sha512(secret.expose().as_bytes(), &[message.as_bytes()]))
        .collect();
    if !sig::any_match(&expected, &signatures) {
        return Err(forged(Forgery::BadSignature, "no signature matches"));
    }
    read(&body).map_err(unusable)
}

/// `t` and the decoded `v1` signatures of the header; entries that are not hex are skipped.
fn parse_header(header: &str) -> Result<(&str, Vec<Vec<u8>>), WebhookError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    let mut count = 0usize;
    for entry in header.split(',') {
        let Some((key, value)) = entry.split_once('=') else {
            continue;
        };
        match key.trim() {
            "t" => {
                if timestamp.is_some() {
                    return Err(forged(
                        Forgery::MalformedTimestamp,
                        "t appears twice in X-Casso-Signature",
                    ));
                }
                timestamp = Some(value.trim());
            }
            "v1" => {
                count += 1;
                sig::check_signature_count(count)?;
                if let Some(bytes) = sig::decode_hex(value.trim()) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp
        .ok_or_else(|| forged(Forgery::MalformedTimestamp, "no t in X-Casso-Signature"))?;
    if signatures.is_empty() {
        return Err(forged(
            Forgery::MissingSignature,
            "no v1 signature in X-Casso-Signature",
        ));
    }
    Ok((timestamp, signatures))
}

/// The credit in an authentic body.
fn read(body: &Node) -> Result<Verified, String> {
    let Node::Object(body) = body else {
        return Err("body is not a JSON object".into());
    };
    if let Some(error) = body.get("error") {
        let ok = matches!(error, Node::Null) || matches!(error, Node::Number(n) if n == "0");
        if !ok {
            let mut shown = String::new();
            canonical::write_json(error, &mut shown);
            return Ok(Verified::Ignored(format!(
                "Casso reports error {}",
                fields::truncate_chars(&shown, 100)
            )));
        }
    }
    let data = match body.get("data") {
        Some(Node::Object(data)) => data,
        Some(Node::Array(items)) => match items.as_slice() {
            [Node::Object(data)] => data,
            [] => return Err("data holds no transaction".into()),
            [_] => return Err("data must hold a transaction object".into()),
            several => {
                return Err(format!(
                    "data holds {} transactions; chopay takes one per delivery",
                    several.len()
                ));
            }
        },
        _ => return Err("no data object".into()),
    };
    credit(data)
}

fn credit(data: &Object) -> Result<Verified, String> {
    let provider_txn_id = fields::txn_id(data, "id")?;
    let signed = fields::signed_amount(data, "amount")?;
    if signed < 0 {
        return Ok(Verified::Ignored("outgoing transfer".into()));
    }
    let amount = fields::vnd("amount", signed)?;
    fields::account_watch_credit(data, provider_txn_id, amount).map(Verified::Credit)
}
