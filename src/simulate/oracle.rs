//! The oracle `gpa simulate` scores a run against: at each second, the least
//! replicas whose *steady-state* statistic meets the target at that second's
//! offered rate, computed from the capacity model with start-up ignored, and
//! the figures that compare a run with it (replica-seconds, reaction time,
//! reversals).
//!
//! The queue model is M/D/c: Poisson arrivals at the offered rate, `c` =
//! replicas × `concurrencyPerReplica` servers, each request served in exactly
//! `serviceTime`. Its waiting time has no closed form, so the Erlang-C
//! (M/M/c) waiting time is scaled by the Allen–Cunneen factor
//! `(ca² + cs²) / 2 = 1/2` (Poisson arrivals, deterministic service):
//!
//! - probability of waiting: Erlang C, `C(c, a)` with `a = λ·serviceTime`;
//! - mean wait: `C / (cμ − λ) / 2`;
//! - wait quantile `q`: `ln(C / (1 − q)) / (2 (cμ − λ))`, 0 when `C ≤ 1 − q`.
//!
//! A response takes `serviceTime` plus the wait. `min` is met by any stable
//! queue; `max` is judged at the 99.9th percentile (under Poisson arrivals
//! the true maximum has no bound); `errorRate` asks only for a stable queue
//! (`λ < cμ`), since the model's only failures are the 503s of an overflowing
//! queue. Pure functions: no clock, no I/O.

use crate::target::{Statistic, TargetKind};

use super::capacity::CapacitySettings;

/// The most replicas the oracle considers; a rate needing more is answered
/// with this.
pub const MAX_ORACLE_REPLICAS: u32 = 10_000;

/// Erlang C: the probability that an arriving request waits, for `servers`
/// servers and offered load `load` (erlangs, `λ / μ`). 1 when the queue is
/// not stable (`load ≥ servers`).
pub fn erlang_c(servers: u32, load: f64) -> f64 {
    if load <= 0.0 {
        return 0.0;
    }
    let c = f64::from(servers);
    if load >= c {
        return 1.0;
    }
    // Erlang B by its stable recurrence, then C from B.
    let mut b = 1.0;
    for k in 1..=servers {
        b = load * b / (f64::from(k) + load * b);
    }
    c * b / (c - load * (1.0 - b))
}

/// The steady-state value of `kind` for `replicas` replicas at `rate`
/// requests per second, in milliseconds (a fraction for `errorRate`: 0 when
/// stable, 1 when not); `None` when the queue is not stable.
pub fn steady_state(
    kind: TargetKind,
    replicas: u32,
    rate: f64,
    capacity: &CapacitySettings,
) -> Option<f64> {
    let servers = replicas.saturating_mul(capacity.concurrency_per_replica);
    let service_s = capacity.service_time.as_secs_f64();
    let mu = 1.0 / service_s.max(1e-9);
    let spare = f64::from(servers) * mu - rate.max(0.0);
    if servers == 0 || spare <= 0.0 {
        return None;
    }
    let wait_probability = erlang_c(servers, rate.max(0.0) / mu);
    let quantile_wait = |q: f64| {
        if wait_probability <= 1.0 - q {
            0.0
        } else {
            (wait_probability / (1.0 - q)).ln() / (2.0 * spare)
        }
    };
    let wait_s = match kind.statistic() {
        Statistic::ErrorRate => return Some(0.0),
        Statistic::Mean => wait_probability / spare / 2.0,
        Statistic::Quantile(p) if p <= 0.0 => 0.0,
        // The slowest of an unbounded queue has no finite value: its 99.9th
        // percentile stands for it.
        Statistic::Quantile(p) if p >= 1.0 => quantile_wait(0.999),
        Statistic::Quantile(p) => quantile_wait(p),
    };
    Some((service_s + wait_s) * 1000.0)
}

