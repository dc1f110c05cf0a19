//! Sending one planned request as a goose transaction: the request, the
//! reading of its body, what counts as its success, and the tally of why
//! requests got no response (the detail goose's own error key drops, such as
//! which certificate check failed).

use std::collections::BTreeMap;
use std::error::Error as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use goose::GooseError;
use goose::goose::{GooseRequest, GooseResponse, GooseUser, Scenario, Transaction};
use goose::goose::{TransactionError, TransactionFunction, TransactionResult};
use goose::metrics::GooseRequestMetric;

use super::{RequestPlan, ScenarioError, ScenarioPlan};

/// Pause after a request that got no response because the connection failed
/// (refused, reset, unreachable), so a down target does not become a busy loop
/// of tens of thousands of requests per second. The pause is not part of any
/// measured response time.
pub const CONNECT_ERROR_PAUSE: Duration = Duration::from_millis(10);

/// Why requests got no response, counted by cause: the innermost errors of
/// each failed request, which goose's own summary (`client error
/// (Connect)`) leaves out. Shared by every request of a scenario file.
#[derive(Debug, Default)]
pub struct NoResponseCauses {
    counts: Mutex<BTreeMap<String, u64>>,
}

impl NoResponseCauses {
    /// Counts the cause of `err`, a request that got no response.
    pub fn record(&self, err: &reqwest::Error) {
        let cause = cause_of(err);
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(cause).or_default() += 1;
        }
    }

    /// The causes seen so far and how many requests each failed.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.counts
            .lock()
            .map(|counts| counts.clone())
            .unwrap_or_default()
    }
}

/// The chain of errors under reqwest's own, joined with `: ` (reqwest's top
/// line names the URL, which the report's request name already gives).
pub fn cause_of(err: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // Some layers repeat their source's text in their own.
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}

impl ScenarioPlan {
    /// This scenario as a goose [`Scenario`].
    pub fn goose_scenario(&self) -> Result<Scenario, ScenarioError> {
        let refused = |err: GooseError| ScenarioError::Goose {
            scenario: self.name.clone(),
            detail: format!("{err:?}"),
        };
        let mut scenario = Scenario::new(&self.name)
            .set_weight(self.weight)
            .map_err(refused)?;
        if let Some((min, max)) = self.wait_time {
            scenario = scenario.set_wait_time(min, max).map_err(refused)?;
        }
        for plan in &self.transactions {
            scenario = scenario.register_transaction(plan.transaction().map_err(refused)?);
        }
        Ok(scenario)
    }
}

impl RequestPlan {
    /// This request as a goose [`Transaction`].
    pub fn transaction(&self) -> Result<Transaction, GooseError> {
        let plan = Arc::new(self.clone());
        let function: TransactionFunction = Arc::new(move |user: &mut GooseUser| {
            let plan = Arc::clone(&plan);
            Box::pin(async move { plan.send(user).await })
        });
        Transaction::new(function)
            .set_name(&self.name)
            .set_weight(self.weight)
    }

    /// Whether `status` counts as success (0 = no response never does).
    pub fn accepts(&self, status: u16) -> bool {
        if self.expected_status.is_empty() {
            (200..300).contains(&status)
        } else {
            self.expected_status.contains(&status)
        }
    }

    async fn send(&self, user: &mut GooseUser) -> TransactionResult {
        let request = self.request(user)?;
        let GooseResponse {
            mut request,
            response,
        } = user.request(request).await?;
        // goose has timed the request up to the response headers. Read the
        // body too (bounded by the client's timeout, which covers it), so the
        // connection can be reused and a body that never arrives is a failure.
        let (connect_failed, body_error) = match response {
            Ok(response) => (false, response.bytes().await.err()),
            Err(err) => {
                self.no_response.record(&err);
                (err.is_connect(), None)
            }
        };
        self.judge(user, &mut request, body_error)?;
        if connect_failed {
            tokio::time::sleep(CONNECT_ERROR_PAUSE).await;
        }
        Ok(())
    }

    /// The goose request: the path under the host's own path, the headers
    /// and body, named for the report.
    fn request<'a>(&'a self, user: &GooseUser) -> Result<GooseRequest<'a>, Box<TransactionError>> {
        let method = self.method.goose();
        let url;
        let target = if user.base_url.path() == "/" {
            self.path.as_str()
        } else {
            url = url_under(&user.base_url, &self.path).map_err(|err| Box::new(err.into()))?;
            url.as_str()
        };
        let mut builder = user
            .get_request_builder(&method, target)?
            .headers(self.headers.clone());
        if let Some(body) = &self.body {
            builder = builder.body(body.clone());
        }
        Ok(GooseRequest::builder()
            .method(method)
            .path(self.path.as_str())
            .name(self.name.as_str())
            .set_request_builder(builder)
            .build())
    }

    /// Records whether the request succeeded: an expected status and, for
    /// one, the whole body read.
    fn judge(
        &self,
        user: &mut GooseUser,
        request: &mut GooseRequestMetric,
        body_error: Option<reqwest::Error>,
    ) -> TransactionResult {
        let status = request.status_code;
        // set_failure reports the failure as an Err by design; the failure is
        // recorded in the metrics, the transaction itself goes on.
        if !self.accepts(status) {
            if request.success {
                let tag = format!(
                    "{status}: {} {}: unexpected status; expected {}",
                    self.method.as_str(),
                    self.name,
                    self.expected_description()
                );
                let _ = user.set_failure(&tag, request, None, None);
            }
        } else if let Some(err) = body_error {
            let why = if err.is_timeout() {
                "timed out reading the response body"
            } else {
                "reading the response body failed"
            };
            let tag = format!(
                "{status}: {} {}: {why}; expected the whole body within the request timeout",
                self.method.as_str(),
                self.name,
            );
            tracing::debug!(request = %self.name, error = %err, "response body");
            if !request.success {
                user.set_success(request)?;
            }
            let _ = user.set_failure(&tag, request, None, None);
        } else if !request.success {
            user.set_success(request)?;
        }
        Ok(())
    }

    fn expected_description(&self) -> String {
        if self.expected_status.is_empty() {
            "any 2xx".into()
        } else {
            self.expected_status
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" or ")
        }
    }
}

/// The URL of `path` (which starts with a single `/`) on the host `base`,
/// keeping the base URL's path as a prefix the way Locust did:
/// `http://svc/api` (or `http://svc/api/`) and `/x?n=1` give
/// `http://svc/api/x?n=1`. The base URL's own query and fragment are dropped.
pub fn url_under(base: &reqwest::Url, path: &str) -> Result<reqwest::Url, UrlParseError> {
    let prefix = base.path().trim_end_matches('/');
    base.join(&format!("{prefix}{path}"))
}

/// The URL parser's error (`url::ParseError`), named through reqwest's `Url`
/// since the `url` crate is not a direct dependency.
pub type UrlParseError = <reqwest::Url as std::str::FromStr>::Err;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_under_the_hosts_own_path() {
        let cases = [
            ("http://svc:8000", "/x?n=1", "http://svc:8000/x?n=1"),
            ("http://svc/api", "/x?n=1", "http://svc/api/x?n=1"),
            ("http://svc/api/", "/x", "http://svc/api/x"),
            ("https://svc/a/b?q=1#f", "/", "https://svc/a/b/"),
            ("http://svc/api", "/x/../y", "http://svc/api/y"),
        ];
        for (base, path, want) in cases {
            let base = reqwest::Url::parse(base).unwrap();
            assert_eq!(
                url_under(&base, path).unwrap().as_str(),
                want,
                "{base} + {path}"
            );
        }
    }
}
