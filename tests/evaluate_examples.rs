//! The evaluate stage's files in `example/`: the LPA-style evaluation config
//! loads, every bundled evaluate input decodes, and the README's quick start
//! (the example config with the example CPA input) scales up as documented,
//! and the starting and saturated examples decide as documented.

mod evaluate_support;

use std::path::{Path, PathBuf};

use evaluate_support::bare_command;
use goose_pod_autoscaler::cpa::parse_evaluate_input_for;
use goose_pod_autoscaler::evaluate::config::EvaluationConfig;
use goose_pod_autoscaler::report::Keep;

fn example(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("example")
        .join(path)
}

/// Every `example/inputs/evaluate-*.json`.
fn evaluate_inputs() -> Vec<PathBuf> {
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(example("inputs"))
        .expect("example/inputs exists")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("evaluate-") && name.ends_with(".json"))
        })
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn the_example_evaluation_config_is_valid() {
    let config = EvaluationConfig::load(&example("evaluation_config.yaml")).unwrap();
    assert_eq!(config.targets[0].request_key(), "GET /fibonacci?n=10");
    bare_command()
        .arg("--check")
        .arg("--config")
        .arg(example("evaluation_config.yaml"))
        .assert()
        .success();
}

#[test]
fn every_example_evaluate_input_decodes_and_meets_the_example_config() {
    let config = EvaluationConfig::load(&example("evaluation_config.yaml")).unwrap();
    let inputs = evaluate_inputs();
    assert!(!inputs.is_empty());
    for path in inputs {
        let bytes = std::fs::read(&path).unwrap();
        let request = parse_evaluate_input_for(&bytes, Keep::All)
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        assert!(request.current_replicas().is_some(), "{}", path.display());
        for target in &config.targets {
            assert!(
                request
                    .report
                    .request(&target.method, target.request_name())
                    .is_some(),
                "{}: no result for {}",
                path.display(),
                target.request_key()
            );
        }
    }
}

#[test]
fn the_quick_start_scales_the_example_up_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("decay_info.json");
    bare_command()
        .arg("--config")
        .arg(example("evaluation_config.yaml"))
        .arg("--state")
        .arg(&state)
        .pipe_stdin(example("inputs/evaluate-v2.json"))
        .unwrap()
        .assert()
        .success()
        .stdout("{\"targetReplicas\":4}\n")
        .stderr(predicates::str::contains(
            "scale up 3 -> 4: GET /fibonacci?n=10 mean 12.314 ms > target 7 ms",
        ));
    assert!(state.exists());
}

/// The example inputs of the readiness and saturation rules decide as
/// docs/evaluate.md shows.
#[test]
fn the_starting_and_saturated_examples_decide_as_documented() {
    // evaluate-starting.json at 05:00:00 with the state our scale-up 1 -> 4
    // at 04:59:45 left: the 3 unready replicas are ours and young
    let after_scale_up = std::fs::read(example("inputs/decay-info-after-scale-up.json")).unwrap();
    for (input, state, stdout, line) in [
        (
            "inputs/evaluate-starting.json",
            Some(&after_scale_up),
            "{\"targetReplicas\":4}\n",
            "hold 4: 3 of 4 replicas still starting; GET /fibonacci?n=10 mean 12.314 ms > target 7 ms (rule: hold-while-starting)",
        ),
        (
            "inputs/evaluate-starting.json",
            None,
            "{\"targetReplicas\":5}\n",
            "scale up 4 -> 5: GET /fibonacci?n=10 mean 12.314 ms > target 7 ms; 3 of 4 replicas unready and not added by us within startupAllowanceSeconds 120: not counted (rule: scale-up)",
        ),
        (
            "inputs/evaluate-saturated.json",
            None,
            "{\"targetReplicas\":4}\n",
            "scale up 3 -> 4: GET /fibonacci?n=10 mean 5000.2 ms > target 7 ms (saturated: 60 of 60 requests timed out, timeout 5000 ms)",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let state_path = dir.path().join("decay_info.json");
        if let Some(state) = state {
            std::fs::write(&state_path, state).unwrap();
        }
        bare_command()
            .arg("--config")
            .arg(example("evaluation_config.yaml"))
            .arg("--state")
            .arg(&state_path)
            .arg("--now")
            .arg("2026-11-22T05:00:00Z")
            .pipe_stdin(example(input))
            .unwrap()
            .assert()
            .success()
            .stdout(stdout)
            .stderr(predicates::str::contains(line));
    }
}
