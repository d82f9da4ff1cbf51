//! Queries on `orders`: one per dynamic code a vendor issues.

use crate::dispatch;

use super::{Store, StoreError};

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrderRow {
    /// Database id.
    pub id: i64,
    /// The stall that sells.
    pub stall_id: i64,
    /// The stall's market.
    pub market_id: i64,
    /// The reference the shopper's transfer carries.
    pub reference: String,
    /// Amount asked, whole đồng.
    pub amount_dong: i64,
    /// The vendor's note.
    pub note: Option<String>,
    /// `pending`, `paid`, `underpaid`, `overpaid`, `expired` or `cancelled`, as last written.
    pub status: String,
    /// Sum of the credits received for it, whole đồng.
    pub paid_dong: i64,
    /// The BIN the code pays.
    pub payee_bin: String,
    /// The account the code pays.
    pub payee_account: String,
    /// The VietQR payload.
    pub payload: String,
    /// The client's idempotency key, if it sent one.
    pub idempotency_key: Option<String>,
    /// Digest of the request that created it (to tell a retry from a different request).
    pub request_sha256: Option<String>,
    /// When it was created.
    pub created_at_ms: i64,
    /// When its code stops being valid.
    pub expires_at_ms: i64,
    /// When it last changed.
    pub updated_at_ms: i64,
}

macro_rules! columns {
    () => {
        "id, stall_id, market_id, reference, amount_dong, note, status, paid_dong, payee_bin, payee_account, \
         payload, idempotency_key, request_sha256, created_at_ms, expires_at_ms, updated_at_ms"
    };
}
pub(crate) use columns;

/// An order to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder<'a> {
    /// Stall.
    pub stall_id: i64,
    /// Market.
    pub market_id: i64,
    /// Reference.
    pub reference: &'a str,
    /// Amount.
    pub amount_dong: i64,
    /// Note.
    pub note: Option<&'a str>,
    /// Payee BIN.
    pub payee_bin: &'a str,
    /// Payee account.
    pub payee_account: &'a str,
    /// Payload.
    pub payload: &'a str,
    /// Idempotency key.
    pub idempotency_key: Option<&'a str>,
    /// Request digest.
    pub request_sha256: Option<&'a str>,
    /// Creation time.
    pub created_at_ms: i64,
    /// Expiry time.
    pub expires_at_ms: i64,
}

/// Creates a pending order; [`StoreError::Duplicate`] when its reference or its stall's
/// idempotency key is taken.
pub async fn insert(store: &Store, order: &NewOrder<'_>) -> Result<OrderRow, StoreError> {
    const SQL: &str = concat!(
        "INSERT INTO orders (stall_id, market_id, reference, amount_dong, note, status, paid_dong, payee_bin, ",
        "payee_account, payload, idempotency_key, request_sha256, created_at_ms, expires_at_ms, updated_at_ms) ",
        "VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $8, $9, $10, $11, $12, $11) RETURNING ",
        columns!()
    );
    dispatch!(store, pool => sqlx::query_as::<_, OrderRow>(SQL)
        .bind(order.stall_id)
        .bind(order.market_id)
        .bind(order.reference)
        .bind(order.amount_dong)
        .bind(order.note)
        .bind(order.payee_bin)
        .bind(order.payee_account)
        .bind(order.payload)
        .bind(order.idempotency_key)
        .bind(order.request_sha256)
        .bind(order.created_at_ms)
        .bind(order.expires_at_ms)
        .fetch_one(pool)
        .await)
    .map_err(|e| StoreError::or_duplicate(e, "an order with this reference or idempotency key"))
}

/// The order with this id.
pub async fn by_id(store: &Store, id: i64) -> Result<Option<OrderRow>, StoreError> {
    const SQL: &str = concat!("SELECT ", columns!(), " FROM orders WHERE id = $1");
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, OrderRow>(SQL).bind(id).fetch_optional(pool).await)?,
    )
}

/// The stall's order created with this idempotency key.
pub async fn by_idempotency_key(
    store: &Store,
    stall_id: i64,
    key: &str,
) -> Result<Option<OrderRow>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM orders WHERE stall_id = $1 AND idempotency_key = $2"
    );
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, OrderRow>(SQL).bind(stall_id).bind(key).fetch_optional(pool).await)?,
    )
}

/// Cancels a pending order; `None` when it is not pending (any more).
pub async fn cancel(store: &Store, id: i64, now_ms: i64) -> Result<Option<OrderRow>, StoreError> {
    const SQL: &str = concat!(
        "UPDATE orders SET status = 'cancelled', updated_at_ms = $2 WHERE id = $1 AND status = 'pending' ",
        "AND paid_dong = 0 RETURNING ",
        columns!()
    );
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, OrderRow>(SQL).bind(id).bind(now_ms).fetch_optional(pool).await)?,
    )
}
