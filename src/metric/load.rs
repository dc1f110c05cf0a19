//! The load beside the latency: the report's `load` object, and the CPU
//! utilisation the metric stage computes from the CPA's `kubernetesMetrics`
//! ([`crate::cpa::metrics`]).
//!
//! The utilisation is `k8shorizmetrics`' `GetResourceUtilizationRatio`: the
//! sum of the measured pods' usage over the sum of *those* pods' requests,
//! both in millicores. It is an average per pod (1.0: every measured pod uses
//! its whole request), never to be divided by a replica count, and it may
//! exceed 1.0 up to the pods' limit ([`CpuLoad::cpu_limit_utilization`]).
//!
//! Reporting is not deciding: the metric stage only states the figures, and
//! the HPA's treatment of pods without a sample is left to the evaluate stage,
//! which gets both of the HPA's views ([`CpuLoad::scale_up_cpu_utilization`],
//! [`CpuLoad::scale_down_cpu_utilization`]). A missing or malformed
//! `kubernetesMetrics` costs one log line and the `load` key, never the run.

use crate::cpa::metrics::{self, CpuInput};
use crate::report::ReportWithShadow;
pub use crate::report::{CpuLoad, Load};

/// Why a cpu metric gave no utilisation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    /// No requests: a target type other than `Utilization` (checked earlier),
    /// or a CPA that left them out.
    #[error(
        "kubernetesMetrics: the cpu metric has no requests; expected the pods' CPU requests \
         (target type Utilization, and a CPU request in every container)"
    )]
    NoRequests,
    /// No measured pod has a request: every pod missing or ignored.
    #[error(
        "kubernetesMetrics: no pod has both a cpu sample and a request ({missing} missing, {ignored} ignored \
         of {total}); expected at least one measured pod"
    )]
    NothingMeasured {
        /// Pods without a sample.
        missing: usize,
        /// Pods left out.
        ignored: usize,
        /// Every pod listed.
        total: i64,
    },
}

/// The CPU figures of `input`, as `GetResourceUtilizationRatio` computes the
/// utilisation: over the pods of `pod_metrics_info` that have a request.
pub fn cpu_load(input: &CpuInput) -> Result<CpuLoad, LoadError> {
    let metric = &input.metric;
    let requests = metric.requests.as_ref().ok_or(LoadError::NoRequests)?;
    let nothing = || LoadError::NothingMeasured {
        missing: metric.missing_pods.len(),
        ignored: metric.ignored_pods.len(),
        total: metric.total_pods,
    };
    let mut used = 0.0;
    let mut requested = 0.0;
    let mut measured = 0u32;
    let mut oldest: Option<jiff::Timestamp> = None;
    let mut window_ns = 0i64;
    for (pod, sample) in &metric.pod_metrics_info {
        let Some(&request) = requests.get(pod) else {
            continue; // an extraneous sample, as the HPA treats it
        };
        used += sample.value_milli as f64;
        requested += request as f64;
        measured += 1;
        oldest = Some(oldest.map_or(sample.timestamp, |t| t.min(sample.timestamp)));
        window_ns = window_ns.max(sample.window_ns);
    }
    let sampled_at = oldest.ok_or_else(nothing)?;
    if requested <= 0.0 {
        return Err(nothing());
    }
    let request_of = |pods: &metrics::PodSet| -> f64 {
        pods.0
            .iter()
            .filter_map(|pod| requests.get(pod))
            .map(|&request| request as f64)
            .sum()
    };
    let missing = request_of(&metric.missing_pods);
    let ignored = request_of(&metric.ignored_pods);
    let count = |pods: &metrics::PodSet| u32::try_from(pods.len()).unwrap_or(u32::MAX);
    let cpu_limit_utilization = input.template.and_then(|template| {
        let limit = template.limit_milli?;
        (template.request_milli > 0.0).then(|| limit / template.request_milli)
    });
    Ok(CpuLoad {
        cpu_utilization: used / requested,
        scale_up_cpu_utilization: used / (requested + missing + ignored),
        scale_down_cpu_utilization: (used + missing) / (requested + missing),
        cpu_limit_utilization,
        pods_measured: measured,
        pods_ready: u32::try_from(metric.ready_pod_count.max(0)).unwrap_or(u32::MAX),
        pods_ignored: count(&metric.ignored_pods),
        pods_missing: count(&metric.missing_pods),
        sampled_at,
        window_seconds: window_ns.max(0) as f64 / 1e9,
    })
}

