//! The load rules of the decision table (`load:`): the HPA-like and
//! KEDA-like targets, a scale-up sized by the load, scaling ahead of a miss,
//! a decay to where the load fits and no decay into a level that missed.
//! Each reads the facts' [`LoadView`]s (the `load` and `query_load`
//! modules) and proposes as the other rules of [`super::rules`] do.

use crate::evaluate::facts::{DueDecay, Facts};
use crate::evaluate::load::{HPA_TOLERANCE, LoadSource, LoadView};
use crate::evaluate::measure::round;
use crate::evaluate::memory::Step;
use crate::evaluate::policy::scale_up;
use crate::evaluate::rules::{Proposal, Rule, hold, scale_up_proposal, sized};

/// `cpu-utilization`: the HPA's `averageUtilization` on the CPU (`load.cpu.targetUtilization`).
pub(super) fn cpu_utilization(rule: Rule, facts: &Facts) -> Option<Proposal> {
    let why = &facts.missed_line;
    let met = &facts.met_line;
    let hold = |reason: String| hold(rule, facts, reason);
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
    let reason = format!(
        "{verdict}; {described}: ceil({ready} x {}) = {desired}",
        round(ratio)
    );
    Some(sized(rule, facts, desired, reason))
}

/// `query-per-replica`: KEDA's Prometheus `threshold` on the query's value (`load.queryPerReplica`).
pub(super) fn query_per_replica(rule: Rule, facts: &Facts) -> Option<Proposal> {
    let current = facts.current();
    let why = &facts.missed_line;
    let met = &facts.met_line;
    let hold = |reason: String| hold(rule, facts, reason);
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
    Some(sized(rule, facts, desired, reason))
}

/// `scale-up-by-load`: a miss sized by the load at a steady level, between one step and what the latency asks.
pub(super) fn scale_up_by_load(rule: Rule, facts: &Facts) -> Option<Proposal> {
    let why = &facts.missed_line;
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
    let (by_latency, how) = scale_up(facts.config, counted, facts.worst_ratio_to_target);
    let proposal = need.clamp(step_up, by_latency.max(step_up));
    Some(scale_up_proposal(
        rule,
        facts,
        proposal,
        format!(
            "{why}; {} needs {need} at {}; latency asks {by_latency}{how}",
            load.describe(),
            load.levels()
        ),
    ))
}

/// `scale-ahead-of-miss`: targets met, but the per-replica load reaches the level at which a target was missed.
pub(super) fn scale_ahead_of_miss(rule: Rule, facts: &Facts) -> Option<Proposal> {
    let current = facts.current();
    let met = &facts.met_line;
    let starting = facts.replicas.starting;
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
        rule,
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

/// `decay-to-fit`: a due decay goes to the fewest replicas the load fits, in one step (the larger fit of two sources).
pub(super) fn decay_to_fit(rule: Rule, facts: &Facts) -> Option<Proposal> {
    let DueDecay {
        to: stepped,
        reason,
    } = facts.due_decay.as_ref()?;
    let stepped = *stepped;
    // a load either source sees rising fits nothing
    if facts.decay_loads().any(|load| !load.not_rising()) {
        return None;
    }
    let floor = facts.memory.floor().map_or(1, |floor| floor.replicas);
    // each source's fit (with its own guard), the larger wins;
    // a source that cannot tell (saturated, pods unmeasured,
    // nothing learned) fits nothing, but its guard still holds
    let mut to = None::<u32>;
    let mut said = Vec::new();
    for load in facts.decay_loads() {
        let clear = load.clear_of_miss().unwrap_or(1).max(floor);
        match load.fits().filter(|_| !load.saturated && load.complete) {
            Some(fits) => {
                let fits = fits.max(clear);
                said.push(format!(
                    "{} fits {fits} ({})",
                    load.describe(),
                    load.levels()
                ));
                to = Some(to.map_or(fits, |to: u32| to.max(fits)));
            }
            None if clear > 1 => {
                said.push(format!(
                    "{} keeps {clear} ({})",
                    load.describe(),
                    load.levels()
                ));
            }
            None => {}
        }
    }
    let to = to?;
    // every guard, also of a source seen after the fit
    let to = facts
        .decay_loads()
        .filter_map(LoadView::clear_of_miss)
        .fold(to.max(floor), u32::max);
    let larger = if said.len() > 1 {
        format!(": the larger, {to}")
    } else {
        String::new()
    };
    (to < stepped).then(|| Proposal {
        rule,
        replicas: to,
        reason: format!("{reason}; {}{larger}", said.join("; ")),
        step: Step::Decay,
    })
}

/// `no-decay-into-miss`: a due decay would bring the per-replica load to a source's guard.
pub(super) fn no_decay_into_miss(rule: Rule, facts: &Facts) -> Option<Proposal> {
    let current = facts.current();
    let hold = |reason: String| hold(rule, facts, reason);
    let DueDecay {
        to: stepped,
        reason,
    } = facts.due_decay.as_ref()?;
    let stepped = *stepped;
    // each source's guard may forbid the decay
    facts.decay_loads().find_map(|load| {
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
