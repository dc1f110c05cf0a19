//! The facts of one run, computed once before any rule reads them: the
//! measurements and their verdicts, the replicas ready, starting and unready,
//! the scale-up cooldown left, the failed-decay memory, the queue's trend, a
//! change made by someone else, a decay not applied yet. The rules
//! (the `rules` module) read these and compute nothing again.
//!
//! **Replicas.** The stages see counts, not pods. Of the `current - ready`
//! replicas that are not ready, those our own answers added within the
//! start-up allowance (`startupAllowanceSeconds`, recorded in the state) are
//! *starting*: they will serve soon, so a miss waits for them and a decay
//! waits until they are ready. Every other one is *unready*: it serves
//! nothing, adds nothing to capacity and holds nothing. A status with no
//! replica ready while the probe was answered lags behind the pods, so
//! readiness is unknown for that run.

use crate::evaluate::backlog::{self, Backlog};
use crate::evaluate::config::EvaluationConfig;
use crate::evaluate::decision::Observed;
use crate::evaluate::load::LoadView;
use crate::evaluate::measure::{Measurement, round};
use crate::evaluate::memory::{Memory, Settle};
use crate::evaluate::policy::decay_size;
use crate::report::LatencyReport;
use crate::state::{DecayState, LastMiss};

/// The replicas of this run, by what they can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Replicas {
    /// The resource's replica count.
    pub current: u32,
    /// Ready replicas; `None` when readiness is unknown (no status, or a
    /// status that lags behind a probe that was answered).
    pub ready: Option<u32>,
    /// Not ready, but ours and young: they will serve soon.
    pub starting: u32,
    /// Not ready and not starting: they serve nothing and are not counted.
    pub unready: u32,
    /// The status said no replica was ready, yet the probe was answered.
    pub lagging_status: bool,
}

impl Replicas {
    /// The replicas of `observed`, with those our answers added within
    /// `allowance_seconds` of `now_seconds` (from `state`) as the ones that
    /// may be starting; `answered`: some probe request succeeded.
    pub fn of(
        observed: Observed,
        state: &DecayState,
        now_seconds: u64,
        allowance_seconds: u64,
        answered: bool,
    ) -> Replicas {
        let current = observed.current;
        let lagging_status = observed.ready == Some(0) && current > 0 && answered;
        let ready = observed.ready.filter(|_| !lagging_status);
        let not_ready = ready.map_or(0, |ready| current.saturating_sub(ready));
        let starting = not_ready.min(state.young_replicas(now_seconds, allowance_seconds));
        Replicas {
            current,
            ready,
            starting,
            unready: not_ready - starting,
            lagging_status,
        }
    }

    /// The replicas a miss is sized on: all but the unready ones, as if
    /// those were not there.
    pub fn counted(&self) -> u32 {
        self.current - self.unready
    }

    /// What the decision line says about replicas not counted or not
    /// known: `1 of 4 replicas unready past the start-up allowance: not
    /// counted`, or the lagging status.
    pub fn note(&self, allowance_seconds: u64) -> Option<String> {
        if self.lagging_status {
            return Some(format!(
                "0 of {} replicas ready while the probe was answered: readiness unknown (the status lags)",
                self.current
            ));
        }
        (self.unready > 0).then(|| {
            format!(
                "{} of {} replicas unready and not added by us within startupAllowanceSeconds {allowance_seconds}: not counted",
                self.unready, self.current
            )
        })
    }
}

