//! The background traffic: open-loop requests at the rate of a load profile,
//! started on schedule whether or not earlier ones have been answered, and
//! what each second of it saw.
//!
//! It is bounded: at most `max_in_flight` requests wait at once (the ones
//! over are counted as dropped, not sent), each gives up after a timeout, and
//! it only ever talks to the simulated service on 127.0.0.1.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::profile::LoadProfile;
use crate::report::nearest_rank;

/// How the background traffic is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficSettings {
    /// Most requests waiting for an answer at once; more are dropped.
    pub max_in_flight: usize,
    /// How long a request waits for its answer before it counts as failed.
    pub request_timeout: Duration,
}

/// What the background requests started in one second saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecondTraffic {
    /// Requests started (sent).
    pub sent: u64,
    /// Requests not sent because `max_in_flight` were already waiting.
    pub dropped: u64,
    /// Requests answered with a 2xx status.
    pub succeeded: u64,
    /// Requests that failed: an error status, no answer, or a timeout.
    pub failed: u64,
    /// Response times of the succeeded requests, milliseconds.
    pub latencies_ms: Vec<f64>,
}

impl SecondTraffic {
    /// Mean response time of the succeeded requests, milliseconds.
    pub fn mean_ms(&self) -> Option<f64> {
        (!self.latencies_ms.is_empty())
            .then(|| self.latencies_ms.iter().sum::<f64>() / self.latencies_ms.len() as f64)
    }

    /// Nearest-rank percentile `p` (0 to 1) of the succeeded requests'
    /// response times, milliseconds.
    pub fn percentile_ms(&self, p: f64) -> Option<f64> {
        percentile(&self.latencies_ms, p)
    }
}

/// Nearest-rank percentile `p` (0 to 1) of `values` in any order, ranked as
/// the report ranks them ([`nearest_rank`]); `None` when empty.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    nearest_rank(&sorted, p)
}

/// The traffic seen so far, one entry per second since the start; shared
/// between the sender and its requests.
#[derive(Debug, Clone, Default)]
pub struct TrafficLog {
    seconds: Arc<Mutex<Vec<SecondTraffic>>>,
}

impl TrafficLog {
    fn update(&self, second: usize, change: impl FnOnce(&mut SecondTraffic)) {
        let mut seconds = self.seconds.lock().unwrap_or_else(|p| p.into_inner());
        if seconds.len() <= second {
            seconds.resize_with(second + 1, SecondTraffic::default);
        }
        change(&mut seconds[second]);
    }

    /// A copy of every second so far.
    pub fn snapshot(&self) -> Vec<SecondTraffic> {
        self.seconds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Sends the profile's traffic to `url`, from `start`, until the profile ends,
/// then waits for the requests still out (each bounded by its timeout).
pub async fn send(
    profile: LoadProfile,
    url: String,
    settings: TrafficSettings,
    start: Instant,
    log: TrafficLog,
) {
    let client = match reqwest::Client::builder()
        .timeout(settings.request_timeout)
        .no_proxy()
        .build()
    {
        Ok(client) => client,
        Err(err) => {
            tracing::error!("building the background traffic's HTTP client failed: {err}");
            return;
        }
    };
    let in_flight = Arc::new(Semaphore::new(settings.max_in_flight));
    let mut next = Duration::ZERO;
    let mut requests = tokio::task::JoinSet::new();
    while let Some(rate) = profile.rate_at(next) {
        if rate < 0.01 {
            // A silent step: look again a little later.
            next += Duration::from_millis(100);
            continue;
        }
        tokio::time::sleep_until(start + next).await;
        let second = next.as_secs() as usize;
        next += Duration::from_secs_f64(1.0 / rate);
        let Ok(permit) = Arc::clone(&in_flight).try_acquire_owned() else {
            log.update(second, |s| s.dropped += 1);
            continue;
        };
        log.update(second, |s| s.sent += 1);
        let request = client.get(&url);
        let log = log.clone();
        requests.spawn(async move {
            let sent = Instant::now();
            let answer = match request.send().await {
                Ok(response) if response.status().is_success() => response.bytes().await.is_ok(),
                _ => false,
            };
            let latency_ms = sent.elapsed().as_secs_f64() * 1000.0;
            log.update(second, |s| {
                if answer {
                    s.succeeded += 1;
                    s.latencies_ms.push(latency_ms);
                } else {
                    s.failed += 1;
                }
            });
            drop(permit);
        });
        // Reap finished requests so the set stays small.
        while requests.try_join_next().is_some() {}
    }
    while requests.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.95), Some(19.0));
        assert_eq!(percentile(&values, 0.5), Some(10.0));
        assert_eq!(percentile(&values, 1.0), Some(20.0));
        assert_eq!(percentile(&values, 0.0), Some(1.0));
        assert_eq!(percentile(&[], 0.5), None);
        let second = SecondTraffic {
            latencies_ms: vec![10.0, 30.0],
            ..SecondTraffic::default()
        };
        assert_eq!(second.mean_ms(), Some(20.0));
    }

    #[tokio::test]
    async fn sends_the_profiles_requests_and_logs_them_by_second() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, fibonacci_service::router())
                .await
                .ok();
        });
        let profile = LoadProfile::parse_str(
            "steps:\n  - durationSeconds: 1\n    requestsPerSecond: 40\n  \
             - durationSeconds: 0.5\n    requestsPerSecond: 0\n  \
             - durationSeconds: 0.5\n    requestsPerSecond: 20\n",
            std::path::Path::new("test.yaml"),
        )
        .unwrap();
        let log = TrafficLog::default();
        let settings = TrafficSettings {
            max_in_flight: 100,
            request_timeout: Duration::from_secs(2),
        };
        let url = format!("http://{address}/fibonacci?n=10");
        send(profile, url, settings, Instant::now(), log.clone()).await;
        let seconds = log.snapshot();
        assert_eq!(seconds.len(), 2);
        assert_eq!(seconds[0].sent, 40);
        assert_eq!(seconds[1].sent, 10);
        assert_eq!(seconds[0].succeeded + seconds[1].succeeded, 50);
        assert!(seconds[0].mean_ms().is_some());
    }

    #[tokio::test]
    async fn requests_over_the_in_flight_bound_are_dropped_not_sent() {
        // A server that accepts and never answers: every request stays out.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let _server = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let profile = LoadProfile::parse_str(
            "steps:\n  - durationSeconds: 0.5\n    requestsPerSecond: 40\n",
            std::path::Path::new("test.yaml"),
        )
        .unwrap();
        let log = TrafficLog::default();
        let settings = TrafficSettings {
            max_in_flight: 5,
            request_timeout: Duration::from_millis(800),
        };
        let url = format!("http://{address}/");
        send(profile, url, settings, Instant::now(), log.clone()).await;
        let seconds = log.snapshot();
        assert_eq!(seconds[0].sent, 5);
        assert_eq!(seconds[0].dropped, 15);
        assert_eq!(seconds[0].failed, 5);
    }
}
