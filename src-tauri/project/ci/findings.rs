//! What reading a project's CI found: the test and lint commands made ready to run, the other
//! gates, the commands not run, the pins, installs, Python and image build, and the variables
//! the checking jobs set. Detection turns these into what Slipway proposes.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::image_folder::CiImages;
use crate::project::gate_spec::{Gate, LintTool, SkippedCommand};
use crate::project::service_spec::ServiceSpec;

/// A value found in a CI file, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub value: String,
    pub source: String,
}

/// The test or lint command the CI runs, made ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiCommand {
    pub command: String,
    /// The CI's line, as written.
    pub line: String,
    pub source: String,
    pub notes: Vec<String>,
    /// Values for this command alone.
    pub env: BTreeMap<String, String>,
    /// How the CI lets it fail, when it does.
    pub lets_fail: Option<String>,
}

/// A variable a checking job sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiVariable {
    /// The literal value; `None` when the CI computes it or takes it from its secrets
    /// (`${{ secrets.X }}`, `$(…)`): the person must give one.
    pub value: Option<String>,
    /// The CI's expression, when the value is one.
    pub expression: Option<String>,
    pub source: String,
}

/// `${{ … }}`, `$(…)`, `$VAR`: a value the CI works out, not one to copy.
pub(super) fn expression(value: &str) -> bool {
    static VARIABLE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\$[A-Za-z_]").ok());
    value.contains("${{")
        || value.contains("$(")
        || value.contains("${")
        || VARIABLE.as_ref().is_some_and(|pattern| pattern.is_match(value))
}

impl CiVariable {
    /// A value as the CI writes it: a literal kept, `${{ secrets.X || 'literal' }}` its
    /// literal, anything else it works out kept as the expression a person must give a value for.
    pub(super) fn read(text: &str, source: &str) -> Self {
        static FALLBACK: LazyLock<Option<Regex>> =
            LazyLock::new(|| Regex::new(r#"^\$\{\{.*\|\|\s*['"]([^'"]*)['"]\s*\}\}$"#).ok());
        // `${{ secrets.X || 'literal' }}`: the CI falls back to the literal, and so do the checks.
        let fallback = FALLBACK
            .as_ref()
            .and_then(|pattern| pattern.captures(text.trim()).map(|capture| capture[1].to_owned()));
        let computed = expression(text) && fallback.is_none();
        Self {
            value: fallback.or_else(|| (!computed).then(|| text.to_owned())),
            expression: computed.then(|| text.to_owned()),
            source: source.to_owned(),
        }
    }
}

/// Everything the CI files say, gathered over every file and job.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CiFindings {
    pub test: Option<CiCommand>,
    pub lint: Option<(LintTool, CiCommand)>,
    /// Coverage, formatting, type and Django checks.
    pub gates: Vec<Gate>,
    /// Commands that deploy, upload or notify, and recipes that could not be read.
    pub skipped: Vec<SkippedCommand>,
    /// `(package, version)` pinned by `pip install package==version` steps.
    pub pins: Vec<(String, Found)>,
    /// Variables of the jobs that run checks (never of deploy-only jobs).
    pub env: Vec<(String, CiVariable)>,
    /// What the CI installs before it checks, in order.
    pub installs: Vec<Install>,
    /// The Python version the CI sets up (`actions/setup-python`, a `cimg/python` image).
    pub python_version: Option<Found>,
    /// The Dockerfile and context the CI builds (`docker build -f … ctx`, build-push-action).
    pub docker_build: Option<DockerBuild>,
    /// The services the checking jobs start for the tests (a database, a cache).
    pub services: Vec<ServiceSpec>,
    /// The CI files that were read.
    pub files: Vec<String>,
    /// The images the CI builds and the containers it starts, so far: a check it runs in one
    /// is moved to the folder the image works in.
    pub(super) images: CiImages,
    /// How many checks were read, repeats included: a job that runs one is a checking job.
    pub(super) checks_seen: usize,
}

/// One install step of the CI, in the terms Slipway prepares an environment with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Install {
    /// `pip install -r app/requirements.txt` (the path from the project's folder).
    Requirements(String),
    /// The requirements of the folder the CI's image works in, which the image installs.
    ImageRequirements(String),
    /// `pip install pytest==7.4.4 coverage`: packages by name.
    Packages(Vec<String>),
    /// `pip install -e .[test]`, `uv sync --group dev`, `poetry install --with test`: the
    /// project's own dependencies with these extras or groups.
    Project { extras: Vec<String>, groups: Vec<String> },
}

/// The image build the CI runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerBuild {
    /// Relative to the project's folder.
    pub dockerfile: Option<String>,
    pub context: String,
    pub source: String,
    /// `--build-arg NAME=value`, build-push-action's `build-args:`, compose's `build.args`.
    pub args: Vec<(String, CiVariable)>,
}

impl CiFindings {
    /// The version the CI pins for `package`, if it does.
    pub fn pin(&self, package: &str) -> Option<&Found> {
        self.pins
            .iter()
            .find(|(name, _)| name == package)
            .map(|(_, found)| found)
    }

    /// How many checks were read (tests, lint or a gate), repeats of one already found too: a
    /// job that adds to it runs checks.
    pub(super) fn checks_seen(&self) -> usize {
        self.checks_seen
    }
}
