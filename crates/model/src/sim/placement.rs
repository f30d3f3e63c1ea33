//! The receiving side's end-of-data check: SPF, DKIM and DMARC evaluated against the
//! scenario's DNS records, then inbox, spam or a 550 5.7.1 refusal.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::Arc;

use smtpsim_proto::server::{Decision, Envelope, SessionInfo};

use super::content;
use crate::auth::dkim::DkimSignature;
use crate::auth::dns::StaticResolver;
use crate::auth::{AuthInput, Placement, evaluate};
use crate::behaviour::EndOfData;
use crate::scenario::Scenario;
use crate::stable_hash::{StableHasher, to_unit};
use rustc_hash::{FxHashMap, FxHasher};

/// Where an accepted message went, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Spam folder rather than inbox.
    pub spam: bool,
    /// The reasons, joined with "; " (shared: many messages have the same; a run is one
    /// thread, so the count need not be atomic).
    pub reasons: Rc<str>,
    /// What the checks found, as the body of an `Authentication-Results:` header (RFC 8601);
    /// empty when the domain does not check.
    pub results: Rc<str>,
}

/// The DNS the scenario describes, as the authentication checks see it: each domain's MX, A,
/// TXT, SPF, DMARC and other records, and a stand-in key record for each `dkim_keys` selector
/// (the simulator models signatures, so any well-formed key does).
pub fn zone(scenario: &Scenario) -> StaticResolver {
    zone_with_keys(scenario, |domain, selector, published| {
        let record = if published {
            "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"
        } else {
            "v=DKIM1; k=rsa; p="
        };
        vec![(
            format!("{selector}._domainkey.{domain}"),
            record.to_string(),
        )]
    })
}

/// The scenario's DNS with the key records of each `dkim_keys` selector given by `keys`
/// (domain, selector, published), as `(name, text)` pairs.
pub fn zone_with_keys(
    scenario: &Scenario,
    keys: impl Fn(&str, &str, bool) -> Vec<(String, String)>,
) -> StaticResolver {
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
            for (key_name, record) in keys(name, selector, *published) {
                zone = zone.with_txt(&key_name, record);
            }
        }
        for (record_name, records) in &d.records {
            for txt in records {
                zone = zone.with_txt(record_name, txt.clone());
            }
        }
    }
    zone
}

/// The seed of receiving domain `name` (lowercase) in a run with `seed`: its behaviour's and
/// its check's draws come from it.
pub(crate) fn domain_seed(seed: u64, name: &str) -> u64 {
    let mut hasher = StableHasher::new();
    hasher.write_u64(seed);
    hasher.write(name.as_bytes());
    hasher.finish()
}

/// The inputs the verdict depends on; equal inputs give equal verdicts, so verdicts are cached
/// by a 64-bit hash of them (the key is kept beside, and checked, in debug builds).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    client: Option<IpAddr>,
    helo: Option<String>,
    mail_from: String,
    facts: content::ContentFacts,
    /// The DMARC `pct=` draw in whole percent (all `pct=` can tell apart).
    percent: u8,
}

/// The end-of-data check of one receiving domain: SPF, DKIM and DMARC against the scenario's
/// simulated DNS, then the placement (inbox, spam, or refused). The simulator puts one behind
/// each domain's MX behaviour; [`AuthCheck::for_domain`] gives other tools the same check.
#[derive(Clone)]
pub struct AuthCheck {
    zone: Arc<StaticResolver>,
    /// The name the checking host gives in `Authentication-Results:`.
    authserv_id: String,
    enabled: bool,
    seed: u64,
    cache: FxHashMap<u64, Cached>,
    last: Option<Verdict>,
    unchecked: Rc<str>,
    no_results: Rc<str>,
}

impl AuthCheck {
    /// The check of `domain` of `scenario` exactly as the simulator run with `seed` makes it.
    /// A domain not in the scenario gets a check that is switched off (accepts everything).
    pub fn for_domain(scenario: &Scenario, seed: u64, domain: &str) -> AuthCheck {
        let name = domain.to_ascii_lowercase();
        let enabled = scenario
            .domains
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(&name))
            .is_some_and(|d| d.behaviour.authentication);
        AuthCheck::new(
            Arc::new(zone(scenario)),
            &name,
            enabled,
            domain_seed(seed, &name),
        )
    }

    pub(crate) fn new(
        zone: Arc<StaticResolver>,
        authserv_id: &str,
        enabled: bool,
        seed: u64,
    ) -> AuthCheck {
        AuthCheck {
            zone,
            authserv_id: authserv_id.to_string(),
            enabled,
            seed,
            cache: FxHashMap::default(),
            last: None,
            unchecked: Rc::from("authentication not checked"),
            no_results: Rc::from(""),
        }
    }

    /// The verdict of the last message accepted or refused at end of data, if not taken.
    pub(crate) fn last_verdict(&self) -> Option<&Verdict> {
        self.last.as_ref()
    }

    /// The verdict of the last message accepted or refused at end of data, once.
    pub(crate) fn take_verdict(&mut self) -> Option<Verdict> {
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
            reasons: reasons.into(),
            results: outcome.authentication_results(&self.authserv_id).into(),
        };
        (outcome.decision(), verdict)
    }
}

