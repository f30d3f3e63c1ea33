//! The servers the session can connect to: every receiving domain of a scenario with its MX
//! hosts and its behaviour (built as the simulator builds it, so the same addresses are
//! unknown or full), or one accepting server when there is no scenario. A domain that checks
//! authentication checks SPF and DMARC as the simulator does and verifies DKIM signatures
//! for real, against the scenario's DNS with the keys derived from its seed.

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::sync::Arc;

use smtpsim_des::{RandomStreams, SimTime};
use smtpsim_mail::received::{CheckSlot, RealCheck};
use smtpsim_mail::zone::Zone;
use smtpsim_model::behaviour::{EndOfData, MxBehaviour, NoChecks};
use smtpsim_model::scenario::{Behaviour, Outage, OutageMode, Scenario};
use smtpsim_model::stable_hash::StableHasher;
use smtpsim_proto::command::{ForwardPath, Host, MailParams, RcptParams, ReversePath};
use smtpsim_proto::server::{Decision, Envelope, Policy, ServerConfig, SessionInfo};

/// The account the servers accept for AUTH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
}

impl Default for Account {
    fn default() -> Account {
        Account {
            user: "alice".to_string(),
            password: "secret".to_string(),
        }
    }
}

/// One MX host of a domain.
pub(crate) struct MxHost {
    pub name: String,
    pub ip: Option<IpAddr>,
    pub outages: Vec<Outage>,
    pub config: Arc<ServerConfig>,
}

impl MxHost {
    /// The outage the host is in at `now`, and when it ends.
    pub fn outage_at(&self, now: SimTime) -> Option<&Outage> {
        let t = now.as_micros();
        self.outages
            .iter()
            .find(|o| o.start.micros() <= t && t < o.end.micros())
    }
}

/// A receiving domain: its MX hosts in preference order and the behaviour they share.
pub(crate) struct Target {
    pub domain: String,
    pub hosts: Vec<MxHost>,
    pub behaviour: Rc<RefCell<MxBehaviour<Box<dyn EndOfData>>>>,
}

/// Everything the session talks to, and who the user plays.
pub(crate) struct World {
    pub targets: Vec<Target>,
    /// The address the user connects from (the scenario's relay).
    pub client_ip: IpAddr,
    /// The name the user gives in EHLO.
    pub client_name: String,
    /// An envelope sender for the hints.
    pub sender: String,
    /// The visible From of the message `message` writes.
    pub author: String,
    /// The scenario's DNS with its derived DKIM keys, when there is a scenario.
    pub zone: Option<Arc<Zone>>,
    /// The selector each sender signs with, by domain (from `senders.dkim`).
    pub selectors: Vec<(String, String)>,
    /// What the end-of-data checks share with the session.
    pub checks: Rc<RefCell<CheckSlot>>,
}

/// The documentation address the user connects from without a scenario.
const DEFAULT_CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 25));

impl World {
    /// The receiving domains of `scenario` (those with MX hosts), or without one a single
    /// domain `example.net` whose server accepts everything.
    pub fn new(scenario: Option<&Scenario>) -> World {
        let checks = Rc::new(RefCell::new(CheckSlot::default()));
        let Some(scenario) = scenario else {
            let behaviour = Behaviour {
                starttls: true,
                ..Behaviour::default()
            };
            let streams = RandomStreams::new(1);
            return World {
                targets: vec![target(
                    "example.net",
                    &[],
                    behaviour,
                    1,
                    &streams,
                    0,
                    Box::new(NoChecks),
                )],
                client_ip: DEFAULT_CLIENT,
                client_name: "client.example.com".to_string(),
                sender: "alice@example.com".to_string(),
                author: "alice@example.com".to_string(),
                zone: None,
                selectors: Vec::new(),
                checks,
            };
        };
        let seed = scenario.simulation.seed;
        let zone = Arc::new(Zone::for_seed(scenario, seed));
        let streams = RandomStreams::new(seed);
        let targets = scenario
            .domains
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.mx.is_empty() && !d.null_mx && !d.nxdomain)
            .map(|(i, d)| {
                let mut hosts: Vec<_> = d.mx.iter().enumerate().collect();
                hosts.sort_by_key(|(j, h)| (h.preference, *j));
                let hosts: Vec<_> = hosts.into_iter().map(|(_, h)| h).collect();
                target(
                    &d.name,
                    &hosts,
                    d.behaviour.clone(),
                    seed,
                    &streams,
                    i as u64,
                    if d.behaviour.authentication {
                        Box::new(RealCheck::new(zone.clone(), checks.clone()))
                    } else {
                        Box::new(NoChecks)
                    },
                )
            })
            .collect();
        let sender = scenario
            .senders
            .first()
            .map(|s| format!("{}@{}", s.local_part, s.domain))
            .unwrap_or_else(|| "alice@example.com".to_string());
        let selectors = scenario
            .senders
            .iter()
            .filter(|s| s.dkim.sign)
            .map(|s| {
                let domain = s.dkim.domain.as_ref().or(s.from_domain.as_ref());
                let domain = domain.unwrap_or(&s.domain).to_ascii_lowercase();
                (domain, s.dkim.selector.clone())
            })
            .collect();
        let author = scenario.senders.first().map_or_else(
            || sender.clone(),
            |s| {
                let domain = s.from_domain.as_ref().unwrap_or(&s.domain);
                format!("{}@{domain}", s.local_part)
            },
        );
        World {
            targets,
            client_ip: scenario.relay.sources()[0].0,
            client_name: scenario.relay.hostname.clone(),
            sender,
            author,
            zone: Some(zone),
            selectors,
            checks,
        }
    }

    /// The target for `domain` (case-insensitive).
    pub fn find(&self, domain: &str) -> Option<usize> {
        self.targets
            .iter()
            .position(|t| t.domain.eq_ignore_ascii_case(domain))
    }
}

