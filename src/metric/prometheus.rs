//! A Prometheus instant-query client that returns one number or a named
//! failure, never a wrong number.
//!
//! [`InstantQuery::run`] sends `GET <url>/api/v1/query?query=...&time=...`
//! with reqwest, bounded by a timeout, with optional basic auth or a bearer
//! token read from a file at every query (so a rotated secret is picked up).
//! The answer must be an instant vector of exactly one series whose value is
//! a finite number of 0 or more; anything else is a [`QueryError`] whose
//! message is one line naming the query and what came back. Secrets never
//! reach a message: auth errors name the file, never its content, and a URL
//! with credentials in it is refused when the config is read.
//!
//! [`parse_answer`] is the pure half (status code and body in, number or
//! error out), tested on Prometheus's own answers.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use reqwest::Url;
use serde::Deserialize;

/// The default timeout of one query, milliseconds: generous for one instant
/// query on a healthy server, short next to the metric stage's run time.
pub const DEFAULT_TIMEOUT_MS: u64 = 2000;

/// Longest accepted query timeout, milliseconds.
pub const MAX_TIMEOUT_MS: u64 = 60_000;

/// At most this many characters of an unexpected body go into a message.
const BODY_EXCERPT_CHARS: usize = 200;

/// How the client proves who it is to a Prometheus behind a proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// No credentials.
    None,
    /// HTTP basic auth: the username, and the file holding the password
    /// (read at every query, trailing newline dropped).
    Basic {
        /// The username, sent as given.
        username: String,
        /// The file holding the password.
        password_file: PathBuf,
    },
    /// `Authorization: Bearer <token>`, the token read from this file at
    /// every query (surrounding white space dropped).
    BearerTokenFile(PathBuf),
}

/// One instant query against one Prometheus server.
#[derive(Debug, Clone, PartialEq)]
pub struct InstantQuery {
    /// The server's base URL, e.g. `http://prometheus:9090` (a path prefix
    /// such as `/prometheus` is kept). Holds no credentials.
    pub url: Url,
    /// The PromQL expression.
    pub query: String,
    /// How long the whole request may take, connection included.
    pub timeout: Duration,
    /// Credentials, if any.
    pub auth: Auth,
}

/// Why a query gave no number. Each message is one line that names the
/// query and what came back.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum QueryError {
    /// Nothing listens at the URL, or the name does not resolve.
    #[error(
        "prometheus query '{query}' at {url}: Prometheus is down: {detail}; expected a Prometheus server answering at that URL"
    )]
    Down {
        /// The query.
        query: String,
        /// The base URL.
        url: String,
        /// What the connection attempt said.
        detail: String,
    },
    /// No complete answer within the timeout.
    #[error(
        "prometheus query '{query}' at {url}: no answer within {timeout_ms} ms; expected an answer within the timeout (load.prometheus.timeoutMs)"
    )]
    Timeout {
        /// The query.
        query: String,
        /// The base URL.
        url: String,
        /// The timeout, milliseconds.
        timeout_ms: u64,
    },
    /// The request failed in another way (TLS, a reset connection, a body
    /// cut short).
    #[error(
        "prometheus query '{query}' at {url}: the request failed: {detail}; expected an HTTP answer"
    )]
    Request {
        /// The query.
        query: String,
        /// The base URL.
        url: String,
        /// reqwest's description, without the URL.
        detail: String,
    },
    /// A credentials file could not be read.
    #[error(
        "prometheus query '{query}': cannot read {what} '{path}': {detail}; expected a readable file"
    )]
    Credentials {
        /// The query.
        query: String,
        /// `load.prometheus.bearerTokenFile` or `load.prometheus.basicAuth.passwordFile`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        detail: String,
    },
    /// An HTTP error status; `error` is Prometheus's `error` field when the
    /// body has one, else the start of the body.
    #[error("prometheus query '{query}': HTTP {status}: {error}; expected 200 and a result")]
    Http {
        /// The query.
        query: String,
        /// The status code.
        status: u16,
        /// What the server said.
        error: String,
    },
    /// A 200 answer that is not Prometheus's query API JSON.
    #[error(
        "prometheus query '{query}': the answer is not Prometheus JSON ({why}): '{excerpt}'; expected the /api/v1/query answer of a Prometheus server"
    )]
    NotPrometheus {
        /// The query.
        query: String,
        /// What is wrong with it.
        why: String,
        /// The start of the body.
        excerpt: String,
    },
    /// The query matched no series.
    #[error(
        "prometheus query '{query}': no series; expected one (with `or vector(0)` a quiet service reads 0)"
    )]
    NoSeries {
        /// The query.
        query: String,
    },
    /// The query matched several series.
    #[error(
        "prometheus query '{query}': {count} series ({series}); expected one: aggregate them, e.g. sum(...)"
    )]
    SeveralSeries {
        /// The query.
        query: String,
        /// How many.
        count: usize,
        /// The first few series' labels.
        series: String,
    },
    /// A scalar, matrix or string result.
    #[error(
        "prometheus query '{query}': a {result_type} result; expected an instant vector of one series{hint}"
    )]
    NotVector {
        /// The query.
        query: String,
        /// `scalar`, `matrix` or `string`.
        result_type: String,
        /// What to change.
        hint: &'static str,
    },
    /// The one series' value is not a usable load.
    #[error(
        "prometheus query '{query}': the value is {value}; expected a finite number of 0 or more"
    )]
    BadValue {
        /// The query.
        query: String,
        /// The value as Prometheus wrote it (`NaN`, `+Inf`, `-3`).
        value: String,
    },
}

