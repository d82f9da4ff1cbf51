//! `/api/v1/markets…`: create, read, update and list markets.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use super::{AppState, require_admin, rfc3339, visible_market};
use crate::domain::access::{Role, Scope};
use crate::domain::market::MarketFields;
use crate::service::catalog;
use crate::store::Page;
use crate::store::markets::{self, MarketFilter, MarketRow};

/// A market as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarketOut {
    /// URL name, e.g. `cho-mo`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Commune or town.
    pub commune: String,
    /// District name.
    pub district: String,
    /// District slug.
    pub district_slug: String,
    /// Province.
    pub province: String,
    /// Vendor households registered, if known.
    pub households_registered: Option<i64>,
    /// Where its stalls are listed.
    pub stalls_url: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

impl From<MarketRow> for MarketOut {
    fn from(row: MarketRow) -> Self {
        Self {
            stalls_url: format!("/api/v1/markets/{}/stalls", row.slug),
            created_at: rfc3339(row.created_at_ms),
            updated_at: rfc3339(row.updated_at_ms),
            slug: row.slug,
            name: row.name,
            commune: row.commune,
            district: row.district,
            district_slug: row.district_slug,
            province: row.province,
            households_registered: row.households_registered,
        }
    }
}

/// A page of markets.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarketList {
    /// The markets on this page, in slug order.
    pub items: Vec<MarketOut>,
    /// Page number, from 1.
    pub page: i64,
    /// Page size.
    pub per_page: i64,
    /// Markets in all.
    pub total: i64,
}

/// Paging parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page number, from 1 (default 1).
    pub page: Option<i64>,
    /// Rows per page, 1–500 (default 50).
    pub per_page: Option<i64>,
}

/// A new market.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMarket {
    /// URL name: lower-case letters, digits and hyphens (`cho-mo`).
    pub slug: String,
    /// Display name (`Chợ Mơ`).
    pub name: String,
    /// Commune or town (`xã Vạn Thắng`).
    pub commune: String,
    /// District (`huyện Ba Vì`).
    pub district: String,
    /// District slug (`ba-vi`).
    pub district_slug: String,
    /// Province (`Hà Nội`).
    pub province: String,
    /// Vendor households registered, if known.
    pub households_registered: Option<i64>,
}

/// Changes to a market; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketPatch {
    /// Display name.
    pub name: Option<String>,
    /// Commune or town.
    pub commune: Option<String>,
    /// District.
    pub district: Option<String>,
    /// District slug.
    pub district_slug: Option<String>,
    /// Province.
    pub province: Option<String>,
    /// Vendor households registered.
    pub households_registered: Option<i64>,
}

/// List the markets the caller may see.
#[utoipa::path(get, path = "/api/v1/markets", tag = "markets", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = MarketList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_markets(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<axum::Json<MarketList>, ApiError> {
    let filter = match (&caller.role, &caller.scope) {
        (Role::Admin, _) => MarketFilter::All,
        (Role::Board, Scope::Market(id)) => MarketFilter::Id(*id),
        (Role::Board, Scope::District(slug)) => MarketFilter::District(slug.clone()),
        _ => {
            return Err(ApiError::forbidden(
                "a vendor token reads its own stall only",
            ));
        }
    };
    let page = Page::new(query.page, query.per_page);
    let (rows, total) = markets::list(&state.store, &filter, page)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(axum::Json(MarketList {
        items: rows.into_iter().map(MarketOut::from).collect(),
        page: page.number,
        per_page: page.size,
        total,
    }))
}

/// Create a market (admin).
#[utoipa::path(post, path = "/api/v1/markets", tag = "markets", request_body = NewMarket, security(("bearer" = [])),
    responses((status = 201, body = MarketOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_market(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<NewMarket>,
) -> Result<(StatusCode, axum::Json<MarketOut>), ApiError> {
    require_admin(&caller)?;
    let fields = MarketFields::parse(
        &body.name,
        &body.commune,
        &body.district,
        &body.district_slug,
        &body.province,
        body.households_registered,
    )
    .map_err(|e| ApiError::invalid(e.to_string()))?;
    let market = catalog::create_market(&state.store, &body.slug, &fields).await?;
    Ok((StatusCode::CREATED, axum::Json(market.into())))
}

/// Read one market.
#[utoipa::path(get, path = "/api/v1/markets/{slug}", tag = "markets", params(("slug" = String, Path, description = "Market slug")),
    security(("bearer" = [])),
    responses((status = 200, body = MarketOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_market(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
) -> Result<axum::Json<MarketOut>, ApiError> {
    let market = visible_market(&state, &caller, &slug).await?;
    Ok(axum::Json(market.into()))
}

/// Change a market (admin).
#[utoipa::path(patch, path = "/api/v1/markets/{slug}", tag = "markets", params(("slug" = String, Path, description = "Market slug")),
    request_body = MarketPatch, security(("bearer" = [])),
    responses((status = 200, body = MarketOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_market(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiJson(patch): ApiJson<MarketPatch>,
) -> Result<axum::Json<MarketOut>, ApiError> {
    let market = visible_market(&state, &caller, &slug).await?;
    require_admin(&caller)?;
    let fields = MarketFields::parse(
        patch.name.as_deref().unwrap_or(&market.name),
        patch.commune.as_deref().unwrap_or(&market.commune),
        patch.district.as_deref().unwrap_or(&market.district),
        patch
            .district_slug
            .as_deref()
            .unwrap_or(&market.district_slug),
        patch.province.as_deref().unwrap_or(&market.province),
        patch.households_registered.or(market.households_registered),
    )
    .map_err(|e| ApiError::invalid(e.to_string()))?;
    Ok(axum::Json(
        catalog::update_market(&state.store, &market, &fields)
            .await?
            .into(),
    ))
}
