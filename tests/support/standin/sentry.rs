//! Sentry: the token check of the accounts wizard (`sentry_stand_in`) and the issues
//! simulator (`sentry_issues_stand_in`): an organization with projects, issues, events,
//! releases and deploys, search, pagination and rate limits, as the contracts describe them.

use std::sync::{Arc, Mutex};

use serde_json::json;

use super::http::{bearer, percent_decode, Request, Response, StandIn};

/// The scopes of the stand-ins' Sentry tokens: `sntrys_full` has every one Slipway uses,
/// `sntrys_nowrite` all but `event:write`; any other token none (401).
fn sentry_scopes(request: &Request) -> Option<&'static [&'static str]> {
    match bearer(request) {
        "sntrys_full" => Some(&[
            "org:read",
            "project:read",
            "project:releases",
            "event:read",
            "event:write",
        ]),
        "sntrys_nowrite" => Some(&["org:read", "project:read", "project:releases", "event:read"]),
        _ => None,
    }
}

/// Sentry: one cheap call per scope; a token without `event:write` is answered 403 there.
pub async fn sentry_stand_in() -> std::io::Result<StandIn> {
    StandIn::start(|request| {
        let Some(scopes) = sentry_scopes(request) else {
            return Response::json(401, json!({"detail": "Invalid token"}));
        };
        let denied = Response::json(
            403,
            json!({"detail": "You do not have permission to perform this action."}),
        );
        let path = request.path();
        // Three pages of projects, linked as Sentry links them: a next link always, with
        // `results="true"` only while there is more.
        if path == "/api/0/organizations/acme/projects/" {
            let page: usize = request
                .query("cursor")
                .and_then(|cursor| cursor.split(':').nth(1).and_then(|n| n.parse().ok()))
                .unwrap_or(0);
            let host = request.header("host").unwrap_or("127.0.0.1");
            let link = |n: usize, more: bool| {
                format!("<http://{host}/api/0/organizations/acme/projects/?per_page=100&cursor=0:{n}:0>; rel=\"next\"; results=\"{more}\"; cursor=\"0:{n}:0\"")
            };
            let projects: Vec<serde_json::Value> = (0..2)
                .map(|i| json!({"id": format!("{}", page * 2 + i), "slug": format!("web-{}", page * 2 + i), "name": format!("Web {}", page * 2 + i), "platform": "python"}))
                .collect();
            return Response::json(200, json!(projects)).with_header("Link", &link(page + 1, page + 1 < 3));
        }
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

// ---------------------------------------------------------------------------------------------
// Sentry issues: one organization `acme` (id "1") with projects `web` (id "2", every seeded issue) and `shop` (id "3"), a mutable
// set of issues, their events, releases and deploys, as `shared/contracts/sentry-openapi.json`
// and the contracts README describe them.

/// Versions that seed issues were first seen in (besides the scenario's `first_release`).
const SENTRY_SEED_RELEASES: [&str; 3] = ["1.0.0", "1.1.0", "1.2.0"];
/// Seed issue whose latest event has an exception entry with a frame whose `vars` holds
/// `"password": "hunter2-sentry-secret"`.
pub const SENTRY_SECRET_ISSUE: &str = "1001";
/// Seed issue whose latest event has only a `message` entry (no exception, no frames).
pub const SENTRY_MESSAGE_ISSUE: &str = "1002";
/// Seed issue whose latest event has a 200-frame stack trace.
pub const SENTRY_DEEP_ISSUE: &str = "1003";
/// Seed issue whose `firstRelease` is the scenario's `first_release`.
pub const SENTRY_FIRST_RELEASE_ISSUE: &str = "1004";
/// The documented default rate limit: 40 requests per one-second window.
const SENTRY_RATE_LIMIT: u64 = 40;

/// The shape of an issue's events. `entries` is untyped in the contract; these follow the
/// contract's example event (`exception`, `breadcrumbs`, `request` entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventShape {
    /// An `exception` entry (3 Python frames, the middle one with `vars.password`), plus
    /// `breadcrumbs` and `request` entries.
    Exception,
    /// Only a `message` entry: the client must cope with no exception and no frames.
    MessageOnly,
    /// An `exception` entry whose stack trace has this many frames, plus breadcrumbs and request.
    DeepStack(usize),
}

/// An issue a test adds while the stand-in runs ([`SentryHandle::add_issue`]).
#[derive(Debug, Clone)]
pub struct NewIssue {
    /// For exception shapes `"<Type>: <value>"` (split into `metadata.type`/`metadata.value`).
    pub title: String,
    pub culprit: String,
    /// One of the contract's levels: `fatal`, `error`, `warning`, `info`, `debug`, ...
    pub level: String,
    /// `unresolved`, `resolved` or `ignored`.
    pub status: String,
    /// The release the issue was first seen in (also its only release); `None` for no release.
    pub first_release: Option<String>,
    pub environments: Vec<String>,
    pub count: u64,
    pub user_count: u64,
    pub shape: EventShape,
}

impl Default for NewIssue {
    fn default() -> Self {
        Self {
            title: "ValueError: new issue".into(),
            culprit: "shop.views.new in handler".into(),
            level: "error".into(),
            status: "unresolved".into(),
            first_release: None,
            environments: vec!["production".into()],
            count: 1,
            user_count: 1,
            shape: EventShape::Exception,
        }
    }
}

/// One `POST organizations/acme/releases/` as received, and how it was answered (201, 208, 400).
#[derive(Debug, Clone)]
pub struct ReleaseCall {
    pub version: Option<String>,
    pub projects: Vec<String>,
    pub status: u16,
    /// The request body as JSON (`Null` when it was not JSON).
    pub body: serde_json::Value,
}

/// One `POST organizations/acme/releases/{version}/deploys/` as received, and its answer
/// (201, 400, 404). `version` is the path segment, percent-decoded.
#[derive(Debug, Clone)]
pub struct DeployCall {
    pub version: String,
    pub environment: Option<String>,
    pub status: u16,
    pub body: serde_json::Value,
}

#[derive(Debug, Clone)]
struct IssueRecord {
    number: u64,
    title: String,
    culprit: String,
    level: String,
    status: String,
    status_details: serde_json::Value,
    substatus: Option<String>,
    priority: String,
    shape: EventShape,
    /// `metadata.type`/`metadata.value` for errors; `None` for message issues.
    error: Option<(String, String)>,
    first_release: Option<String>,
    /// Every release the issue was seen in, oldest first (the last is `lastRelease`).
    releases: Vec<String>,
    environments: Vec<String>,
    count: u64,
    user_count: u64,
    first_seen: chrono::DateTime<chrono::Utc>,
    last_seen: chrono::DateTime<chrono::Utc>,
    has_seen: bool,
    is_bookmarked: bool,
    is_public: bool,
    is_subscribed: bool,
}

#[derive(Debug, Clone)]
struct ReleaseRecord {
    id: u64,
    version: String,
    reference: serde_json::Value,
    url: serde_json::Value,
    date_created: chrono::DateTime<chrono::Utc>,
    date_released: serde_json::Value,
    deploys: Vec<serde_json::Value>,
}

#[derive(Debug, Default)]
struct SentryState {
    issues: Vec<IssueRecord>,
    releases: Vec<ReleaseRecord>,
    release_calls: Vec<ReleaseCall>,
    deploy_calls: Vec<DeployCall>,
    next_added: u64,
    next_deploy: u64,
    rate_limited: usize,
    retry_after: u64,
    window_second: i64,
    window_count: u64,
}

impl SentryState {
    fn ensure_release(&mut self, version: &str, when: chrono::DateTime<chrono::Utc>) {
        if !self.releases.iter().any(|release| release.version == version) {
            let id = self.releases.len() as u64 + 1;
            self.releases.push(ReleaseRecord {
                id,
                version: version.to_owned(),
                reference: serde_json::Value::Null,
                url: serde_json::Value::Null,
                date_created: when,
                date_released: serde_json::Value::Null,
                deploys: Vec::new(),
            });
        }
    }
}

/// Shared with the running stand-in: add issues while it runs, read back what was posted.
/// Cloning gives another handle on the same state.
#[derive(Debug, Clone, Default)]
pub struct SentryHandle(Arc<Mutex<SentryState>>);

impl SentryHandle {
    fn lock(&self) -> std::sync::MutexGuard<'_, SentryState> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds an issue first and last seen now (ids "9001", "9002", ...) and returns its id. Like
    /// Sentry, an event naming a release that does not exist yet creates that release, so a
    /// later `POST releases/` for `first_release` answers 208.
    pub fn add_issue(&self, issue: NewIssue) -> String {
        let mut state = self.lock();
        state.next_added += 1;
        let number = 9000 + state.next_added;
        let now = chrono::Utc::now();
        if let Some(version) = &issue.first_release {
            state.ensure_release(version, now);
        }
        let error = match issue.shape {
            EventShape::MessageOnly => None,
            _ => Some(match issue.title.split_once(": ") {
                Some((kind, value)) => (kind.to_owned(), value.to_owned()),
                None => (issue.title.clone(), String::new()),
            }),
        };
        let substatus = match issue.status.as_str() {
            "resolved" => None,
            "ignored" => Some("archived_forever".to_owned()),
            _ => Some("new".to_owned()),
        };
        state.issues.push(IssueRecord {
            number,
            title: issue.title,
            culprit: issue.culprit,
            level: issue.level,
            status: issue.status,
            status_details: json!({}),
            substatus,
            priority: "high".into(),
            shape: issue.shape,
            error,
            releases: issue.first_release.iter().cloned().collect(),
            first_release: issue.first_release,
            environments: issue.environments,
            count: issue.count,
            user_count: issue.user_count,
            first_seen: now,
            last_seen: now,
            has_seen: false,
            is_bookmarked: false,
            is_public: false,
            is_subscribed: false,
        });
        number.to_string()
    }

    /// Every `POST releases/` received, in order (whatever it was answered).
    pub fn release_calls(&self) -> Vec<ReleaseCall> {
        self.lock().release_calls.clone()
    }

    /// Every `POST releases/{version}/deploys/` received, in order (whatever it was answered).
    pub fn deploy_calls(&self) -> Vec<DeployCall> {
        self.lock().deploy_calls.clone()
    }

    /// The versions of every release that exists now (seeded or created), oldest first.
    pub fn releases(&self) -> Vec<String> {
        self.lock()
            .releases
            .iter()
            .map(|release| release.version.clone())
            .collect()
    }

    /// An issue's `status` now (`unresolved`, `resolved`, `ignored`), or `None` for an unknown id.
    pub fn issue_status(&self, id: &str) -> Option<String> {
        self.lock()
            .issues
            .iter()
            .find(|issue| issue.number.to_string() == id)
            .map(|issue| issue.status.clone())
    }

    /// Every issue id, seeded and added, in creation order.
    pub fn issue_ids(&self) -> Vec<String> {
        self.lock()
            .issues
            .iter()
            .map(|issue| issue.number.to_string())
            .collect()
    }

    /// Makes the next `count` requests (any path, any token) answer 429.
    pub fn rate_limit_next(&self, count: usize) {
        self.lock().rate_limited = count;
    }
}

/// How the Sentry issues stand-in starts.
#[derive(Debug, Clone)]
pub struct SentryScenario {
    /// Seed issues, ids "1001", "1002", ... (default 36: 28 unresolved, 6 resolved, 2
    /// ignored). The first four are [`SENTRY_SECRET_ISSUE`], [`SENTRY_MESSAGE_ISSUE`],
    /// [`SENTRY_DEEP_ISSUE`] and [`SENTRY_FIRST_RELEASE_ISSUE`], all unresolved, in
    /// `production`. At most 7999.
    pub issues: usize,
    /// The version [`SENTRY_FIRST_RELEASE_ISSUE`] was first seen in (default "2.0.0"). As
    /// every version a seed issue names, it exists as a release from the start.
    pub first_release: String,
    /// The first this many requests answer 429 (default 0).
    pub rate_limited: usize,
    /// The `Retry-After` of those 429s, in seconds (default 1).
    pub retry_after: u64,
    /// Keep a clone before starting the stand-in to add issues and read calls back.
    pub handle: SentryHandle,
}

impl Default for SentryScenario {
    fn default() -> Self {
        Self {
            issues: 36,
            first_release: "2.0.0".into(),
            rate_limited: 0,
            retry_after: 1,
            handle: SentryHandle::default(),
        }
    }
}

/// The seed issue number `k` (0-based): statuses, levels, releases, environments and times
/// vary deterministically. `date` order is `k` ascending; resolved when `k % 6 == 5`,
/// ignored when `k % 10 == 7` (and not resolved); no release when `k % 8 == 6`.
fn seed_issue(k: usize, total: usize, first_release: &str, now: chrono::DateTime<chrono::Utc>) -> IssueRecord {
    const GENERIC: [(&str, &str, &str); 8] = [
        (
            "ValueError",
            "invalid literal for int() with base 10: 'abc'",
            "shop.forms.quantity in clean",
        ),
        (
            "ConnectionError",
            "HTTPSConnectionPool(host='payments.example.test', port=443): Max retries exceeded",
            "shop.payments.client in charge",
        ),
        (
            "TimeoutError",
            "timed out waiting for the inventory lock",
            "shop.inventory.locks in acquire",
        ),
        ("ZeroDivisionError", "division by zero", "shop.reports.margins in ratio"),
        (
            "AttributeError",
            "'NoneType' object has no attribute 'address'",
            "shop.shipping.labels in render",
        ),
        (
            "IntegrityError",
            "duplicate key value violates unique constraint \"orders_number_key\"",
            "shop.orders.models in save",
        ),
        (
            "PermissionError",
            "[Errno 13] Permission denied: '/var/shop/exports/daily.csv'",
            "shop.exports.daily in write",
        ),
        (
            "UnicodeDecodeError",
            "'utf-8' codec can't decode byte 0xff in position 0",
            "shop.imports.csv in read_rows",
        ),
    ];
    let minutes = |n: i64| chrono::Duration::minutes(n);
    let (title, culprit, error, shape, level) = match k {
        0 => (
            "KeyError: 'user_id'".to_owned(),
            "shop.views.checkout in submit_order".to_owned(),
            Some(("KeyError".to_owned(), "'user_id'".to_owned())),
            EventShape::Exception,
            "error",
        ),
        1 => (
            "Payment webhook timed out after 30s".to_owned(),
            "shop.payments.webhooks in handle".to_owned(),
            None,
            EventShape::MessageOnly,
            "warning",
        ),
        2 => (
            "RecursionError: maximum recursion depth exceeded".to_owned(),
            "shop.catalog.tree in walk".to_owned(),
            Some((
                "RecursionError".to_owned(),
                "maximum recursion depth exceeded".to_owned(),
            )),
            EventShape::DeepStack(200),
            "error",
        ),
        3 => (
            "TypeError: unsupported operand type(s) for +: 'int' and 'NoneType'".to_owned(),
            "shop.cart.totals in add_line".to_owned(),
            Some((
                "TypeError".to_owned(),
                "unsupported operand type(s) for +: 'int' and 'NoneType'".to_owned(),
            )),
            EventShape::Exception,
            "error",
        ),
        _ => {
            let (kind, value, culprit) = GENERIC[k % GENERIC.len()];
            let level = ["error", "warning", "error", "fatal", "info", "error"][k % 6];
            (
                format!("{kind}: {value}"),
                culprit.to_owned(),
                Some((kind.to_owned(), value.to_owned())),
                EventShape::Exception,
                level,
            )
        }
    };
    let status = if k < 4 {
        "unresolved"
    } else if k % 6 == 5 {
        "resolved"
    } else if k % 10 == 7 {
        "ignored"
    } else {
        "unresolved"
    };
    let substatus = match status {
        "resolved" => None,
        "ignored" => Some("archived_forever".to_owned()),
        _ if k % 4 == 1 => Some("regressed".to_owned()),
        _ => Some("ongoing".to_owned()),
    };
    let environments: Vec<String> = if k < 4 {
        vec!["production".into()]
    } else if k.is_multiple_of(4) {
        vec!["production".into(), "local".into()]
    } else if k % 3 == 2 {
        vec!["local".into()]
    } else {
        vec!["production".into()]
    };
    let releases: Vec<String> = if k == 3 {
        vec![first_release.to_owned()]
    } else if k % 8 == 6 {
        Vec::new()
    } else {
        SENTRY_SEED_RELEASES[k % 3..].iter().map(|v| (*v).to_owned()).collect()
    };
    let spread = total.max(1) as i64;
    IssueRecord {
        number: 1001 + k as u64,
        title,
        culprit,
        level: level.to_owned(),
        status: status.to_owned(),
        status_details: json!({}),
        substatus,
        priority: ["high", "medium", "low"][k % 3].to_owned(),
        shape,
        error,
        first_release: releases.first().cloned(),
        releases,
        environments,
        count: ((k as u64 * 37) % 97 + 1) * 3,
        user_count: (k as u64 * 13) % 17,
        first_seen: now - chrono::Duration::days(1) - chrono::Duration::hours((k as i64 * 11) % spread),
        last_seen: now - minutes(k as i64 * 10 + 1),
        has_seen: k.is_multiple_of(2),
        is_bookmarked: false,
        is_public: false,
        is_subscribed: k.is_multiple_of(3),
    }
}

fn sentry_time(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn sentry_not_found() -> Response {
    Response::json(404, json!({"detail": "The requested resource does not exist"}))
}

/// `Link` as Sentry sends it (docs.sentry.io/api/pagination): always both a previous and a
/// next link, `<url>; rel="…"; results="true|false"; cursor="value:offset:is_prev"`, the url
/// being the request's own query (minus `cursor`) followed by `&cursor=…`.
fn sentry_link(request: &Request, offset: usize, limit: usize, total: usize) -> String {
    let host = request.header("host").unwrap_or("127.0.0.1");
    let kept: Vec<&str> = request
        .target
        .split_once('?')
        .map(|(_, query)| {
            query
                .split('&')
                .filter(|pair| !pair.is_empty() && !pair.starts_with("cursor="))
                .collect()
        })
        .unwrap_or_default();
    let url = |cursor: &str| format!("http://{host}{}?{}&cursor={cursor}", request.path(), kept.join("&"));
    let previous = format!("0:{}:1", offset.saturating_sub(limit));
    let next = format!("0:{}:0", offset + limit);
    format!(
        "<{}>; rel=\"previous\"; results=\"{}\"; cursor=\"{previous}\", <{}>; rel=\"next\"; results=\"{}\"; cursor=\"{next}\"",
        url(&previous),
        offset > 0,
        url(&next),
        offset + limit < total,
    )
}

/// The release summary an issue detail carries as `firstRelease`/`lastRelease` (contract example).
fn release_summary(state: &SentryState, version: Option<&String>) -> serde_json::Value {
    let Some(version) = version else {
        return serde_json::Value::Null;
    };
    let created = state
        .releases
        .iter()
        .find(|release| &release.version == version)
        .map(|release| (sentry_time(release.date_created), release.date_released.clone()));
    let (created, released) = created.unwrap_or_else(|| (sentry_time(chrono::Utc::now()), serde_json::Value::Null));
    json!({"version": version, "shortVersion": version, "dateCreated": created, "dateReleased": released,
           "ref": null, "url": null})
}

/// An issue as the list, the single update and (with [`issue_detail_json`]) the detail answer
/// it: the contract's required fields; `count` a string, `userCount` a number; `expand`
/// fields (`inbox`, `owners`, `integrationIssues`, `sentryAppIssues`,
/// `latestEventHasAttachments`, `sessions`) only when asked for.
fn issue_json(issue: &IssueRecord, host: &str, expand: &[String]) -> serde_json::Value {
    let id = issue.number.to_string();
    let metadata = match &issue.error {
        Some((kind, value)) => json!({"type": kind, "value": value, "filename": "shop/views.py", "function": "handler",
                                      "in_app_frame_mix": "mixed", "initial_priority": 75}),
        None => json!({"title": issue.title, "initial_priority": 50}),
    };
    let hour = issue.last_seen.timestamp() / 3600 * 3600;
    let stats: Vec<serde_json::Value> = (0..24i64)
        .map(|bucket| {
            json!([
                hour - (23 - bucket) * 3600,
                if bucket == 23 { issue.count.min(50) } else { 0 }
            ])
        })
        .collect();
    let mut value = json!({
        "id": id,
        "shareId": null,
        "shortId": format!("WEB-{}", issue.number - 1000),
        "title": issue.title,
        "culprit": issue.culprit,
        "permalink": format!("http://{host}/organizations/acme/issues/{id}/"),
        "logger": null,
        "level": issue.level,
        "status": issue.status,
        "statusDetails": issue.status_details,
        "substatus": issue.substatus,
        "isPublic": issue.is_public,
    });
    let rest = json!({
        "platform": "python",
        "priority": issue.priority,
        "priorityLockedAt": null,
        "seerFixabilityScore": null,
        "seerAutofixLastTriggered": null,
        "seerExplorerAutofixLastTriggered": null,
        "project": {"id": "2", "name": "web", "slug": "web", "platform": "python"},
        "type": if issue.error.is_some() { "error" } else { "default" },
        "issueType": "error",
        "issueCategory": "error",
        "metadata": metadata,
        "numComments": 0,
        "assignedTo": null,
        "isBookmarked": issue.is_bookmarked,
        "isSubscribed": issue.is_subscribed,
        "subscriptionDetails": null,
        "hasSeen": issue.has_seen,
        "annotations": [],
        "isUnhandled": issue.error.is_some(),
        "count": issue.count.to_string(),
        "userCount": issue.user_count,
        "firstSeen": sentry_time(issue.first_seen),
        "lastSeen": sentry_time(issue.last_seen),
        "derivedData": {"blocker": "none", "progress": "none", "status": "open", "viewCount": 0, "hasOpenFixPr": false,
                        "isAssigned": false, "hasRootCause": false, "lastCompletedAutofixStep": "none", "lastProgressedAt": null},
        "stats": {"24h": stats},
        "lifetime": {"count": issue.count.to_string(), "userCount": issue.user_count,
                     "firstSeen": sentry_time(issue.first_seen), "lastSeen": sentry_time(issue.last_seen)},
        "filtered": null,
    });
    if let (Some(object), serde_json::Value::Object(rest)) = (value.as_object_mut(), rest) {
        object.extend(rest);
    }
    let wants = |name: &str| expand.iter().any(|asked| asked == name);
    if let Some(object) = value.as_object_mut() {
        if wants("inbox") {
            object.insert(
                "inbox".into(),
                json!({"reason": 0, "reason_details": null, "date_added": sentry_time(issue.first_seen)}),
            );
        }
        if wants("owners") {
            object.insert("owners".into(), serde_json::Value::Null);
        }
        if wants("integrationIssues") {
            object.insert("integrationIssues".into(), json!([]));
        }
        if wants("sentryAppIssues") {
            object.insert("sentryAppIssues".into(), json!([]));
        }
        if wants("latestEventHasAttachments") {
            object.insert("latestEventHasAttachments".into(), json!(false));
        }
        if wants("sessions") {
            object.insert("sessionCount".into(), json!(0));
        }
    }
    value
}

/// The detail answer: the issue plus `activity`, `seenBy`, `userReportCount`, `participants`,
/// `firstRelease`/`lastRelease` (objects or null) and `tags` (`{key, name, totalValues}`).
fn issue_detail_json(state: &SentryState, issue: &IssueRecord, host: &str) -> serde_json::Value {
    let mut value = issue_json(issue, host, &[]);
    let mut tags = vec![
        json!({"key": "environment", "name": "Environment", "totalValues": issue.count}),
        json!({"key": "level", "name": "Level", "totalValues": issue.count}),
    ];
    if !issue.releases.is_empty() {
        tags.push(json!({"key": "release", "name": "Release", "totalValues": issue.count}));
    }
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "activity".into(),
            json!([{"id": "0", "type": "first_seen", "user": null, "data": {}, "dateCreated": sentry_time(issue.first_seen)}]),
        );
        object.insert("seenBy".into(), json!([]));
        object.insert("userReportCount".into(), json!(0));
        object.insert("participants".into(), json!([]));
        object.insert(
            "firstRelease".into(),
            release_summary(state, issue.first_release.as_ref()),
        );
        object.insert("lastRelease".into(), release_summary(state, issue.releases.last()));
        object.insert("tags".into(), json!(tags));
    }
    value
}

/// One search term of the `query` parameter.
enum SearchTerm {
    Is(&'static [&'static str]),
    Release(String),
    FirstRelease(String),
    Environment(String),
    Level(String),
    /// An unknown `key:value` is a tag search; issues here carry no other tags.
    Tag,
    Text(String),
}

