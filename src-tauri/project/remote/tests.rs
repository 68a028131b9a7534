//! Against local bare repositories as remotes (and a listener that never answers), never a
//! network remote. Each test's git runs without the machine's global git config.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::fetch::Limits;
use super::push::push_with;
use super::standing::standing_with;
use super::talk::{clean_line, last_word, trouble, Trouble};
use super::*;
use crate::error::{AppError, ErrorKind};

const WAIT: Duration = Duration::from_secs(20);
const PUSH_LIMIT: Duration = Duration::from_secs(30);

fn git(dir: &Path, args: &[&str]) -> io::Result<String> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.test")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.test")
        .output()?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(io::Error::other(format!(
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

fn commit(dir: &Path, message: &str) -> io::Result<String> {
    git(dir, &["commit", "-q", "--allow-empty", "-m", message])
}

/// A bare repository with one commit on `main`, and a clone of it (`work`) that tracks it.
struct World {
    dir: tempfile::TempDir,
    bare: PathBuf,
    work: PathBuf,
}

impl World {
    fn new() -> io::Result<World> {
        let dir = tempfile::tempdir()?;
        let bare = dir.path().join("team.git");
        let work = dir.path().join("work");
        git(dir.path(), &["init", "-q", "--bare", "team.git"])?;
        git(dir.path(), &["clone", "-q", "team.git", "work"])?;
        commit(&work, "first")?;
        git(&work, &["push", "-q", "-u", "origin", "main"])?;
        Ok(World { dir, bare, work })
    }

    /// Someone else pushes a commit to the team's `main`.
    fn someone_pushes(&self) -> io::Result<()> {
        let other = self.dir.path().join("other");
        if !other.exists() {
            git(self.dir.path(), &["clone", "-q", "team.git", "other"])?;
        }
        git(&other, &["pull", "-q", "--ff-only"])?;
        commit(&other, "theirs")?;
        git(&other, &["push", "-q", "origin", "main"])?;
        Ok(())
    }
}

fn quick() -> Limits {
    Limits {
        fetch: Duration::from_secs(2),
        fresh: Duration::from_secs(30),
    }
}

async fn standing_of(root: &Path) -> io::Result<RemoteStanding> {
    standing_with(root, WAIT, Limits::USUAL)
        .await
        .ok_or_else(|| io::Error::other("no standing"))
}

/// Pushes, returning what happened and every line git printed.
async fn push_seen(root: &Path) -> (Result<Pushed, PushError>, Vec<String>) {
    let seen = Mutex::new(Vec::new());
    let line = |text: String| {
        if let Ok(mut seen) = seen.lock() {
            seen.push(text);
        }
    };
    let result = push_with(root, &line, PUSH_LIMIT).await;
    (result, seen.into_inner().unwrap_or_default())
}

#[tokio::test]
async fn up_to_date_after_a_fetch() -> io::Result<()> {
    let world = World::new()?;
    let standing = standing_of(&world.work).await?;
    assert_eq!(standing.state, SyncState::UpToDate, "{standing:?}");
    assert_eq!((standing.ahead, standing.behind), (0, 0));
    assert_eq!(standing.remote.as_deref(), Some("origin"));
    assert_eq!(standing.upstream.as_deref(), Some("origin/main"));
    assert_eq!(standing.branch.as_deref(), Some("main"));
    assert_eq!(standing.remote_url.as_deref(), world.bare.to_str());
    assert!(
        matches!(standing.reach, Reach::Fetched { ref at } if at.ends_with('Z')),
        "{standing:?}"
    );
    assert!(standing.commit_on_remote);
    assert_eq!(standing.host, None);
    assert_eq!(standing.words(), "Up to date with origin/main.");
    assert_eq!(standing.warning(), None);
    assert!(!standing.needs_push());
    Ok(())
}

#[tokio::test]
async fn two_commits_ahead_need_a_push_and_are_on_the_remote_after_it() -> io::Result<()> {
    let world = World::new()?;
    commit(&world.work, "second")?;
    commit(&world.work, "third")?;
    let standing = standing_of(&world.work).await?;
    assert_eq!(standing.state, SyncState::Ahead, "{standing:?}");
    assert_eq!((standing.ahead, standing.behind), (2, 0));
    assert!(!standing.commit_on_remote);
    assert!(standing.needs_push());
    assert_eq!(
        standing.words(),
        "2 commits ahead of origin/main: they are not on origin yet."
    );

    let (pushed, lines) = push_seen(&world.work).await;
    let pushed = pushed.map_err(|error| io::Error::other(error.to_string()))?;
    assert_eq!((pushed.remote.as_str(), pushed.branch.as_str()), ("origin", "main"));
    assert!(lines.iter().any(|line| line.contains("main -> main")), "{lines:?}");
    let after = standing_of(&world.work).await?;
    assert_eq!(after.state, SyncState::UpToDate, "{after:?}");
    assert!(after.commit_on_remote);
    assert_eq!(
        git(&world.bare, &["rev-parse", "main"])?,
        git(&world.work, &["rev-parse", "HEAD"])?
    );
    Ok(())
}

#[tokio::test]
async fn behind_when_someone_else_pushed_warns_of_an_older_tree() -> io::Result<()> {
    let world = World::new()?;
    world.someone_pushes()?;
    let standing = standing_of(&world.work).await?;
    assert_eq!(standing.state, SyncState::Behind, "{standing:?}");
    assert_eq!((standing.ahead, standing.behind), (0, 1));
    assert!(standing.commit_on_remote);
    assert!(!standing.needs_push());
    assert_eq!(
        standing.words(),
        "Behind origin/main by 1 commit: someone pushed to it since you pulled."
    );
    let warning = standing.warning().unwrap_or_default();
    assert!(warning.contains("older tree than origin/main"), "{warning}");
    assert!(warning.contains("Update your copy first (git pull)"), "{warning}");
    Ok(())
}

#[tokio::test]
async fn diverged_and_its_push_is_rejected_as_non_fast_forward() -> io::Result<()> {
    let world = World::new()?;
    world.someone_pushes()?;
    commit(&world.work, "mine")?;
    let standing = standing_of(&world.work).await?;
    assert_eq!(standing.state, SyncState::Diverged, "{standing:?}");
    assert_eq!((standing.ahead, standing.behind), (1, 1));
    assert!(!standing.needs_push());
    assert_eq!(
        standing.words(),
        "Your branch and origin/main have both moved (1 ahead, 1 behind)."
    );
    assert!(standing
        .warning()
        .is_some_and(|warning| warning.contains("leaving out 1 commit")));

    let (pushed, lines) = push_seen(&world.work).await;
    assert!(lines.iter().any(|line| line.contains("non-fast-forward")), "{lines:?}");
    let error = pushed.err();
    assert_eq!(
        error,
        Some(PushError::Rejected {
            branch: "main".into(),
            place: "origin".into()
        })
    );
    let app = error.map(AppError::from);
    assert_eq!(app.as_ref().map(|app| app.kind), Some(ErrorKind::Precondition));
    assert_eq!(
        app.map(|app| app.message).as_deref(),
        Some("Someone pushed to main since you pulled: update your copy first (git pull), then release again.")
    );
    Ok(())
}

#[tokio::test]
async fn a_push_without_fetching_first_is_rejected_with_update_your_copy() -> io::Result<()> {
    let world = World::new()?;
    world.someone_pushes()?;
    commit(&world.work, "mine")?;
    let (pushed, lines) = push_seen(&world.work).await;
    assert!(lines.iter().any(|line| line.contains("fetch first")), "{lines:?}");
    let error = pushed.err().map(|error| error.to_string()).unwrap_or_default();
    assert!(error.contains("update your copy first"), "{error}");
    Ok(())
}

/// `git checkout -b fix origin/main` tracks main: the push goes to `fix` on the remote, never
/// onto the team's main (git's default push refuses that too).
#[tokio::test]
async fn a_branch_that_tracks_main_under_another_name_is_pushed_to_its_own_name() -> io::Result<()> {
    let world = World::new()?;
    let main_before = git(&world.bare, &["rev-parse", "main"])?;
    git(&world.work, &["switch", "-q", "-c", "fix", "--track", "origin/main"])?;
    commit(&world.work, "a fix")?;
    let head = git(&world.work, &["rev-parse", "HEAD"])?;
    let (pushed, _) = push_seen(&world.work).await;
    assert!(pushed.is_ok(), "{pushed:?}");
    assert_eq!(
        git(&world.bare, &["rev-parse", "main"])?,
        main_before,
        "main is untouched"
    );
    assert_eq!(
        git(&world.bare, &["rev-parse", "fix"])?,
        head,
        "the branch went under its own name"
    );
    Ok(())
}

#[tokio::test]
async fn a_new_branch_has_no_upstream_until_the_push_sets_it() -> io::Result<()> {
    let world = World::new()?;
    git(&world.work, &["switch", "-q", "-c", "feature"])?;
    commit(&world.work, "feature work")?;
    let standing = standing_of(&world.work).await?;
    assert_eq!(standing.state, SyncState::NoUpstream, "{standing:?}");
    assert_eq!(standing.upstream, None);
    assert!(standing.needs_push());
    assert!(!standing.commit_on_remote);
    assert_eq!(standing.words(), "feature has no upstream branch on origin yet.");

    let (pushed, _) = push_seen(&world.work).await;
    assert_eq!(pushed.map(|pushed| pushed.branch).ok().as_deref(), Some("feature"));
    assert_eq!(
        git(&world.work, &["config", "branch.feature.merge"])?,
        "refs/heads/feature"
    );
    let after = standing_of(&world.work).await?;
    assert_eq!(after.state, SyncState::UpToDate, "{after:?}");
    assert_eq!(after.upstream.as_deref(), Some("origin/feature"));
    assert!(after.commit_on_remote);
    Ok(())
}

#[cfg(unix)]
#[tokio::test]
async fn a_pre_receive_hook_that_says_no_is_named_in_the_sentence() -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let world = World::new()?;
    let hook = world.bare.join("hooks").join("pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'main is frozen' >&2\nexit 1\n")?;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
    commit(&world.work, "mine")?;
    let (pushed, lines) = push_seen(&world.work).await;
    assert!(lines.iter().any(|line| line == "remote: main is frozen"), "{lines:?}");
    let error = pushed.err();
    assert_eq!(
        error,
        Some(PushError::HookDeclined {
            place: "origin".into(),
            said: vec!["main is frozen".into()]
        })
    );
    let app = error.map(AppError::from);
    assert_eq!(
        app.as_ref().map(|app| app.message.as_str()),
        Some("Origin refused the push: main is frozen.")
    );
    assert_eq!(app.and_then(|app| app.detail).as_deref(), Some("main is frozen"));
    Ok(())
}

/// How many `git fetch` run in `root` (the fetch runs there by its canonical path).
fn fetches_running_in(root: &Path) -> usize {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let root = root.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .map(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " "))
        .filter(|cmdline| cmdline.contains(&root) && cmdline.contains(" fetch "))
        .count()
}

#[tokio::test]
async fn a_remote_that_never_answers_is_fetching_then_unreachable_and_the_fetch_is_killed() -> io::Result<()> {
    let world = World::new()?;
    // Connections complete in the backlog and then hear nothing, as from a stuck server.
    let silent = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = silent.local_addr()?.port();
    git(
        &world.work,
        &["remote", "set-url", "origin", &format!("git://127.0.0.1:{port}/x.git")],
    )?;

    let started = Instant::now();
    // About the second it was given; the git calls around the wait add a little on a busy machine.
    let first = standing_with(&world.work, Duration::from_secs(1), quick()).await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_millis(2500),
        "{waited:?}"
    );
    let first = first.ok_or_else(|| io::Error::other("no standing"))?;
    assert_eq!(first.reach, Reach::Fetching);
    // What was known still stands: the last fetched origin/main.
    assert_eq!(first.state, SyncState::UpToDate);
    assert!(
        first
            .words()
            .ends_with("Still asking origin; this is what was known before."),
        "{}",
        first.words()
    );

    // A second look while it runs starts no second fetch.
    let again = standing_with(&world.work, Duration::from_millis(200), quick()).await;
    assert_eq!(again.map(|standing| standing.reach), Some(Reach::Fetching));
    assert_eq!(fetches_running_in(&world.work), 1);

    fetch_settled(&world.work, Duration::from_secs(10)).await;
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(fetches_running_in(&world.work), 0);
    let after = standing_with(&world.work, Duration::from_secs(1), quick())
        .await
        .ok_or_else(|| io::Error::other("no standing"))?;
    assert!(
        matches!(&after.reach, Reach::Unreachable { why, .. } if why == "no answer within 2 s"),
        "{after:?}"
    );
    assert_eq!(after.state, SyncState::UpToDate);
    let words = after.words();
    assert!(
        words.starts_with("Up to date with origin/main. Could not reach origin (no answer within 2 s); this is what"),
        "{words}"
    );
    drop(silent);
    Ok(())
}

