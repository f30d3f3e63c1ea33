//! Message content: DATA with the end-of-data rule, BDAT chunks, and handing the message to
//! the policy.

use super::*;

impl<P: Policy> ServerSession<P> {
    /// Why the transaction cannot carry content now, if it cannot.
    pub(super) fn content_refusal(&self) -> Option<Reply> {
        transaction::content_refusal(self.envelope.as_ref(), self.rcpt_attempts)
    }

    pub(super) fn data(&mut self) {
        if self.chunks.is_some() {
            return self.bad(&replies::BDAT_AFTER_DATA);
        }
        let envelope = self.envelope.as_ref();
        let expected = match self.config.stream_content {
            // Pieces go out as they arrive: the buffer holds one read at most.
            true => 0,
            false => envelope.and_then(|e| e.declared_size).unwrap_or(4096),
        };
        let answer = transaction::data(&self.info, envelope, self.rcpt_attempts, &mut self.policy);
        if self.respond(answer, &replies::START_DATA) {
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
        if self.config.transcript {
            let text = format!("<{} octets of message content>", reader.size());
            self.record(Speaker::Note, text);
        }
        match transaction::content_check(&self.config, reader.size(), reader.fault()) {
            Some(reply) => {
                self.send(&reply);
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
        let too_big = transaction::content_check(&self.config, chunks.size, None).is_some();
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
