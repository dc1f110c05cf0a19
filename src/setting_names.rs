//! Every setting name we read, in one table per stage, and what is done with
//! a name that is *almost* one of them.
//!
//! The CPA operator puts every `spec.config` entry of the resource, plus
//! `scaleTargetRef` and `namespace`, into the environment of every container,
//! so a misspelled setting (`gooseUser=3` for `gooseUsers`) arrives as a
//! variable nobody reads and is silently ignored. Each stage therefore looks
//! at its environment once at start and warns, one line per variable, about
//! a near miss of one of **its own** names: the same name in another case, a
//! small edit distance away, or a name with one of the stage's prefixes
//! (`goose`, `locust` for the metric stage). The other stage's names and the
//! CPA's own configuration keys ([`CPA_KEYS`]) never warn.
//!
//! `gpa simulate --set` and a load profile's `pluginSettings` go further: a
//! name that is no setting of either stage is an error, with a tip naming
//! the setting meant ([`check_plugin_setting`]).
//!
//! A setting added to a stage is added here (its [`Setting`] constant and its
//! stage's table), and counts everywhere at once; a test checks every
//! environment variable each stage's clap arguments read is in its table.

use crate::settings::Setting;

/// The metric stage's settings (`gpa-metric`).
pub mod metric {
    use crate::settings::Setting;

    /// `--host`, `gooseHost`, alias `locustHost`.
    pub const HOST: Setting = Setting::with_alias("host", "gooseHost", "locustHost");
    /// `--users`, `gooseUsers`, alias `locustUsers`.
    pub const USERS: Setting = Setting::with_alias("users", "gooseUsers", "locustUsers");
    /// `--hatch-rate`, `gooseHatchRate`, alias `locustHatchRate`.
    pub const HATCH_RATE: Setting =
        Setting::with_alias("hatch-rate", "gooseHatchRate", "locustHatchRate");
    /// `--run-time`, `gooseRunTime`, alias `locustRunTime`.
    pub const RUN_TIME: Setting = Setting::with_alias("run-time", "gooseRunTime", "locustRunTime");
    /// `--request-timeout`, `gooseRequestTimeout`.
    pub const REQUEST_TIMEOUT: Setting = Setting::new("request-timeout", "gooseRequestTimeout");
    /// `--scenario-file`, `scenarioFilePath`.
    pub const SCENARIO_FILE: Setting = Setting::new("scenario-file", "scenarioFilePath");
    /// `--ca-cert`, `gooseCaCertPath`.
    pub const CA_CERT: Setting = Setting::new("ca-cert", "gooseCaCertPath");
    /// `--insecure-skip-tls-verify`, `gooseInsecureSkipTlsVerify`.
    pub const INSECURE: Setting =
        Setting::new("insecure-skip-tls-verify", "gooseInsecureSkipTlsVerify");
    /// `--evaluation-config`, `evaluationConfigFilePath`.
    pub const EVALUATION_CONFIG: Setting =
        Setting::new("evaluation-config", "evaluationConfigFilePath");
    /// `--early-stop`, `gooseEarlyStop`.
    pub const EARLY_STOP: Setting = Setting::new("early-stop", "gooseEarlyStop");
    /// `--verdict-confidence`, `gooseVerdictConfidence`.
    pub const CONFIDENCE: Setting = Setting::new("verdict-confidence", "gooseVerdictConfidence");
    /// `--min-run-time`, `gooseMinRunTime`.
    pub const MIN_RUN_TIME: Setting = Setting::new("min-run-time", "gooseMinRunTime");
    /// `--min-requests`, `gooseMinRequests`.
    pub const MIN_REQUESTS: Setting = Setting::new("min-requests", "gooseMinRequests");
    /// `--state`, `decayInfoFilePath`: the evaluate stage's state, read only.
    pub const STATE: Setting = Setting::new("state", "decayInfoFilePath");
    /// `--now`, `gpaNow`: the instant the run starts.
    pub const NOW: Setting = Setting::new("now", "gpaNow");
    /// `--prometheus-url`, `prometheusUrl`: overrides the evaluation config's
    /// `load.prometheus.url`.
    pub const PROMETHEUS_URL: Setting = Setting::new("prometheus-url", "prometheusUrl");

    /// The Locust Pod Autoscaler's locustfile setting. A locustfile cannot
    /// run here, so setting it is an error rather than silently ignored.
    pub const LOCUST_FILE: &str = "locustFilePath";

