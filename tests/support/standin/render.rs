//! Render: the key check of the accounts wizard (`render_stand_in`) and the deploy endpoints
//! of image-backed web services (`render_services_stand_in`): triggers, reads, cancels,
//! rollbacks, deploy hooks, and the faults a script asks for.

use std::sync::{Arc, Mutex};

use serde_json::json;

use super::http::{bearer, Request, Response, StandIn};

/// Render: `/v1/owners` and `/v1/services` with cursor pagination, 401 for a bad key, and a
/// 429 with `Ratelimit-Reset` before the first answer for the "busy" key.
pub async fn render_stand_in() -> std::io::Result<StandIn> {
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
                            "imagePath": format!("ann/web-{n}:latest"),
                            "serviceDetails": {"url": format!("https://web-{n}.example.test")}},
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

/// How the Render deploy stand-in behaves.
#[derive(Debug, Clone)]
pub struct DeployScript {
    /// 201 (the deploy in the body) or 202 (queued, no body).
    pub trigger_status: u16,
    /// The statuses the deploy goes through, one per read after the first.
    pub statuses: Vec<&'static str>,
    /// Answer the first trigger with a 429 and `Ratelimit-Reset: 1`.
    pub rate_limit_first: bool,
    /// The `Ratelimit-Reset` of that 429, in seconds (Render's window is a minute).
    pub rate_limit_reset: u64,
    /// When not 0, every rollback is answered with this status and the contract's error body
    /// (a 429 with `Ratelimit-Reset` an hour away). Shared, so a test changes it between calls.
    pub rollback_fault: Arc<std::sync::atomic::AtomicU16>,
    /// A cancel that reaches Render as the deploy goes live: the deploy moves to its last
    /// status, and the cancel is answered 409 "deploy is not in progress" (as a tester saw
    /// Render answer a cancel of a deploy that was no longer running).
    pub cancel_too_late: bool,
    /// Render stops answering reads of a deploy (503) after this many reads of it.
    pub unreachable_after_reads: Option<usize>,
    /// When not 0, a trigger or rollback that made its deploy is answered with this status
    /// instead (a 502 from Render's edge), or with no answer at all when it is 1 (a time-out):
    /// the deploy exists, the client was not told. Shared, so a test changes it between calls.
    pub lose_answer: Arc<std::sync::atomic::AtomicU16>,
    /// The `Ratelimit-Reset` (seconds) of a rollback answered 429 by `rollback_fault`.
    pub rollback_rate_limit_reset: Arc<std::sync::atomic::AtomicU64>,
    /// What the service prints for each deploy it makes, one millisecond apart from the
    /// deploy's creation: its log, as `GET /v1/logs` answers it.
    pub app_log: Vec<String>,
    /// Deploys whose image is broken: while one of them is the service's newest, its site
    /// answers 503. Shared, so a test names them between releases.
    pub broken_deploys: Arc<Mutex<Vec<String>>>,
    /// Deploys past Render's retention: gone from the service's history, so a rollback to one
    /// is answered 404 and the list no longer shows them. Shared, so a test names them later.
    pub forgotten_deploys: Arc<Mutex<Vec<String>>>,
}

