//! `gpa-evaluate`: the CPA evaluate stage. Reads the CPA's evaluate JSON on
//! stdin, prints `{"targetReplicas":N}` on stdout and one line saying why on
//! stderr. A thin shell over [`goose_pod_autoscaler::evaluate::main_with`].

use std::process::ExitCode;

use goose_pod_autoscaler::{cli, evaluate};

fn main() -> ExitCode {
    cli::exit_code(run())
}

fn run() -> anyhow::Result<()> {
    let Some(args) = cli::parse::<evaluate::Args>()? else {
        return Ok(());
    };
    let env = |name: &str| std::env::var(name).ok();
    evaluate::main_with(
        &args,
        &env,
        std::io::stdin().lock(),
        std::io::stdout().lock(),
    )
}
