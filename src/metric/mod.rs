//! The metric stage: settings (flags, camelCase environment variables and the
//! Locust Pod Autoscaler's names as aliases), the CPA input, the scenarios,
//! one quiet load test and the one JSON report on stdout.
//!
//! [`main_with`] is the whole stage; `gpa-metric` calls it with no compiled
//! scenarios, and a user's own executable calls it with theirs. Settings are
//! resolved by a pure function of the parsed flags and an environment lookup
//! ([`Settings::resolve`]); precedence is flag > primary variable > alias
//! variable > default. A variable set to the empty string counts as unset.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use goose::goose::Scenario;

use crate::cpa::{self, Resource};
use crate::load_test::{self, LoadTestSettings, StdoutGuard, TlsSettings};
use crate::report::LatencyReport;
use crate::scenario::ScenarioFile;

/// Default scenario file path.
pub const DEFAULT_SCENARIO_FILE: &str = "/scenario.yaml";
/// Default number of simulated users.
pub const DEFAULT_USERS: usize = 10;
/// Default measured run time, seconds.
pub const DEFAULT_RUN_TIME_SECONDS: u64 = 20;
/// Default per-request timeout, milliseconds.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 5000;
/// Largest accepted number of users.
pub const MAX_USERS: usize = 100_000;

/// Longest accepted ramp-up (users / hatch rate), seconds: one day.
pub const MAX_RAMP_UP_SECONDS: u64 = 86_400;

/// The slowest hatch rate accepted for `users`: a ramp-up of at most
/// [`MAX_RAMP_UP_SECONDS`], and never below goose's own floor of one user a
/// day (which goose checks in `f32`). Rounded up to 7 decimals, so the value
/// printed in the error message is itself accepted.
pub fn slowest_hatch_rate(users: usize) -> f64 {
    // goose rejects a rate below 1/86400 computed in f32; 0.0000116 is above it.
    const GOOSE_FLOOR: f64 = 0.000_011_6;
    let exact = (users as f64 / MAX_RAMP_UP_SECONDS as f64).max(GOOSE_FLOOR);
    let scaled = exact * 1e7;
    let nearest = scaled.round();
    // Up to the next 7th decimal, unless already on one (up to float noise).
    let rounded = if (scaled - nearest).abs() < 1e-6 {
        nearest
    } else {
        scaled.ceil()
    };
    rounded / 1e7
}

/// Longest accepted run time, seconds: one day.
pub const MAX_RUN_TIME_SECONDS: u64 = 86_400;

const RUN_TIME_EXPECTED: &str =
    "whole seconds from 1 to 86400: a number (20) or a timespan such as 30s, 5m or 1h30m";

/// A run time in whole seconds, 1 to [`MAX_RUN_TIME_SECONDS`]: a number of
/// seconds (`20`, also `20.0`), or a timespan as Locust took it: hours,
/// minutes and seconds in that order, each optional (`30s`, `5m`, `1h30m`,
/// `1h2m3s`). The error says why the value is not one.
pub fn parse_run_time(value: &str) -> Result<u64, &'static str> {
    let seconds = if value.ends_with(['h', 'm', 's']) {
        timespan_seconds(value).ok_or("not a run time")?
    } else {
        match value.parse::<f64>() {
            Ok(secs) if secs.is_finite() && secs.fract() != 0.0 => {
                return Err("goose measures whole seconds");
            }
            Ok(secs) if secs.is_finite() && (0.0..=MAX_RUN_TIME_SECONDS as f64).contains(&secs) => {
                secs as u64
            }
            _ => return Err("not a run time"),
        }
    };
    if (1..=MAX_RUN_TIME_SECONDS).contains(&seconds) {
        Ok(seconds)
    } else {
        Err("not a run time")
    }
}

/// `1h30m`-style timespans: digits followed by `h`, `m` or `s`, units in
/// that order, each at most once. `None` if it is not one (or overflows).
fn timespan_seconds(text: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut rest = text;
    let mut units: &[(char, u64)] = &[('h', 3600), ('m', 60), ('s', 1)];
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        let unit = rest[digits..].chars().next()?;
        let position = units.iter().position(|(u, _)| *u == unit)?;
        total = total.checked_add(number.checked_mul(units[position].1)?)?;
        units = &units[position + 1..];
        rest = &rest[digits + 1..];
    }
    Some(total)
}