/// The `load` of the metric stage's stdin `input`, with one log line saying
/// what it is or why there is none; `None` for an empty `input` (the replica
/// count came from `--replicas`) and whenever no source gave figures.
pub fn from_metric_input(input: &[u8]) -> Option<Load> {
    if input.is_empty() {
        return None;
    }
    let read = match metrics::read_cpu(input) {
        Ok(Some(read)) => read,
        Ok(None) => {
            tracing::info!(
                "load: stdin has no kubernetesMetrics (the CPA config has no kubernetesMetricSpecs, or the CPA \
                 could not gather them): the report has no load"
            );
            return None;
        }
        Err(err) => {
            tracing::warn!("load: {err}; the report has no load");
            return None;
        }
    };
    if let Some(problem) = &read.template_problem {
        tracing::warn!("load: {problem}; cpuLimitUtilization is left out");
    }
    match cpu_load(&read) {
        Ok(cpu) => {
            tracing::info!("{}", describe(&cpu));
            Some(Load {
                cpu: Some(cpu),
                ..Load::default()
            })
        }
        Err(err) => {
            tracing::warn!("load: {err}; the report has no load");
            None
        }
    }
}

/// The report with `load` in it and in its early-stop shadow, which
/// describe the same moment.
pub fn attach(mut report: ReportWithShadow, load: Option<Load>) -> ReportWithShadow {
    if let Some(shadow) = &mut report.early_stop_shadow {
        shadow.load.clone_from(&load);
    }
    report.report.load = load;
    report
}

