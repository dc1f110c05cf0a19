//! Runs one goose load test quietly and turns its metrics into a
//! [`LatencyReport`]. The only async part of the crate.
//!
//! "Quietly" means: goose is configured programmatically (argv is never
//! read), without its telnet controller, console tables or stdout logger;
//! [`StdoutGuard`] points file descriptor 1 at stderr for the whole attack, so
//! whatever goose or a compiled scenario prints cannot reach the protocol
//! stream. The conversion of goose's histograms into the report is a pure
//! function ([`latency_report`]), and so is the sorting of goose's error
//! texts into timeouts, connection errors and status errors
//! ([`failure_kind`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::time::Duration;

use goose::config::{GooseConfiguration, GooseDefault, GooseDefaultType};
use goose::goose::{GooseUser, Scenario, Transaction, TransactionFunction};
use goose::metrics::{GooseMetrics, GooseRequestMetricAggregate};
use goose::test_plan::{TestPlanHistory, TestPlanStepAction};
use goose::{GooseAttack, GooseError};

use crate::report::{LatencyReport, RequestStats};

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
/// subscriber (with its `log` bridge) and a [`StdoutGuard`] before calling
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

/// Totals of one request name, read from goose's histogram (`raw_data`).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestTotals {
    /// HTTP method, upper case.
    pub method: String,
    /// The request's name.
    pub name: String,
    /// Requests made.
    pub count: u64,
    /// Requests that failed.
    pub failures: u64,
    /// Fastest response, µs.
    pub min_us: u64,
    /// Slowest response, µs.
    pub max_us: u64,
    /// Sum of all response times, µs.
    pub total_us: u64,
    /// Percentiles p50, p75, p90, p95, p99 in µs, from goose's buckets.
    pub percentiles_us: [u64; 5],
    /// The failures by kind (see [`failure_kind`]).
    pub failure_kinds: FailureKinds,
}

/// What one failed request ran into, read from goose's error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No response within the request timeout (reqwest's "operation timed
    /// out"), or a response body that did not arrive in time.
    Timeout,
    /// No response for any other reason: the connection was refused or
    /// reset, DNS or TLS failed, the body broke off.
    Connection,
    /// A response that was not the expected one: an unexpected HTTP status,
    /// or a failure a compiled transaction recorded about the response.
    Status,
}

/// How goose names an error that left a request without a response
/// (`clean_reqwest_error`): `<kind> <request name>: <cause>`.
const NO_RESPONSE_PREFIXES: [&str; 3] = [
    "error sending request",
    "request or response body error",
    "builder error",
];

/// The kind of failure goose's error text `error` records. A timeout says
/// "timed out" (reqwest's cause, or our body-reading failure); the other
/// failures without a response carry goose's no-response prefixes; what is
/// left got a response: an unexpected status (`503 Service Unavailable:
/// /x`, `404: GET /x: unexpected status; ...`) or a failed check of it.
pub fn failure_kind(error: &str) -> FailureKind {
    if error.contains("timed out") {
        FailureKind::Timeout
    } else if NO_RESPONSE_PREFIXES
        .iter()
        .any(|prefix| error.starts_with(prefix))
        || error.contains("reading the response body failed")
    {
        FailureKind::Connection
    } else {
        FailureKind::Status
    }
}

/// One request's failures by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureKinds {
    /// Failures that timed out.
    pub timeouts: u64,
    /// Failures without a response for another reason.
    pub connection_errors: u64,
    /// Failures with an unexpected response.
    pub status_errors: u64,
}

impl FailureKinds {
    /// Counts `occurrences` of the error text `error`.
    pub fn add(&mut self, error: &str, occurrences: u64) {
        let count = match failure_kind(error) {
            FailureKind::Timeout => &mut self.timeouts,
            FailureKind::Connection => &mut self.connection_errors,
            FailureKind::Status => &mut self.status_errors,
        };
        *count = count.saturating_add(occurrences);
    }

    /// The kinds cut down to at most `failures` in all (timeouts kept first),
    /// so the report never claims more kinds than failures.
    pub fn within(self, failures: u64) -> FailureKinds {
        let timeouts = self.timeouts.min(failures);
        let connection_errors = self.connection_errors.min(failures - timeouts);
        let status_errors = self
            .status_errors
            .min(failures - timeouts - connection_errors);
        FailureKinds {
            timeouts,
            connection_errors,
            status_errors,
        }
    }
}