/// Sentry's search syntax, the part the stand-in models: `is:unresolved|resolved|ignored|archived`,
/// `release:<v>` (`latest` too), `firstRelease:<v>` (or `first-release:`), `environment:`,
/// `level:`, free words (each must appear in the title or culprit), `!` to negate a term,
/// `"..."` quoting; every term must hold.
fn parse_search(query: &str, latest: Option<&str>) -> Result<Vec<(bool, SearchTerm)>, Response> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for character in query.chars() {
        match character {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
        .into_iter()
        .map(|token| {
            let (negated, token) = match token.strip_prefix('!') {
                Some(rest) => (true, rest.to_owned()),
                None => (false, token),
            };
            let term = match token.split_once(':') {
                Some((key, value))
                    if !value.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) =>
                {
                    match key {
                        "is" => SearchTerm::Is(match value {
                            "unresolved" => &["unresolved"],
                            "resolved" => &["resolved"],
                            "ignored" | "archived" => &["ignored"],
                            "unassigned" => &["unresolved", "resolved", "ignored"],
                            "assigned" => &[],
                            other => {
                                return Err(Response::json(
                                    400,
                                    json!({"detail": format!("Invalid value for \"is\" search, valid values are [\"archived\", \"assigned\", \"ignored\", \"resolved\", \"unassigned\", \"unresolved\"] (got \"{other}\")")}),
                                ))
                            }
                        }),
                        "release" if value == "latest" => SearchTerm::Release(latest.unwrap_or_default().to_owned()),
                        "release" => SearchTerm::Release(value.to_owned()),
                        "firstRelease" | "first-release" | "first_release" => SearchTerm::FirstRelease(value.to_owned()),
                        "environment" => SearchTerm::Environment(value.to_owned()),
                        "level" => SearchTerm::Level(value.to_owned()),
                        _ => SearchTerm::Tag,
                    }
                }
                _ => SearchTerm::Text(token.to_lowercase()),
            };
            Ok((negated, term))
        })
        .collect()
}

