//! Targets: which statistic of which request must stay at or under which
//! value, the statistic a target kind reads from a report, the limit a
//! tolerance allows, and whether a request's results can be judged at all.
//! Shared by the metric stage (early stop), the evaluate stage and the
//! simulator; it imports nothing from any of them.

mod file;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use file::{ConfigError, DEFAULT_CONFIG_PATH, check_targets};

use crate::report::{LatencyReport, RequestStats};

/// Timeouts must be at least this share of a target's requests, in percent,
/// for it to count as saturated: a lone timeout among thousands of requests
/// is noise, not overload.
pub const SATURATED_PERCENT: u64 = 1;

/// One target: a statistic of one request that must stay at or under a value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Target {
    /// HTTP method of the request, any case (`GET`, `post`).
    pub method: String,
    /// The request's name in the report: its path with the query, e.g.
    /// `/fibonacci?n=10` (the LPA's key).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Same as `endpoint`, for requests a scenario names explicitly; give one
    /// of the two.
    #[serde(default)]
    pub name: Option<String>,
    /// Which statistic to compare.
    #[serde(rename = "type")]
    pub kind: TargetKind,
    /// The highest acceptable value: milliseconds for latency types, a
    /// fraction from 0 to 1 for `errorRate`.
    pub target: f64,
    /// Slack as a fraction of `target`: missed only when the measured value is
    /// above `target × (1 + tolerance)`. Default 0.
    #[serde(default)]
    pub tolerance: f64,
    /// The lower edge of the tolerance band, as a fraction of `target`: a run
    /// counts as quiet (towards a decay) only when the measured value is at
    /// or below `target × (1 − downTolerance)`. From 0 to below 1; absent, a
    /// run that misses nothing is quiet.
    #[serde(default)]
    pub down_tolerance: Option<f64>,
}

/// The statistic a target compares, as named in the config's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum TargetKind {
    /// Mean response time, ms.
    #[serde(rename = "mean")]
    Mean,
    /// Median response time, ms.
    #[serde(rename = "median")]
    Median,
    /// Fastest response time, ms.
    #[serde(rename = "min")]
    Min,
    /// Slowest response time, ms.
    #[serde(rename = "max")]
    Max,
    /// 50th percentile (the median), ms.
    #[serde(rename = "p50")]
    P50,
    /// 75th percentile, ms.
    #[serde(rename = "p75")]
    P75,
    /// 90th percentile, ms.
    #[serde(rename = "p90")]
    P90,
    /// 95th percentile, ms.
    #[serde(rename = "p95")]
    P95,
    /// 99th percentile, ms.
    #[serde(rename = "p99")]
    P99,
    /// Failed requests as a fraction of all requests, 0 to 1.
    #[serde(rename = "errorRate")]
    ErrorRate,
}

