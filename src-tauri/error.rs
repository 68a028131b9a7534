//! The one error the UI and the CLI show: `{kind, message, hint, action, detail, terminalHint}`.
//!
//! Each room has its own `thiserror` enum and converts it into [`AppError`] at its edge,
//! choosing a kind from the closed list below, a plain sentence of what happened, a hint that
//! says what to do in a person's words and, where it helps, the one action that fixes it. The
//! raw cause (an HTTP status, an engine message) goes in `detail`, which the window folds
//! away; the CLI adds `terminal_hint` (a command to type). Every text passes through the
//! redactor when the error is made, so no secret can reach a window, a log line or a Sentry
//! event through an error.

use serde::Serialize;
use ts_rs::TS;

use crate::redact::redact;

/// What went wrong, as a closed list the UI maps to a severity and an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ErrorKind {
    /// The Docker Engine does not answer (not running, or no permission on its socket).
    DockerUnavailable,
    /// The OS keyring is missing or locked.
    KeyringUnavailable,
    /// A registry refused the credentials.
    RegistryAuth,
    /// A registry accepted the credentials but refused the action.
    RegistryDenied,
    /// A network call failed before an answer arrived.
    Network,
    /// A service asked us to slow down.
    RateLimited,
    /// A file, folder or record that was named does not exist.
    NotFound,
    /// The input is malformed.
    Validation,
    /// Something must be done first (a tool installed, an account connected).
    Precondition,
    /// Reading or writing a file failed.
    Io,
    /// The user cancelled.
    Cancelled,
    /// Anything else; reported to Sentry when it is configured.
    Unknown,
}

impl ErrorKind {
    /// The kind a ledger recorded; an unknown word (a newer Slipway's) is `Unknown`.
    pub fn from_word(word: &str) -> Self {
        [
            ErrorKind::DockerUnavailable,
            ErrorKind::KeyringUnavailable,
            ErrorKind::RegistryAuth,
            ErrorKind::RegistryDenied,
            ErrorKind::Network,
            ErrorKind::RateLimited,
            ErrorKind::NotFound,
            ErrorKind::Validation,
            ErrorKind::Precondition,
            ErrorKind::Io,
            ErrorKind::Cancelled,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == word)
        .unwrap_or(ErrorKind::Unknown)
    }

    /// The kind as it is serialised (`dockerUnavailable`), for the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::DockerUnavailable => "dockerUnavailable",
            ErrorKind::KeyringUnavailable => "keyringUnavailable",
            ErrorKind::RegistryAuth => "registryAuth",
            ErrorKind::RegistryDenied => "registryDenied",
            ErrorKind::Network => "network",
            ErrorKind::RateLimited => "rateLimited",
            ErrorKind::NotFound => "notFound",
            ErrorKind::Validation => "validation",
            ErrorKind::Precondition => "precondition",
            ErrorKind::Io => "io",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Unknown => "unknown",
        }
    }
}

/// The one button that fixes an error or takes the person where it is fixed. The window
/// picks one from the kind when the error names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ErrorAction {
    /// Try the same thing again.
    Retry,
    /// Start the Docker Engine (Docker Desktop on macOS and Windows; how to, on Linux).
    StartDocker,
    /// Settings → Accounts, to enter a new token.
    ReenterToken,
    /// Settings → Accounts, to connect a service.
    OpenAccounts,
    /// The open project's settings (commands, image, target).
    OpenProjectSettings,
    /// The Release page's plan, to look at it again.
    ReviewPlan,
    /// Open another project folder.
    OpenProject,
    /// The plan's environment: pick its Render service from the account's list.
    PickRenderService,
    /// The plan's environment: push to its Render service's own image.
    UseServiceImage,
    /// The open project's settings, to link its Sentry project.
    LinkSentry,
    /// Settings → This computer (the local registry, the watch, gates that all finish).
    OpenAppSettings,
    /// Release anyway without the team's history (unreachable): kept here, sent when it is back.
    ReleaseWithoutTeamHistory,
}

