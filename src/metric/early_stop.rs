//! Early stop: the load test ends as soon as every target's verdict holds
//! at the stated confidence, instead of always running for `gooseRunTime`.
//!
//! **Watching.** Every user gets one extra on-start transaction ([`tap`])
//! that hands it a `flume` sender as its request logger and switches the
//! request log on in that user's own copy of goose's configuration. goose
//! then sends a copy of every request metric (name, method, response time,
//! success) to us, for every scenario, file or compiled, as it would to its
//! `--request-log` writer; no request code changes and nothing is written to
//! disk. [`run`] drains those copies every [`CHECK_EVERY`] into a
//! [`Tracker`], which keeps, per targeted request, the response times and
//! failures of the measured window (requests sent after ramp-up).
//!
//! **Deciding.** Once `gooseMinRunTime` has passed after ramp-up and every
//! target has `gooseMinRequests` requests, each target's statistic gets its
//! confidence interval ([`super::verdict`]; a `mean`'s by batch means, so
//! requests queued behind one burst count as one piece of evidence, not
//! many), and a `mean` or percentile whose response times still drift (a
//! queue growing or draining) is undecided whatever its interval
//! ([`Samples::judge`]); when every verdict is missed or met (none
//! undecided), the test is stopped. A target whose every request so far
//! failed without timing out is undecided: the evaluate stage refuses such a
//! report, so stopping on it would lose the interval (timeouts are
//! saturation, a miss); one whose requests were mostly refused is not *met*
//! (refusals are fast), and while replicas start ([`EarlyStop::starting`]) a
//! miss is not either (they will add capacity during the test). The success
//! a request is logged with is goose's first verdict (2xx, or a response at
//! all): a scenario rule that later turns it into a failure (an unexpected
//! status, a broken body) arrives as a separate update copy, which adds no
//! sample; so `errorRate` verdicts are judged on goose's own rule while
//! watching, and the report's interval is computed from the final counts.
//! The tracker keeps those updates and every copy's error apart
//! ([`Outcomes`]), for the shadow report. In shadow mode (`gooseEarlyStop:
//! "shadow"`) the test is not stopped: the moment and the samples seen by
//! then are kept ([`WouldStop`]) for the report early stop would have
//! printed ([`super::shadow`]). Checking many times inflates the chance of a
//! wrong stop a little beyond α; the minimum run time and requests, and
//! conservative (exact) percentile intervals, keep it small, and the
//! benchmark in docs/metric.md measures agreement with full-length runs.
//!
//! **Stopping.** goose 0.19 has no stop call on a running attack besides
//! its controllers (telnet or WebSocket servers, which we keep off) and its
//! killswitch, [`goose::trigger_killswitch`], the public function its
//! Ctrl-C handler and thresholds use. We use the killswitch: goose's main
//! loop sees it within half a second, replaces the rest of the test plan
//! with "stop every user now", sends every user its exit command, waits for
//! requests in flight (bounded by the request timeout), drops the users'
//! clients (closing their connections), runs `test_stop` and returns its
//! metrics, exactly as at the end of `RunTime`. Its history then reads
//! `Maintaining` → `Canceling` → `Finished`, so the report's window
//! ([`super::goose_report::measured_window`]) runs from the start of
//! `Maintaining` to the stop and the report covers exactly the measured
//! window. The killswitch is process-wide: one load test per process, which
//! is how `gpa-metric` and a compiled-scenario executable run; a library
//! user running two attacks at once in one process must not enable early
//! stop.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use goose::goose::{GooseUser, Scenario, Transaction, TransactionFunction};
use goose::logger::GooseLog;
use goose::metrics::{GooseMetrics, GooseRequestMetric};

use super::failures::FailureKinds;
use super::load_test::{self, LoadTestError, LoadTestSettings};
use super::verdict::{Interval, Judgement, Samples, verdict, wilson_interval};
use crate::report::Verdict;
use crate::report::{ConfidenceInterval, LatencyReport};
use crate::target::{Target, TargetKind, judgeable};

