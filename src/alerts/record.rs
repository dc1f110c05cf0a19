//! What one notification does to the boosts: a pure function of (boosts,
//! notification, rules, now). Expired boosts are pruned first. A firing
//! alert that matches a rule records or refreshes the boost
//! `<fingerprint>/<rule>`, expiring `holdMinutes` after `now`, unless the
//! file already holds [`MAX_BOOSTS`]; a resolved alert ends every boost with
//! its fingerprint. The caller loads and saves the file around it.
//!
//! Bounded time: each alert costs a hash lookup per matching rule, and the
//! resolved ones one pass over the (capped) boosts.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use jiff::{SignedDuration, Timestamp};

use super::config::Rule;
use super::webhook::{Alert, Notification, Status};
use crate::boosts::{Boost, BoostsFile, MAX_BOOSTS, MAX_NAME_CHARS};
use crate::escape::one_line;

/// Boosts named one by one in a line, per kind of change; the rest are
/// counted, so the line stays short however large the notification.
pub const MAX_LISTED: usize = 10;

/// What [`apply`] changed, for the log line and the response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Boosts added, as (id, floor, expiry).
    pub recorded: Vec<(String, String, Timestamp)>,
    /// Boosts that existed and got a new expiry, as (id, floor, expiry).
    pub refreshed: Vec<(String, String, Timestamp)>,
    /// Boosts ended by a resolved alert (ids).
    pub ended: Vec<String>,
    /// Expired boosts removed.
    pub pruned: usize,
    /// Firing alerts that matched no rule.
    pub unmatched: usize,
    /// Boosts not recorded because the file held [`MAX_BOOSTS`].
    pub refused: usize,
    /// True when a recorded or refreshed boost sets a floor that no boost
    /// active before the notification set: a rule newly active, or a rule
    /// whose `minReplicas`/`addReplicas` changed. Only then is an evaluation
    /// worth asking for.
    pub floor_changed: bool,
}

impl Changes {
    /// True when the boosts file must be written.
    pub fn changed_file(&self) -> bool {
        !(self.recorded.is_empty()
            && self.refreshed.is_empty()
            && self.ended.is_empty()
            && self.pruned == 0)
    }

    /// True when a firing alert recorded or refreshed a boost.
    pub fn boosted(&self) -> bool {
        !(self.recorded.is_empty() && self.refreshed.is_empty())
    }
}

impl fmt::Display for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (verb, list) in [("recorded", &self.recorded), ("refreshed", &self.refreshed)] {
            for (id, floor, expires) in list.iter().take(MAX_LISTED) {
                parts.push(format!("{verb} boost {id} ({floor} until {expires})"));
            }
            if let Some(more) = list.len().checked_sub(MAX_LISTED).filter(|&n| n > 0) {
                parts.push(format!("{verb} {more} more boost(s)"));
            }
        }
        for id in self.ended.iter().take(MAX_LISTED) {
            parts.push(format!("ended boost {id} (alert resolved)"));
        }
        if let Some(more) = self.ended.len().checked_sub(MAX_LISTED).filter(|&n| n > 0) {
            parts.push(format!("ended {more} more boost(s) (alerts resolved)"));
        }
        if self.pruned > 0 {
            parts.push(format!("pruned {} expired boost(s)", self.pruned));
        }
        if self.unmatched > 0 {
            parts.push(format!(
                "{} firing alert(s) matched no rule",
                self.unmatched
            ));
        }
        if self.refused > 0 {
            parts.push(format!(
                "{} boost(s) not recorded: the boosts file holds its maximum of {MAX_BOOSTS}",
                self.refused
            ));
        }
        if parts.is_empty() {
            parts.push("no boost changed".into());
        }
        f.write_str(&parts.join("; "))
    }
}

/// A rule's floor as a boost carries it: (rule, minReplicas, addReplicas).
type Floor = (String, Option<u32>, Option<u32>);

