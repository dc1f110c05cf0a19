//! The gpa-evaluate command-line contract: input shapes, the one-line stdout,
//! the state file, settings and their precedence, and every class of error
//! (exit 1, one line on stderr, nothing on stdout, state untouched).

mod evaluate_support;

use evaluate_support::{
    Fixture, SETTLED_AT_3, assert_fails, bare_command, lpa_config, quiet_input, report, v2_input,
};
use predicates::prelude::*;
use serde_json::json;

const MISSED_V2_STDERR: &str = "scale up 3 -> 4: GET /fibonacci?n=10 mean 12.3 ms > target 7 ms";

fn missed_report() -> serde_json::Value {
    report(Some(3), 12.3, 100, 0)
}

#[test]
fn a_v2_input_whose_report_ends_with_a_newline_scales_up_a_missed_target() {
    let fixture = Fixture::new(&lpa_config(3));
    fixture
        .command()
        .write_stdin(v2_input(&missed_report(), 3, "scaler"))
        .assert()
        .success()
        .stdout("{\"targetReplicas\":4}\n")
        .stderr(predicate::str::contains(MISSED_V2_STDERR));
    let state = fixture.state_json();
    assert_eq!(state["runsSinceChange"], 0);
    assert_eq!(state["lastSeenReplicas"], 3);
    assert_eq!(state["lastTargetReplicas"], 4);
    assert!(state["lastScaleUpUnixSeconds"].as_u64().is_some());
}

#[test]
fn a_legacy_input_with_run_type_is_accepted() {
    let fixture = Fixture::new(&lpa_config(3));
    let input = json!({"metrics": [{"resource": "fibonacci", "value": format!("{}\n", missed_report())}],
        "resource": {"kind": "Deployment", "metadata": {"name": "fibonacci"}, "spec": {"replicas": 3}},
        "run_type": "scaler"});
    fixture.assert_scales_to(&input.to_string(), 4);
}

#[test]
fn a_bare_report_is_a_scaler_run_that_updates_the_state() {
    let fixture = Fixture::new(&lpa_config(3));
    fixture
        .command()
        .write_stdin(format!("{}\n", report(Some(3), 5.0, 100, 0)))
        .assert()
        .success()
        .stdout("{\"targetReplicas\":3}\n")
        .stderr(predicate::str::contains("hold 3: targets met (GET /fibonacci?n=10 mean 5 ms <= target 7 ms); quiet run 1 of 3 before a decay"));
    assert_eq!(fixture.state_json()["runsSinceChange"], 1);
}

#[test]
fn current_replicas_come_from_spec_replicas_when_the_report_has_none() {
    let fixture = Fixture::new(&lpa_config(3));
    fixture
        .command()
        .write_stdin(v2_input(&report(None, 12.3, 100, 0), 5, "api"))
        .assert()
        .success()
        .stdout("{\"targetReplicas\":6}\n");
}

#[test]
fn three_quiet_runs_pass_the_fourth_decays_and_the_state_file_shows_each_step() {
    let fixture = Fixture::new(&lpa_config(3));
    let mut answers = Vec::new();
    let mut runs = Vec::new();
    for current in [3, 3, 3, 3, 2] {
        let output = fixture
            .command()
            .write_stdin(v2_input(
                &report(Some(current), 5.0, 100, 0),
                current,
                "scaler",
            ))
            .output()
            .unwrap();
        assert!(output.status.success());
        answers.push(String::from_utf8(output.stdout).unwrap());
        let state = fixture.state_json();
        runs.push(state["runsSinceChange"].as_u64().unwrap());
    }
    assert_eq!(answers[..3], ["{\"targetReplicas\":3}\n"; 3]);
    assert_eq!(answers[3], "{\"targetReplicas\":2}\n");
    assert_eq!(answers[4], "{\"targetReplicas\":2}\n");
    assert_eq!(runs, [1, 2, 3, 0, 1]);
    let text = fixture.state_text().unwrap();
    // a decay does not start the scale-up cooldown, so no scale-up time is
    // kept; the decay from 3 is watched for a miss for 4 runs
    assert_eq!(
        text,
        "{\"runsSinceChange\":1,\"lastSeenReplicas\":2,\"lastTargetReplicas\":2,\"decayedFromReplicas\":3,\"runsSinceDecay\":1,\"lastReadyReplicas\":2}\n"
    );
}

