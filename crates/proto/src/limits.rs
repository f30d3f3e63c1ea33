//! Size and count limits a server session enforces.

/// Limits of one server session. The defaults are RFC 5321's minimums (section 4.5.3.1) and
/// common practice for the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest command line, CRLF included (RFC 5321: 512 octets).
    pub command_line: usize,
    /// Longest text line inside DATA, CRLF included (RFC 5321: 1000 octets).
    pub text_line: usize,
    /// Largest message accepted, in octets; advertised as `SIZE n`. `None`: no limit.
    pub message_size: Option<u64>,
    /// Most recipients in one transaction (RFC 5321 asks servers to accept at least 100).
    pub recipients: usize,
    /// Bad commands tolerated in one session before the server answers 421 and closes.
    pub bad_commands: u32,
    /// NOOP, RSET, VRFY, EXPN and HELP commands answered in one session before each further
    /// one also counts as a bad command (Postfix's `smtpd_junk_command_limit`), so that the
    /// bad-command limit ends a session that only marks time.
    pub junk_commands: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            command_line: 512,
            text_line: 1000,
            message_size: Some(35 * 1024 * 1024),
            recipients: 100,
            bad_commands: 20,
            junk_commands: 100,
        }
    }
}