/// Everything the rules read.
pub(crate) struct Facts<'a> {
    /// The ready replicas' need while replicas start, when it is above the
    /// counted replicas (see [`Facts::need_of_ready`]): what a miss scales
    /// to on the first run every new replica serves.
    pub starting_need: Option<(u32, String)>,
    /// The decay the policy would make this run, when one is due.
    pub due_decay: Option<DueDecay>,
    /// The evaluation config.
    pub config: &'a EvaluationConfig,
    /// What the last run left.
    pub state: &'a DecayState,
    /// This run's time, seconds since the Unix epoch.
    pub now_seconds: u64,
    /// The replicas, by what they can do.
    pub replicas: Replicas,
    /// Every target compared with the report, in config order.
    pub measurements: Vec<Measurement<'a>>,
    /// Some target is missed (over its limit, or saturated).
    pub missed: bool,
    /// No target missed and every one under its `downTolerance` edge.
    pub quiet: bool,
    /// The missed targets, described: `GET /x mean 120 ms > target 100 ms`.
    pub missed_line: String,
    /// The targets, met: `targets met (GET /x mean 5 ms <= target 7 ms)`.
    pub met_line: String,
    /// The worst `measured / target` of a missed latency target (the
    /// proportional policy's ratio).
    pub worst_ratio_to_target: Option<f64>,
    /// The worst `measured / limit` of a missed latency target (the ready
    /// replicas' need while others start).
    pub worst_ratio_to_limit: Option<f64>,
    /// Someone else changed the replica count since our last answer.
    pub external_change: bool,
    /// The failed-decay memory, aged by this run.
    pub memory: Memory,
    /// The settle hold after our last scale-up.
    pub settle: Settle,
    /// The missed target's figure then and now, with the same ready count.
    pub backlog: Option<Backlog>,
    /// Seconds since the last scale-up while `scaleUp.cooldownSeconds` runs.
    pub cooldown_elapsed: Option<u64>,
    /// Our last answer, a decay, not applied yet (downscale stabilization).
    pub pending_decay: Option<u32>,
    /// The targeted requests with failures: `GET /x 3 of 100 failed`.
    pub failing: Vec<String>,
    /// The miss this run leaves for the next one to compare with.
    pub last_miss: Option<LastMiss>,
    /// The load and the levels learned, with `load:` in the config and a
    /// CPU load in the report; `None` otherwise (the latency rules alone).
    pub load: Option<LoadView>,
    /// The Prometheus query's load and its levels, with `load.prometheus`
    /// in the config and `load.queryValue` in the report (the
    /// `query_load` module); `None` otherwise.
    pub query_load: Option<LoadView>,
    /// The CPU seen through the query, when both are there and the query
    /// moved since the CPU's sample (`LoadView::through_query`); what
    /// decays weigh in place of `load`.
    pub cpu_now: Option<LoadView>,
    /// The report's `load.queryValue` as it came, with `load:` in the
    /// config (`load.queryPerReplica` reads it).
    pub report_query_value: Option<f64>,
    /// A hash of the resource's `spec.template`, when the input had one.
    pub template_hash: Option<u64>,
}

impl<'a> Facts<'a> {
    /// The facts of one run: `measurements` of `report`, `observed` replicas
    /// at `now_seconds` (the load test's middle `tested_at_unix_ms`).
    pub fn gather(
        config: &'a EvaluationConfig,
        report: &LatencyReport,
        measurements: Vec<Measurement<'a>>,
        observed: Observed,
        state: &'a DecayState,
        (now_seconds, tested_at_unix_ms): (u64, u64),
    ) -> Facts<'a> {
        let allowance = config.startup_allowance_seconds;
        let answered = report
            .requests
            .values()
            .any(|stats| stats.count > stats.failures);
        let replicas = Replicas::of(observed, state, now_seconds, allowance, answered);
        let current = observed.current;
        let external_change = state.last_seen_replicas.is_some_and(|seen| seen != current)
            && state.last_target_replicas != Some(current);
        let missed: Vec<&Measurement> = measurements.iter().filter(|m| m.missed()).collect();
        let worst = |ratio: fn(&Measurement) -> f64| {
            missed
                .iter()
                .filter(|m| m.target.kind.is_latency())
                .map(|m| ratio(m))
                .fold(None, |worst: Option<f64>, ratio| {
                    Some(worst.map_or(ratio, |worst| worst.max(ratio)))
                })
        };
        let worst_ratio_to_target = worst(|m| m.measured / m.target.target);
        let worst_ratio_to_limit = worst(|m| m.measured / m.limit);
        let missed_line = missed
            .iter()
            .map(|m| m.describe())
            .collect::<Vec<_>>()
            .join(", ");
        let met_line = format!(
            "targets met ({})",
            measurements
                .iter()
                .map(Measurement::describe)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let failing = measurements
            .iter()
            .filter(|m| m.stats.failures > 0)
            .map(|m| format!("{} {} of {} failed", m.key, m.stats.failures, m.stats.count))
            .collect();
        let pending_decay = state
            .last_target_replicas
            .filter(|&answered| answered < current && state.last_seen_replicas == Some(current));
        let cooldown = config.scale_up.cooldown_seconds;
        // a scale-up time in the future (a clock stepped back, a state file
        // moved between nodes) must not block scale-ups: the cooldown is over
        let cooldown_elapsed = state
            .last_scale_up_unix_seconds
            .and_then(|last| now_seconds.checked_sub(last))
            .filter(|&elapsed| elapsed < cooldown);
        let backlog = Backlog::between(
            state.last_miss,
            &measurements,
            replicas.ready,
            tested_at_unix_ms,
        );
        let last_miss = backlog::last_miss(&measurements, replicas.ready, tested_at_unix_ms);
        let load = config.load_rules().and_then(|decisions| {
            decisions.cpu.as_ref()?;
            let cpu = report.load.as_ref()?.cpu.as_ref()?;
            Some(LoadView::of(
                decisions,
                cpu,
                state,
                observed.template_hash,
                now_seconds,
            ))
        });
        let query_load = config.load_rules().and_then(|decisions| {
            decisions.prometheus.as_ref()?;
            let value = report.load.as_ref()?.query_value?;
            // the verdict was measured with the probe's own requests on top
            // of the query's (which leaves them out)
            let probe_rate = report.requests_per_second();
            // the serving replicas: the ready ones, else the counted ones
            let serving = replicas
                .ready
                .map_or(replicas.counted(), |ready| ready.min(current));
            Some(LoadView::of_query(
                decisions,
                value,
                probe_rate,
                serving,
                state,
                observed.template_hash,
                now_seconds,
            ))
        });
        let cpu_now = load
            .as_ref()
            .zip(query_load.as_ref())
            .and_then(|(cpu, query)| cpu.through_query(query.total()));
        let report_query_value = config
            .load_rules()
            .and_then(|_| report.load.as_ref()?.query_value);
        let mut facts = Facts {
            starting_need: None,
            due_decay: None,
            query_load,
            cpu_now,
            report_query_value,
            config,
            state,
            now_seconds,
            replicas,
            missed: !missed.is_empty(),
            quiet: measurements.iter().all(Measurement::quiet),
            missed_line,
            met_line,
            worst_ratio_to_target,
            worst_ratio_to_limit,
            external_change,
            memory: Memory::recall(config, state, external_change),
            settle: Settle::recall(state),
            backlog,
            cooldown_elapsed,
            pending_decay,
            failing,
            last_miss,
            measurements,
            load,
            template_hash: observed.template_hash,
        };
        let counted = facts.replicas.counted();
        facts.starting_need = facts
            .need_of_ready()
            .filter(|&(need, _)| facts.replicas.starting > 0 && need > counted);
        facts.due_decay = DueDecay::of(&facts);
        facts
    }

