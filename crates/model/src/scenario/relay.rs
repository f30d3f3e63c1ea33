//! `[relay]`: the MTA that queues the mail and delivers it to the recipients' MX hosts.

use std::net::IpAddr;

use serde::Deserialize;

use smtpsim_des::SimDuration;

use super::automation::Rule;
use super::dist::Dist;
use super::mta_retry::{Exchange, Haraka, KumoMta, Sendmail};
use super::pool::SourcePool;
use super::provider::Provider;
use super::units::{Bandwidth, Duration, Rate};

/// The relay MTA.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relay {
    /// The name it gives in EHLO.
    #[serde(default = "default_hostname")]
    pub hostname: String,
    /// The address it connects from (what SPF checks and rate limits count), when it has no
    /// `pool`.
    #[serde(default = "default_ip")]
    pub ip: IpAddr,
    /// A pool of source addresses, in place of `ip`.
    #[serde(default)]
    pub pool: Option<SourcePool>,
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
    /// Once attempts in which no MX host of a domain took the connection have declared the
    /// domain dead (`failed_cohort_limit`, `initial_destination_concurrency`), the relay
    /// defers its deliveries without trying for this long (Postfix marks the destination
    /// dead and suspends it for `minimal_backoff_time`); none if absent.
    #[serde(default)]
    pub suspend_unreachable: Option<Duration>,
    /// With `suspend_unreachable`: how many failed connections declare a domain dead, as
    /// Postfix's `destination_concurrency_failed_cohort_limit` counts them (each failure adds
    /// `1 / window` cohorts; 0: never dead), the window as `initial_destination_concurrency`
    /// says.
    #[serde(default = "default_failed_cohort_limit")]
    pub failed_cohort_limit: u32,
    /// With `suspend_unreachable`: the window that weighs failed connections when a domain is
    /// first delivered to and after a suspension (Postfix's `initial_destination_concurrency`).
    #[serde(default = "default_initial_destination_concurrency")]
    pub initial_destination_concurrency: u32,
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
    /// `[[relay.providers]]`: groups of domains by MX host, with limits for the group.
    #[serde(default)]
    pub providers: Vec<Provider>,
    /// `[[relay.domains]]`: shaping towards single domains, in place of
    /// `max_connections_per_domain` and `rate_per_domain`.
    #[serde(default)]
    pub domains: Vec<super::shaping::DomainShaping>,
    /// `[[relay.automation]]`: rules applied to the replies the relay gets.
    #[serde(default)]
    pub automation: Vec<Rule>,
}

