//! The latency report: the one JSON document `gpa-metric` prints and
//! `gpa-evaluate` reads.
//!
//! It is defined once here so the two stages can never disagree on its shape.
//! Keys are camelCase like the CPA's own JSON, and every figure carries its unit
//! in its name. Fields may be added in later versions; none may change meaning,
//! so readers ignore keys they do not know.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
}

impl LatencyReport {
    /// The report of an interval in which no load test ran (0 replicas).
    pub fn empty(current_replicas: u32) -> Self {
        LatencyReport {
            current_replicas: Some(current_replicas),
            users: 0,
            run_time_seconds: 0.0,
            requests: BTreeMap::new(),
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LatencyReport {
        let mut requests = BTreeMap::new();
        requests.insert(
            "GET /fibonacci?n=10".to_string(),
            RequestStats {
                method: "GET".into(),
                name: "/fibonacci?n=10".into(),
                count: 120,
                failures: 0,
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
            },
        );
        LatencyReport {
            current_replicas: Some(3),
            users: 10,
            run_time_seconds: 5.0,
            requests,
        }
    }

    #[test]
    fn serializes_to_the_documented_camel_case_shape() {
        let json = serde_json::to_value(sample()).unwrap();
        let expected = serde_json::json!({
            "currentReplicas": 3, "users": 10, "runTimeSeconds": 5.0,
            "requests": {"GET /fibonacci?n=10": {"method": "GET", "name": "/fibonacci?n=10",
                "count": 120, "failures": 0, "errorRate": 0.0, "requestsPerSecond": 24.0,
                "meanMs": 6.1, "medianMs": 6.0, "minMs": 4.0, "maxMs": 20.0,
                "p75Ms": 7.0, "p90Ms": 8.0, "p95Ms": 9.0, "p99Ms": 15.0}}
        });
        assert_eq!(json, expected);
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
    fn looks_requests_up_with_any_method_case() {
        let report = sample();
        assert_eq!(report.request("get", "/fibonacci?n=10").unwrap().count, 120);
        assert!(report.request("POST", "/fibonacci?n=10").is_none());
    }
}
