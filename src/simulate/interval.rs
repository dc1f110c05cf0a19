//! One interval of the CPA loop, as the CPA runs it: build the v2 JSON for
//! the Deployment as the API server reports it (its replicas, and the status
//! of the capacity model at the interval's start), run the metric and evaluate shell
//! methods with the plugin's environment, then clamp, stabilize and apply the
//! evaluation ([`super::scaling`]) and log one line.

use std::ffi::OsString;
use std::time::Duration;

use tokio::time::Instant;

use super::capacity::{Capacity, DeploymentStatus};
use super::cpa_runner::{MethodError, MethodOutput, last_line};
use super::metrics_server::{self, MetricsServer, POD_CPU_LIMIT_MILLI, POD_CPU_REQUEST_MILLI};
use super::output::PluginFiles;
use super::scaling::{self, Scaling, Stabilization};
use super::settings::Settings;
use super::shadow::{self, ShadowDecision};
use super::timeline::{IntervalOutcome, IntervalRecord, LatencyTarget};
use super::{DEFAULT_PLUGIN_ENV, RESOURCE_NAME};
use crate::cpa::metrics::KubernetesMetric;
use crate::cpa::{self, Evaluation, RunType};
use crate::report::{LatencyReport, RequestStats};

/// The stages' environment: the simulation's defaults, what the simulation
/// itself must set (where the service is, where the files are, the bounds),
/// then the user's own settings.
pub fn plugin_env(
    settings: &Settings,
    base_url: &str,
    files: &PluginFiles,
) -> Vec<(String, OsString)> {
    let mut env: Vec<(String, OsString)> = DEFAULT_PLUGIN_ENV
        .iter()
        .map(|(key, value)| (key.to_string(), OsString::from(value)))
        .collect();
    env.extend([
        ("gooseHost".to_string(), OsString::from(base_url)),
        (
            "scenarioFilePath".to_string(),
            files.scenario.clone().into_os_string(),
        ),
        (
            "evaluationConfigFilePath".to_string(),
            files.evaluation_config.clone().into_os_string(),
        ),
        (
            "decayInfoFilePath".to_string(),
            files.decay_info.clone().into_os_string(),
        ),
        (
            "minReplicas".to_string(),
            settings.bounds.min.to_string().into(),
        ),
        (
            "maxReplicas".to_string(),
            settings.bounds.max.to_string().into(),
        ),
    ]);
    env.extend(
        settings
            .plugin_env
            .iter()
            .map(|(key, value)| (key.clone(), OsString::from(value))),
    );
    env
}

/// The simulated Deployment as the CPA reads it from the API server:
/// `spec.replicas`, the pod template with `example/deployment.yaml`'s CPU
/// request and limit, and the `status` the capacity model gives.
fn deployment(status: DeploymentStatus) -> serde_json::Value {
    let cpu = |milli: i64| format!("{milli}m");
    serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": RESOURCE_NAME, "namespace": "default"},
        "spec": {
            "replicas": status.replicas,
            "selector": {"matchLabels": {"app": RESOURCE_NAME}},
            "template": {
                "metadata": {"labels": {"app": RESOURCE_NAME}},
                "spec": {"containers": [{
                    "name": RESOURCE_NAME,
                    "resources": {
                        "requests": {"cpu": cpu(POD_CPU_REQUEST_MILLI)},
                        "limits": {"cpu": cpu(POD_CPU_LIMIT_MILLI)},
                    },
                }]},
            },
        },
        "status": status,
    })
}

/// The metric stage's stdin (`metric.Info`), with `kubernetesMetrics` when
/// the CPA gathered them (Go's `omitempty` leaves an empty list out).
fn metric_input(
    resource: &serde_json::Value,
    run_type: RunType,
    kubernetes_metrics: Option<&KubernetesMetric>,
) -> Vec<u8> {
    let mut input = serde_json::json!({"resource": resource, "runType": run_type});
    if let Some(metric) = kubernetes_metrics {
        input["kubernetesMetrics"] = serde_json::json!([metric]);
    }
    input.to_string().into_bytes()
}

