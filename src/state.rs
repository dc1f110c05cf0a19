//! The decay state the evaluate stage keeps between runs, and the file that
//! holds it.
//!
//! The file is JSON (camelCase), replaced whole on every save: a temporary file
//! in the same folder is written, fsynced and renamed over it, then the folder
//! is fsynced. A process killed at any instant therefore leaves either the old
//! or the new file, never a mix. Read-decide-write runs under an advisory lock
//! on a separate `<state>.lock` file (the rename replaces the state file's
//! inode, so a lock on the state file itself would protect nothing), so two
//! evaluations at once never lose an update. A run waits for the lock a
//! bounded time, then fails naming the lock file. Neither the lock file nor
//! the state file is opened through a symbolic link: a link there is an
//! error, never a file created or read elsewhere.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Where the evaluate stage keeps its state unless `decayInfoFilePath` says
/// otherwise (the LPA's path).
pub const DEFAULT_STATE_PATH: &str = "/decay_info.json";

/// What the evaluate stage remembers between runs. Every field is optional so
/// that a missing or empty file is a fresh start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecayState {
    /// Runs since the replica count last changed (by us or by someone else).
    /// The Locust Pod Autoscaler's `runs_since_change` is read too, so its
    /// state file carries over.
    #[serde(default, alias = "runs_since_change")]
    pub runs_since_change: u32,
    /// Current replicas at our last decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_replicas: Option<u32>,
    /// The replica count we last answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_target_replicas: Option<u32>,
    /// When we last answered a count above the current one (a scale-up), in
    /// seconds since the Unix epoch; the start of `scaleUp.cooldownSeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scale_up_unix_seconds: Option<u64>,
    /// Evaluations in a row that failed because the report could not be
    /// judged; counted only when the config has a `fallback`, reset by any
    /// evaluation that judges the report.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub consecutive_failed_runs: u32,
    /// The replica count before our last decay, while a miss can still show
    /// that decay went too far (`decay.unchangedRuns + 1` runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decayed_from_replicas: Option<u32>,
    /// Runs since that decay (with `decayedFromReplicas`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub runs_since_decay: u32,
    /// The count a failed decay fell from: no decay goes below it while
    /// `decayFloorRunsLeft` is above 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay_floor_replicas: Option<u32>,
    /// Runs left in the back-off during which no decay goes below
    /// `decayFloorReplicas`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub decay_floor_runs_left: u32,
    /// The back-off set by the last failed decay, in runs (0: none); the next
    /// failed decay doubles it, a successful decay resets it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub decay_backoff_runs: u32,
    /// The count our last scale-up answered, while its replicas have not yet
    /// all been ready in a run (known only from the resource's status): the
    /// first run in which they are may still measure the queue built before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settling_replicas: Option<u32>,
    /// The last run's miss, when it missed a latency target every request of
    /// which was answered and the ready count was known: what the next run
    /// compares its own miss with to see a queue growing or draining.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_miss: Option<LastMiss>,
    /// The replicas our own answers added recently (a scale-up, and what a
    /// schedule window or an alert boost raised our answer to), while they
    /// are young enough to be starting: an unready replica counts as
    /// starting only while it may be one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_replicas: Option<AddedReplicas>,
    /// Ready replicas in the last run whose report was judged (known only
    /// from the resource's status): a run whose every request failed with
    /// fewer ready replicas than that lost its endpoints to readiness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ready_replicas: Option<u32>,
    /// What the load rules learned (only with `load:` in the evaluation
    /// config): the per-replica CPU levels at which the targets were met
    /// and missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learned_load: Option<LearnedLoad>,
    /// What the load rules learned of the Prometheus query (only with
    /// `load.prometheus`): the same levels in the query's unit, thousandths
    /// of it per serving replica (53000: 53 requests/s per replica), kept
    /// apart from the CPU's. An older state file without it loads as
    /// nothing learned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learned_query_load: Option<LearnedLoad>,
    /// When the serving replicas last changed (our answer, someone else's,
    /// a replica turning ready or unready), seconds since the Unix epoch;
    /// only with `load:`. A CPU sample whose window began before it
    /// teaches nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas_changed_unix_seconds: Option<u64>,
}