/// The least replicas (at least 1) whose steady-state `kind` is at or below
/// `target` at `rate` requests per second; [`MAX_ORACLE_REPLICAS`] when none
/// up to it does (a target below the service time itself, say).
pub fn least_replicas(
    kind: TargetKind,
    target: f64,
    rate: f64,
    capacity: &CapacitySettings,
) -> u32 {
    // No fewer than the replicas that keep the queue stable.
    let per_replica = capacity.requests_per_second_per_replica();
    let stable = (rate.max(0.0) / per_replica).floor() as u32 + 1;
    (stable.max(1)..=MAX_ORACLE_REPLICAS)
        .find(|&n| steady_state(kind, n, rate, capacity).is_some_and(|value| value <= target))
        .unwrap_or(MAX_ORACLE_REPLICAS)
}

/// The oracle of a decision that sees the load only through a metrics
/// window, as the CPU shows it: per second, the fewest replicas that meet
/// the target now (`oracle`) and that a decay may reach when it goes no
/// further than its latest sample allows, i.e. no lower than `least` of the
/// average of `rates` over the latest window sampled by then (one sample
/// every `window_seconds` from the start, each averaging the window before
/// it). A count already under that stays where it is: the window forbids a
/// decay, it asks for no scale-up. With instant start-ups and a decision
/// every second this is the least such a rule can spend, so its
/// replica-seconds over the oracle's bound what the CPU can reach.
pub fn windowed(
    oracle: &[u32],
    rates: &[f64],
    window_seconds: usize,
    least: impl Fn(f64) -> u32,
) -> Vec<u32> {
    let window = window_seconds.max(1);
    let mut previous = 0;
    oracle
        .iter()
        .enumerate()
        .map(|(second, &now)| {
            let sampled = second / window * window;
            let span = rates.get(sampled.saturating_sub(window)..sampled.min(rates.len()));
            let count = match span.filter(|span| sampled >= window && !span.is_empty()) {
                Some(span) => {
                    let average = span.iter().sum::<f64>() / span.len() as f64;
                    now.max(previous.min(least(average)))
                }
                None => now,
            };
            previous = count;
            count
        })
        .collect()
}

/// From the first second over target to the first second after it that is
/// not, in seconds; to the end of the run if it never recovers. `None` when
/// no second was over target.
pub fn reaction_seconds(over_target: &[bool]) -> Option<u32> {
    let first = over_target.iter().position(|over| *over)?;
    let back = over_target[first..]
        .iter()
        .position(|over| !over)
        .unwrap_or(over_target.len() - first);
    Some(back as u32)
}

