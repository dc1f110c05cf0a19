//! The CPA's `kubernetesMetrics`: the metrics server's figures the CPA adds
//! to the metric stage's stdin when its config has `kubernetesMetricSpecs`,
//! and the CPU of the resource's pod template.
//!
//! CPA 2.12.2 (`metric/metric.go`, `k8smetric/k8smetric.go`,
//! `internal/metricget/metricget.go`) sends a list of `k8smetric.Metric`:
//! `current_replicas` (the scale subresource's `spec.replicas`) beside the
//! embedded `metrics.Metric` of `k8shorizmetrics` v3: `spec` (the
//! `autoscaling/v2` `MetricSpec` as configured) and, for a `Resource` spec,
//! `resource` (`metrics/resource.Metric`). v3 writes its keys in snake_case
//! (`pod_metrics_info`, `ready_pod_count`, ...), each pod's sample with Go's
//! untagged names (`Timestamp`, `Window` in nanoseconds, `Value` in milli
//! units); `k8shorizmetrics` v4, which a later CPA may use, writes camelCase
//! (`podMetricsInfo`, ...) and lowercase per-pod keys. Both are read here;
//! [`KubernetesMetric`] writes the v3 shape, as CPA 2.12.2 does.
//!
//! The CPA never hands `kubernetesMetrics` to the evaluate stage
//! (`evaluate/evaluate.go` has no such field): the metric stage forwards what
//! the evaluate stage needs in its report.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// One element of `kubernetesMetrics` (`k8smetric.Metric`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubernetesMetric {
    /// `current_replicas`: the scale subresource's `spec.replicas` when the
    /// CPA gathered the metric. The CPA's own key, snake_case in every version.
    #[serde(rename = "current_replicas", default)]
    pub current_replicas: i32,
    /// `spec`: the metric spec as configured in `kubernetesMetricSpecs`.
    pub spec: MetricSpec,
    /// `resource`: present for a `Resource` spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceMetric>,
}

/// `autoscaling/v2` `MetricSpec`, reduced to what the CPU load needs; other
/// keys (`pods`, `object`, `external`, `containerResource`) are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSpec {
    /// `type`: `Resource`, `Pods`, `Object`, `External` or `ContainerResource`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `resource`: present for `type: Resource`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceMetricSource>,
}

/// `autoscaling/v2` `ResourceMetricSource`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceMetricSource {
    /// `name`: the resource, e.g. `cpu` or `memory`.
    pub name: String,
    /// `target`.
    pub target: MetricTarget,
}

/// `autoscaling/v2` `MetricTarget`, reduced to its type and utilisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricTarget {
    /// `type`: `Utilization`, `AverageValue` or `Value`. Only with
    /// `Utilization` does the CPA gather the pods' `requests`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `averageUtilization`, percent, when the spec sets one (the CPA
    /// needs none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_utilization: Option<i32>,
}

/// The target type for which the CPA gathers `requests`.
pub const UTILIZATION: &str = "Utilization";

