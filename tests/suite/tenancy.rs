//! Tenancy and privacy, proven for every route. The walk reads the service's own `/openapi.json`
//! and sends every operation in it (and the board pages, which are not in it), with its documented
//! query filters, aimed at real objects of two markets and at objects that do not exist, as each
//! role: an admin, the board of market A, the board of market B, the board of A's district, the
//! vendor of stall 1 (in A), the vendor of stall 2 (in B), no token, and a revoked token. It
//! asserts the allowed matrix; that what a role may not see answers byte for byte as what does not
//! exist; that refused requests change nothing; that no answer to a role shows the other market's
//! names; and that no board answer carries a shopper's name or account number.
//!
//! The rules are one table keyed by operationId ([`rule`]); an operation without a rule, a path
//! parameter or a query filter the walk cannot fill fails the test, so a new route cannot slip
//! through. Each role walks its own copy of the world, so one role's allowed writes (an admin's
//! edits, a vendor's cancelled order) do not change what the next role finds.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::api::payments::{message_id, now_s, signed};
use crate::app::{Reply, TestApp};
use crate::helpers::chopay;

/// A shopper's name, as a bank sends it with a credit: never on a board.
const PAYER_NAME: &str = "VO THI BAO MAT";
/// The shopper's account number: never on a board.
const PAYER_ACCOUNT: &str = "246813579024";
/// An account no stall has: credits to it are unmatched.
const NOWHERE: &str = "000000000001";
/// The account of both stalls (in different markets).
const STALL_ACCOUNT: &str = "1234567890";
/// The static VietQR of Vietcombank 1234567890, as a scanner reads it from a sticker.
const SCANNED_POSTER: &str =
    "00020101021138540010A00000072701240006970436011012345678900208QRIBFTTA53037045802VN6304BE57";

/// The two sides of the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    A,
    B,
}

/// A market of the world: slug, name, district slug, the vendor of its one stall, stall code.
struct MarketSpec {
    slug: &'static str,
    name: &'static str,
    district: &'static str,
    vendor: &'static str,
    code: &'static str,
}

const MARKETS: [MarketSpec; 2] = [
    MarketSpec {
        slug: "cho-an-phu",
        name: "Chợ An Phú",
        district: "huyen-an-lac",
        vendor: "Lê Thị An",
        code: "A01",
    },
    MarketSpec {
        slug: "cho-binh-minh",
        name: "Chợ Bình Minh",
        district: "huyen-binh-son",
        vendor: "Trần Văn Bình",
        code: "B01",
    },
];

impl Side {
    fn spec(self) -> &'static MarketSpec {
        &MARKETS[self.index()]
    }

    fn index(self) -> usize {
        match self {
            Self::A => 0,
            Self::B => 1,
        }
    }

    /// What only this side's answers may name: its market's slug and name, its vendor.
    fn markers(self) -> [&'static str; 3] {
        let spec = self.spec();
        [spec.slug, spec.name, spec.vendor]
    }
}

/// The roles of the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Admin,
    BoardA,
    BoardB,
    DistrictA,
    Vendor1,
    Vendor2,
    NoToken,
    Revoked,
}

const EVERYONE: [Who; 8] = [
    Who::Admin,
    Who::BoardA,
    Who::BoardB,
    Who::DistrictA,
    Who::Vendor1,
    Who::Vendor2,
    Who::NoToken,
    Who::Revoked,
];

/// What a path parameter names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Market,
    Stall,
    Order,
    Credit,
    District,
    Channel,
    Token,
}

impl Who {
    fn is_board(self) -> bool {
        matches!(self, Self::BoardA | Self::BoardB | Self::DistrictA)
    }

    fn is_vendor(self) -> bool {
        matches!(self, Self::Vendor1 | Self::Vendor2)
    }

    fn authenticated(self) -> bool {
        !matches!(self, Self::NoToken | Self::Revoked)
    }

    /// Whether the role sees an object of this kind on this side at all.
    fn sees(self, kind: Kind, side: Side) -> bool {
        let market_level = matches!(
            kind,
            Kind::Market | Kind::Stall | Kind::Order | Kind::Credit | Kind::Channel
        );
        match self {
            Self::Admin => true,
            Self::BoardA => market_level && side == Side::A,
            Self::BoardB => market_level && side == Side::B,
            Self::DistrictA => (market_level || kind == Kind::District) && side == Side::A,
            Self::Vendor1 => matches!(kind, Kind::Stall | Kind::Order) && side == Side::A,
            Self::Vendor2 => matches!(kind, Kind::Stall | Kind::Order) && side == Side::B,
            Self::NoToken | Self::Revoked => false,
        }
    }

    /// The side whose names this role must never be shown, if any.
    fn blind_to(self) -> Option<Side> {
        match self {
            Self::BoardA | Self::DistrictA | Self::Vendor1 => Some(Side::B),
            Self::BoardB | Self::Vendor2 => Some(Side::A),
            Self::Admin | Self::NoToken | Self::Revoked => None,
        }
    }
}

/// Who an operation serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Anyone, without a token.
    Public,
    /// A bank's callback: authenticated by its signature, so a token changes nothing.
    Signed,
    /// Any valid token (`/me`).
    AnyToken,
    /// Admins and boards (the market list, the boards' index page).
    Boards,
    /// Admins only, whatever the object (tokens, new markets).
    AdminOnly,
    /// Whoever sees the object reads it.
    Read,
    /// Whoever sees the object may see the page, except a vendor (the vendor screen is elsewhere).
    Page,
    /// A poster print: boards and admins who see the stall or market.
    Print,
    /// A sale: the stall's vendor and admins.
    Sell,
    /// A write only an admin may make; others who see the object get a 403.
    AdminWrite,
}

