//! What a project deploys to and reports to: its environments (this computer, and any number
//! of Render environments such as staging and production) and its Sentry project.
//!
//! Accounts are credentials shared by every project; links are the project's own and live in
//! its settings file. Nothing here reads the keyring: the pipeline joins a link with the
//! account that serves it when it needs to call the service. Environments form a chain in
//! the order they are listed, this computer first: a promotion ships what went live on one
//! environment to the next.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use crate::vocabulary::Target;

/// The name of the environment that is this computer.
pub const LOCAL: &str = "local";

/// The Render service an environment deploys to, as the person picked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RenderLink {
    /// `srv-…`.
    pub id: String,
    /// The service's name on Render ("lettings-web"), for the window to say.
    #[serde(default)]
    #[ts(optional)]
    pub name: Option<String>,
    /// The image the service is configured with (`docker.io/acme/lettings-web`): Render only
    /// accepts a new tag or digest of it.
    #[serde(default)]
    #[ts(optional)]
    pub image: Option<String>,
}

/// One place the project runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    /// The name the person chose ("staging", "production"); `local` is this computer.
    pub name: String,
    pub target: Target,
    /// The Render service (Render environments only).
    #[serde(default)]
    #[ts(optional)]
    pub render_service: Option<RenderLink>,
    /// `[registry/]namespace/name` this environment pushes to; `None` is the service's own
    /// image (Render), else the project's image name.
    #[serde(default)]
    #[ts(optional)]
    pub image_repository: Option<String>,
    /// The path that must answer before a deploy counts as live; `None` is the project's.
    #[serde(default)]
    #[ts(optional)]
    pub health_path: Option<String>,
    /// The environment its deploys are recorded under in Sentry; `None` is the project's
    /// setting, else the environment's name (`local` on this computer).
    #[serde(default)]
    #[ts(optional)]
    pub sentry_environment: Option<String>,
    /// Whether a release runs the built image on this computer first, as this environment
    /// will, before pushing it; `None`: on for production (see [`Environment::rehearses`]).
    #[serde(default)]
    #[ts(optional)]
    pub rehearse: Option<bool>,
    /// Roll back by itself when a release fails its live check, or when Sentry reports
    /// enough new issues soon after it went live; `None` (the default): never.
    #[serde(default)]
    #[ts(optional)]
    pub auto_rollback: Option<AutoRollback>,
}

/// When an environment rolls back by itself: a failed live check always; Sentry's new issues
/// when `new_issues` of them come within `minutes` of the release going live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AutoRollback {
    pub new_issues: u32,
    pub minutes: u32,
}

impl Environment {
    /// Whether releases to it are rehearsed: its setting, else on for a Render environment
    /// whose name says production (`production`, `prod`, `live`).
    pub fn rehearses(&self) -> bool {
        self.target == Target::Render && self.rehearse.unwrap_or_else(|| self.is_production())
    }

    /// Named as production is named.
    pub fn is_production(&self) -> bool {
        let name = self.name.trim().to_lowercase();
        name.starts_with("prod") || name == "live"
    }

    /// This computer, with the project's own settings.
    pub fn local() -> Self {
        Self {
            name: LOCAL.to_owned(),
            target: Target::Local,
            render_service: None,
            image_repository: None,
            health_path: None,
            sentry_environment: None,
            rehearse: None,
            auto_rollback: None,
        }
    }

    /// A Render environment named `name`, deploying to `service` (and by default pushing to
    /// the service's own image).
    pub fn render(name: &str, service: RenderLink) -> Self {
        Self {
            name: name.to_owned(),
            target: Target::Render,
            render_service: Some(service),
            image_repository: None,
            health_path: None,
            sentry_environment: None,
            rehearse: None,
            auto_rollback: None,
        }
    }

    pub fn service_id(&self) -> Option<&str> {
        self.render_service.as_ref().map(|service| service.id.as_str())
    }

    /// Its Render service as a sentence names it: "lettings-web", else "the Render service
    /// picked for production"; never its id, which only the technical details show.
    pub fn service_words(&self) -> String {
        self.render_service
            .as_ref()
            .and_then(|service| service.name.as_deref())
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map_or_else(|| format!("the Render service picked for {}", self.name), str::to_owned)
    }

