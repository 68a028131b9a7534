//! The tasks room: every long job the window starts (a release, checks, an image build or
//! push) is registered here with its cancellation token, so it can be listed, cancelled and
//! found again from any page, and a second one of the same kind for the same project is
//! refused before it starts.
//!
//! How to use it: `start` returns a [`TaskGuard`]; run the job with the guard's token and
//! drop the guard when the job ends, however it ends: only its own entry goes (a refused
//! duplicate never touches the running one's).

use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::error::{AppError, ErrorKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum TaskKind {
    Release,
    /// A rollback, a promotion and a resume are releases too: one of the four at a time per
    /// project (they share the deploy and the ledger's running row).
    Rollback,
    Promotion,
    Resume,
    Checks,
    Build,
    Push,
    /// The watch of Sentry after a release.
    Watch,
}

impl TaskKind {
    fn words(self) -> &'static str {
        match self {
            TaskKind::Release => "A release",
            TaskKind::Rollback => "A rollback",
            TaskKind::Promotion => "A promotion",
            TaskKind::Resume => "A resume",
            TaskKind::Checks => "Checks",
            TaskKind::Build => "An image build",
            TaskKind::Push => "A push",
            TaskKind::Watch => "A watch of Sentry",
        }
    }

    /// The kinds that cannot run beside each other for one project share a slot.
    fn slot(self) -> TaskKind {
        match self {
            TaskKind::Rollback | TaskKind::Promotion | TaskKind::Resume => TaskKind::Release,
            other => other,
        }
    }
}

/// A running task, as the window lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TaskInfo {
    #[ts(type = "number")]
    pub id: u64,
    pub kind: TaskKind,
    /// The project's folder.
    pub project: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// Cancel was asked and the task is stopping.
    pub cancelling: bool,
    /// The step it is at (`tests`, `push`, …), for the tasks that have steps.
    pub step: Option<String>,
}

struct Entry {
    info: TaskInfo,
    token: CancellationToken,
}

/// Called with the whole list whenever it changes (the app turns it into an event).
pub type TasksChanged = Arc<dyn Fn(Vec<TaskInfo>) + Send + Sync>;

#[derive(Default)]
struct Inner {
    next_id: u64,
    running: Vec<Entry>,
    on_change: Option<TasksChanged>,
    /// Slipway is updating itself: no job starts until it is done (or failed).
    updating: bool,
}

/// The registry; cheap to clone, shared by every command.
#[derive(Clone, Default)]
pub struct Tasks {
    inner: Arc<Mutex<Inner>>,
}

impl Tasks {
    /// Registers a task, or refuses it when one of the same kind runs for the project.
    pub fn start(&self, kind: TaskKind, project: &str) -> Result<TaskGuard, AppError> {
        let (guard, list, notify) = {
            let mut inner = self.lock()?;
            if inner.updating {
                return Err(AppError::new(
                    ErrorKind::Precondition,
                    "Slipway is updating itself.",
                    "It starts again on the new version in a moment; start this then.",
                ));
            }
            if let Some(running) = inner
                .running
                .iter()
                .find(|entry| entry.info.kind.slot() == kind.slot() && entry.info.project == project)
                .map(|entry| entry.info.kind)
            {
                return Err(AppError::new(
                    ErrorKind::Precondition,
                    format!("{} of this project is already running.", running.words()),
                    "Wait for it to finish, or cancel it first.",
                ));
            }
            inner.next_id += 1;
            let id = inner.next_id;
            let token = CancellationToken::new();
            inner.running.push(Entry {
                info: TaskInfo {
                    id,
                    kind,
                    project: project.to_owned(),
                    started_at: chrono::Utc::now().to_rfc3339(),
                    cancelling: false,
                    step: None,
                },
                token: token.clone(),
            });
            let guard = TaskGuard {
                tasks: self.clone(),
                id,
                token,
            };
            (guard, Self::infos(&inner), inner.on_change.clone())
        };
        if let Some(notify) = notify {
            notify(list);
        }
        Ok(guard)
    }

    /// Asks the task `id` to stop; false when no such task runs.
    pub fn cancel(&self, id: u64) -> bool {
        self.cancel_matching(|info| info.id == id)
    }

