//! Shadow mode of early stop (`gooseEarlyStop: "shadow"`), a benchmarking
//! aid: the test runs its whole run time, as without early stop, and the
//! report carries, as `earlyStopShadow`, the report early stop would have
//! printed, judged on the same samples. Comparing the decisions on the two
//! reports measures what early stop changes without the two runs drifting
//! apart (two separate runs scale differently after the first faster
//! decision, and every later interval is then judged in a different world).
//!
//! The shadow holds the targeted requests only, the requests the evaluate
//! stage judges:
//!
//! - when early stop **would have stopped**, each targeted request's figures
//!   come from the samples seen up to that moment ([`totals`]), passed
//!   through the same [`latency_report`] as goose's figures; its
//!   `runTimeSeconds` is the window up to that moment and `stoppedEarly` is
//!   true. Percentiles are exact nearest-rank values of the samples (goose's
//!   rule, without its histogram buckets, under 0.8 % apart). A real early
//!   stop measures a little longer: goose notices the killswitch within half
//!   a second, and waits for requests in flight.
//! - when it **would have run the whole time**, the shadow is the report's
//!   own targeted requests with `stoppedEarly` false: the report early stop
//!   would have printed is the full one.

use std::collections::BTreeSet;
use std::time::Duration;

use super::early_stop::{self, EarlyStop, Outcomes, WouldStop};
use super::goose_report::{RequestTotals, latency_report};
use super::verdict::Samples;
use crate::report::{LatencyReport, nearest_rank};

