//! `gpa`: the project's command for people. `gpa simulate` runs the whole CPA
//! autoscaling loop on this machine (see docs/simulate.md): progress lines on
//! stderr, the summary as one JSON document on stdout. With `--compare` it
//! runs once per evaluation config: the table of figures on stderr, the rows
//! as one JSON array on stdout.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
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
    Simulate(simulate::Flags),
}

fn main() -> ExitCode {
    cli::exit_code(run())
}

fn run() -> anyhow::Result<()> {
    let Some(cli) = cli::parse::<Cli>()? else {
        return Ok(());
    };
    logging::init("info");
    let Command::Simulate(flags) = cli.command;
    let settings = Settings::from(flags);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    if settings.compare.is_empty() {
        let summary = runtime
            .block_on(simulate::run(&settings))
            .context("simulation failed")?;
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        let rows = runtime
            .block_on(simulate::compare::run(&settings))
            .context("comparison failed")?;
        eprint!("{}", simulate::compare::table(&rows));
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    Ok(())
}