#[test]
fn a_dry_run_decides_the_same_but_creates_and_changes_no_file() {
    let fixture = Fixture::new(&lpa_config(3));
    fixture
        .command()
        .write_stdin(v2_input(&missed_report(), 3, "api_dry_run"))
        .assert()
        .success()
        .stdout("{\"targetReplicas\":4}\n")
        .stderr(predicate::str::contains("(dry run, state unchanged)"));
    let mut names: Vec<_> = std::fs::read_dir(fixture.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["evaluation_config.yaml"]);

    std::fs::write(&fixture.state, SETTLED_AT_3).unwrap();
    let before = fixture.state_text();
    fixture
        .command()
        .write_stdin(v2_input(&report(Some(3), 5.0, 100, 0), 3, "api_dry_run"))
        .assert()
        .success()
        .stdout("{\"targetReplicas\":2}\n");
    assert_eq!(fixture.state_text(), before);
}

#[test]
fn zero_replicas_with_the_default_minimum_answers_zero_and_writes_nothing() {
    let fixture = Fixture::new(&lpa_config(3));
    let empty = json!({"currentReplicas": 0, "users": 0, "runTimeSeconds": 0.0, "requests": {}});
    fixture
        .command()
        .write_stdin(v2_input(&empty, 0, "scaler"))
        .assert()
        .success()
        .stdout("{\"targetReplicas\":0}\n")
        .stderr(predicate::str::contains(
            "autoscaling disabled (current replicas 0, minReplicas 1)",
        ));
    assert_eq!(fixture.state_text(), None);
}

#[test]
fn an_unparseable_state_file_is_reported_and_overwritten() {
    let fixture = Fixture::new(&lpa_config(3));
    std::fs::write(
        &fixture.state,
        "{\"runs_since_change\": 2}}trailing garbage",
    )
    .unwrap();
    fixture
        .command()
        .write_stdin(quiet_input())
        .assert()
        .success()
        .stdout("{\"targetReplicas\":3}\n")
        .stderr(
            predicate::str::contains("decay_info.json' is not valid state JSON")
                .and(predicate::str::contains("starting fresh")),
        );
    assert_eq!(fixture.state_json()["runsSinceChange"], 1);
}

#[test]
fn a_replica_count_changed_by_someone_else_resets_the_runs_counter() {
    let fixture = Fixture::new(&lpa_config(3));
    std::fs::write(&fixture.state, SETTLED_AT_3).unwrap();
    fixture
        .command()
        .write_stdin(v2_input(&report(Some(5), 5.0, 100, 0), 5, "scaler"))
        .assert()
        .success()
        .stdout("{\"targetReplicas\":5}\n")
        .stderr(predicate::str::contains(
            "replicas were changed by someone else",
        ));
    assert_eq!(fixture.state_json()["runsSinceChange"], 0);
}

#[test]
fn check_validates_the_config_and_prints_nothing_on_stdout() {
    let fixture = Fixture::new(&lpa_config(3));
    fixture
        .command()
        .arg("--check")
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains(
            "is valid: 1 target(s), replicas 1..=10",
        ));
    let bad = Fixture::new(&lpa_config(3).replace("\"mean\"", "\"average\""));
    bad.command()
        .arg("--check")
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "at line 4 column 11: unknown variant `average`, expected one of mean",
        ));
}

#[test]
fn help_and_version_exit_zero() {
    bare_command()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("evaluationConfigFilePath"));
    bare_command()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("gpa-evaluate "));
}

#[test]
fn environment_variables_set_the_paths_and_flags_override_them() {
    let fixture = Fixture::new(&lpa_config(3));
    let state = fixture.state.to_str().unwrap();
    bare_command()
        .env("evaluationConfigFilePath", &fixture.config)
        .env("decayInfoFilePath", state)
        .write_stdin(quiet_input())
        .assert()
        .success()
        .stdout("{\"targetReplicas\":3}\n");
    assert_eq!(fixture.state_json()["runsSinceChange"], 1);

    let other_state = fixture.dir.path().join("other.json");
    bare_command()
        .env("evaluationConfigFilePath", "/nonexistent/config.yaml")
        .env("decayInfoFilePath", state)
        .arg("--config")
        .arg(&fixture.config)
        .arg("--state")
        .arg(&other_state)
        .write_stdin(quiet_input())
        .assert()
        .success();
    assert!(other_state.exists());
    assert_eq!(
        fixture.state_json()["runsSinceChange"],
        1,
        "the env state path must not be used"
    );
}

