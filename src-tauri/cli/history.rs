//! `slipway history`: the ledger's releases listed, filtered, shown one at a time, exported.

use std::process::ExitCode;

use super::args::{ExportFormatArg, HistoryArgs, HistoryCommand, HistoryFilterArgs};
use super::context::context;
use super::fail;
use super::out::print_json;
use crate::error::{AppError, ErrorKind};
use crate::history::{self, ExportFormat, HistoryFilter, Ledger, Outcome, ReleaseRecord};
use crate::paths::AppPaths;
use crate::project;
use crate::redact::redact;
use crate::settings::Settings;

pub(super) fn run(paths: &AppPaths, settings: Settings, args: HistoryArgs) -> ExitCode {
    // Connecting, leaving and importing change where the history is: no ledger is opened first.
    let changed = match &args.action {
        Some(HistoryCommand::Connect { url, password_stdin }) => {
            Some(super::team::connect(paths, url, *password_stdin))
        }
        Some(HistoryCommand::Disconnect) => Some(super::team::disconnect(paths, &settings)),
        Some(HistoryCommand::Import { from }) => Some(super::team::import(paths, &settings, from)),
        _ => None,
    };
    if let Some(changed) = changed {
        return match changed {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(&error),
        };
    }
    let ledger = match context(paths, settings) {
        Ok(context) => context.ledger,
        Err(error) => return fail(&error),
    };
    // What the team sent since this computer last asked is fetched before anything is listed.
    if let Some(team) = ledger.team() {
        team.settle(std::time::Duration::from_secs(6));
        if let Some(problem) = team.status().problem {
            eprintln!("note: the team's history could not be reached ({problem}); this is what this computer has.");
        }
    }
    let told = ledger.notice().map(str::to_owned);
    if let Some(notice) = &told {
        eprintln!("note: {notice}");
    }
    let result = match args.action {
        None => list(&ledger, &args.filter, args.json),
        Some(HistoryCommand::Show { id, json, logs }) => show(&ledger, &id, json, logs.as_deref()),
        Some(HistoryCommand::Export {
            release: Some(id),
            output,
            ..
        }) => export_release(&ledger, &id, output),
        Some(HistoryCommand::Export {
            format, output, filter, ..
        }) => export(&ledger, &filter, format, output),
        Some(HistoryCommand::Connect { .. } | HistoryCommand::Disconnect | HistoryCommand::Import { .. }) => Ok(()),
    };
    // A damaged file met while reading was recovered then: its notice comes after the list.
    if let Some(notice) = ledger.notice().filter(|notice| told.as_deref() != Some(*notice)) {
        eprintln!("note: {notice}");
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

fn filter(args: &HistoryFilterArgs) -> Result<HistoryFilter, AppError> {
    let project_path = match args.project.as_deref().map(project::resolve_folder) {
        Some(root) => Some(root?.display().to_string()),
        None => None,
    };
    let outcome = match args.outcome.as_deref() {
        None => None,
        Some(word) => Some(Outcome::parse(&word.to_lowercase()).ok_or_else(|| {
            AppError::new(
                ErrorKind::Validation,
                format!("\"{word}\" is not an outcome."),
                "Use live, failed, canceled, error, interrupted or running.",
            )
        })?),
    };
    if let Some(target) = args
        .target
        .as_deref()
        .filter(|target| !matches!(*target, "local" | "render"))
    {
        return Err(AppError::new(
            ErrorKind::Validation,
            format!("\"{target}\" is not a target."),
            "Use local or render.",
        ));
    }
    if let Some(since) = &args.since {
        let valid = chrono::NaiveDate::parse_from_str(since, "%Y-%m-%d").is_ok()
            || chrono::DateTime::parse_from_rfc3339(since).is_ok();
        if !valid {
            return Err(AppError::new(
                ErrorKind::Validation,
                format!("\"{since}\" is not a date."),
                "Give a date as YYYY-MM-DD, or a time as 2026-11-25T10:00:00Z.",
            ));
        }
    }
    Ok(HistoryFilter {
        project_path,
        outcome,
        target: args.target.clone(),
        since: args.since.clone(),
        search: args.search.clone(),
        user: args.user.clone(),
        limit: Some(args.limit),
        ..HistoryFilter::default()
    })
}

fn list(ledger: &Ledger, args: &HistoryFilterArgs, json: bool) -> Result<(), AppError> {
    let releases = ledger.list(&filter(args)?)?;
    if json {
        print_json(&releases);
    } else if releases.is_empty() {
        println!("No releases match.");
    } else {
        for release in &releases {
            println!("{}", line(release));
        }
    }
    Ok(())
}

fn line(release: &ReleaseRecord) -> String {
    let commit: String = release.commit.as_deref().unwrap_or("-").chars().take(7).collect();
    let duration = release
        .duration_secs()
        .map(|secs| format!("{secs:>4} s"))
        .unwrap_or_else(|| "     ".to_owned());
    let strip: String = release
        .steps
        .iter()
        .map(|step| match step.state.as_str() {
            "passed" => '+',
            "failed" => 'x',
            "skipped" => '-',
            "running" => '>',
            _ => '.',
        })
        .collect();
    redact(&format!(
        "{}  {}  {:<11} {:<6} {:<8} {} {}{}  {}  by {}{}",
        release.id,
        duration,
        release.outcome.as_str(),
        release.target,
        strip,
        release.project_name,
        commit,
        if release.dirty { " (uncommitted changes)" } else { "" },
        release.image.as_deref().unwrap_or_default(),
        release.user,
        release
            .machine
            .as_deref()
            .map(|machine| format!(" on {machine}"))
            .unwrap_or_default(),
    ))
    .into_owned()
}

fn show(ledger: &Ledger, id: &str, json: bool, logs: Option<&str>) -> Result<(), AppError> {
    let Some(detail) = history::detail(ledger, id)? else {
        return Err(AppError::new(
            ErrorKind::NotFound,
            format!("No release {id} is in the history."),
            "List the releases with `slipway history` and copy an id from the first column.",
        ));
    };
    if let Some(step) = logs {
        let page = ledger.log_page(id, step, 0, u32::MAX, None)?;
        if json {
            print_json(&page);
        } else {
            for line in &page.lines {
                println!("{}", redact(line));
            }
        }
        return Ok(());
    }
    if json {
        print_json(&detail);
        return Ok(());
    }
    let release = &detail.release;
    println!("{}", line(release));
    for (label, value) in [
        ("kind", Some(release.kind.to_string())),
        ("project", Some(release.project_path.clone())),
        ("started", Some(release.started_at.clone())),
        ("ended", release.ended_at.clone()),
        ("by", Some(release.user.clone())),
        ("machine", release.machine.clone()),
        ("branch", release.branch.clone()),
        ("image", release.image.clone()),
        ("digest", release.digest.clone()),
        ("deploy", release.deploy_id.clone()),
        ("url", release.url.clone()),
        ("message", release.message.clone()),
        ("hint", release.error.as_ref().map(|error| error.hint.clone())),
        ("detail", release.error.as_ref().and_then(|error| error.detail.clone())),
    ] {
        if let Some(value) = value {
            println!("  {label:<8} {}", redact(&value));
        }
    }
    for step in &release.steps {
        println!(
            "  {:<8} {:<11} {}",
            step.name,
            step.state.as_str(),
            redact(step.summary.as_deref().unwrap_or_default())
        );
    }
    Ok(())
}

fn export_release(ledger: &Ledger, id: &str, output: Option<std::path::PathBuf>) -> Result<(), AppError> {
    match output {
        Some(path) => {
            history::export_release_to(ledger, id, &path)?;
            eprintln!("Release {id} written to {}.", path.display());
        }
        None => match history::export_release_text(ledger, id)? {
            Some(text) => println!("{text}"),
            None => {
                return Err(AppError::new(
                    crate::error::ErrorKind::NotFound,
                    format!("No release {id} is in the history."),
                    "`slipway history` lists the releases and their ids.",
                ))
            }
        },
    }
    Ok(())
}

fn export(
    ledger: &Ledger,
    args: &HistoryFilterArgs,
    format: ExportFormatArg,
    output: Option<std::path::PathBuf>,
) -> Result<(), AppError> {
    let format = match format {
        ExportFormatArg::Csv => ExportFormat::Csv,
        ExportFormatArg::Json => ExportFormat::Json,
    };
    let mut filter = filter(args)?;
    // An export is the whole list, not the screen's page of twenty.
    filter.limit = None;
    match output {
        Some(path) => {
            let count = history::export_to(ledger, &filter, format, &path)?;
            let releases = if count == 1 { "release" } else { "releases" };
            eprintln!("{count} {releases} written to {}.", path.display());
        }
        None => {
            let (text, _) = history::export_text(ledger, &filter, format)?;
            println!("{}", text.trim_end_matches('\n'));
        }
    }
    Ok(())
}
