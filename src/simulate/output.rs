//! The output folder: preparing it before a run (the built-in plugin files,
//! no stale decay state) and writing the chart, the CSV tables and the
//! timeline after it, each file whole or not at all.

use std::path::{Path, PathBuf};

use super::chart::{self, ChartData};
use super::settings::Settings;
use super::timeline::{self, IntervalRecord, OutputFiles, SecondRecord, Summary, Timeline};
use super::{DEFAULT_SCENARIO, SimulateError};

/// Writes `contents` to `path` through `<path>.tmp` and a rename, so a
/// reader (a browser showing the chart, a script reading the CSV) never sees
/// a half-written file.
pub(super) fn write(path: &Path, contents: &str) -> Result<(), SimulateError> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, contents).map_err(output_error(&temporary))?;
    std::fs::rename(&temporary, path).map_err(output_error(path))
}

fn output_error(path: &Path) -> impl FnOnce(std::io::Error) -> SimulateError + '_ {
    move |error| SimulateError::Output {
        path: path.to_owned(),
        error,
    }
}

/// The plugin files the stages are pointed at.
pub struct PluginFiles {
    /// The evaluation config (`evaluationConfigFilePath`).
    pub evaluation_config: PathBuf,
    /// The scenario (`scenarioFilePath`).
    pub scenario: PathBuf,
    /// The decay state (`decayInfoFilePath`).
    pub decay_info: PathBuf,
}

impl PluginFiles {
    /// Creates the output folder, writes the built-in files the settings do not
    /// replace, and removes any decay state a previous run left.
    pub fn prepare(settings: &Settings) -> Result<Self, SimulateError> {
        let dir = &settings.output_dir;
        std::fs::create_dir_all(dir).map_err(output_error(dir))?;
        let built_in = |given: &Option<PathBuf>, name: &str, contents: &str| match given {
            Some(path) => Ok(path.clone()),
            None => {
                let path = dir.join(name);
                write(&path, contents).map(|()| path)
            }
        };
        let evaluation_config = built_in(
            &settings.evaluation_config,
            "evaluation-config.yaml",
            &super::prometheus::built_in_evaluation_config(settings.prometheus),
        )?;
        let scenario = built_in(&settings.scenario, "scenario.yaml", DEFAULT_SCENARIO)?;
        let decay_info = dir.join("decay-info.json");
        match std::fs::remove_file(&decay_info) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(output_error(&decay_info)(err)),
        }
        Ok(PluginFiles {
            evaluation_config,
            scenario,
            decay_info,
        })
    }
}

/// Where a run writes its results in `dir`.
pub fn output_files(dir: &Path) -> OutputFiles {
    OutputFiles {
        chart: dir.join("chart.svg"),
        seconds_csv: dir.join("seconds.csv"),
        intervals_csv: dir.join("intervals.csv"),
        timeline_json: dir.join("timeline.json"),
    }
}

/// Writes the chart, both CSV tables and the timeline to `summary.files`.
/// `changes` are the replica changes, `(seconds since start, replicas from
/// then on)`; the chart's time axis ends at `end_seconds`.
pub fn write_results(
    settings: &Settings,
    summary: &Summary,
    seconds: Vec<SecondRecord>,
    intervals: Vec<IntervalRecord>,
    changes: &[(f64, u32)],
    end_seconds: f64,
) -> Result<(), SimulateError> {
    let files = &summary.files;
    let svg = chart::render(&ChartData {
        seconds: &seconds,
        intervals: &intervals,
        changes,
        startup_delay: settings.capacity.startup_delay,
        target: summary.target.as_ref(),
        end_seconds,
    })?;
    write(&files.chart, &svg)?;
    write(&files.seconds_csv, &timeline::seconds_csv(&seconds))?;
    write(&files.intervals_csv, &timeline::intervals_csv(&intervals))?;
    let timeline = Timeline {
        summary: summary.clone(),
        seconds,
        intervals,
    };
    let json = serde_json::to_string_pretty(&timeline).unwrap_or_default();
    write(&files.timeline_json, &json)
}
