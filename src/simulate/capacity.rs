//! The capacity model of the simulated workload: how many requests its
//! replicas serve at once, and how scaling changes that.
//!
//! Each serving replica serves `concurrencyPerReplica` requests at once, each
//! taking `serviceTime` (a sleep, so the machine's own cores are never the
//! bottleneck); requests beyond that wait in one FIFO queue, like a Service in
//! front of busy pods. The queue holds at most what the serving replicas get
//! through in `maxQueueTime`: a request arriving at a full queue is answered
//! `503 Service Unavailable` at once, and one that still waits `maxQueueTime`
//! (after a scale-down) is answered 503 then, as a load balancer with a
//! bounded queue would. Without the bound an overloaded service's queue would
//! grow without end. A replica added by a scale-up serves only after
//! `startupDelay`. A scale-down removes starting replicas first, then serving
//! ones; a removed replica finishes the requests it holds.
//!
//! [`Replicas`] is the pure part (which pods exist, named, and from when they
//! serve, and the [`DeploymentStatus`] the API server would report of them);
//! [`BusyTime`] counts each pod's busy slot-seconds, the simulated CPU the
//! metrics server samples ([`super::metrics_server`]);
//! [`Capacity`] turns it into the permits of a tokio `Semaphore` that
//! an axum middleware ([`Capacity::layer`]) takes one of per request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{self, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// How the simulated workload serves requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CapacitySettings {
    /// Requests one serving replica handles at once (at least 1).
    pub concurrency_per_replica: u32,
    /// Time each request takes to serve once it has a slot.
    pub service_time: Duration,
    /// Time a new replica takes before it serves.
    pub startup_delay: Duration,
    /// Longest a request waits for a slot before it is answered 503.
    pub max_queue_time: Duration,
    /// Replicas of the Deployment that never get ready (a Pod stuck
    /// crash-looping on a bad node): they count in `spec.replicas` and serve
    /// nothing.
    pub never_ready_replicas: u32,
}

impl CapacitySettings {
    /// Requests per second one replica can complete when always busy.
    pub fn requests_per_second_per_replica(&self) -> f64 {
        f64::from(self.concurrency_per_replica) / self.service_time.as_secs_f64().max(1e-6)
    }
}

/// The Deployment's `status` as the API server reports it, reduced to the
/// replica counts: what the CPA hands both stages in `resource.status`. Like
/// Kubernetes, it leaves out a count that is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStatus {
    /// `status.replicas`: replicas that exist, serving or starting.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub replicas: u32,
    /// `status.readyReplicas`: replicas serving (the simulation's readiness
    /// probe passes once the start-up delay is over).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ready_replicas: u32,
    /// `status.availableReplicas`: replicas serving (`minReadySeconds` 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub available_replicas: u32,
    /// `status.updatedReplicas`: replicas of the current template; all of
    /// them, as the simulation never rolls out a new one.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub updated_replicas: u32,
}

fn is_zero(count: &u32) -> bool {
    *count == 0
}

/// One pod of the simulated Deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    /// Its name, unique within the run: `fibonacci-00001`, ...
    pub name: String,
    /// When it was created (since the simulation started); `None` for the
    /// pods the simulation starts with, which have run for long.
    pub created_at: Option<Duration>,
    /// From when it serves (its readiness probe passes); `Duration::MAX` for
    /// a pod that never gets ready.
    pub ready_at: Duration,
}

impl Pod {
    /// True when it serves at `now`.
    pub fn is_ready(&self, now: Duration) -> bool {
        self.ready_at <= now
    }
}

/// The replicas of the simulated Deployment: its pods, each with the moment
/// (since the simulation started) from which it serves. Pure; the clock is an
/// argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replicas {
    /// The pods, oldest first; ready times non-decreasing, [`NEVER`] for a
    /// pod that never gets ready.
    pods: Vec<Pod>,
    /// Pods created so far, for the next name.
    created: u64,
    /// Replicas that never get ready, as long as there are that many.
    never_ready: u32,
}

/// The ready time of a replica that never gets ready.
const NEVER: Duration = Duration::MAX;

impl Replicas {
    /// `count` replicas, all serving from the start.
    pub fn new(count: u32) -> Self {
        let mut replicas = Replicas {
            pods: Vec::new(),
            created: 0,
            never_ready: 0,
        };
        for _ in 0..count {
            replicas.add(None, Duration::ZERO);
        }
        replicas
    }

