//! The shipped image and example fit together: the CPA `config.yaml` that the
//! Dockerfile copies names executables the Dockerfile builds and puts at those
//! paths, its timeouts fit the metric stage's defaults, and the example's
//! image, manifests and CR agree with our settings and defaults. The
//! Dockerfiles cannot be built here (no Docker engine), so this is what keeps
//! them honest; hadolint lints them in CI.

use std::collections::BTreeMap;
use std::path::Path;

use goose_pod_autoscaler::{evaluate, metric};
use serde::Deserialize;

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|err| panic!("{}: {err}", full.display()))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CpaConfig {
    interval: u64,
    run_mode: String,
    metric: Method,
    evaluate: Method,
}

#[derive(Debug, Deserialize)]
struct Method {
    #[serde(rename = "type")]
    kind: String,
    timeout: u64,
    shell: Shell,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shell {
    entrypoint: String,
    command: Vec<String>,
    /// The CPA logs a successful run's stderr only when this is true.
    log_stderr: Option<bool>,
}

/// `COPY` instructions of a Dockerfile's last stage: destination -> source.
fn final_stage_copies(dockerfile: &str) -> BTreeMap<String, String> {
    let lines: Vec<&str> = dockerfile.lines().collect();
    let last_from = lines
        .iter()
        .rposition(|line| line.starts_with("FROM "))
        .expect("a FROM line");
    lines[last_from..]
        .iter()
        .filter_map(|line| line.strip_prefix("COPY "))
        .map(|args| {
            let words: Vec<&str> = args
                .split_whitespace()
                .filter(|word| !word.starts_with("--"))
                .collect();
            assert_eq!(words.len(), 2, "one source and one destination: {args}");
            (words[1].to_string(), words[0].to_string())
        })
        .collect()
}

#[test]
fn the_cpa_config_runs_our_two_executables_from_where_the_image_puts_them() {
    let config: CpaConfig = serde_saphyr::from_str(&read("config.yaml")).unwrap();
    let dockerfile = read("Dockerfile");
    let copies = final_stage_copies(&dockerfile);
    assert_eq!(
        config.run_mode, "per-resource",
        "a load test measures the whole service"
    );
    assert_eq!(
        copies.get("/config.yaml").map(String::as_str),
        Some("config.yaml")
    );
    for (method, binary) in [
        (&config.metric, "gpa-metric"),
        (&config.evaluate, "gpa-evaluate"),
    ] {
        assert_eq!(method.kind, "shell");
        assert_eq!(method.shell.entrypoint, format!("/{binary}"));
        assert!(
            method.shell.command.is_empty(),
            "settings travel as environment variables"
        );
        assert_eq!(
            copies.get(&method.shell.entrypoint).map(String::as_str),
            Some(format!("/src/target/release/{binary}").as_str()),
            "the image puts {binary} at the entrypoint"
        );
        assert!(
            dockerfile.contains(&format!("--bin {binary}")),
            "the build stage builds {binary}"
        );
        let source = format!("src/bin/{binary}.rs");
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(&source)
                .is_file(),
            "{source}"
        );
    }
}

#[test]
fn the_image_and_compiled_scenario_crates_build_without_the_simulator() {
    let build = read("Dockerfile")
        .lines()
        .find(|line| line.starts_with("RUN cargo build"))
        .map(str::to_string)
        .expect("the Dockerfile builds with cargo");
    assert!(build.contains("--no-default-features"), "{build}");
    let manifest = read("example/custom-metric/Cargo.toml");
    let dependency = manifest
        .lines()
        .find(|line| line.starts_with("goose-pod-autoscaler"))
        .expect("custom-metric depends on the library");
    assert!(
        dependency.contains("default-features = false"),
        "{dependency}"
    );
}

#[test]
fn the_cpa_logs_what_both_executables_write_on_stderr() {
    // Without logStderr the CPA logs stderr only when a method fails, so the
    // load test's figures and every decision would never reach `kubectl logs`.
    let config: CpaConfig = serde_saphyr::from_str(&read("config.yaml")).unwrap();
    let mut methods = vec![
        ("config.yaml metric", config.metric),
        ("config.yaml evaluate", config.evaluate),
    ];
    // A `metric` or `evaluate` entry of the CR replaces the whole method.
    let cr = objects("example/cpa.yaml");
    let cpa = cr.iter().find(|o| o.kind == "CustomPodAutoscaler").unwrap();
    for entry in cpa.spec["config"].as_array().unwrap() {
        let name = entry["name"].as_str().unwrap();
        if name == "metric" || name == "evaluate" {
            let value = entry["value"].as_str().unwrap();
            let method = serde_saphyr::from_str(value)
                .unwrap_or_else(|err| panic!("example/cpa.yaml entry '{name}': {err}"));
            methods.push((name, method));
        }
    }
    for (place, method) in methods {
        assert_eq!(
            method.shell.log_stderr,
            Some(true),
            "{place} sets shell.logStderr: true"
        );
    }
}

