//! uv and pip make the same environment: the same project checked once with each installer
//! ends with the same `pip freeze`, on the kinds of declarations real projects have.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{check, write, TestResult, PASSING_TEST};
use slipway::project;

/// Checks `root` with a fresh data folder, pip alone (`uv` false) or uv; returns the data folder.
fn check_with(root: &Path, uv: bool) -> Result<tempfile::TempDir, Box<dyn std::error::Error>> {
    let data = tempfile::tempdir()?;
    let (code, summary, events) = if uv {
        check(root, data.path())?
    } else {
        super::check_with_env(root, data.path(), &[(slipway::checks::UV_VARIABLE, "off")])?
    };
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["tests"]["passed"], 1, "{summary}");
    let said: Vec<String> = events
        .iter()
        .filter(|event| event["event"] == "setup")
        .filter_map(|event| event["data"]["message"].as_str().map(str::to_owned))
        .collect();
    let installing_with = said
        .iter()
        .find(|line| line.starts_with("Creating a Python environment"))
        .ok_or_else(|| format!("no environment made: {said:?}"))?;
    let wanted = if uv {
        "installing with uv"
    } else {
        "installing with pip"
    };
    assert!(installing_with.ends_with(wanted), "{installing_with}");
    assert!(
        !said.iter().any(|line| line.contains("so pip tries")),
        "uv did all the work, no fallback: {said:?}"
    );
    Ok(data)
}

fn site_packages(venv: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let lib = std::fs::read_dir(venv.join("lib"))?
        .flatten()
        .next()
        .ok_or("no lib/pythonX.Y")?;
    Ok(lib.path().join("site-packages"))
}

/// Everything pip says is installed in `data`'s environment for `root` (pip and setuptools
/// included), read by one pip for both.
fn freeze(pip_python: &Path, data: &Path, root: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let venv = data.join("venvs").join(project::project_id(root));
    let output = Command::new(pip_python)
        .args(["-m", "pip", "freeze", "--all", "--path"])
        .arg(site_packages(&venv)?)
        .output()?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut lines: Vec<String> = String::from_utf8(output.stdout)?
        .lines()
        .map(|line| line.to_lowercase().replace('_', "-"))
        .collect();
    lines.sort();
    Ok(lines)
}

fn same_environment(files: &[(&str, &str)], expected: &[&str]) -> TestResult {
    let dir = tempfile::tempdir()?;
    write(dir.path(), files)?;
    same_environment_in(dir.path(), expected)
}

/// Checks the project at `root` with pip, then with uv, and compares what each installed.
fn same_environment_in(root: &Path, expected: &[&str]) -> TestResult {
    let by_pip = check_with(root, false)?;
    let by_uv = check_with(root, true)?;
    let pip_python = by_pip
        .path()
        .join("venvs")
        .join(project::project_id(root))
        .join("bin/python");
    let pip_frozen = freeze(&pip_python, by_pip.path(), root)?;
    let uv_frozen = freeze(&pip_python, by_uv.path(), root)?;
    assert_eq!(uv_frozen, pip_frozen, "uv and pip installed different sets");
    for wanted in expected {
        assert!(
            pip_frozen.iter().any(|line| line == wanted),
            "{wanted} in {pip_frozen:?}"
        );
    }
    Ok(())
}

#[test]
fn requirements_with_an_include_and_pins_give_the_same_environment() -> TestResult {
    same_environment(
        &[
            (
                "requirements.txt",
                "-r requirements/base.txt\npytest==8.3.3\nflake8==7.1.1\n",
            ),
            ("requirements/base.txt", "six==1.16.0\n"),
            ("tests/test_ok.py", PASSING_TEST),
        ],
        &["six==1.16.0", "pytest==8.3.3", "flake8==7.1.1"],
    )
}

#[test]
fn a_utf16_requirements_file_gives_the_same_environment() -> TestResult {
    let dir = tempfile::tempdir()?;
    // Windows editors save UTF-16 with its byte order mark; pip reads UTF-8 only.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "six==1.16.0\r\npytest==8.3.3\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    std::fs::write(dir.path().join("requirements.txt"), utf16)?;
    write(dir.path(), &[("tests/test_ok.py", PASSING_TEST)])?;
    same_environment_in(dir.path(), &["six==1.16.0", "pytest==8.3.3"])
}

