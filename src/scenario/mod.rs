//! Scenario files: the declarative YAML that says what the load test requests,
//! and its translation into goose [`Scenario`]s.
//!
//! The file speaks goose's own terms: scenarios (name, weight, wait time) made
//! of transactions (name, weight, one HTTP request each). Loading is a pure
//! function of the file's text and an environment lookup ([`ScenarioFile::parse`]);
//! every error names the file, line and column. Header values may take
//! `${VARIABLE}` from the environment so secrets come from Kubernetes Secrets
//! and never sit in the file; their values are marked sensitive and never logged.
//! See `docs/scenarios.md` for the reference.

pub mod coverage;
mod plan;
mod request;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use goose::goose::{GooseMethod, Scenario};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_saphyr::Location;

use plan::{FileSpec, scenario_plan};
pub use request::{CONNECT_ERROR_PAUSE, NoResponseCauses, UrlParseError, cause_of, url_under};

/// The largest scenario or transaction weight. goose expands weights into a
/// list with one entry per unit, so an unbounded weight can exhaust memory;
/// a thousand is plenty for any mix (weights are relative shares).
pub const MAX_WEIGHT: usize = 1000;

/// The HTTP methods goose can send. Any other method in a scenario file is
/// rejected when the file is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET` (the default).
    #[default]
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
    /// `HEAD`.
    Head,
}

impl Method {
    fn goose(self) -> GooseMethod {
        match self {
            Method::Get => GooseMethod::Get,
            Method::Post => GooseMethod::Post,
            Method::Put => GooseMethod::Put,
            Method::Patch => GooseMethod::Patch,
            Method::Delete => GooseMethod::Delete,
            Method::Head => GooseMethod::Head,
        }
    }

    /// The method's name, upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
        }
    }
}

/// A validated scenario file, ready to become goose scenarios.
#[derive(Debug, Clone)]
pub struct ScenarioFile {
    /// Where it was read from (for messages).
    pub path: PathBuf,
    /// Its scenarios, in file order.
    pub scenarios: Vec<ScenarioPlan>,
    /// Why its requests got no response, counted while they run.
    pub no_response: Arc<NoResponseCauses>,
}

/// One scenario: a kind of simulated user.
#[derive(Debug, Clone)]
pub struct ScenarioPlan {
    /// The scenario's name.
    pub name: String,
    /// Relative share of the users that run this scenario (default 1).
    pub weight: usize,
    /// Random pause between a user's transactions, `(min, max)`; none by default.
    pub wait_time: Option<(Duration, Duration)>,
    /// The transactions, in file order.
    pub transactions: Vec<RequestPlan>,
}

/// One transaction: one HTTP request and what counts as its success.
#[derive(Clone)]
pub struct RequestPlan {
    /// The name the request's results are reported under (default: the path,
    /// query included).
    pub name: String,
    /// Relative share of this scenario's transactions (default 1).
    pub weight: usize,
    /// The HTTP method.
    pub method: Method,
    /// Path (and query) joined to the host.
    pub path: String,
    /// Headers, with `${VARIABLE}`s already substituted; values are marked
    /// sensitive.
    pub headers: HeaderMap,
    /// The request body, if any.
    pub body: Option<Vec<u8>>,
    /// The status codes that count as success; empty means any 2xx.
    pub expected_status: Vec<u16>,
    /// Where a request that got no response counts its cause.
    pub no_response: Arc<NoResponseCauses>,
}

impl fmt::Debug for RequestPlan {
    /// Shows header names only, never their values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestPlan")
            .field("name", &self.name)
            .field("weight", &self.weight)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .field("expected_status", &self.expected_status)
            .finish()
    }
}

/// A scenario file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error(
        "scenario file '{path}': cannot read it: {error}; expected a readable YAML file (setting scenarioFilePath)"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error (part of the message, so not a chained source:
        /// the cause is said once).
        error: std::io::Error,
    },
    /// The file is not valid YAML of the expected shape.
    #[error("scenario file '{path}': {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column, on one line.
        message: String,
    },
    /// A value is of the right type but not allowed.
    #[error("scenario file '{path}' line {line} column {column}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the value at fault.
        line: u64,
        /// 1-based column of the value at fault.
        column: u64,
        /// What is wrong and what was expected.
        message: String,
    },
    /// goose refused a scenario or transaction.
    #[error("scenario '{scenario}': goose refused it: {detail}")]
    Goose {
        /// The scenario's name.
        scenario: String,
        /// goose's error, in debug form (its Display says little).
        detail: String,
    },
}

/// Says where in the file a value is wrong.
trait Invalid: Fn(&Location, String) -> ScenarioError {}
impl<F: Fn(&Location, String) -> ScenarioError> Invalid for F {}

