//! `gpa alerts` against the real server on 127.0.0.1, with a real HTTP
//! client: Alertmanager's notifications in, the boosts file and the CPA's
//! `POST /api/v1/evaluation` (a fake CPA started here) out. The clock is
//! fixed, so expiries are exact. The last tests run the `gpa` executable
//! itself: start, health, SIGTERM, and a bad config; the last, with
//! `gpa-evaluate`, checks that a firing alert raises the next decision's floor
//! and its resolution lowers it again.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use goose_pod_autoscaler::alerts::connections::Limits;
use goose_pod_autoscaler::alerts::{AlertsConfig, Sidecar, server};
use goose_pod_autoscaler::boosts::BoostsFile;
use jiff::Timestamp;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

const TOKEN: &str = "s3cret-token-of-tests";
const NOW: &str = "2026-11-22T20:00:00Z";
/// Generous: a busy 2-core machine may be slow, and only a failure waits it out.
const PATIENCE: Duration = Duration::from_secs(30);

/// Alertmanager's version 4 payload: one alert, as `gpa alerts` gets it.
fn notification(status: &str, alertname: &str, fingerprint: &str) -> String {
    format!(
        r#"{{"version":"4","groupKey":"{{}}:{{alertname=\"{alertname}\"}}","truncatedAlerts":0,
        "status":"{status}","receiver":"gpa-alerts",
        "groupLabels":{{"alertname":"{alertname}"}},"commonLabels":{{"alertname":"{alertname}"}},
        "commonAnnotations":{{}},"externalURL":"http://alertmanager:9093",
        "alerts":[{{"status":"{status}","labels":{{"alertname":"{alertname}","severity":"page"}},
          "annotations":{{"summary":"slow"}},"startsAt":"2026-11-22T19:55:00.123+01:00",
          "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph",
          "fingerprint":"{fingerprint}"}}]}}"#
    )
}

