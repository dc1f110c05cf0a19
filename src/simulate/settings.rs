//! What a simulation is run with: `gpa simulate`'s flags ([`Flags`], the one
//! place each default is written), the [`Settings`] built from them, and
//! their validation before anything runs.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use super::SimulateError;
use super::capacity::CapacitySettings;
use super::cpa_runner::ShellMethod;
use super::profile::LoadProfile;
use super::traffic::TrafficSettings;
use crate::cpa::RunType;
use crate::evaluate::bounds::Bounds;

/// `gpa simulate`'s flags, each with its default. [`Settings`] is built from
/// them, so `Settings::default()` is `gpa simulate` with no flags.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct Flags {
    /// Load profile (YAML); default: the built-in profiles/step.yaml.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Evaluation config handed to gpa-evaluate; default: the built-in one,
    /// written to the output folder.
    #[arg(long, value_name = "FILE")]
    pub evaluation_config: Option<PathBuf>,
    /// Scenario handed to gpa-metric; default: the built-in one, written to
    /// the output folder.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Folder for chart.svg, seconds.csv, intervals.csv, timeline.json and the
    /// decay state; created if missing.
    #[arg(long, value_name = "DIR", default_value = "sim-out")]
    pub output_dir: PathBuf,
    /// The CPA's interval, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub interval_ms: u64,
    /// The CPA's minReplicas.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_replicas: u32,
    /// The CPA's maxReplicas.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_replicas: u32,
    /// Replicas of the simulated Deployment at the start (0 with minReplicas
    /// above 0 shows the CPA's "autoscaling disabled").
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub initial_replicas: u32,
    /// The CPA's downscaleStabilization, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub downscale_stabilization: u64,
    /// Run type handed to both stages; api_dry_run decides but applies nothing.
    #[arg(long, value_name = "TYPE", value_enum, default_value_t = RunType::Scaler)]
    pub run_type: RunType,
    /// Requests one simulated replica serves at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub concurrency_per_replica: u32,
    /// Time one request takes to serve, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 50)]
    pub service_time_ms: u64,
    /// Time a new replica takes before it serves, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    pub startup_delay_ms: u64,
    /// Longest a request waits for a free replica before it is answered 503,
    /// milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1500)]
    pub max_queue_ms: u64,
    /// The metrics server's window, milliseconds: how often it samples each
    /// pod's CPU, and what each sample averages over (the CPA hands the
    /// metric stage the latest in kubernetesMetrics).
    #[arg(long, value_name = "MS", default_value_t = 15000)]
    pub metrics_window_ms: u64,
    /// Replicas that never get ready (a Pod crash-looping on a bad node):
    /// they count in the Deployment's replicas and serve nothing.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub never_ready_replicas: u32,
    /// Most background requests waiting at once; more are dropped.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub max_in_flight: usize,
    /// How long a background request waits for its answer, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub request_timeout_ms: u64,
    /// The metric method's entrypoint; default: gpa-metric beside gpa.
    #[arg(long, value_name = "PATH")]
    pub metric_command: Option<PathBuf>,
    /// The metric method's timeout, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10000)]
    pub metric_timeout_ms: u64,
    /// The evaluate method's entrypoint; default: gpa-evaluate beside gpa.
    #[arg(long, value_name = "PATH")]
    pub evaluate_command: Option<PathBuf>,
    /// The evaluate method's timeout, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2500)]
    pub evaluate_timeout_ms: u64,
    /// A plugin setting for both stages' environment, like a CR's
    /// spec.config entry (repeatable), e.g. --set gooseUsers=4.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_setting)]
    pub set: Vec<(String, String)>,
    /// Run the profile once under each of these evaluation configs, each into
    /// its own subfolder of the output folder, and compare them: a table on
    /// stderr, the rows as JSON on stdout, compare.svg.
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with = "evaluation_config")]
    pub compare: Vec<PathBuf>,
    /// The simulated clock's start, RFC 3339 with an offset (e.g.
    /// 2026-03-29T00:59:00+01:00): the evaluate stage gets the start plus
    /// the time elapsed as gpaNow at every interval, so a schedule window can
    /// be watched opening [default: the system clock].
    #[arg(long, value_name = "RFC3339")]
    pub start_at: Option<jiff::Timestamp>,
    /// Start a real Prometheus (the `prometheus` executable on the PATH) on
    /// 127.0.0.1 scraping the simulated service's /metrics every second; the
    /// stages get its URL as prometheusUrl, and the built-in evaluation
    /// config the load rules on the CPU and a load.prometheus query.
    #[arg(long)]
    pub prometheus: bool,
}

impl Default for Flags {
    /// The flags of `gpa simulate` given alone: every default.
    fn default() -> Self {
        #[derive(Parser)]
        struct NoFlags {
            #[command(flatten)]
            flags: Flags,
        }
        // No flag is required, so an empty command line always parses.
        NoFlags::parse_from(["gpa simulate"]).flags
    }
}