/// `k8shorizmetrics` `metrics/resource.Metric`: one resource's usage over
/// the pods the scale target's selector matches.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResourceMetric {
    /// `pod_metrics_info` (v4 `podMetricsInfo`): each pod's sample, keyed by
    /// pod name. Ignored pods are removed; missing pods never had one.
    #[serde(
        rename = "pod_metrics_info",
        alias = "podMetricsInfo",
        default,
        deserialize_with = "null_as_default"
    )]
    pub pod_metrics_info: BTreeMap<String, PodMetric>,
    /// `requests`: each pod's request of the resource (the sum over its
    /// containers), milli units, for every pod listed, ignored and missing
    /// ones too. `null` unless the target type is `Utilization`.
    #[serde(default)]
    pub requests: Option<BTreeMap<String, i64>>,
    /// `ready_pod_count` (v4 `readyPodCount`): pods neither missing nor ignored.
    #[serde(rename = "ready_pod_count", alias = "readyPodCount", default)]
    pub ready_pod_count: i64,
    /// `ignored_pods` (v4 `ignoredPods`): pending pods, and for CPU, pods
    /// unready within `cpuInitializationPeriod` or whose sample began before
    /// they became ready. A Go `sets.String`: `{"<pod>": {}}`.
    #[serde(rename = "ignored_pods", alias = "ignoredPods", default)]
    pub ignored_pods: PodSet,
    /// `missing_pods` (v4 `missingPods`): running pods the metrics server
    /// has no sample for yet.
    #[serde(rename = "missing_pods", alias = "missingPods", default)]
    pub missing_pods: PodSet,
    /// `total_pods` (v4 `totalPods`): every pod the selector matches.
    #[serde(rename = "total_pods", alias = "totalPods", default)]
    pub total_pods: i64,
    /// `timestamp`: the first pod sample's timestamp, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<jiff::Timestamp>,
}

/// `k8shorizmetrics` `metrics/podmetrics.Metric`: one pod's sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PodMetric {
    /// `Timestamp` (v4 `timestamp`): when the metrics server took the
    /// sample, RFC 3339; the sample covers the `Window` before it.
    #[serde(rename = "Timestamp", alias = "timestamp")]
    pub timestamp: jiff::Timestamp,
    /// `Window` (v4 `window`): what the sample averages over, nanoseconds
    /// (a Go `time.Duration`).
    #[serde(rename = "Window", alias = "window")]
    pub window_ns: i64,
    /// `Value` (v4 `value`): the pod's usage, milli units (millicores for
    /// CPU), summed over its containers.
    #[serde(rename = "Value", alias = "value")]
    pub value_milli: i64,
}

/// A Go `sets.String`: on the wire an object whose keys are the members and
/// whose values are `{}`; `null` for an empty, never-made set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodSet(pub BTreeSet<String>);

impl PodSet {
    /// How many pods the set holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when it holds `pod`.
    pub fn contains(&self, pod: &str) -> bool {
        self.0.contains(pod)
    }
}

impl<S: Into<String>> FromIterator<S> for PodSet {
    fn from_iter<I: IntoIterator<Item = S>>(pods: I) -> Self {
        PodSet(pods.into_iter().map(Into::into).collect())
    }
}

impl Serialize for PodSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for pod in &self.0 {
            map.serialize_entry(pod, &BTreeMap::<String, ()>::new())?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for PodSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;

        impl<'de> Visitor<'de> for Members {
            type Value = PodSet;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a set of pod names ({\"<pod>\": {}}), or null")
            }

            fn visit_unit<E: de::Error>(self) -> Result<PodSet, E> {
                Ok(PodSet::default())
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PodSet, A::Error> {
                let mut pods = BTreeSet::new();
                while let Some((pod, _)) = map.next_entry::<String, de::IgnoredAny>()? {
                    pods.insert(pod);
                }
                Ok(PodSet(pods))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PodSet, A::Error> {
                let mut pods = BTreeSet::new();
                while let Some(pod) = seq.next_element::<String>()? {
                    pods.insert(pod);
                }
                Ok(PodSet(pods))
            }
        }

        deserializer.deserialize_any(Members)
    }
}

/// Go writes a nil map as `null`: read it as empty.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// The CPU of one pod of the resource's `spec.template`, summed over its
/// containers (init containers excluded, as the HPA's requests are).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TemplateCpu {
    /// The pod's CPU request, millicores: a container without one requests
    /// its limit (Kubernetes' defaulting), else 0.
    pub request_milli: f64,
    /// The pod's CPU limit, millicores; `None` when a container has none
    /// (it may then use any free CPU of its node).
    pub limit_milli: Option<f64>,
}

