//! The folder of the repository a check runs in when the CI runs it inside its image
//! (`docker exec app pytest`, `docker compose run web flake8`, `docker run app pytest`).
//!
//! Such a command works in the container's working folder: the image's `WORKDIR` (or the
//! `-w` the CI gives, or compose's `working_dir`), which is often a subfolder of the
//! repository (`COPY project/ /app` with `WORKDIR /app`). Run at the repository's top, the
//! tool misses that folder's configuration (flake8's `setup.cfg`) and its requirements. So
//! the container's folder is mapped back to the repository's: a bind mount (`-v
//! ./project:/app`, compose's `volumes:`) first, as it hides what the image copied there;
//! else the `COPY`/`ADD` lines of the image's last stage (following `COPY --from` into the
//! earlier stages). The image is found through what the CI says before the check: the
//! container's `docker run --name`, the image's `docker build -t`, the compose service's
//! `build:`; else the repository's own `Dockerfile`.
//!
//! When the folder cannot be told, [`Placement::Unknown`] says why in a person's words and
//! the check stays where it was.

use std::path::{Path, PathBuf};

use serde_norway::Value;

use super::bounded;
use super::COMPOSE_FILES;
use crate::project::files::read_text;

/// How deep `COPY --from` and `FROM stage` are followed, and how many Dockerfile lines are read.
const MAX_STAGE_HOPS: usize = 8;

/// What a `docker exec|run` or `docker compose run|exec` line says of its container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub kind: ContainerKind,
    /// The container (exec), the image (run) or the service (compose).
    pub name: String,
    /// `-w`/`--workdir`.
    pub workdir: Option<String>,
    /// `-v host:container[:mode]`.
    pub volumes: Vec<String>,
    /// `--name` of a `docker run`.
    pub named: Option<String>,
    /// `-e NAME=value`: what the container's processes see.
    pub env: Vec<(String, String)>,
    /// The folder the CI line runs in (its `cd`), relative to the repository.
    pub cd: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerKind {
    Exec,
    Run,
    /// `docker compose [-f FILE …] run|exec SERVICE`.
    Compose {
        files: Vec<String>,
    },
}

/// What the CI has said so far about its images and containers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CiImages {
    /// `docker build -t TAG … CONTEXT`: its tags, Dockerfile and context (from the repository).
    builds: Vec<Build>,
    /// `docker run --name NAME …`: the containers it starts.
    runs: Vec<Container>,
    /// Compose files named by `docker compose -f FILE up`, from the repository.
    compose_files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Build {
    tags: Vec<String>,
    dockerfile: String,
    context: String,
}

/// Where a check the CI runs in a container runs here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// The repository folder (`""` for the top), and how it was told, in words.
    Folder { folder: String, how: String },
    /// Why it could not be told.
    Unknown(String),
}

impl Placement {
    /// The sentence the plan shows; `cd` is where the CI's line runs, which the check keeps
    /// when the folder cannot be told.
    pub fn note(&self, cd: Option<&str>) -> String {
        match self {
            Placement::Folder { folder, how } if folder.is_empty() => {
                format!("Runs in the project's folder, where your CI's container runs it: {how}.")
            }
            Placement::Folder { folder, how } => {
                format!("Runs in {folder}/, where your CI's container runs it: {how}.")
            }
            Placement::Unknown(why) => format!(
                "Slipway could not tell which folder your CI's container runs this in ({why}); it runs it in {}.",
                shown(cd.unwrap_or_default())
            ),
        }
    }
}

impl CiImages {
    /// Notes a CI build: `tags` from its `-t`, its Dockerfile and context from the repository.
    pub fn built(&mut self, tags: Vec<String>, dockerfile: Option<String>, context: &str) {
        let dockerfile = dockerfile.unwrap_or_else(|| join(context, "Dockerfile"));
        self.builds.push(Build {
            tags,
            dockerfile,
            context: context.to_owned(),
        });
    }

    /// Notes a container the CI starts (`docker run --name app …`).
    pub fn started(&mut self, container: &Container) {
        if container.kind == ContainerKind::Run && container.named.is_some() {
            self.runs.push(container.clone());
        }
    }

    /// Notes the compose files of a `docker compose -f FILE up` line (from the repository).
    pub fn composed(&mut self, files: Vec<String>) {
        for file in files {
            if !self.compose_files.contains(&file) {
                self.compose_files.push(file);
            }
        }
    }

