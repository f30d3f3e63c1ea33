//! The two ways of carrying out an exchange, compared attempt by attempt: the verdict per
//! recipient, the round trips, where the connection stands, and the conversation itself (each
//! command's verb and each reply's code, in order, with the round trip it belongs to).

use smtpsim_proto::client::Speaker;

use super::{At, Exchanged, Line};

/// One step of a conversation, as both ways can say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// A command, by its verb (`content` for the message content, `.` for the dot ending it).
    Command(u32, At, String),
    /// A reply, by its code.
    Reply(u32, At, u16),
}

/// The steps of a transcript (notes left out).
pub(crate) fn steps(transcript: &[Line]) -> Vec<Step> {
    transcript
        .iter()
        .filter_map(|line| match line.speaker {
            Speaker::Client => Some(Step::Command(line.trip, line.at, verb(&line.text))),
            // The last line of a reply says `NNN ` (or only `NNN`); the others `NNN-`.
            Speaker::Server => {
                let code = line.text.get(..3)?.parse().ok()?;
                let last = line.text.as_bytes().get(3).is_none_or(|&b| b == b' ');
                last.then_some(Step::Reply(line.trip, line.at, code))
            }
            Speaker::Note => None,
        })
        .collect()
}

fn verb(command: &str) -> String {
    if command.starts_with('<') {
        return "content".to_string();
    }
    let end = command.find([' ', ':']).unwrap_or(command.len());
    command[..end].to_ascii_uppercase()
}

/// Compares the fast path's exchange (`fast`, with the `steps` it recorded) with the
/// sessions' (`slow`, run with a transcript); says what differs, if anything.
pub(crate) fn compare(
    fast: &Exchanged,
    fast_steps: &[Step],
    slow: &Exchanged,
) -> Result<(), String> {
    let slow_steps = steps(&slow.transcript);
    if fast_steps != slow_steps.as_slice() {
        return Err(format!(
            "conversations differ:\n  fast path: {fast_steps:?}\n  sessions:  {slow_steps:?}"
        ));
    }
    let differs = |what: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
        Err(format!(
            "{what} differ:\n  fast path: {a:?}\n  sessions:  {b:?}"
        ))
    };
    if fast.recipients != slow.recipients {
        return differs("verdicts", &fast.recipients, &slow.recipients);
    }
    if fast.trips != slow.trips {
        return differs("round trips", &fast.trips, &slow.trips);
    }
    if (fast.reusable, fast.state) != (slow.reusable, slow.state) {
        return differs(
            "connection states",
            &(fast.reusable, fast.state),
            &(slow.reusable, slow.state),
        );
    }
    Ok(())
}
