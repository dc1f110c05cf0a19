//! The second load source: the evaluation config's Prometheus query
//! (`load.prometheus`, the report's `load.queryValue`), seen as a
//! [`LoadView`] beside the CPU's, and which source decides what when both
//! are there.
//!
//! **The figure.** The query's value is the service's total load (its
//! request rate, requests/s) without the probe's requests, which the
//! query leaves out (they carry the probe's header) or which had not
//! started when it was taken. The verdict, though, was measured with the
//! probe's requests on top, so the load a verdict speaks of is the value
//! *plus the probe's own rate* (the report's `requestsPerSecond`, summed).
//! Per replica it is that total divided by the *serving* replicas: the
//! ready ones (the resource's status), or, with readiness unknown, the
//! counted ones (all but those unready past the start-up allowance). A starting replica answers nothing, so it carries
//! nothing. The levels learned (`metUpTo`, `missedAt`) are in the query's
//! unit per replica and live apart from the CPU's, in the state's
//! `learnedQueryLoad`.
//!
//! **Fresh and steady.** The value is taken at the instant the probe
//! starts; its only lag is the query's own range (`rate(...[1m])` averages
//! over a minute). A total request rate does not depend on how many
//! replicas serve it (the counter counts what arrives, 503s included), and
//! it is divided by the replicas serving now, so a replica change makes no
//! sample stale: every value is *fresh*, and each run is a new sample.
//! *Steady* (and rising, falling) compare the value with the one of the run
//! before, as for the CPU: the range's lag makes a rising load read low and
//! a falling one high, and the rules trust a value only the safe way. A
//! query never saturates, and there is no limit guard for it.
//!
//! **Which source decides what, with both.** The query sizes scale-ups
//! and scales ahead of a miss: it shows how far over capacity the service
//! is where the CPU stops at its limit, and it does not lag by a metrics
//! window. A decay must pass both: each source's guard may forbid it, a
//! load either source sees rising fits nothing, and decay-to-fit goes to
//! the larger of the two fits. The CPU it weighs is seen through the
//! query: when the query's total moved past a fifth since the run that
//! first saw the CPU sample, the sample's load is scaled by the query's
//! now over then (the CPU per request stays; the requests moved). After a
//! load falls the query shows it within half its range, the CPU sample a
//! metrics window or two later; without this the CPU's guard would hold
//! the replicas of the fallen load until then.

use crate::evaluate::config::LoadDecisions;
use crate::evaluate::facts::Facts;
use crate::evaluate::load::{LoadSource, LoadView, from_milli, recall};
use crate::state::DecayState;

impl LoadView {
    /// The view of the query's `value` (the service's total load) with the
    /// probe's `probe_rate` (requests/s) on top, on `serving` replicas under
    /// `config`, with the query's levels of `state`, at `now_seconds` (the
    /// run: each run takes a new value).
    pub fn of_query(
        config: &LoadDecisions,
        value: f64,
        probe_rate: f64,
        serving: u32,
        state: &DecayState,
        template_hash: Option<u64>,
        now_seconds: u64,
    ) -> LoadView {
        let learned = recall(config, state.learned_query_load, template_hash, now_seconds);
        let serving = serving.max(1);
        let finite = |figure: f64| {
            if figure.is_finite() {
                figure.max(0.0)
            } else {
                0.0
            }
        };
        let probe_rate = finite(probe_rate);
        let total = finite(value) + probe_rate;
        let sampled_at = i64::try_from(now_seconds).unwrap_or(i64::MAX);
        let previous_total = if learned.sample_at_unix_seconds == Some(sampled_at) {
            learned.previous_total_milli
        } else {
            learned.sample_total_milli
        }
        .map(from_milli);
        LoadView {
            source: LoadSource::Query,
            per_replica: total / f64::from(serving),
            probe_rate,
            pods: serving,
            saturated: false,
            fresh: true,
            complete: true,
            sampled_at,
            sample_pods: serving,
            previous_total,
            met_up_to: learned.met_up_to_milli.map(from_milli),
            seeded: false,
            missed_at: learned.missed_at_milli.map(from_milli),
            learned,
            margin: config.margin,
            pods_ready: serving,
            cpu_limit: None,
            query_then: None,
            rescaled: None,
        }
    }
}