    fn build_tagged(&self, image: &str) -> Option<&Build> {
        let wanted = untagged(image);
        self.builds
            .iter()
            .rev()
            .find(|build| build.tags.iter().any(|tag| untagged(tag) == wanted))
    }
}

/// `app:latest` and `app` are the same image; `me/app:1.2` stays as it is.
fn untagged(image: &str) -> &str {
    image.strip_suffix(":latest").unwrap_or(image)
}

/// `docker build -t a -t b:1 --tag=c .` → `[a, b:1, c]`.
pub fn build_tags(words: &[String]) -> Vec<String> {
    let mut tags = Vec::new();
    let mut iter = words.iter();
    while let Some(word) = iter.next() {
        match word.as_str() {
            "-t" | "--tag" => tags.extend(iter.next().cloned()),
            option if option.starts_with("--tag=") => tags.push(option["--tag=".len()..].to_owned()),
            _ => {}
        }
    }
    tags
}

/// The `-f FILE` of compose's own options (before its verb).
pub fn compose_files(options: &[String]) -> Vec<String> {
    let mut files = Vec::new();
    let mut iter = options.iter();
    while let Some(word) = iter.next() {
        match word.as_str() {
            "-f" | "--file" => files.extend(iter.next().cloned()),
            option if option.starts_with("--file=") => files.push(option["--file=".len()..].to_owned()),
            _ => {}
        }
    }
    files
}

/// The repository folder `container` works in; `env` gets the values the container has
/// that its line does not give (a `docker run -e` an exec runs in, compose's `environment:`).
pub fn place(root: &Path, container: &Container, seen: &CiImages, env: &mut Vec<(String, String)>) -> Placement {
    let base = container.cd.clone().unwrap_or_default();
    // What starts the container: its own line, or the `docker run --name` an exec reaches.
    let started = match container.kind {
        ContainerKind::Exec => seen
            .runs
            .iter()
            .rev()
            .find(|run| run.named.as_deref() == Some(container.name.as_str())),
        _ => None,
    };
    let mut binds = Vec::new();
    let mut workdir = container.workdir.clone();
    let image = match (&container.kind, started) {
        (ContainerKind::Compose { files }, _) => {
            let files = if files.is_empty() {
                seen.compose_files.clone()
            } else {
                files.iter().map(|file| join(&base, file)).collect()
            };
            match compose_service(root, &base, &files, |name, _| name == container.name) {
                Ok(service) => service.into_image(&mut binds, &mut workdir, env),
                Err(why) => return Placement::Unknown(why),
            }
        }
        (ContainerKind::Exec, Some(run)) => {
            env.extend(run.env.iter().cloned());
            binds.extend(run.volumes.iter().filter_map(|volume| cli_bind(&run_base(run), volume)));
            if workdir.is_none() {
                workdir = run.workdir.clone();
            }
            image_of(root, &run.name, seen)
        }
        (ContainerKind::Exec, None) => {
            // A compose service started by `docker compose up` (by `container_name` or its
            // name), else an image the CI builds under that name, else the repository's own.
            let by_name = |name: &str, service: &Value| {
                service.get("container_name").and_then(Value::as_str) == Some(container.name.as_str())
                    || name == container.name
            };
            match compose_service(root, &base, &seen.compose_files, by_name) {
                Ok(service) => service.into_image(&mut binds, &mut workdir, env),
                Err(_) => image_of(root, &container.name, seen),
            }
        }
        (ContainerKind::Run, _) => {
            binds.extend(container.volumes.iter().filter_map(|volume| cli_bind(&base, volume)));
            image_of(root, &container.name, seen)
        }
    };
    let image = match image {
        Ok(image) => Some(image),
        // A bind mount can tell the folder without the image (`docker run -v $PWD:/app -w /app python:3.12`).
        Err(_) if !binds.is_empty() && workdir.as_deref().is_some_and(|dir| dir.starts_with('/')) => None,
        Err(why) => return Placement::Unknown(why),
    };
    let stages = image
        .as_ref()
        .map(|image| parse_dockerfile(&read_text(&root.join(&image.dockerfile)).unwrap_or_default()))
        .unwrap_or_default();
    let image_workdir = stages
        .last()
        .map_or_else(|| "/".to_owned(), |stage| stage.workdir.clone());
    let workdir = match workdir {
        Some(dir) => absolute(&image_workdir, &dir),
        None => image_workdir.clone(),
    };
    // Bind mounts hide what the image copied there: the deepest one that holds the folder wins.
    let bound = binds
        .iter()
        .filter_map(|(host, target)| Some((within(&workdir, target)?, host, target)))
        .max_by_key(|(_, _, target)| target.len());
    if let Some((rest, host, target)) = bound {
        return found(
            root,
            &join(host, &rest),
            format!("the container mounts {} at {target}", shown(host)),
        );
    }
    let Some(image) = image else {
        return Placement::Unknown(format!("nothing is mounted at {workdir}"));
    };
    let context = root.join(&image.context);
    match to_context(&stages, stages.len().saturating_sub(1), &workdir, &context, 0) {
        Some(from) => {
            let folder = join(&image.context, &from);
            let how = format!(
                "{} copies {} to {}{workdir}",
                image.dockerfile,
                shown(&folder),
                if workdir == image_workdir { "its WORKDIR " } else { "" }
            );
            found(root, &folder, how)
        }
        None if stages.is_empty() => Placement::Unknown(format!("{} could not be read", image.dockerfile)),
        None => Placement::Unknown(format!(
            "the image works in {workdir}, which {} does not copy from the project",
            image.dockerfile
        )),
    }
}

