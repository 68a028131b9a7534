//! The services the CI starts for the tests (a database, a cache), started here before them:
//! each on the Docker Engine on a 127.0.0.1 port (the CI's own while free), with the CI's
//! values, waited for (its health command, else its port answering), and removed after the
//! checks whatever happened. The tests' values that point at a service (`localhost:5432`,
//! `postgres://…@postgres/db`, `DB_HOST=postgres`) are pointed at where it answers here.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bollard::Docker;
use regex::Regex;
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

use super::{CheckEvent, EventSink};
use crate::docker::{self, ContainerRun, ServiceHealth, ServiceRun, StartedService};
use crate::project::{ProjectSettings, ServiceSpec};

/// How long a service has to come up: a database's first start makes its cluster.
const READY_WITHIN: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(250);

/// One service, started.
struct Running {
    spec: ServiceSpec,
    started: StartedService,
}

/// The services of one run of the checks. [`Services::stop`] removes them; dropped without
/// it (the run itself was dropped), they are removed in the background, and what a killed
/// Slipway leaves is swept at the next start (`docker::sweep_services`).
pub(super) struct Services {
    docker: Docker,
    running: Vec<Running>,
}

/// Why the tests cannot run with their services, in a sentence.
pub(super) type ServiceProblem = String;

fn say(sink: &EventSink, message: String) {
    sink(CheckEvent::Setup { message });
}

impl Services {
    /// Starts every service and waits until each answers; on any failure the ones started
    /// are removed and the sentence says which service and why.
    pub(super) async fn start(
        specs: &[ServiceSpec],
        cancel: &CancellationToken,
        sink: &EventSink,
    ) -> Result<Services, ServiceProblem> {
        // This machine's engine, never the project's Docker context: the tests run here and
        // reach their services at 127.0.0.1.
        let docker = docker::connect().map_err(|error| engine_problem(specs, &error))?;
        let mut services = Services {
            docker,
            running: Vec::new(),
        };
        for spec in specs {
            match services.start_one(spec, sink).await {
                Ok(started) => services.running.push(Running {
                    spec: spec.clone(),
                    started,
                }),
                Err(problem) => {
                    services.stop().await;
                    return Err(problem);
                }
            }
        }
        let began = Instant::now();
        let deadline = began + READY_WITHIN;
        for index in 0..services.running.len() {
            if let Err(problem) = services.wait_ready(index, deadline, cancel).await {
                services.stop().await;
                return Err(problem);
            }
            let running = &services.running[index];
            say(sink, ready_words(running, began.elapsed()));
        }
        Ok(services)
    }

    async fn start_one(&self, spec: &ServiceSpec, sink: &EventSink) -> Result<StartedService, ServiceProblem> {
        let words = spec.words();
        let present = docker::has_image(&self.docker, &spec.image)
            .await
            .map_err(|error| engine_problem(std::slice::from_ref(spec), &error))?;
        if !present {
            say(sink, format!("Fetching {} for the service {}…", spec.image, spec.name));
            docker::fetch_image(&self.docker, &spec.image)
                .await
                .map_err(|error| missing_image(spec, &error.to_string()))?;
        }
        say(
            sink,
            format!("Starting {words} for the tests, as your CI does ({}).", spec.source),
        );
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "slipway-service-{}-{}-{}",
            container_word(&spec.name),
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let run = ServiceRun {
            service: spec.name.clone(),
            image: spec.image.clone(),
            env: spec.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            port: spec.port,
            preferred_host_port: spec.ci_port.or(spec.port),
            health_cmd: spec.health_cmd.clone(),
        };
        docker::start_service(&self.docker, &name, &run)
            .await
            .map_err(|error| format!("The service {words} could not be started: {error}."))
    }

