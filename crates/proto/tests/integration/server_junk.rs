//! The junk-command limit: NOOP, RSET, VRFY, EXPN and HELP beyond it count as bad commands,
//! so that the bad-command limit ends a session that only marks time.

use crate::common::{TestPolicy, codes, server, talk};
use smtpsim_proto::server::{ServerConfig, ServerEvent};

fn config(junk: u32, bad: u32) -> ServerConfig {
    let mut config = ServerConfig::new("mx.example.net");
    config.limits.junk_commands = junk;
    config.limits.bad_commands = bad;
    config
}

#[test]
fn noops_past_the_junk_limit_use_up_the_bad_command_limit() {
    let mut s = server(ServerConfig::new("mx.example.net"), TestPolicy::default());
    s.take_output();
    // The defaults: 100 junk commands, then 20 more counted as bad, then 421.
    let out = talk(&mut s, &b"NOOP\r\n".repeat(200));
    let codes = codes(&out);
    assert_eq!(codes.len(), 121);
    assert!(codes[..120].iter().all(|c| *c == "250"));
    assert!(out.ends_with("421 4.7.0 Too many errors, closing connection\r\n"));
    assert!(s.is_closed());
    assert_eq!(s.poll_event(), Some(ServerEvent::Close));
}

#[test]
fn every_kind_of_junk_counts() {
    let mut s = server(config(4, 0), TestPolicy::default());
    s.take_output();
    let out = talk(
        &mut s,
        b"EHLO c\r\nNOOP\r\nRSET\r\nVRFY x\r\nHELP\r\nEXPN list\r\n",
    );
    assert_eq!(
        codes(&out),
        ["250", "250", "250", "252", "214", "421"],
        "{out}"
    );
    assert!(s.is_closed());
}

#[test]
fn commands_that_move_a_transaction_are_not_junk() {
    let mut s = server(config(1, 0), TestPolicy::default());
    s.take_output();
    let mut input = b"NOOP\r\n".to_vec();
    for _ in 0..30 {
        input.extend_from_slice(
            b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\n",
        );
        input.extend_from_slice(b"DATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n");
    }
    let out = talk(&mut s, &input);
    assert!(!s.is_closed(), "{out}");
    assert_eq!(
        talk(&mut s, b"NOOP\r\n"),
        "421 4.7.0 Too many errors, closing connection\r\n"
    );
}
