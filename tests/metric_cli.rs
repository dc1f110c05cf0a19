//! `gpa-metric` as the CPA runs it: a process per test, against servers the
//! tests start on 127.0.0.1, each run 1-2 s.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use common::{
    TestServer, cpa_input, gpa_metric, refused_url, run, scenario_file, single_get,
    stalled_body_url,
};

fn quick(cmd: &mut assert_cmd::Command, host: &str, scenario: &std::path::Path) {
    cmd.env("gooseHost", host)
        .env("gooseUsers", "3")
        .env("gooseRunTime", "1")
        .env("gooseRequestTimeout", "1000")
        .env("scenarioFilePath", scenario);
}

#[test]
fn a_healthy_target_gives_one_report_with_every_request_counted() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), &single_get("/fibonacci?n=10"));
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    let out = run(cmd, &cpa_input(3));
    let report = out.report();
    assert_eq!((report.current_replicas, report.users), (Some(3), 3));
    assert!(
        (0.95..1.1).contains(&report.run_time_seconds),
        "{}",
        report.run_time_seconds
    );
    let stats = report
        .request("GET", "/fibonacci?n=10")
        .expect("named by its path");
    assert!(stats.count > 50, "{stats:?}");
    assert_eq!(stats.failures, 0);
    let rate = stats.count as f64 / report.run_time_seconds;
    assert!((stats.requests_per_second - rate).abs() < 1e-6);
    assert!(
        stats.min_ms <= stats.median_ms
            && stats.median_ms <= stats.p99_ms
            && stats.p99_ms <= stats.max_ms
    );
    let served = server.record.seen().len() as u64;
    assert!(
        served >= stats.count,
        "the server saw {served}, the report counts {}",
        stats.count
    );
}

#[test]
fn unexpected_statuses_count_as_failures_and_expected_ones_do_not() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(
        dir.path(),
        "scenarios:\n  - name: s\n    transactions:\n      - path: /gone?status=404\n      - path: /missing?status=404\n        name: tolerated\n        expectedStatus: [404]\n      - path: /ok\n        expectedStatus: [201]\n",
    );
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    let report = run(cmd, &cpa_input(1)).report();
    let gone = report.request("GET", "/gone?status=404").unwrap();
    assert!(
        gone.count > 0 && gone.failures == gone.count && gone.error_rate == 1.0,
        "{gone:?}"
    );
    assert_eq!(
        (gone.status_errors, gone.timeouts, gone.connection_errors),
        (gone.failures, 0, 0),
        "an unexpected status is a status error: {gone:?}"
    );
    let tolerated = report.request("GET", "tolerated").unwrap();
    assert!(
        tolerated.count > 0 && tolerated.failures == 0,
        "{tolerated:?}"
    );
    let ok = report.request("GET", "/ok").unwrap();
    assert!(
        ok.count > 0 && ok.failures == ok.count,
        "200 is not the expected 201: {ok:?}"
    );
    assert_eq!(ok.status_errors, ok.failures, "{ok:?}");
}

#[test]
fn transaction_weights_share_the_requests() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(
        dir.path(),
        "scenarios:\n  - name: mix\n    transactions:\n      - path: /heavy?delayMs=2\n        weight: 3\n      - path: /light?delayMs=2\n        weight: 1\n",
    );
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    let report = run(cmd, &cpa_input(1)).report();
    let heavy = report.request("GET", "/heavy?delayMs=2").unwrap().count as f64;
    let light = report.request("GET", "/light?delayMs=2").unwrap().count as f64;
    let ratio = heavy / light;
    assert!(
        (2.5..3.5).contains(&ratio),
        "3:1 weights gave {heavy}:{light}"
    );
}