/// What the metric stage found of the CPU in its stdin.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuInput {
    /// The `Resource` metric named `cpu`.
    pub metric: ResourceMetric,
    /// Its spec's target.
    pub target: MetricTarget,
    /// The pod template's CPU; `None` without a template, or when a
    /// quantity in it is unreadable ([`CpuInput::template_problem`] says).
    pub template: Option<TemplateCpu>,
    /// Why the template gave no CPU figures, when it has containers but one
    /// of their CPU quantities is unreadable.
    pub template_problem: Option<String>,
}

/// Why the metric stage's stdin gave no CPU figures.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KubernetesMetricsError {
    /// stdin is not a JSON object (the stage reports that itself).
    #[error("stdin is not a JSON object: {0}")]
    NotJson(String),
    /// `kubernetesMetrics` is not a list of metrics.
    #[error("kubernetesMetrics: field '{path}': {message}")]
    Malformed {
        /// The JSON path of the field at fault, from `kubernetesMetrics`.
        path: String,
        /// What is wrong and what was expected.
        message: String,
    },
    /// No `Resource` metric named `cpu`.
    #[error(
        "kubernetesMetrics has no Resource metric named cpu (it has: {found}); expected \
         kubernetesMetricSpecs to hold {{type: Resource, resource: {{name: cpu, target: {{type: Utilization}}}}}}"
    )]
    NoCpuMetric {
        /// The metrics it has, e.g. `Resource memory, Pods`; `none`.
        found: String,
    },
    /// The cpu metric's target is not `Utilization`, so there are no requests.
    #[error(
        "kubernetesMetrics: the cpu metric's target type is '{target}': the CPA sends the pods' requests \
         only for type Utilization; expected target {{type: Utilization}}"
    )]
    NotUtilization {
        /// The target type found.
        target: String,
    },
}

/// `resource.spec.template.spec.containers[].resources`.
#[derive(Deserialize, Default)]
struct TemplateHolder {
    #[serde(default)]
    spec: Option<HolderSpec>,
}

#[derive(Deserialize, Default)]
struct HolderSpec {
    #[serde(default)]
    template: Option<PodTemplate>,
}

#[derive(Deserialize, Default)]
struct PodTemplate {
    #[serde(default)]
    spec: Option<PodSpec>,
}

#[derive(Deserialize, Default)]
struct PodSpec {
    #[serde(default, deserialize_with = "null_as_default")]
    containers: Vec<Container>,
}

#[derive(Deserialize, Default)]
struct Container {
    #[serde(default)]
    name: String,
    #[serde(default)]
    resources: Option<Resources>,
}

#[derive(Deserialize, Default)]
struct Resources {
    #[serde(default, deserialize_with = "null_as_default")]
    requests: BTreeMap<String, serde_json::Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    limits: BTreeMap<String, serde_json::Value>,
}