    /// Every setting of the metric stage.
    pub const SETTINGS: &[Setting] = &[
        HOST,
        USERS,
        HATCH_RATE,
        RUN_TIME,
        REQUEST_TIMEOUT,
        SCENARIO_FILE,
        CA_CERT,
        INSECURE,
        EVALUATION_CONFIG,
        EARLY_STOP,
        CONFIDENCE,
        MIN_RUN_TIME,
        MIN_REQUESTS,
        STATE,
        NOW,
        PROMETHEUS_URL,
    ];
}

/// The evaluate stage's settings (`gpa-evaluate`).
pub mod evaluate {
    use crate::settings::Setting;

    /// `--config`, `evaluationConfigFilePath`.
    pub const CONFIG: Setting = Setting::new("config", "evaluationConfigFilePath");
    /// `--state`, `decayInfoFilePath`.
    pub const STATE: Setting = Setting::new("state", "decayInfoFilePath");
    /// `--min-replicas`, `minReplicas` (the CPA's own key, read too).
    pub const MIN_REPLICAS: Setting = Setting::new("min-replicas", "minReplicas");
    /// `--max-replicas`, `maxReplicas` (the CPA's own key, read too).
    pub const MAX_REPLICAS: Setting = Setting::new("max-replicas", "maxReplicas");
    /// `--cpa-config`, `configPath` (the CPA's own variable, read too).
    pub const CPA_CONFIG: Setting = Setting::new("cpa-config", "configPath");
    /// `--now`, `gpaNow`.
    pub const NOW: Setting = Setting::new("now", "gpaNow");
    /// `--lock-timeout-ms`, `lockTimeoutMs`.
    pub const LOCK_TIMEOUT: Setting = Setting::new("lock-timeout-ms", "lockTimeoutMs");

    /// Every setting of the evaluate stage.
    pub const SETTINGS: &[Setting] = &[
        CONFIG,
        STATE,
        MIN_REPLICAS,
        MAX_REPLICAS,
        CPA_CONFIG,
        NOW,
        LOCK_TIMEOUT,
    ];
}

/// The CPA's own configuration keys (`config.Config` of
/// custom-pod-autoscaler 2.x, plus `configPath`): they reach every
/// container's environment and are never a near miss of ours.
pub const CPA_KEYS: &[&str] = &[
    "scaleTargetRef",
    "namespace",
    "preMetric",
    "postMetric",
    "preEvaluate",
    "postEvaluate",
    "preScale",
    "postScale",
    "evaluate",
    "metric",
    "interval",
    "minReplicas",
    "maxReplicas",
    "runMode",
    "startTime",
    "logVerbosity",
    "downscaleStabilization",
    "apiConfig",
    "kubernetesMetricSpecs",
    "requireKubernetesMetrics",
    "initialReadinessDelay",
    "cpuInitializationPeriod",
    "configPath",
];

/// A stage that reads settings from its environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `gpa-metric`.
    Metric,
    /// `gpa-evaluate`.
    Evaluate,
}

impl Stage {
    /// The stage's executable, as messages name it.
    pub fn executable(self) -> &'static str {
        match self {
            Stage::Metric => "gpa-metric",
            Stage::Evaluate => "gpa-evaluate",
        }
    }

    /// The stage's settings.
    pub fn settings(self) -> &'static [Setting] {
        match self {
            Stage::Metric => metric::SETTINGS,
            Stage::Evaluate => evaluate::SETTINGS,
        }
    }

    /// Every variable name the stage reads: its settings' variables and
    /// aliases, and the names it reads besides (`locustFilePath`, to refuse
    /// it; `GPA_LOG`).
    pub fn names(self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self
            .settings()
            .iter()
            .flat_map(|setting| [Some(setting.variable), setting.alias])
            .flatten()
            .collect();
        if self == Stage::Metric {
            names.push(metric::LOCUST_FILE);
        }
        names.push(crate::logging::FILTER_ENV);
        names
    }

    /// Prefixes only this stage's names use: any variable that starts with
    /// one (in any case) and is not one of its names is a near miss.
    fn prefixes(self) -> &'static [&'static str] {
        match self {
            Stage::Metric => &["goose", "locust"],
            Stage::Evaluate => &[],
        }
    }
}

/// Is `name` one that either stage reads, or a key of the CPA's own?
fn is_known(name: &str) -> bool {
    CPA_KEYS.contains(&name)
        || [Stage::Metric, Stage::Evaluate]
            .iter()
            .any(|stage| stage.names().contains(&name))
}

/// The most edits (insertions, deletions, substitutions, transpositions of
/// neighbours, case ignored) that still make `candidate` a slip for `name`:
/// 1 for names shorter than 8 characters, 2 from 8 on.
fn max_edits(name: &str) -> usize {
    if name.chars().count() < 8 { 1 } else { 2 }
}

