//! The metric stage's failure summary names each request the way the report
//! does (`GET /x: ...`), never by goose's internal key (`....GET./x`).

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
