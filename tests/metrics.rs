//! `gpa alerts`' `/metrics` end to end: `gpa-evaluate` runs with a
//! `statusFile` on a shared folder, the `gpa alerts` executable exports it
//! with its own boosts and evaluation requests, and `promtool check metrics`
//! (Debian's `prometheus` package) accepts the exposition. Without promtool
//! the check fails when `CI` is set, and otherwise is skipped with how to
//! install it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const TOKEN: &str = "a-token-for-the-metrics-test";
const INSTALL: &str = "apt-get update && apt-get install -y --no-install-recommends prometheus";

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The example evaluation config with its boosts and status files in `dir`.
fn evaluation_config(dir: &Path) -> PathBuf {
    let config = dir.join("evaluation_config.yaml");
    let example = std::fs::read_to_string("example/evaluation_config.yaml").unwrap();
    let example = example
        .replace(
            "boostsFile: /var/run/gpa/boosts.json",
            &format!("boostsFile: {}", dir.join("boosts.json").display()),
        )
        .replace(
            "statusFile: /var/run/gpa/status.json",
            &format!("statusFile: {}", dir.join("status.json").display()),
        );
    assert!(example.contains(&format!(
        "statusFile: {}",
        dir.join("status.json").display()
    )));
    std::fs::write(&config, example).unwrap();
    config
}

/// `gpa-evaluate` on `input`: its exit code.
fn evaluate(config: &Path, state: &Path, input: &str) -> Option<i32> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpa-evaluate"))
        .arg("--config")
        .arg(config)
        .arg("--state")
        .arg(state)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait().unwrap().code()
}