/// The setting of `stage` that `variable` is a near miss of, if any: none
/// for a name either stage reads or a CPA key; else the stage's name it is
/// a slip for: the same in another case or a few edits away, cut short or
/// run on, or (its closest name) sharing one of the stage's prefixes.
pub fn near_miss(stage: Stage, variable: &str) -> Option<&'static str> {
    if is_known(variable) {
        return None;
    }
    let lower = variable.to_ascii_lowercase();
    let (distance, closest) = stage
        .names()
        .into_iter()
        .map(|name| {
            let distance = strsim::damerau_levenshtein(&lower, &name.to_ascii_lowercase());
            (distance, name)
        })
        .min()?;
    if distance <= max_edits(closest) {
        return Some(closest);
    }
    // A name cut short or run on: `decayInfoFile`, `gooseUsersMax`.
    let truncated = stage.names().into_iter().find(|name| {
        let name = name.to_ascii_lowercase();
        name.len().min(lower.len()) >= MIN_SHARED_START
            && (name.starts_with(&lower) || lower.starts_with(&name))
    });
    if truncated.is_some() {
        return truncated;
    }
    let prefixed = stage
        .prefixes()
        .iter()
        .any(|prefix| lower.starts_with(prefix));
    prefixed.then_some(closest)
}

/// The shortest start a variable must share with a whole setting name (or
/// the name with it) to count as that name cut short or run on.
const MIN_SHARED_START: usize = 6;

/// One warning line per environment variable that is a near miss of one of
/// `stage`'s settings, in the order given.
pub fn near_miss_warnings(
    stage: Stage,
    variables: impl IntoIterator<Item = String>,
) -> Vec<String> {
    variables
        .into_iter()
        .filter_map(|variable| {
            let meant = near_miss(stage, &variable)?;
            Some(format!(
                "environment variable '{variable}' is not a setting of {} and is ignored; \
                 tip: a similar setting exists: '{meant}'",
                stage.executable()
            ))
        })
        .collect()
}

/// Logs [`near_miss_warnings`] for the process's own environment on stderr.
pub fn warn_near_misses(stage: Stage) {
    let names = std::env::vars_os().filter_map(|(name, _)| name.into_string().ok());
    for line in near_miss_warnings(stage, names) {
        tracing::warn!("{line}");
    }
}

