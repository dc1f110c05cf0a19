//! The load rules' memory: the per-replica CPU load one run shows, and what
//! the state remembers of it (the learned capacity). The evaluation
//! config's `load:` section, the opt-in, is the `load_config` module's.
//!
//! **The signal.** The report's `load.cpuUtilization` is already an average
//! per measured pod, so it *is* the load per serving replica; the total is
//! that times `podsMeasured`.
//!
//! **What is learned.** The highest per-replica load at which every target
//! was met (`metUpTo`) and the lowest at which one was missed with no replica
//! starting (`missedAt`). Only a *settled* sample teaches: its metrics window
//! began after the serving replicas last changed (the CPA gathers it before
//! the probe runs, so it can describe a replica count that is gone; a met
//! run may also learn from an older sample taken on at least as many pods
//! as serve now, which shows each replica carrying no more than now), every
//! pod is measured (none missing or ignored), and the load moved the safe
//! way. A sample lags the probe by up to two metrics windows: a met run
//! teaches when the load is not falling (a rising load's sample is below
//! what the probe met: a level on the safe side); a miss teaches only at a
//! *steady* load (its total within [`STEADY_SHARE`] of the sample before),
//! and above a level known to be met (a miss paired with a sample from
//! before a load step would teach a level far too low). A met run at or
//! above `missedAt` forgets it, so the two levels never cross.
//!
//! **Bounded memory: a window.** Each level is forgotten
//! `load.forgetAfterSeconds` (default 3600) after it was last set, and both
//! are forgotten when a hash of the resource's `spec.template` changes (a new
//! release: another image, other requests or limits). A window, not a decay
//! of old observations, because a level is a maximum (or minimum) of single
//! runs, not an average: a decayed maximum would drift without evidence,
//! while a window keeps what a run showed and, after an hour, relearns it
//! from the runs of that hour (a met run teaches again at once).
//!
//! **The probe's own load.** It is not subtracted. The sample is taken
//! before the probe runs, but its window may hold the previous run's probe.
//! Either way the error is on the safe side: a met verdict (measured with the
//! probe) paired with a sample without it learns a level a little below what
//! the replicas carried; a miss paired with such a sample learns a
//! `missedAt` a little low, so the rules scale earlier, not later.

pub use crate::evaluate::load_config::{CpuSource, HPA_TOLERANCE, LoadDecisions};
use crate::evaluate::measure::round;
use crate::report::CpuLoad;
use crate::state::{DecayState, LearnedLoad};

/// The share of `cpuLimitUtilization` at or above which the CPU is
/// saturated: a pod at its limit cannot show how far over capacity the
/// service is, and the latency rules size the scale-up.
pub const SATURATED_SHARE_OF_LIMIT: f64 = 0.95;

/// Two samples whose totals differ by at most this share of the larger show
/// a steady load.
pub const STEADY_SHARE: f64 = 0.2;

/// Thousandths: the state keeps levels as integers (`metUpToMilli`).
const MILLI: f64 = 1000.0;

