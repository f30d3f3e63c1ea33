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
//! | connect | connection rate per client address | 421 4.7.0 (or the configured reply) |
//! | MAIL | TLS required, no TLS | 530 5.7.0 |
//! | MAIL | declared SIZE above the limit | 552 5.3.4 |
//! | MAIL | message rate per client address | 451 4.7.28 (or the configured reply) |
//! | RCPT | unknown user | 550 5.1.1 |
//! | RCPT | full mailbox | 452 4.2.2, or 552 5.2.2 if permanent |
//! | RCPT | greylisting | 451 4.7.1 |
//! | RCPT | random temporary failure | 451 4.3.0 |
//! | end of data | DMARC policy reject | 550 5.7.1 |

mod bucket;
mod greylist;

use std::net::IpAddr;

use rand::Rng;
use rustc_hash::FxHashMap as HashMap;
use smtpsim_des::{SimRng, SimTime};
use smtpsim_proto::command::{ForwardPath, Host, MailParams, RcptParams, ReversePath};
use smtpsim_proto::server::{Decision, Envelope, Policy, SessionInfo};
use smtpsim_proto::{EnhancedCode, Reply};

pub use bucket::TokenBucket;
pub use greylist::{GreyVerdict, Greylist};

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
/// client address, so a driver may keep one behaviour per group of client addresses and
/// answer each client as a single behaviour would; only the draws of temporary failures come
/// from each behaviour's own stream.
#[derive(Clone)]
pub struct MxBehaviour<E = NoChecks> {
    config: Behaviour,
    /// Per-address decisions (unknown users, full mailboxes) derive from this seed.
    seed: u64,
    rng: SimRng,
    now: SimTime,
    /// Set by [`MxBehaviour::begin`] for the host being talked to.
    outage: Option<OutageMode>,
    greylist: Option<Greylist>,
    connection_buckets: HashMap<IpAddr, TokenBucket>,
    message_buckets: HashMap<IpAddr, TokenBucket>,
    connection_reply: Reply,
    message_reply: Reply,
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
        MxBehaviour {
            config,
            seed,
            rng,
            now: SimTime::ZERO,
            outage: None,
            greylist,
            connection_buckets: HashMap::default(),
            message_buckets: HashMap::default(),
            connection_reply,
            message_reply,
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

    /// The end-of-data check.
    pub fn end_of_data_mut(&mut self) -> &mut E {
        &mut self.end_of_data
    }

    /// The mailbox's own number, from which its draws derive.
    fn mailbox_hash(&self, mailbox: Mailbox<'_>) -> u64 {
        let mut hasher = StableHasher::new();
        hasher.write_u64(self.seed);
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
    buckets: &mut HashMap<IpAddr, TokenBucket>,
    config: Option<&scenario::TokenBucket>,
    client: Option<IpAddr>,
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
        if !bucket_allows(
            &mut self.connection_buckets,
            config,
            session.client_ip,
            self.now,
        ) {
            return Decision::Disconnect(self.connection_reply.clone());
        }
        Decision::Accept
    }

    fn mail(
        &mut self,
        session: &SessionInfo,
        _: &ReversePath<'_>,
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
        let config = self.config.rate_limits.messages.as_ref();
        if !bucket_allows(
            &mut self.message_buckets,
            config,
            session.client_ip,
            self.now,
        ) {
            return Decision::Refuse(self.message_reply.clone());
        }
        Decision::Accept
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
        let number = self.mailbox_hash(mailbox);
        if !self.exists(number) {
            return Decision::Refuse(UNKNOWN_USER);
        }
        if self.full(number) {
            let permanent = self
                .config
                .full_mailboxes
                .as_ref()
                .is_some_and(|f| f.permanent);
            return if permanent {
                Decision::Refuse(MAILBOX_FULL)
            } else {
                Decision::Refuse(MAILBOX_FULL_LATER)
            };
        }
        if let (Some(greylist), Some(client)) = (self.greylist.as_mut(), session.client_ip)
            && let GreyVerdict::Defer { remaining } =
                greylist.check(self.now, client, &envelope.from, mailbox)
        {
            return Decision::refuse(
                451,
                (4, 7, 1),
                format!(
                    "Greylisted, please try again in {} seconds",
                    remaining.as_micros().div_ceil(1_000_000)
                ),
            );
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