/// Changes of direction of the replica count within `window` intervals of
/// each other: `changes` holds, in order, each interval's index and its
/// applied replica count; an up followed by a down (or a down by an up) at
/// most `window` intervals later counts once.
pub fn reversals(changes: &[(usize, u32)], window: usize) -> u32 {
    let mut moves = Vec::new();
    let mut last: Option<u32> = None;
    for &(interval, replicas) in changes {
        if let Some(previous) = last
            && previous != replicas
        {
            moves.push((interval, replicas > previous));
        }
        last = Some(replicas);
    }
    moves
        .windows(2)
        .filter(|pair| pair[0].1 != pair[1].1 && pair[1].0 - pair[0].0 <= window)
        .count() as u32
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn capacity() -> CapacitySettings {
        CapacitySettings {
            concurrency_per_replica: 4,
            service_time: Duration::from_millis(50),
            startup_delay: Duration::from_secs(2),
            max_queue_time: Duration::from_millis(1500),
            never_ready_replicas: 0,
        }
    }

    #[test]
    fn erlang_c_matches_published_values() {
        // Textbook values: 2 servers at 1 erlang: C = 1/3; 10 servers at 8
        // erlangs: C ≈ 0.4092.
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-9);
        assert!((erlang_c(10, 8.0) - 0.4092).abs() < 1e-3);
        assert_eq!(erlang_c(1, 0.0), 0.0);
        assert_eq!(erlang_c(4, 4.0), 1.0);
        // One server: C is the utilisation.
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
    }

    #[test]
    fn one_server_mean_is_the_pollaczek_khinchine_m_d_1_value() {
        // M/D/1 is exact under the Allen–Cunneen factor: Wq = ρ / (2μ(1 − ρ)).
        let one = CapacitySettings {
            concurrency_per_replica: 1,
            ..capacity()
        };
        let rho = 0.8;
        let rate = rho * 20.0;
        let want_ms = (0.05 + rho / (2.0 * 20.0 * (1.0 - rho))) * 1000.0;
        let got = steady_state(TargetKind::Mean, 1, rate, &one).unwrap();
        assert!((got - want_ms).abs() < 1e-6, "{got} vs {want_ms}");
    }

    #[test]
    fn the_oracle_gives_the_replicas_the_builtin_step_needs() {
        // One replica serves 80 requests/s; a mean target of 100 ms with a
        // 50 ms service time.
        let cases = [
            (0.0, 1),
            (20.0, 1),
            (70.0, 1),
            (90.0, 2),
            (250.0, 4),
            (500.0, 7),
        ];
        for (rate, want) in cases {
            assert_eq!(
                least_replicas(TargetKind::Mean, 100.0, rate, &capacity()),
                want,
                "rate {rate}"
            );
        }
        // A tail target asks for at least as many as the mean.
        for rate in [20.0, 250.0, 500.0] {
            assert!(
                least_replicas(TargetKind::P99, 100.0, rate, &capacity())
                    >= least_replicas(TargetKind::Mean, 100.0, rate, &capacity())
            );
        }
        // Nothing meets a target below the service time.
        assert_eq!(
            least_replicas(TargetKind::Mean, 40.0, 10.0, &capacity()),
            MAX_ORACLE_REPLICAS
        );
        assert_eq!(steady_state(TargetKind::Mean, 1, 80.0, &capacity()), None);
    }

    #[test]
    fn reaction_runs_from_the_first_second_over_to_the_first_back_under() {
        assert_eq!(reaction_seconds(&[false, false]), None);
        assert_eq!(reaction_seconds(&[false, true, true, false, true]), Some(2));
        assert_eq!(reaction_seconds(&[true, true, true]), Some(3));
    }

    #[test]
    fn a_reversal_is_a_change_of_direction_within_the_window() {
        // 1 -> 4 -> 7 (up, up) then 6, 5, 4 (downs): up then down 2 intervals
        // apart counts once; the downs that follow do not.
        let run = [(0, 1), (4, 4), (5, 7), (7, 6), (9, 5), (11, 4)];
        assert_eq!(reversals(&run, 3), 1);
        // The same turn 4 intervals apart is no reversal.
        assert_eq!(reversals(&[(0, 1), (1, 4), (5, 3)], 3), 0);
        // Flapping 1 <-> 2 every interval: every turn counts.
        let flap = [(0, 1), (1, 2), (2, 1), (3, 2), (4, 1)];
        assert_eq!(reversals(&flap, 3), 3);
        // Unchanged counts are not moves.
        assert_eq!(reversals(&[(0, 3), (1, 3), (2, 3)], 3), 0);
    }

    #[test]
    fn the_windowed_oracle_decays_only_as_far_as_the_latest_window_allows() {
        // a step from 20 to 250 req/s at 4 s, back to 20 at 8 s; windows of
        // 3 s; 1 replica per 80 req/s
        let rates = [
            20.0, 20.0, 20.0, 20.0, 250.0, 250.0, 250.0, 250.0, 20.0, 20.0, 20.0, 20.0, 20.0,
        ];
        let least = |rate: f64| (rate / 80.0).floor() as u32 + 1;
        let oracle: Vec<u32> = rates.iter().map(|&rate| least(rate)).collect();
        assert_eq!(
            windowed(&oracle, &rates, 3, least),
            // 8: the window 3-5 averages 173 (3 replicas), as does 6-8 at
            // 9-11; 12: the window 9-11 shows 20
            [1, 1, 1, 1, 4, 4, 4, 4, 3, 3, 3, 3, 1]
        );
        // a spike no window saw at its height asks for no replica
        let spike = [20.0, 250.0, 20.0, 20.0, 20.0, 20.0];
        let spike_oracle: Vec<u32> = spike.iter().map(|&rate| least(rate)).collect();
        assert_eq!(
            windowed(&spike_oracle, &spike, 3, least),
            [1, 4, 1, 1, 1, 1]
        );
    }
}
