//! `gpa simulate --prometheus`: a real Prometheus, started for the run,
//! scraping the simulated service's `/metrics` every second.
//!
//! [`PrometheusServer::start`] runs the `prometheus` executable found on the
//! PATH (Debian's `prometheus` package) on a free port of 127.0.0.1, with a
//! config file and its storage in a temporary folder, and waits until it is
//! ready and has scraped the service once. The stages get its URL as the
//! `prometheusUrl` setting, and the built-in evaluation config gets a
//! `load:` section ([`PROMETHEUS_LOAD_SECTION`]): the CPU and a
//! `load.prometheus` query with a 5 s range, to fit the simulation's time
//! scale, the opt-in that turns the load rules on, on both sources.
//! [`PrometheusServer::stop`] ends it when the run ends; dropped on an error
//! path it is killed all the same, and its folder removed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use tokio::process::{Child, Command};
use tokio::time::Instant;

use super::SimulateError;
use super::output::PluginFiles;
use super::settings::Settings;
use crate::evaluate::config::EvaluationConfig;
use crate::metric::prometheus::{Auth, InstantQuery};

/// The `load` section `--prometheus` adds to the built-in evaluation config
/// (`simulate/load-prometheus.yaml`).
pub const PROMETHEUS_LOAD_SECTION: &str = include_str!("../../simulate/load-prometheus.yaml");

/// The executable looked for on the PATH.
pub const EXECUTABLE: &str = "prometheus";

/// How often Prometheus scrapes the simulated service.
pub const SCRAPE_INTERVAL: Duration = Duration::from_secs(1);

/// The scrape job's name.
const JOB: &str = "simulated-service";

/// How long Prometheus may take to become ready, and then to scrape once.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// The built-in evaluation config, with the load rules on the CPU and the
/// `load.prometheus` query when `prometheus` is set.
pub fn built_in_evaluation_config(prometheus: bool) -> String {
    let base = super::DEFAULT_EVALUATION_CONFIG;
    if prometheus {
        // the built-in config has no `load:` section: this one is its own,
        // and turns the load rules on, on the CPU and the query
        format!("{base}{PROMETHEUS_LOAD_SECTION}")
    } else {
        base.to_string()
    }
}

/// The Prometheus `settings.prometheus` asks for, scraping the service at
/// `base_url`; `None` without `--prometheus`. Says so when the evaluation
/// config the stages read has no `load.prometheus` query to send it.
pub async fn start_if_asked(
    settings: &Settings,
    base_url: &str,
    files: &PluginFiles,
) -> Result<Option<PrometheusServer>, SimulateError> {
    if !settings.prometheus {
        return Ok(None);
    }
    let target = base_url
        .trim_start_matches("http://")
        .parse::<SocketAddr>()
        .map_err(|err| {
            SimulateError::Prometheus(format!("the service's address '{base_url}': {err}"))
        })?;
    let has_query = EvaluationConfig::load(&files.evaluation_config)
        .is_ok_and(|config| config.prometheus().is_some());
    if !has_query {
        tracing::warn!(
            "--prometheus: the evaluation config '{}' has no load.prometheus query: Prometheus runs, but the metric stage reads nothing from it",
            files.evaluation_config.display()
        );
    }
    PrometheusServer::start(target).await.map(Some)
}

/// `settings` with the `prometheusUrl` plugin setting of `server` (before
/// the `--set` ones, which win), or unchanged without a server.
pub fn with_url(settings: &Settings, server: Option<&PrometheusServer>) -> Settings {
    let mut settings = settings.clone();
    if let Some(server) = server {
        settings
            .plugin_env
            .insert(0, ("prometheusUrl".to_string(), server.url().to_string()));
    }
    settings
}

/// The `prometheus` executable on `path` (the PATH variable's value).
pub fn find_executable(path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path?)
        .map(|dir| dir.join(EXECUTABLE))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
}

/// The Prometheus config: one job scraping `target` every second.
pub fn config_text(target: SocketAddr) -> String {
    let every = SCRAPE_INTERVAL.as_secs();
    format!(
        "# Written by gpa simulate --prometheus.\n\
         global:\n  scrape_interval: {every}s\n  scrape_timeout: {every}s\n  evaluation_interval: {every}s\n\
         scrape_configs:\n  - job_name: {JOB}\n    static_configs:\n      - targets: ['{target}']\n"
    )
}

/// A running Prometheus; killed when dropped.
#[derive(Debug)]
pub struct PrometheusServer {
    child: Child,
    url: String,
    /// Holds the config, the storage and the log; removed when dropped.
    folder: tempfile::TempDir,
}

