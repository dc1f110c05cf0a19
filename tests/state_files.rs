//! The decay state file's housekeeping, through `gpa-evaluate` on the
//! example input: temporary files left by a crash are removed by the next
//! save, and the warning about an unreadable state file says only what the
//! run does (a dry run and a failed run write nothing).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `gpa-evaluate` with the example config on `input` and the state file at
/// `state`: its exit code, stdout and stderr.
fn evaluate(input: &str, state: &Path) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpa-evaluate"))
        .arg("--config")
        .arg("example/evaluation_config.yaml")
        .arg("--state")
        .arg(state)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn example_input() -> String {
    std::fs::read_to_string("example/inputs/evaluate-v2.json").unwrap()
}

fn state_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("state.json")
}

#[test]
fn a_saved_decision_removes_the_temporary_files_a_crash_left() {
    let dir = tempfile::tempdir().unwrap();
    let leftovers = [".state.json.Xy12Zw.tmp", ".state.json.000000.tmp"];
    let others = [
        ".boosts.json.Xy12Zw.tmp",
        ".state.json.lock",
        "state.json.bak",
    ];
    for name in leftovers.iter().chain(&others) {
        std::fs::write(dir.path().join(name), "{").unwrap();
    }
    let (code, answer, stderr) = evaluate(&example_input(), &state_in(&dir));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(answer, "{\"targetReplicas\":4}\n", "{stderr}");
    for name in leftovers {
        assert!(!dir.path().join(name).exists(), "{name} removed");
    }
    for name in others {
        assert!(dir.path().join(name).exists(), "{name} kept");
    }
    assert!(
        stderr.contains("removed 2 leftover temporary file(s) of 'state.json'"),
        "{stderr}"
    );
}

#[test]
fn an_unreadable_state_file_is_left_as_it_is_by_a_dry_run_and_a_failed_run_and_no_warning_says_otherwise()
 {
    let dir = tempfile::tempdir().unwrap();
    let state = state_in(&dir);
    let garbage = "{\"runsSinceChange\": 2}} garbage";
    std::fs::write(&state, garbage).unwrap();
    let dry_run =
        example_input().replace("\"runType\": \"scaler\"", "\"runType\": \"api_dry_run\"");
    assert_ne!(dry_run, example_input());
    let failed = example_input().replace("GET /fibonacci?n=10", "GET /elsewhere");
    for (what, input, want) in [
        ("dry run", dry_run, Some(0)),
        ("failed run", failed, Some(1)),
    ] {
        let (code, _, stderr) = evaluate(&input, &state);
        assert_eq!(code, want, "{what}: {stderr}");
        assert!(
            stderr.contains("is not valid state JSON") && stderr.contains("starting fresh"),
            "{what}: {stderr}"
        );
        assert!(!stderr.contains("overwriting"), "{what}: {stderr}");
        assert_eq!(std::fs::read_to_string(&state).unwrap(), garbage, "{what}");
    }
    // a run that decides saves, and so replaces it
    let (code, _, stderr) = evaluate(&example_input(), &state);
    assert_eq!(code, Some(0), "{stderr}");
    assert_ne!(std::fs::read_to_string(&state).unwrap(), garbage);
}
