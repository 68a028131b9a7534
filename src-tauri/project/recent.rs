//! The recent-projects list, kept across restarts in `recent-projects.json`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::ProjectError;
use crate::paths::write_json_atomically;

const FILE_NAME: &str = "recent-projects.json";
/// Enough to find last month's projects, few enough to scan at a glance.
const MAX_RECENT: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RecentProject {
    pub name: String,
    pub path: String,
    /// RFC 3339, UTC.
    pub opened_at: String,
}

/// The list and the file it lives in.
#[derive(Debug)]
pub struct RecentProjects {
    file: PathBuf,
    items: Vec<RecentProject>,
}

impl RecentProjects {
    /// Loads the list; a missing or unreadable file starts an empty one (the list is a
    /// convenience, never a reason not to start).
    pub fn load(data_dir: &Path) -> Self {
        let file = data_dir.join(FILE_NAME);
        let items = std::fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Vec<RecentProject>>(&bytes).ok())
            .unwrap_or_default();
        Self { file, items }
    }

    /// Most recent first.
    pub fn items(&self) -> &[RecentProject] {
        &self.items
    }

    /// Moves (or adds) a project to the top and saves.
    pub fn touch(&mut self, name: &str, path: &str) -> Result<(), ProjectError> {
        self.items.retain(|item| item.path != path);
        self.items.insert(
            0,
            RecentProject {
                name: name.to_owned(),
                path: path.to_owned(),
                opened_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            },
        );
        self.items.truncate(MAX_RECENT);
        self.save()
    }

    /// Removes a project from the list and saves.
    pub fn forget(&mut self, path: &str) -> Result<(), ProjectError> {
        self.items.retain(|item| item.path != path);
        self.save()
    }

    fn save(&self) -> Result<(), ProjectError> {
        write_json_atomically(&self.file, &self.items).map_err(|error| ProjectError::RecentsNotSaved {
            path: self.file.clone(),
            reason: error.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_a_restart_most_recent_first() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let mut recents = RecentProjects::load(dir.path());
        recents.touch("a", "/p/a")?;
        recents.touch("b", "/p/b")?;
        recents.touch("a", "/p/a")?;
        let reloaded = RecentProjects::load(dir.path());
        let paths: Vec<_> = reloaded.items().iter().map(|item| item.path.as_str()).collect();
        assert_eq!(paths, ["/p/a", "/p/b"]);
        Ok(())
    }

    #[test]
    fn keeps_a_bounded_list_and_forgets_on_request() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let mut recents = RecentProjects::load(dir.path());
        for index in 0..(MAX_RECENT + 5) {
            recents.touch("p", &format!("/p/{index}"))?;
        }
        assert_eq!(recents.items().len(), MAX_RECENT);
        let newest = format!("/p/{}", MAX_RECENT + 4);
        recents.forget(&newest)?;
        assert!(RecentProjects::load(dir.path())
            .items()
            .iter()
            .all(|item| item.path != newest));
        Ok(())
    }

    #[test]
    fn a_corrupt_file_starts_an_empty_list() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join(FILE_NAME), "[{oops")?;
        assert!(RecentProjects::load(dir.path()).items().is_empty());
        Ok(())
    }
}
