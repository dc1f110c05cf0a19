//! Keeps the protocol stream clean: while the load test runs, file
//! descriptor 1 points at stderr, and only the report reaches the real
//! stdout.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;

/// Keeps file descriptor 1 away from everything but the report.
///
/// [`StdoutGuard::install`] duplicates the real stdout to a new descriptor
/// and points fd 1 at stderr, so `println!`s and loggers writing to stdout
/// land on stderr. [`StdoutGuard::write_document`] writes the one JSON
/// document to the real stdout. Dropping the guard points fd 1 back.
#[derive(Debug)]
pub struct StdoutGuard {
    real_stdout: File,
}

impl StdoutGuard {
    /// Redirects fd 1 to stderr, keeping the real stdout.
    pub fn install() -> std::io::Result<Self> {
        std::io::stdout().flush()?;
        let saved = rustix::io::dup(std::io::stdout().as_fd())?;
        rustix::stdio::dup2_stdout(std::io::stderr().as_fd())?;
        Ok(StdoutGuard {
            real_stdout: File::from(saved),
        })
    }

    /// Writes `document` and a newline to the real stdout.
    pub fn write_document(&mut self, document: &str) -> std::io::Result<()> {
        let mut out = Vec::with_capacity(document.len() + 1);
        out.extend_from_slice(document.as_bytes());
        out.push(b'\n');
        self.real_stdout.write_all(&out)?;
        self.real_stdout.flush()
    }
}

impl Drop for StdoutGuard {
    fn drop(&mut self) {
        let _ = std::io::stdout().flush();
        let _ = rustix::stdio::dup2_stdout(self.real_stdout.as_fd());
    }
}
