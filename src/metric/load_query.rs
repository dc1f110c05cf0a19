//! The service's load from a Prometheus query: the evaluation config's
//! `load.prometheus` section, the `prometheusUrl` setting that overrides its
//! URL per deployment, and the query run beside the probe.
//!
//! When the run starts, it runs the instant query on a thread of its own
//! while the probe runs ([`PendingQuery::start`]), evaluated at the instant
//! the probe starts (Prometheus's `time` parameter): the query's range ends
//! before the probe's first request, so the probe's own requests of this run
//! are never in the value, and the query adds nothing to the stage's time
//! unless it outlasts the probe (it is bounded by `timeoutMs`). Requests of
//! earlier runs' probes can fall in the range; the docs show how to label
//! them (a scenario header) and leave them out of the query.
//!
//! A failed query is one warning line on stderr, and the report leaves the
//! value out; the latency figures are reported as always.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use reqwest::Url;
use serde::Deserialize;

use super::load::Load;
use super::prometheus::{Auth, DEFAULT_TIMEOUT_MS, InstantQuery, MAX_TIMEOUT_MS, QueryError};
use super::settings::{DEFAULT_EVALUATION_CONFIG, MetricArgs};
use crate::setting_names::metric::EVALUATION_CONFIG;
use crate::settings::SettingsError;
use crate::target::ConfigError;

/// The setting that overrides `load.prometheus.url` per deployment.
pub use crate::setting_names::metric::PROMETHEUS_URL;

/// The evaluation config's `load` section: where the service's load is read
/// besides the probe's latency.
///
/// The section's other keys (`cpu`, `margin`, ...) are the evaluate stage's
/// load rules: not read here, and checked there (with this one).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadConfig {
    /// A PromQL query whose value is the service's total load, e.g. its
    /// request rate in requests/s.
    #[serde(default)]
    pub prometheus: Option<PrometheusConfig>,
}

/// The evaluation config's key the query needs. The file's other keys are
/// the evaluate stage's and early stop's: they are not read here (the
/// evaluate stage checks them, and this section too).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoadSection {
    #[serde(default)]
    load: LoadConfig,
}

/// `load.prometheus`: the query, where to send it and how.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawPrometheusConfig")]
pub struct PrometheusConfig {
    /// The server's base URL; the `prometheusUrl` setting overrides it, and
    /// one of the two must be given.
    pub url: Option<Url>,
    /// The PromQL query: an instant vector of one series, e.g.
    /// `sum(rate(http_requests_total{app="fib"}[1m])) or vector(0)`.
    pub query: String,
    /// How long the query may take, milliseconds.
    pub timeout_ms: u64,
    /// Credentials, if any.
    pub auth: Auth,
}

/// `load.prometheus` as written, checked into [`PrometheusConfig`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawPrometheusConfig {
    /// Base URL, e.g. `http://prometheus:9090`.
    #[serde(default)]
    url: Option<String>,
    /// The PromQL query.
    query: String,
    /// Milliseconds, 1 to [`MAX_TIMEOUT_MS`]; default [`DEFAULT_TIMEOUT_MS`].
    #[serde(default)]
    timeout_ms: Option<u64>,
    /// Basic auth.
    #[serde(default)]
    basic_auth: Option<RawBasicAuth>,
    /// A file holding a bearer token.
    #[serde(default)]
    bearer_token_file: Option<PathBuf>,
}

/// `load.prometheus.basicAuth`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawBasicAuth {
    /// The username.
    username: String,
    /// A file holding the password.
    password_file: PathBuf,
}

impl TryFrom<RawPrometheusConfig> for PrometheusConfig {
    type Error = String;

