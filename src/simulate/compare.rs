//! `gpa simulate --compare A.yaml B.yaml ...`: the same load profile run once
//! under each evaluation config, one after another, each into its own
//! subfolder of the output folder; then one row of figures per config (the
//! table on stderr, the rows as JSON on stdout) and one chart,
//! `compare.svg`, with each run's replicas and the oracle's.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::chart::{self, ChartError, Span};
use super::timeline::{SecondRecord, Summary};
use super::{Finished, Settings, SimulateError};

/// One compared run's figures (see the summary's keys of the same names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompareRow {
    /// The evaluation config the run was given.
    pub evaluation_config: PathBuf,
    /// The run's own output folder.
    pub output_dir: PathBuf,
    /// Most replicas at any time.
    pub peak_replicas: u32,
    /// Replicas summed over time, replica-seconds.
    pub replica_seconds: f64,
    /// The oracle's replica-seconds; `None` without a target.
    pub oracle_replica_seconds: Option<f64>,
    /// `replicaSeconds / oracleReplicaSeconds`.
    pub replica_seconds_ratio: Option<f64>,
    /// Seconds in which the background traffic missed the target.
    pub seconds_over_target: Option<u32>,
    /// From the first second over target to the first back under, seconds.
    pub reaction_seconds: Option<u32>,
    /// Changes of direction of the replica count within 3 intervals.
    pub reversals: u32,
    /// Intervals in which a stage failed (nothing scaled).
    pub skipped_intervals: u32,
    /// Intervals in which both stages succeeded; 0 when every one was
    /// skipped, and the row then claims nothing about the target.
    pub decided_intervals: u32,
    /// Why this config decided nothing (every interval skipped), with the
    /// first skip's reason: the comparison then fails, after its rows are
    /// written. Not part of the JSON row.
    #[serde(skip)]
    pub undecided: Option<String>,
    /// The signal that ended this run early (and the comparison with it:
    /// the configs after it were not run); `null` for a whole run.
    pub interrupted_by: Option<super::interrupt::Interruption>,
}

impl CompareRow {
    fn new(
        evaluation_config: &Path,
        summary: &Summary,
        undecided: Option<String>,
        output_dir: PathBuf,
    ) -> Self {
        CompareRow {
            evaluation_config: evaluation_config.to_owned(),
            output_dir,
            peak_replicas: summary.peak_replicas,
            replica_seconds: summary.replica_seconds,
            oracle_replica_seconds: summary.oracle_replica_seconds,
            replica_seconds_ratio: summary.replica_seconds_ratio,
            seconds_over_target: summary.seconds_over_target,
            reaction_seconds: summary.reaction_seconds,
            reversals: summary.reversals,
            skipped_intervals: summary.skipped_intervals,
            decided_intervals: summary.decided_intervals,
            undecided,
            interrupted_by: summary.interrupted_by,
        }
    }
}

/// Runs the profile once under each of `settings.compare`, writes
/// `compare.svg` into the output folder, and returns one row per config, in
/// the order given. Needs a multi-threaded tokio runtime.
pub async fn run(settings: &Settings) -> Result<Vec<CompareRow>, SimulateError> {
    settings.validate()?;
    let names = folder_names(&settings.compare);
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    let mut end = 1.0f64;
    for (config, name) in settings.compare.iter().zip(names) {
        let one = Settings {
            evaluation_config: Some(config.clone()),
            output_dir: settings.output_dir.join(&name),
            compare: Vec::new(),
            ..settings.clone()
        };
        tracing::info!(
            "comparing: running the profile under '{}' into '{}'",
            config.display(),
            one.output_dir.display()
        );
        let Finished {
            summary,
            seconds,
            undecided,
        } = super::run_recorded(&one).await?;
        end = end.max(summary.profile_seconds);
        rows.push(CompareRow::new(config, &summary, undecided, one.output_dir));
        lines.push((name, seconds));
        if summary.interrupted {
            // The configs not run yet are left out; the chart shows the rest.
            break;
        }
    }
    let path = settings.output_dir.join("compare.svg");
    let svg = render(&lines, end)?;
    super::output::write(&path, &svg)?;
    tracing::info!("comparison chart in {}", path.display());
    Ok(rows)
}

/// Each config's subfolder: its file stem, made unique with `-2`, `-3`, ...
/// when two configs share one.
fn folder_names(configs: &[PathBuf]) -> Vec<String> {
    let mut taken = BTreeSet::new();
    configs
        .iter()
        .map(|config| {
            let stem = config
                .file_stem()
                .map_or_else(|| "run".into(), |s| s.to_string_lossy().into_owned());
            let mut name = stem.clone();
            let mut n = 1;
            while !taken.insert(name.clone()) {
                n += 1;
                name = format!("{stem}-{n}");
            }
            name
        })
        .collect()
}

/// The rows as a table for people: a header and one line per config.
pub fn table(rows: &[CompareRow]) -> String {
    let figure = |value: Option<String>| value.unwrap_or_else(|| "-".into());
    let mut out = format!(
        "{:<28} {:>5} {:>10} {:>8} {:>6} {:>7} {:>9} {:>9} {:>7}\n",
        "evaluation config",
        "peak",
        "replica-s",
        "oracle",
        "ratio",
        "over-s",
        "reaction",
        "reversals",
        "skipped"
    );
    for row in rows {
        let _ = writeln!(
            out,
            "{:<28} {:>5} {:>10.1} {:>8} {:>6} {:>7} {:>9} {:>9} {:>7}",
            row.evaluation_config.display().to_string(),
            row.peak_replicas,
            row.replica_seconds,
            figure(row.oracle_replica_seconds.map(|s| format!("{s:.1}"))),
            figure(row.replica_seconds_ratio.map(|r| format!("{r:.2}"))),
            figure(row.seconds_over_target.map(|s| s.to_string())),
            figure(row.reaction_seconds.map(|s| s.to_string())),
            row.reversals,
            row.skipped_intervals
        );
    }
    out
}

