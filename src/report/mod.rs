//! The latency report: the one JSON document `gpa-metric` prints and
//! `gpa-evaluate` reads.
//!
//! It is defined once here so the two stages can never disagree on its shape.
//! Keys are camelCase like the CPA's own JSON, and every figure carries its unit
//! in its name. Fields may be added in later versions; none may change meaning,
//! so readers ignore keys they do not know.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

mod load;
mod verdict;

pub use load::{CpuLoad, Load};
pub use verdict::{Trend, Verdict};

/// One load test's results: what `gpa-metric` prints on stdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencyReport {
    /// Replicas of the managed resource when the load test ran (`spec.replicas`).
    /// Always written by `gpa-metric`; a hand-made report may leave it out, and
    /// `gpa-evaluate` then takes the resource's `spec.replicas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_replicas: Option<u32>,
    /// Simulated users (goose users) that ran the load test; 0 when no test ran.
    #[serde(default)]
    pub users: u32,
    /// Length of the measured window in seconds (after ramp-up), measured from
    /// goose's own timeline, not rounded to whole seconds; 0 when no test ran.
    #[serde(default)]
    pub run_time_seconds: f64,
    /// Results per request, keyed `"<METHOD> <name>"`, e.g. `"GET /fibonacci?n=10"`.
    pub requests: BTreeMap<String, RequestStats>,
    /// The probe's per-request timeout, milliseconds: a request without a
    /// response by then counts in `timeouts`. Optional; when absent, the
    /// evaluate stage takes a saturated target's `maxMs` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout_ms: Option<f64>,
    /// Present when early stop watched the run (an evaluation config was
    /// read and `gooseEarlyStop` is not false): true when the test ended
    /// before `maxRunTimeSeconds` because every target's verdict held at
    /// the stated confidence. Absent in reports without early stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_early: Option<bool>,
    /// The longest the measured window could have lasted (`gooseRunTime`),
    /// seconds. Written with `stoppedEarly`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_run_time_seconds: Option<f64>,
    /// The service's load as the platform measured it before the probe ran
    /// (see [`crate::metric::load`]): present when the CPA's
    /// `kubernetesMetrics` carried a cpu metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<Load>,
}

/// What `gpa-metric` prints: the report, and in shadow mode
/// (`gooseEarlyStop: "shadow"`) the report early stop would have printed.
/// Without the shadow it is written exactly as the [`LatencyReport`] alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportWithShadow {
    /// The report of the whole run, its keys at the top level.
    #[serde(flatten)]
    pub report: LatencyReport,
    /// Shadow mode only, a benchmarking aid: the report early stop would
    /// have printed, judged on the same samples as `report`, holding the
    /// targeted requests only. `stoppedEarly` true: every verdict held
    /// after its `runTimeSeconds` (figures from the samples seen by then);
    /// false: early stop would have run the whole time, and the figures are
    /// `report`'s. The evaluate stage ignores this field; `gpa simulate`
    /// decides on it too, as a dry run, to measure how often early stop
    /// changes a decision (see [`crate::metric::shadow`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stop_shadow: Option<LatencyReport>,
}

impl From<LatencyReport> for ReportWithShadow {
    fn from(report: LatencyReport) -> Self {
        ReportWithShadow {
            report,
            early_stop_shadow: None,
        }
    }
}

/// The confidence interval of one targeted statistic, and its verdict
/// against the target's limit (see [`crate::metric::verdict`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfidenceInterval {
    /// The confidence level, a fraction (0.95 for 95 %).
    pub confidence: f64,
    /// Lower bound, in the statistic's unit (milliseconds; a fraction for
    /// `errorRate`). Absent when the samples give no lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    /// Upper bound, same unit. Absent when the samples give no upper bound
    /// (a high percentile of few samples, or `max`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    /// The target's limit, `target × (1 + tolerance)`, same unit.
    pub limit: f64,
    /// `missed` (the whole interval above the limit), `met` (at or below
    /// it) or `undecided` (the limit inside the interval, or a `mean` or
    /// percentile whose response times still rose or fell at the end).
    pub verdict: Verdict,
    /// Which way the statistic's response times moved during the test:
    /// `rising` (a queue growing), `falling` (a queue draining) or
    /// `steady`, by the slope of the mean's batches at `confidence`.
    /// Absent for `min`, `max` and `errorRate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<Trend>,
}