/// Default confidence of a verdict (`gooseVerdictConfidence`).
pub const DEFAULT_CONFIDENCE: f64 = 0.95;
/// Default shortest run, seconds (`gooseMinRunTime`).
pub const DEFAULT_MIN_RUN_TIME_SECONDS: f64 = 2.0;
/// Default fewest requests per target (`gooseMinRequests`).
pub const DEFAULT_MIN_REQUESTS: u64 = 30;
/// How often the verdicts are checked while the test runs.
pub const CHECK_EVERY: Duration = Duration::from_millis(200);

/// How late goose may notice the killswitch: it checks every half second.
const KILLSWITCH_DELAY: Duration = Duration::from_millis(500);

/// When a verdict is sure enough to stop, and whether a stop is real.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlyStopSettings {
    /// Confidence of each interval, a fraction below 1.
    pub confidence: f64,
    /// No stop before this long after ramp-up.
    pub min_run_time: Duration,
    /// No stop before each target has this many requests.
    pub min_requests: u64,
    /// Shadow mode (`gooseEarlyStop: "shadow"`, a benchmarking aid): the
    /// test runs its whole run time, and the moment early stop would have
    /// stopped it is only noted, with the samples seen by then
    /// ([`super::shadow`]).
    pub shadow: bool,
}

impl Default for EarlyStopSettings {
    fn default() -> Self {
        EarlyStopSettings {
            confidence: DEFAULT_CONFIDENCE,
            min_run_time: Duration::from_secs_f64(DEFAULT_MIN_RUN_TIME_SECONDS),
            min_requests: DEFAULT_MIN_REQUESTS,
            shadow: false,
        }
    }
}

/// One target as early stop watches it.
#[derive(Debug, Clone, PartialEq)]
pub struct Watched {
    /// The report key, `"<METHOD> <name>"`.
    pub key: String,
    /// The statistic.
    pub kind: TargetKind,
    /// `target × (1 + tolerance)`.
    pub limit: f64,
}

/// The targets to watch and when to stop.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlyStop {
    /// When a verdict is sure enough.
    pub settings: EarlyStopSettings,
    /// Every target of the evaluation config.
    pub targets: Vec<Watched>,
    /// Replicas asked for but not ready yet when the test began
    /// (`spec.replicas − status.readyReplicas`): while any start, the
    /// service gains capacity under the test, so a miss is not a verdict.
    pub starting: u32,
}

impl EarlyStop {
    /// Watches every one of `targets` (the evaluation config's), with
    /// `starting` replicas starting when the test begins.
    pub fn new(targets: &[Target], settings: EarlyStopSettings, starting: u32) -> Self {
        let targets = targets
            .iter()
            .map(|target| Watched {
                key: target.request_key(),
                kind: target.kind,
                limit: target.limit(),
            })
            .collect();
        EarlyStop {
            settings,
            targets,
            starting,
        }
    }
}

/// One target's verdict so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// Requests seen for the target's request.
    pub count: u64,
    /// The statistic's interval.
    pub interval: Interval,
    /// Its verdict against the limit.
    pub verdict: Verdict,
}

/// What the report counts of a request besides its samples: goose's
/// failure kinds and the outcomes a scenario's rules changed afterwards
/// (goose's `set_failure` and `set_success` updates). The verdicts while
/// the test runs do not use them; the report of shadow mode does
/// ([`super::shadow`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcomes {
    /// Every error goose recorded, by kind, as the report sorts them.
    pub kinds: FailureKinds,
    /// Requests first counted as succeeded, then marked failed.
    pub marked_failed: u64,
    /// Requests first counted as failed, then marked succeeded.
    pub marked_succeeded: u64,
}

