//! The reports of `smtpsim run` and `smtpsim sweep` opened in a real browser: Debian's
//! chromium renders report.html headless; the screenshot must not be blank and the page must
//! log nothing to the console (no script error, no missing resource).

use crate::support;

use std::path::Path;
use std::process::Command;
use support::{out_dir, scenario, smtpsim};

/// What chromium made of a page: the screenshot's pixels (RGBA rows) and its console lines.
pub struct Rendered {
    pixels: Vec<[u8; 3]>,
    /// The console's lines.
    pub console: Vec<String>,
}

fn render(page: &Path) -> Rendered {
    render_at(page, 1400)
}

/// Headless chromium's narrowest window: a narrower page is shown in a frame.
const NARROWEST_WINDOW: u32 = 500;

/// A page beside `page` that shows it in a frame `width` pixels wide and, once loaded, writes
/// what its layout came to as JSON into `<pre id="layout">`: the page's scrolling width and
/// inner width, each chart's left and right edge, the smallest font size in the charts as
/// drawn (the SVG's font size times the chart's scale), and each table box's scrolling and
/// visible width.
fn framed(page: &Path, width: u32) -> std::path::PathBuf {
    const MEASURE: &str = "window.addEventListener('load',function(){\
var w=document.getElementById('page').contentWindow,d=w.document,font=1e9;\
var charts=[].map.call(d.querySelectorAll('.chart svg'),function(s){\
var r=s.getBoundingClientRect(),scale=r.width/s.viewBox.baseVal.width;\
[].forEach.call(s.querySelectorAll('text'),function(t){\
font=Math.min(font,parseFloat(w.getComputedStyle(t).fontSize)*scale);});\
return [r.left,r.right];});\
var tables=[].map.call(d.querySelectorAll('.table'),function(t){\
return [t.scrollWidth,t.clientWidth];});\
var out=document.createElement('pre');out.id='layout';\
out.textContent=JSON.stringify({scroll:d.documentElement.scrollWidth,inner:w.innerWidth,\
charts:charts,font:font,tables:tables});document.body.appendChild(out);});";
    let name = page.file_name().unwrap().to_string_lossy();
    let frame = page.with_extension(format!("{width}.frame.html"));
    let html = format!(
        "<!DOCTYPE html><html><body style=\"margin:0\"><iframe id=\"page\" src=\"{name}\" \
         style=\"width:{width}px;height:1800px;border:0\"></iframe><script>{MEASURE}</script>\
         </body></html>"
    );
    std::fs::write(&frame, html).unwrap();
    frame
}

/// How a page is laid out in a window `width` pixels wide.
#[derive(Debug)]
pub struct Layout {
    /// The page's scrolling width: more than `inner` if it scrolls sideways.
    pub scroll: f64,
    /// The window's inner width.
    pub inner: f64,
    /// Each chart's left and right edge.
    pub charts: Vec<(f64, f64)>,
    /// The smallest font size in the charts as drawn, pixels.
    pub font: f64,
    /// Each table's box: the width of its content and the width shown (less: it scrolls).
    pub tables: Vec<(f64, f64)>,
}

