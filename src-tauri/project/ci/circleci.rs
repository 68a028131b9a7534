//! What only CircleCI's configuration says: a job's `docker:` images, whose Python image
//! (`cimg/python:3.12`, `circleci/python:3.9`) is the Python the job runs, and whose
//! `environment:` the job's commands see.

use serde_norway::Value;

use super::findings::Found;

/// The Python of the first of `job`'s images that is a Python image, by its tag.
pub(super) fn image_python(job: &Value, source: &str) -> Option<Found> {
    images(job).find_map(|image| {
        let name = image.get("image").and_then(Value::as_str).unwrap_or_default();
        let (_, tag) = name.split_once("python:")?;
        let version: String = tag.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
        (!version.is_empty()).then(|| Found {
            value: version,
            source: source.to_owned(),
        })
    })
}

/// The `environment:` block of each of `job`'s images.
pub(super) fn image_environments(job: &Value) -> impl Iterator<Item = Option<&Value>> {
    images(job).map(|image| image.get("environment"))
}

fn images(job: &Value) -> impl Iterator<Item = &Value> {
    job.get("docker").and_then(Value::as_sequence).into_iter().flatten()
}
