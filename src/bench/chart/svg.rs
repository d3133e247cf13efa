//! A small SVG writer and the scales the charts share: text escaping, elements with
//! attributes, linear and decade (log10) axes with "nice" ticks, and the number formats of the
//! labels. Written by hand because the charts need only rectangles, lines, polylines, circles
//! and text; a plotting crate would bring more than that.

use std::fmt::Write as _;

/// Okabe and Ito's colour-blind-safe palette; series take colours in order.
pub const PALETTE: [&str; 8] =
    ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];

/// An SVG document being written. Elements are closed in the order they were opened
/// ([`Svg::close`] checks it in debug builds), so the output is well formed by construction.
#[derive(Debug)]
pub struct Svg {
    out: String,
    open: Vec<&'static str>,
}

impl Svg {
    /// A document of `width` x `height` user units (pixels), with the shared styles.
    pub fn new(width: f64, height: f64) -> Svg {
        let mut svg = Svg { out: String::new(), open: Vec::new() };
        svg.out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        svg.open(
            "svg",
            &[
                ("xmlns", "http://www.w3.org/2000/svg".to_owned()),
                ("width", num(width)),
                ("height", num(height)),
                ("viewBox", format!("0 0 {} {}", num(width), num(height))),
                ("font-family", "DejaVu Sans, Helvetica, Arial, sans-serif".to_owned()),
                ("font-size", "12".to_owned()),
            ],
        );
        svg.open("style", &[]);
        svg.out.push_str(
            ".grid{stroke:#ddd;stroke-width:1}.minor{stroke:#eee;stroke-width:1}\
             .axis{stroke:#333;stroke-width:1}.title{font-size:16px;font-weight:bold}\
             .heading{font-size:13px;font-weight:bold}.note{fill:#555;font-size:11px}\
             .tick{fill:#333;font-size:11px}.value{fill:#222;font-size:10px}\
             .ratio{font-size:11px}",
        );
        svg.close("style");
        svg.empty(
            "rect",
            &[
                ("x", "0".to_owned()),
                ("y", "0".to_owned()),
                ("width", num(width)),
                ("height", num(height)),
                ("fill", "white".to_owned()),
            ],
        );
        svg
    }

    /// Opens `<tag attrs...>`.
    pub fn open(&mut self, tag: &'static str, attributes: &[(&str, String)]) {
        self.start_tag(tag, attributes);
        self.out.push_str(">\n");
        self.open.push(tag);
    }

    /// Closes the innermost open element, which must be `tag`.
    pub fn close(&mut self, tag: &'static str) {
        let opened = self.open.pop();
        debug_assert_eq!(opened, Some(tag), "SVG elements close in the order they opened");
        let _ = writeln!(self.out, "</{tag}>");
    }

    /// Writes `<tag attrs... />`.
    pub fn empty(&mut self, tag: &'static str, attributes: &[(&str, String)]) {
        self.start_tag(tag, attributes);
        self.out.push_str("/>\n");
    }

    /// Writes `<tag attrs...>text</tag>` with `text` escaped.
    pub fn leaf(&mut self, tag: &'static str, attributes: &[(&str, String)], text: &str) {
        self.start_tag(tag, attributes);
        let _ = writeln!(self.out, ">{}</{tag}>", escape(text));
    }

    /// A `<text>` at (`x`, `y`) with the given anchor (`start`, `middle`, `end`) and class.
    pub fn text(&mut self, x: f64, y: f64, anchor: &str, class: &str, text: &str) {
        self.leaf(
            "text",
            &[
                ("x", num(x)),
                ("y", num(y)),
                ("text-anchor", anchor.to_owned()),
                ("class", class.to_owned()),
            ],
            text,
        );
    }

    /// A line from (`x1`, `y1`) to (`x2`, `y2`) of class `class`.
    pub fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), class: &str) {
        self.empty(
            "line",
            &[
                ("x1", num(x1)),
                ("y1", num(y1)),
                ("x2", num(x2)),
                ("y2", num(y2)),
                ("class", class.to_owned()),
            ],
        );
    }

    /// The finished document.
    pub fn finish(mut self) -> String {
        self.close("svg");
        debug_assert!(self.open.is_empty(), "every element was closed");
        self.out
    }

    fn start_tag(&mut self, tag: &str, attributes: &[(&str, String)]) {
        let _ = write!(self.out, "{}<{tag}", "  ".repeat(self.open.len()));
        for (name, value) in attributes {
            let _ = write!(self.out, " {name}=\"{}\"", escape(value));
        }
    }
}

/// `text` with XML's five special characters escaped (valid in content and in attributes).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate: one decimal is finer than a pixel and keeps files small.
pub fn num(value: f64) -> String {
    debug_assert!(value.is_finite(), "coordinates are finite");
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map_or(text.clone(), str::to_owned)
}

