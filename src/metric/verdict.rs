//! Confidence intervals for the statistics a target can name, and the
//! verdict an interval gives against the target's limit. Pure functions;
//! the distributions come from `statrs`.
//!
//! - **mean**: by the method of **batch means**. The samples, in arrival
//!   order, are split into `k` = [`MEAN_BATCHES`] consecutive batches (fewer
//!   when there are fewer samples), and the interval is
//!   `mean ± t(1 − α/2, k − 1) · s_b / √k`, Student's t on the `k` batch
//!   means with their standard deviation `s_b`. Requests that queue behind
//!   the same burst are not independent, and the plain standard error
//!   `s / √n` then understates the mean's spread many times over; the means
//!   of long consecutive batches are close to independent, so their spread
//!   carries the autocorrelation with it (Schmeiser, "Batch size effects in
//!   the analysis of simulation output", 1982: 10 to 30 batches).
//! - **percentiles** (`median`, `p50` … `p99`): distribution-free, from order
//!   statistics. The number of samples at or below the true p-quantile is
//!   Binomial(n, p), so the interval `[x(r), x(s)]` of the sorted samples
//!   covers it with probability `P(r ≤ B < s)`; `r` and `s` are chosen so that
//!   each tail is at most α/2. With too few samples a bound does not exist
//!   (a p99 needs 367 samples before its upper bound does, at 95 %). These
//!   intervals assume independent samples; batching does not carry over to
//!   high percentiles (a batch's p95 needs dozens of samples of its own), so
//!   they are left as they are.
//! - **errorRate**: the Wilson score interval of `failures / count`.
//! - **min** and **max** are sample extremes, not estimates: the observed
//!   value is a one-sided bound that only moves one way (a max above the
//!   limit stays above it), and the other side stays open.
//!
//! A verdict is **missed** when the whole interval lies above
//! `target × (1 + tolerance)`, **met** when it lies at or below, and
//! **undecided** otherwise: the same comparison the evaluate stage makes
//! with the measured figure, taken at the interval's two ends. An interval
//! assumes the figure holds still while the test runs; a `mean` or a
//! percentile whose response times still rise or fall ([`drifts`]: the
//! slope of the batch means, by Student's t) is undecided too, since the
//! figure a longer test would report is not the one measured so far.

use statrs::distribution::{Binomial, ContinuousCDF, DiscreteCDF, Normal, StudentsT};

use crate::report::{Trend, Verdict};
use crate::target::{Statistic, TargetKind};

/// A confidence interval; a bound that the samples cannot give is `None`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower bound, `None` when unbounded below.
    pub low: Option<f64>,
    /// Upper bound, `None` when unbounded above.
    pub high: Option<f64>,
}

impl Interval {
    /// An interval with no bound at all.
    pub const OPEN: Interval = Interval {
        low: None,
        high: None,
    };

    /// True when `value` lies inside (an open side always holds it).
    pub fn contains(&self, value: f64) -> bool {
        self.low.is_none_or(|low| low <= value) && self.high.is_none_or(|high| value <= high)
    }
}

/// The verdict of `interval` against `limit` (`target × (1 + tolerance)`).
pub fn verdict(interval: Interval, limit: f64) -> Verdict {
    match interval {
        Interval { low: Some(low), .. } if low > limit => Verdict::Missed,
        Interval {
            high: Some(high), ..
        } if high <= limit => Verdict::Met,
        _ => Verdict::Undecided,
    }
}

/// α / 2 for a two-sided interval at `confidence` (0.95 → 0.025).
fn half_alpha(confidence: f64) -> f64 {
    (1.0 - confidence) / 2.0
}

/// The mean's interval from `n` independent samples with this `mean` and
/// sample standard deviation `sd`: Student's t on `n − 1` degrees of
/// freedom. Open below two samples. [`batch_means_interval`] applies it to
/// batch means, which is what a target's `mean` gets.
pub fn mean_interval(n: u64, mean: f64, sd: f64, confidence: f64) -> Interval {
    if n < 2 || !mean.is_finite() || !sd.is_finite() {
        return Interval::OPEN;
    }
    let Ok(t) = StudentsT::new(0.0, 1.0, (n - 1) as f64) else {
        return Interval::OPEN;
    };
    let half = t.inverse_cdf(1.0 - half_alpha(confidence)) * sd / (n as f64).sqrt();
    Interval {
        low: Some(mean - half),
        high: Some(mean + half),
    }
}

