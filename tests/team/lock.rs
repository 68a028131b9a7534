//! One release of an environment at a time across the team: the lock is PostgreSQL's, held by
//! the releasing process's session, so a machine that dies never keeps it.

use super::*;

/// "ann is releasing lettings to <environment> (since HH:MM, from ann-laptop)": the sentence's
/// time, checked to be a time of day.
fn holder_sentence<'a>(said: &'a str, user: &str, machine: &str) -> Option<&'a str> {
    let start = said.find(&format!("{user} is releasing lettings to "))?;
    let sentence = &said[start..];
    let since = sentence.find("(since ")? + "(since ".len();
    let time = sentence.get(since..since + 5)?;
    let well_formed = time.as_bytes()[2] == b':' && time.chars().filter(char::is_ascii_digit).count() == 4;
    (well_formed && sentence[since + 5..].starts_with(&format!(", from {machine})"))).then_some(sentence)
}

/// Both people on one machine: the environment `local` of one project on one machine is one
/// environment (its container), whoever releases it.
#[test]
fn a_second_release_of_the_environment_is_refused_with_who_holds_it() -> TestResult {
    let hold = Hold::new()?;
    let team = Team::start_with("lettings", PgOptions::default(), |root| {
        std::fs::write(root.join("tests/test_held.py"), hold.test_file())
    })?;
    let ann = team.member("ann", "shared-box")?;
    let bob = team.member("bob", "shared-box")?;

    let first = ann.release_until("[tests] running", &[])?;
    let refused = bob.release(&[])?;
    let said = format!("{}{}", text(&refused.stdout), text(&refused.stderr));
    assert_eq!(refused.status.code(), Some(2), "{said}");
    assert!(holder_sentence(&said, "ann", "shared-box").is_some(), "{said}");
    // Refused before anything ran: no release of Bob's is in the team's history.
    assert_eq!(team.sql("SELECT count(*) FROM releases")?, "1");

    hold.release();
    let (finished, stdout, stderr) = first.finish()?;
    assert_eq!(finished.code(), Some(0), "{stdout}{stderr}");
    // The lock ends with the release: Bob's goes ahead now.
    let released = bob.release(&[])?;
    assert_succeeded(&released);
    let releases = bob.history(&[])?;
    let users: Vec<_> = releases.iter().map(|release| release["user"].clone()).collect();
    assert_eq!(users, ["bob", "ann"], "{releases:?}");
    Ok(())
}

#[test]
fn a_killed_holder_frees_the_environment_at_once_and_shows_as_interrupted() -> TestResult {
    let hold = Hold::new()?;
    let team = Team::start_with("lettings", PgOptions::default(), |root| {
        std::fs::write(root.join("tests/test_held.py"), hold.test_file())
    })?;
    let ann = team.member("ann", "shared-box")?;
    let bob = team.member("bob", "shared-box")?;

    let first = ann.release_until("[tests] running", &[])?;
    first.kill()?;
    // Ann's row still names her: what frees the lock is her session's end, not a clean-up.
    assert_eq!(team.sql("SELECT \"user\" FROM release_locks")?, "ann");
    // The tests Ann's release started end with it; Bob's need not wait for them.
    hold.release();
    let started = std::time::Instant::now();
    let released = bob.release(&[])?;
    assert_succeeded(&released);
    assert!(
        !text(&released.stdout).contains("is releasing"),
        "nothing waited for the dead release: {}",
        text(&released.stdout)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(240),
        "{:?}",
        started.elapsed()
    );

    for member in [&ann, &bob] {
        let releases = member.history(&[])?;
        assert_eq!(releases.len(), 2, "{releases:?}");
        assert_eq!(
            (&releases[0]["user"], &releases[0]["outcome"]),
            (&"bob".into(), &"live".into()),
            "{releases:?}"
        );
        assert_eq!(
            (&releases[1]["user"], &releases[1]["outcome"]),
            (&"ann".into(), &"interrupted".into()),
            "{} sees Ann's release as interrupted: {releases:?}",
            member.user
        );
        let steps = releases[1]["steps"].as_array().ok_or("steps")?;
        assert!(steps.iter().all(|step| step["state"] != "running"), "{releases:?}");
    }
    Ok(())
}

