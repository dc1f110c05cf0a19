//! Runs one goose load test quietly: goose configured programmatically
//! (argv is never read), without its telnet controller, console tables or
//! stdout logger. The only async part of the crate. Install a
//! [`StdoutGuard`](super::stdout_guard::StdoutGuard) first, so that whatever
//! goose or a compiled scenario prints cannot reach the protocol stream.

use std::time::Duration;

use goose::config::{GooseConfiguration, GooseDefault, GooseDefaultType};
use goose::goose::{GooseUser, Scenario, Transaction, TransactionFunction};
use goose::metrics::GooseMetrics;
use goose::{GooseAttack, GooseError};

/// Users started per second when the hatch rate is "all at once": big enough
/// that ramp-up takes milliseconds.
const ALL_AT_ONCE_RATE: f64 = 100_000.0;

/// How one load test runs.
#[derive(Debug, Clone)]
pub struct LoadTestSettings {
    /// Base URL of the service under test, e.g. `http://fibonacci:8000`.
    pub host: String,
    /// Simulated users.
    pub users: usize,
    /// Users started per second; `None` starts them all at once.
    pub hatch_rate: Option<f64>,
    /// Length of the measured window after ramp-up; whole seconds (goose's unit).
    pub run_time: Duration,
    /// Per-request timeout; also bounds how long the end of the test waits
    /// for requests in flight.
    pub request_timeout: Duration,
    /// TLS settings for an HTTPS host.
    pub tls: TlsSettings,
}

/// TLS settings for an HTTPS host.
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    /// PEM certificate(s) of a private CA to trust besides the system roots.
    pub ca_certificates: Vec<reqwest::Certificate>,
    /// Accept any certificate (explicit opt-in; testing only).
    pub insecure_skip_verify: bool,
}

impl LoadTestSettings {
    /// How long ramp-up takes: `users / hatch_rate`, about zero when all start
    /// at once; [`Duration::MAX`] if that is too long for a `Duration` (the
    /// metric stage's settings never allow more than a day).
    pub fn ramp_up(&self) -> Duration {
        let rate = self.hatch_rate.unwrap_or(ALL_AT_ONCE_RATE);
        Duration::try_from_secs_f64(self.users as f64 / rate).unwrap_or(Duration::MAX)
    }

    /// The longest the load test may take: ramp-up + run time + one request
    /// timeout (saturating at [`Duration::MAX`]).
    pub fn deadline(&self) -> Duration {
        self.ramp_up()
            .saturating_add(self.run_time)
            .saturating_add(self.request_timeout)
    }
}

/// A load test that could not run.
#[derive(Debug, thiserror::Error)]
pub enum LoadTestError {
    /// goose refused the configuration or failed to run.
    #[error("load test against '{host}' failed: {detail}")]
    Goose {
        /// The host.
        host: String,
        /// goose's error in debug form (its Display says little).
        detail: String,
    },
    /// No scenario to run.
    #[error("no scenarios to run; expected a scenario file or compiled scenarios")]
    NoScenarios,
}

/// Runs the load test and returns goose's metrics. Install the tracing
/// subscriber (with its `log` bridge) and a
/// [`StdoutGuard`](super::stdout_guard::StdoutGuard) before calling
/// this, so goose's logger and prints go to stderr.
pub async fn run(
    settings: &LoadTestSettings,
    scenarios: Vec<Scenario>,
) -> Result<GooseMetrics, LoadTestError> {
    if scenarios.is_empty() {
        return Err(LoadTestError::NoScenarios);
    }
    let failed = |err: GooseError| LoadTestError::Goose {
        host: settings.host.clone(),
        detail: format!("{err:?}"),
    };
    let mut attack =
        GooseAttack::initialize_with_config(GooseConfiguration::default()).map_err(failed)?;
    let tls_client = (!settings.tls.ca_certificates.is_empty()).then(|| client_setup(settings));
    for scenario in scenarios {
        let scenario = match &tls_client {
            Some(setup) => scenario.register_transaction(setup.clone()),
            None => scenario,
        };
        attack = attack.register_scenario(scenario);
    }
    let rate = settings.hatch_rate.unwrap_or(ALL_AT_ONCE_RATE).to_string();
    let timeout = format!("{:.3}", settings.request_timeout.as_secs_f64());
    let attack = set(attack, GooseDefault::Host, settings.host.as_str()).map_err(failed)?;
    let attack = set(attack, GooseDefault::Users, settings.users).map_err(failed)?;
    let attack = set(attack, GooseDefault::IncreaseRate, rate.as_str()).map_err(failed)?;
    let attack = set(
        attack,
        GooseDefault::RunTime,
        settings.run_time.as_secs() as usize,
    )
    .map_err(failed)?;
    let attack = set(attack, GooseDefault::Timeout, timeout.as_str()).map_err(failed)?;
    let attack = set(attack, GooseDefault::NoTelnet, true).map_err(failed)?;
    let attack = set(attack, GooseDefault::NoPrintMetrics, true).map_err(failed)?;
    let attack = set(attack, GooseDefault::Quiet, 1usize).map_err(failed)?;
    let attack = set(
        attack,
        GooseDefault::AcceptInvalidCerts,
        settings.tls.insecure_skip_verify,
    )
    .map_err(failed)?;
    attack.execute().await.map_err(failed)
}

fn set<T>(attack: GooseAttack, key: GooseDefault, value: T) -> Result<GooseAttack, GooseError>
where
    GooseAttack: GooseDefaultType<T>,
{
    attack.set_default(key, value).map(|boxed| *boxed)
}

/// An on-start transaction giving each user a client that trusts the
/// configured CA certificates (goose's own client builder cannot add roots).
fn client_setup(settings: &LoadTestSettings) -> Transaction {
    let tls = settings.tls.clone();
    let timeout = settings.request_timeout;
    let function: TransactionFunction = std::sync::Arc::new(move |user: &mut GooseUser| {
        let tls = tls.clone();
        Box::pin(async move {
            let mut builder = reqwest::Client::builder()
                .timeout(timeout)
                .user_agent(concat!("goose-pod-autoscaler/", env!("CARGO_PKG_VERSION")))
                .danger_accept_invalid_certs(tls.insecure_skip_verify);
            for certificate in tls.ca_certificates {
                builder = builder.add_root_certificate(certificate);
            }
            user.set_client_builder(builder).await?;
            Ok(())
        })
    });
    Transaction::new(function)
        .set_name("gpa-tls-client")
        .set_on_start()
        .set_sequence(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_up_and_deadline_follow_the_settings() {
        let mut settings = LoadTestSettings {
            host: "http://127.0.0.1:1".into(),
            users: 10,
            hatch_rate: Some(5.0),
            run_time: Duration::from_secs(20),
            request_timeout: Duration::from_secs(5),
            tls: TlsSettings::default(),
        };
        assert_eq!(settings.ramp_up(), Duration::from_secs(2));
        assert_eq!(settings.deadline(), Duration::from_secs(27));
        settings.hatch_rate = None;
        assert!(settings.ramp_up() < Duration::from_millis(1));
        settings.hatch_rate = Some(1e-300);
        assert_eq!(settings.ramp_up(), Duration::MAX, "saturates, never panics");
        assert_eq!(settings.deadline(), Duration::MAX);
    }
}
