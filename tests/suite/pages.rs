//! The board pages over plain HTTP, as a browser without JavaScript sees them: logging in with a
//! link or the form, the figures in the HTML itself, and who may see which page.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};

use crate::app::{Reply, TestApp};
use chopay::service::demo;

async fn demo_app() -> TestApp {
    let app = TestApp::spawn().await;
    demo::seed(&app.store).await.expect("demo seeds");
    app
}

/// GET with a cookie header.
async fn get_with_cookie(app: &TestApp, path: &str, token: &str) -> Reply {
    let request = Request::builder()
        .uri(path)
        .header(header::COOKIE, format!("other=1; chopay_token={token}"))
        .body(Body::empty())
        .expect("request");
    app.send(request).await
}

fn header_text(reply: &Reply, name: header::HeaderName) -> &str {
    reply
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The text of the element carrying `data-figure="name"`.
fn figure(html: &str, name: &str) -> String {
    let marker = format!("data-figure=\"{name}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} figure in the page"))
        + marker.len();
    html[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_link_with_a_token_logs_the_board_in_and_drops_the_token_from_the_address() {
    let app = demo_app().await;
    let board = app.token("board", None, Some("ba-vi"), None).await;

    let linked = app
        .get(&format!("/boards/cho-quang-oai?access_token={board}"), None)
        .await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER);
    assert_eq!(
        header_text(&linked, header::LOCATION),
        "/boards/cho-quang-oai"
    );
    let cookie = header_text(&linked, header::SET_COOKIE);
    assert!(
        cookie.starts_with(&format!("chopay_token={board};")),
        "{cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }

    let wrong = app
        .get("/boards/cho-quang-oai?access_token=cp_not_a_token", None)
        .await;
    assert_eq!(wrong.status, StatusCode::SEE_OTHER);
    assert!(header_text(&wrong, header::LOCATION).starts_with("/login"));
    assert!(header_text(&wrong, header::SET_COOKIE).contains("Max-Age=0"));
}

#[tokio::test]
async fn the_market_board_carries_its_figures_in_the_html() {
    let app = demo_app().await;
    let board = app.token("board", Some("cho-quang-oai"), None, None).await;

    let page = get_with_cookie(&app, "/boards/cho-quang-oai", &board).await;
    page.expect(StatusCode::OK);
    assert!(header_text(&page, header::CONTENT_TYPE).starts_with("text/html"));
    assert!(header_text(&page, header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"));
    let html = page.text();
    assert!(html.contains("<html lang=\"vi\">"));
    assert!(html.contains("Chợ Quảng Oai"));
    assert_eq!(figure(&html, "registered"), "328");
    assert_eq!(figure(&html, "linked-count"), "321/328");
    assert_eq!(figure(&html, "equipped-count"), "321/328");
    assert_eq!(figure(&html, "equipped-percent"), "97,9%");
    assert_eq!(figure(&html, "active-count"), "0/328");
    assert_eq!(figure(&html, "today-count"), "0");
    assert_eq!(figure(&html, "today-amount"), "0đ");
    // No credits yet: the 7 stalls without accounts first, then every equipped stall as inactive.
    assert_eq!(figure(&html, "visits"), "328");
    let first_codes: Vec<&str> = html
        .split("<strong class=\"code\">")
        .skip(1)
        .take(8)
        .map(|rest| rest.split('<').next().unwrap_or_default())
        .collect();
    assert_eq!(
        first_codes,
        ["A18", "B24", "C22", "D36", "F07", "G17", "H23", "A01"]
    );
    assert_eq!(html.matches("<g data-date=").count(), 30, "a 30-day chart");
    assert_eq!(
        html.matches("<tr data-status=").count(),
        328,
        "every stall in the table"
    );
    // A district board sees the link to its district; this market board does not.
    assert!(!html.contains("href=\"/districts/ba-vi\""));
}

#[tokio::test]
async fn the_stall_table_filters_without_script() {
    let app = demo_app().await;
    let page = get_with_cookie(&app, "/boards/cho-quang-oai?status=no_account", &app.admin).await;
    let html = page.expect(StatusCode::OK).text();
    assert_eq!(html.matches("<tr data-status=\"no_account\"").count(), 7);
    assert_eq!(html.matches("<tr data-status=").count(), 7);
    assert!(html.contains("<option value=\"no_account\" selected>"));
    // An unknown filter shows everything.
    let all = get_with_cookie(&app, "/boards/cho-quang-oai?status=junk", &app.admin).await;
    assert_eq!(all.text().matches("<tr data-status=").count(), 328);
}

#[tokio::test]
async fn the_district_page_and_the_market_list_roll_up_both_markets() {
    let app = demo_app().await;
    let board = app.token("board", None, Some("ba-vi"), None).await;

    let district = get_with_cookie(&app, "/districts/ba-vi", &board).await;
    let html = district.expect(StatusCode::OK).text();
    assert!(html.contains("huyện Ba Vì"));
    assert_eq!(figure(&html, "equipped-count"), "377/384");
    assert_eq!(figure(&html, "equipped-percent"), "98,2%");
    assert!(html.contains("<tr data-market=\"cho-mo\">"));
    assert!(html.contains("<tr data-market=\"cho-quang-oai\">"));

    let index = get_with_cookie(&app, "/", &board).await;
    let html = index.expect(StatusCode::OK).text();
    assert_eq!(figure(&html, "cho-mo-equipped-count"), "56/56");
    assert_eq!(figure(&html, "cho-mo-equipped-percent"), "100,0%");
    assert_eq!(figure(&html, "cho-quang-oai-equipped-count"), "321/328");
    assert!(html.contains("href=\"/districts/ba-vi\""));
}

#[tokio::test]
async fn boards_see_only_their_own_market_or_district() {
    let app = demo_app().await;
    let cho_mo = app.token("board", Some("cho-mo"), None, None).await;
    let market = chopay::store::markets::by_slug(&app.store, "cho-mo")
        .await
        .expect("reads")
        .expect("cho-mo");
    let stall = chopay::store::stalls::by_code(&app.store, market.id, "A01")
        .await
        .expect("reads")
        .map(|s| s.id)
        .expect("stall A01 of cho-mo");
    let vendor = app.token("vendor", None, None, Some(stall)).await;

    let own = get_with_cookie(&app, "/boards/cho-mo", &cho_mo).await;
    own.expect(StatusCode::OK);
    let other = get_with_cookie(&app, "/boards/cho-quang-oai", &cho_mo).await;
    let missing = get_with_cookie(&app, "/boards/no-such-market", &cho_mo).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.text(),
        missing.text(),
        "not yours reads as does not exist"
    );
    assert!(!other.text().contains("Quảng Oai"));
    let district = get_with_cookie(&app, "/districts/ba-vi", &cho_mo).await;
    assert_eq!(district.status, StatusCode::NOT_FOUND);
    let stream = get_with_cookie(&app, "/boards/cho-quang-oai/events", &cho_mo).await;
    assert_eq!(stream.status, StatusCode::NOT_FOUND);

    // The market list shows only its market.
    let index = get_with_cookie(&app, "/", &cho_mo).await.text();
    assert!(index.contains("Chợ Mơ") && !index.contains("Chợ Quảng Oai"));

    let vendor_page = get_with_cookie(&app, "/boards/cho-mo", &vendor).await;
    assert_eq!(vendor_page.status, StatusCode::FORBIDDEN);
    assert!(vendor_page.text().contains("/vendor"));

    let anonymous = app.get("/boards/cho-mo", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let form = anonymous.text();
    assert!(form.contains("<form method=\"post\" action=\"/login\">"));
    assert!(form.contains("name=\"next\" value=\"/boards/cho-mo\""));
    assert!(!form.contains("56/56"));
}

async fn post_form(app: &TestApp, path: &str, body: &str) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .expect("request");
    app.send(request).await
}

#[tokio::test]
async fn the_login_form_keeps_a_good_token_refuses_a_bad_one_and_stays_on_this_site() {
    let app = demo_app().await;
    let board = app.token("board", Some("cho-mo"), None, None).await;

    let good = post_form(
        &app,
        "/login",
        &format!("token={board}&next=%2Fboards%2Fcho-mo"),
    )
    .await;
    assert_eq!(good.status, StatusCode::SEE_OTHER);
    assert_eq!(header_text(&good, header::LOCATION), "/boards/cho-mo");
    assert!(header_text(&good, header::SET_COOKIE).starts_with(&format!("chopay_token={board};")));

    let elsewhere = post_form(
        &app,
        "/login",
        &format!("token={board}&next=%2F%2Fevil.example"),
    )
    .await;
    assert_eq!(header_text(&elsewhere, header::LOCATION), "/");

    let bad = post_form(&app, "/login", "token=cp_wrong&next=%2F").await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.text().contains("Mã truy cập không đúng"));
    assert!(bad.headers.get(header::SET_COOKIE).is_none());

    let out = post_form(&app, "/logout", "").await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(header_text(&out, header::SET_COOKIE).contains("Max-Age=0"));
}

#[tokio::test]
async fn the_board_stream_sends_new_figures_when_a_credit_lands() {
    use crate::api::payments::{Market, credit};
    use futures_util::StreamExt;
    use tower::ServiceExt;

    let market = Market::new().await;
    market.stall("A01", "1234567890").await;
    let request = Request::builder()
        .uri("/boards/cho-mo/events")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", market.app.admin),
        )
        .body(Body::empty())
        .expect("request");
    let response = market
        .app
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = response.into_body().into_data_stream();

    market
        .pay(&credit("TXN-LIVE-1", "50000", "1234567890", "mua rau"))
        .await;

    let mut received = String::new();
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let chunk = body
                .next()
                .await
                .expect("the stream stays open")
                .expect("bytes");
            received.push_str(&String::from_utf8_lossy(&chunk));
            if let Some(at) = received.find("event: figures\n") {
                let rest = &received[at..];
                if let Some(end) = rest.find("\n\n") {
                    return rest[..end].to_owned();
                }
            }
        }
    })
    .await
    .expect("a figures event within 10 s");
    let data: String = event
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .collect();
    let parts: serde_json::Value = serde_json::from_str(&data).expect("JSON data");
    let volume = parts["volume"].as_str().expect("the volume fragment");
    assert_eq!(figure(volume, "today-count"), "1");
    assert_eq!(figure(volume, "today-amount"), "50.000đ");
    let adoption = parts["adoption"].as_str().expect("the adoption fragment");
    assert_eq!(figure(adoption, "active-count"), "1/1");
    assert!(
        parts["stall-rows"]
            .as_str()
            .unwrap()
            .contains("data-code=\"A01\"")
    );
}
