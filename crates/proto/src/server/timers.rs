//! The session's deadlines. The session has no clock: its driver tells it the time (a
//! [`Duration`] since the session started) with [`ServerSession::feed_at`] and
//! [`ServerSession::handle_timeout`], asks when it next needs to be woken
//! ([`ServerSession::poll_timeout`]), and the session itself answers `421 4.4.2` and closes
//! when a deadline has passed.
//!
//! - A command line must arrive whole within [`Timeouts::command`] of the moment the session
//!   began to wait for it: after the greeting, the previous command line, the end of the
//!   content or the TLS handshake. Dribbling it byte by byte does not extend it.
//! - Content (after the 354 reply to DATA, or from the first BDAT of a transaction to the end
//!   of its last chunk) must arrive within [`Timeouts::data`] plus the time its octets take at
//!   [`Timeouts::min_data_rate`], counted from the 354 or the first BDAT; and no wait for the
//!   next octet of content may exceed [`Timeouts::data`].
//!
//! A driver that never tells the time never sees a deadline pass.

use std::time::Duration;

use super::*;

/// How long a server session waits for its client. The defaults are RFC 5321's (section
/// 4.5.3.2) and Postfix's minimum data rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// The time allowed for one whole command line: 5 minutes.
    pub command: Duration,
    /// The time allowed for the whole content of a message, before the allowance of
    /// `min_data_rate`, and the longest wait for the next octet of content: 3 minutes.
    pub data: Duration,
    /// Octets per second below which content is too slow: each octet received adds
    /// `1 / min_data_rate` seconds to the content deadline. 0 turns this off (the content then
    /// only has to keep coming, no wait longer than `data`). Default 500 (Postfix's
    /// `smtpd_min_data_rate`).
    pub min_data_rate: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            command: Duration::from_secs(5 * 60),
            data: Duration::from_secs(3 * 60),
            min_data_rate: 500,
        }
    }
}

impl Timeouts {
    /// The deadline of content that began at `from`, of which `octets` have arrived, the last
    /// of them at `last`.
    pub fn content_deadline(&self, from: Duration, octets: u64, last: Duration) -> Duration {
        let idle = last.saturating_add(self.data);
        if self.min_data_rate == 0 {
            return idle;
        }
        let nanos = u128::from(octets) * 1_000_000_000 / u128::from(self.min_data_rate);
        let allowance = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        let whole = from.saturating_add(self.data).saturating_add(allowance);
        whole.min(idle)
    }
}

/// What the session remembers of time.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Clock {
    /// The latest time the driver told.
    now: Duration,
    /// When the session began to wait for the current command line.
    line_from: Duration,
    /// When the current content began.
    content_from: Duration,
    /// Octets of the current content received so far (as sent, dot-stuffing included).
    content_octets: u64,
    /// When the last of them arrived.
    content_last: Duration,
}

impl Clock {
    /// The session begins to wait for a command line now.
    pub(super) fn line_starts(&mut self) {
        self.line_from = self.now;
    }

    /// The content of a message begins now.
    pub(super) fn content_starts(&mut self) {
        self.content_from = self.now;
        self.content_octets = 0;
        self.content_last = self.now;
    }

    /// `n` octets of content arrived now.
    pub(super) fn content_arrived(&mut self, n: usize) {
        self.content_octets = self.content_octets.saturating_add(n as u64);
        self.content_last = self.now;
    }

    fn command_deadline(&self, timeouts: &Timeouts) -> Duration {
        self.line_from.saturating_add(timeouts.command)
    }

    fn content_deadline(&self, timeouts: &Timeouts) -> Duration {
        timeouts.content_deadline(self.content_from, self.content_octets, self.content_last)
    }
}

impl<P: Policy> ServerSession<P> {
    /// When the session next needs to be told the time (a [`Duration`] since the session
    /// started, as the driver counts it), if it waits for anything: the deadline of the
    /// command line or of the content it is reading. See [`ServerSession::handle_timeout`].
    pub fn poll_timeout(&self) -> Option<Duration> {
        let timeouts = &self.config.timeouts;
        match self.state {
            State::Closed | State::TlsPending => None,
            State::Data(_) | State::Bdat { .. } => Some(self.clock.content_deadline(timeouts)),
            State::Command | State::Refused | State::DiscardLine | State::Auth(_) => {
                let line = self.clock.command_deadline(timeouts);
                // A BDAT transfer is content from its first chunk to its last.
                Some(match self.chunks {
                    Some(_) => line.min(self.clock.content_deadline(timeouts)),
                    None => line,
                })
            }
        }
    }

    /// Tells the session that the time is `now` (since the session started; time never goes
    /// back, an earlier `now` is taken as the latest one). If the deadline it waits for has
    /// passed, it answers `421 4.4.2` and closes ([`ServerEvent::Close`]); returns whether it
    /// did.
    pub fn handle_timeout(&mut self, now: Duration) -> bool {
        self.clock.now = self.clock.now.max(now);
        let passed = self
            .poll_timeout()
            .is_some_and(|deadline| deadline <= self.clock.now);
        if passed {
            self.close_with(&replies::TIMEOUT);
        }
        passed
    }

    /// [`ServerSession::feed`] with the time the bytes arrived: if a deadline passed before
    /// them, the session answers `421 4.4.2` and closes instead.
    pub fn feed_at(&mut self, now: Duration, bytes: &[u8]) {
        self.handle_timeout(now);
        self.feed(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn content_deadline_grows_with_the_octets_at_the_minimum_rate() {
        let t = Timeouts {
            command: secs(10),
            data: secs(10),
            min_data_rate: 100,
        };
        // 500 octets earn 5 s: 10 + 5 after the start, but no later than 10 after the last.
        assert_eq!(t.content_deadline(secs(0), 500, secs(4)), secs(14));
        assert_eq!(t.content_deadline(secs(0), 500, secs(2)), secs(12));
        assert_eq!(t.content_deadline(secs(3), 0, secs(3)), secs(13));
        assert_eq!(
            t.content_deadline(secs(0), 1, secs(1)),
            Duration::from_millis(10_010)
        );
        let off = Timeouts {
            min_data_rate: 0,
            ..t
        };
        assert_eq!(off.content_deadline(secs(0), 0, secs(100)), secs(110));
        let huge = t.content_deadline(Duration::MAX, u64::MAX, Duration::MAX);
        assert_eq!(huge, Duration::MAX);
    }
}