/// Prometheus's answer envelope (`/api/v1/query`).
#[derive(Debug, Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct Sample {
    #[serde(default)]
    metric: serde_json::Map<String, serde_json::Value>,
    /// `[unix seconds, "value"]`.
    value: (f64, String),
}

impl InstantQuery {
    /// The URL asked: `<url>/api/v1/query?query=<query>&time=<at>`.
    pub fn request_url(&self, at: SystemTime) -> Url {
        let mut url = self.url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(["api", "v1", "query"]);
        }
        let at = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        url.query_pairs_mut()
            .clear()
            .append_pair("query", &self.query)
            .append_pair("time", &format!("{at:.3}"));
        url
    }

    /// Runs the query, evaluated at the instant `at` (Prometheus's `time`
    /// parameter): the query's range ends there, whenever the request is
    /// sent. Never longer than the timeout.
    pub async fn run(&self, at: SystemTime) -> Result<f64, QueryError> {
        let client = reqwest::Client::builder()
            .timeout(self.timeout)
            .build()
            .map_err(|err| self.request_error(err))?;
        let mut request = client.get(self.request_url(at));
        request = match &self.auth {
            Auth::None => request,
            Auth::Basic {
                username,
                password_file,
            } => {
                let password =
                    self.read_secret(password_file, "load.prometheus.basicAuth.passwordFile")?;
                request.basic_auth(username, Some(password))
            }
            Auth::BearerTokenFile(path) => {
                let token = self.read_secret(path, "load.prometheus.bearerTokenFile")?;
                request.bearer_auth(token)
            }
        };
        let response = request
            .send()
            .await
            .map_err(|err| self.request_error(err))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|err| self.request_error(err))?;
        parse_answer(&self.query, status, &body)
    }

    /// A secret file's content, trimmed. The error names the file only.
    fn read_secret(&self, path: &Path, what: &'static str) -> Result<String, QueryError> {
        std::fs::read_to_string(path)
            .map(|text| text.trim().to_string())
            .map_err(|err| QueryError::Credentials {
                query: self.query.clone(),
                what,
                path: path.to_owned(),
                detail: err.to_string(),
            })
    }

    /// reqwest's error as ours. The URL is left out of reqwest's text (ours
    /// holds no credentials, but the message names the base URL once).
    fn request_error(&self, err: reqwest::Error) -> QueryError {
        let url = self.url.to_string();
        let query = self.query.clone();
        if err.is_timeout() {
            return QueryError::Timeout {
                query,
                url,
                timeout_ms: self.timeout.as_millis() as u64,
            };
        }
        let is_connect = err.is_connect();
        let detail = error_chain(&err.without_url());
        if is_connect {
            QueryError::Down { query, url, detail }
        } else {
            QueryError::Request { query, url, detail }
        }
    }
}

