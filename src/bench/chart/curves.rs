//! The latency panels: one per group, each series' percentiles as a curve.
//!
//! x is `log10(1 / (1 - p))`, the scale HdrHistogram's plots use, so p50, p90, p99, p99.9 and
//! p99.99 sit at 0.3, 1, 2, 3 and 4: each further "nine" gets the same room. y is log10 of the
//! latency over whole decades, so ratios read the same anywhere on the axis.

use super::svg::{self, Linear, Svg, format_latency_us, num};
use super::{Chart, Group, Percentile};

/// One panel's height.
const PANEL_HEIGHT: f64 = 300.0;
/// The most panels side by side.
const COLUMNS: usize = 2;
/// Margins inside a panel: heading above, tick labels left and below.
const TOP: f64 = 34.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 24.0;
const BOTTOM: f64 = 44.0;
/// The labelled percentiles.
const TICKS: [(f64, &str); 5] =
    [(50.0, "p50"), (90.0, "p90"), (99.0, "p99"), (99.9, "p99.9"), (99.99, "p99.99")];
/// Room left of p50 and right of the last percentile, in decades of `1/(1-p)`.
const X_PAD: f64 = 0.15;

/// Where the panels go.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    columns: usize,
    panel_width: f64,
    /// All panels' height together.
    pub height: f64,
}

impl Layout {
    /// The grid for `groups` panels across `width`.
    pub fn for_groups(groups: usize, width: f64) -> Layout {
        let columns = groups.clamp(1, COLUMNS);
        let rows = groups.div_ceil(columns);
        Layout { columns, panel_width: width / columns as f64, height: rows as f64 * PANEL_HEIGHT }
    }
}

/// The x position of percentile `p` (in percent) before scaling: `log10(1 / (1 - p/100))`.
pub fn percentile_position(percentile: f64) -> f64 {
    debug_assert!(percentile > 0.0 && percentile < 100.0);
    -(1.0 - percentile / 100.0).log10()
}

/// Draws every group's panel, the first row starting at `top`.
pub fn draw(svg: &mut Svg, chart: &Chart, layout: &Layout, top: f64) {
    svg.open("g", &[("class", "latency".to_owned())]);
    for (g, group) in chart.groups.iter().enumerate() {
        let x0 = (g % layout.columns) as f64 * layout.panel_width;
        let y0 = top + (g / layout.columns) as f64 * PANEL_HEIGHT;
        panel(svg, chart, group, (x0, y0), layout.panel_width);
    }
    svg.close("g");
}

fn panel(svg: &mut Svg, chart: &Chart, group: &Group, (x0, y0): (f64, f64), width: f64) {
    svg.open("g", &[("class", "panel".to_owned()), ("data-group", group.name.clone())]);
    let heading = format!("{}: latency by percentile (lower is better)", group.name);
    svg.text(x0 + 20.0, y0 + 20.0, "start", "heading", &heading);
    let (left, right) = (x0 + LEFT, x0 + width - RIGHT);
    let (top, bottom) = (y0 + TOP, y0 + PANEL_HEIGHT - BOTTOM);
    let latencies = || {
        group
            .measurements
            .iter()
            .flat_map(|measurement| &measurement.latency)
            .filter(|point| point.latency_us > 0.0)
    };
    let low = latencies().map(|point| point.latency_us).fold(f64::INFINITY, f64::min);
    let high = latencies().map(|point| point.latency_us).fold(0.0, f64::max);
    if !low.is_finite() {
        svg.text((left + right) / 2.0, (top + bottom) / 2.0, "middle", "note", "no latency data");
        svg.close("g");
        return;
    }
    let widest = latencies().map(|point| percentile_position(point.percentile)).fold(4.0, f64::max);
    let x = Linear::new((percentile_position(50.0) - X_PAD, widest + X_PAD), (left, right));
    let (bottom_decade, top_decade) = svg::decades(low, high);
    let y = Linear::new((f64::from(bottom_decade), f64::from(top_decade)), (bottom, top));
    let y_at = |latency_us: f64| y.at(latency_us.log10());

    for decade in bottom_decade..=top_decade {
        let value = 10f64.powi(decade);
        svg.line((left, y_at(value)), (right, y_at(value)), "grid");
        svg.text(left - 6.0, y_at(value) + 4.0, "end", "tick", &format_latency_us(value));
        if decade < top_decade {
            for minor in [2.0, 5.0] {
                svg.line((left, y_at(value * minor)), (right, y_at(value * minor)), "minor");
            }
        }
    }
    for (percentile, label) in TICKS {
        let at = x.at(percentile_position(percentile));
        svg.line((at, top), (at, bottom), "grid");
        svg.text(at, bottom + 16.0, "middle", "tick", label);
    }
    svg.text((left + right) / 2.0, bottom + 34.0, "middle", "tick", "percentile");
    svg.line((left, bottom), (right, bottom), "axis");
    svg.line((left, top), (left, bottom), "axis");

    for measurement in &group.measurements {
        let name = &chart.series[measurement.series];
        let colour = svg::PALETTE[measurement.series];
        let points: Vec<(f64, f64, Percentile)> = measurement
            .latency
            .iter()
            .filter(|point| point.latency_us > 0.0)
            .map(|point| {
                (x.at(percentile_position(point.percentile)), y_at(point.latency_us), *point)
            })
            .collect();
        let path: Vec<String> =
            points.iter().map(|(px, py, _)| format!("{},{}", num(*px), num(*py))).collect();
        svg.empty(
            "polyline",
            &[
                ("class", "curve".to_owned()),
                ("data-series", name.clone()),
                ("points", path.join(" ")),
                ("fill", "none".to_owned()),
                ("stroke", colour.to_owned()),
                ("stroke-width", "2".to_owned()),
            ],
        );
        for (px, py, point) in &points {
            let percentile = point.percentile;
            svg.open(
                "circle",
                &[
                    ("class", "point".to_owned()),
                    ("data-series", name.clone()),
                    ("data-group", group.name.clone()),
                    ("data-percentile", format!("{percentile}")),
                    ("data-value", format!("{}", point.latency_us)),
                    ("cx", num(*px)),
                    ("cy", num(*py)),
                    ("r", "3.5".to_owned()),
                    ("fill", colour.to_owned()),
                ],
            );
            let tooltip = format!(
                "{name}, {}: p{percentile} = {}",
                group.name,
                format_latency_us(point.latency_us)
            );
            svg.leaf("title", &[], &tooltip);
            svg.close("circle");
        }
    }
    svg.close("g");
}
