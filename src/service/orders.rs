//! Orders: a dynamic VietQR per sale, with the amount and a short reference the bank transfer
//! carries back to us.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::domain::money::Vnd;
use crate::domain::order::OrderStatus;
use crate::domain::reference::Reference;
use crate::domain::stall::PayeeAccount;
use crate::domain::text;
use crate::domain::vietqr::{VietQr, VietQrFields};
use crate::store::markets::MarketRow;
use crate::store::orders::{self, NewOrder, OrderRow};
use crate::store::stalls::StallRow;
use crate::store::{Store, StoreError, now_ms};

use super::ServiceError;

/// How long a dynamic code stays valid unless configured otherwise.
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(15 * 60);
/// Longest vendor note.
pub const MAX_NOTE_CHARS: usize = 200;
/// Longest `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;

/// What a vendor asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest<'a> {
    /// The amount.
    pub amount: Vnd,
    /// A note for the vendor's own records (never sent to the bank).
    pub note: Option<&'a str>,
    /// The client's key for safe retries.
    pub idempotency_key: Option<&'a str>,
}

fn request_digest(request: &OrderRequest<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(request.amount.to_dong().to_be_bytes());
    hasher.update([0]);
    hasher.update(request.note.unwrap_or("").as_bytes());
    hex::encode(hasher.finalize())
}

/// The dynamic code of an order: the stall's payee account, the amount, and the reference as bill
/// number (62.01) and purpose (62.08), so whichever field a bank app copies into the transfer
/// description carries it.
pub fn dynamic_code(
    payee: &PayeeAccount,
    amount: Vnd,
    reference: &Reference,
) -> Result<VietQr, ServiceError> {
    VietQr::new(VietQrFields {
        bin: payee.bin.clone(),
        account: payee.account.clone(),
        service: payee.service,
        amount: Some(amount),
        bill_number: Some(reference.as_str().to_owned()),
        purpose: Some(reference.as_str().to_owned()),
        ..VietQrFields::default()
    })
    .map_err(|e| ServiceError::Invalid(e.to_string()))
}

/// Issues an order for a stall. With an idempotency key, a retry of the same request returns the
/// order it made; the same key with another request is refused.
pub async fn issue(
    store: &Store,
    stall: &StallRow,
    market: &MarketRow,
    request: &OrderRequest<'_>,
    expiry: Duration,
) -> Result<(OrderRow, bool), ServiceError> {
    let note = match request.note.map(str::trim) {
        None | Some("") => None,
        Some(note) => Some(
            text::clean(note, "note", MAX_NOTE_CHARS)
                .map_err(|e| ServiceError::Invalid(e.to_string()))?,
        ),
    };
    if let Some(key) = request.idempotency_key
        && (key.is_empty()
            || key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS
            || !key.chars().all(|c| c.is_ascii_graphic()))
    {
        return Err(ServiceError::Invalid(format!(
            "Idempotency-Key must be 1–{MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters"
        )));
    }
    let request = OrderRequest {
        note: note.as_deref(),
        ..request.clone()
    };
    let digest = request_digest(&request);
    if let Some(key) = request.idempotency_key
        && let Some(found) = orders::by_idempotency_key(store, stall.id, key).await?
    {
        return replay(found, &digest);
    }
    let payee = stall.payee().ok_or_else(|| {
        ServiceError::Conflict(format!("stall {} has no linked bank account", stall.code))
    })?;
    let expiry_ms = i64::try_from(expiry.as_millis()).unwrap_or(i64::MAX);
    // A fresh reference collides with an existing one about once in 2^40 tries; try a few.
    for _ in 0..4 {
        let mut random = [0_u8; 5];
        getrandom::fill(&mut random)
            .map_err(|e| ServiceError::Unavailable(format!("no randomness: {e}")))?;
        let reference = Reference::from_random(random);
        let code = dynamic_code(&payee, request.amount, &reference)?;
        let now = now_ms();
        let new = NewOrder {
            stall_id: stall.id,
            market_id: market.id,
            reference: reference.as_str(),
            amount_dong: request.amount.to_dong(),
            note: request.note,
            payee_bin: &payee.bin,
            payee_account: &payee.account,
            payload: &code.payload(),
            idempotency_key: request.idempotency_key,
            request_sha256: Some(&digest),
            created_at_ms: now,
            expires_at_ms: now.saturating_add(expiry_ms),
        };
        match orders::insert(store, &new).await {
            Ok(row) => return Ok((row, true)),
            Err(StoreError::Duplicate(_)) => {
                // A concurrent retry with the same key won the race: answer with its order.
                if let Some(key) = request.idempotency_key
                    && let Some(found) = orders::by_idempotency_key(store, stall.id, key).await?
                {
                    return replay(found, &digest);
                }
            }
            Err(other) => return Err(other.into()),
        }
    }
    Err(ServiceError::Conflict(
        "could not find a free order reference; try again".into(),
    ))
}

fn replay(found: OrderRow, digest: &str) -> Result<(OrderRow, bool), ServiceError> {
    if found.request_sha256.as_deref() == Some(digest) {
        Ok((found, false))
    } else {
        Err(ServiceError::Invalid(
            "this Idempotency-Key was used for a different order (amount or note differ)".into(),
        ))
    }
}

/// The order with this id.
pub async fn order(store: &Store, id: i64) -> Result<OrderRow, ServiceError> {
    orders::by_id(store, id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("order {id}")))
}

/// Cancels a pending order that has received nothing.
pub async fn cancel(store: &Store, order: &OrderRow) -> Result<OrderRow, ServiceError> {
    if status_at(order, now_ms()) == OrderStatus::Cancelled {
        return Ok(order.clone());
    }
    orders::cancel(store, order.id, now_ms())
        .await?
        .ok_or_else(|| {
            ServiceError::Conflict(format!(
                "order {} is {} and can no longer be cancelled",
                order.id,
                status_at(order, now_ms()).as_str()
            ))
        })
}

/// An order's status as of `now_ms`: a pending order past its expiry is expired.
pub fn status_at(order: &OrderRow, now_ms: i64) -> OrderStatus {
    match OrderStatus::parse(&order.status) {
        Some(OrderStatus::Pending) if now_ms > order.expires_at_ms => OrderStatus::Expired,
        Some(status) => status,
        None => OrderStatus::Pending,
    }
}
