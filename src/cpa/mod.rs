//! The Custom Pod Autoscaler's wire types: what the CPA writes to our stdin
//! and what it reads from our stdout (see `docs/cpa-contract.md`).
//!
//! The CPA 2.x shapes are the main ones; the CPA 0.x shapes that the Locust
//! Pod Autoscaler targeted (bare resource, `run_type`) and, for hand-made
//! pipes, a bare latency report, are accepted too. Every document is checked
//! first by its `strict` module: one JSON document, each key at most once per object.
//! Decoding errors name the JSON path at fault and what was expected.

pub mod metrics;
mod replicas;
mod strict;

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::report::{Keep, LatencyReport, ReadReport, RequestNames};
pub use replicas::{DEFAULT_STARTUP_ALLOWANCE_SECONDS, Observed};
use strict::{ScanError, Shape};

/// Why the CPA ran us this time. Its names (`scaler`, `api`, `api_dry_run`)
/// are the variants' in snake_case, alike on the wire (serde) and on a
/// command line (clap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum RunType {
    /// The scheduled loop; the result is applied.
    #[default]
    Scaler,
    /// `POST /api/v1/evaluation` on the CPA's REST API; the result is applied.
    Api,
    /// `POST /api/v1/evaluation?dry_run=true`; the result is only shown, and a
    /// plugin must change none of its state.
    ApiDryRun,
}

impl RunType {
    /// True for a dry run, which must change no state.
    pub fn is_dry_run(self) -> bool {
        self == RunType::ApiDryRun
    }
}

/// The managed Kubernetes object, reduced to the fields we read. The CPA sends
/// the whole object; everything else in it is ignored.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// `apiVersion`, e.g. `apps/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// `kind`, e.g. `Deployment`, `StatefulSet`, `Rollout`, `Pod`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `metadata.name` and `metadata.namespace`.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `spec`; absent on some kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<ResourceSpec>,
    /// `status`, as the API server last reported it; absent in hand-made
    /// inputs and in CPA 0.x's (which sent only the name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ResourceStatus>,
}

/// The identifying part of `metadata`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// `metadata.name`.
    #[serde(default)]
    pub name: String,
    /// `metadata.namespace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// The part of `spec` we read.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResourceSpec {
    /// `spec.replicas`: the desired replica count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
}

/// The part of `status` we read: the replica counts of Deployments,
/// StatefulSets and ReplicaSets (and of any kind with the same keys, such as
/// Argo Rollouts). Kubernetes omits a count that is 0.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceStatus {
    /// `status.replicas`: Pods that exist, ready or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// `status.readyReplicas`: Pods whose readiness probe passes, serving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<u32>,
    /// `status.availableReplicas`: Pods ready for at least `minReadySeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_replicas: Option<u32>,
    /// `status.updatedReplicas`: Pods of the current template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_replicas: Option<u32>,
}

/// The kinds whose status always has `readyReplicas` when it is not 0, so
/// that a status without it means none is ready.
const KINDS_WITH_READY_REPLICAS: [&str; 3] = ["Deployment", "StatefulSet", "ReplicaSet"];

impl Resource {
    /// `spec.replicas`, if the object has it.
    pub fn replicas(&self) -> Option<u32> {
        self.spec.as_ref().and_then(|spec| spec.replicas)
    }

    /// Ready replicas (`status.readyReplicas`), when the object says: a
    /// status without the key means 0 for a Deployment, StatefulSet or
    /// ReplicaSet (Kubernetes omits zero counts); for another kind only a
    /// status holding the key says. `None` when unknown (no status).
    pub fn ready_replicas(&self) -> Option<u32> {
        let status = self.status.as_ref()?;
        let omits_zero = self
            .kind
            .as_deref()
            .is_some_and(|kind| KINDS_WITH_READY_REPLICAS.contains(&kind));
        match status.ready_replicas {
            Some(ready) => Some(ready),
            None if omits_zero => Some(0),
            None => None,
        }
    }

    /// `kind/name`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "{}/{}",
            self.kind.as_deref().unwrap_or("resource"),
            self.metadata.name
        )
    }
}

/// The metric stage's stdin in CPA 2.x (`metric.Info`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricInfo {
    /// The managed resource (per-resource mode) or one Pod (per-pod mode).
    pub resource: Resource,
    /// Why the CPA ran us.
    #[serde(default)]
    pub run_type: RunType,
}

