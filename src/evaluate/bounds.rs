//! The replica bounds every answer stays in, and where they come from: the
//! evaluation config's `minReplicas`/`maxReplicas`, else the CPA's settings
//! (its `minReplicas`/`maxReplicas` variables, else its own config file),
//! else the CPA's defaults 1 and 10. Each bound remembers where it came from
//! only long enough to name it in an error.

use std::path::Path;

use serde::Deserialize;

use super::config::ConfigError;

/// The CPA's own default for `minReplicas`.
pub const DEFAULT_MIN_REPLICAS: u32 = 1;
/// The CPA's own default for `maxReplicas`.
pub const DEFAULT_MAX_REPLICAS: u32 = 10;

/// The replica range every answer stays in (`minReplicas`, `maxReplicas`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Lowest replica count answered (except 0 for "autoscaling disabled").
    pub min: u32,
    /// Highest replica count answered; at least `min`.
    pub max: u32,
}

impl Bounds {
    /// The bounds from the config's keys (`config_min`, `config_max`), else
    /// the CPA's settings (`cpa_min`, `cpa_max`), else the CPA's defaults.
    /// `path` names the evaluation config in errors.
    pub fn resolve(
        path: &Path,
        (config_min, config_max): (Option<u32>, Option<u32>),
        (cpa_min, cpa_max): (Option<u32>, Option<u32>),
    ) -> Result<Bounds, ConfigError> {
        let (min, min_from) = match (config_min, cpa_min) {
            (Some(value), _) => (value, "minReplicas"),
            (None, Some(value)) => (value, "minReplicas (CPA setting)"),
            (None, None) => (DEFAULT_MIN_REPLICAS, "minReplicas (default)"),
        };
        let (max, max_from) = match (config_max, cpa_max) {
            (Some(value), _) => (value, "maxReplicas"),
            (None, Some(value)) => (value, "maxReplicas (CPA setting)"),
            (None, None) => (DEFAULT_MAX_REPLICAS, "maxReplicas (default)"),
        };
        check(path, Some((min, min_from)), Some((max, max_from)))?;
        Ok(Bounds { min, max })
    }
}

/// Checks a maximum's range and a minimum against the maximum; each bound
/// comes with the name of where it came from, for the message.
pub(super) fn check(
    path: &Path,
    min: Option<(u32, &str)>,
    max: Option<(u32, &str)>,
) -> Result<(), ConfigError> {
    let invalid = |key: &str, problem: String| ConfigError::Invalid {
        path: path.to_owned(),
        key: key.to_owned(),
        problem,
    };
    if let Some((max, max_from)) = max {
        if max == 0 || max > i32::MAX as u32 {
            return Err(invalid(
                max_from,
                format!("'{max}' is out of range; expected 1 to {}", i32::MAX),
            ));
        }
        if let Some((min, min_from)) = min
            && min > max
        {
            return Err(invalid(
                min_from,
                format!("'{min}' is above {max_from} '{max}'; expected minReplicas <= maxReplicas"),
            ));
        }
    }
    Ok(())
}

/// The replica bounds in the CPA's own configuration file (`/config.yaml`,
/// or the path in the CPA's `configPath` variable). The CPA reads its bounds
/// from that file, overridden by the `minReplicas`/`maxReplicas` variables;
/// `gpa-evaluate` falls back to the file when those variables are unset, so
/// bounds baked into an image's config.yaml apply to us too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CpaFileBounds {
    /// The CPA's `minReplicas` key, if set.
    #[serde(default)]
    pub min_replicas: Option<u32>,
    /// The CPA's `maxReplicas` key, if set.
    #[serde(default)]
    pub max_replicas: Option<u32>,
}

impl CpaFileBounds {
    /// Where the CPA reads its configuration when `configPath` is unset.
    pub const DEFAULT_PATH: &'static str = "/config.yaml";

    /// Reads the bounds from the CPA's configuration file. The file is the
    /// CPA's, not ours: missing means no bounds, and one we cannot read or
    /// parse is reported as a warning (the CPA itself refuses a broken one).
    pub fn load(path: &Path) -> (Self, Option<String>) {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse_str(&text, path),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => (Self::default(), None),
            Err(err) => (
                Self::default(),
                Some(format!(
                    "cannot read CPA config '{}' ({err}); ignoring it",
                    path.display()
                )),
            ),
        }
    }

    /// The bounds in the CPA config text read from `path`, or none and a
    /// warning when it is not YAML with whole-number bounds.
    pub fn parse_str(text: &str, path: &Path) -> (Self, Option<String>) {
        match serde_saphyr::from_str(text) {
            Ok(bounds) => (bounds, None),
            Err(err) => (
                Self::default(),
                Some(format!(
                    "CPA config '{}' has no readable minReplicas/maxReplicas ({}); ignoring it",
                    path.display(),
                    err.to_string().lines().next().unwrap_or_default()
                )),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(config: (Option<u32>, Option<u32>), cpa: (Option<u32>, Option<u32>)) -> String {
        match Bounds::resolve(Path::new("c.yaml"), config, cpa) {
            Ok(bounds) => format!("{}..={}", bounds.min, bounds.max),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn bounds_come_from_the_config_then_the_cpa_settings_then_the_cpa_defaults() {
        assert_eq!(resolve((None, None), (None, None)), "1..=10");
        assert_eq!(resolve((None, None), (Some(0), Some(3))), "0..=3");
        assert_eq!(resolve((Some(2), Some(20)), (Some(5), Some(6))), "2..=20");
        assert_eq!(resolve((Some(2), None), (Some(5), Some(6))), "2..=6");
        assert_eq!(
            resolve((None, None), (Some(4), Some(3))),
            "invalid evaluation config 'c.yaml': minReplicas (CPA setting) '4' is above maxReplicas (CPA setting) '3'; expected minReplicas <= maxReplicas"
        );
        assert_eq!(
            resolve((Some(11), None), (None, None)),
            "invalid evaluation config 'c.yaml': minReplicas '11' is above maxReplicas (default) '10'; expected minReplicas <= maxReplicas"
        );
        assert_eq!(
            resolve((None, None), (None, Some(0))),
            "invalid evaluation config 'c.yaml': maxReplicas (CPA setting) '0' is out of range; expected 1 to 2147483647"
        );
    }

    #[test]
    fn the_cpa_config_file_gives_its_bounds_or_a_warning_never_an_error() {
        let path = Path::new("/config.yaml");
        let (bounds, warning) =
            CpaFileBounds::parse_str("interval: 15000\nminReplicas: 2\nmaxReplicas: 3\n", path);
        assert_eq!(
            (bounds.min_replicas, bounds.max_replicas, warning),
            (Some(2), Some(3), None)
        );
        let (bounds, warning) = CpaFileBounds::parse_str("maxReplicas: many\n", path);
        assert_eq!(bounds, CpaFileBounds::default());
        let warning = warning.unwrap();
        assert!(
            warning
                .starts_with("CPA config '/config.yaml' has no readable minReplicas/maxReplicas ("),
            "{warning}"
        );
        assert_eq!(
            CpaFileBounds::load(Path::new("/nonexistent/config.yaml")),
            (CpaFileBounds::default(), None)
        );
    }
}