/// Is `name` an environment variable in the shell's own style
/// (`API_TOKEN`: upper case letters, digits and `_`), as a scenario's
/// `${VARIABLE}` header values name them?
fn is_upper_snake(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Refuses a plugin setting name (`gpa simulate --set`, a profile's
/// `pluginSettings`) that neither stage reads. Accepted: any name of either
/// stage, and UPPER_CASE variables (for a scenario's `${VARIABLE}` headers).
/// The error is one line with clap's kind of tip when a setting is close.
pub fn check_plugin_setting(name: &str) -> Result<(), String> {
    if [Stage::Metric, Stage::Evaluate]
        .iter()
        .any(|stage| stage.names().contains(&name))
        || is_upper_snake(name)
    {
        return Ok(());
    }
    let tip = [Stage::Metric, Stage::Evaluate]
        .iter()
        .filter_map(|stage| near_miss(*stage, name))
        .next()
        .or_else(|| closest_of_all(name))
        .map(|meant| format!("; tip: a similar setting exists: '{meant}'"))
        .unwrap_or_default();
    Err(format!(
        "setting '{name}' is not a setting of gpa-metric or gpa-evaluate; expected one of their \
         settings (docs/settings.md), or an UPPER_CASE variable a scenario header names{tip}"
    ))
}

/// The closest name of either stage, when it is a few edits from `name`
/// (a CPA key such as `minReplicas` is also an evaluate setting).
fn closest_of_all(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    [Stage::Metric, Stage::Evaluate]
        .iter()
        .flat_map(|stage| stage.names())
        .map(|known| {
            let distance = strsim::damerau_levenshtein(&lower, &known.to_ascii_lowercase());
            (distance, known)
        })
        .filter(|(distance, known)| *distance <= max_edits(known))
        .min()
        .map(|(_, known)| known)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The environment variables a clap command reads.
    fn clap_variables(command: clap::Command) -> Vec<String> {
        command
            .get_arguments()
            .filter_map(|arg| arg.get_env())
            .map(|env| env.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn every_variable_a_stage_s_flags_read_is_in_its_table() {
        for (stage, command) in [
            (Stage::Metric, crate::metric::MetricArgs::command()),
            (Stage::Evaluate, crate::evaluate::Args::command()),
        ] {
            let variables = clap_variables(command.clone());
            for variable in &variables {
                let setting = stage
                    .settings()
                    .iter()
                    .find(|setting| setting.variable == variable)
                    .unwrap_or_else(|| panic!("{variable} of {stage:?} is not in the table"));
                let flag = command
                    .get_arguments()
                    .find(|arg| arg.get_env().is_some_and(|env| env == variable.as_str()))
                    .and_then(|arg| arg.get_long());
                assert_eq!(flag, Some(setting.flag), "{variable}");
            }
            for setting in stage.settings() {
                assert!(
                    variables.iter().any(|v| v == setting.variable),
                    "{} of {stage:?} is read by no flag",
                    setting.variable
                );
            }
        }
    }

    #[test]
    fn a_near_miss_of_a_stage_s_own_setting_names_the_setting_meant() {
        let cases = [
            (Stage::Metric, "gooseUser", Some("gooseUsers")),
            (Stage::Metric, "gooseHots", Some("gooseHost")),
            (Stage::Metric, "GOOSEUSERS", Some("gooseUsers")),
            (Stage::Metric, "goose_run_time", Some("gooseRunTime")),
            (Stage::Metric, "gooseThreads", Some("gooseUsers")),
            (Stage::Metric, "locustUser", Some("locustUsers")),
            (Stage::Metric, "scenarioFilepath", Some("scenarioFilePath")),
            (Stage::Evaluate, "decayInfoFile", Some("decayInfoFilePath")),
            (Stage::Metric, "gooseUsersMax", Some("gooseUsers")),
            (Stage::Evaluate, "gpaNOW", Some("gpaNow")),
            (Stage::Evaluate, "lockTimeoutMS", Some("lockTimeoutMs")),
            // Exact names of either stage, and the CPA's own keys: silent.
            (Stage::Metric, "gooseUsers", None),
            (Stage::Evaluate, "gooseUsers", None),
            (Stage::Metric, "decayInfoFilePath", None),
            (Stage::Metric, "interval", None),
            (Stage::Evaluate, "minReplicas", None),
            (Stage::Evaluate, "kubernetesMetricSpecs", None),
            (Stage::Evaluate, "requireKubernetesMetrics", None),
            (Stage::Evaluate, "downscaleStabilization", None),
            (Stage::Metric, "scaleTargetRef", None),
            (Stage::Metric, "namespace", None),
            (Stage::Metric, "runMode", None),
            (Stage::Metric, "startTime", None),
            (Stage::Metric, "apiConfig", None),
            // Another stage's near miss is that stage's to report.
            (Stage::Evaluate, "gooseUser", None),
            (Stage::Metric, "lockTimeoutMS", None),
            // What a pod's environment holds besides.
            (Stage::Metric, "HOSTNAME", None),
            (Stage::Metric, "HOME", None),
            (Stage::Metric, "PATH", None),
            (Stage::Evaluate, "KUBERNETES_SERVICE_HOST", None),
            (Stage::Metric, "FIBONACCI_PORT_8000_TCP_ADDR", None),
        ];
        for (stage, variable, want) in cases {
            assert_eq!(near_miss(stage, variable), want, "{stage:?} {variable}");
        }
        assert_eq!(
            near_miss_warnings(Stage::Metric, ["PATH".into(), "gooseUser".into()]),
            [
                "environment variable 'gooseUser' is not a setting of gpa-metric and is ignored; \
              tip: a similar setting exists: 'gooseUsers'"
            ]
        );
    }

    #[test]
    fn a_plugin_setting_must_be_one_of_the_stages_settings() {
        assert_eq!(check_plugin_setting("gooseUsers"), Ok(()));
        assert_eq!(check_plugin_setting("lockTimeoutMs"), Ok(()));
        assert_eq!(check_plugin_setting("API_TOKEN"), Ok(()));
        assert_eq!(check_plugin_setting("GPA_LOG"), Ok(()));
        assert_eq!(
            check_plugin_setting("gooseUser").unwrap_err(),
            "setting 'gooseUser' is not a setting of gpa-metric or gpa-evaluate; expected one of \
             their settings (docs/settings.md), or an UPPER_CASE variable a scenario header names; \
             tip: a similar setting exists: 'gooseUsers'"
        );
        assert!(
            check_plugin_setting("decayInfoFile")
                .unwrap_err()
                .ends_with("tip: a similar setting exists: 'decayInfoFilePath'")
        );
        let far = check_plugin_setting("colour").unwrap_err();
        assert!(!far.contains("tip"), "{far}");
    }
}