    /// Waits for the service at `index`: its health command passing, else its port answering.
    async fn wait_ready(
        &self,
        index: usize,
        deadline: Instant,
        cancel: &CancellationToken,
    ) -> Result<(), ServiceProblem> {
        let running = &self.running[index];
        let words = running.spec.words();
        loop {
            if cancel.is_cancelled() {
                return Err(format!("Cancelled while {words} was starting."));
            }
            let health = docker::service_health(&self.docker, &running.started.id)
                .await
                .map_err(|error| format!("The service {words} could not be asked how it is: {error}."))?;
            let ready = match health {
                ServiceHealth::Healthy => true,
                ServiceHealth::Ended(run) => {
                    return Err(format!(
                        "The service {words} stopped before it was ready ({}).{}",
                        ended_words(run),
                        self.last_lines(running).await
                    ))
                }
                ServiceHealth::Starting | ServiceHealth::Unhealthy => {
                    running.spec.health_cmd.is_none() && answers(running.started.host_port).await
                }
            };
            if ready {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let how = match &running.spec.health_cmd {
                    Some(command) => format!("its health command `{command}` never passed"),
                    None => format!("its port {} never answered", running.started.port),
                };
                return Err(format!(
                    "The service {words} did not come up within {} s: {how}.{}",
                    READY_WITHIN.as_secs(),
                    self.last_lines(running).await
                ));
            }
            tokio::select! {
                () = cancel.cancelled() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    async fn last_lines(&self, running: &Running) -> String {
        let logs = docker::container_logs(&self.docker, &running.started.id, 8).await;
        let logs = logs.trim();
        if logs.is_empty() {
            String::new()
        } else {
            format!(" Its last lines:\n{logs}")
        }
    }

    /// A service that is no longer running or no longer answers, in a sentence: the tests'
    /// failures are then its. The engine may not have seen a killed one end yet: its port,
    /// closed, says so first.
    pub(super) async fn down(&self) -> Option<ServiceProblem> {
        for running in &self.running {
            let why = match docker::service_health(&self.docker, &running.started.id).await {
                Ok(ServiceHealth::Ended(run)) => ended_words(run),
                _ if !answers(running.started.host_port).await => "it stopped answering".to_owned(),
                _ => continue,
            };
            return Some(format!(
                "The service {} stopped during the tests ({why}), so their failures may be its.{}",
                running.spec.words(),
                self.last_lines(running).await
            ));
        }
        None
    }

    /// A service that answers elsewhere than on its CI's port, which something else holds
    /// here, in a sentence: tests whose settings name that port reached the other program.
    pub(super) fn moved(&self) -> Option<String> {
        self.running.iter().find_map(|running| {
            let ci_port = running.spec.ci_port?;
            (ci_port != running.started.host_port).then(|| {
                format!(
                    "{} answered on 127.0.0.1:{} because another program holds port {ci_port} here; tests whose settings name {ci_port} without reading it from the environment reached that program instead. Stop it, or let the settings read the port from the environment.",
                    running.spec.words(),
                    running.started.host_port
                )
            })
        })
    }

    /// The settings the tests and gates run with: their values pointed at the services.
    pub(super) fn point(&self, settings: &ProjectSettings) -> ProjectSettings {
        let addresses: Vec<Address> = self
            .running
            .iter()
            .map(|running| Address {
                name: &running.spec.name,
                image: &running.spec.image,
                port: running.started.port,
                ci_port: running.spec.ci_port,
                host_port: running.started.host_port,
            })
            .collect();
        let mut pointed = settings.clone();
        pointed.env = point_values(&settings.env, &addresses);
        for gate in &mut pointed.gates {
            gate.env = point_values(&gate.env, &addresses);
        }
        for running in &self.running {
            for variable in &running.spec.port_variables {
                pointed
                    .env
                    .insert(variable.clone(), running.started.host_port.to_string());
            }
        }
        pointed
    }

    /// Removes every service container.
    pub(super) async fn stop(mut self) {
        for running in std::mem::take(&mut self.running) {
            if let Err(error) = docker::remove_container(&self.docker, &running.started.id).await {
                tracing::warn!(%error, service = running.spec.name, "a service container could not be removed");
            }
        }
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        let ids: Vec<String> = self.running.drain(..).map(|running| running.started.id).collect();
        if ids.is_empty() {
            return;
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let docker = self.docker.clone();
            handle.spawn(async move {
                for id in ids {
                    let _ = docker::remove_container(&docker, &id).await;
                }
            });
        }
    }
}

/// At start: removes the service containers a Slipway on this machine that is no longer
/// running left behind (killed during its checks), as `look_after_children` ends its
/// processes. An engine that does not answer within seconds is left for next time.
pub async fn remove_orphaned_services() {
    let Ok(engine) = docker::connect() else {
        return;
    };
    let swept = tokio::time::timeout(Duration::from_secs(5), docker::sweep_services(&engine)).await;
    if let Ok(Err(error)) = swept {
        tracing::warn!(%error, "could not look for service containers a stopped Slipway left");
    }
}

fn ready_words(running: &Running, after: Duration) -> String {
    let Running { spec, started } = running;
    let moved = match spec.ci_port {
        Some(ci_port) if ci_port != started.host_port => format!(
            " (your CI uses port {ci_port}, which is taken here: values that name it are pointed at {}; settings that assume {ci_port} without reading it from the environment will not reach it)",
            started.host_port
        ),
        _ => String::new(),
    };
    format!(
        "{} answers on 127.0.0.1:{} after {:.1} s{moved}.",
        spec.words(),
        started.host_port,
        after.as_secs_f64()
    )
}

fn ended_words(run: ContainerRun) -> String {
    match run {
        ContainerRun::Exited(code) => format!("exit code {code}"),
        ContainerRun::Running | ContainerRun::Stopped => "it was stopped".to_owned(),
    }
}

/// A service's name as part of a container name: letters, digits, `-`, `_`, `.`.
fn container_word(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn engine_problem(specs: &[ServiceSpec], error: &docker::DockerError) -> ServiceProblem {
    let names: Vec<String> = specs.iter().map(ServiceSpec::words).collect();
    format!(
        "The tests need {}, which your CI starts, and Docker could not start it: {error}. Start Docker, then run the checks again.",
        names.join(" and ")
    )
}

fn missing_image(spec: &ServiceSpec, why: &str) -> ServiceProblem {
    let lower = why.to_lowercase();
    let reason = if [
        "no such host",
        "dial tcp",
        "lookup ",
        "network is unreachable",
        "timeout",
    ]
    .iter()
    .any(|sign| lower.contains(sign))
    {
        "this computer could not reach the image's registry (is it offline?)"
    } else if ["not found", "manifest unknown", "does not exist"]
        .iter()
        .any(|sign| lower.contains(sign))
    {
        "the registry has no image by that name"
    } else if ["unauthorized", "denied", "authentication"]
        .iter()
        .any(|sign| lower.contains(sign))
    {
        "the registry wants a sign-in for it"
    } else {
        "Docker could not download it"
    };
    format!(
        "The tests need {}, which your CI starts, and its image {} is not on this computer: {reason}. Once online, check again (Slipway downloads it), or load the image into Docker. Docker said: {why}",
        spec.name, spec.image
    )
}

/// Whether something listens on 127.0.0.1:`port`. The engine's proxy accepts a connection
/// even while nothing listens in the container, then closes it at once: a connection that
/// stays open (the server waits for the client, as PostgreSQL and Redis do) or that the
/// server speaks on first (MySQL) is a service listening.
async fn answers(port: u16) -> bool {
    let connect = tokio::net::TcpStream::connect(("127.0.0.1", port));
    let Ok(Ok(mut stream)) = tokio::time::timeout(Duration::from_secs(1), connect).await else {
        return false;
    };
    let mut byte = [0u8; 1];
    match tokio::time::timeout(Duration::from_millis(300), stream.read(&mut byte)).await {
        Err(_) => true,
        Ok(Ok(read)) => read > 0,
        Ok(Err(_)) => false,
    }
}

/// A started service, as the values that point at it are rewritten.
struct Address<'a> {
    name: &'a str,
    image: &'a str,
    /// Its port in its container: what `postgres:5432` names.
    port: u16,
    /// The port the CI publishes it on: what `localhost:5433` names there.
    ci_port: Option<u16>,
    host_port: u16,
}

impl Address<'_> {
    /// The ports a value may name it by.
    fn ports(&self) -> impl Iterator<Item = u16> + '_ {
        std::iter::once(self.port).chain(self.ci_port.filter(|port| *port != self.port))
    }
}

/// The URL schemes that name a service of this image's kind.
fn schemes(image: &str) -> &'static [&'static str] {
    match crate::project::usual_port(image) {
        Some(5432) => &["postgres", "postgresql", "postgis", "pgsql"],
        Some(3306) => &["mysql", "mariadb", "mysql2"],
        Some(6379) => &["redis", "rediss"],
        Some(27017) => &["mongodb"],
        Some(5672) => &["amqp"],
        _ => &[],
    }
}