impl ErrorAction {
    const ALL: [ErrorAction; 12] = [
        ErrorAction::Retry,
        ErrorAction::StartDocker,
        ErrorAction::ReenterToken,
        ErrorAction::OpenAccounts,
        ErrorAction::OpenProjectSettings,
        ErrorAction::ReviewPlan,
        ErrorAction::OpenProject,
        ErrorAction::PickRenderService,
        ErrorAction::UseServiceImage,
        ErrorAction::LinkSentry,
        ErrorAction::OpenAppSettings,
        ErrorAction::ReleaseWithoutTeamHistory,
    ];

    /// The action as it is serialised (`startDocker`), for the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorAction::Retry => "retry",
            ErrorAction::StartDocker => "startDocker",
            ErrorAction::ReenterToken => "reenterToken",
            ErrorAction::OpenAccounts => "openAccounts",
            ErrorAction::OpenProjectSettings => "openProjectSettings",
            ErrorAction::ReviewPlan => "reviewPlan",
            ErrorAction::OpenProject => "openProject",
            ErrorAction::PickRenderService => "pickRenderService",
            ErrorAction::UseServiceImage => "useServiceImage",
            ErrorAction::LinkSentry => "linkSentry",
            ErrorAction::OpenAppSettings => "openAppSettings",
            ErrorAction::ReleaseWithoutTeamHistory => "releaseWithoutTeamHistory",
        }
    }

    /// The action a ledger recorded; a word this version does not know offers no button.
    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == word)
    }
}

/// The serialisable error every command and CLI path ends in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{message}")]
pub struct AppError {
    pub kind: ErrorKind,
    /// What happened, in one plain sentence.
    pub message: String,
    /// What the person can do about it, in their words (no commands, no flags).
    pub hint: String,
    /// The button that fixes it, when the kind alone does not say.
    pub action: Option<ErrorAction>,
    /// The raw cause (a status code, an engine or tool message), folded in the window.
    pub detail: Option<String>,
    /// What to do in a terminal, for the CLI (a command or a flag).
    pub terminal_hint: Option<String>,
}

impl AppError {
    /// Makes the error. Only a bug (`Unknown`) is logged at error level, which is what the
    /// Sentry layer reports; everything else is the person's to fix and stays out of Sentry
    /// (commands log their errors at warn).
    pub fn new(kind: ErrorKind, message: impl Into<String>, hint: impl Into<String>) -> Self {
        let error = Self {
            kind,
            message: redact(&message.into()).into_owned(),
            hint: redact(&hint.into()).into_owned(),
            action: None,
            detail: None,
            terminal_hint: None,
        };
        if kind == ErrorKind::Unknown {
            tracing::error!(kind = "unknown", "{}", error.message);
        }
        error
    }

    /// The button that fixes it.
    pub fn with_action(mut self, action: ErrorAction) -> Self {
        self.action = Some(action);
        self
    }

    /// The raw cause, for the folded technical details (redacted like the rest).
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(redact(&detail.into()).into_owned());
        self
    }

    /// What to type in a terminal, which the CLI shows instead of the hint.
    pub fn in_terminal(mut self, hint: impl Into<String>) -> Self {
        self.terminal_hint = Some(redact(&hint.into()).into_owned());
        self
    }

    /// The hint as the CLI prints it: the terminal wording when there is one.
    pub fn cli_hint(&self) -> &str {
        self.terminal_hint.as_deref().unwrap_or(&self.hint)
    }
}

