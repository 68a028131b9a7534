//! Two projects on one machine, each with its own links: every deploy lands on the project's
//! own Render service, every Sentry release and deploy in its own Sentry project and
//! environment, the watch of one never reports the other's issues, a project with no Sentry
//! link records nothing there, and a promotion walks this computer → staging → production
//! with one digest throughout. Then the upgrade of a data folder from before environments.

use super::*;
use slipway::history::NewRelease;
use slipway::project::{Environment, RenderLink, SentryLink};
use standin::{render_services_stand_in, sentry_issues_stand_in, NewIssue, RenderServiceSpec, SentryScenario};

/// Another example project in `fixture`'s data folder (the same app), with its settings saved.
fn second_project(fixture: &Fixture, name: &str) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let parent = fixture.root.parent().ok_or("the fixture has a parent folder")?;
    // Its own file, so its commit (and the Sentry release named after it) differs.
    let root = support::example_project(parent, name, |root| std::fs::write(root.join("NAME"), name))?;
    let mut settings = ProjectSettings::from_detection(&project::detect(&root));
    settings.venv = Some(support::shared_venv()?.display().to_string());
    settings.health_timeout_secs = Some(20);
    project::save_settings(&fixture.data, &root, &settings)?;
    Ok(root)
}

fn link(data: &Path, root: &Path, change: impl FnOnce(&mut ProjectSettings) -> TestResult) -> TestResult {
    let mut settings = project::load_settings(data, root)?.ok_or("saved")?;
    change(&mut settings)?;
    project::save_settings(data, root, &settings)?;
    Ok(())
}

fn render_environment(name: &str, id: &str, image: &str) -> Environment {
    Environment::render(
        name,
        RenderLink {
            id: id.to_owned(),
            name: Some(id.trim_start_matches("srv-").to_owned()),
            image: Some(image.to_owned()),
        },
    )
}

async fn release_to(
    context: &Context,
    root: &Path,
    environment: &str,
) -> Result<ReleaseSummary, slipway::error::AppError> {
    let options = ReleaseOptions {
        environment: Some(environment.to_owned()),
        confirm_dirty: true,
        ..ReleaseOptions::default()
    };
    pipeline::release(context, root, &options, &CancellationToken::new(), Arc::new(|_| {})).await
}

/// The repository of an `imageUrl` (`host/ann/name@sha256:…`).
fn repository_of(image_url: &str) -> &str {
    image_url.split('@').next().unwrap_or(image_url)
}

