//! The HTTP routes: `POST /alerts` takes Alertmanager's webhook, checks the
//! bearer token, reads the body within [`Limits::body_read`], parses the
//! payload, applies it to the boosts file under one in-process lock (load,
//! [`record::apply`], atomic save) and asks the CPA to evaluate when a
//! floor changed ([`Trigger::request`], which merges requests); `GET
//! /healthz` answers `ok`; `GET /metrics` serves [`metrics::exposition`]. One log line per notification says what it did,
//! every outside value in it escaped and shortened.
//!
//! Answers: 200 with that line; 401 (bad or missing token), 400 (bad
//! payload) and 408 (body too slow) with a one-line reason, nothing written;
//! 500 when the boosts file cannot be read or written (Alertmanager
//! retries). A boosts file that is not a boosts document is moved aside
//! with a warning, and the notification starts from no boost.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;

use super::config::{AlertsConfig, Rule};
use super::connections::{self, Limits};
use super::metrics;
use super::record::{self, Changes};
use super::trigger::{Requested, Trigger};
use super::webhook;
use crate::boosts::{BoostsError, BoostsFile};
use crate::escape::one_line;

/// Longest receiver name written to a log line, in characters.
const MAX_RECEIVER_CHARS: usize = 128;

/// The path Alertmanager's receiver posts to.
pub const WEBHOOK_PATH: &str = "/alerts";

/// Largest notification body accepted, in bytes (axum's default limit).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The clock the server reads when a notification arrives.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Everything a request needs: the rules, the boosts file, the token, the
/// CPA trigger, the write lock, the clock and the connection limits.
pub struct Sidecar {
    rules: Arc<Vec<Rule>>,
    boosts_file: PathBuf,
    status_file: Option<PathBuf>,
    token: String,
    trigger: Trigger,
    writes: tokio::sync::Mutex<()>,
    clock: Clock,
    limits: Limits,
}

impl Sidecar {
    /// A sidecar for a validated `config` and the bearer `token`, on the
    /// system clock, with the [`connections::DEFAULT_LIMITS`]. Must be
    /// called inside a Tokio runtime (the trigger's task starts here).
    pub fn new(config: &AlertsConfig, token: String) -> Result<Sidecar, reqwest::Error> {
        Ok(Sidecar {
            rules: Arc::new(config.rules.clone()),
            boosts_file: config.boosts_file.clone(),
            status_file: config.status_file.clone(),
            token,
            trigger: Trigger::new(&config.evaluation_url)?,
            writes: tokio::sync::Mutex::new(()),
            clock: Arc::new(Timestamp::now),
            limits: connections::DEFAULT_LIMITS,
        })
    }

    /// The same sidecar reading `clock` instead of the system clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> Sidecar {
        self.clock = clock;
        self
    }

    /// The same sidecar with other connection limits (tests).
    pub fn with_limits(mut self, limits: Limits) -> Sidecar {
        self.limits = limits;
        self
    }

    /// The routes, ready to serve.
    pub fn router(self) -> Router {
        Router::new()
            .route(WEBHOOK_PATH, post(receive))
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/metrics", get(scrape))
            .with_state(Arc::new(self))
    }

    /// Why `headers` do not authorize a request, or `None` when they carry
    /// `Authorization: Bearer <our token>`. Compared in constant time.
    fn refusal(&self, headers: &HeaderMap) -> Option<&'static str> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Some("missing Authorization header; expected 'Authorization: Bearer <token>'");
        };
        let value = value.as_bytes();
        let Some((scheme, token)) = value
            .iter()
            .position(|&b| b == b' ')
            .map(|space| (&value[..space], value[space + 1..].trim_ascii()))
        else {
            return Some("Authorization header is not 'Bearer <token>'");
        };
        if !scheme.eq_ignore_ascii_case(b"bearer") {
            return Some(
                "Authorization scheme is not Bearer; expected 'Authorization: Bearer <token>'",
            );
        }
        if bool::from(token.ct_eq(self.token.as_bytes())) {
            None
        } else {
            Some("wrong bearer token")
        }
    }
}

/// Serves `sidecar` on `listener` within its limits until `shutdown`
/// completes, then gives the requests in flight [`Limits::shutdown_grace`]
/// and returns ([`connections::serve`]).
pub async fn serve(
    listener: TcpListener,
    sidecar: Sidecar,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let limits = sidecar.limits;
    connections::serve(listener, sidecar.router(), limits, shutdown).await;
}

