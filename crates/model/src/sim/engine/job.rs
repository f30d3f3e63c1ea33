//! Deliveries in the queue ("jobs"), kept in reusable slots.
//!
//! A job is a few hundred bytes: it is written field by field into a free slot rather than
//! built elsewhere and moved in, and a finished one leaves its slot as it is (only its
//! recipients go). The recipients' address buffers are kept for the next arrivals, so that a
//! steady run does not allocate one per recipient.

use super::*;

/// One recipient of a job.
pub(super) struct Recipient {
    pub address: String,
    pub done: bool,
    /// Given up on (bounced or expired) and not yet reported to the sender.
    pub notify: Option<Fate>,
    pub last_reply: Option<Reply>,
    pub reasons: Rc<str>,
}

/// One message to one recipient domain.
pub(super) struct Job {
    pub message: u64,
    pub sender: u32,
    pub domain: u32,
    /// Most messages have one recipient a domain: kept inline, without an allocation. Empty
    /// in a free slot.
    pub recipients: SmallVec<[Recipient; 1]>,
    pub submitted: SimTime,
    pub size: u64,
    pub traced: bool,
    pub altered: bool,
    pub first_attempt: Option<SimTime>,
    pub first_failure: Option<SimTime>,
    pub failures: u32,
    pub attempts: u32,
    pub previous: Option<crate::retry::Previous>,
    /// Deferred, waiting for its next attempt.
    pub waiting_retry: bool,
    pub ready_since: SimTime,
    pub queue_wait: SimDuration,
    /// The outcome of the attempt in progress, applied when it ends.
    pub result: Option<AttemptOutcome>,
    /// When the last attempt started.
    pub attempt_started: Option<SimTime>,
    /// The MX host (its place in the preference order) that answered the last attempt.
    pub host: Option<usize>,
}

/// What a new job starts from: its message, as submitted.
#[derive(Clone, Copy)]
pub(super) struct Submitted {
    pub message: u64,
    pub sender: u32,
    pub at: SimTime,
    pub size: u64,
    pub traced: bool,
    pub altered: bool,
}

impl Job {
    fn vacant() -> Job {
        Job {
            message: 0,
            sender: 0,
            domain: 0,
            recipients: SmallVec::new(),
            submitted: SimTime::ZERO,
            size: 0,
            traced: false,
            altered: false,
            first_attempt: None,
            first_failure: None,
            failures: 0,
            attempts: 0,
            previous: None,
            waiting_retry: false,
            ready_since: SimTime::ZERO,
            queue_wait: SimDuration::ZERO,
            result: None,
            attempt_started: None,
            host: None,
        }
    }

    /// Makes this (free) slot a new job for `message` to `domain`, with no recipients yet.
    fn start(&mut self, message: &Submitted, domain: u32) {
        debug_assert!(self.recipients.is_empty() && self.result.is_none());
        self.message = message.message;
        self.sender = message.sender;
        self.domain = domain;
        self.submitted = message.at;
        self.size = message.size;
        self.traced = message.traced;
        self.altered = message.altered;
        self.first_attempt = None;
        self.first_failure = None;
        self.failures = 0;
        self.attempts = 0;
        self.previous = None;
        self.waiting_retry = false;
        self.ready_since = message.at;
        self.queue_wait = SimDuration::ZERO;
        self.attempt_started = None;
        self.host = None;
    }
}

/// The jobs, by number; a number is reused once its job is freed.
#[derive(Default)]
pub(super) struct Jobs {
    slots: Vec<Job>,
    free: Vec<u32>,
    /// Address buffers of freed recipients, for new ones.
    spare_addresses: Vec<String>,
}

impl Jobs {
    /// A new job for `message` to `domain`, with no recipients yet: its number.
    pub fn open(&mut self, message: &Submitted, domain: u32) -> u32 {
        let job = match self.free.pop() {
            Some(job) => job,
            None => {
                self.slots.push(Job::vacant());
                (self.slots.len() - 1) as u32
            }
        };
        self.slots[job as usize].start(message, domain);
        job
    }

    /// Frees `job`'s slot; its recipients are dropped, their address buffers kept.
    pub fn free(&mut self, job: u32) {
        let j = &mut self.slots[job as usize];
        while let Some(recipient) = j.recipients.pop() {
            self.spare_addresses.push(recipient.address);
        }
        j.result = None;
        self.free.push(job);
    }

    /// Adds a recipient to `job` (one just opened: it may have none yet).
    pub fn add_recipient(&mut self, job: u32, recipient: Recipient) {
        self.slots[job as usize].recipients.push(recipient);
    }

    /// An empty address buffer, from a freed recipient if there is one.
    pub fn address_buffer(&mut self) -> String {
        let mut address = self.spare_addresses.pop().unwrap_or_default();
        address.clear();
        address
    }

    /// Jobs not freed.
    pub fn live(&self) -> u64 {
        (self.slots.len() - self.free.len()) as u64
    }

    pub fn get(&self, job: u32) -> &Job {
        let j = &self.slots[job as usize];
        debug_assert!(!j.recipients.is_empty(), "job {job} is not live");
        j
    }

    pub fn get_mut(&mut self, job: u32) -> &mut Job {
        let j = &mut self.slots[job as usize];
        debug_assert!(!j.recipients.is_empty(), "job {job} is not live");
        j
    }
}
