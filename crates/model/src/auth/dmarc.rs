//! DMARC (RFC 7489): does the visible From domain align with what SPF or DKIM proved, and
//! what does that domain ask receivers to do when it does not?
//!
//! [`evaluate`] finds the policy record at `_dmarc.<From domain>`, or failing that at
//! `_dmarc.<organisational domain>`, parses it ([`DmarcRecord::parse`]) and checks alignment:
//! DMARC passes when SPF passed for a domain aligned with From (the MAIL FROM domain, or the
//! HELO name for a null sender) or DKIM passed with an aligned `d=`.
//!
//! Choices and limits of this model:
//!
//! - **Organisational domain**: the last two labels of the name, or the last three when the
//!   last two are one of a short built-in list of multi-label public suffixes (`co.uk`,
//!   `com.au`, `co.jp` and about a hundred more, see [`organizational_domain`]). The full
//!   Public Suffix List is not shipped.
//! - **Record syntax**: `v=DMARC1` must be the first tag (names and values compared without
//!   regard to case). A missing or invalid `p=`, or an invalid `sp=`, makes the record unusable
//!   (a `PermError`; the RFC's fallback to `p=none` when `rua=` is present is not modelled).
//!   Invalid `adkim=`, `aspf=` or `pct=` values fall back to their defaults (`r`, `r`, `100`),
//!   as RFC 7489 section 6.3 asks. `rua`, `ruf`, `fo`, `rf`, `ri` and unknown tags are ignored.
//! - **pct**: the caller supplies a uniform draw in `[0, 1)`; the policy is applied when
//!   `draw < pct / 100`, otherwise it is lowered one step (`reject` to `quarantine`,
//!   `quarantine` to `none`), as RFC 7489 section 6.6.4 says.
//! - More than one DMARC record at the name that has one is a `PermError`; a DNS failure is a
//!   `TempError`; no record at either name is `None`.

use std::cmp::Ordering;
use std::fmt;

use super::dkim::{DkimResult, DkimVerdict};
use super::dns::{LookupError, Resolver, same_name};
use super::spf::{SpfResult, SpfVerdict};
use super::tags::tag_list;

/// What a domain asks receivers to do with mail that fails DMARC (`p=` and `sp=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// `none`: deliver as usual (monitoring only).
    None,
    /// `quarantine`: treat as suspicious (the spam folder).
    Quarantine,
    /// `reject`: refuse the message during the SMTP transaction.
    Reject,
}

