//! A resolver that remembers every question asked of it, so that a journey can show each DNS
//! lookup the receiving side made as its own step.

use std::borrow::Cow;
use std::cell::RefCell;
use std::net::IpAddr;

use smtpsim_model::auth::dns::{LookupError, Mx, Resolver};

/// One question and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    /// `TXT`, `A/AAAA` or `MX`.
    pub kind: &'static str,
    /// The name, as asked.
    pub name: String,
    /// The records, as text.
    pub records: Vec<String>,
    /// The failure, if the lookup failed.
    pub error: Option<LookupError>,
}

/// Wraps a resolver and keeps each question, in order.
pub struct Recording<'a> {
    inner: &'a dyn Resolver,
    asked: RefCell<Vec<Asked>>,
}

impl<'a> Recording<'a> {
    /// Records the questions asked of `inner`.
    pub fn new(inner: &'a dyn Resolver) -> Recording<'a> {
        Recording {
            inner,
            asked: RefCell::new(Vec::new()),
        }
    }

    /// The questions asked so far.
    pub fn into_asked(self) -> Vec<Asked> {
        self.asked.into_inner()
    }

    fn keep<T: Clone>(
        &self,
        kind: &'static str,
        name: &str,
        answer: &Result<Cow<'_, [T]>, LookupError>,
        text: impl Fn(&T) -> String,
    ) {
        let (records, error) = match answer {
            Ok(list) => (list.iter().map(text).collect(), None),
            Err(e) => (Vec::new(), Some(*e)),
        };
        self.asked.borrow_mut().push(Asked {
            kind,
            name: name.to_string(),
            records,
            error,
        });
    }
}

impl Resolver for Recording<'_> {
    fn txt(&self, domain: &str) -> Result<Cow<'_, [String]>, LookupError> {
        let answer = self.inner.txt(domain);
        self.keep("TXT", domain, &answer, String::clone);
        answer
    }

    fn addrs(&self, domain: &str) -> Result<Cow<'_, [IpAddr]>, LookupError> {
        let answer = self.inner.addrs(domain);
        self.keep("A/AAAA", domain, &answer, IpAddr::to_string);
        answer
    }

    fn mx(&self, domain: &str) -> Result<Cow<'_, [Mx]>, LookupError> {
        let answer = self.inner.mx(domain);
        self.keep("MX", domain, &answer, |mx| {
            format!("{} {}", mx.preference, mx.exchange)
        });
        answer
    }
}
