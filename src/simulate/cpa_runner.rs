//! Runs one CPA shell method the way the CPA does: the entrypoint executed
//! directly with its arguments, the input JSON on stdin, stdout captured whole,
//! the process killed (SIGKILL) once the method's timeout passes, and a
//! non-zero exit taken as failure with stderr kept for the log.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// A `type: shell` method of the CPA config (`metric` or `evaluate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellMethod {
    /// `shell.entrypoint`: the executable, run directly (not through a shell).
    pub entrypoint: PathBuf,
    /// `shell.command`: its arguments.
    pub command: Vec<String>,
    /// `timeout`: how long it may run before it is killed.
    pub timeout: Duration,
}

/// What a successful run printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodOutput {
    /// Everything written to stdout, verbatim (lossy UTF-8).
    pub stdout: String,
    /// Everything written to stderr (lossy UTF-8).
    pub stderr: String,
    /// Wall time from start to exit.
    pub elapsed: Duration,
}

/// A run that failed: the interval is skipped.
#[derive(Debug, thiserror::Error)]
pub enum MethodError {
    /// The entrypoint could not be started.
    #[error("starting '{entrypoint}' failed: {error}; expected an executable file")]
    Spawn {
        /// The entrypoint.
        entrypoint: PathBuf,
        /// The operating system's error (said once: not a chained source).
        error: std::io::Error,
    },
    /// Reading its output or waiting for it failed.
    #[error(
        "running '{entrypoint}' failed: {error}; expected its stdin, stdout and stderr to stay open until it exits"
    )]
    Io {
        /// The entrypoint.
        entrypoint: PathBuf,
        /// The operating system's error (said once: not a chained source).
        error: std::io::Error,
    },
    /// It ran past its timeout and was killed.
    #[error("'{entrypoint}' timed out after {} ms and was killed{}", timeout.as_millis(), last_line_suffix(stderr))]
    TimedOut {
        /// The entrypoint.
        entrypoint: PathBuf,
        /// The method's timeout.
        timeout: Duration,
        /// What it had written to stderr by then, if it could be read.
        stderr: String,
    },
    /// It exited with a non-zero status or was killed by a signal.
    #[error("'{entrypoint}' failed ({status}){}", last_line_suffix(stderr))]
    Failed {
        /// The entrypoint.
        entrypoint: PathBuf,
        /// How it ended.
        status: ExitStatus,
        /// Everything it wrote to stderr.
        stderr: String,
    },
}

impl MethodError {
    /// The method's stderr, when there was any.
    pub fn stderr(&self) -> Option<&str> {
        match self {
            MethodError::TimedOut { stderr, .. } | MethodError::Failed { stderr, .. } => {
                Some(stderr)
            }
            _ => None,
        }
    }
}

/// `": <last stderr line>"`, or nothing when stderr is empty.
fn last_line_suffix(stderr: &str) -> String {
    match last_line(stderr) {
        Some(line) => format!(": {line}"),
        None => String::new(),
    }
}

/// The last non-empty line of a process's stderr, without terminal colour
/// codes: where our binaries put their one-line error or decision.
pub fn last_line(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .map(strip_ansi)
        .map(|line| line.trim().to_string())
        .rfind(|line| !line.is_empty())
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI sequences: ESC [ ... final byte in '@'..='~'.
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl ShellMethod {
    /// Starts the entrypoint with its arguments, `env` added to ours, and
    /// pipes for stdin, stdout and stderr; killed if dropped.
    fn spawn(&self, env: &[(String, OsString)]) -> Result<Child, MethodError> {
        Command::new(&self.entrypoint)
            .args(&self.command)
            .envs(env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| MethodError::Spawn {
                entrypoint: self.entrypoint.clone(),
                error,
            })
    }

    /// Runs the method with `input` on stdin and `env` added to the inherited
    /// environment (the CPA's `spec.config` entries reach plugins this way).
    pub async fn run(
        &self,
        input: &[u8],
        env: &[(String, OsString)],
    ) -> Result<MethodOutput, MethodError> {
        let started = Instant::now();
        let deadline = started + self.timeout;
        let mut child = self.spawn(env)?;
        let io_error = |error| MethodError::Io {
            entrypoint: self.entrypoint.clone(),
            error,
        };
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(io_error(std::io::Error::other(
                "the child's pipes are missing",
            )));
        };
        // stderr is read by a task of its own so it is still there after a kill.
        let stderr_task = tokio::spawn(read_all(stderr));
        let write = async move {
            // A method may exit without reading its input; that is not our failure.
            let _ = stdin.write_all(input).await;
            drop(stdin);
        };
        let run = async {
            let ((), stdout, status) = tokio::join!(write, read_all(stdout), child.wait());
            (stdout, status)
        };
        let outcome = tokio::time::timeout_at(deadline, run).await;
        let Ok((stdout, status)) = outcome else {
            // SIGKILL, like the CPA; then reap it.
            let _ = child.kill().await;
            let stderr = collect_stderr(stderr_task, Duration::from_millis(200)).await;
            return Err(MethodError::TimedOut {
                entrypoint: self.entrypoint.clone(),
                timeout: self.timeout,
                stderr,
            });
        };
        let status = status.map_err(io_error)?;
        let stdout = stdout.map_err(io_error)?;
        let stderr = collect_stderr(stderr_task, Duration::from_millis(500)).await;
        if !status.success() {
            return Err(MethodError::Failed {
                entrypoint: self.entrypoint.clone(),
                status,
                stderr,
            });
        }
        Ok(MethodOutput {
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr,
            elapsed: started.elapsed(),
        })
    }
}

async fn read_all(mut pipe: impl AsyncRead + Unpin) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    pipe.read_to_end(&mut bytes).await?;
    Ok(bytes)
}

