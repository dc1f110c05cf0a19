//! The memory of failed decays: a decay followed within
//! `decay.unchangedRuns + 1` runs by a miss went below what the load needs.
//!
//! Such a miss answers the count from before the decay (the last count known
//! to be enough) instead of a scale-up by the policy, and no decay goes below
//! that count again for a back-off counted in runs: at first
//! `2 × (decay.unchangedRuns + 1)`, doubled by each further failed decay up to
//! `32 × (decay.unchangedRuns + 1)`, and forgotten after a successful decay
//! (one followed by `decay.unchangedRuns + 1` runs without a miss) made once
//! the back-off was over. A replica count changed by someone else forgets it
//! all: the load, or the operator, changed.
//!
//! The queue a failed decay built outlives the restore: for the rest of the
//! decay period after it, a miss at the restored count with every replica
//! ready (known from the resource's status) holds while that queue drains,
//! instead of scaling up on the backlog.

use crate::evaluate::config::EvaluationConfig;
use crate::state::DecayState;

/// The back-off after the first failed decay, in decay periods
/// (`decay.unchangedRuns + 1` runs).
const FIRST_BACKOFF_PERIODS: u32 = 2;
/// The longest back-off, in decay periods.
const MAX_BACKOFF_PERIODS: u32 = 32;

/// What the run did, as far as the memory is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// A miss answered the count from before a failed decay.
    Restore,
    /// We answered a decay (or answered a pending one again).
    Decay,
    /// A miss answered a scale-up by the policy.
    ScaleUp,
    /// Anything else: a hold, quiet or not.
    Hold,
}

/// The failed-decay memory at the start of a run, aged by this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Memory {
    /// The count before our last decay and the runs since it, this one
    /// included, while that decay can still fail.
    decay: Option<(u32, u32)>,
    /// The floor and the runs it still holds, this one included.
    floor: Option<(u32, u32)>,
    /// The back-off of the last failed decay, runs.
    backoff: u32,
    /// `decay.unchangedRuns + 1`: the runs a decay is watched for.
    period: u32,
}

impl Memory {
    /// The memory `state` holds, as seen by this run.
    pub fn recall(config: &EvaluationConfig, state: &DecayState, external_change: bool) -> Self {
        let period = config.decay.unchanged_runs.saturating_add(1);
        if external_change {
            return Memory {
                decay: None,
                floor: None,
                backoff: 0,
                period,
            };
        }
        Memory {
            decay: state
                .decayed_from_replicas
                .map(|from| (from, state.runs_since_decay.saturating_add(1))),
            floor: state
                .decay_floor_replicas
                .filter(|_| state.decay_floor_runs_left > 0)
                .map(|floor| (floor, state.decay_floor_runs_left)),
            backoff: state.decay_backoff_runs,
            period,
        }
    }

    /// When a miss now shows our last decay failed: the count before it
    /// (to answer) and the runs since it, this one included. Only within
    /// the decay's period and when that count is above `current`.
    pub fn failed_decay(&self, current: u32) -> Option<(u32, u32)> {
        self.decay
            .filter(|&(from, runs)| runs <= self.period && from > current)
    }

    /// The floor no decay may go below this run: (floor, runs it still
    /// holds, the back-off that set it).
    pub fn floor(&self) -> Option<(u32, u32, u32)> {
        self.floor.map(|(floor, runs)| (floor, runs, self.backoff))
    }

    /// After a failed decay was undone: the restored count and the runs
    /// since the restore, this one included, while the queue the failed
    /// decay built may still be draining (fewer runs than the decay period).
    pub fn draining(&self) -> Option<(u32, u32)> {
        let (floor, runs_left) = self.floor?;
        // the restore set the floor for `backoff + 1` runs, counting itself
        let since = self.backoff.saturating_add(1).checked_sub(runs_left)?;
        (since >= 1 && since < self.period).then_some((floor, since))
    }

    /// The back-off a failed decay now sets, in runs.
    pub fn next_backoff(&self) -> u32 {
        let first = self.period.saturating_mul(FIRST_BACKOFF_PERIODS);
        let most = self.period.saturating_mul(MAX_BACKOFF_PERIODS);
        if self.backoff == 0 {
            first
        } else {
            self.backoff.saturating_mul(2).min(most)
        }
    }

    /// Writes what the run leaves behind into `state`: `step` is what it
    /// did, `met` whether it missed no target, `current` the count it saw.
    pub fn remember(self, step: Step, met: bool, current: u32, state: &mut DecayState) {
        let mut decay = self.decay;
        let mut floor = self.floor;
        let mut backoff = self.backoff;
        if let Some((_, runs)) = decay
            && runs >= self.period
        {
            // the decay's period is over; without a miss it succeeded
            decay = None;
            if met && floor.is_none() {
                backoff = 0;
            }
        }
        match step {
            Step::Restore => {
                let from = self.failed_decay(current).map_or(current, |(from, _)| from);
                backoff = self.next_backoff();
                floor = Some((from, backoff.saturating_add(1)));
                decay = None;
            }
            Step::Decay => decay = Some((current, 0)),
            Step::ScaleUp => decay = None,
            Step::Hold => {}
        }
        state.decayed_from_replicas = decay.map(|(from, _)| from);
        state.runs_since_decay = decay.map_or(0, |(_, runs)| runs);
        // the floor holds one run fewer from the next run on
        let floor = floor.filter(|&(_, runs)| runs > 1);
        state.decay_floor_replicas = floor.map(|(floor, _)| floor);
        state.decay_floor_runs_left = floor.map_or(0, |(_, runs)| runs - 1);
        state.decay_backoff_runs = backoff;
    }
}
