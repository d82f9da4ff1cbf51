//! `TestApp`: the whole service in-process on a fresh database, one method per endpoint.
//!
//! The database is a new SQLite file per test, or, when `CHOPAY_TEST_POSTGRES_URL` is set (as
//! `.ci/run` does for its second pass), a new database on that PostgreSQL server per test.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use chopay::http::{AppState, Limits, Settings, router};
use chopay::service::tokens::{self, TokenRequest};
use chopay::store::{DatabaseUrl, Store};

/// A fresh database for one test.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn new() -> Self {
        match std::env::var("CHOPAY_TEST_POSTGRES_URL") {
            Ok(server) if !server.is_empty() => {
                let name = format!("chopay_test_{}", hex_id());
                let admin = sqlx::PgPool::connect(&server)
                    .await
                    .expect("PostgreSQL test server answers");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .expect("create test database");
                admin.close().await;
                let (base, _) = server.rsplit_once('/').expect("URL has a database part");
                Self {
                    url: format!("{base}/{name}"),
                    _dir: None,
                }
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("chopay.db").display());
                Self {
                    url,
                    _dir: Some(dir),
                }
            }
        }
    }
}

fn hex_id() -> String {
    let mut bytes = [0_u8; 8];
    getrandom::fill(&mut bytes).expect("random");
    hex::encode(bytes)
}

/// Whether this run is against PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("CHOPAY_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty())
}

/// What `chopay serve` needs on this run's database: the throwaway PostgreSQL cluster of
/// `.ci/run` runs with `fsync=off` for speed, which `serve` refuses unless told explicitly.
pub fn serve_durability_args() -> &'static [&'static str] {
    if on_postgres() {
        &["--allow-weak-durability"]
    } else {
        &[]
    }
}

/// An answer: status, headers and body.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    /// Asserts the status and, for errors, the `{code, message}` shape and code.
    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> &Self {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    #[track_caller]
    pub fn expect_error(&self, status: StatusCode, code: &str) -> Value {
        self.expect(status);
        let json = self.json();
        assert_eq!(json["code"], code, "{json}");
        assert!(
            json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{json}"
        );
        json
    }
}

