//! Bound overrides: temporary changes to the replica bounds, applied to the
//! latency decision's proposal in one documented order, each step named in
//! the decision line when it changes the number:
//!
//! 1. the schedule bounds: the open window's `minReplicas`/`maxReplicas`
//!    where it sets them, else the static bounds (the config's keys, else the
//!    CPA's settings, as without overrides);
//! 2. alert boosts: the highest floor among the active boosts raises it, up
//!    to the evaluation config's `maxReplicas` (or an open window's, when
//!    larger);
//! 3. the budget ceiling, `floor(maxCostPerHour / costPerReplicaHour)`,
//!    lowers it;
//! 4. the CPA's bounds (its `minReplicas`/`maxReplicas` settings, else its
//!    defaults 1 and 10), which the CPA applies to any answer; only when an
//!    override is configured, so a config without one decides on the static
//!    bounds alone.
//!
//! Pure: [`Overrides`] holds what holds at this run's instant, gathered by
//! the caller from the config, the boosts file and the state.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;

use super::bounds::Bounds;
use super::config::EvaluationConfig;
use super::schedule::{Problem, Schedule};
use crate::boosts::{Boost, BoostsFile};

/// `budget:` in the evaluation config: a replica ceiling from a cost limit.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Budget {
    /// What one replica costs per hour, in any currency; above 0.
    pub cost_per_replica_hour: f64,
    /// The most the service may cost per hour, same currency; 0 or more.
    pub max_cost_per_hour: f64,
}

impl Budget {
    /// The replica ceiling, `floor(maxCostPerHour / costPerReplicaHour)`;
    /// a quotient a rounding error short of a whole number counts as it
    /// (0.3 / 0.1 is 3).
    pub fn ceiling(&self) -> u32 {
        let quotient = self.max_cost_per_hour / self.cost_per_replica_hour;
        // `as` saturates: an absurd quotient cannot wrap around
        (quotient * (1.0 + 1e-12)).floor() as u32
    }

    /// What is wrong with the budget's values, if anything.
    pub fn problem(&self) -> Option<Problem> {
        let (cost, max) = (self.cost_per_replica_hour, self.max_cost_per_hour);
        if !(cost.is_finite() && cost > 0.0) {
            return Some((
                "budget.costPerReplicaHour".into(),
                format!("'{cost}' is out of range; expected a cost above 0"),
            ));
        }
        if !(max.is_finite() && max >= 0.0) {
            return Some((
                "budget.maxCostPerHour".into(),
                format!("'{max}' is out of range; expected a cost of 0 or more"),
            ));
        }
        None
    }
}

/// The open schedule window's bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowBounds {
    /// The window's name.
    pub name: String,
    /// Its floor, if it sets one.
    pub min: Option<u32>,
    /// Its ceiling, if it sets one.
    pub max: Option<u32>,
}

/// One active alert boost's floor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoostFloor {
    /// The `gpa alerts` rule that matched.
    pub rule: String,
    /// The alert's name.
    pub alert: String,
    /// The floor, in replicas.
    pub floor: u32,
    /// How it was reached: `minReplicas 8`, `addReplicas 2 on 3`.
    pub how: String,
}

/// Every override in force at one instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// The open schedule window, if any.
    pub window: Option<WindowBounds>,
    /// The active alert boosts' floors.
    pub boosts: Vec<BoostFloor>,
    /// The budget, if configured.
    pub budget: Option<Budget>,
    /// The CPA's bounds, applied last; `None` when no override is
    /// configured (then the static bounds are the last word).
    pub cpa: Option<Bounds>,
}

/// A limit step, in the order they apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The static bounds (the config's `minReplicas`/`maxReplicas`, else
    /// the CPA's), when no schedule window is open.
    Bounds,
    /// The open schedule window's bounds.
    Schedule,
    /// The highest floor among the active alert boosts.
    AlertBoost,
    /// The budget's ceiling.
    Budget,
    /// The CPA's own bounds, when an override is configured.
    CpaBounds,
}

