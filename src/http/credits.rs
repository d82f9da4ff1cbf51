//! The ledger over HTTP (*contract*): `GET /api/v1/markets/{slug}/credits` and
//! `GET /api/v1/stalls/{id}/credits` (paged, `?outcome=` filter), their CSV exports (streamed),
//! daily totals, the review list of kept deliveries, and assigning an unmatched credit to a stall.
//!
//! Boards see amounts, outcomes and stalls, never the payer's name, account or the transfer text.

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use super::{AppState, out_of_reach, place, require_admin, rfc3339, visible_market, visible_stall};
use crate::domain::access::{Principal, Role, Scope};
use crate::domain::day::Day;
use crate::domain::money::Vnd;
use crate::domain::order::Outcome;
use crate::domain::stats::Totals;
use crate::service::{ServiceError, catalog};
use crate::store::credits::{self, CreditRow, CreditScope, DailyRow};
use crate::store::{Page, Store, now_ms};

/// A ledger entry as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditOut {
    /// Ledger id.
    pub id: i64,
    /// The channel it came through.
    pub channel_id: i64,
    /// The provider's transaction id.
    pub provider_txn_id: String,
    /// Whole đồng, as a string.
    pub amount: String,
    /// `order_paid`, `order_underpaid`, `order_overpaid`, `order_late`, `static_payment` or `unmatched`.
    pub outcome: String,
    /// The stall it was matched to.
    pub stall_id: Option<i64>,
    /// The order it paid.
    pub order_id: Option<i64>,
    /// The stall it was given to after review (unmatched credits).
    pub assigned_stall_id: Option<i64>,
    /// Why, when unmatched or odd.
    pub note: Option<String>,
    /// Receiving account.
    pub account: Option<String>,
    /// Transfer description as received (not shown to boards).
    pub description: Option<String>,
    /// Payer name (not shown to boards).
    pub counterparty_name: Option<String>,
    /// Payer account (not shown to boards).
    pub counterparty_account: Option<String>,
    /// When the bank booked it, RFC 3339.
    pub booked_at: Option<String>,
    /// When chopay recorded it, RFC 3339.
    pub received_at: String,
}

/// Whether the caller may see who paid: admins and vendors (their own stall), not boards.
fn sees_payers(caller: &Principal) -> bool {
    caller.role != Role::Board
}

/// The API form of a credit, for this caller.
pub fn credit_out(row: CreditRow, payers: bool) -> CreditOut {
    CreditOut {
        id: row.id,
        channel_id: row.channel_id,
        provider_txn_id: row.provider_txn_id,
        amount: row.amount_dong.to_string(),
        outcome: row.outcome,
        stall_id: row.stall_id,
        order_id: row.order_id,
        assigned_stall_id: row.assigned_stall_id,
        note: row.note,
        account: row.account,
        description: payers.then_some(row.description),
        counterparty_name: row.counterparty_name.filter(|_| payers),
        counterparty_account: row.counterparty_account.filter(|_| payers),
        booked_at: row.booked_at_ms.map(rfc3339),
        received_at: rfc3339(row.received_at_ms),
    }
}

/// A page of credits, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditList {
    /// This page.
    pub items: Vec<CreditOut>,
    /// Page number, from 1.
    pub page: i64,
    /// Page size.
    pub per_page: i64,
    /// Credits in all (with the filter).
    pub total: i64,
}

/// Credit listing parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CreditQuery {
    /// Page number, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1–500.
    pub per_page: Option<i64>,
    /// Only this outcome (e.g. `unmatched`: the review list).
    pub outcome: Option<String>,
}

fn parse_outcome(text: Option<&str>) -> Result<Option<Outcome>, ApiError> {
    text.map(|t| {
        Outcome::parse(t).ok_or_else(|| {
            ApiError::invalid(format!(
                "outcome must be one of order_paid, order_underpaid, order_overpaid, order_late, static_payment, unmatched, not '{}'",
                t.chars().take(40).collect::<String>()
            ))
        })
    })
    .transpose()
}

async fn listing(
    store: &Store,
    caller: &Principal,
    scope: CreditScope,
    query: &CreditQuery,
) -> Result<axum::Json<CreditList>, ApiError> {
    let outcome = parse_outcome(query.outcome.as_deref())?;
    let page = Page::new(query.page, query.per_page);
    let (rows, total) = credits::list(store, scope, outcome, page)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let payers = sees_payers(caller);
    Ok(axum::Json(CreditList {
        items: rows.into_iter().map(|r| credit_out(r, payers)).collect(),
        page: page.number,
        per_page: page.size,
        total,
    }))
}

