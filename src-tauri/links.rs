//! What each project deploys to and reports to, set up from the window or the CLI through
//! one door: its environments (this computer, and Render environments such as staging and
//! production, each with its service, image repository, health path and Sentry
//! environment) and its Sentry project.
//!
//! An account is a credential shared by every project; a link is the project's own and is
//! kept in its settings file. A Render service is looked up with the connected key when it
//! is linked (its name and configured image are kept with the link, so the plan can say
//! "Deploys to lettings-web (production) on Render" and push to the service's own image
//! without asking Render again). [`upgrade`] moves what older versions kept app-wide (one
//! Render service, one Sentry project) into the projects that released with it, once.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::accounts;
use crate::error::{AppError, ErrorAction, ErrorKind};
use crate::history::{HistoryFilter, Ledger};
use crate::project::{self, Environment, ProjectSettings, RenderLink, SentryLink, Target};
use crate::secrets::{SecretStore, Service};
use crate::settings::Settings;

/// A change to one environment; `None` leaves a field as it is, an empty text clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentChange {
    /// A new name.
    #[serde(default)]
    #[ts(optional)]
    pub rename: Option<String>,
    /// The Render service (`srv-…`), looked up with the connected key.
    #[serde(default)]
    #[ts(optional)]
    pub render_service: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub image_repository: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub health_path: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub sentry_environment: Option<String>,
    /// Rehearse its releases on this computer before the push.
    #[serde(default)]
    #[ts(optional)]
    pub rehearse: Option<bool>,
    /// Roll back by itself, or not.
    #[serde(default)]
    #[ts(optional)]
    pub auto_rollback: Option<AutoRollbackChoice>,
    /// Make it the environment Release goes to.
    #[serde(default)]
    pub make_default: bool,
}

/// The person's choice of [`crate::project::AutoRollback`]: off, or on with its numbers
/// (`new_issues` 0: Sentry never fires it, a failed live check still does).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AutoRollbackChoice {
    pub on: bool,
    pub new_issues: u32,
    pub minutes: u32,
}

fn cleared(value: String) -> Option<String> {
    Some(value.trim().to_owned()).filter(|value| !value.is_empty())
}

/// The Render service `id` as the connected key sees it.
/// Refuses a Render service another project deploys to: one click must never put one app
/// over another. The other project is named by its folder when the recent list knows it.
fn refuse_if_taken(data_dir: &Path, root: &Path, service: &str) -> Result<(), AppError> {
    let Some((id, environment)) = project::projects_using_service(data_dir, service, root)
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let name = project::RecentProjects::load(data_dir)
        .items()
        .iter()
        .find(|recent| project::project_id(Path::new(&recent.path)) == id)
        .map(|recent| recent.name.clone())
        .unwrap_or_else(|| "another project".to_owned());
    Err(AppError::new(
        ErrorKind::Precondition,
        format!(
            "{service} is where {name} ({environment}) deploys: deploying this project there would replace that app."
        ),
        format!("Pick another service, or remove it from {name}'s environments first."),
    )
    .with_action(ErrorAction::PickRenderService))
}

/// The Render service a change links, looked up; `None` when it links none.
async fn changed_service(
    data_dir: &Path,
    settings: &Settings,
    root: &Path,
    change: &EnvironmentChange,
) -> Result<Option<RenderLink>, AppError> {
    match &change.render_service {
        Some(id) => Ok(Some(render_link(data_dir, settings, root, id).await?)),
        None => Ok(None),
    }
}

async fn render_link(data_dir: &Path, settings: &Settings, root: &Path, id: &str) -> Result<RenderLink, AppError> {
    refuse_if_taken(data_dir, root, id.trim())?;
    let services = accounts::render_services(SecretStore::os(data_dir), settings).await?;
    let found = services
        .into_iter()
        .find(|service| service.id == id.trim())
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::NotFound,
                format!("The connected Render account has no service {}.", id.trim()),
                "Pick one of the services the account lists.",
            )
            .with_action(ErrorAction::PickRenderService)
        })?;
    Ok(RenderLink {
        id: found.id,
        name: Some(found.name),
        image: found.image,
    })
}

fn apply(environment: &mut Environment, change: &EnvironmentChange, service: Option<RenderLink>) {
    if let Some(name) = &change.rename {
        environment.name = name.trim().to_owned();
    }
    if let Some(service) = service {
        environment.render_service = Some(service);
    }
    if let Some(value) = &change.image_repository {
        environment.image_repository = cleared(value.clone());
    }
    if let Some(value) = &change.health_path {
        environment.health_path = cleared(value.clone());
    }
    if let Some(value) = &change.sentry_environment {
        environment.sentry_environment = cleared(value.clone());
    }
    if let Some(rehearse) = change.rehearse {
        environment.rehearse = Some(rehearse);
    }
    if let Some(choice) = change.auto_rollback {
        environment.auto_rollback = choice.on.then_some(crate::project::AutoRollback {
            new_issues: choice.new_issues,
            minutes: choice.minutes.max(1),
        });
    }
}

