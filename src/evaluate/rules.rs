//! The rules of the decision, as two ordered tables: one for a run that
//! misses a target ([`MISS_RULES`]), one for a run that meets every target
//! ([`MET_RULES`]). Each rule has a name ([`Rule`]), a condition on the
//! facts (the `facts` module) and a proposal with its reason; the first rule that applies
//! wins, and the decision line names it. `docs/evaluate.md` lists the rules
//! in this order (a test compares the two).
//!
//! A proposal is the count before the limits (schedule, alert boosts,
//! budget, the CPA's bounds: the `overrides` module) are applied.

use crate::evaluate::backlog::Backlog;
use crate::evaluate::config::ScaleUpPolicy;
use crate::evaluate::facts::{DueDecay, Facts};
use crate::evaluate::load_rules;
use crate::evaluate::memory::{Draining, FailedDecay, Floor, Settle, Step};
use crate::evaluate::policy::{cap, scale_up};
use crate::report::Trend;

/// A rule's name: what tests, logs and the decision line use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// `load.cpu.targetUtilization` (HPA-like): `ceil(ready × utilisation /
    /// target)` both ways, within the HPA's 0.1 tolerance a hold; a run
    /// without the CPU signal holds.
    CpuUtilization,
    /// `load.queryPerReplica` (KEDA-like): `ceil(queryValue / target)` both
    /// ways, within the HPA's 0.1 tolerance a hold; a run without the
    /// query's value holds.
    QueryPerReplica,
    /// Before measuring: 0 replicas and a minimum above 0 (autoscaling
    /// disabled), or 0 replicas and nothing measured: hold 0.
    AtZero,
    /// Before measuring: 0 replicas with a bound override and the CPA's
    /// minimum 0: answer the floor in force.
    ScaleFromZero,
    /// Every request failed while replicas dropped out of readiness since
    /// the last answered run: one step up, once.
    LostEndpoints,
    /// After evaluations failed in a row: `fallback.replicas`.
    Fallback,
    /// A miss soon after a failed decay was undone: the queue it built
    /// drains.
    DrainAfterRestore,
    /// A miss whose queue drains fast enough to be under the limit by the
    /// next run.
    QueueDrains,
    /// A miss while our replicas start, when the ready ones need no more
    /// than the count.
    HoldWhileStarting,
    /// The first run with every replica of our scale-up ready: one run to
    /// settle.
    Settle,
    /// A miss within `scaleUp.cooldownSeconds` of the last scale-up.
    Cooldown,
    /// A miss soon after our decay: back to the count before it.
    RestoreFailedDecay,
    /// A miss while replicas start, when the ready ones need more than the
    /// count.
    ScaleUpOnReady,
    /// A miss with the CPU not saturated and a level known to meet every
    /// target (`load:`): `ceil(total load / level)`, at least one step, at
    /// most what the latency policy asks.
    ScaleUpByLoad,
    /// A miss: scale up by the policy.
    ScaleUp,
    /// Targets met, but the per-replica load reaches the level at which a
    /// target was missed before (`load:`): scale up ahead of the miss.
    ScaleAheadOfMiss,
    /// Every target met, but one is above its `downTolerance` edge.
    NotQuiet,
    /// Targets met while our replicas start: no decay.
    NoDecayWhileStarting,
    /// Someone else changed the replica count: the quiet runs start again.
    OutsideChange,
    /// Our decay is not applied yet (downscale stabilization): answer it
    /// again.
    PendingDecay,
    /// Targets met, but requests fail: no decay.
    RequestsFailing,
    /// A decay is due, but `decay.replicas` is 0.
    DecayDisabled,
    /// A decay is due, but a failed decay's floor holds it.
    DecayFloor,
    /// A decay is due and the load fits fewer replicas than one decay
    /// step leaves (`load:`): to the fewest it fits, in one step.
    DecayToFit,
    /// A decay is due, but one step would bring the per-replica load to the
    /// level at which a target was missed (`load:`): no decay.
    NoDecayIntoMiss,
    /// A decay is due: `decay.replicas` (or `decay.percent`).
    Decay,
    /// A quiet run, counted towards the next decay.
    QuietRun,
}

