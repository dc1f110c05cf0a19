//! `gpa alerts`: the Alertmanager sidecar. A small HTTP server, run as a
//! second container in the CPA's pod, that turns firing alerts into *boosts*
//! (temporary replica floors) in the boosts file it shares with the CPA's
//! container, and asks the CPA to evaluate at once. The evaluate stage reads
//! that file ([`crate::boosts`]) and applies the active boosts.
//!
//! One module a job:
//!
//! - [`config`]: the sidecar's config file (rules, paths, URL, token).
//! - [`webhook`]: Alertmanager's webhook payload and its parse.
//! - [`record`]: what a notification does to the boosts (pure).
//! - [`trigger`]: the `POST` that asks the CPA to evaluate now, one at a
//!   time, later requests merged.
//! - [`server`]: the routes, the token check and the locked write.
//! - [`connections`]: the accept loop, the connection limits and timeouts,
//!   and the bounded shutdown.
//! - [`metrics`]: `GET /metrics`, the autoscaler's own metrics.
//!
//! [`run`] ties them together for the `gpa` executable.

pub mod config;
pub mod connections;
pub mod metrics;
pub mod record;
pub mod server;
pub mod trigger;
pub mod webhook;

use std::path::PathBuf;

use anyhow::Context;
use tokio::net::TcpListener;

pub use config::AlertsConfig;
pub use server::Sidecar;

/// Where the config is read from unless `--config` or
/// `alertsConfigFilePath` says otherwise.
pub const DEFAULT_CONFIG_PATH: &str = "/alerts.yaml";

/// `gpa alerts`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    /// The alerts config file (YAML): rules, boosts file, token file.
    #[arg(long, env = "alertsConfigFilePath", default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
}

/// Loads the config and the token, then serves until SIGTERM or ctrl-c.
/// Any error before the server listens is returned (the executable exits 1).
pub async fn run(flags: &Flags) -> anyhow::Result<()> {
    let config = AlertsConfig::load(&flags.config)?;
    let token = config.token(|name| std::env::var(name).ok())?;
    if let Some(warning) = config::short_token_warning(&token) {
        tracing::warn!("{warning}");
    }
    check_boosts_file(&config.boosts_file)?;
    let sidecar = Sidecar::new(&config, token).context("cannot build the HTTP client")?;
    let shutdown = shutdown_signal();
    let listener = TcpListener::bind(config.listen_address)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen_address))?;
    let address = listener.local_addr().context("no local address")?;
    tracing::info!(
        "gpa alerts listening on {address}: {} rule(s), boosts file '{}', evaluations requested from {}",
        config.rules.len(),
        config.boosts_file.display(),
        config.evaluation_url
    );
    server::serve(listener, sidecar, shutdown).await;
    tracing::info!("gpa alerts stopped");
    Ok(())
}

/// Fails at start, not at the first alert, when the boosts file's folder is
/// missing or the file cannot be read; a file that is not a boosts document
/// is moved aside with a warning.
fn check_boosts_file(path: &std::path::Path) -> anyhow::Result<()> {
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => std::path::Path::new("."),
    };
    if !folder.is_dir() {
        anyhow::bail!(
            "boostsFile '{}': folder '{}' does not exist; expected the volume shared with the CPA's container to be mounted there",
            path.display(),
            folder.display()
        );
    }
    let now = jiff::Timestamp::now();
    if let (_, Some(warning)) = crate::boosts::BoostsFile::load_or_move_aside(path, now)? {
        tracing::warn!("{warning}");
    }
    Ok(())
}

/// A future that completes on SIGTERM (what Kubernetes sends) or ctrl-c
/// (SIGINT). The handlers are installed by this call, not when the future is
/// first polled, so a signal that arrives once the server says it listens
/// always stops it cleanly.
#[cfg(unix)]
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).ok();
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    async move {
        tokio::select! {
            () = received(terminate.as_mut()) => {}
            () = received(interrupt.as_mut()) => {}
        }
    }
}

/// Completes when `signal` is received; never without a handler.
#[cfg(unix)]
async fn received(signal: Option<&mut tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// A future that completes on ctrl-c.
#[cfg(not(unix))]
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