/// What one run shows of the load, with the levels in force.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoadView {
    /// Where the figure comes from: the CPU or the Prometheus query.
    pub source: LoadSource,
    /// CPU utilisation per measured pod, or the query's value plus the
    /// probe's own rate divided by the serving replicas: the load per
    /// serving replica.
    pub per_replica: f64,
    /// The probe's own request rate in the query's total, requests/s (the
    /// report's `requestsPerSecond` summed; 0 for the CPU).
    pub probe_rate: f64,
    /// Pods measured.
    pub pods: u32,
    /// Near the CPU limit: the CPU no longer shows the overload.
    pub saturated: bool,
    /// The sample's window began after the serving replicas last changed.
    pub fresh: bool,
    /// Every pod was measured: none missing, none ignored.
    pub complete: bool,
    /// When the sample was taken, seconds since the Unix epoch.
    pub sampled_at: i64,
    /// The pods when the sample was gathered: measured, ignored, missing.
    pub sample_pods: u32,
    /// The total of the sample before this one, when known.
    pub previous_total: Option<f64>,
    /// The levels remembered (this template's, within the window).
    pub learned: LearnedLoad,
    /// The highest per-replica load known to meet every target: learned,
    /// else `load.targetPerReplica`.
    pub met_up_to: Option<f64>,
    /// `met_up_to` is the config's hint, not learned.
    pub seeded: bool,
    /// The lowest per-replica load at which a target was missed.
    pub missed_at: Option<f64>,
    /// `load.margin`.
    pub margin: f64,
    /// `podsReady`: the pods the HPA multiplies its ratio by.
    pub pods_ready: u32,
    /// `cpuLimitUtilization`, when the pod template has a CPU limit.
    pub cpu_limit: Option<f64>,
    /// CPU only: the query's total in the run that first saw this sample,
    /// when an earlier run did (`queryTotalAtSampleMilli`).
    pub query_then: Option<f64>,
    /// The CPU seen through the query ([`Self::through_query`]): how
    /// `per_replica` was scaled.
    pub rescaled: Option<Rescaled>,
}

/// How a CPU sample was scaled by the query's move since it was first seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rescaled {
    /// The sample's own per-replica load, before the scaling.
    pub sampled: f64,
    /// The query's total in the run that first saw the sample.
    pub then: f64,
    /// The query's total now.
    pub now: f64,
}

/// The source of a [`LoadView`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoadSource {
    /// `load.cpuUtilization`: a per-pod average that saturates at the CPU
    /// limit and lags by the metrics window.
    Cpu,
    /// `load.queryValue`: the service's total load (a request rate), taken
    /// when the probe started; it never saturates.
    Query,
}

impl LoadView {
    /// The view of `cpu` under `config`, with the levels of `state` for the
    /// resource whose `spec.template` hashes to `template_hash`, at
    /// `now_seconds`.
    pub fn of(
        config: &LoadDecisions,
        cpu: &CpuLoad,
        state: &DecayState,
        template_hash: Option<u64>,
        now_seconds: u64,
    ) -> LoadView {
        let learned = recall(config, state.learned_load, template_hash, now_seconds);
        let per_replica = cpu.cpu_utilization.max(0.0);
        let window_start = cpu.window_start().as_second();
        let fresh = state
            .replicas_changed_unix_seconds
            .is_none_or(|changed| window_start >= i64::try_from(changed).unwrap_or(i64::MAX));
        let learned_met = learned.met_up_to_milli.map(from_milli);
        let sampled_at = cpu.sampled_at.as_second();
        let seen_before = learned.sample_at_unix_seconds == Some(sampled_at);
        let previous_total = if seen_before {
            learned.previous_total_milli
        } else {
            learned.sample_total_milli
        }
        .map(from_milli);
        LoadView {
            source: LoadSource::Cpu,
            complete: cpu.pods_ignored == 0 && cpu.pods_missing == 0,
            sample_pods: cpu
                .pods_measured
                .saturating_add(cpu.pods_ignored)
                .saturating_add(cpu.pods_missing),
            sampled_at,
            previous_total,
            per_replica,
            probe_rate: 0.0,
            pods: cpu.pods_measured,
            saturated: cpu
                .cpu_limit_utilization
                .is_some_and(|limit| per_replica >= SATURATED_SHARE_OF_LIMIT * limit),
            fresh,
            met_up_to: learned_met.or(config.target_per_replica),
            seeded: learned_met.is_none() && config.target_per_replica.is_some(),
            missed_at: learned.missed_at_milli.map(from_milli),
            learned,
            margin: config.margin,
            pods_ready: cpu.pods_ready,
            cpu_limit: cpu.cpu_limit_utilization,
            query_then: learned
                .query_total_at_sample_milli
                .filter(|_| seen_before)
                .map(from_milli),
            rescaled: None,
        }
    }

