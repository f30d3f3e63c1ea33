//! [`explain`]: reading a code or reply line and reporting what it means.

use std::fmt;

use super::{
    CodeInfo, EnhancedInfo, Retry, enhanced_class, enhanced_code, enhanced_subject,
    enhanced_subject_meaning, reply_category, reply_class, reply_code,
};
use crate::reply::{EnhancedCode, ReplyCode};

/// Why [`explain`] did not understand its input.
///
/// A well-formed code that the catalogue does not list (such as `599` or `5.7.510`) is not an
/// error: [`explain`] still explains it from its class and subject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    /// The input was empty or only whitespace.
    #[error("nothing to explain: the input is empty")]
    Empty,
    /// The input starts with neither a three-digit reply code nor an enhanced status code.
    #[error(
        "`{0}` is not a reply code (three digits, such as 550) or an enhanced status code \
         (such as 5.1.1)"
    )]
    NotACode(String),
    /// Three digits, but outside `200..=599`.
    #[error("reply code {0} is outside 200..=599")]
    OutOfRange(u16),
    /// Shaped like `X.Y.Z` but not a valid enhanced status code.
    #[error(
        "`{0}` is not a valid enhanced status code: the class must be 2, 4 or 5, and the \
         subject and detail one to three digits"
    )]
    BadEnhanced(String),
}

/// What [`explain`] found in its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The three-digit reply code, if the input had one.
    pub code_value: Option<ReplyCode>,
    /// The catalogue entry for [`Explanation::code_value`]; `None` if there was no code or the
    /// catalogue does not list it.
    pub code: Option<&'static CodeInfo>,
    /// The enhanced status code, if the input had one, with its catalogue entry if listed.
    pub enhanced: Option<(EnhancedCode, Option<&'static EnhancedInfo>)>,
    /// The reply text after the code(s), trimmed; empty if there was none.
    pub text: String,
    /// What a sender does. The basic code decides when there is one (senders act on it, RFC
    /// 5321); otherwise the enhanced code's class.
    pub retry: Retry,
    /// `false` when both codes are present and the enhanced code's class differs from the
    /// basic code's first digit (such as `550 4.1.1`), which is a server misconfiguration.
    pub consistent: bool,
}

impl Explanation {
    /// The catalogue entry of the enhanced code, if there is one.
    pub fn enhanced_info(&self) -> Option<&'static EnhancedInfo> {
        self.enhanced.and_then(|(_, info)| info)
    }

    /// Whether the enhanced code is catalogued but not normally used with its class (such as
    /// `2.1.1`, a success code about a mailbox that does not exist).
    pub fn unusual_class(&self) -> bool {
        match self.enhanced {
            Some((code, Some(info))) => !info.used_with(code.class),
            _ => false,
        }
    }
}

/// Explains a reply code, an enhanced status code, or a reply line.
///
/// Accepted forms (surrounding whitespace is ignored; of several lines only the first counts):
///
/// - `550`: a reply code alone;
/// - `5.1.1`, or `5.1.1 some text`: an enhanced code alone;
/// - `550 5.1.1` or `550-5.1.1` (a continuation line), each optionally followed by text;
/// - a whole reply line such as `421 4.7.28 Our system has detected an unusual rate ...`;
/// - `550 some text` (text that does not start with `X.Y.Z`, such as an IP address, is text);
/// - lines copied from a bounce (RFC 3464): `Diagnostic-Code: smtp; 550 5.1.1 ...` and
///   `Status: 5.1.1` (the labels and the `smtp;` type are ignored, in any letter case).
///
/// A code the catalogue does not list still gets an explanation from its class (and, for
/// enhanced codes, its subject); only input that is not a code at all is an error.
///
/// # Errors
///
/// [`ExplainError::Empty`] for blank input, [`ExplainError::NotACode`] when the input does not
/// start with a code, [`ExplainError::OutOfRange`] for three digits outside `200..=599`, and
/// [`ExplainError::BadEnhanced`] for an `X.Y.Z` that is not a valid enhanced code (such as
/// `6.1.1`).
pub fn explain(input: &str) -> Result<Explanation, ExplainError> {
    let parsed = parse_input(input)?;
    let enhanced = parsed.enhanced.map(|code| (code, enhanced_code(code)));
    let retry = match (parsed.code, parsed.enhanced) {
        (Some(code), _) => Retry::for_code(code),
        // `EnhancedCode::parse` admits only classes 2, 4 and 5.
        (None, Some(code)) => Retry::for_class(code.class).unwrap_or(Retry::Never),
        (None, None) => Retry::Never,
    };
    let consistent = match (parsed.code, parsed.enhanced) {
        (Some(code), Some(enhanced)) => code.class() == enhanced.class,
        _ => true,
    };
    Ok(Explanation {
        code_value: parsed.code,
        code: parsed.code.and_then(reply_code),
        enhanced,
        text: parsed.text.to_owned(),
        retry,
        consistent,
    })
}

