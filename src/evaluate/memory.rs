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
//!
//! The settle hold ([`Settle`]) is the other memory a run leaves: after our
//! scale-up, whether its replicas have all been ready in a run yet.

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

impl Step {
    /// What the run did once the limits applied: a decay the limits turned
    /// into a hold (or a rise) is no decay to watch.
    pub fn landed(self, current: u32, target: u32) -> Step {
        match self {
            Step::Decay if target >= current => Step::Hold,
            step => step,
        }
    }
}

/// The settle hold: after our scale-up (with readiness known), the first
/// run in which all its replicas are ready may still measure the queue
/// built before they served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settle {
    /// No scale-up of ours is awaited.
    Idle,
    /// Our scale-up to `replicas` is awaited: its replicas have not all
    /// been ready in a run yet.
    Awaiting {
        /// The count of that scale-up.
        replicas: u32,
    },
}

impl Settle {
    /// The settle hold `state` holds.
    pub fn recall(state: &DecayState) -> Settle {
        match state.settling_replicas {
            Some(replicas) => Settle::Awaiting { replicas },
            None => Settle::Idle,
        }
    }

    /// The state's `settlingReplicas`.
    pub fn replicas(self) -> Option<u32> {
        match self {
            Settle::Awaiting { replicas } => Some(replicas),
            Settle::Idle => None,
        }
    }
}

/// Our last decay, while a miss can still show it went too far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Watch {
    /// No decay is watched.
    Idle,
    /// A decay from `from` replicas, `runs` runs ago (this one included).
    Watching {
        /// The count before the decay.
        from: u32,
        /// Runs since it, this one included.
        runs: u32,
    },
}

/// The back-off after a failed decay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backoff {
    /// No failed decay to remember.
    Clear,
    /// No decay goes below the floor for its `runs_left` more runs.
    Floor(Floor),
    /// The floor is over; the next failed decay doubles `backoff_runs`,
    /// and a successful decay forgets it.
    Remembered {
        /// The last back-off, runs.
        backoff_runs: u32,
    },
}

/// The floor a restored failed decay sets: no decay below `replicas` for
/// `runs_left` more runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Floor {
    /// The count the failed decay fell from, restored.
    pub replicas: u32,
    /// Runs it still holds, this one included.
    pub runs_left: u32,
    /// The back-off that set it, runs.
    pub backoff_runs: u32,
}

impl Floor {
    /// Runs since the restore that set it, this one included (the restore
    /// itself is run 0): the restore set the floor for `backoff_runs + 1`
    /// runs, counting itself, and `runs_left` of them remain.
    pub fn runs_since_restore(&self) -> u32 {
        self.backoff_runs
            .saturating_add(1)
            .saturating_sub(self.runs_left)
    }
}

/// A miss that shows our last decay failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FailedDecay {
    /// The count before the decay: the last one known to be enough.
    pub from: u32,
    /// Runs since the decay, this one included.
    pub runs: u32,
}

/// A failed decay undone in the last runs: the queue it built may still be
/// draining.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Draining {
    /// The count restored.
    pub restored: u32,
    /// Runs since the restore, this one included.
    pub runs_since_restore: u32,
}

impl Backoff {
    /// The back-off in runs (0 when clear).
    fn runs(self) -> u32 {
        match self {
            Backoff::Clear => 0,
            Backoff::Floor(Floor { backoff_runs, .. }) | Backoff::Remembered { backoff_runs } => {
                backoff_runs
            }
        }
    }

    /// What is left after the floor's run is over: the floor one run
    /// shorter, else the back-off remembered.
    fn aged(self) -> Backoff {
        match self {
            Backoff::Floor(floor) if floor.runs_left > 1 => Backoff::Floor(Floor {
                runs_left: floor.runs_left - 1,
                ..floor
            }),
            backoff if backoff.runs() > 0 => Backoff::Remembered {
                backoff_runs: backoff.runs(),
            },
            _ => Backoff::Clear,
        }
    }
}

/// The failed-decay memory at the start of a run, aged by this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Memory {
    /// Our last decay, while it can still fail.
    watch: Watch,
    /// The back-off of the last failed decay.
    backoff: Backoff,
    /// `decay.unchangedRuns + 1`: the runs a decay is watched for.
    period: u32,
}

impl Memory {
    /// The memory `state` holds, as seen by this run; a replica count
    /// changed by someone else forgets it all.
    pub fn recall(config: &EvaluationConfig, state: &DecayState, external_change: bool) -> Self {
        let period = config.decay.unchanged_runs.saturating_add(1);
        if external_change {
            return Memory {
                watch: Watch::Idle,
                backoff: Backoff::Clear,
                period,
            };
        }
        let watch = match state.decayed_from_replicas {
            Some(from) => Watch::Watching {
                from,
                runs: state.runs_since_decay.saturating_add(1),
            },
            None => Watch::Idle,
        };
        let backoff_runs = state.decay_backoff_runs;
        let backoff = match state.decay_floor_replicas {
            Some(replicas) if state.decay_floor_runs_left > 0 => Backoff::Floor(Floor {
                replicas,
                runs_left: state.decay_floor_runs_left,
                backoff_runs,
            }),
            _ if backoff_runs > 0 => Backoff::Remembered { backoff_runs },
            _ => Backoff::Clear,
        };
        Memory {
            watch,
            backoff,
            period,
        }
    }

