//! Load profiles: the background traffic a simulation offers the service,
//! as a list of steps read from a small YAML file (see `profiles/`).
//!
//! ```yaml
//! description: a quiet start, a load step, a quiet end
//! path: /fibonacci?n=10          # optional; the request every step makes
//! steps:
//!   - durationSeconds: 20
//!     requestsPerSecond: 20
//!   - durationSeconds: 60
//!     requestsPerSecond: 150
//!     endRequestsPerSecond: 100  # optional: a linear ramp across the step
//! capacity:                      # optional: replaces the capacity flags
//!   maxQueueMs: 60000
//! pluginSettings:                # optional: plugin settings, as --set
//!   gooseRequestTimeout: 1000
//! ```
//!
//! `capacity` and `pluginSettings` let a profile bring the service and probe
//! it needs (a saturated service whose queue outlasts the probe's timeout,
//! say): its capacity keys replace the matching flags, and its plugin
//! settings come before any `--set`, which wins.
//!
//! Parsing validates every value and reports errors with the file, line and
//! column at fault. The rate at a moment is a pure function of the profile.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::capacity::CapacitySettings;
use crate::yaml::{self, FileError, YamlError};

/// Largest rate a step may ask for, requests per second. The traffic is
/// generated on the same 2-core machine as everything else; beyond this the
/// generator, not the simulated service, would be what is measured.
pub const MAX_REQUESTS_PER_SECOND: f64 = 2000.0;

/// Longest a whole profile may last, seconds.
pub const MAX_PROFILE_SECONDS: f64 = 3600.0;

/// The request path used when a profile names none.
pub const DEFAULT_PATH: &str = "/fibonacci?n=10";

/// A load profile: the request to make and the rate over time.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadProfile {
    /// What the profile shows, for people reading it; not used otherwise.
    #[serde(default)]
    pub description: Option<String>,
    /// The path (with query) every background request asks for; it must start
    /// with `/`. Default `/fibonacci?n=10`.
    #[serde(default = "default_path", deserialize_with = "request_path")]
    pub path: String,
    /// The steps, run one after another.
    #[serde(deserialize_with = "non_empty_steps")]
    pub steps: Vec<LoadStep>,
    /// Capacity settings this profile needs, replacing the flags'.
    #[serde(default)]
    pub capacity: CapacityOverrides,
    /// Plugin settings for both stages, like `--set` (which wins over them).
    #[serde(default, deserialize_with = "plugin_settings")]
    pub plugin_settings: BTreeMap<String, String>,
}

/// A profile's `capacity`: each key given replaces the flag of the same name
/// (`maxQueueMs` replaces `--max-queue-ms`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CapacityOverrides {
    /// Requests one replica serves at once (1 to 10000).
    #[serde(default, deserialize_with = "concurrency")]
    pub concurrency_per_replica: Option<u32>,
    /// Time one request takes to serve (1 to 60000 ms).
    #[serde(default, rename = "serviceTimeMs", deserialize_with = "service_time")]
    pub service_time: Option<Duration>,
    /// Time a new replica takes before it serves (0 to 600000 ms).
    #[serde(default, rename = "startupDelayMs", deserialize_with = "startup_delay")]
    pub startup_delay: Option<Duration>,
    /// Longest a request waits for a free replica (1 to 600000 ms).
    #[serde(default, rename = "maxQueueMs", deserialize_with = "max_queue")]
    pub max_queue_time: Option<Duration>,
    /// Replicas that never get ready (0 to 100).
    #[serde(default, deserialize_with = "never_ready")]
    pub never_ready_replicas: Option<u32>,
}

impl CapacityOverrides {
    /// `capacity` with every key this profile gives replaced.
    pub fn apply(&self, capacity: CapacitySettings) -> CapacitySettings {
        CapacitySettings {
            concurrency_per_replica: self
                .concurrency_per_replica
                .unwrap_or(capacity.concurrency_per_replica),
            service_time: self.service_time.unwrap_or(capacity.service_time),
            startup_delay: self.startup_delay.unwrap_or(capacity.startup_delay),
            max_queue_time: self.max_queue_time.unwrap_or(capacity.max_queue_time),
            never_ready_replicas: self
                .never_ready_replicas
                .unwrap_or(capacity.never_ready_replicas),
        }
    }
}

