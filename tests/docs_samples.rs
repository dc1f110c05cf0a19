//! The samples and claims in `docs/simulate.md` kept honest: the image build
//! command it quotes is the `Dockerfile`'s, what it says of debug builds is
//! what `Cargo.toml` does, and its sample summary has exactly the keys `gpa
//! simulate` prints, each explained in the key table, with figures that add
//! up, the built-in profile's length and oracle, and the ratio the prose
//! quotes.

use std::path::Path;
use std::time::Duration;

use goose_pod_autoscaler::cpa::RunType;
use goose_pod_autoscaler::simulate::profile::LoadProfile;
use goose_pod_autoscaler::simulate::timeline::{self, OutputFiles, Recording};
use goose_pod_autoscaler::simulate::{self, Settings};

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// `text` with runs of whitespace (newlines, a shell's `\` continuations)
/// made one space.
fn one_line(text: &str) -> String {
    text.replace("\\\n", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_image_build_command_the_docs_quote_is_the_dockerfile_s() {
    let dockerfile = one_line(&read("Dockerfile"));
    let start = dockerfile.find("RUN cargo build").expect("a cargo build") + "RUN ".len();
    let command: String = dockerfile[start..]
        .split(" RUN ")
        .next()
        .unwrap()
        .split(" # ")
        .next()
        .unwrap()
        .split(" FROM ")
        .next()
        .unwrap()
        .trim()
        .to_string();
    assert!(command.contains("--features alerts") && command.contains("--bin gpa"));
    let docs = one_line(&read("docs/simulate.md"));
    assert!(
        docs.contains(&format!("`{command}`")),
        "docs/simulate.md does not quote the image's build command `{command}`"
    );
}

#[test]
fn what_the_docs_say_of_debug_builds_is_what_cargo_toml_does() {
    let manifest = read("Cargo.toml");
    let section = manifest
        .split("\n[")
        .find(|section| section.starts_with("profile.dev.package.\"*\"]"))
        .expect("a [profile.dev.package.\"*\"] section");
    let optimised = section.lines().any(|line| line.starts_with("opt-level"));
    let docs = one_line(&read("docs/simulate.md"));
    let says_unoptimised = docs.contains("unoptimised, dependencies included");
    assert_eq!(
        says_unoptimised, !optimised,
        "docs/simulate.md's first run says whether dependencies are optimised in debug builds"
    );
    assert!(!docs.contains("optimises the dependencies even there"));
}

/// The JSON block of the `## The summary` section.
fn sample_summary(docs: &str) -> serde_json::Value {
    let section = docs
        .split("\n## ")
        .find(|section| section.starts_with("The summary"))
        .expect("a '## The summary' section");
    let start = section.find("```json\n").expect("a JSON sample") + "```json\n".len();
    let length = section[start..].find("```").unwrap();
    serde_json::from_str(&section[start..start + length]).expect("the sample is JSON")
}

/// A summary as `gpa simulate` prints it, of the built-in profile and
/// target, and the oracle's replica-seconds for them.
fn real_summary() -> serde_json::Value {
    let profile = LoadProfile::parse_str(simulate::DEFAULT_PROFILE, Path::new("built-in")).unwrap();
    let target = timeline::parse_target(simulate::DEFAULT_EVALUATION_CONFIG).unwrap();
    let seconds = profile.duration().as_secs_f64().ceil() as u64;
    let rates: Vec<f64> = (0..seconds)
        .map(|s| profile.rate_at(Duration::from_secs(s)).unwrap_or(0.0))
        .collect();
    let settings = Settings::default();
    let oracle = timeline::oracle_replicas(&target, &rates, &settings.capacity);
    let window_oracle = timeline::window_oracle_replicas(
        &target,
        &oracle,
        &rates,
        &settings.capacity,
        settings.metrics_window.as_secs() as usize,
    );
    let summary = timeline::summarize(
        Recording {
            run_type: RunType::Scaler,
            intervals: &[],
            changes: &[(0.0, 1)],
            traffic: &[],
            target: Some(&target),
            oracle: &oracle,
            window_oracle: &window_oracle,
            end_seconds: profile.duration().as_secs_f64(),
            run_seconds: 140.0,
        },
        OutputFiles::default(),
    );
    serde_json::to_value(summary).unwrap()
}

#[test]
fn the_sample_summary_has_the_keys_gpa_simulate_prints_and_its_figures_add_up() {
    let docs = read("docs/simulate.md");
    let sample = sample_summary(&docs);
    let real = real_summary();
    let keys = |value: &serde_json::Value| -> Vec<String> {
        value.as_object().unwrap().keys().cloned().collect()
    };
    assert_eq!(keys(&sample), keys(&real), "the sample's keys");
    // Every key is explained in the key table below the sample.
    for key in keys(&real) {
        assert!(
            docs.lines().any(|line| line.starts_with("| `")
                && line
                    .split('|')
                    .nth(1)
                    .unwrap()
                    .contains(&format!("`{key}`"))),
            "no row of the key table explains `{key}`"
        );
    }
    let number = |key: &str| sample[key].as_f64().unwrap_or_else(|| panic!("{key}"));
    // The built-in profile and its oracle.
    assert_eq!(
        number("profileSeconds"),
        real["profileSeconds"].as_f64().unwrap()
    );
    assert_eq!(
        number("oracleReplicaSeconds"),
        real["oracleReplicaSeconds"].as_f64().unwrap()
    );
    assert_eq!(
        number("windowOracleReplicaSeconds"),
        real["windowOracleReplicaSeconds"].as_f64().unwrap()
    );
    // The figures add up.
    assert_eq!(
        number("scaleEvents"),
        number("scaleUps") + number("scaleDowns")
    );
    let ratio = (number("replicaSeconds") / number("oracleReplicaSeconds") * 100.0).round() / 100.0;
    assert_eq!(number("replicaSecondsRatio"), ratio);
    assert!(number("decidedIntervals") + number("skippedIntervals") <= number("intervals"));
    assert!(number("initialReplicas") <= number("peakReplicas"));
    assert!(number("finalReplicas") <= number("peakReplicas"));
    let requests = &sample["requests"];
    assert_eq!(
        requests["sent"].as_u64().unwrap(),
        requests["succeeded"].as_u64().unwrap() + requests["failed"].as_u64().unwrap()
    );
    assert_eq!(sample["interrupted"], false);
    // The ratio the key table quotes is the sample's.
    let quoted = format!(
        "{ratio:.2} spent {:.0} % more than needed",
        (ratio - 1.0) * 100.0
    );
    assert!(
        docs.contains(&quoted),
        "the key table should say '{quoted}'"
    );
}

/// The `--compare` sample in docs/simulate.md is a run of the command it
/// quotes: its rows name the configs of that command, in order, each a file
/// in this repository, against the built-in profile's oracle, and each
/// row's figures add up.
#[test]
fn the_compare_sample_rows_are_the_quoted_command_s_configs_and_add_up() {
    let docs = read("docs/simulate.md");
    let section = docs
        .split("\n## ")
        .find(|section| section.starts_with("Comparing evaluation configs"))
        .expect("a '## Comparing evaluation configs' section");
    let command = section
        .lines()
        .find(|line| line.contains("gpa simulate --compare"))
        .expect("the command");
    let configs: Vec<&str> = command
        .split_whitespace()
        .skip_while(|word| *word != "--compare")
        .skip(1)
        .take_while(|word| !word.starts_with("--"))
        .collect();
    assert!(configs.len() >= 2, "{command}");
    let start = section.find("```text\n").expect("the stderr table") + "```text\n".len();
    let length = section[start..].find("```").unwrap();
    let rows: Vec<Vec<&str>> = section[start..start + length]
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|cells| !cells.is_empty())
        .collect();
    let oracle = real_summary()["oracleReplicaSeconds"].as_f64().unwrap();
    assert_eq!(rows.len(), configs.len(), "a row per config of '{command}'");
    for (row, config) in rows.iter().zip(&configs) {
        assert_eq!(row.len(), 9, "{row:?}");
        assert_eq!(row[0], *config, "rows in the command's order");
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(config).is_file(),
            "{config}"
        );
        let number = |at: usize| row[at].parse::<f64>().unwrap_or_else(|_| panic!("{row:?}"));
        assert_eq!(number(3), oracle, "the built-in profile's oracle: {row:?}");
        let ratio = (number(2) / oracle * 100.0).round() / 100.0;
        assert_eq!(number(4), ratio, "{row:?}");
        assert!(number(1) >= 1.0, "a peak of at least one replica: {row:?}");
        // the first stretch over target lies within all seconds over it
        assert!(number(6) <= number(5), "reaction within over-s: {row:?}");
    }
}
