//! Markets: create, read, update, list; bad input gets a 4xx and changes nothing.

use axum::http::StatusCode;
use serde_json::json;

use crate::app::TestApp;

#[tokio::test]
async fn an_admin_creates_reads_updates_and_lists_markets() {
    let app = TestApp::spawn().await;
    let created = app.create_market("cho-mo", "ba-vi").await;
    assert_eq!(created["slug"], "cho-mo");
    assert_eq!(created["name"], "Chợ cho-mo");
    assert_eq!(created["stalls_url"], "/api/v1/markets/cho-mo/stalls");

    let read = app
        .get("/api/v1/markets/cho-mo", Some(&app.admin))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(read["district_slug"], "ba-vi");

    let patch = json!({"name": "  Chợ   Mơ ", "households_registered": 56});
    let updated = app
        .patch_json("/api/v1/markets/cho-mo", Some(&app.admin), &patch)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(updated["name"], "Chợ Mơ");
    assert_eq!(updated["households_registered"], 56);
    assert_eq!(updated["commune"], "xã Vạn Thắng");

    for slug in ["cho-quang-oai", "cho-a", "cho-b"] {
        app.create_market(slug, "ba-vi").await;
    }
    let page = app
        .get("/api/v1/markets?page=2&per_page=3", Some(&app.admin))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(page["total"], 4);
    assert_eq!(page["page"], 2);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["items"][0]["slug"], "cho-quang-oai");
}

#[tokio::test]
async fn a_taken_slug_is_a_conflict_and_the_first_market_stays() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let again = json!({"slug": "cho-mo", "name": "Other", "commune": "c", "district": "d", "district_slug": "ba-vi", "province": "p"});
    app.post_json("/api/v1/markets", Some(&app.admin), &again)
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
    let read = app
        .get("/api/v1/markets/cho-mo", Some(&app.admin))
        .await
        .json();
    assert_eq!(read["name"], "Chợ cho-mo");
}

#[tokio::test]
async fn malformed_requests_get_4xx_with_a_code_and_nothing_changes() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let before = app
        .get("/api/v1/markets/cho-mo", Some(&app.admin))
        .await
        .body;
    let valid = json!({"slug": "cho-x", "name": "X", "commune": "c", "district": "d", "district_slug": "ba-vi", "province": "p"});

    let cases: Vec<(&str, String, Option<&str>, StatusCode, &str)> = vec![
        ("syntax", "{\"slug\": ".into(), Some("application/json"), StatusCode::BAD_REQUEST, "bad_request"),
        ("no content type", valid.to_string(), None, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ("unknown field", json!({"slug": "cho-x", "name": "X", "commune": "c", "district": "d", "district_slug": "ba-vi", "province": "p", "mayor": "x"}).to_string(), Some("application/json"), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        ("wrong type", json!({"slug": "cho-x", "name": 5, "commune": "c", "district": "d", "district_slug": "ba-vi", "province": "p"}).to_string(), Some("application/json"), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        ("bad slug", json!({"slug": "Chợ X", "name": "X", "commune": "c", "district": "d", "district_slug": "ba-vi", "province": "p"}).to_string(), Some("application/json"), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        ("long name", json!({"slug": "cho-x", "name": "x".repeat(500), "commune": "c", "district": "d", "district_slug": "ba-vi", "province": "p"}).to_string(), Some("application/json"), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        ("bidi override", json!({"slug": "cho-x", "name": "Chợ\u{202E}X", "commune": "c", "district": "d", "district_slug": "ba-vi", "province": "p"}).to_string(), Some("application/json"), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        ("negative households", json!({"slug": "cho-x", "name": "X", "commune": "c", "district": "d", "district_slug": "ba-vi", "province": "p", "households_registered": -3}).to_string(), Some("application/json"), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
    ];
    for (name, body, content_type, status, code) in cases {
        let reply = app
            .call(
                axum::http::Method::POST,
                "/api/v1/markets",
                Some(&app.admin),
                content_type,
                body,
            )
            .await;
        assert_eq!(reply.status, status, "{name}: {}", reply.text());
        assert_eq!(reply.json()["code"], code, "{name}");
    }
    let bad_patch = json!({"name": ""});
    app.patch_json("/api/v1/markets/cho-mo", Some(&app.admin), &bad_patch)
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(
        app.get("/api/v1/markets/cho-mo", Some(&app.admin))
            .await
            .body,
        before
    );
    let list = app.get("/api/v1/markets", Some(&app.admin)).await.json();
    assert_eq!(list["total"], 1, "no bad request created a market");
}

#[tokio::test]
async fn paging_parameters_are_checked() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/markets?page=abc", Some(&app.admin))
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
    app.get("/api/v1/markets?sort=name", Some(&app.admin))
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
    let huge = app
        .get("/api/v1/markets?per_page=100000", Some(&app.admin))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(huge["per_page"], 500);
}
