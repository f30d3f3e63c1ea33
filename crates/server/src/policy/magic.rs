//! Magic addresses in a connection's policy: a malformed one gets `501`; the sender's acts
//! at MAIL and on each recipient, a recipient's at RCPT and, once accepted, on the content.

use std::net::IpAddr;

use smtpsim_model::behaviour::{CountKey, GreyVerdict, Greylist, Mailbox};
use smtpsim_proto::server::{Decision, SessionInfo};

use super::{CHAOS_REPLY, ServePolicy};
use crate::magic::{Magic, Stage};

/// The reason of the decisions that magic addresses take.
pub(super) const MAGIC: &str = "magic address";

impl ServePolicy {
    /// Reads `address` when magic addresses are on: `Err` is the 501 of a malformed one.
    fn read_magic(&self, address: &str) -> Result<Option<Magic>, Decision> {
        if !self.shared.magic {
            return Ok(None);
        }
        match Magic::of_address(address) {
            None => Ok(None),
            Some(Ok(magic)) => Ok(Some(magic)),
            Some(Err(why)) => Err(Decision::refuse(501, (5, 5, 4), why)),
        }
    }

    /// What the magic addresses in `asking` decide at `stage`: the first reply, drop or
    /// greylisting among them, if any; every delay among them is added to the next replies.
    /// `triplet` is the client, sender and recipient that a greylist checks.
    pub(super) fn magic_at(
        &mut self,
        stage: Stage,
        asking: &[(Magic, String)],
        triplet: Option<(IpAddr, &str, &str)>,
    ) -> Option<Decision> {
        let mut decision = None;
        for (magic, address) in asking.iter().filter(|(m, _)| m.stage() == stage) {
            if let Magic::Delay(_, d) = magic {
                self.magic_delay = self.magic_delay.max(*d);
                continue;
            }
            if decision.is_some() {
                continue;
            }
            decision = match magic {
                Magic::Reply { code: 421, .. } => magic.reply(address).map(Decision::Disconnect),
                Magic::Reply { .. } => magic.reply(address).map(Decision::Refuse),
                Magic::Drop(_) => {
                    self.dropped = Some("magic address: hung up without a reply");
                    Some(Decision::Disconnect(CHAOS_REPLY))
                }
                Magic::Greylist(delay) => {
                    triplet.and_then(|t| self.magic_greylist(*delay, t, address))
                }
                Magic::Delay(..) => None,
            };
        }
        decision
    }

    /// The greylist of `delay` for `(client, sender, recipient)`: `451 4.7.1` until it passes.
    fn magic_greylist(
        &self,
        delay: std::time::Duration,
        (client, from, to): (IpAddr, &str, &str),
        address: &str,
    ) -> Option<Decision> {
        let now = self.shared.now();
        let mut lists = self
            .shared
            .magic_greylists
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let list = lists.entry(delay.as_secs()).or_insert_with(|| {
            Greylist::new(
                smtpsim_des::SimDuration::from_secs(delay.as_secs()),
                smtpsim_des::SimDuration::from_secs(4 * 3600),
                0,
            )
        });
        let client = CountKey::Ip(client.to_canonical());
        match list.check(now, client, from, Mailbox::split(to)) {
            GreyVerdict::Pass => None,
            GreyVerdict::Defer { remaining } => Some(Decision::refuse(
                451,
                (4, 7, 1),
                format!(
                    "Greylisted as the magic address {address} asks, please try again in {} seconds",
                    remaining.as_micros().div_ceil(1_000_000)
                ),
            )),
        }
    }

    /// MAIL with magic addresses on: a malformed sender gets 501; the sender's magic acts now
    /// and is kept for the recipients and the content.
    pub(super) fn magic_mail(&mut self, from: &str) -> Option<Decision> {
        self.magic.clear();
        self.sender_magic = None;
        let magic = match self.read_magic(from) {
            Err(refusal) => return Some(refusal),
            Ok(magic) => magic?,
        };
        let asking = [(magic, from.to_string())];
        let decision = self.magic_at(Stage::Mail, &asking, None);
        let [entry] = asking;
        self.magic.push(entry.clone());
        self.sender_magic = Some(entry);
        decision
    }

    /// RCPT with magic addresses on: the recipient's magic, then the sender's, act now; an
    /// accepted recipient's magic is kept for the content (see [`ServePolicy::magic_accepted`]).
    pub(super) fn magic_rcpt(
        &mut self,
        session: &SessionInfo,
        from: &str,
        to: &str,
    ) -> (Option<Decision>, Option<(Magic, String)>) {
        let own = match self.read_magic(to) {
            Err(refusal) => return (Some(refusal), None),
            Ok(own) => own.map(|m| (m, to.to_string())),
        };
        if let Some((
            Magic::Reply {
                stage: Stage::Mail, ..
            }
            | Magic::Drop(Stage::Mail)
            | Magic::Delay(Stage::Mail, _),
            _,
        )) = &own
        {
            let why = format!("magic address {to:?}: it acts at MAIL, use it as the sender");
            return (Some(Decision::refuse(501, (5, 5, 4), why)), None);
        }
        let asking: Vec<_> = own
            .iter()
            .chain(self.sender_magic.iter())
            .cloned()
            .collect();
        let triplet = session.client_ip.map(|ip| (ip, from, to));
        (self.magic_at(Stage::Rcpt, &asking, triplet), own)
    }

    /// Keeps an accepted recipient's magic for the content.
    pub(super) fn magic_accepted(&mut self, own: Option<(Magic, String)>) {
        self.magic
            .extend(own.filter(|(m, _)| m.stage() == Stage::Data));
    }
}