#[test]
fn a_refused_target_gives_a_report_of_failures_and_nothing_else_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), &single_get("/fibonacci?n=10"));
    let mut cmd = gpa_metric();
    quick(&mut cmd, &refused_url(), &file);
    cmd.env("gooseUsers", "30");
    let out = run(cmd, &cpa_input(2));
    let report = out.report();
    let stats = report.request("GET", "/fibonacci?n=10").unwrap();
    // 30 users, each retrying after a 10 ms pause: hundreds of failures even
    // on a busy machine, which is what the summary must hold in a few lines.
    assert!(stats.count >= 100, "many refused requests: {stats:?}");
    assert_eq!(stats.failures, stats.count);
    assert_eq!(stats.error_rate, 1.0);
    assert_eq!(
        (stats.connection_errors, stats.timeouts, stats.status_errors),
        (stats.failures, 0, 0),
        "a refused connection is a connection error: {stats:?}"
    );
    // a refused target does not hang the stage (1 s run time; a generous
    // bound, since only a hang matters here)
    assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
    let lines = out.stderr.lines().count();
    assert!(
        lines < 40,
        "stderr is not flooded with one line per failure: {lines} lines"
    );
    assert!(
        out.stderr.contains("Connect"),
        "the failure summary names the error: {}",
        out.stderr
    );
}

#[test]
fn goose_logging_everything_still_leaves_stdout_to_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), &single_get("/x"));
    let mut cmd = gpa_metric();
    quick(&mut cmd, &refused_url(), &file);
    cmd.env("gooseUsers", "20")
        .env("GPA_LOG", "debug,goose=debug");
    let out = run(cmd, &cpa_input(1));
    let report = out.report();
    let stats = report.request("GET", "/x").unwrap();
    assert!(
        stats.count >= 100 && stats.failures == stats.count,
        "{stats:?}"
    );
    // goose's debug log has at least a line per failed request, all of it on
    // stderr (stdout held only the report, parsed above)
    let lines = out.stderr.lines().count() as u64;
    assert!(
        lines >= stats.count,
        "goose's per-request lines went to stderr: {lines} lines for {} requests",
        stats.count
    );
}

#[test]
fn a_hanging_target_ends_within_run_time_plus_request_timeout() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), &single_get("/hang"));
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    cmd.env("gooseRequestTimeout", "400");
    let out = run(cmd, &cpa_input(1));
    let report = out.report();
    let stats = report.request("GET", "/hang").unwrap();
    assert!(
        stats.count >= 3 && stats.failures == stats.count,
        "{stats:?}"
    );
    assert!(
        stats.min_ms >= 390.0,
        "timed out at the request timeout: {stats:?}"
    );
    assert_eq!(
        (stats.timeouts, stats.connection_errors, stats.status_errors),
        (stats.failures, 0, 0),
        "a request without an answer in time is a timeout: {stats:?}"
    );
    assert_eq!(report.request_timeout_ms, Some(400.0));
    let limit = Duration::from_millis(1000 + 400 + 1000);
    assert!(
        out.elapsed < limit,
        "took {:?}, limit {limit:?}",
        out.elapsed
    );
}

#[test]
fn ramp_up_comes_before_the_measured_window() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), &single_get("/x"));
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    // 4 users at 8 per second: 0.5 s of ramp-up, then 1 s measured.
    cmd.env("gooseUsers", "4").env("gooseHatchRate", "8");
    let out = run(cmd, &cpa_input(1));
    let report = out.report();
    assert!(
        (0.95..1.1).contains(&report.run_time_seconds),
        "{}",
        report.run_time_seconds
    );
    assert!(
        out.elapsed >= Duration::from_millis(1450),
        "{:?}",
        out.elapsed
    );
    assert!(
        out.elapsed < Duration::from_millis(1500 + 1000),
        "{:?}",
        out.elapsed
    );
    let stats = report.request("GET", "/x").unwrap();
    let served = server.record.seen().len() as u64;
    assert!(
        served > stats.count,
        "ramp-up requests ({served} served) are not in the report ({})",
        stats.count
    );
}

#[test]
fn a_ca_certificate_gives_each_user_a_client_that_keeps_the_request_timeout() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(
        dir.path(),
        "scenarios:\n  - name: s\n    transactions:\n      - path: /x\n      - path: /hang\n",
    );
    let ca = common::fixture("test-ca.pem");
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    cmd.env("gooseCaCertPath", &ca)
        .env("gooseRequestTimeout", "300");
    let out = run(cmd, &cpa_input(1));
    let report = out.report();
    let ok = report.request("GET", "/x").unwrap();
    assert!(ok.count > 0 && ok.failures == 0, "{ok:?}");
    let hang = report.request("GET", "/hang").unwrap();
    assert!(hang.failures == hang.count && hang.count > 0, "{hang:?}");
    assert!(
        (290.0..900.0).contains(&hang.max_ms),
        "timed out after ~300 ms: {hang:?}"
    );
    assert!(
        out.elapsed < Duration::from_millis(1000 + 300 + 1000),
        "{:?}",
        out.elapsed
    );
}

