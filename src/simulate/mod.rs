//! `gpa simulate`: the whole CPA autoscaling loop on one machine, with no
//! cluster, as an executable specification of the CPA (`shared/cpa-contract.md`).
//!
//! It starts the example service in-process on 127.0.0.1 behind a capacity
//! model ([`capacity`]), offers it background traffic from a load profile
//! ([`profile`], [`traffic`]), and every interval does what the CPA does: it
//! builds the v2 JSON for a Deployment with the current replicas, runs the real
//! `gpa-metric` and `gpa-evaluate` executables through the shell-method
//! contract ([`cpa_runner`]), clamps and stabilizes the result ([`scaling`])
//! and scales the simulated replicas. It records every second and interval
//! ([`timeline`]), draws a chart ([`chart`]) and returns a summary.
//!
//! Human lines go to stderr through `tracing`; the binary prints the
//! [`Summary`] as JSON on stdout.

pub mod capacity;
pub mod chart;
pub mod cpa_runner;
pub mod oracle;
pub mod profile;
pub mod scaling;
pub mod timeline;
pub mod traffic;

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use tokio::time::{Instant, MissedTickBehavior};

use crate::cpa::{
    self, EvaluateInfo, Evaluation, Metric, MetricInfo, ObjectMeta, Resource, ResourceSpec, RunType,
};
use crate::report::LatencyReport;
use capacity::{Capacity, CapacitySettings};
use cpa_runner::{MethodError, ShellMethod, last_line};
use profile::{LoadProfile, ProfileError};
use scaling::{Bounds, Scaling, Stabilization};
use timeline::{
    IntervalOutcome, IntervalRecord, LatencyTarget, OutputFiles, RequestTotals, SecondRecord,
    Summary, Timeline,
};
use traffic::{SecondTraffic, TrafficLog, TrafficSettings};

/// The built-in load profile (`profiles/step.yaml`): used when no profile is given.
pub const DEFAULT_PROFILE: &str = include_str!("../../profiles/step.yaml");
/// The built-in evaluation config (`simulate/evaluation-config.yaml`).
pub const DEFAULT_EVALUATION_CONFIG: &str = include_str!("../../simulate/evaluation-config.yaml");
/// The built-in metric scenario (`simulate/scenario.yaml`).
pub const DEFAULT_SCENARIO: &str = include_str!("../../simulate/scenario.yaml");

/// Plugin settings the simulation sets unless `plugin_env` overrides them:
/// a short, light load test, so the metric stage fits the interval and adds
/// little to the offered load.
pub const DEFAULT_PLUGIN_ENV: &[(&str, &str)] = &[
    ("gooseUsers", "8"),
    ("gooseRunTime", "2"),
    ("gooseRequestTimeout", "3000"),
];

/// Name of the simulated Deployment (`metadata.name`, `metrics[0].resource`).
pub const RESOURCE_NAME: &str = "fibonacci";

/// Everything a simulation needs, as parsed from the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Load profile file; `None` for the built-in one.
    pub profile: Option<PathBuf>,
    /// Evaluation config handed to `gpa-evaluate`; `None` for the built-in one.
    pub evaluation_config: Option<PathBuf>,
    /// Scenario handed to `gpa-metric`; `None` for the built-in one.
    pub scenario: Option<PathBuf>,
    /// Folder for the chart, the timeline, the decay state and the built-in
    /// plugin files; created if missing.
    pub output_dir: PathBuf,
    /// The CPA's `interval`.
    pub interval: Duration,
    /// The CPA's `minReplicas` and `maxReplicas`.
    pub bounds: Bounds,
    /// Replicas of the Deployment at the start.
    pub initial_replicas: u32,
    /// The CPA's `downscaleStabilization`.
    pub downscale_stabilization: Duration,
    /// The run type handed to both stages; `api_dry_run` applies nothing.
    pub run_type: RunType,
    /// The simulated workload's capacity.
    pub capacity: CapacitySettings,
    /// How the background traffic is sent.
    pub traffic: TrafficSettings,
    /// The CPA's `metric` shell method (`gpa-metric`).
    pub metric: ShellMethod,
    /// The CPA's `evaluate` shell method (`gpa-evaluate`).
    pub evaluate: ShellMethod,
    /// Extra plugin settings (`spec.config` entries), set in both stages'
    /// environment after the simulation's own.
    pub plugin_env: Vec<(String, String)>,
}