impl Outcomes {
    /// Notes one copy goose sent, with its `error` text (empty for none),
    /// whether it is an `update` of a request already sent, and its
    /// `success`: goose counts the error of every copy, updates included,
    /// and an update moves its request between succeeded and failed.
    pub fn note(&mut self, error: &str, update: bool, success: bool) {
        if !error.is_empty() {
            self.kinds.add(error, 1);
        }
        match (update, success) {
            (true, true) => self.marked_succeeded += 1,
            (true, false) => self.marked_failed += 1,
            (false, _) => {}
        }
    }
}

/// The samples of the targeted requests seen so far, by report key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tracker {
    samples: BTreeMap<String, Samples>,
    outcomes: BTreeMap<String, Outcomes>,
}

impl Tracker {
    /// A tracker keeping the samples of the requests `stop` targets only.
    pub fn watching(stop: &EarlyStop) -> Self {
        let keys = || stop.targets.iter().map(|target| target.key.clone());
        Tracker {
            samples: keys().map(|key| (key, Samples::default())).collect(),
            outcomes: keys().map(|key| (key, Outcomes::default())).collect(),
        }
    }

    /// Records one request of `key` taking `latency_ms`, if `key` is watched.
    pub fn record(&mut self, key: &str, latency_ms: f64, success: bool) {
        let Some(samples) = self.samples.get_mut(key) else {
            return;
        };
        samples.latencies_ms.push(latency_ms);
        if !success {
            samples.failures += 1;
        }
    }

    /// Records a copy goose sent, unless it was sent before `from_ms`
    /// (milliseconds since the test started: ramp-up).
    /// An update (a scenario's rule changing a request's outcome) adds no
    /// sample; it is kept in [`Self::outcomes`].
    pub fn record_metric(&mut self, metric: &GooseRequestMetric, from_ms: u64) {
        if metric.elapsed < from_ms {
            return;
        }
        let key = LatencyReport::key(metric.raw.method_label(), &metric.name);
        if let Some(outcomes) = self.outcomes.get_mut(&key) {
            outcomes.note(&metric.error, metric.update, metric.success);
        }
        if metric.update {
            return;
        }
        let latency_ms = metric.response_time_micros() as f64 / 1000.0;
        self.record(&key, latency_ms, metric.success);
    }

    /// Takes every copy waiting in `receiver`.
    pub fn drain(&mut self, receiver: &flume::Receiver<Option<GooseLog>>, from_ms: u64) {
        for message in receiver.try_iter() {
            if let Some(GooseLog::Request(metric)) = message {
                self.record_metric(&metric, from_ms);
            }
        }
    }

    /// The samples of `key`, if any request of it was seen.
    pub fn samples(&self, key: &str) -> Option<&Samples> {
        self.samples.get(key)
    }

    /// The failure kinds and changed outcomes of `key`, if it is watched.
    pub fn outcomes(&self, key: &str) -> Option<&Outcomes> {
        self.outcomes.get(key)
    }

    /// Each watched target's verdict so far, in config order.
    pub fn judge(&self, stop: &EarlyStop) -> Vec<Judged> {
        let empty = Samples::default();
        stop.targets
            .iter()
            .map(|target| {
                let samples = self.samples.get(&target.key).unwrap_or(&empty);
                let Judgement {
                    interval, verdict, ..
                } = samples.judge(target.kind, target.limit, stop.settings.confidence);
                let timeouts = self
                    .outcomes
                    .get(&target.key)
                    .map_or(0, |outcomes| outcomes.kinds.timeouts);
                let verdict = held_verdict(
                    verdict,
                    samples.count(),
                    samples.failures,
                    timeouts,
                    stop.starting,
                );
                Judged {
                    count: samples.count(),
                    interval,
                    verdict,
                }
            })
            .collect()
    }

    /// True when every target has its minimum of requests and a verdict
    /// that is not undecided.
    pub fn decided(&self, stop: &EarlyStop) -> bool {
        self.judge(stop).iter().all(|judged| {
            judged.count >= stop.settings.min_requests && judged.verdict != Verdict::Undecided
        })
    }
}

