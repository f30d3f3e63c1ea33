//! The scenario turned into things that run: senders with their arrival generators and random
//! streams, recipient domains with their MX hosts and behaviours, and the relay.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

use smtpsim_des::{RandomStreams, SimDuration, SimRng, SimTime};
use smtpsim_proto::server::ServerConfig;

use super::arrivals::ArrivalGen;
use super::health::{Health, HealthRules};
use super::placement::AuthCheck;
use super::shaping::Shaper;
use super::sources::Sources;
use super::{Options, SimError};
use crate::behaviour::MxBehaviour;
use crate::retry::RetryPolicy;
use crate::scenario::{
    Bytes, Count, Dist, DnsBehaviour, Duration, Outage, OutageMode, Scenario, Shaping,
};

/// A sender, ready to generate messages.
pub(crate) struct SenderModel {
    pub name: String,
    /// `local@domain` of the envelope.
    pub envelope_from: String,
    /// `local@from_domain` of the visible From.
    pub header_from: String,
    /// The domain of the visible From (what DMARC aligns with).
    pub header_from_domain: String,
    /// The envelope domain, for Message-IDs.
    pub domain: String,
    pub arrivals: ArrivalGen,
    pub arrival_rng: SimRng,
    pub message_rng: SimRng,
    pub recipients: Dist<Count>,
    pub size: Dist<Bytes>,
    /// Cumulative weights and domain indices.
    pub destinations: Vec<(f64, u32)>,
    /// DKIM `d=` and `s=` when signing.
    pub dkim: Option<(String, String)>,
    pub altered: f64,
    pub submission_latency: Dist<Duration>,
    pub auth_failure: f64,
    /// The time of the last arrival, `None` before the first.
    pub last_arrival: Option<SimTime>,
    /// The envelope domain's entry among the domains, where bounce notices go.
    pub notice_domain: Option<u32>,
}

/// Where mail for a domain goes.
pub(crate) enum Route {
    /// MX hosts in preference order.
    Mx(Vec<HostModel>),
    /// A null MX (RFC 7505).
    NullMx,
    /// No such domain.
    NxDomain,
}

/// One MX host.
pub(crate) struct HostModel {
    pub name: String,
    pub ip: IpAddr,
    pub outages: Vec<Outage>,
    pub server_config: Arc<ServerConfig>,
}

impl HostModel {
    /// Its name and address, for a trace note.
    pub fn addr(&self) -> super::trace::HostAddr {
        super::trace::HostAddr {
            name: self.name.clone(),
            ip: self.ip,
        }
    }

    /// The outage the host is in at `now`, if any.
    pub fn outage_at(&self, now: SimTime) -> Option<OutageMode> {
        let t = now.as_micros();
        self.outages
            .iter()
            .find(|o| o.start.micros() <= t && t < o.end.micros())
            .map(|o| o.mode)
    }
}

/// A recipient domain and the relay's state towards it.
pub(crate) struct DomainModel {
    pub name: String,
    pub route: Route,
    pub dns: DnsBehaviour,
    pub dns_rng: SimRng,
    pub behaviour: MxBehaviour<AuthCheck>,
    pub latency_rng: SimRng,
    /// Connections open to this domain.
    pub active: u32,
    /// Deliveries waiting for a connection, in arrival order.
    pub waiting: VecDeque<u32>,
    /// Whether the domain is in the relay's round-robin of domains with waiting deliveries.
    pub in_rotation: bool,
    /// The relay's shaping towards this domain, in force.
    pub shaper: Shaper,
    /// The shaping values of the scenario, which a `shape` action returns to.
    pub configured: Shaping,
    /// The `shape` rule whose values (or ramp) are in force, while it lasts.
    pub shaped: Option<u32>,
    /// Connections to it kept open with nothing to send, waiting for a delivery.
    pub idle: u32,
    /// A shaping wake-up is scheduled.
    pub shaping_wakeup: bool,
    /// The provider it belongs to, by index into [`World::providers`].
    pub provider: Option<u32>,
    /// Held back by its provider's limits, in the provider's `held` list.
    pub held: bool,
    /// An automation rule's action on it, while it lasts.
    pub hold: Option<Hold>,
    /// Deliveries are deferred without trying until then ([`RelayModel::suspend_unreachable`]).
    pub suspended_until: SimTime,
    /// Whether failed connections have made the relay declare the domain dead.
    pub health: Health,
}

