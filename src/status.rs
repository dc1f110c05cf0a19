//! The evaluation status file: what the evaluate stage leaves, after every
//! run that is not a dry run, for the `gpa alerts` sidecar to export on
//! `/metrics`. It sits on the volume the two containers share (the state
//! file itself stays on the CPA container's own file system), named by the
//! `statusFile` key of both configs.
//!
//! Small (a few hundred bytes per target), JSON (camelCase), replaced
//! atomically like the state file ([`crate::state`]), and updated under its
//! own lock (`<status>.lock`), so concurrent evaluations lose no failure
//! count. It is advisory: a status that cannot be written is a warning,
//! never a failed evaluation, and one that cannot be read starts over.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::state::replace_atomically;

/// How many of the latest runs [`Status::recent_runs`] keeps.
pub const RECENT_RUNS: usize = 10;

/// The outcome word of a run that answered.
pub const OK: &str = "ok";

/// The failure kinds a run can end with: the input is not the CPA's, the
/// config cannot be read, no replica count, the state file fails, a target's
/// request is missing from the report, every request of a target failed.
pub const FAILURE_KINDS: [&str; 6] = [
    "input",
    "config",
    "no-replicas",
    "state",
    "missing-result",
    "all-failed",
];

/// Longest wait for the status file's lock.
const LOCK_TIMEOUT: Duration = Duration::from_secs(1);

/// Everything in the status file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The resource the CPA scales, from the last input that named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceId>,
    /// When the last run (answered or failed) ended, in seconds since the
    /// Unix epoch: the autoscaler's heartbeat.
    #[serde(default)]
    pub last_evaluation_unix_seconds: f64,
    /// The last run that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_decision: Option<LastDecision>,
    /// Each target of that run: its measured figure and its limit.
    #[serde(default)]
    pub targets: Vec<TargetStatus>,
    /// The outcomes of the latest [`RECENT_RUNS`] runs, oldest first:
    /// [`OK`] or a failure kind (`all-failed`, `missing-result`, `input`,
    /// `no-replicas`, `state`, `config`).
    #[serde(default)]
    pub recent_runs: Vec<String>,
    /// Failed runs by kind since the file was created.
    #[serde(default)]
    pub failures_total: BTreeMap<String, u64>,
}

/// The scaled resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceId {
    /// `kind`, e.g. `Deployment`; empty when the input did not say.
    pub kind: String,
    /// `metadata.namespace`; empty when the input did not say.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

/// What the last run that answered decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastDecision {
    /// Replicas when it ran.
    pub current_replicas: u32,
    /// Replicas it answered (`targetReplicas`).
    pub target_replicas: u32,
    /// `up`, `down` or `hold`.
    pub direction: String,
    /// The rule that decided, as the decision line names it (`scale-up`).
    pub rule: String,
    /// Runs since the replica count last changed, after this run.
    pub runs_since_change: u32,
}

/// One target's figure in the last run that measured it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetStatus {
    /// The request, `<METHOD> <name>`.
    pub request: String,
    /// The statistic, as the config names it (`p95`, `errorRate`).
    pub kind: String,
    /// The measured figure: milliseconds, or a fraction for `errorRate`.
    pub measured: f64,
    /// `target x (1 + tolerance)`, same unit: above it the target is missed.
    pub limit: f64,
}

impl Status {
    /// Reads the status at `path`; missing or empty: a fresh status.
    pub fn load(path: &Path) -> Result<Status, String> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Status::default()),
            Err(err) => {
                return Err(format!(
                    "cannot read status file '{}': {err}",
                    path.display()
                ));
            }
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Status::default());
        }
        serde_json::from_slice(&bytes).map_err(|err| {
            format!(
                "status file '{}' is not a status document: {err}",
                path.display()
            )
        })
    }

    /// Records one run's `outcome` ([`OK`] or a failure kind) at
    /// `unix_seconds`, keeping the latest [`RECENT_RUNS`].
    pub fn record_run(&mut self, outcome: &str, unix_seconds: f64) {
        self.last_evaluation_unix_seconds = unix_seconds;
        self.recent_runs.push(outcome.to_owned());
        let extra = self.recent_runs.len().saturating_sub(RECENT_RUNS);
        self.recent_runs.drain(..extra);
        if outcome != OK {
            *self.failures_total.entry(outcome.to_owned()).or_default() += 1;
        }
    }
}

/// Loads the status at `path` under its lock, lets `change` update it and
/// saves it atomically. An unreadable file starts over; the error says what
/// could not be locked or written.
pub fn update(path: &Path, change: impl FnOnce(&mut Status)) -> Result<(), String> {
    let _lock = lock(path)?;
    let mut status = Status::load(path).unwrap_or_else(|err| {
        tracing::warn!("{err}; starting it over");
        Status::default()
    });
    change(&mut status);
    let mut json = serde_json::to_vec(&status).map_err(|err| err.to_string())?;
    json.push(b'\n');
    replace_atomically(path, &json)
        .map_err(|err| format!("cannot write status file '{}': {err}", path.display()))
}

/// The exclusive lock on `<path>.lock`, waiting at most [`LOCK_TIMEOUT`].
fn lock(path: &Path) -> Result<File, String> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let fail = |err: &dyn std::fmt::Display| {
        format!("cannot lock status file '{}': {err}", lock_path.display())
    };
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|err| fail(&err))?;
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::Error(err)) => return Err(fail(&err)),
            Err(TryLockError::WouldBlock) if start.elapsed() >= LOCK_TIMEOUT => {
                return Err(fail(&"held by another evaluation for 1 s"));
            }
            Err(TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_runs_and_counts_failures_by_kind() {
        let mut status = Status::default();
        for n in 0..12 {
            let outcome = if n % 4 == 3 { "all-failed" } else { OK };
            status.record_run(outcome, f64::from(n));
        }
        assert_eq!(status.recent_runs.len(), RECENT_RUNS);
        assert_eq!(status.recent_runs[0], OK, "runs 2..=11 kept");
        assert_eq!(status.failures_total["all-failed"], 3);
        assert_eq!(status.last_evaluation_unix_seconds, 11.0);
    }

    #[test]
    fn updates_survive_a_missing_or_corrupt_file_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.json");
        update(&path, |status| status.record_run("input", 5.0)).unwrap();
        std::fs::write(&path, "{garbage").unwrap();
        update(&path, |status| status.record_run(OK, 6.0)).unwrap();
        let status = Status::load(&path).unwrap();
        assert_eq!(status.recent_runs, [OK]);
        update(&path, |status| status.record_run("state", 7.0)).unwrap();
        let status = Status::load(&path).unwrap();
        assert_eq!(status.recent_runs, [OK, "state"]);
        assert_eq!(status.failures_total["state"], 1);
    }
}
