//! Board figures while payments land: every read of a market's stats, its monthly report and the
//! books comes from one consistent snapshot, so what one read shows adds up however many credits
//! are being recorded meanwhile.
//!
//! One writer pays the market's stalls in turn (every fifth credit into an account no stall has),
//! one delivery at a time, so the credits recorded at any moment are the first `c` of a known
//! sequence. A reader meanwhile asks for the figures again and again; from the total `c` each
//! answer shows, the test works out what every other figure in that same answer must be. A read
//! that took its stall lines before a commit and its daily totals after would disagree.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::StatusCode;
use serde_json::Value;

use crate::api::payments::{Market, NOWHERE, credit};
use crate::app::assert_books_balance;

/// Stalls the writer pays in turn.
const STALLS: usize = 12;
/// Credits the writer sends.
const CREDITS: usize = 240;

/// The `k`-th credit's amount, whole đồng.
fn amount(k: usize) -> i64 {
    10_000 + i64::try_from(k % 7).unwrap() * 1_000
}

/// Whether the `k`-th credit goes into an account no stall has.
fn unmatched(k: usize) -> bool {
    k % 5 == 4
}

fn account(stall: usize) -> String {
    format!("10000000{stall:02}")
}

fn code(stall: usize) -> String {
    format!("A{:02}", stall + 1)
}

/// What the first `c` credits make: per stall (count, amount), and unmatched (count, amount).
struct Expected {
    stalls: Vec<(i64, i64)>,
    unmatched: (i64, i64),
}

impl Expected {
    fn after(c: usize) -> Self {
        let mut stalls = vec![(0, 0); STALLS];
        let mut lost = (0, 0);
        let mut matched = 0;
        for k in 0..c {
            let slot = if unmatched(k) {
                &mut lost
            } else {
                matched += 1;
                &mut stalls[(matched - 1) % STALLS]
            };
            slot.0 += 1;
            slot.1 += amount(k);
        }
        Self {
            stalls,
            unmatched: lost,
        }
    }

    fn total(&self) -> (i64, i64) {
        self.stalls
            .iter()
            .fold(self.unmatched, |(c, a), (sc, sa)| (c + sc, a + sa))
    }

    fn active(&self) -> i64 {
        i64::try_from(self.stalls.iter().filter(|(count, _)| *count > 0).count()).unwrap()
    }
}

fn tally(value: &Value) -> (i64, i64) {
    (
        value["count"].as_i64().unwrap(),
        value["amount"].as_str().unwrap().parse().unwrap(),
    )
}

/// Checks one stats answer against the credits its own total says were recorded; returns `c`.
fn check_stats(stats: &Value) -> usize {
    let all = tally(&stats["credits"]["all"]);
    let c = usize::try_from(all.0).unwrap();
    let expected = Expected::after(c);
    assert_eq!(all, expected.total(), "total of {c} credits");
    assert_eq!(
        tally(&stats["credits"]["unmatched"]),
        expected.unmatched,
        "unmatched after {c} credits: {stats}"
    );
    assert_eq!(
        stats["stalls"]["active"]["count"].as_i64().unwrap(),
        expected.active(),
        "active stalls (read from the stall lines) after {c} credits (read from the days)"
    );
    c
}

/// Checks one monthly report: each stall's row is what the total row says was recorded.
fn check_report(text: &str) -> usize {
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let cell = |row: &[String], i: usize| -> i64 { row[i].parse().unwrap() };
    let total = rows.last().unwrap();
    assert_eq!(total[2], "(total)");
    let c = usize::try_from(cell(total, 8)).unwrap();
    let expected = Expected::after(c);
    assert_eq!((cell(total, 8), cell(total, 9)), expected.total());
    let lost = &rows[rows.len() - 2];
    assert_eq!(lost[2], "(unmatched)");
    assert_eq!((cell(lost, 8), cell(lost, 9)), expected.unmatched);
    for (stall, want) in expected.stalls.iter().enumerate() {
        let row = rows
            .iter()
            .find(|r| r[2] == code(stall))
            .unwrap_or_else(|| panic!("a row for {}", code(stall)));
        assert_eq!(
            (cell(row, 8), cell(row, 9)),
            *want,
            "{} after {c} credits",
            code(stall)
        );
    }
    c
}

/// A board's read, which must succeed.
async fn read(market: &Market, path: &str, board: &str) -> crate::app::Reply {
    let reply = market.app.get(path, Some(board)).await;
    reply.expect(StatusCode::OK);
    reply
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn board_figures_add_up_in_every_read_while_payments_land() {
    let market = Arc::new(Market::new().await);
    for stall in 0..STALLS {
        market.stall(&code(stall), &account(stall)).await;
    }
    let board = market.app.token("board", Some("cho-mo"), None, None).await;
    let today = market
        .app
        .get("/api/v1/markets/cho-mo/stats", Some(&board))
        .await
        .expect(StatusCode::OK)
        .json()["today"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = format!("/api/v1/markets/cho-mo/report.csv?month={}", &today[..7]);

    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (market, done) = (Arc::clone(&market), Arc::clone(&done));
        tokio::spawn(async move {
            let mut matched = 0;
            for k in 0..CREDITS {
                let to = if unmatched(k) {
                    NOWHERE.to_owned()
                } else {
                    matched += 1;
                    account((matched - 1) % STALLS)
                };
                let body = credit(&format!("SNAP-{k}"), &amount(k).to_string(), &to, "ck");
                market
                    .deliver_bytes(body.to_string().as_bytes())
                    .await
                    .expect(StatusCode::OK);
            }
            done.store(true, Ordering::SeqCst);
        })
    };

    let mut seen = std::collections::BTreeSet::new();
    let mut reads = 0;
    while !done.load(Ordering::SeqCst) {
        seen.insert(check_stats(
            &read(&market, "/api/v1/markets/cho-mo/stats", &board)
                .await
                .json(),
        ));
        seen.insert(check_report(&read(&market, &report, &board).await.text()));
        assert_books_balance(&market.app.store).await;
        reads += 1;
    }
    writer.await.unwrap();

    // The reads really ran while payments landed, and the last word is all of them.
    let between = seen.iter().filter(|c| (1..CREDITS).contains(*c)).count();
    assert!(
        between >= 2,
        "only {between} reads saw a partial ledger in {reads} rounds: {seen:?}"
    );
    let stats = read(&market, "/api/v1/markets/cho-mo/stats", &board)
        .await
        .json();
    assert_eq!(check_stats(&stats), CREDITS);
    let text = read(&market, &report, &board).await.text();
    assert_eq!(check_report(&text), CREDITS);
    assert_books_balance(&market.app.store).await;
}
