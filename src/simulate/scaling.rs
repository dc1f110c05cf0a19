//! What the CPA does with an evaluation before it patches the resource
//! (Go: `internal/scaling`), as pure functions of the evaluation, the current
//! replicas, the bounds, the window of earlier targets and the time.
//!
//! In the CPA's order: clamp `targetReplicas` to `[minReplicas, maxReplicas]`;
//! if the resource has 0 replicas and `minReplicas` is not 0, autoscaling is
//! disabled and nothing changes; otherwise the clamped target joins the
//! downscale stabilization window (targets older than the window dropped) and
//! the largest target in the window is the one applied.

use std::time::Duration;

use crate::evaluate::bounds::Bounds;

/// `target` (the plugin's `targetReplicas`) clamped into `bounds`
/// (`minReplicas`, `maxReplicas`; `min` at most `max`).
pub fn clamp(bounds: Bounds, target: i32) -> u32 {
    let target = u32::try_from(target).unwrap_or(0);
    target.clamp(bounds.min, bounds.max)
}

/// The downscale stabilization window (`downscaleStabilization`): the clamped
/// targets of recent intervals, with the time each was seen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stabilization {
    window: Duration,
    seen: Vec<(Duration, u32)>,
}

impl Stabilization {
    /// A window of `window`; zero turns stabilization off.
    pub fn new(window: Duration) -> Self {
        Stabilization {
            window,
            seen: Vec::new(),
        }
    }

    /// Records `target` seen at `now` (time since any fixed start) and returns
    /// the largest target seen within the window, this one included.
    pub fn apply(&mut self, now: Duration, target: u32) -> u32 {
        let cutoff = now.saturating_sub(self.window);
        self.seen.retain(|(at, _)| *at >= cutoff);
        self.seen.push((now, target));
        self.seen
            .iter()
            .map(|(_, seen)| *seen)
            .max()
            .unwrap_or(target)
    }
}

/// What the CPA does with one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaling {
    /// The resource has 0 replicas and `minReplicas` is not 0: autoscaling is
    /// disabled and nothing is scaled.
    Disabled,
    /// Scale to `replicas` (which may equal the current count: no change).
    To {
        /// The evaluation clamped to the bounds.
        clamped: u32,
        /// The replicas applied: `clamped` after stabilization.
        replicas: u32,
    },
}

/// The CPA's handling of `evaluated` (the plugin's `targetReplicas`) for a
/// resource at `current` replicas, at `now`.
pub fn scale(
    evaluated: i32,
    current: u32,
    bounds: Bounds,
    stabilization: &mut Stabilization,
    now: Duration,
) -> Scaling {
    let clamped = clamp(bounds, evaluated);
    if current == 0 && bounds.min != 0 {
        return Scaling::Disabled;
    }
    Scaling::To {
        clamped,
        replicas: stabilization.apply(now, clamped),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn clamps_into_the_bounds() {
        let bounds = Bounds { min: 2, max: 5 };
        let cases = [
            (-3, 2),
            (0, 2),
            (2, 2),
            (4, 4),
            (5, 5),
            (9, 5),
            (i32::MAX, 5),
        ];
        for (target, expected) in cases {
            assert_eq!(clamp(bounds, target), expected, "target {target}");
        }
        assert_eq!(clamp(Bounds { min: 0, max: 3 }, 0), 0);
    }

    #[test]
    fn the_largest_target_within_the_window_wins() {
        let mut window = Stabilization::new(secs(30));
        // (seen at, target, applied)
        let cases = [
            (0, 5, 5),
            (10, 3, 5),
            (20, 2, 5),
            (30, 2, 5), // the 5 seen at 0 is exactly 30 s old: still in the window
            (31, 2, 3), // the 5 has left; the 3 seen at 10 is the largest left
            (41, 2, 2), // the 3 has left
            (50, 4, 4), // scaling up is never held back
            (60, 1, 4),
        ];
        for (at, target, applied) in cases {
            assert_eq!(window.apply(secs(at), target), applied, "at {at} s");
        }
    }

    #[test]
    fn a_zero_window_applies_every_target_as_it_is() {
        let mut window = Stabilization::new(Duration::ZERO);
        assert_eq!(window.apply(secs(0), 6), 6);
        assert_eq!(window.apply(secs(10), 1), 1);
        assert_eq!(window.apply(secs(10), 3), 3);
    }

    #[test]
    fn zero_replicas_with_a_nonzero_minimum_disables_autoscaling() {
        let mut window = Stabilization::new(secs(60));
        let bounds = Bounds { min: 1, max: 4 };
        assert_eq!(scale(3, 0, bounds, &mut window, secs(0)), Scaling::Disabled);
        // A disabled interval leaves no trace in the window.
        assert_eq!(
            scale(1, 2, bounds, &mut window, secs(10)),
            Scaling::To {
                clamped: 1,
                replicas: 1
            }
        );
        let zero_min = Bounds { min: 0, max: 4 };
        assert_eq!(
            scale(2, 0, zero_min, &mut window, secs(20)),
            Scaling::To {
                clamped: 2,
                replicas: 2
            }
        );
    }

    #[test]
    fn clamping_happens_before_stabilization() {
        let mut window = Stabilization::new(secs(60));
        let bounds = Bounds { min: 1, max: 3 };
        assert_eq!(
            scale(10, 2, bounds, &mut window, secs(0)),
            Scaling::To {
                clamped: 3,
                replicas: 3
            }
        );
        assert_eq!(
            scale(-1, 3, bounds, &mut window, secs(5)),
            Scaling::To {
                clamped: 1,
                replicas: 3
            }
        );
    }
}
