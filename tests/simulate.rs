//! End-to-end tests of `gpa simulate`: the real `gpa` binary running the real
//! `gpa-metric` and `gpa-evaluate` (found beside it, as in a release) against
//! the in-process example service on 127.0.0.1, with short profiles.
//!
//! Each test runs well under a minute; they hold each other up only a little,
//! since the simulated service sleeps instead of computing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use goose_pod_autoscaler::cpa;
use goose_pod_autoscaler::simulate::timeline::{IntervalOutcome, Summary, Timeline};

/// Settings that make a simulation quick: short intervals and load tests,
/// replicas that start fast.
const QUICK: &[&str] = &[
    "--interval-ms",
    "2000",
    "--startup-delay-ms",
    "500",
    "--set",
    "gooseRunTime=1",
    "--set",
    "gooseUsers=8",
];

/// A config that scales up fast and decays after one quiet run.
const EVALUATION_CONFIG: &str = "\
targets:
  - method: GET
    endpoint: /fibonacci?n=10
    type: mean
    target: 100
decay:
  replicas: 1
  unchangedRuns: 1
scaleUp:
  policy: proportional
  maxStep: 2
";

fn executable_beside_gpa(name: &str) -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_gpa"))
        .with_file_name(name)
        .to_path_buf()
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = write(dir, name, &format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Runs `gpa` with `args`, which must fail the way every input error does:
/// exit code 1 and nothing on stdout. Returns stderr.
fn gpa_fails<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let output = Command::new(env!("CARGO_BIN_EXE_gpa"))
        .args(args)
        .timeout(std::time::Duration::from_secs(10))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `gpa simulate` on the load profile `profile` with [`EVALUATION_CONFIG`]
/// and `args`, into `dir/out`; returns the process output.
fn simulate(dir: &Path, profile: &str, args: &[&str]) -> Output {
    simulate_with(dir, profile, EVALUATION_CONFIG, args)
}

/// [`simulate`] with the evaluation config `config`.
fn simulate_with(dir: &Path, profile: &str, config: &str, args: &[&str]) -> Output {
    let profile = write(dir, "profile.yaml", profile);
    let config = write(dir, "evaluation.yaml", config);
    Command::new(env!("CARGO_BIN_EXE_gpa"))
        .arg("simulate")
        .args(QUICK)
        .arg("--output-dir")
        .arg(dir.join("out"))
        .arg("--profile")
        .arg(profile)
        .arg("--evaluation-config")
        .arg(config)
        .args(args)
        .env("GPA_LOG", "info")
        .timeout(std::time::Duration::from_secs(100))
        .output()
        .unwrap()
}

/// The summary on stdout, after checking the run succeeded and the timeline
/// on disk carries the same summary.
fn finished(dir: &Path, output: &Output) -> (Summary, Timeline) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "gpa simulate failed:\n{stderr}");
    let summary: Summary = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("stdout is not the summary: {err}\nstderr:\n{stderr}"));
    let json = std::fs::read(dir.join("out/timeline.json")).unwrap();
    let timeline: Timeline = serde_json::from_slice(&json).unwrap();
    assert_eq!(timeline.summary, summary);
    for file in [
        &summary.files.chart,
        &summary.files.seconds_csv,
        &summary.files.intervals_csv,
    ] {
        assert!(file.is_file(), "{} was not written", file.display());
    }
    (summary, timeline)
}

#[test]
fn replicas_rise_during_the_load_step_and_decay_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let profile = "steps:\n  - durationSeconds: 4\n    requestsPerSecond: 20\n  \
         - durationSeconds: 14\n    requestsPerSecond: 250\n  \
         - durationSeconds: 18\n    requestsPerSecond: 20\n";
    // The real gpa-metric, its stdout also kept, one file per run, so the test
    // can read every report the evaluate stage was handed.
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let metric = write_script(
        dir.path(),
        "metric",
        &format!(
            "out=$('{}') || exit $?\nprintf '%s\\n' \"$out\" > '{}'/$(date +%s%N).json\nprintf '%s\\n' \"$out\"",
            executable_beside_gpa("gpa-metric").display(),
            reports.display()
        ),
    );
    let output = simulate(
        dir.path(),
        profile,
        &[
            "--metric-command",
            metric.to_str().unwrap(),
            "--max-replicas",
            "6",
        ],
    );
    let (summary, timeline) = finished(dir.path(), &output);

    let during_step: Vec<_> = timeline
        .intervals
        .iter()
        .filter(|i| (4.0..18.0).contains(&i.at_seconds))
        .collect();
    let peak_in_step = during_step.iter().map(|i| i.replicas).max().unwrap_or(0);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        peak_in_step >= 3,
        "replicas rose only to {peak_in_step} during the load step\n{stderr}"
    );
    assert!(
        summary.scale_ups >= 1 && summary.peak_replicas >= 3,
        "{summary:?}"
    );
    let last = timeline.intervals.last().unwrap();
    assert!(
        last.replicas < summary.peak_replicas,
        "replicas did not decay after the step: {} at the end, peak {}\n{stderr}",
        last.replicas,
        summary.peak_replicas
    );
    assert!(timeline.intervals.iter().any(|i| i.at_seconds >= 18.0
        && i.outcome == IntervalOutcome::Scaled
        && i.decided_replicas < Some(i.replicas)));
    // The metric stage's reports were all readable by the evaluate stage.
    let mut read = 0;
    for entry in std::fs::read_dir(&reports).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read(&path).unwrap();
        let report = cpa::parse_report("metric stdout", &text)
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        assert!(report.current_replicas.is_some());
        read += 1;
    }
    let measured = timeline
        .intervals
        .iter()
        .filter(|i| i.metric_seconds.is_some())
        .count();
    assert_eq!(read, measured, "one report per metric run");
    assert!(read >= timeline.intervals.len() - 1, "{read} reports");
    // The seconds cover the whole profile, and the busy ones were measured.
    assert_eq!(timeline.seconds.len(), 36);
    assert!(summary.requests.succeeded > 2000, "{:?}", summary.requests);
    assert!(summary.seconds_over_target.is_some_and(|s| s >= 1));
    assert!(summary.replica_seconds > 36.0);
}

