//! One history for the team: two processes with data folders of their own and one URL see
//! each other's releases, who made each and from which machine; a person's earlier local
//! history is copied into the team's once.

use super::*;

/// The releases in `releases` with `field` equal to `value`.
fn with<'a>(releases: &'a [serde_json::Value], field: &str, value: &str) -> Vec<&'a serde_json::Value> {
    releases.iter().filter(|release| release[field] == value).collect()
}

#[test]
fn two_people_with_their_own_data_folders_see_each_others_releases() -> TestResult {
    let team = Team::start("lettings", PgOptions::default())?;
    // Ann connected as the docs say; Bob's URL, password and all, is in SLIPWAY_HISTORY_URL.
    let ann = team.member("ann", "ann-laptop")?;
    let mut bob = team.member_alone("bob", "bob-desktop")?;
    bob.url = Some(team.pg.url_with_password(DATABASE));

    let released = ann.release(&[])?;
    assert_succeeded(&released);
    let released = bob.release(&[])?;
    assert_succeeded(&released);

    for member in [&ann, &bob] {
        let releases = member.history(&[])?;
        assert_eq!(releases.len(), 2, "{} sees both: {releases:?}", member.user);
        // Newest first: Bob's, then Ann's, each with who and from where.
        assert_eq!(releases[0]["user"], "bob", "{releases:?}");
        assert_eq!(releases[0]["machine"], "bob-desktop", "{releases:?}");
        assert_eq!(releases[1]["user"], "ann", "{releases:?}");
        assert_eq!(releases[1]["machine"], "ann-laptop", "{releases:?}");
        assert!(
            releases.iter().all(|release| release["outcome"] == "live"),
            "{releases:?}"
        );
        let anns = member.history(&["--user", "ann"])?;
        assert_eq!(anns.len(), 1, "{anns:?}");
        assert_eq!(anns[0]["id"], releases[1]["id"]);
        let plain = member.run(&["history"])?;
        assert!(plain.status.success(), "{}", text(&plain.stderr));
        let listed = text(&plain.stdout);
        assert!(
            listed.contains("bob") && listed.contains("ann"),
            "the list names who: {listed}"
        );
    }
    // What PostgreSQL itself holds.
    assert_eq!(
        team.sql("SELECT \"user\", machine FROM releases ORDER BY started_at")?,
        "ann|ann-laptop\nbob|bob-desktop"
    );
    Ok(())
}

#[test]
fn an_earlier_local_history_is_imported_into_the_teams_once() -> TestResult {
    let team = Team::start("lettings", PgOptions::default())?;
    let carol = team.member_alone("carol", "carol-laptop")?;
    // Carol's history from before the team: releases kept in her own data folder.
    for _ in 0..2 {
        let released = carol.release(&[])?;
        assert_succeeded(&released);
    }
    let local = carol.history(&[])?;
    assert_eq!(local.len(), 2, "{local:?}");
    let file = carol.data.join("history.sqlite3");
    assert!(file.exists(), "{} holds her history", file.display());

    carol.connect(&team.pg.url(DATABASE), team.pg.password())?;
    let file = file.display().to_string();
    let counts =
        "SELECT (SELECT count(*) FROM releases), (SELECT count(*) FROM steps), (SELECT count(*) FROM step_logs)";
    let imported = carol.run(&["history", "import", "--from", &file])?;
    assert!(
        imported.status.success(),
        "{}{}",
        text(&imported.stdout),
        text(&imported.stderr)
    );
    let after_once = team.sql(counts)?;
    let again = carol.run(&["history", "import", "--from", &file])?;
    assert!(again.status.success(), "{}{}", text(&again.stdout), text(&again.stderr));
    assert_eq!(team.sql(counts)?, after_once, "a second import adds nothing");
    assert!(after_once.starts_with("2|"), "{after_once}");

    let shared = carol.history(&[])?;
    let ids = |releases: &[serde_json::Value]| releases.iter().map(|release| release["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&shared), ids(&local), "the same releases, in the same order");
    assert_eq!(with(&shared, "user", "carol").len(), 2, "{shared:?}");
    Ok(())
}
