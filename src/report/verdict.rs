//! What the metric stage's report says of a target's statistic while the
//! load test ran: its verdict against the target's limit and which way the
//! response times moved. The metric stage computes both
//! ([`crate::metric::verdict`]); the report carries them to the evaluate
//! stage.

use serde::{Deserialize, Serialize};

/// What an interval says about a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// The whole interval lies above the limit.
    Missed,
    /// The whole interval lies at or below the limit.
    Met,
    /// The limit lies inside the interval, or the figure still rises or
    /// falls.
    Undecided,
}

/// Which way response times moved during the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Trend {
    /// They rose: a queue growing.
    Rising,
    /// They fell: a queue draining.
    Falling,
    /// No slope at the stated confidence.
    Steady,
}
