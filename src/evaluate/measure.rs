//! Each target compared with the report: its measured figure, its limit, and
//! whether the service is saturated (its probe requests time out) or broken
//! (they fail outright), which decides whether the report can be judged.
//!
//! A target is **saturated** when timeouts are the majority of its failures
//! and at least [`SATURATED_PERCENT`](crate::target::SATURATED_PERCENT) % of its requests: it is missed, and a
//! latency figure counts as at least the request timeout. A target whose
//! every request failed without being saturated (connection or status
//! errors), or that made no request, cannot be judged: [`DecisionError`].

use crate::evaluate::config::EvaluationConfig;
use crate::report::{LatencyReport, RequestNames, RequestStats, Trend};
use crate::target::{Target, judgeable, saturated};

/// The report cannot be judged: the run fails and nothing is scaled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    /// A target's request is not in the report.
    #[error(
        "no result for targets[{index}] '{key}' in the report (requests measured: {measured}); expected the metric stage to load-test every targeted request (check the target's method and endpoint)"
    )]
    MissingResult {
        /// Index of the target in the config.
        index: usize,
        /// The request key, `"<METHOD> <name>"`.
        key: String,
        /// The keys the report holds, comma-separated, the first 20 and how
        /// many more, or `none`.
        measured: String,
    },
    /// Every request of a target failed, mostly not by timing out, or none
    /// was made: the service looks broken, and a broken service must never
    /// be scaled or decayed.
    #[error(
        "every request of targets[{index}] '{key}' failed ({failures} of {count}{}); expected at least one successful request, not scaling a service that does not answer",
        kinds(*.timeouts, *.connection_errors, *.status_errors)
    )]
    AllFailed {
        /// Index of the target in the config.
        index: usize,
        /// The request key.
        key: String,
        /// Requests made.
        count: u64,
        /// Requests failed.
        failures: u64,
        /// Failed requests that timed out.
        timeouts: u64,
        /// Failed requests that could not connect.
        connection_errors: u64,
        /// Failed requests answered with an unexpected status.
        status_errors: u64,
    },
}

/// `: 1 timeouts, 40 connection errors, 0 status errors`, or nothing when
/// the report has no breakdown (all 0: a metric stage from before it).
fn kinds(timeouts: u64, connection_errors: u64, status_errors: u64) -> String {
    if timeouts == 0 && connection_errors == 0 && status_errors == 0 {
        return String::new();
    }
    format!(
        ": {timeouts} timeouts, {connection_errors} connection errors, {status_errors} status errors"
    )
}

/// Probe requests of a target timed out: the service is overloaded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Saturation {
    /// Requests that timed out.
    pub timeouts: u64,
    /// Requests made.
    pub count: u64,
    /// The request timeout, ms (`requestTimeoutMs`, else the target's `maxMs`).
    pub timeout_ms: f64,
}

/// One target compared with its measurement.
pub(crate) struct Measurement<'a> {
    pub target: &'a Target,
    pub key: String,
    pub stats: &'a RequestStats,
    /// The target's figure; for a saturated latency target, at least the
    /// request timeout.
    pub measured: f64,
    /// `target × (1 + tolerance)`.
    pub limit: f64,
    /// `target × (1 − downTolerance)`: at or below it a met target is quiet;
    /// `None` without `downTolerance` (every met target is quiet).
    pub quiet_limit: Option<f64>,
    pub saturation: Option<Saturation>,
}

