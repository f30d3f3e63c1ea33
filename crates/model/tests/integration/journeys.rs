//! Each bundled story ends the way its header comment says, and a journey is cut from what the
//! engine really said.

use crate::support;

use smtpsim_model::journey::stories::{STORIES, Story};
use smtpsim_model::journey::{self, Journey, Place, Speaker, Step};
use smtpsim_model::sim::{self, Fate, Options};

const SECOND: u64 = 1_000_000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

fn walk(name: &str) -> Journey {
    let story = Story::find(name).unwrap();
    let scenario = story.scenario().unwrap();
    journey::follow(&scenario, &Options::default(), scenario.simulation.follow).unwrap()
}

/// The journey's only recipient's end.
fn only(journey: &Journey) -> &journey::Landing {
    assert_eq!(journey.landed.len(), 1, "{:?}", journey.landed);
    &journey.landed[0]
}

fn server_lines(step: &Step) -> Vec<&str> {
    step.lines
        .iter()
        .filter(|l| l.speaker == Speaker::Server)
        .map(|l| l.text.as_str())
        .collect()
}

/// The steps in which the relay starts talking to an MX host.
fn connections(journey: &Journey) -> Vec<&Step> {
    journey
        .steps
        .iter()
        .filter(|s| s.to == Place::Mx && s.title.contains(": the relay connects to"))
        .collect()
}

fn notice_step(journey: &Journey) -> Option<&Step> {
    journey
        .steps
        .iter()
        .find(|s| s.from == Place::Relay && s.to == Place::App)
}

fn has_line(journey: &Journey, prefix: &str) -> bool {
    journey
        .steps
        .iter()
        .flat_map(|s| &s.lines)
        .any(|l| l.text.starts_with(prefix))
}

#[test]
fn every_story_is_numbered_and_starts_with_the_submission() {
    for story in STORIES {
        let journey = walk(story.name);
        assert!(journey.steps.len() >= 3, "{}", story.name);
        for (i, step) in journey.steps.iter().enumerate() {
            assert_eq!(step.number, i + 1, "{}", story.name);
            assert!(
                !step.lines.is_empty(),
                "{} step {}",
                story.name,
                step.number
            );
            assert!(!step.note.is_empty(), "{} step {}", story.name, step.number);
        }
        assert_eq!(journey.steps[0].from, Place::App);
        assert_eq!(journey.steps[0].to, Place::Relay);
        // Time never goes backwards.
        assert!(
            journey
                .steps
                .windows(2)
                .all(|w| w[0].time_us <= w[1].time_us),
            "{}",
            story.name
        );
        // Same story, same seed: the same journey.
        assert_eq!(journey, walk(story.name), "{}", story.name);
    }
}

#[test]
fn transactional_mail_reaches_the_inbox_with_every_check_passing() {
    let j = walk("transactional");
    let landed = only(&j);
    assert_eq!(landed.fate, Fate::Inbox);
    assert_eq!(landed.attempts, 1);
    let v = j.verdicts.as_ref().unwrap();
    assert!(
        v.spf.passed() && v.dkim.passed() && v.dmarc.passed(),
        "{v:?}"
    );
    assert_eq!(v.reasons.last().unwrap(), "placed in inbox");
    let legs: Vec<(Place, Place)> = j.steps.iter().map(|s| (s.from, s.to)).collect();
    for leg in [
        (Place::App, Place::Relay),
        (Place::Relay, Place::Dns),
        (Place::Relay, Place::Mx),
        (Place::Mx, Place::Mailbox),
    ] {
        assert!(legs.contains(&leg), "{leg:?}");
    }
    assert!(has_line(&j, "STARTTLS"));
    assert!(has_line(&j, "AUTH PLAIN"));
    assert_eq!(j.bounce_notice, None);
}

#[test]
fn greylisted_mail_is_deferred_then_delivered_after_the_delay() {
    let j = walk("greylisted");
    let landed = only(&j);
    assert_eq!(landed.fate, Fate::Inbox);
    assert_eq!(landed.attempts, 2);
    let tries = connections(&j);
    assert_eq!(tries.len(), 2);
    let envelope = j
        .steps
        .iter()
        .find(|s| s.attempt == 1 && s.title.contains("envelope") && s.from == Place::Relay)
        .unwrap();
    assert!(
        server_lines(envelope)
            .iter()
            .any(|l| l.starts_with("451 4.7.1 Greylisted")),
        "{envelope:?}"
    );
    assert!(envelope.note.contains("temporary"), "{}", envelope.note);
    assert!(tries[1].time_us - tries[0].time_us >= 5 * MINUTE);
    assert!(j.steps.iter().any(|s| s.title.starts_with("Deferred")));
}

