//! Shadow mode of early stop (`gooseEarlyStop=shadow`), end to end against
//! servers on 127.0.0.1: `gpa-metric` runs the whole run time and adds the
//! report early stop would have printed (`earlyStopShadow`), and `gpa
//! simulate` decides on both and records whether they agree. The
//! assertions are on structure and on what the figures must satisfy
//! whatever the timing, not on how long anything took.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{
    TestServer, UNSETTLED_MEDIAN_SCENARIO, UNSETTLED_MEDIAN_TARGET, cpa_input, early_stop_metric,
    evaluation_config, run, scenario_file, single_get,
};
use goose_pod_autoscaler::report::{ReportWithShadow, Verdict};
use goose_pod_autoscaler::simulate::timeline::{Summary, Timeline};

/// [`early_stop_metric`] in shadow mode.
fn shadow_metric(
    host: &str,
    scenario: &Path,
    config: &Path,
    run_time: &str,
) -> assert_cmd::Command {
    let mut cmd = early_stop_metric(host, scenario, config, run_time);
    cmd.env("gooseEarlyStop", "shadow");
    cmd
}

fn keys(value: &serde_json::Value) -> BTreeSet<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn a_shadow_run_runs_the_whole_time_and_adds_the_report_early_stop_would_have_printed() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    // Two requests, one targeted: the shadow holds the targeted one only.
    let scenario = scenario_file(
        dir.path(),
        "scenarios:\n  - name: probe\n    transactions:\n      - path: /x?delayMs=30\n      - path: /y?delayMs=1\n",
    );
    let config = evaluation_config(
        dir.path(),
        "{method: GET, endpoint: /x?delayMs=30, type: mean, target: 5, tolerance: 0.2}",
    );
    let out = run(
        shadow_metric(&server.url, &scenario, &config, "4"),
        &cpa_input(2),
    );
    let full = out.report();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let shadowed: ReportWithShadow = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(shadowed.report, full);
    // The whole run: early stop watched but did not stop.
    assert_eq!(full.stopped_early, Some(false), "{}", out.stderr);
    assert_eq!(full.max_run_time_seconds, Some(4.0));
    assert_eq!(full.requests.len(), 2);
    let shadow = shadowed.early_stop_shadow.expect("earlyStopShadow");
    assert_eq!(shadow.stopped_early, Some(true), "{}", out.stderr);
    assert_eq!(shadow.max_run_time_seconds, Some(4.0));
    assert!(
        shadow.run_time_seconds < full.run_time_seconds,
        "the shadow ends where early stop would have: {} of {}",
        shadow.run_time_seconds,
        full.run_time_seconds
    );
    assert_eq!(
        (
            shadow.current_replicas,
            shadow.users,
            shadow.request_timeout_ms
        ),
        (Some(2), 3, Some(2000.0))
    );
    let targeted: Vec<&String> = shadow.requests.keys().collect();
    assert_eq!(targeted, ["GET /x?delayMs=30"]);
    let (seen, whole) = (
        &shadow.requests["GET /x?delayMs=30"],
        &full.requests["GET /x?delayMs=30"],
    );
    assert!(
        (30..=whole.count).contains(&seen.count),
        "at least gooseMinRequests, at most the whole run's: {} of {}",
        seen.count,
        whole.count
    );
    assert_eq!(seen.impossible_figure(), None, "{seen:?}");
    assert!(
        (seen.requests_per_second - seen.count as f64 / shadow.run_time_seconds).abs() < 1e-6,
        "{seen:?}"
    );
    let interval = &seen.confidence_intervals["mean"];
    assert_eq!(interval.verdict, Verdict::Missed);
    assert!(interval.low.unwrap() > 6.0 && interval.low.unwrap() <= seen.mean_ms);
    // The shadow's wire shape: the report's own keys, nothing else.
    let shadow_json = &json["earlyStopShadow"];
    assert_eq!(
        keys(shadow_json),
        BTreeSet::from([
            "currentReplicas",
            "users",
            "runTimeSeconds",
            "requests",
            "requestTimeoutMs",
            "stoppedEarly",
            "maxRunTimeSeconds"
        ])
    );
    assert_eq!(
        keys(&shadow_json["requests"]["GET /x?delayMs=30"]),
        keys(&json["requests"]["GET /x?delayMs=30"])
    );
    assert!(shadow_json.get("earlyStopShadow").is_none(), "never nested");
    assert!(out.stderr.contains("early stop (shadow)"), "{}", out.stderr);
}

