//! The run-time setting (`gooseRunTime`, `locustRunTime`): whole seconds, or
//! a timespan the way Locust took it (`30s`, `5m`, `1h30m`), one second to
//! one day.

/// Longest accepted run time, seconds: one day.
pub const MAX_RUN_TIME_SECONDS: u64 = 86_400;

/// What a run time must look like, for error messages.
pub const RUN_TIME_EXPECTED: &str =
    "whole seconds from 1 to 86400: a number (20) or a timespan such as 30s, 5m or 1h30m";

/// A run time in whole seconds, 1 to [`MAX_RUN_TIME_SECONDS`]: a number of
/// seconds (`20`, also `20.0`), or a timespan as Locust took it: hours,
/// minutes and seconds in that order, each optional (`30s`, `5m`, `1h30m`,
/// `1h2m3s`). The error says why the value is not one.
pub fn parse_run_time(value: &str) -> Result<u64, &'static str> {
    let seconds = if value.ends_with(['h', 'm', 's']) {
        timespan_seconds(value).ok_or("not a run time")?
    } else {
        match value.parse::<f64>() {
            Ok(secs) if secs.is_finite() && secs.fract() != 0.0 => {
                return Err("goose measures whole seconds");
            }
            Ok(secs) if secs.is_finite() && (0.0..=MAX_RUN_TIME_SECONDS as f64).contains(&secs) => {
                secs as u64
            }
            _ => return Err("not a run time"),
        }
    };
    if (1..=MAX_RUN_TIME_SECONDS).contains(&seconds) {
        Ok(seconds)
    } else {
        Err("not a run time")
    }
}

/// `1h30m`-style timespans: digits followed by `h`, `m` or `s`, units in
/// that order, each at most once. `None` if it is not one (or overflows).
fn timespan_seconds(text: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut rest = text;
    let mut units: &[(char, u64)] = &[('h', 3600), ('m', 60), ('s', 1)];
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        let unit = rest[digits..].chars().next()?;
        let position = units.iter().position(|(u, _)| *u == unit)?;
        total = total.checked_add(number.checked_mul(units[position].1)?)?;
        units = &units[position + 1..];
        rest = &rest[digits + 1..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_times_are_seconds_or_locust_style_timespans() {
        let accepted = [
            ("20", 20),
            ("20.0", 20),
            ("1", 1),
            ("86400", 86_400),
            ("30s", 30),
            ("1m", 60),
            ("5m", 300),
            ("1h", 3600),
            ("1h30m", 5400),
            ("1h2m3s", 3723),
            ("2m30s", 150),
            ("90s", 90),
            ("24h", 86_400),
        ];
        for (text, seconds) in accepted {
            assert_eq!(parse_run_time(text), Ok(seconds), "{text}");
        }
        let rejected = [
            ("1.5", "goose measures whole seconds"),
            ("0", "not a run time"),
            ("0s", "not a run time"),
            ("86401", "not a run time"),
            ("24h1s", "not a run time"),
            ("-5", "not a run time"),
            ("m", "not a run time"),
            ("30m1h", "not a run time"),
            ("1h1h", "not a run time"),
            ("1.5m", "not a run time"),
            ("1d", "not a run time"),
            ("30 s", "not a run time"),
            ("99999999999999999999h", "not a run time"),
            ("ten", "not a run time"),
        ];
        for (text, why) in rejected {
            assert_eq!(parse_run_time(text), Err(why), "{text}");
        }
    }
}
