//! Orders: `POST /api/v1/stalls/{id}/orders`, `GET /api/v1/orders/{id}`, `POST …/cancel`; the
//! stall's figures for today; and `GET /api/v1/me`, who a token is (the vendor screen's start).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::credits::amount_text;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, Caller};
use super::{AppState, hide_missing, rfc3339, visible_stall};
use crate::domain::access::Scope;
use crate::domain::day::Day;
use crate::domain::money::Vnd;
use crate::domain::stall::PayeeAccount;
use crate::domain::words;
use crate::qr::{EcLevel, Layout, QrMatrix, svg};
use crate::service::catalog;
use crate::service::orders::{self, OrderRequest};
use crate::store::credits::{self, DayTotal};
use crate::store::now_ms;
use crate::store::orders::OrderRow;

/// An amount as the API shows it: digits, Vietnamese form (`50.000đ`) and words.
pub fn amount_parts(dong: i64) -> (String, String, String) {
    let words = Vnd::from_dong(dong)
        .map(words::in_words)
        .unwrap_or_default();
    (dong.to_string(), amount_text(dong), words)
}

/// An order as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderOut {
    /// Id.
    pub id: i64,
    /// The selling stall.
    pub stall_id: i64,
    /// The reference the transfer carries (VietQR 62.01 and 62.08).
    pub reference: String,
    /// Amount asked, whole đồng as a string.
    pub amount: String,
    /// The amount the Vietnamese way (`50.000đ`).
    pub amount_text: String,
    /// The amount in words (`Năm mươi nghìn đồng`).
    pub amount_words: String,
    /// The vendor's note.
    pub note: Option<String>,
    /// `pending`, `paid`, `underpaid`, `overpaid`, `expired` or `cancelled`.
    pub status: String,
    /// Received so far, whole đồng as a string.
    pub paid_total: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// When the code stops being valid, RFC 3339 UTC.
    pub expires_at: String,
    /// The dynamic VietQR payload.
    pub payload: String,
    /// The code as SVG.
    pub svg: String,
    /// This order's URL.
    pub url: String,
}

/// The API form of an order, with its code drawn as SVG.
pub fn order_out(row: OrderRow) -> OrderOut {
    let (amount, amount_text, amount_words) = amount_parts(row.amount_dong);
    let svg = QrMatrix::encode(row.payload.as_bytes(), EcLevel::M)
        .map(|matrix| svg::render(&matrix, Layout::default()))
        .unwrap_or_default();
    OrderOut {
        status: orders::status_at(&row, now_ms()).as_str().to_owned(),
        url: format!("/api/v1/orders/{}", row.id),
        id: row.id,
        stall_id: row.stall_id,
        reference: row.reference,
        amount,
        amount_text,
        amount_words,
        note: row.note,
        paid_total: row.paid_dong.to_string(),
        created_at: rfc3339(row.created_at_ms),
        expires_at: rfc3339(row.expires_at_ms),
        payload: row.payload,
        svg,
    }
}

/// A new order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    /// Whole đồng: an integer or a string (`"50000"`, `"50.000đ"`); never a float.
    #[schema(value_type = String, example = "50000")]
    pub amount: Vnd,
    /// A note for the vendor (not sent to the bank).
    pub note: Option<String>,
}

/// `Idempotency-Key`, if sent.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    headers
        .get("idempotency-key")
        .map(|value| {
            value
                .to_str()
                .map_err(|_| ApiError::invalid("Idempotency-Key must be printable ASCII"))
        })
        .transpose()
}

/// Issues a dynamic code for a sale: vendor of the stall, or admin.
#[utoipa::path(post, path = "/api/v1/stalls/{id}/orders", tag = "orders", params(("id" = i64, Path, description = "Stall id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Same key and body: the same order back")),
    request_body = NewOrder, security(("bearer" = [])),
    responses((status = 201, body = OrderOut), (status = 200, description = "A retry: the order made before", body = OrderOut),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_order(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewOrder>,
) -> Result<(StatusCode, axum::Json<OrderOut>), ApiError> {
    let (stall, market) = visible_stall(&state, &caller, id).await?;
    if !(caller.is_admin() || caller.scope == Scope::Stall(stall.id)) {
        return Err(ApiError::forbidden(
            "only the stall's vendor or an admin may issue its orders",
        ));
    }
    let request = OrderRequest {
        amount: body.amount,
        note: body.note.as_deref(),
        idempotency_key: idempotency_key(&headers)?,
    };
    let (row, created) = orders::issue(
        &state.store,
        &stall,
        &market,
        &request,
        state.settings.order_expiry,
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(order_out(row))))
}