impl Disposition {
    /// The record's spelling: `none`, `quarantine` or `reject`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Disposition::None => "none",
            Disposition::Quarantine => "quarantine",
            Disposition::Reject => "reject",
        }
    }

    fn parse(value: &str) -> Option<Disposition> {
        [
            Disposition::None,
            Disposition::Quarantine,
            Disposition::Reject,
        ]
        .into_iter()
        .find(|d| value.eq_ignore_ascii_case(d.as_str()))
    }

    /// One step milder: the policy applied to a message left out by `pct=`.
    pub const fn lowered(self) -> Disposition {
        match self {
            Disposition::Reject => Disposition::Quarantine,
            Disposition::Quarantine | Disposition::None => Disposition::None,
        }
    }
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How closely an authenticated domain must match the From domain (`adkim=`, `aspf=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Alignment {
    /// `r` (the default): the same organisational domain.
    #[default]
    Relaxed,
    /// `s`: exactly the same domain.
    Strict,
}

/// A parsed DMARC policy record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DmarcRecord {
    /// `p=`: the policy for the domain itself.
    pub policy: Disposition,
    /// `sp=`: the policy for its subdomains, when the record is found at the organisational
    /// domain (`None`: the same as `p=`).
    pub subdomain_policy: Option<Disposition>,
    /// `adkim=`: DKIM alignment mode.
    pub adkim: Alignment,
    /// `aspf=`: SPF alignment mode.
    pub aspf: Alignment,
    /// `pct=`: the percentage of failing mail the policy applies to, 0..=100.
    pub pct: u8,
}

/// What makes a DMARC record unusable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum DmarcParseError {
    /// The first tag is not `v=DMARC1`.
    #[error("not a DMARC record (first tag is not v=DMARC1)")]
    NotDmarc,
    /// No `p=` tag.
    #[error("DMARC record has no p= tag")]
    MissingPolicy,
    /// A `p=` other than none, quarantine or reject.
    #[error("DMARC record has an invalid p={0}")]
    InvalidPolicy(String),
    /// An `sp=` other than none, quarantine or reject.
    #[error("DMARC record has an invalid sp={0}")]
    InvalidSubdomainPolicy(String),
}

/// Whether a TXT record is a DMARC record: its first tag is `v=DMARC1`.
pub fn is_dmarc_record(text: &str) -> bool {
    matches!(tag_list(text).next(), Some(Ok((name, value)))
        if name.eq_ignore_ascii_case("v") && value.eq_ignore_ascii_case("DMARC1"))
}

impl DmarcRecord {
    /// Parses a DMARC record.
    ///
    /// ```
    /// use smtpsim_model::auth::dmarc::{Alignment, Disposition, DmarcRecord};
    ///
    /// let record = DmarcRecord::parse("v=DMARC1; p=quarantine; sp=reject; adkim=s; pct=25; rua=mailto:d@example.com").unwrap();
    /// assert_eq!(record.policy, Disposition::Quarantine);
    /// assert_eq!(record.subdomain_policy, Some(Disposition::Reject));
    /// assert_eq!(record.adkim, Alignment::Strict);
    /// assert_eq!(record.aspf, Alignment::Relaxed);
    /// assert_eq!(record.pct, 25);
    /// assert!(DmarcRecord::parse("v=DMARC1; rua=mailto:d@example.com").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<DmarcRecord, DmarcParseError> {
        if !is_dmarc_record(text) {
            return Err(DmarcParseError::NotDmarc);
        }
        let (mut policy, mut subdomain_policy, mut adkim, mut aspf, mut pct) =
            (None, None, None, None, None);
        // Pieces that are not tags are syntax errors to be ignored (RFC 7489 section 6.3).
        for (name, value) in tag_list(text).skip(1).filter_map(Result::ok) {
            let is = |n: &str| name.eq_ignore_ascii_case(n);
            if is("p") && policy.is_none() {
                policy = Some(
                    Disposition::parse(value)
                        .ok_or_else(|| DmarcParseError::InvalidPolicy(value.to_owned()))?,
                );
            } else if is("sp") && subdomain_policy.is_none() {
                subdomain_policy =
                    Some(Disposition::parse(value).ok_or_else(|| {
                        DmarcParseError::InvalidSubdomainPolicy(value.to_owned())
                    })?);
            } else if is("adkim") && adkim.is_none() {
                adkim = Some(alignment(value));
            } else if is("aspf") && aspf.is_none() {
                aspf = Some(alignment(value));
            } else if is("pct") && pct.is_none() {
                pct = Some(
                    value
                        .parse::<u8>()
                        .ok()
                        .filter(|p| *p <= 100)
                        .unwrap_or(100),
                );
            }
        }
        Ok(DmarcRecord {
            policy: policy.ok_or(DmarcParseError::MissingPolicy)?,
            subdomain_policy,
            adkim: adkim.unwrap_or_default(),
            aspf: aspf.unwrap_or_default(),
            pct: pct.unwrap_or(100),
        })
    }
}

fn alignment(value: &str) -> Alignment {
    if value.eq_ignore_ascii_case("s") {
        Alignment::Strict
    } else {
        Alignment::Relaxed
    }
}

/// Two-label public suffixes under which organisations register names (sorted, lower case).
#[rustfmt::skip]
const MULTI_LABEL_SUFFIXES: &[&str] = &[
    "ac.id", "ac.il", "ac.in", "ac.jp", "ac.kr", "ac.nz", "ac.th", "ac.uk", "ac.za", "ad.jp",
    "asn.au", "co.at", "co.id", "co.il", "co.in", "co.jp", "co.ke", "co.kr", "co.nz", "co.th",
    "co.uk", "co.za", "com.ar", "com.au", "com.br", "com.cn", "com.co", "com.eg", "com.es",
    "com.hk", "com.mx", "com.my", "com.ng", "com.ph", "com.pk", "com.pl", "com.sa", "com.sg",
    "com.tr", "com.tw", "com.ua", "com.vn", "ed.jp", "edu.au", "edu.br", "edu.cn", "edu.hk",
    "edu.mx", "edu.sg", "edu.tw", "firm.in", "gen.in", "go.id", "go.jp", "go.kr", "go.th", "gob.ar",
    "gob.mx", "gov.au", "gov.br", "gov.cn", "gov.hk", "gov.il", "gov.in", "gov.my", "gov.sg",
    "gov.tr", "gov.tw", "gov.uk", "gov.za", "govt.nz", "gr.jp", "id.au", "in.th", "ind.in", "lg.jp",
    "ltd.uk", "me.uk", "ne.jp", "ne.kr", "net.au", "net.br", "net.cn", "net.in", "net.mx", "net.nz",
    "net.pl", "net.uk", "net.za", "nhs.uk", "or.at", "or.id", "or.jp", "or.kr", "org.au", "org.br",
    "org.cn", "org.hk", "org.il", "org.in", "org.mx", "org.nz", "org.sg", "org.tr", "org.tw",
    "org.uk", "org.za", "plc.uk", "sch.uk", "school.nz",
];

fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|b| b.to_ascii_lowercase())
        .cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
}

/// The organisational domain of `domain` (RFC 7489 section 3.2), by this model's simple rule:
/// the last two labels, or the last three when the last two form a listed multi-label public
/// suffix such as `co.uk`. A name of fewer labels is its own organisational domain. The
/// result is a suffix of `domain` (trailing dot removed), in its original case.
///
/// ```
/// use smtpsim_model::auth::dmarc::organizational_domain;
///
/// assert_eq!(organizational_domain("mail.eu.example.com"), "example.com");
/// assert_eq!(organizational_domain("news.bbc.co.uk."), "bbc.co.uk");
/// assert_eq!(organizational_domain("localhost"), "localhost");
/// ```
pub fn organizational_domain(domain: &str) -> &str {
    let name = domain.strip_suffix('.').unwrap_or(domain);
    let suffix = |labels: usize| -> &str {
        let mut start = name.len();
        for _ in 0..labels {
            match name[..start].rfind('.') {
                Some(dot) => start = dot,
                None => return name,
            }
        }
        &name[start + 1..]
    };
    let last_two = suffix(2);
    if MULTI_LABEL_SUFFIXES
        .binary_search_by(|s| cmp_ignore_case(s, last_two))
        .is_ok()
    {
        suffix(3)
    } else {
        last_two
    }
}

/// Whether an authenticated domain is aligned with the From domain: the same name (strict) or
/// the same organisational domain (relaxed). An empty domain is never aligned.
pub fn aligned(authenticated: &str, from_domain: &str, mode: Alignment) -> bool {
    if authenticated.is_empty() || from_domain.is_empty() {
        return false;
    }
    match mode {
        Alignment::Strict => same_name(authenticated, from_domain),
        Alignment::Relaxed => same_name(
            organizational_domain(authenticated),
            organizational_domain(from_domain),
        ),
    }
}

/// The DMARC result (RFC 8601 section 2.7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DmarcVerdict {
    /// No DMARC record for the From domain or its organisational domain.
    None,
    /// SPF or DKIM passed for a domain aligned with From.
    Pass,
    /// Neither did.
    Fail,
    /// The record could not be fetched for now.
    TempError,
    /// The record is unusable (syntax, several records, no From domain).
    PermError,
}

impl DmarcVerdict {
    /// The lower-case name used in `Authentication-Results` headers.
    pub const fn as_str(self) -> &'static str {
        match self {
            DmarcVerdict::None => "none",
            DmarcVerdict::Pass => "pass",
            DmarcVerdict::Fail => "fail",
            DmarcVerdict::TempError => "temperror",
            DmarcVerdict::PermError => "permerror",
        }
    }
}

impl fmt::Display for DmarcVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the DMARC check found, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DmarcResult {
    /// The result.
    pub verdict: DmarcVerdict,
    /// The domain whose `_dmarc` record was used (the From domain or its organisational
    /// domain).
    pub policy_domain: Option<String>,
    /// The record used.
    pub record: Option<DmarcRecord>,
    /// On [`DmarcVerdict::Fail`], the disposition to apply: `p=` (or `sp=` for a subdomain),
    /// lowered one step when the message falls outside `pct=`. `None` otherwise.
    pub policy: Option<Disposition>,
    /// SPF passed for a domain aligned with From.
    pub spf_aligned: bool,
    /// DKIM passed with a `d=` aligned with From.
    pub dkim_aligned: bool,
    /// A sentence saying how the result came about.
    pub reason: String,
}

