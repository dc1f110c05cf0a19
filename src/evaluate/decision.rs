//! The scaling decision: a pure function of (config, bounds, report, observed
//! replicas, state, now) giving the replica count to answer, the state to
//! remember, the rule that decided and one human line saying why. No I/O, no
//! clock, no environment.
//!
//! It runs in four steps, each a module of its own:
//!
//! 1. **facts** (`facts`): every measurement and observation a rule may
//!    read, computed once;
//! 2. **rules** (`rules`): the first rule of the ordered table that applies
//!    proposes a count: the table for a miss, or the one for met targets;
//! 3. **limits** (`overrides`): schedule, alert boosts, budget, the CPA's
//!    bounds, each named when it changes the count;
//! 4. **next state** (`next_state`): one function writes what the next run
//!    reads, for the decision, the fallback and zero replicas alike.
//!
//! By default it is exactly the Locust Pod Autoscaler's rule: +1 replica when
//! any target is missed; otherwise, after `decay.unchangedRuns` quiet runs,
//! `-decay.replicas`.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::evaluate::config::{Bounds, EvaluationConfig};
use crate::evaluate::facts::Facts;
use crate::evaluate::measure::measure;
use crate::evaluate::next_state::{Answer, next_state};
use crate::evaluate::overrides::{Limited, Overrides};
use crate::evaluate::policy::cap;
use crate::evaluate::rules::{MET_RULES, MISS_RULES, Rule, first_applying};
use crate::report::LatencyReport;
use crate::state::DecayState;

pub use crate::cpa::Observed;
pub use crate::evaluate::measure::DecisionError;

/// What to answer, what to remember, and which rule decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The replica count to answer (`targetReplicas`).
    pub target_replicas: u32,
    /// The state to save; `None` when nothing may change (autoscaling is
    /// disabled). A dry run discards it too.
    pub state: Option<DecayState>,
    /// The rule that proposed the count.
    pub rule: Rule,
    /// The limit steps that changed the proposal, in order.
    pub limits: Vec<Limited>,
    /// One human line: the verdict, why, and the rule, e.g.
    /// `scale up 3 -> 4: GET /fibonacci?n=10 mean 12.3 ms > target 7 ms (rule: scale-up)`.
    pub explanation: String,
}

/// Decides the replica count for one run.
///
/// `observed` holds the managed resource's replica count and, when the input
/// carried its status, its ready count; `state` is what the last run saved,
/// `now` the time of this run (compared with the state's times: the scale-up
/// cooldown, the start-up allowance).
pub fn decide(
    config: &EvaluationConfig,
    bounds: Bounds,
    report: &LatencyReport,
    observed: Observed,
    state: &DecayState,
    now: SystemTime,
) -> Result<Decision, DecisionError> {
    let none = Overrides::default();
    decide_with(config, bounds, &none, report, observed, state, now)
}

/// [`decide`] with the bound overrides in force at `now` (schedule window,
/// alert boosts, budget, the CPA's bounds), applied to the proposal in their
/// documented order (the `overrides` module).
pub fn decide_with(
    config: &EvaluationConfig,
    bounds: Bounds,
    overrides: &Overrides,
    report: &LatencyReport,
    observed: Observed,
    state: &DecayState,
    now: SystemTime,
) -> Result<Decision, DecisionError> {
    let current = observed.current;
    let now_seconds = unix_seconds(now);
    let allowance = config.startup_allowance_seconds;
    if current == 0
        && let Some((target, reason, limits, notes)) = overrides.at_zero(bounds)
    {
        let state = (target > 0)
            .then(|| next_state(state, 0, target, now_seconds, allowance, Answer::FromZero));
        return Ok(decision(
            0,
            target,
            Rule::ScaleFromZero,
            &reason,
            limits,
            &notes,
            state,
        ));
    }
    if let Some(why) = at_zero(bounds, report, current) {
        let reason = format!("{why}; nothing changed");
        return Ok(decision(0, 0, Rule::AtZero, &reason, Vec::new(), &[], None));
    }
    let measurements = match measure(config, report) {
        Ok(measurements) => measurements,
        Err(error) => {
            return lost_endpoints(
                config,
                bounds,
                overrides,
                observed,
                state,
                now_seconds,
                &error,
            )
            .ok_or(error);
        }
    };
    let tested_at = load_test_middle_unix_ms(now, report);
    let facts = Facts::gather(
        config,
        report,
        measurements,
        observed,
        state,
        (now_seconds, tested_at),
    );
    let table: &[Rule] = if facts.missed {
        &MISS_RULES
    } else {
        &MET_RULES
    };
    let proposal = first_applying(table, &facts);
    let (target, limits) = overrides.apply(bounds, proposal.replicas);
    let mut notes = Vec::new();
    notes.extend(facts.replicas.note(allowance));
    notes.extend(load_note(&facts, proposal.rule));
    if facts.external_change {
        notes.push(format!(
            "replicas were changed by someone else (last seen {}, answered {}, now {current}): runs counter reset",
            state.last_seen_replicas.unwrap_or_default(),
            state.last_target_replicas.unwrap_or_default()
        ));
    }
    let next = next_state(
        state,
        current,
        target,
        now_seconds,
        allowance,
        Answer::Judged {
            facts: &facts,
            step: proposal.step,
        },
    );
    Ok(decision(
        current,
        target,
        proposal.rule,
        &proposal.reason,
        limits,
        &notes,
        Some(next),
    ))
}

/// With `load:`, what the line says of the load when the deciding rule
/// did not: the load and the levels, or that the report had none and the
/// latency rules decided alone.
fn load_note(facts: &Facts, rule: Rule) -> Option<String> {
    let decisions = facts.config.load_rules()?;
    let mut missing = Vec::new();
    if decisions.cpu.is_some() && facts.load.is_none() {
        missing.push("no CPU load in the report (load.cpu: is kubernetesMetrics configured?)");
    }
    if decisions.prometheus.is_some() && facts.query_load.is_none() {
        missing
            .push("no query value in the report (load.prometheus: see the metric stage's warning)");
    }
    if facts.loads().next().is_none() {
        return Some(format!(
            "{}: the latency rules decided alone",
            missing.join(", ")
        ));
    }
    if LOAD_RULES.contains(&rule) {
        return None;
    }
    let loads: Vec<String> = facts
        .loads()
        .map(|load| format!("{} ({})", load.describe(), load.levels()))
        .chain(missing.iter().map(|&missing| missing.to_owned()))
        .collect();
    Some(format!("load: {}", loads.join("; ")))
}

/// The rules whose reason names the load already.
const LOAD_RULES: [Rule; 6] = [
    Rule::CpuUtilization,
    Rule::QueryPerReplica,
    Rule::ScaleUpByLoad,
    Rule::ScaleAheadOfMiss,
    Rule::DecayToFit,
    Rule::NoDecayIntoMiss,
];

/// The decision and its line.
fn decision(
    current: u32,
    target: u32,
    rule: Rule,
    reason: &str,
    limits: Vec<Limited>,
    notes: &[String],
    state: Option<DecayState>,
) -> Decision {
    Decision {
        target_replicas: target,
        state,
        rule,
        explanation: line(current, target, rule, reason, &limits, notes),
        limits,
    }
}

/// The decision line, the one way every decision is worded:
/// `scale up 3 -> 4: <reason>`, `scale down ...` or `hold 3: ...`, then each
/// limit step that changed the proposal, then `notes`, then the rule:
/// `(rule: scale-up)`.
pub(crate) fn line(
    current: u32,
    target: u32,
    rule: Rule,
    reason: &str,
    limits: &[Limited],
    notes: &[String],
) -> String {
    let mut line = format!("{}: {reason}", direction(current, target));
    for limit in limits {
        let _ = write!(line, "; {}", limit.note);
    }
    for note in notes {
        let _ = write!(line, "; {note}");
    }
    let _ = write!(line, " (rule: {})", rule.name());
    line
}

/// The answer when every request of a target failed while replicas dropped
/// out of readiness since the last answered run: the Service lost its
/// endpoints to readiness probes failing under load, which is when more
/// replicas are needed (the HPA counts such pods again). One scale-up step
/// by the policy, once: the state forgets the ready count, so a run that
/// still fails after it is refused as a broken service. `None` otherwise.
fn lost_endpoints(
    config: &EvaluationConfig,
    bounds: Bounds,
    overrides: &Overrides,
    observed: Observed,
    state: &DecayState,
    now_seconds: u64,
    error: &DecisionError,
) -> Option<Decision> {
    let DecisionError::AllFailed { .. } = error else {
        return None;
    };
    let current = observed.current;
    let (ready, before) = (observed.ready?, state.last_ready_replicas?);
    if current == 0 || ready >= before || ready >= current {
        return None;
    }
    let step_up = current.saturating_add(config.scale_up.replicas);
    let why = format!(
        "{error}; {ready} of {current} replicas ready, {before} in the last answered run: the service lost its endpoints to readiness, one step up"
    );
    let (proposal, reason) = cap(config, current, step_up, why);
    let (target, limits) = overrides.apply(bounds, proposal);
    let allowance = config.startup_allowance_seconds;
    let next = next_state(
        state,
        current,
        target,
        now_seconds,
        allowance,
        Answer::LostEndpoints,
    );
    Some(decision(
        current,
        target,
        Rule::LostEndpoints,
        &reason,
        limits,
        &[],
        Some(next),
    ))
}

/// The middle of the report's load test, milliseconds since the Unix epoch:
/// `now` less half its run time (the evaluate stage runs right after it).
fn load_test_middle_unix_ms(now: SystemTime, report: &LatencyReport) -> u64 {
    let now_ms = now.duration_since(UNIX_EPOCH).map_or(0, |elapsed| {
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
    });
    // `as` saturates: a negative or absurd run time cannot wrap around
    let half_ms = (report.run_time_seconds * 500.0).max(0.0) as u64;
    now_ms.saturating_sub(half_ms)
}

