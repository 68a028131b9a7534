//! A private PostgreSQL server for a test, from Debian's `postgresql-15` package: `initdb` into a
//! temporary folder, a free port of 127.0.0.1, a login `slipway` with a random password checked
//! with scram-sha-256, and (when asked) TLS with a certificate authority made for the test.
//!
//! ```ignore
//! let pg = PgServer::start(PgOptions { tls: true })?;
//! pg.create_database("team")?;
//! let url = pg.url_with_password("team"); // for SLIPWAY_HISTORY_URL
//! assert_eq!(pg.psql("team", "SELECT count(*) FROM releases")?, "1");
//! ```
//!
//! The server refuses to run as root, so as root every server program runs as the `postgres`
//! user through `runuser`, and the temporary folder belongs to it. The superuser `postgres` is
//! reached with `psql` over the unix socket inside that folder (trusted: only its owner and root
//! can open it); the `slipway` login only over TCP with its password, as the app connects.
//! Dropping the server stops it at once and removes the folder, also when the test panicked.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error>;

const BIN: &str = "/usr/lib/postgresql/15/bin";
/// The login the app uses.
pub const USER: &str = "slipway";
/// How long a start may take before the test fails with the server's log.
const START_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug, Default)]
pub struct PgOptions {
    /// Connections over TCP only with TLS, with a certificate for 127.0.0.1 and localhost
    /// signed by a certificate authority made for this server.
    pub tls: bool,
}

pub struct PgServer {
    dir: tempfile::TempDir,
    port: u16,
    password: String,
    tls: bool,
    /// As root, the `postgres` account the server programs run as.
    run_as_postgres: bool,
}

impl PgServer {
    /// A new cluster, started and accepting the `slipway` login.
    pub fn start(options: PgOptions) -> Result<Self, Error> {
        let dir = tempfile::Builder::new().prefix("slipway-pg-").tempdir()?;
        let run_as_postgres = std::fs::metadata("/proc/self")?.uid() == 0;
        let server = Self {
            port: free_port()?,
            password: random_hex(18)?,
            tls: options.tls,
            run_as_postgres,
            dir,
        };
        std::fs::create_dir(server.socket_dir())?;
        if server.tls {
            server.make_certificates()?;
        }
        if run_as_postgres {
            // The server's files, its socket folder and its key belong to it, as it demands.
            chown_to_postgres(server.dir.path())?;
        }
        server.initdb()?;
        server.start_again()?;
        server.psql(
            "postgres",
            &format!("CREATE ROLE {USER} LOGIN PASSWORD '{}'", server.password),
        )?;
        Ok(server)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    /// The certificate authority a client must trust (with `tls` only).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server's log, for a failing test's message.
    pub fn log_file(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// `postgres://slipway@127.0.0.1:PORT/dbname`, without the password; with TLS, asking for
    /// the server's certificate to be checked against the test's authority.
    pub fn url(&self, database: &str) -> String {
        self.url_for(USER, database)
    }

    /// The same URL with the password in it.
    pub fn url_with_password(&self, database: &str) -> String {
        self.url_for(&format!("{USER}:{}", self.password), database)
    }

    fn url_for(&self, login: &str, database: &str) -> String {
        let base = format!("postgres://{login}@127.0.0.1:{}/{database}", self.port);
        if self.tls {
            format!("{base}?sslmode=verify-full&sslrootcert={}", self.ca_file().display())
        } else {
            base
        }
    }

    /// A database owned by `slipway`, so the app can make its tables in it.
    pub fn create_database(&self, name: &str) -> Result<(), Error> {
        self.psql("postgres", &format!("CREATE DATABASE \"{name}\" OWNER {USER}"))?;
        Ok(())
    }

    /// Runs `sql` in `database` as the superuser over the unix socket; what psql printed,
    /// unaligned and without headers (`a|b` per row, one row a line), trimmed.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String, Error> {
        let output = self
            .server_command("psql")
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-U", "postgres"])
            .arg("-h")
            .arg(self.socket_dir())
            .args(["-p", &self.port.to_string(), "-d", database, "-c", sql])
            .output()?;
        let output = succeeded(output, &format!("psql {sql:?}"))?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// The server stops (open sessions end) and its port refuses connections; its data stays.
    pub fn stop(&self) -> Result<(), Error> {
        let output = self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "fast", "-w", "stop"])
            .output()?;
        succeeded(output, "pg_ctl stop")?;
        Ok(())
    }

