//! The short explanation printed under each reply, taken from the protocol core's catalogue.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use smtpsim_proto::Reply;
use smtpsim_proto::codes::{self, Retry};

/// A few lines on what `reply` means: the catalogue's meaning of its code and of its enhanced
/// code, what a sender does about it when it is a failure, and, for an AUTH challenge, what the
/// challenge says once decoded.
pub(crate) fn explain(reply: &Reply) -> Vec<String> {
    let mut lines = Vec::new();
    let code = reply.code;
    match codes::reply_code(code) {
        Some(info) => lines.push(format!("{code} {}: {}", info.name, info.meaning)),
        None => lines.push(format!(
            "{code}: {}",
            codes::reply_class(code.class()).unwrap_or("unknown class")
        )),
    }
    // `X.0.0` says nothing the basic code does not.
    if let Some(enhanced) = reply.enhanced.filter(|e| (e.subject, e.detail) != (0, 0)) {
        match codes::enhanced_code(enhanced) {
            Some(info) => lines.push(format!(
                "{enhanced} {}: {}",
                info.name,
                info.wording(enhanced.class).meaning
            )),
            None => lines.push(format!(
                "{enhanced}: {}",
                codes::enhanced_subject(enhanced.subject).unwrap_or("unassigned subject")
            )),
        }
    }
    if code.get() == 250 {
        lines.extend(reply.lines().skip(1).filter_map(extension));
    }
    let retry = Retry::for_code(code);
    if matches!(retry, Retry::Later | Retry::Never) {
        lines.push(format!(
            "Retry: {} - {}",
            retry.label(),
            retry.description()
        ));
    }
    if code.get() == 334 {
        let challenge = reply.lines().next().unwrap_or("").trim();
        if challenge.is_empty() {
            lines.push(
                "The empty challenge asks for the whole AUTH PLAIN response: base64 of \
                 \"\\0user\\0password\"."
                    .to_string(),
            );
        } else if let Ok(bytes) = BASE64.decode(challenge)
            && let Ok(text) = String::from_utf8(bytes)
        {
            lines.push(format!("The challenge {challenge} is base64 for {text:?}."));
        }
    }
    lines
}

/// What an extension keyword of an EHLO reply offers, for the keywords the engine sends.
fn extension(line: &str) -> Option<String> {
    let keyword = line.split_whitespace().next()?;
    let what = match keyword.to_ascii_uppercase().as_str() {
        "PIPELINING" => "several commands may be sent without waiting for each reply (RFC 2920)",
        "SIZE" => "MAIL FROM may declare the message size, checked against the limit (RFC 1870)",
        "8BITMIME" => "the message may hold 8-bit text: MAIL FROM ... BODY=8BITMIME (RFC 6152)",
        "ENHANCEDSTATUSCODES" => "replies carry a detailed code such as 2.1.0 (RFC 2034)",
        "STARTTLS" => "the connection can be encrypted: STARTTLS, then EHLO again (RFC 3207)",
        "AUTH" => "the client may log in with one of the listed mechanisms (RFC 4954)",
        "SMTPUTF8" => "addresses may hold non-ASCII characters (RFC 6531)",
        "CHUNKING" => "BDAT may carry the message in sized chunks instead of DATA (RFC 3030)",
        _ => return None,
    };
    Some(format!("{line}: {what}."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use smtpsim_proto::EnhancedCode;

    #[test]
    fn a_refusal_gets_both_codes_and_the_retry_advice() {
        let reply = Reply::new_static(550, Some(EnhancedCode::new(5, 1, 1)), "no such user");
        let lines = explain(&reply);
        assert!(lines[0].starts_with("550 Mailbox unavailable: "));
        assert!(lines[1].starts_with("5.1.1 Bad destination mailbox address: "));
        assert!(lines[2].starts_with("Retry: never"));
    }

    #[test]
    fn a_login_challenge_is_decoded() {
        let reply = Reply::new_static(334, None, "VXNlcm5hbWU6");
        let lines = explain(&reply);
        assert_eq!(lines.len(), 2);
        assert!(lines[1].contains("\"Username:\""), "{lines:?}");
    }

    #[test]
    fn the_extensions_of_an_ehlo_reply_are_explained() {
        let reply = Reply::new_static(250, None, "mx greets c\nPIPELINING\nAUTH PLAIN LOGIN\nXFOO");
        let lines = explain(&reply);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[1].starts_with("PIPELINING: several commands"));
        assert!(lines[2].starts_with("AUTH PLAIN LOGIN: the client may log in"));
    }

    #[test]
    fn success_needs_no_retry_advice() {
        let reply = Reply::new_static(250, Some(EnhancedCode::new(2, 1, 0)), "Sender OK");
        let lines = explain(&reply);
        assert_eq!(lines.len(), 2);
    }
}
