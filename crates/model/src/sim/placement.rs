//! The receiving side's end-of-data check: SPF, DKIM and DMARC evaluated against the
//! scenario's DNS records, then inbox, spam or a 550 5.7.1 refusal.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use smtpsim_proto::server::{Decision, Envelope, SessionInfo};

use super::content;
use crate::auth::dkim::DkimSignature;
use crate::auth::dns::StaticResolver;
use crate::auth::{AuthInput, Placement, evaluate};
use crate::behaviour::EndOfData;
use crate::scenario::Scenario;
use crate::stable_hash::unit_interval;

/// Where an accepted message went, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Spam folder rather than inbox.
    pub spam: bool,
    /// The reasons, joined with "; ".
    pub reasons: String,
}

/// The DNS the scenario describes, as the authentication checks see it.
pub(crate) fn zone(scenario: &Scenario) -> StaticResolver {
    let mut zone = StaticResolver::new();
    for d in &scenario.domains {
        let name = d.name.as_str();
        zone = zone.with_name(name);
        if d.nxdomain {
            zone = zone.with_failure(name, crate::auth::dns::LookupError::NxDomain);
            continue;
        }
        for mx in &d.mx {
            zone = zone.with_mx(name, mx.preference, &mx.host);
            if let Some(ip) = mx.ip {
                zone = zone.with_a(&mx.host, ip);
            }
        }
        for ip in &d.a {
            zone = zone.with_a(name, *ip);
        }
        for txt in d.txt.iter().chain(&d.spf) {
            zone = zone.with_txt(name, txt.clone());
        }
        if let Some(dmarc) = &d.dmarc {
            zone = zone.with_txt(&format!("_dmarc.{name}"), dmarc.clone());
        }
        for (selector, published) in &d.dkim_keys {
            let record = if *published {
                "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"
            } else {
                "v=DKIM1; k=rsa; p="
            };
            zone = zone.with_txt(&format!("{selector}._domainkey.{name}"), record);
        }
        for (record_name, records) in &d.records {
            for txt in records {
                zone = zone.with_txt(record_name, txt.clone());
            }
        }
    }
    zone
}

/// The inputs the verdict depends on; equal inputs give equal verdicts, so they are cached.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    client: Option<IpAddr>,
    helo: Option<String>,
    mail_from: String,
    facts: content::ContentFacts,
    /// The DMARC `pct=` draw in whole percent (all `pct=` can tell apart).
    percent: u8,
}

/// The end-of-data check of one receiving domain.
pub(crate) struct AuthCheck {
    zone: Arc<StaticResolver>,
    enabled: bool,
    seed: u64,
    cache: HashMap<Key, (Decision, Verdict)>,
    last: Option<Verdict>,
}

impl AuthCheck {
    pub fn new(zone: Arc<StaticResolver>, enabled: bool, seed: u64) -> AuthCheck {
        AuthCheck {
            zone,
            enabled,
            seed,
            cache: HashMap::new(),
            last: None,
        }
    }

    /// The verdict of the last message accepted or refused at end of data, once.
    pub fn take_verdict(&mut self) -> Option<Verdict> {
        self.last.take()
    }

    fn judge(&self, key: &Key) -> (Decision, Verdict) {
        let client = key.client.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let helo = key.helo.as_deref().unwrap_or("");
        let from_domain = key.facts.from_domain.as_deref().unwrap_or("");
        let signature = key.facts.dkim.as_ref().map(|(d, s)| {
            let signature = DkimSignature::new(d.clone(), s.clone());
            if key.facts.altered {
                signature.with_body_altered()
            } else {
                signature
            }
        });
        let mut input = AuthInput::new(client, helo, &key.mail_from, from_domain)
            .with_pct_draw((f64::from(key.percent) + 0.5) / 100.0);
        if let Some(signature) = &signature {
            input = input.with_dkim(signature);
        }
        let outcome = evaluate(&input, &*self.zone);
        let reasons = outcome.reasons.join("; ");
        let verdict = Verdict {
            spam: outcome.placement == Placement::Spam,
            reasons,
        };
        (outcome.decision(), verdict)
    }
}

impl EndOfData for AuthCheck {
    fn message(&mut self, session: &SessionInfo, envelope: &Envelope, content: &[u8]) -> Decision {
        if !self.enabled {
            self.last = Some(Verdict {
                spam: false,
                reasons: "authentication not checked".to_string(),
            });
            return Decision::Accept;
        }
        let key = Key {
            client: session.client_ip,
            helo: session.helo.clone(),
            mail_from: envelope.from.clone(),
            facts: content::facts(content),
            percent: (unit_interval(self.seed, &[content]) * 100.0) as u8,
        };
        let (decision, verdict) = match self.cache.get(&key) {
            Some(hit) => hit.clone(),
            None => {
                let judged = self.judge(&key);
                self.cache.insert(key, judged.clone());
                judged
            }
        };
        self.last = Some(verdict);
        decision
    }
}
