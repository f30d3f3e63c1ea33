//! Overlaid lines over a numeric axis for `smtpsim compare`'s page (its means with intervals
//! are [`super::intervals`] over categories).

use plotters::prelude::*;

use super::{
    ANY, CAPTION, COUNT, FONT, Key, LABEL, Legend, PLOT_HEIGHT, PageError, chart_error, color,
    span, svg, tick,
};

/// The x range of points spread over orders of magnitude, for a log axis: the positive
/// values' range widened by a factor, a decade at least.
fn log_range(xs: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = xs
        .filter(|x| *x > 0.0 && x.is_finite())
        .fold((f64::INFINITY, 0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let lo = if lo.is_finite() { lo / 1.5 } else { 1e-6 };
    (lo, (hi * 1.5).max(lo * 10.0))
}

/// Lines through points, one per named series, y from zero; `log_x` for quantities spread
/// over orders of magnitude. The legend sits below the plotting area.
pub fn lines(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[(String, Vec<(f64, f64)>)],
    log_x: bool,
) -> Result<String, PageError> {
    let xs = || series.iter().flat_map(|(_, p)| p.iter().map(|p| p.0));
    let (y0, y1) = span(
        series.iter().flat_map(|(_, p)| p.iter().map(|p| p.1)),
        COUNT,
    );
    let y = 0f64.min(y0)..y1;
    let mut legend = Legend::default();
    for (i, (name, _)) in series.iter().enumerate() {
        legend.add(name.as_str(), Key::Line(color(i)));
    }
    svg(PLOT_HEIGHT, &legend, |root| {
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(title, (FONT, CAPTION))
            .margin(10)
            .margin_right(24)
            .x_label_area_size(52)
            .y_label_area_size(86);
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(x_desc)
                    .y_desc(y_desc)
                    .x_label_formatter(&|x| tick(*x))
                    .y_label_formatter(&|y| tick(*y))
                    .label_style((FONT, LABEL))
                    .draw()
                    .map_err(chart_error)?;
                for (i, (_, points)) in series.iter().enumerate() {
                    chart
                        .draw_series(LineSeries::new(
                            points.iter().copied(),
                            color(i).stroke_width(2),
                        ))
                        .map_err(chart_error)?;
                }
            }};
        }
        if log_x {
            let (lo, hi) = log_range(xs());
            draw!(
                builder
                    .build_cartesian_2d((lo..hi).log_scale(), y)
                    .map_err(chart_error)?
            );
        } else {
            let (x0, x1) = span(xs(), ANY);
            draw!(builder.build_cartesian_2d(x0..x1, y).map_err(chart_error)?);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_drawn_with_their_legend_below() {
        let text = lines(
            "CDF",
            "s",
            "fraction",
            &[
                ("a".into(), vec![(0.1, 0.0), (10.0, 1.0)]),
                ("b".into(), vec![(0.2, 0.0), (20.0, 1.0)]),
            ],
            true,
        )
        .unwrap();
        assert!(text.contains("<polyline"));
        assert!(text.contains("<rect class=\"legend-box\" x=\"12\" y=\"406\""));
        // A log axis over 0.1 to 20 s is labelled at the decades.
        for decade in ["0.1", "1", "10"] {
            assert!(text.lines().any(|l| l.trim() == decade), "{decade}");
        }
    }

    #[test]
    fn log_ranges_span_a_decade_and_skip_zero() {
        assert_eq!(log_range([0.0, 3.0, 6.0].into_iter()), (2.0, 20.0));
        let (lo, hi) = log_range([0.0].into_iter());
        assert!(lo > 0.0 && hi >= lo * 10.0);
    }
}
