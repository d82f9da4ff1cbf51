//! Object-level access on every endpoint: a token reaches only its own market, district or stall;
//! no token or a bad one is a 401, an object out of reach is the same 404 as one that does not
//! exist, a write without the role on an object the token sees is a 403, and a refused request
//! changes nothing.
//!
//! The endpoints are one table ([`endpoints`]); every test sends each of them to every object of
//! one small world (two districts, three markets, two stalls each), so a new endpoint is one line.
//! `{district}` in a path stands for each district, `{slug}` for each market, `{id}` for each stall.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};

use crate::app::{Reply, TestApp};

/// The markets, with their districts.
const MARKETS: [(&str, &str); 3] = [
    ("cho-mo", "ba-vi"),
    ("cho-quang-oai", "ba-vi"),
    ("cho-son-tay", "son-tay"),
];

/// The districts, each with a board token in the world.
const DISTRICTS: [&str; 2] = ["ba-vi", "son-tay"];

/// The report's header line, as `GET /api/v1/markets/{slug}/report.csv` starts.
const REPORT_HEADER: &str =
    "market,month,code,vendor_name,goods,account_linked,poster,active,credits,amount,";

/// The stalls, as (market, code); codes are unique across markets so an export shows whose it is.
const STALLS: [(&str, &str); 6] = [
    ("cho-mo", "M01"),
    ("cho-mo", "M02"),
    ("cho-quang-oai", "Q01"),
    ("cho-quang-oai", "Q02"),
    ("cho-son-tay", "S01"),
    ("cho-son-tay", "S02"),
];

/// A write's body, with its content type.
#[derive(Clone, Copy)]
struct Payload {
    content_type: &'static str,
    text: &'static str,
}

const fn json(text: &'static str) -> Payload {
    Payload {
        content_type: "application/json",
        text,
    }
}