/// How one operation is walked: who it serves, and the body it sends (`{stall}` stands for the
/// target side's stall id).
struct Walked {
    rule: Rule,
    body: Option<(&'static str, &'static str)>,
}

const fn walked(rule: Rule) -> Walked {
    Walked { rule, body: None }
}

const fn with_json(rule: Rule, text: &'static str) -> Walked {
    Walked {
        rule,
        body: Some(("application/json", text)),
    }
}

/// The walk's rule for each operationId of the document. `None`: the walk does not know the
/// operation, and the test fails until a rule is added here.
fn rule(operation_id: &str) -> Option<Walked> {
    use Rule::*;
    Some(match operation_id {
        "health" | "metrics" => walked(Public),
        "receive" => with_json(Signed, "{}"),
        "me" => walked(AnyToken),
        "list_markets" => walked(Boards),
        "create_market" => with_json(
            AdminOnly,
            r#"{"slug": "cho-moi", "name": "Chợ Mới", "commune": "xã Mới", "district": "huyện Mới",
                "district_slug": "huyen-moi", "province": "Hà Nội"}"#,
        ),
        "list_tokens" | "revoke_token" => walked(AdminOnly),
        "get_market" | "list_stalls" | "export_stalls" | "market" | "report_csv" | "district"
        | "market_credits" | "market_credits_csv" | "market_daily" | "get_stall"
        | "stall_qr_svg" | "stall_qr_png" | "stall_today" | "stall_credits"
        | "stall_credits_csv" | "stall_daily" | "stall_events" | "get_order" => walked(Read),
        "audit_poster" => with_json(Read, r#"{"payload": "SCANNED"}"#),
        "stall_poster_pdf" | "stall_poster_png" | "market_posters_pdf" => walked(Print),
        "create_order" => with_json(Sell, r#"{"amount": "20000"}"#),
        "cancel_order" => walked(Sell),
        "update_market" => with_json(AdminWrite, r#"{"name": "Chợ đã đổi tên"}"#),
        "create_stall" => with_json(
            AdminWrite,
            r#"{"code": "Z99", "vendor_name": "Người Mới", "goods": "Gạo"}"#,
        ),
        "update_stall" => with_json(AdminWrite, r#"{"goods": "Đã đổi"}"#),
        "import_stalls" => Walked {
            rule: AdminWrite,
            body: Some((
                "text/csv",
                "code,vendor_name,goods,phone,bank,account,holder\nZ98,Người Nhập,Gạo,,VCB,9999999998,NGUOI NHAP\n",
            )),
        },
        "list_channels" | "market_reviews" => walked(AdminWrite),
        "create_channel" => with_json(AdminWrite, r#"{"provider": "chopay"}"#),
        "assign_credit" => with_json(AdminWrite, r#"{"stall_id": {stall}, "note": "đã xem"}"#),
        _ => return None,
    })
}

/// The board pages, not in the OpenAPI document: (path, rule, whether it is an event stream).
const PAGES: [(&str, Rule, bool); 5] = [
    ("/", Rule::Boards, false),
    ("/boards/{slug}", Rule::Page, false),
    ("/boards/{slug}/events", Rule::Page, true),
    ("/districts/{slug}", Rule::Page, false),
    ("/districts/{slug}/events", Rule::Page, true),
];

/// One operation of the walk.
struct Operation {
    method: Method,
    template: String,
    name: String,
    walked: Walked,
    /// The documented query filters, filled with valid values (empty: none).
    query: String,
    stream: bool,
    page: bool,
}

/// A valid value for a documented query filter; `None` for the token parameter of streams.
fn query_value(name: &str) -> Option<String> {
    let today = chopay::domain::day::Day::of_ms(chopay::store::now_ms()).to_string();
    Some(match name {
        "page" => "1".into(),
        "per_page" => "50".into(),
        "status" => "active".into(),
        "poster_status" => "missing".into(),
        "outcome" => "order_paid".into(),
        "from" | "to" => today,
        "month" => today[..7].to_owned(),
        "active_days" => "7".into(),
        "module_px" => "4".into(),
        "size" => "a5".into(),
        "dry_run" => "true".into(),
        "access_token" => return None,
        other => panic!("the walk has no value for the query filter '{other}'; add one"),
    })
}

/// Every operation of the document, and the pages.
fn operations(document: &Value) -> Vec<Operation> {
    let paths = document["paths"].as_object().expect("paths");
    let mut walk = Vec::new();
    let mut unknown = Vec::new();
    for (template, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                continue;
            };
            let id = operation["operationId"].as_str().expect("operationId");
            let Some(walked) = rule(id) else {
                unknown.push(format!("{method} {template} ({id})"));
                continue;
            };
            let query: Vec<String> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| {
                    let name = p["name"].as_str().expect("name");
                    query_value(name).map(|value| format!("{name}={value}"))
                })
                .collect();
            let stream = operation["responses"]["200"]["content"]
                .get("text/event-stream")
                .is_some();
            walk.push(Operation {
                name: format!("{method} {template}"),
                method,
                template: template.clone(),
                walked,
                query: query.join("&"),
                stream,
                page: false,
            });
        }
    }
    assert!(
        unknown.is_empty(),
        "operations in /openapi.json the tenancy walk has no rule for: {unknown:?}"
    );
    for (path, rule, stream) in PAGES {
        walk.push(Operation {
            method: Method::GET,
            template: path.to_owned(),
            name: format!("GET {path}"),
            walked: walked(rule),
            query: String::new(),
            stream,
            page: true,
        });
    }
    walk
}

/// One side's objects.
struct Objects {
    stall: i64,
    /// A pending order of the stall.
    order: i64,
    /// An unmatched credit of the market, waiting for review.
    credit: i64,
    channel: i64,
    secret: String,
}

/// The world one role walks.
struct World {
    app: TestApp,
    sides: [Objects; 2],
    token: Option<String>,
    /// A token for the revoke route to aim at.
    spare_token: i64,
}

/// What the request of a target aims at: the object's kind and side (`None`: does not exist).
#[derive(Debug, Clone, Copy)]
struct Aim {
    kind: Kind,
    side: Option<Side>,
}

impl World {
    async fn new(who: Who) -> Self {
        let app = TestApp::spawn().await;
        let admin = Some(app.admin.clone());
        let admin = admin.as_deref();
        let mut sides = Vec::new();
        for (i, spec) in MARKETS.iter().enumerate() {
            let market = json!({
                "slug": spec.slug, "name": spec.name, "commune": "xã Thử", "district": "huyện Thử",
                "district_slug": spec.district, "province": "Hà Nội"
            });
            app.post_json("/api/v1/markets", admin, &market)
                .await
                .expect(StatusCode::CREATED);
            let stall = json!({
                "code": spec.code, "vendor_name": spec.vendor, "goods": "Rau củ",
                "payee": {"bank": "VCB", "account": STALL_ACCOUNT, "holder": spec.vendor}
            });
            let stall = app
                .post_json(
                    &format!("/api/v1/markets/{}/stalls", spec.slug),
                    admin,
                    &stall,
                )
                .await
                .expect(StatusCode::CREATED)
                .json()["id"]
                .as_i64()
                .expect("stall id");
            let channel = app
                .post_json(
                    &format!("/api/v1/markets/{}/channels", spec.slug),
                    admin,
                    &json!({"provider": "chopay"}),
                )
                .await
                .expect(StatusCode::CREATED)
                .json();
            let (channel, secret) = (
                channel["id"].as_i64().expect("channel id"),
                channel["secret"].as_str().expect("secret").to_owned(),
            );
            let order = |amount: &'static str| {
                let app = &app;
                async move {
                    app.post_json(
                        &format!("/api/v1/stalls/{stall}/orders"),
                        admin,
                        &json!({ "amount": amount }),
                    )
                    .await
                    .expect(StatusCode::CREATED)
                    .json()
                }
            };
            let paid = order("50000").await;
            let reference = paid["reference"].as_str().expect("reference");
            let pays = deliver(
                &app,
                (channel, &secret),
                &format!("T{i}-PAID"),
                STALL_ACCOUNT,
                &format!("MBVCB.3278907687.{reference}.CT tu {PAYER_ACCOUNT} {PAYER_NAME}"),
            )
            .await;
            assert_eq!(pays["outcome"], "order_paid", "{pays}");
            let lost = deliver(
                &app,
                (channel, &secret),
                &format!("T{i}-LOST"),
                NOWHERE,
                &format!("CT tu {PAYER_ACCOUNT} {PAYER_NAME}"),
            )
            .await;
            assert_eq!(lost["outcome"], "unmatched", "{lost}");
            sides.push(Objects {
                stall,
                order: order("30000").await["id"].as_i64().expect("order id"),
                credit: lost["credit_id"].as_i64().expect("credit id"),
                channel,
                secret,
            });
        }
        let sides: [Objects; 2] = sides.try_into().ok().expect("two sides");
        let [a, b] = [MARKETS[0].slug, MARKETS[1].slug];
        let token = match who {
            Who::Admin => Some(app.admin.clone()),
            Who::BoardA => Some(app.token("board", Some(a), None, None).await),
            Who::BoardB => Some(app.token("board", Some(b), None, None).await),
            Who::DistrictA => Some(
                app.token("board", None, Some(MARKETS[0].district), None)
                    .await,
            ),
            Who::Vendor1 => Some(app.token("vendor", None, None, Some(sides[0].stall)).await),
            Who::Vendor2 => Some(app.token("vendor", None, None, Some(sides[1].stall)).await),
            Who::NoToken => None,
            Who::Revoked => Some(revoked_admin_token(&app).await),
        };
        let spare_token = issue(&app, "board", Some(b), None).await.id;
        Self {
            app,
            sides,
            token,
            spare_token,
        }
    }

    fn objects(&self, side: Side) -> &Objects {
        &self.sides[side.index()]
    }

    /// The requests of an operation: (path, aim), for side A, side B and a missing object; just
    /// the path when it names no object.
    fn targets(&self, operation: &Operation) -> Vec<(String, Option<Aim>)> {
        let segments: Vec<&str> = operation.template.split('/').collect();
        let mut kind = None;
        for (i, segment) in segments.iter().enumerate() {
            let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
                continue;
            };
            let found = match (segments[i - 1], name) {
                (_, "provider") => continue,
                ("markets" | "boards", "slug") => Kind::Market,
                ("districts", "slug") => Kind::District,
                ("stalls", "id") => Kind::Stall,
                ("orders", "id") => Kind::Order,
                ("credits", "id") => Kind::Credit,
                ("tokens", "id") => Kind::Token,
                (_, "channel") => Kind::Channel,
                (before, name) => panic!(
                    "{}: the walk cannot fill {{{name}}} after '{before}'; teach World::targets",
                    operation.name
                ),
            };
            assert!(kind.is_none(), "{}: one object per path", operation.name);
            kind = Some(found);
        }
        let Some(kind) = kind else {
            return vec![(operation.template.clone(), None)];
        };
        let sides: &[Option<Side>] = if kind == Kind::Token {
            &[Some(Side::A), None]
        } else {
            &[Some(Side::A), Some(Side::B), None]
        };
        sides
            .iter()
            .map(|&side| {
                let path = self.fill(&operation.template, kind, side);
                (path, Some(Aim { kind, side }))
            })
            .collect()
    }

    /// The template with its parameters set to the object of `side`, or to one that does not
    /// exist.
    fn fill(&self, template: &str, kind: Kind, side: Option<Side>) -> String {
        let value = match (kind, side) {
            (Kind::Market, Some(side)) => side.spec().slug.to_owned(),
            (Kind::Market, None) => "cho-khong-co".to_owned(),
            (Kind::District, Some(side)) => side.spec().district.to_owned(),
            (Kind::District, None) => "huyen-khong-co".to_owned(),
            (Kind::Stall, Some(side)) => self.objects(side).stall.to_string(),
            (Kind::Order, Some(side)) => self.objects(side).order.to_string(),
            (Kind::Credit, Some(side)) => self.objects(side).credit.to_string(),
            (Kind::Channel, Some(side)) => self.objects(side).channel.to_string(),
            (Kind::Token, Some(_)) => self.spare_token.to_string(),
            (_, None) => "999999".to_owned(),
        };
        let mut path = String::new();
        for segment in template.split('/').skip(1) {
            path.push('/');
            match segment {
                "{provider}" => path.push_str("chopay"),
                s if s.starts_with('{') => path.push_str(&value),
                s => path.push_str(s),
            }
        }
        if path.is_empty() { "/".into() } else { path }
    }

    /// Sends one request as `token` (or without one).
    async fn send(
        &self,
        operation: &Operation,
        path: &str,
        side: Option<Side>,
        token: Option<&str>,
    ) -> Reply {
        let mut request = Request::builder()
            .method(operation.method.clone())
            .uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match operation.walked.body {
            Some((content_type, text)) => {
                request = request.header(header::CONTENT_TYPE, content_type);
                let stall = self.objects(side.unwrap_or(Side::A)).stall.to_string();
                Body::from(
                    text.replace("{stall}", &stall)
                        .replace("SCANNED", SCANNED_POSTER),
                )
            }
            None => Body::empty(),
        };
        let request = request.body(body).expect("request");
        send_bounded(&self.app, request, operation.stream).await
    }

    /// Everything an admin reads of the world, for the "before" and "after" of a role's walk:
    /// without what a print records (boards may print) and the count of refused callbacks (the
    /// walk sends each role an unsigned one).
    async fn snapshot(&self, who: Who) -> Vec<(String, Vec<u8>)> {
        let mut paths = vec![
            "/api/v1/markets?per_page=500".to_owned(),
            "/api/v1/tokens".to_owned(),
        ];
        for side in [Side::A, Side::B] {
            let (slug, objects) = (side.spec().slug, self.objects(side));
            for suffix in [
                "",
                "/stalls?per_page=500",
                "/stalls.csv",
                "/channels",
                "/credits?per_page=500",
                "/reviews",
            ] {
                paths.push(format!("/api/v1/markets/{slug}{suffix}"));
            }
            paths.push(format!("/api/v1/stalls/{}", objects.stall));
            // A vendor may cancel its own stall's order.
            if !who.sees(Kind::Order, side) || who.is_board() {
                paths.push(format!("/api/v1/orders/{}", objects.order));
            }
        }
        let mut snapshot = Vec::new();
        for path in paths {
            let reply = self.app.get(&path, Some(&self.app.admin)).await;
            reply.expect(StatusCode::OK);
            snapshot.push((path, without_volatile(reply.body)));
        }
        snapshot
    }
}