#[test]
fn an_interval_whose_metric_stage_fails_or_times_out_changes_nothing_and_the_next_proceeds() {
    let dir = tempfile::tempdir().unwrap();
    let profile = "steps:\n  - durationSeconds: 20\n    requestsPerSecond: 40\n";
    // First run: exit 1. Second: hang past the timeout. Then the real one,
    // which must fit in the same timeout on a busy machine: hence 6 s.
    let count = dir.path().join("count");
    let metric = write_script(
        dir.path(),
        "metric",
        &format!(
            "n=$(cat '{count}' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '{count}'\n\
             case $n in\n  1) echo 'error: the load test broke' >&2; exit 1;;\n  \
             2) echo 'hanging' >&2; exec sleep 30;;\nesac\nexec '{}'",
            executable_beside_gpa("gpa-metric").display(),
            count = count.display()
        ),
    );
    let output = simulate(
        dir.path(),
        profile,
        &[
            "--metric-command",
            metric.to_str().unwrap(),
            "--metric-timeout-ms",
            "6000",
        ],
    );
    let (summary, timeline) = finished(dir.path(), &output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let intervals = &timeline.intervals;
    assert!(intervals.len() >= 3, "{intervals:?}");

    assert_eq!(intervals[0].outcome, IntervalOutcome::Skipped);
    assert!(
        intervals[0]
            .reason
            .contains("failed (exit status: 1): error: the load test broke"),
        "{}",
        intervals[0].reason
    );
    assert_eq!(intervals[1].replicas, 1, "a failed interval scaled");
    assert_eq!(intervals[1].outcome, IntervalOutcome::Skipped);
    assert!(
        intervals[1]
            .reason
            .contains("timed out after 6000 ms and was killed: hanging"),
        "{}",
        intervals[1].reason
    );
    assert_eq!(intervals[2].replicas, 1, "a timed-out interval scaled");
    // The loop went on: the next interval ran both stages (what they decide
    // on a busy machine is not this test's business).
    assert_ne!(intervals[2].outcome, IntervalOutcome::Skipped, "{stderr}");
    assert!(intervals[2].evaluated_replicas.is_some(), "{stderr}");
    assert!(intervals[2].measured_mean_ms.is_some(), "{stderr}");
    assert_eq!(summary.skipped_intervals, 2);
    // The CPA logs a failed stage's stderr.
    assert!(
        stderr.contains("metric stderr: error: the load test broke"),
        "{stderr}"
    );
}

#[test]
fn a_dry_run_decides_but_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let profile = "steps:\n  - durationSeconds: 7\n    requestsPerSecond: 250\n";
    let output = simulate(
        dir.path(),
        profile,
        &["--run-type", "api_dry_run", "--initial-replicas", "2"],
    );
    let (summary, timeline) = finished(dir.path(), &output);
    assert!(!timeline.intervals.is_empty());
    for interval in &timeline.intervals {
        assert_eq!(interval.outcome, IntervalOutcome::DryRun, "{interval:?}");
        assert_eq!(interval.replicas, 2);
    }
    // The evaluate stage did want more replicas: the dry run only held it back.
    assert!(
        timeline
            .intervals
            .iter()
            .any(|i| i.evaluated_replicas > Some(2)),
        "{:?}",
        timeline.intervals
    );
    assert_eq!(summary.scale_events, 0);
    assert_eq!(summary.final_replicas, 2);
    assert!(timeline.seconds.iter().all(|s| s.replicas == 2));
    assert!(
        !dir.path().join("out/decay-info.json").exists(),
        "a dry run wrote the decay state"
    );
}