/// The rules for a run that misses a target, in the order they are tried.
pub const MISS_RULES: [Rule; 11] = [
    Rule::CpuUtilization,
    Rule::QueryPerReplica,
    Rule::DrainAfterRestore,
    Rule::QueueDrains,
    Rule::HoldWhileStarting,
    Rule::Settle,
    Rule::Cooldown,
    Rule::RestoreFailedDecay,
    Rule::ScaleUpOnReady,
    Rule::ScaleUpByLoad,
    Rule::ScaleUp,
];

/// The rules for a run that meets every target, in the order they are
/// tried.
pub const MET_RULES: [Rule; 14] = [
    Rule::CpuUtilization,
    Rule::QueryPerReplica,
    Rule::ScaleAheadOfMiss,
    Rule::NotQuiet,
    Rule::NoDecayWhileStarting,
    Rule::OutsideChange,
    Rule::PendingDecay,
    Rule::RequestsFailing,
    Rule::DecayDisabled,
    Rule::DecayFloor,
    Rule::DecayToFit,
    Rule::NoDecayIntoMiss,
    Rule::Decay,
    Rule::QuietRun,
];

/// The rules outside the two tables, in the order the decision meets them:
/// before measuring, and after a report that cannot be judged.
pub const OTHER_RULES: [Rule; 4] = [
    Rule::ScaleFromZero,
    Rule::AtZero,
    Rule::LostEndpoints,
    Rule::Fallback,
];

/// A proposed count (before the limits), why, which rule, and what it means
/// for the failed-decay memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proposal {
    pub rule: Rule,
    pub replicas: u32,
    pub reason: String,
    pub step: Step,
}

