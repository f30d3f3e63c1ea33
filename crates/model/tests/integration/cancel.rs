//! A run stops early when its cancel flag is set, and says so.

use crate::support::{self, Memory};

use smtpsim_model::sim::{self, Cancel, Options, RecipientRecord, Recorder, Sample, TraceRecord};

/// Records into memory and sets the flag once `after` recipient rows have come.
struct CancelAfter {
    inner: Memory,
    after: usize,
    cancel: Cancel,
}

impl Recorder for CancelAfter {
    fn recipient(&mut self, record: &RecipientRecord<'_>) {
        self.inner.recipient(record);
        if self.inner.rows.len() == self.after {
            self.cancel.cancel();
        }
    }

    fn trace(&mut self, record: &TraceRecord<'_>) {
        self.inner.trace(record);
    }

    fn sample(&mut self, sample: &Sample) {
        self.inner.sample(sample);
    }
}

#[test]
fn a_set_flag_stops_the_run_before_its_first_event() {
    let scenario = support::load("quickstart.toml");
    let cancel = Cancel::new();
    cancel.cancel();
    let options = Options {
        messages: Some(1_000),
        cancel,
        ..Options::default()
    };
    let (memory, stats) = support::run(&scenario, &options);
    assert!(stats.cancelled);
    assert_eq!(stats.events, 0);
    assert!(memory.rows.is_empty());
}

#[test]
fn a_flag_set_during_the_run_stops_it_within_a_check_interval() {
    let scenario = support::load("quickstart.toml");
    let options = Options {
        messages: Some(20_000),
        ..Options::default()
    };
    let (_, full) = support::run(&scenario, &options);
    assert!(!full.cancelled);

    let cancel = Cancel::new();
    let mut recorder = CancelAfter {
        inner: Memory::default(),
        after: 100,
        cancel: cancel.clone(),
    };
    let options = Options { cancel, ..options };
    let stats = sim::run(&scenario, &options, &mut recorder).unwrap();
    assert!(stats.cancelled);
    assert!(recorder.inner.rows.len() >= 100);
    assert!(stats.messages < full.messages, "{stats:?}");
    assert!(stats.events < full.events);
    // The run stops where it looks at the flag, the first look after it was set.
    assert!(
        stats.events.is_multiple_of(Cancel::CHECK_EVERY),
        "{stats:?}"
    );
}
