//! Changes a person makes to a message after it was signed, as a list or a forwarder would:
//! a header field replaced, a line added to the body. The teaching tools (`repl`,
//! `converse`) make them on request, so that verification shows which hash broke.

use crate::canon;

/// `message` with the first header field called like `field`'s name (with its continuation
/// lines) replaced by `field` (`Subject: New`), or `field` added at the end of the header
/// when there is none.
pub fn set_header(message: &[u8], field: &str) -> Result<Vec<u8>, String> {
    let Some((name, _)) = field.split_once(':').filter(|(n, _)| valid_name(n)) else {
        return Err(format!(
            "{field:?} is not a header field such as \"Subject: New subject\""
        ));
    };
    let (headers, body) = canon::split(message);
    let mut out = Vec::with_capacity(message.len() + field.len() + 2);
    let mut replaced = false;
    for f in canon::fields(headers) {
        let same = String::from_utf8_lossy(canon::name(f))
            .trim()
            .eq_ignore_ascii_case(name.trim());
        if same && !replaced {
            out.extend_from_slice(field.as_bytes());
            out.extend_from_slice(b"\r\n");
            replaced = true;
        } else {
            out.extend_from_slice(f);
        }
    }
    if !replaced {
        out.extend_from_slice(field.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    Ok(out)
}

/// `message` with `line` added at the end of its body.
pub fn add_body_line(message: &[u8], line: &str) -> Vec<u8> {
    let mut out = message.to_vec();
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] = b"From: <a@shop.example>\r\nSubject: Hi\r\n there\r\n\r\nBody\r\n";

    #[test]
    fn a_header_is_replaced_with_its_continuation_or_added() {
        let changed = set_header(MESSAGE, "subject: New").unwrap();
        assert_eq!(
            changed,
            b"From: <a@shop.example>\r\nsubject: New\r\n\r\nBody\r\n"
        );
        let added = set_header(MESSAGE, "X-List: yes").unwrap();
        assert!(added.ends_with(b" there\r\nX-List: yes\r\n\r\nBody\r\n"));
        assert!(set_header(MESSAGE, "no colon").is_err());
        assert!(set_header(MESSAGE, ": empty name").is_err());
    }

    #[test]
    fn a_body_line_goes_at_the_end() {
        assert!(add_body_line(MESSAGE, "PS").ends_with(b"Body\r\nPS\r\n"));
        assert_eq!(
            add_body_line(b"A: b\r\n\r\nno end", "x"),
            b"A: b\r\n\r\nno end\r\nx\r\n"
        );
    }
}