#[tokio::test]
async fn a_token_in_the_remote_address_is_never_shown() -> io::Result<()> {
    let world = World::new()?;
    // A port nothing listens on: the connection is refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let url = format!("https://ada:tok-SECRET-4242@127.0.0.1:{port}/team/x.git");
    git(&world.work, &["remote", "set-url", "origin", &url])?;
    commit(&world.work, "mine")?;

    let standing = standing_of(&world.work).await?;
    assert_eq!(
        standing.remote_url.as_deref(),
        Some(format!("https://127.0.0.1:{port}/team/x.git").as_str())
    );
    assert!(
        matches!(&standing.reach, Reach::Unreachable { why, .. } if why == "the connection was refused"),
        "{standing:?}"
    );
    let words = standing.words();
    assert!(
        words.contains("Could not reach origin (the connection was refused)"),
        "{words}"
    );

    let (pushed, lines) = push_seen(&world.work).await;
    let error = pushed.err();
    assert!(matches!(error, Some(PushError::Unreachable { .. })), "{error:?}");
    assert!(!lines.is_empty());
    let shown = format!("{standing:?} {words} {lines:?} {:?}", error.map(AppError::from));
    assert!(!shown.contains("tok-SECRET"), "{shown}");
    Ok(())
}

#[tokio::test]
async fn no_remote_detached_and_not_a_repository() -> io::Result<()> {
    let dir = tempfile::tempdir()?;
    assert_eq!(standing_with(dir.path(), WAIT, Limits::USUAL).await, None);
    git(dir.path(), &["init", "-q"])?;
    assert_eq!(
        standing_with(dir.path(), WAIT, Limits::USUAL).await,
        None,
        "no commit yet"
    );
    commit(dir.path(), "first")?;
    let alone = standing_of(dir.path()).await?;
    assert_eq!(alone.state, SyncState::NoRemote);
    assert_eq!(alone.reach, Reach::NotTried);
    assert!(!alone.needs_push() && !alone.commit_on_remote);
    assert_eq!(
        alone.words(),
        "This repository has no remote: the commit is only on this computer."
    );
    let (pushed, _) = push_seen(dir.path()).await;
    assert_eq!(pushed.err(), Some(PushError::NoRemote));

    let world = World::new()?;
    git(&world.work, &["checkout", "-q", "--detach"])?;
    let detached = standing_of(&world.work).await?;
    assert_eq!(detached.state, SyncState::Detached);
    assert!(detached.commit_on_remote);
    assert!(!detached.needs_push());
    assert_eq!(detached.words(), "No branch is checked out; the commit is on origin.");
    let (pushed, _) = push_seen(&world.work).await;
    assert_eq!(pushed.err(), Some(PushError::NoBranch));
    Ok(())
}

