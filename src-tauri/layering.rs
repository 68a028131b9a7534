//! The rooms know nothing of Tauri: only the shell (`app.rs`, `lib.rs`, `main.rs`) and the
//! thin adapters in `commands/` may name it. This test keeps it so.

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                rust_files(&path, found)?;
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push(path);
            }
        }
        Ok(())
    }

    #[test]
    fn tauri_is_named_only_by_the_shell_and_the_commands() -> std::io::Result<()> {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri");
        let mut files = Vec::new();
        rust_files(&source, &mut files)?;
        let shell = ["app.rs", "lib.rs", "main.rs", "layering.rs"];
        let mut offenders = Vec::new();
        for file in &files {
            let relative = file.strip_prefix(&source).unwrap_or(file);
            if relative.starts_with("commands") || shell.iter().any(|name| relative == Path::new(name)) {
                continue;
            }
            let text = std::fs::read_to_string(file)?;
            let uses_tauri = text.lines().any(|line| {
                let code = line.split("//").next().unwrap_or_default();
                code.contains("tauri::") || code.contains("use tauri") || code.contains("tauri_plugin")
            });
            if uses_tauri {
                offenders.push(relative.display().to_string());
            }
        }
        assert!(files.len() > 40, "the source tree was found ({} files)", files.len());
        assert!(offenders.is_empty(), "rooms that name Tauri: {offenders:?}");
        Ok(())
    }
}
