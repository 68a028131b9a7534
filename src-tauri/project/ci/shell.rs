//! One CI `run:` script read the way a shell would run it, as far as Slipway needs: the
//! commands it runs (split at `&&`, `||`, `;`, `|` and lines, quotes respected), the
//! variables set before them, and the parts that change what a command means without being
//! the command: `|| true` and `; exit 0` (the CI lets it fail), redirections and `| tee`
//! (its output goes to a file), `cd` (where it runs).

/// A command of a script, with what surrounds it in the CI line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShellCommand {
    /// The words, without leading `NAME=value` assignments and redirections.
    pub words: Vec<String>,
    /// `NAME=value` words before the command, and `export`s earlier in the script.
    pub env: Vec<(String, String)>,
    /// How the CI lets this command fail (`|| true`, `; exit 0`), when it does.
    pub lets_fail: Option<String>,
    /// Redirections and pipes that send its output elsewhere (`> report.txt`, `| tee x`).
    pub output_to: Vec<String>,
    /// The folder an earlier `cd` in the same script moved to.
    pub cd: Option<String>,
    /// The CI's text for this command and the operators around it, as written.
    pub line: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    And,
    Or,
    Then,
    Pipe,
}

/// Splits `line` at control operators outside quotes and `$( … )`.
fn split_operators(line: &str) -> Vec<(String, Option<Operator>)> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = line.chars().peekable();
    let (mut single, mut double, mut depth) = (false, false, 0usize);
    while let Some(c) = chars.next() {
        match c {
            '\\' if !single => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
                continue;
            }
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '(' if !single && current.ends_with('$') => depth += 1,
            ')' if !single && depth > 0 => depth -= 1,
            '#' if !single
                && !double
                && depth == 0
                && (current.is_empty() || current.ends_with(char::is_whitespace)) =>
            {
                break;
            }
            _ => {}
        }
        if single || double || depth > 0 {
            current.push(c);
            continue;
        }
        let operator = match (c, chars.peek()) {
            ('&', Some('&')) => Some(Operator::And),
            ('|', Some('|')) => Some(Operator::Or),
            ('|', _) => Some(Operator::Pipe),
            (';', _) => Some(Operator::Then),
            _ => None,
        };
        match operator {
            Some(operator) => {
                if matches!(operator, Operator::And | Operator::Or) {
                    chars.next();
                }
                parts.push((std::mem::take(&mut current), Some(operator)));
            }
            None => current.push(c),
        }
    }
    parts.push((current, None));
    parts
        .into_iter()
        .map(|(text, operator)| (text.trim().to_owned(), operator))
        .collect()
}

/// `|| true`, `|| :`, `|| exit 0`, `|| echo …`: a fallback that turns failure into success.
fn is_swallowing_fallback(text: &str) -> bool {
    let first = text.split_whitespace().next().unwrap_or_default();
    matches!(text.trim(), "true" | ":" | "exit 0" | "/bin/true") || first == "echo"
}

fn is_assignment(word: &str) -> Option<(String, String)> {
    let (name, value) = word.split_once('=')?;
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    valid.then(|| (name.to_owned(), value.to_owned()))
}

/// The words of `text` as written (quotes and escapes kept), split on whitespace outside
/// quotes.
fn raw_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut started = false;
    let (mut single, mut double) = (false, false);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if !single => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
                started = true;
                continue;
            }
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            c if c.is_whitespace() && !single && !double => {
                if started {
                    words.push(std::mem::take(&mut current));
                    started = false;
                }
                continue;
            }
            _ => {}
        }
        current.push(c);
        started = true;
    }
    if started {
        words.push(current);
    }
    words
}

/// One word as written, without its quotes and escapes; `None` when its quotes do not close.
fn unquoted(word: &str) -> Option<String> {
    shlex::split(word).map(|parts| parts.join(" "))
}

/// Removes redirections from `words` (as written), returning where the output went.
fn take_redirections(words: Vec<String>) -> (Vec<String>, Vec<String>) {
    let mut kept = Vec::new();
    let mut output_to = Vec::new();
    let mut iter = words.into_iter();
    while let Some(word) = iter.next() {
        let bare = word.trim_start_matches(['1', '2', '&']);
        if bare.starts_with('>') || bare.starts_with('<') {
            if bare.starts_with(">&") || bare.starts_with("<&") {
                continue; // `2>&1`: only merges the streams
            }
            let target = bare.trim_start_matches(['>', '<']);
            let target = if target.is_empty() {
                iter.next().unwrap_or_default()
            } else {
                target.to_owned()
            };
            let target = unquoted(&target).unwrap_or(target);
            if target != "/dev/null" && !bare.starts_with('<') {
                output_to.push(format!("> {target}"));
            }
            continue;
        }
        kept.push(word);
    }
    (kept, output_to)
}