/// The default log filter: our own info lines, goose's errors only. goose
/// logs one WARN line per failed request (tens of thousands against a down
/// target); the stage logs a summary of failures by error instead. Set
/// `GPA_LOG=info` to see goose's lines.
/// (`goose=` is a target prefix that also matches `goose_pod_autoscaler`,
/// hence the longer, more specific directive for our own crate.)
pub const DEFAULT_LOG_FILTER: &str = "info,goose=error,goose_pod_autoscaler=info";

/// The metric stage's command line. Every setting but `--replicas` is also an
/// environment variable (camelCase, as the CPA passes `spec.config`).
#[derive(Debug, Clone, Default, Parser)]
#[command(
    name = "gpa-metric",
    version,
    about = "Runs a short goose load test against a service and prints one JSON latency report",
    long_about = "Runs a short goose load test against a service and prints one JSON latency report on stdout \
(logs go to stderr). Reads the CPA metric JSON on stdin (current replicas from resource.spec.replicas) \
unless --replicas is given. Each setting comes from its flag, else its environment variable, else the \
Locust Pod Autoscaler alias variable named in its help, else its default. Empty variables count as unset."
)]
pub struct MetricArgs {
    /// Base URL of the service under test, e.g. http://fibonacci:8000 (required). Alias variable: locustHost.
    #[arg(long, env = "gooseHost", value_name = "URL")]
    pub host: Option<String>,
    /// Simulated users [default: 10]. Alias variable: locustUsers.
    #[arg(long, env = "gooseUsers", value_name = "N")]
    pub users: Option<String>,
    /// Users started per second, at least users/86400 (a ramp-up of at most a day) [default: all at once]. Alias variable: locustHatchRate.
    #[arg(long, env = "gooseHatchRate", value_name = "PER_SECOND")]
    pub hatch_rate: Option<String>,
    /// Measurement after ramp-up: whole seconds (20) or a timespan (30s, 5m, 1h30m), 1 s to 24 h [default: 20]. Alias variable: locustRunTime.
    #[arg(long, env = "gooseRunTime", value_name = "SECONDS")]
    pub run_time: Option<String>,
    /// Per-request timeout in milliseconds [default: 5000].
    #[arg(long, env = "gooseRequestTimeout", value_name = "MS")]
    pub request_timeout: Option<String>,
    /// The scenario file [default: /scenario.yaml; optional when compiled scenarios exist].
    #[arg(long, env = "scenarioFilePath", value_name = "PATH")]
    pub scenario_file: Option<String>,
    /// PEM file of a CA certificate to trust for an HTTPS host, besides the system roots.
    #[arg(long, env = "gooseCaCertPath", value_name = "PATH")]
    pub ca_cert: Option<String>,
    /// Skip TLS certificate verification (true/false) [default: false]. For tests only.
    #[arg(long, env = "gooseInsecureSkipTlsVerify", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub insecure_skip_tls_verify: Option<String>,
    /// Current replicas, for use by hand: stdin is not read.
    #[arg(long, value_name = "N")]
    pub replicas: Option<u32>,
}

/// Where the scenario file setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioFileSetting {
    /// Set by flag or `scenarioFilePath`: the file must exist.
    Explicit(PathBuf),
    /// The default `/scenario.yaml`: optional when compiled scenarios exist.
    Default(PathBuf),
}

impl ScenarioFileSetting {
    /// The path either way.
    pub fn path(&self) -> &Path {
        match self {
            ScenarioFileSetting::Explicit(path) | ScenarioFileSetting::Default(path) => path,
        }
    }
}

/// The resolved, validated settings of one metric run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Load test settings (TLS certificates not yet read).
    pub load_test: LoadTestSettings,
    /// The scenario file.
    pub scenario_file: ScenarioFileSetting,
    /// The CA certificate file, if any.
    pub ca_cert_path: Option<PathBuf>,
    /// Current replicas given by `--replicas`, in which case stdin is not read.
    pub replicas: Option<u32>,
}

/// A setting with a bad value.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("setting {setting} '{value}': {why}; expected {expected}")]
pub struct SettingsError {
    /// The setting, named the way it was given (variable or flag).
    pub setting: String,
    /// The value given.
    pub value: String,
    /// What is wrong with it.
    pub why: String,
    /// What was expected.
    pub expected: String,
}

