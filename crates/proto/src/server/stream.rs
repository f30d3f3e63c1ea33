//! Content handed out as it arrives ([`ServerConfig::stream_content`]): each piece of a
//! message goes to [`Policy::content`] as soon as the session has read it, and the session
//! keeps only the head of the content (the header section) for [`Policy::message`]. A message
//! whose pieces were handed out ends with [`Policy::message`] or with [`Policy::discard`].

use super::*;

/// The most octets of a message's head the session keeps when it streams content: the header
/// section up to and including its empty line, or this many octets of it.
pub const HEAD_LIMIT: usize = 64 * 1024;

/// What the session keeps of a message it streams.
#[derive(Debug, Default)]
pub(super) struct Stream {
    /// The head of the content so far.
    head: Vec<u8>,
    /// The head is complete: its empty line was seen, or it reached [`HEAD_LIMIT`].
    head_done: bool,
    /// Pieces of the message in progress went to the policy, which has not been told yet
    /// whether it is a message.
    open: bool,
}

impl Stream {
    /// Keeps what `piece`, the next piece of the content, adds to the head.
    fn keep_head(&mut self, piece: &[u8]) {
        if self.head_done {
            return;
        }
        let searched_to = self.head.len().saturating_sub(3);
        let take = piece.len().min(HEAD_LIMIT - self.head.len());
        self.head.extend_from_slice(&piece[..take]);
        if self.head.starts_with(b"\r\n") {
            // No header fields at all.
            self.head.truncate(2);
            self.head_done = true;
        } else if let Some(i) = memchr::memmem::find(&self.head[searched_to..], b"\r\n\r\n") {
            self.head.truncate(searched_to + i + 4);
            self.head_done = true;
        } else {
            self.head_done = self.head.len() == HEAD_LIMIT;
        }
    }

    /// Takes the head and starts over for the next message.
    fn finish(&mut self) -> Vec<u8> {
        let head = std::mem::take(&mut self.head);
        *self = Stream::default();
        head
    }
}

impl<P: Policy> ServerSession<P> {
    /// When streaming, hands what the DATA reader stored since the last call to the policy;
    /// content that cannot be accepted any more (a fault was seen) is dropped instead.
    pub(super) fn stream_data(&mut self) {
        if !self.config.stream_content {
            return;
        }
        let State::Data(reader) = &mut self.state else {
            return;
        };
        if !reader.content().is_empty()
            && reader.fault().is_none()
            && let Some(envelope) = &self.envelope
        {
            self.stream.keep_head(reader.content());
            self.stream.open = true;
            self.policy.content(&self.info, envelope, reader.content());
        }
        reader.clear_content();
    }

    /// Hands the next piece of a BDAT transfer to the policy.
    pub(super) fn stream_piece(&mut self, piece: &[u8]) {
        if let Some(envelope) = &self.envelope
            && !piece.is_empty()
        {
            self.stream.keep_head(piece);
            self.stream.open = true;
            self.policy.content(&self.info, envelope, piece);
        }
    }

    /// The content of a message at its end: `kept` as the session kept it, or the head when
    /// it streamed; the policy is about to be asked about the message.
    pub(super) fn finish_content(&mut self, kept: Vec<u8>) -> Vec<u8> {
        if self.config.stream_content {
            self.stream.finish()
        } else {
            kept
        }
    }

    /// Tells the policy that the pieces it was handed are not a message (refused, too big,
    /// malformed, reset or cut short), if any were handed out.
    pub(super) fn discard_streamed(&mut self) {
        if self.stream.open {
            self.policy.discard(&self.info);
        }
        self.stream.finish();
    }

    /// Octets of input and message content the session holds now (the unprocessed input, the
    /// content read and not yet handed out, the head kept when streaming). With
    /// [`ServerConfig::stream_content`] this stays bounded however large the message.
    pub fn buffered(&self) -> usize {
        let reading = match &self.state {
            State::Data(reader) => reader.content().len(),
            _ => 0,
        };
        let chunks = self.chunks.as_ref().map_or(0, |c| c.content.len());
        self.input.len() + reading + chunks + self.stream.head.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head_of(pieces: &[&[u8]]) -> Vec<u8> {
        let mut stream = Stream::default();
        for piece in pieces {
            stream.keep_head(piece);
        }
        stream.finish()
    }

    #[test]
    fn the_head_is_the_header_section_wherever_the_pieces_split() {
        let message = b"Subject: x\r\nFrom: a@b\r\n\r\nbody\r\n\r\nmore\r\n";
        for split in 0..message.len() {
            let (a, b) = message.split_at(split);
            assert_eq!(
                head_of(&[a, b]),
                b"Subject: x\r\nFrom: a@b\r\n\r\n",
                "{split}"
            );
        }
        assert_eq!(head_of(&[b"\r\nbody\r\n"]), b"\r\n");
        assert_eq!(head_of(&[b"\r", b"\nbody\r\n"]), b"\r\n");
    }

    #[test]
    fn the_head_stops_at_its_limit() {
        let long = vec![b'x'; HEAD_LIMIT - 10];
        let head = head_of(&[&long, &long, b"\r\n\r\n"]);
        assert_eq!(head.len(), HEAD_LIMIT);
    }
}