/// One gathered metric in the evaluate stage's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Name of the resource the metric was gathered for.
    #[serde(default)]
    pub resource: String,
    /// The metric stage's stdout, verbatim (our latency report as JSON).
    pub value: String,
}

/// The evaluate stage's stdin in CPA 2.x (`evaluate.Info`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluateInfo {
    /// The metric stage's results; ours is always the first.
    pub metrics: Vec<Metric>,
    /// The managed resource; CPA 0.x sent only its name, a string.
    #[serde(
        default,
        deserialize_with = "resource_or_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub resource: Option<Resource>,
    /// Why the CPA ran us.
    #[serde(default)]
    pub run_type: RunType,
}

/// The evaluate stage's stdin in CPA 0.x: `run_type` instead of `runType`,
/// and `resource` the resource's name.
#[derive(Debug, Deserialize)]
struct LegacyEvaluateInfo {
    metrics: Vec<Metric>,
    #[serde(default, deserialize_with = "resource_or_name")]
    resource: Option<Resource>,
    run_type: RunType,
}

/// `resource` as the whole object (CPA 1.x and 2.x), or as the resource's
/// name (CPA 0.x), which becomes an object with only `metadata.name`.
fn resource_or_name<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Resource>, D::Error> {
    struct ObjectOrName;

    impl<'de> Visitor<'de> for ObjectOrName {
        type Value = Option<Resource>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("the managed resource as an object, or its name (CPA 0.x)")
        }

        fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
            let mut resource = Resource::default();
            resource.metadata.name = name.to_owned();
            Ok(Some(resource))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            Resource::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }

    deserializer.deserialize_any(ObjectOrName)
}

/// The evaluate stage's stdout (`evaluate.Evaluation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    /// The replica count the CPA should scale the resource to.
    pub target_replicas: i32,
}

/// Input that is not one of the shapes we accept.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Not JSON at all, or empty.
    #[error("{what} is not valid JSON: {error}; expected {expected}")]
    NotJson {
        /// What was being read (e.g. "stdin").
        what: &'static str,
        /// What shape was expected.
        expected: &'static str,
        /// The parser's error, with line and column (part of the message,
        /// so not a chained source: the cause is said once).
        error: serde_json::Error,
    },
    /// JSON, but a field is missing or has the wrong type.
    #[error("{what}: field '{path}': {message}")]
    Field {
        /// What was being read.
        what: &'static str,
        /// JSON path of the field at fault, e.g. `metrics[0].value`.
        path: String,
        /// What is wrong and what was expected.
        message: String,
    },
    /// JSON of a shape we do not know.
    #[error("{what} has an unknown shape (top-level keys: {keys}); expected {expected}")]
    Shape {
        /// What was being read.
        what: &'static str,
        /// The top-level keys found, or the JSON type when not an object.
        keys: String,
        /// What shape was expected.
        expected: &'static str,
    },
}

const METRIC_EXPECTED: &str =
    "the CPA metric JSON {\"resource\": {...}, \"runType\": ...} or a bare resource object";
const EVALUATE_EXPECTED: &str = "the CPA evaluate JSON {\"metrics\": [{\"value\": \"<report>\"}], ...} or a latency report {\"requests\": {...}}";

/// What the evaluate stage was asked to decide on, whatever shape it came in.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluateRequest {
    /// The metric stage's report.
    pub report: LatencyReport,
    /// The managed resource, when the input carried one.
    pub resource: Option<Resource>,
    /// Why the CPA ran us; `scaler` for a bare report.
    pub run_type: RunType,
    /// Every request name the report held; `report` may hold only some.
    pub names: RequestNames,
}

impl EvaluateRequest {
    /// Current replicas: the report's `currentReplicas`, else the resource's
    /// `spec.replicas`.
    pub fn current_replicas(&self) -> Option<u32> {
        self.report
            .current_replicas
            .or_else(|| self.resource.as_ref().and_then(Resource::replicas))
    }

    /// Ready replicas from the resource's status (see
    /// [`Resource::ready_replicas`]); `None` without one.
    pub fn ready_replicas(&self) -> Option<u32> {
        self.resource.as_ref().and_then(Resource::ready_replicas)
    }
}