/// stderr as read so far; a grandchild still holding the pipe open does not
/// hold us up for longer than `grace`.
async fn collect_stderr(
    task: tokio::task::JoinHandle<std::io::Result<Vec<u8>>>,
    grace: Duration,
) -> String {
    let abort = task.abort_handle();
    match tokio::time::timeout(grace, task).await {
        Ok(Ok(Ok(bytes))) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(_) => String::new(),
        Err(_) => {
            abort.abort();
            String::from("(stderr still open after the process ended)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout_ms: u64) -> ShellMethod {
        ShellMethod {
            entrypoint: PathBuf::from("/bin/sh"),
            command: vec!["-c".into(), script.into()],
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    #[tokio::test]
    async fn stdin_reaches_the_method_and_stdout_comes_back_verbatim() {
        let method = sh("cat; echo; echo \"$greeting\" >&2", 5000);
        let env = [("greeting".to_string(), OsString::from("hello"))];
        let output = method.run(b"{\"a\":1}", &env).await.unwrap();
        assert_eq!(output.stdout, "{\"a\":1}\n");
        assert_eq!(output.stderr, "hello\n");
    }

    #[tokio::test]
    async fn a_nonzero_exit_is_a_failure_carrying_stderr() {
        let err = sh("echo 'error: bad config' >&2; exit 1", 5000)
            .run(b"", &[])
            .await
            .unwrap_err();
        assert!(matches!(err, MethodError::Failed { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "'/bin/sh' failed (exit status: 1): error: bad config"
        );
        assert_eq!(err.stderr(), Some("error: bad config\n"));
    }

    #[tokio::test]
    async fn a_method_past_its_timeout_is_killed() {
        let started = Instant::now();
        let err = sh("echo started >&2; exec sleep 30", 300)
            .run(b"", &[])
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(
            err.to_string(),
            "'/bin/sh' timed out after 300 ms and was killed: started"
        );
    }

    #[tokio::test]
    async fn a_method_that_ignores_its_input_still_succeeds() {
        let big = vec![b'x'; 1 << 20];
        let output = sh("echo done", 5000).run(&big, &[]).await.unwrap();
        assert_eq!(output.stdout, "done\n");
    }

    #[tokio::test]
    async fn a_missing_entrypoint_is_reported_by_name() {
        let method = ShellMethod {
            entrypoint: PathBuf::from("/nonexistent/gpa-metric"),
            command: vec![],
            timeout: Duration::from_secs(1),
        };
        let err = method.run(b"", &[]).await.unwrap_err().to_string();
        assert!(
            err.starts_with("starting '/nonexistent/gpa-metric' failed:"),
            "{err}"
        );
    }

    #[test]
    fn the_last_stderr_line_loses_colour_codes() {
        let stderr =
            "\u{1b}[32m INFO\u{1b}[0m loading\n\u{1b}[32m INFO\u{1b}[0m scale up 1 -> 2: slow\n\n";
        assert_eq!(
            last_line(stderr).as_deref(),
            Some("INFO scale up 1 -> 2: slow")
        );
        assert_eq!(last_line(" \n"), None);
    }
}
