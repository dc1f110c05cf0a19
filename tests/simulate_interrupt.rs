//! `gpa simulate` stopped by SIGINT or SIGTERM while a `gpa-metric` child
//! runs: the child is stopped with it, what was measured so far is written
//! (summary, timeline, CSVs, chart), the summary says `"interrupted": true`
//! and the exit code is the shell's for the signal (130, 143).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use goose_pod_autoscaler::simulate::timeline::Timeline;

/// The process ids whose environment mentions `marker` (our stage children
/// carry the output folder in `scenarioFilePath`).
fn processes_mentioning(marker: &str) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        if let Ok(environ) = std::fs::read(entry.path().join("environ"))
            && String::from_utf8_lossy(&environ).contains(marker)
        {
            found.push(pid);
        }
    }
    found
}

/// Waits up to `limit` for `check` to hold.
fn wait_for(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

fn interrupted_run(signal: &str, want_code: i32, want_name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let profile = dir.path().join("long.yaml");
    // Far longer than the test waits: only the signal ends it.
    std::fs::write(
        &profile,
        "steps:\n  - durationSeconds: 300\n    requestsPerSecond: 20\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpa"))
        .args([
            "simulate",
            "--interval-ms",
            "1500",
            "--set",
            "gooseRunTime=20",
        ])
        .args(["--metric-timeout-ms", "60000", "--profile"])
        .arg(&profile)
        .arg("--output-dir")
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let marker = out.to_string_lossy().into_owned();
    let stage_running = wait_for(Duration::from_secs(60), || {
        processes_mentioning(&marker)
            .iter()
            .any(|pid| *pid != child.id())
    });
    assert!(stage_running, "no gpa-metric child started");
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let finished = wait_for(Duration::from_secs(60), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    assert!(finished, "gpa simulate still running 60 s after {signal}");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(want_code), "{stderr}");
    // It stopped at once, not at the end of the 20 s load test.
    assert!(started.elapsed() < Duration::from_secs(15), "{stderr}");
    assert!(
        wait_for(Duration::from_secs(5), || processes_mentioning(&marker)
            .is_empty()),
        "a stage process outlived gpa simulate: {:?}",
        processes_mentioning(&marker)
    );

    let summary: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("stdout is not the summary: {err}\n{stderr}"));
    assert_eq!(summary["interrupted"], true, "{summary}");
    assert_eq!(summary["interruptedBy"], want_name, "{summary}");
    assert!(
        summary["profileSeconds"].as_f64().unwrap() < 300.0,
        "{summary}"
    );
    for file in ["chart.svg", "seconds.csv", "intervals.csv", "timeline.json"] {
        assert!(out.join(file).is_file(), "{file} missing\n{stderr}");
    }
    let timeline: Timeline =
        serde_json::from_str(&std::fs::read_to_string(out.join("timeline.json")).unwrap()).unwrap();
    assert!(timeline.summary.interrupted);
    assert!(!timeline.seconds.is_empty(), "no second recorded");
    assert!(
        timeline.summary.requests.sent > 0,
        "the traffic sent so far is kept"
    );
    assert!(
        stderr.contains(&format!("interrupted by {want_name} after")),
        "{stderr}"
    );
}

#[test]
fn ctrl_c_stops_the_stage_child_writes_what_was_measured_and_exits_130() {
    interrupted_run("-INT", 130, "SIGINT");
}

#[test]
fn sigterm_stops_the_stage_child_writes_what_was_measured_and_exits_143() {
    interrupted_run("-TERM", 143, "SIGTERM");
}
