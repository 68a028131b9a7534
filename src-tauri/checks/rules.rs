//! Lint rules in plain words: what a code such as `F401` asks for, so a person who never
//! read pycodestyle's table knows what to change, and where the rule's own page is.
//!
//! flake8 prints codes without words beyond its terse message, so the common pyflakes,
//! pycodestyle and mccabe codes are described here; ruff names its rule's page in its
//! JSON output, and shares these codes for the same rules.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use super::Violation;

/// At most this many rules are asked of ruff per run: a run with hundreds of kinds of
/// violation is not made slower to explain them all.
const RUFF_RULES_ASKED: usize = 20;

const PYCODESTYLE_PAGE: &str = "https://pycodestyle.pycqa.org/en/latest/intro.html#error-codes";
const FLAKE8_PAGE: &str = "https://flake8.pycqa.org/en/latest/user/error-codes.html";

/// The common rules, in the words a colleague would use.
const RULES: &[(&str, &str)] = &[
    (
        "E101",
        "This line mixes tabs and spaces for its indentation: use spaces only.",
    ),
    ("E111", "The indentation is not a multiple of four spaces."),
    ("E114", "This comment's indentation is not a multiple of four spaces."),
    ("E117", "This block is indented further than it needs to be."),
    ("E121", "A continued line is not indented the way PEP 8 expects."),
    ("E122", "A continued line is missing its indentation."),
    (
        "E123",
        "A closing bracket does not line up with the line that opened it.",
    ),
    (
        "E124",
        "A closing bracket does not line up with its opening bracket's line or column.",
    ),
    (
        "E125",
        "A continued line is indented like the block below it: indent it further.",
    ),
    ("E126", "A continued line is indented further than needed."),
    (
        "E127",
        "A continued line is indented too far to line up with the bracket above.",
    ),
    (
        "E128",
        "A continued line is not indented far enough to line up with the bracket above.",
    ),
    ("E129", "A continued line is indented like the block that follows it."),
    ("E131", "A continued line does not line up with the one above it."),
    ("E201", "There is a space just after an opening bracket: remove it."),
    ("E202", "There is a space just before a closing bracket: remove it."),
    (
        "E203",
        "There is a space before a comma, colon or semicolon: remove it.",
    ),
    (
        "E211",
        "There is a space before the bracket of a call or an index: remove it.",
    ),
    ("E221", "There is more than one space before an operator."),
    ("E222", "There is more than one space after an operator."),
    ("E225", "An operator needs a space on each side."),
    ("E226", "An arithmetic operator needs a space on each side."),
    ("E228", "The % operator needs a space on each side."),
    ("E231", "A comma, colon or semicolon needs a space after it."),
    ("E241", "There is more than one space after a comma."),
    (
        "E251",
        "A keyword argument's = takes no spaces around it: write name=value.",
    ),
    ("E252", "An annotated parameter's default needs spaces around its =."),
    ("E261", "An inline comment needs at least two spaces before its #."),
    ("E262", "An inline comment should start with # and a space."),
    ("E265", "A comment should start with # and a space."),
    ("E266", "A comment should start with a single #."),
    ("E271", "There is more than one space after a keyword."),
    ("E272", "There is more than one space before a keyword."),
    ("E301", "A method needs one blank line before it."),
    ("E302", "A function or class needs two blank lines before it."),
    ("E303", "There are too many blank lines here."),
    ("E304", "There is a blank line after a decorator: remove it."),
    (
        "E305",
        "Code after a function or class needs two blank lines before it.",
    ),
    ("E306", "A nested function needs one blank line before it."),
    (
        "E401",
        "Several modules are imported on one line: give each its own import line.",
    ),
    (
        "E402",
        "An import comes after other code: move it to the top of the file.",
    ),
    (
        "E501",
        "This line is longer than the project allows: break it, or shorten it.",
    ),
    ("E502", "A backslash is not needed inside brackets: remove it."),
    (
        "E701",
        "Two statements share a line after a colon: put the second on its own line.",
    ),
    (
        "E702",
        "Two statements share a line with a semicolon: put each on its own line.",
    ),
    ("E703", "A statement ends with a semicolon: remove it."),
    ("E704", "A function's body is on the same line as its def."),
    (
        "E711",
        "Compare with None using `is None` or `is not None`, not == or !=.",
    ),
    (
        "E712",
        "Compare with True or False by testing the value itself (`if x:`), not with ==.",
    ),
    ("E713", "Write `x not in y` rather than `not x in y`."),
    ("E714", "Write `x is not y` rather than `not x is y`."),
    ("E721", "Compare types with isinstance() or `is`, not ==."),
    (
        "E722",
        "A bare `except:` catches everything, even Ctrl-C: name the exceptions you expect.",
    ),
    ("E731", "A lambda is given a name: write a def instead."),
    (
        "E741",
        "The name l, O or I is easily misread as 1 or 0: choose a clearer name.",
    ),
    (
        "E902",
        "This file could not be read by the linter (missing, or not readable).",
    ),
    (
        "E999",
        "Python cannot parse this file (a syntax error), so nothing else in it was checked.",
    ),
    ("W191", "This line is indented with a tab: use spaces."),
    ("W291", "This line ends with spaces: remove them."),
    ("W292", "The file does not end with a newline: add one."),
    ("W293", "This blank line has spaces on it: remove them."),
    ("W391", "The file ends with a blank line: remove it."),
    (
        "W503",
        "A line starts with a binary operator (a style your project's lint asks you to avoid).",
    ),
    (
        "W504",
        "A line ends with a binary operator (a style your project's lint asks you to avoid).",
    ),
    (
        "W605",
        "A backslash in a string is not a valid escape: use a raw string (r\"…\") or \\\\.",
    ),
    ("F401", "A module is imported but never used: remove the import."),
    (
        "F402",
        "A loop variable hides an import of the same name: rename the variable.",
    ),
    (
        "F403",
        "`from … import *` hides where names come from: import the names you use.",
    ),
    (
        "F405",
        "This name may come from a `*` import, so lint cannot tell where it is defined: import it by name.",
    ),
    ("F541", "An f-string has no {} placeholders: remove the f."),
    ("F601", "A dictionary repeats a key: the later value silently wins."),
    (
        "F631",
        "An assert on a tuple is always true: remove the brackets around the condition.",
    ),
    (
        "F632",
        "`is` compares identity, not value: use == for strings, numbers and tuples.",
    ),
    (
        "F811",
        "A name is defined again before the first definition was used: remove or rename one.",
    ),
    (
        "F821",
        "This name is not defined anywhere: a typo, or a missing import.",
    ),
    ("F822", "`__all__` names something the module does not define."),
    (
        "F823",
        "A local variable is used before it is given a value in this function.",
    ),
    (
        "F841",
        "A local variable is given a value that is never used: remove it, or use it.",
    ),
    ("F901", "`raise NotImplemented` should be `raise NotImplementedError`."),
    (
        "C901",
        "This function is more complex than the project allows: split it into smaller ones.",
    ),
    (
        "I001",
        "The imports are not sorted the way the project asks: let the sorter fix them.",
    ),
];