#[test]
fn empty_environment_variables_count_as_unset() {
    let fixture = Fixture::new(&lpa_config(3));
    fixture
        .command()
        .env("minReplicas", "")
        .env("maxReplicas", "")
        .arg("--check")
        .assert()
        .success()
        .stderr(predicate::str::contains("replicas 1..=10"));
    bare_command()
        .env("evaluationConfigFilePath", "")
        .arg("--check")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot read evaluation config '/evaluation_config.yaml'",
        ));
}

#[test]
fn the_cpa_bounds_in_the_environment_apply_unless_the_config_sets_its_own() {
    let fixture = Fixture::new(&lpa_config(3));
    fixture
        .command()
        .env("maxReplicas", "3")
        .write_stdin(v2_input(&missed_report(), 3, "scaler"))
        .assert()
        .success()
        .stdout("{\"targetReplicas\":3}\n")
        .stderr(predicate::str::contains("4 limited to maxReplicas 3"));
    fixture
        .command()
        .env("minReplicas", "4")
        .write_stdin(quiet_input())
        .assert()
        .success()
        .stdout("{\"targetReplicas\":4}\n");

    let own = Fixture::new(&format!(
        "{}minReplicas: 2\nmaxReplicas: 20\n",
        lpa_config(3)
    ));
    own.command()
        .env("maxReplicas", "3")
        .env("minReplicas", "3")
        .write_stdin(v2_input(&missed_report(), 3, "scaler"))
        .assert()
        .success()
        .stdout("{\"targetReplicas\":4}\n");
}

#[test]
fn a_zero_minimum_in_the_environment_lets_zero_replicas_be_evaluated() {
    let fixture = Fixture::new(&lpa_config(3));
    fixture
        .command()
        .env("minReplicas", "0")
        .write_stdin(v2_input(&report(Some(0), 12.3, 100, 90), 0, "scaler"))
        .assert()
        .success()
        .stdout("{\"targetReplicas\":1}\n");
}

#[test]
fn bad_input_exits_1_with_one_line_naming_the_fault() {
    let fixture = Fixture::new(&lpa_config(3));
    let cases: Vec<(String, &str)> = vec![
        ("{\"metrics\": [".into(), "error: stdin is not valid JSON: EOF while parsing a list at line 1 column 13; expected the CPA evaluate JSON"),
        ("{\"metrics\": [{\"resource\": \"fib\"}]}".into(), "error: stdin: field 'metrics[0]': missing field `value`"),
        ("{\"metrics\": [{\"value\": 7}]}".into(), "error: stdin: field 'metrics[0].value': invalid type: integer `7`, expected a string"),
        ("{\"metrics\": [{\"value\": \"not json\"}]}".into(), "error: metrics[0].value is not valid JSON"),
        (json!({"foo": 1}).to_string(), "error: stdin has an unknown shape (top-level keys: foo)"),
        (
            json!({"metrics": [{"value": report(None, 5.0, 100, 0).to_string()}], "runType": "scaler"}).to_string(),
            "error: stdin has no current replica count: neither the report's 'currentReplicas' nor 'resource.spec.replicas' is present",
        ),
        (
            v2_input(&report(Some(3), 1.0, 40, 40), 3, "scaler"),
            "error: every request of targets[0] 'GET /fibonacci?n=10' failed (40 of 40); expected at least one successful request",
        ),
        (
            v2_input(&report(Some(3), 0.0, 0, 0), 3, "scaler"),
            "failed (0 of 0)",
        ),
        (
            v2_input(&json!({"currentReplicas": 3, "requests": {}}), 3, "scaler"),
            "error: no result for targets[0] 'GET /fibonacci?n=10' in the report (requests measured: none)",
        ),
    ];
    for (stdin, message) in cases {
        assert_fails(&fixture, fixture.command().write_stdin(stdin), message);
    }
}

#[test]
fn a_bad_config_exits_1_naming_the_file_line_and_column_or_key() {
    let cases = [
        (
            lpa_config(3).replace("\"mean\"", "\"p98\""),
            "evaluation_config.yaml' at line 4 column 11: unknown variant `p98`",
        ),
        (
            lpa_config(3).replace("target: 7", "target: 7\n    weight: 2"),
            "at line 6 column 5: unknown field `weight`, expected one of method, endpoint, name, type, target, tolerance",
        ),
        (
            lpa_config(3).replace("target: 7", "target: -7"),
            "evaluation_config.yaml': targets[0].target '-7' is out of range; expected milliseconds above 0",
        ),
        (
            format!("{}minReplicas: 4\nmaxReplicas: 2\n", lpa_config(3)),
            "minReplicas '4' is above maxReplicas '2'",
        ),
    ];
    for (config, message) in cases {
        let fixture = Fixture::new(&config);
        assert_fails(
            &fixture,
            fixture.command().write_stdin(quiet_input()),
            message,
        );
    }
    let fixture = Fixture::new(&lpa_config(3));
    std::fs::remove_file(&fixture.config).unwrap();
    let message = format!(
        "error: cannot read evaluation config '{}': No such file or directory",
        fixture.config.display()
    );
    assert_fails(
        &fixture,
        fixture.command().write_stdin(quiet_input()),
        &message,
    );
}

