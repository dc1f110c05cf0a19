//! gpa-evaluate against hostile or broken input, each found by a fuzz or
//! fault test: impossible figures, keys given twice, a lock held by a live
//! process, symbolic links at the lock or state path, and a report with
//! 100,000 request names. Every rejection is exit 1, one line on stderr
//! naming what and where, nothing on stdout, the state file unchanged.

mod evaluate_support;

use std::time::{Duration, Instant};

use evaluate_support::{
    Fixture, SETTLED_AT_3, assert_fails, lpa_config, quiet_input, report, v2_input,
};
use goose_pod_autoscaler::state::StateFile;
use predicates::prelude::*;
use serde_json::json;

const KEY: &str = "GET /fibonacci?n=10";

/// A quiet report at 3 replicas with `changes` applied to its one request.
fn quiet_report_with(changes: &[(&str, serde_json::Value)]) -> String {
    let mut report = report(Some(3), 5.0, 100, 0);
    for (field, value) in changes {
        report["requests"][KEY][*field] = value.clone();
    }
    v2_input(&report, 3, "scaler")
}

#[test]
fn a_report_with_impossible_figures_is_rejected_naming_the_figure() {
    let fixture = Fixture::new(&lpa_config(3));
    let at = |figure: &str| format!("error: metrics[0].value: field 'requests.{KEY}.{figure}': ");
    let cases = [
        (
            vec![("meanMs", json!(-5.0))],
            format!(
                "{}'-5' is impossible; expected a finite figure of 0 or more",
                at("meanMs")
            ),
        ),
        (
            vec![("requestsPerSecond", json!(-0.5))],
            format!("{}'-0.5' is impossible", at("requestsPerSecond")),
        ),
        (
            vec![("failures", json!(101))],
            format!(
                "{}'101' is above count '100'; expected at most count",
                at("failures")
            ),
        ),
        (
            vec![("errorRate", json!(1.5))],
            format!("{}'1.5' is above 1", at("errorRate")),
        ),
        (
            vec![("minMs", json!(12.0)), ("maxMs", json!(10.0))],
            format!(
                "{}'12' is above maxMs '10'; expected minMs <= maxMs",
                at("minMs")
            ),
        ),
        (
            vec![("minMs", json!(4.0)), ("meanMs", json!(3.0))],
            format!("{}'3' is outside minMs '4' to maxMs '5'", at("meanMs")),
        ),
        (
            vec![("p75Ms", json!(6.0)), ("p90Ms", json!(3.0))],
            format!(
                "{}'3' is below p75Ms '6'; expected minMs <= medianMs <= p75Ms",
                at("p90Ms")
            ),
        ),
    ];
    for (changes, message) in cases {
        assert_fails(
            &fixture,
            fixture.command().write_stdin(quiet_report_with(&changes)),
            &message,
        );
    }
    // JSON cannot say NaN or infinity; a number too large for a float is
    // refused while parsing
    let huge = report(Some(3), 5.0, 100, 0)
        .to_string()
        .replace("\"meanMs\":5.0", "\"meanMs\":1e999");
    assert!(huge.contains("1e999"));
    assert_fails(
        &fixture,
        fixture.command().write_stdin(huge),
        "error: stdin is not valid JSON: number out of range at line 1 column ",
    );
}

#[test]
fn figures_out_of_order_only_by_rounding_are_accepted() {
    let fixture = Fixture::new(&lpa_config(3));
    // goose's percentiles come from histogram buckets: a median a little
    // under the exact minimum is rounding, not an impossibility
    fixture
        .command()
        .write_stdin(quiet_report_with(&[("medianMs", json!(4.98))]))
        .assert()
        .success()
        .stdout("{\"targetReplicas\":3}\n");
}

#[test]
fn a_key_given_twice_anywhere_is_rejected_naming_its_path() {
    let fixture = Fixture::new(&lpa_config(3));
    let report = report(Some(3), 12.3, 100, 0).to_string();
    let value = serde_json::to_string(&format!("{report}\n")).unwrap();
    // the last runType would win and make this a dry run that writes nothing
    let run_type = format!(
        r#"{{"metrics": [{{"resource": "fib", "value": {value}}}], "runType": "scaler", "runType": "api_dry_run"}}"#
    );
    let in_resource = format!(
        r#"{{"metrics": [{{"value": {value}}}], "resource": {{"metadata": {{"name": "a", "name": "b"}}}}, "runType": "scaler"}}"#
    );
    let in_report = report.replacen("\"count\":100", "\"count\":100,\"count\":1", 1);
    let in_report = json!({"metrics": [{"value": in_report}], "runType": "scaler"}).to_string();
    let cases = [
        (
            run_type,
            "error: stdin: field 'runType': is given twice in one object (line 1 column ",
        ),
        (
            in_resource,
            "error: stdin: field 'resource.metadata.name': is given twice",
        ),
        (
            in_report,
            "error: metrics[0].value: field 'requests.GET /fibonacci?n=10.count': is given twice",
        ),
    ];
    for (stdin, message) in cases {
        assert_fails(&fixture, fixture.command().write_stdin(stdin), message);
    }
}

