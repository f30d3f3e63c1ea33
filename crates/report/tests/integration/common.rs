//! Shared pieces of the integration tests: scratch directories and synthetic records.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use smtpsim_des::{SimDuration, SimTime};
use smtpsim_model::sim::{Fate, RecipientRecord};
use smtpsim_proto::Reply;

/// A fresh empty directory under the system's temporary directory, removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("smtpsim-report-test-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn read(&self, name: &str) -> String {
        fs::read_to_string(self.0.join(name)).unwrap()
    }

    pub fn bytes(&self, name: &str) -> Vec<u8> {
        fs::read(self.0.join(name)).unwrap()
    }

    /// The names in the directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A recipient submitted at 10 s, first tried at 10.5 s, settled `latency_ms` later.
pub fn recipient<'a>(
    id: u64,
    fate: Fate,
    latency_ms: u64,
    reply: Option<&'a Reply>,
) -> RecipientRecord<'a> {
    RecipientRecord {
        message_id: id,
        sender: "shop",
        recipient: "ann@example.com",
        domain: "example.com",
        submitted: SimTime::from_secs(10),
        first_attempt: Some(SimTime::from_millis(10_500)),
        finished: SimTime::from_secs(10) + SimDuration::from_millis(latency_ms),
        fate,
        attempts: 1,
        queue_wait: SimDuration::from_millis(20),
        last_reply: reply,
        reasons: "",
    }
}