    fn try_from(raw: RawPrometheusConfig) -> Result<Self, String> {
        let url = match raw.url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(base_url(text).map_err(|problem| {
                format!(
                    "load.prometheus.url '{}': {}; expected {}",
                    problem.shown(text),
                    problem.why(),
                    problem.expected()
                )
            })?),
        };
        if raw.query.trim().is_empty() {
            return Err(
                "load.prometheus.query is empty; expected a PromQL query such as \
                 sum(rate(http_requests_total[1m])) or vector(0)"
                    .into(),
            );
        }
        let timeout_ms = raw.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
        if !(1..=MAX_TIMEOUT_MS).contains(&timeout_ms) {
            return Err(format!(
                "load.prometheus.timeoutMs '{timeout_ms}' is out of range; expected 1 to {MAX_TIMEOUT_MS} milliseconds"
            ));
        }
        let auth = match (raw.basic_auth, raw.bearer_token_file) {
            (Some(_), Some(_)) => {
                return Err(
                    "load.prometheus.basicAuth is given together with bearerTokenFile; expected one of the two"
                        .into(),
                );
            }
            (Some(basic), None) => {
                if basic.username.is_empty() {
                    return Err(
                        "load.prometheus.basicAuth.username is empty; expected the user's name"
                            .into(),
                    );
                }
                Auth::Basic {
                    username: basic.username,
                    password_file: basic.password_file,
                }
            }
            (None, Some(path)) => Auth::BearerTokenFile(path),
            (None, None) => Auth::None,
        };
        Ok(PrometheusConfig {
            url,
            query: raw.query.trim().to_string(),
            timeout_ms,
            auth,
        })
    }
}

/// Why a text is not a Prometheus base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UrlProblem {
    /// Not an http(s) URL with a host.
    NotHttp,
    /// `user:password@` in it.
    Credentials,
    /// A `?query` or `#fragment` in it.
    QueryOrFragment,
}

impl UrlProblem {
    fn why(self) -> &'static str {
        match self {
            UrlProblem::NotHttp => "not an http(s) URL",
            UrlProblem::Credentials => "it holds credentials",
            UrlProblem::QueryOrFragment => "it has a query or fragment",
        }
    }

    fn expected(self) -> &'static str {
        match self {
            UrlProblem::Credentials => {
                "a URL without them: put them in load.prometheus.basicAuth or bearerTokenFile"
            }
            _ => "an http(s) base URL such as http://prometheus:9090",
        }
    }

    /// The value as a message may show it: never one with credentials.
    fn shown(self, text: &str) -> String {
        match self {
            UrlProblem::Credentials => "(not shown)".into(),
            _ => text.into(),
        }
    }
}

/// `text` as a Prometheus base URL.
fn base_url(text: &str) -> Result<Url, UrlProblem> {
    let url = Url::parse(text)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
        .ok_or(UrlProblem::NotHttp)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlProblem::Credentials);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(UrlProblem::QueryOrFragment);
    }
    Ok(url)
}

/// The query the metric stage runs, or `None` when the evaluation config
/// (the one early stop reads: `evaluationConfigFilePath`, else the default
/// path when it exists) has no `load.prometheus`. A bad `prometheusUrl`, an
/// unreadable config, or a query with no URL from either is an error.
pub fn resolve(
    args: &MetricArgs,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<InstantQuery>> {
    let setting_url = match PROMETHEUS_URL.lookup(args.prometheus_url.as_deref(), &env) {
        None => None,
        Some(given) => Some(base_url(&given.value).map_err(|problem| SettingsError {
            setting: given.name.clone(),
            value: problem.shown(&given.value),
            why: problem.why().into(),
            expected: problem.expected().into(),
        })?),
    };
    let path = match EVALUATION_CONFIG.lookup(args.evaluation_config.as_deref(), &env) {
        Some(given) => PathBuf::from(given.value),
        None if Path::new(DEFAULT_EVALUATION_CONFIG).exists() => DEFAULT_EVALUATION_CONFIG.into(),
        None => return Ok(no_query(setting_url.as_ref())),
    };
    let section: LoadSection =
        crate::yaml::load_file(&path).map_err(|error| ConfigError::from_file(&path, error))?;
    let Some(prometheus) = section.load.prometheus else {
        return Ok(no_query(setting_url.as_ref()));
    };
    let Some(url) = setting_url.or(prometheus.url) else {
        anyhow::bail!(
            "evaluation config '{}': load.prometheus has no url and the setting prometheusUrl \
             (--prometheus-url) is not set; expected one of the two, e.g. http://prometheus:9090",
            path.display()
        );
    };
    Ok(Some(InstantQuery {
        url,
        query: prometheus.query,
        timeout: Duration::from_millis(prometheus.timeout_ms),
        auth: prometheus.auth,
    }))
}

fn no_query(setting_url: Option<&Url>) -> Option<InstantQuery> {
    if let Some(url) = setting_url {
        tracing::info!(
            "prometheusUrl is {url}, but the evaluation config has no load.prometheus.query: no query runs"
        );
    }
    None
}

/// A query running on its own thread beside the probe.
#[derive(Debug)]
pub struct PendingQuery {
    query: String,
    thread: JoinHandle<Result<f64, QueryError>>,
}

impl PendingQuery {
    /// Starts `query` now, evaluated at this instant.
    pub fn start(query: InstantQuery) -> Self {
        let at = SystemTime::now();
        let text = query.query.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| QueryError::Request {
                    query: query.query.clone(),
                    url: query.url.to_string(),
                    detail: format!("starting its runtime failed: {err}"),
                })?;
            runtime.block_on(query.run(at))
        });
        PendingQuery {
            query: text,
            thread,
        }
    }

    /// Waits for the answer (at most the query's timeout after it started):
    /// the value, or `None` after one warning line saying why.
    pub fn finish(self) -> Option<f64> {
        match self.thread.join() {
            Ok(Ok(value)) => {
                tracing::info!("load: prometheus query '{}' = {value:.3}", self.query);
                Some(value)
            }
            Ok(Err(err)) => {
                tracing::warn!("{err}; load.queryValue left out of the report");
                None
            }
            Err(_) => {
                tracing::warn!(
                    "prometheus query '{}': its thread panicked; load.queryValue left out of the report",
                    self.query
                );
                None
            }
        }
    }
}

