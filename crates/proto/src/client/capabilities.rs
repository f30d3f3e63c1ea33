//! What a server offers in its EHLO reply.

use crate::reply::Reply;

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
        let mut caps = Capabilities::default();
        for line in reply.lines().skip(1) {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            let is = |name: &str| keyword.eq_ignore_ascii_case(name);
            if is("PIPELINING") {
                caps.pipelining = true;
            } else if is("SIZE") {
                caps.size = Some(words.next().and_then(|n| n.parse().ok()).unwrap_or(0));
            } else if is("8BITMIME") {
                caps.eight_bit_mime = true;
            } else if is("ENHANCEDSTATUSCODES") {
                caps.enhanced_status_codes = true;
            } else if is("STARTTLS") {
                caps.starttls = true;
            } else if is("AUTH") {
                for mechanism in words {
                    caps.auth_plain |= mechanism.eq_ignore_ascii_case("PLAIN");
                    caps.auth_login |= mechanism.eq_ignore_ascii_case("LOGIN");
                }
            } else if is("SMTPUTF8") {
                caps.smtputf8 = true;
            } else if is("CHUNKING") {
                caps.chunking = true;
            }
        }
        caps
    }
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
    fn the_greeting_line_is_not_a_capability() {
        let reply = Reply::new_static(250, None, "PIPELINING");
        assert_eq!(Capabilities::from_ehlo(&reply), Capabilities::default());
    }
}