impl ScenarioFile {
    /// Reads and validates a scenario file; `env` looks up the variables that
    /// header values name.
    pub fn load(path: &Path, env: impl Fn(&str) -> Option<String>) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|error| ScenarioError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Self::parse(path, &text, env)
    }

    /// Validates a scenario file's text; `path` is only used in messages.
    pub fn parse(
        path: &Path,
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ScenarioError> {
        let spec: FileSpec =
            serde_saphyr::from_str(text).map_err(|err| syntax_error(path, &err))?;
        let invalid = |at: &Location, message: String| ScenarioError::Invalid {
            path: path.to_path_buf(),
            line: at.line(),
            column: at.column(),
            message,
        };
        if spec.scenarios.value.is_empty() {
            return Err(invalid(
                &spec.scenarios.referenced,
                "'scenarios' is empty; expected at least one scenario".into(),
            ));
        }
        let no_response = Arc::new(NoResponseCauses::default());
        let scenarios = spec
            .scenarios
            .value
            .into_iter()
            .map(|scenario| scenario_plan(scenario, &env, &invalid, &no_response))
            .collect::<Result<_, _>>()?;
        Ok(ScenarioFile {
            path: path.to_path_buf(),
            scenarios,
            no_response,
        })
    }

    /// The goose scenarios that run this file.
    pub fn goose_scenarios(&self) -> Result<Vec<Scenario>, ScenarioError> {
        self.scenarios
            .iter()
            .map(ScenarioPlan::goose_scenario)
            .collect()
    }
}