/// Batches of the batch-means interval of the mean (Schmeiser's 10 to 30;
/// the low end, so each batch is as long as it can be when a run is young).
pub const MEAN_BATCHES: usize = 10;

/// The mean's interval by batch means: `values` in arrival order are split
/// into [`MEAN_BATCHES`] consecutive batches of near-equal size (one sample
/// each below that many samples), and Student's t on `k − 1` degrees of
/// freedom is taken over the batch means. Centred on the mean of all
/// `values`. Open below two samples.
pub fn batch_means_interval(values: &[f64], confidence: f64) -> Interval {
    let n = values.len();
    let k = MEAN_BATCHES.min(n);
    if k < 2 {
        return Interval::OPEN;
    }
    let (_, batch_sd) = mean_and_sd(&batch_means(values, k));
    let (mean, _) = mean_and_sd(values);
    mean_interval(k as u64, mean, batch_sd, confidence)
}

/// The means of `k` consecutive batches of near-equal size of `values`.
fn batch_means(values: &[f64], k: usize) -> Vec<f64> {
    let n = values.len();
    (0..k)
        .map(|i| mean_and_sd(&values[i * n / k..(i + 1) * n / k]).0)
        .collect()
}

/// True when `values`, in arrival order, still rise or fall ([`trend`]). A
/// figure that drifts (a queue still growing, or draining as new replicas
/// serve) has no verdict yet: its value depends on when the test stops.
pub fn drifts(values: &[f64], confidence: f64) -> bool {
    trend(values, confidence) != Trend::Steady
}

/// Which way `values`, in arrival order, moved: the least-squares slope of
/// their [`MEAN_BATCHES`] batch means (the batches of
/// [`batch_means_interval`]) over the batch's index, when it differs from
/// zero at `confidence` (Student's t on `k − 2` degrees of freedom).
/// Steady below three batches.
pub fn trend(values: &[f64], confidence: f64) -> Trend {
    let k = MEAN_BATCHES.min(values.len());
    if k < 3 {
        return Trend::Steady;
    }
    let means = batch_means(values, k);
    let centre = (k - 1) as f64 / 2.0;
    let (mean, _) = mean_and_sd(&means);
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (i, y) in means.iter().enumerate() {
        let dx = i as f64 - centre;
        sxx += dx * dx;
        sxy += dx * (y - mean);
    }
    let slope = sxy / sxx;
    let residuals: f64 = means
        .iter()
        .enumerate()
        .map(|(i, y)| (y - mean - slope * (i as f64 - centre)).powi(2))
        .sum();
    let standard_error = (residuals / (k - 2) as f64 / sxx).sqrt();
    let Ok(t) = StudentsT::new(0.0, 1.0, (k - 2) as f64) else {
        return Trend::Steady;
    };
    let critical = t.inverse_cdf(1.0 - half_alpha(confidence));
    // a slope without scatter (a perfect line) drifts unless it is flat
    let moves = slope.abs() > critical * standard_error && slope.abs() > 1e-9 * mean.abs().max(1.0);
    match (moves, slope > 0.0) {
        (false, _) => Trend::Steady,
        (true, true) => Trend::Rising,
        (true, false) => Trend::Falling,
    }
}

/// A target's statistic judged on the samples so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    /// The statistic's confidence interval.
    pub interval: Interval,
    /// Its verdict against the limit.
    pub verdict: Verdict,
    /// Which way the response times moved; `None` for `min`, `max` and
    /// `errorRate`, which are not checked.
    pub trend: Option<Trend>,
}

/// The 1-based ranks `(r, s)` of the order statistics bounding the
/// p-quantile of `n` samples at `confidence`: `P(B < r) ≤ α/2` and
/// `P(B ≥ s) ≤ α/2` for `B ~ Binomial(n, p)`. `r` is 0 when no lower
/// bound exists, `s` above `n` when no upper bound does.
pub fn order_statistic_ranks(n: u64, p: f64, confidence: f64) -> (u64, u64) {
    let Ok(binomial) = Binomial::new(p, n) else {
        return (0, n + 1);
    };
    let tail = half_alpha(confidence);
    // r − 1 = the largest k with P(B ≤ k) ≤ α/2.
    let mut k = binomial.inverse_cdf(tail);
    while binomial.cdf(k) > tail {
        if k == 0 {
            return (0, upper_rank(&binomial, n, tail));
        }
        k -= 1;
    }
    (k + 1, upper_rank(&binomial, n, tail))
}