/// Results of one request name in one load test.
///
/// Latencies are goose's response times (time to the response headers) in
/// milliseconds with microsecond resolution, over every request made, failed
/// or not. Count, min, max and mean are exact; percentiles are nearest-rank
/// within goose's histogram bucket precision (under 0.8 %).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestStats {
    /// HTTP method, upper case (`GET`, `POST`, ...).
    pub method: String,
    /// The request's name: its path with the query unless the scenario names it.
    pub name: String,
    /// Requests made in the measured window.
    pub count: u64,
    /// Requests that failed: no response, a timeout, or an unexpected status.
    pub failures: u64,
    /// Failed requests that got no response within the request timeout
    /// (`requestTimeoutMs`): the service is saturated. Part of `failures`;
    /// 0 in reports written before the breakdown existed.
    #[serde(default)]
    pub timeouts: u64,
    /// Failed requests that could not reach the service: connection refused
    /// or reset, a DNS or TLS failure. Part of `failures`; default 0.
    #[serde(default)]
    pub connection_errors: u64,
    /// Failed requests answered with an unexpected HTTP status. Part of
    /// `failures`; default 0.
    #[serde(default)]
    pub status_errors: u64,
    /// `failures / count`, a fraction from 0 to 1 (0 when `count` is 0).
    pub error_rate: f64,
    /// `count` divided by `runTimeSeconds`, in requests per second.
    pub requests_per_second: f64,
    /// Arithmetic mean response time, milliseconds.
    pub mean_ms: f64,
    /// Median (50th percentile) response time, milliseconds.
    pub median_ms: f64,
    /// Fastest response time, milliseconds.
    pub min_ms: f64,
    /// Slowest response time, milliseconds.
    pub max_ms: f64,
    /// 75th percentile response time, milliseconds.
    pub p75_ms: f64,
    /// 90th percentile response time, milliseconds.
    pub p90_ms: f64,
    /// 95th percentile response time, milliseconds.
    pub p95_ms: f64,
    /// 99th percentile response time, milliseconds.
    pub p99_ms: f64,
    /// With early stop: the confidence interval of each statistic a target
    /// names for this request, keyed by the target's `type` (`mean`, `p95`,
    /// `errorRate`, ...). Absent otherwise.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub confidence_intervals: BTreeMap<String, ConfidenceInterval>,
}

impl LatencyReport {
    /// The report of an interval in which no load test ran (0 replicas).
    pub fn empty(current_replicas: u32) -> Self {
        LatencyReport {
            current_replicas: Some(current_replicas),
            users: 0,
            run_time_seconds: 0.0,
            requests: BTreeMap::new(),
            request_timeout_ms: None,
            stopped_early: None,
            max_run_time_seconds: None,
            load: None,
        }
    }

    /// `decided after 2.4 s of 20 s` when the run stopped early, for the
    /// evaluate stage's decision line; `None` otherwise.
    pub fn early_stop_note(&self) -> Option<String> {
        if self.stopped_early != Some(true) {
            return None;
        }
        let cap = self
            .max_run_time_seconds
            .map(|cap| format!(" of {cap:.0} s"))
            .unwrap_or_default();
        Some(format!("decided after {:.1} s{cap}", self.run_time_seconds))
    }

    /// The key under which a request's results are stored: `"<METHOD> <name>"`
    /// with the method in upper case.
    pub fn key(method: &str, name: &str) -> String {
        format!("{} {}", method.to_ascii_uppercase(), name)
    }

    /// Looks a request up by method (any case) and name.
    pub fn request(&self, method: &str, name: &str) -> Option<&RequestStats> {
        self.requests.get(&Self::key(method, name))
    }

    /// The probe's whole request rate: every request's `requestsPerSecond`
    /// summed, requests per second.
    pub fn requests_per_second(&self) -> f64 {
        self.requests
            .values()
            .map(|request| request.requests_per_second)
            .sum()
    }
}

/// Relative slack allowed when comparing figures that should be in order:
/// percentiles come from histogram buckets (goose's are within 0.8 %), and a
/// hand-made report may round.
const ROUNDING: f64 = 0.01;

