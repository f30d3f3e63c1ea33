//! Putting SPF, DKIM and DMARC together: reject at end of data, or place in inbox or spam.
//!
//! See the [module documentation](super) for the placement rule.

use std::borrow::Cow;
use std::net::IpAddr;

use smtpsim_proto::server::Decision;
use smtpsim_proto::{EnhancedCode, Reply, ReplyCode};

use super::dkim::{self, DkimResult, DkimSignature, DkimVerdict};
use super::dmarc::{self, Disposition, DmarcResult, DmarcVerdict};
use super::dns::Resolver;
use super::spf::{self, SpfQuery, SpfResult, SpfVerdict};

/// The reply code of a DMARC rejection.
pub const REJECT_CODE: u16 = 550;
/// The enhanced code of a DMARC rejection (5.7.1: delivery not authorised, message refused).
pub const REJECT_ENHANCED: (u8, u16, u16) = (5, 7, 1);

/// What the receiving side knows when the message's data has ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AuthInput<'a> {
    /// The connecting relay's address.
    pub client_ip: IpAddr,
    /// The name the relay gave in HELO/EHLO.
    pub helo: &'a str,
    /// The envelope sender (MAIL FROM reverse-path without angle brackets); `""` for the null
    /// reverse-path `<>`, in which case SPF checks the HELO name.
    pub mail_from: &'a str,
    /// The domain of the visible `From:` header.
    pub from_domain: &'a str,
    /// The DKIM signature the message carries, if any.
    pub dkim: Option<&'a DkimSignature>,
    /// A uniform draw in `[0, 1)` deciding whether a DMARC `pct=` below 100 applies to this
    /// message.
    pub pct_draw: f64,
}

impl<'a> AuthInput<'a> {
    /// An unsigned message with a draw of 0 (a `pct=` above 0 always applies).
    pub fn new(
        client_ip: IpAddr,
        helo: &'a str,
        mail_from: &'a str,
        from_domain: &'a str,
    ) -> AuthInput<'a> {
        AuthInput {
            client_ip,
            helo,
            mail_from,
            from_domain,
            dkim: None,
            pct_draw: 0.0,
        }
    }

    /// The same message signed with `signature`.
    pub fn with_dkim(mut self, signature: &'a DkimSignature) -> AuthInput<'a> {
        self.dkim = Some(signature);
        self
    }

    /// The same message with another `pct=` draw.
    pub fn with_pct_draw(mut self, draw: f64) -> AuthInput<'a> {
        self.pct_draw = draw;
        self
    }
}

/// Where the message ends up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Delivered to the inbox.
    Inbox,
    /// Accepted, and delivered to the spam (junk) folder.
    Spam,
    /// Refused at end of data with this reply (550 5.7.1 for a DMARC `p=reject`).
    Reject(Reply),
}

impl Placement {
    /// `inbox`, `spam` or `reject`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Placement::Inbox => "inbox",
            Placement::Spam => "spam",
            Placement::Reject(_) => "reject",
        }
    }
}

/// Everything the checks found, where the message goes, and why in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthOutcome {
    /// The visible From domain the checks were about.
    pub from_domain: String,
    /// SPF for the MAIL FROM domain (or the HELO name for a null sender).
    pub spf: SpfResult,
    /// DKIM for the message's signature.
    pub dkim: DkimResult,
    /// DMARC for the visible From domain.
    pub dmarc: DmarcResult,
    /// Where the message goes.
    pub placement: Placement,
    /// Sentences explaining the placement, in order: SPF, DKIM, DMARC, then the placement
    /// itself (such as `"sender IP allowed by domain policy"`, `"signed with domain key"`,
    /// `"visible From aligns with SPF or DKIM"`, `"placed in inbox"`).
    pub reasons: Vec<Cow<'static, str>>,
}

impl AuthOutcome {
    /// Whether `reason` is one of the reasons given.
    pub fn has_reason(&self, reason: &str) -> bool {
        self.reasons.iter().any(|r| r == reason)
    }

    /// The answer a server policy gives at end of data: refuse with the rejection reply, or
    /// accept (placement in inbox or spam happens after acceptance).
    pub fn decision(&self) -> Decision {
        match &self.placement {
            Placement::Reject(reply) => Decision::Refuse(reply.clone()),
            Placement::Inbox | Placement::Spam => Decision::Accept,
        }
    }

    /// The body of an `Authentication-Results:` header (RFC 8601) for these results, such as
    /// `mx.example.net; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com;
    /// dmarc=pass header.from=example.com`.
    pub fn authentication_results(&self, authserv_id: &str) -> String {
        let dkim = match &self.dkim.domain {
            Some(d) => format!("dkim={} header.d={d}", self.dkim.verdict),
            None => format!("dkim={}", self.dkim.verdict),
        };
        format!(
            "{authserv_id}; spf={} smtp.mailfrom={}; {dkim}; dmarc={} header.from={}",
            self.spf.verdict, self.spf.domain, self.dmarc.verdict, self.from_domain
        )
    }
}

