//! The decisions of a mail transaction, in the order a server takes them: the checks MAIL,
//! RCPT and DATA must pass (the session's own, then the [`Policy`]'s), the checks of the
//! content at its end, and the count of bad commands.
//!
//! [`ServerSession`](super::ServerSession) answers from here, and so does a driver that answers
//! for a session without the text (the simulator's fast path): both take every transaction
//! decision from these functions, so they cannot drift apart.
//!
//! ```
//! use smtpsim_proto::command::{Address, ForwardPath, Host, RcptParams};
//! use smtpsim_proto::server::transaction::{self, Answer};
//! use smtpsim_proto::server::{AcceptAll, Envelope, ServerConfig, SessionInfo};
//!
//! let config = ServerConfig::new("mx.example.net");
//! let info = SessionInfo { helo: Some("client.example".into()), ..SessionInfo::default() };
//! let mut envelope = Envelope::default();
//! envelope.recipients = vec!["x@example.net".to_string(); 100];
//! let to = ForwardPath::Mailbox(Address { local_part: "b", domain: Host::Domain("example.net") });
//! // The 101st recipient: the server's limit answers before the policy is asked.
//! let answer = transaction::rcpt(&config, &info, Some(&envelope), &to, &RcptParams::default(), &mut AcceptAll);
//! assert!(matches!(answer, Answer::Refuse(reply) if reply.code.get() == 452));
//! ```

use crate::command::{Address, BodyType, ForwardPath, Host, MailParams, RcptParams, ReversePath};
use crate::data::DataFault;
use crate::limits::Limits;
use crate::reply::Reply;

use super::replies;
use super::{Decision, Envelope, Policy, ServerConfig, SessionInfo};

/// The answer to one step of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The session's own checks passed and the policy was asked: its decision stands (with
    /// the step's usual positive reply on [`Decision::Accept`]).
    Policy(Decision),
    /// A command out of order or with a parameter that was not announced: answer with this
    /// reply and count a bad command ([`bad_command`]).
    Bad(Reply),
    /// The server's own refusal (a requirement or a limit): answer with this reply.
    Refuse(Reply),
}

impl Answer {
    /// Whether the step goes on (the policy accepted it).
    #[inline]
    pub fn accepted(&self) -> bool {
        matches!(
            self,
            Answer::Policy(Decision::Accept | Decision::AcceptWith(_))
        )
    }

    /// What the server says and does for this answer, counting a bad command in
    /// `bad_commands`: a refusal with 421 closes the connection, whether the policy asked to
    /// disconnect or not (RFC 5321 section 3.8), and so does a bad command past the limit.
    #[inline]
    pub fn settle(self, bad_commands: &mut u32, limits: &Limits) -> Settled {
        let (reply, accepted, closes) = match self {
            Answer::Policy(Decision::Accept) => (None, true, false),
            Answer::Policy(Decision::AcceptWith(reply)) => (Some(reply), true, false),
            Answer::Policy(Decision::Disconnect(reply)) => (Some(reply), false, true),
            Answer::Policy(Decision::Refuse(reply)) | Answer::Refuse(reply) => {
                let closes = closes(&reply);
                (Some(reply), false, closes)
            }
            Answer::Bad(reply) => {
                let (reply, closes) = bad_command(bad_commands, limits, reply);
                (Some(reply), false, closes)
            }
        };
        Settled {
            reply,
            accepted,
            closes,
        }
    }
}

/// What a server says and does for an [`Answer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The reply to send; `None`: the step's usual positive reply.
    pub reply: Option<Reply>,
    /// The step goes on.
    pub accepted: bool,
    /// The server closes the connection after the reply.
    pub closes: bool,
}