impl RequestStats {
    /// The first figure that cannot be true, as (its key, what is wrong and
    /// what was expected): a negative or non-finite value, more failures than
    /// requests, fewer failures than timeouts, connection errors and status
    /// errors together, an error rate above 1, a minimum above the maximum,
    /// or the mean and percentiles out of order beyond rounding.
    pub fn impossible_figure(&self) -> Option<(&'static str, String)> {
        let latencies = [
            ("minMs", self.min_ms),
            ("medianMs", self.median_ms),
            ("p75Ms", self.p75_ms),
            ("p90Ms", self.p90_ms),
            ("p95Ms", self.p95_ms),
            ("p99Ms", self.p99_ms),
            ("maxMs", self.max_ms),
        ];
        let figures = [
            ("errorRate", self.error_rate),
            ("requestsPerSecond", self.requests_per_second),
            ("meanMs", self.mean_ms),
        ];
        let negative = figures
            .into_iter()
            .chain(latencies)
            .find_map(|(key, value)| {
                (!(value.is_finite() && value >= 0.0)).then(|| {
                    (
                        key,
                        format!("'{value}' is impossible; expected a finite figure of 0 or more"),
                    )
                })
            });
        negative.or_else(|| self.out_of_order(&latencies))
    }

    /// The first count or figure out of order, beyond rounding for the
    /// figures that may be rounded.
    fn out_of_order(&self, latencies: &[(&'static str, f64); 7]) -> Option<(&'static str, String)> {
        if self.failures > self.count {
            let (failures, count) = (self.failures, self.count);
            return Some((
                "failures",
                format!("'{failures}' is above count '{count}'; expected at most count"),
            ));
        }
        let kinds = self
            .timeouts
            .saturating_add(self.connection_errors)
            .saturating_add(self.status_errors);
        if kinds > self.failures {
            return Some((
                "failures",
                format!(
                    "'{}' is below timeouts + connectionErrors + statusErrors '{kinds}'; expected at least their sum (each is a kind of failure)",
                    self.failures
                ),
            ));
        }
        if self.error_rate > 1.0 {
            return Some((
                "errorRate",
                format!(
                    "'{}' is above 1; expected a fraction from 0 to 1",
                    self.error_rate
                ),
            ));
        }
        if self.min_ms > self.max_ms {
            return Some((
                "minMs",
                format!(
                    "'{}' is above maxMs '{}'; expected minMs <= maxMs",
                    self.min_ms, self.max_ms
                ),
            ));
        }
        let beyond_rounding = |low: f64, high: f64| low > high * (1.0 + ROUNDING) + 0.001;
        if beyond_rounding(self.min_ms, self.mean_ms) || beyond_rounding(self.mean_ms, self.max_ms)
        {
            return Some((
                "meanMs",
                format!(
                    "'{}' is outside minMs '{}' to maxMs '{}'; expected minMs <= meanMs <= maxMs",
                    self.mean_ms, self.min_ms, self.max_ms
                ),
            ));
        }
        latencies.windows(2).find_map(|pair| {
            let [(low_key, low), (key, value)] = [pair[0], pair[1]];
            beyond_rounding(low, value).then(|| {
                (key, format!(
                    "'{value}' is below {low_key} '{low}'; expected minMs <= medianMs <= p75Ms <= p90Ms <= p95Ms <= p99Ms <= maxMs (within rounding)"
                ))
            })
        })
    }
}

/// The request names a report holds, for messages: the first
/// [`RequestNames::SHOWN`] and how many in all, so that a report with
/// thousands of names still gives a one-line error of bounded length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestNames {
    /// The first names, in report order.
    pub first: Vec<String>,
    /// How many names the report holds.
    pub total: usize,
}

impl RequestNames {
    /// How many names a message lists.
    pub const SHOWN: usize = 20;

    /// Counts `name`, and keeps it if it is among the first.
    pub fn push(&mut self, name: &str) {
        if self.first.len() < Self::SHOWN {
            self.first.push(name.to_owned());
        }
        self.total += 1;
    }

