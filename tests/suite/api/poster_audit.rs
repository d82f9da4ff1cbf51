//! The poster audit (`POST /api/v1/stalls/{id}/poster-audit`): does the sticker on the stall pay
//! the stall? And the stall's `poster_status`: a poster printed before its account was (re)linked
//! is stale.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::app::{Reply, TestApp};
use chopay::domain::money::Vnd;
use chopay::domain::vietqr::{VietQr, VietQrFields};

/// A stall paying MB Bank 0352350917, not the Vietcombank account of `create_stall`.
async fn create_other_stall(app: &TestApp, market: &str, code: &str) -> Value {
    let body = json!({
        "code": code, "vendor_name": "Trần Văn Gian", "goods": "Thịt",
        "payee": {"bank": "970422", "account": "0352350917", "holder": "Tran Van Gian"}
    });
    app.post_json(
        &format!("/api/v1/markets/{market}/stalls"),
        Some(&app.admin),
        &body,
    )
    .await
    .expect(StatusCode::CREATED)
    .json()
}

async fn audit(app: &TestApp, id: i64, token: &str, payload: &str) -> Reply {
    app.post_json(
        &format!("/api/v1/stalls/{id}/poster-audit"),
        Some(token),
        &json!({ "payload": payload }),
    )
    .await
}

async fn stall(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/api/v1/stalls/{id}"), Some(&app.admin))
        .await
        .expect(StatusCode::OK)
        .json()
}

#[tokio::test]
async fn the_stalls_own_poster_code_is_ok() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let id = app.create_stall("cho-mo", "A01").await;
    let vendor = app.token("vendor", None, None, Some(id)).await;
    let payload = stall(&app, id).await["qr_payload"]
        .as_str()
        .expect("a linked stall has a static payload")
        .to_owned();

    let answer = audit(&app, id, &vendor, &payload)
        .await
        .expect(StatusCode::OK)
        .json();

    assert_eq!(answer["verdict"], "ok", "{answer}");
    assert_eq!(
        answer["message"],
        "Mã QR đúng tài khoản của sạp (•••• 7890 tại Vietcombank)."
    );
    assert_eq!(
        answer["expected"],
        json!({"bin": "970436", "bank": "Vietcombank", "account_masked": "•••• 7890"})
    );
    assert_eq!(answer["found"]["bin"], "970436");
    assert_eq!(answer["found"]["bank"], "Vietcombank");
    assert_eq!(answer["found"]["account"], "1234567890");
    assert_eq!(answer["found"]["amount"], Value::Null);
    assert_eq!(answer["warnings"], json!([]));
    assert_eq!(answer["detail"], Value::Null);

    let scanned_with_space = audit(&app, id, &vendor, &format!("  {payload}\n"))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        scanned_with_space["verdict"], "ok",
        "a scanner's stray white space does not matter: {scanned_with_space}"
    );
}

