//! `GET /metrics`: the counters in the Prometheus text format (version 0.0.4), written by
//! hand: `# HELP` and `# TYPE` lines, then `name{label="value"} number` lines.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use crate::capture::{Capture, LATENCY_BUCKETS, Metrics};
use crate::connection::Counters;
use crate::maildir::Maildir;

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The whole exposition; the Maildir's syncs when there is one.
pub fn render(counters: &Counters, capture: &Capture, maildir: Option<&Maildir>) -> String {
    let m = capture.metrics();
    let mut out = String::with_capacity(4096);
    let counter = |out: &mut String, name: &str, help: &str, value: u64| {
        family(out, name, "counter", help);
        let _ = writeln!(out, "{name} {value}");
    };
    counter(
        &mut out,
        "smtpsim_connections_total",
        "Connections accepted and served.",
        counters.connections.load(Ordering::Relaxed),
    );
    counter(
        &mut out,
        "smtpsim_connections_refused_total",
        "Connections refused at the connection limits.",
        counters.refused.load(Ordering::Relaxed),
    );
    counter(
        &mut out,
        "smtpsim_messages_total",
        "Messages accepted.",
        counters.messages.load(Ordering::Relaxed),
    );
    family(
        &mut out,
        "smtpsim_captured_messages",
        "gauge",
        "Messages kept for the API.",
    );
    let _ = writeln!(out, "smtpsim_captured_messages {}", capture.message_count());
    if let Some(maildir) = maildir {
        let (files, dirs) = maildir.syncs();
        family(
            &mut out,
            "smtpsim_maildir_syncs_total",
            "counter",
            "Syncs of stored messages' files and of the Maildir's new/ directory.",
        );
        let _ = writeln!(out, "smtpsim_maildir_syncs_total{{of=\"file\"}} {files}");
        let _ = writeln!(
            out,
            "smtpsim_maildir_syncs_total{{of=\"directory\"}} {dirs}"
        );
    }
    replies_and_decisions(&mut out, &m);
    latency(&mut out, &m);
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn replies_and_decisions(out: &mut String, m: &Metrics) {
    family(
        out,
        "smtpsim_replies_total",
        "counter",
        "Replies sent, by code.",
    );
    for (code, n) in &m.replies {
        let _ = writeln!(out, "smtpsim_replies_total{{code=\"{code}\"}} {n}");
    }
    family(
        out,
        "smtpsim_decisions_total",
        "counter",
        "Refusals and disconnections decided, by stage and reason.",
    );
    for ((stage, reason), n) in &m.decisions {
        let _ = writeln!(
            out,
            "smtpsim_decisions_total{{stage=\"{}\",reason=\"{}\"}} {n}",
            escape(stage),
            escape(reason)
        );
    }
}

fn latency(out: &mut String, m: &Metrics) {
    let name = "smtpsim_reply_latency_seconds";
    family(
        out,
        name,
        "histogram",
        "Time from a client's input to the server's replies being written.",
    );
    for (bound, n) in LATENCY_BUCKETS.iter().zip(&m.latency_buckets) {
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
    }
    let count = m.latency_buckets[LATENCY_BUCKETS.len()];
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
    let _ = writeln!(out, "{name}_sum {}", m.latency_sum);
    let _ = writeln!(out, "{name}_count {count}");
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureBounds;
    use std::time::Duration;

    #[test]
    fn every_line_is_a_comment_or_a_sample() {
        let capture = Capture::new(CaptureBounds::default(), None);
        capture.observe_latency(Duration::from_millis(3));
        let text = render(&Counters::default(), &capture, None);
        for line in text.lines() {
            if let Some(comment) = line.strip_prefix("# ") {
                assert!(comment.starts_with("HELP ") || comment.starts_with("TYPE "));
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("name and value");
            assert!(value.parse::<f64>().is_ok(), "{line}");
            let name = series.split('{').next().unwrap();
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{line}"
            );
        }
        assert!(text.contains("smtpsim_reply_latency_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("smtpsim_reply_latency_seconds_bucket{le=\"0.001\"} 0\n"));
        assert!(text.contains("smtpsim_reply_latency_seconds_count 1\n"));
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
