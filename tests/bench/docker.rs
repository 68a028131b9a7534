//! Build and push the same context through Slipway and through the docker CLI, on the same
//! engine and registry, several times each; prints medians and the ratio.
//!
//! Needs the registry `scripts/test` starts: run it inside that environment, for example
//! `scripts/bench docker`.

#[path = "common.rs"]
mod common;

use common::median;

use std::process::Command;
use std::time::Instant;

use slipway::docker::{self, BuildRequest, RegistryCredentials};
use tokio_util::sync::CancellationToken;

fn context(run: usize) -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    std::fs::copy("/bin/busybox", dir.path().join("busybox"))?;
    // New bytes every run, so neither side is served from the build cache or the registry.
    let payload: Vec<u8> = (0..8 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2654435761).wrapping_add(run as u32) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("payload.bin"), payload)?;
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY payload.bin /payload.bin\nRUN [\"/bin/busybox\", \"sha256sum\", \"/payload.bin\"]\n",
    )?;
    Ok(dir)
}

fn run(command: &mut Command) -> Result<(), Box<dyn std::error::Error>> {
    let output = command.output()?;
    if !output.status.success() {
        return Err(format!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(5);
    let registry =
        std::env::var("SLIPWAY_TEST_REGISTRY").map_err(|_| "run inside the test environment (scripts/bench)")?;
    let user = std::env::var("SLIPWAY_TEST_REGISTRY_USER")?;
    let password = std::env::var("SLIPWAY_TEST_REGISTRY_PASSWORD")?;
    let docker_config = tempfile::tempdir()?;
    let mut login = Command::new("docker");
    login
        .env("DOCKER_CONFIG", docker_config.path())
        .args(["login", "--username", &user, "--password-stdin", &registry])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
    let mut child = login.spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        std::io::Write::write_all(&mut stdin, password.as_bytes())?;
    }
    if !child.wait()?.success() {
        return Err("docker login failed".into());
    }
    let engine = docker::connect()?;
    let (mut through, mut direct) = (Vec::new(), Vec::new());
    for index in 0..runs {
        let ctx = context(index * 2)?;
        let reference = docker::parse_reference(&format!("{registry}/bench/slipway:{index}"))?;
        let started = Instant::now();
        let request = BuildRequest {
            context: ctx.path().to_path_buf(),
            dockerfile: "Dockerfile".into(),
            tags: vec![reference.clone()],
            build_args: Default::default(),
            target: None,
            buildkit: Some(false),
        };
        docker::build(&engine, &request, &CancellationToken::new(), &|_| {}).await?;
        let credentials = RegistryCredentials {
            username: user.clone(),
            secret: password.clone(),
            server: registry.clone(),
        };
        docker::push(
            &docker::EngineEndpoint::from_env(),
            &reference,
            &credentials,
            &CancellationToken::new(),
            &|_| {},
        )
        .await?;
        through.push(started.elapsed());

        let ctx = context(index * 2 + 1)?;
        let tag = format!("{registry}/bench/cli:{index}");
        let started = Instant::now();
        run(Command::new("docker")
            .env("DOCKER_BUILDKIT", "0")
            .env("DOCKER_CONFIG", docker_config.path())
            .args(["build", "-q", "-t", &tag])
            .arg(ctx.path()))?;
        run(Command::new("docker")
            .env("DOCKER_CONFIG", docker_config.path())
            .args(["push", "-q", &tag]))?;
        direct.push(started.elapsed());
    }
    let (through, direct) = (median(through), median(direct));
    println!(
        "medians of {runs} runs; 8 MiB new layer + busybox, classic builder, push to a local registry with a password"
    );
    println!(
        "docker CLI {:.0} ms, Slipway {:.0} ms, ratio {:.3}",
        direct.as_secs_f64() * 1e3,
        through.as_secs_f64() * 1e3,
        through.as_secs_f64() / direct.as_secs_f64()
    );
    Ok(())
}