/// Plugin settings the simulation sets itself; a profile may not.
pub const SIMULATION_SETTINGS: [&str; 6] = [
    "gooseHost",
    "scenarioFilePath",
    "evaluationConfigFilePath",
    "decayInfoFilePath",
    "minReplicas",
    "maxReplicas",
];

/// Where the settings the simulation sets itself come from, for messages.
const SIMULATION_FLAGS: &str =
    "the scenario, the evaluation config, the output folder and the bounds";

/// One step of a load profile.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadStep {
    /// How long the step lasts, seconds (more than 0; fractions allowed).
    #[serde(rename = "durationSeconds", deserialize_with = "positive_seconds")]
    pub duration: Duration,
    /// Requests started per second at the start of the step (0 to 2000).
    #[serde(deserialize_with = "rate")]
    pub requests_per_second: f64,
    /// Requests started per second at the end of the step, for a linear ramp
    /// (0 to 2000); default: the same as `requestsPerSecond`.
    #[serde(default, deserialize_with = "optional_rate")]
    pub end_requests_per_second: Option<f64>,
}

/// A profile file that cannot be read or is not a valid profile.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error(
        "cannot read load profile '{path}': {error}; expected a readable YAML file (--profile)"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error (part of the message, so not a
        /// chained source: the cause is said once).
        error: std::io::Error,
    },
    /// The file is not valid YAML or holds a value out of range.
    #[error("load profile '{path}' line {line} column {column}: {message}")]
    Invalid {
        /// The file (or `<built-in>` for the embedded default).
        path: PathBuf,
        /// Line of the fault, 1-based (0 when unknown).
        line: u64,
        /// Column of the fault, 1-based (0 when unknown).
        column: u64,
        /// What is wrong and what was expected, one line.
        message: String,
    },
    /// The steps add up to more than [`MAX_PROFILE_SECONDS`].
    #[error(
        "load profile '{path}' lasts {seconds} s: too long; expected at most {MAX_PROFILE_SECONDS} s in all"
    )]
    TooLong {
        /// The file.
        path: PathBuf,
        /// The total length of its steps, seconds.
        seconds: f64,
    },
}

impl ProfileError {
    /// The profile at `path` did not load as YAML.
    fn from_file(path: &Path, error: FileError) -> Self {
        let path = path.to_owned();
        match error {
            FileError::Read(error) => ProfileError::Read { path, error },
            FileError::Parse(YamlError {
                line,
                column,
                message,
            }) => ProfileError::Invalid {
                path,
                line: line.unwrap_or(0),
                column: column.unwrap_or(0),
                message,
            },
        }
    }
}

impl LoadProfile {
    /// Reads and validates the profile at `path`.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let parsed: LoadProfile =
            yaml::load_file(path).map_err(|error| ProfileError::from_file(path, error))?;
        parsed.checked(path)
    }

    /// Parses and validates profile text; `path` names it in errors.
    pub fn parse_str(text: &str, path: &Path) -> Result<Self, ProfileError> {
        let profile: LoadProfile = yaml::parse_str(text)
            .map_err(|error| ProfileError::from_file(path, FileError::Parse(error)))?;
        profile.checked(path)
    }

    /// `self` as parsed from `path`, checked.
    fn checked(self, path: &Path) -> Result<Self, ProfileError> {
        let seconds = self.duration().as_secs_f64();
        if seconds > MAX_PROFILE_SECONDS {
            return Err(ProfileError::TooLong {
                path: path.to_owned(),
                seconds,
            });
        }
        Ok(self)
    }

    /// How long the whole profile lasts.
    pub fn duration(&self) -> Duration {
        self.steps.iter().map(|step| step.duration).sum()
    }

    /// The rate asked for at `elapsed` since the start, requests per second;
    /// `None` once the profile is over.
    pub fn rate_at(&self, elapsed: Duration) -> Option<f64> {
        let mut start = Duration::ZERO;
        for step in &self.steps {
            let end = start + step.duration;
            if elapsed < end {
                let fraction = (elapsed - start).as_secs_f64() / step.duration.as_secs_f64();
                let to = step
                    .end_requests_per_second
                    .unwrap_or(step.requests_per_second);
                return Some(step.requests_per_second + (to - step.requests_per_second) * fraction);
            }
            start = end;
        }
        None
    }

    /// When the step holding `elapsed` ends, measured from the start.
    pub fn step_end_after(&self, elapsed: Duration) -> Option<Duration> {
        let mut end = Duration::ZERO;
        for step in &self.steps {
            end += step.duration;
            if elapsed < end {
                return Some(end);
            }
        }
        None
    }

    /// Requests the profile asks for in total (the integral of the rate).
    pub fn total_requests(&self) -> f64 {
        self.steps
            .iter()
            .map(|step| {
                let to = step
                    .end_requests_per_second
                    .unwrap_or(step.requests_per_second);
                (step.requests_per_second + to) / 2.0 * step.duration.as_secs_f64()
            })
            .sum()
    }
}

