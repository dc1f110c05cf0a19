//! The `gpa alerts` config file: the rules that turn an alert into a boost,
//! where the boosts file lives, the CPA's evaluation URL, the listen address
//! and where the bearer token comes from. Read from YAML with `serde-saphyr`,
//! validated once; the server trusts it.
//!
//! ```yaml
//! boostsFile: /var/run/gpa/boosts.json
//! tokenFile: /var/run/secrets/gpa-alerts/token
//! rules:
//!   - name: latency-page
//!     matchers: {alertname: FibonacciLatencyHigh}
//!     minReplicas: 4
//!     holdMinutes: 30
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::yaml::{self, FileError, YamlError};

/// Where the server listens unless `listenAddress` says otherwise.
pub const DEFAULT_LISTEN_ADDRESS: &str = "0.0.0.0:9095";

/// The CPA's evaluation endpoint as seen from a second container of its pod
/// (containers of a pod share `localhost`; the CPA's API is on port 5000).
pub const DEFAULT_EVALUATION_URL: &str = "http://localhost:5000/api/v1/evaluation";

/// Environment variable holding the bearer token when the config has no
/// `tokenFile`.
pub const TOKEN_ENV: &str = "alertsToken";

/// Longest hold accepted, in minutes (7 days): a boost is a temporary raise.
pub const MAX_HOLD_MINUTES: u32 = 7 * 24 * 60;

/// A token shorter than this many characters starts the server with a
/// warning: it can be guessed.
pub const MIN_TOKEN_CHARS: usize = 16;

/// Longest rule name accepted, in characters.
pub const MAX_RULE_NAME_CHARS: usize = 63;

/// The whole `gpa alerts` config file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertsConfig {
    /// The boosts file on the volume shared with the CPA's container; the
    /// evaluation config's `boostsFile` names the same path.
    pub boosts_file: PathBuf,
    /// Which alerts raise the floor, and how. At least one.
    pub rules: Vec<Rule>,
    /// The URL to `POST` for an evaluation at once, after a boost is
    /// recorded. Default [`DEFAULT_EVALUATION_URL`].
    #[serde(default = "default_evaluation_url")]
    pub evaluation_url: String,
    /// Address and port to listen on. Default [`DEFAULT_LISTEN_ADDRESS`].
    #[serde(default = "default_listen_address")]
    pub listen_address: SocketAddr,
    /// File holding the bearer token Alertmanager sends (a mounted Secret).
    /// Without it, the token is read from the [`TOKEN_ENV`] variable.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// The evaluation status file the evaluate stage writes on the shared
    /// volume (its config's `statusFile`), exported on `/metrics`. Without
    /// it, `/metrics` has the sidecar's own metrics only.
    #[serde(default)]
    pub status_file: Option<PathBuf>,
}

/// One rule: alerts whose labels match get a boost.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// The rule's name, unique in the file; part of the boost's id and named
    /// in decision lines.
    pub name: String,
    /// Label name → exact value; an alert matches when it has every one of
    /// these labels with exactly that value. At least one.
    pub matchers: BTreeMap<String, String>,
    /// While boosted, answer at least this many replicas.
    #[serde(default)]
    pub min_replicas: Option<u32>,
    /// While boosted, answer at least the replica count at the first
    /// evaluation that applied the boost, plus this many.
    #[serde(default)]
    pub add_replicas: Option<u32>,
    /// Minutes a boost lasts after the last firing notification of its alert,
    /// unless the alert is resolved first.
    pub hold_minutes: u32,
}

impl Rule {
    /// True when `labels` carry every matcher's label with its exact value.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matchers
            .iter()
            .all(|(name, value)| labels.get(name) == Some(value))
    }
}

fn default_evaluation_url() -> String {
    DEFAULT_EVALUATION_URL.to_owned()
}

fn default_listen_address() -> SocketAddr {
    DEFAULT_LISTEN_ADDRESS
        .parse()
        .expect("a valid socket address")
}

/// Why the config or the token could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file cannot be read.
    #[error(
        "cannot read alerts config '{}': {error}; expected a readable YAML file (set alertsConfigFilePath or --config)",
        path.display()
    )]
    Read {
        /// The config path.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// The file is not YAML of the expected shape.
    #[error("invalid alerts config '{}' at line {line} column {column}: {message}", path.display())]
    Parse {
        /// The config path.
        path: PathBuf,
        /// 1-based line of the fault (0 when unknown).
        line: u64,
        /// 1-based column of the fault (0 when unknown).
        column: u64,
        /// The parser's message, one line.
        message: String,
    },
    /// A value is out of range or two values disagree.
    #[error("invalid alerts config '{}': {key} {problem}", path.display())]
    Invalid {
        /// The config path.
        path: PathBuf,
        /// Key path at fault, e.g. `rules[1].holdMinutes`.
        key: String,
        /// What is wrong with it and what was expected.
        problem: String,
    },
    /// The bearer token cannot be read or is empty.
    #[error("{0}")]
    Token(String),
}

