//! CircleCI's test results beside Slipway's own for the same commit: the counts of both and
//! every test that failed on one side only, named. This is how a team moving off CircleCI
//! learns whether the local gates can be trusted.
//!
//! The two sides name a test differently. CircleCI keeps pytest's JUnit names: `classname`
//! `tests.test_app` (or `tests.test_app.TestY`) and `name` `test_x[param]`; Slipway keeps
//! pytest's node id, `tests/test_app.py::TestY::test_x[param]`. Both become a dotted path and
//! a name; two tests are the same when the names are equal and one path ends with the other,
//! since JUnit's classname starts wherever pytest's rootdir was (`app.tests.test_app` when
//! CircleCI ran from the folder above).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::results::CiTestResult;
use crate::checks::{TestCounts, TestReport};

/// Which side a test failed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum FailedOn {
    CircleCi,
    Slipway,
}

/// A test that failed on one side and not on the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TestDisagreement {
    /// The test's own name (`test_x[param]`).
    pub name: String,
    /// Its full name as the side it failed on gave it (a node id, or `classname.name`).
    pub test: String,
    pub failed_on: FailedOn,
    /// What the other side says of it: `passed`, `skipped`, `not run` (CircleCI has no
    /// result for it), or, for Slipway, `passed or not run` (Slipway keeps only its failures).
    pub elsewhere: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TestComparison {
    pub circle: TestCounts,
    pub here: TestCounts,
    /// Same counts and no test failed on one side only.
    pub agree: bool,
    pub disagreements: Vec<TestDisagreement>,
    /// [`TestComparison::sentence`], for the window to show as it is.
    #[serde(default)]
    pub words: String,
}

/// A test as both sides can name it: a dotted path (modules, then classes) and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TestKey {
    path: Vec<String>,
    name: String,
}

impl TestKey {
    /// `tests/test_app.py::TestY::test_x[a.b]`: the parameter is kept whole (it may hold dots,
    /// slashes and colons); a node id with no `::` is a whole module (a collection error).
    fn from_node_id(node_id: &str) -> Self {
        let (base, param) = node_id.find('[').map_or((node_id, ""), |at| node_id.split_at(at));
        let mut parts: Vec<&str> = base.split("::").collect();
        let file = parts.remove(0);
        let module = file.strip_suffix(".py").unwrap_or(file);
        let mut path: Vec<String> = module
            .split(['/', '\\'])
            .filter(|part| !part.is_empty() && *part != ".")
            .map(str::to_owned)
            .collect();
        let name = match parts.pop() {
            Some(name) => format!("{name}{param}"),
            None => String::new(),
        };
        path.extend(parts.into_iter().map(str::to_owned));
        Self { path, name }
    }

    /// JUnit's `classname` (`tests.test_app.TestY`) and `name` (`test_x[a.b]`).
    fn from_junit(classname: &str, name: &str) -> Self {
        Self {
            path: classname
                .split('.')
                .filter(|part| !part.is_empty())
                .map(str::to_owned)
                .collect(),
            name: name.to_owned(),
        }
    }

    /// The same test: equal names (a whole module matches any of its tests) and one path
    /// ending with the other.
    fn matches(&self, other: &TestKey) -> bool {
        let names = self.name == other.name || self.name.is_empty() || other.name.is_empty();
        let (short, long) = if self.path.len() <= other.path.len() {
            (&self.path, &other.path)
        } else {
            (&other.path, &self.path)
        };
        names && long.ends_with(short) && (!short.is_empty() || self.name == other.name)
    }
}