/// Each request's failures by kind, keyed `(METHOD, name)` as
/// [`RequestTotals`] names them, from goose's error table.
pub fn failure_kinds(metrics: &GooseMetrics) -> BTreeMap<(String, String), FailureKinds> {
    let mut kinds: BTreeMap<(String, String), FailureKinds> = BTreeMap::new();
    for error in metrics.errors.values() {
        let key = (
            error.method_label().to_ascii_uppercase(),
            error.name.clone(),
        );
        kinds
            .entry(key)
            .or_default()
            .add(&error.error, error.occurrences as u64);
    }
    kinds
}

const PERCENTILES: [f32; 5] = [0.5, 0.75, 0.9, 0.95, 0.99];

impl RequestTotals {
    /// Reads one of goose's per-request aggregates.
    pub fn from_goose(aggregate: &GooseRequestMetricAggregate) -> Self {
        let data = &aggregate.raw_data;
        RequestTotals {
            method: aggregate.method_label().to_ascii_uppercase(),
            name: aggregate.path.clone(),
            count: data.counter as u64,
            failures: aggregate.fail_count as u64,
            min_us: data.minimum_time_us,
            max_us: data.maximum_time_us,
            total_us: data.total_time_us,
            percentiles_us: PERCENTILES.map(|p| {
                if data.counter == 0 {
                    0
                } else {
                    data.percentile_us(p)
                }
            }),
            failure_kinds: FailureKinds::default(),
        }
    }
}

/// The measured window: from the start of goose's `Maintaining` step to the
/// start of the step after it. `None` if the history has no complete
/// `Maintaining` step (e.g. the test was stopped during ramp-up).
pub fn measured_window(history: &[TestPlanHistory]) -> Option<Duration> {
    let start = history
        .iter()
        .position(|step| matches!(step.action, TestPlanStepAction::Maintaining))?;
    let next = history.get(start + 1)?;
    (next.timestamp - history[start].timestamp).to_std().ok()
}

/// Builds the report from goose's metrics of a test run with `settings`.
pub fn report_from_metrics(
    metrics: &GooseMetrics,
    current_replicas: u32,
    settings: &LoadTestSettings,
) -> LatencyReport {
    let kinds = failure_kinds(metrics);
    let totals: Vec<RequestTotals> = metrics
        .requests
        .values()
        .map(|aggregate| {
            let mut totals = RequestTotals::from_goose(aggregate);
            let key = (totals.method.clone(), totals.name.clone());
            totals.failure_kinds = kinds.get(&key).copied().unwrap_or_default();
            totals
        })
        .collect();
    let window = measured_window(&metrics.history).unwrap_or(settings.run_time);
    let users = u32::try_from(settings.users).unwrap_or(u32::MAX);
    LatencyReport {
        request_timeout_ms: Some(settings.request_timeout.as_secs_f64() * 1000.0),
        ..latency_report(&totals, window, current_replicas, users)
    }
}

/// The report for `totals` measured over `window`: milliseconds with
/// microsecond resolution, `requestsPerSecond = count / window`.
pub fn latency_report(
    totals: &[RequestTotals],
    window: Duration,
    current_replicas: u32,
    users: u32,
) -> LatencyReport {
    let seconds = window.as_secs_f64();
    let ms = |us: u64| us as f64 / 1000.0;
    let requests: BTreeMap<String, RequestStats> = totals
        .iter()
        .map(|t| {
            let per_count = |value: f64| {
                if t.count == 0 {
                    0.0
                } else {
                    value / t.count as f64
                }
            };
            let [p50, p75, p90, p95, p99] = t.percentiles_us.map(ms);
            let kinds = t.failure_kinds.within(t.failures);
            let stats = RequestStats {
                method: t.method.clone(),
                name: t.name.clone(),
                count: t.count,
                failures: t.failures,
                timeouts: kinds.timeouts,
                connection_errors: kinds.connection_errors,
                status_errors: kinds.status_errors,
                error_rate: per_count(t.failures as f64),
                requests_per_second: if seconds > 0.0 {
                    t.count as f64 / seconds
                } else {
                    0.0
                },
                mean_ms: per_count(ms(t.total_us)),
                median_ms: p50,
                min_ms: if t.count == 0 { 0.0 } else { ms(t.min_us) },
                max_ms: ms(t.max_us),
                p75_ms: p75,
                p90_ms: p90,
                p95_ms: p95,
                p99_ms: p99,
                confidence_intervals: BTreeMap::new(),
            };
            (LatencyReport::key(&t.method, &t.name), stats)
        })
        .collect();
    LatencyReport {
        current_replicas: Some(current_replicas),
        users,
        run_time_seconds: seconds,
        requests,
        request_timeout_ms: None,
        stopped_early: None,
        max_run_time_seconds: None,
        load: None,
    }
}

