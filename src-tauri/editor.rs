//! *Open in editor*: a file of the open project, at a line, in the editor the person set in
//! Settings → This computer, or else with the system's opener for the file.
//!
//! The path comes from a lint violation or a failing test, so it is the project's file or
//! nothing: it is resolved inside the project's folder and refused when it leads out of it
//! (`../`, a link). The editor is started without a shell, its words split as a shell would
//! split them, so a file name never becomes a command.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;
use ts_rs::TS;

use crate::error::{AppError, ErrorAction, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum EditorError {
    #[error("{path} is not a file of the project")]
    NotInProject { path: String },
    #[error("{path} is not in the project's folder any more")]
    Missing { path: String },
    #[error("the editor command cannot be read: {0}")]
    BadCommand(String),
    #[error("{program} could not be started: {why}")]
    CouldNotStart { program: String, why: String },
}

impl From<EditorError> for AppError {
    fn from(error: EditorError) -> Self {
        let detail = error.to_string();
        match error {
            EditorError::NotInProject { path } => AppError::new(
                ErrorKind::Validation,
                format!("{path} is outside the project, so Slipway does not open it."),
                "Open the file from your editor.",
            ),
            EditorError::Missing { path } => AppError::new(
                ErrorKind::NotFound,
                format!("{path} is not in the project any more."),
                "It may have been moved or deleted since the check ran: release again to see where it is now.",
            ),
            EditorError::BadCommand(_) => AppError::new(
                ErrorKind::Validation,
                "The editor command in Slipway's settings cannot be started.",
                "Correct it in Settings → This computer, as in: code --goto {file}:{line}",
            )
            .with_action(ErrorAction::OpenAppSettings),
            EditorError::CouldNotStart { program, .. } => AppError::new(
                ErrorKind::Precondition,
                format!("Slipway could not start {program} to open the file."),
                "Check that it is installed, or set the editor Slipway uses in Settings → This computer.",
            )
            .with_action(ErrorAction::OpenAppSettings),
        }
        .with_detail(detail)
    }
}

/// Kinds of file a system opener starts rather than shows.
const LAUNCHED: &[&str] = &[
    "desktop", "command", "app", "exe", "bat", "cmd", "com", "msi", "ps1", "vbs", "scr", "appimage", "jar", "sh",
    "lnk", "url", "webloc",
];

/// What was opened, in words for the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Opened {
    /// "Opened lettings/app.py at line 2 in code." or, when the system's opener cannot be
    /// given a line, "Opened lettings/app.py: go to line 2."
    pub sentence: String,
}

/// Who opens the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opener {
    /// The person's editor: program and arguments, `{file}` and `{line}` in them.
    Editor(Vec<String>),
    /// The system's opener for the file (`xdg-open`, `open`): it takes no line.
    System(Vec<String>),
}

impl Opener {
    /// The editor set in the settings, else the system's opener.
    pub fn from_settings(editor_command: Option<&str>) -> Result<Self, EditorError> {
        match editor_command.map(str::trim).filter(|command| !command.is_empty()) {
            Some(command) => parse_command(command)
                .map(Opener::Editor)
                .map_err(EditorError::BadCommand),
            None => Ok(Opener::System(system_opener())),
        }
    }
}

fn system_opener() -> Vec<String> {
    let words: &[&str] = if cfg!(target_os = "macos") {
        &["open"]
    } else if cfg!(windows) {
        // Not `cmd /C start`: a shell would read `&` in a file name as a second command.
        &["explorer"]
    } else {
        &["xdg-open"]
    };
    words.iter().map(|word| (*word).to_owned()).collect()
}