#[test]
fn the_cpa_0x_input_with_the_resource_as_a_name_is_accepted() {
    let fixture = Fixture::new(&lpa_config(3));
    // CPA 0.x (metric.ResourceMetrics): "resource" is the resource's name
    let input = json!({"resource": "fibonacci", "run_type": "scaler",
        "metrics": [{"resource": "fibonacci", "value": format!("{}\n", report(Some(3), 12.3, 100, 0))}]});
    fixture.assert_scales_to(&input.to_string(), 4);
}

#[test]
fn empty_stdin_says_its_cause_once() {
    let fixture = Fixture::new(&lpa_config(3));
    let output = fixture.command().write_stdin("").output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: stdin is not valid JSON: EOF while parsing a value at line 1 column 0; expected the CPA evaluate JSON"), "{stderr}");
    assert_eq!(stderr.matches("EOF while parsing").count(), 1, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn a_lock_held_by_a_live_process_fails_the_run_after_a_bounded_wait_naming_the_lock_file() {
    let fixture = Fixture::new(&lpa_config(3));
    std::fs::write(&fixture.state, SETTLED_AT_3).unwrap();
    // this test process is the live holder
    let held = StateFile::new(&fixture.state).lock(Duration::ZERO).unwrap();
    let lock_path = format!("{}.lock", fixture.state.display());
    let started = Instant::now();
    assert_fails(
        &fixture,
        fixture.command().write_stdin(quiet_input()),
        &format!(
            "error: cannot lock decay state file '{lock_path}': another evaluation has held it for "
        ),
    );
    // the default wait is 1 s; the bound here is loose for a busy machine
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_fails(
        &fixture,
        fixture
            .command()
            .env("lockTimeoutMs", "50")
            .write_stdin(quiet_input()),
        &lock_path,
    );
    drop(held);
    fixture
        .command()
        .write_stdin(quiet_input())
        .assert()
        .success()
        .stdout("{\"targetReplicas\":2}\n");
}

#[test]
fn a_symbolic_link_at_the_lock_or_the_state_path_is_not_followed() {
    let fixture = Fixture::new(&lpa_config(3));
    let target = fixture.dir.path().join("target-of-link");
    let lock = fixture.dir.path().join("decay_info.json.lock");
    std::os::unix::fs::symlink(&target, &lock).unwrap();
    assert_fails(
        &fixture,
        fixture.command().write_stdin(quiet_input()),
        &format!(
            "error: cannot use decay state file '{}': it is a symbolic link",
            lock.display()
        ),
    );
    assert!(!target.exists(), "no file may appear at the link's target");

    let other = Fixture::new(&lpa_config(3));
    let real = other.dir.path().join("real.json");
    std::fs::write(&real, SETTLED_AT_3).unwrap();
    std::os::unix::fs::symlink(&real, &other.state).unwrap();
    let output = other.command().write_stdin(quiet_input()).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(
        stderr.contains(&format!(
            "cannot use decay state file '{}': it is a symbolic link",
            other.state.display()
        )),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&real).unwrap(), SETTLED_AT_3);
}

/// A report with `names` requests besides, or instead of, the targeted one.
fn many_names(names: usize, with_target: bool) -> String {
    let mut report = report(Some(3), 12.3, 100, 0);
    let stats = report["requests"][KEY].clone();
    let requests = report["requests"].as_object_mut().unwrap();
    if !with_target {
        requests.clear();
    }
    for index in 0..names {
        let mut stats = stats.clone();
        stats["name"] = json!(format!("/page/{index:06}"));
        requests.insert(format!("GET /page/{index:06}"), stats);
    }
    v2_input(&report, 3, "scaler")
}

#[test]
fn a_report_with_100000_names_is_evaluated_and_a_missing_target_lists_20_of_them() {
    let fixture = Fixture::new(&lpa_config(3));
    fixture
        .command()
        .write_stdin(many_names(100_000, true))
        .assert()
        .success()
        .stdout("{\"targetReplicas\":4}\n")
        .stderr(predicate::str::contains(
            "scale up 3 -> 4: GET /fibonacci?n=10 mean 12.3 ms",
        ));

    let output = fixture
        .command()
        .write_stdin(many_names(100_000, false))
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "one line");
    assert!(stderr.len() < 2_000, "{} bytes: {stderr}", stderr.len());
    assert!(
        stderr.contains("(requests measured: GET /page/000000, GET /page/000001, ")
            && stderr.contains("GET /page/000019 and 99980 more); expected"),
        "{stderr}"
    );
}