/// Most lines the failure summary takes on stderr.
pub const FAILURE_SUMMARY_LINES: usize = 10;

/// The failure summary, at most [`FAILURE_SUMMARY_LINES`] lines: first why
/// requests got no response (`causes`, counted by the scenario file's
/// requests; a certificate problem is named as one, with its fix), then
/// goose's own failure kinds (`errors`: kind and occurrences), most frequent
/// first, and how many kinds did not fit.
pub fn failure_summary(errors: &[(String, usize)], causes: &BTreeMap<String, u64>) -> Vec<String> {
    let mut causes: Vec<(&String, &u64)> = causes.iter().collect();
    causes.sort_by_key(|(_, count)| std::cmp::Reverse(**count));
    let mut errors: Vec<&(String, usize)> = errors.iter().collect();
    errors.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    let mut lines: Vec<String> = causes
        .iter()
        .map(|(cause, count)| match certificate_fix(cause) {
            Some(fix) => {
                format!("{count} requests failed: TLS certificate problem: {cause}; {fix}")
            }
            None => format!("{count} requests got no response: {cause}"),
        })
        .chain(
            errors
                .iter()
                .map(|(error, count)| format!("{count} request failures: {error}")),
        )
        .collect();
    if lines.len() > FAILURE_SUMMARY_LINES {
        let hidden = lines.len() - (FAILURE_SUMMARY_LINES - 1);
        lines.truncate(FAILURE_SUMMARY_LINES - 1);
        lines.push(format!("{hidden} more kinds of request failure not shown"));
    }
    lines
}

/// goose's failure kinds and their occurrences.
pub fn goose_errors(metrics: &GooseMetrics) -> Vec<(String, usize)> {
    metrics
        .errors
        .iter()
        .map(|(kind, error)| (kind.clone(), error.occurrences))
        .collect()
}

/// The fix for a failure `cause` that is a rejected server certificate;
/// `None` for any other cause.
pub fn certificate_fix(cause: &str) -> Option<&'static str> {
    if !cause.contains("certificate") {
        return None;
    }
    Some(if cause.contains("CaUsedAsEndEntity") {
        "the server presents a CA certificate as its own (what `openssl req -x509` makes), which TLS refuses; expected a server certificate issued by a CA for the server's name, with gooseCaCertPath set to that CA's certificate, or, for a test only, gooseInsecureSkipTlsVerify: \"true\""
    } else if cause.contains("UnknownIssuer") {
        "the server's certificate is not issued by a CA the stage trusts; expected gooseCaCertPath set to the PEM certificate of the CA that issued it, or, for a test only, gooseInsecureSkipTlsVerify: \"true\""
    } else if cause.contains("NotValidForName") {
        "the server's certificate does not name gooseHost's host; expected gooseHost to use a name the certificate holds (its subject alternative names)"
    } else if cause.contains("Expired") {
        "the server's certificate has expired; expected a renewed certificate"
    } else {
        "expected a server certificate valid for gooseHost's name, issued by a CA in the system roots or in gooseCaCertPath"
    })
}

/// Keeps file descriptor 1 away from everything but the report.
///
/// [`StdoutGuard::install`] duplicates the real stdout to a new descriptor
/// and points fd 1 at stderr, so `println!`s and loggers writing to stdout
/// land on stderr. [`StdoutGuard::write_document`] writes the one JSON
/// document to the real stdout. Dropping the guard points fd 1 back.
#[derive(Debug)]
pub struct StdoutGuard {
    real_stdout: File,
}

