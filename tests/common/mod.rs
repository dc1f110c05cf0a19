//! Test support: a real axum server on 127.0.0.1 whose delay and status are
//! set per request (`?delayMs=50&status=404`), with `/hang...` paths that
//! accept and never answer, and `?bodyKb=300` answering with a body of that
//! size; it records what it received, how long each handler took and how
//! many connections it accepted. A raw server whose responses stall after
//! the headers ([`stalled_body_url`]). Plus helpers to run `gpa-metric` as a
//! process.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};

/// One request the server answered.
#[derive(Debug, Clone)]
pub struct Seen {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub target: String,
    /// `Authorization` header, if any.
    pub authorization: Option<String>,
    /// `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// `User-Agent` header, if any.
    pub user_agent: Option<String>,
    /// The body.
    pub body: Vec<u8>,
    /// Time from the handler's start to its response.
    pub handled: Duration,
}

/// What the server saw (at most 200 000 requests are kept).
#[derive(Default)]
pub struct Record {
    seen: Mutex<Vec<Seen>>,
    connections: AtomicUsize,
}

impl Record {
    /// A copy of every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// A server running on its own thread for the rest of the test process.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// What it received.
    pub record: Arc<Record>,
}

fn query_value(uri: &Uri, key: &str) -> Option<u64> {
    uri.query()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
}

async fn handle(
    State(record): State<Arc<Record>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Vec<u8>) {
    let start = Instant::now();
    if uri.path().starts_with("/hang") {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if let Some(ms) = query_value(&uri, "delayMs") {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let status = query_value(&uri, "status")
        .and_then(|code| StatusCode::from_u16(code as u16).ok())
        .unwrap_or(StatusCode::OK);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let seen = Seen {
        method: method.to_string(),
        target: uri
            .path_and_query()
            .map(|pq| pq.to_string())
            .unwrap_or_default(),
        authorization: header("authorization"),
        content_type: header("content-type"),
        user_agent: header("user-agent"),
        body: body.to_vec(),
        handled: start.elapsed(),
    };
    let mut all = record.seen.lock().unwrap();
    if all.len() < 200_000 {
        all.push(seen);
    }
    let body_kb = query_value(&uri, "bodyKb").unwrap_or(0) as usize;
    (status, vec![b'x'; body_kb * 1024])
}

/// Accepts TCP connections, counting them.
struct CountingListener {
    tcp: tokio::net::TcpListener,
    record: Arc<Record>,
}

impl axum::serve::Listener for CountingListener {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            if let Ok(accepted) = self.tcp.accept().await {
                self.record.connections.fetch_add(1, Ordering::SeqCst);
                return accepted;
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Accepts TCP connections and completes the TLS handshake; connections
/// whose handshake fails (a client that rejects the certificate) are dropped.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    record: Arc<Record>,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            self.record.connections.fetch_add(1, Ordering::SeqCst);
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn tls_acceptor((cert, key): (&str, &str)) -> tokio_rustls::TlsAcceptor {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(fixture(cert))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture(key)).unwrap();
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

impl TestServer {
    /// Starts a server on 127.0.0.1 on a free port.
    pub fn start() -> TestServer {
        Self::start_with(None)
    }

    /// Starts an HTTPS server on 127.0.0.1 with the certificate in
    /// `tests/fixtures/test-server.pem` (issued by `test-ca.pem`).
    pub fn start_tls() -> TestServer {
        Self::start_with(Some(("test-server.pem", "test-server-key.pem")))
    }

    /// Starts an HTTPS server on 127.0.0.1 presenting the self-signed (CA)
    /// certificate `tests/fixtures/self-signed.pem` as its own.
    pub fn start_tls_self_signed() -> TestServer {
        Self::start_with(Some(("self-signed.pem", "self-signed-key.pem")))
    }

    fn start_with(certificate: Option<(&str, &str)>) -> TestServer {
        let tls = certificate.is_some();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let record = Arc::new(Record::default());
        let state = Arc::clone(&record);
        let counter = Arc::clone(&record);
        let acceptor = certificate.map(tls_acceptor);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let tcp = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = Router::new().fallback(handle).with_state(state);
                match acceptor {
                    Some(acceptor) => {
                        let listener = TlsListener {
                            tcp,
                            acceptor,
                            record: counter,
                        };
                        axum::serve(listener, app).await.unwrap()
                    }
                    None => {
                        let listener = CountingListener {
                            tcp,
                            record: counter,
                        };
                        axum::serve(listener, app).await.unwrap()
                    }
                }
            });
        });
        let scheme = if tls { "https" } else { "http" };
        TestServer {
            url: format!("{scheme}://{addr}"),
            record,
        }
    }
}

/// A raw HTTP/1.1 server on 127.0.0.1 that answers every request with
/// `200 OK` headers promising a 1000-byte body, sends 10 bytes of it and then
/// stalls, holding the connection open for a minute. Returns its base URL.
pub fn stalled_body_url() -> String {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\ncontent-type: text/plain\r\n\r\n0123456789";
                if stream.write_all(head.as_bytes()).is_ok() {
                    std::thread::sleep(Duration::from_secs(60));
                }
            });
        }
    });
    format!("http://{addr}")
}

/// A URL on 127.0.0.1 where nothing listens: bind a port, then let it go.
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// The CPA metric input for a Deployment with `replicas`.
pub fn cpa_input(replicas: u32) -> String {
    deployment_input(replicas, "")
}

