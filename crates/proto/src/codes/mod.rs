//! A catalogue of SMTP reply codes and enhanced status codes, with what each one means, what
//! typically causes it, whether a sender retries, and what to do about it.
//!
//! Two tables, both static and sorted:
//!
//! - [`reply_codes`]: the three-digit reply codes of RFC 5321 and its extensions (STARTTLS,
//!   AUTH, RFC 7504), looked up with [`reply_code`].
//! - [`enhanced_codes`]: the enhanced status codes `class.subject.detail` of RFC 3463 and the
//!   IANA registry (RFC 5248), keyed by `subject.detail` because the meaning does not depend on
//!   the class; the class only says success, transient or permanent. Looked up with
//!   [`enhanced_code`].
//!
//! [`explain`] accepts what an operator copies out of a log or a bounce (`550`, `5.1.1`,
//! `550 5.1.1`, `550-5.1.1 The email account ...`) and returns an [`Explanation`] whose
//! `Display` is a readable report.
//!
//! ```
//! use smtpsim_proto::codes::{self, Retry};
//!
//! let explanation =
//!     codes::explain("550-5.1.1 The email account that you tried to reach does not exist")
//!         .unwrap();
//! assert_eq!(explanation.retry, Retry::Never);
//! assert_eq!(explanation.code.unwrap().name, "Mailbox unavailable");
//! let (enhanced, info) = explanation.enhanced.unwrap();
//! assert_eq!(enhanced.to_string(), "5.1.1");
//! assert_eq!(info.unwrap().name, "Bad destination mailbox address");
//! assert!(explanation.consistent);
//!
//! let report = explanation.to_string();
//! assert!(report.contains("Typical causes:"));
//! assert!(report.contains("What to do:"));
//! ```

mod basic;
mod enhanced;
mod explain;

pub use explain::{ExplainError, Explanation, explain};

use std::fmt;

use crate::reply::{EnhancedCode, ReplyCode};

/// What a sender does after a reply, decided by the reply's class (its first digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Retry {
    /// 2xx: the command succeeded; there is nothing to retry.
    NotNeeded,
    /// 3xx: the server is waiting for the next part (the message after 354, an AUTH response
    /// after 334); the sender continues rather than retries.
    Continue,
    /// 4xx: a transient failure; keep the message queued and try again later.
    Later,
    /// 5xx: a permanent failure; do not repeat the same request unchanged. The message bounces
    /// unless the cause (an address, credentials, configuration) is fixed first.
    Never,
}

impl Retry {
    /// The behaviour for a reply class: 2, 3, 4 or 5; `None` for anything else.
    pub const fn for_class(class: u8) -> Option<Retry> {
        match class {
            2 => Some(Retry::NotNeeded),
            3 => Some(Retry::Continue),
            4 => Some(Retry::Later),
            5 => Some(Retry::Never),
            _ => None,
        }
    }

    /// The behaviour for a reply code (whose class is always 2 to 5).
    pub const fn for_code(code: ReplyCode) -> Retry {
        match code.class() {
            2 => Retry::NotNeeded,
            3 => Retry::Continue,
            4 => Retry::Later,
            _ => Retry::Never,
        }
    }

    /// A short label: `not needed`, `continue`, `later` or `never`.
    pub const fn label(self) -> &'static str {
        match self {
            Retry::NotNeeded => "not needed",
            Retry::Continue => "continue",
            Retry::Later => "later",
            Retry::Never => "never",
        }
    }

    /// One sentence on what a sending MTA does.
    pub const fn description(self) -> &'static str {
        match self {
            Retry::NotNeeded => "the command succeeded; go on with the next step.",
            Retry::Continue => {
                "the server is waiting for more; send the next part (the message data, or the \
                 next AUTH response) instead of retrying."
            }
            Retry::Later => {
                "a transient failure; keep the message queued and retry with growing intervals \
                 until the queue lifetime (commonly 4 to 5 days) runs out, then bounce."
            }
            Retry::Never => {
                "a permanent failure; do not repeat the same request unchanged. Bounce the \
                 message to its sender, or fix the cause first and then send again."
            }
        }
    }
}

impl fmt::Display for Retry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What the catalogue knows about one three-digit reply code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// The code, in `200..=599`.
    pub code: u16,
    /// A short title, such as `Service not available`.
    pub name: &'static str,
    /// What the reply means, in a sentence or two.
    pub meaning: &'static str,
    /// Situations that typically produce this reply, most common first.
    pub causes: &'static [&'static str],
    /// Whether a sender retries; always the behaviour of the code's class.
    pub retry: Retry,
    /// What the operator of the sending side should do.
    pub advice: &'static str,
    /// Where the code is defined, such as `RFC 5321, section 4.2.3`.
    pub rfc: &'static str,
    /// The enhanced codes most often sent with this code, as `(subject, detail)`, most common
    /// first; their class is this code's class. All are in the enhanced catalogue. For every
    /// enhanced code that may come with this code, see [`enhanced_for_reply`].
    pub common_enhanced: &'static [(u16, u16)],
}