#[tokio::test]
async fn two_projects_never_reach_each_others_service_or_sentry_project() -> TestResult {
    let registry = test_registry();
    let scenario = SentryScenario::default();
    let sentry_handle = scenario.handle.clone();
    let sentry = sentry_issues_stand_in(scenario).await?;
    let repository = |name: &str| format!("{}/ann/{name}", registry.address);
    let render = render_services_stand_in(
        vec![
            RenderServiceSpec::new(
                "srv-lettings-staging",
                "lettings-staging",
                &format!("{}:latest", repository("lettings-staging")),
            ),
            RenderServiceSpec::new(
                "srv-lettings",
                "lettings",
                &format!("{}:latest", repository("lettings")),
            ),
            RenderServiceSpec::new(
                "srv-bookshelf",
                "bookshelf",
                &format!("{}:latest", repository("bookshelf")),
            ),
        ],
        DeployScript::new(201, &["update_in_progress", "live"]),
    )
    .await?;

    let mut lettings = fixture("lettings", |_| Ok(()))?;
    lettings.context.settings.render_api_url = Some(format!("{}/v1", render.base));
    lettings.context.settings.watch_interval_secs = Some(1);
    let context = lettings.context.clone();
    let data = lettings.data.clone();
    let bookshelf = second_project(&lettings, "bookshelf")?;
    let notes = second_project(&lettings, "notes")?;
    let store = SecretStore::os(&data);
    store.save(&Account::new(Service::Render, "default", "test"), "rnd_good")?;
    let mut sentry_account = Account::new(Service::Sentry, "acme/web", "test");
    sentry_account.server = Some(format!("{}/api/0", sentry.base));
    sentry_account.sentry_organization = Some("acme".to_owned());
    sentry_account.sentry_project = Some("web".to_owned());
    store.save(&sentry_account, "sntrys_full")?;

    // lettings: this computer → staging → production, reporting to acme/web.
    link(&data, &lettings.root, |settings| {
        settings.environments.add(render_environment(
            "staging",
            "srv-lettings-staging",
            &format!("{}:latest", repository("lettings-staging")),
        ))?;
        settings.environments.add(render_environment(
            "production",
            "srv-lettings",
            &format!("{}:latest", repository("lettings")),
        ))?;
        settings.sentry_project = Some(SentryLink {
            account: "acme/web".to_owned(),
            organization: "acme".to_owned(),
            project: "web".to_owned(),
        });
        Ok(())
    })?;
    // bookshelf: production only, reporting to acme/shop.
    link(&data, &bookshelf, |settings| {
        settings.environments.add(render_environment(
            "production",
            "srv-bookshelf",
            &format!("{}:latest", repository("bookshelf")),
        ))?;
        settings.sentry_project = Some(SentryLink {
            account: "acme/web".to_owned(),
            organization: "acme".to_owned(),
            project: "shop".to_owned(),
        });
        Ok(())
    })?;

    // The plans say where each goes.
    let planned = pipeline::plan(&context, &bookshelf, &ReleaseOptions::default()).await?;
    assert_eq!(
        planned.environment, "production",
        "bookshelf's default is its Render environment"
    );
    assert_eq!(planned.service.as_deref(), Some("srv-bookshelf"));
    assert_eq!(planned.destination, "bookshelf (production) on Render");
    assert!(planned.blockers.is_empty(), "{:?}", planned.blockers);

    // lettings on this computer, then promoted along its chain.
    let local = release_to(&context, &lettings.root, "local").await?;
    assert_eq!(local.outcome, Outcome::Live, "{:?}", local.message);
    let digest = local.digest.clone().ok_or("the local release pushed")?;
    let staged = pipeline::promote(
        &context,
        &local.release_id,
        None,
        &CancellationToken::new(),
        Arc::new(|_| {}),
    )
    .await?;
    assert_eq!(staged.outcome, Outcome::Live, "{:?}", staged.message);
    assert_eq!(
        staged.digest.as_deref(),
        Some(digest.as_str()),
        "staging got the very image"
    );
    let skipping = pipeline::promote(
        &context,
        &local.release_id,
        Some("production"),
        &CancellationToken::new(),
        Arc::new(|_| {}),
    )
    .await
    .err()
    .ok_or("production comes after staging, never straight from this computer")?;
    assert!(
        skipping.message.contains("the next environment after local is staging"),
        "{}",
        skipping.message
    );
    let produced = pipeline::promote(
        &context,
        &staged.release_id,
        None,
        &CancellationToken::new(),
        Arc::new(|_| {}),
    )
    .await?;
    assert_eq!(produced.outcome, Outcome::Live, "{:?}", produced.message);
    assert_eq!(
        produced.digest.as_deref(),
        Some(digest.as_str()),
        "production got the very image"
    );
    for (id, environment, service) in [
        (&local.release_id, "local", None),
        (&staged.release_id, "staging", Some("srv-lettings-staging")),
        (&produced.release_id, "production", Some("srv-lettings")),
    ] {
        let stored = record(&lettings, id)?;
        assert_eq!(stored.environment.as_deref(), Some(environment));
        if service.is_some() {
            assert_eq!(stored.service.as_deref(), service);
        }
    }

    // bookshelf to its own production.
    let shelved = release_to(&context, &bookshelf, "production").await?;
    assert_eq!(shelved.outcome, Outcome::Live, "{:?}", shelved.message);
    // notes: no Sentry link, this computer.
    let noted = release_to(&context, &notes, "local").await?;
    assert_eq!(noted.outcome, Outcome::Live, "{:?}", noted.message);
    let notes_record = record(&lettings, &noted.release_id)?;
    assert_eq!(
        step_record(&notes_record, "sentry").map(|step| step.state),
        Some(StepState::Skipped),
        "a project with no Sentry link records nothing there"
    );

    // Render's request log: each deploy on its own project's service, with its own image.
    let received = render.received();
    eprintln!("Render stand-in request log:");
    for request in &received {
        eprintln!("  {} {} {}", request.method, request.path(), request.body);
    }
    let triggers = standin::deploy_triggers(&received);
    assert_eq!(triggers.len(), 3, "one deploy per intent: {triggers:?}");
    for (service, name) in [
        ("srv-lettings-staging", "lettings-staging"),
        ("srv-lettings", "lettings"),
        ("srv-bookshelf", "bookshelf"),
    ] {
        let on_it: Vec<&(String, String)> = triggers
            .iter()
            .filter(|(path, _)| path == &format!("/v1/services/{service}/deploys"))
            .collect();
        assert_eq!(on_it.len(), 1, "{service}: {triggers:?}");
        assert_eq!(
            repository_of(&on_it[0].1),
            repository(name),
            "{service} got its own image"
        );
    }
    for (_, image) in triggers.iter().filter(|(path, _)| path.contains("srv-lettings")) {
        assert!(image.ends_with(&digest), "lettings' one digest throughout: {image}");
    }

    // Sentry's: each release in its own project, each deploy in its environment.
    let calls = sentry_handle.release_calls();
    eprintln!(
        "Sentry stand-in releases: {:?}",
        calls
            .iter()
            .map(|call| (&call.version, &call.projects, call.status))
            .collect::<Vec<_>>()
    );
    let deploys = sentry_handle.deploy_calls();
    eprintln!(
        "Sentry stand-in deploys: {:?}",
        deploys
            .iter()
            .map(|call| (&call.version, &call.environment, call.status))
            .collect::<Vec<_>>()
    );
    let version_of = |root: &Path| -> Result<String, Box<dyn std::error::Error>> {
        let output = std::process::Command::new("git")
            .args(["-C", &root.display().to_string(), "rev-parse", "HEAD"])
            .output()?;
        Ok(String::from_utf8(output.stdout)?.trim().to_owned())
    };
    let lettings_version = version_of(&lettings.root)?;
    let bookshelf_version = version_of(&bookshelf)?;
    let notes_version = version_of(&notes)?;
    assert_ne!(lettings_version, bookshelf_version);
    for call in &calls {
        let expected = if call.version.as_deref() == Some(lettings_version.as_str()) {
            "web"
        } else if call.version.as_deref() == Some(bookshelf_version.as_str()) {
            "shop"
        } else {
            return Err(format!(
                "a release Sentry should not have: {:?} (notes is {notes_version})",
                call.version
            )
            .into());
        };
        assert_eq!(call.projects, [expected], "{:?}", call.version);
    }
    assert!(
        calls.iter().any(|call| call.projects == ["shop"]),
        "bookshelf's release is in acme/shop"
    );
    let deployed: Vec<(String, Option<String>)> = deploys
        .iter()
        .map(|call| (call.version.clone(), call.environment.clone()))
        .collect();
    assert!(
        deployed.contains(&(lettings_version.clone(), Some("local".to_owned()))),
        "{deployed:?}"
    );
    assert!(
        deployed.contains(&(bookshelf_version.clone(), Some("production".to_owned()))),
        "{deployed:?}"
    );
    assert!(
        deployed.iter().all(|(version, _)| *version != notes_version),
        "notes is not linked"
    );

    // The watch of bookshelf asks acme/shop only: an issue of acme/web first seen in
    // bookshelf's very version is not bookshelf's.
    sentry_handle.add_issue(NewIssue {
        title: "KeyError: 'shelf'".to_owned(),
        first_release: Some(bookshelf_version.clone()),
        environments: vec!["production".to_owned()],
        ..NewIssue::default()
    });
    sentry_handle.add_issue(NewIssue {
        title: "KeyError: 'letting'".to_owned(),
        first_release: Some(lettings_version.clone()),
        environments: vec!["local".to_owned()],
        ..NewIssue::default()
    });
    let watch = |root: PathBuf, release: String| {
        let context = context.clone();
        async move {
            let cancel = CancellationToken::new();
            let stopper = cancel.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(4)).await;
                stopper.cancel();
            });
            pipeline::watch_release(&context, &root, Some(release), Some(1), &cancel, Arc::new(|_| {})).await
        }
    };
    let shelf_watch = watch(bookshelf.clone(), shelved.release_id.clone()).await?;
    assert!(
        shelf_watch.new_issues.is_empty(),
        "acme/web's issues are not bookshelf's: {:?}",
        shelf_watch.new_issues
    );
    let letting_watch = watch(lettings.root.clone(), local.release_id.clone()).await?;
    assert_eq!(letting_watch.new_issues.len(), 1, "lettings' own new issue is seen");
    let sentry_projects_asked: Vec<String> = sentry
        .received()
        .iter()
        .filter(|request| request.path().ends_with("/issues/"))
        .filter_map(|request| request.query("project"))
        .collect();
    assert!(sentry_projects_asked.iter().any(|project| project == "shop"));
    assert!(sentry_projects_asked.iter().any(|project| project == "web"));

    remove_project_containers(&lettings.root).await?;
    remove_project_containers(&notes).await?;
    Ok(())
}