impl Settings {
    /// The tuned defaults of `gpa simulate`, running the stage executables at
    /// `metric` and `evaluate`.
    pub fn with_commands(metric: PathBuf, evaluate: PathBuf) -> Self {
        Settings {
            profile: None,
            evaluation_config: None,
            scenario: None,
            output_dir: PathBuf::from("sim-out"),
            interval: Duration::from_secs(5),
            bounds: Bounds { min: 1, max: 10 },
            initial_replicas: 1,
            downscale_stabilization: Duration::ZERO,
            run_type: RunType::Scaler,
            capacity: CapacitySettings {
                concurrency_per_replica: 4,
                service_time: Duration::from_millis(50),
                startup_delay: Duration::from_secs(2),
                max_queue_time: Duration::from_millis(1500),
            },
            traffic: TrafficSettings {
                max_in_flight: 2000,
                request_timeout: Duration::from_secs(5),
            },
            metric: ShellMethod {
                entrypoint: metric,
                command: Vec::new(),
                timeout: Duration::from_secs(10),
            },
            evaluate: ShellMethod {
                entrypoint: evaluate,
                command: Vec::new(),
                timeout: Duration::from_millis(2500),
            },
            plugin_env: Vec::new(),
        }
    }

    fn validate(&self) -> Result<(), SimulateError> {
        let invalid = |setting: &'static str, value: String, expected: &'static str| {
            Err(SimulateError::Setting {
                setting,
                value,
                expected,
            })
        };
        if self.bounds.max == 0 || self.bounds.max > 1000 {
            return invalid("maxReplicas", self.bounds.max.to_string(), "1 to 1000");
        }
        if self.bounds.min > self.bounds.max {
            return invalid(
                "minReplicas",
                self.bounds.min.to_string(),
                "at most maxReplicas",
            );
        }
        if self.initial_replicas > 1000 {
            return invalid(
                "initialReplicas",
                self.initial_replicas.to_string(),
                "0 to 1000",
            );
        }
        if self.interval < Duration::from_millis(100) {
            return invalid(
                "interval",
                format!("{} ms", self.interval.as_millis()),
                "at least 100 ms",
            );
        }
        if self.capacity.concurrency_per_replica == 0
            || self.capacity.concurrency_per_replica > 10_000
        {
            return invalid(
                "concurrencyPerReplica",
                self.capacity.concurrency_per_replica.to_string(),
                "1 to 10000",
            );
        }
        if self.traffic.max_in_flight == 0 {
            return invalid("maxInFlight", "0".into(), "at least 1");
        }
        for (stage, method) in [("metric", &self.metric), ("evaluate", &self.evaluate)] {
            // A bare name is looked up on PATH when run; a path must exist.
            let is_path = method.entrypoint.components().count() > 1;
            if is_path && !method.entrypoint.is_file() {
                return Err(SimulateError::MissingCommand {
                    stage,
                    path: method.entrypoint.clone(),
                });
            }
        }
        Ok(())
    }
}

