//! The Sentry step: a release that went live is recorded in the project's own Sentry project
//! (the release, then its deploy with the environment, times and URL), so its errors are
//! told apart from the last version's. Sentry being down or refusing never fails a live
//! release: the step says so and the release keeps a warning.

use std::path::Path;

use super::recorder::Recorder;
use super::{Context, Step, Target};
use crate::accounts;
use crate::history::StepState;
use crate::project::{self, ProjectSettings};
use crate::sentry_api::{DeployRecord, Recorded};

/// The environment deploys to `target` are recorded under.
pub(super) fn environment(settings: &ProjectSettings, target: Target) -> String {
    settings
        .sentry_environment
        .clone()
        .filter(|value| !value.trim().is_empty())
        .unwrap_or_else(|| match target {
            Target::Render => "production".to_owned(),
            Target::Local => "local".to_owned(),
        })
}

/// The release name the app reports: the setting (`{commit}` for the full commit id), else
/// the full commit id; `None` outside git with no setting.
pub(super) async fn version(root: &Path, settings: &ProjectSettings) -> Option<String> {
    version_of(root, settings, None).await
}

/// The release name of the release made from `commit` (its short id, as the ledger keeps it),
/// else of what is checked out now.
pub(super) async fn version_of(root: &Path, settings: &ProjectSettings, commit: Option<&str>) -> Option<String> {
    let commit = match commit {
        Some(short) => project::full_commit_of(root, short).await,
        None => project::full_commit(root).await,
    };
    match settings
        .sentry_release
        .as_deref()
        .filter(|value| !value.trim().is_empty())
    {
        Some(template) if template.contains("{commit}") => Some(template.replace("{commit}", commit.as_deref()?)),
        Some(fixed) => Some(fixed.to_owned()),
        None => commit,
    }
}

/// What a live release tells Sentry; returns the warning to keep when Sentry was not told.
pub(super) struct SentryDeploy<'a> {
    pub root: &'a Path,
    pub settings: &'a ProjectSettings,
    pub target: Target,
    pub started_at: String,
    pub url: Option<String>,
    pub name: String,
}

pub(super) async fn record(context: &Context, deploy: &SentryDeploy<'_>, recorder: &Recorder) -> Option<String> {
    // Only the project's own link: a project that is not linked records nothing in Sentry.
    let Some(link) = &deploy.settings.sentry_project else {
        recorder.step(
            Step::Sentry,
            StepState::Skipped,
            Some("The project is not linked to a Sentry project: nothing was recorded in Sentry.".to_owned()),
        );
        return None;
    };
    let connection = match accounts::linked_sentry(context.secrets.clone(), link).await {
        Ok(connection) => connection,
        Err(error) => return Some(warn(recorder, &error.message)),
    };
    recorder.step(Step::Sentry, StepState::Running, None);
    let Some(version) = version(deploy.root, deploy.settings).await else {
        return Some(warn(
            recorder,
            "The project has no commit to name the release after; set the release name in the project's settings.",
        ));
    };
    let environment = environment(deploy.settings, deploy.target);
    let client = &connection.client;
    match client
        .create_release(&connection.organization, &version, &connection.project)
        .await
    {
        Ok(Recorded::Created) => recorder.log(Step::Sentry, &format!("release {} created", short_release(&version))),
        Ok(Recorded::AlreadyThere) => recorder.log(
            Step::Sentry,
            &format!("release {} was already there", short_release(&version)),
        ),
        Err(error) => return Some(warn(recorder, &crate::error::AppError::from(error).message)),
    }
    let record = DeployRecord {
        environment: environment.clone(),
        name: Some(deploy.name.clone()),
        url: deploy.url.clone(),
        started: deploy.started_at.clone(),
        finished: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    if let Err(error) = client.create_deploy(&connection.organization, &version, &record).await {
        return Some(warn(recorder, &crate::error::AppError::from(error).message));
    }
    recorder.step(
        Step::Sentry,
        StepState::Passed,
        Some(format!("release {} deployed to {environment}", short_release(&version))),
    );
    None
}

/// A release name as a person reads it: each full commit id in it (40 hex characters) cut
/// to its first 7, as git shows a commit; any other name as it is.
pub(crate) fn short_release(version: &str) -> String {
    let mut words = String::with_capacity(version.len());
    let mut run = String::new();
    let flush = |run: &mut String, words: &mut String| {
        if run.len() == 40 {
            words.push_str(&run[..7]);
        } else {
            words.push_str(run);
        }
        run.clear();
    };
    for character in version.chars() {
        if character.is_ascii_hexdigit() {
            run.push(character);
        } else {
            flush(&mut run, &mut words);
            words.push(character);
        }
    }
    flush(&mut run, &mut words);
    words
}

/// Marks the step skipped with why: the release is live whatever Sentry says.
fn warn(recorder: &Recorder, why: &str) -> String {
    let warning = format!("Live, but Sentry was not told about this release: {why}");
    recorder.log(Step::Sentry, &warning);
    recorder.step(Step::Sentry, StepState::Skipped, Some(warning.clone()));
    warning
}

#[cfg(test)]
mod tests {
    use super::short_release;

    #[test]
    fn a_full_commit_in_a_release_name_is_cut_to_seven_characters() {
        let full = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(short_release(full), "0123456");
        assert_eq!(short_release(&format!("shop@{full}")), "shop@0123456");
        assert_eq!(short_release("2.4.0"), "2.4.0");
        assert_eq!(short_release("0123456"), "0123456");
    }
}
