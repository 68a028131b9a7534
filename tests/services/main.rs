//! The web API clients against local stand-ins that answer as `shared/contracts/` says.

#[path = "../support/standin.rs"]
mod standin;
#[path = "../support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use slipway::http::ApiError;
use slipway::secrets::Secret;
use standin::{Request, Response, StandIn};
use support::TestResult;

fn bearer(request: &Request) -> &str {
    request
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default()
}

/// Render: `/v1/owners` and `/v1/services` with cursor pagination, 401 for a bad key, and a
/// 429 with `Ratelimit-Reset` before the first answer for the "busy" key.
async fn render_stand_in() -> std::io::Result<StandIn> {
    let busy_answered = std::sync::atomic::AtomicBool::new(false);
    StandIn::start(move |request| {
        let key = bearer(request);
        if key != "rnd_good" && key != "rnd_busy" {
            return Response::json(401, json!({"id": "unauthorized", "message": "unauthorized"}));
        }
        if key == "rnd_busy" && !busy_answered.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Response::json(429, json!({"id": "rate_limited", "message": "rate limit exceeded"}))
                .with_header("Ratelimit-Limit", "400")
                .with_header("Ratelimit-Remaining", "0")
                .with_header("Ratelimit-Reset", "1");
        }
        let limit: usize = request.query("limit").and_then(|l| l.parse().ok()).unwrap_or(20).clamp(1, 100);
        match request.path() {
            "/v1/owners" => Response::json(
                200,
                json!([{"owner": {"id": "tea-1", "name": "Ann's team", "email": "ann@example.test", "type": "team"}, "cursor": "o1"}]),
            ),
            "/v1/services" => {
                let start = request.query("cursor").and_then(|c| c.strip_prefix('s').and_then(|n| n.parse::<usize>().ok())).map_or(0, |n| n + 1);
                let page: Vec<serde_json::Value> = (start..130.min(start + limit))
                    .map(|n| {
                        json!({"service": {"id": format!("srv-{n}"), "name": format!("web-{n}"), "type": "web_service",
                            "serviceDetails": {"url": format!("https://web-{n}.example.test"), "image": {"imagePath": format!("docker.io/ann/web-{n}:latest")}}},
                            "cursor": format!("s{n}")})
                    })
                    .collect();
                Response::json(200, json!(page))
            }
            _ => Response::json(404, json!({"id": "not_found", "message": "not found"})),
        }
    })
    .await
}

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

/// Sentry: one cheap call per scope; a token without `event:write` is answered 403 there.
async fn sentry_stand_in() -> std::io::Result<StandIn> {
    StandIn::start(|request| {
        let scopes: &[&str] = match bearer(request) {
            "sntrys_full" => &[
                "org:read",
                "project:read",
                "project:releases",
                "event:read",
                "event:write",
            ],
            "sntrys_nowrite" => &["org:read", "project:read", "project:releases", "event:read"],
            _ => return Response::json(401, json!({"detail": "Invalid token"})),
        };
        let denied = Response::json(
            403,
            json!({"detail": "You do not have permission to perform this action."}),
        );
        let path = request.path();
        let needs = match (request.method.as_str(), path) {
            ("GET", "/api/0/organizations/acme/") => "org:read",
            ("GET", "/api/0/projects/acme/web/") => "project:read",
            ("GET", "/api/0/organizations/acme/releases/") => "project:releases",
            ("GET", "/api/0/organizations/acme/issues/") => "event:read",
            ("PUT", "/api/0/organizations/acme/issues/") => "event:write",
            _ => return Response::json(404, json!({"detail": "The requested resource does not exist"})),
        };
        if !scopes.contains(&needs) {
            return denied;
        }
        match needs {
            // Bulk mutate takes a JSON object body, as the contract says.
            "event:write"
                if serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&request.body).is_err() =>
            {
                Response::json(400, json!({"detail": "Invalid request body"}))
            }
            "event:write" => Response::empty(204),
            "org:read" => Response::json(200, json!({"id": "1", "slug": "acme", "name": "Acme"})),
            "project:read" => Response::json(200, json!({"id": "2", "slug": "web", "name": "web"})),
            _ => Response::json(200, json!([])),
        }
    })
    .await
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
