//! What every command that ships or reads the ledger starts from: the settings checked, the
//! data folder made, the ledger opened, interrupted releases marked, and older app-wide links
//! moved into their projects. Apart from the commands so that each takes it from here.

use crate::error::AppError;
use crate::history::Ledger;
use crate::paths::AppPaths;
use crate::pipeline::{self, Context};
use crate::project;
use crate::settings::Settings;

/// The release context of this data folder (no project yet: `history`, `promote`, `--resume`).
pub(super) fn context(paths: &AppPaths, settings: Settings) -> Result<Context, AppError> {
    if let (_, Some(problem)) = Settings::load(paths) {
        return Err(crate::settings::problem_error(&problem));
    }
    paths.ensure()?;
    let secrets = crate::secrets::SecretStore::os(&paths.data_dir);
    let ledger = Ledger::open_configured(&paths.data_dir, settings.history_url().as_deref(), &secrets)?;
    let context = Context {
        data_dir: paths.data_dir.clone(),
        settings,
        ledger,
        secrets,
    };
    pipeline::start_up(&context)?;
    Ok(context)
}

/// The project's folder and the release context: what every command that ships needs.
pub(super) fn project_context(
    paths: &AppPaths,
    settings: Settings,
    project_dir: &str,
) -> Result<(std::path::PathBuf, Context), AppError> {
    let root = project::resolve_folder(project_dir)?;
    Ok((root, context(paths, settings)?))
}
