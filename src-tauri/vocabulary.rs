//! The release's vocabulary: where it goes (`Target`), what kind of release it is, its steps,
//! their states and how it ended. One floor below both the pipeline that speaks these words
//! and the ledger that keeps them, so the ledger stores and reads them typed.
//!
//! A ledger can hold a word this version does not know (a newer Slipway wrote it, or a team
//! shares one ledger across versions): it is read as [`Word::Unknown`], kept as it was and
//! shown as the word, never a panic and never guessed into a known one.

use serde::{Deserialize, Serialize, Serializer};
use ts_rs::TS;

/// Implements the stored word of a closed list: `as_str` and `parse` (its inverse).
macro_rules! words {
    ($type:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $type {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

/// Where an environment runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Target {
    /// A registry and a container on this machine: no accounts needed.
    #[default]
    Local,
    /// A registry (Docker Hub by default) and a Render web service.
    Render,
}

/// What a release does: a new image through the gates, or one that went live before shipped
/// again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub enum ReleaseKind {
    #[default]
    #[serde(rename = "release")]
    Release,
    /// An earlier release's image back on its environment.
    #[serde(rename = "rollback")]
    Rollback,
    /// A release live on one environment shipped to the next.
    #[serde(rename = "promote")]
    Promotion,
    /// What an interrupted release had left.
    #[serde(rename = "resume")]
    Resume,
}

/// The steps of a release, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Step {
    /// The commit pushed to the branch's remote (GitHub) before anything else runs.
    Git,
    Tests,
    Lint,
    /// The other checks the CI runs: coverage, formatting, types, Django's checks.
    Checks,
    Build,
    /// The built image run on this computer as its Render environment will run it, before
    /// anything is pushed.
    Rehearsal,
    Push,
    /// CircleCI's workflows for the commit, waited for before the deploy.
    Ci,
    Deploy,
    Verify,
    /// The release and its deploy recorded in Sentry, so its errors are told apart.
    Sentry,
}

impl Step {
    pub const ALL: [Step; 11] = [
        Step::Git,
        Step::Tests,
        Step::Lint,
        Step::Checks,
        Step::Build,
        Step::Rehearsal,
        Step::Push,
        Step::Ci,
        Step::Deploy,
        Step::Verify,
        Step::Sentry,
    ];
}

/// How a release ended, or that it has not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Running,
    /// Deployed and answering.
    Live,
    /// A gate, the push or the deploy failed.
    Failed,
    Canceled,
    /// It could not run (a missing account, the engine down).
    Error,
    /// The process ended while it ran (a crash, a kill, a power cut).
    Interrupted,
}

/// The state of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum StepState {
    Pending,
    Running,
    Passed,
    Failed,
    Skipped,
    Canceled,
    Interrupted,
}

impl StepState {
    pub fn is_finished(self) -> bool {
        !matches!(self, StepState::Pending | StepState::Running)
    }
}

words!(Target { Local => "local", Render => "render" });
words!(ReleaseKind { Release => "release", Rollback => "rollback", Promotion => "promote", Resume => "resume" });
words!(Step { Git => "git", Tests => "tests", Lint => "lint", Checks => "checks", Build => "build", Rehearsal => "rehearsal", Push => "push", Ci => "ci", Deploy => "deploy", Verify => "verify", Sentry => "sentry" });
words!(Outcome { Running => "running", Live => "live", Failed => "failed", Canceled => "canceled", Error => "error", Interrupted => "interrupted" });
words!(StepState { Pending => "pending", Running => "running", Passed => "passed", Failed => "failed", Skipped => "skipped", Canceled => "canceled", Interrupted => "interrupted" });

/// The lists whose words the ledger keeps.
pub trait Vocabulary: Copy {
    fn word(self) -> &'static str;
    fn from_word(text: &str) -> Option<Self>;
}

macro_rules! vocabulary {
    ($($type:ty),+) => {
        $(impl Vocabulary for $type {
            fn word(self) -> &'static str {
                self.as_str()
            }
            fn from_word(text: &str) -> Option<Self> {
                Self::parse(text)
            }
        })+
    };
}

vocabulary!(Target, ReleaseKind, Step, Outcome, StepState);

/// A word as the ledger recorded it: one of this version's, or one it does not know, kept.
/// Both travel to the window as the word itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Word<T> {
    Known(T),
    Unknown(String),
}

impl<T: Vocabulary> Word<T> {
    pub fn read(text: &str) -> Self {
        T::from_word(text).map_or_else(|| Word::Unknown(text.to_owned()), Word::Known)
    }

    pub fn known(&self) -> Option<T> {
        match self {
            Word::Known(value) => Some(*value),
            Word::Unknown(_) => None,
        }
    }

    pub fn is(&self, value: T) -> bool
    where
        T: PartialEq,
    {
        self.known() == Some(value)
    }

    pub fn as_str(&self) -> &str {
        match self {
            Word::Known(value) => value.word(),
            Word::Unknown(text) => text,
        }
    }
}

impl<T: Vocabulary> From<T> for Word<T> {
    fn from(value: T) -> Self {
        Word::Known(value)
    }
}

impl<T: Vocabulary> Serialize for Word<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Compares with the word itself (`record.kind == "rollback"`), known or not.
impl<T: Vocabulary> PartialEq<&str> for Word<T> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl<T: Vocabulary> std::fmt::Display for Word<T> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_reads_back_as_itself() {
        for step in Step::ALL {
            assert_eq!(Step::parse(step.as_str()), Some(step));
            let json = serde_json::to_string(&step).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", step.as_str()), "the wire word is the ledger's");
        }
        for kind in [
            ReleaseKind::Release,
            ReleaseKind::Rollback,
            ReleaseKind::Promotion,
            ReleaseKind::Resume,
        ] {
            assert_eq!(ReleaseKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }

    /// A newer Slipway's word is kept whole and shown as it is.
    #[test]
    fn a_word_this_version_does_not_know_is_kept() {
        let word: Word<ReleaseKind> = Word::read("canary");
        assert_eq!(word, Word::Unknown("canary".to_owned()));
        assert_eq!(word.known(), None);
        assert_eq!(serde_json::to_string(&word).unwrap_or_default(), "\"canary\"");
        let known: Word<ReleaseKind> = Word::read("promote");
        assert!(known.is(ReleaseKind::Promotion));
        assert_eq!(known.to_string(), "promote");
    }
}
