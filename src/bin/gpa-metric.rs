//! `gpa-metric`: the CPA metric stage. Runs a short goose load test against
//! the service and prints one JSON latency report on stdout.
//!
//! A thin shell: everything, from the command line to the report, is
//! [`goose_pod_autoscaler::metric::main_with`], here with no compiled
//! scenarios (the scenario file alone says what to request).

use std::process::ExitCode;

fn main() -> ExitCode {
    goose_pod_autoscaler::metric::main_with(Vec::new)
}