#[test]
fn the_cpa_timeouts_fit_the_metric_stages_defaults() {
    let config: CpaConfig = serde_saphyr::from_str(&read("config.yaml")).unwrap();
    // With early stop (the image has an evaluation config), gpa-metric ends
    // within ramp-up + its run-time cap + request timeout + 1 s.
    let metric_needs_ms = metric::DEFAULT_EARLY_STOP_RUN_TIME_SECONDS * 1000
        + metric::DEFAULT_REQUEST_TIMEOUT_MS
        + 1000;
    assert!(
        config.metric.timeout >= metric_needs_ms + 5000,
        "metric timeout {} ms leaves room beyond the {metric_needs_ms} ms a default run needs",
        config.metric.timeout
    );
    // The CPA runs one interval at a time (a longer run delays the next
    // tick), so the interval need not cover the longest run; it must fit
    // an early-stopped run and the evaluation, and keep the reaction to an
    // overload within about 15 s: an interval, then a clear verdict.
    let early_stopped_ms =
        (metric::early_stop::DEFAULT_MIN_RUN_TIME_SECONDS * 1000.0) as u64 + 1000;
    assert!(
        config.interval >= early_stopped_ms + config.evaluate.timeout,
        "an interval fits an early-stopped run and the evaluation"
    );
    assert!(
        config.interval + early_stopped_ms <= 15_000,
        "reacts within about 15 s"
    );
    assert!(
        config.evaluate.timeout >= 1000,
        "gpa-evaluate needs milliseconds, not seconds"
    );
}

#[test]
fn the_example_image_puts_its_files_where_the_defaults_point() {
    let copies = final_stage_copies(&read("example/Dockerfile"));
    assert_eq!(
        copies
            .get(metric::DEFAULT_SCENARIO_FILE)
            .map(String::as_str),
        Some("scenario.yaml")
    );
    assert_eq!(
        copies
            .get(evaluate::DEFAULT_CONFIG_PATH)
            .map(String::as_str),
        Some("evaluation_config.yaml")
    );
    for source in copies.values() {
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("example")
                .join(source)
                .is_file()
        );
    }
    let from = read("example/Dockerfile");
    let base = from
        .lines()
        .find_map(|line| line.strip_prefix("FROM "))
        .unwrap();
    assert!(
        read("Dockerfile").contains(&format!("docker build -t {base} .")),
        "the example builds on the tag the main Dockerfile documents"
    );
}

/// Settings the CPA itself reads (its config.yaml keys).
const CPA_SETTINGS: &[&str] = &[
    "interval",
    "minReplicas",
    "maxReplicas",
    "runMode",
    "downscaleStabilization",
    "startTime",
    "namespace",
    "logVerbosity",
    "initialReadinessDelay",
    "cpuInitializationPeriod",
    "requireKubernetesMetrics",
    "kubernetesMetricSpecs",
];

fn help_of(binary: &str) -> String {
    let output = std::process::Command::new(match binary {
        "gpa-metric" => env!("CARGO_BIN_EXE_gpa-metric"),
        _ => env!("CARGO_BIN_EXE_gpa-evaluate"),
    })
    .arg("--help")
    .output()
    .unwrap();
    String::from_utf8(output.stdout).unwrap()
}

#[derive(Debug, Deserialize)]
struct Object {
    kind: String,
    metadata: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    spec: serde_json::Value,
}

fn objects(path: &str) -> Vec<Object> {
    read(path)
        .split("\n---\n")
        .map(|doc| serde_saphyr::from_str(doc).unwrap_or_else(|err| panic!("{path}: {err}")))
        .collect()
}

