//! Early stop judged on the same samples as the full-length run: with the
//! plugin setting `gooseEarlyStop=shadow`, every metric report carries the
//! report early stop would have printed (`earlyStopShadow`, see
//! [`crate::metric::shadow`]), and each interval decides twice on the same
//! state: once, as a dry run, on the shadow, then for real on the full
//! report ([`super::interval`]). This module holds what an interval
//! records of the shadow and the summary of how often the two decisions
//! agree.

use serde::{Deserialize, Serialize};

use super::timeline::IntervalRecord;
use crate::report::LatencyReport;

/// What early stop would have decided in one interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShadowDecision {
    /// True when early stop would have ended the test before its run time.
    pub stopped_early: bool,
    /// The shadow report's measured window, seconds: where early stop would
    /// have stopped, else the full window.
    pub run_time_seconds: f64,
    /// The full report's measured window, seconds.
    pub full_run_time_seconds: f64,
    /// `targetReplicas` the evaluate stage printed on the shadow report (a
    /// dry run, on the same state as the interval's real run); `None` when
    /// it failed.
    pub evaluated_replicas: Option<i32>,
    /// The dry run's explanation, or why it failed.
    pub reason: String,
    /// True when `evaluatedReplicas` is the interval's own (both failing
    /// counts as agreeing: neither would have scaled).
    pub agrees: bool,
}

/// The metric stdout's keys shadow mode adds to, or reads from, the report.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShadowedStdout {
    #[serde(default)]
    run_time_seconds: f64,
    #[serde(default)]
    early_stop_shadow: Option<LatencyReport>,
}

/// The shadow report in the metric stage's `stdout`, with the full
/// report's `runTimeSeconds`; `None` without one (shadow mode off, or no
/// report).
pub fn shadow_of(stdout: &str) -> Option<(LatencyReport, f64)> {
    let read: ShadowedStdout = serde_json::from_str(stdout.trim()).ok()?;
    Some((read.early_stop_shadow?, read.run_time_seconds))
}

/// How often early stop's decisions agree with the full-length run's, over
/// the intervals that carried a shadow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShadowSummary {
    /// Intervals whose metric report carried a shadow: each decided twice.
    pub intervals: u32,
    /// Of them, those whose two decisions (`targetReplicas`) agree.
    pub agreeing: u32,
    /// `agreeing / intervals`, a fraction to 0.001.
    pub agreement: f64,
    /// Of them, those early stop would have ended early.
    pub stopped_early: u32,
    /// Median of the shadows' measured windows, seconds to 0.01: how long
    /// the metric stage's test would have run with early stop.
    pub median_run_time_seconds: f64,
    /// Median of the full reports' measured windows over the same
    /// intervals, seconds to 0.01.
    pub median_full_run_time_seconds: f64,
}

/// The summary of the shadows of `intervals`; `None` when none had one.
pub fn summarize(intervals: &[IntervalRecord]) -> Option<ShadowSummary> {
    let shadows: Vec<&ShadowDecision> = intervals
        .iter()
        .filter_map(|interval| interval.early_stop_shadow.as_ref())
        .collect();
    if shadows.is_empty() {
        return None;
    }
    let count = |keep: fn(&ShadowDecision) -> bool| {
        shadows.iter().filter(|shadow| keep(shadow)).count() as u32
    };
    let median = |figure: fn(&ShadowDecision) -> f64| {
        let values: Vec<f64> = shadows.iter().map(|shadow| figure(shadow)).collect();
        (median(&values) * 100.0).round() / 100.0
    };
    let agreeing = count(|shadow| shadow.agrees);
    Some(ShadowSummary {
        intervals: shadows.len() as u32,
        agreeing,
        agreement: (f64::from(agreeing) / shadows.len() as f64 * 1000.0).round() / 1000.0,
        stopped_early: count(|shadow| shadow.stopped_early),
        median_run_time_seconds: median(|shadow| shadow.run_time_seconds),
        median_full_run_time_seconds: median(|shadow| shadow.full_run_time_seconds),
    })
}

/// The median of `values` (the mean of the middle two of an even count);
/// 0 when empty.
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::capacity::DeploymentStatus;
    use crate::simulate::timeline::IntervalOutcome;

    fn interval(shadow: Option<(bool, f64, bool)>) -> IntervalRecord {
        IntervalRecord {
            at_seconds: 15.0,
            offered_requests_per_second: 20.0,
            replicas: 1,
            serving_replicas: 1,
            status: DeploymentStatus::default(),
            measured_mean_ms: None,
            measured_p95_ms: None,
            evaluated_replicas: Some(1),
            decided_replicas: Some(1),
            outcome: IntervalOutcome::Unchanged,
            reason: String::new(),
            metric_seconds: None,
            evaluate_seconds: None,
            early_stop_shadow: shadow.map(|(stopped_early, run_time_seconds, agrees)| {
                ShadowDecision {
                    stopped_early,
                    run_time_seconds,
                    full_run_time_seconds: 10.0,
                    evaluated_replicas: Some(if agrees { 1 } else { 4 }),
                    reason: String::new(),
                    agrees,
                }
            }),
            measured_query_value: None,
            cpu_utilization: None,
        }
    }

    #[test]
    fn the_summary_counts_only_intervals_with_a_shadow() {
        assert_eq!(summarize(&[interval(None)]), None);
        let intervals = [
            interval(Some((true, 2.5, true))),
            interval(None),
            interval(Some((true, 3.1, false))),
            interval(Some((false, 10.0, true))),
            interval(Some((true, 2.7, true))),
        ];
        let summary = summarize(&intervals).unwrap();
        assert_eq!(
            summary,
            ShadowSummary {
                intervals: 4,
                agreeing: 3,
                agreement: 0.75,
                stopped_early: 3,
                median_run_time_seconds: 2.9,
                median_full_run_time_seconds: 10.0,
            }
        );
    }

    #[test]
    fn the_shadow_is_read_from_the_metric_stdout_when_there_is_one() {
        let report = r#"{"users": 8, "runTimeSeconds": 10.2, "requests": {}}"#;
        assert_eq!(shadow_of(report), None);
        assert_eq!(shadow_of("not json"), None);
        let shadowed = r#"{"users": 8, "runTimeSeconds": 10.2, "requests": {},
            "earlyStopShadow": {"users": 8, "runTimeSeconds": 2.5, "requests": {}, "stoppedEarly": true}}"#;
        let (shadow, full) = shadow_of(shadowed).unwrap();
        assert_eq!(
            (shadow.run_time_seconds, shadow.stopped_early, full),
            (2.5, Some(true), 10.2)
        );
    }
}
