//! The evaluation config's `load:` section, the load rules' opt-in: which
//! sources they read (the CPU, a Prometheus query), their margin, hint and
//! memory window, and the HPA-like and KEDA-like targets; checked once when
//! the config is loaded.

use serde::Deserialize;

use crate::metric::load_query::PrometheusConfig;

/// The evaluation config's `load:` section: with it, the load rules decide
/// beside the latency rules; without it, every decision is the latency
/// rules' alone.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadDecisions {
    /// `prometheus`: the query the metric stage runs beside the probe (see
    /// [`crate::metric::load_query`]); checked here, read there. Its value
    /// is a load source of its own (the `query_load` module).
    #[serde(default)]
    pub prometheus: Option<PrometheusConfig>,
    /// `cpu: {}`: decide on the report's `load.cpuUtilization` (the CPA's
    /// `kubernetesMetrics`): the load rules read the CPU only with it (and
    /// the query only with `prometheus`; with neither, no load rule
    /// applies).
    #[serde(default)]
    pub cpu: Option<CpuSource>,
    /// `margin`: headroom under the level at which a target was missed, a
    /// fraction: no decay to, and a scale-up ahead at, a per-replica load of
    /// `missedAt × (1 − margin)`. Default 0.1; from 0 to below 1.
    #[serde(default = "LoadDecisions::default_margin")]
    pub margin: f64,
    /// `targetPerReplica`: a per-replica CPU utilisation (a fraction of the
    /// request) known to meet every target, used until a level is learned;
    /// none by default.
    #[serde(default)]
    pub target_per_replica: Option<f64>,
    /// `forgetAfterSeconds`: a learned level is forgotten this long after it
    /// was last set, seconds. Default 3600; at least 1.
    #[serde(default = "LoadDecisions::default_forget_after_seconds")]
    pub forget_after_seconds: u64,
    /// `queryPerReplica`: decide as KEDA's Prometheus scaler does with its
    /// `threshold` (Kubernetes' HPA on an external metric with an
    /// `AverageValue` target): `ceil(queryValue / queryPerReplica)` in both
    /// directions, nothing while `queryValue / (queryPerReplica × current)`
    /// is within [`HPA_TOLERANCE`] of 1; the latency rules then never decide.
    /// In the query's unit per replica (requests/s per replica for a
    /// request rate); needs `load.prometheus`. None by default.
    #[serde(default)]
    pub query_per_replica: Option<f64>,
}

/// `load.cpu`: the CPU source.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CpuSource {
    /// `targetUtilization`: decide as Kubernetes' HPA does with
    /// `averageUtilization` (0.7 is its 70): `ceil(ready × utilisation /
    /// target)` in both directions, nothing within [`HPA_TOLERANCE`] of it;
    /// the latency rules then never decide. None by default.
    #[serde(default)]
    pub target_utilization: Option<f64>,
}

/// The HPA's default tolerance: no change while `utilisation / target` is
/// within 0.1 of 1.
pub const HPA_TOLERANCE: f64 = 0.1;

impl LoadDecisions {
    fn default_margin() -> f64 {
        0.1
    }

    fn default_forget_after_seconds() -> u64 {
        3600
    }

    /// The first fault of the section, as (key, problem and expectation).
    pub fn problem(&self) -> Option<(String, String)> {
        if let Some(target) = self.cpu.as_ref().and_then(|cpu| cpu.target_utilization)
            && !(target.is_finite() && target > 0.0)
        {
            return Some((
                "load.cpu.targetUtilization".into(),
                format!(
                    "'{target}' is out of range; expected a CPU utilisation above 0, such as 0.7 (the HPA's averageUtilization 70)"
                ),
            ));
        }
        if let Some(target) = self.query_per_replica {
            if !(target.is_finite() && target > 0.0) {
                return Some((
                    "load.queryPerReplica".into(),
                    format!(
                        "'{target}' is out of range; expected the query's value per replica above 0, such as 50 (requests/s per replica: KEDA's threshold)"
                    ),
                ));
            }
            if self.prometheus.is_none() {
                return Some((
                    "load.queryPerReplica".into(),
                    format!(
                        "'{target}' has no query to compare with; expected load.prometheus beside it (url and query)"
                    ),
                ));
            }
        }
        if !(0.0..1.0).contains(&self.margin) {
            return Some((
                "load.margin".into(),
                format!(
                    "'{}' is out of range; expected a fraction from 0 to below 1",
                    self.margin
                ),
            ));
        }
        if let Some(level) = self.target_per_replica
            && !(level.is_finite() && level > 0.0)
        {
            return Some((
                "load.targetPerReplica".into(),
                format!(
                    "'{level}' is out of range; expected a CPU utilisation above 0, such as 0.5"
                ),
            ));
        }
        if self.forget_after_seconds == 0 {
            return Some((
                "load.forgetAfterSeconds".into(),
                "'0' is out of range; expected 1 or more".into(),
            ));
        }
        None
    }
}