/// A simulation that could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// A setting is out of range.
    #[error("setting {setting} '{value}' is out of range; expected {expected}")]
    Setting {
        /// The setting's name.
        setting: &'static str,
        /// Its value.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A stage's executable is not there.
    #[error(
        "{stage} command '{path}' does not exist; expected an executable file (build all three \
         executables with `cargo build --release`, or name one with --{stage}-command)"
    )]
    MissingCommand {
        /// `metric` or `evaluate`.
        stage: &'static str,
        /// The entrypoint looked for.
        path: PathBuf,
    },
    /// The load profile is unreadable or invalid.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// A file of the output folder could not be written or removed.
    #[error("writing '{path}' failed: {source}")]
    Output {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The simulated service could not listen on 127.0.0.1.
    #[error("starting the simulated service on 127.0.0.1 failed: {0}")]
    Listen(std::io::Error),
    /// The chart could not be drawn.
    #[error(transparent)]
    Chart(#[from] chart::ChartError),
}

fn output_error(path: &Path) -> impl FnOnce(std::io::Error) -> SimulateError + '_ {
    move |source| SimulateError::Output {
        path: path.to_owned(),
        source,
    }
}

/// The executable `name` in the folder of the running executable, where cargo
/// and the container image put `gpa-metric` and `gpa-evaluate` beside `gpa`.
pub fn sibling_executable(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(name)))
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Runs a whole simulation and writes its chart and timeline into the output
/// folder. Needs a multi-threaded tokio runtime.
pub async fn run(settings: &Settings) -> Result<Summary, SimulateError> {
    settings.validate()?;
    let profile = match &settings.profile {
        Some(path) => LoadProfile::load(path)?,
        None => {
            LoadProfile::parse_str(DEFAULT_PROFILE, Path::new("<built-in profiles/step.yaml>"))?
        }
    };
    let files = PluginFiles::prepare(settings)?;
    let target = read_target(&files.evaluation_config);
    match &target {
        Some(t) => tracing::info!(
            "judging the traffic on the evaluation config's target {} {} {} {}",
            t.method,
            t.endpoint,
            t.kind,
            t.target
        ),
        None => tracing::info!(
            "no target in '{}' the simulator can judge traffic on; secondsOverTarget will be null",
            files.evaluation_config.display()
        ),
    }

    let capacity = Capacity::start(settings.capacity, settings.initial_replicas);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(SimulateError::Listen)?;
    let address = listener.local_addr().map_err(SimulateError::Listen)?;
    let app = capacity.layer(fibonacci_service::router());
    let server = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!("the simulated service stopped: {err}");
        }
    });
    let base_url = format!("http://{address}");
    tracing::info!(
        "simulated service on {base_url}: {} replica(s), {} request(s) at once each, {} ms per request, {} ms start-up; profile of {:.0} s",
        settings.initial_replicas,
        settings.capacity.concurrency_per_replica,
        settings.capacity.service_time.as_millis(),
        settings.capacity.startup_delay.as_millis(),
        profile.duration().as_secs_f64()
    );

    let start = Instant::now();
    let log = TrafficLog::default();
    let traffic = tokio::spawn(traffic::send(
        profile.clone(),
        format!("{base_url}{}", profile.path),
        settings.traffic.clone(),
        start,
        log.clone(),
    ));
    let samples = tokio::spawn(sample_replicas(capacity.clone(), start, profile.duration()));

    let env = plugin_env(settings, &base_url, &files);
    let mut cpa = Cpa {
        settings,
        capacity: &capacity,
        env,
        target: target.as_ref(),
        stabilization: Stabilization::new(settings.downscale_stabilization),
        changes: vec![(0.0, settings.initial_replicas)],
        start,
    };
    let mut intervals = Vec::new();
    let mut ticker = tokio::time::interval_at(start + settings.interval, settings.interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        ticker.tick().await;
        let at = start.elapsed();
        let Some(rate) = profile.rate_at(at) else {
            break;
        };
        intervals.push(cpa.interval(at, rate).await);
    }
    let changes = cpa.changes;

    // The profile is over: let the last requests finish, then stop.
    let _ = traffic.await;
    let samples = samples.await.unwrap_or_default();
    server.abort();
    let run_seconds = start.elapsed().as_secs_f64();

    let traffic_seconds = log.snapshot();
    let seconds = second_records(&profile, &traffic_seconds, &samples);
    let end_seconds = profile.duration().as_secs_f64();
    let files_out = OutputFiles {
        chart: settings.output_dir.join("chart.svg"),
        seconds_csv: settings.output_dir.join("seconds.csv"),
        intervals_csv: settings.output_dir.join("intervals.csv"),
        timeline_json: settings.output_dir.join("timeline.json"),
    };
    let summary = summarize(
        settings,
        &intervals,
        &changes,
        &traffic_seconds,
        target,
        end_seconds,
        run_seconds,
        files_out.clone(),
    );
    let svg = chart::render(&chart::ChartData {
        seconds: &seconds,
        intervals: &intervals,
        changes: &changes,
        startup_delay: settings.capacity.startup_delay,
        target: summary.target.as_ref(),
        end_seconds,
    })?;
    write(&files_out.chart, &svg)?;
    write(&files_out.seconds_csv, &timeline::seconds_csv(&seconds))?;
    write(
        &files_out.intervals_csv,
        &timeline::intervals_csv(&intervals),
    )?;
    let timeline = Timeline {
        summary: summary.clone(),
        seconds,
        intervals,
    };
    let json = serde_json::to_string_pretty(&timeline).unwrap_or_default();
    write(&files_out.timeline_json, &json)?;
    tracing::info!(
        "done in {:.0} s: {} scale event(s) ({} up, {} down), peak {} replica(s), {:.0} replica-seconds, {} s over target; chart in {}",
        summary.run_seconds,
        summary.scale_events,
        summary.scale_ups,
        summary.scale_downs,
        summary.peak_replicas,
        summary.replica_seconds,
        summary
            .seconds_over_target
            .map_or_else(|| "?".to_string(), |s| s.to_string()),
        files_out.chart.display()
    );
    Ok(summary)
}

