//! The Release page: plan, run with live events, cancel; and the ledger's records.

use tauri::ipc::Channel;
use tauri::State;

use super::AppState;
use crate::error::{AppError, ErrorKind};
use crate::history::{self, ExportFormat, HistoryFilter, LogPage, Outcome, ReleaseDetail, ReleaseRecord};
use crate::pipeline::{self, Plan, ReleaseEvent, ReleaseOptions, ReleaseSink, ReleaseSummary, Target};
use crate::project;
use crate::tasks::TaskKind;

/// What a release of the project at `path` to its environment `environment` (else the one
/// `target` meant, else its default) would do, and what stops it; with `no_cache`,
/// as "Run everything" would: no gate taken from an earlier pass.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn plan_release(
    state: State<'_, AppState>,
    path: String,
    environment: Option<String>,
    target: Option<Target>,
    no_cache: Option<bool>,
) -> Result<Plan, AppError> {
    let root = project::resolve_folder(&path)?;
    let options = ReleaseOptions {
        environment,
        target,
        no_cache: no_cache.unwrap_or(false),
        ..ReleaseOptions::default()
    };
    let plan = pipeline::plan(&state.release_context()?, &root, &options).await?;
    // Shown at the next start while that start's own plan is worked out.
    super::project::keep_for_next_start(&state, &plan.project_path, &plan, project::remember_plan);
    crate::memory::after_first_plan();
    Ok(plan)
}

/// Waits (bounded) for the background `git fetch` the last plan of `path` started, so the
/// window plans again with what the remote says now.
#[tauri::command]
#[tracing::instrument(err(level = "warn"))]
pub async fn remote_fetch_settled(path: String) -> Result<(), AppError> {
    let root = project::resolve_folder(&path)?;
    project::fetch_settled(&root, std::time::Duration::from_secs(25)).await;
    Ok(())
}

/// CircleCI's verdict on the project's checked-out commit, as the plan shows it: what the
/// window refreshes while CircleCI runs.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn circleci_verdict(state: State<'_, AppState>, path: String) -> Result<Option<pipeline::CiPanel>, AppError> {
    let root = project::resolve_folder(&path)?;
    pipeline::circleci_panel(&state.release_context()?, &root).await
}

/// "Run on CircleCI": starts a pipeline for the project's branch and returns it as CircleCI
/// first lists it; the window follows it with `circleci_verdict`.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn run_on_circleci(state: State<'_, AppState>, path: String) -> Result<crate::circleci::CiVerdict, AppError> {
    let root = project::resolve_folder(&path)?;
    pipeline::run_on_circleci(&state.release_context()?, &root, None).await
}

/// Runs a release, streaming its events to `on_event`; ends with its summary. The OS is
/// told when it ends, for a person who looked away (from Rust: the web view needs no
/// notification permission).
#[tauri::command]
#[tracing::instrument(skip(app, state, on_event), err(level = "warn"))]
pub async fn start_release<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    path: String,
    options: ReleaseOptions,
    on_event: Channel<Vec<ReleaseEvent>>,
) -> Result<ReleaseSummary, AppError> {
    as_release_task(
        &app,
        &state,
        TaskKind::Release,
        &path,
        on_event,
        |context, root, cancel, sink| async move { pipeline::release(&context, &root, &options, &cancel, sink).await },
    )
    .await
}

/// Rolls the project at `path` back to release `to` (or the last good one), streaming its
/// events like a release. A rollback is a release task: it is refused while one runs, the
/// header shows it and Cancel stops it.
#[tauri::command]
#[tracing::instrument(skip(app, state, on_event), err(level = "warn"))]
pub async fn start_rollback<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    path: String,
    environment: Option<String>,
    to: Option<String>,
    on_event: Channel<Vec<ReleaseEvent>>,
) -> Result<ReleaseSummary, AppError> {
    let to = to.map_or(pipeline::RollbackTo::LastGood, pipeline::RollbackTo::Release);
    as_release_task(
        &app,
        &state,
        TaskKind::Rollback,
        &path,
        on_event,
        |context, root, cancel, sink| async move {
            pipeline::rollback(&context, &root, environment.as_deref(), to, &cancel, sink).await
        },
    )
    .await
}

