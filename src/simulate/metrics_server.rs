//! The cluster's CPU figures, as the simulator plays them: a metrics server
//! that samples each pod's CPU every metrics window, and the CPA 2.12.2 that
//! gathers them for the metric stage's `kubernetesMetrics`
//! ([`crate::cpa::metrics`]).
//!
//! - **Usage.** A pod whose every request slot is busy uses its whole CPU
//!   limit (the simulated service is CPU-bound: its concurrency is what its
//!   limit allows), so a pod's usage over a window is its busy share of its
//!   slots times its limit ([`POD_CPU_LIMIT_MILLI`], 100m), and its
//!   utilisation, over its request ([`POD_CPU_REQUEST_MILLI`], 50m), runs
//!   from 0 to 2.0. The busy slots are the capacity model's
//!   ([`super::capacity::BusyTime`]), the probe's requests included.
//! - **Sampling.** The metrics server samples every `window` from the
//!   simulation's start (the published manifests' `--metric-resolution` is
//!   15 s; each sample averages over the time since the one before). A pod
//!   younger than [`MIN_POD_AGE`] at a sample has none (the metrics server
//!   needs two readings of a container); a pod's first sample averages over
//!   its life so far.
//! - **Gathering** ([`gather`]), as `k8shorizmetrics` v3's `Gather` does it
//!   at the start of each interval, before the probe runs: the latest
//!   sample, so the figures lag by up to a window plus the window itself;
//!   pods without a sample are missing; for cpu, a pod is ignored while
//!   unready, and within `cpuInitializationPeriod` of its start also while
//!   its sample began before it became ready. Without a pod or a sample the
//!   CPA's gather fails, and it then sends no `kubernetesMetrics` at all
//!   (`requireKubernetesMetrics: false`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::capacity::{Capacity, Pod};
use crate::cpa::metrics::{
    KubernetesMetric, MetricSpec, MetricTarget, PodMetric, ResourceMetric, ResourceMetricSource,
    UTILIZATION,
};

/// The simulated pod's CPU request, millicores: `example/deployment.yaml`'s.
pub const POD_CPU_REQUEST_MILLI: i64 = 50;
/// The simulated pod's CPU limit, millicores: `example/deployment.yaml`'s.
pub const POD_CPU_LIMIT_MILLI: i64 = 100;
/// The youngest a pod has a CPU sample.
pub const MIN_POD_AGE: Duration = Duration::from_secs(10);
/// The CPA's `cpuInitializationPeriod` default (`config/core.go`).
pub const CPU_INITIALIZATION_PERIOD: Duration = Duration::from_secs(300);
/// The CPA's `initialReadinessDelay` default (`config/core.go`).
pub const INITIAL_READINESS_DELAY: Duration = Duration::from_secs(30);

/// One sampling of every pod by the metrics server.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// When it was taken, since the simulation started.
    pub at: Duration,
    /// Per pod name: its busy slot-seconds so far (the cumulative counter),
    /// and its CPU sample, when it is old enough to have one.
    pub pods: BTreeMap<String, PodSample>,
}

/// One pod in a [`Sample`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodSample {
    /// Its busy slot-seconds when the sample was taken.
    pub busy_slot_seconds: f64,
    /// Its CPU over the window before, millicores, and that window; `None`
    /// for a pod younger than [`MIN_POD_AGE`].
    pub cpu: Option<(i64, Duration)>,
}

/// The next sample after `previous`, taken at `at` of `pods` (each with its
/// busy slot-seconds so far), `concurrency` slots per pod.
pub fn sample(
    previous: Option<&Sample>,
    at: Duration,
    pods: &[(Pod, f64)],
    concurrency: u32,
) -> Sample {
    let pods = pods
        .iter()
        .map(|(pod, busy)| {
            let created = pod.created_at.unwrap_or(Duration::ZERO);
            let old_enough = pod
                .created_at
                .is_none_or(|created| at >= created + MIN_POD_AGE);
            let before = previous.and_then(|previous| {
                previous
                    .pods
                    .get(&pod.name)
                    .map(|sample| (previous.at, sample.busy_slot_seconds))
            });
            let (from, busy_before) = before.unwrap_or((created, 0.0));
            let window = at.saturating_sub(from);
            let cpu = (old_enough && !window.is_zero()).then(|| {
                let busy_share =
                    (busy - busy_before) / window.as_secs_f64() / f64::from(concurrency.max(1));
                let milli = (busy_share.clamp(0.0, 1.0) * POD_CPU_LIMIT_MILLI as f64).round();
                (milli as i64, window)
            });
            let sample = PodSample {
                busy_slot_seconds: *busy,
                cpu,
            };
            (pod.name.clone(), sample)
        })
        .collect();
    Sample { at, pods }
}