/// An automation rule's action on a domain or provider, until it ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hold {
    /// The rule whose action it is.
    pub rule: u32,
}

/// An automation rule, ready to match replies.
pub(crate) struct RuleModel {
    pub name: String,
    pub code: Option<u16>,
    pub enhanced: Option<smtpsim_proto::reply::EnhancedCode>,
    pub text: Option<regex::Regex>,
    /// Only replies from this provider's domains match.
    pub provider: Option<u32>,
    pub target: crate::scenario::Target,
    /// Matches needed within a window; `None`: every match fires.
    pub trigger: Option<(u32, SimDuration)>,
    pub action: crate::scenario::Action,
    pub duration: SimDuration,
    pub release: crate::scenario::Release,
    /// With a shape action: the values it puts in force.
    pub shape: Shaping,
    /// With a shape action: its ramp's steps and the time between them.
    pub ramp: Option<(u32, SimDuration)>,
}

impl RuleModel {
    /// Whether `reply` matches the rule's code, enhanced code and text.
    pub fn matches(&self, reply: &smtpsim_proto::Reply) -> bool {
        self.code.is_none_or(|code| reply.code.get() == code)
            && self.enhanced.is_none_or(|e| reply.enhanced == Some(e))
            && self.text.as_ref().is_none_or(|re| re.is_match(&reply.text))
    }
}

/// A provider (a group of domains by MX host) and the relay's state towards it.
pub(crate) struct ProviderModel {
    pub name: String,
    /// An automation rule's action on it, while it lasts.
    pub hold: Option<Hold>,
    /// The relay's shaping towards its domains together, in force.
    pub shaper: Shaper,
    /// The shaping values of the scenario, which a `shape` action returns to.
    pub configured: Shaping,
    /// The `shape` rule whose values (or ramp) are in force, while it lasts.
    pub shaped: Option<u32>,
    /// Connections open to its domains.
    pub active: u32,
    /// Domains with deliveries waiting that its limits held back, in the order they were.
    pub held: Vec<u32>,
    /// A wake-up for its rate limits is scheduled.
    pub wakeup: bool,
}

impl ProviderModel {
    /// When the provider's limits let a new connection start: `now` if they do at once,
    /// `None` while its connection limit is reached (a connection's end will tell).
    pub fn opens_at(&self, now: SimTime) -> Option<SimTime> {
        self.shaper.opens_at(self.active, now)
    }
}

/// The relay's settings and random streams.
pub(crate) struct RelayModel {
    pub hostname: String,
    pub max_connections: u32,
    /// With connection reuse, the most messages per connection.
    pub reuse: Option<u32>,
    pub lifetime: SimDuration,
    pub max_attempts: Option<u32>,
    pub starttls: bool,
    pub pipelining: bool,
    /// How long a domain is suspended once failed attempts (that reached none of its hosts)
    /// have declared it dead.
    pub suspend_unreachable: SimDuration,
    /// How failed attempts declare a domain dead.
    pub health: HealthRules,
    pub retry: RetryPolicy,
    pub retry_rng: SimRng,
}

/// The network between the relay and the MX hosts: how long connecting, round trips and
/// transfers take, drawn from one random stream.
pub(crate) struct NetworkModel {
    pub connect_timeout: SimDuration,
    pub round_trip: Dist<Duration>,
    /// Bytes per second; 0 for no transfer time.
    pub bandwidth: f64,
    /// Replaces the attempt's computed duration when given.
    pub attempt_duration: Option<Dist<Duration>>,
    pub rng: SimRng,
}

/// Everything a run needs.
pub(crate) struct World {
    pub senders: Vec<SenderModel>,
    pub domains: Vec<DomainModel>,
    pub relay: RelayModel,
    pub network: NetworkModel,
    pub providers: Vec<ProviderModel>,
    pub rules: Vec<RuleModel>,
    /// Where released deliveries' spread times come from.
    pub automation_rng: SimRng,
    /// The relay's source addresses.
    pub sources: Sources,
    /// Arrivals stop at this time.
    pub arrivals_end: SimTime,
    /// And after this many messages.
    pub max_messages: Option<u64>,
    pub interval: SimDuration,
}