    /// The CPU sample as the load is now, when the query (`query_now`, its
    /// total with the probe's rate) moved past [`STEADY_SHARE`] since the
    /// run that first saw the sample: the per-replica load scaled by the
    /// query's now over then. A CPU sample trails the load by up to two
    /// metrics windows, the query by half its range; the CPU per request
    /// stays, so its load moves with the requests. `None` when the query
    /// held (the sample stands), or nothing is known of it then.
    pub fn through_query(&self, query_now: f64) -> Option<LoadView> {
        let then = self.query_then.filter(|&then| then > 0.0)?;
        let moved = (query_now - then).abs() > STEADY_SHARE * query_now.max(then);
        moved.then(|| LoadView {
            per_replica: self.per_replica * query_now.max(0.0) / then,
            rescaled: Some(Rescaled {
                sampled: self.per_replica,
                then,
                now: query_now,
            }),
            ..self.clone()
        })
    }

    /// No run before this one saw its sample (a CPU sample is seen by every
    /// run until the next one is taken).
    pub fn first_sight(&self) -> bool {
        self.learned.sample_at_unix_seconds != Some(self.sampled_at)
    }

    /// The load of every serving replica together.
    pub fn total(&self) -> f64 {
        self.per_replica * f64::from(self.pods)
    }

    /// The total held within [`STEADY_SHARE`] of the sample before.
    pub fn steady(&self) -> bool {
        self.previous_total.is_some_and(|previous| {
            (self.total() - previous).abs() <= STEADY_SHARE * self.total().max(previous)
        })
    }

    /// The total is not rising past [`STEADY_SHARE`]: a decay may trust it
    /// (a falling load's sample is above the load now, on the safe side).
    /// Seen through the query, the query fell or held since the sample.
    pub fn not_rising(&self) -> bool {
        // seen through the query: its move since the sample is the load's
        if let Some(Rescaled { then, now, .. }) = self.rescaled {
            return now <= then;
        }
        self.previous_total
            .is_some_and(|previous| self.total() <= previous * (1.0 + STEADY_SHARE))
    }

    /// The total is not falling past [`STEADY_SHARE`]: a scale-up ahead may
    /// trust it.
    pub fn not_falling(&self) -> bool {
        self.previous_total
            .is_some_and(|previous| self.total() >= previous * (1.0 - STEADY_SHARE))
    }

    /// The per-replica load at or above which a target is expected to be
    /// missed: `missedAt × (1 − margin)`, but never under `metUpTo` (the
    /// margin reaches no further than a level known to be met).
    pub fn guard(&self) -> Option<f64> {
        let met = self.met_up_to.unwrap_or(0.0);
        self.missed_at
            .map(|missed| (missed * (1.0 - self.margin)).max(met.min(missed)))
    }

    /// The per-replica load no decay may lead to, and what sets it: the
    /// [`Self::guard`], or the saturation level ([`SATURATED_SHARE_OF_LIMIT`]
    /// of `cpuLimitUtilization`: no replica carries more than its CPU
    /// limit), whichever is lower.
    pub fn decay_guard(&self) -> Option<(f64, String)> {
        let by_miss = self.guard().map(|guard| {
            (
                guard,
                format!(
                    "{}, less margin {}%",
                    self.levels(),
                    round(self.margin * 100.0)
                ),
            )
        });
        let by_limit = self.cpu_limit.map(|limit| {
            (
                limit * SATURATED_SHARE_OF_LIMIT,
                format!(
                    "{}% of the CPU limit {}: saturated",
                    round(SATURATED_SHARE_OF_LIMIT * 100.0),
                    round(limit)
                ),
            )
        });
        match (by_miss, by_limit) {
            (Some(miss), Some(limit)) if limit.0 < miss.0 => Some(limit),
            (Some(miss), _) => Some(miss),
            (None, limit) => limit,
        }
    }

    /// The fewest replicas whose per-replica load stays at or under the met
    /// level: `ceil(total / metUpTo)`, at least 1.
    pub fn fits(&self) -> Option<u32> {
        let met = self.met_up_to.filter(|&met| met > 0.0)?;
        Some(ceil_count(self.total() / met - 1e-9).max(1))
    }