#[test]
fn a_forge_remote_is_named_in_the_sentences() {
    let standing = RemoteStanding {
        remote: Some("origin".into()),
        remote_url: Some("git@github.com:acme/lettings.git".into()),
        upstream: Some("origin/main".into()),
        branch: Some("main".into()),
        state: SyncState::Ahead,
        ahead: 1,
        behind: 0,
        reach: Reach::Unreachable {
            why: "its address could not be found".into(),
            known_at: Some("2026-05-03T12:02:00Z".into()),
        },
        host: Some("GitHub".into()),
        commit_on_remote: false,
    };
    let words = standing.words();
    assert!(
        words.starts_with(
            "1 commit ahead of origin/main: it is not on GitHub yet. \
             Could not reach GitHub (its address could not be found); this is what was known at 3 May "
        ),
        "{words}"
    );
    let up_to_date = RemoteStanding {
        state: SyncState::UpToDate,
        ahead: 0,
        reach: Reach::Fetched { at: String::new() },
        ..standing.clone()
    };
    assert_eq!(up_to_date.words(), "Up to date with origin/main on GitHub.");
    // The wire's shape, as the plan and the ledger carry it.
    let wire = serde_json::to_value(&standing).unwrap_or_default();
    assert_eq!(wire["state"], "ahead");
    assert_eq!(wire["commitOnRemote"], false);
    assert_eq!(
        wire["reach"],
        serde_json::json!({"kind": "unreachable", "why": "its address could not be found", "knownAt": "2026-05-03T12:02:00Z"})
    );
    let back: Result<RemoteStanding, _> = serde_json::from_value(wire);
    assert_eq!(back.ok().as_ref(), Some(&standing));
    let app = AppError::from(PushError::NoPermission {
        place: "GitHub".into(),
        said: vec!["git@github.com: Permission denied (publickey).".into()],
    });
    assert_eq!(app.message, "GitHub did not let you push to this repository.");
    assert!(app.hint.contains("never with a token of its own"), "{}", app.hint);
    assert_eq!(host_of("https://github.com/acme/lettings").as_deref(), Some("GitHub"));
}

