//! Means with their confidence intervals against the values of a swept parameter.

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use super::{
    ANY, CAPTION, FONT, FULL, Key, LABEL, Legend, PageError, SMALL, Size, category, chart_error,
    color, span, spans_decade, svg_sized, tick,
};

/// A named series of means, each with the half-width of its confidence interval, one per
/// value of the parameter (`NaN` for a value without a mean).
pub type Intervals = (String, Vec<(f64, Option<f64>)>);

/// Where a parameter's values go on the x axis.
#[derive(Debug, Clone)]
pub enum XValues {
    /// Numbers (durations in seconds): a numeric axis, logarithmic when they span a decade.
    Numbers(Vec<f64>),
    /// Text: evenly spaced categories in their order.
    Categories(Vec<String>),
}

impl XValues {
    /// Numbers if every value reads as a number or a duration (`"60s"` is 60), else
    /// categories.
    pub fn of(values: &[String], as_number: impl Fn(&str) -> Option<f64>) -> XValues {
        let numbers: Option<Vec<f64>> = values.iter().map(|v| as_number(v)).collect();
        match numbers {
            Some(numbers) if numbers.iter().all(|v| v.is_finite()) => XValues::Numbers(numbers),
            _ => XValues::Categories(values.to_vec()),
        }
    }

    fn len(&self) -> usize {
        match self {
            XValues::Numbers(v) => v.len(),
            XValues::Categories(v) => v.len(),
        }
    }
}

/// The y range that holds every mean of `series` with its interval, within `limits` (the
/// range the metric can take).
pub fn interval_span<'a>(
    series: impl IntoIterator<Item = &'a Intervals>,
    limits: (f64, f64),
) -> (f64, f64) {
    span(
        series.into_iter().flat_map(|(_, points)| {
            points.iter().flat_map(|(mean, ci)| {
                let ci = ci.unwrap_or(0.0);
                [mean - ci, mean + ci]
            })
        }),
        limits,
    )
}

/// A metric against the values of one parameter: its words, where the values go, and one
/// series per combination of the other parameters.
#[derive(Debug, Clone, Copy)]
pub struct IntervalChart<'a> {
    /// The chart's title.
    pub title: &'a str,
    /// What the x axis measures.
    pub x_desc: &'a str,
    /// What the y axis measures.
    pub y_desc: &'a str,
    /// Where the parameter's values go.
    pub x: &'a XValues,
    /// The series.
    pub series: &'a [Intervals],
}

/// A metric against the values of one parameter, one series per combination of the other
/// parameters: the mean with its 95% confidence interval, within `limits` (the range the
/// metric can take). Series sit a little apart around each value, so that their bars do not
/// hide each other.
pub fn intervals(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    x: &XValues,
    limits: (f64, f64),
    series: &[Intervals],
) -> Result<String, PageError> {
    let chart = IntervalChart {
        title,
        x_desc,
        y_desc,
        x,
        series,
    };
    draw_intervals(&chart, FULL, interval_span(series, limits))
}

/// One of a grid of [`intervals`] charts ([`SMALL`]) sharing the y range `y` (see
/// [`interval_span`]).
pub fn small_intervals(chart: &IntervalChart<'_>, y: (f64, f64)) -> Result<String, PageError> {
    draw_intervals(chart, SMALL, y)
}

