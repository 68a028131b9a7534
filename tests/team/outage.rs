//! The team's PostgreSQL away: a release it loses mid-way ends with a sentence that says so,
//! and one made without it is kept locally; either reaches PostgreSQL once, when it is back.

use super::*;

/// What the team's database holds of release `id`: its rows, its steps and its log lines.
fn held_of(team: &Team, id: &str) -> Result<String, Error> {
    team.sql(&format!(
        "SELECT (SELECT count(*) FROM releases WHERE id = '{id}'), (SELECT count(*) FROM steps WHERE release_id = '{id}'), \
         (SELECT count(*) FROM step_logs WHERE release_id = '{id}'), \
         (SELECT count(*) FROM (SELECT step, line FROM step_logs WHERE release_id = '{id}' GROUP BY step, line HAVING count(*) > 1) AS twice)"
    ))
}

/// `n|steps|lines|0`: `n` rows, some steps and log lines, no log line twice.
fn once(held: &str, rows: &str) -> bool {
    let fields: Vec<&str> = held.split('|').collect();
    fields.len() == 4 && fields[0] == rows && fields[1] != "0" && fields[2] != "0" && fields[3] == "0"
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
    let (_, stdout, stderr) = running.finish()?;
    let said = format!("{stdout}\n{stderr}");
    assert!(
        said.contains("team's history"),
        "a sentence about the team's history: {said}"
    );
    assert!(!said.contains("panicked") && !said.contains("Error {"), "{said}");
    // Kept on Ann's machine meanwhile.
    let kept = ann.without_team().history(&[])?;
    assert_eq!(kept.len(), 1, "kept locally: {kept:?}");
    let id = kept[0]["id"].as_str().ok_or("an id")?.to_owned();

    team.pg.start_again()?;
    // The next command that reaches the team's history hands it over, once.
    for _ in 0..2 {
        let releases = ann.history(&[])?;
        assert_eq!(releases.len(), 1, "{releases:?}");
        assert_eq!(releases[0]["id"], id.as_str());
        assert_ne!(releases[0]["outcome"], "running", "{releases:?}");
    }
    let held = held_of(&team, &id)?;
    assert!(once(&held, "1"), "one row, its steps and log lines once: {held}");
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
    assert!(said.contains("--without-team-history"), "it says how to go on: {said}");

    let released = ann.release(&["--without-team-history"])?;
    assert_eq!(
        released.status.code(),
        Some(0),
        "{}{}",
        text(&released.stdout),
        text(&released.stderr)
    );

    team.pg.start_again()?;
    // Ann's next command that reaches the team's history hands it over; Bob then sees it, once.
    let _ = ann.history(&[])?;
    for _ in 0..2 {
        let seen = bob.history(&["--user", "ann"])?;
        assert_eq!(seen.len(), 1, "{seen:?}");
    }
    let releases = ann.history(&[])?;
    assert_eq!(releases.len(), 1, "{releases:?}");
    assert_eq!(releases[0]["outcome"], "live", "{releases:?}");
    let id = releases[0]["id"].as_str().ok_or("an id")?;
    let held = held_of(&team, id)?;
    assert!(once(&held, "1"), "one row, its steps and log lines once: {held}");
    Ok(())
}
