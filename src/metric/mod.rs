//! The metric stage: the CPA input, the scenarios, one quiet load test and
//! the one JSON report on stdout.
//!
//! [`main_with`] is the whole stage; `gpa-metric` calls it with no compiled
//! scenarios, and a user's own executable calls it with theirs. Its settings
//! ([`settings`]) are resolved by a pure function of the parsed flags and an
//! environment lookup; precedence is flag > primary variable > alias
//! variable > default, and a variable set to the empty string counts as
//! unset. [`run_time`] reads the run time as Locust wrote it. With an
//! evaluation config, [`early_stop`] watches the targets while the test runs
//! and ends it once every verdict ([`verdict`]) holds.

pub mod early_stop;
pub mod evaluation_config;
pub mod failures;
pub mod goose_report;
pub mod load;
pub mod load_query;
pub mod load_test;
pub mod prometheus;
pub mod run_time;
pub mod settings;
pub mod shadow;
pub mod stdout_guard;
pub mod verdict;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use goose::goose::Scenario;

use crate::cpa::{self, Resource};
use crate::report::{LatencyReport, ReportWithShadow};
use crate::scenario::{NoResponseCauses, ScenarioFile, coverage};
use failures::{failure_summary, goose_errors};
use goose_report::report_from_metrics;
use load_test::LoadTestSettings;
use stdout_guard::StdoutGuard;

pub use run_time::{MAX_RUN_TIME_SECONDS, parse_run_time};
pub use settings::{
    DEFAULT_EARLY_STOP_RUN_TIME_SECONDS, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_RUN_TIME_SECONDS,
    DEFAULT_SCENARIO_FILE, DEFAULT_USERS, EarlyStopSetting, MAX_RAMP_UP_SECONDS, MAX_USERS,
    MetricArgs, ScenarioFileSetting, Settings, SettingsError, slowest_hatch_rate,
};

use crate::cpa::Observed;
use crate::state::StateFile;
use early_stop::EarlyStop;
use evaluation_config::WatchedConfig;

/// The default log filter: our own info lines, goose's errors only. goose
/// logs one WARN line per failed request (tens of thousands against a down
/// target), and the platform certificate verifier one ERROR line per
/// rejected certificate; the stage logs a summary of failures by cause
/// instead. Set `GPA_LOG=info` to see those lines.
/// (`goose=` is a target prefix that also matches `goose_pod_autoscaler`,
/// hence the longer, more specific directive for our own crate.)
pub const DEFAULT_LOG_FILTER: &str =
    "info,goose=error,rustls_platform_verifier=off,goose_pod_autoscaler=info";

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