/// A cache entry: the verdict, or word that it depends on the DMARC `pct=` draw.
#[derive(Debug, Clone)]
enum Cached {
    Verdict(Decision, Verdict, Option<Box<Key>>),
    DependsOnPct,
}

impl AuthCheck {
    /// Looks `hash` up, judging `key()` on a miss.
    fn cached(&mut self, hash: u64, key: impl Fn() -> Key) -> Cached {
        if let Some(hit) = self.cache.get(&hash) {
            if let Cached::Verdict(_, _, Some(kept)) = hit {
                debug_assert_eq!(**kept, key(), "verdict cache collision");
            }
            return hit.clone();
        }
        let key = key();
        let (decision, verdict) = self.judge(&key);
        let kept = cfg!(debug_assertions).then(|| Box::new(key));
        let entry = Cached::Verdict(decision, verdict, kept);
        self.cache.insert(hash, entry.clone());
        entry
    }
}

impl AuthCheck {
    /// Decides on a message from the facts its content shows.
    pub(crate) fn check(
        &mut self,
        session: &SessionInfo,
        envelope: &Envelope,
        facts: &content::FactsRef<'_>,
    ) -> Decision {
        if !self.enabled {
            self.last = Some(Verdict {
                spam: false,
                reasons: self.unchecked.clone(),
                results: self.no_results.clone(),
            });
            return Decision::Accept;
        }
        // The cache key only names the setup (it decides nothing itself), so a fast hash
        // that reads eight bytes at a time does; `judge` compares names without case.
        let mut h = FxHasher::default();
        session.client_ip.hash(&mut h);
        session.helo.as_deref().hash(&mut h);
        envelope.from.hash(&mut h);
        facts.from_domain.hash(&mut h);
        facts.dkim.hash(&mut h);
        facts.altered.hash(&mut h);
        let key = |percent| Key {
            client: session.client_ip,
            helo: session.helo.clone(),
            mail_from: envelope.from.clone(),
            facts: facts.owned(),
            percent,
        };
        // Most domains publish no `pct=` below 100: then the verdict is the same whatever the
        // draw, and the per-message draw is not needed.
        let general = h.finish();
        // The usual case, a verdict kept for this setup: one lookup.
        if let Some(Cached::Verdict(decision, verdict, kept)) = self.cache.get(&general) {
            debug_assert!(
                kept.as_ref().is_none_or(|k| **k == key(0)),
                "verdict cache collision"
            );
            let decision = decision.clone();
            self.last = Some(verdict.clone());
            return decision;
        }
        if !self.cache.contains_key(&general) {
            let low = self.judge(&key(0));
            let high = self.judge(&key(99));
            let entry = if low == high {
                let kept = cfg!(debug_assertions).then(|| Box::new(key(0)));
                Cached::Verdict(low.0, low.1, kept)
            } else {
                Cached::DependsOnPct
            };
            self.cache.insert(general, entry);
        }
        let entry = match &self.cache[&general] {
            Cached::Verdict(decision, verdict, kept) => {
                debug_assert!(
                    kept.as_ref().is_none_or(|k| **k == key(0)),
                    "verdict cache collision"
                );
                (decision.clone(), verdict.clone())
            }
            Cached::DependsOnPct => {
                let percent = (self.pct_draw(facts) * 100.0) as u8;
                h.write_u64(u64::from(percent));
                match self.cached(h.finish(), || key(percent)) {
                    Cached::Verdict(decision, verdict, _) => (decision, verdict),
                    Cached::DependsOnPct => unreachable!("a per-draw entry is a verdict"),
                }
            }
        };
        self.last = Some(entry.1);
        entry.0
    }

    /// The message's own draw for DMARC `pct=`, from its Message-ID.
    fn pct_draw(&self, facts: &content::FactsRef<'_>) -> f64 {
        let (id, domain) = facts.message_id.unwrap_or((b"", b""));
        let mut h = StableHasher::new();
        h.write_u64(self.seed);
        h.write(id);
        h.write_lowercase(domain);
        to_unit(h.finish())
    }
}

impl EndOfData for AuthCheck {
    fn message(&mut self, session: &SessionInfo, envelope: &Envelope, content: &[u8]) -> Decision {
        self.check(session, envelope, &content::facts_ref(content))
    }
}