/// Writes `contents` to `path` through `<path>.tmp` and a rename, so a
/// reader (a browser showing the chart, a script reading the CSV) never sees
/// a half-written file.
fn write(path: &Path, contents: &str) -> Result<(), SimulateError> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, contents).map_err(output_error(&temporary))?;
    std::fs::rename(&temporary, path).map_err(output_error(path))
}

/// The plugin files the stages are pointed at.
struct PluginFiles {
    evaluation_config: PathBuf,
    scenario: PathBuf,
    decay_info: PathBuf,
}

impl PluginFiles {
    /// Creates the output folder, writes the built-in files the settings do not
    /// replace, and removes any decay state a previous run left.
    fn prepare(settings: &Settings) -> Result<Self, SimulateError> {
        let dir = &settings.output_dir;
        std::fs::create_dir_all(dir).map_err(output_error(dir))?;
        let built_in = |given: &Option<PathBuf>, name: &str, contents: &str| match given {
            Some(path) => Ok(path.clone()),
            None => {
                let path = dir.join(name);
                write(&path, contents).map(|()| path)
            }
        };
        let evaluation_config = built_in(
            &settings.evaluation_config,
            "evaluation-config.yaml",
            DEFAULT_EVALUATION_CONFIG,
        )?;
        let scenario = built_in(&settings.scenario, "scenario.yaml", DEFAULT_SCENARIO)?;
        let decay_info = dir.join("decay-info.json");
        match std::fs::remove_file(&decay_info) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(output_error(&decay_info)(err)),
        }
        Ok(PluginFiles {
            evaluation_config,
            scenario,
            decay_info,
        })
    }
}