/// A fake CPA on 127.0.0.1: every `POST /api/v1/evaluation` sends on the
/// channel. Returns its evaluation URL.
async fn fake_cpa() -> (String, mpsc::UnboundedReceiver<()>) {
    let (calls, received) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/api/v1/evaluation",
        post(move || {
            let _ = calls.send(());
            async { r#"{"targetReplicas":4}"# }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/api/v1/evaluation",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

/// A URL on 127.0.0.1 where nothing listens.
async fn nobody() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    format!(
        "http://{}/api/v1/evaluation",
        listener.local_addr().unwrap()
    )
}

fn config_text(boosts: &Path, evaluation_url: &str) -> String {
    format!(
        "boostsFile: {}\nevaluationUrl: {evaluation_url}\nlistenAddress: 127.0.0.1:0\nrules:\n\
         \x20 - name: latency-page\n    matchers: {{alertname: HighLatency}}\n    minReplicas: 6\n    holdMinutes: 30\n\
         \x20 - name: errors\n    matchers: {{alertname: HighErrors, severity: page}}\n    addReplicas: 2\n    holdMinutes: 10\n",
        boosts.display()
    )
}

/// The sidecar serving on 127.0.0.1 with the clock at [`NOW`].
struct Running {
    url: String,
    address: std::net::SocketAddr,
    boosts: PathBuf,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<()>,
}

impl Running {
    /// The sidecar with the clock fixed at [`NOW`].
    async fn start(evaluation_url: &str) -> Running {
        let now: Timestamp = NOW.parse().unwrap();
        Running::start_on(evaluation_url, Arc::new(move || now)).await
    }

    /// The sidecar on `clock` (`Arc::new(Timestamp::now)` for tests that run
    /// `gpa-evaluate`, which reads the system clock).
    async fn start_on(evaluation_url: &str, clock: server::Clock) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let boosts = dir.path().join("boosts.json");
        let text = config_text(&boosts, evaluation_url);
        Running::start_with(dir, &text, clock, Limits::default()).await
    }

    /// The sidecar on the config `text` (its boosts file in `dir`), `clock`
    /// and `limits`.
    async fn start_with(
        dir: tempfile::TempDir,
        text: &str,
        clock: server::Clock,
        limits: Limits,
    ) -> Running {
        let config = AlertsConfig::parse_str(text, Path::new("t.yaml")).unwrap();
        let boosts = config.boosts_file.clone();
        let sidecar = Sidecar::new(&config, TOKEN.into())
            .unwrap()
            .with_clock(clock)
            .with_limits(limits);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(server::serve(listener, sidecar, async {
            let _ = stopped.await;
        }));
        Running {
            url: format!("http://{address}"),
            address,
            boosts,
            client: reqwest::Client::new(),
            _dir: dir,
            stop: Some(stop),
            served,
        }
    }

    /// POSTs `body` to the webhook with `authorization` (if any): status and body.
    async fn send(&self, authorization: Option<&str>, body: &str) -> (u16, String) {
        let mut request = self
            .client
            .post(format!("{}/alerts", self.url))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn notify(&self, body: &str) -> (u16, String) {
        self.send(Some(&format!("Bearer {TOKEN}")), body).await
    }

    fn boosts(&self) -> BoostsFile {
        BoostsFile::load(&self.boosts).unwrap()
    }
}

#[tokio::test]
async fn a_firing_alert_records_a_boost_held_from_now_and_asks_the_cpa_to_evaluate() {
    let (cpa, mut calls) = fake_cpa().await;
    let sidecar = Running::start(&cpa).await;
    let (status, line) = sidecar
        .notify(&notification("firing", "HighLatency", "1a30ba71cca2921f"))
        .await;
    assert_eq!(status, 200, "{line}");
    assert!(line.contains("recorded boost 1a30ba71cca2921f/latency-page (at least 6 replicas until 2026-11-22T20:30:00Z)"), "{line}");
    assert!(line.contains("evaluation requested"), "{line}");
    let file = sidecar.boosts();
    assert_eq!(file.boosts.len(), 1);
    let boost = &file.boosts[0];
    assert_eq!(boost.id, "1a30ba71cca2921f/latency-page");
    assert_eq!(
        (boost.rule.as_str(), boost.alert.as_str()),
        ("latency-page", "HighLatency")
    );
    assert_eq!((boost.min_replicas, boost.add_replicas), (Some(6), None));
    assert_eq!(boost.starts_at.to_string(), "2026-11-22T18:55:00.123Z");
    assert_eq!(boost.expires_at.to_string(), "2026-11-22T20:30:00Z");
    tokio::time::timeout(PATIENCE, calls.recv())
        .await
        .expect("the fake CPA received POST /api/v1/evaluation")
        .unwrap();
}

#[tokio::test]
async fn a_resolved_alert_removes_its_boost_and_leaves_the_others() {
    let sidecar = Running::start(&nobody().await).await;
    for body in [
        notification("firing", "HighLatency", "aaaa"),
        notification("firing", "HighErrors", "bbbb"),
    ] {
        assert_eq!(sidecar.notify(&body).await.0, 200);
    }
    let ids = |file: BoostsFile| file.boosts.into_iter().map(|b| b.id).collect::<Vec<_>>();
    assert_eq!(ids(sidecar.boosts()), ["aaaa/latency-page", "bbbb/errors"]);
    let (status, line) = sidecar
        .notify(&notification("resolved", "HighLatency", "aaaa"))
        .await;
    assert_eq!(status, 200, "{line}");
    assert!(line.contains("ended boost aaaa/latency-page"), "{line}");
    assert!(!line.contains("evaluation requested"), "{line}");
    assert_eq!(ids(sidecar.boosts()), ["bbbb/errors"]);
}

#[tokio::test]
async fn a_failed_trigger_is_not_fatal_and_the_boost_stays() {
    let sidecar = Running::start(&nobody().await).await;
    let (status, line) = sidecar
        .notify(&notification("firing", "HighErrors", "bbbb"))
        .await;
    assert_eq!(status, 200, "{line}");
    let file = sidecar.boosts();
    assert_eq!(file.boosts[0].add_replicas, Some(2));
    assert_eq!(
        file.boosts[0].expires_at.to_string(),
        "2026-11-22T20:10:00Z"
    );
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_401_with_a_reason_and_writes_nothing() {
    let sidecar = Running::start(&nobody().await).await;
    let body = notification("firing", "HighLatency", "aaaa");
    let cases = [
        (None, "missing Authorization header"),
        (Some("Bearer wrong"), "wrong bearer token"),
        (
            Some(&format!("Bearer {TOKEN}x") as &str),
            "wrong bearer token",
        ),
        (Some("Basic czNjcmV0"), "Authorization scheme is not Bearer"),
        (Some(TOKEN), "Authorization header is not 'Bearer <token>'"),
    ];
    for (authorization, reason) in cases {
        let (status, line) = sidecar.send(authorization, &body).await;
        assert_eq!(status, 401, "{authorization:?}: {line}");
        assert!(line.starts_with(reason), "{authorization:?}: {line}");
        assert_eq!(line.trim_end().lines().count(), 1, "{line}");
    }
    assert!(!sidecar.boosts.exists(), "nothing written");
    // the scheme is case-insensitive, as HTTP says
    let (status, _) = sidecar.send(Some(&format!("bearer {TOKEN}")), &body).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_malformed_payload_is_400_naming_the_problem_and_writes_nothing() {
    let sidecar = Running::start(&nobody().await).await;
    let firing = notification("firing", "HighLatency", "aaaa");
    let cases = [
        (
            "{".to_string(),
            "payload is not an Alertmanager webhook notification: EOF",
        ),
        (
            firing.replace(
                r#""status":"firing","labels""#,
                r#""status":"burning","labels""#,
            ),
            "payload field 'alerts[0].status': unknown variant `burning`",
        ),
        (
            firing.replace(r#""version":"4""#, r#""version":"3""#),
            "payload field 'version' is '3'; expected \"4\"",
        ),
        (
            firing.replace(r#""fingerprint":"aaaa""#, r#""fingerprint":"""#),
            "payload field 'alerts[0].fingerprint' is empty",
        ),
    ];
    for (body, reason) in cases {
        let (status, line) = sidecar.notify(&body).await;
        assert_eq!(status, 400, "{line}");
        assert!(line.starts_with(reason), "got {line}want {reason}");
        assert_eq!(line.trim_end().lines().count(), 1, "{line}");
    }
    assert!(!sidecar.boosts.exists(), "nothing written");
}

#[tokio::test]
async fn an_alert_that_matches_no_rule_writes_nothing() {
    let sidecar = Running::start(&nobody().await).await;
    for body in [
        notification("firing", "DiskFull", "cccc"),
        // matches `alertname` of the errors rule but not its severity
        notification("firing", "HighErrors", "dddd").replace("\"page\"", "\"ticket\""),
    ] {
        let (status, line) = sidecar.notify(&body).await;
        assert_eq!(status, 200, "{line}");
        assert!(
            line.ends_with("1 firing alert(s) matched no rule\n"),
            "{line}"
        );
    }
    assert!(!sidecar.boosts.exists(), "nothing written");
}

#[tokio::test]
async fn concurrent_notifications_lose_no_boost() {
    let sidecar = Arc::new(Running::start(&nobody().await).await);
    let sends: Vec<_> = (0..16)
        .map(|n| {
            let sidecar = Arc::clone(&sidecar);
            tokio::spawn(async move {
                sidecar
                    .notify(&notification("firing", "HighLatency", &format!("f{n:02}")))
                    .await
            })
        })
        .collect();
    for send in sends {
        assert_eq!(send.await.unwrap().0, 200);
    }
    assert_eq!(sidecar.boosts().boosts.len(), 16);
}

#[tokio::test]
async fn healthz_answers_ok() {
    let sidecar = Running::start(&nobody().await).await;
    let response = sidecar
        .client
        .get(format!("{}/healthz", sidecar.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text().await.unwrap(), "ok\n");
}

#[test]
fn the_example_alerts_config_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("example/alerts.yaml");
    let config = AlertsConfig::load(&path).unwrap_or_else(|err| panic!("{err}"));
    assert!(!config.rules.is_empty());
    assert_eq!(
        config.evaluation_url,
        goose_pod_autoscaler::alerts::config::DEFAULT_EVALUATION_URL
    );
}

/// `gpa alerts` started on a config with `text` (`{boosts}` replaced by
/// the boosts file's path in a temporary folder) and `token`: the child, its
/// stderr, its first line and its address. Waits for it to listen.
struct Executable {
    child: std::process::Child,
    stderr: BufReader<std::process::ChildStderr>,
    log: String,
    address: String,
    dir: tempfile::TempDir,
}

impl Executable {
    fn start(text: &str, token: &str) -> Executable {
        let dir = tempfile::tempdir().unwrap();
        Executable::start_in(dir, text, token)
    }

    fn start_in(dir: tempfile::TempDir, text: &str, token: &str) -> Executable {
        let config = dir.path().join("alerts.yaml");
        let boosts = dir.path().join("boosts.json");
        std::fs::write(
            &config,
            text.replace("{boosts}", &boosts.display().to_string()),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_gpa"))
            .args(["alerts", "--config"])
            .arg(&config)
            .env("alertsToken", token)
            .env_remove("GPA_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut log = String::new();
        let address = loop {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap() == 0 {
                let _ = child.kill();
                panic!("gpa alerts ended before listening:\n{log}");
            }
            log.push_str(&line);
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split(": ").next().unwrap().to_owned();
            }
        };
        Executable {
            child,
            stderr,
            log,
            address,
            dir,
        }
    }

    /// Sends SIGTERM; the exit code, the time it took and the whole log.
    fn terminate(mut self) -> (Option<i32>, Duration, String) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > PATIENCE {
                let _ = self.child.kill();
                panic!("gpa alerts still runs {PATIENCE:?} after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let took = started.elapsed();
        std::io::Read::read_to_string(&mut self.stderr, &mut self.log).unwrap();
        (status.code(), took, self.log)
    }
}

#[test]
fn the_executable_serves_until_sigterm_then_exits_0_within_the_grace_whatever_the_clients_do() {
    use std::io::Write;
    let sidecar = Executable::start(
        &config_text(Path::new("{boosts}"), "http://127.0.0.1:9/x"),
        TOKEN,
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let health = runtime.block_on(async {
        reqwest::get(format!("http://{}/healthz", sidecar.address))
            .await
            .unwrap()
            .status()
    });
    assert_eq!(health.as_u16(), 200);
    // one connection idle, one stopped halfway through its head, one in the
    // middle of a body: none may hold the process
    let _idle = std::net::TcpStream::connect(&sidecar.address).unwrap();
    let mut half = std::net::TcpStream::connect(&sidecar.address).unwrap();
    half.write_all(b"POST /alerts HTTP/1.1\r\nHost: gp")
        .unwrap();
    let mut body = std::net::TcpStream::connect(&sidecar.address).unwrap();
    body.write_all(format!("{}{{", post_head(100)).as_bytes())
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (code, took, log) = sidecar.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("gpa alerts stopped"), "{log}");
    assert!(
        log.contains("shutting down: accepting no more connections"),
        "{log}"
    );
    // the grace is 5 s and the header timeout 10 s; a busy machine adds some
    assert!(took < Duration::from_secs(25), "{took:?}\n{log}");
}

#[test]
fn a_bad_config_or_no_token_exits_1_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alerts.yaml");
    std::fs::write(&config, "boostsFile: /b\nrules: []\n").unwrap();
    let run = |config: &Path, token: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gpa"));
        command
            .args(["alerts", "--config"])
            .arg(config)
            .env_remove("alertsToken");
        if let Some(token) = token {
            command.env("alertsToken", token);
        }
        let output = command.output().unwrap();
        (
            output.status.code(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    let (code, stderr) = run(&config, Some(TOKEN));
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: invalid alerts config '{}': rules is empty; expected at least one rule",
            config.display()
        )
    );
    std::fs::write(
        &config,
        config_text(Path::new("/b/boosts.json"), "http://x"),
    )
    .unwrap();
    let (code, stderr) = run(&config, None);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.starts_with("error: no bearer token"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|err| panic!("{}: {err}", full.display()))
}

/// The mount path of volume `name` in `container`.
fn mount<'a>(container: &'a serde_json::Value, name: &str) -> &'a str {
    container["volumeMounts"]
        .as_array()
        .and_then(|mounts| mounts.iter().find(|m| m["name"] == name))
        .and_then(|m| m["mountPath"].as_str())
        .unwrap_or_else(|| panic!("{} mounts {name}", container["name"]))
}

#[test]
fn the_example_pod_runs_the_sidecar_from_the_image_with_its_config_token_and_shared_volume() {
    let dockerfile = read("Dockerfile");
    assert!(
        dockerfile.contains("--features alerts"),
        "the image builds gpa alerts"
    );
    assert!(dockerfile.contains("--bin gpa\n"), "the image builds gpa");
    assert!(dockerfile.contains("COPY --from=build /src/target/release/gpa /gpa\n"));
    let docs: Vec<serde_json::Value> = read("example/cpa.yaml")
        .split("\n---\n")
        .map(|doc| serde_saphyr::from_str(doc).unwrap())
        .collect();
    let find = |kind: &str| docs.iter().find(|d| d["kind"] == kind).unwrap();
    // the ConfigMap holds example/alerts.yaml verbatim
    let config_map = find("ConfigMap");
    assert_eq!(
        config_map["data"]["alerts.yaml"],
        read("example/alerts.yaml")
    );
    let config =
        AlertsConfig::parse_str(&read("example/alerts.yaml"), Path::new("alerts.yaml")).unwrap();
    let pod = &find("CustomPodAutoscaler")["spec"]["template"]["spec"];
    let containers = pod["containers"].as_array().unwrap();
    let (cpa, sidecar) = (&containers[0], &containers[1]);
    assert_eq!(sidecar["command"], serde_json::json!(["/gpa", "alerts"]));
    assert_eq!(
        sidecar["image"], cpa["image"],
        "one image for both containers"
    );
    let config_path = sidecar["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "alertsConfigFilePath")
        .and_then(|e| e["value"].as_str())
        .unwrap();
    assert_eq!(
        Path::new(config_path),
        Path::new(mount(sidecar, "alerts-config")).join("alerts.yaml")
    );
    assert_eq!(
        config.token_file.unwrap(),
        Path::new(mount(sidecar, "alerts-token")).join("token")
    );
    let boosts_dir = config.boosts_file.parent().unwrap();
    assert_eq!(Path::new(mount(sidecar, "boosts")), boosts_dir);
    assert_eq!(
        Path::new(mount(cpa, "boosts")),
        boosts_dir,
        "the CPA's container reads the same file"
    );
    let port = config.listen_address.port();
    assert_eq!(sidecar["ports"][0]["containerPort"], port);
    let service = find("Service");
    assert!(
        service["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["targetPort"] == port),
        "the Service reaches the sidecar"
    );
}

/// `gpa-evaluate` on the example input (a missed target, 3 replicas) with
/// `config` and a fresh state file: its answer and its decision line.
fn evaluate(config: &Path) -> (String, String) {
    let state = tempfile::tempdir().unwrap();
    let input = std::fs::read("example/inputs/evaluate-v2.json").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpa-evaluate"))
        .arg("--config")
        .arg(config)
        .arg("--state")
        .arg(state.path().join("state.json"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test]
async fn a_firing_alert_raises_the_next_decisions_floor_and_its_resolution_lowers_it() {
    let (cpa, _calls) = fake_cpa().await;
    let sidecar = Running::start_on(&cpa, Arc::new(Timestamp::now)).await;
    let config = sidecar.boosts.with_file_name("evaluation_config.yaml");
    let example = std::fs::read_to_string("example/evaluation_config.yaml").unwrap();
    let example = example.replace(
        "boostsFile: /var/run/gpa/boosts.json",
        &format!("boostsFile: {}", sidecar.boosts.display()),
    );
    std::fs::write(&config, example).unwrap();

    let (answer, _) = evaluate(&config);
    assert_eq!(answer, "{\"targetReplicas\":4}\n", "a miss at 3: one more");

    let (status, _) = sidecar
        .notify(&notification("firing", "HighLatency", "aaaa"))
        .await;
    assert_eq!(status, 200);
    let (answer, line) = evaluate(&config);
    assert_eq!(answer, "{\"targetReplicas\":6}\n", "{line}");
    assert!(line.contains("latency-page"), "names the rule: {line}");

    let (status, _) = sidecar
        .notify(&notification("resolved", "HighLatency", "aaaa"))
        .await;
    assert_eq!(status, 200);
    let (answer, line) = evaluate(&config);
    assert_eq!(answer, "{\"targetReplicas\":4}\n", "{line}");
}

/// Limits short enough for a test to see them act.
fn short_limits() -> Limits {
    Limits {
        header_read: Duration::from_secs(1),
        body_read: Duration::from_secs(1),
        max_connections: 4,
        shutdown_grace: Duration::from_secs(1),
    }
}

/// A started sidecar with `limits` and the usual config.
async fn start_limited(limits: Limits) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(&dir.path().join("boosts.json"), &nobody().await);
    let now: Timestamp = NOW.parse().unwrap();
    Running::start_with(dir, &text, Arc::new(move || now), limits).await
}

/// Reads `stream` until the server closes it; false when it is still open
/// after [`PATIENCE`]. What the server sent before closing does not matter.
async fn closed_by_server(stream: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 1024];
    let read_to_end = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(PATIENCE, read_to_end).await.is_ok()
}

/// The head of a webhook POST with the token, announcing `length` body bytes.
fn post_head(length: usize) -> String {
    format!(
        "POST /alerts HTTP/1.1\r\nHost: gpa\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
}

#[tokio::test]
async fn idle_half_sent_and_slow_body_connections_are_closed_by_the_timeouts() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sidecar = start_limited(short_limits()).await;
    let connect = || tokio::net::TcpStream::connect(sidecar.address);
    // nothing sent at all
    let mut idle = connect().await.unwrap();
    // part of a request head
    let mut half = connect().await.unwrap();
    half.write_all(b"POST /alerts HTTP/1.1\r\nHost: gp")
        .await
        .unwrap();
    // a whole head, then only part of the body it announces
    let mut slow_body = connect().await.unwrap();
    slow_body
        .write_all(format!("{}{{\"version\":", post_head(500)).as_bytes())
        .await
        .unwrap();
    // a kept-alive connection, idle after its first answer
    let mut kept = connect().await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: gpa\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 256];
    let n = kept.read(&mut answer).await.unwrap();
    assert!(
        String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer[..n])
    );

    for (what, stream) in [
        ("idle", &mut idle),
        ("half-sent head", &mut half),
        ("slow body", &mut slow_body),
        ("kept alive, then idle", &mut kept),
    ] {
        assert!(
            closed_by_server(stream).await,
            "the {what} connection is still open after {PATIENCE:?}"
        );
    }
    // the server still serves
    let health = sidecar
        .client
        .get(format!("{}/healthz", sidecar.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

#[tokio::test]
async fn a_slow_body_is_answered_408_and_records_nothing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sidecar = start_limited(short_limits()).await;
    let mut stream = tokio::net::TcpStream::connect(sidecar.address)
        .await
        .unwrap();
    stream
        .write_all(format!("{}{{", post_head(100)).as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("answered and closed")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("the request body did not arrive within 1 s"),
        "{answer}"
    );
    assert!(!sidecar.boosts.exists());
}

#[tokio::test]
async fn at_most_max_connections_are_served_at_once_and_a_freed_slot_serves_the_next() {
    let limits = Limits {
        header_read: Duration::from_secs(60),
        ..short_limits()
    };
    let sidecar = start_limited(limits).await;
    let mut held = Vec::new();
    for _ in 0..limits.max_connections {
        held.push(
            tokio::net::TcpStream::connect(sidecar.address)
                .await
                .unwrap(),
        );
    }
    let health = {
        let client = sidecar.client.clone();
        let url = format!("{}/healthz", sidecar.url);
        tokio::spawn(async move { client.get(url).send().await.map(|r| r.status()) })
    };
    // Every slot is held (for up to the 60 s header timeout): the fifth
    // connection waits to be accepted.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!health.is_finished(), "served beyond max_connections");
    held.pop();
    let status = tokio::time::timeout(PATIENCE, health)
        .await
        .expect("served once a slot is free")
        .unwrap()
        .unwrap();
    assert_eq!(status.as_u16(), 200);
}

#[tokio::test]
async fn shutdown_returns_within_the_grace_whatever_the_clients_do() {
    use tokio::io::AsyncWriteExt;
    // timeouts far beyond the grace: only the grace can end these
    let limits = Limits {
        header_read: Duration::from_secs(300),
        body_read: Duration::from_secs(300),
        max_connections: 16,
        shutdown_grace: Duration::from_secs(1),
    };
    let mut sidecar = start_limited(limits).await;
    let mut half = tokio::net::TcpStream::connect(sidecar.address)
        .await
        .unwrap();
    half.write_all(b"POST /alerts HTTP/1.1\r\nHo")
        .await
        .unwrap();
    let mut in_flight = tokio::net::TcpStream::connect(sidecar.address)
        .await
        .unwrap();
    in_flight
        .write_all(format!("{}{{", post_head(100)).as_bytes())
        .await
        .unwrap();
    let _idle = tokio::net::TcpStream::connect(sidecar.address)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    sidecar.stop.take().unwrap().send(()).unwrap();
    tokio::time::timeout(PATIENCE, &mut sidecar.served)
        .await
        .expect("serve returned")
        .unwrap();
    // a 1 s grace; generous for a busy machine, far below the 300 s timeouts
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(closed_by_server(&mut half).await);
    assert!(closed_by_server(&mut in_flight).await);
    assert!(
        tokio::net::TcpStream::connect(sidecar.address)
            .await
            .is_err(),
        "no longer listening"
    );
}

/// A fake CPA whose evaluation takes 1 s, the first one also waiting for
/// `release` (so a busy machine that sends slowly cannot start a third):
/// counts the evaluations and the most in flight at once.
async fn slow_cpa(
    release: Arc<tokio::sync::Notify>,
) -> (
    String,
    Arc<std::sync::atomic::AtomicUsize>,
    Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (c, f, m) = (Arc::clone(&calls), in_flight, Arc::clone(&most));
    let app = Router::new().route(
        "/api/v1/evaluation",
        post(move || {
            let (calls, in_flight, most, release) = (
                Arc::clone(&c),
                Arc::clone(&f),
                Arc::clone(&m),
                Arc::clone(&release),
            );
            async move {
                let first = calls.fetch_add(1, Ordering::SeqCst) == 0;
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                if first {
                    release.notified().await;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                r#"{"targetReplicas":4}"#
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/api/v1/evaluation",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls, most)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_notifications_in_one_second_against_a_slow_cpa_cause_at_most_two_evaluations() {
    use std::sync::atomic::Ordering;
    let release = Arc::new(tokio::sync::Notify::new());
    let (cpa, calls, most) = slow_cpa(Arc::clone(&release)).await;
    // 50 rules, one per alert, so that every notification raises a floor
    let mut text = format!(
        "boostsFile: {{boosts}}\nevaluationUrl: {cpa}\nlistenAddress: 127.0.0.1:0\nrules:\n"
    );
    for n in 0..50 {
        text.push_str(&format!(
            "  - name: rule-{n}\n    matchers: {{alertname: Alert{n}}}\n    minReplicas: {}\n    holdMinutes: 30\n",
            n + 2
        ));
    }
    let sidecar = Executable::start(&text, TOKEN);
    let client = reqwest::Client::new();
    let url = format!("http://{}/alerts", sidecar.address);
    let mut answers = Vec::new();
    for n in 0..50 {
        let response = client
            .post(&url)
            .bearer_auth(TOKEN)
            .body(notification(
                "firing",
                &format!("Alert{n}"),
                &format!("f{n}"),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        answers.push(response.text().await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    release.notify_one();
    let requested = answers
        .iter()
        .filter(|a| a.contains("evaluation requested"))
        .count();
    let merged = answers
        .iter()
        .filter(|a| a.contains("(merged into the one pending)"))
        .count();
    assert_eq!(requested, 50, "each raised a floor: {answers:?}");
    assert!(merged >= 48, "merged {merged}: {answers:?}");
    // the first evaluation (1 s after the release), then the merged one (1 s)
    let deadline = std::time::Instant::now() + PATIENCE;
    while calls.load(Ordering::SeqCst) < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (code, _, log) = tokio::task::spawn_blocking(move || sidecar.terminate())
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "{log}");
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "one evaluation in flight at a time"
    );
    let served: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("the CPA ran the requested evaluation for"))
        .collect();
    assert_eq!(served.len(), 2, "{log}");
    let counts: usize = served
        .iter()
        .map(|l| {
            l.split("evaluation for ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(counts, 50, "every notification served once: {log}");
    assert!(
        log.contains("merged into it while it was pending"),
        "the log says how many merged: {log}"
    );
}

#[tokio::test]
async fn a_notification_that_changes_no_floor_requests_no_evaluation() {
    let (cpa, mut calls) = fake_cpa().await;
    let sidecar = Running::start(&cpa).await;
    let first = notification("firing", "HighLatency", "aaaa");
    let (_, line) = sidecar.notify(&first).await;
    assert!(line.contains("evaluation requested"), "{line}");
    tokio::time::timeout(PATIENCE, calls.recv())
        .await
        .expect("one evaluation")
        .unwrap();
    // a repeat only moves the expiry; another alert under the same rule
    // sets the same floor; a resolved alert lowers it
    for body in [
        first.clone(),
        notification("firing", "HighLatency", "bbbb"),
        notification("resolved", "HighLatency", "bbbb"),
    ] {
        let (status, line) = sidecar.notify(&body).await;
        assert_eq!(status, 200, "{line}");
        assert!(!line.contains("evaluation requested from"), "{line}");
    }
    let (_, line) = sidecar.notify(&first).await;
    assert!(
        line.ends_with("no floor changed, so no evaluation requested\n"),
        "{line}"
    );
    // a rule not active before raises a floor again
    let (_, line) = sidecar
        .notify(&notification("firing", "HighErrors", "cccc"))
        .await;
    assert!(line.contains("evaluation requested"), "{line}");
    tokio::time::timeout(PATIENCE, calls.recv())
        .await
        .expect("the second evaluation")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(calls.try_recv().is_err(), "no third evaluation");
}

/// A notification of `alerts` (JSON objects) as one group.
fn group(alerts: &[String]) -> String {
    format!(
        r#"{{"version":"4","groupKey":"{{}}","status":"firing","receiver":"gpa-alerts","alerts":[{}]}}"#,
        alerts.join(",")
    )
}

/// One firing alert with `labels` (a JSON object) and `fingerprint`.
fn alert_with(labels: &str, fingerprint: &str) -> String {
    format!(
        r#"{{"status":"firing","labels":{labels},"startsAt":"2026-11-22T19:55:00Z","fingerprint":"{fingerprint}"}}"#
    )
}

#[tokio::test]
async fn the_boosts_file_holds_at_most_max_boosts_and_says_what_it_refused() {
    use goose_pod_autoscaler::boosts::MAX_BOOSTS;
    let sidecar = Running::start(&nobody().await).await;
    let alerts: Vec<String> = (0..=MAX_BOOSTS)
        .map(|n| alert_with(r#"{"alertname":"HighLatency"}"#, &format!("f{n}")))
        .collect();
    let (status, line) = sidecar.notify(&group(&alerts)).await;
    assert_eq!(status, 200, "{line}");
    assert!(
        line.contains("; 1 boost(s) not recorded: the boosts file holds its maximum of 1000"),
        "{}",
        &line[line.len().saturating_sub(300)..]
    );
    assert_eq!(sidecar.boosts().boosts.len(), MAX_BOOSTS);
    // at the cap, a refresh and a resolution still work, and a freed slot
    // takes the next boost
    let (_, line) = sidecar
        .notify(&notification("firing", "HighLatency", "f7"))
        .await;
    assert!(line.contains("refreshed boost f7/latency-page"), "{line}");
    let (_, line) = sidecar
        .notify(&notification("resolved", "HighLatency", "f7"))
        .await;
    assert!(line.contains("ended boost f7/latency-page"), "{line}");
    let (_, line) = sidecar
        .notify(&notification("firing", "HighLatency", "late"))
        .await;
    assert!(line.contains("recorded boost late/latency-page"), "{line}");
    assert_eq!(sidecar.boosts().boosts.len(), MAX_BOOSTS);
}

#[tokio::test]
async fn fingerprints_and_labels_beyond_their_caps_are_refused_naming_the_field() {
    let sidecar = Running::start(&nobody().await).await;
    let long_value = "v".repeat(4097);
    let many: Vec<String> = (0..101).map(|n| format!(r#""l{n}":"x""#)).collect();
    let cases = [
        (
            alert_with(r#"{"alertname":"HighLatency"}"#, &"f".repeat(65)),
            "payload field 'alerts[0].fingerprint' is 'fffff",
        ),
        (
            alert_with(
                &format!(r#"{{"alertname":"HighLatency","detail":"{long_value}"}}"#),
                "aaaa",
            ),
            "payload field 'alerts[0].labels.detail' is 4097 bytes long; expected at most 4096",
        ),
        (
            alert_with(&format!(r#"{{"{}":"x"}}"#, "n".repeat(257)), "aaaa"),
            "payload field 'alerts[0].labels' has a label name of 257 bytes",
        ),
        (
            alert_with(&format!("{{{}}}", many.join(",")), "aaaa"),
            "payload field 'alerts[0].labels' has 101 labels; expected at most 100",
        ),
    ];
    for (alert, want) in cases {
        let (status, line) = sidecar.notify(&group(&[alert])).await;
        assert_eq!(status, 400, "{line}");
        assert!(line.starts_with(want), "got  {line}want {want}");
        assert!(line.len() < 400, "short: {line}");
        assert_eq!(line.trim_end().lines().count(), 1);
    }
    assert!(!sidecar.boosts.exists(), "nothing written");
    // at the caps: accepted
    let at_caps = alert_with(
        &format!(
            r#"{{"alertname":"HighLatency","detail":"{}"}}"#,
            "v".repeat(4096)
        ),
        &"f".repeat(64),
    );
    let (status, line) = sidecar.notify(&group(&[at_caps])).await;
    assert_eq!(status, 200, "{line}");
}

/// A config whose one rule matches `team: web`, whatever the alert's name.
fn team_config(boosts: &Path, evaluation_url: &str) -> String {
    format!(
        "boostsFile: {}\nevaluationUrl: {evaluation_url}\nlistenAddress: 127.0.0.1:0\nrules:\n\
         \x20 - name: team-web\n    matchers: {{team: web}}\n    minReplicas: 6\n    holdMinutes: 30\n",
        boosts.display()
    )
}

#[tokio::test]
async fn an_alert_name_is_stored_escaped_and_shortened_and_the_receiver_logged_so() {
    let dir = tempfile::tempdir().unwrap();
    let text = team_config(&dir.path().join("boosts.json"), &nobody().await);
    let now: Timestamp = NOW.parse().unwrap();
    let sidecar = Running::start_with(dir, &text, Arc::new(move || now), Limits::default()).await;
    let name = format!(
        "High\\nLatency\\r\\n ERROR injected line {}",
        "x".repeat(3000)
    );
    let body = group(&[alert_with(
        &format!(r#"{{"alertname":"{name}","team":"web"}}"#),
        "aaaa",
    )])
    .replace(
        r#""receiver":"gpa-alerts""#,
        r#""receiver":"evil\n ERROR forged""#,
    );
    let (status, line) = sidecar.notify(&body).await;
    assert_eq!(status, 200, "{line}");
    assert_eq!(line.trim_end().lines().count(), 1, "{line}");
    assert!(line.contains(r"receiver 'evil\n ERROR forged'"), "{line}");
    let boost = &sidecar.boosts().boosts[0];
    assert!(
        boost
            .alert
            .starts_with(r"High\nLatency\r\n ERROR injected line xxx"),
        "{}",
        boost.alert
    );
    assert_eq!(
        boost.alert.chars().count(),
        goose_pod_autoscaler::boosts::MAX_NAME_CHARS
    );
    assert!(boost.alert.ends_with('…'));
    // the file on disk holds the escaped, shortened name too
    let on_disk = std::fs::read_to_string(&sidecar.boosts).unwrap();
    assert!(!on_disk.contains(&"x".repeat(200)), "shortened on disk");
}

/// The example evaluation config with its `boostsFile` at `boosts`, written
/// beside it.
fn evaluation_config_for(boosts: &Path) -> PathBuf {
    let config = boosts.with_file_name("evaluation_config.yaml");
    let example = std::fs::read_to_string("example/evaluation_config.yaml").unwrap();
    let example = example.replace(
        "boostsFile: /var/run/gpa/boosts.json",
        &format!("boostsFile: {}", boosts.display()),
    );
    std::fs::write(&config, example).unwrap();
    config
}

/// The lines of `stderr` that mention `needle`.
fn lines_with<'a>(stderr: &'a str, needle: &str) -> Vec<&'a str> {
    stderr.lines().filter(|l| l.contains(needle)).collect()
}

#[tokio::test]
async fn a_newline_in_an_alert_label_gives_one_decision_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = team_config(&dir.path().join("boosts.json"), &nobody().await);
    let sidecar =
        Running::start_with(dir, &text, Arc::new(Timestamp::now), Limits::default()).await;
    let body = group(&[alert_with(
        r#"{"alertname":"HighLatency\n ERROR injected line, target met","team":"web"}"#,
        "aaaa",
    )]);
    let (status, line) = sidecar.notify(&body).await;
    assert_eq!(status, 200, "{line}");
    let config = evaluation_config_for(&sidecar.boosts);
    let (answer, stderr) = evaluate(&config);
    assert_eq!(answer, "{\"targetReplicas\":6}\n", "{stderr}");
    let decision = lines_with(&stderr, "raised to 6 by alert boost 'team-web'");
    assert_eq!(decision.len(), 1, "{stderr}");
    assert!(
        decision[0].contains(r"HighLatency\n ERROR injected line, target met"),
        "{stderr}"
    );
    assert_eq!(lines_with(&stderr, "injected").len(), 1, "{stderr}");
    assert!(!stderr.lines().any(|l| l.starts_with(" ERROR")), "{stderr}");
}

#[test]
fn a_boosts_file_written_by_an_older_version_still_gives_one_short_decision_line() {
    let dir = tempfile::tempdir().unwrap();
    let boosts = dir.path().join("boosts.json");
    let expires = Timestamp::now() + jiff::SignedDuration::from_hours(1);
    let huge = format!("Big\n ERROR injected{}", "y".repeat(1_900_000));
    let file = serde_json::json!({"boosts": [{
        "id": "aaaa/team-web", "rule": "team-web\n ERROR rule", "alert": huge,
        "minReplicas": 6, "startsAt": "2026-11-22T19:55:00Z", "expiresAt": expires.to_string(),
    }]});
    std::fs::write(&boosts, file.to_string()).unwrap();
    let (answer, stderr) = evaluate(&evaluation_config_for(&boosts));
    assert_eq!(answer, "{\"targetReplicas\":6}\n", "{stderr}");
    let decision = lines_with(&stderr, "raised to 6 by alert boost");
    assert_eq!(decision.len(), 1, "{}", &stderr[..stderr.len().min(2000)]);
    assert!(
        decision[0].len() < 2000,
        "shortened: {} bytes",
        decision[0].len()
    );
    assert!(
        decision[0].contains(r"'team-web\n ERROR rule' (Big\n ERROR injectedyyy"),
        "{}",
        decision[0]
    );
    assert!(!stderr.lines().any(|l| l.starts_with(" ERROR")), "{stderr}");
}

#[tokio::test]
async fn a_corrupt_boosts_file_is_moved_aside_and_the_sidecar_starts_fresh() {
    let sidecar = Running::start(&nobody().await).await;
    std::fs::write(&sidecar.boosts, "{\"boosts\": [ half a file").unwrap();
    let (status, line) = sidecar
        .notify(&notification("firing", "HighLatency", "aaaa"))
        .await;
    assert_eq!(status, 200, "{line}");
    assert!(line.contains("recorded boost aaaa/latency-page"), "{line}");
    assert_eq!(sidecar.boosts().boosts.len(), 1);
    let now: Timestamp = NOW.parse().unwrap();
    let aside = sidecar
        .boosts
        .with_file_name(format!("boosts.json.corrupt-{}", now.as_second()));
    assert_eq!(
        std::fs::read_to_string(&aside).unwrap(),
        "{\"boosts\": [ half a file",
        "kept for inspection"
    );
}

#[test]
fn the_executable_moves_a_corrupt_boosts_file_aside_at_start_with_a_warning_naming_where() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("boosts.json"), "garbage").unwrap();
    let sidecar = Executable::start_in(
        dir,
        &config_text(Path::new("{boosts}"), "http://127.0.0.1:9/x"),
        TOKEN,
    );
    let moved: Vec<_> = std::fs::read_dir(sidecar.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("boosts.json.corrupt-"))
        .collect();
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert!(!sidecar.dir.path().join("boosts.json").exists());
    let (code, _, log) = sidecar.terminate();
    assert_eq!(code, Some(0), "{log}");
    let warning = lines_with(&log, "is not a boosts document");
    assert_eq!(warning.len(), 1, "{log}");
    assert!(warning[0].contains(" WARN "), "{log}");
    assert!(warning[0].contains("moved it to '"), "{log}");
    assert!(warning[0].contains(&moved[0]), "names where it went: {log}");
}

#[test]
fn a_token_that_cannot_travel_in_a_header_is_refused_at_start_and_a_short_one_warned() {
    let text = config_text(
        Path::new("/nonexistent/boosts.json"),
        "http://127.0.0.1:9/x",
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alerts.yaml");
    std::fs::write(&config, &text).unwrap();
    for token in [
        "a-long-enough-token\nsecond-line",
        "long-enough-token-with-\u{1}",
        "long enough token with spaces",
        "long-enough-token-é-unicode",
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_gpa"))
            .args(["alerts", "--config"])
            .arg(&config)
            .env("alertsToken", token)
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(1), "{token:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("error: environment variable alertsToken holds a character that cannot travel in an Authorization header"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("long-enough") && !stderr.contains("a-long"),
            "never prints the token: {stderr}"
        );
    }
    let sidecar = Executable::start(
        &config_text(Path::new("{boosts}"), "http://127.0.0.1:9/x"),
        "short",
    );
    let (code, _, log) = sidecar.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(
        lines_with(
            &log,
            "the bearer token is 5 character(s) long; use at least 16"
        )
        .len(),
        1,
        "{log}"
    );
}

#[tokio::test]
async fn the_next_write_removes_temporary_files_left_by_a_crash() {
    let sidecar = Running::start(&nobody().await).await;
    let folder = sidecar.boosts.parent().unwrap().to_owned();
    let leftovers = [".boosts.json.Ab12Cd.tmp", ".boosts.json.zz99yy.tmp"];
    let others = [".state.json.Ab12Cd.tmp", "notes.tmp"];
    for name in leftovers.iter().chain(&others) {
        std::fs::write(folder.join(name), "{").unwrap();
    }
    let (status, _) = sidecar
        .notify(&notification("firing", "HighLatency", "aaaa"))
        .await;
    assert_eq!(status, 200);
    for name in leftovers {
        assert!(!folder.join(name).exists(), "{name} removed");
    }
    for name in others {
        assert!(folder.join(name).exists(), "{name} kept");
    }
}

/// The example input at `current` replicas (all ready) with the mean at
/// `mean_ms` (the example config's target is a mean of 7 ms).
fn input_at(current: u32, mean_ms: f64) -> String {
    let mut input: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("example/inputs/evaluate-v2.json").unwrap())
            .unwrap();
    let mut report: serde_json::Value =
        serde_json::from_str(input["metrics"][0]["value"].as_str().unwrap()).unwrap();
    report["currentReplicas"] = current.into();
    report["requests"]["GET /fibonacci?n=10"]["meanMs"] = mean_ms.into();
    input["metrics"][0]["value"] = report.to_string().into();
    let resource = &mut input["resource"];
    resource["spec"]["replicas"] = current.into();
    for key in [
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
    ] {
        resource["status"][key] = current.into();
    }
    input.to_string()
}

/// `gpa-evaluate` with `config` on `input`, keeping its state in `state`:
/// the replicas answered and the log.
fn evaluate_with_state(config: &Path, state: &Path, input: &str) -> (u32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpa-evaluate"))
        .arg("--config")
        .arg(config)
        .arg("--state")
        .arg(state)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (answer["targetReplicas"].as_u64().unwrap() as u32, stderr)
}

#[tokio::test]
async fn twenty_four_alerts_under_one_add_replicas_2_rule_raise_the_answer_by_exactly_2() {
    let sidecar = Running::start_on(&nobody().await, Arc::new(Timestamp::now)).await;
    let config = evaluation_config_for(&sidecar.boosts);
    // docs/evaluate.md's worked example: maxReplicas 6
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}maxReplicas: 6\n")).unwrap();
    let state = sidecar.boosts.with_file_name("state.json");
    // targets met at 3 replicas: the answer holds 3
    let (answer, line) = evaluate_with_state(&config, &state, &input_at(3, 5.0));
    assert_eq!(answer, 3, "{line}");
    // each run, one more distinct alert under the `errors` rule (addReplicas
    // 2), and the CPA scales to what was answered
    let mut current = 3;
    for n in 0..24 {
        let (status, line) = sidecar
            .notify(&notification("firing", "HighErrors", &format!("e{n:02}")))
            .await;
        assert_eq!(status, 200, "{line}");
        let (answer, line) = evaluate_with_state(&config, &state, &input_at(current, 5.0));
        assert_eq!(answer, 5, "alert {n}: 3 + 2 once, at {current}: {line}");
        current = answer;
    }
    assert_eq!(sidecar.boosts().boosts.len(), 24);
}