/// s − 1 = the smallest k with P(B ≤ k) ≥ 1 − α/2.
fn upper_rank(binomial: &Binomial, n: u64, tail: f64) -> u64 {
    let mut k = binomial.inverse_cdf(1.0 - tail);
    while k > 0 && binomial.cdf(k - 1) >= 1.0 - tail {
        k -= 1;
    }
    while k < n && binomial.cdf(k) < 1.0 - tail {
        k += 1;
    }
    k + 1
}

/// The p-quantile's distribution-free interval from `sorted` samples
/// (ascending).
pub fn percentile_interval(sorted: &[f64], p: f64, confidence: f64) -> Interval {
    let n = sorted.len() as u64;
    if n == 0 {
        return Interval::OPEN;
    }
    let (r, s) = order_statistic_ranks(n, p, confidence);
    let at = |rank: u64| {
        sorted
            .get(usize::try_from(rank).ok()?.checked_sub(1)?)
            .copied()
    };
    Interval {
        low: at(r),
        high: at(s),
    }
}

/// The Wilson score interval of the proportion `failures / count`.
pub fn wilson_interval(failures: u64, count: u64, confidence: f64) -> Interval {
    if count == 0 {
        return Interval::OPEN;
    }
    let Ok(normal) = Normal::new(0.0, 1.0) else {
        return Interval::OPEN;
    };
    let z = normal.inverse_cdf(1.0 - half_alpha(confidence));
    let n = count as f64;
    let rate = failures.min(count) as f64 / n;
    let z2n = z * z / n;
    let centre = (rate + z2n / 2.0) / (1.0 + z2n);
    let half = z / (1.0 + z2n) * (rate * (1.0 - rate) / n + z2n / (4.0 * n)).sqrt();
    Interval {
        low: Some((centre - half).max(0.0)),
        high: Some((centre + half).min(1.0)),
    }
}

/// One request's samples in the measured window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples {
    /// Response times, milliseconds, in arrival order.
    pub latencies_ms: Vec<f64>,
    /// Requests that failed.
    pub failures: u64,
}

impl Samples {
    /// Requests seen.
    pub fn count(&self) -> u64 {
        self.latencies_ms.len() as u64
    }

    /// The interval of `kind` at `confidence`, and its verdict against
    /// `limit`: [`verdict`], except that a `mean` or a percentile whose
    /// response times still drift ([`drifts`]) is undecided whatever its
    /// interval. `min`, `max` and `errorRate` are not checked for drift
    /// (extremes only move one way; failures are counted, not kept in order).
    pub fn judge(&self, kind: TargetKind, limit: f64, confidence: f64) -> Judgement {
        let interval = self.interval(kind, confidence);
        let trend = (!matches!(
            kind,
            TargetKind::Min | TargetKind::Max | TargetKind::ErrorRate
        ))
        .then(|| trend(&self.latencies_ms, confidence));
        let verdict = match trend {
            Some(Trend::Rising | Trend::Falling) => Verdict::Undecided,
            _ => verdict(interval, limit),
        };
        Judgement {
            interval,
            verdict,
            trend,
        }
    }

    /// The interval of `kind` at `confidence`.
    pub fn interval(&self, kind: TargetKind, confidence: f64) -> Interval {
        let values = &self.latencies_ms;
        let quantile = |p: f64| {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            percentile_interval(&sorted, p, confidence)
        };
        let extreme = |fold: fn(f64, f64) -> f64, start: f64| {
            (!values.is_empty()).then(|| values.iter().copied().fold(start, fold))
        };
        match kind.statistic() {
            Statistic::Mean => batch_means_interval(values, confidence),
            Statistic::Quantile(p) if p <= 0.0 => Interval {
                low: None,
                high: extreme(f64::min, f64::INFINITY),
            },
            Statistic::Quantile(p) if p >= 1.0 => Interval {
                low: extreme(f64::max, f64::NEG_INFINITY),
                high: None,
            },
            Statistic::Quantile(p) => quantile(p),
            Statistic::ErrorRate => wilson_interval(self.failures, self.count(), confidence),
        }
    }
}

