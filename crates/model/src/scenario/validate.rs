//! Checks that serde cannot make: references between sections and sensible values.

use super::{Arrivals, RetryConfig, Scenario};

/// One problem: the field, what is wrong, and a piece of the file to point the line at.
pub(super) struct Problem {
    pub field: String,
    pub message: String,
    pub needle: Option<String>,
}

fn problem(
    field: impl Into<String>,
    message: impl Into<String>,
    needle: Option<String>,
) -> Problem {
    Problem {
        field: field.into(),
        message: message.into(),
        needle,
    }
}

pub(super) fn check(s: &Scenario) -> Result<(), Problem> {
    if s.senders.is_empty() {
        return Err(problem(
            "senders",
            "at least one [[senders]] entry is needed",
            None,
        ));
    }
    for (i, sender) in s.senders.iter().enumerate() {
        let at = |f: &str| format!("senders[{i}].{f}");
        if sender.to.is_empty() {
            return Err(problem(
                at("to"),
                "name at least one recipient domain",
                None,
            ));
        }
        for (j, dest) in sender.to.iter().enumerate() {
            let field = format!("senders[{i}].to[{j}]");
            if !(dest.weight.is_finite() && dest.weight > 0.0) {
                return Err(problem(field + ".weight", "a weight must be above 0", None));
            }
            let needle = Some(format!("\"{}\"", dest.domain));
            match s.domain(&dest.domain) {
                None => {
                    return Err(problem(
                        field + ".domain",
                        format!("no [[domains]] entry named {:?}", dest.domain),
                        needle,
                    ));
                }
                Some(d) if d.mx.is_empty() && !d.null_mx && !d.nxdomain => {
                    return Err(problem(
                        field + ".domain",
                        format!(
                            "domain {:?} has no MX hosts (give it mx = [...], null_mx = true or nxdomain = true)",
                            dest.domain
                        ),
                        needle,
                    ));
                }
                Some(_) => {}
            }
        }
        match &sender.arrivals {
            Arrivals::Poisson { rate } | Arrivals::Constant { rate } if rate.per_second <= 0.0 => {
                return Err(problem(
                    at("arrivals.rate"),
                    "the rate must be above 0",
                    None,
                ));
            }
            _ => {}
        }
    }
    let relay = &s.relay;
    if relay.max_connections == 0 || relay.max_connections_per_domain == 0 {
        return Err(problem(
            "relay.max_connections",
            "connection limits must be at least 1",
            None,
        ));
    }
    match &relay.retry {
        RetryConfig::Exponential { multiplier, .. } if multiplier.is_nan() || *multiplier < 1.0 => {
            return Err(problem(
                "relay.retry.multiplier",
                "the multiplier must be at least 1",
                None,
            ));
        }
        RetryConfig::Exim { rules, .. } if rules.is_empty() => {
            return Err(problem("relay.retry.rules", "give at least one rule", None));
        }
        RetryConfig::Fixed { schedule } if schedule.is_empty() => {
            return Err(problem(
                "relay.retry.schedule",
                "give at least one delay",
                None,
            ));
        }
        _ => {}
    }
    relay.retry.check_ranges().map_err(|e| {
        let key = e
            .field
            .split(['[', '.'])
            .next()
            .unwrap_or_default()
            .to_string();
        problem(format!("relay.retry.{}", e.field), e.message, Some(key))
    })?;
    for (i, domain) in s.domains.iter().enumerate() {
        for (j, mx) in domain.mx.iter().enumerate() {
            for (k, outage) in mx.outages.iter().enumerate() {
                if outage.end <= outage.start {
                    return Err(problem(
                        format!("domains[{i}].mx[{j}].outages[{k}]"),
                        "an outage must end after it starts",
                        None,
                    ));
                }
            }
        }
        let limits = &domain.behaviour.rate_limits;
        for (name, bucket) in [
            ("connections", &limits.connections),
            ("messages", &limits.messages),
        ] {
            if let Some(bucket) = bucket {
                let field = format!("domains[{i}].behaviour.rate_limits.{name}");
                if bucket.rate.per_second <= 0.0 || bucket.burst == 0 {
                    return Err(problem(field, "rate and burst must be above 0", None));
                }
                if let Some(reply) = &bucket.reply {
                    crate::reply_text::parse(reply)
                        .map_err(|e| problem(field + ".reply", e, Some(reply.clone())))?;
                }
            }
        }
    }
    Ok(())
}