/// The codes and text found in [`explain`]'s input; at least one code is present.
#[derive(Debug, PartialEq, Eq)]
struct Parsed<'a> {
    code: Option<ReplyCode>,
    enhanced: Option<EnhancedCode>,
    text: &'a str,
}

fn parse_input(input: &str) -> Result<Parsed<'_>, ExplainError> {
    let line = strip_dsn_labels(input.trim().lines().next().unwrap_or("").trim());
    if line.is_empty() {
        return Err(ExplainError::Empty);
    }
    let bytes = line.as_bytes();
    if bytes.len() >= 3
        && bytes[..3].iter().all(u8::is_ascii_digit)
        && matches!(bytes.get(3), None | Some(b' ' | b'\t' | b'-'))
    {
        let value = bytes[..3]
            .iter()
            .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'));
        let code = ReplyCode::new(value).ok_or(ExplainError::OutOfRange(value))?;
        let rest = line.get(4..).unwrap_or("");
        let (token, after) = split_token(rest);
        let token = trim_punctuation(token);
        if looks_enhanced(token) {
            let enhanced = EnhancedCode::parse(token)
                .ok_or_else(|| ExplainError::BadEnhanced(token.to_owned()))?;
            return Ok(Parsed {
                code: Some(code),
                enhanced: Some(enhanced),
                text: after.trim(),
            });
        }
        return Ok(Parsed {
            code: Some(code),
            enhanced: None,
            text: rest.trim(),
        });
    }
    let (token, after) = split_token(line);
    let token = trim_punctuation(token);
    if token.contains('.') && token.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let enhanced = EnhancedCode::parse(token)
            .ok_or_else(|| ExplainError::BadEnhanced(token.to_owned()))?;
        return Ok(Parsed {
            code: None,
            enhanced: Some(enhanced),
            text: after.trim(),
        });
    }
    Err(ExplainError::NotACode(token.to_owned()))
}