/// The stages' environment: the simulation's defaults, what the simulation
/// itself must set (where the service is, where the files are, the bounds),
/// then the user's own settings.
fn plugin_env(settings: &Settings, base_url: &str, files: &PluginFiles) -> Vec<(String, OsString)> {
    let mut env: Vec<(String, OsString)> = DEFAULT_PLUGIN_ENV
        .iter()
        .map(|(key, value)| (key.to_string(), OsString::from(value)))
        .collect();
    env.extend([
        ("gooseHost".to_string(), OsString::from(base_url)),
        (
            "scenarioFilePath".to_string(),
            files.scenario.clone().into_os_string(),
        ),
        (
            "evaluationConfigFilePath".to_string(),
            files.evaluation_config.clone().into_os_string(),
        ),
        (
            "decayInfoFilePath".to_string(),
            files.decay_info.clone().into_os_string(),
        ),
        (
            "minReplicas".to_string(),
            settings.bounds.min.to_string().into(),
        ),
        (
            "maxReplicas".to_string(),
            settings.bounds.max.to_string().into(),
        ),
    ]);
    env.extend(
        settings
            .plugin_env
            .iter()
            .map(|(key, value)| (key.clone(), OsString::from(value))),
    );
    env
}

/// The evaluation config's targets, read leniently: only what the simulator
/// needs to judge traffic, every other key ignored.
#[derive(Deserialize)]
struct TargetsOnly {
    #[serde(default)]
    targets: Vec<LatencyTarget>,
}

/// The first target of the evaluation config that the simulator can judge
/// background traffic on; `None` if there is none or the file does not parse
/// (the evaluate stage will say what is wrong with it).
fn read_target(path: &Path) -> Option<LatencyTarget> {
    let text = std::fs::read_to_string(path).ok()?;
    let config: TargetsOnly = serde_saphyr::from_str(&text).ok()?;
    config
        .targets
        .into_iter()
        .find(LatencyTarget::is_computable)
}

/// The simulated Deployment as the CPA would read it from the API.
fn deployment(replicas: u32) -> Resource {
    Resource {
        api_version: Some("apps/v1".into()),
        kind: Some("Deployment".into()),
        metadata: ObjectMeta {
            name: RESOURCE_NAME.into(),
            namespace: Some("default".into()),
        },
        spec: Some(ResourceSpec {
            replicas: Some(replicas),
        }),
        status: None,
    }
}

/// The CPA's side of the loop: runs the stages, scales the replicas.
struct Cpa<'a> {
    settings: &'a Settings,
    capacity: &'a Capacity,
    env: Vec<(String, OsString)>,
    target: Option<&'a LatencyTarget>,
    stabilization: Stabilization,
    /// `(seconds since start, replicas from then on)`.
    changes: Vec<(f64, u32)>,
    start: Instant,
}

