//! The relay's shaping in force towards a domain or a provider: how many connections at once,
//! token buckets for new connections and messages, messages per connection and the idle
//! timeout of kept connections. An automation rule's `shape` action changes them for a while
//! and ramps them back.

use smtpsim_des::{SimDuration, SimTime};

use crate::behaviour::TokenBucket;
use crate::scenario::{Rate, Shaping};

/// Shaping values in force, with the state of their token buckets.
#[derive(Debug, Clone)]
pub(crate) struct Shaper {
    /// Connections open at once (`u32::MAX`: no limit).
    pub connection_limit: u32,
    /// The most messages over one connection, if limited.
    pub per_connection: Option<u32>,
    /// New connections per unit of time.
    pub connection_rate: Option<TokenBucket>,
    /// Messages per unit of time.
    pub message_rate: Option<TokenBucket>,
    /// How long a kept connection with nothing to send stays open.
    pub idle_timeout: Option<SimDuration>,
}

impl Shaper {
    /// Shaping with `values` from the start of the run (buckets full).
    pub fn new(values: &Shaping) -> Shaper {
        Shaper {
            connection_limit: values.connection_limit.unwrap_or(u32::MAX),
            per_connection: values.max_deliveries_per_connection,
            connection_rate: values.max_connection_rate.map(full_bucket),
            message_rate: values.max_message_rate.map(full_bucket),
            idle_timeout: values.idle_timeout.map(|d| d.0),
        }
    }

    /// Whether a token bucket limits new connections.
    #[inline]
    pub fn rate_limited(&self) -> bool {
        self.connection_rate.is_some() || self.message_rate.is_some()
    }

    /// When the rates let a new connection start (`now` if they do at once).
    #[inline]
    pub fn connects_at(&self, now: SimTime) -> SimTime {
        let ready =
            |bucket: &Option<TokenBucket>| bucket.as_ref().map_or(now, |b| b.next_token(now));
        ready(&self.connection_rate).max(ready(&self.message_rate))
    }

    /// When the limits let a new connection start with `active` open: `now` if they do at
    /// once, `None` while the connection limit is reached (a connection's end will tell).
    #[inline]
    pub fn opens_at(&self, active: u32, now: SimTime) -> Option<SimTime> {
        if active >= self.connection_limit {
            return None;
        }
        Some(self.connects_at(now))
    }

    /// When the message rate lets another message go over an open connection.
    #[inline]
    pub fn sends_at(&self, now: SimTime) -> SimTime {
        self.message_rate
            .as_ref()
            .map_or(now, |b| b.next_token(now))
    }

    /// A new connection starts: it takes a token of each rate.
    #[inline]
    pub fn take_connection(&mut self, now: SimTime) {
        for bucket in [&mut self.connection_rate, &mut self.message_rate]
            .into_iter()
            .flatten()
        {
            bucket.take(now);
        }
    }

    /// Another message goes over an open connection: it takes a token of the message rate.
    #[inline]
    pub fn take_message(&mut self, now: SimTime) {
        if let Some(bucket) = &mut self.message_rate {
            bucket.take(now);
        }
    }

    /// Puts `values` in force at `now` (an absent value: no limit). A rate that changes
    /// keeps the fraction of a token earned; a rate that starts has a full bucket.
    pub fn set(&mut self, values: &Shaping, now: SimTime) {
        self.connection_limit = values.connection_limit.unwrap_or(u32::MAX);
        self.per_connection = values.max_deliveries_per_connection;
        self.idle_timeout = values.idle_timeout.map(|d| d.0);
        set_rate(&mut self.connection_rate, values.max_connection_rate, now);
        set_rate(&mut self.message_rate, values.max_message_rate, now);
    }
}

fn full_bucket(rate: Rate) -> TokenBucket {
    TokenBucket::new(rate.per_second, 1, SimTime::ZERO)
}

fn set_rate(bucket: &mut Option<TokenBucket>, rate: Option<Rate>, now: SimTime) {
    match (bucket.as_mut(), rate) {
        (Some(b), Some(rate)) => b.set_rate(rate.per_second, now),
        (None, Some(rate)) => *bucket = Some(TokenBucket::new(rate.per_second, 1, now)),
        (_, None) => *bucket = None,
    }
}

