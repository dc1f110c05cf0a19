//! What `gpa-evaluate --check` prints about the bound overrides: each
//! schedule window with its openings over the next 7 days (in its own time
//! zone), the budget's ceiling and the alert boosts active now. Nothing when
//! no override is configured.

use std::fmt::Write as _;
use std::path::Path;
use std::time::SystemTime;

use jiff::Timestamp;

use super::Settings;
use super::config::EvaluationConfig;
use super::schedule::{Schedule, format_local};
use crate::boosts::BoostsFile;

/// Days of openings listed per window.
pub const DAYS: i64 = 7;

/// The listing for `config` as of `now`; empty without overrides.
pub fn overrides(config: &EvaluationConfig, settings: &Settings, now: SystemTime) -> String {
    let now = Timestamp::try_from(now).unwrap_or(Timestamp::UNIX_EPOCH);
    let mut out = windows(config.schedule(), now);
    if let Some(budget) = config.budget {
        let _ = writeln!(
            out,
            "budget: maxCostPerHour {} / costPerReplicaHour {} = at most {} replicas",
            budget.max_cost_per_hour,
            budget.cost_per_replica_hour,
            budget.ceiling()
        );
    }
    if let Some(path) = &config.boosts_file {
        let _ = writeln!(
            out,
            "boosts file '{}': {}",
            path.display(),
            boosts(path, now)
        );
    }
    if config.has_overrides() {
        let cpa = super::cpa_bounds(settings);
        let _ = writeln!(
            out,
            "the CPA's bounds, applied last: minReplicas {}, maxReplicas {}",
            cpa.min, cpa.max
        );
    }
    out
}

/// Each window, its openings in the next [`DAYS`] days and the one in force.
fn windows(schedule: &Schedule, now: Timestamp) -> String {
    let mut out = String::new();
    if schedule.windows.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "schedule windows (the later one wins where they overlap), openings in the {DAYS} days from {now}:"
    );
    for (index, window) in schedule.windows.iter().enumerate() {
        let _ = writeln!(out, "  [{index}] {}: {}", window.name, window.describe());
        let openings = window.openings(now, DAYS);
        if openings.is_empty() {
            let _ = writeln!(out, "      no opening");
        }
        for opening in openings {
            let open_now = opening.opens.timestamp() <= now && now < opening.closes.timestamp();
            let _ = writeln!(
                out,
                "      {} -> {}{}",
                format_local(&opening.opens),
                format_local(&opening.closes),
                if open_now { "  (open now)" } else { "" }
            );
        }
    }
    let in_force = schedule
        .active(now)
        .map_or_else(|| "none".to_string(), |window| format!("'{}'", window.name));
    let _ = writeln!(out, "  in force now: {in_force}");
    out
}

/// The boosts active at `now` in the file at `path`, or why it cannot be read.
fn boosts(path: &Path, now: Timestamp) -> String {
    match BoostsFile::load(path) {
        Ok(file) => {
            let active: Vec<String> = file
                .active(now)
                .map(|boost| {
                    format!(
                        "'{}' ({}) until {}",
                        boost.rule, boost.alert, boost.expires_at
                    )
                })
                .collect();
            if active.is_empty() {
                "no boost active now".to_string()
            } else {
                format!("active now: {}", active.join(", "))
            }
        }
        Err(err) => err.to_string(),
    }
}