    /// How the window and the plan name it: "this computer", or "production".
    pub fn label(&self) -> String {
        match self.target {
            Target::Local => "this computer".to_owned(),
            Target::Render => self.name.clone(),
        }
    }

    /// "lettings-web (production) on Render", or "this computer".
    pub fn describe(&self) -> String {
        match (&self.target, &self.render_service) {
            // Render's id is no name: without the service's name, the environment says it.
            (Target::Render, Some(service)) => match service.name.as_deref().filter(|name| !name.trim().is_empty()) {
                Some(name) => format!("{name} ({}) on Render", self.name),
                None => format!("{} on Render", self.name),
            },
            (Target::Render, None) => format!("{} on Render (no service picked)", self.name),
            (Target::Local, _) => "this computer".to_owned(),
        }
    }
}

/// The Sentry project a project reports to, through one connected Sentry account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SentryLink {
    /// The connected Sentry account whose token is used (its name in Settings → Accounts).
    pub account: String,
    pub organization: String,
    /// The project's slug.
    pub project: String,
}

impl SentryLink {
    /// `acme/lettings`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.organization, self.project)
    }
}

/// Why a change to a project's environments cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("an environment needs a name")]
    EmptyName,
    #[error("\"{0}\" is not a usable environment name: letters, digits, - and _ only, up to 40")]
    BadName(String),
    #[error("the project already has an environment named {0}")]
    Taken(String),
    #[error("the project has no environment named {0}")]
    Unknown(String),
    #[error("this computer is always an environment of the project: it cannot be removed or renamed")]
    LocalIsFixed,
    #[error("{service} is already the service of {environment}: two environments of one project never deploy to one service")]
    ServiceTwice { service: String, environment: String },
}

/// A name a person may give an environment: it is typed in the CLI and shown in History.
pub fn check_name(name: &str) -> Result<String, LinkError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(LinkError::EmptyName);
    }
    let fits = name.len() <= 40 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !fits {
        return Err(LinkError::BadName(name.to_owned()));
    }
    Ok(name.to_owned())
}

/// A project's environments in chain order (this computer first), and the default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Environments {
    /// Every environment but this computer's defaults, in chain order; a `local` entry here
    /// holds this computer's own overrides.
    #[serde(default)]
    pub list: Vec<Environment>,
    /// The environment Release goes to; `None` is the first Render environment, else this
    /// computer.
    #[serde(default)]
    #[ts(optional)]
    pub default: Option<String>,
}

impl Environments {
    /// Every environment in chain order: this computer first, then the others as listed.
    pub fn all(&self) -> Vec<Environment> {
        let local = self
            .list
            .iter()
            .find(|environment| environment.target == Target::Local)
            .cloned()
            .unwrap_or_else(Environment::local);
        std::iter::once(local)
            .chain(
                self.list
                    .iter()
                    .filter(|environment| environment.target == Target::Render)
                    .cloned(),
            )
            .collect()
    }

    pub fn find(&self, name: &str) -> Option<Environment> {
        let name = name.trim();
        self.all()
            .into_iter()
            .find(|environment| environment.name.eq_ignore_ascii_case(name))
    }

    /// The environment Release goes to when none is named.
    pub fn default_environment(&self) -> Environment {
        self.default
            .as_deref()
            .and_then(|name| self.find(name))
            .or_else(|| {
                self.all()
                    .into_iter()
                    .find(|environment| environment.target == Target::Render)
            })
            .unwrap_or_else(Environment::local)
    }

    /// The environment named `name`, or the one an older name meant: `render` is the default
    /// Render environment (or the only one), `local` this computer.
    pub fn resolve(&self, name: &str) -> Result<Environment, LinkError> {
        if let Some(found) = self.find(name) {
            return Ok(found);
        }
        if name.trim().eq_ignore_ascii_case("render") {
            let default = self.default_environment();
            if default.target == Target::Render {
                return Ok(default);
            }
            let renders: Vec<Environment> = self
                .all()
                .into_iter()
                .filter(|environment| environment.target == Target::Render)
                .collect();
            if let [only] = renders.as_slice() {
                return Ok(only.clone());
            }
        }
        Err(LinkError::Unknown(name.trim().to_owned()))
    }