/// Rewrites `accounts.json` as versions before typed accounts wrote it: every service's
/// details in the two generic fields, `organization` and `project`.
fn as_an_older_version_wrote_the_accounts(data: &Path) -> TestResult {
    let file = data.join("accounts.json");
    let mut accounts: serde_json::Value = serde_json::from_slice(&std::fs::read(&file)?)?;
    let list = accounts.as_array_mut().ok_or("accounts.json holds a list")?;
    for account in list {
        let object = account.as_object_mut().ok_or("an account is an object")?;
        let (organization, project) = match object.get("service").and_then(serde_json::Value::as_str) {
            Some("render") => ("renderImage", "renderService"),
            Some("sentry") => ("sentryOrganization", "sentryProject"),
            _ => ("", "circleciProject"),
        };
        let old_organization = object.get(organization).cloned().unwrap_or_default();
        let old_project = object.get(project).cloned().unwrap_or_default();
        for typed in [
            "sentryOrganization",
            "sentryProject",
            "renderService",
            "renderImage",
            "circleciProject",
        ] {
            object.remove(typed);
        }
        object.insert("organization".to_owned(), old_organization);
        object.insert("project".to_owned(), old_project);
    }
    std::fs::write(&file, serde_json::to_vec_pretty(&accounts)?)?;
    Ok(())
}

