//! When a relay declares a destination dead: Postfix's queue manager's concurrency feedback
//! (`qmgr_queue_throttle` and `qmgr_queue_unthrottle` in `src/qmgr/qmgr_queue.c`), kept per
//! domain for [`RelayModel::suspend_unreachable`](super::world::RelayModel).
//!
//! Postfix keeps a concurrency window per destination, `initial_destination_concurrency` (5)
//! when its in-memory queue is made. Each delivery that fails to reach the destination adds
//! `1 / window` to the destination's failed pseudo-cohorts; when they reach
//! `destination_concurrency_failed_cohort_limit` (1) the destination is dead, and its mail is
//! deferred without trying for `minimal_backoff_time`. Until then the same failure is
//! negative feedback: the window shrinks by one each time the accumulated `1 / window`
//! feedback crosses a whole unit (hysteresis 1). A delivery that reaches the destination
//! (whatever the recipients' replies) clears the failed cohorts and is positive feedback: the
//! window grows the same way while it is below the deliveries in progress plus the initial
//! concurrency and below the per-destination limit. When the suspension ends, the window is
//! the deliveries still in progress, or the initial concurrency when there are none. A
//! destination with nothing in progress or waiting is forgotten, as qmgr frees an empty
//! in-memory queue, and starts afresh.
//!
//! With the defaults a destination is dead after five failed deliveries in a row (window 5:
//! 0.2, 0.45, 0.7, 0.95, then 1.28 cohorts). The window is modelled here only to weigh
//! failures: the relay's concurrency towards a domain is limited by
//! `max_connections_per_domain`, not by it.

/// Postfix's feedback settings (`default_destination_concurrency_*` with `1/concurrency`
/// feedback both ways).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct HealthRules {
    /// `initial_destination_concurrency`.
    pub initial_concurrency: u32,
    /// `destination_concurrency_failed_cohort_limit` (0: never dead).
    pub failed_cohort_limit: u32,
    /// `default_destination_concurrency_limit`: the window's ceiling.
    pub concurrency_limit: u32,
}

/// What the relay knows of a destination's health.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Health {
    window: f64,
    success: f64,
    failure: f64,
    fail_cohorts: f64,
    dead: bool,
}

impl Health {
    /// A destination the relay has just started delivering to.
    pub fn new(rules: &HealthRules) -> Health {
        Health {
            window: f64::from(rules.initial_concurrency.max(1)),
            success: 0.0,
            failure: 0.0,
            fail_cohorts: 0.0,
            dead: false,
        }
    }

    /// Whether the destination is dead (its suspension not yet ended by [`Health::revive`]).
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// A delivery failed to reach the destination; returns whether this declared it dead.
    /// Failures of deliveries that were under way when it died change nothing.
    pub fn failed(&mut self, rules: &HealthRules) -> bool {
        if self.dead {
            return false;
        }
        self.fail_cohorts += 1.0 / self.window;
        if rules.failed_cohort_limit > 0
            && self.fail_cohorts >= f64::from(rules.failed_cohort_limit)
        {
            self.dead = true;
            return true;
        }
        let feedback = 1.0 / self.window;
        self.failure -= feedback;
        while self.failure - feedback / 2.0 < 0.0 {
            self.window -= 1.0;
            self.success = 0.0;
            self.failure += 1.0;
        }
        self.window = self.window.max(1.0);
        false
    }

    /// A delivery reached the destination, with `busy` deliveries to it in progress
    /// (this one included).
    pub fn reached(&mut self, rules: &HealthRules, busy: u32) {
        self.fail_cohorts = 0.0;
        if self.dead {
            self.revive(rules, busy);
            return;
        }
        let limit = f64::from(rules.concurrency_limit);
        let initial = f64::from(rules.initial_concurrency.max(1));
        if (rules.concurrency_limit == 0 || limit > self.window)
            && self.window < f64::from(busy) + initial
        {
            let feedback = 1.0 / self.window;
            self.success += feedback;
            while self.success + feedback / 2.0 >= 1.0 {
                self.window += 1.0;
                self.success -= 1.0;
                self.failure = 0.0;
            }
            if rules.concurrency_limit > 0 {
                self.window = self.window.min(limit);
            }
        }
    }

    /// The suspension ended (or a delivery got through) with `busy` deliveries in progress:
    /// the destination is alive again, its window anyone's guess.
    pub fn revive(&mut self, rules: &HealthRules, busy: u32) {
        self.dead = false;
        self.fail_cohorts = 0.0;
        self.success = 0.0;
        self.failure = 0.0;
        self.window = if busy > 0 {
            f64::from(busy)
        } else {
            f64::from(rules.initial_concurrency.max(1))
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POSTFIX: HealthRules = HealthRules {
        initial_concurrency: 5,
        failed_cohort_limit: 1,
        concurrency_limit: 20,
    };

    fn failures_to_die(health: &mut Health, rules: &HealthRules) -> u32 {
        (1..=1000).find(|_| health.failed(rules)).unwrap()
    }

    #[test]
    fn postfix_defaults_need_five_failures() {
        let mut h = Health::new(&POSTFIX);
        assert_eq!(failures_to_die(&mut h, &POSTFIX), 5);
        assert!(h.is_dead());
        // Later failures of deliveries already under way change nothing.
        assert!(!h.failed(&POSTFIX));
        h.revive(&POSTFIX, 0);
        assert!(!h.is_dead());
        assert_eq!(failures_to_die(&mut h, &POSTFIX), 5);
    }

    #[test]
    fn a_delivery_that_gets_through_clears_the_failures() {
        let mut h = Health::new(&POSTFIX);
        for _ in 0..4 {
            assert!(!h.failed(&POSTFIX));
        }
        h.reached(&POSTFIX, 1);
        assert!(!h.failed(&POSTFIX));
        assert!(!h.is_dead());
    }

    #[test]
    fn the_cohort_limit_and_the_window_set_the_failures_needed() {
        let one = HealthRules {
            initial_concurrency: 1,
            ..POSTFIX
        };
        assert_eq!(failures_to_die(&mut Health::new(&one), &one), 1);
        let two = HealthRules {
            failed_cohort_limit: 2,
            ..POSTFIX
        };
        let needed = failures_to_die(&mut Health::new(&two), &two);
        assert!(needed > 5, "{needed}");
        // After a suspension with three deliveries still under way, the window is three.
        let mut h = Health::new(&POSTFIX);
        failures_to_die(&mut h, &POSTFIX);
        h.revive(&POSTFIX, 3);
        assert_eq!(failures_to_die(&mut h, &POSTFIX), 3);
    }

    #[test]
    fn no_limit_never_kills() {
        let never = HealthRules {
            failed_cohort_limit: 0,
            ..POSTFIX
        };
        let mut h = Health::new(&never);
        assert!((0..100).all(|_| !h.failed(&never)));
    }

    #[test]
    fn positive_feedback_grows_the_window_with_the_load() {
        let mut h = Health::new(&POSTFIX);
        for _ in 0..200 {
            h.reached(&POSTFIX, 10);
        }
        // Below busy + initial (15) and the limit (20).
        assert_eq!(h.window, 15.0);
        for _ in 0..200 {
            h.reached(&POSTFIX, 30);
        }
        assert_eq!(h.window, 20.0);
    }
}
