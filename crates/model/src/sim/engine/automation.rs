//! The relay's automation: rules matched on the replies of each attempt; when one fires, its
//! action holds a domain or a provider for a while (no attempts, or its waiting deliveries
//! bounced or expired), and when a suspension ends the deliveries it held go at once or
//! spread over a window.

use super::*;
use crate::scenario::{Action, Release, Target};
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
        // A target held already is not held again until its action ends.
        self.hold_of(holder).is_none().then_some(holder)
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
        let event = AutomationEvent::Fired {
            action: r.action,
            until,
        };
        self.set_hold(holder, Some(Hold { rule }));
        self.automation_record(now, rule, holder, event, traced);
        self.schedule(until, Event::HoldEnds { holder });
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
        let (target_kind, target) = match holder {
            Holder::Domain(d) => ("domain", self.world.domains[d as usize].name.as_str()),
            Holder::Provider(p) => ("provider", self.world.providers[p as usize].name.as_str()),
        };
        let record = AutomationRecord {
            time: now,
            rule: &self.world.rules[rule as usize].name,
            target_kind,
            target,
            event,
        };
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
                _ => self.enter_rotation(domain),
            }
        }
        self.dispatch(now);
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
        self.enter_rotation(domain);
        self.dispatch(now);
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