impl Cpa<'_> {
    /// One interval, begun at `at` with the profile offering `rate` requests/s.
    async fn interval(&mut self, at: Duration, rate: f64) -> IntervalRecord {
        let replicas = self.capacity.desired();
        let mut record = IntervalRecord {
            at_seconds: at.as_secs_f64(),
            offered_requests_per_second: rate,
            replicas,
            serving_replicas: self.capacity.serving(),
            measured_mean_ms: None,
            measured_p95_ms: None,
            evaluated_replicas: None,
            decided_replicas: None,
            outcome: IntervalOutcome::Skipped,
            reason: String::new(),
            metric_seconds: None,
            evaluate_seconds: None,
        };
        match self.stages(replicas, &mut record).await {
            Ok(evaluated) => self.apply(evaluated, replicas, &mut record),
            Err(reason) => {
                record.outcome = IntervalOutcome::Skipped;
                record.reason = reason;
            }
        }
        self.log(&record);
        record
    }

    /// Runs the metric and evaluate stages; the evaluated `targetReplicas`, or
    /// why the interval is skipped.
    async fn stages(&self, replicas: u32, record: &mut IntervalRecord) -> Result<i32, String> {
        let run_type = self.settings.run_type;
        let resource = deployment(replicas);
        let metric_input = MetricInfo {
            resource: resource.clone(),
            run_type,
        };
        let metric_json = serde_json::to_vec(&metric_input).unwrap_or_default();
        let metric = self
            .settings
            .metric
            .run(&metric_json, &self.env)
            .await
            .map_err(|err| stage_failed("metric", &err))?;
        record.metric_seconds = Some(metric.elapsed.as_secs_f64());
        log_stderr("metric", &metric.stderr);
        match cpa::parse_report("metric stdout", metric.stdout.as_bytes()) {
            Ok(report) => {
                if let Some(stats) = measured(&report, self.target) {
                    record.measured_mean_ms = Some(stats.mean_ms);
                    record.measured_p95_ms = Some(stats.p95_ms);
                }
            }
            // The CPA hands stdout on verbatim; the evaluate stage will refuse it.
            Err(err) => tracing::warn!("the metric stage printed no latency report: {err}"),
        }

        let evaluate_input = EvaluateInfo {
            metrics: vec![Metric {
                resource: RESOURCE_NAME.into(),
                value: metric.stdout,
            }],
            resource: Some(resource),
            run_type,
        };
        let evaluate_json = serde_json::to_vec(&evaluate_input).unwrap_or_default();
        let evaluate = self
            .settings
            .evaluate
            .run(&evaluate_json, &self.env)
            .await
            .map_err(|err| stage_failed("evaluate", &err))?;
        record.evaluate_seconds = Some(evaluate.elapsed.as_secs_f64());
        log_stderr("evaluate", &evaluate.stderr);
        record.reason = last_line(&evaluate.stderr)
            .map(|line| without_level(&line).to_string())
            .unwrap_or_default();
        let evaluation: Evaluation =
            serde_json::from_str(evaluate.stdout.trim()).map_err(|err| {
                format!(
                    "evaluate stage printed '{}': {err}; expected {{\"targetReplicas\": N}}",
                    evaluate.stdout.trim()
                )
            })?;
        record.evaluated_replicas = Some(evaluation.target_replicas);
        Ok(evaluation.target_replicas)
    }

    /// What the CPA does with the evaluation.
    fn apply(&mut self, evaluated: i32, replicas: u32, record: &mut IntervalRecord) {
        if self.settings.run_type.is_dry_run() {
            record.outcome = IntervalOutcome::DryRun;
            return;
        }
        let now = self.start.elapsed();
        match scaling::scale(
            evaluated,
            replicas,
            self.settings.bounds,
            &mut self.stabilization,
            now,
        ) {
            Scaling::Disabled => {
                record.outcome = IntervalOutcome::Disabled;
                record.reason = format!(
                    "autoscaling disabled: 0 replicas with minReplicas {}",
                    self.settings.bounds.min
                );
            }
            Scaling::To { replicas: to, .. } => {
                record.decided_replicas = Some(to);
                if to == replicas {
                    record.outcome = IntervalOutcome::Unchanged;
                } else {
                    self.capacity.scale_to(to);
                    self.changes.push((now.as_secs_f64(), to));
                    record.outcome = IntervalOutcome::Scaled;
                }
            }
        }
    }

    fn log(&self, record: &IntervalRecord) {
        let ms = |value: Option<f64>| value.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"));
        let decision = match (
            record.outcome,
            record.decided_replicas,
            record.evaluated_replicas,
        ) {
            (IntervalOutcome::Scaled, Some(to), _) => format!("-> {to}"),
            (IntervalOutcome::Unchanged, Some(to), _) => format!("= {to}"),
            (IntervalOutcome::DryRun, _, Some(evaluated)) => format!("dry run {evaluated}"),
            (outcome, _, _) => outcome.as_str().to_string(),
        };
        tracing::info!(
            "t={:>4.0}s load {:>5.0} rps replicas {:>2} ({} serving) mean {:>7} ms p95 {:>7} ms {:<10} {}",
            record.at_seconds,
            record.offered_requests_per_second,
            record.replicas,
            record.serving_replicas,
            ms(record.measured_mean_ms),
            ms(record.measured_p95_ms),
            decision,
            record.reason
        );
    }
}