/// The same, with a status saying `ready` of the `replicas` are ready.
pub fn cpa_input_with_ready(replicas: u32, ready: u32) -> String {
    deployment_input(
        replicas,
        &format!(r#", "status": {{"replicas": {replicas}, "readyReplicas": {ready}}}"#),
    )
}

/// The Deployment `fib` with `replicas`, and `status` (`, "status": {...}`
/// or empty) after its spec.
fn deployment_input(replicas: u32, status: &str) -> String {
    format!(
        r#"{{"resource": {{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {{"name": "fib", "namespace": "default"}}, "spec": {{"replicas": {replicas}}}{status}}}, "runType": "scaler"}}"#
    )
}

/// Writes a scenario file into `dir` and returns its path.
pub fn scenario_file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("scenario.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Writes an evaluation config with the one target `target` (a YAML flow
/// mapping) into `dir` and returns its path.
pub fn evaluation_config(dir: &Path, target: &str) -> PathBuf {
    let path = dir.join("evaluation_config.yaml");
    std::fs::write(&path, format!("targets:\n  - {target}\n")).unwrap();
    path
}

/// A scenario whose every user alternates a 2 ms and a 40 ms request under
/// one name, `mixed`: the median's interval spans a 20 ms limit however long
/// the test runs, so early stop never settles its verdict.
pub const UNSETTLED_MEDIAN_SCENARIO: &str = "scenarios:\n  - name: probe\n    transactions:\n      - path: /x?delayMs=2\n        name: mixed\n      - path: /x?delayMs=40\n        name: mixed\n";

/// The target [`UNSETTLED_MEDIAN_SCENARIO`] never settles.
pub const UNSETTLED_MEDIAN_TARGET: &str = "{method: GET, name: mixed, type: median, target: 20}";

/// `gpa-metric` with early stop's inputs: `scenario` and the evaluation
/// `config` against `host`, 3 users for at most `run_time` seconds, a 2 s
/// request timeout and a 1 s minimum run time.
pub fn early_stop_metric(
    host: &str,
    scenario: &Path,
    config: &Path,
    run_time: &str,
) -> assert_cmd::Command {
    let mut cmd = gpa_metric();
    cmd.env("gooseHost", host)
        .env("gooseUsers", "3")
        .env("gooseRunTime", run_time)
        .env("gooseRequestTimeout", "2000")
        .env("gooseMinRunTime", "1")
        .env("scenarioFilePath", scenario)
        .env("evaluationConfigFilePath", config)
        .env(
            "decayInfoFilePath",
            config.with_file_name("decay_info.json"),
        );
    cmd
}

/// A one-GET scenario file for `path`.
pub fn single_get(path: &str) -> String {
    format!(
        "scenarios:\n  - name: probe\n    transactions:\n      - method: GET\n        path: {path}\n"
    )
}

/// The `gpa-metric` binary with a clean environment (no settings inherited).
/// `GPA_METRIC_BIN` runs the tests against another build of it, e.g.
/// `GPA_METRIC_BIN=target/release/gpa-metric`.
pub fn gpa_metric() -> assert_cmd::Command {
    let mut cmd = match std::env::var_os("GPA_METRIC_BIN") {
        Some(path) => assert_cmd::Command::new(path),
        None => assert_cmd::Command::cargo_bin("gpa-metric").unwrap(),
    };
    cmd.env_clear().timeout(Duration::from_secs(30));
    cmd
}

/// What one run of the binary gave.
pub struct Run {
    /// Exit code (None if killed).
    pub code: Option<i32>,
    /// stdout.
    pub stdout: String,
    /// stderr.
    pub stderr: String,
    /// Wall time.
    pub elapsed: Duration,
}

impl Run {
    /// stdout parsed as exactly one latency report (one line, one document).
    pub fn report(&self) -> goose_pod_autoscaler::report::LatencyReport {
        assert_eq!(self.code, Some(0), "stderr: {}", self.stderr);
        assert_eq!(
            self.stdout.lines().count(),
            1,
            "stdout must be one line: {:?}",
            self.stdout
        );
        assert!(self.stdout.ends_with('\n'));
        let mut stream =
            serde_json::Deserializer::from_str(&self.stdout).into_iter::<serde_json::Value>();
        let first = stream.next().expect("a document").expect("valid JSON");
        assert!(stream.next().is_none(), "exactly one JSON document");
        serde_json::from_value(first).expect("a latency report")
    }
}

/// Runs `cmd` with `stdin` and collects the outcome.
pub fn run(mut cmd: assert_cmd::Command, stdin: &str) -> Run {
    let start = Instant::now();
    let output = cmd.write_stdin(stdin.to_string()).output().unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// Whether the `prometheus` executable is on the PATH, for the tests that
/// start a real Prometheus: under CI (env `CI` set) its absence fails the
/// test; elsewhere the test prints how to install it and passes.
#[cfg(feature = "simulate")]
pub fn prometheus_installed() -> bool {
    use goose_pod_autoscaler::simulate::prometheus::find_executable;
    if find_executable(std::env::var_os("PATH").as_deref()).is_some() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the prometheus executable is not on the PATH, and CI needs it: \
         apt-get install -y --no-install-recommends prometheus"
    );
    eprintln!(
        "prometheus not installed: test skipped; install it with \
         `apt-get install -y --no-install-recommends prometheus`"
    );
    false
}