/// The evaluate stage's stdin (`evaluate.Info`): the metric stage's stdout
/// verbatim as the one metric's value.
fn evaluate_input(
    resource: &serde_json::Value,
    metric_stdout: String,
    run_type: RunType,
) -> Vec<u8> {
    serde_json::json!({
        "metrics": [{"resource": RESOURCE_NAME, "value": metric_stdout}],
        "resource": resource,
        "runType": run_type,
    })
    .to_string()
    .into_bytes()
}

/// The stages' environment `at_seconds` into a run whose simulated
/// clock started at `clock_start`: the stages' `env` plus `gpaNow`, the
/// simulated instant (unless `env` sets gpaNow, from --set, which then holds
/// for every interval).
fn evaluate_env(
    env: &[(String, OsString)],
    clock_start: jiff::Timestamp,
    at_seconds: f64,
) -> Vec<(String, OsString)> {
    let mut env = env.to_vec();
    if env.iter().all(|(key, _)| key != "gpaNow") {
        let elapsed = jiff::SignedDuration::try_from_secs_f64(at_seconds).unwrap_or_default();
        let now = clock_start.checked_add(elapsed).unwrap_or(clock_start);
        env.push(("gpaNow".to_string(), OsString::from(now.to_string())));
    }
    env
}

/// The CPA's side of the loop: runs the stages, scales the replicas.
pub struct Cpa<'a> {
    settings: &'a Settings,
    capacity: &'a Capacity,
    /// Where `kubernetesMetrics` come from; `None`: the CPA config has no
    /// `kubernetesMetricSpecs`.
    metrics_server: Option<MetricsServer>,
    env: Vec<(String, OsString)>,
    target: Option<&'a LatencyTarget>,
    stabilization: Stabilization,
    /// `(seconds since start, replicas from then on)`.
    changes: Vec<(f64, u32)>,
    start: Instant,
    /// The simulated clock at `start`: `--start-at`, else the system clock.
    clock_start: jiff::Timestamp,
}

impl<'a> Cpa<'a> {
    /// The CPA for a simulation begun at `start`, running the stages with
    /// `env` and judging the measured figures on `target`'s request.
    pub fn new(
        settings: &'a Settings,
        capacity: &'a Capacity,
        env: Vec<(String, OsString)>,
        target: Option<&'a LatencyTarget>,
        start: Instant,
    ) -> Self {
        Cpa {
            settings,
            capacity,
            metrics_server: None,
            env,
            target,
            stabilization: Stabilization::new(settings.downscale_stabilization),
            changes: vec![(0.0, settings.initial_replicas)],
            start,
            clock_start: settings.start_at.unwrap_or_else(jiff::Timestamp::now),
        }
    }

    /// This CPA with `kubernetesMetricSpecs` for cpu: each interval it
    /// gathers the latest of `server`'s samples for the metric stage.
    pub fn with_metrics_server(self, server: MetricsServer) -> Self {
        Cpa {
            metrics_server: Some(server),
            ..self
        }
    }

    /// What the CPA gathers for `kubernetesMetrics` now, before the metric
    /// stage runs.
    fn kubernetes_metrics(&self) -> Option<KubernetesMetric> {
        let server = self.metrics_server.as_ref()?;
        let now = self.start.elapsed();
        let pods: Vec<_> = self
            .capacity
            .pods()
            .into_iter()
            .map(|(pod, _)| pod)
            .collect();
        let replicas = i32::try_from(pods.len()).unwrap_or(i32::MAX);
        let clock_start = self.clock_start;
        let clock = move |at: Duration| {
            jiff::SignedDuration::try_from(at)
                .ok()
                .and_then(|elapsed| clock_start.checked_add(elapsed).ok())
                .unwrap_or(clock_start)
        };
        let metric = metrics_server::gather(&pods, server.latest().as_ref(), now, replicas, clock);
        if metric.is_none() {
            tracing::info!(
                "kubernetesMetrics: no pod has a cpu sample yet (the metrics server samples every {} ms): \
                 the CPA sends none",
                self.settings.metrics_window.as_millis()
            );
        }
        metric
    }

    /// The replica changes so far: `(seconds since start, replicas from then
    /// on)`, the first at 0.
    pub fn into_changes(self) -> Vec<(f64, u32)> {
        self.changes
    }

