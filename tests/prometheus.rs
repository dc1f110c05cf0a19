//! The metric stage's Prometheus query against a real Prometheus (Debian's
//! `prometheus` package), started on 127.0.0.1 with a 1 s scrape interval
//! and temporary storage, scraping a local server whose counter rises at a
//! known rate. Also: Prometheus down, a server that never answers, no
//! series, two series, a syntax error the server rejects, NaN and a scalar.
//! The simulated service counts its 503s and its `/metrics` passes
//! `promtool check metrics`.
//!
//! And `gpa-metric` itself: the query's value reaches the report as
//! `load.queryValue`; a failed query is one line, the key left out and the
//! latency reported; bad Prometheus settings are one line and exit 1; a
//! bearer token never reaches the log, even at trace level.
//!
//! Without the `prometheus` executable the real-Prometheus test prints how
//! to install it and passes, except under CI (env `CI` set), where it fails.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::routing::get;
use common::{TestServer, cpa_input, gpa_metric, refused_url, run, scenario_file, single_get};
use goose_pod_autoscaler::metric::prometheus::{Auth, InstantQuery, QueryError};
use goose_pod_autoscaler::simulate;
use goose_pod_autoscaler::simulate::capacity::{Capacity, CapacitySettings};
use goose_pod_autoscaler::simulate::prometheus::PrometheusServer;
use reqwest::Url;

/// The test counter's slope, per second.
const RATE_PER_SECOND: f64 = 20.0;

/// A server on 127.0.0.1 whose `/metrics` holds `test_requests_total`,
/// rising by [`RATE_PER_SECOND`] every second of wall time (whatever the
/// machine's load), and two series of `test_two_series`.
async fn counter_server() -> SocketAddr {
    let started = Instant::now();
    let exposition = move || async move {
        let count = (started.elapsed().as_secs_f64() * RATE_PER_SECOND).floor();
        format!(
            "# HELP test_requests_total Requests, rising at a known rate.\n\
             # TYPE test_requests_total counter\n\
             test_requests_total {count}\n\
             # HELP test_two_series A metric with two series.\n\
             # TYPE test_two_series gauge\n\
             test_two_series{{kind=\"a\"}} 1\n\
             test_two_series{{kind=\"b\"}} 2\n"
        )
    };
    let app = Router::new().route("/metrics", get(exposition));
    serve(app).await
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    address
}

fn query(url: &str, text: &str) -> InstantQuery {
    InstantQuery {
        url: Url::parse(url).unwrap(),
        query: text.to_string(),
        timeout: Duration::from_secs(2),
        auth: Auth::None,
    }
}

