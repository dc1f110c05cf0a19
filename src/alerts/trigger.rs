//! Asking the CPA to evaluate now: `POST` to its evaluation URL
//! (`/api/v1/evaluation` on the pod's CPA API), so a boost just recorded
//! takes effect without waiting for the next interval. A trigger that fails
//! is reported, never fatal: the boost stays and the next scheduled
//! evaluation applies it.

use std::time::Duration;

/// How long a triggered evaluation may take: the CPA answers only after a
/// whole run (the load test included).
pub const TIMEOUT: Duration = Duration::from_secs(180);

/// The CPA's evaluation endpoint and the client that calls it.
#[derive(Debug, Clone)]
pub struct Trigger {
    client: reqwest::Client,
    url: String,
}

impl Trigger {
    /// A trigger for `url` (e.g. `http://localhost:5000/api/v1/evaluation`).
    pub fn new(url: &str) -> Result<Trigger, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        Ok(Trigger {
            client,
            url: url.to_owned(),
        })
    }

    /// The URL it posts to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Posts once; `Ok` with the HTTP status when the CPA answered 2xx, else
    /// a one-line reason.
    pub async fn evaluate(&self) -> Result<u16, String> {
        let response = self
            .client
            .post(&self.url)
            .send()
            .await
            .map_err(|err| format!("cannot reach the CPA at {}: {}", self.url, chain(&err)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(status.as_u16());
        }
        let body = response.text().await.unwrap_or_default();
        Err(format!(
            "the CPA at {} answered {status}: {}",
            self.url,
            body.trim().escape_debug()
        ))
    }

    /// Posts in the background and logs the outcome: the webhook's answer
    /// does not wait for the CPA's whole run.
    pub fn spawn(&self) {
        let trigger = self.clone();
        tokio::spawn(async move {
            match trigger.evaluate().await {
                Ok(status) => tracing::info!(
                    "the CPA ran the requested evaluation ({} answered {status})",
                    trigger.url
                ),
                Err(reason) => tracing::warn!(
                    "requested evaluation failed: {reason}; the boost stays and the next scheduled evaluation applies it"
                ),
            }
        });
    }
}

/// An error and its sources on one line: reqwest's own message hides the
/// cause (connection refused, timed out) in the chain.
fn chain(err: &dyn std::error::Error) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}
