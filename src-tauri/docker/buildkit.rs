//! BuildKit's status stream: which step runs, its output, and which vertex failed.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use super::events::{DockerEvent, DockerSink};
use crate::redact::redact;

/// `[2/3] RUN ...`, or `[stage 2/3] RUN ...` in multi-stage builds.
static STEP: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r"^\[(?:[^\]]*\s)?(\d+)/(\d+)\] (.*)$").ok());

/// Per-build state of what BuildKit reported, to name a failing step.
#[derive(Default)]
pub(super) struct BuildKitProgress {
    announced: HashSet<String>,
    names: HashMap<String, String>,
    pub failed: Option<(String, String)>,
}

/// Sends what one status message says (steps started, output lines) and remembers the first
/// failing vertex.
pub(super) fn read_buildkit_status(
    status: &bollard::moby::buildkit::v1::StatusResponse,
    kit: &mut BuildKitProgress,
    recent_output: &mut Vec<String>,
    sink: DockerSink<'_>,
) {
    for vertex in &status.vertexes {
        kit.names.insert(vertex.digest.clone(), vertex.name.clone());
        if vertex.started.is_some() && kit.announced.insert(vertex.digest.clone()) {
            match STEP.as_ref().and_then(|step| step.captures(&vertex.name)) {
                Some(capture) => {
                    recent_output.clear();
                    sink(DockerEvent::Step {
                        number: capture[1].parse().unwrap_or(0),
                        total: capture[2].parse().unwrap_or(0),
                        instruction: capture[3].to_owned(),
                    });
                }
                None => sink(DockerEvent::Output {
                    line: redact(&vertex.name).into_owned(),
                }),
            }
        }
        if !vertex.error.is_empty() && kit.failed.is_none() {
            kit.failed = Some((vertex.name.clone(), redact(&vertex.error).into_owned()));
        }
    }
    for log in &status.logs {
        for line in String::from_utf8_lossy(&log.msg)
            .lines()
            .map(str::trim_end)
            .filter(|line| !line.is_empty())
        {
            let line = redact(line).into_owned();
            recent_output.push(line.clone());
            if recent_output.len() > 20 {
                recent_output.remove(0);
            }
            sink(DockerEvent::Output { line });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_lines_are_read_with_and_without_a_stage() {
        let step = STEP.as_ref().map(|step| step.captures("[builder 2/5] RUN make"));
        let capture = step
            .flatten()
            .map(|c| (c[1].to_owned(), c[2].to_owned(), c[3].to_owned()));
        assert_eq!(capture, Some(("2".into(), "5".into(), "RUN make".into())));
        let plain = STEP.as_ref().and_then(|step| step.captures("[3/3] COPY . ."));
        assert_eq!(plain.map(|c| c[3].to_owned()), Some("COPY . .".to_owned()));
        assert!(STEP
            .as_ref()
            .is_some_and(|step| step.captures("[internal] load .dockerignore").is_none()));
    }
}
