//! Reply rules in a connection's policy: the facts of a decision, and the rule's stream.

use rand::Rng;
use smtpsim_proto::server::{Decision, Envelope, SessionInfo};

use super::ServePolicy;
use crate::rules::{Facts, RuleStage};

/// The reason of the decisions that reply rules take (the log names the rule).
pub(super) const RULE: &str = "rule";

/// The sender and the recipients of an envelope, for the rules.
pub(super) fn addresses(envelope: &Envelope) -> Vec<&str> {
    std::iter::once(envelope.from.as_str())
        .chain(envelope.recipients.iter().map(String::as_str))
        .collect()
}

impl ServePolicy {
    /// The reply rule that decides at `stage`, if one applies; it is remembered for the
    /// decision's record. `ehlo` is the name being given at HELO.
    pub(super) fn rule(
        &mut self,
        session: &SessionInfo,
        stage: RuleStage,
        ehlo: Option<&str>,
        addresses: &[&str],
        head: Option<&[u8]>,
    ) -> Option<Decision> {
        let set = self.settings.rules.clone();
        if set.is_empty() {
            return None;
        }
        let facts = Facts {
            stage,
            elapsed: self.shared.start.elapsed(),
            client: session.client_ip,
            ehlo: ehlo.or(session.helo.as_deref()),
            auth: session.authenticated.as_deref(),
            addresses,
            head,
        };
        let (streams, connection) = (&self.shared.streams, self.connection);
        let rngs = &mut self.rule_rngs;
        let verdict = set.decide(&facts, |name| {
            rngs.entry(name.to_string())
                .or_insert_with(|| streams.stream(&format!("rule {name}"), connection))
                .random::<f64>()
        })?;
        self.rule_name = Some(verdict.rule);
        Some(if verdict.close {
            Decision::Disconnect(verdict.reply)
        } else {
            Decision::Refuse(verdict.reply)
        })
    }
}