    /// The fewest replicas whose per-replica load stays under the decay
    /// guard.
    pub fn clear_of_miss(&self) -> Option<u32> {
        let guard = self
            .decay_guard()
            .map(|(guard, _)| guard)
            .filter(|&guard| guard > 0.0)?;
        Some(ceil_count((self.total() / guard).floor() + 1.0).max(1))
    }

    /// The per-replica load on `replicas` replicas when every one of the
    /// `serving` replicas carries the sample's average (a pod left out of
    /// the sample, missing or ignored, serves too).
    pub fn moved_to(&self, serving: u32, replicas: u32) -> f64 {
        self.per_replica * f64::from(self.pods.max(serving)) / f64::from(replicas.max(1))
    }

    /// The per-replica load on `replicas` replicas.
    pub fn on(&self, replicas: u32) -> f64 {
        self.total() / f64::from(replicas.max(1))
    }

    /// `CPU 0.31 per pod x 4 = 1.24`, or `query 212 req/s / 4 = 53 per
    /// replica`.
    pub fn describe(&self) -> String {
        match self.source {
            LoadSource::Cpu => match self.rescaled {
                Some(Rescaled { sampled, then, now }) => {
                    format!(
                        "CPU {} per pod x {} = {}, x {} / {} as the query moved since = {}",
                        round(sampled),
                        self.pods,
                        round(sampled * f64::from(self.pods)),
                        round(now),
                        round(then),
                        round(self.total())
                    )
                }
                None => format!(
                    "CPU {} per pod x {} = {}",
                    round(self.per_replica),
                    self.pods,
                    round(self.total())
                ),
            },
            LoadSource::Query if self.probe_rate > 0.0 => format!(
                "query {} + probe {} req/s / {} = {} per replica",
                round(self.total() - self.probe_rate),
                round(self.probe_rate),
                self.pods,
                round(self.per_replica)
            ),
            LoadSource::Query => format!(
                "query {} req/s / {} = {} per replica",
                round(self.total()),
                self.pods,
                round(self.per_replica)
            ),
        }
    }

    /// `met up to 0.62 per replica, missed at 0.9`: the levels in force.
    pub fn levels(&self) -> String {
        let met = match (self.met_up_to, self.seeded) {
            (Some(met), false) => format!("met up to {} per replica", round(met)),
            (Some(met), true) => format!(
                "load.targetPerReplica {} until a level is learned",
                round(met)
            ),
            (None, _) => "no level learned yet".to_owned(),
        };
        match self.missed_at {
            Some(missed) => format!("{met}, missed at {}", round(missed)),
            None => met,
        }
    }

    /// The levels after this run: what a fresh sample teaches (`met`: every
    /// target met; a miss teaches only with no replica starting), and when
    /// it was learned.
    pub fn learn(
        &self,
        met: bool,
        starting: u32,
        current: u32,
        template_hash: Option<u64>,
        now_seconds: u64,
    ) -> LearnedLoad {
        let mut learned = LearnedLoad {
            template_hash,
            ..self.learned
        };
        if self.first_sight() {
            learned.previous_total_milli = learned.sample_total_milli;
            learned.sample_at_unix_seconds = Some(self.sampled_at);
            learned.sample_total_milli = Some(to_milli(self.total()));
        }
        if !(self.complete && self.pods > 0) {
            return learned;
        }
        let level = to_milli(self.per_replica);
        // a met level from a rising load's sample (below the load the probe
        // met) is low, on the safe side; a falling load's would be high. So
        // is one from a stale sample taken on at least as many pods as now
        // (after a decay: each replica carries more now than it showed).
        // With replicas starting, one that became ready during the probe
        // carried part of the load the level would credit to the others
        if met && starting == 0 && self.not_falling() && (self.fresh || self.sample_pods >= current)
        {
            if learned.met_up_to_milli.is_none_or(|known| level > known) {
                learned.met_up_to_milli = Some(level);
                learned.met_at_unix_seconds = Some(now_seconds);
            }
            if learned
                .missed_at_milli
                .is_some_and(|missed| level >= missed)
            {
                learned.missed_at_milli = None;
                learned.missed_at_unix_seconds = None;
            }
        } else if !met
            && starting == 0
            && self.fresh
            && self.steady()
            // a miss teaches only above a level known to be met: a miss at
            // or under it is a sample from before a load step, not capacity
            && learned.met_up_to_milli.is_some_and(|known| level > known)
            && learned.missed_at_milli.is_none_or(|known| level < known)
        {
            learned.missed_at_milli = Some(level);
            learned.missed_at_unix_seconds = Some(now_seconds);
        }
        learned
    }
}

