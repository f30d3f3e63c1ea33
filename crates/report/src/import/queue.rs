//! The queue as the log tells it: messages from their first line to `removed`, each
//! recipient's attempts, and a [`RecipientRecord`] for each recipient once its fate is known.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use smtpsim_des::{SimDuration, SimTime};
use smtpsim_model::sim::{Fate, RecipientRecord, Sample};
use smtpsim_proto::{Reply, ReplyCode};

use super::ImportCounts;
use super::event::{Delivery, Event, ReplyCodes, Status};
use crate::RunWriter;

/// One recipient of a queued message.
#[derive(Debug)]
struct Recipient {
    to: String,
    attempts: u32,
    /// Microseconds since the log's origin.
    first_attempt: Option<u64>,
    queue_wait: u64,
    reply: Option<ReplyCodes>,
    text: String,
    relay: String,
    settled: bool,
}

/// A message in the queue.
#[derive(Debug)]
struct Message {
    /// Order of first appearance; `messages.csv`'s `message_id`.
    seq: u64,
    /// Its first line, in microseconds since the log's origin.
    arrived: u64,
    from: String,
    /// A bounce notification made by Postfix itself: not counted as a message.
    notice: bool,
    /// Its last word was a deferral (it waits in the deferred queue).
    deferred: bool,
    recipients: Vec<Recipient>,
}

/// The queue's state and the running totals; writes settled recipients to a [`RunWriter`].
#[derive(Debug)]
pub(crate) struct Queue {
    writer: RunWriter,
    messages: FxHashMap<Box<str>, Message>,
    /// Open messages by order of appearance, for eviction.
    order: BTreeMap<u64, Box<str>>,
    next_seq: u64,
    max_open: usize,
    /// Open messages that are not notifications.
    open: u64,
    deferred: u64,
    interval: u64,
    next_sample: u64,
    sample: Sample,
    pub(crate) counts: ImportCounts,
}

impl Queue {
    pub(crate) fn new(writer: RunWriter, max_open: usize, interval: SimDuration) -> Queue {
        Queue {
            writer,
            messages: FxHashMap::default(),
            order: BTreeMap::new(),
            next_seq: 1,
            max_open: max_open.max(1),
            open: 0,
            deferred: 0,
            interval: interval.as_micros().max(1),
            next_sample: 0,
            sample: Sample::default(),
            counts: ImportCounts::default(),
        }
    }

    /// Writes the samples due before `now` (microseconds since the origin).
    pub(crate) fn advance(&mut self, now: u64) {
        while self.next_sample <= now {
            self.emit_sample(self.next_sample);
            self.next_sample = self.next_sample.saturating_add(self.interval);
        }
    }

    fn emit_sample(&mut self, at: u64) {
        let open = self.open;
        self.sample.time = SimTime::from_micros(at);
        self.sample.deferred = self.deferred;
        self.sample.active = open.saturating_sub(self.deferred);
        let sample = self.sample;
        smtpsim_model::sim::Recorder::sample(&mut self.writer, &sample);
    }