/// `GET /metrics`: the exposition ([`metrics::exposition`]), read off the
/// async threads (it reads two files).
async fn scrape(State(sidecar): State<Arc<Sidecar>>, headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let open_metrics = metrics::wants_open_metrics(accept);
    let now = (sidecar.clock)();
    let worker = Arc::clone(&sidecar);
    let text = tokio::task::spawn_blocking(move || {
        metrics::exposition(&metrics::Sources {
            status_file: worker.status_file.as_deref(),
            boosts_file: &worker.boosts_file,
            counts: worker.trigger.counts(),
            rules: worker.rules.iter().map(|rule| rule.name.as_str()).collect(),
            now,
        })
    })
    .await;
    match text {
        Ok(text) if open_metrics => {
            ([(header::CONTENT_TYPE, metrics::OPEN_METRICS)], text).into_response()
        }
        Ok(text) => (
            [(header::CONTENT_TYPE, metrics::CLASSIC)],
            metrics::classic(&text),
        )
            .into_response(),
        Err(err) => answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("cannot build the metrics: {err}"),
        ),
    }
}

/// A plain-text answer of one line.
fn answer(status: StatusCode, line: &str) -> Response {
    (status, format!("{line}\n")).into_response()
}

async fn receive(State(sidecar): State<Arc<Sidecar>>, headers: HeaderMap, body: Body) -> Response {
    if let Some(reason) = sidecar.refusal(&headers) {
        tracing::warn!("refused a notification: {reason}");
        let mut response = answer(StatusCode::UNAUTHORIZED, reason);
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            "Bearer".parse().expect("a header value"),
        );
        return response;
    }
    let notification = match read_notification(body, sidecar.limits).await {
        Ok(notification) => notification,
        Err((status, line)) => {
            tracing::warn!("rejected a notification: {line}");
            return answer(status, &line);
        }
    };
    let from = format!(
        "notification from receiver '{}' ({} alert(s){})",
        one_line(&notification.receiver, MAX_RECEIVER_CHARS),
        notification.alerts.len(),
        match notification.truncated_alerts {
            0 => String::new(),
            n => format!(", {n} truncated by max_alerts"),
        }
    );
    let changes = match write(&sidecar, notification).await {
        Ok(changes) => changes,
        Err(err) => {
            let line = format!("{from}: nothing recorded: {err}");
            tracing::error!("{line}");
            return answer(StatusCode::INTERNAL_SERVER_ERROR, &line);
        }
    };
    let mut line = format!("{from}: {changes}");
    if changes.floor_changed {
        let how = match sidecar.trigger.request() {
            Requested::Queued => "",
            Requested::Merged => " (merged into the one pending)",
        };
        line.push_str(&format!(
            "; evaluation requested from {}{how}",
            sidecar.trigger.url()
        ));
    } else if changes.boosted() {
        line.push_str("; no floor changed, so no evaluation requested");
    }
    if changes.refused > 0 {
        tracing::warn!("{line}");
    } else {
        tracing::info!("{line}");
    }
    answer(StatusCode::OK, &line)
}

/// The body, read only once the token is right and within
/// [`Limits::body_read`], parsed; or the status and one-line reason it is
/// not a notification.
async fn read_notification(
    body: Body,
    limits: Limits,
) -> Result<webhook::Notification, (StatusCode, String)> {
    let read = axum::body::to_bytes(body, MAX_BODY_BYTES);
    let body = match tokio::time::timeout(limits.body_read, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(err)) => {
            return Err((
                StatusCode::BAD_REQUEST,
                format!(
                    "cannot read the request body: {err}; expected at most {MAX_BODY_BYTES} bytes"
                ),
            ));
        }
        Err(_) => {
            return Err((
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s; expected the whole notification at once",
                    limits.body_read.as_secs_f64()
                ),
            ));
        }
    };
    webhook::parse(&body).map_err(|err| (StatusCode::BAD_REQUEST, err.to_string()))
}

/// Load, apply, save (when something changed), under the write lock, off the
/// async threads (the save fsyncs).
async fn write(
    sidecar: &Arc<Sidecar>,
    notification: webhook::Notification,
) -> Result<Changes, BoostsError> {
    let _guard = sidecar.writes.lock().await;
    // Whole seconds: the expiries in the file and the log read plainly.
    let now = (sidecar.clock)();
    let now = Timestamp::from_second(now.as_second()).unwrap_or(now);
    let path = sidecar.boosts_file.clone();
    let rules = Arc::clone(&sidecar.rules);
    tokio::task::spawn_blocking(move || {
        let (mut file, moved) = BoostsFile::load_or_move_aside(&path, now)?;
        if let Some(warning) = moved {
            tracing::warn!("{warning}");
        }
        let changes = record::apply(&mut file, &notification, &rules, now);
        if changes.changed_file() {
            file.save(&path)?;
        }
        Ok(changes)
    })
    .await
    .unwrap_or_else(|err| {
        Err(BoostsError::Write {
            path: sidecar.boosts_file.clone(),
            error: std::io::Error::other(err.to_string()),
        })
    })
}