#[test]
fn https_needs_the_private_ca_or_the_explicit_opt_out() {
    let server = TestServer::start_tls();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), &single_get("/x"));
    let outcome = |extra: &[(&str, String)]| {
        let mut cmd = gpa_metric();
        quick(&mut cmd, &server.url, &file);
        for (key, value) in extra {
            cmd.env(key, value);
        }
        let report = run(cmd, &cpa_input(1)).report();
        let stats = report.request("GET", "/x").unwrap().clone();
        (stats.count, stats.failures, stats.connection_errors)
    };
    let (count, failures, connection_errors) = outcome(&[]);
    assert!(
        count > 0 && failures == count,
        "an unknown CA fails every request: {count}/{failures}"
    );
    assert_eq!(
        connection_errors, failures,
        "a TLS failure is a connection error"
    );
    let ca = common::fixture("test-ca.pem").display().to_string();
    let (count, failures, _) = outcome(&[("gooseCaCertPath", ca)]);
    assert!(
        count > 0 && failures == 0,
        "trusted via gooseCaCertPath: {count}/{failures}"
    );
    let (count, failures, _) = outcome(&[("gooseInsecureSkipTlsVerify", "true".into())]);
    assert!(
        count > 0 && failures == 0,
        "verification skipped: {count}/{failures}"
    );
}

#[test]
fn zero_replicas_run_no_load_test() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), &single_get("/x"));
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    let out = run(cmd, &cpa_input(0));
    let report = out.report();
    assert_eq!(
        report,
        goose_pod_autoscaler::report::LatencyReport::empty(0)
    );
    assert!(
        out.elapsed < Duration::from_millis(900),
        "{:?}",
        out.elapsed
    );
    assert!(server.record.seen().is_empty());
}

#[test]
fn the_replicas_flag_replaces_stdin_and_legacy_input_is_read() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), &single_get("/x"));
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    cmd.args(["--replicas", "0"]);
    // stdin is garbage: with --replicas it is not read.
    assert_eq!(run(cmd, "not json").report().current_replicas, Some(0));
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    let legacy = r#"{"kind": "Deployment", "metadata": {"name": "fib"}, "spec": {"replicas": 0}}"#;
    assert_eq!(run(cmd, legacy).report().current_replicas, Some(0));
}

#[test]
fn flags_beat_variables_which_beat_the_lpa_aliases() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), &single_get("/x"));
    // Alias only: the LPA's names work, its run time as a timespan too.
    let mut cmd = gpa_metric();
    cmd.env("locustHost", &server.url)
        .env("locustUsers", "2")
        .env("locustRunTime", "1s")
        .env("locustHatchRate", "100")
        .env("scenarioFilePath", &file);
    let report = run(cmd, &cpa_input(1)).report();
    assert_eq!(report.users, 2);
    assert!(
        (0.95..1.1).contains(&report.run_time_seconds),
        "1s is one second: {}",
        report.run_time_seconds
    );
    assert!(report.request("GET", "/x").unwrap().failures == 0);
    // Primary beats alias: locustHost points nowhere.
    let mut cmd = gpa_metric();
    cmd.env("gooseHost", &server.url)
        .env("locustHost", refused_url())
        .env("gooseUsers", "1")
        .env("locustUsers", "5")
        .env("gooseRunTime", "1")
        .env("scenarioFilePath", &file);
    let report = run(cmd, &cpa_input(1)).report();
    assert_eq!(report.users, 1);
    assert_eq!(report.request("GET", "/x").unwrap().failures, 0);
    // Flag beats variable.
    let mut cmd = gpa_metric();
    cmd.env("gooseHost", refused_url())
        .env("gooseUsers", "5")
        .env("gooseRunTime", "1")
        .env("scenarioFilePath", &file)
        .args(["--host", &server.url, "--users", "2"]);
    let report = run(cmd, &cpa_input(1)).report();
    assert_eq!(report.users, 2);
    assert_eq!(report.request("GET", "/x").unwrap().failures, 0);
}