/// MAIL FROM: a client that has said HELO, with no transaction `open`, meeting the
/// server's requirements (TLS, AUTH), with parameters it announced, an ASCII sender or
/// SMTPUTF8, and a declared size within the limit; then the policy.
#[inline]
pub fn mail<P: Policy + ?Sized>(
    config: &ServerConfig,
    info: &SessionInfo,
    open: bool,
    from: &ReversePath<'_>,
    params: &MailParams<'_>,
    policy: &mut P,
) -> Answer {
    if info.helo.is_none() {
        return Answer::Bad(replies::NEED_HELO);
    }
    if open {
        return Answer::Bad(replies::NESTED_MAIL);
    }
    if config.require_tls && !info.tls {
        return Answer::Refuse(replies::TLS_REQUIRED);
    }
    if config.require_auth && info.authenticated.is_none() {
        return Answer::Refuse(replies::AUTH_REQUIRED);
    }
    if eight_bit(params) && !config.eight_bit_mime {
        return Answer::Bad(replies::NOT_ANNOUNCED_8BIT);
    }
    if params.smtputf8 && !config.smtputf8 {
        return Answer::Bad(replies::NOT_ANNOUNCED_UTF8);
    }
    if let ReversePath::Mailbox(address) = from
        && !params.smtputf8
        && !is_ascii(address)
    {
        return Answer::Refuse(replies::UTF8_ADDRESS);
    }
    if let (Some(declared), Some(max)) = (params.size, config.limits.message_size)
        && declared > max
    {
        return Answer::Refuse(replies::TOO_BIG);
    }
    Answer::Policy(policy.mail(info, from, params))
}

/// Whether MAIL declares 8-bit content (`BODY=8BITMIME` or `BINARYMIME`).
#[inline]
pub fn eight_bit(params: &MailParams<'_>) -> bool {
    matches!(
        params.body,
        Some(BodyType::EightBitMime | BodyType::BinaryMime)
    )
}

/// RCPT TO: a transaction open (`envelope`), fewer recipients accepted than the limit (past
/// it, `452 4.5.3`, RFC 5321 section 4.5.3.1.10), an ASCII address or SMTPUTF8; then the
/// policy.
#[inline]
pub fn rcpt<P: Policy + ?Sized>(
    config: &ServerConfig,
    info: &SessionInfo,
    envelope: Option<&Envelope>,
    to: &ForwardPath<'_>,
    params: &RcptParams<'_>,
    policy: &mut P,
) -> Answer {
    let Some(envelope) = envelope else {
        return Answer::Bad(replies::NEED_MAIL);
    };
    if envelope.recipients.len() >= config.limits.recipients {
        return Answer::Refuse(replies::TOO_MANY_RECIPIENTS);
    }
    if let ForwardPath::Mailbox(address) = to
        && !envelope.smtputf8
        && !is_ascii(address)
    {
        return Answer::Refuse(replies::UTF8_ADDRESS);
    }
    Answer::Policy(policy.rcpt(info, envelope, to, params))
}

/// Why a transaction cannot carry content now, if it cannot: no MAIL, or no recipient
/// accepted (`rcpt_attempts` says whether any RCPT was tried).
#[inline]
pub fn content_refusal(envelope: Option<&Envelope>, rcpt_attempts: usize) -> Option<Reply> {
    match envelope {
        None => Some(replies::NEED_MAIL),
        Some(envelope) if envelope.recipients.is_empty() => Some(if rcpt_attempts > 0 {
            replies::NO_VALID_RECIPIENTS
        } else {
            replies::NEED_RCPT
        }),
        Some(_) => None,
    }
}

/// DATA (or the first BDAT): a transaction with a recipient ([`content_refusal`]); then the
/// policy.
#[inline]
pub fn data<P: Policy + ?Sized>(
    info: &SessionInfo,
    envelope: Option<&Envelope>,
    rcpt_attempts: usize,
    policy: &mut P,
) -> Answer {
    if let Some(reply) = content_refusal(envelope, rcpt_attempts) {
        return Answer::Bad(reply);
    }
    match envelope {
        Some(envelope) => Answer::Policy(policy.data(info, envelope)),
        None => Answer::Bad(replies::NEED_MAIL),
    }
}

/// The server's own checks of a complete message of `size` octets whose reading found
/// `fault`; `None` when the policy is to judge it ([`Policy::message`]).
#[inline]
pub fn content_check(config: &ServerConfig, size: u64, fault: Option<DataFault>) -> Option<Reply> {
    let too_big = config.limits.message_size.is_some_and(|max| size > max);
    match fault {
        _ if too_big => Some(replies::TOO_BIG),
        Some(DataFault::BareLineEnding) => Some(replies::BARE_LINE_ENDING),
        Some(DataFault::LineTooLong) => Some(replies::TEXT_LINE_TOO_LONG),
        Some(DataFault::TooBig) => Some(replies::TOO_BIG),
        None => None,
    }
}

