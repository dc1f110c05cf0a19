//! The scale policies: how far one scale-up goes (`scaleUp.policy`,
//! `scaleUp.replicas`, capped by `scaleUp.maxStep` and `scaleUp.maxPercent`)
//! and how far one decay goes (`decay.replicas`, `decay.percent`). Pure
//! functions of the config, the current count and the measurements; each
//! returns, beside the count, the words that name the rule that set it.

use std::fmt::Write as _;

use crate::evaluate::config::{EvaluationConfig, ScaleUpPolicy};
use crate::evaluate::measure::round;

/// The scale-up proposal by the policy (before the step cap and bounds) on
/// `current` replicas, with `worst_ratio` the worst `measured / target` of a
/// missed latency target, and how it was reached.
pub(crate) fn scale_up(
    config: &EvaluationConfig,
    current: u32,
    worst_ratio: Option<f64>,
) -> (u32, String) {
    let step_up = current.saturating_add(config.scale_up.replicas);
    if config.scale_up.policy == ScaleUpPolicy::Step {
        return (step_up, String::new());
    }
    match worst_ratio {
        Some(ratio) => {
            // `as` saturates: an absurd ratio cannot wrap around
            let proportional = (f64::from(current) * ratio).ceil() as u32;
            (
                proportional.max(step_up),
                format!(" (proportional: {current} x {})", round(ratio)),
            )
        }
        None => (step_up, String::new()),
    }
}

/// `proposal` capped by `scaleUp.maxStep` or `scaleUp.maxPercent` (the
/// larger cap), with `reason` naming the cap that applied.
pub(crate) fn cap(
    config: &EvaluationConfig,
    current: u32,
    proposal: u32,
    mut reason: String,
) -> (u32, String) {
    match config.scale_up.max_added(current) {
        Some((added, key)) if proposal > current.saturating_add(added) => {
            let _ = write!(reason, "; {proposal} capped by {key}");
            (current.saturating_add(added), reason)
        }
        _ => (proposal, reason),
    }
}

/// The replicas one decay removes from `current`: `decay.replicas`, or
/// `decay.percent` of `current` (rounded down) when that is more, with the
/// words naming the percentage when it set the size.
pub(crate) fn decay_size(config: &EvaluationConfig, current: u32) -> (u32, String) {
    let decay = &config.decay;
    let Some(percent) = decay.percent else {
        return (decay.replicas, String::new());
    };
    let by_percent = u64::from(current) * u64::from(percent) / 100;
    let by_percent = u32::try_from(by_percent).unwrap_or(u32::MAX);
    if by_percent > decay.replicas {
        (
            by_percent,
            format!("; decay.percent {percent}: -{by_percent}"),
        )
    } else {
        (decay.replicas, String::new())
    }
}