impl DeployScript {
    pub fn new(trigger_status: u16, statuses: &[&'static str]) -> Self {
        Self {
            trigger_status,
            statuses: statuses.to_vec(),
            rate_limit_first: false,
            rate_limit_reset: 1,
            rollback_fault: Arc::default(),
            cancel_too_late: false,
            unreachable_after_reads: None,
            lose_answer: Arc::default(),
            rollback_rate_limit_reset: Arc::new(std::sync::atomic::AtomicU64::new(3600)),
            app_log: Vec::new(),
            broken_deploys: Arc::default(),
            forgotten_deploys: Arc::default(),
        }
    }

    /// The service prints `lines` for each deploy.
    pub fn with_app_log(mut self, lines: Vec<String>) -> Self {
        self.app_log = lines;
        self
    }

    pub fn rate_limited(mut self) -> Self {
        self.rate_limit_first = true;
        self.rate_limit_reset = 1;
        self
    }
}

struct DeployRecord {
    id: String,
    created_at: String,
    reads: usize,
    canceled: bool,
    /// `image.ref`: what the deploy runs (a rollback's is its source's).
    image: String,
    trigger: &'static str,
}

impl DeployRecord {
    /// A deploy Render just made, not yet read by anyone.
    fn new(id: String, image: String, trigger: &'static str) -> Self {
        Self {
            id,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            reads: 0,
            canceled: false,
            image,
            trigger,
        }
    }
}

/// One line of a service's log.
struct LogRecord {
    id: String,
    resource: String,
    at: chrono::DateTime<chrono::Utc>,
    message: String,
}

/// `GET /v1/logs` as the contract says: `ownerId` and `resource` required (400 without), the
/// time range `startTime`..`endTime` (default: the last hour), `direction` (default
/// `backward`, newest first), `limit` (default 20, at most 100), and the page's `hasMore` with
/// the `nextStartTime`/`nextEndTime` to ask for the next (always present, as the contract
/// requires, in microseconds with an offset, so a `+` goes back in the query).
fn logs_page(request: &Request, logs: &Mutex<Vec<LogRecord>>) -> Response {
    let bad = |message: &str| Response::json(400, json!({"id": "bad_request", "message": message}));
    let Some(owner) = request.query("ownerId") else {
        return bad("ownerId is required");
    };
    let resources = request.query_all("resource");
    if resources.is_empty() {
        return bad("resource is required");
    }
    let now = chrono::Utc::now();
    let time = |name: &str, default: chrono::DateTime<chrono::Utc>| match request.query(name) {
        None => Ok(default),
        Some(text) => chrono::DateTime::parse_from_rfc3339(&text)
            .map(|time| time.with_timezone(&chrono::Utc))
            .map_err(|_| format!("{name} is not a date-time: {text}")),
    };
    let (start, end) = match (
        time("startTime", now - chrono::Duration::hours(1)),
        time("endTime", now),
    ) {
        (Ok(start), Ok(end)) => (start, end),
        (Err(why), _) | (_, Err(why)) => return bad(&why),
    };
    let backward = match request.query("direction").as_deref() {
        None | Some("backward") => true,
        Some("forward") => false,
        Some(_) => return bad("direction must be forward or backward"),
    };
    let limit: usize = request
        .query("limit")
        .and_then(|limit| limit.parse().ok())
        .unwrap_or(20)
        .clamp(1, 100);
    let Ok(logs) = logs.lock() else {
        return Response::json(500, json!({"message": "stand-in state lost"}));
    };
    let mut matching: Vec<&LogRecord> = logs
        .iter()
        .filter(|log| owner == "tea-1" && resources.contains(&log.resource) && log.at >= start && log.at <= end)
        .collect();
    matching.sort_by_key(|log| log.at);
    if backward {
        matching.reverse();
    }
    let page: Vec<&LogRecord> = matching.iter().take(limit).copied().collect();
    let has_more = matching.len() > limit;
    // `+00:00`, not `Z`: the plus sign must survive the client's query.
    let stamp = |time: chrono::DateTime<chrono::Utc>| time.to_rfc3339_opts(chrono::SecondsFormat::Micros, false);
    let (next_start, next_end) = match (page.last(), backward) {
        (Some(last), true) => (start, last.at - chrono::Duration::microseconds(1)),
        (Some(last), false) => (last.at + chrono::Duration::microseconds(1), end),
        (None, _) => (start, end),
    };
    Response::json(
        200,
        json!({
            "hasMore": has_more,
            "nextStartTime": stamp(next_start),
            "nextEndTime": stamp(next_end),
            "logs": page.iter().map(|log| json!({
                "id": log.id,
                "message": log.message,
                "timestamp": stamp(log.at),
                "labels": [
                    {"name": "resource", "value": log.resource},
                    {"name": "type", "value": "app"},
                    {"name": "level", "value": "info"}
                ]
            })).collect::<Vec<_>>()
        }),
    )
}

/// One image-backed web service of the Render stand-in.
#[derive(Debug, Clone)]
pub struct RenderServiceSpec {
    pub id: String,
    pub name: String,
    /// The image it is configured with (`imagePath`).
    pub image: String,
}

impl RenderServiceSpec {
    pub fn new(id: &str, name: &str, image: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            image: image.to_owned(),
        }
    }
}