/// The levels `state` holds for this template, those older than
/// `load.forgetAfterSeconds` forgotten; none after a template change (the
/// samples seen are kept).
pub(super) fn recall(
    config: &LoadDecisions,
    learned: Option<LearnedLoad>,
    template_hash: Option<u64>,
    now_seconds: u64,
) -> LearnedLoad {
    let learned = learned.unwrap_or_default();
    if learned.template_hash != template_hash {
        // the samples describe the load, not the release: they stay
        return LearnedLoad {
            template_hash,
            sample_at_unix_seconds: learned.sample_at_unix_seconds,
            sample_total_milli: learned.sample_total_milli,
            previous_total_milli: learned.previous_total_milli,
            query_total_at_sample_milli: learned.query_total_at_sample_milli,
            ..LearnedLoad::default()
        };
    }
    let young = |at: Option<u64>| {
        at.is_some_and(|at| now_seconds.saturating_sub(at) < config.forget_after_seconds)
    };
    let mut recalled = learned;
    if !young(learned.met_at_unix_seconds) {
        recalled.met_up_to_milli = None;
        recalled.met_at_unix_seconds = None;
    }
    if !young(learned.missed_at_unix_seconds) {
        recalled.missed_at_milli = None;
        recalled.missed_at_unix_seconds = None;
    }
    recalled
}

/// A hash of the resource's `spec.template` (FNV-1a over its JSON, whose
/// object keys serde_json sorts): stable across runs and builds, so a new
/// release (any change to the pod template) starts the learning afresh.
pub fn template_hash(template: &serde_json::Value) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    template.to_string().bytes().fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

pub(super) fn to_milli(level: f64) -> u32 {
    // `as` saturates: a negative or absurd level cannot wrap around
    (level * MILLI).round() as u32
}

pub(super) fn from_milli(milli: u32) -> f64 {
    f64::from(milli) / MILLI
}

