//! Lines over a numeric axis: time series in stacked panels, and the latency's complementary
//! CDF as a step function on log-log axes.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::rules::RuleMarks;
use super::{
    CAPTION, COUNT, FONT, FULL, Key, LABEL, Legend, PLOT_HEIGHT, PageError, SMALL, Size,
    chart_error, color, decade_below, span, svg, svg_sized, tick,
};

/// A named line and the index of its colour (kept across panels).
#[derive(Debug, Clone)]
pub struct Series {
    /// The legend's text.
    pub name: String,
    /// Its colour, by index ([`super::color`]).
    pub color: usize,
    /// The points, in x order.
    pub points: Vec<(f64, f64)>,
}

/// Series that share a y axis.
#[derive(Debug, Clone)]
pub struct Panel {
    /// What the y axis counts.
    pub y_desc: String,
    /// The lines.
    pub series: Vec<Series>,
}

/// The largest value of a series (0 for none).
fn peak(series: &Series) -> f64 {
    series.points.iter().map(|p| p.1).fold(0.0, f64::max)
}

/// Series grouped so that those whose largest values differ by 10× or more get separate axes
/// (a panel each): deferrals in the tens stay visible beside deliveries in the thousands.
/// The largest series come first.
pub fn split_by_scale(y_desc: &str, mut series: Vec<Series>) -> Vec<Panel> {
    series.sort_by(|a, b| peak(b).total_cmp(&peak(a)));
    let mut panels: Vec<(f64, Panel)> = Vec::new();
    for s in series {
        let top = peak(&s);
        match panels.last_mut() {
            Some((first, panel)) if top * 10.0 > *first => panel.series.push(s),
            _ => panels.push((
                top,
                Panel {
                    y_desc: y_desc.to_string(),
                    series: vec![s],
                },
            )),
        }
    }
    panels.into_iter().map(|(_, panel)| panel).collect()
}

/// A panel's axis title: the names of its series when the chart has several panels and
/// they are short, else the panel's.
fn y_desc(panel: &Panel, panels: usize) -> String {
    let names: Vec<&str> = panel.series.iter().map(|s| s.name.as_str()).collect();
    let names = names.join(", ");
    if panels > 1 && names.chars().count() <= 24 {
        names
    } else {
        panel.y_desc.clone()
    }
}

/// Stacked panels over one x range (from `x_range.0` to `x_range.1`), each with its own y
/// axis from zero, the automation rules' `rules` drawn under the lines of each; one legend
/// for all.
pub fn panels(
    title: &str,
    x_desc: &str,
    x_range: (f64, f64),
    panels: &[Panel],
    rules: &RuleMarks<'_>,
) -> Result<String, PageError> {
    let mut legend = Legend::default();
    for s in panels.iter().flat_map(|p| &p.series) {
        legend.add(s.name.as_str(), Key::Line(color(s.color)));
    }
    rules.add_to(&mut legend);
    let height = PLOT_HEIGHT + 160 * panels.len().saturating_sub(1) as u32;
    svg(height, &legend, |root| {
        let area = root.titled(title, (FONT, CAPTION)).map_err(chart_error)?;
        let areas = area.split_evenly((panels.len().max(1), 1));
        for (i, (panel, area)) in panels.iter().zip(&areas).enumerate() {
            let last = i + 1 == panels.len();
            let (y0, y1) = span(
                panel
                    .series
                    .iter()
                    .flat_map(|s| s.points.iter().map(|p| p.1)),
                COUNT,
            );
            let mut chart = ChartBuilder::on(area)
                .margin(10)
                .margin_right(24)
                .x_label_area_size(if last { 52 } else { 8 })
                .y_label_area_size(86)
                .build_cartesian_2d(x_range.0..x_range.1, 0f64.min(y0)..y1)
                .map_err(chart_error)?;
            let mut mesh = chart.configure_mesh();
            mesh.y_desc(y_desc(panel, panels.len()))
                .x_labels(8)
                .y_labels(5)
                .x_label_formatter(&|x| tick(*x))
                .y_label_formatter(&|y| tick(*y))
                .label_style((FONT, LABEL));
            if last {
                mesh.x_desc(x_desc);
            } else {
                mesh.x_label_formatter(&|_| String::new());
            }
            mesh.draw().map_err(chart_error)?;
            rules.draw(&mut chart, (0f64.min(y0), y1))?;
            for s in &panel.series {
                chart
                    .draw_series(LineSeries::new(
                        s.points.iter().copied(),
                        color(s.color).stroke_width(2),
                    ))
                    .map_err(chart_error)?;
            }
        }
        Ok(())
    })
}

