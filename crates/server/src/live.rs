//! The part of a server's behaviour that can change while it runs: the MX behaviour
//! (greylisting, rates, unknown users, ...), the unknown addresses, chaos, latency and the
//! reply rules.
//!
//! The current [`Settings`] sit behind a lock with a generation number; each connection's
//! policy keeps its own copy and, before each decision, compares the generation (one atomic
//! load) and takes the new settings when they changed. A change is one swap: a connection
//! sees the old settings or the new ones, never a mix.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use smtpsim_des::RandomStreams;
use smtpsim_model::scenario::{Behaviour, Dist, Duration as ScenarioDuration};

use crate::config::Chaos;
use crate::policy::Shards;
use crate::rules::RuleSet;

/// What decides the replies, as one value that is swapped whole.
#[derive(Debug)]
pub(crate) struct Settings {
    /// The MX behaviour as configured.
    pub(crate) behaviour: Behaviour,
    /// Its memory, one behaviour per group of client addresses; `None` when the behaviour
    /// accepts everything and there are no outages (a sink asks nothing).
    pub(crate) shards: Option<Shards>,
    /// Addresses that do not exist (lower case).
    pub(crate) unknown: BTreeSet<String>,
    /// Failures at random.
    pub(crate) chaos: Chaos,
    /// Time the server takes to answer, drawn for each batch of replies.
    pub(crate) latency: Dist<ScenarioDuration>,
    /// The reply rules (their counts start afresh with each change).
    pub(crate) rules: Arc<RuleSet>,
}

/// What a user gives of the behaviour that can change while the server runs (at start-up,
/// or through the HTTP API).
#[derive(Debug, Clone)]
pub struct BehaviourSettings {
    /// The MX behaviour.
    pub behaviour: Behaviour,
    /// Addresses that do not exist (550 5.1.1).
    pub unknown: Vec<String>,
    /// Failures at random.
    pub chaos: Chaos,
    /// The reply rules.
    pub rules: Arc<RuleSet>,
}

impl Settings {
    /// Settings with fresh memory (no greylist entries, full rate-limit buckets).
    pub(crate) fn new(
        given: &BehaviourSettings,
        outages: bool,
        seed: u64,
        streams: &RandomStreams,
    ) -> Settings {
        let needed = !accepts_everything(&given.behaviour) || outages;
        Settings {
            shards: needed.then(|| Shards::new(&given.behaviour, seed, streams)),
            latency: given.behaviour.latency.clone(),
            behaviour: given.behaviour.clone(),
            unknown: given.unknown.iter().map(|a| a.to_lowercase()).collect(),
            chaos: given.chaos,
            rules: given.rules.clone(),
        }
    }

    /// What was given, for reading back.
    pub(crate) fn given(&self) -> BehaviourSettings {
        BehaviourSettings {
            behaviour: self.behaviour.clone(),
            unknown: self.unknown.iter().cloned().collect(),
            chaos: self.chaos,
            rules: self.rules.clone(),
        }
    }
}

/// Whether `behaviour` never refuses anything (its MX behaviour need not be asked).
fn accepts_everything(b: &Behaviour) -> bool {
    !b.require_tls
        && b.size_limit.is_none()
        && b.unknown_users.0 == 0.0
        && b.full_mailboxes.is_none()
        && b.temp_failures.0 == 0.0
        && b.greylisting.is_none()
        && b.rate_limits.connections.is_none()
        && b.rate_limits.messages.is_none()
}

/// The current settings and their generation.
#[derive(Debug)]
pub(crate) struct Live {
    current: Mutex<Arc<Settings>>,
    generation: AtomicU64,
}

impl Live {
    pub(crate) fn new(settings: Settings) -> Live {
        Live {
            current: Mutex::new(Arc::new(settings)),
            generation: AtomicU64::new(0),
        }
    }

    /// The generation of the current settings (it grows with each change).
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The current settings and their generation.
    pub(crate) fn current(&self) -> (Arc<Settings>, u64) {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        (current.clone(), self.generation.load(Ordering::Acquire))
    }

    /// Puts `settings` in force for the decisions that follow.
    pub(crate) fn replace(&self, settings: Settings) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        *current = Arc::new(settings);
        self.generation.fetch_add(1, Ordering::Release);
    }
}
