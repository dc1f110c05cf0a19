//! Every ready-made file in `scenarios/` loads, and runs against a local
//! server with the requests it promises.

mod common;

use std::path::PathBuf;

use common::{TestServer, cpa_input, gpa_metric, run};
use goose_pod_autoscaler::scenario::ScenarioFile;

const TOKEN: &str = "tok-7d1e";

fn scenario_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_file_in_scenarios_loads() {
    let files = scenario_files();
    assert!(files.len() >= 3, "{files:?}");
    for file in files {
        let loaded = ScenarioFile::load(&file, |name| {
            (name == "API_TOKEN").then(|| TOKEN.to_string())
        })
        .unwrap_or_else(|err| panic!("{err}"));
        assert!(!loaded.goose_scenarios().unwrap().is_empty());
    }
}

fn run_file(name: &str, server: &TestServer) -> common::Run {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    let mut cmd = gpa_metric();
    cmd.env("gooseHost", &server.url)
        .env("gooseUsers", "4")
        .env("gooseRunTime", "1")
        .env("scenarioFilePath", file)
        .env("API_TOKEN", TOKEN);
    run(cmd, &cpa_input(2))
}

#[test]
fn the_single_get_file_requests_its_path() {
    let server = TestServer::start();
    let report = run_file("single-get.yaml", &server).report();
    assert!(report.request("GET", "/fibonacci?n=10").unwrap().count > 0);
    assert_eq!(report.requests.len(), 1);
}

#[test]
fn the_weighted_mix_reports_every_request_name() {
    let server = TestServer::start();
    let report = run_file("weighted-mix.yaml", &server).report();
    for (method, name) in [
        ("GET", "/fibonacci?n=10"),
        ("GET", "health"),
        ("GET", "/fibonacci?n=25"),
    ] {
        let stats = report
            .request(method, name)
            .unwrap_or_else(|| panic!("{name} in {report:?}"));
        assert_eq!(stats.failures, 0);
    }
}

#[test]
fn the_json_post_sends_the_token_from_the_environment_and_never_logs_it() {
    let server = TestServer::start();
    let out = run_file("json-post.yaml", &server);
    let report = out.report();
    let stats = report.request("POST", "create-order").unwrap();
    assert!(stats.count > 0 && stats.failures == 0, "{stats:?}");
    let seen = server.record.seen();
    let first = &seen[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.authorization.as_deref(), Some("Bearer tok-7d1e"));
    assert_eq!(first.content_type.as_deref(), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"item": "fibonacci", "quantity": 2})
    );
    assert!(!out.stderr.contains(TOKEN));
}

/// The `gooseUsers` and `gooseRunTime` values in `example/cpa.yaml`.
fn example_cpa_setting(name: &str) -> f64 {
    let cpa = std::fs::read_to_string(root().join("example/cpa.yaml")).unwrap();
    let mut lines = cpa.lines();
    lines
        .find(|line| line.trim() == format!("- name: {name}"))
        .and_then(|_| lines.next())
        .and_then(|line| line.trim().strip_prefix("value: "))
        .and_then(|value| value.trim_matches('"').parse().ok())
        .unwrap_or_else(|| panic!("example/cpa.yaml sets {name}"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_example_probe_waits_and_adds_little_load_for_its_users_and_run_time() {
    let file = ScenarioFile::load(&root().join("example/scenario.yaml"), |_| None).unwrap();
    let users = example_cpa_setting("gooseUsers");
    let run_time = example_cpa_setting("gooseRunTime");
    let scenarios = file.goose_scenarios().unwrap();
    let load = goose_pod_autoscaler::metric::probe_load(&scenarios, users as usize);
    let goose_pod_autoscaler::metric::ProbeLoad::AtMost(per_second) = load else {
        panic!("every example scenario waits between requests: {load:?}");
    };
    let per_run = per_second * run_time;
    assert!(
        per_second <= 10.0 && per_run >= 30.0,
        "{users} users for {run_time} s: at most {per_second:.1} requests/s, \
         {per_run:.0} a run: light, yet enough for the percentiles"
    );
}

#[test]
fn the_migration_guides_converted_locustfile_keeps_its_wait_time() {
    let guide = std::fs::read_to_string(root().join("docs/migrating.md")).unwrap();
    let after = guide
        .split_once("becomes `scenario.yaml`:\n\n```yaml\n")
        .expect("the converted scenario file")
        .1;
    let yaml = after.split_once("```").unwrap().0;
    let file = ScenarioFile::parse(std::path::Path::new("migrating.md"), yaml, |_| None)
        .unwrap_or_else(|err| panic!("{err}"));
    let wait = file.scenarios[0].wait_time.expect("a wait time");
    assert!(
        guide.contains("wait_time = between(5, 9)")
            && wait
                == (
                    std::time::Duration::from_secs(5),
                    std::time::Duration::from_secs(9)
                ),
        "the locustfile's wait_time, converted: {wait:?}"
    );
}
