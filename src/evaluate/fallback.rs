//! KEDA's `fallback` for the evaluate stage: after `fallback.failedRuns`
//! evaluations in a row whose report could not be judged (a
//! [`DecisionError`]: a target without a result, a target whose requests all
//! failed), answer `fallback.replicas` instead of failing again.
//!
//! A pure function of (config, bounds, current replicas, state, error), like
//! the decision. Only failures the evaluate stage sees count: bad input or a
//! bad config changes nothing, and a failed metric stage never reaches us
//! (the CPA skips the interval).

use crate::evaluate::config::{Bounds, EvaluationConfig};
use crate::evaluate::decision::{Decision, DecisionError};
use crate::state::DecayState;

/// What a report that could not be judged leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    /// The fallback count is answered, as a successful decision.
    Answer(Decision),
    /// The run fails; `state` is the state to save first (the failure
    /// counted), `None` to leave the state file as it is (no fallback).
    Fail {
        /// The state with the failure counted, when `fallback` is set.
        state: Option<DecayState>,
        /// Failures in a row, this one included (0 without `fallback`).
        failed_runs: u32,
    },
}

/// Counts the failure and answers `fallback.replicas` (within `bounds`) on
/// the `fallback.failedRuns`-th failure in a row and every one after it.
pub fn after_failure(
    config: &EvaluationConfig,
    bounds: Bounds,
    current: u32,
    state: &DecayState,
    error: &DecisionError,
) -> AfterFailure {
    let Some(fallback) = config.fallback else {
        return AfterFailure::Fail {
            state: None,
            failed_runs: 0,
        };
    };
    let failed_runs = state.consecutive_failed_runs.saturating_add(1);
    let mut next = DecayState {
        consecutive_failed_runs: failed_runs,
        ..*state
    };
    if failed_runs < fallback.failed_runs {
        return AfterFailure::Fail {
            state: Some(next),
            failed_runs,
        };
    }
    let target = fallback.replicas.clamp(bounds.min, bounds.max);
    let verdict = if target > current {
        format!("scale up {current} -> {target}")
    } else if target < current {
        format!("scale down {current} -> {target}")
    } else {
        format!("hold {current}")
    };
    let limited = if target == fallback.replicas {
        String::new()
    } else {
        format!(
            " ({} limited to replicas {}..={})",
            fallback.replicas, bounds.min, bounds.max
        )
    };
    let explanation = format!(
        "{verdict}: fallback.replicas {}{limited} after {failed_runs} failed evaluations in a row (fallback.failedRuns {}); the last: {error}",
        fallback.replicas, fallback.failed_runs
    );
    if target != current {
        next.runs_since_change = 0;
        next.decayed_from_replicas = None;
        next.runs_since_decay = 0;
    }
    next.last_seen_replicas = Some(current);
    next.last_target_replicas = Some(target);
    AfterFailure::Answer(Decision {
        target_replicas: target,
        state: Some(next),
        explanation,
    })
}