/// Promotes a release to the next environment of the project's chain (or `to`, which must be
/// that one), as the project's release task; its events go to `on_event` like a release's.
#[tauri::command]
#[tracing::instrument(skip(app, state, on_event), err(level = "warn"))]
pub async fn start_promote<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    path: String,
    release_id: String,
    to: Option<String>,
    on_event: Channel<Vec<ReleaseEvent>>,
) -> Result<ReleaseSummary, AppError> {
    as_release_task(
        &app,
        &state,
        TaskKind::Promotion,
        &path,
        on_event,
        |context, _, cancel, sink| async move {
            pipeline::promote(&context, &release_id, to.as_deref(), &cancel, sink).await
        },
    )
    .await
}

/// Resumes an interrupted release (what it had left, nothing verified as done run again), as
/// the project's release task.
#[tauri::command]
#[tracing::instrument(skip(app, state, on_event), err(level = "warn"))]
pub async fn start_resume<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    path: String,
    release_id: String,
    on_event: Channel<Vec<ReleaseEvent>>,
) -> Result<ReleaseSummary, AppError> {
    as_release_task(
        &app,
        &state,
        TaskKind::Resume,
        &path,
        on_event,
        |context, _, cancel, sink| async move { pipeline::resume(&context, &release_id, &cancel, sink).await },
    )
    .await
}

/// Runs `work` as the project's release task: refused while one runs (the running one keeps
/// its token, and Cancel keeps working), events sent to the window (a closed window is no
/// reason to stop), and the OS told when it ends, for a person who looked away.
async fn as_release_task<R, Work, Running>(
    app: &tauri::AppHandle<R>,
    state: &State<'_, AppState>,
    kind: TaskKind,
    path: &str,
    on_event: Channel<Vec<ReleaseEvent>>,
    work: Work,
) -> Result<ReleaseSummary, AppError>
where
    R: tauri::Runtime,
    Work: FnOnce(pipeline::Context, std::path::PathBuf, tokio_util::sync::CancellationToken, ReleaseSink) -> Running,
    Running: std::future::Future<Output = Result<ReleaseSummary, AppError>>,
{
    let root = project::resolve_folder(path)?;
    let context = state.release_context()?;
    let task = state.tasks.start(kind, &root.display().to_string())?;
    let batches = std::sync::Arc::new(EventBatches {
        channel: on_event,
        pending: std::sync::Mutex::new(Pending::default()),
    });
    let to_window = EventBatches::sink(&batches);
    // The header on every page shows the step the task is at.
    let teller = task.step_teller();
    let sink: ReleaseSink = std::sync::Arc::new(move |event: ReleaseEvent| {
        if let ReleaseEvent::Step {
            step,
            state: history::StepState::Running,
            ..
        } = &event
        {
            teller.at_step(Some(step.as_str()));
        }
        // The summary reaches the window once: as the command's answer, after every event.
        if !matches!(event, ReleaseEvent::Summary(_)) {
            to_window(event);
        }
    });
    let result = work(context, root, task.token().clone(), sink).await;
    // Every event is in the window before the summary is.
    batches.flush();
    drop(task);
    if let Ok(summary) = &result {
        notify(app, summary);
    }
    result
}

/// How long a log line may wait for others to go with it: about two frames of the window.
const LOG_BATCH_WAIT: std::time::Duration = std::time::Duration::from_millis(25);
/// At most this many log lines in one message, so no batch is a long task for the web view
/// even when the timer runs late on a busy machine.
const MAX_BATCH_LINES: usize = 4000;

/// A release's events on their way to the window, sent in batches. Each channel message is a
/// script the web view runs, and a fetch when it is large: one per log line, a test step
/// printing 100,000 lines froze the window for seconds. Log lines wait up to
/// `LOG_BATCH_WAIT` for the ones after them, and a step's consecutive lines go as one
/// `Lines` entry; any other event goes at once, after the lines before it.
struct EventBatches {
    channel: Channel<Vec<ReleaseEvent>>,
    pending: std::sync::Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    events: Vec<ReleaseEvent>,
    lines: usize,
}

impl Pending {
    /// Queues `event`, a log line joined to the lines of its step just before it.
    fn push(&mut self, event: ReleaseEvent) {
        let ReleaseEvent::Log { step, line, .. } = event else {
            self.events.push(event);
            return;
        };
        self.lines += 1;
        if let Some(ReleaseEvent::Lines { step: last, lines }) = self.events.last_mut() {
            if *last == step {
                lines.push(line);
                return;
            }
        }
        self.events.push(ReleaseEvent::Lines {
            step,
            lines: vec![line],
        });
    }

    fn take(&mut self) -> Vec<ReleaseEvent> {
        self.lines = 0;
        std::mem::take(&mut self.events)
    }
}