/// Saves `settings` for `root` after checking its links hold together.
fn save(data_dir: &Path, root: &Path, settings: &ProjectSettings) -> Result<(), AppError> {
    check(data_dir, settings)?;
    project::save_settings(data_dir, root, settings)?;
    Ok(())
}

/// Checks what the window saves: unique names, no service twice, and a Sentry link through a
/// connected account.
pub fn check(data_dir: &Path, settings: &ProjectSettings) -> Result<(), AppError> {
    let mut rebuilt = project::Environments::default();
    for environment in &settings.environments.list {
        rebuilt.add(environment.clone())?;
    }
    if let Some(default) = &settings.environments.default {
        rebuilt.set_default(default)?;
    }
    if let Some(link) = &settings.sentry_project {
        if SecretStore::os(data_dir)
            .account(Service::Sentry, &link.account)
            .is_none()
        {
            return Err(AppError::new(
                ErrorKind::Precondition,
                format!("No Sentry account named {} is connected.", link.account),
                "Connect Sentry in Settings → Accounts, then link the project.",
            )
            .with_action(ErrorAction::OpenAccounts));
        }
    }
    Ok(())
}

/// Adds the environment `name` to the project: a Render one with `change.render_service`.
pub async fn add_environment(
    data_dir: &Path,
    settings: &Settings,
    root: &Path,
    name: &str,
    change: &EnvironmentChange,
) -> Result<ProjectSettings, AppError> {
    let mut project_settings = project::current_settings(data_dir, root)?;
    let service = changed_service(data_dir, settings, root, change).await?;
    let mut environment = Environment {
        name: project::check_name(name)?,
        target: Target::Render,
        ..Environment::local()
    };
    apply(&mut environment, change, service);
    project_settings.environments.add(environment.clone())?;
    if change.make_default {
        project_settings.environments.set_default(&environment.name)?;
    }
    save(data_dir, root, &project_settings)?;
    Ok(project_settings)
}

/// Changes the environment `name` (this computer's included).
pub async fn change_environment(
    data_dir: &Path,
    settings: &Settings,
    root: &Path,
    name: &str,
    change: &EnvironmentChange,
) -> Result<ProjectSettings, AppError> {
    let mut project_settings = project::current_settings(data_dir, root)?;
    let service = changed_service(data_dir, settings, root, change).await?;
    let changed = project_settings
        .environments
        .update(name, |environment| apply(environment, change, service))?;
    if change.make_default {
        project_settings.environments.set_default(&changed.name)?;
    }
    save(data_dir, root, &project_settings)?;
    Ok(project_settings)
}

/// Removes a Render environment from the project (its history stays).
pub fn remove_environment(data_dir: &Path, root: &Path, name: &str) -> Result<ProjectSettings, AppError> {
    let mut project_settings = project::current_settings(data_dir, root)?;
    project_settings.environments.remove(name)?;
    save(data_dir, root, &project_settings)?;
    Ok(project_settings)
}

/// Links the project to the Sentry project `organization/project`, through the connected
/// Sentry account `account` (else the one of that organization), after checking the token
/// sees that project.
pub async fn link_sentry(
    data_dir: &Path,
    root: &Path,
    account: Option<&str>,
    organization: &str,
    project_slug: &str,
) -> Result<ProjectSettings, AppError> {
    let organization = organization.trim().to_owned();
    let project_slug = project_slug.trim().to_owned();
    if organization.is_empty() || project_slug.is_empty() {
        return Err(AppError::new(
            ErrorKind::Validation,
            "A Sentry project is named by its organization and its slug.",
            "Pick the project from the list, or give it as ORG/SLUG.",
        ));
    }
    let dir = data_dir.to_path_buf();
    let wanted = account.map(str::to_owned);
    let org = organization.clone();
    let chosen = accounts::blocking(move || {
        let sentry: Vec<_> = SecretStore::os(&dir)
            .accounts()?
            .into_iter()
            .filter(|candidate| candidate.service == Service::Sentry)
            .collect();
        Ok(match wanted {
            Some(name) => sentry.into_iter().find(|candidate| candidate.account == name),
            None => sentry
                .iter()
                .find(|candidate| candidate.sentry_organization.as_deref() == Some(org.as_str()))
                .or(sentry.first())
                .cloned(),
        })
    })
    .await?;
    let Some(chosen) = chosen else {
        return Err(AppError::new(
            ErrorKind::Precondition,
            "No Sentry account is connected to link the project through.",
            "Connect Sentry in Settings → Accounts first.",
        )
        .with_action(ErrorAction::OpenAccounts)
        .in_terminal("slipway accounts connect sentry --org ORG --project SLUG"));
    };
    let link = SentryLink {
        account: chosen.account.clone(),
        organization: organization.clone(),
        project: project_slug.clone(),
    };
    let connection = accounts::linked_sentry(SecretStore::os(data_dir), &link).await?;
    match connection.client.project(&organization, &project_slug).await {
        Ok(_) => {}
        Err(crate::http::ApiError::NotFound { .. }) => {
            return Err(AppError::new(
                ErrorKind::NotFound,
                format!("Sentry has no project {organization}/{project_slug} that this token sees."),
                "Pick one of the organization's projects.",
            ))
        }
        Err(error) => return Err(error.into()),
    }
    let mut project_settings = project::current_settings(data_dir, root)?;
    project_settings.sentry_project = Some(link);
    save(data_dir, root, &project_settings)?;
    Ok(project_settings)
}

