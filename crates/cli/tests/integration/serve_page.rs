//! The page of `serve --http` in a real browser: a message sent with smtplib appears in
//! headless Chromium's rendering of the page, with its session's transcript, and the page
//! logs nothing to the console.

use crate::common;

use std::process::Command;

use crate::support::smtpsim;
use common::{Serve, python};

/// What headless Chromium made of a page: its DOM after the scripts ran, and its console.
pub(crate) fn dump_dom(url: &str, profile: &std::path::Path) -> (String, Vec<String>) {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=420,1200",
            "--enable-logging=stderr",
            "--v=0",
            "--no-first-run",
            // Long enough for the page's first fetches; virtual time, not a wait.
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .output()
        .expect("chromium is installed (Debian package chromium)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), console)
}

#[test]
fn a_message_sent_with_smtplib_appears_on_the_page() {
    let serve = Serve::start(&["--http", "0"], false);
    let http = serve.http_port();
    let script = r#"
import smtplib, ssl, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.starttls(context=ssl._create_unverified_context())
s.sendmail("alice@sender.example", ["bob@example.net"], b"Subject: Quarterly figures 7421\r\n\r\nHello\r\n")
s.quit()
"#;
    python(script, &[&serve.port.to_string()]);
    let profile = serve.path("chromium-profile");
    let (dom, console) = dump_dom(&format!("http://127.0.0.1:{http}/#session-1"), &profile);
    let messages = &dom[dom.find("id=\"messages\"").expect("the messages table")..];
    assert!(messages.contains("Quarterly figures 7421"), "{dom}");
    assert!(messages.contains("bob@example.net"), "{dom}");
    let transcript = &dom[dom.find("id=\"transcript\"").expect("the transcript")..];
    assert!(
        transcript.contains("C: mail FROM:&lt;alice@sender.example&gt;"),
        "{dom}"
    );
    assert!(
        transcript.contains("TLSv1.3") || dom.contains("TLSv1.3"),
        "{dom}"
    );
    assert!(
        dom.contains("live, updated"),
        "the page reached the API: {dom}"
    );
    assert!(console.is_empty(), "{console:?}");
    let (code, _) = serve.stop();
    assert_eq!(code, Some(0));
}

#[test]
fn the_api_flags_are_checked() {
    let (code, _, err) = smtpsim(&["serve", "--listen", "127.0.0.1:0", "--http", "0.0.0.0:0"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not a loopback address") && err.contains("--http-public"),
        "{err}"
    );
    for (flag, value, says) in [
        ("--http-max-messages", "0", "0 is not in 1..=1000000"),
        (
            "--http-max-sessions",
            "1000001",
            "1000001 is not in 1..=1000000",
        ),
        ("--http-max-bytes", "0", "between 1 octet and 64GiB"),
    ] {
        let (code, _, err) = smtpsim(&["serve", "--http", "0", flag, value]);
        assert_eq!(code, 2, "{flag} {value}");
        assert!(err.contains(says), "{flag} {value}: {err}");
    }
    let (code, _, err) = smtpsim(&["serve", "--http-max-messages", "5"]);
    assert_eq!(code, 2);
    assert!(err.contains("--http <ADDR>"), "{err}");
}