#[tokio::test]
async fn a_sticker_paying_another_account_is_a_warning_that_names_the_account() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let id = app.create_stall("cho-mo", "A01").await;
    let other = create_other_stall(&app, "cho-mo", "A02").await;
    let vendor = app.token("vendor", None, None, Some(id)).await;

    let answer = audit(&app, id, &vendor, other["qr_payload"].as_str().unwrap())
        .await
        .expect(StatusCode::OK)
        .json();

    assert_eq!(answer["verdict"], "other_account", "{answer}");
    assert_eq!(
        answer["message"],
        "Cảnh báo: mã QR này chuyển tiền vào tài khoản khác (0352350917 tại MB Bank), không phải \
         tài khoản của sạp. Hãy gỡ mã này và báo ban quản lý chợ."
    );
    assert_eq!(answer["expected"]["account_masked"], "•••• 7890");
    assert_eq!(answer["found"]["bin"], "970422");
    assert_eq!(answer["found"]["bank"], "MB Bank");
    assert_eq!(answer["found"]["account"], "0352350917");

    // The same account number at another bank is another account; a code with an amount and a
    // name says both.
    let elsewhere = VietQr::new(VietQrFields {
        bin: "970418".into(),
        account: "1234567890".into(),
        amount: Some(Vnd::from_dong(50_000).unwrap()),
        merchant_name: Some("Kẻ Gian".into()),
        ..VietQrFields::default()
    })
    .unwrap()
    .payload();
    let answer = audit(&app, id, &vendor, &elsewhere)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(answer["verdict"], "other_account", "{answer}");
    assert_eq!(answer["found"]["bin"], "970418");
    assert_eq!(answer["found"]["account"], "1234567890");
    assert_eq!(answer["found"]["holder"], "Ke Gian");
    assert_eq!(answer["found"]["amount"], "50000");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("1234567890 tại"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_stall_without_an_account_is_told_what_the_sticker_pays() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let unlinked = app
        .post_json(
            "/api/v1/markets/cho-mo/stalls",
            Some(&app.admin),
            &json!({"code": "B01", "vendor_name": "Lê Thị Mai"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json()["id"]
        .as_i64()
        .unwrap();
    let other = create_other_stall(&app, "cho-mo", "A02").await;
    let vendor = app.token("vendor", None, None, Some(unlinked)).await;

    let answer = audit(
        &app,
        unlinked,
        &vendor,
        other["qr_payload"].as_str().unwrap(),
    )
    .await
    .expect(StatusCode::OK)
    .json();

    assert_eq!(answer["verdict"], "no_account_linked", "{answer}");
    assert_eq!(answer["expected"], Value::Null);
    assert_eq!(answer["found"]["account"], "0352350917");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with("Sạp chưa liên kết tài khoản ngân hàng"),
        "{message}"
    );
    assert!(message.contains("0352350917 tại MB Bank"), "{message}");
}

#[tokio::test]
async fn text_that_is_not_a_vietqr_gets_a_verdict_not_an_error() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let id = app.create_stall("cho-mo", "A01").await;
    let vendor = app.token("vendor", None, None, Some(id)).await;
    let own = stall(&app, id).await["qr_payload"]
        .as_str()
        .unwrap()
        .to_owned();
    let corrupted = own.replace("1234567890", "1234567891");
    let at_the_limit = "x".repeat(512);
    for garbage in [
        "xin chào",
        "https://zalo.me/0912345678",
        corrupted.as_str(),
        at_the_limit.as_str(),
    ] {
        let answer = audit(&app, id, &vendor, garbage)
            .await
            .expect(StatusCode::OK)
            .json();
        assert_eq!(answer["verdict"], "not_vietqr", "{garbage}: {answer}");
        assert_eq!(answer["found"], Value::Null, "{garbage}");
        assert_eq!(answer["expected"]["account_masked"], "•••• 7890");
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("không phải mã VietQR"),
            "{garbage}: {answer}"
        );
        assert!(
            answer["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{garbage}: the decoder's reason: {answer}"
        );
    }
    let crc = audit(&app, id, &vendor, &corrupted).await.json();
    assert!(
        crc["detail"].as_str().unwrap().contains("CRC"),
        "an edited code fails its CRC: {crc}"
    );
}

#[tokio::test]
async fn malformed_empty_or_oversized_requests_are_refused() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let id = app.create_stall("cho-mo", "A01").await;
    let vendor = app.token("vendor", None, None, Some(id)).await;
    let path = format!("/api/v1/stalls/{id}/poster-audit");

    let too_long = audit(&app, id, &vendor, &"0".repeat(513))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(
        too_long["message"].as_str().unwrap().contains("512"),
        "{too_long}"
    );
    for empty in ["", "  \n"] {
        audit(&app, id, &vendor, empty)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    app.post_json(&path, Some(&vendor), &json!({}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.post_json(&path, Some(&vendor), &json!({"payload": 42}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.post_json(&path, Some(&vendor), &json!({"payload": "x", "extra": 1}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.call(
        Method::POST,
        &path,
        Some(&vendor),
        Some("application/json"),
        "{not json",
    )
    .await
    .expect_error(StatusCode::BAD_REQUEST, "bad_request");
    app.call(
        Method::POST,
        &path,
        Some(&vendor),
        Some("text/plain"),
        "000201",
    )
    .await
    .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    audit(&app, 999_999, &app.admin, "000201")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn only_those_who_read_the_stall_may_audit_its_poster() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    app.create_market("cho-son-tay", "son-tay").await;
    let own = app.create_stall("cho-mo", "A01").await;
    let neighbour = app.create_stall("cho-mo", "A02").await;
    let far = app.create_stall("cho-son-tay", "S01").await;
    let payload = stall(&app, own).await["qr_payload"]
        .as_str()
        .unwrap()
        .to_owned();

    let vendor = app.token("vendor", None, None, Some(own)).await;
    let neighbour_vendor = app.token("vendor", None, None, Some(neighbour)).await;
    let board = app.token("board", Some("cho-mo"), None, None).await;
    let district = app.token("board", None, Some("ba-vi"), None).await;
    let other_board = app.token("board", Some("cho-son-tay"), None, None).await;

    for (who, token) in [
        ("the stall's vendor", &vendor),
        ("the market's board", &board),
        ("the district's board", &district),
        ("an admin", &app.admin),
    ] {
        let answer = audit(&app, own, token, &payload)
            .await
            .expect(StatusCode::OK)
            .json();
        assert_eq!(answer["verdict"], "ok", "{who}: {answer}");
    }
    for (who, token, stall) in [
        ("the vendor of another stall", &neighbour_vendor, own),
        ("a vendor at another stall", &vendor, neighbour),
        ("the board of another market", &other_board, own),
        ("the market's board, far away", &board, far),
        (
            "a vendor, for a stall that does not exist",
            &vendor,
            999_999,
        ),
        ("a board, for a stall that does not exist", &board, 999_999),
    ] {
        let reply = audit(&app, stall, token, &payload).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{who}: {}",
            reply.text()
        );
        assert_eq!(reply.json()["code"], "not_found", "{who}");
    }
    let anonymous = app
        .post_json(
            &format!("/api/v1/stalls/{own}/poster-audit"),
            None,
            &json!({"payload": payload}),
        )
        .await;
    anonymous.expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

/// Records the market's posters as printed now, as a print run does.
async fn print_posters(app: &TestApp, market: &str) {
    let market = chopay::store::markets::by_slug(&app.store, market)
        .await
        .unwrap()
        .expect("the market exists");
    chopay::store::stalls::mark_posters_placed(&app.store, market.id, chopay::store::now_ms())
        .await
        .unwrap();
}

async fn codes_with_poster_status(app: &TestApp, query: &str) -> (Vec<String>, i64) {
    let list = app
        .get(
            &format!("/api/v1/markets/cho-mo/stalls?{query}"),
            Some(&app.admin),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    let codes = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap().to_owned())
        .collect();
    (codes, list["total"].as_i64().unwrap())
}

#[tokio::test]
async fn a_poster_goes_from_none_to_missing_to_current_and_stale_when_the_account_changes() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let created = app
        .post_json(
            "/api/v1/markets/cho-mo/stalls",
            Some(&app.admin),
            &json!({"code": "A01", "vendor_name": "Lê Thị Mai"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(created["poster_status"], "none", "no account: {created}");
    let id = created["id"].as_i64().unwrap();
    let path = format!("/api/v1/stalls/{id}");
    let link = |account: &str, bank: &str| json!({"payee": {"bank": bank, "account": account, "holder": "Le Thi Mai"}});

    let linked = app
        .patch_json(&path, Some(&app.admin), &link("1234567890", "VCB"))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        linked["poster_status"], "missing",
        "an account, no poster: {linked}"
    );

    print_posters(&app, "cho-mo").await;
    let printed = stall(&app, id).await;
    assert_eq!(printed["poster_status"], "current", "{printed}");
    assert!(printed["poster_printed_at"].is_string());

    let renamed = app
        .patch_json(&path, Some(&app.admin), &json!({"goods": "Rau sạch"}))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        renamed["poster_status"], "current",
        "other changes keep the poster: {renamed}"
    );
    let same_account = app
        .patch_json(&path, Some(&app.admin), &link("1234567890", "970436"))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        same_account["poster_status"], "current",
        "the same account again: {same_account}"
    );

    // The relink must land in a later millisecond than the print for "linked after printed".
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let relinked = app
        .patch_json(&path, Some(&app.admin), &link("0352350917", "970422"))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        relinked["poster_status"], "stale",
        "the poster pays the old account: {relinked}"
    );

    // The old poster's code is what the audit of a stale poster finds.
    let vendor = app.token("vendor", None, None, Some(id)).await;
    let old_code = VietQr::new(VietQrFields {
        bin: "970436".into(),
        account: "1234567890".into(),
        ..VietQrFields::default()
    })
    .unwrap()
    .payload();
    let answer = audit(&app, id, &vendor, &old_code)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(answer["verdict"], "other_account", "{answer}");

    let unlinked = app
        .patch_json(&path, Some(&app.admin), &json!({"payee": null}))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(unlinked["poster_status"], "none", "{unlinked}");
}

#[tokio::test]
async fn a_markets_stalls_can_be_listed_by_poster_status() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    for code in ["A01", "A02", "A03"] {
        app.create_stall("cho-mo", code).await;
    }
    print_posters(&app, "cho-mo").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let a04 = app.create_stall("cho-mo", "A04").await; // created after the print: missing
    app.create_stall("cho-mo", "A05").await;
    app.post_json(
        "/api/v1/markets/cho-mo/stalls",
        Some(&app.admin),
        &json!({"code": "B01", "vendor_name": "Lê Thị Mai"}),
    )
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(codes_with_poster_status(&app, "").await.1, 6);
    let a02_id = app
        .get("/api/v1/markets/cho-mo/stalls", Some(&app.admin))
        .await
        .json()["items"][1]["id"]
        .as_i64()
        .unwrap();
    app.patch_json(
        &format!("/api/v1/stalls/{a02_id}"),
        Some(&app.admin),
        &json!({"payee": {"bank": "970422", "account": "0352350917", "holder": "X"}}),
    )
    .await
    .expect(StatusCode::OK);
    app.patch_json(
        &format!("/api/v1/stalls/{a04}"),
        Some(&app.admin),
        &json!({"status": "inactive"}),
    )
    .await
    .expect(StatusCode::OK);

    let strings = |codes: &[&str]| codes.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
    for (query, codes) in [
        ("poster_status=none", strings(&["B01"])),
        ("poster_status=missing", strings(&["A04", "A05"])),
        ("poster_status=current", strings(&["A01", "A03"])),
        ("poster_status=stale", strings(&["A02"])),
        ("poster_status=missing&status=active", strings(&["A05"])),
        ("poster_status=missing&status=inactive", strings(&["A04"])),
    ] {
        let (listed, total) = codes_with_poster_status(&app, query).await;
        assert_eq!(listed, codes, "{query}");
        assert_eq!(total, i64::try_from(codes.len()).unwrap(), "{query}");
    }
    let (page_two, total) =
        codes_with_poster_status(&app, "poster_status=current&per_page=1&page=2").await;
    assert_eq!(
        (page_two, total),
        (strings(&["A03"]), 2),
        "pages of a filter"
    );
    let (past_the_end, total) =
        codes_with_poster_status(&app, "poster_status=current&per_page=5&page=9").await;
    assert_eq!((past_the_end.len(), total), (0, 2));

    // Each stall's own field agrees with the filter that lists it.
    let everything = app
        .get("/api/v1/markets/cho-mo/stalls", Some(&app.admin))
        .await
        .json();
    for item in everything["items"].as_array().unwrap() {
        let status = item["poster_status"].as_str().unwrap();
        let (listed, _) = codes_with_poster_status(&app, &format!("poster_status={status}")).await;
        assert!(
            listed.contains(&item["code"].as_str().unwrap().to_owned()),
            "{item}"
        );
    }
    app.get(
        "/api/v1/markets/cho-mo/stalls?poster_status=old",
        Some(&app.admin),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}
