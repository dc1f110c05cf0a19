//! A target on a request the scenario never sends is found before anything
//! runs: `gpa-metric` exits 1 at start naming the target and what the
//! scenario sends, `gpa-evaluate --check` refuses the config when it sees
//! the scenario file, and a simulation in which no interval decided fails
//! and makes no claim about the target.

mod common;

use assert_cmd::Command;
use common::{gpa_metric, run};

const SCENARIO: &str = "scenarios:\n  - name: probe\n    waitTime: {minMs: 100, maxMs: 200}\n    transactions:\n      - path: /fibonacci?n=10\n      - method: POST\n        path: /cart\n        name: cart\n";

const MISSING_TARGET: &str = "{method: GET, endpoint: /checkout, type: mean, target: 100}";

fn expected_line(config: &std::path::Path, scenario: &std::path::Path) -> String {
    format!(
        "error: evaluation config '{}' targets[1] 'GET /checkout': the scenario never sends this \
         request (scenario file '{}' sends GET /fibonacci?n=10, POST cart); expected a target on \
         a request the scenario sends (its method, and its endpoint or name as the report names \
         it), or that request added to the scenario",
        config.display(),
        scenario.display()
    )
}

fn files(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let scenario = common::scenario_file(dir, SCENARIO);
    let config = common::evaluation_config(
        dir,
        &format!(
            "{{method: GET, endpoint: /fibonacci?n=10, type: mean, target: 100}}\n  - {MISSING_TARGET}"
        ),
    );
    (scenario, config)
}

#[test]
fn the_metric_stage_refuses_at_start_a_target_its_scenario_never_requests() {
    let dir = tempfile::tempdir().unwrap();
    let (scenario, config) = files(dir.path());
    let mut cmd = gpa_metric();
    // Nothing listens there: the stage must fail before any request.
    cmd.env("gooseHost", common::refused_url())
        .env("scenarioFilePath", &scenario)
        .env("evaluationConfigFilePath", &config)
        .args(["--replicas", "2"]);
    let out = run(cmd, "");
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr.lines().last().unwrap(),
        expected_line(&config, &scenario)
    );
    assert!(!out.stderr.contains("load test starting"), "{}", out.stderr);
}

#[test]
fn evaluate_check_refuses_it_when_it_sees_the_scenario_file() {
    let dir = tempfile::tempdir().unwrap();
    let (scenario, config) = files(dir.path());
    let check = |scenario: Option<&std::path::Path>| {
        let mut cmd = Command::cargo_bin("gpa-evaluate").unwrap();
        cmd.env_clear()
            .env("evaluationConfigFilePath", &config)
            .arg("--check");
        if let Some(scenario) = scenario {
            cmd.env("scenarioFilePath", scenario);
        }
        run(cmd, "")
    };
    let seen = check(Some(&scenario));
    assert_eq!(seen.code, Some(1), "{}", seen.stderr);
    assert_eq!(
        seen.stderr.lines().last().unwrap(),
        expected_line(&config, &scenario)
    );
    // Without a scenario file to see, the config alone is valid, and the
    // check says what it could not check.
    let unseen = check(None);
    assert_eq!(unseen.code, Some(0), "{}", unseen.stderr);
    assert!(
        unseen
            .stderr
            .contains("no scenario file to check the targets against"),
        "{}",
        unseen.stderr
    );
}

/// `gpa simulate` of a 5 s profile at 10 requests/s, 1.5 s intervals,
/// into `dir`, with `args` added.
fn simulate_5_s(dir: &std::path::Path, args: &[&std::ffi::OsStr]) -> std::process::Output {
    let profile = dir.join("p.yaml");
    std::fs::write(
        &profile,
        "steps:\n  - durationSeconds: 5\n    requestsPerSecond: 10\n",
    )
    .unwrap();
    Command::cargo_bin("gpa")
        .unwrap()
        .args(["simulate", "--interval-ms", "1500", "--profile"])
        .arg(&profile)
        .args(args)
        .arg("--output-dir")
        .arg(dir.join("out"))
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap()
}

#[test]
fn a_simulation_in_which_no_interval_decided_fails_and_claims_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::evaluation_config(dir.path(), MISSING_TARGET);
    let output = simulate_5_s(
        dir.path(),
        &["--evaluation-config".as_ref(), config.as_os_str()],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("stdout is not the summary: {err}\n{stderr}"));
    assert!(summary["intervals"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(summary["decidedIntervals"], 0, "{summary}");
    assert_eq!(summary["skippedIntervals"], summary["intervals"]);
    for claim in [
        "secondsOverTarget",
        "replicaSecondsRatio",
        "reactionSeconds",
    ] {
        assert!(summary[claim].is_null(), "{claim} in {summary}");
    }
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with("error: simulation failed: no interval decided: ")
            && last.contains("the scenario never sends this request"),
        "{last}"
    );
}

#[test]
fn a_comparison_in_which_one_config_decided_nothing_fails_naming_it_after_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let missing = common::evaluation_config(dir.path(), MISSING_TARGET);
    let output = simulate_5_s(
        dir.path(),
        &[
            "--compare".as_ref(),
            "simulate/evaluation-config.yaml".as_ref(),
            missing.as_os_str(),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // both rows are written: the one that decided, and the one that did not
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("stdout is not the rows: {err}\n{stderr}"));
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows[0]["decidedIntervals"].as_u64().unwrap() >= 1,
        "{rows:?}"
    );
    assert_eq!(rows[1]["decidedIntervals"], 0, "{rows:?}");
    assert!(rows[1]["replicaSecondsRatio"].is_null(), "{rows:?}");
    assert!(rows[1].get("undecided").is_none(), "{rows:?}");
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "error: comparison failed: '{}': no interval decided: ",
            missing.display()
        )) && last.contains("the scenario never sends this request"),
        "{last}"
    );
}
