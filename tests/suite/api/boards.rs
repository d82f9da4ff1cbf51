//! What market and district boards see: adoption (registered → account → poster → active) with
//! percentages as the campaign reports them, cashless volume by kind with its daily series, the
//! stalls to visit, and the monthly report CSV. Payments arrive as real signed deliveries
//! (`payments::Market`); the demo's Ba Vì markets give the campaign's own figures.

use axum::http::{StatusCode, header};
use serde_json::{Value, json};

use chopay::domain::day::Day;
use chopay::service::demo;

use super::payments::{Market, NOWHERE, bank_description, credit};
use crate::app::TestApp;

/// The report's header line.
const REPORT_HEADER: &str = "market,month,code,vendor_name,goods,account_linked,poster,active,credits,amount,\
     dynamic_credits,dynamic_amount,static_credits,static_amount,assigned_credits,assigned_amount,last_credit_date";

/// The codes of the seven stalls of Chợ Quảng Oai without a bank account.
const QUANG_OAI_UNLINKED: [&str; 7] = ["A18", "B24", "C22", "D36", "F07", "G17", "H23"];

/// A GET that must succeed, as JSON.
async fn get_json(app: &TestApp, path: &str, token: &str) -> Value {
    app.get(path, Some(token))
        .await
        .expect(StatusCode::OK)
        .json()
}

/// A count of credits and their sum, checking the types: the count an integer, the amount a
/// string of whole đồng.
#[track_caller]
fn tally(value: &Value) -> (i64, String) {
    let count = value["count"]
        .as_i64()
        .unwrap_or_else(|| panic!("count is an integer: {value}"));
    let amount = value["amount"]
        .as_str()
        .unwrap_or_else(|| panic!("amount is a string: {value}"));
    assert!(
        !amount.is_empty() && amount.bytes().all(|b| b.is_ascii_digit()),
        "amount is whole đồng: {value}"
    );
    (count, amount.to_owned())
}

/// `(count, amount)` as `tally` gives it.
fn t(count: i64, amount: &str) -> (i64, String) {
    (count, amount.to_owned())
}

/// A share as the API writes it: part, whole, percentage.
type Share = (u64, u64, String);

/// A share: part, whole (integers) and the percentage (a string).
#[track_caller]
fn share(value: &Value) -> Share {
    let count = value["count"]
        .as_u64()
        .unwrap_or_else(|| panic!("count is an integer: {value}"));
    let of = value["of"]
        .as_u64()
        .unwrap_or_else(|| panic!("of is an integer: {value}"));
    let percent = value["percent"]
        .as_str()
        .unwrap_or_else(|| panic!("percent is a string: {value}"));
    (count, of, percent.to_owned())
}

fn s(count: u64, of: u64, percent: &str) -> Share {
    (count, of, percent.to_owned())
}

/// Every kind of credit of a `credits` object, in the order all, matched, unmatched, dynamic,
/// static, assigned.
#[track_caller]
fn kinds(credits: &Value) -> [(i64, String); 6] {
    [
        "all",
        "matched",
        "unmatched",
        "dynamic",
        "static",
        "assigned",
    ]
    .map(|kind| tally(&credits[kind]))
}