/// The metric stage's failures that are not bad settings.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The resource has no `spec.replicas`: the CPA is in per-pod mode.
    #[error(
        "stdin: resource '{resource}' has no spec.replicas: the CPA ran the metric stage once per Pod \
         (runMode per-pod, the CPA default); expected a Deployment-like resource, set runMode: per-resource \
         in the CPA configuration"
    )]
    PerPodMode {
        /// `kind/name` of the resource received.
        resource: String,
    },
    /// Nothing to run.
    #[error(
        "scenario file '{path}' does not exist and there are no compiled scenarios; expected a scenario file \
         (setting scenarioFilePath)"
    )]
    NoScenarios {
        /// The default path looked at.
        path: PathBuf,
    },
}

/// One setting's sources, highest precedence first.
struct Source<'a> {
    flag: &'static str,
    primary: &'static str,
    alias: Option<&'static str>,
    given: &'a Option<String>,
}

impl Source<'_> {
    /// The value and the name to blame for it: the flag-or-primary value clap
    /// gave, else the alias variable; empty counts as unset.
    fn value(&self, env: &impl Fn(&str) -> Option<String>) -> Option<(String, String)> {
        let non_empty = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
        if let Some(value) = self.given.as_deref().and_then(non_empty) {
            return Some((value, format!("{} (--{})", self.primary, self.flag)));
        }
        let alias = self.alias?;
        env(alias)
            .as_deref()
            .and_then(non_empty)
            .map(|value| (value, alias.to_string()))
    }
}

fn bad(setting: &str, value: &str, why: &str, expected: &str) -> SettingsError {
    SettingsError {
        setting: setting.to_string(),
        value: value.to_string(),
        why: why.to_string(),
        expected: expected.to_string(),
    }
}

impl Settings {
    /// Resolves and validates the settings: flag > primary variable (both
    /// given by clap in `args`) > alias variable (looked up with `env`) >
    /// default.
    pub fn resolve(
        args: &MetricArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SettingsError> {
        let host_source = Source {
            flag: "host",
            primary: "gooseHost",
            alias: Some("locustHost"),
            given: &args.host,
        };
        let Some((host, host_name)) = host_source.value(&env) else {
            return Err(bad(
                "gooseHost (--host)",
                "",
                "not set",
                "the service's base URL, e.g. http://fibonacci:8000 (gooseHost, or locustHost)",
            ));
        };
        match reqwest::Url::parse(&host) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
            Ok(_) | Err(_) => {
                return Err(bad(
                    &host_name,
                    &host,
                    "not an http(s) URL",
                    "a base URL such as http://fibonacci:8000",
                ));
            }
        }

        let users_source = Source {
            flag: "users",
            primary: "gooseUsers",
            alias: Some("locustUsers"),
            given: &args.users,
        };
        let users = match users_source.value(&env) {
            None => DEFAULT_USERS,
            Some((value, name)) => match value.parse::<usize>() {
                Ok(n) if (1..=MAX_USERS).contains(&n) => n,
                _ => {
                    return Err(bad(
                        &name,
                        &value,
                        "not a number of users",
                        &format!("a whole number from 1 to {MAX_USERS}"),
                    ));
                }
            },
        };

        let rate_source = Source {
            flag: "hatch-rate",
            primary: "gooseHatchRate",
            alias: Some("locustHatchRate"),
            given: &args.hatch_rate,
        };
        let hatch_rate = match rate_source.value(&env) {
            None => None,
            Some((value, name)) => match value.parse::<f64>() {
                Ok(rate) if rate.is_finite() && rate > 0.0 => {
                    let slowest = slowest_hatch_rate(users);
                    if rate < slowest {
                        return Err(bad(
                            &name,
                            &value,
                            &format!(
                                "starting {users} users would take longer than {MAX_RAMP_UP_SECONDS} s"
                            ),
                            &format!(
                                "users started per second of at least {slowest:.7} for {users} users (a ramp-up of at most {MAX_RAMP_UP_SECONDS} s)"
                            ),
                        ));
                    }
                    Some(rate)
                }
                _ => {
                    return Err(bad(
                        &name,
                        &value,
                        "not a positive rate",
                        "users started per second, e.g. 10 or 2.5",
                    ));
                }
            },
        };

        let run_source = Source {
            flag: "run-time",
            primary: "gooseRunTime",
            alias: Some("locustRunTime"),
            given: &args.run_time,
        };
        let run_time = match run_source.value(&env) {
            None => Duration::from_secs(DEFAULT_RUN_TIME_SECONDS),
            Some((value, name)) => match parse_run_time(&value) {
                Ok(seconds) => Duration::from_secs(seconds),
                Err(why) => return Err(bad(&name, &value, why, RUN_TIME_EXPECTED)),
            },
        };

        let timeout_source = Source {
            flag: "request-timeout",
            primary: "gooseRequestTimeout",
            alias: None,
            given: &args.request_timeout,
        };
        let request_timeout = match timeout_source.value(&env) {
            None => Duration::from_millis(DEFAULT_REQUEST_TIMEOUT_MS),
            Some((value, name)) => match value.parse::<u64>() {
                Ok(ms) if (1..=3_600_000).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    return Err(bad(
                        &name,
                        &value,
                        "not a timeout",
                        "whole milliseconds from 1 to 3600000",
                    ));
                }
            },
        };

