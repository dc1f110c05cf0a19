//! Schedule windows: replica bounds that change with the clock
//! (`schedules:` in the evaluation config), and which window holds at an
//! instant.
//!
//! A window opens at `start` on each of its `days` in its `timeZone` and
//! closes at the next `end` after that: on the same day when `end` is later
//! than `start`, else on the next day (a window may cross midnight, and
//! `start` equal to `end` is a whole day). The day is the day the window
//! opens: a `22:00`-`06:00` window on `[fri]` runs from Friday 22:00 to
//! Saturday 06:00. Daylight-saving changes follow the time zone, with cron's and
//! systemd's rule for both ends: a time of day that does not exist that day
//! (in the hour skipped in spring) is the first instant after the skip
//! (02:30 is 03:00 on 2026-03-29 in Europe/Berlin), and one that happens
//! twice (in autumn) is the first of the two. A window that the rule would
//! leave empty (both ends inside the skipped hour, as 02:00-03:00 or
//! 02:15-02:45) opens at that first instant for its usual length, so every
//! window opens on each of its days. Where windows overlap, the later one
//! in the list wins.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ToSpan, Zoned};
use serde::Deserialize;

/// One window as written in the config (strings checked by [`Schedule::parse`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WindowConfig {
    /// Named in decision lines; default `schedules[<index>]`.
    #[serde(default)]
    pub name: Option<String>,
    /// IANA time zone of `start`, `end` and `days`, e.g. `Europe/Berlin`;
    /// default `UTC`.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Days the window opens on: `mon` to `sun`; default every day.
    #[serde(default)]
    pub days: Option<Vec<String>>,
    /// Opening time of day, `HH:MM` (24-hour clock).
    pub start: String,
    /// Closing time of day, `HH:MM`; at or before `start`: the next day.
    pub end: String,
    /// While open, answer at least this many replicas (replaces the static
    /// `minReplicas`).
    #[serde(default)]
    pub min_replicas: Option<u32>,
    /// While open, answer at most this many replicas (replaces the static
    /// `maxReplicas`); 0 scales the service to zero.
    #[serde(default)]
    pub max_replicas: Option<u32>,
}

/// One checked window.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Its name, for decision lines.
    pub name: String,
    /// The time zone's name as given (`UTC` by default).
    pub zone_name: String,
    zone: TimeZone,
    /// Opening days, Monday first.
    days: [bool; 7],
    start: Time,
    end: Time,
    /// The floor while open, if the window sets one.
    pub min_replicas: Option<u32>,
    /// The ceiling while open, if the window sets one.
    pub max_replicas: Option<u32>,
}

/// One opening of a window: from `opens` (inclusive) to `closes`
/// (exclusive), in the window's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    /// When the window opens.
    pub opens: Zoned,
    /// When it closes.
    pub closes: Zoned,
}

/// All windows, in config order (later ones win where they overlap).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schedule {
    /// The windows, in config order.
    pub windows: Vec<Window>,
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A config key and what is wrong with its value, for `ConfigError::Invalid`.
pub type Problem = (String, String);

impl Schedule {
    /// Checks the windows as written; the error names the key
    /// (`schedules[1].start`), its value and what was expected.
    pub fn parse(configs: &[WindowConfig]) -> Result<Schedule, Problem> {
        let windows = configs
            .iter()
            .enumerate()
            .map(|(index, config)| Window::parse(index, config))
            .collect::<Result<_, _>>()?;
        Ok(Schedule { windows })
    }

    /// The window that holds at `now`: the last open one in the list.
    pub fn active(&self, now: Timestamp) -> Option<&Window> {
        self.windows
            .iter()
            .rev()
            .find(|window| window.opening_at(now).is_some())
    }
}