/// A domain's target, its behaviour seeded and drawing from the streams the simulator gives
/// the domain with index `index`, and `checks` deciding at the end of data (the simulator's
/// SPF, DKIM and DMARC check for a scenario's domain).
fn target(
    domain: &str,
    hosts: &[&smtpsim_model::scenario::MxHost],
    behaviour: Behaviour,
    seed: u64,
    streams: &RandomStreams,
    index: u64,
    checks: Box<dyn EndOfData>,
) -> Target {
    let name = domain.to_ascii_lowercase();
    let mut hasher = StableHasher::new();
    hasher.write_u64(seed);
    hasher.write(name.as_bytes());
    let domain_seed = hasher.finish();
    let server = |host: &str| {
        let mut config = ServerConfig::new(host);
        config.starttls = behaviour.starttls;
        config.auth = true;
        config.limits.message_size = None;
        Arc::new(config)
    };
    let mut mx: Vec<MxHost> = hosts
        .iter()
        .map(|h| MxHost {
            name: h.host.clone(),
            ip: h.ip,
            outages: h.outages.clone(),
            config: server(&h.host),
        })
        .collect();
    if mx.is_empty() {
        let host = format!("mx.{name}");
        mx.push(MxHost {
            config: server(&host),
            name: host,
            ip: None,
            outages: Vec::new(),
        });
    }
    let behaviour = MxBehaviour::new(behaviour, domain_seed, streams.stream("mx", index), checks);
    Target {
        domain: name,
        hosts: mx,
        behaviour: Rc::new(RefCell::new(behaviour)),
    }
}

/// The policy of one connection: the domain's behaviour (shared by every connection to the
/// domain, so a greylist remembers earlier attempts) and the account AUTH accepts.
pub(crate) struct ReplPolicy {
    pub behaviour: Rc<RefCell<MxBehaviour<Box<dyn EndOfData>>>>,
    pub account: Account,
}

impl ReplPolicy {
    /// Tells the behaviour the time, and whether the host is in an outage.
    pub fn begin(&self, now: SimTime, outage: Option<OutageMode>) {
        self.behaviour.borrow_mut().begin(now, outage);
    }
}

impl Policy for ReplPolicy {
    fn connect(&mut self, session: &SessionInfo) -> Decision {
        self.behaviour.borrow_mut().connect(session)
    }

    fn helo(&mut self, session: &SessionInfo, domain: &Host<'_>) -> Decision {
        self.behaviour.borrow_mut().helo(session, domain)
    }

    fn auth(&mut self, _: &SessionInfo, identity: &str, password: &str) -> Decision {
        if identity == self.account.user && password == self.account.password {
            Decision::Accept
        } else {
            Decision::refuse(535, (5, 7, 8), "Authentication credentials invalid")
        }
    }

    fn mail(
        &mut self,
        session: &SessionInfo,
        from: &ReversePath<'_>,
        params: &MailParams<'_>,
    ) -> Decision {
        self.behaviour.borrow_mut().mail(session, from, params)
    }

    fn rcpt(
        &mut self,
        session: &SessionInfo,
        envelope: &Envelope,
        to: &ForwardPath<'_>,
        params: &RcptParams<'_>,
    ) -> Decision {
        self.behaviour
            .borrow_mut()
            .rcpt(session, envelope, to, params)
    }

    fn data(&mut self, session: &SessionInfo, envelope: &Envelope) -> Decision {
        self.behaviour.borrow_mut().data(session, envelope)
    }

    fn message(&mut self, session: &SessionInfo, envelope: &Envelope, content: &[u8]) -> Decision {
        self.behaviour
            .borrow_mut()
            .message(session, envelope, content)
    }
}
