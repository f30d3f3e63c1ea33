//! `[relay]`: the MTA that queues the mail and delivers it to the recipients' MX hosts.

use std::net::IpAddr;

use serde::Deserialize;

use smtpsim_des::SimDuration;

use super::dist::Dist;
use super::mta_retry::{Exchange, Haraka, KumoMta, Sendmail};
use super::units::{Duration, Rate};

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
    /// How long a message may stay queued before it expires and bounces; if absent, the retry
    /// policy's own default ([`RetryConfig::default_lifetime`]).
    #[serde(default)]
    pub queue_lifetime: Option<Duration>,
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
    pub bandwidth: f64,
    /// If set, an attempt takes a draw of this distribution instead of the time computed from
    /// round trips, command latency and transfer (used by the queueing validation scenarios).
    #[serde(default)]
    pub attempt_duration: Option<Dist<Duration>>,
    /// When deferred messages are tried again.
    pub retry: RetryConfig,
}

impl Relay {
    /// The queue lifetime in force: `queue_lifetime` if the scenario gives one, else the retry
    /// policy's default, else none ([`SimDuration::MAX`]).
    pub fn lifetime(&self) -> SimDuration {
        self.queue_lifetime
            .map(|d| d.0)
            .or_else(|| self.retry.default_lifetime())
            .unwrap_or(SimDuration::MAX)
    }
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

fn default_connect_timeout() -> Duration {
    "30s".parse().expect("valid duration")
}

fn yes() -> bool {
    true
}

/// `[relay.retry]`: a retry policy, selected by `policy`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "policy", rename_all = "lowercase", deny_unknown_fields)]
pub enum RetryConfig {
    /// `initial × multiplier^(n-1)`, at most `cap`, with optional jitter.
    Exponential {
        /// The delay before the first retry.
        initial: Duration,
        /// Growth factor per retry.
        #[serde(default = "two")]
        multiplier: f64,
        /// The largest delay.
        cap: Duration,
        /// Randomisation of each delay.
        #[serde(default)]
        jitter: Jitter,
    },
    /// Postfix: the next attempt waits the message's age in whole seconds, clamped to
    /// `[minimal_backoff, maximal_backoff]`, and happens at the first deferred-queue scan
    /// (every `queue_run_delay`) no earlier than one second before that.
    Postfix {
        /// How often the deferred queue is scanned (Postfix `queue_run_delay`).
        #[serde(default = "postfix_queue_run")]
        queue_run_delay: Duration,
        /// `minimal_backoff_time`.
        #[serde(default = "postfix_queue_run")]
        minimal_backoff: Duration,
        /// `maximal_backoff_time`.
        #[serde(default = "postfix_max_backoff")]
        maximal_backoff: Duration,
    },
    /// Exim retry rules, applied in order by the time since the first failure: each rule holds
    /// until its `until`, after the last one the message bounces.
    Exim {
        /// The rules; Exim's default `F,2h,15m; G,16h,1h,1.5; F,4d,6h` if absent.
        #[serde(default = "super::mta_retry::exim_default_rules")]
        rules: Vec<EximRule>,
        /// The interval of the queue runner (`exim -q<interval>`), if attempts wait for it.
        #[serde(default)]
        queue_run: Option<Duration>,
        /// Exim `retry_interval_max`: the longest delay.
        #[serde(default = "super::mta_retry::exim_retry_interval_max")]
        retry_interval_max: Duration,
    },
    /// A fixed list of delays after each failure; when it runs out the message bounces.
    Fixed {
        /// The delays.
        schedule: Vec<Duration>,
    },
    /// KumoMTA: `retry_interval` doubled at each failure, at most `max_retry_interval`, with
    /// KumoMTA's jitter.
    Kumomta(KumoMta),
    /// Haraka: one delay per temporary failure from `temp_fail_intervals`; when the list runs
    /// out the message bounces.
    Haraka(Haraka),
    /// Exchange: transient retries, then the message retry interval.
    Exchange(Exchange),
    /// Sendmail: tried again at the next run of the queue runner.
    Sendmail(Sendmail),
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
