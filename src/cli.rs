//! What every executable does the same way at its edges: parse its flags with
//! clap, and turn its result into an exit code with at most one error line on
//! stderr. Bad flags are input errors like any other: one line, exit code 1
//! (clap alone would print several lines and exit 2). The line keeps what
//! clap says to help (`tip: a similar argument exists: '--config'`, the
//! possible values) and leaves out its usage block.
//!
//! One exception: a command with subcommands (`gpa`) given none prints its
//! help, which lists them, on stderr before its error line.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use crate::logging;

/// Parses the command line. `Ok(None)` when clap printed `--help` or
/// `--version` on stdout, as asked; the executable then exits 0.
pub fn parse<C: Parser>() -> anyhow::Result<Option<C>> {
    parse_from::<C, _, _>(std::env::args_os())
}

/// [`parse`] of the command line `args` (the executable's name first).
pub fn parse_from<C, I, T>(args: I) -> anyhow::Result<Option<C>>
where
    C: Parser,
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match C::try_parse_from(args) {
        Ok(cli) => Ok(Some(cli)),
        Err(err) if !err.use_stderr() => {
            err.print()?;
            Ok(None)
        }
        Err(err) if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // clap's text here is the whole help, usage and subcommands.
            eprint!("{}", err.render());
            anyhow::bail!("no command given; expected one of the commands listed above")
        }
        // logging::error_line drops clap's own "error: " when printing
        Err(err) => anyhow::bail!("{}", one_line(&err.to_string())),
    }
}

/// clap's error text as one line: its message, then its context lines (a
/// `tip:` with a suggestion, the possible values), joined with `; `; its
/// usage block and "For more information" left out.
fn one_line(text: &str) -> String {
    let parts: Vec<&str> = text
        .lines()
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .map(|line| {
            let line = line.trim();
            line.strip_prefix('[')
                .and_then(|inner| inner.strip_suffix(']'))
                .unwrap_or(line)
        })
        .filter(|line| !line.is_empty())
        .collect();
    if parts.is_empty() {
        "invalid command line".to_string()
    } else {
        parts.join("; ")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Parser)]
    #[command(name = "tool")]
    struct Tool {
        #[arg(long, value_parser = ["fast", "slow"])]
        speed: Option<String>,
        #[arg(long)]
        config: Option<String>,
    }

    fn error(args: &[&str]) -> String {
        let err = parse_from::<Tool, _, _>(args.iter().copied()).unwrap_err();
        logging::error_line(&err)
    }

    #[test]
    fn a_bad_flag_is_one_line_that_keeps_clap_s_suggestions() {
        let cases = [
            (
                &["tool", "--confg", "x"][..],
                "error: unexpected argument '--confg' found; tip: a similar argument exists: '--config'",
            ),
            (
                &["tool", "--speed", "slo"][..],
                "error: invalid value 'slo' for '--speed <SPEED>'; possible values: fast, slow; tip: a similar value exists: 'slow'",
            ),
            (
                &["tool", "extra"][..],
                "error: unexpected argument 'extra' found",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(error(args), want, "{args:?}");
        }
    }
}