impl Relay {
    /// The source addresses with their weights: the pool's, or `ip` alone.
    pub fn sources(&self) -> Vec<(IpAddr, u32)> {
        match &self.pool {
            Some(pool) => pool.addresses.iter().map(|a| (a.ip, a.weight)).collect(),
            None => vec![(self.ip, 1)],
        }
    }

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

/// The address of a relay that gives none.
pub(super) fn default_ip() -> IpAddr {
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

fn default_failed_cohort_limit() -> u32 {
    1
}

fn default_initial_destination_concurrency() -> u32 {
    5
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
    /// Postfix: the next attempt waits the message's age in whole seconds, clamped to
    /// `[minimal_backoff, maximal_backoff]`, and happens at the first deferred-queue scan
    /// (every `queue_run_delay`) no earlier than one second before that.
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
        /// The rules; Exim's default `F,2h,15m; G,16h,1h,1.5; F,4d,6h` if absent.
        rules: Vec<EximRule>,
        /// The interval of the queue runner (`exim -q<interval>`), if attempts wait for it.
        queue_run: Option<Duration>,
        /// With `queue_run`: how long a run takes to reach a message (modelled: a draw, uniform
        /// below this, for each run and message, as Exim's runner delivers one message after
        /// another in no set order); zero when absent.
        queue_run_spread: Option<Duration>,
        /// Exim `retry_interval_max`: the longest delay.
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

/// `retry` as written: read as a plain table (not a tagged enum) so that an error in a field
/// names the field, such as `relay.retry.initial`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryTable {
    policy: Policy,
    initial: Option<Duration>,
    multiplier: Option<f64>,
    cap: Option<Duration>,
    jitter: Option<JitterField>,
    queue_run_delay: Option<Duration>,
    minimal_backoff: Option<Duration>,
    maximal_backoff: Option<Duration>,
    rules: Option<Vec<EximRule>>,
    queue_run: Option<Duration>,
    queue_run_spread: Option<Duration>,
    retry_interval_max: Option<Duration>,
    schedule: Option<Vec<Duration>>,
    retry_interval: Option<Duration>,
    max_retry_interval: Option<Duration>,
    max_temp_failures: Option<u32>,
    temp_fail_intervals: Option<Vec<Duration>>,
    transient_failure_retry_count: Option<u32>,
    transient_failure_retry_interval: Option<Duration>,
    message_retry_interval: Option<Duration>,
    queue_interval: Option<Duration>,
    min_queue_age: Option<Duration>,
}

/// `jitter`: a kind for `exponential`, on or off for `kumomta`.
#[derive(Deserialize)]
#[serde(untagged)]
enum JitterField {
    Kind(Jitter),
    On(bool),
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Policy {
    Exponential,
    Postfix,
    Exim,
    Fixed,
    Kumomta,
    Haraka,
    Exchange,
    Sendmail,
}

impl Policy {
    /// The fields of `[relay.retry]` this policy takes besides `policy`.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Policy::Exponential => &["initial", "multiplier", "cap", "jitter"],
            Policy::Postfix => &["queue_run_delay", "minimal_backoff", "maximal_backoff"],
            Policy::Exim => &[
                "rules",
                "queue_run",
                "queue_run_spread",
                "retry_interval_max",
            ],
            Policy::Fixed => &["schedule"],
            Policy::Kumomta => &["retry_interval", "max_retry_interval", "jitter"],
            Policy::Haraka => &["max_temp_failures", "temp_fail_intervals"],
            Policy::Exchange => &[
                "transient_failure_retry_count",
                "transient_failure_retry_interval",
                "message_retry_interval",
            ],
            Policy::Sendmail => &["queue_interval", "min_queue_age"],
        }
    }
}

impl RetryTable {
    /// The fields given, by name.
    fn given(&self) -> [(&'static str, bool); 21] {
        [
            ("initial", self.initial.is_some()),
            ("multiplier", self.multiplier.is_some()),
            ("cap", self.cap.is_some()),
            ("jitter", self.jitter.is_some()),
            ("queue_run_delay", self.queue_run_delay.is_some()),
            ("minimal_backoff", self.minimal_backoff.is_some()),
            ("maximal_backoff", self.maximal_backoff.is_some()),
            ("rules", self.rules.is_some()),
            ("queue_run", self.queue_run.is_some()),
            ("queue_run_spread", self.queue_run_spread.is_some()),
            ("retry_interval_max", self.retry_interval_max.is_some()),
            ("schedule", self.schedule.is_some()),
            ("retry_interval", self.retry_interval.is_some()),
            ("max_retry_interval", self.max_retry_interval.is_some()),
            ("max_temp_failures", self.max_temp_failures.is_some()),
            ("temp_fail_intervals", self.temp_fail_intervals.is_some()),
            (
                "transient_failure_retry_count",
                self.transient_failure_retry_count.is_some(),
            ),
            (
                "transient_failure_retry_interval",
                self.transient_failure_retry_interval.is_some(),
            ),
            (
                "message_retry_interval",
                self.message_retry_interval.is_some(),
            ),
            ("queue_interval", self.queue_interval.is_some()),
            ("min_queue_age", self.min_queue_age.is_some()),
        ]
    }
}

impl TryFrom<RetryTable> for RetryConfig {
    type Error = String;

