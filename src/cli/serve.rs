//! `chopay serve`: the HTTP service, optionally with the Ba Vì demo seeded.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use super::CliError;
use super::database::{DatabaseArgs, block_on};
use crate::http::{AppState, Limits, metrics::Metrics, router};
use crate::service::demo::{self, SeededMarket};
use crate::service::tokens::{self, TokenRequest};
use crate::store::Store;

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
}

pub fn serve(args: &ServeArgs) -> Result<(), CliError> {
    init_logging();
    block_on(async {
        let store = args.database.open().await?;
        tracing::info!(database = %args.database.url_redacted(), "database ready");
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .map_err(|e| CliError::Io(format!("cannot listen on {}: {e}", args.bind)))?;
        let address = listener
            .local_addr()
            .map_err(|e| CliError::Io(e.to_string()))?;
        if args.demo {
            announce_demo(&store, address).await?;
        } else {
            println!("chopay is listening on http://{address}");
        }
        let limits = Limits {
            body_bytes: usize::try_from(args.body_limit_bytes).unwrap_or(usize::MAX),
            request_timeout: Duration::from_secs(args.request_timeout_secs),
        };
        let app = router(
            AppState {
                store: store.clone(),
                metrics: Metrics::new(),
            },
            limits,
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| CliError::Io(format!("server error: {e}")))?;
        tracing::info!("shutting down");
        store.close().await;
        Ok(())
    })
}

async fn announce_demo(store: &Store, address: SocketAddr) -> Result<(), CliError> {
    let seeded = demo::seed(store).await?;
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
    println!("chopay demo is running at http://{address}");
    for market in &seeded {
        println!(
            "  {}: {} stalls, {} with a linked account",
            market.slug, market.stalls, market.linked
        );
    }
    println!("  admin token:  {}", admin.token);
    if let (Some(vendor), Some(id)) = (&vendor, first.and_then(|m| m.first_stall_id)) {
        println!("  vendor token: {} (stall {id})", vendor.token);
    }
    println!(
        "  try: curl -H 'Authorization: Bearer {}' http://{address}/api/v1/markets",
        admin.token
    );
    println!("  API description: http://{address}/openapi.json");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
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
