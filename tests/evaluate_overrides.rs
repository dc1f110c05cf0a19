//! Bound overrides through the real gpa-evaluate, with the clock passed in
//! (`--now`): schedule windows (crossing midnight, a daylight-saving change,
//! overlapping), alert boosts from the boosts file (expiring, `addReplicas`
//! counted from a remembered base), the budget ceiling, the CPA's bounds,
//! the scale-up from 0 when a window that scaled to zero closes, and what
//! `--check` lists.

mod evaluate_support;

use evaluate_support::{Fixture, lpa_config, report, v2_input};
use serde_json::json;

/// Business hours, a night at zero replicas, a Friday launch hour on top of
/// business hours, a budget of 10 replicas; static bounds 1..=12.
fn config(boosts: &std::path::Path) -> String {
    format!(
        "{}minReplicas: 1\nmaxReplicas: 12\nbudget: {{costPerReplicaHour: 0.5, maxCostPerHour: 5}}\nboostsFile: {}\nschedules:
  - name: business-hours
    timeZone: Europe/Berlin
    days: [mon, tue, wed, thu, fri]
    start: \"08:00\"
    end: \"18:00\"
    minReplicas: 4
    maxReplicas: 20
  - name: night
    timeZone: Europe/Berlin
    start: \"22:00\"
    end: \"06:00\"
    minReplicas: 0
    maxReplicas: 0
  - name: launch
    timeZone: Europe/Berlin
    days: [fri]
    start: \"12:00\"
    end: \"13:00\"
    minReplicas: 8
",
        lpa_config(3),
        boosts.display()
    )
}

struct Case {
    what: &'static str,
    now: &'static str,
    current: u32,
    mean_ms: f64,
    boosts: serde_json::Value,
    want: u32,
    want_line: &'static str,
}

fn case(what: &'static str, now: &'static str, current: u32, mean_ms: f64) -> Case {
    Case {
        what,
        now,
        current,
        mean_ms,
        boosts: json!({"boosts": []}),
        want: 0,
        want_line: "",
    }
}

impl Case {
    fn boosts(mut self, boosts: serde_json::Value) -> Self {
        self.boosts = json!({ "boosts": boosts });
        self
    }
    fn says(mut self, want: u32, line: &'static str) -> Self {
        self.want = want;
        self.want_line = line;
        self
    }
}

fn boost(min: Option<u32>, add: Option<u32>, until: &str) -> serde_json::Value {
    let mut boost = json!({"id": "fp1/latency-page", "rule": "latency-page", "alert": "HighLatency",
        "startsAt": "2026-03-28T08:00:00Z", "expiresAt": until});
    if let Some(min) = min {
        boost["minReplicas"] = json!(min);
    }
    if let Some(add) = add {
        boost["addReplicas"] = json!(add);
    }
    boost
}

/// The evaluate input at `current` replicas: gpa-metric's empty report at 0.
fn input(current: u32, mean_ms: f64) -> String {
    if current == 0 {
        let empty =
            json!({"currentReplicas": 0, "users": 0, "runTimeSeconds": 0.0, "requests": {}});
        return v2_input(&empty, 0, "scaler");
    }
    v2_input(&report(Some(current), mean_ms, 100, 0), current, "scaler")
}

/// Runs one evaluation at `now`: the answer and the decision line.
fn evaluate(fixture: &Fixture, now: &str, current: u32, mean_ms: f64) -> (u32, String) {
    let output = fixture
        .command()
        .args(["--now", now, "--min-replicas", "0", "--max-replicas", "20"])
        .write_stdin(input(current, mean_ms))
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{now}: {stderr}");
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let line = stderr.lines().last().unwrap_or_default().to_string();
    (answer["targetReplicas"].as_u64().unwrap() as u32, line)
}

