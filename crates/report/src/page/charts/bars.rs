//! Bars: counts per category on a log axis, a histogram over a numeric axis, and horizontal
//! bars for long labels.

use plotters::prelude::*;

use super::{
    CAPTION, COUNT, FONT, LABEL, Legend, PLOT_HEIGHT, PageError, category, chart_error, color,
    decade_above, span, svg, thousands, tick,
};

/// The y range of counts on a log axis: from below one to a decade above the largest.
fn log_counts(values: &[f64]) -> (f64, f64) {
    let top = values.iter().copied().fold(1.0, f64::max);
    (0.5, decade_above(top * 1.5))
}

/// Counts per category on a log axis, each bar labelled with its count, so that 110 next to
/// 247,971 is seen (a zero has no bar, only its label).
pub fn outcome_bars(
    title: &str,
    y_desc: &str,
    labels: &[String],
    values: &[f64],
) -> Result<String, PageError> {
    let n = labels.len().max(1) as f64;
    let (bottom, top) = log_counts(values);
    svg(PLOT_HEIGHT, &Legend::default(), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, CAPTION))
            .margin(10)
            .margin_right(24)
            .x_label_area_size(52)
            .y_label_area_size(86)
            .build_cartesian_2d(-0.5..n - 0.5, (bottom..top).log_scale())
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc(y_desc)
            .x_labels(labels.len() * 2 + 1)
            .x_label_formatter(&|x| category(labels, *x))
            .y_label_formatter(&|y| tick(*y))
            .label_style((FONT, LABEL))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(
                values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v >= 1.0)
                    .map(|(i, &v)| {
                        let x = i as f64;
                        Rectangle::new([(x - 0.35, bottom), (x + 0.35, v)], color(0).filled())
                    }),
            )
            .map_err(chart_error)?;
        let style =
            TextStyle::from((FONT, LABEL).into_font()).pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Bottom,
            ));
        chart
            .draw_series(values.iter().enumerate().map(|(i, &v)| {
                Text::new(
                    thousands(v as i64),
                    (i as f64, v.max(bottom) * 1.15),
                    style.clone(),
                )
            }))
            .map_err(chart_error)?;
        Ok(())
    })
}

/// A histogram over whole numbers (such as attempts per recipient): a bar at each value on
/// a numeric axis, the count axis logarithmic when the counts span 100× or more.
pub fn histogram(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    counts: &[(f64, f64)],
) -> Result<String, PageError> {
    let first = counts.iter().map(|c| c.0).fold(f64::INFINITY, f64::min);
    let last = counts.iter().map(|c| c.0).fold(f64::NEG_INFINITY, f64::max);
    let (first, last) = if first.is_finite() {
        (first, last)
    } else {
        (0.0, 1.0)
    };
    let values: Vec<f64> = counts.iter().map(|c| c.1).collect();
    let smallest = values
        .iter()
        .copied()
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let largest = values.iter().copied().fold(0.0, f64::max);
    let log = smallest.is_finite() && largest / smallest >= 100.0;
    let width = ((last - first) / 120.0).clamp(0.3, 0.4);
    let x = (first - 0.6)..(last + 0.6);
    svg(PLOT_HEIGHT, &Legend::default(), |root| {
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(title, (FONT, CAPTION))
            .margin(10)
            .margin_right(24)
            .x_label_area_size(52)
            .y_label_area_size(86);
        macro_rules! draw {
            ($chart:expr, $floor:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .disable_x_mesh()
                    .x_desc(x_desc)
                    .y_desc(y_desc)
                    .x_labels(10)
                    .x_label_formatter(&|x| {
                        if x.fract() == 0.0 {
                            tick(*x)
                        } else {
                            String::new()
                        }
                    })
                    .y_label_formatter(&|y| tick(*y))
                    .label_style((FONT, LABEL))
                    .draw()
                    .map_err(chart_error)?;
                chart
                    .draw_series(counts.iter().filter(|c| c.1 > 0.0).map(|&(at, n)| {
                        Rectangle::new([(at - width, $floor), (at + width, n)], color(0).filled())
                    }))
                    .map_err(chart_error)?;
            }};
        }
        if log {
            let (bottom, top) = log_counts(&values);
            draw!(
                builder
                    .build_cartesian_2d(x, (bottom..top).log_scale())
                    .map_err(chart_error)?,
                bottom
            );
        } else {
            let (_, top) = span(values.iter().copied(), COUNT);
            draw!(
                builder
                    .build_cartesian_2d(x, 0.0..top)
                    .map_err(chart_error)?,
                0.0
            );
        }
        Ok(())
    })
}

