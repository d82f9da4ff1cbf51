//! The pages in a real browser: headless Chromium driven over WebDriver (chromedriver), against a
//! real `chopay serve --demo`. What a district officer sees on the boards (figures, the visit
//! list, the chart, filtering and sorting the stall table), the figures moving live when a bank
//! callback lands, and a vendor taking a payment on the vendor screen.
//!
//! Each test saves a screenshot of the pages it opened to `target/screenshots/NAME.png`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use chopay::webhooks::{Secret, sign_chopay};

use crate::app::TestDatabase;
use crate::demo_server::DemoServer;
use crate::helpers::chopay;

const NEEDS: &str = "needs chromium and chromedriver (Debian: chromium, chromium-driver)";

/// How long a page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(10);
/// How long chromedriver may take to answer after it starts, on a busy machine.
const DRIVER_START: Duration = Duration::from_secs(30);

/// The folder screenshots go to: `target/screenshots`.
fn screenshot_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| manifest.join(dir))
        .unwrap_or_else(|| manifest.join("target"));
    target.join("screenshots")
}

/// The first of the candidates that exists as a file, else the first program of that name on
/// the `PATH`.
fn program(candidates: &[&str], name: &str) -> Option<PathBuf> {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|path| path.is_file())
            })
        })
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// A headless Chromium session behind its own chromedriver. Dropping it (at the end of a test, or
/// while a failing test unwinds) ends the session, which closes the browser, then stops
/// chromedriver.
struct Browser {
    client: Client,
    session: Option<String>,
    driver: Child,
    port: u16,
    // Removed after the browser is gone.
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Self {
        let driver_path = program(&["/usr/bin/chromedriver"], "chromedriver")
            .unwrap_or_else(|| panic!("no chromedriver: this test {NEEDS}"));
        let profile = tempfile::tempdir().expect("a profile folder");
        let log = profile.path().join("chromedriver.log");
        let port = free_port();
        let mut driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start ({e}): {NEEDS}", driver_path.display()));
        let status = format!("http://127.0.0.1:{port}/status");
        let started = Instant::now();
        loop {
            if let Ok(Some(exit)) = driver.try_wait() {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("chromedriver exited with {exit}: {log}");
            }
            if let Ok(answer) = reqwest::get(&status).await
                && answer.status().is_success()
            {
                break;
            }
            if started.elapsed() > DRIVER_START {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("chromedriver does not answer on port {port}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let mut options = json!({
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,2000",
                format!("--user-data-dir={}", profile.path().join("chromium").display()),
            ],
        });
        if Path::new("/usr/bin/chromium").is_file() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let connected =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities)
                .connect(&format!("http://127.0.0.1:{port}"))
                .await;
        let client = match connected {
            Ok(client) => client,
            Err(e) => {
                let _ = driver.kill();
                let _ = driver.wait();
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: String = log.lines().rev().take(30).collect::<Vec<_>>().join("\n");
                panic!(
                    "no browser session ({e}); this test {NEEDS}; chromedriver's log, last lines first:\n{tail}"
                );
            }
        };
        let session = client.session_id().await.ok().flatten();
        Self {
            client,
            session,
            driver,
            port,
            _profile: profile,
        }
    }

    async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// The page's path and query, as the address bar shows them.
    async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The value of a JavaScript expression on the page.
    async fn eval(&self, expression: &str) -> Value {
        self.client
            .execute(&format!("return ({expression});"), vec![])
            .await
            .unwrap_or_else(|e| panic!("{expression}: {e}"))
    }

    async fn text(&self, expression: &str) -> String {
        match self.eval(expression).await {
            Value::String(text) => text,
            other => panic!("{expression} is not text: {other}"),
        }
    }

    /// The text of `[data-figure=NAME]`.
    async fn figure(&self, name: &str) -> String {
        self.text(&format!(
            "document.querySelector('[data-figure=\"{name}\"]').textContent.trim()"
        ))
        .await
    }

    /// Waits until a JavaScript expression is truthy and returns its value; panics with `what`,
    /// the last value and a screenshot after [`PATIENCE`].
    async fn wait_for(&self, what: &str, expression: &str) -> Value {
        let script = format!("return ({expression});");
        let started = Instant::now();
        loop {
            let last = self.client.execute(&script, vec![]).await;
            match &last {
                Ok(Value::Null | Value::Bool(false)) => {}
                Ok(Value::String(s)) if s.is_empty() => {}
                Ok(Value::Number(n)) if n.as_f64() == Some(0.0) => {}
                Ok(value) => return value.clone(),
                Err(_) => {}
            }
            if started.elapsed() > PATIENCE {
                // Named after the test (the thread's name), so failing tests keep their own.
                let test = std::thread::current()
                    .name()
                    .unwrap_or("test")
                    .replace("::", "-");
                let shot = self.screenshot(&format!("failed-{test}")).await;
                panic!(
                    "waited {PATIENCE:?} for {what} ({expression}); last: {last:?}; screenshot: {}",
                    shot.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click(&self, selector: &str) {
        self.client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("no {selector}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {selector}: {e}"));
    }

    async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let file = dir.join(format!("{name}.png"));
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(&file, png).expect("the screenshot is saved");
        file
    }

    /// Ends the WebDriver session with a plain blocking request, so it works while unwinding and
    /// without the async runtime.
    fn end_session(&self) {
        let Some(session) = &self.session else { return };
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(2)) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let _ = write!(
            stream,
            "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        );
        // Read the answer (chromedriver answers once the browser is gone), not waiting for the
        // connection to close.
        let mut answer = Vec::new();
        let mut buffer = [0_u8; 4096];
        while let Ok(read @ 1..) = stream.read(&mut buffer) {
            answer.extend_from_slice(&buffer[..read]);
            if complete(&answer) {
                break;
            }
        }
    }
}

/// Whether `answer` holds a whole HTTP response with a `Content-Length` body.
fn complete(answer: &[u8]) -> bool {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let body = answer.len() - end - 4;
    String::from_utf8_lossy(&answer[..end])
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, length)| length.trim().parse::<usize>().ok())
        .is_none_or(|length| body >= length)
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.end_session();
        let _ = Command::new("kill")
            .args(["-TERM", &self.driver.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while matches!(self.driver.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `1.234` → 1234, `50.000đ` → 50000: a figure as the pages write it.
fn number(text: &str) -> i64 {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"))
}

/// `50.000đ`: an amount the way the pages write it.
fn dong(amount: i64) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("{out}đ")
}

/// Sends a credit to a market's `chopay` channel, signed now, as a bank would; returns the answer.
async fn deliver(base: &str, channel: &str, secret: &str, body: &Value) -> Value {
    let mut id = [0_u8; 8];
    getrandom::fill(&mut id).expect("random");
    let (txn, id) = (hex::encode(id), format!("msg_{}", hex::encode(id)));
    let mut body = body.clone();
    body["transaction_id"] = json!(format!("BROWSER-{txn}"));
    let body = body.to_string();
    let timestamp = chopay::store::now_ms() / 1000;
    let signature = sign_chopay(
        &Secret::new(secret.to_owned()),
        &id,
        timestamp,
        body.as_bytes(),
    )
    .expect("signs");
    let answer = reqwest::Client::new()
        .post(format!("{base}/webhooks/chopay/{channel}"))
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .expect("the server answers");
    let status = answer.status().as_u16();
    let answer: Value = answer.json().await.expect("JSON");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["success"], true, "{answer}");
    answer
}

/// A stall's linked account: (account number, NAPAS BIN).
fn payee(stall: &Value) -> (String, String) {
    let payee = &stall["payee"];
    (
        payee["account"].as_str().expect("an account").to_owned(),
        payee["bin"].as_str().expect("a BIN").to_owned(),
    )
}

/// The codes of the stall table's rows, in order; only the shown ones with `visible`.
async fn row_codes(browser: &Browser, visible: bool) -> Vec<String> {
    let rows = browser
        .eval(&format!(
            "Array.from(document.querySelectorAll('#stall-rows tr'))\
             .filter(r => !{visible} || r.getClientRects().length > 0)\
             .map(r => r.getAttribute('data-code'))"
        ))
        .await;
    serde_json::from_value(rows).expect("codes")
}

/// What a page's HTML says without script: `GET` with the board token as a bearer.
async fn page_html(server: &DemoServer, path: &str, token: &str) -> (u16, String) {
    let answer = reqwest::Client::new()
        .get(format!("{}{path}", server.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("the server answers");
    let status = answer.status().as_u16();
    (status, answer.text().await.expect("HTML"))
}

fn start_demo(database: &TestDatabase) -> DemoServer {
    let server = DemoServer::start(&database.url);
    assert!(
        server.board.starts_with("cp_"),
        "`serve --demo` prints the district's board link with its token"
    );
    server
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian: chromium, chromium-driver)"]
async fn demo_boards_show_the_campaign_figures() {
    let database = TestDatabase::new().await;
    let server = start_demo(&database);
    let browser = Browser::start().await;

    // The link with the token leaves it in a cookie and the address bar without it.
    browser
        .goto(&format!(
            "{}/boards/cho-quang-oai?access_token={}",
            server.base, server.board
        ))
        .await;
    assert_eq!(browser.path().await, "/boards/cho-quang-oai");
    assert_eq!(browser.figure("equipped-count").await, "321/328");
    assert_eq!(browser.figure("equipped-percent").await, "97,9%");
    assert_eq!(browser.figure("linked-count").await, "321/328");
    assert_eq!(browser.figure("registered").await, "328");

    // Whom to visit first: the seven stalls without an account, in code order.
    let visits: Vec<(String, String)> = serde_json::from_value(
        browser
            .eval(
                "Array.from(document.querySelectorAll('#visits ol.visits li')).slice(0, 7)\
                 .map(li => [li.querySelector('strong.code').textContent, li.getAttribute('data-reason')])",
            )
            .await,
    )
    .expect("visits");
    let missing = ["A18", "B24", "C22", "D36", "F07", "G17", "H23"];
    let expected: Vec<(String, String)> = missing
        .iter()
        .map(|code| ((*code).to_owned(), "no_account".to_owned()))
        .collect();
    assert_eq!(visits, expected);
    let listed = browser
        .eval("document.querySelectorAll('#visits ol.visits li').length")
        .await;
    assert_eq!(
        browser.figure("visits").await,
        listed.to_string(),
        "the badge counts the list"
    );
    assert_eq!(
        browser
            .eval("document.querySelectorAll('#chart svg g[data-date]').length")
            .await,
        json!(30),
        "a bar a day for 30 days"
    );

    // Filtering in place: only the stalls without an account stay shown.
    let all = row_codes(&browser, true).await;
    assert_eq!(all.len(), 328);
    browser
        .client
        .find(Locator::Css("form#stall-filter select[name=status]"))
        .await
        .expect("the filter")
        .select_by_label("Chưa có tài khoản")
        .await
        .expect("a filter choice");
    assert_eq!(
        browser
            .text("document.querySelector('form#stall-filter select[name=status]').value")
            .await,
        "no_account"
    );
    let mut shown = row_codes(&browser, true).await;
    shown.sort();
    assert_eq!(
        shown, missing,
        "the filter leaves the stalls without an account"
    );
    assert_eq!(
        browser.path().await,
        "/boards/cho-quang-oai",
        "filtered without a reload"
    );
    browser.screenshot("board-cho-quang-oai").await;

    // Sorting in place: by amount, smallest first, then by code both ways.
    browser
        .client
        .find(Locator::Css("form#stall-filter select[name=status]"))
        .await
        .expect("the filter")
        .select_by_value("")
        .await
        .expect("all stalls");
    assert_eq!(row_codes(&browser, true).await, all);
    browser.click("button.sort[data-col=\"4\"]").await;
    let by_amount = row_codes(&browser, true).await;
    assert_ne!(by_amount, all, "sorting by amount reorders the rows");
    let amounts: Vec<f64> = serde_json::from_value(
        browser
            .eval(
                "Array.from(document.querySelectorAll('#stall-rows tr'))\
                 .map(r => Number(r.cells[4].getAttribute('data-sort')))",
            )
            .await,
    )
    .expect("amounts");
    assert!(
        amounts.windows(2).all(|w| w[0] <= w[1]),
        "smallest amount first"
    );
    assert_eq!(
        browser
            .text("document.querySelector('button.sort[data-col=\"4\"]').getAttribute('aria-sort')")
            .await,
        "ascending"
    );
    browser.click("button.sort[data-col=\"0\"]").await;
    let up = row_codes(&browser, true).await;
    browser.click("button.sort[data-col=\"0\"]").await;
    let mut down = row_codes(&browser, true).await;
    assert_ne!(up, down);
    down.reverse();
    assert_eq!(up, down, "a second click reverses the order");

    // The cookie opens the other board and the district page.
    browser
        .goto(&format!("{}/boards/cho-mo", server.base))
        .await;
    assert_eq!(browser.figure("equipped-count").await, "56/56");
    assert_eq!(browser.figure("equipped-percent").await, "100,0%");
    browser.screenshot("board-cho-mo").await;
    browser
        .goto(&format!("{}/districts/ba-vi", server.base))
        .await;
    assert_eq!(browser.figure("equipped-count").await, "377/384");
    assert_eq!(browser.figure("equipped-percent").await, "98,2%");
    let markets: Vec<String> = serde_json::from_value(
        browser
            .eval(
                "Array.from(document.querySelectorAll('#market-rows tr'))\
                 .map(r => r.getAttribute('data-market'))",
            )
            .await,
    )
    .expect("market rows");
    assert_eq!(markets.len(), 2, "{markets:?}");
    assert!(markets.iter().any(|m| m == "cho-mo") && markets.iter().any(|m| m == "cho-quang-oai"));
    browser.screenshot("district-ba-vi").await;

    // Without script the figures are in the HTML, and the filter works through the address.
    let (status, html) = page_html(&server, "/boards/cho-quang-oai", &server.board).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("data-figure=\"equipped-count\">321/328<"),
        "{html}"
    );
    assert!(html.contains("data-figure=\"equipped-percent\">97,9%<"));
    let (_, filtered) = page_html(
        &server,
        "/boards/cho-quang-oai?status=no_account",
        &server.board,
    )
    .await;
    assert_eq!(
        filtered.matches("<tr data-status=\"no_account\"").count(),
        7
    );
    assert_eq!(filtered.matches("<tr data-status=").count(), 7);
    let (status, _) = page_html(&server, "/boards/cho-mo", &server.vendor).await;
    assert_eq!(status, 403, "a vendor's token does not open a board");
}

/// Waits until the board's stream is open, then marks the page so a reload would show.
async fn watch_board(browser: &Browser, base: &str, slug: &str) -> (i64, i64) {
    browser.goto(&format!("{base}/boards/{slug}")).await;
    browser
        .wait_for(
            "the live stream",
            "document.querySelector('#live-status[data-state=\"on\"]')",
        )
        .await;
    browser.eval("(window.__marker = 1)").await;
    (
        number(&browser.figure("today-count").await),
        number(&browser.figure("today-amount").await),
    )
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian: chromium, chromium-driver)"]
async fn a_callback_moves_todays_figures_without_a_reload() {
    let database = TestDatabase::new().await;
    let server = start_demo(&database);
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/?access_token={}", server.base, server.board))
        .await;

    // A channel of Chợ Quảng Oai and one of its stalls' accounts.
    let made = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/markets/cho-quang-oai/channels",
            server.base
        ))
        .bearer_auth(&server.admin)
        .json(&json!({"provider": "chopay", "label": "browser test"}))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(made.status().as_u16(), 201);
    let made: Value = made.json().await.expect("JSON");
    let channel = made["id"].as_i64().expect("id").to_string();
    let secret = made["secret"].as_str().expect("secret").to_owned();
    let (status, stalls) = server
        .get("/api/v1/markets/cho-quang-oai/stalls", &server.admin)
        .await;
    assert_eq!(status, 200);
    let stall = stalls["items"]
        .as_array()
        .and_then(|items| items.iter().find(|s| s["payee"].is_object()))
        .expect("a stall with an account");
    let (account, bin) = payee(stall);

    let (count, amount) = watch_board(&browser, &server.base, "cho-quang-oai").await;
    let answer = deliver(
        &server.base,
        &channel,
        &secret,
        &json!({"amount": "50000", "account_number": account, "bin": bin,
                "description": "mua rau", "counterparty_name": "PHAM DUC LONG"}),
    )
    .await;
    assert_eq!(answer["duplicate"], false, "{answer}");
    browser
        .wait_for(
            "today's count and amount to move",
            &format!(
                "document.querySelector('[data-figure=\"today-count\"]').textContent.trim() === {:?} \
                 && document.querySelector('[data-figure=\"today-amount\"]').textContent.trim() === {:?}",
                count_text(count + 1),
                dong(amount + 50_000)
            ),
        )
        .await;
    assert_eq!(browser.eval("window.__marker").await, json!(1), "no reload");
    assert!(
        number(
            &browser
                .text("document.body.getAttribute('data-updates')")
                .await
        ) >= 1
    );
    browser.screenshot("board-cho-quang-oai-live").await;

    // The printed simulator, for a few seconds, moves Chợ Mơ's board the same way.
    let (before, _) = watch_board(&browser, &server.base, "cho-mo").await;
    let args: Vec<String> = [
        "simulate",
        "--url",
        &server.base,
        "--market",
        "cho-mo",
        "--channel",
        &server.channel,
        "--secret",
        &server.secret,
        "--token",
        &server.admin,
        "--rate",
        "5",
        "--duration",
        "2",
        "--seed",
        "11",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let run = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        chopay(&args)
    })
    .await
    .expect("simulate runs");
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Everything is recorded now: the live page ends up where a fresh page starts.
    let (_, html) = page_html(&server, "/boards/cho-mo", &server.board).await;
    let marker = "data-figure=\"today-count\">";
    let now = html
        .split_once(marker)
        .and_then(|(_, rest)| rest.split_once('<'))
        .map(|(count, _)| number(count))
        .expect("today's count in the page");
    assert!(
        now > before,
        "simulate recorded payments: {}",
        run.stdout_text()
    );
    browser
        .wait_for(
            "Chợ Mơ's count to reach the recorded payments",
            &format!(
                "document.querySelector('[data-figure=\"today-count\"]').textContent.trim() === {:?}",
                count_text(now)
            ),
        )
        .await;
    assert_eq!(browser.eval("window.__marker").await, json!(1), "no reload");
    browser.screenshot("board-cho-mo-live").await;
}