/// Maps `[low, high]` onto the pixel range `[from, to]` (`to < from` for a y axis).
#[derive(Debug, Clone, Copy)]
pub struct Linear {
    low: f64,
    high: f64,
    from: f64,
    to: f64,
}

impl Linear {
    /// The scale; `high > low`.
    pub fn new((low, high): (f64, f64), (from, to): (f64, f64)) -> Linear {
        debug_assert!(high > low, "a scale needs a non-empty domain");
        Linear { low, high, from, to }
    }

    /// The pixel position of `value`.
    pub fn at(&self, value: f64) -> f64 {
        self.from + (value - self.low) / (self.high - self.low) * (self.to - self.from)
    }
}

/// Ticks for a linear axis from 0 to at least `max`: a step of 1, 2, 2.5 or 5 times a power
/// of ten giving at most `most` intervals. Returns the ticks, the last one >= `max`.
pub fn linear_ticks(max: f64, most: usize) -> Vec<f64> {
    debug_assert!(most >= 1);
    if !(max > 0.0 && max.is_finite()) {
        return vec![0.0, 1.0];
    }
    let raw = max / most as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|factor| factor * magnitude)
        .find(|step| max / step <= most as f64 + 1e-9)
        .unwrap_or(10.0 * magnitude);
    let intervals = (max / step - 1e-9).ceil().max(1.0) as usize;
    (0..=intervals).map(|i| i as f64 * step).collect()
}

/// The decades (as exponents of ten) that cover `[low, high]`, both > 0: at least one.
pub fn decades(low: f64, high: f64) -> (i32, i32) {
    debug_assert!(low > 0.0 && high >= low);
    let bottom = low.log10().floor() as i32;
    let top = (high.log10().ceil() as i32).max(bottom + 1);
    (bottom, top)
}

/// Operations per second as a label: `950`, `9.5k`, `95k`, `1.25M`.
pub fn format_rate(ops_per_s: f64) -> String {
    if ops_per_s >= 1e6 {
        trim(format!("{:.2}", ops_per_s / 1e6)) + "M"
    } else if ops_per_s >= 1e4 {
        format!("{:.0}k", ops_per_s / 1e3)
    } else if ops_per_s >= 1e3 {
        trim(format!("{:.1}", ops_per_s / 1e3)) + "k"
    } else {
        format!("{ops_per_s:.0}")
    }
}

/// A latency in microseconds as a label in µs, ms or s: `250 µs`, `1.5 ms`, `2 s`.
pub fn format_latency_us(us: f64) -> String {
    if us >= 1e6 {
        trim(format!("{:.2}", us / 1e6)) + " s"
    } else if us >= 1e3 {
        trim(format!("{:.2}", us / 1e3)) + " ms"
    } else if us >= 1.0 {
        trim(format!("{us:.1}")) + " µs"
    } else {
        trim(format!("{:.0}", us * 1e3)) + " ns"
    }
}

/// Drops trailing zeros of a decimal: `1.50` -> `1.5`, `2.00` -> `2`.
fn trim(text: String) -> String {
    if !text.contains('.') {
        return text;
    }
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape(r#"a<b & "c" 'd'>"#), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
    }

    #[test]
    fn ticks_cover_the_maximum_with_round_steps() {
        assert_eq!(linear_ticks(693_241.0, 6), [0.0, 2e5, 4e5, 6e5, 8e5]);
        assert_eq!(linear_ticks(693_241.0, 8), [0.0, 1e5, 2e5, 3e5, 4e5, 5e5, 6e5, 7e5]);
        assert_eq!(linear_ticks(90.0, 5), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(linear_ticks(100.0, 5), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(linear_ticks(0.0, 5), [0.0, 1.0]);
        for max in [1.0, 7.3, 123.0, 9_999.0, 1.7e6] {
            let ticks = linear_ticks(max, 6);
            assert!(*ticks.last().unwrap() >= max && ticks.len() <= 7, "{max}: {ticks:?}");
        }
    }

    #[test]
    fn labels_are_short() {
        assert_eq!(format_rate(693_241.0), "693k");
        assert_eq!(format_rate(1_250_000.0), "1.25M");
        assert_eq!(format_rate(9_500.0), "9.5k");
        assert_eq!(format_rate(950.0), "950");
        assert_eq!(format_latency_us(250.0), "250 µs");
        assert_eq!(format_latency_us(1_500.0), "1.5 ms");
        assert_eq!(format_latency_us(2e6), "2 s");
        assert_eq!(format_latency_us(0.5), "500 ns");
        assert_eq!(decades(311.0, 3_775.0), (2, 4));
        assert_eq!(decades(100.0, 100.0), (2, 3));
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.26), "12.3");
    }
}
