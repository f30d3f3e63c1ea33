//! What follows an attempt: each recipient delivered, bounced or deferred, then the
//! delivery retried later, sent on at once, or expired.

use super::*;

/// How the undecided recipients of a job came out of an attempt.
struct Settled {
    /// Those delivered or bounced, by their place in the job, with their fate.
    finished: SmallVec<[(usize, Fate); 4]>,
    /// Some were deferred.
    any_deferred: bool,
    /// Those deferred were deferred only because the server's recipient limit was reached.
    all_over_limit: bool,
}

impl Engine<'_> {
    /// An attempt has ended: its outcome is applied to the job's recipients, the job goes
    /// on (finished, retried or sent on), and so does the connection.
    pub(super) fn attempt_done(&mut self, now: SimTime, job: u32) {
        let j = self.jobs.get_mut(job);
        let result = j.result.take().expect("an attempt in progress");
        let (domain, message, attempt, traced) = (j.domain, j.message, j.attempts, j.traced);
        self.weigh_health(now, domain, result.unreachable);
        let mut notes: Vec<(Hop, Note)> = Vec::new();
        let settled = self.apply_outcome(job, &result, traced.then_some(&mut notes));
        if traced {
            // Where the receiving side filed what it accepted.
            if let Some(v) = &result.verdict
                && !settled
                    .finished
                    .iter()
                    .all(|(_, fate)| *fate == Fate::Bounced)
            {
                let filed = Note::Filed {
                    spam: v.spam,
                    reasons: v.reasons.to_string(),
                };
                notes.push((Hop::MxMailbox, filed));
            }
            for (hop, note) in notes {
                self.note(now, message, attempt, hop, note);
            }
        }
        if !self.world.rules.is_empty() {
            let traced = traced.then_some((message, attempt));
            self.replies_seen(now, domain, &result.recipients, traced);
        }
        self.settle(now, job, settled, result.unreachable.is_none());
        self.scratch.recycle(result.recipients);
        self.connection_free(now, domain, result.open);
    }

    /// Gives each undecided recipient of `job` its reply and reasons from the attempt's
    /// `result`; with `notes`, notes there what became of each.
    fn apply_outcome(
        &mut self,
        job: u32,
        result: &AttemptOutcome,
        mut notes: Option<&mut Vec<(Hop, Note)>>,
    ) -> Settled {
        let mut settled = Settled {
            finished: SmallVec::new(),
            any_deferred: false,
            all_over_limit: true,
        };
        let j = self.jobs.get_mut(job);
        let undecided = j.recipients.iter_mut().enumerate().filter(|(_, r)| !r.done);
        if let Some(why) = result.unreachable {
            for (_, r) in undecided {
                r.last_reply = None;
                r.reasons = Rc::from(why);
            }
            settled.any_deferred = true;
            return settled;
        }
        for ((i, r), outcome) in undecided.zip(&result.recipients) {
            r.last_reply = outcome.reply.clone();
            match outcome.status {
                Status::Accepted => {
                    let (fate, reasons) = match &result.verdict {
                        Some(v) => (
                            if v.spam { Fate::Spam } else { Fate::Inbox },
                            v.reasons.clone(),
                        ),
                        None => (Fate::Inbox, self.empty.clone()),
                    };
                    r.reasons = reasons;
                    settled.finished.push((i, fate));
                }
                Status::Rejected => {
                    r.reasons = self.descriptions.get(outcome, result.verdict.as_ref());
                    settled.finished.push((i, Fate::Bounced));
                }
                Status::Deferred => {
                    r.reasons = self.descriptions.get(outcome, None);
                    settled.any_deferred = true;
                    settled.all_over_limit &= over_recipient_limit(outcome);
                }
            }
            if let Some(notes) = notes.as_deref_mut() {
                let result = match outcome.status {
                    Status::Accepted => RecipientResult::Delivered,
                    Status::Rejected => RecipientResult::Bounced(r.reasons.to_string()),
                    Status::Deferred => RecipientResult::Deferred(r.reasons.to_string()),
                };
                let address = r.address.clone();
                notes.push((Hop::RelayMx, Note::Recipient { address, result }));
            }
        }
        settled
    }

    /// Finishes the recipients delivered or bounced, tells the sender of those given up on,
    /// and sends the rest on at once (over the server's recipient limit, when the attempt
    /// got somewhere), retries them later, or frees the job when none are left.
    fn settle(&mut self, now: SimTime, job: u32, settled: Settled, reached: bool) {
        let progress = !settled.finished.is_empty();
        for (i, fate) in settled.finished {
            self.finish_one(now, job, i, fate);
        }
        self.notify_sender(now, job);
        if settled.any_deferred && settled.all_over_limit && progress && reached {
            self.send_the_rest(now, job);
        } else if settled.any_deferred {
            self.defer(now, job);
        } else {
            self.counters.active -= 1;
            self.free_job(job);
        }
    }

    /// The attempt's connection to `domain` is free: it carries the next waiting delivery
    /// if it is `open` and the limits allow, else waits idle if the domain keeps idle
    /// connections, else ends.
    fn connection_free(&mut self, now: SimTime, domain: u32, open: Option<OpenConnection>) {
        if let Some(open) = open {
            if let Some(next) = self.next_on_connection(now, domain, open) {
                self.start_attempt(now, next, Some(open));
                return;
            }
            if self.keep_idle(now, domain, open) {
                return;
            }
        }
        self.connection_ended(now, domain);
        self.forget_idle_health(domain);
    }

    /// What the attempt tells of the domain's health (see `sim::health`): a failed
    /// connection may declare it dead and suspend it for `relay.suspend_unreachable`; an
    /// attempt that reached it clears the failures and ends a suspension.
    fn weigh_health(&mut self, now: SimTime, domain: u32, unreachable: Option<&str>) {
        let suspend = self.world.relay.suspend_unreachable;
        if suspend.is_zero() || unreachable == Some(super::attempt::SUSPENDED) {
            return;
        }
        let rules = self.world.relay.health;
        let d = &mut self.world.domains[domain as usize];
        // The deliveries under way besides this one.
        let busy = d.active.saturating_sub(1);
        if d.health.is_dead() && now >= d.suspended_until {
            d.health.revive(&rules, busy);
        }
        if unreachable.is_some() {
            if d.health.failed(&rules) {
                d.suspended_until = now + suspend;
            }
        } else {
            if d.health.is_dead() {
                d.suspended_until = now;
            }
            d.health.reached(&rules, busy + 1);
        }
    }

    /// A domain with nothing under way or waiting is forgotten, as Postfix frees an empty
    /// in-memory queue: its next delivery starts with a fresh window.
    fn forget_idle_health(&mut self, domain: u32) {
        let rules = self.world.relay.health;
        let d = &mut self.world.domains[domain as usize];
        if d.active == 0 && d.waiting.is_empty() && !d.health.is_dead() {
            d.health = crate::sim::health::Health::new(&rules);
        }
    }

    /// The server took as many recipients as its limit allows and answered the others
    /// `452 4.5.3`: they go at once in another transaction (RFC 5321 section 4.5.3.1.10),
    /// ahead of the domain's queue, on the same connection when it is kept open.
    fn send_the_rest(&mut self, now: SimTime, job: u32) {
        let j = self.job_mut(job);
        j.ready_since = now;
        let (domain, message, attempt, traced) = (j.domain, j.message, j.attempts, j.traced);
        let left = j.recipients.iter().filter(|r| !r.done).count();
        if traced {
            let note = Note::OverRecipientLimit { left };
            self.note(now, message, attempt, Hop::RelayMx, note);
        }
        self.world.domains[domain as usize].waiting.push_front(job);
    }

    /// Some recipients were deferred: retry later, or expire.
    pub(super) fn defer(&mut self, now: SimTime, job: u32) {
        let lifetime = self.world.relay.lifetime;
        let max_attempts = self.world.relay.max_attempts;
        if self.attempts_wanted {
            let j = self.jobs.get(job);
            for r in j.recipients.iter().filter(|r| !r.done) {
                report_status(
                    &mut *self.recorder,
                    &self.world,
                    now,
                    j,
                    r,
                    DeliveryStatus::Deferred,
                );
            }
        }
        let j = self.jobs.get_mut(job);
        j.failures += 1;
        j.first_failure.get_or_insert(now);
        let deferred = j.recipients.iter().filter(|r| !r.done).count() as u64;
        self.counters.deferrals += deferred;
        let history = History {
            arrived: j.submitted,
            first_failure: j.first_failure.unwrap_or(now),
            failures: j.failures,
            previous: j.previous,
        };
        let out_of_attempts = max_attempts.is_some_and(|max| j.attempts >= max);
        let too_old = now >= j.submitted + lifetime;
        let next = if out_of_attempts || too_old {
            None
        } else {
            let relay = &mut self.world.relay;
            relay.retry.next(now, &history, &mut relay.retry_rng)
        };
        self.counters.active -= 1;
        match next {
            Some(next) => {
                let j = self.job_mut(job);
                j.previous = Some(next.remember(now));
                let (message, attempt, traced) = (j.message, j.attempts, j.traced);
                if traced {
                    let note = Note::Deferred { next: next.at };
                    self.note(now, message, attempt, Hop::RelayMx, note);
                }
                self.counters.deferred += 1;
                self.job_mut(job).waiting_retry = true;
                self.schedule(next.at, Event::Resolve { job });
            }
            None => {
                let expiry = if out_of_attempts {
                    Expiry::LastAttempt
                } else if too_old {
                    Expiry::Lifetime
                } else {
                    Expiry::ScheduleRanOut
                };
                let why = expiry.text();
                let j = self.job_mut(job);
                for r in j.recipients.iter_mut().filter(|r| !r.done) {
                    if r.reasons.is_empty() {
                        r.reasons = Rc::from(why);
                    } else {
                        r.reasons = format!("{why}; last: {}", r.reasons).into();
                    }
                }
                let (message, attempt, traced) = (j.message, j.attempts, j.traced);
                if traced {
                    self.note(now, message, attempt, Hop::RelayMx, Note::Expired(expiry));
                }
                self.finish_remaining(now, job, Fate::Expired);
                self.notify_sender(now, job);
                self.free_job(job);
            }
        }
    }
}
/// Descriptions of replies whose text is static, made once: the same few replies come back
/// again and again.
#[derive(Default)]
pub(super) struct Descriptions(rustc_hash::FxHashMap<(u16, Stage, usize, usize), Rc<str>>);