/// The on-start transaction that makes a user send a copy of each request
/// metric to `sender` (see the module doc).
/// The first user to run it records when it started in `first_user`: goose
/// starts users only after its own set-up, so that is when its ramp-up began.
pub fn tap(
    sender: flume::Sender<Option<GooseLog>>,
    first_user: Arc<OnceLock<Instant>>,
) -> Transaction {
    let function: TransactionFunction = Arc::new(move |user: &mut GooseUser| {
        let sender = sender.clone();
        first_user.get_or_init(Instant::now);
        Box::pin(async move {
            user.config.request_log = Some("gpa-early-stop".into());
            user.logger = Some(sender);
            Ok(())
        })
    });
    Transaction::new(function)
        .set_name("gpa-early-stop")
        .set_on_start()
}

/// A watched load test: goose's metrics, the samples seen, and whether
/// early stop ended it.
#[derive(Debug)]
pub struct WatchedRun {
    /// goose's metrics of the measured window.
    pub metrics: GooseMetrics,
    /// The samples of the measured window.
    pub tracker: Tracker,
    /// When early stop ended the test before its run time: each watched
    /// target's verdict at that moment, in config order. The report states
    /// these, whatever the requests still answered while goose stopped
    /// would say.
    pub held: Option<Vec<Verdict>>,
    /// In shadow mode, when early stop would have ended the test; `None`
    /// when it would have run the whole run time, or outside shadow mode.
    pub would_stop: Option<WouldStop>,
}

impl WatchedRun {
    /// True when early stop ended the test before its run time.
    pub fn stopped_early(&self) -> bool {
        self.held.is_some()
    }
}

/// The moment shadow mode noted that early stop would have ended the test.
#[derive(Debug, Clone, PartialEq)]
pub struct WouldStop {
    /// The measured window up to that moment (after ramp-up).
    pub window: Duration,
    /// The samples seen up to that moment.
    pub tracker: Tracker,
}

/// Runs the load test as [`load_test::run`] does, watching the targets of
/// `stop` and ending the test once every verdict holds (in shadow mode,
/// only noting when it would have). Install the stdout guard and the logger
/// first, as for [`load_test::run`].
pub async fn run(
    settings: &LoadTestSettings,
    scenarios: Vec<Scenario>,
    stop: &EarlyStop,
) -> Result<WatchedRun, LoadTestError> {
    let (sender, receiver) = flume::unbounded();
    let first_user = Arc::new(OnceLock::new());
    let scenarios: Vec<Scenario> = scenarios
        .into_iter()
        .map(|scenario| scenario.register_transaction(tap(sender.clone(), Arc::clone(&first_user))))
        .collect();
    drop(sender);
    let ramp_up = settings.ramp_up();
    let from_ms = u64::try_from(ramp_up.as_millis()).unwrap_or(u64::MAX);
    let wait = ramp_up.saturating_add(stop.settings.min_run_time);
    // Stopping within half a second of the cap saves nothing (goose notices
    // the killswitch that late), so such a run is let finish, not marked
    // stopped early.
    let last_stop = ramp_up
        .saturating_add(settings.run_time)
        .saturating_sub(KILLSWITCH_DELAY);
    // The measured window so far, once it may stop.
    let due = || {
        first_user.get().and_then(|started: &Instant| {
            let elapsed = started.elapsed();
            (elapsed >= wait && elapsed < last_stop).then(|| elapsed.saturating_sub(ramp_up))
        })
    };
    let attack = load_test::run(settings, scenarios);
    tokio::pin!(attack);
    let mut tracker = Tracker::watching(stop);
    let (mut held, mut would_stop) = (None, None);
    let mut ticker = tokio::time::interval(CHECK_EVERY);
    let metrics = loop {
        tokio::select! {
            // The attack first: a test that has just ended is never stopped.
            biased;
            result = &mut attack => break result?,
            _ = ticker.tick(), if held.is_none() => {
                tracker.drain(&receiver, from_ms);
                if let Some(window) = due().filter(|_| tracker.decided(stop)) {
                    held = Some(tracker.judge(stop).iter().map(|judged| judged.verdict).collect());
                    would_stop = stop_now(stop, window, &tracker);
                }
            }
        }
    };
    tracker.drain(&receiver, from_ms);
    tracing::debug!(history = ?metrics.history, "goose's test plan");
    Ok(WatchedRun {
        metrics,
        tracker,
        held: held.filter(|_| !stop.settings.shadow),
        would_stop,
    })
}

