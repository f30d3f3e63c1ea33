//! The reply-code catalogue: completeness, consistency of the tables, and `explain`.

use std::collections::HashSet;

use smtpsim_proto::codes::{
    self, ExplainError, Retry, enhanced_class, enhanced_code, enhanced_codes, enhanced_for_reply,
    enhanced_subject, explain, reply_code, reply_codes,
};
use smtpsim_proto::{EnhancedCode, ReplyCode};

/// The reply codes the catalogue must cover.
const REQUIRED_REPLY_CODES: [u16; 33] = [
    211, 214, 220, 221, 235, 250, 251, 252, 334, 354, 421, 450, 451, 452, 454, 455, 500, 501, 502,
    503, 504, 521, 530, 534, 535, 538, 550, 551, 552, 553, 554, 555, 556,
];

/// Enhanced codes (as subject, detail) the catalogue must cover: the registry codes in common use.
fn required_enhanced() -> Vec<(u16, u16)> {
    let mut codes = vec![(0, 0)];
    codes.extend((0..=10).map(|d| (1, d)));
    codes.extend((0..=4).map(|d| (2, d)));
    codes.extend((0..=5).map(|d| (3, d)));
    codes.extend((0..=7).map(|d| (4, d)));
    codes.extend((0..=6).map(|d| (5, d)));
    codes.extend((0..=10).map(|d| (6, d)));
    codes.extend((0..=30).map(|d| (7, d)));
    codes
}

/// Pairs big providers send, which must be explained with both codes catalogued.
const PROVIDER_PAIRS: [&str; 14] = [
    "421 4.7.0",
    "451 4.7.1",
    "452 4.2.2",
    "552 5.2.2",
    "550 5.1.1",
    "552 5.3.4",
    "451 4.3.0",
    "421 4.3.2",
    "530 5.7.0",
    "538 5.7.11",
    "535 5.7.8",
    "556 5.1.10",
    "421 4.7.28",
    "550 5.7.26",
];

fn code(n: u16) -> ReplyCode {
    ReplyCode::new(n).unwrap()
}

#[test]
fn every_required_reply_code_is_catalogued() {
    for n in REQUIRED_REPLY_CODES {
        let info = reply_code(code(n)).unwrap_or_else(|| panic!("{n} missing"));
        assert_eq!(info.code, n);
    }
}

#[test]
fn every_required_enhanced_code_is_catalogued() {
    for (subject, detail) in required_enhanced() {
        let info = enhanced_code(EnhancedCode::new(5, subject, detail))
            .unwrap_or_else(|| panic!("X.{subject}.{detail} missing"));
        assert_eq!((info.subject, info.detail), (subject, detail));
        // The class does not change the lookup.
        for class in [2, 4] {
            assert_eq!(
                enhanced_code(EnhancedCode::new(class, subject, detail)),
                Some(info)
            );
        }
    }
}

#[test]
fn provider_pairs_are_catalogued_and_consistent() {
    for input in PROVIDER_PAIRS {
        let e = explain(input).unwrap();
        assert!(e.code.is_some(), "{input}: reply code not catalogued");
        assert!(
            e.enhanced_info().is_some(),
            "{input}: enhanced code not catalogued"
        );
        assert!(e.consistent, "{input}");
        assert!(
            !e.unusual_class(),
            "{input}: class not listed for the enhanced code"
        );
        let reply = e.code_value.unwrap();
        let info = e.enhanced_info().unwrap();
        assert!(
            info.typical_replies.contains(&reply.get()),
            "{input}: {} not among the typical replies of X.{}.{}",
            reply,
            info.subject,
            info.detail
        );
    }
}

#[test]
fn reply_table_is_sorted_without_duplicates() {
    let table = reply_codes();
    assert!(table.windows(2).all(|w| w[0].code < w[1].code));
}

#[test]
fn enhanced_table_is_sorted_without_duplicates() {
    let table = enhanced_codes();
    assert!(
        table
            .windows(2)
            .all(|w| (w[0].subject, w[0].detail) < (w[1].subject, w[1].detail))
    );
}

#[test]
fn every_reply_entry_is_complete() {
    for info in reply_codes() {
        assert!(ReplyCode::new(info.code).is_some(), "{}", info.code);
        assert!(!info.name.trim().is_empty(), "{} name", info.code);
        assert!(!info.meaning.trim().is_empty(), "{} meaning", info.code);
        assert!(!info.advice.trim().is_empty(), "{} advice", info.code);
        assert!(!info.rfc.trim().is_empty(), "{} rfc", info.code);
        assert!(!info.causes.is_empty(), "{} causes", info.code);
        assert!(
            info.causes.iter().all(|c| !c.trim().is_empty()),
            "{} empty cause",
            info.code
        );
    }
}

