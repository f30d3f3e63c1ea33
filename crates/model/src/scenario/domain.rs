//! `[[domains]]`: DNS records of every domain in the scenario and, for domains that receive
//! mail, how their MX hosts behave.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;

use super::dist::Dist;
use super::units::{Bytes, Duration, Probability, Rate};

/// One domain: its DNS and, if it receives mail, its MX behaviour.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    /// The domain name.
    pub name: String,
    /// MX hosts, tried in preference order (lowest first).
    #[serde(default)]
    pub mx: Vec<MxHost>,
    /// A null MX (RFC 7505): the domain accepts no mail; messages bounce with 556 5.1.10.
    #[serde(default)]
    pub null_mx: bool,
    /// The domain does not exist (NXDOMAIN): messages bounce with 5.1.2.
    #[serde(default)]
    pub nxdomain: bool,
    /// Addresses of the domain itself (for SPF `a` terms).
    #[serde(default)]
    pub a: Vec<IpAddr>,
    /// TXT records of the domain itself.
    #[serde(default)]
    pub txt: Vec<String>,
    /// The SPF record (a TXT record at the domain), such as `"v=spf1 ip4:192.0.2.0/24 -all"`.
    #[serde(default)]
    pub spf: Option<String>,
    /// The DMARC record (a TXT record at `_dmarc.` the domain), such as `"v=DMARC1; p=reject"`.
    #[serde(default)]
    pub dmarc: Option<String>,
    /// DKIM keys by selector: `true` publishes a key at `selector._domainkey.` the domain,
    /// `false` publishes a revoked one (`p=`).
    #[serde(default)]
    pub dkim_keys: BTreeMap<String, bool>,
    /// Other records by full name: `{ "_spf.example.net" = ["v=spf1 ..."] }`.
    #[serde(default)]
    pub records: BTreeMap<String, Vec<String>>,
    /// How lookups of this domain go.
    #[serde(default)]
    pub dns: DnsBehaviour,
    /// How the MX hosts answer.
    #[serde(default)]
    pub behaviour: Behaviour,
}

/// One MX host.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MxHost {
    /// Its name.
    pub host: String,
    /// Its MX preference (lower is tried first).
    #[serde(default = "default_preference")]
    pub preference: u16,
    /// Its address (a documentation address is made up if absent).
    #[serde(default)]
    pub ip: Option<IpAddr>,
    /// Windows during which the host is down.
    #[serde(default)]
    pub outages: Vec<Outage>,
}

fn default_preference() -> u16 {
    10
}

/// A time window during which an MX host is down.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outage {
    /// When it starts.
    pub start: Duration,
    /// When it ends.
    pub end: Duration,
    /// How it shows.
    #[serde(default)]
    pub mode: OutageMode,
}

/// How an outage shows to a connecting client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutageMode {
    /// The connection is refused at once.
    #[default]
    Refuse,
    /// The connection hangs until the client's connect timeout.
    Timeout,
    /// The server greets with `421 4.3.2` and closes.
    #[serde(rename = "421")]
    Reply421,
}

/// `[domains.dns]`: lookup latency and failures.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsBehaviour {
    /// Time a lookup takes.
    #[serde(default)]
    pub latency: Dist<Duration>,
    /// Probability that a lookup answers SERVFAIL (temporary: the message is deferred).
    #[serde(default)]
    pub servfail: Probability,
    /// Probability that a lookup times out (temporary: the message is deferred).
    #[serde(default)]
    pub timeout: Probability,
    /// Time lost on a lookup that times out.
    #[serde(default = "default_dns_timeout")]
    pub timeout_after: Duration,
}

fn default_dns_timeout() -> Duration {
    "5s".parse().expect("valid duration")
}

/// `[domains.behaviour]`: how the domain's MX hosts answer. Every part is optional; together
/// they are checked in SMTP order (connection, MAIL, RCPT, end of data).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    /// Time the server takes to answer each command.
    #[serde(default)]
    pub latency: Dist<Duration>,
    /// Offer STARTTLS.
    #[serde(default = "yes")]
    pub starttls: bool,
    /// Refuse mail over a connection without TLS (530 5.7.0).
    #[serde(default)]
    pub require_tls: bool,
    /// The largest message accepted (552 5.3.4 above it).
    #[serde(default)]
    pub size_limit: Option<Bytes>,
    /// Fraction of addresses that do not exist (550 5.1.1), decided per address.
    #[serde(default)]
    pub unknown_users: Probability,
    /// Full mailboxes.
    #[serde(default)]
    pub full_mailboxes: Option<FullMailboxes>,
    /// Probability that a recipient is refused with 451 4.3.0 on an attempt.
    #[serde(default)]
    pub temp_failures: Probability,
    /// Greylisting.
    #[serde(default)]
    pub greylisting: Option<Greylisting>,
    /// What rate limits and greylisting count by: each client address (the default), its
    /// network (/24 or /64), or the sending domain.
    #[serde(default)]
    pub count_by: CountBy,
    /// Rate limits per counted client.
    #[serde(default)]
    pub rate_limits: RateLimits,
    /// A daily limit per counted client that grows with its earlier volume (warm-up).
    #[serde(default)]
    pub reputation: Option<Reputation>,
    /// Check SPF, DKIM and DMARC and place messages in inbox or spam.
    #[serde(default = "yes")]
    pub authentication: bool,
}

fn yes() -> bool {
    true
}