#[test]
fn refusals_are_read_from_gits_words() {
    let lines = |text: &str| text.lines().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        trouble(&lines(
            "ssh: Could not resolve hostname github.com: Name or service not known\n\
             fatal: Could not read from remote repository."
        )),
        Some(Trouble::Unreachable("its address could not be found".into()))
    );
    assert_eq!(
        trouble(&lines(
            "git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository."
        )),
        Some(Trouble::NoPermission)
    );
    assert_eq!(
        trouble(&lines(
            "fatal: could not read Username for 'https://github.com': terminal prompts disabled"
        )),
        Some(Trouble::NoPermission)
    );
    assert_eq!(
        trouble(&lines(
            "ERROR: Repository not found.\nfatal: Could not read from remote repository."
        )),
        Some(Trouble::NotFound)
    );
    assert_eq!(trouble(&lines("fatal: something new")), None);
    assert_eq!(
        last_word(&lines("hint: x\nfatal: something new\nhint: y")).as_deref(),
        Some("something new")
    );
    assert_eq!(
        clean_line("remote: main is frozen\u{1b}[K        \n", &[]).as_deref(),
        Some("remote: main is frozen")
    );
    assert_eq!(
        clean_line("Counting objects: 50%\rCounting objects: 100%\n", &[]).as_deref(),
        Some("Counting objects: 100%")
    );
    assert_eq!(
        clean_line("token tok-SECRET-1 here", &["tok-SECRET-1".into()]).as_deref(),
        Some("token [redacted] here")
    );
    assert_eq!(clean_line("   \n", &[]), None);
}