/// A `--set NAME=VALUE` argument: a name either stage reads (or an
/// UPPER_CASE variable for a scenario's headers), not one the simulation
/// sets itself, and a value, which may be empty (an entry set to "").
fn parse_setting(text: &str) -> Result<(String, String), String> {
    let Some((name, value)) = text.split_once('=') else {
        // a name the simulation may not take says so first: a value would
        // not help it
        super::profile::check_plugin_setting_name(text)?;
        return Err(format!(
            "setting '{text}' has no value; expected NAME=VALUE, e.g. {text}=VALUE"
        ));
    };
    if name.is_empty() {
        return Err(format!(
            "setting '{text}' has no name; expected NAME=VALUE, e.g. gooseUsers=4"
        ));
    }
    super::profile::check_plugin_setting_name(name)?;
    Ok((name.to_string(), value.to_string()))
}

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
    /// The metrics server's window: its sampling period, and what each CPU
    /// sample averages over.
    pub metrics_window: Duration,
    /// How the background traffic is sent.
    pub traffic: TrafficSettings,
    /// The CPA's `metric` shell method (`gpa-metric`).
    pub metric: ShellMethod,
    /// The CPA's `evaluate` shell method (`gpa-evaluate`).
    pub evaluate: ShellMethod,
    /// Extra plugin settings (`spec.config` entries), set in both stages'
    /// environment after the simulation's own.
    pub plugin_env: Vec<(String, String)>,
    /// Evaluation configs to compare (`--compare`); empty for one run.
    pub compare: Vec<PathBuf>,
    /// The simulated clock's start (`--start-at`); `None`: the system clock
    /// when the run starts.
    pub start_at: Option<jiff::Timestamp>,
    /// Start a real Prometheus for the run (`--prometheus`; see
    /// [`super::prometheus`]).
    pub prometheus: bool,
}

impl Default for Settings {
    /// `gpa simulate`'s defaults, running the stage executables beside the
    /// running executable.
    fn default() -> Self {
        Flags::default().into()
    }
}

