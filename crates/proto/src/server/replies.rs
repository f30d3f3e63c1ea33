//! The server session's own replies, in one place (public so that drivers which answer for a
//! session, such as the simulator's fast path, use the very same replies).

use crate::reply::{EnhancedCode, Reply};

const fn r(code: u16, class: u8, subject: u16, detail: u16, text: &'static str) -> Reply {
    Reply::new_static(code, Some(EnhancedCode::new(class, subject, detail)), text)
}

/// `250 2.0.0 OK`
pub const OK: Reply = r(250, 2, 0, 0, "OK");
/// `250 2.1.0 Sender OK`
pub const SENDER_OK: Reply = r(250, 2, 1, 0, "Sender OK");
/// `250 2.1.5 Recipient OK`
pub const RECIPIENT_OK: Reply = r(250, 2, 1, 5, "Recipient OK");
/// `250 2.0.0 Message accepted for delivery`
pub const MESSAGE_ACCEPTED: Reply = r(250, 2, 0, 0, "Message accepted for delivery");
/// A reply the session sends.
pub const START_DATA: Reply =
    Reply::new_static(354, None, "Start mail input; end with <CRLF>.<CRLF>");
/// `221 2.0.0 Bye`
pub const BYE: Reply = r(221, 2, 0, 0, "Bye");
/// `220 2.0.0 Ready to start TLS`
pub const READY_TLS: Reply = r(220, 2, 0, 0, "Ready to start TLS");
/// `235 2.7.0 Authentication successful`
pub const AUTH_OK: Reply = r(235, 2, 7, 0, "Authentication successful");
/// A reply the session sends.
pub const VRFY: Reply = r(
    252,
    2,
    5,
    0,
    "Cannot VRFY user, but will accept message and attempt delivery",
);
/// A reply the session sends.
pub const HELP: Reply = r(
    214,
    2,
    0,
    0,
    "Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH\nSee RFC 5321 for details",
);

/// `503 5.5.1 Send HELO or EHLO first`
pub const NEED_HELO: Reply = r(503, 5, 5, 1, "Send HELO or EHLO first");
/// `503 5.5.1 Sender already specified`
pub const NESTED_MAIL: Reply = r(503, 5, 5, 1, "Sender already specified");
/// `503 5.5.1 Send MAIL FROM first`
pub const NEED_MAIL: Reply = r(503, 5, 5, 1, "Send MAIL FROM first");
/// `503 5.5.1 Send RCPT TO first`
pub const NEED_RCPT: Reply = r(503, 5, 5, 1, "Send RCPT TO first");
/// `554 5.5.1 No valid recipients`
pub const NO_VALID_RECIPIENTS: Reply = r(554, 5, 5, 1, "No valid recipients");
/// `503 5.5.1 TLS already active`
pub const TLS_ACTIVE: Reply = r(503, 5, 5, 1, "TLS already active");
/// `502 5.5.1 STARTTLS not available`
pub const TLS_NOT_AVAILABLE: Reply = r(502, 5, 5, 1, "STARTTLS not available");
/// `530 5.7.0 Must issue a STARTTLS command first`
pub const TLS_REQUIRED: Reply = r(530, 5, 7, 0, "Must issue a STARTTLS command first");
/// `530 5.7.0 Authentication required`
pub const AUTH_REQUIRED: Reply = r(530, 5, 7, 0, "Authentication required");
/// `502 5.5.1 AUTH not available`
pub const AUTH_NOT_AVAILABLE: Reply = r(502, 5, 5, 1, "AUTH not available");
/// A reply the session sends.
pub const AUTH_NEEDS_TLS: Reply = r(
    538,
    5,
    7,
    11,
    "Encryption required for requested authentication mechanism",
);
/// `503 5.5.1 Already authenticated`
pub const AUTH_ALREADY: Reply = r(503, 5, 5, 1, "Already authenticated");
/// A reply the session sends.
pub const AUTH_IN_TRANSACTION: Reply =
    r(503, 5, 5, 1, "AUTH not allowed during a mail transaction");
/// `504 5.5.4 Unrecognized authentication mechanism`
pub const AUTH_MECHANISM: Reply = r(504, 5, 5, 4, "Unrecognized authentication mechanism");
/// `501 5.7.0 Authentication cancelled`
pub const AUTH_CANCELLED: Reply = r(501, 5, 7, 0, "Authentication cancelled");
/// `501 5.5.2 Cannot decode authentication response`
pub const AUTH_MALFORMED: Reply = r(501, 5, 5, 2, "Cannot decode authentication response");
/// `535 5.7.8 Authentication credentials invalid`
pub const AUTH_INVALID: Reply = r(535, 5, 7, 8, "Authentication credentials invalid");
/// `502 5.5.1 EXPN not supported`
pub const EXPN: Reply = r(502, 5, 5, 1, "EXPN not supported");
/// `502 5.5.1 BDAT not available`
pub const BDAT_NOT_AVAILABLE: Reply = r(502, 5, 5, 1, "BDAT not available");
/// `503 5.5.1 DATA and BDAT cannot be mixed`
pub const BDAT_AFTER_DATA: Reply = r(503, 5, 5, 1, "DATA and BDAT cannot be mixed");
/// `452 4.5.3 Too many recipients`
pub const TOO_MANY_RECIPIENTS: Reply = r(452, 4, 5, 3, "Too many recipients");
/// A reply the session sends.
pub const TOO_BIG: Reply = r(
    552,
    5,
    3,
    4,
    "Message size exceeds fixed maximum message size",
);
/// `500 5.5.6 Line too long (more than 1000 octets)`
pub const TEXT_LINE_TOO_LONG: Reply = r(500, 5, 5, 6, "Line too long (more than 1000 octets)");
/// A reply the session sends.
pub const BARE_LINE_ENDING: Reply = r(
    554,
    5,
    6,
    0,
    "Message rejected: bare CR or LF found; lines must end with CRLF",
);
/// `555 5.5.4 BODY parameter not supported`
pub const NOT_ANNOUNCED_8BIT: Reply = r(555, 5, 5, 4, "BODY parameter not supported");
/// `555 5.5.4 SMTPUTF8 not supported`
pub const NOT_ANNOUNCED_UTF8: Reply = r(555, 5, 5, 4, "SMTPUTF8 not supported");
/// A reply the session sends.
pub const UTF8_ADDRESS: Reply = r(
    553,
    5,
    6,
    7,
    "Non-ASCII address requires the SMTPUTF8 parameter",
);
/// `421 4.7.0 Too many errors, closing connection`
pub const TOO_MANY_ERRORS: Reply = r(421, 4, 7, 0, "Too many errors, closing connection");
/// `421 4.4.2 Timeout waiting for the client, closing connection`: a deadline passed.
pub const TIMEOUT: Reply = r(
    421,
    4,
    4,
    2,
    "Timeout waiting for the client, closing connection",
);
/// `503 5.5.1 No service here; send QUIT`
pub const REFUSED_AT_GREETING: Reply = r(503, 5, 5, 1, "No service here; send QUIT");
/// `503 5.5.1 Previous chunk refused; send RSET`
pub const CHUNK_AFTER_REFUSAL: Reply = r(503, 5, 5, 1, "Previous chunk refused; send RSET");