    /// These replicas with `count` of them never ready: the newest.
    /// After every scaling as many as there are replicas, up to `count`,
    /// never get ready: new pods that replace them.
    pub fn with_never_ready(mut self, count: u32) -> Self {
        self.never_ready = count;
        let bad = (count as usize).min(self.pods.len());
        let first_bad = self.pods.len() - bad;
        for pod in &mut self.pods[first_bad..] {
            pod.ready_at = NEVER;
        }
        self
    }

    fn add(&mut self, created_at: Option<Duration>, ready_at: Duration) {
        self.created += 1;
        self.pods.push(Pod {
            name: format!("fibonacci-{:05}", self.created),
            created_at,
            ready_at,
        });
    }

    /// The pods, oldest first.
    pub fn pods(&self) -> &[Pod] {
        &self.pods
    }

    /// Replicas that exist, serving or starting: the Deployment's `spec.replicas`.
    pub fn desired(&self) -> u32 {
        self.pods.len() as u32
    }

    /// Replicas serving at `now`.
    pub fn serving(&self, now: Duration) -> u32 {
        self.pods.iter().filter(|pod| pod.is_ready(now)).count() as u32
    }

    /// The status the API server reports at `now`.
    pub fn status(&self, now: Duration) -> DeploymentStatus {
        let serving = self.serving(now);
        DeploymentStatus {
            replicas: self.desired(),
            ready_replicas: serving,
            available_replicas: serving,
            updated_replicas: self.desired(),
        }
    }

    /// The next moment after `now` at which a starting replica begins serving.
    pub fn next_ready(&self, now: Duration) -> Option<Duration> {
        self.pods
            .iter()
            .map(|pod| pod.ready_at)
            .find(|ready| *ready > now && *ready != NEVER)
    }

    /// Scales to `count` at `now`: new replicas serve from `now + startup_delay`;
    /// on a scale-down the replicas that would serve last go first.
    /// The replicas that never get ready stay as many (the ReplicaSet
    /// deletes them first on a scale-down, and they come back).
    pub fn scale_to(&mut self, count: u32, now: Duration, startup_delay: Duration) {
        let count = count as usize;
        self.pods.retain(|pod| pod.ready_at != NEVER);
        let bad = (self.never_ready as usize).min(count);
        let good = count - bad;
        self.pods.truncate(good);
        while self.pods.len() < good {
            self.add(Some(now), now + startup_delay);
        }
        for _ in 0..bad {
            self.add(Some(now), NEVER);
        }
    }
}

/// Each pod's busy time: the slot-seconds its requests held, the simulated
/// counterpart of the kubelet's cumulative CPU counter. The busy slots are
/// spread evenly over the serving pods, as a Service balances requests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BusyTime {
    /// Slots held now.
    busy: usize,
    /// When the counters were last brought up to date.
    last: Duration,
    /// Slot-seconds per pod name.
    per_pod: std::collections::HashMap<String, f64>,
}

impl BusyTime {
    /// Brings the counters up to `now`: since the last update `busy` slots
    /// were held, shared by the pods of `replicas` serving then (at most
    /// `concurrency` each; the rest are a removed pod's last requests).
    fn advance(&mut self, now: Duration, replicas: &Replicas, concurrency: u32) {
        let elapsed = now.saturating_sub(self.last).as_secs_f64();
        let serving: Vec<&Pod> = replicas
            .pods()
            .iter()
            .filter(|pod| pod.is_ready(self.last))
            .collect();
        if self.busy > 0 && !serving.is_empty() && elapsed > 0.0 {
            let each = (self.busy as f64 / serving.len() as f64).min(f64::from(concurrency));
            for pod in serving {
                *self.per_pod.entry(pod.name.clone()).or_default() += each * elapsed;
            }
        }
        self.last = self.last.max(now);
    }

    /// The slot-seconds `pod` has been busy so far.
    pub fn of(&self, pod: &str) -> f64 {
        self.per_pod.get(pod).copied().unwrap_or(0.0)
    }
}

/// The running capacity model: replicas, and the semaphore whose permits are
/// the serving replicas' request slots. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Capacity {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    settings: CapacitySettings,
    start: Instant,
    semaphore: Arc<Semaphore>,
    /// Permits to take out of circulation as soon as requests release them
    /// (a scale-down while they were all held).
    debt: AtomicUsize,
    /// Requests waiting for a slot.
    queued: AtomicUsize,
    /// Replicas, and the number of permits granted for them.
    state: Mutex<Pool>,
    /// Wakes the controller when the replicas change.
    changed: Arc<Notify>,
}

