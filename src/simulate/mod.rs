//! `gpa simulate`: the whole CPA autoscaling loop on one machine, with no
//! cluster, as an executable specification of the CPA (docs/cpa-contract.md).
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
//!
//! Its parts: [`settings`] (the flags and what they become), [`interval`]
//! (one interval of the CPA loop), [`output`] (the output folder), and
//! [`run`] here, which ties them together.

pub mod capacity;
pub mod chart;
pub mod compare;
pub mod cpa_runner;
pub mod interrupt;
pub mod interval;
pub mod latency_target;
pub mod metrics_server;
pub mod oracle;
pub mod output;
pub mod profile;
pub mod prometheus;
pub mod scaling;
pub mod settings;
pub mod shadow;
pub mod timeline;
pub mod traffic;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use capacity::Capacity;
use interval::Cpa;
use metrics_server::MetricsServer;
use output::PluginFiles;
use profile::{LoadProfile, ProfileError};
pub use settings::{Flags, Settings, sibling_executable};
use timeline::{IntervalRecord, LatencyTarget, Recording, SecondRecord, Summary};
use traffic::{SecondTraffic, TrafficLog};

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
    /// A file named on the command line is not there.
    #[error("{what} '{path}' is not a file; expected an existing file")]
    MissingFile {
        /// What the file is for, e.g. `evaluation config for --compare`.
        what: &'static str,
        /// The path given.
        path: PathBuf,
    },
    /// The load profile is unreadable or invalid.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// A file of the output folder could not be written or removed.
    #[error("writing '{path}' failed: {error}; expected a writable output folder (--output-dir)")]
    Output {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error (said once: not a chained source).
        error: std::io::Error,
    },
    /// The simulated service could not listen on 127.0.0.1.
    #[error("starting the simulated service on 127.0.0.1 failed: {0}")]
    Listen(std::io::Error),
    /// The chart could not be drawn.
    #[error(transparent)]
    Chart(#[from] chart::ChartError),
    /// `--prometheus` without a `prometheus` executable on the PATH.
    #[error(
        "--prometheus: no prometheus executable on the PATH; expected Prometheus 2.x installed, \
         e.g. `apt-get install -y --no-install-recommends prometheus` (Debian, Ubuntu)"
    )]
    NoPrometheus,
    /// The Prometheus of `--prometheus` did not start.
    #[error("--prometheus: starting Prometheus failed: {0}")]
    Prometheus(String),
    /// SIGINT and SIGTERM could not be listened for.
    #[error("listening for SIGINT and SIGTERM failed: {0}; expected a Unix system")]
    Signals(std::io::Error),
}

/// Runs a whole simulation and writes its chart and timeline into the output
/// folder. Needs a multi-threaded tokio runtime.
pub async fn run(settings: &Settings) -> Result<Summary, SimulateError> {
    Ok(run_recorded(settings).await?.summary)
}

/// A finished simulation: its summary and its seconds.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The summary, as printed.
    pub summary: Summary,
    /// One record per second, as in `timeline.json`.
    pub seconds: Vec<SecondRecord>,
    /// Why the run counts as failed though it finished: every interval was
    /// skipped, so nothing was decided (see [`undecided`]).
    pub undecided: Option<String>,
}

