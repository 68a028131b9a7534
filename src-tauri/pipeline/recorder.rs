//! The recorder: every step a release takes goes to the ledger and to the caller as it
//! happens, and the first failure (and the error behind it) is kept for the release's end.
//! Apart from `run` so the targets (deploys) record steps without importing the runner.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{ReleaseEvent, ReleaseSink, Step};
use crate::checks;
use crate::error::AppError;
use crate::history::{Ending, Ledger, StepState};

/// Writes each step to the ledger and sends it to the caller; remembers when steps started
/// and why the release failed first.
#[derive(Clone)]
pub(crate) struct Recorder {
    ledger: Ledger,
    release_id: String,
    sink: ReleaseSink,
    started: Arc<Mutex<HashMap<Step, Instant>>>,
    first_failure: Arc<Mutex<Option<String>>>,
    /// The first error behind a failed step, for its kind and hint.
    first_error: Arc<Mutex<Option<AppError>>>,
}

impl Recorder {
    pub(super) fn new(ledger: Ledger, release_id: String, sink: ReleaseSink) -> Self {
        Self {
            ledger,
            release_id,
            sink,
            started: Arc::default(),
            first_failure: Arc::default(),
            first_error: Arc::default(),
        }
    }

    /// Marks `step` failed because of `error`, keeping the error's kind and hint for the
    /// release's end; returns the summary shown.
    pub(super) fn fail_with(&self, step: Step, state: StepState, context: &str, error: AppError) -> String {
        let summary = format!("{context}{}", error.message);
        // The raw cause (what the engine or the service said) stays in the step's log.
        if let Some(detail) = &error.detail {
            self.log(step, detail);
        }
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert(error);
        }
        self.step(step, state, Some(summary.clone()));
        summary
    }

    /// Keeps `error` as the release's first error unless one came before; returns its message.
    pub(super) fn remember(&self, error: AppError) -> String {
        let message = error.message.clone();
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert(error);
        }
        message
    }

    pub(super) fn release_id(&self) -> &str {
        &self.release_id
    }

    pub(super) fn first_error(&self) -> Option<AppError> {
        self.first_error.lock().ok().and_then(|first| first.clone())
    }

    pub(super) fn step(&self, step: Step, state: StepState, summary: Option<String>) {
        let elapsed_ms = match self.started.lock() {
            Ok(mut started) if state == StepState::Running => {
                started.insert(step, Instant::now());
                None
            }
            Ok(started) => started
                .get(&step)
                .map(|at| u64::try_from(at.elapsed().as_millis()).unwrap_or(u64::MAX)),
            Err(_) => None,
        };
        if let Err(error) = self
            .ledger
            .step(&self.release_id, step.as_str(), state, summary.as_deref())
        {
            tracing::error!(%error, "the ledger could not record a step");
        }
        if state == StepState::Failed {
            if let (Ok(mut first), Some(summary)) = (self.first_failure.lock(), &summary) {
                first.get_or_insert_with(|| summary.clone());
            }
        }
        (self.sink)(ReleaseEvent::Step {
            step,
            state,
            elapsed_ms,
            summary: summary.map(|text| crate::secrets::redact(&text).into_owned()),
        });
    }

    pub(super) fn log(&self, step: Step, line: &str) {
        let at_ms = checks::now_ms();
        if let Err(error) = self.ledger.log(
            &self.release_id,
            step.as_str(),
            "output",
            line,
            i64::try_from(at_ms).unwrap_or(0),
        ) {
            tracing::error!(%error, "the ledger could not record a log line");
        }
        (self.sink)(ReleaseEvent::Log {
            step,
            line: crate::secrets::redact(line).into_owned(),
            at_ms,
        });
    }

    /// Sends `event`; a test, lint or check report is also kept with the release, so History
    /// shows the failing tests and violations, not just the summary line.
    pub(super) fn event(&self, event: ReleaseEvent) {
        let kept = match &event {
            ReleaseEvent::Tests { report } => Some((Step::Tests, serde_json::to_value(report))),
            ReleaseEvent::Lint { report } => Some((Step::Lint, serde_json::to_value(report))),
            ReleaseEvent::Gate { report } => Some((Step::Checks, serde_json::to_value(report))),
            _ => None,
        };
        if let Some((step, Ok(report))) = kept {
            if let Err(error) = self.ledger.result(&self.release_id, step.as_str(), &report) {
                tracing::error!(%error, "the ledger could not keep a step's results");
            }
        }
        (self.sink)(event);
    }

    /// Keeps the key `step` ran with (and for a reused pass, the release it came from), so a
    /// later release of the same tree can reuse it.
    pub(super) fn keep_cache_key(&self, step: Step, key: &str, cached_from: Option<&str>) {
        if let Err(error) = self
            .ledger
            .keep_cache_key(&self.release_id, step.as_str(), key, cached_from)
        {
            tracing::error!(%error, "the ledger could not keep a gate's cache key");
        }
    }

    pub(super) fn note(&self, ending: &Ending) {
        if let Err(error) = self.ledger.note(&self.release_id, ending) {
            tracing::error!(%error, "the ledger could not record the release");
        }
    }

    pub(super) fn first_failure(&self) -> Option<String> {
        self.first_failure.lock().ok().and_then(|first| first.clone())
    }
}
