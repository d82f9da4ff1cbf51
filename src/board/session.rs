//! Who looks at a board page. Pages render their figures on the server, so the token must reach
//! the server without script: it lives in an `HttpOnly`, `SameSite=Lax` cookie, set by the
//! login form or by a link that carries `?access_token=` (the server answers such a link with the
//! cookie and a redirect to the same page without the token, so it leaves the address bar). A
//! bearer header works too, for scripts. `Lax`, not `Strict`: an officer opening a board from a
//! link in a chat app arrives logged in; the pages only read, and the one thing a cross-site form
//! could do with the cookie, `POST /logout`, logs out.

use axum::http::header::{AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::AppState;
use crate::service::tokens::{self, Session};

/// The cookie's name.
pub const COOKIE_NAME: &str = "chopay_token";

/// How long a board stays logged in on a device: 30 days.
const MAX_AGE_S: u32 = 30 * 24 * 3600;

/// Longest token considered.
const MAX_TOKEN_BYTES: usize = 512;

/// Whether `token` could be one of ours: short, and only characters a cookie value may carry.
fn plausible(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_TOKEN_BYTES
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The token of the request: bearer header first, then the cookie.
fn presented(headers: &HeaderMap) -> Option<String> {
    if let Some(bearer) = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_owned());
    }
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
}

/// The session behind the request's token, if it presented a valid (known, not revoked) one.
pub async fn visitor(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    let token = presented(headers).filter(|t| plausible(t))?;
    match tokens::session(&state.store, &token).await {
        Ok(principal) => principal,
        Err(e) => {
            tracing::warn!(error = %e, "board page: token check failed");
            None
        }
    }
}

/// `Set-Cookie` that keeps `token` for the board pages.
fn keep(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={MAX_AGE_S}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that forgets the token.
fn forget() -> HeaderValue {
    HeaderValue::from_static("chopay_token=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// A 303 to `to` with a cookie header.
fn redirect(to: &str, cookie: HeaderValue) -> Response {
    let location = HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (
        StatusCode::SEE_OTHER,
        [(LOCATION, location), (SET_COOKIE, cookie)],
    )
        .into_response()
}

/// Where to go after logging in: a path of this site only (never `//host` or a full URL).
pub fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path
        }
        _ => "/",
    }
}

#[derive(Deserialize)]
struct LinkQuery {
    access_token: Option<String>,
}

/// For a page address carrying `?access_token=`: a valid token becomes the cookie and the answer
/// is a redirect to the same path without the query; an invalid one clears the cookie and goes to
/// the login form. `None` when the address carries no token.
pub async fn from_link(state: &AppState, uri: &Uri) -> Option<Response> {
    let axum::extract::Query(query) = axum::extract::Query::<LinkQuery>::try_from_uri(uri).ok()?;
    let token = query.access_token?;
    let valid = plausible(&token)
        && matches!(
            tokens::authenticate(&state.store, &token).await,
            Ok(Some(_))
        );
    Some(if valid {
        redirect(&without_token(uri), keep(&token))
    } else {
        redirect(&format!("/login?next={}", uri.path()), forget())
    })
}

/// The address without its `access_token` (other parameters, such as a filter, stay).
fn without_token(uri: &Uri) -> String {
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("access_token="))
        .collect();
    if kept.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{}", uri.path(), kept.join("&"))
    }
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    /// The token typed or pasted.
    pub token: String,
    /// The page to return to.
    pub next: Option<String>,
}

/// Checks a submitted token: the cookie and a redirect, or `None` when it is not valid.
pub async fn log_in(state: &AppState, form: &LoginForm) -> Option<Response> {
    let token = form.token.trim();
    if !plausible(token) {
        return None;
    }
    match tokens::authenticate(&state.store, token).await {
        Ok(Some(_)) => Some(redirect(local_path(form.next.as_deref()), keep(token))),
        _ => None,
    }
}

/// Forgets the token and goes to the login form.
pub fn log_out() -> Response {
    redirect("/login", forget())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_the_bearer_header_or_the_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; chopay_token=cp_abc; b=2"),
        );
        assert_eq!(presented(&headers).as_deref(), Some("cp_abc"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer cp_xyz"));
        assert_eq!(presented(&headers).as_deref(), Some("cp_xyz"));
        assert_eq!(presented(&HeaderMap::new()), None);
    }

    #[test]
    fn a_link_keeps_its_other_parameters_and_loses_the_token() {
        let uri = |text: &str| text.parse::<Uri>().unwrap();
        assert_eq!(
            without_token(&uri("/boards/x?access_token=cp_1")),
            "/boards/x"
        );
        assert_eq!(
            without_token(&uri("/boards/x?status=no_account&access_token=cp_1")),
            "/boards/x?status=no_account"
        );
        assert_eq!(
            without_token(&uri("/boards/x?access_token=cp_1&status=help")),
            "/boards/x?status=help"
        );
    }

    #[test]
    fn only_plausible_tokens_reach_a_cookie_and_only_local_paths_a_redirect() {
        assert!(plausible("cp_0123abcdef"));
        assert!(!plausible("cp_abc; Path=/evil"));
        assert!(!plausible(""));
        assert!(!plausible(&"a".repeat(513)));
        assert_eq!(local_path(Some("/boards/cho-mo")), "/boards/cho-mo");
        assert_eq!(local_path(Some("//evil.example")), "/");
        assert_eq!(local_path(Some("https://evil.example")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }
}
