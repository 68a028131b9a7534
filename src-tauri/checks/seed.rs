//! The pip and setuptools a CI's `python -m venv` puts into a new environment, as wheel
//! files, so uv installs them with the project's requirements in one call.
//!
//! Why not let `venv` install them: it runs `ensurepip`, which unpacks and byte-compiles pip
//! with pip itself, about 3.7 s of a first check whose other work takes under one; an empty
//! environment (`--without-pip`) takes 0.1 s. The wheels are the very files `ensurepip` would
//! install: those its `__init__.py` names (`_PIP_VERSION`, `_SETUPTOOLS_VERSION`) in its
//! `_bundled` folder, or, where a distribution moved them out (Debian's
//! `/usr/share/python-wheels`), the ones there. When they cannot be found, the environment
//! gets pip the slow way (`ensurepip`), as before.

use std::path::{Path, PathBuf};

/// The folder of wheels a distribution's `ensurepip` reads instead of `_bundled` (Debian,
/// Ubuntu), found named in its `__init__.py`.
const WHEEL_PACKAGE_DIR: &str = "/usr/share/python-wheels";

/// The standard library of the interpreter `venv` was made from: `home` in its
/// `pyvenv.cfg` is that interpreter's folder, and `lib/pythonX.Y` in the environment says
/// which version.
fn standard_library(venv: &Path) -> Option<PathBuf> {
    let config = std::fs::read_to_string(venv.join("pyvenv.cfg")).ok()?;
    let home = config.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "home").then(|| PathBuf::from(value.trim()))
    })?;
    let version = std::fs::read_dir(venv.join("lib"))
        .ok()?
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .find(|name| name.starts_with("python"))?;
    let prefix = home.parent()?;
    ["lib", "lib64"]
        .iter()
        .map(|lib| prefix.join(lib).join(&version))
        .find(|dir| dir.join("ensurepip").join("__init__.py").is_file())
}

/// The version `ensurepip` pins for `constant` (`_PIP_VERSION = "23.2.1"`).
fn pinned(ensurepip: &str, constant: &str) -> Option<String> {
    ensurepip.lines().find_map(|line| {
        let rest = line.trim().strip_prefix(constant)?.trim_start().strip_prefix('=')?;
        let value = rest.trim().trim_matches('"').trim_matches('\'');
        (!value.is_empty() && !value.contains(' ')).then(|| value.to_owned())
    })
}

/// The wheel of `name` in `dir`: at `version` when given, else the only one there.
fn wheel_in(dir: &Path, name: &str, version: Option<&str>) -> Option<PathBuf> {
    let prefix = match version {
        Some(version) => format!("{name}-{version}-"),
        None => format!("{name}-"),
    };
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|file| file.to_str())
                .is_some_and(|file| file.starts_with(&prefix) && file.ends_with(".whl"))
        })
        .collect();
    match found.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// The wheels `ensurepip` would install into `venv` (pip, and setuptools where that Python
/// still bundles it), or `None` when any of them cannot be found.
pub fn bundled_wheels(venv: &Path) -> Option<Vec<PathBuf>> {
    let library = standard_library(venv)?;
    let ensurepip = std::fs::read_to_string(library.join("ensurepip").join("__init__.py")).ok()?;
    let bundled = library.join("ensurepip").join("_bundled");
    let packages = [("pip", "_PIP_VERSION"), ("setuptools", "_SETUPTOOLS_VERSION")];
    let mut wheels = Vec::new();
    for (name, constant) in packages {
        // Python 3.12 and later bundle pip alone.
        if !ensurepip.contains(constant) && name != "pip" {
            continue;
        }
        let version = pinned(&ensurepip, constant);
        let wheel = wheel_in(&bundled, name, version.as_deref()).or_else(|| {
            ensurepip
                .contains(WHEEL_PACKAGE_DIR)
                .then(|| wheel_in(Path::new(WHEEL_PACKAGE_DIR), name, None))
                .flatten()
        })?;
        wheels.push(wheel);
    }
    Some(wheels)
}

