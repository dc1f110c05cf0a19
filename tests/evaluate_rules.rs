//! Readiness, saturation, fallback and the state file through the real
//! gpa-evaluate process: replicas still starting hold a miss, a report whose
//! requests time out scales up, a fallback answers after failed runs, and
//! the state file keeps its keys across runs.

mod evaluate_support;

use evaluate_support::{Fixture, lpa_config, report, v2_input, v2_input_with_status};
use serde_json::json;

/// A report whose every request of the target timed out after 5000 ms.
fn timed_out_report(current: u32) -> serde_json::Value {
    let mut report = report(Some(current), 5000.0, 40, 40);
    report["requestTimeoutMs"] = json!(5000);
    let stats = &mut report["requests"]["GET /fibonacci?n=10"];
    stats["timeouts"] = json!(40);
    report
}

/// Runs gpa-evaluate on `input`; (exit code, stdout, stderr).
fn evaluate(fixture: &Fixture, input: String) -> (Option<i32>, String, String) {
    let output = fixture
        .command()
        .write_stdin(input)
        .output()
        .expect("gpa-evaluate runs");
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// A state whose last answer, `seconds_ago`, scaled `from` up to `to`.
fn after_our_scale_up(fixture: &Fixture, from: u32, to: u32, seconds_ago: u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let at = now - seconds_ago;
    let state = json!({"lastSeenReplicas": from, "lastTargetReplicas": to,
        "lastScaleUpUnixSeconds": at, "addedReplicas": {"replicas": to - from, "atUnixSeconds": at}});
    std::fs::write(&fixture.state, state.to_string()).unwrap();
}

#[test]
fn a_miss_while_our_replicas_are_still_starting_holds_and_says_so() {
    let fixture = Fixture::new(&lpa_config(3));
    after_our_scale_up(&fixture, 1, 4, 15);
    let status = json!({"replicas": 4, "readyReplicas": 1, "updatedReplicas": 4});
    let input = v2_input_with_status(&report(Some(4), 9.0, 100, 0), 4, status, "scaler");
    let (code, stdout, stderr) = evaluate(&fixture, input);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "{\"targetReplicas\":4}\n");
    assert!(
        stderr.contains(
            "hold 4: 3 of 4 replicas still starting; GET /fibonacci?n=10 mean 9 ms > target 7 ms (rule: hold-while-starting)"
        ),
        "{stderr}"
    );
    // the same miss with every replica ready scales up
    let (_, stdout, _) = evaluate(
        &fixture,
        v2_input(&report(Some(4), 9.0, 100, 0), 4, "scaler"),
    );
    assert_eq!(stdout, "{\"targetReplicas\":5}\n");
}

#[test]
fn unready_replicas_we_did_not_add_recently_hold_nothing() {
    for (what, seconds_ago) in [
        ("never ours", None),
        ("ours, past the allowance", Some(121)),
    ] {
        let fixture = Fixture::new(&lpa_config(3));
        if let Some(seconds_ago) = seconds_ago {
            after_our_scale_up(&fixture, 1, 4, seconds_ago);
        }
        let status = json!({"replicas": 4, "readyReplicas": 3});
        let input = v2_input_with_status(&report(Some(4), 9.0, 100, 0), 4, status, "scaler");
        let (code, stdout, stderr) = evaluate(&fixture, input);
        assert_eq!(code, Some(0), "{what}: {stderr}");
        assert_eq!(stdout, "{\"targetReplicas\":5}\n", "{what}: {stderr}");
        assert!(
            stderr.contains("1 of 4 replicas unready and not added by us within startupAllowanceSeconds 120: not counted (rule: scale-up)"),
            "{what}: {stderr}"
        );
    }
}

#[test]
fn a_status_without_ready_replicas_while_the_probe_is_answered_lags() {
    let fixture = Fixture::new(&lpa_config(0));
    let input = v2_input_with_status(
        &report(Some(2), 5.0, 100, 0),
        2,
        json!({"replicas": 2}),
        "scaler",
    );
    let (code, stdout, stderr) = evaluate(&fixture, input);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout, "{\"targetReplicas\":1}\n",
        "decided as without a status: the quiet run decays"
    );
    assert!(
        stderr.contains("0 of 2 replicas ready while the probe was answered: readiness unknown (the status lags) (rule: decay)"),
        "{stderr}"
    );
}

