//! Checks that serde cannot make: references between sections, and the bounds of
//! [`crate::limits`] that depend on more than one field.

use std::collections::HashMap;

use smtpsim_des::SimDuration;

use super::{Arrivals, Dist, Domain, Quantity, RetryConfig, Scenario};
use crate::limits::{
    MAX_ATTEMPTS, MAX_COHORTS, MAX_DAILY_LIMIT, MAX_GROWTH, MAX_MESSAGE_SIZE, MAX_MESSAGES,
    MAX_RECIPIENTS, MAX_SAMPLES,
};
use crate::retry::RetryPolicy;

/// One problem: the dotted path of the field (which also finds its line) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub field: String,
    pub message: String,
}

pub(super) fn problem(field: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        field: field.into(),
        message: message.into(),
    }
}

pub(super) fn check(s: &Scenario) -> Result<(), Problem> {
    if s.senders.is_empty() {
        return Err(problem(
            "senders",
            "at least one [[senders]] entry is needed",
        ));
    }
    let domains = domains_by_name(s);
    for i in 0..s.senders.len() {
        check_sender(s, &domains, i)?;
    }
    check_relay(s)?;
    check_domains(s)?;
    super::provider::check(s)?;
    super::shaping::check(s)?;
    super::automation::check(s)?;
    check_run(s, s.simulation.duration.0, s.simulation.messages)
}

/// The scenario's domains by lower-case name, so that senders with thousands of
/// destinations are checked in time linear in their number.
fn domains_by_name(s: &Scenario) -> HashMap<String, &Domain> {
    let mut by_name = HashMap::with_capacity(s.domains.len());
    for domain in &s.domains {
        by_name
            .entry(domain.name.to_ascii_lowercase())
            .or_insert(domain);
    }
    by_name
}