impl CodeInfo {
    /// The entries of [`CodeInfo::common_enhanced`], most common first.
    pub fn common_enhanced_codes(&self) -> impl Iterator<Item = &'static EnhancedInfo> + 'static {
        let class = (self.code / 100) as u8;
        self.common_enhanced
            .iter()
            .filter_map(move |&(subject, detail)| {
                enhanced_code(EnhancedCode::new(class, subject, detail))
            })
    }
}

/// What the catalogue knows about one enhanced status code, for every class it is used with.
///
/// The entry for `X.1.1` serves `4.1.1` and `5.1.1` alike; the class of the code at hand decides
/// whether the failure is transient ([`Retry::Later`]) or permanent ([`Retry::Never`]), and
/// [`EnhancedInfo::note_for`] adds what is specific to that class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnhancedInfo {
    /// The subject, the `Y` of `X.Y.Z`.
    pub subject: u16,
    /// The detail, the `Z` of `X.Y.Z`.
    pub detail: u16,
    /// A short title, such as `Bad destination mailbox address`.
    pub name: &'static str,
    /// What the code means, in a sentence or two.
    pub meaning: &'static str,
    /// Situations that typically produce this code, most common first.
    pub causes: &'static [&'static str],
    /// What the operator of the sending side should do.
    pub advice: &'static str,
    /// Where the code is defined, such as `RFC 3463`.
    pub rfc: &'static str,
    /// The classes (2, 4, 5) the code is registered for or seen with in practice.
    pub classes: &'static [u8],
    /// Basic reply codes it usually comes with, such as 550 for `5.1.1`; all in the catalogue.
    pub typical_replies: &'static [u16],
    /// Advice that applies only with one class, as `(class, note)`.
    pub class_notes: &'static [(u8, &'static str)],
    /// For a code used both for success (class 2) and for failures (4 or 5): what it says with
    /// class 2. Then [`EnhancedInfo::meaning`], [`EnhancedInfo::causes`] and
    /// [`EnhancedInfo::advice`] describe the failures. `None` for a code with one kind of use.
    /// [`EnhancedInfo::wording`] picks the text for a class.
    pub success: Option<Wording>,
}

/// What an enhanced code means, what causes it and what to do, for one kind of class (success
/// or failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wording {
    /// What the code means, in a sentence or two.
    pub meaning: &'static str,
    /// Situations that typically produce this code, most common first.
    pub causes: &'static [&'static str],
    /// What the operator of the sending side should do.
    pub advice: &'static str,
}

impl EnhancedInfo {
    /// The code with the given class, such as `5.1.1` for class 5.
    pub const fn with_class(&self, class: u8) -> EnhancedCode {
        EnhancedCode::new(class, self.subject, self.detail)
    }

    /// Whether the code is registered for, or seen in practice with, `class`.
    pub fn used_with(&self, class: u8) -> bool {
        self.classes.contains(&class)
    }

    /// The meaning, causes and advice that fit `class`: the success text for class 2 when the
    /// code has one, otherwise the main text.
    pub fn wording(&self, class: u8) -> Wording {
        match (class, self.success) {
            (2, Some(success)) => success,
            _ => Wording {
                meaning: self.meaning,
                causes: self.causes,
                advice: self.advice,
            },
        }
    }

    /// The note specific to `class`, if there is one.
    pub fn note_for(&self, class: u8) -> Option<&'static str> {
        self.class_notes
            .iter()
            .find(|(c, _)| *c == class)
            .map(|(_, note)| *note)
    }
}

/// All catalogued reply codes, sorted by code.
pub fn reply_codes() -> &'static [CodeInfo] {
    basic::REPLY_CODES
}

/// The catalogue entry for a reply code, if it has one.
pub fn reply_code(code: ReplyCode) -> Option<&'static CodeInfo> {
    let table = basic::REPLY_CODES;
    table
        .binary_search_by_key(&code.get(), |info| info.code)
        .ok()
        .map(|i| &table[i])
}

/// All catalogued enhanced codes, sorted by subject then detail.
pub fn enhanced_codes() -> &'static [EnhancedInfo] {
    enhanced::ENHANCED_CODES
}

