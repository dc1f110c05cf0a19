//! goose's metrics turned into the [`LatencyReport`]: each request's totals
//! read from goose's histogram, the measured window read from its test
//! plan's history, and the report built from both. Pure functions.

use std::collections::BTreeMap;
use std::time::Duration;

use goose::metrics::{GooseMetrics, GooseRequestMetricAggregate};
use goose::test_plan::{TestPlanHistory, TestPlanStepAction};

use super::failures::{FailureKinds, failure_kinds};
use super::load_test::LoadTestSettings;
use crate::report::{LatencyReport, RequestStats};

/// Totals of one request name, read from goose's histogram (`raw_data`).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestTotals {
    /// HTTP method, upper case.
    pub method: String,
    /// The request's name.
    pub name: String,
    /// Requests made.
    pub count: u64,
    /// Requests that failed.
    pub failures: u64,
    /// Fastest response, µs.
    pub min_us: u64,
    /// Slowest response, µs.
    pub max_us: u64,
    /// Sum of all response times, µs.
    pub total_us: u64,
    /// Percentiles p50, p75, p90, p95, p99 in µs, from goose's buckets.
    pub percentiles_us: [u64; 5],
    /// The failures by kind (see [`super::failures::failure_kind`]).
    pub failure_kinds: FailureKinds,
}

const PERCENTILES: [f32; 5] = [0.5, 0.75, 0.9, 0.95, 0.99];

impl RequestTotals {
    /// Reads one of goose's per-request aggregates.
    pub fn from_goose(aggregate: &GooseRequestMetricAggregate) -> Self {
        let data = &aggregate.raw_data;
        RequestTotals {
            method: aggregate.method_label().to_ascii_uppercase(),
            name: aggregate.path.clone(),
            count: data.counter as u64,
            failures: aggregate.fail_count as u64,
            min_us: data.minimum_time_us,
            max_us: data.maximum_time_us,
            total_us: data.total_time_us,
            percentiles_us: PERCENTILES.map(|p| {
                if data.counter == 0 {
                    0
                } else {
                    data.percentile_us(p)
                }
            }),
            failure_kinds: FailureKinds::default(),
        }
    }
}

/// The measured window: from the start of goose's `Maintaining` step to the
/// start of the step after it. `None` if the history has no complete
/// `Maintaining` step (e.g. the test was stopped during ramp-up).
pub fn measured_window(history: &[TestPlanHistory]) -> Option<Duration> {
    let start = history
        .iter()
        .position(|step| matches!(step.action, TestPlanStepAction::Maintaining))?;
    let next = history.get(start + 1)?;
    (next.timestamp - history[start].timestamp).to_std().ok()
}

/// Builds the report from goose's metrics of a test run with `settings`.
pub fn report_from_metrics(
    metrics: &GooseMetrics,
    current_replicas: u32,
    settings: &LoadTestSettings,
) -> LatencyReport {
    let kinds = failure_kinds(metrics);
    let totals: Vec<RequestTotals> = metrics
        .requests
        .values()
        .map(|aggregate| {
            let mut totals = RequestTotals::from_goose(aggregate);
            let key = (totals.method.clone(), totals.name.clone());
            totals.failure_kinds = kinds.get(&key).copied().unwrap_or_default();
            totals
        })
        .collect();
    let window = measured_window(&metrics.history).unwrap_or(settings.run_time);
    let users = u32::try_from(settings.users).unwrap_or(u32::MAX);
    LatencyReport {
        request_timeout_ms: Some(settings.request_timeout.as_secs_f64() * 1000.0),
        ..latency_report(&totals, window, current_replicas, users)
    }
}