/// The learned capacity: per-replica CPU utilisation levels, in thousandths
/// of the CPU request (620: 0.62), each with when it was last set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LearnedLoad {
    /// The highest per-replica load at which every target was met,
    /// thousandths of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_up_to_milli: Option<u32>,
    /// When `metUpToMilli` was set, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_at_unix_seconds: Option<u64>,
    /// The lowest per-replica load at which a target was missed with no
    /// replica starting, thousandths of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed_at_milli: Option<u32>,
    /// When `missedAtMilli` was set, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed_at_unix_seconds: Option<u64>,
    /// A hash of the resource's `spec.template` the levels were learned on:
    /// another template (a new release) starts afresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_hash: Option<u64>,
    /// When the last CPU sample seen was taken (its `sampledAt`), seconds
    /// since the Unix epoch: the next run tells a new sample from the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_at_unix_seconds: Option<i64>,
    /// That sample's total load (per-pod utilisation times the pods
    /// measured), thousandths of one pod's request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_total_milli: Option<u32>,
    /// The total load of the sample before it, thousandths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_total_milli: Option<u32>,
    /// CPU only, with `load.prometheus` too: the query's total (with the
    /// probe's rate) in the run that first saw the sample, thousandths of
    /// a request/s. The query's total now over it says how the load moved
    /// since the sample's window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_total_at_sample_milli: Option<u32>,
}

/// The replicas our answers added, and when the last of them was added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddedReplicas {
    /// Replicas added by our answers since the first of them still within
    /// the start-up allowance.
    pub replicas: u32,
    /// When the last of them was added, seconds since the Unix epoch.
    pub at_unix_seconds: u64,
}

impl AddedReplicas {
    /// The replicas still young at `now_seconds`: all of them while the
    /// last was added within `allowance_seconds`, else none.
    pub fn young(self, now_seconds: u64, allowance_seconds: u64) -> u32 {
        // a time in the future (a clock stepped back) counts as just added
        let age = now_seconds.saturating_sub(self.at_unix_seconds);
        if age < allowance_seconds {
            self.replicas
        } else {
            0
        }
    }
}

impl DecayState {
    /// The replicas our answers added that are still young at
    /// `now_seconds` (0 when none).
    pub fn young_replicas(&self, now_seconds: u64, allowance_seconds: u64) -> u32 {
        self.added_replicas
            .map_or(0, |added| added.young(now_seconds, allowance_seconds))
    }

    /// The record after an answer of `target` at `current` replicas at
    /// `now_seconds`: an answer above the current count adds its
    /// difference to the young replicas (a fresh record once the older ones
    /// are past the allowance).
    pub fn added_after(
        &self,
        current: u32,
        target: u32,
        now_seconds: u64,
        allowance_seconds: u64,
    ) -> Option<AddedReplicas> {
        if target <= current {
            return self.added_replicas;
        }
        let young = self.young_replicas(now_seconds, allowance_seconds);
        Some(AddedReplicas {
            replicas: young.saturating_add(target - current),
            at_unix_seconds: now_seconds,
        })
    }
}

/// A missed latency target's figure in one run, with the ready replicas that
/// served it and when it was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastMiss {
    /// The target's index in the evaluation config's `targets` (0-based).
    pub target: u32,
    /// Its measured figure, milliseconds (rounded).
    pub ms: u32,
    /// Ready replicas during that run (`status.readyReplicas`).
    pub ready_replicas: u32,
    /// The middle of that run's load test, milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
}

/// For `skip_serializing_if`: a zero count is left out of the file.
fn is_zero(count: &u32) -> bool {
    *count == 0
}

/// The whole state file: the decay state and, beside its keys, the bases of
/// the active `addReplicas` alert boosts. Old files (without `boostBases`)
/// load with none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateDocument {
    #[serde(flatten)]
    state: DecayState,
    /// Per `addReplicas` alert rule with an active boost (by rule name;
    /// by boost id in files of earlier versions): the replica count seen at
    /// the first evaluation that applied it; the rule's floor is that plus
    /// N. Forgotten once the rule has no active boost.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    boost_bases: BTreeMap<String, u32>,
}