/// `load` with the query's value added (a `load` of its own when the
/// platform gave no other figure); unchanged without a value.
pub fn with_query_value(load: Option<Load>, query_value: Option<f64>) -> Option<Load> {
    match (load, query_value) {
        (load, None) => load,
        (load, Some(value)) => Some(Load {
            query_value: Some(value),
            ..load.unwrap_or_default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `load` section `text`, in an evaluation config, as the metric
    /// stage reads it, or its one-line error (tests/prometheus.rs checks
    /// that the evaluate stage refuses the same).
    fn parse(text: &str) -> Result<LoadConfig, String> {
        let indented: String = text.lines().map(|line| format!("  {line}\n")).collect();
        crate::yaml::parse_str::<LoadSection>(&format!("{TARGETS}load:\n{indented}"))
            .map(|section| section.load)
            .map_err(|error| {
                ConfigError::from_file(
                    Path::new("config.yaml"),
                    crate::yaml::FileError::Parse(error),
                )
                .to_string()
            })
    }

    #[test]
    fn a_full_section_parses_with_defaults() {
        let config = parse(
            "prometheus:\n  url: http://prometheus:9090\n  query: sum(rate(x[1m])) or vector(0)\n",
        )
        .unwrap();
        let prometheus = config.prometheus.unwrap();
        assert_eq!(prometheus.url.unwrap().as_str(), "http://prometheus:9090/");
        assert_eq!(prometheus.query, "sum(rate(x[1m])) or vector(0)");
        assert_eq!(prometheus.timeout_ms, DEFAULT_TIMEOUT_MS);
        assert_eq!(prometheus.auth, Auth::None);
        let basic = parse(
            "prometheus:\n  query: up\n  timeoutMs: 500\n  basicAuth: {username: gpa, passwordFile: /secrets/password}\n",
        )
        .unwrap()
        .prometheus
        .unwrap();
        assert_eq!(basic.url, None);
        assert_eq!(basic.timeout_ms, 500);
        assert_eq!(
            basic.auth,
            Auth::Basic {
                username: "gpa".into(),
                password_file: "/secrets/password".into()
            }
        );
        let bearer = parse("prometheus: {query: up, bearerTokenFile: /secrets/token}")
            .unwrap()
            .prometheus
            .unwrap();
        assert_eq!(bearer.auth, Auth::BearerTokenFile("/secrets/token".into()));
    }

    #[test]
    fn bad_sections_are_refused_by_key() {
        let cases = [
            (
                "prometheus: {url: 'prometheus:9090', query: up}",
                "load.prometheus.url 'prometheus:9090': not an http(s) URL; expected an http(s) base URL",
            ),
            (
                "prometheus: {url: 'http://gpa:s3cret@prometheus:9090', query: up}",
                "load.prometheus.url '(not shown)': it holds credentials; expected a URL without them",
            ),
            (
                "prometheus: {query: '  '}",
                "load.prometheus.query is empty",
            ),
            (
                "prometheus: {query: up, timeoutMs: 0}",
                "load.prometheus.timeoutMs '0' is out of range; expected 1 to 60000 milliseconds",
            ),
            (
                "prometheus: {query: up, bearerTokenFile: /t, basicAuth: {username: a, passwordFile: /p}}",
                "load.prometheus.basicAuth is given together with bearerTokenFile; expected one of the two",
            ),
            ("prometheus: {query: up, token: x}", "unknown field `token`"),
            (
                "prometheus: {url: 'http://p:9090'}",
                "missing field `query`",
            ),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
            assert!(!err.contains("s3cret") && !err.contains('\n'), "{err}");
        }
    }

    fn args_with(config: &Path, url: Option<&str>) -> MetricArgs {
        MetricArgs {
            evaluation_config: Some(config.display().to_string()),
            prometheus_url: url.map(str::to_string),
            ..MetricArgs::default()
        }
    }

    const TARGETS: &str = "targets:\n  - {method: GET, endpoint: /, type: mean, target: 100}\n";

    #[test]
    fn the_setting_overrides_the_config_s_url_and_one_of_them_is_needed() {
        let dir = tempfile::tempdir().unwrap();
        let with_url = dir.path().join("with-url.yaml");
        std::fs::write(
            &with_url,
            format!("{TARGETS}load:\n  prometheus: {{url: 'http://a:9090', query: up}}\n"),
        )
        .unwrap();
        let no_env = |_: &str| None;
        let query = resolve(&args_with(&with_url, None), no_env)
            .unwrap()
            .unwrap();
        assert_eq!(query.url.as_str(), "http://a:9090/");
        assert_eq!(query.timeout, Duration::from_secs(2));
        let query = resolve(&args_with(&with_url, Some("http://b:9090/prom")), no_env)
            .unwrap()
            .unwrap();
        assert_eq!(query.url.as_str(), "http://b:9090/prom");

        let no_url = dir.path().join("no-url.yaml");
        std::fs::write(
            &no_url,
            format!("{TARGETS}load:\n  prometheus: {{query: up}}\n"),
        )
        .unwrap();
        let err = resolve(&args_with(&no_url, None), no_env)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("load.prometheus has no url and the setting prometheusUrl (--prometheus-url) is not set"),
            "{err}"
        );
        assert!(resolve(&args_with(&no_url, Some("http://c:9090")), no_env).is_ok());

        let bad = resolve(&args_with(&no_url, Some("c:9090")), no_env)
            .unwrap_err()
            .to_string();
        assert_eq!(
            bad,
            "setting prometheusUrl (--prometheus-url) 'c:9090': not an http(s) URL; expected an \
             http(s) base URL such as http://prometheus:9090"
        );
        let secret = resolve(&args_with(&no_url, Some("http://u:pw@c:9090")), no_env)
            .unwrap_err()
            .to_string();
        assert!(!secret.contains("pw"), "{secret}");
    }

    #[test]
    fn the_query_value_sits_in_load_beside_the_cpu_keys_or_alone() {
        assert_eq!(with_query_value(None, None), None);
        let alone = with_query_value(None, Some(12.5)).unwrap();
        assert_eq!(
            serde_json::to_value(&alone).unwrap(),
            serde_json::json!({"queryValue": 12.5})
        );
        let read_back: Load =
            serde_json::from_value(serde_json::json!({"queryValue": 12.5})).unwrap();
        assert_eq!(read_back, alone);
        let err = serde_json::from_value::<Load>(serde_json::json!({"queryValue": "12"}))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("queryValue: '\"12\"' is not a number"),
            "{err}"
        );
        let with_cpu: Load = serde_json::from_value(serde_json::json!({
            "cpuUtilization": 0.5, "scaleUpCpuUtilization": 0.5, "scaleDownCpuUtilization": 0.5,
            "podsMeasured": 2, "podsReady": 2, "podsIgnored": 0, "podsMissing": 0,
            "sampledAt": "2026-12-04T16:00:00Z", "windowSeconds": 15.0
        }))
        .unwrap();
        let both = with_query_value(Some(with_cpu.clone()), Some(3.0)).unwrap();
        assert_eq!(both.cpu, with_cpu.cpu);
        let json = serde_json::to_value(&both).unwrap();
        assert_eq!(json["queryValue"], 3.0);
        assert_eq!(json["cpuUtilization"], 0.5);
        assert_eq!(
            with_query_value(Some(with_cpu.clone()), None),
            Some(with_cpu)
        );
    }

    #[test]
    fn a_config_without_a_load_section_runs_no_query() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.yaml");
        std::fs::write(&plain, TARGETS).unwrap();
        let query = resolve(&args_with(&plain, Some("http://c:9090")), |_: &str| None).unwrap();
        assert_eq!(query, None);
    }
}
