//! A team's Slipway: one history and one release lock on a real PostgreSQL, shared by Slipway
//! processes that each have a data folder of their own (two people, two machines), and the
//! real engine, registry and keyring that `scripts/test` starts.
//!
//! Each test has its own PostgreSQL (`support/postgres.rs`) and its own copy of the example
//! project; a person is a `Member`: a data folder, a login (`USER`, which Slipway records as
//! who released) and a machine (the host name, set in a UTS namespace of the process's own
//! with `unshare`, as Slipway reads the machine from the host name), and the team's URL in
//! `SLIPWAY_HISTORY_URL`.

#[path = "../support/postgres.rs"]
mod postgres;
#[path = "../support/standin/mod.rs"]
mod standin;
#[path = "../support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use postgres::{PgOptions, PgServer};
use support::{slipway_binary, test_registry, TestResult};

type Error = Box<dyn std::error::Error>;

/// The database the team's history lives in.
const DATABASE: &str = "team";

/// A team: its PostgreSQL and one copy of the example project every member releases.
struct Team {
    /// Dropped first: the project's containers go even when the test failed.
    _containers: support::ProjectContainers,
    pg: PgServer,
    root: PathBuf,
    dirs: tempfile::TempDir,
}

impl Team {
    fn start(name: &str, options: PgOptions) -> Result<Self, Error> {
        Self::start_with(name, options, |_| Ok(()))
    }

    /// A team whose project has `change` applied before its commit.
    fn start_with(
        name: &str,
        options: PgOptions,
        change: impl FnOnce(&Path) -> std::io::Result<()>,
    ) -> Result<Self, Error> {
        let pg = PgServer::start(options)?;
        pg.create_database(DATABASE)?;
        let dirs = tempfile::tempdir()?;
        let root = support::example_project(dirs.path(), name, change)?;
        Ok(Self {
            _containers: support::ProjectContainers(slipway::project::project_id(&root)),
            pg,
            root,
            dirs,
        })
    }

    /// A person of the team on `machine` who connected to the team's history as the docs say
    /// (`slipway history connect URL --password-stdin`: the URL in the settings, the password
    /// in the keyring), with a data folder of their own whose settings use the shared
    /// virtualenv and whose keyring holds the test registry's login.
    fn member(&self, user: &str, machine: &str) -> Result<Member, Error> {
        let member = self.member_alone(user, machine)?;
        member.connect(&self.pg.url(DATABASE), self.pg.password())?;
        Ok(member)
    }

    /// The same, not connected to the team's history (yet).
    fn member_alone(&self, user: &str, machine: &str) -> Result<Member, Error> {
        let data = self.dirs.path().join(format!("data-{user}-{machine}"));
        std::fs::create_dir_all(&data)?;
        let registry = test_registry();
        support::save_registry_login(&data, &registry, &registry.password)?;
        let mut settings = slipway::project::ProjectSettings::from_detection(&slipway::project::detect(&self.root));
        settings.venv = Some(support::shared_venv()?.display().to_string());
        settings.health_timeout_secs = Some(20);
        slipway::project::save_settings(&data, &self.root, &settings)?;
        Ok(Member {
            user: user.to_owned(),
            machine: machine.to_owned(),
            data,
            url: None,
            root: self.root.clone(),
            target: "local".to_owned(),
        })
    }

    /// What psql reads in the team's database.
    fn sql(&self, query: &str) -> Result<String, Error> {
        self.pg.psql(DATABASE, query)
    }

    /// What the team's database holds of release `id`: its rows, steps, log lines and
    /// results, as `releases|steps|lines|results`.
    fn held_of(&self, id: &str) -> Result<String, Error> {
        self.sql(&format!(
            "SELECT (SELECT count(*) FROM releases WHERE id = '{id}'), (SELECT count(*) FROM steps WHERE release_id = '{id}'), \
             (SELECT count(*) FROM step_logs WHERE release_id = '{id}'), (SELECT count(*) FROM step_results WHERE release_id = '{id}')"
        ))
    }
}

/// One person on one machine.
#[derive(Clone)]
struct Member {
    user: String,
    machine: String,
    data: PathBuf,
    /// `SLIPWAY_HISTORY_URL`, which wins over the settings; `None`: the settings decide.
    url: Option<String>,
    root: PathBuf,
    /// The environment `release` releases to.
    target: String,
}