fn draw_intervals(c: &IntervalChart<'_>, size: Size, y: (f64, f64)) -> Result<String, PageError> {
    let IntervalChart {
        title,
        x_desc,
        y_desc,
        x,
        series,
    } = *c;
    let (y0, y1) = y;
    let mut legend = Legend::default();
    for (s, (name, _)) in series.iter().enumerate() {
        legend.add(name.as_str(), Key::Marker(color(s)));
    }
    let count = series.len().max(1) as f64;
    // Each series' shift from the value, as a fraction of the axis.
    let shift = |s: usize| (s as f64 - (count - 1.0) / 2.0) * 0.012;
    svg_sized(size, &legend, |root| {
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(title, (FONT, CAPTION))
            .margin(10)
            .margin_right(24)
            .x_label_area_size(52)
            .y_label_area_size(86);
        match x {
            XValues::Numbers(values) => {
                let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if spans_decade(lo, hi) {
                    let (a, b) = (lo / 1.3, hi * 1.3);
                    let octaves = (b / a).log10();
                    let place = |s: usize, i: usize| values[i] * 10f64.powf(shift(s) * octaves);
                    let chart = builder
                        .build_cartesian_2d(
                            (a..b).log_scale().with_key_points(values.clone()),
                            y0..y1,
                        )
                        .map_err(chart_error)?;
                    draw(chart, x_desc, y_desc, series, &|v| tick(*v), place)
                } else {
                    let (a, b) = span(values.iter().copied(), ANY);
                    let (a, b) = if lo >= 0.0 { (a.max(0.0), b) } else { (a, b) };
                    let place = |s: usize, i: usize| values[i] + shift(s) * (b - a);
                    let chart = builder
                        .build_cartesian_2d(a..b, y0..y1)
                        .map_err(chart_error)?;
                    // Whole values (counts) are labelled at whole numbers only.
                    let whole = values.iter().all(|v| v.fract() == 0.0);
                    let label = |v: &f64| {
                        if whole && v.fract() != 0.0 {
                            String::new()
                        } else {
                            tick(*v)
                        }
                    };
                    draw(chart, x_desc, y_desc, series, &label, place)
                }
            }
            XValues::Categories(labels) => {
                let n = x.len().max(1) as f64;
                let place = |s: usize, i: usize| i as f64 + shift(s) * n;
                let chart = builder
                    .build_cartesian_2d(-0.5..n - 0.5, y0..y1)
                    .map_err(chart_error)?;
                draw(
                    chart,
                    x_desc,
                    y_desc,
                    series,
                    &|v| category(labels, *v),
                    place,
                )
            }
        }
    })
}