/// Mean and sample standard deviation (n − 1), by Welford's method.
pub fn mean_and_sd(values: &[f64]) -> (f64, f64) {
    let (mut mean, mut m2) = (0.0, 0.0);
    for (i, value) in values.iter().enumerate() {
        let delta = value - mean;
        mean += delta / (i + 1) as f64;
        m2 += delta * (value - mean);
    }
    let sd = if values.len() > 1 {
        (m2 / (values.len() - 1) as f64).sqrt()
    } else {
        0.0
    };
    (mean, sd)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small, seeded generator (SplitMix64), so the draws are the same on
    /// every run and no dependency is needed for them.
    struct Draws(u64);

    impl Draws {
        fn uniform(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }

        /// Exponential with mean `mean`: skewed, like response times.
        fn exponential(&mut self, mean: f64) -> f64 {
            -mean * (1.0 - self.uniform()).ln()
        }
    }

    /// AR(1) around `mean`: `x(t) − mean = φ · (x(t−1) − mean) + e(t)`, with
    /// normal `e` of standard deviation `sd`; it starts in its stationary
    /// distribution, so every draw has mean `mean`.
    fn autoregressive(draws: &mut Draws, n: usize, mean: f64, phi: f64, sd: f64) -> Vec<f64> {
        let mut normal = || {
            // Box-Muller.
            let (u, v) = (1.0 - draws.uniform(), draws.uniform());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        };
        let mut x = normal() * sd / (1.0 - phi * phi).sqrt();
        (0..n)
            .map(|_| {
                x = phi * x + normal() * sd;
                mean + x
            })
            .collect()
    }

    /// How many of `trials` intervals (each from `n` fresh draws) contain `truth`.
    fn coverage(
        trials: usize,
        n: usize,
        truth: f64,
        draws: &mut Draws,
        interval: impl Fn(&[f64]) -> Interval,
    ) -> f64 {
        let hits = (0..trials)
            .filter(|_| {
                let samples: Vec<f64> = (0..n).map(|_| draws.exponential(50.0)).collect();
                interval(&samples).contains(truth)
            })
            .count();
        hits as f64 / trials as f64
    }

    #[test]
    fn the_mean_interval_covers_the_true_mean_about_as_often_as_stated() {
        // Exponential, mean 50 ms; 1,000 intervals of 200 draws each.
        let mut draws = Draws(7);
        let covered = coverage(1000, 200, 50.0, &mut draws, |samples| {
            let (mean, sd) = mean_and_sd(samples);
            mean_interval(samples.len() as u64, mean, sd, 0.95)
        });
        assert!((0.92..=0.98).contains(&covered), "{covered}");
    }

    #[test]
    fn the_batch_means_interval_covers_the_true_mean_about_as_often_as_stated() {
        let mut draws = Draws(7);
        let covered = coverage(1000, 200, 50.0, &mut draws, |samples| {
            batch_means_interval(samples, 0.95)
        });
        assert!((0.92..=0.98).contains(&covered), "{covered}");
    }

    #[test]
    fn batch_means_cover_an_autocorrelated_mean_far_more_often_than_the_plain_interval() {
        // AR(1) with φ = 0.9 (a burst's effect lasts some 20 requests), 500
        // requests: the plain standard error assumes independence and is
        // about four times too narrow.
        let mut draws = Draws(31);
        let (mut plain, mut batched) = (0, 0);
        for _ in 0..500 {
            let samples = autoregressive(&mut draws, 500, 80.0, 0.9, 10.0);
            let (mean, sd) = mean_and_sd(&samples);
            plain += usize::from(mean_interval(500, mean, sd, 0.95).contains(80.0));
            batched += usize::from(batch_means_interval(&samples, 0.95).contains(80.0));
        }
        let (plain, batched) = (plain as f64 / 500.0, batched as f64 / 500.0);
        assert!(plain < 0.6, "plain {plain}");
        assert!(batched > 0.8, "batch means {batched}");
    }

    #[test]
    fn batch_means_need_two_samples_and_take_batches_in_arrival_order() {
        assert_eq!(batch_means_interval(&[], 0.95), Interval::OPEN);
        assert_eq!(batch_means_interval(&[5.0], 0.95), Interval::OPEN);
        // Ten batches of ten: a series that climbs from 1 to 100 has batch
        // means 5.5 … 95.5, so the mean (50.5) is far from sure; the same
        // values in an order without a trend give a tight interval.
        let climbing: Vec<f64> = (1..=100).map(f64::from).collect();
        let trend = batch_means_interval(&climbing, 0.95);
        assert!(trend.contains(30.0) && trend.contains(70.0), "{trend:?}");
        let shuffled: Vec<f64> = (0..100).map(|i| f64::from(i * 37 % 100 + 1)).collect();
        let flat = batch_means_interval(&shuffled, 0.95);
        assert!(flat.contains(50.5) && !flat.contains(45.0), "{flat:?}");
    }

    #[test]
    fn the_percentile_interval_covers_the_true_percentile_at_least_as_often_as_stated() {
        // The exponential's p-quantile is −mean·ln(1 − p): known exactly.
        for (p, n) in [(0.5, 60), (0.95, 200), (0.99, 500)] {
            let truth = -50.0 * (1.0f64 - p).ln();
            let mut draws = Draws(11);
            let covered = coverage(1000, n, truth, &mut draws, |samples| {
                let mut sorted = samples.to_vec();
                sorted.sort_by(f64::total_cmp);
                percentile_interval(&sorted, p, 0.95)
            });
            // Exact binomial ranks: never below the level (up to sampling
            // noise), and not wastefully wide.
            assert!((0.93..=0.995).contains(&covered), "p{p}: {covered}");
        }
    }

    #[test]
    fn the_wilson_interval_covers_the_true_error_rate_about_as_often_as_stated() {
        for (rate, n) in [(0.02, 300), (0.3, 50), (0.5, 30)] {
            let mut draws = Draws(23);
            let hits = (0..1000)
                .filter(|_| {
                    let failures = (0..n).filter(|_| draws.uniform() < rate).count() as u64;
                    wilson_interval(failures, n, 0.95).contains(rate)
                })
                .count();
            let covered = hits as f64 / 1000.0;
            assert!((0.91..=0.99).contains(&covered), "rate {rate}: {covered}");
        }
    }

    #[test]
    fn order_statistic_ranks_match_the_binomial_tables() {
        // Median of 30 at 95 %: x(10) to x(21) (Conover's table), and a p95
        // of 30 samples has no upper bound yet (0.95^30 = 0.21 > 0.025).
        assert_eq!(order_statistic_ranks(30, 0.5, 0.95), (10, 21));
        let (_, s) = order_statistic_ranks(30, 0.95, 0.95);
        assert!(s > 30, "{s}");
        // 72 samples are the fewest that bound a p95 from above.
        assert!(order_statistic_ranks(71, 0.95, 0.95).1 > 71);
        assert_eq!(order_statistic_ranks(72, 0.95, 0.95).1, 72);
        let (r, s) = order_statistic_ranks(1000, 0.95, 0.95);
        assert!(r < 950 && 950 < s && s <= 1000, "{r} {s}");
    }

    #[test]
    fn a_verdict_needs_the_whole_interval_on_one_side_of_the_limit() {
        let at = |low, high| Interval { low, high };
        let cases = [
            (at(Some(101.0), Some(140.0)), Verdict::Missed),
            (at(Some(101.0), None), Verdict::Missed),
            (
                at(Some(60.0), Some(100.0)),
                Verdict::Met, /* at the limit is met */
            ),
            (at(None, Some(99.0)), Verdict::Met),
            (at(Some(90.0), Some(110.0)), Verdict::Undecided),
            (at(Some(100.0), None), Verdict::Undecided),
            (Interval::OPEN, Verdict::Undecided),
        ];
        for (interval, want) in cases {
            assert_eq!(verdict(interval, 100.0), want, "{interval:?}");
        }
    }

    /// How often, of `trials` series of `n` draws from `series`, [`drifts`]
    /// finds a trend at 95 %.
    fn drift_rate(
        trials: usize,
        n: usize,
        draws: &mut Draws,
        series: impl Fn(&mut Draws, usize) -> Vec<f64>,
    ) -> f64 {
        let found = (0..trials)
            .filter(|_| drifts(&series(draws, n), 0.95))
            .count();
        found as f64 / trials as f64
    }

    #[test]
    fn a_steady_figure_is_called_drifting_about_as_rarely_as_stated() {
        // Independent exponential response times, and strongly
        // autocorrelated ones (AR(1), φ = 0.9): neither moves, so a trend is
        // found in about 5 % of series, as a 95 % test should.
        let mut draws = Draws(11);
        let independent = drift_rate(1000, 300, &mut draws, |draws, n| {
            (0..n).map(|_| draws.exponential(50.0)).collect()
        });
        assert!((0.02..=0.09).contains(&independent), "{independent}");
        let bursty = drift_rate(1000, 500, &mut draws, |draws, n| {
            autoregressive(draws, n, 80.0, 0.9, 10.0)
        });
        assert!(bursty <= 0.12, "{bursty}");
    }

    #[test]
    fn a_growing_or_draining_queue_is_called_drifting() {
        // A queue growing: exponential response times whose mean climbs
        // from 100 to 200 ms over 300 requests; and one draining from 400 ms
        // towards 40 ms as new replicas serve.
        let mut draws = Draws(5);
        let growing = drift_rate(200, 300, &mut draws, |draws, n| {
            (0..n)
                .map(|i| draws.exponential(100.0 + 100.0 * i as f64 / n as f64))
                .collect()
        });
        assert!(growing >= 0.8, "{growing}");
        let draining: Vec<f64> = (0..300)
            .map(|i| 40.0 + 360.0 * (-f64::from(i) / 80.0).exp())
            .collect();
        assert!(drifts(&draining, 0.95));
        assert!(!drifts(&[50.0; 300], 0.95), "flat");
        assert!(drifts(&(0..300).map(f64::from).collect::<Vec<_>>(), 0.95));
        assert!(
            !drifts(&[50.0, 900.0], 0.95),
            "two batches have no slope to test"
        );
    }

    #[test]
    fn a_drifting_figure_has_no_verdict_however_far_it_is_from_the_limit() {
        // 100 → 400 ms against a 50 ms limit: every request misses, but the
        // mean and the p95 a longer test would report are not yet known.
        let rising = Samples {
            latencies_ms: (0..300).map(|i| 100.0 + f64::from(i)).collect(),
            failures: 0,
        };
        for kind in [TargetKind::Mean, TargetKind::P95] {
            let judged = rising.judge(kind, 50.0, 0.95);
            assert_eq!(judged.interval, rising.interval(kind, 0.95));
            assert_eq!(judged.verdict, Verdict::Undecided, "{kind:?}");
            assert_eq!(judged.trend, Some(Trend::Rising));
        }
        let mut falling = rising.clone();
        falling.latencies_ms.reverse();
        assert_eq!(
            falling.judge(TargetKind::Mean, 50.0, 0.95).trend,
            Some(Trend::Falling)
        );
        // Extremes and the error rate are not checked for drift.
        let max = rising.judge(TargetKind::Max, 50.0, 0.95);
        assert_eq!((max.verdict, max.trend), (Verdict::Missed, None));
        let errors = rising.judge(TargetKind::ErrorRate, 0.5, 0.95);
        assert_eq!((errors.verdict, errors.trend), (Verdict::Met, None));
        // The same response times in an order without a trend: missed.
        let mut steady = rising.clone();
        steady.latencies_ms = (0..300).map(|i| 100.0 + f64::from(i * 37 % 300)).collect();
        let judged = steady.judge(TargetKind::Mean, 50.0, 0.95);
        assert_eq!(
            (judged.verdict, judged.trend),
            (Verdict::Missed, Some(Trend::Steady))
        );
    }

    #[test]
    fn samples_give_each_target_type_its_own_interval() {
        // 1 … 100 in an order without a trend (37 is prime to 100).
        let samples = Samples {
            latencies_ms: (0..100).map(|i| f64::from(i * 37 % 100 + 1)).collect(),
            failures: 5,
        };
        let mean = samples.interval(TargetKind::Mean, 0.95);
        assert!(mean.contains(50.5) && !mean.contains(40.0), "{mean:?}");
        assert_eq!(mean, batch_means_interval(&samples.latencies_ms, 0.95));
        let median = samples.interval(TargetKind::Median, 0.95);
        assert!(median.contains(50.0), "{median:?}");
        assert_eq!(median, samples.interval(TargetKind::P50, 0.95));
        assert_eq!(
            samples.interval(TargetKind::Max, 0.95),
            Interval {
                low: Some(100.0),
                high: None
            }
        );
        assert_eq!(
            samples.interval(TargetKind::Min, 0.95),
            Interval {
                low: None,
                high: Some(1.0)
            }
        );
        let errors = samples.interval(TargetKind::ErrorRate, 0.95);
        assert!(
            errors.contains(0.05) && errors.high < Some(0.12),
            "{errors:?}"
        );
        assert_eq!(
            Samples::default().interval(TargetKind::P95, 0.95),
            Interval::OPEN
        );
    }
}
