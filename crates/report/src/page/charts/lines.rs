//! Overlaid lines and error bars for `smtpsim compare`'s page, as SVG text (plotters' SVG
//! backend; text is left to the browser's fonts).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::super::PageError;
use super::color;

const SIZE: (u32, u32) = (760, 420);
const FONT: &str = "sans-serif";

fn chart_error<E: std::fmt::Debug>(e: E) -> PageError {
    PageError::Chart(format!("{e:?}"))
}

/// Draws into a fresh SVG document and returns its text.
fn svg(
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), PageError>,
) -> Result<String, PageError> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        draw(&root)?;
        root.present().map_err(chart_error)?;
    }
    Ok(text)
}

/// A range around `values` with a little room, never empty.
fn span(values: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if from_zero {
        lo = lo.min(0.0);
    }
    if hi - lo < 1e-12 {
        let room = 0.5_f64.max(lo.abs() * 0.1);
        let bottom = if lo >= 0.0 {
            (lo - room).max(0.0)
        } else {
            lo - room
        };
        return (bottom, hi + room);
    }
    let pad = (hi - lo) * 0.06;
    // Quantities that cannot be negative keep the axis at or above zero.
    let bottom = if lo >= 0.0 {
        (lo - pad).max(0.0)
    } else {
        lo - pad
    };
    (if from_zero && lo >= 0.0 { lo } else { bottom }, hi + pad)
}

/// A value axis label as people write numbers: whole numbers without decimals (counts read
/// `2500`, not `2500.0`), others without trailing zeros (`0.3`, not `0.300`).
fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    // Ticks fall on steps such as 0.1 and carry float noise (0.30000000000000004).
    let text = format!("{v:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" || text.is_empty() {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// The label of category `x` (a position 0, 1, 2 ...), or nothing between positions.
fn category(labels: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    labels.get(i as usize).cloned().unwrap_or_default()
}

/// Lines through points; `log_x` for quantities spread over orders of magnitude.
pub fn lines(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[(String, Vec<(f64, f64)>)],
    log_x: bool,
) -> Result<String, PageError> {
    let (x0, x1) = span(
        series.iter().flat_map(|(_, p)| p.iter().map(|p| p.0)),
        false,
    );
    let (y0, y1) = span(series.iter().flat_map(|(_, p)| p.iter().map(|p| p.1)), true);
    svg(|root| {
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70);
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(x_desc)
                    .y_desc(y_desc)
                    .x_label_formatter(&|x| tick(*x))
                    .y_label_formatter(&|y| tick(*y))
                    .label_style((FONT, 13))
                    .draw()
                    .map_err(chart_error)?;
                for (i, (name, points)) in series.iter().enumerate() {
                    let c = color(i);
                    chart
                        .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))
                        .map_err(chart_error)?
                        .label(name.as_str())
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                        });
                }
                if series.len() > 1 {
                    chart
                        .configure_series_labels()
                        .label_font((FONT, 13))
                        .background_style(WHITE.mix(0.85))
                        .border_style(BLACK)
                        .position(SeriesLabelPosition::UpperLeft)
                        .draw()
                        .map_err(chart_error)?;
                }
            }};
        }
        if log_x {
            // Padding is a factor on a log axis: the span's linear padding would reach 0.
            let positive = series
                .iter()
                .flat_map(|(_, p)| p.iter().map(|p| p.0))
                .filter(|x| *x > 0.0 && x.is_finite());
            let (lo, hi) = positive.fold((f64::INFINITY, 0.0f64), |(lo, hi), x| {
                (lo.min(x), hi.max(x))
            });
            let lo = if lo.is_finite() {
                lo / 1.5
            } else {
                x0.max(1e-6)
            };
            let hi = (hi * 1.5).max(lo * 10.0);
            draw!(
                builder
                    .build_cartesian_2d((lo..hi).log_scale(), y0..y1)
                    .map_err(chart_error)?
            );
        } else {
            draw!(
                builder
                    .build_cartesian_2d(x0..x1, y0..y1)
                    .map_err(chart_error)?
            );
        }
        Ok(())
    })
}