impl EventBatches {
    fn sink(batches: &std::sync::Arc<Self>) -> ReleaseSink {
        let batches = batches.clone();
        std::sync::Arc::new(move |event: ReleaseEvent| {
            let is_log = matches!(event, ReleaseEvent::Log { .. });
            let lines = {
                let mut pending = batches
                    .pending
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                pending.push(event);
                pending.lines
            };
            if !is_log || lines >= MAX_BATCH_LINES {
                batches.flush();
            } else if lines == 1 {
                // The first line since the last message (any other event goes at once, so
                // only lines ever wait). The sink is called from the pipeline's tasks and
                // threads alike: Tauri's runtime takes the timer from any of them.
                let later = batches.clone();
                tauri::async_runtime::spawn(async move {
                    tokio::time::sleep(LOG_BATCH_WAIT).await;
                    later.flush();
                });
            }
        })
    }

    /// Sends what waits, holding the lock so batches arrive in order.
    fn flush(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if pending.events.is_empty() {
            return;
        }
        // A closed window has no one to tell: the release goes on and the ledger keeps it.
        let _ = self.channel.send(pending.take());
    }
}

fn notify<R: tauri::Runtime>(app: &tauri::AppHandle<R>, summary: &ReleaseSummary) {
    use tauri_plugin_notification::NotificationExt;
    let (title, body) = match summary.outcome {
        Outcome::Live => (
            "Released".to_owned(),
            format!("{} is live at {}", summary.image, summary.url.as_deref().unwrap_or("")),
        ),
        outcome => (
            format!("Release {}", outcome.as_str()),
            summary.message.clone().unwrap_or_default(),
        ),
    };
    // No notification service (a bare X server) is no reason to fail a release.
    if let Err(error) = app.notification().builder().title(title).body(body).show() {
        tracing::info!(%error, "no notification shown");
    }
}

/// Cancels the running release of the project at `path`; true when one was running here.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn cancel_release(state: State<'_, AppState>, path: String) -> Result<bool, AppError> {
    let root = project::resolve_folder(&path)?;
    Ok(state.tasks.cancel_for(TaskKind::Release, &root.display().to_string()))
}

/// The newest releases that match `filter`, of one project or of all.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn list_releases(
    state: State<'_, AppState>,
    mut filter: HistoryFilter,
) -> Result<Vec<ReleaseRecord>, AppError> {
    if let Some(path) = &filter.project_path {
        filter.project_path = Some(project::resolve_folder(path)?.display().to_string());
    }
    let ledger = state.release_context()?.ledger;
    on_ledger(move || ledger.list(&filter)).await
}

/// What runs now for the project at `path`, per target, asked of the target itself.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn live_now(state: State<'_, AppState>, path: String) -> Result<Vec<pipeline::LiveNow>, AppError> {
    let root = project::resolve_folder(&path)?;
    pipeline::live_now(&state.release_context()?, &root).await
}

/// What rolling the project back to release `to` on `environment` would cross (the Django
/// migrations the live release has and the target does not), asked before the person confirms.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn rollback_crossing(
    state: State<'_, AppState>,
    path: String,
    environment: Option<String>,
    to: String,
) -> Result<pipeline::RollbackCrossing, AppError> {
    let root = project::resolve_folder(&path)?;
    pipeline::rollback_crossing(
        &state.release_context()?,
        &root,
        environment.as_deref(),
        pipeline::RollbackTo::Release(to),
    )
    .await
}

/// The project's app on this machine (its container), `None` when none runs or ran.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn local_app(state: State<'_, AppState>, path: String) -> Result<Option<pipeline::LocalApp>, AppError> {
    let root = project::resolve_folder(&path)?;
    pipeline::local_app(&state.release_context()?, &root).await
}

/// Stops, restarts or runs again the project's container; answers with it as it is after.
/// *Run it again* on a removed container ships the release that was live here again, as the
/// project's release task (the header shows it; its events stay with the task); its failure
/// comes back as this command's error.
#[tauri::command]
#[tracing::instrument(skip(app, state), err(level = "warn"))]
pub async fn act_on_local_app<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    path: String,
    action: pipeline::AppAction,
) -> Result<Option<pipeline::LocalApp>, AppError> {
    let root = project::resolve_folder(&path)?;
    let context = state.release_context()?;
    let removed = action == pipeline::AppAction::RunAgain
        && pipeline::local_app(&context, &root)
            .await?
            .is_some_and(|local| local.state == pipeline::LocalAppState::Removed);
    if !removed {
        return pipeline::act_on_local_app(&context, &root, action).await;
    }
    let unheard = Channel::new(|_| Ok(()));
    let summary = as_release_task(
        &app,
        &state,
        TaskKind::Rollback,
        &path,
        unheard,
        |context, root, cancel, sink| async move { pipeline::run_local_again(&context, &root, &cancel, sink).await },
    )
    .await?;
    if let Some(error) = summary.error {
        return Err(error);
    }
    pipeline::local_app(&context, &root).await
}