/// The complementary CDF of a sample from its histogram: `buckets` are (value, count) in
/// increasing value. Returns the vertices of the step function "fraction above x" from the
/// smallest value on, each drop vertical at a value, flat between values, ending at the
/// largest value with the fraction `floor` (the lowest the log axis shows).
pub fn ccdf_steps(buckets: &[(f64, u64)], floor: f64) -> Vec<(f64, f64)> {
    let total: u64 = buckets.iter().map(|b| b.1).sum();
    if total == 0 {
        return Vec::new();
    }
    let mut above = total;
    let mut steps = Vec::with_capacity(buckets.len() * 2);
    let fraction = |n: u64| (n as f64 / total as f64).max(floor);
    for &(value, count) in buckets.iter().filter(|b| b.1 > 0) {
        steps.push((value, fraction(above)));
        above -= count;
        steps.push((value, fraction(above)));
    }
    steps
}

/// The lowest fraction a CCDF axis of `total` observations shows: a decade below 1/total.
pub fn ccdf_floor(total: u64) -> f64 {
    decade_below(1.0 / total.max(1) as f64) / 10.0
}

/// The axes of latency CCDFs: the values on a log x axis reaching a little beyond the
/// smallest and the largest, the fraction on a log y axis from `floor` to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CcdfAxes {
    /// The smallest and the largest value drawn.
    pub values: (f64, f64),
    /// The lowest fraction shown (see [`ccdf_floor`]).
    pub floor: f64,
}

impl CcdfAxes {
    /// Axes that hold each of `curves` (from [`ccdf_steps`]), spanning a decade at least.
    pub fn holding<'a>(curves: impl IntoIterator<Item = &'a [(f64, f64)]>, floor: f64) -> Self {
        let (mut lo, mut hi) = (f64::INFINITY, 0f64);
        for steps in curves {
            if let (Some(first), Some(last)) = (steps.first(), steps.last()) {
                lo = lo.min(first.0);
                hi = hi.max(last.0);
            }
        }
        if !lo.is_finite() {
            (lo, hi) = (0.1, 1.0);
        }
        let lo = lo.max(1e-6);
        CcdfAxes {
            values: (lo, hi.max(lo * 10.0)),
            floor,
        }
    }

    /// The x axis' range.
    fn x(&self) -> (f64, f64) {
        (self.values.0 / 1.2, self.values.1 * 1.2)
    }
}

/// A latency CCDF to draw: its words, its steps (from [`ccdf_steps`]) on `axes`, and marks
/// (such as the retry times: the legend's text and the values).
#[derive(Debug, Clone, Copy)]
pub struct Ccdf<'a> {
    /// The chart's title.
    pub title: &'a str,
    /// What the x axis measures.
    pub x_desc: &'a str,
    /// What the y axis measures.
    pub y_desc: &'a str,
    /// The step function.
    pub steps: &'a [(f64, f64)],
    /// The axes.
    pub axes: CcdfAxes,
    /// The marks' legend text and values.
    pub marks: (&'a str, &'a [f64]),
}

/// A complementary CDF on log-log axes fitted to its steps, with `marks` (such as the retry
/// times) as dashed vertical lines, numbered, where they fall within the data's range.
pub fn ccdf(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    steps: &[(f64, f64)],
    floor: f64,
    marks: (&str, &[f64]),
) -> Result<String, PageError> {
    let chart = Ccdf {
        title,
        x_desc,
        y_desc,
        steps,
        axes: CcdfAxes::holding([steps], floor),
        marks,
    };
    draw_ccdf(&chart, FULL, true)
}

/// One of a grid of CCDFs on the same axes ([`SMALL`]), its marks not numbered.
pub fn small_ccdf(chart: &Ccdf<'_>) -> Result<String, PageError> {
    draw_ccdf(chart, SMALL, false)
}

/// A tick label for a narrow axis: thousands and millions of whole numbers as `k` and `M`
/// (`10k`, not `10,000`), so that the decades do not run together.
fn short_tick(v: f64) -> String {
    for (unit, suffix) in [(1e6, "M"), (1e3, "k")] {
        if v.abs() >= unit && (v / unit).fract() == 0.0 {
            return format!("{}{suffix}", tick(v / unit));
        }
    }
    tick(v)
}

