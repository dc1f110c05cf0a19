//! The evaluate stage's settings: its flags as clap parses them ([`Args`]),
//! and the values they resolve to ([`Settings`]), built once with the shared
//! rules of [`crate::settings`] (a flag, else its camelCase variable, else a
//! default; set but empty counts as unset). When the CPA's `minReplicas` or
//! `maxReplicas` variable is unset, the bound comes from the CPA's own config
//! file, as the CPA does it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

use super::bounds::CpaFileBounds;
use crate::settings::{Setting, SettingsError};

pub use crate::target::DEFAULT_CONFIG_PATH;

/// Where the decay state is kept when no setting names it (the Locust Pod
/// Autoscaler's default).
pub use crate::state::DEFAULT_STATE_PATH;

/// How long an evaluation waits for another one holding the state lock when
/// no setting says otherwise: well under the evaluate method's timeout.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_millis(1000);

// The settings' names live in the one table of every setting name.
pub use crate::setting_names::evaluate::{
    CONFIG, CPA_CONFIG, LOCK_TIMEOUT, MAX_REPLICAS, MIN_REPLICAS, NOW, STATE,
};

/// Compares a gpa-metric latency report with the evaluation config's targets
/// and prints the replica count the Custom Pod Autoscaler should scale to.
#[derive(Debug, Clone, Default, Parser)]
#[command(name = "gpa-evaluate", version)]
pub struct Args {
    /// Evaluation config (YAML or JSON): targets, decay, scale-up, bounds
    /// [default: /evaluation_config.yaml].
    #[arg(long = "config", env = "evaluationConfigFilePath", value_name = "PATH")]
    pub config: Option<OsString>,
    /// Decay state file, read and replaced on every run; a `<PATH>.lock`
    /// file beside it serialises runs [default: /decay_info.json].
    #[arg(long = "state", env = "decayInfoFilePath", value_name = "PATH")]
    pub state: Option<OsString>,
    /// Lowest replica count answered when the config has no `minReplicas`
    /// [default: the CPA config file's, else 1, as the CPA's].
    #[arg(long = "min-replicas", env = "minReplicas", value_name = "N")]
    pub min_replicas: Option<String>,
    /// Highest replica count answered when the config has no `maxReplicas`
    /// [default: the CPA config file's, else 10, as the CPA's].
    #[arg(long = "max-replicas", env = "maxReplicas", value_name = "N")]
    pub max_replicas: Option<String>,
    /// The CPA's own configuration file, read for its minReplicas and
    /// maxReplicas when those variables are unset (as the CPA does)
    /// [default: /config.yaml].
    #[arg(long = "cpa-config", env = "configPath", value_name = "PATH")]
    pub cpa_config: Option<OsString>,
    /// Milliseconds to wait for another evaluation holding the state lock
    /// before failing [default: 1000].
    #[arg(long = "lock-timeout-ms", env = "lockTimeoutMs", value_name = "MS")]
    pub lock_timeout_ms: Option<String>,
    /// The instant to evaluate at, RFC 3339 with an offset (e.g.
    /// 2026-03-30T08:00:00+02:00): which schedule window is open and which
    /// alert boosts are active; `gpa simulate` sets it per interval
    /// [default: the system clock].
    #[arg(long = "now", env = "gpaNow", value_name = "RFC3339")]
    pub now: Option<String>,
    /// Validate the evaluation config and the bounds, list the schedule
    /// windows' openings for the next 7 days, then exit.
    #[arg(long)]
    pub check: bool,
}

/// The evaluate stage's settings, resolved once from [`Args`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The evaluation config (`evaluationConfigFilePath`, `--config`).
    pub config_path: PathBuf,
    /// The decay state file (`decayInfoFilePath`, `--state`).
    pub state_path: PathBuf,
    /// The CPA's `minReplicas` (its variable, else its config file), used
    /// when the evaluation config has no `minReplicas`.
    pub min_replicas: Option<u32>,
    /// The CPA's `maxReplicas` (its variable, else its config file), used
    /// when the evaluation config has no `maxReplicas`.
    pub max_replicas: Option<u32>,
    /// How long to wait for the state lock (`lockTimeoutMs`, `--lock-timeout-ms`).
    pub lock_timeout: Duration,
    /// The instant to evaluate at (`gpaNow`, `--now`); `None`: the system
    /// clock.
    pub now: Option<jiff::Timestamp>,
    /// Problems met on the way that do not stop the stage (an unreadable CPA
    /// config file), for the caller to log.
    pub warnings: Vec<String>,
}