/// An error with every cause under it, as one line: libraries wrap the interesting cause
/// (ENOENT, ECONNREFUSED, a TLS refusal) a few levels down.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ledger's words are the wire's: what History reads back is what the window knew.
    #[test]
    fn every_action_word_is_its_wire_word_and_reads_back() {
        for action in ErrorAction::ALL {
            let json = serde_json::to_string(&action).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", action.as_str()));
            assert_eq!(ErrorAction::from_word(action.as_str()), Some(action));
        }
        assert_eq!(ErrorAction::from_word("openTeamSettings"), None);
        // The list is kept by hand; the TypeScript type is generated from every variant, so
        // an action missing from the list (and its button from History) is caught here.
        use ts_rs::TS;
        let declared = ErrorAction::decl(&ts_rs::Config::default());
        let words: Vec<&str> = declared.split('"').skip(1).step_by(2).collect();
        let listed: Vec<&str> = ErrorAction::ALL.iter().map(|action| action.as_str()).collect();
        assert_eq!(words, listed, "{declared}");
    }

    /// The levels of the events logged while `work` runs.
    fn levels_logged(work: impl FnOnce()) -> Vec<tracing::Level> {
        use std::sync::{Arc, Mutex};
        use tracing_subscriber::layer::SubscriberExt;
        struct Levels(Arc<Mutex<Vec<tracing::Level>>>);
        impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Levels {
            fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
                if let Ok(mut levels) = self.0.lock() {
                    levels.push(*event.metadata().level());
                }
            }
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(Levels(seen.clone()));
        tracing::subscriber::with_default(subscriber, work);
        let levels = seen.lock().map(|levels| levels.clone()).unwrap_or_default();
        levels
    }

    // As the commands are instrumented: an error return is logged at warn.
    #[tracing::instrument(err(level = "warn"))]
    fn command(kind: ErrorKind) -> Result<(), AppError> {
        Err(AppError::new(kind, "it failed", "do something"))
    }

    #[test]
    fn kinds_are_stored_as_they_are_serialised() -> Result<(), serde_json::Error> {
        for kind in [
            ErrorKind::DockerUnavailable,
            ErrorKind::RegistryAuth,
            ErrorKind::Unknown,
        ] {
            assert_eq!(serde_json::to_value(kind)?, serde_json::json!(kind.as_str()));
        }
        Ok(())
    }

    #[test]
    fn only_bugs_reach_error_level_where_sentry_listens() {
        let person = levels_logged(|| {
            let _ = command(ErrorKind::Validation);
        });
        assert!(!person.contains(&tracing::Level::ERROR), "{person:?}");
        let bug = levels_logged(|| {
            let _ = command(ErrorKind::Unknown);
        });
        assert_eq!(
            bug.iter().filter(|level| **level == tracing::Level::ERROR).count(),
            1,
            "{bug:?}"
        );
    }

    #[test]
    fn serialises_as_kind_message_hint_action_detail_and_terminal_hint() -> Result<(), serde_json::Error> {
        let error = AppError::new(ErrorKind::NotFound, "No such folder", "Pick another one.");
        let json = serde_json::to_value(&error)?;
        assert_eq!(
            json,
            serde_json::json!({"kind": "notFound", "message": "No such folder", "hint": "Pick another one.",
                               "action": null, "detail": null, "terminalHint": null})
        );
        let full = AppError::new(ErrorKind::DockerUnavailable, "Docker isn't running.", "Start Docker.")
            .with_action(ErrorAction::StartDocker)
            .with_detail("connect: no such file")
            .in_terminal("sudo systemctl start docker");
        let json = serde_json::to_value(&full)?;
        assert_eq!(json["action"], "startDocker");
        assert_eq!(json["detail"], "connect: no such file");
        assert_eq!(json["terminalHint"], "sudo systemctl start docker");
        assert_eq!(full.cli_hint(), "sudo systemctl start docker");
        Ok(())
    }

    #[test]
    fn messages_are_redacted_when_made() {
        let error = AppError::new(
            ErrorKind::Network,
            "GET https://api.example.test/deploy/srv-1?key=s3cr3tvalue failed",
            "Retry with Authorization: Bearer abcdefghijklmnop",
        );
        assert!(!error.message.contains("s3cr3tvalue"), "{}", error.message);
        assert!(!error.hint.contains("abcdefghijklmnop"), "{}", error.hint);
    }
}