/// Splits a command line into words as a POSIX shell would, for quotes and backslashes only:
/// no variables, globs or pipes, because no shell runs it.
pub fn parse_command(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(character) = chars.next() {
        match character {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(inner) => word.push(inner),
                        None => return Err("a ' quote is not closed".to_owned()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(escaped @ ('"' | '\\' | '$' | '`')) => word.push(escaped),
                            Some(other) => {
                                word.push('\\');
                                word.push(other);
                            }
                            None => return Err("a \" quote is not closed".to_owned()),
                        },
                        Some(inner) => word.push(inner),
                        None => return Err("a \" quote is not closed".to_owned()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(escaped) => word.push(escaped),
                    None => return Err("the command ends with a lone \\".to_owned()),
                }
            }
            space if space.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if words.is_empty() {
        return Err("the command is empty".to_owned());
    }
    Ok(words)
}

/// `relative` (a path a check printed, relative to the project) as a file inside `root`.
pub fn project_file(root: &Path, relative: &str) -> Result<PathBuf, EditorError> {
    let outside = || EditorError::NotInProject {
        path: relative.to_owned(),
    };
    let relative_path = Path::new(relative.trim_start_matches("./"));
    if relative_path.is_absolute() || relative.trim().is_empty() {
        return Err(outside());
    }
    let root = root.canonicalize().map_err(|_| EditorError::Missing {
        path: root.display().to_string(),
    })?;
    let file = root
        .join(relative_path)
        .canonicalize()
        .map_err(|_| EditorError::Missing {
            path: relative.to_owned(),
        })?;
    if !file.starts_with(&root) || !file.is_file() {
        return Err(outside());
    }
    // The system's opener runs what it would launch (a `.desktop` entry, a `.command`): a
    // check names source files, never these.
    let launches = file
        .extension()
        .map(|extension| extension.to_string_lossy().to_lowercase())
        .is_some_and(|extension| LAUNCHED.contains(&extension.as_str()));
    if launches {
        return Err(outside());
    }
    Ok(file)
}

/// Opens `relative` of the project at `root` at `line`, and says how.
pub fn open(root: &Path, relative: &str, line: Option<u32>, opener: &Opener) -> Result<Opened, EditorError> {
    let file = project_file(root, relative)?;
    let shown = relative.trim_start_matches("./");
    let file_text = file.display().to_string();
    let line_text = line.unwrap_or(1).max(1).to_string();
    let (words, sentence) = match opener {
        Opener::Editor(words) => {
            let mut filled: Vec<String> = words
                .iter()
                .map(|word| word.replace("{file}", &file_text).replace("{line}", &line_text))
                .collect();
            // An editor command that names no file gets it last, as editors expect.
            if !words.iter().any(|word| word.contains("{file}")) {
                filled.push(file_text.clone());
            }
            let program = program_name(&filled[0]);
            let sentence = match line {
                Some(line) if words.iter().any(|word| word.contains("{line}")) => {
                    format!("Opened {shown} at line {line} in {program}.")
                }
                Some(line) => format!("Opened {shown} in {program}: go to line {line}."),
                None => format!("Opened {shown} in {program}."),
            };
            (filled, sentence)
        }
        Opener::System(words) => {
            let mut filled = words.clone();
            filled.push(file_text);
            let sentence = match line {
                Some(line) => format!("Opened {shown}: go to line {line}."),
                None => format!("Opened {shown}."),
            };
            (filled, sentence)
        }
    };
    start(&words)?;
    Ok(Opened { sentence })
}

fn program_name(program: &str) -> String {
    Path::new(program)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| program.to_owned())
}