/// The report early stop would have printed for a run that `full` reports
/// (already annotated), with `would_stop` from shadow mode and `cap` the
/// run time.
pub fn report(
    full: &LatencyReport,
    would_stop: Option<&WouldStop>,
    stop: &EarlyStop,
    cap: Duration,
) -> LatencyReport {
    let Some(would_stop) = would_stop else {
        let mut shadow = full.clone();
        shadow.requests.retain(|key, _| is_targeted(stop, key));
        shadow.stopped_early = Some(false);
        return shadow;
    };
    let tracker = &would_stop.tracker;
    let totals: Vec<RequestTotals> = stop
        .targets
        .iter()
        .map(|target| target.key.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter_map(|key| {
            let samples = tracker.samples(key)?;
            let outcomes = tracker.outcomes(key).copied().unwrap_or_default();
            (samples.count() > 0).then(|| totals(key, samples, outcomes))
        })
        .collect();
    let replicas = full.current_replicas.unwrap_or_default();
    let mut shadow = LatencyReport {
        request_timeout_ms: full.request_timeout_ms,
        ..latency_report(&totals, would_stop.window, replicas, full.users)
    };
    early_stop::annotate_with(&mut shadow, tracker, true, stop, cap);
    shadow
}

fn is_targeted(stop: &EarlyStop, key: &str) -> bool {
    stop.targets.iter().any(|target| target.key == key)
}

/// The totals goose would have reported for the request `key`
/// (`"<METHOD> <name>"`) with these `samples` and `outcomes`: count, exact
/// minimum, maximum and sum, nearest-rank percentiles ([`nearest_rank`], goose's rank
/// taken on the sorted samples rather than its buckets),
/// and failures as goose counts them (the samples' failures, plus those a
/// scenario's rule marked failed, minus those it marked succeeded).
pub fn totals(key: &str, samples: &Samples, outcomes: Outcomes) -> RequestTotals {
    let (method, name) = key.split_once(' ').unwrap_or((key, ""));
    let mut us: Vec<u64> = samples
        .latencies_ms
        .iter()
        .map(|ms| (ms * 1000.0).round() as u64)
        .collect();
    us.sort_unstable();
    let count = samples.count();
    let failures = (samples.failures + outcomes.marked_failed)
        .saturating_sub(outcomes.marked_succeeded)
        .min(count);
    RequestTotals {
        method: method.to_owned(),
        name: name.to_owned(),
        count,
        failures,
        min_us: us.first().copied().unwrap_or_default(),
        max_us: us.last().copied().unwrap_or_default(),
        total_us: us.iter().sum(),
        percentiles_us: [0.5, 0.75, 0.9, 0.95, 0.99]
            .map(|p| nearest_rank(&us, p).unwrap_or_default()),
        failure_kinds: outcomes.kinds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::early_stop::{EarlyStopSettings, Tracker, Watched};
    use crate::metric::failures::FailureKinds;
    use crate::metric::verdict::verdict;
    use crate::report::{RequestStats, Verdict};
    use crate::target::TargetKind;

    fn stop() -> EarlyStop {
        EarlyStop {
            settings: EarlyStopSettings {
                shadow: true,
                ..EarlyStopSettings::default()
            },
            targets: vec![Watched {
                key: "GET /x".into(),
                kind: TargetKind::P95,
                limit: 120.0,
            }],
            starting: 0,
        }
    }

    /// 1 … 100 ms in an order without a trend, `failures` of them failed.
    fn hundred(tracker: &mut Tracker, failures: u64) {
        for i in 0..100u64 {
            let ms = (i * 37 % 100 + 1) as f64;
            tracker.record("GET /x", ms, i >= failures);
        }
    }

    #[test]
    fn the_totals_of_the_samples_are_the_figures_goose_would_report_for_them() {
        let mut tracker = Tracker::watching(&stop());
        hundred(&mut tracker, 3);
        let samples = tracker.samples("GET /x").unwrap();
        let outcomes = Outcomes {
            kinds: FailureKinds {
                timeouts: 2,
                connection_errors: 0,
                status_errors: 5,
            },
            marked_failed: 2,
            marked_succeeded: 1,
        };
        let totals = totals("GET /x", samples, outcomes);
        assert_eq!(
            (totals.method.as_str(), totals.name.as_str()),
            ("GET", "/x")
        );
        assert_eq!((totals.count, totals.failures), (100, 4));
        assert_eq!((totals.min_us, totals.max_us), (1_000, 100_000));
        assert_eq!(totals.total_us, 5_050_000);
        assert_eq!(
            totals.percentiles_us,
            [50_000, 75_000, 90_000, 95_000, 99_000]
        );
        let report = latency_report(&[totals], Duration::from_millis(2_500), 3, 8);
        let stats = &report.requests["GET /x"];
        assert_eq!(
            (stats.mean_ms, stats.median_ms, stats.p95_ms, stats.p99_ms),
            (50.5, 50.0, 95.0, 99.0)
        );
        assert_eq!((stats.error_rate, stats.requests_per_second), (0.04, 40.0));
        assert_eq!(
            (stats.timeouts, stats.connection_errors, stats.status_errors),
            (2, 0, 2),
            "never more kinds than failures"
        );
        assert_eq!(stats.impossible_figure(), None);
    }

    #[test]
    fn a_scenario_s_rules_move_requests_between_succeeded_and_failed_as_goose_counts_them() {
        // A 503 the scenario expects (failed, then marked succeeded), and a
        // 200 whose body timed out (succeeded, then marked failed).
        let mut outcomes = Outcomes::default();
        outcomes.note("503 Service Unavailable: /x", false, false);
        outcomes.note("503 Service Unavailable: /x", true, true);
        outcomes.note("", false, true);
        outcomes.note(
            "200: GET /x: timed out reading the response body; expected the whole body within the request timeout",
            true,
            false,
        );
        assert_eq!((outcomes.marked_failed, outcomes.marked_succeeded), (1, 1));
        let samples = Samples {
            latencies_ms: vec![5.0, 6.0],
            failures: 1,
        };
        let totals = totals("GET /x", &samples, outcomes);
        assert_eq!((totals.count, totals.failures), (2, 1));
        assert_eq!(totals.failure_kinds.timeouts, 1);
    }

    fn full_report(tracker: &Tracker) -> LatencyReport {
        let samples = tracker.samples("GET /x").unwrap();
        let mut other = totals("GET /x", samples, Outcomes::default());
        other.name = "/untargeted".into();
        let targeted = totals("GET /x", samples, Outcomes::default());
        let mut report = latency_report(&[targeted, other], Duration::from_secs(10), 3, 8);
        report.request_timeout_ms = Some(3000.0);
        early_stop::annotate_with(
            &mut report,
            tracker,
            false,
            &stop(),
            Duration::from_secs(10),
        );
        report
    }

    #[test]
    fn the_shadow_of_a_would_be_stop_is_the_report_of_the_samples_seen_by_then() {
        let stop = stop();
        let mut seen = Tracker::watching(&stop);
        hundred(&mut seen, 0);
        let mut whole = seen.clone();
        for _ in 0..300 {
            whole.record("GET /x", 500.0, true);
        }
        let would_stop = WouldStop {
            window: Duration::from_millis(2_500),
            tracker: seen.clone(),
        };
        let full = full_report(&whole);
        let shadow = report(&full, Some(&would_stop), &stop, Duration::from_secs(10));
        assert_eq!(shadow.requests.keys().collect::<Vec<_>>(), ["GET /x"]);
        assert_eq!(
            (shadow.stopped_early, shadow.max_run_time_seconds),
            (Some(true), Some(10.0))
        );
        assert_eq!(shadow.run_time_seconds, 2.5);
        assert_eq!(
            (
                shadow.current_replicas,
                shadow.users,
                shadow.request_timeout_ms
            ),
            (Some(3), 8, Some(3000.0))
        );
        let stats: &RequestStats = &shadow.requests["GET /x"];
        let expected = latency_report(
            &[totals(
                "GET /x",
                seen.samples("GET /x").unwrap(),
                Outcomes::default(),
            )],
            Duration::from_millis(2_500),
            3,
            8,
        );
        let mut bare = stats.clone();
        let interval = bare.confidence_intervals.remove("p95").unwrap();
        assert_eq!(bare, expected.requests["GET /x"]);
        let from_samples = seen
            .samples("GET /x")
            .unwrap()
            .interval(TargetKind::P95, 0.95);
        assert_eq!(
            (interval.low, interval.high),
            (from_samples.low, from_samples.high)
        );
        assert_eq!(interval.verdict, verdict(from_samples, 120.0));
        assert_eq!(interval.verdict, Verdict::Met);
        // The full report saw the slow tail the shadow stopped before.
        assert!(full.requests["GET /x"].p95_ms > 120.0);
    }

    #[test]
    fn without_a_would_be_stop_the_shadow_is_the_full_report_s_targeted_requests() {
        let stop = stop();
        let mut tracker = Tracker::watching(&stop);
        hundred(&mut tracker, 0);
        let full = full_report(&tracker);
        assert_eq!(full.requests.len(), 2);
        let shadow = report(&full, None, &stop, Duration::from_secs(10));
        assert_eq!(shadow.stopped_early, Some(false));
        assert_eq!(shadow.requests.keys().collect::<Vec<_>>(), ["GET /x"]);
        assert_eq!(shadow.requests["GET /x"], full.requests["GET /x"]);
        assert_eq!(shadow.run_time_seconds, full.run_time_seconds);
    }
}