impl Window {
    fn parse(index: usize, config: &WindowConfig) -> Result<Window, Problem> {
        let key = |field: &str| format!("schedules[{index}].{field}");
        let zone_name = config.time_zone.clone().unwrap_or_else(|| "UTC".into());
        let zone = TimeZone::get(&zone_name).map_err(|_| {
            (
                key("timeZone"),
                format!("'{zone_name}' is not a known time zone; expected an IANA name such as Europe/Berlin or UTC"),
            )
        })?;
        let mut days = [config.days.is_none(); 7];
        for (day_index, day) in config.days.iter().flatten().enumerate() {
            let position = DAY_NAMES
                .iter()
                .position(|name| day.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    (
                        key(&format!("days[{day_index}]")),
                        format!("'{day}' is not a day; expected one of mon, tue, wed, thu, fri, sat, sun"),
                    )
                })?;
            days[position] = true;
        }
        if !days.contains(&true) {
            return Err((
                key("days"),
                "is empty; expected at least one day (or no days key for every day)".into(),
            ));
        }
        let time = |field: &str, value: &str| {
            parse_time(value).ok_or_else(|| {
                (
                    key(field),
                    format!("'{value}' is not a time of day; expected HH:MM from 00:00 to 23:59"),
                )
            })
        };
        if let (Some(min), Some(max)) = (config.min_replicas, config.max_replicas)
            && min > max
        {
            return Err((
                key("minReplicas"),
                format!(
                    "'{min}' is above maxReplicas '{max}'; expected minReplicas <= maxReplicas"
                ),
            ));
        }
        Ok(Window {
            name: config
                .name
                .clone()
                .unwrap_or_else(|| format!("schedules[{index}]")),
            zone_name,
            zone,
            days,
            start: time("start", &config.start)?,
            end: time("end", &config.end)?,
            min_replicas: config.min_replicas,
            max_replicas: config.max_replicas,
        })
    }

    /// The opening on local `date`, if the window opens that day.
    fn opening_on(&self, date: Date) -> Option<Opening> {
        if !self.days[usize::from(date.weekday().to_monday_zero_offset().unsigned_abs())] {
            return None;
        }
        let close_date = if self.end > self.start {
            date
        } else {
            date.tomorrow().ok()?
        };
        let opens = local_instant(&self.zone, date.to_datetime(self.start))?;
        let mut closes = local_instant(&self.zone, close_date.to_datetime(self.end))?;
        if closes.timestamp() <= opens.timestamp() {
            // Both ends fell in a skipped hour: open for the usual length.
            let length = (time_seconds(self.end) - time_seconds(self.start)).rem_euclid(86_400);
            let length = if length == 0 { 86_400 } else { length };
            closes = opens
                .timestamp()
                .checked_add(length.seconds())
                .ok()?
                .to_zoned(self.zone.clone());
        }
        Some(Opening { opens, closes })
    }

    /// The opening that holds at `now`, if any: one that opened on `now`'s
    /// local day or the day before (a window crossing midnight).
    pub fn opening_at(&self, now: Timestamp) -> Option<Opening> {
        let today = now.to_zoned(self.zone.clone()).date();
        [today.yesterday().ok(), Some(today)]
            .into_iter()
            .flatten()
            .filter_map(|date| self.opening_on(date))
            .find(|opening| opening.opens.timestamp() <= now && now < opening.closes.timestamp())
    }

    /// The openings that overlap `[from, from + days)`, in order.
    pub fn openings(&self, from: Timestamp, days: i64) -> Vec<Opening> {
        let until = from
            .checked_add(days.saturating_mul(24).hours())
            .unwrap_or(from);
        let first = from.to_zoned(self.zone.clone()).date();
        (-1..=days)
            .filter_map(|offset| first.checked_add(offset.days()).ok())
            .filter_map(|date| self.opening_on(date))
            .filter(|opening| {
                opening.closes.timestamp() > from && opening.opens.timestamp() < until
            })
            .collect()
    }

    /// `mon,tue 08:00-18:00 Europe/Berlin: minReplicas 4, maxReplicas 20`.
    pub fn describe(&self) -> String {
        let days = if self.days.iter().all(|&open| open) {
            "every day".to_string()
        } else {
            let names: Vec<&str> = DAY_NAMES
                .iter()
                .zip(self.days)
                .filter_map(|(name, open)| open.then_some(*name))
                .collect();
            names.join(",")
        };
        let bounds = self.bounds();
        let bounds = if bounds.is_empty() {
            "the static bounds".to_string()
        } else {
            bounds
        };
        format!(
            "{days} {}-{} {}: {bounds}",
            self.start.strftime("%H:%M"),
            self.end.strftime("%H:%M"),
            self.zone_name,
        )
    }

    /// `minReplicas 4, maxReplicas 20`, naming only those set.
    pub fn bounds(&self) -> String {
        let parts: Vec<String> = [
            ("minReplicas", self.min_replicas),
            ("maxReplicas", self.max_replicas),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.map(|value| format!("{key} {value}")))
        .collect();
        parts.join(", ")
    }
}

