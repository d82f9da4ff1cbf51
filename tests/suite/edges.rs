//! Hostile clients at the edges: over a real loopback port, served exactly as `chopay serve`
//! serves (`chopay::http::serve::serve`), a client that never finishes its headers or trickles
//! them is disconnected within the header limit, a body that stalls or trickles gets 408 within
//! the body limit, keep-alive still carries several requests, and shutdown stops the loop (the
//! real `chopay serve` ends open event streams on SIGTERM and exits promptly). Through
//! the API: every name field refuses bidi overrides, zero-width and control characters with a 4xx
//! `{code, message}`, and names that must be unique are compared after NFC and case folding.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use chopay::http::serve::{ConnectionLimits, serve};

use crate::app::{TestApp, TestDatabase};
use crate::demo_server::DemoServer;

/// The limits the tests serve with: one second for headers, one for a body.
const LIMITS: ConnectionLimits = ConnectionLimits {
    header_timeout: Duration::from_secs(1),
    body_timeout: Duration::from_secs(1),
};

/// A real server on a loopback port; stops when the sender is dropped or fired.
struct Server {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
    app: TestApp,
}

impl Server {
    async fn start() -> Self {
        let app = TestApp::spawn().await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let router = app.router.clone();
        let done = tokio::spawn(serve(listener, router, LIMITS, async move {
            let _ = stopped.await;
        }));
        Self {
            address,
            stop: Some(stop),
            done,
            app,
        }
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.address).await.unwrap()
    }
}

/// Reads until the server closes the connection (or `limit` passes); returns what it sent and
/// when it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => {
                return (
                    String::from_utf8_lossy(&received).into_owned(),
                    Some(started.elapsed()),
                );
            }
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => return (String::from_utf8_lossy(&received).into_owned(), None),
        }
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected_within_the_limit() {
    let server = Server::start().await;
    let mut stream = server.connect().await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    let closed = closed.expect("the server closes the connection");
    assert!(
        closed >= Duration::from_millis(900) && closed < Duration::from_secs(3),
        "closed after {closed:?}"
    );
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[tokio::test]
async fn headers_trickled_a_byte_at_a_time_do_not_hold_the_connection() {
    let server = Server::start().await;
    let mut stream = server.connect().await;
    let request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trickle: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let started = Instant::now();
    let mut closed = false;
    // Forty bytes would take 8 s at this pace; the header limit is 1 s in all.
    for byte in request.iter().take(40) {
        if stream.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        let mut probe = [0_u8; 256];
        // Closed (a read of 0 bytes or an error) ends the loop; an answer or silence does not.
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(200), stream.read(&mut probe)).await
        {
            closed = true;
            break;
        }
    }
    let elapsed = started.elapsed();
    assert!(closed, "still open after {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "closed after {elapsed:?}");
}

/// Sends a request whose body is `sent` of `declared` bytes, then `trickle` more bytes one per
/// 200 ms; returns the answer's status line and when it came.
async fn slow_body(
    server: &Server,
    declared: usize,
    sent: &[u8],
    trickle: usize,
) -> (String, Duration) {
    let mut stream = server.connect().await;
    let head = format!(
        "POST /api/v1/markets HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n\r\n",
        server.app.admin
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(sent).await.unwrap();
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0_u8; 4096];
    let mut left = trickle;
    while started.elapsed() < Duration::from_secs(5) {
        if left > 0 {
            left -= 1;
            // A write may fail once the server has answered and closed: that is the point.
            let _ = stream.write_all(b" ").await;
        }
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => {
                received.extend_from_slice(&buffer[..n]);
                if received.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Err(_) => {}
        }
    }
    let text = String::from_utf8_lossy(&received).into_owned();
    let status = text.lines().next().unwrap_or("").to_owned();
    (status, started.elapsed())
}

#[tokio::test]
async fn a_body_that_stalls_or_trickles_gets_408_within_the_body_limit() {
    let server = Server::start().await;
    // Half a body, then nothing.
    let (status, after) = slow_body(&server, 200, br#"{"slug":"cho-"#, 0).await;
    assert_eq!(status, "HTTP/1.1 408 Request Timeout", "after {after:?}");
    assert!(after < Duration::from_secs(3), "answered after {after:?}");
    // A byte every 200 ms: each arrives in time, the whole would take 40 s.
    let (status, after) = slow_body(&server, 200, b"{", 200).await;
    assert_eq!(status, "HTTP/1.1 408 Request Timeout", "after {after:?}");
    assert!(after < Duration::from_secs(3), "answered after {after:?}");
    // Nothing was created.
    let markets = server
        .app
        .get("/api/v1/markets", Some(&server.app.admin))
        .await;
    assert_eq!(markets.expect(StatusCode::OK).json()["total"], 0);
}

#[tokio::test]
async fn keep_alive_carries_several_requests_and_shutdown_stops_the_server() {
    let mut server = Server::start().await;
    let mut stream = server.connect().await;
    for _ in 0..3 {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut buffer = [0_u8; 1024];
        let n = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buffer))
            .await
            .expect("an answer")
            .unwrap();
        let text = String::from_utf8_lossy(&buffer[..n]);
        assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    }
    // Idle past the header limit: the keep-alive connection is let go.
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(4)).await;
    assert!(closed.is_some(), "an idle keep-alive connection stays open");

    let _open = server.connect().await;
    server.stop.take().unwrap().send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), &mut server.done)
        .await
        .expect("the serving loop stops on shutdown")
        .unwrap();
    assert!(TcpStream::connect(server.address).await.is_err());
}

