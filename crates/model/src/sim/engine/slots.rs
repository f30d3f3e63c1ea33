//! Connection slots: which waiting delivery goes next, within the relay's global and
//! per-domain limits and its shaping.

use super::*;

impl Engine<'_> {
    // --- connection slots ----------------------------------------------------------------

    pub(super) fn enter_rotation(&mut self, domain: u32) {
        let d = &mut self.world.domains[domain as usize];
        if !d.in_rotation && !d.waiting.is_empty() {
            d.in_rotation = true;
            self.rotation.push_back(domain);
        }
    }

    /// Starts as many waiting deliveries as the limits allow, domains in turn.
    pub(super) fn dispatch(&mut self, now: SimTime) {
        while self.connections < self.world.relay.max_connections {
            let Some(domain) = self.rotation.pop_front() else {
                return;
            };
            let d = &mut self.world.domains[domain as usize];
            d.in_rotation = false;
            if d.waiting.is_empty() || d.active >= d.shaper.connection_limit {
                // Back in rotation when one of its connections ends.
                continue;
            }
            let provider = d.provider;
            if !self.world.rules.is_empty()
                && let Some((hold, holder)) = self.hold_on(domain)
            {
                self.held_by_rule(now, domain, hold, holder);
                continue;
            }
            if let Some(p) = provider
                && !self.provider_opens(now, p, domain)
            {
                continue;
            }
            let d = &mut self.world.domains[domain as usize];
            if d.shaper.rate_limited() {
                let at = d.shaper.connects_at(now);
                if at > now {
                    self.shaping_wakeup(domain, at);
                    continue;
                }
                d.shaper.take_connection(now);
            }
            let job = d.waiting.pop_front().expect("not empty");
            d.active += 1;
            if let Some(p) = provider {
                let p = &mut self.world.providers[p as usize];
                p.active += 1;
                p.shaper.take_connection(now);
            }
            self.connections += 1;
            self.enter_rotation(domain);
            self.start_attempt(now, job, None);
        }
    }

    /// Schedules a wake-up of `domain` at `at`, when its shaping lets a delivery go, unless
    /// one is scheduled.
    fn shaping_wakeup(&mut self, domain: u32, at: SimTime) {
        let d = &mut self.world.domains[domain as usize];
        if !d.shaping_wakeup {
            d.shaping_wakeup = true;
            self.schedule(at, Event::ShapingWakeup { domain });
        }
    }

    /// Whether a connection to `domain` that has carried `open.sent` messages may carry
    /// another: the relay's, the domain's and its provider's messages per connection, and no
    /// automation holding the domain.
    fn may_carry_more(&self, domain: u32, open: &OpenConnection) -> bool {
        let Some(limit) = self.world.relay.reuse else {
            return false;
        };
        let d = &self.world.domains[domain as usize];
        let below = |most: Option<u32>| most.is_none_or(|most| open.sent < most);
        open.sent < limit
            && below(d.shaper.per_connection)
            && d.provider
                .is_none_or(|p| below(self.world.providers[p as usize].shaper.per_connection))
            && (self.world.rules.is_empty() || self.hold_on(domain).is_none())
    }

    /// When the domain's and its provider's message rates let another message go over a
    /// kept connection.
    fn sends_at(&self, now: SimTime, domain: u32) -> SimTime {
        let d = &self.world.domains[domain as usize];
        let provider = d.provider.map_or(now, |p| {
            self.world.providers[p as usize].shaper.sends_at(now)
        });
        d.shaper.sends_at(now).max(provider)
    }

    /// The delivery that goes next over a connection kept open to `domain`, if the limits
    /// allow one: the message count per connection and the relay's shaping (the same
    /// questions as [`Self::may_carry_more`] and [`Self::sends_at`], asked in the order that
    /// costs least when nothing limits).
    #[inline(always)]
    pub(super) fn next_on_connection(
        &mut self,
        now: SimTime,
        domain: u32,
        open: OpenConnection,
    ) -> Option<u32> {
        let limit = self.world.relay.reuse?;
        if open.sent >= limit {
            return None;
        }
        if !self.world.rules.is_empty() && self.hold_on(domain).is_some() {
            return None;
        }
        let d = &mut self.world.domains[domain as usize];
        if d.waiting.is_empty()
            || d.shaper
                .per_connection
                .is_some_and(|most| open.sent >= most)
        {
            return None;
        }
        let provider = d.provider.map(|p| &mut self.world.providers[p as usize]);
        if let Some(p) = &provider
            && (p
                .shaper
                .per_connection
                .is_some_and(|most| open.sent >= most)
                || p.shaper.sends_at(now) > now)
        {
            return None;
        }
        if let Some(bucket) = d.shaper.message_rate.as_mut()
            && !bucket.take(now)
        {
            return None;
        }
        if let Some(p) = provider {
            p.shaper.take_message(now);
        }
        d.waiting.pop_front()
    }

    // --- idle connections ----------------------------------------------------------------

    /// With an idle timeout for `domain` (its own, else its provider's), keeps a connection
    /// that has nothing to send open until it ends, and says so; a delivery waiting for
    /// the message rate is woken when the rate allows.
    #[inline]
    pub(super) fn keep_idle(&mut self, now: SimTime, domain: u32, open: OpenConnection) -> bool {
        let d = &self.world.domains[domain as usize];
        let timeout = match (d.shaper.idle_timeout, d.provider) {
            (Some(timeout), _) => timeout,
            (None, Some(p)) => match self.world.providers[p as usize].shaper.idle_timeout {
                Some(timeout) => timeout,
                None => return false,
            },
            (None, None) => return false,
        };
        self.park_idle(now, domain, open, timeout)
    }

    /// Keeps the connection open for `timeout` if it may carry more messages.
    fn park_idle(
        &mut self,
        now: SimTime,
        domain: u32,
        open: OpenConnection,
        timeout: SimDuration,
    ) -> bool {
        let d = &self.world.domains[domain as usize];
        if !self.may_carry_more(domain, &open) {
            return false;
        }
        let waiting = !d.waiting.is_empty();
        self.idle_serial += 1;
        let serial = self.idle_serial;
        self.idle.entry(domain).or_default().push((serial, open));
        self.world.domains[domain as usize].idle += 1;
        self.schedule(now + timeout, Event::IdleEnds { domain, serial });
        if waiting {
            let at = self.sends_at(now, domain);
            self.shaping_wakeup(domain, at);
        }
        true
    }

    /// Deliveries wait for `domain`: the connections kept idle to it take them first, as
    /// the limits allow.
    pub(super) fn resume_idle(&mut self, now: SimTime, domain: u32) {
        while self.world.domains[domain as usize].idle > 0 {
            let Some(&(serial, open)) = self.idle.get(&domain).and_then(|list| list.first()) else {
                return;
            };
            let Some(job) = self.next_on_connection(now, domain, open) else {
                if !self.world.domains[domain as usize].waiting.is_empty() {
                    let at = self.sends_at(now, domain);
                    if at > now {
                        self.shaping_wakeup(domain, at);
                    }
                }
                return;
            };
            self.take_idle(domain, serial);
            self.start_attempt(now, job, Some(open));
        }
    }

    /// Takes the idle connection `serial` to `domain` off the idle list; whether it was there.
    fn take_idle(&mut self, domain: u32, serial: u64) -> bool {
        let Some(list) = self.idle.get_mut(&domain) else {
            return false;
        };
        let Some(i) = list.iter().position(|(s, _)| *s == serial) else {
            return false;
        };
        list.remove(i);
        if list.is_empty() {
            self.idle.remove(&domain);
        }
        self.world.domains[domain as usize].idle -= 1;
        true
    }

    /// An idle connection's timeout: it closes, unless a delivery took it meanwhile.
    pub(super) fn idle_ends(&mut self, now: SimTime, domain: u32, serial: u64) {
        if self.take_idle(domain, serial) {
            self.connection_ended(now, domain);
        }
    }

    /// Deliveries joined `domain`'s queue: idle connections take them, then the rotation.
    #[inline(always)]
    pub(super) fn queued(&mut self, now: SimTime, domain: u32) {
        if self.world.domains[domain as usize].idle > 0 {
            self.resume_idle(now, domain);
        }
        self.enter_rotation(domain);
        self.dispatch(now);
    }

    // --- providers -----------------------------------------------------------------------

    /// Whether provider `p`'s limits let `domain` open a connection now; if not, the domain is
    /// held until a connection to the provider ends or (for a rate limit) a wake-up.
    fn provider_opens(&mut self, now: SimTime, p: u32, domain: u32) -> bool {
        let provider = &mut self.world.providers[p as usize];
        let opens_at = provider.opens_at(now);
        if opens_at == Some(now) {
            return true;
        }
        let d = &mut self.world.domains[domain as usize];
        if !d.held {
            d.held = true;
            provider.held.push(domain);
        }
        if let Some(at) = opens_at
            && !provider.wakeup
        {
            provider.wakeup = true;
            self.schedule(at, Event::ProviderWakeup { provider: p });
        }
        false
    }

    /// Puts the domains provider `p` held back into the rotation again, in the order they
    /// were held.
    pub(super) fn release_provider(&mut self, p: u32) {
        let mut held = std::mem::take(&mut self.world.providers[p as usize].held);
        for &domain in &held {
            self.world.domains[domain as usize].held = false;
            self.enter_rotation(domain);
        }
        held.clear();
        self.world.providers[p as usize].held = held;
    }

    /// A connection to `domain` has ended: its slot is free for the next delivery.
    #[inline(always)]
    pub(super) fn connection_ended(&mut self, now: SimTime, domain: u32) {
        self.connections -= 1;
        let d = &mut self.world.domains[domain as usize];
        d.active -= 1;
        if let Some(p) = d.provider {
            self.world.providers[p as usize].active -= 1;
            self.release_provider(p);
        }
        self.enter_rotation(domain);
        self.dispatch(now);
    }
}
