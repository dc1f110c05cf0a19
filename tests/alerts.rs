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

#[test]
fn the_executable_serves_until_sigterm_then_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alerts.yaml");
    std::fs::write(
        &config,
        config_text(&dir.path().join("boosts.json"), "http://127.0.0.1:9/x"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpa"))
        .args(["alerts", "--config"])
        .arg(&config)
        .env("alertsToken", TOKEN)
        .env_remove("GPA_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let address = first
        .split("listening on ")
        .nth(1)
        .and_then(|rest| rest.split(": ").next())
        .unwrap_or_else(|| panic!("a 'listening on' line: {first}"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let health = runtime.block_on(async {
        reqwest::get(format!("http://{address}/healthz"))
            .await
            .unwrap()
            .status()
    });
    assert_eq!(health.as_u16(), 200);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(status.code(), Some(0), "{first}{rest}");
    assert!(rest.contains("gpa alerts stopped"), "{rest}");
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
