//! The evaluation config: which latency and error-rate targets the service must
//! meet, how fast to scale up, when to decay, and the replica bounds.
//!
//! The bounds' keys are read here and resolved in [`super::bounds`].
//!
//! Read from YAML (or JSON, which is YAML too) with `serde-saphyr`, then
//! validated once; later code trusts it. A config written for the Locust Pod
//! Autoscaler (`targets` with `method`/`endpoint`/`type`/`target`, `decay`)
//! loads as it is and behaves as it does there: every key the LPA does not
//! have (`tolerance`, `downTolerance`, `scaleUp`, `decay.percent`,
//! `fallback`, `minReplicas`, `maxReplicas`, `schedules`, `boostsFile`,
//! `budget`, `load`) defaults to the LPA's behaviour.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::bounds;
pub use super::bounds::{Bounds, CpaFileBounds, DEFAULT_MAX_REPLICAS, DEFAULT_MIN_REPLICAS};
pub use super::load::LoadDecisions;
pub use super::overrides::Budget;
use super::schedule::{Schedule, WindowConfig};
use crate::target::check_targets;
pub use crate::target::{ConfigError, Target, TargetKind};
use crate::yaml::{self, FileError};

/// The whole evaluation config file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EvaluationConfig {
    /// What the service must meet; a miss of any one scales up. At least one.
    pub targets: Vec<Target>,
    /// When and by how much to scale down after quiet runs (LPA-compatible).
    #[serde(default)]
    pub decay: Decay,
    /// How far and how often to scale up when a target is missed.
    #[serde(default)]
    pub scale_up: ScaleUp,
    /// The count to answer after evaluations fail in a row, like KEDA's
    /// `fallback`; none by default (a failed evaluation answers nothing).
    #[serde(default)]
    pub fallback: Option<Fallback>,
    /// Lowest replica count ever answered; overrides the `minReplicas`
    /// environment variable.
    #[serde(default)]
    pub min_replicas: Option<u32>,
    /// Highest replica count ever answered; overrides the `maxReplicas`
    /// environment variable.
    #[serde(default)]
    pub max_replicas: Option<u32>,
    /// Schedule windows: replica bounds that hold at certain times of day
    /// (the `schedule` module). Later windows win where they overlap.
    #[serde(default)]
    pub schedules: Vec<WindowConfig>,
    /// `schedules` checked, built once when the config is loaded.
    #[serde(skip)]
    schedule: Schedule,
    /// The alert boosts file `gpa alerts` writes, read on every run; a
    /// missing file means no boost.
    #[serde(default)]
    pub boosts_file: Option<PathBuf>,
    /// A replica ceiling from a cost limit.
    #[serde(default)]
    pub budget: Option<Budget>,
    /// How long replicas our answers added may take to get ready, seconds:
    /// within it an unready one is *starting* (a miss waits for it, a decay
    /// waits until it is ready); past it, or when we did not add it, it is
    /// *unready* (not counted, holds nothing). Default 120.
    #[serde(default = "default_startup_allowance_seconds")]
    pub startup_allowance_seconds: u64,
    /// `load:`: where the metric stage reads the service's load besides the
    /// probe (`load.prometheus`, see [`crate::metric::load_query`]) and, with
    /// `load.cpu` or `load.prometheus`, the load rules of the decision (the
    /// `load` and `query_load` modules); without either, every decision is
    /// the latency rules' alone.
    #[serde(default)]
    pub load: Option<LoadDecisions>,
    /// The evaluation status file, on the volume shared with `gpa alerts`,
    /// which exports it on `/metrics` (new; [`crate::status`]); written
    /// after every run that is not a dry run. None: not written.
    #[serde(default)]
    pub status_file: Option<PathBuf>,
}

pub use crate::cpa::DEFAULT_STARTUP_ALLOWANCE_SECONDS;

fn default_startup_allowance_seconds() -> u64 {
    DEFAULT_STARTUP_ALLOWANCE_SECONDS
}

/// Scale-down after quiet runs, exactly as the LPA did it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Decay {
    /// Replicas removed by one decay. Default 1; 0 disables decay (as in
    /// the LPA).
    #[serde(default = "Decay::default_replicas")]
    pub replicas: u32,
    /// Percent of the current replicas removed by one decay (rounded down),
    /// at least `replicas`; none by default.
    #[serde(default)]
    pub percent: Option<u32>,
    /// Quiet runs (no change, no target missed) that must pass before a
    /// decay: with 3, three quiet runs pass and the fourth decays. Default 3.
    #[serde(default = "Decay::default_unchanged_runs")]
    pub unchanged_runs: u32,
}

