//! The example service's `/metrics`: the request counter counts every
//! request once by status (a client that went away counts 499), labels the
//! probe's requests, leaves the scrapes out, and what it serves passes
//! `promtool check metrics`.

use std::process::{Command, Stdio};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use fibonacci_service::metrics::{PROBE_HEADER, RequestLabels, RequestMetrics};
use tower::ServiceExt;

async fn send(app: &Router, path: &str, probe: bool) -> (StatusCode, String) {
    let mut request = Request::get(path);
    if probe {
        request = request.header(PROBE_HEADER, "gpa");
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn labels(status: u16, probe: bool) -> RequestLabels {
    RequestLabels { status, probe }
}

#[tokio::test]
async fn every_request_counts_once_by_status_and_probe_and_scrapes_do_not() {
    let metrics = RequestMetrics::new();
    let app = fibonacci_service::app(&metrics);
    for _ in 0..3 {
        assert_eq!(send(&app, "/fibonacci?n=10", false).await.0, StatusCode::OK);
    }
    assert_eq!(send(&app, "/fibonacci?n=10", true).await.0, StatusCode::OK);
    assert_eq!(
        send(&app, "/fibonacci?n=100", false).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(send(&app, "/nowhere", false).await.0, StatusCode::NOT_FOUND);
    let (status, text) = send(&app, "/metrics", false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(metrics.count(labels(200, false)), 3);
    assert_eq!(metrics.count(labels(200, true)), 1);
    assert_eq!(metrics.count(labels(400, false)), 1);
    assert_eq!(metrics.count(labels(404, false)), 1);
    assert!(
        text.contains("http_requests_total{probe=\"false\",status=\"200\"} 3\n"),
        "{text}"
    );
    assert!(
        text.contains("http_requests_total{probe=\"true\",status=\"200\"} 1\n"),
        "{text}"
    );
    // The scrape above is not counted: still six requests in all.
    let after = send(&app, "/metrics", false).await.1;
    let total: u64 = after
        .lines()
        .filter(|line| line.starts_with("http_requests_total{"))
        .map(|line| line.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 6, "{after}");
}

#[tokio::test]
async fn a_request_whose_client_goes_away_counts_as_499() {
    let metrics = RequestMetrics::new();
    let never = Router::new().route("/slow", get(std::future::pending::<&'static str>));
    let app = metrics.serve(never);
    let request = Request::get("/slow").body(Body::empty()).unwrap();
    let gave_up = tokio::time::timeout(Duration::from_millis(50), app.oneshot(request)).await;
    assert!(gave_up.is_err(), "the handler never answers");
    assert_eq!(metrics.count(labels(499, false)), 1);
}

/// The exposition through `promtool check metrics`, when promtool is there.
#[tokio::test]
async fn the_exposition_passes_promtool_check_metrics() {
    let metrics = RequestMetrics::new();
    let app = fibonacci_service::app(&metrics);
    send(&app, "/fibonacci?n=10", false).await;
    send(&app, "/fibonacci?n=10", true).await;
    send(&app, "/fibonacci?n=100", false).await;
    let (_, text) = send(&app, "/metrics", false).await;
    let Some(output) = promtool_check(&text) else {
        return;
    };
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `promtool check metrics` of `text`; `None` (the test passes) when
/// promtool is not installed, unless `CI` is set, where it must be.
fn promtool_check(text: &str) -> Option<std::process::Output> {
    use std::io::Write;
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var_os("CI").is_none(),
                "promtool is not installed, and CI needs it: apt-get install -y --no-install-recommends prometheus"
            );
            eprintln!(
                "promtool not installed: check skipped; install it with `apt-get install -y --no-install-recommends prometheus`"
            );
            return None;
        }
        Err(err) => panic!("starting promtool: {err}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    Some(child.wait_with_output().unwrap())
}