    /// The environment after `name` in the chain: where a promotion from it goes.
    pub fn next_after(&self, name: &str) -> Option<Environment> {
        let all = self.all();
        let at = all
            .iter()
            .position(|environment| environment.name.eq_ignore_ascii_case(name))?;
        all.get(at + 1).cloned()
    }

    /// Where `name` stands in the chain (this computer is 0).
    pub fn position(&self, name: &str) -> Option<usize> {
        self.all()
            .iter()
            .position(|environment| environment.name.eq_ignore_ascii_case(name))
    }

    /// Adds a Render environment (or replaces this computer's overrides).
    pub fn add(&mut self, environment: Environment) -> Result<(), LinkError> {
        let name = check_name(&environment.name)?;
        if environment.target == Target::Local {
            if !name.eq_ignore_ascii_case(LOCAL) {
                return Err(LinkError::LocalIsFixed);
            }
            self.list.retain(|existing| existing.target != Target::Local);
            self.list.insert(0, Environment { name, ..environment });
            return Ok(());
        }
        if self.find(&name).is_some() {
            return Err(LinkError::Taken(name));
        }
        self.check_service(&name, environment.service_id())?;
        self.list.push(Environment { name, ..environment });
        Ok(())
    }

    /// Changes the environment named `name` with `change`; a rename is checked like a new name.
    pub fn update(&mut self, name: &str, change: impl FnOnce(&mut Environment)) -> Result<Environment, LinkError> {
        let Some(existing) = self.find(name) else {
            return Err(LinkError::Unknown(name.trim().to_owned()));
        };
        let mut changed = existing.clone();
        change(&mut changed);
        if changed.target != existing.target {
            return Err(LinkError::LocalIsFixed);
        }
        if existing.target == Target::Local && !changed.name.eq_ignore_ascii_case(LOCAL) {
            return Err(LinkError::LocalIsFixed);
        }
        changed.name = check_name(&changed.name)?;
        if !changed.name.eq_ignore_ascii_case(&existing.name) && self.find(&changed.name).is_some() {
            return Err(LinkError::Taken(changed.name));
        }
        if changed.service_id() != existing.service_id() {
            self.check_service(&existing.name, changed.service_id())?;
        }
        if existing.target == Target::Local {
            self.add(changed.clone())?;
            return Ok(changed);
        }
        if let Some(slot) = self
            .list
            .iter_mut()
            .find(|environment| environment.name.eq_ignore_ascii_case(&existing.name))
        {
            *slot = changed.clone();
        }
        if self
            .default
            .as_deref()
            .is_some_and(|default| default.eq_ignore_ascii_case(&existing.name))
        {
            self.default = Some(changed.name.clone());
        }
        Ok(changed)
    }

    /// Removes a Render environment; the default falls back when it was the one removed.
    pub fn remove(&mut self, name: &str) -> Result<Environment, LinkError> {
        let Some(existing) = self.find(name) else {
            return Err(LinkError::Unknown(name.trim().to_owned()));
        };
        if existing.target == Target::Local {
            return Err(LinkError::LocalIsFixed);
        }
        self.list
            .retain(|environment| !environment.name.eq_ignore_ascii_case(&existing.name));
        if self
            .default
            .as_deref()
            .is_some_and(|default| default.eq_ignore_ascii_case(&existing.name))
        {
            self.default = None;
        }
        Ok(existing)
    }

    pub fn set_default(&mut self, name: &str) -> Result<(), LinkError> {
        let found = self
            .find(name)
            .ok_or_else(|| LinkError::Unknown(name.trim().to_owned()))?;
        self.default = Some(found.name);
        Ok(())
    }

