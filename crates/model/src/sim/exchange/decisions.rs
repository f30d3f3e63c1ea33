//! The exchange without the text: the client's steps in the client's order (greeting, EHLO,
//! STARTTLS, MAIL, RCPT, DATA, content, RSET or QUIT, pipelined as the client pipelines),
//! each answered as the server session answers it, from the protocol core's transaction
//! decisions and the same policy.

use smtpsim_proto::Reply;
use smtpsim_proto::client::{Capabilities, RecipientOutcome, Stage};
use smtpsim_proto::command::{ForwardPath, Host, RcptParams, ReversePath};
use smtpsim_proto::server::transaction::{self, Answer, Settled};
use smtpsim_proto::server::{Decision, Envelope, Policy, ServerConfig, SessionInfo, replies};

use super::compare::Step;
use super::{At, Attempt, Exchanged, FactsRef, Resumed, Trips, reusable, split};
use crate::behaviour::MxBehaviour;
use crate::sim::placement::AuthCheck;

/// A policy that can judge a message from the facts its content shows, without the content.
pub(crate) trait FactsPolicy: Policy {
    /// The end-of-data decision, as [`Policy::message`] would give it for content showing
    /// `facts`.
    fn message_facts(
        &mut self,
        session: &SessionInfo,
        envelope: &Envelope,
        facts: &FactsRef<'_>,
    ) -> Decision;
}

impl FactsPolicy for &mut MxBehaviour<AuthCheck> {
    fn message_facts(
        &mut self,
        session: &SessionInfo,
        envelope: &Envelope,
        facts: &FactsRef<'_>,
    ) -> Decision {
        self.end_of_data_mut().check(session, envelope, facts)
    }
}

/// Buffers the fast path reuses from one attempt to the next, so that an attempt allocates
/// little more than its result.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    info: SessionInfo,
    envelope: Envelope,
    /// Recipient strings kept for reuse.
    spare: Vec<String>,
    /// Per recipient: accepted at RCPT.
    accepted: Vec<bool>,
    /// Per recipient: a verdict was given.
    decided: Vec<bool>,
    /// Lists of verdicts handed back once read ([`Scratch::recycle`]), for the next attempts.
    outcomes: Vec<Vec<RecipientOutcome>>,
    /// Keep the steps of the conversation in `steps` (to compare them with a transcript).
    pub record: bool,
    /// The commands and replies of the last exchange, when `record` is set.
    pub steps: Vec<Step>,
}

impl Scratch {
    /// The most lists of verdicts kept for reuse (one is taken as an attempt starts and given
    /// back as it ends).
    const SPARE_OUTCOMES: usize = 64;

    /// Takes back the verdicts of an exchange once they are read, so that a later attempt
    /// fills the same list instead of allocating one.
    pub(crate) fn recycle(&mut self, mut outcomes: Vec<RecipientOutcome>) {
        if self.outcomes.len() < Self::SPARE_OUTCOMES {
            outcomes.clear();
            self.outcomes.push(outcomes);
        }
    }
}

/// Runs the exchange as decisions only, against a server configured as `config`.
pub(crate) fn decisions<P: FactsPolicy>(
    attempt: &Attempt<'_>,
    config: &ServerConfig,
    policy: P,
    scratch: &mut Scratch,
) -> Exchanged {
    debug_assert_eq!(
        super::super::content::facts_ref(&attempt.content.build()),
        attempt.facts,
        "the facts handed over are the content's"
    );
    let n = attempt.recipients.len();
    let Scratch {
        info,
        envelope,
        spare,
        accepted,
        decided,
        outcomes,
        record,
        steps,
    } = scratch;
    // The HELO name's string is kept from one attempt to the next.
    let mut helo_name = info.helo.take().unwrap_or_default();
    helo_name.clear();
    *info = SessionInfo {
        client_ip: Some(attempt.client_ip),
        messages: attempt.resumed.map_or(0, |open| open.messages),
        ..SessionInfo::default()
    };
    let mut helo_spare = None;
    if let Some(open) = attempt.resumed {
        // Greeted, and EHLO said, with an earlier message.
        helo_name.push_str(attempt.helo);
        info.helo = Some(helo_name);
        info.esmtp = true;
        info.tls = open.tls;
    } else {
        helo_spare = Some(helo_name);
    }
    spare.append(&mut envelope.recipients);
    accepted.clear();
    accepted.resize(n, false);
    decided.clear();
    decided.resize(n, false);
    steps.clear();
    let placeholder =
        RecipientOutcome::deferred(Stage::Quit, "the session ended without a verdict");
    let mut verdicts = outcomes.pop().unwrap_or_default();
    verdicts.resize(n, placeholder);
    let talk = Talk {
        attempt,
        config,
        policy,
        info,
        envelope,
        spare,
        helo_spare,
        before_tls: None,
        accepted,
        decided,
        steps,
        outcomes: verdicts,
        ehlo: attempt.resumed.map(|open| open.tls),
        open: false,
        rcpt_attempts: 0,
        bad_commands: 0,
        closed: false,
        in_transaction: false,
        finished: false,
        trips: Trips::default(),
    };
    // Recording is decided at compile time, so that the fast path pays nothing for it.
    if *record {
        talk.run::<true>()
    } else {
        talk.run::<false>()
    }
}

