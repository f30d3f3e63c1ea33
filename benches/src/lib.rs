//! Benchmarks live in `benches/`; this library holds shared inputs for them.

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