impl Member {
    /// `slipway args` as this person on their machine. `unshare` and the shell both `exec`,
    /// so the child's pid is Slipway's own (a kill reaches it, as a machine that dies).
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("unshare");
        command
            .args(["--uts", "sh", "-c", "hostname \"$0\" && exec \"$@\"", &self.machine])
            .arg(slipway_binary())
            .args(args)
            .env("SLIPWAY_DATA_DIR", &self.data)
            .env("SLIPWAY_LOCAL_REGISTRY", test_registry().address)
            .env("USER", &self.user)
            .env_remove("SENTRY_DSN")
            .stdin(Stdio::null());
        match &self.url {
            Some(url) => command.env("SLIPWAY_HISTORY_URL", url),
            None => command.env_remove("SLIPWAY_HISTORY_URL"),
        };
        command
    }

    /// `slipway history connect URL --password-stdin`, the password piped in.
    fn connect(&self, url: &str, password: &str) -> Result<(), Error> {
        use std::io::Write;
        let mut child = self
            .command(&["history", "connect", url, "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .ok_or("stdin is piped")?
            .write_all(password.as_bytes())?;
        let output = child.wait_with_output()?;
        if !output.status.success() {
            return Err(format!(
                "slipway history connect failed: {}{}",
                text(&output.stdout),
                text(&output.stderr)
            )
            .into());
        }
        let settings = std::fs::read_to_string(self.data.join("settings.json"))?;
        if settings.contains(password) {
            return Err(format!("the password is in settings.json: {settings}").into());
        }
        Ok(())
    }

    fn run(&self, args: &[&str]) -> std::io::Result<Output> {
        self.command(args).output()
    }

    /// What this machine's copy of the team's history holds of release `id`, counted as
    /// `Team::held_of` counts (the copy is the one `team-*.sqlite3` in the data folder).
    fn kept_of(&self, id: &str) -> Result<String, Error> {
        let copies: Vec<PathBuf> = std::fs::read_dir(&self.data)?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| {
                let name = path
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default();
                name.starts_with("team-") && name.ends_with(".sqlite3")
            })
            .collect();
        let [copy] = copies.as_slice() else {
            return Err(format!("one copy of the team's history in {}: {copies:?}", self.data.display()).into());
        };
        let local = rusqlite::Connection::open_with_flags(copy, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let count = |query: &str| -> rusqlite::Result<i64> { local.query_row(query, [id], |row| row.get(0)) };
        Ok(format!(
            "{}|{}|{}|{}",
            count("SELECT count(*) FROM releases WHERE id = ?1")?,
            count("SELECT count(*) FROM steps WHERE release_id = ?1")?,
            count("SELECT count(*) FROM step_logs WHERE release_id = ?1")?,
            count("SELECT count(*) FROM step_results WHERE release_id = ?1")?
        ))
    }

    fn project(&self) -> String {
        self.root.display().to_string()
    }

    /// `slipway release` of the team's project to this machine.
    fn release(&self, extra: &[&str]) -> std::io::Result<Output> {
        let project = self.project();
        let mut args = vec!["release", "--project", &project, "--target", &self.target];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// A release started in the background; returned once it printed a line starting with
    /// `marker` (its tests running, say), with the rest of its output still to read.
    fn release_until(&self, marker: &str, extra: &[&str]) -> Result<Running, Error> {
        let project = self.project();
        let mut args = vec!["release", "--project", &project, "--target", &self.target];
        args.extend_from_slice(extra);
        let mut child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("stdout is piped")?;
        // Read aside, so a full stderr pipe never stalls the release.
        let mut stderr = child.stderr.take().ok_or("stderr is piped")?;
        let stderr = std::thread::spawn(move || {
            let mut said = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut said);
            said
        });
        let mut running = Running {
            child,
            lines: BufReader::new(stdout).lines(),
            seen: Vec::new(),
            stderr: Some(stderr),
        };
        while let Some(line) = running.lines.next() {
            let line = line?;
            let found = line.starts_with(marker);
            running.seen.push(line);
            if found {
                return Ok(running);
            }
        }
        let (_, stdout, stderr) = running.finish()?;
        Err(format!("the release ended before {marker:?}: {stdout}\n{stderr}").into())
    }

    /// The releases `slipway history --json` lists, with `extra` filters.
    fn history(&self, extra: &[&str]) -> Result<Vec<serde_json::Value>, Error> {
        let mut args = vec!["history", "--json"];
        args.extend_from_slice(extra);
        let output = self.run(&args)?;
        if !output.status.success() {
            return Err(format!(
                "slipway history failed: {}{}",
                text(&output.stdout),
                text(&output.stderr)
            )
            .into());
        }
        let releases: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        Ok(releases.as_array().cloned().unwrap_or_default())
    }
}

/// A release running in the background.
struct Running {
    child: Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    seen: Vec<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Running {
    /// Reads its output to the end and waits for it: how it ended, its whole standard output
    /// and its standard error.
    fn finish(mut self) -> Result<(std::process::ExitStatus, String, String), Error> {
        for line in self.lines.by_ref() {
            self.seen.push(line?);
        }
        let status = self.child.wait()?;
        let stderr = self
            .stderr
            .take()
            .and_then(|reading| reading.join().ok())
            .unwrap_or_default();
        Ok((status, self.seen.join("\n"), stderr))
    }

    /// SIGKILL, as a machine that dies.
    fn kill(mut self) -> Result<(), Error> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A test that failed half-way leaves no release running behind it.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A command of Slipway's that must have ended well; its output is the failure's message.
#[track_caller]
fn assert_succeeded(output: &std::process::Output) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Holds the project's tests (see `test_file`) while it is alive: a port of 127.0.0.1 that
/// accepts connections. The sandbox hides `/tmp` from the tests but shares the network, so a
/// port is what reaches them. Once dropped, the port refuses and the tests pass at once (for
/// every later release too).
struct Hold {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    accepting: Option<std::thread::JoinHandle<()>>,
}

impl Hold {
    fn new() -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        // Accepted and closed at once: an unaccepted backlog would fill and refuse early.
        let accepting = std::thread::spawn(move || {
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                if listener.accept().is_err() {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        });
        Ok(Self {
            port,
            stop,
            accepting: Some(accepting),
        })
    }

    /// A test file for the project whose one test waits while the hold lasts.
    fn test_file(&self) -> String {
        format!(
            "import socket\nimport time\n\n\ndef test_held_by_the_team_test():\n    while True:\n        try:\n            \
             socket.create_connection((\"127.0.0.1\", {}), timeout=1).close()\n        except OSError:\n            \
             return\n        time.sleep(0.2)\n",
            self.port
        )
    }

    /// The tests go on.
    fn release(mut self) {
        self.end();
    }

    fn end(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.end();
    }
}

mod history;
mod lock;
mod outage;
mod server;
mod tls;