#[test]
fn every_enhanced_entry_is_complete() {
    for info in enhanced_codes() {
        let key = format!("X.{}.{}", info.subject, info.detail);
        assert!(!info.name.trim().is_empty(), "{key} name");
        assert!(!info.meaning.trim().is_empty(), "{key} meaning");
        assert!(!info.advice.trim().is_empty(), "{key} advice");
        assert!(!info.rfc.trim().is_empty(), "{key} rfc");
        assert!(!info.causes.is_empty(), "{key} causes");
        assert!(info.causes.iter().all(|c| !c.trim().is_empty()), "{key}");
        assert!(!info.classes.is_empty(), "{key} classes");
        assert!(
            info.classes.iter().all(|c| matches!(c, 2 | 4 | 5)),
            "{key} classes"
        );
        assert!(enhanced_subject(info.subject).is_some(), "{key} subject");
        for (class, note) in info.class_notes {
            assert!(
                info.used_with(*class),
                "{key}: note for unused class {class}"
            );
            assert!(!note.trim().is_empty(), "{key}: empty note");
        }
        let classes: HashSet<_> = info.class_notes.iter().map(|(c, _)| c).collect();
        assert_eq!(
            classes.len(),
            info.class_notes.len(),
            "{key}: duplicate notes"
        );
    }
}

#[test]
fn retry_matches_the_class_of_every_reply_code() {
    for info in reply_codes() {
        let class = (info.code / 100) as u8;
        assert_eq!(Some(info.retry), Retry::for_class(class), "{}", info.code);
        assert_eq!(
            info.retry,
            Retry::for_code(code(info.code)),
            "{}",
            info.code
        );
    }
}

#[test]
fn typical_replies_are_catalogued_and_of_a_compatible_class() {
    for info in enhanced_codes() {
        let key = format!("X.{}.{}", info.subject, info.detail);
        let mut seen = HashSet::new();
        for &reply in info.typical_replies {
            assert!(seen.insert(reply), "{key}: {reply} listed twice");
            assert!(
                reply_code(code(reply)).is_some(),
                "{key}: typical reply {reply} not catalogued"
            );
            let class = (reply / 100) as u8;
            assert!(
                info.used_with(class),
                "{key}: typical reply {reply} has class {class}, not in {:?}",
                info.classes
            );
        }
    }
}

#[test]
fn common_enhanced_codes_are_catalogued_and_name_the_reply() {
    for info in reply_codes() {
        let class = (info.code / 100) as u8;
        let mut seen = HashSet::new();
        for &(subject, detail) in info.common_enhanced {
            assert!(
                seen.insert((subject, detail)),
                "{}: listed twice",
                info.code
            );
            let enhanced = enhanced_code(EnhancedCode::new(class, subject, detail))
                .unwrap_or_else(|| panic!("{}: X.{subject}.{detail} missing", info.code));
            assert!(
                enhanced.typical_replies.contains(&info.code),
                "{}: X.{subject}.{detail} does not list it as a typical reply",
                info.code
            );
        }
        assert_eq!(
            info.common_enhanced_codes().count(),
            info.common_enhanced.len()
        );
    }
}

#[test]
fn enhanced_for_reply_lists_entries_that_name_the_reply() {
    let with_550: Vec<_> = enhanced_for_reply(code(550))
        .map(|i| (i.subject, i.detail))
        .collect();
    assert!(with_550.contains(&(1, 1)));
    assert!(with_550.contains(&(7, 1)));
    assert!(with_550.contains(&(7, 26)));
    assert!(enhanced_for_reply(code(354)).next().is_none());
}

#[test]
fn class_and_subject_titles() {
    assert_eq!(enhanced_class(2), Some("Success"));
    assert_eq!(enhanced_class(4), Some("Persistent Transient Failure"));
    assert_eq!(enhanced_class(5), Some("Permanent Failure"));
    assert_eq!(enhanced_class(3), None);
    let subjects = [
        "Other or Undefined Status",
        "Addressing Status",
        "Mailbox Status",
        "Mail System Status",
        "Network and Routing Status",
        "Mail Delivery Protocol Status",
        "Message Content or Media Status",
        "Security or Policy Status",
    ];
    for (subject, title) in subjects.into_iter().enumerate() {
        assert_eq!(enhanced_subject(subject as u16), Some(title));
        assert!(codes::enhanced_subject_meaning(subject as u16).is_some());
    }
    assert_eq!(enhanced_subject(8), None);
    assert_eq!(codes::reply_class(4), Some("Transient Negative Completion"));
    assert_eq!(codes::reply_category(5), Some("Mail system"));
}