/// A number as written in the file, or whatever else was there, so a wrong
/// value can be named in the error.
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Number(f64),
    Other(serde_saphyr::Spanned<String>),
}

/// Reads the number under `key`, naming the value when it is not one.
fn number<'de, D: Deserializer<'de>>(deserializer: D, key: &str) -> Result<f64, D::Error> {
    match Number::deserialize(deserializer)? {
        Number::Number(value) => Ok(value),
        Number::Other(text) => Err(serde::de::Error::custom(format!(
            "{key} '{}' is not a number; expected a number such as 20 or 0.5",
            text.value
        ))),
    }
}

fn default_path() -> String {
    DEFAULT_PATH.to_string()
}

fn request_path<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let path = String::deserialize(deserializer)?;
    if !path.starts_with('/') || path.chars().any(char::is_whitespace) {
        return Err(serde::de::Error::custom(format!(
            "path '{path}' is not a request path; expected one starting with '/' and \
             without spaces, e.g. /fibonacci?n=10"
        )));
    }
    Ok(path)
}

fn non_empty_steps<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<LoadStep>, D::Error> {
    let steps = Vec::<LoadStep>::deserialize(deserializer)?;
    if steps.is_empty() {
        return Err(serde::de::Error::custom(
            "steps is empty; expected at least one step with durationSeconds and requestsPerSecond",
        ));
    }
    Ok(steps)
}

fn positive_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let seconds = number(deserializer, "durationSeconds")?;
    if !(seconds > 0.0 && seconds <= MAX_PROFILE_SECONDS) {
        return Err(serde::de::Error::custom(format!(
            "durationSeconds '{seconds}' is out of range; expected more than 0 and at most \
             {MAX_PROFILE_SECONDS}"
        )));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn check_rate<E: serde::de::Error>(key: &str, rate: f64) -> Result<f64, E> {
    if !(0.0..=MAX_REQUESTS_PER_SECOND).contains(&rate) {
        return Err(E::custom(format!(
            "{key} '{rate}' is out of range; expected 0 to {MAX_REQUESTS_PER_SECOND}"
        )));
    }
    Ok(rate)
}

fn rate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    check_rate(
        "requestsPerSecond",
        number(deserializer, "requestsPerSecond")?,
    )
}

fn optional_rate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    check_rate(
        "endRequestsPerSecond",
        number(deserializer, "endRequestsPerSecond")?,
    )
    .map(Some)
}

/// A whole number under `key` within `range`, naming the key when it is not.
fn whole<'de, D: Deserializer<'de>>(
    deserializer: D,
    key: &str,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, D::Error> {
    let value = number(deserializer, key)?;
    if value.fract() != 0.0
        || !(f64::from(*range.start())..=f64::from(*range.end())).contains(&value)
    {
        return Err(serde::de::Error::custom(format!(
            "{key} '{value}' is out of range; expected a whole number from {} to {}",
            range.start(),
            range.end()
        )));
    }
    Ok(value as u32)
}

fn concurrency<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    whole(deserializer, "capacity.concurrencyPerReplica", 1..=10_000).map(Some)
}

fn never_ready<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    whole(deserializer, "capacity.neverReadyReplicas", 0..=100).map(Some)
}