impl ConfigError {
    /// The alerts config at `path` did not load as YAML.
    fn from_file(path: &Path, error: FileError) -> Self {
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

impl AlertsConfig {
    /// Reads and validates the config file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let parsed: AlertsConfig =
            yaml::load_file(path).map_err(|error| ConfigError::from_file(path, error))?;
        parsed.checked(path)
    }

    /// Parses and validates `text`; `path` names the file in errors.
    pub fn parse_str(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: AlertsConfig = yaml::parse_str(text)
            .map_err(|error| ConfigError::from_file(path, FileError::Parse(error)))?;
        config.checked(path)
    }

    /// `self` as parsed from `path`, checked.
    fn checked(self, path: &Path) -> Result<Self, ConfigError> {
        match self.problem() {
            Some((key, problem)) => Err(ConfigError::Invalid {
                path: path.to_owned(),
                key,
                problem,
            }),
            None => Ok(self),
        }
    }

    /// The first thing wrong with the config, as (key path, problem).
    fn problem(&self) -> Option<(String, String)> {
        if self.boosts_file.as_os_str().is_empty() {
            return Some((
                "boostsFile".into(),
                "is empty; expected the boosts file's path on the shared volume".into(),
            ));
        }
        if !(self.evaluation_url.starts_with("http://")
            || self.evaluation_url.starts_with("https://"))
        {
            return Some((
                "evaluationUrl".into(),
                format!(
                    "'{}' is not an http(s) URL; expected e.g. {DEFAULT_EVALUATION_URL}",
                    self.evaluation_url
                ),
            ));
        }
        if self.rules.is_empty() {
            return Some((
                "rules".into(),
                "is empty; expected at least one rule".into(),
            ));
        }
        for (index, rule) in self.rules.iter().enumerate() {
            if let Some((key, problem)) = rule.problem() {
                return Some((format!("rules[{index}].{key}"), problem));
            }
            if self.rules[..index].iter().any(|r| r.name == rule.name) {
                return Some((
                    format!("rules[{index}].name"),
                    format!("'{}' is given twice; expected unique rule names", rule.name),
                ));
            }
        }
        None
    }

    /// The bearer token: the content of `tokenFile`, else the [`TOKEN_ENV`]
    /// variable as `env` returns it. Surrounding whitespace (a Secret's
    /// trailing newline) is dropped. An empty token is an error, and so is
    /// one that cannot travel in an `Authorization` header: anything but
    /// visible ASCII (`!` to `~`), a space or a newline inside included.
    pub fn token(&self, env: impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
        let (token, source) = match &self.token_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|err| {
                    ConfigError::Token(format!(
                        "cannot read tokenFile '{}': {err}; expected a file holding the bearer token",
                        path.display()
                    ))
                })?;
                (text, format!("tokenFile '{}'", path.display()))
            }
            None => match env(TOKEN_ENV) {
                Some(value) => (value, format!("environment variable {TOKEN_ENV}")),
                None => {
                    return Err(ConfigError::Token(format!(
                        "no bearer token: the alerts config has no tokenFile and {TOKEN_ENV} is not set; expected one of the two"
                    )));
                }
            },
        };
        let token = token.trim();
        if token.is_empty() {
            return Err(ConfigError::Token(format!(
                "{source} is empty; expected the bearer token Alertmanager sends"
            )));
        }
        if let Some((at, c)) = token
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_graphic())
        {
            // the character's code only: the token is a secret
            return Err(ConfigError::Token(format!(
                "{source} holds a character that cannot travel in an Authorization header ({} at character {}); expected visible ASCII only, without spaces, e.g. the output of 'openssl rand -hex 32'",
                c.escape_unicode(),
                at + 1
            )));
        }
        Ok(token.to_owned())
    }
}

/// The warning for a `token` shorter than [`MIN_TOKEN_CHARS`], if it is.
pub fn short_token_warning(token: &str) -> Option<String> {
    let chars = token.chars().count();
    (chars < MIN_TOKEN_CHARS).then(|| {
        format!(
            "the bearer token is {chars} character(s) long; use at least {MIN_TOKEN_CHARS} (e.g. 'openssl rand -hex 32' gives 64), a short one can be guessed"
        )
    })
}

