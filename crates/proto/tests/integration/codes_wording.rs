//! The catalogue's words fit the class of the code at hand: a success is explained as a
//! success, a failure as a failure.

use smtpsim_proto::codes::{enhanced_codes, explain, reply_codes};

/// Words that say something went wrong.
const FAILURE_WORDS: [&str; 11] = [
    "fail",
    "caused this",
    "retry",
    "try again",
    "refuse",
    "reject",
    "bounce",
    "denied",
    "undeliverable",
    "not accepted",
    "not delivered",
];

/// Words that say all went well.
const SUCCESS_WORDS: [&str; 4] = [
    "nothing to do",
    "was delivered",
    "was accepted",
    "valid and accepted",
];

/// The explanation of `input`, without its `Retry:` line (which names retrying to say it is
/// not needed) and without the text echoed from the input.
fn explained(input: &str) -> String {
    explain(input)
        .unwrap()
        .to_string()
        .lines()
        .filter(|line| !line.starts_with("Retry:"))
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase()
}

/// Every word of `words` in the explanation of `input`, as `` `input`: "word" ``.
fn words_in(input: &str, words: &[&str]) -> Vec<String> {
    let text = explained(input);
    words
        .iter()
        .filter(|word| text.contains(*word))
        .map(|word| format!("`{input}`: {word:?}"))
        .collect()
}

fn codes_of_class(class: u16) -> impl Iterator<Item = u16> {
    reply_codes()
        .iter()
        .map(|info| info.code)
        .filter(move |code| code / 100 == class)
}

#[test]
fn success_replies_with_success_enhanced_codes_are_explained_as_successes() {
    let mut inputs = Vec::new();
    for code in codes_of_class(2) {
        inputs.push(code.to_string());
        for info in enhanced_codes().iter().filter(|info| info.used_with(2)) {
            inputs.push(format!("{code} 2.{}.{}", info.subject, info.detail));
        }
        // A detail the catalogue does not list is explained from its subject.
        inputs.extend((0..=7).map(|subject| format!("{code} 2.{subject}.999")));
    }
    inputs.extend(codes_of_class(3).map(|code| code.to_string()));
    assert!(inputs.len() > 8 * 10, "only {} inputs", inputs.len());
    let found: Vec<String> = inputs
        .iter()
        .flat_map(|input| words_in(input, &FAILURE_WORDS))
        .collect();
    assert!(found.is_empty(), "failure words:\n{}", found.join("\n"));
}

#[test]
fn the_replies_of_the_sessions_are_explained_as_successes() {
    for input in [
        "250 2.1.0 Sender OK",
        "252 2.5.0",
        "235 2.7.0",
        "221 2.0.0 Bye",
    ] {
        assert_eq!(words_in(input, &FAILURE_WORDS), Vec::<String>::new());
    }
}

#[test]
fn failure_replies_with_failure_enhanced_codes_are_not_explained_as_successes() {
    let mut inputs = Vec::new();
    for class in [4u8, 5] {
        for code in codes_of_class(u16::from(class)) {
            for info in enhanced_codes().iter().filter(|info| info.used_with(class)) {
                inputs.push(format!("{code} {class}.{}.{}", info.subject, info.detail));
            }
        }
    }
    assert!(inputs.len() > 100, "only {} inputs", inputs.len());
    let found: Vec<String> = inputs
        .iter()
        .flat_map(|input| words_in(input, &SUCCESS_WORDS))
        .collect();
    assert!(found.is_empty(), "success words:\n{}", found.join("\n"));
}

#[test]
fn codes_used_for_success_and_failure_have_a_success_wording() {
    for info in enhanced_codes() {
        let key = format!("X.{}.{}", info.subject, info.detail);
        let mixed = info.used_with(2) && (info.used_with(4) || info.used_with(5));
        assert_eq!(
            info.success.is_some(),
            mixed,
            "{key}: a success wording exactly when used with class 2 and a failure class"
        );
        if let Some(success) = info.success {
            assert_eq!(info.wording(2), success);
            assert_eq!(info.wording(5).meaning, info.meaning);
            assert_ne!(success.meaning, info.meaning, "{key}");
        }
    }
}