impl Facts<'_> {
    /// The source that sizes a scale-up and scales ahead of a miss: the
    /// query when the report has it (it does not saturate), else the CPU.
    pub fn sizing_load(&self) -> Option<&LoadView> {
        self.query_load.as_ref().or(self.load.as_ref())
    }

    /// Every source the report has, the CPU first: each may forbid a decay.
    pub fn loads(&self) -> impl Iterator<Item = &LoadView> {
        self.load.iter().chain(self.query_load.iter())
    }

    /// The sources a decay weighs: as [`Self::loads`], but the CPU seen
    /// through the query when the query moved since the CPU's sample
    /// ([`LoadView::through_query`]): a decay after a load fell need not
    /// wait for a metrics window to show it.
    pub fn decay_loads(&self) -> impl Iterator<Item = &LoadView> {
        self.cpu_now
            .as_ref()
            .or(self.load.as_ref())
            .into_iter()
            .chain(self.query_load.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::LearnedLoad;

    fn config() -> LoadDecisions {
        serde_json::from_str(r#"{"prometheus": {"url": "http://127.0.0.1:9090", "query": "x"}}"#)
            .unwrap()
    }

    #[test]
    fn the_query_is_divided_by_the_serving_replicas_and_learns_apart_from_the_cpu() {
        let state = DecayState {
            learned_load: Some(LearnedLoad {
                met_up_to_milli: Some(620),
                met_at_unix_seconds: Some(990),
                ..LearnedLoad::default()
            }),
            learned_query_load: Some(LearnedLoad {
                met_up_to_milli: Some(75_000),
                met_at_unix_seconds: Some(990),
                sample_at_unix_seconds: Some(990),
                sample_total_milli: Some(200_000),
                ..LearnedLoad::default()
            }),
            // a replica change just now makes no query value stale
            replicas_changed_unix_seconds: Some(1000),
            ..DecayState::default()
        };
        let view = LoadView::of_query(&config(), 200.0, 12.0, 4, &state, None, 1000);
        assert_eq!(view.per_replica, 53.0);
        assert_eq!(
            view.met_up_to,
            Some(75.0),
            "the query's level, not the CPU's 0.62"
        );
        assert!(view.fresh && view.complete && !view.saturated && view.steady());
        assert_eq!(view.fits(), Some(3), "212 / 75 = 2.8");
        assert_eq!(
            view.describe(),
            "query 200 + probe 12 req/s / 4 = 53 per replica",
            "the probe's own requests are part of the load the verdict speaks of"
        );
        assert_eq!(view.levels(), "met up to 75 per replica");
        let learned = view.learn(true, 0, 4, None, 1000);
        assert_eq!(learned.met_up_to_milli, Some(75_000), "53 is under 75");
        assert_eq!(learned.sample_total_milli, Some(212_000));
        assert_eq!(learned.previous_total_milli, Some(200_000));
        // a met run with a replica starting teaches nothing: the replica may
        // have served part of the probe, which the level would credit to
        // the others
        let busier = LoadView::of_query(&config(), 380.0, 20.0, 4, &state, None, 1000);
        assert_eq!(busier.per_replica, 100.0);
        let starting = busier.learn(true, 1, 5, None, 1000);
        assert_eq!(starting.met_up_to_milli, Some(75_000));
        let settled = busier.learn(true, 0, 4, None, 1000);
        assert_eq!(settled.met_up_to_milli, Some(100_000));
        // no serving replica: the total stands for one, never a division by 0
        let none = LoadView::of_query(&config(), 10.0, f64::NAN, 0, &state, None, 1000);
        assert_eq!(
            (none.pods, none.per_replica),
            (1, 10.0),
            "a NaN rate adds 0"
        );
        assert_eq!(none.describe(), "query 10 req/s / 1 = 10 per replica");
    }

    #[test]
    fn an_old_state_file_loads_with_nothing_learned_of_the_query() {
        // a state file written before the query was a source
        let old = r#"{"runsSinceChange": 2, "learnedLoad": {"metUpToMilli": 620, "metAtUnixSeconds": 990}}"#;
        let state: DecayState = serde_json::from_str(old).unwrap();
        assert_eq!(state.learned_query_load, None);
        assert_eq!(state.learned_load.unwrap().met_up_to_milli, Some(620));
        let view = LoadView::of_query(&config(), 90.0, 0.0, 3, &state, None, 1000);
        assert_eq!((view.met_up_to, view.missed_at), (None, None));
        // and a state without the query's levels writes no key for them
        assert!(
            !serde_json::to_string(&state)
                .unwrap()
                .contains("learnedQueryLoad")
        );
        let learned = DecayState {
            learned_query_load: Some(view.learn(true, 0, 3, None, 1000)),
            ..state
        };
        let text = serde_json::to_string(&learned).unwrap();
        assert!(text.contains(r#""learnedQueryLoad":{"#), "{text}");
        assert_eq!(serde_json::from_str::<DecayState>(&text).unwrap(), learned);
    }

    #[test]
    fn query_per_replica_is_checked() {
        let mut keda: LoadDecisions = serde_json::from_str(
            r#"{"prometheus": {"url": "http://127.0.0.1:9090", "query": "x"}, "queryPerReplica": 50}"#,
        )
        .unwrap();
        assert_eq!(keda.problem(), None);
        keda.query_per_replica = Some(0.0);
        let (key, problem) = keda.problem().unwrap();
        assert_eq!(key, "load.queryPerReplica");
        assert!(
            problem.starts_with("'0' is out of range; expected"),
            "{problem}"
        );
        keda.query_per_replica = Some(50.0);
        keda.prometheus = None;
        let (key, problem) = keda.problem().unwrap();
        assert_eq!(key, "load.queryPerReplica");
        assert!(problem.contains("expected load.prometheus"), "{problem}");
    }
}
