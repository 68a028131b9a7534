//! The web API clients against local stand-ins that answer as `shared/contracts/` says.

mod circle;
#[path = "../support/standin/mod.rs"]
mod standin;
#[path = "../support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use slipway::http::ApiError;
use slipway::secrets::Secret;
use standin::{
    render_stand_in, sentry_issues_stand_in, sentry_stand_in, EventShape, NewIssue, Response, SentryScenario, StandIn,
    SENTRY_DEEP_ISSUE, SENTRY_FIRST_RELEASE_ISSUE, SENTRY_MESSAGE_ISSUE, SENTRY_SECRET_ISSUE,
};
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
    // Read from the service's own `imagePath`, where the contract puts it.
    assert_eq!(services[129].image.as_deref(), Some("ann/web-129:latest"));
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
        slipway::secrets::SecretStore::os(data.path()),
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
        slipway::accounts::list(slipway::secrets::SecretStore::os(data.path()))
            .await?
            .is_empty(),
        "nothing kept"
    );

    let account = slipway::accounts::connect_registry(
        slipway::secrets::SecretStore::os(data.path()),
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
    let checks =
        slipway::accounts::check_all(slipway::secrets::SecretStore::os(data.path()), &Default::default()).await?;
    assert!(checks.iter().all(|check| check.ok), "{checks:?}");
    slipway::accounts::remove(
        slipway::secrets::SecretStore::os(data.path()),
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
    let refused = slipway::accounts::connect_sentry(
        slipway::secrets::SecretStore::os(data.path()),
        &base,
        "sntrys_nowrite".into(),
        "acme",
        "web",
    )
    .await;
    let error = refused.err().ok_or("a token without event:write must be refused")?;
    assert!(error.message.contains("event:write"), "{}", error.message);
    assert!(slipway::accounts::list(slipway::secrets::SecretStore::os(data.path()))
        .await?
        .is_empty());
    let account = slipway::accounts::connect_sentry(
        slipway::secrets::SecretStore::os(data.path()),
        &base,
        "sntrys_full".into(),
        "acme",
        "web",
    )
    .await?;
    assert_eq!(account.scopes.len(), 5);
    assert_eq!(account.account, "acme/web");
    slipway::accounts::remove(
        slipway::secrets::SecretStore::os(data.path()),
        slipway::secrets::Service::Sentry,
        "acme/web".into(),
    )
    .await?;
    Ok(())
}

/// A plain client for checking the Sentry issues stand-in itself (the project's clients retry).
fn plain_client() -> Result<reqwest::Client, reqwest::Error> {
    slipway::http::install_tls();
    reqwest::Client::builder().build()
}

/// The `rel` link of a Sentry `Link` header: (url, results, cursor).
fn sentry_rel(link: &str, rel: &str) -> Option<(String, String, String)> {
    link.split(", <")
        .find(|part| part.contains(&format!("rel=\"{rel}\"")))
        .map(|part| {
            let url = part
                .trim_start_matches('<')
                .split('>')
                .next()
                .unwrap_or_default()
                .to_owned();
            let attribute = |name: &str| {
                part.split(&format!("{name}=\""))
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or_default()
                    .to_owned()
            };
            (url, attribute("results"), attribute("cursor"))
        })
}

async fn sentry_get(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> Result<(u16, reqwest::header::HeaderMap, serde_json::Value), Box<dyn std::error::Error>> {
    let response = client.get(url).bearer_auth(token).send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await?;
    let body = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text)?
    };
    Ok((status, headers, body))
}