impl Decay {
    fn default_replicas() -> u32 {
        1
    }
    fn default_unchanged_runs() -> u32 {
        3
    }
}

impl Default for Decay {
    fn default() -> Self {
        Decay {
            replicas: Self::default_replicas(),
            percent: None,
            unchanged_runs: Self::default_unchanged_runs(),
        }
    }
}

/// How to scale up when a target is missed (the defaults are the LPA's
/// rule: one replica per run, no cooldown).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaleUp {
    /// `step` (+`replicas`) or `proportional` (in proportion to how far the
    /// worst latency target is missed). Default `step`.
    #[serde(default)]
    pub policy: ScaleUpPolicy,
    /// Replicas one scale-up adds under `step`, and the least it adds under
    /// `proportional` (the batch scaler's `scaleUpBatchSize`). Default 1.
    #[serde(default = "ScaleUp::default_replicas")]
    pub replicas: u32,
    /// Most replicas added by one scale-up; unlimited when absent (unless
    /// `maxPercent` is set). With `maxPercent`, the larger cap wins.
    #[serde(default)]
    pub max_step: Option<u32>,
    /// Most replicas added by one scale-up, as a percent of the current count
    /// (rounded up, at least 1); unlimited when absent (unless `maxStep` is
    /// set). With `maxStep`, the larger cap wins, as HPA's `selectPolicy: Max`.
    #[serde(default)]
    pub max_percent: Option<u32>,
    /// Seconds after a scale-up this autoscaler answered during which no
    /// further scale-up is proposed, so that new replicas can start first.
    /// Default 0.
    #[serde(default)]
    pub cooldown_seconds: u64,
}

impl Default for ScaleUp {
    fn default() -> Self {
        ScaleUp {
            policy: ScaleUpPolicy::default(),
            replicas: Self::default_replicas(),
            max_step: None,
            max_percent: None,
            cooldown_seconds: 0,
        }
    }
}

impl ScaleUp {
    fn default_replicas() -> u32 {
        1
    }

    /// The most replicas one scale-up from `current` may add, and the key
    /// that sets it (the larger of `maxStep` and `maxPercent` when both are
    /// set); `None` when neither is.
    pub fn max_added(&self, current: u32) -> Option<(u32, String)> {
        let by_step = self
            .max_step
            .map(|step| (step, format!("scaleUp.maxStep {step}")));
        let by_percent = self.max_percent.map(|percent| {
            let added = (u64::from(current) * u64::from(percent))
                .div_ceil(100)
                .max(1);
            let added = u32::try_from(added).unwrap_or(u32::MAX);
            (added, format!("scaleUp.maxPercent {percent} (+{added})"))
        });
        match (by_step, by_percent) {
            (Some(step), Some(percent)) if percent.0 > step.0 => Some(percent),
            (Some(step), _) => Some(step),
            (None, percent) => percent,
        }
    }
}

/// How many replicas a scale-up adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ScaleUpPolicy {
    /// One replica per run (the LPA's rule).
    #[default]
    Step,
    /// `ceil(current × measured / target)` of the worst missed latency target,
    /// at least one more than now.
    Proportional,
}

/// What to answer when evaluations keep failing (KEDA's `fallback`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fallback {
    /// Evaluations in a row that failed because the report could not be
    /// judged (a target without a result, a target whose requests all failed)
    /// after which `replicas` is answered. At least 1.
    pub failed_runs: u32,
    /// The replica count answered then, within the bounds. At least 1.
    pub replicas: u32,
}

