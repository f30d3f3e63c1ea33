//! DKIM (RFC 6376), modelled rather than computed.
//!
//! No hashing or signature arithmetic happens here: a message's signature is described by a
//! [`DkimSignature`] (who signed, with which selector, and what happened to the message in
//! transit). What *is* real is the key: [`verify`] looks up the TXT record at
//! `<selector>._domainkey.<domain>` through the [`Resolver`], exactly as a verifier would, so
//! a scenario publishes, forgets or revokes keys in its DNS.
//!
//! The verdicts, in the order they are decided:
//!
//! 1. no signature: [`DkimVerdict::None`];
//! 2. `d=` not a domain or `s=` empty: [`DkimVerdict::PermError`];
//! 3. the key lookup fails with SERVFAIL or a timeout: [`DkimVerdict::TempError`];
//! 4. no usable key record (no such name, no record, a record that is not a DKIM key, a key
//!    type other than `rsa` or `ed25519`) or a revoked key (`p=` empty):
//!    [`DkimVerdict::PermError`];
//! 5. body or signed headers altered in transit: [`DkimVerdict::Fail`];
//! 6. otherwise [`DkimVerdict::Pass`].
//!
//! A key record is a tag list whose `v=`, when present, comes first and is `DKIM1`, and which
//! has a `p=` tag of base64 characters. Of several TXT records at the key's name, the first
//! usable one is taken.

use std::fmt;

use super::dns::{LookupError, Resolver};
use super::tags::tag_list;

/// The DKIM signature a message carries, as the model sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DkimSignature {
    /// The signing domain, `d=`.
    pub domain: String,
    /// The selector, `s=`.
    pub selector: String,
    /// The body was changed after signing (a footer added by a mailing list, a rewritten
    /// link), so the body hash no longer matches.
    pub body_altered: bool,
    /// A signed header (Subject, From...) was changed after signing.
    pub headers_altered: bool,
}

impl DkimSignature {
    /// An intact signature by `domain` with `selector`.
    pub fn new(domain: impl Into<String>, selector: impl Into<String>) -> DkimSignature {
        DkimSignature {
            domain: domain.into(),
            selector: selector.into(),
            body_altered: false,
            headers_altered: false,
        }
    }

    /// The same signature with the body changed in transit.
    pub fn with_body_altered(mut self) -> DkimSignature {
        self.body_altered = true;
        self
    }

    /// The same signature with a signed header changed in transit.
    pub fn with_headers_altered(mut self) -> DkimSignature {
        self.headers_altered = true;
        self
    }

    /// The name the public key is published at: `<selector>._domainkey.<domain>`.
    pub fn key_name(&self) -> String {
        format!("{}._domainkey.{}", self.selector, self.domain)
    }
}

/// The result of verifying a message's signature (RFC 8601 section 2.7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DkimVerdict {
    /// The message is not signed.
    None,
    /// The signature verifies with the published key.
    Pass,
    /// The signature does not verify (body or signed headers altered).
    Fail,
    /// The key could not be fetched for now.
    TempError,
    /// The signature cannot be verified for good: no key, a revoked key, a malformed signature.
    PermError,
}

impl DkimVerdict {
    /// The lower-case name used in `Authentication-Results` headers.
    pub const fn as_str(self) -> &'static str {
        match self {
            DkimVerdict::None => "none",
            DkimVerdict::Pass => "pass",
            DkimVerdict::Fail => "fail",
            DkimVerdict::TempError => "temperror",
            DkimVerdict::PermError => "permerror",
        }
    }
}

impl fmt::Display for DkimVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What verifying a signature found, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DkimResult {
    /// The result.
    pub verdict: DkimVerdict,
    /// The signing domain `d=`, when the message is signed.
    pub domain: Option<String>,
    /// The selector `s=`, when the message is signed.
    pub selector: Option<String>,
    /// A sentence saying how the result came about.
    pub reason: String,
}

/// Whether a TXT record is a usable DKIM key, and if not, why.
enum Key {
    Usable,
    Revoked,
    Unusable(String),
}

