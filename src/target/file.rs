//! The evaluation config file as far as its targets go: where it is by
//! default, how it fails to load, and the targets' checks. The evaluate
//! stage loads the whole file; the metric stage reads its targets and the
//! start-up allowance, to stop a load test early.

use std::path::{Path, PathBuf};

use super::Target;
use crate::yaml::{FileError, YamlError};

/// Where the evaluation config is read when no setting names it (the Locust
/// Pod Autoscaler's default).
pub const DEFAULT_CONFIG_PATH: &str = "/evaluation_config.yaml";

/// A config that cannot be read, parsed or accepted.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error(
        "cannot read evaluation config '{path}': {error}; expected a readable YAML file (set evaluationConfigFilePath or --config)"
    )]
    Read {
        /// The config path.
        path: PathBuf,
        /// The OS error (part of the message, so not a chained source).
        error: std::io::Error,
    },
    /// Not YAML, an unknown key, a wrong type or an unknown target type.
    #[error("invalid evaluation config '{path}' at line {line} column {column}: {message}")]
    Parse {
        /// The config path.
        path: PathBuf,
        /// 1-based line of the fault (0 when unknown).
        line: u64,
        /// 1-based column of the fault (0 when unknown).
        column: u64,
        /// The parser's message, on one line.
        message: String,
    },
    /// Parsed, but a value is out of range or keys contradict each other.
    #[error("invalid evaluation config '{path}': {key} {problem}")]
    Invalid {
        /// The config path.
        path: PathBuf,
        /// Key path at fault, e.g. `targets[1].target`.
        key: String,
        /// What is wrong with it and what was expected.
        problem: String,
    },
}

/// Checks `targets` as the evaluation config at `path` names them: at least
/// one, each valid; the first fault is the error.
pub fn check_targets(targets: &[Target], path: &Path) -> Result<(), ConfigError> {
    let invalid = |key: String, problem: String| ConfigError::Invalid {
        path: path.to_owned(),
        key,
        problem,
    };
    if targets.is_empty() {
        return Err(invalid(
            "targets".into(),
            "is empty; expected at least one target".into(),
        ));
    }
    for (index, target) in targets.iter().enumerate() {
        if let Some((field, problem)) = target.problem() {
            let key = match field {
                "" => format!("targets[{index}]"),
                field => format!("targets[{index}].{field}"),
            };
            return Err(invalid(key, problem));
        }
    }
    Ok(())
}

impl ConfigError {
    /// The evaluation config at `path` did not load as YAML.
    pub fn from_file(path: &Path, error: FileError) -> Self {
        let path = path.to_owned();
        match error {
            FileError::Read(error) => ConfigError::Read { path, error },
            FileError::Parse(YamlError {
                line,
                column,
                message,
            }) => ConfigError::Parse {
                path,
                line: line.unwrap_or(0),
                column: column.unwrap_or(0),
                message,
            },
        }
    }
}
