//! `chopay serve`: the HTTP service, optionally with the Ba Vì demo seeded.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use super::CliError;

/// Prints a line for the operator; a closed standard output (`serve --demo | head`) must not stop
/// the server, so write errors are ignored.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
use super::database::{DatabaseArgs, block_on};
use super::simulate::{self, Crowd};
use crate::http::serve::ConnectionLimits;
use crate::http::{AppState, Limits, Settings, router};
use crate::service::demo::{self, SeededMarket};
use crate::service::tokens::{self, TokenRequest};
use crate::store::{Store, StoreError};

/// `chopay serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    #[command(flatten)]
    database: DatabaseArgs,
    /// Seed huyện Ba Vì (Chợ Mơ, Chợ Quảng Oai) and print an admin and a vendor token.
    #[arg(long)]
    demo: bool,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..=64 * 1024 * 1024))]
    body_limit_bytes: u64,
    /// Longest time to answer one request, in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    request_timeout_secs: u64,
    /// Longest time a client may take to send a request's headers, in seconds (slower
    /// connections are closed; so are keep-alive connections idle this long).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    header_timeout_secs: u64,
    /// Longest time a request body may take to arrive whole, in seconds (then 408).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=600))]
    body_timeout_secs: u64,
    /// How long a sale's dynamic code stays valid, in seconds.
    #[arg(long, default_value_t = 900, value_parser = clap::value_parser!(u64).range(30..=86_400))]
    order_expiry_secs: u64,
    /// How far a signed webhook timestamp may be from now, in seconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(i64).range(10..=3600))]
    webhook_tolerance_secs: i64,
    /// With --demo: a crowd of simulated shoppers pays at Chợ Mơ, so the screens and boards move.
    #[arg(long, requires = "demo")]
    simulate: bool,
    /// Start even when the database would acknowledge a commit before it is on disk (PostgreSQL
    /// with fsync or synchronous_commit off): for throwaway test servers only.
    #[arg(long, env = "CHOPAY_ALLOW_WEAK_DURABILITY")]
    allow_weak_durability: bool,
    /// Shoppers per second for --simulate.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=500), requires = "simulate")]
    simulate_rate: u32,
}

pub fn serve(args: &ServeArgs) -> Result<(), CliError> {
    init_logging();
    block_on(async {
        let store = args.database.open().await?;
        match store.require_durable().await {
            Ok(()) => {}
            Err(StoreError::NotDurable(why)) if args.allow_weak_durability => {
                tracing::warn!(%why, "the database is not durable: a 2xx may be lost in a crash");
            }
            Err(StoreError::NotDurable(why)) => {
                return Err(CliError::Io(format!(
                    "{why}: a payment acknowledged to a bank could be lost in a crash. Turn it on, \
                     or pass --allow-weak-durability for a throwaway test server"
                )));
            }
            Err(e) => return Err(CliError::Io(e.to_string())),
        }
        tracing::info!(database = %args.database.url_redacted(), "database ready");
        let shutdown = shutdown_signal();
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .map_err(|e| CliError::Io(format!("cannot listen on {}: {e}", args.bind)))?;
        let address = listener
            .local_addr()
            .map_err(|e| CliError::Io(e.to_string()))?;
        if args.demo {
            let crowd = announce_demo(&store, address).await?;
            if args.simulate {
                let crowd = Crowd {
                    rate: args.simulate_rate,
                    ..crowd
                };
                tokio::spawn(async move {
                    // Give the server a moment to start answering.
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    match simulate::simulate(crowd).await {
                        Ok(report) => tracing::info!("simulated shoppers done:\n{report}"),
                        Err(e) => tracing::warn!(error = %e, "simulated shoppers stopped"),
                    }
                });
            }
        } else {
            say!("chopay is listening on http://{address}");
        }
        let limits = Limits {
            body_bytes: usize::try_from(args.body_limit_bytes).unwrap_or(usize::MAX),
            request_timeout: Duration::from_secs(args.request_timeout_secs),
        };
        let state = AppState::new(
            store.clone(),
            Settings {
                order_expiry: Duration::from_secs(args.order_expiry_secs),
                webhook_tolerance_s: args.webhook_tolerance_secs,
            },
        );
        let app = router(state.clone(), limits);
        let connections = ConnectionLimits {
            header_timeout: Duration::from_secs(args.header_timeout_secs),
            body_timeout: Duration::from_secs(args.body_timeout_secs),
        };
        crate::http::serve::serve(listener, app, connections, async move {
            shutdown.await;
            state.begin_shutdown();
        })
        .await;
        tracing::info!("shutting down");
        store.close().await;
        Ok(())
    })
}

