//! The custom metric executable against a server on 127.0.0.1: its compiled
//! scenario runs alone when no scenario file is there, and beside the scenario
//! file's when one is configured.

use std::net::TcpListener;
use std::time::Duration;

use axum::Router;
use axum::http::{Method, StatusCode, Uri};

async fn shop(method: Method, uri: Uri) -> StatusCode {
    match (method, uri.path()) {
        (Method::POST, "/cart") => StatusCode::OK,
        (Method::POST, "/checkout") => StatusCode::CREATED,
        (Method::GET, _) => StatusCode::OK,
        _ => StatusCode::METHOD_NOT_ALLOWED,
    }
}

fn start_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, Router::new().fallback(shop))
                .await
                .unwrap();
        });
    });
    url
}

fn custom_metric(host: &str) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("custom-metric").unwrap();
    cmd.env_clear()
        .env("gooseHost", host)
        .env("gooseUsers", "2")
        .env("gooseRunTime", "1")
        .timeout(Duration::from_secs(30))
        .args(["--replicas", "2"]);
    cmd
}

fn report(cmd: &mut assert_cmd::Command) -> serde_json::Value {
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one JSON document: {stdout}");
    serde_json::from_str(&stdout).unwrap()
}

fn ok_count(report: &serde_json::Value, key: &str) -> u64 {
    let stats = &report["requests"][key];
    assert_eq!(stats["failures"], 0, "{key}: {stats}");
    stats["count"].as_u64().unwrap_or(0)
}

#[test]
fn the_compiled_scenario_runs_alone_without_a_scenario_file() {
    let host = start_server();
    let report = report(&mut custom_metric(&host));
    assert_eq!(report["currentReplicas"], 2);
    assert!(ok_count(&report, "POST cart") > 10);
    assert!(ok_count(&report, "POST checkout") > 10);
    assert_eq!(report["requests"].as_object().unwrap().len(), 2);
}

#[test]
fn the_compiled_scenario_runs_beside_a_configured_scenario_file() {
    let host = start_server();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.yaml");
    std::fs::write(
        &file,
        "scenarios:\n  - name: probe\n    transactions:\n      - method: GET\n        path: /fibonacci?n=10\n",
    )
    .unwrap();
    let report = report(custom_metric(&host).env("scenarioFilePath", &file));
    assert!(ok_count(&report, "GET /fibonacci?n=10") > 10);
    assert!(ok_count(&report, "POST checkout") > 10);
}
