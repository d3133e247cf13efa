//! `corekv-bench chart`: SVG charts of benchmark results, so a comparison can be read at a
//! glance beside its table.
//!
//! A [`Chart`] is a set of *groups* (a workload: `SET P1`, `MSET x1000 P1`) each measured on
//! some *series* (a target: `corekv`, `redis`, `embedded`). Its SVG has:
//!
//! - a throughput panel: one bar per series in each group, the value on the bar, and under the
//!   group the baseline's ratio to every other series (`corekv/redis 1.14x`), the project's
//!   way of stating a comparison;
//! - one latency panel per group: each series' percentiles as a curve, x the percentile on the
//!   usual `1/(1-p)` log scale (50, 90, 99, 99.9, 99.99 evenly spaced), y the latency on a
//!   log scale, so a tail that is ten times worse is one decade higher wherever it lies.
//!
//! [`input`] reads the charts' data from `corekv-bench` JSON reports (`corekv-bench/1`) and
//! from `scripts/compare-peers.sh`'s JSON. [`svg`] writes the markup; [`bars`] and [`curves`]
//! lay out the panels. Every bar and point carries `data-series`, `data-group` and
//! `data-value` attributes, so the figures can be read back (the tests do).

mod bars;
mod curves;
pub mod input;
pub mod svg;

use super::error::BenchError;

/// The most series one chart shows: one colour each from [`svg::PALETTE`].
pub const MAX_SERIES: usize = svg::PALETTE.len();
/// The most groups one chart shows (the throughput panel's width is fixed).
pub const MAX_GROUPS: usize = 24;
/// The chart's width in pixels.
const WIDTH: f64 = 960.0;
/// The longest note line that fits across [`WIDTH`] at the notes' font size; longer ones are
/// cut with an ellipsis (the JSON beside the chart has them whole).
const NOTE_CHARS: usize = 150;

/// One latency percentile of a measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentile {
    /// The percentile, in (0, 100): `99.9`.
    pub percentile: f64,
    /// The latency at it, in microseconds.
    pub latency_us: f64,
}

/// One series' result in one group.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The series' index in [`Chart::series`].
    pub series: usize,
    /// Throughput.
    pub ops_per_s: f64,
    /// Latency percentiles, ascending by percentile.
    pub latency: Vec<Percentile>,
}

/// One workload and its measurements, at most one per series.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The name on the axis: `SET P1`.
    pub name: String,
    /// The series measured in this group, in series order.
    pub measurements: Vec<Measurement>,
}

/// A chart's data.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The heading.
    pub title: String,
    /// Lines under the heading: machine, date, command.
    pub notes: Vec<String>,
    /// The series' names in legend order.
    pub series: Vec<String>,
    /// The series the ratios are taken from (`baseline/other`).
    pub baseline: usize,
    /// The groups in axis order.
    pub groups: Vec<Group>,
}

impl Chart {
    /// An empty chart.
    pub fn new(title: impl Into<String>) -> Chart {
        Chart {
            title: title.into(),
            notes: Vec::new(),
            series: Vec::new(),
            baseline: 0,
            groups: Vec::new(),
        }
    }

    /// Adds `series`' result in `group`, creating either on first sight (in that order).
    /// Fails on a second result for the same pair, on more than [`MAX_SERIES`] series or
    /// [`MAX_GROUPS`] groups, and on a throughput or latency that is negative or not finite.
    pub fn add(
        &mut self,
        group: &str,
        series: &str,
        ops_per_s: f64,
        mut latency: Vec<Percentile>,
    ) -> Result<(), BenchError> {
        if !(ops_per_s >= 0.0 && ops_per_s.is_finite()) {
            return Err(BenchError::config(format!(
                "{series} in {group}: throughput {ops_per_s} is not a finite number >= 0"
            )));
        }
        for point in &latency {
            let valid = point.percentile > 0.0 && point.percentile < 100.0;
            if !(valid && point.latency_us >= 0.0 && point.latency_us.is_finite()) {
                return Err(BenchError::config(format!(
                    "{series} in {group}: bad latency percentile {point:?}"
                )));
            }
        }
        latency.sort_by(|a, b| a.percentile.total_cmp(&b.percentile));
        let series_index = match self.series.iter().position(|name| name == series) {
            Some(index) => index,
            None if self.series.len() < MAX_SERIES => {
                self.series.push(series.to_owned());
                self.series.len() - 1
            }
            None => {
                return Err(BenchError::config(format!(
                    "a chart shows at most {MAX_SERIES} series"
                )));
            }
        };
        let group_index = match self.groups.iter().position(|known| known.name == group) {
            Some(index) => index,
            None if self.groups.len() < MAX_GROUPS => {
                self.groups.push(Group { name: group.to_owned(), measurements: Vec::new() });
                self.groups.len() - 1
            }
            None => {
                return Err(BenchError::config(format!(
                    "a chart shows at most {MAX_GROUPS} groups"
                )));
            }
        };
        let measurements = &mut self.groups[group_index].measurements;
        if measurements.iter().any(|known| known.series == series_index) {
            return Err(BenchError::config(format!(
                "two results for {series} in {group}: give the runs different labels"
            )));
        }
        measurements.push(Measurement { series: series_index, ops_per_s, latency });
        measurements.sort_by_key(|measurement| measurement.series);
        Ok(())
    }

    /// Makes `name` the series ratios are taken from.
    pub fn set_baseline(&mut self, name: &str) -> Result<(), BenchError> {
        self.baseline = self.series.iter().position(|series| series == name).ok_or_else(|| {
            BenchError::config(format!(
                "--baseline {name:?} is not one of the series: {}",
                self.series.join(", ")
            ))
        })?;
        Ok(())
    }

    /// The chart as an SVG document.
    pub fn to_svg(&self) -> String {
        let header = 40.0 + 15.0 * self.notes.len() as f64;
        let layout = curves::Layout::for_groups(self.groups.len(), WIDTH);
        let throughput_height = bars::height(self);
        let height = header + throughput_height + layout.height + 10.0;
        let mut svg = svg::Svg::new(WIDTH, height);
        svg.leaf("title", &[], &self.title);
        svg.text(20.0, 26.0, "start", "title", &self.title);
        for (i, note) in self.notes.iter().enumerate() {
            let shown: String = if note.chars().count() > NOTE_CHARS {
                note.chars().take(NOTE_CHARS - 1).chain(std::iter::once('…')).collect()
            } else {
                note.clone()
            };
            svg.text(20.0, 44.0 + 15.0 * i as f64, "start", "note", &shown);
        }
        bars::draw(&mut svg, self, (0.0, header), WIDTH);
        curves::draw(&mut svg, self, &layout, header + throughput_height);
        svg.finish()
    }
}

/// A legend: a swatch and a name per series, right-aligned ending at `right`.
fn legend(svg: &mut svg::Svg, chart: &Chart, right: f64, y: f64) {
    let widths: Vec<f64> =
        chart.series.iter().map(|name| 26.0 + 7.0 * name.chars().count() as f64).collect();
    let mut x = right - widths.iter().sum::<f64>();
    for (i, (name, width)) in chart.series.iter().zip(&widths).enumerate() {
        svg.empty(
            "rect",
            &[
                ("x", svg::num(x)),
                ("y", svg::num(y - 9.0)),
                ("width", "10".to_owned()),
                ("height", "10".to_owned()),
                ("fill", svg::PALETTE[i].to_owned()),
            ],
        );
        svg.text(x + 14.0, y, "start", "tick", name);
        x += width;
    }
}

#[cfg(test)]
mod tests;
