//! `smtpsim explain` and `smtpsim codes` run as real processes: every code in the catalogue
//! explained through the command line, golden output for a few, and errors.

use crate::support;

use smtpsim_proto::codes;
use support::{golden, smtpsim};

/// Every reply code, and every enhanced code with every class it is used with.
fn every_catalogued_code() -> Vec<String> {
    let mut inputs: Vec<String> = codes::reply_codes()
        .iter()
        .map(|info| info.code.to_string())
        .collect();
    for info in codes::enhanced_codes() {
        for &class in info.classes {
            inputs.push(info.with_class(class).to_string());
        }
    }
    inputs
}

#[test]
fn explain_covers_every_code_in_the_catalogue() {
    let inputs = every_catalogued_code();
    assert!(
        inputs.len() > 100,
        "the catalogue is read: {}",
        inputs.len()
    );
    let args: Vec<&str> = std::iter::once("explain")
        .chain(inputs.iter().map(String::as_str))
        .collect();
    let (code, out, err) = smtpsim(&args);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    // Each explanation is the library's report, in order, separated by blank lines.
    let expected: Vec<String> = inputs
        .iter()
        .map(|input| codes::explain(input).unwrap().to_string())
        .collect();
    assert_eq!(out, format!("{}\n", expected.join("\n\n")));

    for info in codes::reply_codes() {
        let (_, text, _) = smtpsim(&["explain".to_string(), info.code.to_string()]);
        assert!(text.contains(info.name), "{}: {text}", info.code);
        assert!(text.contains(info.meaning), "{}: meaning", info.code);
        for cause in info.causes {
            assert!(text.contains(cause), "{}: cause {cause}", info.code);
        }
        assert!(text.contains(info.advice), "{}: what to do", info.code);
        assert!(
            text.contains(&format!("Retry: {}", info.retry.label())),
            "{}: retry",
            info.code
        );
    }
}

#[test]
fn every_enhanced_code_is_explained_with_its_meaning_causes_and_advice() {
    let inputs: Vec<String> = std::iter::once("explain".to_string())
        .chain(
            codes::enhanced_codes()
                .iter()
                .map(|info| info.with_class(info.classes[0]).to_string()),
        )
        .collect();
    let (code, out, err) = smtpsim(&inputs);
    assert_eq!(code, 0, "{err}");
    let mut rest = out.as_str();
    for info in codes::enhanced_codes() {
        let heading = format!("{} {} (", info.with_class(info.classes[0]), info.name);
        let at = rest
            .find(&heading)
            .unwrap_or_else(|| panic!("{heading} missing, in order"));
        rest = &rest[at..];
        let end = rest[1..].find("\n\n").map_or(rest.len(), |i| i + 1);
        let section = &rest[..end];
        let wording = info.wording(info.classes[0]);
        assert!(section.contains(wording.meaning), "{heading}: meaning");
        for cause in wording.causes {
            assert!(section.contains(cause), "{heading}: cause {cause}");
        }
        assert!(section.contains(wording.advice), "{heading}: what to do");
        rest = &rest[end..];
    }
}

#[test]
fn golden_explanations() {
    for (input, file) in [
        ("451", "explain-451.txt"),
        ("5.7.1", "explain-5.7.1.txt"),
        ("550 5.1.1 user unknown", "explain-550-5.1.1.txt"),
        ("334 VXNlcm5hbWU6", "explain-334.txt"),
    ] {
        let (code, out, err) = smtpsim(&["explain", input]);
        assert_eq!(code, 0, "{input}: {err}");
        golden(file, &out);
    }
}

#[test]
fn codes_prints_the_whole_table() {
    let (code, out, err) = smtpsim(&["codes"]);
    assert_eq!(code, 0, "{err}");
    golden("codes.txt", &out);
    for info in codes::reply_codes() {
        assert!(out.contains(&format!(
            "{:<5} {:<11} {}",
            info.code,
            info.retry.label(),
            info.name
        )));
    }
    for info in codes::enhanced_codes() {
        assert!(out.contains(&format!("X.{}.{} ", info.subject, info.detail)));
        assert!(out.contains(info.name));
    }
}

#[test]
fn input_that_is_not_a_code_is_a_clear_error() {
    for (input, says) in [
        ("hello", "`hello` is not a reply code"),
        ("600", "reply code 600 is outside 200..=599"),
        ("6.1.1", "`6.1.1` is not a valid enhanced status code"),
        ("", "nothing to explain"),
    ] {
        let (code, out, err) = smtpsim(&["explain", input]);
        assert_eq!(code, 2, "{input}");
        assert!(out.is_empty(), "{input}: {out}");
        assert!(err.starts_with("smtpsim explain: "), "{input}: {err}");
        assert!(err.contains(says), "{input}: {err}");
    }
    // The good inputs are explained, the bad one reported, and the exit status says so.
    let (code, out, err) = smtpsim(&["explain", "550", "5.1.1", "user", "unknown"]);
    assert_eq!(code, 2);
    assert!(out.contains("550 Mailbox unavailable"));
    assert!(out.contains("5.1.1 Bad destination mailbox address"));
    assert!(err.contains("`user` is not a reply code"), "{err}");
    assert!(err.contains("quote it"), "{err}");

    let (code, _, err) = smtpsim(&["explain"]);
    assert_eq!(code, 2);
    assert!(err.contains("required"), "{err}");
}
