//! The services a project's CI starts for its tests (a database, a cache), as the CI names
//! them: GitHub Actions' `services:`, CircleCI's secondary images, `docker compose up -d db`.
//! The checks start each one on the Docker Engine before the tests (`checks::services`); the
//! plan lists them. Kept apart from the CI reader and detection, which both use it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One service the tests need, as the CI starts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// The CI's name for it: the `services:` key or compose service (`postgres`, `db`), else
    /// the image's own name. The tests may use it as a host name (`postgres:5432`).
    pub name: String,
    pub image: String,
    /// The values the CI gives the service's container (`POSTGRES_PASSWORD`).
    pub env: BTreeMap<String, String>,
    /// The port it listens on in its container: the CI's, else the image's usual one; `None`
    /// reads the image's `EXPOSE` when it starts.
    pub port: Option<u16>,
    /// The port the CI publishes it on (`5432:5432`): tried first here, as the tests' own
    /// defaults often assume it.
    pub ci_port: Option<u16>,
    /// The CI's health command (`--health-cmd pg_isready`): the service is ready when it passes.
    pub health_cmd: Option<String>,
    /// The CI's variables that take the port the CI published it on
    /// (`${{ job.services.postgres.ports[5432] }}`): given the port it has here.
    pub port_variables: Vec<String>,
    /// Where it was found, in words: `.github/workflows/ci.yml (job test)`.
    pub source: String,
}

impl ServiceSpec {
    /// "postgres (postgres:15)", or just the image when the name is the image's own.
    pub fn words(&self) -> String {
        if self.image.starts_with(&self.name) {
            self.image.clone()
        } else {
            format!("{} ({})", self.name, self.image)
        }
    }
}

/// The image's name without registry, namespace or tag: `cimg/postgres:14.1` → `postgres`.
pub fn image_base_name(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split(':').next().unwrap_or(last)
}

/// The port the usual service images listen on, by the image's name.
pub fn usual_port(image: &str) -> Option<u16> {
    let name = image_base_name(image);
    let known: &[(&[&str], u16)] = &[
        (&["postgres", "postgis", "timescaledb"], 5432),
        (&["mysql", "mariadb", "percona"], 3306),
        (&["redis", "valkey", "keydb"], 6379),
        (&["mongo", "mongodb"], 27017),
        (&["memcached"], 11211),
        (&["rabbitmq"], 5672),
        (&["elasticsearch", "opensearch"], 9200),
    ];
    known
        .iter()
        .find(|(names, _)| {
            names
                .iter()
                .any(|known| name == *known || name.starts_with(&format!("{known}-")))
        })
        .map(|(_, port)| *port)
}

/// The address a project's tests would read for each service, by the variable that usually
/// holds it (`DATABASE_URL`, `REDIS_URL`), with the user, password and database the CI gives
/// the service: offered as test values. `localhost` and the CI's port are what the tests' CI
/// uses; the checks point them at where the service answers here.
pub fn test_urls(services: &[ServiceSpec]) -> BTreeMap<String, String> {
    let mut urls = BTreeMap::new();
    for service in services {
        let value = |name: &str| service.env.get(name).map(String::as_str);
        let port = service.ci_port.or(service.port);
        let Some(port) = port else { continue };
        let (variable, url) = match usual_port(&service.image) {
            Some(5432) => {
                let user = value("POSTGRES_USER").unwrap_or("postgres");
                let password = value("POSTGRES_PASSWORD").unwrap_or("");
                let database = value("POSTGRES_DB").unwrap_or(user);
                (
                    "DATABASE_URL",
                    format!("postgres://{user}:{password}@localhost:{port}/{database}"),
                )
            }
            Some(3306) => {
                let (user, password) = match value("MYSQL_USER") {
                    Some(user) => (user, value("MYSQL_PASSWORD").unwrap_or("")),
                    None => ("root", value("MYSQL_ROOT_PASSWORD").unwrap_or("")),
                };
                let database = value("MYSQL_DATABASE").unwrap_or("mysql");
                (
                    "DATABASE_URL",
                    format!("mysql://{user}:{password}@localhost:{port}/{database}"),
                )
            }
            Some(6379) => ("REDIS_URL", format!("redis://localhost:{port}/0")),
            _ => continue,
        };
        urls.entry(variable.to_owned()).or_insert(url);
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_service_offers_its_url_with_the_cis_user_and_database() {
        let service = |image: &str, env: &[(&str, &str)]| ServiceSpec {
            name: "db".into(),
            image: image.into(),
            env: env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            port: usual_port(image),
            ci_port: Some(5433),
            health_cmd: None,
            port_variables: Vec::new(),
            source: "ci.yml".into(),
        };
        let urls = test_urls(&[
            service("postgres:15", &[("POSTGRES_USER", "shop"), ("POSTGRES_PASSWORD", "pw")]),
            service("redis:7", &[]),
        ]);
        assert_eq!(
            urls.get("DATABASE_URL").map(String::as_str),
            Some("postgres://shop:pw@localhost:5433/shop")
        );
        assert_eq!(
            urls.get("REDIS_URL").map(String::as_str),
            Some("redis://localhost:5433/0")
        );
        assert!(test_urls(&[service("cimg/python:3.12", &[])]).is_empty());
    }

    #[test]
    fn images_are_known_by_their_own_name_under_any_namespace_and_tag() {
        assert_eq!(image_base_name("cimg/postgres:14.1"), "postgres");
        assert_eq!(image_base_name("registry.example:5000/team/redis:7@sha256:ab"), "redis");
        assert_eq!(usual_port("circleci/postgres:11-alpine"), Some(5432));
        assert_eq!(usual_port("postgis/postgis:16-3.4"), Some(5432));
        assert_eq!(usual_port("mariadb:11"), Some(3306));
        assert_eq!(usual_port("redis"), Some(6379));
        assert_eq!(usual_port("cimg/python:3.12"), None);
        assert_eq!(usual_port("postgresql-client"), None);
    }
}
