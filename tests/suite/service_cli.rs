//! The service commands through the real binary: `serve --demo` over a real port, `migrate`,
//! `import stalls` and `token create`, on the test database (SQLite or PostgreSQL).

use chopay::domain::market::MarketFields;
use chopay::service::{catalog, tokens};
use chopay::store::{DatabaseUrl, Store};

use crate::app::TestDatabase;
use crate::demo_server::DemoServer;
use crate::helpers::chopay;

#[tokio::test]
async fn the_demo_serves_both_ba_vi_markets_and_keeps_vendors_to_their_stall() {
    let database = TestDatabase::new().await;
    let server = DemoServer::start(&database.url);

    let (status, markets) = server.get("/api/v1/markets", &server.admin).await;
    assert_eq!(status, 200);
    let slugs: Vec<&str> = markets["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["cho-mo", "cho-quang-oai"]);
    assert_eq!(markets["items"][1]["name"], "Chợ Quảng Oai");
    assert_eq!(markets["items"][1]["district"], "huyện Ba Vì");

    let (_, mo) = server
        .get("/api/v1/markets/cho-mo/stalls?per_page=500", &server.admin)
        .await;
    assert_eq!(mo["total"], 56);
    let (_, qo) = server
        .get(
            "/api/v1/markets/cho-quang-oai/stalls?per_page=500",
            &server.admin,
        )
        .await;
    assert_eq!(qo["total"], 328);
    let stalls = qo["items"].as_array().unwrap();
    let linked = stalls.iter().filter(|s| !s["payee"].is_null()).count();
    let placed = stalls
        .iter()
        .filter(|s| !s["poster_printed_at"].is_null())
        .count();
    assert_eq!((linked, placed), (321, 321));

    let own = server.vendor_stall;
    assert_eq!(
        server
            .get(&format!("/api/v1/stalls/{own}"), &server.vendor)
            .await
            .0,
        200
    );
    let (status, error) = server
        .get(&format!("/api/v1/stalls/{}", own + 1), &server.vendor)
        .await;
    assert_eq!((status, error["code"].as_str()), (404, Some("not_found")));
    assert_eq!(server.get("/api/v1/markets", &server.vendor).await.0, 403);
    assert!(server.stop(), "SIGTERM shuts the server down cleanly");

    // Seeding again changes nothing.
    let again = DemoServer::start(&database.url);
    let (_, markets) = again.get("/api/v1/markets", &again.admin).await;
    assert_eq!(markets["total"], 2);
    let (_, qo_again) = again
        .get(
            "/api/v1/markets/cho-quang-oai/stalls?per_page=500",
            &again.admin,
        )
        .await;
    assert_eq!(qo_again["items"], qo["items"]);
    assert!(again.stop());
}

const CSV: &str = "code,vendor_name,goods,phone,bank,account,holder
A01,Nguyễn Thị Hương,Rau củ,0912345678,VCB,1234567890,Nguyễn Thị Hương
A02,Trần Văn Hùng,Thịt lợn,,Agribank,1500205123456,TRAN VAN HUNG
";

#[tokio::test]
async fn operators_migrate_import_and_make_tokens_from_the_shell() {
    let database = TestDatabase::new().await;
    let url = database.url.as_str();
    let migrate = chopay(&["migrate", "--database-url", url]);
    assert_eq!(
        (migrate.code, migrate.stdout_text().as_str()),
        (0, "database is up to date\n"),
        "{}",
        migrate.stderr
    );

    let store = Store::open(&DatabaseUrl::new(url)).await.unwrap();
    let fields = MarketFields::parse(
        "Chợ Mơ",
        "xã Vạn Thắng",
        "huyện Ba Vì",
        "ba-vi",
        "Hà Nội",
        Some(56),
    )
    .unwrap();
    let market = catalog::create_market(&store, "cho-mo", &fields)
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, CSV).unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, format!("{CSV}A03,Lê Thị Mai,Hoa quả,,VCB,12AB,\n")).unwrap();
    let good = good.to_str().unwrap();

    let rejected = chopay(&[
        "import",
        "stalls",
        "--market",
        "cho-mo",
        bad.to_str().unwrap(),
        "--database-url",
        url,
    ]);
    assert_eq!(rejected.code, 2);
    assert_eq!(
        rejected.stderr,
        "line 4 (A03): bank, account and holder go together: give all three to link an account, or none\n\
         chopay: 1 of 3 rows are invalid; nothing was written\n"
    );
    let dry = chopay(&[
        "import",
        "stalls",
        "--market",
        "cho-mo",
        good,
        "--dry-run",
        "--database-url",
        url,
    ]);
    assert_eq!(
        dry.stdout_text(),
        "2 rows checked: 2 stalls would be created, 0 would be updated, 0 unchanged\n"
    );
    assert!(
        chopay::store::stalls::all_in_market(&store, market.id)
            .await
            .unwrap()
            .is_empty()
    );
    let done = chopay(&[
        "import",
        "stalls",
        "--market",
        "cho-mo",
        good,
        "--database-url",
        url,
    ]);
    assert_eq!(
        done.stdout_text(),
        "2 rows checked: 2 stalls were created, 0 were updated, 0 unchanged\n"
    );
    let twice = chopay(&[
        "import",
        "stalls",
        "--market",
        "cho-mo",
        good,
        "--database-url",
        url,
    ]);
    assert_eq!(
        twice.stdout_text(),
        "2 rows checked: 0 stalls were created, 0 were updated, 2 unchanged\n"
    );

    let vendor = chopay(&[
        "token",
        "create",
        "--role",
        "vendor",
        "--market",
        "cho-mo",
        "--stall",
        "a02",
        "--database-url",
        url,
    ]);
    assert_eq!(vendor.code, 0, "{}", vendor.stderr);
    let token = vendor.stdout_text().trim().to_owned();
    assert!(token.starts_with("cp_") && token.len() == 67);
    let principal = tokens::authenticate(&store, &token)
        .await
        .unwrap()
        .expect("the printed token works");
    let a02 = chopay::store::stalls::by_code(&store, market.id, "A02")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        principal.scope,
        chopay::domain::access::Scope::Stall(a02.id)
    );

    let by_env = std::process::Command::new(env!("CARGO_BIN_EXE_chopay"))
        .args(["token", "create", "--role", "board", "--market", "cho-mo"])
        .env("DATABASE_URL", url)
        .output()
        .unwrap();
    assert!(
        by_env.status.success(),
        "{}",
        String::from_utf8_lossy(&by_env.stderr)
    );

    for (args, message) in [
        (
            vec!["token", "create", "--role", "board"],
            "chopay: a board token needs exactly one of --market or --district\n",
        ),
        (
            vec!["token", "create", "--role", "king"],
            "chopay: role must be admin, board or vendor, not 'king'\n",
        ),
        (
            vec!["token", "create", "--role", "board", "--market", "cho-xa"],
            "chopay: market 'cho-xa' not found\n",
        ),
        (
            vec!["import", "stalls", "--market", "cho-xa", good],
            "chopay: market 'cho-xa' not found\n",
        ),
    ] {
        let mut args = args;
        args.extend(["--database-url", url]);
        let run = chopay(&args);
        assert_eq!((run.code, run.stderr.as_str()), (2, message), "{args:?}");
    }
    let unsupported = chopay(&["migrate", "--database-url", "mysql://x"]);
    assert_eq!(unsupported.code, 2);
    assert_eq!(
        unsupported.stderr,
        "chopay: unsupported database URL mysql://x: use sqlite://PATH or postgres://…\n"
    );
}
