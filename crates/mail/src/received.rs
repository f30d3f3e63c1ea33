//! Mail received from outside (a learner's own client, `swaks`, a script), checked for real:
//! SPF against the client's address and the envelope sender, every DKIM signature verified
//! by `mail-auth`, and DMARC for the visible From domain, all against a given DNS (a
//! scenario's, with its derived keys, or records given by hand). Nothing goes to the network.

use std::cell::RefCell;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::Arc;

use smtpsim_model::behaviour::EndOfData;
use smtpsim_proto::server::{Decision, Envelope, SessionInfo};

use smtpsim_model::auth::dkim::DkimResult;
use smtpsim_model::auth::dns::Resolver;
use smtpsim_model::auth::{AuthInput, AuthOutcome, Placement, evaluate_with_dkim};
use smtpsim_model::sim::content;

use crate::verify::{DkimCheck, SignatureCheck, verify};

/// The results of [`Checked`] as a program reads them (the `--http` API's JSON).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// SPF's result (`pass`, `fail`, `softfail`, `neutral`, `none`, ...).
    pub spf: String,
    /// The domain SPF checked.
    pub spf_domain: String,
    /// DKIM's overall result: `pass` if one signature verifies.
    pub dkim: String,
    /// Each signature, verified for real.
    pub signatures: Vec<SignatureCheck>,
    /// DMARC's result.
    pub dmarc: String,
    /// `inbox`, `spam` or `refused`.
    pub placement: String,
    /// The sentences of [`Checked::sentences`].
    pub sentences: Vec<String>,
}

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

    /// The results and sentences, for a program.
    pub fn summary(&self) -> Summary {
        let o = &self.outcome;
        Summary {
            spf: o.spf.verdict.to_string(),
            spf_domain: o.spf.domain.clone(),
            dkim: self.dkim.verdict.as_str().to_string(),
            signatures: self.dkim.signatures.clone(),
            dmarc: o.dmarc.verdict.to_string(),
            placement: match o.placement {
                Placement::Inbox => "inbox",
                Placement::Spam => "spam",
                Placement::Reject(_) => "refused",
            }
            .to_string(),
            sentences: self.sentences(),
        }
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
    check_signed(message, client, helo, mail_from, dns, &[])
}

/// [`check`], for a message whose signing the caller saw: `signed_header_hashes` gives the
/// header hash of each signature when made, by `a=` (see [`verify`]), so that a signature
/// broken by a changed header shows the two hashes.
pub fn check_signed(
    message: &[u8],
    client: IpAddr,
    helo: &str,
    mail_from: &str,
    dns: &dyn Resolver,
    signed_header_hashes: &[(String, String)],
) -> Checked {
    let dkim = verify(message, dns, signed_header_hashes);
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

/// The receiving side's end-of-data check with DKIM verified for real, for a session a
/// person types or runs (`repl`, `converse`): each message is [`check`]ed against the DNS,
/// refused when DMARC says reject, and what the check found is left in a slot the driver
/// shares, to be shown.
pub struct RealCheck {
    dns: Arc<dyn Resolver>,
    slot: Rc<RefCell<CheckSlot>>,
}

/// What a [`RealCheck`] and its driver share.
#[derive(Debug, Default)]
pub struct CheckSlot {
    /// Set by the driver before a message it signed goes in: the header hash of each
    /// signature when made, by `a=` (taken by the next check).
    pub signed_header_hashes: Vec<(String, String)>,
    /// Set by the check: what it found about the last message.
    pub found: Option<Checked>,
}

impl RealCheck {
    /// A check against `dns` sharing `slot` with its driver.
    pub fn new(dns: Arc<dyn Resolver>, slot: Rc<RefCell<CheckSlot>>) -> RealCheck {
        RealCheck { dns, slot }
    }
}

impl EndOfData for RealCheck {
    fn message(&mut self, session: &SessionInfo, envelope: &Envelope, content: &[u8]) -> Decision {
        let client = session.client_ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let helo = session.helo.as_deref().unwrap_or("");
        let mut slot = self.slot.borrow_mut();
        let hashes = std::mem::take(&mut slot.signed_header_hashes);
        let checked = check_signed(
            content,
            client,
            helo,
            &envelope.from,
            self.dns.as_ref(),
            &hashes,
        );
        let decision = checked.outcome.decision();
        slot.found = Some(checked);
        decision
    }
}