/// A bank's signed credit of 50.000đ from the shopper to `account`, on a market's channel; returns
/// the service's answer.
async fn deliver(
    app: &TestApp,
    (channel, secret): (i64, &str),
    txn: &str,
    account: &str,
    description: &str,
) -> Value {
    let body = json!({
        "transaction_id": txn, "amount": "50000", "account_number": account,
        "bin": "970436", "description": description,
        "counterparty_name": PAYER_NAME, "counterparty_account": PAYER_ACCOUNT,
    })
    .to_string();
    let headers = signed(secret, &message_id(), now_s(), body.as_bytes());
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let answer = app
        .post_raw(&format!("/webhooks/chopay/{channel}"), &headers, body)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(answer["success"], true, "{answer}");
    answer
}

/// A token made through the service: its id and text.
async fn issue(
    app: &TestApp,
    role: &str,
    market: Option<&str>,
    stall: Option<i64>,
) -> chopay::service::tokens::IssuedToken {
    let request = chopay::service::tokens::TokenRequest {
        role: role.into(),
        market: market.map(str::to_owned),
        stall: stall.map(|id| id.to_string()),
        label: "tenancy".into(),
        ..Default::default()
    };
    chopay::service::tokens::create(&app.store, &request)
        .await
        .expect("token")
}

