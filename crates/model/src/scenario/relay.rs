//! `[relay]`: the MTA that queues the mail and delivers it to the recipients' MX hosts.

use std::net::IpAddr;

use serde::Deserialize;

use super::dist::Dist;
use super::units::{Bandwidth, Duration, Rate};

/// The relay MTA.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relay {
    /// The name it gives in EHLO.
    #[serde(default = "default_hostname")]
    pub hostname: String,
    /// The address it connects from (what SPF checks and rate limits count).
    #[serde(default = "default_ip")]
    pub ip: IpAddr,
    /// Outgoing connections open at once, all destinations together.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Outgoing connections open at once to one destination domain.
    #[serde(default = "default_max_per_domain")]
    pub max_connections_per_domain: u32,
    /// Keep a connection open after a delivery and send the next message queued for the same
    /// domain over it, without a new greeting, EHLO or STARTTLS.
    #[serde(default)]
    pub connection_reuse: bool,
    /// With `connection_reuse`, the most messages sent over one connection.
    #[serde(default = "default_messages_per_connection")]
    pub messages_per_connection: u32,
    /// Sending-side shaping: at most this many messages per destination domain.
    #[serde(default)]
    pub rate_per_domain: Option<Rate>,
    /// How long a message may stay queued before it expires and bounces.
    #[serde(default = "default_lifetime")]
    pub queue_lifetime: Duration,
    /// The most delivery attempts per message and domain; unlimited (up to the lifetime)
    /// if absent.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Use STARTTLS when the MX offers it.
    #[serde(default = "yes")]
    pub starttls: bool,
    /// Use PIPELINING when the MX offers it.
    #[serde(default = "yes")]
    pub pipelining: bool,
    /// Time lost on an MX host that does not answer before the next one is tried.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: Duration,
    /// Network round-trip time to an MX host, drawn once per connection and added to every
    /// command exchange on it.
    #[serde(default)]
    pub round_trip: Dist<Duration>,
    /// Transfer rate for message content, in bytes per second (0: instantaneous).
    #[serde(default)]
    pub bandwidth: Bandwidth,
    /// If set, an attempt takes a draw of this distribution instead of the time computed from
    /// round trips, command latency and transfer (used by the queueing validation scenarios).
    #[serde(default)]
    pub attempt_duration: Option<Dist<Duration>>,
    /// When deferred messages are tried again.
    pub retry: RetryConfig,
}

fn default_hostname() -> String {
    "relay.example".to_string()
}

fn default_ip() -> IpAddr {
    IpAddr::from([192, 0, 2, 25])
}

fn default_max_connections() -> u32 {
    100
}

fn default_max_per_domain() -> u32 {
    20
}

fn default_messages_per_connection() -> u32 {
    100
}

fn default_lifetime() -> Duration {
    "5d".parse().expect("valid duration")
}

fn default_connect_timeout() -> Duration {
    "30s".parse().expect("valid duration")
}

fn yes() -> bool {
    true
}

/// `[relay.retry]`: a retry policy, selected by `policy`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RetryTable")]
pub enum RetryConfig {
    /// `initial × multiplier^(n-1)`, at most `cap`, with optional jitter.
    Exponential {
        /// The delay before the first retry.
        initial: Duration,
        /// Growth factor per retry.
        multiplier: f64,
        /// The largest delay.
        cap: Duration,
        /// Randomisation of each delay.
        jitter: Jitter,
    },
    /// Postfix: the next attempt waits the message's age, clamped to
    /// `[minimal_backoff, maximal_backoff]`, and happens at the next deferred-queue scan
    /// (every `queue_run_delay`).
    Postfix {
        /// How often the deferred queue is scanned (Postfix `queue_run_delay`).
        queue_run_delay: Duration,
        /// `minimal_backoff_time`.
        minimal_backoff: Duration,
        /// `maximal_backoff_time`.
        maximal_backoff: Duration,
    },
    /// Exim retry rules, applied in order by the time since the first failure: each rule holds
    /// until its `until`, after the last one the message bounces.
    Exim {
        /// The rules, such as `F,2h,15m; G,16h,1h,1.5; F,4d,6h`.
        rules: Vec<EximRule>,
    },
    /// A fixed list of delays after each failure; when it runs out the message bounces.
    Fixed {
        /// The delays.
        schedule: Vec<Duration>,
    },
}

