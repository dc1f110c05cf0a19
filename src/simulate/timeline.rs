//! What a simulation recorded, second by second and interval by interval, the
//! summary computed from it, and its CSV and JSON forms.
//!
//! The summary is a pure function of the timeline, so the figures a user
//! reads are the ones the tests check. It scores the run against the oracle
//! ([`super::oracle`]): the least replicas that would have met the target.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::capacity::{CapacitySettings, DeploymentStatus};
pub use super::latency_target::{LatencyTarget, parse_target, read_target, second_over_target};
use super::oracle;
use super::shadow::{self, ShadowDecision, ShadowSummary};
use super::traffic::{SecondTraffic, percentile};
use crate::cpa::RunType;

/// One second of the simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecondRecord {
    /// Seconds since the start (this second covers `second` to `second + 1`).
    pub second: u32,
    /// The rate the load profile asks for at the start of the second, requests/s.
    pub offered_requests_per_second: f64,
    /// Background requests sent in this second.
    pub sent: u64,
    /// Background requests not sent because too many were waiting already.
    pub dropped: u64,
    /// Background requests sent in this second that were answered with a 2xx.
    pub succeeded: u64,
    /// Background requests sent in this second that failed or timed out.
    pub failed: u64,
    /// Mean response time of this second's succeeded background requests, ms.
    pub mean_ms: Option<f64>,
    /// 95th percentile response time of the same, ms.
    pub p95_ms: Option<f64>,
    /// The Deployment's replicas (`spec.replicas`) at the start of the second.
    pub replicas: u32,
    /// Replicas serving (started) at the start of the second.
    pub serving_replicas: u32,
    /// Requests waiting for a slot at the start of the second.
    pub queued: u64,
    /// The oracle's replicas for this second's offered rate: the least whose
    /// steady-state statistic meets the target; `None` without a target.
    #[serde(default)]
    pub oracle_replicas: Option<u32>,
}

/// What one CPA interval ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IntervalOutcome {
    /// The replicas were changed.
    Scaled,
    /// The decision kept the replicas as they were.
    Unchanged,
    /// A stage failed or timed out: nothing was scaled.
    Skipped,
    /// The resource had 0 replicas with `minReplicas` above 0.
    Disabled,
    /// A dry run: the decision was only shown.
    DryRun,
}

impl IntervalOutcome {
    /// The outcome as written in CSV and log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            IntervalOutcome::Scaled => "scaled",
            IntervalOutcome::Unchanged => "unchanged",
            IntervalOutcome::Skipped => "skipped",
            IntervalOutcome::Disabled => "disabled",
            IntervalOutcome::DryRun => "dryRun",
        }
    }

    /// Did the interval decide a replica count (applied or, on a dry run,
    /// only shown)?
    pub fn decided(self) -> bool {
        matches!(
            self,
            IntervalOutcome::Scaled | IntervalOutcome::Unchanged | IntervalOutcome::DryRun
        )
    }
}

/// One CPA interval: the metric stage, the evaluate stage, the scaling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntervalRecord {
    /// When the interval began, seconds since the start.
    pub at_seconds: f64,
    /// The profile's rate when it began, requests/s.
    pub offered_requests_per_second: f64,
    /// `spec.replicas` handed to the stages.
    pub replicas: u32,
    /// Replicas serving when the interval began (the rest were starting).
    pub serving_replicas: u32,
    /// The Deployment's `status` handed to both stages in `resource.status`.
    pub status: DeploymentStatus,
    /// Mean latency the metric stage measured, ms (from its report).
    pub measured_mean_ms: Option<f64>,
    /// 95th percentile latency the metric stage measured, ms.
    pub measured_p95_ms: Option<f64>,
    /// `targetReplicas` the evaluate stage printed.
    pub evaluated_replicas: Option<i32>,
    /// Replicas after the CPA's clamping and stabilization (the decision).
    pub decided_replicas: Option<u32>,
    /// What the interval ended in.
    pub outcome: IntervalOutcome,
    /// Why: the evaluate stage's explanation, or what failed.
    pub reason: String,
    /// Wall time of the metric stage, seconds.
    pub metric_seconds: Option<f64>,
    /// Wall time of the evaluate stage, seconds.
    pub evaluate_seconds: Option<f64>,
    /// With `gooseEarlyStop=shadow` only: what early stop would have
    /// decided on the same samples (see [`super::shadow`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stop_shadow: Option<ShadowDecision>,
    /// The metric stage's `load.queryValue`: what the evaluation config's
    /// Prometheus query read (requests/s with `--prometheus`'s built-in
    /// query). Absent without a query, or when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_query_value: Option<f64>,
    /// The report's `load.cpuUtilization`: the CPU per pod over its request
    /// from the `kubernetesMetrics` the CPA gathered before the metric stage
    /// ran (a fraction, up to 2.0 with the simulated 50m request and 100m
    /// limit); absent when there were none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_utilization: Option<f64>,
}