/// Counts a bad command answered with `reply`; returns the reply to send and whether the
/// server closes the connection: past the limit it answers `421 4.7.0` instead.
#[inline]
pub fn bad_command(count: &mut u32, limits: &Limits, reply: Reply) -> (Reply, bool) {
    *count += 1;
    if *count > limits.bad_commands {
        (replies::TOO_MANY_ERRORS, true)
    } else {
        (reply, false)
    }
}

/// Whether a reply says the server is closing the connection: a 421 (RFC 5321 section 3.8),
/// whether the policy asked to disconnect or not.
#[inline]
pub fn closes(reply: &Reply) -> bool {
    reply.code.get() == 421
}

/// Whether an address is ASCII throughout (else it needs SMTPUTF8).
#[inline(always)]
pub fn is_ascii(address: &Address<'_>) -> bool {
    let high = |text: &str| high_bits(text.as_bytes());
    let bits = high(address.local_part)
        | match address.domain {
            Host::Domain(domain) => high(domain),
            Host::General { tag, content } => high(tag) | high(content),
            Host::Ipv4(_) | Host::Ipv6(_) => 0,
        };
    bits & 0x80 == 0
}

/// Whether `text` is ASCII throughout, as [`is_ascii`] judges an address's parts.
#[inline(always)]
pub fn is_ascii_text(text: &str) -> bool {
    high_bits(text.as_bytes()) & 0x80 == 0
}

