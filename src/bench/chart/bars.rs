//! The throughput panel: grouped bars on a linear axis from zero, the value over each bar,
//! and under each group the baseline's ratio to every other series.
//!
//! A series keeps its slot in every group (a missing measurement leaves a gap), so a colour
//! is always in the same place within its group.

use super::Chart;
use super::svg::{self, Linear, Svg, format_rate, num};

/// Space above the plot: the panel's heading, how to read the ratios, and the legend.
const TOP: f64 = 48.0;
/// Space left of the plot: the tick labels and the axis title.
const LEFT: f64 = 78.0;
/// Space right of the plot.
const RIGHT: f64 = 20.0;
/// The plot's height.
const PLOT: f64 = 250.0;
/// One line of text under the axis (the group's name, one ratio).
const LINE: f64 = 14.0;
/// Of a group's slot, the share its bars take (the rest separates groups).
const FILL: f64 = 0.8;
/// The widest bar.
const BAR_MAX: f64 = 64.0;
/// Bars narrower than this get their value written vertically.
const BAR_LABEL_MIN: f64 = 34.0;

/// The panel's height for `chart`: one line under the axis for the group name and one per
/// ratio.
pub fn height(chart: &Chart) -> f64 {
    TOP + PLOT + 12.0 + LINE * chart.series.len().max(1) as f64 + 12.0
}

/// Draws the panel with its top-left corner at `origin`, `width` wide.
pub fn draw(svg: &mut Svg, chart: &Chart, (x0, y0): (f64, f64), width: f64) {
    svg.open("g", &[("class", "throughput".to_owned())]);
    svg.text(x0 + 20.0, y0 + 18.0, "start", "heading", "Throughput (ops/s, higher is better)");
    if chart.series.len() > 1 {
        let reading = format!(
            "under each group: {} / the series of the ratio's colour",
            chart.series[chart.baseline]
        );
        svg.text(x0 + 20.0, y0 + 32.0, "start", "note", &reading);
    }
    super::legend(svg, chart, x0 + width - RIGHT, y0 + 18.0);
    let (left, right) = (x0 + LEFT, x0 + width - RIGHT);
    let (top, bottom) = (y0 + TOP, y0 + TOP + PLOT);

    let max = chart
        .groups
        .iter()
        .flat_map(|group| &group.measurements)
        .map(|measurement| measurement.ops_per_s)
        .fold(0.0, f64::max);
    let ticks = svg::linear_ticks(max, 6);
    let y = Linear::new((0.0, *ticks.last().expect("ticks are never empty")), (bottom, top));
    for &tick in &ticks {
        svg.line((left, y.at(tick)), (right, y.at(tick)), "grid");
        svg.text(left - 6.0, y.at(tick) + 4.0, "end", "tick", &format_rate(tick));
    }
    let middle = (top + bottom) / 2.0;
    svg.leaf(
        "text",
        &[
            ("x", num(x0 + 16.0)),
            ("y", num(middle)),
            ("text-anchor", "middle".to_owned()),
            ("class", "tick".to_owned()),
            ("transform", format!("rotate(-90 {} {})", num(x0 + 16.0), num(middle))),
        ],
        "operations per second",
    );

    let slot = (right - left) / chart.groups.len().max(1) as f64;
    let series = chart.series.len().max(1);
    let bar = (slot * FILL / series as f64).min(BAR_MAX);
    for (g, group) in chart.groups.iter().enumerate() {
        let centre = left + slot * (g as f64 + 0.5);
        let first = centre - bar * series as f64 / 2.0;
        for measurement in &group.measurements {
            let x = first + bar * measurement.series as f64;
            let top_y = y.at(measurement.ops_per_s);
            let name = &chart.series[measurement.series];
            svg.open(
                "rect",
                &[
                    ("class", "bar".to_owned()),
                    ("data-series", name.clone()),
                    ("data-group", group.name.clone()),
                    ("data-value", format!("{}", measurement.ops_per_s)),
                    ("x", num(x + 1.0)),
                    ("y", num(top_y)),
                    ("width", num(bar - 2.0)),
                    ("height", num(bottom - top_y)),
                    ("fill", svg::PALETTE[measurement.series].to_owned()),
                ],
            );
            let tooltip = format!("{name}, {}: {:.0} ops/s", group.name, measurement.ops_per_s);
            svg.leaf("title", &[], &tooltip);
            svg.close("rect");
            let label = format_rate(measurement.ops_per_s);
            let label_x = x + bar / 2.0;
            if bar >= BAR_LABEL_MIN {
                svg.text(label_x, top_y - 4.0, "middle", "value", &label);
            } else {
                let (lx, ly) = (label_x + 3.0, top_y - 4.0);
                svg.leaf(
                    "text",
                    &[
                        ("x", num(lx)),
                        ("y", num(ly)),
                        ("text-anchor", "start".to_owned()),
                        ("class", "value".to_owned()),
                        ("transform", format!("rotate(-90 {} {})", num(lx), num(ly))),
                    ],
                    &label,
                );
            }
        }
        svg.text(centre, bottom + 16.0, "middle", "tick", &group.name);
        ratios(svg, chart, g, centre, slot, bottom + 16.0 + LINE);
    }
    svg.line((left, bottom), (right, bottom), "axis");
    svg.line((left, top), (left, bottom), "axis");
    svg.close("g");
}

/// Under group `g`, one line per other series: `baseline/other 1.14x`, in the other series'
/// colour; only the ratio when the group's slot is too narrow for the names.
fn ratios(svg: &mut Svg, chart: &Chart, g: usize, centre: f64, slot: f64, mut y: f64) {
    let measurements = &chart.groups[g].measurements;
    let Some(base) = measurements.iter().find(|m| m.series == chart.baseline) else { return };
    let base_name = &chart.series[chart.baseline];
    for other in measurements.iter().filter(|m| m.series != chart.baseline) {
        if other.ops_per_s <= 0.0 {
            continue;
        }
        let ratio = format!("{:.2}x", base.ops_per_s / other.ops_per_s);
        let long = format!("{base_name}/{} {ratio}", chart.series[other.series]);
        let text = if long.chars().count() as f64 * 6.3 <= slot { long } else { ratio };
        svg.leaf(
            "text",
            &[
                ("x", num(centre)),
                ("y", num(y)),
                ("text-anchor", "middle".to_owned()),
                ("class", "ratio".to_owned()),
                ("fill", svg::PALETTE[other.series].to_owned()),
                ("data-series", chart.series[other.series].clone()),
            ],
            &text,
        );
        y += LINE;
    }
}