#[test]
fn a_host_with_a_path_keeps_it_as_a_prefix_of_every_request() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), &single_get("/x?n=1"));
    let mut cmd = gpa_metric();
    quick(&mut cmd, &format!("{}/api", server.url), &file);
    cmd.env("gooseUsers", "1");
    let report = run(cmd, &cpa_input(1)).report();
    let stats = report.request("GET", "/x?n=1").expect("named by its path");
    assert!(stats.count > 0 && stats.failures == 0, "{stats:?}");
    let seen = server.record.seen();
    assert!(
        !seen.is_empty() && seen.iter().all(|s| s.target == "/api/x?n=1"),
        "targets: {:?}",
        seen.iter().map(|s| &s.target).take(3).collect::<Vec<_>>()
    );
}

#[test]
fn large_bodies_are_read_so_each_user_keeps_its_connection() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), &single_get("/big?bodyKb=300"));
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    let report = run(cmd, &cpa_input(1)).report();
    let stats = report.request("GET", "/big?bodyKb=300").unwrap();
    assert!(stats.count >= 30 && stats.failures == 0, "{stats:?}");
    let connections = server.record.connections();
    // One per user, give or take a few opened while a finished connection
    // was still on its way back to the pool; unread, it was one per request.
    assert!(
        connections <= 15 && connections * 20 <= stats.count as usize,
        "3 users made {} requests over {connections} connections",
        stats.count
    );
}

#[test]
fn a_body_that_stalls_after_the_headers_fails_its_request() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), &single_get("/stalls"));
    let mut cmd = gpa_metric();
    quick(&mut cmd, &stalled_body_url(), &file);
    cmd.env("gooseUsers", "2").env("gooseRequestTimeout", "300");
    let out = run(cmd, &cpa_input(1));
    let report = out.report();
    let stats = report.request("GET", "/stalls").unwrap();
    assert!(
        stats.count > 0 && stats.failures == stats.count,
        "{stats:?}"
    );
    assert_eq!(
        stats.timeouts, stats.failures,
        "a body not read within the request timeout is a timeout: {stats:?}"
    );
    assert!(
        out.stderr.contains("timed out reading the response body"),
        "the failure summary names the cause: {}",
        out.stderr
    );
    assert!(
        out.elapsed < Duration::from_millis(1000 + 300 + 1500),
        "{:?}",
        out.elapsed
    );
}

#[test]
fn help_names_every_variable_and_alias() {
    let out = run(
        {
            let mut cmd = gpa_metric();
            cmd.arg("--help");
            cmd
        },
        "",
    );
    assert_eq!(out.code, Some(0));
    for name in [
        "gooseHost",
        "locustHost",
        "gooseUsers",
        "locustUsers",
        "gooseHatchRate",
        "locustHatchRate",
        "gooseRunTime",
        "locustRunTime",
        "gooseRequestTimeout",
        "scenarioFilePath",
        "gooseCaCertPath",
        "gooseInsecureSkipTlsVerify",
        "evaluationConfigFilePath",
        "gooseEarlyStop",
        "gooseVerdictConfidence",
        "gooseMinRunTime",
        "gooseMinRequests",
    ] {
        assert!(out.stdout.contains(name), "--help mentions {name}");
    }
}