/// Decodes the metric stage's stdin: CPA 2.x `metric.Info`, or the CPA 0.x bare
/// resource object.
pub fn parse_metric_input(input: &[u8]) -> Result<MetricInfo, InputError> {
    const WHAT: &str = "stdin";
    let (shape, value) = parse_json(WHAT, METRIC_EXPECTED, input)?;
    if shape.has_key("resource") {
        decode(WHAT, value)
    } else if shape.has_key("kind") || shape.has_key("spec") {
        Ok(MetricInfo {
            resource: decode(WHAT, value)?,
            run_type: RunType::Scaler,
        })
    } else {
        Err(shape_error(WHAT, METRIC_EXPECTED, &shape))
    }
}

/// Decodes the evaluate stage's stdin: CPA 2.x `evaluate.Info`, the CPA 0.x
/// shape with `run_type`, or a bare latency report (run type `scaler`). Only
/// the report's requests that `keep` names are decoded and checked.
pub fn parse_evaluate_input_for(input: &[u8], keep: Keep) -> Result<EvaluateRequest, InputError> {
    const WHAT: &str = "stdin";
    let shape = scan(WHAT, EVALUATE_EXPECTED, input)?;
    if shape.has_key("metrics") {
        let value = json_value(WHAT, EVALUATE_EXPECTED, input)?;
        let info: EvaluateInfo = if shape.has_key("run_type") {
            let legacy: LegacyEvaluateInfo = decode(WHAT, value)?;
            EvaluateInfo {
                metrics: legacy.metrics,
                resource: legacy.resource,
                run_type: legacy.run_type,
            }
        } else {
            decode(WHAT, value)?
        };
        let Some(metric) = info.metrics.first() else {
            return Err(InputError::Field {
                what: WHAT,
                path: "metrics".into(),
                message: "is empty; expected one metric holding the latency report \
                          (is the metric stage gpa-metric, in per-resource mode?)"
                    .into(),
            });
        };
        let read = read_report("metrics[0].value", metric.value.as_bytes(), keep)?;
        Ok(EvaluateRequest {
            report: read.report,
            resource: info.resource,
            run_type: info.run_type,
            names: read.names,
        })
    } else if shape.has_key("requests") {
        let read = decode_report(WHAT, input, keep)?;
        Ok(EvaluateRequest {
            report: read.report,
            resource: None,
            run_type: RunType::Scaler,
            names: read.names,
        })
    } else {
        Err(shape_error(WHAT, EVALUATE_EXPECTED, &shape))
    }
}

/// Decodes a latency report with every request; `what` names where it came
/// from in errors.
pub fn parse_report(what: &'static str, input: &[u8]) -> Result<LatencyReport, InputError> {
    read_report(what, input, Keep::All).map(|read| read.report)
}

/// Decodes a latency report, only the requests `keep` names, and rejects
/// impossible figures in those; `what` names where it came from in errors.
pub fn read_report(what: &'static str, input: &[u8], keep: Keep) -> Result<ReadReport, InputError> {
    const EXPECTED: &str = "a latency report as printed by gpa-metric";
    let shape = scan(what, EXPECTED, input)?;
    if !shape.has_key("requests") {
        return Err(shape_error(what, EXPECTED, &shape));
    }
    decode_report(what, input, keep)
}

/// Decodes a report already scanned, straight from its bytes, and checks the
/// figures of the requests kept.
fn decode_report(what: &'static str, input: &[u8], keep: Keep) -> Result<ReadReport, InputError> {
    let field = |path: String, message: String| InputError::Field {
        what,
        path,
        message,
    };
    let mut json = serde_json::Deserializer::from_slice(input);
    let mut track = serde_path_to_error::Track::new();
    let read = keep
        .deserialize(serde_path_to_error::Deserializer::new(
            &mut json, &mut track,
        ))
        .map_err(|err| field(track.path().to_string(), err.to_string()))?;
    let seconds = read.report.run_time_seconds;
    if !(seconds.is_finite() && seconds >= 0.0) {
        return Err(field(
            "runTimeSeconds".into(),
            format!("'{seconds}' is impossible; expected a finite number of seconds, 0 or more"),
        ));
    }
    if let Some(timeout) = read.report.request_timeout_ms
        && !(timeout.is_finite() && timeout > 0.0)
    {
        return Err(field(
            "requestTimeoutMs".into(),
            format!("'{timeout}' is impossible; expected a finite number of milliseconds above 0"),
        ));
    }
    for (key, stats) in &read.report.requests {
        if let Some((figure, problem)) = stats.impossible_figure() {
            return Err(field(format!("requests.{key}.{figure}"), problem));
        }
    }
    Ok(read)
}

