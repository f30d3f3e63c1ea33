//! Recipient MX behaviours: greylisting, rate limits, unknown users, full mailboxes, random
//! temporary failures, outages, size limits, TLS required, and the authentication checks at
//! the end of data, composed into one [`smtpsim_proto::server::Policy`].
//!
//! The policy is told the time ([`MxBehaviour::begin`]) and never reads a clock, so the same
//! code answers in the simulator (virtual time) and in the real server (wall-clock time).
//!
//! Checks run in SMTP order and the first refusal wins:
//!
//! | step | check | reply |
//! |---|---|---|
//! | connect | outage shown as a reply | 421 4.3.2 |
//! | connect | connection rate per client address or network | 421 4.7.0 (or the configured reply) |
//! | MAIL | TLS required, no TLS | 530 5.7.0 |
//! | MAIL | declared SIZE above the limit | 552 5.3.4 |
//! | MAIL | message rate per counted client | 451 4.7.28 (or the configured reply) |
//! | MAIL | daily limit of the client's reputation | 451 4.7.0 (or the configured reply) |
//! | RCPT | unknown user | 550 5.1.1 |
//! | RCPT | full mailbox | 452 4.2.2, or 552 5.2.2 if permanent |
//! | RCPT | message rate per recipient address | 450 4.2.1 (or the configured reply) |
//! | RCPT | greylisting | 451 4.7.1 (or the configured reply) |
//! | RCPT | random temporary failure | 451 4.3.0 |
//! | end of data | DMARC policy reject | 550 5.7.1 |

mod bucket;
mod greylist;
mod key;
mod reputation;

use rand::Rng;
use rustc_hash::FxHashMap as HashMap;
use smtpsim_des::{SimRng, SimTime};
use smtpsim_proto::command::{ForwardPath, Host, MailParams, RcptParams, ReversePath};
use smtpsim_proto::server::{Decision, Envelope, Policy, SessionInfo};
use smtpsim_proto::{EnhancedCode, Reply};

pub use bucket::TokenBucket;
pub use greylist::{GreyVerdict, Greylist};
pub use key::{CountKey, connection_key, group_of, message_key, network_of};
pub use reputation::Reputation;

use crate::scenario::{self, Behaviour, OutageMode};
use crate::stable_hash::{StableHasher, to_unit};

/// A check at the end of data (authentication and placement), supplied by the driver.
pub trait EndOfData {
    /// Decides on a whole message; `Accept` or `AcceptWith` delivers it.
    fn message(&mut self, session: &SessionInfo, envelope: &Envelope, content: &[u8]) -> Decision;
}

impl<E: EndOfData + ?Sized> EndOfData for Box<E> {
    fn message(&mut self, session: &SessionInfo, envelope: &Envelope, content: &[u8]) -> Decision {
        (**self).message(session, envelope, content)
    }
}

/// Accepts every message at the end of data.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoChecks;

impl EndOfData for NoChecks {
    fn message(&mut self, _: &SessionInfo, _: &Envelope, _: &[u8]) -> Decision {
        Decision::Accept
    }
}

/// The behaviour of one receiving domain's MX hosts.
///
/// Everything it remembers (greylist triplets and passes, rate-limit buckets) is kept per
/// counted client ([`CountKey`]), so a driver may keep one behaviour per group of clients
/// ([`group_of`]) and answer each client as a single behaviour would; only the
/// draws of temporary failures come from each behaviour's own stream.
#[derive(Clone)]
pub struct MxBehaviour<E = NoChecks> {
    config: Behaviour,
    /// A hasher with the seed written in: per-address decisions (unknown users, full
    /// mailboxes) derive from the seed, and it is written once rather than for each address.
    seeded: StableHasher,
    rng: SimRng,
    now: SimTime,
    /// Set by [`MxBehaviour::begin`] for the host being talked to.
    outage: Option<OutageMode>,
    greylist: Option<Greylist>,
    connection_buckets: HashMap<CountKey, TokenBucket>,
    message_buckets: HashMap<CountKey, TokenBucket>,
    /// Recipient mailbox number → its bucket.
    recipient_buckets: HashMap<u64, TokenBucket>,
    connection_reply: Reply,
    message_reply: Reply,
    recipient_reply: Reply,
    reputation: Option<Reputation>,
    reputation_reply: Reply,
    /// Refusals by a rate limit or the reputation's daily limit so far.
    throttled: u64,
    /// The greylisting reply as written, with `{seconds}` to fill in; `None` for the default.
    greylist_reply: Option<String>,
    end_of_data: E,
}