fn search_matches(issue: &IssueRecord, terms: &[(bool, SearchTerm)]) -> bool {
    terms.iter().all(|(negated, term)| {
        let holds = match term {
            SearchTerm::Is(statuses) => statuses.contains(&issue.status.as_str()),
            SearchTerm::Release(version) => issue.releases.iter().any(|release| release == version),
            SearchTerm::FirstRelease(version) => issue.first_release.as_deref() == Some(version.as_str()),
            SearchTerm::Environment(name) => issue.environments.iter().any(|env| env == name),
            SearchTerm::Level(level) => &issue.level == level,
            SearchTerm::Tag => false,
            SearchTerm::Text(word) => {
                issue.title.to_lowercase().contains(word.as_str())
                    || issue.culprit.to_lowercase().contains(word.as_str())
            }
        };
        holds != *negated
    })
}

/// `statsPeriod`: a number and one of `s`, `m`, `h`, `d`, `w`.
fn stats_period(value: &str) -> Option<chrono::Duration> {
    let unit = value.chars().last()?;
    let amount: i64 = value[..value.len() - unit.len_utf8()].parse().ok()?;
    Some(match unit {
        's' => chrono::Duration::seconds(amount),
        'm' => chrono::Duration::minutes(amount),
        'h' => chrono::Duration::hours(amount),
        'd' => chrono::Duration::days(amount),
        'w' => chrono::Duration::weeks(amount),
        _ => return None,
    })
}