/// The mesh, the error bars, the lines between means and the means.
fn draw<'a, X>(
    mut chart: ChartContext<
        'a,
        SVGBackend<'a>,
        Cartesian2d<X, plotters::coord::types::RangedCoordf64>,
    >,
    x_desc: &str,
    y_desc: &str,
    series: &[Intervals],
    x_label: &dyn Fn(&f64) -> String,
    place: impl Fn(usize, usize) -> f64,
) -> Result<(), PageError>
where
    X: plotters::coord::ranged1d::Ranged<ValueType = f64> + ValueFormatter<f64>,
    std::ops::Range<f64>: AsRangedCoord,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(x_label)
        .y_label_formatter(&|y| tick(*y))
        .label_style((FONT, LABEL))
        .draw()
        .map_err(chart_error)?;
    for (s, (_, points)) in series.iter().enumerate() {
        let c = color(s);
        let placed: Vec<(f64, f64, f64)> = points
            .iter()
            .enumerate()
            .filter(|(_, (mean, _))| mean.is_finite())
            .map(|(i, (mean, ci))| (place(s, i), *mean, ci.unwrap_or(0.0)))
            .collect();
        chart
            .draw_series(placed.iter().map(|&(x, mean, ci)| {
                ErrorBar::new_vertical(x, mean - ci, mean, mean + ci, c.stroke_width(2), 10)
            }))
            .map_err(chart_error)?;
        if placed.len() > 1 {
            chart
                .draw_series(LineSeries::new(
                    placed.iter().map(|&(x, mean, _)| (x, mean)),
                    c.mix(0.5),
                ))
                .map_err(chart_error)?;
        }
        chart
            .draw_series(
                placed
                    .iter()
                    .map(|&(x, mean, _)| Circle::new((x, mean), 4, c.filled())),
            )
            .map_err(chart_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(text: &str) -> Option<f64> {
        text.strip_suffix('s').unwrap_or(text).parse().ok()
    }

    #[test]
    fn numbers_go_on_a_numeric_axis() {
        let values: Vec<String> = ["60s", "300s", "900s"].map(String::from).into();
        let x = XValues::of(&values, seconds);
        assert!(matches!(&x, XValues::Numbers(v) if v == &[60.0, 300.0, 900.0]));
        let text = intervals(
            "p99 latency",
            "relay.retry.initial, seconds",
            "seconds",
            &x,
            ANY,
            &[
                (
                    "multiplier=1.5".into(),
                    vec![(1.0, Some(0.1)), (2.0, None), (3.0, Some(0.2))],
                ),
                (
                    "multiplier=2".into(),
                    vec![(1.5, Some(0.1)), (2.5, None), (f64::NAN, None)],
                ),
            ],
        )
        .unwrap();
        assert!(text.starts_with("<svg"));
        // The values label the axis (a log axis: they span a decade).
        for needle in [
            "p99 latency",
            ">\n60\n<",
            ">\n900\n<",
            "multiplier=2",
            "relay.retry.initial",
        ] {
            assert!(text.contains(needle), "{needle}");
        }
        let words: Vec<String> = ["slow", "fast"].map(String::from).into();
        assert!(matches!(
            XValues::of(&words, seconds),
            XValues::Categories(_)
        ));
    }

    /// The x position of the axis label reading `text`.
    fn label_x(svg: &str, text: &str) -> f64 {
        let lines: Vec<&str> = svg.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.trim() == text)
            .unwrap_or_else(|| panic!("{text} in {svg}"));
        let tag = lines[at - 1];
        let x = tag.find(" x=\"").unwrap() + 4;
        tag[x..].split('"').next().unwrap().parse().unwrap()
    }

    #[test]
    fn whole_values_are_labelled_at_whole_numbers() {
        let x = XValues::Numbers(vec![1.0, 2.0, 3.0, 4.0]);
        let means = vec![(0.25, Some(0.01)); 4];
        let svg = intervals("t", "attempts", "y", &x, ANY, &[("s".into(), means)]).unwrap();
        let texts: Vec<&str> = svg.lines().map(str::trim).collect();
        assert!(texts.contains(&"2") && texts.contains(&"3"), "{svg}");
        assert!(!texts.contains(&"1.5") && !texts.contains(&"2.5"), "{svg}");
        // Fractions keep their labels.
        let x = XValues::Numbers(vec![1.5, 2.0]);
        let svg = intervals(
            "t",
            "x",
            "y",
            &x,
            ANY,
            &[("s".into(), vec![(1.0, None); 2])],
        )
        .unwrap();
        assert!(svg.lines().any(|l| l.trim() == "1.5"), "{svg}");
    }

    #[test]
    fn values_a_decade_apart_sit_on_a_log_axis() {
        let draw = |values: &[f64]| {
            let x = XValues::Numbers(values.to_vec());
            let means = vec![(1.0, None); values.len()];
            intervals("t", "x", "y", &x, ANY, &[("s".into(), means)]).unwrap()
        };
        let svg = draw(&[60.0, 240.0, 600.0]);
        let [a, b, c] = ["60", "240", "600"].map(|t| label_x(&svg, t));
        // Log spacing: log(4) / log(2.5) = 1.51; on a linear axis it would be 180 / 360.
        let ratio = (b - a) / (c - b);
        assert!((ratio - 1.51).abs() < 0.1, "{ratio}");
        let svg = draw(&[100.0, 200.0, 400.0]);
        let [a, b, c] = ["100", "200", "400"].map(|t| label_x(&svg, t));
        let ratio = (b - a) / (c - b);
        assert!(
            (ratio - 0.5).abs() < 0.05,
            "less than a decade: linear, {ratio}"
        );
    }
}
