//! SePay (WEBHOOKS.md § SePay). Two ways to authenticate, chosen by the delivery:
//! - when an `X-SePay-Signature` header is present, the HMAC mode (see [`hmac_mode`]: its exact
//!   form is unconfirmed, so it lives in one place); it must verify, there is no fallback;
//! - otherwise the documented `Authorization: Apikey <key>` (scheme case-insensitive), compared
//!   in constant time.
//!
//! Body: `id` (the transaction id), `gateway`, `transactionDate` (Vietnam time), `accountNumber`,
//! `subAccount` (→ virtual account), `code` (→ payment code), `content` (→ description; falls back
//! to `description`), `transferType` (`out` is ignored; anything but `in`/`out` is unusable),
//! `transferAmount`, `accumulated`, `referenceCode`. SePay sends no counterparty.

use super::canonical::{self, Node};
use super::fields::{self, VIETNAM_OFFSET_S};
use super::{
    BankCredit, Clock, Delivery, Forgery, Secret, Verified, WebhookError, forged, sig, unusable,
};

/// SePay's HMAC mode as public integrations implement it; unconfirmed by SePay's own
/// documentation, so every detail of it is here, to adjust in one place.
pub(super) mod hmac_mode {
    /// Header with the signature(s): `sha256=<hex>`, several separated by `,` or spaces.
    pub(crate) const SIGNATURE_HEADER: &str = "x-sepay-signature";
    /// Header with the signing time, Unix seconds.
    pub(crate) const TIMESTAMP_HEADER: &str = "x-sepay-timestamp";
    /// Prefix of each signature.
    pub(crate) const SIGNATURE_PREFIX: &str = "sha256=";

    /// The signed message: `<timestamp>.<raw body>` (HMAC-SHA256, hex).
    pub(crate) fn signed_parts<'a>(timestamp: &'a str, body: &'a [u8]) -> [&'a [u8]; 3] {
        [timestamp.as_bytes(), b".", body]
    }
}

/// The API key header.
const AUTHORIZATION_HEADER: &str = "authorization";

/// Authenticates the delivery (HMAC mode or API key), then reads the credit.
pub(super) fn verify(
    secrets: &[Secret],
    delivery: &Delivery<'_>,
    clock: Clock,
) -> Result<Verified, WebhookError> {
    match sig::header(delivery.headers, hmac_mode::SIGNATURE_HEADER)? {
        Some(signatures) => verify_hmac(secrets, delivery, signatures, clock)?,
        None => verify_api_key(secrets, delivery)?,
    }
    read(delivery.body).map_err(unusable)
}

fn verify_hmac(
    secrets: &[Secret],
    delivery: &Delivery<'_>,
    header: &str,
    clock: Clock,
) -> Result<(), WebhookError> {
    let timestamp = sig::required_header(delivery.headers, hmac_mode::TIMESTAMP_HEADER)?;
    let sent_s = sig::parse_unix(timestamp).ok_or_else(|| {
        forged(
            Forgery::MalformedTimestamp,
            "X-SePay-Timestamp is not a number of seconds",
        )
    })?;
    let entries: Vec<&str> = header
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|entry| !entry.is_empty())
        .collect();
    sig::check_signature_count(entries.len())?;
    let signatures: Vec<Vec<u8>> = entries
        .iter()
        .filter_map(|entry| entry.strip_prefix(hmac_mode::SIGNATURE_PREFIX))
        .filter_map(sig::decode_hex)
        .collect();
    if signatures.is_empty() {
        return Err(forged(
            Forgery::MissingSignature,
            "no sha256= signature in X-SePay-Signature",
        ));
    }
    sig::check_age_s(sent_s, clock)?;
    let parts = hmac_mode::signed_parts(timestamp, delivery.body);
    let expected: Vec<Vec<u8>> = secrets
        .iter()
        .filter_map(|secret| sig::hmac_sha256(secret.expose().as_bytes(), &parts))
        .collect();
    if !sig::any_match(&expected, &signatures) {
        return Err(forged(Forgery::BadSignature, "no signature matches"));
    }
    Ok(())
}

fn verify_api_key(secrets: &[Secret], delivery: &Delivery<'_>) -> Result<(), WebhookError> {
    let value = sig::header(delivery.headers, AUTHORIZATION_HEADER)?.ok_or_else(|| {
        forged(
            Forgery::MissingHeader,
            "no Authorization: Apikey header (and no X-SePay-Signature)",
        )
    })?;
    let (scheme, key) = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .ok_or_else(|| {
            forged(
                Forgery::MalformedHeader,
                "Authorization is not of the form 'Apikey <key>'",
            )
        })?;
    if !scheme.eq_ignore_ascii_case("apikey") {
        return Err(forged(
            Forgery::MalformedHeader,
            "Authorization does not use the Apikey scheme",
        ));
    }
    let key = key.trim();
    // Every configured secret is compared, so timing does not tell which one matched.
    let matched = secrets.iter().fold(false, |found, secret| {
        sig::same_secret(key, secret.expose()) | found
    });
    if !matched {
        return Err(forged(Forgery::BadSignature, "the API key does not match"));
    }
    Ok(())
}

/// The credit in an authentic body.
fn read(body: &[u8]) -> Result<Verified, String> {
    let text = std::str::from_utf8(body).map_err(|_| "body is not UTF-8 JSON".to_owned())?;
    let data = match canonical::parse(text) {
        Ok(Node::Object(data)) => data,
        Ok(_) => return Err("body is not a JSON object".into()),
        Err(e) => return Err(format!("body is not JSON: {e}")),
    };
    match fields::optional_text(&data, "transferType")?.as_deref() {
        Some("in") => {}
        Some("out") => return Ok(Verified::Ignored("outgoing transfer".into())),
        Some(other) => {
            return Err(format!(
                "transferType {} is neither in nor out",
                fields::truncate_chars(other, 20)
            ));
        }
        None => return Err("no transferType".into()),
    }
    let provider_txn_id = fields::txn_id(&data, "id")?;
    let amount = fields::vnd(
        "transferAmount",
        fields::signed_amount(&data, "transferAmount")?,
    )?;
    let booked_at_ms = fields::optional_text(&data, "transactionDate")?
        .and_then(|text| fields::datetime_ms(&text, Some(VIETNAM_OFFSET_S)));
    Ok(Verified::Credit(BankCredit {
        provider_txn_id,
        amount,
        account: fields::optional_text(&data, "accountNumber")?,
        bin: None,
        virtual_account: fields::optional_text(&data, "subAccount")?,
        description: fields::description(&data, &["content", "description"])?.unwrap_or_default(),
        counterparty_name: None,
        counterparty_account: None,
        counterparty_bank: None,
        booked_at_ms,
        payment_code: fields::optional_text(&data, "code")?,
    }))
}