impl<E> std::fmt::Debug for MxBehaviour<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MxBehaviour")
            .field("now", &self.now)
            .field("outage", &self.outage)
            .finish_non_exhaustive()
    }
}

impl<E: EndOfData> MxBehaviour<E> {
    /// The behaviour `config` describes. `seed` decides which addresses are unknown or full
    /// (stable across runs with the same seed); `rng` draws temporary failures.
    pub fn new(config: Behaviour, seed: u64, rng: SimRng, end_of_data: E) -> MxBehaviour<E> {
        let greylist = config
            .greylisting
            .as_ref()
            .map(|g| Greylist::new(g.delay.0, g.window.0, g.whitelist_after));
        let limits = &config.rate_limits;
        let reply_of = |bucket: &Option<scenario::TokenBucket>, default: Reply| {
            bucket
                .as_ref()
                .and_then(|b| b.reply.as_deref())
                .and_then(|text| crate::reply_text::parse(text).ok())
                .unwrap_or(default)
        };
        let connection_reply = reply_of(
            &limits.connections,
            refusal(
                421,
                (4, 7, 0),
                "Too many connections from your address, try again later",
            ),
        );
        let message_reply = reply_of(
            &limits.messages,
            refusal(
                451,
                (4, 7, 28),
                "Your address has sent too many messages, slow down",
            ),
        );
        let recipient_reply = reply_of(
            &limits.recipients,
            refusal(
                450,
                (4, 2, 1),
                "The user you are trying to contact is receiving mail at a rate that prevents \
                 additional messages from being delivered",
            ),
        );
        let greylist_reply = config.greylisting.as_ref().and_then(|g| g.reply.clone());
        let reputation = config.reputation.as_ref().map(Reputation::new);
        let reputation_reply = config
            .reputation
            .as_ref()
            .and_then(|r| r.reply.as_deref())
            .and_then(|text| crate::reply_text::parse(text).ok())
            .unwrap_or(refusal(
                451,
                (4, 7, 0),
                "Daily limit for your address reached, try again later",
            ));
        MxBehaviour {
            reputation,
            reputation_reply,
            throttled: 0,
            greylist_reply,
            config,
            seeded: {
                let mut hasher = StableHasher::new();
                hasher.write_u64(seed);
                hasher
            },
            rng,
            now: SimTime::ZERO,
            outage: None,
            greylist,
            connection_buckets: HashMap::default(),
            message_buckets: HashMap::default(),
            recipient_buckets: HashMap::default(),
            connection_reply,
            message_reply,
            recipient_reply,
            end_of_data,
        }
    }

    /// Starts a connection at `now` to a host that is in `outage` (or up, if `None`).
    pub fn begin(&mut self, now: SimTime, outage: Option<OutageMode>) {
        self.now = now;
        self.outage = outage;
    }

    /// The configuration.
    pub fn config(&self) -> &Behaviour {
        &self.config
    }

    /// How many times so far a rate limit or the reputation's daily limit refused a
    /// connection or a message.
    pub fn throttled(&self) -> u64 {
        self.throttled
    }

    /// The refusal of a triplet that must wait `remaining` more.
    fn greylisted(&self, remaining: smtpsim_des::SimDuration) -> Decision {
        let seconds = remaining.as_micros().div_ceil(1_000_000);
        let written = self.greylist_reply.as_deref().and_then(|text| {
            let text = text.replace("{seconds}", &seconds.to_string());
            crate::reply_text::parse(&text).ok()
        });
        match written {
            Some(reply) => Decision::Refuse(reply),
            None => Decision::refuse(
                451,
                (4, 7, 1),
                format!("Greylisted, please try again in {seconds} seconds"),
            ),
        }
    }

    /// The message rate limit, then the reputation's daily limit, for a MAIL from `from`.
    fn message_limits(&mut self, session: &SessionInfo, from: &ReversePath<'_>) -> Decision {
        let config = self.config.rate_limits.messages.as_ref();
        let Some(ip) = session.client_ip else {
            return Decision::Accept;
        };
        if config.is_none() && self.reputation.is_none() {
            return Decision::Accept;
        }
        let mut scratch = String::new();
        let domain = sender_domain(from, &mut scratch);
        let client = message_key(self.config.count_by, ip, domain);
        if !bucket_allows(&mut self.message_buckets, config, Some(client), self.now) {
            self.throttled += 1;
            return Decision::Refuse(self.message_reply.clone());
        }
        if let Some(reputation) = &mut self.reputation
            && !reputation.take(self.now, client)
        {
            self.throttled += 1;
            return Decision::Refuse(self.reputation_reply.clone());
        }
        Decision::Accept
    }

