//! Does the scenario send what the targets judge? A target names a request
//! by method and endpoint (or name); a target whose request the scenario
//! never sends can never be judged, and the evaluate stage would fail every
//! interval at run time. Both stages check it before that: `gpa-metric` at
//! start (and, for compiled scenarios, whose requests are known only once
//! they ran, after its run), `gpa-evaluate --check` when it can see the
//! scenario file.

use std::path::{Path, PathBuf};

use crate::report::LatencyReport;
use crate::target::Target;

use super::ScenarioFile;

/// A target whose request the scenario never sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "evaluation config '{config}' targets[{index}] '{key}': the scenario never sends this request \
     ({what} sends {sent}); expected a target on a request the scenario sends (its method, and its \
     endpoint or name as the report names it), or that request added to the scenario"
)]
pub struct UnrequestedTarget {
    /// The evaluation config.
    pub config: PathBuf,
    /// The target's index in `targets`.
    pub index: usize,
    /// The target's request key, `"<METHOD> <name>"`.
    pub key: String,
    /// What sends the requests: `scenario file '<path>'`, or `the run`.
    pub what: String,
    /// The request keys sent, comma-separated (the first 20 and how many
    /// more), or `nothing`.
    pub sent: String,
}

/// Every request key (`"<METHOD> <name>"`, as the report names them) a
/// scenario file sends, in file order, each once.
pub fn request_keys(file: &ScenarioFile) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for plan in file.scenarios.iter().flat_map(|s| &s.transactions) {
        let key = LatencyReport::key(plan.method.as_str(), &plan.name);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// The first of `targets` (of the evaluation config at `config_path`) whose
/// request is not among `sent`; `what` says what sent them, for the message.
pub fn first_unrequested(
    targets: &[Target],
    config_path: &Path,
    sent: &[String],
    what: &str,
) -> Result<(), UnrequestedTarget> {
    for (index, target) in targets.iter().enumerate() {
        let key = target.request_key();
        if !sent.contains(&key) {
            return Err(UnrequestedTarget {
                config: config_path.to_owned(),
                index,
                key,
                what: what.to_string(),
                sent: listing(sent),
            });
        }
    }
    Ok(())
}

/// `GET /a, POST /b`, the first 20 and how many more, or `nothing`.
fn listing(keys: &[String]) -> String {
    const SHOWN: usize = 20;
    if keys.is_empty() {
        return "nothing".into();
    }
    let mut text = keys
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if keys.len() > SHOWN {
        text.push_str(&format!(" and {} more", keys.len() - SHOWN));
    }
    text
}

/// The check the metric stage makes at start: with no compiled scenarios,
/// every one of `targets` must be a request of the scenario file at
/// `scenario_path` (compiled scenarios' requests are known only after the
/// run: see [`unmeasured_after_run`]).
pub fn check_before_run(
    targets: &[Target],
    config_path: &Path,
    scenario_path: Option<&Path>,
    has_compiled: bool,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<()> {
    if has_compiled {
        return Ok(());
    }
    let Some(scenario_path) = scenario_path else {
        return Ok(());
    };
    let file = ScenarioFile::load(scenario_path, env)?;
    first_unrequested(
        targets,
        config_path,
        &request_keys(&file),
        &format!("scenario file '{}'", scenario_path.display()),
    )?;
    Ok(())
}

/// The check `gpa-evaluate --check` makes when it can see the scenario
/// file: the one `scenarioFilePath` names, else `/scenario.yaml` if it
/// exists (the metric stage's default; both stages share one environment).
/// The scenario file checked, or `None` when there is none to see.
pub fn check_evaluation_config(
    targets: &[Target],
    config_path: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<PathBuf>> {
    let named = env(crate::setting_names::metric::SCENARIO_FILE.variable)
        .filter(|value| !value.trim().is_empty())
        .map(|value| PathBuf::from(value.trim()));
    let path = match named {
        Some(path) => path,
        None => {
            let default = PathBuf::from(crate::metric::DEFAULT_SCENARIO_FILE);
            if !default.exists() {
                return Ok(None);
            }
            default
        }
    };
    let file = ScenarioFile::load(&path, env)?;
    first_unrequested(
        targets,
        config_path,
        &request_keys(&file),
        &format!("scenario file '{}'", path.display()),
    )?;
    Ok(Some(path))
}

/// After a run with compiled scenarios: the targets whose request the run
/// never sent, as the warning lines to log (the evaluate stage will refuse
/// the report; this says why before it does).
pub fn unmeasured_after_run(
    targets: &[Target],
    config_path: &Path,
    report: &LatencyReport,
) -> Vec<String> {
    let measured: Vec<String> = report.requests.keys().cloned().collect();
    targets
        .iter()
        .enumerate()
        .filter(|(_, target)| !measured.contains(&target.request_key()))
        .map(|(index, target)| {
            UnrequestedTarget {
                config: config_path.to_owned(),
                index,
                key: target.request_key(),
                what: "the run".into(),
                sent: listing(&measured),
            }
            .to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(targets: &str) -> Vec<Target> {
        crate::metric::evaluation_config::WatchedConfig::parse_str(
            &format!("targets:\n{targets}"),
            Path::new("e.yaml"),
        )
        .unwrap()
        .targets
    }

    fn scenario(text: &str) -> ScenarioFile {
        ScenarioFile::parse(Path::new("s.yaml"), text, |_| None).unwrap()
    }

    const SCENARIO: &str = "scenarios:\n  - name: shop\n    transactions:\n      - path: /fibonacci?n=10\n      - method: POST\n        path: /cart\n        name: cart\n      - path: /fibonacci?n=10\n";

    #[test]
    fn the_scenario_s_requests_are_keyed_as_the_report_keys_them() {
        assert_eq!(
            request_keys(&scenario(SCENARIO)),
            ["GET /fibonacci?n=10", "POST cart"]
        );
    }

    #[test]
    fn a_target_on_a_request_never_sent_is_named_with_what_is_sent() {
        let sent = request_keys(&scenario(SCENARIO));
        let ok = config(
            "  - {method: get, endpoint: /fibonacci?n=10, type: mean, target: 100}\n  - {method: POST, name: cart, type: p95, target: 300}\n",
        );
        assert_eq!(
            first_unrequested(&ok, Path::new("e.yaml"), &sent, "scenario file 's.yaml'"),
            Ok(())
        );
        let missing = config(
            "  - {method: GET, endpoint: /fibonacci?n=10, type: mean, target: 100}\n  - {method: GET, endpoint: /cart, type: mean, target: 100}\n",
        );
        assert_eq!(
            first_unrequested(
                &missing,
                Path::new("e.yaml"),
                &sent,
                "scenario file 's.yaml'"
            )
            .unwrap_err()
            .to_string(),
            "evaluation config 'e.yaml' targets[1] 'GET /cart': the scenario never sends this \
             request (scenario file 's.yaml' sends GET /fibonacci?n=10, POST cart); expected a \
             target on a request the scenario sends (its method, and its endpoint or name as the \
             report names it), or that request added to the scenario"
        );
    }

    #[test]
    fn after_a_compiled_run_each_target_it_never_measured_is_one_warning() {
        let stats = r#"{"method": "GET", "name": "/fibonacci?n=10", "count": 12, "failures": 0,
            "errorRate": 0, "requestsPerSecond": 6, "meanMs": 50, "medianMs": 50, "minMs": 49,
            "maxMs": 52, "p75Ms": 51, "p90Ms": 51, "p95Ms": 52, "p99Ms": 52}"#;
        let report: LatencyReport = serde_json::from_str(&format!(
            r#"{{"requests": {{"GET /fibonacci?n=10": {stats}}}}}"#
        ))
        .unwrap();
        let targets = config(
            "  - {method: GET, endpoint: /fibonacci?n=10, type: mean, target: 100}
  - {method: POST, name: cart, type: p95, target: 300}
",
        );
        assert_eq!(
            unmeasured_after_run(&targets, Path::new("e.yaml"), &report),
            [
                "evaluation config 'e.yaml' targets[1] 'POST cart': the scenario never sends this \
              request (the run sends GET /fibonacci?n=10); expected a target on a request the \
              scenario sends (its method, and its endpoint or name as the report names it), or \
              that request added to the scenario"
            ]
        );
        // every target measured: nothing to say
        assert!(unmeasured_after_run(&targets[..1], Path::new("e.yaml"), &report).is_empty());
    }

    #[test]
    fn a_long_listing_is_cut_at_twenty() {
        let keys: Vec<String> = (0..23).map(|n| format!("GET /{n}")).collect();
        let text = listing(&keys);
        assert!(text.ends_with("GET /19 and 3 more"), "{text}");
        assert_eq!(listing(&[]), "nothing");
    }
}