/// The layout of `page` in a window `width` pixels wide, measured by chromium.
pub fn layout_at(page: &Path, width: u32) -> Layout {
    let frame = framed(page, width).canonicalize().unwrap();
    let profile = frame.with_extension("chromium-profile");
    let _ = std::fs::remove_dir_all(&profile);
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        // Lets the frame's page be measured from the page around it.
        .arg("--allow-file-access-from-files")
        .arg(format!(
            "--window-size={},1800",
            width.max(NARROWEST_WINDOW)
        ))
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", frame.display()))
        .output()
        .expect("chromium is installed (Debian package chromium)");
    let dom = String::from_utf8_lossy(&out.stdout);
    let json = dom
        .split("<pre id=\"layout\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("no layout in {dom}"));
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let number = |v: &serde_json::Value| v.as_f64().unwrap();
    Layout {
        scroll: number(&v["scroll"]),
        inner: number(&v["inner"]),
        charts: v["charts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (number(&c[0]), number(&c[1])))
            .collect(),
        font: number(&v["font"]),
        tables: v["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (number(&t[0]), number(&t[1])))
            .collect(),
    }
}

/// The page rendered in a window `width` pixels wide (the screenshot beside it, named after
/// the width); narrower than chromium's narrowest window, in a frame that wide.
pub fn render_at(page: &Path, width: u32) -> Rendered {
    let shot = page.with_extension(format!("{width}.png"));
    let _ = std::fs::remove_file(&shot);
    let page = if width < NARROWEST_WINDOW {
        framed(page, width)
    } else {
        page.to_owned()
    };
    let page = page.canonicalize().unwrap();
    // A profile of its own: tests render at the same time, and HOME may not be writable.
    let profile = page.with_extension("chromium-profile");
    let _ = std::fs::remove_dir_all(&profile);
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            &format!("--window-size={},1800", width.max(NARROWEST_WINDOW)),
            // A framed page is measured from the page around it.
            "--allow-file-access-from-files",
            "--enable-logging=stderr",
            "--v=0",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium is installed (Debian package chromium)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    let file = std::io::BufReader::new(std::fs::File::open(&shot).expect("a screenshot"));
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    Rendered { pixels, console }
}

/// The page shows something: many colours, and a fair share of pixels that are not white.
pub fn assert_not_blank(r: &Rendered) {
    let mut colours: Vec<[u8; 3]> = r.pixels.clone();
    colours.sort_unstable();
    colours.dedup();
    let inked = r.pixels.iter().filter(|p| **p != [255, 255, 255]).count();
    assert!(colours.len() > 20, "{} colours", colours.len());
    assert!(
        inked * 50 > r.pixels.len(),
        "{inked} of {} pixels",
        r.pixels.len()
    );
}

/// The vertices of each `<polyline>` of an SVG.
fn svg_lines(svg: &str) -> Vec<Vec<(f64, f64)>> {
    svg.split("<polyline")
        .skip(1)
        .filter_map(|p| {
            let at = p.find(" points=\"")? + 9;
            let points = p[at..].split('"').next()?;
            Some(
                points
                    .split_whitespace()
                    .filter_map(|xy| {
                        let (x, y) = xy.split_once(',')?;
                        Some((x.parse().ok()?, y.parse().ok()?))
                    })
                    .collect(),
            )
        })
        .collect()
}

fn assert_offline(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    for remote in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "@import",
        "url(http",
    ] {
        assert!(!html.contains(remote), "{remote}");
    }
}

#[test]
fn the_console_check_sees_script_errors() {
    let dir = out_dir("report-broken");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><p>x</p><script>throw new Error('broken page')</script>",
    )
    .unwrap();
    let r = render(&page);
    assert!(
        r.console.iter().any(|l| l.contains("broken page")),
        "{:?}",
        r.console
    );
}

#[test]
fn a_run_report_renders_in_chromium() {
    let out = out_dir("report-run");
    let (code, stdout, err) = smtpsim(&[
        "run",
        &scenario("quickstart.toml"),
        "--messages",
        "1500",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("report: "), "{stdout}");
    for chart in [
        "latency_ccdf",
        "deliveries",
        "queue_depth",
        "attempts",
        "outcomes",
        "failure_reasons",
    ] {
        let svg = std::fs::read_to_string(out.join(format!("charts/{chart}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{chart}");
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_offline(&html);
    // Six charts, and the latency of each of the seven recipient domains.
    assert_eq!(html.matches("<svg").count(), 6 + 7);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let peak = summary["run"]["peak_queue_depth"].as_u64().unwrap();
    assert!(peak > 0);
    let row = format!("<td>peak queue depth (deliveries)</td><td>{peak}</td>");
    assert!(html.contains(&row), "{row} in the summary table");
    // The latency is a step function: every segment of its line is flat or vertical.
    let ccdf = std::fs::read_to_string(out.join("charts/latency_ccdf.svg")).unwrap();
    let line = svg_lines(&ccdf).into_iter().max_by_key(Vec::len).unwrap();
    assert!(line.len() > 20, "{} vertices", line.len());
    for w in line.windows(2) {
        assert!(
            w[0].0 == w[1].0 || w[0].1 == w[1].1,
            "a sloped segment {w:?}"
        );
    }
    let retries = summary["retry_times_s"].as_array().unwrap();
    assert!(!retries.is_empty());
    assert!(ccdf.contains("retry times of the policy"));

    let r = render(&out.join("report.html"));
    assert!(r.console.is_empty(), "{:?}", r.console);
    assert_not_blank(&r);
}

#[test]
fn a_sweep_report_renders_in_chromium_and_report_remakes_it() {
    let out = out_dir("report-sweep");
    support::greylisting_sweep(&out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_offline(&html);
    // Each of the 12 metrics against each of the 2 fields, and the p90 latency of each of the
    // 4 domains against each field.
    assert_eq!(html.matches("<svg").count(), 24 + 2 * 4);
    assert!(html.contains("latency_p99_s by relay.retry.initial"));
    // Durations on a numeric axis in seconds, labelled with the swept values.
    let chart =
        std::fs::read_to_string(out.join("charts/latency_p99_s_vs_relay_retry_initial.svg"))
            .unwrap();
    assert!(chart.contains("relay.retry.initial, seconds"));
    let texts: Vec<&str> = chart.lines().map(str::trim).collect();
    for value in ["60", "240", "600"] {
        assert!(texts.contains(&value), "{value}");
    }
    assert!(!texts.contains(&"60s"));
    // A rate's axis stays within 0 to 1 (with a sliver for the marks at 1).
    let rate = std::fs::read_to_string(out.join("charts/delivery_rate_vs_relay_retry_initial.svg"))
        .unwrap();
    let ticks: Vec<f64> = rate
        .lines()
        .filter_map(|l| l.trim().parse::<f64>().ok())
        // The x axis' labels are the swept values.
        .filter(|t| ![60.0, 240.0, 600.0].contains(t))
        .collect();
    assert!(ticks.len() >= 3, "{ticks:?}");
    assert!(ticks.iter().all(|t| (0.0..=1.0).contains(t)), "{ticks:?}");

    let r = render(&out.join("report.html"));
    assert!(r.console.is_empty(), "{:?}", r.console);
    assert_not_blank(&r);

    // `smtpsim report` draws the same page again.
    std::fs::remove_file(out.join("report.html")).unwrap();
    let (code, stdout, err) = smtpsim(&["report", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("report.html"));
    assert_eq!(
        std::fs::read_to_string(out.join("report.html")).unwrap(),
        html
    );
}

#[test]
fn report_refuses_what_it_cannot_read() {
    let out = out_dir("report-nothing");
    std::fs::create_dir_all(&out).unwrap();
    let (code, _, err) = smtpsim(&["report", out.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("neither a run's output"), "{err}");
    std::fs::write(out.join("sweep.json"), "{").unwrap();
    let (code, _, err) = smtpsim(&["report", out.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("sweep.json"), "{err}");
    assert!(!err.contains("panicked"));
}

/// A scenario in which nothing is delivered: the recipient domain does not exist.
const NOTHING_DELIVERED: &str = r#"
[simulation]
name = "nothing-delivered"
duration = "10m"
messages = 20

[[senders]]
name = "shop"
domain = "shop.example"
arrivals = { process = "constant", rate = "1/s" }
to = [{ domain = "gone.example" }]

[relay]
hostname = "relay.shop.example"
retry = { policy = "exponential", initial = "5m", cap = "1h" }

[[domains]]
name = "shop.example"
mx = [{ host = "mx.shop.example" }]

[[domains]]
name = "gone.example"
nxdomain = true
"#;

#[test]
fn runs_and_sweeps_without_deliveries_report_empty_latencies() {
    let out = out_dir("report-nothing-delivered");
    std::fs::create_dir_all(&out).unwrap();
    let file = out.join("nothing.toml");
    std::fs::write(&file, NOTHING_DELIVERED).unwrap();
    let run = out.join("run");
    let (code, stdout, err) = smtpsim(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("latency (delivered): no deliveries"),
        "{stdout}"
    );
    assert!(stdout.contains("queue wait: no attempts"), "{stdout}");
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("none / none / none / none"), "latency row");

    let sweep = out.join("sweep");
    let (code, stdout, err) = smtpsim(&[
        "sweep",
        file.to_str().unwrap(),
        "--set",
        "relay.retry.initial=60s,120s",
        "--replications",
        "2",
        "--out",
        sweep.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("p99 none (no deliveries)"), "{stdout}");
    let csv = std::fs::read_to_string(sweep.join("sweep_summary.csv")).unwrap();
    assert!(csv.lines().next().unwrap().contains("pooled_latency_count"));
    let r = render(&sweep.join("report.html"));
    assert!(r.console.is_empty(), "{:?}", r.console);
}
