//! Connection slots, attempts, and what follows an attempt: delivery, bounce, retry or expiry.

use super::*;

/// Why a delivery to a suspended domain was deferred without trying (Postfix's words).
const SUSPENDED: &str = "delivery temporarily suspended: no MX host accepted a connection";

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

    // --- attempts ------------------------------------------------------------------------

    /// Starts an attempt for `job`: on `reuse`, a connection left open by the previous message
    /// to the same domain, or else on a new connection to the first MX host that takes one.
    pub(super) fn start_attempt(&mut self, now: SimTime, job: u32, reuse: Option<OpenConnection>) {
        self.stats.attempts += 1;
        let j = self.jobs[job as usize].as_mut().expect("live job");
        j.attempts += 1;
        j.first_attempt.get_or_insert(now);
        j.attempt_started = Some(now);
        j.queue_wait += now - j.ready_since;
        let (message, attempt_no, traced) = (j.message, j.attempts, j.traced);
        let source = self.world.sources.choose(message, j.sender);
        let domain = j.domain as usize;
        let sender = &self.world.senders[j.sender as usize];
        let relay = &mut self.world.relay;
        let d = &mut self.world.domains[domain];

        let to: SmallVec<[&str; 4]> = j
            .recipients
            .iter()
            .filter(|r| !r.done)
            .map(|r| r.address.as_str())
            .collect();
        let (altered, size) = (j.altered, j.size);
        let first = to[0];
        // Built only if an exchange gets as far as the content.
        let body = || {
            content::build(
                message,
                &sender.header_from,
                first,
                &sender.domain,
                sender.dkim.as_ref().map(|(d, s)| (d.as_str(), s.as_str())),
                altered,
                size,
            )
        };
        let mut id_text = itoa::Buffer::new();
        let facts = content::FactsRef {
            from_domain: Some(sender.header_from_domain.as_bytes()),
            dkim: sender
                .dkim
                .as_ref()
                .map(|(d, s)| (d.as_bytes(), s.as_bytes())),
            altered,
            message_id: Some((id_text.format(message).as_bytes(), sender.domain.as_bytes())),
        };
        let attempt = Attempt {
            client_ip: self.world.sources.ip(source),
            helo: &relay.hostname,
            starttls: relay.starttls,
            pipelining: relay.pipelining,
            from: &sender.envelope_from,
            recipients: &to,
            content: &body,
            facts,
            size: j.size,
            keep_open: relay.reuse.is_some(),
            resumed: reuse.map(|open| open.state),
        };
        let Route::Mx(hosts) = &d.route else {
            unreachable!("only domains with MX hosts get attempts")
        };
        let throttled_before = d.behaviour.throttled();
        let mut elapsed = SimDuration::ZERO;
        let mut lines: Vec<(SimDuration, TraceKind, String)> = Vec::new();
        let mut result = None;
        let mut answered = None;
        // A reused connection stays with its host; a new one tries them in preference order;
        // a suspended domain none.
        let suspended = now < d.suspended_until;
        let candidates = match reuse {
            _ if suspended => 0..0,
            Some(open) => open.host..open.host + 1,
            None => 0..hosts.len(),
        };
        for index in candidates {
            let host = &hosts[index];
            let at = now + elapsed;
            let outage = if reuse.is_some() {
                None
            } else {
                host.outage_at(at)
            };
            match outage {
                Some(OutageMode::Refuse) => {
                    elapsed += relay.round_trip.sample(&mut relay.network_rng).0;
                    if traced {
                        lines.push((
                            elapsed,
                            TraceKind::Note,
                            format!("connect to {} [{}]: connection refused", host.name, host.ip),
                        ));
                    }
                    continue;
                }
                Some(OutageMode::Timeout) => {
                    elapsed += relay.connect_timeout;
                    if traced {
                        lines.push((
                            elapsed,
                            TraceKind::Note,
                            format!("connect to {} [{}]: timed out", host.name, host.ip),
                        ));
                    }
                    continue;
                }
                Some(OutageMode::Reply421) | None => {}
            }
            d.behaviour.begin(at, outage);
            if traced {
                let how = if reuse.is_some() {
                    "reusing the connection to"
                } else {
                    "connected to"
                };
                lines.push((
                    elapsed,
                    TraceKind::Note,
                    format!("{how} {} [{}]", host.name, host.ip),
                ));
            }
            let outcome = match self.options.exchange {
                _ if traced => {
                    exchange::sessions(&attempt, &host.server_config, &mut d.behaviour, true)
                }
                ExchangeMode::Auto => exchange::decisions(
                    &attempt,
                    &host.server_config,
                    &mut d.behaviour,
                    &mut self.scratch,
                ),
                ExchangeMode::Sessions => {
                    exchange::sessions(&attempt, &host.server_config, &mut d.behaviour, false)
                }
                ExchangeMode::Compare => {
                    let (outcome, disagreement) = compare(
                        &attempt,
                        &host.server_config,
                        &mut d.behaviour,
                        &mut self.scratch,
                    );
                    if let Some(what) = disagreement {
                        self.disagreement.get_or_insert_with(|| {
                            format!("message {message}, attempt {attempt_no}: {what}")
                        });
                    }
                    outcome
                }
            };
            // The network round trip is a property of the connection: one draw per
            // connection. The server's latency is drawn for each round trip.
            let rtt = match reuse {
                Some(open) => open.rtt,
                None => relay.round_trip.sample(&mut relay.network_rng).0,
            };
            let transfer = match outcome.trips.content {
                Some(_) if relay.bandwidth > 0.0 => {
                    SimDuration::from_secs_f64(j.size as f64 / relay.bandwidth)
                }
                _ => SimDuration::ZERO,
            };
            let latency = &d.behaviour.config().latency;
            let mut starts = Vec::new();
            let timing = Timing {
                rtt,
                transfer,
                latency,
            };
            let keep = traced.then_some(&mut starts);
            let took = timing.trips(outcome.trips, &mut d.latency_rng, keep);
            let start_of = |trip: u32| starts.get(trip as usize).copied().unwrap_or(took);
            for line in &outcome.transcript {
                let offset = match line.at {
                    exchange::At::Start => start_of(line.trip),
                    exchange::At::AfterContent => start_of(line.trip) + transfer,
                    exchange::At::End => start_of(line.trip + 1),
                };
                lines.push((
                    elapsed + offset,
                    trace_kind(line.speaker),
                    line.text.clone(),
                ));
            }
            let verdict = d.behaviour.end_of_data_mut().take_verdict();
            // What the receiving side's checks found at the end of data, when the reply to
            // the content came.
            if traced
                && let Some(v) = &verdict
                && !v.results.is_empty()
            {
                let text = format!("Authentication-Results: {}", v.results);
                let at = outcome
                    .trips
                    .content
                    .map_or(took, |trip| start_of(trip + 1));
                lines.push((elapsed + at, TraceKind::Note, text));
            }
            elapsed += took;
            let refused = outcome.refused_at_greeting();
            let open = (relay.reuse.is_some() && outcome.reusable).then_some(OpenConnection {
                host: index,
                rtt,
                sent: reuse.map_or(1, |open| open.sent + 1),
                state: outcome.state,
            });
            answered = Some(index);
            result = Some(AttemptOutcome {
                open,
                recipients: outcome.recipients,
                verdict,
                unreachable: None,
            });
            if !refused {
                break;
            }
        }
        let result = result.unwrap_or_else(|| AttemptOutcome {
            open: None,
            recipients: Vec::new(),
            verdict: None,
            unreachable: Some(if suspended {
                SUSPENDED
            } else {
                "no MX host accepted a connection"
            }),
        });
        let duration = match &relay.attempt_duration {
            _ if suspended => SimDuration::ZERO,
            Some(dist) => dist.sample(&mut relay.network_rng).0,
            None => elapsed,
        };
        let throttled = d.behaviour.throttled() > throttled_before;
        let unanswered = result.unreachable.map(|_| to.len());
        self.world
            .sources
            .record(source, &result.recipients, unanswered, throttled);
        j.result = Some(result);
        j.host = answered;
        drop(to);
        for (offset, kind, text) in lines {
            self.recorder.trace(&TraceRecord {
                time: now + offset,
                message_id: message,
                attempt: attempt_no,
                hop: Hop::RelayMx,
                kind,
                text: &text,
            });
        }
        self.schedule(now + duration, Event::AttemptDone { job });
    }

    pub(super) fn attempt_done(&mut self, now: SimTime, job: u32) {
        let domain = self.job(job).domain;
        let j = self.jobs[job as usize].as_mut().expect("live job");
        let result = j.result.take().expect("an attempt in progress");
        let open = result.open;
        let (message, attempt, traced) = (j.message, j.attempts, j.traced);
        let mut finished: SmallVec<[(usize, Fate); 4]> = SmallVec::new();
        let mut any_deferred = false;
        // Deferred only because the server's recipient limit was reached.
        let mut all_over_limit = true;
        let undecided: SmallVec<[usize; 4]> = (0..j.recipients.len())
            .filter(|i| !j.recipients[*i].done)
            .collect();
        let mut notes: Vec<(Hop, String)> = Vec::new();
        if let Some(why) = result.unreachable {
            let suspend = self.world.relay.suspend_unreachable;
            let d = &mut self.world.domains[domain as usize];
            if why != SUSPENDED && !suspend.is_zero() {
                d.suspended_until = d.suspended_until.max(now + suspend);
            }
            let j = self.jobs[job as usize].as_mut().expect("live job");
            for &i in &undecided {
                let r = &mut j.recipients[i];
                r.last_reply = None;
                r.reasons = Rc::from(why);
            }
            any_deferred = true;
        } else {
            for (&i, outcome) in undecided.iter().zip(&result.recipients) {
                let r = &mut j.recipients[i];
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
                        finished.push((i, fate));
                    }
                    Status::Rejected => {
                        r.reasons = self.descriptions.get(outcome, result.verdict.as_ref());
                        finished.push((i, Fate::Bounced));
                    }
                    Status::Deferred => {
                        r.reasons = self.descriptions.get(outcome, None);
                        any_deferred = true;
                        all_over_limit &= over_recipient_limit(outcome);
                    }
                }
                if traced {
                    let text = match outcome.status {
                        Status::Accepted => format!("{}: delivered", r.address),
                        Status::Rejected => format!("{}: bounced ({})", r.address, r.reasons),
                        Status::Deferred => format!("{}: deferred ({})", r.address, r.reasons),
                    };
                    notes.push((Hop::RelayMx, text));
                }
            }
        }
        if traced {
            // Where the receiving side filed what it accepted.
            if let Some(v) = &result.verdict
                && !finished.iter().all(|(_, fate)| *fate == Fate::Bounced)
            {
                let folder = if v.spam { "spam folder" } else { "inbox" };
                notes.push((Hop::MxMailbox, format!("{folder}: {}", v.reasons)));
            }
            for (hop, text) in &notes {
                self.trace(now, message, attempt, *hop, TraceKind::Note, text);
            }
        }
        let progress = !finished.is_empty();
        for (i, fate) in finished {
            self.finish_one(now, job, i, fate);
        }
        self.notify_sender(now, job);
        if any_deferred && all_over_limit && progress && result.unreachable.is_none() {
            self.send_the_rest(now, job);
        } else if any_deferred {
            self.defer(now, job);
        } else {
            self.counters.active -= 1;
            self.free_job(job);
        }
        if let Some(open) = open
            && let Some(next) = self.next_on_connection(now, domain, open)
        {
            self.start_attempt(now, next, Some(open));
            return;
        }
        self.connections -= 1;
        self.world.domains[domain as usize].active -= 1;
        self.enter_rotation(domain);
        self.dispatch(now);
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

    /// The server took as many recipients as its limit allows and answered the others
    /// `452 4.5.3`: they go at once in another transaction (RFC 5321 section 4.5.3.1.10),
    /// ahead of the domain's queue, on the same connection when it is kept open.
    fn send_the_rest(&mut self, now: SimTime, job: u32) {
        let j = self.job_mut(job);
        j.ready_since = now;
        let (domain, message, attempt, traced) = (j.domain, j.message, j.attempts, j.traced);
        let left = j.recipients.iter().filter(|r| !r.done).count();
        if traced {
            let text = format!(
                "{left} recipients over the server's recipient limit: sent in another transaction"
            );
            self.trace(now, message, attempt, Hop::RelayMx, TraceKind::Note, &text);
        }
        self.world.domains[domain as usize].waiting.push_front(job);
    }

    /// Some recipients were deferred: retry later, or expire.
    pub(super) fn defer(&mut self, now: SimTime, job: u32) {
        let lifetime = self.world.relay.lifetime;
        let max_attempts = self.world.relay.max_attempts;
        if self.attempts_wanted {
            let j = self.jobs[job as usize].as_ref().expect("live job");
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
        let j = self.jobs[job as usize].as_mut().expect("live job");
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
                    let text = format!("deferred; next attempt at {}s", next.at.fmt_secs());
                    self.trace(now, message, attempt, Hop::RelayMx, TraceKind::Note, &text);
                }
                self.counters.deferred += 1;
                self.job_mut(job).waiting_retry = true;
                self.schedule(next.at, Event::Resolve { job });
            }
            None => {
                let why = if out_of_attempts {
                    "still deferred after the last allowed attempt"
                } else if too_old {
                    "still deferred when the queue lifetime ran out"
                } else {
                    "the retry schedule ran out"
                };
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
                    self.trace(
                        now,
                        message,
                        attempt,
                        Hop::RelayMx,
                        TraceKind::Note,
                        &format!("expired: {why}"),
                    );
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

/// How long the round trips of an exchange take: each the connection's round trip plus a draw
/// of the server's latency, and the one carrying the content its transfer too.
struct Timing<'a> {
    rtt: SimDuration,
    transfer: SimDuration,
    latency: &'a Dist<Duration>,
}