#[test]
fn every_override_decides_in_its_order_at_the_instant_given() {
    let until = "2026-03-28T10:00:00Z";
    let cases = [
        // 2026-03-27 is a Friday; Berlin changes from CET to CEST on 2026-03-29
        case("no window before business hours: the LPA rule", "2026-03-27T07:30:00+01:00", 3, 5.0)
            .says(3, "hold 3: targets met (GET /fibonacci?n=10 mean 5 ms <= target 7 ms); quiet run 1 of 3 before a decay"),
        case("business hours raise the floor", "2026-03-27T08:30:00+01:00", 2, 5.0)
            .says(4, "scale up 2 -> 4: targets met (GET /fibonacci?n=10 mean 5 ms <= target 7 ms); quiet run 1 of 3 before a decay; 2 raised to 4 by schedule 'business-hours' (minReplicas 4)"),
        case("overlapping windows: the later one wins", "2026-03-27T12:30:00+01:00", 3, 5.0)
            .says(8, "; 3 raised to 8 by schedule 'launch' (minReplicas 8)"),
        case("the night scales to zero even when a target is missed", "2026-03-27T23:30:00+01:00", 3, 12.3)
            .says(0, "scale down 3 -> 0: GET /fibonacci?n=10 mean 12.3 ms > target 7 ms; 4 limited to 0 by schedule 'night' (maxReplicas 0)"),
        case("a night crossing midnight holds at zero", "2026-03-28T05:59:00+01:00", 0, 0.0)
            .says(0, "hold 0: no replicas, so nothing was measured; schedule 'night' open"),
        case("when the night ends, 0 replicas scale up to the floor", "2026-03-28T06:00:00+01:00", 0, 0.0)
            .says(1, "scale up 0 -> 1: no replicas, so nothing was measured; 0 raised to minReplicas 1"),
        case("daylight saving: the night ends at 06:00 CEST, 04:00 UTC", "2026-03-29T04:00:00Z", 0, 0.0)
            .says(1, "scale up 0 -> 1"),
        case("... an hour later in UTC than the day before", "2026-03-28T04:30:00Z", 0, 0.0)
            .says(0, "hold 0"),
        case("an active boost raises the floor", "2026-03-28T09:59:00Z", 2, 5.0)
            .boosts(json!([boost(Some(9), None, until)]))
            .says(9, "scale up 2 -> 9: targets met (GET /fibonacci?n=10 mean 5 ms <= target 7 ms); quiet run 1 of 3 before a decay; 2 raised to 9 by alert boost 'latency-page' (HighLatency, minReplicas 9)"),
        case("an expired boost raises nothing", "2026-03-28T10:00:00Z", 2, 5.0)
            .boosts(json!([boost(Some(9), None, until)]))
            .says(2, "hold 2: targets met"),
        case("the budget caps a boost", "2026-03-28T09:00:00Z", 2, 5.0)
            .boosts(json!([boost(Some(14), None, until)]))
            .says(10, "; 2 raised to 12 by alert boost 'latency-page' (HighLatency, minReplicas 14, 14 limited to maxReplicas 12); 12 limited to 10 by budget (maxCostPerHour 5 / costPerReplicaHour 0.5)"),
        case("a boost at zero replicas scales up", "2026-03-28T09:00:00Z", 0, 0.0)
            .boosts(json!([boost(Some(3), None, until)]))
            .says(3, "scale up 0 -> 3: no replicas, so nothing was measured; 0 raised to minReplicas 1; 1 raised to 3 by alert boost"),
    ];
    for case in cases {
        let fixture = Fixture::new("");
        let boosts = fixture.dir.path().join("boosts.json");
        std::fs::write(&fixture.config, config(&boosts)).unwrap();
        std::fs::write(&boosts, case.boosts.to_string()).unwrap();
        let (got, line) = evaluate(&fixture, case.now, case.current, case.mean_ms);
        assert_eq!(got, case.want, "{}: {line}", case.what);
        assert!(
            line.contains(case.want_line),
            "{}\n got: {line}\nwant: {}",
            case.what,
            case.want_line
        );
    }
}

#[test]
fn an_add_boost_counts_from_the_replicas_at_its_first_evaluation_and_is_forgotten_when_gone() {
    let fixture = Fixture::new("");
    let boosts = fixture.dir.path().join("boosts.json");
    std::fs::write(&fixture.config, config(&boosts)).unwrap();
    let file = json!({"boosts": [boost(None, Some(2), "2026-03-28T10:00:00Z")]});
    std::fs::write(&boosts, file.to_string()).unwrap();
    let (answer, line) = evaluate(&fixture, "2026-03-28T09:00:00Z", 3, 5.0);
    assert_eq!(answer, 5, "{line}");
    assert!(
        line.ends_with(
            "3 raised to 5 by alert boost 'latency-page' (HighLatency, addReplicas 2 on 3) (rule: quiet-run)"
        ),
        "{line}"
    );
    assert_eq!(
        fixture.state_json()["boostBases"],
        json!({"latency-page": 3})
    );
    let (answer, line) = evaluate(&fixture, "2026-03-28T09:01:00Z", 5, 5.0);
    assert_eq!(answer, 5, "the base stays 3, no runaway: {line}");
    let (answer, _) = evaluate(&fixture, "2026-03-28T10:00:00Z", 5, 5.0);
    assert_eq!(answer, 5);
    assert_eq!(
        fixture.state_json().get("boostBases"),
        None,
        "forgotten once expired"
    );
}

#[test]
fn a_missing_boosts_file_is_no_boost_and_a_broken_one_is_a_warning() {
    let fixture = Fixture::new("");
    let boosts = fixture.dir.path().join("boosts.json");
    std::fs::write(&fixture.config, config(&boosts)).unwrap();
    assert_eq!(evaluate(&fixture, "2026-03-28T09:00:00Z", 2, 5.0).0, 2);
    std::fs::write(&boosts, "{\"boosts\": [").unwrap();
    let output = fixture
        .command()
        .args(["--now", "2026-03-28T09:00:00Z"])
        .write_stdin(input(2, 5.0))
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("is not a boosts document"), "{stderr}");
    assert!(stderr.contains("applying no alert boost"), "{stderr}");
}