/// The issues the list and the query-based bulk mutate select: `project` (`2`, `web` or `-1`;
/// another project is 403, as for a project the token cannot see), `environment` (any of),
/// `query` (absent: the contract's default `is:unresolved`; empty: everything),
/// `statsPeriod` (last seen within it), sorted by `sort` (`date` default, `new`, `freq`,
/// `user`; `trends`, `inbox`, `recommended` as `date`).
fn select_issues(state: &SentryState, request: &Request) -> Result<Vec<usize>, Response> {
    let asked = request.query_all("project");
    for project in &asked {
        if !["2", "web", "3", "shop", "-1"].contains(&project.as_str()) {
            return Err(Response::json(
                403,
                json!({"detail": "You do not have permission to perform this action."}),
            ));
        }
    }
    // Every seeded issue is `web`'s: a list of `shop` alone has none of them.
    if !asked.is_empty() && asked.iter().all(|project| project == "3" || project == "shop") {
        return Ok(Vec::new());
    }
    let latest = state
        .releases
        .iter()
        .max_by_key(|release| (release.date_created, release.id))
        .map(|release| release.version.as_str());
    let query = request.query("query").unwrap_or_else(|| "is:unresolved".to_owned());
    let terms = parse_search(&query, latest)?;
    let environments = request.query_all("environment");
    let since = match request.query("statsPeriod").filter(|period| !period.is_empty()) {
        Some(period) => match stats_period(&period) {
            Some(length) => Some(chrono::Utc::now() - length),
            None => {
                return Err(Response::json(
                    400,
                    json!({"detail": format!("Invalid statsPeriod: {period}")}),
                ))
            }
        },
        None => None,
    };
    let mut selected: Vec<usize> = state
        .issues
        .iter()
        .enumerate()
        .filter(|(_, issue)| search_matches(issue, &terms))
        .filter(|(_, issue)| environments.is_empty() || issue.environments.iter().any(|env| environments.contains(env)))
        .filter(|(_, issue)| since.is_none_or(|since| issue.last_seen >= since))
        .map(|(index, _)| index)
        .collect();
    let sort = request.query("sort").unwrap_or_else(|| "date".to_owned());
    let issues = &state.issues;
    match sort.as_str() {
        "date" | "trends" | "inbox" | "recommended" | "" => {
            selected.sort_by_key(|&i| (std::cmp::Reverse(issues[i].last_seen), issues[i].number))
        }
        "new" => selected.sort_by_key(|&i| (std::cmp::Reverse(issues[i].first_seen), issues[i].number)),
        "freq" => selected.sort_by_key(|&i| (std::cmp::Reverse(issues[i].count), issues[i].number)),
        "user" => selected.sort_by_key(|&i| (std::cmp::Reverse(issues[i].user_count), issues[i].number)),
        other => {
            return Err(Response::json(
                400,
                json!({"sort": [format!("\"{other}\" is not a valid choice.")]}),
            ))
        }
    }
    Ok(selected)
}

/// `limit`: the contract's default 100, at most 100.
fn page_limit(request: &Request) -> Result<usize, Response> {
    match request.query("limit") {
        None => Ok(100),
        Some(limit) => match limit.parse::<usize>() {
            Ok(limit) if limit > 0 => Ok(limit.min(100)),
            _ => Err(Response::json(400, json!({"detail": "Invalid limit parameter."}))),
        },
    }
}