impl World {
    pub fn build(scenario: &Scenario, options: &Options) -> Result<World, SimError> {
        check_overrides(scenario, options)?;
        let seed = options.seed.unwrap_or(scenario.simulation.seed);
        let streams = RandomStreams::new(seed);
        let zone = Arc::new(super::placement::zone(scenario));

        let domain_providers = crate::scenario::domain_providers(scenario)
            .map_err(|p| SimError(format!("{}: {}", p.field, p.message)))?;
        let entries: HashMap<String, Shaping> = scenario
            .relay
            .domains
            .iter()
            .map(|e| (e.name.to_ascii_lowercase(), e.shaping()))
            .collect();
        let mut domains = Vec::new();
        let mut index: HashMap<String, u32> = HashMap::new();
        for (i, d) in scenario.domains.iter().enumerate() {
            let i = i as u64;
            let name = d.name.to_ascii_lowercase();
            let route = if d.nxdomain {
                Route::NxDomain
            } else if d.null_mx {
                Route::NullMx
            } else {
                let mut hosts: Vec<_> = d.mx.iter().enumerate().collect();
                hosts.sort_by_key(|(j, h)| (h.preference, *j));
                Route::Mx(
                    hosts
                        .into_iter()
                        .map(|(j, h)| {
                            let mut config = ServerConfig::new(h.host.clone());
                            config.starttls = d.behaviour.starttls;
                            config.limits.message_size = None;
                            HostModel {
                                name: h.host.clone(),
                                ip: h.ip.unwrap_or_else(|| made_up_ip(i, j)),
                                outages: h.outages.clone(),
                                server_config: Arc::new(config),
                            }
                        })
                        .collect(),
                )
            };
            let domain_seed = super::placement::domain_seed(seed, &name);
            let check =
                AuthCheck::new(zone.clone(), &name, d.behaviour.authentication, domain_seed);
            let behaviour = MxBehaviour::new(
                d.behaviour.clone(),
                domain_seed,
                streams.stream("mx", i),
                check,
            );
            let configured = domain_shaping(scenario, &entries, &name);
            index.insert(name.clone(), domains.len() as u32);
            domains.push(DomainModel {
                name,
                route,
                dns: d.dns.clone(),
                dns_rng: streams.stream("dns", i),
                behaviour,
                latency_rng: streams.stream("latency", i),
                active: 0,
                waiting: VecDeque::new(),
                in_rotation: false,
                shaper: Shaper::new(&configured),
                configured,
                shaped: None,
                idle: 0,
                shaping_wakeup: false,
                provider: domain_providers[i as usize],
                held: false,
                hold: None,
                suspended_until: SimTime::ZERO,
                health: Health::new(&health_rules(&scenario.relay)),
            });
        }

        let mut senders = Vec::new();
        for (i, s) in scenario.senders.iter().enumerate() {
            let i = i as u64;
            let domain = s.domain.to_ascii_lowercase();
            let from_domain = s
                .from_domain
                .as_deref()
                .unwrap_or(&domain)
                .to_ascii_lowercase();
            let mut total = 0.0;
            let destinations =
                s.to.iter()
                    .map(|dest| {
                        total += dest.weight;
                        let d = index[&dest.domain.to_ascii_lowercase()];
                        (total, d)
                    })
                    .collect::<Vec<_>>();
            let dkim = s.dkim.sign.then(|| {
                let d = s.dkim.domain.as_deref().unwrap_or(&from_domain);
                (d.to_ascii_lowercase(), s.dkim.selector.clone())
            });
            let notice_domain = index.get(&domain).copied();
            senders.push(SenderModel {
                notice_domain,
                name: s.name.clone(),
                envelope_from: format!("{}@{}", s.local_part, domain),
                header_from: format!("{}@{}", s.local_part, from_domain),
                header_from_domain: from_domain.clone(),
                domain,
                arrivals: ArrivalGen::new(&s.arrivals, scenario.path.as_deref())?,
                arrival_rng: streams.stream("arrivals", i),
                message_rng: streams.stream("message", i),
                recipients: s.recipients.clone(),
                size: s.size.clone(),
                destinations: destinations
                    .into_iter()
                    .map(|(w, d)| (w / total, d))
                    .collect(),
                dkim,
                altered: s.dkim.altered_in_transit.0,
                submission_latency: s.submission.latency.clone(),
                auth_failure: s.submission.auth_failure.0,
                last_arrival: None,
            });
        }

        let r = &scenario.relay;
        let relay = RelayModel {
            hostname: r.hostname.clone(),
            max_connections: r.max_connections,
            reuse: r
                .connection_reuse
                .then_some(r.messages_per_connection.max(1)),
            lifetime: r.lifetime(),
            max_attempts: r.max_attempts,
            starttls: r.starttls,
            pipelining: r.pipelining,
            suspend_unreachable: r.suspend_unreachable.map_or(SimDuration::ZERO, |d| d.0),
            health: health_rules(r),
            retry: RetryPolicy::new(r.retry.clone()).with_lifetime(r.lifetime()),
            retry_rng: streams.stream("retry", 0),
        };
        let network = NetworkModel {
            connect_timeout: r.connect_timeout.0,
            round_trip: r.round_trip.clone(),
            bandwidth: r.bandwidth.bytes_per_second(),
            attempt_duration: r.attempt_duration.clone(),
            rng: streams.stream("network", 0),
        };
        let providers = r
            .providers
            .iter()
            .map(|p| ProviderModel {
                name: p.name.clone(),
                hold: None,
                shaper: Shaper::new(&p.shaping()),
                configured: p.shaping(),
                shaped: None,
                active: 0,
                held: Vec::new(),
                wakeup: false,
            })
            .collect();
        let provider_index = |name: &String| {
            r.providers
                .iter()
                .position(|p| &p.name == name)
                .map(|i| i as u32)
        };
        let rules = r
            .automation
            .iter()
            .map(|rule| RuleModel {
                name: rule.name.clone(),
                code: rule.code,
                enhanced: rule.enhanced_code.map(|e| e.0),
                text: rule.text.as_ref().map(|t| t.0.clone()),
                provider: rule.provider.as_ref().and_then(provider_index),
                target: rule.target,
                trigger: rule.trigger.map(|t| (t.matches, t.within.0)),
                action: rule.action,
                duration: rule.duration.0,
                release: rule.release(),
                shape: rule.shape.unwrap_or_default(),
                ramp: rule.ramp.map(|r| (r.steps, r.every.0)),
            })
            .collect();
        Ok(World {
            senders,
            domains,
            relay,
            network,
            providers,
            rules,
            automation_rng: streams.stream("automation", 0),
            sources: Sources::new(r, streams.stream("source_address", 0)),
            arrivals_end: SimTime::ZERO
                + options.duration.unwrap_or(scenario.simulation.duration.0),
            max_messages: options.messages.or(scenario.simulation.messages),
            interval: scenario.simulation.timeseries_interval.0,
        })
    }
}