#[test]
fn zero_replicas_with_a_nonzero_minimum_leave_autoscaling_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let profile = "steps:\n  - durationSeconds: 5\n    requestsPerSecond: 5\n";
    let output = simulate(
        dir.path(),
        profile,
        &["--initial-replicas", "0", "--max-queue-ms", "100"],
    );
    let (summary, timeline) = finished(dir.path(), &output);
    assert!(!timeline.intervals.is_empty());
    for interval in &timeline.intervals {
        assert_eq!(interval.replicas, 0);
        assert_eq!(interval.outcome, IntervalOutcome::Disabled, "{interval:?}");
    }
    assert_eq!(summary.final_replicas, 0);
    assert_eq!(summary.requests.succeeded, 0);
}

#[test]
fn a_bad_profile_is_one_line_naming_the_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let profile = write(
        dir.path(),
        "bad.yaml",
        "steps:\n  - durationSeconds: 5\n    requestsPerSecond: lots\n",
    );
    let stderr = gpa_fails([
        "simulate".as_ref(),
        "--profile".as_ref(),
        profile.as_os_str(),
        "--output-dir".as_ref(),
        dir.path().join("out").as_os_str(),
    ]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: simulation failed: load profile '{}' line 3 column 24: \
             requestsPerSecond 'lots' is not a number; expected a number such as 20 or 0.5",
            profile.display()
        )),
        "{stderr}"
    );
}

#[test]
fn a_bad_flag_is_one_line_and_exit_code_1() {
    let stderr = gpa_fails(["simulate", "--interval-ms", "soon"]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: invalid value 'soon'"),
        "{stderr}"
    );
}

#[test]
fn gpa_without_a_command_prints_the_usage_and_the_commands() {
    let stderr = gpa_fails::<[&str; 0], _>([]);
    assert!(stderr.contains("Usage: gpa <COMMAND>"), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|line| line.trim_start().starts_with("simulate ")),
        "the subcommands are listed:\n{stderr}"
    );
    assert_eq!(
        stderr.lines().last(),
        Some("error: no command given; expected one of the commands listed above"),
        "{stderr}"
    );
}

#[test]
fn a_mistyped_command_is_one_line_with_clap_s_suggestion() {
    let stderr = gpa_fails(["simulat"]);
    assert_eq!(
        stderr.trim_end(),
        "error: unrecognized subcommand 'simulat'; tip: a similar subcommand exists: 'simulate'"
    );
}

#[test]
fn the_summary_prints_its_figures_to_a_tenth() {
    let dir = tempfile::tempdir().unwrap();
    let profile = "steps:\n  - durationSeconds: 3\n    requestsPerSecond: 20\n";
    let output = simulate(dir.path(), profile, &[]);
    finished(dir.path(), &output);
    let stdout: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let figures = [
        &stdout["profileSeconds"],
        &stdout["runSeconds"],
        &stdout["replicaSeconds"],
        &stdout["requests"]["meanMs"],
        &stdout["requests"]["p95Ms"],
    ];
    for figure in figures {
        let text = figure.to_string();
        let decimals = text.split_once('.').map_or(0, |(_, after)| after.len());
        assert!(decimals <= 1, "{text} has {decimals} decimals:\n{stdout}");
    }
    assert_eq!(stdout["runType"], "scaler");
}

#[test]
fn every_run_is_scored_against_the_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let profile = "steps:\n  - durationSeconds: 2\n    requestsPerSecond: 20\n  \
         - durationSeconds: 2\n    requestsPerSecond: 250\n";
    let output = simulate(dir.path(), profile, &[]);
    let (summary, timeline) = finished(dir.path(), &output);
    // The oracle: 1 replica for 20 requests/s, 4 for 250 (one serves 80).
    let oracle: Vec<Option<u32>> = timeline.seconds.iter().map(|s| s.oracle_replicas).collect();
    assert_eq!(oracle, [Some(1), Some(1), Some(4), Some(4)]);
    assert_eq!(summary.oracle_replica_seconds, Some(10.0));
    let ratio = summary.replica_seconds_ratio.expect("a ratio");
    assert!(
        (ratio - summary.replica_seconds / 10.0).abs() <= 0.01,
        "ratio {ratio} vs {} / 10",
        summary.replica_seconds
    );
    // Two decimals at most, like the other figures' one.
    let text = serde_json::to_value(ratio).unwrap().to_string();
    assert!(
        text.split_once('.').is_none_or(|(_, d)| d.len() <= 2),
        "{text}"
    );
    // A reaction exists exactly when some second was over target.
    assert_eq!(
        summary.reaction_seconds.is_some(),
        summary.seconds_over_target.is_some_and(|s| s > 0),
        "{summary:?}"
    );
    let stdout: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(stdout["reversals"].is_u64(), "{stdout}");
    let csv = std::fs::read_to_string(&summary.files.seconds_csv).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",oracleReplicas"));
    let svg = std::fs::read_to_string(&summary.files.chart).unwrap();
    assert!(svg.contains("oracle (least meeting the target)"));
}