/// The service on a fresh database. When it is dropped at the end of a test that has not failed,
/// the books must balance (read again on a connection of its own): whatever a test did, every
/// authentic credit is allocated to a stall or in suspense, and the rollups agree, to the đồng.
pub struct TestApp {
    pub router: Router,
    pub store: Store,
    pub admin: String,
    /// Set by a test that breaks the books on purpose, to see the check notice.
    books_broken_on_purpose: std::sync::atomic::AtomicBool,
    /// Kept so the database (a temp file for SQLite) lives as long as the app.
    _database: TestDatabase,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Limits::default()).await
    }

    pub async fn spawn_with(limits: Limits) -> Self {
        let database = TestDatabase::new().await;
        let store = Store::open(&DatabaseUrl::new(database.url.clone()))
            .await
            .expect("store opens");
        let router = router(AppState::new(store.clone(), Settings::default()), limits);
        let admin = tokens::create(
            &store,
            &TokenRequest {
                role: "admin".into(),
                ..TokenRequest::default()
            },
        )
        .await
        .expect("admin token")
        .token;
        Self {
            router,
            store,
            admin,
            books_broken_on_purpose: std::sync::atomic::AtomicBool::new(false),
            _database: database,
        }
    }

    /// Leaves the books unchecked when the app is dropped: for a test that breaks them on purpose.
    pub fn books_broken_on_purpose(&self) {
        self.books_broken_on_purpose
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<Body>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        self.send(request.body(body.into()).expect("request")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None, Body::empty())
            .await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, json: &Value) -> Reply {
        self.call(
            Method::POST,
            path,
            token,
            Some("application/json"),
            json.to_string(),
        )
        .await
    }

    pub async fn patch_json(&self, path: &str, token: Option<&str>, json: &Value) -> Reply {
        self.call(
            Method::PATCH,
            path,
            token,
            Some("application/json"),
            json.to_string(),
        )
        .await
    }

    /// POSTs a raw body with these headers, byte for byte (bank and gateway callbacks).
    pub async fn post_raw(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Reply {
        let mut request = Request::builder().method(Method::POST).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(body.into()).expect("request")).await
    }

    pub async fn post_csv(&self, path: &str, token: Option<&str>, csv: &str) -> Reply {
        self.call(Method::POST, path, token, Some("text/csv"), csv.to_owned())
            .await
    }

    /// Creates a market through the API as admin.
    pub async fn create_market(&self, slug: &str, district_slug: &str) -> Value {
        let body = serde_json::json!({
            "slug": slug, "name": format!("Chợ {slug}"), "commune": "xã Vạn Thắng", "district": "huyện Ba Vì",
            "district_slug": district_slug, "province": "Hà Nội", "households_registered": 10
        });
        self.post_json("/api/v1/markets", Some(&self.admin), &body)
            .await
            .expect(StatusCode::CREATED)
            .json()
    }

    /// Creates a stall with a Vietcombank account through the API as admin; returns its id.
    pub async fn create_stall(&self, market: &str, code: &str) -> i64 {
        let body = serde_json::json!({
            "code": code, "vendor_name": "Nguyễn Thị Hương", "goods": "Rau củ",
            "payee": {"bank": "VCB", "account": "1234567890", "holder": "Nguyễn Thị Hương"}
        });
        let reply = self
            .post_json(
                &format!("/api/v1/markets/{market}/stalls"),
                Some(&self.admin),
                &body,
            )
            .await;
        reply.expect(StatusCode::CREATED).json()["id"]
            .as_i64()
            .expect("id")
    }

    /// A token made directly through the service.
    pub async fn token(
        &self,
        role: &str,
        market: Option<&str>,
        district: Option<&str>,
        stall: Option<i64>,
    ) -> String {
        let request = TokenRequest {
            role: role.into(),
            market: market.map(str::to_owned),
            district: district.map(str::to_owned),
            stall: stall.map(|id| id.to_string()),
            label: "test".into(),
        };
        tokens::create(&self.store, &request)
            .await
            .expect("token")
            .token
    }
}

/// Asserts that the books balance: every credit allocated to a stall or in suspense, and the
/// rollups saying the same, stall by stall, to the đồng, and no credit naming a stall, order,
/// channel or market that does not exist; on SQLite, also that no row refers to a row that does
/// not exist and every row keeps its table's constraints.
pub async fn assert_books_balance(store: &Store) {
    let books = chopay::store::books::check(store, None)
        .await
        .expect("the books read");
    assert!(books.balanced(), "the books do not balance: {books:#?}");
    // The SQLite ledger writes without foreign-key and CHECK constraint checks (they cannot fail
    // there): prove it.
    if let Store::Sqlite(pool) = store {
        let orphans: Vec<(String, Option<i64>, String, i64)> =
            sqlx::query_as("PRAGMA foreign_key_check")
                .fetch_all(pool)
                .await
                .expect("the foreign-key check runs");
        assert!(
            orphans.is_empty(),
            "rows refer to rows that do not exist: {orphans:?}"
        );
        let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(pool)
            .await
            .expect("the integrity check runs");
        assert_eq!(problems, ["ok"], "the database breaks its own schema");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if std::thread::panicking()
            || self
                .books_broken_on_purpose
                .load(std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        // The test's runtime may be single-threaded and is busy dropping us: check on a thread
        // and a runtime of its own, through a new pool on the same database.
        let url = DatabaseUrl::new(self._database.url.clone());
        let checked = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the books check");
            runtime.block_on(async {
                let store = Store::connect(&url).await.expect("the test database opens");
                assert_books_balance(&store).await;
                store.close().await;
            });
        })
        .join();
        if checked.is_err() {
            panic!("at the end of the test, the books do not balance (see above)");
        }
    }
}