/// How CircleCI's word for a result counts: JUnit has passed, failed, errored and skipped, and
/// a word that is none of the first three did not come to a verdict, so it counts as skipped.
fn outcome(result: &str) -> Outcome {
    match result.to_ascii_lowercase().as_str() {
        "success" | "passed" | "pass" => Outcome::Passed,
        "failure" | "failed" | "fail" => Outcome::Failed,
        "error" | "errored" => Outcome::Error,
        _ => Outcome::Skipped,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Passed,
    Failed,
    Error,
    Skipped,
}

/// CircleCI's results for a job beside Slipway's report of the same commit.
pub fn compare(circle: &[CiTestResult], here: &TestReport) -> TestComparison {
    let circle_tests: Vec<(TestKey, Outcome, &CiTestResult)> = circle
        .iter()
        .map(|result| {
            (
                TestKey::from_junit(&result.classname, &result.name),
                outcome(&result.result),
                result,
            )
        })
        .collect();
    let mut circle_counts = TestCounts::default();
    for (_, outcome, _) in &circle_tests {
        match outcome {
            Outcome::Passed => circle_counts.passed += 1,
            Outcome::Failed => circle_counts.failed += 1,
            Outcome::Error => circle_counts.errors += 1,
            Outcome::Skipped => circle_counts.skipped += 1,
        }
    }
    let here_failures: Vec<(TestKey, &str)> = here
        .failures
        .iter()
        .map(|failure| (TestKey::from_node_id(&failure.node_id), failure.node_id.as_str()))
        .collect();

    let mut disagreements = Vec::new();
    for (key, outcome, result) in &circle_tests {
        let failed_there = matches!(outcome, Outcome::Failed | Outcome::Error);
        if failed_there && !here_failures.iter().any(|(here, _)| here.matches(key)) {
            let test = if result.classname.is_empty() {
                result.name.clone()
            } else {
                format!("{}.{}", result.classname, result.name)
            };
            disagreements.push(TestDisagreement {
                name: key.name.clone(),
                test,
                failed_on: FailedOn::CircleCi,
                elsewhere: "passed or not run".to_owned(),
            });
        }
    }
    for (key, node_id) in &here_failures {
        let there = circle_tests.iter().find(|(circle, _, _)| circle.matches(key));
        let elsewhere = match there.map(|(_, outcome, _)| *outcome) {
            Some(Outcome::Failed | Outcome::Error) => continue,
            Some(Outcome::Passed) => "passed",
            Some(Outcome::Skipped) => "skipped",
            None => "not run",
        };
        let name = if key.name.is_empty() {
            (*node_id).to_owned()
        } else {
            key.name.clone()
        };
        disagreements.push(TestDisagreement {
            name,
            test: (*node_id).to_owned(),
            failed_on: FailedOn::Slipway,
            elsewhere: elsewhere.to_owned(),
        });
    }
    let mut comparison = TestComparison {
        agree: disagreements.is_empty() && circle_counts == here.counts,
        circle: circle_counts,
        here: here.counts,
        disagreements,
        words: String::new(),
    };
    comparison.words = comparison.sentence();
    comparison
}

impl TestComparison {
    /// "CircleCI and Slipway agree: 10 passed", or "CircleCI: 10 passed; here: 9 passed,
    /// 1 failed: test_x", each side naming the tests that failed there only.
    pub fn sentence(&self) -> String {
        if self.agree {
            return format!("CircleCI and Slipway agree: {}", counts(&self.circle));
        }
        let side = |label: &str, counted: &TestCounts, failed_on: FailedOn| {
            let names: Vec<&str> = self
                .disagreements
                .iter()
                .filter(|disagreement| disagreement.failed_on == failed_on)
                .map(|disagreement| disagreement.name.as_str())
                .collect();
            if names.is_empty() {
                format!("{label}: {}", counts(counted))
            } else {
                format!("{label}: {}: {}", counts(counted), names.join(", "))
            }
        };
        format!(
            "{}; {}",
            side("CircleCI", &self.circle, FailedOn::CircleCi),
            side("here", &self.here, FailedOn::Slipway)
        )
    }
}

/// "9 passed, 1 failed": only what is there, "no tests" when nothing is.
fn counts(counts: &TestCounts) -> String {
    let parts: Vec<String> = [
        (counts.passed, "passed", "passed"),
        (counts.failed, "failed", "failed"),
        (counts.errors, "error", "errors"),
        (counts.skipped, "skipped", "skipped"),
    ]
    .into_iter()
    .filter(|(count, _, _)| *count > 0)
    .map(|(count, one, many)| format!("{count} {}", if count == 1 { one } else { many }))
    .collect();
    if parts.is_empty() {
        "no tests".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{CheckOutcome, TestFailure};

    fn result(classname: &str, name: &str, result: &str) -> CiTestResult {
        CiTestResult {
            name: name.into(),
            classname: classname.into(),
            file: None,
            result: result.into(),
            message: None,
        }
    }

    fn report(passed: u32, failed: &[&str]) -> TestReport {
        TestReport {
            outcome: if failed.is_empty() {
                CheckOutcome::Passed
            } else {
                CheckOutcome::Failed
            },
            counts: TestCounts {
                passed,
                failed: failed.len() as u32,
                errors: 0,
                skipped: 0,
            },
            failures: failed
                .iter()
                .map(|node_id| TestFailure {
                    node_id: (*node_id).into(),
                    message: String::new(),
                    traceback: String::new(),
                    file: None,
                    line: None,
                    got: None,
                    expected: None,
                    explanation: None,
                })
                .collect(),
            summary_line: None,
            exit_code: None,
            problem: None,
            duration_ms: 0,
        }
    }

    #[test]
    fn node_ids_and_junit_names_meet() {
        let pairs = [
            (
                "tests/test_app.py::test_x[a.b/c::d]",
                "tests.test_app",
                "test_x[a.b/c::d]",
            ),
            ("tests/test_app.py::TestY::test_x", "tests.test_app.TestY", "test_x"),
            // CircleCI ran pytest from the folder above: JUnit's classname says so.
            ("tests/test_app.py::test_x", "app.tests.test_app", "test_x"),
            ("test_app.py::test_x", "tests.test_app", "test_x"),
        ];
        for (node_id, classname, name) in pairs {
            assert!(
                TestKey::from_node_id(node_id).matches(&TestKey::from_junit(classname, name)),
                "{node_id} and {classname} {name}"
            );
        }
        let apart = [
            ("tests/test_app.py::test_x", "tests.test_other", "test_x"),
            ("tests/test_app.py::test_x[1]", "tests.test_app", "test_x[2]"),
            ("tests/test_app.py::TestY::test_x", "tests.test_app.TestZ", "test_x"),
        ];
        for (node_id, classname, name) in apart {
            assert!(
                !TestKey::from_node_id(node_id).matches(&TestKey::from_junit(classname, name)),
                "{node_id} and {classname} {name}"
            );
        }
    }

    #[test]
    fn the_same_results_agree() {
        let circle: Vec<CiTestResult> = (0..10)
            .map(|n| result("tests.test_app", &format!("test_{n}"), "success"))
            .collect();
        let comparison = compare(&circle, &report(10, &[]));
        assert!(comparison.agree, "{comparison:?}");
        assert_eq!(comparison.sentence(), "CircleCI and Slipway agree: 10 passed");

        let mut failing = circle.clone();
        failing[3].result = "failure".into();
        let comparison = compare(&failing, &report(9, &["tests/test_app.py::test_3"]));
        assert!(comparison.agree, "a test failing on both sides is no disagreement");
        assert_eq!(comparison.sentence(), "CircleCI and Slipway agree: 9 passed, 1 failed");
    }

    #[test]
    fn a_test_failing_on_one_side_is_named() {
        let circle: Vec<CiTestResult> = (0..9)
            .map(|n| result("tests.test_app", &format!("test_{n}"), "success"))
            .chain([result("tests.test_app.TestX", "test_x", "success")])
            .collect();
        let comparison = compare(&circle, &report(9, &["tests/test_app.py::TestX::test_x"]));
        assert!(!comparison.agree);
        assert_eq!(
            comparison.disagreements,
            [TestDisagreement {
                name: "test_x".into(),
                test: "tests/test_app.py::TestX::test_x".into(),
                failed_on: FailedOn::Slipway,
                elsewhere: "passed".into(),
            }]
        );
        assert_eq!(
            comparison.sentence(),
            "CircleCI: 10 passed; here: 9 passed, 1 failed: test_x"
        );

        let mut circle_fails = circle.clone();
        circle_fails[0].result = "failure".into();
        circle_fails.push(result("tests.test_db", "test_slow", "skipped"));
        let comparison = compare(&circle_fails, &report(10, &[]));
        assert_eq!(
            comparison.sentence(),
            "CircleCI: 9 passed, 1 failed, 1 skipped: test_0; here: 10 passed"
        );
        assert_eq!(comparison.disagreements[0].failed_on, FailedOn::CircleCi);
        assert_eq!(comparison.disagreements[0].test, "tests.test_app.test_0");
    }

    #[test]
    fn different_counts_alone_disagree() {
        let circle = vec![result("tests.test_app", "test_a", "success")];
        let comparison = compare(&circle, &report(2, &[]));
        assert!(!comparison.agree);
        assert!(comparison.disagreements.is_empty());
        assert_eq!(comparison.sentence(), "CircleCI: 1 passed; here: 2 passed");
    }
}
