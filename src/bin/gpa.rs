//! `gpa`: the project's command for people. `gpa simulate` runs the whole CPA
//! autoscaling loop on this machine (see docs/simulate.md): progress lines on
//! stderr, the summary as one JSON document on stdout.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use goose_pod_autoscaler::cpa::RunType;
use goose_pod_autoscaler::simulate::{self, Settings, scaling::Bounds};
use goose_pod_autoscaler::{cli, logging};

/// goose-pod-autoscaler: scale a workload on the latency a load test measures.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the CPA loop on this machine: the example service with a capacity
    /// model, background traffic from a load profile, and every interval the
    /// real gpa-metric and gpa-evaluate, as the CPA runs them. Prints the
    /// summary as JSON on stdout; writes a chart and the timeline.
    Simulate(SimulateArgs),
}

#[derive(Debug, clap::Args)]
struct SimulateArgs {
    /// Load profile (YAML); default: the built-in profiles/step.yaml.
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// Evaluation config handed to gpa-evaluate; default: the built-in one,
    /// written to the output folder.
    #[arg(long, value_name = "FILE")]
    evaluation_config: Option<PathBuf>,
    /// Scenario handed to gpa-metric; default: the built-in one, written to
    /// the output folder.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Folder for chart.svg, seconds.csv, intervals.csv, timeline.json and the
    /// decay state; created if missing.
    #[arg(long, value_name = "DIR", default_value = "sim-out")]
    output_dir: PathBuf,
    /// The CPA's interval, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    interval_ms: u64,
    /// The CPA's minReplicas.
    #[arg(long, value_name = "N", default_value_t = 1)]
    min_replicas: u32,
    /// The CPA's maxReplicas.
    #[arg(long, value_name = "N", default_value_t = 10)]
    max_replicas: u32,
    /// Replicas of the simulated Deployment at the start (0 with minReplicas
    /// above 0 shows the CPA's "autoscaling disabled").
    #[arg(long, value_name = "N", default_value_t = 1)]
    initial_replicas: u32,
    /// The CPA's downscaleStabilization, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    downscale_stabilization: u64,
    /// Run type handed to both stages; api_dry_run decides but applies nothing.
    #[arg(long, value_name = "TYPE", default_value = "scaler",
          value_parser = ["scaler", "api", "api_dry_run"])]
    run_type: String,
    /// Requests one simulated replica serves at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    concurrency_per_replica: u32,
    /// Time one request takes to serve, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 50)]
    service_time_ms: u64,
    /// Time a new replica takes before it serves, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    startup_delay_ms: u64,
    /// Longest a request waits for a free replica before it is answered 503,
    /// milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1500)]
    max_queue_ms: u64,
    /// Most background requests waiting at once; more are dropped.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    max_in_flight: usize,
    /// How long a background request waits for its answer, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    request_timeout_ms: u64,
    /// The metric method's entrypoint; default: gpa-metric beside gpa.
    #[arg(long, value_name = "PATH")]
    metric_command: Option<PathBuf>,
    /// The metric method's timeout, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10000)]
    metric_timeout_ms: u64,
    /// The evaluate method's entrypoint; default: gpa-evaluate beside gpa.
    #[arg(long, value_name = "PATH")]
    evaluate_command: Option<PathBuf>,
    /// The evaluate method's timeout, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2500)]
    evaluate_timeout_ms: u64,
    /// A plugin setting for both stages' environment, like a CR's
    /// spec.config entry (repeatable), e.g. --set gooseUsers=4.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_setting)]
    set: Vec<(String, String)>,
}

fn parse_setting(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!(
            "setting '{text}' has no name; expected NAME=VALUE, e.g. gooseUsers=4"
        )),
    }
}

impl SimulateArgs {
    fn settings(self) -> Settings {
        let metric = self
            .metric_command
            .unwrap_or_else(|| simulate::sibling_executable("gpa-metric"));
        let evaluate = self
            .evaluate_command
            .unwrap_or_else(|| simulate::sibling_executable("gpa-evaluate"));
        let mut settings = Settings::with_commands(metric, evaluate);
        settings.profile = self.profile;
        settings.evaluation_config = self.evaluation_config;
        settings.scenario = self.scenario;
        settings.output_dir = self.output_dir;
        settings.interval = Duration::from_millis(self.interval_ms);
        settings.bounds = Bounds {
            min: self.min_replicas,
            max: self.max_replicas,
        };
        settings.initial_replicas = self.initial_replicas;
        settings.downscale_stabilization = Duration::from_secs(self.downscale_stabilization);
        settings.run_type = match self.run_type.as_str() {
            "api" => RunType::Api,
            "api_dry_run" => RunType::ApiDryRun,
            _ => RunType::Scaler,
        };
        settings.capacity.concurrency_per_replica = self.concurrency_per_replica;
        settings.capacity.service_time = Duration::from_millis(self.service_time_ms);
        settings.capacity.startup_delay = Duration::from_millis(self.startup_delay_ms);
        settings.capacity.max_queue_time = Duration::from_millis(self.max_queue_ms);
        settings.traffic.max_in_flight = self.max_in_flight;
        settings.traffic.request_timeout = Duration::from_millis(self.request_timeout_ms);
        settings.metric.timeout = Duration::from_millis(self.metric_timeout_ms);
        settings.evaluate.timeout = Duration::from_millis(self.evaluate_timeout_ms);
        settings.plugin_env = self.set;
        settings
    }
}

fn main() -> ExitCode {
    cli::exit_code(run())
}

fn run() -> anyhow::Result<()> {
    let Some(cli) = cli::parse::<Cli>()? else {
        return Ok(());
    };
    logging::init("info");
    let Command::Simulate(args) = cli.command;
    let settings = args.settings();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let summary = runtime
        .block_on(simulate::run(&settings))
        .context("simulation failed")?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_defaults_are_the_librarys_defaults() {
        let cli = Cli::parse_from(["gpa", "simulate"]);
        let Command::Simulate(args) = cli.command;
        let settings = args.settings();
        let mut expected = Settings::with_commands(
            settings.metric.entrypoint.clone(),
            settings.evaluate.entrypoint.clone(),
        );
        expected.plugin_env = Vec::new();
        assert_eq!(settings, expected);
        assert!(settings.metric.entrypoint.ends_with("gpa-metric"));
    }

    #[test]
    fn a_setting_needs_a_name() {
        assert_eq!(
            parse_setting("gooseUsers=4"),
            Ok(("gooseUsers".into(), "4".into()))
        );
        assert_eq!(parse_setting("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_setting("=4").is_err());
        assert!(parse_setting("gooseUsers").is_err());
    }
}