fn run_base(run: &Container) -> String {
    run.cd.clone().unwrap_or_default()
}

/// `project` → `project/`; the top → `the project's folder`.
fn shown(folder: &str) -> String {
    let folder = normalize(folder).unwrap_or_else(|| folder.to_owned());
    if folder.is_empty() {
        "the project's folder".to_owned()
    } else {
        format!("{folder}/")
    }
}

fn found(root: &Path, folder: &str, how: String) -> Placement {
    match normalize(folder) {
        Some(folder) if root.join(&folder).is_dir() => Placement::Folder { folder, how },
        Some(folder) => Placement::Unknown(format!("{how}, but {folder}/ is not in the project")),
        None => Placement::Unknown(format!("{how}, outside the project")),
    }
}

/// The image a container runs: its Dockerfile and context, from the repository.
struct Image {
    dockerfile: String,
    context: String,
}

fn image_of(root: &Path, image: &str, seen: &CiImages) -> Result<Image, String> {
    if let Some(build) = seen.build_tagged(image) {
        return Ok(Image {
            dockerfile: build.dockerfile.clone(),
            context: build.context.clone(),
        });
    }
    // A compose service that builds the image under this name.
    if let Ok(service) = compose_service(root, "", &seen.compose_files, |_, service| {
        service
            .get("image")
            .and_then(Value::as_str)
            .is_some_and(|named| untagged(named) == untagged(image))
    }) {
        if let Some(build) = service.build {
            return Ok(build);
        }
    }
    // The CI starts a container it does not build here: the repository's own image.
    if root.join("Dockerfile").is_file() && !image.contains('/') && !image.contains(':') {
        return Ok(Image {
            dockerfile: "Dockerfile".to_owned(),
            context: String::new(),
        });
    }
    Err(format!("no Dockerfile of {image} was found"))
}

/// A compose service, as far as its folder goes.
struct Service {
    build: Option<Image>,
    /// `(host folder from the repository, container path)`.
    binds: Vec<(String, String)>,
    working_dir: Option<String>,
    /// `environment:` values written out (not `${…}` from the host).
    env: Vec<(String, String)>,
}

impl Service {
    fn into_image(
        self,
        binds: &mut Vec<(String, String)>,
        workdir: &mut Option<String>,
        env: &mut Vec<(String, String)>,
    ) -> Result<Image, String> {
        binds.extend(self.binds);
        env.extend(self.env);
        if workdir.is_none() {
            *workdir = self.working_dir;
        }
        self.build
            .ok_or_else(|| "the compose service builds no image of the project".to_owned())
    }
}