/// `gpa alerts` on 127.0.0.1 reading the files in `dir`; its address.
fn start_sidecar(dir: &Path) -> (Killed, String) {
    let config = dir.join("alerts.yaml");
    std::fs::write(
        &config,
        format!(
            "boostsFile: {}\nstatusFile: {}\nevaluationUrl: http://127.0.0.1:9/x\nlistenAddress: 127.0.0.1:0\nrules:\n\
             \x20 - name: latency-page\n    matchers: {{alertname: HighLatency}}\n    minReplicas: 6\n    holdMinutes: 30\n\
             \x20 - name: error-burst\n    matchers: {{alertname: HighErrors}}\n    addReplicas: 2\n    holdMinutes: 30\n",
            dir.join("boosts.json").display(),
            dir.join("status.json").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpa"))
        .args(["alerts", "--config"])
        .arg(&config)
        .env("alertsToken", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // stderr is closed after the first line on purpose: a log line that
    // cannot be written must not fail a request (tracing-subscriber's own
    // report of it used to panic the handler)
    let mut first = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let address = first
        .split("listening on ")
        .nth(1)
        .and_then(|rest| rest.split(": ").next())
        .unwrap_or_else(|| panic!("a 'listening on' line: {first}"))
        .to_owned();
    (Killed(child), address)
}

/// The sample of `name` whose line holds every one of `labels`: its value.
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .find(|line| {
            (line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} ")))
                && labels.iter().all(|label| line.contains(label))
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} with {labels:?} in:\n{text}"))
}

/// `promtool check metrics` on `text`: None when promtool is not installed
/// (outside CI), else its exit code and output.
fn promtool(text: &str) -> Option<(Option<i32>, String)> {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("promtool is not installed, and CI is set; install it with: {INSTALL}")
        }
        Err(_) => {
            eprintln!("skipped promtool: not installed; install it with `{INSTALL}`");
            return None;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.code(), said))
}

#[tokio::test]
async fn metrics_export_the_last_decision_targets_failures_boosts_and_requests_and_promtool_accepts_them()
 {
    let dir = tempfile::tempdir().unwrap();
    let config = evaluation_config(dir.path());
    let state = dir.path().join("state.json");
    let example = std::fs::read_to_string("example/inputs/evaluate-v2.json").unwrap();
    // a failed run (the target's request is missing), a run that answers
    // 4, and a dry run, which leaves nothing
    let missing = example.replace("GET /fibonacci?n=10", "GET /elsewhere");
    assert_eq!(evaluate(&config, &state, &missing), Some(1));
    assert_eq!(evaluate(&config, &state, &example), Some(0));
    let dry = example.replace("\"runType\": \"scaler\"", "\"runType\": \"api_dry_run\"");
    assert_eq!(evaluate(&config, &state, &dry), Some(0));

    let (_sidecar, address) = start_sidecar(dir.path());
    let client = reqwest::Client::new();
    let notification = r#"{"version":"4","groupKey":"{}","status":"firing","receiver":"gpa",
        "alerts":[{"status":"firing","labels":{"alertname":"HighLatency"},
        "startsAt":"2026-11-22T19:55:00Z","fingerprint":"1a30ba71cca2921f"}]}"#;
    let answer = client
        .post(format!("http://{address}/alerts"))
        .bearer_auth(TOKEN)
        .body(notification)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);

    let response = client
        .get(format!("http://{address}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let resource = r#"namespace="default",resource="Deployment/fibonacci""#;
    assert_eq!(sample(&text, "gpa_current_replicas", &[resource]), 3.0);
    assert_eq!(sample(&text, "gpa_target_replicas", &[resource]), 4.0);
    assert_eq!(
        sample(
            &text,
            "gpa_decision",
            &[resource, r#"direction="up""#, r#"rule="scale-up""#]
        ),
        1.0
    );
    assert_eq!(sample(&text, "gpa_runs_since_change", &[resource]), 0.0);
    let target = [
        resource,
        r#"request="GET /fibonacci?n=10""#,
        r#"kind="mean""#,
    ];
    assert_eq!(
        sample(&text, "gpa_target_latency_seconds", &target),
        0.012314
    );
    assert_eq!(
        sample(&text, "gpa_target_latency_limit_seconds", &target),
        0.007
    );
    assert_eq!(
        sample(&text, "gpa_recent_runs", &[resource]),
        2.0,
        "the dry run left nothing"
    );
    let missing_result = [resource, r#"kind="missing-result""#];
    assert_eq!(
        sample(&text, "gpa_recent_failed_runs", &missing_result),
        1.0
    );
    assert_eq!(
        sample(&text, "gpa_evaluation_failures_total", &missing_result),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "gpa_evaluation_failures_total",
            &[r#"kind="all-failed""#]
        ),
        0.0
    );
    let heartbeat = sample(&text, "gpa_last_evaluation_timestamp_seconds", &[resource]);
    let now = jiff::Timestamp::now().as_second() as f64;
    assert!((now - heartbeat).abs() < 600.0, "{heartbeat} vs {now}");
    assert_eq!(
        sample(&text, "gpa_boosts_active", &[r#"rule="latency-page""#]),
        1.0
    );
    assert_eq!(
        sample(&text, "gpa_boosts_active", &[r#"rule="error-burst""#]),
        0.0
    );
    assert_eq!(sample(&text, "gpa_evaluation_requests_total", &[]), 1.0);
    assert_eq!(
        sample(&text, "gpa_evaluation_requests_merged_total", &[]),
        0.0
    );
    assert_eq!(sample(&text, "gpa_status_readable", &[]), 1.0);
    // the one evaluation the notification asked for went to a port where
    // nothing listens: it is counted as failed once its POST has ended
    let posted = |text: &str, result: &str| {
        sample(
            text,
            "gpa_triggered_evaluations_total",
            &[&format!(r#"result="{result}""#)],
        )
    };
    let mut later = text.clone();
    for _ in 0..100 {
        if posted(&later, "failed") > 0.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        later = client
            .get(format!("http://{address}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    }
    assert_eq!(posted(&later, "failed"), 1.0, "{later}");
    assert_eq!(posted(&later, "ok"), 0.0);

    if let Some((code, said)) = promtool(&text) {
        assert_eq!(code, Some(0), "promtool check metrics:\n{said}\n{text}");
    }

    // Prometheus asks for OpenMetrics, and gets it
    let response = client
        .get(format!("http://{address}/metrics"))
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let open = response.text().await.unwrap();
    assert!(open.ends_with("# EOF\n"), "{open}");
    assert!(
        open.contains("# TYPE gpa_evaluation_failures counter\n"),
        "{open}"
    );

    // the docs list every metric
    let docs = std::fs::read_to_string("docs/alerts.md").unwrap();
    for line in text.lines().filter(|line| line.starts_with("# TYPE ")) {
        let name = line.split(' ').nth(2).unwrap();
        assert!(
            docs.contains(&format!("`{name}`")),
            "docs/alerts.md lists {name}"
        );
    }
}