/// A named series of means, each with the half-width of its confidence interval.
pub type Intervals = (String, Vec<(f64, Option<f64>)>);

/// A metric against the values of one parameter (categories in their order), one series per
/// combination of the other parameters: the mean with its 95% confidence interval.
pub fn error_bars(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    labels: &[String],
    series: &[Intervals],
) -> Result<String, PageError> {
    let n = labels.len().max(1) as f64;
    let (y0, y1) = span(
        series.iter().flat_map(|(_, points)| {
            points.iter().flat_map(|(mean, ci)| {
                let ci = ci.unwrap_or(0.0);
                [mean - ci, mean + ci]
            })
        }),
        false,
    );
    let count = series.len().max(1) as f64;
    // Series side by side around each category, so that their bars do not overlap.
    let offset = |s: usize| (s as f64 - (count - 1.0) / 2.0) * (0.5 / count);
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5..n - 0.5, y0..y1)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_labels(labels.len() * 2 + 1)
            .x_label_formatter(&|x| category(labels, *x))
            .y_label_formatter(&|y| tick(*y))
            .label_style((FONT, 13))
            .draw()
            .map_err(chart_error)?;
        for (s, (name, points)) in series.iter().enumerate() {
            let c = color(s);
            let placed: Vec<(f64, f64, f64)> = points
                .iter()
                .enumerate()
                .map(|(i, (mean, ci))| (i as f64 + offset(s), *mean, ci.unwrap_or(0.0)))
                .collect();
            chart
                .draw_series(placed.iter().map(|&(x, mean, ci)| {
                    ErrorBar::new_vertical(x, mean - ci, mean, mean + ci, c.stroke_width(2), 10)
                }))
                .map_err(chart_error)?
                .label(name.as_str())
                .legend(move |(x, y)| Circle::new((x + 9, y), 4, c.filled()));
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
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .label_font((FONT, 12))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(chart_error)?;
        }
        Ok(())
    })
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
            (-40.0, "-40"),
            (0.30000000000000004, "0.3"),
            (0.25, "0.25"),
            (1.5e-7, "0"),
            (-0.1, "-0.1"),
            (12.5, "12.5"),
        ] {
            assert_eq!(tick(value), text, "{value}");
        }
    }

    #[test]
    fn charts_are_svg_with_their_labels() {
        let labels: Vec<String> = ["60s", "300s", "900s"].map(String::from).into();
        let text = error_bars(
            "p99 latency",
            "relay.retry.initial",
            "seconds",
            &labels,
            &[
                (
                    "multiplier=1.5".into(),
                    vec![(1.0, Some(0.1)), (2.0, None), (3.0, Some(0.2))],
                ),
                (
                    "multiplier=2".into(),
                    vec![(1.5, Some(0.1)), (2.5, None), (3.5, Some(0.2))],
                ),
            ],
        )
        .unwrap();
        assert!(text.starts_with("<svg"));
        for needle in ["p99 latency", "300s", "multiplier=2", "relay.retry.initial"] {
            assert!(text.contains(needle), "{needle}");
        }
        let text = lines(
            "CDF",
            "s",
            "fraction",
            &[("a".into(), vec![(0.1, 0.0), (10.0, 1.0)])],
            true,
        )
        .unwrap();
        assert!(text.contains("<polyline") || text.contains("<path"));
    }

    #[test]
    fn spans_are_never_empty() {
        assert_eq!(span([].into_iter(), false), (0.0, 1.0));
        let (lo, hi) = span([5.0, 5.0].into_iter(), false);
        assert!(lo < 5.0 && hi > 5.0);
        assert_eq!(span([1.0, 2.0].into_iter(), true).0, 0.0);
    }
}