impl Settings {
    /// Settings with these paths and every other setting at its default.
    pub fn new(config_path: impl Into<PathBuf>, state_path: impl Into<PathBuf>) -> Self {
        Settings {
            config_path: config_path.into(),
            state_path: state_path.into(),
            min_replicas: None,
            max_replicas: None,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            now: None,
            warnings: Vec::new(),
        }
    }

    /// Resolves the parsed flags. `env` looks variables up (for aliases;
    /// clap has read the primary ones into `args`), and `cpa_file` reads the
    /// CPA config file's bounds ([`CpaFileBounds::load`]); it is called only
    /// when a bound's variable is unset.
    pub fn resolve(
        args: &Args,
        env: &impl Fn(&str) -> Option<String>,
        cpa_file: impl FnOnce(&Path) -> (CpaFileBounds, Option<String>),
    ) -> Result<Self, SettingsError> {
        let mut settings = Settings::new(
            path(CONFIG, args.config.as_ref(), env, DEFAULT_CONFIG_PATH),
            path(STATE, args.state.as_ref(), env, DEFAULT_STATE_PATH),
        );
        settings.min_replicas = replica_count(MIN_REPLICAS, args.min_replicas.as_deref(), env)?;
        settings.max_replicas = replica_count(MAX_REPLICAS, args.max_replicas.as_deref(), env)?;
        if let Some(given) = LOCK_TIMEOUT.lookup(args.lock_timeout_ms.as_deref(), env) {
            let ms: u64 = given.parse(
                |_| true,
                "not a number of milliseconds",
                "a whole number of milliseconds, e.g. 1000",
            )?;
            settings.lock_timeout = Duration::from_millis(ms);
        }
        if let Some(given) = NOW.lookup(args.now.as_deref(), env) {
            settings.now = Some(given.parse(
                |_| true,
                "not an instant",
                "an RFC 3339 time with an offset, e.g. 2026-03-30T08:00:00+02:00",
            )?);
        }
        if settings.min_replicas.is_none() || settings.max_replicas.is_none() {
            let cpa_path = path(
                CPA_CONFIG,
                args.cpa_config.as_ref(),
                env,
                CpaFileBounds::DEFAULT_PATH,
            );
            let (file, warning) = cpa_file(&cpa_path);
            settings.min_replicas = settings.min_replicas.or(file.min_replicas);
            settings.max_replicas = settings.max_replicas.or(file.max_replicas);
            settings.warnings.extend(warning);
        }
        Ok(settings)
    }
}

/// A path setting, else `default`; a path that is not UTF-8 is taken as it is.
fn path(
    setting: Setting,
    given: Option<&OsString>,
    env: &impl Fn(&str) -> Option<String>,
    default: &str,
) -> PathBuf {
    if let Some(raw) = given.filter(|value| value.to_str().is_none()) {
        return PathBuf::from(raw);
    }
    setting
        .lookup(given.and_then(|value| value.to_str()), env)
        .map_or_else(
            || PathBuf::from(default),
            |given| PathBuf::from(given.value),
        )
}

