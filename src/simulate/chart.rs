//! The chart of a simulation: three panels over the same time axis, drawn
//! as SVG with plotters.
//!
//! 1. Load: the rate the profile offers (a thin line) over the requests
//!    actually sent (a wide band), so neither hides the other.
//! 2. Replicas: the Deployment's replicas, those serving, and the oracle's
//!    (the least that would have met the target; dashed).
//! 3. Latency (log scale, labelled at 1-2-5 steps): the background traffic's
//!    mean and p95 per second,
//!    the metric stage's measured mean per interval (dots), and the target.

use plotters::coord::Shift;
use plotters::coord::types::{RangedCoordf64, RangedCoordu32};
use plotters::prelude::*;

use std::time::Duration;

use super::capacity::Replicas;
use super::timeline::{IntervalRecord, LatencyTarget, SecondRecord};

/// Chart width and height, pixels.
const SIZE: (u32, u32) = (1000, 900);

const LOAD: RGBColor = RGBColor(31, 119, 180);
const SENT: RGBColor = RGBColor(190, 190, 190);
const REPLICAS: RGBColor = RGBColor(44, 160, 44);
const SERVING: RGBColor = RGBColor(152, 223, 138);
const ORACLE: RGBColor = RGBColor(23, 190, 207);
const MEAN: RGBColor = RGBColor(255, 127, 14);
const P95: RGBColor = RGBColor(214, 39, 40);
const MEASURED: RGBColor = RGBColor(148, 103, 189);
const LIGHT: RGBColor = RGBColor(245, 245, 245);

/// A chart that could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing the chart failed: {0}")]
pub struct ChartError(String);

pub(super) fn chart_error<E: std::fmt::Debug>(err: E) -> ChartError {
    ChartError(format!("{err:?}"))
}

/// What the chart shows.
#[derive(Debug, Clone, Copy)]
pub struct ChartData<'a> {
    /// One record per second.
    pub seconds: &'a [SecondRecord],
    /// One record per CPA interval.
    pub intervals: &'a [IntervalRecord],
    /// Replica changes: `(seconds since start, replicas from then on)`, the
    /// first at 0.
    pub changes: &'a [(f64, u32)],
    /// How long a new replica takes to serve.
    pub startup_delay: Duration,
    /// The target the latency is judged on.
    pub target: Option<&'a LatencyTarget>,
    /// Where the time axis ends, seconds.
    pub end_seconds: f64,
}

/// Draws the chart and returns it as an SVG document.
pub fn render(data: &ChartData<'_>) -> Result<String, ChartError> {
    let ChartData {
        seconds,
        intervals,
        target,
        end_seconds,
        ..
    } = *data;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let panels = root.split_evenly((3, 1));
        let end = end_seconds.max(1.0);
        draw_load(&panels[0], seconds, end)?;
        draw_replicas(&panels[1], data, end)?;
        draw_latency(&panels[2], seconds, intervals, target, end)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn draw_load(area: &Area<'_>, seconds: &[SecondRecord], end: f64) -> Result<(), ChartError> {
    let top = seconds
        .iter()
        .map(|s| s.offered_requests_per_second.max(s.sent as f64))
        .fold(1.0, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(area)
        .caption("offered load", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..end, 0f64..top)
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .light_line_style(LIGHT)
        .y_label_formatter(&|rate| format!("{rate:.0}"))
        .y_desc("requests/s")
        .x_label_formatter(&|seconds| format!("{seconds:.0}"))
        .x_desc("seconds")
        .draw()
        .map_err(chart_error)?;
    // The requests sent as a wide grey band drawn first, the profile's rate
    // as a thin line on top: where they agree (most of the time) the band
    // shows around the line instead of hiding under it.
    let sent_style = SENT.stroke_width(6);
    chart
        .draw_series(LineSeries::new(
            steps(seconds.iter().map(|s| {
                (
                    f64::from(s.second),
                    f64::from(s.second) + 1.0,
                    s.sent as f64,
                )
            })),
            sent_style,
        ))
        .map_err(chart_error)?
        .label("requests sent")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], sent_style));
    chart
        .draw_series(LineSeries::new(
            steps(seconds.iter().map(|s| {
                (
                    f64::from(s.second),
                    f64::from(s.second) + 1.0,
                    s.offered_requests_per_second,
                )
            })),
            LOAD.stroke_width(2),
        ))
        .map_err(chart_error)?
        .label("profile rate")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], LOAD.stroke_width(2)));
    legend(&mut chart)
}