/// What asks an installer for `wheels` by name and version from their folders
/// (`--find-links DIR pip==23.2.1`), as `ensurepip` asks pip: installed from a file's path
/// they would be frozen as `pip @ file:///…`, not as a CI's `pip==23.2.1`.
pub fn install_args(wheels: &[PathBuf]) -> Vec<String> {
    let mut args = Vec::new();
    let mut folders: Vec<&Path> = Vec::new();
    for folder in wheels.iter().filter_map(|wheel| wheel.parent()) {
        if !folders.contains(&folder) {
            folders.push(folder);
            args.extend(["--find-links".to_owned(), folder.display().to_string()]);
        }
    }
    for wheel in wheels {
        let file = wheel
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut parts = file.splitn(3, '-');
        if let (Some(name), Some(version)) = (parts.next(), parts.next()) {
            args.push(format!("{name}=={version}"));
        }
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake interpreter prefix with `ensurepip` and its wheels, and an environment made
    /// from it.
    fn interpreter(init: &str, wheels: &[&str]) -> std::io::Result<(tempfile::TempDir, PathBuf)> {
        let dir = tempfile::tempdir()?;
        let library = dir.path().join("prefix/lib/python3.11");
        std::fs::create_dir_all(library.join("ensurepip/_bundled"))?;
        std::fs::write(library.join("ensurepip/__init__.py"), init)?;
        for wheel in wheels {
            std::fs::write(library.join("ensurepip/_bundled").join(wheel), "")?;
        }
        std::fs::create_dir_all(dir.path().join("prefix/bin"))?;
        let venv = dir.path().join("venv");
        std::fs::create_dir_all(venv.join("lib/python3.11/site-packages"))?;
        std::fs::write(
            venv.join("pyvenv.cfg"),
            format!(
                "home = {}\ninclude-system-site-packages = false\nversion = 3.11.7\n",
                dir.path().join("prefix/bin").display()
            ),
        )?;
        Ok((dir, venv))
    }

    fn names(wheels: Option<Vec<PathBuf>>) -> Option<Vec<String>> {
        wheels.map(|wheels| {
            wheels
                .iter()
                .filter_map(|wheel| wheel.file_name().map(|name| name.to_string_lossy().into_owned()))
                .collect()
        })
    }

    #[test]
    fn the_wheels_are_those_ensurepip_pins_even_beside_others() -> std::io::Result<()> {
        let (_dir, venv) = interpreter(
            "_SETUPTOOLS_VERSION = \"65.5.0\"\n_PIP_VERSION = \"23.2.1\"\n",
            &[
                "pip-22.0.4-py3-none-any.whl",
                "pip-23.2.1-py3-none-any.whl",
                "setuptools-65.5.0-py3-none-any.whl",
            ],
        )?;
        assert_eq!(
            names(bundled_wheels(&venv)),
            Some(vec![
                "pip-23.2.1-py3-none-any.whl".to_owned(),
                "setuptools-65.5.0-py3-none-any.whl".to_owned()
            ])
        );
        Ok(())
    }

    #[test]
    fn a_python_that_bundles_pip_alone_gives_pip_alone() -> std::io::Result<()> {
        let (_dir, venv) = interpreter("_PIP_VERSION = \"24.2\"\n", &["pip-24.2-py3-none-any.whl"])?;
        assert_eq!(
            names(bundled_wheels(&venv)),
            Some(vec!["pip-24.2-py3-none-any.whl".to_owned()])
        );
        Ok(())
    }

    #[test]
    fn a_missing_wheel_means_the_slow_way() -> std::io::Result<()> {
        let (_dir, venv) = interpreter(
            "_SETUPTOOLS_VERSION = \"65.5.0\"\n_PIP_VERSION = \"23.2.1\"\n",
            &["pip-23.2.1-py3-none-any.whl"],
        )?;
        assert_eq!(bundled_wheels(&venv), None);
        assert_eq!(bundled_wheels(Path::new("/no/such/venv")), None);
        Ok(())
    }

    #[test]
    fn the_wheels_are_asked_for_by_name_from_their_folders() {
        let wheels = [
            PathBuf::from("/py/lib/python3.11/ensurepip/_bundled/pip-23.2.1-py3-none-any.whl"),
            PathBuf::from("/py/lib/python3.11/ensurepip/_bundled/setuptools-65.5.0-py3-none-any.whl"),
        ];
        assert_eq!(
            install_args(&wheels),
            [
                "--find-links",
                "/py/lib/python3.11/ensurepip/_bundled",
                "pip==23.2.1",
                "setuptools==65.5.0"
            ]
        );
    }
}