        let file_source = Source {
            flag: "scenario-file",
            primary: "scenarioFilePath",
            alias: None,
            given: &args.scenario_file,
        };
        let scenario_file = match file_source.value(&env) {
            Some((value, _)) => ScenarioFileSetting::Explicit(PathBuf::from(value)),
            None => ScenarioFileSetting::Default(PathBuf::from(DEFAULT_SCENARIO_FILE)),
        };

        let ca_source = Source {
            flag: "ca-cert",
            primary: "gooseCaCertPath",
            alias: None,
            given: &args.ca_cert,
        };
        let ca_cert_path = ca_source.value(&env).map(|(value, _)| PathBuf::from(value));

        let insecure_source = Source {
            flag: "insecure-skip-tls-verify",
            primary: "gooseInsecureSkipTlsVerify",
            alias: None,
            given: &args.insecure_skip_tls_verify,
        };
        let insecure_skip_verify = match insecure_source.value(&env) {
            None => false,
            Some((value, name)) => match value.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(bad(&name, &value, "not a boolean", "true or false")),
            },
        };

        Ok(Settings {
            load_test: LoadTestSettings {
                host,
                users,
                hatch_rate,
                run_time,
                request_timeout,
                tls: TlsSettings {
                    ca_certificates: Vec::new(),
                    insecure_skip_verify,
                },
            },
            scenario_file,
            ca_cert_path,
            replicas: args.replicas,
        })
    }
}

/// Current replicas from the CPA metric JSON (or the legacy bare resource).
pub fn replicas_from_input(input: &[u8]) -> anyhow::Result<u32> {
    let info = cpa::parse_metric_input(input)?;
    replicas_of(&info.resource).map_err(Into::into)
}

fn replicas_of(resource: &Resource) -> Result<u32, StageError> {
    let is_pod = resource
        .kind
        .as_deref()
        .is_some_and(|kind| kind.eq_ignore_ascii_case("Pod"));
    match resource.replicas() {
        Some(replicas) if !is_pod => Ok(replicas),
        _ => Err(StageError::PerPodMode {
            resource: resource.describe(),
        }),
    }
}

/// Reads the CA certificate file (PEM, one or more certificates).
fn read_ca_certificates(path: &Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).with_context(|| {
        format!(
            "setting gooseCaCertPath '{}': cannot read it",
            path.display()
        )
    })?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem).with_context(|| {
        format!("setting gooseCaCertPath '{}': not PEM certificates; expected a PEM CA certificate file", path.display())
    })?;
    if certificates.is_empty() {
        anyhow::bail!(
            "setting gooseCaCertPath '{}': no certificate in it; expected a PEM CA certificate file",
            path.display()
        );
    }
    Ok(certificates)
}

