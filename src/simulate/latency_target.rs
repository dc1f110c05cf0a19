//! The latency target the simulator judges its background traffic on,
//! second by second: the first target of the evaluation config it can
//! judge, read leniently (the evaluate stage checks the file).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::traffic::{SecondTraffic, percentile};
use crate::target::{Statistic, TargetKind};

/// A latency target read from the evaluation config, used to judge the
/// background traffic second by second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencyTarget {
    /// The target's `method`.
    pub method: String,
    /// The target's `endpoint` (or `name`): the request's name in the report.
    #[serde(alias = "name")]
    pub endpoint: String,
    /// The statistic: `mean`, `median`, `min`, `max`, `p50`..`p99` or `errorRate`.
    #[serde(rename = "type")]
    pub kind: TargetKind,
    /// The target value: milliseconds, or a fraction for `errorRate`.
    pub target: f64,
}

impl LatencyTarget {
    /// This target's statistic over one second of background traffic; `None`
    /// for a second with no data.
    pub fn value(&self, second: &SecondTraffic) -> Option<f64> {
        let latencies = &second.latencies_ms;
        let answered = second.succeeded + second.failed;
        match self.kind.statistic() {
            Statistic::Mean => (!latencies.is_empty())
                .then(|| latencies.iter().sum::<f64>() / latencies.len() as f64),
            Statistic::Quantile(p) => percentile(latencies, p),
            Statistic::ErrorRate => (answered > 0).then(|| second.failed as f64 / answered as f64),
        }
    }
}

/// One entry of the evaluation config's `targets`: a target the simulator
/// can judge traffic on, or anything else (an unknown `type`, a missing key).
#[derive(Deserialize)]
#[serde(untagged)]
enum TargetEntry {
    Judgeable(LatencyTarget),
    Other(serde::de::IgnoredAny),
}

/// The evaluation config's targets, read leniently: only what the simulator
/// needs to judge traffic, every other key ignored.
#[derive(Deserialize)]
struct TargetsOnly {
    #[serde(default)]
    targets: Vec<TargetEntry>,
}

/// The first target of the evaluation config `text` that the simulator can
/// judge background traffic on; `None` if there is none or the text does not
/// parse (the evaluate stage will say what is wrong with it).
pub fn parse_target(text: &str) -> Option<LatencyTarget> {
    let config: TargetsOnly = serde_saphyr::from_str(text).ok()?;
    config.targets.into_iter().find_map(|entry| match entry {
        TargetEntry::Judgeable(target) => Some(target),
        TargetEntry::Other(_) => None,
    })
}

/// [`parse_target`] of the file at `path`; `None` if it cannot be read.
pub fn read_target(path: &Path) -> Option<LatencyTarget> {
    parse_target(&std::fs::read_to_string(path).ok()?)
}

/// Whether one second of background traffic missed `target`: its statistic
/// is above the target, or some of its requests failed or were dropped.
pub fn second_over_target(target: &LatencyTarget, second: &SecondTraffic) -> bool {
    let missed_requests = second.dropped > 0 || (second.failed > 0 && target.kind.is_latency());
    missed_requests
        || target
            .value(second)
            .is_some_and(|value| value > target.target)
}
