//! The last known view of each project: its header (as `open` read it) and its last plan (as
//! the pipeline made it), kept in the data folder so the window shows them at start before any
//! git call or plan has run.
//!
//! Both are kept as the JSON the window was sent, not re-read into their Rust types: this room
//! cannot name the pipeline's `Plan`, and the window only shows them until the fresh ones
//! arrive (the Release button waits for the fresh plan). A file written by another version of
//! Slipway is not shown, for its fields may not be the ones this window reads.
//!
//! Use: [`remember_project`] after a project opens, [`remember_plan`] after a plan is made,
//! [`last_known`] at start. Writes are best effort: a failure costs the next start its head
//! start, never the work that wrote it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use crate::paths::write_json_atomically;

const FOLDER: &str = "last-known";

/// What the window last showed of a project, to show again at once while it is refreshed.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LastKnown {
    #[ts(type = "ProjectSummary")]
    pub project: serde_json::Value,
    /// `None` until a plan was made for it.
    #[ts(type = "Plan | null")]
    pub plan: Option<serde_json::Value>,
}

/// One kept value and the version of Slipway that wrote it.
#[derive(Serialize, Deserialize)]
struct Kept {
    version: String,
    value: serde_json::Value,
}

fn file(data_dir: &Path, project_path: &str, part: &str) -> PathBuf {
    // A short digest of the path names the files: a path holds characters no file name may.
    let digest = Sha256::digest(project_path.as_bytes());
    let key: String = digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect();
    data_dir.join(FOLDER).join(format!("{key}-{part}.json"))
}

fn remember(data_dir: &Path, project_path: &str, part: &str, value: &serde_json::Value) -> std::io::Result<()> {
    let kept = Kept {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        value: value.clone(),
    };
    write_json_atomically(&file(data_dir, project_path, part), &kept)
}

fn recall(data_dir: &Path, project_path: &str, part: &str) -> Option<serde_json::Value> {
    let bytes = std::fs::read(file(data_dir, project_path, part)).ok()?;
    let kept: Kept = serde_json::from_slice(&bytes).ok()?;
    (kept.version == env!("CARGO_PKG_VERSION")).then_some(kept.value)
}

/// Keeps the header of the project at `project_path` (a `ProjectSummary` as JSON).
pub fn remember_project(data_dir: &Path, project_path: &str, summary: &serde_json::Value) -> std::io::Result<()> {
    remember(data_dir, project_path, "project", summary)
}

/// Keeps the plan just made for the project at `project_path` (a `Plan` as JSON).
pub fn remember_plan(data_dir: &Path, project_path: &str, plan: &serde_json::Value) -> std::io::Result<()> {
    remember(data_dir, project_path, "plan", plan)
}

/// What was last known of the project at `project_path`: `None` when its header was never
/// kept (or by another version), for a plan without its project cannot be shown.
pub fn last_known(data_dir: &Path, project_path: &str) -> Option<LastKnown> {
    let project = recall(data_dir, project_path, "project")?;
    // The header names the path the project was opened at: the one asked for.
    if project.get("path").and_then(serde_json::Value::as_str) != Some(project_path) {
        return None;
    }
    let plan = recall(data_dir, project_path, "plan")
        .filter(|plan| plan.get("projectPath").and_then(serde_json::Value::as_str) == Some(project_path));
    Some(LastKnown { project, plan })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_header_and_plan_kept_come_back_for_their_project_only() -> std::io::Result<()> {
        let data = tempfile::tempdir()?;
        assert_eq!(last_known(data.path(), "/work/shop"), None, "nothing kept yet");
        let summary = json!({ "name": "shop", "path": "/work/shop", "git": null });
        remember_project(data.path(), "/work/shop", &summary)?;
        assert_eq!(
            last_known(data.path(), "/work/shop"),
            Some(LastKnown {
                project: summary.clone(),
                plan: None
            })
        );
        let plan = json!({ "projectPath": "/work/shop", "steps": [] });
        remember_plan(data.path(), "/work/shop", &plan)?;
        let known = last_known(data.path(), "/work/shop");
        assert_eq!(known.and_then(|known| known.plan), Some(plan));
        assert_eq!(
            last_known(data.path(), "/work/other"),
            None,
            "another project has its own"
        );
        Ok(())
    }

    #[test]
    fn another_versions_file_or_a_damaged_one_is_not_shown() -> std::io::Result<()> {
        let data = tempfile::tempdir()?;
        let path = file(data.path(), "/work/shop", "project");
        std::fs::create_dir_all(path.parent().ok_or_else(|| std::io::Error::other("no parent"))?)?;
        let old = json!({ "version": "0.0.1-old", "value": { "name": "shop", "path": "/work/shop" } });
        std::fs::write(&path, old.to_string())?;
        assert_eq!(last_known(data.path(), "/work/shop"), None);
        std::fs::write(&path, "{ half")?;
        assert_eq!(last_known(data.path(), "/work/shop"), None);
        Ok(())
    }
}
