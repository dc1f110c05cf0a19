//! The metric stage's settings: its command line ([`MetricArgs`], whose
//! flags clap also reads from camelCase environment variables), and the
//! resolved, validated [`Settings`] built from it and the Locust Pod
//! Autoscaler's alias variables by [`Settings::resolve`], a pure function of
//! the parsed flags and an environment lookup.
//!
//! Precedence and "empty counts as unset" come from [`crate::settings`];
//! this module only says which settings there are, their defaults and what
//! a valid value is.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

use super::early_stop::{
    DEFAULT_CONFIDENCE, DEFAULT_MIN_REQUESTS, DEFAULT_MIN_RUN_TIME_SECONDS, EarlyStopSettings,
};
use super::load_test::{LoadTestSettings, TlsSettings};
use super::run_time::{MAX_RUN_TIME_SECONDS, RUN_TIME_EXPECTED, parse_run_time};
use crate::settings::{Setting, non_empty};

pub use crate::settings::SettingsError;

/// Default scenario file path.
pub const DEFAULT_SCENARIO_FILE: &str = "/scenario.yaml";
/// Default number of simulated users.
pub const DEFAULT_USERS: usize = 10;
/// Default measured run time, seconds.
pub const DEFAULT_RUN_TIME_SECONDS: u64 = 20;
/// Default measured run time when early stop watches the run: the cap,
/// seconds (see docs/settings.md for why 10).
pub const DEFAULT_EARLY_STOP_RUN_TIME_SECONDS: u64 = 10;
/// Where the evaluation config is read when no setting names it (the
/// evaluate stage's default).
pub const DEFAULT_EVALUATION_CONFIG: &str = crate::target::DEFAULT_CONFIG_PATH;
/// Default per-request timeout, milliseconds.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 5000;
/// Largest accepted `gooseMinRequests`.
pub const MAX_MIN_REQUESTS: u64 = 1_000_000;
/// Largest accepted number of users.
pub const MAX_USERS: usize = 100_000;
/// Longest accepted per-request timeout, milliseconds: one hour.
pub const MAX_REQUEST_TIMEOUT_MS: u64 = 3_600_000;
/// Longest accepted ramp-up (users / hatch rate), seconds: one day.
pub const MAX_RAMP_UP_SECONDS: u64 = 86_400;

/// The Locust Pod Autoscaler's locustfile setting. A locustfile cannot run
/// here, so setting it is an error rather than silently ignored.
pub const LOCUST_FILE_VARIABLE: &str = crate::setting_names::metric::LOCUST_FILE;