/// [`run`], also returning the seconds recorded.
///
/// SIGINT or SIGTERM ends the run early ([`interrupt`]): the interval under
/// way is abandoned (its stage processes killed), the traffic stops, and
/// what was recorded up to then is written and summarised, with
/// `interrupted` set.
pub async fn run_recorded(settings: &Settings) -> Result<Finished, SimulateError> {
    settings.validate()?;
    let profile = load_profile(settings)?;
    let settings = &settings.with_profile(&profile);
    let files = PluginFiles::prepare(settings)?;
    let target = timeline::read_target(&files.evaluation_config);
    log_target(target.as_ref(), &files.evaluation_config);
    let mut interrupts = interrupt::Interrupts::listen().map_err(SimulateError::Signals)?;
    let capacity = Capacity::start(settings.capacity, settings.initial_replicas);
    let (base_url, server) = serve(&capacity).await?;
    let prometheus = prometheus::start_if_asked(settings, &base_url, &files).await?;
    let settings = &prometheus::with_url(settings, prometheus.as_ref());
    log_service(settings, &base_url, &profile);

    let start = Instant::now();
    let log = TrafficLog::default();
    let traffic = tokio::spawn(traffic::send(
        profile.clone(),
        format!("{base_url}{}", profile.path),
        settings.traffic.clone(),
        start,
        log.clone(),
    ));
    let samples = Samples::default();
    let replica_sampling = tokio::spawn(sample_replicas(
        capacity.clone(),
        start,
        profile.duration(),
        samples.clone(),
    ));
    let (metrics_server, sampling) = MetricsServer::start(
        capacity.clone(),
        settings.metrics_window,
        settings.capacity.concurrency_per_replica,
        start,
    );
    let env = interval::plugin_env(settings, &base_url, &files);
    let mut cpa = Cpa::new(settings, &capacity, env, target.as_ref(), start)
        .with_metrics_server(metrics_server);
    let mut intervals = Vec::new();
    let interrupted = tokio::select! {
        () = run_intervals(&mut cpa, &profile, settings.interval, start, &mut intervals) => None,
        signal = interrupts.received() => Some(signal),
    };
    let changes = cpa.into_changes();
    sampling.abort();

    match interrupted {
        // The profile is over: let the last requests finish, then stop.
        None => {
            let _ = traffic.await;
            let _ = replica_sampling.await;
        }
        Some(signal) => {
            tracing::warn!(
                "{}: stopping; writing what was measured in the {:.1} s so far",
                signal.name(),
                start.elapsed().as_secs_f64()
            );
            traffic.abort();
            replica_sampling.abort();
        }
    }
    let samples = samples.take();
    server.abort();
    if let Some(prometheus) = prometheus {
        prometheus.stop().await;
    }
    let run_seconds = start.elapsed().as_secs_f64();

    let traffic_seconds = log.snapshot();
    let end_seconds = match interrupted {
        None => profile.duration().as_secs_f64(),
        Some(_) => run_seconds.min(profile.duration().as_secs_f64()),
    };
    let rates = offered_rates(&profile);
    let mut oracle = target.as_ref().map_or_else(Vec::new, |target| {
        timeline::oracle_replicas(target, &rates, &settings.capacity)
    });
    let mut window_oracle = target.as_ref().map_or_else(Vec::new, |target| {
        timeline::window_oracle_replicas(
            target,
            &oracle,
            &rates,
            &settings.capacity,
            settings.metrics_window.as_secs().max(1) as usize,
        )
    });
    oracle.truncate(end_seconds.ceil() as usize);
    window_oracle.truncate(oracle.len());
    let mut summary = timeline::summarize(
        Recording {
            run_type: settings.run_type,
            intervals: &intervals,
            changes: &changes,
            traffic: &traffic_seconds,
            target: target.as_ref(),
            oracle: &oracle,
            window_oracle: &window_oracle,
            end_seconds,
            run_seconds,
        },
        output::output_files(&settings.output_dir),
    );
    summary.interrupted = interrupted.is_some();
    summary.interrupted_by = interrupted;
    let undecided = undecided(&intervals);
    let seconds = second_records(&profile, &traffic_seconds, &samples, &oracle);
    output::write_results(
        settings,
        &summary,
        seconds.clone(),
        intervals,
        &changes,
        end_seconds,
    )?;
    log_done(&summary);
    Ok(Finished {
        summary,
        seconds,
        undecided,
    })
}