/// The relay's shaping values towards domain `name`: its `[[relay.domains]]` entry, with
/// `relay.max_connections_per_domain` and `relay.rate_per_domain` where it gives none.
/// (`entries` by lower-case name).
fn domain_shaping(scenario: &Scenario, entries: &HashMap<String, Shaping>, name: &str) -> Shaping {
    let r = &scenario.relay;
    let entry = entries.get(name).copied().unwrap_or_default();
    Shaping {
        connection_limit: entry
            .connection_limit
            .or(Some(r.max_connections_per_domain)),
        max_message_rate: entry.max_message_rate.or(r.rate_per_domain),
        ..entry
    }
}

/// The bounds that depend on the arrival window and the message count, checked again when
/// a run replaces them.
fn check_overrides(scenario: &Scenario, options: &Options) -> Result<(), SimError> {
    if options.duration.is_none() && options.messages.is_none() {
        return Ok(());
    }
    let duration = options.duration.unwrap_or(scenario.simulation.duration.0);
    let messages = options.messages.or(scenario.simulation.messages);
    crate::scenario::check_run(scenario, duration, messages).map_err(|p| {
        let mut given = Vec::new();
        if let Some(d) = options.duration {
            given.push(format!("an arrival window of {d}"));
        }
        if let Some(m) = options.messages {
            given.push(format!("{m} messages"));
        }
        SimError(format!(
            "{}: {} (with {} given for the run)",
            p.field,
            p.message,
            given.join(" and ")
        ))
    })
}

/// A documentation address (203.0.113.0/24, RFC 5737) for an MX host given none.
fn made_up_ip(domain: u64, host: usize) -> IpAddr {
    let n = (domain * 8 + host as u64) % 254 + 1;
    IpAddr::from([203, 0, 113, n as u8])
}

/// The relay's rules for declaring a destination dead, from its scenario section.
fn health_rules(relay: &crate::scenario::Relay) -> HealthRules {
    HealthRules {
        initial_concurrency: relay.initial_destination_concurrency,
        failed_cohort_limit: relay.failed_cohort_limit,
        concurrency_limit: relay.max_connections_per_domain,
    }
}
