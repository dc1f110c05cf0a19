//! The backlog of a missed target: how fast its figure grows or falls
//! between two runs served by the same ready replicas, which says whether
//! the queue behind it is growing or draining, and so whether those
//! replicas carry the load.
//!
//! A queue in front of replicas that serve `c` requests per second, fed `λ`
//! per second, makes each arriving request wait `λ / c − 1` seconds longer
//! for every second that passes (the fluid model of a queue). So when two
//! runs in a row miss the same latency target with the same ready replicas,
//! the figure's change per second of wall time, `g`, gives the load over the
//! ready replicas' capacity, `1 + g`. The decision uses it three ways: a
//! figure falling fast enough to be under the limit by the next run is a
//! queue the ready replicas are draining (hold); a queue that does not grow
//! (`g` at most [`GROWTH_THRESHOLD`]) needs nothing on top of replicas still
//! starting, whatever its length says (the plain latency ratio,
//! `measured / target`, measures the queue's length, not what is missing);
//! and a queue growing with every replica ready refutes the hold after a
//! failed decay. The size of a scale-up stays the policy's: `ready × (1 + g)`
//! carries the load without clearing the queue already built.
//!
//! Only latency targets, and only in runs in which every request of the
//! target was answered: a queue at its bound sheds load (503s at once,
//! timeouts), stops growing with the overload, and its instant failures pull
//! the figure down. Used only when the input carries the resource's status
//! (the ready count).

use crate::evaluate::measure::{Measurement, round};
use crate::state::LastMiss;

/// Growth of a figure per second of wall time, as a fraction (ms per ms),
/// under which the backlog is neither growing nor draining: 2 %, a 100 ms
/// change over a 5 s interval.
pub const GROWTH_THRESHOLD: f64 = 0.02;

/// The longest gap between the two runs for their comparison to count, ms:
/// a miss older than that says nothing about this queue.
const MAX_GAP_MS: u64 = 300_000;
/// The shortest gap, ms: closer runs are one load test seen twice.
const MIN_GAP_MS: u64 = 1_000;

/// A missed target's figure in the last run and in this one, with the same
/// ready replicas.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Backlog {
    /// The target's request key, `GET /x`, and statistic.
    what: String,
    /// The figure in the last run and now, ms.
    from_ms: f64,
    to_ms: f64,
    /// Wall time between the middles of the two load tests, ms.
    gap_ms: f64,
    /// The target's limit, ms.
    limit_ms: f64,
    /// The ready replicas in both runs.
    ready: u32,
}

impl Backlog {
    /// Compares this run's measurements with the last run's miss, when both
    /// missed the same latency target with every request of it answered,
    /// with `ready` replicas ready, `MIN_GAP_MS` to `MAX_GAP_MS` apart.
    /// `at_unix_ms`: the middle of this run's load test.
    pub fn between(
        last: Option<LastMiss>,
        measurements: &[Measurement],
        ready: Option<u32>,
        at_unix_ms: u64,
    ) -> Option<Backlog> {
        let (last, ready) = (last?, ready?);
        let gap_ms = at_unix_ms.checked_sub(last.at_unix_ms)?;
        if last.ready_replicas != ready || !(MIN_GAP_MS..=MAX_GAP_MS).contains(&gap_ms) {
            return None;
        }
        let now = measurements.get(usize::try_from(last.target).ok()?)?;
        if !fluid(now) {
            return None;
        }
        Some(Backlog {
            what: format!("{} {}", now.key, now.target.kind),
            from_ms: f64::from(last.ms),
            to_ms: now.measured,
            gap_ms: gap_ms as f64,
            limit_ms: now.limit,
            ready,
        })
    }

    /// The growth of the figure per unit of wall time (ms per ms).
    fn growth(&self) -> f64 {
        (self.to_ms - self.from_ms) / self.gap_ms
    }

    /// The load over the ready replicas' capacity, `1 + growth` (at least
    /// 0): above 1 the queue grows, below 1 it drains, about 1 it holds its
    /// length, which the ready replicas alone never clear.
    pub fn load_ratio(&self) -> f64 {
        (1.0 + self.growth()).max(0.0)
    }

    /// The queue grows faster than [`GROWTH_THRESHOLD`].
    pub fn growing(&self) -> bool {
        self.growth() > GROWTH_THRESHOLD
    }

    /// The queue falls faster than [`GROWTH_THRESHOLD`], fast enough that
    /// at this pace the figure is under its limit by the time of the next
    /// run (one more gap).
    pub fn drains_by_next_run(&self) -> bool {
        let growth = self.growth();
        growth < -GROWTH_THRESHOLD && self.to_ms + growth * self.gap_ms <= self.limit_ms
    }

    /// `the queue grows: GET /x mean 986 -> 1406 ms in 5 s with 3 ready
    /// replicas` (or `drains`, or `holds its length` within
    /// [`GROWTH_THRESHOLD`]).
    pub fn describe(&self) -> String {
        let growth = self.growth();
        let trend = if growth > GROWTH_THRESHOLD {
            "grows"
        } else if growth < -GROWTH_THRESHOLD {
            "drains"
        } else {
            "holds its length"
        };
        format!(
            "the queue {trend}: {} {} -> {} ms in {} s with {} ready replicas",
            self.what,
            round(self.from_ms),
            round(self.to_ms),
            round(self.gap_ms / 1000.0),
            self.ready
        )
    }
}

/// What this run leaves for the next one to compare with: the missed
/// latency target, every request of it answered, furthest over its limit,
/// when the ready count is known.
pub(crate) fn last_miss(
    measurements: &[Measurement],
    ready: Option<u32>,
    at_unix_ms: u64,
) -> Option<LastMiss> {
    let ready_replicas = ready?;
    let (index, worst) = measurements
        .iter()
        .enumerate()
        .filter(|(_, m)| fluid(m))
        .max_by(|(_, a), (_, b)| (a.measured / a.limit).total_cmp(&(b.measured / b.limit)))?;
    Some(LastMiss {
        target: u32::try_from(index).ok()?,
        // `as` saturates: an absurd figure cannot wrap around
        ms: worst.measured.round() as u32,
        ready_replicas,
        at_unix_ms,
    })
}

/// A missed latency target whose every request was answered: a queue the
/// fluid model describes. A failed request (a full queue answering 503 at
/// once, a timeout) means the queue is at its bound and sheds load: it no
/// longer grows with the overload, and instant failures pull the figure down.
fn fluid(measurement: &Measurement) -> bool {
    measurement.target.kind.is_latency() && measurement.missed() && measurement.stats.failures == 0
}