/// Waits (at most 60 s) until Prometheus holds at least `samples` samples
/// of the counter within the last 10 s.
async fn wait_for_samples(url: &str, samples: f64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let count = query(url, "count_over_time(test_requests_total[10s])");
    loop {
        if let Ok(n) = count.run(SystemTime::now()).await
            && n >= samples
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus at {url} did not scrape {samples} samples within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_answers_the_rate_and_names_what_is_not_one_number() {
    if !common::prometheus_installed() {
        return;
    }
    let target = counter_server().await;
    let prometheus = PrometheusServer::start(target).await.unwrap();
    let url = prometheus.url().to_string();
    // rate() divides by the whole range, so the range must be full of
    // samples: 9 s of them, for a range of 6 s.
    wait_for_samples(&url, 9.0).await;

    // The rate, over 6 s of 1 s scrapes: 20/s. A scrape handled late on a
    // busy machine shifts a sample by its delay; 15 % allows 0.9 s of skew
    // over the 6 s range, far more than it takes.
    let rate = query(&url, "sum(rate(test_requests_total[6s])) or vector(0)")
        .run(SystemTime::now())
        .await
        .unwrap();
    eprintln!("rate over 6 s: {rate} (expected {RATE_PER_SECOND})");
    assert!(
        (rate - RATE_PER_SECOND).abs() <= 0.15 * RATE_PER_SECOND,
        "rate {rate}, expected {RATE_PER_SECOND} within 15 %"
    );

    // The `or vector(0)` idiom: a counter nobody has yet reads 0 ...
    let quiet = "sum(rate(not_there_total[10s])) or vector(0)";
    assert_eq!(query(&url, quiet).run(SystemTime::now()).await, Ok(0.0));
    // ... and without it the query has no series.
    let missing = "sum(rate(not_there_total[10s]))";
    assert_eq!(
        query(&url, missing).run(SystemTime::now()).await,
        Err(QueryError::NoSeries {
            query: missing.into()
        })
    );

    let two = query(&url, "test_two_series").run(SystemTime::now()).await;
    let err = two.unwrap_err();
    assert!(
        matches!(&err, QueryError::SeveralSeries { count: 2, series, .. }
            if series.contains("kind=\"a\"") && series.contains("kind=\"b\"")),
        "{err}"
    );

    // A syntax error: Prometheus answers 400 with its own message.
    let err = query(&url, "sum(rate(test_requests_total[10s])")
        .run(SystemTime::now())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, QueryError::Http { status: 400, .. })
            && text.contains("bad_data")
            && text.contains("parse error")
            && !text.contains('\n'),
        "{text}"
    );

    let err = query(&url, "vector(0) / 0")
        .run(SystemTime::now())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        QueryError::BadValue {
            query: "vector(0) / 0".into(),
            value: "NaN".into()
        }
    );
    let err = query(&url, "1 + 1")
        .run(SystemTime::now())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, QueryError::NotVector { result_type, .. } if result_type == "scalar"),
        "{err}"
    );

    // Evaluated at an instant before the first scrape, the counter has no
    // sample yet: the query's range ends at `time`, not when it is sent.
    let before = SystemTime::now() - Duration::from_secs(3600);
    assert_eq!(
        query(&url, "count(test_requests_total) or vector(0)")
            .run(before)
            .await,
        Ok(0.0)
    );
    // The metric stage's report carries the query's value.
    let report = tokio::task::spawn_blocking(move || {
        metric_with_query(&url, "sum(rate(test_requests_total[6s])) or vector(0)")
    })
    .await
    .unwrap();
    // Without kubernetesMetrics on stdin, `load` holds the query's key only.
    let keys: Vec<&String> = report["load"]
        .as_object()
        .unwrap_or_else(|| panic!("a load object in {report}"))
        .keys()
        .collect();
    assert_eq!(keys, ["queryValue"], "{report}");
    let value = report["load"]["queryValue"].as_f64().unwrap();
    eprintln!("load.queryValue: {value} (expected {RATE_PER_SECOND})");
    assert!(
        (value - RATE_PER_SECOND).abs() <= 0.15 * RATE_PER_SECOND,
        "load.queryValue {value}, expected {RATE_PER_SECOND} within 15 %"
    );
    assert!(report["requests"]["GET /"]["count"].as_u64().unwrap() > 0);
    prometheus.stop().await;
}

/// An evaluation config with one target and `load.prometheus.query`
/// `query` (its url from the prometheusUrl setting), in `dir`.
fn config_with_query(dir: &std::path::Path, query: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("evaluation_config.yaml");
    std::fs::write(
        &path,
        format!(
            "targets:\n  - {{method: GET, endpoint: /, type: mean, target: 1000}}\n\
             load:\n  prometheus:\n    query: '{query}'\n{extra}"
        ),
    )
    .unwrap();
    path
}

/// `gpa-metric` for 1 s against a local server, with the query `query` at
/// the Prometheus `url`, and `envs` added: its run.
fn metric_run(url: &str, query: &str, extra: &str, envs: &[(&str, &str)]) -> common::Run {
    let dir = tempfile::tempdir().unwrap();
    let service = TestServer::start();
    let mut cmd = gpa_metric();
    cmd.env("gooseHost", &service.url)
        .env("gooseUsers", "2")
        .env("gooseRunTime", "1")
        .env("gooseEarlyStop", "false")
        .env(
            "scenarioFilePath",
            scenario_file(dir.path(), &single_get("/")),
        )
        .env(
            "evaluationConfigFilePath",
            config_with_query(dir.path(), query, extra),
        )
        .env("prometheusUrl", url);
    for (name, value) in envs {
        cmd.env(name, value);
    }
    run(cmd, &cpa_input(1))
}

