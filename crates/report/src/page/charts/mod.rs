//! The kinds of chart a report draws, as SVG text (plotters' SVG backend; text is left to
//! the browser's fonts, so nothing here needs a font file).
//!
//! Every chart is [`WIDTH`] wide and scales to the width of its column on the page. Legends
//! sit below the plotting area, never over data: [`Legend`] writes them as an SVG group of
//! class `legend` whose first element is the box (`<rect class="legend-box">`), which is how
//! a test finds them.

mod bars;
mod intervals;
mod lines;
mod rules;
mod series;

pub use bars::{histogram, horizontal_bars, outcome_bars};
pub use intervals::{IntervalChart, Intervals, XValues, interval_span, intervals, small_intervals};
pub use lines::lines;
pub use rules::{RuleEvent, RuleMarks};
pub use series::{
    Ccdf, CcdfAxes, Series, ccdf, ccdf_floor, ccdf_steps, panels, small_ccdf, split_by_scale,
};

use std::fmt::Write as _;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PageError;
use super::html::escape;

/// The width of every chart but the small multiples, in SVG units.
pub const WIDTH: u32 = 560;
/// The height of a chart's plotting part (title, axes and data), legend excluded.
const PLOT_HEIGHT: u32 = 400;

/// How large a chart is drawn, in SVG units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Its width.
    pub width: u32,
    /// The height of its plotting part, legend excluded.
    pub plot_height: u32,
}

/// The size of most charts.
pub const FULL: Size = Size {
    width: WIDTH,
    plot_height: PLOT_HEIGHT,
};

/// The size of one of a grid of small multiples: drawn narrower, so that at the width of a
/// grid cell its text is as large as a full chart's.
pub const SMALL: Size = Size {
    width: 360,
    plot_height: 300,
};
const FONT: &str = "sans-serif";
/// Font sizes as plotters takes them (it writes 0.8 times these into the SVG).
const CAPTION: u32 = 24;
const LABEL: u32 = 18;
/// The legend's font size and line height, SVG units.
const LEGEND_FONT: f64 = 14.0;
const LEGEND_LINE: f64 = 22.0;

fn chart_error<E: std::fmt::Debug>(e: E) -> PageError {
    PageError::Chart(format!("{e:?}"))
}

/// How a legend entry shows its series.
#[derive(Debug, Clone, Copy)]
pub enum Key {
    /// A solid line.
    Line(RGBColor),
    /// A dashed line (marks such as retry times).
    Dashed(RGBColor),
    /// A dot (points with error bars).
    Marker(RGBColor),
    /// A shaded box (spans of time).
    Shade(RGBColor),
}

/// The entries of a chart's legend, drawn below its plotting area.
#[derive(Debug, Clone, Default)]
pub struct Legend {
    entries: Vec<(String, Key)>,
}

/// Where a legend entry goes: its row and its left edge.
struct Placed<'a> {
    text: &'a str,
    key: Key,
    x: f64,
    row: usize,
}

impl Legend {
    /// Adds an entry.
    pub fn add(&mut self, text: impl Into<String>, key: Key) {
        self.entries.push((text.into(), key));
    }