/// A step line through spans.
pub(super) fn steps<Y: Copy>(
    spans: impl Iterator<Item = Span<Y>>,
) -> impl Iterator<Item = (f64, Y)> {
    spans.flat_map(|(from, to, value)| [(from, value), (to, value)])
}

/// A constant value from one time to another: `(from, to, value)`, seconds.
pub(super) type Span<Y> = (f64, f64, Y);

/// Spans of the Deployment's replicas and of those serving, replayed from
/// the changes with the start-up delay.
fn replica_spans(data: &ChartData<'_>, end: f64) -> (Vec<Span<u32>>, Vec<Span<u32>>) {
    let secs = Duration::from_secs_f64;
    let mut replicas = Replicas::new(data.changes.first().map_or(0, |(_, r)| *r));
    let mut desired = Vec::new();
    let mut serving = Vec::new();
    for (i, &(at, count)) in data.changes.iter().enumerate() {
        if i > 0 {
            replicas.scale_to(count, secs(at), data.startup_delay);
        }
        let until = data
            .changes
            .get(i + 1)
            .map_or(end, |(next, _)| *next)
            .max(at);
        desired.push((at, until, count));
        // Serving changes within the span as starting replicas come up.
        let mut from = at;
        while from < until {
            let next = replicas
                .next_ready(secs(from))
                .map_or(until, |ready| ready.as_secs_f64().min(until));
            serving.push((from, next, replicas.serving(secs(from))));
            if next <= from {
                break;
            }
            from = next;
        }
    }
    (desired, serving)
}

fn draw_replicas(area: &Area<'_>, data: &ChartData<'_>, end: f64) -> Result<(), ChartError> {
    let (desired, serving) = replica_spans(data, end);
    let oracle = oracle_spans(data.seconds);
    let top = desired
        .iter()
        .chain(&oracle)
        .map(|(_, _, r)| *r)
        .max()
        .unwrap_or(1)
        .max(1)
        + 1;
    let mut chart = replica_axes(area, "replicas", end, top)?;
    chart
        .draw_series(LineSeries::new(
            steps(desired.into_iter()),
            REPLICAS.stroke_width(2),
        ))
        .map_err(chart_error)?
        .label("spec.replicas")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], REPLICAS.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(steps(serving.into_iter()), SERVING))
        .map_err(chart_error)?
        .label("serving")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], SERVING));
    if !oracle.is_empty() {
        draw_oracle(&mut chart, &oracle)?;
    }
    chart
        .draw_series(
            data.intervals
                .iter()
                .map(|i| Circle::new((i.at_seconds, i.replicas), 3, BLACK.filled())),
        )
        .map_err(chart_error)?
        .label("CPA interval")
        .legend(|(x, y)| Circle::new((x + 10, y), 3, BLACK.filled()));
    legend(&mut chart)
}

/// A panel of replicas (0 to `top`) over seconds (0 to `end`), its mesh drawn.
pub(super) fn replica_axes<'a>(
    area: &Area<'a>,
    caption: &str,
    end: f64,
    top: u32,
) -> Result<ReplicaChart<'a>, ChartError> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..end, 0u32..top)
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .light_line_style(LIGHT)
        .y_desc("replicas")
        .x_label_formatter(&|seconds| format!("{seconds:.0}"))
        .x_desc("seconds")
        .draw()
        .map_err(chart_error)?;
    Ok(chart)
}

/// Spans of the oracle's replicas, one per second that has them.
pub(super) fn oracle_spans(seconds: &[SecondRecord]) -> Vec<Span<u32>> {
    seconds
        .iter()
        .filter_map(|s| {
            let from = f64::from(s.second);
            s.oracle_replicas.map(|count| (from, from + 1.0, count))
        })
        .collect()
}

/// A chart of replicas over seconds.
pub(super) type ReplicaChart<'a> =
    ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordu32>>;