#[test]
fn explain_basic_code_alone() {
    let e = explain("550").unwrap();
    assert_eq!(e.code_value, Some(code(550)));
    assert_eq!(e.code.unwrap().code, 550);
    assert_eq!(e.enhanced, None);
    assert_eq!(e.retry, Retry::Never);
    assert!(e.consistent);
    assert!(e.text.is_empty());
    let report = e.to_string();
    assert!(report.contains("Mailbox unavailable"), "{report}");
    assert!(
        report.contains("5.1.1"),
        "lists the usual enhanced codes: {report}"
    );
}

#[test]
fn explain_enhanced_code_alone() {
    let e = explain("4.7.1").unwrap();
    assert_eq!(e.code_value, None);
    assert_eq!(e.code, None);
    let (enhanced, info) = e.enhanced.unwrap();
    assert_eq!(enhanced, EnhancedCode::new(4, 7, 1));
    assert_eq!(
        info.unwrap().name,
        "Delivery not authorized, message refused"
    );
    assert_eq!(e.retry, Retry::Later);
    let report = e.to_string();
    assert!(report.contains("greylist"), "{report}");
    assert!(
        report.contains("Usually sent with: 450, 451, 454"),
        "{report}"
    );

    assert_eq!(explain("2.1.5").unwrap().retry, Retry::NotNeeded);
    assert_eq!(explain("5.1.1").unwrap().retry, Retry::Never);
}

#[test]
fn explain_both_codes_in_every_form() {
    for input in [
        "550 5.1.1",
        "550-5.1.1",
        "  550   5.1.1  ",
        "550\t5.1.1",
        "550-5.1.1 The email account that you tried to reach does not exist.",
        "550 5.1.1 <nobody@example.com>: Recipient address rejected\r\n",
    ] {
        let e = explain(input).unwrap();
        assert_eq!(e.code.unwrap().code, 550, "{input}");
        let (enhanced, info) = e.enhanced.unwrap();
        assert_eq!(enhanced, EnhancedCode::new(5, 1, 1), "{input}");
        assert_eq!((info.unwrap().subject, info.unwrap().detail), (1, 1));
        assert_eq!(e.retry, Retry::Never, "{input}");
        assert!(e.consistent, "{input}");
    }
    let e = explain("550-5.1.1 The email account that you tried to reach does not exist.").unwrap();
    assert_eq!(
        e.text,
        "The email account that you tried to reach does not exist."
    );
}

#[test]
fn explain_a_whole_gmail_rate_limit_line() {
    let line = "421-4.7.28 [192.0.2.1] Our system has detected an unusual rate of unsolicited \
                mail originating from your IP address. To protect our users from spam, mail \
                sent from your IP address has been temporarily rate limited. - gsmtp";
    let e = explain(line).unwrap();
    assert_eq!(e.code.unwrap().code, 421);
    assert_eq!(e.enhanced_info().unwrap().name, "Mail flood detected");
    assert_eq!(e.retry, Retry::Later);
    assert!(e.consistent);
    assert!(e.text.starts_with("[192.0.2.1] Our system"));
}

#[test]
fn explain_lines_copied_from_a_bounce() {
    let e = explain(
        "Diagnostic-Code: smtp; 552-5.2.2 The email account that you tried to reach is over quota.",
    )
    .unwrap();
    assert_eq!(e.code.unwrap().code, 552);
    assert_eq!(e.enhanced_info().unwrap().name, "Mailbox full");
    assert_eq!(e.retry, Retry::Never);

    let e = explain("Status: 4.4.7").unwrap();
    assert_eq!(e.enhanced_info().unwrap().name, "Delivery time expired");
    assert_eq!(e.retry, Retry::Later);
}

#[test]
fn display_of_a_rate_limit_mentions_rate_and_retry() {
    let report = explain("421 4.7.28").unwrap().to_string();
    let lower = report.to_lowercase();
    assert!(lower.contains("rate"), "{report}");
    assert!(lower.contains("retry"), "{report}");
    assert!(
        report.starts_with("421 4.7.28\nRetry: later - "),
        "{report}"
    );
    assert!(report.contains("Typical causes:\n    - "), "{report}");
    assert!(report.contains("What to do: "), "{report}");
    assert!(report.contains("Security or Policy Status"), "{report}");
    assert!(report.contains("Gmail"), "{report}");
    assert!(!report.contains("Warning"), "{report}");
    assert!(!report.ends_with('\n'));
}

