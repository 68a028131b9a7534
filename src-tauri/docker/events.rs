//! What the build, tag and push report while they run, and the sink they report to. Apart
//! from the build so that the build, BuildKit's status reader and the push all take it from
//! one place below them.

use serde::Serialize;
use ts_rs::TS;

use super::context::ContextSummary;

/// What the build, tag and push report while they run.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "event", content = "data", rename_all = "camelCase")]
pub enum DockerEvent {
    Context(ContextSummary),
    #[serde(rename_all = "camelCase")]
    Step {
        number: u32,
        total: u32,
        instruction: String,
    },
    #[serde(rename_all = "camelCase")]
    Output {
        line: String,
    },
    #[serde(rename_all = "camelCase")]
    Built {
        image_id: String,
    },
    #[serde(rename_all = "camelCase")]
    Layer {
        id: String,
        status: String,
        #[ts(type = "number")]
        current: u64,
        #[ts(type = "number")]
        total: u64,
    },
    #[serde(rename_all = "camelCase")]
    PushProgress {
        #[ts(type = "number")]
        done: u64,
        #[ts(type = "number")]
        total: u64,
        percent: f64,
    },
    #[serde(rename_all = "camelCase")]
    Pushed {
        reference: String,
        digest: String,
    },
}

pub type DockerSink<'a> = &'a (dyn Fn(DockerEvent) + Send + Sync);