    /// Starts the server on its port and data (first start, or after `stop`), and waits until
    /// it accepts connections.
    pub fn start_again(&self) -> Result<(), Error> {
        let output = self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_file())
            .args(["-W", "start"])
            .output()?;
        succeeded(output, "pg_ctl start")?;
        let started = Instant::now();
        loop {
            let ready = Command::new(format!("{BIN}/pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string(), "-t", "1"])
                .status()?;
            if ready.success() {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "PostgreSQL did not accept connections on 127.0.0.1:{} within {} s; its log: {}\n{}",
                    self.port,
                    START_TIMEOUT.as_secs(),
                    self.log_file().display(),
                    std::fs::read_to_string(self.log_file()).unwrap_or_default()
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn socket_dir(&self) -> PathBuf {
        self.dir.path().join("socket")
    }

    /// One of PostgreSQL's programs, run as `postgres` when the test runs as root.
    fn server_command(&self, program: &str) -> Command {
        let program = format!("{BIN}/{program}");
        if self.run_as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--", &program]);
            command
        } else {
            Command::new(program)
        }
    }

    fn initdb(&self) -> Result<(), Error> {
        let output = self
            .server_command("initdb")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
            .output()?;
        succeeded(output, "initdb")?;
        // TCP only with the password (and only over TLS when asked); the unix socket, in a
        // folder only the server's owner can open, for the test's superuser.
        let host = if self.tls { "hostssl" } else { "host" };
        std::fs::write(
            self.data_dir().join("pg_hba.conf"),
            format!("local all all trust\n{host} all all 127.0.0.1/32 scram-sha-256\n"),
        )?;
        let mut conf = format!(
            "\n# The test's server\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n\
             password_encryption = 'scram-sha-256'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
            self.port,
            self.socket_dir().display()
        );
        if self.tls {
            conf.push_str(&format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                self.dir.path().join("server.pem").display(),
                self.dir.path().join("server.key").display()
            ));
        }
        let config = self.data_dir().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&config)?;
        text.push_str(&conf);
        std::fs::write(&config, text)?;
        Ok(())
    }

    /// A certificate authority and a server certificate for 127.0.0.1 and localhost signed by
    /// it, made with the `openssl` CLI: what a team with a self-signed server hands its people.
    fn make_certificates(&self) -> Result<(), Error> {
        let dir = self.dir.path();
        let openssl = |args: &[&str]| -> Result<(), Error> {
            let output = Command::new("openssl").current_dir(dir).args(args).output()?;
            succeeded(
                output,
                &format!("openssl {}", args.first().copied().unwrap_or_default()),
            )?;
            Ok(())
        };
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        openssl(
            &[
                &["req", "-x509", "-days", "2", "-subj", "/CN=Slipway test authority"][..],
                &key,
                &["-keyout", "ca.key", "-out", "ca.pem"],
                &["-addext", "basicConstraints=critical,CA:TRUE"],
                &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ]
            .concat(),
        )?;
        openssl(
            &[
                &["req", "-subj", "/CN=localhost"][..],
                &key,
                &["-keyout", "server.key", "-out", "server.csr"],
            ]
            .concat(),
        )?;
        std::fs::write(
            dir.join("server.ext"),
            "basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n\
             extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1, DNS:localhost\n",
        )?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ])?;
        // The server refuses a key others can read.
        std::fs::set_permissions(
            dir.join("server.key"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )?;
        Ok(())
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // A failing test shows what the server refused: its errors are the first clue.
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.log_file()).unwrap_or_default();
            let errors: Vec<&str> = log
                .lines()
                .filter(|line| {
                    ["ERROR:", "FATAL:", "STATEMENT:", "DETAIL:"]
                        .iter()
                        .any(|mark| line.contains(mark))
                })
                .collect();
            eprintln!("the test's PostgreSQL said:\n{}", errors.join("\n"));
        }
        // At once: a test that failed waits for nothing. The folder goes with `dir`.
        let stopped = self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        if !matches!(&stopped, Ok(output) if output.status.success()) && self.is_running() {
            eprintln!("the test's PostgreSQL on port {} could not be stopped", self.port);
        }
    }
}

impl PgServer {
    /// Whether the server's process is still there (its pid file names a live process).
    fn is_running(&self) -> bool {
        std::fs::read_to_string(self.data_dir().join("postmaster.pid"))
            .ok()
            .and_then(|text| text.lines().next().map(str::to_owned))
            .is_some_and(|pid| Path::new("/proc").join(pid.trim()).exists())
    }
}

fn succeeded(output: Output, what: &str) -> Result<Output, Error> {
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!(
            "{what} failed with {}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        )
        .into())
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn random_hex(bytes: usize) -> std::io::Result<String> {
    use std::io::Read;
    let mut buffer = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buffer)?;
    Ok(buffer.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Gives `dir` and everything below it to the `postgres` account.
fn chown_to_postgres(dir: &Path) -> Result<(), Error> {
    let output = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(dir)
        .output()?;
    succeeded(output, "chown")?;
    Ok(())
}
