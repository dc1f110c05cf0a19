//! Alert boosts: temporary raises of the replica floor, and the file that
//! carries them from `gpa alerts` (which writes it when Alertmanager reports
//! a firing or resolved alert) to the evaluate stage (which reads it on every
//! run and applies the boosts active at that instant).
//!
//! The file is JSON (camelCase) on a volume both containers share, replaced
//! whole on every write exactly as the decay state is ([`crate::state`]): a
//! reader sees either the old or the new file, never half of one. A missing
//! file means no boost: the sidecar has not written one yet.
//!
//! Bounded: the sidecar records at most [`MAX_BOOSTS`] boosts, a file over
//! [`MAX_FILE_BYTES`] is not read, and every name a boost carries comes back
//! from [`BoostsFile::load`] escaped and shortened to [`MAX_NAME_CHARS`]
//! ([`crate::escape::one_line`]), so it always fits one decision line. A
//! file that is not a boosts document is moved aside by
//! [`BoostsFile::load_or_move_aside`], the sidecar's load.

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::escape::one_line;
use crate::state::replace_atomically;

/// Most boosts the file holds: a firing alert that would record one more is
/// not recorded (and its notification says so).
pub const MAX_BOOSTS: usize = 1000;

/// Longest name a boost carries (its `alert`, `rule` and `id`), in
/// characters once escaped; longer ones are cut and end with `…`.
pub const MAX_NAME_CHARS: usize = 128;

/// Largest boosts file read, in bytes. [`MAX_BOOSTS`] boosts with names of
/// [`MAX_NAME_CHARS`] take well under 1 MiB.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Everything in the boosts file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BoostsFile {
    /// The boosts recorded, active or expired (expired ones are pruned on the
    /// next write).
    pub boosts: Vec<Boost>,
}

/// One alert's raise of the replica floor, for a limited time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Boost {
    /// Identity of the boost: the alert's Alertmanager fingerprint and the
    /// matching rule's name, `<fingerprint>/<rule>`. A resolved alert ends
    /// the boosts with its fingerprint.
    pub id: String,
    /// Name of the `gpa alerts` rule that matched, named in decision lines.
    pub rule: String,
    /// The alert's `alertname` label, named in decision lines: escaped and
    /// shortened to [`MAX_NAME_CHARS`] ([`crate::escape::one_line`]).
    pub alert: String,
    /// While active, answer at least this many replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<u32>,
    /// While active, answer at least the replica count seen at the first
    /// evaluation that applied this boost, plus this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_replicas: Option<u32>,
    /// When the alert started firing (Alertmanager's `startsAt`), RFC 3339.
    pub starts_at: Timestamp,
    /// When the boost ends unless the alert is reported firing again, RFC
    /// 3339: the last firing notification's time plus the rule's hold.
    pub expires_at: Timestamp,
}

impl Boost {
    /// True when the boost applies at `now`: started and not yet expired.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.starts_at <= now && now < self.expires_at
    }
}