/// What `code` asks for, in plain words, when it is a common rule.
pub fn explain(code: &str) -> Option<&'static str> {
    RULES.iter().find(|(known, _)| *known == code).map(|(_, words)| *words)
}

/// The rule's own page, for the codes whose home is known.
pub fn page(code: &str) -> Option<&'static str> {
    // Exactly a letter and three digits: plugins' codes (EM101, ERA001, FBT001) share the
    // first letter but not these pages.
    let (letter, digits) = code.split_at_checked(1)?;
    if digits.len() != 3 || !digits.chars().all(|digit| digit.is_ascii_digit()) {
        return None;
    }
    match letter {
        "F" => Some(FLAKE8_PAGE),
        "E" if digits.starts_with('9') => Some(FLAKE8_PAGE),
        "C" if digits.starts_with('9') => Some(FLAKE8_PAGE),
        "E" | "W" => Some(PYCODESTYLE_PAGE),
        _ => None,
    }
}

/// Fills each violation's plain words and page, keeping a page the linter gave (ruff's).
pub fn describe(violations: &mut [Violation]) {
    for violation in violations {
        if violation.explanation.is_none() {
            violation.explanation = explain(&violation.code).map(str::to_owned);
        }
        if violation.help_url.is_none() {
            violation.help_url = page(&violation.code).map(str::to_owned);
        }
    }
}