/// One conversation: the client's side (what it sends, what it makes of each reply) and the
/// server's (its answers).
struct Talk<'s, 'a, P> {
    attempt: &'s Attempt<'a>,
    config: &'s ServerConfig,
    policy: P,
    info: &'s mut SessionInfo,
    /// The server's transaction, when `open`.
    envelope: &'s mut Envelope,
    spare: &'s mut Vec<String>,
    /// The string the HELO name goes in.
    helo_spare: Option<String>,
    /// The HELO name said before STARTTLS, which the reset forgot: the EHLO after it says the
    /// same name, so this string is put back as it is rather than written again.
    before_tls: Option<String>,
    accepted: &'s mut Vec<bool>,
    decided: &'s mut Vec<bool>,
    /// Where the steps go, when recorded.
    steps: &'s mut Vec<Step>,
    outcomes: Vec<RecipientOutcome>,
    /// EHLO was answered on a connection whose TLS state is this: the server offered what
    /// [`Capabilities::offered_by`] says (`None`: nothing, as after HELO).
    ehlo: Option<bool>,
    /// The server has a transaction open (MAIL accepted).
    open: bool,
    rcpt_attempts: usize,
    bad_commands: u32,
    /// The server closed the connection.
    closed: bool,
    /// The client's view: MAIL was accepted and the content not yet answered.
    in_transaction: bool,
    /// The client is done.
    finished: bool,
    trips: Trips,
}

impl<P: FactsPolicy> Talk<'_, '_, P> {
    /// The client's story: connect, EHLO, STARTTLS, the transaction, and the end; with
    /// `RECORD`, the commands and replies in `steps`.
    fn run<const RECORD: bool>(mut self) -> Exchanged {
        self.converse::<RECORD>();
        self.finish()
    }

    fn converse<const RECORD: bool>(&mut self) {
        if self.attempt.resumed.is_none() {
            if !self.greeting::<RECORD>() || !self.hello::<RECORD>(true) {
                return;
            }
            let tls = self.info.tls;
            if self.attempt.starttls
                && !tls
                && self.capabilities().starttls
                && !self.starttls::<RECORD>()
            {
                return;
            }
        }
        self.transaction::<RECORD>();
    }

    fn finish(mut self) -> Exchanged {
        // Anything still undecided ends without a verdict, as the client session ends it.
        self.finished = true;
        let recipients = std::mem::take(&mut self.outcomes);
        Exchanged {
            reusable: !self.closed && reusable(&recipients),
            state: Resumed {
                tls: self.info.tls,
                messages: self.info.messages,
            },
            trips: self.trips,
            transcript: Vec::new(),
            recipients,
        }
    }

    /// What the server offered, as the client read it.
    #[inline(always)]
    fn capabilities(&self) -> Capabilities {
        match self.ehlo {
            Some(tls) => Capabilities::offered_by(self.config, tls),
            None => Capabilities::default(),
        }
    }

    // --- what is said ---------------------------------------------------------------------

    /// The client writes a batch of commands: a round trip if the server will answer it.
    #[inline(always)]
    fn batch(&mut self) -> u32 {
        if self.closed {
            self.trips.count
        } else {
            self.trips.next()
        }
    }