/// An error and its sources on one line: `a: b: c`.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The start of `body` on one line, for a message.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(BODY_EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}...", &one_line[..cut]),
        None => one_line,
    }
}

/// Prometheus's answer to `query` (`status` code and `body`) as one load
/// figure, or why it is not one.
pub fn parse_answer(query: &str, status: u16, body: &[u8]) -> Result<f64, QueryError> {
    let query_owned = || query.to_string();
    let envelope = serde_json::from_slice::<Envelope>(body);
    if status != 200 {
        let error = match &envelope {
            Ok(Envelope {
                error: Some(error),
                error_type,
                ..
            }) => match error_type {
                Some(kind) => format!("{kind}: {error}"),
                None => error.clone(),
            },
            _ if body.is_empty() => "(empty body)".to_string(),
            _ => excerpt(body),
        };
        return Err(QueryError::Http {
            query: query_owned(),
            status,
            error: error.replace(['\n', '\r'], " "),
        });
    }
    let not_prometheus = |why: String| QueryError::NotPrometheus {
        query: query_owned(),
        why,
        excerpt: excerpt(body),
    };
    let envelope = envelope.map_err(|err| not_prometheus(err.to_string()))?;
    if envelope.status != "success" {
        return Err(QueryError::Http {
            query: query_owned(),
            status,
            error: envelope
                .error
                .unwrap_or_else(|| format!("status '{}'", envelope.status)),
        });
    }
    let data = envelope
        .data
        .ok_or_else(|| not_prometheus("no data field".into()))?;
    if data.result_type != "vector" {
        let hint = match data.result_type.as_str() {
            "scalar" => ": wrap it in vector(...), or aggregate a vector with sum(...)",
            "matrix" => {
                ": drop the range selector's outer [..], e.g. sum(rate(x[1m])) rather than x[1m]"
            }
            _ => "",
        };
        return Err(QueryError::NotVector {
            query: query_owned(),
            result_type: data.result_type,
            hint,
        });
    }
    let samples: Vec<Sample> = serde_json::from_value(data.result)
        .map_err(|err| not_prometheus(format!("a vector result that does not parse: {err}")))?;
    let sample = match samples.as_slice() {
        [] => {
            return Err(QueryError::NoSeries {
                query: query_owned(),
            });
        }
        [one] => one,
        several => {
            return Err(QueryError::SeveralSeries {
                query: query_owned(),
                count: several.len(),
                series: describe_series(several),
            });
        }
    };
    let text = &sample.value.1;
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
        _ => Err(QueryError::BadValue {
            query: query_owned(),
            value: text.clone(),
        }),
    }
}