/// The report for `totals` measured over `window`: milliseconds with
/// microsecond resolution, `requestsPerSecond = count / window`.
pub fn latency_report(
    totals: &[RequestTotals],
    window: Duration,
    current_replicas: u32,
    users: u32,
) -> LatencyReport {
    let seconds = window.as_secs_f64();
    let ms = |us: u64| us as f64 / 1000.0;
    let requests: BTreeMap<String, RequestStats> = totals
        .iter()
        .map(|t| {
            let per_count = |value: f64| {
                if t.count == 0 {
                    0.0
                } else {
                    value / t.count as f64
                }
            };
            let [p50, p75, p90, p95, p99] = t.percentiles_us.map(ms);
            let kinds = t.failure_kinds.within(t.failures);
            let stats = RequestStats {
                method: t.method.clone(),
                name: t.name.clone(),
                count: t.count,
                failures: t.failures,
                timeouts: kinds.timeouts,
                connection_errors: kinds.connection_errors,
                status_errors: kinds.status_errors,
                error_rate: per_count(t.failures as f64),
                requests_per_second: if seconds > 0.0 {
                    t.count as f64 / seconds
                } else {
                    0.0
                },
                mean_ms: per_count(ms(t.total_us)),
                median_ms: p50,
                min_ms: if t.count == 0 { 0.0 } else { ms(t.min_us) },
                max_ms: ms(t.max_us),
                p75_ms: p75,
                p90_ms: p90,
                p95_ms: p95,
                p99_ms: p99,
                confidence_intervals: BTreeMap::new(),
            };
            (LatencyReport::key(&t.method, &t.name), stats)
        })
        .collect();
    LatencyReport {
        current_replicas: Some(current_replicas),
        users,
        run_time_seconds: seconds,
        requests,
        request_timeout_ms: None,
        stopped_early: None,
        max_run_time_seconds: None,
        load: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(count: u64, failures: u64) -> RequestTotals {
        RequestTotals {
            method: "GET".into(),
            name: "/fibonacci?n=10".into(),
            count,
            failures,
            min_us: 49_800,
            max_us: 61_234,
            total_us: 50_512 * count,
            percentiles_us: [50_300, 50_800, 51_200, 52_000, 60_001],
            failure_kinds: FailureKinds::default(),
        }
    }

    #[test]
    fn the_report_counts_failures_by_kind_never_more_than_the_failures() {
        let mut kinds = FailureKinds::default();
        kinds.add("error sending request /x: operation timed out", 6);
        kinds.add("error sending request /x: client error (Connect)", 3);
        kinds.add("503 Service Unavailable: /x", 2);
        let report = latency_report(
            &[RequestTotals {
                failure_kinds: kinds,
                ..totals(400, 11)
            }],
            Duration::from_secs(2),
            3,
            10,
        );
        let stats = report.request("GET", "/fibonacci?n=10").unwrap();
        assert_eq!(
            (stats.timeouts, stats.connection_errors, stats.status_errors),
            (6, 3, 2)
        );
        assert_eq!(stats.impossible_figure(), None);
        // Should goose's error table ever hold more than the failures, the
        // kinds are cut down to them, timeouts first.
        assert_eq!(
            kinds.within(7),
            FailureKinds {
                timeouts: 6,
                connection_errors: 1,
                status_errors: 0
            }
        );
    }

    #[test]
    fn the_report_keeps_microseconds_and_divides_by_the_measured_window() {
        let report = latency_report(&[totals(400, 10)], Duration::from_millis(2_004), 3, 10);
        let stats = report.request("GET", "/fibonacci?n=10").unwrap();
        assert_eq!((stats.count, stats.failures), (400, 10));
        assert_eq!(stats.error_rate, 0.025);
        assert!((stats.requests_per_second - 400.0 / 2.004).abs() < 1e-9);
        assert_eq!(stats.mean_ms, 50.512);
        assert_eq!((stats.min_ms, stats.max_ms), (49.8, 61.234));
        assert_eq!(
            [
                stats.median_ms,
                stats.p75_ms,
                stats.p90_ms,
                stats.p95_ms,
                stats.p99_ms
            ],
            [50.3, 50.8, 51.2, 52.0, 60.001]
        );
        assert_eq!(report.run_time_seconds, 2.004);
        assert_eq!((report.current_replicas, report.users), (Some(3), 10));
    }

    #[test]
    fn a_request_name_that_never_ran_reports_zeros_not_nan() {
        let empty = RequestTotals {
            min_us: 0,
            max_us: 0,
            total_us: 0,
            percentiles_us: [0; 5],
            ..totals(0, 0)
        };
        let report = latency_report(&[empty], Duration::ZERO, 1, 1);
        let stats = &report.requests["GET /fibonacci?n=10"];
        assert_eq!(
            (stats.error_rate, stats.requests_per_second, stats.mean_ms),
            (0.0, 0.0, 0.0)
        );
        // serde_json writes NaN as null, which no reader takes for a number:
        // every figure must come back as the number written.
        let json: serde_json::Value = serde_json::to_value(&report).unwrap();
        let figures = json["requests"]["GET /fibonacci?n=10"].as_object().unwrap();
        for (key, value) in figures {
            if !matches!(key.as_str(), "method" | "name") {
                assert_eq!(value.as_f64(), Some(0.0), "{key}: {value}");
            }
        }
        assert_eq!(json["runTimeSeconds"].as_f64(), Some(0.0));
    }

    fn history(steps: &[(&str, &str)]) -> Vec<TestPlanHistory> {
        let json: Vec<_> = steps
            .iter()
            .map(|(action, at)| serde_json::json!({"action": action, "timestamp": at, "users": 10}))
            .collect();
        serde_json::from_value(serde_json::Value::Array(json)).unwrap()
    }

    #[test]
    fn the_window_runs_from_maintaining_to_the_next_step() {
        let steps = history(&[
            ("Increasing", "2026-11-22T05:00:00.000Z"),
            ("Maintaining", "2026-11-22T05:00:00.012Z"),
            ("Decreasing", "2026-11-22T05:00:02.015500Z"),
            ("Finished", "2026-11-22T05:00:02.020Z"),
        ]);
        assert_eq!(
            measured_window(&steps),
            Some(Duration::from_micros(2_003_500))
        );
        let cut_short = history(&[
            ("Increasing", "2026-11-22T05:00:00Z"),
            ("Maintaining", "2026-11-22T05:00:01Z"),
        ]);
        assert_eq!(measured_window(&cut_short), None);
    }
}
