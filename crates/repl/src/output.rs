//! What the session prints: lines tagged with what they are, so that a terminal can colour
//! them and a test can pick them out.

use std::fmt;

/// What a printed line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A line the server sent, as `S: 250 2.1.0 Sender OK`.
    Server,
    /// A command line sent on the user's behalf by a helper, as `C: AUTH PLAIN AGFs...`.
    Client,
    /// What a reply means (shown while explanations are on).
    Explain,
    /// The suggested next command (shown while explanations are on, or on request).
    Hint,
    /// What happened around the conversation: connections, the clock, TLS, stored messages.
    Info,
    /// A mistake in what the user typed to the terminal itself.
    Error,
}

/// One printed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What it is.
    pub kind: Kind,
    /// The text, without a line ending.
    pub text: String,
}

impl Line {
    /// A line of `kind`.
    pub fn new(kind: Kind, text: impl Into<String>) -> Line {
        Line {
            kind,
            text: text.into(),
        }
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The lines one input produced, gathered in order.
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub lines: Vec<Line>,
}

impl Out {
    pub fn push(&mut self, kind: Kind, text: impl Into<String>) {
        self.lines.push(Line::new(kind, text));
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.push(Kind::Info, text);
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.push(Kind::Error, text);
    }
}
