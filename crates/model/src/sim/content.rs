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

/// What a delivery's content is made of; [`Source::build`] makes it, only when an exchange
/// gets as far as the content.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    pub id: u64,
    pub from: &'a str,
    pub to: &'a str,
    pub message_id_domain: &'a str,
    pub dkim: Option<(&'a str, &'a str)>,
    pub altered: bool,
    pub size: u64,
}

impl Source<'_> {
    /// The content, as [`build`] makes it.
    pub fn build(&self) -> Vec<u8> {
        build(
            self.id,
            self.from,
            self.to,
            self.message_id_domain,
            self.dkim,
            self.altered,
            self.size,
        )
    }
}

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
    /// The `Message-ID:` as its two halves (`id@domain`, without angle brackets).
    pub message_id: Option<(&'a [u8], &'a [u8])>,
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
    let mut start = 0;
    let mut body = content.len();
    // Headers, line by line, up to the first empty line. Lines are short: a plain loop beats
    // setting up a vectorised search for each.
    while start < content.len() {
        let end = content[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(content.len(), |i| start + i);
        let line = &content[start..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        start = end + 1;
        if line.is_empty() {
            body = start.min(content.len());
            break;
        }
        match line.first().map(u8::to_ascii_lowercase) {
            Some(b'f') if line.len() > 5 && line[..5].eq_ignore_ascii_case(b"from:") => {
                let value = trim(&line[5..]);
                let value = value.strip_prefix(b"<").unwrap_or(value);
                let value = value.strip_suffix(b">").unwrap_or(value);
                facts.from_domain = value
                    .iter()
                    .rposition(|&b| b == b'@')
                    .map(|at| &value[at + 1..]);
            }
            Some(b'd')
                if line.len() > 15 && line[..15].eq_ignore_ascii_case(b"dkim-signature:") =>
            {
                facts.dkim = dkim_tags(&line[15..]);
            }
            Some(b'm') if line.len() > 11 && line[..11].eq_ignore_ascii_case(b"message-id:") => {
                let value = trim(&line[11..]);
                let value = value.strip_prefix(b"<").unwrap_or(value);
                let value = value.strip_suffix(b">").unwrap_or(value);
                facts.message_id = Some(match value.iter().rposition(|&b| b == b'@') {
                    Some(at) => (&value[..at], &value[at + 1..]),
                    None => (value, &value[value.len()..]),
                });
            }
            _ => {}
        }
    }
    // Bodies here are one short line.
    facts.altered = content[body..]
        .windows(ALTERED.len())
        .any(|w| w == ALTERED.as_bytes());
    facts
}

/// `d=` and `s=` of a DKIM-Signature header value, in one pass over its tags.
fn dkim_tags(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let (mut d, mut s) = (None, None);
    for tag in value.split(|&b| b == b';') {
        let Some(eq) = tag.iter().position(|&b| b == b'=') else {
            continue;
        };
        match trim(&tag[..eq]) {
            b"d" => d = Some(trim(&tag[eq + 1..])),
            b"s" => s = Some(trim(&tag[eq + 1..])),
            _ => {}
        }
    }
    Some((d?, s?))
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
        let r = facts_ref(&c);
        assert_eq!(r.message_id, Some((&b"7"[..], &b"shop.example"[..])));
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