#[tokio::test]
async fn sentry_issues_pages_are_linked_as_sentry_links_them() -> TestResult {
    let sentry = sentry_issues_stand_in(SentryScenario::default()).await?;
    let client = plain_client()?;
    let list = format!("{}/api/0/organizations/acme/issues/", sentry.base);

    // Without `query`, the contract's default `is:unresolved` applies: 28 of the 36.
    let (status, headers, first) = sentry_get(&client, &format!("{list}?project=2&limit=25"), "sntrys_full").await?;
    assert_eq!(status, 200);
    assert_eq!(first.as_array().map(Vec::len), Some(25));
    assert!(first
        .as_array()
        .into_iter()
        .flatten()
        .all(|issue| issue["status"] == "unresolved"));
    let link = headers.get("link").ok_or("a Link header")?.to_str()?.to_owned();
    let (_, previous_results, previous_cursor) = sentry_rel(&link, "previous").ok_or("a previous link")?;
    assert_eq!(
        (previous_results.as_str(), previous_cursor.as_str()),
        ("false", "0:0:1"),
        "{link}"
    );
    let (next_url, next_results, next_cursor) = sentry_rel(&link, "next").ok_or("a next link")?;
    assert_eq!(
        (next_results.as_str(), next_cursor.as_str()),
        ("true", "0:25:0"),
        "{link}"
    );
    assert!(next_url.ends_with("?project=2&limit=25&cursor=0:25:0"), "{next_url}");
    assert!(
        link.starts_with('<') && link.contains("; rel=\"previous\"; results=\"false\"; cursor=\"0:0:1\", <"),
        "{link}"
    );

    let (_, headers, second) = sentry_get(&client, &next_url, "sntrys_full").await?;
    assert_eq!(second.as_array().map(Vec::len), Some(3));
    let link = headers.get("link").ok_or("a Link header")?.to_str()?.to_owned();
    assert_eq!(
        sentry_rel(&link, "next").map(|(_, results, _)| results).as_deref(),
        Some("false")
    );
    assert_eq!(
        sentry_rel(&link, "previous").map(|(_, results, _)| results).as_deref(),
        Some("true")
    );

    // An empty query is everything; the contract's field names and types.
    let (_, _, all) = sentry_get(&client, &format!("{list}?project=2&query="), "sntrys_full").await?;
    let all = all.as_array().ok_or("an array")?.clone();
    assert_eq!(all.len(), 36, "the default limit is 100");
    let issue = &all[0];
    assert_eq!(issue["id"], SENTRY_SECRET_ISSUE, "sort=date: last seen first");
    assert!(issue["count"].is_string() && issue["userCount"].is_u64(), "{issue}");
    assert_eq!(
        issue["project"],
        json!({"id": "2", "name": "web", "slug": "web", "platform": "python"})
    );
    assert_eq!(issue["metadata"]["type"], "KeyError");
    for field in [
        "shortId",
        "title",
        "culprit",
        "level",
        "status",
        "firstSeen",
        "lastSeen",
        "permalink",
    ] {
        assert!(issue[field].is_string(), "{field} in {issue}");
    }
    Ok(())
}

#[tokio::test]
async fn sentry_issues_status_and_release_queries_select() -> TestResult {
    let scenario = SentryScenario {
        first_release: "2.3.0".into(),
        ..SentryScenario::default()
    };
    let sentry = sentry_issues_stand_in(scenario).await?;
    let client = plain_client()?;
    let list = format!("{}/api/0/organizations/acme/issues/?project=2", sentry.base);
    let count = |body: &serde_json::Value| body.as_array().map_or(0, Vec::len);
    let (_, _, resolved) = sentry_get(&client, &format!("{list}&query=is%3Aresolved"), "sntrys_full").await?;
    assert_eq!(count(&resolved), 6);
    let (_, _, ignored) = sentry_get(&client, &format!("{list}&query=is:ignored"), "sntrys_full").await?;
    assert_eq!(count(&ignored), 2);
    let (_, _, first) = sentry_get(
        &client,
        &format!("{list}&query=is:unresolved+firstRelease:2.3.0"),
        "sntrys_full",
    )
    .await?;
    assert_eq!(first[0]["id"], SENTRY_FIRST_RELEASE_ISSUE);
    assert_eq!(count(&first), 1);
    let (_, _, words) = sentry_get(&client, &format!("{list}&query=recursion+depth"), "sntrys_full").await?;
    assert_eq!(words[0]["id"], SENTRY_DEEP_ISSUE);
    let (_, _, local) = sentry_get(&client, &format!("{list}&query=&environment=local"), "sntrys_full").await?;
    assert!(count(&local) > 0 && count(&local) < 36);
    let (_, _, by_users) = sentry_get(&client, &format!("{list}&query=&sort=user"), "sntrys_full").await?;
    let users: Vec<u64> = by_users
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["userCount"].as_u64())
        .collect();
    assert!(users.windows(2).all(|pair| pair[0] >= pair[1]), "{users:?}");
    let (status, _, error) = sentry_get(&client, &format!("{list}&query=is:sleeping"), "sntrys_full").await?;
    assert_eq!(status, 400, "{error}");
    let (status, _, _) = sentry_get(&client, &list, "sntrys_nope").await?;
    assert_eq!(status, 401);
    Ok(())
}

