//! The reports of `smtpsim run` and `smtpsim sweep` opened in a real browser: Debian's
//! chromium renders report.html headless; the screenshot must not be blank and the page must
//! log nothing to the console (no script error, no missing resource).

use crate::support;

use std::path::Path;
use std::process::Command;
use support::{out_dir, scenario, smtpsim};

/// What chromium made of a page: the screenshot's pixels (RGBA rows) and its console lines.
struct Rendered {
    pixels: Vec<[u8; 3]>,
    console: Vec<String>,
}

fn render(page: &Path) -> Rendered {
    let shot = page.with_extension("png");
    let _ = std::fs::remove_file(&shot);
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
            "--window-size=1400,1800",
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
fn assert_not_blank(r: &Rendered) {
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
        "latency_cdf",
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
    assert_eq!(html.matches("<svg").count(), 6);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let peak = summary["run"]["peak_queue_depth"].as_u64().unwrap();
    assert!(peak > 0);
    let row = format!("<td>peak queue depth (deliveries)</td><td>{peak}</td>");
    assert!(html.contains(&row), "{row} in the summary table");

    let r = render(&out.join("report.html"));
    assert!(r.console.is_empty(), "{:?}", r.console);
    assert_not_blank(&r);
}

#[test]
fn a_sweep_report_renders_in_chromium_and_report_remakes_it() {
    let out = out_dir("report-sweep");
    let (code, _, err) = smtpsim(&[
        "sweep",
        &scenario("greylisting.toml"),
        "--set",
        "relay.retry.initial=60s,240s,600s",
        "--set",
        "relay.retry.multiplier=1.5,2",
        "--replications",
        "3",
        "--messages",
        "150",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_offline(&html);
    // Each of the 12 metrics against each of the 2 fields.
    assert_eq!(html.matches("<svg").count(), 24);
    assert!(html.contains("latency_p99_s by relay.retry.initial"));

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