fn ceil_count(value: f64) -> u32 {
    // `as` saturates: an absurd load cannot wrap around
    value.ceil().max(0.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> LoadDecisions {
        LoadDecisions {
            prometheus: None,
            cpu: Some(CpuSource::default()),
            margin: 0.1,
            target_per_replica: None,
            forget_after_seconds: 3600,
            query_per_replica: None,
        }
    }

    fn cpu(utilization: f64, pods: u32, window_start: i64) -> CpuLoad {
        CpuLoad {
            cpu_utilization: utilization,
            scale_up_cpu_utilization: utilization,
            scale_down_cpu_utilization: utilization,
            cpu_limit_utilization: Some(2.0),
            pods_measured: pods,
            pods_ready: pods,
            pods_ignored: 0,
            pods_missing: 0,
            sampled_at: jiff::Timestamp::from_second(window_start + 15).unwrap(),
            window_seconds: 15.0,
        }
    }

    #[test]
    fn the_margin_reaches_no_further_down_than_the_level_met() {
        let state = |met, missed| DecayState {
            learned_load: Some(LearnedLoad {
                met_up_to_milli: Some(met),
                met_at_unix_seconds: Some(1000),
                missed_at_milli: Some(missed),
                missed_at_unix_seconds: Some(1000),
                ..LearnedLoad::default()
            }),
            ..DecayState::default()
        };
        let guard = |met, missed| {
            LoadView::of(
                &config(),
                &cpu(0.5, 4, 900),
                &state(met, missed),
                None,
                1100,
            )
            .guard()
        };
        // 0.9 less 10 % is 0.81, under the 0.85 known to be met: 0.85
        assert_eq!(guard(850, 900), Some(0.85));
        // a level met well under it leaves the margin as it is
        assert_eq!(guard(620, 900), Some(0.81));
    }

    #[test]
    fn fits_and_clear_of_miss_size_the_counts() {
        let state = DecayState {
            learned_load: Some(LearnedLoad {
                met_up_to_milli: Some(620),
                met_at_unix_seconds: Some(1000),
                missed_at_milli: Some(900),
                missed_at_unix_seconds: Some(1000),
                template_hash: None,
                ..LearnedLoad::default()
            }),
            ..DecayState::default()
        };
        let view = LoadView::of(&config(), &cpu(0.31, 4, 900), &state, None, 1100);
        assert_eq!(view.fits(), Some(2), "1.24 / 0.62 = 2 exactly");
        // 1.24 / (0.9 x 0.9) = 1.53: 2 replicas carry 0.62 each, under 0.81
        assert_eq!(view.clear_of_miss(), Some(2));
        assert_eq!(view.describe(), "CPU 0.31 per pod x 4 = 1.24");
        assert_eq!(view.levels(), "met up to 0.62 per replica, missed at 0.9");
    }

    #[test]
    fn through_the_query_the_line_keeps_the_sample_s_own_load_even_at_a_query_of_zero() {
        let state = DecayState {
            learned_load: Some(LearnedLoad {
                sample_at_unix_seconds: Some(1015),
                query_total_at_sample_milli: Some(300_000),
                ..LearnedLoad::default()
            }),
            ..DecayState::default()
        };
        let view = LoadView::of(&config(), &cpu(1.5, 4, 1000), &state, None, 1020);
        assert!(!view.first_sight());
        assert_eq!(view.through_query(280.0), None, "the query held");
        let gone = view.through_query(0.0).expect("the query moved");
        assert_eq!(gone.total(), 0.0);
        assert_eq!(
            gone.describe(),
            "CPU 1.5 per pod x 4 = 6, x 0 / 300 as the query moved since = 0"
        );
    }

    #[test]
    fn a_stale_sample_teaches_nothing_and_a_miss_teaches_only_above_the_met_level() {
        // the sample before: the same total (0.5 x 2), taken at 990
        let state = DecayState {
            replicas_changed_unix_seconds: Some(1000),
            learned_load: Some(LearnedLoad {
                sample_at_unix_seconds: Some(990),
                sample_total_milli: Some(1000),
                template_hash: Some(7),
                ..LearnedLoad::default()
            }),
            ..DecayState::default()
        };
        let stale = LoadView::of(&config(), &cpu(0.5, 2, 990), &state, Some(7), 1020);
        assert!(!stale.fresh);
        assert_eq!(stale.learn(true, 0, 3, Some(7), 1020).met_up_to_milli, None);
        let fresh = LoadView::of(&config(), &cpu(0.5, 2, 1001), &state, Some(7), 1020);
        let met = fresh.learn(true, 0, 3, Some(7), 1020);
        assert_eq!(met.met_up_to_milli, Some(500));
        let falling = LoadView::of(&config(), &cpu(0.3, 2, 1001), &state, Some(7), 1020);
        assert_eq!(
            falling.learn(true, 0, 3, Some(7), 1020).met_up_to_milli,
            None,
            "a falling load's sample is above what the probe met: it teaches no met level"
        );
        let jumped = LoadView::of(&config(), &cpu(0.8, 2, 1001), &state, Some(7), 1020);
        assert!(!jumped.steady());
        assert_eq!(
            jumped.learn(false, 0, 3, Some(7), 1020).missed_at_milli,
            None,
            "a miss teaches only at a steady load"
        );
        let state = DecayState {
            learned_load: Some(met),
            ..state
        };
        let missed = LoadView::of(&config(), &cpu(0.4, 2, 1001), &state, Some(7), 1030).learn(
            false,
            0,
            3,
            Some(7),
            1030,
        );
        assert_eq!(
            (missed.met_up_to_milli, missed.missed_at_milli),
            (Some(500), None),
            "a miss under the met level is a sample from before a step: it teaches nothing"
        );
        let above = LoadView::of(&config(), &cpu(0.55, 2, 1001), &state, Some(7), 1030).learn(
            false,
            0,
            3,
            Some(7),
            1030,
        );
        assert_eq!(
            (above.met_up_to_milli, above.missed_at_milli),
            (Some(500), Some(550)),
            "a miss above the met level at a steady load teaches missedAt"
        );
        let starting = LoadView::of(&config(), &cpu(0.3, 2, 1001), &state, Some(7), 1030).learn(
            false,
            1,
            3,
            Some(7),
            1030,
        );
        assert_eq!(
            starting.missed_at_milli, None,
            "replicas starting: no miss learned"
        );
        // after a decay from 3 to 2: a stale sample taken on 3 pods shows
        // each replica carrying less than now, a met level on the safe side
        let after_decay = DecayState {
            replicas_changed_unix_seconds: Some(1030),
            ..DecayState::default()
        };
        let mut on_three = cpu(0.3, 3, 1001);
        on_three.sampled_at = jiff::Timestamp::from_second(1040).unwrap();
        let decayed = LoadView::of(
            &config(),
            &on_three,
            &DecayState {
                learned_load: Some(LearnedLoad {
                    sample_at_unix_seconds: Some(1020),
                    sample_total_milli: Some(900),
                    ..LearnedLoad::default()
                }),
                ..after_decay
            },
            None,
            1045,
        );
        assert!(!decayed.fresh);
        assert_eq!(
            decayed.learn(true, 0, 2, None, 1045).met_up_to_milli,
            Some(300)
        );
        assert_eq!(
            decayed.learn(true, 0, 4, None, 1045).met_up_to_milli,
            None,
            "a stale sample on fewer pods than now teaches nothing"
        );
    }

    #[test]
    fn a_new_template_or_an_old_level_starts_afresh_and_the_hint_seeds() {
        let learned = LearnedLoad {
            met_up_to_milli: Some(600),
            met_at_unix_seconds: Some(1000),
            missed_at_milli: Some(900),
            missed_at_unix_seconds: Some(100),
            template_hash: Some(1),
            ..LearnedLoad::default()
        };
        let state = DecayState {
            learned_load: Some(learned),
            ..DecayState::default()
        };
        let same = LoadView::of(&config(), &cpu(0.3, 2, 0), &state, Some(1), 3700);
        assert_eq!((same.met_up_to, same.missed_at), (Some(0.6), None));
        let hinted = LoadDecisions {
            target_per_replica: Some(0.5),
            ..config()
        };
        let released = LoadView::of(&hinted, &cpu(0.3, 2, 0), &state, Some(2), 1100);
        assert_eq!((released.met_up_to, released.seeded), (Some(0.5), true));
        assert_eq!(released.missed_at, None);
        let template: serde_json::Value =
            serde_json::from_str(r#"{"spec": {"containers": [{"image": "a:1"}]}}"#).unwrap();
        let reordered: serde_json::Value =
            serde_json::from_str(r#"{"spec": {"containers": [{"image": "a:1"}]}}"#).unwrap();
        let other: serde_json::Value =
            serde_json::from_str(r#"{"spec": {"containers": [{"image": "a:2"}]}}"#).unwrap();
        assert_eq!(template_hash(&template), template_hash(&reordered));
        assert_ne!(template_hash(&template), template_hash(&other));
    }

    #[test]
    fn the_section_is_checked() {
        let mut bad = LoadDecisions {
            margin: 1.0,
            ..config()
        };
        assert_eq!(bad.problem().unwrap().0, "load.margin");
        bad = LoadDecisions {
            target_per_replica: Some(0.0),
            ..config()
        };
        assert_eq!(bad.problem().unwrap().0, "load.targetPerReplica");
        assert_eq!(config().problem(), None);
    }
}