/// Every deploy trigger the Render stand-in received: its path and the `imageUrl` it asked for.
pub fn deploy_triggers(received: &[Request]) -> Vec<(String, String)> {
    received
        .iter()
        .filter(|request| request.method == "POST" && request.path().ends_with("/deploys"))
        .map(|request| {
            let body: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
            (
                request.path().to_owned(),
                body["imageUrl"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The answer a request that made its deploy gets when `lose_answer` is set.
fn lost_answer(script: &DeployScript) -> Option<Response> {
    match script.lose_answer.load(std::sync::atomic::Ordering::SeqCst) {
        0 => None,
        1 => Some(Response::hang_up()),
        status => Some(Response::json(
            status,
            json!({"id": "bad_gateway", "message": "An unexpected server error has occurred."}),
        )),
    }
}

/// Render's deploy endpoints for one image-backed service `srv-web` that runs `image_path`.
pub async fn render_deploy_stand_in(image_path: String, script: DeployScript) -> std::io::Result<StandIn> {
    render_services_stand_in(vec![RenderServiceSpec::new("srv-web", "web", &image_path)], script).await
}

/// Render's endpoints for several image-backed web services, each with its own deploys:
/// the services list (`GET /v1/services`, `[{service, cursor}]`), one service (its URL,
/// `/site/{id}` on this server, answers 200), deploy trigger (201 or 202), list with
/// `createdAfter`, read, cancel, rollback to an earlier deploy of the same service (`POST
/// …/rollback` with `deployId`: 201 with the new deploy, whose image is the source's; 400
/// without `deployId`, 404 for a deploy the service does not have), and each service's
/// deploy hook (`/deploy/{id}?key=hk_good&imgURL=…`). A trigger whose image is not the
/// service's configured repository is refused 400, as Render refuses it. Deploy ids are
/// numbered across services (`dep-1`, `dep-2`, …).
pub async fn render_services_stand_in(
    services: Vec<RenderServiceSpec>,
    script: DeployScript,
) -> std::io::Result<StandIn> {
    let deploys: Mutex<std::collections::HashMap<String, Vec<DeployRecord>>> = Mutex::new(Default::default());
    let logs: Mutex<Vec<LogRecord>> = Mutex::new(Vec::new());
    let log_deploy = {
        let app_log = script.app_log.clone();
        move |logs: &Mutex<Vec<LogRecord>>, service: &str, record: &DeployRecord| {
            let Ok(created) = chrono::DateTime::parse_from_rfc3339(&record.created_at) else {
                return;
            };
            if let Ok(mut logs) = logs.lock() {
                for (at, line) in app_log.iter().enumerate() {
                    let number = logs.len() + 1;
                    logs.push(LogRecord {
                        id: format!("log-{number}"),
                        resource: service.to_owned(),
                        at: created.with_timezone(&chrono::Utc)
                            + chrono::Duration::milliseconds(i64::try_from(at).unwrap_or(0)),
                        message: line.clone(),
                    });
                }
            }
        }
    };
    let numbered = std::sync::atomic::AtomicUsize::new(0);
    let triggers = std::sync::atomic::AtomicUsize::new(0);
    let status_of = move |record: &DeployRecord, script: &DeployScript| -> &'static str {
        if record.canceled {
            "canceled"
        } else if record.reads == 0 {
            "created"
        } else {
            script.statuses[(record.reads - 1).min(script.statuses.len() - 1)]
        }
    };
    let json_of = move |record: &DeployRecord, script: &DeployScript| {
        json!({"id": record.id, "status": status_of(record, script), "trigger": record.trigger,
               "createdAt": record.created_at, "updatedAt": record.created_at,
               "image": {"ref": record.image}})
    };
    let service_json = |service: &RenderServiceSpec, host: &str| {
        json!({"id": service.id, "name": service.name, "type": "web_service",
               "ownerId": "tea-1", "slug": service.name, "suspended": "not_suspended", "suspenders": [],
               "autoDeploy": "no", "rootDir": "", "notifyOnFail": "default",
               "createdAt": "2026-11-01T10:00:00Z", "updatedAt": "2026-11-01T10:00:00Z",
               "dashboardUrl": format!("https://dashboard.render.example/web/{}", service.id),
               // The contract: `imagePath` on the service itself.
               "imagePath": service.image,
               "serviceDetails": {"url": format!("http://{host}/site/{}", service.id)}})
    };
    // The repository a service accepts: its image without tag or digest.
    let repository_of = |image: &str| -> String {
        let name = image.split('@').next().unwrap_or(image);
        match name.rsplit_once(':') {
            Some((repository, tag)) if !tag.contains('/') => repository.to_owned(),
            _ => name.to_owned(),
        }
    };
    StandIn::start(move |request| {
        let path = request.path().to_owned();
        let host = request.header("host").unwrap_or("127.0.0.1").to_owned();
        if path == "/site" || path.starts_with("/site/") {
            let service = path.trim_start_matches("/site/").split('/').next().unwrap_or_default();
            let newest = deploys
                .lock()
                .ok()
                .and_then(|deploys| deploys.get(service).and_then(|all| all.last().map(|deploy| deploy.id.clone())));
            let broken = script.broken_deploys.lock().map(|broken| broken.clone()).unwrap_or_default();
            if newest.is_some_and(|id| broken.contains(&id)) {
                return Response::json(503, json!({"status": "unavailable"}));
            }
            return Response::json(200, json!({"status": "ok"}));
        }
        // The deploy hook: the key in the URL is the credential; it answers without a deploy id.
        if let Some(id) = path.strip_prefix("/deploy/") {
            return match (
                services.iter().any(|service| service.id == id),
                request.query("key").as_deref(),
                request.query("imgURL"),
            ) {
                (true, Some("hk_good"), Some(image)) if image.contains("@sha256:") => Response::empty(200),
                (true, Some("hk_good"), _) => Response::json(400, json!({"message": "imgURL is required for an image-backed service"})),
                _ => Response::json(404, json!({"message": "Not Found"})),
            };
        }
        if bearer(request) != "rnd_good" {
            return Response::json(401, json!({"id": "unauthorized", "message": "unauthorized"}));
        }
        let Ok(mut deploys) = deploys.lock() else {
            return Response::json(500, json!({"message": "stand-in state lost"}));
        };
        let not_found = || Response::json(404, json!({"id": "not_found", "message": "not found"}));
        if request.method == "GET" && path == "/v1/owners" {
            return Response::json(
                200,
                json!([{"owner": {"id": "tea-1", "name": "Ann's team", "email": "ann@example.test", "type": "team"}, "cursor": "o1"}]),
            );
        }
        if request.method == "GET" && path == "/v1/logs" {
            return logs_page(request, &logs);
        }
        if request.method == "GET" && path == "/v1/services" {
            let page: Vec<serde_json::Value> = services
                .iter()
                .map(|service| json!({"service": service_json(service, &host), "cursor": service.id}))
                .collect();
            return Response::json(200, json!(page));
        }
        let Some(rest) = path.strip_prefix("/v1/services/") else {
            return not_found();
        };
        let mut parts = rest.splitn(2, '/');
        let id = parts.next().unwrap_or_default();
        let tail = parts.next().unwrap_or_default();
        let Some(service) = services.iter().find(|service| service.id == id) else {
            return not_found();
        };
        let service_deploys = deploys.entry(service.id.clone()).or_default();
        let next_id = || format!("dep-{}", numbered.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1);
        match (request.method.as_str(), tail) {
            ("GET", "") => Response::json(200, service_json(service, &host)),
            ("POST", "deploys") => {
                let count = triggers.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if script.rate_limit_first && count == 0 {
                    return Response::json(429, json!({"id": "rate_limited", "message": "rate limit exceeded"}))
                        .with_header("Ratelimit-Limit", "10")
                        .with_header("Ratelimit-Remaining", "0")
                        .with_header("Ratelimit-Reset", &script.rate_limit_reset.to_string());
                }
                let body: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
                let image = body["imageUrl"].as_str().unwrap_or_default().to_owned();
                if !image.contains("@sha256:") {
                    return Response::json(400, json!({"id": "bad_request", "message": "imageUrl must name the image by digest"}));
                }
                if repository_of(&image) != repository_of(&service.image) {
                    return Response::json(400, json!({"id": "bad_request", "message": "imageUrl may only change the tag or digest of the service's image"}));
                }
                let record = DeployRecord::new(next_id(), image, "api");
                log_deploy(&logs, &service.id, &record);
                let answer = json_of(&record, &script);
                service_deploys.push(record);
                if let Some(lost) = lost_answer(&script) {
                    return lost;
                }
                if script.trigger_status == 202 {
                    Response::empty(202)
                } else {
                    Response::json(201, answer)
                }
            }
            ("POST", "rollback") if script.rollback_fault.load(std::sync::atomic::Ordering::SeqCst) != 0 => {
                let status = script.rollback_fault.load(std::sync::atomic::Ordering::SeqCst);
                let (id, message) = match status {
                    401 => ("unauthorized", "Authorization information is missing or invalid."),
                    404 => ("not_found", "Unable to find the requested resource."),
                    429 => ("rate_limited", "Rate limit has been surpassed."),
                    503 => ("unavailable", "Server currently unavailable."),
                    _ => ("internal", "An unexpected server error has occurred."),
                };
                let answer = Response::json(status, json!({"id": id, "message": message}));
                if status == 429 {
                    answer
                        .with_header("Ratelimit-Limit", "30")
                        .with_header("Ratelimit-Remaining", "0")
                        .with_header(
                            "Ratelimit-Reset",
                            &script
                                .rollback_rate_limit_reset
                                .load(std::sync::atomic::Ordering::SeqCst)
                                .to_string(),
                        )
                } else {
                    answer
                }
            }
            ("POST", "rollback") => {
                let body: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
                let Some(source) = body["deployId"].as_str() else {
                    return Response::json(400, json!({"id": "bad_request", "message": "deployId is required"}));
                };
                let forgotten = script.forgotten_deploys.lock().map(|gone| gone.clone()).unwrap_or_default();
                let kept = service_deploys.iter().filter(|record| !forgotten.contains(&record.id));
                let Some(image) = kept.clone().find(|record| record.id == source).map(|record| record.image.clone()) else {
                    return Response::json(404, json!({"id": "not_found", "message": "deploy not found"}));
                };
                let record = DeployRecord::new(next_id(), image, "rollback");
                let answer = json_of(&record, &script);
                service_deploys.push(record);
                if let Some(lost) = lost_answer(&script) {
                    return lost;
                }
                Response::json(201, answer)
            }
            ("GET", "deploys") => {
                let after = request.query("createdAfter").unwrap_or_default();
                let forgotten = script.forgotten_deploys.lock().map(|gone| gone.clone()).unwrap_or_default();
                let page: Vec<serde_json::Value> = service_deploys
                    .iter()
                    .filter(|record| !forgotten.contains(&record.id))
                    .filter(|record| record.created_at.as_str() > after.as_str())
                    .map(|record| json!({"deploy": json_of(record, &script), "cursor": record.id}))
                    .collect();
                Response::json(200, json!(page))
            }
            (method, other) if other.starts_with("deploys/") => {
                let rest = &other["deploys/".len()..];
                let (id, cancel) = match rest.strip_suffix("/cancel") {
                    Some(id) => (id, true),
                    None => (rest, false),
                };
                let Some(record) = service_deploys.iter_mut().find(|record| record.id == id) else {
                    return Response::json(404, json!({"id": "not_found", "message": "deploy not found"}));
                };
                if method == "GET" && !cancel && script.unreachable_after_reads.is_some_and(|reads| record.reads >= reads) {
                    return Response::json(503, json!({"id": "unavailable", "message": "Server currently unavailable."}));
                }
                match (method, cancel) {
                    ("POST", true) if script.cancel_too_late => {
                        record.reads = script.statuses.len();
                        return Response::json(409, json!({"id": "conflict", "message": "deploy is not in progress"}));
                    }
                    ("POST", true) => record.canceled = true,
                    ("GET", false) => record.reads += 1,
                    _ => return Response::json(405, json!({"message": "method not allowed"})),
                }
                Response::json(200, json_of(record, &script))
            }
            _ => not_found(),
        }
    })
    .await
}
