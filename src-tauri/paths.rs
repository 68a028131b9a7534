//! Where Slipway keeps its data and logs.
//!
//! The CLI and the window must agree without Tauri's path resolver (the CLI never starts
//! Tauri), so both use this. The folders match Tauri's own `app_data_dir` layout for the
//! bundle identifier. `SLIPWAY_DATA_DIR` moves everything, which is how tests isolate runs.

use std::path::{Path, PathBuf};

use crate::error::{AppError, ErrorKind};

/// The bundle identifier from `tauri.conf.json`; the data folder is named after it.
pub const APP_IDENTIFIER: &str = "dev.slipway.app";

/// The folders of one Slipway installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPaths {
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
}

impl AppPaths {
    /// Resolves the folders from `SLIPWAY_DATA_DIR`, else the platform's data folder.
    pub fn resolve() -> Result<Self, AppError> {
        let data_dir = match std::env::var_os("SLIPWAY_DATA_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => dirs::data_dir()
                .ok_or_else(|| {
                    AppError::new(
                        ErrorKind::Precondition,
                        "Could not find a folder for application data.",
                        "Set the HOME environment variable, or SLIPWAY_DATA_DIR to a writable folder.",
                    )
                })?
                .join(APP_IDENTIFIER),
        };
        Ok(Self::under(&data_dir))
    }

    /// The layout below one data folder.
    pub fn under(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            log_dir: data_dir.join("logs"),
        }
    }

    /// Creates the folders if they are missing.
    pub fn ensure(&self) -> Result<(), AppError> {
        for dir in [&self.data_dir, &self.log_dir] {
            std::fs::create_dir_all(dir).map_err(|error| {
                AppError::new(
                    ErrorKind::Io,
                    format!("Could not create the folder {}: {error}", dir.display()),
                    "Check that the folder is writable, or set SLIPWAY_DATA_DIR to one that is.",
                )
            })?;
        }
        Ok(())
    }
}

/// Writes a file so that a crash never leaves it half written: a temporary file beside it,
/// then a rename over the old one.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let parent = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(parent)?;
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    let temporary = parent.join(format!(".{file_name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, contents)?;
    std::fs::rename(&temporary, path)
}

/// Writes `value` as pretty JSON, atomically.
pub fn write_json_atomically(path: &Path, value: &impl serde::Serialize) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    write_atomically(path, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_live_inside_the_data_folder() {
        let paths = AppPaths::under(Path::new("/tmp/slipway-data"));
        assert_eq!(paths.log_dir, Path::new("/tmp/slipway-data/logs"));
    }

    #[test]
    fn atomic_write_replaces_the_whole_file() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("nested/settings.json");
        write_atomically(&file, b"first version, longer")?;
        write_atomically(&file, b"second")?;
        assert_eq!(std::fs::read_to_string(&file)?, "second");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("nested"))?.collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
        Ok(())
    }
}