/// Applies `notification` to `file` at `now` (the time it was received).
pub fn apply(
    file: &mut BoostsFile,
    notification: &Notification,
    rules: &[Rule],
    now: Timestamp,
) -> Changes {
    let mut changes = Changes::default();
    let before = file.boosts.len();
    file.boosts.retain(|boost| boost.expires_at > now);
    changes.pruned = before - file.boosts.len();
    let floors_before: HashSet<Floor> = file.boosts.iter().map(floor_of).collect();
    let mut index: HashMap<String, usize> = file
        .boosts
        .iter()
        .enumerate()
        .map(|(at, boost)| (boost.id.clone(), at))
        .collect();
    let mut resolved = BTreeSet::new();
    for alert in &notification.alerts {
        match alert.status {
            Status::Firing => fire(file, &mut index, alert, rules, now, &mut changes),
            Status::Resolved => {
                resolved.insert(alert.fingerprint.as_str());
            }
        }
    }
    if !resolved.is_empty() {
        file.boosts.retain(|boost| {
            let fingerprint = boost.id.split('/').next().unwrap_or("");
            let ends = resolved.contains(fingerprint);
            if ends {
                changes.ended.push(boost.id.clone());
            }
            !ends
        });
    }
    let touched: HashSet<&str> = (changes.recorded.iter())
        .chain(&changes.refreshed)
        .map(|(id, ..)| id.as_str())
        .collect();
    changes.floor_changed = file
        .boosts
        .iter()
        .filter(|boost| touched.contains(boost.id.as_str()))
        .any(|boost| !floors_before.contains(&floor_of(boost)));
    changes
}

/// The floor `boost` sets.
fn floor_of(boost: &Boost) -> Floor {
    (boost.rule.clone(), boost.min_replicas, boost.add_replicas)
}