impl TargetKind {
    /// The name used in the config and in explanations.
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Mean => "mean",
            TargetKind::Median => "median",
            TargetKind::Min => "min",
            TargetKind::Max => "max",
            TargetKind::P50 => "p50",
            TargetKind::P75 => "p75",
            TargetKind::P90 => "p90",
            TargetKind::P95 => "p95",
            TargetKind::P99 => "p99",
            TargetKind::ErrorRate => "errorRate",
        }
    }

    /// True for the latency types (milliseconds), false for `errorRate`.
    pub fn is_latency(self) -> bool {
        self != TargetKind::ErrorRate
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Target {
    /// The request's name (`endpoint`, else `name`); validation guarantees one.
    pub fn request_name(&self) -> &str {
        self.endpoint
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or_default()
    }

    /// The highest value that still meets this target: `target × (1 +
    /// tolerance)`.
    pub fn limit(&self) -> f64 {
        self.target * (1.0 + self.tolerance)
    }

    /// `"<METHOD> <name>"`, the report's key for this target's request.
    pub fn request_key(&self) -> String {
        LatencyReport::key(&self.method, self.request_name())
    }

    /// The first thing wrong with this target, as (field, problem and
    /// expectation); the field is empty when the target as a whole is at fault.
    pub(crate) fn problem(&self) -> Option<(&'static str, String)> {
        if self.method.trim().is_empty() {
            return Some((
                "method",
                "is empty; expected an HTTP method such as GET".into(),
            ));
        }
        match (&self.endpoint, &self.name) {
            (Some(_), Some(_)) => {
                return Some((
                    "name",
                    "is given together with 'endpoint'; expected one of the two".into(),
                ));
            }
            (None, None) => {
                return Some((
                    "",
                    "has neither 'endpoint' nor 'name'; expected the request's name, e.g. endpoint: \"/fibonacci?n=10\"".into(),
                ));
            }
            (Some(value), None) | (None, Some(value)) if value.is_empty() => {
                let field = if self.endpoint.is_some() {
                    "endpoint"
                } else {
                    "name"
                };
                return Some((
                    field,
                    "is empty; expected the request's name as the report shows it".into(),
                ));
            }
            _ => {}
        }
        let target = self.target;
        if self.kind.is_latency() && !(target.is_finite() && target > 0.0) {
            return Some((
                "target",
                format!("'{target}' is out of range; expected milliseconds above 0"),
            ));
        }
        if !self.kind.is_latency() && !(0.0..=1.0).contains(&target) {
            return Some((
                "target",
                format!("'{target}' is out of range; expected an errorRate fraction from 0 to 1"),
            ));
        }
        let tolerance = self.tolerance;
        if !(tolerance.is_finite() && tolerance >= 0.0) {
            return Some((
                "tolerance",
                format!(
                    "'{tolerance}' is out of range; expected a fraction of 0 or more (0.1 = 10 %)"
                ),
            ));
        }
        if let Some(down) = self.down_tolerance
            && !(0.0..1.0).contains(&down)
        {
            return Some((
                "downTolerance",
                format!(
                    "'{down}' is out of range; expected a fraction from 0 to below 1 (0.1 = 10 %)"
                ),
            ));
        }
        None
    }
}

/// What a target kind measures of a request's samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    /// The mean of the response times.
    Mean,
    /// The response time at this quantile, 0 (fastest) to 1 (slowest).
    Quantile(f64),
    /// Failed requests as a fraction of all requests.
    ErrorRate,
}

impl TargetKind {
    /// The statistic this kind measures.
    pub fn statistic(self) -> Statistic {
        match self {
            TargetKind::Mean => Statistic::Mean,
            TargetKind::Median | TargetKind::P50 => Statistic::Quantile(0.5),
            TargetKind::Min => Statistic::Quantile(0.0),
            TargetKind::Max => Statistic::Quantile(1.0),
            TargetKind::P75 => Statistic::Quantile(0.75),
            TargetKind::P90 => Statistic::Quantile(0.9),
            TargetKind::P95 => Statistic::Quantile(0.95),
            TargetKind::P99 => Statistic::Quantile(0.99),
            TargetKind::ErrorRate => Statistic::ErrorRate,
        }
    }

    /// The figure of the report's `stats` this kind reads: milliseconds for
    /// the latency kinds, a fraction from 0 to 1 for `errorRate`.
    pub fn figure(self, stats: &RequestStats) -> f64 {
        match self {
            TargetKind::Mean => stats.mean_ms,
            TargetKind::Median | TargetKind::P50 => stats.median_ms,
            TargetKind::Min => stats.min_ms,
            TargetKind::Max => stats.max_ms,
            TargetKind::P75 => stats.p75_ms,
            TargetKind::P90 => stats.p90_ms,
            TargetKind::P95 => stats.p95_ms,
            TargetKind::P99 => stats.p99_ms,
            TargetKind::ErrorRate => stats.error_rate,
        }
    }
}

/// Timeouts are more than half of the failures and at least
/// [`SATURATED_PERCENT`] % of the `count` requests: the service is saturated.
pub fn saturated(count: u64, failures: u64, timeouts: u64) -> bool {
    timeouts > 0
        && timeouts.saturating_mul(2) > failures
        && timeouts.saturating_mul(100) >= count.saturating_mul(SATURATED_PERCENT)
}

/// Whether a request's results can be judged: it was made, and not every
/// request failed unless the service is saturated. The evaluate stage
/// refuses a report with a target that cannot; early stop keeps such a
/// target undecided, so that the test runs on.
pub fn judgeable(count: u64, failures: u64, timeouts: u64) -> bool {
    count > 0 && (failures < count || saturated(count, failures, timeouts))
}
