//! Reaching the team's PostgreSQL: its URL read as libpq reads it (`sslmode`, `sslrootcert`),
//! the password from the keyring (or the URL, for `SLIPWAY_HISTORY_URL`), TLS by rustls as the
//! rest of the app, and short time limits: a team server that does not answer must never
//! hold up a plan or a release for long.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, Config, NoTls};

use super::TeamError;
use crate::secrets::Secret;

/// How long connecting may take before the team's history counts as unreachable.
const CONNECT_LIMIT: Duration = Duration::from_secs(4);

/// The team's PostgreSQL, as the person gave it.
#[derive(Clone)]
pub struct TeamServer {
    config: Config,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// `host:port/database`: what sentences name, and what tells one team's history from another.
    place: String,
}

impl std::fmt::Debug for TeamServer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TeamServer")
            .field("place", &self.place)
            .finish()
    }
}

impl TeamServer {
    /// Reads `url` (`postgres://user@host:port/db?sslmode=verify-full&sslrootcert=ca.pem`);
    /// `password` is used when the URL carries none.
    pub fn new(url: &str, password: Option<&Secret>) -> Result<Self, TeamError> {
        let invalid = |why: String| TeamError::Url(why);
        let mut parsed = reqwest::Url::parse(url.trim()).map_err(|error| invalid(error.to_string()))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(invalid(format!(
                "it starts with {}: rather than postgres://",
                parsed.scheme()
            )));
        }
        let mut ssl_mode = "prefer".to_owned();
        let mut root_file = None;
        let mut query_password = None;
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .filter_map(|(name, value)| match name.as_ref() {
                "sslmode" => {
                    ssl_mode = value.into_owned();
                    None
                }
                "sslrootcert" => {
                    root_file = Some(PathBuf::from(value.as_ref()));
                    None
                }
                "password" => {
                    query_password = Some(value.into_owned());
                    None
                }
                _ => Some((name.into_owned(), value.into_owned())),
            })
            .collect();
        parsed.set_query(None);
        if !kept.is_empty() {
            parsed.query_pairs_mut().extend_pairs(kept);
        }
        let mut config = Config::from_str(parsed.as_str()).map_err(|error| invalid(error.to_string()))?;
        if config.get_password().is_none() {
            if let Some(password) = query_password.as_deref().or(password.map(Secret::expose)) {
                config.password(password);
            }
        }
        let tls = match ssl_mode.as_str() {
            "disable" | "allow" | "prefer" => None,
            // Encrypted means verified here: a certificate the person does not trust is refused
            // (give `sslrootcert` for a team's own authority).
            "require" | "verify-ca" | "verify-full" => Some(Arc::new(tls_config(root_file.as_deref())?)),
            other => return Err(invalid(format!("sslmode={other} is not one PostgreSQL knows"))),
        };
        config
            .ssl_mode(if tls.is_some() {
                SslMode::Require
            } else {
                SslMode::Disable
            })
            .connect_timeout(CONNECT_LIMIT)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(15))
            .keepalives_interval(Duration::from_secs(5))
            .keepalives_retries(3)
            // The server's side too: a machine that vanishes (a closed lid, a lost network) ends
            // its session, and its lock, within a minute rather than the system's two hours; a
            // lock wait or a transaction left open never holds the others up for long.
            .options(
                "-c tcp_keepalives_idle=15 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3 \
                 -c idle_in_transaction_session_timeout=30000 -c lock_timeout=10000 -c idle_session_timeout=0",
            )
            .application_name("slipway");
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
            Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
            None => "localhost".to_owned(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let database = config.get_dbname().or(config.get_user()).unwrap_or("postgres");
        let place = format!("{host}:{port}/{database}");
        Ok(Self { config, tls, place })
    }

    pub fn has_password(&self) -> bool {
        self.config.get_password().is_some()
    }

    /// `host:port/database`.
    pub fn place(&self) -> &str {
        &self.place
    }

    /// Who Slipway logs in as.
    pub fn user(&self) -> Option<&str> {
        self.config.get_user()
    }

    /// A new session; its connection runs on the calling runtime until the client is dropped.
    pub async fn connect(&self) -> Result<Client, TeamError> {
        let unreachable = |error: tokio_postgres::Error| TeamError::from_connect(&self.place, error);
        let limit = CONNECT_LIMIT + Duration::from_secs(1);
        let connected = match &self.tls {
            Some(tls) => {
                let maker = tokio_postgres_rustls::MakeRustlsConnect::new((**tls).clone());
                match tokio::time::timeout(limit, self.config.connect(maker)).await {
                    Ok(Ok((client, connection))) => {
                        tokio::spawn(connection);
                        client
                    }
                    Ok(Err(error)) => return Err(unreachable(error)),
                    Err(_) => return Err(TeamError::TimedOut(self.place.clone())),
                }
            }
            None => match tokio::time::timeout(limit, self.config.connect(NoTls)).await {
                Ok(Ok((client, connection))) => {
                    tokio::spawn(connection);
                    client
                }
                Ok(Err(error)) => return Err(unreachable(error)),
                Err(_) => return Err(TeamError::TimedOut(self.place.clone())),
            },
        };
        Ok(connected)
    }
}