#[test]
fn both_stages_are_handed_the_deployment_s_status_with_starting_replicas_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    // New replicas take 20 s to start: every interval after the scale-up
    // sees them starting.
    let profile = "capacity:\n  startupDelayMs: 20000\n\
         steps:\n  - durationSeconds: 9\n    requestsPerSecond: 20\n";
    let inputs = dir.path().join("inputs");
    std::fs::create_dir(&inputs).unwrap();
    // An evaluate stage that keeps its stdin and always asks for 3 replicas.
    let evaluate = write_script(
        dir.path(),
        "evaluate",
        &format!(
            "cat > '{}'/$(date +%s%N).json\necho 'scale to 3' >&2\necho '{{\"targetReplicas\": 3}}'",
            inputs.display()
        ),
    );
    let output = simulate(
        dir.path(),
        profile,
        &["--evaluate-command", evaluate.to_str().unwrap()],
    );
    let (_, timeline) = finished(dir.path(), &output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = &timeline.intervals[0];
    assert_eq!(first.status.replicas, 1);
    assert_eq!(first.status.ready_replicas, 1);
    let starting = timeline
        .intervals
        .iter()
        .find(|i| i.replicas == 3)
        .unwrap_or_else(|| panic!("no interval after the scale-up:\n{stderr}"));
    assert_eq!(
        serde_json::to_value(starting.status).unwrap(),
        serde_json::json!({"replicas": 3, "readyReplicas": 1, "availableReplicas": 1,
            "updatedReplicas": 3})
    );
    assert!(stderr.contains("replicas  3 (1 serving)"), "{stderr}");
    assert!(
        stderr.contains("scale to 3"),
        "the decision text is shown:\n{stderr}"
    );
    // What the evaluate stage read on stdin carries the same status.
    let mut statuses = Vec::new();
    for entry in std::fs::read_dir(&inputs).unwrap() {
        let input: serde_json::Value =
            serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        assert_eq!(input["resource"]["kind"], "Deployment");
        statuses.push(input["resource"]["status"].clone());
    }
    assert!(
        statuses.contains(&serde_json::json!({"replicas": 3, "readyReplicas": 1,
            "availableReplicas": 1, "updatedReplicas": 3})),
        "{statuses:?}"
    );
}

/// A latency report as gpa-metric prints it, with the given mean.
fn report(mean_ms: f64) -> String {
    serde_json::json!({"users": 8, "runTimeSeconds": 1.0, "requests": {"GET /fibonacci?n=10": {
        "method": "GET", "name": "/fibonacci?n=10", "count": 40, "failures": 0,
        "errorRate": 0.0, "requestsPerSecond": 40.0, "meanMs": mean_ms, "medianMs": mean_ms,
        "minMs": 50.0, "maxMs": mean_ms * 2.0, "p75Ms": mean_ms, "p90Ms": mean_ms,
        "p95Ms": mean_ms, "p99Ms": mean_ms}}})
    .to_string()
}

#[test]
fn a_miss_while_added_replicas_start_is_held_not_scaled_again() {
    let dir = tempfile::tempdir().unwrap();
    // Replicas take 30 s to start: after the first scale-up, every interval
    // sees the new one starting.
    let profile = "capacity:\n  startupDelayMs: 30000\n\
         steps:\n  - durationSeconds: 7\n    requestsPerSecond: 20\n";
    // A metric stage that always measures a mean of 150 ms: 1.5 times the
    // target, which 1 ready replica times 1.5 rounds up to 2.
    let metric = write_script(dir.path(), "metric", &format!("echo '{}'", report(150.0)));
    let output = simulate(
        dir.path(),
        profile,
        &["--metric-command", metric.to_str().unwrap()],
    );
    let (summary, timeline) = finished(dir.path(), &output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(timeline.intervals[0].decided_replicas, Some(2), "{stderr}");
    let held: Vec<_> = timeline.intervals.iter().skip(1).collect();
    assert!(!held.is_empty(), "{stderr}");
    for interval in held {
        assert_eq!(interval.status.ready_replicas, 1);
        assert_eq!(interval.outcome, IntervalOutcome::Unchanged, "{stderr}");
        assert!(
            interval.reason.starts_with(
                "hold 2: 1 of 2 replicas still starting; GET /fibonacci?n=10 mean 150"
            ),
            "{}",
            interval.reason
        );
    }
    assert!(stderr.contains("replicas still starting"), "{stderr}");
    assert_eq!(summary.peak_replicas, 2);
}

/// The longest run of consecutive skipped intervals.
fn longest_skipped_run(timeline: &Timeline) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for interval in &timeline.intervals {
        run = if interval.outcome == IntervalOutcome::Skipped {
            run + 1
        } else {
            0
        };
        longest = longest.max(run);
    }
    longest
}

#[test]
fn a_service_whose_probe_requests_time_out_is_scaled_up() {
    let dir = tempfile::tempdir().unwrap();
    // profiles/saturation.yaml's service and probe, with shorter steps.
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/saturation.yaml"),
    )
    .unwrap();
    let head = &shipped[..shipped.find("steps:").unwrap()];
    let profile = format!(
        "{head}steps:\n  - durationSeconds: 2\n    requestsPerSecond: 20\n  \
         - durationSeconds: 10\n    requestsPerSecond: 400\n"
    );
    let output = simulate(dir.path(), &profile, &["--max-replicas", "8"]);
    let (summary, timeline) = finished(dir.path(), &output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        timeline
            .intervals
            .iter()
            .any(|i| i.reason.contains("requests timed out")),
        "the probe's requests timed out and the decision says so:\n{stderr}"
    );
    assert!(summary.peak_replicas >= 3, "{summary:?}\n{stderr}");
    assert!(
        longest_skipped_run(&timeline) <= 2,
        "more than two intervals in a row skipped:\n{stderr}"
    );
}