/// The state as loaded, with a warning when the file held garbage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedState {
    /// The state; fresh when the file was missing, empty or unparseable.
    pub state: DecayState,
    /// `boostBases`: per `addReplicas` alert rule with an active boost, the
    /// replica count its floor counts from; empty when fresh.
    pub boost_bases: BTreeMap<String, u32>,
    /// Why the file's content was discarded, if it was.
    pub warning: Option<String>,
}

/// The state file cannot be read, locked or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading the state file failed for a reason other than its absence.
    #[error(
        "cannot read decay state file '{path}': {error}; expected a readable file in an existing folder (set decayInfoFilePath or --state)"
    )]
    Read {
        /// The state path.
        path: PathBuf,
        /// The OS error (part of the message, so not a chained source).
        error: std::io::Error,
    },
    /// The folder meant to hold the state file does not exist.
    #[error(
        "cannot use decay state file '{path}': its folder '{folder}' does not exist or is not a folder; expected an existing, writable folder (set decayInfoFilePath or --state)"
    )]
    Folder {
        /// The state path.
        path: PathBuf,
        /// Its parent folder.
        folder: PathBuf,
    },
    /// The lock file cannot be created or locked.
    #[error(
        "cannot lock decay state file '{path}': {error}; expected a writable folder (set decayInfoFilePath or --state)"
    )]
    Lock {
        /// The lock file's path.
        path: PathBuf,
        /// The OS error (part of the message, so not a chained source).
        error: std::io::Error,
    },
    /// Another process held the lock for the whole wait.
    #[error(
        "cannot lock decay state file '{path}': another evaluation has held it for {waited_ms} ms; expected it to be released within lockTimeoutMs (is a gpa-evaluate process stuck? raise lockTimeoutMs or --lock-timeout-ms to wait longer)"
    )]
    LockTimeout {
        /// The lock file's path.
        path: PathBuf,
        /// How long this run waited, in milliseconds.
        waited_ms: u128,
    },
    /// The state file or its lock file is a symbolic link.
    #[error(
        "cannot use decay state file '{path}': it is a symbolic link; expected a regular file or none (links are not followed; set decayInfoFilePath or --state to the real path)"
    )]
    Symlink {
        /// The path that is a link.
        path: PathBuf,
    },
    /// Writing, syncing or renaming the new state failed.
    #[error(
        "cannot write decay state file '{path}': {error}; expected a writable folder (set decayInfoFilePath or --state)"
    )]
    Write {
        /// The state path.
        path: PathBuf,
        /// The OS error (part of the message, so not a chained source).
        error: std::io::Error,
    },
}

/// The decay state file at a path, with its lock file beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateFile {
    path: PathBuf,
}

/// Proof that the lock is held; dropping it releases the lock.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