/// Seconds since the Unix epoch; 0 before it.
pub(crate) fn unix_seconds(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

/// Why nothing may change at zero replicas: autoscaling is disabled (a
/// minimum above 0), or nothing was measured.
fn at_zero(bounds: Bounds, report: &LatencyReport, current: u32) -> Option<String> {
    if current != 0 {
        None
    } else if bounds.min > 0 {
        Some(format!(
            "autoscaling disabled (current replicas 0, minReplicas {})",
            bounds.min
        ))
    } else if report.requests.is_empty() {
        Some(format!(
            "no replicas, so nothing was measured (minReplicas {})",
            bounds.min
        ))
    } else {
        None
    }
}

/// The head of every decision line: `scale up 3 -> 4`, `scale down 4 -> 3`
/// or `hold 3`.
pub(crate) fn direction(current: u32, target: u32) -> String {
    if target > current {
        format!("scale up {current} -> {target}")
    } else if target < current {
        format!("scale down {current} -> {target}")
    } else {
        format!("hold {current}")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::evaluate::config::ScaleUpPolicy;
    use crate::report::{ConfidenceInterval, RequestStats, Trend, Verdict};
    use crate::state::{AddedReplicas, LastMiss};

    const NOW: u64 = 1_800_000_000;
    const BOUNDS: Bounds = Bounds { min: 1, max: 10 };

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    /// The LPA example config plus `extra` YAML lines at the top level.
    fn config(target_lines: &str, extra: &str) -> EvaluationConfig {
        let text =
            format!("targets:\n{target_lines}decay:\n  replicas: 1\n  unchangedRuns: 3\n{extra}");
        EvaluationConfig::parse_str(&text, Path::new("test.yaml")).unwrap()
    }

    fn lpa() -> EvaluationConfig {
        config(
            "  - {method: GET, endpoint: /fib, type: mean, target: 7}\n",
            "",
        )
    }

    fn stats(count: u64, failures: u64, latency_ms: f64) -> RequestStats {
        RequestStats {
            method: "GET".into(),
            name: "/fib".into(),
            count,
            failures,
            timeouts: 0,
            connection_errors: 0,
            status_errors: 0,
            error_rate: if count == 0 {
                0.0
            } else {
                failures as f64 / count as f64
            },
            requests_per_second: count as f64 / 5.0,
            mean_ms: latency_ms,
            median_ms: latency_ms,
            min_ms: latency_ms,
            max_ms: latency_ms,
            p75_ms: latency_ms,
            p90_ms: latency_ms,
            p95_ms: latency_ms,
            p99_ms: latency_ms,
            confidence_intervals: BTreeMap::new(),
        }
    }

    fn report(stats: RequestStats) -> LatencyReport {
        let mut requests = BTreeMap::new();
        requests.insert(LatencyReport::key(&stats.method, &stats.name), stats);
        LatencyReport {
            current_replicas: None,
            users: 10,
            run_time_seconds: 5.0,
            requests,
            request_timeout_ms: None,
            stopped_early: None,
            max_run_time_seconds: None,
            load: None,
        }
    }

    fn state(runs: u32, seen: u32, answered: u32, changed_at: Option<u64>) -> DecayState {
        DecayState {
            runs_since_change: runs,
            last_seen_replicas: Some(seen),
            last_target_replicas: Some(answered),
            last_scale_up_unix_seconds: changed_at,
            ..DecayState::default()
        }
    }

    struct Case {
        what: &'static str,
        config: EvaluationConfig,
        bounds: Bounds,
        report: LatencyReport,
        current: u32,
        ready: Option<u32>,
        state: DecayState,
        want_target: u32,
        want_runs: Option<u32>,
        want_explanation: String,
        want_rule: Option<Rule>,
        /// Replicas our answers added, and how many seconds ago (the
        /// state's record).
        ours: Option<(u32, u64)>,
        want_no_state: bool,
        /// (`decayFloorReplicas`, `decayFloorRunsLeft`, `decayBackoffRuns`,
        /// `decayedFromReplicas`) after the run.
        want_memory: Option<(Option<u32>, u32, u32, Option<u32>)>,
        /// Decides differently with every replica ready than without a
        /// status, on purpose (a rule that needs readiness known).
        needs_status: bool,
    }

    fn case(what: &'static str, latency_ms: f64, current: u32, want_target: u32) -> Case {
        Case {
            what,
            config: lpa(),
            bounds: BOUNDS,
            report: report(stats(100, 0, latency_ms)),
            current,
            ready: None,
            state: DecayState::default(),
            want_target,
            want_runs: None,
            want_explanation: String::new(),
            want_rule: None,
            ours: None,
            want_no_state: false,
            want_memory: None,
            needs_status: false,
        }
    }

    impl Case {
        fn config(mut self, config: EvaluationConfig) -> Self {
            self.config = config;
            self
        }
        fn bounds(mut self, min: u32, max: u32) -> Self {
            self.bounds = Bounds { min, max };
            self
        }
        fn report(mut self, stats: RequestStats) -> Self {
            self.report = report(stats);
            self
        }
        fn ready(mut self, ready: u32) -> Self {
            self.ready = Some(ready);
            self
        }
        fn state(mut self, state: DecayState) -> Self {
            self.state = state;
            self
        }
        fn runs(mut self, runs: u32) -> Self {
            self.want_runs = Some(runs);
            self
        }
        /// The state the case starts from, with our recent scale-up.
        fn start_state(&self) -> DecayState {
            DecayState {
                added_replicas: self.ours.map(|(replicas, ago)| AddedReplicas {
                    replicas,
                    at_unix_seconds: NOW - ago,
                }),
                ..self.state
            }
        }
        fn ours(self, replicas: u32) -> Self {
            self.ours_ago(replicas, 15)
        }
        fn ours_ago(mut self, replicas: u32, seconds: u64) -> Self {
            self.ours = Some((replicas, seconds));
            self
        }
        fn rule(mut self, rule: Rule) -> Self {
            self.want_rule = Some(rule);
            self
        }
        fn says(mut self, text: impl Into<String>) -> Self {
            self.want_explanation = text.into();
            self
        }
        fn report_empty(mut self) -> Self {
            self.report.requests.clear();
            self
        }
        fn timeout_ms(mut self, timeout_ms: f64) -> Self {
            self.report.request_timeout_ms = Some(timeout_ms);
            self
        }
        fn memory(
            mut self,
            floor: Option<u32>,
            runs_left: u32,
            backoff: u32,
            decayed_from: Option<u32>,
        ) -> Self {
            self.want_memory = Some((floor, runs_left, backoff, decayed_from));
            self
        }
        fn needs_status(mut self) -> Self {
            self.needs_status = true;
            self
        }
        fn no_state(mut self) -> Self {
            self.want_no_state = true;
            self
        }
    }

    fn one_target(kind: &str, target: f64) -> EvaluationConfig {
        config(
            &format!("  - {{method: get, endpoint: /fib, type: {kind}, target: {target}}}\n"),
            "",
        )
    }

    fn cases() -> Vec<Case> {
        let mut varied = stats(100, 0, 0.0);
        (
            varied.mean_ms,
            varied.median_ms,
            varied.min_ms,
            varied.max_ms,
        ) = (10.0, 20.0, 1.0, 90.0);
        (varied.p75_ms, varied.p90_ms, varied.p95_ms, varied.p99_ms) = (30.0, 40.0, 50.0, 60.0);
        let mut kinds = Vec::new();
        // each type reads its own figure: a target just under it is missed, just over it met
        for (kind, value) in [
            ("mean", 10.0),
            ("median", 20.0),
            ("p50", 20.0),
            ("min", 1.0),
            ("max", 90.0),
            ("p75", 30.0),
            ("p90", 40.0),
            ("p95", 50.0),
            ("p99", 60.0),
        ] {
            kinds.push(
                case("a type is missed when its figure is over target", 0.0, 3, 4)
                    .config(one_target(kind, value - 0.5))
                    .report(varied.clone())
                    .rule(Rule::ScaleUp)
                    .says(format!(
                        "scale up 3 -> 4: GET /fib {kind} {value} ms > target {} ms",
                        value - 0.5
                    )),
            );
            kinds.push(
                case("a type is met when its figure equals the target", 0.0, 3, 3)
                    .config(one_target(kind, value))
                    .report(varied.clone())
                    .rule(Rule::QuietRun)
                    .says(format!(
                        "hold 3: targets met (GET /fib {kind} {value} ms <= target {value} ms)"
                    )),
            );
        }
        let mut cases = vec![
            case("a missed mean target scales up by one", 12.3, 3, 4)
                .runs(0)
                .rule(Rule::ScaleUp)
                .says("scale up 3 -> 4: GET /fib mean 12.3 ms > target 7 ms"),
            case("a met target is a quiet run", 5.0, 3, 3)
                .runs(1)
                .rule(Rule::QuietRun)
                .says("hold 3: targets met (GET /fib mean 5 ms <= target 7 ms); quiet run 1 of 3 before a decay"),
            case("the third quiet run still holds", 5.0, 3, 3)
                .state(state(2, 3, 3, None))
                .runs(3)
                .rule(Rule::QuietRun)
                .says("quiet run 3 of 3"),
            case("the fourth quiet run decays", 5.0, 3, 2)
                .state(state(3, 3, 3, None))
                .runs(0)
                .rule(Rule::Decay)
                .says("scale down 3 -> 2: targets met (GET /fib mean 5 ms <= target 7 ms); 3 quiet runs since the last change (decay.unchangedRuns 3)"),
            case("a decay removes decay.replicas", 5.0, 6, 3)
                .config(config(
                    "  - {method: GET, endpoint: /fib, type: mean, target: 7}\n",
                    "",
                ).with_decay(3, 0))
                .state(state(0, 6, 6, None))
                .rule(Rule::Decay)
                .says("scale down 6 -> 3: targets met (GET /fib mean 5 ms <= target 7 ms); 0 quiet runs since the last change (decay.unchangedRuns 0)"),
            case("a decay stops at the minimum", 5.0, 3, 2)
                .config(lpa().with_decay(5, 3))
                .bounds(2, 10)
                .state(state(3, 3, 3, None))
                .rule(Rule::Decay)
                .says("scale down 3 -> 2: targets met"),
            case("no decay is proposed at the minimum", 5.0, 2, 2)
                .bounds(2, 10)
                .state(state(3, 2, 2, None))
                .runs(4)
                .rule(Rule::Decay)
                .says("hold 2: targets met"),
            case("a scale-up stops at the maximum", 20.0, 10, 10)
                .runs(0)
                .rule(Rule::ScaleUp)
                .says("hold 10: GET /fib mean 20 ms > target 7 ms; 11 limited to maxReplicas 10"),
            case("a count above the maximum is brought down", 5.0, 12, 10)
                .rule(Rule::QuietRun)
                .says("scale down 12 -> 10"),
            case("a count below the minimum is brought up", 5.0, 1, 3)
                .bounds(3, 10)
                .rule(Rule::QuietRun)
                .says("scale up 1 -> 3"),
            case("zero replicas with a minimum above zero answers zero and changes nothing", 20.0, 0, 0)
                .rule(Rule::AtZero)
                .says("hold 0: autoscaling disabled (current replicas 0, minReplicas 1); nothing changed"),
            case("a replica count changed by someone else resets the runs counter", 5.0, 6, 6)
                .state(state(3, 3, 3, None))
                .runs(0)
                .rule(Rule::OutsideChange)
                .says("hold 6: targets met (GET /fib mean 5 ms <= target 7 ms); replicas were changed by someone else (last seen 3, answered 3, now 6): runs counter reset"),
            case("a decay held back by downscale stabilization is answered again, not counted as an external change", 5.0, 4, 3)
                .state(state(0, 4, 3, Some(NOW - 15)))
                .runs(0)
                .rule(Rule::PendingDecay)
                .says("scale down 4 -> 3: targets met (GET /fib mean 5 ms <= target 7 ms); the decay to 3 is not applied yet (downscale stabilization), answering it again"),
            case("a held-back decay is not answered again while requests fail", 5.0, 4, 4)
                .state(state(0, 4, 3, Some(NOW - 15)))
                .report(stats(100, 3, 5.0))
                .runs(1)
                .rule(Rule::RequestsFailing)
                .says("hold 4: targets met (GET /fib mean 5 ms <= target 7 ms); no decay while requests fail: GET /fib 3 of 100 failed"),
            case("a scale-up time in the future does not block scale-ups", 20.0, 4, 5)
                .state(state(0, 4, 4, Some(NOW + 3600)))
                .config(lpa().with_scale_up("step", None, 60))
                .rule(Rule::ScaleUp)
                .says("scale up 4 -> 5: GET /fib mean 20 ms > target 7 ms"),
            case("zero replicas with a zero minimum and nothing measured holds zero", 5.0, 0, 0)
                .bounds(0, 10)
                .report_empty()
                .no_state()
                .rule(Rule::AtZero)
                .says("hold 0: no replicas, so nothing was measured (minReplicas 0); nothing changed"),
            case("replicas at our last answer are not an external change", 5.0, 4, 4)
                .state(state(0, 3, 4, Some(NOW - 15)))
                .runs(1)
                .rule(Rule::QuietRun)
                .says("hold 4: targets met (GET /fib mean 5 ms <= target 7 ms); quiet run 1 of 3 before a decay"),
            case("proportional scale-up follows the worst missed latency target", 14.0, 3, 6)
                .config(lpa().with_scale_up("proportional", None, 0))
                .rule(Rule::ScaleUp)
                .says("scale up 3 -> 6: GET /fib mean 14 ms > target 7 ms (proportional: 3 x 2)"),
            case("proportional scale-up adds at least one replica", 7.1, 3, 4)
                .config(lpa().with_scale_up("proportional", None, 0))
                .rule(Rule::ScaleUp)
                .says("scale up 3 -> 4: GET /fib mean 7.1 ms > target 7 ms (proportional: 3 x 1.014)"),
            case("maxStep caps a proportional scale-up", 70.0, 3, 5)
                .config(lpa().with_scale_up("proportional", Some(2), 0))
                .rule(Rule::ScaleUp)
                .says("30 capped by scaleUp.maxStep 2"),
            case("an errorRate miss alone scales up by one under proportional", 1.0, 3, 4)
                .config(config(
                    "  - {method: GET, endpoint: /fib, type: errorRate, target: 0.05}\n",
                    "scaleUp: {policy: proportional}\n",
                ))
                .report(stats(100, 10, 1.0))
                .rule(Rule::ScaleUp)
                .says("scale up 3 -> 4: GET /fib errorRate 0.1 > target 0.05"),
            case("a miss within tolerance is met", 7.5, 3, 3)
                .config(config(
                    "  - {method: GET, endpoint: /fib, type: mean, target: 7, tolerance: 0.1}\n",
                    "",
                ))
                .rule(Rule::QuietRun)
                .says("GET /fib mean 7.5 ms <= target 7 ms +10%"),
            case("a miss beyond tolerance scales up", 7.8, 3, 4)
                .config(config(
                    "  - {method: GET, endpoint: /fib, type: mean, target: 7, tolerance: 0.1}\n",
                    "",
                ))
                .rule(Rule::ScaleUp)
                .says("scale up 3 -> 4: GET /fib mean 7.8 ms > target 7 ms +10%"),
            case("a miss during the scale-up cooldown holds", 20.0, 4, 4)
                .config(lpa().with_scale_up("step", None, 60))
                .state(state(0, 3, 4, Some(NOW - 30)))
                .runs(0)
                .rule(Rule::Cooldown)
                .says("hold 4: GET /fib mean 20 ms > target 7 ms; scale-up cooldown: 30 s of scaleUp.cooldownSeconds 60 s since the last scale-up"),
            case("a miss after the scale-up cooldown scales up", 20.0, 4, 5)
                .config(lpa().with_scale_up("step", None, 60))
                .state(state(0, 3, 4, Some(NOW - 60)))
                .rule(Rule::ScaleUp)
                .says("scale up 4 -> 5: GET /fib mean 20 ms > target 7 ms"),
            case("no decay while a targeted request has failures", 5.0, 3, 3)
                .report(stats(100, 1, 5.0))
                .state(state(3, 3, 3, None))
                .runs(4)
                .rule(Rule::RequestsFailing)
                .says("no decay while requests fail: GET /fib 1 of 100 failed"),
            case("a met errorRate target of zero with no failures decays", 5.0, 3, 2)
                .config(config(
                    "  - {method: GET, endpoint: /fib, type: errorRate, target: 0}\n",
                    "",
                ))
                .state(state(3, 3, 3, None))
                .rule(Rule::Decay)
                .says("scale down 3 -> 2: targets met (GET /fib errorRate 0 <= target 0); 3 quiet runs since the last change (decay.unchangedRuns 3)"),
        ];
        cases.extend(kinds);
        cases.extend(readiness_cases());
        cases.extend(backlog_cases());
        cases.extend(saturation_cases());
        cases.extend(failed_decay_cases());
        cases.extend(draining_cases());
        cases.extend(policy_cases());
        cases.extend(settling_cases());
        cases.extend(load_cases());
        cases.extend(query_cases());
        cases
    }

    /// An HPA-like config: `load.cpu.targetUtilization: 0.7`.
    fn hpa_like() -> EvaluationConfig {
        config(
            "  - {method: GET, endpoint: /fib, type: mean, target: 7}\n",
            "load:\n  cpu: {targetUtilization: 0.7}\n",
        )
    }

    /// The LPA example config with `load: {cpu: {}}` and `extra` lines in it.
    fn with_load(extra: &str) -> EvaluationConfig {
        config(
            "  - {method: GET, endpoint: /fib, type: mean, target: 7}\n",
            &format!("load:\n  cpu: {{}}\n{extra}"),
        )
    }

    /// A CPU load of `utilization` per pod over `pods` pods, limit 2.0,
    /// its window begun 20 s before `NOW`.
    fn cpu_load(utilization: f64, pods: u32) -> crate::report::Load {
        crate::report::Load {
            cpu: Some(crate::report::CpuLoad {
                cpu_utilization: utilization,
                scale_up_cpu_utilization: utilization,
                scale_down_cpu_utilization: utilization,
                cpu_limit_utilization: Some(2.0),
                pods_measured: pods,
                pods_ready: pods,
                pods_ignored: 0,
                pods_missing: 0,
                sampled_at: jiff::Timestamp::from_second(NOW as i64 - 5).unwrap(),
                window_seconds: 15.0,
            }),
            query_value: None,
        }
    }

    /// `state` with the levels met up to `met` and missed at `missed`
    /// (thousandths), learned a minute ago.
    fn learned(state: DecayState, met: Option<u32>, missed: Option<u32>) -> DecayState {
        DecayState {
            learned_load: Some(crate::state::LearnedLoad {
                met_up_to_milli: met,
                met_at_unix_seconds: met.map(|_| NOW - 60),
                missed_at_milli: missed,
                missed_at_unix_seconds: missed.map(|_| NOW - 60),
                template_hash: None,
                ..crate::state::LearnedLoad::default()
            }),
            ..state
        }
    }

    impl Case {
        /// The query's value before this run's was `total`.
        fn previous_query(mut self, total: f64) -> Self {
            let mut learned = self.state.learned_query_load.unwrap_or_default();
            learned.sample_total_milli = Some((total * 1000.0).round() as u32);
            self.state.learned_query_load = Some(learned);
            self
        }

        /// The sample before this run's had a total of `total`.
        fn previous_total(mut self, total: f64) -> Self {
            let mut learned = self.state.learned_load.unwrap_or_default();
            learned.sample_total_milli = Some((total * 1000.0).round() as u32);
            self.state.learned_load = Some(learned);
            self
        }

        /// A CPU load in the report, with the sample before it of the same
        /// total in the state (a steady load); after `.state(...)`.
        fn cpu(mut self, utilization: f64, pods: u32) -> Self {
            self.report.load = Some(cpu_load(utilization, pods));
            let mut learned = self.state.learned_load.unwrap_or_default();
            learned.sample_at_unix_seconds = Some(NOW as i64 - 20);
            learned.sample_total_milli =
                Some((utilization * f64::from(pods) * 1000.0).round() as u32);
            self.state.learned_load = Some(learned);
            self
        }

        /// `missing` and `ignored` pods beside the measured ones in the
        /// report's CPU load; after `.cpu(...)`.
        fn left_out(mut self, missing: u32, ignored: u32) -> Self {
            if let Some(cpu) = self.report.load.as_mut().and_then(|load| load.cpu.as_mut()) {
                cpu.pods_missing = missing;
                cpu.pods_ignored = ignored;
            }
            self
        }
    }

    fn load_cases() -> Vec<Case> {
        let proportional_load = || {
            config(
                "  - {method: GET, endpoint: /fib, type: mean, target: 7}\n",
                "scaleUp: {policy: proportional}\nload:\n  cpu: {}\n",
            )
        };
        vec![
            case("the load fits fewer replicas: decay to them in one step", 5.0, 4, 2)
                .config(with_load(""))
                .state(learned(state(3, 4, 4, None), Some(620), None))
                .cpu(0.31, 4)
                .rule(Rule::DecayToFit)
                .says("scale down 4 -> 2: targets met (GET /fib mean 5 ms <= target 7 ms); 3 quiet runs since the last change (decay.unchangedRuns 3); CPU 0.31 per pod x 4 = 1.24 fits 2 (met up to 0.62 per replica)"),
            case("decay to fit stops short of the level that missed", 5.0, 4, 2)
                .config(with_load(""))
                .state(learned(state(3, 4, 4, None), Some(800), Some(850)))
                .cpu(0.2, 4)
                .rule(Rule::DecayToFit)
                .says("CPU 0.2 per pod x 4 = 0.8 fits 2 (met up to 0.8 per replica, missed at 0.85)"),
            case("no decay to a count whose load reaches the level that missed", 5.0, 4, 4)
                .config(with_load(""))
                .state(learned(state(3, 4, 4, None), Some(500), Some(600)))
                .cpu(0.5, 4)
                .rule(Rule::NoDecayIntoMiss)
                .says("hold 4: targets met (GET /fib mean 5 ms <= target 7 ms); 3 quiet runs since the last change (decay.unchangedRuns 3); no decay to 3: CPU 0.5 per pod x 4 = 2; the load of 4 serving on 3 would be 0.667 per replica, at or above 0.54 (met up to 0.5 per replica, missed at 0.6, less margin 10%)"),
            case("no decay to a count whose load would pass the CPU limit, even with nothing learned", 5.0, 4, 4)
                .config(with_load(""))
                .state(state(3, 4, 4, None))
                .cpu(1.64, 4)
                .rule(Rule::NoDecayIntoMiss)
                .says("no decay to 3: CPU 1.64 per pod x 4 = 6.56; the load of 4 serving on 3 would be 2.187 per replica, at or above 1.9 (95% of the CPU limit 2: saturated)"),
            case("pods left out of the sample serve too: no decay past the limit", 5.0, 4, 4)
                .config(with_load(""))
                .state(state(3, 4, 4, None))
                .cpu(1.6, 1)
                .rule(Rule::NoDecayIntoMiss)
                .says("no decay to 3: CPU 1.6 per pod x 1 = 1.6; the load of 4 serving on 3 would be 2.133 per replica"),
            // Unlike the HPA's scale-down, ignored pods count: right after a
            // scale-up the new pods are ignored and the old pod's sample is
            // the whole load of the time (measured: leaving them out let the
            // step decay 4 -> 3 under 250 req/s and reverse).
            case("ignored pods serve too: no decay past the limit after a scale-up", 5.0, 4, 4)
                .config(with_load(""))
                .state(state(3, 4, 4, None))
                .cpu(1.6, 1)
                .left_out(0, 3)
                .rule(Rule::NoDecayIntoMiss)
                .says("no decay to 3: CPU 1.6 per pod x 1 = 1.6; the load of 4 serving on 3 would be 2.133 per replica"),
            case("with nothing learned a due decay steps as without load, naming the load", 5.0, 4, 3)
                .config(with_load(""))
                .state(state(3, 4, 4, None))
                .cpu(0.3, 4)
                .rule(Rule::Decay)
                .says("(decay.unchangedRuns 3); load: CPU 0.3 per pod x 4 = 1.2 (no level learned yet)"),
            case("the hint seeds the level before one is learned", 5.0, 4, 2)
                .config(with_load("  targetPerReplica: 0.6\n"))
                .state(state(3, 4, 4, None))
                .cpu(0.3, 4)
                .rule(Rule::DecayToFit)
                .says("fits 2 (load.targetPerReplica 0.6 until a level is learned)"),
            case("a miss is sized by the load, not the latency ratio", 70.0, 2, 4)
                .config(proportional_load())
                .state(learned(DecayState::default(), Some(450), None))
                .cpu(0.9, 2)
                .rule(Rule::ScaleUpByLoad)
                .says("scale up 2 -> 4: GET /fib mean 70 ms > target 7 ms; CPU 0.9 per pod x 2 = 1.8 needs 4 at met up to 0.45 per replica; latency asks 20 (proportional: 2 x 10)"),
            case("the load size is capped by what the latency asks", 9.0, 2, 3)
                .config(proportional_load())
                .state(learned(DecayState::default(), Some(300), None))
                .cpu(1.5, 2)
                .rule(Rule::ScaleUpByLoad)
                .says("needs 10 at met up to 0.3 per replica; latency asks 3 (proportional: 2 x 1.286)"),
            case("a load that moved since the sample before leaves the size to the latency", 70.0, 2, 10)
                .config(proportional_load())
                .state(learned(DecayState::default(), Some(450), None))
                .cpu(0.9, 2)
                .previous_total(0.9)
                .rule(Rule::ScaleUp),
            case("saturated CPU falls back to the latency ratio", 70.0, 2, 10)
                .config(proportional_load())
                .state(learned(DecayState::default(), Some(450), None))
                .cpu(1.9, 2)
                .rule(Rule::ScaleUp)
                .says("scale up 2 -> 10: GET /fib mean 70 ms > target 7 ms (proportional: 2 x 10); 20 limited to maxReplicas 10; load: CPU 1.9 per pod x 2 = 3.8"),
            case("targets met at the level that missed before: scale ahead", 5.0, 3, 4)
                .config(with_load(""))
                .state(learned(DecayState::default(), Some(400), Some(600)))
                .cpu(0.6, 3)
                .rule(Rule::ScaleAheadOfMiss)
                .says("scale up 3 -> 4: targets met (GET /fib mean 5 ms <= target 7 ms); CPU 0.6 per pod x 3 = 1.8 reaches 0.54 per replica (met up to 0.4 per replica, missed at 0.6, less margin 10%): ahead of a miss, 4 keep it under"),
            case("no scale ahead while replicas start", 5.0, 3, 3)
                .config(with_load(""))
                .state(learned(DecayState::default(), Some(400), Some(600)))
                .cpu(0.6, 2)
                .ready(2)
                .ours(1)
                .rule(Rule::NoDecayWhileStarting),
            case("cpuUtilization: scale up to ceil(ready x utilisation / target)", 5.0, 3, 5)
                .config(hpa_like())
                .cpu(1.1, 3)
                .rule(Rule::CpuUtilization)
                .says("scale up 3 -> 5: targets met (GET /fib mean 5 ms <= target 7 ms); CPU 1.1 per pod / target 0.7 = 1.571 on 3 ready: ceil(3 x 1.571) = 5"),
            case("cpuUtilization: scale down the same way, even on a latency miss", 12.0, 4, 2)
                .config(hpa_like())
                .cpu(0.3, 4)
                .rule(Rule::CpuUtilization)
                .says("scale down 4 -> 2: GET /fib mean 12 ms > target 7 ms; CPU 0.3 per pod / target 0.7 = 0.429 on 4 ready: ceil(4 x 0.429) = 2"),
            case("cpuUtilization: within the tolerance 0.1 holds", 5.0, 4, 4)
                .config(hpa_like())
                .cpu(0.76, 4)
                .rule(Rule::CpuUtilization)
                .says("hold 4: targets met (GET /fib mean 5 ms <= target 7 ms); CPU 0.76 per pod / target 0.7 = 1.086 on 4 ready: within the tolerance 0.1"),
            case("cpuUtilization: a run without the signal holds and says why", 12.0, 4, 4)
                .config(hpa_like())
                .rule(Rule::CpuUtilization)
                .says("hold 4: GET /fib mean 12 ms > target 7 ms; load.cpu.targetUtilization 0.7: no CPU load in the report, holding"),
            case("a report without load under the opt-in decides by latency and says so", 5.0, 3, 3)
                .config(with_load(""))
                .rule(Rule::QuietRun)
                .says("no CPU load in the report (load.cpu: is kubernetesMetrics configured?): the latency rules decided alone"),
            case("an old state file without learned levels decides as with nothing learned", 12.3, 3, 4)
                .config(with_load(""))
                .state(state(0, 3, 3, None))
                .cpu(0.9, 3)
                .rule(Rule::ScaleUp)
                .says("load: CPU 0.9 per pod x 3 = 2.7 (no level learned yet)"),
        ]
    }

    /// The LPA example config with `load.prometheus` and `extra` lines of
    /// the `load:` section.
    fn with_query(extra: &str) -> EvaluationConfig {
        config(
            "  - {method: GET, endpoint: /fib, type: mean, target: 7}\n",
            &format!(
                "load:\n  prometheus: {{url: 'http://127.0.0.1:9090', query: 'sum(rate(x[1m]))'}}\n{extra}"
            ),
        )
    }

    /// `state` with the query's levels met up to `met` and missed at
    /// `missed` (thousandths of req/s per replica), learned a minute ago.
    fn learned_query(state: DecayState, met: Option<u32>, missed: Option<u32>) -> DecayState {
        DecayState {
            learned_query_load: Some(crate::state::LearnedLoad {
                met_up_to_milli: met,
                met_at_unix_seconds: met.map(|_| NOW - 60),
                missed_at_milli: missed,
                missed_at_unix_seconds: missed.map(|_| NOW - 60),
                ..crate::state::LearnedLoad::default()
            }),
            ..state
        }
    }

    impl Case {
        /// The query's `value` in the report (beside a CPU load, if any),
        /// with the value before it the same in the state (a steady load);
        /// after `.state(...)`.
        fn query(mut self, value: f64) -> Self {
            let mut load = self.report.load.take().unwrap_or(crate::report::Load {
                cpu: None,
                query_value: None,
            });
            load.query_value = Some(value);
            self.report.load = Some(load);
            let mut learned = self.state.learned_query_load.unwrap_or_default();
            learned.sample_at_unix_seconds = Some(NOW as i64 - 20);
            // the run before saw the same load, the probe's own included
            let probe = self.report.requests_per_second();
            learned.sample_total_milli = Some(((value + probe) * 1000.0).round() as u32);
            self.state.learned_query_load = Some(learned);
            self
        }
    }

    impl Case {
        /// The CPU sample of the report was first seen by the run before,
        /// when the query's total (probe included) was `query_total`.
        fn cpu_seen_at_query(mut self, query_total: f64) -> Self {
            let mut learned = self.state.learned_load.unwrap_or_default();
            learned.sample_at_unix_seconds = Some(NOW as i64 - 5);
            learned.previous_total_milli = learned.sample_total_milli;
            learned.query_total_at_sample_milli = Some((query_total * 1000.0).round() as u32);
            self.state.learned_load = Some(learned);
            self
        }
    }

    fn query_cases() -> Vec<Case> {
        let proportional_query = |cpu: &str| {
            config(
                "  - {method: GET, endpoint: /fib, type: mean, target: 7}\n",
                &format!(
                    "scaleUp: {{policy: proportional}}\nload:\n{cpu}  prometheus: {{url: 'http://127.0.0.1:9090', query: 'q'}}\n"
                ),
            )
        };
        let keda_like = || with_query("  queryPerReplica: 50\n");
        vec![
            case("the query alone names its load on every line", 5.0, 4, 3)
                .config(with_query(""))
                .state(state(3, 4, 4, None))
                .query(180.0)
                .rule(Rule::Decay)
                .says("(decay.unchangedRuns 3); load: query 180 + probe 20 req/s / 4 = 50 per replica (no level learned yet)"),
            case("the query's load fits fewer replicas: decay to them in one step", 5.0, 4, 2)
                .config(with_query(""))
                .state(learned_query(state(3, 4, 4, None), Some(75_000), None))
                .query(80.0)
                .rule(Rule::DecayToFit)
                .says("scale down 4 -> 2: targets met (GET /fib mean 5 ms <= target 7 ms); 3 quiet runs since the last change (decay.unchangedRuns 3); query 80 + probe 20 req/s / 4 = 25 per replica fits 2 (met up to 75 per replica)"),
            case("a rising query fits nothing: one decay step", 5.0, 4, 3)
                .config(with_query(""))
                .state(learned_query(state(3, 4, 4, None), Some(75_000), None))
                .query(80.0)
                .previous_query(50.0)
                .rule(Rule::Decay),
            case("no decay to a count whose query load reaches the level that missed", 5.0, 4, 4)
                .config(with_query(""))
                .state(learned_query(state(3, 4, 4, None), Some(50_000), Some(60_000)))
                .query(180.0)
                .rule(Rule::NoDecayIntoMiss)
                .says("hold 4: targets met (GET /fib mean 5 ms <= target 7 ms); 3 quiet runs since the last change (decay.unchangedRuns 3); no decay to 3: query 180 + probe 20 req/s / 4 = 50 per replica; the load of 4 serving on 3 would be 66.667 per replica, at or above 54 (met up to 50 per replica, missed at 60, less margin 10%)"),
            case("a miss is sized by the query", 70.0, 2, 4)
                .config(proportional_query(""))
                .state(learned_query(DecayState::default(), Some(50_000), None))
                .query(180.0)
                .rule(Rule::ScaleUpByLoad)
                .says("scale up 2 -> 4: GET /fib mean 70 ms > target 7 ms; query 180 + probe 20 req/s / 2 = 100 per replica needs 4 at met up to 50 per replica; latency asks 20 (proportional: 2 x 10)"),
            case("a query that says the replicas suffice lags the step: the latency sizes the miss", 70.0, 2, 10)
                .config(proportional_query(""))
                .state(learned_query(DecayState::default(), Some(50_000), None))
                .query(40.0)
                .rule(Rule::ScaleUp)
                .says("scale up 2 -> 10: GET /fib mean 70 ms > target 7 ms (proportional: 2 x 10); 20 limited to maxReplicas 10; load: query 40 + probe 20 req/s / 2 = 30 per replica (met up to 50 per replica)"),
            case("with only the query, a CPU load in the report is not read", 5.0, 4, 3)
                .config(with_query(""))
                .state(learned(state(3, 4, 4, None), Some(620), None))
                .cpu(0.31, 4)
                .query(180.0)
                .rule(Rule::Decay)
                .says("(decay.unchangedRuns 3); load: query 180 + probe 20 req/s / 4 = 50 per replica (no level learned yet) (rule: decay)"),
            case("targets met at the query level that missed before: scale ahead", 5.0, 3, 4)
                .config(with_query(""))
                .state(learned_query(DecayState::default(), Some(40_000), Some(60_000)))
                .query(145.0)
                .rule(Rule::ScaleAheadOfMiss)
                .says("scale up 3 -> 4: targets met (GET /fib mean 5 ms <= target 7 ms); query 145 + probe 20 req/s / 3 = 55 per replica reaches 54 per replica (met up to 40 per replica, missed at 60, less margin 10%): ahead of a miss, 4 keep it under"),
            case("both sources: the query sizes the scale-up where the CPU is saturated", 70.0, 2, 4)
                .config(proportional_query("  cpu: {}\n"))
                .state(learned_query(learned(DecayState::default(), Some(450), None), Some(50_000), None))
                .cpu(1.9, 2)
                .query(180.0)
                .rule(Rule::ScaleUpByLoad)
                .says("query 180 + probe 20 req/s / 2 = 100 per replica needs 4 at met up to 50 per replica"),
            case("both sources: the CPU's guard forbids a decay the query fits", 5.0, 4, 4)
                .config(with_query("  cpu: {}\n"))
                .state(learned_query(learned(state(3, 4, 4, None), Some(500), Some(600)), Some(75_000), None))
                .cpu(0.5, 4)
                .query(80.0)
                .rule(Rule::NoDecayIntoMiss)
                .says("no decay to 3: CPU 0.5 per pod x 4 = 2; the load of 4 serving on 3 would be 0.667 per replica, at or above 0.54 (met up to 0.5 per replica, missed at 0.6, less margin 10%)"),
            case("both sources: the query's guard forbids a decay the CPU fits", 5.0, 4, 4)
                .config(with_query("  cpu: {}\n"))
                .state(learned_query(learned(state(3, 4, 4, None), Some(620), None), Some(50_000), Some(60_000)))
                .cpu(0.31, 4)
                .query(180.0)
                .rule(Rule::NoDecayIntoMiss)
                .says("no decay to 3: query 180 + probe 20 req/s / 4 = 50 per replica; the load of 4 serving on 3 would be 66.667 per replica"),
            case("both sources: decay to the larger of the two fits", 5.0, 5, 3)
                .config(with_query("  cpu: {}\n"))
                .state(learned_query(learned(state(3, 5, 5, None), Some(620), None), Some(75_000), None))
                .cpu(0.248, 5)
                .query(140.0)
                .rule(Rule::DecayToFit)
                .says("CPU 0.248 per pod x 5 = 1.24 fits 2 (met up to 0.62 per replica); query 140 + probe 20 req/s / 5 = 32 per replica fits 3 (met up to 75 per replica): the larger, 3"),
            case("both sources: the CPU seen through the query, which fell since its sample: decay at once", 5.0, 4, 2)
                .config(with_query("  cpu: {}\n"))
                .state(learned_query(learned(state(3, 4, 4, None), Some(620), None), Some(75_000), None))
                .cpu(1.5, 4)
                .cpu_seen_at_query(300.0)
                .query(40.0)
                .rule(Rule::DecayToFit)
                .says("CPU 1.5 per pod x 4 = 6, x 60 / 300 as the query moved since = 1.2 fits 2 (met up to 0.62 per replica); query 40 + probe 20 req/s / 4 = 15 per replica fits 1 (met up to 75 per replica): the larger, 2"),
            case("both sources: a query that held since the CPU's sample leaves the sample's guard", 5.0, 4, 4)
                .config(with_query("  cpu: {}\n"))
                .state(learned_query(learned(state(3, 4, 4, None), Some(620), None), Some(75_000), None))
                .cpu(1.5, 4)
                .cpu_seen_at_query(66.0)
                .query(40.0)
                .rule(Rule::NoDecayIntoMiss)
                .says("no decay to 3: CPU 1.5 per pod x 4 = 6; the load of 4 serving on 3 would be 2 per replica, at or above 1.9 (95% of the CPU limit 2: saturated)"),
            case("an old state file with the CPU's levels only: nothing learned of the query", 12.3, 3, 4)
                .config(with_query("  cpu: {}\n"))
                .state(learned(state(0, 3, 3, None), Some(620), None))
                .query(70.0)
                .rule(Rule::ScaleUp)
                .says("load: query 70 + probe 20 req/s / 3 = 30 per replica (no level learned yet); no CPU load in the report (load.cpu: is kubernetesMetrics configured?)"),
            case("queryPerReplica: scale up to ceil(queryValue / target)", 5.0, 3, 5)
                .config(keda_like())
                .query(212.0)
                .rule(Rule::QueryPerReplica)
                .says("scale up 3 -> 5: targets met (GET /fib mean 5 ms <= target 7 ms); query 212 req/s / (target 50 per replica x 3) = 1.413: ceil(212 / 50) = 5"),
            case("queryPerReplica: scale down the same way, even on a latency miss", 12.0, 4, 2)
                .config(keda_like())
                .query(90.0)
                .rule(Rule::QueryPerReplica)
                .says("scale down 4 -> 2: GET /fib mean 12 ms > target 7 ms; query 90 req/s / (target 50 per replica x 4) = 0.45: ceil(90 / 50) = 2"),
            case("queryPerReplica: within the tolerance 0.1 holds", 5.0, 4, 4)
                .config(keda_like())
                .query(218.0)
                .rule(Rule::QueryPerReplica)
                .says("hold 4: targets met (GET /fib mean 5 ms <= target 7 ms); query 218 req/s / (target 50 per replica x 4) = 1.09: within the tolerance 0.1"),
            case("queryPerReplica: a run without the query's value holds and says why", 12.0, 4, 4)
                .config(keda_like())
                .rule(Rule::QueryPerReplica)
                .says("hold 4: GET /fib mean 12 ms > target 7 ms; load.queryPerReplica 50: no query value in the report, holding"),
        ]
    }

    /// Without `load:`, a report carrying `load` decides exactly as one
    /// without it: the same count, line, rule and state, in every case of
    /// the table.
    #[test]
    fn without_the_opt_in_the_load_changes_no_decision() {
        for case in cases()
            .into_iter()
            .filter(|case| case.config.load_rules().is_none())
        {
            let decide_on = |report: &LatencyReport| {
                decide(
                    &case.config,
                    case.bounds,
                    report,
                    Observed {
                        current: case.current,
                        ready: case.ready,
                        template_hash: Some(42),
                    },
                    &case.start_state(),
                    at(NOW),
                )
            };
            let mut loaded = case.report.clone();
            let mut load = cpu_load(1.9, case.current.max(1));
            load.query_value = Some(500.0);
            loaded.load = Some(load);
            let with_load = decide_on(&loaded).unwrap();
            let without = decide_on(&case.report).unwrap();
            assert_eq!(with_load, without, "{}", case.what);
        }
    }

    /// With both sources, the run that first sees a CPU sample keeps the
    /// query's total then; the runs after it on the same sample keep it.
    #[test]
    fn the_query_s_total_is_kept_with_the_cpu_sample_it_was_first_seen_with() {
        let config = with_query("  cpu: {}\n");
        let observed = Observed {
            current: 4,
            ready: Some(4),
            template_hash: None,
        };
        let mut loaded = report(stats(100, 0, 5.0));
        let mut load = cpu_load(0.31, 4);
        load.query_value = Some(180.0);
        loaded.load = Some(load);
        let probe = loaded.requests_per_second();
        let decide_at = |state: &DecayState, report: &LatencyReport, now| {
            decide(&config, BOUNDS, report, observed, state, at(now))
                .unwrap()
                .state
                .unwrap()
        };
        let first = decide_at(&DecayState::default(), &loaded, NOW);
        let kept = first.learned_load.unwrap().query_total_at_sample_milli;
        assert_eq!(kept, Some(((180.0 + probe) * 1000.0).round() as u32));
        // the same sample a run later, the query fallen: the total stays
        let mut fallen = loaded.clone();
        fallen.load.as_mut().unwrap().query_value = Some(20.0);
        let second = decide_at(&first, &fallen, NOW + 5);
        assert_eq!(
            second.learned_load.unwrap().query_total_at_sample_milli,
            kept
        );
        // a new sample: the query's total of this run
        let mut next = fallen.clone();
        next.load.as_mut().unwrap().cpu.as_mut().unwrap().sampled_at =
            jiff::Timestamp::from_second(NOW as i64 + 10).unwrap();
        let third = decide_at(&second, &next, NOW + 15);
        assert_eq!(
            third.learned_load.unwrap().query_total_at_sample_milli,
            Some(((20.0 + probe) * 1000.0).round() as u32)
        );
    }

    /// A fresh sample teaches the level; the next run (its window begun
    /// before our change) teaches nothing; a new template forgets it.
    #[test]
    fn the_state_learns_from_fresh_samples_and_forgets_on_a_new_template() {
        let config = with_load("");
        let observed = |template_hash| Observed {
            current: 4,
            ready: Some(4),
            template_hash,
        };
        let mut loaded = report(stats(100, 0, 5.0));
        loaded.load = Some(cpu_load(0.31, 4));
        // the sample before: about the same total, a steady load
        let before = DecayState {
            learned_load: Some(crate::state::LearnedLoad {
                sample_at_unix_seconds: Some(NOW as i64 - 20),
                sample_total_milli: Some(1300),
                ..crate::state::LearnedLoad::default()
            }),
            ..DecayState::default()
        };
        let first = decide(
            &config,
            BOUNDS,
            &loaded,
            observed(Some(1)),
            &before,
            at(NOW),
        )
        .unwrap()
        .state
        .unwrap();
        let learned = first.learned_load.unwrap();
        assert_eq!(learned.met_up_to_milli, Some(310));
        assert_eq!(learned.template_hash, Some(1));
        // a decay answered now: the next sample (window begun before) is stale
        let decayed = DecayState {
            replicas_changed_unix_seconds: Some(NOW),
            ..first
        };
        let mut higher = loaded.clone();
        // taken on 3 pods while 4 serve now: stale and on fewer pods
        higher.load = Some(cpu_load(0.5, 3));
        let stale = decide(
            &config,
            BOUNDS,
            &higher,
            observed(Some(1)),
            &decayed,
            at(NOW + 5),
        )
        .unwrap()
        .state
        .unwrap();
        assert_eq!(stale.learned_load.unwrap().met_up_to_milli, Some(310));
        let released = decide(
            &config,
            BOUNDS,
            &loaded,
            observed(Some(2)),
            &decayed,
            at(NOW + 5),
        )
        .unwrap();
        assert!(
            released.explanation.contains("(no level learned yet)"),
            "{}",
            released.explanation
        );
        // an answer that changes the count records the change
        let mut missed = report(stats(100, 0, 12.0));
        missed.load = Some(cpu_load(0.31, 4));
        let up = decide(
            &config,
            BOUNDS,
            &missed,
            observed(Some(1)),
            &first,
            at(NOW + 9),
        )
        .unwrap()
        .state
        .unwrap();
        assert_eq!(up.replicas_changed_unix_seconds, Some(NOW + 9));
    }

    /// A state just after a failed decay from `from` was undone, `since`
    /// runs ago, with the first back-off of `lpa()` (8 runs).
    fn after_restore(from: u32, since: u32) -> DecayState {
        DecayState {
            decay_floor_replicas: Some(from),
            decay_floor_runs_left: 9 - since,
            decay_backoff_runs: 8,
            ..state(0, from - 1, from, None)
        }
    }

    fn draining_cases() -> Vec<Case> {
        vec![
            case("a miss right after a restore, every replica ready, holds while the queue drains", 20.0, 4, 4)
                .config(proportional())
                .state(after_restore(4, 1))
                .ready(4)
                .runs(0)
                .memory(Some(4), 7, 8, None)
                .rule(Rule::DrainAfterRestore)
                .says("hold 4: GET /fib mean 20 ms > target 7 ms; back at 4 1 run(s) ago after a decay that went too far (every replica ready): the queue built meanwhile is draining"),
            case("a miss right after a restore holds while the restored replica starts, whatever the ready ones measure", 900.0, 4, 4)
                .config(proportional())
                .state(after_restore(4, 1))
                .ready(3)
                .ours(1)
                .rule(Rule::DrainAfterRestore)
                .says("hold 4: GET /fib mean 900 ms > target 7 ms; back at 4 1 run(s) ago after a decay that went too far (1 of 4 replicas still starting): the queue built meanwhile is draining"),
            case("it holds for the rest of the decay period", 20.0, 4, 4)
                .config(proportional())
                .state(after_restore(4, 3))
                .ready(4)
                .rule(Rule::DrainAfterRestore)
                .says("back at 4 3 run(s) ago"),
            case("after the decay period a miss at the restored count scales up", 10.0, 4, 6)
                .config(proportional())
                .state(after_restore(4, 4))
                .ready(4)
                .rule(Rule::ScaleUp)
                .says("scale up 4 -> 6: GET /fib mean 10 ms > target 7 ms (proportional: 4 x 1.429)"),
            case("without a status a miss after a restore scales up as in the LPA", 20.0, 4, 5)
                .state(after_restore(4, 1))
                .needs_status()
                .rule(Rule::ScaleUp)
                .says("scale up 4 -> 5: GET /fib mean 20 ms > target 7 ms"),
            case("at another count than the restored one a miss scales up", 20.0, 5, 6)
                .state(DecayState {
                    last_target_replicas: Some(5),
                    ..after_restore(4, 1)
                })
                .ready(5)
                .rule(Rule::ScaleUp)
                .says("scale up 5 -> 6"),
            // replicas that are not ready and not ours (or no longer young)
            // serve nothing and hold nothing
            case("a miss with an unready replica we never added scales up as if it were not there", 120.0, 4, 5)
                .config(one_target("mean", 100.0))
                .ready(3)
                .rule(Rule::ScaleUp)
                .says("scale up 4 -> 5: GET /fib mean 120 ms > target 100 ms; 1 of 4 replicas unready and not added by us within startupAllowanceSeconds 120: not counted"),
            case("under proportional the unready replica is added back to the counted ones' need", 240.0, 4, 9)
                .config(config(
                    "  - {method: GET, endpoint: /fib, type: mean, target: 100}\n",
                    "scaleUp: {policy: proportional}\n",
                ))
                .ready(3)
                .rule(Rule::ScaleUp)
                .says("scale up 4 -> 9: GET /fib mean 240 ms > target 100 ms (proportional: 3 x 2.4)"),
            case("our scale-up past its start-up allowance no longer holds a miss", 164.0, 4, 5)
                .config(one_target("mean", 100.0))
                .ready(1)
                .ours_ago(3, 121)
                .rule(Rule::ScaleUp)
                .says("3 of 4 replicas unready and not added by us within startupAllowanceSeconds 120: not counted"),
            case("our scale-up within its allowance holds the miss", 164.0, 4, 4)
                .config(one_target("mean", 100.0))
                .ready(1)
                .ours_ago(3, 119)
                .rule(Rule::HoldWhileStarting)
                .says("hold 4: 3 of 4 replicas still starting; GET /fib mean 164 ms > target 100 ms"),
            case("the allowance is the config's startupAllowanceSeconds", 164.0, 4, 5)
                .config(config(
                    "  - {method: GET, endpoint: /fib, type: mean, target: 100}\n",
                    "startupAllowanceSeconds: 10\n",
                ))
                .ready(1)
                .ours(3)
                .rule(Rule::ScaleUp)
                .says("within startupAllowanceSeconds 10: not counted"),
            case("only as many replicas start as we added; the others are unready", 164.0, 4, 4)
                .config(one_target("mean", 100.0))
                .ready(1)
                .ours(1)
                .rule(Rule::HoldWhileStarting)
                .says("hold 4: 1 of 4 replicas still starting; GET /fib mean 164 ms > target 100 ms; 2 of 4 replicas unready"),
            case("an unready replica past the allowance does not block a decay", 5.0, 4, 3)
                .state(state(3, 4, 4, Some(NOW - 600)))
                .ready(3)
                .ours_ago(1, 600)
                .runs(0)
                .rule(Rule::Decay)
                .says("scale down 4 -> 3: targets met (GET /fib mean 5 ms <= target 7 ms); 3 quiet runs since the last change (decay.unchangedRuns 3); 1 of 4 replicas unready"),
            case("a quiet run with a replica we never added unready counts towards the decay", 5.0, 4, 4)
                .state(state(1, 4, 4, None))
                .ready(3)
                .runs(2)
                .rule(Rule::QuietRun)
                .says("hold 4: targets met (GET /fib mean 5 ms <= target 7 ms); quiet run 2 of 3 before a decay"),
            case("a status with no ready replica while the probe was answered lags: readiness unknown", 120.0, 2, 3)
                .config(one_target("mean", 100.0))
                .ready(0)
                .ours(2)
                .rule(Rule::ScaleUp)
                .says("scale up 2 -> 3: GET /fib mean 120 ms > target 100 ms; 0 of 2 replicas ready while the probe was answered: readiness unknown (the status lags)"),
            case("a lagging status counts a quiet run as without a status", 5.0, 2, 2)
                .state(state(0, 2, 2, None))
                .ready(0)
                .runs(1)
                .rule(Rule::QuietRun)
                .says("quiet run 1 of 3 before a decay; 0 of 2 replicas ready while the probe was answered"),
        ]
    }

    /// Stats of `latency_ms` whose `mean` interval says the probe saw
    /// the response times move `trend`.
    fn trending(latency_ms: f64, trend: Trend) -> RequestStats {
        let mut stats = stats(100, 0, latency_ms);
        stats.confidence_intervals.insert(
            "mean".into(),
            ConfidenceInterval {
                confidence: 0.95,
                low: Some(latency_ms * 0.9),
                high: Some(latency_ms * 1.1),
                limit: 7.0,
                verdict: Verdict::Missed,
                trend: Some(trend),
            },
        );
        stats
    }

    fn settling_cases() -> Vec<Case> {
        let settling = |count| DecayState {
            settling_replicas: Some(count),
            ..state(0, 4, 4, Some(NOW - 5))
        };
        vec![
            case("a miss in the first run with every replica of our scale-up ready holds", 16.0, 4, 4)
                .config(proportional())
                .state(settling(4))
                .ready(4)
                .runs(0)
                .rule(Rule::Settle)
                .says("hold 4: GET /fib mean 16 ms > target 7 ms; the 4 replicas of our scale-up are all ready since this run: the queue built before they served is draining, one run to settle"),
            case("the next miss scales up", 16.0, 4, 10)
                .config(proportional())
                .state(state(0, 4, 4, Some(NOW - 10)))
                .ready(4)
                .rule(Rule::ScaleUp)
                .says("scale up 4 -> 10"),
            case("a saturated target does not wait to settle", 5.0, 4, 10)
                .config(proportional())
                .report(failing(100, [100, 0, 0], 5.0))
                .timeout_ms(1000.0)
                .state(settling(4))
                .ready(4)
                .rule(Rule::ScaleUp)
                .says("scale up 4 -> 10: GET /fib mean 1000 ms"),
            case("a queue the probe saw falling settles", 16.0, 4, 4)
                .config(proportional())
                .report(trending(16.0, Trend::Falling))
                .state(settling(4))
                .ready(4)
                .rule(Rule::Settle)
                .says("hold 4: GET /fib mean 16 ms > target 7 ms; the 4 replicas of our scale-up are all ready"),
            case("a queue the probe saw steady is not draining: scale up", 16.0, 4, 10)
                .config(proportional())
                .report(trending(16.0, Trend::Steady))
                .state(settling(4))
                .ready(4)
                .rule(Rule::ScaleUp)
                .says("scale up 4 -> 10: GET /fib mean 16 ms > target 7 ms"),
            case("nor is one the probe saw rising", 16.0, 4, 10)
                .config(proportional())
                .report(trending(16.0, Trend::Rising))
                .state(settling(4))
                .ready(4)
                .rule(Rule::ScaleUp)
                .says("scale up 4 -> 10"),
            case("without a status nothing settles", 16.0, 4, 10)
                .config(proportional())
                .state(settling(4))
                .needs_status()
                .rule(Rule::ScaleUp)
                .says("scale up 4 -> 10"),
            case("a count changed by someone else does not settle", 16.0, 5, 10)
                .config(proportional())
                .state(settling(5))
                .ready(5)
                .rule(Rule::ScaleUp)
                .says("scale up 5 -> 10"),
        ]
    }

    fn policy_cases() -> Vec<Case> {
        let slow = one_target("mean", 100.0);
        vec![
            case("scaleUp.replicas is the step of the step policy", 20.0, 3, 6)
                .config(lpa().with_scale_up_replicas(3))
                .rule(Rule::ScaleUp)
                .says("scale up 3 -> 6: GET /fib mean 20 ms > target 7 ms"),
            case("scaleUp.replicas is the least a proportional scale-up adds", 7.1, 3, 5)
                .config(proportional().with_scale_up_replicas(2))
                .rule(Rule::ScaleUp)
                .says("scale up 3 -> 5: GET /fib mean 7.1 ms > target 7 ms (proportional: 3 x 1.014)"),
            case("scaleUp.replicas applies to the ready replicas' need under step", 900.0, 4, 6)
                .config(slow.clone().with_scale_up_replicas(2))
                .ready(1)
                .ours(3)
                .rule(Rule::ScaleUpOnReady)
                .says("scale up 4 -> 6: 3 of 4 replicas still starting"),
            case("maxPercent caps a scale-up at a share of the current count", 70.0, 4, 6)
                .config(proportional().with_max_percent(None, 50))
                .rule(Rule::ScaleUp)
                .says("scale up 4 -> 6: GET /fib mean 70 ms > target 7 ms (proportional: 4 x 10); 40 capped by scaleUp.maxPercent 50 (+2)"),
            case("with maxStep and maxPercent the larger cap wins: the percent", 70.0, 4, 8)
                .config(proportional().with_max_percent(Some(3), 100))
                .rule(Rule::ScaleUp)
                .says("40 capped by scaleUp.maxPercent 100 (+4)"),
            case("with maxStep and maxPercent the larger cap wins: the step", 70.0, 4, 7)
                .config(proportional().with_max_percent(Some(3), 50))
                .rule(Rule::ScaleUp)
                .says("40 capped by scaleUp.maxStep 3"),
            case("decay.percent removes a share of the replicas", 5.0, 6, 3)
                .config(lpa().with_decay_percent(1, 50))
                .state(state(3, 6, 6, None))
                .rule(Rule::Decay)
                .says("scale down 6 -> 3: targets met (GET /fib mean 5 ms <= target 7 ms); 3 quiet runs since the last change (decay.unchangedRuns 3); decay.percent 50: -3"),
            case("decay.percent removes at least decay.replicas", 5.0, 3, 2)
                .config(lpa().with_decay_percent(1, 25))
                .state(state(3, 3, 3, None))
                .rule(Rule::Decay)
                .says("scale down 3 -> 2: targets met (GET /fib mean 5 ms <= target 7 ms); 3 quiet runs since the last change (decay.unchangedRuns 3)"),
            case("decay.percent stops at the floor of a failed decay", 5.0, 8, 6)
                .config(lpa().with_decay_percent(1, 50))
                .state(DecayState {
                    decay_floor_replicas: Some(6),
                    decay_floor_runs_left: 5,
                    decay_backoff_runs: 8,
                    ..state(3, 8, 8, None)
                })
                .rule(Rule::DecayFloor)
                .says("decay.percent 50: -4, but no decay below 6 for 5 more run(s)"),
            case("decay.replicas 0 disables decay", 5.0, 3, 3)
                .config(lpa().with_decay(0, 3))
                .state(state(3, 3, 3, None))
                .runs(4)
                .rule(Rule::DecayDisabled)
                .says("hold 3: targets met (GET /fib mean 5 ms <= target 7 ms); 3 quiet runs since the last change (decay.unchangedRuns 3), but decay is disabled (decay.replicas 0)"),
            case("decay.replicas 0 still scales up", 20.0, 3, 4)
                .config(lpa().with_decay(0, 3))
                .rule(Rule::ScaleUp)
                .says("scale up 3 -> 4"),
            case("a met target above its downTolerance edge holds and is not a quiet run", 6.0, 3, 3)
                .config(lpa().with_down_tolerance(0.2))
                .state(state(3, 3, 3, None))
                .runs(0)
                .rule(Rule::NotQuiet)
                .says("hold 3: targets met (GET /fib mean 6 ms <= target 7 ms); not a quiet run: GET /fib mean 6 ms > 5.6 ms (target 7 ms -20% downTolerance)"),
            case("a met target at or below its downTolerance edge is quiet and decays", 5.6, 3, 2)
                .config(lpa().with_down_tolerance(0.2))
                .state(state(3, 3, 3, None))
                .rule(Rule::Decay)
                .says("scale down 3 -> 2: targets met (GET /fib mean 5.6 ms <= target 7 ms)"),
            case("downTolerance does not change what is missed", 7.5, 3, 4)
                .config(lpa().with_down_tolerance(0.2))
                .rule(Rule::ScaleUp)
                .says("scale up 3 -> 4: GET /fib mean 7.5 ms > target 7 ms"),
        ]
    }

    /// `stats` whose failures are `timeouts`, `connection` and `status`
    /// errors.
    fn failing(count: u64, [timeouts, connection, status]: [u64; 3], ms: f64) -> RequestStats {
        let mut stats = stats(count, timeouts + connection + status, ms);
        (stats.timeouts, stats.connection_errors, stats.status_errors) =
            (timeouts, connection, status);
        stats
    }

    /// A state that remembers a decay from `from`, `runs` runs ago, with
    /// the floor and back-off given.
    fn after_decay(from: u32, runs: u32, floor: Option<(u32, u32)>, backoff: u32) -> DecayState {
        DecayState {
            decayed_from_replicas: Some(from),
            runs_since_decay: runs,
            decay_floor_replicas: floor.map(|(floor, _)| floor),
            decay_floor_runs_left: floor.map_or(0, |(_, left)| left),
            decay_backoff_runs: backoff,
            ..state(runs, from - 1, from - 1, None)
        }
    }

    fn proportional() -> EvaluationConfig {
        lpa().with_scale_up("proportional", None, 0)
    }

    fn readiness_cases() -> Vec<Case> {
        let slow = one_target("mean", 100.0);
        vec![
            case("a miss while replicas start holds", 164.0, 4, 4)
                .config(slow.clone())
                .ready(1)
                .ours(3)
                .runs(0)
                .rule(Rule::HoldWhileStarting)
                .says("hold 4: 3 of 4 replicas still starting; GET /fib mean 164 ms > target 100 ms"),
            case("a miss the ready replicas cannot absorb scales up by one under step", 900.0, 4, 5)
                .config(slow.clone())
                .ready(1)
                .ours(3)
                .rule(Rule::ScaleUpOnReady)
                .says("scale up 4 -> 5: 3 of 4 replicas still starting, but GET /fib mean 900 ms > target 100 ms is more than they will absorb (1 ready x 9 = 9 > 4)"),
            case("under proportional it scales to the ready replicas' need", 900.0, 4, 9)
                .config(slow.clone().with_scale_up("proportional", None, 0))
                .ready(1)
                .ours(3)
                .rule(Rule::ScaleUpOnReady)
                .says("scale up 4 -> 9: 3 of 4 replicas still starting, but GET /fib mean 900 ms"),
            case("maxStep caps the ready replicas' need", 900.0, 4, 6)
                .config(slow.clone().with_scale_up("proportional", Some(2), 0))
                .ready(1)
                .ours(3)
                .rule(Rule::ScaleUpOnReady)
                .says("(1 ready x 9 = 9 > 4); 9 capped by scaleUp.maxStep 2"),
            case("a need equal to the current count holds", 400.0, 4, 4)
                .config(slow.clone().with_scale_up("proportional", None, 0))
                .ready(1)
                .ours(3)
                .rule(Rule::HoldWhileStarting)
                .says("hold 4: 3 of 4 replicas still starting; GET /fib mean 400 ms > target 100 ms"),
            case("the ready replicas' need is measured against the tolerance", 440.0, 4, 4)
                .config(one_target("mean", 100.0).with_tolerance(0.1))
                .ready(1)
                .ours(3)
                .rule(Rule::HoldWhileStarting)
                .says("hold 4: 3 of 4 replicas still starting"),
            case("an errorRate miss while replicas start holds", 1.0, 3, 3)
                .config(config(
                    "  - {method: GET, endpoint: /fib, type: errorRate, target: 0.05}\n",
                    "scaleUp: {policy: proportional}\n",
                ))
                .report(stats(100, 10, 1.0))
                .ready(1)
                .ours(2)
                .rule(Rule::HoldWhileStarting)
                .says("hold 3: 2 of 3 replicas still starting; GET /fib errorRate 0.1 > target 0.05"),
            case("no decay while a replica starts, and the run is not counted", 5.0, 3, 3)
                .state(state(3, 3, 3, None))
                .ready(2)
                .ours(1)
                .runs(3)
                .rule(Rule::NoDecayWhileStarting)
                .says("hold 3: 1 of 3 replicas still starting; targets met (GET /fib mean 5 ms <= target 7 ms)"),
            case("a held-back decay is not answered again while a replica starts", 5.0, 4, 4)
                .state(state(0, 4, 3, Some(NOW - 15)))
                .ready(3)
                .ours(1)
                .rule(Rule::NoDecayWhileStarting)
                .says("hold 4: 1 of 4 replicas still starting"),
            case("every replica ready decays as without a status", 5.0, 3, 2)
                .state(state(3, 3, 3, None))
                .ready(3)
                .rule(Rule::Decay)
                .says("scale down 3 -> 2: targets met"),
            case("more ready than current (a scale-down under way) is every replica ready", 5.0, 3, 2)
                .state(state(3, 3, 3, None))
                .ready(5)
                .rule(Rule::Decay)
                .says("scale down 3 -> 2"),
        ]
    }

    /// A state whose last run missed the first target at `ms` with `ready`
    /// replicas ready, `seconds_before` this run's load test (the cases'
    /// reports run 5 s, so theirs is centred 2.5 s before `NOW`).
    fn missed_before(ms: u32, ready: u32, seconds_before: u64) -> DecayState {
        DecayState {
            last_miss: Some(LastMiss {
                target: 0,
                ms,
                ready_replicas: ready,
                at_unix_ms: (NOW - seconds_before) * 1000 - 2500,
            }),
            ..state(0, 3, 3, None)
        }
    }

    fn backlog_cases() -> Vec<Case> {
        let slow = || one_target("mean", 100.0).with_scale_up("proportional", None, 0);
        vec![
            case("a queue draining to the limit by the next run holds", 262.0, 3, 3)
                .config(slow())
                .ready(3)
                .state(missed_before(894, 3, 5))
                .rule(Rule::QueueDrains)
                .says("hold 3: GET /fib mean 262 ms > target 100 ms; the queue drains: GET /fib mean 894 -> 262 ms in 5 s with 3 ready replicas, under the limit by the next run at this pace"),
            case("a queue the ready replicas drain adds nothing on top of the starting ones", 543.0, 3, 3)
                .config(slow())
                .ready(2)
                .ours(1)
                .state(missed_before(739, 2, 5))
                .rule(Rule::HoldWhileStarting)
                .says("hold 3: 1 of 3 replicas still starting; GET /fib mean 543 ms > target 100 ms"),
            case("a queue that holds its length adds nothing on top of starting replicas", 1050.0, 4, 4)
                .config(slow())
                .ready(3)
                .ours(1)
                .state(missed_before(1000, 3, 5))
                .rule(Rule::HoldWhileStarting)
                .says("hold 4: 1 of 4 replicas still starting; GET /fib mean 1050 ms > target 100 ms"),
            case("a growing queue while replicas start keeps the latency ratio", 3000.0, 4, 10)
                .config(slow())
                .ready(3)
                .ours(1)
                .state(missed_before(1000, 3, 5))
                .rule(Rule::ScaleUpOnReady)
                .says("(3 ready x 30 = 90 > 4)"),
            case("a queue draining too slowly to meet the limit by the next run scales up by the policy", 800.0, 3, 10)
                .config(slow())
                .ready(3)
                .state(missed_before(1000, 3, 5))
                .rule(Rule::ScaleUp)
                .says("scale up 3 -> 10: GET /fib mean 800 ms > target 100 ms (proportional: 3 x 8); 24 limited to maxReplicas 10"),
            case("a queue growing right after a restore, every replica ready, scales up instead of waiting for it to drain", 1600.0, 4, 10)
                .config(slow())
                .ready(4)
                .state(DecayState {
                    last_miss: missed_before(1000, 4, 5).last_miss,
                    ..after_restore(4, 1)
                })
                .rule(Rule::ScaleUp)
                .says("scale up 4 -> 10: GET /fib mean 1600 ms > target 100 ms (proportional: 4 x 16)"),
            case("a queue growing right after a restore while the restored replica starts holds", 1600.0, 4, 4)
                .config(slow())
                .ready(3)
                .ours(1)
                .state(DecayState {
                    last_miss: missed_before(1000, 3, 5).last_miss,
                    ..after_restore(4, 1)
                })
                .rule(Rule::DrainAfterRestore)
                .says("back at 4 1 run(s) ago after a decay that went too far (1 of 4 replicas still starting)"),
            case("a queue that holds its length does not end the hold after a failed decay", 1050.0, 4, 4)
                .config(slow())
                .ready(4)
                .state(DecayState {
                    last_miss: missed_before(1000, 4, 5).last_miss,
                    ..after_restore(4, 1)
                })
                .rule(Rule::DrainAfterRestore)
                .says("hold 4: GET /fib mean 1050 ms > target 100 ms; back at 4 1 run(s) ago"),
            case("a run with failed requests (a queue at its bound shedding load) compares nothing", 262.0, 3, 8)
                .config(slow())
                .report(stats(100, 2, 262.0))
                .ready(3)
                .state(missed_before(894, 3, 5))
                .rule(Rule::ScaleUp)
                .says("(proportional: 3 x 2.62)"),
            case("another ready count compares nothing", 262.0, 3, 8)
                .config(slow())
                .ready(3)
                .state(missed_before(894, 2, 5))
                .rule(Rule::ScaleUp)
                .says("(proportional: 3 x 2.62)"),
            case("a miss more than 5 minutes old compares nothing", 262.0, 3, 8)
                .config(slow())
                .ready(3)
                .state(missed_before(894, 3, 301))
                .rule(Rule::ScaleUp)
                .says("(proportional: 3 x 2.62)"),
        ]
    }

    fn saturation_cases() -> Vec<Case> {
        let mut max_only = failing(100, [50, 0, 0], 5.0);
        max_only.max_ms = 40.0;
        vec![
            case("a target whose requests all time out is missed at the request timeout", 5.0, 3, 4)
                .report(failing(100, [100, 0, 0], 5.0))
                .timeout_ms(5000.0)
                .rule(Rule::ScaleUp)
                .says("scale up 3 -> 4: GET /fib mean 5000 ms > target 7 ms (saturated: 100 of 100 requests timed out, timeout 5000 ms)"),
            case("without requestTimeoutMs a saturated figure is at least maxMs", 5.0, 3, 4)
                .report(max_only)
                .rule(Rule::ScaleUp)
                .says("GET /fib mean 40 ms > target 7 ms (saturated: 50 of 100 requests timed out, timeout 40 ms)"),
            case("a saturated target under proportional goes as far as the bounds", 5.0, 3, 10)
                .config(proportional())
                .report(failing(100, [100, 0, 0], 5.0))
                .timeout_ms(5000.0)
                .rule(Rule::ScaleUp)
                .says("(proportional: 3 x 714.286); 2143 limited to maxReplicas 10"),
            case("timeouts the majority of failures and 1 % of requests saturate", 5.0, 3, 4)
                .report(failing(200, [2, 1, 0], 5.0))
                .timeout_ms(1000.0)
                .rule(Rule::ScaleUp)
                .says("(saturated: 2 of 200 requests timed out, timeout 1000 ms)"),
            case("a lone timeout among thousands of requests is no saturation", 5.0, 3, 3)
                .report(failing(2000, [1, 0, 0], 5.0))
                .timeout_ms(5000.0)
                .state(state(3, 3, 3, None))
                .rule(Rule::RequestsFailing)
                .says("hold 3: targets met (GET /fib mean 5 ms <= target 7 ms); no decay while requests fail: GET /fib 1 of 2000 failed"),
            case("timeouts that are not the majority of failures are no saturation", 5.0, 3, 3)
                .report(failing(100, [10, 10, 0], 5.0))
                .timeout_ms(5000.0)
                .state(state(3, 3, 3, None))
                .rule(Rule::RequestsFailing)
                .says("no decay while requests fail: GET /fib 20 of 100 failed"),
            case("a saturated errorRate target is missed below its target", 5.0, 3, 4)
                .config(one_target("errorRate", 0.5))
                .report(failing(100, [30, 0, 0], 5.0))
                .timeout_ms(5000.0)
                .rule(Rule::ScaleUp)
                .says("scale up 3 -> 4: GET /fib saturated: 30 of 100 requests timed out, timeout 5000 ms (errorRate 0.3, target 0.5)"),
            case("a saturated target while replicas start holds unless the ready ones need more", 5.0, 4, 5)
                .report(failing(100, [100, 0, 0], 5.0))
                .timeout_ms(5000.0)
                .ready(1)
                .ours(3)
                .rule(Rule::ScaleUpOnReady)
                .says("scale up 4 -> 5: 3 of 4 replicas still starting, but GET /fib mean 5000 ms"),
        ]
    }

    fn failed_decay_cases() -> Vec<Case> {
        vec![
            case("a miss right after our decay answers the count before it, not a jump", 20.0, 3, 4)
                .config(proportional())
                .state(after_decay(4, 0, None, 0))
                .runs(0)
                .memory(Some(4), 8, 8, None)
                .rule(Rule::RestoreFailedDecay)
                .says("scale up 3 -> 4: GET /fib mean 20 ms > target 7 ms; the decay from 4 1 run(s) ago went too far: back to 4, the last count known to be enough, and no decay below it for 8 runs"),
            case("a miss in the decay's last watched run still answers the count before it", 20.0, 3, 4)
                .config(proportional())
                .state(after_decay(4, 3, None, 0))
                .rule(Rule::RestoreFailedDecay)
                .says("the decay from 4 4 run(s) ago went too far"),
            case("a miss after the watched runs scales up by the policy", 20.0, 3, 9)
                .config(proportional())
                .state(after_decay(4, 4, None, 0))
                .memory(None, 0, 0, None)
                .rule(Rule::ScaleUp)
                .says("scale up 3 -> 9: GET /fib mean 20 ms > target 7 ms (proportional: 3 x 2.857)"),
            case("a second failed decay doubles the back-off", 20.0, 3, 4)
                .state(after_decay(4, 1, None, 8))
                .memory(Some(4), 16, 16, None)
                .rule(Rule::RestoreFailedDecay)
                .says("no decay below it for 16 runs"),
            case("the back-off stops doubling at 32 decay periods", 20.0, 3, 4)
                .state(after_decay(4, 1, None, 128))
                .memory(Some(4), 128, 128, None)
                .rule(Rule::RestoreFailedDecay)
                .says("no decay below it for 128 runs"),
            case("no decay below the floor while its back-off runs", 5.0, 4, 4)
                .state(DecayState {
                    decay_floor_replicas: Some(4),
                    decay_floor_runs_left: 5,
                    decay_backoff_runs: 8,
                    ..state(3, 4, 4, None)
                })
                .runs(4)
                .memory(Some(4), 4, 8, None)
                .rule(Rule::DecayFloor)
                .says("hold 4: targets met (GET /fib mean 5 ms <= target 7 ms); 3 quiet runs since the last change (decay.unchangedRuns 3), but no decay below 4 for 5 more run(s): a decay from 4 went too far (back-off 8 runs)"),
            case("a decay above the floor stops at it", 5.0, 6, 4)
                .config(lpa().with_decay(3, 3))
                .state(DecayState {
                    decay_floor_replicas: Some(4),
                    decay_floor_runs_left: 5,
                    decay_backoff_runs: 8,
                    ..state(3, 6, 6, None)
                })
                .memory(Some(4), 4, 8, Some(6))
                .rule(Rule::DecayFloor)
                .says("scale down 6 -> 4: targets met"),
            case("after the back-off a decay goes below the floor, remembering the back-off", 5.0, 4, 3)
                .state(DecayState {
                    decay_floor_replicas: None,
                    decay_floor_runs_left: 0,
                    decay_backoff_runs: 8,
                    ..state(3, 4, 4, None)
                })
                .memory(None, 0, 8, Some(4))
                .rule(Rule::Decay)
                .says("scale down 4 -> 3: targets met"),
            case("a decay followed by a quiet period resets the back-off", 5.0, 3, 2)
                .state(after_decay(4, 3, None, 8))
                .memory(None, 0, 0, Some(3))
                .rule(Rule::Decay)
                .says("scale down 3 -> 2: targets met"),
            case("a quiet period while a floor holds keeps the back-off", 5.0, 3, 3)
                .state(DecayState {
                    runs_since_change: 1,
                    ..after_decay(4, 3, Some((3, 6)), 8)
                })
                .memory(Some(3), 5, 8, None)
                .rule(Rule::QuietRun)
                .says("hold 3: targets met (GET /fib mean 5 ms <= target 7 ms); quiet run 2 of 3"),
            case("a replica count changed by someone else forgets failed decays", 20.0, 5, 6)
                .state(after_decay(4, 0, Some((4, 6)), 8))
                .memory(None, 0, 0, None)
                .rule(Rule::ScaleUp)
                .says("scale up 5 -> 6: GET /fib mean 20 ms > target 7 ms; replicas were changed by someone else"),
            case("a miss while our decay is held back is no failed decay", 20.0, 4, 5)
                .state(DecayState {
                    decayed_from_replicas: Some(4),
                    ..state(0, 4, 3, None)
                })
                .memory(None, 0, 0, None)
                .rule(Rule::ScaleUp)
                .says("scale up 4 -> 5: GET /fib mean 20 ms > target 7 ms"),
            case("an LPA state file decays as in the LPA", 5.0, 3, 2)
                .state(serde_json::from_str("{\"runs_since_change\": 3}").unwrap())
                .rule(Rule::Decay)
                .says("scale down 3 -> 2: targets met (GET /fib mean 5 ms <= target 7 ms); 3 quiet runs since the last change"),
            case("a state file without the memory keys decays by the LPA's rule", 5.0, 3, 2)
                .state(serde_json::from_str("{\"runsSinceChange\":3,\"lastSeenReplicas\":3,\"lastTargetReplicas\":3}").unwrap())
                .memory(None, 0, 0, Some(3))
                .rule(Rule::Decay)
                .says("scale down 3 -> 2"),
        ]
    }

    impl EvaluationConfig {
        fn with_tolerance(mut self, tolerance: f64) -> Self {
            self.targets[0].tolerance = tolerance;
            self
        }
        fn with_decay(mut self, replicas: u32, unchanged_runs: u32) -> Self {
            self.decay.replicas = replicas;
            self.decay.unchanged_runs = unchanged_runs;
            self
        }
        fn with_scale_up_replicas(mut self, replicas: u32) -> Self {
            self.scale_up.replicas = replicas;
            self
        }
        fn with_max_percent(mut self, max_step: Option<u32>, max_percent: u32) -> Self {
            self.scale_up.max_step = max_step;
            self.scale_up.max_percent = Some(max_percent);
            self
        }
        fn with_decay_percent(mut self, replicas: u32, percent: u32) -> Self {
            self.decay.replicas = replicas;
            self.decay.percent = Some(percent);
            self
        }
        fn with_down_tolerance(mut self, down: f64) -> Self {
            self.targets[0].down_tolerance = Some(down);
            self
        }
        fn with_scale_up(mut self, policy: &str, max_step: Option<u32>, cooldown: u64) -> Self {
            self.scale_up.policy = match policy {
                "proportional" => ScaleUpPolicy::Proportional,
                _ => ScaleUpPolicy::Step,
            };
            self.scale_up.max_step = max_step;
            self.scale_up.cooldown_seconds = cooldown;
            self
        }
    }

    #[test]
    fn decides_every_case_of_the_table() {
        let mut failures = Vec::new();
        for case in cases() {
            let decision = decide(
                &case.config,
                case.bounds,
                &case.report,
                Observed {
                    current: case.current,
                    ready: case.ready,
                    template_hash: None,
                },
                &case.start_state(),
                at(NOW),
            )
            .unwrap_or_else(|err| panic!("{}: {err}", case.what));
            let mut wrong = Vec::new();
            if decision.target_replicas != case.want_target {
                wrong.push(format!(
                    "target {} want {}",
                    decision.target_replicas, case.want_target
                ));
            }
            if !decision.explanation.contains(&case.want_explanation) {
                wrong.push(format!("line does not hold '{}'", case.want_explanation));
            }
            if case.want_rule != Some(decision.rule) {
                wrong.push(format!(
                    "rule {:?} want {:?}",
                    decision.rule, case.want_rule
                ));
            }
            if decision.explanation.contains('\n') {
                wrong.push("line has a newline".into());
            }
            if let Some(runs) = case.want_runs
                && decision.state.unwrap().runs_since_change != runs
            {
                wrong.push(format!("runs_since_change want {runs}"));
            }
            if let Some(want) = case.want_memory {
                let state = decision.state.unwrap();
                let got = (
                    state.decay_floor_replicas,
                    state.decay_floor_runs_left,
                    state.decay_backoff_runs,
                    state.decayed_from_replicas,
                );
                if got != want {
                    wrong.push(format!(
                        "memory (floor, left, backoff, from) {got:?} want {want:?}"
                    ));
                }
            }
            if case.want_no_state && decision.state.is_some() {
                wrong.push("a state is written".into());
            }
            if !wrong.is_empty() {
                failures.push(format!(
                    "{}: {}\n   got: {}",
                    case.what,
                    wrong.join("; "),
                    decision.explanation
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// LPA compatibility: a status with every replica ready decides exactly
    /// as no status at all, in every case of the table without one; only
    /// the state then also remembers a scale-up's count to see it ready, and
    /// the run's miss.
    #[test]
    fn every_replica_ready_decides_as_no_status() {
        for case in cases()
            .into_iter()
            .filter(|case| case.ready.is_none() && !case.needs_status)
        {
            let decide_with = |ready| {
                let observed = Observed {
                    current: case.current,
                    ready,
                    template_hash: None,
                };
                decide(
                    &case.config,
                    case.bounds,
                    &case.report,
                    observed,
                    &case.state,
                    at(NOW),
                )
                .unwrap()
            };
            let mut with_status = decide_with(Some(case.current));
            if let Some(state) = &mut with_status.state {
                let target = with_status.target_replicas;
                let want = (target > case.current).then_some(target);
                assert_eq!(state.settling_replicas, want, "{}", case.what);
                state.settling_replicas = None;
                // and the miss, for the next run to see its backlog's trend,
                // and the ready count, for lost endpoints
                state.last_miss = None;
                state.last_ready_replicas = None;
            }
            assert_eq!(decide_with(None), with_status, "{}", case.what);
        }
    }

    /// The next run compares its miss with this one's: remembered only for
    /// a missed latency target whose every request was answered, with a
    /// ready count.
    #[test]
    fn a_run_remembers_its_unsaturated_latency_miss_with_a_status() {
        let config = one_target("mean", 100.0);
        let remembered = |report: LatencyReport, ready| {
            let observed = Observed {
                current: 3,
                ready,
                template_hash: None,
            };
            let state = DecayState::default();
            let decision = decide(&config, BOUNDS, &report, observed, &state, at(NOW));
            decision.unwrap().state.unwrap().last_miss
        };
        let miss = LastMiss {
            target: 0,
            ms: 250,
            ready_replicas: 2,
            at_unix_ms: NOW * 1000 - 2500,
        };
        assert_eq!(
            remembered(report(stats(100, 0, 250.4)), Some(2)),
            Some(miss)
        );
        assert_eq!(remembered(report(stats(100, 0, 250.4)), None), None);
        assert_eq!(remembered(report(stats(100, 3, 250.4)), Some(2)), None);
        assert_eq!(remembered(report(stats(100, 0, 60.0)), Some(3)), None);
        let mut saturated = report(failing(100, [100, 0, 0], 5.0));
        saturated.request_timeout_ms = Some(1000.0);
        assert_eq!(remembered(saturated, Some(3)), None);
    }

    #[test]
    fn a_target_whose_requests_all_fail_to_connect_or_with_a_status_is_an_error() {
        for breakdown in [[0, 50, 0], [0, 0, 50], [25, 25, 0], [0, 0, 0]] {
            let stats = failing(50, breakdown, 1.0);
            let stats = RequestStats {
                failures: 50,
                error_rate: 1.0,
                ..stats
            };
            let err = decide(
                &lpa(),
                BOUNDS,
                &report(stats),
                Observed::current(3),
                &state(9, 3, 3, None),
                at(NOW),
            )
            .unwrap_err();
            let [timeouts, connection_errors, status_errors] = breakdown;
            assert_eq!(
                err,
                DecisionError::AllFailed {
                    index: 0,
                    key: "GET /fib".into(),
                    count: 50,
                    failures: 50,
                    timeouts,
                    connection_errors,
                    status_errors,
                },
                "{breakdown:?}"
            );
        }
    }

    /// The built-in simulation's step, as `gpa simulate` measured it: a
    /// decay 4 -> 3 under load misses, the restore to 4 starts, and the
    /// queue built at 3 is measured for two more runs. Those runs hold at 4
    /// instead of jumping on the backlog (once 4 -> 7).
    #[test]
    fn the_queue_of_a_failed_decay_drains_at_the_restored_count_without_a_jump() {
        let config = one_target("mean", 100.0).with_scale_up("proportional", Some(3), 0);
        let config = config.with_decay(1, 2);
        // (current, ready, measured mean ms, want)
        let runs = [
            (4, 4, 54.0, 4),
            (4, 4, 53.0, 4),
            (4, 4, 54.9, 3),
            (3, 3, 405.0, 4),
            (4, 3, 669.0, 4),
            (4, 4, 425.0, 4),
            (4, 4, 52.0, 4),
        ];
        let mut state = DecayState::default();
        let mut got = Vec::new();
        for (run, (current, ready, mean_ms, _)) in runs.iter().enumerate() {
            let decision = decide(
                &config,
                BOUNDS,
                &report(stats(100, 0, *mean_ms)),
                Observed {
                    current: *current,
                    ready: Some(*ready),
                    template_hash: None,
                },
                &state,
                at(NOW + run as u64 * 5),
            )
            .unwrap();
            state = decision.state.unwrap();
            got.push(decision.target_replicas);
        }
        let want: Vec<u32> = runs.iter().map(|run| run.3).collect();
        assert_eq!(got, want);
        // and the failed decay's floor still holds the next decay back
        assert_eq!(state.decay_floor_replicas, Some(4));
    }

    /// The spike as `gpa simulate` measured it on a busy machine: the queue
    /// built at 1 replica is still measured in the first run in which all 4
    /// serve. That run holds instead of scaling up again (once 4 -> 7).
    #[test]
    fn the_first_run_with_every_new_replica_ready_settles_instead_of_scaling_again() {
        let config = one_target("mean", 100.0).with_scale_up("proportional", Some(3), 0);
        let config = config.with_decay(1, 2);
        // (current, ready, measured mean ms, want)
        let runs = [
            (1, 1, 882.0, 4),
            (4, 1, 198.0, 4),
            (4, 4, 163.0, 4),
            (4, 4, 52.0, 4),
            (4, 4, 150.0, 6),
        ];
        let mut state = DecayState::default();
        for (run, &(current, ready, mean_ms, want)) in runs.iter().enumerate() {
            let decision = decide(
                &config,
                BOUNDS,
                &report(stats(100, 0, mean_ms)),
                Observed {
                    current,
                    ready: Some(ready),
                    template_hash: None,
                },
                &state,
                at(NOW + run as u64 * 5),
            )
            .unwrap();
            assert_eq!(
                decision.target_replicas, want,
                "run {run}: {}",
                decision.explanation
            );
            state = decision.state.unwrap();
        }
    }

    /// A load that needs 4 replicas: each decay to 3 misses, goes back to 4,
    /// and the next attempt waits twice as long as the last.
    #[test]
    fn failed_decays_back_off_doubling_and_never_jump() {
        let config = proportional();
        let mut state = DecayState::default();
        let mut current = 6;
        let mut history = Vec::new();
        for run in 0..100u64 {
            let latency = if current < 4 { 20.0 } else { 5.0 };
            let decision = decide(
                &config,
                BOUNDS,
                &report(stats(100, 0, latency)),
                Observed::current(current),
                &state,
                at(NOW + run * 15),
            )
            .unwrap();
            state = decision.state.unwrap();
            current = decision.target_replicas;
            history.push(current);
        }
        let attempts: Vec<usize> = (1..history.len())
            .filter(|&run| history[run] == 3 && history[run - 1] == 4)
            .collect();
        // without the memory: one attempt every 5 runs, about 19
        assert!(
            (2..=4).contains(&attempts.len()),
            "attempts at 3 in runs {attempts:?}: {history:?}"
        );
        let gaps: Vec<usize> = attempts.windows(2).map(|pair| pair[1] - pair[0]).collect();
        assert!(gaps.windows(2).all(|pair| pair[1] > pair[0]), "{gaps:?}");
        assert!(
            history.iter().all(|&count| (3..=6).contains(&count)),
            "{history:?}"
        );
    }

    /// The CPA applies the highest answer of its downscaleStabilization
    /// window; with a window longer than the interval, a decay must still land.
    #[test]
    fn a_decay_lands_under_a_downscale_stabilization_window_longer_than_the_interval() {
        const INTERVAL: u64 = 30;
        const WINDOW: u64 = 60;
        let config = lpa();
        let quiet = report(stats(100, 0, 5.0));
        let mut state = DecayState::default();
        let mut applied = 5;
        let mut answers: Vec<(u64, u32)> = Vec::new();
        let mut history = Vec::new();
        for run in 0..16u64 {
            let now = NOW + run * INTERVAL;
            let decision = decide(
                &config,
                BOUNDS,
                &quiet,
                Observed::current(applied),
                &state,
                at(now),
            )
            .unwrap();
            state = decision.state.unwrap();
            answers.push((now, decision.target_replicas));
            answers.retain(|&(when, _)| when + WINDOW > now);
            applied = answers.iter().map(|&(_, answer)| answer).max().unwrap();
            history.push(applied);
        }
        assert!(
            history.windows(2).any(|pair| pair[1] < pair[0]),
            "replicas never came down: {history:?}"
        );
        assert!(*history.last().unwrap() < 4, "{history:?}");
    }

    #[test]
    fn three_quiet_runs_pass_and_the_fourth_decays_then_the_count_starts_again() {
        let config = lpa();
        let report = report(stats(100, 0, 5.0));
        let mut state = DecayState::default();
        let mut current = 6;
        let mut answers = Vec::new();
        for run in 0..9u64 {
            let decision = decide(
                &config,
                BOUNDS,
                &report,
                Observed::current(current),
                &state,
                at(NOW + run * 15),
            )
            .unwrap();
            answers.push(decision.target_replicas);
            state = decision.state.unwrap();
            current = decision.target_replicas;
        }
        assert_eq!(answers, [6, 6, 6, 5, 5, 5, 5, 4, 4]);
        // decays do not start the scale-up cooldown
        assert_eq!(state.last_scale_up_unix_seconds, None);
    }

    #[test]
    fn the_new_state_remembers_what_was_seen_and_answered() {
        let decision = decide(
            &lpa(),
            BOUNDS,
            &report(stats(10, 0, 12.0)),
            Observed::current(3),
            &DecayState::default(),
            at(NOW),
        )
        .unwrap();
        assert_eq!(
            decision.state,
            Some(DecayState {
                runs_since_change: 0,
                last_seen_replicas: Some(3),
                last_target_replicas: Some(4),
                last_scale_up_unix_seconds: Some(NOW),
                added_replicas: Some(AddedReplicas {
                    replicas: 1,
                    at_unix_seconds: NOW
                }),
                ..DecayState::default()
            })
        );
        let held = decide(
            &lpa(),
            BOUNDS,
            &report(stats(10, 0, 1.0)),
            Observed::current(4),
            &decision.state.unwrap(),
            at(NOW + 15),
        )
        .unwrap();
        assert_eq!(held.state.unwrap().last_scale_up_unix_seconds, Some(NOW));
    }

    #[test]
    fn a_target_without_a_result_is_an_error_naming_it() {
        let config = config(
            "  - {method: GET, endpoint: /fib, type: mean, target: 7}\n  - {method: POST, name: /other, type: p95, target: 7}\n",
            "",
        );
        let err = decide(
            &config,
            BOUNDS,
            &report(stats(10, 0, 1.0)),
            Observed::current(3),
            &DecayState::default(),
            at(NOW),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no result for targets[1] 'POST /other' in the report (requests measured: GET /fib); expected the metric stage to load-test every targeted request (check the target's method and endpoint)"
        );
    }

    #[test]
    fn a_target_whose_every_request_failed_is_an_error_even_when_fast() {
        for (count, failures) in [(50, 50), (0, 0)] {
            let err = decide(
                &lpa(),
                BOUNDS,
                &report(stats(count, failures, 1.0)),
                Observed::current(3),
                &state(9, 3, 3, None),
                at(NOW),
            )
            .unwrap_err();
            assert_eq!(
                err,
                DecisionError::AllFailed {
                    index: 0,
                    key: "GET /fib".into(),
                    count,
                    failures,
                    timeouts: 0,
                    connection_errors: 0,
                    status_errors: 0,
                }
            );
        }
    }
}