impl Rule {
    /// The name in the decision line and the docs: `scale-up`.
    pub fn name(self) -> &'static str {
        match self {
            Rule::AtZero => "at-zero",
            Rule::CpuUtilization => "cpu-utilization",
            Rule::QueryPerReplica => "query-per-replica",
            Rule::ScaleFromZero => "scale-from-zero",
            Rule::LostEndpoints => "lost-endpoints",
            Rule::Fallback => "fallback",
            Rule::DrainAfterRestore => "drain-after-restore",
            Rule::QueueDrains => "queue-drains",
            Rule::HoldWhileStarting => "hold-while-starting",
            Rule::Settle => "settle",
            Rule::Cooldown => "cooldown",
            Rule::RestoreFailedDecay => "restore-failed-decay",
            Rule::ScaleUpOnReady => "scale-up-on-ready",
            Rule::ScaleUpByLoad => "scale-up-by-load",
            Rule::ScaleUp => "scale-up",
            Rule::ScaleAheadOfMiss => "scale-ahead-of-miss",
            Rule::NotQuiet => "not-quiet",
            Rule::NoDecayWhileStarting => "no-decay-while-starting",
            Rule::OutsideChange => "outside-change",
            Rule::PendingDecay => "pending-decay",
            Rule::RequestsFailing => "requests-failing",
            Rule::DecayDisabled => "decay-disabled",
            Rule::DecayFloor => "decay-floor",
            Rule::DecayToFit => "decay-to-fit",
            Rule::NoDecayIntoMiss => "no-decay-into-miss",
            Rule::Decay => "decay",
            Rule::QuietRun => "quiet-run",
        }
    }

    /// The proposal of a table rule, when it applies to `facts`.
    fn propose(self, facts: &Facts) -> Option<Proposal> {
        let current = facts.current();
        let hold = |reason: String| hold(self, facts, reason);
        let why = &facts.missed_line;
        let met = &facts.met_line;
        let starting = facts.replicas.starting;
        match self {
            Rule::CpuUtilization => load_rules::cpu_utilization(self, facts),
            Rule::QueryPerReplica => load_rules::query_per_replica(self, facts),
            Rule::DrainAfterRestore => draining(facts).map(hold),
            Rule::QueueDrains => {
                let backlog = facts.backlog.as_ref().filter(|b| b.drains_by_next_run())?;
                Some(hold(format!(
                    "{why}; {}, under the limit by the next run at this pace",
                    backlog.describe()
                )))
            }
            Rule::HoldWhileStarting => (starting > 0 && facts.starting_need.is_none())
                .then(|| hold(format!("{starting} of {current} replicas still starting; {why}"))),
            Rule::Settle => settling(facts).then(|| {
                hold(format!(
                    "{why}; the {current} replicas of our scale-up are all ready since this run: the queue built before they served is draining, one run to settle"
                ))
            }),
            Rule::Cooldown => facts.cooldown_elapsed.map(|elapsed| {
                hold(format!(
                    "{why}; scale-up cooldown: {elapsed} s of scaleUp.cooldownSeconds {} s since the last scale-up",
                    facts.config.scale_up.cooldown_seconds
                ))
            }),
            Rule::RestoreFailedDecay => {
                let FailedDecay { from, runs } =
                    facts.memory.failed_decay(current).filter(|_| starting == 0)?;
                let backoff = facts.memory.next_backoff();
                Some(Proposal {
                    rule: self,
                    replicas: from,
                    reason: format!(
                        "{why}; the decay from {from} {runs} run(s) ago went too far: back to {from}, the last count known to be enough, and no decay below it for {backoff} runs"
                    ),
                    step: Step::Restore,
                })
            }
            Rule::ScaleUpOnReady => {
                let (need, how) = facts.starting_need.clone()?;
                let config = facts.config;
                let counted = facts.replicas.counted();
                let step_up = counted.saturating_add(config.scale_up.replicas);
                let proposal = match config.scale_up.policy {
                    ScaleUpPolicy::Step => step_up,
                    ScaleUpPolicy::Proportional => need.max(step_up),
                };
                let why = format!(
                    "{starting} of {current} replicas still starting, but {why} is more than they will absorb {how}"
                );
                Some(scale_up_proposal(self, facts, proposal, why))
            }
            Rule::ScaleUpByLoad => load_rules::scale_up_by_load(self, facts),
            Rule::ScaleUp => {
                let counted = facts.replicas.counted();
                let (proposal, how) = scale_up(facts.config, counted, facts.worst_ratio_to_target);
                Some(scale_up_proposal(self, facts, proposal, format!("{why}{how}")))
            }
            Rule::ScaleAheadOfMiss => load_rules::scale_ahead_of_miss(self, facts),
            Rule::NotQuiet => (!facts.quiet).then(|| {
                hold(format!(
                    "{met}; not a quiet run: {}",
                    facts.above_band()
                ))
            }),
            Rule::NoDecayWhileStarting => (starting > 0)
                .then(|| hold(format!("{starting} of {current} replicas still starting; {met}"))),
            // counts as a change: no decay now, the counter starts again
            Rule::OutsideChange => facts.external_change.then(|| hold(met.clone())),
            Rule::PendingDecay => {
                // our last answer was a decay the CPA's downscaleStabilization
                // holds: answer it again, so that the window fills with it
                let answered = facts.pending_decay.filter(|_| facts.failing.is_empty())?;
                Some(Proposal {
                    rule: self,
                    replicas: answered,
                    reason: format!(
                        "{met}; the decay to {answered} is not applied yet (downscale stabilization), answering it again"
                    ),
                    step: Step::Decay,
                })
            }
            Rule::RequestsFailing => (!facts.failing.is_empty()).then(|| {
                hold(format!(
                    "{met}; no decay while requests fail: {}",
                    facts.failing.join(", ")
                ))
            }),
            Rule::DecayDisabled => (facts.decay_is_due() && facts.config.decay.replicas == 0)
                .then(|| hold(format!("{}, but decay is disabled (decay.replicas 0)", facts.decay_reason()))),
            Rule::DecayFloor => {
                let Floor {
                    replicas: floor,
                    runs_left,
                    backoff_runs: backoff,
                    ..
                } = facts.memory.floor()?;
                let DueDecay { reason, .. } =
                    facts.due_decay.as_ref().filter(|decay| decay.to < floor)?;
                Some(Proposal {
                    rule: self,
                    replicas: floor.min(current),
                    reason: format!(
                        "{reason}, but no decay below {floor} for {runs_left} more run(s): a decay from {floor} went too far (back-off {backoff} runs)"
                    ),
                    step: Step::Decay,
                })
            }
            Rule::DecayToFit => load_rules::decay_to_fit(self, facts),
            Rule::NoDecayIntoMiss => load_rules::no_decay_into_miss(self, facts),
            Rule::Decay => {
                let DueDecay {
                    to: replicas,
                    reason,
                } = facts.due_decay.clone()?;
                Some(Proposal {
                    rule: self,
                    replicas,
                    reason,
                    step: Step::Decay,
                })
            }
            Rule::QuietRun => {
                let unchanged_runs = facts.config.decay.unchanged_runs;
                let run = facts.state.runs_since_change + 1;
                Some(hold(format!(
                    "{met}; quiet run {run} of {unchanged_runs} before a decay"
                )))
            }
            Rule::AtZero | Rule::ScaleFromZero | Rule::LostEndpoints | Rule::Fallback => None,
        }
    }
}