    /// The end-of-data check.
    pub fn end_of_data_mut(&mut self) -> &mut E {
        &mut self.end_of_data
    }

    /// The mailbox's own number, from which its draws derive.
    fn mailbox_hash(&self, mailbox: Mailbox<'_>) -> u64 {
        let mut hasher = self.seeded;
        mailbox.hash_into(&mut hasher);
        hasher.finish()
    }

    /// Whether the mailbox `address` exists (decided once per address and seed).
    pub fn user_exists(&self, address: &str) -> bool {
        self.exists(self.mailbox_hash(Mailbox::split(address)))
    }

    /// Whether the mailbox `address` is full (decided once per address and seed).
    pub fn mailbox_full(&self, address: &str) -> bool {
        self.full(self.mailbox_hash(Mailbox::split(address)))
    }

    /// The checks of the mailbox itself, in order: unknown user, full mailbox, the recipient
    /// rate limit; the refusal of the first that fails. All three derive from the mailbox's
    /// number, a hash over the whole address: it is worked out once, and only when one of
    /// them is configured (most domains configure none, and the hash is most of the cost of
    /// a RCPT).
    fn mailbox_checks(&mut self, mailbox: Mailbox<'_>) -> Option<Decision> {
        let config = &self.config;
        if config.unknown_users.0 == 0.0
            && config.full_mailboxes.is_none()
            && config.rate_limits.recipients.is_none()
        {
            // `exists` and `full` answer so without the number, and no bucket is kept.
            return None;
        }
        let number = self.mailbox_hash(mailbox);
        if !self.exists(number) {
            return Some(Decision::Refuse(UNKNOWN_USER));
        }
        if self.full(number) {
            let permanent = self
                .config
                .full_mailboxes
                .as_ref()
                .is_some_and(|f| f.permanent);
            return Some(Decision::Refuse(if permanent {
                MAILBOX_FULL
            } else {
                MAILBOX_FULL_LATER
            }));
        }
        if let Some(config) = &self.config.rate_limits.recipients {
            let bucket = self.recipient_buckets.entry(number).or_insert_with(|| {
                TokenBucket::new(config.rate.per_second, config.burst, self.now)
            });
            if !bucket.take(self.now) {
                self.throttled += 1;
                return Some(Decision::Refuse(self.recipient_reply.clone()));
            }
        }
        None
    }

    fn exists(&self, mailbox: u64) -> bool {
        let unknown = self.config.unknown_users.0;
        unknown == 0.0 || draw(mailbox, UNKNOWN_DRAW) >= unknown
    }

    fn full(&self, mailbox: u64) -> bool {
        self.config
            .full_mailboxes
            .as_ref()
            .is_some_and(|f| draw(mailbox, FULL_DRAW) < f.fraction.0)
    }
}

const fn refusal(code: u16, (class, subject, detail): (u8, u16, u16), text: &'static str) -> Reply {
    Reply::new_static(code, Some(EnhancedCode::new(class, subject, detail)), text)
}

/// The replies the behaviours give, allocated once.
const OUTAGE: Reply = refusal(
    421,
    (4, 3, 2),
    "System not accepting network messages, try again later",
);
const TLS_REQUIRED: Reply = refusal(530, (5, 7, 0), "Must issue a STARTTLS command first");
const TOO_BIG: Reply = refusal(552, (5, 3, 4), "Message size exceeds fixed limit");
/// The reply to a recipient that does not exist: `550 5.1.1`.
pub const UNKNOWN_USER: Reply = refusal(
    550,
    (5, 1, 1),
    "The email account that you tried to reach does not exist",
);
const MAILBOX_FULL: Reply = refusal(552, (5, 2, 2), "Mailbox full");
const MAILBOX_FULL_LATER: Reply = refusal(452, (4, 2, 2), "Mailbox full, try again later");
const TEMPORARY: Reply = refusal(451, (4, 3, 0), "Temporary local problem, try again later");

fn bucket_allows(
    buckets: &mut HashMap<CountKey, TokenBucket>,
    config: Option<&scenario::TokenBucket>,
    client: Option<CountKey>,
    now: SimTime,
) -> bool {
    let (Some(config), Some(client)) = (config, client) else {
        return true;
    };
    buckets
        .entry(client)
        .or_insert_with(|| TokenBucket::new(config.rate.per_second, config.burst, now))
        .take(now)
}