/// The report of a successful [`metric_run`].
fn metric_with_query(url: &str, query: &str) -> serde_json::Value {
    let run = metric_run(url, query, "", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn a_failed_query_is_one_line_the_key_left_out_and_the_latency_reported() {
    let down = refused_url();
    let run = metric_run(&down, "sum(rate(x[1m])) or vector(0)", "", &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(report.get("load").is_none(), "{report}");
    assert!(report["requests"]["GET /"]["count"].as_u64().unwrap() > 0);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains("prometheus query"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].contains(&format!(
            "prometheus query 'sum(rate(x[1m])) or vector(0)' at {down}/: Prometheus is down"
        )) && lines[0].contains("load.queryValue left out of the report"),
        "{}",
        lines[0]
    );
}

#[test]
fn bad_prometheus_settings_are_one_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "prometheus:9090",
            "",
            "setting prometheusUrl (--prometheus-url) 'prometheus:9090': not an http(s) URL; expected",
        ),
        (
            "http://gpa:s3cret@prometheus:9090",
            "",
            "setting prometheusUrl (--prometheus-url) '(not shown)': it holds credentials",
        ),
        (
            "http://127.0.0.1:9",
            "    timeoutMs: 0\n",
            "load.prometheus.timeoutMs '0' is out of range; expected 1 to 60000 milliseconds",
        ),
    ];
    for (url, extra, want) in cases {
        let run = metric_run(url, "up", extra, &[]);
        assert_eq!(run.code, Some(1), "{url}: {}", run.stderr);
        assert!(run.stdout.is_empty());
        let last = run.stderr.lines().last().unwrap_or_default();
        assert!(last.contains(want), "{url}: {}", run.stderr);
        assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
    }
    // A query with no url from the config nor the setting.
    let service = TestServer::start();
    let mut cmd = gpa_metric();
    cmd.env("gooseHost", &service.url)
        .env(
            "scenarioFilePath",
            scenario_file(dir.path(), &single_get("/")),
        )
        .env(
            "evaluationConfigFilePath",
            config_with_query(dir.path(), "up", ""),
        );
    let run = run(cmd, &cpa_input(1));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "load.prometheus has no url and the setting prometheusUrl (--prometheus-url) is not set"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_bearer_token_is_sent_and_never_logged_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret-token-42\n").unwrap();
    // A server that records what it gets and is no Prometheus.
    let fake = TestServer::start();
    let run = metric_run(
        &fake.url,
        "up",
        &format!("    bearerTokenFile: {}\n", token.display()),
        &[("GPA_LOG", "trace")],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let sent: Vec<_> = fake
        .record
        .seen()
        .into_iter()
        .filter(|seen| seen.target.starts_with("/api/v1/query?"))
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].authorization.as_deref(),
        Some("Bearer s3cret-token-42")
    );
    assert!(!run.stderr.contains("s3cret"), "the token is in the log");
    assert!(
        run.stderr
            .contains("prometheus query 'up': the answer is not Prometheus JSON"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn prometheus_down_is_named_with_the_query_and_the_url() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let err = query(&url, "up").run(SystemTime::now()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, QueryError::Down { .. }), "{text}");
    assert!(
        text.starts_with(&format!(
            "prometheus query 'up' at {url}/: Prometheus is down: "
        )),
        "{text}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout_within_its_bound() {
    let app = Router::new().route(
        "/api/v1/query",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late"
        }),
    );
    let address = serve(app).await;
    let slow = InstantQuery {
        timeout: Duration::from_millis(300),
        ..query(&format!("http://{address}"), "up")
    };
    let started = Instant::now();
    let err = slow.run(SystemTime::now()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        err.to_string(),
        format!(
            "prometheus query 'up' at http://{address}/: no answer within 300 ms; expected an \
             answer within the timeout (load.prometheus.timeoutMs)"
        )
    );
}

#[tokio::test]
async fn credentials_are_read_from_their_files_at_each_query_and_sent() {
    use axum::http::HeaderMap;
    let app = Router::new().route(
        "/api/v1/query",
        get(|headers: HeaderMap| async move {
            let authorization = headers
                .get("authorization")
                .and_then(|value| value.to_str().ok())
                .unwrap_or("")
                .to_string();
            let value = match authorization.as_str() {
                "Bearer s3cret-token" => "1",
                // gpa:pa55word
                "Basic Z3BhOnBhNTV3b3Jk" => "2",
                _ => "-1",
            };
            format!(
                r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[1,"{value}"]}}]}}}}"#
            )
        }),
    );
    let address = serve(app).await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, "pa55word\n").unwrap();
    let base = query(&format!("http://{address}"), "up");
    let bearer = InstantQuery {
        auth: Auth::BearerTokenFile(token),
        ..base.clone()
    };
    assert_eq!(bearer.run(SystemTime::now()).await, Ok(1.0));
    let basic = InstantQuery {
        auth: Auth::Basic {
            username: "gpa".into(),
            password_file: password,
        },
        ..base.clone()
    };
    assert_eq!(basic.run(SystemTime::now()).await, Ok(2.0));
    let missing = InstantQuery {
        auth: Auth::BearerTokenFile(dir.path().join("no-such-token")),
        ..base
    };
    let text = missing
        .run(SystemTime::now())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        text.starts_with("prometheus query 'up': cannot read load.prometheus.bearerTokenFile '")
            && text.contains("no-such-token"),
        "{text}"
    );
}