#[test]
fn every_setting_in_the_example_cr_is_one_the_cpa_or_our_executables_read() {
    let help = format!("{}{}", help_of("gpa-metric"), help_of("gpa-evaluate"));
    let cr = objects("example/cpa.yaml");
    let cpa = cr.iter().find(|o| o.kind == "CustomPodAutoscaler").unwrap();
    for entry in cpa.spec["config"].as_array().unwrap() {
        let name = entry["name"].as_str().unwrap();
        assert!(
            CPA_SETTINGS.contains(&name) || help.contains(&format!("env: {name}=")),
            "config entry '{name}' is read by nobody"
        );
        assert!(
            entry["value"].is_string(),
            "CR config values are strings: {name}"
        );
    }
}

#[test]
fn the_example_cr_asks_the_cpa_for_cpu_utilisation_and_the_image_does_not() {
    let cr = objects("example/cpa.yaml");
    let cpa = cr.iter().find(|o| o.kind == "CustomPodAutoscaler").unwrap();
    assert_eq!(
        cpa.spec["roleRequiresMetricsServer"], true,
        "the operator grants metrics.k8s.io only with it"
    );
    let setting = |name: &str| {
        cpa.spec["config"]
            .as_array()
            .unwrap()
            .iter()
            .find(|entry| entry["name"] == name)
            .and_then(|entry| entry["value"].as_str())
            .unwrap_or_else(|| panic!("example/cpa.yaml sets {name}"))
            .to_string()
    };
    assert_eq!(setting("requireKubernetesMetrics"), "false");
    // The CPA decodes the string as YAML into autoscaling/v2 MetricSpecs.
    let specs: serde_json::Value =
        serde_saphyr::from_str(&setting("kubernetesMetricSpecs")).unwrap();
    assert_eq!(
        specs,
        serde_json::json!([{"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization"}}}])
    );
    // The metric stage reads exactly that spec when the CPA sends it back.
    let spec: goose_pod_autoscaler::cpa::metrics::MetricSpec =
        serde_json::from_value(specs[0].clone()).unwrap();
    assert_eq!(spec.resource.unwrap().target.kind, "Utilization");
    // Every autoscaler of the base image would log a metrics error each
    // interval without the role: the image leaves the specs out.
    let base = read("config.yaml");
    assert!(!base.contains("kubernetesMetricSpecs:"), "{base}");
    // Without requests there is no utilisation: the example's pods have one.
    let workload = read("example/deployment.yaml");
    assert!(
        workload.contains("requests:\n              cpu: 50m"),
        "{workload}"
    );
}

#[test]
fn the_example_cr_scales_and_load_tests_the_example_deployment() {
    let workload = objects("example/deployment.yaml");
    let deployment = workload.iter().find(|o| o.kind == "Deployment").unwrap();
    let service = workload.iter().find(|o| o.kind == "Service").unwrap();
    let cr = objects("example/cpa.yaml");
    let cpa = cr.iter().find(|o| o.kind == "CustomPodAutoscaler").unwrap();
    let target = &cpa.spec["scaleTargetRef"];
    assert_eq!(target["kind"], "Deployment");
    assert_eq!(target["name"], deployment.metadata["name"]);
    let host = cpa.spec["config"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["name"] == "gooseHost")
        .and_then(|entry| entry["value"].as_str())
        .unwrap();
    let service_name = service.metadata["name"].as_str().unwrap();
    assert!(
        host.starts_with(&format!("http://{service_name}.")),
        "gooseHost {host} names the example's Service {service_name}"
    );
    // the API Service selects the label the operator puts on the CPA's pod
    let api = cr.iter().find(|o| o.kind == "Service").unwrap();
    assert_eq!(
        api.spec["selector"]["v1.custompodautoscaler.com/owned-by"],
        cpa.metadata["name"]
    );
}

#[test]
fn the_example_scenario_makes_every_request_the_example_config_targets() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("example");
    let scenario =
        goose_pod_autoscaler::scenario::ScenarioFile::load(&root.join("scenario.yaml"), |_| None)
            .unwrap_or_else(|err| panic!("{err}"));
    assert!(!scenario.goose_scenarios().unwrap().is_empty());
    let made: Vec<String> = scenario
        .scenarios
        .iter()
        .flat_map(|s| &s.transactions)
        .map(|t| goose_pod_autoscaler::report::LatencyReport::key(t.method.as_str(), &t.name))
        .collect();
    let config = evaluate::config::EvaluationConfig::load(&root.join("evaluation_config.yaml"))
        .unwrap_or_else(|err| panic!("{err}"));
    for target in &config.targets {
        assert!(
            made.contains(&target.request_key()),
            "target {} is a request the scenario makes ({made:?})",
            target.request_key()
        );
    }
}
