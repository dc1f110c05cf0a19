//! KEDA's `fallback` for the evaluate stage: after `fallback.failedRuns`
//! evaluations in a row whose report could not be judged (a
//! [`DecisionError`]: a target without a result, a target whose requests all
//! failed), answer `fallback.replicas` instead of failing again.
//!
//! A pure function of (config, bounds, overrides, current replicas, state,
//! error), like the decision. The fallback count goes through the same bound
//! overrides as a decision's proposal (a schedule window, an alert boost, the
//! budget), so a failing probe never answers below a window's floor. Only failures the evaluate stage sees count: bad input or a
//! bad config changes nothing, and a failed metric stage never reaches us
//! (the CPA skips the interval).

use crate::evaluate::config::{Bounds, EvaluationConfig};
use crate::evaluate::decision::{Decision, DecisionError, line};
use crate::evaluate::next_state::{Answer, next_state};
use crate::evaluate::overrides::Overrides;
use crate::evaluate::rules::Rule;
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

/// Counts the failure and answers `fallback.replicas` (through `bounds` and
/// `overrides`) on the `fallback.failedRuns`-th failure in a row and every
/// one after it.
pub fn after_failure(
    config: &EvaluationConfig,
    bounds: Bounds,
    overrides: &Overrides,
    (current, now_seconds): (u32, u64),
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
    let allowance = config.startup_allowance_seconds;
    if failed_runs < fallback.failed_runs {
        let counted = Answer::FailureCounted { failed_runs };
        return AfterFailure::Fail {
            state: Some(next_state(
                state,
                current,
                current,
                now_seconds,
                allowance,
                counted,
            )),
            failed_runs,
        };
    }
    let (target, limits) = overrides.apply(bounds, fallback.replicas);
    let reason = format!(
        "fallback.replicas {} after {failed_runs} failed evaluations in a row (fallback.failedRuns {}); the last: {error}",
        fallback.replicas, fallback.failed_runs
    );
    let answer = Answer::Fallback { failed_runs };
    AfterFailure::Answer(Decision {
        target_replicas: target,
        state: Some(next_state(
            state,
            current,
            target,
            now_seconds,
            allowance,
            answer,
        )),
        rule: Rule::Fallback,
        explanation: line(current, target, Rule::Fallback, &reason, &limits, &[]),
        limits,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::evaluate::overrides::WindowBounds;

    const BOUNDS: Bounds = Bounds { min: 1, max: 10 };

    fn config(fallback: &str) -> EvaluationConfig {
        let text = format!(
            "targets:\n  - {{method: GET, endpoint: /x, type: mean, target: 7}}\n{fallback}"
        );
        EvaluationConfig::parse_str(&text, Path::new("c.yaml")).unwrap()
    }

    fn error() -> DecisionError {
        DecisionError::MissingResult {
            index: 0,
            key: "GET /x".into(),
            measured: "none".into(),
        }
    }

    fn failed(runs: u32) -> DecayState {
        DecayState {
            consecutive_failed_runs: runs,
            runs_since_change: 2,
            ..DecayState::default()
        }
    }

    #[test]
    fn without_a_fallback_a_failure_changes_nothing() {
        let got = after_failure(
            &config(""),
            BOUNDS,
            &Overrides::default(),
            (3, 0),
            &failed(5),
            &error(),
        );
        assert_eq!(
            got,
            AfterFailure::Fail {
                state: None,
                failed_runs: 0
            }
        );
    }

    #[test]
    fn failures_are_counted_until_the_fallback_is_answered_and_after() {
        let config = config("fallback: {failedRuns: 3, replicas: 6}\n");
        // (failures before, answer)
        let cases = [(0, None), (1, None), (2, Some(6)), (7, Some(6))];
        for (before, want) in cases {
            let got = after_failure(
                &config,
                BOUNDS,
                &Overrides::default(),
                (3, 0),
                &failed(before),
                &error(),
            );
            match (got, want) {
                (AfterFailure::Fail { state, failed_runs }, None) => {
                    assert_eq!(failed_runs, before + 1);
                    assert_eq!(state, Some(failed(before + 1)), "only the count changes");
                }
                (AfterFailure::Answer(decision), Some(want)) => {
                    assert_eq!(decision.target_replicas, want);
                    let state = decision.state.unwrap();
                    assert_eq!(state.consecutive_failed_runs, before + 1);
                    assert_eq!(state.last_target_replicas, Some(want));
                    assert_eq!(state.runs_since_change, 0);
                    assert!(
                        decision.explanation.starts_with(&format!(
                            "scale up 3 -> 6: fallback.replicas 6 after {} failed evaluations in a row (fallback.failedRuns 3); the last: no result for targets[0] 'GET /x'",
                            before + 1
                        )),
                        "{}",
                        decision.explanation
                    );
                }
                (got, want) => panic!("{before} failures before: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn the_fallback_count_stays_within_the_bounds() {
        let config = config("fallback: {failedRuns: 1, replicas: 20}\n");
        let AfterFailure::Answer(decision) = after_failure(
            &config,
            BOUNDS,
            &Overrides::default(),
            (10, 0),
            &failed(0),
            &error(),
        ) else {
            panic!("the first failure answers the fallback");
        };
        assert_eq!(decision.target_replicas, 10);
        assert!(
            decision
                .explanation
                .starts_with("hold 10: fallback.replicas 20 after 1 failed evaluations"),
            "{}",
            decision.explanation
        );
    }

    #[test]
    fn the_fallback_count_goes_through_the_open_schedule_window_and_boosts() {
        let config = config("fallback: {failedRuns: 1, replicas: 2}\n");
        let overrides = Overrides {
            window: Some(WindowBounds {
                name: "business-hours".into(),
                min: Some(4),
                max: None,
            }),
            ..Overrides::default()
        };
        let AfterFailure::Answer(decision) =
            after_failure(&config, BOUNDS, &overrides, (3, 0), &failed(0), &error())
        else {
            panic!("the first failure answers the fallback");
        };
        assert_eq!(decision.target_replicas, 4, "the window's floor wins");
        assert!(
            decision
                .explanation
                .starts_with("scale up 3 -> 4: fallback.replicas 2 after 1 failed")
                && decision.explanation.ends_with(
                    "; 2 raised to 4 by schedule 'business-hours' (minReplicas 4) (rule: fallback)"
                ),
            "{}",
            decision.explanation
        );
    }
}