    /// The names of `report`'s requests.
    pub fn of(report: &LatencyReport) -> Self {
        let mut names = RequestNames::default();
        for key in report.requests.keys() {
            names.push(key);
        }
        names
    }
}

impl fmt::Display for RequestNames {
    /// `none`, `GET /a, GET /b`, or `GET /a, ... and 99980 more`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.total == 0 {
            return f.write_str("none");
        }
        f.write_str(&self.first.join(", "))?;
        match self.total - self.first.len() {
            0 => Ok(()),
            more => write!(f, " and {more} more"),
        }
    }
}

/// Which requests of a report to decode: every one, or only those under the
/// given keys (`"<METHOD> <name>"`); the others are skipped unread, so a
/// report with many names costs little more than its bytes.
#[derive(Debug, Clone, Copy)]
pub enum Keep<'a> {
    /// Every request.
    All,
    /// Only the requests under these keys.
    Only(&'a [String]),
}

/// A report as read: the requests kept, and the names of every request.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadReport {
    /// The report, holding only the requests kept.
    pub report: LatencyReport,
    /// Every request name the report held, kept or not.
    pub names: RequestNames,
}

impl<'de> DeserializeSeed<'de> for Keep<'_> {
    type Value = ReadReport;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ReadReport, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Keep<'_> {
    type Value = ReadReport;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a latency report object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ReadReport, A::Error> {
        let mut report = LatencyReport::empty(0);
        report.current_replicas = None;
        let mut names = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "currentReplicas" => report.current_replicas = map.next_value()?,
                "users" => report.users = map.next_value()?,
                "runTimeSeconds" => report.run_time_seconds = map.next_value()?,
                "requestTimeoutMs" => report.request_timeout_ms = map.next_value()?,
                "stoppedEarly" => report.stopped_early = map.next_value()?,
                "maxRunTimeSeconds" => report.max_run_time_seconds = map.next_value()?,
                "load" => report.load = map.next_value()?,
                "requests" => {
                    let requests = map.next_value_seed(Requests(self))?;
                    (report.requests, names) = (requests.0, Some(requests.1));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let names = names.ok_or_else(|| de::Error::missing_field("requests"))?;
        Ok(ReadReport { report, names })
    }
}

/// The `requests` object, read under a [`Keep`].
struct Requests<'a>(Keep<'a>);

