//! Whatever is typed, in whatever state, the session answers without panicking, prints only
//! whole lines, and every server line it shows is a reply the client side parses back.

use crate::common;

use proptest::prelude::*;
use smtpsim_des::SimDuration;
use smtpsim_model::scenario::Scenario;
use smtpsim_proto::reply::parse_reply;
use smtpsim_repl::{Config, Kind, Repl};

/// Lines a user might type: SMTP commands, terminal commands, their mistakes, and noise.
fn typed_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("connect".to_string()),
        Just("connect grey.example".to_string()),
        Just("connect down.example".to_string()),
        Just("EHLO mta.app.example".to_string()),
        Just("HELO x".to_string()),
        Just("STARTTLS".to_string()),
        Just("MAIL FROM:<notify@app.example>".to_string()),
        Just("RCPT TO:<bob@grey.example>".to_string()),
        Just("RCPT TO:<bob@nobody.example>".to_string()),
        Just("DATA".to_string()),
        Just("BDAT 5 LAST".to_string()),
        Just(".".to_string()),
        Just("QUIT".to_string()),
        Just("RSET".to_string()),
        Just("AUTH LOGIN".to_string()),
        Just("AUTH PLAIN".to_string()),
        Just("*".to_string()),
        Just("auth-plain alice secret".to_string()),
        Just("explain off".to_string()),
        Just("explain on".to_string()),
        Just("disconnect".to_string()),
        Just("?".to_string()),
        Just("domains".to_string()),
        Just("hint".to_string()),
        Just("time".to_string()),
        Just("exit".to_string()),
        "wait [0-9]{1,25}[smhd]?",
        "base64 .{0,40}",
        "explain .{0,30}",
        "(MAIL|RCPT|EHLO|AUTH|BDAT|connect|wait) .{0,60}",
        ".{0,80}",
        "[\\x00-\\x7f]{0,700}",
    ]
}

fn scenario() -> Scenario {
    Scenario::parse(common::SCENARIO, "repl-test.toml").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_lines_in_any_order_never_panic(
        lines in prop::collection::vec(typed_line(), 1..40),
        elapsed in prop::collection::vec(0u64..u64::MAX, 1..40),
        with_scenario in any::<bool>(),
    ) {
        let config = Config {
            scenario: with_scenario.then(scenario),
            ..Config::default()
        };
        let mut repl = Repl::new(config).unwrap();
        let mut clock = 0u64;
        for (i, line) in lines.iter().enumerate() {
            // The driver's clock only moves forward.
            clock = clock.max(elapsed[i % elapsed.len()] % 100_000_000_000);
            let out = repl.input(line, SimDuration::from_micros(clock));
            for printed in &out {
                prop_assert!(!printed.text.contains('\n'), "{:?}", printed);
                if printed.kind == Kind::Server {
                    let text = printed.text.strip_prefix("S: ").unwrap();
                    // Each server line is (part of) a reply; its last line parses alone.
                    if text.len() > 3 && text.as_bytes()[3] == b' ' {
                        let parsed = parse_reply(format!("{text}\r\n").as_bytes());
                        prop_assert!(matches!(parsed, Ok(Some(_))), "{}", text);
                    }
                }
            }
            prop_assert!(!repl.prompt().is_empty());
            if repl.finished() {
                break;
            }
        }
    }
}
