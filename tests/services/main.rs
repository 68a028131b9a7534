//! The web API clients against local stand-ins that answer as `shared/contracts/` says.

#[path = "../support/standin.rs"]
mod standin;
#[path = "../support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use slipway::http::ApiError;
use slipway::secrets::Secret;
use standin::{render_stand_in, sentry_stand_in, Response, StandIn};
use support::TestResult;

#[tokio::test]
async fn render_keys_are_checked_and_services_read_across_pages() -> TestResult {
    let render = render_stand_in().await?;
    let base = format!("{}/v1", render.base);
    let client = slipway::render::RenderClient::new(&base, Secret::new("rnd_good".into()))?;
    let owners = client.owners().await?;
    assert_eq!(owners[0].name, "Ann's team");
    let services = client.services().await?;
    assert_eq!(services.len(), 130, "both pages");
    assert_eq!(services[129].image.as_deref(), Some("docker.io/ann/web-129:latest"));
    assert!(
        render
            .received()
            .iter()
            .any(|r| r.query("cursor").as_deref() == Some("s99")),
        "the second page was asked by cursor"
    );

    let bad = slipway::render::RenderClient::new(&base, Secret::new("rnd_wrong-key-8812".into()))?;
    let error = bad.owners().await.err().ok_or("a bad key must fail")?;
    assert!(matches!(error, ApiError::Unauthorized { .. }), "{error:?}");
    assert!(!format!("{error:?}").contains("rnd_wrong-key-8812"));

    let busy = slipway::render::RenderClient::new(&base, Secret::new("rnd_busy".into()))?;
    let started = Instant::now();
    assert_eq!(busy.owners().await?.len(), 1);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the 429's Ratelimit-Reset was waited for"
    );
    Ok(())
}