/// Records or refreshes the boosts of one firing alert.
fn fire(
    file: &mut BoostsFile,
    index: &mut HashMap<String, usize>,
    alert: &Alert,
    rules: &[Rule],
    now: Timestamp,
    changes: &mut Changes,
) {
    let mut matched = false;
    for rule in rules.iter().filter(|rule| rule.matches(&alert.labels)) {
        matched = true;
        let id = format!("{}/{}", alert.fingerprint, rule.name);
        let hold = SignedDuration::from_mins(i64::from(rule.hold_minutes));
        let expires_at = now.checked_add(hold).unwrap_or(Timestamp::MAX);
        let floor = match (rule.min_replicas, rule.add_replicas) {
            (Some(min), _) => format!("at least {min} replicas"),
            (None, add) => format!("{} more replicas", add.unwrap_or(0)),
        };
        let entry = (id.clone(), floor, expires_at);
        if let Some(boost) = index.get(&id).and_then(|&at| file.boosts.get_mut(at)) {
            boost.min_replicas = rule.min_replicas;
            boost.add_replicas = rule.add_replicas;
            boost.expires_at = expires_at;
            changes.refreshed.push(entry);
        } else if file.boosts.len() >= MAX_BOOSTS {
            changes.refused += 1;
        } else {
            index.insert(id.clone(), file.boosts.len());
            file.boosts.push(Boost {
                id,
                rule: rule.name.clone(),
                alert: one_line(alert.name(), MAX_NAME_CHARS),
                min_replicas: rule.min_replicas,
                add_replicas: rule.add_replicas,
                // Alertmanager's clock may run ahead of ours: a boost must
                // apply from the moment it is recorded.
                starts_at: alert.starts_at.min(now),
                expires_at,
            });
            changes.recorded.push(entry);
        }
    }
    if !matched {
        changes.unmatched += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn rule(name: &str, alertname: &str, min: Option<u32>, add: Option<u32>, hold: u32) -> Rule {
        Rule {
            name: name.into(),
            matchers: BTreeMap::from([("alertname".to_string(), alertname.to_string())]),
            min_replicas: min,
            add_replicas: add,
            hold_minutes: hold,
        }
    }

    fn alert(status: Status, alertname: &str, fingerprint: &str, starts: &str) -> Alert {
        Alert {
            status,
            labels: BTreeMap::from([("alertname".to_string(), alertname.to_string())]),
            annotations: BTreeMap::new(),
            starts_at: at(starts),
            ends_at: None,
            fingerprint: fingerprint.into(),
        }
    }

    fn notification(alerts: Vec<Alert>) -> Notification {
        Notification {
            version: "4".into(),
            group_key: "{}".into(),
            status: Status::Firing,
            receiver: "gpa".into(),
            truncated_alerts: 0,
            alerts,
        }
    }

    fn rules() -> Vec<Rule> {
        vec![
            rule("page", "HighLatency", Some(6), None, 30),
            rule("errors", "HighErrors", None, Some(2), 10),
        ]
    }

    #[test]
    fn a_firing_alert_records_one_boost_per_matching_rule_held_from_now() {
        let mut file = BoostsFile::default();
        let now = at("2026-11-22T20:00:00Z");
        let changes = apply(
            &mut file,
            &notification(vec![
                alert(Status::Firing, "HighLatency", "aa", "2026-11-22T19:58:00Z"),
                alert(Status::Firing, "HighErrors", "bb", "2026-11-22T20:00:05Z"),
                alert(Status::Firing, "DiskFull", "cc", "2026-11-22T19:00:00Z"),
            ]),
            &rules(),
            now,
        );
        assert_eq!(file.boosts.len(), 2);
        let page = &file.boosts[0];
        assert_eq!(
            (page.id.as_str(), page.rule.as_str(), page.alert.as_str()),
            ("aa/page", "page", "HighLatency")
        );
        assert_eq!((page.min_replicas, page.add_replicas), (Some(6), None));
        assert_eq!(page.starts_at, at("2026-11-22T19:58:00Z"));
        assert_eq!(page.expires_at, at("2026-11-22T20:30:00Z"));
        let errors = &file.boosts[1];
        assert_eq!((errors.min_replicas, errors.add_replicas), (None, Some(2)));
        assert_eq!(
            errors.starts_at, now,
            "a start in our future is clamped to now"
        );
        assert_eq!(errors.expires_at, at("2026-11-22T20:10:00Z"));
        assert_eq!(changes.unmatched, 1);
        assert!(changes.boosted() && changes.changed_file());
        assert_eq!(
            changes.to_string(),
            "recorded boost aa/page (at least 6 replicas until 2026-11-22T20:30:00Z); \
             recorded boost bb/errors (2 more replicas until 2026-11-22T20:10:00Z); \
             1 firing alert(s) matched no rule"
        );
    }

    #[test]
    fn a_repeat_notification_refreshes_the_expiry_and_keeps_the_start() {
        let mut file = BoostsFile::default();
        let firing = notification(vec![alert(
            Status::Firing,
            "HighLatency",
            "aa",
            "2026-11-22T19:58:00Z",
        )]);
        apply(&mut file, &firing, &rules(), at("2026-11-22T20:00:00Z"));
        let changes = apply(&mut file, &firing, &rules(), at("2026-11-22T20:20:00Z"));
        assert_eq!(file.boosts.len(), 1);
        assert_eq!(file.boosts[0].starts_at, at("2026-11-22T19:58:00Z"));
        assert_eq!(file.boosts[0].expires_at, at("2026-11-22T20:50:00Z"));
        assert_eq!(changes.refreshed.len(), 1);
        assert!(changes.recorded.is_empty());
    }

    #[test]
    fn a_resolved_alert_ends_its_boosts_and_leaves_the_others() {
        let mut file = BoostsFile::default();
        let now = at("2026-11-22T20:00:00Z");
        apply(
            &mut file,
            &notification(vec![
                alert(Status::Firing, "HighLatency", "aa", "2026-11-22T19:58:00Z"),
                alert(Status::Firing, "HighErrors", "bb", "2026-11-22T19:58:00Z"),
            ]),
            &rules(),
            now,
        );
        let changes = apply(
            &mut file,
            &notification(vec![alert(
                Status::Resolved,
                "HighLatency",
                "aa",
                "2026-11-22T19:58:00Z",
            )]),
            &rules(),
            now,
        );
        assert_eq!(changes.ended, ["aa/page"]);
        assert!(!changes.boosted() && changes.changed_file());
        let ids: Vec<_> = file.boosts.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["bb/errors"]);
    }

    #[test]
    fn expired_boosts_are_pruned_and_an_unmatched_alert_changes_nothing() {
        let mut file = BoostsFile::default();
        apply(
            &mut file,
            &notification(vec![alert(
                Status::Firing,
                "HighErrors",
                "bb",
                "2026-11-22T19:58:00Z",
            )]),
            &rules(),
            at("2026-11-22T20:00:00Z"),
        );
        let unmatched = notification(vec![alert(
            Status::Firing,
            "DiskFull",
            "cc",
            "2026-11-22T19:00:00Z",
        )]);
        let changes = apply(&mut file, &unmatched, &rules(), at("2026-11-22T20:09:59Z"));
        assert!(!changes.changed_file(), "{changes}");
        assert_eq!(file.boosts.len(), 1);
        let changes = apply(&mut file, &unmatched, &rules(), at("2026-11-22T20:10:00Z"));
        assert_eq!(changes.pruned, 1);
        assert!(changes.changed_file() && !changes.boosted());
        assert!(file.boosts.is_empty());
    }

    #[test]
    fn only_a_rule_newly_active_or_with_a_new_floor_changes_a_floor() {
        let mut file = BoostsFile::default();
        let now = at("2026-11-22T20:00:00Z");
        let firing = |fingerprint: &str, name: &str| {
            notification(vec![alert(
                Status::Firing,
                name,
                fingerprint,
                "2026-11-22T19:58:00Z",
            )])
        };
        let changes = apply(&mut file, &firing("aa", "HighLatency"), &rules(), now);
        assert!(changes.floor_changed, "a rule newly active");
        let changes = apply(&mut file, &firing("aa", "HighLatency"), &rules(), now);
        assert!(changes.boosted() && !changes.floor_changed, "a refresh");
        let changes = apply(&mut file, &firing("bb", "HighLatency"), &rules(), now);
        assert!(
            !changes.recorded.is_empty() && !changes.floor_changed,
            "the same rule"
        );
        let mut raised = rules();
        raised[0].min_replicas = Some(8);
        let changes = apply(&mut file, &firing("aa", "HighLatency"), &raised, now);
        assert!(changes.floor_changed, "the rule's floor changed");
        let changes = apply(&mut file, &firing("cc", "HighErrors"), &rules(), now);
        assert!(changes.floor_changed, "another rule");
        // once the rule's boosts have expired, it is newly active again
        let later = at("2026-11-22T20:40:00Z");
        let changes = apply(&mut file, &firing("aa", "HighLatency"), &rules(), later);
        assert!(changes.pruned > 0 && changes.floor_changed, "{changes}");
    }

    #[test]
    fn at_max_boosts_new_ones_are_refused_and_others_still_apply() {
        let mut file = BoostsFile::default();
        let now = at("2026-11-22T20:00:00Z");
        let alerts = (0..MAX_BOOSTS + 5)
            .map(|n| {
                alert(
                    Status::Firing,
                    "HighLatency",
                    &format!("f{n}"),
                    "2026-11-22T19:58:00Z",
                )
            })
            .collect();
        let changes = apply(&mut file, &notification(alerts), &rules(), now);
        assert_eq!((file.boosts.len(), changes.refused), (MAX_BOOSTS, 5));
        let line = changes.to_string();
        assert!(line.contains("recorded 990 more boost(s)"), "{line}");
        assert!(line.len() < 2000, "one short line: {} bytes", line.len());
        assert!(
            changes
                .to_string()
                .ends_with("5 boost(s) not recorded: the boosts file holds its maximum of 1000")
        );
        let changes = apply(
            &mut file,
            &notification(vec![alert(
                Status::Resolved,
                "HighLatency",
                "f0",
                "2026-11-22T19:58:00Z",
            )]),
            &rules(),
            now,
        );
        assert_eq!(changes.ended, ["f0/page".to_string()]);
        let changes = apply(
            &mut file,
            &notification(vec![alert(
                Status::Firing,
                "HighLatency",
                "new",
                "2026-11-22T19:58:00Z",
            )]),
            &rules(),
            now,
        );
        assert_eq!((changes.recorded.len(), changes.refused), (1, 0));
    }

    #[test]
    fn the_stored_alert_name_is_escaped_and_shortened() {
        let mut file = BoostsFile::default();
        let name = format!("High\nLatency{}", "x".repeat(500));
        let mut rules = rules();
        rules[0].matchers = BTreeMap::from([("alertname".to_string(), name.clone())]);
        apply(
            &mut file,
            &notification(vec![alert(
                Status::Firing,
                &name,
                "aa",
                "2026-11-22T19:58:00Z",
            )]),
            &rules,
            at("2026-11-22T20:00:00Z"),
        );
        let stored = &file.boosts[0].alert;
        assert!(stored.starts_with("High\\nLatencyxxx"), "{stored}");
        assert_eq!(stored.chars().count(), MAX_NAME_CHARS);
    }
}