/// A data folder from before environments: one app-wide Render service and one Sentry
/// project. Used by one project, they become its links (and its Render releases are named
/// `production` in History); used by two, neither is guessed and both are asked.
#[tokio::test]
async fn the_upgrade_moves_app_wide_links_into_the_projects_that_used_them() -> TestResult {
    for (projects, linked) in [(1, true), (2, false)] {
        let fixture = fixture(&format!("upgrade-{projects}"), |_| Ok(()))?;
        let mut roots = vec![fixture.root.clone()];
        if projects == 2 {
            roots.push(second_project(&fixture, "upgrade-other")?);
        }
        let store = SecretStore::os(&fixture.data);
        let mut render_account = Account::new(Service::Render, "default", "test");
        render_account.render_service = Some("srv-old".to_owned());
        render_account.render_image = Some("docker.io/ann/old:latest".to_owned());
        store.save(&render_account, "rnd_good")?;
        let mut sentry_account = Account::new(Service::Sentry, "acme/web", "test");
        sentry_account.sentry_organization = Some("acme".to_owned());
        sentry_account.sentry_project = Some("web".to_owned());
        store.save(&sentry_account, "sntrys_full")?;
        as_an_older_version_wrote_the_accounts(&fixture.data)?;
        for (n, root) in roots.iter().enumerate() {
            let id = format!("old-{projects}-{n}");
            fixture.context.ledger.begin(&NewRelease {
                id: id.clone(),
                project_path: root.display().to_string(),
                project_name: "old".to_owned(),
                user: "ann".to_owned(),
                target: Target::Render,
                steps: vec![Step::Deploy, Step::Sentry],
                ..NewRelease::default()
            })?;
            fixture
                .context
                .ledger
                .step(&id, Step::Sentry, StepState::Passed, None)?;
            fixture
                .context
                .ledger
                .finish(&id, Outcome::Live, &slipway::history::Ending::default())?;
        }

        let report = slipway::links::upgrade(&fixture.data, &fixture.context.ledger)?;
        let settings = project::load_settings(&fixture.data, &fixture.root)?.ok_or("saved")?;
        if linked {
            assert_eq!(report.render_linked, [fixture.root.display().to_string()]);
            let production = settings
                .environments
                .find("production")
                .ok_or("a production environment")?;
            assert_eq!(production.service_id(), Some("srv-old"));
            assert_eq!(settings.environments.default_environment().name, "production");
            assert_eq!(
                settings.sentry_project.as_ref().map(SentryLink::label).as_deref(),
                Some("acme/web")
            );
            let old = record(&fixture, "old-1-0")?;
            assert_eq!(
                old.environment.as_deref(),
                Some("production"),
                "History names the old release"
            );
            assert_eq!(old.service.as_deref(), Some("srv-old"));
        } else {
            assert_eq!(report.render_asked.len(), 2, "{report:?}");
            assert_eq!(report.sentry_asked.len(), 2, "{report:?}");
            for root in &roots {
                let settings = project::load_settings(&fixture.data, root)?.ok_or("saved")?;
                assert!(settings.environments.find("production").is_none(), "not guessed");
                assert!(settings.sentry_project.is_none(), "not guessed");
                let question = slipway::links::upgrade_question(&fixture.data, root).ok_or("asked")?;
                assert!(question.contains("srv-old"), "{question}");
            }
        }
        // Nothing the person connected is lost, and the upgrade runs once.
        assert!(store.account(Service::Render, "default").is_some());
        assert!(store.account(Service::Sentry, "acme/web").is_some());
        let again = slipway::links::upgrade(&fixture.data, &fixture.context.ledger)?;
        assert_eq!(again, report);
    }
    Ok(())
}