/// Checks DMARC for a message whose visible From domain is `from_domain`, given the SPF
/// result for its MAIL FROM (or HELO) domain and the DKIM result. `pct_draw` is a uniform draw
/// in `[0, 1)` deciding whether a `pct=` below 100 applies the policy to this message (values
/// outside the range are clamped; NaN counts as 0).
pub fn evaluate<R: Resolver + ?Sized>(
    from_domain: &str,
    spf: &SpfResult,
    dkim: &DkimResult,
    pct_draw: f64,
    resolver: &R,
) -> DmarcResult {
    let mut result = DmarcResult {
        verdict: DmarcVerdict::None,
        policy_domain: None,
        record: None,
        policy: None,
        spf_aligned: false,
        dkim_aligned: false,
        reason: String::new(),
    };
    let (policy_domain, record) = match discover(from_domain, resolver) {
        Ok(found) => found,
        Err((verdict, reason)) => {
            // Without a record, report alignment as the default (relaxed) mode would see it.
            set_alignment(
                &mut result,
                from_domain,
                spf,
                dkim,
                Alignment::Relaxed,
                Alignment::Relaxed,
            );
            result.verdict = verdict;
            result.reason = reason;
            return result;
        }
    };
    set_alignment(
        &mut result,
        from_domain,
        spf,
        dkim,
        record.aspf,
        record.adkim,
    );
    let is_subdomain = !same_name(&policy_domain, from_domain);
    result.policy_domain = Some(policy_domain);
    result.record = Some(record);
    if result.spf_aligned || result.dkim_aligned {
        result.verdict = DmarcVerdict::Pass;
        result.reason = match (result.spf_aligned, &dkim.domain) {
            (true, _) => format!(
                "From {from_domain} aligns with SPF-authenticated {}",
                spf.domain
            ),
            (false, Some(d)) => format!("From {from_domain} aligns with DKIM d={d}"),
            (false, None) => format!("From {from_domain} aligns with DKIM"),
        };
        return result;
    }
    let requested = match (is_subdomain, record.subdomain_policy) {
        (true, Some(sp)) => sp,
        _ => record.policy,
    };
    let draw = if pct_draw.is_nan() {
        0.0
    } else {
        pct_draw.clamp(0.0, 1.0)
    };
    let sampled = record.pct >= 100 || draw * 100.0 < f64::from(record.pct);
    let applied = if sampled {
        requested
    } else {
        requested.lowered()
    };
    result.verdict = DmarcVerdict::Fail;
    result.policy = Some(applied);
    let mut reason = format!(
        "From {from_domain} aligns with neither SPF ({} {}) nor DKIM ({} {})",
        spf.verdict,
        spf.domain,
        dkim.verdict,
        dkim.domain.as_deref().unwrap_or("unsigned"),
    );
    if !sampled {
        reason.push_str(&format!(
            "; outside pct={}, so {requested} is lowered to {applied}",
            record.pct
        ));
    }
    result.reason = reason;
    result
}

fn set_alignment(
    result: &mut DmarcResult,
    from_domain: &str,
    spf: &SpfResult,
    dkim: &DkimResult,
    aspf: Alignment,
    adkim: Alignment,
) {
    result.spf_aligned = spf.verdict == SpfVerdict::Pass && aligned(&spf.domain, from_domain, aspf);
    result.dkim_aligned = dkim.verdict == DkimVerdict::Pass
        && dkim
            .domain
            .as_deref()
            .is_some_and(|d| aligned(d, from_domain, adkim));
}

/// Policy discovery (RFC 7489 section 6.6.3): the record and the domain it was found at, or the
/// verdict and reason when there is none to use.
fn discover<R: Resolver + ?Sized>(
    from_domain: &str,
    resolver: &R,
) -> Result<(String, DmarcRecord), (DmarcVerdict, String)> {
    let from = from_domain.strip_suffix('.').unwrap_or(from_domain);
    if from.is_empty() || from.split('.').any(str::is_empty) {
        return Err((
            DmarcVerdict::PermError,
            format!("visible From has no usable domain ({from_domain:?})"),
        ));
    }
    let org = organizational_domain(from);
    let mut names = vec![from];
    if !same_name(org, from) {
        names.push(org);
    }
    for name in names {
        let query = format!("_dmarc.{name}");
        let records = match resolver.txt(&query) {
            Ok(records) => records,
            Err(LookupError::NxDomain) => continue,
            Err(error) => {
                return Err((
                    DmarcVerdict::TempError,
                    format!("TXT lookup of {query}: {error}"),
                ));
            }
        };
        let mut found = records.iter().filter(|r| is_dmarc_record(r.as_str()));
        let text = match (found.next(), found.next()) {
            (None, _) => continue,
            (Some(_), Some(_)) => {
                return Err((
                    DmarcVerdict::PermError,
                    format!("more than one DMARC record at {query}"),
                ));
            }
            (Some(text), None) => text,
        };
        return match DmarcRecord::parse(text) {
            Ok(record) => Ok((name.to_owned(), record)),
            Err(error) => Err((DmarcVerdict::PermError, format!("{error} at {query}"))),
        };
    }
    let reason = if same_name(org, from) {
        format!("no DMARC record for {from}")
    } else {
        format!("no DMARC record for {from} or {org}")
    };
    Err((DmarcVerdict::None, reason))
}

#[cfg(test)]
mod tests;
