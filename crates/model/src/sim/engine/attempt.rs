//! One delivery attempt, in four steps: build it (who sends what to whom), try the MX hosts
//! (connect, run the SMTP exchange), time it (round trips, server latency, transfer), and
//! record it (trace lines, the attempt's end on the calendar).

use super::*;
use crate::sim::content::{FactsRef, Source};
use crate::sim::world::{DomainModel, HostModel, NetworkModel, RelayModel, SenderModel};

/// Why a delivery to a suspended domain was deferred without trying (Postfix's words).
pub(super) const SUSPENDED: &str =
    "delivery temporarily suspended: no MX host accepted a connection";

/// A trace line of an attempt, at its offset from the attempt's start.
type Timed = (SimDuration, TraceLine);

/// What an attempt came to, before it is recorded.
struct Tried {
    /// The outcome, applied when the attempt ends.
    outcome: AttemptOutcome,
    /// The MX host that answered, by its place in the preference order.
    host: Option<usize>,
    /// How long the tries took.
    elapsed: SimDuration,
    /// Trace lines, for traced messages.
    lines: Vec<Timed>,
    /// The MX hosts the content was offered to, for traced messages (in order).
    offered: Vec<String>,
    /// The domain was suspended: no host was tried.
    suspended: bool,
}

/// What trying an MX host draws on besides the attempt and the domain.
struct Link<'a> {
    network: &'a mut NetworkModel,
    mode: ExchangeMode,
    scratch: &'a mut exchange::Scratch,
    /// Where [`ExchangeMode::Compare`] keeps the first difference it finds.
    disagreement: &'a mut Option<String>,
    traced: bool,
    /// The message and attempt number, to name them in a disagreement.
    label: (u64, u32),
}

impl Tried {
    /// Nothing tried yet; a `suspended` domain gets no attempt at any host.
    fn new(suspended: bool) -> Tried {
        Tried {
            outcome: AttemptOutcome {
                open: None,
                recipients: Vec::new(),
                verdict: None,
                unreachable: Some(if suspended {
                    SUSPENDED
                } else {
                    "no MX host accepted a connection"
                }),
            },
            host: None,
            elapsed: SimDuration::ZERO,
            lines: Vec::new(),
            offered: Vec::new(),
            suspended,
        }
    }
}

impl Engine<'_> {
    /// Starts an attempt for `job`: on `reuse`, a connection left open by the previous message
    /// to the same domain, or else on a new connection to the first MX host that takes one.
    pub(super) fn start_attempt(&mut self, now: SimTime, job: u32, reuse: Option<OpenConnection>) {
        self.begin_attempt(now, job);
        let j = self.jobs.get(job);
        let to: SmallVec<[&str; 4]> = j
            .recipients
            .iter()
            .filter(|r| !r.done)
            .map(|r| r.address.as_str())
            .collect();
        let source = self.world.sources.choose(j.message, j.sender);
        let client_ip = self.world.sources.ip(source);
        let mut id_text = itoa::Buffer::new();
        let sender = &self.world.senders[j.sender as usize];
        let relay = &self.world.relay;
        let attempt = build_attempt(j, sender, relay, client_ip, &to, reuse, &mut id_text);
        let mut link = Link {
            network: &mut self.world.network,
            mode: self.options.exchange,
            scratch: &mut self.scratch,
            disagreement: &mut self.disagreement,
            traced: j.traced,
            label: (j.message, j.attempts),
        };
        let domain = &mut self.world.domains[j.domain as usize];
        let throttled_before = domain.behaviour.throttled();
        let mut tried = Tried::new(now < domain.suspended_until);
        try_hosts(&attempt, domain, &mut link, now, reuse, j.size, &mut tried);
        let throttled = domain.behaviour.throttled() > throttled_before;
        let unanswered = tried.outcome.unreachable.map(|_| to.len());
        self.world
            .sources
            .record(source, &tried.outcome.recipients, unanswered, throttled);
        // A traced message's content, as each host it was offered to would receive it.
        let (message, attempt_no) = (j.message, j.attempts);
        for host in &tried.offered {
            self.recorder
                .content(message, attempt_no, host, &attempt.content.build());
        }
        drop(to);
        self.record_attempt(now, job, &mut tried);
    }

    /// Counts the attempt and notes when it started and how long the delivery waited for it.
    fn begin_attempt(&mut self, now: SimTime, job: u32) {
        self.stats.attempts += 1;
        let j = self.job_mut(job);
        j.attempts += 1;
        j.first_attempt.get_or_insert(now);
        j.attempt_started = Some(now);
        j.queue_wait += now - j.ready_since;
    }

    /// Keeps the attempt's outcome for its end, writes its trace lines, and schedules the end.
    // `Tried` (some two hundred bytes) stays where `start_attempt` made it: it is lent to
    // `try_hosts` and here, and only the outcome moves, into the job.
    #[inline(always)]
    fn record_attempt(&mut self, now: SimTime, job: u32, tried: &mut Tried) {
        let network = &mut self.world.network;
        let duration = match &network.attempt_duration {
            _ if tried.suspended => SimDuration::ZERO,
            Some(dist) => dist.sample(&mut network.rng).0,
            None => tried.elapsed,
        };
        let j = self.job_mut(job);
        j.result = Some(std::mem::take(&mut tried.outcome));
        j.host = tried.host;
        let (message, attempt) = (j.message, j.attempts);
        for (offset, line) in &tried.lines {
            self.trace(now + *offset, message, attempt, Hop::RelayMx, line);
        }
        self.schedule(now + duration, Event::AttemptDone { job });
    }
}