/// Strips the labels of delivery status notification fields: `Diagnostic-Code:` or `Status:`,
/// then a `smtp;` diagnostic type.
fn strip_dsn_labels(line: &str) -> &str {
    let mut line = line;
    for label in ["diagnostic-code:", "status:"] {
        if let Some(rest) = strip_prefix_ignore_case(line, label) {
            line = rest.trim_start();
            break;
        }
    }
    match strip_prefix_ignore_case(line, "smtp;") {
        Some(rest) => rest.trim(),
        None => line,
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// The first whitespace-separated token of `s` and what follows it.
fn split_token(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    }
}

/// Strips a trailing `:`, `,` or `;` as in `550 5.1.1: unknown user`.
fn trim_punctuation(token: &str) -> &str {
    token.trim_end_matches([':', ',', ';'])
}

/// Three non-empty groups of digits separated by dots (an IP address has four).
fn looks_enhanced(token: &str) -> bool {
    let mut groups = 0;
    for part in token.split('.') {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        groups += 1;
    }
    groups == 3
}

/// Writes lines separated by `\n`, without a trailing newline.
struct Lines<'a, 'b> {
    f: &'a mut fmt::Formatter<'b>,
    started: bool,
}

impl Lines<'_, '_> {
    fn line(&mut self, args: fmt::Arguments<'_>) -> fmt::Result {
        if self.started {
            self.f.write_str("\n")?;
        }
        self.started = true;
        self.f.write_fmt(args)
    }

    fn causes(&mut self, causes: &[&str]) -> fmt::Result {
        if causes.is_empty() {
            return Ok(());
        }
        self.line(format_args!("  Typical causes:"))?;
        for cause in causes {
            self.line(format_args!("    - {cause}"))?;
        }
        Ok(())
    }
}

impl fmt::Display for Explanation {
    /// A multi-line report: the codes, what to do about retrying, then one section for the
    /// basic code and one for the enhanced code, then the server's text and any warnings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Lines { f, started: false };

        match (self.code_value, self.enhanced) {
            (Some(code), Some((enhanced, _))) => out.line(format_args!("{code} {enhanced}"))?,
            (Some(code), None) => out.line(format_args!("{code}"))?,
            (None, Some((enhanced, _))) => out.line(format_args!("{enhanced}"))?,
            (None, None) => {}
        }
        out.line(format_args!(
            "Retry: {} - {}",
            self.retry.label(),
            self.retry.description()
        ))?;
        if !self.consistent
            && let (Some(code), Some((enhanced, _))) = (self.code_value, self.enhanced)
        {
            out.line(format_args!(
                "Warning: inconsistent classes: the reply code {code} is class {} but the \
                 enhanced code {enhanced} is class {}. The server is misconfigured; senders act \
                 on the reply code, so this is treated as {}.",
                code.class(),
                enhanced.class,
                match self.retry {
                    Retry::Later => "a transient failure",
                    Retry::Never => "a permanent failure",
                    Retry::NotNeeded => "a success",
                    Retry::Continue => "an intermediate reply",
                }
            ))?;
        }
        if self.unusual_class()
            && let Some((enhanced, Some(info))) = self.enhanced
        {
            out.line(format_args!(
                "Note: {enhanced} is unusual: X.{}.{} is normally used with class {}.",
                info.subject,
                info.detail,
                ClassList(info.classes)
            ))?;
        }

        if let Some(code) = self.code_value {
            out.line(format_args!(""))?;
            write_code(&mut out, code, self.code, self.enhanced.is_none())?;
        }
        if let Some((enhanced, info)) = self.enhanced {
            out.line(format_args!(""))?;
            write_enhanced(&mut out, enhanced, info, self.code_value.is_none())?;
        }
        if !self.text.is_empty() {
            out.line(format_args!(""))?;
            out.line(format_args!("Server text: {}", self.text))?;
        }
        Ok(())
    }
}

fn write_code(
    out: &mut Lines<'_, '_>,
    code: ReplyCode,
    info: Option<&'static CodeInfo>,
    list_enhanced: bool,
) -> fmt::Result {
    let class = code.class();
    let second = (code.get() / 10 % 10) as u8;
    match info {
        Some(info) => {
            out.line(format_args!("{code} {} ({})", info.name, info.rfc))?;
            out.line(format_args!("  Meaning: {}", info.meaning))?;
            out.causes(info.causes)?;
            out.line(format_args!("  What to do: {}", info.advice))?;
        }
        None => {
            out.line(format_args!("{code} (not in the catalogue)"))?;
            out.line(format_args!(
                "  Class {class}xx: {}; category x{second}z: {}.",
                reply_class(class).unwrap_or("unknown"),
                reply_category(second).unwrap_or("unassigned"),
            ))?;
            out.line(format_args!(
                "  What to do: read the server's text; act on the class ({}).",
                Retry::for_code(code).label()
            ))?;
        }
    }
    if list_enhanced && let Some(info) = info {
        let mut related = info.common_enhanced_codes().peekable();
        if related.peek().is_some() {
            out.line(format_args!("  Enhanced codes often sent with {code}:"))?;
            for e in related {
                let enhanced = e.with_class(class).to_string();
                out.line(format_args!("    {enhanced:<8} {}", e.name))?;
            }
        }
    }
    Ok(())
}