    /// One interval, begun at `at` with the profile offering `rate` requests/s.
    pub async fn interval(&mut self, at: Duration, rate: f64) -> IntervalRecord {
        let status = self.capacity.status();
        let replicas = status.replicas;
        let mut record = IntervalRecord {
            at_seconds: at.as_secs_f64(),
            offered_requests_per_second: rate,
            replicas,
            serving_replicas: status.ready_replicas,
            status,
            measured_mean_ms: None,
            measured_p95_ms: None,
            evaluated_replicas: None,
            decided_replicas: None,
            outcome: IntervalOutcome::Skipped,
            reason: String::new(),
            metric_seconds: None,
            evaluate_seconds: None,
            early_stop_shadow: None,
            measured_query_value: None,
            cpu_utilization: None,
        };
        match self.stages(status, &mut record).await {
            Ok(evaluated) => self.apply(evaluated, replicas, &mut record),
            Err(reason) => {
                record.outcome = IntervalOutcome::Skipped;
                record.reason = reason;
            }
        }
        self.log(&record);
        record
    }

    /// Runs the metric and evaluate stages; the evaluated `targetReplicas`, or
    /// why the interval is skipped. A report with an early-stop shadow is
    /// first evaluated as a dry run on the shadow, so both decisions see the
    /// same state.
    async fn stages(
        &self,
        status: DeploymentStatus,
        record: &mut IntervalRecord,
    ) -> Result<i32, String> {
        let resource = deployment(status);
        let metric = self.metric_stage(&resource, record).await?;
        let shadow = match shadow::shadow_of(&metric.stdout) {
            Some((report, full_seconds)) => Some(
                self.shadow_stage(&resource, report, full_seconds, record)
                    .await,
            ),
            None => None,
        };
        let evaluated = self.evaluate_stage(&resource, metric.stdout, record).await;
        record.early_stop_shadow = shadow.map(|shadow| ShadowDecision {
            agrees: shadow.evaluated_replicas == evaluated.as_ref().ok().copied(),
            ..shadow
        });
        evaluated
    }

    /// Runs the evaluate stage as a dry run on the shadow report: what early
    /// stop would have decided. Its failure is recorded, not the interval's.
    async fn shadow_stage(
        &self,
        resource: &serde_json::Value,
        report: LatencyReport,
        full_run_time_seconds: f64,
        record: &IntervalRecord,
    ) -> ShadowDecision {
        let mut decision = ShadowDecision {
            stopped_early: report.stopped_early == Some(true),
            run_time_seconds: report.run_time_seconds,
            full_run_time_seconds,
            evaluated_replicas: None,
            reason: String::new(),
            agrees: false,
        };
        let stdout = serde_json::to_string(&report).unwrap_or_default();
        let json = evaluate_input(resource, stdout, RunType::ApiDryRun);
        let env = evaluate_env(&self.env, self.clock_start, record.at_seconds);
        match self.settings.evaluate.run(&json, &env).await {
            Ok(evaluate) => {
                log_stderr("evaluate (shadow)", &evaluate.stderr);
                decision.reason = last_line(&evaluate.stderr)
                    .map(|line| without_level(&line).to_string())
                    .unwrap_or_default();
                match serde_json::from_str::<Evaluation>(evaluate.stdout.trim()) {
                    Ok(evaluation) => {
                        decision.evaluated_replicas = Some(evaluation.target_replicas)
                    }
                    Err(err) => {
                        decision.reason =
                            format!("evaluate stage (shadow) printed no evaluation: {err}")
                    }
                }
            }
            Err(err) => decision.reason = format!("evaluate stage (shadow): {err}"),
        }
        decision
    }