/// The catalogue entry for an enhanced code, looked up by subject and detail (any class).
pub fn enhanced_code(code: EnhancedCode) -> Option<&'static EnhancedInfo> {
    let table = enhanced::ENHANCED_CODES;
    table
        .binary_search_by_key(&(code.subject, code.detail), |info| {
            (info.subject, info.detail)
        })
        .ok()
        .map(|i| &table[i])
}

/// Every catalogued enhanced code that lists `code` among its typical replies, in catalogue
/// order (for the short list of the most common ones, see [`CodeInfo::common_enhanced`]).
pub fn enhanced_for_reply(code: ReplyCode) -> impl Iterator<Item = &'static EnhancedInfo> {
    enhanced::ENHANCED_CODES
        .iter()
        .filter(move |info| info.typical_replies.contains(&code.get()))
}

/// The title of a reply class (the first digit): 2 `Positive Completion`, 3 `Positive
/// Intermediate`, 4 `Transient Negative Completion`, 5 `Permanent Negative Completion`.
pub const fn reply_class(class: u8) -> Option<&'static str> {
    match class {
        2 => Some("Positive Completion"),
        3 => Some("Positive Intermediate"),
        4 => Some("Transient Negative Completion"),
        5 => Some("Permanent Negative Completion"),
        _ => None,
    }
}

/// The category a reply code's second digit names (RFC 5321, section 4.2.1): 0 `Syntax`,
/// 1 `Information`, 2 `Connections`, 3 and 4 `Unspecified`, 5 `Mail system`.
pub const fn reply_category(second_digit: u8) -> Option<&'static str> {
    match second_digit {
        0 => Some("Syntax"),
        1 => Some("Information"),
        2 => Some("Connections"),
        3 | 4 => Some("Unspecified"),
        5 => Some("Mail system"),
        _ => None,
    }
}

/// The title of an enhanced code class: 2 `Success`, 4 `Persistent Transient Failure`,
/// 5 `Permanent Failure` (RFC 3463, section 3.1).
pub const fn enhanced_class(class: u8) -> Option<&'static str> {
    match class {
        2 => Some("Success"),
        4 => Some("Persistent Transient Failure"),
        5 => Some("Permanent Failure"),
        _ => None,
    }
}

/// `(subject, title, description)` for the eight subjects of RFC 3463, section 3.2.
const SUBJECTS: [(u16, &str, &str); 8] = [
    (
        0,
        "Other or Undefined Status",
        "No more specific subject information is available.",
    ),
    (
        1,
        "Addressing Status",
        "Something about the sender or recipient address: its syntax or whether it exists.",
    ),
    (
        2,
        "Mailbox Status",
        "Something about the recipient's mailbox, under the control of the recipient.",
    ),
    (
        3,
        "Mail System Status",
        "Something about the destination mail system, under the control of its administrator.",
    ),
    (
        4,
        "Network and Routing Status",
        "The network or routing between the systems: DNS, connections, next hops, loops.",
    ),
    (
        5,
        "Mail Delivery Protocol Status",
        "The SMTP conversation itself: commands, syntax, sequence and protocol limits.",
    ),
    (
        6,
        "Message Content or Media Status",
        "The message content: media types, encodings, conversions, internationalisation.",
    ),
    (
        7,
        "Security or Policy Status",
        "Security and policy: filtering, authentication (SMTP AUTH, SPF, DKIM, DMARC), \
         encryption and reputation.",
    ),
];

/// The title of an enhanced code subject, such as `Addressing Status` for 1.
pub fn enhanced_subject(subject: u16) -> Option<&'static str> {
    SUBJECTS
        .iter()
        .find(|(s, _, _)| *s == subject)
        .map(|(_, title, _)| *title)
}

/// One sentence on what an enhanced code subject covers.
pub fn enhanced_subject_meaning(subject: u16) -> Option<&'static str> {
    SUBJECTS
        .iter()
        .find(|(s, _, _)| *s == subject)
        .map(|(_, _, meaning)| *meaning)
}

const fn is_sorted_basic(table: &[CodeInfo]) -> bool {
    let mut i = 1;
    while i < table.len() {
        if table[i - 1].code >= table[i].code {
            return false;
        }
        i += 1;
    }
    true
}

const fn is_sorted_enhanced(table: &[EnhancedInfo]) -> bool {
    let mut i = 1;
    while i < table.len() {
        let (a, b) = (&table[i - 1], &table[i]);
        if a.subject > b.subject || (a.subject == b.subject && a.detail >= b.detail) {
            return false;
        }
        i += 1;
    }
    true
}

// The lookups binary-search the tables, so they must be sorted and free of duplicates.
const _: () = assert!(is_sorted_basic(basic::REPLY_CODES));
const _: () = assert!(is_sorted_enhanced(enhanced::ENHANCED_CODES));