    /// Asks the task of `kind` (or one sharing its slot: a rollback for a release) for
    /// `project` to stop; false when none runs.
    pub fn cancel_for(&self, kind: TaskKind, project: &str) -> bool {
        self.cancel_matching(|info| info.kind.slot() == kind.slot() && info.project == project)
    }

    pub fn list(&self) -> Vec<TaskInfo> {
        self.lock().map(|inner| Self::infos(&inner)).unwrap_or_default()
    }

    /// What runs now, a sentence each ("A release of /p/lettings, at its deploy step"), for a
    /// crash report: never waits for the list (the panic may have struck while it was held).
    pub fn describe_now(&self) -> Vec<String> {
        let Ok(inner) = self.inner.try_lock() else {
            return Vec::new();
        };
        inner
            .running
            .iter()
            .map(|entry| {
                let step = entry
                    .info
                    .step
                    .as_ref()
                    .map(|step| format!(", at its {step} step"))
                    .unwrap_or_default();
                format!("{} of {}{step}", entry.info.kind.words(), entry.info.project)
            })
            .collect()
    }

    /// Who hears of every change (set once, when the app starts).
    pub fn on_change(&self, notify: TasksChanged) {
        if let Ok(mut inner) = self.lock() {
            inner.on_change = Some(notify);
        }
    }

    fn cancel_matching(&self, wanted: impl Fn(&TaskInfo) -> bool) -> bool {
        let (found, list, notify) = {
            let Ok(mut inner) = self.lock() else { return false };
            let mut found = false;
            for entry in inner.running.iter_mut().filter(|entry| wanted(&entry.info)) {
                entry.token.cancel();
                entry.info.cancelling = true;
                found = true;
            }
            (found, Self::infos(&inner), inner.on_change.clone())
        };
        if let (true, Some(notify)) = (found, notify) {
            notify(list);
        }
        found
    }

    fn set_step(&self, id: u64, step: Option<&str>) {
        let (list, notify) = {
            let Ok(mut inner) = self.lock() else { return };
            let Some(entry) = inner.running.iter_mut().find(|entry| entry.info.id == id) else {
                return;
            };
            if entry.info.step.as_deref() == step {
                return;
            }
            entry.info.step = step.map(str::to_owned);
            (Self::infos(&inner), inner.on_change.clone())
        };
        if let Some(notify) = notify {
            notify(list);
        }
    }

    fn finish(&self, id: u64) {
        let (list, notify) = {
            let Ok(mut inner) = self.lock() else { return };
            inner.running.retain(|entry| entry.info.id != id);
            (Self::infos(&inner), inner.on_change.clone())
        };
        let idle = list.is_empty();
        if let Some(notify) = notify {
            notify(list);
        }
        if idle {
            crate::memory::after_work();
        }
    }

    fn infos(inner: &Inner) -> Vec<TaskInfo> {
        inner.running.iter().map(|entry| entry.info.clone()).collect()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, AppError> {
        self.inner.lock().map_err(|_| {
            AppError::new(
                ErrorKind::Unknown,
                "The list of running tasks is unusable after a crash.",
                "Restart Slipway.",
            )
        })
    }
}

/// A registered task; dropping it removes the task, whatever way it ended.
/// Held while Slipway updates itself: taken only when nothing runs, and no job starts while it
/// is held. Dropped (an update that failed), jobs start again.
pub struct UpdateGuard {
    tasks: Tasks,
}

impl Drop for UpdateGuard {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.tasks.lock() {
            inner.updating = false;
        }
    }
}

impl Tasks {
    /// Nothing runs, and nothing will start until the guard is dropped; or why not.
    pub fn begin_update(&self) -> Result<UpdateGuard, AppError> {
        let mut inner = self.lock()?;
        if !inner.running.is_empty() || inner.updating {
            return Err(AppError::new(
                ErrorKind::Precondition,
                "Slipway updates when nothing runs.",
                "Wait for the release (or the other jobs) to finish, or cancel them, then update.",
            ));
        }
        inner.updating = true;
        Ok(UpdateGuard { tasks: self.clone() })
    }
}

pub struct TaskGuard {
    tasks: Tasks,
    id: u64,
    token: CancellationToken,
}

impl TaskGuard {
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The token the task's work watches.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Tells the window the step the task is at now (told only when it changes).
    pub fn at_step(&self, step: Option<&str>) {
        self.tasks.set_step(self.id, step);
    }