async fn reachable_order(
    state: &AppState,
    caller: &crate::domain::access::Principal,
    id: i64,
) -> Result<OrderRow, ApiError> {
    let order = orders::order(&state.store, id)
        .await
        .map_err(|e| hide_missing(caller, e))?;
    visible_stall(state, caller, order.stall_id).await?;
    Ok(order)
}

/// An order, with its status and what it has received.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", params(("id" = i64, Path, description = "Order id")),
    security(("bearer" = [])),
    responses((status = 200, body = OrderOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_order(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<OrderOut>, ApiError> {
    let order = reachable_order(&state, &caller, id).await?;
    Ok(axum::Json(order_out(order)))
}

/// Cancels a pending order that has received nothing (vendor of the stall, or admin).
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders", params(("id" = i64, Path, description = "Order id")),
    security(("bearer" = [])),
    responses((status = 200, body = OrderOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_order(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<OrderOut>, ApiError> {
    let order = reachable_order(&state, &caller, id).await?;
    if !(caller.is_admin() || caller.scope == Scope::Stall(order.stall_id)) {
        return Err(ApiError::forbidden(
            "only the stall's vendor or an admin may cancel its orders",
        ));
    }
    let order = orders::cancel(&state.store, &order).await?;
    Ok(axum::Json(order_out(order)))
}

/// A stall's takings for one day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TodayOut {
    /// The Vietnam date, `YYYY-MM-DD`.
    pub date: String,
    /// Credits received.
    pub count: i64,
    /// Their sum, whole đồng as a string.
    pub total: String,
    /// The sum the Vietnamese way.
    pub total_text: String,
}

/// The API form of a day's figures.
pub fn today_out(total: DayTotal) -> TodayOut {
    TodayOut {
        date: total.day.to_string(),
        count: total.credits,
        total: total.amount_dong.to_string(),
        total_text: amount_text(total.amount_dong),
    }
}

/// What the stall has received today (Vietnam time).
#[utoipa::path(get, path = "/api/v1/stalls/{id}/today", tag = "orders", params(("id" = i64, Path, description = "Stall id")),
    security(("bearer" = [])),
    responses((status = 200, body = TodayOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn stall_today(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<TodayOut>, ApiError> {
    let (stall, _) = visible_stall(&state, &caller, id).await?;
    let total = credits::stall_day(&state.store, stall.id, Day::of_ms(now_ms()))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(axum::Json(today_out(total)))
}

/// The stall a vendor token belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyStall {
    /// Stall id.
    pub id: i64,
    /// Stall code.
    pub code: String,
    /// Vendor name.
    pub vendor_name: String,
    /// Market slug.
    pub market_slug: String,
    /// Market name.
    pub market_name: String,
    /// Bank short name, when an account is linked.
    pub bank: Option<String>,
    /// Holder name, when linked.
    pub holder: Option<String>,
    /// The account's last four characters behind dots (`•••• 5678`), when linked.
    pub account_masked: Option<String>,
    /// Whether an account is linked (no account: no codes).
    pub linked: bool,
}

/// Who a token is.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// `admin`, `board` or `vendor`.
    pub role: String,
    /// A vendor's stall.
    pub stall: Option<MyStall>,
}

/// Who the bearer token is: its role and, for a vendor, its stall.
#[utoipa::path(get, path = "/api/v1/me", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<axum::Json<Me>, ApiError> {
    let stall = match caller.scope {
        Scope::Stall(id) => {
            let (stall, market) = catalog::stall(&state.store, id).await?;
            let payee = stall.payee();
            Some(MyStall {
                id: stall.id,
                code: stall.code,
                vendor_name: stall.vendor_name,
                market_slug: market.slug,
                market_name: market.name,
                bank: payee.as_ref().map(|p| p.bank_short_name()),
                holder: payee.as_ref().map(|p| p.holder.clone()),
                account_masked: payee.as_ref().map(PayeeAccount::masked_account),
                linked: payee.is_some(),
            })
        }
        _ => None,
    };
    Ok(axum::Json(Me {
        role: caller.role.as_str().to_owned(),
        stall,
    }))
}