/// The visit list as (code, reason).
fn visits(stats: &Value) -> Vec<(String, String)> {
    stats["visits"]
        .as_array()
        .unwrap_or_else(|| panic!("visits: {stats}"))
        .iter()
        .map(|v| {
            (
                v["code"].as_str().expect("code").to_owned(),
                v["reason"].as_str().expect("reason").to_owned(),
            )
        })
        .collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// A day of the API (`YYYY-MM-DD`) moved by `days`.
fn shift(day: &str, days: i64) -> String {
    Day::parse(day)
        .unwrap_or_else(|| panic!("a day: {day}"))
        .plus_days(days)
        .to_string()
}

/// Prints a stall's poster as an admin, which records it: the stall is then equipped.
async fn print_poster(app: &TestApp, stall: i64) {
    app.get(
        &format!("/api/v1/stalls/{stall}/poster.png"),
        Some(&app.admin),
    )
    .await
    .expect(StatusCode::OK);
}

/// Creates a stall through the API as admin from a JSON body; returns its id.
async fn add_stall(app: &TestApp, market: &str, body: &Value) -> i64 {
    app.post_json(
        &format!("/api/v1/markets/{market}/stalls"),
        Some(&app.admin),
        body,
    )
    .await
    .expect(StatusCode::CREATED)
    .json()["id"]
        .as_i64()
        .expect("id")
}

/// Gives an unmatched credit to a stall as an admin.
async fn assign(app: &TestApp, credit_id: &Value, stall: i64) {
    app.post_json(
        &format!("/api/v1/credits/{credit_id}/assign"),
        Some(&app.admin),
        &json!({"stall_id": stall, "note": "khách gọi điện"}),
    )
    .await
    .expect(StatusCode::OK);
    crate::app::assert_books_balance(&app.store).await;
}

/// The daily entries, checked to be every day from `from` to `to`, oldest first.
#[track_caller]
fn daily(stats: &Value) -> Vec<Value> {
    let days = stats["daily"]
        .as_array()
        .unwrap_or_else(|| panic!("daily: {stats}"))
        .clone();
    let from = stats["from"].as_str().expect("from");
    let to = stats["to"].as_str().expect("to");
    let dates: Vec<&str> = days
        .iter()
        .map(|d| d["date"].as_str().expect("date"))
        .collect();
    assert_eq!(dates.first().copied(), Some(from), "{dates:?}");
    assert_eq!(dates.last().copied(), Some(to), "{dates:?}");
    for pair in dates.windows(2) {
        assert_eq!(shift(pair[0], 1), pair[1], "consecutive days: {dates:?}");
    }
    days
}

/// A day's entry with nothing paid.
fn quiet_day(date: &str) -> Value {
    json!({
        "date": date, "count": 0, "amount": "0", "dynamic_count": 0, "dynamic_amount": "0",
        "static_count": 0, "static_amount": "0", "unmatched_count": 0, "unmatched_amount": "0",
        "assigned_count": 0, "assigned_amount": "0"
    })
}

#[tokio::test]
async fn the_demo_markets_show_the_campaigns_adoption_and_whom_to_visit() {
    let app = TestApp::spawn().await;
    demo::seed(&app.store).await.expect("demo seeds");
    let admin = app.admin.clone();

    let quang_oai = get_json(&app, "/api/v1/markets/cho-quang-oai/stats", &admin).await;
    assert_eq!(quang_oai["market"]["slug"], "cho-quang-oai");
    assert_eq!(quang_oai["market"]["name"], "Chợ Quảng Oai");
    assert_eq!(quang_oai["market"]["district"], "huyện Ba Vì");
    assert_eq!(quang_oai["market"]["district_slug"], "ba-vi");
    let stalls = &quang_oai["stalls"];
    assert_eq!(stalls["registered"].as_u64(), Some(328), "{stalls}");
    assert_eq!(share(&stalls["linked"]), s(321, 328, "97.9"));
    assert_eq!(share(&stalls["equipped"]), s(321, 328, "97.9"));
    assert_eq!(share(&stalls["active"]), s(0, 328, "0.0"));
    assert_eq!(stalls["active_window_days"], 30);
    assert_eq!(tally(&quang_oai["credits"]["all"]), t(0, "0"));
    assert_eq!(quang_oai["to"], quang_oai["today"]);
    assert_eq!(daily(&quang_oai).len(), 30);

    // The seven stalls without an account come first, in code order, then every equipped stall
    // that has not been paid by QR yet.
    let list = quang_oai["visits"].as_array().expect("visits");
    assert_eq!(list.len(), 328, "{quang_oai}");
    for (visit, code) in list.iter().zip(QUANG_OAI_UNLINKED) {
        assert_eq!(visit["code"], code, "{visit}");
        assert_eq!(visit["reason"], "no_account", "{visit}");
        assert_eq!(
            visit["advice"], "Chưa liên kết tài khoản ngân hàng",
            "{visit}"
        );
        assert!(visit["stall_id"].is_i64(), "{visit}");
        assert!(
            visit["vendor_name"]
                .as_str()
                .is_some_and(|name| name.contains(' ')),
            "a vendor's full name: {visit}"
        );
    }
    assert!(
        list[7..].iter().all(|v| v["reason"] == "inactive"
            && v["advice"] == "Chưa nhận thanh toán không tiền mặt gần đây"),
        "the rest are equipped but quiet: {}",
        list[7]
    );

    let mo = get_json(&app, "/api/v1/markets/cho-mo/stats", &admin).await;
    assert_eq!(mo["stalls"]["registered"], 56);
    assert_eq!(share(&mo["stalls"]["linked"]), s(56, 56, "100.0"));
    assert_eq!(share(&mo["stalls"]["equipped"]), s(56, 56, "100.0"));
    assert_eq!(share(&mo["stalls"]["active"]), s(0, 56, "0.0"));

    let ba_vi = get_json(&app, "/api/v1/districts/ba-vi/stats", &admin).await;
    assert_eq!(ba_vi["slug"], "ba-vi");
    assert_eq!(ba_vi["name"], "huyện Ba Vì");
    assert_eq!(ba_vi["stalls"]["registered"], 384);
    assert_eq!(share(&ba_vi["stalls"]["linked"]), s(377, 384, "98.2"));
    assert_eq!(share(&ba_vi["stalls"]["equipped"]), s(377, 384, "98.2"));
    assert_eq!(share(&ba_vi["stalls"]["active"]), s(0, 384, "0.0"));
    assert_eq!(daily(&ba_vi).len(), 30);
    let markets = ba_vi["markets"].as_array().expect("markets");
    let shown: Vec<(&str, u64, Share, u64)> = markets
        .iter()
        .map(|m| {
            (
                m["slug"].as_str().expect("slug"),
                m["stalls"]["registered"].as_u64().expect("registered"),
                share(&m["stalls"]["linked"]),
                m["visits"].as_u64().expect("visits"),
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            ("cho-mo", 56, s(56, 56, "100.0"), 56),
            ("cho-quang-oai", 328, s(321, 328, "97.9"), 328),
        ]
    );
    assert_eq!(markets[1]["name"], "Chợ Quảng Oai");
    assert_eq!(markets[1]["stalls"], quang_oai["stalls"]);
    assert_eq!(markets[0]["stalls"], mo["stalls"]);
}

#[tokio::test]
async fn the_visit_list_puts_the_most_urgent_stalls_first_and_leaves_out_closed_ones() {
    let m = Market::new().await;
    let app = &m.app;
    let unlinked = |code: &str, name: &str, status: &str| json!({"code": code, "vendor_name": name, "goods": "Rau củ", "status": status});
    let b01 = add_stall(app, "cho-mo", &unlinked("B01", "Lê Văn Tám", "active")).await;
    let a01 = add_stall(app, "cho-mo", &unlinked("A01", "Phùng Thị Lựu", "active")).await;
    add_stall(app, "cho-mo", &unlinked("A00", "Đã Nghỉ Bán", "inactive")).await;
    let a02 = m.stall("A02", "1000000002").await;
    let a03 = m.stall("A03", "1000000003").await;
    let a04 = m.stall("A04", "1000000004").await;
    let a05 = m.stall("A05", "1000000005").await;
    for stall in [a03, a04, a05] {
        print_poster(app, stall).await;
    }
    // A03 changes bank account after its poster was printed: the poster pays the old one.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.patch_json(
        &format!("/api/v1/stalls/{a03}"),
        Some(&app.admin),
        &json!({"payee": {"bank": "VCB", "account": "1000000033", "holder": "Nguyễn Thị Hương"}}),
    )
    .await
    .expect(StatusCode::OK);
    m.pay(&credit("P1", "30000", "1000000005", "chuyen tien"))
        .await;

    let stats = get_json(app, "/api/v1/markets/cho-mo/stats", &app.admin).await;
    let stalls = &stats["stalls"];
    assert_eq!(stalls["registered"], 6, "the closed stall is not counted");
    assert_eq!(share(&stalls["linked"]), s(4, 6, "66.7"));
    assert_eq!(share(&stalls["equipped"]), s(2, 6, "33.3"));
    assert_eq!(share(&stalls["active"]), s(1, 6, "16.7"));
    assert_eq!(
        visits(&stats),
        owned(&[
            ("A01", "no_account"),
            ("B01", "no_account"),
            ("A02", "no_poster"),
            ("A03", "stale_poster"),
            ("A04", "inactive"),
        ])
    );
    let expected = [
        (a01, "Phùng Thị Lựu", "Chưa liên kết tài khoản ngân hàng"),
        (b01, "Lê Văn Tám", "Chưa liên kết tài khoản ngân hàng"),
        (a02, "Nguyễn Thị Hương", "Chưa in mã QR"),
        (a03, "Nguyễn Thị Hương", "Mã QR cũ, cần in lại"),
        (
            a04,
            "Nguyễn Thị Hương",
            "Chưa nhận thanh toán không tiền mặt gần đây",
        ),
    ];
    for (visit, (id, name, advice)) in stats["visits"].as_array().unwrap().iter().zip(expected) {
        assert_eq!(visit["stall_id"], id, "{visit}");
        assert_eq!(visit["vendor_name"], name, "{visit}");
        assert_eq!(visit["advice"], advice, "{visit}");
    }
}

#[tokio::test]
async fn every_payment_counts_once_by_kind_and_an_assignment_moves_it_out_of_unmatched() {
    let m = Market::new().await;
    let a01 = m.stall("A01", "1012345678").await;
    let a02 = m.stall("A02", "1098765432").await;
    for stall in [a01, a02] {
        print_poster(&m.app, stall).await;
    }
    let board = m.app.token("board", Some("cho-mo"), None, None).await;
    let path = "/api/v1/markets/cho-mo/stats";

    let empty = get_json(&m.app, path, &board).await;
    assert_eq!(
        kinds(&empty["credits"]),
        [
            t(0, "0"),
            t(0, "0"),
            t(0, "0"),
            t(0, "0"),
            t(0, "0"),
            t(0, "0")
        ]
    );
    assert_eq!(share(&empty["stalls"]["active"]), s(0, 2, "0.0"));
    assert_eq!(
        visits(&empty),
        owned(&[("A01", "inactive"), ("A02", "inactive")])
    );

    let order = m.order(a01, "50000").await;
    let paid = m
        .pay(&credit(
            "D1",
            "50000",
            "1012345678",
            &bank_description(order["reference"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(paid["outcome"], "order_paid", "{paid}");
    let poster = credit("S1", "20000", "1012345678", "chuyen tien");
    assert_eq!(m.pay(&poster).await["outcome"], "static_payment");
    let lost = m
        .pay(&credit("U1", "70000", NOWHERE, "PHAM DUC LONG ck"))
        .await;
    assert_eq!(lost["outcome"], "unmatched", "{lost}");
    // The bank sends one again: still one payment.
    m.pay(&poster).await;

    let stats = get_json(&m.app, path, &board).await;
    assert_eq!(
        kinds(&stats["credits"]),
        [
            t(3, "140000"),
            t(2, "70000"),
            t(1, "70000"),
            t(1, "50000"),
            t(1, "20000"),
            t(0, "0")
        ],
        "all, matched, unmatched, dynamic, static, assigned: {}",
        stats["credits"]
    );
    let recent = &stats["recent"];
    for window in ["today", "last_7_days", "last_30_days"] {
        assert_eq!(tally(&recent[window]), t(3, "140000"), "{window}: {recent}");
    }
    let today = stats["today"].as_str().expect("today").to_owned();
    let days = daily(&stats);
    assert_eq!(days.len(), 30, "30 days by default");
    assert_eq!(stats["from"].as_str(), Some(shift(&today, -29).as_str()));
    assert_eq!(
        days.last(),
        Some(&json!({
            "date": today, "count": 3, "amount": "140000", "dynamic_count": 1, "dynamic_amount": "50000",
            "static_count": 1, "static_amount": "20000", "unmatched_count": 1, "unmatched_amount": "70000",
            "assigned_count": 0, "assigned_amount": "0"
        }))
    );
    for day in &days[..29] {
        assert_eq!(day, &quiet_day(day["date"].as_str().unwrap()));
    }
    assert_eq!(share(&stats["stalls"]["active"]), s(1, 2, "50.0"));
    assert_eq!(visits(&stats), owned(&[("A02", "inactive")]));

    // The shopper meant stall A02: once assigned, the money is A02's and no longer unmatched.
    assign(&m.app, &lost["credit_id"], a02).await;
    let stats = get_json(&m.app, path, &board).await;
    assert_eq!(
        kinds(&stats["credits"]),
        [
            t(3, "140000"),
            t(3, "140000"),
            t(0, "0"),
            t(1, "50000"),
            t(1, "20000"),
            t(1, "70000")
        ],
        "{}",
        stats["credits"]
    );
    assert_eq!(tally(&stats["recent"]["today"]), t(3, "140000"));
    let last = daily(&stats).pop().unwrap();
    assert_eq!(
        (
            &last["unmatched_count"],
            &last["assigned_count"],
            &last["assigned_amount"]
        ),
        (&json!(0), &json!(1), &json!("70000")),
        "{last}"
    );
    assert_eq!(share(&stats["stalls"]["active"]), s(2, 2, "100.0"));
    assert_eq!(visits(&stats), owned(&[]), "everyone equipped and paid");

    // The district adds up its markets: here just the one.
    let ba_vi = get_json(&m.app, "/api/v1/districts/ba-vi/stats", &m.app.admin).await;
    assert_eq!(ba_vi["credits"], stats["credits"]);
    assert_eq!(ba_vi["recent"], stats["recent"]);
    assert_eq!(ba_vi["daily"], stats["daily"]);
    assert_eq!(ba_vi["stalls"], stats["stalls"]);
    assert_eq!(ba_vi["markets"][0]["slug"], "cho-mo");
    assert_eq!(ba_vi["markets"][0]["credits"], stats["credits"]);
    assert_eq!(ba_vi["markets"][0]["visits"], 0);
}

#[tokio::test]
async fn a_range_picks_its_days_and_the_active_window_ends_with_it() {
    let m = Market::new().await;
    let a01 = m.stall("A01", "1012345678").await;
    print_poster(&m.app, a01).await;
    m.pay(&credit("S1", "20000", "1012345678", "chuyen tien"))
        .await;
    let admin = m.app.admin.clone();
    let stats = |query: String| {
        let app = &m.app;
        let admin = admin.clone();
        async move { get_json(app, &format!("/api/v1/markets/cho-mo/stats{query}"), &admin).await }
    };
    let today = stats(String::new()).await["today"]
        .as_str()
        .unwrap()
        .to_owned();
    let yesterday = shift(&today, -1);

    let one_day = stats(format!("?from={today}&to={today}")).await;
    assert_eq!(
        (one_day["from"].as_str(), one_day["to"].as_str()),
        (Some(today.as_str()), Some(today.as_str()))
    );
    assert_eq!(daily(&one_day).len(), 1);
    assert_eq!(tally(&one_day["credits"]["all"]), t(1, "20000"));
    assert_eq!(share(&one_day["stalls"]["active"]), s(1, 1, "100.0"));

    // Ten days that end before the payment: nothing paid, nobody active; today's figures stay.
    let before = stats(format!("?from={}&to={yesterday}", shift(&today, -10))).await;
    let days = daily(&before);
    assert_eq!(days.len(), 10);
    assert!(days.iter().all(|d| d["count"] == 0), "{days:?}");
    assert_eq!(tally(&before["credits"]["all"]), t(0, "0"));
    assert_eq!(share(&before["stalls"]["active"]), s(0, 1, "0.0"));
    assert_eq!(visits(&before), owned(&[("A01", "inactive")]));
    assert_eq!(tally(&before["recent"]["today"]), t(1, "20000"));

    // `to` alone: the 30 days up to it.
    let to_only = stats(format!("?to={yesterday}")).await;
    assert_eq!(to_only["from"].as_str(), Some(shift(&today, -30).as_str()));
    assert_eq!(daily(&to_only).len(), 30);
    // `from` alone: up to today.
    let from_only = stats(format!("?from={}", shift(&today, -2))).await;
    assert_eq!(daily(&from_only).len(), 3);
    assert_eq!(tally(&from_only["credits"]["all"]), t(1, "20000"));

    // The active window: paid today is active within one day; one day ending yesterday is not.
    let window = stats("?active_days=1".to_owned()).await;
    assert_eq!(window["stalls"]["active_window_days"], 1);
    assert_eq!(share(&window["stalls"]["active"]), s(1, 1, "100.0"));
    let window = stats(format!("?to={yesterday}&active_days=1")).await;
    assert_eq!(share(&window["stalls"]["active"]), s(0, 1, "0.0"));
    let window = stats(format!("?to={yesterday}&active_days=366")).await;
    assert_eq!(
        share(&window["stalls"]["active"]),
        s(0, 1, "0.0"),
        "a window never looks past `to`"
    );

    // The longest range: 366 days.
    let year = stats(format!("?from={}&to={today}", shift(&today, -365))).await;
    assert_eq!(daily(&year).len(), 366);
    assert_eq!(tally(&year["credits"]["all"]), t(1, "20000"));
}

#[tokio::test]
async fn a_range_or_month_that_makes_no_sense_is_refused_with_422() {
    let m = Market::new().await;
    m.app.create_market("cho-quang-oai", "ba-vi").await;
    let board = m.app.token("board", None, Some("ba-vi"), None).await;
    let market = "/api/v1/markets/cho-mo/stats";
    let district = "/api/v1/districts/ba-vi/stats";
    let report = "/api/v1/markets/cho-mo/report.csv";
    for query in [
        "?from=2026-13-01",
        "?to=junk",
        "?from=2026-02-30&to=2026-03-01",
        "?from=23/11/2026",
        "?from=2026-11-24&to=2026-11-23",
        "?from=2025-11-22&to=2026-11-23",
        "?active_days=0",
        "?active_days=-1",
        "?active_days=367",
    ] {
        for path in [market, district] {
            for token in [&m.app.admin, &board] {
                m.app
                    .get(&format!("{path}{query}"), Some(token))
                    .await
                    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            }
        }
    }
    // The edges of what is allowed.
    for query in [
        "?from=2025-11-23&to=2026-11-23",
        "?from=2026-11-23&to=2026-11-23",
        "?active_days=1",
        "?active_days=366",
    ] {
        m.app
            .get(&format!("{market}{query}"), Some(&board))
            .await
            .expect(StatusCode::OK);
    }
    for query in [
        "?month=2026-13",
        "?month=2026-00",
        "?month=junk",
        "?month=2026-1",
        "?month=2026-11-01",
        "?month=",
    ] {
        m.app
            .get(&format!("{report}{query}"), Some(&board))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    // A query string the endpoint does not take at all is a bad request, as on every endpoint.
    for path in [
        format!("{market}?days=7"),
        format!("{market}?active_days=abc"),
        format!("{district}?month=2026-11"),
        format!("{report}?from=2026-11-01"),
    ] {
        m.app
            .get(&path, Some(&board))
            .await
            .expect_error(StatusCode::BAD_REQUEST, "bad_request");
    }
}

#[tokio::test]
async fn a_month_of_demo_history_adds_up_in_every_figure() {
    let app = TestApp::spawn().await;
    demo::seed(&app.store).await.expect("demo seeds");
    let now = chopay::store::now_ms();
    let recorded = demo::seed_history(&app.store, now).await.expect("history");
    assert!(recorded > 10_000, "a month of payments: {recorded}");
    assert_eq!(
        demo::seed_history(&app.store, now).await.expect("again"),
        0,
        "the same moment again records nothing new"
    );
    crate::app::assert_books_balance(&app.store).await;
    let recorded = i64::try_from(recorded).unwrap();
    let admin = app.admin.clone();
    let mo = get_json(&app, "/api/v1/markets/cho-mo/stats", &admin).await;
    let quang_oai = get_json(&app, "/api/v1/markets/cho-quang-oai/stats", &admin).await;
    let ba_vi = get_json(&app, "/api/v1/districts/ba-vi/stats", &admin).await;

    let month = |stats: &Value| tally(&stats["recent"]["last_30_days"]);
    let ((mo_count, mo_amount), (qo_count, qo_amount)) = (month(&mo), month(&quang_oai));
    assert_eq!(mo_count + qo_count, recorded);
    let dong = |text: &str| text.parse::<i64>().unwrap();
    let sum = t(recorded, &(dong(&mo_amount) + dong(&qo_amount)).to_string());
    assert_eq!(month(&ba_vi), sum);
    // The default range is those same 30 days; the daily series adds up to it.
    assert_eq!(tally(&ba_vi["credits"]["all"]), sum);
    for stats in [&mo, &quang_oai, &ba_vi] {
        let all = tally(&stats["credits"]["all"]);
        assert_eq!(all, month(stats));
        let days = daily(stats);
        let count: i64 = days.iter().map(|d| d["count"].as_i64().unwrap()).sum();
        let amount: i64 = days
            .iter()
            .map(|d| dong(d["amount"].as_str().unwrap()))
            .sum();
        assert_eq!(t(count, &amount.to_string()), all);
        let [all, matched, unmatched, dynamic, fixed, assigned] = kinds(&stats["credits"]);
        assert_eq!(all.0, matched.0 + unmatched.0);
        assert_eq!(matched.0, dynamic.0 + fixed.0 + assigned.0);
        assert!(unmatched.0 > 0, "some transfers reach no stall");
    }
    let (mo_days, qo_days) = (daily(&mo), daily(&quang_oai));
    for ((district, mo), qo) in daily(&ba_vi).iter().zip(&mo_days).zip(&qo_days) {
        assert_eq!(
            district["count"].as_i64().unwrap(),
            mo["count"].as_i64().unwrap() + qo["count"].as_i64().unwrap(),
            "{district}"
        );
    }

    // Most stalls are paid; a few never are, and the board is told to visit them.
    let stalls = &quang_oai["stalls"];
    let (active, of, _) = share(&stalls["active"]);
    assert_eq!(of, 328);
    assert!(active > 250 && active < 321, "{stalls}");
    let list = visits(&quang_oai);
    let unlinked: Vec<&str> = list[..7].iter().map(|(code, _)| code.as_str()).collect();
    assert_eq!(unlinked, QUANG_OAI_UNLINKED);
    assert_eq!(
        list.iter()
            .filter(|(_, reason)| reason == "inactive")
            .count(),
        usize::try_from(321 - active).unwrap()
    );
    let district_active = share(&ba_vi["stalls"]["active"]).0;
    assert_eq!(district_active, active + share(&mo["stalls"]["active"]).0);

    // This month's report adds up to the figures of this month's days.
    let today = quang_oai["today"].as_str().unwrap();
    let this_month = &today[..7];
    let month_stats = get_json(
        &app,
        &format!("/api/v1/markets/cho-quang-oai/stats?from={this_month}-01&to={today}"),
        &admin,
    )
    .await;
    let text = app
        .get(
            &format!("/api/v1/markets/cho-quang-oai/report.csv?month={this_month}"),
            Some(&admin),
        )
        .await
        .expect(StatusCode::OK)
        .text();
    let rows = report_rows(&text);
    assert_eq!(rows.len(), 328 + 2);
    let total = check_report_adds_up(&rows);
    assert_eq!(total, tally(&month_stats["credits"]["all"]));
}

/// Stall rows the report reads and sends at a time (`http::stats::REPORT_BATCH`).
const REPORT_PAGE: usize = 500;

#[tokio::test]
async fn the_monthly_report_streams_a_page_of_stalls_at_a_time_and_still_adds_up() {
    let m = Market::new().await;
    let app = &m.app;
    m.stall("A0001", "1012345678").await;
    // 1 200 more stalls, without accounts: 1 201 rows, three pages of at most 500.
    let mut sheet = String::from("code,vendor_name,goods,phone,bank,account,holder\n");
    for n in 2..=1201 {
        sheet.push_str(&format!("A{n:04},Người bán {n},Rau củ,,,,\n"));
    }
    app.post_csv(
        "/api/v1/markets/cho-mo/stalls/import",
        Some(&app.admin),
        &sheet,
    )
    .await
    .expect(StatusCode::OK);
    m.pay(&credit("S1", "20000", "1012345678", "chuyen tien"))
        .await;
    m.pay(&credit("U1", "70000", NOWHERE, "ck")).await;
    let today = Day::of_ms(chopay::store::now_ms()).to_string();

    let request = axum::http::Request::get(format!(
        "/api/v1/markets/cho-mo/report.csv?month={}",
        &today[..7]
    ))
    .header(header::AUTHORIZATION, format!("Bearer {}", app.admin))
    .body(axum::body::Body::empty())
    .unwrap();
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // The body arrives as the pages are read, one chunk each, never as one buffer of every row.
    let mut body = response.into_body();
    let mut chunks = Vec::new();
    while let Some(frame) = http_body_util::BodyExt::frame(&mut body).await {
        if let Ok(data) = frame.unwrap().into_data() {
            chunks.push(String::from_utf8(data.to_vec()).unwrap());
        }
    }
    let lines: Vec<usize> = chunks.iter().map(|c| c.lines().count()).collect();
    assert_eq!(
        lines,
        [REPORT_PAGE + 1, REPORT_PAGE, 201, 2],
        "header and 500 stalls, 500 stalls, 201 stalls, then (unmatched) and (total)"
    );
    let rows = report_rows(&chunks.concat());
    assert_eq!(rows.len(), 1201 + 2);
    assert_eq!(
        (&*rows[0][2], &*rows[0][8], &*rows[0][9]),
        ("A0001", "1", "20000")
    );
    assert_eq!(rows[1200][2], "A1201");
    assert_eq!(check_report_adds_up(&rows), t(2, "90000"));
}

/// The report's rows, header checked.
#[track_caller]
fn report_rows(text: &str) -> Vec<Vec<String>> {
    assert_eq!(text.lines().next(), Some(REPORT_HEADER));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect()
}

/// Checks that stall rows plus `(unmatched)` make `(total)`, column by column; returns the total
/// (credits, amount).
#[track_caller]
fn check_report_adds_up(rows: &[Vec<String>]) -> (i64, String) {
    let n = rows.len();
    assert!(n >= 2, "{rows:?}");
    assert_eq!(rows[n - 2][2], "(unmatched)");
    assert_eq!(rows[n - 1][2], "(total)");
    let number = |row: &Vec<String>, column: usize| -> i64 {
        row[column]
            .parse()
            .unwrap_or_else(|_| panic!("column {column} a number: {row:?}"))
    };
    // credits, amount, then dynamic, static and assigned credits and amounts.
    for column in 8..=15 {
        let stalls: i64 = rows[..n - 2].iter().map(|r| number(r, column)).sum();
        let unmatched = if column <= 9 {
            number(&rows[n - 2], column)
        } else {
            assert_eq!(number(&rows[n - 2], column), 0, "{:?}", rows[n - 2]);
            0
        };
        assert_eq!(
            stalls + unmatched,
            number(&rows[n - 1], column),
            "column {column}"
        );
    }
    (number(&rows[n - 1], 8), rows[n - 1][9].clone())
}

#[tokio::test]
async fn the_monthly_report_has_a_row_per_stall_and_adds_up_to_the_total() {
    let m = Market::new().await;
    let app = &m.app;
    let a01 = m.stall("A01", "1012345678").await;
    let a02 = add_stall(
        app,
        "cho-mo",
        &json!({"code": "A02", "vendor_name": "Đặng Thị Ngọc Ánh", "goods": "Bún, phở \"Hà Nội\"",
            "payee": {"bank": "VCB", "account": "1098765432", "holder": "Đặng Thị Ngọc Ánh"}}),
    )
    .await;
    add_stall(
        app,
        "cho-mo",
        &json!({"code": "B01", "vendor_name": "Khuất Văn Quý", "goods": "Thịt lợn"}),
    )
    .await;
    add_stall(
        app,
        "cho-mo",
        &json!({"code": "B02", "vendor_name": "Phùng Thị Lựu", "goods": "Gà", "status": "inactive"}),
    )
    .await;
    print_poster(app, a01).await;
    let order = m.order(a01, "50000").await;
    m.pay(&credit(
        "D1",
        "50000",
        "1012345678",
        &bank_description(order["reference"].as_str().unwrap()),
    ))
    .await;
    m.pay(&credit("S1", "20000", "1012345678", "chuyen tien"))
        .await;
    m.pay(&credit("S2", "35000", "1098765432", "chuyen tien"))
        .await;
    m.pay(&credit("U1", "70000", NOWHERE, "ck")).await;
    let lost = m.pay(&credit("U2", "15000", NOWHERE, "ck")).await;
    assign(app, &lost["credit_id"], a02).await;

    let board = app.token("board", Some("cho-mo"), None, None).await;
    let today = get_json(app, "/api/v1/markets/cho-mo/stats", &board).await["today"]
        .as_str()
        .unwrap()
        .to_owned();
    let month = &today[..7];
    let reply = app
        .get(
            &format!("/api/v1/markets/cho-mo/report.csv?month={month}"),
            Some(&board),
        )
        .await;
    reply.expect(StatusCode::OK);
    let content_type = reply.headers[header::CONTENT_TYPE].to_str().unwrap();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    assert_eq!(
        reply.headers[header::CONTENT_DISPOSITION].to_str().unwrap(),
        format!("attachment; filename=\"cho-mo-{month}.csv\"")
    );
    let text = reply.text();
    assert!(text.contains("Đặng Thị Ngọc Ánh"), "UTF-8 intact:\n{text}");
    let rows = report_rows(&text);
    let expected = [
        // code, vendor, goods, linked, poster, active, credits, amount, dynamic ×2, static ×2,
        // assigned ×2, last credit.
        [
            "A01",
            "Nguyễn Thị Hương",
            "Rau củ",
            "yes",
            "current",
            "yes",
            "2",
            "70000",
            "1",
            "50000",
            "1",
            "20000",
            "0",
            "0",
            today.as_str(),
        ],
        [
            "A02",
            "Đặng Thị Ngọc Ánh",
            "Bún, phở \"Hà Nội\"",
            "yes",
            "missing",
            "yes",
            "2",
            "50000",
            "0",
            "0",
            "1",
            "35000",
            "1",
            "15000",
            today.as_str(),
        ],
        [
            "B01",
            "Khuất Văn Quý",
            "Thịt lợn",
            "no",
            "none",
            "no",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "",
        ],
        [
            "B02",
            "Phùng Thị Lựu",
            "Gà",
            "no",
            "none",
            "no",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "",
        ],
        [
            "(unmatched)",
            "",
            "",
            "",
            "",
            "",
            "1",
            "70000",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "",
        ],
        [
            "(total)", "", "", "", "", "", "5", "190000", "1", "50000", "2", "55000", "1", "15000",
            "",
        ],
    ];
    assert_eq!(rows.len(), expected.len(), "{text}");
    for (row, want) in rows.iter().zip(expected) {
        assert_eq!(
            (row[0].as_str(), row[1].as_str()),
            ("cho-mo", month),
            "{row:?}"
        );
        assert_eq!(row[2..], want, "{text}");
    }
    assert_eq!(check_report_adds_up(&rows), t(5, "190000"));

    // Without a month: this month's.
    let default = app
        .get("/api/v1/markets/cho-mo/report.csv", Some(&board))
        .await;
    assert_eq!(default.expect(StatusCode::OK).text(), text);

    // A month long gone: every stall, nothing paid.
    let gone = &shift(&today, -62)[..7];
    let old = app
        .get(
            &format!("/api/v1/markets/cho-mo/report.csv?month={gone}"),
            Some(&board),
        )
        .await
        .expect(StatusCode::OK)
        .text();
    let rows = report_rows(&old);
    let codes: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(
        codes,
        ["A01", "A02", "B01", "B02", "(unmatched)", "(total)"]
    );
    for row in &rows {
        assert_eq!(row[1], gone, "{row:?}");
        assert_eq!(
            (
                row[7].as_str(),
                row[8].as_str(),
                row[9].as_str(),
                row[16].as_str()
            ),
            (
                if row[2].starts_with('(') { "" } else { "no" },
                "0",
                "0",
                ""
            ),
            "{row:?}"
        );
    }
}

#[tokio::test]
async fn boards_read_the_figures_of_their_own_market_or_district_only() {
    let app = TestApp::spawn().await;
    demo::seed(&app.store).await.expect("demo seeds");
    app.create_market("cho-son-tay", "son-tay").await;
    let board_mo = app.token("board", Some("cho-mo"), None, None).await;
    let board_ba_vi = app.token("board", None, Some("ba-vi"), None).await;
    let board_son_tay = app.token("board", None, Some("son-tay"), None).await;
    let board_empty = app.token("board", None, Some("hoai-duc"), None).await;
    let stall = app
        .get("/api/v1/markets/cho-mo/stalls", Some(&app.admin))
        .await
        .json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let vendor = app.token("vendor", None, None, Some(stall)).await;
    let market = |slug: &str| format!("/api/v1/markets/{slug}/stats");
    let report = |slug: &str| format!("/api/v1/markets/{slug}/report.csv");
    let district = |slug: &str| format!("/api/v1/districts/{slug}/stats");

    let cases: Vec<(&str, &String, Vec<String>, Vec<String>)> = vec![
        (
            "board of cho-mo",
            &board_mo,
            vec![market("cho-mo"), report("cho-mo")],
            vec![
                market("cho-quang-oai"),
                report("cho-quang-oai"),
                district("ba-vi"),
                market("cho-nowhere"),
                report("cho-nowhere"),
            ],
        ),
        (
            "board of ba-vi",
            &board_ba_vi,
            vec![
                market("cho-mo"),
                market("cho-quang-oai"),
                report("cho-mo"),
                report("cho-quang-oai"),
                district("ba-vi"),
            ],
            vec![
                market("cho-son-tay"),
                report("cho-son-tay"),
                district("son-tay"),
                market("cho-nowhere"),
                district("nowhere"),
            ],
        ),
        (
            "board of son-tay",
            &board_son_tay,
            vec![market("cho-son-tay"), district("son-tay")],
            vec![market("cho-mo"), district("ba-vi")],
        ),
        (
            "board of a district without markets",
            &board_empty,
            vec![],
            vec![district("hoai-duc"), district("ba-vi"), market("cho-mo")],
        ),
        (
            "vendor of a cho-mo stall",
            &vendor,
            vec![],
            vec![
                market("cho-mo"),
                report("cho-mo"),
                district("ba-vi"),
                market("cho-nowhere"),
            ],
        ),
    ];
    for (who, token, allowed, refused) in cases {
        for path in allowed {
            let reply = app.get(&path, Some(token)).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{who}: {path}: {}",
                reply.text()
            );
        }
        for path in refused {
            let reply = app.get(&path, Some(token)).await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{who}: {path}: {}",
                reply.text()
            );
            reply.expect_error(StatusCode::NOT_FOUND, "not_found");
        }
    }
    let quang_oai = get_json(&app, &market("cho-quang-oai"), &board_ba_vi).await;
    assert_eq!(share(&quang_oai["stalls"]["linked"]), s(321, 328, "97.9"));
    let ba_vi = get_json(&app, &district("ba-vi"), &board_ba_vi).await;
    assert_eq!(ba_vi["markets"].as_array().map(Vec::len), Some(2));

    for path in [market("cho-mo"), report("cho-mo"), district("ba-vi")] {
        app.get(&path, None)
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // An admin is told what does not exist.
    for path in [
        market("cho-nowhere"),
        report("cho-nowhere"),
        district("nowhere"),
    ] {
        app.get(&path, Some(&app.admin))
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
}