/// Horizontal bars, one per category (for long labels such as failure reasons).
pub fn horizontal_bars(
    title: &str,
    x_desc: &str,
    labels: &[String],
    values: &[f64],
) -> Result<String, PageError> {
    let n = labels.len().max(1) as f64;
    let (_, right) = span(values.iter().copied(), COUNT);
    let height = PLOT_HEIGHT.max(120 + 26 * labels.len() as u32);
    svg(height, &Legend::default(), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, CAPTION))
            .margin(10)
            .margin_right(24)
            .x_label_area_size(52)
            .y_label_area_size(250)
            .build_cartesian_2d(0.0..right, -0.5..n - 0.5)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(x_desc)
            .x_labels(5)
            .y_labels(labels.len() * 2 + 1)
            .y_label_formatter(&|y| category(labels, *y))
            .x_label_formatter(&|x| tick(*x))
            .label_style((FONT, LABEL - 2))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(values.iter().enumerate().map(|(i, &v)| {
                let y = i as f64;
                Rectangle::new([(0.0, y - 0.35), (v, y + 0.35)], color(5).filled())
            }))
            .map_err(chart_error)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_axes_have_no_decimals() {
        let svg = histogram(
            "attempts",
            "attempts",
            "recipients",
            &[(1.0, 1200.0), (2.0, 2500.0)],
        )
        .unwrap();
        let texts: Vec<&str> = svg.lines().map(str::trim).collect();
        assert!(texts.contains(&"2000"), "{svg}");
        assert!(
            !texts.iter().any(|t| t.ends_with(".0")),
            "a count axis label with a decimal: {svg}"
        );
    }

    #[test]
    fn outcomes_show_small_counts_beside_large_ones() {
        let labels: Vec<String> = ["inbox", "rejected", "expired"].map(String::from).into();
        let svg =
            outcome_bars("Outcomes", "recipients", &labels, &[247_971.0, 110.0, 0.0]).unwrap();
        for text in ["247,971", "110", "100,000", "100"] {
            assert!(svg.lines().any(|l| l.trim() == text), "{text} in {svg}");
        }
        // A bar for each count above zero, tall enough to see: the smallest is a fair share of
        // the largest on the log axis.
        let heights: Vec<f64> = svg
            .lines()
            .filter(|l| l.starts_with("<rect") && l.contains("fill=\"#0072B2\""))
            .map(|l| {
                let at = l.find("height=\"").unwrap() + 8;
                l[at..].split('"').next().unwrap().parse().unwrap()
            })
            .collect();
        assert_eq!(heights.len(), 2, "{svg}");
        assert!(heights[1] > heights[0] * 0.3, "{heights:?}");
    }

    #[test]
    fn a_histogram_is_drawn_over_numbers() {
        let svg = histogram(
            "attempts",
            "attempts",
            "recipients",
            &[(0.0, 3.0), (1.0, 250_000.0), (2.0, 900.0), (105.0, 2.0)],
        )
        .unwrap();
        // A numeric axis has ticks between the values seen, such as 40.
        assert!(svg.lines().any(|l| l.trim() == "40"), "{svg}");
        assert!(
            svg.lines().any(|l| l.trim() == "100,000"),
            "log count axis: {svg}"
        );
    }
}