    /// When a miss now shows our last decay failed (to answer its `from`).
    /// Only within the decay's period and when `from` is above `current`.
    pub fn failed_decay(&self, current: u32) -> Option<FailedDecay> {
        match self.watch {
            Watch::Watching { from, runs } if runs <= self.period && from > current => {
                Some(FailedDecay { from, runs })
            }
            _ => None,
        }
    }

    /// The floor no decay may go below this run.
    pub fn floor(&self) -> Option<Floor> {
        match self.backoff {
            Backoff::Floor(floor) => Some(floor),
            _ => None,
        }
    }

    /// After a failed decay was undone, while the queue it built may still
    /// be draining: fewer runs since the restore than the decay period.
    pub fn draining(&self) -> Option<Draining> {
        let floor = self.floor()?;
        let since = floor.runs_since_restore();
        (since >= 1 && since < self.period).then_some(Draining {
            restored: floor.replicas,
            runs_since_restore: since,
        })
    }

    /// The back-off a failed decay now sets, in runs.
    pub fn next_backoff(&self) -> u32 {
        let first = self.period.saturating_mul(FIRST_BACKOFF_PERIODS);
        let most = self.period.saturating_mul(MAX_BACKOFF_PERIODS);
        match self.backoff.runs() {
            0 => first,
            runs => runs.saturating_mul(2).min(most),
        }
    }

    /// Writes what the run leaves behind into `state`: `step` is what it
    /// did, `met` whether it missed no target, `current` the count it saw.
    pub fn remember(self, step: Step, met: bool, current: u32, state: &mut DecayState) {
        let mut watch = self.watch;
        let mut backoff = self.backoff;
        if let Watch::Watching { runs, .. } = watch
            && runs >= self.period
        {
            // the decay's period is over; without a miss it succeeded
            watch = Watch::Idle;
            if met && self.floor().is_none() {
                backoff = Backoff::Clear;
            }
        }
        match step {
            Step::Restore => {
                let from = self
                    .failed_decay(current)
                    .map_or(current, |failed| failed.from);
                let backoff_runs = self.next_backoff();
                backoff = Backoff::Floor(Floor {
                    replicas: from,
                    runs_left: backoff_runs.saturating_add(1),
                    backoff_runs,
                });
                watch = Watch::Idle;
            }
            Step::Decay => {
                watch = Watch::Watching {
                    from: current,
                    runs: 0,
                }
            }
            Step::ScaleUp => watch = Watch::Idle,
            Step::Hold => {}
        }
        (state.decayed_from_replicas, state.runs_since_decay) = match watch {
            Watch::Watching { from, runs } => (Some(from), runs),
            Watch::Idle => (None, 0),
        };
        // the floor holds one run fewer from the next run on
        let backoff = backoff.aged();
        (state.decay_floor_replicas, state.decay_floor_runs_left) = match backoff {
            Backoff::Floor(floor) => (Some(floor.replicas), floor.runs_left),
            _ => (None, 0),
        };
        state.decay_backoff_runs = backoff.runs();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_sets_a_floor_whose_runs_since_restore_count_up_while_the_queue_drains() {
        let config = EvaluationConfig::parse_str(
            "targets:\n  - {method: GET, endpoint: /x, type: mean, target: 100}\n\
             decay: {replicas: 1, unchangedRuns: 2}\n",
            std::path::Path::new("config"),
        )
        .unwrap();
        // our decay 4 -> 3 the run before
        let mut state = DecayState {
            decayed_from_replicas: Some(4),
            ..DecayState::default()
        };
        let memory = Memory::recall(&config, &state, false);
        assert_eq!(
            memory.failed_decay(3),
            Some(FailedDecay { from: 4, runs: 1 })
        );
        assert_eq!(memory.failed_decay(4), None, "not above the count now");
        memory.remember(Step::Restore, false, 3, &mut state);
        let backoff = memory.next_backoff();
        // the state keeps the floor's runs left; the runs since the restore
        // follow from them, run after run
        let mut seen = Vec::new();
        for _ in 0..4 {
            let memory = Memory::recall(&config, &state, false);
            let floor = memory.floor().unwrap();
            assert_eq!((floor.replicas, floor.backoff_runs), (4, backoff));
            assert_eq!(floor.runs_left + floor.runs_since_restore(), backoff + 1);
            seen.push((floor.runs_since_restore(), memory.draining()));
            memory.remember(Step::Hold, true, 4, &mut state);
        }
        let draining = |runs_since_restore| {
            Some(Draining {
                restored: 4,
                runs_since_restore,
            })
        };
        // draining for fewer runs than the decay period (3)
        assert_eq!(
            seen,
            [(1, draining(1)), (2, draining(2)), (3, None), (4, None)]
        );
    }
}