/// The first service of the compose files (`files`, else the usual names in `base`) that
/// `wanted` picks; a later file's entries come first, as compose merges them.
fn compose_service(
    root: &Path,
    base: &str,
    files: &[String],
    wanted: impl Fn(&str, &Value) -> bool,
) -> Result<Service, String> {
    let files: Vec<String> = if files.is_empty() {
        COMPOSE_FILES
            .iter()
            .map(|name| join(base, name))
            .filter(|file| root.join(file).is_file())
            .take(1)
            .collect()
    } else {
        files.to_vec()
    };
    if files.is_empty() {
        return Err("no compose file was found".to_owned());
    }
    let mut service = Service {
        build: None,
        binds: Vec::new(),
        working_dir: None,
        env: Vec::new(),
    };
    let mut seen_any = false;
    for file in files.iter().rev() {
        let Ok(document) = bounded::read(&root.join(file)) else {
            continue;
        };
        let folder = parent(file);
        let Some((_, entry)) = document
            .get("services")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .find(|(name, entry)| name.as_str().is_some_and(|name| wanted(name, entry)))
        else {
            continue;
        };
        seen_any = true;
        if service.build.is_none() {
            service.build = match entry.get("build") {
                Some(Value::String(context)) => Some(Image {
                    dockerfile: join(&join(&folder, context), "Dockerfile"),
                    context: join(&folder, context),
                }),
                Some(build) => {
                    let context = join(&folder, build.get("context").and_then(Value::as_str).unwrap_or("."));
                    let dockerfile = build.get("dockerfile").and_then(Value::as_str).unwrap_or("Dockerfile");
                    Some(Image {
                        dockerfile: join(&context, dockerfile),
                        context,
                    })
                }
                None => None,
            };
        }
        if service.working_dir.is_none() {
            service.working_dir = entry.get("working_dir").and_then(Value::as_str).map(str::to_owned);
        }
        let pairs: Vec<(String, String)> = match entry.get("environment") {
            Some(Value::Sequence(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|pair| pair.split_once('='))
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            Some(Value::Mapping(map)) => map
                .iter()
                .filter_map(|(name, value)| Some((name.as_str()?.to_owned(), bounded::yaml_text(value)?)))
                .collect(),
            _ => Vec::new(),
        };
        for (name, value) in pairs.into_iter().filter(|(_, value)| !value.contains('$')) {
            if !service.env.iter().any(|(known, _)| *known == name) {
                service.env.push((name, value));
            }
        }
        for volume in entry.get("volumes").and_then(Value::as_sequence).into_iter().flatten() {
            let bind = match volume {
                Value::String(short) => cli_bind(&folder, short),
                long if long.get("type").and_then(Value::as_str) == Some("bind") => {
                    let source = long.get("source").and_then(Value::as_str);
                    let target = long.get("target").and_then(Value::as_str);
                    source
                        .zip(target)
                        .and_then(|(source, target)| host_folder(&folder, source).map(|host| (host, target.to_owned())))
                }
                _ => None,
            };
            service.binds.extend(bind);
        }
    }
    if seen_any {
        Ok(service)
    } else {
        Err(format!("{} has no such service", files.join(", ")))
    }
}

/// `./project:/app:ro` → `(project, /app)`; a named volume is no folder of the repository.
fn cli_bind(base: &str, volume: &str) -> Option<(String, String)> {
    let mut parts = volume.splitn(3, ':');
    let (host, target) = (parts.next()?, parts.next()?);
    target.starts_with('/').then_some(())?;
    Some((host_folder(base, host)?, target.trim_end_matches('/').to_owned()))
}

/// A host path as written in a CI line or compose file, from the repository: `.`, `./x`,
/// `$PWD/x`, `$(pwd)`, the CI's checkout folder.
fn host_folder(base: &str, host: &str) -> Option<String> {
    const HERE: &[&str] = &[
        "$PWD",
        "${PWD}",
        "$(pwd)",
        "`pwd`",
        "${{ github.workspace }}",
        "${{github.workspace}}",
        "$GITHUB_WORKSPACE",
        "${GITHUB_WORKSPACE}",
        "$CIRCLE_WORKING_DIRECTORY",
        "${CIRCLE_WORKING_DIRECTORY}",
        "~/project",
    ];
    let host = host.trim_matches(['"', '\'']);
    for here in HERE {
        if let Some(rest) = host.strip_prefix(here) {
            if rest.is_empty() || rest.starts_with('/') {
                return Some(join(base, rest.trim_start_matches('/')));
            }
        }
    }
    (host == "." || host.starts_with("./") || host.starts_with("../")).then(|| join(base, host))
}

/// One stage of a Dockerfile, as far as its folders go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Stage {
    name: Option<String>,
    /// The stage it is built on (`FROM builder`), when it is one.
    parent: Option<usize>,
    /// Its `WORKDIR` at the end, absolute.
    workdir: String,
    copies: Vec<CopyLine>,
    /// `ENV` and `ARG` values, for `WORKDIR $APP_HOME`.
    values: Vec<(String, String)>,
}