    #[inline(always)]
    fn command<const RECORD: bool>(&mut self, trip: u32, at: At, verb: &'static str) {
        if RECORD {
            self.steps.push(Step::Command(trip, at, verb.to_string()));
        }
    }

    #[inline(always)]
    fn reply<const RECORD: bool>(&mut self, trip: u32, reply: &Reply) {
        if RECORD {
            self.steps
                .push(Step::Reply(trip, At::End, reply.code.get()));
        }
    }

    /// The server's reply for a settled answer (`usual` when the policy just accepted);
    /// notes whether the server closes.
    #[inline(always)]
    fn settle(&mut self, answer: Answer, usual: Reply) -> (Reply, bool) {
        let Settled {
            reply,
            accepted,
            closes,
        } = answer.settle(&mut self.bad_commands, &self.config.limits);
        self.closed |= closes;
        (reply.unwrap_or(usual), accepted)
    }

    // --- the client's verdicts ------------------------------------------------------------

    #[inline(always)]
    fn decide(&mut self, i: usize, stage: Stage, reply: &Reply) {
        if !self.decided[i] {
            self.decided[i] = true;
            self.outcomes[i] = RecipientOutcome::from_reply(stage, reply);
        }
    }

    /// Gives every recipient still without a verdict this one.
    #[inline(always)]
    fn decide_all(&mut self, stage: Stage, reply: &Reply) {
        for i in 0..self.outcomes.len() {
            self.decide(i, stage, reply);
        }
    }

    /// Gives the recipients accepted at RCPT and still waiting this verdict.
    #[inline(always)]
    fn decide_accepted(&mut self, stage: Stage, reply: &Reply) {
        for i in 0..self.outcomes.len() {
            if self.accepted[i] {
                self.decide(i, stage, reply);
            }
        }
    }

    /// The server closed without a 421 the client could act on: every recipient still
    /// without a verdict is deferred, as the client session does when the connection is lost.
    fn connection_lost(&mut self, stage: Stage) {
        for i in 0..self.outcomes.len() {
            if !self.decided[i] {
                self.decided[i] = true;
                self.outcomes[i] = RecipientOutcome::deferred(stage, "connection lost");
            }
        }
        self.finished = true;
    }

    /// The reply `reply` came to a step at `stage`. A 421 ends the attempt with it; returns
    /// whether the client goes on reading (false once it is finished).
    #[inline(always)]
    fn closing(&mut self, stage: Stage, reply: &Reply) -> bool {
        if transaction::closes(reply) {
            self.decide_all(stage, reply);
            self.finished = true;
            return true;
        }
        false
    }

    // --- the steps ------------------------------------------------------------------------

    /// The connection and the greeting; returns whether the client goes on.
    fn greeting<const RECORD: bool>(&mut self) -> bool {
        let trip = self.batch();
        let reply = match self.policy.connect(self.info) {
            Decision::Accept => Reply::new_static(220, None, ""),
            Decision::AcceptWith(reply) => reply,
            Decision::Refuse(reply) => {
                self.closed |= transaction::closes(&reply);
                reply
            }
            Decision::Disconnect(reply) => {
                self.closed = true;
                reply
            }
        };
        self.reply::<RECORD>(trip, &reply);
        if self.closing(Stage::Greeting, &reply) {
            return false;
        }
        if reply.code.is_positive() {
            return true;
        }
        self.decide_all(Stage::Greeting, &reply);
        self.quit::<RECORD>();
        false
    }