fn milliseconds<'de, D: Deserializer<'de>>(
    deserializer: D,
    key: &str,
    range: std::ops::RangeInclusive<u32>,
) -> Result<Option<Duration>, D::Error> {
    whole(deserializer, key, range).map(|ms| Some(Duration::from_millis(u64::from(ms))))
}

fn service_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    milliseconds(deserializer, "capacity.serviceTimeMs", 1..=60_000)
}

fn startup_delay<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    milliseconds(deserializer, "capacity.startupDelayMs", 0..=600_000)
}

fn max_queue<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    milliseconds(deserializer, "capacity.maxQueueMs", 1..=600_000)
}

/// Refuses a plugin setting name (a `pluginSettings` key, a `--set` name)
/// the simulation sets itself or neither stage reads, with one line saying
/// which and what was expected.
pub fn check_plugin_setting_name(name: &str) -> Result<(), String> {
    if SIMULATION_SETTINGS.contains(&name) {
        return Err(format!(
            "setting '{name}' is set by the simulation itself; expected a plugin setting such as \
             gooseRequestTimeout or gooseUsers (set {SIMULATION_FLAGS} with gpa simulate's flags)"
        ));
    }
    crate::setting_names::check_plugin_setting(name)
}

/// `pluginSettings`: names to scalar values (written as strings, as a CR's
/// `spec.config` values are), none of them one the simulation sets itself.
fn plugin_settings<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let settings = BTreeMap::<String, String>::deserialize(deserializer)?;
    for name in settings.keys() {
        check_plugin_setting_name(name)
            .map_err(|err| serde::de::Error::custom(format!("pluginSettings: {err}")))?;
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LoadProfile, ProfileError> {
        LoadProfile::parse_str(text, Path::new("p.yaml"))
    }

    const STEP: &str = "\
steps:
  - durationSeconds: 10
    requestsPerSecond: 20
  - durationSeconds: 5
    requestsPerSecond: 100
    endRequestsPerSecond: 50
";

    #[test]
    fn parses_steps_with_the_default_path() {
        let profile = parse(STEP).unwrap();
        assert_eq!(profile.path, "/fibonacci?n=10");
        assert_eq!(profile.duration(), Duration::from_secs(15));
        assert_eq!(profile.steps[1].end_requests_per_second, Some(50.0));
        assert_eq!(profile.total_requests(), 200.0 + 375.0);
    }

    #[test]
    fn a_profile_may_bring_its_capacity_and_plugin_settings() {
        let text = format!(
            "{STEP}capacity:\n  maxQueueMs: 60000\n  startupDelayMs: 0\n\
             pluginSettings:\n  gooseRequestTimeout: 1000\n  gooseUsers: \"4\"\n"
        );
        let profile = parse(&text).unwrap();
        let flags = CapacitySettings {
            concurrency_per_replica: 4,
            service_time: Duration::from_millis(50),
            startup_delay: Duration::from_secs(2),
            max_queue_time: Duration::from_millis(1500),
            never_ready_replicas: 0,
        };
        assert_eq!(
            profile.capacity.apply(flags),
            CapacitySettings {
                startup_delay: Duration::ZERO,
                max_queue_time: Duration::from_secs(60),
                ..flags
            }
        );
        assert_eq!(
            profile.plugin_settings.into_iter().collect::<Vec<_>>(),
            [
                ("gooseRequestTimeout".to_string(), "1000".to_string()),
                ("gooseUsers".to_string(), "4".to_string())
            ]
        );
        // Without them, the flags stand.
        let plain = parse(STEP).unwrap();
        assert_eq!(plain.capacity.apply(flags), flags);
        assert!(plain.plugin_settings.is_empty());
    }

    #[test]
    fn the_rate_follows_the_steps_and_ramps() {
        let profile = parse(STEP).unwrap();
        let at = |seconds: f64| profile.rate_at(Duration::from_secs_f64(seconds));
        assert_eq!(at(0.0), Some(20.0));
        assert_eq!(at(9.99), Some(20.0));
        assert_eq!(at(10.0), Some(100.0));
        assert_eq!(at(12.5), Some(75.0));
        assert_eq!(at(15.0), None);
        assert_eq!(
            profile.step_end_after(Duration::from_secs(3)),
            Some(Duration::from_secs(10))
        );
        assert_eq!(profile.step_end_after(Duration::from_secs(15)), None);
    }

    #[test]
    fn errors_name_the_file_line_column_and_expectation() {
        let cases = [
            (
                "steps: []\n",
                "load profile 'p.yaml' line 1 column 8: steps is empty",
            ),
            (
                "steps:\n  - durationSeconds: 0\n    requestsPerSecond: 1\n",
                "load profile 'p.yaml' line 2 column 22: durationSeconds '0' is out of range; \
                 expected more than 0",
            ),
            (
                "steps:\n  - durationSeconds: 5\n    requestsPerSecond: -3\n",
                "load profile 'p.yaml' line 3 column 24: requestsPerSecond '-3' is out of range; \
                 expected 0 to 2000",
            ),
            (
                "steps:\n  - durationSeconds: 5\n    requestsPerSecond: 1\n    \
                 endRequestsPerSecond: 9000\n",
                "line 4 column 27: endRequestsPerSecond '9000' is out of range",
            ),
            (
                "steps:\n  - durationSeconds: 5\n    rps: 1\n",
                "line 3 column 5: unknown field `rps`",
            ),
            (
                "path: fibonacci\nsteps:\n  - durationSeconds: 5\n    requestsPerSecond: 1\n",
                "line 1 column 7: path 'fibonacci' is not a request path",
            ),
            ("description: x\n", "missing field `steps`"),
            (
                "steps:\n  - durationSeconds: 5\n    requestsPerSecond: lots\n",
                "load profile 'p.yaml' line 3 column 24: requestsPerSecond 'lots' is not a number; \
                 expected a number such as 20 or 0.5",
            ),
            (
                &format!("{STEP}capacity:\n  maxQueueMs: -5\n"),
                "load profile 'p.yaml' line 8 column 15: capacity.maxQueueMs '-5' is out of range; \
                 expected a whole number from 1 to 600000",
            ),
            (
                &format!("{STEP}capacity:\n  concurrencyPerReplica: 2.5\n"),
                "line 8 column 26: capacity.concurrencyPerReplica '2.5' is out of range",
            ),
            (
                &format!("{STEP}capacity:\n  queueMs: 10\n"),
                "line 8 column 3: unknown field `queueMs`",
            ),
            (
                &format!("{STEP}pluginSettings:\n  gooseHost: http://elsewhere\n"),
                "line 8 column 3: pluginSettings: setting 'gooseHost' is set by the simulation \
                 itself; expected a plugin setting such as gooseRequestTimeout",
            ),
            (
                &format!("{STEP}pluginSettings:\n  gooseUser: 3\n"),
                "line 8 column 3: pluginSettings: setting 'gooseUser' is not a setting of \
                 gpa-metric or gpa-evaluate; expected one of their settings (docs/settings.md), or \
                 an UPPER_CASE variable a scenario header names; tip: a similar setting exists: \
                 'gooseUsers'",
            ),
            (
                "steps: [\n",
                "load profile 'p.yaml' line 1 column 8: unclosed bracket '['",
            ),
            (
                "steps:\n  - durationSeconds: 3000\n    requestsPerSecond: 1\n  \
                 - durationSeconds: 3000\n    requestsPerSecond: 1\n",
                "load profile 'p.yaml' lasts 6000 s: too long; expected at most 3600 s in all",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(
                err.contains(expected),
                "input {text:?}\n got: {err}\nwant: {expected}"
            );
            assert!(!err.contains('\n'), "error must be one line: {err}");
            assert!(
                !err.contains(", column "),
                "the location is named twice: {err}"
            );
        }
    }

    #[test]
    fn every_profile_shipped_in_profiles_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
        let mut loaded = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let profile = LoadProfile::load(&path).unwrap_or_else(|err| panic!("{err}"));
            assert!(
                profile.duration() <= Duration::from_secs(150),
                "{}: a shipped profile must finish within the README's time budget",
                path.display()
            );
            loaded += 1;
        }
        assert!(loaded >= 3, "profiles/ holds {loaded} profiles");
    }
}