#[test]
fn pyproject_dependency_groups_give_the_same_environment() -> TestResult {
    same_environment(
        &[
            (
                "pyproject.toml",
                "[project]\nname = \"shop\"\nversion = \"0.1.0\"\ndependencies = [\"six==1.16.0\"]\n\n[dependency-groups]\ndev = [\"pytest==8.3.3\", \"flake8==7.1.1\"]\n",
            ),
            ("tests/test_ok.py", PASSING_TEST),
        ],
        &["six==1.16.0", "pytest==8.3.3"],
    )
}

#[test]
fn a_poetry_lock_gives_the_same_environment() -> TestResult {
    let lock = "[[package]]\nname = \"six\"\nversion = \"1.16.0\"\noptional = false\npython-versions = \">=2.7\"\n\n[[package]]\nname = \"pytest\"\nversion = \"8.3.3\"\noptional = false\npython-versions = \">=3.8\"\n\n[metadata]\nlock-version = \"2.0\"\npython-versions = \"^3.9\"\n";
    same_environment(
        &[
            (
                "pyproject.toml",
                "[tool.poetry]\nname = \"shop\"\n\n[tool.poetry.dependencies]\npython = \"^3.9\"\nsix = \"*\"\n\n[tool.poetry.group.dev.dependencies]\npytest = \"*\"\n",
            ),
            ("poetry.lock", lock),
            ("tests/test_ok.py", PASSING_TEST),
        ],
        &["six==1.16.0", "pytest==8.3.3"],
    )
}

/// A project that needs one package and passes, with an empty data folder.
fn six_project() -> Result<(tempfile::TempDir, tempfile::TempDir), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            ("requirements.txt", "six==1.16.0\n"),
            ("tests/test_ok.py", PASSING_TEST),
        ],
    )?;
    Ok((dir, tempfile::tempdir()?))
}

/// What the check said while it prepared the environment.
fn setup_lines(events: &[serde_json::Value]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|event| event["data"]["message"].as_str())
        .collect()
}

#[test]
fn uv_is_fetched_once_into_the_tools_folder_when_none_is_given() -> TestResult {
    let (dir, data) = six_project()?;
    // No uv given and none on PATH (the machine's folders only): Slipway gets its own.
    let (code, summary, events) =
        super::check_with_env_removed(dir.path(), data.path(), &[slipway::checks::UV_VARIABLE])?;
    assert_eq!(code, 0, "{summary}");
    let tool = data.path().join("tools/uv/bin/uv");
    assert!(tool.is_file(), "uv installed into the tools folder");
    let said = setup_lines(&events);
    assert!(said.iter().any(|line| line.starts_with("Getting uv")), "{said:?}");
    assert!(said.iter().any(|line| line.ends_with("installing with uv")), "{said:?}");
    Ok(())
}

#[test]
fn an_environment_filled_by_uv_has_what_python_s_venv_gives_as_ci_has_it() -> TestResult {
    // Older Django add-ons import pkg_resources without declaring setuptools: they work in a
    // CI's `python -m venv` (Python 3.11 bundles it) and must work here.
    let dir = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            ("requirements.txt", "pytest==8.3.3\n"),
            (
                "tests/test_ok.py",
                "import pkg_resources\n\n\ndef test_ok():\n    assert pkg_resources\n",
            ),
        ],
    )?;
    check_with(dir.path(), true)?;
    Ok(())
}

#[test]
fn a_uv_that_is_not_there_leaves_the_work_to_pip() -> TestResult {
    let (dir, data) = six_project()?;
    let missing = dir.path().join("no-such-uv");
    let (code, summary, events) = super::check_with_env(
        dir.path(),
        data.path(),
        &[(slipway::checks::UV_VARIABLE, &missing.display().to_string())],
    )?;
    assert_eq!(code, 0, "{summary}");
    let said = setup_lines(&events);
    assert!(said.iter().any(|line| line.contains("names no uv program")), "{said:?}");
    assert!(
        said.iter().any(|line| line.ends_with("installing with pip")),
        "{said:?}"
    );
    Ok(())
}

