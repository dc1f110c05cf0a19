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
/// used when `GPA_LOG` is unset or empty; a `GPA_LOG` that is not a valid
/// filter is reported with a warning and the default is used (logging must
/// never stop the autoscaler). Calling it twice is harmless.
pub fn init(default_filter: &str) {
    let requested = std::env::var(FILTER_ENV)
        .ok()
        .filter(|value| !value.trim().is_empty());
    let (filter, rejected) = match requested.as_deref().map(EnvFilter::try_new) {
        Some(Ok(filter)) => (filter, None),
        Some(Err(err)) => (EnvFilter::new(default_filter), Some(err)),
        None => (EnvFilter::new(default_filter), None),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        // a closed stderr drops log lines; by default tracing-subscriber
        // reports that with eprintln!, which panics on a closed stderr
        .log_internal_errors(false)
        .try_init();
    if let Some(err) = rejected {
        tracing::warn!(
            "{FILTER_ENV} '{}' is not a log filter ({err}); expected e.g. 'info' or 'goose_pod_autoscaler=debug'; using '{default_filter}'",
            requested.unwrap_or_default().escape_debug()
        );
    }
}

/// An error chain as the one line an executable prints on stderr before
/// exiting 1: `error: <what failed>: <why>`. Control characters (a newline in
/// a value the user sent, say) are escaped, so the message stays one line.
pub fn error_line(err: &anyhow::Error) -> String {
    let message = format!("{err:#}");
    let message = message.trim_start_matches("error: ");
    let mut line = String::with_capacity(message.len() + 7);
    line.push_str("error: ");
    for c in message.chars() {
        if c.is_control() {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_line_is_one_line_whatever_the_values_hold() {
        let err = anyhow::anyhow!("unknown variant `a\nb\r`").context("stdin: field 'runType'");
        assert_eq!(
            error_line(&err),
            "error: stdin: field 'runType': unknown variant `a\\nb\\r`"
        );
    }
}