/// Why the boosts file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BoostsError {
    /// The file exists but could not be read.
    #[error("cannot read boosts file '{}': {error}", path.display())]
    Read {
        /// The boosts file.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The file is not a boosts document.
    #[error("boosts file '{}' is not a boosts document: {error}", path.display())]
    Parse {
        /// The boosts file.
        path: PathBuf,
        /// Where and what (line, column, key).
        error: serde_json::Error,
    },
    /// The file is larger than any boosts file `gpa alerts` writes.
    #[error(
        "boosts file '{}' is larger than {MAX_FILE_BYTES} bytes; expected a file written by gpa alerts, which holds at most {MAX_BOOSTS} boosts",
        path.display()
    )]
    TooLarge {
        /// The boosts file.
        path: PathBuf,
    },
    /// A file that is not a boosts document could not be moved aside.
    #[error("{reason}; cannot move it aside to '{}': {error}", to.display())]
    MoveAside {
        /// Why it had to be moved (the parse or size error).
        reason: String,
        /// Where it was to go.
        to: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The new file could not be written, synced or renamed into place.
    #[error("cannot write boosts file '{}': {error}", path.display())]
    Write {
        /// The boosts file.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
}

impl BoostsFile {
    /// Reads the boosts file at `path`. Missing or empty: no boosts. A file
    /// that is not a boosts document, or is larger than [`MAX_FILE_BYTES`],
    /// is an error (writes are atomic, so it was not written by
    /// `gpa alerts`). Every boost's `id`, `rule` and `alert` come back
    /// escaped and shortened to [`MAX_NAME_CHARS`].
    pub fn load(path: &Path) -> Result<BoostsFile, BoostsError> {
        let read_error = |error| BoostsError::Read {
            path: path.to_owned(),
            error,
        };
        let mut bytes = Vec::new();
        match std::fs::File::open(path) {
            Ok(file) => file
                .take(MAX_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(read_error)?,
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(BoostsFile::default()),
            Err(error) => return Err(read_error(error)),
        };
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(BoostsError::TooLarge {
                path: path.to_owned(),
            });
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(BoostsFile::default());
        }
        let mut file: BoostsFile =
            serde_json::from_slice(&bytes).map_err(|error| BoostsError::Parse {
                path: path.to_owned(),
                error,
            })?;
        for boost in &mut file.boosts {
            for name in [&mut boost.id, &mut boost.rule, &mut boost.alert] {
                *name = one_line(name, MAX_NAME_CHARS);
            }
        }
        Ok(file)
    }

    /// [`BoostsFile::load`] for the sidecar, which owns the file: a file that
    /// is not a boosts document (or is too large) is renamed to
    /// `<file>.corrupt-<unix seconds>` beside it, and the load starts with no
    /// boost. Returns the boosts and, when a file was moved, the warning
    /// naming where it went.
    pub fn load_or_move_aside(
        path: &Path,
        now: Timestamp,
    ) -> Result<(BoostsFile, Option<String>), BoostsError> {
        let reason = match BoostsFile::load(path) {
            Ok(file) => return Ok((file, None)),
            Err(err @ (BoostsError::Parse { .. } | BoostsError::TooLarge { .. })) => {
                err.to_string()
            }
            Err(err) => return Err(err),
        };
        let to = aside(path, now);
        std::fs::rename(path, &to).map_err(|error| BoostsError::MoveAside {
            reason: reason.clone(),
            to: to.clone(),
            error,
        })?;
        let warning = format!(
            "{reason}; moved it to '{}' and starting with no boost (alerts still firing record theirs again at their next notification)",
            to.display()
        );
        Ok((BoostsFile::default(), Some(warning)))
    }

    /// Replaces the file at `path` atomically: a temporary file in the same
    /// folder is written and fsynced, renamed over `path`, then the folder is
    /// fsynced. Callers serialize their writes (one `gpa alerts` process).
    pub fn save(&self, path: &Path) -> Result<(), BoostsError> {
        let write_error = |error| BoostsError::Write {
            path: path.to_owned(),
            error,
        };
        let mut json = serde_json::to_vec_pretty(self).map_err(|err| write_error(err.into()))?;
        json.push(b'\n');
        replace_atomically(path, &json).map_err(write_error)
    }

    /// The boosts that apply at `now`.
    pub fn active(&self, now: Timestamp) -> impl Iterator<Item = &Boost> {
        self.boosts.iter().filter(move |boost| boost.is_active(now))
    }
}

/// A free name beside `path` for a file moved aside at `now`:
/// `<file>.corrupt-<unix seconds>`, with `-2`, `-3`, ... when taken.
fn aside(path: &Path, now: Timestamp) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".corrupt-{}", now.as_second()));
    let first = PathBuf::from(name);
    let mut candidate = first.clone();
    let mut n = 1;
    while candidate.symlink_metadata().is_ok() {
        n += 1;
        let mut name = first.clone().into_os_string();
        name.push(format!("-{n}"));
        candidate = PathBuf::from(name);
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn boost(id: &str, starts: &str, expires: &str) -> Boost {
        Boost {
            id: id.into(),
            rule: "latency-page".into(),
            alert: "HighLatency".into(),
            min_replicas: Some(6),
            add_replicas: None,
            starts_at: at(starts),
            expires_at: at(expires),
        }
    }

    #[test]
    fn a_missing_or_empty_file_holds_no_boost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("boosts.json");
        assert_eq!(BoostsFile::load(&path).unwrap(), BoostsFile::default());
        std::fs::write(&path, "\n").unwrap();
        assert_eq!(BoostsFile::load(&path).unwrap(), BoostsFile::default());
    }

    #[test]
    fn saves_camel_case_rfc3339_and_loads_it_back_leaving_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("boosts.json");
        let file = BoostsFile {
            boosts: vec![boost(
                "3f2a/latency-page",
                "2026-11-22T19:00:00Z",
                "2026-11-22T19:30:00Z",
            )],
        };
        file.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"minReplicas\": 6"), "{text}");
        assert!(
            text.contains("\"expiresAt\": \"2026-11-22T19:30:00Z\""),
            "{text}"
        );
        assert!(!text.contains("addReplicas"), "{text}");
        assert_eq!(BoostsFile::load(&path).unwrap(), file);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only boosts.json remains: {names:?}");
    }

    #[test]
    fn a_boost_is_active_from_its_start_until_just_before_it_expires() {
        let file = BoostsFile {
            boosts: vec![
                boost("a/r", "2026-11-22T19:00:00Z", "2026-11-22T19:30:00Z"),
                boost("b/r", "2026-11-22T19:20:00Z", "2026-11-22T20:00:00Z"),
            ],
        };
        let ids =
            |now: &str| -> Vec<String> { file.active(at(now)).map(|b| b.id.clone()).collect() };
        assert_eq!(ids("2026-11-22T18:59:59Z"), Vec::<String>::new());
        assert_eq!(ids("2026-11-22T19:00:00Z"), ["a/r"]);
        assert_eq!(ids("2026-11-22T19:25:00Z"), ["a/r", "b/r"]);
        assert_eq!(ids("2026-11-22T19:30:00Z"), ["b/r"]);
        assert_eq!(ids("2026-11-22T20:00:00Z"), Vec::<String>::new());
    }

    #[test]
    fn a_file_that_is_not_a_boosts_document_is_an_error_naming_it_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("boosts.json");
        std::fs::write(&path, r#"{"boosts":[{"id":"a"}]}"#).unwrap();
        let err = BoostsFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("boosts.json"), "{err}");
        assert!(err.contains("rule"), "names the missing key: {err}");
        std::fs::write(&path, r#"{"boosts":[],"extra":1}"#).unwrap();
        let err = BoostsFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("extra"), "{err}");
    }

    #[test]
    fn a_folder_that_does_not_exist_is_a_write_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("boosts.json");
        let err = BoostsFile::default().save(&path).unwrap_err().to_string();
        assert!(err.starts_with("cannot write boosts file"), "{err}");
        assert!(err.contains("missing/boosts.json"), "{err}");
    }

    #[test]
    fn names_come_back_escaped_and_shortened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("boosts.json");
        let mut raw = boost("a/r", "2026-11-22T19:00:00Z", "2026-11-22T19:30:00Z");
        raw.alert = format!("x\n ERROR forged{}", "y".repeat(10_000));
        raw.rule = "rule\r".into();
        std::fs::write(
            &path,
            serde_json::to_string(&BoostsFile { boosts: vec![raw] }).unwrap(),
        )
        .unwrap();
        let loaded = BoostsFile::load(&path).unwrap();
        let boost = &loaded.boosts[0];
        assert!(
            boost.alert.starts_with("x\\n ERROR forgedyyy"),
            "{}",
            boost.alert
        );
        assert_eq!(boost.alert.chars().count(), MAX_NAME_CHARS);
        assert_eq!(boost.rule, "rule\\r");
        assert_eq!(boost.id, "a/r");
    }

    #[test]
    fn a_file_over_the_size_cap_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("boosts.json");
        let padding = " ".repeat(MAX_FILE_BYTES as usize);
        std::fs::write(&path, format!("{{\"boosts\":[]}}{padding}")).unwrap();
        let err = BoostsFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("is larger than 4194304 bytes"), "{err}");
    }

    #[test]
    fn a_corrupt_file_is_moved_aside_and_the_load_starts_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("boosts.json");
        let now = at("2026-11-22T20:00:00Z");
        std::fs::write(&path, "{not json").unwrap();
        let taken = format!("boosts.json.corrupt-{}", now.as_second());
        std::fs::write(dir.path().join(&taken), "older").unwrap();
        let (file, warning) = BoostsFile::load_or_move_aside(&path, now).unwrap();
        assert_eq!(file, BoostsFile::default());
        let warning = warning.unwrap();
        let aside = dir.path().join(format!("{taken}-2"));
        assert!(
            warning.contains(&format!(
                "moved it to '{}' and starting with no boost",
                aside.display()
            )),
            "{warning}"
        );
        assert_eq!(std::fs::read_to_string(&aside).unwrap(), "{not json");
        assert!(!path.exists());
        // a good file, or none, is loaded as it is
        let (_, warning) = BoostsFile::load_or_move_aside(&path, now).unwrap();
        assert_eq!(warning, None);
    }
}