/// The font size of the marks' numbers, as plotters takes it.
const MARK_FONT: u32 = LABEL - 2;
/// A mark's number starts this factor right of the mark (on the log axis).
const MARK_NUMBER_SHIFT: f64 = 1.04;
/// The space kept between two numbers, SVG units.
const MARK_NUMBER_GAP: f64 = 6.0;

/// How wide the number `n` is drawn, SVG units: digits are 0.64 em wide in DejaVu Sans (the
/// widest of the usual sans-serif fonts), and plotters writes 0.8 times its font size.
fn number_width(n: usize) -> f64 {
    n.to_string().len() as f64 * f64::from(MARK_FONT) * 0.8 * 0.65
}

/// The marks whose numbers are drawn: from left to right, each number that starts after the
/// previous drawn one ends (with [`MARK_NUMBER_GAP`] between) and ends before `right`, from
/// `(number, value, left edge)` in increasing value.
fn thin_numbers(starts: impl Iterator<Item = (usize, f64, f64)>, right: f64) -> Vec<(usize, f64)> {
    let mut kept = Vec::new();
    let mut free_from = f64::NEG_INFINITY;
    for (n, m, x) in starts {
        if x >= free_from && x + number_width(n) <= right {
            kept.push((n, m));
            free_from = x + number_width(n) + MARK_NUMBER_GAP;
        }
    }
    kept
}

