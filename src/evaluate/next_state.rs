//! The one writer of the next state: what a run leaves for the next one to
//! read, whatever answered (a judged report, the fallback, a scale from 0,
//! lost endpoints) or when a failure is only counted.

use crate::evaluate::facts::Facts;
use crate::evaluate::load::to_milli;
use crate::evaluate::memory::{Settle, Step};
use crate::state::DecayState;

/// What answered this run, as far as the state is concerned.
pub(crate) enum Answer<'a> {
    /// A judged report: the facts and what the deciding rule did.
    Judged {
        /// The run's facts.
        facts: &'a Facts<'a>,
        /// What the rule did, for the failed-decay memory.
        step: Step,
    },
    /// Zero replicas, answered the floor in force.
    FromZero,
    /// A report that could not be judged, answered `fallback.replicas`.
    Fallback {
        /// Failures in a row, this one included.
        failed_runs: u32,
    },
    /// A report that could not be judged, not answered: only counted.
    FailureCounted {
        /// Failures in a row, this one included.
        failed_runs: u32,
    },
    /// Every request failed as replicas dropped out of readiness: one step
    /// up, once.
    LostEndpoints,
}

/// The state after answering `target` at `current` replicas at
/// `now_seconds`; `allowance_seconds` is the start-up allowance for the
/// replicas our answer adds.
pub(crate) fn next_state(
    state: &DecayState,
    current: u32,
    target: u32,
    now_seconds: u64,
    allowance_seconds: u64,
    answer: Answer,
) -> DecayState {
    let answered = DecayState {
        last_seen_replicas: Some(current),
        last_target_replicas: Some(target),
        added_replicas: state.added_after(current, target, now_seconds, allowance_seconds),
        ..*state
    };
    match answer {
        Answer::Judged { facts, step } => judged(facts, step, &answered, target),
        Answer::FromZero => DecayState {
            runs_since_change: 0,
            last_scale_up_unix_seconds: Some(now_seconds),
            ..answered
        },
        Answer::Fallback { failed_runs } if target != current => DecayState {
            consecutive_failed_runs: failed_runs,
            runs_since_change: 0,
            decayed_from_replicas: None,
            runs_since_decay: 0,
            ..answered
        },
        Answer::Fallback { failed_runs } => DecayState {
            consecutive_failed_runs: failed_runs,
            ..answered
        },
        Answer::FailureCounted { failed_runs } => DecayState {
            consecutive_failed_runs: failed_runs,
            ..*state
        },
        Answer::LostEndpoints => DecayState {
            runs_since_change: 0,
            last_scale_up_unix_seconds: Some(now_seconds).filter(|_| target > current),
            consecutive_failed_runs: 0,
            decayed_from_replicas: None,
            runs_since_decay: 0,
            last_miss: None,
            // forgotten, so that a run still failing after this one is
            // refused as a broken service, not scaled again
            last_ready_replicas: None,
            ..answered
        },
    }
}

/// The state after a judged report: the quiet-run counter, the scale-up
/// time, the settle hold, the failed-decay memory, this run's miss and
/// ready count; the failed-runs count is reset.
fn judged(facts: &Facts, step: Step, answered: &DecayState, target: u32) -> DecayState {
    let state = facts.state;
    let current = facts.current();
    let starting = facts.replicas.starting;
    let runs = state.runs_since_change;
    let runs_since_change = if target != current || !facts.quiet || facts.external_change {
        0
    } else if starting > 0 {
        // a run with replicas starting is not a quiet run
        runs
    } else {
        runs.saturating_add(1)
    };
    let mut next = DecayState {
        runs_since_change,
        last_scale_up_unix_seconds: if target > current {
            Some(facts.now_seconds)
        } else {
            state.last_scale_up_unix_seconds
        },
        consecutive_failed_runs: 0,
        settling_replicas: settle_after(facts, target).replicas(),
        last_miss: facts.last_miss,
        last_ready_replicas: facts.replicas.ready,
        ..*answered
    };
    if facts.config.load_rules().is_some() {
        learn(facts, target, &mut next);
    }
    let step = step.landed(current, target);
    facts
        .memory
        .remember(step, !facts.missed, current, &mut next);
    next
}

/// With `load:`, what the run teaches the load memory: the levels (from a
/// fresh sample), and when the serving replicas last changed (our answer or
/// someone else's changed the count, or the ready count moved).
fn learn(facts: &Facts, target: u32, next: &mut DecayState) {
    let state = facts.state;
    let current = facts.current();
    let ready_moved = facts.replicas.ready.is_some()
        && state.last_ready_replicas.is_some()
        && facts.replicas.ready != state.last_ready_replicas;
    if target != current || facts.external_change || ready_moved {
        next.replicas_changed_unix_seconds = Some(facts.now_seconds);
    }
    if let Some(load) = &facts.load {
        let mut learned = load.learn(
            !facts.missed,
            facts.replicas.starting,
            facts.replicas.counted(),
            facts.template_hash,
            facts.now_seconds,
        );
        // the query's total when the run first sees a CPU sample: later
        // runs on the same sample see how the load moved since
        if load.first_sight() {
            learned.query_total_at_sample_milli = facts
                .query_load
                .as_ref()
                .map(|query| to_milli(query.total()));
        }
        next.learned_load = Some(learned);
    }
    if let Some(query) = &facts.query_load {
        next.learned_query_load = Some(query.learn(
            !facts.missed,
            facts.replicas.starting,
            facts.replicas.counted(),
            facts.template_hash,
            facts.now_seconds,
        ));
    }
}

/// The settle hold the next run sees: awaiting the count of a scale-up
/// answered now (with readiness known), else still awaiting the one whose
/// replicas are starting.
fn settle_after(facts: &Facts, target: u32) -> Settle {
    let current = facts.current();
    if facts.replicas.ready.is_none() {
        return Settle::Idle;
    }
    if target > current {
        return Settle::Awaiting { replicas: target };
    }
    match facts.settle {
        Settle::Awaiting { replicas }
            if replicas == current && !facts.external_change && facts.replicas.starting > 0 =>
        {
            facts.settle
        }
        _ => Settle::Idle,
    }
}
