//! The evaluate stage: from the CPA's evaluate input to `{"targetReplicas":N}`.
//!
//! [`run`] reads the evaluation config, decodes stdin, takes the state lock,
//! loads the decay state, calls the pure [`decision::decide`] and saves the new
//! state, all or nothing: any error leaves the state file as it was. A dry run
//! (`api_dry_run`) decides the same but neither locks nor writes anything.

pub mod config;
pub mod decision;

use std::path::PathBuf;
use std::time::SystemTime;

use crate::cpa::{self, Evaluation, InputError};
use crate::state::{StateError, StateFile};
use config::{Bounds, ConfigError, EvaluationConfig};
use decision::DecisionError;

/// The evaluate stage's settings, as the binary gathered them from flags and
/// environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The evaluation config (`evaluationConfigFilePath`, `--config`).
    pub config_path: PathBuf,
    /// The decay state file (`decayInfoFilePath`, `--state`).
    pub state_path: PathBuf,
    /// The CPA's `minReplicas` environment variable, used when the config has
    /// no `minReplicas`.
    pub min_replicas: Option<u32>,
    /// The CPA's `maxReplicas` environment variable, used when the config has
    /// no `maxReplicas`.
    pub max_replicas: Option<u32>,
}

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

/// Runs one evaluation on the CPA's stdin bytes at time `now`.
pub fn run(settings: &Settings, stdin: &[u8], now: SystemTime) -> Result<Outcome, EvaluateError> {
    let request = cpa::parse_evaluate_input(stdin)?;
    let (config, bounds) = check(settings)?;
    let current = request
        .current_replicas()
        .ok_or(EvaluateError::NoReplicas)?;
    let state_file = StateFile::new(&settings.state_path);
    let dry_run = request.run_type.is_dry_run();
    // A dry run writes nothing, so it needs no lock: saves replace the file
    // whole, and any version of it read without the lock is complete.
    let lock = if dry_run {
        None
    } else {
        Some(state_file.lock()?)
    };
    let loaded = state_file.load()?;
    if let Some(warning) = &loaded.warning {
        tracing::warn!("{warning}");
    }
    let decision = decision::decide(
        &config,
        bounds,
        &request.report,
        current,
        &loaded.state,
        now,
    )?;
    if let (Some(lock), Some(state)) = (&lock, &decision.state) {
        state_file.save(state, lock)?;
    }
    let explanation = if dry_run {
        format!("{} (dry run, state unchanged)", decision.explanation)
    } else {
        decision.explanation
    };
    Ok(Outcome {
        evaluation: Evaluation {
            // bounds keep it at most i32::MAX; 0 when disabled
            target_replicas: i32::try_from(decision.target_replicas).unwrap_or(i32::MAX),
        },
        explanation,
        dry_run,
        warning: loaded.warning,
    })
}
