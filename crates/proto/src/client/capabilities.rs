//! What a server offers in its EHLO reply.

use crate::command::{BodyType, MailParams};
use crate::reply::{RawReply, Reply};
use crate::server::ServerConfig;

/// The ESMTP extensions a server advertised (RFC 5321 section 4.1.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// PIPELINING (RFC 2920).
    pub pipelining: bool,
    /// SIZE, with the limit if one was given (RFC 1870); `Some(0)` means no fixed limit.
    pub size: Option<u64>,
    /// 8BITMIME (RFC 6152).
    pub eight_bit_mime: bool,
    /// ENHANCEDSTATUSCODES (RFC 2034).
    pub enhanced_status_codes: bool,
    /// STARTTLS (RFC 3207).
    pub starttls: bool,
    /// AUTH offers PLAIN (RFC 4954, RFC 4616).
    pub auth_plain: bool,
    /// AUTH offers LOGIN.
    pub auth_login: bool,
    /// SMTPUTF8 (RFC 6531).
    pub smtputf8: bool,
    /// CHUNKING (RFC 3030).
    pub chunking: bool,
}

impl Capabilities {
    /// Reads the capabilities from a positive EHLO reply (the first line is the greeting).
    pub fn from_ehlo(reply: &Reply) -> Capabilities {
        Capabilities::from_lines(reply.lines().map(str::as_bytes))
    }

    /// What a client reads from the EHLO reply of a server configured as `config`, on a
    /// connection whose TLS state is `tls` (as [`Capabilities::from_ehlo`] on
    /// [`ServerConfig::ehlo_text`], without the text).
    #[inline]
    pub fn offered_by(config: &ServerConfig, tls: bool) -> Capabilities {
        Capabilities {
            pipelining: config.pipelining,
            size: Some(config.limits.message_size.unwrap_or(0)),
            eight_bit_mime: config.eight_bit_mime,
            enhanced_status_codes: config.enhanced_status_codes,
            starttls: config.starttls && !tls,
            auth_plain: config.offers_auth(tls),
            auth_login: config.offers_auth(tls),
            smtputf8: config.smtputf8,
            chunking: config.chunking,
        }
    }

    /// The MAIL FROM parameters a client gives this server for a message declared as
    /// `size` octets: `SIZE=` when SIZE is offered, `BODY=8BITMIME` for `eight_bit` content
    /// when offered, `SMTPUTF8` for `utf8` addresses when offered.
    #[inline]
    pub fn mail_params(&self, size: u64, eight_bit: bool, utf8: bool) -> MailParams<'static> {
        MailParams {
            size: self.size.is_some().then_some(size),
            body: (self.eight_bit_mime && eight_bit).then_some(BodyType::EightBitMime),
            smtputf8: utf8 && self.smtputf8,
            ..MailParams::default()
        }
    }

    /// [`Capabilities::from_ehlo`] on a reply as it arrived, without copying its text.
    pub fn from_raw_ehlo(reply: &RawReply<'_>) -> Capabilities {
        Capabilities::from_lines(reply.text_lines())
    }

    /// Reads the keyword lines; the first line (the greeting) is skipped.
    fn from_lines<'a>(lines: impl Iterator<Item = &'a [u8]>) -> Capabilities {
        let mut caps = Capabilities::default();
        for line in lines.skip(1) {
            let line = line.trim_ascii_start();
            let end = line
                .iter()
                .position(u8::is_ascii_whitespace)
                .unwrap_or(line.len());
            let (keyword, rest) = line.split_at(end);
            if keyword.is_empty() {
                continue;
            }
            let words = || {
                rest.split(u8::is_ascii_whitespace)
                    .filter(|word| !word.is_empty())
            };
            // Servers write keywords in capitals: an exact comparison settles most.
            let is = |name: &[u8]| keyword == name || keyword.eq_ignore_ascii_case(name);
            // Compared by length first: most keywords are ruled out without a look at a byte.
            match keyword.len() {
                10 if is(b"PIPELINING") => caps.pipelining = true,
                4 if is(b"SIZE") => {
                    caps.size = Some(words().next().and_then(parse_u64).unwrap_or(0));
                }
                4 if is(b"AUTH") => {
                    for mechanism in words() {
                        caps.auth_plain |= mechanism.eq_ignore_ascii_case(b"PLAIN");
                        caps.auth_login |= mechanism.eq_ignore_ascii_case(b"LOGIN");
                    }
                }
                8 if is(b"8BITMIME") => caps.eight_bit_mime = true,
                8 if is(b"STARTTLS") => caps.starttls = true,
                8 if is(b"SMTPUTF8") => caps.smtputf8 = true,
                8 if is(b"CHUNKING") => caps.chunking = true,
                19 if is(b"ENHANCEDSTATUSCODES") => caps.enhanced_status_codes = true,
                _ => {}
            }
        }
        caps
    }
}

/// A decimal number as `str::parse::<u64>` reads it (an optional `+`, then digits, no
/// overflow).
fn parse_u64(word: &[u8]) -> Option<u64> {
    std::str::from_utf8(word).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_typical_ehlo_reply() {
        let reply = Reply::new_static(
            250,
            None,
            "mx.example.net greets you\nPIPELINING\nSIZE 35882577\n8BITMIME\nauth login Plain\nSTARTTLS\nENHANCEDSTATUSCODES\nSMTPUTF8\nCHUNKING",
        );
        let caps = Capabilities::from_ehlo(&reply);
        assert_eq!(
            caps,
            Capabilities {
                pipelining: true,
                size: Some(35882577),
                eight_bit_mime: true,
                enhanced_status_codes: true,
                starttls: true,
                auth_plain: true,
                auth_login: true,
                smtputf8: true,
                chunking: true,
            }
        );
    }

    #[test]
    fn raw_and_owned_replies_give_the_same_capabilities() {
        let bytes = b"250-2.0.0 mx.example.net\r\n250-2.0.0 PIPELINING\r\n250-SIZE 1000\r\n250-AUTH\tLOGIN\r\n250 2.0.0 \xffSTARTTLS\r\n";
        let (raw, _) = crate::reply::parse_reply_raw(bytes).unwrap().unwrap();
        let owned = raw.to_reply();
        let caps = Capabilities::from_raw_ehlo(&raw);
        assert_eq!(caps, Capabilities::from_ehlo(&owned));
        assert!(caps.pipelining && caps.auth_login && !caps.starttls);
        assert_eq!(caps.size, Some(1000));
    }

    #[test]
    fn the_greeting_line_is_not_a_capability() {
        let reply = Reply::new_static(250, None, "PIPELINING");
        assert_eq!(Capabilities::from_ehlo(&reply), Capabilities::default());
    }

    /// What a client reads from a server's EHLO reply is what the configuration says it offers,
    /// for every mix of options.
    #[test]
    fn offered_by_matches_the_ehlo_reply() {
        for bits in 0u32..1 << 9 {
            let config = crate::server::tests::config_of_bits("mx.example", bits);
            for tls in [false, true] {
                let reply = Reply::new_static(250, None, "").with_text(config.ehlo_text(tls, "c"));
                assert_eq!(
                    Capabilities::offered_by(&config, tls),
                    Capabilities::from_ehlo(&reply),
                    "{config:?} tls {tls}"
                );
            }
        }
    }
}
