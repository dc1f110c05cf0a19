//! `GET /metrics`: the autoscaler's own metrics in the Prometheus
//! (OpenMetrics) text format, written by `prometheus-client`. Built afresh on
//! every scrape from three sources:
//!
//! - the evaluation status file the evaluate stage leaves on the shared
//!   volume ([`crate::status`], `statusFile` in both configs): the last
//!   decision, each target's figure and limit, quiet runs, the heartbeat
//!   and the failures by kind;
//! - the boosts file: the boosts active now, by rule;
//! - this process's evaluation requests ([`super::trigger::Counts`]).
//!
//! Every metric is listed, with its meaning, in docs/alerts.md.

use std::path::Path;
use std::sync::atomic::Ordering;

use jiff::Timestamp;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use super::trigger::Counts;
use crate::boosts::BoostsFile;
use crate::status::{FAILURE_KINDS, OK, RECENT_RUNS, Status};

/// The `Content-Type` of the OpenMetrics exposition.
pub const OPEN_METRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The `Content-Type` of the classic Prometheus text exposition.
pub const CLASSIC: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A label set: (name, value) pairs.
type Labels = Vec<(String, String)>;

/// A float gauge.
type FloatGauge = Gauge<f64, std::sync::atomic::AtomicU64>;

/// What a scrape reads.
pub struct Sources<'a> {
    /// The evaluation status file, when configured.
    pub status_file: Option<&'a Path>,
    /// The boosts file.
    pub boosts_file: &'a Path,
    /// This process's evaluation requests.
    pub counts: &'a Counts,
    /// The boosts' rules, so that a rule without an active boost shows 0.
    pub rules: Vec<&'a str>,
    /// The scrape's instant (boosts active now).
    pub now: Timestamp,
}

/// The exposition for one scrape, in OpenMetrics text. A source that cannot
/// be read leaves its metrics out and sets its `..._readable` gauge to 0,
/// with a warning.
pub fn exposition(sources: &Sources) -> String {
    let mut registry = Registry::with_prefix("gpa");
    decision_metrics(&mut registry, sources.status_file);
    sidecar_metrics(&mut registry, sources);
    let mut text = String::new();
    // writing to a String cannot fail
    let _ = encode(&mut text, &registry);
    text
}

/// True when an `Accept` header asks for OpenMetrics (Prometheus does);
/// other clients get the classic text format.
pub fn wants_open_metrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| accept.contains("application/openmetrics-text"))
}

