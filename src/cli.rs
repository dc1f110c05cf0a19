//! What every executable does the same way at its edges: parse its flags with
//! clap, and turn its result into an exit code with at most one error line on
//! stderr. Bad flags are input errors like any other: one line, exit code 1
//! (clap alone would print several lines and exit 2).

use std::process::ExitCode;

use clap::Parser;

use crate::logging;

/// Parses the command line. `Ok(None)` when clap printed `--help` or
/// `--version` on stdout, as asked; the executable then exits 0.
pub fn parse<C: Parser>() -> anyhow::Result<Option<C>> {
    match C::try_parse() {
        Ok(cli) => Ok(Some(cli)),
        Err(err) if !err.use_stderr() => {
            err.print()?;
            Ok(None)
        }
        Err(err) => {
            let text = err.to_string();
            // logging::error_line drops clap's own "error: " when printing
            anyhow::bail!("{}", text.lines().next().unwrap_or("invalid command line"))
        }
    }
}

/// The exit code for a run's result: 0, or 1 after printing the error chain
/// as one line on stderr.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{}", logging::error_line(&err));
            ExitCode::FAILURE
        }
    }
}