impl Limit {
    /// The name in the docs: `alert-boost`.
    pub fn name(self) -> &'static str {
        match self {
            Limit::Bounds => "bounds",
            Limit::Schedule => "schedule",
            Limit::AlertBoost => "alert-boost",
            Limit::Budget => "budget",
            Limit::CpaBounds => "cpa-bounds",
        }
    }
}

/// The limit steps, in the order they apply.
pub const LIMITS: [Limit; 5] = [
    Limit::Bounds,
    Limit::Schedule,
    Limit::AlertBoost,
    Limit::Budget,
    Limit::CpaBounds,
];

/// One limit step that changed the count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limited {
    /// The step.
    pub limit: Limit,
    /// The count before it.
    pub from: u32,
    /// The count after it.
    pub to: u32,
    /// What it did, for the decision line: `12 limited to maxReplicas 10`.
    pub note: String,
}

impl Limited {
    fn new(limit: Limit, from: u32, to: u32, note: String) -> Self {
        Limited {
            limit,
            from,
            to,
            note,
        }
    }
}

/// `x.clamp(lo, hi)` that never panics: `hi` wins when `lo > hi`.
fn clamp(x: u32, lo: u32, hi: u32) -> u32 {
    x.max(lo).min(hi)
}

impl Overrides {
    /// The open window of `schedule` at `now`, as bounds.
    pub fn window_at(schedule: &Schedule, now: Timestamp) -> Option<WindowBounds> {
        schedule.active(now).map(|window| WindowBounds {
            name: window.name.clone(),
            min: window.min_replicas,
            max: window.max_replicas,
        })
    }

    /// The overrides in force at `now`: `config`'s open window and budget,
    /// the active boosts of `boosts` at `current` replicas (with the bases
    /// remembered from earlier runs), and the CPA's bounds `cpa` when any
    /// override is configured. Also the bases to remember.
    pub fn resolve(
        config: &EvaluationConfig,
        cpa: Bounds,
        boosts: &BoostsFile,
        bases: &BTreeMap<String, u32>,
        current: u32,
        now: Timestamp,
    ) -> (Overrides, BTreeMap<String, u32>) {
        // boosts apply only when the config names a boosts file
        let active = boosts.active(now).filter(|_| config.boosts_file.is_some());
        let (floors, bases) = boost_floors(active, bases, current);
        let overrides = Overrides {
            window: Overrides::window_at(config.schedule(), now),
            boosts: floors,
            budget: config.budget,
            cpa: config.has_overrides().then_some(cpa),
        };
        (overrides, bases)
    }

    /// `proposal` through the steps in order, and each step that changed
    /// it, named (`4 raised to 8 by alert boost ...`).
    pub fn apply(&self, bounds: Bounds, proposal: u32) -> (u32, Vec<Limited>) {
        let mut steps = Vec::new();
        let mut x = self.schedule_step(bounds, proposal, &mut steps);
        let ceiling = self.boost_ceiling(bounds);
        if let Some(boost) = self.strongest_boost()
            && boost.floor.min(ceiling) > x
        {
            let floor = boost.floor.min(ceiling);
            let capped = match floor < boost.floor {
                true => format!(", {} limited to maxReplicas {ceiling}", boost.floor),
                false => String::new(),
            };
            let note = format!(
                "{x} raised to {floor} by alert boost '{}' ({}, {}{capped})",
                boost.rule, boost.alert, boost.how
            );
            steps.push(Limited::new(Limit::AlertBoost, x, floor, note));
            x = floor;
        }
        if let Some(budget) = self.budget
            && x > budget.ceiling()
        {
            let note = format!(
                "{x} limited to {} by budget (maxCostPerHour {} / costPerReplicaHour {})",
                budget.ceiling(),
                budget.max_cost_per_hour,
                budget.cost_per_replica_hour
            );
            steps.push(Limited::new(Limit::Budget, x, budget.ceiling(), note));
            x = budget.ceiling();
        }
        if let Some(cpa) = self.cpa {
            let limited = clamp(x, cpa.min, cpa.max);
            if limited != x {
                let note = if limited > x {
                    format!("{x} raised to the CPA's minReplicas {limited}")
                } else {
                    format!("{x} limited to the CPA's maxReplicas {limited}")
                };
                steps.push(Limited::new(Limit::CpaBounds, x, limited, note));
                x = limited;
            }
        }
        (x, steps)
    }

