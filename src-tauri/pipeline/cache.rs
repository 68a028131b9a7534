//! The gate cache: pressing Release twice on the same tree does not run the same tests twice.
//!
//! A gate's key is a hash of everything that decides its verdict: the project's files (the
//! tracked ones and the untracked ones git does not ignore, by content), the values the
//! checks get (names and hashes of the values, never the values), the Python and every
//! package installed in the environment (by version), Slipway's own version, and the gate's
//! command. A release whose key matches a gate that passed before shows that pass and does
//! not run it; failures are never reused, and "Run everything" (`--no-cache`) ignores it.
//! A project outside git is never cached: which of its files count cannot be known. The tree's
//! part comes from git's index and status (`project::tree_digest`), worked out once by the plan.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{CachedGate, Context, Step};
use crate::project::ProjectSettings;
use crate::secrets::Secret;

/// The steps whose passes are reused.
pub(super) const CACHED_STEPS: [Step; 3] = [Step::Tests, Step::Lint, Step::Checks];

/// The keys of a release's gates, each with the pass it matches.
#[derive(Debug, Clone, Default)]
pub(super) struct GateKeys {
    keys: BTreeMap<&'static str, String>,
    hits: BTreeMap<&'static str, CachedGate>,
}

impl GateKeys {
    pub(super) fn key(&self, step: Step) -> Option<&str> {
        self.keys.get(step.as_str()).map(String::as_str)
    }