/// The background traffic's totals over the whole run (the summary's
/// `requests`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficTotals {
    /// Requests sent.
    pub sent: u64,
    /// Requests answered with a 2xx.
    pub succeeded: u64,
    /// Requests that failed or timed out.
    pub failed: u64,
    /// Requests not sent because too many were waiting.
    pub dropped: u64,
    /// Mean response time of the succeeded requests, ms, to 0.1 ms.
    pub mean_ms: Option<f64>,
    /// 95th percentile response time of the succeeded requests, ms, to 0.1 ms.
    pub p95_ms: Option<f64>,
}

/// The files a simulation wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputFiles {
    /// The chart of load, replicas and latency over time (SVG).
    pub chart: PathBuf,
    /// One row per second (CSV).
    pub seconds_csv: PathBuf,
    /// One row per CPA interval (CSV).
    pub intervals_csv: PathBuf,
    /// Both tables and the summary (JSON).
    pub timeline_json: PathBuf,
}

/// The summary of a simulation: what `gpa simulate` prints on stdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Length of the load profile, seconds, to 0.1 s.
    pub profile_seconds: f64,
    /// Wall time of the whole simulation, seconds, to 0.1 s.
    pub run_seconds: f64,
    /// The run type handed to the stages: `scaler`, `api` or `api_dry_run`.
    pub run_type: RunType,
    /// CPA intervals run.
    pub intervals: u32,
    /// Intervals in which a stage failed or timed out (nothing scaled).
    pub skipped_intervals: u32,
    /// Intervals that decided a replica count (scaled, unchanged or a dry
    /// run). With none, the summary makes no claim about the target:
    /// `replicaSecondsRatio`, `secondsOverTarget` and `reactionSeconds` are
    /// `null`.
    pub decided_intervals: u32,
    /// True when SIGINT or SIGTERM ended the run before its profile did:
    /// every figure covers only the seconds run.
    pub interrupted: bool,
    /// The signal that ended the run early, `SIGINT` or `SIGTERM`; `null`
    /// for a run that finished its profile.
    pub interrupted_by: Option<super::interrupt::Interruption>,
    /// Changes of the replica count.
    pub scale_events: u32,
    /// Changes upwards.
    pub scale_ups: u32,
    /// Changes downwards.
    pub scale_downs: u32,
    /// Replicas at the start.
    pub initial_replicas: u32,
    /// Most replicas at any time.
    pub peak_replicas: u32,
    /// Replicas at the end.
    pub final_replicas: u32,
    /// Replicas (serving or starting) summed over time, replica-seconds (to
    /// 0.1): what the run would have cost.
    pub replica_seconds: f64,
    /// The oracle's replicas summed over the seconds of the profile,
    /// replica-seconds (to 0.1): the least the target allowed (see
    /// [`oracle`]); `None` without a target.
    pub oracle_replica_seconds: Option<f64>,
    /// `replicaSeconds / oracleReplicaSeconds`, to 0.01; `None` without an
    /// oracle.
    pub replica_seconds_ratio: Option<f64>,
    /// The replica-seconds of the oracle whose decays wait for the metrics
    /// window (to 0.1; see [`oracle::windowed`]): the least a rule that
    /// decays only as far as its latest CPU sample allows can spend. Its
    /// excess over `oracleReplicaSeconds` is the window's price, which no
    /// rule on the CPU avoids; `None` without a target.
    pub window_oracle_replica_seconds: Option<f64>,
    /// The evaluation config target the background traffic was judged on.
    pub target: Option<LatencyTarget>,
    /// Seconds in which the background traffic missed that target (see
    /// [`second_over_target`]); `None` without a target the simulator can judge.
    pub seconds_over_target: Option<u32>,
    /// Seconds from the first second over target to the first second after
    /// it back under (to the end if it never recovered); `None` if no second
    /// was over target, or without a target.
    pub reaction_seconds: Option<u32>,
    /// Changes of direction of the replica count (an up then a down, or a
    /// down then an up) within [`REVERSAL_WINDOW`] intervals of each other.
    pub reversals: u32,
    /// With `gooseEarlyStop=shadow` only: how often early stop's decision,
    /// judged on the same samples, agrees with the full-length run's (see
    /// [`super::shadow`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stop_shadow: Option<ShadowSummary>,
    /// The background traffic's totals.
    pub requests: TrafficTotals,
    /// The files written.
    pub files: OutputFiles,
}