/// `values` with each one that points at a service pointed at where it answers here.
fn point_values(values: &BTreeMap<String, String>, services: &[Address]) -> BTreeMap<String, String> {
    values
        .iter()
        .map(|(name, value)| (name.clone(), point_value(name, value, services)))
        .collect()
}

/// One value pointed at the services: `host:port` (`localhost:5432`, `postgres:5432`), a URL
/// of the service's kind with no port (`postgres://u:p@db/app`), a host variable holding the
/// service's name (`DB_HOST=postgres`), and a port variable holding its port (`DB_PORT=5432`).
fn point_value(name: &str, value: &str, services: &[Address]) -> String {
    let upper = name.to_ascii_uppercase();
    let mut value = value.to_owned();
    for service in services {
        let hosts = format!(
            "localhost|127\\.0\\.0\\.1|0\\.0\\.0\\.0|{}",
            regex::escape(service.name)
        );
        let target = format!("127.0.0.1:{}", service.host_port);
        let ports: Vec<String> = service.ports().map(|port| port.to_string()).collect();
        if let Ok(host_port) = Regex::new(&format!(r"\b(?:{hosts}):(?:{})\b", ports.join("|"))) {
            value = host_port.replace_all(&value, target.as_str()).into_owned();
        }
        for scheme in schemes(service.image) {
            let url = format!(r"^({scheme}://(?:[^@/\s]*@)?)(?:{hosts})(/|\?|$)");
            if let Ok(url) = Regex::new(&url) {
                value = url.replace(&value, format!("${{1}}{target}${{2}}")).into_owned();
            }
        }
        if upper.contains("HOST") && value == service.name {
            value = "127.0.0.1".to_owned();
        }
    }
    let same_port: Vec<&Address> = services
        .iter()
        .filter(|service| service.ports().any(|port| value == port.to_string()))
        .collect();
    if let [service] = same_port.as_slice() {
        if upper.contains("PORT") {
            value = service.host_port.to_string();
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn postgres(host_port: u16) -> Address<'static> {
        Address {
            name: "db",
            image: "postgres:15",
            port: 5432,
            ci_port: Some(5433),
            host_port,
        }
    }

    #[test]
    fn values_that_point_at_a_service_are_pointed_at_its_port_here() {
        let services = [
            postgres(55001),
            Address {
                name: "redis",
                image: "redis:7",
                port: 6379,
                ci_port: None,
                host_port: 55002,
            },
        ];
        let point = |name: &str, value: &str| point_value(name, value, &services);
        assert_eq!(
            point("DATABASE_URL", "postgres://app:secret@localhost:5432/app"),
            "postgres://app:secret@127.0.0.1:55001/app"
        );
        assert_eq!(
            point("DATABASE_URL", "postgresql://app@db/app?sslmode=disable"),
            "postgresql://app@127.0.0.1:55001/app?sslmode=disable"
        );
        assert_eq!(point("REDIS_URL", "redis://redis:6379/0"), "redis://127.0.0.1:55002/0");
        assert_eq!(point("DB_HOST", "db"), "127.0.0.1");
        assert_eq!(point("DB_PORT", "5432"), "55001");
        // The port the CI publishes it on names it too.
        assert_eq!(
            point("DATABASE_URL", "postgres://app@localhost:5433/app"),
            "postgres://app@127.0.0.1:55001/app"
        );
        assert_eq!(point("DB_PORT", "5433"), "55001");
        // Not a service's: left as it is.
        assert_eq!(point("DB_NAME", "db"), "db");
        assert_eq!(point("WORKERS", "5432"), "5432");
        assert_eq!(
            point("API_URL", "http://localhost:8000/api"),
            "http://localhost:8000/api"
        );
        assert_eq!(point("OTHER", "localhost:54321"), "localhost:54321");
    }

    #[test]
    fn a_service_on_its_ci_port_keeps_its_values_whole() {
        let services = [postgres(5432)];
        assert_eq!(
            point_value("DATABASE_URL", "postgres://u:p@localhost:5432/t", &services),
            "postgres://u:p@127.0.0.1:5432/t"
        );
        assert_eq!(point_value("DB_PORT", "5432", &services), "5432");
    }

    #[tokio::test]
    async fn a_port_answers_only_while_something_listens() -> std::io::Result<()> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        // Accepts and holds the connection, as a database waiting for its client does.
        let held = tokio::spawn(async move { listener.accept().await.map(|(stream, _)| stream) });
        assert!(answers(port).await);
        drop(held);
        // Accepts and closes at once, as the engine's proxy does while nothing listens inside.
        let closing = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let closing_port = closing.local_addr()?.port();
        tokio::spawn(async move {
            while let Ok((stream, _)) = closing.accept().await {
                drop(stream);
            }
        });
        assert!(!answers(closing_port).await);
        Ok(())
    }
}