/// Checks `input` with [`strict::scan`]: one JSON document, each key once.
fn scan(what: &'static str, expected: &'static str, input: &[u8]) -> Result<Shape, InputError> {
    strict::scan(input).map_err(|err| match err {
        ScanError::Json(error) => InputError::NotJson {
            what,
            expected,
            error,
        },
        ScanError::Duplicate { path, line, column } => InputError::Field {
            what,
            path,
            message: format!(
                "is given twice in one object (line {line} column {column}); expected each key once"
            ),
        },
    })
}

fn parse_json(
    what: &'static str,
    expected: &'static str,
    input: &[u8],
) -> Result<(Shape, serde_json::Value), InputError> {
    let shape = scan(what, expected, input)?;
    Ok((shape, json_value(what, expected, input)?))
}

fn json_value(
    what: &'static str,
    expected: &'static str,
    input: &[u8],
) -> Result<serde_json::Value, InputError> {
    serde_json::from_slice(input).map_err(|error| InputError::NotJson {
        what,
        expected,
        error,
    })
}

fn decode<T: DeserializeOwned>(
    what: &'static str,
    value: serde_json::Value,
) -> Result<T, InputError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        InputError::Field {
            what,
            path,
            message: err.into_inner().to_string(),
        }
    })
}

fn shape_error(what: &'static str, expected: &'static str, shape: &Shape) -> InputError {
    InputError::Shape {
        what,
        keys: shape.describe_keys(),
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{"currentReplicas": 3, "users": 10, "runTimeSeconds": 5.0,
        "requests": {"GET /x": {"method": "GET", "name": "/x", "count": 1, "failures": 0,
        "errorRate": 0.0, "requestsPerSecond": 0.2, "meanMs": 1.0, "medianMs": 1.0,
        "minMs": 1.0, "maxMs": 1.0, "p75Ms": 1.0, "p90Ms": 1.0, "p95Ms": 1.0, "p99Ms": 1.0}}}"#;

    fn v2(run_type_key: &str, run_type: &str) -> String {
        let value = serde_json::json!({
            "metrics": [{"resource": "fib", "value": format!("{REPORT}\n")}],
            "resource": {"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "fib", "namespace": "default", "uid": "x"},
                "spec": {"replicas": 4, "template": {}}, "status": {"replicas": 4}},
            run_type_key: run_type,
        });
        value.to_string()
    }

    #[test]
    fn decodes_v2_evaluate_input_with_a_trailing_newline_in_the_value() {
        let req = parse_evaluate_input_for(v2("runType", "api").as_bytes(), Keep::All).unwrap();
        assert_eq!(req.run_type, RunType::Api);
        assert_eq!(req.report.users, 10);
        assert_eq!(req.current_replicas(), Some(3));
        assert_eq!(req.resource.unwrap().describe(), "Deployment/fib");
    }

    #[test]
    fn decodes_legacy_evaluate_input() {
        let req =
            parse_evaluate_input_for(v2("run_type", "api_dry_run").as_bytes(), Keep::All).unwrap();
        assert!(req.run_type.is_dry_run());
    }

    #[test]
    fn decodes_a_bare_report_as_a_scaler_run() {
        let req = parse_evaluate_input_for(REPORT.as_bytes(), Keep::All).unwrap();
        assert_eq!(req.run_type, RunType::Scaler);
        assert!(req.resource.is_none());
    }

    #[test]
    fn takes_replicas_from_the_resource_when_the_report_has_none() {
        let report = REPORT.replace("\"currentReplicas\": 3,", "");
        let input = serde_json::json!({"metrics": [{"value": report}],
            "resource": {"spec": {"replicas": 7}}, "runType": "scaler"});
        let req = parse_evaluate_input_for(input.to_string().as_bytes(), Keep::All).unwrap();
        assert_eq!(req.current_replicas(), Some(7));
    }

    #[test]
    fn reads_ready_replicas_from_the_status_with_an_omitted_count_as_zero() {
        let ready = |resource: serde_json::Value| {
            let input = serde_json::json!({"metrics": [{"value": REPORT}],
                "resource": resource, "runType": "scaler"});
            parse_evaluate_input_for(input.to_string().as_bytes(), Keep::All)
                .unwrap()
                .ready_replicas()
        };
        let cases = [
            (
                serde_json::json!({"kind": "Deployment", "spec": {"replicas": 4}}),
                None,
            ),
            (
                serde_json::json!({"kind": "Deployment", "status": {"replicas": 4, "readyReplicas": 1,
                    "availableReplicas": 1, "updatedReplicas": 4}}),
                Some(1),
            ),
            (
                serde_json::json!({"kind": "StatefulSet", "status": {"replicas": 2}}),
                Some(0),
            ),
            (
                serde_json::json!({"kind": "ReplicaSet", "status": {}}),
                Some(0),
            ),
            (
                serde_json::json!({"kind": "Rollout", "status": {"readyReplicas": 3}}),
                Some(3),
            ),
            (
                serde_json::json!({"kind": "MyApp", "status": {"phase": "Running"}}),
                None,
            ),
            (serde_json::json!("fibonacci"), None),
        ];
        for (resource, want) in cases {
            assert_eq!(ready(resource.clone()), want, "{resource}");
        }
    }

    #[test]
    fn evaluate_errors_name_the_field_and_the_expectation() {
        let cases = [
            (
                "",
                "stdin is not valid JSON: EOF while parsing a value at line 1 column 0",
            ),
            (
                "[1]",
                "stdin has an unknown shape (top-level keys: none, it is an array)",
            ),
            (
                "{\"foo\": 1}",
                "stdin has an unknown shape (top-level keys: foo)",
            ),
            ("{\"metrics\": []}", "stdin: field 'metrics': is empty"),
            (
                "{\"metrics\": [{\"value\": 3}]}",
                "stdin: field 'metrics[0].value': invalid type: integer `3`, expected a string",
            ),
            (
                "{\"metrics\": [{\"value\": \"oops\"}]}",
                "metrics[0].value is not valid JSON",
            ),
            (
                "{\"metrics\": [{\"value\": \"{}\"}]}",
                "metrics[0].value has an unknown shape (top-level keys: none)",
            ),
            (
                "{\"metrics\": [{\"value\": \"{\\\"requests\\\": {\\\"GET /\\\": {}}}\"}]}",
                "metrics[0].value: field 'requests.GET /': missing field `method`",
            ),
            (
                "{\"metrics\": [{\"value\": \"{\\\"requests\\\": {}}\"}], \"runType\": \"later\"}",
                "stdin: field 'runType': unknown variant `later`, expected one of `scaler`, `api`, `api_dry_run`",
            ),
            (
                "{\"requests\": {}, \"requestTimeoutMs\": 0}",
                "stdin: field 'requestTimeoutMs': '0' is impossible",
            ),
            (
                "{\"requests\": {}, \"currentReplicas\": -1}",
                "stdin: field 'currentReplicas': invalid value: integer `-1`, expected u32",
            ),
        ];
        for (input, expected) in cases {
            let err = parse_evaluate_input_for(input.as_bytes(), Keep::All)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(expected),
                "input {input:?}\n got: {err}\nwant: {expected}"
            );
            assert!(!err.contains('\n'), "error must be one line: {err}");
        }
    }

    #[test]
    fn decodes_v2_and_legacy_metric_input() {
        let v2 = r#"{"resource": {"kind": "Deployment", "metadata": {"name": "fib"}, "spec": {"replicas": 2}}, "runType": "api"}"#;
        let info = parse_metric_input(v2.as_bytes()).unwrap();
        assert_eq!(
            (info.resource.replicas(), info.run_type),
            (Some(2), RunType::Api)
        );
        let legacy =
            r#"{"kind": "Deployment", "metadata": {"name": "fib"}, "spec": {"replicas": 5}}"#;
        let info = parse_metric_input(legacy.as_bytes()).unwrap();
        assert_eq!(
            (info.resource.replicas(), info.run_type),
            (Some(5), RunType::Scaler)
        );
        let err = parse_metric_input(b"{\"x\": 1}").unwrap_err().to_string();
        assert!(err.contains("unknown shape (top-level keys: x)"), "{err}");
    }

    #[test]
    fn evaluation_is_camel_case_on_the_wire() {
        let json = serde_json::to_string(&Evaluation { target_replicas: 4 }).unwrap();
        assert_eq!(json, r#"{"targetReplicas":4}"#);
    }
}