// The settings' names live in the one table of every setting name.
use crate::setting_names::metric::{
    CA_CERT, CONFIDENCE, EARLY_STOP, EVALUATION_CONFIG, HATCH_RATE, HOST, INSECURE, MIN_REQUESTS,
    MIN_RUN_TIME, NOW, REQUEST_TIMEOUT, RUN_TIME, SCENARIO_FILE, STATE, USERS,
};

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
    /// The scenario file [default: /scenario.yaml; optional when compiled scenarios exist]. Replaces the Locust Pod Autoscaler's locustFilePath, which is an error if set.
    #[arg(long, env = "scenarioFilePath", value_name = "PATH")]
    pub scenario_file: Option<String>,
    /// PEM file of a CA certificate to trust for an HTTPS host, besides the system roots.
    #[arg(long, env = "gooseCaCertPath", value_name = "PATH")]
    pub ca_cert: Option<String>,
    /// Skip TLS certificate verification (true/false) [default: false]. For tests only.
    #[arg(long, env = "gooseInsecureSkipTlsVerify", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub insecure_skip_tls_verify: Option<String>,
    /// The evaluation config whose targets early stop watches (the one gpa-evaluate reads) [default: /evaluation_config.yaml, when it exists].
    #[arg(long, env = "evaluationConfigFilePath", value_name = "PATH")]
    pub evaluation_config: Option<String>,
    /// Stop the test once every target's verdict holds (true/false) [default: true when there is an evaluation config]. `shadow`, a benchmarking aid, runs the whole run time and adds the report early stop would have printed (earlyStopShadow).
    #[arg(long, env = "gooseEarlyStop", value_name = "BOOL|shadow", num_args = 0..=1, default_missing_value = "true")]
    pub early_stop: Option<String>,
    /// Confidence a verdict needs before an early stop, a fraction from 0.5 to 0.9999 [default: 0.95].
    #[arg(long, env = "gooseVerdictConfidence", value_name = "FRACTION")]
    pub verdict_confidence: Option<String>,
    /// No early stop before this many seconds after ramp-up (decimals allowed) [default: 2].
    #[arg(long, env = "gooseMinRunTime", value_name = "SECONDS")]
    pub min_run_time: Option<String>,
    /// No early stop before each target has this many requests [default: 30].
    #[arg(long, env = "gooseMinRequests", value_name = "N")]
    pub min_requests: Option<String>,
    /// Base URL of the Prometheus that runs the evaluation config's load.prometheus query, overriding its url (per deployment), e.g. http://prometheus:9090.
    #[arg(long, env = "prometheusUrl", value_name = "URL")]
    pub prometheus_url: Option<String>,
    /// Current replicas, for use by hand: stdin is not read.
    #[arg(long, value_name = "N")]
    pub replicas: Option<u32>,
    /// The evaluate stage's decay state file, read (never written) to tell the replicas our answers added recently, which a miss waits for [default: /decay_info.json].
    #[arg(long = "state", env = "decayInfoFilePath", value_name = "PATH")]
    pub state: Option<String>,
    /// The instant the run starts, RFC 3339 with an offset, as gpa-evaluate's --now; `gpa simulate` sets it [default: the system clock].
    #[arg(long = "now", env = "gpaNow", value_name = "RFC3339")]
    pub now: Option<String>,
}

/// Early stop as configured: where the evaluation config is, and when a
/// verdict is sure enough.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlyStopSetting {
    /// The evaluation config; the default path is used only if it exists.
    pub evaluation_config: ScenarioFileSetting,
    /// Confidence, minimum run time and requests.
    pub settings: EarlyStopSettings,
    /// True when the run time was given; otherwise an early-stopped run
    /// takes [`DEFAULT_EARLY_STOP_RUN_TIME_SECONDS`] as its cap.
    pub run_time_given: bool,
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
    /// Load test settings as the flags and variables give them: no CA
    /// certificates read yet, and the run time given or the default. The run
    /// uses [`Settings::load_test_for`].
    pub load_test: LoadTestSettings,
    /// The scenario file.
    pub scenario_file: ScenarioFileSetting,
    /// The CA certificate file, if any.
    pub ca_cert_path: Option<PathBuf>,
    /// Current replicas given by `--replicas`, in which case stdin is not read.
    pub replicas: Option<u32>,
    /// Early stop, unless `gooseEarlyStop` is false.
    pub early_stop: Option<EarlyStopSetting>,
    /// The evaluate stage's decay state file (`decayInfoFilePath`).
    pub state_path: PathBuf,
    /// The instant the run starts (`gpaNow`); the system clock when unset.
    pub now: Option<jiff::Timestamp>,
}

impl Settings {
    /// The load test this run makes, built once: these settings with the
    /// `ca_certificates` read from `ca_cert_path`, and, when early stop
    /// watches targets (`early_stop_on`) and no run time was given,
    /// [`DEFAULT_EARLY_STOP_RUN_TIME_SECONDS`] as the run time's cap.
    pub fn load_test_for(
        &self,
        ca_certificates: Vec<reqwest::Certificate>,
        early_stop_on: bool,
    ) -> LoadTestSettings {
        let early_stop_run_time = early_stop_on
            && self
                .early_stop
                .as_ref()
                .is_some_and(|setting| !setting.run_time_given);
        LoadTestSettings {
            run_time: if early_stop_run_time {
                Duration::from_secs(DEFAULT_EARLY_STOP_RUN_TIME_SECONDS)
            } else {
                self.load_test.run_time
            },
            tls: TlsSettings {
                ca_certificates,
                insecure_skip_verify: self.load_test.tls.insecure_skip_verify,
            },
            ..self.load_test.clone()
        }
    }