fn check_sender(s: &Scenario, domains: &HashMap<String, &Domain>, i: usize) -> Result<(), Problem> {
    let sender = &s.senders[i];
    let at = |f: &str| format!("senders[{i}].{f}");
    if sender.to.is_empty() {
        return Err(problem(at("to"), "name at least one recipient domain"));
    }
    for (j, dest) in sender.to.iter().enumerate() {
        let field = || format!("senders[{i}].to[{j}]");
        if !(dest.weight.is_finite() && dest.weight > 0.0) {
            return Err(problem(
                field() + ".weight",
                format!(
                    "a weight must be a finite number above 0, not {}",
                    dest.weight
                ),
            ));
        }
        match domains.get(dest.domain.to_ascii_lowercase().as_str()) {
            None => {
                return Err(problem(
                    field() + ".domain",
                    format!("no [[domains]] entry named {:?}", dest.domain),
                ));
            }
            Some(d) if d.mx.is_empty() && !d.null_mx && !d.nxdomain => {
                return Err(problem(
                    field() + ".domain",
                    format!(
                        "domain {:?} has no MX hosts (give it mx = [...], null_mx = true or nxdomain = true)",
                        dest.domain
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    at_most(
        &sender.recipients,
        MAX_RECIPIENTS,
        at("recipients"),
        "recipients",
    )?;
    at_most(&sender.size, MAX_MESSAGE_SIZE, at("size"), "bytes")?;
    if let Arrivals::Bursts { bursts } = &sender.arrivals {
        for (j, burst) in bursts.iter().enumerate() {
            if burst.count > MAX_MESSAGES {
                return Err(problem(
                    at(&format!("arrivals.bursts[{j}].count")),
                    format!(
                        "a burst has at most {MAX_MESSAGES} messages (the most a run generates), \
                         not {}",
                        burst.count
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Refuses a distribution whose parameters name a value above `max`.
fn at_most<Q: Quantity>(
    dist: &Dist<Q>,
    max: u64,
    field: String,
    unit: &str,
) -> Result<(), Problem> {
    let nominal = dist.nominal_max();
    if nominal > max as f64 {
        return Err(problem(
            field,
            format!("must be from 0 to {max} {unit} (draws above are cut to it), not {nominal}"),
        ));
    }
    Ok(())
}

fn check_relay(s: &Scenario) -> Result<(), Problem> {
    let relay = &s.relay;
    if relay.max_connections == 0 || relay.max_connections_per_domain == 0 {
        return Err(problem(
            "relay.max_connections",
            "connection limits must be at least 1",
        ));
    }
    if let Some(max) = relay.max_attempts
        && !(1..=MAX_ATTEMPTS).contains(&max)
    {
        return Err(problem(
            "relay.max_attempts",
            format!("must be from 1 to {MAX_ATTEMPTS}, not {max}"),
        ));
    }
    if let Some(suspend) = relay.suspend_unreachable
        && !(1.0..=30.0 * 86_400.0).contains(&suspend.secs())
    {
        return Err(problem(
            "relay.suspend_unreachable",
            format!("must be from 1s to 30d, not {}s", suspend.secs()),
        ));
    }
    if relay.failed_cohort_limit > MAX_COHORTS {
        return Err(problem(
            "relay.failed_cohort_limit",
            format!(
                "must be from 0 to {MAX_COHORTS}, not {}",
                relay.failed_cohort_limit
            ),
        ));
    }
    if !(1..=MAX_COHORTS).contains(&relay.initial_destination_concurrency) {
        return Err(problem(
            "relay.initial_destination_concurrency",
            format!(
                "must be from 1 to {MAX_COHORTS}, not {}",
                relay.initial_destination_concurrency
            ),
        ));
    }
    if let Some(pool) = &relay.pool {
        check_pool(relay, pool)?;
    }
    let finite_growth = |m: f64| m.is_finite() && m >= 1.0;
    match &relay.retry {
        RetryConfig::Exponential { multiplier, .. } if !finite_growth(*multiplier) => {
            return Err(problem(
                "relay.retry.multiplier",
                format!("the multiplier must be a finite number, at least 1, not {multiplier}"),
            ));
        }
        RetryConfig::Exim { rules, .. } if rules.is_empty() => {
            return Err(problem("relay.retry.rules", "give at least one rule"));
        }
        RetryConfig::Exim { rules, .. } => {
            if let Some(k) = rules.iter().position(|r| !finite_growth(r.multiplier)) {
                return Err(problem(
                    format!("relay.retry.rules[{k}].multiplier"),
                    format!(
                        "the multiplier must be a finite number, at least 1, not {}",
                        rules[k].multiplier
                    ),
                ));
            }
        }
        RetryConfig::Fixed { schedule } if schedule.is_empty() => {
            return Err(problem("relay.retry.schedule", "give at least one delay"));
        }
        _ => {}
    }
    relay
        .retry
        .check_ranges()
        .map_err(|e| problem(format!("relay.retry.{}", e.field), e.message))?;
    let lifetime = relay.lifetime();
    let policy = RetryPolicy::new(relay.retry.clone()).with_lifetime(lifetime);
    if policy.retries_within(lifetime, MAX_ATTEMPTS).is_none() {
        return Err(problem(
            "relay.retry",
            format!(
                "within the queue lifetime of {lifetime}, this policy retries a message more \
                 than {MAX_ATTEMPTS} times when attempts take no time (a delay of 0 never lets \
                 time pass); lengthen its delays or shorten relay.queue_lifetime"
            ),
        ));
    }
    Ok(())
}

fn check_pool(relay: &super::Relay, pool: &super::SourcePool) -> Result<(), Problem> {
    use super::{MAX_POOL_ADDRESSES, MAX_POOL_WEIGHT};
    if relay.ip != super::relay::default_ip() {
        return Err(problem(
            "relay.ip",
            "give the relay's addresses either as ip or as pool, not both",
        ));
    }
    let count = pool.addresses.len();
    if !(1..=MAX_POOL_ADDRESSES).contains(&count) {
        return Err(problem(
            "relay.pool.addresses",
            format!("a pool has 1 to {MAX_POOL_ADDRESSES} addresses, not {count}"),
        ));
    }
    for (i, address) in pool.addresses.iter().enumerate() {
        if !(1..=MAX_POOL_WEIGHT).contains(&address.weight) {
            return Err(problem(
                format!("relay.pool.addresses[{i}].weight"),
                format!(
                    "must be from 1 to {MAX_POOL_WEIGHT}, not {}",
                    address.weight
                ),
            ));
        }
        let ip = address.ip.to_canonical();
        if let Some(j) = pool.addresses[..i]
            .iter()
            .position(|a| a.ip.to_canonical() == ip)
        {
            return Err(problem(
                format!("relay.pool.addresses[{i}].ip"),
                format!("{ip} is already in the pool (addresses[{j}])"),
            ));
        }
    }
    Ok(())
}

fn check_reputation(r: &super::Reputation, field: &str) -> Result<(), Problem> {
    if !(1..=MAX_DAILY_LIMIT).contains(&r.initial_daily_limit) {
        return Err(problem(
            format!("{field}.initial_daily_limit"),
            format!(
                "must be from 1 to {MAX_DAILY_LIMIT}, not {}",
                r.initial_daily_limit
            ),
        ));
    }
    if !(r.growth.is_finite() && (0.0..=MAX_GROWTH).contains(&r.growth)) {
        return Err(problem(
            format!("{field}.growth"),
            format!("must be from 0 to {MAX_GROWTH}, not {}", r.growth),
        ));
    }
    if let Some(max) = r.max_daily_limit
        && !(r.initial_daily_limit..=MAX_DAILY_LIMIT).contains(&max)
    {
        return Err(problem(
            format!("{field}.max_daily_limit"),
            format!(
                "must be from initial_daily_limit ({}) to {MAX_DAILY_LIMIT}, not {max}",
                r.initial_daily_limit
            ),
        ));
    }
    if let Some(reply) = &r.reply {
        crate::reply_text::parse(reply).map_err(|e| problem(format!("{field}.reply"), e))?;
    }
    Ok(())
}

fn check_domains(s: &Scenario) -> Result<(), Problem> {
    for (i, domain) in s.domains.iter().enumerate() {
        for (j, mx) in domain.mx.iter().enumerate() {
            for (k, outage) in mx.outages.iter().enumerate() {
                if outage.end <= outage.start {
                    return Err(problem(
                        format!("domains[{i}].mx[{j}].outages[{k}]"),
                        "an outage must end after it starts",
                    ));
                }
            }
        }
        let limits = &domain.behaviour.rate_limits;
        for (name, bucket) in [
            ("connections", &limits.connections),
            ("messages", &limits.messages),
            ("recipients", &limits.recipients),
        ] {
            if let Some(bucket) = bucket {
                let field = format!("domains[{i}].behaviour.rate_limits.{name}");
                if bucket.burst == 0 {
                    return Err(problem(field + ".burst", "the burst must be at least 1"));
                }
                if let Some(reply) = &bucket.reply {
                    crate::reply_text::parse(reply).map_err(|e| problem(field + ".reply", e))?;
                }
            }
        }
        if let Some(reputation) = &domain.behaviour.reputation {
            check_reputation(reputation, &format!("domains[{i}].behaviour.reputation"))?;
        }
        if let Some(reply) = domain
            .behaviour
            .greylisting
            .as_ref()
            .and_then(|g| g.reply.as_ref())
        {
            crate::reply_text::parse(&reply.replace("{seconds}", "300"))
                .map_err(|e| problem(format!("domains[{i}].behaviour.greylisting.reply"), e))?;
        }
    }
    Ok(())
}

/// The checks that depend on the arrival window and the message count, which a run may
/// replace (`--duration`, `--messages`): how many messages and samples the run can make.
pub(crate) fn check_run(
    s: &Scenario,
    duration: SimDuration,
    messages: Option<u64>,
) -> Result<(), Problem> {
    let interval = s.simulation.timeseries_interval.0;
    let field = "simulation.timeseries_interval";
    if interval.is_zero() {
        return Err(problem(field, "the interval must be above 0"));
    }
    let length = run_length(s, duration, messages);
    let samples = length / interval.as_secs_f64();
    if samples > MAX_SAMPLES as f64 {
        let least = SimDuration::from_secs_f64(length / MAX_SAMPLES as f64)
            .saturating_add(SimDuration::from_micros(1));
        return Err(problem(
            field,
            format!(
                "an interval of {interval} makes about {samples:.3e} samples over the run's \
                 estimated length of {length:.3e} s (the arrival window of {duration}, the queue \
                 lifetime or the retry policy's last retry, and what the longest retry delay, \
                 the longest attempt and shaping add); a run writes at most {MAX_SAMPLES}: the \
                 interval must be at least {least}"
            ),
        ));
    }
    if let Some(count) = messages {
        if count > MAX_MESSAGES {
            return Err(problem(
                "simulation.messages",
                format!("must be from 0 to {MAX_MESSAGES}, not {count}"),
            ));
        }
        return Ok(());
    }
    check_arrivals(s, duration)
}

/// An estimate of how long a run lasts, in seconds: the arrival window and the queue lifetime,
/// plus the longest retry delay and the longest attempt the nominal values allow, plus the
/// time the relay's shaping spreads the messages over. Queues that drain more slowly than this (behind a connection limit) are
/// left to the engine, which stops a run that passes [`MAX_SAMPLES`].
fn run_length(s: &Scenario, duration: SimDuration, messages: Option<u64>) -> f64 {
    let relay = &s.relay;
    let nominal = |d: &Dist<super::Duration>| d.nominal_max() / 1e6;
    let hosts = s.domains.iter().map(|d| d.mx.len()).max().unwrap_or(0) as f64;
    let recipients = s
        .senders
        .iter()
        .map(|x| x.recipients.nominal_max())
        .fold(1.0, f64::max);
    let size = s
        .senders
        .iter()
        .map(|x| x.size.nominal_max())
        .fold(0.0, f64::max);
    let mx = s
        .domains
        .iter()
        .map(|d| {
            nominal(&d.behaviour.latency) + nominal(&d.dns.latency) + d.dns.timeout_after.secs()
        })
        .fold(0.0, f64::max);
    let submission = s
        .senders
        .iter()
        .map(|x| nominal(&x.submission.latency))
        .fold(0.0, f64::max);
    let transfer = match relay.bandwidth.bytes_per_second() {
        0.0 => 0.0,
        b => size / b,
    };
    // Greeting, EHLO, STARTTLS, EHLO, MAIL, DATA, end of data, QUIT and a RCPT each.
    let exchanges = 8.0 + recipients;
    let attempt = relay.connect_timeout.secs() * hosts
        + exchanges * (nominal(&relay.round_trip) + mx)
        + transfer
        + relay.attempt_duration.as_ref().map_or(0.0, nominal)
        + submission;
    let count = messages.map_or_else(|| expected_arrivals(s, duration), |m| m as f64);
    // The slowest of the relay's rate limits spreads the messages the longest.
    let slowest = relay
        .providers
        .iter()
        .flat_map(|p| [p.max_message_rate, p.max_connection_rate])
        .chain(
            relay
                .domains
                .iter()
                .flat_map(|d| [d.max_message_rate, d.max_connection_rate]),
        )
        .chain(
            relay
                .automation
                .iter()
                .filter_map(|rule| rule.shape.as_ref())
                .flat_map(|shape| [shape.max_message_rate, shape.max_connection_rate]),
        )
        .chain([relay.rate_per_domain])
        .flatten()
        .map(|r| r.per_second)
        .fold(f64::INFINITY, f64::min);
    let shaping = if slowest.is_finite() {
        count / slowest
    } else {
        0.0
    };
    let lifetime = relay.lifetime();
    let policy = RetryPolicy::new(relay.retry.clone()).with_lifetime(lifetime);
    // Without a lifetime (Exim, Haraka) the policy's own schedule ends the retries.
    let retrying = match policy.retries_within(lifetime, MAX_ATTEMPTS) {
        Some(retries) if lifetime == SimDuration::MAX => retries.last.as_secs_f64(),
        _ => lifetime.as_secs_f64(),
    };
    duration.as_secs_f64() + retrying + policy.longest_delay() + attempt + shaping
}

/// The messages the senders make in an arrival window of `duration` (0 for arrival files).
fn expected_arrivals(s: &Scenario, duration: SimDuration) -> f64 {
    s.senders
        .iter()
        .map(|sender| match &sender.arrivals {
            Arrivals::Poisson { rate } | Arrivals::Constant { rate } => {
                rate.per_second * duration.as_secs_f64()
            }
            Arrivals::Bursts { bursts } => bursts.iter().map(|b| b.count as f64).sum(),
            Arrivals::Csv { .. } => 0.0,
        })
        .sum()
}

/// Without a message count, the arrivals the senders make in the window must stay in bounds.
fn check_arrivals(s: &Scenario, duration: SimDuration) -> Result<(), Problem> {
    let mut total = 0.0;
    let mut largest = (0.0, String::new());
    for (i, sender) in s.senders.iter().enumerate() {
        let (expected, field) = match &sender.arrivals {
            Arrivals::Poisson { rate } | Arrivals::Constant { rate } => (
                rate.per_second * duration.as_secs_f64(),
                format!("senders[{i}].arrivals.rate"),
            ),
            Arrivals::Bursts { bursts } => (
                bursts.iter().map(|b| b.count as f64).sum(),
                format!("senders[{i}].arrivals.bursts"),
            ),
            // Bounded by the file's rows.
            Arrivals::Csv { .. } => (0.0, String::new()),
        };
        total += expected;
        if expected > largest.0 {
            largest = (expected, field);
        }
    }
    if total > MAX_MESSAGES as f64 {
        return Err(problem(
            largest.1,
            format!(
                "the senders make about {total:.3e} messages in the arrival window of \
                 {duration}; a run has at most {MAX_MESSAGES}: lower the rates or the window, \
                 or set simulation.messages"
            ),
        ));
    }
    Ok(())
}