/// Reads the cpu metric of `kubernetesMetrics` from the metric stage's stdin
/// (CPA 2.x `metric.Info`), and the resource's pod template CPU. `Ok(None)`
/// when stdin has no `kubernetesMetrics` (no `kubernetesMetricSpecs`, or the
/// CPA failed to gather them and `requireKubernetesMetrics` is false).
pub fn read_cpu(input: &[u8]) -> Result<Option<CpuInput>, KubernetesMetricsError> {
    let stdin: serde_json::Value = serde_json::from_slice(input)
        .map_err(|err| KubernetesMetricsError::NotJson(err.to_string()))?;
    let serde_json::Value::Object(mut stdin) = stdin else {
        return Err(KubernetesMetricsError::NotJson(format!(
            "it is {}",
            json_type(&stdin)
        )));
    };
    let Some(metrics) = stdin.remove("kubernetesMetrics") else {
        return Ok(None);
    };
    let serde_json::Value::Array(metrics) = metrics else {
        return Err(KubernetesMetricsError::Malformed {
            path: ".".into(),
            message: format!("is {}; expected a list of metrics", json_type(&metrics)),
        });
    };
    let mut found = Vec::new();
    for (index, value) in metrics.into_iter().enumerate() {
        let described = describe(&value);
        if described != "Resource cpu" {
            found.push(described);
            continue;
        }
        let metric: KubernetesMetric = serde_path_to_error::deserialize(value).map_err(|err| {
            KubernetesMetricsError::Malformed {
                path: format!("[{index}].{}", err.path()),
                message: err.into_inner().to_string(),
            }
        })?;
        let Some(source) = metric.spec.resource else {
            continue; // `describe` saw spec.resource.name; unreachable in practice.
        };
        if source.target.kind != UTILIZATION {
            return Err(KubernetesMetricsError::NotUtilization {
                target: source.target.kind,
            });
        }
        let Some(resource) = metric.resource else {
            return Err(KubernetesMetricsError::Malformed {
                path: format!("[{index}].resource"),
                message: "is missing; expected the gathered cpu metric".into(),
            });
        };
        let holder = stdin.remove("resource").unwrap_or_default();
        let (template, template_problem) = match template_cpu(holder) {
            Ok(template) => (template, None),
            Err(problem) => (None, Some(problem)),
        };
        return Ok(Some(CpuInput {
            metric: resource,
            target: source.target,
            template,
            template_problem,
        }));
    }
    Err(KubernetesMetricsError::NoCpuMetric {
        found: if found.is_empty() {
            "none".into()
        } else {
            found.join(", ")
        },
    })
}