    /// Resolves and validates the settings: flag > primary variable (both
    /// given by clap in `args`) > alias variable (looked up with `env`) >
    /// default. The first bad setting is the error.
    pub fn resolve(
        args: &MetricArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SettingsError> {
        reject_locust_file(&env)?;
        let host = host(args, &env)?;
        let users = users(args, &env)?;
        let hatch_rate = hatch_rate(args, &env, users)?;
        let run_time_given = RUN_TIME.lookup(args.run_time.as_deref(), &env).is_some();
        let run_time = match RUN_TIME.lookup(args.run_time.as_deref(), &env) {
            None => DEFAULT_RUN_TIME_SECONDS,
            Some(given) => {
                parse_run_time(&given.value).map_err(|why| given.error(why, RUN_TIME_EXPECTED))?
            }
        };
        let request_timeout_ms = request_timeout_ms(args, &env)?;
        let scenario_file = match SCENARIO_FILE.lookup(args.scenario_file.as_deref(), &env) {
            Some(given) => ScenarioFileSetting::Explicit(given.value.into()),
            None => ScenarioFileSetting::Default(DEFAULT_SCENARIO_FILE.into()),
        };
        let ca_cert_path = CA_CERT
            .lookup(args.ca_cert.as_deref(), &env)
            .map(|given| PathBuf::from(given.value));
        let insecure_skip_verify = boolean(
            INSECURE,
            args.insecure_skip_tls_verify.as_deref(),
            &env,
            false,
        )?;
        let early_stop = early_stop(args, &env, run_time_given)?;
        Ok(Settings {
            load_test: LoadTestSettings {
                host,
                users,
                hatch_rate,
                run_time: Duration::from_secs(run_time),
                request_timeout: Duration::from_millis(request_timeout_ms),
                tls: TlsSettings {
                    ca_certificates: Vec::new(),
                    insecure_skip_verify,
                },
            },
            scenario_file,
            ca_cert_path,
            replicas: args.replicas,
            early_stop,
            state_path: STATE.lookup(args.state.as_deref(), &env).map_or_else(
                || crate::state::DEFAULT_STATE_PATH.into(),
                |given| given.value.into(),
            ),
            now: match NOW.lookup(args.now.as_deref(), &env) {
                Some(given) => Some(given.parse(
                    |_| true,
                    "not an instant",
                    "an RFC 3339 time with an offset, e.g. 2026-03-30T08:00:00+02:00",
                )?),
                None => None,
            },
        })
    }
}

/// Early stop's settings, or `None` when `gooseEarlyStop` is false.
fn early_stop(
    args: &MetricArgs,
    env: &impl Fn(&str) -> Option<String>,
    run_time_given: bool,
) -> Result<Option<EarlyStopSetting>, SettingsError> {
    let shadow = match EARLY_STOP.lookup(args.early_stop.as_deref(), env) {
        Some(given) if given.value.eq_ignore_ascii_case("shadow") => true,
        Some(given) => match given.value.to_ascii_lowercase().parse::<bool>() {
            Ok(true) => false,
            Ok(false) => return Ok(None),
            Err(_) => {
                return Err(given.error(
                    "not a boolean or shadow",
                    "true, false or shadow (runs the whole run time and reports where early stop would have stopped)",
                ));
            }
        },
        None => false,
    };
    let evaluation_config = match EVALUATION_CONFIG.lookup(args.evaluation_config.as_deref(), env) {
        Some(given) => ScenarioFileSetting::Explicit(given.value.into()),
        None => ScenarioFileSetting::Default(DEFAULT_EVALUATION_CONFIG.into()),
    };
    let mut settings = EarlyStopSettings {
        shadow,
        ..EarlyStopSettings::default()
    };
    if let Some(given) = CONFIDENCE.lookup(args.verdict_confidence.as_deref(), env) {
        settings.confidence = given.parse(
            |c: &f64| (0.5..=0.9999).contains(c),
            "not a confidence",
            &format!("a fraction from 0.5 to 0.9999, e.g. {DEFAULT_CONFIDENCE} for 95 %"),
        )?;
    }
    if let Some(given) = MIN_RUN_TIME.lookup(args.min_run_time.as_deref(), env) {
        let seconds: f64 = given.parse(
            |s: &f64| (0.0..=MAX_RUN_TIME_SECONDS as f64).contains(s),
            "not a run time",
            &format!(
                "seconds from 0 to {MAX_RUN_TIME_SECONDS}, decimals allowed, e.g. {DEFAULT_MIN_RUN_TIME_SECONDS}"
            ),
        )?;
        settings.min_run_time = Duration::from_secs_f64(seconds);
    }
    if let Some(given) = MIN_REQUESTS.lookup(args.min_requests.as_deref(), env) {
        settings.min_requests = given.parse(
            |n: &u64| (1..=MAX_MIN_REQUESTS).contains(n),
            "not a number of requests",
            &format!("a whole number from 1 to {MAX_MIN_REQUESTS}, e.g. {DEFAULT_MIN_REQUESTS}"),
        )?;
    }
    Ok(Some(EarlyStopSetting {
        evaluation_config,
        settings,
        run_time_given,
    }))
}

/// A locustfile cannot run here: point to the conversion instead of
/// ignoring it.
fn reject_locust_file(env: &impl Fn(&str) -> Option<String>) -> Result<(), SettingsError> {
    let value = env(LOCUST_FILE_VARIABLE);
    match non_empty(value.as_deref()) {
        None => Ok(()),
        Some(path) => Err(SettingsError {
            setting: LOCUST_FILE_VARIABLE.into(),
            value: path.into(),
            why: "a locustfile cannot run here".into(),
            expected: "no locustFilePath: convert the locustfile to a scenario file as the migration guide shows (docs/migrating.md) and give its path in scenarioFilePath".into(),
        }),
    }
}

fn host(args: &MetricArgs, env: &impl Fn(&str) -> Option<String>) -> Result<String, SettingsError> {
    let Some(given) = HOST.lookup(args.host.as_deref(), env) else {
        return Err(SettingsError {
            setting: HOST.name(),
            value: String::new(),
            why: "not set".into(),
            expected:
                "the service's base URL, e.g. http://fibonacci:8000 (gooseHost, or locustHost)"
                    .into(),
        });
    };
    match reqwest::Url::parse(&given.value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(given.value)
        }
        _ => Err(given.error(
            "not an http(s) URL",
            "a base URL such as http://fibonacci:8000",
        )),
    }
}

