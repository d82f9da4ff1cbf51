//! Stalls: create, read, update, link and unlink accounts, and their static QR.

use axum::http::StatusCode;
use serde_json::json;

use crate::app::TestApp;

#[tokio::test]
async fn a_stall_is_stored_normalized_and_serves_its_static_code() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let body = json!({
        "code": " a12 ", "vendor_name": "Nguye\u{302}\u{303}n Thi\u{323} Hương", "goods": "Rau củ", "phone": "+84 912 345 678",
        "payee": {"bank": "Vietcombank", "account": "1234567890", "holder": "Nguyễn Thị Hương"}
    });
    let stall = app
        .post_json("/api/v1/markets/cho-mo/stalls", Some(&app.admin), &body)
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(stall["code"], "A12");
    assert_eq!(stall["vendor_name"], "Nguyễn Thị Hương", "NFC-normalized");
    assert_eq!(stall["phone"], "0912345678");
    assert_eq!(stall["payee"]["bin"], "970436");
    assert_eq!(stall["payee"]["bank"], "Vietcombank");
    assert_eq!(stall["payee"]["holder"], "NGUYEN THI HUONG");
    assert_eq!(stall["payee"]["service"], "account");
    assert_eq!(stall["status"], "active");
    let payload = stall["qr_payload"].as_str().expect("payload");
    let decoded = chopay::domain::vietqr::decode(payload).expect("decodes");
    assert_eq!(
        (
            decoded.bin.as_deref(),
            decoded.account.as_deref(),
            decoded.amount
        ),
        (Some("970436"), Some("1234567890"), None)
    );

    let id = stall["id"].as_i64().unwrap();
    let svg = app
        .get(&format!("/api/v1/stalls/{id}/qr.svg"), Some(&app.admin))
        .await;
    svg.expect(StatusCode::OK);
    assert_eq!(svg.headers["content-type"], "image/svg+xml");
    assert!(svg.text().starts_with("<svg"));
    let png = app
        .get(
            &format!("/api/v1/stalls/{id}/qr.png?module_px=4"),
            Some(&app.admin),
        )
        .await;
    png.expect(StatusCode::OK);
    assert_eq!(png.headers["content-type"], "image/png");
    let image = image::load_from_memory(&png.body).expect("a PNG");
    assert_eq!(image.width() % 4, 0);
    app.get(
        &format!("/api/v1/stalls/{id}/qr.png?module_px=0"),
        Some(&app.admin),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[tokio::test]
async fn a_stall_without_an_account_has_no_code() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let body = json!({"code": "B01", "vendor_name": "Trần Văn Hùng"});
    let stall = app
        .post_json("/api/v1/markets/cho-mo/stalls", Some(&app.admin), &body)
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(stall["payee"], serde_json::Value::Null);
    assert_eq!(stall["qr_payload"], serde_json::Value::Null);
    let id = stall["id"].as_i64().unwrap();
    app.get(&format!("/api/v1/stalls/{id}/qr.svg"), Some(&app.admin))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn linking_relinking_and_unlinking_an_account() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let id = app.create_stall("cho-mo", "A01").await;
    let path = format!("/api/v1/stalls/{id}");
    let first = app.get(&path, Some(&app.admin)).await.json();

    let same = app
        .patch_json(&path, Some(&app.admin), &json!({"goods": "Rau sạch"}))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(same["goods"], "Rau sạch");
    assert_eq!(
        same["account_linked_at"], first["account_linked_at"],
        "the account did not change"
    );

    let relinked =
        json!({"payee": {"bank": "970422", "account": "0352350917", "holder": "Nguyen Thi Huong"}});
    let stall = app
        .patch_json(&path, Some(&app.admin), &relinked)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(stall["payee"]["bank"], "MB Bank");
    assert!(stall["qr_payload"].as_str().unwrap().contains("0006970422"));

    let unlinked = app
        .patch_json(
            &path,
            Some(&app.admin),
            &json!({"payee": null, "phone": null}),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(unlinked["payee"], serde_json::Value::Null);
    assert_eq!(unlinked["account_linked_at"], serde_json::Value::Null);
}

#[tokio::test]
async fn bad_stalls_are_refused_and_nothing_changes() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let id = app.create_stall("cho-mo", "A01").await;
    let path = format!("/api/v1/stalls/{id}");
    let before = app.get(&path, Some(&app.admin)).await.body;

    let duplicate = json!({"code": "a01", "vendor_name": "Lê Thị Mai"});
    app.post_json(
        "/api/v1/markets/cho-mo/stalls",
        Some(&app.admin),
        &duplicate,
    )
    .await
    .expect_error(StatusCode::CONFLICT, "conflict");
    for (name, patch) in [
        (
            "partial account",
            json!({"payee": {"bank": "VCB", "account": "", "holder": "X"}}),
        ),
        (
            "unknown bank",
            json!({"payee": {"bank": "nobank", "account": "1", "holder": "X"}}),
        ),
        (
            "unknown BIN",
            json!({"payee": {"bank": "123456", "account": "1", "holder": "X"}}),
        ),
        (
            "long account",
            json!({"payee": {"bank": "VCB", "account": "1".repeat(20), "holder": "X"}}),
        ),
        (
            "letters in a card",
            json!({"payee": {"bank": "VCB", "account": "ABC", "holder": "X", "service": "card"}}),
        ),
        (
            "bad service",
            json!({"payee": {"bank": "VCB", "account": "1", "holder": "X", "service": "wallet"}}),
        ),
        ("bad status", json!({"status": "closed"})),
        ("bad phone", json!({"phone": "12"})),
        ("zero-width name", json!({"vendor_name": "Lan\u{200B}"})),
        ("long goods", json!({"goods": "g".repeat(1000)})),
    ] {
        let reply = app.patch_json(&path, Some(&app.admin), &patch).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            reply.text()
        );
        assert_eq!(reply.json()["code"], "validation_failed", "{name}");
    }
    let id_b = app.create_stall("cho-mo", "A02").await;
    app.patch_json(
        &format!("/api/v1/stalls/{id_b}"),
        Some(&app.admin),
        &json!({"code": "A01"}),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "conflict");
    app.get("/api/v1/stalls/not-a-number", Some(&app.admin))
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
    app.get("/api/v1/stalls/999999", Some(&app.admin))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.get(&path, Some(&app.admin)).await.body, before);
}

#[tokio::test]
async fn stall_lists_page_and_filter_by_status() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    for code in ["A03", "A01", "A02"] {
        app.create_stall("cho-mo", code).await;
    }
    let id = app
        .get("/api/v1/markets/cho-mo/stalls", Some(&app.admin))
        .await
        .json()["items"][1]["id"]
        .as_i64()
        .unwrap();
    app.patch_json(
        &format!("/api/v1/stalls/{id}"),
        Some(&app.admin),
        &json!({"status": "inactive"}),
    )
    .await
    .expect(StatusCode::OK);
    let all = app
        .get("/api/v1/markets/cho-mo/stalls?per_page=2", Some(&app.admin))
        .await
        .json();
    assert_eq!(all["total"], 3);
    let codes: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["A01", "A02"]);
    let inactive = app
        .get(
            "/api/v1/markets/cho-mo/stalls?status=inactive",
            Some(&app.admin),
        )
        .await
        .json();
    assert_eq!(inactive["total"], 1);
    assert_eq!(inactive["items"][0]["code"], "A02");
    app.get(
        "/api/v1/markets/cho-mo/stalls?status=closed",
        Some(&app.admin),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}