impl StateFile {
    /// The state file at `path` (nothing is touched yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StateFile { path: path.into() }
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lock file's path: `<state>.lock`.
    pub fn lock_path(&self) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the exclusive lock, waiting at most `timeout` for another
    /// evaluation to release it. Creates the lock file when missing; it is
    /// never removed (removing it would let two processes lock two different
    /// files). A symbolic link at the lock path is an error.
    pub fn lock(&self, timeout: Duration) -> Result<StateLock, StateError> {
        let lock_path = self.lock_path();
        let lock_error = |error| StateError::Lock {
            path: lock_path.clone(),
            error,
        };
        let file = match OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .custom_flags(no_follow())
            .open(&lock_path)
        {
            Ok(file) => file,
            Err(err) if err.kind() == ErrorKind::NotFound => {
                self.check_folder()?;
                return Err(lock_error(err));
            }
            Err(err) if is_link(&err, &lock_path) => {
                return Err(StateError::Symlink { path: lock_path });
            }
            Err(err) => return Err(lock_error(err)),
        };
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(StateLock { _file: file }),
                Err(TryLockError::Error(err)) => return Err(lock_error(err)),
                Err(TryLockError::WouldBlock) if start.elapsed() >= timeout => {
                    return Err(StateError::LockTimeout {
                        path: lock_path,
                        waited_ms: start.elapsed().as_millis(),
                    });
                }
                Err(TryLockError::WouldBlock) => {
                    std::thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
            }
        }
    }

    /// Reads the state. Missing or empty: fresh state. Unparseable: fresh
    /// state and a warning (the next save overwrites it). Unreadable (a
    /// folder, no permission, no parent folder) or a symbolic link: an error.
    pub fn load(&self) -> Result<LoadedState, StateError> {
        let bytes = match self.read() {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == ErrorKind::NotFound => {
                self.check_folder()?;
                Vec::new()
            }
            Err(err) if is_link(&err, &self.path) => {
                return Err(StateError::Symlink {
                    path: self.path.clone(),
                });
            }
            Err(error) => {
                return Err(StateError::Read {
                    path: self.path.clone(),
                    error,
                });
            }
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(LoadedState {
                state: DecayState::default(),
                boost_bases: BTreeMap::new(),
                warning: None,
            });
        }
        match serde_json::from_slice::<StateDocument>(&bytes) {
            Ok(document) => Ok(LoadedState {
                state: document.state,
                boost_bases: document.boost_bases,
                warning: None,
            }),
            Err(err) => Ok(LoadedState {
                state: DecayState::default(),
                boost_bases: BTreeMap::new(),
                warning: Some(format!(
                    "decay state file '{}' is not valid state JSON ({err}); starting fresh",
                    self.path.display()
                )),
            }),
        }
    }

    /// The state file's bytes, not following a symbolic link.
    fn read(&self) -> std::io::Result<Vec<u8>> {
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(no_follow())
            .open(&self.path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// Replaces the state file atomically. Takes the lock as proof that it is
    /// held across the read-decide-write.
    pub fn save(&self, state: &DecayState, lock: &StateLock) -> Result<(), StateError> {
        self.save_with_boosts(state, &BTreeMap::new(), lock)
    }

    /// [`StateFile::save`] with the alert boosts' bases (`boostBases`).
    pub fn save_with_boosts(
        &self,
        state: &DecayState,
        boost_bases: &BTreeMap<String, u32>,
        _lock: &StateLock,
    ) -> Result<(), StateError> {
        let write_error = |error| StateError::Write {
            path: self.path.clone(),
            error,
        };
        let document = StateDocument {
            state: *state,
            boost_bases: boost_bases.clone(),
        };
        let mut json = serde_json::to_vec(&document).map_err(|err| write_error(err.into()))?;
        json.push(b'\n');
        replace_atomically(&self.path, &json).map_err(write_error)
    }

    fn folder(&self) -> &Path {
        folder_of(&self.path)
    }

    fn check_folder(&self) -> Result<(), StateError> {
        let folder = self.folder();
        if folder.is_dir() {
            Ok(())
        } else {
            Err(StateError::Folder {
                path: self.path.clone(),
                folder: folder.to_owned(),
            })
        }
    }
}

/// The folder holding `path` (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Replaces the file at `path` with `bytes` so that a reader, or a process
/// killed at any instant, sees either the old or the new file, never a mix:
/// a temporary `.<name>.*.tmp` file in the same folder is written and
/// fsynced, renamed over `path`, then the folder is fsynced.
pub(crate) fn replace_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = folder_of(path);
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(folder)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|err| err.error)?;
    crate::leftovers::remove(folder, &name);
    File::open(folder)?.sync_all()
}

/// `O_NOFOLLOW`: opening a symbolic link fails instead of following it.
fn no_follow() -> i32 {
    rustix::fs::OFlags::NOFOLLOW.bits() as i32
}