/// The oracle's replicas as a dashed step line, with its legend entry.
pub(super) fn draw_oracle(
    chart: &mut ReplicaChart<'_>,
    oracle: &[Span<u32>],
) -> Result<(), ChartError> {
    let style = ORACLE.stroke_width(2);
    chart
        .draw_series(DashedLineSeries::new(
            steps(oracle.iter().copied()).collect::<Vec<_>>(),
            6,
            4,
            style,
        ))
        .map_err(chart_error)?
        .label("oracle (least meeting the target)")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
    Ok(())
}

/// The latency axis, ms: from below the lowest latency (at least 0.1 ms, as
/// the scale is logarithmic) to above the highest, the target included.
fn latency_range(
    seconds: &[SecondRecord],
    intervals: &[IntervalRecord],
    target: Option<&LatencyTarget>,
) -> (f64, f64) {
    let values = seconds
        .iter()
        .flat_map(|s| [s.mean_ms, s.p95_ms])
        .chain(intervals.iter().map(|i| i.measured_mean_ms))
        .chain([target.map(|t| t.target)])
        .flatten();
    let (low, high) = values.fold((f64::MAX, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    ((low.min(high) * 0.8).max(0.1), high * 1.5)
}

/// The latency axis's labels: 1, 2 and 5 times each power of ten within
/// `low..=high` (10, 20, 50, 100, 200, 500, ... ms), so a 50 ms service time
/// or a 100 ms target reads off the axis.
fn latency_ticks(low: f64, high: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mut decade = 10f64.powf(low.max(1e-3).log10().floor());
    while decade <= high {
        for step in [1.0, 2.0, 5.0] {
            let tick = decade * step;
            if (low..=high).contains(&tick) {
                ticks.push(tick);
            }
        }
        decade *= 10.0;
    }
    ticks
}

/// A latency tick as written on the axis: whole milliseconds, decimals only
/// below 1 ms.
fn tick_label(ms: f64) -> String {
    if ms >= 1.0 {
        format!("{ms:.0}")
    } else {
        format!("{ms}")
    }
}

fn draw_latency(
    area: &Area<'_>,
    seconds: &[SecondRecord],
    intervals: &[IntervalRecord],
    target: Option<&LatencyTarget>,
    end: f64,
) -> Result<(), ChartError> {
    let latency_target = target.filter(|t| t.kind.is_latency());
    let (low, high) = latency_range(seconds, intervals, latency_target);
    let mut chart = ChartBuilder::on(area)
        .caption("latency (log scale)", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(
            0f64..end,
            (low..high)
                .log_scale()
                .with_key_points(latency_ticks(low, high)),
        )
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .light_line_style(LIGHT)
        .y_label_formatter(&|ms| tick_label(*ms))
        .y_desc("milliseconds")
        .x_label_formatter(&|seconds| format!("{seconds:.0}"))
        .x_desc("seconds")
        .draw()
        .map_err(chart_error)?;
    for (name, color, value) in [
        (
            "traffic p95",
            P95,
            (|s: &SecondRecord| s.p95_ms) as fn(&SecondRecord) -> Option<f64>,
        ),
        ("traffic mean", MEAN, |s: &SecondRecord| s.mean_ms),
    ] {
        chart
            .draw_series(LineSeries::new(
                seconds
                    .iter()
                    .filter_map(|s| value(s).map(|v| (f64::from(s.second) + 0.5, v.max(low)))),
                color,
            ))
            .map_err(chart_error)?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color));
    }
    chart
        .draw_series(intervals.iter().filter_map(|i| {
            // The measurement covers the metric stage's run: dot its middle.
            let at = i.at_seconds + i.metric_seconds.unwrap_or(0.0) / 2.0;
            i.measured_mean_ms
                .map(|v| Circle::new((at, v.max(low)), 4, MEASURED.filled()))
        }))
        .map_err(chart_error)?
        .label("metric stage mean")
        .legend(|(x, y)| Circle::new((x + 10, y), 4, MEASURED.filled()));
    if let Some(target) = latency_target {
        chart
            .draw_series(LineSeries::new(
                [(0.0, target.target), (end, target.target)],
                BLACK.stroke_width(1),
            ))
            .map_err(chart_error)?
            .label(format!("target: {} {} ms", target.kind, target.target))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK));
    }
    legend(&mut chart)
}

