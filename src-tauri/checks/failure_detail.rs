//! A failing test as a person reads it: where it failed (file and line), what the code gave
//! and what the test expected, and pytest's own explanation with its diff kept line by line,
//! all read from the traceback pytest wrote into its JUnit report.

use regex::Regex;

use super::TestFailure;

/// Fills `failure`'s file, line, got, expected and explanation from its traceback.
pub fn describe(failure: &mut TestFailure) {
    let lines: Vec<&str> = failure.traceback.lines().collect();
    let test_file = failure
        .node_id
        .split("::")
        .next()
        .filter(|file| file.ends_with(".py"))
        .map(str::to_owned);
    if let Some((file, line)) = location(&lines, test_file.as_deref()) {
        failure.file = Some(file);
        failure.line = Some(line);
    } else if let Some(file) = test_file {
        failure.file = Some(file);
    }
    let explanation = explanation(&lines);
    if let Some((got, expected)) = explanation.as_deref().and_then(comparison) {
        failure.got = Some(got);
        failure.expected = Some(expected);
    }
    failure.explanation = explanation;
}

/// pytest ends each traceback entry with `path:line: ` or `path:line: ErrorName`: the entry
/// in the test's own file is where the test failed; else the last entry in the project's files,
/// where it crashed.
fn location(lines: &[&str], test_file: Option<&str>) -> Option<(String, u32)> {
    // `path:line: ErrorName` (the long form) or `path:line: in test_name` (`--tb=short`).
    let pattern = Regex::new(r"^([^\s:][^:]*\.py):(\d+):(?: in [^\s]+| \w[\w.]*)?\s*$").ok()?;
    let entries: Vec<(String, u32)> = lines
        .iter()
        .filter_map(|line| pattern.captures(line.trim_end()))
        .filter_map(|capture| Some((capture[1].to_owned(), capture[2].parse().ok()?)))
        .collect();
    // A library's file (in the environment Slipway made, outside the project) is not where
    // a person can mend anything: the last entry in the project's own files is.
    let own = |file: &str| !file.starts_with("../") && !file.starts_with('/') && !file.contains("site-packages/");
    test_file
        .and_then(|test_file| entries.iter().rev().find(|(file, _)| file == test_file))
        .or_else(|| entries.iter().rev().find(|(file, _)| own(file)))
        .cloned()
}