/// Every byte of `bytes` OR-ed together, or a value with the same high bit: addresses are
/// short, so eight bytes are read at a time as overlapping words rather than byte by byte.
#[inline(always)]
fn high_bits(bytes: &[u8]) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let n = bytes.len();
    let word = |chunk: &[u8]| u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
    if (8..=16).contains(&n) {
        // Most local parts and domains: the first eight and the last eight cover them, with
        // no loop to set up.
        u64::from((word(&bytes[..8]) | word(&bytes[n - 8..])) & HIGH != 0) << 7
    } else if n > 16 {
        // Eight at a time from the start, and the last eight for what is left over.
        let mut bits = word(&bytes[n - 8..]);
        for chunk in bytes.chunks_exact(8) {
            bits |= word(chunk);
        }
        u64::from(bits & HIGH != 0) << 7
    } else if n >= 4 {
        let half = |chunk: &[u8]| u32::from_le_bytes(chunk.try_into().unwrap_or([0; 4]));
        u64::from((half(&bytes[..4]) | half(&bytes[n - 4..])) & 0x8080_8080 != 0) << 7
    } else {
        bytes.iter().fold(0, |acc, &b| acc | u64::from(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::AcceptAll;

    fn greeted() -> SessionInfo {
        SessionInfo {
            helo: Some("client.example".into()),
            ..SessionInfo::default()
        }
    }

    fn to(local_part: &str) -> ForwardPath<'_> {
        ForwardPath::Mailbox(Address {
            local_part,
            domain: Host::Domain("example.net"),
        })
    }

    #[test]
    fn mail_checks_come_in_order_before_the_policy() {
        let mut config = ServerConfig::new("mx");
        config.require_tls = true;
        config.require_auth = true;
        let from = ReversePath::Null;
        let params = MailParams::default();
        let answer = |config: &ServerConfig, info: &SessionInfo, open| {
            mail(config, info, open, &from, &params, &mut AcceptAll)
        };
        let info = SessionInfo::default();
        assert_eq!(
            answer(&config, &info, true),
            Answer::Bad(replies::NEED_HELO)
        );
        let mut info = greeted();
        assert_eq!(
            answer(&config, &info, true),
            Answer::Bad(replies::NESTED_MAIL)
        );
        assert_eq!(
            answer(&config, &info, false),
            Answer::Refuse(replies::TLS_REQUIRED)
        );
        info.tls = true;
        assert_eq!(
            answer(&config, &info, false),
            Answer::Refuse(replies::AUTH_REQUIRED)
        );
        info.authenticated = Some("u".into());
        assert!(answer(&config, &info, false).accepted());
    }

    #[test]
    fn the_recipient_limit_answers_452_before_the_policy() {
        struct Refuses;
        impl Policy for Refuses {
            fn rcpt(
                &mut self,
                _: &SessionInfo,
                _: &Envelope,
                _: &ForwardPath<'_>,
                _: &RcptParams<'_>,
            ) -> Decision {
                Decision::refuse(550, (5, 1, 1), "No such user")
            }
        }
        let mut config = ServerConfig::new("mx");
        config.limits.recipients = 2;
        let mut envelope = Envelope::default();
        let params = RcptParams::default();
        let answer = |envelope: &Envelope| {
            rcpt(
                &config,
                &greeted(),
                Some(envelope),
                &to("b"),
                &params,
                &mut Refuses,
            )
        };
        assert!(
            matches!(answer(&envelope), Answer::Policy(Decision::Refuse(r)) if r.code.get() == 550)
        );
        envelope.recipients = vec!["a@example.net".into(); 2];
        assert_eq!(
            answer(&envelope),
            Answer::Refuse(replies::TOO_MANY_RECIPIENTS)
        );
        assert_eq!(
            rcpt(&config, &greeted(), None, &to("b"), &params, &mut Refuses),
            Answer::Bad(replies::NEED_MAIL)
        );
    }

    #[test]
    fn content_needs_a_transaction_with_a_recipient() {
        let mut envelope = Envelope::default();
        let info = greeted();
        assert_eq!(
            data(&info, None, 0, &mut AcceptAll),
            Answer::Bad(replies::NEED_MAIL)
        );
        assert_eq!(
            data(&info, Some(&envelope), 0, &mut AcceptAll),
            Answer::Bad(replies::NEED_RCPT)
        );
        assert_eq!(
            data(&info, Some(&envelope), 3, &mut AcceptAll),
            Answer::Bad(replies::NO_VALID_RECIPIENTS)
        );
        envelope.recipients.push("b@example.net".into());
        assert!(data(&info, Some(&envelope), 1, &mut AcceptAll).accepted());
    }

    #[test]
    fn bad_commands_past_the_limit_close() {
        let limits = Limits {
            bad_commands: 2,
            ..Limits::default()
        };
        let mut count = 0;
        for _ in 0..2 {
            assert_eq!(
                bad_command(&mut count, &limits, replies::NEED_MAIL),
                (replies::NEED_MAIL, false)
            );
        }
        assert_eq!(
            bad_command(&mut count, &limits, replies::NEED_MAIL),
            (replies::TOO_MANY_ERRORS, true)
        );
    }

    #[test]
    fn ascii_addresses() {
        let address = |local_part, domain| Address {
            local_part,
            domain: Host::Domain(domain),
        };
        assert!(is_ascii(&address("user.name+tag", "example.net")));
        assert!(!is_ascii(&address("jörg", "example.net")));
        assert!(!is_ascii(&address("user", "bücher.example")));
        let general = Address {
            local_part: "a",
            domain: Host::General {
                tag: "IPv6",
                content: "::1",
            },
        };
        assert!(is_ascii(&general));
    }

    #[test]
    fn ascii_text_of_every_length_and_position() {
        for n in 0..40 {
            let plain = "a".repeat(n);
            assert!(is_ascii_text(&plain), "{n}");
            for at in 0..n {
                let mut text = "a".repeat(at);
                text.push('\u{e9}');
                text.push_str(&"a".repeat(n - at - 1));
                assert!(!is_ascii_text(&text), "{text:?}");
                assert_eq!(is_ascii_text(&text), text.is_ascii());
            }
        }
    }

    #[test]
    fn content_checks_size_then_faults() {
        let mut config = ServerConfig::new("mx");
        config.limits.message_size = Some(10);
        assert_eq!(content_check(&config, 10, None), None);
        assert_eq!(
            content_check(&config, 11, Some(DataFault::BareLineEnding)),
            Some(replies::TOO_BIG)
        );
        assert_eq!(
            content_check(&config, 5, Some(DataFault::LineTooLong)),
            Some(replies::TEXT_LINE_TOO_LONG)
        );
    }
}
