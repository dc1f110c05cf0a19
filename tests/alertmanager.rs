//! `gpa alerts` behind a real Alertmanager (Debian's
//! `prometheus-alertmanager`, started here on 127.0.0.1): an alert posted to
//! Alertmanager's v2 API reaches the sidecar through a webhook receiver with
//! the bearer token in `http_config.authorization`, records its boost,
//! `gpa-evaluate` honours it, and the alert's resolution ends it. The
//! payloads written by hand in tests/alerts.rs are the unit-level cases;
//! this proves we understand the real sender.
//!
//! Without the binary the test fails when `CI` is set, and otherwise prints
//! how to install it and passes.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use goose_pod_autoscaler::boosts::BoostsFile;
use jiff::{SignedDuration, Timestamp};

const ALERTMANAGER: &str = "prometheus-alertmanager";
const INSTALL: &str =
    "apt-get update && apt-get install -y --no-install-recommends prometheus-alertmanager";
const TOKEN: &str = "a-token-that-alertmanager-sends";
/// Generous: Alertmanager starts in about a second, and each notification
/// waits at most a group_interval (1 s here).
const PATIENCE: Duration = Duration::from_secs(30);

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free port on 127.0.0.1 (closed again for the process that takes it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// True when the Alertmanager binary runs; else fails under CI, or says how
/// to install it.
fn alertmanager_installed() -> bool {
    match Command::new(ALERTMANAGER).arg("--version").output() {
        Ok(output) if output.status.success() => true,
        _ if std::env::var_os("CI").is_some() => {
            panic!("{ALERTMANAGER} is not installed, and CI is set; install it with: {INSTALL}")
        }
        _ => {
            eprintln!(
                "skipped: {ALERTMANAGER} is not installed; install it with `{INSTALL}` to run this test"
            );
            false
        }
    }
}

/// Waits until `done` holds, checking every 100 ms for at most [`PATIENCE`].
async fn wait_for(what: &str, log: &Mutex<String>, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what}: not within {PATIENCE:?}; gpa alerts logged:\n{}",
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `gpa alerts` on 127.0.0.1 with one rule (`HighLatency` → at least 6
/// replicas): the child, its address and its log as it grows.
fn start_sidecar(boosts: &Path, cpa: &str) -> (Killed, String, Arc<Mutex<String>>) {
    let config = boosts.with_file_name("alerts.yaml");
    std::fs::write(
        &config,
        format!(
            "boostsFile: {}\nevaluationUrl: {cpa}\nlistenAddress: 127.0.0.1:0\nrules:\n\
             \x20 - name: latency-page\n    matchers: {{alertname: HighLatency}}\n    minReplicas: 6\n    holdMinutes: 30\n",
            boosts.display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpa"))
        .args(["alerts", "--config"])
        .arg(&config)
        .env("alertsToken", TOKEN)
        .env_remove("GPA_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let address = first
        .split("listening on ")
        .nth(1)
        .and_then(|rest| rest.split(": ").next())
        .unwrap_or_else(|| panic!("a 'listening on' line: {first}"))
        .to_owned();
    let log = Arc::new(Mutex::new(first));
    let grows = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let mut log = grows.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    (Killed(child), address, log)
}

/// Alertmanager on 127.0.0.1:`port`, routing every alert to the sidecar at
/// `sidecar` with the bearer token, grouping waits of 1 s; waits until it is
/// ready.
async fn start_alertmanager(dir: &Path, port: u16, sidecar: &str) -> Killed {
    let config = dir.join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            r#"route:
  receiver: gpa-alerts
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: gpa-alerts
    webhook_configs:
      - url: http://{sidecar}/alerts
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {TOKEN}
"#
        ),
    )
    .unwrap();
    let storage = dir.join("alertmanager-data");
    std::fs::create_dir(&storage).unwrap();
    let child = Command::new(ALERTMANAGER)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", storage.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let alertmanager = Killed(child);
    let ready = format!("http://127.0.0.1:{port}/-/ready");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let answer = reqwest::get(&ready).await;
        if answer.is_ok_and(|answer| answer.status().is_success()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Alertmanager not ready within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    alertmanager
}

/// A fake CPA on 127.0.0.1 that answers every evaluation request; its URL.
async fn fake_cpa() -> String {
    let app = axum::Router::new().route(
        "/api/v1/evaluation",
        axum::routing::post(|| async { r#"{"targetReplicas":6}"# }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/api/v1/evaluation",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Posts `HighLatency` to Alertmanager's v2 API, ending at `ends_at`.
async fn post_alert(port: u16, starts_at: Timestamp, ends_at: Timestamp) {
    let alert = serde_json::json!([{
        "labels": {"alertname": "HighLatency", "severity": "page"},
        "annotations": {"summary": "p95 above target"},
        "startsAt": starts_at.to_string(),
        "endsAt": ends_at.to_string(),
    }]);
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/v2/alerts"))
        .header("content-type", "application/json")
        .body(alert.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        200,
        "Alertmanager took the alert"
    );
}

/// Alertmanager's fingerprint of its one alert.
async fn fingerprint(port: u16) -> String {
    let alerts: serde_json::Value = serde_json::from_str(
        &reqwest::get(format!("http://127.0.0.1:{port}/api/v2/alerts"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    alerts[0]["fingerprint"].as_str().unwrap().to_owned()
}

/// The example evaluation config reading `boosts`, written beside it.
fn evaluation_config_for(boosts: &Path) -> PathBuf {
    let config = boosts.with_file_name("evaluation_config.yaml");
    let example = std::fs::read_to_string("example/evaluation_config.yaml").unwrap();
    std::fs::write(
        &config,
        example.replace(
            "boostsFile: /var/run/gpa/boosts.json",
            &format!("boostsFile: {}", boosts.display()),
        ),
    )
    .unwrap();
    config
}

/// `gpa-evaluate` on the example input (a missed target at 3 replicas) with
/// `config` and a fresh state: its answer and its log.
fn evaluate(config: &Path) -> (String, String) {
    let state = tempfile::tempdir().unwrap();
    let input = std::fs::read("example/inputs/evaluate-v2.json").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpa-evaluate"))
        .arg("--config")
        .arg(config)
        .arg("--state")
        .arg(state.path().join("state.json"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_alertmanager_s_firing_alert_boosts_the_floor_and_its_resolution_ends_the_boost() {
    if !alertmanager_installed() {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let boosts = dir.path().join("boosts.json");
    let (_sidecar, address, log) = start_sidecar(&boosts, &fake_cpa().await);
    let port = free_port();
    let _alertmanager = start_alertmanager(dir.path(), port, &address).await;
    let config = evaluation_config_for(&boosts);
    let (answer, _) = evaluate(&config);
    assert_eq!(answer, "{\"targetReplicas\":4}\n", "a miss at 3: one more");

    let starts_at = Timestamp::now() - SignedDuration::from_secs(60);
    post_alert(port, starts_at, starts_at + SignedDuration::from_hours(1)).await;
    let active = || {
        BoostsFile::load(&boosts)
            .map(|file| file.active(Timestamp::now()).count())
            .unwrap_or(0)
    };
    wait_for("the boost recorded", &log, || active() == 1).await;
    let file = BoostsFile::load(&boosts).unwrap();
    let boost = &file.boosts[0];
    assert_eq!(
        boost.id,
        format!("{}/latency-page", fingerprint(port).await),
        "the boost is Alertmanager's alert"
    );
    assert_eq!(
        (boost.alert.as_str(), boost.min_replicas),
        ("HighLatency", Some(6))
    );
    // the line is logged just after the file is written
    let logged = |text: &'static str| {
        let log = Arc::clone(&log);
        move || log.lock().unwrap().contains(text)
    };
    wait_for(
        "the notification's line",
        &log,
        logged("notification from receiver 'gpa-alerts' (1 alert(s)): recorded boost"),
    )
    .await;
    let (answer, line) = evaluate(&config);
    assert_eq!(answer, "{\"targetReplicas\":6}\n", "{line}");
    assert!(
        line.contains("raised to 6 by alert boost 'latency-page' (HighLatency"),
        "{line}"
    );

    // resolved: posted again, ended in the past; Alertmanager sends it at
    // the group's next interval and the boost ends at once
    post_alert(
        port,
        starts_at,
        Timestamp::now() - SignedDuration::from_secs(1),
    )
    .await;
    wait_for("the boost ended", &log, || {
        BoostsFile::load(&boosts).is_ok_and(|file| file.boosts.is_empty())
    })
    .await;
    wait_for("the resolution's line", &log, logged("(alert resolved)")).await;
    let (answer, line) = evaluate(&config);
    assert_eq!(answer, "{\"targetReplicas\":4}\n", "{line}");
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "well under a minute: {:?}",
        started.elapsed()
    );
}
