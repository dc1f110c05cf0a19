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
use crate::evaluate::load::{HPA_TOLERANCE, LoadSource, LoadView};
use crate::evaluate::measure::round;
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
        let hold = |reason: String| Proposal {
            rule: self,
            replicas: current,
            reason,
            step: Step::Hold,
        };
        let why = &facts.missed_line;
        let met = &facts.met_line;
        let starting = facts.replicas.starting;
        match self {
            Rule::CpuUtilization => {
                let target = facts
                    .config
                    .load_rules()?
                    .cpu
                    .as_ref()?
                    .target_utilization?;
                let verdict = if facts.missed { why } else { met };
                let Some(load) = &facts.load else {
                    return Some(hold(format!(
                        "{verdict}; load.cpu.targetUtilization {}: no CPU load in the report, holding",
                        round(target)
                    )));
                };
                let ratio = load.per_replica / target;
                let ready = load.pods_ready;
                let described = format!(
                    "CPU {} per pod / target {} = {} on {ready} ready",
                    round(load.per_replica),
                    round(target),
                    round(ratio)
                );
                if (ratio - 1.0).abs() <= HPA_TOLERANCE || ready == 0 {
                    return Some(hold(format!(
                        "{verdict}; {described}: within the tolerance {HPA_TOLERANCE}"
                    )));
                }
                // `as` saturates: an absurd ratio cannot wrap around
                let desired = (f64::from(ready) * ratio).ceil().max(1.0) as u32;
                let reason = format!("{verdict}; {described}: ceil({ready} x {}) = {desired}", round(ratio));
                Some(sized(self, facts, desired, reason))
            }
            Rule::QueryPerReplica => {
                let target = facts.config.load_rules()?.query_per_replica?;
                let verdict = if facts.missed { why } else { met };
                let Some(value) = facts.report_query_value else {
                    return Some(hold(format!(
                        "{verdict}; load.queryPerReplica {}: no query value in the report, holding",
                        round(target)
                    )));
                };
                let value = value.max(0.0);
                // the HPA's external AverageValue: the ratio on the
                // replica count, the count from the total alone
                let ratio = value / (target * f64::from(current.max(1)));
                let described = format!(
                    "query {} req/s / (target {} per replica x {current}) = {}",
                    round(value),
                    round(target),
                    round(ratio)
                );
                if (ratio - 1.0).abs() <= HPA_TOLERANCE {
                    return Some(hold(format!(
                        "{verdict}; {described}: within the tolerance {HPA_TOLERANCE}"
                    )));
                }
                // `as` saturates: an absurd value cannot wrap around
                let desired = (value / target).ceil().max(1.0) as u32;
                let reason = format!(
                    "{verdict}; {described}: ceil({} / {}) = {desired}",
                    round(value),
                    round(target)
                );
                Some(sized(self, facts, desired, reason))
            }
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
            Rule::ScaleUpByLoad => {
                // a sample lags the probe: only at a steady load is it the
                // load the probe missed at (a rising load's would undersize)
                let load = facts
                    .sizing_load()
                    .filter(|load| !load.saturated && load.steady())?;
                let counted = facts.replicas.counted();
                let need = load.fits()?;
                // a query value that says the replicas suffice, on a miss,
                // lags a load step by its range: the latency sizes it
                if load.source == LoadSource::Query && need <= counted {
                    return None;
                }
                let step_up = counted.saturating_add(facts.config.scale_up.replicas);
                let (by_latency, how) =
                    scale_up(facts.config, counted, facts.worst_ratio_to_target);
                let proposal = need.clamp(step_up, by_latency.max(step_up));
                Some(scale_up_proposal(
                    self,
                    facts,
                    proposal,
                    format!(
                        "{why}; {} needs {need} at {}; latency asks {by_latency}{how}",
                        load.describe(),
                        load.levels()
                    ),
                ))
            }
            Rule::ScaleUp => {
                let counted = facts.replicas.counted();
                let (proposal, how) = scale_up(facts.config, counted, facts.worst_ratio_to_target);
                Some(scale_up_proposal(self, facts, proposal, format!("{why}{how}")))
            }
            Rule::ScaleAheadOfMiss => {
                let load = facts
                    .sizing_load()
                    .filter(|load| load.fresh && load.complete && load.not_falling())?;
                let guard = load.guard()?;
                if starting > 0
                    || facts.external_change
                    || facts.cooldown_elapsed.is_some()
                    || load.on(current) < guard
                {
                    return None;
                }
                let clear = load.clear_of_miss()?;
                let proposal = clear.max(current.saturating_add(1));
                Some(scale_up_proposal(
                    self,
                    facts,
                    proposal,
                    format!(
                        "{met}; {} reaches {} per replica ({}, less margin {}%): ahead of a miss, {proposal} keep it under",
                        load.describe(),
                        round(guard),
                        load.levels(),
                        round(load.margin * 100.0)
                    ),
                ))
            }
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
            Rule::DecayToFit => {
                let DueDecay {
                    to: stepped,
                    reason,
                } = facts.due_decay.as_ref()?;
                let stepped = *stepped;
                // a load either source sees rising fits nothing
                if facts.loads().any(|load| !load.not_rising()) {
                    return None;
                }
                let floor = facts.memory.floor().map_or(1, |floor| floor.replicas);
                // each source's fit (with its own guard), the larger wins;
                // a source that cannot tell (saturated, pods unmeasured,
                // nothing learned) fits nothing, but its guard still holds
                let mut to = None::<u32>;
                let mut said = Vec::new();
                for load in facts.loads() {
                    let clear = load.clear_of_miss().unwrap_or(1).max(floor);
                    match load.fits().filter(|_| !load.saturated && load.complete) {
                        Some(fits) => {
                            let fits = fits.max(clear);
                            said.push(format!("{} fits {fits} ({})", load.describe(), load.levels()));
                            to = Some(to.map_or(fits, |to: u32| to.max(fits)));
                        }
                        None if clear > 1 => {
                            said.push(format!("{} keeps {clear} ({})", load.describe(), load.levels()));
                        }
                        None => {}
                    }
                }
                let to = to?;
                // every guard, also of a source seen after the fit
                let to = facts
                    .loads()
                    .filter_map(LoadView::clear_of_miss)
                    .fold(to.max(floor), u32::max);
                let larger = if said.len() > 1 { format!(": the larger, {to}") } else { String::new() };
                (to < stepped).then(|| Proposal {
                    rule: self,
                    replicas: to,
                    reason: format!("{reason}; {}{larger}", said.join("; ")),
                    step: Step::Decay,
                })
            }
            Rule::NoDecayIntoMiss => {
                let DueDecay {
                    to: stepped,
                    reason,
                } = facts.due_decay.as_ref()?;
                let stepped = *stepped;
                // each source's guard may forbid the decay
                facts.loads().find_map(|load| {
                    let (guard, why_guard) = load.decay_guard()?;
                    let serving = facts.replicas.counted();
                    let on = load.moved_to(serving, stepped);
                    (stepped < current && on >= guard).then(|| {
                        hold(format!(
                            "{reason}; no decay to {stepped}: {}; the load of {} serving on {stepped} would be {} per replica, at or above {} ({why_guard})",
                            load.describe(),
                            load.pods.max(serving),
                            round(on),
                            round(guard),
                        ))
                    })
                })
            }
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

/// The proposal of a rule that sizes the replicas itself, in both
/// directions (the HPA-like and KEDA-like targets): a scale-up to `desired`
/// capped as every scale-up is, else a decay or hold to it.
fn sized(rule: Rule, facts: &Facts, desired: u32, reason: String) -> Proposal {
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
fn scale_up_proposal(rule: Rule, facts: &Facts, proposal: u32, why: String) -> Proposal {
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