/// The whole record of a run, as written to `timeline.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    /// The summary (also printed on stdout).
    pub summary: Summary,
    /// One record per second.
    pub seconds: Vec<SecondRecord>,
    /// One record per CPA interval.
    pub intervals: Vec<IntervalRecord>,
}

/// What a run recorded, as [`summarize`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct Recording<'a> {
    /// The run type handed to the stages.
    pub run_type: RunType,
    /// The CPA intervals.
    pub intervals: &'a [IntervalRecord],
    /// Replica changes: `(seconds since start, replicas from then on)`, the
    /// first at 0 with the initial replicas.
    pub changes: &'a [(f64, u32)],
    /// The background traffic, second by second.
    pub traffic: &'a [SecondTraffic],
    /// The target the traffic is judged on.
    pub target: Option<&'a LatencyTarget>,
    /// The oracle's replicas for each second of the profile (see
    /// [`oracle_replicas`]); empty without a target.
    pub oracle: &'a [u32],
    /// The oracle whose decays wait for the metrics window, per second
    /// (see [`oracle::windowed`]); empty without a target.
    pub window_oracle: &'a [u32],
    /// Length of the load profile, seconds.
    pub end_seconds: f64,
    /// Wall time of the whole run, seconds.
    pub run_seconds: f64,
}