/// The first release on a new team database, the URL in `SLIPWAY_HISTORY_URL` (no `history
/// connect` made the tables first): it asks who holds the lock while the history's worker is
/// still making the tables. The worker is held back here by the lock it takes around
/// migrations (schema.rs's `WRITE_LOCK`) for 1.5 s, as a slow server would hold it (less
/// than the 3 s the plan waits for the team's answer).
#[test]
fn the_first_release_on_a_new_team_database_is_not_refused() -> TestResult {
    const MIGRATION_LOCK: i64 = 0x5117_9a7e_0000_0001;
    let team = Team::start("lettings", PgOptions::default())?;
    let mut ann = team.member_alone("ann", "ann-laptop")?;
    ann.url = Some(team.pg.url_with_password(DATABASE));
    let held = std::thread::scope(|scope| {
        let holding = scope.spawn(|| {
            team.sql(&format!(
                "SELECT pg_advisory_xact_lock({MIGRATION_LOCK}); SELECT pg_sleep(1.5)"
            ))
            .map_err(|error| error.to_string())
        });
        // Held before Slipway starts.
        let started = std::time::Instant::now();
        let held = || {
            team.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
                .is_ok_and(|count| count == "1")
        };
        while !held() && started.elapsed() < std::time::Duration::from_secs(3) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let released = ann.release(&[]);
        (holding.join(), released)
    });
    let (holding, released) = held;
    holding.map_err(|_| "the psql holding the lock panicked")??;
    let released = released?;
    assert_succeeded(&released);
    assert_eq!(team.sql("SELECT \"user\" FROM releases")?, "ann");
    Ok(())
}

/// Two machines, one Render service: the lock is the service's, whoever holds it and from
/// wherever; the second release is refused with the holder's name and machine, and goes ahead
/// once the first ends. Render is its stand-in.
#[test]
fn two_machines_never_release_one_render_service_at_once() -> TestResult {
    use slipway::project::{Environment, RenderLink};
    use slipway::secrets::{Account, SecretStore, Service};
    let hold = Hold::new()?;
    let team = Team::start_with("lettings", PgOptions::default(), |root| {
        std::fs::write(root.join("tests/test_held.py"), hold.test_file())
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let repository = format!("{}/team/lettings", test_registry().address);
    let image = format!("{repository}:latest");
    let render = runtime.block_on(standin::render_deploy_stand_in(
        image.clone(),
        standin::DeployScript::new(201, &["build_in_progress", "live"]),
    ))?;
    let on_render = |user: &str, machine: &str| -> Result<Member, Error> {
        let mut member = team.member_alone(user, machine)?;
        std::fs::write(
            member.data.join("settings.json"),
            serde_json::json!({ "renderApiUrl": format!("{}/v1", render.base) }).to_string(),
        )?;
        SecretStore::os(&member.data).save(&Account::new(Service::Render, "default", "test"), "rnd_good")?;
        let mut settings =
            slipway::project::load_settings(&member.data, &team.root)?.ok_or("the project's settings were saved")?;
        settings.image_repository = Some(repository.clone());
        settings.environments.add(Environment::render(
            "production",
            RenderLink {
                id: "srv-web".to_owned(),
                name: Some("web".to_owned()),
                image: Some(image.clone()),
            },
        ))?;
        slipway::project::save_settings(&member.data, &team.root, &settings)?;
        member.connect(&team.pg.url(DATABASE), team.pg.password())?;
        member.target = "production".to_owned();
        Ok(member)
    };
    let ann = on_render("ann", "ann-laptop")?;
    let bob = on_render("bob", "bob-desktop")?;

    let first = ann.release_until("[tests] running", &[])?;
    let refused = bob.release(&[])?;
    let said = format!("{}{}", text(&refused.stdout), text(&refused.stderr));
    assert_eq!(refused.status.code(), Some(2), "{said}");
    let sentence = holder_sentence(&said, "ann", "ann-laptop").ok_or(format!("the holder's sentence in: {said}"))?;
    assert!(
        sentence.starts_with("ann is releasing lettings to production (since "),
        "{sentence}"
    );

    hold.release();
    let (finished, stdout, stderr) = first.finish()?;
    assert_eq!(finished.code(), Some(0), "{stdout}{stderr}");
    let released = bob.release(&[])?;
    assert_succeeded(&released);
    // One deploy each, one after the other.
    assert_eq!(standin::deploy_triggers(&render.received()).len(), 2);
    let releases = ann.history(&[])?;
    let who: Vec<_> = releases
        .iter()
        .map(|release| {
            (
                release["user"].clone(),
                release["machine"].clone(),
                release["outcome"].clone(),
            )
        })
        .collect();
    assert_eq!(
        who,
        [
            ("bob".into(), "bob-desktop".into(), "live".into()),
            ("ann".into(), "ann-laptop".into(), "live".into())
        ],
        "{releases:?}"
    );
    Ok(())
}