    /// Runs the metric stage and records what its report measured.
    async fn metric_stage(
        &self,
        resource: &serde_json::Value,
        record: &mut IntervalRecord,
    ) -> Result<MethodOutput, String> {
        let json = metric_input(
            resource,
            self.settings.run_type,
            self.kubernetes_metrics().as_ref(),
        );
        let metric = self
            .settings
            .metric
            .run(
                &json,
                &evaluate_env(&self.env, self.clock_start, record.at_seconds),
            )
            .await
            .map_err(|err| stage_failed("metric", &err))?;
        record.metric_seconds = Some(metric.elapsed.as_secs_f64());
        log_stderr("metric", &metric.stderr);
        match cpa::parse_report("metric stdout", metric.stdout.as_bytes()) {
            Ok(report) => {
                let probe_requests: u64 = report.requests.values().map(|s| s.count).sum();
                let early = if report.stopped_early == Some(true) {
                    ", stopped early"
                } else {
                    ""
                };
                record.measured_query_value =
                    report.load.as_ref().and_then(|load| load.query_value);
                let query = record
                    .measured_query_value
                    .map(|value| format!(", load query {value:.1}"))
                    .unwrap_or_default();
                tracing::info!(
                    "metric stage: {probe_requests} probe requests in {:.2} s{early}{query}",
                    report.run_time_seconds
                );
                if let Some(stats) = measured(&report, self.target) {
                    record.measured_mean_ms = Some(stats.mean_ms);
                    record.measured_p95_ms = Some(stats.p95_ms);
                }
                record.cpu_utilization = report
                    .load
                    .and_then(|load| load.cpu)
                    .map(|cpu| cpu.cpu_utilization);
            }
            // The CPA hands stdout on verbatim; the evaluate stage will refuse it.
            Err(err) => tracing::warn!("the metric stage printed no latency report: {err}"),
        }
        Ok(metric)
    }

    /// Runs the evaluate stage on the metric stage's stdout; its
    /// `targetReplicas`, with its explanation recorded as the reason.
    async fn evaluate_stage(
        &self,
        resource: &serde_json::Value,
        metric_stdout: String,
        record: &mut IntervalRecord,
    ) -> Result<i32, String> {
        let json = evaluate_input(resource, metric_stdout, self.settings.run_type);
        let evaluate = self
            .settings
            .evaluate
            .run(
                &json,
                &evaluate_env(&self.env, self.clock_start, record.at_seconds),
            )
            .await
            .map_err(|err| stage_failed("evaluate", &err))?;
        record.evaluate_seconds = Some(evaluate.elapsed.as_secs_f64());
        log_stderr("evaluate", &evaluate.stderr);
        record.reason = last_line(&evaluate.stderr)
            .map(|line| without_level(&line).to_string())
            .unwrap_or_default();
        let evaluation: Evaluation =
            serde_json::from_str(evaluate.stdout.trim()).map_err(|err| {
                format!(
                    "evaluate stage printed '{}': {err}; expected {{\"targetReplicas\": N}}",
                    evaluate.stdout.trim()
                )
            })?;
        record.evaluated_replicas = Some(evaluation.target_replicas);
        Ok(evaluation.target_replicas)
    }

    /// What the CPA does with the evaluation.
    fn apply(&mut self, evaluated: i32, replicas: u32, record: &mut IntervalRecord) {
        if self.settings.run_type.is_dry_run() {
            record.outcome = IntervalOutcome::DryRun;
            return;
        }
        let now = self.start.elapsed();
        match scaling::scale(
            evaluated,
            replicas,
            self.settings.bounds,
            &mut self.stabilization,
            now,
        ) {
            Scaling::Disabled => {
                record.outcome = IntervalOutcome::Disabled;
                record.reason = format!(
                    "autoscaling disabled: 0 replicas with minReplicas {}",
                    self.settings.bounds.min
                );
            }
            Scaling::To { replicas: to, .. } => {
                record.decided_replicas = Some(to);
                if to == replicas {
                    record.outcome = IntervalOutcome::Unchanged;
                } else {
                    self.capacity.scale_to(to);
                    self.changes.push((now.as_secs_f64(), to));
                    record.outcome = IntervalOutcome::Scaled;
                }
            }
        }
    }