#[tokio::test]
async fn sigterm_ends_open_event_streams_and_the_real_server_exits_promptly() {
    let database = TestDatabase::new().await;
    let server = DemoServer::start(&database.url);
    let mut stream = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/stalls/{}/events",
            server.base, server.vendor_stall
        ))
        .bearer_auth(&server.vendor)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let started = Instant::now();
    // Served through the same loop as the tests above: shutdown ends the stream rather than
    // waiting out the 10 s grace for the screen to go away.
    let stopped = tokio::task::spawn_blocking(move || server.stop());
    let ended = tokio::time::timeout(Duration::from_secs(8), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the event stream is still open");
    let clean = tokio::time::timeout(Duration::from_secs(8), stopped)
        .await
        .expect("the server exits")
        .unwrap();
    assert!(clean, "a graceful shutdown exits 0");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "exited after {:?}",
        started.elapsed()
    );
}

/// Characters that hide or reorder text, each refused wherever a name is typed.
const HIDDEN: [(&str, char); 6] = [
    ("right-to-left override", '\u{202E}'),
    ("left-to-right isolate", '\u{2066}'),
    ("zero-width space", '\u{200B}'),
    ("zero-width no-break space", '\u{FEFF}'),
    ("bell (a control)", '\u{0007}'),
    ("escape (a control)", '\u{001B}'),
];

fn market_body(name: &str, commune: &str) -> Value {
    json!({
        "slug": "cho-mo", "name": name, "commune": commune, "district": "huyện Ba Vì",
        "district_slug": "ba-vi", "province": "Hà Nội"
    })
}

fn stall_body(code: &str, vendor: &str, goods: &str, holder: &str) -> Value {
    json!({
        "code": code, "vendor_name": vendor, "goods": goods,
        "payee": {"bank": "VCB", "account": "1234567890", "holder": holder}
    })
}