impl Rule {
    /// The first thing wrong with this rule, as (key, problem).
    fn problem(&self) -> Option<(&'static str, String)> {
        if self.name.trim().is_empty() {
            return Some((
                "name",
                "is empty; expected a name such as latency-page".into(),
            ));
        }
        if self.name.chars().count() > MAX_RULE_NAME_CHARS
            || crate::escape::one_line(&self.name, MAX_RULE_NAME_CHARS) != self.name
        {
            return Some((
                "name",
                format!(
                    "'{}' is longer than {MAX_RULE_NAME_CHARS} characters or holds a control character; expected a short name on one line such as latency-page",
                    crate::escape::one_line(&self.name, MAX_RULE_NAME_CHARS)
                ),
            ));
        }
        if self.name.contains('/') {
            return Some((
                "name",
                format!("'{}' holds '/'; expected a name without it", self.name),
            ));
        }
        if self.matchers.is_empty() {
            return Some((
                "matchers",
                "is empty; expected at least one label, e.g. {alertname: HighLatency}".into(),
            ));
        }
        match (self.min_replicas, self.add_replicas) {
            (Some(_), Some(_)) => {
                return Some((
                    "addReplicas",
                    "is given together with 'minReplicas'; expected one of the two".into(),
                ));
            }
            (None, None) => {
                return Some((
                    "minReplicas",
                    "is missing; expected 'minReplicas' or 'addReplicas'".into(),
                ));
            }
            (Some(0), None) => {
                return Some(("minReplicas", "is 0; expected 1 or more".into()));
            }
            (None, Some(0)) => {
                return Some(("addReplicas", "is 0; expected 1 or more".into()));
            }
            _ => {}
        }
        if !(1..=MAX_HOLD_MINUTES).contains(&self.hold_minutes) {
            return Some((
                "holdMinutes",
                format!(
                    "'{}' is out of range; expected 1 to {MAX_HOLD_MINUTES} minutes",
                    self.hold_minutes
                ),
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "  - name: latency-page\n    matchers: {alertname: HighLatency}\n";

    fn parse(text: &str) -> Result<AlertsConfig, String> {
        AlertsConfig::parse_str(text, Path::new("alerts.yaml")).map_err(|err| err.to_string())
    }

    #[test]
    fn a_minimal_config_takes_the_defaults() {
        let config = parse(&format!(
            "boostsFile: /b/boosts.json\nrules:\n{RULE}    minReplicas: 4\n    holdMinutes: 30\n"
        ))
        .unwrap();
        assert_eq!(config.evaluation_url, DEFAULT_EVALUATION_URL);
        assert_eq!(config.listen_address.to_string(), DEFAULT_LISTEN_ADDRESS);
        assert_eq!(config.rules[0].min_replicas, Some(4));
        assert_eq!(config.token_file, None);
    }

    #[test]
    fn each_bad_config_is_one_line_naming_the_file_and_key() {
        let head = "boostsFile: /b/boosts.json\nrules:\n";
        let cases = [
            (
                format!("{head}{RULE}    minReplicas: 4\n"),
                "invalid alerts config 'alerts.yaml' at line 5 column 5: missing field `holdMinutes`",
            ),
            (
                format!("{head}{RULE}    minReplicas: 4\n    holdMinutes: 30\n    hold: 1\n"),
                "invalid alerts config 'alerts.yaml' at line 7 column 5: unknown field `hold`",
            ),
            (
                format!("{head}{RULE}    holdMinutes: 30\n"),
                "invalid alerts config 'alerts.yaml': rules[0].minReplicas is missing; expected 'minReplicas' or 'addReplicas'",
            ),
            (
                format!(
                    "{head}{RULE}    minReplicas: 4\n    addReplicas: 2\n    holdMinutes: 30\n"
                ),
                "invalid alerts config 'alerts.yaml': rules[0].addReplicas is given together with 'minReplicas'; expected one of the two",
            ),
            (
                format!("{head}{RULE}    addReplicas: 2\n    holdMinutes: 0\n"),
                "invalid alerts config 'alerts.yaml': rules[0].holdMinutes '0' is out of range; expected 1 to 10080 minutes",
            ),
            (
                format!(
                    "{head}  - name: a\n    matchers: {{}}\n    minReplicas: 2\n    holdMinutes: 5\n"
                ),
                "invalid alerts config 'alerts.yaml': rules[0].matchers is empty; expected at least one label, e.g. {alertname: HighLatency}",
            ),
            (
                format!(
                    "{head}{RULE}    minReplicas: 4\n    holdMinutes: 30\n{RULE}    minReplicas: 5\n    holdMinutes: 30\n"
                ),
                "invalid alerts config 'alerts.yaml': rules[1].name 'latency-page' is given twice; expected unique rule names",
            ),
            (
                "boostsFile: /b/boosts.json\nrules: []\n".to_string(),
                "invalid alerts config 'alerts.yaml': rules is empty; expected at least one rule",
            ),
            (
                format!(
                    "evaluationUrl: localhost:5000\n{head}{RULE}    minReplicas: 4\n    holdMinutes: 30\n"
                ),
                "invalid alerts config 'alerts.yaml': evaluationUrl 'localhost:5000' is not an http(s) URL; expected e.g. http://localhost:5000/api/v1/evaluation",
            ),
        ];
        for (text, want) in cases {
            let got = parse(&text).unwrap_err();
            assert!(got.starts_with(want), "{text}\ngot:  {got}\nwant: {want}");
            assert!(!got.contains('\n'), "{got}");
        }
    }

    #[test]
    fn a_rule_matches_when_every_matcher_label_has_its_exact_value() {
        let rule = Rule {
            name: "r".into(),
            matchers: [("alertname", "HighLatency"), ("severity", "page")]
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            min_replicas: Some(3),
            add_replicas: None,
            hold_minutes: 10,
        };
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let cases = [
            (
                &[("alertname", "HighLatency"), ("severity", "page")][..],
                true,
            ),
            (
                &[
                    ("alertname", "HighLatency"),
                    ("severity", "page"),
                    ("job", "x"),
                ][..],
                true,
            ),
            (&[("alertname", "HighLatency")][..], false),
            (
                &[("alertname", "highlatency"), ("severity", "page")][..],
                false,
            ),
        ];
        for (pairs, want) in cases {
            assert_eq!(rule.matches(&labels(pairs)), want, "{pairs:?}");
        }
    }

    #[test]
    fn the_token_comes_from_the_file_or_else_the_environment_and_is_never_empty() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "s3cret\n").unwrap();
        let mut config = parse(&format!(
            "boostsFile: /b\nrules:\n{RULE}    minReplicas: 4\n    holdMinutes: 30\n"
        ))
        .unwrap();
        fn env(value: Option<&'static str>) -> impl Fn(&str) -> Option<String> {
            move |_| value.map(str::to_owned)
        }
        assert_eq!(config.token(env(Some(" from-env "))).unwrap(), "from-env");
        let err = config.token(env(None)).unwrap_err().to_string();
        assert!(
            err.contains("no tokenFile and alertsToken is not set"),
            "{err}"
        );
        let err = config.token(env(Some(""))).unwrap_err().to_string();
        assert!(
            err.starts_with("environment variable alertsToken is empty"),
            "{err}"
        );
        config.token_file = Some(file.clone());
        assert_eq!(config.token(env(Some("ignored"))).unwrap(), "s3cret");
        std::fs::write(&file, "\n").unwrap();
        let err = config.token(env(None)).unwrap_err().to_string();
        assert!(err.contains("is empty"), "{err}");
        config.token_file = Some(dir.path().join("missing"));
        let err = config.token(env(None)).unwrap_err().to_string();
        assert!(err.starts_with("cannot read tokenFile"), "{err}");
    }

    #[test]
    fn a_token_that_cannot_travel_in_a_header_is_refused_without_showing_it() {
        let config = parse(&format!(
            "boostsFile: /b\nrules:\n{RULE}    minReplicas: 4\n    holdMinutes: 30\n"
        ))
        .unwrap();
        let cases = [
            ("first-line-secret\nsecond", "\\u{a} at character 18"),
            ("tab\tsecret-secret", "\\u{9} at character 4"),
            ("with space-secret", "\\u{20} at character 5"),
            ("caf\u{e9}-secret-secret", "\\u{e9} at character 4"),
            ("del\u{7f}-secret-secret", "\\u{7f} at character 4"),
        ];
        for (token, want) in cases {
            let token = token.to_string();
            let err = config
                .token(|_| Some(token.clone()))
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("environment variable alertsToken holds a character that cannot travel in an Authorization header"),
                "{err}"
            );
            assert!(err.contains(want), "{err}");
            assert!(!err.contains("secret"), "the token is not shown: {err}");
        }
        let printable: String = (b'!'..=b'~').map(char::from).collect();
        assert_eq!(
            config.token(|_| Some(printable.clone())).unwrap(),
            printable
        );
    }

    #[test]
    fn a_token_shorter_than_16_characters_is_warned_about() {
        assert_eq!(short_token_warning("0123456789abcdef"), None);
        let warning = short_token_warning("abc").unwrap();
        assert!(
            warning.starts_with("the bearer token is 3 character(s) long; use at least 16"),
            "{warning}"
        );
        assert!(!warning.contains("abc"), "{warning}");
    }

    #[test]
    fn a_rule_name_must_be_short_and_on_one_line() {
        for name in ["\"a\\nb\"", &"n".repeat(64)] {
            let err = parse(&format!(
                "boostsFile: /b\nrules:\n  - name: {name}\n    matchers: {{a: b}}\n    minReplicas: 4\n    holdMinutes: 30\n"
            ))
            .unwrap_err();
            assert!(err.contains("rules[0].name"), "{err}");
            assert!(err.contains("expected a short name on one line"), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }
}
