//! Shared fixtures for the gpa-evaluate tests: an evaluation config and a
//! decay state file in a temporary folder, and inputs built from a report.

#![allow(dead_code)] // each test crate uses a different part of it

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::json;

/// The compiled gpa-evaluate binary.
pub fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gpa-evaluate"))
}

/// The LPA's example config with `unchangedRuns` replaced.
pub fn lpa_config(unchanged_runs: u32) -> String {
    format!(
        "targets:\n  - method: \"GET\"\n    endpoint: \"/fibonacci?n=10\"\n    type: \"mean\"\n    target: 7\ndecay:\n  replicas: 1\n  unchangedRuns: {unchanged_runs}\n"
    )
}

/// A temporary folder holding `evaluation_config.yaml`; the state file
/// `decay_info.json` is created by the runs.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub state: PathBuf,
}

impl Fixture {
    pub fn new(config_text: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("evaluation_config.yaml");
        std::fs::write(&config, config_text).expect("write config");
        let state = dir.path().join("decay_info.json");
        Fixture { dir, config, state }
    }

    /// gpa-evaluate with `--config` and `--state` set and the settings'
    /// environment variables cleared.
    pub fn command(&self) -> Command {
        let mut command = bare_command();
        command
            .arg("--config")
            .arg(&self.config)
            .arg("--state")
            .arg(&self.state);
        command
    }

    /// The state file's content, if it exists.
    pub fn state_text(&self) -> Option<String> {
        std::fs::read_to_string(&self.state).ok()
    }

    pub fn state_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.state_text().expect("state file exists")).expect("state parses")
    }

    /// Sends `input` to a real run: it must answer `replicas` on stdout and
    /// remember them in the state file as the last answer.
    pub fn assert_scales_to(&self, input: &str, replicas: u32) {
        self.command()
            .write_stdin(input.to_owned())
            .assert()
            .success()
            .stdout(format!("{{\"targetReplicas\":{replicas}}}\n"));
        assert_eq!(self.state_json()["lastTargetReplicas"], replicas);
    }
}

/// gpa-evaluate with no flags and the settings' environment variables cleared.
pub fn bare_command() -> Command {
    let mut command = Command::new(binary());
    for name in [
        "evaluationConfigFilePath",
        "decayInfoFilePath",
        "minReplicas",
        "maxReplicas",
        "GPA_LOG",
    ] {
        command.env_remove(name);
    }
    // no CPA config file unless a test gives one
    command.env("configPath", "/nonexistent/cpa-config.yaml");
    command
}

/// A latency report with one request, `GET /fibonacci?n=10`, whose every
/// latency figure is `mean_ms`.
pub fn report(current: Option<u32>, mean_ms: f64, count: u64, failures: u64) -> serde_json::Value {
    let mut report = json!({
        "users": 10, "runTimeSeconds": 5.0,
        "requests": {"GET /fibonacci?n=10": {
            "method": "GET", "name": "/fibonacci?n=10", "count": count, "failures": failures,
            "errorRate": if count == 0 { 0.0 } else { failures as f64 / count as f64 },
            "requestsPerSecond": count as f64 / 5.0,
            "meanMs": mean_ms, "medianMs": mean_ms, "minMs": mean_ms, "maxMs": mean_ms,
            "p75Ms": mean_ms, "p90Ms": mean_ms, "p95Ms": mean_ms, "p99Ms": mean_ms}}
    });
    if let Some(current) = current {
        report["currentReplicas"] = json!(current);
    }
    report
}

/// The CPA 2.x evaluate input around `report`, with `spec.replicas` set to
/// `spec_replicas` and the report printed as gpa-metric does (one line with a
/// trailing newline), with every replica ready.
pub fn v2_input(report: &serde_json::Value, spec_replicas: u32, run_type: &str) -> String {
    let status = json!({"replicas": spec_replicas, "readyReplicas": spec_replicas,
        "availableReplicas": spec_replicas, "updatedReplicas": spec_replicas});
    v2_input_with_status(report, spec_replicas, status, run_type)
}

/// [`v2_input`] with the Deployment's `status` given.
pub fn v2_input_with_status(
    report: &serde_json::Value,
    spec_replicas: u32,
    status: serde_json::Value,
    run_type: &str,
) -> String {
    json!({
        "metrics": [{"resource": "fibonacci", "value": format!("{report}\n")}],
        "resource": {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "fibonacci", "namespace": "default"},
            "spec": {"replicas": spec_replicas}, "status": status},
        "runType": run_type,
    })
    .to_string()
}

/// A quiet run (mean 5 ms against a 7 ms target) at 3 replicas.
pub fn quiet_input() -> String {
    v2_input(&report(Some(3), 5.0, 100, 0), 3, "scaler")
}

/// A state file after three quiet runs at 3 replicas: the next quiet run decays.
pub const SETTLED_AT_3: &str =
    "{\"runsSinceChange\":3,\"lastSeenReplicas\":3,\"lastTargetReplicas\":3}\n";

/// Every error: exit 1, one line on stderr starting with `error: ` and
/// containing `message`, nothing on stdout, the state file as it was.
pub fn assert_fails(fixture: &Fixture, command: &mut assert_cmd::Command, message: &str) {
    std::fs::write(&fixture.state, SETTLED_AT_3).unwrap();
    let before = fixture.state_text();
    let output = command.output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(output.stdout.is_empty(), "stdout must stay empty on error");
    let error_lines: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error: "))
        .collect();
    assert_eq!(error_lines.len(), 1, "one error line: {stderr}");
    assert!(
        error_lines[0].contains(message),
        "\n got: {stderr}\nwant: {message}"
    );
    assert_eq!(
        fixture.state_text(),
        before,
        "the state file must not change"
    );
}
