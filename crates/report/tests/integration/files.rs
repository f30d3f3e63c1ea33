//! The files a `RunWriter` leaves in its directory.

use crate::common;

use std::fs;
use std::time::Duration;

use common::{Scratch, recipient};
use smtpsim_des::{SimDuration, SimTime};
use smtpsim_model::sim::{Fate, Hop, Recorder, RunStats, Sample, TraceLine, TraceRecord};
use smtpsim_proto::{EnhancedCode, Reply};
use smtpsim_report::{ReportError, RunWriter, WriterOptions};

const ALL_FILES: [&str; 6] = [
    "automation.csv",
    "events.csv",
    "messages.csv",
    "summary.csv",
    "summary.json",
    "timeseries.csv",
];

fn run_stats() -> RunStats {
    RunStats {
        messages: 3,
        recipients: 3,
        attempts: 4,
        bounce_notices: 2,
        peak_queue_depth: 3,
        events: 1234,
        end: SimTime::from_secs(600),
        cancelled: false,
    }
}

/// A small run: a delivered, a bounced and a rejected recipient, two trace lines, a sample.
fn feed(writer: &mut RunWriter) {
    let unknown = Reply::new_static(550, Some(EnhancedCode::new(5, 1, 1)), "no such user");
    let auth = Reply::new_static(535, Some(EnhancedCode::new(5, 7, 8)), "bad credentials");
    writer.trace(&TraceRecord {
        time: SimTime::from_micros(10_500_001),
        message_id: 1,
        attempt: 1,
        hop: Hop::RelayMx,
        line: &TraceLine::Client("MAIL FROM:<shop@example.org>".into()),
    });
    writer.trace(&TraceRecord {
        time: SimTime::from_micros(10_600_000),
        message_id: 1,
        attempt: 1,
        hop: Hop::RelayMx,
        line: &TraceLine::Server("250 2.1.0 ok, \"sender\" accepted".into()),
    });
    writer.recipient(&recipient(1, Fate::Inbox, 2_345, None));
    let mut bounced = recipient(2, Fate::Bounced, 61_000, Some(&unknown));
    bounced.recipient = "bob@example.net";
    bounced.domain = "example.net";
    bounced.attempts = 2;
    bounced.reasons = "550 from mx1.example.net, after RCPT";
    writer.recipient(&bounced);
    let mut rejected = recipient(3, Fate::RejectedAtSubmission, 0, Some(&auth));
    rejected.first_attempt = None;
    rejected.attempts = 0;
    rejected.queue_wait = SimDuration::ZERO;
    writer.recipient(&rejected);
    writer.sample(&Sample {
        time: SimTime::from_secs(60),
        active: 4,
        deferred: 1,
        connections: 2,
        delivered: 1,
        deferrals: 3,
        bounced: 1,
    });
}

fn write_run(dir: &Scratch, trace: bool) {
    let mut writer = RunWriter::create(
        dir.path(),
        WriterOptions {
            trace,
            ..WriterOptions::default()
        },
    )
    .unwrap();
    feed(&mut writer);
    writer
        .finish(&run_stats(), Duration::from_millis(20))
        .unwrap();
}

#[test]
fn messages_csv_has_its_header_and_rows() {
    let dir = Scratch::new("messages");
    write_run(&dir, false);
    assert_eq!(dir.entries(), ALL_FILES);
    let text = dir.read("messages.csv");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "message_id,recipient,domain,submitted_s,first_attempt_s,final_s,outcome,attempts,\
             latency_s,last_reply_code,last_enhanced_code,reasons,sender,queue_wait_s",
            "1,ann@example.com,example.com,10.000000,10.500000,12.345000,inbox,1,2.345000,,,,\
             shop,0.020000",
            "2,bob@example.net,example.net,10.000000,10.500000,71.000000,bounced,2,61.000000,\
             550,5.1.1,\"550 from mx1.example.net, after RCPT\",shop,0.020000",
            "3,ann@example.com,example.com,10.000000,,10.000000,rejected_at_submission,0,\
             0.000000,535,5.7.8,,shop,0.000000",
        ]
    );
    assert!(text.ends_with('\n'));
}