impl PrometheusServer {
    /// Starts Prometheus scraping `target` and waits until it is ready.
    pub async fn start(target: SocketAddr) -> Result<Self, SimulateError> {
        let executable = find_executable(std::env::var_os("PATH").as_deref())
            .ok_or(SimulateError::NoPrometheus)?;
        let failed = |why: String| SimulateError::Prometheus(why);
        let folder = tempfile::Builder::new()
            .prefix("gpa-simulate-prometheus-")
            .tempdir()
            .map_err(|err| failed(format!("creating its temporary folder: {err}")))?;
        let config = folder.path().join("prometheus.yml");
        std::fs::write(&config, config_text(target))
            .map_err(|err| failed(format!("writing '{}': {err}", config.display())))?;
        let log_path = folder.path().join("prometheus.log");
        let log = std::fs::File::create(&log_path)
            .map_err(|err| failed(format!("creating '{}': {err}", log_path.display())))?;
        let port = free_port().map_err(|err| failed(format!("finding a free port: {err}")))?;
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(&executable)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                folder.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={listen}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| failed(format!("starting '{}': {err}", executable.display())))?;
        let mut server = PrometheusServer {
            child,
            url: format!("http://{listen}"),
            folder,
        };
        server.wait_until_ready().await?;
        server.wait_for_first_scrape().await?;
        tracing::info!(
            "Prometheus ({}) on {}, scraping {target}/metrics every {} s",
            executable.display(),
            server.url,
            SCRAPE_INTERVAL.as_secs()
        );
        Ok(server)
    }

    /// Its base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Polls `/-/ready` until it answers 200, or fails when Prometheus
    /// exits or takes longer than [`READY_WITHIN`].
    async fn wait_until_ready(&mut self) -> Result<(), SimulateError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(1))
            .build()
            .map_err(|err| SimulateError::Prometheus(format!("an HTTP client: {err}")))?;
        let ready = format!("{}/-/ready", self.url);
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(SimulateError::Prometheus(format!(
                    "it exited ({status}) before it was ready{}",
                    last_log_line(&self.folder.path().join("prometheus.log"))
                )));
            }
            if let Ok(response) = client.get(&ready).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(SimulateError::Prometheus(format!(
                    "not ready at {ready} within {} s{}",
                    READY_WITHIN.as_secs(),
                    last_log_line(&self.folder.path().join("prometheus.log"))
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until Prometheus has scraped the service once (it applies a
    /// new target only after about 5 s): from then on the stages' query
    /// reads the service, not an empty database.
    async fn wait_for_first_scrape(&mut self) -> Result<(), SimulateError> {
        let up = InstantQuery {
            url: reqwest::Url::parse(&self.url)
                .map_err(|err| SimulateError::Prometheus(format!("its URL: {err}")))?,
            query: format!("sum(up{{job=\"{JOB}\"}}) or vector(0)"),
            timeout: Duration::from_secs(1),
            auth: Auth::None,
        };
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if up.run(SystemTime::now()).await == Ok(1.0) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(SimulateError::Prometheus(format!(
                    "it did not scrape the simulated service within {} s{}",
                    READY_WITHIN.as_secs(),
                    last_log_line(&self.folder.path().join("prometheus.log"))
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Stops Prometheus and removes its folder.
    pub async fn stop(mut self) {
        if let Err(err) = self.child.kill().await {
            tracing::warn!("stopping Prometheus failed: {err}");
        }
    }
}

impl Drop for PrometheusServer {
    /// Kills Prometheus (if still running) and waits briefly for it to exit,
    /// so its folder can be removed.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.start_kill();
            let deadline = std::time::Instant::now() + Duration::from_secs(2);
            while matches!(self.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// A port of 127.0.0.1 free at the moment of asking.
fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

/// `: <the log's last line>`, or nothing.
fn last_log_line(path: &Path) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| {
            text.lines()
                .map(str::trim)
                .rfind(|line| !line.is_empty())
                .map(|line| format!(": {line}"))
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_config_with_the_load_section_loads_and_reads_the_background_traffic() {
        let text = built_in_evaluation_config(true);
        let config = EvaluationConfig::parse_str(&text, Path::new("built-in")).unwrap();
        let prometheus = config
            .prometheus()
            .cloned()
            .expect("a load.prometheus section");
        let rules = config
            .load_rules()
            .expect("the load section turns the load rules on");
        assert!(
            rules.cpu.is_some(),
            "the built-in config reads the CPU beside the query"
        );
        assert_eq!(prometheus.url, None, "the url comes from prometheusUrl");
        assert_eq!(
            prometheus.query,
            r#"sum(rate(http_requests_total{probe="false"}[5s])) or vector(0)"#
        );
        let plain = EvaluationConfig::parse_str(&built_in_evaluation_config(false), Path::new("b"))
            .unwrap();
        assert_eq!(plain.prometheus(), None);
    }

    #[test]
    fn the_executable_is_found_only_where_it_is_executable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (with, without) = (dir.path().join("with"), dir.path().join("without"));
        std::fs::create_dir_all(&with).unwrap();
        std::fs::create_dir_all(&without).unwrap();
        let executable = with.join(EXECUTABLE);
        std::fs::write(&executable, "#!/bin/sh\n").unwrap();
        std::fs::write(without.join(EXECUTABLE), "not executable").unwrap();
        let path = std::env::join_paths([&without, &with]).unwrap();
        assert_eq!(find_executable(Some(&path)), None);
        std::fs::set_permissions(&executable, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(find_executable(Some(&path)), Some(executable));
        let only_without = std::env::join_paths([&without]).unwrap();
        assert_eq!(find_executable(Some(&only_without)), None);
        assert_eq!(find_executable(None), None);
    }

    #[test]
    fn the_config_scrapes_the_service_every_second() {
        let text = config_text("127.0.0.1:8123".parse().unwrap());
        assert!(text.contains("scrape_interval: 1s"), "{text}");
        assert!(text.contains("targets: ['127.0.0.1:8123']"), "{text}");
    }
}