/// An admin token that worked, then was revoked through the API: its very next request fails.
async fn revoked_admin_token(app: &TestApp) -> String {
    let issued = issue(app, "admin", None, None).await;
    app.get("/api/v1/me", Some(&issued.token))
        .await
        .expect(StatusCode::OK);
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{}", issued.id),
            Some(&app.admin),
            None,
            Body::empty(),
        )
        .await;
    let revoked = revoked.expect(StatusCode::OK).json();
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    app.get("/api/v1/me", Some(&issued.token))
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    issued.token
}

/// Sends a request with a time limit; for an event stream that opened, reads only what arrives
/// within a moment (a stream sends nothing until an event or its keep-alive).
async fn send_bounded(app: &TestApp, request: Request<Body>, stream: bool) -> Reply {
    let limit = Duration::from_secs(20);
    let response = tokio::time::timeout(limit, app.router.clone().oneshot(request))
        .await
        .expect("an answer in time")
        .expect("router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = response.into_body();
    let bytes = if stream && status.is_success() {
        match tokio::time::timeout(Duration::from_millis(50), body.frame()).await {
            Ok(Some(Ok(frame))) => frame.into_data().map(|d| d.to_vec()).unwrap_or_default(),
            _ => Vec::new(),
        }
    } else {
        tokio::time::timeout(limit, body.collect())
            .await
            .expect("the whole body in time")
            .expect("body")
            .to_bytes()
            .to_vec()
    };
    Reply {
        status,
        headers,
        body: bytes,
    }
}

/// A JSON answer without the fields a print or a refused callback changes.
fn without_volatile(body: Vec<u8>) -> Vec<u8> {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for key in [
                    "poster_printed_at",
                    "poster_serial",
                    "poster_status",
                    "rejected_count",
                ] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(mut value) => {
            strip(&mut value);
            serde_json::to_vec(&value).unwrap_or(body)
        }
        Err(_) => body,
    }
}

