//! The test results CircleCI stored for a job (from the JUnit files the job uploaded).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{slug_path, CircleClient};
use crate::http::ApiError;

/// One test as CircleCI stored it. pytest's JUnit names a test by `classname`
/// (`tests.test_app`, `tests.test_app.TestY`) and `name` (`test_x[param]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CiTestResult {
    pub name: String,
    #[serde(default)]
    pub classname: String,
    #[serde(default, deserialize_with = "empty_is_none")]
    pub file: Option<String>,
    /// CircleCI's word: `success`, `failure`, `skipped`, `error`, …
    #[serde(default)]
    pub result: String,
    #[serde(default, deserialize_with = "empty_is_none")]
    pub message: Option<String>,
}

/// CircleCI sends `""` where a JUnit file had nothing.
fn empty_is_none<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value.filter(|text| !text.trim().is_empty()))
}

impl CircleClient {
    /// The results stored for job `job_number` (`GET /project/{slug}/{job-number}/tests`,
    /// every page). `None` when there are none: an approval or a job that stored no results
    /// answers 404, which says nothing is wrong.
    pub async fn job_tests(&self, slug: &str, job_number: u64) -> Result<Option<Vec<CiTestResult>>, ApiError> {
        let path = format!("/project/{}/{job_number}/tests", slug_path(slug));
        match self
            .all_pages::<CiTestResult>(&path, &format!("job {job_number}"))
            .await
        {
            Ok(results) if results.is_empty() => Ok(None),
            Ok(results) => Ok(Some(results)),
            Err(ApiError::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_are_read_as_absent() -> Result<(), serde_json::Error> {
        let result: CiTestResult = serde_json::from_str(
            r#"{"message": null, "source": "pytest", "run_time": 0.1, "file": "", "result": "success",
                "name": "test_home", "classname": "tests.test_app"}"#,
        )?;
        assert_eq!(result.file, None);
        assert_eq!(result.message, None);
        assert_eq!(result.classname, "tests.test_app");
        Ok(())
    }
}
