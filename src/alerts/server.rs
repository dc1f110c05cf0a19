//! The HTTP server: `POST /alerts` takes Alertmanager's webhook, checks the
//! bearer token, parses the payload, applies it to the boosts file under one
//! in-process lock (load, [`record::apply`], atomic save) and asks the CPA to
//! evaluate when a boost was recorded; `GET /healthz` answers `ok`. One log
//! line per notification says what it did.
//!
//! Answers: 200 with that line; 401 (bad or missing token) and 400 (bad
//! payload) with a one-line reason, nothing written; 500 when the boosts
//! file cannot be read or written (Alertmanager retries).

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
use super::record::{self, Changes};
use super::trigger::Trigger;
use super::webhook;
use crate::boosts::{BoostsError, BoostsFile};

/// The path Alertmanager's receiver posts to.
pub const WEBHOOK_PATH: &str = "/alerts";

/// Largest notification body accepted, in bytes (axum's default limit).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The clock the server reads when a notification arrives.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Everything a request needs: the rules, the boosts file, the token, the
/// CPA trigger, the write lock and the clock.
pub struct Sidecar {
    rules: Arc<Vec<Rule>>,
    boosts_file: PathBuf,
    token: String,
    trigger: Trigger,
    writes: tokio::sync::Mutex<()>,
    clock: Clock,
}

impl Sidecar {
    /// A sidecar for a validated `config` and the bearer `token`, on the
    /// system clock.
    pub fn new(config: &AlertsConfig, token: String) -> Result<Sidecar, reqwest::Error> {
        Ok(Sidecar {
            rules: Arc::new(config.rules.clone()),
            boosts_file: config.boosts_file.clone(),
            token,
            trigger: Trigger::new(&config.evaluation_url)?,
            writes: tokio::sync::Mutex::new(()),
            clock: Arc::new(Timestamp::now),
        })
    }

    /// The same sidecar reading `clock` instead of the system clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> Sidecar {
        self.clock = clock;
        self
    }

    /// The routes, ready to serve.
    pub fn router(self) -> Router {
        Router::new()
            .route(WEBHOOK_PATH, post(receive))
            .route("/healthz", get(|| async { "ok\n" }))
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

/// Serves `sidecar` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    sidecar: Sidecar,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, sidecar.router())
        .with_graceful_shutdown(shutdown)
        .await
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
    let notification = match read_notification(body).await {
        Ok(notification) => notification,
        Err(line) => {
            tracing::warn!("rejected a notification: {line}");
            return answer(StatusCode::BAD_REQUEST, &line);
        }
    };
    let from = format!(
        "notification from receiver '{}' ({} alert(s){})",
        notification.receiver.escape_debug(),
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
    if changes.boosted() {
        sidecar.trigger.spawn();
        line.push_str(&format!(
            "; evaluation requested from {}",
            sidecar.trigger.url()
        ));
    }
    tracing::info!("{line}");
    answer(StatusCode::OK, &line)
}

/// The body, read only once the token is right, parsed; or the one-line
/// reason it is not a notification.
async fn read_notification(body: Body) -> Result<webhook::Notification, String> {
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|err| {
            format!("cannot read the request body: {err}; expected at most {MAX_BODY_BYTES} bytes")
        })?;
    webhook::parse(&body).map_err(|err| err.to_string())
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
        let mut file = BoostsFile::load(&path)?;
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
