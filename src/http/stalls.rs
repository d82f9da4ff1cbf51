//! `/api/v1/markets/{slug}/stalls…` and `/api/v1/stalls/{id}…`: stalls, their static QR, and
//! the spreadsheet import and export.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiBytes, ApiJson, ApiPath, ApiQuery, Caller};
use super::{AppState, require_admin, rfc3339, visible_market, visible_stall};
use crate::domain::poster::PosterStatus;
use crate::domain::stall::{StallInput, StallStatus};
use crate::domain::vietqr::Service;
use crate::qr::{EcLevel, Layout, QrMatrix, png, svg};
use crate::service::catalog;
use crate::service::import::{self, ImportReport};
use crate::store::Page;
use crate::store::stalls::{self, StallRow};

/// A linked payee account as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PayeeOut {
    /// NAPAS BIN.
    pub bin: String,
    /// Bank short name (both names for a shared BIN).
    pub bank: String,
    /// Account or card number.
    pub account: String,
    /// Holder name, ASCII upper case.
    pub holder: String,
    /// `account` or `card`.
    pub service: String,
}

/// A stall as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StallOut {
    /// Id.
    pub id: i64,
    /// Its market's slug.
    pub market: String,
    /// Code within the market.
    pub code: String,
    /// Vendor name.
    pub vendor_name: String,
    /// Goods sold.
    pub goods: String,
    /// Vendor phone.
    pub phone: Option<String>,
    /// The linked payee account, if any.
    pub payee: Option<PayeeOut>,
    /// `active` or `inactive`.
    pub status: String,
    /// When the account was linked (RFC 3339).
    pub account_linked_at: Option<String>,
    /// When the poster was last printed (RFC 3339).
    pub poster_printed_at: Option<String>,
    /// That poster's serial.
    pub poster_serial: Option<String>,
    /// `none` (no account), `missing` (never printed), `current`, or `stale` (the account was
    /// linked after the poster was printed: print and place a new one).
    pub poster_status: &'static str,
    /// The static VietQR payload a bank app reads, when an account is linked.
    pub qr_payload: Option<String>,
    /// The static QR as SVG, when an account is linked.
    pub qr_svg_url: Option<String>,
    /// The static QR as PNG, when an account is linked.
    pub qr_png_url: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

/// Where the stall's poster stands: see [`PosterStatus::of`].
fn poster_status(row: &StallRow) -> PosterStatus {
    PosterStatus::of(
        row.payee_bin.is_some(),
        row.account_linked_at_ms,
        row.poster_printed_at_ms,
    )
}

fn stall_out(row: StallRow, market_slug: &str) -> StallOut {
    let poster_status = poster_status(&row).as_str();
    let account = row.payee();
    let qr_payload = account
        .as_ref()
        .and_then(|a| a.static_code().ok())
        .map(|code| code.payload());
    let linked = account.is_some();
    let payee = account.map(|a| PayeeOut {
        bank: a.bank_short_name(),
        service: a.service.as_str().to_owned(),
        bin: a.bin,
        account: a.account,
        holder: a.holder,
    });
    StallOut {
        qr_payload,
        qr_svg_url: linked.then(|| format!("/api/v1/stalls/{}/qr.svg", row.id)),
        qr_png_url: linked.then(|| format!("/api/v1/stalls/{}/qr.png", row.id)),
        id: row.id,
        market: market_slug.to_owned(),
        code: row.code,
        vendor_name: row.vendor_name,
        goods: row.goods,
        phone: row.phone,
        payee,
        status: row.status,
        account_linked_at: row.account_linked_at_ms.map(rfc3339),
        poster_printed_at: row.poster_printed_at_ms.map(rfc3339),
        poster_serial: row.poster_serial,
        poster_status,
        created_at: rfc3339(row.created_at_ms),
        updated_at: rfc3339(row.updated_at_ms),
    }
}

