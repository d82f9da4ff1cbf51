//! payOS (WEBHOOKS.md § payOS): the body `{code, desc, success, data, signature}` carries its own
//! signature over a canonical query string of `data`, HMAC-SHA256 with the checksum key.
//!
//! No timestamp is signed: replays are stopped by de-duplication on the transaction id. payOS's
//! SDKs compare with string equality; here the hex is decoded and compared in constant time.
//!
//! Decisions:
//! - The canonical string is rebuilt from the parsed `data`, so re-serialized bodies (other key
//!   order or spacing) verify; numbers keep their written text, nested values are written as
//!   canonical JSON (sorted keys, compact), `null` is empty.
//! - Transaction id: `data.reference`; when that is empty, `paymentLinkId:orderCode`.
//! - Ignored: top-level `success: false` or `code` other than `"00"`, `data.code` other than
//!   `"00"`, and the sample payOS sends when a webhook URL is confirmed (orderCode 123 with
//!   paymentLinkId `124c33293c43417ab7879e14c8d9eb18`, as in payOS's documentation).
//! - `currency`, when present, must be `VND`.

use super::canonical::{self, Node};
use super::fields::{self, Object};
use super::{Delivery, Forgery, Secret, Verified, WebhookError, forged, sig, unusable};

/// The payment link id of payOS's documented sample delivery.
const SAMPLE_PAYMENT_LINK_ID: &str = "124c33293c43417ab7879e14c8d9eb18";

/// Verifies the body's signature, then reads the credit.
pub(super) fn verify(
    secrets: &[Secret],
    delivery: &Delivery<'_>,
) -> Result<Verified, WebhookError> {
    let text = std::str::from_utf8(delivery.body).map_err(|_| {
        forged(
            Forgery::MalformedBody,
            "body is not UTF-8 JSON, so it cannot carry a payOS signature",
        )
    })?;
    let body = match canonical::parse(text) {
        Ok(Node::Object(body)) => body,
        Ok(_) => return Err(forged(Forgery::MalformedBody, "body is not a JSON object")),
        Err(e) => {
            return Err(forged(
                Forgery::MalformedBody,
                format!("body is not JSON ({e}), so it cannot carry a payOS signature"),
            ));
        }
    };
    let Some(Node::Object(data)) = body.get("data") else {
        return Err(forged(Forgery::MalformedBody, "no data object to verify"));
    };
    let Some(Node::Text(signature)) = body.get("signature") else {
        return Err(forged(Forgery::MissingSignature, "no signature"));
    };
    let given = sig::decode_hex(signature)
        .filter(|bytes| bytes.len() == 32)
        .ok_or_else(|| {
            forged(
                Forgery::MalformedSignature,
                "the signature is not 64 hex digits",
            )
        })?;
    let message = canonical_query(data);
    let expected: Vec<Vec<u8>> = secrets
        .iter()
        .filter_map(|secret| sig::hmac_sha256(secret.expose().as_bytes(), &[message.as_bytes()]))
        .collect();
    if !sig::any_match(&expected, &[given]) {
        return Err(forged(
            Forgery::BadSignature,
            "the signature does not match",
        ));
    }
    read(&body, data).map_err(unusable)
}

/// `key=value` pairs of `data`, keys sorted, joined with `&` (WEBHOOKS.md § payOS).
pub(super) fn canonical_query(data: &Object) -> String {
    let mut out = String::new();
    for (index, (key, value)) in data.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        match value {
            Node::Null => {}
            Node::Bool(true) => out.push_str("true"),
            Node::Bool(false) => out.push_str("false"),
            Node::Number(written) => out.push_str(written),
            Node::Text(text) => out.push_str(text),
            Node::Array(_) | Node::Object(_) => canonical::write_json(value, &mut out),
        }
    }
    out
}

/// The credit in an authentic body.
fn read(body: &Object, data: &Object) -> Result<Verified, String> {
    if let Some(Node::Bool(false)) = body.get("success") {
        return Ok(Verified::Ignored(status_text(
            "payOS reports failure",
            body,
        )?));
    }
    if let Some(code) = fields::optional_text(body, "code")?
        && code != "00"
    {
        return Ok(Verified::Ignored(status_text(
            &format!("payOS reports code {code}"),
            body,
        )?));
    }
    if let Some(code) = fields::optional_text(data, "code")?
        && code != "00"
    {
        return Ok(Verified::Ignored(status_text(
            &format!("payOS reports payment code {code}"),
            data,
        )?));
    }
    let order_code = fields::optional_text(data, "orderCode")?;
    let payment_link = fields::optional_text(data, "paymentLinkId")?;
    if order_code.as_deref() == Some("123")
        && payment_link.as_deref() == Some(SAMPLE_PAYMENT_LINK_ID)
    {
        return Ok(Verified::Ignored("payOS test delivery".into()));
    }
    if let Some(currency) = fields::optional_text(data, "currency")?
        && !currency.eq_ignore_ascii_case("VND")
    {
        return Err(format!("currency {currency} is not VND"));
    }
    let provider_txn_id = match (
        fields::optional_text(data, "reference")?,
        payment_link,
        order_code,
    ) {
        (Some(reference), _, _) => fields::txn_id_text("reference", reference)?,
        (None, Some(link), Some(order)) => {
            fields::txn_id_text("paymentLinkId", format!("{link}:{order}"))?
        }
        _ => return Err("no transaction id (reference, or paymentLinkId and orderCode)".into()),
    };
    let amount = fields::vnd("amount", fields::signed_amount(data, "amount")?)?;
    fields::account_watch_credit(data, provider_txn_id, amount).map(Verified::Credit)
}

/// `prefix`, with payOS's `desc` when there is one.
fn status_text(prefix: &str, object: &Object) -> Result<String, String> {
    Ok(match fields::optional_text(object, "desc")? {
        Some(desc) => format!("{prefix}: {}", fields::truncate_chars(&desc, 200)),
        None => prefix.to_owned(),
    })
}