impl EvaluationConfig {
    /// Reads, parses and validates the config at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let config: EvaluationConfig =
            yaml::load_file(path).map_err(|error| ConfigError::from_file(path, error))?;
        config.validated(path)
    }

    /// Parses and validates config text; `path` names it in errors.
    pub fn parse_str(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: EvaluationConfig = yaml::parse_str(text)
            .map_err(|error| ConfigError::from_file(path, FileError::Parse(error)))?;
        config.validated(path)
    }

    /// The replica bounds: the config's keys, else the CPA's settings
    /// (`cpa_min`, `cpa_max`: its variables, else its config file), else the
    /// CPA's defaults 1 and 10.
    pub fn bounds(
        &self,
        path: &Path,
        cpa_min: Option<u32>,
        cpa_max: Option<u32>,
    ) -> Result<Bounds, ConfigError> {
        Bounds::resolve(
            path,
            (self.min_replicas, self.max_replicas),
            (cpa_min, cpa_max),
        )
    }

    /// The `load:` section when it turns the load rules on (`load.cpu`, or
    /// `load.prometheus`: the query's value is a source of its own).
    pub fn load_rules(&self) -> Option<&LoadDecisions> {
        self.load
            .as_ref()
            .filter(|load| load.cpu.is_some() || load.prometheus.is_some())
    }

    /// `load.prometheus`: the query the metric stage runs, if any.
    pub fn prometheus(&self) -> Option<&crate::metric::load_query::PrometheusConfig> {
        self.load.as_ref().and_then(|load| load.prometheus.as_ref())
    }

    /// The checked schedule windows, built when the config was loaded.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// True when any bound override is configured (`schedules`,
    /// `boostsFile`, `budget`): then the CPA's own bounds are applied last.
    pub fn has_overrides(&self) -> bool {
        !self.schedules.is_empty() || self.boosts_file.is_some() || self.budget.is_some()
    }

    /// The config as parsed from `path`, checked, with its schedule built.
    fn validated(mut self, path: &Path) -> Result<Self, ConfigError> {
        self.schedule = self.validate(path)?;
        Ok(self)
    }

    /// The first fault of the config, else its checked schedule.
    fn validate(&self, path: &Path) -> Result<Schedule, ConfigError> {
        let invalid = |key: String, problem: String| ConfigError::Invalid {
            path: path.to_owned(),
            key,
            problem,
        };
        check_targets(&self.targets, path)?;
        if let Some(percent) = self.decay.percent {
            if !(1..=100).contains(&percent) {
                return Err(invalid(
                    "decay.percent".into(),
                    format!("'{percent}' is out of range; expected 1 to 100"),
                ));
            }
            if self.decay.replicas == 0 {
                return Err(invalid(
                    "decay.percent".into(),
                    format!(
                        "'{percent}' is given with decay.replicas '0', which disables decay; expected one of the two"
                    ),
                ));
            }
        }
        for (key, value) in [
            ("scaleUp.replicas", Some(self.scale_up.replicas)),
            ("scaleUp.maxStep", self.scale_up.max_step),
            ("scaleUp.maxPercent", self.scale_up.max_percent),
        ] {
            if value == Some(0) {
                return Err(invalid(
                    key.into(),
                    "'0' is out of range; expected 1 or more".into(),
                ));
            }
        }
        if let Some(fallback) = self.fallback {
            for (key, value) in [
                ("fallback.failedRuns", fallback.failed_runs),
                ("fallback.replicas", fallback.replicas),
            ] {
                if value == 0 {
                    return Err(invalid(
                        key.into(),
                        "'0' is out of range; expected 1 or more".into(),
                    ));
                }
            }
        }
        let schedule =
            Schedule::parse(&self.schedules).map_err(|(key, problem)| invalid(key, problem))?;
        if let Some((key, problem)) = self.load.as_ref().and_then(LoadDecisions::problem) {
            return Err(invalid(key, problem));
        }
        if let Some((key, problem)) = self.budget.as_ref().and_then(Budget::problem) {
            return Err(invalid(key, problem));
        }
        bounds::check(
            path,
            self.min_replicas.map(|min| (min, "minReplicas")),
            self.max_replicas.map(|max| (max, "maxReplicas")),
        )?;
        Ok(schedule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LPA: &str = "targets:\n  - method: \"GET\"\n    endpoint: \"/fibonacci?n=10\"\n    type: \"mean\"\n    target: 7\ndecay:\n  replicas: 1\n  unchangedRuns: 3\n";

    fn parse(text: &str) -> Result<EvaluationConfig, String> {
        EvaluationConfig::parse_str(text, Path::new("c.yaml")).map_err(|err| err.to_string())
    }

    #[test]
    fn an_lpa_config_loads_with_the_lpa_s_behaviour_as_defaults() {
        let config = parse(LPA).unwrap();
        assert_eq!(config.targets[0].request_key(), "GET /fibonacci?n=10");
        assert_eq!(config.targets[0].kind, TargetKind::Mean);
        assert_eq!(config.targets[0].tolerance, 0.0);
        assert_eq!(
            config.decay,
            Decay {
                replicas: 1,
                percent: None,
                unchanged_runs: 3
            }
        );
        assert_eq!(config.scale_up, ScaleUp::default());
        assert_eq!(config.scale_up.policy, ScaleUpPolicy::Step);
        assert_eq!((config.min_replicas, config.max_replicas), (None, None));
        assert_eq!(config.fallback, None);
    }

    #[test]
    fn json_and_every_new_key_are_accepted() {
        let config = parse(
            r#"{"targets": [{"method": "post", "name": "login", "type": "p95", "target": 250, "tolerance": 0.1, "downTolerance": 0.2},
                {"method": "GET", "endpoint": "/", "type": "errorRate", "target": 0.01}],
                "scaleUp": {"policy": "proportional", "replicas": 2, "maxStep": 4, "maxPercent": 50, "cooldownSeconds": 60},
                "decay": {"replicas": 1, "percent": 25, "unchangedRuns": 2},
                "fallback": {"failedRuns": 3, "replicas": 6},
                "minReplicas": 2, "maxReplicas": 20}"#,
        )
        .unwrap();
        assert_eq!(config.targets[0].request_key(), "POST login");
        assert_eq!(config.scale_up.cooldown_seconds, 60);
        assert_eq!(config.scale_up.max_step, Some(4));
        assert_eq!(config.scale_up.replicas, 2);
        assert_eq!(config.scale_up.max_percent, Some(50));
        assert_eq!(config.decay.percent, Some(25));
        assert_eq!(
            config.fallback,
            Some(Fallback {
                failed_runs: 3,
                replicas: 6
            })
        );
        let bounds = config
            .bounds(Path::new("c.yaml"), Some(5), Some(6))
            .unwrap();
        assert_eq!(bounds, Bounds { min: 2, max: 20 });
    }

    #[test]
    fn parse_errors_are_one_line_with_file_line_and_column() {
        let cases = [
            (
                LPA.replace("\"mean\"", "\"p98\""),
                "invalid evaluation config 'c.yaml' at line 4 column 11: unknown variant `p98`, expected one of mean, median, min, max, p50, p75, p90, p95, p99, errorRate",
            ),
            (
                LPA.replace("target: 7", "target: 7\n    colour: red"),
                "invalid evaluation config 'c.yaml' at line 6 column 5: unknown field `colour`, expected one of method, endpoint, name, type, target, tolerance, downTolerance",
            ),
            (
                LPA.replace("unchangedRuns", "unchangedRun"),
                "invalid evaluation config 'c.yaml' at line 8 column 3: unknown field `unchangedRun`, expected one of replicas, percent, unchangedRuns",
            ),
            (
                LPA.replace("decay:", "scaleup:"),
                "invalid evaluation config 'c.yaml' at line 6 column 1: unknown field `scaleup`",
            ),
            (
                LPA.replace("target: 7", "target: seven"),
                "invalid evaluation config 'c.yaml' at line 5 column 13: invalid floating point",
            ),
            (
                LPA.replace("    target: 7\n", ""),
                "invalid evaluation config 'c.yaml' at line 4 column 5: missing field `target`",
            ),
            (
                format!("{LPA}fallback: {{failedRuns: 2}}\n"),
                "invalid evaluation config 'c.yaml' at line 9 column 12: missing field `replicas`",
            ),
            (
                "targets: [\n".to_owned(),
                "invalid evaluation config 'c.yaml' at line 1 column 10: unclosed bracket",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(&text).unwrap_err();
            assert!(err.starts_with(expected), "\n got: {err}\nwant: {expected}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn validation_errors_name_the_key_path() {
        let second = |fields: &str| LPA.replace("decay:", &format!("  - {{{fields}}}\ndecay:"));
        let cases = [
            (
                "targets: []\n".to_owned(),
                "targets is empty; expected at least one target",
            ),
            (
                second("method: GET, endpoint: /x, type: mean, target: 0"),
                "targets[1].target '0' is out of range; expected milliseconds above 0",
            ),
            (
                second("method: GET, endpoint: /x, type: p99, target: .nan"),
                "targets[1].target 'NaN' is out of range",
            ),
            (
                second("method: GET, endpoint: /x, type: errorRate, target: 1.5"),
                "targets[1].target '1.5' is out of range; expected an errorRate fraction from 0 to 1",
            ),
            (
                second("method: GET, endpoint: /x, type: mean, target: 5, tolerance: -0.1"),
                "targets[1].tolerance '-0.1' is out of range",
            ),
            (
                second("method: GET, type: mean, target: 5"),
                "targets[1] has neither 'endpoint' nor 'name'",
            ),
            (
                second("method: GET, endpoint: /x, name: x, type: mean, target: 5"),
                "targets[1].name is given together with 'endpoint'",
            ),
            (
                second("method: GET, endpoint: '', type: mean, target: 5"),
                "targets[1].endpoint is empty",
            ),
            (
                second("method: ' ', endpoint: /x, type: mean, target: 5"),
                "targets[1].method is empty",
            ),
            (
                format!("{LPA}scaleUp: {{maxStep: 0}}\n"),
                "scaleUp.maxStep '0' is out of range",
            ),
            (
                format!("{LPA}scaleUp: {{replicas: 0}}\n"),
                "scaleUp.replicas '0' is out of range; expected 1 or more",
            ),
            (
                format!("{LPA}scaleUp: {{maxPercent: 0}}\n"),
                "scaleUp.maxPercent '0' is out of range; expected 1 or more",
            ),
            (
                LPA.replace("replicas: 1", "replicas: 1\n  percent: 101"),
                "decay.percent '101' is out of range; expected 1 to 100",
            ),
            (
                LPA.replace("replicas: 1", "replicas: 0\n  percent: 50"),
                "decay.percent '50' is given with decay.replicas '0', which disables decay; expected one of the two",
            ),
            (
                second("method: GET, endpoint: /x, type: mean, target: 5, downTolerance: 1"),
                "targets[1].downTolerance '1' is out of range; expected a fraction from 0 to below 1",
            ),
            (
                second("method: GET, endpoint: /x, type: mean, target: 5, downTolerance: -0.2"),
                "targets[1].downTolerance '-0.2' is out of range",
            ),
            (
                format!("{LPA}fallback: {{failedRuns: 0, replicas: 3}}\n"),
                "fallback.failedRuns '0' is out of range; expected 1 or more",
            ),
            (
                format!("{LPA}fallback: {{failedRuns: 2, replicas: 0}}\n"),
                "fallback.replicas '0' is out of range; expected 1 or more",
            ),
            (
                format!("{LPA}minReplicas: 5\nmaxReplicas: 4\n"),
                "minReplicas '5' is above maxReplicas '4'",
            ),
            (
                format!("{LPA}maxReplicas: 0\n"),
                "maxReplicas '0' is out of range",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(&text).unwrap_err();
            let expected = format!("invalid evaluation config 'c.yaml': {expected}");
            assert!(
                err.starts_with(&expected),
                "\n got: {err}\nwant: {expected}"
            );
        }
    }

    #[test]
    fn decay_replicas_zero_disables_decay_as_in_the_lpa() {
        let config = parse(&LPA.replace("replicas: 1", "replicas: 0")).unwrap();
        assert_eq!(config.decay.replicas, 0);
    }

    #[test]
    fn the_larger_of_max_step_and_max_percent_caps_a_scale_up() {
        let scale_up = |max_step, max_percent| ScaleUp {
            max_step,
            max_percent,
            ..ScaleUp::default()
        };
        let cases = [
            (None, None, 10, None),
            (Some(3), None, 10, Some((3, "scaleUp.maxStep 3"))),
            (None, Some(50), 10, Some((5, "scaleUp.maxPercent 50 (+5)"))),
            // rounded up, and at least 1
            (None, Some(50), 3, Some((2, "scaleUp.maxPercent 50 (+2)"))),
            (None, Some(10), 1, Some((1, "scaleUp.maxPercent 10 (+1)"))),
            (
                Some(3),
                Some(100),
                10,
                Some((10, "scaleUp.maxPercent 100 (+10)")),
            ),
            (Some(3), Some(100), 2, Some((3, "scaleUp.maxStep 3"))),
        ];
        for (max_step, max_percent, current, want) in cases {
            let got = scale_up(max_step, max_percent).max_added(current);
            let want = want.map(|(added, key)| (added, key.to_owned()));
            assert_eq!(got, want, "{max_step:?} {max_percent:?} at {current}");
        }
    }

    #[test]
    fn an_unreadable_config_names_its_path() {
        let err = EvaluationConfig::load(Path::new("/nonexistent/evaluation_config.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cannot read evaluation config '/nonexistent/evaluation_config.yaml': No such file or directory"),
            "{err}"
        );
    }
}
