//! Local stand-ins for the internet services (Render, Sentry, CircleCI), answering as
//! `shared/contracts/` documents: paths, statuses, error bodies, pagination, rate-limit
//! headers. A tiny HTTP/1.1 server on 127.0.0.1 (`http.rs`); each stand-in is a function from
//! request to response, with its own state, in its service's file (`render.rs`, `sentry.rs`,
//! `circleci.rs`).
//! The names the tests use are all handed on from here.

#![allow(
    dead_code,
    unused_imports,
    reason = "each test binary uses a different part of the stand-ins, so some of the names handed on here go unused in each"
)]

mod circleci;
mod http;
mod render;
mod sentry;

pub use circleci::{
    circle_test, circle_workflow, circleci_stand_in, CircleJob, CirclePipeline, CircleScenario, CircleTest,
    CircleWorkflow,
};
pub use http::{bearer, Request, Response, StandIn};
pub use render::{
    deploy_triggers, render_deploy_stand_in, render_services_stand_in, render_stand_in, DeployScript, RenderServiceSpec,
};
pub use sentry::{
    sentry_issues_stand_in, sentry_stand_in, DeployCall, EventShape, NewIssue, ReleaseCall, SentryHandle,
    SentryScenario, SENTRY_DEEP_ISSUE, SENTRY_FIRST_RELEASE_ISSUE, SENTRY_MESSAGE_ISSUE, SENTRY_SECRET_ISSUE,
};