impl From<Flags> for Settings {
    fn from(flags: Flags) -> Self {
        let method = |given: Option<PathBuf>, name: &str, timeout_ms: u64| ShellMethod {
            entrypoint: given.unwrap_or_else(|| sibling_executable(name)),
            command: Vec::new(),
            timeout: Duration::from_millis(timeout_ms),
        };
        Settings {
            profile: flags.profile,
            evaluation_config: flags.evaluation_config,
            scenario: flags.scenario,
            output_dir: flags.output_dir,
            interval: Duration::from_millis(flags.interval_ms),
            bounds: Bounds {
                min: flags.min_replicas,
                max: flags.max_replicas,
            },
            initial_replicas: flags.initial_replicas,
            downscale_stabilization: Duration::from_secs(flags.downscale_stabilization),
            run_type: flags.run_type,
            capacity: CapacitySettings {
                concurrency_per_replica: flags.concurrency_per_replica,
                service_time: Duration::from_millis(flags.service_time_ms),
                startup_delay: Duration::from_millis(flags.startup_delay_ms),
                max_queue_time: Duration::from_millis(flags.max_queue_ms),
                never_ready_replicas: flags.never_ready_replicas,
            },
            metrics_window: Duration::from_millis(flags.metrics_window_ms),
            traffic: TrafficSettings {
                max_in_flight: flags.max_in_flight,
                request_timeout: Duration::from_millis(flags.request_timeout_ms),
            },
            metric: method(flags.metric_command, "gpa-metric", flags.metric_timeout_ms),
            evaluate: method(
                flags.evaluate_command,
                "gpa-evaluate",
                flags.evaluate_timeout_ms,
            ),
            plugin_env: flags.set,
            compare: flags.compare,
            start_at: flags.start_at,
            prometheus: flags.prometheus,
        }
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

impl Settings {
    /// These settings with what `profile` brings: its `capacity` keys replace
    /// the flags', its `pluginSettings` go before the `--set` ones (which win).
    pub fn with_profile(&self, profile: &LoadProfile) -> Settings {
        let mut plugin_env: Vec<(String, String)> = profile
            .plugin_settings
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        plugin_env.extend(self.plugin_env.iter().cloned());
        Settings {
            capacity: profile.capacity.apply(self.capacity),
            plugin_env,
            ..self.clone()
        }
    }

    /// Refuses settings out of range and stage executables that are not
    /// there, before anything runs.
    pub fn validate(&self) -> Result<(), SimulateError> {
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
        if self.metrics_window < Duration::from_secs(1) {
            return invalid(
                "metricsWindow",
                format!("{} ms", self.metrics_window.as_millis()),
                "at least 1000 ms",
            );
        }
        if self.traffic.max_in_flight == 0 {
            return invalid("maxInFlight", "0".into(), "at least 1");
        }
        if let Some(missing) = self.compare.iter().find(|config| !config.is_file()) {
            return Err(SimulateError::MissingFile {
                what: "evaluation config for --compare",
                path: missing.clone(),
            });
        }
        if self.prometheus
            && super::prometheus::find_executable(std::env::var_os("PATH").as_deref()).is_none()
        {
            return Err(SimulateError::NoPrometheus);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with_commands(metric: &str, evaluate: &str) -> Settings {
        let mut settings = Settings::default();
        settings.metric.entrypoint = metric.into();
        settings.evaluate.entrypoint = evaluate.into();
        settings
    }

    #[test]
    fn the_defaults_are_those_the_docs_show() {
        let settings = Settings::default();
        assert_eq!(settings.output_dir, PathBuf::from("sim-out"));
        assert_eq!(settings.interval, Duration::from_secs(5));
        assert_eq!(settings.bounds, Bounds { min: 1, max: 10 });
        assert_eq!(settings.run_type, RunType::Scaler);
        assert_eq!(settings.capacity.concurrency_per_replica, 4);
        assert_eq!(settings.capacity.service_time, Duration::from_millis(50));
        assert_eq!(settings.evaluate.timeout, Duration::from_millis(2500));
        assert_eq!(settings.metrics_window, Duration::from_secs(15));
        assert!(settings.metric.entrypoint.ends_with("gpa-metric"));
        assert!(settings.evaluate.entrypoint.ends_with("gpa-evaluate"));
        assert!(settings.plugin_env.is_empty());
    }

    #[test]
    fn a_profile_s_capacity_replaces_the_flags_and_its_settings_yield_to_set() {
        let profile = LoadProfile::parse_str(
            "steps:\n  - durationSeconds: 1\n    requestsPerSecond: 1\n\
             capacity:\n  maxQueueMs: 9000\n\
             pluginSettings:\n  gooseRequestTimeout: 1000\n  gooseUsers: 2\n",
            std::path::Path::new("p.yaml"),
        )
        .unwrap();
        let settings = Settings {
            plugin_env: vec![("gooseUsers".into(), "6".into())],
            ..Settings::default()
        };
        let applied = settings.with_profile(&profile);
        assert_eq!(applied.capacity.max_queue_time, Duration::from_secs(9));
        assert_eq!(
            applied.capacity.service_time,
            settings.capacity.service_time
        );
        // Later entries win in the stages' environment: --set comes last.
        assert_eq!(
            applied.plugin_env,
            [
                ("gooseRequestTimeout".to_string(), "1000".to_string()),
                ("gooseUsers".to_string(), "2".to_string()),
                ("gooseUsers".to_string(), "6".to_string())
            ]
        );
    }

    #[test]
    fn the_simulated_clock_starts_at_the_instant_given() {
        #[derive(Parser)]
        struct Command {
            #[command(flatten)]
            flags: Flags,
        }
        let parse = |value: &str| Command::try_parse_from(["gpa simulate", "--start-at", value]);
        assert_eq!(Settings::default().start_at, None);
        let settings: Settings = parse("2026-03-29T00:59:00+01:00").unwrap().flags.into();
        let want = "2026-03-28T23:59:00Z".parse().unwrap();
        assert_eq!(settings.start_at, Some(want));
        assert!(parse("00:59").is_err());
    }

    #[test]
    fn a_setting_needs_a_name_and_a_value() {
        assert_eq!(
            parse_setting("gooseUsers=4"),
            Ok(("gooseUsers".into(), "4".into()))
        );
        assert_eq!(
            parse_setting("API_TOKEN=b=c"),
            Ok(("API_TOKEN".into(), "b=c".into()))
        );
        assert_eq!(parse_setting("gooseHost="), Err("setting 'gooseHost' is set by the simulation itself; expected a plugin setting such as gooseRequestTimeout or gooseUsers (set the scenario, the evaluation config, the output folder and the bounds with gpa simulate's flags)".into()));
        assert!(
            parse_setting("gooseUser=3")
                .unwrap_err()
                .ends_with("tip: a similar setting exists: 'gooseUsers'")
        );
        assert_eq!(
            parse_setting("=4").unwrap_err(),
            "setting '=4' has no name; expected NAME=VALUE, e.g. gooseUsers=4"
        );
        assert_eq!(
            parse_setting("gooseUsers").unwrap_err(),
            "setting 'gooseUsers' has no value; expected NAME=VALUE, e.g. gooseUsers=VALUE"
        );
        // without a value, a name the simulation may not take says that
        // first: a value would not help it
        assert!(
            parse_setting("gooseHost")
                .unwrap_err()
                .starts_with("setting 'gooseHost' is set by the simulation itself")
        );
        let unknown = parse_setting("gooseUser").unwrap_err();
        assert!(
            !unknown.contains("has no value")
                && unknown.ends_with("tip: a similar setting exists: 'gooseUsers'"),
            "{unknown}"
        );
    }

    #[test]
    fn a_missing_stage_executable_is_refused_before_anything_runs() {
        let settings = with_commands("/nonexistent/gpa-metric", "/bin/sh");
        assert_eq!(
            settings.validate().unwrap_err().to_string(),
            "metric command '/nonexistent/gpa-metric' does not exist; expected an executable file \
             (build all three executables with `cargo build --release`, or name one with \
             --metric-command)"
        );
        // A bare name is left to the PATH lookup, as the CPA's entrypoint would be.
        let settings = with_commands("sh", "/bin/sh");
        assert!(settings.validate().is_ok());
    }

    #[test]
    fn settings_out_of_range_are_refused_by_name() {
        let mut settings = with_commands("sh", "sh");
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