/// The parser's error, on one line with its location when known.
fn syntax_error(path: &Path, err: &serde_saphyr::Error) -> ScenarioError {
    let described = crate::yaml::describe(err);
    match (described.line, described.column) {
        (Some(line), Some(column)) => ScenarioError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message: described.message,
        },
        _ => ScenarioError::Syntax {
            path: path.to_path_buf(),
            message: described.message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::plan::expand_env;
    use super::*;
    use reqwest::header::CONTENT_TYPE;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn parse(text: &str) -> Result<ScenarioFile, ScenarioError> {
        ScenarioFile::parse(Path::new("s.yaml"), text, |name| {
            (name == "API_TOKEN").then(|| "Bearer s3cret".to_string())
        })
    }

    #[test]
    fn the_smallest_file_gives_one_get_named_by_its_path() {
        let file = ScenarioFile::parse(
            Path::new("s.yaml"),
            "scenarios:\n  - name: probe\n    transactions:\n      - method: GET\n        path: /fibonacci?n=10\n",
            no_env,
        )
        .unwrap();
        let tx = &file.scenarios[0].transactions[0];
        assert_eq!(
            (tx.method, tx.name.as_str()),
            (Method::Get, "/fibonacci?n=10")
        );
        assert_eq!((file.scenarios[0].weight, tx.weight), (1, 1));
        assert!(tx.accepts(204) && !tx.accepts(404) && !tx.accepts(0));
        assert_eq!(file.goose_scenarios().unwrap().len(), 1);
        let heaviest = ScenarioFile::parse(
            Path::new("s.yaml"),
            "scenarios:\n  - name: p\n    weight: 1000\n    transactions:\n      - path: /\n        weight: 1000\n",
            no_env,
        )
        .unwrap();
        assert_eq!(
            (
                heaviest.scenarios[0].weight,
                heaviest.scenarios[0].transactions[0].weight
            ),
            (1000, 1000)
        );
        assert!(heaviest.goose_scenarios().is_ok());
    }

    #[test]
    fn a_json_body_sets_the_content_type_and_headers_take_the_environment() {
        let file = parse(
            "scenarios:\n  - name: api\n    weight: 3\n    waitTime: {minMs: 10, maxMs: 20}\n    transactions:\n      - name: create\n        method: POST\n        path: /items\n        headers:\n          Authorization: ${API_TOKEN}\n        json: {a: 1}\n        expectedStatus: [201, 409]\n",
        )
        .unwrap();
        let scenario = &file.scenarios[0];
        assert_eq!(scenario.weight, 3);
        assert_eq!(
            scenario.wait_time,
            Some((Duration::from_millis(10), Duration::from_millis(20)))
        );
        let tx = &scenario.transactions[0];
        assert_eq!(tx.headers[CONTENT_TYPE], "application/json");
        assert_eq!(tx.headers["authorization"], "Bearer s3cret");
        assert!(tx.headers["authorization"].is_sensitive());
        assert_eq!(tx.body.as_deref(), Some(br#"{"a":1}"#.as_slice()));
        assert!(tx.accepts(409) && !tx.accepts(200));
        assert!(!format!("{tx:?}").contains("s3cret"));
    }

    #[test]
    fn bad_files_are_rejected_with_file_line_and_column() {
        let cases = [
            (
                "scenarios:\n  - name: a\n    transactions:\n      - method: OPTIONS\n        path: /\n",
                "scenario file 's.yaml' line 4 column 17: unknown variant `OPTIONS`, expected one of GET",
                "HEAD",
            ),
            (
                "scenarios:\n  - name: a\n    transactions:\n      - path: /\n        colour: red\n",
                "scenario file 's.yaml' line 5 column 9: unknown field `colour`",
                "expectedStatus",
            ),
            (
                "scenarios:\n  - name: a\n    transactions:\n      - path: /\n        headers:\n          X-Token: ${NOPE}\n",
                "scenario file 's.yaml' line 6 column 20: header 'X-Token': environment variable 'NOPE' is not set",
                "expected it set, e.g. from a Kubernetes Secret",
            ),
            (
                "scenarios:\n  - name: a\n    transactions:\n      - path: /\n        body: x\n        json: {}\n",
                "scenario file 's.yaml' line 6 column 15: both 'body' and 'json' are set",
                "; expected at most one of them",
            ),
            (
                "scenarios:\n  - name: a\n    transactions:\n      - path: nope\n",
                "scenario file 's.yaml' line 4 column 15: path 'nope' does not start with '/'",
                "; expected a path such as /fibonacci?n=10",
            ),
            (
                "scenarios:\n  - name: a\n    transactions: []\n",
                "scenario file 's.yaml' line 3 column 19: scenario 'a' has no transactions",
                "; expected at least one",
            ),
            (
                "scenarios:\n  - name: a\n    transactions:\n      - path: //127.0.0.1:18083/x\n",
                "scenario file 's.yaml' line 4 column 15: path '//127.0.0.1:18083/x' starts with '//', which names another host; expected a path on gooseHost",
                " such as /fibonacci?n=10",
            ),
            (
                "scenarios: []\n",
                "scenario file 's.yaml' line 1 column 12: 'scenarios' is empty",
                "; expected at least one scenario",
            ),
            (
                "scenarios:\n  - name: a\n    waitTime: {minMs: 5, maxMs: 1}\n    transactions:\n      - path: /\n",
                "scenario file 's.yaml' line 3 column 15: waitTime minMs 5 is greater than maxMs 1",
                "; expected minMs <= maxMs",
            ),
            (
                "scenarios:\n  - name: a\n    transactions:\n      - path: /\n        expectedStatus: [200, 700]\n",
                "scenario file 's.yaml' line 5 column 25: 'expectedStatus' code 700",
                " is not an HTTP status; expected 100 to 599",
            ),
            (
                "scenarios:\n  - name: a\n    weight: 0\n    transactions:\n      - path: /\n",
                "scenario file 's.yaml' line 3 column 13: scenario 'a': weight 0 is out of range; expected a whole number from 1 to 1000",
                "<whole>",
            ),
            (
                "scenarios:\n  - name: a\n    weight: 10000000000\n    transactions:\n      - path: /\n",
                "scenario file 's.yaml' line 3 column 13: scenario 'a': weight 10000000000 is out of range; expected a whole number from 1 to 1000",
                "<whole>",
            ),
            (
                "scenarios:\n  - name: a\n    transactions:\n      - path: /x\n        weight: 1001\n",
                "scenario file 's.yaml' line 5 column 17: transaction '/x': weight 1001 is out of range; expected a whole number from 1 to 1000",
                "<whole>",
            ),
            (
                "scenarios:\n  - name: a\n    transactions:\n      - path: /x\n        weight: -1\n",
                "scenario file 's.yaml' line 5 column 17: transaction '/x': weight -1 is out of range",
                "; expected a whole number from 1 to 1000",
            ),
        ];
        // (file, the message's start, what it goes on to say: the rest of
        // the why and the expectation; "<whole>" when the start is all of it)
        for (text, prefix, rest) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.starts_with(prefix), "got: {err}\nwant prefix: {prefix}");
            if rest == "<whole>" {
                assert_eq!(err, prefix);
            } else {
                assert!(
                    err[prefix.len()..].contains(rest),
                    "got: {err}\nwant after the prefix: {rest}"
                );
            }
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn expansion_keeps_lone_dollars_and_never_shows_values() {
        let env = |name: &str| (name == "A").then(|| "x".to_string());
        assert_eq!(expand_env("$5 ${A}-${A}", &env).unwrap(), "$5 x-x");
        let err = expand_env("${B}", &env).unwrap_err();
        assert!(err.contains("'B'"), "{err}");
        assert!(expand_env("${A", &env).is_err());
        assert!(expand_env("${A B}", &env).is_err());
    }
}