/// What the project's container printed since `since` (Unix seconds; 0 for its last lines).
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn local_app_output(
    state: State<'_, AppState>,
    path: String,
    since: i64,
) -> Result<pipeline::AppOutput, AppError> {
    let root = project::resolve_folder(&path)?;
    pipeline::local_app_output(&state.paths.data_dir, &root, since).await
}

/// What the person should know about the history file itself (damaged and replaced, or
/// written by a newer Slipway).
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn history_notice(state: State<'_, AppState>) -> Result<Option<String>, AppError> {
    Ok(state.release_context()?.ledger.notice().map(str::to_owned))
}

/// One release with its steps and the structured results of its tests, lint and checks.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn release_detail(state: State<'_, AppState>, release_id: String) -> Result<ReleaseDetail, AppError> {
    let ledger = state.release_context()?.ledger;
    on_ledger(move || history::detail(&ledger, &release_id))
        .await?
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::NotFound,
                "That release is not in the history.",
                "Refresh the list.",
            )
        })
}

/// A page of one step's recorded output, optionally only the lines holding `search`.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn release_log(
    state: State<'_, AppState>,
    release_id: String,
    step: String,
    offset: u32,
    limit: u32,
    search: Option<String>,
) -> Result<LogPage, AppError> {
    let ledger = state.release_context()?.ledger;
    on_ledger(move || ledger.log_page(&release_id, &step, offset, limit.min(5000), search.as_deref())).await
}

/// Writes the filtered list (CSV or JSON) to `path`, a file the person chose in the save
/// dialog; returns how many releases it holds.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn export_releases(
    state: State<'_, AppState>,
    filter: HistoryFilter,
    format: ExportFormat,
    path: String,
) -> Result<u32, AppError> {
    let ledger = state.release_context()?.ledger;
    tokio::task::spawn_blocking(move || history::export_to(&ledger, &filter, format, std::path::Path::new(&path)))
        .await
        .map_err(|error| AppError::new(ErrorKind::Unknown, error.to_string(), "Try again."))?
}

/// Writes one release, with its results and every step's log, as JSON to `path`, a file the
/// person chose in the save dialog.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn"))]
pub async fn export_release(state: State<'_, AppState>, release_id: String, path: String) -> Result<(), AppError> {
    let ledger = state.release_context()?.ledger;
    tokio::task::spawn_blocking(move || history::export_release_to(&ledger, &release_id, std::path::Path::new(&path)))
        .await
        .map_err(|error| AppError::new(ErrorKind::Unknown, error.to_string(), "Try again."))?
}

/// Ledger reads are blocking SQLite calls: off the async runtime.
async fn on_ledger<T: Send + 'static>(
    read: impl FnOnce() -> Result<T, history::HistoryError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(read)
        .await
        .map_err(|error| AppError::new(ErrorKind::Unknown, error.to_string(), "Try again."))?
        .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::StepState;
    use crate::vocabulary::Step;

    fn log(step: Step, line: &str) -> ReleaseEvent {
        ReleaseEvent::Log {
            step,
            line: line.to_owned(),
            at_ms: 0,
        }
    }

    #[test]
    fn a_steps_consecutive_lines_go_as_one_entry_in_order() {
        let mut pending = Pending::default();
        let step = ReleaseEvent::Step {
            step: Step::Build,
            state: StepState::Running,
            elapsed_ms: None,
            summary: None,
        };
        for event in [
            log(Step::Tests, "one"),
            log(Step::Tests, "two"),
            log(Step::Lint, "three"),
            step.clone(),
            log(Step::Tests, "four"),
        ] {
            pending.push(event);
        }
        assert_eq!(pending.lines, 4);
        let lines = |step: Step, lines: &[&str]| ReleaseEvent::Lines {
            step,
            lines: lines.iter().map(|line| (*line).to_owned()).collect(),
        };
        assert_eq!(
            pending.take(),
            vec![
                lines(Step::Tests, &["one", "two"]),
                lines(Step::Lint, &["three"]),
                step,
                lines(Step::Tests, &["four"]),
            ]
        );
        assert_eq!(pending.lines, 0);
        assert!(pending.events.is_empty());
    }
}