    /// Step 1: the open window's bounds where it sets them, else the static
    /// ones.
    fn schedule_step(&self, bounds: Bounds, proposal: u32, steps: &mut Vec<Limited>) -> u32 {
        let Some(window) = &self.window else {
            let x = proposal.clamp(bounds.min, bounds.max);
            if x != proposal {
                // Say which way: an answer below the floor is raised to it.
                let note = if x > proposal {
                    format!("{proposal} raised to minReplicas {}", bounds.min)
                } else {
                    format!("{proposal} limited to maxReplicas {}", bounds.max)
                };
                steps.push(Limited::new(Limit::Bounds, proposal, x, note));
            }
            return x;
        };
        let (lo, hi) = match (window.min, window.max) {
            (Some(min), Some(max)) => (min, max),
            (Some(min), None) => (min, bounds.max.max(min)),
            (None, Some(max)) => (bounds.min.min(max), max),
            (None, None) => (bounds.min, bounds.max),
        };
        let x = clamp(proposal, lo, hi);
        let name = &window.name;
        if x > proposal {
            let from = match window.min {
                Some(min) => format!("by schedule '{name}' (minReplicas {min})"),
                None => format!("to minReplicas {lo}, schedule '{name}' open"),
            };
            let note = format!("{proposal} raised to {x} {from}");
            steps.push(Limited::new(Limit::Schedule, proposal, x, note));
        } else if x < proposal {
            let from = match window.max {
                Some(max) => format!("by schedule '{name}' (maxReplicas {max})"),
                None => format!("to maxReplicas {hi}, schedule '{name}' open"),
            };
            let note = format!("{proposal} limited to {x} {from}");
            steps.push(Limited::new(Limit::Schedule, proposal, x, note));
        }
        x
    }

    /// The most a boost may raise the count to: the static maximum (the
    /// config's `maxReplicas`, else the CPA's), or the open window's
    /// `maxReplicas` when it is larger. A window's smaller maximum does not
    /// cap a boost (an incident outranks a schedule).
    fn boost_ceiling(&self, bounds: Bounds) -> u32 {
        let window_max = self.window.as_ref().and_then(|window| window.max);
        bounds.max.max(window_max.unwrap_or(0))
    }

    /// The boost with the highest floor (the first of equals).
    fn strongest_boost(&self) -> Option<&BoostFloor> {
        self.boosts
            .iter()
            .fold(None, |best: Option<&BoostFloor>, boost| match best {
                Some(best) if best.floor >= boost.floor => Some(best),
                _ => Some(boost),
            })
    }

    /// The answer at 0 replicas when an override is configured and the CPA
    /// scales from 0 (its `minReplicas` is 0): the floor in force (the open
    /// window's, else the static one, raised by boosts), through the later
    /// steps, with the reason, the limit steps and the notes for the line.
    /// Nothing was measured (the metric stage does not load-test 0
    /// replicas), and that must not block the scale-up when a window that
    /// scaled to zero closes. `None` without overrides or when the CPA keeps
    /// 0 replicas as "autoscaling disabled".
    pub fn at_zero(&self, bounds: Bounds) -> Option<(u32, String, Vec<Limited>, Vec<String>)> {
        if self.cpa?.min > 0 {
            return None;
        }
        let (target, steps) = self.apply(bounds, 0);
        let mut notes = Vec::new();
        if target == 0
            && let Some(window) = &self.window
        {
            notes.push(format!("schedule '{}' open", window.name));
        }
        let reason = "no replicas, so nothing was measured".to_owned();
        Some((target, reason, steps, notes))
    }
}

