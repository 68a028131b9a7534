//! A failed build, named: the step that failed, or the base image that could not be pulled,
//! whichever builder (classic or BuildKit) reported it. Apart from both builders' readers so
//! that each names a failure the same way without reaching into the other.

use super::DockerError;

/// A failure in the FROM step names the base image; anything else names its step.
pub(super) fn build_failure(step: &str, message: &str, output: &[String]) -> DockerError {
    let instruction = step
        .split_once(" : ")
        .map(|(_, instruction)| instruction.trim())
        .unwrap_or_default();
    let base = instruction
        .split_once(char::is_whitespace)
        .filter(|(keyword, _)| keyword.eq_ignore_ascii_case("FROM"))
        .and_then(|(_, rest)| rest.split_whitespace().next());
    if let Some(image) = base {
        return DockerError::BaseImage {
            image: image.to_owned(),
            message: message.to_owned(),
        };
    }
    let message = if output.is_empty() {
        message.to_owned()
    } else {
        format!("{message}\n{}", output.join("\n"))
    };
    DockerError::BuildFailed {
        step: step.to_owned(),
        message,
    }
}

/// BuildKit names the failing vertex; pulling a base image is `[internal] load metadata for <image>`.
pub(super) fn buildkit_failure(vertex: &str, message: &str, output: &[String]) -> DockerError {
    if let Some(image) = vertex.strip_prefix("[internal] load metadata for ") {
        return DockerError::BaseImage {
            image: image.trim().to_owned(),
            message: message.to_owned(),
        };
    }
    let base = vertex
        .split_once("] ")
        .map(|(_, instruction)| instruction)
        .and_then(|instruction| instruction.strip_prefix("FROM "))
        .and_then(|rest| rest.split_whitespace().next());
    if let Some(image) = base {
        return DockerError::BaseImage {
            image: image.to_owned(),
            message: message.to_owned(),
        };
    }
    build_failure(&format!("step {vertex}"), message, output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_base_image_is_named_whichever_vertex_says_it() {
        let pulled = buildkit_failure(
            "[internal] load metadata for docker.io/library/python:3.99",
            "not found",
            &[],
        );
        assert!(matches!(pulled, DockerError::BaseImage { ref image, .. } if image == "docker.io/library/python:3.99"));
        let from = buildkit_failure("[stage-1 1/4] FROM python:3.99-slim@sha256:ab", "not found", &[]);
        assert!(matches!(from, DockerError::BaseImage { ref image, .. } if image == "python:3.99-slim@sha256:ab"));
        let run = buildkit_failure("[2/3] RUN pip install -r requirements.txt", "exit code: 1", &[]);
        assert!(matches!(run, DockerError::BuildFailed { .. }), "{run:?}");
    }
}