/// What the relay sends in an attempt for `j`: the message of `sender` from `client_ip` to
/// the recipients `to` (those still undecided), with the relay's settings.
fn build_attempt<'a>(
    j: &Job,
    sender: &'a SenderModel,
    relay: &'a RelayModel,
    client_ip: std::net::IpAddr,
    to: &'a [&'a str],
    reuse: Option<OpenConnection>,
    id_text: &'a mut itoa::Buffer,
) -> Attempt<'a> {
    let dkim = sender.dkim.as_ref();
    let content = Source {
        id: j.message,
        from: &sender.header_from,
        to: to[0],
        message_id_domain: &sender.domain,
        dkim: dkim.map(|(d, s)| (d.as_str(), s.as_str())),
        altered: j.altered,
        size: j.size,
    };
    let facts = FactsRef {
        from_domain: Some(sender.header_from_domain.as_bytes()),
        dkim: dkim.map(|(d, s)| (d.as_bytes(), s.as_bytes())),
        altered: j.altered,
        message_id: Some((
            id_text.format(j.message).as_bytes(),
            sender.domain.as_bytes(),
        )),
    };
    Attempt {
        client_ip,
        helo: &relay.hostname,
        starttls: relay.starttls,
        pipelining: relay.pipelining,
        from: &sender.envelope_from,
        recipients: to,
        content,
        facts,
        size: j.size,
        keep_open: relay.reuse.is_some(),
        resumed: reuse.map(|open| open.state),
    }
}

/// Tries the domain's MX hosts in preference order until one answers past its greeting (a
/// reused connection stays with its host), a message of `size` bytes; what came of them goes
/// to `tried`.
#[inline(always)]
fn try_hosts(
    attempt: &Attempt<'_>,
    domain: &mut DomainModel,
    link: &mut Link<'_>,
    now: SimTime,
    reuse: Option<OpenConnection>,
    size: u64,
    tried: &mut Tried,
) {
    let Route::Mx(hosts) = &domain.route else {
        unreachable!("only domains with MX hosts get attempts")
    };
    let candidates = match reuse {
        _ if tried.suspended => 0..0,
        Some(open) => open.host..open.host + 1,
        None => 0..hosts.len(),
    };
    for index in candidates {
        let host = &hosts[index];
        let Some(outage) = connect(host, reuse, link, now, tried) else {
            continue;
        };
        domain.behaviour.begin(now + tried.elapsed, outage);
        if link.traced {
            let connected = Note::Connected {
                host: host.addr(),
                reused: reuse.is_some(),
            };
            tried
                .lines
                .push((tried.elapsed, TraceLine::Note(connected)));
            tried.offered.push(host.name.clone());
        }
        let exchanged = run_exchange(attempt, host, &mut domain.behaviour, link);
        let refused = exchanged.refused_at_greeting();
        let rtt = match reuse {
            Some(open) => open.rtt,
            None => link.network.round_trip.sample(&mut link.network.rng).0,
        };
        let verdict = domain.behaviour.end_of_data_mut().take_verdict();
        let timing = Timing {
            rtt,
            transfer: match exchanged.trips.content {
                Some(_) if link.network.bandwidth > 0.0 => {
                    SimDuration::from_secs_f64(size as f64 / link.network.bandwidth)
                }
                _ => SimDuration::ZERO,
            },
            latency: &domain.behaviour.config().latency,
        };
        tried.elapsed += time_exchange(
            &timing,
            &exchanged,
            verdict.as_ref(),
            &mut domain.latency_rng,
            link.traced,
            tried.elapsed,
            &mut tried.lines,
        );
        let open = (attempt.keep_open && exchanged.reusable).then_some(OpenConnection {
            host: index,
            rtt,
            sent: reuse.map_or(1, |open| open.sent + 1),
            state: exchanged.state,
        });
        tried.host = Some(index);
        // Field by field: the outcome so far is dropped piece by piece, inline.
        let outcome = &mut tried.outcome;
        outcome.open = open;
        outcome.recipients = exchanged.recipients;
        outcome.verdict = verdict;
        outcome.unreachable = None;
        if !refused {
            break;
        }
    }
}

