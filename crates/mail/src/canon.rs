//! Relaxed canonicalization (RFC 6376 section 3.4.2 and 3.4.4) and the two hashes a DKIM
//! signature covers, computed here so that a failed verification can show them: the body
//! hash (`bh=`) and the hash of the signed headers that `b=` signs.

use base64::Engine as _;
use sha2::Digest;

/// A message split at its first empty line.
pub fn split(message: &[u8]) -> (&[u8], &[u8]) {
    let mut start = 0;
    while start < message.len() {
        let end = message[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(message.len(), |i| start + i + 1);
        let line = &message[start..end];
        if line == b"\r\n" || line == b"\n" {
            return (&message[..start], &message[end..]);
        }
        start = end;
    }
    (message, &[])
}

/// The header fields of a header block, each with its continuation lines, as written.
pub fn fields(headers: &[u8]) -> Vec<&[u8]> {
    let mut fields: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    while start < headers.len() {
        let end = headers[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(headers.len(), |i| start + i + 1);
        match (headers[start], fields.last_mut()) {
            (b' ' | b'\t', Some(last)) => last.1 = end,
            _ => fields.push((start, end)),
        }
        start = end;
    }
    fields.into_iter().map(|(a, b)| &headers[a..b]).collect()
}

/// The name of a header field, as written.
pub fn name(field: &[u8]) -> &[u8] {
    let colon = field.iter().position(|&b| b == b':').unwrap_or(field.len());
    &field[..colon]
}

/// Whitespace runs as one space, none at either end.
fn squeeze(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut space = false;
    for &b in text {
        if b == b' ' || b == b'\t' {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(b' ');
            }
            space = false;
            out.push(b);
        }
    }
    out
}

/// One header field in relaxed form: `name:value\r\n`, the name in lowercase, the value
/// unfolded with whitespace squeezed.
pub fn relaxed_header(field: &[u8]) -> Vec<u8> {
    let colon = field.iter().position(|&b| b == b':').unwrap_or(field.len());
    let mut out: Vec<u8> = squeeze(&field[..colon]).to_ascii_lowercase();
    out.push(b':');
    let value: Vec<u8> = field[(colon + 1).min(field.len())..]
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect();
    out.extend(squeeze(&value));
    out.extend_from_slice(b"\r\n");
    out
}

/// The body in relaxed form: whitespace runs squeezed within lines and dropped at their
/// ends, empty lines at the end dropped, and a non-empty body ending in CRLF.
pub fn relaxed_body(body: &[u8]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for line in body.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut squeezed = Vec::with_capacity(line.len());
        let mut space = false;
        for &b in line {
            if b == b' ' || b == b'\t' {
                space = true;
            } else {
                if space {
                    squeezed.push(b' ');
                }
                space = false;
                squeezed.push(b);
            }
        }
        lines.push(squeezed);
    }
    while lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    let mut out = Vec::with_capacity(body.len());
    for line in lines {
        out.extend(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// SHA-256 in base64, as DKIM writes hashes.
pub fn sha256_b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(data))
}

/// The body hash of `message` under relaxed canonicalization, as `bh=` writes it.
pub fn body_hash(message: &[u8]) -> String {
    sha256_b64(&relaxed_body(split(message).1))
}

/// The hash `b=` signs: the header fields named in `h=` (each taken from the bottom up, as
/// RFC 6376 section 5.4.2 says), then the `DKIM-Signature` field itself with an empty `b=`
/// and no final CRLF, all in relaxed form. `signature` is that field, as written.
pub fn header_hash(message: &[u8], signature: &[u8]) -> String {
    sha256_b64(&signed_data(message, signature))
}

/// The bytes whose hash [`header_hash`] gives, which `b=` signs.
pub fn signed_data(message: &[u8], signature: &[u8]) -> Vec<u8> {
    let headers = fields(split(message).0);
    let mut used = vec![false; headers.len()];
    let mut data = Vec::new();
    let value = String::from_utf8_lossy(signature);
    let signed: Vec<String> = tag(&value, "h")
        .map(|h| {
            h.split(':')
                .map(|n| n.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    for wanted in &signed {
        let found = (0..headers.len()).rev().find(|&i| {
            !used[i]
                && String::from_utf8_lossy(name(headers[i]))
                    .trim()
                    .eq_ignore_ascii_case(wanted)
        });
        if let Some(i) = found {
            used[i] = true;
            data.extend(relaxed_header(headers[i]));
        }
    }
    let mut own = relaxed_header(&without_b(signature));
    own.truncate(own.len() - 2);
    data.extend(own);
    data
}

/// For each `DKIM-Signature` field of `message`, top down: its `a=` and its [`header_hash`].
/// Taken right after signing, these are what a later b= failure is compared with.
pub fn signature_hashes(message: &[u8]) -> Vec<(String, String)> {
    fields(split(message).0)
        .into_iter()
        .filter(|f| {
            String::from_utf8_lossy(name(f))
                .trim()
                .eq_ignore_ascii_case("dkim-signature")
        })
        .map(|f| {
            let algorithm = tag(&String::from_utf8_lossy(f), "a").unwrap_or_default();
            (algorithm, header_hash(message, f))
        })
        .collect()
}

/// A tag's value in a tag list, whitespace removed.
pub fn tag(list: &str, wanted: &str) -> Option<String> {
    let list = list.split_once(':').map_or(list, |(_, v)| v);
    list.split(';').find_map(|part| {
        let (name, value) = part.split_once('=')?;
        (name.trim() == wanted).then(|| value.split_whitespace().collect())
    })
}

/// The field with the value of its `b=` tag emptied (RFC 6376 section 3.7).
fn without_b(field: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(field);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_ref();
    let mut first = true;
    while !rest.is_empty() {
        let (part, tail) = match rest.find(';') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let is_b = part
            .split_once('=')
            .is_some_and(|(n, _)| n.trim() == "b" && !first);
        if is_b {
            let eq = part.find('=').expect("a tag has =");
            out.push_str(&part[..=eq]);
        } else {
            out.push_str(part);
        }
        first = false;
        out.push_str(&tail[..tail.len().min(1)]);
        rest = if tail.is_empty() { "" } else { &tail[1..] };
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relaxed_forms_follow_rfc_6376_examples() {
        // RFC 6376 section 3.4.6.
        let message = b"A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";
        let (headers, body) = split(message);
        let fields = fields(headers);
        assert_eq!(relaxed_header(fields[0]), b"a:X\r\n");
        assert_eq!(relaxed_header(fields[1]), b"b:Y Z\r\n");
        assert_eq!(relaxed_body(body), b" C\r\nD E\r\n");
        assert_eq!(relaxed_body(b""), b"");
    }

    #[test]
    fn the_b_tag_is_emptied_but_bh_is_kept() {
        let field = b"DKIM-Signature: v=1; bh=abc=; b=xyz\r\n\t=;\r\n";
        assert_eq!(
            without_b(field),
            b"DKIM-Signature: v=1; bh=abc=; b=;\r\n".to_vec()
        );
        assert_eq!(
            tag("DKIM-Signature: h=From:\r\n To", "h").unwrap(),
            "From:To"
        );
    }
}