    /// EHLO (or HELO after a permanent refusal of EHLO); returns whether the client goes on.
    #[inline]
    fn hello<const RECORD: bool>(&mut self, esmtp: bool) -> bool {
        let trip = self.batch();
        self.command::<RECORD>(trip, At::Start, if esmtp { "EHLO" } else { "HELO" });
        if self.closed {
            self.connection_lost(Stage::Hello);
            return false;
        }
        let decision = self
            .policy
            .helo(self.info, &Host::Domain(self.attempt.helo));
        let (reply, accepted) = self.settle(Answer::Policy(decision), replies::OK);
        if accepted {
            self.open = false;
            let name = match self.before_tls.take() {
                Some(name) => name,
                None => {
                    let mut name = self
                        .helo_spare
                        .take()
                        .or_else(|| self.info.helo.take())
                        .unwrap_or_default();
                    name.clear();
                    name.push_str(self.attempt.helo);
                    name
                }
            };
            self.info.helo = Some(name);
            self.info.esmtp = esmtp;
        }
        self.reply::<RECORD>(trip, &reply);
        if self.closing(Stage::Hello, &reply) {
            return false;
        }
        if reply.code.is_positive() {
            self.ehlo = esmtp.then_some(self.info.tls);
            return true;
        }
        if self.closed {
            self.decide_all(Stage::Hello, &reply);
            self.connection_lost(Stage::Hello);
            return false;
        }
        if esmtp && reply.code.is_permanent() {
            return self.hello::<RECORD>(false);
        }
        self.decide_all(Stage::Hello, &reply);
        self.quit::<RECORD>();
        false
    }

    /// STARTTLS, the handshake and EHLO again; returns whether the client goes on.
    fn starttls<const RECORD: bool>(&mut self) -> bool {
        let trip = self.batch();
        self.command::<RECORD>(trip, At::Start, "STARTTLS");
        // Offered, so accepted: the server answers 220 and waits for the handshake.
        self.reply::<RECORD>(trip, &replies::READY_TLS);
        self.trips.next();
        self.info.tls = true;
        self.before_tls = self.info.helo.take();
        self.info.esmtp = false;
        self.info.authenticated = None;
        self.open = false;
        self.hello::<RECORD>(true)
    }

    /// MAIL, RCPT, DATA and the content, pipelined as the client pipelines them.
    fn transaction<const RECORD: bool>(&mut self) {
        let capabilities = self.capabilities();
        let pipelined = self.attempt.pipelining && capabilities.pipelining;
        let utf8 = !transaction::is_ascii_text(self.attempt.from)
            || self
                .attempt
                .recipients
                .iter()
                .any(|r| !transaction::is_ascii_text(r));
        // The simulator's content is ASCII.
        let params = capabilities.mail_params(self.attempt.size, false, utf8);
        let trip = self.batch();
        self.command::<RECORD>(trip, At::Start, "MAIL");
        if pipelined {
            for _ in 0..self.attempt.recipients.len() {
                self.command::<RECORD>(trip, At::Start, "RCPT");
            }
            self.command::<RECORD>(trip, At::Start, "DATA");
        }
        let from = ReversePath::Mailbox(split(self.attempt.from));
        let open = self.open;
        let answer = transaction::mail(
            self.config,
            self.info,
            open,
            &from,
            &params,
            &mut self.policy,
        );
        let (reply, accepted) = self.settle(answer, replies::SENDER_OK);
        if accepted {
            self.open = true;
            self.rcpt_attempts = 0;
            self.envelope.from.clear();
            self.envelope.from.push_str(self.attempt.from);
            self.spare.append(&mut self.envelope.recipients);
            self.envelope.declared_size = params.size;
            self.envelope.eight_bit = transaction::eight_bit(&params);
            self.envelope.smtputf8 = params.smtputf8;
        }
        self.reply::<RECORD>(trip, &reply);
        if self.closing(Stage::Mail, &reply) {
            return;
        }
        if accepted {
            self.in_transaction = true;
        } else {
            self.decide_all(Stage::Mail, &reply);
            if !pipelined || self.closed {
                return self.after_closing_or_quit::<RECORD>(Stage::Mail);
            }
        }
        for i in 0..self.attempt.recipients.len() {
            let trip = if pipelined { trip } else { self.batch() };
            if !pipelined {
                self.command::<RECORD>(trip, At::Start, "RCPT");
            }
            if self.closed {
                return self.connection_lost(Stage::Rcpt);
            }
            if self.rcpt::<RECORD>(i, trip) {
                return;
            }
        }
        self.data::<RECORD>(pipelined, trip);
    }

    /// The server closed after a reply the client does not take as closing, or the client is
    /// done with a failed step: it ends the attempt.
    fn after_closing_or_quit<const RECORD: bool>(&mut self, stage: Stage) {
        if self.closed {
            self.quit::<RECORD>();
            self.connection_lost(stage);
        } else {
            self.quit::<RECORD>();
        }
    }