/// A page of stalls.
#[derive(Debug, Serialize, ToSchema)]
pub struct StallList {
    /// The stalls on this page, in code order.
    pub items: Vec<StallOut>,
    /// Page number, from 1.
    pub page: i64,
    /// Page size.
    pub per_page: i64,
    /// Stalls in all (with the filter).
    pub total: i64,
}

/// Stall listing parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StallQuery {
    /// Page number, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1–500.
    pub per_page: Option<i64>,
    /// Only stalls with this status: `active` or `inactive`.
    pub status: Option<String>,
    /// Only stalls whose poster is `none`, `missing`, `current` or `stale`.
    pub poster_status: Option<String>,
}

/// The account a stall's QR pays into.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayeeIn {
    /// BIN, bank code or short name (`970436`, `VCB`, `Vietcombank`).
    pub bank: String,
    /// Account or card number.
    pub account: String,
    /// Holder name (folded to ASCII upper case).
    pub holder: String,
    /// `account` (default) or `card`.
    pub service: Option<String>,
}

/// A new stall.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStall {
    /// Code within the market (`A12`).
    pub code: String,
    /// Vendor name, in Vietnamese.
    pub vendor_name: String,
    /// Goods sold.
    pub goods: Option<String>,
    /// Vendor phone.
    pub phone: Option<String>,
    /// The payee account, if the vendor has one linked.
    pub payee: Option<PayeeIn>,
    /// `active` (default) or `inactive`.
    pub status: Option<String>,
}

/// Changes to a stall; absent fields stay, `null` clears `phone` or unlinks `payee`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StallPatch {
    /// Code within the market.
    pub code: Option<String>,
    /// Vendor name.
    pub vendor_name: Option<String>,
    /// Goods sold.
    pub goods: Option<String>,
    /// Vendor phone; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// The payee account; `null` unlinks it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<PayeeIn>)]
    pub payee: Option<Option<PayeeIn>>,
    /// `active` or `inactive`.
    pub status: Option<String>,
}

/// Tells "absent" (outer `None`) from "null" (`Some(None)`).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

fn parse_service(text: Option<&str>) -> Result<Option<Service>, ApiError> {
    text.map(|t| t.parse::<Service>().map_err(ApiError::invalid))
        .transpose()
}

fn parse_status(text: Option<&str>) -> Result<Option<StallStatus>, ApiError> {
    text.map(|t| StallStatus::parse(t).map_err(|e| ApiError::invalid(e.to_string())))
        .transpose()
}