impl Measurement<'_> {
    /// Over the limit, or saturated.
    pub fn missed(&self) -> bool {
        self.saturation.is_some() || self.measured > self.limit
    }

    /// Which way the probe saw the target's statistic move (the report's
    /// `confidenceIntervals.<type>.trend`, from early stop); `None` when the
    /// report does not say.
    pub fn trend(&self) -> Option<Trend> {
        self.stats
            .confidence_intervals
            .get(self.target.kind.name())
            .and_then(|interval| interval.trend)
    }

    /// Met, and at or below the lower edge of the tolerance band when the
    /// target has one: a run counts towards a decay only if every target is.
    pub fn quiet(&self) -> bool {
        !self.missed() && self.quiet_limit.is_none_or(|quiet| self.measured <= quiet)
    }

    /// `GET /x mean 95 ms > 90 ms (target 100 ms -10% downTolerance)`: why a
    /// met target is not quiet.
    pub fn describe_band(&self) -> String {
        let down = self.target.down_tolerance.unwrap_or_default();
        let unit = if self.target.kind.is_latency() {
            " ms"
        } else {
            ""
        };
        format!(
            "{} {} {}{unit} > {}{unit} (target {}{unit} -{}% downTolerance)",
            self.key,
            self.target.kind,
            round(self.measured),
            round(self.quiet_limit.unwrap_or(self.limit)),
            round(self.target.target),
            round(down * 100.0)
        )
    }

    /// `GET /x mean 12.3 ms > target 7 ms`, with the timeouts when saturated.
    pub fn describe(&self) -> String {
        let op = if self.missed() { ">" } else { "<=" };
        let tolerance = if self.target.tolerance > 0.0 {
            format!(" +{}%", round(self.target.tolerance * 100.0))
        } else {
            String::new()
        };
        let kind = self.target.kind;
        let (measured, target) = (round(self.measured), round(self.target.target));
        let saturated = self.saturation.map(|s| {
            format!(
                "saturated: {} of {} requests timed out, timeout {} ms",
                s.timeouts,
                s.count,
                round(s.timeout_ms)
            )
        });
        match (kind.is_latency(), saturated) {
            (true, None) => format!(
                "{} {kind} {measured} ms {op} target {target} ms{tolerance}",
                self.key
            ),
            (true, Some(saturated)) => format!(
                "{} {kind} {measured} ms {op} target {target} ms{tolerance} ({saturated})",
                self.key
            ),
            (false, None) => format!(
                "{} {kind} {measured} {op} target {target}{tolerance}",
                self.key
            ),
            (false, Some(saturated)) => format!(
                "{} {saturated} ({kind} {measured}, target {target}{tolerance})",
                self.key
            ),
        }
    }
}

/// Rounds for display: three significant decimals at most, no trailing zeros.
pub(crate) fn round(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The saturation of a request's results ([`saturated`]).
fn saturation(report: &LatencyReport, stats: &RequestStats) -> Option<Saturation> {
    let timeouts = stats.timeouts;
    saturated(stats.count, stats.failures, timeouts).then(|| Saturation {
        timeouts,
        count: stats.count,
        timeout_ms: report.request_timeout_ms.unwrap_or(stats.max_ms),
    })
}

/// Compares every target with the report, in config order.
pub(crate) fn measure<'a>(
    config: &'a EvaluationConfig,
    report: &'a LatencyReport,
) -> Result<Vec<Measurement<'a>>, DecisionError> {
    config
        .targets
        .iter()
        .enumerate()
        .map(|(index, target)| {
            let key = target.request_key();
            let Some(stats) = report.request(&target.method, target.request_name()) else {
                return Err(DecisionError::MissingResult {
                    index,
                    key,
                    measured: RequestNames::of(report).to_string(),
                });
            };
            let saturation = saturation(report, stats);
            if !judgeable(stats.count, stats.failures, stats.timeouts) {
                return Err(DecisionError::AllFailed {
                    index,
                    key,
                    count: stats.count,
                    failures: stats.failures,
                    timeouts: stats.timeouts,
                    connection_errors: stats.connection_errors,
                    status_errors: stats.status_errors,
                });
            }
            let mut measured = target.kind.figure(stats);
            if let (Some(saturation), true) = (saturation, target.kind.is_latency()) {
                measured = measured.max(saturation.timeout_ms);
            }
            Ok(Measurement {
                target,
                measured,
                limit: target.limit(),
                quiet_limit: target
                    .down_tolerance
                    .map(|down| target.target * (1.0 - down)),
                key,
                stats,
                saturation,
            })
        })
        .collect()
}
