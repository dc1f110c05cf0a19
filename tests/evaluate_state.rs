//! The decay state file under stress: many evaluations at once lose no
//! update, and a process killed at any instant leaves a readable file.

mod evaluate_support;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use evaluate_support::{Fixture, binary, lpa_config, quiet_input};
use goose_pod_autoscaler::state::StateFile;

fn spawn(fixture: &Fixture, input: &str) -> Child {
    let mut child = Command::new(binary())
        .arg("--config")
        .arg(&fixture.config)
        .arg("--state")
        .arg(&fixture.state)
        .env_remove("minReplicas")
        .env_remove("maxReplicas")
        .env("GPA_LOG", "warn")
        // forty at once queue for the lock: give them the time a slow disk needs
        .env("lockTimeoutMs", "60000")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn gpa-evaluate");
    // the input fits in the pipe buffer; a child killed early may close it
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes());
    child
}

#[test]
fn forty_evaluations_at_once_lose_no_update() {
    const RUNS: u64 = 40;
    let fixture = Fixture::new(&lpa_config(1000));
    let input = quiet_input();
    let children: Vec<Child> = (0..RUNS).map(|_| spawn(&fixture, &input)).collect();
    for child in children {
        let output = child.wait_with_output().expect("wait");
        assert!(output.status.success());
        assert_eq!(output.stdout, b"{\"targetReplicas\":3}\n");
    }
    assert_eq!(fixture.state_json()["runsSinceChange"], RUNS);
}

/// A small xorshift generator: the delays only need to be spread out.
struct Delays(u64);

impl Delays {
    fn next_micros(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[test]
fn a_process_killed_at_any_instant_leaves_a_readable_state_file() {
    const KILLS: u32 = 200;
    let fixture = Fixture::new(&lpa_config(100_000));
    let state_file = StateFile::new(&fixture.state);
    let input = quiet_input();
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut delays = Delays(seed);
    let (mut finished, mut killed) = (0u64, 0u64);
    // kill anywhere from spawn to a little past a whole run, so that the
    // instants cover start-up, the lock, the read and the write alike
    const CALIBRATION_RUNS: u64 = 3;
    let whole_run = (0..CALIBRATION_RUNS)
        .map(|_| {
            let calibration = Instant::now();
            let output = spawn(&fixture, &input).wait_with_output().unwrap();
            assert!(output.status.success());
            calibration.elapsed()
        })
        .min()
        .unwrap_or_default();
    let window_micros = (whole_run.as_micros() as u64 * 5 / 4).max(3000);
    let started = Instant::now();
    for attempt in 0..KILLS {
        let mut child = spawn(&fixture, &input);
        std::thread::sleep(Duration::from_micros(delays.next_micros(window_micros)));
        match child.try_wait().expect("try_wait") {
            Some(status) => {
                assert!(
                    status.success(),
                    "attempt {attempt} (seed {seed}) failed on its own"
                );
                finished += 1;
            }
            None => {
                child.kill().expect("SIGKILL");
                child.wait().expect("reap");
                killed += 1;
            }
        }
        let loaded = state_file
            .load()
            .unwrap_or_else(|err| panic!("attempt {attempt} (seed {seed}): {err}"));
        assert_eq!(
            loaded.warning, None,
            "attempt {attempt} (seed {seed}): state file broken"
        );
    }
    // every run that finished saved one quiet run; a killed one may have
    // saved it or not, but never more than one
    let runs = state_file.load().unwrap().state.runs_since_change as u64 - CALIBRATION_RUNS;
    eprintln!(
        "{KILLS} attempts in {:?}, kill window {window_micros} µs: {finished} finished, {killed} killed, runsSinceChange {runs} (seed {seed})",
        started.elapsed()
    );
    assert!(killed > 0, "no process was killed; the test proved nothing");
    assert!(
        (finished..=finished + killed).contains(&runs),
        "runsSinceChange {runs} outside {finished}..={}",
        finished + killed
    );
    // and the lock was released by every kill: a last run goes through
    let output = spawn(&fixture, &input).wait_with_output().unwrap();
    assert_eq!(output.stdout, b"{\"targetReplicas\":3}\n");
}