#[derive(Debug)]
struct Pool {
    replicas: Replicas,
    granted: usize,
    busy: BusyTime,
}

/// One request's slot: returned to the pool when dropped, or taken out of
/// circulation if a scale-down is owed one.
#[derive(Debug)]
pub struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    shared: Arc<Shared>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            self.shared.busy_change(false);
            if take_one(&self.shared.debt) {
                permit.forget();
            }
        }
    }
}

impl Shared {
    /// Counts a slot taken (`true`) or given back, after bringing the busy
    /// time up to now.
    fn busy_change(&self, taken: bool) {
        let now = self.start.elapsed();
        let mut state = lock(&self.state);
        let Pool { replicas, busy, .. } = &mut *state;
        busy.advance(now, replicas, self.settings.concurrency_per_replica);
        if taken {
            busy.busy += 1;
        } else {
            busy.busy = busy.busy.saturating_sub(1);
        }
    }
}

struct QueuedGuard<'a>(&'a AtomicUsize);

impl Drop for QueuedGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Decrements `counter` if it is above 0; true if it did.
fn take_one(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
}

impl Capacity {
    /// Starts the model with `initial` serving replicas, clock starting now,
    /// and spawns the task that brings starting replicas into service. Needs
    /// a tokio runtime.
    pub fn start(settings: CapacitySettings, initial: u32) -> Self {
        let replicas = Replicas::new(initial).with_never_ready(settings.never_ready_replicas);
        let granted =
            replicas.serving(Duration::ZERO) as usize * settings.concurrency_per_replica as usize;
        let shared = Arc::new(Shared {
            settings,
            start: Instant::now(),
            semaphore: Arc::new(Semaphore::new(granted)),
            debt: AtomicUsize::new(0),
            queued: AtomicUsize::new(0),
            state: Mutex::new(Pool {
                replicas,
                granted,
                busy: BusyTime::default(),
            }),
            changed: Arc::new(Notify::new()),
        });
        tokio::spawn(controller(
            Arc::downgrade(&shared),
            Arc::clone(&shared.changed),
        ));
        Capacity { shared }
    }

    /// Time since the model started.
    pub fn elapsed(&self) -> Duration {
        self.shared.start.elapsed()
    }

    /// The Deployment's replicas (`spec.replicas`): serving and starting.
    pub fn desired(&self) -> u32 {
        self.state().replicas.desired()
    }

    /// Replicas serving now.
    pub fn serving(&self) -> u32 {
        let now = self.elapsed();
        self.state().replicas.serving(now)
    }

    /// The Deployment's status now, as the API server would report it.
    pub fn status(&self) -> DeploymentStatus {
        let now = self.elapsed();
        self.state().replicas.status(now)
    }

    /// Requests waiting for a slot now.
    pub fn queued(&self) -> usize {
        self.shared.queued.load(Ordering::Relaxed)
    }

    /// Most requests that may wait: what the serving replicas' slots get
    /// through in `maxQueueTime`.
    pub fn queue_limit(&self) -> usize {
        let slots = self.state().granted;
        let settings = &self.shared.settings;
        let rounds =
            settings.max_queue_time.as_secs_f64() / settings.service_time.as_secs_f64().max(1e-6);
        (slots as f64 * rounds).floor() as usize
    }

    /// The pods now, and each one's busy slot-seconds so far.
    pub fn pods(&self) -> Vec<(Pod, f64)> {
        let now = self.elapsed();
        let mut state = self.state();
        let Pool { replicas, busy, .. } = &mut *state;
        busy.advance(now, replicas, self.shared.settings.concurrency_per_replica);
        replicas
            .pods()
            .iter()
            .map(|pod| (pod.clone(), busy.of(&pod.name)))
            .collect()
    }

    /// Scales the Deployment to `count` replicas.
    pub fn scale_to(&self, count: u32) {
        let now = self.elapsed();
        {
            let mut state = self.state();
            let Pool { replicas, busy, .. } = &mut *state;
            busy.advance(now, replicas, self.shared.settings.concurrency_per_replica);
            state
                .replicas
                .scale_to(count, now, self.shared.settings.startup_delay);
            reconcile(&self.shared, &mut state, now);
        }
        self.shared.changed.notify_one();
    }