/// A `COPY`/`ADD` line: its sources (from the context, or from a stage's `/`) and its absolute
/// destination.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CopyLine {
    from: Option<String>,
    sources: Vec<String>,
    dest: String,
}

/// The stages of a Dockerfile, as far as their folders go.
fn parse_dockerfile(text: &str) -> Vec<Stage> {
    let mut stages: Vec<Stage> = Vec::new();
    let mut logical = String::new();
    let mut lines = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') && logical.is_empty() {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                logical.push_str(part);
                logical.push(' ');
            }
            None => {
                logical.push_str(trimmed);
                lines.push(std::mem::take(&mut logical));
            }
        }
    }
    for line in lines {
        let mut words = line.split_whitespace();
        let Some(instruction) = words.next() else { continue };
        let rest: Vec<&str> = words.collect();
        match instruction.to_ascii_uppercase().as_str() {
            "FROM" => {
                let args: Vec<&str> = rest.iter().copied().filter(|word| !word.starts_with("--")).collect();
                let base = args.first().copied().unwrap_or_default();
                let name = match args.as_slice() {
                    [_, as_word, name, ..] if as_word.eq_ignore_ascii_case("as") => Some((*name).to_owned()),
                    _ => None,
                };
                let parent = stages.iter().position(|stage| {
                    stage
                        .name
                        .as_deref()
                        .is_some_and(|name| name.eq_ignore_ascii_case(base))
                });
                let mut stage = match parent {
                    Some(index) => Stage {
                        workdir: stages[index].workdir.clone(),
                        values: stages[index].values.clone(),
                        ..Stage::default()
                    },
                    None => Stage {
                        workdir: "/".to_owned(),
                        ..Stage::default()
                    },
                };
                stage.name = name;
                stage.parent = parent;
                stages.push(stage);
            }
            _ if stages.is_empty() => {}
            "WORKDIR" => {
                if let Some(stage) = stages.last_mut() {
                    let dir = substitute(&rest.join(" "), &stage.values);
                    stage.workdir = absolute(&stage.workdir, dir.trim_matches('"'));
                }
            }
            "ENV" | "ARG" => {
                if let Some(stage) = stages.last_mut() {
                    if rest.len() == 2 && !rest[0].contains('=') {
                        stage
                            .values
                            .push((rest[0].to_owned(), rest[1].trim_matches('"').to_owned()));
                    } else {
                        stage.values.extend(rest.iter().filter_map(|pair| {
                            let (name, value) = pair.split_once('=')?;
                            Some((name.to_owned(), value.trim_matches('"').to_owned()))
                        }));
                    }
                }
            }
            "COPY" | "ADD" => {
                if let Some(stage) = stages.last_mut() {
                    let from = rest
                        .iter()
                        .find_map(|word| word.strip_prefix("--from="))
                        .map(str::to_owned);
                    let arguments = rest
                        .iter()
                        .copied()
                        .filter(|word| !word.starts_with("--"))
                        .collect::<Vec<_>>()
                        .join(" ");
                    let mut paths: Vec<String> = if arguments.trim_start().starts_with('[') {
                        serde_json::from_str(arguments.trim()).unwrap_or_default()
                    } else {
                        arguments.split_whitespace().map(str::to_owned).collect()
                    };
                    let Some(dest) = paths.pop().filter(|_| !paths.is_empty()) else {
                        continue;
                    };
                    let dest = absolute(&stage.workdir, &substitute(&dest, &stage.values));
                    stage.copies.push(CopyLine {
                        from,
                        sources: paths.iter().map(|source| substitute(source, &stage.values)).collect(),
                        dest,
                    });
                }
            }
            _ => {}
        }
    }
    stages
}

/// `$NAME`, `${NAME}` and `${NAME:-default}` from the stage's values.
fn substitute(text: &str, values: &[(String, String)]) -> String {
    let value = |name: &str| {
        values
            .iter()
            .rev()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value.clone())
    };
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(inner) = after.strip_prefix('{') {
            let Some(close) = inner.find('}') else {
                out.push_str(&rest[at..]);
                return out;
            };
            let (name, default) = match inner[..close].split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (&inner[..close], None),
            };
            out.push_str(&value(name).or(default.map(str::to_owned)).unwrap_or_default());
            rest = &inner[close + 1..];
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            out.push_str(&value(&after[..end]).unwrap_or_default());
            rest = &after[end..];
        }
    }
    out.push_str(rest);
    out
}