#[tokio::test]
async fn sentry_issues_bulk_resolve_then_list() -> TestResult {
    let scenario = SentryScenario::default();
    let handle = scenario.handle.clone();
    let sentry = sentry_issues_stand_in(scenario).await?;
    let client = plain_client()?;
    let issues = format!("{}/api/0/organizations/acme/issues/", sentry.base);
    let bulk = format!("{issues}?id={SENTRY_SECRET_ISSUE}&id={SENTRY_MESSAGE_ISSUE}");

    let refused = client
        .put(&bulk)
        .bearer_auth("sntrys_nowrite")
        .json(&json!({"status": "resolved"}))
        .send()
        .await?;
    assert_eq!(refused.status().as_u16(), 403);
    assert!(refused.text().await?.contains("\"detail\""));

    let resolved = client
        .put(&bulk)
        .bearer_auth("sntrys_full")
        .json(&json!({"status": "resolved"}))
        .send()
        .await?;
    assert_eq!(resolved.status().as_u16(), 200);
    let body: serde_json::Value = resolved.json().await?;
    assert_eq!(body["status"], "resolved", "{body}");
    assert_eq!(handle.issue_status(SENTRY_SECRET_ISSUE).as_deref(), Some("resolved"));

    let (_, _, open) = sentry_get(
        &client,
        &format!("{issues}?project=2&query=is:unresolved"),
        "sntrys_full",
    )
    .await?;
    assert_eq!(open.as_array().map(Vec::len), Some(26));
    let (_, _, detail) = sentry_get(&client, &format!("{issues}{SENTRY_MESSAGE_ISSUE}/"), "sntrys_full").await?;
    assert_eq!(detail["status"], "resolved");

    let nothing = client
        .put(format!("{issues}?id=424242"))
        .bearer_auth("sntrys_full")
        .json(&json!({"status": "ignored"}))
        .send()
        .await?;
    assert_eq!(nothing.status().as_u16(), 204, "no issue matched");
    let reopened = client
        .put(format!("{issues}{SENTRY_SECRET_ISSUE}/"))
        .bearer_auth("sntrys_full")
        .json(&json!({"status": "unresolved"}))
        .send()
        .await?;
    assert_eq!(reopened.status().as_u16(), 200);
    let issue: serde_json::Value = reopened.json().await?;
    assert_eq!(
        (issue["id"].as_str(), issue["status"].as_str()),
        (Some(SENTRY_SECRET_ISSUE), Some("unresolved"))
    );
    let (status, _, missing) = sentry_get(&client, &format!("{issues}424242/"), "sntrys_full").await?;
    assert_eq!(
        (status, missing),
        (404, json!({"detail": "The requested resource does not exist"}))
    );
    Ok(())
}