/// What a role should get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Ok,
    Forbidden,
    /// The same 404 as for an object that does not exist.
    Hidden,
    /// An admin asking for an object that does not exist.
    Missing,
    Unauthorized,
    /// A signed callback: the same answer as without a token.
    AsWithoutToken,
}

fn expect(rule: Rule, who: Who, aim: Option<Aim>) -> Expect {
    let admin = who == Who::Admin;
    match rule {
        Rule::Public => return Expect::Ok,
        Rule::Signed => return Expect::AsWithoutToken,
        _ if !who.authenticated() => return Expect::Unauthorized,
        Rule::AnyToken => return Expect::Ok,
        Rule::Page | Rule::Boards if who.is_vendor() => return Expect::Forbidden,
        Rule::Boards => return Expect::Ok,
        Rule::AdminOnly if !admin => return Expect::Forbidden,
        _ => {}
    }
    let sees = match aim {
        None => true,
        Some(Aim { side: None, .. }) if admin => return Expect::Missing,
        Some(Aim { side: None, .. }) => false,
        Some(Aim {
            kind,
            side: Some(side),
        }) => who.sees(kind, side),
    };
    let allowed = match rule {
        _ if !sees => return Expect::Hidden,
        Rule::Read | Rule::Page => true,
        Rule::Print => admin || who.is_board(),
        Rule::Sell => admin || who.is_vendor(),
        _ => admin,
    };
    if allowed {
        Expect::Ok
    } else {
        Expect::Forbidden
    }
}

/// What one role's walk found.
#[derive(Debug, Default)]
struct Tally {
    requests: usize,
    succeeded: usize,
    hidden: usize,
    privacy_checks: usize,
}

