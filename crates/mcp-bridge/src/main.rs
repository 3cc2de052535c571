//! `clara-mcp`, the ClaraVerse MCP bridge: it runs the user's MCP tool servers (programs that
//! speak MCP over their standard input and output) and serves each over HTTP at
//! `/servers/NAME`, so the local models and the app reach them without starting programs of
//! their own. The supervisor runs it as the `mcp` service; the servers are listed in a JSON
//! file of the `mcpServers` form (`--config`).
//!
//! Its servers' programs are its children, in its process group: stopping the bridge (or its
//! group, as the supervisor does) stops them.

mod bridge;
mod config;
mod http;
mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::bridge::Bridge;

/// Serves MCP tool servers (stdio programs) over HTTP, one path per server.
#[derive(Parser)]
#[command(name = "clara-mcp", version)]
struct Args {
    /// The address to serve on.
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1:8092")]
    listen: SocketAddr,
    /// The servers file, `{"mcpServers": {"NAME": {"command": …, "args": […], "env": {…}}}}`.
    /// Without it, or while it does not exist, no server is served.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// How long a request waits for its server's answer, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    timeout: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            EnvFilter::try_from_env("CLARA_MCP_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let servers = match &args.config {
        Some(path) => match config::load(path) {
            Ok(servers) => servers,
            Err(error) => {
                eprintln!("clara-mcp: {error}");
                return ExitCode::from(2);
            }
        },
        None => config::Servers::default(),
    };
    for skipped in &servers.skipped {
        tracing::warn!("{skipped}");
    }
    let listener = match TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("clara-mcp: cannot serve on {}: {error}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let address = listener.local_addr().unwrap_or(args.listen);
    let bridge = Arc::new(Bridge::new(
        servers.servers,
        Duration::from_secs(args.timeout),
    ));
    tracing::info!(
        "serving {} MCP servers at http://{}/servers/NAME: {}",
        bridge.names().len(),
        address,
        bridge.names().join(", ")
    );
    http::serve(listener, bridge.clone(), stop_requested()).await;
    bridge.stop().await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// Completes at SIGTERM or Ctrl-C.
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
                return;
            }
            Err(error) => tracing::warn!("SIGTERM cannot be heard: {error}"),
        }
    }
    if let Err(error) = tokio::signal::ctrl_c().await {
        tracing::warn!("Ctrl-C cannot be heard: {error}");
        std::future::pending::<()>().await;
    }
}
