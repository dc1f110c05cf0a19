//! The evaluate stage: from the CPA's evaluate input to `{"targetReplicas":N}`.
//!
//! [`main_with`] is the whole process behind `gpa-evaluate`'s flags: it
//! resolves the [`Settings`] and calls [`run`], which reads the evaluation
//! config, decodes stdin (only the targeted requests), takes the state lock,
//! loads the decay state, calls the pure [`decision::decide`] and saves the new
//! state, all or nothing. A report that cannot be judged goes to the pure
//! [`fallback::after_failure`]: with a `fallback` configured the failure is
//! counted in the state (and on the N-th in a row the fallback count is
//! answered); without one, or on any other error, the state file is left as
//! it was. A dry run (`api_dry_run`) decides the same but neither locks nor
//! writes anything.

mod backlog;
pub mod bounds;
pub mod config;
pub mod decision;
mod facts;
pub mod fallback;
mod listing;
pub mod load;
mod load_config;
mod load_rules;
mod measure;
mod memory;
mod next_state;
pub mod overrides;
mod policy;
mod query_load;
pub mod rules;
pub mod schedule;
pub mod settings;
mod status;

pub use bounds::Bounds;
pub use settings::{Args, DEFAULT_CONFIG_PATH, DEFAULT_STATE_PATH, Settings};

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::SystemTime;

use anyhow::Context;
use jiff::Timestamp;

use crate::boosts::BoostsFile;
use crate::cpa::{self, Evaluation, InputError};
use crate::logging;
use crate::report::Keep;
use crate::state::{DecayState, LoadedState, StateError, StateFile, StateLock};
use bounds::CpaFileBounds;
use config::{ConfigError, EvaluationConfig, Target};
use decision::{Decision, DecisionError, Observed};
use fallback::AfterFailure;
use overrides::Overrides;

/// What one evaluation answered and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The answer for stdout.
    pub evaluation: Evaluation,
    /// One human line: the verdict and its reasons.
    pub explanation: String,
    /// True when this was a dry run and nothing was written.
    pub dry_run: bool,
    /// A discarded, unparseable state file, if there was one.
    pub warning: Option<String>,
    /// The rule that decided.
    pub rule: rules::Rule,
}