#[tokio::test]
async fn every_name_field_refuses_hidden_and_reordering_characters() {
    let app = TestApp::spawn().await;
    let admin = Some(app.admin.as_str());
    for (what, c) in HIDDEN {
        let bad = format!("Chợ{c} Mơ");
        for body in [
            market_body(&bad, "xã Vạn Thắng"),
            market_body("Chợ Mơ", &bad),
        ] {
            let reply = app.post_json("/api/v1/markets", admin, &body).await;
            reply.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        }
        assert_eq!(
            app.get("/api/v1/markets", admin).await.json()["total"],
            0,
            "{what}"
        );
    }
    app.create_market("cho-mo", "ba-vi").await;
    let stalls = "/api/v1/markets/cho-mo/stalls";
    for (what, c) in HIDDEN {
        let bad = format!("Nguyễn{c} Thị Hương");
        for body in [
            stall_body("A01", &bad, "Rau", "NGUYEN THI HUONG"),
            stall_body("A01", "Nguyễn Thị Hương", &bad, "NGUYEN THI HUONG"),
            stall_body("A01", "Nguyễn Thị Hương", "Rau", &bad),
        ] {
            let reply = app.post_json(stalls, admin, &body).await;
            let error = reply.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert!(
                error["message"].as_str().unwrap().contains("U+"),
                "{what}: {error}"
            );
        }
        let csv = format!(
            "code,vendor_name,goods,phone,bank,account,holder\nA01,Nguyễn Thị Hương,Rau,,VCB,1234567890,NGUYEN THI HUONG\nA02,{bad},Rau,,VCB,1234567891,NGUYEN THI HUONG\n"
        );
        let reply = app.post_csv(&format!("{stalls}/import"), admin, &csv).await;
        let error = reply.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "import_rejected");
        let rows = error["errors"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{what}: only A02's row is refused: {error}");
        assert_eq!(
            (&rows[0]["line"], &rows[0]["code"]),
            (&json!(3), &json!("A02")),
            "{what}"
        );
        assert!(
            rows[0]["message"].as_str().unwrap().contains("U+"),
            "{what}: {error}"
        );
        let reply = app
            .post_json(
                "/api/v1/markets/cho-mo/channels",
                admin,
                &json!({"provider": "chopay", "label": format!("Ngân hàng{c}")}),
            )
            .await;
        reply.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let token = chopay::service::tokens::create(
            &app.store,
            &chopay::service::tokens::TokenRequest {
                role: "admin".into(),
                label: format!("máy{c} tính"),
                ..Default::default()
            },
        )
        .await;
        assert!(token.is_err(), "{what}: a token label is refused");
    }
    assert_eq!(app.get(stalls, admin).await.json()["total"], 0);
    let channels = app.get("/api/v1/markets/cho-mo/channels", admin).await;
    assert_eq!(channels.json().as_array().unwrap().len(), 0);
    // A tab or a double space is white space, not hidden: it is collapsed.
    let made = app
        .post_json(
            stalls,
            admin,
            &stall_body("A01", "Nguyễn\tThị  Hương", "Rau", "Nguyễn Thị Hương"),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(made["vendor_name"], "Nguyễn Thị Hương");
    // Edits go through the same checks as creation.
    let stall = format!("/api/v1/stalls/{}", made["id"]);
    for (what, c) in HIDDEN {
        let bad = format!("Lan{c} Anh");
        for body in [
            json!({"vendor_name": bad}),
            json!({"goods": bad}),
            json!({"payee": {"bank": "VCB", "account": "1234567890", "holder": bad}}),
        ] {
            app.patch_json(&stall, admin, &body)
                .await
                .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        }
        app.patch_json("/api/v1/markets/cho-mo", admin, &json!({"name": bad}))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(
            app.get(&stall, admin).await.json()["vendor_name"],
            "Nguyễn Thị Hương",
            "{what}"
        );
    }
}

#[tokio::test]
async fn unique_names_are_compared_after_normalizing_and_case_folding() {
    let app = TestApp::spawn().await;
    let admin = Some(app.admin.as_str());
    app.create_market("cho-mo", "ba-vi").await;
    // Slugs are lower case: another case of a slug is refused, not a second market.
    for slug in ["Cho-Mo", "CHO-MO", "cho-mó"] {
        let mut body = market_body("Chợ Mơ", "xã Vạn Thắng");
        body["slug"] = json!(slug);
        app.post_json("/api/v1/markets", admin, &body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    app.post_json(
        "/api/v1/markets",
        admin,
        &market_body("Chợ Mơ", "xã Vạn Thắng"),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "conflict");
    // Stall codes are folded to upper case: a1 is A1.
    let stalls = "/api/v1/markets/cho-mo/stalls";
    let first = app
        .post_json(
            stalls,
            admin,
            &stall_body("a1", "Nguyễn Thị Hương", "Rau", "NGUYEN THI HUONG"),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(first["code"], "A1");
    for code in ["A1", " a1 ", "a1"] {
        app.post_json(
            stalls,
            admin,
            &stall_body(code, "Trần Văn Hùng", "Thịt", "TRAN VAN HUNG"),
        )
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
    }
    // A full-width Ａ１ is not quietly another code.
    app.post_json(
        stalls,
        admin,
        &stall_body("Ａ１", "Trần Văn Hùng", "Thịt", "TRAN VAN HUNG"),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // Decomposed Vietnamese is stored precomposed, so the same name is the same bytes.
    let decomposed = "Tra\u{302}\u{300}n Va\u{306}n Hu\u{300}ng";
    let second = app
        .post_json(
            stalls,
            admin,
            &stall_body("A2", decomposed, "Thịt", decomposed),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(second["vendor_name"], "Trần Văn Hùng");
    // A CSV row for a1 updates A1 rather than adding a stall.
    let csv = "code,vendor_name,goods,phone,bank,account,holder\na1,Nguyễn Thị Hương,Rau củ,,VCB,1234567890,NGUYEN THI HUONG\n";
    let imported = app
        .post_csv(&format!("{stalls}/import"), admin, csv)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(imported["created"], 0, "{imported}");
    assert_eq!(app.get(stalls, admin).await.json()["total"], 2);
}
