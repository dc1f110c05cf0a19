//! The report's `load`: the service's load as the platform measures it,
//! beside the latency. The metric stage computes it
//! (`crate::metric::load`); the report carries it to the evaluate stage.

use serde::{Deserialize, Serialize};

/// The report's `load`: the service's load as the platform measures it, one
/// group of keys per source. Each source's keys sit directly in `load`
/// (`load.cpuUtilization`), so a second source adds its own keys beside
/// them (e.g. a Prometheus query's `queryValue`) without reshaping the
/// object. Present when at least one source gave figures.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Load {
    /// CPU utilisation from the CPA's `kubernetesMetrics`; `None` without
    /// it. Read when `load` has `cpuUtilization`, and then strictly.
    #[serde(flatten)]
    pub cpu: Option<CpuLoad>,
    /// `queryValue`: the value of the evaluation config's
    /// `load.prometheus.query`, in the query's unit (requests/s for a
    /// request rate), evaluated at the instant the probe started (see
    /// `crate::metric::load_query`); `None` without a query or when it
    /// failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_value: Option<f64>,
}

impl<'de> Deserialize<'de> for Load {
    /// Each source's keys are read when its first key is there, and a
    /// source whose keys are malformed is an error naming the key (serde's
    /// own flattened `Option` would silently read it as absent).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let keys = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let query_value = match keys.get("queryValue") {
            None => None,
            Some(value) => Some(value.as_f64().ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "queryValue: '{value}' is not a number; expected the query's value"
                ))
            })?),
        };
        let cpu = if keys.contains_key("cpuUtilization") {
            let cpu = serde_path_to_error::deserialize(serde_json::Value::Object(keys)).map_err(
                |err| {
                    let path = err.path().to_string();
                    serde::de::Error::custom(format!("{path}: {}", err.into_inner()))
                },
            )?;
            Some(cpu)
        } else {
            None
        };
        Ok(Load { cpu, query_value })
    }
}

impl Load {
    /// True when no source gave figures (the report then leaves `load` out).
    pub fn is_empty(&self) -> bool {
        self.cpu.is_none() && self.query_value.is_none()
    }
}

/// The CPU figures of one `kubernetesMetrics` sample (the metrics server's,
/// taken before the probe ran).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CpuLoad {
    /// `cpuUtilization`: the measured pods' CPU usage over their CPU
    /// requests, a fraction (1.0: each uses its whole request on average;
    /// above 1.0 up to [`Self::cpu_limit_utilization`]). Pods without a
    /// sample (missing) or left out (ignored) are not in it.
    pub cpu_utilization: f64,
    /// `scaleUpCpuUtilization`: the HPA's view on a scale-up, a fraction:
    /// missing and ignored pods counted at 0 % of their requests, over the
    /// measured, missing and ignored pods' requests. At most `cpuUtilization`.
    pub scale_up_cpu_utilization: f64,
    /// `scaleDownCpuUtilization`: the HPA's view on a scale-down, a fraction:
    /// missing pods counted at 100 % of their requests, over the measured and
    /// missing pods' requests (ignored pods left out). Between
    /// `cpuUtilization` and 1.0 when some pods are missing.
    pub scale_down_cpu_utilization: f64,
    /// `cpuLimitUtilization`: the pod template's CPU limit as a fraction of
    /// its request (`100m` over `50m`: 2.0), where `cpuUtilization` tops
    /// out: a service near it is saturated, and its CPU no longer shows how
    /// far over capacity it is. Absent when a container has no CPU limit or
    /// the resource has no pod template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_limit_utilization: Option<f64>,
    /// `podsMeasured`: pods whose sample (and request) is in `cpuUtilization`.
    pub pods_measured: u32,
    /// `podsReady`: the CPA's `ready_pod_count`, pods neither missing nor
    /// ignored: what the HPA multiplies its ratio by.
    pub pods_ready: u32,
    /// `podsIgnored`: pods left out: pending, or unready within
    /// `cpuInitializationPeriod` (300 s by default), or whose sample began
    /// before they became ready.
    pub pods_ignored: u32,
    /// `podsMissing`: running pods without a sample yet (the metrics server
    /// has none for a container younger than about 10 s).
    pub pods_missing: u32,
    /// `sampledAt`: when the oldest measured sample was taken, RFC 3339 on
    /// the metrics server's clock. The sample covers the `windowSeconds`
    /// before it, and the CPA takes it before the probe runs.
    pub sampled_at: jiff::Timestamp,
    /// `windowSeconds`: the longest window a measured sample averages over,
    /// seconds (the metrics server's resolution, 15 s in its published
    /// manifests).
    pub window_seconds: f64,
}

impl CpuLoad {
    /// When the oldest measured sample's window began: load measured before
    /// this instant is in the figures.
    pub fn window_start(&self) -> jiff::Timestamp {
        jiff::SignedDuration::try_from_secs_f64(self.window_seconds)
            .ok()
            .and_then(|window| self.sampled_at.checked_sub(window).ok())
            .unwrap_or(self.sampled_at)
    }
}
