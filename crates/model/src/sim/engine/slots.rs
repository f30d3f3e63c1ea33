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
        let d = &mut self.world.domains[domain as usize];
        if d.waiting.is_empty() {
            return None;
        }
        if let Some(bucket) = d.shaping.as_mut()
            && !bucket.take(now)
        {
            return None;
        }
        d.waiting.pop_front()
    }
}