impl Timing<'_> {
    /// The duration of an exchange of `trips`; with `starts`, also when each round trip
    /// starts, from the start of the exchange (a constant latency is drawn once).
    fn trips(
        &self,
        trips: Trips,
        rng: &mut SimRng,
        starts: Option<&mut Vec<SimDuration>>,
    ) -> SimDuration {
        let count = u64::from(trips.count);
        let transfer = if trips.content.is_some() {
            self.transfer
        } else {
            SimDuration::ZERO
        };
        let constant = self
            .latency
            .is_constant()
            .then(|| self.latency.sample(rng).0);
        let Some(starts) = starts else {
            let latencies = match constant {
                Some(latency) => latency * count,
                None => {
                    (0..count).fold(SimDuration::ZERO, |sum, _| sum + self.latency.sample(rng).0)
                }
            };
            return self.rtt * count + latencies + transfer;
        };
        let mut at = SimDuration::ZERO;
        for trip in 0..trips.count {
            starts.push(at);
            at += self.rtt + constant.unwrap_or_else(|| self.latency.sample(rng).0);
            if trips.content == Some(trip) {
                at += transfer;
            }
        }
        at
    }
}

/// Runs an exchange both ways, the fast path on a copy of the behaviour, and says how they
/// differ, if they do; the sessions' result stands.
fn compare(
    attempt: &Attempt<'_>,
    config: &std::sync::Arc<ServerConfig>,
    behaviour: &mut MxBehaviour<AuthCheck>,
    scratch: &mut exchange::Scratch,
) -> (exchange::Exchanged, Option<String>) {
    let mut copy = behaviour.clone();
    scratch.record = true;
    let fast = exchange::decisions(attempt, config, &mut copy, scratch);
    scratch.record = false;
    let fast_verdict = copy.end_of_data_mut().take_verdict();
    let slow = exchange::sessions(attempt, config, &mut *behaviour, true);
    let mut disagreement = exchange::compare(&fast, &scratch.steps, &slow).err();
    // The sessions' verdict stays for the engine to take, as after any exchange.
    let slow_verdict = behaviour.end_of_data_mut().last_verdict();
    if disagreement.is_none() && fast_verdict.as_ref() != slow_verdict {
        disagreement = Some(format!(
            "end-of-data verdicts differ:\n  fast path: {fast_verdict:?}\n  sessions:  {slow_verdict:?}"
        ));
    }
    (slow, disagreement)
}
