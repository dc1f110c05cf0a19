//! Asking the CPA to evaluate now: `POST` to its evaluation URL
//! (`/api/v1/evaluation` on the pod's CPA API), so a boost just recorded
//! takes effect without waiting for the next interval. A trigger that fails
//! is reported, never fatal: the boost stays and the next scheduled
//! evaluation applies it.
//!
//! Each `POST` is a whole CPA run, load test included, so requests are
//! merged: one background task posts, at most one evaluation is in flight
//! and at most one is pending. A request made while one is pending merges
//! into it, and the log line of the evaluation that serves them says how
//! many requests it served.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;

/// How long a triggered evaluation may take: the CPA answers only after a
/// whole run (the load test included).
pub const TIMEOUT: Duration = Duration::from_secs(180);

/// What [`Trigger::request`] did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    /// It is the pending evaluation; it starts when the one in flight (if
    /// any) is done.
    Queued,
    /// An evaluation was already pending; the request merged into it.
    Merged,
}

/// How many evaluations were asked for, merged and posted since the start
/// (exported on `/metrics`).
#[derive(Debug, Default)]
pub struct Counts {
    /// Requests made ([`Trigger::request`]).
    pub requested: AtomicU64,
    /// Of those, requests merged into a pending evaluation.
    pub merged: AtomicU64,
    /// Evaluations the CPA answered with 2xx.
    pub succeeded: AtomicU64,
    /// Evaluations that failed (no answer, or not 2xx).
    pub failed: AtomicU64,
}

/// The CPA's evaluation endpoint, and the queue of the one task that posts
/// to it.
#[derive(Debug, Clone)]
pub struct Trigger {
    post: Post,
    /// A slot for the one pending evaluation.
    pending: mpsc::Sender<()>,
    /// Requests not yet served by an evaluation that started.
    requests: Arc<AtomicUsize>,
    counts: Arc<Counts>,
}

/// The client and the URL: one `POST`.
#[derive(Debug, Clone)]
struct Post {
    client: reqwest::Client,
    url: String,
}

impl Trigger {
    /// A trigger for `url` (e.g. `http://localhost:5000/api/v1/evaluation`),
    /// and its posting task. Must be called inside a Tokio runtime.
    pub fn new(url: &str) -> Result<Trigger, reqwest::Error> {
        let post = Post {
            client: reqwest::Client::builder().timeout(TIMEOUT).build()?,
            url: url.to_owned(),
        };
        let (pending, queue) = mpsc::channel(1);
        let requests = Arc::new(AtomicUsize::new(0));
        let counts = Arc::new(Counts::default());
        tokio::spawn(post_each(
            post.clone(),
            queue,
            Arc::clone(&requests),
            Arc::clone(&counts),
        ));
        Ok(Trigger {
            post,
            pending,
            requests,
            counts,
        })
    }

    /// The counts since the start.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// The URL it posts to.
    pub fn url(&self) -> &str {
        &self.post.url
    }

    /// Asks for an evaluation: queued when none is pending, else merged
    /// into the pending one. Never waits.
    pub fn request(&self) -> Requested {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.counts.requested.fetch_add(1, Ordering::Relaxed);
        match self.pending.try_send(()) {
            Ok(()) => Requested::Queued,
            // Full: one is pending and serves this request too. Closed: the
            // task ended with the runtime; nothing can post any more.
            Err(_) => {
                self.counts.merged.fetch_add(1, Ordering::Relaxed);
                Requested::Merged
            }
        }
    }

    /// Posts once and waits for the CPA's answer: `Ok` with the HTTP status
    /// when it answered 2xx, else a one-line reason.
    pub async fn evaluate(&self) -> Result<u16, String> {
        self.post.send().await
    }
}

impl Post {
    async fn send(&self) -> Result<u16, String> {
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
            crate::escape::one_line(body.trim(), 200)
        ))
    }
}

/// The posting task: one evaluation per pending slot taken, serving every
/// request made until it started; logs each outcome.
async fn post_each(
    post: Post,
    mut queue: mpsc::Receiver<()>,
    requests: Arc<AtomicUsize>,
    counts: Arc<Counts>,
) {
    while queue.recv().await.is_some() {
        let served = requests.swap(0, Ordering::SeqCst);
        if served == 0 {
            // Its requests were served by the evaluation before.
            continue;
        }
        let merged = match served {
            1 => String::new(),
            n => format!(" ({} merged into it while it was pending)", n - 1),
        };
        let sent = post.send().await;
        let counter = if sent.is_ok() {
            &counts.succeeded
        } else {
            &counts.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
        match sent {
            Ok(status) => tracing::info!(
                "the CPA ran the requested evaluation for {served} notification(s){merged} ({} answered {status})",
                post.url
            ),
            Err(reason) => tracing::warn!(
                "requested evaluation for {served} notification(s){merged} failed: {reason}; the boosts stay and the next scheduled evaluation applies them"
            ),
        }
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