fn key_record(text: &str) -> Key {
    let mut public_key = None;
    for (index, tag) in tag_list(text).enumerate() {
        let Ok((name, value)) = tag else {
            return Key::Unusable("key record is not a tag list".to_owned());
        };
        match name {
            "v" if index != 0 || value != "DKIM1" => {
                return Key::Unusable("key record has a v= other than a leading DKIM1".to_owned());
            }
            "k" if !value.eq_ignore_ascii_case("rsa") && !value.eq_ignore_ascii_case("ed25519") => {
                return Key::Unusable(format!("key type k={value} is not supported"));
            }
            "p" if public_key.is_none() => public_key = Some(value),
            _ => {}
        }
    }
    match public_key {
        None => Key::Unusable("key record has no p= tag".to_owned()),
        Some("") => Key::Revoked,
        Some(p)
            if p.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b' ' | b'\t')
            }) =>
        {
            Key::Usable
        }
        Some(_) => Key::Unusable("key record's p= is not base64".to_owned()),
    }
}

/// Judges the signature a message carries as the model does, with its key really looked up
/// (`None`: the message is not signed).
///
/// ```
/// use smtpsim_model::auth::dns::StaticResolver;
/// use smtpsim_model::auth::dkim::{verify, DkimSignature, DkimVerdict};
///
/// let dns = StaticResolver::new().with_txt("s1._domainkey.example.com", "v=DKIM1; k=rsa; p=MIGfMA0G");
/// let signature = DkimSignature::new("example.com", "s1");
/// assert_eq!(verify(Some(&signature), &dns).verdict, DkimVerdict::Pass);
/// let footer = signature.clone().with_body_altered();
/// assert_eq!(verify(Some(&footer), &dns).verdict, DkimVerdict::Fail);
/// assert_eq!(verify(None, &dns).verdict, DkimVerdict::None);
/// ```
pub fn verify<R: Resolver + ?Sized>(signature: Option<&DkimSignature>, resolver: &R) -> DkimResult {
    let Some(signature) = signature else {
        return DkimResult {
            verdict: DkimVerdict::None,
            domain: None,
            selector: None,
            reason: "message not signed".to_owned(),
        };
    };
    let (verdict, reason) = judge(signature, resolver);
    DkimResult {
        verdict,
        domain: Some(signature.domain.clone()),
        selector: Some(signature.selector.clone()),
        reason,
    }
}