/// One line for a failed stage; its whole stderr goes to the log, as the CPA
/// logs it.
fn stage_failed(stage: &str, err: &MethodError) -> String {
    if let Some(stderr) = err.stderr() {
        for line in stderr.lines().filter(|line| !line.trim().is_empty()) {
            tracing::warn!("{stage} stderr: {line}");
        }
    }
    format!("{stage} stage: {err}")
}

fn log_stderr(stage: &str, stderr: &str) {
    for line in stderr.lines().filter(|line| !line.trim().is_empty()) {
        tracing::debug!("{stage} stderr: {line}");
    }
}

/// A log line without its leading level word (`INFO`, `WARN`, ...).
fn without_level(line: &str) -> &str {
    let trimmed = line.trim_start();
    for level in ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"] {
        if let Some(rest) = trimmed.strip_prefix(level)
            && rest.starts_with(char::is_whitespace)
        {
            return rest.trim_start();
        }
    }
    trimmed
}

/// The report's figures for the target's request, else for its busiest request.
fn measured<'r>(
    report: &'r LatencyReport,
    target: Option<&LatencyTarget>,
) -> Option<&'r crate::report::RequestStats> {
    target
        .and_then(|t| report.request(&t.method, &t.endpoint))
        .or_else(|| report.requests.values().max_by_key(|stats| stats.count))
}

/// Samples `(replicas, serving, queued)` at the start of every second until
/// `duration` has passed.
async fn sample_replicas(
    capacity: Capacity,
    start: Instant,
    duration: Duration,
) -> Vec<(u32, u32, u64)> {
    let mut samples = Vec::new();
    let seconds = duration.as_secs_f64().ceil() as u64;
    for second in 0..seconds {
        tokio::time::sleep_until(start + Duration::from_secs(second)).await;
        samples.push((
            capacity.desired(),
            capacity.serving(),
            capacity.queued() as u64,
        ));
    }
    samples
}

