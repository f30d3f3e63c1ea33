//! Mail received from outside (a learner's own client, `swaks`, a script), checked for real:
//! SPF against the client's address and the envelope sender, every DKIM signature verified
//! by `mail-auth`, and DMARC for the visible From domain, all against a given DNS (a
//! scenario's, with its derived keys, or records given by hand). Nothing goes to the network.

use std::net::IpAddr;

use smtpsim_model::auth::dkim::{DkimResult, DkimVerdict};
use smtpsim_model::auth::dmarc::{self, DmarcResult};
use smtpsim_model::auth::dns::Resolver;
use smtpsim_model::auth::spf::{self, SpfQuery, SpfResult};
use smtpsim_model::sim::content;

use crate::verify::{DkimCheck, verify};

/// What the checks found for one received message.
#[derive(Debug, Clone)]
pub struct Checked {
    /// SPF for the envelope sender's domain (the HELO name for a null sender).
    pub spf: SpfResult,
    /// Every DKIM signature, verified for real.
    pub dkim: DkimCheck,
    /// DMARC for the visible From domain.
    pub dmarc: DmarcResult,
    /// The visible From domain, if the message has one.
    pub from_domain: Option<String>,
}

impl Checked {
    /// One sentence per check, SPF, each DKIM signature, DMARC, as a person reads them.
    pub fn sentences(&self) -> Vec<String> {
        let mut out = vec![format!(
            "SPF {} for {}: {}",
            self.spf.verdict, self.spf.domain, self.spf.reason
        )];
        if self.dkim.signatures.is_empty() {
            out.push("DKIM none: the message carries no DKIM-Signature".to_string());
        }
        for s in &self.dkim.signatures {
            out.push(format!(
                "DKIM {} (d={} s={}): {}",
                s.verdict, s.domain, s.selector, s.sentence
            ));
        }
        out.push(format!(
            "DMARC {}: {}",
            self.dmarc.verdict, self.dmarc.reason
        ));
        out
    }
}

/// Checks `message`, received from `client` which said `helo` and gave `mail_from` (empty
/// for the null sender), against `dns`. DMARC's `pct=` sampling takes the message in.
pub fn check(
    message: &[u8],
    client: IpAddr,
    helo: &str,
    mail_from: &str,
    dns: &dyn Resolver,
) -> Checked {
    let spf = spf::check(&SpfQuery::for_mail_from(client, mail_from, helo), dns);
    let dkim = verify(message, dns, &[]);
    let from_domain = content::facts_ref(message).owned().from_domain;
    let deciding = dkim.deciding();
    let dkim_result = DkimResult {
        verdict: dkim.verdict,
        domain: deciding.map(|s| s.domain.to_ascii_lowercase()),
        selector: deciding.map(|s| s.selector.clone()),
        reason: deciding.map_or_else(|| "not signed".to_string(), |s| s.sentence.clone()),
    };
    let dmarc = dmarc::evaluate(
        from_domain.as_deref().unwrap_or(""),
        &spf,
        &dkim_result,
        0.0,
        dns,
    );
    debug_assert!(dkim.verdict != DkimVerdict::Pass || deciding.is_some());
    Checked {
        spf,
        dkim,
        dmarc,
        from_domain,
    }
}
