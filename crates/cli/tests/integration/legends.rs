//! No legend hides data: in every chart of a run's and a sweep's report, the legend box
//! (`<rect class="legend-box">`) holds no drawn point (circle centre), no vertex of a line
//! (polyline, path, line) and no part of a bar (rect), computed from the SVG's coordinates.
//! The pages are also rendered by headless chromium at 1400 and 420 px wide.

use crate::report::{Layout, assert_not_blank, layout_at, render_at};
use crate::support::{self, out_dir, scenario, smtpsim};

/// A box in SVG units.
#[derive(Debug, Clone, Copy)]
struct Box2 {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Box2 {
    fn holds(&self, (x, y): (f64, f64)) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }

    fn meets(&self, other: &Box2) -> bool {
        self.x0 < other.x1 && other.x0 < self.x1 && self.y0 < other.y1 && other.y0 < self.y1
    }
}

/// The value of attribute `name` of the element starting at `tag`.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    tag[at..].split('"').next()
}

fn number(tag: &str, name: &str) -> f64 {
    attribute(tag, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} of {tag}"))
}

fn rect(tag: &str) -> Box2 {
    let (x, y) = (number(tag, "x"), number(tag, "y"));
    Box2 {
        x0: x,
        y0: y,
        x1: x + number(tag, "width"),
        y1: y + number(tag, "height"),
    }
}

/// The numbers of a `points` or `d` attribute, in pairs.
fn pairs(text: &str) -> Vec<(f64, f64)> {
    let numbers: Vec<f64> = text
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e'))
        .filter_map(|t| t.parse().ok())
        .collect();
    numbers.chunks_exact(2).map(|p| (p[0], p[1])).collect()
}

/// What is drawn in one chart (outside its legend group), in SVG units.
#[derive(Debug, Default)]
struct Drawn {
    points: Vec<(f64, f64)>,
    boxes: Vec<Box2>,
}

/// The legend boxes and the drawn marks of one `<svg>` element.
fn read_chart(svg: &str) -> (Vec<Box2>, Drawn) {
    let width = attribute(svg, "width").and_then(|w| w.parse::<f64>().ok());
    let mut legends = Vec::new();
    let mut drawn = Drawn::default();
    let mut in_legend = false;
    for piece in svg.split('<').skip(1) {
        let tag = format!(" {}", piece.split('>').next().unwrap_or_default());
        let name = piece.split([' ', '>', '/']).next().unwrap_or_default();
        match name {
            "g" if attribute(&tag, "class") == Some("legend") => in_legend = true,
            "rect" if attribute(&tag, "class") == Some("legend-box") => legends.push(rect(&tag)),
            _ if in_legend => {}
            "circle" => drawn.points.push((number(&tag, "cx"), number(&tag, "cy"))),
            "polyline" => drawn
                .points
                .extend(pairs(attribute(&tag, "points").unwrap_or(""))),
            "path" => drawn
                .points
                .extend(pairs(attribute(&tag, "d").unwrap_or(""))),
            "line" => {
                for (x, y) in [("x1", "y1"), ("x2", "y2")] {
                    drawn.points.push((number(&tag, x), number(&tag, y)));
                }
            }
            // The white background is not data.
            "rect" if !(number(&tag, "x") == 0.0 && Some(number(&tag, "width")) == width) => {
                drawn.boxes.push(rect(&tag))
            }
            _ => {}
        }
        if piece.starts_with("/g") {
            in_legend = false;
        }
    }
    (legends, drawn)
}

/// Each chart of `html` with a legend whose box covers something drawn: its index and what.
fn legend_overlaps(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, chunk) in html.split("<svg").skip(1).enumerate() {
        let svg = format!("<svg{}", chunk.split("</svg>").next().unwrap_or_default());
        let (legends, drawn) = read_chart(&svg);
        if !legends.is_empty() && drawn.points.is_empty() {
            found.push(format!("chart {i}: a legend, but no data read"));
        }
        for legend in &legends {
            if let Some(p) = drawn.points.iter().find(|p| legend.holds(**p)) {
                found.push(format!(
                    "chart {i}: point {p:?} under the legend {legend:?}"
                ));
            }
            if let Some(b) = drawn.boxes.iter().find(|b| legend.meets(b)) {
                found.push(format!("chart {i}: bar {b:?} under the legend {legend:?}"));
            }
        }
    }
    found
}

/// The tick labels (text lines that read as numbers, `k` for thousands) of each chart of
/// `html` whose id starts with `prefix`.
fn small_multiples(html: &str, prefix: &str) -> Vec<Vec<String>> {
    html.split(&format!("<div class=\"chart\" id=\"{prefix}"))
        .skip(1)
        .map(|chunk| {
            let svg = chunk.split("</svg>").next().unwrap_or_default();
            svg.lines()
                .map(str::trim)
                .filter(|l| {
                    let digits = l.trim_end_matches('k').replace([',', '.', '-', 'e'], "");
                    !digits.is_empty() && digits.parse::<u64>().is_ok()
                })
                .map(String::from)
                .collect()
        })
        .collect()
}

/// The number of legends in `html`.
fn legends(html: &str) -> usize {
    html.matches("<rect class=\"legend-box\"").count()
}

