//! What the metric stage reads of the evaluation config: the targets early
//! stop watches and the start-up allowance that says which unready replicas
//! are starting. The file's other keys are the evaluate stage's; they are
//! not read here, and the evaluate stage checks them.

use std::path::Path;

use serde::Deserialize;

use crate::cpa::DEFAULT_STARTUP_ALLOWANCE_SECONDS;
use crate::target::{ConfigError, Target, check_targets};
use crate::yaml::{self, FileError};

/// The evaluation config's keys the metric stage reads, checked.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchedConfig {
    /// Every target of the evaluation config, checked as the evaluate stage
    /// checks them.
    pub targets: Vec<Target>,
    /// How long replicas our answers added may take to get ready, seconds
    /// (the evaluate stage's `startupAllowanceSeconds`).
    #[serde(default = "default_startup_allowance_seconds")]
    pub startup_allowance_seconds: u64,
}

fn default_startup_allowance_seconds() -> u64 {
    DEFAULT_STARTUP_ALLOWANCE_SECONDS
}

impl WatchedConfig {
    /// Reads the evaluation config at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let config: WatchedConfig =
            yaml::load_file(path).map_err(|error| ConfigError::from_file(path, error))?;
        check_targets(&config.targets, path)?;
        Ok(config)
    }

    /// Parses evaluation config `text`; `path` names it in errors.
    pub fn parse_str(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: WatchedConfig = yaml::parse_str(text)
            .map_err(|error| ConfigError::from_file(path, FileError::Parse(error)))?;
        check_targets(&config.targets, path)?;
        Ok(config)
    }
}