/// The floors of the `active` boosts at `current` replicas, and the bases to
/// remember: an `addReplicas` rule raises the floor to the replica count
/// seen at the first evaluation that applied any of its boosts (its base in
/// `bases`, by rule name, else `current`) plus N, once: further alerts under
/// the same rule while it is active share that base, so they do not
/// compound. Bases of rules no longer active are forgotten. A state written
/// before bases were kept by rule holds them by boost id
/// (`<fingerprint>/<rule>`): the smallest of the rule's is its base.
pub fn boost_floors<'a>(
    active: impl IntoIterator<Item = &'a Boost>,
    bases: &BTreeMap<String, u32>,
    current: u32,
) -> (Vec<BoostFloor>, BTreeMap<String, u32>) {
    let mut floors = Vec::new();
    let mut next_bases = BTreeMap::new();
    for boost in active {
        let mut floor = 0;
        let mut how = Vec::new();
        if let Some(min) = boost.min_replicas {
            floor = min;
            how.push(format!("minReplicas {min}"));
        }
        if let Some(add) = boost.add_replicas {
            let base = (bases.get(&boost.rule).copied())
                .or_else(|| by_id_before(bases, &boost.rule))
                .unwrap_or(current);
            next_bases.insert(boost.rule.clone(), base);
            floor = floor.max(base.saturating_add(add));
            how.push(format!("addReplicas {add} on {base}"));
        }
        floors.push(BoostFloor {
            rule: boost.rule.clone(),
            alert: boost.alert.clone(),
            floor,
            how: how.join(", "),
        });
    }
    (floors, next_bases)
}