#[test]
fn compare_runs_each_config_into_its_folder_and_prints_a_row_for_each() {
    let dir = tempfile::tempdir().unwrap();
    let profile = write(
        dir.path(),
        "profile.yaml",
        "steps:\n  - durationSeconds: 3\n    requestsPerSecond: 20\n",
    );
    let eager = write(dir.path(), "eager.yaml", EVALUATION_CONFIG);
    let calm = write(
        dir.path(),
        "calm.yaml",
        &EVALUATION_CONFIG.replace("maxStep: 2", "maxStep: 1"),
    );
    let output = Command::new(env!("CARGO_BIN_EXE_gpa"))
        .arg("simulate")
        .args(QUICK)
        .arg("--output-dir")
        .arg(dir.path().join("out"))
        .arg("--profile")
        .arg(&profile)
        .arg("--compare")
        .args([&eager, &calm])
        .timeout(std::time::Duration::from_secs(100))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("stdout is not the rows: {err}\n{stderr}"));
    let rows = rows.as_array().expect("an array of rows");
    assert_eq!(rows.len(), 2);
    for (row, name) in rows.iter().zip(["eager", "calm"]) {
        assert!(
            row["evaluationConfig"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{name}.yaml"))
        );
        assert!(row["oracleReplicaSeconds"].as_f64().unwrap() > 0.0, "{row}");
        for key in [
            "peakReplicas",
            "replicaSeconds",
            "replicaSecondsRatio",
            "secondsOverTarget",
            "reactionSeconds",
            "reversals",
            "skippedIntervals",
        ] {
            assert!(row.get(key).is_some(), "{key} missing from {row}");
        }
        assert!(
            dir.path()
                .join("out")
                .join(name)
                .join("timeline.json")
                .is_file()
        );
    }
    assert!(dir.path().join("out/compare.svg").is_file());
    let table: Vec<&str> = stderr
        .lines()
        .skip_while(|line| !line.starts_with("evaluation config"))
        .collect();
    assert_eq!(table.len(), 3, "{stderr}");
    assert!(table[1].contains("eager.yaml") && table[2].contains("calm.yaml"));
}

#[test]
fn compare_refuses_a_missing_config_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let stderr = gpa_fails([
        "simulate".as_ref(),
        "--compare".as_ref(),
        "/nonexistent/a.yaml".as_ref(),
        "--output-dir".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(
        stderr.trim_end(),
        "error: comparison failed: evaluation config for --compare '/nonexistent/a.yaml' is \
         not a file; expected an existing file"
    );
}

#[test]
fn with_prometheus_the_metric_stage_reads_the_background_rate_and_prometheus_stops_after() {
    if !common::prometheus_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // 40 requests/s of background traffic: one replica serves 80.
    let profile = write(
        dir.path(),
        "profile.yaml",
        "steps:\n  - durationSeconds: 16\n    requestsPerSecond: 40\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_gpa"))
        .arg("simulate")
        .args(QUICK)
        .arg("--output-dir")
        .arg(dir.path().join("out"))
        .arg("--profile")
        .arg(&profile)
        .arg("--prometheus")
        .env("GPA_LOG", "info")
        .timeout(std::time::Duration::from_secs(100))
        .output()
        .unwrap();
    let (_, timeline) = finished(dir.path(), &output);
    let stderr = String::from_utf8_lossy(&output.stderr);

    // The built-in config, written out, carries the CPU and the query.
    let config = std::fs::read_to_string(dir.path().join("out/evaluation-config.yaml")).unwrap();
    assert!(config.contains("\n  cpu: {}\n"), "{config}");
    assert!(
        config.contains(r#"query: sum(rate(http_requests_total{probe="false"}[5s])) or vector(0)"#),
        "{config}"
    );
    // Every metric stage that ran read the query, and once Prometheus held
    // 5 s of scrapes it read the background traffic, not the probe's
    // requests (8 users, 40 requests/s or more while the probe runs).
    let measured: Vec<(f64, f64)> = timeline
        .intervals
        .iter()
        .filter(|i| i.metric_seconds.is_some())
        .map(|i| {
            let value = i
                .measured_query_value
                .unwrap_or_else(|| panic!("no load.queryValue at t={}\n{stderr}", i.at_seconds));
            (i.at_seconds, value)
        })
        .collect();
    assert!(measured.len() >= 4, "{measured:?}\n{stderr}");
    assert!(
        measured.iter().all(|(_, v)| v.is_finite() && *v >= 0.0),
        "{measured:?}"
    );
    // From 6 s on the query's 5 s range is full of scrapes of the traffic
    // (Prometheus scraped once before the run began). The median allows an
    // interval or two disturbed by a busy machine.
    let mut settled: Vec<f64> = measured
        .iter()
        .filter(|(at, _)| *at >= 6.0)
        .map(|(_, v)| *v)
        .collect();
    settled.sort_by(f64::total_cmp);
    let median = settled[settled.len() / 2];
    assert!(
        (30.0..=50.0).contains(&median),
        "the query read a median of {median} requests/s from 6 s, expected the background's 40 \
         within 25 % (the probe's own requests left out): {measured:?}\n{stderr}"
    );
    assert!(stderr.contains(", load query "), "{stderr}");
    // The load section is the opt-in of the query's rules: every decision
    // line names the query's figure, or says the report had none.
    let decided: Vec<_> = timeline
        .intervals
        .iter()
        .filter(|interval| interval.reason.contains("(rule: "))
        .collect();
    assert!(!decided.is_empty(), "{stderr}");
    for interval in &decided {
        match interval.measured_query_value {
            Some(_) => assert!(
                interval.reason.contains("query ")
                    && interval.reason.contains(" req/s / ")
                    && interval.reason.contains(" per replica"),
                "{}",
                interval.reason
            ),
            None => assert!(
                interval.reason.contains("no query value in the report"),
                "{}",
                interval.reason
            ),
        }
    }

    // Prometheus was stopped when the run ended: its port refuses.
    let url = stderr
        .lines()
        .find_map(|line| {
            line.split_once("Prometheus (")?
                .1
                .split_once(") on ")?
                .1
                .split(',')
                .next()
        })
        .unwrap_or_else(|| panic!("no Prometheus line\n{stderr}"));
    let address = url.trim_start_matches("http://");
    assert!(
        std::net::TcpStream::connect(address).is_err(),
        "Prometheus still answers at {address}"
    );
}

#[test]
fn prometheus_without_the_executable_is_an_error_saying_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gpa"))
        .args(["simulate", "--prometheus", "--output-dir"])
        .arg(dir.path().join("out"))
        .env("PATH", dir.path())
        .timeout(std::time::Duration::from_secs(10))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--prometheus: no prometheus executable on the PATH")
            && stderr.contains("apt-get install -y --no-install-recommends prometheus"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists(), "nothing is written");
}