/// `Resource cpu`, `Resource memory`, `Pods`, ... for one metric.
fn describe(metric: &serde_json::Value) -> String {
    let kind = metric["spec"]["type"].as_str().unwrap_or("?");
    match metric["spec"]["resource"]["name"].as_str() {
        Some(name) if kind == "Resource" => format!("Resource {name}"),
        _ => kind.to_string(),
    }
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The template's pod CPU; `Ok(None)` without a template or containers.
fn template_cpu(resource: serde_json::Value) -> Result<Option<TemplateCpu>, String> {
    if resource.is_null() {
        return Ok(None);
    }
    let resource: TemplateHolder = serde_path_to_error::deserialize(resource).map_err(|err| {
        let path = err.path().to_string();
        format!("resource.{path}: {}", err.into_inner())
    })?;
    let containers = resource
        .spec
        .and_then(|spec| spec.template)
        .and_then(|template| template.spec)
        .map(|spec| spec.containers)
        .unwrap_or_default();
    if containers.is_empty() {
        return Ok(None);
    }
    let mut request_milli = 0.0;
    let mut limit_milli = Some(0.0);
    for container in containers {
        let resources = container.resources.unwrap_or_default();
        let quantity = |kind: &str, value: Option<&serde_json::Value>| {
            value
                .map(|value| {
                    cpu_milli(value).map_err(|why| {
                        format!(
                            "resource.spec.template: container '{}' {kind}.cpu {why}",
                            container.name
                        )
                    })
                })
                .transpose()
        };
        let request = quantity("requests", resources.requests.get("cpu"))?;
        let limit = quantity("limits", resources.limits.get("cpu"))?;
        request_milli += request.or(limit).unwrap_or(0.0);
        limit_milli = limit_milli.zip(limit).map(|(sum, limit)| sum + limit);
    }
    Ok(Some(TemplateCpu {
        request_milli,
        limit_milli,
    }))
}

/// A CPU quantity as Kubernetes writes it (`100m`, `0.5`, `2`, `1e3m`, or a
/// bare JSON number) in millicores.
pub fn cpu_milli(value: &serde_json::Value) -> Result<f64, String> {
    let text = match value {
        serde_json::Value::String(text) => text.as_str(),
        serde_json::Value::Number(number) => {
            return number
                .as_f64()
                .map(|cores| cores * 1000.0)
                .ok_or_else(|| format!("'{number}' is not a number"));
        }
        other => {
            return Err(format!(
                "is {}; expected a quantity such as '100m'",
                json_type(other)
            ));
        }
    };
    parse_quantity(text).map(|cores| cores * 1000.0).ok_or_else(|| {
        format!("'{text}' is not a quantity; expected a number with an optional suffix, such as '100m' or '0.5'")
    })
}

/// A Kubernetes quantity in base units: a decimal number, then an SI suffix
/// (`n`, `u`, `m`, `k`, `M`, `G`, `T`, `P`, `E`), a binary one (`Ki` ...
/// `Ei`) or a decimal exponent (`e3`).
fn parse_quantity(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exponent if exponent.starts_with(['e', 'E']) => 10f64.powi(exponent[1..].parse().ok()?),
        _ => return None,
    };
    let value = number * scale;
    (value.is_finite() && value >= 0.0).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/kubernetes-metrics")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
    }

    fn cpu(name: &str) -> CpuInput {
        read_cpu(&fixture(name))
            .unwrap_or_else(|err| panic!("{name}: {err}"))
            .unwrap_or_else(|| panic!("{name}: no kubernetesMetrics"))
    }

    #[test]
    fn reads_cpa_2_12_2_s_snake_case_shape_with_ignored_and_missing_pods() {
        let input = cpu("cpa-2.12.2.json");
        let metric = &input.metric;
        assert_eq!(
            metric.pod_metrics_info.keys().collect::<Vec<_>>(),
            ["fibonacci-7d4b9c-abcde", "fibonacci-7d4b9c-fghij"]
        );
        let sample = metric.pod_metrics_info["fibonacci-7d4b9c-abcde"];
        assert_eq!((sample.value_milli, sample.window_ns), (45, 15_000_000_000));
        assert_eq!(
            sample.timestamp,
            "2026-12-04T16:30:15Z".parse::<jiff::Timestamp>().unwrap()
        );
        let requests = metric.requests.as_ref().unwrap();
        assert_eq!(
            requests.len(),
            4,
            "requests list ignored and missing pods too"
        );
        assert!(metric.ignored_pods.contains("fibonacci-7d4b9c-klmno"));
        assert!(metric.missing_pods.contains("fibonacci-7d4b9c-pqrst"));
        assert_eq!((metric.ready_pod_count, metric.total_pods), (2, 4));
        assert_eq!(input.target.kind, "Utilization");
        assert_eq!(
            input.template,
            Some(TemplateCpu {
                request_milli: 50.0,
                limit_milli: Some(100.0)
            })
        );
    }

    #[test]
    fn reads_k8shorizmetrics_v4_s_camel_case_shape_alike() {
        let v3 = cpu("cpa-2.12.2.json");
        let v4 = cpu("k8shorizmetrics-v4.json");
        assert_eq!(v3.metric, v4.metric);
    }

    #[test]
    fn writes_the_v3_shape_cpa_2_12_2_sends() {
        let input: serde_json::Value = serde_json::from_slice(&fixture("cpa-2.12.2.json")).unwrap();
        let sent = &input["kubernetesMetrics"][1];
        let metric: KubernetesMetric = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!(serde_json::to_value(&metric).unwrap(), *sent);
    }

    #[test]
    fn no_kubernetes_metrics_is_none_and_the_wrong_metrics_say_what_they_are() {
        assert_eq!(read_cpu(&fixture("absent.json")), Ok(None));
        let err = read_cpu(&fixture("memory-and-average-value.json")).unwrap_err();
        assert_eq!(
            err,
            KubernetesMetricsError::NotUtilization {
                target: "AverageValue".into()
            }
        );
        let err = read_cpu(&fixture("memory-only.json"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "kubernetesMetrics has no Resource metric named cpu (it has: Resource memory, Pods)"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_malformed_cpu_metric_names_its_field() {
        let cases = [
            (
                r#"{"kubernetesMetrics": {"a": 1}}"#,
                "kubernetesMetrics: field '.': is an object; expected a list of metrics",
            ),
            (
                r#"{"kubernetesMetrics": [{"current_replicas": 1, "spec": {"type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization"}}},
                    "resource": {"pod_metrics_info": {"p": {"Timestamp": "yesterday", "Window": 1, "Value": 2}}}}]}"#,
                "kubernetesMetrics: field '[0].resource.pod_metrics_info.p.Timestamp': ",
            ),
            (
                r#"{"kubernetesMetrics": [{"spec": {"type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization"}}}}]}"#,
                "kubernetesMetrics: field '[0].resource': is missing",
            ),
            ("[1]", "stdin is not a JSON object"),
        ];
        for (input, want) in cases {
            let err = read_cpu(input.as_bytes()).unwrap_err().to_string();
            assert!(err.starts_with(want), "{input}\n got: {err}\nwant: {want}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn go_s_null_sets_and_maps_read_as_empty() {
        let input = r#"{"kubernetesMetrics": [{"current_replicas": 2, "spec": {"type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}},
            "resource": {"pod_metrics_info": null, "requests": null, "ready_pod_count": 0,
            "ignored_pods": null, "missing_pods": null, "total_pods": 2,
            "timestamp": "0001-01-01T00:00:00Z"}}]}"#;
        let input = read_cpu(input.as_bytes()).unwrap().unwrap();
        assert!(input.metric.pod_metrics_info.is_empty() && input.metric.ignored_pods.is_empty());
        assert_eq!(input.metric.requests, None);
        assert_eq!(input.target.average_utilization, Some(70));
        assert_eq!(input.template, None);
    }

    #[test]
    fn cpu_quantities_read_as_millicores() {
        let cases = [
            (serde_json::json!("100m"), 100.0),
            (serde_json::json!("0.5"), 500.0),
            (serde_json::json!("2"), 2000.0),
            (serde_json::json!("1e-1"), 100.0),
            (serde_json::json!("250000u"), 250.0),
            (serde_json::json!(1.5), 1500.0),
        ];
        for (value, want) in cases {
            let got = cpu_milli(&value).unwrap();
            assert!((got - want).abs() < 1e-9, "{value}: {got}");
        }
        for bad in [
            serde_json::json!("lots"),
            serde_json::json!("1x"),
            serde_json::json!(true),
        ] {
            assert!(cpu_milli(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_template_sums_its_containers_and_has_no_limit_if_one_container_has_none() {
        let input = |containers: serde_json::Value| {
            serde_json::json!({"resource": {"spec": {"template": {"spec": {"containers": containers}}}},
                "kubernetesMetrics": [{"current_replicas": 1, "spec": {"type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization"}}}, "resource": {}}]})
            .to_string()
        };
        let read = |containers| read_cpu(input(containers).as_bytes()).unwrap().unwrap();
        let both = read(serde_json::json!([
            {"name": "app", "resources": {"requests": {"cpu": "50m"}, "limits": {"cpu": "100m"}}},
            {"name": "sidecar", "resources": {"limits": {"cpu": "50m"}}}
        ]));
        assert_eq!(
            both.template,
            Some(TemplateCpu {
                request_milli: 100.0,
                limit_milli: Some(150.0)
            }),
            "a container without a request requests its limit"
        );
        let unlimited = read(serde_json::json!([
            {"name": "app", "resources": {"requests": {"cpu": "50m"}, "limits": {"cpu": "100m"}}},
            {"name": "sidecar", "resources": {"requests": {"cpu": "10m"}}}
        ]));
        assert_eq!(unlimited.template.unwrap().limit_milli, None);
        let bad =
            read(serde_json::json!([{"name": "app", "resources": {"limits": {"cpu": "lots"}}}]));
        assert_eq!(bad.template, None);
        assert!(bad.template_problem.unwrap().starts_with(
            "resource.spec.template: container 'app' limits.cpu 'lots' is not a quantity"
        ));
    }
}
