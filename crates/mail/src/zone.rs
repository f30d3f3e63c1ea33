//! A scenario's DNS as the teaching tools see it: the records the scenario describes, and at
//! each `dkim_keys` selector the public keys derived from the seed. A key is derived when
//! its record is first asked for (or something signs with it), so a journey that never
//! meets an RSA key does not pay for one.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use smtpsim_model::auth::dns::{LookupError, Mx, Resolver, StaticResolver};
use smtpsim_model::scenario::Scenario;
use smtpsim_model::sim;

use crate::keys::{Algorithm, KeyRing};

/// One published key: where, whose, which algorithm, and whether it is revoked.
#[derive(Debug, Clone)]
struct Published {
    /// `<selector>._domainkey.<domain>`, lowercase, without a final dot.
    name: String,
    domain: String,
    selector: String,
    algorithm: Algorithm,
    revoked: bool,
}

/// The scenario's DNS with the derived key records: the RSA key at
/// `<selector>._domainkey.<domain>`, the Ed25519 key at
/// `<selector>-ed25519._domainkey.<domain>`; a selector set to `false` publishes both revoked
/// (`p=` empty).
#[derive(Clone)]
pub struct Zone {
    base: StaticResolver,
    keys: Vec<Published>,
    ring: Arc<KeyRing>,
}

impl std::fmt::Debug for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zone")
            .field("base", &self.base)
            .field("keys", &self.keys)
            .field("seed", &self.ring.seed())
            .finish()
    }
}

impl From<StaticResolver> for Zone {
    /// Records given by hand, with no derived keys.
    fn from(base: StaticResolver) -> Zone {
        Zone {
            base,
            keys: Vec::new(),
            ring: Arc::new(KeyRing::new(0)),
        }
    }
}

impl Zone {
    /// The DNS of `scenario`, its keys taken from `ring`.
    pub fn new(scenario: &Scenario, ring: Arc<KeyRing>) -> Zone {
        let mut keys = Vec::new();
        for d in scenario.domains.iter().filter(|d| !d.nxdomain) {
            for (selector, published) in &d.dkim_keys {
                for algorithm in Algorithm::ALL {
                    keys.push(Published {
                        name: normalize(&format!(
                            "{}._domainkey.{}",
                            algorithm.selector(selector),
                            d.name
                        )),
                        domain: d.name.clone(),
                        selector: selector.clone(),
                        algorithm,
                        revoked: !*published,
                    });
                }
            }
        }
        // The key names exist (answered here), so that the names around them answer as
        // they would with the records in place.
        let base = keys.iter().fold(
            sim::zone_with_keys(scenario, |_, _, _| Vec::new()),
            |base, p| base.with_name(&p.name),
        );
        Zone { base, keys, ring }
    }

    /// The DNS of `scenario` with keys derived from `seed`.
    pub fn for_seed(scenario: &Scenario, seed: u64) -> Zone {
        Zone::new(scenario, Arc::new(KeyRing::new(seed)))
    }

    /// Starts deriving, on another thread, the keys the scenario's signing senders sign with,
    /// so that they are ready (or nearly) when a journey that ran meanwhile needs them. The
    /// keys are the same whichever thread derives them.
    pub fn derive_ahead(&self, scenario: &Scenario) {
        let signers: Vec<(String, String)> = scenario
            .senders
            .iter()
            .filter(|s| s.dkim.sign)
            .map(|s| {
                let domain = s.dkim.domain.as_ref().or(s.from_domain.as_ref());
                (domain.unwrap_or(&s.domain).clone(), s.dkim.selector.clone())
            })
            .collect();
        if signers.is_empty() {
            return;
        }
        let ring = self.ring.clone();
        std::thread::spawn(move || {
            for (domain, selector) in signers {
                ring.keys(&domain, &selector).derive_rsa();
            }
        });
    }

    /// The keys the records publish (and the signer signs with).
    pub fn ring(&self) -> &Arc<KeyRing> {
        &self.ring
    }

    /// Adds a TXT record at `name`, beside what the scenario publishes.
    pub fn with_txt(mut self, name: &str, text: impl Into<String>) -> Zone {
        self.base = self.base.with_txt(name, text);
        self
    }

    /// The record of the key published at `p`.
    fn record(&self, p: &Published) -> String {
        if p.revoked {
            // The tags before the key, with the key left empty: no derivation needed.
            let kind = match p.algorithm {
                Algorithm::Ed25519Sha256 => "ed25519",
                Algorithm::RsaSha256 => "rsa",
            };
            format!("v=DKIM1; k={kind}; p=")
        } else {
            self.ring.keys(&p.domain, &p.selector).record(p.algorithm)
        }
    }
}

impl Resolver for Zone {
    fn txt(&self, domain: &str) -> Result<Cow<'_, [String]>, LookupError> {
        let name = normalize(domain);
        let base = self.base.txt(domain)?;
        let Some(published) = self.keys.iter().find(|p| p.name == name) else {
            return Ok(base);
        };
        let mut records = vec![self.record(published)];
        records.extend(base.iter().cloned());
        Ok(Cow::Owned(records))
    }

    fn addrs(&self, domain: &str) -> Result<Cow<'_, [IpAddr]>, LookupError> {
        self.base.addrs(domain)
    }

    fn mx(&self, domain: &str) -> Result<Cow<'_, [Mx]>, LookupError> {
        self.base.mx(domain)
    }
}

fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = r#"
[simulation]
name = "zone"
duration = "1m"

[[senders]]
name = "shop"
domain = "shop.example"
local_part = "orders"
arrivals = { process = "constant", rate = "1/s" }
to = [{ domain = "mail.example" }]

[relay]
hostname = "relay.shop.example"
retry = { policy = "fixed", schedule = ["5m"] }

[[domains]]
name = "shop.example"
spf = "v=spf1 -all"
dkim_keys = { s1 = true, old = false }

[[domains]]
name = "mail.example"
mx = [{ host = "mx.mail.example" }]
"#;

    #[test]
    fn keys_are_published_when_asked_for_and_rsa_only_then() {
        let scenario = Scenario::parse(SCENARIO, "zone.toml").unwrap();
        let zone = Zone::for_seed(&scenario, 5);
        let ed = zone.txt("S1-ed25519._domainkey.shop.example.").unwrap();
        assert_eq!(ed.len(), 1);
        assert!(ed[0].starts_with("v=DKIM1; k=ed25519; p="), "{ed:?}");
        assert!(
            !zone.ring().keys("shop.example", "s1").rsa_derived(),
            "the Ed25519 record needs no RSA key"
        );
        let rsa = zone.txt("s1._domainkey.shop.example").unwrap();
        assert!(rsa[0].starts_with("v=DKIM1; k=rsa; p=MII"), "{rsa:?}");
        assert!(zone.ring().keys("shop.example", "s1").rsa_derived());
        assert_eq!(
            zone.txt("old._domainkey.shop.example").unwrap()[0],
            "v=DKIM1; k=rsa; p="
        );
        assert!(!zone.ring().keys("shop.example", "old").rsa_derived());
        assert_eq!(zone.txt("shop.example").unwrap()[0], "v=spf1 -all");
        // The names around the keys answer as before: `_domainkey` exists, with no data.
        assert_eq!(zone.txt("_domainkey.shop.example").unwrap().len(), 0);
        assert_eq!(
            zone.txt("nope._domainkey.shop.example").unwrap_err(),
            LookupError::NxDomain
        );
    }
}