#[test]
fn check_lists_each_window_s_openings_for_the_next_7_days() {
    let fixture = Fixture::new("");
    let boosts = fixture.dir.path().join("boosts.json");
    std::fs::write(&fixture.config, config(&boosts)).unwrap();
    let output = fixture
        .command()
        .args([
            "--check",
            "--now",
            "2026-03-27T12:30:00+01:00",
            "--min-replicas",
            "0",
            "--max-replicas",
            "20",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stdout = stdout.replace(&boosts.display().to_string(), "BOOSTS");
    let want = "\
schedule windows (the later one wins where they overlap), openings in the 7 days from 2026-03-27T11:30:00Z:
  [0] business-hours: mon,tue,wed,thu,fri 08:00-18:00 Europe/Berlin: minReplicas 4, maxReplicas 20
      Fri 2026-03-27 08:00 CET -> Fri 2026-03-27 18:00 CET  (open now)
      Mon 2026-03-30 08:00 CEST -> Mon 2026-03-30 18:00 CEST
      Tue 2026-03-31 08:00 CEST -> Tue 2026-03-31 18:00 CEST
      Wed 2026-04-01 08:00 CEST -> Wed 2026-04-01 18:00 CEST
      Thu 2026-04-02 08:00 CEST -> Thu 2026-04-02 18:00 CEST
      Fri 2026-04-03 08:00 CEST -> Fri 2026-04-03 18:00 CEST
  [1] night: every day 22:00-06:00 Europe/Berlin: minReplicas 0, maxReplicas 0
      Fri 2026-03-27 22:00 CET -> Sat 2026-03-28 06:00 CET
      Sat 2026-03-28 22:00 CET -> Sun 2026-03-29 06:00 CEST
      Sun 2026-03-29 22:00 CEST -> Mon 2026-03-30 06:00 CEST
      Mon 2026-03-30 22:00 CEST -> Tue 2026-03-31 06:00 CEST
      Tue 2026-03-31 22:00 CEST -> Wed 2026-04-01 06:00 CEST
      Wed 2026-04-01 22:00 CEST -> Thu 2026-04-02 06:00 CEST
      Thu 2026-04-02 22:00 CEST -> Fri 2026-04-03 06:00 CEST
  [2] launch: fri 12:00-13:00 Europe/Berlin: minReplicas 8
      Fri 2026-03-27 12:00 CET -> Fri 2026-03-27 13:00 CET  (open now)
      Fri 2026-04-03 12:00 CEST -> Fri 2026-04-03 13:00 CEST
  in force now: 'launch'
budget: maxCostPerHour 5 / costPerReplicaHour 0.5 = at most 10 replicas
boosts file 'BOOSTS': no boost active now
the CPA's bounds, applied last: minReplicas 0, maxReplicas 20
";
    assert_eq!(stdout, want);
}

#[test]
fn bad_windows_and_budgets_are_one_line_errors_naming_the_key() {
    for (extra, want) in [
        (
            "schedules:\n  - {start: '25:00', end: '06:00'}\n",
            "schedules[0].start '25:00' is not a time of day; expected HH:MM from 00:00 to 23:59",
        ),
        (
            "schedules:\n  - {start: '08:00', end: '18:00', timeZone: Europe/Berlim}\n",
            "schedules[0].timeZone 'Europe/Berlim' is not a known time zone",
        ),
        (
            "schedules:\n  - {start: '08:00', end: '18:00', days: [mon, someday]}\n",
            "schedules[0].days[1] 'someday' is not a day",
        ),
        (
            "budget: {costPerReplicaHour: 0, maxCostPerHour: 2}\n",
            "budget.costPerReplicaHour '0' is out of range; expected a cost above 0",
        ),
    ] {
        let fixture = Fixture::new(&format!("{}{extra}", lpa_config(3)));
        let output = fixture.command().arg("--check").output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(want), "\n got: {stderr}\nwant: {want}");
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error: ")).count(),
            1,
            "{stderr}"
        );
    }
}

/// The container image is Alpine without tzdata: the time zone database is
/// compiled in. An empty `TZDIR` hides the system's database from jiff,
/// which then falls back to the bundled one.
#[test]
fn time_zones_resolve_without_a_system_time_zone_database() {
    let fixture = Fixture::new("");
    let boosts = fixture.dir.path().join("boosts.json");
    std::fs::write(&fixture.config, config(&boosts)).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let output = fixture
        .command()
        .env("TZDIR", empty.path())
        .args(["--check", "--now", "2026-03-30T12:00:00+02:00"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("Mon 2026-03-30 08:00 CEST -> Mon 2026-03-30 18:00 CEST  (open now)"),
        "{stdout}"
    );
}
