//! The stand-in content of a simulated message: real headers (From, To, Subject,
//! Message-ID, a DKIM-Signature when signed) and a one-line body that says how big the message
//! it stands for is. Its `SIZE=` is the simulated size.

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
    let mut id_text = itoa::Buffer::new();
    let id_text = id_text.format(id).as_bytes();
    let mut s = Vec::with_capacity(320);
    for part in [
        b"From: <".as_slice(),
        from.as_bytes(),
        b">\r\nTo: <",
        to.as_bytes(),
        b">\r\nSubject: Simulated message ",
        id_text,
        b"\r\nMessage-ID: <",
        id_text,
        b"@",
        message_id_domain.as_bytes(),
        b">\r\n",
    ] {
        s.extend_from_slice(part);
    }
    if let Some((domain, selector)) = dkim {
        for part in [
            b"DKIM-Signature: v=1; a=rsa-sha256; d=".as_slice(),
            domain.as_bytes(),
            b"; s=",
            selector.as_bytes(),
            b"; h=from:to:subject; bh=simulated; b=simulated\r\n",
        ] {
            s.extend_from_slice(part);
        }
    }
    s.extend_from_slice(b"\r\nThis message stands for ");
    s.extend_from_slice(itoa::Buffer::new().format(size).as_bytes());
    s.extend_from_slice(b" bytes.");
    if altered {
        s.push(b' ');
        s.extend_from_slice(ALTERED.as_bytes());
    }
    s.extend_from_slice(b"\r\n");
    s
}

/// The facts, borrowed from the content (the From domain as written, not lowercased).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FactsRef<'a> {
    /// The domain of the visible `From:` address.
    pub from_domain: Option<&'a [u8]>,
    /// `d=` and `s=` of the DKIM-Signature header, if signed.
    pub dkim: Option<(&'a [u8], &'a [u8])>,
    /// Whether the body was altered after signing.
    pub altered: bool,
}

impl FactsRef<'_> {
    /// The facts, owned, with the From domain in lowercase.
    pub fn owned(self) -> ContentFacts {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        ContentFacts {
            from_domain: self.from_domain.map(|d| text(d).to_ascii_lowercase()),
            dkim: self.dkim.map(|(d, s)| (text(d), text(s))),
            altered: self.altered,
        }
    }
}

/// Reads the facts back from content built by [`build`] (or any message with such headers),
/// without allocating.
pub fn facts_ref(content: &[u8]) -> FactsRef<'_> {
    let mut facts = FactsRef::default();
    let mut rest = content;
    // Headers: up to the first empty line.
    while let Some(end) = memchr::memchr(b'\n', rest) {
        let line = &rest[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        rest = &rest[end + 1..];
        if line.is_empty() {
            break;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.eq_ignore_ascii_case(b"from") {
            let value = trim(value);
            let value = value.strip_prefix(b"<").unwrap_or(value);
            let value = value.strip_suffix(b">").unwrap_or(value);
            facts.from_domain = memchr::memrchr(b'@', value).map(|at| &value[at + 1..]);
        } else if name.eq_ignore_ascii_case(b"dkim-signature") {
            let tag = |wanted: &[u8]| {
                value.split(|b| *b == b';').find_map(|part| {
                    let eq = memchr::memchr(b'=', part)?;
                    (trim(&part[..eq]) == wanted).then(|| trim(&part[eq + 1..]))
                })
            };
            if let (Some(d), Some(s)) = (tag(b"d"), tag(b"s")) {
                facts.dkim = Some((d, s));
            }
        }
    }
    // Bodies here are one short line: a plain search beats setting up a searcher.
    facts.altered = rest.windows(ALTERED.len()).any(|w| w == ALTERED.as_bytes());
    facts
}

fn trim(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
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
        let f = facts_ref(&c).owned();
        assert_eq!(f.from_domain.as_deref(), Some("shop.example"));
        assert_eq!(f.dkim, Some(("shop.example".into(), "s1".into())));
        assert!(f.altered);
        let plain = build(
            8,
            "a@Shop.Example",
            "b@x.net",
            "shop.example",
            None,
            false,
            1,
        );
        let plain = facts_ref(&plain).owned();
        assert_eq!(plain.from_domain.as_deref(), Some("shop.example"));
        assert_eq!(plain.dkim, None);
        assert!(!plain.altered);
    }
}