/// The smallest base a state written before bases were kept by rule holds
/// for `rule`, under a boost id `<fingerprint>/<rule>`.
fn by_id_before(bases: &BTreeMap<String, u32>, rule: &str) -> Option<u32> {
    (bases.iter())
        .filter(|(id, _)| id.rsplit_once('/').is_some_and(|(_, of)| of == rule))
        .map(|(_, base)| *base)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: Bounds = Bounds { min: 1, max: 10 };

    fn window(name: &str, min: Option<u32>, max: Option<u32>) -> Option<WindowBounds> {
        Some(WindowBounds {
            name: name.into(),
            min,
            max,
        })
    }

    fn boost(rule: &str, floor: u32) -> BoostFloor {
        BoostFloor {
            rule: rule.into(),
            alert: "HighLatency".into(),
            floor,
            how: format!("minReplicas {floor}"),
        }
    }

    fn budget(cost: f64, max: f64) -> Option<Budget> {
        Some(Budget {
            cost_per_replica_hour: cost,
            max_cost_per_hour: max,
        })
    }

    /// The order of application, one case per step deciding.
    #[test]
    fn each_step_that_changes_the_number_is_named_in_order() {
        let cpa = Some(Bounds { min: 0, max: 12 });
        let cases: Vec<(&str, Overrides, u32, u32, &[&str])> = vec![
            (
                "no overrides: the static bounds, worded by their keys",
                Overrides::default(),
                14,
                10,
                &["14 limited to maxReplicas 10"],
            ),
            (
                "no overrides, within bounds: nothing noted",
                Overrides::default(),
                5,
                5,
                &[],
            ),
            (
                "a window's floor raises the proposal",
                Overrides {
                    window: window("business", Some(4), None),
                    cpa,
                    ..Overrides::default()
                },
                2,
                4,
                &["2 raised to 4 by schedule 'business' (minReplicas 4)"],
            ),
            (
                "a window with only a floor keeps the static ceiling",
                Overrides {
                    window: window("business", Some(4), None),
                    cpa,
                    ..Overrides::default()
                },
                11,
                10,
                &["11 limited to 10 to maxReplicas 10, schedule 'business' open"],
            ),
            (
                "a window's ceiling of 0 scales to zero below a static floor of 1",
                Overrides {
                    window: window("night", Some(0), Some(0)),
                    cpa,
                    ..Overrides::default()
                },
                3,
                0,
                &["3 limited to 0 by schedule 'night' (maxReplicas 0)"],
            ),
            (
                "a boost raises the floor above the window's ceiling",
                Overrides {
                    window: window("night", None, Some(2)),
                    boosts: vec![boost("page", 6), boost("warn", 3)],
                    cpa,
                    ..Overrides::default()
                },
                3,
                6,
                &[
                    "3 limited to 2 by schedule 'night' (maxReplicas 2)",
                    "2 raised to 6 by alert boost 'page' (HighLatency, minReplicas 6)",
                ],
            ),
            (
                "the budget caps a boost",
                Overrides {
                    boosts: vec![boost("page", 9)],
                    budget: budget(0.25, 2.0),
                    cpa,
                    ..Overrides::default()
                },
                3,
                8,
                &[
                    "3 raised to 9 by alert boost 'page'",
                    "9 limited to 8 by budget (maxCostPerHour 2 / costPerReplicaHour 0.25)",
                ],
            ),
            (
                "a budget that does not bind is not named",
                Overrides {
                    budget: budget(0.12, 2.0),
                    cpa,
                    ..Overrides::default()
                },
                9,
                9,
                &[],
            ),
            (
                "the CPA's bounds come last",
                Overrides {
                    window: window("peak", Some(15), Some(20)),
                    cpa,
                    ..Overrides::default()
                },
                3,
                12,
                &[
                    "3 raised to 15 by schedule 'peak' (minReplicas 15)",
                    "15 limited to the CPA's maxReplicas 12",
                ],
            ),
        ];
        for (what, overrides, proposal, want, want_notes) in cases {
            let (got, notes) = overrides.apply(BOUNDS, proposal);
            assert_eq!(got, want, "{what}: {notes:?}");
            assert_eq!(notes.len(), want_notes.len(), "{what}: {notes:?}");
            for (step, want_note) in notes.iter().zip(want_notes) {
                let note = &step.note;
                assert!(
                    note.starts_with(want_note),
                    "{what}:\n got: {note}\nwant: {want_note}"
                );
            }
        }
    }

    fn alert(id: &str, min: Option<u32>, add: Option<u32>) -> Boost {
        Boost {
            id: id.into(),
            rule: "rule".into(),
            alert: "HighLatency".into(),
            min_replicas: min,
            add_replicas: add,
            starts_at: "2026-03-29T00:00:00Z".parse().unwrap(),
            expires_at: "2026-03-29T01:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn the_budget_ceiling_is_the_whole_replicas_the_budget_pays_for() {
        let ceiling = |cost, max| budget(cost, max).unwrap().ceiling();
        assert_eq!(ceiling(0.12, 2.0), 16);
        assert_eq!(ceiling(0.1, 0.3), 3, "a rounding error short of 3 is 3");
        assert_eq!(ceiling(0.5, 0.4), 0);
        assert_eq!(ceiling(1e-300, 1e300), u32::MAX);
        assert_eq!(
            budget(0.0, 1.0).unwrap().problem().unwrap().0,
            "budget.costPerReplicaHour"
        );
        assert!(budget(0.1, f64::NAN).unwrap().problem().is_some());
        assert!(budget(0.1, 0.0).unwrap().problem().is_none());
    }

    #[test]
    fn an_add_boost_counts_from_the_replicas_seen_when_it_was_first_applied() {
        let boosts = [
            alert("a/rule", None, Some(2)),
            alert("b/rule", Some(5), None),
        ];
        let (floors, bases) = boost_floors(&boosts, &BTreeMap::new(), 3);
        let got: Vec<(u32, &str)> = floors.iter().map(|f| (f.floor, f.how.as_str())).collect();
        assert_eq!(got, [(5, "addReplicas 2 on 3"), (5, "minReplicas 5")]);
        assert_eq!(bases, BTreeMap::from([("rule".to_string(), 3)]));
        // later, at 5 replicas, the base is still 3: no runaway
        let (floors, bases) = boost_floors(&boosts[..1], &bases, 5);
        assert_eq!(floors[0].floor, 5);
        assert_eq!(bases["rule"], 3);
        // the boost is gone: its base is forgotten
        let (floors, bases) = boost_floors(&[], &bases, 5);
        assert!(floors.is_empty() && bases.is_empty());
    }

    #[test]
    fn further_alerts_under_an_active_add_rule_share_its_base_and_do_not_compound() {
        let first = [alert("a/rule", None, Some(2))];
        let (_, bases) = boost_floors(&first, &BTreeMap::new(), 3);
        // the CPA scaled to 5; a second and a third alert under the rule
        let three = [
            alert("a/rule", None, Some(2)),
            alert("b/rule", None, Some(2)),
            alert("c/rule", None, Some(2)),
        ];
        let (floors, bases) = boost_floors(&three, &bases, 5);
        let got: Vec<u32> = floors.iter().map(|f| f.floor).collect();
        assert_eq!(got, [5, 5, 5], "3 + 2 once");
        assert_eq!(bases, BTreeMap::from([("rule".to_string(), 3)]));
        // a state written by an earlier version, by boost id: the rule's
        // smallest base carries over
        let old = BTreeMap::from([
            ("a/rule".to_string(), 3),
            ("b/rule".to_string(), 5),
            ("x/other".to_string(), 1),
        ]);
        let (floors, bases) = boost_floors(&three[1..], &old, 7);
        assert_eq!(floors[0].floor, 5);
        assert_eq!(bases, BTreeMap::from([("rule".to_string(), 3)]));
    }

    #[test]
    fn a_boost_is_capped_by_the_config_s_max_or_an_open_window_s_larger_one() {
        let overrides = |window| Overrides {
            window,
            boosts: vec![boost("page", 30)],
            cpa: Some(Bounds { min: 1, max: 50 }),
            ..Overrides::default()
        };
        let (x, steps) = overrides(None).apply(Bounds { min: 1, max: 6 }, 3);
        assert_eq!(x, 6);
        assert_eq!(
            steps[0].note,
            "3 raised to 6 by alert boost 'page' (HighLatency, minReplicas 30, 30 limited to maxReplicas 6)"
        );
        // a window that allows more: its maximum
        let (x, _) = overrides(window("peak", None, Some(20))).apply(Bounds { min: 1, max: 6 }, 3);
        assert_eq!(x, 20);
        // a window that allows less (night: 0) does not cap an incident
        let (x, _) =
            overrides(window("night", Some(0), Some(0))).apply(Bounds { min: 1, max: 6 }, 3);
        assert_eq!(x, 6);
    }

    #[test]
    fn a_boost_stops_raising_the_floor_when_it_expires() {
        let file = crate::boosts::BoostsFile {
            boosts: vec![alert("a/rule", Some(6), None)],
        };
        let floor_at = |instant: &str| {
            let now: Timestamp = instant.parse().unwrap();
            let (floors, _) = boost_floors(file.active(now), &BTreeMap::new(), 2);
            let overrides = Overrides {
                boosts: floors,
                ..Overrides::default()
            };
            overrides.apply(BOUNDS, 2).0
        };
        assert_eq!(floor_at("2026-03-29T00:59:59Z"), 6);
        assert_eq!(floor_at("2026-03-29T01:00:00Z"), 2, "expired at expiresAt");
    }

    /// The whole decision with the clock passed in: config, report, state
    /// and instant in, replicas and line out.
    mod decisions {
        use std::path::Path;
        use std::time::SystemTime;

        use super::*;
        use crate::evaluate::decision::{Observed, decide, decide_with};
        use crate::evaluate::rules::Rule;
        use crate::report::LatencyReport;
        use crate::state::DecayState;

        const LPA: &str = "targets:\n  - {method: GET, endpoint: /fib, type: mean, target: 7}\n";
        const CPA: Bounds = Bounds { min: 0, max: 20 };

        #[test]
        fn at_zero_replicas_the_floor_in_force_is_answered_when_the_cpa_scales_from_zero() {
            let config = config("boostsFile: /unused\n");
            let bounds = BOUNDS;
            let empty = LatencyReport::empty(0);
            let at_zero = |overrides: &Overrides| {
                decide_with(
                    &config,
                    bounds,
                    overrides,
                    &empty,
                    Observed::current(0),
                    &DecayState::default(),
                    SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(100),
                )
                .unwrap()
            };
            let cpa = Some(Bounds { min: 0, max: 10 });
            let opened = at_zero(&Overrides {
                window: window("day", Some(3), None),
                cpa,
                ..Overrides::default()
            });
            assert_eq!(opened.target_replicas, 3);
            assert_eq!(opened.rule, Rule::ScaleFromZero);
            assert_eq!(
                opened.explanation,
                "scale up 0 -> 3: no replicas, so nothing was measured; 0 raised to 3 by schedule 'day' (minReplicas 3) (rule: scale-from-zero)"
            );
            assert_eq!(
                opened.limits.iter().map(|l| l.limit).collect::<Vec<_>>(),
                [Limit::Schedule]
            );
            let next = opened.state.unwrap();
            assert_eq!(
                (next.last_target_replicas, next.last_scale_up_unix_seconds),
                (Some(3), Some(100))
            );
            let closed = at_zero(&Overrides {
                cpa: Some(Bounds { min: 0, max: 10 }),
                ..Overrides::default()
            });
            assert_eq!(
                (closed.target_replicas, closed.explanation.as_str()),
                (
                    1,
                    "scale up 0 -> 1: no replicas, so nothing was measured; 0 raised to minReplicas 1 (rule: scale-from-zero)"
                )
            );
            let boosted = at_zero(&Overrides {
                boosts: vec![boost("page", 2)],
                cpa,
                ..Overrides::default()
            });
            assert_eq!(boosted.target_replicas, 2);
            let night = at_zero(&Overrides {
                window: window("night", Some(0), Some(0)),
                cpa,
                ..Overrides::default()
            });
            assert_eq!(
                (
                    night.target_replicas,
                    night.explanation.as_str(),
                    night.state
                ),
                (
                    0,
                    "hold 0: no replicas, so nothing was measured; schedule 'night' open (rule: scale-from-zero)",
                    None
                )
            );
            let fixed = Overrides {
                window: window("day", Some(3), None),
                cpa: Some(Bounds { min: 1, max: 10 }),
                ..Overrides::default()
            };
            assert_eq!(fixed.at_zero(BOUNDS), None, "the CPA keeps 0 as disabled");
            assert_eq!(Overrides::default().at_zero(BOUNDS), None, "no overrides");
        }

        fn config(extra: &str) -> EvaluationConfig {
            EvaluationConfig::parse_str(&format!("{LPA}{extra}"), Path::new("t.yaml")).unwrap()
        }

        fn report(current: u32, mean_ms: f64) -> LatencyReport {
            if current == 0 {
                return LatencyReport::empty(0);
            }
            let json = serde_json::json!({"currentReplicas": current, "requests": {"GET /fib": {
                "method": "GET", "name": "/fib", "count": 50, "failures": 0, "errorRate": 0.0,
                "requestsPerSecond": 10.0, "meanMs": mean_ms, "medianMs": mean_ms, "minMs": mean_ms,
                "maxMs": mean_ms, "p75Ms": mean_ms, "p90Ms": mean_ms, "p95Ms": mean_ms, "p99Ms": mean_ms}}});
            crate::cpa::parse_report("test", json.to_string().as_bytes()).unwrap()
        }

        fn decide_at(
            config: &EvaluationConfig,
            boosts: &BoostsFile,
            now: &str,
            current: u32,
            mean_ms: f64,
        ) -> (u32, String) {
            let now: Timestamp = now.parse().unwrap();
            let (overrides, _) =
                Overrides::resolve(config, CPA, boosts, &BTreeMap::new(), current, now);
            let bounds = config
                .bounds(Path::new("t.yaml"), Some(CPA.min), Some(CPA.max))
                .unwrap();
            let decision = decide_with(
                config,
                bounds,
                &overrides,
                &report(current, mean_ms),
                Observed::current(current),
                &DecayState::default(),
                SystemTime::from(now),
            )
            .unwrap();
            (decision.target_replicas, decision.explanation)
        }

        #[test]
        fn the_window_boost_and_budget_in_force_at_each_instant_decide() {
            let config = config(
                "minReplicas: 1\nmaxReplicas: 12\nboostsFile: /unused\nbudget: {costPerReplicaHour: 1, maxCostPerHour: 9}\nschedules:
  - {name: day, timeZone: America/New_York, start: '07:00', end: '19:00', minReplicas: 3}
  - {name: night, timeZone: America/New_York, start: '23:00', end: '05:00', maxReplicas: 0}
  - {name: sale, timeZone: America/New_York, days: [sat], start: '00:00', end: '00:00', minReplicas: 6}
",
            );
            let mut page = alert("p/page", Some(11), None);
            page.starts_at = "2026-03-07T12:00:00Z".parse().unwrap();
            page.expires_at = "2026-03-07T13:00:00Z".parse().unwrap();
            let boosts = BoostsFile { boosts: vec![page] };
            // New York: EST (UTC-5) until 2026-03-08 02:00, then EDT (UTC-4)
            let cases = [
                (
                    "2026-03-06T11:59:00Z",
                    2,
                    20.0,
                    3,
                    "scale up 2 -> 3: GET /fib mean 20 ms > target 7 ms",
                ),
                (
                    "2026-03-06T12:00:00Z",
                    1,
                    5.0,
                    3,
                    "1 raised to 3 by schedule 'day' (minReplicas 3)",
                ),
                (
                    "2026-03-06T04:30:00Z",
                    2,
                    20.0,
                    0,
                    "3 limited to 0 by schedule 'night' (maxReplicas 0)",
                ),
                (
                    "2026-03-06T10:00:00Z",
                    0,
                    0.0,
                    1,
                    "scale up 0 -> 1: no replicas, so nothing was measured",
                ),
                (
                    "2026-03-07T05:00:00Z",
                    2,
                    5.0,
                    6,
                    "2 raised to 6 by schedule 'sale' (minReplicas 6)",
                ),
                (
                    "2026-03-07T12:30:00Z",
                    2,
                    5.0,
                    9,
                    "2 raised to 6 by schedule 'sale' (minReplicas 6); 6 raised to 11 by alert boost 'rule' (HighLatency, minReplicas 11); 11 limited to 9 by budget",
                ),
                (
                    "2026-03-07T13:00:00Z",
                    2,
                    5.0,
                    6,
                    "2 raised to 6 by schedule 'sale'",
                ),
                ("2026-03-09T10:30:00Z", 1, 5.0, 1, "hold 1"),
                ("2026-03-09T11:00:00Z", 1, 5.0, 3, "by schedule 'day'"),
            ];
            for (now, current, mean_ms, want, want_line) in cases {
                let (got, line) = decide_at(&config, &boosts, now, current, mean_ms);
                assert_eq!(got, want, "{now}: {line}");
                assert!(
                    line.contains(want_line),
                    "{now}\n got: {line}\nwant: {want_line}"
                );
            }
        }

        /// LPA compatibility: without schedules, boosts or a budget, resolving
        /// the overrides at any instant, with any boosts file, decides
        /// exactly as the static bounds alone.
        #[test]
        fn without_overrides_every_decision_is_the_static_bounds_one() {
            let config = config("minReplicas: 2\nmaxReplicas: 5\n");
            let boosts = BoostsFile {
                boosts: vec![alert("p/page", Some(9), None)],
            };
            let now: Timestamp = "2026-03-29T00:30:00Z".parse().unwrap();
            let (overrides, _) =
                Overrides::resolve(&config, CPA, &boosts, &BTreeMap::new(), 3, now);
            assert_eq!(overrides, Overrides::default());
            let bounds = Bounds { min: 2, max: 5 };
            for (current, mean_ms) in [
                (0, 0.0),
                (1, 20.0),
                (3, 20.0),
                (5, 20.0),
                (3, 5.0),
                (9, 5.0),
            ] {
                let run = |overrides: &Overrides| {
                    decide_with(
                        &config,
                        bounds,
                        overrides,
                        &report(current, mean_ms),
                        Observed::current(current),
                        &DecayState::default(),
                        SystemTime::from(now),
                    )
                };
                let old = decide(
                    &config,
                    bounds,
                    &report(current, mean_ms),
                    Observed::current(current),
                    &DecayState::default(),
                    SystemTime::from(now),
                );
                assert_eq!(run(&overrides).ok(), old.ok(), "{current} at {mean_ms} ms");
            }
        }
    }
}