/// List a market's stalls.
#[utoipa::path(get, path = "/api/v1/markets/{slug}/stalls", tag = "stalls",
    params(("slug" = String, Path, description = "Market slug"), StallQuery), security(("bearer" = [])),
    responses((status = 200, body = StallList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_stalls(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(query): ApiQuery<StallQuery>,
) -> Result<axum::Json<StallList>, ApiError> {
    let market = visible_market(&state, &caller, &slug).await?;
    let status = parse_status(query.status.as_deref())?;
    let poster = query
        .poster_status
        .as_deref()
        .map(PosterStatus::parse)
        .transpose()
        .map_err(ApiError::invalid)?;
    let page = Page::new(query.page, query.per_page);
    let (rows, total) = match poster {
        None => stalls::list(
            &state.store,
            market.id,
            status.map(StallStatus::as_str),
            page,
        )
        .await
        .map_err(|e| ApiError::internal(&e))?,
        Some(poster) => {
            // The poster status is computed, not stored: filter the market's stalls here, so
            // there is one definition of "stale". A market has hundreds of stalls, not millions.
            let all = stalls::all_in_market(&state.store, market.id)
                .await
                .map_err(|e| ApiError::internal(&e))?;
            let wanted: Vec<StallRow> = all
                .into_iter()
                .filter(|row| status.is_none_or(|s| row.status == s.as_str()))
                .filter(|row| poster_status(row) == poster)
                .collect();
            let total = i64::try_from(wanted.len()).unwrap_or(i64::MAX);
            let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
            let take = usize::try_from(page.size).unwrap_or(0);
            (wanted.into_iter().skip(skip).take(take).collect(), total)
        }
    };
    let items = rows
        .into_iter()
        .map(|row| stall_out(row, &market.slug))
        .collect();
    Ok(axum::Json(StallList {
        items,
        page: page.number,
        per_page: page.size,
        total,
    }))
}

/// Add a stall to a market (admin).
#[utoipa::path(post, path = "/api/v1/markets/{slug}/stalls", tag = "stalls",
    params(("slug" = String, Path, description = "Market slug")), request_body = NewStall, security(("bearer" = [])),
    responses((status = 201, body = StallOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_stall(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<NewStall>,
) -> Result<(StatusCode, axum::Json<StallOut>), ApiError> {
    let market = visible_market(&state, &caller, &slug).await?;
    require_admin(&caller)?;
    let payee = body.payee.as_ref();
    let input = StallInput {
        code: &body.code,
        vendor_name: &body.vendor_name,
        goods: body.goods.as_deref(),
        phone: body.phone.as_deref(),
        bank: payee.map(|p| p.bank.as_str()),
        account: payee.map(|p| p.account.as_str()),
        holder: payee.map(|p| p.holder.as_str()),
        service: parse_service(payee.and_then(|p| p.service.as_deref()))?,
        status: parse_status(body.status.as_deref())?,
    };
    let fields = catalog::check_stall(&input)?;
    let stall = catalog::create_stall(&state.store, &market, &fields).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(stall_out(stall, &market.slug)),
    ))
}

/// Read one stall.
#[utoipa::path(get, path = "/api/v1/stalls/{id}", tag = "stalls", params(("id" = i64, Path, description = "Stall id")),
    security(("bearer" = [])),
    responses((status = 200, body = StallOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_stall(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<StallOut>, ApiError> {
    let (stall, market) = visible_stall(&state, &caller, id).await?;
    Ok(axum::Json(stall_out(stall, &market.slug)))
}

/// Change a stall, link or unlink its account (admin).
#[utoipa::path(patch, path = "/api/v1/stalls/{id}", tag = "stalls", params(("id" = i64, Path, description = "Stall id")),
    request_body = StallPatch, security(("bearer" = [])),
    responses((status = 200, body = StallOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_stall(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<StallPatch>,
) -> Result<axum::Json<StallOut>, ApiError> {
    let (stall, market) = visible_stall(&state, &caller, id).await?;
    require_admin(&caller)?;
    let phone = match &patch.phone {
        Some(phone) => phone.as_deref(),
        None => stall.phone.as_deref(),
    };
    let (bank, account, holder, service) = match &patch.payee {
        Some(Some(p)) => (
            Some(p.bank.as_str()),
            Some(p.account.as_str()),
            Some(p.holder.as_str()),
            parse_service(p.service.as_deref())?,
        ),
        Some(None) => (None, None, None, None),
        None => (
            stall.payee_bin.as_deref(),
            stall.payee_account.as_deref(),
            stall.payee_name.as_deref(),
            parse_service(stall.payee_service.as_deref())?,
        ),
    };
    let input = StallInput {
        code: patch.code.as_deref().unwrap_or(&stall.code),
        vendor_name: patch.vendor_name.as_deref().unwrap_or(&stall.vendor_name),
        goods: Some(patch.goods.as_deref().unwrap_or(&stall.goods)),
        phone,
        bank,
        account,
        holder,
        service,
        status: parse_status(Some(patch.status.as_deref().unwrap_or(&stall.status)))?,
    };
    let fields = catalog::check_stall(&input)?;
    let updated = catalog::update_stall(&state.store, &stall, &fields).await?;
    Ok(axum::Json(stall_out(updated, &market.slug)))
}

/// Image parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QrQuery {
    /// Pixels per module, 1–40 (default 8).
    pub module_px: Option<u32>,
}

async fn stall_matrix(
    state: &AppState,
    caller: &Caller,
    id: i64,
    query: &QrQuery,
) -> Result<(QrMatrix, Layout), ApiError> {
    let (stall, _) = visible_stall(state, &caller.0, id).await?;
    let module_px = query.module_px.unwrap_or(8);
    if !(1..=40).contains(&module_px) {
        return Err(ApiError::invalid("module_px must be between 1 and 40"));
    }
    let code = stall
        .payee()
        .and_then(|account| account.static_code().ok())
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "stall {} has no linked account, so no QR code",
                stall.code
            ))
        })?;
    let matrix = QrMatrix::encode(code.payload().as_bytes(), EcLevel::M)
        .map_err(|e| ApiError::internal(&e))?;
    Ok((
        matrix,
        Layout {
            module_px,
            quiet_zone: 4,
        },
    ))
}

/// The stall's static VietQR as SVG.
#[utoipa::path(get, path = "/api/v1/stalls/{id}/qr.svg", tag = "stalls", params(("id" = i64, Path, description = "Stall id"), QrQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "SVG image", content_type = "image/svg+xml"), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn stall_qr_svg(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<QrQuery>,
) -> Result<Response, ApiError> {
    let (matrix, layout) = stall_matrix(&state, &caller, id, &query).await?;
    Ok((
        [(CONTENT_TYPE, "image/svg+xml"), (CACHE_CONTROL, "no-cache")],
        svg::render(&matrix, layout),
    )
        .into_response())
}

/// The stall's static VietQR as PNG.
#[utoipa::path(get, path = "/api/v1/stalls/{id}/qr.png", tag = "stalls", params(("id" = i64, Path, description = "Stall id"), QrQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "PNG image", content_type = "image/png"), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn stall_qr_png(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<QrQuery>,
) -> Result<Response, ApiError> {
    let (matrix, layout) = stall_matrix(&state, &caller, id, &query).await?;
    let bytes = png::render(&matrix, layout).map_err(|e| ApiError::internal(&e))?;
    Ok((
        [(CONTENT_TYPE, "image/png"), (CACHE_CONTROL, "no-cache")],
        bytes,
    )
        .into_response())
}