/// The first rule of `table` that applies to `facts`, with its proposal.
pub(crate) fn first_applying(table: &[Rule], facts: &Facts) -> Proposal {
    table
        .iter()
        .find_map(|rule| rule.propose(facts))
        // the last rule of each table applies whenever the others do not
        .unwrap_or_else(|| unreachable_proposal(facts))
}

/// A hold, for a table whose last rule did not apply (never: each table
/// ends in a rule with no condition).
fn unreachable_proposal(facts: &Facts) -> Proposal {
    Proposal {
        rule: Rule::QuietRun,
        replicas: facts.current(),
        reason: facts.met_line.clone(),
        step: Step::Hold,
    }
}

/// `rule` holds the current count, for `reason`.
pub(super) fn hold(rule: Rule, facts: &Facts, reason: String) -> Proposal {
    Proposal {
        rule,
        replicas: facts.current(),
        reason,
        step: Step::Hold,
    }
}

/// The proposal of a rule that sizes the replicas itself, in both
/// directions (the HPA-like and KEDA-like targets): a scale-up to `desired`
/// capped as every scale-up is, else a decay or hold to it.
pub(super) fn sized(rule: Rule, facts: &Facts, desired: u32, reason: String) -> Proposal {
    let current = facts.current();
    if desired > current {
        return scale_up_proposal(rule, facts, desired, reason);
    }
    Proposal {
        rule,
        replicas: desired,
        reason,
        step: if desired < current {
            Step::Decay
        } else {
            Step::Hold
        },
    }
}

/// A scale-up `proposal` on the counted replicas, with the unready ones
/// added back, capped by `scaleUp.maxStep`/`maxPercent` from the current
/// count.
pub(super) fn scale_up_proposal(rule: Rule, facts: &Facts, proposal: u32, why: String) -> Proposal {
    let proposal = proposal.saturating_add(facts.replicas.unready);
    let (replicas, reason) = cap(facts.config, facts.current(), proposal, why);
    Proposal {
        rule,
        replicas,
        reason,
        step: Step::ScaleUp,
    }
}

/// The hold reason when a miss comes soon after a failed decay was
/// undone, at the restored count, with readiness known: the count was
/// enough before the decay, and the queue built while the decay was in
/// force is still draining (the ready replicas' need, computed on that
/// queue, would overshoot); not when every replica is ready and the same
/// ready replicas saw the queue grow since the last run.
fn draining(facts: &Facts) -> Option<String> {
    let current = facts.current();
    let starting = facts.replicas.starting;
    let Draining {
        restored,
        runs_since_restore: since,
    } = facts.memory.draining()?;
    // a queue growing with every replica ready refutes the drain; with
    // the restored replica still starting, growth is expected
    let growing = starting == 0 && facts.backlog.as_ref().is_some_and(Backlog::growing);
    if facts.replicas.ready.is_none() || restored != current || growing {
        return None;
    }
    let replicas = match starting {
        0 => "every replica ready".to_owned(),
        starting => format!("{starting} of {current} replicas still starting"),
    };
    Some(format!(
        "{}; back at {current} {since} run(s) ago after a decay that went too far ({replicas}): the queue built meanwhile is draining",
        facts.missed_line
    ))
}

/// The first run in which every replica of our last scale-up is ready,
/// when the miss is not a saturation: the probe still measures the queue
/// built before they served, and scaling up on it again would be the double
/// scale-up the readiness hold prevents. One run; a saturated target
/// (timeouts) is overload enough to scale on, and so is a missed figure the
/// report's `trend` saw hold steady or rise through the run (early stop's
/// slope): that queue is not draining.
fn settling(facts: &Facts) -> bool {
    facts.settle
        == (Settle::Awaiting {
            replicas: facts.current(),
        })
        && !facts.external_change
        && facts.replicas.ready.is_some()
        && facts.replicas.starting == 0
        && facts.missed_measurements().all(|m| {
            m.saturation.is_none() && m.trend().is_none_or(|trend| trend == Trend::Falling)
        })
}