/// `open_metrics` (as [`exposition`] writes it) in the classic Prometheus
/// text format (0.0.4), for clients that do not read OpenMetrics, such as
/// `promtool check metrics`. For the gauges and counters exported here the
/// two differ only in a counter's family name, which carries `_total` in
/// the classic format's `# HELP` and `# TYPE` lines as in its samples; the
/// `# UNIT` and `# EOF` lines are comments there and are dropped.
pub fn classic(open_metrics: &str) -> String {
    let lines: Vec<&str> = open_metrics.lines().collect();
    let mut out = String::with_capacity(open_metrics.len());
    for (at, line) in lines.iter().enumerate() {
        if line.starts_with("# UNIT ") || *line == "# EOF" {
            continue;
        }
        let counter = |type_line: Option<&&str>| {
            type_line.is_some_and(|l| l.starts_with("# TYPE ") && l.ends_with(" counter"))
        };
        let renamed = match line
            .split_once(' ')
            .and_then(|(_, rest)| rest.split_once(' '))
        {
            Some((word, rest)) if word == "TYPE" && counter(Some(line)) => {
                let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
                Some(format!("# TYPE {name}_total {kind}"))
            }
            Some((word, rest)) if word == "HELP" && counter(lines.get(at + 1)) => {
                let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
                Some(format!("# HELP {name}_total {help}"))
            }
            _ => None,
        };
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// A gauge family with one sample per label set of `samples`.
fn gauges(samples: impl IntoIterator<Item = (Labels, f64)>) -> Family<Labels, FloatGauge> {
    let family = Family::<Labels, FloatGauge>::default();
    for (labels, value) in samples {
        family.get_or_create(&labels).set(value);
    }
    family
}

/// One float gauge of `value`.
fn gauge(value: f64) -> FloatGauge {
    let gauge = FloatGauge::default();
    gauge.set(value);
    gauge
}

/// One counter at `value`.
fn counter(value: u64) -> Counter {
    let counter = Counter::default();
    counter.inc_by(value);
    counter
}

/// The metrics from the status file.
fn decision_metrics(registry: &mut Registry, status_file: Option<&Path>) {
    let Some(path) = status_file else {
        return;
    };
    let status = match Status::load(path) {
        Ok(status) => status,
        Err(err) => {
            tracing::warn!("{err}; /metrics leaves the decision metrics out");
            registry.register(
                "status_readable",
                "1 when the evaluation status file could be read, else 0",
                gauge(0.0),
            );
            return;
        }
    };
    registry.register(
        "status_readable",
        "1 when the evaluation status file could be read, else 0",
        gauge(1.0),
    );
    let resource: Labels = match &status.resource {
        Some(id) => vec![
            ("namespace".into(), id.namespace.clone()),
            ("resource".into(), format!("{}/{}", id.kind, id.name)),
        ],
        None => Vec::new(),
    };
    let with = |extra: &[(&str, &str)]| -> Labels {
        let mut labels = resource.clone();
        labels.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        labels
    };
    if status.last_evaluation_unix_seconds > 0.0 {
        registry.register_with_unit(
            "last_evaluation_timestamp",
            "When the last evaluation (answered or failed) ended, since the Unix epoch: the autoscaler's heartbeat",
            Unit::Seconds,
            gauges([(with(&[]), status.last_evaluation_unix_seconds)]),
        );
    }
    if let Some(decision) = &status.last_decision {
        registry.register(
            "current_replicas",
            "Replicas when the last answered evaluation ran",
            gauges([(with(&[]), f64::from(decision.current_replicas))]),
        );
        registry.register(
            "target_replicas",
            "Replicas the last answered evaluation answered (targetReplicas)",
            gauges([(with(&[]), f64::from(decision.target_replicas))]),
        );
        registry.register(
            "decision",
            "1 for the last decision's direction (up, down, hold) and the rule that decided",
            gauges([(
                with(&[("direction", &decision.direction), ("rule", &decision.rule)]),
                1.0,
            )]),
        );
        registry.register(
            "runs_since_change",
            "Evaluations since the replica count last changed (quiet runs count towards a decay)",
            gauges([(with(&[]), f64::from(decision.runs_since_change))]),
        );
    }
    let latency = |limit: bool| {
        gauges(
            (status.targets.iter())
                .filter(|t| t.kind != "errorRate")
                .map(|t| {
                    let ms = if limit { t.limit } else { t.measured };
                    (
                        with(&[("request", &t.request), ("kind", &t.kind)]),
                        ms / 1000.0,
                    )
                }),
        )
    };
    let error_ratio = |limit: bool| {
        gauges(
            (status.targets.iter())
                .filter(|t| t.kind == "errorRate")
                .map(|t| {
                    let value = if limit { t.limit } else { t.measured };
                    (with(&[("request", &t.request)]), value)
                }),
        )
    };
    if status.targets.iter().any(|t| t.kind != "errorRate") {
        registry.register_with_unit(
            "target_latency",
            "Each latency target's figure (its kind: mean, p95, ...) in the last run that measured it",
            Unit::Seconds,
            latency(false),
        );
        registry.register_with_unit(
            "target_latency_limit",
            "Each latency target's limit, target x (1 + tolerance): above it the target is missed",
            Unit::Seconds,
            latency(true),
        );
    }
    if status.targets.iter().any(|t| t.kind == "errorRate") {
        registry.register(
            "target_error_ratio",
            "Each errorRate target's failed share of requests (0 to 1) in the last run that measured it",
            error_ratio(false),
        );
        registry.register(
            "target_error_ratio_limit",
            "Each errorRate target's limit, target x (1 + tolerance)",
            error_ratio(true),
        );
    }
    registry.register(
        "recent_runs",
        format!("Evaluations among the latest {RECENT_RUNS} that the status file records"),
        gauges([(with(&[]), status.recent_runs.len() as f64)]),
    );
    // every kind, 0 included, so that a rate or an alert never lacks one;
    // and any other kind a newer evaluate stage records
    let mut kinds: std::collections::BTreeSet<&str> = FAILURE_KINDS.into_iter().collect();
    kinds.extend(status.failures_total.keys().map(String::as_str));
    kinds.remove(OK);
    registry.register(
        "recent_failed_runs",
        format!("Failed evaluations among the latest {RECENT_RUNS}, by kind"),
        gauges(kinds.iter().map(|kind| {
            let count = status.recent_runs.iter().filter(|r| r == kind).count();
            (with(&[("kind", kind)]), count as f64)
        })),
    );
    let failures = Family::<Labels, Counter>::default();
    for kind in &kinds {
        let count = status.failures_total.get(*kind).copied().unwrap_or(0);
        failures
            .get_or_create(&with(&[("kind", kind)]))
            .inc_by(count);
    }
    registry.register(
        "evaluation_failures",
        "Failed evaluations by kind since the status file was created",
        failures,
    );
}

/// The sidecar's own metrics: boosts active now, evaluation requests.
fn sidecar_metrics(registry: &mut Registry, sources: &Sources) {
    match BoostsFile::load(sources.boosts_file) {
        Ok(file) => {
            registry.register(
                "boosts_readable",
                "1 when the boosts file could be read, else 0",
                gauge(1.0),
            );
            let active = gauges(sources.rules.iter().map(|rule| {
                let count = file.active(sources.now).filter(|b| b.rule == *rule).count();
                (vec![("rule".to_string(), rule.to_string())], count as f64)
            }));
            registry.register(
                "boosts_active",
                "Alert boosts active now, by gpa alerts rule",
                active,
            );
        }
        Err(err) => {
            tracing::warn!("{err}; /metrics leaves the boost metrics out");
            registry.register(
                "boosts_readable",
                "1 when the boosts file could be read, else 0",
                gauge(0.0),
            );
        }
    }
    let counts = sources.counts;
    registry.register(
        "evaluation_requests",
        "Notifications that asked the CPA for an evaluation (each raised a floor)",
        counter(counts.requested.load(Ordering::Relaxed)),
    );
    registry.register(
        "evaluation_requests_merged",
        "Of those, requests merged into an evaluation already pending",
        counter(counts.merged.load(Ordering::Relaxed)),
    );
    let posted = Family::<Labels, Counter>::default();
    for (result, count) in [
        ("ok", counts.succeeded.load(Ordering::Relaxed)),
        ("failed", counts.failed.load(Ordering::Relaxed)),
    ] {
        posted
            .get_or_create(&vec![("result".to_string(), result.to_string())])
            .inc_by(count);
    }
    registry.register(
        "triggered_evaluations",
        "Evaluations the sidecar asked the CPA for (POST /api/v1/evaluation), by result",
        posted,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classic_format_names_a_counter_family_with_total_and_drops_unit_and_eof() {
        let open = "# HELP gpa_x Things done.\n# TYPE gpa_x counter\ngpa_x_total{a=\"b\"} 3\n\
                    # HELP gpa_t When.\n# TYPE gpa_t_seconds gauge\n# UNIT gpa_t_seconds seconds\ngpa_t_seconds 1.5\n# EOF\n";
        assert_eq!(
            classic(open),
            "# HELP gpa_x_total Things done.\n# TYPE gpa_x_total counter\ngpa_x_total{a=\"b\"} 3\n\
             # HELP gpa_t When.\n# TYPE gpa_t_seconds gauge\ngpa_t_seconds 1.5\n"
        );
    }

    #[test]
    fn prometheus_gets_open_metrics_and_other_clients_the_classic_format() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(wants_open_metrics(Some(prometheus)));
        assert!(!wants_open_metrics(Some("*/*")));
        assert!(!wants_open_metrics(None));
    }
}