/// The first three series as `{a="1"}, {a="2"}, ...`.
fn describe_series(samples: &[Sample]) -> String {
    const SHOWN: usize = 3;
    let mut shown: Vec<String> = samples
        .iter()
        .take(SHOWN)
        .map(|sample| {
            let labels: Vec<String> = sample
                .metric
                .iter()
                .map(|(name, value)| match value.as_str() {
                    Some(text) => format!("{name}=\"{text}\""),
                    None => format!("{name}={value}"),
                })
                .collect();
            format!("{{{}}}", labels.join(","))
        })
        .collect();
    if samples.len() > SHOWN {
        shown.push("...".into());
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: &str = "sum(rate(http_requests_total[1m]))";

    fn vector(result: &str) -> String {
        format!(r#"{{"status":"success","data":{{"resultType":"vector","result":{result}}}}}"#)
    }

    #[test]
    fn one_series_is_its_value() {
        let body = vector(r#"[{"metric":{},"value":[1700000000.5,"12.75"]}]"#);
        assert_eq!(parse_answer(Q, 200, body.as_bytes()), Ok(12.75));
        let zero = vector(r#"[{"metric":{},"value":[1700000000,"0"]}]"#);
        assert_eq!(parse_answer(Q, 200, zero.as_bytes()), Ok(0.0));
    }

    #[test]
    fn no_series_and_several_series_are_named() {
        let none = parse_answer(Q, 200, vector("[]").as_bytes()).unwrap_err();
        assert_eq!(
            none.to_string(),
            "prometheus query 'sum(rate(http_requests_total[1m]))': no series; expected one \
             (with `or vector(0)` a quiet service reads 0)"
        );
        let two = vector(
            r#"[{"metric":{"status":"200"},"value":[1,"3"]},{"metric":{"status":"503"},"value":[1,"1"]}]"#,
        );
        assert_eq!(
            parse_answer(Q, 200, two.as_bytes())
                .unwrap_err()
                .to_string(),
            "prometheus query 'sum(rate(http_requests_total[1m]))': 2 series ({status=\"200\"}, \
             {status=\"503\"}); expected one: aggregate them, e.g. sum(...)"
        );
    }

    #[test]
    fn nan_infinity_and_negative_values_are_never_a_number() {
        for value in ["NaN", "+Inf", "-Inf", "-3", "x"] {
            let body = vector(&format!(r#"[{{"metric":{{}},"value":[1,"{value}"]}}]"#));
            let err = parse_answer(Q, 200, body.as_bytes()).unwrap_err();
            assert_eq!(
                err,
                QueryError::BadValue {
                    query: Q.into(),
                    value: value.into()
                }
            );
            assert!(err.to_string().ends_with(&format!(
                "the value is {value}; expected a finite number of 0 or more"
            )));
        }
    }

    #[test]
    fn scalar_and_matrix_results_are_refused_with_a_hint() {
        let scalar = r#"{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}"#;
        let err = parse_answer("1+1", 200, scalar.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "prometheus query '1+1': a scalar result; expected an instant vector of one series: \
             wrap it in vector(...), or aggregate a vector with sum(...)"
        );
        let matrix = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        let err = parse_answer("x[1m]", 200, matrix.as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("prometheus query 'x[1m]': a matrix result;"),
            "{err}"
        );
    }

    #[test]
    fn an_http_error_carries_prometheus_s_error_field_or_the_body_s_start() {
        let bad = r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unexpected <EOF>"}"#;
        assert_eq!(
            parse_answer("sum(", 400, bad.as_bytes())
                .unwrap_err()
                .to_string(),
            "prometheus query 'sum(': HTTP 400: bad_data: invalid parameter \"query\": 1:5: parse \
             error: unexpected <EOF>; expected 200 and a result"
        );
        let proxy = "<html>\n<body>401 Authorization Required</body>\n</html>";
        assert_eq!(
            parse_answer(Q, 401, proxy.as_bytes())
                .unwrap_err()
                .to_string(),
            "prometheus query 'sum(rate(http_requests_total[1m]))': HTTP 401: <html> <body>401 \
             Authorization Required</body> </html>; expected 200 and a result"
        );
        assert!(
            parse_answer(Q, 502, b"")
                .unwrap_err()
                .to_string()
                .contains("HTTP 502: (empty body)")
        );
    }

    #[test]
    fn a_200_that_is_not_prometheus_json_is_named() {
        let err = parse_answer(Q, 200, b"<html>hello</html>").unwrap_err();
        assert!(
            matches!(&err, QueryError::NotPrometheus { excerpt, .. } if excerpt == "<html>hello</html>"),
            "{err}"
        );
        let long = "x".repeat(1000);
        let err = parse_answer(Q, 200, long.as_bytes()).unwrap_err();
        let QueryError::NotPrometheus { excerpt, .. } = err else {
            panic!("{err}")
        };
        assert_eq!(excerpt.len(), BODY_EXCERPT_CHARS + 3);
    }

    #[test]
    fn the_request_url_keeps_a_path_prefix_and_encodes_the_query() {
        let query = InstantQuery {
            url: Url::parse("http://monitoring:9090/prometheus/").unwrap(),
            query: "sum(rate(x{app=\"fib\"}[1m])) or vector(0)".into(),
            timeout: Duration::from_secs(2),
            auth: Auth::None,
        };
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        let url = query.request_url(at);
        assert_eq!(url.path(), "/prometheus/api/v1/query");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            [
                ("query".to_string(), query.query.clone()),
                ("time".to_string(), "1700000000.250".to_string())
            ]
        );
        let bare = InstantQuery {
            url: Url::parse("http://127.0.0.1:9090").unwrap(),
            ..query
        };
        assert_eq!(bare.request_url(at).path(), "/api/v1/query");
    }
}
