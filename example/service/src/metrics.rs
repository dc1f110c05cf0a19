//! The service's request counter, served on `GET /metrics` for Prometheus.
//!
//! `http_requests_total` counts every request that reaches the routes it
//! wraps, once, when it ends: by its answer's `status`, or `499` (nginx's
//! "client closed request") when the client went away before an answer.
//! Requests answered 503 by a layer inside it (a queue that is full) count
//! like any other, so the counter measures the load that arrives, not the
//! load that was served. The `probe` label is `true` for requests that carry
//! the [`PROBE_HEADER`] header (the autoscaler's probe sends it from its
//! scenario file), so a query can leave the probe's own requests out:
//! `sum(rate(http_requests_total{probe="false"}[1m]))`.
//!
//! Scrapes of `/metrics` itself are not counted. The exposition is
//! Prometheus's text format 0.0.4, written by the `prometheus` crate: what
//! every Prometheus scrapes and what `promtool check metrics` lints. (The
//! `prometheus-client` crate writes OpenMetrics only, whose counters that
//! linter reads as a family without samples beside an untyped one without
//! help.)

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus::{Encoder, IntCounterVec, Opts, Registry, TextEncoder};

/// A request carrying this header counts with `probe="true"`.
pub const PROBE_HEADER: &str = "x-load-probe";

/// The status counted for a request whose client went away before it was
/// answered (nginx's "client closed request").
pub const CLIENT_CLOSED_REQUEST: u16 = 499;

/// The counter's name.
pub const REQUESTS_TOTAL: &str = "http_requests_total";

/// The labels of one `http_requests_total` series.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub struct RequestLabels {
    /// The answer's HTTP status, or [`CLIENT_CLOSED_REQUEST`].
    pub status: u16,
    /// True when the request carried [`PROBE_HEADER`].
    pub probe: bool,
}

impl RequestLabels {
    /// The label values in the counter's label order (`status`, `probe`).
    fn values(&self) -> [String; 2] {
        [self.status.to_string(), self.probe.to_string()]
    }
}

/// The registry and the counter; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct RequestMetrics {
    registry: Arc<Registry>,
    requests: IntCounterVec,
}

impl Default for RequestMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestMetrics {
    /// A registry holding `http_requests_total`, with no series yet.
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                REQUESTS_TOTAL,
                "Requests that reached the service, by answer status (499: the client went away first) and by whether the autoscaler's probe sent them.",
            ),
            &["status", "probe"],
        )
        .expect("the counter's name and labels are valid");
        registry
            .register(Box::new(requests.clone()))
            .expect("a new registry holds no other collector");
        RequestMetrics {
            registry: Arc::new(registry),
            requests,
        }
    }

    /// `app` with every request counted, and `GET /metrics` (not counted)
    /// serving the counter.
    pub fn serve(&self, app: Router) -> Router {
        let counted = app.layer(middleware::from_fn_with_state(self.clone(), count));
        Router::new()
            .route("/metrics", get(expose).with_state(self.clone()))
            .merge(counted)
    }

    /// The exposition, Prometheus's text format 0.0.4.
    pub fn encode(&self) -> String {
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_default()
    }

    /// Requests counted so far with these labels.
    pub fn count(&self, labels: RequestLabels) -> u64 {
        self.requests.with_label_values(&labels.values()).get()
    }
}

/// Counts one request when it is dropped: with the status set once the
/// answer is there, else as [`CLIENT_CLOSED_REQUEST`].
struct Tally<'a> {
    metrics: &'a RequestMetrics,
    labels: RequestLabels,
}

impl Drop for Tally<'_> {
    fn drop(&mut self) {
        self.metrics
            .requests
            .with_label_values(&self.labels.values())
            .inc();
    }
}

async fn count(State(metrics): State<RequestMetrics>, request: Request, next: Next) -> Response {
    let mut tally = Tally {
        metrics: &metrics,
        labels: RequestLabels {
            status: CLIENT_CLOSED_REQUEST,
            probe: request.headers().contains_key(PROBE_HEADER),
        },
    };
    let response = next.run(request).await;
    tally.labels.status = response.status().as_u16();
    response
}

async fn expose(State(metrics): State<RequestMetrics>) -> impl IntoResponse {
    let encoder = TextEncoder::new();
    (
        [(CONTENT_TYPE, encoder.format_type().to_string())],
        metrics.encode(),
    )
}