/// One line for the log: `load: CPU 0.60 of the request per pod over 2 pods
/// (1 missing, 1 ignored; limit 2.00), sampled at ... over 15 s`.
fn describe(cpu: &CpuLoad) -> String {
    let limit = cpu
        .cpu_limit_utilization
        .map(|limit| format!("; limit {limit:.2}"))
        .unwrap_or_default();
    format!(
        "load: CPU {:.2} of the request per pod over {} pod(s) ({} missing, {} ignored{limit}), sampled at {} over {:.0} s",
        cpu.cpu_utilization,
        cpu.pods_measured,
        cpu.pods_missing,
        cpu.pods_ignored,
        cpu.sampled_at,
        cpu.window_seconds
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpa::metrics::{MetricTarget, PodMetric, PodSet, ResourceMetric, TemplateCpu};

    const AT: &str = "2026-12-04T16:30:15Z";

    fn sample(value_milli: i64) -> PodMetric {
        PodMetric {
            timestamp: AT.parse().unwrap(),
            window_ns: 15_000_000_000,
            value_milli,
        }
    }

    fn input(metric: ResourceMetric, template: Option<TemplateCpu>) -> CpuInput {
        CpuInput {
            metric,
            target: MetricTarget {
                kind: "Utilization".into(),
                average_utilization: None,
            },
            template,
            template_problem: None,
        }
    }

    fn three_pods() -> ResourceMetric {
        ResourceMetric {
            pod_metrics_info: [
                ("a".to_string(), sample(450)),
                ("b".to_string(), sample(150)),
            ]
            .into(),
            requests: Some(
                [
                    ("a".to_string(), 500),
                    ("b".to_string(), 500),
                    ("c".to_string(), 500),
                ]
                .into(),
            ),
            ready_pod_count: 2,
            ignored_pods: PodSet::from_iter(["c"]),
            missing_pods: PodSet::default(),
            total_pods: 3,
            timestamp: Some(AT.parse().unwrap()),
        }
    }

    #[test]
    fn the_utilisation_is_over_the_measured_pods_requests_only() {
        let cpu = cpu_load(&input(three_pods(), None)).unwrap();
        // 450m + 150m over two 500m pods, the third ignored: 0.60, not 0.40.
        assert!((cpu.cpu_utilization - 0.60).abs() < 1e-12, "{cpu:?}");
        assert_eq!(
            (
                cpu.pods_measured,
                cpu.pods_ready,
                cpu.pods_ignored,
                cpu.pods_missing
            ),
            (2, 2, 1, 0)
        );
        // On a scale-up the HPA counts the ignored pod at 0: 600 / 1500.
        assert!((cpu.scale_up_cpu_utilization - 0.40).abs() < 1e-12);
        // On a scale-down it leaves the ignored pod out.
        assert!((cpu.scale_down_cpu_utilization - 0.60).abs() < 1e-12);
        assert_eq!(cpu.cpu_limit_utilization, None);
        assert_eq!(cpu.window_seconds, 15.0);
        assert_eq!(cpu.window_start(), "2026-12-04T16:30:00Z".parse().unwrap());
    }

    #[test]
    fn missing_pods_count_at_their_request_for_a_scale_down_and_at_zero_for_a_scale_up() {
        let mut metric = three_pods();
        metric.ignored_pods = PodSet::default();
        metric.missing_pods = PodSet::from_iter(["c"]);
        let cpu = cpu_load(&input(metric, None)).unwrap();
        assert!((cpu.cpu_utilization - 0.60).abs() < 1e-12);
        assert!((cpu.scale_down_cpu_utilization - 1100.0 / 1500.0).abs() < 1e-12);
        assert!((cpu.scale_up_cpu_utilization - 600.0 / 1500.0).abs() < 1e-12);
        assert_eq!((cpu.pods_missing, cpu.pods_ignored), (1, 0));
    }

    #[test]
    fn the_utilisation_may_exceed_one_up_to_the_template_s_limit() {
        let mut metric = three_pods();
        metric.pod_metrics_info = [
            ("a".to_string(), sample(1000)),
            ("b".to_string(), sample(900)),
        ]
        .into();
        let template = TemplateCpu {
            request_milli: 500.0,
            limit_milli: Some(1000.0),
        };
        let cpu = cpu_load(&input(metric, Some(template))).unwrap();
        assert!((cpu.cpu_utilization - 1.9).abs() < 1e-12);
        assert_eq!(cpu.cpu_limit_utilization, Some(2.0));
    }

    #[test]
    fn a_sample_without_a_request_is_left_out_and_no_measured_pod_is_an_error() {
        let mut metric = three_pods();
        metric.pod_metrics_info.insert("stray".into(), sample(999));
        let cpu = cpu_load(&input(metric.clone(), None)).unwrap();
        assert_eq!(cpu.pods_measured, 2);
        assert!((cpu.cpu_utilization - 0.60).abs() < 1e-12);
        metric.pod_metrics_info.clear();
        metric.missing_pods = PodSet::from_iter(["a", "b"]);
        assert_eq!(
            cpu_load(&input(metric.clone(), None))
                .unwrap_err()
                .to_string(),
            "kubernetesMetrics: no pod has both a cpu sample and a request (2 missing, 1 ignored of 3); \
             expected at least one measured pod"
        );
        metric.requests = None;
        assert_eq!(cpu_load(&input(metric, None)), Err(LoadError::NoRequests));
    }

    #[test]
    fn the_oldest_sample_and_the_longest_window_are_reported() {
        let mut metric = three_pods();
        metric.pod_metrics_info.insert(
            "c".into(),
            PodMetric {
                timestamp: "2026-12-04T16:30:05Z".parse().unwrap(),
                window_ns: 60_000_000_000,
                value_milli: 0,
            },
        );
        metric.ignored_pods = PodSet::default();
        let cpu = cpu_load(&input(metric, None)).unwrap();
        assert_eq!(cpu.sampled_at, "2026-12-04T16:30:05Z".parse().unwrap());
        assert_eq!(cpu.window_seconds, 60.0);
    }

    #[test]
    fn the_cpa_fixture_gives_the_documented_load_object() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/kubernetes-metrics/cpa-2.12.2.json");
        let load = from_metric_input(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(
            serde_json::to_value(&load).unwrap(),
            serde_json::json!({
                "cpuUtilization": 0.6, "scaleUpCpuUtilization": 0.3,
                "scaleDownCpuUtilization": 110.0 / 150.0, "cpuLimitUtilization": 2.0,
                "podsMeasured": 2, "podsReady": 2, "podsIgnored": 1, "podsMissing": 1,
                "sampledAt": AT, "windowSeconds": 15.0
            })
        );
        let back: Load = serde_json::from_value(serde_json::to_value(&load).unwrap()).unwrap();
        assert_eq!(back, load);
        assert_eq!(
            serde_json::from_str::<Load>(r#"{"queryValue": 12.5}"#).unwrap(),
            Load {
                cpu: None,
                query_value: Some(12.5)
            },
            "a load without cpu keys has no cpu figures"
        );
        let err = serde_json::from_str::<Load>(r#"{"cpuUtilization": "high", "podsMeasured": 1}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cpuUtilization: invalid type: string \"high\", expected f64"),
            "{err}"
        );
        let err = serde_json::from_str::<Load>(r#"{"cpuUtilization": 0.5}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("missing field `scaleUpCpuUtilization`"),
            "{err}"
        );
    }

    #[test]
    fn the_evaluate_stage_reads_the_load_back_and_refuses_a_malformed_one() {
        let report = |load: serde_json::Value| {
            serde_json::json!({"metrics": [{"value": serde_json::json!({"requests": {},
                "load": load}).to_string()}], "runType": "scaler"})
            .to_string()
        };
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/kubernetes-metrics/cpa-2.12.2.json");
        let load = from_metric_input(&std::fs::read(path).unwrap()).unwrap();
        let input = report(serde_json::to_value(&load).unwrap());
        let read = crate::cpa::parse_evaluate_input_for(input.as_bytes(), crate::report::Keep::All)
            .unwrap();
        assert_eq!(read.report.load, Some(load));
        let input = report(serde_json::json!({"cpuUtilization": true}));
        let err = crate::cpa::parse_evaluate_input_for(input.as_bytes(), crate::report::Keep::All)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "metrics[0].value: field 'load': cpuUtilization: invalid type: boolean `true`"
            ),
            "{err}"
        );
    }

    #[test]
    fn no_or_bad_kubernetes_metrics_give_no_load() {
        assert_eq!(from_metric_input(b""), None);
        assert_eq!(
            from_metric_input(br#"{"resource": {"spec": {"replicas": 2}}}"#),
            None
        );
        assert_eq!(
            from_metric_input(br#"{"resource": {}, "kubernetesMetrics": "oops"}"#),
            None
        );
    }
}