/// `promtool check metrics` of `text`; `None` (the test passes) when
/// promtool is not installed, unless `CI` is set, where it must be.
fn promtool_check(text: &str) -> Option<std::process::Output> {
    use std::io::Write;
    use std::process::{Command, Stdio};
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
                "promtool is not installed, and CI needs it: \
                 apt-get install -y --no-install-recommends prometheus"
            );
            eprintln!(
                "promtool not installed: check skipped; install it with \
                 `apt-get install -y --no-install-recommends prometheus`"
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulated_service_counts_its_503s_and_its_exposition_passes_promtool() {
    // One replica serving one request at a time for 200 ms, with a queue
    // of what it gets through in 250 ms (one request): of six requests at
    // once, one or two are served and the rest are answered 503.
    let capacity = Capacity::start(
        CapacitySettings {
            concurrency_per_replica: 1,
            service_time: Duration::from_millis(200),
            startup_delay: Duration::ZERO,
            max_queue_time: Duration::from_millis(250),
            never_ready_replicas: 0,
        },
        1,
    );
    let (url, server) = simulate::serve(&capacity).await.unwrap();
    let client = reqwest::Client::new();
    let sends = (0..6).map(|_| {
        let request = client.get(format!("{url}/fibonacci?n=10")).send();
        async move { request.await.unwrap().status().as_u16() }
    });
    let statuses = futures_join_all(sends).await;
    let count = |status: u16| statuses.iter().filter(|s| **s == status).count();
    assert!(count(503) >= 1 && count(200) >= 1, "{statuses:?}");
    assert_eq!(count(200) + count(503), 6, "{statuses:?}");
    // A request the probe sends is labelled.
    let probe = client
        .get(format!("{url}/healthz"))
        .header("X-Load-Probe", "gpa")
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status().as_u16(), 200);

    let text = client
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = |labels: &str| -> usize {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("http_requests_total{{{labels}}} ")))
            .map_or(0, |value| value.parse().unwrap())
    };
    assert_eq!(
        series(r#"probe="false",status="200""#),
        count(200),
        "{text}"
    );
    assert_eq!(
        series(r#"probe="false",status="503""#),
        count(503),
        "{text}"
    );
    assert_eq!(series(r#"probe="true",status="200""#), 1, "{text}");
    server.abort();
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

/// Awaits every future, all at once.
async fn futures_join_all<F: std::future::Future<Output = u16> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<u16> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

#[test]
fn the_evaluate_stage_accepts_the_load_section_and_refuses_a_bad_one_the_same_way() {
    use goose_pod_autoscaler::evaluate::config::EvaluationConfig;
    let config = |load: &str| {
        format!(
            "targets:\n  - {{method: GET, endpoint: /, type: mean, target: 100}}\nload:\n{load}"
        )
    };
    let path = std::path::Path::new("evaluation_config.yaml");
    let good = EvaluationConfig::parse_str(
        &config(
            "  prometheus:\n    query: sum(rate(x[1m])) or vector(0)\n    bearerTokenFile: /t\n",
        ),
        path,
    )
    .unwrap();
    let prometheus = good.prometheus().cloned().unwrap();
    assert_eq!(prometheus.query, "sum(rate(x[1m])) or vector(0)");
    assert_eq!(prometheus.auth, Auth::BearerTokenFile("/t".into()));
    let err = EvaluationConfig::parse_str(
        &config("  prometheus:\n    query: up\n    timeoutMs: 0\n"),
        path,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "invalid evaluation config 'evaluation_config.yaml' at line 5 column 5: \
         load.prometheus.timeoutMs '0' is out of range; expected 1 to 60000 milliseconds"
    );
}