fn users(args: &MetricArgs, env: &impl Fn(&str) -> Option<String>) -> Result<usize, SettingsError> {
    let Some(given) = USERS.lookup(args.users.as_deref(), env) else {
        return Ok(DEFAULT_USERS);
    };
    given.parse(
        |n| (1..=MAX_USERS).contains(n),
        "not a number of users",
        &format!("a whole number from 1 to {MAX_USERS}"),
    )
}

fn request_timeout_ms(
    args: &MetricArgs,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<u64, SettingsError> {
    let Some(given) = REQUEST_TIMEOUT.lookup(args.request_timeout.as_deref(), env) else {
        return Ok(DEFAULT_REQUEST_TIMEOUT_MS);
    };
    given.parse(
        |ms| (1..=MAX_REQUEST_TIMEOUT_MS).contains(ms),
        "not a timeout",
        &format!("whole milliseconds from 1 to {MAX_REQUEST_TIMEOUT_MS}"),
    )
}

/// A true/false setting, `default` when unset.
fn boolean(
    setting: Setting,
    given: Option<&str>,
    env: &impl Fn(&str) -> Option<String>,
    default: bool,
) -> Result<bool, SettingsError> {
    let Some(given) = setting.lookup(given, env) else {
        return Ok(default);
    };
    given
        .value
        .to_ascii_lowercase()
        .parse()
        .map_err(|_| given.error("not a boolean", "true or false"))
}

fn hatch_rate(
    args: &MetricArgs,
    env: &impl Fn(&str) -> Option<String>,
    users: usize,
) -> Result<Option<f64>, SettingsError> {
    let Some(given) = HATCH_RATE.lookup(args.hatch_rate.as_deref(), env) else {
        return Ok(None);
    };
    let rate = given.parse::<f64>(
        |rate| rate.is_finite() && *rate > 0.0,
        "not a positive rate",
        "users started per second, e.g. 10 or 2.5",
    )?;
    let slowest = slowest_hatch_rate(users);
    if rate < slowest {
        return Err(given.error(
            format!("starting {users} users would take longer than {MAX_RAMP_UP_SECONDS} s"),
            format!(
                "users started per second of at least {slowest:.7} for {users} users (a ramp-up of at most {MAX_RAMP_UP_SECONDS} s)"
            ),
        ));
    }
    Ok(Some(rate))
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
    fn an_lpa_run_time_is_read_as_a_timespan_and_its_error_says_what_is_accepted() {
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
    fn early_stop_is_on_by_default_reads_its_settings_and_can_be_turned_off() {
        let host = args(Some("http://a"));
        let on = Settings::resolve(&host, env_of(&[])).unwrap();
        let setting = on.early_stop.expect("on by default");
        assert_eq!(
            setting.evaluation_config,
            ScenarioFileSetting::Default("/evaluation_config.yaml".into())
        );
        assert_eq!(setting.settings, EarlyStopSettings::default());
        assert!(!setting.run_time_given);
        let tuned = MetricArgs {
            evaluation_config: Some("/etc/e.yaml".into()),
            verdict_confidence: Some("0.99".into()),
            min_run_time: Some("1.5".into()),
            min_requests: Some("100".into()),
            run_time: Some("30".into()),
            ..host.clone()
        };
        let setting = Settings::resolve(&tuned, env_of(&[]))
            .unwrap()
            .early_stop
            .unwrap();
        assert_eq!(
            setting.evaluation_config,
            ScenarioFileSetting::Explicit("/etc/e.yaml".into())
        );
        assert_eq!(
            setting.settings,
            EarlyStopSettings {
                confidence: 0.99,
                min_run_time: Duration::from_millis(1500),
                min_requests: 100,
                shadow: false,
            }
        );
        assert!(setting.run_time_given);
        for off in ["false", "FALSE"] {
            let args = MetricArgs {
                early_stop: Some(off.into()),
                ..host.clone()
            };
            assert_eq!(
                Settings::resolve(&args, env_of(&[])).unwrap().early_stop,
                None
            );
        }
        for shadow in ["shadow", "Shadow"] {
            let args = MetricArgs {
                early_stop: Some(shadow.into()),
                ..host.clone()
            };
            let setting = Settings::resolve(&args, env_of(&[]))
                .unwrap()
                .early_stop
                .expect("shadow mode watches the run");
            assert!(setting.settings.shadow, "{shadow}");
        }
        let bad = [
            (
                MetricArgs {
                    early_stop: Some("no".into()),
                    ..host.clone()
                },
                "setting gooseEarlyStop (--early-stop) 'no': not a boolean or shadow; expected true, false or shadow",
            ),
            (
                MetricArgs {
                    verdict_confidence: Some("1".into()),
                    ..host.clone()
                },
                "setting gooseVerdictConfidence (--verdict-confidence) '1': not a confidence",
            ),
            (
                MetricArgs {
                    min_run_time: Some("-1".into()),
                    ..host.clone()
                },
                "setting gooseMinRunTime (--min-run-time) '-1': not a run time; expected seconds from 0 to 86400",
            ),
            (
                MetricArgs {
                    min_requests: Some("0".into()),
                    ..host.clone()
                },
                "setting gooseMinRequests (--min-requests) '0': not a number of requests",
            ),
        ];
        for (args, want) in bad {
            let err = Settings::resolve(&args, env_of(&[]))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(want), "got: {err}\nwant: {want}");
        }
    }

    #[test]
    fn a_locustfile_setting_is_an_error_pointing_to_the_conversion() {
        let err = Settings::resolve(
            &args(Some("http://a")),
            env_of(&[("locustFilePath", "/locustfile.py")]),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "setting locustFilePath '/locustfile.py': a locustfile cannot run here; expected no locustFilePath: convert the locustfile to a scenario file as the migration guide shows (docs/migrating.md) and give its path in scenarioFilePath"
        );
        let blank = Settings::resolve(&args(Some("http://a")), env_of(&[("locustFilePath", " ")]));
        assert!(blank.is_ok(), "empty counts as unset");
    }
}
