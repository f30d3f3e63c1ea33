//! Arrivals, submission and DNS: how a message gets into the relay's queue.

use super::*;
use crate::limits::{MAX_MESSAGE_SIZE, MAX_RECIPIENTS};
use crate::sim::records::SubmissionRecord;

impl Engine<'_> {
    // --- arrivals and submission -------------------------------------------------------

    pub(super) fn schedule_arrival(&mut self, sender: u32) {
        if self
            .world
            .max_messages
            .is_some_and(|max| self.arrivals_scheduled >= max)
        {
            return;
        }
        let s = &mut self.world.senders[sender as usize];
        let Some(at) = s.arrivals.next(s.last_arrival, &mut s.arrival_rng) else {
            return;
        };
        s.last_arrival = Some(at);
        if at >= self.world.arrivals_end {
            return;
        }
        self.arrivals_scheduled += 1;
        self.schedule(at, Event::Arrival { sender });
    }

    pub(super) fn arrival(&mut self, now: SimTime, sender: u32) {
        let id = self.stats.messages;
        self.stats.messages += 1;
        self.schedule_arrival(sender);

        let traced = self.options.trace.traces(id);
        let s = &mut self.world.senders[sender as usize];
        let rng = &mut s.message_rng;
        let count = s.recipients.sample(rng).0.clamp(1, MAX_RECIPIENTS);
        let size = s.size.sample(rng).0.min(MAX_MESSAGE_SIZE);
        let auth_failed = s.auth_failure > 0.0 && rng.random::<f64>() < s.auth_failure;
        let altered = s.dkim.is_some() && s.altered > 0.0 && rng.random::<f64>() < s.altered;
        let latency = s.submission_latency.sample(rng).0;
        let message = job::Submitted {
            message: id,
            sender,
            at: now,
            size,
            traced,
            altered,
        };
        let jobs = self.open_jobs(&message, count);
        let submitted_at = now + latency;

        if traced {
            self.trace_submission(now, &message, &jobs, !auth_failed);
        }
        if self.attempts_wanted {
            let s = &self.world.senders[sender as usize];
            let record = SubmissionRecord {
                time: now,
                message_id: id,
                sender: &s.name,
                from: &s.envelope_from,
                size,
                recipients: count,
                accepted: !auth_failed,
            };
            self.recorder.submission(&record);
        }
        for (_, job) in jobs {
            if auth_failed {
                let reply = Reply::new(
                    ReplyCode::new(535).expect("valid code"),
                    Some(EnhancedCode::new(5, 7, 8)),
                    "Authentication credentials invalid",
                );
                self.finish_all(
                    submitted_at,
                    job,
                    Fate::RejectedAtSubmission,
                    Some(reply),
                    "the relay refused the application's credentials",
                );
                self.free_job(job);
            } else {
                self.counters.active += 1;
                // Only a new delivery makes the queue longer (a retry moves one from deferred
                // to active): the peak is followed here.
                let depth = self.counters.active + self.counters.deferred;
                self.stats.peak_queue_depth = self.stats.peak_queue_depth.max(depth);
                self.schedule(submitted_at, Event::Resolve { job });
            }
        }
    }

    /// Draws the `count` recipients of `message` and opens its jobs, one a recipient domain
    /// in order of first appearance, each with its recipients in the order drawn: the
    /// domains and their jobs.
    fn open_jobs(&mut self, message: &job::Submitted, count: u64) -> SmallVec<[(u32, u32); 2]> {
        let mut opened: SmallVec<[(u32, u32); 2]> = SmallVec::new();
        for _ in 0..count {
            let s = &mut self.world.senders[message.sender as usize];
            let rng = &mut s.message_rng;
            let pick = rng.random::<f64>();
            // The first destination whose cumulative weight is above the draw (the weights
            // only grow: a binary search, for senders with thousands of domains).
            let at = s
                .destinations
                .partition_point(|(cumulative, _)| *cumulative <= pick);
            let domain = s
                .destinations
                .get(at)
                .or(s.destinations.last())
                .map(|(_, d)| *d)
                .expect("a sender has destinations");
            let user = rng.random_range(0..1_000_000u32);
            let domain_name = &self.world.domains[domain as usize].name;
            let mut number = itoa::Buffer::new();
            let number = number.format(user);
            let mut address = self.jobs.address_buffer();
            address.reserve(5 + number.len() + domain_name.len());
            address.push_str("user");
            address.push_str(number);
            address.push('@');
            address.push_str(domain_name);
            let job = match opened.iter().find(|(d, _)| *d == domain) {
                Some(&(_, job)) => job,
                None => {
                    let job = self.new_job(message, domain);
                    opened.push((domain, job));
                    job
                }
            };
            let recipient = Recipient {
                address,
                done: false,
                notify: None,
                last_reply: None,
                reasons: self.empty.clone(),
            };
            self.jobs.add_recipient(job, recipient);
        }
        opened
    }

    /// Traces the application's submission of `message` to the relay, with its recipients
    /// (those of `jobs`, by domain, in order).
    fn trace_submission(
        &mut self,
        now: SimTime,
        message: &job::Submitted,
        jobs: &[(u32, u32)],
        accepted: bool,
    ) {
        let s = &self.world.senders[message.sender as usize];
        let to: Vec<&str> = jobs
            .iter()
            .flat_map(|&(_, job)| self.jobs.get(job).recipients.iter())
            .map(|r| r.address.as_str())
            .collect();
        let id = message.message;
        let body = content::build(
            id,
            &s.header_from,
            to[0],
            &s.domain,
            // The application submits unsigned mail; the relay signs it.
            None,
            false,
            message.size,
        );
        let mut lines = vec![TraceLine::Note(Note::Submitted {
            sender: s.name.clone(),
            message: id,
            size: message.size,
        })];
        let conversation = exchange::submission(
            &self.world.relay.hostname,
            &s.name,
            accepted,
            &s.envelope_from,
            &to,
            body,
            message.size,
        );
        lines.extend(
            conversation
                .into_iter()
                .map(|(speaker, text)| trace_line(speaker, text)),
        );
        for line in &lines {
            self.trace(now, id, 0, Hop::AppRelay, line);
        }
    }

    // --- DNS ---------------------------------------------------------------------------

    pub(super) fn resolve(&mut self, now: SimTime, job: u32) {
        let j = self.job_mut(job);
        let domain = j.domain;
        if std::mem::take(&mut j.waiting_retry) {
            self.counters.deferred -= 1;
            self.counters.active += 1;
        }
        let d = &mut self.world.domains[domain as usize];
        let latency = d.dns.latency.sample(&mut d.dns_rng).0;
        let (answer, delay) = match d.route {
            Route::NxDomain => (DnsAnswer::NxDomain, latency),
            Route::NullMx => (DnsAnswer::NullMx, latency),
            Route::Mx(_) => {
                let (servfail, timeout) = (d.dns.servfail.0, d.dns.timeout.0);
                let draw = if servfail + timeout > 0.0 {
                    d.dns_rng.random::<f64>()
                } else {
                    1.0
                };
                if draw < servfail {
                    (DnsAnswer::ServFail, latency)
                } else if draw < servfail + timeout {
                    (DnsAnswer::Timeout, d.dns.timeout_after.0)
                } else {
                    (DnsAnswer::Found, latency)
                }
            }
        };
        self.schedule(now + delay, Event::Resolved { job, answer });
    }

    pub(super) fn resolved(&mut self, now: SimTime, job: u32, answer: DnsAnswer) {
        let j = self.job(job);
        let (domain, traced, message, attempt) = (j.domain, j.traced, j.message, j.attempts + 1);
        if traced {
            let d = &self.world.domains[domain as usize];
            let answer = match (&d.route, answer) {
                (Route::Mx(hosts), DnsAnswer::Found) => {
                    MxAnswer::Hosts(hosts.iter().map(HostModel::addr).collect())
                }
                (_, DnsAnswer::NxDomain) => MxAnswer::NxDomain,
                (_, DnsAnswer::NullMx) => MxAnswer::NullMx,
                (_, DnsAnswer::ServFail) => MxAnswer::ServFail,
                (_, DnsAnswer::Timeout) => MxAnswer::TimedOut,
                (_, DnsAnswer::Found) => MxAnswer::Hosts(Vec::new()),
            };
            let note = Note::MxLookup {
                domain: d.name.clone(),
                answer,
            };
            self.note(now, message, attempt, Hop::RelayDns, note);
        }
        match answer {
            DnsAnswer::Found => {
                let j = self.job_mut(job);
                j.ready_since = now;
                self.world.domains[domain as usize].waiting.push_back(job);
                self.queued(now, domain);
            }
            DnsAnswer::NxDomain => {
                self.counters.active -= 1;
                let reply = refusal(550, (5, 1, 2), "Host or domain name not found");
                self.finish_all(
                    now,
                    job,
                    Fate::Bounced,
                    Some(reply),
                    "the recipient domain does not exist",
                );
                self.notify_sender(now, job);
                self.free_job(job);
            }
            DnsAnswer::NullMx => {
                self.counters.active -= 1;
                let reply = refusal(
                    556,
                    (5, 1, 10),
                    "Recipient domain accepts no mail (null MX)",
                );
                self.finish_all(
                    now,
                    job,
                    Fate::Bounced,
                    Some(reply),
                    "the recipient domain publishes a null MX",
                );
                self.notify_sender(now, job);
                self.free_job(job);
            }
            DnsAnswer::ServFail | DnsAnswer::Timeout => {
                let reply = refusal(451, (4, 4, 3), "Temporary DNS failure looking up the MX");
                let j = self.job_mut(job);
                for r in j.recipients.iter_mut().filter(|r| !r.done) {
                    r.last_reply = Some(reply.clone());
                    r.reasons = Rc::from("MX lookup failed temporarily");
                }
                self.defer(now, job);
            }
        }
    }
}