    /// The entries laid out left to right, wrapping at the chart's width `chart_width`.
    fn layout(&self, chart_width: u32) -> Vec<Placed<'_>> {
        let (mut x, mut row) = (LEFT, 0);
        let mut placed = Vec::with_capacity(self.entries.len());
        for (text, key) in &self.entries {
            let width = 34.0 + text.chars().count() as f64 * LEGEND_FONT * 0.6;
            if x > LEFT && x + width > f64::from(chart_width) - LEFT {
                x = LEFT;
                row += 1;
            }
            placed.push(Placed {
                text,
                key: *key,
                x,
                row,
            });
            x += width + 14.0;
        }
        placed
    }

    /// The height the legend takes below the plotting area of a chart `chart_width` wide
    /// (0 without entries).
    fn height(&self, chart_width: u32) -> u32 {
        match self.layout(chart_width).last() {
            None => 0,
            Some(last) => ((last.row + 1) as f64 * LEGEND_LINE + 20.0) as u32,
        }
    }

    /// The legend of a chart `chart_width` wide as SVG elements, its box's top edge at `top`.
    fn svg(&self, top: f64, chart_width: u32) -> String {
        let placed = self.layout(chart_width);
        let Some(last) = placed.last() else {
            return String::new();
        };
        let height = (last.row + 1) as f64 * LEGEND_LINE + 8.0;
        let mut out = String::from("<g class=\"legend\">\n");
        let _ = writeln!(
            out,
            "<rect class=\"legend-box\" x=\"{LEFT}\" y=\"{top}\" width=\"{}\" height=\"{height}\" \
             fill=\"#FFFFFF\" stroke=\"#999999\"/>",
            f64::from(chart_width) - 2.0 * LEFT
        );
        for p in &placed {
            let y = top + 4.0 + LEGEND_LINE * (p.row as f64 + 0.5);
            let (x0, x1) = (p.x + 6.0, p.x + 28.0);
            let _ = match p.key {
                Key::Line(c) => writeln!(
                    out,
                    "<line x1=\"{x0}\" y1=\"{y}\" x2=\"{x1}\" y2=\"{y}\" stroke=\"{}\" \
                     stroke-width=\"3\"/>",
                    hex(c)
                ),
                Key::Dashed(c) => writeln!(
                    out,
                    "<line x1=\"{x0}\" y1=\"{y}\" x2=\"{x1}\" y2=\"{y}\" stroke=\"{}\" \
                     stroke-width=\"2\" stroke-dasharray=\"5 3\"/>",
                    hex(c)
                ),
                Key::Shade(c) => writeln!(
                    out,
                    "<rect x=\"{x0}\" y=\"{}\" width=\"{}\" height=\"12\" fill=\"{}\" \
                     fill-opacity=\"0.35\" stroke=\"{}\"/>",
                    y - 6.0,
                    x1 - x0,
                    hex(c),
                    hex(c)
                ),
                Key::Marker(c) => writeln!(
                    out,
                    "<circle cx=\"{}\" cy=\"{y}\" r=\"5\" fill=\"{}\"/>",
                    (x0 + x1) / 2.0,
                    hex(c)
                ),
            };
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{y}\" dy=\"0.35em\" font-family=\"{FONT}\" \
                 font-size=\"{LEGEND_FONT}\" fill=\"#000000\">{}</text>",
                x1 + 6.0,
                escape(p.text)
            );
        }
        out.push_str("</g>\n");
        out
    }
}

/// The legend's left (and right) margin.
const LEFT: f64 = 12.0;

fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// Draws into a fresh SVG document [`WIDTH`] wide and `plot_height` high plus the legend
/// below it, and returns its text.
fn svg(
    plot_height: u32,
    legend: &Legend,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), PageError>,
) -> Result<String, PageError> {
    svg_sized(
        Size {
            width: WIDTH,
            plot_height,
        },
        legend,
        draw,
    )
}

/// Draws into a fresh SVG document of `size` plus the legend below it, and returns its text.
fn svg_sized(
    size: Size,
    legend: &Legend,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), PageError>,
) -> Result<String, PageError> {
    let Size { width, plot_height } = size;
    let mut text = String::new();
    let legend_height = legend.height(width);
    {
        let root = SVGBackend::with_string(&mut text, (width, plot_height + legend_height))
            .into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let (plot, _) = root.split_vertically(plot_height);
        draw(&plot)?;
        root.present().map_err(chart_error)?;
    }
    if legend_height > 0 {
        let end = text
            .rfind("</svg>")
            .ok_or_else(|| chart_error("no </svg>"))?;
        text.insert_str(end, &legend.svg(f64::from(plot_height) + 6.0, width));
    }
    Ok(text)
}

/// The colour of series `i`: colour-blind-safe (Okabe–Ito).
pub fn color(i: usize) -> RGBColor {
    const COLORS: [RGBColor; 7] = [
        RGBColor(0, 114, 178),
        RGBColor(230, 159, 0),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
        RGBColor(86, 180, 233),
        RGBColor(213, 94, 0),
        RGBColor(120, 120, 120),
    ];
    COLORS[i % COLORS.len()]
}

/// The range of `values` with a little room, never empty, within `limits` (the range the
/// quantity can take, such as 0 to 1 for a fraction): the axis fits the data.
fn span(values: impl Iterator<Item = f64>, limits: (f64, f64)) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (
            limits.0.max(0.0),
            limits.1.min(1.0).max(limits.0.max(0.0) + 1.0),
        );
    }
    let room = if hi - lo >= 1e-12 {
        (hi - lo) * 0.08
    } else if lo != 0.0 {
        // One value: room in proportion to it, so that 1.0 does not get an axis 0.5 to 1.5.
        lo.abs() * 0.05
    } else if (limits.1 - limits.0).is_finite() {
        (limits.1 - limits.0) * 0.05
    } else {
        1.0
    };
    // A value at a limit keeps a sliver of room, so that its mark is drawn whole.
    let (mut bottom, mut top) = (
        (lo - room).max(limits.0 - room * 0.2),
        (hi + room).min(limits.1 + room * 0.2),
    );
    if top <= bottom {
        (bottom, top) = (lo - room, hi + room);
    }
    (bottom, top)
}