#[test]
fn bad_input_is_one_line_on_stderr_exit_1_and_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let good = scenario_file(dir.path(), &single_get("/x"));
    let options = dir.path().join("options.yaml");
    std::fs::write(
        &options,
        "scenarios:\n  - name: s\n    transactions:\n      - method: OPTIONS\n        path: /x\n",
    )
    .unwrap();
    let secret = dir.path().join("secret.yaml");
    std::fs::write(&secret, "scenarios:\n  - name: s\n    transactions:\n      - path: /x\n        headers:\n          Authorization: Bearer ${API_TOKEN}\n").unwrap();
    let heavy = dir.path().join("heavy.yaml");
    std::fs::write(
        &heavy,
        "scenarios:\n  - name: s\n    weight: 10000000000\n    transactions:\n      - path: /x\n",
    )
    .unwrap();
    let elsewhere = dir.path().join("elsewhere.yaml");
    std::fs::write(
        &elsewhere,
        "scenarios:\n  - name: s\n    transactions:\n      - path: //127.0.0.1:18083/x\n",
    )
    .unwrap();
    let host = "http://127.0.0.1:9";
    let pod =
        r#"{"resource": {"kind": "Pod", "metadata": {"name": "fib-1"}}, "runType": "scaler"}"#;
    let one = cpa_input(1);
    let one = one.as_str();
    /// (environment, arguments, stdin, expected part of the error)
    type Case<'a> = (Vec<(&'a str, String)>, Vec<&'a str>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![],
            vec![],
            one,
            "setting gooseHost (--host) '': not set",
        ),
        (
            vec![("gooseHost", host.into()), ("gooseUsers", "many".into())],
            vec![],
            "",
            "setting gooseUsers (--users) 'many': not a number of users",
        ),
        (
            vec![("gooseHost", host.into()), ("locustRunTime", "2.5".into())],
            vec![],
            "",
            "setting locustRunTime '2.5': goose measures whole seconds",
        ),
        (
            vec![
                ("gooseHost", host.into()),
                ("locustRunTime", "1m30x".into()),
            ],
            vec![],
            "",
            "setting locustRunTime '1m30x': not a run time; expected whole seconds from 1 to 86400: a number (20) or a timespan such as 30s, 5m or 1h30m",
        ),
        (
            vec![
                ("gooseHost", host.into()),
                ("scenarioFilePath", good.display().to_string()),
            ],
            vec![],
            pod,
            "stdin: resource 'Pod/fib-1' has no spec.replicas",
        ),
        (
            vec![
                ("gooseHost", host.into()),
                ("scenarioFilePath", good.display().to_string()),
            ],
            vec![],
            "{",
            "stdin is not valid JSON",
        ),
        (
            vec![
                ("gooseHost", host.into()),
                ("scenarioFilePath", "/nonexistent.yaml".into()),
            ],
            vec![],
            one,
            "scenario file '/nonexistent.yaml': cannot read it",
        ),
        (
            vec![("gooseHost", host.into())],
            vec![],
            one,
            "scenario file '/scenario.yaml' does not exist and there are no compiled scenarios",
        ),
        (
            vec![
                ("gooseHost", host.into()),
                ("scenarioFilePath", options.display().to_string()),
            ],
            vec![],
            one,
            "unknown variant `OPTIONS`",
        ),
        (
            vec![
                ("gooseHost", host.into()),
                ("scenarioFilePath", secret.display().to_string()),
            ],
            vec![],
            one,
            "line 6 column 26: header 'Authorization': environment variable 'API_TOKEN' is not set",
        ),
        (
            vec![
                ("gooseHost", host.into()),
                ("gooseCaCertPath", good.display().to_string()),
                ("scenarioFilePath", good.display().to_string()),
            ],
            vec![],
            one,
            "setting gooseCaCertPath",
        ),
        (
            vec![("scenarioFilePath", good.display().to_string())],
            vec![
                "--host",
                host,
                "--replicas",
                "1",
                "--users",
                "1",
                "--hatch-rate",
                "1e-300",
            ],
            "",
            "setting gooseHatchRate (--hatch-rate) '1e-300': starting 1 users would take longer than 86400 s; expected users started per second of at least 0.0000116",
        ),
        (
            vec![
                ("gooseHost", host.into()),
                ("locustHatchRate", "0.00001".into()),
                ("scenarioFilePath", good.display().to_string()),
            ],
            vec!["--replicas", "1"],
            "",
            "setting locustHatchRate '0.00001': starting 10 users would take longer than 86400 s",
        ),
        (
            vec![
                ("gooseHost", host.into()),
                ("scenarioFilePath", heavy.display().to_string()),
            ],
            vec![],
            one,
            "heavy.yaml' line 3 column 13: scenario 's': weight 10000000000 is out of range; expected a whole number from 1 to 1000",
        ),
        (
            vec![
                ("gooseHost", host.into()),
                ("scenarioFilePath", elsewhere.display().to_string()),
            ],
            vec![],
            one,
            "elsewhere.yaml' line 4 column 15: path '//127.0.0.1:18083/x' starts with '//', which names another host",
        ),
        (
            vec![("gooseHost", host.into()), ("gooseUsers", "1\r2".into())],
            vec![],
            "",
            "setting gooseUsers (--users) '1\\r2': not a number of users",
        ),
        (
            vec![],
            vec!["--replicas", "1\r2"],
            "",
            "invalid value '1\\r2' for '--replicas <N>'",
        ),
        (
            vec![
                ("gooseHost", host.into()),
                ("scenarioFilePath", good.display().to_string()),
                ("locustFilePath", "/locustfile.py".into()),
            ],
            vec![],
            one,
            "setting locustFilePath '/locustfile.py': a locustfile cannot run here; expected no locustFilePath: convert the locustfile to a scenario file as the migration guide shows (docs/migrating.md) and give its path in scenarioFilePath",
        ),
        (vec![], vec!["--bogus"], "", "unexpected argument '--bogus'"),
        (vec![], vec!["--replicas", "abc"], "", "--replicas"),
    ];
    for (env, args, stdin, expected) in cases {
        let mut cmd = gpa_metric();
        for (key, value) in &env {
            cmd.env(key, value);
        }
        cmd.args(&args);
        let out = run(cmd, stdin);
        assert_eq!(out.code, Some(1), "{env:?} {args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{env:?}: stdout {:?}", out.stdout);
        assert_eq!(
            out.stderr.lines().count(),
            1,
            "{env:?}: one line: {}",
            out.stderr
        );
        assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
        assert!(
            !out.stderr.trim_end_matches('\n').contains(char::is_control),
            "control characters are escaped: {:?}",
            out.stderr
        );
        assert!(
            out.stderr.contains(expected),
            "{env:?}\n got: {}\nwant: {expected}",
            out.stderr
        );
    }
}

