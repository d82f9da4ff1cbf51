//! Health, metrics, the OpenAPI document, and the error shape of requests no route takes.

use axum::http::{Method, StatusCode};

use crate::app::{TestApp, on_postgres};

#[tokio::test]
async fn health_names_the_database_it_reached() {
    let app = TestApp::spawn().await;
    let reply = app.get("/healthz", None).await;
    let json = reply.expect(StatusCode::OK).json();
    assert_eq!(json["status"], "ok");
    assert_eq!(
        json["database"],
        if on_postgres() { "postgres" } else { "sqlite" }
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint() {
    let app = TestApp::spawn().await;
    let json = app
        .get("/openapi.json", None)
        .await
        .expect(StatusCode::OK)
        .json();
    let paths = json["paths"].as_object().expect("paths");
    for (path, methods) in [
        ("/healthz", vec!["get"]),
        ("/metrics", vec!["get"]),
        ("/api/v1/markets", vec!["get", "post"]),
        ("/api/v1/markets/{slug}", vec!["get", "patch"]),
        ("/api/v1/markets/{slug}/stalls", vec!["get", "post"]),
        ("/api/v1/markets/{slug}/stalls/import", vec!["post"]),
        ("/api/v1/markets/{slug}/stalls.csv", vec!["get"]),
        ("/api/v1/stalls/{id}", vec!["get", "patch"]),
        ("/api/v1/stalls/{id}/qr.svg", vec!["get"]),
        ("/api/v1/stalls/{id}/qr.png", vec!["get"]),
        ("/api/v1/stalls/{id}/poster-audit", vec!["post"]),
        ("/api/v1/stalls/{id}/poster.pdf", vec!["get"]),
        ("/api/v1/stalls/{id}/poster.png", vec!["get"]),
        ("/api/v1/markets/{slug}/posters.pdf", vec!["get"]),
        ("/api/v1/markets/{slug}/stats", vec!["get"]),
        ("/api/v1/markets/{slug}/report.csv", vec!["get"]),
        ("/api/v1/districts/{slug}/stats", vec!["get"]),
    ] {
        for method in methods {
            assert!(
                paths.get(path).and_then(|p| p.get(method)).is_some(),
                "{method} {path} is not documented"
            );
        }
    }
    assert!(json["components"]["schemas"]["ErrorBody"].is_object());
    assert!(json["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/markets", None)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    app.get("/api/v1/stalls/12345", Some(&app.admin))
        .await
        .expect(StatusCode::NOT_FOUND);
    let text = app
        .get("/metrics", None)
        .await
        .expect(StatusCode::OK)
        .text();
    assert!(
        text.contains(
            r#"chopay_http_requests_total{method="GET",route="/api/v1/markets",status="401"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/stalls/{id}",status="404"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("chopay_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        !text.contains("12345"),
        "concrete paths must not become labels"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/nothing", Some(&app.admin))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.call(
        Method::DELETE,
        "/api/v1/markets",
        Some(&app.admin),
        None,
        "",
    )
    .await
    .expect_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = TestApp::spawn_with(chopay::http::Limits {
        body_bytes: 4096,
        ..Default::default()
    })
    .await;
    let big = serde_json::json!({"slug": "cho-to", "name": "x".repeat(10_000)});
    app.post_json("/api/v1/markets", Some(&app.admin), &big)
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}