/// `retry` as written: read as a plain table (not a tagged enum) so that an error in a field
/// names the field, such as `relay.retry.initial`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryTable {
    policy: Policy,
    initial: Option<Duration>,
    multiplier: Option<f64>,
    cap: Option<Duration>,
    jitter: Option<Jitter>,
    queue_run_delay: Option<Duration>,
    minimal_backoff: Option<Duration>,
    maximal_backoff: Option<Duration>,
    rules: Option<Vec<EximRule>>,
    schedule: Option<Vec<Duration>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Policy {
    Exponential,
    Postfix,
    Exim,
    Fixed,
}

impl TryFrom<RetryTable> for RetryConfig {
    type Error = String;

    fn try_from(t: RetryTable) -> Result<RetryConfig, String> {
        let name = format!("{:?}", t.policy).to_lowercase();
        let given = [
            ("initial", t.initial.is_some()),
            ("multiplier", t.multiplier.is_some()),
            ("cap", t.cap.is_some()),
            ("jitter", t.jitter.is_some()),
            ("queue_run_delay", t.queue_run_delay.is_some()),
            ("minimal_backoff", t.minimal_backoff.is_some()),
            ("maximal_backoff", t.maximal_backoff.is_some()),
            ("rules", t.rules.is_some()),
            ("schedule", t.schedule.is_some()),
        ];
        let fields: &[&str] = match t.policy {
            Policy::Exponential => &["initial", "multiplier", "cap", "jitter"],
            Policy::Postfix => &["queue_run_delay", "minimal_backoff", "maximal_backoff"],
            Policy::Exim => &["rules"],
            Policy::Fixed => &["schedule"],
        };
        if let Some((extra, _)) = given.iter().find(|(k, is)| *is && !fields.contains(k)) {
            let expected: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
            return Err(format!(
                "unknown field `{extra}` for policy \"{name}\", expected {}",
                expected.join(", ")
            ));
        }
        let missing = |field: &str| format!("missing field `{field}` for policy \"{name}\"");
        Ok(match t.policy {
            Policy::Exponential => RetryConfig::Exponential {
                initial: t.initial.ok_or_else(|| missing("initial"))?,
                multiplier: t.multiplier.unwrap_or_else(two),
                cap: t.cap.ok_or_else(|| missing("cap"))?,
                jitter: t.jitter.unwrap_or_default(),
            },
            Policy::Postfix => RetryConfig::Postfix {
                queue_run_delay: t.queue_run_delay.unwrap_or_else(postfix_queue_run),
                minimal_backoff: t.minimal_backoff.unwrap_or_else(postfix_queue_run),
                maximal_backoff: t.maximal_backoff.unwrap_or_else(postfix_max_backoff),
            },
            Policy::Exim => RetryConfig::Exim {
                rules: t.rules.ok_or_else(|| missing("rules"))?,
            },
            Policy::Fixed => RetryConfig::Fixed {
                schedule: t.schedule.ok_or_else(|| missing("schedule"))?,
            },
        })
    }
}

fn two() -> f64 {
    2.0
}

fn postfix_queue_run() -> Duration {
    "300s".parse().expect("valid duration")
}

fn postfix_max_backoff() -> Duration {
    "4000s".parse().expect("valid duration")
}

/// Jitter for [`RetryConfig::Exponential`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Jitter {
    /// The delay as computed.
    #[default]
    None,
    /// Uniform in `[0, delay]`.
    Full,
    /// `delay / 2` plus uniform in `[0, delay / 2]`.
    Equal,
}

/// One Exim retry rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EximRule {
    /// `F` fixed interval, `G` geometric, `H` geometric with random intervals.
    pub kind: EximKind,
    /// The rule applies while the time since the first failure is below this.
    pub until: Duration,
    /// The (first) interval.
    pub interval: Duration,
    /// The growth factor of `G` and `H` rules.
    #[serde(default = "two")]
    pub multiplier: f64,
}

/// The kind of an Exim retry rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum EximKind {
    /// Fixed intervals.
    F,
    /// Geometrically growing intervals.
    G,
    /// Geometrically growing, each drawn at random between the previous and the next.
    H,
}