    /// Waits for a request slot, queueing behind earlier requests.
    pub async fn admit(&self) -> Slot {
        self.shared.queued.fetch_add(1, Ordering::Relaxed);
        let _queued = QueuedGuard(&self.shared.queued);
        // The semaphore is never closed, so acquiring only ever waits.
        let permit = Arc::clone(&self.shared.semaphore)
            .acquire_owned()
            .await
            .ok();
        if permit.is_some() {
            self.shared.busy_change(true);
        }
        Slot {
            permit,
            shared: Arc::clone(&self.shared),
        }
    }

    /// Puts the model in front of `router`: every request waits for a slot,
    /// holds it for the service time, then is answered by the router.
    pub fn layer(&self, router: Router) -> Router {
        router.layer(axum::middleware::from_fn_with_state(self.clone(), serve))
    }

    fn state(&self) -> MutexGuard<'_, Pool> {
        lock(&self.shared.state)
    }
}

fn lock(state: &Mutex<Pool>) -> MutexGuard<'_, Pool> {
    // The lock is never held across a panic-prone call; recover if it was.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Brings the permits in line with the replicas serving at `now` (and the
/// busy time up to `now`, before the serving pods change).
fn reconcile(shared: &Shared, state: &mut Pool, now: Duration) {
    let Pool { replicas, busy, .. } = &mut *state;
    busy.advance(now, replicas, shared.settings.concurrency_per_replica);
    let target =
        state.replicas.serving(now) as usize * shared.settings.concurrency_per_replica as usize;
    if target > state.granted {
        let mut add = target - state.granted;
        while add > 0 && take_one(&shared.debt) {
            add -= 1;
        }
        shared.semaphore.add_permits(add);
    } else if target < state.granted {
        let remove = state.granted - target;
        let forgotten = shared.semaphore.forget_permits(remove);
        shared.debt.fetch_add(remove - forgotten, Ordering::AcqRel);
    }
    state.granted = target;
}

/// Adds the permits of starting replicas when they begin serving; ends when
/// the model is dropped.
async fn controller(shared: std::sync::Weak<Shared>, changed: Arc<Notify>) {
    loop {
        let Some(strong) = shared.upgrade() else {
            return;
        };
        let now = strong.start.elapsed();
        let next = {
            let mut state = lock(&strong.state);
            reconcile(&strong, &mut state, now);
            state.replicas.next_ready(now)
        };
        let wake = match next {
            Some(ready) => strong.start + ready,
            // Re-check now and then so the task notices the model is gone.
            None => Instant::now() + Duration::from_secs(1),
        };
        let notified = changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        drop(strong);
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {}
            () = notified => {}
        }
    }
}