#[test]
fn the_metric_stage_gets_kubernetes_metrics_and_reports_the_load_the_evaluate_stage_never_sees_them()
 {
    let dir = tempfile::tempdir().unwrap();
    let profile = "steps:\n  - durationSeconds: 11\n    requestsPerSecond: 60\n";
    let inputs = dir.path().join("inputs");
    std::fs::create_dir(&inputs).unwrap();
    // Both stages are the real executables behind a script that keeps their stdin.
    let keep_and_run = |stage: &str, executable: &str| {
        let path = executable_beside_gpa(executable);
        write_script(
            dir.path(),
            stage,
            &format!(
                "file='{}'/{stage}-$(date +%s%N).json\ncat > \"$file\"\nexec '{}' < \"$file\"",
                inputs.display(),
                path.display()
            ),
        )
    };
    let metric = keep_and_run("metric", "gpa-metric");
    let evaluate = keep_and_run("evaluate", "gpa-evaluate");
    let output = simulate(
        dir.path(),
        profile,
        &[
            "--metrics-window-ms",
            "1500",
            "--metric-command",
            metric.to_str().unwrap(),
            "--evaluate-command",
            evaluate.to_str().unwrap(),
        ],
    );
    let (_, timeline) = finished(dir.path(), &output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut metric_inputs = Vec::new();
    let mut evaluate_inputs = Vec::new();
    for entry in std::fs::read_dir(&inputs).unwrap() {
        let path = entry.unwrap().path();
        let input: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("metric-") {
            metric_inputs.push(input);
        } else {
            evaluate_inputs.push(input);
        }
    }
    assert_eq!(metric_inputs.len(), timeline.intervals.len(), "{stderr}");
    // The CPA 2.12.2 shape: one cpu metric whose pods each request 50m.
    let gathered: Vec<&serde_json::Value> = metric_inputs
        .iter()
        .filter_map(|input| input.get("kubernetesMetrics"))
        .collect();
    assert!(
        !gathered.is_empty(),
        "no interval got kubernetesMetrics:\n{stderr}"
    );
    for metrics in &gathered {
        let metric = &metrics[0];
        assert_eq!(metric["spec"]["resource"]["name"], "cpu");
        let resource = &metric["resource"];
        for key in [
            "pod_metrics_info",
            "requests",
            "ready_pod_count",
            "ignored_pods",
            "missing_pods",
            "total_pods",
            "timestamp",
        ] {
            assert!(resource.get(key).is_some(), "{key} missing from {resource}");
        }
        let requests = resource["requests"].as_object().unwrap();
        assert!(requests.values().all(|request| request == 50), "{resource}");
        assert_eq!(
            requests.len() as u64,
            resource["total_pods"].as_u64().unwrap()
        );
        for sample in resource["pod_metrics_info"].as_object().unwrap().values() {
            // The time since the sample before: about 1.5 s, as timers fire on a busy machine.
            let window_ns = sample["Window"].as_u64().unwrap();
            assert!(
                (1_000_000_000..4_000_000_000).contains(&window_ns),
                "{sample}"
            );
            assert!(
                (0..=100).contains(&sample["Value"].as_i64().unwrap()),
                "{sample}"
            );
        }
    }
    // The evaluate stage never gets them; the report it reads carries the load.
    let loads: Vec<serde_json::Value> = evaluate_inputs
        .iter()
        .map(|input| {
            assert!(input.get("kubernetesMetrics").is_none(), "{input}");
            let report: serde_json::Value =
                serde_json::from_str(input["metrics"][0]["value"].as_str().unwrap()).unwrap();
            report.get("load").cloned().unwrap_or_default()
        })
        .filter(|load| !load.is_null())
        .collect();
    // Every report made from kubernetesMetrics carries a load (an interval
    // whose metric stage failed on a busy machine has no report).
    assert!(
        !loads.is_empty() && loads.len() <= gathered.len(),
        "{} loads for {} gathers:\n{stderr}",
        loads.len(),
        gathered.len()
    );
    for load in &loads {
        let utilization = load["cpuUtilization"].as_f64().unwrap();
        assert!((0.0..=2.0).contains(&utilization), "{load}");
        assert_eq!(load["cpuLimitUtilization"], 2.0, "{load}");
        let window = load["windowSeconds"].as_f64().unwrap();
        assert!((1.0..4.0).contains(&window), "{load}");
    }
    // 60 requests/s keep some slots busy: a sample shows it.
    assert!(
        loads
            .iter()
            .any(|load| load["cpuUtilization"].as_f64().unwrap() > 0.0),
        "{loads:?}"
    );
    // The timeline records what each interval's report carried.
    let recorded: Vec<f64> = timeline
        .intervals
        .iter()
        .filter_map(|interval| interval.cpu_utilization)
        .collect();
    assert_eq!(recorded.len(), loads.len(), "{stderr}");
    assert!(stderr.contains(" ms cpu "), "{stderr}");
}

#[test]
fn a_replica_that_never_gets_ready_neither_holds_a_miss_nor_blocks_a_decay() {
    // One of the Deployment's replicas never gets ready (a crash-looping
    // Pod); past startupAllowanceSeconds it is unready, not starting: the
    // autoscaler still scales up on a miss, and still decays after the load.
    let dir = tempfile::tempdir().unwrap();
    let output = simulate_with(
        dir.path(),
        "capacity:\n  neverReadyReplicas: 1\nsteps:\n  - durationSeconds: 4\n    requestsPerSecond: 20\n  \
         - durationSeconds: 14\n    requestsPerSecond: 250\n  \
         - durationSeconds: 18\n    requestsPerSecond: 20\n",
        &format!("{EVALUATION_CONFIG}startupAllowanceSeconds: 3\n"),
        &["--initial-replicas", "2", "--max-replicas", "6"],
    );
    let (summary, timeline) = finished(dir.path(), &output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        timeline
            .intervals
            .iter()
            .all(|i| i.status.ready_replicas < i.replicas),
        "one replica is never ready: {:?}",
        timeline.intervals
    );
    assert!(
        summary.scale_ups >= 1 && summary.peak_replicas >= 3,
        "{summary:?}\n{stderr}"
    );
    assert!(
        timeline.intervals.iter().any(|i| i.at_seconds >= 18.0
            && i.outcome == IntervalOutcome::Scaled
            && i.decided_replicas < Some(i.replicas)),
        "no decay after the load fell\n{stderr}"
    );
    assert!(
        timeline.intervals.iter().any(|i| i
            .reason
            .contains("unready and not added by us within startupAllowanceSeconds 3: not counted")),
        "the decision lines name the unready replica\n{stderr}"
    );
}

#[test]
fn the_load_aware_config_decides_on_load_and_its_lines_name_it() {
    let dir = tempfile::tempdir().unwrap();
    let profile = "steps:\n  - durationSeconds: 9\n    requestsPerSecond: 60\n";
    let built_in = include_str!("../simulate/load-aware.yaml");
    assert!(built_in.contains("\nload:\n"), "the config opts in");
    let output = simulate_with(
        dir.path(),
        profile,
        built_in,
        &["--metrics-window-ms", "1500"],
    );
    let (_, timeline) = finished(dir.path(), &output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Every decided interval whose report carried the load names it in its
    // line: the rule's own words or the load note; one without says so.
    let decided: Vec<_> = timeline
        .intervals
        .iter()
        .filter(|interval| interval.reason.contains("(rule: "))
        .collect();
    assert!(!decided.is_empty(), "{stderr}");
    for interval in &decided {
        match interval.cpu_utilization {
            Some(_) => assert!(
                interval.reason.contains("CPU ") && interval.reason.contains(" per pod x "),
                "{}",
                interval.reason
            ),
            None => assert!(
                interval.reason.contains("no CPU load in the report"),
                "{}",
                interval.reason
            ),
        }
    }
    assert!(
        decided
            .iter()
            .any(|interval| interval.cpu_utilization.is_some()),
        "no decision had the load:\n{stderr}"
    );
}

#[test]
fn the_keda_like_compare_config_loads_and_decides_on_the_query_alone() {
    use goose_pod_autoscaler::evaluate::config::EvaluationConfig;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("simulate/keda-like.yaml");
    let config = EvaluationConfig::load(&path).unwrap_or_else(|err| panic!("{err}"));
    let load = config.load.expect("load");
    assert_eq!(load.query_per_replica, Some(56.0));
    assert_eq!(load.cpu, None);
    let query = load.prometheus.expect("load.prometheus").query;
    // the built-in query of --prometheus, so that --compare reads the same rate
    let built_in = goose_pod_autoscaler::simulate::prometheus::PROMETHEUS_LOAD_SECTION;
    assert!(built_in.contains(&format!("query: {query}\n")), "{query}");
}

/// Every file in `simulate/` is loaded by a test: each evaluation config
/// here, the `--prometheus` load section (appended to the built-in config)
/// and the built-in scenario.
#[test]
fn every_file_in_simulate_loads() {
    use goose_pod_autoscaler::evaluate::config::EvaluationConfig;
    use goose_pod_autoscaler::scenario::ScenarioFile;
    use goose_pod_autoscaler::simulate::prometheus::built_in_evaluation_config;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("simulate");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match name.as_str() {
            "scenario.yaml" => {
                ScenarioFile::load(&path, |_| None).unwrap_or_else(|err| panic!("{err}"));
            }
            "load-prometheus.yaml" => {
                let text = built_in_evaluation_config(true);
                let config =
                    EvaluationConfig::parse_str(&text, &path).unwrap_or_else(|err| panic!("{err}"));
                assert!(config.prometheus().is_some(), "{name}");
            }
            _ => {
                EvaluationConfig::load(&path).unwrap_or_else(|err| panic!("{name}: {err}"));
            }
        }
        names.push(name);
    }
    names.sort();
    assert!(
        names.contains(&"keda-like.yaml".to_owned()) && names.len() >= 6,
        "{names:?}"
    );
}

#[test]
fn the_hpa_like_compare_config_loads_and_decides_on_cpu_alone() {
    use goose_pod_autoscaler::evaluate::config::EvaluationConfig;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("simulate/hpa-like.yaml");
    let config = EvaluationConfig::load(&path).unwrap_or_else(|err| panic!("{err}"));
    let cpu = config.load.and_then(|load| load.cpu).expect("load.cpu");
    assert_eq!(cpu.target_utilization, Some(0.7));
}

#[test]
fn the_lpa_like_compare_config_is_the_lpa_s_format_on_the_built_in_target() {
    use goose_pod_autoscaler::evaluate::config::EvaluationConfig;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("simulate");
    let lpa =
        EvaluationConfig::load(&dir.join("lpa-like.yaml")).unwrap_or_else(|err| panic!("{err}"));
    let built_in = EvaluationConfig::load(&dir.join("evaluation-config.yaml")).unwrap();
    assert_eq!(
        lpa.targets, built_in.targets,
        "the same target as the built-in"
    );
    // nothing the LPA does not have: its +1 and its decay after 3 quiet runs
    let lpa_only = EvaluationConfig::parse_str(
        "targets:\n  - {method: GET, endpoint: /fibonacci?n=10, type: mean, target: 100}\n\
         decay: {replicas: 1, unchangedRuns: 3}\n",
        Path::new("lpa"),
    )
    .unwrap();
    assert_eq!(lpa, lpa_only);
}

#[test]
fn prometheus_gives_the_built_in_config_both_load_sources_and_nothing_else() {
    use goose_pod_autoscaler::evaluate::config::EvaluationConfig;
    use goose_pod_autoscaler::simulate::prometheus::built_in_evaluation_config;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("simulate");
    let both = EvaluationConfig::parse_str(&built_in_evaluation_config(true), &dir)
        .unwrap_or_else(|err| panic!("{err}"));
    let built_in = EvaluationConfig::load(&dir.join("evaluation-config.yaml")).unwrap();
    // the built-in's own rules, with the load rules on the CPU and the query
    assert_eq!(both.targets, built_in.targets);
    assert_eq!(both.decay, built_in.decay);
    assert_eq!(both.scale_up, built_in.scale_up);
    let cpu = both.load.as_ref().and_then(|load| load.cpu.as_ref());
    assert!(cpu.is_some(), "the CPU");
    let query = &both.prometheus().expect("load.prometheus").query;
    assert!(query.contains("probe=\"false\""), "{query}");
    assert!(query.ends_with(" or vector(0)"), "{query}");
    // without --prometheus the built-in has no load section at all
    let latency = EvaluationConfig::parse_str(&built_in_evaluation_config(false), &dir).unwrap();
    assert_eq!(latency.load, None);
}