/// rustls with the person's own authority (`sslrootcert`) or the system's.
fn tls_config(root_file: Option<&std::path::Path>) -> Result<rustls::ClientConfig, TeamError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    match root_file {
        Some(file) => {
            let unreadable = |error: String| TeamError::Certificate(format!("{}: {error}", file.display()));
            for cert in CertificateDer::pem_file_iter(file).map_err(|error| unreadable(error.to_string()))? {
                roots
                    .add(cert.map_err(|error| unreadable(error.to_string()))?)
                    .map_err(|error| unreadable(error.to_string()))?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|error| TeamError::Certificate(error.to_string()))
        .map(|builder| builder.with_root_certificates(roots).with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn the_url_is_read_as_libpq_reads_it_and_its_place_names_no_password() -> TestResult {
        let plain = TeamServer::new("postgres://ann:s3cret@db.example.com/team", None)?;
        assert_eq!(plain.place(), "db.example.com:5432/team");
        assert!(plain.has_password());
        assert!(
            plain.tls.is_none(),
            "no sslmode: plain, as libpq's default would try first"
        );
        assert!(!format!("{plain:?}").contains("s3cret"));

        let keyring = Secret::new("from-keyring".to_owned());
        let given = TeamServer::new(
            "postgresql://ann@10.0.0.5:6543/releases?application_name=x",
            Some(&keyring),
        )?;
        assert_eq!(given.place(), "10.0.0.5:6543/releases");
        assert_eq!(given.config.get_password(), Some("from-keyring".as_bytes()));
        assert_eq!(given.user(), Some("ann"));
        Ok(())
    }

    #[test]
    fn tls_is_verified_with_the_given_authority_and_a_missing_one_is_named() -> TestResult {
        let dir = tempfile::tempdir()?;
        let missing = dir.path().join("ca.pem");
        let refused = TeamServer::new(
            &format!(
                "postgres://ann@db/team?sslmode=verify-full&sslrootcert={}",
                missing.display()
            ),
            None,
        )
        .err()
        .ok_or("a missing authority file is refused")?;
        assert!(
            matches!(&refused, TeamError::Certificate(why) if why.contains("ca.pem")),
            "{refused}"
        );
        // `require` encrypts and verifies here (against the system's authorities).
        let required = TeamServer::new("postgres://ann@db/team?sslmode=require", None)?;
        assert!(required.tls.is_some());
        let unknown = TeamServer::new("postgres://ann@db/team?sslmode=sometimes", None).err();
        assert!(matches!(unknown, Some(TeamError::Url(why)) if why.contains("sometimes")));
        let wrong = TeamServer::new("mysql://ann@db/team", None).err();
        assert!(matches!(wrong, Some(TeamError::Url(why)) if why.contains("mysql")));
        Ok(())
    }
}