/// What a domain without a `behaviour` table gets: the same as an empty table (STARTTLS
/// offered, authentication checked, nothing refused).
impl Default for Behaviour {
    fn default() -> Behaviour {
        Behaviour {
            latency: Dist::default(),
            starttls: yes(),
            require_tls: false,
            size_limit: None,
            unknown_users: Probability::default(),
            full_mailboxes: None,
            temp_failures: Probability::default(),
            greylisting: None,
            count_by: CountBy::default(),
            rate_limits: RateLimits::default(),
            reputation: None,
            authentication: yes(),
        }
    }
}

/// `[domains.behaviour.full_mailboxes]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FullMailboxes {
    /// Fraction of mailboxes that are full, decided per address.
    pub fraction: Probability,
    /// Answer 552 5.2.2 (bounce) instead of 452 4.2.2 (try later).
    #[serde(default)]
    pub permanent: bool,
}

/// `[domains.behaviour.greylisting]`: the first attempt of each (client address, sender,
/// recipient) triplet is deferred with 451 4.7.1; a retry at least `delay` later passes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Greylisting {
    /// How long a new triplet must wait.
    pub delay: Duration,
    /// A triplet not retried within this time is forgotten.
    #[serde(default = "default_grey_window")]
    pub window: Duration,
    /// After this many messages passed, the client address is not greylisted any more
    /// (0: never).
    #[serde(default)]
    pub whitelist_after: u32,
    /// The reply to a deferred triplet; `{seconds}` in it is replaced by the seconds left.
    /// Default `451 4.7.1 Greylisted, please try again in {seconds} seconds`.
    #[serde(default)]
    pub reply: Option<String>,
}

/// `count_by`: what the MX's rate limits and greylisting count by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountBy {
    /// Each client address.
    #[default]
    Address,
    /// The client's network: its /24 (IPv4) or /64 (IPv6), as postgrey groups clients.
    Network,
    /// The domain of the MAIL FROM address (connections are still counted by address, the
    /// sender being unknown at the greeting).
    SenderDomain,
}

impl std::str::FromStr for CountBy {
    type Err = String;

    fn from_str(s: &str) -> Result<CountBy, String> {
        match s.trim() {
            "address" => Ok(CountBy::Address),
            "network" => Ok(CountBy::Network),
            "sender_domain" => Ok(CountBy::SenderDomain),
            other => Err(format!(
                "{other:?} is not a counting key: use address, network or sender_domain"
            )),
        }
    }
}

fn default_grey_window() -> Duration {
    "4h".parse().expect("valid duration")
}

/// `[domains.behaviour.rate_limits]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// New connections per client address (or network, under `count_by`); over the limit
    /// the greeting is `421 4.7.0`.
    #[serde(default)]
    pub connections: Option<TokenBucket>,
    /// Messages per counted client (address, network or sending domain, under `count_by`);
    /// over the limit MAIL gets `451 4.7.28`.
    #[serde(default)]
    pub messages: Option<TokenBucket>,
    /// Messages per recipient address, from any client; over the limit RCPT gets
    /// `450 4.2.1`.
    #[serde(default)]
    pub recipients: Option<TokenBucket>,
}

/// `[domains.behaviour.reputation]`: how many messages a day a client may send, growing with
/// what it sent on earlier days. On day `d` (simulated days from time 0) the limit is
/// `min(initial_daily_limit + growth × messages passed before day d, max_daily_limit)`;
/// over it, MAIL gets the `reply`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reputation {
    /// The daily limit of a client not seen before.
    pub initial_daily_limit: u64,
    /// Limit earned per message passed on earlier days.
    #[serde(default = "one_f64")]
    pub growth: f64,
    /// The highest daily limit; none if absent.
    #[serde(default)]
    pub max_daily_limit: Option<u64>,
    /// The reply over the limit; `451 4.7.0 Daily limit for your address reached, try
    /// again later` if absent.
    #[serde(default)]
    pub reply: Option<String>,
}

fn one_f64() -> f64 {
    1.0
}

/// A token bucket: `rate` tokens per second, holding at most `burst`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBucket {
    /// Refill rate.
    pub rate: Rate,
    /// Bucket size (and initial content).
    #[serde(default = "one")]
    pub burst: u32,
    /// The reply over the limit, such as `"421 4.7.28 Too many messages, slow down"`.
    #[serde(default)]
    pub reply: Option<String>,
}

fn one() -> u32 {
    1
}

#[cfg(test)]
mod tests {
    use crate::scenario::Scenario;

    /// A scenario whose only recipient domain has the given extra lines.
    fn with_domain(extra: &str) -> Scenario {
        let text = format!(
            "[simulation]\nname = \"x\"\nduration = \"1m\"\n\
             [[senders]]\nname = \"a\"\ndomain = \"a.example\"\n\
             arrivals = {{ process = \"constant\", rate = \"1/s\" }}\n\
             to = [{{ domain = \"b.example\" }}]\n\
             [relay]\nretry = {{ policy = \"fixed\", schedule = [\"5m\"] }}\n\
             [[domains]]\nname = \"b.example\"\nmx = [{{ host = \"mx.b.example\" }}]\n{extra}"
        );
        Scenario::parse(&text, "x.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn no_behaviour_table_is_an_empty_one() {
        let absent = with_domain("");
        let empty = with_domain("behaviour = {}\n");
        let (absent, empty) = (
            &absent.domain("b.example").unwrap().behaviour,
            &empty.domain("b.example").unwrap().behaviour,
        );
        assert!(absent.starttls && absent.authentication);
        assert_eq!(format!("{absent:?}"), format!("{empty:?}"));
    }
}