/// The middleware: a slot (or 503 when the queue is full or the wait too
/// long), the service time, then the router's answer.
async fn serve(
    extract::State(capacity): extract::State<Capacity>,
    request: Request,
    next: Next,
) -> Response {
    let max_queue_time = capacity.shared.settings.max_queue_time;
    let unavailable = |why: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{why}; expected a free replica within {} ms",
                max_queue_time.as_millis()
            ),
        )
            .into_response()
    };
    if capacity.queued() >= capacity.queue_limit() {
        return unavailable("the queue is full");
    }
    let slot = match tokio::time::timeout(max_queue_time, capacity.admit()).await {
        Ok(slot) if slot.permit.is_some() => slot,
        _ => return unavailable("no replica was free in time"),
    };
    tokio::time::sleep(capacity.shared.settings.service_time).await;
    let response = next.run(request).await;
    drop(slot);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn new_replicas_serve_after_the_startup_delay() {
        let mut replicas = Replicas::new(2);
        replicas.scale_to(4, secs(10), secs(5));
        assert_eq!(replicas.desired(), 4);
        assert_eq!(replicas.serving(secs(14)), 2);
        assert_eq!(replicas.next_ready(secs(14)), Some(secs(15)));
        assert_eq!(replicas.serving(secs(15)), 4);
        assert_eq!(replicas.next_ready(secs(15)), None);
    }

    #[test]
    fn replicas_that_never_get_ready_stay_as_many_through_scaling() {
        let mut replicas = Replicas::new(3).with_never_ready(1);
        assert_eq!((replicas.desired(), replicas.serving(secs(0))), (3, 2));
        assert_eq!(replicas.next_ready(secs(0)), None, "never is not a time");
        replicas.scale_to(5, secs(10), secs(5));
        assert_eq!(replicas.serving(secs(14)), 2);
        assert_eq!(
            replicas.serving(secs(15)),
            4,
            "new ones serve, one stays bad"
        );
        assert_eq!(replicas.status(secs(15)).ready_replicas, 4);
        replicas.scale_to(2, secs(20), secs(5));
        assert_eq!((replicas.desired(), replicas.serving(secs(20))), (2, 1));
        replicas.scale_to(1, secs(30), secs(5));
        assert_eq!(replicas.serving(secs(30)), 0, "the one left is the bad one");
    }

    #[test]
    fn the_status_counts_starting_replicas_as_not_ready_and_omits_zeros() {
        let mut replicas = Replicas::new(1);
        replicas.scale_to(4, secs(10), secs(5));
        let status = replicas.status(secs(12));
        assert_eq!(
            serde_json::to_value(status).unwrap(),
            serde_json::json!({"replicas": 4, "readyReplicas": 1, "availableReplicas": 1,
                "updatedReplicas": 4})
        );
        assert_eq!(replicas.status(secs(15)).ready_replicas, 4);
        // A Deployment whose replicas are all starting has no readyReplicas.
        let mut cold = Replicas::new(0);
        cold.scale_to(2, secs(0), secs(5));
        assert_eq!(
            serde_json::to_value(cold.status(secs(1))).unwrap(),
            serde_json::json!({"replicas": 2, "updatedReplicas": 2})
        );
        assert_eq!(
            serde_json::to_value(Replicas::new(0).status(secs(0))).unwrap(),
            serde_json::json!({})
        );
    }

    #[test]
    fn busy_slots_are_shared_by_the_serving_pods_and_capped_at_their_slots() {
        let mut replicas = Replicas::new(2);
        replicas.scale_to(3, secs(0), secs(10));
        let names: Vec<String> = replicas.pods().iter().map(|p| p.name.clone()).collect();
        assert_eq!(
            names,
            ["fibonacci-00001", "fibonacci-00002", "fibonacci-00003"]
        );
        assert_eq!(replicas.pods()[2].created_at, Some(secs(0)));
        let mut busy = BusyTime {
            busy: 6,
            ..BusyTime::default()
        };
        // 6 busy slots over the 2 serving pods for 10 s; the starting one has none.
        busy.advance(secs(10), &replicas, 4);
        assert_eq!(
            names.iter().map(|n| busy.of(n)).collect::<Vec<_>>(),
            [30.0, 30.0, 0.0]
        );
        // Then over 3 for 3 s.
        busy.advance(secs(13), &replicas, 4);
        assert_eq!(busy.of(&names[2]), 6.0);
        // More busy slots than the serving pods have (a removed pod's last
        // requests): each is capped at its own 4.
        replicas.scale_to(1, secs(13), secs(10));
        busy.advance(secs(14), &replicas, 4);
        assert_eq!(busy.of(&names[0]), 30.0 + 6.0 + 4.0);
        // A new pod gets a new name.
        replicas.scale_to(2, secs(14), secs(10));
        assert_eq!(replicas.pods()[1].name, "fibonacci-00004");
    }

    #[tokio::test]
    async fn a_held_slot_counts_as_busy_time_of_a_serving_pod() {
        let capacity = Capacity::start(settings(Duration::ZERO), 1);
        let held = futures_admit(&capacity, 2).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(held);
        let pods = capacity.pods();
        assert_eq!(pods.len(), 1);
        // Two slots for at least 100 ms.
        assert!(pods[0].1 >= 0.2, "{pods:?}");
        let before = pods[0].1;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(capacity.pods()[0].1, before, "no slot held since");
    }

    #[test]
    fn a_scale_down_removes_starting_replicas_first() {
        let mut replicas = Replicas::new(2);
        replicas.scale_to(5, secs(10), secs(5));
        replicas.scale_to(3, secs(12), secs(5));
        assert_eq!(replicas.desired(), 3);
        assert_eq!(replicas.serving(secs(12)), 2);
        assert_eq!(replicas.serving(secs(15)), 3);
        replicas.scale_to(1, secs(20), secs(5));
        assert_eq!(replicas.serving(secs(20)), 1);
    }

    #[test]
    fn one_replica_completes_concurrency_over_service_time_per_second() {
        let settings = CapacitySettings {
            concurrency_per_replica: 4,
            service_time: Duration::from_millis(50),
            startup_delay: Duration::ZERO,
            max_queue_time: Duration::from_secs(1),
            never_ready_replicas: 0,
        };
        assert_eq!(settings.requests_per_second_per_replica(), 80.0);
    }

    fn settings(startup_delay: Duration) -> CapacitySettings {
        CapacitySettings {
            concurrency_per_replica: 2,
            service_time: Duration::from_millis(10),
            startup_delay,
            max_queue_time: Duration::from_millis(300),
            never_ready_replicas: 0,
        }
    }

    #[tokio::test]
    async fn slots_are_replicas_times_concurrency() {
        let capacity = Capacity::start(settings(Duration::ZERO), 3);
        assert_eq!(capacity.shared.semaphore.available_permits(), 6);
        // 6 slots of 10 ms each get through 180 requests in 300 ms.
        assert_eq!(capacity.queue_limit(), 180);
        capacity.scale_to(1);
        assert_eq!(capacity.shared.semaphore.available_permits(), 2);
        assert_eq!(capacity.desired(), 1);
        assert_eq!(capacity.queue_limit(), 60);
        capacity.scale_to(0);
        assert_eq!(capacity.queue_limit(), 0);
    }

    #[tokio::test]
    async fn a_scale_down_while_slots_are_held_takes_them_back_on_release() {
        let capacity = Capacity::start(settings(Duration::ZERO), 2);
        let held: Vec<Slot> = futures_admit(&capacity, 4).await;
        capacity.scale_to(1);
        assert_eq!(capacity.shared.debt.load(Ordering::Acquire), 2);
        drop(held);
        assert_eq!(capacity.shared.semaphore.available_permits(), 2);
        assert_eq!(capacity.shared.debt.load(Ordering::Acquire), 0);
        // A scale-up while removals are owed cancels them first.
        let held = futures_admit(&capacity, 2).await;
        capacity.scale_to(0);
        capacity.scale_to(2);
        drop(held);
        assert_eq!(capacity.shared.semaphore.available_permits(), 4);
    }

    async fn futures_admit(capacity: &Capacity, n: usize) -> Vec<Slot> {
        let mut slots = Vec::new();
        for _ in 0..n {
            slots.push(capacity.admit().await);
        }
        slots
    }

    #[tokio::test]
    async fn a_new_replica_adds_slots_only_after_its_startup_delay() {
        let capacity = Capacity::start(settings(Duration::from_millis(300)), 1);
        capacity.scale_to(2);
        assert_eq!(capacity.desired(), 2);
        assert_eq!(capacity.serving(), 1);
        assert_eq!(capacity.shared.semaphore.available_permits(), 2);
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert_eq!(capacity.serving(), 2);
        assert_eq!(capacity.shared.semaphore.available_permits(), 4);
    }

    #[tokio::test]
    async fn requests_beyond_the_slots_queue_until_one_is_released() {
        let capacity = Capacity::start(settings(Duration::ZERO), 1);
        let held = futures_admit(&capacity, 2).await;
        let waiting = tokio::spawn({
            let capacity = capacity.clone();
            async move { capacity.admit().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(capacity.queued(), 1);
        assert!(!waiting.is_finished());
        drop(held);
        let slot = waiting.await.unwrap();
        assert!(slot.permit.is_some());
        assert_eq!(capacity.queued(), 0);
    }

    #[tokio::test]
    async fn the_service_answers_within_its_capacity_and_503s_when_its_queue_is_full() {
        let capacity = Capacity::start(
            CapacitySettings {
                concurrency_per_replica: 1,
                service_time: Duration::from_millis(200),
                startup_delay: Duration::ZERO,
                max_queue_time: Duration::from_millis(300),
                never_ready_replicas: 0,
            },
            1,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/fibonacci?n=10", listener.local_addr().unwrap());
        let app = capacity.layer(fibonacci_service::router());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::new();
        // One slot of 200 ms and a 300 ms queue (room for one): of three
        // requests at once two are served one after the other, one is refused.
        let started = Instant::now();
        let answers = futures_join(&client, &url, 3).await;
        let mut statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 200, 503]);
        assert!(
            answers
                .iter()
                .any(|(_, body)| body == "{\"n\":10,\"value\":55}")
        );
        assert!(started.elapsed() >= Duration::from_millis(400));
    }

    async fn futures_join(client: &reqwest::Client, url: &str, n: usize) -> Vec<(u16, String)> {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..n {
            let request = client.get(url);
            tasks.spawn(async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                (status, response.text().await.unwrap())
            });
        }
        let mut answers = Vec::new();
        while let Some(answer) = tasks.join_next().await {
            answers.push(answer.unwrap());
        }
        answers
    }
}