#[test]
fn events_csv_holds_trace_lines_when_tracing() {
    let dir = Scratch::new("events-on");
    write_run(&dir, true);
    assert_eq!(
        dir.read("events.csv"),
        "time_s,message_id,attempt,hop,kind,text\n\
         10.500001,1,1,relay-mx,C,MAIL FROM:<shop@example.org>\n\
         10.600000,1,1,relay-mx,S,\"250 2.1.0 ok, \"\"sender\"\" accepted\"\n"
    );
}

#[test]
fn events_csv_is_only_a_header_without_tracing() {
    let dir = Scratch::new("events-off");
    write_run(&dir, false);
    assert_eq!(
        dir.read("events.csv"),
        "time_s,message_id,attempt,hop,kind,text\n"
    );
}

#[test]
fn timeseries_csv_has_a_row_per_sample() {
    let dir = Scratch::new("timeseries");
    write_run(&dir, false);
    assert_eq!(
        dir.read("timeseries.csv"),
        "time_s,active,deferred,connections,delivered,deferrals,bounced\n\
         60.000000,4,1,2,1,3,1\n"
    );
}

#[test]
fn summary_csv_has_deterministic_rows_only() {
    let dir = Scratch::new("summary-csv");
    write_run(&dir, false);
    let text = dir.read("summary.csv");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "section,key,value");
    for row in [
        "run,messages,3",
        "run,recipients,3",
        "run,attempts,4",
        "run,bounce_notices,2",
        "run,peak_queue_depth,3",
        "run,events,1234",
        "run,end_s,600.000000",
        "outcome,inbox,1",
        "outcome,bounced,1",
        "outcome,rejected_at_submission,1",
        "rate,delivered,0.333333",
        "rate,expired,0.000000",
        "failure_reason,bounced 550 5.1.1,1",
        "failure_reason,rejected_at_submission 535 5.7.8,1",
        "failure_reply_code,535,1",
        "failure_reply_code,550,1",
        "attempts,0,1",
        "attempts,1,1",
        "attempts,2,1",
        "latency,count,1",
        "failure_latency,count,1",
        "queue_wait,count,2",
    ] {
        assert!(lines.contains(&row), "no {row:?} in\n{text}");
    }
    assert!(!text.contains("wall"));
    assert!(!text.contains("performance"));
    assert!(!text.contains("HIST"));
}

#[test]
fn summary_json_separates_performance() {
    let dir = Scratch::new("summary-json");
    write_run(&dir, false);
    let json: serde_json::Value = serde_json::from_str(&dir.read("summary.json")).unwrap();
    assert_eq!(json["run"]["events"], 1234);
    assert_eq!(json["outcomes"]["bounced"], 1);
    assert_eq!(json["failures"]["by_reason"]["bounced 550 5.1.1"], 1);
    assert_eq!(json["attempts"]["2"], 1);
    assert_eq!(json["performance"]["wall_s"], 0.02);
    assert_eq!(json["performance"]["events_per_sec"], 61700.0);
    // Top-level keys in the file, in order (serde_json::Value would sort them).
    let text = dir.read("summary.json");
    let keys: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("  \""))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(
        keys,
        [
            "run",
            "outcomes",
            "rates",
            "failures",
            "attempts",
            "latency",
            "failure_latency",
            "queue_wait",
            "domains",
            "domain_latency",
            "performance"
        ]
    );
}

#[test]
fn same_inputs_give_identical_files() {
    let (a, b) = (Scratch::new("same-a"), Scratch::new("same-b"));
    for (dir, wall) in [(&a, 20), (&b, 700)] {
        let mut writer = RunWriter::create(
            dir.path(),
            WriterOptions {
                trace: true,
                ..WriterOptions::default()
            },
        )
        .unwrap();
        feed(&mut writer);
        writer
            .finish(&run_stats(), Duration::from_millis(wall))
            .unwrap();
    }
    for name in [
        "messages.csv",
        "events.csv",
        "timeseries.csv",
        "summary.csv",
    ] {
        assert_eq!(a.bytes(name), b.bytes(name), "{name} differs");
    }
    // summary.json differs only in its performance figures.
    let json = |dir: &Scratch| {
        let mut v: serde_json::Value = serde_json::from_str(&dir.read("summary.json")).unwrap();
        v.as_object_mut().unwrap().remove("performance").unwrap();
        v
    };
    assert_eq!(json(&a), json(&b));
}