/// `shape`'s given values over `base`'s: the values an automation rule's shape puts in force.
pub(crate) fn overlay(base: &Shaping, shape: &Shaping) -> Shaping {
    Shaping {
        connection_limit: shape.connection_limit.or(base.connection_limit),
        max_connection_rate: shape.max_connection_rate.or(base.max_connection_rate),
        max_message_rate: shape.max_message_rate.or(base.max_message_rate),
        max_deliveries_per_connection: shape
            .max_deliveries_per_connection
            .or(base.max_deliveries_per_connection),
        idle_timeout: shape.idle_timeout.or(base.idle_timeout),
    }
}

/// Step `step` of `steps` of a ramp from `from` (the shape) back to `to` (the configured
/// values): each count and rate `step/steps` of the way, rounded down for counts; a value
/// with no configured limit keeps the shape's until the last step, which is `to` exactly.
pub(crate) fn ramp_step(from: &Shaping, to: &Shaping, step: u32, steps: u32) -> Shaping {
    if step >= steps {
        return *to;
    }
    let share = f64::from(step) / f64::from(steps);
    let count = |a: Option<u32>, b: Option<u32>| match (a, b) {
        (Some(a), Some(b)) => {
            let value = f64::from(a) + (f64::from(b) - f64::from(a)) * share;
            Some((value.floor() as u32).max(1))
        }
        (a, _) => a,
    };
    let rate = |a: Option<Rate>, b: Option<Rate>| match (a, b) {
        (Some(a), Some(b)) => Some(Rate {
            per_second: a.per_second + (b.per_second - a.per_second) * share,
        }),
        (a, _) => a,
    };
    Shaping {
        connection_limit: count(from.connection_limit, to.connection_limit),
        max_connection_rate: rate(from.max_connection_rate, to.max_connection_rate),
        max_message_rate: rate(from.max_message_rate, to.max_message_rate),
        max_deliveries_per_connection: count(
            from.max_deliveries_per_connection,
            to.max_deliveries_per_connection,
        ),
        idle_timeout: from.idle_timeout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(per_second: f64) -> Option<Rate> {
        Some(Rate { per_second })
    }

    #[test]
    fn a_ramp_goes_stepwise_to_the_configured_values() {
        let from = Shaping {
            connection_limit: Some(1),
            max_message_rate: rate(1.0),
            ..Shaping::default()
        };
        let to = Shaping {
            connection_limit: Some(10),
            max_message_rate: rate(5.0),
            max_deliveries_per_connection: Some(7),
            ..Shaping::default()
        };
        let shape = overlay(&to, &from);
        assert_eq!(shape.max_deliveries_per_connection, Some(7));
        let half = ramp_step(&shape, &to, 2, 4);
        assert_eq!(half.connection_limit, Some(5));
        assert_eq!(half.max_message_rate, rate(3.0));
        assert_eq!(ramp_step(&shape, &to, 4, 4), to);
        // No configured limit: the shape's holds until the last step.
        let open = Shaping::default();
        assert_eq!(ramp_step(&shape, &open, 3, 4).connection_limit, Some(1));
        assert_eq!(ramp_step(&shape, &open, 4, 4).connection_limit, None);
    }

    #[test]
    fn setting_values_keeps_bucket_state_and_removes_absent_limits() {
        let t = SimTime::from_secs;
        let mut shaper = Shaper::new(&Shaping {
            max_message_rate: rate(1.0),
            ..Shaping::default()
        });
        shaper.take_connection(t(0));
        assert_eq!(shaper.connects_at(t(0)), t(1));
        shaper.set(
            &Shaping {
                max_message_rate: rate(0.5),
                connection_limit: Some(2),
                ..Shaping::default()
            },
            t(0),
        );
        assert_eq!(shaper.connects_at(t(0)), t(2));
        assert_eq!(shaper.opens_at(2, t(5)), None);
        shaper.set(&Shaping::default(), t(0));
        assert!(!shaper.rate_limited());
        assert_eq!(shaper.opens_at(1000, t(0)), Some(t(0)));
    }
}