/// Why a run decided nothing though it ran intervals: every one was skipped
/// (a stage failed), with the first one's reason; `None` when an interval
/// decided, or none was skipped (autoscaling disabled throughout, no
/// interval at all). The summary then makes no claim about the target
/// (see [`timeline::summarize`]).
pub fn undecided(intervals: &[IntervalRecord]) -> Option<String> {
    let skipped = intervals
        .iter()
        .filter(|i| i.outcome == timeline::IntervalOutcome::Skipped)
        .count();
    if skipped == 0 || intervals.iter().any(|i| i.outcome.decided()) {
        return None;
    }
    Some(format!(
        "no interval decided: {skipped} of {} interval(s) skipped, the first because {}; expected \
         at least one interval in which both stages succeed (see intervals.csv and the log above)",
        intervals.len(),
        intervals
            .iter()
            .find(|i| i.outcome == timeline::IntervalOutcome::Skipped)
            .map_or("", |i| i.reason.as_str())
    ))
}

/// The load profile the settings name, else the built-in one.
fn load_profile(settings: &Settings) -> Result<LoadProfile, ProfileError> {
    match &settings.profile {
        Some(path) => LoadProfile::load(path),
        None => LoadProfile::parse_str(DEFAULT_PROFILE, Path::new("<built-in profiles/step.yaml>")),
    }
}

fn log_target(target: Option<&LatencyTarget>, evaluation_config: &Path) {
    match target {
        Some(t) => tracing::info!(
            "judging the traffic on the evaluation config's target {} {} {} {}",
            t.method,
            t.endpoint,
            t.kind,
            t.target
        ),
        None => tracing::info!(
            "no target in '{}' the simulator can judge traffic on; secondsOverTarget will be null",
            evaluation_config.display()
        ),
    }
}

fn log_service(settings: &Settings, base_url: &str, profile: &LoadProfile) {
    tracing::info!(
        "simulated service on {base_url}: {} replica(s), {} request(s) at once each, {} ms per request, {} ms start-up, {} ms longest queue wait; profile of {:.0} s",
        settings.initial_replicas,
        settings.capacity.concurrency_per_replica,
        settings.capacity.service_time.as_millis(),
        settings.capacity.startup_delay.as_millis(),
        settings.capacity.max_queue_time.as_millis(),
        profile.duration().as_secs_f64()
    );
    for (name, value) in &profile.plugin_settings {
        tracing::info!("the profile sets the plugin setting {name}={value}");
    }
    if let Some(start_at) = settings.start_at {
        tracing::info!(
            "the simulated clock starts at {start_at}: the evaluate stage gets it plus the time elapsed as gpaNow"
        );
    }
}

/// Starts the example service behind `capacity` on a free port of
/// 127.0.0.1, with `GET /metrics` counting every request that reaches it
/// (the 503s of the capacity model too); its base URL and the task serving
/// it.
pub async fn serve(capacity: &Capacity) -> Result<(String, JoinHandle<()>), SimulateError> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(SimulateError::Listen)?;
    let address = listener.local_addr().map_err(SimulateError::Listen)?;
    // The counter wraps the capacity model, so it counts the 503s too.
    let metrics = fibonacci_service::metrics::RequestMetrics::new();
    let app = metrics.serve(capacity.layer(fibonacci_service::router()));
    let server = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!("the simulated service stopped: {err}");
        }
    });
    Ok((format!("http://{address}"), server))
}

/// Runs one CPA interval every `every` from `start` until the profile ends,
/// pushing each onto `intervals` as it ends (so an interrupted run keeps the
/// ones it finished).
async fn run_intervals(
    cpa: &mut Cpa<'_>,
    profile: &LoadProfile,
    every: Duration,
    start: Instant,
    intervals: &mut Vec<IntervalRecord>,
) {
    let mut ticker = tokio::time::interval_at(start + every, every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        ticker.tick().await;
        let at = start.elapsed();
        let Some(rate) = profile.rate_at(at) else {
            break;
        };
        intervals.push(cpa.interval(at, rate).await);
    }
}