/// The report's wire format as documented (docs/metric.md), written out
/// field by field: parsing the real stdout into it fails on a field added,
/// renamed or dropped.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireReport {
    current_replicas: u32,
    users: u32,
    run_time_seconds: f64,
    requests: BTreeMap<String, WireStats>,
    /// Absent when no load test ran.
    #[serde(default)]
    request_timeout_ms: Option<f64>,
    /// Present only when early stop watched the run.
    #[serde(default)]
    stopped_early: Option<bool>,
    /// Present with `stoppedEarly`.
    #[serde(default)]
    max_run_time_seconds: Option<f64>,
    /// Present when stdin's `kubernetesMetrics` carried a cpu metric.
    #[serde(default)]
    load: Option<WireLoad>,
}

/// The report's `load` (docs/metric.md, "Load"): the CPU keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireLoad {
    cpu_utilization: f64,
    scale_up_cpu_utilization: f64,
    scale_down_cpu_utilization: f64,
    /// Absent without a CPU limit in the pod template.
    #[serde(default)]
    cpu_limit_utilization: Option<f64>,
    pods_measured: u32,
    pods_ready: u32,
    pods_ignored: u32,
    pods_missing: u32,
    sampled_at: String,
    window_seconds: f64,
}

/// One targeted statistic's interval, present only with early stop.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireInterval {
    confidence: f64,
    #[serde(default)]
    low: Option<f64>,
    #[serde(default)]
    high: Option<f64>,
    limit: f64,
    verdict: String,
    /// Which way the response times moved; absent for min, max, errorRate.
    #[serde(default)]
    trend: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireStats {
    method: String,
    name: String,
    count: u64,
    failures: u64,
    timeouts: u64,
    connection_errors: u64,
    status_errors: u64,
    error_rate: f64,
    requests_per_second: f64,
    mean_ms: f64,
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
    p75_ms: f64,
    p90_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    /// Present only with early stop, keyed by the target's type.
    #[serde(default)]
    confidence_intervals: Option<BTreeMap<String, WireInterval>>,
}