    /// `decay.unchangedRuns` quiet runs have passed since the last change.
    pub fn decay_is_due(&self) -> bool {
        self.state.runs_since_change >= self.config.decay.unchanged_runs
    }

    /// `targets met (...); 3 quiet runs since the last change (...)`.
    pub fn decay_reason(&self) -> String {
        let runs = self.state.runs_since_change;
        format!(
            "{}; {runs} quiet runs since the last change (decay.unchangedRuns {})",
            self.met_line, self.config.decay.unchanged_runs
        )
    }

    /// `current` as the line names it.
    pub fn current(&self) -> u32 {
        self.replicas.current
    }

    /// The missed measurements.
    pub fn missed_measurements(&self) -> impl Iterator<Item = &Measurement<'a>> {
        self.measurements.iter().filter(|m| m.missed())
    }

    /// The targets above their `downTolerance` edge, described.
    pub fn above_band(&self) -> String {
        self.measurements
            .iter()
            .filter(|m| !m.quiet())
            .map(Measurement::describe_band)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The ready replicas' need, Kubernetes' HPA rule on them: `ceil(ready ×
    /// measured / limit)` over the missed latency targets (or `ready × (1 +
    /// growth)` when the same ready replicas hold or drain the queue), with
    /// how it was reached; `None` without a ready count or a missed latency
    /// target.
    fn need_of_ready(&self) -> Option<(u32, String)> {
        let ready = self.replicas.ready?.min(self.current());
        let current = self.replicas.counted();
        if let Some(backlog) = self.backlog.as_ref().filter(|b| !b.growing()) {
            // the same ready replicas hold or drain the queue: they carry
            // the load, and its length is no measure of what is missing
            let ratio = backlog.load_ratio();
            // `as` saturates: an absurd ratio cannot wrap around
            let need = (f64::from(ready) * ratio).ceil() as u32;
            return Some((
                need,
                format!(
                    "({}; {ready} ready x {} = {need} > {current})",
                    backlog.describe(),
                    round(ratio)
                ),
            ));
        }
        let ratio = self.worst_ratio_to_limit?;
        // `as` saturates: an absurd ratio cannot wrap around
        let need = (f64::from(ready) * ratio).ceil() as u32;
        Some((
            need,
            format!("({ready} ready x {} = {need} > {current})", round(ratio)),
        ))
    }
}

/// The decay the policy makes when one is due: by `decay.replicas` (or
/// `decay.percent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DueDecay {
    /// The count one decay step goes to.
    pub to: u32,
    /// Why, with how the step was sized.
    pub reason: String,
}

impl DueDecay {
    /// `None` when no decay is due or decay is disabled.
    fn of(facts: &Facts) -> Option<DueDecay> {
        if !facts.decay_is_due() || facts.config.decay.replicas == 0 {
            return None;
        }
        let current = facts.current();
        let (removed, how) = decay_size(facts.config, current);
        Some(DueDecay {
            to: current.saturating_sub(removed),
            reason: format!("{}{how}", facts.decay_reason()),
        })
    }
}