/// `HH:MM` on a 24-hour clock, exactly two digits each.
/// The instant of the local `datetime` in `zone`: itself when it exists
/// once; the first instant after the skip when a daylight-saving change
/// skips it; the first of the two when it happens twice.
fn local_instant(zone: &TimeZone, datetime: DateTime) -> Option<Zoned> {
    let ambiguous = zone.to_ambiguous_zoned(datetime);
    match ambiguous.offset() {
        AmbiguousOffset::Gap { after, .. } => {
            // `datetime` read with the later offset is an instant before the
            // skip; the zone's next transition is where the skip ends.
            let before_skip = datetime.to_zoned(TimeZone::fixed(after)).ok()?.timestamp();
            let transition = zone.following(before_skip).next()?;
            Some(transition.timestamp().to_zoned(zone.clone()))
        }
        _ => ambiguous.earlier().ok(),
    }
}

/// Seconds since midnight of a time of day.
fn time_seconds(time: Time) -> i64 {
    i64::from(time.hour()) * 3600 + i64::from(time.minute()) * 60 + i64::from(time.second())
}

fn parse_time(value: &str) -> Option<Time> {
    let (hours, minutes) = value.split_once(':')?;
    let two_digits = |part: &str| {
        (part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<i8>().ok())
            .flatten()
    };
    Time::new(two_digits(hours)?, two_digits(minutes)?, 0, 0).ok()
}

