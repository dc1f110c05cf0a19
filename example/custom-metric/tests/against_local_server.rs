//! The custom metric executable against the example service
//! (`fibonacci_service::router`, the one the docs run it against) on
//! 127.0.0.1 for about a second: its compiled scenario runs alone when no
//! scenario file is there, and beside the scenario file's when one is
//! configured; every request it sends is one the service answers as the
//! scenario expects.

use std::net::TcpListener;
use std::time::Duration;

/// Serves the example service on a free port of 127.0.0.1; its base URL.
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
            axum::serve(listener, fibonacci_service::router())
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
    // 2 users waiting 100 to 300 ms between transactions for a second.
    assert!(ok_count(&report, "GET fibonacci") >= 3, "{report}");
    assert!(ok_count(&report, "GET too large") >= 3, "{report}");
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
    assert!(ok_count(&report, "GET /fibonacci?n=10") >= 3, "{report}");
    assert!(ok_count(&report, "GET fibonacci") >= 3, "{report}");
}