/// Uninstalls `package` with the environment's own pip, as a person would by hand.
fn uninstall_by_hand(venv: &Path, package: &str) -> TestResult {
    let uninstalled = Command::new(venv.join("bin/python"))
        .args(["-m", "pip", "uninstall", "--yes", package])
        .output()?;
    assert!(
        uninstalled.status.success(),
        "{}",
        String::from_utf8_lossy(&uninstalled.stderr)
    );
    Ok(())
}

#[test]
fn a_package_removed_by_hand_from_a_reused_environment_is_installed_again() -> TestResult {
    let dir = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            ("requirements.txt", "six==1.16.0\npytest==8.3.3\nflake8==7.1.1\n"),
            (
                "tests/test_ok.py",
                "import six\n\n\ndef test_ok():\n    assert six.PY3\n",
            ),
        ],
    )?;
    let data = tempfile::tempdir()?;
    let (code, summary, _) = check(dir.path(), data.path())?;
    assert_eq!(code, 0, "{summary}");
    let venv = data.path().join("venvs").join(project::project_id(dir.path()));
    // By hand: a requirement uninstalled with the environment's own pip (uv put it there, as
    // `venv` would), and pytest's package folder deleted, its `.dist-info` left behind.
    uninstall_by_hand(&venv, "six")?;
    std::fs::remove_dir_all(site_packages(&venv)?.join("_pytest"))?;
    let (code, summary, events) = check(dir.path(), data.path())?;
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["tests"]["passed"], 1, "{summary}");
    let said = setup_lines(&events);
    assert!(
        said.iter()
            .any(|line| line.starts_with("Reusing the Python environment")),
        "reused, not made again: {said:?}"
    );
    assert!(
        said.iter()
            .any(|line| line.starts_with("The Python environment lacks pytest 8.3.3, six 1.16.0")),
        "{said:?}"
    );
    // Healthy again: the next check finds nothing to do.
    let (code, summary, events) = check(dir.path(), data.path())?;
    assert_eq!(code, 0, "{summary}");
    let said = setup_lines(&events);
    assert!(!said.iter().any(|line| line.contains("lacks")), "{said:?}");
    Ok(())
}

#[test]
fn a_project_that_pins_its_own_setuptools_gives_the_same_environment() -> TestResult {
    // uv cannot install the bundled setuptools and the pinned one in one call: pip goes in
    // as `venv` puts it, then the requirements, as pip would have them.
    same_environment(
        &[
            ("requirements.txt", "setuptools==69.5.1\npytest==8.3.3\n"),
            ("tests/test_ok.py", PASSING_TEST),
        ],
        &["setuptools==69.5.1", "pytest==8.3.3"],
    )
}

/// A package only the requirements can say where to find (here a folder of the project's)
/// cannot be installed again by its version from the index: the environment is made anew
/// from the requirements, and the check passes, instead of failing every time the same way.
#[test]
fn a_removed_package_the_index_does_not_have_makes_the_environment_anew() -> TestResult {
    let dir = tempfile::tempdir()?;
    write(
        dir.path(),
        &[
            ("requirements.txt", "./vendored\npytest==8.3.3\nflake8==7.1.1\n"),
            (
                "vendored/pyproject.toml",
                "[project]\nname = \"slipway-vendored-only\"\nversion = \"0.1\"\n[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n",
            ),
            ("vendored/slipway_vendored_only.py", "ANSWER = 42\n"),
            (
                "tests/test_ok.py",
                "import slipway_vendored_only\n\n\ndef test_ok():\n    assert slipway_vendored_only.ANSWER == 42\n",
            ),
        ],
    )?;
    let data = tempfile::tempdir()?;
    let (code, summary, _) = check(dir.path(), data.path())?;
    assert_eq!(code, 0, "{summary}");
    let venv = data.path().join("venvs").join(project::project_id(dir.path()));
    uninstall_by_hand(&venv, "slipway-vendored-only")?;
    let (code, summary, events) = check(dir.path(), data.path())?;
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["tests"]["passed"], 1, "{summary}");
    let said = setup_lines(&events);
    assert!(
        said.iter()
            .any(|line| line.starts_with("Installing the missing packages again did not work")),
        "{said:?}"
    );
    Ok(())
}
