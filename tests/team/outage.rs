//! The team's PostgreSQL away: a release that loses it mid-way ends with a sentence that says
//! so, and one made without it is kept on this computer; either reaches PostgreSQL once, when
//! it is back.

use super::*;

/// `1|steps|lines|results` with some steps and lines: one release, whole.
fn whole(counts: &str) -> bool {
    let fields: Vec<&str> = counts.split('|').collect();
    fields.len() == 4 && fields[0] == "1" && fields[1] != "0" && fields[2] != "0"
}

#[test]
fn a_release_that_loses_postgresql_mid_way_says_so_and_loses_nothing() -> TestResult {
    let hold = Hold::new()?;
    let team = Team::start_with("lettings", PgOptions::default(), |root| {
        std::fs::write(root.join("tests/test_held.py"), hold.test_file())
    })?;
    let ann = team.member("ann", "ann-laptop")?;

    let running = ann.release_until("[tests] running", &[])?;
    team.pg.stop()?;
    hold.release();
    let (ended, stdout, stderr) = running.finish()?;
    let said = format!("{stdout}\n{stderr}");
    assert!(!said.contains("panicked") && !said.contains("Error {"), "{said}");
    // Kept on Ann's machine meanwhile, and listed with a note that the server is away.
    let kept = ann.run(&["history", "--json"])?;
    assert!(
        text(&kept.stderr).contains("team's history could not be reached"),
        "{}",
        text(&kept.stderr)
    );
    let kept: serde_json::Value = serde_json::from_slice(&kept.stdout)?;
    let [release] = kept.as_array().map(Vec::as_slice).unwrap_or_default() else {
        return Err(format!("one release kept here: {kept}").into());
    };
    let id = release["id"].as_str().ok_or("an id")?.to_owned();
    assert_ne!(release["outcome"], "running", "it ended: {release}");
    let here = ann.kept_of(&id)?;
    assert!(whole(&here), "{here}");

    team.pg.start_again()?;
    // The next command that reaches the team's history sends it, once.
    for _ in 0..2 {
        let releases = ann.history(&[])?;
        assert_eq!(releases.len(), 1, "{releases:?}");
        assert_eq!(releases[0]["id"], id.as_str());
        assert_eq!(
            team.held_of(&id)?,
            here,
            "PostgreSQL holds what Ann's machine kept, once"
        );
    }
    // Last, as the rest holds without it: the release said what happened to the team's
    // history (its lock went with the server, and the release waits to be sent).
    assert!(
        said.contains("team's history")
            && said.contains("could not be reached")
            && said.contains("kept on this computer"),
        "a sentence about the team's history (exit {ended}): {said}"
    );
    Ok(())
}

#[test]
fn a_release_without_the_team_history_reaches_it_once_when_it_is_back() -> TestResult {
    let team = Team::start("lettings", PgOptions::default())?;
    let ann = team.member("ann", "ann-laptop")?;
    let bob = team.member("bob", "bob-desktop")?;
    team.pg.stop()?;

    let refused = ann.release(&[])?;
    let said = format!("{}{}", text(&refused.stdout), text(&refused.stderr));
    assert_eq!(
        refused.status.code(),
        Some(2),
        "refused while the team's history is unreachable: {said}"
    );
    assert!(said.contains("cannot be reached"), "{said}");
    assert!(said.contains("--without-team-history"), "it says how to go on: {said}");

    let released = ann.release(&["--without-team-history"])?;
    assert_succeeded(&released);
    let releases = ann.history(&[])?;
    let [release] = releases.as_slice() else {
        return Err(format!("one release kept here: {releases:?}").into());
    };
    assert_eq!(release["outcome"], "live", "{release}");
    let id = release["id"].as_str().ok_or("an id")?.to_owned();
    let here = ann.kept_of(&id)?;
    assert!(whole(&here), "{here}");

    team.pg.start_again()?;
    // Ann's next command that reaches the team's history sends it; Bob then sees it, once.
    assert_eq!(ann.history(&[])?.len(), 1);
    for _ in 0..2 {
        let seen = bob.history(&["--user", "ann"])?;
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0]["id"], id.as_str());
        assert_eq!(
            team.held_of(&id)?,
            here,
            "PostgreSQL holds what Ann's machine kept, once"
        );
    }
    Ok(())
}
