//! What chopay answers a provider: the status and JSON body each one expects.
//!
//! Statuses: accepted and ignored 200, forged 401, unusable 400, conflict 409, unavailable 503.
//! Bodies:
//! - success, every provider: `{"success": true, "outcome", "duplicate", "credit_id"?}` (SePay
//!   documents `{"success": true}`; payOS's documented response sample is the same; Casso only
//!   needs a 2xx, so it gets the same shape). chopay's own format adds `"code": "accepted"` and a
//!   `"message"`, like its errors.
//! - ignored: `{"success": true, "outcome": "ignored", "duplicate": false, "message": <reason>}`
//!   (+ `"code": "ignored"` for chopay).
//! - errors, every provider: `{"success": false, "code", "message"}` with the codes `forged`,
//!   `unusable`, `conflict`, `unavailable`. A forged delivery learns nothing but that it failed
//!   verification; no body ever echoes a secret.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::Provider;

/// The outcome to report to the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply<'a> {
    /// The credit is recorded (or was already: `duplicate`) with this matching outcome.
    Accepted {
        /// The matching outcome (`matched`, `static`, `unmatched`, …).
        outcome: &'a str,
        /// The recorded credit's id, when there is one.
        credit_id: Option<i64>,
        /// Whether this delivery repeated one already recorded.
        duplicate: bool,
    },
    /// Authentic but nothing to record; the text says why.
    Ignored(&'a str),
    /// Verification failed.
    Forged,
    /// Authentic but unusable; the text says why (kept for review).
    Unusable(&'a str),
    /// The delivery contradicts one already recorded (same id, other content); the text says how.
    Conflict(&'a str),
    /// chopay cannot record it right now; the provider should retry.
    Unavailable,
}

/// The status and body to answer `provider` with.
pub fn reply(provider: Provider, reply: Reply<'_>) -> (StatusCode, Value) {
    let native = provider == Provider::Chopay;
    match reply {
        Reply::Accepted {
            outcome,
            credit_id,
            duplicate,
        } => {
            let mut body = Map::new();
            body.insert("success".into(), Value::Bool(true));
            if native {
                body.insert("code".into(), "accepted".into());
                let message = if duplicate {
                    "already recorded; this is the original outcome"
                } else {
                    "credit recorded"
                };
                body.insert("message".into(), message.into());
            }
            body.insert("outcome".into(), outcome.into());
            body.insert("duplicate".into(), Value::Bool(duplicate));
            if let Some(id) = credit_id {
                body.insert("credit_id".into(), id.into());
            }
            (StatusCode::OK, Value::Object(body))
        }
        Reply::Ignored(reason) => {
            let mut body = Map::new();
            body.insert("success".into(), Value::Bool(true));
            if native {
                body.insert("code".into(), "ignored".into());
            }
            body.insert("message".into(), reason.into());
            body.insert("outcome".into(), "ignored".into());
            body.insert("duplicate".into(), Value::Bool(false));
            (StatusCode::OK, Value::Object(body))
        }
        Reply::Forged => error(
            StatusCode::UNAUTHORIZED,
            "forged",
            "the delivery failed verification",
        ),
        Reply::Unusable(reason) => error(StatusCode::BAD_REQUEST, "unusable", reason),
        Reply::Conflict(reason) => error(StatusCode::CONFLICT, "conflict", reason),
        Reply::Unavailable => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "chopay cannot record deliveries right now; retry later",
        ),
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> (StatusCode, Value) {
    (
        status,
        json!({ "success": false, "code": code, "message": message }),
    )
}
