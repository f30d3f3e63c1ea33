//! Mail received from outside (a learner's own client, `swaks`, a script), checked for real:
//! SPF against the client's address and the envelope sender, every DKIM signature verified
//! by `mail-auth`, and DMARC for the visible From domain, all against a given DNS (a
//! scenario's, with its derived keys, or records given by hand). Nothing goes to the network.

use std::net::IpAddr;

use smtpsim_model::auth::dkim::DkimResult;
use smtpsim_model::auth::dns::Resolver;
use smtpsim_model::auth::{AuthInput, AuthOutcome, Placement, evaluate_with_dkim};
use smtpsim_model::sim::content;

use crate::verify::{DkimCheck, verify};

/// What the checks found for one received message.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Every DKIM signature, verified for real.
    pub dkim: DkimCheck,
    /// SPF, DMARC and the placement, decided by the simulator's rule with this DKIM result,
    /// and the journeys' sentences.
    pub outcome: AuthOutcome,
}

impl Checked {
    /// One sentence per check, SPF, each DKIM signature, DMARC, as a person reads them, then
    /// the verdict in the journeys' sentences.
    pub fn sentences(&self) -> Vec<String> {
        let o = &self.outcome;
        let mut out = vec![format!(
            "SPF {} for {}: {}",
            o.spf.verdict, o.spf.domain, o.spf.reason
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
        out.push(format!("DMARC {}: {}", o.dmarc.verdict, o.dmarc.reason));
        let placement = match &o.placement {
            Placement::Inbox => "inbox".to_string(),
            Placement::Spam => "spam folder".to_string(),
            Placement::Reject(reply) => format!("refused with {reply}"),
        };
        out.push(format!("Verdict ({placement}): {}", o.reasons.join("; ")));
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
    let dkim = verify(message, dns, &[]);
    let from_domain = content::facts_ref(message)
        .owned()
        .from_domain
        .unwrap_or_default();
    let deciding = dkim.deciding();
    let sentence = deciding.map_or_else(|| "not signed".to_string(), |s| s.sentence.clone());
    let dkim_result = DkimResult {
        verdict: dkim.verdict,
        domain: deciding.map(|s| s.domain.to_ascii_lowercase()),
        selector: deciding.map(|s| s.selector.clone()),
        reason: sentence.clone(),
    };
    let input = AuthInput::new(client, helo, mail_from, &from_domain).with_pct_draw(0.0);
    let outcome = evaluate_with_dkim(&input, dkim_result, sentence.into(), dns);
    Checked { dkim, outcome }
}