/// True when opening `path` with [`no_follow`] failed because it is a link.
fn is_link(err: &std::io::Error, path: &Path) -> bool {
    err.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
        || std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DecayState {
        DecayState {
            runs_since_change: 2,
            last_seen_replicas: Some(3),
            last_target_replicas: Some(4),
            last_scale_up_unix_seconds: Some(1_700_000_000),
            ..DecayState::default()
        }
    }

    #[test]
    fn a_missing_or_empty_file_is_a_fresh_state() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("decay_info.json"));
        assert_eq!(file.load().unwrap().state, DecayState::default());
        std::fs::write(file.path(), " \n").unwrap();
        let loaded = file.load().unwrap();
        assert_eq!(
            (loaded.state, loaded.warning),
            (DecayState::default(), None)
        );
    }

    #[test]
    fn boost_bases_are_kept_beside_the_decay_keys_and_old_files_have_none() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("decay_info.json"));
        let lock = file.lock(Duration::from_secs(5)).unwrap();
        let bases = BTreeMap::from([("abc/page".to_string(), 3)]);
        file.save_with_boosts(&sample(), &bases, &lock).unwrap();
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert!(
            text.ends_with(",\"boostBases\":{\"abc/page\":3}}\n"),
            "{text}"
        );
        let loaded = file.load().unwrap();
        assert_eq!((loaded.state, loaded.boost_bases), (sample(), bases));
        std::fs::write(file.path(), "{\"runs_since_change\": 2}").unwrap();
        let loaded = file.load().unwrap();
        assert_eq!(
            loaded.state.runs_since_change, 2,
            "the LPA's key still loads"
        );
        assert!(loaded.boost_bases.is_empty() && loaded.warning.is_none());
    }

    #[test]
    fn saves_and_loads_camel_case_json_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("decay_info.json"));
        let lock = file.lock(Duration::from_secs(5)).unwrap();
        file.save(&sample(), &lock).unwrap();
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert_eq!(
            text,
            "{\"runsSinceChange\":2,\"lastSeenReplicas\":3,\"lastTargetReplicas\":4,\"lastScaleUpUnixSeconds\":1700000000}\n"
        );
        assert_eq!(file.load().unwrap().state, sample());
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["decay_info.json", "decay_info.json.lock"]);
    }

    #[test]
    fn every_key_round_trips_and_older_files_still_load() {
        let full = DecayState {
            consecutive_failed_runs: 2,
            decayed_from_replicas: Some(5),
            runs_since_decay: 1,
            decay_floor_replicas: Some(4),
            decay_floor_runs_left: 7,
            decay_backoff_runs: 8,
            settling_replicas: Some(4),
            last_miss: Some(LastMiss {
                target: 0,
                ms: 986,
                ready_replicas: 3,
                at_unix_ms: 1_700_000_001_250,
            }),
            added_replicas: Some(AddedReplicas {
                replicas: 2,
                at_unix_seconds: 1_700_000_000,
            }),
            last_ready_replicas: Some(3),
            ..sample()
        };
        let text = serde_json::to_string(&full).unwrap();
        assert_eq!(
            text,
            "{\"runsSinceChange\":2,\"lastSeenReplicas\":3,\"lastTargetReplicas\":4,\"lastScaleUpUnixSeconds\":1700000000,\"consecutiveFailedRuns\":2,\"decayedFromReplicas\":5,\"runsSinceDecay\":1,\"decayFloorReplicas\":4,\"decayFloorRunsLeft\":7,\"decayBackoffRuns\":8,\"settlingReplicas\":4,\"lastMiss\":{\"target\":0,\"ms\":986,\"readyReplicas\":3,\"atUnixMs\":1700000001250},\"addedReplicas\":{\"replicas\":2,\"atUnixSeconds\":1700000000},\"lastReadyReplicas\":3}"
        );
        assert_eq!(serde_json::from_str::<DecayState>(&text).unwrap(), full);
        // both ways: a key this version does not know (one a later version
        // writes) is ignored, as the versions before this one ignore the
        // keys it added
        let later = text.replace("}}", "},\"aKeyFromLater\":{\"x\":1}}");
        assert_eq!(serde_json::from_str::<DecayState>(&later).unwrap(), full);
        let ours_before: DecayState = serde_json::from_str(
            "{\"runsSinceChange\":2,\"lastSeenReplicas\":3,\"lastTargetReplicas\":4,\"lastScaleUpUnixSeconds\":1700000000}",
        )
        .unwrap();
        assert_eq!(ours_before, sample());
        let lpa: DecayState = serde_json::from_str("{\"runs_since_change\": 2}").unwrap();
        assert_eq!(
            lpa,
            DecayState {
                runs_since_change: 2,
                ..DecayState::default()
            }
        );
    }

    #[test]
    fn added_replicas_are_young_within_the_allowance_and_add_up() {
        let state = DecayState {
            added_replicas: Some(AddedReplicas {
                replicas: 2,
                at_unix_seconds: 1000,
            }),
            ..DecayState::default()
        };
        assert_eq!(state.young_replicas(1119, 120), 2);
        assert_eq!(state.young_replicas(1120, 120), 0, "the allowance is over");
        assert_eq!(state.young_replicas(900, 120), 2, "a clock stepped back");
        let more = state.added_after(4, 6, 1060, 120).unwrap();
        assert_eq!((more.replicas, more.at_unix_seconds), (4, 1060));
        let fresh = state.added_after(4, 5, 1200, 120).unwrap();
        assert_eq!((fresh.replicas, fresh.at_unix_seconds), (1, 1200));
        assert_eq!(state.added_after(4, 3, 1060, 120), state.added_replicas);
    }

    #[test]
    fn a_shorter_state_after_a_longer_one_leaves_no_trailing_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("s.json"));
        let lock = file.lock(Duration::from_secs(5)).unwrap();
        file.save(&sample(), &lock).unwrap();
        file.save(&DecayState::default(), &lock).unwrap();
        assert_eq!(
            std::fs::read_to_string(file.path()).unwrap(),
            "{\"runsSinceChange\":0}\n"
        );
    }

    #[test]
    fn garbage_is_discarded_with_a_warning_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("s.json"));
        std::fs::write(file.path(), "{\"runsSinceChange\": 3}}garbage").unwrap();
        let loaded = file.load().unwrap();
        assert_eq!(loaded.state, DecayState::default());
        let warning = loaded.warning.unwrap();
        assert!(
            warning.contains("s.json' is not valid state JSON"),
            "{warning}"
        );
    }

    #[test]
    fn a_missing_folder_or_a_directory_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = StateFile::new(dir.path().join("nope/s.json"));
        let err = missing.load().unwrap_err().to_string();
        assert!(
            err.contains("nope/s.json") && err.contains("does not exist"),
            "{err}"
        );
        assert!(missing.lock(Duration::ZERO).is_err());
        let directory = StateFile::new(dir.path());
        let err = directory.load().unwrap_err().to_string();
        assert!(err.starts_with("cannot read decay state file"), "{err}");
    }

    #[test]
    fn a_held_lock_is_waited_for_a_bounded_time_then_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("s.json"));
        let held = file.lock(Duration::ZERO).unwrap();
        let err = file
            .lock(Duration::from_millis(50))
            .unwrap_err()
            .to_string();
        let lock_path = file.lock_path();
        assert!(
            err.starts_with(&format!(
                "cannot lock decay state file '{}': another evaluation has held it for ",
                lock_path.display()
            )),
            "{err}"
        );
        drop(held);
        assert!(file.lock(Duration::ZERO).is_ok());
    }

    #[test]
    fn symbolic_links_are_not_followed_for_the_lock_or_the_state() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("s.json"));
        let target = dir.path().join("elsewhere");
        std::os::unix::fs::symlink(&target, file.lock_path()).unwrap();
        let err = file.lock(Duration::ZERO).unwrap_err().to_string();
        assert!(err.contains("s.json.lock': it is a symbolic link"), "{err}");
        assert!(!target.exists(), "nothing is created at the link's target");

        std::fs::write(&target, "{\"runsSinceChange\": 3}").unwrap();
        std::os::unix::fs::symlink(&target, file.path()).unwrap();
        let err = file.load().unwrap_err().to_string();
        assert!(err.contains("s.json': it is a symbolic link"), "{err}");
    }
}
