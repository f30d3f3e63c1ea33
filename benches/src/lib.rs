//! Benchmarks live in `benches/`; this library holds shared inputs for them.

#![forbid(unsafe_code)]

use std::sync::Arc;

use smtpsim_proto::client::{ClientConfig, ClientSession, OutgoingMessage};
use smtpsim_proto::loopback::converse;
use smtpsim_proto::server::{AcceptAll, ServerConfig, ServerSession};

/// A realistic mix of SMTP command lines, without their CRLF, in the proportions of a few
/// ordinary sessions: greetings, STARTTLS and AUTH, transactions with several recipients,
/// and the odd RSET and NOOP.
pub const COMMAND_LINES: &[&[u8]] = &[
    b"EHLO mail-relay.example.com",
    b"STARTTLS",
    b"EHLO mail-relay.example.com",
    b"AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAGNvcnJlY3QgaG9yc2UgYmF0dGVyeQ==",
    b"MAIL FROM:<alice.smith@example.com> SIZE=48213 BODY=8BITMIME",
    b"RCPT TO:<bob@example.net>",
    b"RCPT TO:<carol.jones@mail.example.org>",
    b"RCPT TO:<dave+newsletter@example.net>",
    b"RCPT TO:<erin@sub.domain.example.co.uk>",
    b"DATA",
    b"MAIL FROM:<> SIZE=2311",
    b"RCPT TO:<postmaster@example.com>",
    b"DATA",
    b"RSET",
    b"NOOP",
    b"MAIL FROM:<notifications@service.example.io> SIZE=10240",
    b"RCPT TO:<frank@example.org>",
    b"RCPT TO:<grace.hopper@navy.example.mil>",
    b"DATA",
    b"QUIT",
];

/// A message body of `len` bytes (at least 64): a few headers, then lines of text, CRLF
/// throughout.
pub fn body(len: usize) -> Arc<[u8]> {
    let mut body =
        b"From: a@example.com\r\nTo: b@example.net\r\nSubject: benchmark\r\n\r\n".to_vec();
    while body.len() < len {
        body.extend_from_slice(
            b"The quick brown fox jumps over the lazy dog, again and again.\r\n",
        );
    }
    body.truncate(len - 2);
    body.extend_from_slice(b"\r\n");
    body.into()
}

/// One whole transaction in memory, client session against server session, from the greeting
/// to QUIT, one recipient; returns the number of messages the server accepted.
pub fn transaction(
    server_config: &Arc<ServerConfig>,
    client_config: &ClientConfig,
    content: &Arc<[u8]>,
    pipelining: bool,
) -> usize {
    let message = OutgoingMessage {
        from: "a@example.com".to_string(),
        recipients: vec!["b@example.net".to_string()],
        content: content.clone(),
        declared_size: None,
    };
    let mut config = client_config.clone();
    config.pipelining = pipelining;
    let mut client = ClientSession::new(config, message).expect("valid message");
    let mut server = ServerSession::new(server_config.clone(), AcceptAll, None);
    converse(&mut client, &mut server).len()
}