#[test]
fn every_request_failing_as_replicas_drop_out_of_readiness_scales_up_once() {
    let fixture = Fixture::new(&lpa_config(3));
    let answered = v2_input_with_status(
        &report(Some(4), 5.0, 100, 0),
        4,
        json!({"replicas": 4, "readyReplicas": 4}),
        "scaler",
    );
    let (code, _, stderr) = evaluate(&fixture, answered);
    assert_eq!(code, Some(0), "{stderr}");
    let mut refused = report(Some(4), 1.0, 40, 40);
    refused["requests"]["GET /fibonacci?n=10"]["connectionErrors"] = json!(40);
    let dropped = v2_input_with_status(
        &refused,
        4,
        json!({"replicas": 4, "readyReplicas": 1}),
        "scaler",
    );
    let (code, stdout, stderr) = evaluate(&fixture, dropped.clone());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "{\"targetReplicas\":5}\n");
    assert!(
        stderr.contains("1 of 4 replicas ready, 4 in the last answered run: the service lost its endpoints to readiness, one step up (rule: lost-endpoints)"),
        "{stderr}"
    );
    // still failing: a broken service is not scaled again
    let (code, stdout, stderr) = evaluate(&fixture, dropped);
    assert_eq!((code, stdout.as_str()), (Some(1), ""), "{stderr}");
    assert!(stderr.contains("every request of targets[0]"), "{stderr}");
}

#[test]
fn a_report_whose_requests_all_time_out_scales_up() {
    let fixture = Fixture::new(&lpa_config(3));
    let (code, stdout, stderr) = evaluate(&fixture, v2_input(&timed_out_report(4), 4, "scaler"));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "{\"targetReplicas\":5}\n");
    assert!(
        stderr.contains("scale up 4 -> 5: GET /fibonacci?n=10 mean 5000 ms > target 7 ms (saturated: 40 of 40 requests timed out, timeout 5000 ms)"),
        "{stderr}"
    );
}

#[test]
fn a_report_whose_requests_all_fail_to_connect_is_still_an_error() {
    let fixture = Fixture::new(&lpa_config(3));
    let mut report = report(Some(4), 1.0, 40, 40);
    report["requests"]["GET /fibonacci?n=10"]["connectionErrors"] = json!(40);
    let (code, stdout, stderr) = evaluate(&fixture, v2_input(&report, 4, "scaler"));
    assert_eq!(code, Some(1));
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("failed (40 of 40: 0 timeouts, 40 connection errors, 0 status errors)"),
        "{stderr}"
    );
    assert_eq!(
        fixture.state_text(),
        None,
        "nothing written without a fallback"
    );
}

#[test]
fn a_fallback_is_answered_after_the_configured_failed_runs_and_a_success_resets_it() {
    let config = format!(
        "{}fallback: {{failedRuns: 2, replicas: 6}}\n",
        lpa_config(3)
    );
    let fixture = Fixture::new(&config);
    let broken = v2_input(&json!({"currentReplicas": 3, "requests": {}}), 3, "scaler");
    let (code, stdout, stderr) = evaluate(&fixture, broken.clone());
    assert_eq!((code, stdout.as_str()), (Some(1), ""), "{stderr}");
    assert!(stderr.contains("no result for targets[0]"), "{stderr}");
    assert_eq!(fixture.state_json()["consecutiveFailedRuns"], 1);

    let (code, stdout, stderr) = evaluate(&fixture, broken);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "{\"targetReplicas\":6}\n");
    assert!(
        stderr.contains("scale up 3 -> 6: fallback.replicas 6 after 2 failed evaluations in a row (fallback.failedRuns 2); the last: no result for targets[0]"),
        "{stderr}"
    );
    assert_eq!(fixture.state_json()["consecutiveFailedRuns"], 2);

    let (code, _, stderr) = evaluate(
        &fixture,
        v2_input(&report(Some(6), 5.0, 100, 0), 6, "scaler"),
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(fixture.state_json().get("consecutiveFailedRuns"), None);
}

#[test]
fn the_state_file_keeps_the_decay_floor_and_back_off_keys_across_runs() {
    let fixture = Fixture::new(&lpa_config(3));
    std::fs::write(
        &fixture.state,
        "{\"runsSinceChange\":3,\"lastSeenReplicas\":4,\"lastTargetReplicas\":4,\"decayFloorReplicas\":4,\"decayFloorRunsLeft\":5,\"decayBackoffRuns\":8}\n",
    )
    .unwrap();
    let quiet = v2_input(&report(Some(4), 5.0, 100, 0), 4, "scaler");
    let (code, stdout, stderr) = evaluate(&fixture, quiet);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "{\"targetReplicas\":4}\n");
    assert!(
        stderr.contains("but no decay below 4 for 5 more run(s)"),
        "{stderr}"
    );
    assert_eq!(
        fixture.state_text().unwrap(),
        "{\"runsSinceChange\":4,\"lastSeenReplicas\":4,\"lastTargetReplicas\":4,\"decayFloorReplicas\":4,\"decayFloorRunsLeft\":4,\"decayBackoffRuns\":8,\"lastReadyReplicas\":4}\n"
    );
}