impl Descriptions {
    fn get(&mut self, outcome: &RecipientOutcome, verdict: Option<&Verdict>) -> Rc<str> {
        let key = match (&outcome.reply, verdict) {
            (Some(reply), None) => match &reply.text {
                std::borrow::Cow::Borrowed(text) => Some((
                    reply.code.get(),
                    outcome.stage,
                    text.as_ptr() as usize,
                    text.len(),
                )),
                std::borrow::Cow::Owned(_) => None,
            },
            _ => None,
        };
        match key {
            Some(key) => self
                .0
                .entry(key)
                .or_insert_with(|| describe(outcome, None))
                .clone(),
            None => describe(outcome, verdict),
        }
    }
}

/// Why a recipient was refused or deferred, in words.
fn describe(outcome: &RecipientOutcome, verdict: Option<&Verdict>) -> Rc<str> {
    if let Some(v) = verdict
        && outcome.stage == Stage::Content
        && !v.reasons.is_empty()
    {
        return v.reasons.clone();
    }
    let text = match (&outcome.reply, outcome.note) {
        (Some(reply), _) => format!(
            "{} at {}: {}",
            reply.code,
            outcome.stage.name(),
            reply.text.replace('\n', " ")
        ),
        (None, Some(note)) => note.to_string(),
        (None, None) => String::new(),
    };
    text.into()
}

/// Whether a recipient was deferred with `452 4.5.3`, the server's recipient limit.
fn over_recipient_limit(outcome: &RecipientOutcome) -> bool {
    let limit = &smtpsim_proto::server::replies::TOO_MANY_RECIPIENTS;
    outcome
        .reply
        .as_ref()
        .is_some_and(|reply| reply.code == limit.code && reply.enhanced == limit.enhanced)
}