/// Asks ruff (`ruff rule CODE`) for the rules the table does not know: the first paragraph of
/// its "What it does" is the plain sentence. A ruff that is missing, slow or says nothing
/// leaves the violation as it was.
pub async fn explain_with_ruff(ruff: &Path, violations: &mut [Violation]) {
    if !ruff.is_file() {
        return;
    }
    let codes: BTreeSet<String> = violations
        .iter()
        .filter(|violation| violation.explanation.is_none())
        .map(|violation| violation.code.clone())
        .collect();
    for code in codes.into_iter().take(RUFF_RULES_ASKED) {
        // The project's own ruff: it gets nothing of Slipway's environment (a DSN, a token
        // given on the command line), as the project's commands do not.
        let asked = tokio::process::Command::new(ruff)
            .args(["rule", &code, "--output-format", "json"])
            .env_clear()
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        let Ok(Ok(output)) = tokio::time::timeout(Duration::from_secs(5), asked).await else {
            continue;
        };
        let Some(words) = serde_json::from_slice::<serde_json::Value>(&output.stdout)
            .ok()
            .and_then(|rule| rule["explanation"].as_str().and_then(what_it_does))
        else {
            continue;
        };
        for violation in violations.iter_mut().filter(|violation| violation.code == code) {
            violation.explanation = Some(words.clone());
        }
    }
}

/// The first paragraph under "## What it does" in ruff's explanation, on one line.
fn what_it_does(markdown: &str) -> Option<String> {
    let (_, after) = markdown.split_once("## What it does")?;
    let paragraph: Vec<&str> = after
        .lines()
        .skip_while(|line| line.trim().is_empty())
        .take_while(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(str::trim)
        .collect();
    (!paragraph.is_empty()).then(|| paragraph.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruffs_own_words_are_its_what_it_does() {
        let explanation = "## What it does\nChecks for `if` statements that can be replaced with\n`bool`.\n\n## Why is this bad?\nIf statements that return `True` for a truthy condition...\n";
        assert_eq!(
            what_it_does(explanation).as_deref(),
            Some("Checks for `if` statements that can be replaced with `bool`.")
        );
        assert_eq!(what_it_does("## Why is this bad?\nNo summary."), None);
        assert_eq!(what_it_does("## What it does\n\n## Example"), None);
    }

    #[test]
    fn common_codes_read_as_sentences_with_their_page() {
        assert_eq!(
            explain("F401"),
            Some("A module is imported but never used: remove the import.")
        );
        assert_eq!(page("F401"), Some(FLAKE8_PAGE));
        assert_eq!(page("E501"), Some(PYCODESTYLE_PAGE));
        assert_eq!(page("W291"), Some(PYCODESTYLE_PAGE));
        assert_eq!(page("E999"), Some(FLAKE8_PAGE));
        assert_eq!(page("C901"), Some(FLAKE8_PAGE));
        assert_eq!(explain("B006"), None, "a plugin's code is not guessed");
        assert_eq!(page("B006"), None);
        for plugin in [
            "EM101", "ERA001", "EXE001", "FBT001", "FURB101", "FA100", "FLY002", "C4",
        ] {
            assert_eq!(page(plugin), None, "{plugin} is not pycodestyle's or pyflakes'");
        }
        for (code, words) in RULES {
            assert!(words.ends_with('.'), "{code}: a sentence ends with a full stop");
            assert!(
                words
                    .chars()
                    .next()
                    .is_some_and(|first| first.is_uppercase() || first == '`'),
                "{code}: starts a sentence"
            );
        }
        let mut codes: Vec<&str> = RULES.iter().map(|(code, _)| *code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), RULES.len(), "each code once");
    }

    #[test]
    fn a_linters_own_page_is_kept() {
        let mut violations = vec![
            Violation {
                path: "app.py".into(),
                line: 2,
                column: 1,
                code: "F401".into(),
                message: "'json' imported but unused".into(),
                explanation: None,
                help_url: Some("https://docs.astral.sh/ruff/rules/unused-import".into()),
            },
            Violation {
                path: "app.py".into(),
                line: 9,
                column: 80,
                code: "E501".into(),
                message: "line too long (91 > 79 characters)".into(),
                explanation: None,
                help_url: None,
            },
        ];
        describe(&mut violations);
        assert_eq!(
            violations[0].help_url.as_deref(),
            Some("https://docs.astral.sh/ruff/rules/unused-import")
        );
        assert!(violations[0]
            .explanation
            .as_deref()
            .is_some_and(|words| words.contains("never used")));
        assert_eq!(violations[1].help_url.as_deref(), Some(PYCODESTYLE_PAGE));
    }
}
