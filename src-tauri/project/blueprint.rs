//! `render.yaml`, Render's Blueprint: the web service's name, how it runs (an image, a
//! Dockerfile, or a native Python runtime), its health check path and the names of the
//! variables it sets. Slipway uses it to prefill what it would otherwise ask: the Local
//! target's health path, the Dockerfile when no CI builds one, and what to say when the
//! service is not one an image can be deployed to.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_norway::Value;
use ts_rs::TS;

use super::files::read_text;

/// The web service a `render.yaml` describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Blueprint {
    pub service_name: Option<String>,
    /// `docker`, `image`, `python`, … (`env:` in older Blueprints).
    pub runtime: Option<String>,
    pub health_check_path: Option<String>,
    pub dockerfile: Option<String>,
    pub docker_context: Option<String>,
    /// The image a `runtime: image` service runs.
    pub image_url: Option<String>,
    /// Names of the variables the service sets (never their values).
    pub env_names: Vec<String>,
}

impl Blueprint {
    /// A native runtime builds from source on Render: no image to deploy.
    pub fn is_native(&self) -> bool {
        self.runtime
            .as_deref()
            .is_some_and(|runtime| !matches!(runtime, "docker" | "image"))
    }
}

/// Reads the first web service of `render.yaml` in `root`, if there is one.
pub fn read_blueprint(root: &Path) -> Option<Blueprint> {
    let text = read_text(&root.join("render.yaml")).or_else(|| read_text(&root.join("render.yml")))?;
    let document: Value = serde_norway::from_str(&text).ok()?;
    let services = document.get("services")?.as_sequence()?;
    let service = services
        .iter()
        .find(|service| service.get("type").and_then(Value::as_str) == Some("web"))
        .or_else(|| services.first())?;
    let text = |key: &str| service.get(key).and_then(Value::as_str).map(str::to_owned);
    let trimmed = |path: Option<String>| path.map(|path| path.trim_start_matches("./").to_owned());
    Some(Blueprint {
        service_name: text("name"),
        runtime: text("runtime").or_else(|| text("env")),
        health_check_path: text("healthCheckPath"),
        dockerfile: trimmed(text("dockerfilePath")),
        docker_context: trimmed(text("dockerContext")),
        image_url: service
            .get("image")
            .and_then(|image| image.get("url"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        env_names: service
            .get("envVars")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|variable| variable.get("key").and_then(Value::as_str).map(str::to_owned))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_web_service_is_read() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("render.yaml"),
            "databases:\n  - name: db\nservices:\n  - type: worker\n    name: jobs\n  - type: web\n    name: lettings\n    runtime: docker\n    dockerfilePath: ./app/Dockerfile\n    dockerContext: ./app\n    healthCheckPath: /health/\n    envVars:\n      - key: DJANGO_SECRET_KEY\n        generateValue: true\n      - key: DATABASE_URL\n        fromDatabase:\n          name: db\n          property: connectionString\n",
        )?;
        let blueprint = read_blueprint(dir.path()).ok_or(std::io::Error::other("no blueprint"))?;
        assert_eq!(blueprint.service_name.as_deref(), Some("lettings"));
        assert_eq!(blueprint.health_check_path.as_deref(), Some("/health/"));
        assert_eq!(blueprint.dockerfile.as_deref(), Some("app/Dockerfile"));
        assert_eq!(blueprint.docker_context.as_deref(), Some("app"));
        assert_eq!(blueprint.env_names, ["DJANGO_SECRET_KEY", "DATABASE_URL"]);
        assert!(!blueprint.is_native());
        std::fs::write(
            dir.path().join("render.yaml"),
            "services:\n  - type: web\n    name: shop\n    env: python\n",
        )?;
        assert!(read_blueprint(dir.path()).is_some_and(|blueprint| blueprint.is_native()));
        Ok(())
    }
}