#[tokio::test]
async fn sentry_issues_events_have_the_documented_entries() -> TestResult {
    let scenario = SentryScenario::default();
    let handle = scenario.handle.clone();
    let sentry = sentry_issues_stand_in(scenario).await?;
    let client = plain_client()?;
    let issues = format!("{}/api/0/organizations/acme/issues/", sentry.base);

    let (_, _, event) = sentry_get(
        &client,
        &format!("{issues}{SENTRY_SECRET_ISSUE}/events/latest/"),
        "sntrys_full",
    )
    .await?;
    let entries = event["entries"].as_array().ok_or("entries")?;
    let kinds: Vec<&str> = entries.iter().filter_map(|entry| entry["type"].as_str()).collect();
    assert_eq!(kinds, ["exception", "breadcrumbs", "request"]);
    let frames = entries[0]["data"]["values"][0]["stacktrace"]["frames"]
        .as_array()
        .ok_or("frames")?;
    assert!(frames
        .iter()
        .any(|frame| frame["vars"]["password"] == "hunter2-sentry-secret"));
    assert!(frames[0]["context"][0][0].is_u64() && frames[0]["context"][0][1].is_string());
    assert!(event["nextEventID"].is_null() && event["previousEventID"].is_string());
    let previous = event["previousEventID"].as_str().ok_or("previous")?;
    let (status, _, older) = sentry_get(
        &client,
        &format!("{issues}{SENTRY_SECRET_ISSUE}/events/{previous}/"),
        "sntrys_full",
    )
    .await?;
    assert_eq!(
        (status, older["nextEventID"].as_str()),
        (200, event["eventID"].as_str())
    );

    let (_, _, message) = sentry_get(
        &client,
        &format!("{issues}{SENTRY_MESSAGE_ISSUE}/events/latest/"),
        "sntrys_full",
    )
    .await?;
    assert_eq!(message["entries"].as_array().map(Vec::len), Some(1));
    assert_eq!(message["entries"][0]["type"], "message");
    let (_, _, deep) = sentry_get(
        &client,
        &format!("{issues}{SENTRY_DEEP_ISSUE}/events/latest/"),
        "sntrys_full",
    )
    .await?;
    assert_eq!(
        deep["entries"][0]["data"]["values"][0]["stacktrace"]["frames"]
            .as_array()
            .map(Vec::len),
        Some(200)
    );

    // An issue added while the stand-in runs is listed, newest first.
    let added = handle.add_issue(NewIssue {
        title: "ImportError: cannot import name 'Basket'".into(),
        first_release: Some("3.1.0".into()),
        shape: EventShape::MessageOnly,
        ..NewIssue::default()
    });
    let (_, _, fresh) = sentry_get(
        &client,
        &format!("{issues}?project=2&query=firstRelease:3.1.0&statsPeriod=1h"),
        "sntrys_full",
    )
    .await?;
    assert_eq!(fresh.as_array().map(Vec::len), Some(1));
    assert_eq!(fresh[0]["id"].as_str(), Some(added.as_str()));
    let (_, _, detail) = sentry_get(&client, &format!("{issues}{added}/"), "sntrys_full").await?;
    assert_eq!(detail["firstRelease"]["version"], "3.1.0");
    Ok(())
}