/// Unlinks the project from Sentry: nothing of it is recorded there any more.
pub fn unlink_sentry(data_dir: &Path, root: &Path) -> Result<ProjectSettings, AppError> {
    let mut project_settings = project::current_settings(data_dir, root)?;
    project_settings.sentry_project = None;
    project::save_settings(data_dir, root, &project_settings)?;
    Ok(project_settings)
}

/// What [`upgrade`] did, kept in the data folder so it runs once and can be told.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeReport {
    /// Projects whose Render environment `production` now holds the app-wide service.
    pub render_linked: Vec<String>,
    /// Projects that each released to the app-wide service: none is guessed, each is asked.
    pub render_asked: Vec<String>,
    /// Projects now linked to the app-wide Sentry project.
    pub sentry_linked: Vec<String>,
    /// Projects that each recorded releases in it: each is asked.
    pub sentry_asked: Vec<String>,
    /// The app-wide service and Sentry project it found (`srv-…`, `org/project`).
    pub render_service: Option<String>,
    pub sentry_project: Option<String>,
}

const UPGRADE_FILE: &str = "links-upgrade.json";

/// The upgrade's record, when it ran.
pub fn upgrade_report(data_dir: &Path) -> Option<UpgradeReport> {
    let bytes = std::fs::read(data_dir.join(UPGRADE_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Moves the Render service and the Sentry project that older versions kept for every
/// project into the projects that used them, once per data folder:
/// - the projects that went live on Render: when only one did, its `production` environment
///   gets the service (and becomes its default) and its Render releases are named so in
///   History; when several did, none is guessed: each is asked in its plan;
/// - the Sentry project likewise, by the projects whose releases recorded a Sentry step.
///
/// The accounts themselves are kept as they are: nothing the person connected is lost.
pub fn upgrade(data_dir: &Path, ledger: &Ledger) -> Result<UpgradeReport, AppError> {
    if let Some(done) = upgrade_report(data_dir) {
        return Ok(done);
    }
    let store = SecretStore::os(data_dir);
    let render = store
        .account(Service::Render, "default")
        .filter(|account| account.render_service.is_some());
    let sentry = store
        .accounts()
        .unwrap_or_default()
        .into_iter()
        .find(|account| account.service == Service::Sentry && account.sentry_project.is_some());
    let mut report = UpgradeReport {
        render_service: render.as_ref().and_then(|account| account.render_service.clone()),
        sentry_project: sentry.as_ref().map(|account| {
            format!(
                "{}/{}",
                account.sentry_organization.clone().unwrap_or_default(),
                account.sentry_project.clone().unwrap_or_default()
            )
        }),
        ..UpgradeReport::default()
    };
    let went_live = |filter: HistoryFilter| -> Result<Vec<String>, AppError> {
        let mut projects: Vec<String> = ledger
            .list(&HistoryFilter {
                outcome: Some(crate::history::Outcome::Live),
                limit: Some(10_000),
                ..filter
            })?
            .into_iter()
            .map(|release| release.project_path)
            .collect();
        projects.sort();
        projects.dedup();
        Ok(projects)
    };
    if let Some(account) = &render {
        let projects = went_live(HistoryFilter {
            target: Some("render".to_owned()),
            ..HistoryFilter::default()
        })?;
        if let [only] = projects.as_slice() {
            let root = PathBuf::from(only);
            let mut settings = project::current_settings(data_dir, &root)?;
            let service = RenderLink {
                id: account.render_service.clone().unwrap_or_default(),
                name: None,
                image: account.render_image.clone(),
            };
            if settings
                .environments
                .all()
                .iter()
                .all(|environment| environment.target == Target::Local)
            {
                settings
                    .environments
                    .add(Environment::render("production", service.clone()))?;
                settings.environments.set_default("production")?;
                project::save_settings(data_dir, &root, &settings)?;
            }
            ledger.name_environment(only, "render", "production", Some(&service.id))?;
            report.render_linked.push(only.clone());
        } else {
            report.render_asked = projects;
        }
    }
    if let Some(account) = &sentry {
        let projects: Vec<String> = {
            let mut found: Vec<String> = went_live(HistoryFilter::default())?
                .into_iter()
                .filter(|path| ledger.recorded_in_sentry(path).unwrap_or(false))
                .collect();
            found.dedup();
            found
        };
        if let [only] = projects.as_slice() {
            let root = PathBuf::from(only);
            let mut settings = project::current_settings(data_dir, &root)?;
            if settings.sentry_project.is_none() {
                settings.sentry_project = Some(SentryLink {
                    account: account.account.clone(),
                    organization: account.sentry_organization.clone().unwrap_or_default(),
                    project: account.sentry_project.clone().unwrap_or_default(),
                });
                project::save_settings(data_dir, &root, &settings)?;
            }
            report.sentry_linked.push(only.clone());
        } else {
            report.sentry_asked = projects;
        }
    }
    crate::paths::write_json_atomically(&data_dir.join(UPGRADE_FILE), &report).map_err(|error| {
        AppError::new(
            ErrorKind::Io,
            "Slipway could not note that it moved the app-wide links into the projects.",
            "Check that the data folder is writable.",
        )
        .with_detail(error.to_string())
    })?;
    if !report.render_linked.is_empty() || !report.sentry_linked.is_empty() {
        tracing::info!(?report, "app-wide links moved into their projects");
    }
    Ok(report)
}

/// The sentence a project that the upgrade could not link is shown in its plan, once: which
/// service (or Sentry project) several projects used.
pub fn upgrade_question(data_dir: &Path, root: &Path) -> Option<String> {
    let report = upgrade_report(data_dir)?;
    let path = root.display().to_string();
    let mut said = Vec::new();
    if report.render_asked.contains(&path) {
        if let Some(service) = &report.render_service {
            said.push(format!(
                "Before environments, {} projects (this one included) deployed to the Render service {service}; Slipway does not guess which one it belongs to.",
                report.render_asked.len()
            ));
        }
    }
    if report.sentry_asked.contains(&path) {
        if let Some(sentry) = &report.sentry_project {
            said.push(format!(
                "{} projects recorded their releases in the Sentry project {sentry}; link this one to its own.",
                report.sentry_asked.len()
            ));
        }
    }
    (!said.is_empty()).then(|| said.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A service another project deploys to is refused before Render is even asked, with
    /// that project and environment named.
    #[tokio::test]
    async fn a_service_another_project_deploys_to_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        let data = tempfile::tempdir()?;
        let folders = tempfile::tempdir()?;
        let (lettings, bookshelf) = (folders.path().join("lettings"), folders.path().join("bookshelf"));
        std::fs::create_dir_all(&lettings)?;
        std::fs::create_dir_all(&bookshelf)?;
        let mut taken = ProjectSettings::with_commands("pytest", project::LintTool::Flake8, "flake8");
        taken.environments.add(Environment::render(
            "production",
            RenderLink {
                id: "srv-lettings".to_owned(),
                name: Some("lettings".to_owned()),
                image: None,
            },
        ))?;
        project::save_settings(data.path(), &lettings, &taken)?;
        project::RecentProjects::load(data.path()).touch("lettings", &lettings.display().to_string())?;
        // Render is never reached: its address answers nothing.
        let settings = Settings {
            render_api_url: Some("http://127.0.0.1:9/v1".to_owned()),
            ..Settings::default()
        };
        let change = EnvironmentChange {
            render_service: Some("srv-lettings".to_owned()),
            ..EnvironmentChange::default()
        };
        let refused = add_environment(data.path(), &settings, &bookshelf, "production", &change)
            .await
            .err()
            .ok_or("refused")?;
        assert_eq!(
            refused.message,
            "srv-lettings is where lettings (production) deploys: deploying this project there would replace that app."
        );
        assert_eq!(refused.action, Some(ErrorAction::PickRenderService));
        assert!(
            project::load_settings(data.path(), &bookshelf)?.is_none(),
            "nothing saved"
        );
        // The project that has it may change it.
        let again = change_environment(data.path(), &settings, &lettings, "production", &change)
            .await
            .err()
            .ok_or("Render is not there")?;
        assert_ne!(again.action, Some(ErrorAction::PickRenderService), "{again:?}");
        Ok(())
    }
}
