//! What each run that is not a dry run leaves in the evaluation status file
//! ([`crate::status`]) when the config names one (`statusFile`): the run's
//! outcome and time, and for a run that answered its decision and each
//! target's figure. Read back from the run's own inputs after it ended, so
//! the decision itself is untouched. A run whose config cannot be read does
//! not know where the file is, and a file whose folder does not exist (no
//! shared volume, as with a missing boosts file) is not written: the
//! sidecar's stale heartbeat shows both.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::cpa;
use crate::evaluate::config::{EvaluationConfig, Target};
use crate::evaluate::measure::{DecisionError, measure};
use crate::evaluate::{EvaluateError, Outcome, Settings};
use crate::report::Keep;
use crate::state::StateFile;
use crate::status::{self, LastDecision, OK, ResourceId, TargetStatus};

/// The failure kind a status records for `error`.
fn kind(error: &EvaluateError) -> &'static str {
    match error {
        EvaluateError::Input(_) => "input",
        EvaluateError::Config(_) => "config",
        EvaluateError::NoReplicas => "no-replicas",
        EvaluateError::State(_) => "state",
        EvaluateError::Decision(DecisionError::MissingResult { .. }) => "missing-result",
        EvaluateError::Decision(DecisionError::AllFailed { .. }) => "all-failed",
    }
}

/// Records the run on `stdin` that gave `result` at `now`; a status that
/// cannot be written is a warning.
pub(super) fn record(
    settings: &Settings,
    stdin: &[u8],
    result: &Result<Outcome, EvaluateError>,
    now: SystemTime,
) {
    let Ok(config) = EvaluationConfig::load(&settings.config_path) else {
        return;
    };
    let Some(path) = &config.status_file else {
        return;
    };
    // like a missing boosts file: no shared volume, no sidecar to read it
    if path
        .parent()
        .is_some_and(|folder| !folder.as_os_str().is_empty() && !folder.is_dir())
    {
        tracing::debug!(
            "status file '{}': its folder does not exist; not written",
            path.display()
        );
        return;
    }
    let targeted: Vec<String> = config.targets.iter().map(Target::request_key).collect();
    let request = cpa::parse_evaluate_input_for(stdin, Keep::Only(&targeted)).ok();
    if request.as_ref().is_some_and(|r| r.run_type.is_dry_run())
        || result.as_ref().is_ok_and(|outcome| outcome.dry_run)
    {
        return;
    }
    let unix_seconds = now
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64());
    let outcome = match result {
        Ok(_) => OK,
        Err(error) => kind(error),
    };
    let written = status::update(path, |status| {
        status.record_run(outcome, unix_seconds);
        let Some(request) = &request else {
            return;
        };
        if let Some(resource) = &request.resource {
            status.resource = Some(ResourceId {
                kind: resource.kind.clone().unwrap_or_default(),
                namespace: resource.metadata.namespace.clone().unwrap_or_default(),
                name: resource.metadata.name.clone(),
            });
        }
        if let Ok(measurements) = measure(&config, &request.report) {
            status.targets = measurements
                .iter()
                .map(|m| TargetStatus {
                    request: m.key.clone(),
                    kind: m.target.kind.name().to_owned(),
                    measured: m.measured,
                    limit: m.limit,
                })
                .collect();
        }
        if let (Ok(outcome), Some(current)) = (result, request.current_replicas()) {
            let target = u32::try_from(outcome.evaluation.target_replicas).unwrap_or(0);
            let runs_since_change = StateFile::new(&settings.state_path)
                .load()
                .map_or(0, |loaded| loaded.state.runs_since_change);
            status.last_decision = Some(LastDecision {
                current_replicas: current,
                target_replicas: target,
                direction: match target.cmp(&current) {
                    std::cmp::Ordering::Greater => "up",
                    std::cmp::Ordering::Less => "down",
                    std::cmp::Ordering::Equal => "hold",
                }
                .to_owned(),
                rule: outcome.rule.name().to_owned(),
                runs_since_change,
            });
        }
    });
    if let Err(err) = written {
        tracing::warn!("{err}; gpa alerts' /metrics keeps showing the run before");
    }
}