#[test]
fn display_of_greylisting_gives_the_greylist_delay() {
    let report = explain("451 4.7.1 Greylisted, please try again later")
        .unwrap()
        .to_string();
    assert!(report.contains("1 to 15 minutes"), "{report}");
    assert!(report.contains("same IP"), "{report}");
    assert!(
        report.contains("Server text: Greylisted, please try again later"),
        "{report}"
    );
}

#[test]
fn inconsistent_classes_are_flagged() {
    let e = explain("550 4.1.1").unwrap();
    assert!(!e.consistent);
    // The reply code decides.
    assert_eq!(e.retry, Retry::Never);
    let report = e.to_string();
    assert!(report.contains("Warning: inconsistent classes"), "{report}");
    assert!(report.contains("permanent failure"), "{report}");

    let e = explain("451 5.7.1").unwrap();
    assert!(!e.consistent);
    assert_eq!(e.retry, Retry::Later);
    assert!(e.to_string().contains("transient failure"));

    assert!(explain("250 2.0.0").unwrap().consistent);
    assert!(explain("250").unwrap().consistent);
    assert!(explain("5.1.1").unwrap().consistent);
}

#[test]
fn unusual_class_is_noted() {
    let e = explain("250 2.1.1").unwrap();
    assert!(e.consistent);
    assert!(e.unusual_class());
    assert!(e.to_string().contains("Note: 2.1.1 is unusual"));
    assert!(!explain("550 5.1.1").unwrap().unusual_class());
}

#[test]
fn uncatalogued_codes_get_a_generic_explanation() {
    let e = explain("599 something odd").unwrap();
    assert_eq!(e.code_value, Some(code(599)));
    assert_eq!(e.code, None);
    assert_eq!(e.retry, Retry::Never);
    let report = e.to_string();
    assert!(report.contains("599 (not in the catalogue)"), "{report}");
    assert!(report.contains("Permanent Negative Completion"), "{report}");

    let e = explain("550 5.7.510 Access denied").unwrap();
    let (enhanced, info) = e.enhanced.unwrap();
    assert_eq!(enhanced, EnhancedCode::new(5, 7, 510));
    assert_eq!(info, None);
    assert!(e.consistent);
    let report = e.to_string();
    assert!(
        report.contains("5.7.510 (not in the registry catalogue"),
        "{report}"
    );
    assert!(report.contains("Security or Policy Status"), "{report}");
}

#[test]
fn intermediate_replies_continue() {
    let e = explain("354 Start mail input; end with <CRLF>.<CRLF>").unwrap();
    assert_eq!(e.retry, Retry::Continue);
    let e = explain("334 VXNlcm5hbWU6").unwrap();
    assert_eq!(e.retry, Retry::Continue);
    assert_eq!(e.enhanced, None);
    assert_eq!(e.text, "VXNlcm5hbWU6");
}

#[test]
fn errors_say_why() {
    assert_eq!(explain(""), Err(ExplainError::Empty));
    assert_eq!(explain("   \n\t"), Err(ExplainError::Empty));
    assert_eq!(
        explain("hello world"),
        Err(ExplainError::NotACode("hello".into()))
    );
    assert_eq!(explain("42"), Err(ExplainError::NotACode("42".into())));
    assert_eq!(explain("1234"), Err(ExplainError::NotACode("1234".into())));
    assert_eq!(explain("600"), Err(ExplainError::OutOfRange(600)));
    assert_eq!(explain("199 too low"), Err(ExplainError::OutOfRange(199)));
    assert_eq!(
        explain("6.1.1"),
        Err(ExplainError::BadEnhanced("6.1.1".into()))
    );
    assert_eq!(
        explain("550 3.1.1"),
        Err(ExplainError::BadEnhanced("3.1.1".into()))
    );
    let message = explain("600").unwrap_err().to_string();
    assert!(message.contains("200..=599"), "{message}");
    let message = explain("bogus").unwrap_err().to_string();
    assert!(message.contains("`bogus`"), "{message}");
}

#[test]
fn retry_labels_and_descriptions() {
    for retry in [
        Retry::NotNeeded,
        Retry::Continue,
        Retry::Later,
        Retry::Never,
    ] {
        assert_eq!(retry.to_string(), retry.label());
        assert!(!retry.description().is_empty());
    }
    assert!(Retry::Later.description().contains("retry"));
}
