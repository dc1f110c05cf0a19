//! Early stop, end to end: `gpa-metric` with an evaluation config against a
//! server on 127.0.0.1. A service far over its target is stopped early and
//! the report says so; one whose verdict cannot be settled runs its whole
//! run time, and so does a miss while replicas start; without early stop
//! the report has no early-stop keys. The assertions are on the report's structure,
//! not on how long anything took.

mod common;

use std::path::{Path, PathBuf};

use common::{
    TestServer, UNSETTLED_MEDIAN_SCENARIO, UNSETTLED_MEDIAN_TARGET, cpa_input,
    cpa_input_with_ready, early_stop_metric, evaluation_config, run, scenario_file, single_get,
};

use goose_pod_autoscaler::report::Verdict;

/// A scenario of one GET answered in 30 ms, and a config targeting a mean
/// of 5 ms (limit 6 ms): a miss as clear as it gets.
fn clear_miss(dir: &Path) -> (PathBuf, PathBuf) {
    let scenario = scenario_file(dir, &single_get("/x?delayMs=30"));
    let config = evaluation_config(
        dir,
        "{method: GET, endpoint: /x?delayMs=30, type: mean, target: 5, tolerance: 0.2}",
    );
    (scenario, config)
}

#[test]
fn a_service_far_over_its_target_is_stopped_early_and_the_report_says_so() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (scenario, config) = clear_miss(dir.path());
    let out = run(
        early_stop_metric(&server.url, &scenario, &config, "6"),
        &cpa_input(2),
    );
    let report = out.report();
    assert_eq!(report.stopped_early, Some(true), "{}", out.stderr);
    assert_eq!(report.max_run_time_seconds, Some(6.0));
    assert!(
        report.run_time_seconds < 6.0,
        "the measured window ends at the stop: {}",
        report.run_time_seconds
    );
    let stats = report.request("GET", "/x?delayMs=30").unwrap();
    assert!(stats.count >= 30, "gooseMinRequests: {stats:?}");
    let interval = &stats.confidence_intervals["mean"];
    assert_eq!(interval.verdict, Verdict::Missed);
    assert_eq!((interval.confidence, interval.limit), (0.95, 6.0));
    let (low, high) = (interval.low.unwrap(), interval.high.unwrap());
    assert!(
        6.0 < low && low <= stats.mean_ms && stats.mean_ms <= high,
        "{stats:?}"
    );
    assert!(
        out.stderr.contains("early stop"),
        "the stop is logged: {}",
        out.stderr
    );
}

#[test]
fn a_miss_while_replicas_start_runs_the_whole_run_time() {
    // The same clear miss as above, but the Deployment's status says 2 of
    // its 3 replicas are not ready, and the evaluate stage's state says our
    // answer added them 15 s ago: they would add capacity during the test,
    // so a miss is no reason to stop.
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (scenario, config) = clear_miss(dir.path());
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 15;
    std::fs::write(
        dir.path().join("decay_info.json"),
        format!(r#"{{"lastSeenReplicas": 1, "lastTargetReplicas": 3, "addedReplicas": {{"replicas": 2, "atUnixSeconds": {at}}}}}"#),
    )
    .unwrap();
    let out = run(
        early_stop_metric(&server.url, &scenario, &config, "3"),
        &cpa_input_with_ready(3, 1),
    );
    let report = out.report();
    assert_eq!(report.stopped_early, Some(false), "{}", out.stderr);
    assert!(
        report.run_time_seconds > 2.9,
        "the whole run time: {}",
        report.run_time_seconds
    );
    // A miss all the same (its verdict may read undecided if the response
    // times drifted on a busy machine).
    let stats = report.request("GET", "/x?delayMs=30").unwrap();
    assert!(stats.mean_ms > 6.0, "{stats:?}");
    assert_ne!(stats.confidence_intervals["mean"].verdict, Verdict::Met);
    assert!(
        out.stderr.contains(
            "2 of 3 replicas still starting: the test stops early only if every target is met"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_miss_with_unready_replicas_we_did_not_add_stops_early() {
    // The evaluate stage does not count unready replicas our answers did
    // not add recently (no state file here): they hold nothing, so early
    // stop does not wait for them either.
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (scenario, config) = clear_miss(dir.path());
    let out = run(
        early_stop_metric(&server.url, &scenario, &config, "6"),
        &cpa_input_with_ready(3, 1),
    );
    let report = out.report();
    assert_eq!(report.stopped_early, Some(true), "{}", out.stderr);
    assert!(!out.stderr.contains("still starting"), "{}", out.stderr);
}

#[test]
fn a_service_whose_verdict_cannot_be_settled_runs_the_whole_run_time() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_file(dir.path(), UNSETTLED_MEDIAN_SCENARIO);
    let config = evaluation_config(dir.path(), UNSETTLED_MEDIAN_TARGET);
    let out = run(
        early_stop_metric(&server.url, &scenario, &config, "4"),
        &cpa_input(2),
    );
    let report = out.report();
    assert_eq!(report.stopped_early, Some(false), "{}", out.stderr);
    assert!(
        (3.9..4.5).contains(&report.run_time_seconds),
        "the whole run time: {}",
        report.run_time_seconds
    );
    let interval = &report.request("GET", "mixed").unwrap().confidence_intervals["median"];
    assert_eq!(interval.verdict, Verdict::Undecided, "{interval:?}");
    assert!(interval.low.unwrap() < 20.0 && 20.0 < interval.high.unwrap());
}

#[test]
fn early_stop_off_or_no_config_leaves_no_early_stop_keys_in_the_report() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_file(dir.path(), &single_get("/x?delayMs=30"));
    let config = evaluation_config(
        dir.path(),
        "{method: GET, endpoint: /x?delayMs=30, type: mean, target: 5}",
    );
    let mut off = early_stop_metric(&server.url, &scenario, &config, "1");
    off.env("gooseEarlyStop", "false");
    let mut no_config = early_stop_metric(&server.url, &scenario, &config, "1");
    no_config.env_remove("evaluationConfigFilePath");
    for cmd in [off, no_config] {
        let out = run(cmd, &cpa_input(2));
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert!(json.get("stoppedEarly").is_none(), "{json}");
        assert!(json.get("maxRunTimeSeconds").is_none(), "{json}");
        let stats = &json["requests"]["GET /x?delayMs=30"];
        assert!(stats.get("confidenceIntervals").is_none(), "{stats}");
        let window = json["runTimeSeconds"].as_f64().unwrap();
        assert!(
            (0.95..1.5).contains(&window),
            "the whole run time: {window}"
        );
    }
}

#[test]
fn a_named_evaluation_config_that_does_not_load_is_one_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_file(dir.path(), &single_get("/x"));
    let missing = dir.path().join("nowhere.yaml");
    let out = run(
        early_stop_metric("http://127.0.0.1:9", &scenario, &missing, "1"),
        &cpa_input(2),
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("cannot read evaluation config") && out.stderr.contains("nowhere.yaml"),
        "{}",
        out.stderr
    );
    let mut bad = early_stop_metric("http://127.0.0.1:9", &scenario, &missing, "1");
    bad.env("gooseVerdictConfidence", "95");
    let out = run(bad, &cpa_input(2));
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains(
            "setting gooseVerdictConfidence (--verdict-confidence) '95': not a confidence; expected a fraction from 0.5 to 0.9999"
        ),
        "{}",
        out.stderr
    );
}