/// Current and ready replicas from the CPA metric JSON (or the legacy bare
/// resource).
pub fn replicas_from_input(input: &[u8]) -> anyhow::Result<Observed> {
    let info = cpa::parse_metric_input(input)?;
    Ok(Observed {
        current: replicas_of(&info.resource)?,
        ready: info.resource.ready_replicas(),
        template_hash: None,
    })
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
    let pem = std::fs::read(path).map_err(|err| {
        anyhow::anyhow!(
            "setting gooseCaCertPath '{}': cannot read it: {err}; expected a readable PEM CA certificate file",
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

/// The scenarios to run: the scenario file's, then the compiled ones, and
/// the tally the file's requests keep of why requests got no response.
///
/// An explicitly configured scenario file must exist. The default
/// `/scenario.yaml` is used when it exists; when it does not, the compiled
/// scenarios run alone, and with none it is an error.
pub fn collect_scenarios(
    setting: &ScenarioFileSetting,
    compiled: Vec<Scenario>,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<(Vec<Scenario>, Arc<NoResponseCauses>)> {
    let path = setting.path();
    let mut scenarios = Vec::new();
    let mut causes = Arc::default();
    let use_file = match setting {
        ScenarioFileSetting::Explicit(_) => true,
        ScenarioFileSetting::Default(_) if path.exists() => true,
        ScenarioFileSetting::Default(_) if compiled.is_empty() => {
            return Err(StageError::NoScenarios {
                path: path.to_path_buf(),
            }
            .into());
        }
        ScenarioFileSetting::Default(_) => false,
    };
    if use_file {
        let file = ScenarioFile::load(path, env)?;
        tracing::debug!(file = %path.display(), scenarios = file.scenarios.len(), "scenario file loaded");
        scenarios.extend(file.goose_scenarios()?);
        causes = Arc::clone(&file.no_response);
    }
    scenarios.extend(compiled);
    Ok((scenarios, causes))
}

/// The load the probe itself adds to the service, from the scenarios' wait
/// times: each user sends a request, waits for the response, then waits its
/// scenario's `waitTime`, so requests/s ≈ users / (wait + response time).
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeLoad {
    /// Every scenario waits: at most this many requests per second (the
    /// response time, unknown before the run, only lowers it).
    AtMost(f64),
    /// A scenario (named) has no wait time: its users send requests back to
    /// back, as fast as the service answers.
    BackToBack(String),
}

/// The probe's load for `users` spread over `scenarios` by weight.
pub fn probe_load(scenarios: &[Scenario], users: usize) -> ProbeLoad {
    let total_weight: usize = scenarios.iter().map(|s| s.weight.max(1)).sum();
    let mut per_second = 0.0;
    for scenario in scenarios {
        let mean_wait = scenario
            .transaction_wait
            .map(|(min, max)| (min + max).as_secs_f64() / 2.0)
            .unwrap_or(0.0);
        if mean_wait <= 0.0 {
            return ProbeLoad::BackToBack(scenario.name.to_string());
        }
        let share = scenario.weight.max(1) as f64 / total_weight.max(1) as f64;
        per_second += users as f64 * share / mean_wait;
    }
    ProbeLoad::AtMost(per_second)
}

fn log_probe_load(load: &LoadTestSettings, scenarios: &[Scenario]) {
    tracing::info!("{}", probe_load_line(load.users, load.run_time, scenarios));
}

/// The line saying what load the probe adds, with this run's figures: its
/// users, run time and (back to back) what they send at a 50 ms response.
fn probe_load_line(users: usize, run_time: Duration, scenarios: &[Scenario]) -> String {
    let run_s = run_time.as_secs();
    match probe_load(scenarios, users) {
        ProbeLoad::AtMost(per_second) => format!(
            "probe load: at most {per_second:.1} requests/s ({users} users, each waiting between requests), \
             about {:.0} requests in the {run_s} s run, added to the service's own traffic",
            per_second * run_s as f64
        ),
        ProbeLoad::BackToBack(name) => format!(
            "probe load: scenario '{name}' has no waitTime, so its users send requests back to back: \
             users / response time requests/s ({users} users at 50 ms: {} requests/s) for {run_s} s, \
             added to the service's own traffic; set waitTime to probe more lightly",
            users * 20
        ),
    }
}

/// The replicas a miss waits for, as the evaluate stage counts them: the
/// unready ones our answers added within the start-up allowance (read from
/// the evaluate stage's state file, never written). A status with no replica
/// ready counts none: the evaluate stage treats it as unknown when the probe
/// is answered, and without an answer there is no verdict to stop on. An
/// unreadable state file counts none, with a warning.
fn starting_replicas(asked: Observed, settings: &Settings, allowance_seconds: u64) -> u32 {
    let not_ready = asked.not_ready();
    if not_ready == 0 || asked.ready == Some(0) {
        return 0;
    }
    let now = settings
        .now
        .map_or_else(SystemTime::now, SystemTime::from)
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    match StateFile::new(&settings.state_path).load() {
        Ok(loaded) => not_ready.min(loaded.state.young_replicas(now, allowance_seconds)),
        Err(err) => {
            tracing::warn!("{err}; counting no replica as starting");
            0
        }
    }
}

/// The targets early stop watches: `None` when early stop is off, or when
/// no evaluation config was named and none is at the default path. A named
/// config must load.
fn load_early_stop(
    setting: Option<&EarlyStopSetting>,
    starting: impl FnOnce(&WatchedConfig) -> u32,
) -> anyhow::Result<Option<EarlyStop>> {
    let Some(setting) = setting else {
        return Ok(None);
    };
    let path = setting.evaluation_config.path();
    if matches!(setting.evaluation_config, ScenarioFileSetting::Default(_)) && !path.exists() {
        tracing::debug!(file = %path.display(), "no evaluation config: no early stop");
        return Ok(None);
    }
    let config = WatchedConfig::load(path)?;
    let stop = EarlyStop::new(&config.targets, setting.settings.clone(), starting(&config));
    tracing::info!(
        "early stop: watching {} target(s) of '{}'; stops once every verdict holds at {} % confidence, after {} s and {} requests per target at the least",
        stop.targets.len(),
        path.display(),
        stop.settings.confidence * 100.0,
        stop.settings.min_run_time.as_secs_f64(),
        stop.settings.min_requests
    );
    Ok(Some(stop))
}

/// The evaluation config early stop reads, when there is one (and its
/// path), once checked against the scenario file: a target on a request the
/// scenario never sends is an error before anything runs
/// ([`coverage::check_before_run`]).
fn check_targets_sent(
    settings: &Settings,
    has_compiled: bool,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<(Vec<crate::target::Target>, PathBuf)>> {
    let Some(setting) = &settings.early_stop else {
        return Ok(None);
    };
    let path = setting.evaluation_config.path();
    if matches!(setting.evaluation_config, ScenarioFileSetting::Default(_)) && !path.exists() {
        return Ok(None);
    }
    let targets = WatchedConfig::load(path)?.targets;
    let scenario = settings.scenario_file.path();
    let file_used =
        matches!(settings.scenario_file, ScenarioFileSetting::Explicit(_)) || scenario.exists();
    coverage::check_before_run(
        &targets,
        path,
        file_used.then_some(scenario),
        has_compiled,
        env,
    )?;
    Ok(Some((targets, path.to_owned())))
}

/// Runs the whole stage once and returns the report (with the shadow in
/// shadow mode); the JSON goes to `guard` by the caller. `stdin` is read
/// only without `--replicas`.
pub fn run_stage(
    args: &MetricArgs,
    compiled: Vec<Scenario>,
    env: impl Fn(&str) -> Option<String> + Copy,
    stdin: impl Read,
) -> anyhow::Result<ReportWithShadow> {
    let settings = Settings::resolve(args, env)?;
    let mut input = Vec::new();
    let asked = match settings.replicas {
        Some(current) => Observed::current(current),
        None => {
            let mut stdin = stdin;
            stdin.read_to_end(&mut input).context("reading stdin")?;
            replicas_from_input(&input)?
        }
    };
    let replicas = asked.current;
    let ca_certificates = match &settings.ca_cert_path {
        Some(path) => read_ca_certificates(path)?,
        None => Vec::new(),
    };
    let has_compiled = !compiled.is_empty();
    let (scenarios, causes) = collect_scenarios(&settings.scenario_file, compiled, env)?;
    let targets = check_targets_sent(&settings, has_compiled, env)?;
    if replicas == 0 {
        tracing::info!("current replicas 0: no load test");
        return Ok(LatencyReport::empty(0).into());
    }
    let early_stop = load_early_stop(settings.early_stop.as_ref(), |config| {
        starting_replicas(asked, &settings, config.startup_allowance_seconds)
    })?;
    if let Some(stop) = early_stop.as_ref().filter(|stop| stop.starting > 0) {
        tracing::info!(
            "early stop: {} of {replicas} replicas still starting: the test stops early only if every target is met (a miss waits for them)",
            stop.starting
        );
    }
    let load = &settings.load_test_for(ca_certificates, early_stop.is_some());
    tracing::info!(
        host = %load.host, users = load.users, run_time_s = load.run_time.as_secs(),
        request_timeout_ms = load.request_timeout.as_millis() as u64, scenarios = scenarios.len(),
        ends_within_ms = u64::try_from(load.deadline().saturating_add(Duration::from_secs(1)).as_millis()).unwrap_or(u64::MAX),
        "load test starting"
    );
    log_probe_load(load, &scenarios);
    let load_query = load_query::resolve(args, env)?.map(load_query::PendingQuery::start);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (metrics, report) = match &early_stop {
        None => {
            let metrics = runtime.block_on(load_test::run(load, scenarios));
            runtime.shutdown_background();
            let metrics = metrics?;
            let report = report_from_metrics(&metrics, replicas, load);
            (metrics, report.into())
        }
        Some(stop) => {
            let run = runtime.block_on(early_stop::run(load, scenarios, stop));
            runtime.shutdown_background();
            let run = run?;
            let mut report = report_from_metrics(&run.metrics, replicas, load);
            early_stop::annotate(&mut report, &run, stop, load.run_time);
            let early_stop_shadow = stop
                .settings
                .shadow
                .then(|| shadow::report(&report, run.would_stop.as_ref(), stop, load.run_time));
            let report = ReportWithShadow {
                report,
                early_stop_shadow,
            };
            (run.metrics, report)
        }
    };
    let query_value = load_query.and_then(load_query::PendingQuery::finish);
    let load = load_query::with_query_value(load::from_metric_input(&input), query_value);
    let report = load::attach(report, load);
    if let Some((config, path)) = targets.as_ref().filter(|_| has_compiled) {
        for line in coverage::unmeasured_after_run(config, path, &report.report) {
            tracing::warn!("{line}");
        }
    }
    for line in failure_summary(&goose_errors(&metrics), &causes.counts()) {
        tracing::warn!("{line}");
    }
    for (key, stats) in &report.report.requests {
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
/// Every failure ends the same way: one line on stderr and exit code 1.
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
    crate::cli::exit_code(parse_and_run(compiled))
}

fn parse_and_run<F>(compiled: F) -> anyhow::Result<()>
where
    F: FnOnce() -> Vec<Scenario>,
{
    let Some(args) = crate::cli::parse::<MetricArgs>()? else {
        return Ok(()); // --help or --version, printed by clap
    };
    crate::logging::init(DEFAULT_LOG_FILTER);
    crate::setting_names::warn_near_misses(crate::setting_names::Stage::Metric);
    let mut guard = StdoutGuard::install().context("redirecting stdout during the load test")?;
    let env = |name: &str| std::env::var(name).ok();
    let report = run_stage(&args, compiled(), env, std::io::stdin().lock())?;
    let json = serde_json::to_string(&report).context("encoding the report")?;
    guard
        .write_document(&json)
        .context("writing the report to stdout")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_load_line_gives_this_run_s_users() {
        let back_to_back = [Scenario::new("probe")];
        let line = probe_load_line(2, Duration::from_secs(3), &back_to_back);
        assert!(
            line.contains("(2 users at 50 ms: 40 requests/s) for 3 s"),
            "{line}"
        );
        let waiting = [Scenario::new("probe")
            .set_wait_time(Duration::from_millis(100), Duration::from_millis(300))
            .unwrap()];
        let line = probe_load_line(4, Duration::from_secs(2), &waiting);
        assert!(
            line.starts_with("probe load: at most 20.0 requests/s (4 users, each waiting"),
            "{line}"
        );
    }

    fn no_env(_: &str) -> Option<String> {
        None
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
        assert_eq!(
            replicas_from_input(deployment).unwrap(),
            Observed::current(0)
        );
        let starting = br#"{"resource": {"kind": "Deployment", "metadata": {"name": "fib"}, "spec": {"replicas": 4}, "status": {"replicas": 4, "readyReplicas": 1}}, "runType": "scaler"}"#;
        let replicas = replicas_from_input(starting).unwrap();
        assert_eq!(
            (replicas.current, replicas.ready, replicas.not_ready()),
            (4, Some(1), 3)
        );
    }

    #[test]
    fn a_missing_default_file_is_fine_only_with_compiled_scenarios() {
        let missing = ScenarioFileSetting::Default("/nonexistent/scenario.yaml".into());
        let compiled = vec![Scenario::new("compiled")];
        assert_eq!(
            collect_scenarios(&missing, compiled, no_env)
                .unwrap()
                .0
                .len(),
            1
        );
        let err = collect_scenarios(&missing, Vec::new(), no_env)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("does not exist and there are no compiled scenarios"),
            "{err}"
        );
        let explicit = ScenarioFileSetting::Explicit("/nonexistent/scenario.yaml".into());
        let err = collect_scenarios(&explicit, vec![Scenario::new("c")], no_env)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("scenario file '/nonexistent/scenario.yaml': cannot read it"),
            "{err}"
        );
    }

    #[test]
    fn the_probe_load_follows_users_weights_and_wait_times() {
        let waiting = |name: &str, weight: usize, min_ms: u64, max_ms: u64| {
            Scenario::new(name)
                .set_weight(weight)
                .unwrap()
                .set_wait_time(Duration::from_millis(min_ms), Duration::from_millis(max_ms))
                .unwrap()
        };
        // 10 users waiting 1-2 s (1.5 s on average): at most 6.7 requests/s.
        let ProbeLoad::AtMost(rate) = probe_load(&[waiting("a", 1, 1000, 2000)], 10) else {
            panic!("every scenario waits");
        };
        assert!((rate - 10.0 / 1.5).abs() < 1e-9, "{rate}");
        // 3 of 4 users wait 1 s, 1 of 4 waits 0.5 s: 7.5/1 + 2.5/0.5 = 12.5.
        let mix = [waiting("a", 3, 1000, 1000), waiting("b", 1, 500, 500)];
        assert_eq!(probe_load(&mix, 10), ProbeLoad::AtMost(12.5));
        let back_to_back = [waiting("a", 1, 1000, 2000), Scenario::new("c")];
        assert_eq!(
            probe_load(&back_to_back, 10),
            ProbeLoad::BackToBack("c".into())
        );
    }
}
