//! Message content: DATA with the end-of-data rule, BDAT chunks, and handing the message to
//! the policy.

use super::*;

impl<P: Policy> ServerSession<P> {
    /// Why the transaction cannot carry content now, if it cannot.
    pub(super) fn content_refusal(&self) -> Option<Reply> {
        match &self.envelope {
            None => Some(replies::NEED_MAIL),
            Some(envelope) if envelope.recipients.is_empty() => Some(if self.rcpt_attempts > 0 {
                replies::NO_VALID_RECIPIENTS
            } else {
                replies::NEED_RCPT
            }),
            Some(_) => None,
        }
    }

    pub(super) fn data(&mut self) {
        if self.chunks.is_some() {
            return self.bad(&replies::BDAT_AFTER_DATA);
        }
        if let Some(reply) = self.content_refusal() {
            return self.bad(&reply);
        }
        let envelope = self.envelope.as_ref().expect("checked by content_refusal");
        let expected = match self.config.stream_content {
            // Pieces go out as they arrive: the buffer holds one read at most.
            true => 0,
            false => envelope.declared_size.unwrap_or(4096),
        };
        let decision = self.policy.data(&self.info, envelope);
        if self.answer(decision, &replies::START_DATA) {
            self.clock.content_starts();
            let limits = self.config.limits;
            let max = limits
                .message_size
                .map_or(u64::MAX, |n| n.saturating_add(1));
            self.state = State::Data(DataReader::with_capacity(limits.text_line, max, expected));
        }
    }

    pub(super) fn end_of_data(&mut self) {
        let State::Data(reader) = std::mem::replace(&mut self.state, State::Command) else {
            return;
        };
        self.clock.line_starts();
        let too_big = self
            .config
            .limits
            .message_size
            .is_some_and(|max| reader.size() > max);
        if self.config.transcript {
            let text = format!("<{} octets of message content>", reader.size());
            self.record(Speaker::Note, text);
        }
        let refusal = match reader.fault() {
            _ if too_big => Some(&replies::TOO_BIG),
            Some(DataFault::BareLineEnding) => Some(&replies::BARE_LINE_ENDING),
            Some(DataFault::LineTooLong) => Some(&replies::TEXT_LINE_TOO_LONG),
            Some(DataFault::TooBig) => Some(&replies::TOO_BIG),
            None => None,
        };
        match refusal {
            Some(reply) => {
                self.send(reply);
                self.reset_transaction();
            }
            None => {
                let size = reader.size();
                self.deliver(reader.into_content(), size);
            }
        }
    }

    pub(super) fn bdat(&mut self, size: u64, last: bool) {
        let refusal = if !self.config.chunking {
            Some(ChunkRefusal::Bad(replies::BDAT_NOT_AVAILABLE))
        } else if let Some(chunks) = &self.chunks {
            chunks
                .refused
                .then_some(ChunkRefusal::Bad(replies::CHUNK_AFTER_REFUSAL))
        } else {
            match self.content_refusal() {
                Some(reply) => Some(ChunkRefusal::Bad(reply)),
                None => {
                    let envelope = self.envelope.as_ref().expect("checked by content_refusal");
                    match self.policy.data(&self.info, envelope) {
                        Decision::Accept | Decision::AcceptWith(_) => None,
                        Decision::Refuse(reply) => Some(ChunkRefusal::Policy(reply)),
                        Decision::Disconnect(reply) => return self.close_with(&reply),
                    }
                }
            }
        };
        if self.chunks.is_none() {
            self.clock.content_starts();
        }
        if self.config.chunking && self.chunks.is_none() {
            self.chunks = Some(Chunks {
                refused: refusal.is_some(),
                ..Chunks::default()
            });
        }
        self.state = State::Bdat {
            remaining: size,
            last,
            refusal,
        };
        if size == 0 {
            self.end_of_chunk();
        }
    }

    pub(super) fn chunk_bytes(&mut self, bytes: &[u8]) {
        if self.config.transcript && !bytes.is_empty() {
            let text = format!("<{} octets of chunk content>", bytes.len());
            self.record(Speaker::Note, text);
        }
        let max = self.config.limits.message_size.unwrap_or(u64::MAX);
        let Some(chunks) = &mut self.chunks else {
            return;
        };
        if chunks.refused {
            return;
        }
        chunks.size += bytes.len() as u64;
        if chunks.size > max {
            return;
        }
        if self.config.stream_content {
            self.stream_piece(bytes);
        } else {
            chunks.content.extend_from_slice(bytes);
        }
    }

    /// A chunk was read completely: answer it (RFC 3030 answers each BDAT after its data).
    pub(super) fn end_of_chunk(&mut self) {
        let State::Bdat { last, refusal, .. } = std::mem::replace(&mut self.state, State::Command)
        else {
            return;
        };
        self.clock.line_starts();
        if let Some(refusal) = refusal {
            match refusal {
                ChunkRefusal::Bad(reply) => self.bad(&reply),
                ChunkRefusal::Policy(reply) => self.refuse(&reply),
            }
            if last {
                self.reset_transaction();
            }
            return;
        }
        let Some(chunks) = self.chunks.take() else {
            return;
        };
        let too_big = self
            .config
            .limits
            .message_size
            .is_some_and(|max| chunks.size > max);
        if !last {
            let text = format!("{} octets received", chunks.size);
            self.send(&replies::OK.with_text(text));
            self.chunks = Some(chunks);
        } else if too_big {
            self.send(&replies::TOO_BIG);
            self.reset_transaction();
        } else {
            self.deliver(chunks.content, chunks.size);
        }
    }

    /// Asks the policy about a complete message of `size` octets (`content` as kept) and
    /// answers.
    pub(super) fn deliver(&mut self, content: Vec<u8>, size: u64) {
        let content = self.finish_content(content);
        let Some(envelope) = self.envelope.take() else {
            return;
        };
        let decision = self.policy.message(&self.info, &envelope, &content);
        if self.answer(decision, &replies::MESSAGE_ACCEPTED) {
            self.info.messages += 1;
            self.events
                .push_back(ServerEvent::MessageAccepted(ReceivedMessage {
                    envelope,
                    content,
                    size,
                }));
        }
        self.reset_transaction();
    }
}