/// pytest's `E` lines without the `E` column, their own indentation kept (the diff's `-`,
/// `+` and `?` lines line up as pytest printed them).
fn explanation(lines: &[&str]) -> Option<String> {
    let explained: Vec<&str> = lines
        .iter()
        .filter(|line| **line == "E" || line.starts_with("E "))
        .map(|line| line.get(1..).unwrap_or_default())
        .collect();
    let indent = explained
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()?;
    let text = explained
        .iter()
        .map(|line| line.get(indent..).unwrap_or_default().trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    Some(text.trim_end().to_owned())
}

/// `assert got == expected` (also after `AssertionError: …`): the two sides.
fn comparison(explanation: &str) -> Option<(String, String)> {
    let statement = explanation
        .lines()
        .map(|line| line.trim_start_matches("AssertionError: "))
        .find_map(|line| line.strip_prefix("assert "))?;
    let (got, expected) = split_top_level(statement, " == ")?;
    Some((got.trim().to_owned(), expected.trim().to_owned()))
}

/// Splits at the one `separator` outside quotes and brackets; none or several: `None`.
fn split_top_level<'a>(text: &'a str, separator: &str) -> Option<(&'a str, &'a str)> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut found = None;
    for (index, character) in text.char_indices() {
        if let Some(open) = quote {
            match character {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                close if close == open => quote = None,
                _ => {}
            }
            continue;
        }
        match character {
            '\'' | '"' => quote = Some(character),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ if depth == 0 && text[index..].starts_with(separator) => {
                if found.is_some() {
                    return None;
                }
                found = Some(index);
            }
            _ => {}
        }
    }
    let index = found?;
    Some((&text[..index], &text[index + separator.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(node_id: &str, traceback: &str) -> TestFailure {
        let mut failure = TestFailure {
            node_id: node_id.to_owned(),
            message: String::new(),
            traceback: traceback.to_owned(),
            file: None,
            line: None,
            got: None,
            expected: None,
            explanation: None,
        };
        describe(&mut failure);
        failure
    }

    #[test]
    fn a_string_comparison_gives_both_sides_and_keeps_the_diff_on_its_lines() {
        // As pytest 8 writes it into the JUnit report.
        let described = failure(
            "tests/test_prices.py::test_price_has_two_decimals",
            "def test_price_has_two_decimals():\n>       assert format_price(4.5) == '£4.50'\nE       AssertionError: assert '£4.5' == '£4.50'\nE         \nE         - £4.50\nE         ?     -\nE         + £4.5\n\ntests/test_prices.py:5: AssertionError",
        );
        assert_eq!(described.file.as_deref(), Some("tests/test_prices.py"));
        assert_eq!(described.line, Some(5));
        assert_eq!(described.got.as_deref(), Some("'£4.5'"));
        assert_eq!(described.expected.as_deref(), Some("'£4.50'"));
        assert_eq!(
            described.explanation.as_deref(),
            Some("AssertionError: assert '£4.5' == '£4.50'\n\n  - £4.50\n  ?     -\n  + £4.5")
        );
    }

    #[test]
    fn the_tests_own_line_wins_over_the_code_it_called() {
        let described = failure(
            "tests/test_app.py::TestRooms::test_count",
            "self = <tests.test_app.TestRooms object>\n\n    def test_count(self):\n>       assert count_rooms([1, 2]) == 3\n\ntests/test_app.py:12: \n_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _\n\n    def count_rooms(rooms):\n>       return len(rooms) / 0\nE       ZeroDivisionError: division by zero\n\nlettings/rooms.py:3: ZeroDivisionError",
        );
        assert_eq!(described.file.as_deref(), Some("tests/test_app.py"));
        assert_eq!(described.line, Some(12));
        assert_eq!(described.got, None, "no comparison, no sides");
        assert_eq!(
            described.explanation.as_deref(),
            Some("ZeroDivisionError: division by zero")
        );
    }

    #[test]
    fn a_comparison_with_a_message_and_brackets_is_split_at_its_own_equals() {
        let described = failure(
            "test_x.py::test_y",
            "E       AssertionError: rooms do not add up\nE       assert (2 + 2) == 5\n\ntest_x.py:2: AssertionError",
        );
        assert_eq!(described.got.as_deref(), Some("(2 + 2)"));
        assert_eq!(described.expected.as_deref(), Some("5"));
        assert_eq!(
            split_top_level("f('a == b') == {'k': 1 == 1}", " == "),
            Some(("f('a == b')", "{'k': 1 == 1}"))
        );
        assert_eq!(split_top_level("a == b == c", " == "), None, "a chain has no two sides");
        assert_eq!(split_top_level("'it\\'s' == x", " == "), Some(("'it\\'s'", "x")));
    }

    #[test]
    fn the_short_traceback_names_the_line_too() {
        // `addopts = "--tb=short"`, common in projects' pytest settings.
        let described = failure(
            "tests/test_probe.py::test_a",
            "tests/test_probe.py:11: in test_a\n    assert \"abc\" == \"abd\"\nE   AssertionError: assert 'abc' == 'abd'\nE     \nE     - abd\nE     + abc",
        );
        assert_eq!(described.file.as_deref(), Some("tests/test_probe.py"));
        assert_eq!(described.line, Some(11));
        assert_eq!(described.got.as_deref(), Some("'abc'"));
        assert_eq!(described.expected.as_deref(), Some("'abd'"));
    }

    /// A fixture's error deep in psycopg: the project's conftest is named, never the library.
    #[test]
    fn an_error_in_a_library_names_the_projects_own_file() {
        let test = "tests/api/test_users.py::test_create";
        let library = "../../data/venvs/1f/lib/python3.10/site-packages/psycopg/cursor.py:97: UndefinedTable";
        let described = failure(
            test,
            &format!("tests/conftest.py:18: in db\n    init_db(session)\n{library}"),
        );
        assert_eq!(
            (described.file.as_deref(), described.line),
            (Some("tests/conftest.py"), Some(18))
        );
        let described = failure(test, library);
        assert_eq!(
            (described.file.as_deref(), described.line),
            (Some("tests/api/test_users.py"), None)
        );
    }

    #[test]
    fn a_traceback_without_entries_still_names_the_tests_file() {
        let described = failure("tests/test_a.py::test_b", "fixture 'db' not found");
        assert_eq!(described.file.as_deref(), Some("tests/test_a.py"));
        assert_eq!(described.line, None);
        assert_eq!(described.explanation, None);
    }
}