    fn log(&self, record: &IntervalRecord) {
        let ms = |value: Option<f64>| value.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"));
        let decision = match (
            record.outcome,
            record.decided_replicas,
            record.evaluated_replicas,
        ) {
            (IntervalOutcome::Scaled, Some(to), _) => format!("-> {to}"),
            (IntervalOutcome::Unchanged, Some(to), _) => format!("= {to}"),
            (IntervalOutcome::DryRun, _, Some(evaluated)) => format!("dry run {evaluated}"),
            (outcome, _, _) => outcome.as_str().to_string(),
        };
        tracing::info!(
            "t={:>4.0}s load {:>5.0} rps replicas {:>2} ({} serving) mean {:>7} ms p95 {:>7} ms cpu {:>4} {:<10} {}",
            record.at_seconds,
            record.offered_requests_per_second,
            record.replicas,
            record.serving_replicas,
            ms(record.measured_mean_ms),
            ms(record.measured_p95_ms),
            record
                .cpu_utilization
                .map_or_else(|| "-".to_string(), |cpu| format!("{cpu:.2}")),
            decision,
            record.reason
        );
        if let Some(shadow) = &record.early_stop_shadow {
            tracing::info!("t={:>4.0}s {}", record.at_seconds, describe_shadow(shadow));
        }
    }
}

/// `early stop would have stopped after 2.6 s of 10.3 s and decided 4
/// (agrees): <reason>`, for the interval's shadow line.
fn describe_shadow(shadow: &ShadowDecision) -> String {
    let when = if shadow.stopped_early {
        format!(
            "would have stopped after {:.1} s of {:.1} s",
            shadow.run_time_seconds, shadow.full_run_time_seconds
        )
    } else {
        format!(
            "would have run the whole {:.1} s",
            shadow.full_run_time_seconds
        )
    };
    let decided = shadow.evaluated_replicas.map_or_else(
        || "failed".to_string(),
        |replicas| format!("decided {replicas}"),
    );
    let agrees = if shadow.agrees { "agrees" } else { "DIFFERS" };
    format!(
        "early stop {when} and {decided} ({agrees}): {}",
        shadow.reason
    )
}

/// One line for a failed stage; its whole stderr goes to the log, as the CPA
/// logs it.
fn stage_failed(stage: &str, err: &MethodError) -> String {
    if let Some(stderr) = err.stderr() {
        for line in stderr.lines().filter(|line| !line.trim().is_empty()) {
            tracing::warn!("{stage} stderr: {line}");
        }
    }
    format!("{stage} stage: {err}")
}

fn log_stderr(stage: &str, stderr: &str) {
    for line in stderr.lines().filter(|line| !line.trim().is_empty()) {
        tracing::debug!("{stage} stderr: {line}");
    }
}

/// A log line without its leading level word (`INFO`, `WARN`, ...).
fn without_level(line: &str) -> &str {
    let trimmed = line.trim_start();
    for level in ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"] {
        if let Some(rest) = trimmed.strip_prefix(level)
            && rest.starts_with(char::is_whitespace)
        {
            return rest.trim_start();
        }
    }
    trimmed
}

