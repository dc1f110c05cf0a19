//! `gpa`: the project's command for people and for the pod's sidecar.
//!
//! - `gpa simulate` (feature `simulate`) runs the whole CPA autoscaling loop
//!   on this machine (see docs/simulate.md): progress lines on stderr, the
//!   summary as one JSON document on stdout. With `--compare` it runs once
//!   per evaluation config: the table of figures on stderr, the rows as one
//!   JSON array on stdout.
//! - `gpa alerts` (feature `alerts`) serves Alertmanager's webhook beside the
//!   CPA, recording alert boosts (see docs/alerts.md); logs on stderr.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use goose_pod_autoscaler::alerts;
#[cfg(feature = "simulate")]
use goose_pod_autoscaler::simulate::{self, Settings};
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
    #[cfg(feature = "simulate")]
    Simulate(Box<simulate::Flags>),
    /// Serve Alertmanager's webhook as a sidecar of the CPA: firing alerts
    /// that match a rule raise the replica floor for a while (a boost in the
    /// shared boosts file) and trigger an evaluation at once.
    Alerts(alerts::Flags),
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => cli::exit_code(Err(err)),
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let Some(cli) = cli::parse::<Cli>()? else {
        return Ok(ExitCode::SUCCESS);
    };
    logging::init("info");
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match cli.command {
        #[cfg(feature = "simulate")]
        Command::Simulate(flags) => simulate_command(&runtime, Settings::from(*flags)),
        Command::Alerts(flags) => runtime
            .block_on(alerts::run(&flags))
            .map(|()| ExitCode::SUCCESS),
    }
}

/// Runs `gpa simulate`; prints the summary (or the comparison's rows), then
/// exits 130 or 143 when SIGINT or SIGTERM cut the run short, 1 when no
/// interval decided (every one skipped; with `--compare`, under any one
/// config), else 0.
#[cfg(feature = "simulate")]
fn simulate_command(
    runtime: &tokio::runtime::Runtime,
    settings: Settings,
) -> anyhow::Result<ExitCode> {
    if settings.compare.is_empty() {
        let finished = runtime
            .block_on(simulate::run_recorded(&settings))
            .context("simulation failed")?;
        println!("{}", serde_json::to_string_pretty(&finished.summary)?);
        if let Some(signal) = finished.summary.interrupted_by {
            return Ok(ExitCode::from(signal.exit_code()));
        }
        if let Some(why) = finished.undecided {
            anyhow::bail!("simulation failed: {why}");
        }
    } else {
        let rows = runtime
            .block_on(simulate::compare::run(&settings))
            .context("comparison failed")?;
        eprint!("{}", simulate::compare::table(&rows));
        println!("{}", serde_json::to_string_pretty(&rows)?);
        if let Some(signal) = rows.iter().find_map(|row| row.interrupted_by) {
            return Ok(ExitCode::from(signal.exit_code()));
        }
        // a config that decided nothing is no figure to compare
        if let Some((row, why)) = rows
            .iter()
            .find_map(|row| Some((row, row.undecided.as_ref()?)))
        {
            anyhow::bail!(
                "comparison failed: '{}': {why}",
                row.evaluation_config.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
