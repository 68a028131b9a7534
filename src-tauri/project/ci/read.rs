//! Which CI files a project has, each read within bounds (`bounded`): `.circleci/config.yml`
//! first, then `.github/workflows/*.yml` in name order. A file refused (too large, too deeply
//! nested, too slow) is listed with the commands not run, in a sentence that says why. Once
//! every file is read, pins are matched to the gates they pin and the CI lines shown are
//! redacted.

use std::path::Path;

use super::bounded::{self, Unread};
use super::findings::CiFindings;
use super::jobs::read_document;
use crate::project::gate_spec::SkippedCommand;

/// Reads `.circleci/config.yml` and `.github/workflows/*.yml` under `root`.
pub fn read_ci(root: &Path) -> CiFindings {
    let mut findings = CiFindings::default();
    let mut files = vec![root.join(".circleci/config.yml"), root.join(".circleci/config.yaml")];
    if let Ok(entries) = std::fs::read_dir(root.join(".github/workflows")) {
        let mut workflows: Vec<_> = entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "yml" || ext == "yaml"))
            .collect();
        workflows.sort();
        files.extend(workflows);
    }
    for file in files {
        let source = file.strip_prefix(root).unwrap_or(&file).display().to_string();
        let document = match bounded::read(&file) {
            Ok(document) => document,
            Err(Unread::Missing) => continue,
            Err(Unread::Invalid(why)) => {
                tracing::warn!("{} is not valid YAML ({why}); skipped", file.display());
                continue;
            }
            Err(Unread::Refused(refusal)) => {
                let name = if source.starts_with(".circleci") {
                    "The CircleCI file".to_owned()
                } else {
                    format!("The workflow {source}")
                };
                findings.skipped.push(SkippedCommand {
                    line: source,
                    source: "the whole file".to_owned(),
                    reason: refusal.sentence(&name),
                });
                continue;
            }
        };
        findings.files.push(source.clone());
        read_document(root, &document, &source, &mut findings);
    }
    // No CI builds the image: the Compose file still says how the app's image is made.
    if findings.docker_build.is_none() {
        findings.docker_build = super::compose::compose_build(root, None, None);
    }
    // Pins may come after the check in the file (or in another job): matched at the end.
    for index in 0..findings.gates.len() {
        let package = findings.gates[index]
            .tool
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        findings.gates[index].version = findings.pin(&package).map(|found| found.value.clone());
    }
    // The CI's lines are shown (the plan, the window, the CLI): a secret written into one (a
    // deploy hook's key, a token) is hidden there, as everywhere; what runs is untouched.
    let shown = |line: &mut String| *line = crate::redact::redact(line).into_owned();
    findings.skipped.iter_mut().for_each(|skipped| shown(&mut skipped.line));
    if let Some(test) = findings.test.as_mut() {
        shown(&mut test.line);
    }
    if let Some((_, lint)) = findings.lint.as_mut() {
        shown(&mut lint.line);
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deploy_hooks_key_in_a_ci_line_is_hidden_where_the_line_is_shown() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join(".circleci"))?;
        std::fs::write(
            dir.path().join(".circleci/config.yml"),
            "version: 2.1\njobs:\n  build:\n    steps:\n      - run: pytest\n      - run: curl -X GET https://api.render.com/deploy/srv-abc?key=hookKey12345\n",
        )?;
        let findings = read_ci(dir.path());
        let hook = findings
            .skipped
            .iter()
            .find(|skipped| skipped.line.contains("deploy/srv-abc"))
            .map(|skipped| skipped.line.clone())
            .unwrap_or_default();
        assert!(!hook.contains("hookKey12345"), "{hook}");
        assert!(hook.contains(crate::redact::REDACTED), "{hook}");
        Ok(())
    }

    /// A CI file that would stall the parser, or take seconds to read, is refused at once, in a
    /// sentence the plan shows (detection hands `skipped` to the plan as it is).
    #[test]
    fn a_deeply_nested_or_huge_ci_file_is_refused_within_a_second_with_the_sentence() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join(".circleci"))?;
        std::fs::create_dir_all(dir.path().join(".github/workflows"))?;
        // 400 KB of nested flow sequences: minutes of the parser's time, unbounded.
        let nested = format!(
            "version: 2.1\njobs:\n  build:\n    steps: {}{}\n",
            "[".repeat(200_000),
            "]".repeat(200_000)
        );
        std::fs::write(dir.path().join(".circleci/config.yml"), nested)?;
        // 5 MB of ordinary jobs: seconds to parse and read, on every plan.
        let mut huge = String::from("on: push\njobs:\n");
        let mut job = 0;
        while huge.len() < 5 * 1024 * 1024 {
            job += 1;
            huge.push_str(&format!(
                "  job{job}:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: python -m pytest -q tests/test_{job}.py\n"
            ));
        }
        std::fs::write(dir.path().join(".github/workflows/huge.yml"), huge)?;
        std::fs::write(
            dir.path().join(".github/workflows/ci.yml"),
            "jobs:\n  test:\n    steps:\n      - run: pytest\n",
        )?;
        let start = std::time::Instant::now();
        let findings = read_ci(dir.path());
        let took = start.elapsed();
        assert!(took < std::time::Duration::from_secs(1), "{took:?}");
        let reasons: Vec<&str> = findings.skipped.iter().map(|skipped| skipped.reason.as_str()).collect();
        assert!(
            reasons
                .contains(&"The CircleCI file is too deeply nested to read (more than 200 levels): Slipway ignores it"),
            "{reasons:?}"
        );
        assert!(
            reasons.contains(
                &"The workflow .github/workflows/huge.yml is too large to read (5.0 MB, the limit is 1 MB): Slipway ignores it"
            ),
            "{reasons:?}"
        );
        // The other workflow is still read.
        assert_eq!(findings.files, [".github/workflows/ci.yml"]);
        assert_eq!(findings.test.map(|test| test.command).as_deref(), Some("pytest"));
        Ok(())
    }
}