/// Where `path` (absolute, in stage `index`) comes from, relative to the build context.
fn to_context(stages: &[Stage], index: usize, path: &str, context: &Path, hops: usize) -> Option<String> {
    let stage = stages.get(index).filter(|_| hops < MAX_STAGE_HOPS)?;
    // The last copy that holds the path wins: it is what the folder has at the end.
    for copy in stage.copies.iter().rev() {
        let Some(rest) = within(path, &copy.dest) else {
            continue;
        };
        let folders: Vec<&String> = match &copy.from {
            // Another stage's files are its whole filesystem.
            Some(_) => copy.sources.iter().collect(),
            None => copy
                .sources
                .iter()
                .filter(|source| {
                    !source.contains(['*', '?', '[']) && !source.contains("://") && context.join(source).is_dir()
                })
                .collect(),
        };
        let [source] = folders.as_slice() else {
            continue;
        };
        let from_here = join(source, &rest);
        return match &copy.from {
            None => normalize(&from_here),
            Some(from) => {
                let earlier = stages
                    .iter()
                    .position(|stage| stage.name.as_deref() == Some(from.as_str()))
                    .or_else(|| from.parse::<usize>().ok().filter(|at| *at < index))?;
                to_context(stages, earlier, &absolute("/", &from_here), context, hops + 1)
            }
        };
    }
    to_context(stages, stage.parent?, path, context, hops + 1)
}

/// `path` below `folder` (`""` for the folder itself), when it is.
fn within(path: &str, folder: &str) -> Option<String> {
    let folder = folder.trim_end_matches('/');
    if folder.is_empty() {
        return Some(path.trim_start_matches('/').to_owned());
    }
    let rest = path.strip_prefix(folder)?;
    if rest.is_empty() {
        Some(String::new())
    } else {
        rest.strip_prefix('/').map(|rest| rest.trim_end_matches('/').to_owned())
    }
}

