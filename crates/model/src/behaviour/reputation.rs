//! Reputation as warm-up works: a client the MX has not seen before may send only a few
//! messages a day, and its daily limit grows with the volume it sent on earlier days.
//!
//! Days are simulated days counted from time 0 (`now / 24h`); on day `d` a client may pass
//! MAIL `min(initial + growth × sent before day d, max)` times.

use rustc_hash::FxHashMap as HashMap;
use smtpsim_des::SimTime;

use super::CountKey;
use crate::scenario;

const DAY_MICROS: u64 = 86_400_000_000;

/// What the MX remembers of one client's volume.
#[derive(Debug, Clone, Copy, Default)]
struct Volume {
    /// The day `today` counts.
    day: u64,
    /// Messages passed on that day.
    today: u64,
    /// Messages passed on earlier days.
    earlier: u64,
}

/// The daily limits of every client of one receiving domain.
#[derive(Debug, Clone)]
pub struct Reputation {
    initial: u64,
    growth: f64,
    max: u64,
    volumes: HashMap<CountKey, Volume>,
}

impl Reputation {
    /// The limits `config` describes.
    pub fn new(config: &scenario::Reputation) -> Reputation {
        Reputation {
            initial: config.initial_daily_limit,
            growth: config.growth,
            max: config.max_daily_limit.unwrap_or(u64::MAX),
            volumes: HashMap::default(),
        }
    }

    /// The limit on `client`'s messages on the day of `now`.
    pub fn limit(&mut self, now: SimTime, client: CountKey) -> u64 {
        let volume = self.roll(now, client);
        let earned = (self.growth * volume.earlier as f64).min(u64::MAX as f64) as u64;
        self.initial.saturating_add(earned).min(self.max)
    }

    /// Counts a message from `client` at `now` if the day's limit allows it.
    pub fn take(&mut self, now: SimTime, client: CountKey) -> bool {
        let limit = self.limit(now, client);
        let volume = self.volumes.get_mut(&client).expect("rolled by limit");
        if volume.today >= limit {
            return false;
        }
        volume.today += 1;
        true
    }

    /// The client's volume, moved on to the day of `now`.
    fn roll(&mut self, now: SimTime, client: CountKey) -> Volume {
        let day = now.as_micros() / DAY_MICROS;
        let volume = self.volumes.entry(client).or_insert(Volume {
            day,
            ..Volume::default()
        });
        if volume.day < day {
            volume.earlier += volume.today;
            volume.today = 0;
            volume.day = day;
        }
        *volume
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn config(initial: u64, growth: f64, max: Option<u64>) -> scenario::Reputation {
        scenario::Reputation {
            initial_daily_limit: initial,
            growth,
            max_daily_limit: max,
            reply: None,
        }
    }

    /// Messages passed on each day when the client tries `offered` a day.
    fn passed_per_day(r: &mut Reputation, client: CountKey, offered: u64, days: u64) -> Vec<u64> {
        (0..days)
            .map(|day| {
                let t = SimTime::from_secs(day * 86_400 + 3600);
                (0..offered).filter(|_| r.take(t, client)).count() as u64
            })
            .collect()
    }

    #[test]
    fn a_fully_used_limit_doubles_with_growth_one() {
        let a = CountKey::Ip(IpAddr::from([198, 51, 100, 1]));
        let mut r = Reputation::new(&config(50, 1.0, Some(1000)));
        // Day d: 50 + (sum of earlier days) = 50, 100, 200, 400, 800, then the cap.
        assert_eq!(
            passed_per_day(&mut r, a, 10_000, 6),
            [50, 100, 200, 400, 800, 1000]
        );
        // Another client starts cold.
        let b = CountKey::Ip(IpAddr::from([198, 51, 100, 2]));
        assert_eq!(r.limit(SimTime::from_secs(6 * 86_400), b), 50);
    }

    #[test]
    fn volume_below_the_limit_earns_only_what_was_sent() {
        let a = CountKey::Ip(IpAddr::from([198, 51, 100, 1]));
        let mut r = Reputation::new(&config(100, 0.5, None));
        // 30 a day: the limit is 100 + 0.5 × 30 × d.
        assert_eq!(passed_per_day(&mut r, a, 30, 4), [30, 30, 30, 30]);
        assert_eq!(r.limit(SimTime::from_secs(4 * 86_400), a), 160);
    }
}