#[test]
fn an_unknown_user_bounces_at_once_and_the_sender_is_told() {
    let j = walk("unknown-user");
    let landed = only(&j);
    assert_eq!(landed.fate, Fate::Bounced);
    assert_eq!(landed.attempts, 1);
    assert!(
        landed
            .last_reply
            .as_deref()
            .unwrap()
            .starts_with("550 5.1.1")
    );
    assert_eq!(j.bounce_notice.as_deref(), Some("orders@shop.example"));
    let notice = notice_step(&j).unwrap();
    let client: Vec<&str> = notice
        .lines
        .iter()
        .filter(|l| l.speaker == Speaker::Client)
        .map(|l| l.text.as_str())
        .collect();
    assert!(
        client.iter().any(|l| l.starts_with("MAIL FROM:<> ")),
        "{client:?}"
    );
    assert!(client.contains(&"RCPT TO:<orders@shop.example>"));
    assert!(server_lines(notice).contains(&"250 2.0.0 Message accepted for delivery"));
    assert!(notice == j.steps.last().unwrap());
}

#[test]
fn spf_fail_under_dmarc_reject_is_refused_at_the_end_of_data() {
    let j = walk("dmarc-reject");
    let landed = only(&j);
    assert_eq!(landed.fate, Fate::Bounced);
    assert!(
        landed
            .last_reply
            .as_deref()
            .unwrap()
            .starts_with("550 5.7.1")
    );
    let v = j.verdicts.as_ref().unwrap();
    assert_eq!(
        (
            v.spf.result.as_str(),
            v.dkim.result.as_str(),
            v.dmarc.result.as_str()
        ),
        ("fail", "none", "fail")
    );
    assert!(
        v.reasons
            .contains(&"rejected at end of data: DMARC policy reject".to_string()),
        "{v:?}"
    );
    let content = j
        .steps
        .iter()
        .find(|s| s.title.contains("the MX checks it"))
        .unwrap();
    assert!(
        server_lines(content)
            .iter()
            .any(|l| l.starts_with("550 5.7.1"))
    );
    assert!(!j.steps.iter().any(|s| s.to == Place::Mailbox));
    assert_eq!(j.bounce_notice.as_deref(), Some("alerts@bank.example"));
}

#[test]
fn unsigned_misaligned_mail_is_accepted_into_the_spam_folder() {
    let j = walk("spam-unsigned");
    let landed = only(&j);
    assert_eq!(landed.fate, Fate::Spam);
    let v = j.verdicts.as_ref().unwrap();
    assert!(v.spf.passed(), "SPF passes, for the provider's domain");
    assert_eq!(v.dkim.result, "none");
    assert_eq!(v.dmarc.result, "fail");
    let last = j.steps.last().unwrap();
    assert_eq!(last.to, Place::Mailbox);
    assert!(last.title.contains("spam folder"));
    assert_eq!(j.bounce_notice, None);
}

#[test]
fn a_rate_limited_message_backs_off_and_gets_through() {
    let story = Story::find("rate-limited").unwrap();
    let scenario = story.scenario().unwrap();
    assert_eq!(scenario.simulation.follow, 2);
    // The two messages before it take the bucket's two tokens at once.
    let (memory, _) = support::run(&scenario, &Options::default());
    let mut rows = memory.rows.clone();
    rows.sort_by_key(|r| r.message_id);
    assert_eq!(
        rows.iter()
            .map(|r| (r.fate, r.attempts))
            .collect::<Vec<_>>(),
        [(Fate::Inbox, 1), (Fate::Inbox, 1), (Fate::Inbox, 4)]
    );

    let j = walk("rate-limited");
    assert_eq!(j.message, 2);
    let landed = only(&j);
    assert_eq!(landed.fate, Fate::Inbox);
    assert_eq!(landed.attempts, 4);
    let refusals = j
        .steps
        .iter()
        .filter(|s| server_lines(s).iter().any(|l| l.starts_with("451 4.7.28")))
        .count();
    assert_eq!(refusals, 3);
    // Exponential backoff: 2, 4 and 8 minutes after each failed attempt (which takes 300 ms).
    let starts: Vec<u64> = connections(&j).iter().map(|s| s.time_us).collect();
    let gaps: Vec<u64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    let attempt = 300_000;
    assert_eq!(
        gaps,
        [
            2 * MINUTE + attempt,
            4 * MINUTE + attempt,
            8 * MINUTE + attempt
        ]
    );
}

#[test]
fn a_wrong_password_stops_the_message_at_submission() {
    let j = walk("wrong-password");
    let landed = only(&j);
    assert_eq!(landed.fate, Fate::RejectedAtSubmission);
    assert_eq!(landed.attempts, 0);
    assert!(
        landed
            .last_reply
            .as_deref()
            .unwrap()
            .starts_with("535 5.7.8")
    );
    assert!(
        j.steps
            .iter()
            .all(|s| s.from == Place::App && s.to == Place::Relay)
    );
    let auth = j.steps.last().unwrap();
    assert!(
        server_lines(auth)
            .iter()
            .any(|l| l.starts_with("535 5.7.8"))
    );
    assert!(auth.note.contains("535 5.7.8 means"), "{}", auth.note);
    assert_eq!(j.bounce_notice, None, "the relay never took the message");
}