async fn announce_demo(store: &Store, address: SocketAddr) -> Result<Crowd, CliError> {
    let seeded = demo::seed(store).await?;
    let history = demo::seed_history(store, crate::store::now_ms()).await?;
    let admin = tokens::create(
        store,
        &TokenRequest {
            role: "admin".into(),
            label: "demo".into(),
            ..TokenRequest::default()
        },
    )
    .await?;
    let first: Option<&SeededMarket> = seeded.first();
    let vendor = match first.and_then(|m| m.first_stall_id) {
        Some(id) => Some(
            tokens::create(
                store,
                &TokenRequest {
                    role: "vendor".into(),
                    stall: Some(id.to_string()),
                    label: "demo".into(),
                    ..TokenRequest::default()
                },
            )
            .await?,
        ),
        None => None,
    };
    let district = tokens::create(
        store,
        &TokenRequest {
            role: "board".into(),
            district: Some(DEMO_DISTRICT.into()),
            label: "demo".into(),
            ..TokenRequest::default()
        },
    )
    .await?;
    say!("chopay demo is running at http://{address}");
    for market in &seeded {
        say!(
            "  {}: {} stalls, {} with a linked account",
            market.slug,
            market.stalls,
            market.linked
        );
    }
    if history > 0 {
        say!(
            "  history: {history} payments of the last {} days recorded",
            demo::HISTORY_DAYS
        );
    }
    say!(
        "  boards: http://{address}/districts/{DEMO_DISTRICT}?access_token={} (the district's board token)",
        district.token
    );
    say!("  admin token:  {}", admin.token);
    if let (Some(vendor), Some(id)) = (&vendor, first.and_then(|m| m.first_stall_id)) {
        say!("  vendor token: {} (stall {id})", vendor.token);
        say!(
            "  vendor screen: http://{address}/vendor#token={}",
            vendor.token
        );
    }
    say!(
        "  try: curl -H 'Authorization: Bearer {}' http://{address}/api/v1/markets",
        admin.token
    );
    say!("  API description: http://{address}/openapi.json");
    let (channel, secret) = demo::payment_channel(store, DEMO_MARKET).await?;
    say!(
        "  payments: chopay simulate --url http://{address} --market {DEMO_MARKET} --channel {channel} --secret {secret} --token {}",
        admin.token
    );
    Ok(Crowd {
        url: format!("http://{address}"),
        channel,
        secret,
        market: DEMO_MARKET.to_owned(),
        token: admin.token,
        rate: 1,
        duration: Duration::from_secs(24 * 3600),
        seed: 1,
    })
}

/// The demo's district.
const DEMO_DISTRICT: &str = "ba-vi";

/// The demo market the simulated shoppers visit.
const DEMO_MARKET: &str = "cho-mo";

/// Registers for SIGINT and SIGTERM at once and returns what completes on the first of them.
/// Registering before the server announces itself matters: a SIGTERM that arrives before the
/// serving loop first waits would otherwise meet the default action and kill the process
/// without a graceful shutdown.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (mut interrupt, mut terminate) = signals;
            let interrupt = async {
                match interrupt.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            let terminate = async {
                match terminate.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = interrupt => {}
                _ = terminate => {}
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CHOPAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}