/// `Mon 2026-03-30 08:00 CEST`.
pub fn format_local(zoned: &Zoned) -> String {
    zoned.strftime("%a %Y-%m-%d %H:%M %Z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(yaml: &str) -> WindowConfig {
        serde_saphyr::from_str(yaml).unwrap()
    }

    fn schedule(windows: &[&str]) -> Schedule {
        let configs: Vec<WindowConfig> = windows.iter().map(|yaml| window(yaml)).collect();
        Schedule::parse(&configs).unwrap()
    }

    fn at(instant: &str) -> Timestamp {
        instant.parse().unwrap()
    }

    /// Which window holds at each instant, in a table.
    #[test]
    fn the_window_in_force_at_each_instant() {
        let schedule = schedule(&[
            "{name: business, timeZone: Europe/Berlin, days: [mon, tue, wed, thu, fri], start: '08:00', end: '18:00', minReplicas: 4}",
            "{name: night, timeZone: Europe/Berlin, start: '22:00', end: '06:00', maxReplicas: 0}",
            "{name: launch, timeZone: Europe/Berlin, days: [fri], start: '12:00', end: '13:00', minReplicas: 8}",
            "{name: dst, timeZone: Europe/Berlin, days: [sun], start: '02:30', end: '04:00', minReplicas: 2}",
        ]);
        let cases = [
            // 2026-03-27 is a Friday; Berlin is UTC+1 until 2026-03-29 02:00
            ("2026-03-27T06:59:59Z", None, "before 08:00 CET"),
            (
                "2026-03-27T07:00:00Z",
                Some("business"),
                "08:00 CET opens it",
            ),
            (
                "2026-03-27T11:30:00Z",
                Some("launch"),
                "overlap: the later window wins",
            ),
            (
                "2026-03-27T12:00:00Z",
                Some("business"),
                "launch closed at 13:00",
            ),
            ("2026-03-27T17:00:00Z", None, "18:00 CET closes it"),
            (
                "2026-03-27T21:00:00Z",
                Some("night"),
                "22:00 opens the night",
            ),
            (
                "2026-03-27T23:30:00Z",
                Some("night"),
                "after midnight, still Friday's night",
            ),
            ("2026-03-28T04:59:00Z", Some("night"), "05:59 CET"),
            ("2026-03-28T05:00:00Z", None, "06:00 CET closes it"),
            ("2026-03-28T08:00:00Z", None, "Saturday: no business hours"),
            // the night of the change: 02:00 CET becomes 03:00 CEST
            ("2026-03-29T00:30:00Z", Some("night"), "01:30 CET"),
            (
                "2026-03-29T00:59:00Z",
                Some("night"),
                "01:59 CET, the last minute before the skip",
            ),
            (
                "2026-03-29T01:00:00Z",
                Some("dst"),
                "03:00 CEST: 02:30 did not exist, dst opens where the skip ends",
            ),
            ("2026-03-29T01:30:00Z", Some("dst"), "03:30 CEST"),
            ("2026-03-29T03:59:00Z", Some("night"), "05:59 CEST"),
            (
                "2026-03-29T04:00:00Z",
                None,
                "06:00 CEST closes it, an hour earlier in UTC",
            ),
            ("2026-03-30T05:30:00Z", None, "Monday 07:30 CEST"),
            (
                "2026-03-30T06:00:00Z",
                Some("business"),
                "Monday 08:00 CEST is 06:00 UTC",
            ),
        ];
        for (instant, want, what) in cases {
            let got = schedule.active(at(instant)).map(|w| w.name.as_str());
            assert_eq!(got, want, "{instant}: {what}");
        }
    }

    #[test]
    fn a_time_skipped_by_daylight_saving_is_the_first_instant_after_the_skip() {
        // On 2026-03-29 in Europe/Berlin the clocks go from 02:00 CET to
        // 03:00 CEST (01:00 UTC): 02:00 to 02:59 do not exist.
        let span = |start: &str, end: &str| {
            let schedule = schedule(&[&format!(
                "{{name: dst, timeZone: Europe/Berlin, days: [sun], start: '{start}', end: '{end}'}}"
            )]);
            let opening = schedule.windows[0]
                .opening_at(at("2026-03-29T01:00:00Z"))
                .unwrap_or_else(|| panic!("{start}-{end} is not open at 03:00 CEST"));
            (format_local(&opening.opens), format_local(&opening.closes))
        };
        let cases = [
            // The start in the skip: the window opens where the skip ends.
            ("02:30", "04:00", "03:00 CEST", "04:00 CEST"),
            ("02:30", "03:30", "03:00 CEST", "03:30 CEST"),
            // Both ends in (or at the end of) the skip: the usual length.
            ("02:00", "03:00", "03:00 CEST", "04:00 CEST"),
            ("02:15", "02:45", "03:00 CEST", "03:30 CEST"),
        ];
        for (start, end, opens, closes) in cases {
            let (got_opens, got_closes) = span(start, end);
            assert!(got_opens.ends_with(opens), "{start}-{end}: {got_opens}");
            assert!(got_closes.ends_with(closes), "{start}-{end}: {got_closes}");
        }
        // Not open before the skip.
        let schedule = schedule(&[
            "{name: dst, timeZone: Europe/Berlin, days: [sun], start: '02:30', end: '03:30'}",
        ]);
        assert!(schedule.active(at("2026-03-29T00:59:59Z")).is_none());
        assert!(schedule.active(at("2026-03-29T01:29:59Z")).is_some());
        assert!(schedule.active(at("2026-03-29T01:30:00Z")).is_none());
    }

    #[test]
    fn a_time_that_happens_twice_is_the_first_of_the_two() {
        // On 2026-10-25 in Europe/Berlin 02:00 to 02:59 happen twice: first
        // in CEST (00:00 UTC), then in CET (01:00 UTC).
        let schedule = schedule(&[
            "{name: fold, timeZone: Europe/Berlin, days: [sun], start: '02:30', end: '03:30'}",
        ]);
        let opening = schedule.windows[0]
            .opening_at(at("2026-10-25T00:30:00Z"))
            .expect("open from the first 02:30");
        assert_eq!(opening.opens.timestamp(), at("2026-10-25T00:30:00Z"));
        // 03:30 happens once, in CET: the window lasts two hours that night.
        assert_eq!(opening.closes.timestamp(), at("2026-10-25T02:30:00Z"));
        assert!(schedule.active(at("2026-10-25T00:29:59Z")).is_none());
        assert!(schedule.active(at("2026-10-25T02:29:59Z")).is_some());
    }

    #[test]
    fn a_window_starting_and_ending_at_the_same_time_lasts_a_day() {
        let schedule = schedule(&["{days: [sat], start: '00:00', end: '00:00', minReplicas: 1}"]);
        assert!(schedule.active(at("2026-03-27T23:59:00Z")).is_none());
        assert!(schedule.active(at("2026-03-28T00:00:00Z")).is_some());
        assert!(schedule.active(at("2026-03-28T23:59:59Z")).is_some());
        assert!(schedule.active(at("2026-03-29T00:00:00Z")).is_none());
        assert_eq!(schedule.windows[0].name, "schedules[0]");
    }

    #[test]
    fn the_next_openings_are_listed_in_the_window_s_time_zone() {
        let schedule = schedule(&[
            "{name: business, timeZone: Europe/Berlin, days: [fri, mon], start: '08:00', end: '18:00', minReplicas: 4}",
        ]);
        let openings = schedule.windows[0].openings(at("2026-03-27T12:00:00Z"), 7);
        let listed: Vec<String> = openings
            .iter()
            .map(|o| format!("{} -> {}", format_local(&o.opens), format_local(&o.closes)))
            .collect();
        assert_eq!(
            listed,
            [
                "Fri 2026-03-27 08:00 CET -> Fri 2026-03-27 18:00 CET",
                "Mon 2026-03-30 08:00 CEST -> Mon 2026-03-30 18:00 CEST",
                "Fri 2026-04-03 08:00 CEST -> Fri 2026-04-03 18:00 CEST",
            ]
        );
        assert_eq!(
            schedule.windows[0].describe(),
            "mon,fri 08:00-18:00 Europe/Berlin: minReplicas 4"
        );
    }

    #[test]
    fn bad_windows_name_the_key_the_value_and_what_was_expected() {
        let cases = [
            (
                "{start: '25:00', end: '06:00'}",
                "schedules[0].start",
                "'25:00' is not a time of day; expected HH:MM from 00:00 to 23:59",
            ),
            (
                "{start: '8:00', end: '06:00'}",
                "schedules[0].start",
                "'8:00' is not a time of day",
            ),
            (
                "{start: '08:00', end: '18:60'}",
                "schedules[0].end",
                "'18:60' is not a time of day",
            ),
            (
                "{start: '08:00', end: '18:00', timeZone: Mars/Olympus}",
                "schedules[0].timeZone",
                "'Mars/Olympus' is not a known time zone; expected an IANA name such as Europe/Berlin or UTC",
            ),
            (
                "{start: '08:00', end: '18:00', days: [mon, funday]}",
                "schedules[0].days[1]",
                "'funday' is not a day; expected one of mon, tue, wed, thu, fri, sat, sun",
            ),
            (
                "{start: '08:00', end: '18:00', days: []}",
                "schedules[0].days",
                "is empty",
            ),
            (
                "{start: '08:00', end: '18:00', minReplicas: 5, maxReplicas: 2}",
                "schedules[0].minReplicas",
                "'5' is above maxReplicas '2'",
            ),
        ];
        for (yaml, want_key, want_problem) in cases {
            let (key, problem) = Schedule::parse(&[window(yaml)]).unwrap_err();
            assert_eq!(key, want_key, "{yaml}");
            assert!(problem.starts_with(want_problem), "{yaml}: {problem}");
        }
    }
}
