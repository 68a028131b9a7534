//! The UI's TypeScript types, generated from the Rust wire types with ts-rs.
//!
//! One file, `ui/src/lib/ipc/bindings.ts`, so the UI imports from one place. The test
//! `bindings_file_is_current` fails when the committed file differs from what the Rust types
//! generate; run it with `SLIPWAY_UPDATE_BINDINGS=1` to rewrite the file.

/// Where the generated file lives, relative to the package root.
pub const BINDINGS_PATH: &str = "ui/src/lib/ipc/bindings.ts";

/// Renders the bindings file.
pub fn render() -> String {
    use crate::{
        accounts, checks, commands, crash, docker, doctor, error, history, known_logins, pipeline, project, render,
        secrets, sentry_api, tasks,
    };
    let cfg = ts_rs::Config::default();
    let declarations = [
        decl::<error::ErrorKind>(&cfg),
        decl::<error::ErrorAction>(&cfg),
        decl::<error::AppError>(&cfg),
        decl::<commands::AppInfo>(&cfg),
        decl::<project::GitState>(&cfg),
        decl::<project::ProjectSummary>(&cfg),
        decl::<project::RecentProject>(&cfg),
        decl::<project::LastKnown>(&cfg),
        decl::<commands::StartView>(&cfg),
        decl::<commands::LaunchAsk>(&cfg),
        decl::<crash::CrashReport>(&cfg),
        decl::<commands::UpdateOffer>(&cfg),
        decl::<known_logins::KnownLogin>(&cfg),
        decl::<known_logins::KnownLogins>(&cfg),
        decl::<doctor::CheckId>(&cfg),
        decl::<doctor::DoctorCheck>(&cfg),
        decl::<doctor::DoctorReport>(&cfg),
        decl::<doctor::SystemStatus>(&cfg),
        decl::<project::Detected<()>>(&cfg),
        decl::<project::LintTool>(&cfg),
        decl::<project::Installer>(&cfg),
        decl::<project::PythonEnv>(&cfg),
        decl::<project::EnvVarNeed>(&cfg),
        decl::<project::CiOrigin>(&cfg),
        decl::<project::Blueprint>(&cfg),
        decl::<project::BuildArg>(&cfg),
        decl::<project::GateKind>(&cfg),
        decl::<project::Gate>(&cfg),
        decl::<project::SkippedCommand>(&cfg),
        decl::<project::ServiceSpec>(&cfg),
        decl::<project::TestValue>(&cfg),
        decl::<project::GivenValue>(&cfg),
        decl::<project::NeededValue>(&cfg),
        decl::<project::Detection>(&cfg),
        decl::<project::GitDetails>(&cfg),
        decl::<project::SyncState>(&cfg),
        decl::<project::Reach>(&cfg),
        decl::<project::RemoteStanding>(&cfg),
        decl::<project::ProjectSettings>(&cfg),
        decl::<commands::ProjectDetails>(&cfg),
        decl::<commands::CheckSelection>(&cfg),
        decl::<commands::ChecksRun>(&cfg),
        decl::<checks::CheckKind>(&cfg),
        decl::<checks::CheckOutcome>(&cfg),
        decl::<checks::Stream>(&cfg),
        decl::<checks::TestCounts>(&cfg),
        decl::<checks::TestFailure>(&cfg),
        decl::<checks::TestReport>(&cfg),
        decl::<checks::Violation>(&cfg),
        decl::<checks::LintReport>(&cfg),
        decl::<checks::GateReport>(&cfg),
        decl::<checks::CheckEvent>(&cfg),
        decl::<docker::ContextFile>(&cfg),
        decl::<docker::ContextSummary>(&cfg),
        decl::<docker::DockerEvent>(&cfg),
        decl::<docker::LocalImage>(&cfg),
        decl::<pipeline::ImageDestination>(&cfg),
        decl::<crate::circleci::VerdictState>(&cfg),
        decl::<crate::circleci::WorkflowStatus>(&cfg),
        decl::<crate::circleci::CiJob>(&cfg),
        decl::<crate::circleci::CiWorkflow>(&cfg),
        decl::<crate::circleci::CiVerdict>(&cfg),
        decl::<crate::circleci::FailedOn>(&cfg),
        decl::<crate::circleci::TestDisagreement>(&cfg),
        decl::<crate::circleci::TestComparison>(&cfg),
        decl::<pipeline::CiPanel>(&cfg),
        decl::<commands::ImagesOverview>(&cfg),
        decl::<commands::BuiltImage>(&cfg),
        decl::<commands::PushedImage>(&cfg),
        decl::<secrets::Service>(&cfg),
        decl::<secrets::Account>(&cfg),
        decl::<secrets::ImportProblem>(&cfg),
        decl::<render::RenderService>(&cfg),
        decl::<accounts::RenderConnection>(&cfg),
        decl::<accounts::AccountCheck>(&cfg),
        decl::<sentry_api::ScopeReport>(&cfg),
        decl::<sentry_api::SentryProject>(&cfg),
        decl::<history::Outcome>(&cfg),
        decl::<crate::vocabulary::ReleaseKind>(&cfg),
        decl::<history::StepState>(&cfg),
        decl::<history::StepRecord>(&cfg),
        decl::<history::ReleaseRecord>(&cfg),
        decl::<history::ReleaseSource>(&cfg),
        decl::<history::HistoryFilter>(&cfg),
        decl::<history::LogPage>(&cfg),
        decl::<history::StepResult>(&cfg),
        decl::<history::ReleaseDetail>(&cfg),
        decl::<history::ExportFormat>(&cfg),
        decl::<pipeline::LiveNow>(&cfg),
        decl::<sentry_api::IssueQuery>(&cfg),
        decl::<sentry_api::IssueStatusFilter>(&cfg),
        decl::<sentry_api::IssueSort>(&cfg),
        decl::<sentry_api::IssueStatus>(&cfg),
        decl::<sentry_api::SentryIssue>(&cfg),
        decl::<sentry_api::IssuePage>(&cfg),
        decl::<sentry_api::SentryEvent>(&cfg),
        decl::<sentry_api::ExceptionView>(&cfg),
        decl::<sentry_api::FrameView>(&cfg),
        decl::<sentry_api::ContextLine>(&cfg),
        decl::<sentry_api::Breadcrumb>(&cfg),
        decl::<sentry_api::RequestView>(&cfg),
        decl::<sentry_api::KeyValue>(&cfg),
        decl::<crate::monitor::WatchEvent>(&cfg),
        decl::<crate::monitor::WatchSummary>(&cfg),
        decl::<crate::monitor::watch::AutoRolledBack>(&cfg),
        decl::<pipeline::LocalApp>(&cfg),
        decl::<pipeline::LocalAppState>(&cfg),
        decl::<pipeline::AppOutput>(&cfg),
        decl::<pipeline::AppAction>(&cfg),
        decl::<pipeline::Target>(&cfg),
        decl::<project::RenderLink>(&cfg),
        decl::<project::Environment>(&cfg),
        decl::<project::AutoRollback>(&cfg),
        decl::<project::Environments>(&cfg),
        decl::<project::SentryLink>(&cfg),
        decl::<crate::links::EnvironmentChange>(&cfg),
        decl::<crate::links::AutoRollbackChoice>(&cfg),
        decl::<crate::links::UpgradeReport>(&cfg),
        decl::<crate::settings::ComputerSettings>(&cfg),
        decl::<crate::editor::Opened>(&cfg),
        decl::<pipeline::Step>(&cfg),
        decl::<pipeline::CachedGate>(&cfg),
        decl::<pipeline::PlannedStep>(&cfg),
        decl::<pipeline::Plan>(&cfg),
        decl::<pipeline::ReleaseOptions>(&cfg),
        decl::<pipeline::ReleaseSummary>(&cfg),
        decl::<project::migrations::Migration>(&cfg),
        decl::<pipeline::RollbackCrossing>(&cfg),
        decl::<pipeline::ReleaseEvent>(&cfg),
        decl::<tasks::TaskKind>(&cfg),
        decl::<tasks::TaskInfo>(&cfg),
        decl::<history::team::TeamHistoryView>(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust types by `src-tauri/bindings.rs`. Do not edit by hand:\n\
         // run `SLIPWAY_UPDATE_BINDINGS=1 cargo test --lib bindings` to regenerate.\n",
    );
    for declaration in declarations {
        out.push('\n');
        out.push_str("export ");
        out.push_str(&declaration);
        out.push('\n');
    }
    // The steps in order, so the UI keeps no copy of its own.
    let steps: Vec<String> = pipeline::Step::ALL
        .iter()
        .map(|step| format!("\"{}\"", step.as_str()))
        .collect();
    out.push_str(&format!("\nexport const STEPS: Step[] = [{}];\n", steps.join(", ")));
    out
}

fn decl<T: ts_rs::TS>(cfg: &ts_rs::Config) -> String {
    T::decl(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_file_is_current() -> std::io::Result<()> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(BINDINGS_PATH);
        let expected = render();
        if std::env::var_os("SLIPWAY_UPDATE_BINDINGS").is_some() {
            crate::paths::write_atomically(&path, expected.as_bytes())?;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "{BINDINGS_PATH} is stale: run `SLIPWAY_UPDATE_BINDINGS=1 cargo test --lib bindings` and commit the result"
        );
        Ok(())
    }
}