/// Every verdict holds after `window`: pulls the killswitch, or in shadow
/// mode notes the moment and the samples seen by then.
fn stop_now(stop: &EarlyStop, window: Duration, tracker: &Tracker) -> Option<WouldStop> {
    let confidence = stop.settings.confidence * 100.0;
    if stop.settings.shadow {
        tracing::info!(
            "early stop (shadow): every target's verdict holds at {confidence} % confidence after {:.1} s; the test runs on to its run time",
            window.as_secs_f64()
        );
        return Some(WouldStop {
            window,
            tracker: tracker.clone(),
        });
    }
    tracing::info!("early stop: every target's verdict holds at {confidence} % confidence");
    goose::trigger_killswitch("gpa-metric early stop: every target's verdict holds");
    None
}

/// The verdict early stop holds to, from the statistic's own `verdict` and
/// the request's `count`, `failures` and `timeouts`; the report says the
/// same. A report the evaluate stage would refuse (every request failed,
/// not by timing out) decides nothing: run on. Nor does a figure made
/// mostly of refusals (instant 503s, refused connections), which look fast:
/// met needs most requests answered or timed out; a miss despite them
/// stands. While replicas start (`starting`), the capacity grows under the
/// test: a miss may be met once they serve, so it waits.
pub fn held_verdict(
    verdict: Verdict,
    count: u64,
    failures: u64,
    timeouts: u64,
    starting: u32,
) -> Verdict {
    let refused = failures.saturating_sub(timeouts);
    if !judgeable(count, failures, timeouts)
        || (verdict == Verdict::Met && refused * 2 >= count)
        || (verdict == Verdict::Missed && starting > 0)
    {
        Verdict::Undecided
    } else {
        verdict
    }
}

/// Adds early stop's figures to `report`: `stoppedEarly`, the cap, and each
/// target's interval (latency intervals from the samples; `errorRate` from
/// the report's final counts, which include the scenario's own success
/// rules).
pub fn annotate(report: &mut LatencyReport, run: &WatchedRun, stop: &EarlyStop, cap: Duration) {
    annotate_with(report, &run.tracker, run.stopped_early(), stop, cap);
    if let Some(held) = &run.held {
        state_held(report, stop, held);
    }
}

/// Puts the verdicts early stop ended the test on (`held`, one per target
/// of `stop`) into `report`: the requests still answered while goose
/// stopped (late ones, on a busy machine) may move an interval or a trend,
/// never the verdict the test was ended for.
fn state_held(report: &mut LatencyReport, stop: &EarlyStop, held: &[Verdict]) {
    for (target, &verdict) in stop.targets.iter().zip(held) {
        if let Some(interval) = report
            .requests
            .get_mut(&target.key)
            .and_then(|stats| stats.confidence_intervals.get_mut(target.kind.name()))
        {
            interval.verdict = verdict;
        }
    }
}