    fn try_from(t: RetryTable) -> Result<RetryConfig, String> {
        let name = format!("{:?}", t.policy).to_lowercase();
        let fields = t.policy.fields();
        if let Some((extra, _)) = t.given().iter().find(|(k, is)| *is && !fields.contains(k)) {
            let expected: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
            return Err(format!(
                "unknown field `{extra}` for policy \"{name}\", expected {}",
                expected.join(", ")
            ));
        }
        let missing = |field: &str| format!("missing field `{field}` for policy \"{name}\"");
        let jitter_kind = |j: Option<JitterField>| match j {
            None => Ok(Jitter::default()),
            Some(JitterField::Kind(kind)) => Ok(kind),
            Some(JitterField::On(_)) => Err(format!(
                "jitter: policy \"{name}\" takes \"none\", \"full\" or \"equal\""
            )),
        };
        let jitter_on = |j: Option<JitterField>, default: bool| match j {
            None => Ok(default),
            Some(JitterField::On(on)) => Ok(on),
            Some(JitterField::Kind(_)) => {
                Err(format!("jitter: policy \"{name}\" takes true or false"))
            }
        };
        Ok(match t.policy {
            Policy::Exponential => RetryConfig::Exponential {
                initial: t.initial.ok_or_else(|| missing("initial"))?,
                multiplier: t.multiplier.unwrap_or_else(two),
                cap: t.cap.ok_or_else(|| missing("cap"))?,
                jitter: jitter_kind(t.jitter)?,
            },
            Policy::Postfix => RetryConfig::Postfix {
                queue_run_delay: t.queue_run_delay.unwrap_or_else(postfix_queue_run),
                minimal_backoff: t.minimal_backoff.unwrap_or_else(postfix_queue_run),
                maximal_backoff: t.maximal_backoff.unwrap_or_else(postfix_max_backoff),
            },
            Policy::Exim => RetryConfig::Exim {
                rules: t.rules.unwrap_or_else(super::mta_retry::exim_default_rules),
                queue_run: t.queue_run,
                queue_run_spread: t.queue_run_spread,
                retry_interval_max: t
                    .retry_interval_max
                    .unwrap_or_else(super::mta_retry::exim_retry_interval_max),
            },
            Policy::Fixed => RetryConfig::Fixed {
                schedule: t.schedule.ok_or_else(|| missing("schedule"))?,
            },
            Policy::Kumomta => {
                let d = KumoMta::default();
                RetryConfig::Kumomta(KumoMta {
                    retry_interval: t.retry_interval.unwrap_or(d.retry_interval),
                    max_retry_interval: t.max_retry_interval,
                    jitter: jitter_on(t.jitter, d.jitter)?,
                })
            }
            Policy::Haraka => {
                let d = Haraka::default();
                RetryConfig::Haraka(Haraka {
                    max_temp_failures: t.max_temp_failures.unwrap_or(d.max_temp_failures),
                    temp_fail_intervals: t.temp_fail_intervals,
                })
            }
            Policy::Exchange => {
                let d = Exchange::default();
                RetryConfig::Exchange(Exchange {
                    transient_failure_retry_count: t
                        .transient_failure_retry_count
                        .unwrap_or(d.transient_failure_retry_count),
                    transient_failure_retry_interval: t
                        .transient_failure_retry_interval
                        .unwrap_or(d.transient_failure_retry_interval),
                    message_retry_interval: t
                        .message_retry_interval
                        .unwrap_or(d.message_retry_interval),
                })
            }
            Policy::Sendmail => {
                let d = Sendmail::default();
                RetryConfig::Sendmail(Sendmail {
                    queue_interval: t.queue_interval.unwrap_or(d.queue_interval),
                    min_queue_age: t.min_queue_age.unwrap_or(d.min_queue_age),
                })
            }
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