/// Runs SPF, DKIM and DMARC for one message and decides its placement.
///
/// ```
/// use smtpsim_model::auth::{evaluate, AuthInput, Placement};
/// use smtpsim_model::auth::dns::StaticResolver;
///
/// let dns = StaticResolver::new()
///     .with_txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all")
///     .with_txt("_dmarc.example.com", "v=DMARC1; p=reject");
/// let good = AuthInput::new("192.0.2.7".parse().unwrap(), "mail.example.com", "bob@example.com", "example.com");
/// let outcome = evaluate(&good, &dns);
/// assert_eq!(outcome.placement, Placement::Inbox);
/// assert!(outcome.has_reason("sender IP allowed by domain policy"));
///
/// let forged = AuthInput::new("203.0.113.9".parse().unwrap(), "x.example.net", "bob@example.com", "example.com");
/// let outcome = evaluate(&forged, &dns);
/// let Placement::Reject(reply) = &outcome.placement else { panic!() };
/// assert_eq!(reply.code.get(), 550);
/// assert!(outcome.has_reason("DMARC policy reject: visible From not aligned"));
/// ```
pub fn evaluate<R: Resolver + ?Sized>(input: &AuthInput<'_>, resolver: &R) -> AuthOutcome {
    let dkim = dkim::verify(input.dkim, resolver);
    let sentence = dkim_sentence(&dkim, input.dkim);
    evaluate_with_dkim(input, dkim, sentence.into(), resolver)
}

/// [`evaluate`] with the DKIM result given rather than modelled from `input.dkim` (a signature
/// verified for real elsewhere), with the sentence that says why: SPF, DMARC and the placement
/// are decided exactly as [`evaluate`] decides them.
pub fn evaluate_with_dkim<R: Resolver + ?Sized>(
    input: &AuthInput<'_>,
    dkim: DkimResult,
    dkim_sentence: Cow<'static, str>,
    resolver: &R,
) -> AuthOutcome {
    let query = SpfQuery::for_mail_from(input.client_ip, input.mail_from, input.helo);
    let spf = spf::check(&query, resolver);
    let dmarc = dmarc::evaluate(input.from_domain, &spf, &dkim, input.pct_draw, resolver);

    let mut reasons: Vec<Cow<'static, str>> = Vec::with_capacity(4);
    reasons.push(spf_sentence(spf.verdict).into());
    reasons.push(dkim_sentence);
    reasons.push(dmarc_sentence(&dmarc));

    let placement = match (dmarc.verdict, dmarc.policy) {
        (DmarcVerdict::Fail, Some(Disposition::Reject)) => {
            reasons.push("rejected at end of data: DMARC policy reject".into());
            Placement::Reject(reject_reply(input.from_domain))
        }
        (DmarcVerdict::Fail, Some(Disposition::Quarantine)) => {
            reasons.push("placed in spam: DMARC policy quarantine".into());
            Placement::Spam
        }
        (DmarcVerdict::Pass, _) => {
            reasons.push("placed in inbox".into());
            Placement::Inbox
        }
        // No usable policy, or p=none: SPF and DKIM decide on their own.
        _ => match (spf.verdict, dkim.verdict) {
            (SpfVerdict::Fail, _) => {
                reasons.push("placed in spam: sender IP not allowed by domain policy".into());
                Placement::Spam
            }
            (SpfVerdict::SoftFail, verdict) if verdict != DkimVerdict::Pass => {
                reasons.push("placed in spam: SPF softfail and no DKIM pass".into());
                Placement::Spam
            }
            _ => {
                reasons.push("placed in inbox".into());
                Placement::Inbox
            }
        },
    };
    AuthOutcome {
        from_domain: input.from_domain.to_owned(),
        spf,
        dkim,
        dmarc,
        placement,
        reasons,
    }
}

fn reject_reply(from_domain: &str) -> Reply {
    let (class, subject, detail) = REJECT_ENHANCED;
    Reply::new(
        ReplyCode::new(REJECT_CODE).expect("550 is a reply code"),
        Some(EnhancedCode::new(class, subject, detail)),
        format!(
            "Message rejected: DMARC policy of {from_domain} is reject and the visible From is \
             not aligned with SPF or DKIM"
        ),
    )
}

fn spf_sentence(verdict: SpfVerdict) -> &'static str {
    match verdict {
        SpfVerdict::Pass => "sender IP allowed by domain policy",
        SpfVerdict::Fail => "sender IP not allowed by domain policy",
        SpfVerdict::SoftFail => "sender IP discouraged by domain policy (SPF softfail)",
        SpfVerdict::Neutral => "domain policy makes no statement about sender IP",
        SpfVerdict::None => "sender domain publishes no SPF policy",
        SpfVerdict::TempError => "SPF check failed for now (DNS error)",
        SpfVerdict::PermError => "sender domain's SPF record is broken",
    }
}

fn dkim_sentence(result: &DkimResult, signature: Option<&DkimSignature>) -> &'static str {
    match result.verdict {
        DkimVerdict::Pass => "DKIM signature modelled as valid (domain key published)",
        DkimVerdict::None => "not signed",
        DkimVerdict::Fail if signature.is_some_and(|s| s.body_altered) => {
            "DKIM signature modelled as broken: body altered in transit"
        }
        DkimVerdict::Fail => "DKIM signature modelled as broken: signed headers altered in transit",
        DkimVerdict::PermError => "signing key not published or revoked",
        DkimVerdict::TempError => "signing key lookup failed for now (DNS error)",
    }
}

fn dmarc_sentence(result: &DmarcResult) -> Cow<'static, str> {
    match (result.verdict, result.policy) {
        (DmarcVerdict::Pass, _) => "visible From aligns with SPF or DKIM".into(),
        (DmarcVerdict::Fail, Some(Disposition::Reject)) => {
            "DMARC policy reject: visible From not aligned".into()
        }
        (DmarcVerdict::Fail, Some(Disposition::Quarantine)) => {
            "DMARC policy quarantine: visible From not aligned".into()
        }
        (DmarcVerdict::Fail, _) => "DMARC policy none: visible From not aligned".into(),
        (DmarcVerdict::None, _) => "From domain publishes no DMARC policy".into(),
        (DmarcVerdict::TempError, _) => "DMARC policy lookup failed for now (DNS error)".into(),
        (DmarcVerdict::PermError, _) => format!("DMARC record unusable: {}", result.reason).into(),
    }
}