    /// One service is never the target of two environments of one project: a promotion
    /// from one to the other would deploy onto itself.
    fn check_service(&self, name: &str, service: Option<&str>) -> Result<(), LinkError> {
        let Some(service) = service else {
            return Ok(());
        };
        match self.all().into_iter().find(|environment| {
            environment.service_id() == Some(service) && !environment.name.eq_ignore_ascii_case(name)
        }) {
            // Said by the service's name; Render's id is no name for a person.
            Some(other) => Err(LinkError::ServiceTwice {
                service: other
                    .render_service
                    .and_then(|link| link.name)
                    .filter(|name| !name.trim().is_empty())
                    .unwrap_or_else(|| "That Render service".to_owned()),
                environment: other.name,
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(id: &str) -> RenderLink {
        RenderLink {
            id: id.to_owned(),
            name: Some(format!("{id}-name")),
            image: None,
        }
    }

    #[test]
    fn an_environment_is_described_by_the_services_name_never_its_id() {
        let named = Environment::render("production", service("srv-acc0000"));
        assert_eq!(named.describe(), "srv-acc0000-name (production) on Render");
        let unnamed = Environment::render(
            "production",
            RenderLink {
                id: "srv-acc0000".to_owned(),
                name: None,
                image: None,
            },
        );
        assert_eq!(unnamed.describe(), "production on Render");
        assert_eq!(Environment::local().describe(), "this computer");
    }

    #[test]
    fn the_chain_starts_on_this_computer_and_follows_the_list() -> Result<(), LinkError> {
        let mut environments = Environments::default();
        assert_eq!(environments.default_environment().target, Target::Local);
        environments.add(Environment::render("staging", service("srv-a")))?;
        environments.add(Environment::render("production", service("srv-b")))?;
        let names: Vec<String> = environments.all().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["local", "staging", "production"]);
        assert_eq!(
            environments.next_after("local").map(|e| e.name).as_deref(),
            Some("staging")
        );
        assert_eq!(
            environments.next_after("staging").map(|e| e.name).as_deref(),
            Some("production")
        );
        assert!(environments.next_after("production").is_none());
        assert_eq!(
            environments.default_environment().name,
            "staging",
            "the first Render one"
        );
        environments.set_default("production")?;
        assert_eq!(environments.default_environment().name, "production");
        assert_eq!(environments.resolve("render")?.name, "production");
        assert_eq!(environments.resolve("LOCAL")?.target, Target::Local);
        Ok(())
    }

    #[test]
    fn names_and_services_are_never_shared() -> Result<(), LinkError> {
        let mut environments = Environments::default();
        environments.add(Environment::render("staging", service("srv-a")))?;
        assert_eq!(
            environments.add(Environment::render("Staging", service("srv-c"))),
            Err(LinkError::Taken("Staging".into()))
        );
        let twice = environments.add(Environment::render("production", service("srv-a")));
        assert!(matches!(twice, Err(LinkError::ServiceTwice { .. })));
        let said = twice.err().map(|error| error.to_string()).unwrap_or_default();
        assert!(
            said.starts_with("srv-a-name is already the service of staging"),
            "{said}"
        );
        assert!(matches!(
            environments.add(Environment::render("prod uction", service("srv-b"))),
            Err(LinkError::BadName(_))
        ));
        assert_eq!(environments.remove("local"), Err(LinkError::LocalIsFixed));
        assert!(matches!(environments.resolve("qa"), Err(LinkError::Unknown(_))));
        Ok(())
    }

    #[test]
    fn a_rename_carries_the_default_and_a_removal_drops_it() -> Result<(), LinkError> {
        let mut environments = Environments::default();
        environments.add(Environment::render("staging", service("srv-a")))?;
        environments.add(Environment::render("production", service("srv-b")))?;
        environments.set_default("production")?;
        environments.update("production", |environment| environment.name = "live".into())?;
        assert_eq!(environments.default.as_deref(), Some("live"));
        environments.update("local", |environment| environment.health_path = Some("/health".into()))?;
        assert_eq!(environments.all()[0].health_path.as_deref(), Some("/health"));
        assert_eq!(environments.all().len(), 3, "local overrides add no environment");
        environments.remove("live")?;
        assert!(environments.default.is_none());
        assert_eq!(environments.default_environment().name, "staging");
        Ok(())
    }
}