impl StdoutGuard {
    /// Redirects fd 1 to stderr, keeping the real stdout.
    pub fn install() -> std::io::Result<Self> {
        std::io::stdout().flush()?;
        let saved = rustix::io::dup(std::io::stdout().as_fd())?;
        rustix::stdio::dup2_stdout(std::io::stderr().as_fd())?;
        Ok(StdoutGuard {
            real_stdout: File::from(saved),
        })
    }

    /// Writes `document` and a newline to the real stdout.
    pub fn write_document(&mut self, document: &str) -> std::io::Result<()> {
        let mut out = Vec::with_capacity(document.len() + 1);
        out.extend_from_slice(document.as_bytes());
        out.push(b'\n');
        self.real_stdout.write_all(&out)?;
        self.real_stdout.flush()
    }
}

impl Drop for StdoutGuard {
    fn drop(&mut self) {
        let _ = std::io::stdout().flush();
        let _ = rustix::stdio::dup2_stdout(self.real_stdout.as_fd());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(count: u64, failures: u64) -> RequestTotals {
        RequestTotals {
            method: "GET".into(),
            name: "/fibonacci?n=10".into(),
            count,
            failures,
            min_us: 49_800,
            max_us: 61_234,
            total_us: 50_512 * count,
            percentiles_us: [50_300, 50_800, 51_200, 52_000, 60_001],
            failure_kinds: FailureKinds::default(),
        }
    }

    #[test]
    fn goose_s_error_texts_sort_into_timeouts_connection_and_status_errors() {
        use FailureKind::{Connection, Status, Timeout};
        // The texts goose 0.19 and our request sending record.
        let cases = [
            ("error sending request /x: operation timed out", Timeout),
            (
                "200: GET /x: timed out reading the response body; expected the whole body within the request timeout",
                Timeout,
            ),
            (
                "error sending request /x: client error (Connect)",
                Connection,
            ),
            (
                "error sending request /x: client error (SendRequest): connection closed before message completed",
                Connection,
            ),
            (
                "request or response body error /x: error reading a body",
                Connection,
            ),
            (
                "200: GET /x: reading the response body failed; expected the whole body within the request timeout",
                Connection,
            ),
            ("503 Service Unavailable: /x", Status),
            ("504 Gateway Timeout: /x", Status),
            ("404: GET /x: unexpected status; expected 2xx", Status),
            ("the cart was empty", Status),
        ];
        for (error, kind) in cases {
            assert_eq!(failure_kind(error), kind, "{error}");
        }
    }

    #[test]
    fn the_report_counts_failures_by_kind_never_more_than_the_failures() {
        let mut kinds = FailureKinds::default();
        kinds.add("error sending request /x: operation timed out", 6);
        kinds.add("error sending request /x: client error (Connect)", 3);
        kinds.add("503 Service Unavailable: /x", 2);
        let report = latency_report(
            &[RequestTotals {
                failure_kinds: kinds,
                ..totals(400, 11)
            }],
            Duration::from_secs(2),
            3,
            10,
        );
        let stats = report.request("GET", "/fibonacci?n=10").unwrap();
        assert_eq!(
            (stats.timeouts, stats.connection_errors, stats.status_errors),
            (6, 3, 2)
        );
        assert_eq!(stats.impossible_figure(), None);
        // Should goose's error table ever hold more than the failures, the
        // kinds are cut down to them, timeouts first.
        assert_eq!(
            kinds.within(7),
            FailureKinds {
                timeouts: 6,
                connection_errors: 1,
                status_errors: 0
            }
        );
    }

    #[test]
    fn the_report_keeps_microseconds_and_divides_by_the_measured_window() {
        let report = latency_report(&[totals(400, 10)], Duration::from_millis(2_004), 3, 10);
        let stats = report.request("GET", "/fibonacci?n=10").unwrap();
        assert_eq!((stats.count, stats.failures), (400, 10));
        assert_eq!(stats.error_rate, 0.025);
        assert!((stats.requests_per_second - 400.0 / 2.004).abs() < 1e-9);
        assert_eq!(stats.mean_ms, 50.512);
        assert_eq!((stats.min_ms, stats.max_ms), (49.8, 61.234));
        assert_eq!(
            [
                stats.median_ms,
                stats.p75_ms,
                stats.p90_ms,
                stats.p95_ms,
                stats.p99_ms
            ],
            [50.3, 50.8, 51.2, 52.0, 60.001]
        );
        assert_eq!(report.run_time_seconds, 2.004);
        assert_eq!((report.current_replicas, report.users), (Some(3), 10));
    }

    #[test]
    fn a_request_name_that_never_ran_reports_zeros_not_nan() {
        let empty = RequestTotals {
            min_us: 0,
            max_us: 0,
            total_us: 0,
            percentiles_us: [0; 5],
            ..totals(0, 0)
        };
        let report = latency_report(&[empty], Duration::ZERO, 1, 1);
        let stats = &report.requests["GET /fibonacci?n=10"];
        assert_eq!(
            (stats.error_rate, stats.requests_per_second, stats.mean_ms),
            (0.0, 0.0, 0.0)
        );
        // serde_json writes NaN as null, which no reader takes for a number:
        // every figure must come back as the number written.
        let json: serde_json::Value = serde_json::to_value(&report).unwrap();
        let figures = json["requests"]["GET /fibonacci?n=10"].as_object().unwrap();
        for (key, value) in figures {
            if !matches!(key.as_str(), "method" | "name") {
                assert_eq!(value.as_f64(), Some(0.0), "{key}: {value}");
            }
        }
        assert_eq!(json["runTimeSeconds"].as_f64(), Some(0.0));
    }

    fn history(steps: &[(&str, &str)]) -> Vec<TestPlanHistory> {
        let json: Vec<_> = steps
            .iter()
            .map(|(action, at)| serde_json::json!({"action": action, "timestamp": at, "users": 10}))
            .collect();
        serde_json::from_value(serde_json::Value::Array(json)).unwrap()
    }

    #[test]
    fn the_window_runs_from_maintaining_to_the_next_step() {
        let steps = history(&[
            ("Increasing", "2026-11-22T05:00:00.000Z"),
            ("Maintaining", "2026-11-22T05:00:00.012Z"),
            ("Decreasing", "2026-11-22T05:00:02.015500Z"),
            ("Finished", "2026-11-22T05:00:02.020Z"),
        ]);
        assert_eq!(
            measured_window(&steps),
            Some(Duration::from_micros(2_003_500))
        );
        let cut_short = history(&[
            ("Increasing", "2026-11-22T05:00:00Z"),
            ("Maintaining", "2026-11-22T05:00:01Z"),
        ]);
        assert_eq!(measured_window(&cut_short), None);
    }

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

    #[test]
    fn the_failure_summary_names_certificate_problems_and_fits_in_ten_lines() {
        let causes = BTreeMap::from([
            (
                "client error (Connect): invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))".to_string(),
                943,
            ),
            ("tcp connect error: Connection refused (os error 111)".to_string(), 5),
        ]);
        let errors: Vec<(String, usize)> = (0..12)
            .map(|i| {
                (
                    format!("error sending request /x{i}: client error (Connect).GET./x{i}"),
                    i,
                )
            })
            .collect();
        let lines = failure_summary(&errors, &causes);
        assert_eq!(lines.len(), FAILURE_SUMMARY_LINES);
        assert!(
            lines[0].starts_with("943 requests failed: TLS certificate problem: client error (Connect): invalid peer certificate")
                && lines[0].contains("presents a CA certificate as its own")
                && lines[0].contains("gooseCaCertPath"),
            "{}",
            lines[0]
        );
        assert_eq!(
            lines[1],
            "5 requests got no response: tcp connect error: Connection refused (os error 111)"
        );
        assert_eq!(
            lines[2],
            "11 request failures: error sending request /x11: client error (Connect).GET./x11"
        );
        assert_eq!(lines[9], "5 more kinds of request failure not shown");
        let few = failure_summary(&errors[..2], &BTreeMap::new());
        assert_eq!(few.len(), 2, "{few:?}");
        let fixes = [
            (
                "invalid peer certificate: UnknownIssuer",
                "not issued by a CA the stage trusts",
            ),
            (
                "invalid peer certificate: NotValidForName",
                "does not name gooseHost's host",
            ),
            ("invalid peer certificate: Expired", "has expired"),
            (
                "invalid peer certificate: BadSignature",
                "issued by a CA in the system roots",
            ),
        ];
        for (cause, fix) in fixes {
            assert!(certificate_fix(cause).unwrap().contains(fix), "{cause}");
        }
        assert_eq!(certificate_fix("Connection refused (os error 111)"), None);
    }
}
