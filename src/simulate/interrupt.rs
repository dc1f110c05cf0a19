//! Ctrl-C (SIGINT) and SIGTERM during `gpa simulate`: the run stops where
//! it is, the interval under way is abandoned (its stage processes are
//! killed, as the CPA kills a method past its timeout), and what was
//! measured so far is written as usual, the summary marked `interrupted`.
//! `gpa` then exits as a process killed by that signal would report it to
//! a shell: 128 + the signal's number (130, 143).

use serde::{Deserialize, Serialize};
use tokio::signal::unix::{Signal, SignalKind, signal};

/// The signal that ended a run early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Interruption {
    /// SIGINT: Ctrl-C in the terminal.
    #[serde(rename = "SIGINT")]
    Interrupt,
    /// SIGTERM: `kill`, a container runtime stopping the process.
    #[serde(rename = "SIGTERM")]
    Terminate,
}

impl Interruption {
    /// The signal's name, `SIGINT` or `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Interruption::Interrupt => "SIGINT",
            Interruption::Terminate => "SIGTERM",
        }
    }

    /// The exit code that says so: 128 + the signal number, 130 or 143.
    pub fn exit_code(self) -> u8 {
        match self {
            Interruption::Interrupt => 128 + 2,
            Interruption::Terminate => 128 + 15,
        }
    }
}

/// Listens for SIGINT and SIGTERM from its creation on (until dropped, when
/// the signals' default meaning does not come back: tokio keeps its handler,
/// and a second signal is then ignored).
pub struct Interrupts {
    interrupt: Signal,
    terminate: Signal,
}

impl Interrupts {
    /// Starts listening.
    pub fn listen() -> std::io::Result<Self> {
        Ok(Interrupts {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Waits for the first of the two signals.
    pub async fn received(&mut self) -> Interruption {
        tokio::select! {
            _ = self.interrupt.recv() => Interruption::Interrupt,
            _ = self.terminate.recv() => Interruption::Terminate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_code_is_the_shell_s_for_a_process_the_signal_ended() {
        assert_eq!(Interruption::Interrupt.exit_code(), 130);
        assert_eq!(Interruption::Terminate.exit_code(), 143);
        assert_eq!(
            serde_json::to_string(&Interruption::Terminate).unwrap(),
            "\"SIGTERM\""
        );
    }
}