pub(super) fn legend<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
) -> Result<(), ChartError>
where
    X: Ranged,
    Y: Ranged,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(chart_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::capacity::DeploymentStatus;
    use crate::simulate::timeline::IntervalOutcome;

    #[test]
    fn draws_three_labelled_panels_with_the_target() {
        let seconds: Vec<SecondRecord> = (0..20)
            .map(|second| SecondRecord {
                second,
                offered_requests_per_second: if second < 10 { 20.0 } else { 100.0 },
                sent: 20,
                dropped: 0,
                succeeded: 20,
                failed: 0,
                mean_ms: Some(50.0 + f64::from(second)),
                p95_ms: Some(80.0 + f64::from(second)),
                replicas: 1 + second / 10,
                serving_replicas: 1,
                queued: 0,
                oracle_replicas: Some(1 + second / 10),
            })
            .collect();
        let intervals = vec![IntervalRecord {
            at_seconds: 5.0,
            offered_requests_per_second: 20.0,
            replicas: 1,
            serving_replicas: 1,
            status: DeploymentStatus::default(),
            measured_mean_ms: Some(55.0),
            measured_p95_ms: Some(70.0),
            evaluated_replicas: Some(1),
            decided_replicas: Some(1),
            outcome: IntervalOutcome::Unchanged,
            reason: String::new(),
            metric_seconds: Some(2.0),
            evaluate_seconds: Some(0.01),
            early_stop_shadow: None,
            measured_query_value: None,
            cpu_utilization: None,
        }];
        let target = LatencyTarget {
            method: "GET".into(),
            endpoint: "/fibonacci?n=10".into(),
            kind: crate::evaluate::config::TargetKind::Mean,
            target: 100.0,
        };
        let svg = render(&ChartData {
            seconds: &seconds,
            intervals: &intervals,
            changes: &[(0.0, 1), (10.0, 2)],
            startup_delay: Duration::from_secs(2),
            target: Some(&target),
            end_seconds: 20.0,
        })
        .unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        for text in [
            "offered load",
            "replicas",
            "latency (log scale)",
            "target: mean 100 ms",
            "metric stage mean",
            "CPA interval",
            "oracle (least meeting the target)",
        ] {
            assert!(svg.contains(text), "the chart lacks {text:?}");
        }
        // The latency axis labels 50 ms (the service time); only it does.
        assert!(svg.contains(">\n50\n<"), "the latency axis lacks 50");
        // The requests sent are a band wider than the profile's line.
        assert!(svg.contains(r##"stroke="#BEBEBE" stroke-width="6""##));
    }

    #[test]
    fn the_latency_axis_is_labelled_at_one_two_and_five_times_ten() {
        assert_eq!(
            latency_ticks(30.0, 1500.0),
            [50.0, 100.0, 200.0, 500.0, 1000.0]
        );
        assert_eq!(latency_ticks(0.5, 3.0), [0.5, 1.0, 2.0]);
        assert_eq!(tick_label(50.0), "50");
        assert_eq!(tick_label(0.5), "0.5");
    }

    #[test]
    fn serving_replicas_lag_the_deployment_by_the_startup_delay() {
        let data = ChartData {
            seconds: &[],
            intervals: &[],
            changes: &[(0.0, 1), (10.0, 3), (20.0, 2)],
            startup_delay: Duration::from_secs(2),
            target: None,
            end_seconds: 30.0,
        };
        let (desired, serving) = replica_spans(&data, 30.0);
        assert_eq!(desired, [(0.0, 10.0, 1), (10.0, 20.0, 3), (20.0, 30.0, 2)]);
        assert_eq!(
            serving,
            [
                (0.0, 10.0, 1),
                (10.0, 12.0, 1),
                (12.0, 20.0, 3),
                (20.0, 30.0, 2)
            ]
        );
    }

    #[test]
    fn an_empty_run_still_draws() {
        let svg = render(&ChartData {
            seconds: &[],
            intervals: &[],
            changes: &[],
            startup_delay: Duration::ZERO,
            target: None,
            end_seconds: 0.0,
        })
        .unwrap();
        assert!(svg.contains("offered load"));
    }
}