const NEW_MARKET: Payload = json(
    r#"{"slug": "cho-moi", "name": "Chợ Mới", "commune": "xã Tản Lĩnh", "district": "huyện Ba Vì",
        "district_slug": "ba-vi", "province": "Hà Nội"}"#,
);
/// Renames the market and moves it to another district.
const MARKET_PATCH: Payload = json(r#"{"name": "Chợ đã bị đổi tên", "district_slug": "son-tay"}"#);
const NEW_STALL: Payload = json(
    r#"{"code": "Z99", "vendor_name": "Kẻ Lạ", "payee": {"bank": "VCB", "account": "9999999999", "holder": "KE LA"}}"#,
);
const IMPORT: Payload = Payload {
    content_type: "text/csv",
    text: "code,vendor_name,goods,phone,bank,account,holder\nZ98,Kẻ Lạ,Gạo,,VCB,9999999998,KE LA\n",
};
/// Points the stall's QR at someone else's account: the write that matters most.
const STALL_PATCH: Payload = json(
    r#"{"goods": "Đã bị đổi", "payee": {"bank": "VCB", "account": "9999999999", "holder": "KE LA"}}"#,
);

const NEW_ORDER: Payload = json(r#"{"amount": "50000"}"#);
/// The static VietQR of Vietcombank 1234567890, as a scanner reads it from a sticker.
const SCANNED_POSTER: Payload = json(
    r#"{"payload": "00020101021138540010A00000072701240006970436011012345678900208QRIBFTTA53037045802VN6304BE57"}"#,
);
const NEW_CHANNEL: Payload = json(r#"{"provider": "chopay"}"#);

/// Who besides an admin an endpoint serves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// Reads for boards in reach and the stall's vendor; writes for admins only.
    Readers,
    /// Admins only, reads included (payment channels and their secrets' business).
    Admins,
    /// A write the stall's own vendor may make too (a sale's order).
    Vendor,
    /// A POST that only reads (a poster audit): whoever reads the object may send it.
    Checkers,
    /// A print (a poster): boards in reach and admins; it records the poster's serial on the
    /// stall, nothing else.
    Printers,
    /// A district's figures: admins and that district's own board (not a board of one of its
    /// markets).
    Districts,
}

/// One endpoint: `{slug}` in the path stands for a market, `{id}` for a stall, `{district}` for a
/// district. A write carries a body an admin gets `ok` for, so a refusal can only be about access.
struct Endpoint {
    method: Method,
    path: &'static str,
    body: Option<Payload>,
    /// What an admin gets.
    ok: StatusCode,
    audience: Audience,
}

impl Endpoint {
    fn get(path: &'static str) -> Self {
        Self {
            method: Method::GET,
            path,
            body: None,
            ok: StatusCode::OK,
            audience: Audience::Readers,
        }
    }

    fn post(path: &'static str, body: Payload, ok: StatusCode) -> Self {
        Self {
            method: Method::POST,
            path,
            body: Some(body),
            ok,
            audience: Audience::Readers,
        }
    }

    fn for_audience(self, audience: Audience) -> Self {
        Self { audience, ..self }
    }

    fn patch(path: &'static str, body: Payload) -> Self {
        Self {
            method: Method::PATCH,
            path,
            body: Some(body),
            ok: StatusCode::OK,
            audience: Audience::Readers,
        }
    }

    /// Whether the request changes something: a POST that only checks does not.
    fn is_write(&self) -> bool {
        self.method != Method::GET && self.audience != Audience::Checkers
    }
}

/// Every endpoint that takes a token, once.
fn endpoints() -> Vec<Endpoint> {
    vec![
        // First: an admin's PATCH below moves every market to son-tay, and an admin asking for a
        // district without markets is told it does not exist.
        Endpoint::get("/api/v1/districts/{district}/stats").for_audience(Audience::Districts),
        Endpoint::get("/api/v1/markets"),
        Endpoint::post("/api/v1/markets", NEW_MARKET, StatusCode::CREATED),
        Endpoint::get("/api/v1/markets/{slug}"),
        Endpoint::patch("/api/v1/markets/{slug}", MARKET_PATCH),
        Endpoint::get("/api/v1/markets/{slug}/stalls"),
        Endpoint::post(
            "/api/v1/markets/{slug}/stalls",
            NEW_STALL,
            StatusCode::CREATED,
        ),
        Endpoint::post(
            "/api/v1/markets/{slug}/stalls/import",
            IMPORT,
            StatusCode::OK,
        ),
        Endpoint::get("/api/v1/markets/{slug}/stalls.csv"),
        Endpoint::get("/api/v1/stalls/{id}"),
        Endpoint::patch("/api/v1/stalls/{id}", STALL_PATCH),
        Endpoint::get("/api/v1/stalls/{id}/qr.svg"),
        Endpoint::get("/api/v1/stalls/{id}/qr.png"),
        Endpoint::get("/api/v1/stalls/{id}/poster.pdf").for_audience(Audience::Printers),
        Endpoint::get("/api/v1/stalls/{id}/poster.png").for_audience(Audience::Printers),
        Endpoint::post(
            "/api/v1/stalls/{id}/poster-audit",
            SCANNED_POSTER,
            StatusCode::OK,
        )
        .for_audience(Audience::Checkers),
        Endpoint::post("/api/v1/stalls/{id}/orders", NEW_ORDER, StatusCode::CREATED)
            .for_audience(Audience::Vendor),
        Endpoint::get("/api/v1/stalls/{id}/today"),
        Endpoint::get("/api/v1/stalls/{id}/credits"),
        Endpoint::get("/api/v1/stalls/{id}/credits.csv"),
        Endpoint::get("/api/v1/stalls/{id}/credits/daily"),
        Endpoint::get("/api/v1/markets/{slug}/credits"),
        Endpoint::get("/api/v1/markets/{slug}/credits.csv"),
        Endpoint::get("/api/v1/markets/{slug}/credits/daily"),
        Endpoint::get("/api/v1/markets/{slug}/channels").for_audience(Audience::Admins),
        Endpoint::post(
            "/api/v1/markets/{slug}/channels",
            NEW_CHANNEL,
            StatusCode::CREATED,
        )
        .for_audience(Audience::Admins),
        Endpoint::get("/api/v1/markets/{slug}/reviews").for_audience(Audience::Admins),
        Endpoint::get("/api/v1/markets/{slug}/posters.pdf").for_audience(Audience::Printers),
        Endpoint::get("/api/v1/markets/{slug}/stats"),
        Endpoint::get("/api/v1/markets/{slug}/report.csv"),
    ]
}

/// A stall of the world.
struct Stall {
    id: i64,
    market: &'static str,
    code: &'static str,
}

/// One request's object: the market collection, a district, a market, or a stall.
struct Target {
    path: String,
    /// The district, for `{district}` paths.
    district: Option<&'static str>,
    /// The market the object is or belongs to; `None` for the market collection and districts.
    market: Option<&'static str>,
    /// The stall, for `{id}` paths.
    stall: Option<i64>,
}

/// The markets and stalls, and a token of each kind.
struct World {
    app: TestApp,
    stalls: Vec<Stall>,
    /// Board of market cho-mo.
    board_mo: String,
    /// Board of district ba-vi (cho-mo and cho-quang-oai).
    board_ba_vi: String,
    /// Board of district son-tay (cho-son-tay).
    board_son_tay: String,
    /// Vendor of stall M01 in cho-mo.
    vendor: String,
    vendor_stall: i64,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        for (slug, district) in MARKETS {
            app.create_market(slug, district).await;
        }
        let mut stalls = Vec::new();
        for (market, code) in STALLS {
            stalls.push(Stall {
                id: app.create_stall(market, code).await,
                market,
                code,
            });
        }
        let vendor_stall = stalls[0].id;
        Self {
            board_mo: app.token("board", Some("cho-mo"), None, None).await,
            board_ba_vi: app.token("board", None, Some("ba-vi"), None).await,
            board_son_tay: app.token("board", None, Some("son-tay"), None).await,
            vendor: app.token("vendor", None, None, Some(vendor_stall)).await,
            vendor_stall,
            stalls,
            app,
        }
    }

    /// Every object the endpoint can be aimed at.
    fn targets(&self, endpoint: &Endpoint) -> Vec<Target> {
        if endpoint.path.contains("{district}") {
            DISTRICTS
                .iter()
                .map(|&district| Target {
                    path: endpoint.path.replace("{district}", district),
                    district: Some(district),
                    market: None,
                    stall: None,
                })
                .collect()
        } else if endpoint.path.contains("{slug}") {
            MARKETS
                .iter()
                .map(|&(slug, _)| Target {
                    path: endpoint.path.replace("{slug}", slug),
                    district: None,
                    market: Some(slug),
                    stall: None,
                })
                .collect()
        } else if endpoint.path.contains("{id}") {
            self.stalls
                .iter()
                .map(|s| Target {
                    path: endpoint.path.replace("{id}", &s.id.to_string()),
                    district: None,
                    market: Some(s.market),
                    stall: Some(s.id),
                })
                .collect()
        } else {
            vec![Target {
                path: endpoint.path.to_owned(),
                district: None,
                market: None,
                stall: None,
            }]
        }
    }

    /// Sends one endpoint to one path with this `Authorization` header (or none).
    async fn send(
        &self,
        endpoint: &Endpoint,
        path: &str,
        authorization: Option<HeaderValue>,
    ) -> Reply {
        let mut request = Request::builder().method(endpoint.method.clone()).uri(path);
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let body = match endpoint.body {
            Some(payload) => {
                request = request.header(header::CONTENT_TYPE, payload.content_type);
                Body::from(payload.text)
            }
            None => Body::empty(),
        };
        self.app.send(request.body(body).expect("request")).await
    }

    /// Sends every endpoint to every object with `token` and checks each answer against `reach`;
    /// returns how many requests succeeded, so a test can tell its sweep was not vacuous.
    async fn sweep(&self, who: &str, token: &str, reach: &Reach) -> usize {
        let authorization = HeaderValue::from_str(&format!("Bearer {token}")).expect("header");
        let mut succeeded = 0;
        for endpoint in endpoints() {
            for target in self.targets(&endpoint) {
                let reply = self
                    .send(&endpoint, &target.path, Some(authorization.clone()))
                    .await;
                let expected = reach.expected(&endpoint, &target);
                let name = format!("{who}: {} {}", endpoint.method, target.path);
                check(&reply, expected, &name);
                if expected.is_success() {
                    succeeded += 1;
                    if !endpoint.is_write() {
                        self.check_content(&endpoint, &target, &reply, reach, &name);
                    }
                }
            }
        }
        succeeded
    }

    /// A successful read shows its own object and nothing of anyone else's.
    fn check_content(
        &self,
        endpoint: &Endpoint,
        target: &Target,
        reply: &Reply,
        reach: &Reach,
        name: &str,
    ) {
        let content_type = reply
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        match endpoint.path {
            "/api/v1/markets" => {
                let list = reply.json();
                let slugs: Vec<&str> = list["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .map(|m| m["slug"].as_str().expect("slug"))
                    .collect();
                match reach.markets() {
                    Some(visible) => {
                        assert_eq!(
                            slugs, visible,
                            "{name}: the list shows exactly the markets in reach"
                        );
                        assert_eq!(
                            list["total"].as_u64(),
                            u64::try_from(visible.len()).ok(),
                            "{name}: the total counts only those"
                        );
                    }
                    _ => assert!(
                        MARKETS.iter().all(|(slug, _)| slugs.contains(slug)),
                        "{name}: every market: {list}"
                    ),
                }
            }
            "/api/v1/markets/{slug}" => {
                assert_eq!(reply.json()["slug"].as_str(), target.market, "{name}")
            }
            "/api/v1/markets/{slug}/stalls" => {
                let list = reply.json();
                let items = list["items"].as_array().expect("items");
                assert!(
                    items.iter().all(|s| s["market"].as_str() == target.market),
                    "{name}: only this market's stalls: {list}"
                );
                let codes: Vec<&str> = items
                    .iter()
                    .map(|s| s["code"].as_str().expect("code"))
                    .collect();
                self.check_codes(&codes, target, name);
            }
            "/api/v1/markets/{slug}/stalls.csv" => {
                let text = reply.text();
                let codes: Vec<&str> = text
                    .lines()
                    .skip(1)
                    .map(|line| line.split(',').next().unwrap_or(""))
                    .collect();
                self.check_codes(&codes, target, &format!("{name}:\n{text}"));
            }
            "/api/v1/stalls/{id}" => {
                let stall = reply.json();
                assert_eq!(
                    (stall["id"].as_i64(), stall["market"].as_str()),
                    (target.stall, target.market),
                    "{name}"
                );
            }
            "/api/v1/stalls/{id}/qr.svg" => assert_eq!(content_type, "image/svg+xml", "{name}"),
            "/api/v1/stalls/{id}/qr.png" => assert_eq!(content_type, "image/png", "{name}"),
            "/api/v1/stalls/{id}/poster.png" => {
                assert_eq!(content_type, "image/png", "{name}");
                assert!(reply.body.starts_with(b"\x89PNG"), "{name}");
            }
            "/api/v1/stalls/{id}/poster.pdf" | "/api/v1/markets/{slug}/posters.pdf" => {
                assert_eq!(content_type, "application/pdf", "{name}");
                assert!(reply.body.starts_with(b"%PDF-"), "{name}");
            }
            "/api/v1/stalls/{id}/poster-audit" => {
                // `other_account` once an admin's PATCH has relinked the stall.
                let audit = reply.json();
                assert!(
                    matches!(audit["verdict"].as_str(), Some("ok" | "other_account")),
                    "{name}: {audit}"
                );
                assert_eq!(audit["found"]["account"], "1234567890", "{name}: {audit}");
            }
            "/api/v1/stalls/{id}/today" => {
                assert!(reply.json()["count"].is_i64(), "{name}: {}", reply.text())
            }
            "/api/v1/stalls/{id}/credits" | "/api/v1/markets/{slug}/credits" => {
                let list = reply.json();
                assert!(
                    list["items"].is_array() && list["total"].is_i64(),
                    "{name}: {list}"
                )
            }
            "/api/v1/stalls/{id}/credits.csv" | "/api/v1/markets/{slug}/credits.csv" => {
                assert!(
                    content_type.starts_with("text/csv"),
                    "{name}: {content_type}"
                );
                assert!(
                    reply.text().starts_with("id,received_at,"),
                    "{name}: {}",
                    reply.text()
                );
            }
            "/api/v1/markets/{slug}/stats" => {
                let stats = reply.json();
                assert_eq!(stats["market"]["slug"].as_str(), target.market, "{name}");
                // No stall has been paid, so every stall of the market is on the visit list.
                let codes: Vec<&str> = stats["visits"]
                    .as_array()
                    .expect("visits")
                    .iter()
                    .map(|v| v["code"].as_str().expect("code"))
                    .collect();
                self.check_codes(&codes, target, &format!("{name}: {stats}"));
            }
            "/api/v1/markets/{slug}/report.csv" => {
                assert!(
                    content_type.starts_with("text/csv"),
                    "{name}: {content_type}"
                );
                let text = reply.text();
                assert!(text.starts_with(REPORT_HEADER), "{name}: {text}");
                let codes: Vec<&str> = text
                    .lines()
                    .skip(1)
                    .map(|line| line.split(',').nth(2).unwrap_or(""))
                    .filter(|code| !code.starts_with('('))
                    .collect();
                self.check_codes(&codes, target, &format!("{name}:\n{text}"));
            }
            "/api/v1/districts/{district}/stats" => {
                let stats = reply.json();
                assert_eq!(stats["slug"].as_str(), target.district, "{name}");
                let slugs: Vec<&str> = stats["markets"]
                    .as_array()
                    .expect("markets")
                    .iter()
                    .map(|m| m["slug"].as_str().expect("slug"))
                    .collect();
                let own: Vec<&str> = MARKETS
                    .iter()
                    .filter(|(_, district)| Some(*district) == target.district)
                    .map(|(slug, _)| *slug)
                    .collect();
                assert_eq!(slugs, own, "{name}: the district's markets: {stats}");
            }
            "/api/v1/stalls/{id}/credits/daily"
            | "/api/v1/markets/{slug}/credits/daily"
            | "/api/v1/markets/{slug}/channels"
            | "/api/v1/markets/{slug}/reviews" => {
                assert!(reply.json().is_array(), "{name}: {}", reply.text())
            }
            other => panic!("{name}: no content check for {other}; add one"),
        }
    }

    /// A market's stall codes hold all of its own stalls and none of another market's.
    fn check_codes(&self, codes: &[&str], target: &Target, name: &str) {
        for stall in &self.stalls {
            let own = Some(stall.market) == target.market;
            assert_eq!(
                codes.contains(&stall.code),
                own,
                "{name}: stall {} of {} listed: {codes:?}",
                stall.code,
                stall.market
            );
        }
    }

    /// Everything an admin can read, path by path: the "before" and "after" of refused requests.
    async fn snapshot(&self) -> Vec<(String, Vec<u8>)> {
        let mut paths = vec!["/api/v1/markets?per_page=500".to_owned()];
        for (slug, _) in MARKETS {
            paths.push(format!("/api/v1/markets/{slug}"));
            paths.push(format!("/api/v1/markets/{slug}/stalls?per_page=500"));
            paths.push(format!("/api/v1/markets/{slug}/stalls.csv"));
            paths.push(format!("/api/v1/markets/{slug}/channels"));
        }
        paths.extend(
            self.stalls
                .iter()
                .map(|s| format!("/api/v1/stalls/{}", s.id)),
        );
        let mut snapshot = Vec::new();
        for path in paths {
            let reply = self.app.get(&path, Some(&self.app.admin)).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "admin: GET {path}: {}",
                String::from_utf8_lossy(&reply.body)
            );
            snapshot.push((path, without_prints(reply.body)));
        }
        snapshot
    }

    /// How many markets there are, and how many stalls each has.
    async fn counts(&self) -> (i64, Vec<(&'static str, i64)>) {
        let admin = Some(self.app.admin.as_str());
        let markets = self.app.get("/api/v1/markets", admin).await.json()["total"]
            .as_i64()
            .expect("total");
        let mut stalls = Vec::new();
        for (slug, _) in MARKETS {
            let list = self
                .app
                .get(&format!("/api/v1/markets/{slug}/stalls"), admin)
                .await
                .json();
            stalls.push((slug, list["total"].as_i64().expect("total")));
        }
        (markets, stalls)
    }

    /// Asserts that nothing changed since `before`, and that the world still has its first shape.
    async fn assert_unchanged(&self, who: &str, before: &[(String, Vec<u8>)]) {
        let after = self.snapshot().await;
        for ((path, then), (_, now)) in before.iter().zip(&after) {
            assert!(
                then == now,
                "{who}: a refused request changed GET {path}\nbefore: {}\nafter:  {}",
                String::from_utf8_lossy(then),
                String::from_utf8_lossy(now)
            );
        }
        let expected = (
            3,
            MARKETS
                .iter()
                .map(|&(slug, _)| (slug, 2))
                .collect::<Vec<_>>(),
        );
        assert_eq!(
            self.counts().await,
            expected,
            "{who}: no market or stall was added"
        );
    }
}

/// A JSON answer without the poster fields a print records (`poster_printed_at`,
/// `poster_serial`, `poster_status`): printing is the one change a board may make.
fn without_prints(body: Vec<u8>) -> Vec<u8> {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for key in ["poster_printed_at", "poster_serial", "poster_status"] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(mut value) => {
            strip(&mut value);
            serde_json::to_vec(&value).unwrap_or(body)
        }
        Err(_) => body,
    }
}

/// What one token is expected to reach.
enum Reach {
    /// Everything, reads and writes.
    All,
    /// Reads these markets (in slug order), their stalls and the market list; writes nothing.
    Markets(Vec<&'static str>),
    /// A district's board: reads like `Markets` (the district's markets), and the district's own
    /// figures.
    District(&'static str, Vec<&'static str>),
    /// Reads this one stall and its QR codes; nothing else.
    Stall(i64),
}

impl Reach {
    /// The markets a board reads, in slug order.
    fn markets(&self) -> Option<&[&'static str]> {
        match self {
            Self::Markets(slugs) | Self::District(_, slugs) => Some(slugs),
            Self::All | Self::Stall(_) => None,
        }
    }

    /// Whether the token sees the request's object at all (a collection, such as the market
    /// list, is seen by everyone): what it does not see is a 404, what it sees without the role
    /// to act on it a 403.
    fn sees(&self, target: &Target) -> bool {
        match (self, target.district, target.market) {
            (Self::All, ..) => true,
            (Self::District(own, _), Some(district), _) => *own == district,
            (_, Some(_), _) => false,
            (Self::Markets(slugs) | Self::District(_, slugs), None, Some(market)) => {
                slugs.contains(&market)
            }
            (Self::Stall(id), None, Some(_)) => target.stall == Some(*id),
            (_, None, None) => true,
        }
    }

    fn expected(&self, endpoint: &Endpoint, target: &Target) -> StatusCode {
        let reached = match self {
            Self::All => return endpoint.ok,
            _ if endpoint.audience == Audience::Admins => false,
            _ if endpoint.audience == Audience::Districts => {
                matches!(self, Self::District(own, _) if target.district == Some(*own))
            }
            Self::Stall(_) if endpoint.audience == Audience::Printers => false,
            Self::Stall(id) if endpoint.audience == Audience::Vendor => {
                if target.stall == Some(*id) {
                    return endpoint.ok;
                }
                false
            }
            _ if endpoint.is_write() => false,
            Self::Markets(slugs) | Self::District(_, slugs) => {
                target.market.is_none_or(|market| slugs.contains(&market))
            }
            Self::Stall(id) => target.stall == Some(*id),
        };
        if reached {
            StatusCode::OK
        } else if self.sees(target) {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::NOT_FOUND
        }
    }
}

/// Asserts the status and, for a 401, 403 or 404, the `{code, message}` body.
#[track_caller]
fn check(reply: &Reply, expected: StatusCode, name: &str) {
    assert_eq!(
        reply.status,
        expected,
        "{name}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    let code = match expected {
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        _ => return,
    };
    let json = reply.json();
    assert_eq!(json["code"], code, "{name}: {json}");
    assert!(
        json["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{name}: a message: {json}"
    );
}

#[tokio::test]
async fn every_endpoint_refuses_a_missing_unknown_or_malformed_token() {
    let world = World::new().await;
    let before = world.snapshot().await;
    let admin = &world.app.admin;
    let header = |text: String| Some(HeaderValue::from_str(&text).expect("header"));
    let authorizations = [
        ("no Authorization header", None),
        (
            "an unknown token",
            header(format!("Bearer cp_{}", "0".repeat(64))),
        ),
        ("a Basic header", header("Basic xyz".to_owned())),
        ("an empty bearer token", header("Bearer ".to_owned())),
        ("a valid token without 'Bearer '", header(admin.clone())),
        (
            "another scheme around a valid token",
            header(format!("Token {admin}")),
        ),
        (
            "an over-long header",
            header(format!("Bearer cp_{}", "0".repeat(600))),
        ),
        (
            "an over-long header around a valid token",
            header(format!("Bearer {admin}{}", " ".repeat(600))),
        ),
        (
            "a header that is not text",
            Some(HeaderValue::from_bytes(b"Bearer cp_\xff\xfe").expect("header")),
        ),
    ];
    for endpoint in endpoints() {
        for target in world.targets(&endpoint) {
            for (what, authorization) in &authorizations {
                let reply = world
                    .send(&endpoint, &target.path, authorization.clone())
                    .await;
                check(
                    &reply,
                    StatusCode::UNAUTHORIZED,
                    &format!("{what}: {} {}", endpoint.method, target.path),
                );
            }
        }
    }
    world
        .assert_unchanged("without a valid token", &before)
        .await;
}

#[tokio::test]
async fn a_vendor_token_reaches_only_its_own_stall() {
    let world = World::new().await;
    let before = world.snapshot().await;
    let succeeded = world
        .sweep(
            "vendor of M01",
            &world.vendor,
            &Reach::Stall(world.vendor_stall),
        )
        .await;
    assert_eq!(
        succeeded, 9,
        "the vendor reads its stall, its two QR images, today's takings and its credits (list, CSV, \
         daily), audits its poster and issues an order, nothing more"
    );
    world.assert_unchanged("vendor of M01", &before).await;
}

#[tokio::test]
async fn a_market_board_token_reads_only_its_own_market_and_changes_nothing() {
    let world = World::new().await;
    let before = world.snapshot().await;
    let succeeded = world
        .sweep(
            "board of cho-mo",
            &world.board_mo,
            &Reach::Markets(vec!["cho-mo"]),
        )
        .await;
    assert_eq!(
        succeeded,
        1 + 9 + 2 * 10,
        "the list, cho-mo's nine reads (its posters, figures and report included), and ten reads \
         of each of its two stalls (two poster prints included); not the district's figures"
    );
    world.assert_unchanged("board of cho-mo", &before).await;
}

#[tokio::test]
async fn a_district_board_token_reads_only_the_markets_of_its_district() {
    let world = World::new().await;
    let before = world.snapshot().await;
    let ba_vi = world
        .sweep(
            "board of ba-vi",
            &world.board_ba_vi,
            &Reach::District("ba-vi", vec!["cho-mo", "cho-quang-oai"]),
        )
        .await;
    assert_eq!(
        ba_vi,
        1 + 1 + 2 * 9 + 4 * 10,
        "the list, the district's figures, two markets and four stalls"
    );
    let son_tay = world
        .sweep(
            "board of son-tay",
            &world.board_son_tay,
            &Reach::District("son-tay", vec!["cho-son-tay"]),
        )
        .await;
    assert_eq!(
        son_tay,
        1 + 1 + 9 + 2 * 10,
        "the list, the district's figures, one market and two stalls"
    );
    let empty = world.app.token("board", None, Some("hoai-duc"), None).await;
    let none = world
        .sweep(
            "board of hoai-duc",
            &empty,
            &Reach::District("hoai-duc", Vec::new()),
        )
        .await;
    assert_eq!(
        none, 1,
        "a district without markets lists nothing and reads nothing"
    );
    world.assert_unchanged("district boards", &before).await;
}

#[tokio::test]
async fn an_admin_token_reaches_every_endpoint_with_the_same_requests() {
    let world = World::new().await;
    let admin = world.app.admin.clone();
    let succeeded = world.sweep("admin", &admin, &Reach::All).await;
    let requests: usize = endpoints().iter().map(|e| world.targets(e).len()).sum();
    assert_eq!(
        succeeded, requests,
        "every request the other tests send succeeds for an admin"
    );
    let (markets, stalls) = world.counts().await;
    assert_eq!(
        markets, 4,
        "the admin's POST /api/v1/markets created cho-moi"
    );
    assert_eq!(
        stalls,
        [("cho-mo", 4), ("cho-quang-oai", 4), ("cho-son-tay", 4)],
        "each market got Z99 and Z98"
    );
    let stall = world
        .app
        .get(
            &format!("/api/v1/stalls/{}", world.vendor_stall),
            Some(&admin),
        )
        .await
        .json();
    assert_eq!(
        stall["payee"]["account"], "9999999999",
        "the admin's PATCH relinked the account"
    );
}

#[tokio::test]
async fn a_missing_object_looks_the_same_as_one_out_of_reach() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    app.create_market("cho-son-tay", "son-tay").await;
    let own = app.create_stall("cho-mo", "A01").await;
    let other = app.create_stall("cho-son-tay", "S01").await;
    let vendor = app.token("vendor", None, None, Some(own)).await;
    let board = app.token("board", Some("cho-mo"), None, None).await;
    let same = |path: String, out_of_reach: Reply, missing: Reply| {
        let json = out_of_reach.expect_error(StatusCode::NOT_FOUND, "not_found");
        assert_eq!(
            out_of_reach.body, missing.body,
            "{path}: not yours reads byte for byte as does not exist: {json}"
        );
    };
    for suffix in ["", "/qr.png", "/credits", "/today"] {
        let path = format!("/api/v1/stalls/{other}{suffix}");
        let missing = format!("/api/v1/stalls/999999{suffix}");
        same(
            path.clone(),
            app.get(&path, Some(&vendor)).await,
            app.get(&missing, Some(&vendor)).await,
        );
    }
    for suffix in ["", "/stalls", "/stalls.csv", "/stats", "/report.csv"] {
        let path = format!("/api/v1/markets/cho-son-tay{suffix}");
        let missing = format!("/api/v1/markets/cho-nowhere{suffix}");
        same(
            path.clone(),
            app.get(&path, Some(&board)).await,
            app.get(&missing, Some(&board)).await,
        );
    }
    same(
        "/api/v1/districts/son-tay/stats".into(),
        app.get("/api/v1/districts/son-tay/stats", Some(&board))
            .await,
        app.get("/api/v1/districts/nowhere/stats", Some(&board))
            .await,
    );
    // An admin is told the truth.
    for path in [
        "/api/v1/stalls/999999",
        "/api/v1/markets/cho-nowhere/stats",
        "/api/v1/markets/cho-nowhere/report.csv",
        "/api/v1/districts/nowhere/stats",
    ] {
        app.get(path, Some(&app.admin))
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
}