/// Applies a mutate body (contract's request body: `status` — `resolvedInNextRelease` is
/// `resolved` with `statusDetails.inNextRelease`, `muted` is `ignored` — `statusDetails`,
/// `substatus`, `hasSeen`, `isBookmarked`, `isPublic`, `isSubscribed`, `priority`) and returns
/// what was applied, as the bulk answer reports it.
fn apply_mutation(
    issue: &mut IssueRecord,
    body: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut applied = serde_json::Map::new();
    if let Some(status) = body.get("status").and_then(|status| status.as_str()) {
        let details = body
            .get("statusDetails")
            .cloned()
            .filter(|d| d.is_object())
            .unwrap_or_else(|| json!({}));
        let (status, details, substatus) = match status {
            "resolved" => ("resolved", details, None),
            "resolvedInNextRelease" => ("resolved", json!({"inNextRelease": true}), None),
            "unresolved" => ("unresolved", json!({}), Some("ongoing".to_owned())),
            _ => {
                let conditional = details.as_object().is_some_and(|d| !d.is_empty());
                let substatus = body
                    .get("substatus")
                    .and_then(|s| s.as_str())
                    .map(str::to_owned)
                    .unwrap_or_else(|| {
                        if conditional {
                            "archived_until_condition_met"
                        } else {
                            "archived_forever"
                        }
                        .to_owned()
                    });
                ("ignored", details, Some(substatus))
            }
        };
        issue.status = status.to_owned();
        issue.status_details = details.clone();
        issue.substatus = substatus.clone();
        applied.insert("status".into(), json!(status));
        applied.insert("statusDetails".into(), details);
        applied.insert("substatus".into(), json!(substatus));
    }
    for (key, field) in [
        ("hasSeen", &mut issue.has_seen),
        ("isBookmarked", &mut issue.is_bookmarked),
        ("isPublic", &mut issue.is_public),
        ("isSubscribed", &mut issue.is_subscribed),
    ] {
        if let Some(value) = body.get(key).and_then(|value| value.as_bool()) {
            *field = value;
            applied.insert(key.into(), json!(value));
        }
    }
    if let Some(priority) = body.get("priority").and_then(|p| p.as_str()) {
        issue.priority = priority.to_owned();
        applied.insert("priority".into(), json!(priority));
    }
    if let Some(inbox) = body.get("inbox").and_then(|i| i.as_bool()) {
        applied.insert("inbox".into(), json!(inbox));
    }
    if body.get("isPublic").and_then(|p| p.as_bool()) == Some(true) {
        applied.insert("shareId".into(), json!(format!("{:032x}", issue.number)));
    }
    applied
}

/// A mutate body: a JSON object whose `status` and `priority`, when present, are among the
/// contract's choices; else 400 with a DRF field error.
fn mutation_body(request: &Request) -> Result<serde_json::Map<String, serde_json::Value>, Response> {
    let Ok(body) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&request.body) else {
        return Err(Response::json(400, json!({"detail": "JSON parse error"})));
    };
    if let Some(status) = body.get("status") {
        let valid = ["resolved", "unresolved", "ignored", "resolvedInNextRelease", "muted"];
        if !status.as_str().is_some_and(|status| valid.contains(&status)) {
            return Err(Response::json(
                400,
                json!({"status": [format!("{status} is not a valid choice.")]}),
            ));
        }
    }
    if let Some(priority) = body.get("priority") {
        if !priority
            .as_str()
            .is_some_and(|p| ["low", "medium", "high"].contains(&p))
        {
            return Err(Response::json(
                400,
                json!({"priority": [format!("{priority} is not a valid choice.")]}),
            ));
        }
    }
    Ok(body)
}

fn context_lines(line: u64, current: &str) -> serde_json::Value {
    let lines: Vec<serde_json::Value> = (line.saturating_sub(2)..=line + 2)
        .map(|n| {
            if n == line {
                json!([n, current])
            } else {
                json!([n, format!("    # line {n}")])
            }
        })
        .collect();
    json!(lines)
}

fn python_frame(
    module: &str,
    function: &str,
    line: u64,
    in_app: bool,
    current: &str,
    vars: serde_json::Value,
) -> serde_json::Value {
    let filename = format!("{}.py", module.replace('.', "/"));
    let prefix = if in_app {
        "/srv/shop/"
    } else {
        "/usr/lib/python3.12/site-packages/"
    };
    json!({
        "filename": filename,
        "absPath": format!("{prefix}{filename}"),
        "module": module,
        "package": null,
        "platform": null,
        "instructionAddr": null,
        "symbolAddr": null,
        "function": function,
        "rawFunction": null,
        "symbol": null,
        "context": context_lines(line, current),
        "lineNo": line,
        "colNo": null,
        "inApp": in_app,
        "trust": null,
        "errors": null,
        "lock": null,
        "sourceLink": null,
        "vars": vars,
    })
}

/// The frames of an exception event, outermost first (Sentry's order: the crash is last).
fn event_frames(issue: &IssueRecord) -> Vec<serde_json::Value> {
    let handler = python_frame(
        "django.core.handlers.base",
        "_get_response",
        197,
        false,
        "response = wrapped_callback(request, *callback_args, **callback_kwargs)",
        json!({"request": "<WSGIRequest: POST '/checkout/'>", "callback_args": [], "callback_kwargs": {}}),
    );
    match issue.shape {
        EventShape::DeepStack(depth) => {
            let mut frames = vec![handler];
            frames.extend((1..depth).map(|n| {
                python_frame(
                    "shop.catalog.tree",
                    "walk",
                    30 + (n as u64 % 5),
                    true,
                    "return walk(node.children[0], depth + 1)",
                    json!({"node": format!("<Node {n}>"), "depth": n}),
                )
            }));
            frames
        }
        _ => vec![
            handler,
            python_frame(
                "shop.views.checkout",
                "submit_order",
                42,
                true,
                "user = lookup_user(form.cleaned_data)",
                json!({"order_id": "'A-1001'", "email": "'ann@example.test'", "password": "hunter2-sentry-secret"}),
            ),
            python_frame(
                "shop.orders.lookup",
                "lookup_user",
                17,
                true,
                "return USERS[data['user_id']]",
                json!({"data": {"email": "'ann@example.test'"}}),
            ),
        ],
    }
}