/// The running metrics server: samples the capacity model every window.
#[derive(Debug, Clone, Default)]
pub struct MetricsServer {
    latest: Arc<Mutex<Option<Sample>>>,
}

impl MetricsServer {
    /// Starts sampling `capacity` every `window` from `start`; the task
    /// runs until aborted.
    pub fn start(
        capacity: Capacity,
        window: Duration,
        concurrency: u32,
        start: Instant,
    ) -> (MetricsServer, JoinHandle<()>) {
        let server = MetricsServer::default();
        let latest = Arc::clone(&server.latest);
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval_at(start + window, window);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let pods = capacity.pods();
                let at = start.elapsed();
                let mut latest = latest.lock().unwrap_or_else(|p| p.into_inner());
                let next = sample(latest.as_ref(), at, &pods, concurrency);
                *latest = Some(next);
            }
        });
        (server, task)
    }

    /// The latest sample, if one was taken.
    pub fn latest(&self) -> Option<Sample> {
        self.latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// What the CPA 2.12.2 gathers at `now` for `kubernetesMetricSpecs` of cpu
/// `Utilization`: the pods `pods` (those existing now), the metrics server's
/// `latest` sample, `current_replicas` (the scale subresource's). `clock`
/// turns a simulation instant into the simulated wall clock. `None` when
/// the gather fails (no pod, or no pod in the metrics API): the CPA then
/// sends no `kubernetesMetrics`.
pub fn gather(
    pods: &[Pod],
    latest: Option<&Sample>,
    now: Duration,
    current_replicas: i32,
    clock: impl Fn(Duration) -> jiff::Timestamp,
) -> Option<KubernetesMetric> {
    let latest = latest?;
    let samples: BTreeMap<&str, (i64, Duration)> = pods
        .iter()
        .filter_map(|pod| {
            let cpu = latest.pods.get(&pod.name)?.cpu?;
            Some((pod.name.as_str(), cpu))
        })
        .collect();
    if pods.is_empty() || samples.is_empty() {
        return None;
    }
    let timestamp = clock(latest.at);
    let mut resource = ResourceMetric {
        total_pods: pods.len() as i64,
        timestamp: Some(timestamp),
        requests: Some(BTreeMap::new()),
        ..ResourceMetric::default()
    };
    for pod in pods {
        if let Some(requests) = resource.requests.as_mut() {
            requests.insert(pod.name.clone(), POD_CPU_REQUEST_MILLI);
        }
        let Some(&(value_milli, window)) = samples.get(pod.name.as_str()) else {
            resource.missing_pods.0.insert(pod.name.clone());
            continue;
        };
        if is_ignored(pod, now, latest.at, window) {
            resource.ignored_pods.0.insert(pod.name.clone());
            continue;
        }
        resource.ready_pod_count += 1;
        resource.pod_metrics_info.insert(
            pod.name.clone(),
            PodMetric {
                timestamp,
                window_ns: i64::try_from(window.as_nanos()).unwrap_or(i64::MAX),
                value_milli,
            },
        );
    }
    Some(KubernetesMetric {
        current_replicas,
        spec: MetricSpec {
            kind: "Resource".into(),
            resource: Some(ResourceMetricSource {
                name: "cpu".into(),
                target: MetricTarget {
                    kind: UTILIZATION.into(),
                    average_utilization: None,
                },
            }),
        },
        resource: Some(resource),
    })
}

/// `podutil.GroupPods`' cpu rule for a pod with a sample taken at
/// `sampled_at` over `window`, judged at `now`.
fn is_ignored(pod: &Pod, now: Duration, sampled_at: Duration, window: Duration) -> bool {
    let ready = pod.is_ready(now);
    let Some(created) = pod.created_at else {
        return !ready; // started long before the simulation
    };
    // The Ready condition last changed when the pod became ready, or, while
    // it is unready, when it started.
    let transition = if ready { pod.ready_at } else { created };
    if created + CPU_INITIALIZATION_PERIOD > now {
        !ready || sampled_at < transition + window
    } else {
        !ready && created + INITIAL_READINESS_DELAY > transition
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpa::metrics::PodSet;

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn pod(name: &str, created_at: Option<u64>, ready_at: u64) -> Pod {
        Pod {
            name: name.into(),
            created_at: created_at.map(secs),
            ready_at: secs(ready_at),
        }
    }

    fn clock(at: Duration) -> jiff::Timestamp {
        jiff::Timestamp::UNIX_EPOCH + jiff::SignedDuration::try_from(at).unwrap()
    }

    #[test]
    fn a_pod_s_cpu_is_its_busy_share_of_its_slots_times_its_limit() {
        let old = pod("old", None, 0);
        let first = sample(None, secs(15), &[(old.clone(), 30.0)], 4);
        // 30 slot-seconds over 15 s of 4 slots: half busy, 50m of a 100m limit.
        assert_eq!(first.pods["old"].cpu, Some((50, secs(15))));
        // The next window counts only what it added: 60 of 60 slot-seconds.
        let second = sample(Some(&first), secs(30), &[(old.clone(), 90.0)], 4);
        assert_eq!(second.pods["old"].cpu, Some((100, secs(15))));
    }

    #[test]
    fn a_pod_younger_than_ten_seconds_has_no_sample_and_then_one_over_its_life() {
        let young = pod("young", Some(8), 10);
        let first = sample(None, secs(15), &[(young.clone(), 5.0)], 4);
        assert_eq!(first.pods["young"].cpu, None);
        let second = sample(Some(&first), secs(30), &[(young, 35.0)], 4);
        // It was in the first sample: its window starts there.
        assert_eq!(second.pods["young"].cpu, Some((50, secs(15))));
        let late = pod("late", Some(18), 20);
        let third = sample(Some(&second), secs(30), &[(late, 12.0)], 4);
        // Created at 18 s, 12 s old: a sample over its 12 s.
        assert_eq!(third.pods["late"].cpu, Some((25, secs(12))));
    }

    #[test]
    fn the_cpa_groups_pods_as_k8shorizmetrics_does() {
        let pods = [
            pod("a-old", None, 0),
            pod("b-ready-since-window", Some(0), 2),
            pod("c-ready-mid-window", Some(10), 20),
            pod("d-starting", Some(12), 40),
            pod("e-too-young", Some(28), 40),
        ];
        let counters: Vec<(Pod, f64)> = pods.iter().map(|p| (p.clone(), 15.0)).collect();
        let first = sample(None, secs(15), &counters, 4);
        let latest = sample(Some(&first), secs(30), &counters, 4);
        let metric = gather(&pods, Some(&latest), secs(31), 5, clock).unwrap();
        assert_eq!(metric.current_replicas, 5);
        let resource = metric.resource.unwrap();
        assert_eq!(
            resource.pod_metrics_info.keys().collect::<Vec<_>>(),
            ["a-old", "b-ready-since-window"]
        );
        assert_eq!(
            resource.ignored_pods,
            PodSet::from_iter(["c-ready-mid-window", "d-starting"])
        );
        assert_eq!(resource.missing_pods, PodSet::from_iter(["e-too-young"]));
        assert_eq!((resource.ready_pod_count, resource.total_pods), (2, 5));
        assert_eq!(resource.requests.unwrap().len(), 5);
        assert_eq!(resource.timestamp, Some(clock(secs(30))));
        let sample = resource.pod_metrics_info["a-old"];
        assert_eq!(
            (sample.window_ns, sample.timestamp),
            (15_000_000_000, clock(secs(30)))
        );
    }

    #[test]
    fn no_sample_yet_or_no_pod_means_no_kubernetes_metrics() {
        let pods = [pod("a", None, 0)];
        assert_eq!(gather(&pods, None, secs(5), 1, clock), None);
        let young = [pod("y", Some(0), 1)];
        let latest = sample(None, secs(5), &[(young[0].clone(), 1.0)], 4);
        assert_eq!(gather(&young, Some(&latest), secs(6), 1, clock), None);
        assert_eq!(gather(&[], Some(&latest), secs(6), 0, clock), None);
    }

    #[test]
    fn the_pod_spec_s_cpu_is_the_example_deployment_s() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("example/deployment.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.contains(&format!("cpu: {POD_CPU_REQUEST_MILLI}m")),
            "{text}"
        );
        assert!(
            text.contains(&format!("cpu: {POD_CPU_LIMIT_MILLI}m")),
            "{text}"
        );
    }
}
