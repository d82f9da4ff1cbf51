//! chopay's own format (WEBHOOKS.md § chopay), following the Standard Webhooks specification:
//! headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature` (a
//! space-separated list of `v1,<base64>`; other versions are ignored), signed content
//! `<id>.<timestamp>.<raw body>`, HMAC-SHA256 keyed with the base64-decoded part of the
//! `whsec_…` secret. The raw bytes are signed: a re-serialized body does not verify.
//!
//! Body: `transaction_id` (text or integer, required), `amount` (integer or string of digits,
//! đồng; a JSON float is unusable), `account_number`, `bin` (6 digits), `description` (required,
//! may be empty), `counterparty_name`, `counterparty_account`, `booked_at` (RFC 3339, optional).
//! Unknown fields are ignored.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::canonical::{self, Node};
use super::fields;
use super::{
    BankCredit, Clock, Delivery, Forgery, Secret, Verified, WebhookError, forged, sig, unusable,
};

/// The prefix of a chopay secret.
const SECRET_PREFIX: &str = "whsec_";
/// Header names, as the Standard Webhooks specification spells them.
const ID_HEADER: &str = "webhook-id";
const TIMESTAMP_HEADER: &str = "webhook-timestamp";
const SIGNATURE_HEADER: &str = "webhook-signature";

/// The HMAC key of a `whsec_` secret; the error names the rule.
pub(super) fn signing_key(secret: &str) -> Result<Vec<u8>, String> {
    let rule = "a chopay secret is whsec_ followed by standard base64 of 24 to 64 bytes";
    let encoded = secret
        .strip_prefix(SECRET_PREFIX)
        .ok_or_else(|| format!("{rule}: it does not start with whsec_"))?;
    let key = STANDARD
        .decode(encoded)
        .map_err(|_| format!("{rule}: the part after whsec_ is not standard base64"))?;
    if !(24..=64).contains(&key.len()) {
        return Err(format!("{rule}: it decodes to {} bytes", key.len()));
    }
    Ok(key)
}

/// `whsec_` + standard base64 of `random`.
pub(super) fn secret_from_bytes(random: &[u8; 32]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(random))
}

fn mac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> Option<Vec<u8>> {
    sig::hmac_sha256(
        key,
        &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
    )
}

/// The `webhook-signature` value `v1,<base64>` for a delivery.
pub(super) fn sign(
    secret: &Secret,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, WebhookError> {
    let key = signing_key(secret.expose()).map_err(|e| forged(Forgery::NoSecret, e))?;
    let tag = mac(&key, id, &timestamp.to_string(), body)
        .ok_or_else(|| forged(Forgery::NoSecret, "the secret cannot key HMAC-SHA256"))?;
    Ok(format!("v1,{}", STANDARD.encode(tag)))
}

/// Verifies the headers' signature over the raw body, then reads the credit.
pub(super) fn verify(
    secrets: &[Secret],
    delivery: &Delivery<'_>,
    clock: Clock,
) -> Result<Verified, WebhookError> {
    let id = sig::required_header(delivery.headers, ID_HEADER)?;
    if id.is_empty() {
        return Err(forged(Forgery::MissingHeader, "webhook-id is empty"));
    }
    let timestamp = sig::required_header(delivery.headers, TIMESTAMP_HEADER)?;
    let sent_s = sig::parse_unix(timestamp).ok_or_else(|| {
        forged(
            Forgery::MalformedTimestamp,
            "webhook-timestamp is not a number of seconds",
        )
    })?;
    let header = sig::required_header(delivery.headers, SIGNATURE_HEADER)?;
    let entries: Vec<&str> = header.split_ascii_whitespace().collect();
    sig::check_signature_count(entries.len())?;
    let signatures: Vec<Vec<u8>> = entries
        .iter()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .collect();
    if signatures.is_empty() {
        return Err(forged(
            Forgery::MissingSignature,
            "no v1 signature in webhook-signature",
        ));
    }
    sig::check_age_s(sent_s, clock)?;
    let expected: Vec<Vec<u8>> = secrets
        .iter()
        .filter_map(|secret| signing_key(secret.expose()).ok())
        .filter_map(|key| mac(&key, id, timestamp, delivery.body))
        .collect();
    if expected.is_empty() {
        return Err(forged(
            Forgery::NoSecret,
            "the channel has no valid whsec_ secret",
        ));
    }
    if !sig::any_match(&expected, &signatures) {
        return Err(forged(Forgery::BadSignature, "no signature matches"));
    }
    read(delivery.body).map_err(unusable)
}

/// The credit in an authentic body.
fn read(body: &[u8]) -> Result<Verified, String> {
    let text = std::str::from_utf8(body).map_err(|_| "body is not UTF-8 JSON".to_owned())?;
    let data = match canonical::parse(text) {
        Ok(Node::Object(data)) => data,
        Ok(_) => return Err("body is not a JSON object".into()),
        Err(e) => return Err(format!("body is not JSON: {e}")),
    };
    let provider_txn_id = fields::txn_id(&data, "transaction_id")?;
    let amount = fields::vnd("amount", fields::signed_amount(&data, "amount")?)?;
    let description = fields::description(&data, &["description"])?
        .ok_or_else(|| "no description (send \"\" when the transfer had none)".to_owned())?;
    let bin = fields::optional_text(&data, "bin")?;
    if let Some(bin) = &bin
        && !(bin.len() == 6 && bin.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!(
            "bin {} is not a 6-digit NAPAS BIN",
            fields::truncate_chars(bin, 20)
        ));
    }
    let booked_at_ms = match fields::optional_text(&data, "booked_at")? {
        None => None,
        Some(text) => Some(fields::datetime_ms(&text, None).ok_or_else(|| {
            format!(
                "booked_at {} is not an RFC 3339 time",
                fields::truncate_chars(&text, 40)
            )
        })?),
    };
    Ok(Verified::Credit(BankCredit {
        provider_txn_id,
        amount,
        account: fields::optional_text(&data, "account_number")?,
        bin,
        virtual_account: None,
        description,
        counterparty_name: fields::optional_text(&data, "counterparty_name")?,
        counterparty_account: fields::optional_text(&data, "counterparty_account")?,
        counterparty_bank: None,
        booked_at_ms,
        payment_code: None,
    }))
}