/// The charts fill the page's width without widening it, and their text is at least 8.5 px
/// (on a 420 px phone) or 11 px (at 1400 px) as drawn; at 1400 px every table fits without
/// scrolling (on a phone a wide table scrolls within its box).
fn assert_fills_and_reads(layout: &Layout, width: u32) {
    assert_eq!(layout.inner, f64::from(width), "{layout:?}");
    assert!(
        layout.scroll <= layout.inner,
        "the page scrolls sideways: {layout:?}"
    );
    assert!(!layout.charts.is_empty());
    let right = layout.charts.iter().map(|c| c.1).fold(0.0, f64::max);
    let left = layout
        .charts
        .iter()
        .map(|c| c.0)
        .fold(f64::INFINITY, f64::min);
    // The body's margins are 12 px, the charts' borders 1 px; a vertical scroll bar takes
    // its width from the inner width, not from the page's.
    assert!(left <= 14.0 && right >= layout.scroll - 14.0, "{layout:?}");
    assert!(layout.scroll >= layout.inner - 20.0, "{layout:?}");
    if width >= 1400 {
        assert!(!layout.tables.is_empty(), "{layout:?}");
        for (i, &(content, shown)) in layout.tables.iter().enumerate() {
            assert!(
                content <= shown,
                "table {i} scrolls at {width} px: {layout:?}"
            );
        }
    }
    let least = if width < 800 { 8.5 } else { 11.0 };
    assert!(
        layout.font >= least,
        "text of {} px at {width} px",
        layout.font
    );
}

#[test]
fn the_overlap_check_sees_a_legend_over_data() {
    let clear = r##"<svg width="600" height="460" viewBox="0 0 600 460">
<rect x="0" y="0" width="600" height="460" fill="#FFFFFF"/>
<circle cx="100" cy="100" r="4"/><polyline points="50,50 300,300"/>
<rect x="200" y="200" width="20" height="100"/>
<g class="legend">
<rect class="legend-box" x="12" y="406" width="576" height="30" fill="#FFFFFF"/>
<circle cx="40" cy="420" r="5"/><line x1="20" y1="420" x2="40" y2="420"/>
</g>
</svg>"##;
    assert_eq!(legend_overlaps(clear), Vec::<String>::new());
    // The same legend moved up over the circle, the line's vertex and the bar.
    for (over, what) in [
        (
            "x=\"80\" y=\"80\" width=\"50\" height=\"50\"",
            "point (100.0, 100.0)",
        ),
        (
            "x=\"290\" y=\"290\" width=\"50\" height=\"50\"",
            "point (300.0, 300.0)",
        ),
        ("x=\"190\" y=\"250\" width=\"50\" height=\"10\"", "bar"),
    ] {
        let covered = clear.replace("x=\"12\" y=\"406\" width=\"576\" height=\"30\"", over);
        let found = legend_overlaps(&covered);
        assert!(found.iter().any(|f| f.contains(what)), "{what}: {found:?}");
    }
}

#[test]
fn no_legend_hides_data_in_run_and_sweep_reports() {
    let run = out_dir("legends-run");
    let (code, _, err) = smtpsim(&[
        "run",
        &scenario("quickstart.toml"),
        "--messages",
        "3000",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // Automation rules: suspensions shaded, their ends marked, in the time series.
    let storm = out_dir("legends-storm");
    let (code, _, err) = smtpsim(&[
        "run",
        &scenario("throttle-storm.toml"),
        "--out",
        storm.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let storm_html = std::fs::read_to_string(storm.join("report.html")).unwrap();
    assert!(storm_html.contains("rule google-rate-limited: suspend"));
    assert!(storm_html.contains("rule google-rate-limited: released"));
    let sweep = out_dir("legends-sweep");
    support::greylisting_sweep(&sweep);
    // Latency per domain: a small chart per domain, all on the same axes.
    let run_html = std::fs::read_to_string(run.join("report.html")).unwrap();
    let sweep_html = std::fs::read_to_string(sweep.join("report.html")).unwrap();
    for (html, prefix, domains) in [
        (&run_html, "chart-latency_domain_", 7),
        (
            &sweep_html,
            "chart-latency_p90_s_vs_relay_retry_initial_",
            4,
        ),
        (
            &sweep_html,
            "chart-latency_p90_s_vs_relay_retry_multiplier_",
            4,
        ),
    ] {
        let ticks = small_multiples(html, prefix);
        assert_eq!(ticks.len(), domains, "{prefix}");
        assert!(ticks[0].len() >= 4, "{ticks:?}");
        assert!(ticks.iter().all(|t| *t == ticks[0]), "{prefix}: {ticks:?}");
        assert!(html.contains("<div class=\"charts small\">"));
    }
    for (dir, least) in [(&run, 3), (&storm, 3), (&sweep, 22)] {
        let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
        assert!(legends(&html) >= least, "{} legends", legends(&html));
        assert_eq!(
            legend_overlaps(&html),
            Vec::<String>::new(),
            "{}",
            dir.display()
        );
        for width in [1400, 420] {
            let page = dir.join("report.html");
            let r = render_at(&page, width);
            assert!(r.console.is_empty(), "{:?}", r.console);
            assert_not_blank(&r);
            assert_fills_and_reads(&layout_at(&page, width), width);
        }
    }
}