/// Quantities that cannot be negative.
const COUNT: (f64, f64) = (0.0, f64::INFINITY);
/// Fractions.
pub const FRACTION: (f64, f64) = (0.0, 1.0);
/// Any value.
pub const ANY: (f64, f64) = (f64::NEG_INFINITY, f64::INFINITY);

/// Whether values from `lo` to `hi` (both positive) span a decade or more.
fn spans_decade(lo: f64, hi: f64) -> bool {
    lo > 0.0 && hi / lo >= 10.0
}

/// A value axis label as people write numbers: whole numbers without decimals (counts read
/// `2500`, not `2500.0`; from 10000 on with thousands separators, `250,000`), others without
/// trailing zeros (`0.3`, not `0.300`).
pub fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let whole = v as i64;
        return if whole.abs() >= 10_000 {
            thousands(whole)
        } else {
            whole.to_string()
        };
    }
    // Ticks fall on steps such as 0.1 and carry float noise (0.30000000000000004).
    if v.abs() < 1e-3 {
        // Three significant digits, float noise gone: 9.999999e-5 reads 1e-4.
        let text = format!("{v:.2e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        return format!("{mantissa}e{exponent}");
    }
    let text = format!("{v:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" || text.is_empty() {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// A whole number with a comma between thousands: `247,971`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The label of category `x` (a position 0, 1, 2 ...), or nothing between positions.
fn category(labels: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    labels.get(i as usize).cloned().unwrap_or_default()
}

/// The power of ten at or below `v` (positive).
fn decade_below(v: f64) -> f64 {
    10f64.powf(v.log10().floor())
}

/// The power of ten at or above `v` (positive).
fn decade_above(v: f64) -> f64 {
    10f64.powf(v.log10().ceil())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_read_as_numbers_are_written() {
        for (value, text) in [
            (0.0, "0"),
            (-0.0, "0"),
            (2500.0, "2500"),
            (250000.0, "250,000"),
            (-40.0, "-40"),
            (0.30000000000000004, "0.3"),
            (0.25, "0.25"),
            (0.001, "0.001"),
            (1e-5, "1e-5"),
            (9.999999e-5, "1e-4"),
            (2.5e-6, "2.5e-6"),
            (-0.1, "-0.1"),
            (12.5, "12.5"),
        ] {
            assert_eq!(tick(value), text, "{value}");
        }
        assert_eq!(thousands(247_971), "247,971");
        assert_eq!(thousands(-1_000_000), "-1,000,000");
        assert_eq!(thousands(110), "110");
    }

    #[test]
    fn spans_fit_the_data() {
        assert_eq!(span([].into_iter(), COUNT), (0.0, 1.0));
        let (lo, hi) = span([5.0, 5.0].into_iter(), ANY);
        assert!(lo < 5.0 && hi > 5.0);
        // A rate of 1 everywhere: the axis stays near 1 and does not pass it.
        let (lo, hi) = span([1.0, 1.0].into_iter(), FRACTION);
        assert!(lo >= 0.9 && hi <= 1.02, "{lo}..{hi}");
        let (lo, hi) = span([0.0, 0.0].into_iter(), FRACTION);
        assert!(lo > -0.02 && hi < 0.1, "{lo}..{hi}");
        let (lo, hi) = span([0.95, 0.97].into_iter(), FRACTION);
        assert!(lo > 0.9 && hi < 0.99, "{lo}..{hi}");
        let (lo, _) = span([0.0, 10.0].into_iter(), COUNT);
        assert!((-0.5..=0.0).contains(&lo), "{lo}");
        // Error bars below zero do not take a count's axis far below zero.
        let (lo, _) = span([-300.0, 100.0, 900.0].into_iter(), COUNT);
        assert!(lo > -30.0, "{lo}");
    }

    #[test]
    fn legends_wrap_and_grow() {
        let mut legend = Legend::default();
        assert_eq!(legend.height(WIDTH), 0);
        legend.add("one", Key::Line(color(0)));
        let one_row = legend.height(WIDTH);
        for i in 0..8 {
            legend.add(format!("relay.retry.multiplier={i}"), Key::Marker(color(i)));
        }
        assert!(legend.height(WIDTH) > one_row, "more rows");
        assert!(
            legend.height(SMALL.width) > legend.height(WIDTH),
            "narrower, taller"
        );
        let svg = legend.svg(400.0, WIDTH);
        assert!(svg.starts_with("<g class=\"legend\">\n<rect class=\"legend-box\""));
        for width in [WIDTH, SMALL.width] {
            for p in legend.layout(width) {
                assert!(p.x + 34.0 < f64::from(width), "{} inside the chart", p.text);
            }
        }
    }
}