    /// A recipient refused before queueing.
    pub(crate) fn rejected(&mut self, now: u64, to: &str, from: &str, reply: Option<ReplyCodes>) {
        let seq = self.take_seq();
        self.counts.messages_rejected += 1;
        let recipient = Recipient {
            to: to.to_owned(),
            attempts: 0,
            first_attempt: None,
            queue_wait: 0,
            reply,
            text: String::new(),
            relay: String::new(),
            settled: false,
        };
        let at = Settled {
            seq,
            arrived: now,
            from,
            queue_id: "",
            fate: Fate::RejectedAtSubmission,
            finished: now,
        };
        write(&mut self.writer, &mut self.counts, &at, &recipient);
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// The message `queue_id`, created at `now` if it is new.
    fn message(&mut self, queue_id: &str, now: u64) -> &mut Message {
        if !self.messages.contains_key(queue_id) {
            let seq = self.take_seq();
            self.order.insert(seq, queue_id.into());
            self.messages.insert(
                queue_id.into(),
                Message {
                    seq,
                    arrived: now,
                    from: String::new(),
                    notice: false,
                    deferred: false,
                    recipients: Vec::new(),
                },
            );
            self.open += 1;
            self.counts.peak_open = self.counts.peak_open.max(self.open);
            if self.messages.len() > self.max_open {
                self.evict_oldest();
            }
        }
        self.messages
            .get_mut(queue_id)
            .expect("the message was just inserted")
    }

    fn evict_oldest(&mut self) {
        if let Some((_, queue_id)) = self.order.pop_first()
            && let Some(m) = self.messages.remove(&queue_id)
        {
            self.counts.evicted_messages += 1;
            self.open -= u64::from(!m.notice);
            self.counts.evicted_recipients +=
                m.recipients.iter().filter(|r| !r.settled).count() as u64;
            if m.deferred {
                self.deferred -= 1;
            }
        }
    }

    /// What a line says about the queued message `queue_id`.
    pub(crate) fn event(&mut self, now: u64, queue_id: &str, event: Event<'_>) {
        match event {
            Event::Removed => self.removed(queue_id),
            Event::Delivery(d) => self.delivery(now, queue_id, &d),
            Event::Expired => self.expired(now, queue_id),
            Event::Notice { notice } => {
                self.counts.bounce_notices += 1;
                let m = self.message(notice, now);
                if !std::mem::replace(&mut m.notice, true) {
                    self.open -= 1;
                }
            }
            Event::Active { from } => {
                let m = self.message(queue_id, now);
                if m.from.is_empty() {
                    m.from.push_str(from);
                }
                let was_deferred = std::mem::replace(&mut m.deferred, false);
                if was_deferred {
                    self.deferred -= 1;
                }
            }
            Event::Arrived | Event::Other => {
                self.message(queue_id, now);
            }
        }
    }

    fn removed(&mut self, queue_id: &str) {
        let Some(m) = self.messages.remove(queue_id) else {
            return;
        };
        self.order.remove(&m.seq);
        if m.deferred {
            self.deferred -= 1;
        }
        if !m.notice {
            self.open -= 1;
            self.counts.messages += 1;
            self.counts.removed_unsettled +=
                m.recipients.iter().filter(|r| !r.settled).count() as u64;
        }
    }

    fn delivery(&mut self, now: u64, queue_id: &str, d: &Delivery<'_>) {
        self.message(queue_id, now);
        let Some(m) = self.messages.get_mut(queue_id) else {
            return;
        };
        // A message whose first lines are missing (an earlier, absent file) arrived `delay`
        // before this line.
        if let Some(delay) = d.delay {
            m.arrived = m.arrived.min(now.saturating_sub(delay));
        }
        let arrived = m.arrived;
        let index = match m.recipients.iter().position(|r| r.to == d.to) {
            Some(i) => i,
            None => {
                m.recipients.push(Recipient {
                    to: d.to.to_owned(),
                    attempts: 0,
                    first_attempt: None,
                    queue_wait: 0,
                    reply: None,
                    text: String::new(),
                    relay: String::new(),
                    settled: false,
                });
                m.recipients.len() - 1
            }
        };
        let r = &mut m.recipients[index];
        if r.settled {
            return;
        }
        // `relay=none`: no server was reached (no address, no MX host answered), so no
        // attempt was made.
        if d.relay != "none" {
            let [before, wait, ..] = d.delays.unwrap_or([0; 4]);
            r.attempts += 1;
            r.first_attempt
                .get_or_insert(arrived.saturating_add(before).saturating_add(wait).min(now));
            r.queue_wait += wait;
            self.counts.attempts += 1;
        }
        r.reply = d.reply;
        r.text.clear();
        r.text.push_str(d.text);
        r.relay.clear();
        r.relay.push_str(d.relay);
        let finished = d.delay.map_or(now, |delay| arrived.saturating_add(delay));
        let fate = match d.status {
            Status::Sent => Fate::Inbox,
            Status::Bounced => Fate::Bounced,
            Status::Expired => Fate::Expired,
            Status::Deferred => {
                self.sample.deferrals += 1;
                if !std::mem::replace(&mut m.deferred, true) {
                    self.deferred += 1;
                }
                return;
            }
        };
        self.settle(queue_id, index, fate, finished);
    }

    fn expired(&mut self, now: u64, queue_id: &str) {
        let Some(m) = self.messages.get(queue_id) else {
            return;
        };
        let open: Vec<usize> = (0..m.recipients.len())
            .filter(|&i| !m.recipients[i].settled)
            .collect();
        for index in open {
            self.settle(queue_id, index, Fate::Expired, now);
        }
    }

    /// Writes recipient `index` of `queue_id` with its fate.
    fn settle(&mut self, queue_id: &str, index: usize, fate: Fate, finished: u64) {
        let Some(m) = self.messages.get_mut(queue_id) else {
            return;
        };
        let r = &mut m.recipients[index];
        r.settled = true;
        if m.notice {
            return;
        }
        match fate {
            Fate::Inbox | Fate::Spam => self.sample.delivered += 1,
            _ => self.sample.bounced += 1,
        }
        let at = Settled {
            seq: m.seq,
            arrived: m.arrived,
            from: &m.from,
            queue_id,
            fate,
            finished,
        };
        write(
            &mut self.writer,
            &mut self.counts,
            &at,
            &m.recipients[index],
        );
    }

    /// Counts what is still in the queue and hands back the writer.
    pub(crate) fn finish(mut self, end: u64) -> (RunWriter, ImportCounts) {
        self.advance(end);
        // The last sample is at the end, so that it holds the final totals.
        if self.next_sample - self.interval < end {
            self.emit_sample(end);
        }
        let open = self.messages.values().filter(|m| !m.notice);
        for m in open {
            self.counts.open_at_end += 1;
            self.counts.unsettled_at_end +=
                m.recipients.iter().filter(|r| !r.settled).count() as u64;
        }
        (self.writer, self.counts)
    }
}

/// How and when a recipient's message ended, for [`write`].
struct Settled<'a> {
    seq: u64,
    arrived: u64,
    from: &'a str,
    queue_id: &'a str,
    fate: Fate,
    finished: u64,
}

/// Writes one recipient row.
fn write(writer: &mut RunWriter, counts: &mut ImportCounts, at: &Settled<'_>, r: &Recipient) {
    let reply = r
        .reply
        .and_then(|codes| Some(Reply::new(ReplyCode::new(codes.code)?, codes.enhanced, "")));
    let domain = r.to.rsplit_once('@').map_or("", |(_, d)| d);
    let relay_host = r.relay.split(['[', ':']).next().unwrap_or("");
    let record = RecipientRecord {
        message_id: at.seq,
        sender: at.from,
        recipient: &r.to,
        domain,
        submitted: SimTime::from_micros(at.arrived),
        first_attempt: r.first_attempt.map(SimTime::from_micros),
        finished: SimTime::from_micros(at.finished.max(at.arrived)),
        fate: at.fate,
        attempts: r.attempts,
        queue_wait: SimDuration::from_micros(r.queue_wait),
        last_reply: reply.as_ref(),
        reasons: &r.text,
    };
    counts.recipients += 1;
    writer.recipient_with(&record, &[at.queue_id, relay_host]);
}