    /// What the task's event sink keeps to tell its step from any thread.
    pub fn step_teller(&self) -> StepTeller {
        StepTeller {
            tasks: self.tasks.clone(),
            id: self.id,
        }
    }
}

/// Tells a task's step; outliving the task is harmless (a finished task is not found).
#[derive(Clone)]
pub struct StepTeller {
    tasks: Tasks,
    id: u64,
}

impl StepTeller {
    pub fn at_step(&self, step: Option<&str>) {
        self.tasks.set_step(self.id, step);
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.tasks.finish(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_waits_for_the_jobs_and_no_job_starts_during_it() -> Result<(), AppError> {
        let tasks = Tasks::default();
        let release = tasks.start(TaskKind::Release, "/p/shop")?;
        assert!(tasks.begin_update().is_err(), "a release runs");
        drop(release);
        let update = tasks.begin_update()?;
        let refused = tasks.start(TaskKind::Release, "/p/shop").err().ok_or(AppError::new(
            ErrorKind::Unknown,
            "a release started during the update",
            "",
        ))?;
        assert_eq!(refused.message, "Slipway is updating itself.");
        assert!(tasks.begin_update().is_err(), "one update at a time");
        // The update failed: jobs start again.
        drop(update);
        tasks.start(TaskKind::Release, "/p/shop")?;
        Ok(())
    }

    /// A second Release click while the first runs is refused, and the refusal leaves the
    /// first one cancellable (its token was once dropped by the second's clean-up).
    #[test]
    fn a_refused_duplicate_never_takes_the_running_ones_token() -> Result<(), AppError> {
        let tasks = Tasks::default();
        let first = tasks.start(TaskKind::Release, "/p/shop")?;
        let second = tasks.start(TaskKind::Release, "/p/shop");
        assert!(second.is_err(), "a duplicate is refused");
        drop(second);
        assert!(
            tasks.cancel_for(TaskKind::Release, "/p/shop"),
            "the first is still there"
        );
        assert!(first.token().is_cancelled());
        assert!(tasks.list()[0].cancelling);
        // Other kinds and projects run beside it.
        let checks = tasks.start(TaskKind::Checks, "/p/shop")?;
        let other = tasks.start(TaskKind::Release, "/p/blog")?;
        assert_eq!(tasks.list().len(), 3);
        drop(first);
        let left: Vec<(TaskKind, String)> = tasks.list().into_iter().map(|info| (info.kind, info.project)).collect();
        assert_eq!(
            left,
            [
                (TaskKind::Checks, "/p/shop".to_owned()),
                (TaskKind::Release, "/p/blog".to_owned())
            ]
        );
        assert!(tasks.cancel(other.id()));
        assert!(!checks.token().is_cancelled());
        Ok(())
    }

    /// A rollback is refused while a release runs (they would deploy over each other), and
    /// the release's Cancel stops a rollback too.
    #[test]
    fn a_rollback_shares_the_release_slot_and_shows_its_step() -> Result<(), AppError> {
        let tasks = Tasks::default();
        let rollback = tasks.start(TaskKind::Rollback, "/p/shop")?;
        let refused = tasks
            .start(TaskKind::Release, "/p/shop")
            .err()
            .map(|error| error.message);
        assert_eq!(
            refused.as_deref(),
            Some("A rollback of this project is already running.")
        );
        rollback.at_step(Some("deploy"));
        assert_eq!(tasks.list()[0].step.as_deref(), Some("deploy"));
        assert_eq!(tasks.list()[0].kind, TaskKind::Rollback);
        assert!(tasks.cancel_for(TaskKind::Release, "/p/shop"));
        assert!(rollback.token().is_cancelled());
        Ok(())
    }

    #[test]
    fn every_change_is_told() -> Result<(), AppError> {
        let tasks = Tasks::default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        tasks.on_change(Arc::new(move |list| {
            if let Ok(mut seen) = record.lock() {
                seen.push(list.len());
            }
        }));
        let guard = tasks.start(TaskKind::Build, "/p")?;
        tasks.cancel(guard.id());
        drop(guard);
        assert_eq!(seen.lock().map(|seen| seen.clone()).unwrap_or_default(), [1, 1, 0]);
        Ok(())
    }
}