/// Import parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Check the file without writing anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// Import a market's stalls from CSV (admin): all rows or none.
#[utoipa::path(post, path = "/api/v1/markets/{slug}/stalls/import", tag = "stalls",
    params(("slug" = String, Path, description = "Market slug"), ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "UTF-8 CSV with a header: code, vendor_name, goods, phone, bank, account, holder"),
    security(("bearer" = [])),
    responses((status = 200, body = ImportReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, description = "bad rows; nothing written", body = ErrorBody)))]
pub async fn import_stalls(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(query): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<axum::Json<ImportReport>, ApiError> {
    let market = visible_market(&state, &caller, &slug).await?;
    require_admin(&caller)?;
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !matches!(
        essence.as_str(),
        "text/csv" | "text/plain" | "application/octet-stream"
    ) {
        return Err(ApiError::unsupported_media_type(
            "send the spreadsheet as text/csv (UTF-8)",
        ));
    }
    let report = import::import_stalls(&state.store, &market, &body, query.dry_run).await?;
    if !report.errors.is_empty() {
        return Err(ApiError::import_rejected(report.errors));
    }
    Ok(axum::Json(report))
}

/// Export a market's stalls as CSV, in the import's columns.
#[utoipa::path(get, path = "/api/v1/markets/{slug}/stalls.csv", tag = "stalls", params(("slug" = String, Path, description = "Market slug")),
    security(("bearer" = [])),
    responses((status = 200, description = "UTF-8 CSV", content_type = "text/csv"), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn export_stalls(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response, ApiError> {
    let market = visible_market(&state, &caller, &slug).await?;
    let rows = stalls::all_in_market(&state.store, market.id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let csv = import::export_stalls(&rows)?;
    let disposition = format!("attachment; filename=\"{}-stalls.csv\"", market.slug);
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}
