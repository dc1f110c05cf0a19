//! The worked Prometheus example in `docs/prometheus.md` kept honest: its
//! evaluation config, with the report it shows and a learned level of 80
//! requests/s per replica, decides the decision line the page quotes.

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use goose_pod_autoscaler::evaluate::config::{Bounds, EvaluationConfig};
use goose_pod_autoscaler::evaluate::decision::{Observed, decide};
use goose_pod_autoscaler::report::LatencyReport;
use goose_pod_autoscaler::state::{DecayState, LearnedLoad};

const NOW: u64 = 1_800_000_000;

fn page() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/prometheus.md"))
        .unwrap()
}

/// The first fenced block of `language` after `after` in `text`.
fn block_after(text: &str, after: &str, language: &str) -> String {
    let from = text.find(after).unwrap_or_else(|| panic!("no '{after}'"));
    let fence = format!("```{language}\n");
    let start = from + text[from..].find(&fence).unwrap() + fence.len();
    let end = start + text[start..].find("```").unwrap();
    text[start..end].to_owned()
}

#[test]
fn the_worked_example_decides_the_line_the_page_quotes() {
    let page = page();
    let yaml = block_after(
        &page,
        "The evaluation config (the file both stages read)",
        "yaml",
    );
    let config = EvaluationConfig::parse_str(&yaml, Path::new("docs/prometheus.md")).unwrap();
    let report: LatencyReport = serde_json::from_str(
        r#"{"users": 4, "runTimeSeconds": 2.0, "requests": {"GET /fibonacci?n=10": {
            "method": "GET", "name": "/fibonacci?n=10", "count": 40, "failures": 0,
            "errorRate": 0.0, "requestsPerSecond": 20.0, "meanMs": 41.0, "medianMs": 40.0,
            "minMs": 30.0, "maxMs": 60.0, "p75Ms": 45.0, "p90Ms": 50.0, "p95Ms": 55.0,
            "p99Ms": 60.0}}, "load": {"queryValue": 140.0}}"#,
    )
    .unwrap();
    // three quiet runs at 4 replicas; 80 requests/s per replica met a minute
    // ago; the run before read about the same rate (a steady load), the
    // probe's 20 requests/s included
    let state = DecayState {
        runs_since_change: 3,
        last_seen_replicas: Some(4),
        last_target_replicas: Some(4),
        learned_query_load: Some(LearnedLoad {
            met_up_to_milli: Some(80_000),
            met_at_unix_seconds: Some(NOW - 60),
            sample_at_unix_seconds: Some(NOW as i64 - 20),
            sample_total_milli: Some(158_000),
            ..LearnedLoad::default()
        }),
        ..DecayState::default()
    };
    let decision = decide(
        &config,
        Bounds { min: 1, max: 10 },
        &report,
        Observed {
            current: 4,
            ready: Some(4),
            template_hash: None,
        },
        &state,
        UNIX_EPOCH + Duration::from_secs(NOW),
    )
    .unwrap();
    assert_eq!(decision.target_replicas, 2);
    let quoted = block_after(&page, "The decision line names both figures", "text");
    assert_eq!(quoted.trim(), decision.explanation);
    // the run taught nothing higher (40 is under 80) and kept this rate,
    // the probe's included
    let learned = decision.state.unwrap().learned_query_load.unwrap();
    assert_eq!(learned.met_up_to_milli, Some(80_000));
    assert_eq!(learned.sample_total_milli, Some(160_000));
}