fn content_type(reply: &Reply) -> &str {
    reply
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Whether the answer is text a person or a spreadsheet reads (not a PDF or an image).
fn is_text(reply: &Reply) -> bool {
    let kind = content_type(reply);
    ["application/json", "text/"]
        .iter()
        .any(|prefix| kind.starts_with(prefix))
}

/// Asserts one answer against what the role should get.
#[track_caller]
fn check(name: &str, operation: &Operation, reply: &Reply, expected: Expect) {
    let body = String::from_utf8_lossy(&reply.body);
    let status = match expected {
        Expect::Ok => {
            assert!(
                reply.status.is_success(),
                "{name}: expected success, got {} {body}",
                reply.status
            );
            if operation.stream {
                assert!(
                    content_type(reply).starts_with("text/event-stream"),
                    "{name}: an event stream: {:?}",
                    reply.headers
                );
                let first = reply.body.first().copied();
                assert!(
                    matches!(first, None | Some(b':' | b'e' | b'd' | b'i' | b'r')),
                    "{name}: the stream starts with an SSE field: {body}"
                );
            }
            return;
        }
        Expect::Forbidden => StatusCode::FORBIDDEN,
        Expect::Hidden | Expect::Missing => StatusCode::NOT_FOUND,
        Expect::Unauthorized => StatusCode::UNAUTHORIZED,
        Expect::AsWithoutToken => {
            assert!(
                !reply.status.is_success(),
                "{name}: an unsigned callback is refused: {body}"
            );
            return;
        }
    };
    assert_eq!(reply.status, status, "{name}: {expected:?}: {body}");
    if operation.page {
        assert!(
            content_type(reply).starts_with("text/html"),
            "{name}: a page"
        );
    } else {
        let code = match status {
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::UNAUTHORIZED => "unauthorized",
            _ => "not_found",
        };
        let json = reply.json();
        assert_eq!(json["code"], code, "{name}: {json}");
    }
}

/// One role's whole walk, on its own world.
async fn walk(who: Who, document: &Value) -> Tally {
    let world = World::new(who).await;
    let before = world.snapshot(who).await;
    let token = world.token.as_deref();
    let mut tally = Tally::default();
    for operation in operations(document) {
        let mut queries = vec![String::new()];
        if !operation.query.is_empty() {
            queries.push(format!("?{}", operation.query));
        }
        for query in &queries {
            let mut answers = Vec::new();
            for (path, aim) in world.targets(&operation) {
                let path = format!("{path}{query}");
                let side = aim.and_then(|a| a.side);
                let reply = world.send(&operation, &path, side, token).await;
                answers.push((path, aim, reply));
            }
            // The last target is the missing object, when the path names one.
            let missing = answers
                .last()
                .filter(|(_, aim, _)| aim.is_some_and(|a| a.side.is_none()))
                .map(|(_, _, reply)| (reply.status, reply.body.clone()));
            for (path, aim, reply) in &answers {
                let name = format!("{who:?}: {} {path}", operation.method);
                let expected = expect(operation.walked.rule, who, *aim);
                check(&name, &operation, reply, expected);
                tally.requests += 1;
                match expected {
                    Expect::Ok => tally.succeeded += 1,
                    Expect::Hidden => {
                        let (status, body) = missing.as_ref().expect("a missing twin");
                        assert!(
                            reply.status == *status && reply.body == *body,
                            "{name}: not yours must read as does not exist, byte for byte:\n{}\n{}",
                            String::from_utf8_lossy(&reply.body),
                            String::from_utf8_lossy(body)
                        );
                        tally.hidden += 1;
                    }
                    Expect::AsWithoutToken => {
                        let side = aim.and_then(|a| a.side);
                        let anonymous = world.send(&operation, path, side, None).await;
                        assert_eq!(
                            (anonymous.status, &anonymous.body),
                            (reply.status, &reply.body),
                            "{name}: a token changes nothing for a callback"
                        );
                    }
                    _ => {}
                }
                if is_text(reply) {
                    let text = String::from_utf8_lossy(&reply.body);
                    if who.is_board() {
                        for private in [PAYER_NAME, PAYER_ACCOUNT] {
                            assert!(
                                !text.contains(private),
                                "{name}: a board answer shows a shopper ({private}): {text}"
                            );
                        }
                        tally.privacy_checks += 1;
                    }
                    if let Some(blind) = who.blind_to() {
                        for marker in blind.markers() {
                            assert!(
                                !text.contains(marker),
                                "{name}: shows '{marker}' of the other market: {text}"
                            );
                        }
                    }
                }
            }
        }
    }
    if who != Who::Admin {
        let after = world.snapshot(who).await;
        for ((path, then), (_, now)) in before.iter().zip(&after) {
            assert!(
                then == now,
                "{who:?}: a refused request changed GET {path}\nbefore: {}\nafter:  {}",
                String::from_utf8_lossy(then),
                String::from_utf8_lossy(now)
            );
        }
    }
    tally
}

#[tokio::test]
async fn every_route_in_the_openapi_document_answers_each_role_only_within_its_reach() {
    let started = Instant::now();
    let app = TestApp::spawn().await;
    let document = app
        .get("/openapi.json", None)
        .await
        .expect(StatusCode::OK)
        .json();
    let operations = operations(&document);
    let names: BTreeSet<&str> = operations.iter().map(|o| o.name.as_str()).collect();
    for must in [
        "GET /api/v1/markets/{slug}/credits.csv",
        "GET /api/v1/stalls/{id}/events",
        "GET /api/v1/tokens",
        "DELETE /api/v1/tokens/{id}",
        "GET /boards/{slug}/events",
    ] {
        assert!(names.contains(must), "the walk covers {must}: {names:?}");
    }
    let tallies = futures_util::future::join_all(EVERYONE.map(|who| {
        let document = &document;
        async move { (who, walk(who, document).await) }
    }))
    .await;
    let mut requests = 0;
    let mut privacy = 0;
    for (who, tally) in &tallies {
        requests += tally.requests;
        privacy += tally.privacy_checks;
        let least = match who {
            Who::NoToken | Who::Revoked => 2,
            _ => 8,
        };
        assert!(
            tally.succeeded >= least,
            "{who:?}: the walk is not vacuous: {tally:?}"
        );
        if *who != Who::Admin && who.authenticated() {
            assert!(tally.hidden > 10, "{who:?}: {tally:?}");
        }
    }
    eprintln!(
        "tenancy walk: {} routes × {} roles = {requests} requests, {privacy} board answers without a shopper, 0 leaks, {:.1} s",
        operations.len(),
        EVERYONE.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Opens a request whose answer is an event stream: the status, and the body to read on.
async fn open(
    app: &TestApp,
    path: &str,
    headers: &[(header::HeaderName, String)],
) -> (StatusCode, Body) {
    let mut request = Request::builder().uri(path);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = tokio::time::timeout(
        Duration::from_secs(10),
        app.router
            .clone()
            .oneshot(request.body(Body::empty()).expect("request")),
    )
    .await
    .expect("an answer in time")
    .expect("router answers");
    (response.status(), response.into_body())
}

/// Reads a stream until it ends; `false` when it is still open after `wait`.
async fn ends_within(body: &mut Body, wait: Duration) -> bool {
    tokio::time::timeout(wait, async {
        while let Some(frame) = body.frame().await {
            if frame.is_err() {
                break;
            }
        }
    })
    .await
    .is_ok()
}

/// Reads a stream until a `figures` event arrives; its text.
async fn next_figures(body: &mut Body, wait: Duration) -> String {
    let mut text = String::new();
    tokio::time::timeout(wait, async {
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                text.push_str(&String::from_utf8_lossy(&data));
            }
            if text.contains("event: figures") && text.ends_with("\n\n") {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no figures event within {wait:?}: {text}"));
    text
}

fn bearer(token: &str) -> Vec<(header::HeaderName, String)> {
    vec![(header::AUTHORIZATION, format!("Bearer {token}"))]
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once_and_its_open_streams_end() {
    let world = World::new(Who::Admin).await;
    let app = &world.app;
    let (slug, stall) = (MARKETS[0].slug, world.objects(Side::A).stall);
    let vendor = issue(app, "vendor", None, Some(stall)).await;
    let board = issue(app, "board", Some(slug), None).await;
    let cookie = vec![(header::COOKIE, format!("chopay_token={}", board.token))];
    let events = format!(
        "/api/v1/stalls/{stall}/events?access_token={}",
        vendor.token
    );

    let (status, mut vendor_stream) = open(app, &events, &[]).await;
    assert_eq!(status, StatusCode::OK, "the vendor screen's stream opens");
    let (status, mut board_stream) = open(app, &format!("/boards/{slug}/events"), &cookie).await;
    assert_eq!(status, StatusCode::OK, "the board page's stream opens");
    let (status, _) = open(app, &format!("/boards/{slug}"), &cookie).await;
    assert_eq!(status, StatusCode::OK, "the board page opens by cookie");
    assert!(
        !ends_within(&mut vendor_stream, Duration::from_millis(100)).await,
        "an open stream stays open while its token works"
    );

    for token in [&vendor, &board] {
        app.call(
            Method::DELETE,
            &format!("/api/v1/tokens/{}", token.id),
            Some(&app.admin),
            None,
            Body::empty(),
        )
        .await
        .expect(StatusCode::OK);
    }

    let started = Instant::now();
    assert!(
        ends_within(&mut vendor_stream, Duration::from_secs(5)).await,
        "the vendor's open stream ends"
    );
    assert!(
        ends_within(&mut board_stream, Duration::from_secs(5)).await,
        "the board's open stream ends"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "at once, not at the next keep-alive: {:?}",
        started.elapsed()
    );
    app.get("/api/v1/me", Some(&vendor.token))
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    app.get(&format!("/api/v1/stalls/{stall}"), Some(&vendor.token))
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    app.get(&events, None)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, _) = open(
        app,
        &format!("/api/v1/stalls/{stall}/events"),
        &bearer(&vendor.token),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for path in [format!("/boards/{slug}"), format!("/boards/{slug}/events")] {
        let (status, body) = open(app, &path, &cookie).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: the login form");
        let page = body.collect().await.expect("body").to_bytes();
        assert!(String::from_utf8_lossy(&page).contains("<form"), "{path}");
    }
    let link = app
        .get(
            &format!("/boards/{slug}?access_token={}", board.token),
            None,
        )
        .await;
    assert_eq!(link.status, StatusCode::SEE_OTHER);
    assert!(
        link.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login"),
        "a revoked token in a link goes to the login form"
    );
}

#[tokio::test]
async fn the_token_list_shows_every_token_and_revocation_but_never_a_token() {
    let app = TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let stall = app.create_stall("cho-mo", "A01").await;
    let vendor = issue(&app, "vendor", None, Some(stall)).await;
    let board = issue(&app, "board", Some("cho-mo"), None).await;
    let list = |token: String| {
        let app = &app;
        async move { app.get("/api/v1/tokens", Some(&token)).await }
    };
    let delete = |id: i64, token: String| {
        let app = &app;
        async move {
            app.call(
                Method::DELETE,
                &format!("/api/v1/tokens/{id}"),
                Some(&token),
                None,
                Body::empty(),
            )
            .await
        }
    };
    let listed = list(app.admin.clone()).await.expect(StatusCode::OK).json();
    let rows = listed.as_array().expect("a list");
    assert_eq!(rows.len(), 3, "{listed}");
    assert_eq!(
        (
            &rows[1]["id"],
            &rows[1]["role"],
            &rows[1]["scope"],
            &rows[1]["label"]
        ),
        (
            &json!(vendor.id),
            &json!("vendor"),
            &json!(format!("stall:{stall}")),
            &json!("tenancy")
        ),
        "{listed}"
    );
    assert_eq!(rows[0]["scope"], "all");
    assert!(rows[2]["scope"].as_str().unwrap().starts_with("market:"));
    assert!(
        rows.iter()
            .all(|r| r["revoked_at"].is_null() && r["created_at"].is_string())
    );
    let text = listed.to_string();
    for token in [&app.admin, &vendor.token, &board.token] {
        assert!(!text.contains(token.as_str()), "never a token's text");
        assert!(
            !text.contains(&chopay::domain::access::token_hash(token)),
            "never a token's digest"
        );
    }

    for who in [&vendor.token, &board.token] {
        list(who.clone())
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
        delete(vendor.id, who.clone())
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
        delete(999_999, who.clone())
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
    }
    let revoked = delete(vendor.id, app.admin.clone())
        .await
        .expect(StatusCode::OK)
        .json();
    let at = revoked["revoked_at"]
        .as_str()
        .expect("revoked_at")
        .to_owned();
    let again = delete(vendor.id, app.admin.clone())
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        again["revoked_at"],
        at.as_str(),
        "revoking twice keeps the first time"
    );
    delete(999_999, app.admin.clone())
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    let listed = list(app.admin.clone()).await.expect(StatusCode::OK).json();
    assert_eq!(listed[1]["revoked_at"], at.as_str(), "{listed}");
    assert!(
        listed[2]["revoked_at"].is_null(),
        "the others still work: {listed}"
    );
    app.get("/api/v1/me", Some(&board.token))
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn board_event_streams_bring_new_figures_but_never_the_shopper() {
    let world = World::new(Who::Admin).await;
    let app = &world.app;
    let spec = &MARKETS[0];
    let board = issue(app, "board", Some(spec.slug), None).await;
    let district = app.token("board", None, Some(spec.district), None).await;
    let (status, mut market_stream) = open(
        app,
        &format!("/boards/{}/events", spec.slug),
        &bearer(&board.token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, mut district_stream) = open(
        app,
        &format!("/districts/{}/events", spec.district),
        &bearer(&district),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let objects = world.objects(Side::A);
    let paid = deliver(
        app,
        (objects.channel, &objects.secret),
        "T-STREAM",
        STALL_ACCOUNT,
        &format!("{PAYER_NAME} chuyen tien {PAYER_ACCOUNT}"),
    )
    .await;
    assert_eq!(paid["outcome"], "static_payment", "{paid}");
    for (what, stream) in [
        ("market", &mut market_stream),
        ("district", &mut district_stream),
    ] {
        let figures = next_figures(stream, Duration::from_secs(10)).await;
        assert!(figures.contains("data:"), "{what}: {figures}");
        for private in [PAYER_NAME, PAYER_ACCOUNT] {
            assert!(
                !figures.contains(private),
                "{what} stream shows {private}: {figures}"
            );
        }
    }
    // The admin's ledger has the shopper, so the boards' silence is not for lack of data.
    let ledger = app
        .get(
            &format!("/api/v1/markets/{}/credits", spec.slug),
            Some(&app.admin),
        )
        .await
        .text();
    assert!(
        ledger.contains(PAYER_NAME) && ledger.contains(PAYER_ACCOUNT),
        "{ledger}"
    );
}

#[tokio::test]
async fn the_cli_prints_a_tokens_id_lists_tokens_and_revokes_one() {
    let database = crate::app::TestDatabase::new().await;
    let url = database.url.as_str();
    let made = chopay(&[
        "token",
        "create",
        "--role",
        "admin",
        "--label",
        "ops",
        "--database-url",
        url,
    ]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let token = made.stdout_text().trim().to_owned();
    let id: i64 = made
        .stderr
        .strip_prefix("admin token ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("the id is printed with the token: {}", made.stderr));
    assert!(
        made.stderr.contains(&format!("chopay token revoke {id}")),
        "{}",
        made.stderr
    );

    let listed = chopay(&["token", "list", "--database-url", url]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let text = listed.stdout_text();
    assert!(
        text.starts_with(&format!("{id}\tadmin\tall\tcreated ")),
        "{text}"
    );
    assert!(text.trim_end().ends_with("\tops"), "{text}");
    assert!(!text.contains(&token) && !text.contains(&chopay::domain::access::token_hash(&token)));

    let revoked = chopay(&["token", "revoke", &id.to_string(), "--database-url", url]);
    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    assert!(
        revoked.stdout_text().contains(" revoked "),
        "{}",
        revoked.stdout_text()
    );
    assert_eq!(
        revoked.stderr,
        format!("token {id} is revoked: it no longer works\n")
    );
    let store = chopay::store::Store::open(&chopay::store::DatabaseUrl::new(url.to_owned()))
        .await
        .expect("store opens");
    assert_eq!(
        chopay::service::tokens::authenticate(&store, &token)
            .await
            .expect("reads"),
        None,
        "the revoked token no longer authenticates"
    );
    store.close().await;

    let unknown = chopay(&["token", "revoke", "999999", "--database-url", url]);
    assert_eq!(
        (unknown.code, unknown.stderr.as_str()),
        (2, "chopay: token 999999 not found\n")
    );
}

#[tokio::test]
async fn an_admin_cannot_revoke_the_token_it_calls_with_but_another_admin_can() {
    let world = World::new(Who::Admin).await;
    let app = &world.app;
    let own = issue(app, "admin", None, None).await;
    let revoke = |id: i64, by: String| async move {
        app.call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&by),
            None,
            Body::empty(),
        )
        .await
    };

    let refused = revoke(own.id, own.token.clone())
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("chopay token revoke")),
        "{refused}"
    );
    app.get("/api/v1/me", Some(&own.token))
        .await
        .expect(StatusCode::OK);

    revoke(own.id, app.admin.clone())
        .await
        .expect(StatusCode::OK);
    app.get("/api/v1/me", Some(&own.token))
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
}