    /// The earlier pass `step` reuses, when it does.
    pub(super) fn hit(&self, step: Step) -> Option<&CachedGate> {
        self.hits.get(step.as_str())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn hash_of(value: &[u8]) -> String {
    hex(&Sha256::digest(value))
}

/// The Python and every distribution installed in `venv`, by name and version.
fn environment_digest(venv: &Path) -> String {
    let mut hasher = Sha256::new();
    hasher.update(std::fs::read(venv.join("pyvenv.cfg")).unwrap_or_default());
    let installed = crate::checks::installed_distributions(venv);
    for name in installed {
        hasher.update(name.as_bytes());
        hasher.update([0]);
    }
    hex(&hasher.finalize())
}

/// What every gate shares: the tree (its fingerprint, [`crate::project::tree_digest`]), the
/// environment, the values the checks get, Slipway.
fn shared_digest(tree: &str, settings: &ProjectSettings, venv: &Path, secrets: &[(String, Arc<Secret>)]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("slipway {}\n", env!("CARGO_PKG_VERSION")));
    hasher.update(format!("tree {tree}\n"));
    hasher.update(format!("python {}\n", environment_digest(venv)));
    for (name, value) in &settings.env {
        hasher.update(format!("env {name}={}\n", hash_of(value.as_bytes())));
    }
    let mut secrets: Vec<_> = secrets.iter().collect();
    secrets.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in secrets {
        hasher.update(format!("secret {name}={}\n", hash_of(value.expose().as_bytes())));
    }
    hasher.update(format!("timeout {}\n", settings.check_timeout_secs));
    hex(&hasher.finalize())
}

/// What decides one step's verdict beyond the shared part: its command(s).
fn step_inputs(settings: &ProjectSettings, step: Step) -> Option<String> {
    match step {
        Step::Tests => Some(format!("tests {}", settings.test_command)),
        Step::Lint if settings.lint_enabled => Some(format!(
            "lint {:?} {:?} {}",
            settings.lint_tool, settings.lint_version, settings.lint_command
        )),
        Step::Checks => {
            let gates: Vec<_> = settings.enabled_gates().collect();
            if gates.is_empty() {
                return None;
            }
            let mut inputs = String::from("checks");
            for gate in &gates {
                inputs.push_str(&format!(
                    "\n{} {:?} {} {:?} {:?}",
                    gate.id, gate.version, gate.command, gate.env, gate.after_tests
                ));
            }
            // Coverage reads what the test run leaves: its verdict depends on that run too.
            if gates.iter().any(|gate| gate.after_tests) {
                inputs.push_str(&format!("\nafter tests {}", settings.test_command));
            }
            Some(inputs)
        }
        _ => None,
    }
}

/// The gates' keys for the project at `root` whose files have the fingerprint `tree` (`None`
/// outside git), with the environment in `venv`, and the earlier passes they match in the
/// ledger. Nothing matches for a project outside git.
pub(super) async fn gate_keys(
    context: &Context,
    root: &Path,
    tree: Option<String>,
    settings: &ProjectSettings,
    venv: PathBuf,
    secrets: Vec<(String, Arc<Secret>)>,
) -> GateKeys {
    let Some(tree) = tree else {
        return GateKeys::default();
    };
    let read_settings = settings.clone();
    let shared = tokio::task::spawn_blocking(move || shared_digest(&tree, &read_settings, &venv, &secrets)).await;
    let Ok(shared) = shared else {
        return GateKeys::default();
    };
    let project = root.display().to_string();
    let mut keys = GateKeys::default();
    for step in CACHED_STEPS {
        let Some(inputs) = step_inputs(settings, step) else {
            continue;
        };
        let key = hash_of(format!("{shared}\n{inputs}").as_bytes());
        match context.ledger.cached_pass(&project, step.as_str(), &key) {
            Ok(Some(pass)) => {
                keys.hits.insert(
                    step.as_str(),
                    CachedGate {
                        from_release: pass.release_id,
                        passed_at: pass.passed_at,
                        summary: pass.summary,
                    },
                );
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "the gate cache could not be read"),
        }
        keys.keys.insert(step.as_str(), key);
    }
    // The tests are run again when the checks are, if a check reads the test run's data.
    if keys.hit(Step::Checks).is_none() && settings.enabled_gates().any(|gate| gate.after_tests) {
        keys.hits.remove(Step::Tests.as_str());
    }
    keys
}

/// The keys as the plan sees them: the tree's fingerprint it read, the environment a run would
/// use, the secrets from the keyring (none read means nothing matches that needs them).
pub(super) async fn planned_keys(
    context: &Context,
    root: &Path,
    tree: Option<String>,
    settings: &ProjectSettings,
) -> GateKeys {
    let venv = crate::checks::expected_venv(root, settings, &context.data_dir);
    let Ok(secrets) = crate::checks::project_secrets(root, settings, &context.data_dir).await else {
        return GateKeys::default();
    };
    gate_keys(context, root, tree, settings, venv, secrets).await
}

/// "3 min ago", from an RFC 3339 time.
pub fn ago(at: &str) -> String {
    let Ok(then) = chrono::DateTime::parse_from_rfc3339(at) else {
        return "earlier".to_owned();
    };
    let seconds = (chrono::Utc::now() - then.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    match seconds {
        0..=59 => "moments ago".to_owned(),
        60..=3599 => format!("{} min ago", seconds / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        _ => format!("{} days ago", seconds / 86_400),
    }
}

/// The sentence a reused gate shows (and History keeps): when it passed, and what it said.
/// The time counts back from this release, not from now, so the record stays true when it
/// is read later; the release itself is named in History's technical details, never here.
pub(super) fn cached_summary(hit: &CachedGate) -> String {
    cached_summary_at(hit, chrono::Utc::now())
}

fn cached_summary_at(hit: &CachedGate, now: chrono::DateTime<chrono::Utc>) -> String {
    let said = hit
        .summary
        .as_deref()
        .map(str::trim)
        .filter(|summary| !summary.is_empty())
        .map(|summary| format!(": {summary}"))
        .unwrap_or_default();
    let when = match chrono::DateTime::parse_from_rfc3339(&hit.passed_at) {
        Ok(then) => match (now - then.with_timezone(&chrono::Utc)).num_seconds().max(0) {
            0..=59 => "moments before this release".to_owned(),
            seconds @ 60..=3599 => format!("{} min before this release", seconds / 60),
            seconds @ 3600..=86_399 => format!("{} h before this release", seconds / 3600),
            seconds => match seconds / 86_400 {
                1 => "1 day before this release".to_owned(),
                days => format!("{days} days before this release"),
            },
        },
        Err(_) => "before this release".to_owned(),
    };
    format!("not run again: it passed {when} on this exact tree{said}")
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn git(dir: &Path, args: &[&str]) -> TestResult {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t.invalid")
            .status()?;
        if !status.success() {
            return Err(format!("git {args:?} failed").into());
        }
        Ok(())
    }

    #[test]
    fn the_tree_digest_follows_content_and_untracked_files_but_not_ignored_ones() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        assert!(
            crate::project::tree_digest(root).is_none(),
            "outside git nothing is cached"
        );
        git(root, &["init", "-q"])?;
        std::fs::write(root.join(".gitignore"), "*.log\n")?;
        std::fs::write(root.join("app.py"), "x = 1\n")?;
        git(root, &["add", "-A"])?;
        git(root, &["commit", "-q", "-m", "one"])?;
        let first = crate::project::tree_digest(root).ok_or("in git")?;
        assert_eq!(
            crate::project::tree_digest(root).as_deref(),
            Some(first.as_str()),
            "stable"
        );

        std::fs::write(root.join("debug.log"), "noise")?;
        assert_eq!(
            crate::project::tree_digest(root).as_deref(),
            Some(first.as_str()),
            "ignored files do not count"
        );

        std::fs::write(root.join("new.py"), "y = 2\n")?;
        let with_untracked = crate::project::tree_digest(root).ok_or("in git")?;
        assert_ne!(with_untracked, first, "an untracked file counts");
        std::fs::remove_file(root.join("new.py"))?;

        std::fs::write(root.join("app.py"), "x = 2\n")?;
        assert_ne!(
            crate::project::tree_digest(root).ok_or("in git")?,
            first,
            "an edit (uncommitted) counts"
        );
        std::fs::write(root.join("app.py"), "x = 1\n")?;
        assert_eq!(
            crate::project::tree_digest(root).ok_or("in git")?,
            first,
            "the same content is the same tree"
        );
        Ok(())
    }

    #[test]
    fn values_count_by_hash_and_each_step_by_its_own_command() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        git(root, &["init", "-q"])?;
        std::fs::write(root.join("app.py"), "x = 1\n")?;
        let venv = root.join("no-venv");
        let mut settings = ProjectSettings::with_commands("pytest", crate::project::LintTool::Flake8, "flake8 .");
        settings.env.insert("SECRET_KEY".to_owned(), "dummy".to_owned());
        let secret = vec![("API_TOKEN".to_owned(), Arc::new(Secret::new("s3cr3t".to_owned())))];
        let tree = crate::project::tree_digest(root).ok_or("in git")?;
        let base = shared_digest(&tree, &settings, &venv, &secret);
        assert!(!base.contains("s3cr3t") && !base.contains("dummy"));

        let other_secret = vec![("API_TOKEN".to_owned(), Arc::new(Secret::new("other".to_owned())))];
        assert_ne!(shared_digest(&tree, &settings, &venv, &other_secret), base);
        let mut changed = settings.clone();
        changed.env.insert("SECRET_KEY".to_owned(), "another".to_owned());
        assert_ne!(shared_digest(&tree, &changed, &venv, &secret), base);

        let mut other_lint = settings.clone();
        other_lint.lint_command = "flake8 --max-line-length 120 .".to_owned();
        assert_eq!(
            step_inputs(&settings, Step::Tests),
            step_inputs(&other_lint, Step::Tests)
        );
        assert_ne!(step_inputs(&settings, Step::Lint), step_inputs(&other_lint, Step::Lint));
        other_lint.lint_enabled = false;
        assert_eq!(
            step_inputs(&other_lint, Step::Lint),
            None,
            "a turned-off lint has no key"
        );
        assert_eq!(step_inputs(&settings, Step::Checks), None, "no gates, no checks key");
        Ok(())
    }

    #[test]
    fn a_new_package_version_in_the_environment_changes_its_digest() -> TestResult {
        let dir = tempfile::tempdir()?;
        let site = dir.path().join("lib/python3.11/site-packages");
        std::fs::create_dir_all(site.join("pytest-8.3.4.dist-info"))?;
        std::fs::write(dir.path().join("pyvenv.cfg"), "version = 3.11.7\n")?;
        let before = environment_digest(dir.path());
        std::fs::rename(site.join("pytest-8.3.4.dist-info"), site.join("pytest-8.3.5.dist-info"))?;
        assert_ne!(environment_digest(dir.path()), before);
        Ok(())
    }

    #[test]
    fn the_cached_sentence_says_when_and_what_never_the_release_id() {
        let now = chrono::Utc::now();
        let mut hit = CachedGate {
            from_release: "20261206T101500Z-1a2b".to_owned(),
            passed_at: (now - chrono::Duration::minutes(3)).to_rfc3339(),
            summary: Some("3 passed".to_owned()),
        };
        assert_eq!(
            cached_summary_at(&hit, now),
            "not run again: it passed 3 min before this release on this exact tree: 3 passed"
        );
        hit.summary = Some(" ".to_owned());
        assert_eq!(
            cached_summary_at(&hit, now),
            "not run again: it passed 3 min before this release on this exact tree"
        );
        hit.passed_at = (now - chrono::Duration::hours(30)).to_rfc3339();
        assert_eq!(
            cached_summary_at(&hit, now),
            "not run again: it passed 1 day before this release on this exact tree"
        );
        hit.passed_at = "not a time".to_owned();
        assert_eq!(
            cached_summary_at(&hit, now),
            "not run again: it passed before this release on this exact tree"
        );
        assert!(!cached_summary(&hit).contains(&hit.from_release));
        assert_eq!(ago(&(now - chrono::Duration::minutes(3)).to_rfc3339()), "3 min ago");
        assert_eq!(ago("not a time"), "earlier");
    }
}
