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
            let max_per_domain = self.world.relay.max_per_domain;
            let d = &mut self.world.domains[domain as usize];
            d.in_rotation = false;
            if d.waiting.is_empty() || d.active >= max_per_domain {
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
            if let Some(bucket) = d.shaping.as_mut()
                && !bucket.take(now)
            {
                if !d.shaping_wakeup {
                    d.shaping_wakeup = true;
                    let at = bucket.next_token(now);
                    self.schedule(at, Event::ShapingWakeup { domain });
                }
                continue;
            }
            let job = d.waiting.pop_front().expect("not empty");
            d.active += 1;
            if let Some(p) = provider {
                let p = &mut self.world.providers[p as usize];
                p.active += 1;
                for bucket in [&mut p.connection_rate, &mut p.message_rate]
                    .into_iter()
                    .flatten()
                {
                    bucket.take(now);
                }
            }
            self.connections += 1;
            self.enter_rotation(domain);
            self.start_attempt(now, job, None);
        }
    }

    /// The delivery that goes next over a connection kept open to `domain`, if the limits
    /// allow one: the message count per connection and the relay's shaping.
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
        if d.waiting.is_empty() {
            return None;
        }
        let provider = d.provider.map(|p| &mut self.world.providers[p as usize]);
        if let Some(p) = &provider
            && (p.per_connection.is_some_and(|most| open.sent >= most) || p.sends_at(now) > now)
        {
            return None;
        }
        if let Some(bucket) = d.shaping.as_mut()
            && !bucket.take(now)
        {
            return None;
        }
        if let Some(bucket) = provider.and_then(|p| p.message_rate.as_mut()) {
            bucket.take(now);
        }
        d.waiting.pop_front()
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
