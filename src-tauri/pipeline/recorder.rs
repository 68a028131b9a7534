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
    /// When the ledger says the release started (RFC 3339).
    started_at: String,
    /// What the steps learnt on the way (the digest, a deploy id), kept as the ledger got it.
    noted: Arc<Mutex<Ending>>,
    started: Arc<Mutex<HashMap<Step, Instant>>>,
    /// Every failed step's summary, in the order they failed: all checks finish by default,
    /// so one release can end with several.
    failures: Arc<Mutex<Vec<String>>>,
    /// The first error behind a failed step, for its kind and hint.
    first_error: Arc<Mutex<Option<AppError>>>,
}

impl Recorder {
    pub(super) fn new(ledger: Ledger, release_id: String, started_at: String, sink: ReleaseSink) -> Self {
        Self {
            ledger,
            release_id,
            started_at,
            noted: Arc::default(),
            sink,
            started: Arc::default(),
            failures: Arc::default(),
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
        if let Err(error) = self.ledger.step(&self.release_id, step, state, summary.as_deref()) {
            tracing::error!(%error, "the ledger could not record a step");
        }
        if state == StepState::Failed {
            if let (Ok(mut failures), Some(summary)) = (self.failures.lock(), &summary) {
                failures.push(summary.clone());
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
            step,
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
        if let Ok(mut noted) = self.noted.lock() {
            noted.take_from(ending);
        }
        if let Err(error) = self.ledger.note(&self.release_id, ending) {
            tracing::error!(%error, "the ledger could not record the release");
        }
    }

    /// Everything noted so far: the run keeps what it produced instead of reading it back.
    pub(super) fn noted(&self) -> Ending {
        self.noted.lock().map(|noted| noted.clone()).unwrap_or_default()
    }

    pub(super) fn started_at(&self) -> &str {
        &self.started_at
    }

    /// What failed, every step in the order it failed: "Lint failed: 1 violation; Tests
    /// failed: 5 passed, 1 failed".
    pub(super) fn failures(&self) -> Option<String> {
        let failures = self.failures.lock().ok()?;
        (!failures.is_empty()).then(|| failures.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{NewRelease, Outcome};
    use crate::vocabulary::Target;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A folder on a tmpfs of its own, so the test fills a disk and not the machine's.
    /// Mounting needs root, which the test command has (CI runs as root).
    struct SmallDisk(tempfile::TempDir);

    impl SmallDisk {
        fn mount(megabytes: u32) -> Result<Self, Box<dyn std::error::Error>> {
            let dir = tempfile::tempdir()?;
            let mounted = std::process::Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
                .arg(dir.path())
                .status()?;
            if !mounted.success() {
                return Err("mounting a tmpfs needs root (the test command runs as root)".into());
            }
            Ok(Self(dir))
        }

        fn path(&self) -> &std::path::Path {
            self.0.path()
        }

        /// Takes every byte left; the filler is kept, so the disk stays full.
        fn fill(&self) -> std::io::Result<()> {
            use std::io::Write;
            let mut filler = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path().join("filler"))?;
            for size in [64 * 1024, 4096, 512, 1] {
                while filler.write_all(&vec![0u8; size]).is_ok() {}
            }
            Ok(())
        }
    }

    impl Drop for SmallDisk {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg("-l").arg(self.path()).status();
        }
    }

    /// The disk fills while the tests print (more than the history's reserve): the release
    /// that then goes live is recorded live with every step, log lines are dropped with a
    /// note, and the history reads on the full disk, from a new ledger as a new process would.
    #[test]
    fn a_release_that_goes_live_while_the_disk_fills_is_recorded_live() -> TestResult {
        // Room for the ledger, the reserve it spends, and the reserve again once space is freed.
        let disk = SmallDisk::mount(16)?;
        let ledger = Ledger::open(disk.path())?;
        let steps = [Step::Tests, Step::Build, Step::Push, Step::Deploy];
        ledger.begin(&NewRelease {
            id: "r1".to_owned(),
            project_path: "/p".to_owned(),
            project_name: "p".to_owned(),
            user: "ann".to_owned(),
            target: Target::Local,
            steps: steps.to_vec(),
            ..NewRelease::default()
        })?;
        let recorder = Recorder::new(ledger.clone(), "r1".to_owned(), String::new(), Arc::new(|_| {}));
        let line = "x".repeat(300);
        for (index, step) in steps.into_iter().enumerate() {
            recorder.step(step, StepState::Running, None);
            if index == 0 {
                for number in 0..1_000 {
                    recorder.log(step, &format!("{number} {line}"));
                }
                disk.fill()?;
            }
            // 3 MB of output per step once the disk is full: more than the 2 MB reserve.
            for number in 0..10_000 {
                recorder.log(step, &format!("{number} {line}"));
            }
            recorder.step(step, StepState::Passed, Some("done".to_owned()));
        }
        let finished = ledger.finish("r1", Outcome::Live, &Ending::default());
        let record = ledger.release("r1")?.ok_or("the release is recorded")?;
        let states: Vec<_> = record.steps.iter().map(|step| step.state).collect();
        println!(
            "finish: {finished:?}; recorded {:?} with steps {states:?}",
            record.outcome
        );
        finished?;
        assert_eq!(record.outcome, Outcome::Live);
        assert!(states.iter().all(|state| *state == StepState::Passed), "{states:?}");
        assert!(ledger.took_reserve(), "the person is told to free some space");
        let notes = ledger
            .log_lines("r1", "tests")?
            .into_iter()
            .filter(|line| line.starts_with("Log lines were dropped"))
            .count();
        assert_eq!(notes, 1, "one note says the log is not whole");
        drop(recorder);
        drop(ledger);

        // Every byte taken, even the reserve's: the history still reads.
        disk.fill()?;
        let ledger = Ledger::open(disk.path()).map_err(|error| format!("opening on a full disk: {error:?}"))?;
        assert!(
            ledger
                .notice()
                .is_some_and(|notice| notice.starts_with("The disk is full")),
            "{:?}",
            ledger.notice()
        );
        let releases = ledger.releases(None, 10)?;
        assert_eq!(releases.len(), 1);
        assert_eq!(releases[0].outcome, Outcome::Live);
        let refused = ledger.begin(&NewRelease {
            id: "r2".to_owned(),
            target: Target::Local,
            ..NewRelease::default()
        });
        let refused = crate::error::AppError::from(refused.err().ok_or("no room for a new release")?);
        assert!(refused.message.starts_with("The disk is full"), "{}", refused.message);

        // Space freed: the same ledger records again.
        std::fs::remove_file(disk.path().join("filler"))?;
        ledger
            .begin(&NewRelease {
                id: "r2".to_owned(),
                target: Target::Local,
                ..NewRelease::default()
            })
            .map_err(|error| format!("beginning once space is freed: {error:?}"))?;
        assert_eq!(ledger.releases(None, 10)?.len(), 2);
        Ok(())
    }
}