/// `path` made absolute from `current` (a Dockerfile's relative `WORKDIR`), `.` and `..` resolved.
fn absolute(current: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{current}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

/// A relative path with `.` and `..` resolved; `None` when it leaves the top.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// `folder/path`, with `..` resolved where it stays in the repository (`deploy/../app` → `app`).
fn join(folder: &str, path: &str) -> String {
    let folder = folder.trim_end_matches('/');
    let path = path.trim_start_matches("./");
    let joined = match (folder.is_empty() || folder == ".", path.is_empty() || path == ".") {
        (true, _) => path.to_owned(),
        (false, true) => folder.to_owned(),
        (false, false) => format!("{folder}/{path}"),
    };
    normalize(&joined).unwrap_or(joined)
}

fn parent(file: &str) -> String {
    PathBuf::from(file)
        .parent()
        .map(|parent| parent.display().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::ci::shell::commands;
    use crate::project::ci::tools::prepare;

    fn write(root: &Path, files: &[(&str, &str)]) -> std::io::Result<()> {
        for (file, text) in files {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap_or(root))?;
            std::fs::write(path, text)?;
        }
        Ok(())
    }

    /// The placement of the last container line of `script`, after the lines before it are
    /// noted as the CI's builds, runs and compose files.
    fn placed(root: &Path, script: &str) -> Placement {
        let mut seen = CiImages::default();
        let mut last = None;
        for command in commands(script) {
            let prepared = prepare(&command);
            let words: Vec<String> = shlex::split(&prepared.without_cd).unwrap_or_default();
            if words.get(1).is_some_and(|verb| verb == "build") {
                let context = words.last().cloned().unwrap_or_default();
                seen.built(
                    build_tags(&words),
                    None,
                    &join(command.cd.as_deref().unwrap_or(""), &context),
                );
            }
            if let Some((files, _)) = crate::project::ci::services::compose_up(&words) {
                seen.composed(files);
            }
            if let Some(container) = prepared.container {
                seen.started(&container);
                last = Some(container);
            }
        }
        match last {
            Some(container) => place(root, &container, &seen, &mut Vec::new()),
            None => Placement::Unknown("no container".to_owned()),
        }
    }

    fn folder(placement: &Placement) -> Option<&str> {
        match placement {
            Placement::Folder { folder, .. } => Some(folder),
            Placement::Unknown(_) => None,
        }
    }

    #[test]
    fn an_absolute_workdir_maps_to_the_folder_copied_there() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        write(
            dir.path(),
            &[
                ("Dockerfile", "FROM python:3.12\nWORKDIR /app\nCOPY project/requirements.txt .\nRUN pip install -r requirements.txt\nCOPY project/ /app/\n"),
                ("project/setup.cfg", ""),
            ],
        )?;
        let placement = placed(dir.path(), "docker exec app python -m pytest .");
        assert_eq!(folder(&placement), Some("project"), "{placement:?}");
        assert_eq!(
            placement.note(None),
            "Runs in project/, where your CI's container runs it: Dockerfile copies project/ to its WORKDIR /app."
        );
        Ok(())
    }

    #[test]
    fn relative_workdirs_copy_dot_dot_and_values_are_followed() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        write(
            dir.path(),
            &[
                (
                    "Dockerfile",
                    "FROM python:3.12\nENV APP_HOME=/srv\nWORKDIR $APP_HOME\nCOPY . .\nWORKDIR site\n",
                ),
                ("site/manage.py", ""),
            ],
        )?;
        assert_eq!(folder(&placed(dir.path(), "docker exec app pytest")), Some("site"));
        // `-w` of the exec decides, from the image's folder when relative.
        assert_eq!(
            folder(&placed(dir.path(), "docker exec -w .. app flake8")),
            Some(""),
            "/srv is the repository's top"
        );
        Ok(())
    }

    #[test]
    fn the_last_stage_decides_following_copies_from_earlier_stages() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        write(
            dir.path(),
            &[
                (
                    "docker/Dockerfile",
                    "FROM python:3.12 AS build\nWORKDIR /build\nCOPY src/ ./code/\n\n# the runtime\nFROM python:3.12-slim AS runtime\nCOPY --from=build \\\n    /build/code /app\nWORKDIR /app\n",
                ),
                ("src/shop/__init__.py", ""),
                ("Dockerfile", "FROM python:3.12\nWORKDIR /elsewhere\n"),
            ],
        )?;
        let script = "docker build -f docker/Dockerfile -t me/shop:ci .\ndocker run --rm me/shop:ci pytest";
        let mut seen = CiImages::default();
        seen.built(vec!["me/shop:ci".into()], Some("docker/Dockerfile".into()), "");
        let container = commands(script)
            .iter()
            .filter_map(|command| prepare(command).container)
            .next_back();
        let placement = container.map(|container| place(dir.path(), &container, &seen, &mut Vec::new()));
        assert_eq!(placement.as_ref().and_then(folder), Some("src"), "{placement:?}");
        Ok(())
    }

    #[test]
    fn compose_bind_mounts_win_over_the_image_copies() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        write(
            dir.path(),
            &[
                (
                    "docker-compose.yml",
                    "services:\n  web:\n    build:\n      context: .\n      dockerfile: docker/web.Dockerfile\n    volumes:\n      - ./project:/code\n      - static:/code/static\n  db:\n    image: postgres:16\n",
                ),
                ("docker/web.Dockerfile", "FROM python:3.12\nWORKDIR /code\nCOPY . /code\n"),
                ("project/manage.py", ""),
            ],
        )?;
        let placement = placed(dir.path(), "docker compose run --rm web flake8");
        assert_eq!(folder(&placement), Some("project"), "{placement:?}");
        assert!(
            placement.note(None).contains("the container mounts project/ at /code"),
            "{placement:?}"
        );
        // Without the mount the image's copy says the top.
        write(
            dir.path(),
            &[(
                "docker-compose.yml",
                "services:\n  web:\n    build:\n      context: .\n      dockerfile: docker/web.Dockerfile\n",
            )],
        )?;
        assert_eq!(
            folder(&placed(dir.path(), "docker-compose exec -T web pytest")),
            Some("")
        );
        // A service that builds nothing of the project cannot tell.
        assert!(matches!(
            placed(dir.path(), "docker compose run db psql"),
            Placement::Unknown(_)
        ));
        Ok(())
    }

    #[test]
    fn an_exec_reaches_the_image_through_the_ci_run_or_compose_container_name() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        write(
            dir.path(),
            &[
                (
                    "app/Dockerfile",
                    "FROM python:3.12\nWORKDIR /usr/src\nCOPY . .\nWORKDIR /usr/src/shop\n",
                ),
                ("app/shop/models.py", ""),
                (
                    "deploy/compose.ci.yml",
                    "services:\n  backend:\n    container_name: api\n    build: ../app\n",
                ),
            ],
        )?;
        let run = "cd app && docker build -t shop .\ndocker run -d --name box shop\ndocker exec box pytest";
        assert_eq!(folder(&placed(dir.path(), run)), Some("app/shop"));
        let compose = "docker compose -f deploy/compose.ci.yml up -d\ndocker exec -t api pytest";
        assert_eq!(folder(&placed(dir.path(), compose)), Some("app/shop"));
        // A bind mount with `-w` tells the folder of an image built elsewhere.
        let mounted = "docker run --rm -v $(pwd)/app:/src -w /src/shop python:3.12 pytest";
        assert_eq!(folder(&placed(dir.path(), mounted)), Some("app/shop"));
        Ok(())
    }

    #[test]
    fn a_runner_run_in_the_image_reads_its_recipe_in_the_image_folder() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        write(
            dir.path(),
            &[
                (
                    ".github/workflows/ci.yml",
                    "jobs:\n  test:\n    steps:\n      - run: docker compose up -d\n      - run: docker compose exec -T web make test\n",
                ),
                (
                    "docker-compose.yml",
                    "services:\n  web:\n    build: ./project\n    volumes:\n      - ./project:/usr/src/app\n",
                ),
                ("project/Dockerfile", "FROM python:3.12\nWORKDIR /usr/src/app\n"),
                ("project/Makefile", "test:\n\tpython -m pytest -q\n"),
                ("Makefile", "test:\n\techo not this one\n"),
            ],
        )?;
        let findings = crate::project::ci::read_ci(dir.path());
        let test = findings.test.ok_or(std::io::ErrorKind::NotFound)?;
        assert_eq!(test.command, "cd project && python -m pytest -q");
        assert!(
            test.notes
                .iter()
                .any(|note| note.contains("Runs in project/, where your CI's container runs it")),
            "{:?}",
            test.notes
        );
        Ok(())
    }

    #[test]
    fn the_containers_own_values_reach_the_check() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        write(
            dir.path(),
            &[
                ("Dockerfile", "FROM python:3.12\nWORKDIR /app\nCOPY . .\n"),
                (
                    "docker-compose.yml",
                    "services:\n  web:\n    build: .\n    environment:\n      - TESTING=1\n      - HOST_ONLY=${FROM_THE_HOST}\n  worker:\n    build: .\n    environment:\n      QUEUE: jobs\n",
                ),
            ],
        )?;
        let values = |script: &str| {
            let mut seen = CiImages::default();
            let mut env = Vec::new();
            for command in commands(script) {
                if let Some(container) = prepare(&command).container {
                    seen.started(&container);
                    if container.named.is_none() {
                        place(dir.path(), &container, &seen, &mut env);
                    }
                }
            }
            env
        };
        assert_eq!(
            values(
                "docker run -d --name box -e DATABASE_URL=sqlite://db.sqlite3 -e PORT=8765 app\ndocker exec box pytest"
            ),
            [
                ("DATABASE_URL".to_owned(), "sqlite://db.sqlite3".to_owned()),
                ("PORT".to_owned(), "8765".to_owned())
            ]
        );
        assert_eq!(
            values("docker compose exec -T web pytest"),
            [("TESTING".to_owned(), "1".to_owned())],
            "a value the host gives is not the CI's"
        );
        assert_eq!(
            values("docker compose run worker pytest"),
            [("QUEUE".to_owned(), "jobs".to_owned())]
        );
        Ok(())
    }

    #[test]
    fn a_folder_that_cannot_be_told_says_why() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        write(
            dir.path(),
            &[("Dockerfile", "FROM python:3.12\nCOPY . /src\nWORKDIR /app\n")],
        )?;
        let outside = placed(dir.path(), "docker exec app pytest");
        assert_eq!(
            outside.note(None),
            "Slipway could not tell which folder your CI's container runs this in (the image works in /app, which Dockerfile does not copy from the project); it runs it in the project's folder."
        );
        let unknown = placed(dir.path(), "docker run ghcr.io/me/tools:1 flake8");
        assert_eq!(
            unknown,
            Placement::Unknown("no Dockerfile of ghcr.io/me/tools:1 was found".to_owned())
        );
        // The check stays where the CI's line runs.
        assert!(unknown.note(Some("tools")).ends_with("; it runs it in tools/."));
        // A copy from outside the context never leaves the project.
        write(
            dir.path(),
            &[("Dockerfile", "FROM python:3.12\nWORKDIR /app/../..\nCOPY . /\n")],
        )?;
        assert_eq!(folder(&placed(dir.path(), "docker exec app pytest")), Some(""));
        Ok(())
    }
}
