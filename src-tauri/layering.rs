//! The rooms know nothing of Tauri: only the shell (`app.rs`, `lib.rs`, `main.rs`) and the
//! thin adapters in `commands/` may name it. And no two files of the crate import each other,
//! however long the loop: a shared item goes where both can see it. These tests keep it so.
//!
//! How the import test reads the crate, and why:
//! - An arrow A → B is a path in A's code that names B's module: `use crate::…`,
//!   `use super::…`, `use self::…`, a `use` of a child module by its name, and the same paths
//!   written inline (`super::gate::run_gate(…)`, `crate::project::git_details(…)`), also
//!   through a module brought in by `use` (`use crate::pipeline;` then `pipeline::deploy::…`).
//!   It names the deepest module file the path reaches; a re-export is not followed (a name
//!   taken from `docker::` is taken from `docker/mod.rs`).
//! - A `mod` line is no arrow: a parent declaring its child imports nothing from it. Nor is a
//!   re-export (`pub use local::LocalDeployer` in `pipeline/deploy/mod.rs`): it hands a
//!   child's name on to the room's users, and the file that writes it uses nothing of it
//!   (counted, it would close `deploy/mod.rs → deploy/local.rs → verify.rs → deploy/mod.rs`,
//!   though `deploy/mod.rs` calls nothing in `local.rs`).
//! - An arrow from a file to a module that encloses it (its `mod.rs`, `lib.rs`) is left out
//!   of the loops: the parent is where a room keeps what its files share (`cli::fail`,
//!   `docker::DockerError`), so a child using it while the parent calls the child is the
//!   module tree's own shape, not a tangle; the parent is already "where both can see it".
//! - `#[cfg(test)]` modules (`mod tests { … }`, and files such as `checks/fuzz.rs` declared
//!   under `#[cfg(test)]`) are not read: they are built only into the test binary, and a
//!   test reaching into a sibling to run something for real ties nothing the app ships.
//!   Read, they make a false loop: `checks/sandbox.rs`'s tests run a sandboxed command through
//!   `checks::process::supervise`, while `process.rs` runs its commands in a `Sandbox`; no
//!   move of shipped code could break that, and none should.
//! - Comments, strings and character literals are blanked first, so a doc comment that names
//!   `crate::x` draws no arrow.

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
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

    /// A module's path from the crate root: `[]` for `lib.rs`, `["cli", "release"]` for
    /// `cli/release.rs`, `["cli"]` for `cli/mod.rs`.
    type ModulePath = Vec<String>;

    fn module_path(relative: &Path) -> ModulePath {
        let mut parts: Vec<String> = relative
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect();
        if let Some(last) = parts.pop() {
            let stem = last.trim_end_matches(".rs");
            if stem != "mod" && stem != "lib" {
                parts.push(stem.to_owned());
            }
        }
        parts
    }

    /// The code alone: comments, strings and character literals become spaces (line breaks
    /// kept), so nothing in them reads as a path.
    fn code_only(text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            if c == '/' && next == Some('/') {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            } else if c == '/' && next == Some('*') {
                let mut depth = 0;
                while i < chars.len() {
                    if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        blank(&mut out, chars[i]);
                        i += 1;
                    }
                }
            } else if c == 'r' && matches!(next, Some('"') | Some('#')) && !ident_before(&chars, i) {
                // A raw string: r"…", r#"…"#, r##"…"##.
                let mut j = i + 1;
                let mut hashes = 0;
                while chars.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if chars.get(j) != Some(&'"') {
                    out.push(c);
                    i += 1;
                    continue;
                }
                j += 1;
                loop {
                    match chars.get(j) {
                        None => break,
                        Some('"') if (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) => {
                            j += 1 + hashes;
                            break;
                        }
                        Some(&other) => blank(&mut out, other),
                    }
                    j += 1;
                }
                i = j;
            } else if c == '"' {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    if let Some(&inside) = chars.get(i) {
                        blank(&mut out, inside);
                    }
                    i += 1;
                }
                i += 1;
            } else if c == '\'' {
                // 'x', '\n', '\u{1F600}' are characters; 'a (no closing quote) is a lifetime.
                if next == Some('\\') {
                    i += 2;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else if chars.get(i + 2) == Some(&'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
                out.push(' ');
            } else {
                out.push(c);
                i += 1;
            }
        }
        out
    }

    /// Whether `chars[i]` continues a word (`for`, `bar"`), so an `r` there starts no raw
    /// string; `br"…"` does.
    fn ident_before(chars: &[char], i: usize) -> bool {
        let word = |k: usize| chars[k].is_alphanumeric() || chars[k] == '_';
        match i {
            0 => false,
            // `br"`: the word is the `b` prefix only when nothing of a word stands before it.
            _ if chars[i - 1] == 'b' => i >= 2 && word(i - 2),
            _ => word(i - 1),
        }
    }

    #[derive(Debug, Clone, PartialEq)]
    enum Token {
        Ident(String),
        Path,
        Open,
        Close,
        Comma,
        Semicolon,
        Star,
        Other(char),
    }

    fn tokens(code: &str) -> Vec<Token> {
        let chars: Vec<char> = code.chars().collect();
        let mut found = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_alphabetic() || c == '_' || (c == '$' && chars.get(i + 1).is_some_and(|n| n.is_alphabetic())) {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                found.push(Token::Ident(word.trim_start_matches('$').to_owned()));
                continue;
            }
            match c {
                ':' if chars.get(i + 1) == Some(&':') => {
                    found.push(Token::Path);
                    i += 1;
                }
                '{' => found.push(Token::Open),
                '}' => found.push(Token::Close),
                ',' => found.push(Token::Comma),
                ';' => found.push(Token::Semicolon),
                '*' => found.push(Token::Star),
                c if c.is_whitespace() => {}
                c => found.push(Token::Other(c)),
            }
            i += 1;
        }
        found
    }

    /// The tokens without `#[cfg(test)]` items: a `mod x { … }` is dropped whole, and the
    /// names of `mod x;` files declared so are returned (those files are not read).
    fn without_test_items(all: Vec<Token>) -> (Vec<Token>, Vec<String>) {
        let mut kept = Vec::with_capacity(all.len());
        let mut test_files = Vec::new();
        let mut i = 0;
        let is = |i: usize, token: Token| all.get(i) == Some(&token);
        let ident = |i: usize, word: &str| matches!(all.get(i), Some(Token::Ident(w)) if w == word);
        while i < all.len() {
            // # [ cfg ( test ) ]
            let cfg_test = is(i, Token::Other('#'))
                && is(i + 1, Token::Other('['))
                && ident(i + 2, "cfg")
                && is(i + 3, Token::Other('('))
                && ident(i + 4, "test")
                && is(i + 5, Token::Other(')'))
                && is(i + 6, Token::Other(']'));
            if !cfg_test {
                kept.push(all[i].clone());
                i += 1;
                continue;
            }
            // The item it marks: skip to its `;` or past its balanced braces.
            let mut j = i + 7;
            if ident(j, "mod") {
                if let (Some(Token::Ident(name)), true) = (all.get(j + 1), is(j + 2, Token::Semicolon)) {
                    test_files.push(name.clone());
                }
            }
            let mut depth = 0;
            while j < all.len() {
                match all[j] {
                    Token::Open => depth += 1,
                    Token::Close => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    Token::Semicolon if depth == 0 => break,
                    _ => {}
                }
                j += 1;
            }
            i = j + 1;
        }
        (kept, test_files)
    }

    /// One path as written: where it starts (the module its first segment names) and the
    /// segments after.
    struct Written {
        start: ModulePath,
        rest: Vec<String>,
    }

    /// Where a path's first segment points from `here`, if it names a module of this crate:
    /// `crate`, `super`, `self`, a child module, or a module a `use` brought in.
    fn start_of(
        first: &str,
        here: &ModulePath,
        aliases: &BTreeMap<String, ModulePath>,
        modules: &BTreeSet<ModulePath>,
    ) -> Option<ModulePath> {
        match first {
            "crate" => Some(Vec::new()),
            "super" => Some(here[..here.len().saturating_sub(1)].to_vec()),
            "self" => Some(here.clone()),
            name => {
                let mut child = here.clone();
                child.push(name.to_owned());
                if modules.contains(&child) {
                    Some(child)
                } else {
                    aliases.get(name).cloned()
                }
            }
        }
    }

    /// Walks `rest` from `start` as far as the segments name modules: the module reached and
    /// the name taken from it (the next segment, or the module itself).
    fn reach(start: &ModulePath, rest: &[String], modules: &BTreeSet<ModulePath>) -> (ModulePath, String) {
        let mut module = start.clone();
        let mut segments = rest.iter();
        for segment in segments.by_ref() {
            match segment.as_str() {
                "super" => {
                    module.pop();
                }
                "self" => {}
                name => {
                    let mut child = module.clone();
                    child.push(name.to_owned());
                    if modules.contains(&child) {
                        module = child;
                    } else {
                        return (module, name.to_owned());
                    }
                }
            }
        }
        let name = module.last().cloned().unwrap_or_else(|| "crate".to_owned());
        (module, name)
    }

    /// Every leaf of a `use` tree starting at `tokens[i]` (after `use`), as segment lists;
    /// returns the index after the tree.
    fn use_tree(tokens: &[Token], mut i: usize, prefix: &[String], leaves: &mut Vec<Vec<String>>) -> usize {
        let mut path = prefix.to_vec();
        loop {
            match tokens.get(i) {
                Some(Token::Ident(word)) => {
                    path.push(word.clone());
                    i += 1;
                    if tokens.get(i) == Some(&Token::Path) {
                        i += 1;
                        continue;
                    }
                    // `as alias`
                    if matches!(tokens.get(i), Some(Token::Ident(w)) if w == "as") {
                        i += 2;
                    }
                    leaves.push(path);
                    return i;
                }
                Some(Token::Star) => {
                    leaves.push(path);
                    return i + 1;
                }
                Some(Token::Open) => {
                    i += 1;
                    while i < tokens.len() && tokens[i] != Token::Close {
                        i = use_tree(tokens, i, &path, leaves);
                        if tokens.get(i) == Some(&Token::Comma) {
                            i += 1;
                        }
                    }
                    return i + 1;
                }
                _ => {
                    leaves.push(path);
                    return i;
                }
            }
        }
    }

    /// Whether the `use` at `tokens[i]` is a re-export (`pub use`, `pub(super) use`,
    /// `pub(in crate::x) use`): the module's face handing a name on to its users, which the
    /// file itself does not use (see the module docs).
    fn reexport_at(tokens: &[Token], i: usize) -> bool {
        let pub_at = |k: usize| matches!(tokens.get(k), Some(Token::Ident(word)) if word == "pub");
        match i.checked_sub(1).map(|k| (k, &tokens[k])) {
            Some((k, Token::Ident(_))) => pub_at(k),
            Some((k, Token::Other(')'))) => {
                let open = tokens[..k].iter().rposition(|token| *token == Token::Other('('));
                open.is_some_and(|open| open > 0 && pub_at(open - 1))
            }
            _ => false,
        }
    }

    /// One source file, read: its module, and the paths its shipped code writes.
    struct Source {
        file: String,
        module: ModulePath,
        tokens: Vec<Token>,
    }

    /// file → (file it imports → names taken), over the files the app ships.
    fn imports(source: &Path) -> std::io::Result<BTreeMap<String, BTreeMap<String, BTreeSet<String>>>> {
        let mut files = Vec::new();
        rust_files(source, &mut files)?;
        let mut read = Vec::new();
        let mut test_files = BTreeSet::new();
        for file in &files {
            let relative = file.strip_prefix(source).unwrap_or(file);
            // `main.rs` is the binary, a crate of its own: its `crate::` is not this one.
            if relative == Path::new("main.rs") {
                continue;
            }
            let module = module_path(relative);
            let (tokens, tests) = without_test_items(tokens(&code_only(&std::fs::read_to_string(file)?)));
            for name in tests {
                let mut child = module.clone();
                child.push(name);
                test_files.insert(child);
            }
            read.push(Source {
                file: relative.display().to_string(),
                module,
                tokens,
            });
        }
        read.retain(|source| !test_files.iter().any(|test| source.module.starts_with(test)));
        let modules: BTreeSet<ModulePath> = read.iter().map(|source| source.module.clone()).collect();
        let file_of: BTreeMap<ModulePath, String> = read
            .iter()
            .map(|source| (source.module.clone(), source.file.clone()))
            .collect();

        let mut arrows: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for source in &read {
            let here = &source.module;
            let tokens = &source.tokens;
            let mut written: Vec<Written> = Vec::new();
            let mut aliases: BTreeMap<String, ModulePath> = BTreeMap::new();
            // `use` trees first: they also bring module names into scope.
            let mut in_use = vec![false; tokens.len()];
            let mut i = 0;
            while i < tokens.len() {
                let starts_use =
                    matches!(&tokens[i], Token::Ident(w) if w == "use") && (i == 0 || tokens[i - 1] != Token::Path);
                if !starts_use {
                    i += 1;
                    continue;
                }
                let reexport = reexport_at(tokens, i);
                let mut leaves = Vec::new();
                let end = use_tree(tokens, i + 1, &[], &mut leaves);
                for flag in in_use.iter_mut().take(end.min(tokens.len())).skip(i) {
                    *flag = true;
                }
                for leaf in leaves {
                    let Some((first, rest)) = leaf.split_first() else {
                        continue;
                    };
                    let Some(start) = start_of(first, here, &aliases, &modules) else {
                        continue;
                    };
                    let (reached, _) = reach(&start, rest, &modules);
                    let last = leaf.last().map(String::as_str).unwrap_or_default();
                    let names_module =
                        reached.last().map(String::as_str) == Some(last) || (last == "self" && !reached.is_empty());
                    if names_module {
                        if let Some(name) = reached.last() {
                            aliases.insert(name.clone(), reached.clone());
                        }
                    }
                    if !reexport {
                        written.push(Written {
                            start,
                            rest: rest.to_vec(),
                        });
                    }
                }
                i = end;
            }
            // Inline paths: `a::b::c` not inside a `use`, not continuing another path.
            let mut i = 0;
            while i < tokens.len() {
                let Token::Ident(first) = &tokens[i] else {
                    i += 1;
                    continue;
                };
                let begins =
                    !in_use[i] && tokens.get(i + 1) == Some(&Token::Path) && (i == 0 || tokens[i - 1] != Token::Path);
                if !begins {
                    i += 1;
                    continue;
                }
                let mut rest = Vec::new();
                let mut j = i + 1;
                while tokens.get(j) == Some(&Token::Path) {
                    match tokens.get(j + 1) {
                        Some(Token::Ident(word)) => rest.push(word.clone()),
                        _ => break,
                    }
                    j += 2;
                }
                if let Some(start) = start_of(first, here, &aliases, &modules) {
                    written.push(Written { start, rest });
                }
                i = j.max(i + 1);
            }
            for path in written {
                let (reached, name) = reach(&path.start, &path.rest, &modules);
                // Itself, or a module that encloses it: no arrow (see the module docs).
                if here.starts_with(&reached) {
                    continue;
                }
                let Some(target) = file_of.get(&reached) else { continue };
                arrows
                    .entry(source.file.clone())
                    .or_default()
                    .entry(target.clone())
                    .or_default()
                    .insert(name);
            }
        }
        Ok(arrows)
    }

    /// The groups of files that import each other in a loop (strongly connected components
    /// of more than one file), each sorted, in a stable order.
    fn circles(arrows: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>) -> Vec<Vec<String>> {
        // Kosaraju: an order by finishing time, then the reversed graph in that order.
        let nodes: BTreeSet<&String> = arrows
            .iter()
            .flat_map(|(from, to)| std::iter::once(from).chain(to.keys()))
            .collect();
        let mut finished = Vec::new();
        let mut seen = BTreeSet::new();
        for start in &nodes {
            if !seen.insert(*start) {
                continue;
            }
            let mut stack: Vec<(&String, Vec<&String>)> = vec![(
                *start,
                arrows.get(*start).map(|to| to.keys().collect()).unwrap_or_default(),
            )];
            while let Some((node, pending)) = stack.last_mut() {
                match pending.pop() {
                    Some(next) if seen.insert(next) => {
                        let further = arrows.get(next).map(|to| to.keys().collect()).unwrap_or_default();
                        stack.push((next, further));
                    }
                    Some(_) => {}
                    None => {
                        finished.push(*node);
                        stack.pop();
                    }
                }
            }
        }
        let mut reversed: BTreeMap<&String, Vec<&String>> = BTreeMap::new();
        for (from, to) in arrows {
            for target in to.keys() {
                reversed.entry(target).or_default().push(from);
            }
        }
        let mut placed = BTreeSet::new();
        let mut found = Vec::new();
        for start in finished.into_iter().rev() {
            if !placed.insert(start) {
                continue;
            }
            let mut group = vec![start.clone()];
            let mut stack = vec![start];
            while let Some(node) = stack.pop() {
                for &from in reversed.get(node).into_iter().flatten() {
                    if placed.insert(from) {
                        group.push(from.clone());
                        stack.push(from);
                    }
                }
            }
            if group.len() > 1 {
                group.sort();
                found.push(group);
            }
        }
        found.sort();
        found
    }

    /// A circle as `farm-studio look` words it: its files, then each arrow inside it with the
    /// names taken.
    fn describe(circle: &[String], arrows: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>) -> String {
        let mut text = format!("{} files: {}\n", circle.len(), circle.join(", "));
        for from in circle {
            for (to, names) in arrows.get(from).into_iter().flatten() {
                if circle.contains(to) {
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    text.push_str(&format!("  {from} -> {to}: {}\n", names.join(", ")));
                }
            }
        }
        text
    }

    #[test]
    fn no_files_of_the_crate_import_each_other_in_a_loop() -> std::io::Result<()> {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri");
        let arrows = imports(&source)?;
        // The reading finds what it should: a few arrows known to be there.
        let has = |from: &str, to: &str| arrows.get(from).is_some_and(|targets| targets.contains_key(to));
        assert!(has("cli/release.rs", "cli/errors.rs"), "release --watch watches");
        assert!(
            has("docker/build.rs", "docker/buildkit.rs"),
            "the build reads BuildKit's status"
        );
        assert!(
            has("cli/mod.rs", "cli/release.rs"),
            "the dispatch calls the release handler"
        );
        assert!(arrows.len() > 40, "the source tree was read ({} files)", arrows.len());
        let found = circles(&arrows);
        let report: Vec<String> = found
            .iter()
            .enumerate()
            .map(|(n, circle)| format!("circle {}: {}", n + 1, describe(circle, &arrows)))
            .collect();
        assert!(
            found.is_empty(),
            "files that import each other in a loop (move what they share where both can see it):\n{}",
            report.join("")
        );
        Ok(())
    }

    #[test]
    fn the_reading_of_paths_skips_comments_strings_and_tests() {
        let text = r##"
            // use crate::gone_line::gone_a;
            /* crate::gone_block /* nested */ crate::gone_nested */
            use super::{kept_f::{self, KeptG}, kept_h};
            pub(super) use kept_child::KeptFace;
            const S: &str = "crate::gone_string::x";
            const R: &[u8] = br#"crate::gone_raw"#;
            fn x<'a>(c: char) -> bool { c == '"' && crate::kept_l::kept_m() }
            #[cfg(test)]
            mod tests { use crate::gone_test::gone_o; }
            #[cfg(test)]
            mod fuzz;
        "##;
        let (kept, test_files) = without_test_items(tokens(&code_only(text)));
        let words: Vec<&str> = kept
            .iter()
            .filter_map(|token| match token {
                Token::Ident(word) => Some(word.as_str()),
                _ => None,
            })
            .collect();
        let gone: Vec<&&str> = words.iter().filter(|word| word.starts_with("gone_")).collect();
        assert!(gone.is_empty(), "read from a comment, string or test: {gone:?}");
        for there in ["kept_f", "KeptG", "kept_h", "kept_l", "kept_m", "KeptFace"] {
            assert!(words.contains(&there), "{there} was not read: {words:?}");
        }
        assert_eq!(test_files, vec!["fuzz".to_owned()]);
        let uses: Vec<usize> = (0..kept.len())
            .filter(|&i| kept[i] == Token::Ident("use".to_owned()))
            .collect();
        assert_eq!(uses.len(), 2, "{kept:?}");
        assert!(!reexport_at(&kept, uses[0]));
        assert!(reexport_at(&kept, uses[1]), "pub(super) use is a re-export");
        let mut leaves = Vec::new();
        use_tree(&kept, uses[0] + 1, &[], &mut leaves);
        let expected: Vec<Vec<String>> = [
            &["super", "kept_f", "self"][..],
            &["super", "kept_f", "KeptG"],
            &["super", "kept_h"],
        ]
        .iter()
        .map(|leaf| leaf.iter().map(|segment| (*segment).to_owned()).collect())
        .collect();
        assert_eq!(leaves, expected);
    }
}
