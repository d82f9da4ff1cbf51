//! Server-rendered pages. The vendor screen is one self-contained HTML file (inline CSS and JS,
//! no CDN) that talks to the JSON API with the vendor's token; the board pages (markets, a
//! market's board, a district) are rendered on the server with their figures, and kept live over
//! server-sent events.

pub mod chart;
pub mod pages;
pub mod render;
pub mod session;

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY};
use axum::response::{IntoResponse, Response};

/// The vendor screen's page.
const VENDOR_HTML: &str = include_str!("vendor.html");

/// `GET /vendor`: the vendor screen. The login token travels in the URL fragment, which browsers
/// never send to the server; the page keeps it in local storage.
pub async fn vendor_page() -> Response {
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
            (REFERRER_POLICY, "no-referrer"),
            (
                CONTENT_SECURITY_POLICY,
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; \
                 connect-src 'self'; media-src 'self' data:; frame-ancestors 'none'",
            ),
        ],
        VENDOR_HTML,
    )
        .into_response()
}
