//! What the metric stage says of requests that failed: its failure summary
//! names each request the way the report does (`GET /x: ...`), never by
//! goose's internal key (`....GET./x`), and its report claims no verdict
//! that early stop did not hold to (all refused is not "met").

mod common;

use common::{gpa_metric, run, single_get};

#[test]
fn failure_lines_name_requests_as_the_report_does() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::scenario_file(dir.path(), &single_get("/fibonacci?n=10"));
    let mut cmd = gpa_metric();
    cmd.env("gooseHost", common::refused_url())
        .env("scenarioFilePath", &scenario)
        .env("gooseUsers", "1")
        .env("gooseRunTime", "1")
        .args(["--replicas", "1"]);
    let out = run(cmd, "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let failures: Vec<&str> = out
        .stderr
        .lines()
        .filter(|line| line.contains("request failures: "))
        .collect();
    assert!(!failures.is_empty(), "{}", out.stderr);
    for line in failures {
        assert!(
            line.contains("request failures: GET /fibonacci?n=10: "),
            "{line}"
        );
        assert!(!line.contains(".GET."), "{line}");
    }
}

#[test]
fn a_report_of_refused_requests_claims_no_verdict_early_stop_did_not_hold() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::scenario_file(dir.path(), &single_get("/fibonacci?n=10"));
    let config = common::evaluation_config(
        dir.path(),
        "{method: GET, endpoint: /fibonacci?n=10, type: mean, target: 100}",
    );
    let mut cmd = gpa_metric();
    cmd.env("gooseHost", common::refused_url())
        .env("scenarioFilePath", &scenario)
        .env("evaluationConfigFilePath", &config)
        .env("gooseUsers", "2")
        .env("gooseRunTime", "2")
        .args(["--replicas", "1"]);
    let out = run(cmd, "");
    let report = out.report();
    let stats = &report.requests["GET /fibonacci?n=10"];
    assert!(
        stats.count > 0 && stats.failures == stats.count,
        "{}",
        out.stderr
    );
    // Refused connections answer fast, but no request was answered: early
    // stop ran on, and the report says the same.
    assert_eq!(report.stopped_early, Some(false), "{}", out.stderr);
    let mean = &stats.confidence_intervals["mean"];
    assert_eq!(
        mean.verdict,
        goose_pod_autoscaler::report::Verdict::Undecided,
        "{}",
        out.stderr
    );
}