/// Connects to `host` (a reused connection is there already): the outage it is in, `Some`
/// when the connection is made (a host in a `421` outage answers with it), `None` when it
/// fails, after the time failing takes.
fn connect(
    host: &HostModel,
    reuse: Option<OpenConnection>,
    link: &mut Link<'_>,
    now: SimTime,
    tried: &mut Tried,
) -> Option<Option<OutageMode>> {
    let outage = match reuse {
        Some(_) => None,
        None => host.outage_at(now + tried.elapsed),
    };
    let failure = match outage {
        Some(OutageMode::Refuse) => {
            tried.elapsed += link.network.round_trip.sample(&mut link.network.rng).0;
            ConnectFailure::Refused
        }
        Some(OutageMode::Timeout) => {
            tried.elapsed += link.network.connect_timeout;
            ConnectFailure::TimedOut
        }
        Some(OutageMode::Reply421) | None => return Some(outage),
    };
    if link.traced {
        let note = Note::ConnectFailed {
            host: host.addr(),
            failure,
        };
        tried.lines.push((tried.elapsed, TraceLine::Note(note)));
    }
    None
}

/// Runs the SMTP exchange with `host` the way the run asks: the sessions for traced
/// messages, else the fast path, the sessions, or both compared.
fn run_exchange(
    attempt: &Attempt<'_>,
    host: &HostModel,
    behaviour: &mut MxBehaviour<AuthCheck>,
    link: &mut Link<'_>,
) -> exchange::Exchanged {
    let config = &host.server_config;
    match link.mode {
        _ if link.traced => exchange::sessions(attempt, config, behaviour, true),
        ExchangeMode::Auto => exchange::decisions(attempt, config, behaviour, link.scratch),
        ExchangeMode::Sessions => exchange::sessions(attempt, config, behaviour, false),
        ExchangeMode::Compare => {
            let (exchanged, disagreement) = compare(attempt, config, behaviour, link.scratch);
            if let Some(what) = disagreement {
                let (message, attempt_no) = link.label;
                link.disagreement.get_or_insert_with(|| {
                    format!("message {message}, attempt {attempt_no}: {what}")
                });
            }
            exchanged
        }
    }
}

/// How long `exchanged` took; when traced, its lines go to `lines` at the times they were
/// said (from `elapsed` into the attempt), with the end-of-data checks' results when the
/// reply to the content came.
fn time_exchange(
    timing: &Timing<'_>,
    exchanged: &exchange::Exchanged,
    verdict: Option<&Verdict>,
    rng: &mut SimRng,
    traced: bool,
    elapsed: SimDuration,
    lines: &mut Vec<Timed>,
) -> SimDuration {
    let mut starts = Vec::new();
    let took = timing.trips(exchanged.trips, rng, traced.then_some(&mut starts));
    let start_of = |trip: u32| starts.get(trip as usize).copied().unwrap_or(took);
    for line in &exchanged.transcript {
        let offset = match line.at {
            exchange::At::Start => start_of(line.trip),
            exchange::At::AfterContent => start_of(line.trip) + timing.transfer,
            exchange::At::End => start_of(line.trip + 1),
        };
        lines.push((
            elapsed + offset,
            trace_line(line.speaker, line.text.clone()),
        ));
    }
    if traced
        && let Some(v) = verdict
        && !v.results.is_empty()
    {
        let at = exchanged
            .trips
            .content
            .map_or(took, |trip| start_of(trip + 1));
        let note = Note::AuthenticationResults(v.results.to_string());
        lines.push((elapsed + at, TraceLine::Note(note)));
    }
    took
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
            let count = u64::from(trips.count);
            let latencies = match constant {
                Some(latency) => latency * count,
                None => {
                    let mut sum = SimDuration::ZERO;
                    self.latency
                        .sample_each(trips.count, rng, |latency| sum += latency.0);
                    sum
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