#[test]
fn a_shadow_run_that_early_stop_would_not_end_carries_the_full_figures() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_file(dir.path(), UNSETTLED_MEDIAN_SCENARIO);
    let config = evaluation_config(dir.path(), UNSETTLED_MEDIAN_TARGET);
    let out = run(
        shadow_metric(&server.url, &scenario, &config, "2"),
        &cpa_input(2),
    );
    let full = out.report();
    let shadowed: ReportWithShadow = serde_json::from_str(&out.stdout).unwrap();
    let shadow = shadowed
        .early_stop_shadow
        .expect("always present in shadow mode");
    assert_eq!(
        (full.stopped_early, shadow.stopped_early),
        (Some(false), Some(false))
    );
    assert_eq!(shadow.run_time_seconds, full.run_time_seconds);
    assert_eq!(shadow.requests, full.requests);
}

#[test]
fn shadow_mode_without_an_evaluation_config_is_a_plain_run_and_a_bad_value_is_named() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_file(dir.path(), &single_get("/x?delayMs=1"));
    let config = dir.path().join("absent.yaml");
    let mut cmd = shadow_metric(&server.url, &scenario, &config, "1");
    cmd.env_remove("evaluationConfigFilePath");
    let out = run(cmd, &cpa_input(2));
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(json.get("earlyStopShadow").is_none(), "{json}");
    assert!(json.get("stoppedEarly").is_none(), "{json}");
    let mut bad = shadow_metric(&server.url, &scenario, &config, "1");
    bad.env("gooseEarlyStop", "maybe");
    let out = run(bad, &cpa_input(2));
    assert_eq!(out.code, Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr
            .contains("setting gooseEarlyStop (--early-stop) 'maybe': not a boolean or shadow; expected true, false or shadow"),
        "{}",
        out.stderr
    );
}

/// A quiet service well under its target, decided twice per interval.
#[test]
fn a_simulation_in_shadow_mode_decides_each_interval_twice_and_summarizes_the_agreement() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let profile = write(
        "profile.yaml",
        "steps:\n  - durationSeconds: 14\n    requestsPerSecond: 20\n",
    );
    let config = write(
        "evaluation.yaml",
        "targets:\n  - {method: GET, endpoint: /fibonacci?n=10, type: mean, target: 100}\ndecay:\n  replicas: 1\n  unchangedRuns: 1\n",
    );
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_gpa"))
        .arg("simulate")
        .args(["--interval-ms", "2000", "--startup-delay-ms", "500"])
        .args(["--set", "gooseRunTime=3", "--set", "gooseUsers=8"])
        .args([
            "--set",
            "gooseMinRunTime=0.5",
            "--set",
            "gooseEarlyStop=shadow",
        ])
        .args(["--initial-replicas", "2"])
        .arg("--output-dir")
        .arg(dir.path().join("out"))
        .arg("--profile")
        .arg(&profile)
        .arg("--evaluation-config")
        .arg(&config)
        .env("GPA_LOG", "info")
        .timeout(std::time::Duration::from_secs(100))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "gpa simulate failed:\n{stderr}");
    let summary: Summary = serde_json::from_slice(&output.stdout).unwrap();
    let timeline: Timeline =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/timeline.json")).unwrap())
            .unwrap();
    let measured: Vec<_> = timeline
        .intervals
        .iter()
        .filter(|interval| interval.metric_seconds.is_some())
        .collect();
    assert!(!measured.is_empty(), "{stderr}");
    let mut agreeing = 0;
    for interval in &measured {
        let shadow = interval
            .early_stop_shadow
            .as_ref()
            .unwrap_or_else(|| panic!("every measured interval has a shadow: {interval:?}"));
        assert_eq!(
            shadow.agrees,
            shadow.evaluated_replicas == interval.evaluated_replicas,
            "{interval:?}"
        );
        if shadow.stopped_early {
            assert!(
                shadow.run_time_seconds < shadow.full_run_time_seconds,
                "{shadow:?}"
            );
        } else {
            assert_eq!(shadow.run_time_seconds, shadow.full_run_time_seconds);
        }
        assert!(shadow.reason.contains("dry run"), "{shadow:?}");
        agreeing += u32::from(shadow.agrees);
    }
    let shadows = summary
        .early_stop_shadow
        .expect("the summary's earlyStopShadow");
    assert_eq!(shadows.intervals as usize, measured.len());
    assert_eq!(shadows.agreeing, agreeing);
    assert!(
        shadows.stopped_early >= 1,
        "a service at half its target is decided well before 3 s: {shadows:?}\n{stderr}"
    );
    assert!(stderr.contains("early stop would have"), "{stderr}");
}