#[test]
fn an_unusable_state_path_exits_1_naming_it() {
    let fixture = Fixture::new(&lpa_config(3));
    let missing_folder = fixture.dir.path().join("missing/decay_info.json");
    let output = bare_command()
        .arg("--config")
        .arg(&fixture.config)
        .arg("--state")
        .arg(&missing_folder)
        .write_stdin(quiet_input())
        .assert()
        .code(1)
        .stdout("");
    let stderr = String::from_utf8(output.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains(&format!(
            "error: cannot use decay state file '{}': its folder",
            missing_folder.display()
        )),
        "{stderr}"
    );

    let output = bare_command()
        .arg("--config")
        .arg(&fixture.config)
        .arg("--state")
        .arg(fixture.dir.path())
        .write_stdin(quiet_input())
        .assert()
        .code(1)
        .stdout("");
    let stderr = String::from_utf8(output.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains(&format!(
            "error: cannot read decay state file '{}'",
            fixture.dir.path().display()
        )),
        "{stderr}"
    );
}

#[test]
fn bad_settings_exit_1_with_one_line() {
    let fixture = Fixture::new(&lpa_config(3));
    assert_fails(
        &fixture,
        fixture
            .command()
            .env("maxReplicas", "ten")
            .write_stdin(quiet_input()),
        "error: setting maxReplicas (--max-replicas) 'ten': not a replica count; expected a whole number",
    );
    assert_fails(
        &fixture,
        fixture
            .command()
            .env("minReplicas", "5")
            .env("maxReplicas", "2")
            .write_stdin(quiet_input()),
        "minReplicas (CPA setting) '5' is above maxReplicas (CPA setting) '2'",
    );
    assert_fails(
        &fixture,
        fixture.command().arg("--bogus").write_stdin(quiet_input()),
        "error: unexpected argument '--bogus' found",
    );
}

#[test]
fn the_cpa_config_files_bounds_apply_when_its_variables_are_unset() {
    let fixture = Fixture::new(&lpa_config(3));
    let cpa_config = fixture.dir.path().join("config.yaml");
    std::fs::write(
        &cpa_config,
        "interval: 15000\nminReplicas: 2\nmaxReplicas: 3\nrunMode: per-resource\n",
    )
    .unwrap();
    // a miss at 3 would answer 4; the CPA's config.yaml caps it at 3
    fixture
        .command()
        .env("configPath", &cpa_config)
        .write_stdin(v2_input(&missed_report(), 3, "scaler"))
        .assert()
        .success()
        .stdout("{\"targetReplicas\":3}\n")
        .stderr(predicate::str::contains("limited to maxReplicas 3"));
    // the CPA's variable overrides its file, as in the CPA
    fixture
        .command()
        .env("configPath", &cpa_config)
        .env("maxReplicas", "8")
        .write_stdin(v2_input(&missed_report(), 3, "scaler"))
        .assert()
        .success()
        .stdout("{\"targetReplicas\":4}\n");
}

#[test]
fn a_newline_in_an_input_value_stays_inside_one_error_line() {
    let fixture = Fixture::new(&lpa_config(3));
    let stdin = json!({"metrics": [{"value": report(Some(3), 5.0, 100, 0).to_string()}],
        "runType": "a\nb"})
    .to_string();
    assert_fails(
        &fixture,
        fixture.command().write_stdin(stdin),
        "unknown variant `a\\nb`",
    );
    let output = fixture
        .command()
        .write_stdin(json!({"metrics": [{"value": "{}"}], "runType": "a\r\nb"}).to_string())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(output.stderr).unwrap().lines().count(), 1);
}

#[test]
fn a_locust_pod_autoscaler_state_file_carries_over() {
    let fixture = Fixture::new(&lpa_config(3));
    std::fs::write(&fixture.state, "{\"runs_since_change\": 3}").unwrap();
    fixture
        .command()
        .write_stdin(quiet_input())
        .assert()
        .success()
        .stdout("{\"targetReplicas\":2}\n");
}