/// The scenarios to run: the scenario file's, then the compiled ones.
///
/// An explicitly configured scenario file must exist. The default
/// `/scenario.yaml` is used when it exists; when it does not, the compiled
/// scenarios run alone, and with none it is an error.
pub fn collect_scenarios(
    setting: &ScenarioFileSetting,
    compiled: Vec<Scenario>,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Vec<Scenario>> {
    let path = setting.path();
    let use_file = match setting {
        ScenarioFileSetting::Explicit(_) => true,
        ScenarioFileSetting::Default(_) => path.exists() || compiled.is_empty(),
    };
    let mut scenarios = Vec::new();
    if use_file {
        if !path.exists()
            && compiled.is_empty()
            && matches!(setting, ScenarioFileSetting::Default(_))
        {
            return Err(StageError::NoScenarios {
                path: path.to_path_buf(),
            }
            .into());
        }
        let file = ScenarioFile::load(path, env)?;
        tracing::debug!(file = %path.display(), scenarios = file.scenarios.len(), "scenario file loaded");
        scenarios.extend(file.goose_scenarios()?);
    }
    scenarios.extend(compiled);
    Ok(scenarios)
}

/// Runs the whole stage once and returns the report; the JSON goes to
/// `guard` by the caller. `stdin` is read only without `--replicas`.
pub fn run_stage(
    args: &MetricArgs,
    compiled: Vec<Scenario>,
    env: impl Fn(&str) -> Option<String> + Copy,
    stdin: impl Read,
) -> anyhow::Result<LatencyReport> {
    let mut settings = Settings::resolve(args, env)?;
    let replicas = match settings.replicas {
        Some(replicas) => replicas,
        None => {
            let mut input = Vec::new();
            let mut stdin = stdin;
            stdin.read_to_end(&mut input).context("reading stdin")?;
            replicas_from_input(&input)?
        }
    };
    if let Some(path) = &settings.ca_cert_path {
        settings.load_test.tls.ca_certificates = read_ca_certificates(path)?;
    }
    let scenarios = collect_scenarios(&settings.scenario_file, compiled, env)?;
    if replicas == 0 {
        tracing::info!("current replicas 0: no load test");
        return Ok(LatencyReport::empty(0));
    }
    let load = &settings.load_test;
    tracing::info!(
        host = %load.host, users = load.users, run_time_s = load.run_time.as_secs(),
        request_timeout_ms = load.request_timeout.as_millis() as u64, scenarios = scenarios.len(),
        ends_within_ms = u64::try_from(load.deadline().saturating_add(Duration::from_secs(1)).as_millis()).unwrap_or(u64::MAX),
        "load test starting"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let metrics = runtime.block_on(load_test::run(load, scenarios));
    runtime.shutdown_background();
    let metrics = metrics?;
    let report =
        load_test::report_from_metrics(&metrics, replicas, load.users as u32, load.run_time);
    for (error, detail) in metrics.errors.iter().take(10) {
        tracing::warn!(
            occurrences = detail.occurrences,
            "request failures: {error}"
        );
    }
    if metrics.errors.len() > 10 {
        tracing::warn!(
            "{} more kinds of request failure not shown",
            metrics.errors.len() - 10
        );
    }
    for (key, stats) in &report.requests {
        tracing::info!(
            request = %key, count = stats.count, failures = stats.failures,
            mean_ms = format!("{:.3}", stats.mean_ms), p95_ms = format!("{:.3}", stats.p95_ms),
            "measured"
        );
    }
    Ok(report)
}

/// The whole metric executable: parses the command line, installs logging
/// and the stdout guard, runs [`run_stage`] with the scenarios `compiled`
/// returns (besides, or instead of, the scenario file), prints the report.
///
/// ```no_run
/// use goose::prelude::*;
/// use std::process::ExitCode;
///
/// async fn checkout(user: &mut GooseUser) -> TransactionResult {
///     let _goose = user.post("/checkout", "{}").await?;
///     Ok(())
/// }
///
/// fn main() -> ExitCode {
///     goose_pod_autoscaler::metric::main_with(|| {
///         vec![scenario!("checkout").register_transaction(transaction!(checkout))]
///     })
/// }
/// ```
pub fn main_with<F>(compiled: F) -> ExitCode
where
    F: FnOnce() -> Vec<Scenario>,
{
    let args = match crate::cli::parse::<MetricArgs>() {
        Ok(Some(args)) => args,
        Ok(None) => return ExitCode::SUCCESS,
        Err(err) => return crate::cli::exit_code(Err(err)),
    };
    crate::logging::init(DEFAULT_LOG_FILTER);
    crate::cli::exit_code(run_and_print(&args, compiled))
}

fn run_and_print<F>(args: &MetricArgs, compiled: F) -> anyhow::Result<()>
where
    F: FnOnce() -> Vec<Scenario>,
{
    let mut guard = StdoutGuard::install().context("redirecting stdout during the load test")?;
    let env = |name: &str| std::env::var(name).ok();
    let report = run_stage(args, compiled(), env, std::io::stdin().lock())?;
    let json = serde_json::to_string(&report).context("encoding the report")?;
    guard
        .write_document(&json)
        .context("writing the report to stdout")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Env = &'static [(&'static str, &'static str)];

    fn env_of(
        pairs: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<String> + Copy {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    fn args(host: Option<&str>) -> MetricArgs {
        MetricArgs {
            host: host.map(String::from),
            ..MetricArgs::default()
        }
    }

    #[test]
    fn defaults_apply_when_only_the_host_is_set() {
        let settings = Settings::resolve(&args(Some("http://svc:8000")), env_of(&[])).unwrap();
        let load = &settings.load_test;
        assert_eq!((load.users, load.hatch_rate), (10, None));
        assert_eq!(load.run_time, Duration::from_secs(20));
        assert_eq!(load.request_timeout, Duration::from_millis(5000));
        assert!(!load.tls.insecure_skip_verify);
        assert_eq!(
            settings.scenario_file,
            ScenarioFileSetting::Default("/scenario.yaml".into())
        );
    }

    #[test]
    fn the_flag_or_primary_value_beats_the_alias_which_beats_the_default() {
        let env = env_of(&[
            ("locustHost", "http://lpa:1"),
            ("locustUsers", "7"),
            ("locustRunTime", "3"),
            ("locustHatchRate", "2"),
        ]);
        let from_alias = Settings::resolve(&args(None), env).unwrap();
        assert_eq!(from_alias.load_test.host, "http://lpa:1");
        assert_eq!(
            (
                from_alias.load_test.users,
                from_alias.load_test.run_time,
                from_alias.load_test.hatch_rate
            ),
            (7, Duration::from_secs(3), Some(2.0))
        );
        let primary = MetricArgs {
            host: Some("http://goose:1".into()),
            users: Some("4".into()),
            run_time: Some("".into()),
            ..MetricArgs::default()
        };
        let resolved = Settings::resolve(&primary, env).unwrap();
        assert_eq!(
            (resolved.load_test.host.as_str(), resolved.load_test.users),
            ("http://goose:1", 4)
        );
        assert_eq!(
            resolved.load_test.run_time,
            Duration::from_secs(3),
            "an empty value counts as unset"
        );
    }

    #[test]
    fn bad_settings_name_the_setting_the_value_and_the_expectation() {
        let cases: [(MetricArgs, Env, &str); 9] = [
            (
                args(None),
                &[],
                "setting gooseHost (--host) '': not set; expected the service's base URL",
            ),
            (
                args(Some("fibonacci")),
                &[],
                "setting gooseHost (--host) 'fibonacci': not an http(s) URL",
            ),
            (
                args(None),
                &[("locustHost", "ftp://x")],
                "setting locustHost 'ftp://x': not an http(s) URL",
            ),
            (
                MetricArgs {
                    users: Some("0".into()),
                    ..args(Some("http://a"))
                },
                &[],
                "setting gooseUsers (--users) '0': not a number of users; expected a whole number from 1",
            ),
            (
                args(Some("http://a")),
                &[("locustUsers", "ten")],
                "setting locustUsers 'ten': not a number of users",
            ),
            (
                MetricArgs {
                    run_time: Some("1.5".into()),
                    ..args(Some("http://a"))
                },
                &[],
                "setting gooseRunTime (--run-time) '1.5': goose measures whole seconds; expected whole seconds from 1 to 86400",
            ),
            (
                MetricArgs {
                    hatch_rate: Some("-1".into()),
                    ..args(Some("http://a"))
                },
                &[],
                "setting gooseHatchRate (--hatch-rate) '-1': not a positive rate",
            ),
            (
                MetricArgs {
                    request_timeout: Some("2s".into()),
                    ..args(Some("http://a"))
                },
                &[],
                "setting gooseRequestTimeout (--request-timeout) '2s': not a timeout; expected whole milliseconds",
            ),
            (
                MetricArgs {
                    insecure_skip_tls_verify: Some("yes".into()),
                    ..args(Some("http://a"))
                },
                &[],
                "setting gooseInsecureSkipTlsVerify (--insecure-skip-tls-verify) 'yes': not a boolean; expected true or false",
            ),
        ];
        for (args, env, expected) in cases {
            let err = Settings::resolve(&args, env_of(env))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(expected), "got: {err}\nwant: {expected}");
        }
    }

    #[test]
    fn run_times_are_seconds_or_locust_style_timespans() {
        let accepted = [
            ("20", 20),
            ("20.0", 20),
            ("1", 1),
            ("86400", 86_400),
            ("30s", 30),
            ("1m", 60),
            ("5m", 300),
            ("1h", 3600),
            ("1h30m", 5400),
            ("1h2m3s", 3723),
            ("2m30s", 150),
            ("90s", 90),
            ("24h", 86_400),
        ];
        for (text, seconds) in accepted {
            assert_eq!(parse_run_time(text), Ok(seconds), "{text}");
        }
        let rejected = [
            ("1.5", "goose measures whole seconds"),
            ("0", "not a run time"),
            ("0s", "not a run time"),
            ("86401", "not a run time"),
            ("24h1s", "not a run time"),
            ("-5", "not a run time"),
            ("m", "not a run time"),
            ("30m1h", "not a run time"),
            ("1h1h", "not a run time"),
            ("1.5m", "not a run time"),
            ("1d", "not a run time"),
            ("30 s", "not a run time"),
            ("99999999999999999999h", "not a run time"),
            ("ten", "not a run time"),
        ];
        for (text, why) in rejected {
            assert_eq!(parse_run_time(text), Err(why), "{text}");
        }
        let lpa = Settings::resolve(&args(Some("http://a")), env_of(&[("locustRunTime", "1m")]));
        assert_eq!(lpa.unwrap().load_test.run_time, Duration::from_secs(60));
        let err = Settings::resolve(&args(Some("http://a")), env_of(&[("locustRunTime", "1x")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "setting locustRunTime '1x': not a run time; expected whole seconds from 1 to 86400: a number (20) or a timespan such as 30s, 5m or 1h30m"
        );
    }

    #[test]
    fn a_hatch_rate_is_accepted_down_to_a_ramp_up_of_one_day() {
        let rate = |users: &str, rate: &str| {
            let args = MetricArgs {
                users: Some(users.into()),
                hatch_rate: Some(rate.into()),
                ..args(Some("http://a"))
            };
            Settings::resolve(&args, env_of(&[])).map(|s| s.load_test.ramp_up())
        };
        assert_eq!(rate("10", "0.5"), Ok(Duration::from_secs(20)));
        let slowest = slowest_hatch_rate(10).to_string();
        assert!(rate("10", &slowest).unwrap() <= Duration::from_secs(MAX_RAMP_UP_SECONDS));
        assert!(rate("1", &slowest_hatch_rate(1).to_string()).is_ok());
        for (users, too_slow) in [("1", "1e-300"), ("1", "0.00001"), ("10", "0.0001")] {
            let err = rate(users, too_slow).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!(
                    "setting gooseHatchRate (--hatch-rate) '{too_slow}': starting {users} users would take longer than 86400 s; expected users started per second of at least"
                )),
                "{err}"
            );
        }
        assert!(
            rate("1", "0.00001")
                .unwrap_err()
                .to_string()
                .contains("at least 0.0000116 for 1 users")
        );
    }

    #[test]
    fn a_pod_or_a_resource_without_replicas_asks_for_per_resource_mode() {
        let pod = br#"{"resource": {"kind": "Pod", "metadata": {"name": "fib-abc"}, "spec": {}}, "runType": "scaler"}"#;
        let err = replicas_from_input(pod).unwrap_err().to_string();
        assert!(
            err.contains("'Pod/fib-abc' has no spec.replicas")
                && err.contains("runMode: per-resource"),
            "{err}"
        );
        let deployment =
            br#"{"kind": "Deployment", "metadata": {"name": "fib"}, "spec": {"replicas": 0}}"#;
        assert_eq!(replicas_from_input(deployment).unwrap(), 0);
    }

    #[test]
    fn a_missing_default_file_is_fine_only_with_compiled_scenarios() {
        let missing = ScenarioFileSetting::Default("/nonexistent/scenario.yaml".into());
        let compiled = vec![Scenario::new("compiled")];
        assert_eq!(
            collect_scenarios(&missing, compiled, env_of(&[]))
                .unwrap()
                .len(),
            1
        );
        let err = collect_scenarios(&missing, Vec::new(), env_of(&[]))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("does not exist and there are no compiled scenarios"),
            "{err}"
        );
        let explicit = ScenarioFileSetting::Explicit("/nonexistent/scenario.yaml".into());
        let err = collect_scenarios(&explicit, vec![Scenario::new("c")], env_of(&[]))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("scenario file '/nonexistent/scenario.yaml': cannot read it"),
            "{err}"
        );
    }
}