#[tokio::test]
async fn sentry_tokens_name_the_missing_scope() -> TestResult {
    let sentry = sentry_stand_in().await?;
    let base = format!("{}/api/0", sentry.base);
    let full = slipway::sentry_api::SentryClient::new(&base, Secret::new("sntrys_full".into()))?;
    let report = full.check_scopes("acme", "web").await?;
    assert!(report.missing.is_empty(), "{report:?}");
    assert_eq!(report.present.len(), 5);

    let partial = slipway::sentry_api::SentryClient::new(&base, Secret::new("sntrys_nowrite".into()))?;
    assert_eq!(partial.check_scopes("acme", "web").await?.missing, ["event:write"]);

    let wrong_org = full
        .check_scopes("nope", "web")
        .await
        .err()
        .ok_or("an unknown organization must fail")?;
    assert!(
        matches!(&wrong_org, ApiError::NotFound { what, .. } if what == "organization nope"),
        "{wrong_org:?}"
    );
    let bad = slipway::sentry_api::SentryClient::new(&base, Secret::new("sntrys_bad-4410".into()))?;
    assert!(matches!(
        bad.check_scopes("acme", "web").await,
        Err(ApiError::Unauthorized { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn sentry_projects_are_read_by_following_link_headers() -> TestResult {
    let sentry = sentry_stand_in().await?;
    let client =
        slipway::sentry_api::SentryClient::new(&format!("{}/api/0", sentry.base), Secret::new("sntrys_full".into()))?;
    let projects = client.projects("acme").await?;
    let slugs: Vec<&str> = projects.iter().map(|project| project.slug.as_str()).collect();
    assert_eq!(slugs, ["web-0", "web-1", "web-2", "web-3", "web-4", "web-5"]);
    let asked = sentry
        .received()
        .iter()
        .filter(|request| request.path() == "/api/0/organizations/acme/projects/")
        .count();
    assert_eq!(asked, 3, "the link saying results=\"false\" is not followed");
    Ok(())
}

#[tokio::test]
async fn circleci_tokens_are_checked_with_me() -> TestResult {
    let circle = StandIn::start(|request| match (request.path(), request.header("circle-token")) {
        ("/api/v2/me", Some("circle_good")) => Response::json(200, json!({"id": "u-1", "login": "ann", "name": "Ann"})),
        (_, _) => Response::json(401, json!({"message": "You must log in first."})),
    })
    .await?;
    let base = format!("{}/api/v2", circle.base);
    let user = slipway::circleci::me(&base, Secret::new("circle_good".into())).await?;
    assert_eq!(user.login, "ann");
    let error = slipway::circleci::me(&base, Secret::new("circle_wrong-6620".into()))
        .await
        .err()
        .ok_or("must fail")?;
    assert!(matches!(error, ApiError::Unauthorized { .. }));
    let shown: slipway::error::AppError = error.into();
    assert!(!shown.message.contains("circle_wrong-6620") && !shown.hint.contains("circle_wrong-6620"));
    Ok(())
}

fn jwt(claims: serde_json::Value) -> String {
    use base64::Engine;
    let encode = |value: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    format!(
        "{}.{}.signature",
        encode(&json!({"alg": "RS256", "typ": "JWT"})),
        encode(&claims)
    )
}

/// A registry with Docker Hub's token flow: the token for `pull,push` lists only what the
/// account may do, so a read-only token is found before any push.
#[tokio::test]
async fn a_read_only_token_is_found_before_any_push() -> TestResult {
    let realm = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let realm_for_server = realm.clone();
    let hub = StandIn::start(move |request| match request.path() {
        "/v2/" => Response::json(401, json!({"errors": [{"code": "UNAUTHORIZED"}]})).with_header(
            "www-authenticate",
            &format!(
                "Bearer realm=\"{}/token\",service=\"registry.test\"",
                realm_for_server.lock().map(|r| r.clone()).unwrap_or_default()
            ),
        ),
        "/token" => {
            use base64::Engine;
            let basic = request
                .header("authorization")
                .and_then(|v| v.strip_prefix("Basic "))
                .unwrap_or_default();
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(basic)
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let actions = match decoded.as_str() {
                "ann:dckr_pat_rw" => json!(["pull", "push"]),
                "ann:dckr_pat_ro" => json!(["pull"]),
                _ => return Response::json(401, json!({"details": "incorrect username or password"})),
            };
            let scope = request.query("scope").unwrap_or_default();
            let name = scope.split(':').nth(1).unwrap_or_default().to_owned();
            Response::json(
                200,
                json!({"token": jwt(json!({"access": [{"type": "repository", "name": name, "actions": actions}]}))}),
            )
        }
        _ => Response::json(404, json!({})),
    })
    .await?;
    if let Ok(mut value) = realm.lock() {
        *value = hub.base.clone();
    }
    let host = hub.base.trim_start_matches("http://").to_owned();
    assert!(slipway::registry::can_push(Some(&host), "ann/shop", "ann", "dckr_pat_rw").await?);
    assert!(!slipway::registry::can_push(Some(&host), "ann/shop", "ann", "dckr_pat_ro").await?);
    let wrong = slipway::registry::can_push(Some(&host), "ann/shop", "ann", "dckr_pat_nope").await;
    assert!(
        matches!(wrong, Err(slipway::registry::RegistryError::Auth(_))),
        "{wrong:?}"
    );
    let asked = hub
        .received()
        .into_iter()
        .find(|r| r.path() == "/token")
        .ok_or("no token request")?;
    assert_eq!(asked.query("scope").as_deref(), Some("repository:ann/shop:pull,push"));
    Ok(())
}

/// The wizard's registry step end to end: the real engine's login, the real registry's
/// upload check, the real keyring; a wrong token keeps nothing.
#[tokio::test]
async fn a_registry_login_is_checked_and_kept_in_the_keyring() -> TestResult {
    let registry = support::test_registry();
    let data = tempfile::tempdir()?;
    let wrong = slipway::accounts::connect_registry(
        data.path().to_path_buf(),
        &registry.address,
        &registry.user,
        "wrong-Pass-8341".into(),
        None,
    )
    .await;
    let error = wrong.err().ok_or("a wrong password must be refused")?;
    assert_eq!(error.kind, slipway::error::ErrorKind::RegistryAuth, "{error:?}");
    assert!(!error.message.contains("wrong-Pass-8341"));
    assert!(
        slipway::accounts::list(data.path().to_path_buf()).await?.is_empty(),
        "nothing kept"
    );

    let account = slipway::accounts::connect_registry(
        data.path().to_path_buf(),
        &registry.address,
        &registry.user,
        registry.password.clone(),
        Some(&format!("{}/slipway-test/wizard", registry.address)),
    )
    .await?;
    assert_eq!(account.scopes, ["pull", "push"]);
    assert!(account.verified_at.is_some());
    let stored = std::fs::read_to_string(data.path().join("accounts.json"))?;
    assert!(!stored.contains(&registry.password), "the account list holds no secret");
    let store = slipway::secrets::SecretStore::os(data.path());
    let kept = store.secret(slipway::secrets::Service::Registry, &registry.address)?;
    assert_eq!(kept.expose(), registry.password);
    let checks = slipway::accounts::check_all(data.path().to_path_buf(), &Default::default()).await?;
    assert!(checks.iter().all(|check| check.ok), "{checks:?}");
    slipway::accounts::remove(
        data.path().to_path_buf(),
        slipway::secrets::Service::Registry,
        registry.address.clone(),
    )
    .await?;
    assert!(store
        .secret(slipway::secrets::Service::Registry, &registry.address)
        .is_err());
    Ok(())
}

#[tokio::test]
async fn a_sentry_token_without_event_write_is_not_kept() -> TestResult {
    let _environment = support::test_registry();
    let sentry = sentry_stand_in().await?;
    let data = tempfile::tempdir()?;
    let base = format!("{}/api/0", sentry.base);
    let refused =
        slipway::accounts::connect_sentry(data.path().to_path_buf(), &base, "sntrys_nowrite".into(), "acme", "web")
            .await;
    let error = refused.err().ok_or("a token without event:write must be refused")?;
    assert!(error.message.contains("event:write"), "{}", error.message);
    assert!(slipway::accounts::list(data.path().to_path_buf()).await?.is_empty());
    let account =
        slipway::accounts::connect_sentry(data.path().to_path_buf(), &base, "sntrys_full".into(), "acme", "web")
            .await?;
    assert_eq!(account.scopes.len(), 5);
    assert_eq!(account.account, "acme/web");
    slipway::accounts::remove(
        data.path().to_path_buf(),
        slipway::secrets::Service::Sentry,
        "acme/web".into(),
    )
    .await?;
    Ok(())
}
