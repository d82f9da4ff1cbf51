//! CSV import and export: all or nothing, every bad row named, re-import changes nothing.

use axum::http::StatusCode;

use crate::app::TestApp;

const GOOD: &str = "code,vendor_name,goods,phone,bank,account,holder
A01,Nguyễn Thị Hương,Rau củ,0912345678,VCB,1234567890,Nguyễn Thị Hương
A02,Trần Văn Hùng,Thịt lợn,,Agribank,1500205123456,TRAN VAN HUNG
A03,Khuất Thị Nguyệt,Cá đồng,,970422,0352350917,Khuat Thi Nguyet
B01,Kiều Văn Lực,Gạo,,,,
";

#[tokio::test]
async fn a_board_spreadsheet_imports_and_reimporting_it_changes_nothing() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let path = "/api/v1/markets/cho-mo/stalls/import";
    let dry = app
        .post_csv(&format!("{path}?dry_run=true"), Some(&app.admin), GOOD)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        (dry["dry_run"].as_bool(), dry["created"].as_u64()),
        (Some(true), Some(4))
    );
    assert_eq!(
        app.get("/api/v1/markets/cho-mo/stalls", Some(&app.admin))
            .await
            .json()["total"],
        0,
        "a dry run writes nothing"
    );

    let first = app
        .post_csv(path, Some(&app.admin), GOOD)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        (
            first["rows"].as_u64(),
            first["created"].as_u64(),
            first["updated"].as_u64()
        ),
        (Some(4), Some(4), Some(0))
    );
    let stalls = app
        .get("/api/v1/markets/cho-mo/stalls", Some(&app.admin))
        .await
        .json();
    assert_eq!(stalls["items"][1]["payee"]["bank"], "Agribank");
    assert_eq!(stalls["items"][3]["payee"], serde_json::Value::Null);
    let before = app
        .get("/api/v1/markets/cho-mo/stalls", Some(&app.admin))
        .await
        .body;

    let again = app
        .post_csv(path, Some(&app.admin), GOOD)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        (
            again["created"].as_u64(),
            again["updated"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(4))
    );
    assert_eq!(
        app.get("/api/v1/markets/cho-mo/stalls", Some(&app.admin))
            .await
            .body,
        before,
        "nothing changed"
    );

    let changed = GOOD.replace("Gạo", "Gạo nếp");
    let third = app
        .post_csv(path, Some(&app.admin), &changed)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        (third["updated"].as_u64(), third["unchanged"].as_u64()),
        (Some(1), Some(3))
    );
}

#[tokio::test]
async fn one_bad_row_writes_nothing_and_every_bad_row_is_named() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let bad = "code,vendor_name,goods,phone,bank,account,holder
A01,Nguyễn Thị Hương,Rau củ,0912345678,VCB,1234567890,Nguyễn Thị Hương
A02,Trần Văn Hùng,Thịt lợn,,nobank,1500205123456,TRAN VAN HUNG
A03,Khuất Thị Nguyệt,Cá đồng,,970422,,Khuat Thi Nguyet
A01,Lê Thị Mai,Hoa quả,,,,
";
    let reply = app
        .post_csv(
            "/api/v1/markets/cho-mo/stalls/import",
            Some(&app.admin),
            bad,
        )
        .await;
    let json = reply.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "import_rejected");
    assert_eq!(json["message"], "3 row(s) are invalid; nothing was written");
    let errors = json["errors"].as_array().unwrap();
    let lines: Vec<u64> = errors.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3, 4, 5]);
    assert_eq!(errors[0]["code"], "A02");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("bank: no bank matches 'nobank'"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1]["message"]
            .as_str()
            .unwrap()
            .contains("bank, account and holder go together")
    );
    assert_eq!(errors[2]["message"], "the same code is on line 2");
    assert_eq!(
        app.get("/api/v1/markets/cho-mo/stalls", Some(&app.admin))
            .await
            .json()["total"],
        0
    );
}

#[tokio::test]
async fn export_gives_back_the_import_columns_and_reimports_unchanged() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    app.post_csv(
        "/api/v1/markets/cho-mo/stalls/import",
        Some(&app.admin),
        GOOD,
    )
    .await
    .expect(StatusCode::OK);
    let export = app
        .get("/api/v1/markets/cho-mo/stalls.csv", Some(&app.admin))
        .await;
    export.expect(StatusCode::OK);
    assert_eq!(export.headers["content-type"], "text/csv; charset=utf-8");
    let text = export.text();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("code,vendor_name,goods,phone,bank,account,holder")
    );
    assert_eq!(
        lines.next(),
        Some("A01,Nguyễn Thị Hương,Rau củ,0912345678,970436,1234567890,NGUYEN THI HUONG")
    );
    let again = app
        .post_csv(
            "/api/v1/markets/cho-mo/stalls/import",
            Some(&app.admin),
            &text,
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(again["unchanged"], 4);
}

#[tokio::test]
async fn files_that_are_not_utf8_csv_are_refused() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let path = "/api/v1/markets/cho-mo/stalls/import";
    let latin1: Vec<u8> = b"code,vendor_name\nA01,Nguy\xean\n".to_vec();
    let reply = app
        .call(
            axum::http::Method::POST,
            path,
            Some(&app.admin),
            Some("text/csv"),
            latin1,
        )
        .await;
    let json = reply.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("not UTF-8 text (line 2)"),
        "{json}"
    );
    app.post_json(path, Some(&app.admin), &serde_json::json!({}))
        .await
        .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let no_header = app.post_csv(path, Some(&app.admin), "A01,Lan\n").await;
    assert!(
        no_header.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")["message"]
            .as_str()
            .unwrap()
            .contains("lacks code, vendor_name")
    );
    let with_bom = format!("\u{FEFF}{GOOD}");
    app.post_csv(path, Some(&app.admin), &with_bom)
        .await
        .expect(StatusCode::OK);
}
