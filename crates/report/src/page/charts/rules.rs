//! What the relay's automation rules did, drawn over a time series: an action that lasts (a
//! suspension) as a shaded span, any other event (a suspension's end, a ramp step) as a
//! dashed vertical line, in the rule's colour; a legend entry per rule and kind of event.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{Key, Legend, PageError, chart_error, color};

/// At most this many marks are drawn on a chart (the earliest); the legend says when more
/// were left out.
pub const MAX_RULE_MARKS: usize = 1000;

/// One event of an automation rule, times in the chart's x unit.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleEvent {
    /// The rule's name.
    pub rule: String,
    /// What happened (`suspend`, `released`, ...).
    pub kind: String,
    /// When.
    pub at: f64,
    /// When the action it started ends, for an action that lasts.
    pub until: Option<f64>,
}

/// The colours of the rules' marks, apart from those of the series (0, 1, 2 and 5).
const RULE_COLORS: [usize; 3] = [3, 4, 6];

/// The events drawn and the legend's entries, a colour per rule and one per (rule, kind) in
/// order of first appearance.
pub struct RuleMarks<'a> {
    drawn: &'a [RuleEvent],
    kinds: Vec<(&'a str, &'a str, RGBColor, bool)>,
    left_out: usize,
}

impl<'a> RuleMarks<'a> {
    /// The marks of `events` (in time order), at most [`MAX_RULE_MARKS`].
    pub fn of(events: &'a [RuleEvent]) -> RuleMarks<'a> {
        let drawn = &events[..events.len().min(MAX_RULE_MARKS)];
        let mut rules: Vec<&str> = Vec::new();
        let mut kinds = Vec::new();
        for e in drawn {
            let r = rules.iter().position(|r| *r == e.rule).unwrap_or_else(|| {
                rules.push(&e.rule);
                rules.len() - 1
            });
            if !kinds
                .iter()
                .any(|&(rule, kind, _, _)| rule == e.rule && kind == e.kind)
            {
                let c = color(RULE_COLORS[r % RULE_COLORS.len()]);
                kinds.push((e.rule.as_str(), e.kind.as_str(), c, e.until.is_some()));
            }
        }
        RuleMarks {
            drawn,
            kinds,
            left_out: events.len() - drawn.len(),
        }
    }

    fn color_of(&self, e: &RuleEvent) -> RGBColor {
        self.kinds
            .iter()
            .find(|k| k.0 == e.rule)
            .map_or(color(RULE_COLORS[0]), |k| k.2)
    }

    /// Adds an entry per rule and kind of event to `legend`.
    pub fn add_to(&self, legend: &mut Legend) {
        for &(rule, kind, c, lasts) in &self.kinds {
            let key = if lasts { Key::Shade(c) } else { Key::Dashed(c) };
            legend.add(format!("rule {rule}: {kind}"), key);
        }
        if self.left_out > 0 {
            legend.add(
                format!(
                    "(the first {MAX_RULE_MARKS} rule events; {} more not drawn)",
                    self.left_out
                ),
                Key::Dashed(color(6)),
            );
        }
    }

    /// Draws the marks over the y range `y` of `chart`, under its series.
    pub fn draw<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        y: (f64, f64),
    ) -> Result<(), PageError> {
        let (x0, x1) = {
            let r = chart.x_range();
            (r.start, r.end)
        };
        let clip = |v: f64| v.clamp(x0, x1);
        chart
            .draw_series(self.drawn.iter().filter_map(|e| {
                let until = e.until?;
                Some(Rectangle::new(
                    [(clip(e.at), y.0), (clip(until), y.1)],
                    self.color_of(e).mix(0.2).filled(),
                ))
            }))
            .map_err(chart_error)?;
        for e in self.drawn.iter().filter(|e| e.until.is_none()) {
            if e.at < x0 || e.at > x1 {
                continue;
            }
            chart
                .draw_series(DashedLineSeries::new(
                    [(e.at, y.0), (e.at, y.1)],
                    5,
                    4,
                    self.color_of(e).stroke_width(1),
                ))
                .map_err(chart_error)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::series::Panel;
    use super::super::{Series, panels};
    use super::*;

    fn event(rule: &str, kind: &str, at: f64, until: Option<f64>) -> RuleEvent {
        RuleEvent {
            rule: rule.into(),
            kind: kind.into(),
            at,
            until,
        }
    }

    /// How many vertical dashed lines the SVG has in the colour `c` (at distinct x: their
    /// dashes are polylines of their own), and how many shaded boxes.
    fn marks(svg: &str, c: RGBColor) -> (usize, usize) {
        let hex = super::super::hex(c);
        let mut xs: Vec<&str> = svg
            .lines()
            .filter(|l| l.starts_with("<polyline") && l.contains(&format!("stroke=\"{hex}\"")))
            .filter_map(|l| l.split("points=\"").nth(1)?.split(',').next())
            .collect();
        xs.sort_unstable();
        xs.dedup();
        let boxes = svg
            .lines()
            .filter(|l| l.starts_with("<rect") && l.contains(&format!("fill=\"{hex}\"")))
            .filter(|l| l.contains("opacity=\"0.2\""))
            .count();
        (xs.len(), boxes)
    }

    #[test]
    fn every_kind_of_rule_event_is_drawn_and_named() {
        let events = [
            event("slow-down", "suspend", 1.0, Some(2.0)),
            event("slow-down", "released", 2.0, None),
            // A kind the drawing has never seen is drawn as any other.
            event("warm-up", "ramp step", 3.0, None),
            event("warm-up", "ramp step", 3.5, None),
        ];
        let rules = RuleMarks::of(&events);
        let panel = Panel {
            y_desc: "n".into(),
            series: vec![Series {
                name: "delivered".into(),
                color: 0,
                points: vec![(0.0, 1.0), (4.0, 3.0)],
            }],
        };
        let svg = panels("t", "hours", (0.0, 4.0), &[panel.clone(), panel], &rules).unwrap();
        for text in [
            "rule slow-down: suspend",
            "rule slow-down: released",
            "rule warm-up: ramp step",
        ] {
            assert_eq!(svg.matches(text).count(), 1, "{text} once in the legend");
        }
        // Two panels: a span and a line of the first rule, two lines of the second, in each
        // (the lines of both panels at the same x).
        let (first, second) = (color(RULE_COLORS[0]), color(RULE_COLORS[1]));
        assert_eq!(marks(&svg, first), (1, 2), "{svg}");
        assert_eq!(marks(&svg, second), (2, 0), "{svg}");
        assert!(!svg.contains("not drawn"));

        let many: Vec<RuleEvent> = (0..MAX_RULE_MARKS + 5)
            .map(|i| event("r", "ended", i as f64, None))
            .collect();
        let mut legend = Legend::default();
        RuleMarks::of(&many).add_to(&mut legend);
        assert!(
            legend
                .entries
                .iter()
                .any(|e| e.0.contains("5 more not drawn")),
            "{legend:?}"
        );
    }
}