/// Event number `index` (0 oldest .. 2 latest) of an issue, as the contract's event schema and
/// example have it: `entries` of `exception` (`data.values[].type/value/module/mechanism/
/// stacktrace.frames[]`), `breadcrumbs` (`data.values[]`) and `request`, or only `message`;
/// `tags` `[{key, value}]`; `previousEventID`/`nextEventID` (null at the ends).
fn event_json(state: &SentryState, issue: &IssueRecord, index: usize) -> serde_json::Value {
    let event_id = |n: usize| format!("{:016x}{:016x}", issue.number, n + 1);
    let span = issue.last_seen - issue.first_seen;
    let created = issue.first_seen + span / 2 * index as i32;
    let environment = issue
        .environments
        .get(index % issue.environments.len().max(1))
        .cloned()
        .unwrap_or_else(|| "production".into());
    let release = match index {
        0 => issue.releases.first(),
        _ => issue.releases.last(),
    };
    let mut tags = vec![
        json!({"key": "environment", "value": environment}),
        json!({"key": "handled", "value": if issue.error.is_some() { "no" } else { "yes" }}),
        json!({"key": "level", "value": issue.level}),
        json!({"key": "server_name", "value": "web-1"}),
        json!({"key": "url", "value": "https://shop.example.test/checkout/"}),
    ];
    if let Some(version) = release {
        tags.push(json!({"key": "release", "value": version}));
    }
    let release_json = release
        .and_then(|version| state.releases.iter().find(|r| &r.version == version))
        .map(|record| {
            json!({"id": record.id, "commitCount": 0, "data": {}, "dateCreated": sentry_time(record.date_created),
               "dateReleased": record.date_released, "deployCount": record.deploys.len(), "ref": record.reference,
               "lastCommit": null, "lastDeploy": record.deploys.last(), "status": "open", "url": record.url,
               "userAgent": null, "version": record.version, "versionInfo": null})
        });
    let breadcrumbs = json!({"type": "breadcrumbs", "data": {"values": [
        {"type": "navigation", "category": "navigation", "level": "info", "event_id": null, "message": null,
         "timestamp": sentry_time(created - chrono::Duration::seconds(3)), "data": {"from": "/cart/", "to": "/checkout/"}},
        {"type": "http", "category": "httplib", "level": "info", "event_id": null, "message": null,
         "timestamp": sentry_time(created - chrono::Duration::seconds(2)),
         "data": {"url": "https://payments.example.test/v1/charges", "method": "POST", "status_code": 200}},
        {"type": "default", "category": "query", "level": "info", "event_id": null,
         "message": "SELECT \"orders\".\"id\" FROM \"orders\" WHERE \"orders\".\"number\" = %s",
         "timestamp": sentry_time(created - chrono::Duration::seconds(1)), "data": null},
    ]}});
    let request_entry = json!({"type": "request", "data": {
        "url": "https://shop.example.test/checkout/", "method": "POST", "fragment": null,
        "query": [["step", "2"]], "data": {"order": "A-1001"}, "cookies": [],
        "headers": [["Content-Type", "application/json"], ["Host", "shop.example.test"],
                    ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"]],
        "env": {"REMOTE_ADDR": "10.0.0.8", "SERVER_NAME": "web-1", "SERVER_PORT": "443"},
        "inferredContentType": "application/json", "apiTarget": null}});
    let (entries, message, metadata, kind, location) = match &issue.error {
        None => (
            json!([{"type": "message", "data": {"formatted": issue.title, "message": null, "params": null}}]),
            issue.title.clone(),
            json!({"title": issue.title}),
            "default",
            serde_json::Value::Null,
        ),
        Some((error_type, value)) => {
            let frames = event_frames(issue);
            let location = frames
                .last()
                .and_then(|frame| frame.get("filename"))
                .cloned()
                .unwrap_or_default();
            let module = error_type.contains("Error").then_some("builtins");
            (
                json!([
                    {"type": "exception", "data": {"values": [{
                        "type": error_type, "value": value, "module": module, "threadId": null,
                        "mechanism": {"type": "django", "handled": false},
                        "stacktrace": {"frames": frames, "framesOmitted": null, "registers": null, "hasSystemFrames": true},
                        "rawStacktrace": null}],
                        "excOmitted": null, "hasSystemFrames": true}},
                    breadcrumbs,
                    request_entry,
                ]),
                String::new(),
                json!({"type": error_type, "value": value, "filename": location, "function": "lookup_user"}),
                "error",
                location,
            )
        }
    };
    let mut value = json!({
        "id": event_id(index),
        "eventID": event_id(index),
        "groupID": issue.number.to_string(),
        "projectID": "2",
        "message": message,
        "title": issue.title,
        "location": location,
        "culprit": issue.culprit,
        "user": {"id": "42", "email": "ann@example.test", "username": null, "ip_address": "10.0.0.8", "name": "Ann",
                 "geo": null, "data": null},
        "tags": tags,
        "platform": "python",
        "dateCreated": sentry_time(created),
        "dateReceived": sentry_time(created + chrono::Duration::milliseconds(250)),
        "contexts": {"runtime": {"type": "runtime", "name": "CPython", "version": "3.12.4"},
                     "os": {"type": "os", "name": "Linux", "version": "6.8"},
                     "trace": {"type": "trace", "trace_id": format!("{:032x}", issue.number * 7 + index as u64),
                               "span_id": format!("{:016x}", issue.number), "op": "http.server"}},
        "size": 6240,
    });
    let rest = json!({
        "entries": entries,
        "dist": null,
        "sdk": {"name": "sentry.python.django", "version": "2.19.0"},
        "context": {},
        "packages": {"django": "5.0.6", "sentry-sdk": "2.19.0"},
        "type": kind,
        "metadata": metadata,
        "errors": [],
        "occurrence": null,
        "_meta": {"user": null, "context": null, "entries": {}, "contexts": null, "message": null, "packages": null,
                  "tags": {}, "sdk": null},
        "crashFile": null,
        "fingerprints": [format!("{:032x}", issue.number * 31)],
        "groupingConfig": {"id": "newstyle:2023-01-11", "enhancements": "KLUv_SAYwQAAkwKRs25ld3N0eWxlOjIwMjMtMDEtMTGQ"},
        "release": release_json,
        "userReport": null,
        "sdkUpdates": [],
        "resolvedWith": [],
        "previousEventID": if index == 0 { serde_json::Value::Null } else { json!(event_id(index - 1)) },
        "nextEventID": if index == 2 { serde_json::Value::Null } else { json!(event_id(index + 1)) },
    });
    if let (Some(object), serde_json::Value::Object(rest)) = (value.as_object_mut(), rest) {
        object.extend(rest);
    }
    value
}

/// The release the create answer (201) carries: the contract's required fields, `id` an
/// integer, `projects[].id` an integer.
fn release_json(record: &ReleaseRecord) -> serde_json::Value {
    json!({
        "id": record.id,
        "version": record.version,
        "shortVersion": record.version,
        "status": "open",
        "versionInfo": null,
        "ref": record.reference,
        "url": record.url,
        "dateReleased": record.date_released,
        "dateCreated": sentry_time(record.date_created),
        "dateStarted": null,
        "data": {},
        "newGroups": 0,
        "owner": null,
        "commitCount": 0,
        "lastCommit": null,
        "deployCount": record.deploys.len(),
        "lastDeploy": record.deploys.last(),
        "authors": [],
        "projects": [{"id": 2, "slug": "web", "name": "web", "newGroups": 0, "platform": "python",
                      "platforms": ["python"], "hasHealthData": false}],
        "firstEvent": null,
        "lastEvent": null,
        "currentProjectMeta": {},
        "userAgent": null,
        "adoptionStages": null,
    })
}

/// A path segment as Sentry reads it: percent-decoded, `+` kept (versions like `1.0+build`).
fn path_segment(segment: &str) -> String {
    percent_decode(&segment.replace('+', "%2B"))
}

/// Release versions Sentry refuses (`Release.is_valid_version`): empty, `.`, `..`, `latest`,
/// a slash, or whitespace control characters; longer than 200.
fn valid_version(version: &str) -> bool {
    !version.is_empty()
        && version.len() <= 200
        && !matches!(version, "." | ".." | "latest")
        && !version.contains(['/', '\n', '\r', '\t', '\x0c'])
}

fn sentry_route(state: &mut SentryState, request: &Request) -> Response {
    let scopes = match sentry_scopes(request) {
        Some(scopes) => scopes,
        None if request.header("authorization").is_none() => {
            return Response::json(401, json!({"detail": "Authentication credentials were not provided."}))
        }
        None => return Response::json(401, json!({"detail": "Invalid token"})),
    };
    let denied = || {
        Response::json(
            403,
            json!({"detail": "You do not have permission to perform this action."}),
        )
    };
    let not_allowed =
        |method: &str| Response::json(405, json!({"detail": format!("Method \"{method}\" not allowed.")}));
    let host = request.header("host").unwrap_or("127.0.0.1").to_owned();
    // The contract's paths all end with a slash; anything else is not a path it has.
    let Some(rest) = request
        .path()
        .strip_prefix("/api/0/")
        .and_then(|rest| rest.strip_suffix('/'))
    else {
        return sentry_not_found();
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let method = request.method.as_str();
    let organization = match segments.as_slice() {
        ["organizations", org, ..] | ["projects", org, ..] => *org,
        _ => return sentry_not_found(),
    };
    if organization != "acme" && organization != "1" {
        return sentry_not_found();
    }
    let now = chrono::Utc::now();
    match segments.as_slice() {
        ["organizations", _] => match method {
            "GET" if scopes.contains(&"org:read") => {
                Response::json(200, json!({"id": "1", "slug": "acme", "name": "Acme"}))
            }
            "GET" => denied(),
            other => not_allowed(other),
        },
        // One page: both rels, `results="false"` on each, as Sentry links a last page.
        ["organizations", _, "projects"] => match method {
            "GET" => {
                let host = request.header("host").unwrap_or("127.0.0.1");
                let link = |rel: &str| {
                    format!("<http://{host}/api/0/organizations/acme/projects/?cursor=0:0:{}>; rel=\"{rel}\"; results=\"false\"; cursor=\"0:0:{}\"", u8::from(rel == "previous"), u8::from(rel == "previous"))
                };
                let project = |id: &str, slug: &str| {
                    json!({"id": id, "slug": slug, "name": slug, "platform": "python", "platforms": ["python"],
                           "dateCreated": "2026-01-05T10:00:00Z", "isBookmarked": false, "isMember": true,
                           "hasAccess": true, "access": ["project:read", "project:releases", "event:read"],
                           "features": [], "firstEvent": null, "firstTransactionEvent": false,
                           "environments": ["production"], "latestRelease": null,
                           "team": {"id": "1", "name": "Acme", "slug": "acme"},
                           "teams": [{"id": "1", "name": "Acme", "slug": "acme"}]})
                };
                Response::json(200, json!([project("2", "web"), project("3", "shop")]))
                    .with_header("Link", &format!("{}, {}", link("previous"), link("next")))
            }
            other => not_allowed(other),
        },
        ["projects", _, "web" | "2"] => match method {
            "GET" => Response::json(
                200,
                json!({"id": "2", "slug": "web", "name": "web", "platform": "python"}),
            ),
            other => not_allowed(other),
        },
        ["projects", _, "shop" | "3"] => match method {
            "GET" => Response::json(
                200,
                json!({"id": "3", "slug": "shop", "name": "shop", "platform": "python"}),
            ),
            other => not_allowed(other),
        },
        // The contract's bulk `id` is an integer: a short id there is a bad request.
        ["organizations", _, "issues"]
            if method == "PUT"
                && scopes.contains(&"event:write")
                && request.query_all("id").iter().any(|id| id.parse::<u64>().is_err()) =>
        {
            Response::json(400, json!({"id": ["A valid integer is required."]}))
        }
        // `GET organizations/{org}/shortids/{issue_id}/` (`resolveOrganizationShortId`): the
        // project's slug and the issue (`group`) a short id names, 404 when none has it.
        ["organizations", _, "shortids", short_id] => {
            if method != "GET" {
                return not_allowed(method);
            }
            if !scopes
                .iter()
                .any(|scope| matches!(*scope, "event:read" | "event:write" | "event:admin"))
            {
                return denied();
            }
            let wanted = path_segment(short_id);
            let found = state
                .issues
                .iter()
                .map(|issue| issue_json(issue, &host, &[]))
                .find(|group| {
                    group["shortId"]
                        .as_str()
                        .is_some_and(|short| short.eq_ignore_ascii_case(&wanted))
                });
            match found {
                Some(group) => Response::json(
                    200,
                    json!({"organizationSlug": "acme", "projectSlug": group["project"]["slug"],
                           "groupId": group["id"], "shortId": group["shortId"], "group": group}),
                ),
                None => sentry_not_found(),
            }
        }
        ["organizations", _, "issues"] => match method {
            "GET" => {
                let selected = match select_issues(state, request) {
                    Ok(selected) => selected,
                    Err(response) => return response,
                };
                let limit = match page_limit(request) {
                    Ok(limit) => limit,
                    Err(response) => return response,
                };
                let offset = match request.query("cursor") {
                    None => 0,
                    Some(cursor) => {
                        let parts: Vec<&str> = cursor.split(':').collect();
                        match parts.as_slice() {
                            [_, offset, _] => match offset.parse::<usize>() {
                                Ok(offset) => offset,
                                Err(_) => return Response::json(400, json!({"detail": "Invalid cursor parameter."})),
                            },
                            _ => return Response::json(400, json!({"detail": "Invalid cursor parameter."})),
                        }
                    }
                };
                let expand = request.query_all("expand");
                let page: Vec<serde_json::Value> = selected
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|&index| issue_json(&state.issues[index], &host, &expand))
                    .collect();
                Response::json(200, json!(page))
                    .with_header("Link", &sentry_link(request, offset, limit, selected.len()))
            }
            "PUT" if !scopes.contains(&"event:write") => denied(),
            "PUT" => {
                let body = match mutation_body(request) {
                    Ok(body) => body,
                    Err(response) => return response,
                };
                let ids = request.query_all("id");
                if ids.is_empty() && !body.contains_key("status") {
                    return Response::json(
                        400,
                        json!({"detail": "You must specify a list of IDs for this operation"}),
                    );
                }
                let targets: Vec<usize> = if ids.is_empty() {
                    let limit = match page_limit(request) {
                        Ok(limit) => limit,
                        Err(response) => return response,
                    };
                    match select_issues(state, request) {
                        Ok(selected) => selected.into_iter().take(limit).collect(),
                        Err(response) => return response,
                    }
                } else {
                    state
                        .issues
                        .iter()
                        .enumerate()
                        .filter(|(_, issue)| ids.contains(&issue.number.to_string()))
                        .map(|(index, _)| index)
                        .collect()
                };
                if targets.is_empty() {
                    return Response::empty(204);
                }
                let mut applied = serde_json::Map::new();
                for index in targets {
                    applied = apply_mutation(&mut state.issues[index], &body);
                }
                Response::json(200, serde_json::Value::Object(applied))
            }
            other => not_allowed(other),
        },
        ["organizations", _, "issues", id] => {
            let Some(index) = state.issues.iter().position(|issue| issue.number.to_string() == *id) else {
                return sentry_not_found();
            };
            match method {
                "GET" => Response::json(200, issue_detail_json(&*state, &state.issues[index], &host)),
                "PUT" if !scopes.contains(&"event:write") => denied(),
                "PUT" => {
                    let body = match mutation_body(request) {
                        Ok(body) => body,
                        Err(response) => return response,
                    };
                    apply_mutation(&mut state.issues[index], &body);
                    Response::json(200, issue_json(&state.issues[index], &host, &[]))
                }
                other => not_allowed(other),
            }
        }
        ["organizations", _, "issues", id, "events", event] => {
            if method != "GET" {
                return not_allowed(method);
            }
            let Some(issue) = state.issues.iter().find(|issue| issue.number.to_string() == *id) else {
                return sentry_not_found();
            };
            let environments = request.query_all("environment");
            let event_environment = |index: usize| {
                issue
                    .environments
                    .get(index % issue.environments.len().max(1))
                    .cloned()
                    .unwrap_or_else(|| "production".into())
            };
            let candidates: Vec<usize> = (0..3)
                .filter(|&index| environments.is_empty() || environments.contains(&event_environment(index)))
                .collect();
            let chosen = match *event {
                "latest" | "recommended" => candidates.last().copied(),
                "oldest" => candidates.first().copied(),
                hex => candidates
                    .into_iter()
                    .find(|&index| format!("{:016x}{:016x}", issue.number, index + 1) == hex),
            };
            match chosen {
                Some(index) => Response::json(200, event_json(&*state, issue, index)),
                None => sentry_not_found(),
            }
        }
        ["organizations", _, "releases"] => {
            if method != "POST" {
                return not_allowed(method);
            }
            if !scopes.contains(&"project:releases") {
                return denied();
            }
            let body: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
            let version = body.get("version").and_then(|v| v.as_str()).map(str::to_owned);
            let projects: Vec<String> = body
                .get("projects")
                .and_then(|p| p.as_array())
                .map(|p| {
                    p.iter()
                        .map(|slug| slug.as_str().map_or_else(|| slug.to_string(), str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let answer = if !body.is_object() {
                Response::json(400, json!({"detail": "JSON parse error"}))
            } else if version.is_none() {
                Response::json(400, json!({"version": ["This field is required."]}))
            } else if !body.get("projects").is_some_and(|p| p.is_array()) {
                Response::json(400, json!({"projects": ["This field is required."]}))
            } else if projects.is_empty() || projects.iter().any(|slug| slug != "web" && slug != "shop") {
                Response::json(400, json!({"projects": ["Invalid project slugs"]}))
            } else if let Some(version) = version.as_deref().filter(|v| !valid_version(v)) {
                Response::json(
                    400,
                    json!({"version": [format!("Release with name {version} is not allowed")]}),
                )
            } else {
                let version = version.clone().unwrap_or_default();
                if state.releases.iter().any(|release| release.version == version) {
                    // The contract's 208 ("Already Reported") declares no body.
                    Response::empty(208)
                } else {
                    let record = ReleaseRecord {
                        id: state.releases.len() as u64 + 1,
                        version,
                        reference: body.get("ref").cloned().unwrap_or_default(),
                        url: body.get("url").cloned().unwrap_or_default(),
                        date_created: now,
                        date_released: body.get("dateReleased").cloned().unwrap_or_default(),
                        deploys: Vec::new(),
                    };
                    let answer = Response::json(201, release_json(&record));
                    state.releases.push(record);
                    answer
                }
            };
            state.release_calls.push(ReleaseCall {
                version,
                projects,
                status: answer.status,
                body,
            });
            answer
        }
        ["organizations", _, "releases", version, "deploys"] => {
            if method != "POST" {
                return not_allowed(method);
            }
            if !scopes.contains(&"project:releases") {
                return denied();
            }
            let version = path_segment(version);
            let body: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
            let environment = body.get("environment").and_then(|e| e.as_str()).map(str::to_owned);
            let next_deploy = state.next_deploy + 1;
            let answer = match state.releases.iter_mut().find(|release| release.version == version) {
                None => sentry_not_found(),
                Some(_) if !body.is_object() => Response::json(400, json!({"detail": "JSON parse error"})),
                Some(_) if environment.is_none() => {
                    Response::json(400, json!({"environment": ["This field is required."]}))
                }
                Some(_)
                    if environment
                        .as_deref()
                        .is_some_and(|e| e.is_empty() || e.len() > 64 || e.contains(['/', '\n'])) =>
                {
                    Response::json(400, json!({"environment": ["Invalid environment name"]}))
                }
                Some(release) => {
                    let field = |name: &str| body.get(name).cloned().unwrap_or_default();
                    let finished = body
                        .get("dateFinished")
                        .filter(|d| !d.is_null())
                        .cloned()
                        .unwrap_or_else(|| json!(sentry_time(now)));
                    let deploy = json!({"id": next_deploy.to_string(), "environment": environment, "dateStarted": field("dateStarted"),
                                        "dateFinished": finished, "name": field("name"), "url": field("url")});
                    release.deploys.push(deploy.clone());
                    Response::json(201, deploy)
                }
            };
            if answer.status == 201 {
                state.next_deploy = next_deploy;
            }
            state.deploy_calls.push(DeployCall {
                version,
                environment,
                status: answer.status,
                body,
            });
            answer
        }
        _ => sentry_not_found(),
    }
}

/// Sentry with issues: one organization `acme` (id "1"), projects `web` (id "2") and `shop` (id "3", no issues).
///
/// - `GET organizations/acme/issues/` — list (see [`select_issues`]), `limit` (default 100,
///   max 100), `cursor` (`value:offset:is_prev`), `expand`; `Link` with both rels always.
/// - `PUT organizations/acme/issues/?id=…&id=…` — bulk mutate: 200 with what was applied
///   (`status`, `statusDetails`, `substatus`, ...), 204 when no issue matched; without `id`
///   a status update applies to what the query selects, any other update is 400.
/// - `GET|PUT organizations/acme/issues/{id}/` — detail; update answers the issue.
/// - `GET organizations/acme/shortids/{short id}/` — `{organizationSlug, projectSlug, groupId,
///   shortId, group}`, 404 for an unknown short id; a bulk `PUT` whose `id` is not an integer
///   (a short id) is 400.
/// - `GET organizations/acme/issues/{id}/events/{latest|oldest|recommended|event id}/`.
/// - `POST organizations/acme/releases/` — 201 with the release, 208 (no body) when it exists.
/// - `POST organizations/acme/releases/{version}/deploys/` — 201 with the deploy, 404 when the
///   release does not exist.
/// - `GET organizations/acme/`, `GET organizations/acme/projects/` (one page) and `GET projects/acme/{web,shop}/`.
///
/// Auth: `Authorization: Bearer sntrys_full` (every scope) or `sntrys_nowrite` (no
/// `event:write`: writes to issues are 403 `{"detail": …}`); anything else 401. Unknown
/// organizations, issues, events and paths: 404 `{"detail": "The requested resource does not
/// exist"}`. Every answer carries `X-Sentry-Rate-Limit-Limit`, `-Remaining`, `-Reset` (UTC
/// epoch seconds), `-ConcurrentLimit`, `-ConcurrentRemaining` (docs.sentry.io/api/ratelimits:
/// 40 requests per 1-second window); a rate-limited answer is 429 with `Retry-After` (seconds),
/// `Remaining` 0 and `Reset` that far away.
pub async fn sentry_issues_stand_in(scenario: SentryScenario) -> std::io::Result<StandIn> {
    let handle = scenario.handle.clone();
    {
        let mut state = handle.lock();
        let now = chrono::Utc::now();
        let count = scenario.issues.min(7999);
        let seeded: Vec<IssueRecord> = (0..count)
            .map(|k| seed_issue(k, count, &scenario.first_release, now))
            .collect();
        for version in SENTRY_SEED_RELEASES
            .iter()
            .map(|v| (*v).to_owned())
            .chain([scenario.first_release.clone()])
        {
            if seeded.iter().any(|issue| issue.releases.contains(&version)) {
                state.ensure_release(&version, now - chrono::Duration::days(3));
            }
        }
        let added = std::mem::take(&mut state.issues);
        state.issues = seeded.into_iter().chain(added).collect();
        state.rate_limited += scenario.rate_limited;
        state.retry_after = scenario.retry_after;
    }
    StandIn::start(move |request| {
        let mut state = handle.lock();
        let now = chrono::Utc::now().timestamp();
        let limited = state.rate_limited > 0;
        let (response, remaining, reset) = if limited {
            state.rate_limited -= 1;
            let wait = state.retry_after;
            let response = Response::json(
                429,
                json!({"detail": format!("You are attempting to use this endpoint too frequently. Limit is {SENTRY_RATE_LIMIT} requests in 1 seconds")}),
            )
            .with_header("Retry-After", &wait.to_string());
            (response, 0, now + wait as i64)
        } else {
            if state.window_second != now {
                state.window_second = now;
                state.window_count = 0;
            }
            state.window_count += 1;
            let remaining = SENTRY_RATE_LIMIT.saturating_sub(state.window_count);
            (sentry_route(&mut state, request), remaining, now + 1)
        };
        response
            .with_header("X-Sentry-Rate-Limit-Limit", &SENTRY_RATE_LIMIT.to_string())
            .with_header("X-Sentry-Rate-Limit-Remaining", &remaining.to_string())
            .with_header("X-Sentry-Rate-Limit-Reset", &reset.to_string())
            .with_header("X-Sentry-Rate-Limit-ConcurrentLimit", "25")
            .with_header("X-Sentry-Rate-Limit-ConcurrentRemaining", "24")
    })
    .await
}