fn log_done(summary: &Summary) {
    let or_unknown = |figure: Option<String>| figure.unwrap_or_else(|| "?".to_string());
    let done = match summary.interrupted_by {
        Some(signal) => format!("interrupted by {} after", signal.name()),
        None => "done in".to_string(),
    };
    tracing::info!(
        "{done} {:.0} s: {} scale event(s) ({} up, {} down, {} reversal(s)), peak {} replica(s), {:.0} replica-seconds (oracle {}, ratio {}), {} s over target, reaction {} s; chart in {}",
        summary.run_seconds,
        summary.scale_events,
        summary.scale_ups,
        summary.scale_downs,
        summary.reversals,
        summary.peak_replicas,
        summary.replica_seconds,
        or_unknown(summary.oracle_replica_seconds.map(|s| format!("{s:.0}"))),
        or_unknown(summary.replica_seconds_ratio.map(|r| format!("{r:.2}"))),
        or_unknown(summary.seconds_over_target.map(|s| s.to_string())),
        or_unknown(summary.reaction_seconds.map(|s| s.to_string())),
        summary.files.chart.display()
    );
}

/// `(replicas, serving, queued)` at the start of each second so far, shared
/// with the task taking them so an interrupted run keeps them.
#[derive(Debug, Clone, Default)]
struct Samples(std::sync::Arc<std::sync::Mutex<Vec<(u32, u32, u64)>>>);

impl Samples {
    fn push(&self, sample: (u32, u32, u64)) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(sample);
    }

    fn take(&self) -> Vec<(u32, u32, u64)> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// Samples `(replicas, serving, queued)` at the start of every second into
/// `samples` until `duration` has passed.
async fn sample_replicas(capacity: Capacity, start: Instant, duration: Duration, samples: Samples) {
    let seconds = duration.as_secs_f64().ceil() as u64;
    for second in 0..seconds {
        tokio::time::sleep_until(start + Duration::from_secs(second)).await;
        samples.push((
            capacity.desired(),
            capacity.serving(),
            capacity.queued() as u64,
        ));
    }
}

/// The rate the profile offers at the start of each of its seconds, the last
/// (perhaps partial) one included, requests/s.
fn offered_rates(profile: &LoadProfile) -> Vec<f64> {
    let seconds = profile.duration().as_secs_f64().ceil() as u64;
    (0..seconds)
        .map(|second| profile.rate_at(Duration::from_secs(second)).unwrap_or(0.0))
        .collect()
}

/// Joins the traffic log, the replica samples and the oracle's replicas
/// (empty without a target) into one record per second.
fn second_records(
    profile: &LoadProfile,
    traffic: &[SecondTraffic],
    samples: &[(u32, u32, u64)],
    oracle: &[u32],
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
                oracle_replicas: oracle.get(second).copied(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_profile_and_target_are_usable() {
        let profile = LoadProfile::parse_str(DEFAULT_PROFILE, Path::new("built-in")).unwrap();
        assert!(profile.duration() <= Duration::from_secs(150));
        assert!(
            timeline::parse_target(DEFAULT_EVALUATION_CONFIG).is_some(),
            "the built-in evaluation config has a latency target"
        );
    }

    #[test]
    fn the_saturation_profile_queues_requests_past_the_probe_s_timeout() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/saturation.yaml");
        let profile = LoadProfile::load(&path).unwrap();
        let timeout_ms: u64 = profile.plugin_settings["gooseRequestTimeout"]
            .parse()
            .unwrap();
        let settings = Settings::default().with_profile(&profile);
        // A queued request outwaits the probe's timeout, and the background
        // traffic's: the probe times out rather than being answered 503.
        assert!(settings.capacity.max_queue_time > Duration::from_millis(timeout_ms));
        assert!(settings.capacity.max_queue_time > settings.traffic.request_timeout);
        // The load needs several replicas.
        let peak = profile
            .steps
            .iter()
            .map(|s| s.requests_per_second)
            .fold(0.0, f64::max);
        assert!(peak > 4.0 * settings.capacity.requests_per_second_per_replica());
    }
}