/// The report's figures for the target's request, else for its busiest request.
fn measured<'r>(
    report: &'r LatencyReport,
    target: Option<&LatencyTarget>,
) -> Option<&'r RequestStats> {
    target
        .and_then(|t| report.request(&t.method, &t.endpoint))
        .or_else(|| report.requests.values().max_by_key(|stats| stats.count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpa::RunType;

    #[test]
    fn the_evaluate_stage_gets_the_simulated_instant_unless_set_by_hand() {
        let start: jiff::Timestamp = "2026-03-29T00:59:00+01:00".parse().unwrap();
        let gpa_now = |env: &[(String, OsString)]| {
            env.iter()
                .filter(|(key, _)| key == "gpaNow")
                .map(|(_, value)| value.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        };
        let env = vec![("gooseUsers".to_string(), OsString::from("8"))];
        let at_60 = evaluate_env(&env, start, 60.4);
        assert_eq!(gpa_now(&at_60), ["2026-03-29T00:00:00.4Z"]);
        assert_eq!(at_60[0], env[0]);
        let by_hand = vec![("gpaNow".to_string(), OsString::from("2026-03-30T08:00:00Z"))];
        assert_eq!(
            gpa_now(&evaluate_env(&by_hand, start, 60.0)),
            ["2026-03-30T08:00:00Z"]
        );
    }

    #[test]
    fn the_level_word_is_dropped_from_a_reason() {
        assert_eq!(
            without_level("INFO scale up 1 -> 2: slow"),
            "scale up 1 -> 2: slow"
        );
        assert_eq!(without_level("  WARN  x"), "x");
        assert_eq!(without_level("INFORMATION"), "INFORMATION");
        assert_eq!(without_level("keep 3: fine"), "keep 3: fine");
    }

    #[test]
    fn the_deployment_is_a_v2_resource_with_replicas_and_a_status() {
        let status = DeploymentStatus {
            replicas: 3,
            ready_replicas: 1,
            available_replicas: 1,
            updated_replicas: 3,
        };
        let input = metric_input(&deployment(status), RunType::Scaler, None);
        let json: serde_json::Value = serde_json::from_slice(&input).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"resource": {"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "fibonacci", "namespace": "default"},
                "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "fibonacci"}},
                    "template": {"metadata": {"labels": {"app": "fibonacci"}},
                    "spec": {"containers": [{"name": "fibonacci", "resources": {
                        "requests": {"cpu": "50m"}, "limits": {"cpu": "100m"}}}]}}},
                "status": {"replicas": 3, "readyReplicas": 1,
                "availableReplicas": 1, "updatedReplicas": 3}}, "runType": "scaler"})
        );
        let parsed = cpa::parse_metric_input(&input).unwrap();
        assert_eq!(parsed.resource.replicas(), Some(3));
        let input = evaluate_input(
            &deployment(status),
            "{\"requests\": {}}\n".into(),
            RunType::Api,
        );
        // The evaluate stage reads the starting replicas from what we write.
        let request = cpa::parse_evaluate_input_for(&input, crate::report::Keep::All).unwrap();
        assert_eq!(request.ready_replicas(), Some(1));
        let json: serde_json::Value = serde_json::from_slice(&input).unwrap();
        assert_eq!(json["metrics"][0]["value"], "{\"requests\": {}}\n");
        assert_eq!(json["resource"]["status"]["readyReplicas"], 1);
        assert_eq!(json["runType"], "api");
    }

    #[test]
    fn the_metric_stage_gets_the_cpa_s_kubernetes_metrics_and_reads_them_as_load() {
        use super::super::capacity::Pod;
        let pods = [Pod {
            name: "fibonacci-00001".into(),
            created_at: None,
            ready_at: Duration::ZERO,
        }];
        let latest =
            metrics_server::sample(None, Duration::from_secs(15), &[(pods[0].clone(), 45.0)], 4);
        let clock = |_| "2026-12-04T16:30:15Z".parse().unwrap();
        let metric =
            metrics_server::gather(&pods, Some(&latest), Duration::from_secs(16), 1, clock);
        let status = DeploymentStatus {
            replicas: 1,
            ready_replicas: 1,
            available_replicas: 1,
            updated_replicas: 1,
        };
        let input = metric_input(&deployment(status), RunType::Scaler, metric.as_ref());
        let json: serde_json::Value = serde_json::from_slice(&input).unwrap();
        let sent = &json["kubernetesMetrics"][0];
        assert_eq!(sent["current_replicas"], 1);
        assert_eq!(
            sent["spec"],
            serde_json::json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization"}}})
        );
        // 45 of 60 slot-seconds busy: 75 % of the 100m limit, 1.5 of the 50m request.
        assert_eq!(
            sent["resource"]["pod_metrics_info"]["fibonacci-00001"],
            serde_json::json!({"Timestamp": "2026-12-04T16:30:15Z", "Window": 15_000_000_000u64, "Value": 75})
        );
        let load = crate::metric::load::from_metric_input(&input)
            .unwrap()
            .cpu
            .unwrap();
        assert_eq!(
            (load.cpu_utilization, load.cpu_limit_utilization),
            (1.5, Some(2.0))
        );
        // The evaluate stage's input never carries them.
        let input = evaluate_input(&deployment(status), "{}".into(), RunType::Scaler);
        let json: serde_json::Value = serde_json::from_slice(&input).unwrap();
        assert!(json.get("kubernetesMetrics").is_none());
    }
}