/// `value` to one decimal, as the summary prints its figures.
fn tenths(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Intervals within which a turn of the replica count is a reversal.
pub const REVERSAL_WINDOW: usize = 3;

/// The oracle's replicas for each of `rates` (the offered rate of each
/// second, requests/s) under `target` and `capacity`.
pub fn oracle_replicas(
    target: &LatencyTarget,
    rates: &[f64],
    capacity: &CapacitySettings,
) -> Vec<u32> {
    rates
        .iter()
        .map(|rate| oracle::least_replicas(target.kind, target.target, *rate, capacity))
        .collect()
}

/// The oracle whose decays wait for a metrics window of `window_seconds`
/// ([`oracle::windowed`]) over `oracle` (its per-second replicas) and
/// `rates`.
pub fn window_oracle_replicas(
    target: &LatencyTarget,
    oracle: &[u32],
    rates: &[f64],
    capacity: &CapacitySettings,
    window_seconds: usize,
) -> Vec<u32> {
    oracle::windowed(oracle, rates, window_seconds, |rate| {
        oracle::least_replicas(target.kind, target.target, rate, capacity)
    })
}

/// Per-second replicas summed up to `end_seconds` (the last second may be
/// a part of one), replica-seconds.
fn per_second_sum(replicas: &[u32], end_seconds: f64) -> f64 {
    replicas
        .iter()
        .enumerate()
        .map(|(second, count)| {
            let from = second as f64;
            let length = ((from + 1.0).min(end_seconds) - from).max(0.0);
            length * f64::from(*count)
        })
        .sum()
}

/// Each interval's index and the replica count it left (the one it scaled
/// to, else the one it found), for [`oracle::reversals`].
fn counts_after(intervals: &[IntervalRecord]) -> Vec<(usize, u32)> {
    intervals
        .iter()
        .enumerate()
        .map(|(index, interval)| {
            let after = match (interval.outcome, interval.decided_replicas) {
                (IntervalOutcome::Scaled, Some(to)) => to,
                _ => interval.replicas,
            };
            (index, after)
        })
        .collect()
}

/// The summary of a recorded run whose files are `files`.
pub fn summarize(run: Recording<'_>, files: OutputFiles) -> Summary {
    let Recording {
        intervals,
        changes,
        traffic,
        ..
    } = run;
    let (scale_ups, scale_downs) = scale_events(changes);
    let over: Option<Vec<bool>> = run.target.map(|target| {
        traffic
            .iter()
            .map(|second| second_over_target(target, second))
            .collect()
    });
    let decided_intervals = intervals.iter().filter(|i| i.outcome.decided()).count() as u32;
    // A run that decided nothing says nothing about how the autoscaler met
    // the target.
    let over = over.filter(|_| decided_intervals > 0);
    let seconds_over_target = over
        .as_ref()
        .map(|over| over.iter().filter(|o| **o).count() as u32);
    let replica_seconds = replica_seconds(changes, run.end_seconds);
    let oracle_replica_seconds = (run.target.is_some() && !run.oracle.is_empty())
        .then(|| per_second_sum(run.oracle, run.end_seconds));
    Summary {
        profile_seconds: tenths(run.end_seconds),
        run_seconds: tenths(run.run_seconds),
        run_type: run.run_type,
        intervals: intervals.len() as u32,
        skipped_intervals: intervals
            .iter()
            .filter(|i| i.outcome == IntervalOutcome::Skipped)
            .count() as u32,
        decided_intervals,
        interrupted: false,
        interrupted_by: None,
        scale_events: scale_ups + scale_downs,
        scale_ups,
        scale_downs,
        initial_replicas: changes.first().map_or(0, |(_, r)| *r),
        peak_replicas: changes.iter().map(|(_, r)| *r).max().unwrap_or(0),
        final_replicas: changes.last().map_or(0, |(_, r)| *r),
        replica_seconds: tenths(replica_seconds),
        oracle_replica_seconds: oracle_replica_seconds.map(tenths),
        window_oracle_replica_seconds: (oracle_replica_seconds.is_some()
            && !run.window_oracle.is_empty())
        .then(|| tenths(per_second_sum(run.window_oracle, run.end_seconds))),
        replica_seconds_ratio: oracle_replica_seconds
            .filter(|oracle| *oracle > 0.0 && decided_intervals > 0)
            .map(|oracle| (replica_seconds / oracle * 100.0).round() / 100.0),
        target: run.target.cloned(),
        seconds_over_target,
        reaction_seconds: over.as_deref().and_then(oracle::reaction_seconds),
        reversals: oracle::reversals(&counts_after(intervals), REVERSAL_WINDOW),
        early_stop_shadow: shadow::summarize(intervals),
        requests: traffic_totals(traffic),
        files,
    }
}

/// The background traffic's totals over all its seconds.
fn traffic_totals(traffic: &[SecondTraffic]) -> TrafficTotals {
    let latencies: Vec<f64> = traffic
        .iter()
        .flat_map(|s| s.latencies_ms.iter().copied())
        .collect();
    TrafficTotals {
        sent: traffic.iter().map(|s| s.sent).sum(),
        succeeded: traffic.iter().map(|s| s.succeeded).sum(),
        failed: traffic.iter().map(|s| s.failed).sum(),
        dropped: traffic.iter().map(|s| s.dropped).sum(),
        mean_ms: (!latencies.is_empty())
            .then(|| tenths(latencies.iter().sum::<f64>() / latencies.len() as f64)),
        p95_ms: percentile(&latencies, 0.95).map(tenths),
    }
}

/// Replica changes: `(seconds since start, replicas from then on)`, the first
/// at 0; integrated up to `end_seconds`.
pub fn replica_seconds(changes: &[(f64, u32)], end_seconds: f64) -> f64 {
    let mut total = 0.0;
    for (i, (at, replicas)) in changes.iter().enumerate() {
        let until = changes
            .get(i + 1)
            .map_or(end_seconds, |(next, _)| *next)
            .min(end_seconds);
        total += (until - at).max(0.0) * f64::from(*replicas);
    }
    total
}

/// Counts scale events in `changes`: (ups, downs).
pub fn scale_events(changes: &[(f64, u32)]) -> (u32, u32) {
    let mut ups = 0;
    let mut downs = 0;
    for pair in changes.windows(2) {
        match pair[1].1.cmp(&pair[0].1) {
            std::cmp::Ordering::Greater => ups += 1,
            std::cmp::Ordering::Less => downs += 1,
            std::cmp::Ordering::Equal => {}
        }
    }
    (ups, downs)
}

fn cell(value: Option<f64>) -> String {
    value.map_or_else(String::new, |v| format!("{v:.3}"))
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The seconds as CSV, with a header row.
pub fn seconds_csv(seconds: &[SecondRecord]) -> String {
    let mut out = String::from(
        "second,offeredRequestsPerSecond,sent,dropped,succeeded,failed,meanMs,p95Ms,replicas,servingReplicas,queued,oracleReplicas\n",
    );
    for s in seconds {
        let _ = writeln!(
            out,
            "{},{:.3},{},{},{},{},{},{},{},{},{},{}",
            s.second,
            s.offered_requests_per_second,
            s.sent,
            s.dropped,
            s.succeeded,
            s.failed,
            cell(s.mean_ms),
            cell(s.p95_ms),
            s.replicas,
            s.serving_replicas,
            s.queued,
            s.oracle_replicas
                .map_or_else(String::new, |v| v.to_string())
        );
    }
    out
}

/// The intervals as CSV, with a header row.
pub fn intervals_csv(intervals: &[IntervalRecord]) -> String {
    let mut out = String::from(
        "atSeconds,offeredRequestsPerSecond,replicas,servingReplicas,measuredMeanMs,measuredP95Ms,evaluatedReplicas,decidedReplicas,outcome,reason,metricSeconds,evaluateSeconds,cpuUtilization,measuredQueryValue\n",
    );
    for i in intervals {
        let _ = writeln!(
            out,
            "{:.3},{:.3},{},{},{},{},{},{},{},{},{},{},{},{}",
            i.at_seconds,
            i.offered_requests_per_second,
            i.replicas,
            i.serving_replicas,
            cell(i.measured_mean_ms),
            cell(i.measured_p95_ms),
            i.evaluated_replicas
                .map_or_else(String::new, |v| v.to_string()),
            i.decided_replicas
                .map_or_else(String::new, |v| v.to_string()),
            i.outcome.as_str(),
            quoted(&i.reason),
            cell(i.metric_seconds),
            cell(i.evaluate_seconds),
            cell(i.cpu_utilization),
            cell(i.measured_query_value)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::TargetKind;

    #[test]
    fn replica_seconds_integrate_the_changes() {
        let changes = [(0.0, 1), (10.0, 3), (20.0, 2)];
        assert_eq!(replica_seconds(&changes, 30.0), 10.0 + 30.0 + 20.0);
        assert_eq!(replica_seconds(&changes, 15.0), 10.0 + 15.0);
        assert_eq!(scale_events(&changes), (1, 1));
        assert_eq!(scale_events(&[(0.0, 2)]), (0, 0));
    }

    fn target(kind: TargetKind, value: f64) -> LatencyTarget {
        LatencyTarget {
            method: "GET".into(),
            endpoint: "/fibonacci?n=10".into(),
            kind,
            target: value,
        }
    }

    #[test]
    fn a_second_misses_its_target_on_latency_failures_or_drops() {
        let latencies = [40.0, 60.0, 200.0];
        let data = |failed, dropped| SecondTraffic {
            latencies_ms: latencies.to_vec(),
            sent: 3 + failed,
            succeeded: 3,
            failed,
            dropped,
        };
        // (target, failed, dropped, over)
        let cases = [
            (target(TargetKind::Mean, 150.0), 0, 0, false),
            (target(TargetKind::Mean, 90.0), 0, 0, true),
            (target(TargetKind::P95, 150.0), 0, 0, true),
            (target(TargetKind::Median, 60.0), 0, 0, false),
            (target(TargetKind::Mean, 150.0), 1, 0, true),
            (target(TargetKind::Mean, 150.0), 0, 1, true),
            (target(TargetKind::ErrorRate, 0.3), 1, 0, false),
            (target(TargetKind::ErrorRate, 0.2), 1, 0, true),
        ];
        for (target, failed, dropped, over) in cases {
            assert_eq!(
                second_over_target(&target, &data(failed, dropped)),
                over,
                "{} {} failed {failed} dropped {dropped}",
                target.kind,
                target.target
            );
        }
    }

    #[test]
    fn the_first_target_of_a_known_type_is_the_one_judged() {
        let config = "targets:\n  - method: GET\n    endpoint: /a\n    type: apdex\n    target: 1\n  \
             - method: GET\n    name: /b\n    type: p95\n    target: 200\n    tolerance: 0.1\n\
             decay:\n  replicas: 1\n";
        assert_eq!(
            parse_target(config),
            Some(LatencyTarget {
                method: "GET".into(),
                endpoint: "/b".into(),
                kind: TargetKind::P95,
                target: 200.0,
            })
        );
        assert_eq!(parse_target("targets: []\n"), None);
        assert_eq!(parse_target("targets: [unclosed\n"), None);
    }

    #[test]
    fn the_summary_counts_the_run_and_rounds_its_figures_to_tenths() {
        let second = |latencies: &[f64], failed| SecondTraffic {
            latencies_ms: latencies.to_vec(),
            sent: latencies.len() as u64 + failed,
            succeeded: latencies.len() as u64,
            failed,
            dropped: 0,
        };
        let traffic = [second(&[10.04, 20.0], 0), second(&[200.0], 1)];
        let changes = [(0.0, 1), (1.2345, 3), (1.9, 2)];
        let target = target(TargetKind::Mean, 100.0);
        let decided = [interval(0, 1, IntervalOutcome::Scaled, 3)];
        let summary = summarize(
            Recording {
                run_type: RunType::Api,
                intervals: &decided,
                changes: &changes,
                traffic: &traffic,
                target: Some(&target),
                oracle: &[1, 2],
                window_oracle: &[],
                end_seconds: 2.0,
                run_seconds: 140.003948921,
            },
            OutputFiles::default(),
        );
        assert_eq!(summary.run_seconds, 140.0);
        assert_eq!(summary.profile_seconds, 2.0);
        // 1.2345 × 1 + 0.6655 × 3 + 0.1 × 2 = 3.4310
        assert_eq!(summary.replica_seconds, 3.4);
        assert_eq!(summary.requests.mean_ms, Some(76.7));
        assert_eq!(summary.requests.p95_ms, Some(200.0));
        assert_eq!(summary.requests.sent, 4);
        assert_eq!(summary.requests.failed, 1);
        assert_eq!(
            (
                summary.initial_replicas,
                summary.peak_replicas,
                summary.final_replicas
            ),
            (1, 3, 2)
        );
        assert_eq!((summary.scale_ups, summary.scale_downs), (1, 1));
        assert_eq!(summary.seconds_over_target, Some(1));
        // Scored against the oracle: 1 + 2 replica-seconds; over target from
        // the second second to the end.
        assert_eq!(summary.oracle_replica_seconds, Some(3.0));
        assert_eq!(summary.replica_seconds_ratio, Some(1.14));
        assert_eq!(summary.reaction_seconds, Some(1));
        assert_eq!(summary.reversals, 0);
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["runType"], "api");
        assert_eq!(json["runSeconds"].to_string(), "140.0");
        assert_eq!(json["decidedIntervals"], 1);
        assert_eq!(json["interrupted"], false);
        assert!(json["interruptedBy"].is_null());

        // The same run with its one interval skipped decided nothing: the
        // summary says nothing of the target.
        let skipped = [interval(0, 1, IntervalOutcome::Skipped, 1)];
        let summary = summarize(
            Recording {
                run_type: RunType::Api,
                intervals: &skipped,
                changes: &changes,
                traffic: &traffic,
                target: Some(&target),
                oracle: &[1, 2],
                window_oracle: &[],
                end_seconds: 2.0,
                run_seconds: 140.0,
            },
            OutputFiles::default(),
        );
        assert_eq!(summary.decided_intervals, 0);
        assert_eq!(summary.seconds_over_target, None);
        assert_eq!(summary.replica_seconds_ratio, None);
        assert_eq!(summary.reaction_seconds, None);
        assert_eq!(summary.oracle_replica_seconds, Some(3.0));
    }

    fn interval(index: usize, replicas: u32, outcome: IntervalOutcome, to: u32) -> IntervalRecord {
        IntervalRecord {
            at_seconds: index as f64 * 5.0,
            offered_requests_per_second: 20.0,
            replicas,
            serving_replicas: replicas,
            status: DeploymentStatus::default(),
            measured_mean_ms: None,
            measured_p95_ms: None,
            evaluated_replicas: Some(to as i32),
            decided_replicas: Some(to),
            outcome,
            reason: String::new(),
            metric_seconds: None,
            evaluate_seconds: None,
            early_stop_shadow: None,
            measured_query_value: None,
            cpu_utilization: None,
        }
    }

    #[test]
    fn the_score_counts_reversals_of_applied_counts_and_the_oracle_s_partial_last_second() {
        use IntervalOutcome::{DryRun, Scaled, Skipped, Unchanged};
        // 1 -> 4 -> 7, then 7 -> 6 two intervals later (a reversal), then a
        // dry run's 2 and a skipped interval, which change nothing.
        let intervals = [
            interval(0, 1, Scaled, 4),
            interval(1, 4, Scaled, 7),
            interval(2, 7, Unchanged, 7),
            interval(3, 7, Scaled, 6),
            interval(4, 6, DryRun, 2),
            interval(5, 6, Skipped, 6),
        ];
        assert_eq!(
            counts_after(&intervals),
            [(0, 4), (1, 7), (2, 7), (3, 6), (4, 6), (5, 6)]
        );
        let target = target(TargetKind::Mean, 100.0);
        let run = Recording {
            run_type: RunType::Scaler,
            intervals: &intervals,
            changes: &[(0.0, 4)],
            traffic: &[],
            target: Some(&target),
            oracle: &[4, 4, 2],
            window_oracle: &[4, 4, 4],
            end_seconds: 2.5,
            run_seconds: 3.0,
        };
        let summary = summarize(run, OutputFiles::default());
        assert_eq!(summary.reversals, 1);
        assert_eq!(summary.oracle_replica_seconds, Some(9.0));
        assert_eq!(summary.window_oracle_replica_seconds, Some(10.0));
        assert_eq!(summary.replica_seconds, 10.0);
        assert_eq!(summary.replica_seconds_ratio, Some(1.11));
        // Never over target: no reaction.
        assert_eq!(summary.reaction_seconds, None);
        // Without a target there is nothing to score against.
        let unscored = summarize(
            Recording {
                target: None,
                oracle: &[],
                window_oracle: &[],
                ..run
            },
            OutputFiles::default(),
        );
        assert_eq!(
            (
                unscored.oracle_replica_seconds,
                unscored.replica_seconds_ratio,
                unscored.reaction_seconds
            ),
            (None, None, None)
        );
    }

    #[test]
    fn csv_rows_follow_the_header_and_quote_reasons() {
        let interval = IntervalRecord {
            at_seconds: 5.0,
            offered_requests_per_second: 20.0,
            replicas: 1,
            serving_replicas: 1,
            status: DeploymentStatus::default(),
            measured_mean_ms: Some(51.25),
            measured_p95_ms: None,
            evaluated_replicas: Some(2),
            decided_replicas: Some(2),
            outcome: IntervalOutcome::Scaled,
            reason: "scale up 1 -> 2: mean \"51\" ms, > 50".into(),
            metric_seconds: Some(2.1),
            evaluate_seconds: Some(0.01),
            early_stop_shadow: None,
            measured_query_value: None,
            cpu_utilization: Some(1.25),
        };
        let csv = intervals_csv(&[interval]);
        let lines: Vec<&str> = csv.lines().collect();
        assert!(
            lines[0].ends_with(",evaluateSeconds,cpuUtilization,measuredQueryValue"),
            "{}",
            lines[0]
        );
        assert_eq!(
            lines[1],
            "5.000,20.000,1,1,51.250,,2,2,scaled,\"scale up 1 -> 2: mean \"\"51\"\" ms, > 50\",2.100,0.010,1.250,"
        );
    }
}