/// The commands a CI script runs, in order.
pub fn commands(script: &str) -> Vec<ShellCommand> {
    let joined = script.replace("\\\n", " ");
    let mut found: Vec<ShellCommand> = Vec::new();
    let mut cd: Option<String> = None;
    let mut exported: Vec<(String, String)> = Vec::new();
    let mut lets_fail_all = false;
    for raw_line in joined.lines() {
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts = split_operators(line);
        let mut previous_operator: Option<Operator> = None;
        let mut line_start = found.len();
        for (text, operator) in parts {
            let after = previous_operator;
            previous_operator = operator;
            if text.is_empty() {
                continue;
            }
            // What follows `||` or `|` belongs to the command before it.
            let same_line = found.len() > line_start;
            if let Some(last) = found.last_mut().filter(|_| same_line) {
                match after {
                    Some(Operator::Or) if is_swallowing_fallback(&text) => {
                        last.lets_fail = Some(format!("|| {text}"));
                        continue;
                    }
                    // `a || (cat log; exit 1)`: a handler that still fails; not a command to run.
                    Some(Operator::Or) => continue,
                    Some(Operator::Pipe) => {
                        last.output_to.push(format!("| {text}"));
                        continue;
                    }
                    Some(Operator::Then) if text == "exit 0" || text == "true" => {
                        last.lets_fail = Some(format!("; {text}"));
                        continue;
                    }
                    _ => {}
                }
            }
            // Redirections are found among the words as written: a quoted '<' or '>x' is an
            // argument, not a redirection; then each word is unquoted.
            let (raw, output_to) = take_redirections(raw_words(&text));
            let Some(words) = raw.iter().map(|word| unquoted(word)).collect::<Option<Vec<_>>>() else {
                continue;
            };
            let mut env: Vec<(String, String)> = exported.clone();
            let mut rest = words.as_slice();
            while let Some((first, tail)) = rest.split_first() {
                match is_assignment(first) {
                    Some(pair) => {
                        env.push(pair);
                        rest = tail;
                    }
                    None => break,
                }
            }
            match rest.first().map(String::as_str) {
                Some("cd") => {
                    cd = rest.get(1).cloned();
                    line_start = found.len();
                    continue;
                }
                Some("export") => {
                    exported.extend(rest[1..].iter().filter_map(|word| is_assignment(word)));
                    line_start = found.len();
                    continue;
                }
                Some("set") if rest.iter().any(|word| word == "+e") => {
                    lets_fail_all = true;
                    continue;
                }
                None => continue,
                _ => {}
            }
            found.push(ShellCommand {
                words: rest.to_vec(),
                env,
                lets_fail: lets_fail_all.then(|| "set +e".to_owned()),
                output_to,
                cd: cd.clone(),
                line: line.to_owned(),
            });
        }
    }
    found
}

impl ShellCommand {
    /// The command again as one shell line, with its `cd` (Slipway runs it from the project's
    /// folder, as the CI's step starts there).
    pub fn to_line(&self) -> String {
        let command = join(&self.words);
        match &self.cd {
            Some(dir) => format!("cd {} && {command}", quote(dir)),
            None => command,
        }
    }
}

/// `word` as the shell needs it: bare when it is plain (`--maxfail=1` stays as a person wrote
/// it), quoted otherwise.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%^".contains(c));
    if plain {
        return word.to_owned();
    }
    shlex::try_quote(word)
        .map(|quoted| quoted.into_owned())
        .unwrap_or_else(|_| word.to_owned())
}

pub fn join(words: &[String]) -> String {
    words.iter().map(|word| quote(word)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(command: &ShellCommand) -> Vec<&str> {
        command.words.iter().map(String::as_str).collect()
    }

    #[test]
    fn chains_and_lines_are_split_outside_quotes() {
        let found = commands("pip install -r requirements.txt && pytest -k 'a && b'\nflake8 . ; echo done");
        let all: Vec<Vec<&str>> = found.iter().map(words).collect();
        assert_eq!(
            all,
            vec![
                vec!["pip", "install", "-r", "requirements.txt"],
                vec!["pytest", "-k", "a && b"],
                vec!["flake8", "."],
                vec!["echo", "done"],
            ]
        );
    }

    #[test]
    fn a_fallback_that_cannot_fail_is_seen() {
        let found = commands("flake8 --format html --htmldir report || true");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].lets_fail.as_deref(), Some("|| true"));
        assert_eq!(words(&found[0]), ["flake8", "--format", "html", "--htmldir", "report"]);
        let found = commands("ruff check . ; exit 0");
        assert_eq!(found[0].lets_fail.as_deref(), Some("; exit 0"));
        let found = commands("set +e\nmypy src");
        assert_eq!(found[0].lets_fail.as_deref(), Some("set +e"));
    }

    #[test]
    fn redirections_pipes_cd_and_assignments_are_taken_apart() {
        let found = commands("cd app\nDJANGO_DEBUG=1 pytest -q > out.txt 2>&1 | tee log.txt");
        assert_eq!(found.len(), 1);
        let command = &found[0];
        assert_eq!(words(command), ["pytest", "-q"]);
        assert_eq!(command.env, [("DJANGO_DEBUG".to_owned(), "1".to_owned())]);
        assert_eq!(command.output_to, ["> out.txt", "| tee log.txt"]);
        assert_eq!(command.to_line(), "cd app && pytest -q");
        let exported = commands("export SECRET_KEY=x\nflake8");
        assert_eq!(exported[0].env, [("SECRET_KEY".to_owned(), "x".to_owned())]);
    }

    #[test]
    fn continuations_and_comments_are_read_as_a_shell_would() {
        let found = commands("pytest \\\n  --maxfail=1 # stop early\n# flake8");
        assert_eq!(found.len(), 1);
        assert_eq!(words(&found[0]), ["pytest", "--maxfail=1"]);
        let substitution = commands("echo $(git rev-parse HEAD | cut -c1-7) && pytest");
        assert_eq!(substitution.len(), 2);
    }
}
