//! What a simulation recorded, second by second and interval by interval, the
//! summary computed from it, and its CSV and JSON forms.
//!
//! The summary is a pure function of the timeline, so the figures a user
//! reads are the ones the tests check.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::traffic::{SecondTraffic, percentile};

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
}

/// A latency target read from the evaluation config, used to judge the
/// background traffic second by second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencyTarget {
    /// The target's `method`.
    pub method: String,
    /// The target's `endpoint` (or `name`): the request's name in the report.
    #[serde(alias = "name")]
    pub endpoint: String,
    /// The statistic: `mean`, `median`, `min`, `max`, `p50`..`p99` or `errorRate`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The target value: milliseconds, or a fraction for `errorRate`.
    pub target: f64,
}

impl LatencyTarget {
    /// This target's statistic over one second of background traffic; `None`
    /// for a statistic the simulator cannot compute or a second with no data.
    pub fn value(&self, second: &SecondTraffic) -> Option<f64> {
        let latencies = &second.latencies_ms;
        let answered = second.succeeded + second.failed;
        match self.kind.as_str() {
            "mean" => (!latencies.is_empty())
                .then(|| latencies.iter().sum::<f64>() / latencies.len() as f64),
            "median" | "p50" => percentile(latencies, 0.5),
            "p75" => percentile(latencies, 0.75),
            "p90" => percentile(latencies, 0.9),
            "p95" => percentile(latencies, 0.95),
            "p99" => percentile(latencies, 0.99),
            "max" => percentile(latencies, 1.0),
            "min" => percentile(latencies, 0.0),
            "errorRate" => (answered > 0).then(|| second.failed as f64 / answered as f64),
            _ => None,
        }
    }

    /// Whether the simulator can judge traffic against this target.
    pub fn is_computable(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "mean" | "median" | "min" | "max" | "p50" | "p75" | "p90" | "p95" | "p99" | "errorRate"
        )
    }
}

/// Whether one second of background traffic missed `target`: its statistic
/// is above the target, or some of its requests failed or were dropped.
pub fn second_over_target(target: &LatencyTarget, second: &SecondTraffic) -> bool {
    let missed_requests = second.dropped > 0 || (second.failed > 0 && target.kind != "errorRate");
    missed_requests
        || target
            .value(second)
            .is_some_and(|value| value > target.target)
}

/// Background request totals over the whole run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestTotals {
    /// Requests sent.
    pub sent: u64,
    /// Requests answered with a 2xx.
    pub succeeded: u64,
    /// Requests that failed or timed out.
    pub failed: u64,
    /// Requests not sent because too many were waiting.
    pub dropped: u64,
    /// Mean response time of the succeeded requests, ms.
    pub mean_ms: Option<f64>,
    /// 95th percentile response time of the succeeded requests, ms.
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
    /// Length of the load profile, seconds.
    pub profile_seconds: f64,
    /// Wall time of the whole simulation, seconds.
    pub run_seconds: f64,
    /// The run type handed to the stages: `scaler`, `api` or `api_dry_run`.
    pub run_type: String,
    /// CPA intervals run.
    pub intervals: u32,
    /// Intervals in which a stage failed or timed out (nothing scaled).
    pub skipped_intervals: u32,
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
    /// Replicas (serving or starting) summed over time, replica-seconds: what
    /// the run would have cost.
    pub replica_seconds: f64,
    /// The evaluation config target the background traffic was judged on.
    pub target: Option<LatencyTarget>,
    /// Seconds in which the background traffic missed that target (see
    /// [`second_over_target`]); `None` without a target the simulator can judge.
    pub seconds_over_target: Option<u32>,
    /// The background traffic's totals.
    pub requests: RequestTotals,
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
        "second,offeredRequestsPerSecond,sent,dropped,succeeded,failed,meanMs,p95Ms,replicas,servingReplicas,queued\n",
    );
    for s in seconds {
        let _ = writeln!(
            out,
            "{},{:.3},{},{},{},{},{},{},{},{},{}",
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
            s.queued
        );
    }
    out
}

/// The intervals as CSV, with a header row.
pub fn intervals_csv(intervals: &[IntervalRecord]) -> String {
    let mut out = String::from(
        "atSeconds,offeredRequestsPerSecond,replicas,servingReplicas,measuredMeanMs,measuredP95Ms,evaluatedReplicas,decidedReplicas,outcome,reason,metricSeconds,evaluateSeconds\n",
    );
    for i in intervals {
        let _ = writeln!(
            out,
            "{:.3},{:.3},{},{},{},{},{},{},{},{},{},{}",
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
            cell(i.evaluate_seconds)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_seconds_integrate_the_changes() {
        let changes = [(0.0, 1), (10.0, 3), (20.0, 2)];
        assert_eq!(replica_seconds(&changes, 30.0), 10.0 + 30.0 + 20.0);
        assert_eq!(replica_seconds(&changes, 15.0), 10.0 + 15.0);
        assert_eq!(scale_events(&changes), (1, 1));
        assert_eq!(scale_events(&[(0.0, 2)]), (0, 0));
    }

    fn target(kind: &str, value: f64) -> LatencyTarget {
        LatencyTarget {
            method: "GET".into(),
            endpoint: "/fibonacci?n=10".into(),
            kind: kind.into(),
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
            (target("mean", 150.0), 0, 0, false),
            (target("mean", 90.0), 0, 0, true),
            (target("p95", 150.0), 0, 0, true),
            (target("median", 60.0), 0, 0, false),
            (target("mean", 150.0), 1, 0, true),
            (target("mean", 150.0), 0, 1, true),
            (target("errorRate", 0.3), 1, 0, false),
            (target("errorRate", 0.2), 1, 0, true),
            (target("apdex", 1.0), 0, 0, false),
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
        assert!(!target("apdex", 1.0).is_computable());
    }

    #[test]
    fn csv_rows_follow_the_header_and_quote_reasons() {
        let interval = IntervalRecord {
            at_seconds: 5.0,
            offered_requests_per_second: 20.0,
            replicas: 1,
            serving_replicas: 1,
            measured_mean_ms: Some(51.25),
            measured_p95_ms: None,
            evaluated_replicas: Some(2),
            decided_replicas: Some(2),
            outcome: IntervalOutcome::Scaled,
            reason: "scale up 1 -> 2: mean \"51\" ms, > 50".into(),
            metric_seconds: Some(2.1),
            evaluate_seconds: Some(0.01),
        };
        let csv = intervals_csv(&[interval]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[1],
            "5.000,20.000,1,1,51.250,,2,2,scaled,\"scale up 1 -> 2: mean \"\"51\"\" ms, > 50\",2.100,0.010"
        );
    }
}
