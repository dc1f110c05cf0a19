//! `gpa-evaluate`: the CPA evaluate stage. Reads the CPA's evaluate JSON on
//! stdin, prints `{"targetReplicas":N}` on stdout and one line saying why on
//! stderr. A thin shell over [`goose_pod_autoscaler::evaluate::run`].

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;
use clap::Parser;
use goose_pod_autoscaler::evaluate::config::CpaFileBounds;
use goose_pod_autoscaler::evaluate::{self, Settings};
use goose_pod_autoscaler::{cli, logging};

/// Compares a gpa-metric latency report with the evaluation config's targets
/// and prints the replica count the Custom Pod Autoscaler should scale to.
#[derive(Debug, Parser)]
#[command(name = "gpa-evaluate", version)]
struct Cli {
    /// Evaluation config (YAML or JSON): targets, decay, scale-up, bounds
    /// [default: /evaluation_config.yaml].
    #[arg(long = "config", env = "evaluationConfigFilePath", value_name = "PATH")]
    config: Option<OsString>,
    /// Decay state file, read and replaced on every run; a `<PATH>.lock`
    /// file beside it serialises runs [default: /decay_info.json].
    #[arg(long = "state", env = "decayInfoFilePath", value_name = "PATH")]
    state: Option<OsString>,
    /// Lowest replica count answered when the config has no `minReplicas`
    /// [default: the CPA config file's, else 1, as the CPA's].
    #[arg(long = "min-replicas", env = "minReplicas", value_name = "N")]
    min_replicas: Option<String>,
    /// Highest replica count answered when the config has no `maxReplicas`
    /// [default: the CPA config file's, else 10, as the CPA's].
    #[arg(long = "max-replicas", env = "maxReplicas", value_name = "N")]
    max_replicas: Option<String>,
    /// The CPA's own configuration file, read for its minReplicas and
    /// maxReplicas when those variables are unset (as the CPA does)
    /// [default: /config.yaml].
    #[arg(long = "cpa-config", env = "configPath", value_name = "PATH")]
    cpa_config: Option<OsString>,
    /// Validate the evaluation config and the bounds, then exit.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    cli::exit_code(run())
}

fn run() -> anyhow::Result<()> {
    let Some(cli) = cli::parse::<Cli>()? else {
        return Ok(());
    };
    logging::init("info");
    // the CPA's bounds: its variables, else its own config file
    let cpa_file = path_or(cli.cpa_config, CpaFileBounds::DEFAULT_PATH);
    let (file_bounds, warning) = CpaFileBounds::load(&cpa_file);
    if let Some(warning) = warning {
        tracing::warn!("{warning}");
    }
    let settings = Settings {
        config_path: path_or(cli.config, evaluate::DEFAULT_CONFIG_PATH),
        state_path: path_or(cli.state, evaluate::DEFAULT_STATE_PATH),
        min_replicas: replica_count("minReplicas", cli.min_replicas)?.or(file_bounds.min_replicas),
        max_replicas: replica_count("maxReplicas", cli.max_replicas)?.or(file_bounds.max_replicas),
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

/// A path setting; set but empty counts as unset.
fn path_or(value: Option<OsString>, default: &str) -> PathBuf {
    value
        .filter(|path| !path.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// A replica-count setting; set but empty (or blank) counts as unset.
fn replica_count(name: &str, value: Option<String>) -> anyhow::Result<Option<u32>> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            anyhow::anyhow!(
                "setting {name} '{text}': not a replica count; expected a whole number from 0 to {}",
                u32::MAX
            )
        }),
    }
}