#[test]
fn the_report_on_stdout_has_exactly_the_documented_fields() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), &single_get("/x?delayMs=2"));
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    let out = run(cmd, &cpa_input(2));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let report: WireReport = serde_json::from_str(&out.stdout).expect("the documented fields only");
    assert_eq!((report.current_replicas, report.users), (2, 3));
    assert!((0.95..1.1).contains(&report.run_time_seconds), "{report:?}");
    let keys: Vec<&String> = report.requests.keys().collect();
    assert_eq!(keys, ["GET /x?delayMs=2"]);
    let stats = &report.requests["GET /x?delayMs=2"];
    assert_eq!(
        (stats.method.as_str(), stats.name.as_str()),
        ("GET", "/x?delayMs=2")
    );
    assert!(
        stats.count > 0 && stats.failures == 0 && stats.error_rate == 0.0,
        "{stats:?}"
    );
    assert_eq!(
        (stats.timeouts, stats.connection_errors, stats.status_errors),
        (0, 0, 0)
    );
    assert_eq!(
        (report.stopped_early, report.max_run_time_seconds),
        (None, None),
        "no early stop without an evaluation config"
    );
    assert!(stats.confidence_intervals.is_none());
    assert!(report.load.is_none(), "no kubernetesMetrics, no load");
    assert_eq!(
        report.request_timeout_ms,
        Some(1000.0),
        "gooseRequestTimeout"
    );
    assert!(
        (stats.requests_per_second - stats.count as f64 / report.run_time_seconds).abs() < 1e-6,
        "{stats:?}"
    );
    let ordered = [
        stats.min_ms,
        stats.median_ms,
        stats.p75_ms,
        stats.p90_ms,
        stats.p95_ms,
        stats.p99_ms,
        stats.max_ms,
    ];
    assert!(
        stats.min_ms >= 2.0,
        "milliseconds, not seconds or µs: {stats:?}"
    );
    assert!(ordered.windows(2).all(|w| w[0] <= w[1]), "{stats:?}");
    assert!(
        (stats.min_ms..=stats.max_ms).contains(&stats.mean_ms),
        "{stats:?}"
    );
    // No test ran: the same shape, no requests.
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    let out = run(cmd, &cpa_input(0));
    let empty: WireReport = serde_json::from_str(&out.stdout).expect("the documented fields only");
    assert_eq!(
        (empty.current_replicas, empty.users, empty.run_time_seconds),
        (0, 0, 0.0)
    );
    assert!(empty.requests.is_empty());
    // With early stop: the same fields and the three it adds.
    let config = dir.path().join("evaluation_config.yaml");
    std::fs::write(
        &config,
        "targets:\n  - {method: GET, endpoint: /x?delayMs=2, type: p90, target: 1000}\n",
    )
    .unwrap();
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    cmd.env("evaluationConfigFilePath", &config)
        .env("gooseMinRunTime", "0");
    let out = run(cmd, &cpa_input(2));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let watched: WireReport =
        serde_json::from_str(&out.stdout).expect("the documented fields only");
    assert!(watched.stopped_early.is_some() && watched.max_run_time_seconds == Some(1.0));
    let stats = &watched.requests["GET /x?delayMs=2"];
    let intervals = stats
        .confidence_intervals
        .as_ref()
        .expect("the targeted statistic's interval");
    let p90 = &intervals["p90"];
    assert_eq!((p90.confidence, p90.limit), (0.95, 1000.0));
    assert!(
        ["met", "missed", "undecided"].contains(&p90.verdict.as_str()),
        "{p90:?}"
    );
    assert!(p90.low.is_some() && p90.high.is_some(), "{p90:?}");
    assert!(
        matches!(p90.trend.as_deref(), Some("rising" | "falling" | "steady")),
        "{p90:?}"
    );
}

#[test]
fn the_cpu_the_cpa_gathered_reaches_the_report_as_load_and_bad_metrics_only_cost_the_key() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), &single_get("/x?delayMs=2"));
    // The metric stage's stdin as CPA 2.12.2 writes it with
    // kubernetesMetricSpecs for cpu and memory: 45m and 15m used by two pods
    // requesting 50m each, a third ignored and a fourth missing.
    let input =
        std::fs::read_to_string(common::fixture("kubernetes-metrics/cpa-2.12.2.json")).unwrap();
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    let out = run(cmd, &input);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let report: WireReport = serde_json::from_str(&out.stdout).expect("the documented fields only");
    assert_eq!(report.current_replicas, 4);
    let load = report.load.expect("a load object");
    assert!((load.cpu_utilization - 0.6).abs() < 1e-9, "{load:?}");
    assert!(
        (load.scale_up_cpu_utilization - 0.3).abs() < 1e-9,
        "{load:?}"
    );
    assert!(
        (load.scale_down_cpu_utilization - 110.0 / 150.0).abs() < 1e-9,
        "{load:?}"
    );
    assert_eq!(load.cpu_limit_utilization, Some(2.0));
    assert_eq!(
        (
            load.pods_measured,
            load.pods_ready,
            load.pods_ignored,
            load.pods_missing
        ),
        (2, 2, 1, 1)
    );
    assert_eq!(
        (load.sampled_at.as_str(), load.window_seconds),
        ("2026-12-04T16:30:15Z", 15.0)
    );
    assert!(
        out.stderr.contains(
            "load: CPU 0.60 of the request per pod over 2 pod(s) (1 missing, 1 ignored; limit 2.00)"
        ),
        "{}",
        out.stderr
    );
    // A malformed kubernetesMetrics: one line, no load, the latency still measured.
    let mut broken: serde_json::Value = serde_json::from_str(&input).unwrap();
    broken["kubernetesMetrics"][1]["resource"]["pod_metrics_info"] = serde_json::json!("oops");
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    let out = run(cmd, &broken.to_string());
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let report: WireReport = serde_json::from_str(&out.stdout).expect("the documented fields only");
    assert!(report.load.is_none());
    assert!(report.requests["GET /x?delayMs=2"].count > 0);
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|line| line.contains("kubernetesMetrics"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(
        lines[0].contains("kubernetesMetrics: field '[1].resource.pod_metrics_info': invalid type: string \"oops\"")
            && lines[0].ends_with("the report has no load"),
        "{}",
        lines[0]
    );
}