#[tokio::test]
async fn sentry_issues_releases_answer_201_then_208_and_deploys_need_one() -> TestResult {
    let scenario = SentryScenario::default();
    let handle = scenario.handle.clone();
    let sentry = sentry_issues_stand_in(scenario).await?;
    let client = plain_client()?;
    let releases = format!("{}/api/0/organizations/acme/releases/", sentry.base);
    let release = json!({"version": "web@4.0.0+build.7", "projects": ["web"]});

    let created = client
        .post(&releases)
        .bearer_auth("sntrys_full")
        .json(&release)
        .send()
        .await?;
    assert_eq!(created.status().as_u16(), 201);
    let body: serde_json::Value = created.json().await?;
    assert_eq!(body["version"], "web@4.0.0+build.7");
    assert!(body["id"].is_u64() && body["projects"][0]["slug"] == "web", "{body}");
    let again = client
        .post(&releases)
        .bearer_auth("sntrys_full")
        .json(&release)
        .send()
        .await?;
    assert_eq!(again.status().as_u16(), 208);
    let missing = client
        .post(&releases)
        .bearer_auth("sntrys_full")
        .json(&json!({"version": "x"}))
        .send()
        .await?;
    assert_eq!(missing.status().as_u16(), 400, "projects is required");

    let deploy =
        json!({"environment": "production", "name": "web@4.0.0 to production", "url": "https://shop.example.test"});
    let unknown = client
        .post(format!("{releases}9.9.9/deploys/"))
        .bearer_auth("sntrys_full")
        .json(&deploy)
        .send()
        .await?;
    assert_eq!(unknown.status().as_u16(), 404);
    let recorded = client
        .post(format!("{releases}web%404.0.0%2Bbuild.7/deploys/"))
        .bearer_auth("sntrys_full")
        .json(&deploy)
        .send()
        .await?;
    assert_eq!(recorded.status().as_u16(), 201);
    let body: serde_json::Value = recorded.json().await?;
    assert_eq!(body["environment"], "production");
    assert!(
        body["id"].is_string() && body["dateFinished"].is_string() && body["dateStarted"].is_null(),
        "{body}"
    );

    let calls: Vec<u16> = handle.release_calls().iter().map(|call| call.status).collect();
    assert_eq!(calls, [201, 208, 400]);
    let deploys: Vec<(String, u16)> = handle
        .deploy_calls()
        .into_iter()
        .map(|call| (call.version, call.status))
        .collect();
    assert_eq!(
        deploys,
        [("9.9.9".to_owned(), 404), ("web@4.0.0+build.7".to_owned(), 201)]
    );
    assert!(
        handle.releases().contains(&"2.0.0".to_owned()),
        "the seed's versions exist"
    );
    Ok(())
}

#[tokio::test]
async fn sentry_issues_429s_carry_retry_after_and_rate_limit_headers() -> TestResult {
    let scenario = SentryScenario {
        rate_limited: 2,
        retry_after: 3,
        ..SentryScenario::default()
    };
    let handle = scenario.handle.clone();
    let sentry = sentry_issues_stand_in(scenario).await?;
    let client = plain_client()?;
    let url = format!("{}/api/0/organizations/acme/issues/?project=2", sentry.base);
    let header = |headers: &reqwest::header::HeaderMap, name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let now = chrono::Utc::now().timestamp();
    for _ in 0..2 {
        let (status, headers, body) = sentry_get(&client, &url, "sntrys_full").await?;
        assert_eq!(status, 429);
        assert!(body["detail"].is_string());
        assert_eq!(header(&headers, "retry-after").as_deref(), Some("3"));
        assert_eq!(header(&headers, "x-sentry-rate-limit-remaining").as_deref(), Some("0"));
        let reset: i64 = header(&headers, "x-sentry-rate-limit-reset").ok_or("reset")?.parse()?;
        assert!(reset >= now + 3 && reset <= now + 5, "{reset} vs {now}");
    }
    let (status, headers, _) = sentry_get(&client, &url, "sntrys_full").await?;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-sentry-rate-limit-limit").as_deref(), Some("40"));
    let remaining: u64 = header(&headers, "x-sentry-rate-limit-remaining")
        .ok_or("remaining")?
        .parse()?;
    assert!(remaining < 40);
    assert!(header(&headers, "retry-after").is_none());
    let (status, headers, _) = sentry_get(&client, &url, "sntrys_bad").await?;
    assert_eq!(status, 401);
    assert!(
        header(&headers, "x-sentry-rate-limit-reset").is_some(),
        "every answer carries them"
    );

    handle.rate_limit_next(1);
    assert_eq!(sentry_get(&client, &url, "sntrys_full").await?.0, 429);
    assert_eq!(sentry_get(&client, &url, "sntrys_full").await?.0, 200);
    Ok(())
}
