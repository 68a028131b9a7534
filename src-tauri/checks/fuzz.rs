//! Property tests of every parser that reads what another program wrote (pytest's JUnit XML
//! and summary line, flake8's and ruff's output, image references, `Link` headers, Sentry's
//! events): whatever arrives, they answer without panicking, and what they were meant to
//! read, they read back. Bounded, so the test command runs them in seconds.

use proptest::prelude::*;

use super::lint::{parse_flake8, parse_ruff};
use super::pytest::{counts_from_summary, parse_junit, summary_line};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A word of the kind that appears in test names and paths, XML's special characters included.
fn word() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_<>&\"' ]{1,12}"
}

fn xml_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_given_as_a_junit_report_is_answered_without_a_panic(text in "\\PC{0,400}") {
        let _ = parse_junit(&text);
    }

    #[test]
    fn broken_xml_around_test_cases_is_answered_without_a_panic(
        cases in prop::collection::vec((word(), prop::bool::ANY), 0..8),
        cut in 0usize..400,
    ) {
        let mut xml = String::from("<testsuites><testsuite>");
        for (name, failed) in &cases {
            let name = xml_escaped(name);
            if *failed {
                xml.push_str(&format!("<testcase classname=\"t\" name=\"{name}\"><failure message=\"m\">x</failure></testcase>"));
            } else {
                xml.push_str(&format!("<testcase classname=\"t\" name=\"{name}\"/>"));
            }
        }
        xml.push_str("</testsuite></testsuites>");
        let end = xml.char_indices().map(|(at, _)| at).nth(cut).unwrap_or(xml.len());
        let _ = parse_junit(&xml[..end]);
    }

    #[test]
    fn a_well_formed_report_counts_every_case_and_names_every_failure(
        cases in prop::collection::vec((word(), 0u8..4), 0..20),
    ) {
        let mut xml = String::from("<?xml version=\"1.0\"?><testsuites><testsuite name=\"pytest\">");
        for (index, (name, kind)) in cases.iter().enumerate() {
            let name = xml_escaped(&format!("{name}{index}"));
            match kind {
                0 => xml.push_str(&format!("<testcase classname=\"tests.test_app\" name=\"{name}\"/>")),
                1 => xml.push_str(&format!("<testcase classname=\"tests.test_app\" name=\"{name}\"><failure message=\"boom &amp; more\">trace</failure></testcase>")),
                2 => xml.push_str(&format!("<testcase classname=\"tests.test_app\" name=\"{name}\"><error message=\"setup\">trace</error></testcase>")),
                _ => xml.push_str(&format!("<testcase classname=\"tests.test_app\" name=\"{name}\"><skipped message=\"later\"/></testcase>")),
            }
        }
        xml.push_str("</testsuite></testsuites>");
        let (counts, failures) = parse_junit(&xml).map_err(TestCaseError::fail)?;
        let wanted = |k: u8| u32::try_from(cases.iter().filter(|(_, kind)| *kind == k).count()).unwrap_or(u32::MAX);
        prop_assert_eq!(counts.passed, wanted(0));
        prop_assert_eq!(counts.failed, wanted(1));
        prop_assert_eq!(counts.errors, wanted(2));
        prop_assert_eq!(counts.skipped, wanted(3));
        prop_assert_eq!(failures.len() as u32, wanted(1) + wanted(2));
    }

    #[test]
    fn a_summary_line_is_found_and_read_back(
        passed in 0u32..5000, failed in 0u32..500, skipped in 0u32..50,
        noise in prop::collection::vec("\\PC{0,60}", 0..5),
    ) {
        let line = format!("===== {failed} failed, {passed} passed, {skipped} skipped in 1.23s =====");
        let mut lines = noise.clone();
        lines.push(line);
        let summary = summary_line(&lines).ok_or_else(|| TestCaseError::fail("no summary found"))?;
        let counts = counts_from_summary(&summary);
        prop_assert_eq!((counts.passed, counts.failed, counts.skipped), (passed, failed, skipped));
        let _ = summary_line(&noise);
        let _ = counts_from_summary(&noise.join(" "));
    }

    #[test]
    fn flake8_lines_are_read_back_and_anything_else_is_no_violation(
        path in "[a-z_/]{1,20}\\.py", line in 1u32..100_000, column in 1u32..500,
        code in "[A-Z]{1,3}[0-9]{1,4}", message in "[ -~]{0,80}",
        noise in prop::collection::vec("\\PC{0,80}", 0..5),
    ) {
        let mut lines = noise;
        lines.push(format!("{path}:{line}:{column}: {code} {message}"));
        let violations = parse_flake8(&lines);
        let last = violations.last().ok_or_else(|| TestCaseError::fail("the violation was not read"))?;
        prop_assert_eq!(&last.path, path.trim_start_matches("./"));
        prop_assert_eq!((last.line, last.column), (line, column));
        prop_assert_eq!(&last.code, &code);
        prop_assert_eq!(&last.message, &message);
    }

    #[test]
    fn ruffs_output_of_any_shape_is_answered_without_a_panic(text in "\\PC{0,300}") {
        let _ = parse_ruff(&text, "/p");
        let _ = parse_ruff(&format!("[{{\"code\": {text:?}}}]"), "/p");
    }

    #[test]
    fn an_image_reference_reads_back_as_it_was_written(
        registry in prop::option::of("[a-z0-9]{1,10}(\\.[a-z]{2,4})?:[1-9][0-9]{0,4}"),
        path in "[a-z0-9]{1,10}(/[a-z0-9]{1,10}){0,2}",
        tag in "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}",
        noise in "\\PC{0,80}",
    ) {
        let written = match &registry {
            Some(registry) => format!("{registry}/{path}:{tag}"),
            None => format!("{path}:{tag}"),
        };
        let reference = crate::docker::parse_reference(&written).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&reference.tag, &tag);
        prop_assert_eq!(reference.full(), crate::docker::parse_reference(&reference.full()).map_err(TestCaseError::fail)?.full());
        let _ = crate::docker::parse_reference(&noise);
    }

    #[test]
    fn a_link_header_of_any_shape_is_answered_without_a_panic(text in "[ -~]{0,200}") {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Ok(value) = reqwest::header::HeaderValue::from_str(&text) {
            headers.insert("link", value);
        }
        let _ = crate::http::page_link(&headers, "next");
        let _ = crate::http::page_link(&headers, "previous");
    }

    #[test]
    fn a_sentry_event_of_any_shape_is_shown_without_a_panic(event in json(3)) {
        let shown = crate::sentry_api::event_from(&event);
        let _ = crate::sentry_api::issue_from(&event);
        // Whatever it held, the failing line is marked at most once per frame.
        for exception in &shown.exceptions {
            for frame in &exception.frames {
                prop_assert!(frame.context.iter().filter(|line| line.current).count() <= 1);
            }
        }
    }
}

/// Any JSON value, with the keys Sentry's events use so the parser's paths are reached.
fn json(depth: u32) -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        "\\PC{0,20}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(depth, 64, 6, |inner| {
        let key = prop_oneof![
            Just("entries".to_owned()),
            Just("type".to_owned()),
            Just("data".to_owned()),
            Just("values".to_owned()),
            Just("stacktrace".to_owned()),
            Just("frames".to_owned()),
            Just("context".to_owned()),
            Just("lineNo".to_owned()),
            Just("vars".to_owned()),
            Just("tags".to_owned()),
            Just("exception".to_owned()),
            "[a-z]{1,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(key, inner, 0..6)
                .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}