    /// RCPT for recipient `i`, answered in round trip `trip`; returns whether the attempt is
    /// over.
    fn rcpt<const RECORD: bool>(&mut self, i: usize, trip: u32) -> bool {
        let to = ForwardPath::Mailbox(split(self.attempt.recipients[i]));
        let envelope = self.open.then_some(&*self.envelope);
        if envelope.is_some() {
            self.rcpt_attempts += 1;
        }
        let answer = transaction::rcpt(
            self.config,
            self.info,
            envelope,
            &to,
            &RcptParams::default(),
            &mut self.policy,
        );
        let (reply, accepted) = self.settle(answer, replies::RECIPIENT_OK);
        if accepted {
            let mut kept = self.spare.pop().unwrap_or_default();
            kept.clear();
            kept.push_str(self.attempt.recipients[i]);
            self.envelope.recipients.push(kept);
        }
        self.reply::<RECORD>(trip, &reply);
        if self.closing(Stage::Rcpt, &reply) {
            return true;
        }
        self.accepted[i] = reply.code.is_positive();
        if !self.accepted[i] {
            self.decide(i, Stage::Rcpt, &reply);
        }
        if self.closed {
            self.connection_lost(Stage::Rcpt);
            return true;
        }
        false
    }

    /// DATA (in the pipelined batch `batch`, or alone), then the content.
    fn data<const RECORD: bool>(&mut self, pipelined: bool, batch: u32) {
        let any_accepted = self.accepted.contains(&true);
        let trip = if pipelined {
            batch
        } else if any_accepted {
            let trip = self.batch();
            self.command::<RECORD>(trip, At::Start, "DATA");
            trip
        } else {
            return self.quit::<RECORD>();
        };
        let envelope = self.open.then_some(&*self.envelope);
        let answer = transaction::data(self.info, envelope, self.rcpt_attempts, &mut self.policy);
        let (reply, _) = self.settle(answer, replies::START_DATA);
        self.reply::<RECORD>(trip, &reply);
        if self.closing(Stage::Data, &reply) {
            return;
        }
        if reply.code.get() == 354 && any_accepted && !self.closed {
            return self.content::<RECORD>();
        }
        self.decide_accepted(Stage::Data, &reply);
        self.decide_all(Stage::Data, &reply);
        self.after_closing_or_quit::<RECORD>(Stage::Data);
    }

    /// The content, judged at its end by the server's own checks and the policy.
    fn content<const RECORD: bool>(&mut self) {
        let trip = self.batch();
        self.trips.content = Some(trip);
        self.command::<RECORD>(trip, At::Start, "content");
        self.command::<RECORD>(trip, At::AfterContent, ".");
        // The session sends a stand-in for the content and declares the size it stands for.
        let answer = match transaction::content_check(self.config, self.attempt.size, None) {
            Some(reply) => Answer::Refuse(reply),
            None => {
                let facts = &self.attempt.facts;
                Answer::Policy(self.policy.message_facts(self.info, self.envelope, facts))
            }
        };
        let (reply, accepted) = self.settle(answer, replies::MESSAGE_ACCEPTED);
        if accepted {
            self.info.messages += 1;
        }
        self.open = false;
        self.reply::<RECORD>(trip, &reply);
        if self.closing(Stage::Content, &reply) {
            return;
        }
        self.in_transaction = false;
        self.decide_accepted(Stage::Content, &reply);
        self.after_closing_or_quit::<RECORD>(Stage::Content);
    }

    /// The end of the attempt: QUIT, or with the connection kept open, RSET if a failed
    /// transaction is open (the client waits for its reply), else nothing.
    fn quit<const RECORD: bool>(&mut self) {
        if self.finished {
            return;
        }
        if !self.attempt.keep_open {
            let end = self.trips.count;
            self.command::<RECORD>(end, At::Start, "QUIT");
            if !self.closed {
                self.reply::<RECORD>(end, &replies::BYE);
                self.closed = true;
            }
            self.finished = true;
            return;
        }
        if self.in_transaction {
            let trip = self.batch();
            self.command::<RECORD>(trip, At::Start, "RSET");
            if self.closed {
                return;
            }
            self.open = false;
            self.reply::<RECORD>(trip, &replies::OK);
            self.in_transaction = false;
        }
        self.finished = true;
    }
}