fn judge<R: Resolver + ?Sized>(signature: &DkimSignature, resolver: &R) -> (DkimVerdict, String) {
    let domain = signature
        .domain
        .strip_suffix('.')
        .unwrap_or(&signature.domain);
    let domain_ok = domain.contains('.')
        && domain
            .split('.')
            .all(|label| (1..=63).contains(&label.len()))
        && domain.bytes().all(|b| b.is_ascii_graphic());
    let selector_ok = !signature.selector.is_empty()
        && signature.selector.split('.').all(|label| !label.is_empty())
        && signature.selector.bytes().all(|b| b.is_ascii_graphic());
    if !domain_ok || !selector_ok {
        return (
            DkimVerdict::PermError,
            format!(
                "malformed signature (d={} s={})",
                signature.domain, signature.selector
            ),
        );
    }
    let name = signature.key_name();
    let records = match resolver.txt(&name) {
        Ok(records) => records,
        Err(LookupError::NxDomain) => {
            return (
                DkimVerdict::PermError,
                format!("no key published at {name}"),
            );
        }
        Err(error) => {
            return (
                DkimVerdict::TempError,
                format!("key lookup of {name}: {error}"),
            );
        }
    };
    let mut why_not = format!("no key published at {name}");
    let mut revoked = false;
    let mut usable = false;
    for record in records.iter() {
        match key_record(record) {
            Key::Usable => {
                usable = true;
                break;
            }
            Key::Revoked => revoked = true,
            Key::Unusable(reason) => why_not = format!("{reason} at {name}"),
        }
    }
    if !usable {
        return if revoked {
            (
                DkimVerdict::PermError,
                format!("key at {name} is revoked (empty p=)"),
            )
        } else {
            (DkimVerdict::PermError, why_not)
        };
    }
    if signature.body_altered {
        (
            DkimVerdict::Fail,
            "modelled as failing: body altered in transit".to_owned(),
        )
    } else if signature.headers_altered {
        (
            DkimVerdict::Fail,
            "modelled as failing: signed headers altered in transit".to_owned(),
        )
    } else {
        (
            DkimVerdict::Pass,
            format!("modelled as valid: key published at {name}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::dns::StaticResolver;

    const KEY: &str = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB";

    fn dns() -> StaticResolver {
        StaticResolver::new().with_txt("sel._domainkey.example.com", KEY)
    }

    fn check(signature: &DkimSignature, dns: &StaticResolver) -> DkimResult {
        verify(Some(signature), dns)
    }

    #[test]
    fn unsigned_is_none() {
        let result = verify(None, &dns());
        assert_eq!(result.verdict, DkimVerdict::None);
        assert_eq!(result.domain, None);
    }

    #[test]
    fn published_key_and_intact_message_pass() {
        let result = check(&DkimSignature::new("example.com", "sel"), &dns());
        assert_eq!(result.verdict, DkimVerdict::Pass);
        assert_eq!(result.domain.as_deref(), Some("example.com"));
        assert_eq!(result.selector.as_deref(), Some("sel"));
        // No signature is computed: the reason says what was modelled and what was looked up.
        assert_eq!(
            result.reason,
            "modelled as valid: key published at sel._domainkey.example.com"
        );
        // Names are case-insensitive; v= is optional.
        let dns = StaticResolver::new().with_txt("SEL._domainkey.Example.com", "p=abc+/=");
        assert_eq!(
            check(&DkimSignature::new("example.COM", "sel"), &dns).verdict,
            DkimVerdict::Pass
        );
    }

    #[test]
    fn altered_messages_fail() {
        let body = check(
            &DkimSignature::new("example.com", "sel").with_body_altered(),
            &dns(),
        );
        assert_eq!(body.verdict, DkimVerdict::Fail);
        assert_eq!(body.reason, "modelled as failing: body altered in transit");
        let headers = check(
            &DkimSignature::new("example.com", "sel").with_headers_altered(),
            &dns(),
        );
        assert_eq!(headers.verdict, DkimVerdict::Fail);
        assert!(
            headers.reason.contains("headers altered"),
            "{}",
            headers.reason
        );
    }

    #[test]
    fn missing_or_revoked_keys_are_permerrors() {
        let other_selector = check(&DkimSignature::new("example.com", "old"), &dns());
        assert_eq!(other_selector.verdict, DkimVerdict::PermError);
        assert!(
            other_selector.reason.contains("no key published"),
            "{}",
            other_selector.reason
        );
        let revoked = StaticResolver::new().with_txt("sel._domainkey.example.com", "v=DKIM1; p=");
        let result = check(&DkimSignature::new("example.com", "sel"), &revoked);
        assert_eq!(result.verdict, DkimVerdict::PermError);
        assert!(result.reason.contains("revoked"), "{}", result.reason);
        // An altered message with no key is still "no key": the key is looked at first.
        let result = check(
            &DkimSignature::new("example.com", "old").with_body_altered(),
            &dns(),
        );
        assert_eq!(result.verdict, DkimVerdict::PermError);
    }

    #[test]
    fn unusable_key_records() {
        for record in [
            "v=DKIM2; p=abc",
            "k=rsa; v=DKIM1; p=abc",
            "v=DKIM1; k=dsa; p=abc",
            "v=DKIM1; k=rsa",
            "v=DKIM1; p=ab$c",
            "hello world",
        ] {
            let dns = StaticResolver::new().with_txt("sel._domainkey.example.com", record);
            let result = check(&DkimSignature::new("example.com", "sel"), &dns);
            assert_eq!(result.verdict, DkimVerdict::PermError, "{record}");
        }
        // A usable record beside an unusable one is found.
        let dns = StaticResolver::new()
            .with_txt("sel._domainkey.example.com", "some other text")
            .with_txt(
                "sel._domainkey.example.com",
                "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
            );
        assert_eq!(
            check(&DkimSignature::new("example.com", "sel"), &dns).verdict,
            DkimVerdict::Pass
        );
    }

    #[test]
    fn lookup_failures_are_temperrors() {
        let dns = dns().with_failure("sel._domainkey.example.com", LookupError::Timeout);
        let result = check(&DkimSignature::new("example.com", "sel"), &dns);
        assert_eq!(result.verdict, DkimVerdict::TempError);
        assert!(result.reason.contains("timed out"), "{}", result.reason);
    }

    #[test]
    fn malformed_signatures_are_permerrors() {
        for (domain, selector) in [
            ("", "sel"),
            ("com", "sel"),
            ("example.com", ""),
            ("example..com", "s"),
            ("example.com", "a b"),
        ] {
            let result = check(&DkimSignature::new(domain, selector), &dns());
            assert_eq!(
                result.verdict,
                DkimVerdict::PermError,
                "{domain:?} {selector:?}"
            );
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            DkimSignature::new("example.com", "s1").key_name(),
            "s1._domainkey.example.com"
        );
        assert_eq!(DkimVerdict::TempError.to_string(), "temperror");
    }
}