fn draw_ccdf(c: &Ccdf<'_>, size: Size, with_numbers: bool) -> Result<String, PageError> {
    let (lo, hi) = c.axes.values;
    let (x0, x1) = c.axes.x();
    let floor = c.axes.floor;
    // Each mark with its number (1 for the first retry), where it falls within the data.
    let shown: Vec<(usize, f64)> = c
        .marks
        .1
        .iter()
        .copied()
        .enumerate()
        .map(|(i, m)| (i + 1, m))
        .filter(|&(_, m)| m >= lo && m <= hi * 1.5)
        .collect();
    let mut legend = Legend::default();
    legend.add("delivered", Key::Line(color(0)));
    if !shown.is_empty() {
        legend.add(c.marks.0, Key::Dashed(color(5)));
    }
    svg_sized(size, &legend, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(c.title, (FONT, CAPTION))
            .margin(10)
            .margin_right(24)
            .x_label_area_size(52)
            .y_label_area_size(86)
            .build_cartesian_2d((x0..x1).log_scale(), (floor..1.0).log_scale())
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_desc(c.x_desc)
            .y_desc(c.y_desc)
            .x_labels(if size == FULL { 10 } else { 5 })
            .x_label_formatter(&|x| {
                if size == FULL {
                    tick(*x)
                } else {
                    short_tick(*x)
                }
            })
            .y_label_formatter(&|y| tick(*y))
            .label_style((FONT, LABEL))
            .draw()
            .map_err(chart_error)?;
        for &(_, m) in &shown {
            chart
                .draw_series(DashedLineSeries::new(
                    [(m, floor), (m, 1.0)],
                    6,
                    4,
                    color(5).stroke_width(1),
                ))
                .map_err(chart_error)?;
        }
        let style = (FONT, MARK_FONT)
            .into_font()
            .color(&color(5))
            .pos(Pos::new(HPos::Left, VPos::Top));
        let numbered = if with_numbers {
            // Where each number would start on the page, left to right.
            let starts = shown.iter().map(|&(n, m)| {
                let at = (m * MARK_NUMBER_SHIFT, 0.8);
                (n, m, f64::from(chart.backend_coord(&at).0))
            });
            let right = chart.plotting_area().get_pixel_range().0.end;
            thin_numbers(starts, f64::from(right))
        } else {
            Vec::new()
        };
        chart
            .draw_series(numbered.iter().map(|&(n, m)| {
                Text::new(format!("{n}"), (m * MARK_NUMBER_SHIFT, 0.8), style.clone())
            }))
            .map_err(chart_error)?;
        if c.steps.is_empty() {
            // An empty axis would look like a drawing that failed.
            let centre = (x0 * x1).sqrt();
            let middle = (floor.ln() / 2.0).exp();
            let style = TextStyle::from((FONT, LABEL).into_font())
                .pos(Pos::new(HPos::Center, VPos::Center));
            chart
                .draw_series([Text::new("none delivered", (centre, middle), style)])
                .map_err(chart_error)?;
        }
        chart
            .draw_series(LineSeries::new(
                c.steps.iter().copied(),
                color(0).stroke_width(2),
            ))
            .map_err(chart_error)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::super::WIDTH;
    use super::*;

    fn series(name: &str, top: f64) -> Series {
        Series {
            name: name.into(),
            color: 0,
            points: vec![(0.0, 0.0), (1.0, top)],
        }
    }

    #[test]
    fn scales_ten_times_apart_get_their_own_panel() {
        let panels = split_by_scale(
            "n",
            vec![
                series("deferred", 30.0),
                series("delivered", 2500.0),
                series("bounced", 400.0),
            ],
        );
        let names: Vec<Vec<&str>> = panels
            .iter()
            .map(|p| p.series.iter().map(|s| s.name.as_str()).collect())
            .collect();
        assert_eq!(names, [vec!["delivered", "bounced"], vec!["deferred"]]);
        let one = split_by_scale("n", vec![series("a", 10.0), series("b", 2.0)]);
        assert_eq!(one.len(), 1);
    }

    /// The left edge and text of each mark number in `svg` (orange text that is a number).
    fn mark_numbers(svg: &str) -> Vec<(f64, String)> {
        let lines: Vec<&str> = svg.lines().collect();
        lines
            .windows(2)
            .filter(|w| w[0].starts_with("<text") && w[0].contains("fill=\"#D55E00\""))
            .filter(|w| w[1].trim().parse::<usize>().is_ok())
            .map(|w| {
                let x = w[0]
                    .split(" x=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                (x.parse().unwrap(), w[1].trim().to_string())
            })
            .collect()
    }

    #[test]
    fn narrow_axes_write_thousands_short() {
        assert_eq!(short_tick(10_000.0), "10k");
        assert_eq!(short_tick(1_000_000.0), "1M");
        assert_eq!(short_tick(100.0), "100");
        assert_eq!(short_tick(0.1), "0.1");
        assert_eq!(short_tick(1500.0), "1500");
    }

    #[test]
    fn retry_numbers_never_overlap() {
        // A long schedule: 60 s growing by half each time, for four days (27 retries).
        let mut retries = vec![60.0];
        while *retries.last().unwrap() < 4.0 * 86_400.0 {
            retries.push(retries.last().unwrap() * 1.5);
        }
        let mut buckets = vec![(30.0, 10)];
        buckets.extend(retries.iter().map(|&r| (r + 1.0, 10)));
        let floor = ccdf_floor(10 * retries.len() as u64);
        let steps = ccdf_steps(&buckets, floor);
        let svg = ccdf("t", "s", "f", &steps, floor, ("retries", &retries)).unwrap();
        let numbers = mark_numbers(&svg);
        assert!(numbers.len() >= 5, "{numbers:?}");
        assert!(numbers.len() < retries.len(), "thinned: {numbers:?}");
        assert_eq!(numbers[0].1, "1", "the first is always numbered");
        for w in numbers.windows(2) {
            let end = w[0].0 + number_width(w[0].1.parse().unwrap());
            assert!(end < w[1].0, "{w:?} overlap");
        }
        // None runs past the plotting area (the chart's width less its right margin).
        let (x, last) = numbers.last().unwrap();
        assert!(x + number_width(last.parse().unwrap()) <= f64::from(WIDTH) - 24.0);
        // Marks far apart are all numbered.
        let few = [60.0, 600.0, 6000.0];
        let steps = ccdf_steps(&[(1.0, 1), (7000.0, 1)], 0.01);
        let svg = ccdf("t", "s", "f", &steps, 0.01, ("retries", &few)).unwrap();
        let texts: Vec<String> = mark_numbers(&svg).into_iter().map(|n| n.1).collect();
        assert_eq!(texts, ["1", "2", "3"]);
    }

    #[test]
    fn the_ccdf_is_a_step_function() {
        let steps = ccdf_steps(&[(1.0, 2), (5.0, 0), (60.0, 1), (61.0, 1)], 0.01);
        assert_eq!(
            steps,
            [
                (1.0, 1.0),
                (1.0, 0.5),
                (60.0, 0.5),
                (60.0, 0.25),
                (61.0, 0.25),
                (61.0, 0.01)
            ]
        );
        // Between values the line is flat: no segment both rises in x and falls in y.
        for w in steps.windows(2) {
            assert!(w[0].0 == w[1].0 || w[0].1 == w[1].1, "{w:?}");
        }
        assert!(ccdf_steps(&[], 0.1).is_empty());
        assert!((ccdf_floor(4) / 0.01 - 1.0).abs() < 1e-9);
        assert!((ccdf_floor(250_000) / 1e-7 - 1.0).abs() < 1e-9);
    }
}