/// `25.247`: a count the way the pages write it.
fn count_text(count: i64) -> String {
    let amount = dong(count);
    amount.trim_end_matches('đ').to_owned()
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian: chromium, chromium-driver)"]
async fn the_vendor_screen_takes_an_amount_shows_a_qr_and_announces_the_payment() {
    let database = TestDatabase::new().await;
    let server = start_demo(&database);
    let (status, stall) = server
        .get(
            &format!("/api/v1/stalls/{}", server.vendor_stall),
            &server.admin,
        )
        .await;
    assert_eq!(status, 200, "{stall}");
    let (account, bin) = payee(&stall);
    let browser = Browser::start().await;

    browser
        .goto(&format!("{}/vendor#token={}", server.base, server.vendor))
        .await;
    browser
        .wait_for(
            "the vendor screen to connect",
            "document.querySelector('#connection[data-state=\"ready\"]')",
        )
        .await;
    assert_eq!(
        browser.path().await,
        "/vendor",
        "the token leaves the address"
    );
    let count = number(
        &browser
            .text("document.getElementById('today-count').textContent")
            .await,
    );
    for key in ["5", "0", "0", "0", "0"] {
        browser.click(&format!("button[data-key=\"{key}\"]")).await;
    }
    assert_eq!(
        browser
            .text("document.getElementById('amount-display').textContent")
            .await,
        "50.000đ"
    );
    browser.click("#create-order").await;
    browser
        .wait_for("the QR code", "document.querySelector('#qr svg')")
        .await;
    let reference = browser
        .wait_for(
            "the order reference",
            "document.getElementById('order-reference').textContent.trim()",
        )
        .await;
    let reference = reference.as_str().expect("a reference").to_owned();
    assert!(
        reference.starts_with("CP") && reference.len() == 11,
        "{reference}"
    );

    let answer = deliver(
        &server.base,
        &server.channel,
        &server.secret,
        &json!({"amount": "50000", "account_number": account, "bin": bin,
                "description": format!("MBVCB.3278907687.{reference}.CT tu 0987654321 PHAM DUC LONG")}),
    )
    .await;
    assert_eq!(answer["outcome"], "order_paid", "{answer}");
    browser
        .wait_for(
            "the paid banner",
            "!document.getElementById('paid-banner').hidden \
             && document.getElementById('paid-banner').textContent === 'Đã nhận 50.000đ'",
        )
        .await;
    browser
        .wait_for(
            "the paid mark instead of the QR",
            "!document.getElementById('qr-paid').hidden",
        )
        .await;
    browser
        .wait_for(
            "today's count to move",
            &format!(
                "document.getElementById('today-count').textContent === '{}'",
                count + 1
            ),
        )
        .await;
    browser.screenshot("vendor").await;
}
