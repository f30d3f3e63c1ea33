//! `smtpsim walk --html`: the page is opened in headless Chromium, which must render it (a
//! screenshot that is not blank), step through every step with the Step button (the page's
//! `#selftest` mode clicks it, after Play, Pause and Restart, and reports what it saw), and log
//! nothing to the console.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh directory for this test, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("smtpsim-walk-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn page(dir: &Path, story: &str) -> PathBuf {
    let path = dir.join(format!("{story}.html"));
    let out = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(["walk", "--story", story, "--html"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(said.contains("steps, written to"), "{said}");
    let html = std::fs::read_to_string(&path).unwrap();
    for remote in ["http://", "https://", "src="] {
        assert!(
            !html.contains(remote),
            "the page is self-contained: {remote}"
        );
    }
    path
}

/// Runs headless Chromium with `args` and its own profile; returns stdout and stderr.
fn chromium(dir: &Path, args: &[&str]) -> (String, String) {
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
    let profile = dir.join(format!("profile-{}", args.len()));
    let out = Command::new(&binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{binary} (headless Chromium, installed by .ci/run): {e}"));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn url(path: &Path, fragment: &str) -> String {
    format!("file://{}#{fragment}", path.display())
}

fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// The Step button goes through every step in a window `width` pixels wide, the page never
/// wider than the window; the page reports `ok steps=N lines=M`.
fn steps_through(story: &str, width: u32) {
    let scratch = Scratch::new(&format!("{story}-{width}"));
    let path = page(&scratch.0, story);
    let json = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(["walk", "--story", story, "--format", "json"])
        .output()
        .unwrap();
    let journey: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let steps = journey["steps"].as_array().unwrap();
    let lines: usize = steps
        .iter()
        .map(|s| s["lines"].as_array().unwrap().len())
        .sum();

    let size = format!("--window-size={width},900");
    let (dom, stderr) = chromium(&scratch.0, &[&size, "--dump-dom", &url(&path, "selftest")]);
    let expected = format!("data-selftest=\"ok steps={} lines={lines}\"", steps.len());
    assert!(
        dom.contains(&expected),
        "{story} at {width} px: expected {expected}, got {:?}\n{stderr}",
        dom.split("data-selftest")
            .nth(1)
            .map(|s| &s[..s.len().min(120)])
    );
    assert!(
        console_lines(&stderr).is_empty(),
        "{story}: console: {:?}",
        console_lines(&stderr)
    );
}

#[test]
fn the_step_button_goes_through_a_bounce_and_its_notice() {
    steps_through("queue-expired", 1400);
}

#[test]
fn the_step_button_goes_through_a_dmarc_rejection() {
    steps_through("dmarc-reject", 1400);
}

#[test]
fn signed_mail_its_lookups_and_message_fit_1400_and_420_pixels() {
    steps_through("transactional", 1400);
    steps_through("transactional", 420);
    steps_through("dmarc-reject", 420);
}

#[test]
fn the_page_renders() {
    let scratch = Scratch::new("render");
    let path = page(&scratch.0, "greylisted");
    let shot = scratch.0.join("shot.png");
    let (_, stderr) = chromium(
        &scratch.0,
        &[
            "--window-size=1000,800",
            &format!("--screenshot={}", shot.display()),
            &url(&path, "step=15"),
        ],
    );
    assert!(
        console_lines(&stderr).is_empty(),
        "console: {:?}",
        console_lines(&stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot).unwrap_or_else(|e| panic!("no screenshot: {e}\n{stderr}")),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (1000, 800));
    let channels = info.color_type.samples();
    let pixels = &pixels[..info.buffer_size()];
    let background = &pixels[..channels];
    let mut colours = std::collections::BTreeSet::new();
    let mut drawn = 0usize;
    for pixel in pixels.chunks(channels) {
        colours.insert(pixel.to_vec());
        if pixel != background {
            drawn += 1;
        }
    }
    let total = (info.width * info.height) as usize;
    assert!(colours.len() > 50, "only {} colours", colours.len());
    assert!(drawn * 10 > total, "only {drawn} of {total} pixels drawn");

    // What the screenshot shows: step 15 of 21, the transcript so far, the verdicts.
    let (dom, _) = chromium(&scratch.0, &["--dump-dom", &url(&path, "step=15")]);
    assert!(dom.contains("<span id=\"counter\">15 / 21</span>"), "{dom}");
    assert_eq!(dom.matches("<div class=\"step").count(), 15);
    assert!(dom.contains("id=\"verdict-dmarc\">pass</span>"), "{dom}");
}

#[test]
fn a_page_that_cannot_be_written_leaves_nothing_behind() {
    let scratch = Scratch::new("unwritable");
    let path = scratch.0.join("no-such-dir").join("page.html");
    let out = Command::new(env!("CARGO_BIN_EXE_smtpsim"))
        .args(["walk", "--story", "greylisted", "--html"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("cannot write"), "{err}");
    assert!(!path.exists());
}