#[test]
fn dropped_writer_leaves_no_files() {
    let dir = Scratch::new("dropped");
    {
        let mut writer = RunWriter::create(
            dir.path(),
            WriterOptions {
                trace: true,
                ..WriterOptions::default()
            },
        )
        .unwrap();
        feed(&mut writer);
        assert!(!dir.entries().is_empty(), "temporary files while writing");
    }
    assert!(dir.entries().is_empty(), "left {:?}", dir.entries());
}

#[test]
fn dropped_writer_keeps_an_earlier_run() {
    let dir = Scratch::new("earlier");
    write_run(&dir, true);
    let before = dir.bytes("messages.csv");
    {
        let mut writer = RunWriter::create(dir.path(), WriterOptions::default()).unwrap();
        writer.recipient(&recipient(9, Fate::Expired, 5, None));
    }
    assert_eq!(dir.entries(), ALL_FILES);
    assert_eq!(dir.bytes("messages.csv"), before);
}

#[test]
fn finish_replaces_an_earlier_run() {
    let dir = Scratch::new("replace");
    write_run(&dir, true);
    let writer = RunWriter::create(dir.path(), WriterOptions::default()).unwrap();
    let summary = writer.finish(&RunStats::default(), Duration::ZERO).unwrap();
    assert_eq!(summary.run.recipients, 0);
    assert_eq!(dir.entries(), ALL_FILES);
    assert_eq!(dir.read("messages.csv").lines().count(), 1);
    assert_eq!(dir.read("events.csv").lines().count(), 1);
}

#[test]
fn create_makes_the_directory() {
    let dir = Scratch::new("nested");
    let nested = dir.path().join("a/b");
    let writer = RunWriter::create(&nested, WriterOptions::default()).unwrap();
    assert_eq!(writer.dir(), nested);
    writer.finish(&RunStats::default(), Duration::ZERO).unwrap();
    assert!(nested.join("summary.json").is_file());
}

#[test]
fn finish_reports_a_vanished_directory() {
    let dir = Scratch::new("vanished");
    let out = dir.path().join("out");
    let mut writer = RunWriter::create(&out, WriterOptions::default()).unwrap();
    feed(&mut writer);
    fs::remove_dir_all(&out).unwrap();
    match writer.finish(&run_stats(), Duration::ZERO) {
        Err(ReportError::Io { path, .. }) => assert!(path.starts_with(&out)),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert!(!out.exists());
}

#[test]
fn without_messages_csv_the_other_files_are_the_same() {
    let full = Scratch::new("with-messages");
    write_run(&full, false);
    let lean = Scratch::new("without-messages");
    // A messages.csv of an earlier run must not pass for this one's.
    std::fs::write(lean.path().join("messages.csv"), "stale\n").unwrap();
    let mut writer = RunWriter::create(
        lean.path(),
        WriterOptions {
            no_messages: true,
            ..WriterOptions::default()
        },
    )
    .unwrap();
    feed(&mut writer);
    writer
        .finish(&run_stats(), Duration::from_millis(20))
        .unwrap();
    let expected: Vec<&str> = ALL_FILES
        .iter()
        .copied()
        .filter(|f| *f != "messages.csv")
        .collect();
    assert_eq!(lean.entries(), expected);
    for file in ["summary.csv", "timeseries.csv", "events.csv"] {
        assert_eq!(lean.read(file), full.read(file), "{file}");
    }
}

#[test]
fn summary_json_reads_back_as_the_summary_written() {
    let dir = Scratch::new("summary-json-typed");
    let mut writer = RunWriter::create(dir.path(), WriterOptions::default()).unwrap();
    feed(&mut writer);
    let written = writer
        .finish(&run_stats(), Duration::from_millis(20))
        .unwrap();
    let read = smtpsim_report::Summary::from_json(&dir.read("summary.json")).unwrap();
    assert_eq!(read, written);
    assert_eq!(read.failures.by_reason, written.failures.by_reason);
    let broken = dir
        .read("summary.json")
        .replace("\"peak_queue_depth\"", "\"peak\"");
    let error = smtpsim_report::Summary::from_json(&broken).unwrap_err();
    assert!(error.to_string().contains("peak_queue_depth"), "{error}");
}