fn write_enhanced(
    out: &mut Lines<'_, '_>,
    code: EnhancedCode,
    info: Option<&'static EnhancedInfo>,
    list_replies: bool,
) -> fmt::Result {
    match info {
        Some(info) => out.line(format_args!("{code} {} ({})", info.name, info.rfc))?,
        None => out.line(format_args!(
            "{code} (not in the registry catalogue; often a provider-specific code)"
        ))?,
    }
    out.line(format_args!(
        "  Class {}: {}; subject {}: {}.",
        code.class,
        enhanced_class(code.class).unwrap_or("unknown"),
        code.subject,
        enhanced_subject(code.subject).unwrap_or("unassigned"),
    ))?;
    let Some(info) = info else {
        if let Some(meaning) = enhanced_subject_meaning(code.subject) {
            out.line(format_args!("  Subject: {meaning}"))?;
        }
        return Ok(());
    };
    let wording = info.wording(code.class);
    out.line(format_args!("  Meaning: {}", wording.meaning))?;
    out.causes(wording.causes)?;
    if let Some(note) = info.note_for(code.class) {
        out.line(format_args!("  With class {}: {note}", code.class))?;
    }
    out.line(format_args!("  What to do: {}", wording.advice))?;
    if list_replies {
        let replies: Vec<u16> = info
            .typical_replies
            .iter()
            .copied()
            .filter(|r| (r / 100) as u8 == code.class)
            .collect();
        if !replies.is_empty() {
            out.line(format_args!("  Usually sent with: {}", CodeList(&replies)))?;
        }
    }
    Ok(())
}

/// Formats `[4, 5]` as `4 or 5`.
struct ClassList<'a>(&'a [u8]);

impl fmt::Display for ClassList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, class) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(if i + 1 == self.0.len() { " or " } else { ", " })?;
            }
            write!(f, "{class}")?;
        }
        Ok(())
    }
}

/// Formats `[450, 550]` as `450, 550`.
struct CodeList<'a>(&'a [u16]);