#[test]
fn a_server_presenting_a_ca_certificate_is_named_a_certificate_problem_in_a_few_lines() {
    let server = TestServer::start_tls_self_signed();
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(dir.path(), &single_get("/x"));
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    cmd.env("gooseUsers", "10")
        .env("gooseCaCertPath", common::fixture("self-signed.pem"));
    let out = run(cmd, &cpa_input(1));
    let report = out.report();
    let stats = report.request("GET", "/x").unwrap();
    assert!(
        stats.count > 0 && stats.failures == stats.count,
        "{stats:?}"
    );
    let warnings = out
        .stderr
        .lines()
        .filter(|line| line.contains("WARN"))
        .count();
    let errors = out
        .stderr
        .lines()
        .filter(|line| line.contains("ERROR"))
        .count();
    assert!(
        (1..=10).contains(&warnings) && errors == 0,
        "a summary of at most 10 lines, not one per request ({} requests): {}",
        stats.count,
        out.stderr
    );
    assert!(out.stderr.lines().count() <= 15, "{}", out.stderr);
    let summary = out
        .stderr
        .lines()
        .find(|line| line.contains("TLS certificate problem"))
        .unwrap_or_else(|| panic!("the cause is named: {}", out.stderr));
    assert!(
        summary.contains("CaUsedAsEndEntity")
            && summary.contains("presents a CA certificate as its own")
            && summary.contains("gooseCaCertPath"),
        "the cause and the fix: {summary}"
    );
}

#[test]
fn the_load_the_probe_adds_is_logged_when_the_test_starts() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let waiting = scenario_file(
        dir.path(),
        "scenarios:\n  - name: s\n    waitTime: {minMs: 400, maxMs: 600}\n    transactions:\n      - path: /x\n",
    );
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &waiting);
    let out = run(cmd, &cpa_input(1));
    out.report();
    assert!(
        out.stderr.contains(
            "probe load: at most 6.0 requests/s (3 users, each waiting between requests), about 6 requests in the 1 s run"
        ),
        "3 users waiting 0.5 s on average: {}",
        out.stderr
    );
    let file = scenario_file(dir.path(), &single_get("/x"));
    let mut cmd = gpa_metric();
    quick(&mut cmd, &server.url, &file);
    let out = run(cmd, &cpa_input(1));
    out.report();
    assert!(
        out.stderr.contains(
            "probe load: scenario 'probe' has no waitTime, so its users send requests back to back"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn the_metric_docs_state_the_probe_load_and_the_default_log_filter() {
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/metric.md"),
    )
    .unwrap();
    assert!(
        docs.contains("requests/s ≈ users / (mean wait + response time)"),
        "docs/metric.md gives the probe's load"
    );
    assert!(
        docs.contains("INFO probe load: at most "),
        "docs/metric.md shows the log line"
    );
    let filter = goose_pod_autoscaler::metric::DEFAULT_LOG_FILTER;
    assert!(
        docs.contains(&format!("| `{filter}` |")),
        "docs/metric.md gives the default GPA_LOG, {filter}"
    );
}