/// Joins the traffic log and the replica samples into one record per second.
fn second_records(
    profile: &LoadProfile,
    traffic: &[SecondTraffic],
    samples: &[(u32, u32, u64)],
) -> Vec<SecondRecord> {
    let empty = SecondTraffic::default();
    samples
        .iter()
        .enumerate()
        .map(|(second, &(replicas, serving_replicas, queued))| {
            let t = traffic.get(second).unwrap_or(&empty);
            SecondRecord {
                second: second as u32,
                offered_requests_per_second: profile
                    .rate_at(Duration::from_secs(second as u64))
                    .unwrap_or(0.0),
                sent: t.sent,
                dropped: t.dropped,
                succeeded: t.succeeded,
                failed: t.failed,
                mean_ms: t.mean_ms(),
                p95_ms: t.percentile_ms(0.95),
                replicas,
                serving_replicas,
                queued,
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn summarize(
    settings: &Settings,
    intervals: &[IntervalRecord],
    changes: &[(f64, u32)],
    traffic: &[SecondTraffic],
    target: Option<LatencyTarget>,
    end_seconds: f64,
    run_seconds: f64,
    files: OutputFiles,
) -> Summary {
    let (scale_ups, scale_downs) = timeline::scale_events(changes);
    let latencies: Vec<f64> = traffic
        .iter()
        .flat_map(|s| s.latencies_ms.iter().copied())
        .collect();
    let requests = RequestTotals {
        sent: traffic.iter().map(|s| s.sent).sum(),
        succeeded: traffic.iter().map(|s| s.succeeded).sum(),
        failed: traffic.iter().map(|s| s.failed).sum(),
        dropped: traffic.iter().map(|s| s.dropped).sum(),
        mean_ms: (!latencies.is_empty())
            .then(|| latencies.iter().sum::<f64>() / latencies.len() as f64),
        p95_ms: traffic::percentile(&latencies, 0.95),
    };
    let seconds_over_target = target.as_ref().map(|target| {
        traffic
            .iter()
            .filter(|second| timeline::second_over_target(target, second))
            .count() as u32
    });
    Summary {
        profile_seconds: end_seconds,
        run_seconds,
        run_type: match settings.run_type {
            RunType::Scaler => "scaler",
            RunType::Api => "api",
            RunType::ApiDryRun => "api_dry_run",
        }
        .to_string(),
        intervals: intervals.len() as u32,
        skipped_intervals: intervals
            .iter()
            .filter(|i| i.outcome == IntervalOutcome::Skipped)
            .count() as u32,
        scale_events: scale_ups + scale_downs,
        scale_ups,
        scale_downs,
        initial_replicas: settings.initial_replicas,
        peak_replicas: changes.iter().map(|(_, r)| *r).max().unwrap_or(0),
        final_replicas: changes.last().map_or(0, |(_, r)| *r),
        replica_seconds: timeline::replica_seconds(changes, end_seconds),
        target,
        seconds_over_target,
        requests,
        files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_word_is_dropped_from_a_reason() {
        assert_eq!(
            without_level("INFO scale up 1 -> 2: slow"),
            "scale up 1 -> 2: slow"
        );
        assert_eq!(without_level("  WARN  x"), "x");
        assert_eq!(without_level("INFORMATION"), "INFORMATION");
        assert_eq!(without_level("keep 3: fine"), "keep 3: fine");
    }

    #[test]
    fn the_built_in_profile_and_target_are_usable() {
        let profile = LoadProfile::parse_str(DEFAULT_PROFILE, Path::new("built-in")).unwrap();
        assert!(profile.duration() <= Duration::from_secs(150));
        let config: TargetsOnly = serde_saphyr::from_str(DEFAULT_EVALUATION_CONFIG).unwrap();
        let target = config
            .targets
            .into_iter()
            .find(LatencyTarget::is_computable);
        assert!(
            target.is_some(),
            "the built-in evaluation config has a latency target"
        );
    }

    #[test]
    fn the_deployment_is_a_v2_resource_with_replicas() {
        let json = serde_json::to_value(MetricInfo {
            resource: deployment(3),
            run_type: RunType::Scaler,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"resource": {"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "fibonacci", "namespace": "default"},
                "spec": {"replicas": 3}}, "runType": "scaler"})
        );
        let parsed = cpa::parse_metric_input(json.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.resource.replicas(), Some(3));
    }

    #[test]
    fn a_missing_stage_executable_is_refused_before_anything_runs() {
        let settings = Settings::with_commands("/nonexistent/gpa-metric".into(), "/bin/sh".into());
        assert_eq!(
            settings.validate().unwrap_err().to_string(),
            "metric command '/nonexistent/gpa-metric' does not exist; expected an executable file \
             (build all three executables with `cargo build --release`, or name one with \
             --metric-command)"
        );
        // A bare name is left to the PATH lookup, as the CPA's entrypoint would be.
        let settings = Settings::with_commands("sh".into(), "/bin/sh".into());
        assert!(settings.validate().is_ok());
    }

    #[test]
    fn settings_out_of_range_are_refused_by_name() {
        let mut settings = Settings::with_commands("sh".into(), "sh".into());
        settings.bounds = Bounds { min: 4, max: 2 };
        assert_eq!(
            settings.validate().unwrap_err().to_string(),
            "setting minReplicas '4' is out of range; expected at most maxReplicas"
        );
        settings.bounds = Bounds { min: 1, max: 2 };
        settings.capacity.concurrency_per_replica = 0;
        assert_eq!(
            settings.validate().unwrap_err().to_string(),
            "setting concurrencyPerReplica '0' is out of range; expected 1 to 10000"
        );
    }
}
