//! The stand-in content of a simulated message: real headers (From, To, Subject,
//! Message-ID, a DKIM-Signature when signed) and a one-line body that says how big the message
//! it stands for is. Its `SIZE=` is the simulated size.

use std::fmt::Write;

/// What the end-of-data check reads back from a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ContentFacts {
    /// The domain of the visible `From:` address.
    pub from_domain: Option<String>,
    /// `d=` and `s=` of the DKIM-Signature header, if signed.
    pub dkim: Option<(String, String)>,
    /// Whether the body was altered after signing.
    pub altered: bool,
}

/// The marker a body altered in transit carries.
pub const ALTERED: &str = "[altered in transit]";

/// Builds the content of message `id`.
#[allow(clippy::too_many_arguments)]
pub fn build(
    id: u64,
    from: &str,
    to: &str,
    message_id_domain: &str,
    dkim: Option<(&str, &str)>,
    altered: bool,
    size: u64,
) -> Vec<u8> {
    let mut s = String::with_capacity(320);
    let _ = write!(
        s,
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: Simulated message {id}\r\nMessage-ID: <{id}@{message_id_domain}>\r\n"
    );
    if let Some((domain, selector)) = dkim {
        let _ = write!(
            s,
            "DKIM-Signature: v=1; a=rsa-sha256; d={domain}; s={selector}; h=from:to:subject; bh=simulated; b=simulated\r\n"
        );
    }
    let _ = write!(s, "\r\nThis message stands for {size} bytes.");
    if altered {
        s.push(' ');
        s.push_str(ALTERED);
    }
    s.push_str("\r\n");
    s.into_bytes()
}

/// Reads the facts back from content built by [`build`] (or any message with such headers).
pub fn facts(content: &[u8]) -> ContentFacts {
    let text = String::from_utf8_lossy(content);
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut facts = ContentFacts {
        altered: body.contains(ALTERED),
        ..ContentFacts::default()
    };
    for line in headers.split("\r\n") {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("from") {
            facts.from_domain = value
                .trim()
                .trim_matches(|c| c == '<' || c == '>')
                .rsplit_once('@')
                .map(|(_, d)| d.to_ascii_lowercase());
        } else if name.eq_ignore_ascii_case("dkim-signature") {
            let tag = |t: &str| {
                value.split(';').find_map(|part| {
                    let (k, v) = part.split_once('=')?;
                    (k.trim() == t).then(|| v.trim().to_string())
                })
            };
            if let (Some(d), Some(s)) = (tag("d"), tag("s")) {
                facts.dkim = Some((d, s));
            }
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_come_back() {
        let c = build(
            7,
            "a@shop.example",
            "b@x.net",
            "shop.example",
            Some(("shop.example", "s1")),
            true,
            5000,
        );
        let f = facts(&c);
        assert_eq!(f.from_domain.as_deref(), Some("shop.example"));
        assert_eq!(f.dkim, Some(("shop.example".into(), "s1".into())));
        assert!(f.altered);
        let plain = facts(&build(
            8,
            "a@shop.example",
            "b@x.net",
            "shop.example",
            None,
            false,
            1,
        ));
        assert_eq!(plain.dkim, None);
        assert!(!plain.altered);
    }
}
