//! The bundled stories: small scenarios in `scenarios/stories/`, each showing one thing that
//! happens to email, built into the library so that `smtpsim walk --story NAME` works from
//! anywhere.

use crate::scenario::{Scenario, ScenarioError};

/// A bundled story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Story {
    /// Its name, the file name without `.toml`.
    pub name: &'static str,
    /// The scenario file's text.
    pub toml: &'static str,
}

macro_rules! stories {
    ($($name:literal),* $(,)?) => {
        /// Every bundled story, in the order a newcomer would read them.
        pub const STORIES: &[Story] = &[$(Story {
            name: $name,
            toml: include_str!(concat!("../../../../scenarios/stories/", $name, ".toml")),
        }),*];
    };
}

stories!(
    "transactional",
    "greylisted",
    "unknown-user",
    "dmarc-reject",
    "spam-unsigned",
    "rate-limited",
    "wrong-password",
    "mailbox-full",
    "secondary-mx",
    "queue-expired",
);

impl Story {
    /// The story by name.
    pub fn find(name: &str) -> Option<Story> {
        STORIES.iter().copied().find(|s| s.name == name)
    }

    /// The story's scenario.
    pub fn scenario(&self) -> Result<Scenario, ScenarioError> {
        Scenario::parse(self.toml, &format!("scenarios/stories/{}.toml", self.name))
    }

    /// The first line of the story's header comment, without `# Story: `.
    pub fn summary(&self) -> &'static str {
        self.toml
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# Story: "))
            .unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_story_loads_and_says_what_it_is() {
        assert_eq!(STORIES.len(), 10);
        for story in STORIES {
            let scenario = story.scenario().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(scenario.simulation.name, story.name);
            assert!(!story.summary().is_empty(), "{}", story.name);
            assert!(story.toml.contains("It teaches:"), "{}", story.name);
        }
        assert_eq!(Story::find("greylisted").unwrap().name, "greylisted");
        assert!(Story::find("nope").is_none());
    }
}
