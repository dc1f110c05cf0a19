//! The replica counts read from the scaled resource: how many it has and,
//! from its `status`, how many are ready. Both stages read them: the
//! evaluate stage to decide, the metric stage to hold a miss while replicas
//! start.

/// The replica counts this run sees (the metric stage's too, which reads
/// them from the resource to hold a miss while replicas start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// Current replicas: the report's `currentReplicas`, else `spec.replicas`
    /// (the metric stage has only the latter).
    pub current: u32,
    /// Ready replicas from the resource's `status`; `None` without a status,
    /// which decides as the LPA does.
    pub ready: Option<u32>,
}

impl Observed {
    /// `current` replicas with readiness unknown.
    pub fn current(current: u32) -> Self {
        Observed {
            current,
            ready: None,
        }
    }

    /// Replicas not ready (`current - ready`); 0 when unknown.
    pub fn not_ready(&self) -> u32 {
        self.ready
            .map_or(0, |ready| self.current.saturating_sub(ready))
    }
}

/// The default start-up allowance, seconds (2 minutes): how long replicas
/// our answers added may take to get ready before an unready one no longer
/// counts as starting.
pub const DEFAULT_STARTUP_ALLOWANCE_SECONDS: u64 = 120;