impl fmt::Display for CodeList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, code) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{code}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(input: &str) -> Parsed<'_> {
        parse_input(input).unwrap()
    }

    fn ec(class: u8, subject: u16, detail: u16) -> Option<EnhancedCode> {
        Some(EnhancedCode::new(class, subject, detail))
    }

    #[test]
    fn parse_basic_code_alone() {
        let p = parsed("550");
        assert_eq!(p.code, ReplyCode::new(550));
        assert_eq!(p.enhanced, None);
        assert_eq!(p.text, "");
    }

    #[test]
    fn parse_enhanced_code_alone() {
        let p = parsed("5.1.1");
        assert_eq!(p.code, None);
        assert_eq!(p.enhanced, ec(5, 1, 1));
        let p = parsed("4.7.28 slow down");
        assert_eq!(p.enhanced, ec(4, 7, 28));
        assert_eq!(p.text, "slow down");
    }

    #[test]
    fn parse_both_codes() {
        for input in ["550 5.1.1", "550-5.1.1", "  550 \t 5.1.1  ", "550 5.1.1:"] {
            let p = parsed(input);
            assert_eq!(p.code, ReplyCode::new(550), "{input}");
            assert_eq!(p.enhanced, ec(5, 1, 1), "{input}");
            assert_eq!(p.text, "", "{input}");
        }
    }

    #[test]
    fn parse_reply_lines() {
        let p = parsed("550-5.1.1 The email account that you tried to reach does not exist.");
        assert_eq!(p.code, ReplyCode::new(550));
        assert_eq!(p.enhanced, ec(5, 1, 1));
        assert_eq!(
            p.text,
            "The email account that you tried to reach does not exist."
        );

        let p = parsed("421 4.7.28 Our system has detected an unusual rate of mail\r\n");
        assert_eq!(p.code, ReplyCode::new(421));
        assert_eq!(p.enhanced, ec(4, 7, 28));
        assert_eq!(p.text, "Our system has detected an unusual rate of mail");

        let p = parsed("220 mx.example.com ESMTP ready");
        assert_eq!(p.code, ReplyCode::new(220));
        assert_eq!(p.enhanced, None);
        assert_eq!(p.text, "mx.example.com ESMTP ready");

        let p = parsed("354-");
        assert_eq!(p.code, ReplyCode::new(354));
        assert_eq!(p.text, "");
    }

    #[test]
    fn parse_only_the_first_line_counts() {
        let p = parsed("\n 452-4.2.2 The email account is over quota\n452 4.2.2 Please direct\n");
        assert_eq!(p.code, ReplyCode::new(452));
        assert_eq!(p.enhanced, ec(4, 2, 2));
        assert_eq!(p.text, "The email account is over quota");
    }

    #[test]
    fn parse_bounce_fields() {
        let p = parsed("Diagnostic-Code: smtp; 550-5.1.1 The email account does not exist");
        assert_eq!(p.code, ReplyCode::new(550));
        assert_eq!(p.enhanced, ec(5, 1, 1));
        assert_eq!(p.text, "The email account does not exist");

        let p = parsed("diagnostic-code:SMTP;452 4.2.2 Over quota");
        assert_eq!(p.code, ReplyCode::new(452));
        assert_eq!(p.enhanced, ec(4, 2, 2));

        let p = parsed("Status: 5.7.26");
        assert_eq!(p.code, None);
        assert_eq!(p.enhanced, ec(5, 7, 26));

        assert_eq!(parse_input("Status:"), Err(ExplainError::Empty));
        assert_eq!(
            parse_input("Diagnostic-Code: X-Postfix; host not found"),
            Err(ExplainError::NotACode("X-Postfix".into()))
        );
    }

    #[test]
    fn parse_ip_address_is_text_not_enhanced_code() {
        let p = parsed("554 192.0.2.1 is listed at a blocklist");
        assert_eq!(p.code, ReplyCode::new(554));
        assert_eq!(p.enhanced, None);
        assert_eq!(p.text, "192.0.2.1 is listed at a blocklist");
    }

    #[test]
    fn parse_errors() {
        assert_eq!(parse_input(""), Err(ExplainError::Empty));
        assert_eq!(parse_input(" \t\r\n "), Err(ExplainError::Empty));
        assert_eq!(
            parse_input("hello"),
            Err(ExplainError::NotACode("hello".into()))
        );
        assert_eq!(
            parse_input("5500"),
            Err(ExplainError::NotACode("5500".into()))
        );
        assert_eq!(parse_input("55"), Err(ExplainError::NotACode("55".into())));
        assert_eq!(
            parse_input("550x"),
            Err(ExplainError::NotACode("550x".into()))
        );
        assert_eq!(parse_input("600"), Err(ExplainError::OutOfRange(600)));
        assert_eq!(parse_input("199 hi"), Err(ExplainError::OutOfRange(199)));
        assert_eq!(parse_input("099"), Err(ExplainError::OutOfRange(99)));
        assert_eq!(
            parse_input("6.1.1"),
            Err(ExplainError::BadEnhanced("6.1.1".into()))
        );
        assert_eq!(
            parse_input("5.1"),
            Err(ExplainError::BadEnhanced("5.1".into()))
        );
        assert_eq!(
            parse_input("550 3.1.1 text"),
            Err(ExplainError::BadEnhanced("3.1.1".into()))
        );
        assert_eq!(
            parse_input("550 5.1.1000"),
            Err(ExplainError::BadEnhanced("5.1.1000".into()))
        );
    }

    #[test]
    fn enhanced_shape() {
        assert!(looks_enhanced("5.1.1"));
        assert!(looks_enhanced("9.99.9999"));
        assert!(!looks_enhanced("5.1"));
        assert!(!looks_enhanced("192.0.2.1"));
        assert!(!looks_enhanced("5..1"));
        assert!(!looks_enhanced("5.1.x"));
        assert!(!looks_enhanced(""));
    }

    #[test]
    fn retry_for_class() {
        assert_eq!(Retry::for_class(2), Some(Retry::NotNeeded));
        assert_eq!(Retry::for_class(3), Some(Retry::Continue));
        assert_eq!(Retry::for_class(4), Some(Retry::Later));
        assert_eq!(Retry::for_class(5), Some(Retry::Never));
        assert_eq!(Retry::for_class(1), None);
        assert_eq!(Retry::for_class(6), None);
    }

    #[test]
    fn class_list_formatting() {
        assert_eq!(ClassList(&[5]).to_string(), "5");
        assert_eq!(ClassList(&[4, 5]).to_string(), "4 or 5");
        assert_eq!(ClassList(&[2, 4, 5]).to_string(), "2, 4 or 5");
    }
}
