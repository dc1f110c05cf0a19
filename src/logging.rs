//! Logging for the executables: everything goes to stderr through `tracing`,
//! because stdout is protocol (exactly one JSON document).
//!
//! The `log` records of our dependencies (goose among them) are bridged into
//! `tracing`, so once [`init`] has run they too reach stderr and nothing else
//! installs a logger that writes to stdout.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Environment variable holding a `tracing` filter (`info`, `debug`,
/// `goose_pod_autoscaler=debug,goose=warn`, ...).
pub const FILTER_ENV: &str = "GPA_LOG";

/// Installs the stderr subscriber and the `log` bridge. `default_filter` is
/// used when `GPA_LOG` is unset or empty. Calling it twice is harmless.
pub fn init(default_filter: &str) {
    let filter = std::env::var(FILTER_ENV)
        .ok()
        .filter(|value| !value.trim().is_empty())
        .and_then(|value| EnvFilter::try_new(value).ok())
        .unwrap_or_else(|| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .try_init();
}
