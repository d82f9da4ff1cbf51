//! Extractors that answer malformed requests in the API's error shape, and the bearer-token
//! caller.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::domain::access::Principal;
use crate::service::tokens::{self, Session};

/// JSON body; malformed JSON, wrong types and unknown fields become `{code, message}` errors.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// Path parameters, rejected in the API's error shape.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Query parameters, rejected in the API's error shape.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// The raw body, with the size limit answered as 413 in the API's error shape.
#[derive(Debug)]
pub struct ApiBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::body::Bytes::from_request(request, state)
            .await
            .map(Self)
            .map_err(ApiError::from)
    }
}

/// Longest `Authorization` header considered; longer ones are refused unread.
const MAX_AUTHORIZATION_BYTES: usize = 512;

/// The caller behind the request's bearer token.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

/// The token of the request's `Authorization: Bearer` header; 401 when there is none or it is
/// malformed.
pub fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("send a bearer token: Authorization: Bearer cp_…"))?;
    if header.len() > MAX_AUTHORIZATION_BYTES {
        return Err(ApiError::unauthorized(
            "the Authorization header is too long",
        ));
    }
    header
        .to_str()
        .ok()
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be 'Bearer <token>'"))
}

/// The session of a token: 401 when it is unknown or revoked.
pub async fn session(state: &AppState, token: &str) -> Result<Session, ApiError> {
    tokens::session(&state.store, token)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let CallerSession(session) = CallerSession::from_request_parts(parts, state).await?;
        Ok(Self(session.principal))
    }
}

/// The bearer-token caller with its session, for a route that needs to know which token calls.
#[derive(Debug, Clone)]
pub struct CallerSession(pub Session);

impl FromRequestParts<AppState> for CallerSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)?;
        Ok(Self(session(state, token).await?))
    }
}