/// Starts the editor and leaves it running; a thread waits for it so it leaves no zombie.
fn start(words: &[String]) -> Result<(), EditorError> {
    let Some((program, arguments)) = words.split_first() else {
        return Err(EditorError::BadCommand("the command is empty".to_owned()));
    };
    let mut child = Command::new(program)
        .args(arguments)
        // Slipway's own report address stays with Slipway.
        .env_remove("SENTRY_DSN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| EditorError::CouldNotStart {
            program: program_name(program),
            why: error.to_string(),
        })?;
    std::thread::spawn(move || {
        if let Err(error) = child.wait() {
            tracing::warn!(%error, "the editor's process could not be waited for");
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_is_split_like_a_shell_without_running_one() {
        assert_eq!(
            parse_command("code --goto {file}:{line}"),
            Ok(vec!["code".into(), "--goto".into(), "{file}:{line}".into()])
        );
        assert_eq!(
            parse_command(r#""/opt/My Editor/edit" '+{line}' a\ b "say \"hi\"""#),
            Ok(vec![
                "/opt/My Editor/edit".into(),
                "+{line}".into(),
                "a b".into(),
                "say \"hi\"".into()
            ])
        );
        assert!(parse_command("code 'open").is_err());
        assert!(parse_command("   ").is_err());
    }

    #[test]
    fn only_the_projects_own_files_are_opened() -> std::io::Result<()> {
        let outside = tempfile::tempdir()?;
        std::fs::write(outside.path().join("secret.txt"), "x")?;
        let project = tempfile::tempdir()?;
        std::fs::create_dir(project.path().join("app"))?;
        std::fs::write(project.path().join("app/views.py"), "x")?;
        assert!(project_file(project.path(), "app/views.py").is_ok());
        assert!(project_file(project.path(), "./app/views.py").is_ok());
        let escape = format!(
            "../{}/secret.txt",
            outside.path().file_name().unwrap_or_default().to_string_lossy()
        );
        assert!(matches!(
            project_file(project.path(), &escape),
            Err(EditorError::NotInProject { .. })
        ));
        let absolute = outside.path().join("secret.txt").display().to_string();
        assert!(matches!(
            project_file(project.path(), &absolute),
            Err(EditorError::NotInProject { .. })
        ));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outside.path().join("secret.txt"), project.path().join("link.txt"))?;
            assert!(matches!(
                project_file(project.path(), "link.txt"),
                Err(EditorError::NotInProject { .. })
            ));
        }
        assert!(matches!(
            project_file(project.path(), "app/gone.py"),
            Err(EditorError::Missing { .. })
        ));
        assert!(matches!(
            project_file(project.path(), "app"),
            Err(EditorError::NotInProject { .. })
        ));
        std::fs::write(project.path().join("run.desktop"), "[Desktop Entry]\nExec=calc\n")?;
        assert!(
            matches!(
                project_file(project.path(), "run.desktop"),
                Err(EditorError::NotInProject { .. })
            ),
            "a file the opener would launch is never handed to it"
        );
        Ok(())
    }

    /// A stand-in editor: a script that writes the words it was given to a file.
    #[cfg(unix)]
    fn recording_program(dir: &Path) -> std::io::Result<(String, PathBuf)> {
        use std::os::unix::fs::PermissionsExt;
        let record = dir.join("opened.txt");
        let program = dir.join("fake-editor");
        std::fs::write(
            &program,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}.part'\nmv '{0}.part' '{0}'\n",
                record.display()
            ),
        )?;
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755))?;
        Ok((program.display().to_string(), record))
    }

    #[cfg(unix)]
    fn wait_for(record: &Path) -> std::io::Result<String> {
        for _ in 0..100 {
            if let Ok(text) = std::fs::read_to_string(record) {
                return Ok(text);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        std::fs::read_to_string(record)
    }

    #[cfg(unix)]
    #[test]
    fn the_editor_gets_the_file_and_the_line_and_the_system_opener_the_file() -> Result<(), Box<dyn std::error::Error>>
    {
        let tools = tempfile::tempdir()?;
        let (program, record) = recording_program(tools.path())?;
        let project = tempfile::tempdir()?;
        std::fs::write(project.path().join("app.py"), "import json\n")?;
        let file = project.path().canonicalize()?.join("app.py").display().to_string();

        let editor = Opener::from_settings(Some(&format!("'{program}' --goto {{file}}:{{line}}")))?;
        let opened = open(project.path(), "app.py", Some(2), &editor)?;
        assert_eq!(opened.sentence, "Opened app.py at line 2 in fake-editor.");
        assert_eq!(wait_for(&record)?, format!("--goto\n{file}:2\n"));

        std::fs::remove_file(&record)?;
        let system = Opener::System(vec![program.clone()]);
        let opened = open(project.path(), "app.py", Some(2), &system)?;
        assert_eq!(
            opened.sentence, "Opened app.py: go to line 2.",
            "the opener takes no line, so it is said"
        );
        assert_eq!(wait_for(&record)?, format!("{file}\n"));

        let missing = Opener::Editor(vec![tools.path().join("no-such-editor").display().to_string()]);
        let error = AppError::from(open(project.path(), "app.py", None, &missing).err().ok_or("refused")?);
        assert_eq!(
            error.message,
            "Slipway could not start no-such-editor to open the file."
        );
        assert_eq!(error.action, Some(ErrorAction::OpenAppSettings));
        Ok(())
    }
}