/// A replica-count setting, if given.
fn replica_count(
    setting: Setting,
    given: Option<&str>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<u32>, SettingsError> {
    let Some(given) = setting.lookup(given, env) else {
        return Ok(None);
    };
    given
        .parse(
            |_| true,
            "not a replica count",
            &format!("a whole number from 0 to {}", u32::MAX),
        )
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn file(min: Option<u32>, max: Option<u32>) -> (CpaFileBounds, Option<String>) {
        let bounds = CpaFileBounds {
            min_replicas: min,
            max_replicas: max,
        };
        (bounds, None)
    }

    fn args(pairs: &[(&str, &str)]) -> Args {
        let mut argv = vec!["gpa-evaluate".to_string()];
        for (flag, value) in pairs {
            argv.push(format!("--{flag}={value}"));
        }
        Args::try_parse_from(argv).unwrap()
    }

    #[test]
    fn unset_or_empty_settings_take_the_lpa_and_cpa_defaults() {
        for given in [
            args(&[]),
            args(&[
                ("config", ""),
                ("state", " "),
                ("min-replicas", ""),
                ("max-replicas", "\t"),
            ]),
        ] {
            let settings = Settings::resolve(&given, &no_env, |_| file(None, None)).unwrap();
            assert_eq!(
                settings,
                Settings::new(DEFAULT_CONFIG_PATH, DEFAULT_STATE_PATH)
            );
        }
    }

    #[test]
    fn given_settings_are_used_and_the_cpa_file_fills_only_unset_bounds() {
        let given = args(&[
            ("config", "/etc/gpa/c.yaml"),
            ("state", "/var/gpa/s.json"),
            ("max-replicas", " 8 "),
            ("cpa-config", "/etc/cpa.yaml"),
            ("lock-timeout-ms", "250"),
        ]);
        let mut asked = None;
        let settings = Settings::resolve(&given, &no_env, |path| {
            asked = Some(path.to_owned());
            (
                CpaFileBounds {
                    min_replicas: Some(2),
                    max_replicas: Some(3),
                },
                Some("w".into()),
            )
        })
        .unwrap();
        assert_eq!(asked.as_deref(), Some(Path::new("/etc/cpa.yaml")));
        assert_eq!(settings.config_path, Path::new("/etc/gpa/c.yaml"));
        assert_eq!(settings.state_path, Path::new("/var/gpa/s.json"));
        assert_eq!(
            (settings.min_replicas, settings.max_replicas),
            (Some(2), Some(8))
        );
        assert_eq!(settings.lock_timeout, Duration::from_millis(250));
        assert_eq!(settings.warnings, ["w"]);
    }

    #[test]
    fn the_cpa_file_is_not_read_when_both_bounds_are_given() {
        let given = args(&[("min-replicas", "0"), ("max-replicas", "4")]);
        let settings = Settings::resolve(&given, &no_env, |_| panic!("read the CPA file")).unwrap();
        assert_eq!(
            (settings.min_replicas, settings.max_replicas),
            (Some(0), Some(4))
        );
    }

    #[test]
    fn a_bad_value_names_the_setting_and_the_expectation() {
        let cases = [
            (
                ("max-replicas", "ten"),
                "setting maxReplicas (--max-replicas) 'ten': not a replica count; expected a whole number from 0 to 4294967295",
            ),
            (
                ("min-replicas", "-1"),
                "setting minReplicas (--min-replicas) '-1': not a replica count",
            ),
            (
                ("now", "2026-03-30 08:00"),
                "setting gpaNow (--now) '2026-03-30 08:00': not an instant; expected an RFC 3339 time with an offset",
            ),
            (
                ("lock-timeout-ms", "1s"),
                "setting lockTimeoutMs (--lock-timeout-ms) '1s': not a number of milliseconds; expected a whole number of milliseconds",
            ),
        ];
        for (pair, want) in cases {
            let err = Settings::resolve(&args(&[pair]), &no_env, |_| file(None, None)).unwrap_err();
            assert!(
                err.to_string().starts_with(want),
                "\n got: {err}\nwant: {want}"
            );
        }
    }

    #[test]
    fn the_evaluation_instant_is_the_clock_unless_gpa_now_names_one() {
        let settings = Settings::resolve(&args(&[]), &no_env, |_| file(None, None)).unwrap();
        assert_eq!(settings.now, None);
        let given = args(&[("now", "2026-03-29T00:59:00+01:00")]);
        let settings = Settings::resolve(&given, &no_env, |_| file(None, None)).unwrap();
        assert_eq!(settings.now, Some("2026-03-28T23:59:00Z".parse().unwrap()));
    }
}