#[test]
fn a_full_mailbox_is_retried_until_the_attempts_run_out() {
    let j = walk("mailbox-full");
    let landed = only(&j);
    assert_eq!(landed.fate, Fate::Expired);
    assert_eq!(landed.attempts, 4);
    assert!(
        landed
            .last_reply
            .as_deref()
            .unwrap()
            .starts_with("452 4.2.2")
    );
    assert!(
        landed
            .reasons
            .starts_with("still deferred after the last allowed attempt")
    );
    let full = j
        .steps
        .iter()
        .filter(|s| server_lines(s).iter().any(|l| l.starts_with("452 4.2.2")))
        .count();
    assert_eq!(full, 4);
    assert!(j.steps.iter().any(|s| s.title.starts_with("Expired")));
    assert_eq!(j.bounce_notice.as_deref(), Some("orders@shop.example"));
}

#[test]
fn the_secondary_mx_takes_the_mail_after_the_connect_timeout() {
    let j = walk("secondary-mx");
    let landed = only(&j);
    assert_eq!(landed.fate, Fate::Inbox);
    assert_eq!(landed.attempts, 1);
    assert!(landed.latency_us >= 30 * SECOND && landed.latency_us < 31 * SECOND);
    let failed = j
        .steps
        .iter()
        .find(|s| s.title.contains("does not take the connection"))
        .unwrap();
    assert!(failed.title.contains("mx1.mail.example"));
    assert!(failed.lines[0].text.ends_with(": timed out"));
    let tries = connections(&j);
    assert_eq!(tries.len(), 1);
    assert!(tries[0].title.ends_with("mx2.mail.example"));
    assert!(!j.steps.iter().any(|s| s.title.starts_with("Deferred")));
}

#[test]
fn an_expired_message_is_bounced_to_its_sender() {
    let j = walk("queue-expired");
    let landed = only(&j);
    assert_eq!(landed.fate, Fate::Expired);
    assert!(
        landed
            .reasons
            .starts_with("still deferred when the queue lifetime ran out"),
        "{}",
        landed.reasons
    );
    assert!(landed.latency_us >= 2 * HOUR);
    assert_eq!(landed.attempts, 6);
    assert!(j.verdicts.is_none());
    let notice = notice_step(&j).unwrap();
    assert!(notice.time_us >= 2 * HOUR);
    assert_eq!(j.bounce_notice.as_deref(), Some("orders@shop.example"));
}

#[test]
fn smtpsim_run_counts_the_bounce_notices_too() {
    for (name, notices) in [
        ("transactional", 0),
        ("unknown-user", 1),
        ("dmarc-reject", 1),
        ("wrong-password", 0),
        ("mailbox-full", 1),
        ("queue-expired", 1),
    ] {
        let scenario = Story::find(name).unwrap().scenario().unwrap();
        let (_, stats) = support::run(&scenario, &Options::default());
        assert_eq!(stats.bounce_notices, notices, "{name}");
    }
    // One notice per message and domain given up on, in a whole day of the quickstart.
    let scenario = support::load("quickstart.toml");
    let options = Options {
        messages: Some(3000),
        ..Options::default()
    };
    let (memory, stats) = support::run(&scenario, &options);
    let mut failed: Vec<(u64, &str)> = memory
        .rows
        .iter()
        .filter(|r| matches!(r.fate, Fate::Bounced | Fate::Expired))
        .map(|r| (r.message_id, r.domain.as_str()))
        .collect();
    failed.sort();
    failed.dedup();
    assert!(!failed.is_empty());
    // A delivery can bounce some recipients at one attempt and expire others later: each
    // occasion is a notice of its own.
    assert!(stats.bounce_notices >= failed.len() as u64);
    assert!(stats.bounce_notices <= memory.rows.len() as u64);
}

#[test]
fn asking_for_a_message_that_is_not_there_is_an_error() {
    let scenario = Story::find("transactional").unwrap().scenario().unwrap();
    let err = journey::follow(&scenario, &Options::default(), 5).unwrap_err();
    assert_eq!(
        err.to_string(),
        "there is no message 5: the run has 1 (numbered from 0)"
    );
}

#[test]
fn every_story_is_in_the_scenario_reference() {
    let readme = std::fs::read_to_string(support::scenario_path("README.md")).unwrap();
    let dir = support::scenario_path("stories");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    files.sort();
    let mut bundled: Vec<String> = STORIES.iter().map(|s| format!("{}.toml", s.name)).collect();
    bundled.sort();
    assert_eq!(files, bundled, "every file in scenarios/stories is bundled");
    for story in STORIES {
        assert!(
            readme.contains(&format!("`stories/{}.toml`", story.name)),
            "scenarios/README.md does not list stories/{}.toml",
            story.name
        );
        sim::check(&story.scenario().unwrap()).unwrap();
    }
}