/// Why an evaluation failed; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    /// stdin is not an input shape we accept.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The evaluation config cannot be read or is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The input carries no current replica count.
    #[error(
        "stdin has no current replica count: neither the report's 'currentReplicas' nor 'resource.spec.replicas' is present; expected one of the two (is the metric stage gpa-metric, in per-resource mode?)"
    )]
    NoReplicas,
    /// The state file cannot be read, locked or written.
    #[error(transparent)]
    State(#[from] StateError),
    /// The report cannot be judged against the targets.
    #[error(transparent)]
    Decision(#[from] DecisionError),
}

/// Loads and validates the config and resolves the bounds (`--check`).
pub fn check(settings: &Settings) -> Result<(EvaluationConfig, Bounds), ConfigError> {
    let config = EvaluationConfig::load(&settings.config_path)?;
    let bounds = config.bounds(
        &settings.config_path,
        settings.min_replicas,
        settings.max_replicas,
    )?;
    Ok((config, bounds))
}

/// Runs one evaluation on the CPA's stdin bytes at time `now`. Only the
/// report's targeted requests are decoded.
pub fn run(settings: &Settings, stdin: &[u8], now: SystemTime) -> Result<Outcome, EvaluateError> {
    let (config, bounds) = check(settings)?;
    let targeted: Vec<String> = config.targets.iter().map(Target::request_key).collect();
    let request = cpa::parse_evaluate_input_for(stdin, Keep::Only(&targeted))?;
    let current = request
        .current_replicas()
        .ok_or(EvaluateError::NoReplicas)?;
    let observed = Observed {
        current,
        ready: request.ready_replicas(),
        template_hash: request
            .resource
            .as_ref()
            .and_then(|resource| resource.spec.as_ref())
            .and_then(|spec| spec.template.as_ref())
            .map(load::template_hash),
    };
    let state_file = StateFile::new(&settings.state_path);
    let dry_run = request.run_type.is_dry_run();
    let (lock, loaded) = lock_and_load(&state_file, dry_run, settings)?;
    let (overrides, bases) = overrides_at(&config, settings, &loaded, current, now);
    let save =
        |state: &DecayState, lock: &StateLock| state_file.save_with_boosts(state, &bases, lock);
    let judged = match missing_target(&targeted, &request, current, bounds) {
        Some(err) => Err(err),
        None => decision::decide_with(
            &config,
            bounds,
            &overrides,
            &request.report,
            observed,
            &loaded.state,
            now,
        ),
    };
    let decision = match judged {
        Ok(decision) => decision,
        Err(error) => fall_back(
            &config,
            bounds,
            &overrides,
            (current, decision::unix_seconds(now)),
            &loaded.state,
            error,
            |state| match &lock {
                Some(lock) => save(state, lock),
                None => Ok(()),
            },
        )?,
    };
    if let (Some(lock), Some(state)) = (&lock, &decision.state) {
        save(state, lock)?;
    }
    let explanation = match request.report.early_stop_note() {
        Some(note) => format!("{} ({note})", decision.explanation),
        None => decision.explanation,
    };
    let explanation = if dry_run {
        format!("{explanation} (dry run, state unchanged)")
    } else {
        explanation
    };
    Ok(Outcome {
        evaluation: Evaluation {
            // bounds keep it at most i32::MAX; 0 when disabled
            target_replicas: i32::try_from(decision.target_replicas).unwrap_or(i32::MAX),
        },
        explanation,
        dry_run,
        warning: loaded.warning,
        rule: decision.rule,
    })
}

/// The bound overrides in force at `now` and the alert boosts' bases to
/// remember. An unreadable boosts file is logged and applies no boost: an
/// alert sidecar's fault must not stop autoscaling.
fn overrides_at(
    config: &EvaluationConfig,
    settings: &Settings,
    loaded: &LoadedState,
    current: u32,
    now: SystemTime,
) -> (Overrides, BTreeMap<String, u32>) {
    let boosts = match &config.boosts_file {
        Some(path) => BoostsFile::load(path).unwrap_or_else(|err| {
            tracing::warn!("{err}; applying no alert boost");
            BoostsFile::default()
        }),
        None => BoostsFile::default(),
    };
    let now = Timestamp::try_from(now).unwrap_or(Timestamp::UNIX_EPOCH);
    let cpa = cpa_bounds(settings);
    Overrides::resolve(config, cpa, &boosts, &loaded.boost_bases, current, now)
}

/// The bounds the CPA applies to any answer: its settings, else its defaults.
fn cpa_bounds(settings: &Settings) -> Bounds {
    Bounds {
        min: settings
            .min_replicas
            .unwrap_or(bounds::DEFAULT_MIN_REPLICAS),
        max: settings
            .max_replicas
            .unwrap_or(bounds::DEFAULT_MAX_REPLICAS),
    }
}

/// The lock (none on a dry run) and the state it guards.
fn lock_and_load(
    state_file: &StateFile,
    dry_run: bool,
    settings: &Settings,
) -> Result<(Option<StateLock>, LoadedState), StateError> {
    // A dry run writes nothing, so it needs no lock: saves replace the file
    // whole, and any version of it read without the lock is complete.
    let lock = if dry_run {
        None
    } else {
        Some(state_file.lock(settings.lock_timeout)?)
    };
    let loaded = state_file.load()?;
    if let Some(warning) = &loaded.warning {
        tracing::warn!("{warning}");
    }
    Ok((lock, loaded))
}

/// The fallback decision for a report that could not be judged, or the
/// error after `save` has stored the counted failure (`save` does nothing on
/// a dry run).
fn fall_back(
    config: &EvaluationConfig,
    bounds: Bounds,
    overrides: &Overrides,
    current: (u32, u64),
    state: &DecayState,
    error: DecisionError,
    save: impl FnOnce(&DecayState) -> Result<(), StateError>,
) -> Result<Decision, EvaluateError> {
    match fallback::after_failure(config, bounds, overrides, current, state, &error) {
        AfterFailure::Answer(decision) => Ok(decision),
        AfterFailure::Fail {
            state: None,
            failed_runs: _,
        } => Err(error.into()),
        AfterFailure::Fail {
            state: Some(state),
            failed_runs,
        } => {
            save(&state)?;
            if let Some(fallback) = config.fallback {
                tracing::warn!(
                    "evaluation failed {failed_runs} time(s) in a row; fallback.replicas {} is answered after fallback.failedRuns {}",
                    fallback.replicas,
                    fallback.failed_runs
                );
            }
            Err(error.into())
        }
    }
}

/// The first target whose request the report lacks, as the error naming
/// the requests measured; none when the decision will not look at the
/// targets (0 replicas with nothing measured, or autoscaling disabled).
/// Checked here because the decoded report holds only the targeted requests.
fn missing_target(
    targeted: &[String],
    request: &cpa::EvaluateRequest,
    current: u32,
    bounds: Bounds,
) -> Option<DecisionError> {
    if current == 0 && (bounds.min > 0 || request.names.total == 0) {
        return None;
    }
    let (index, key) = targeted
        .iter()
        .enumerate()
        .find(|(_, key)| !request.report.requests.contains_key(*key))?;
    Some(DecisionError::MissingResult {
        index,
        key: key.clone(),
        measured: request.names.to_string(),
    })
}

/// The whole `gpa-evaluate` process after its flags are parsed: resolve the
/// settings (`env` looks variables up), set up logging, then either check
/// the config (`--check`) or evaluate `stdin` and write the one JSON line to
/// `stdout`. Every failure comes back as the error for the one exit path.
pub fn main_with(
    args: &Args,
    env: &impl Fn(&str) -> Option<String>,
    mut stdin: impl Read,
    mut stdout: impl Write,
) -> anyhow::Result<()> {
    logging::init("info");
    crate::setting_names::warn_near_misses(crate::setting_names::Stage::Evaluate);
    let settings = Settings::resolve(args, env, CpaFileBounds::load)?;
    for warning in &settings.warnings {
        tracing::warn!("{warning}");
    }
    let now = settings.now.map_or_else(SystemTime::now, SystemTime::from);
    if args.check {
        let (config, bounds) = check(&settings)?;
        match crate::scenario::coverage::check_evaluation_config(
            &config.targets,
            &settings.config_path,
            env,
        )? {
            Some(scenario) => tracing::info!(
                "every target is a request scenario file '{}' sends",
                scenario.display()
            ),
            None => tracing::info!(
                "no scenario file to check the targets against (scenarioFilePath unset, no /scenario.yaml)"
            ),
        }
        tracing::info!(
            "evaluation config '{}' is valid: {} target(s), replicas {}..={}",
            settings.config_path.display(),
            config.targets.len(),
            bounds.min,
            bounds.max
        );
        let listing = listing::overrides(&config, &settings, now);
        stdout
            .write_all(listing.as_bytes())
            .and_then(|()| stdout.flush())
            .context("cannot write the check's listing to stdout")?;
        return Ok(());
    }
    let mut input = Vec::new();
    stdin
        .read_to_end(&mut input)
        .context("cannot read stdin; expected the CPA evaluate JSON")?;
    let result = run(&settings, &input, now);
    status::record(&settings, &input, &result, now);
    let outcome = result?;
    tracing::info!("{}", outcome.explanation);
    let mut line = serde_json::to_string(&outcome.evaluation)?;
    line.push('\n');
    stdout
        .write_all(line.as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write the evaluation to stdout")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    const CONFIG: &str = "targets:\n  - {method: GET, endpoint: /fib, type: mean, target: 7}\n";

    fn input(mean_ms: f64, run_type: &str) -> Vec<u8> {
        let report = serde_json::json!({"currentReplicas": 3, "requests": {"GET /fib": {
            "method": "GET", "name": "/fib", "count": 10, "failures": 0, "errorRate": 0.0,
            "requestsPerSecond": 2.0, "meanMs": mean_ms, "medianMs": mean_ms, "minMs": mean_ms,
            "maxMs": mean_ms, "p75Ms": mean_ms, "p90Ms": mean_ms, "p95Ms": mean_ms, "p99Ms": mean_ms}}});
        serde_json::json!({"metrics": [{"value": report.to_string()}], "runType": run_type})
            .to_string()
            .into_bytes()
    }

    fn settings(dir: &std::path::Path) -> Settings {
        settings_with(dir, "")
    }

    fn settings_with(dir: &std::path::Path, extra: &str) -> Settings {
        let config_path = dir.join("config.yaml");
        std::fs::write(&config_path, format!("{CONFIG}{extra}")).unwrap();
        Settings::new(config_path, dir.join("state.json"))
    }

    #[test]
    fn a_dry_run_decides_as_a_real_run_but_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(dir.path());
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let dry = run(&settings, &input(9.0, "api_dry_run"), now).unwrap();
        assert!(dry.dry_run);
        assert!(!settings.state_path.exists());
        assert!(!StateFile::new(&settings.state_path).lock_path().exists());
        let real = run(&settings, &input(9.0, "scaler"), now).unwrap();
        assert_eq!(dry.evaluation, real.evaluation);
        assert_eq!(real.evaluation.target_replicas, 4);
        assert_eq!(
            dry.explanation,
            format!("{} (dry run, state unchanged)", real.explanation)
        );
        let saved = StateFile::new(&settings.state_path).load().unwrap().state;
        assert_eq!(saved.last_scale_up_unix_seconds, Some(1_800_000_000));
    }

    #[test]
    fn a_failed_evaluation_leaves_the_state_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(dir.path());
        std::fs::write(&settings.state_path, "{\"runsSinceChange\":2}\n").unwrap();
        let no_result = br#"{"currentReplicas": 3, "requests": {}}"#;
        let err = run(&settings, no_result, SystemTime::now()).unwrap_err();
        assert!(matches!(err, EvaluateError::Decision(_)), "{err}");
        assert_eq!(
            std::fs::read_to_string(&settings.state_path).unwrap(),
            "{\"runsSinceChange\":2}\n"
        );
    }

    #[test]
    fn with_a_fallback_failures_are_counted_a_dry_run_counts_none_and_a_success_resets() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings_with(dir.path(), "fallback: {failedRuns: 2, replicas: 5}\n");
        let no_result = br#"{"currentReplicas": 3, "requests": {}}"#;
        let saved = || StateFile::new(&settings.state_path).load().unwrap().state;
        assert!(run(&settings, no_result, SystemTime::now()).is_err());
        assert_eq!(saved().consecutive_failed_runs, 1);
        let dry = br#"{"metrics": [{"value": "{\"currentReplicas\": 3, \"requests\": {}}"}], "runType": "api_dry_run"}"#;
        let answer = run(&settings, dry, SystemTime::now()).unwrap();
        assert_eq!(
            answer.evaluation.target_replicas, 5,
            "the dry run answers as the second failure would"
        );
        assert_eq!(
            saved().consecutive_failed_runs,
            1,
            "the dry run counted nothing"
        );
        let answer = run(&settings, no_result, SystemTime::now()).unwrap();
        assert_eq!(answer.evaluation.target_replicas, 5);
        assert!(
            answer
                .explanation
                .contains("after 2 failed evaluations in a row")
        );
        assert_eq!(saved().consecutive_failed_runs, 2);
        run(&settings, &input(5.0, "scaler"), SystemTime::now()).unwrap();
        assert_eq!(saved().consecutive_failed_runs, 0);
    }

    #[test]
    fn bad_input_is_not_a_counted_failure() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings_with(dir.path(), "fallback: {failedRuns: 1, replicas: 5}\n");
        assert!(run(&settings, b"{\"requests\": ", SystemTime::now()).is_err());
        assert!(!settings.state_path.exists());
    }
}
