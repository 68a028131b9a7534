//! Reading a pytest run: the JUnit XML report for counts and failures, the summary line, and
//! the exit code, which tells "tests failed" from "tests could not start".

use quick_xml::events::Event;
use quick_xml::Reader;
use regex::Regex;

use super::{CheckOutcome, TestCounts, TestFailure, TestReport};

/// Counts and failures from a JUnit XML report.
pub fn parse_junit(xml: &str) -> Result<(TestCounts, Vec<TestFailure>), String> {
    let mut reader = Reader::from_str(xml);
    let mut counts = TestCounts::default();
    let mut failures = Vec::new();
    let mut current: Option<(String, u32)> = None; // node id, failures+errors seen in it
    let mut pending: Option<TestFailure> = None;
    let mut skipped_in_case = false;
    loop {
        match reader
            .read_event()
            .map_err(|error| format!("the JUnit report is not valid XML: {error}"))?
        {
            // A self-closing test case has nothing inside: it passed.
            Event::Empty(tag) if tag.name().as_ref() == b"testcase" => counts.passed += 1,
            Event::Start(tag) if tag.name().as_ref() == b"testcase" => {
                let classname = attribute(&tag, "classname").unwrap_or_default();
                let name = attribute(&tag, "name").unwrap_or_default();
                current = Some((node_id(&classname, &name), 0));
                skipped_in_case = false;
            }
            Event::Start(tag) | Event::Empty(tag)
                if matches!(tag.name().as_ref(), b"failure" | b"error") && current.is_some() =>
            {
                let is_error = tag.name().as_ref() == b"error";
                let message = attribute(&tag, "message").unwrap_or_default();
                if let Some((node, seen)) = current.as_mut() {
                    if *seen == 0 {
                        if is_error {
                            counts.errors += 1;
                        } else {
                            counts.failed += 1;
                        }
                    }
                    *seen += 1;
                    pending = Some(TestFailure {
                        node_id: node.clone(),
                        message: if is_error { format!("error: {message}") } else { message },
                        traceback: String::new(),
                        file: None,
                        line: None,
                        got: None,
                        expected: None,
                        explanation: None,
                    });
                }
            }
            Event::Start(tag) | Event::Empty(tag) if tag.name().as_ref() == b"skipped" && current.is_some() => {
                skipped_in_case = true;
            }
            Event::Text(text) => {
                if let Some(failure) = pending.as_mut() {
                    failure
                        .traceback
                        .push_str(&text.decode().map(|t| t.into_owned()).unwrap_or_default());
                }
            }
            // Since quick-xml 0.38 entities arrive apart from the text around them.
            Event::GeneralRef(reference) => {
                if let Some(failure) = pending.as_mut() {
                    let name = reference.decode().map(|name| name.into_owned()).unwrap_or_default();
                    let resolved = reference.resolve_char_ref().ok().flatten().or(match name.as_str() {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    });
                    match resolved {
                        Some(character) => failure.traceback.push(character),
                        None => failure.traceback.push_str(&format!("&{name};")),
                    }
                }
            }
            Event::CData(text) => {
                if let Some(failure) = pending.as_mut() {
                    failure.traceback.push_str(&String::from_utf8_lossy(&text));
                }
            }
            Event::End(tag) if matches!(tag.name().as_ref(), b"failure" | b"error") => {
                if let Some(mut failure) = pending.take() {
                    failure.traceback = failure.traceback.trim().to_owned();
                    super::failure_detail::describe(&mut failure);
                    failures.push(failure);
                }
            }
            Event::End(tag) if tag.name().as_ref() == b"testcase" => {
                if let Some((_, seen)) = current.take() {
                    if seen == 0 {
                        if skipped_in_case {
                            counts.skipped += 1;
                        } else {
                            counts.passed += 1;
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok((counts, failures))
}

fn attribute(tag: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    tag.attributes()
        .flatten()
        .find(|attribute| attribute.key.as_ref() == name.as_bytes())
        .and_then(|attribute| attribute.unescape_value().ok().map(|value| value.into_owned()))
}

/// `tests.test_views.TestHome` + `test_ok` → `tests/test_views.py::TestHome::test_ok`, the
/// node id pytest itself prints, as far as the class path allows.
fn node_id(classname: &str, name: &str) -> String {
    let parts: Vec<&str> = classname.split('.').collect();
    let class_start = parts
        .iter()
        .position(|part| part.chars().next().is_some_and(char::is_uppercase))
        .unwrap_or(parts.len());
    let module = parts[..class_start].join("/");
    let mut id = if module.is_empty() {
        classname.to_owned()
    } else {
        format!("{module}.py")
    };
    for class in &parts[class_start..] {
        id.push_str("::");
        id.push_str(class);
    }
    format!("{id}::{name}")
}

/// The last `==== 2 failed, 3 passed in 0.12s ====` line, without the rules.
pub fn summary_line(lines: &[String]) -> Option<String> {
    let rule = Regex::new(r"^=+ (.+ in [0-9.]+s.*?) =+$").ok()?;
    lines
        .iter()
        .rev()
        .find_map(|line| rule.captures(line.trim()).map(|capture| capture[1].to_owned()))
}

/// Counts read from a summary line, when there is no report (pytest stopped early).
pub fn counts_from_summary(summary: &str) -> TestCounts {
    let mut counts = TestCounts::default();
    let Ok(pair) = Regex::new(r"(\d+) (passed|failed|errors?|skipped)") else {
        return counts;
    };
    for capture in pair.captures_iter(summary) {
        let number: u32 = capture[1].parse().unwrap_or(0);
        match &capture[2] {
            "passed" => counts.passed = number,
            "failed" => counts.failed = number,
            "skipped" => counts.skipped = number,
            _ => counts.errors = number,
        }
    }
    counts
}

/// Counts and failures from unittest's output (Django's `manage.py test`): `Ran 12 tests`,
/// then `OK (skipped=1)` or `FAILED (failures=2, errors=1)`, with a `FAIL: name (path)` header
/// before each traceback.
pub fn unittest_results(lines: &[String]) -> Option<(TestCounts, Vec<TestFailure>, String)> {
    let ran = Regex::new(r"^Ran (\d+) tests? in ([0-9.]+s)").ok()?;
    let index = lines.iter().rposition(|line| ran.is_match(line.trim()))?;
    let total: u32 = ran.captures(lines[index].trim())?[1].parse().ok()?;
    let verdict = lines[index + 1..]
        .iter()
        .map(|line| line.trim())
        .find(|line| line.starts_with("OK") || line.starts_with("FAILED"))
        .unwrap_or_default()
        .to_owned();
    let count = |name: &str| -> u32 {
        Regex::new(&format!(r"{name}=(\d+)"))
            .ok()
            .and_then(|pattern| pattern.captures(&verdict).and_then(|c| c[1].parse().ok()))
            .unwrap_or(0)
    };
    let mut counts = TestCounts {
        passed: 0,
        failed: count("failures") + count("unexpected successes"),
        errors: count("errors"),
        skipped: count("skipped") + count("expected failures"),
    };
    counts.passed = total.saturating_sub(counts.failed + counts.errors + counts.skipped);
    let header = Regex::new(r"^(FAIL|ERROR): (\S+) \(([^)]+)\)").ok()?;
    let mut failures = Vec::new();
    let mut iter = lines[..index].iter().peekable();
    while let Some(line) = iter.next() {
        let Some(capture) = header.captures(line.trim()) else {
            continue;
        };
        let mut traceback = Vec::new();
        while let Some(next) = iter.peek() {
            if next.starts_with("=====") || next.starts_with("-----") && !traceback.is_empty() {
                break;
            }
            if !next.starts_with("-----") {
                traceback.push(next.to_string());
            }
            iter.next();
        }
        let message = traceback
            .iter()
            .rev()
            .find(|line| !line.trim().is_empty())
            .map(|line| line.trim().to_owned())
            .unwrap_or_default();
        failures.push(TestFailure {
            node_id: format!("{}::{}", &capture[3], &capture[2]),
            message: if &capture[1] == "ERROR" {
                format!("error: {message}")
            } else {
                message
            },
            traceback: traceback.join("\n").trim().to_owned(),
            // unittest's traceback names absolute paths and has no `E` lines: the window
            // shows it whole.
            file: None,
            line: None,
            got: None,
            expected: None,
            explanation: None,
        });
    }
    let summary = format!("{} ({})", lines[index].trim(), verdict);
    Some((counts, failures, summary))
}

/// The lines that say why pytest could not start: its `E ` lines or a Python traceback's end.
fn startup_problem(stdout: &[String], stderr: &[String]) -> String {
    let all: Vec<&String> = stdout.iter().chain(stderr.iter()).collect();
    let e_lines: Vec<&str> = all
        .iter()
        .filter_map(|line| line.strip_prefix("E "))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    if !e_lines.is_empty() {
        // Each collection error repeats the same cause: say it once, the first first.
        let mut unique: Vec<&str> = Vec::new();
        for line in e_lines {
            if !unique.contains(&line) {
                unique.push(line);
            }
        }
        let cause = unique
            .iter()
            .find(|line| line.contains("Error:") || line.contains("Exception:"))
            .copied();
        return match cause {
            Some(cause) => cause.to_owned(),
            None => unique[..unique.len().min(5)].join("\n"),
        };
    }
    let meaningful: Vec<&str> = all
        .iter()
        .map(|line| line.trim())
        .filter(|line| !line.is_empty())
        .collect();
    meaningful[meaningful.len().saturating_sub(5)..].join("\n")
}

/// Everything pytest's exit code, report and output say, as one report.
pub fn interpret(
    code: Option<i32>,
    junit: Option<Result<(TestCounts, Vec<TestFailure>), String>>,
    stdout: &[String],
    stderr: &[String],
) -> TestReport {
    let mut summary = summary_line(stdout);
    let (counts, failures) = match junit {
        Some(Ok(parsed)) => parsed,
        // Not pytest: Django's own runner (unittest) prints its results to stderr.
        _ if summary.is_none() && unittest_results(stderr).is_some() => {
            let (counts, failures, line) = unittest_results(stderr).unwrap_or_default();
            summary = Some(line);
            (counts, failures)
        }
        _ => (
            summary.as_deref().map(counts_from_summary).unwrap_or_default(),
            Vec::new(),
        ),
    };
    let ran_any = counts.passed + counts.failed + counts.errors + counts.skipped > 0;
    let all: Vec<&String> = stdout.iter().chain(stderr.iter()).collect();
    // pytest-cov's `--cov-fail-under`: every test passed, the threshold did not.
    let coverage =
        Regex::new(r"Required test coverage of (\d+(?:\.\d+)?)% not reached\. Total coverage: (\d+(?:\.\d+)?)%")
            .ok()
            .and_then(|pattern| {
                all.iter()
                    .find_map(|line| pattern.captures(line).map(|c| (c[1].to_owned(), c[2].to_owned())))
            });
    // Settings for a plugin that is not installed: the real cause of what follows.
    let unknown_option = all
        .iter()
        .find_map(|line| line.split("Unknown config option: ").nth(1))
        .map(|option| option.trim().to_owned());
    let conftest = all.iter().any(|line| line.contains("while loading conftest"));
    let collecting = all.iter().any(|line| {
        line.contains("ERROR collecting")
            || line.contains("error during collection")
            || line.contains("errors during collection")
    });
    let cause = || {
        match &unknown_option {
        Some(option) => format!(
            "pytest does not know the setting {option}: the plugin that reads it (pytest-django for DJANGO_SETTINGS_MODULE) is not installed.\n{}",
            startup_problem(stdout, stderr)
        ),
        None => startup_problem(stdout, stderr),
    }
    };
    let (outcome, problem) = match code {
        Some(0) => (CheckOutcome::Passed, None),
        Some(1) if counts.failed == 0 && counts.errors == 0 && coverage.is_some() => {
            let (required, total) = coverage.unwrap_or_default();
            let total = total.trim_end_matches(".00").to_owned();
            (
                CheckOutcome::Failed,
                Some(format!(
                    "coverage {total} % is below the {required} % your project requires"
                )),
            )
        }
        Some(1) if ran_any => (CheckOutcome::Failed, None),
        Some(1) => (
            CheckOutcome::CouldNotRun,
            Some(format!(
                "The tests could not start:\n{}",
                startup_problem(stdout, stderr)
            )),
        ),
        Some(2 | 4) if conftest => (
            CheckOutcome::CouldNotRun,
            Some(format!(
                "The tests could not start: conftest.py could not be imported:\n{}",
                cause()
            )),
        ),
        Some(2) if collecting => (
            CheckOutcome::CouldNotRun,
            Some(format!("Could not collect the tests:\n{}", cause())),
        ),
        Some(2) => (
            CheckOutcome::CouldNotRun,
            Some(format!(
                "The test run was interrupted or could not collect the tests:\n{}",
                cause()
            )),
        ),
        Some(3) => (
            CheckOutcome::CouldNotRun,
            Some(format!(
                "pytest hit an internal error:\n{}",
                startup_problem(stdout, stderr)
            )),
        ),
        Some(4) => (
            CheckOutcome::CouldNotRun,
            Some(format!(
                "pytest did not accept the command line:\n{}",
                startup_problem(stdout, stderr)
            )),
        ),
        Some(5) => (
            CheckOutcome::CouldNotRun,
            Some(
                "No tests were collected: check the test command and that the test files are named test_*.py."
                    .to_owned(),
            ),
        ),
        Some(127) => (
            CheckOutcome::CouldNotRun,
            Some(format!(
                "The test command was not found:\n{}",
                startup_problem(stdout, stderr)
            )),
        ),
        Some(other) => (
            CheckOutcome::CouldNotRun,
            Some(format!(
                "The tests ended with exit code {other}:\n{}",
                startup_problem(stdout, stderr)
            )),
        ),
        None => (
            CheckOutcome::CouldNotRun,
            Some("The tests were stopped by a signal.".to_owned()),
        ),
    };
    TestReport {
        outcome,
        counts,
        failures,
        summary_line: summary,
        exit_code: code,
        problem,
        duration_ms: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from a real pytest 8 run on the failing fixture.
    const JUNIT: &str = r#"<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="3" time="0.03"><testcase classname="tests.test_shop" name="test_total" time="0.001" /><testcase classname="tests.test_shop.TestCart" name="test_empty" time="0.001"><failure message="assert 1 == 2">def test_empty():
&gt;       assert 1 == 2
E       assert 1 == 2

tests/test_shop.py:9: AssertionError</failure></testcase><testcase classname="tests.test_shop" name="test_later" time="0.000"><skipped type="pytest.skip" message="not yet">tests/test_shop.py:12: not yet</skipped></testcase></testsuite></testsuites>"#;

    #[test]
    fn junit_gives_counts_and_failures_with_tracebacks() -> Result<(), String> {
        let (counts, failures) = parse_junit(JUNIT)?;
        assert_eq!(
            counts,
            TestCounts {
                passed: 1,
                failed: 1,
                errors: 0,
                skipped: 1
            }
        );
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].node_id, "tests/test_shop.py::TestCart::test_empty");
        assert_eq!(failures[0].message, "assert 1 == 2");
        assert!(
            failures[0].traceback.contains(">       assert 1 == 2"),
            "{}",
            failures[0].traceback
        );
        Ok(())
    }

    #[test]
    fn summary_lines_are_found_and_counted() {
        let lines = vec![
            "collected 3 items".to_owned(),
            "========= 1 failed, 1 passed, 1 skipped, 2 errors in 0.05s =========".to_owned(),
        ];
        let summary = summary_line(&lines);
        assert_eq!(
            summary.as_deref(),
            Some("1 failed, 1 passed, 1 skipped, 2 errors in 0.05s")
        );
        let counts = counts_from_summary(summary.as_deref().unwrap_or_default());
        assert_eq!(
            counts,
            TestCounts {
                passed: 1,
                failed: 1,
                errors: 2,
                skipped: 1
            }
        );
    }

    #[test]
    fn exit_one_without_results_is_could_not_start() {
        let stderr = vec![
            "Traceback (most recent call last):".to_owned(),
            "django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty.".to_owned(),
        ];
        let report = interpret(Some(1), None, &[], &stderr);
        assert_eq!(report.outcome, CheckOutcome::CouldNotRun);
        let problem = report.problem.unwrap_or_default();
        assert!(problem.starts_with("The tests could not start"), "{problem}");
        assert!(problem.contains("SECRET_KEY"), "{problem}");
    }

    #[test]
    fn collection_errors_give_their_first_cause_once() {
        let out: Vec<String> = [
            "PytestConfigWarning: Unknown config option: DJANGO_SETTINGS_MODULE",
            "_ ERROR collecting shop/tests/test_a.py _",
            "E   django.core.exceptions.ImproperlyConfigured: Requested setting INSTALLED_APPS, but settings are not configured.",
            "_ ERROR collecting shop/tests/test_b.py _",
            "E   django.core.exceptions.ImproperlyConfigured: Requested setting INSTALLED_APPS, but settings are not configured.",
            "!!!!! Interrupted: 2 errors during collection !!!!!",
        ]
        .map(str::to_owned)
        .to_vec();
        let report = interpret(Some(2), None, &out, &[]);
        let problem = report.problem.unwrap_or_default();
        assert!(problem.starts_with("Could not collect the tests"), "{problem}");
        assert!(problem.contains("pytest-django"), "{problem}");
        assert_eq!(problem.matches("ImproperlyConfigured").count(), 1, "{problem}");
    }

    #[test]
    fn a_conftest_import_error_is_not_a_command_line_problem() {
        let stderr: Vec<String> = [
            "ImportError while loading conftest '/p/conftest.py'.",
            "conftest.py:1: in <module>",
            "E   ModuleNotFoundError: No module named 'factory'",
        ]
        .map(str::to_owned)
        .to_vec();
        let problem = interpret(Some(4), None, &[], &stderr).problem.unwrap_or_default();
        assert!(problem.contains("conftest.py could not be imported"), "{problem}");
        assert!(problem.contains("No module named 'factory'"), "{problem}");
    }

    #[test]
    fn djangos_own_runner_is_read() {
        // Django 5's `manage.py test` on stderr.
        let stderr: Vec<String> = "Creating test database for alias 'default'...\nF.s\n======================================================================\nFAIL: test_total (shop.tests.CartTests.test_total)\n----------------------------------------------------------------------\nTraceback (most recent call last):\n  File \"/p/shop/tests.py\", line 9, in test_total\n    self.assertEqual(1, 2)\nAssertionError: 1 != 2\n\n----------------------------------------------------------------------\nRan 3 tests in 0.004s\n\nFAILED (failures=1, skipped=1)\nDestroying test database for alias 'default'..."
            .lines()
            .map(str::to_owned)
            .collect();
        let report = interpret(Some(1), None, &[], &stderr);
        assert_eq!(report.outcome, CheckOutcome::Failed);
        assert_eq!(
            report.counts,
            TestCounts {
                passed: 1,
                failed: 1,
                errors: 0,
                skipped: 1
            }
        );
        assert_eq!(
            report.failures[0].node_id,
            "shop.tests.CartTests.test_total::test_total"
        );
        assert_eq!(report.failures[0].message, "AssertionError: 1 != 2");
        let ok: Vec<String> = ["Ran 2 tests in 0.001s", "", "OK"].map(str::to_owned).to_vec();
        assert_eq!(interpret(Some(0), None, &[], &ok).counts.passed, 2);
    }

    #[test]
    fn a_coverage_threshold_is_named() {
        let out: Vec<String> = [
            "FAIL Required test coverage of 80% not reached. Total coverage: 78.00%",
            "========= 3 passed in 0.10s =========",
        ]
        .map(str::to_owned)
        .to_vec();
        let report = interpret(Some(1), None, &out, &[]);
        assert_eq!(report.outcome, CheckOutcome::Failed);
        assert_eq!(
            report.problem.as_deref(),
            Some("coverage 78 % is below the 80 % your project requires")
        );
    }

    #[test]
    fn each_exit_code_has_its_meaning() {
        assert_eq!(interpret(Some(0), None, &[], &[]).outcome, CheckOutcome::Passed);
        let failed = interpret(Some(1), Some(parse_junit(JUNIT)), &[], &[]);
        assert_eq!(failed.outcome, CheckOutcome::Failed);
        for code in [2, 3, 4, 5] {
            assert_eq!(
                interpret(Some(code), None, &[], &[]).outcome,
                CheckOutcome::CouldNotRun,
                "exit {code}"
            );
        }
        assert!(interpret(Some(5), None, &[], &[])
            .problem
            .unwrap_or_default()
            .contains("No tests were collected"));
    }
}