/// A distinct colour for each run's line.
const PALETTE: [RGBColor; 6] = [
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(31, 119, 180),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
];

/// Draws each run's replicas per second and the oracle's (once per distinct
/// oracle: runs whose configs have different targets have different ones).
pub fn render(runs: &[(String, Vec<SecondRecord>)], end: f64) -> Result<String, ChartError> {
    let spans = |seconds: &[SecondRecord]| -> Vec<Span<u32>> {
        seconds
            .iter()
            .map(|s| (f64::from(s.second), f64::from(s.second) + 1.0, s.replicas))
            .collect()
    };
    let mut oracles: Vec<Vec<Span<u32>>> = Vec::new();
    for (_, seconds) in runs {
        let oracle = chart::oracle_spans(seconds);
        if !oracle.is_empty() && !oracles.contains(&oracle) {
            oracles.push(oracle);
        }
    }
    let top = runs
        .iter()
        .flat_map(|(_, seconds)| seconds.iter().map(|s| s.replicas))
        .chain(oracles.iter().flatten().map(|(_, _, r)| *r))
        .max()
        .unwrap_or(1)
        .max(1)
        + 1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1000, 450)).into_drawing_area();
        root.fill(&WHITE).map_err(chart::chart_error)?;
        let mut plot = chart::replica_axes(&root, "replicas by evaluation config", end, top)?;
        for (index, (name, seconds)) in runs.iter().enumerate() {
            // Each config's line thinner than the one before, drawn on top
            // of it: where configs agree the lines nest instead of hiding
            // each other.
            let width = 2 + 3 * (runs.len() - 1 - index) as u32;
            let color = PALETTE[index % PALETTE.len()].stroke_width(width);
            plot.draw_series(LineSeries::new(
                chart::steps(spans(seconds).into_iter()),
                color,
            ))
            .map_err(chart::chart_error)?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color));
        }
        for oracle in &oracles {
            chart::draw_oracle(&mut plot, oracle)?;
        }
        chart::legend(&mut plot)?;
        root.present().map_err(chart::chart_error)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_config_gets_its_own_folder_even_when_names_repeat() {
        let configs = [
            PathBuf::from("a/eager.yaml"),
            PathBuf::from("b/eager.yaml"),
            PathBuf::from("calm.yml"),
            PathBuf::from("eager.yaml"),
        ];
        assert_eq!(
            folder_names(&configs),
            ["eager", "eager-2", "calm", "eager-3"]
        );
    }

    fn row(config: &str, ratio: Option<f64>) -> CompareRow {
        CompareRow {
            evaluation_config: config.into(),
            output_dir: "out/x".into(),
            peak_replicas: 7,
            replica_seconds: 464.8,
            oracle_replica_seconds: ratio.map(|_| 290.0),
            replica_seconds_ratio: ratio,
            seconds_over_target: Some(8),
            reaction_seconds: None,
            reversals: 1,
            skipped_intervals: 0,
            decided_intervals: 9,
            undecided: None,
            interrupted_by: None,
        }
    }

    #[test]
    fn the_table_has_a_header_and_a_row_per_config_with_dashes_for_unknowns() {
        let text = table(&[row("eager.yaml", Some(1.6)), row("none.yaml", None)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("evaluation config"), "{text}");
        let cells: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(
            cells,
            [
                "eager.yaml",
                "7",
                "464.8",
                "290.0",
                "1.60",
                "8",
                "-",
                "1",
                "0"
            ]
        );
        let cells: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!(cells[3..5], ["-", "-"]);
    }

    #[test]
    fn the_chart_has_a_line_per_run_and_the_oracle_once() {
        let seconds = |replicas: u32| -> Vec<SecondRecord> {
            (0..10)
                .map(|second| SecondRecord {
                    second,
                    offered_requests_per_second: 100.0,
                    sent: 100,
                    dropped: 0,
                    succeeded: 100,
                    failed: 0,
                    mean_ms: None,
                    p95_ms: None,
                    replicas,
                    serving_replicas: replicas,
                    queued: 0,
                    oracle_replicas: Some(2),
                })
                .collect()
        };
        let svg = render(
            &[("eager".into(), seconds(3)), ("calm".into(), seconds(1))],
            10.0,
        )
        .unwrap();
        for text in ["eager", "calm", "replicas by evaluation config"] {
            assert!(svg.contains(text), "the chart lacks {text:?}");
        }
        assert_eq!(
            svg.matches("oracle (least meeting the target)").count(),
            1,
            "one oracle line for runs with the same target"
        );
        // Where the runs agree, the first is drawn wider than the second,
        // so the second's line shows inside it.
        let two_alike = render(
            &[("eager".into(), seconds(2)), ("calm".into(), seconds(2))],
            10.0,
        )
        .unwrap();
        assert!(two_alike.contains(r#"stroke-width="5""#), "{two_alike}");
        assert!(two_alike.contains(r#"stroke-width="2""#));
    }
}