/// [`annotate`] from the samples in `tracker`, saying `stopped_early`.
pub fn annotate_with(
    report: &mut LatencyReport,
    tracker: &Tracker,
    stopped_early: bool,
    stop: &EarlyStop,
    cap: Duration,
) {
    report.stopped_early = Some(stopped_early);
    report.max_run_time_seconds = Some(cap.as_secs_f64());
    let confidence = stop.settings.confidence;
    let empty = Samples::default();
    for target in &stop.targets {
        let Some(stats) = report.requests.get_mut(&target.key) else {
            continue;
        };
        let judged = match target.kind {
            TargetKind::ErrorRate => {
                let interval = wilson_interval(stats.failures, stats.count, confidence);
                Judgement {
                    interval,
                    verdict: verdict(interval, target.limit),
                    trend: None,
                }
            }
            kind => {
                tracker
                    .samples(&target.key)
                    .unwrap_or(&empty)
                    .judge(kind, target.limit, confidence)
            }
        };
        // The verdict early stop held to, not the statistic's alone: a
        // figure of refused requests is no "met".
        let verdict = held_verdict(
            judged.verdict,
            stats.count,
            stats.failures,
            stats.timeouts,
            stop.starting,
        );
        stats.confidence_intervals.insert(
            target.kind.name().to_owned(),
            ConfidenceInterval {
                confidence,
                low: judged.interval.low,
                high: judged.interval.high,
                limit: target.limit,
                verdict,
                trend: judged.trend,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::verdict::{mean_and_sd, mean_interval};

    fn stop(kind: TargetKind, limit: f64) -> EarlyStop {
        EarlyStop {
            settings: EarlyStopSettings::default(),
            targets: vec![Watched {
                key: "GET /x".into(),
                kind,
                limit,
            }],
            starting: 0,
        }
    }

    #[test]
    fn the_report_states_the_verdict_the_test_was_stopped_on() {
        let stop = stop(TargetKind::Mean, 6.0);
        let mut tracker = Tracker::watching(&stop);
        for i in 0..40 {
            tracker.record("GET /x", 30.0 + f64::from(i % 3), true);
        }
        let mut report: LatencyReport = serde_json::from_value(serde_json::json!({
            "users": 2, "runTimeSeconds": 2.0, "requests": {"GET /x": {
                "method": "GET", "name": "/x", "count": 40, "failures": 0,
                "errorRate": 0.0, "requestsPerSecond": 20.0, "meanMs": 31.0, "medianMs": 31.0,
                "minMs": 30.0, "maxMs": 32.0, "p75Ms": 32.0, "p90Ms": 32.0, "p95Ms": 32.0,
                "p99Ms": 32.0}}
        }))
        .unwrap();
        annotate_with(&mut report, &tracker, true, &stop, Duration::from_secs(6));
        let verdict =
            |report: &LatencyReport| report.requests["GET /x"].confidence_intervals["mean"].verdict;
        assert_eq!(verdict(&report), Verdict::Missed);
        // late samples may leave the interval undecided; the verdict stated
        // is the one the test was stopped on
        report
            .requests
            .get_mut("GET /x")
            .unwrap()
            .confidence_intervals
            .get_mut("mean")
            .unwrap()
            .verdict = Verdict::Undecided;
        state_held(&mut report, &stop, &[Verdict::Missed]);
        assert_eq!(verdict(&report), Verdict::Missed);
    }

    /// A report whose every request failed without timing out is refused by
    /// the evaluate stage: stopping on it would lose the interval, so such a
    /// target stays undecided and the test runs on; timeouts are saturation,
    /// a miss to stop on.
    #[test]
    fn a_target_whose_every_request_failed_fast_stays_undecided_unless_they_timed_out() {
        let stop = stop(TargetKind::Mean, 100.0);
        let mut tracker = Tracker::watching(&stop);
        for _ in 0..40 {
            tracker.record("GET /x", 2.0, false);
            let outcomes = tracker.outcomes.get_mut("GET /x").unwrap();
            outcomes.note("503 Service Unavailable: /x", false, false);
        }
        assert_eq!(tracker.judge(&stop)[0].verdict, Verdict::Undecided);
        assert!(!tracker.decided(&stop), "40 instant 503s decide nothing");

        let mut saturated = Tracker::watching(&stop);
        for _ in 0..40 {
            saturated.record("GET /x", 1000.0, false);
            let outcomes = saturated.outcomes.get_mut("GET /x").unwrap();
            outcomes.note("error sending request: operation timed out", false, false);
        }
        assert_eq!(saturated.judge(&stop)[0].verdict, Verdict::Missed);
    }

    /// Refusals are fast: 75 instant 503s and one answer give a mean of
    /// 20 ms, far under the limit, while the service is overloaded. A met
    /// verdict needs most requests answered (or timed out).
    #[test]
    fn a_target_met_only_because_most_requests_were_refused_stays_undecided() {
        let stop = stop(TargetKind::Mean, 100.0);
        // `refusals` instant 503s for every answer of 60-64 ms, 160 requests.
        let mixed = |refusals: u32| {
            let mut tracker = Tracker::watching(&stop);
            for i in 0..160 {
                if i % (refusals + 1) == 0 {
                    tracker.record("GET /x", 60.0 + f64::from(i % 5), true);
                } else {
                    tracker.record("GET /x", 2.0, false);
                    let outcomes = tracker.outcomes.get_mut("GET /x").unwrap();
                    outcomes.note("503 Service Unavailable: /x", false, false);
                }
            }
            tracker
        };
        let refused = mixed(15);
        let judged = &refused.judge(&stop)[0];
        assert_eq!(verdict(judged.interval, 100.0), Verdict::Met);
        assert_eq!(judged.verdict, Verdict::Undecided);
        assert!(!refused.decided(&stop));
        assert_eq!(
            mixed(1).judge(&stop)[0].verdict,
            Verdict::Undecided,
            "half refused"
        );
        // One refusal in four: the answers are the majority, met stands.
        let mut answered = Tracker::watching(&stop);
        for i in 0..160 {
            let success = i % 4 != 0;
            answered.record("GET /x", if success { 60.0 } else { 2.0 }, success);
        }
        assert!(answered.decided(&stop));
    }

    /// Replicas still starting add capacity during the test: a miss waits
    /// for them (the whole run time if need be), a met stands.
    #[test]
    fn while_replicas_start_only_a_met_verdict_stops_the_test() {
        let mut stop = stop(TargetKind::Mean, 100.0);
        stop.starting = 3;
        let mut tracker = Tracker::watching(&stop);
        for i in 0..200 {
            tracker.record("GET /x", 450.0 + f64::from(i % 7), true);
        }
        assert_eq!(tracker.judge(&stop)[0].verdict, Verdict::Undecided);
        assert!(!tracker.decided(&stop));
        stop.starting = 0;
        assert!(tracker.decided(&stop), "all ready: a miss");

        stop.starting = 3;
        let mut quiet = Tracker::watching(&stop);
        for i in 0..200 {
            quiet.record("GET /x", 50.0 + f64::from(i % 7), true);
        }
        assert!(quiet.decided(&stop), "met while starting");
    }

    #[test]
    fn targets_are_watched_with_their_tolerance() {
        let config = crate::metric::evaluation_config::WatchedConfig::parse_str(
            "targets:\n  - {method: get, endpoint: /x, type: p95, target: 100, tolerance: 0.1}\n",
            std::path::Path::new("c.yaml"),
        )
        .unwrap();
        let watched = EarlyStop::new(&config.targets, EarlyStopSettings::default(), 0);
        assert_eq!(watched.targets.len(), 1);
        assert_eq!(watched.targets[0].key, "GET /x");
        assert!((watched.targets[0].limit - 110.0).abs() < 1e-9);
    }

    #[test]
    fn a_clear_miss_is_decided_only_after_the_minimum_of_requests() {
        let stop = stop(TargetKind::Mean, 100.0);
        let mut tracker = Tracker::watching(&stop);
        for i in 0..29 {
            tracker.record("GET /x", 500.0 + f64::from(i % 7), true);
        }
        assert_eq!(tracker.judge(&stop)[0].verdict, Verdict::Missed);
        assert!(!tracker.decided(&stop), "29 of 30 requests");
        tracker.record("GET /x", 503.0, true);
        assert!(tracker.decided(&stop));
    }

    #[test]
    fn a_queue_draining_after_a_burst_does_not_decide_the_mean() {
        // 300 requests behind one burst: 400 ms at first, draining towards
        // 40 ms. The mean so far (about 88 ms) is above the 70 ms limit with
        // a tight plain interval, but the requests are not independent; the
        // batch means climb down from 230 ms to 40 ms, and the verdict waits.
        let stop = stop(TargetKind::Mean, 70.0);
        let mut tracker = Tracker::watching(&stop);
        let draining: Vec<f64> = (0..300)
            .map(|i| 40.0 + 360.0 * (-f64::from(i) / 40.0).exp())
            .collect();
        for &latency in &draining {
            tracker.record("GET /x", latency, true);
        }
        let (mean, sd) = mean_and_sd(&draining);
        let plain = mean_interval(300, mean, sd, 0.95);
        assert_eq!(verdict(plain, 70.0), Verdict::Missed, "{plain:?}");
        assert_eq!(tracker.judge(&stop)[0].verdict, Verdict::Undecided);
        assert!(!tracker.decided(&stop));
    }

    #[test]
    fn a_queue_still_growing_is_not_decided_until_it_levels_off() {
        // A clear miss (every request above the 100 ms limit) whose
        // response times still climb: a longer test would report a higher
        // mean, so the test runs on; once they hold steady it stops.
        let stop = stop(TargetKind::Mean, 100.0);
        let mut tracker = Tracker::watching(&stop);
        for i in 0..200 {
            tracker.record("GET /x", 200.0 + 2.0 * f64::from(i), true);
        }
        assert_eq!(tracker.judge(&stop)[0].verdict, Verdict::Undecided);
        assert!(!tracker.decided(&stop));
        for i in 0..2000 {
            tracker.record("GET /x", 600.0 + f64::from(i % 13), true);
        }
        assert_eq!(tracker.judge(&stop)[0].verdict, Verdict::Missed);
        assert!(tracker.decided(&stop));
    }

    #[test]
    fn a_target_near_its_limit_or_not_yet_measured_stays_undecided() {
        let stop = stop(TargetKind::Median, 20.0);
        let mut tracker = Tracker::watching(&stop);
        assert!(!tracker.decided(&stop), "nothing seen yet");
        // Half the requests take 2 ms, half 40 ms: the median's interval
        // spans the 20 ms limit however many requests come.
        for i in 0..2000 {
            tracker.record("GET /x", if i % 2 == 0 { 2.0 } else { 40.0 }, true);
        }
        assert_eq!(tracker.judge(&stop)[0].verdict, Verdict::Undecided);
        assert!(!tracker.decided(&stop));
    }

    #[test]
    fn every_target_must_be_decided() {
        let mut stop = stop(TargetKind::P95, 100.0);
        stop.targets.push(Watched {
            key: "GET /y".into(),
            kind: TargetKind::ErrorRate,
            limit: 0.05,
        });
        let mut tracker = Tracker::watching(&stop);
        tracker.record("GET /unwatched", 1.0, true);
        assert_eq!(tracker.samples("GET /unwatched"), None, "not kept");
        for _ in 0..200 {
            tracker.record("GET /x", 10.0, true);
        }
        assert_eq!(tracker.judge(&stop)[0].verdict, Verdict::Met);
        assert!(!tracker.decided(&stop), "GET /y not seen");
        for i in 0..200 {
            tracker.record("GET /y", 10.0, i % 2 == 0);
        }
        assert_eq!(tracker.judge(&stop)[1].verdict, Verdict::Missed);
        assert!(tracker.decided(&stop));
    }
}