async fn market_scope(
    state: &AppState,
    caller: &Principal,
    slug: &str,
) -> Result<CreditScope, ApiError> {
    let market = visible_market(state, caller, slug).await?;
    Ok(CreditScope::Market(market.id))
}

async fn stall_scope(
    state: &AppState,
    caller: &Principal,
    id: i64,
) -> Result<CreditScope, ApiError> {
    let (stall, _) = visible_stall(state, caller, id).await?;
    Ok(CreditScope::Stall(stall.id))
}

/// A market's ledger, newest first (admin or the market's board).
#[utoipa::path(get, path = "/api/v1/markets/{slug}/credits", tag = "payments",
    params(("slug" = String, Path, description = "Market slug"), CreditQuery), security(("bearer" = [])),
    responses((status = 200, body = CreditList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn market_credits(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(query): ApiQuery<CreditQuery>,
) -> Result<axum::Json<CreditList>, ApiError> {
    let scope = market_scope(&state, &caller, &slug).await?;
    listing(&state.store, &caller, scope, &query).await
}

/// A stall's credits, matched or assigned to it, newest first.
#[utoipa::path(get, path = "/api/v1/stalls/{id}/credits", tag = "payments",
    params(("id" = i64, Path, description = "Stall id"), CreditQuery), security(("bearer" = [])),
    responses((status = 200, body = CreditList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn stall_credits(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<CreditQuery>,
) -> Result<axum::Json<CreditList>, ApiError> {
    let scope = stall_scope(&state, &caller, id).await?;
    listing(&state.store, &caller, scope, &query).await
}

/// Rows per database read while streaming an export.
const EXPORT_BATCH: i64 = 1000;

fn csv_batch(rows: &[CreditRow], header: bool, payers: bool) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if header {
        let mut columns = vec![
            "id",
            "received_at",
            "booked_at",
            "provider_txn_id",
            "amount",
            "outcome",
            "stall_id",
            "assigned_stall_id",
            "order_id",
            "account",
            "note",
        ];
        if payers {
            columns.extend(["description", "counterparty_name", "counterparty_account"]);
        }
        writer.write_record(&columns)?;
    }
    for row in rows {
        let optional = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let mut record = vec![
            row.id.to_string(),
            rfc3339(row.received_at_ms),
            row.booked_at_ms.map(rfc3339).unwrap_or_default(),
            row.provider_txn_id.clone(),
            row.amount_dong.to_string(),
            row.outcome.clone(),
            optional(row.stall_id),
            optional(row.assigned_stall_id),
            optional(row.order_id),
            row.account.clone().unwrap_or_default(),
            row.note.clone().unwrap_or_default(),
        ];
        if payers {
            record.push(row.description.clone());
            record.push(row.counterparty_name.clone().unwrap_or_default());
            record.push(row.counterparty_account.clone().unwrap_or_default());
        }
        writer.write_record(&record)?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// Streams a scope's whole ledger as CSV, oldest first, a thousand rows per database read.
fn csv_response(store: Store, scope: CreditScope, payers: bool, filename: String) -> Response {
    struct Cursor {
        after: i64,
        header: bool,
        done: bool,
    }
    let start = Cursor {
        after: 0,
        header: true,
        done: false,
    };
    let stream = futures_util::stream::unfold(start, move |cursor| {
        let store = store.clone();
        async move {
            if cursor.done {
                return None;
            }
            let rows = match credits::after(&store, scope, cursor.after, EXPORT_BATCH).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(error = %e, "credit export failed midway");
                    return Some((
                        Err(std::io::Error::other("export failed")),
                        Cursor {
                            done: true,
                            ..cursor
                        },
                    ));
                }
            };
            let last = rows.last().map(|r| r.id);
            let done = i64::try_from(rows.len()).unwrap_or(0) < EXPORT_BATCH;
            if rows.is_empty() && !cursor.header {
                return None;
            }
            let bytes = csv_batch(&rows, cursor.header, payers).map_err(std::io::Error::other);
            Some((
                bytes,
                Cursor {
                    after: last.unwrap_or(cursor.after),
                    header: false,
                    done,
                },
            ))
        }
    });
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// A market's whole ledger as CSV (admin or the market's board).
#[utoipa::path(get, path = "/api/v1/markets/{slug}/credits.csv", tag = "payments",
    params(("slug" = String, Path, description = "Market slug")), security(("bearer" = [])),
    responses((status = 200, description = "CSV, oldest first", content_type = "text/csv"), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn market_credits_csv(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response, ApiError> {
    let scope = market_scope(&state, &caller, &slug).await?;
    Ok(csv_response(
        state.store.clone(),
        scope,
        sees_payers(&caller),
        format!("{slug}-credits.csv"),
    ))
}

/// A stall's credits as CSV.
#[utoipa::path(get, path = "/api/v1/stalls/{id}/credits.csv", tag = "payments",
    params(("id" = i64, Path, description = "Stall id")), security(("bearer" = [])),
    responses((status = 200, description = "CSV, oldest first", content_type = "text/csv"), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn stall_credits_csv(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let scope = stall_scope(&state, &caller, id).await?;
    Ok(csv_response(
        state.store.clone(),
        scope,
        sees_payers(&caller),
        format!("stall-{id}-credits.csv"),
    ))
}

/// Range of days for daily totals.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DailyQuery {
    /// First day, `YYYY-MM-DD` (Vietnam time); default 29 days before `to`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`; default today.
    pub to: Option<String>,
}

/// One day's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayOut {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Credits.
    pub count: i64,
    /// Their sum, whole đồng as a string.
    pub amount: String,
    /// Credits that paid an order (dynamic codes).
    pub dynamic_count: i64,
    /// Their sum.
    pub dynamic_amount: String,
    /// Credits on a static poster.
    pub static_count: i64,
    /// Their sum.
    pub static_amount: String,
    /// Credits waiting for review.
    pub unmatched_count: i64,
    /// Their sum.
    pub unmatched_amount: String,
    /// Credits given to a stall after review.
    pub assigned_count: i64,
    /// Their sum.
    pub assigned_amount: String,
}

impl DayOut {
    /// A day's figures.
    pub fn of(day: Day, totals: Totals) -> Self {
        let all = totals.all();
        Self {
            date: day.to_string(),
            count: all.count,
            amount: all.amount_dong.to_string(),
            dynamic_count: totals.dynamic.count,
            dynamic_amount: totals.dynamic.amount_dong.to_string(),
            static_count: totals.fixed.count,
            static_amount: totals.fixed.amount_dong.to_string(),
            unmatched_count: totals.unmatched.count,
            unmatched_amount: totals.unmatched.amount_dong.to_string(),
            assigned_count: totals.assigned.count,
            assigned_amount: totals.assigned.amount_dong.to_string(),
        }
    }
}

fn day_range(query: &DailyQuery) -> Result<(Day, Day), ApiError> {
    let (from, to) = super::stats::day_range(
        query.from.as_deref(),
        query.to.as_deref(),
        Day::of_ms(now_ms()),
    )?;
    crate::service::stats::check_range(from, to)?;
    Ok((from, to))
}

async fn daily(
    store: &Store,
    scope: CreditScope,
    query: &DailyQuery,
) -> Result<axum::Json<Vec<DayOut>>, ApiError> {
    let (from, to) = day_range(query)?;
    let rows = credits::daily(store, scope, from, to)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(axum::Json(
        rows.iter()
            .filter_map(DailyRow::totals)
            .map(|(day, totals)| DayOut::of(day, totals))
            .collect(),
    ))
}

/// A market's daily totals (days with credits only), oldest first.
#[utoipa::path(get, path = "/api/v1/markets/{slug}/credits/daily", tag = "payments",
    params(("slug" = String, Path, description = "Market slug"), DailyQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<DayOut>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn market_daily(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(query): ApiQuery<DailyQuery>,
) -> Result<axum::Json<Vec<DayOut>>, ApiError> {
    let scope = market_scope(&state, &caller, &slug).await?;
    daily(&state.store, scope, &query).await
}

/// A stall's daily totals (days with credits only), oldest first.
#[utoipa::path(get, path = "/api/v1/stalls/{id}/credits/daily", tag = "payments",
    params(("id" = i64, Path, description = "Stall id"), DailyQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<DayOut>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn stall_daily(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<DailyQuery>,
) -> Result<axum::Json<Vec<DayOut>>, ApiError> {
    let scope = stall_scope(&state, &caller, id).await?;
    daily(&state.store, scope, &query).await
}

/// An authentic delivery that could not become a credit, or contradicted one.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewOut {
    /// Id.
    pub id: i64,
    /// Channel.
    pub channel_id: i64,
    /// `unusable` or `conflict`.
    pub kind: String,
    /// Why.
    pub reason: String,
    /// The transaction id, when known.
    pub provider_txn_id: Option<String>,
    /// The body as received (invalid UTF-8 replaced).
    pub body: String,
    /// RFC 3339.
    pub received_at: String,
}

/// Paging for the review list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReviewQuery {
    /// Page number, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1–500.
    pub per_page: Option<i64>,
}

/// Deliveries kept for review: authentic but unusable, or a known transaction with another
/// amount (admin). Unmatched credits are at `credits?outcome=unmatched`.
#[utoipa::path(get, path = "/api/v1/markets/{slug}/reviews", tag = "payments",
    params(("slug" = String, Path, description = "Market slug"), ReviewQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<ReviewOut>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn market_reviews(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(query): ApiQuery<ReviewQuery>,
) -> Result<axum::Json<Vec<ReviewOut>>, ApiError> {
    let market = visible_market(&state, &caller, &slug).await?;
    require_admin(&caller)?;
    let rows = credits::reviews(
        &state.store,
        market.id,
        Page::new(query.page, query.per_page),
    )
    .await
    .map_err(|e| ApiError::internal(&e))?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|r| ReviewOut {
                id: r.id,
                channel_id: r.channel_id,
                kind: r.kind,
                reason: r.reason,
                provider_txn_id: r.provider_txn_id,
                body: String::from_utf8_lossy(&r.raw_body).into_owned(),
                received_at: rfc3339(r.received_at_ms),
            })
            .collect(),
    ))
}

/// Giving an unmatched credit to a stall.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// The stall (of the credit's market) the money belongs to.
    pub stall_id: i64,
    /// Why, for the books.
    pub note: Option<String>,
}

/// Gives an unmatched credit to a stall after review (admin): a new ledger entry; the credit
/// itself is never edited.
#[utoipa::path(post, path = "/api/v1/credits/{id}/assign", tag = "payments",
    params(("id" = i64, Path, description = "Credit id")), request_body = Assignment, security(("bearer" = [])),
    responses((status = 200, body = CreditOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn assign_credit(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Assignment>,
) -> Result<axum::Json<CreditOut>, ApiError> {
    let credit = credits::by_id(&state.store, id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let credit = match credit {
        Some(credit) if sees_credit(&state, &caller, &credit).await? => credit,
        None if caller.is_admin() => {
            return Err(ApiError::not_found(format!("credit {id} not found")));
        }
        _ => return Err(out_of_reach()),
    };
    require_admin(&caller)?;
    if credit.outcome != Outcome::Unmatched.as_str() {
        return Err(ServiceError::Conflict(format!(
            "credit {id} is {}, not unmatched",
            credit.outcome
        ))
        .into());
    }
    let (stall, _) = catalog::stall(&state.store, body.stall_id).await?;
    if stall.market_id != credit.market_id {
        return Err(ApiError::invalid("the stall is not in the credit's market"));
    }
    let note = crate::domain::text::clean_optional(body.note.as_deref(), "note", 200)
        .map_err(|e| ApiError::invalid(e.to_string()))?
        .unwrap_or_default();
    let assigned = credits::assign(&state.store, &credit, stall.id, &note, None, now_ms())
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ServiceError::Conflict(format!("credit {id} was already assigned")))?;
    Ok(axum::Json(credit_out(assigned, true)))
}

/// Whether the caller may see this credit: an admin, a board reaching its market, or the
/// vendor of the stall it went to.
async fn sees_credit(
    state: &AppState,
    caller: &Principal,
    credit: &CreditRow,
) -> Result<bool, ApiError> {
    if caller.is_admin()
        || credit
            .stall_id
            .is_some_and(|id| caller.scope == Scope::Stall(id))
    {
        return Ok(true);
    }
    let market = crate::store::markets::by_id(&state.store, credit.market_id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(market.is_some_and(|m| caller.role == Role::Board && caller.can_read_market(place(&m))))
}

/// Amount text for events and pages: `50.000đ`.
pub fn amount_text(dong: i64) -> String {
    Vnd::from_dong(dong).map_or_else(|_| format!("{dong}đ"), |v| v.to_string())
}