/// Tells apart the draws made from one mailbox's number.
const UNKNOWN_DRAW: u64 = 0x756e_6b6e_6f77_6e00;
const FULL_DRAW: u64 = 0x0066_756c_6c00_0000;

/// An independent number in `[0, 1)` for each `purpose` of a mailbox.
fn draw(mailbox: u64, purpose: u64) -> f64 {
    to_unit(smtpsim_des::rng::splitmix64(mailbox ^ purpose))
}

/// A recipient address as its two halves, without allocating for the usual domain case.
#[derive(Debug, Clone, Copy)]
pub struct Mailbox<'a> {
    /// The local part as written.
    pub local: &'a str,
    /// The domain (empty for `Postmaster`).
    pub domain: &'a str,
}

impl<'a> Mailbox<'a> {
    /// Splits `local@domain` at the last `@`.
    pub fn split(address: &'a str) -> Mailbox<'a> {
        let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
        Mailbox { local, domain }
    }

    /// Adds the address, without case, to a hash.
    pub fn hash_into(self, hasher: &mut StableHasher) {
        hasher.write_lowercase(self.local.as_bytes());
        hasher.write_lowercase(self.domain.as_bytes());
    }
}

/// The domain of a reverse-path (empty for `<>`); an address literal is written out into
/// `scratch`.
fn sender_domain<'a>(path: &'a ReversePath<'_>, scratch: &'a mut String) -> &'a str {
    match path {
        ReversePath::Null => "",
        ReversePath::Mailbox(a) => match a.domain {
            Host::Domain(domain) => domain,
            other => {
                *scratch = other.to_string();
                scratch
            }
        },
    }
}

/// The recipient's halves; an address-literal domain is written out into `scratch`.
fn mailbox_of<'a>(path: &'a ForwardPath<'_>, scratch: &'a mut String) -> Mailbox<'a> {
    match path {
        ForwardPath::Postmaster => Mailbox {
            local: "Postmaster",
            domain: "",
        },
        ForwardPath::Mailbox(a) => match a.domain {
            Host::Domain(domain) => Mailbox {
                local: a.local_part,
                domain,
            },
            other => {
                *scratch = other.to_string();
                Mailbox {
                    local: a.local_part,
                    domain: scratch,
                }
            }
        },
    }
}

impl<E: EndOfData> Policy for MxBehaviour<E> {
    fn connect(&mut self, session: &SessionInfo) -> Decision {
        if self.outage == Some(OutageMode::Reply421) {
            return Decision::Disconnect(OUTAGE);
        }
        let config = self.config.rate_limits.connections.as_ref();
        let by = self.config.count_by;
        // The key is worked out only when there is a limit to count against.
        let client = config
            .and(session.client_ip)
            .map(|ip| connection_key(by, ip));
        if !bucket_allows(&mut self.connection_buckets, config, client, self.now) {
            self.throttled += 1;
            return Decision::Disconnect(self.connection_reply.clone());
        }
        Decision::Accept
    }

    fn mail(
        &mut self,
        session: &SessionInfo,
        from: &ReversePath<'_>,
        params: &MailParams<'_>,
    ) -> Decision {
        if self.config.require_tls && !session.tls {
            return Decision::Refuse(TLS_REQUIRED);
        }
        if let (Some(limit), Some(size)) = (self.config.size_limit, params.size)
            && size > limit.0
        {
            return Decision::Refuse(TOO_BIG);
        }
        self.message_limits(session, from)
    }

    fn rcpt(
        &mut self,
        session: &SessionInfo,
        envelope: &Envelope,
        to: &ForwardPath<'_>,
        _: &RcptParams<'_>,
    ) -> Decision {
        let mut scratch = String::new();
        let mailbox = mailbox_of(to, &mut scratch);
        if let Some(refusal) = self.mailbox_checks(mailbox) {
            return refusal;
        }
        let by = self.config.count_by;
        if let (Some(greylist), Some(ip)) = (self.greylist.as_mut(), session.client_ip) {
            let client = message_key(by, ip, key::domain_of(&envelope.from));
            if let GreyVerdict::Defer { remaining } =
                greylist.check(self.now, client, &envelope.from, mailbox)
            {
                return self.greylisted(remaining);
            }
        }
        if self.config.temp_failures.0 > 0.0
            && self.rng.random::<f64>() < self.config.temp_failures.0
        {
            return Decision::Refuse(TEMPORARY);
        }
        Decision::Accept
    }

    fn message(&mut self, session: &SessionInfo, envelope: &Envelope, content: &[u8]) -> Decision {
        self.end_of_data.message(session, envelope, content)
    }
}
