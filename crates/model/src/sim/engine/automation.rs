//! The relay's automation: rules matched on the replies of each attempt; when one fires, its
//! action holds a domain or a provider for a while (no attempts, or its waiting deliveries
//! bounced or expired), and when a suspension ends the deliveries it held go at once or
//! spread over a window.

use super::*;
use crate::scenario::{Action, Release, Shaping, Target};
use crate::sim::records::{AutomationEvent, AutomationRecord};
use crate::sim::world::Hold;

/// What a rule acts on: a domain or a provider, by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Holder {
    Domain(u32),
    Provider(u32),
}

/// Recent matches of each rule, per domain or provider it would act on.
#[derive(Default)]
pub(super) struct Matches(rustc_hash::FxHashMap<(u32, Holder), VecDeque<SimTime>>);

impl Engine<'_> {
    /// Matches the replies that decided an attempt's recipients against the rules; `traced`
    /// names the message and attempt for a note when one fires.
    pub(super) fn replies_seen(
        &mut self,
        now: SimTime,
        domain: u32,
        outcomes: &[RecipientOutcome],
        traced: Option<(u64, u32)>,
    ) {
        for outcome in outcomes {
            let Some(reply) = &outcome.reply else {
                continue;
            };
            for rule in 0..self.world.rules.len() as u32 {
                if let Some(holder) = self.rule_matches(rule, domain, reply)
                    && self.triggered(now, rule, holder)
                {
                    self.fire(now, rule, holder, traced);
                }
            }
        }
    }

    /// What rule `rule` would act on if `reply` from `domain` matches it.
    fn rule_matches(&self, rule: u32, domain: u32, reply: &Reply) -> Option<Holder> {
        let r = &self.world.rules[rule as usize];
        let provider = self.world.domains[domain as usize].provider;
        if r.provider.is_some_and(|p| provider != Some(p)) || !r.matches(reply) {
            return None;
        }
        let holder = match r.target {
            Target::Domain => Holder::Domain(domain),
            Target::Provider => Holder::Provider(provider?),
        };
        // A target held or shaped already is not acted on again until its action ends.
        (self.hold_of(holder).is_none() && self.shaped_by(holder).is_none()).then_some(holder)
    }

    /// Counts a match; whether the rule fires (every match, or the trigger's count within
    /// its window).
    fn triggered(&mut self, now: SimTime, rule: u32, holder: Holder) -> bool {
        let Some((count, within)) = self.world.rules[rule as usize].trigger else {
            return true;
        };
        let recent = self.matches.0.entry((rule, holder)).or_default();
        while recent.front().is_some_and(|&t| t + within <= now) {
            recent.pop_front();
        }
        recent.push_back(now);
        if recent.len() >= count as usize {
            recent.clear();
            return true;
        }
        false
    }

    fn hold_of(&self, holder: Holder) -> Option<Hold> {
        match holder {
            Holder::Domain(d) => self.world.domains[d as usize].hold,
            Holder::Provider(p) => self.world.providers[p as usize].hold,
        }
    }

    fn set_hold(&mut self, holder: Holder, hold: Option<Hold>) {
        match holder {
            Holder::Domain(d) => self.world.domains[d as usize].hold = hold,
            Holder::Provider(p) => self.world.providers[p as usize].hold = hold,
        }
    }

    /// The action holding `domain`, on the domain itself or on its provider.
    pub(super) fn hold_on(&self, domain: u32) -> Option<(Hold, Holder)> {
        let d = &self.world.domains[domain as usize];
        if let Some(hold) = d.hold {
            return Some((hold, Holder::Domain(domain)));
        }
        let p = d.provider?;
        self.world.providers[p as usize]
            .hold
            .map(|hold| (hold, Holder::Provider(p)))
    }

    /// Rule `rule` fires on `holder`: its action starts and its end is scheduled.
    fn fire(&mut self, now: SimTime, rule: u32, holder: Holder, traced: Option<(u64, u32)>) {
        let r = &self.world.rules[rule as usize];
        let until = now.saturating_add(r.duration);
        let (action, shape) = (r.action, r.shape);
        let event = AutomationEvent::Fired { action, until };
        self.automation_record(now, rule, holder, event, traced);
        if action == Action::Shape {
            let values = super::super::shaping::overlay(&self.configured_of(holder), &shape);
            self.set_shaped(holder, Some(rule));
            self.shaping_changed(now, holder, &values);
            self.schedule(until, Event::RampStep { holder, step: 1 });
        } else {
            self.set_hold(holder, Some(Hold { rule }));
            self.schedule(until, Event::HoldEnds { holder });
        }
    }

    /// The `shape` rule in force on `holder`, if any.
    fn shaped_by(&self, holder: Holder) -> Option<u32> {
        match holder {
            Holder::Domain(d) => self.world.domains[d as usize].shaped,
            Holder::Provider(p) => self.world.providers[p as usize].shaped,
        }
    }

    fn set_shaped(&mut self, holder: Holder, rule: Option<u32>) {
        match holder {
            Holder::Domain(d) => self.world.domains[d as usize].shaped = rule,
            Holder::Provider(p) => self.world.providers[p as usize].shaped = rule,
        }
    }

    /// `holder`'s shaping in force.
    fn shaper_of(&mut self, holder: Holder) -> &mut super::super::shaping::Shaper {
        match holder {
            Holder::Domain(d) => &mut self.world.domains[d as usize].shaper,
            Holder::Provider(p) => &mut self.world.providers[p as usize].shaper,
        }
    }

    /// `holder`'s configured shaping values.
    fn configured_of(&self, holder: Holder) -> Shaping {
        match holder {
            Holder::Domain(d) => self.world.domains[d as usize].configured,
            Holder::Provider(p) => self.world.providers[p as usize].configured,
        }
    }

    /// Puts `values` in force on `holder` and lets its deliveries try again under them (a
    /// wake-up due under the old rates gives way to one under the new).
    fn shaping_changed(&mut self, now: SimTime, holder: Holder, values: &Shaping) {
        self.shaper_of(holder).set(values, now);
        match holder {
            Holder::Domain(d) => {
                self.world.domains[d as usize].shaping_wakeup = false;
                self.queued(now, d);
            }
            Holder::Provider(p) => {
                self.world.providers[p as usize].wakeup = false;
                self.release_provider(p);
                self.dispatch(now);
            }
        }
    }

    /// Step `step` of the ramp after rule `holder`'s shape ended (step 1 of 1: the end of a
    /// shape without a ramp): values that much closer to the configured ones come in force.
    pub(super) fn ramp_step(&mut self, now: SimTime, holder: Holder, step: u32) {
        let Some(rule) = self.shaped_by(holder) else {
            return;
        };
        let r = &self.world.rules[rule as usize];
        let (ramp, shape) = (r.ramp, r.shape);
        let (steps, every) = ramp.unwrap_or((1, SimDuration::ZERO));
        let configured = self.configured_of(holder);
        let from = super::super::shaping::overlay(&configured, &shape);
        let values = super::super::shaping::ramp_step(&from, &configured, step, steps);
        let event = if ramp.is_some() {
            AutomationEvent::RampStep { step, steps }
        } else {
            AutomationEvent::Ended
        };
        if step >= steps {
            self.set_shaped(holder, None);
        } else {
            self.schedule(
                now + every,
                Event::RampStep {
                    holder,
                    step: step + 1,
                },
            );
        }
        self.automation_record(now, rule, holder, event, None);
        self.note_waiting(now, rule, holder, event);
        self.shaping_changed(now, holder, &values);
    }

    /// Notes what the automation did to `holder` on the traced deliveries waiting for it.
    fn note_waiting(&mut self, now: SimTime, rule: u32, holder: Holder, event: AutomationEvent) {
        let domains: Vec<u32> = match holder {
            Holder::Domain(d) => vec![d],
            Holder::Provider(p) => (0..self.world.domains.len() as u32)
                .filter(|&d| self.world.domains[d as usize].provider == Some(p))
                .collect(),
        };
        let traced: Vec<(u64, u32)> = domains
            .iter()
            .flat_map(|&d| self.world.domains[d as usize].waiting.iter())
            .map(|&job| self.job(job))
            .filter(|j| j.traced)
            .map(|j| (j.message, j.attempts))
            .collect();
        for (message, attempt) in traced {
            let record = record_of(&self.world, now, rule, holder, event);
            let note = Note::Automation(record.to_string());
            self.note(now, message, attempt, Hop::RelayMx, note);
        }
    }

    /// Writes a row of what the automation did, and a note on `traced`'s trace.
    fn automation_record(
        &mut self,
        now: SimTime,
        rule: u32,
        holder: Holder,
        event: AutomationEvent,
        traced: Option<(u64, u32)>,
    ) {
        let record = record_of(&self.world, now, rule, holder, event);
        self.recorder.automation(&record);
        if let Some((message, attempt)) = traced {
            let note = Note::Automation(record.to_string());
            self.note(now, message, attempt, Hop::RelayMx, note);
        }
    }

    /// The action on `holder` ends: a suspension releases what it held, at once or spread.
    pub(super) fn hold_ends(&mut self, now: SimTime, holder: Holder) {
        let Some(hold) = self.hold_of(holder) else {
            return;
        };
        self.set_hold(holder, None);
        let rule = &self.world.rules[hold.rule as usize];
        let (action, release) = (rule.action, rule.release);
        let domains: Vec<u32> = match holder {
            Holder::Domain(d) => vec![d],
            Holder::Provider(p) => {
                let provider = &mut self.world.providers[p as usize];
                let held = std::mem::take(&mut provider.held);
                for &d in &held {
                    self.world.domains[d as usize].held = false;
                }
                held
            }
        };
        if action == Action::Suspend {
            for &domain in &domains {
                self.expire_overdue(now, domain);
            }
        }
        let deliveries: u64 = domains
            .iter()
            .map(|&d| self.world.domains[d as usize].waiting.len() as u64)
            .sum();
        let event = match (action, release) {
            (Action::Suspend, Release::AllAtOnce) => AutomationEvent::Released {
                deliveries,
                spread: SimDuration::ZERO,
            },
            (Action::Suspend, Release::Spread(over)) => AutomationEvent::Released {
                deliveries,
                spread: over.0,
            },
            _ => AutomationEvent::Ended,
        };
        self.automation_record(now, hold.rule, holder, event, None);
        for domain in domains {
            match release {
                Release::Spread(over) if action == Action::Suspend => {
                    self.spread_waiting(now, domain, over.0)
                }
                _ => {
                    if self.world.domains[domain as usize].idle > 0 {
                        self.resume_idle(now, domain);
                    }
                    self.enter_rotation(domain);
                }
            }
        }
        self.dispatch(now);
    }

    /// The deliveries to `domain` a suspension held past their queue lifetime expire when it
    /// ends, as the relay's next look at them would expire them, instead of going out again:
    /// without this, suspension after suspension would keep them (and the run) going for
    /// ever.
    fn expire_overdue(&mut self, now: SimTime, domain: u32) {
        let lifetime = self.world.relay.lifetime;
        let waiting = std::mem::take(&mut self.world.domains[domain as usize].waiting);
        let mut kept = VecDeque::with_capacity(waiting.len());
        for job in waiting {
            if now >= self.job(job).submitted.saturating_add(lifetime) {
                self.expire_held(now, job);
            } else {
                kept.push_back(job);
            }
        }
        self.world.domains[domain as usize].waiting = kept;
    }

    /// A held delivery past its queue lifetime expires.
    fn expire_held(&mut self, now: SimTime, job: u32) {
        self.counters.active -= 1;
        let expiry = Expiry::Lifetime;
        let why = expiry.text();
        let j = self.job_mut(job);
        for r in j.recipients.iter_mut().filter(|r| !r.done) {
            r.reasons = if r.reasons.is_empty() {
                Rc::from(why)
            } else {
                format!("{why}; last: {}", r.reasons).into()
            };
        }
        let (message, attempt, traced) = (j.message, j.attempts, j.traced);
        if traced {
            self.note(now, message, attempt, Hop::RelayMx, Note::Expired(expiry));
        }
        self.finish_remaining(now, job, Fate::Expired);
        self.notify_sender(now, job);
        self.free_job(job);
    }

    /// Takes `domain`'s waiting deliveries out of its queue and puts each back at a time drawn
    /// uniformly from `[now, now + over)`.
    fn spread_waiting(&mut self, now: SimTime, domain: u32, over: SimDuration) {
        while let Some(job) = self.world.domains[domain as usize].waiting.pop_front() {
            let offset = self
                .world
                .automation_rng
                .random_range(0..over.as_micros().max(1));
            let at = now + SimDuration::from_micros(offset);
            self.schedule(at, Event::Requeue { job });
        }
    }

    /// A delivery released by a spread suspension joins its domain's queue again.
    pub(super) fn requeue(&mut self, now: SimTime, job: u32) {
        let domain = self.job(job).domain;
        self.world.domains[domain as usize].waiting.push_back(job);
        self.queued(now, domain);
    }

    /// The domain popped from the rotation is held by an action: a suspension keeps its
    /// deliveries waiting (a provider's until it releases them); a bounce or expire action
    /// settles them.
    pub(super) fn held_by_rule(&mut self, now: SimTime, domain: u32, hold: Hold, holder: Holder) {
        match self.world.rules[hold.rule as usize].action {
            Action::Suspend => {
                if let Holder::Provider(p) = holder {
                    let d = &mut self.world.domains[domain as usize];
                    if !d.held {
                        d.held = true;
                        self.world.providers[p as usize].held.push(domain);
                    }
                }
            }
            Action::Bounce => self.settle_waiting(now, domain, hold.rule, Fate::Bounced),
            Action::Expire => self.settle_waiting(now, domain, hold.rule, Fate::Expired),
            Action::Shape => unreachable!("a shape action changes the shaping, it holds nothing"),
        }
    }

    /// Bounces or expires every delivery waiting for a connection to `domain`.
    fn settle_waiting(&mut self, now: SimTime, domain: u32, rule: u32, fate: Fate) {
        let verb = if fate == Fate::Bounced {
            "bounced"
        } else {
            "expired"
        };
        let why: Rc<str> = format!(
            "{verb} by automation rule {}",
            self.world.rules[rule as usize].name
        )
        .into();
        while let Some(job) = self.world.domains[domain as usize].waiting.pop_front() {
            self.counters.active -= 1;
            let j = self.job_mut(job);
            for r in j.recipients.iter_mut().filter(|r| !r.done) {
                r.reasons = why.clone();
            }
            self.finish_remaining(now, job, fate);
            self.notify_sender(now, job);
            self.free_job(job);
        }
    }
}

/// The row of what rule `rule` did to `holder`.
fn record_of(
    world: &World,
    now: SimTime,
    rule: u32,
    holder: Holder,
    event: AutomationEvent,
) -> AutomationRecord<'_> {
    let (target_kind, target) = match holder {
        Holder::Domain(d) => ("domain", world.domains[d as usize].name.as_str()),
        Holder::Provider(p) => ("provider", world.providers[p as usize].name.as_str()),
    };
    AutomationRecord {
        time: now,
        rule: &world.rules[rule as usize].name,
        target_kind,
        target,
        event,
    }
}
