//! What a new user's slips with setting names and files get from the real
//! executables: a warning naming the setting meant for a near miss in a
//! stage's environment (and none for the CPA's own keys or the other stage's
//! settings), an error with a tip for a name `gpa simulate --set` or a
//! profile does not know, and one-line errors that say the OS's reason once
//! and what was expected.

mod common;

use assert_cmd::Command;
use common::{gpa_metric, run, single_get};

/// `gpa-evaluate` with a clean environment.
fn gpa_evaluate() -> Command {
    let mut cmd = Command::cargo_bin("gpa-evaluate").unwrap();
    cmd.env_clear().timeout(std::time::Duration::from_secs(30));
    cmd
}

/// `gpa` with a clean environment.
fn gpa() -> Command {
    let mut cmd = Command::cargo_bin("gpa").unwrap();
    cmd.env_clear().timeout(std::time::Duration::from_secs(30));
    cmd
}

/// The environment the CPA operator gives every container: the CR's
/// `spec.config` entries (the CPA's own keys among them), `scaleTargetRef`
/// and `namespace`.
const CPA_ENVIRONMENT: &[(&str, &str)] = &[
    ("interval", "15000"),
    ("minReplicas", "1"),
    ("maxReplicas", "10"),
    ("runMode", "per-resource"),
    ("downscaleStabilization", "0"),
    ("kubernetesMetricSpecs", "[]"),
    ("requireKubernetesMetrics", "false"),
    ("startTime", "1"),
    ("namespace", "default"),
    (
        "scaleTargetRef",
        r#"{"apiVersion":"apps/v1","kind":"Deployment","name":"fibonacci"}"#,
    ),
    ("HOSTNAME", "fibonacci-cpa"),
];

#[test]
fn a_metric_stage_warns_about_a_near_miss_of_its_own_settings_only() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::scenario_file(dir.path(), &single_get("/x"));
    let mut cmd = gpa_metric();
    cmd.envs(CPA_ENVIRONMENT.iter().copied())
        .env("gooseHost", "http://127.0.0.1:9")
        .env("scenarioFilePath", &scenario)
        .env("gooseUser", "3")
        .env("gooseHots", "http://127.0.0.1:9")
        // The evaluate stage's settings and their slips are not the metric
        // stage's to report.
        .env("lockTimeoutMs", "1000")
        .env("lockTimeoutMS", "1000")
        .args(["--replicas", "0"]);
    let out = run(cmd, "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|line| line.contains("is not a setting"))
        .collect();
    assert_eq!(warnings.len(), 2, "{}", out.stderr);
    assert!(warnings[0].contains("WARN"), "{}", warnings[0]);
    for (slip, meant) in [("gooseUser", "gooseUsers"), ("gooseHots", "gooseHost")] {
        assert!(
            out.stderr.contains(&format!(
                "environment variable '{slip}' is not a setting of gpa-metric and is ignored; \
                 tip: a similar setting exists: '{meant}'"
            )),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn an_evaluate_stage_warns_about_a_near_miss_of_its_own_settings_only() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::evaluation_config(
        dir.path(),
        "{method: GET, endpoint: /x, type: mean, target: 100}",
    );
    let mut cmd = gpa_evaluate();
    cmd.envs(CPA_ENVIRONMENT.iter().copied())
        .env("evaluationConfigFilePath", &config)
        .env("decayInfoFile", dir.path().join("d.json"))
        .env("gooseUser", "3")
        .env("gooseUsers", "3")
        .arg("--check");
    let out = run(cmd, "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .map(str::trim)
        .filter(|line| line.contains("is not a setting"))
        .collect();
    assert_eq!(
        warnings,
        [
            "WARN environment variable 'decayInfoFile' is not a setting of gpa-evaluate and is \
          ignored; tip: a similar setting exists: 'decayInfoFilePath'"
        ],
        "{}",
        out.stderr
    );
}

/// The one error line of a `gpa` run that must fail before anything runs.
fn gpa_error(args: &[&str]) -> String {
    let out = run(
        {
            let mut cmd = gpa();
            cmd.args(args);
            cmd
        },
        "",
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    out.stderr.trim_end().to_string()
}

#[test]
fn simulate_refuses_an_unknown_setting_name_with_a_tip() {
    let err = gpa_error(&["simulate", "--set", "gooseUser=3"]);
    assert!(
        err.contains(
            "setting 'gooseUser' is not a setting of gpa-metric or gpa-evaluate; expected one of \
             their settings (docs/settings.md), or an UPPER_CASE variable a scenario header names; \
             tip: a similar setting exists: 'gooseUsers'"
        ),
        "{err}"
    );
}

#[test]
fn simulate_says_a_setting_without_a_value_has_no_value() {
    let err = gpa_error(&["simulate", "--set", "gooseUsers"]);
    assert!(
        err.contains(
            "setting 'gooseUsers' has no value; expected NAME=VALUE, e.g. gooseUsers=VALUE"
        ),
        "{err}"
    );
    assert!(!err.contains("no name"), "{err}");
}

#[test]
fn simulate_refuses_in_set_what_a_profile_may_not_set() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.yaml");
    std::fs::write(
        &profile,
        "steps:\n  - durationSeconds: 1\n    requestsPerSecond: 1\npluginSettings:\n  gooseHost: http://127.0.0.1:9\n",
    )
    .unwrap();
    let by_set = gpa_error(&["simulate", "--set", "gooseHost=http://127.0.0.1:9"]);
    let by_profile = gpa_error(&["simulate", "--profile", profile.to_str().unwrap()]);
    let why = "setting 'gooseHost' is set by the simulation itself; expected a plugin setting \
               such as gooseRequestTimeout or gooseUsers";
    assert!(by_set.contains(why), "{by_set}");
    assert!(by_profile.contains(why), "{by_profile}");
    assert!(by_profile.contains("line 5 column 3"), "{by_profile}");
}

/// Asserts `line` names the OS's reason exactly once and says what was
/// expected.
fn says_the_os_error_once(line: &str) {
    assert_eq!(line.matches("(os error 2)").count(), 1, "{line}");
    assert!(line.contains("; expected "), "{line}");
}

#[test]
fn a_missing_file_s_os_error_is_said_once_with_what_was_expected() {
    let profile = gpa_error(&["simulate", "--profile", "/nonexistent/profile.yaml"]);
    assert!(
        profile.contains("cannot read load profile '/nonexistent/profile.yaml'"),
        "{profile}"
    );
    says_the_os_error_once(&profile);

    let mut cmd = gpa_metric();
    cmd.env("gooseHost", "http://127.0.0.1:9")
        .env("scenarioFilePath", "scenario/single-get.yaml")
        .args(["--replicas", "1"]);
    let out = run(cmd, "");
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    says_the_os_error_once(out.stderr.trim_end());

    let mut cmd = gpa_metric();
    cmd.env("gooseHost", "https://127.0.0.1:9")
        .env(
            "scenarioFilePath",
            common::fixture("../../scenarios/single-get.yaml"),
        )
        .env("gooseCaCertPath", "/nonexistent/ca.pem")
        .args(["--replicas", "1"]);
    let out = run(cmd, "");
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    says_the_os_error_once(out.stderr.trim_end());
}