impl<'de> DeserializeSeed<'de> for Requests<'_> {
    type Value = (BTreeMap<String, RequestStats>, RequestNames);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Requests<'_> {
    type Value = (BTreeMap<String, RequestStats>, RequestNames);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of request results")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = BTreeMap::new();
        let mut names = RequestNames::default();
        while let Some(key) = map.next_key::<String>()? {
            names.push(&key);
            let wanted = match self.0 {
                Keep::All => true,
                Keep::Only(keys) => keys.contains(&key),
            };
            if wanted {
                kept.insert(key, map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok((kept, names))
    }
}

/// The report's percentile, as goose ranks it: the value of `sorted`
/// (ascending) at rank `round(n × p)`, the first value at or below rank 1
/// and the last at or above rank n; `None` without values. Every percentile
/// we compute from samples ourselves uses this rank, so that it reads as
/// goose's own figures do.
pub fn nearest_rank<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = ((n as f64 * p).round() as usize).clamp(1, n);
    Some(sorted[rank - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goose_s_percentile_is_the_sample_at_the_rounded_rank() {
        let sorted: Vec<u64> = (1..=10).collect();
        // 10 × 0.95 = 9.5 rounds up to rank 10; 10 × 0.75 = 7.5 to rank 8.
        let ranks = [(0.5, 5), (0.75, 8), (0.9, 9), (0.95, 10), (0.99, 10)];
        for (p, want) in ranks {
            assert_eq!(nearest_rank(&sorted, p), Some(want), "p{p}");
        }
        assert_eq!(nearest_rank(&[7], 0.5), Some(7));
        assert_eq!(nearest_rank::<u64>(&[], 0.5), None);
    }

    fn sample() -> LatencyReport {
        let mut requests = BTreeMap::new();
        requests.insert(
            "GET /fibonacci?n=10".to_string(),
            RequestStats {
                method: "GET".into(),
                name: "/fibonacci?n=10".into(),
                count: 120,
                failures: 0,
                timeouts: 0,
                connection_errors: 0,
                status_errors: 0,
                error_rate: 0.0,
                requests_per_second: 24.0,
                mean_ms: 6.1,
                median_ms: 6.0,
                min_ms: 4.0,
                max_ms: 20.0,
                p75_ms: 7.0,
                p90_ms: 8.0,
                p95_ms: 9.0,
                p99_ms: 15.0,
                confidence_intervals: BTreeMap::new(),
            },
        );
        LatencyReport {
            current_replicas: Some(3),
            users: 10,
            run_time_seconds: 5.0,
            requests,
            request_timeout_ms: None,
            stopped_early: None,
            max_run_time_seconds: None,
            load: None,
        }
    }

    #[test]
    fn serializes_to_the_documented_camel_case_shape() {
        let json = serde_json::to_value(sample()).unwrap();
        let expected = serde_json::json!({
            "currentReplicas": 3, "users": 10, "runTimeSeconds": 5.0,
            "requests": {"GET /fibonacci?n=10": {"method": "GET", "name": "/fibonacci?n=10",
                "count": 120, "failures": 0, "timeouts": 0, "connectionErrors": 0,
                "statusErrors": 0, "errorRate": 0.0, "requestsPerSecond": 24.0,
                "meanMs": 6.1, "medianMs": 6.0, "minMs": 4.0, "maxMs": 20.0,
                "p75Ms": 7.0, "p90Ms": 8.0, "p95Ms": 9.0, "p99Ms": 15.0}}
        });
        assert_eq!(json, expected);
        let mut timed = sample();
        timed.request_timeout_ms = Some(5000.0);
        let json = serde_json::to_value(timed).unwrap();
        assert_eq!(json["requestTimeoutMs"], 5000.0);
    }

    #[test]
    fn a_report_without_the_failure_breakdown_still_parses_as_zero_of_each() {
        let mut json = serde_json::to_value(sample()).unwrap();
        let stats = json["requests"]["GET /fibonacci?n=10"]
            .as_object_mut()
            .unwrap();
        for key in ["timeouts", "connectionErrors", "statusErrors"] {
            stats.remove(key);
        }
        let back: LatencyReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, sample());
        let read = Keep::All
            .deserialize(&mut serde_json::Deserializer::from_str(
                r#"{"requestTimeoutMs": 2500, "requests": {}}"#,
            ))
            .unwrap();
        assert_eq!(read.report.request_timeout_ms, Some(2500.0));
    }

    #[test]
    fn round_trips_and_ignores_fields_added_later() {
        let mut json = serde_json::to_value(sample()).unwrap();
        json["futureField"] = serde_json::json!(1);
        json["requests"]["GET /fibonacci?n=10"]["p999Ms"] = serde_json::json!(30.0);
        let back: LatencyReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn an_early_stopped_report_says_when_it_decided_and_old_readers_see_the_same_report() {
        let mut report = sample();
        assert_eq!(report.early_stop_note(), None);
        report.run_time_seconds = 2.4213;
        report.stopped_early = Some(false);
        report.max_run_time_seconds = Some(20.0);
        assert_eq!(report.early_stop_note(), None, "ran the whole time");
        report.stopped_early = Some(true);
        assert_eq!(
            report.early_stop_note().as_deref(),
            Some("decided after 2.4 s of 20 s")
        );
        let stats = report.requests.get_mut("GET /fibonacci?n=10").unwrap();
        stats.confidence_intervals.insert(
            "p95".into(),
            ConfidenceInterval {
                confidence: 0.95,
                low: Some(8.0),
                high: None,
                limit: 100.0,
                verdict: Verdict::Undecided,
                trend: Some(Trend::Falling),
            },
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["stoppedEarly"], true);
        assert_eq!(json["maxRunTimeSeconds"], 20.0);
        assert_eq!(
            json["requests"]["GET /fibonacci?n=10"]["confidenceIntervals"]["p95"],
            serde_json::json!({"confidence": 0.95, "low": 8.0, "limit": 100.0, "verdict": "undecided", "trend": "falling"})
        );
        let text = json.to_string();
        let read = Keep::All
            .deserialize(&mut serde_json::Deserializer::from_str(&text))
            .unwrap();
        assert_eq!(read.report, report);
    }

    #[test]
    fn the_shadow_is_one_more_top_level_key_and_old_reports_and_readers_are_unchanged() {
        // Without a shadow: byte for byte the report alone.
        let plain = ReportWithShadow::from(sample());
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            serde_json::to_string(&sample()).unwrap()
        );
        let mut shadow = sample();
        shadow.run_time_seconds = 2.5;
        shadow.stopped_early = Some(true);
        shadow.max_run_time_seconds = Some(10.0);
        let mut full = sample();
        full.stopped_early = Some(false);
        full.max_run_time_seconds = Some(10.0);
        let shadowed = ReportWithShadow {
            report: full.clone(),
            early_stop_shadow: Some(shadow.clone()),
        };
        let json = serde_json::to_value(&shadowed).unwrap();
        let mut expected = serde_json::to_value(&full).unwrap();
        expected["earlyStopShadow"] = serde_json::to_value(&shadow).unwrap();
        assert_eq!(json, expected);
        assert_eq!(json["earlyStopShadow"]["stoppedEarly"], true);
        assert_eq!(json["earlyStopShadow"]["runTimeSeconds"], 2.5);
        let text = json.to_string();
        let back: ReportWithShadow = serde_json::from_str(&text).unwrap();
        assert_eq!(back, shadowed);
        // A reader of the report alone, and the evaluate stage's, skip it.
        let alone: LatencyReport = serde_json::from_str(&text).unwrap();
        assert_eq!(alone, full);
        let read = Keep::All
            .deserialize(&mut serde_json::Deserializer::from_str(&text))
            .unwrap();
        assert_eq!(read.report, full);
        // A report from before the shadow reads as one without it.
        let old = serde_json::to_string(&sample()).unwrap();
        let back: ReportWithShadow = serde_json::from_str(&old).unwrap();
        assert_eq!(back, ReportWithShadow::from(sample()));
    }

    #[test]
    fn looks_requests_up_with_any_method_case() {
        let report = sample();
        assert_eq!(report.request("get", "/fibonacci?n=10").unwrap().count, 120);
        assert!(report.request("POST", "/fibonacci?n=10").is_none());
    }

    #[test]
    fn impossible_figures_are_named_and_rounding_is_not_one() {
        type Change = fn(&mut RequestStats);
        let cases: [(&str, Change, Option<&str>); 11] = [
            ("a real report", |_| {}, None),
            (
                "a median under the minimum by rounding",
                |s| s.median_ms = 3.99,
                None,
            ),
            ("a negative mean", |s| s.mean_ms = -5.0, Some("meanMs")),
            (
                "an infinite p99",
                |s| s.p99_ms = f64::INFINITY,
                Some("p99Ms"),
            ),
            (
                "a NaN error rate",
                |s| s.error_rate = f64::NAN,
                Some("errorRate"),
            ),
            (
                "more failures than requests",
                |s| s.failures = 121,
                Some("failures"),
            ),
            (
                "failures made of timeouts and errors",
                |s| (s.failures, s.timeouts, s.connection_errors, s.status_errors) = (6, 3, 2, 1),
                None,
            ),
            (
                "fewer failures than their kinds",
                |s| (s.failures, s.timeouts, s.status_errors) = (3, 3, 1),
                Some("failures"),
            ),
            ("min above max", |s| s.min_ms = 21.0, Some("minMs")),
            ("mean above max", |s| s.mean_ms = 25.0, Some("meanMs")),
            ("p90 under p75", |s| s.p90_ms = 6.0, Some("p90Ms")),
        ];
        for (what, change, want) in cases {
            let mut stats = sample().requests["GET /fibonacci?n=10"].clone();
            change(&mut stats);
            let got = stats.impossible_figure();
            assert_eq!(got.as_ref().map(|(key, _)| *key), want, "{what}: {got:?}");
        }
    }

    #[test]
    fn request_names_list_at_most_twenty_and_count_the_rest() {
        let mut names = RequestNames::default();
        assert_eq!(names.to_string(), "none");
        names.push("GET /a");
        assert_eq!(names.to_string(), "GET /a");
        for index in 1..25 {
            names.push(&format!("GET /{index}"));
        }
        let text = names.to_string();
        assert!(text.starts_with("GET /a, GET /1, "), "{text}");
        assert!(text.ends_with("GET /19 and 5 more"), "{text}");
        assert_eq!(names.total, 25);
    }
}
