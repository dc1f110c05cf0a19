//! `gpa-evaluate`: the CPA evaluate stage. Reads the CPA's evaluate JSON on
//! stdin, prints `{"targetReplicas":N}` on stdout and one line saying why on
//! stderr. A thin shell over [`goose_pod_autoscaler::evaluate::run`].

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;
use clap::Parser;
use goose_pod_autoscaler::evaluate::{self, Settings};
use goose_pod_autoscaler::logging;

/// Compares a gpa-metric latency report with the evaluation config's targets
/// and prints the replica count the Custom Pod Autoscaler should scale to.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Evaluation config (YAML or JSON): targets, decay, scale-up, bounds.
    #[arg(
        long = "config",
        env = "evaluationConfigFilePath",
        default_value = "/evaluation_config.yaml",
        value_name = "PATH"
    )]
    config: PathBuf,
    /// Decay state file, read and replaced on every run (a `<PATH>.lock`
    /// file beside it serialises runs).
    #[arg(
        long = "state",
        env = "decayInfoFilePath",
        default_value = "/decay_info.json",
        value_name = "PATH"
    )]
    state: PathBuf,
    /// Lowest replica count answered when the config has no `minReplicas`
    /// [CPA default: 1].
    #[arg(long = "min-replicas", env = "minReplicas", value_name = "N")]
    min_replicas: Option<u32>,
    /// Highest replica count answered when the config has no `maxReplicas`
    /// [CPA default: 10].
    #[arg(long = "max-replicas", env = "maxReplicas", value_name = "N")]
    max_replicas: Option<u32>,
    /// Validate the evaluation config and the bounds, then exit.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    logging::init("info");
    let settings = Settings {
        config_path: cli.config,
        state_path: cli.state,
        min_replicas: cli.min_replicas,
        max_replicas: cli.max_replicas,
    };
    if cli.check {
        let (config, bounds) = evaluate::check(&settings)?;
        tracing::info!(
            "evaluation config '{}' is valid: {} target(s), replicas {}..={}",
            settings.config_path.display(),
            config.targets.len(),
            bounds.min,
            bounds.max
        );
        return Ok(());
    }
    let mut stdin = Vec::new();
    std::io::stdin()
        .read_to_end(&mut stdin)
        .context("cannot read stdin; expected the CPA evaluate JSON")?;
    let outcome = evaluate::run(&settings, &stdin, SystemTime::now())?;
    tracing::info!("{}", outcome.explanation);
    let mut line = serde_json::to_string(&outcome.evaluation)?;
    line.push('\n');
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(line.as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write the evaluation to stdout")?;
    Ok(())
}
