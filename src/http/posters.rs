//! `GET /api/v1/stalls/{id}/poster.pdf|.png` and `GET /api/v1/markets/{slug}/posters.pdf`
//! (board or admin): printable posters. Each download is a print: it gets a new serial, recorded
//! on the stall.

use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery, Caller};
use super::{AppState, place, visible_market, visible_stall};
use crate::posters::PosterSize;
use crate::service::posters::{self, Format};

/// Poster parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PosterQuery {
    /// `a4` (default), `a5` or `sticker`.
    pub size: Option<String>,
}

fn size(query: &PosterQuery) -> Result<PosterSize, ApiError> {
    query
        .size
        .as_deref()
        .map_or(Ok(PosterSize::A4), str::parse)
        .map_err(|e| ApiError::invalid(e.to_string()))
}

fn file(bytes: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

/// A file name from ASCII letters, digits and dashes only.
fn file_name(parts: &[&str], extension: &str) -> String {
    let stem: String = parts
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{stem}.{extension}")
}

async fn stall_poster(
    state: &AppState,
    caller: &Caller,
    id: i64,
    query: &PosterQuery,
    format: Format,
) -> Result<Response, ApiError> {
    let size = size(query)?;
    let (stall, market) = visible_stall(state, &caller.0, id).await?;
    if !caller.0.can_read_market(place(&market)) {
        return Err(ApiError::forbidden(
            "only a board or an admin token may print posters",
        ));
    }
    let print = posters::stall_poster(&state.store, &stall, size, format).await?;
    print.record(&state.store).await?;
    let (content_type, extension) = match format {
        Format::Pdf => ("application/pdf", "pdf"),
        Format::Png => ("image/png", "png"),
    };
    let name = file_name(&[&market.slug, &stall.code, size.as_str()], extension);
    Ok(file(print.bytes, content_type, &name))
}

/// One stall's poster as a one-page PDF (board or admin).
#[utoipa::path(get, path = "/api/v1/stalls/{id}/poster.pdf", tag = "posters",
    params(("id" = i64, Path, description = "Stall id"), PosterQuery), security(("bearer" = [])),
    responses((status = 200, description = "PDF, vector text, fonts embedded", content_type = "application/pdf"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "No linked account"), (status = 422, body = ErrorBody)))]
pub async fn stall_poster_pdf(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<PosterQuery>,
) -> Result<Response, ApiError> {
    stall_poster(&state, &caller, id, &query, Format::Pdf).await
}

/// One stall's poster as a 300 dpi PNG (board or admin).
#[utoipa::path(get, path = "/api/v1/stalls/{id}/poster.png", tag = "posters",
    params(("id" = i64, Path, description = "Stall id"), PosterQuery), security(("bearer" = [])),
    responses((status = 200, description = "PNG, 300 dpi", content_type = "image/png"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "No linked account"), (status = 422, body = ErrorBody)))]
pub async fn stall_poster_png(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<PosterQuery>,
) -> Result<Response, ApiError> {
    stall_poster(&state, &caller, id, &query, Format::Png).await
}

/// Every poster of a market in one PDF, one page per stall with a linked account, in stall-code
/// order (board or admin). `x-posters-not-printed` lists the stall codes left out.
#[utoipa::path(get, path = "/api/v1/markets/{slug}/posters.pdf", tag = "posters",
    params(("slug" = String, Path, description = "Market slug"), PosterQuery), security(("bearer" = [])),
    responses((status = 200, description = "PDF, one page per stall", content_type = "application/pdf"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "No stall has a linked account"), (status = 422, body = ErrorBody)))]
pub async fn market_posters_pdf(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(query): ApiQuery<PosterQuery>,
) -> Result<Response, ApiError> {
    let size = size(&query)?;
    let market = visible_market(&state, &caller, &slug).await?;
    let made = posters::market_posters(&state.store, &market, None, size, |_, _| {}).await?;
    made.record(&state.store).await?;
    if made.printed.is_empty() {
        return Err(ApiError::from(crate::service::ServiceError::Conflict(
            format!("no stall of market {slug} has a linked bank account"),
        )));
    }
    let skipped: Vec<&str> = made.skipped.iter().map(|(code, _)| code.as_str()).collect();
    let mut response = file(
        made.bytes,
        "application/pdf",
        &file_name(&[&market.slug, size.as_str()], "pdf"),
    );
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&made.printed.len().to_string()) {
        headers.insert("x-posters-printed", value);
    }
    if let Ok(value) = HeaderValue::from_str(&skipped.join(",")) {
        headers.insert("x-posters-not-printed", value);
    }
    Ok(response)
}
