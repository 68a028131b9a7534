//! Local stand-ins for the internet services (Render, Sentry, CircleCI), answering as
//! `shared/contracts/` documents: paths, statuses, error bodies, pagination, rate-limit
//! headers. A tiny HTTP/1.1 server on 127.0.0.1; each stand-in is a function from request to
//! response, with its own state.

#![allow(dead_code, reason = "each test binary uses a different part of the stand-ins")]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Request {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.target.split_once('?')?.1;
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| percent_decode(value))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_lowercase()).map(String::as_str)
    }
}

/// Query values as a server reads them: `%3A` is `:`, `+` is a space.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' if index + 2 < bytes.len() => match u8::from_str_radix(&value[index + 1..index + 3], 16) {
                Ok(byte) => {
                    out.push(byte);
                    index += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// A running stand-in: its base URL and every request it received.
pub struct StandIn {
    pub base: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StandIn {
    pub async fn start<F>(handler: F) -> std::io::Result<Self>
    where
        F: Fn(&Request) -> Response + Send + Sync + 'static,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let handler = handler.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut stream).await else {
                        return;
                    };
                    let response = handler(&request);
                    if let Ok(mut all) = seen.lock() {
                        all.push(request);
                    }
                    let mut head = format!(
                        "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                        response.status,
                        response.body.len()
                    );
                    for (name, value) in &response.headers {
                        head.push_str(&format!("{name}: {value}\r\n"));
                    }
                    head.push_str("\r\n");
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(response.body.as_bytes()).await;
                });
            }
        });
        Ok(Self { base, requests, task })
    }

    pub fn received(&self) -> Vec<Request> {
        self.requests.lock().map(|all| all.clone()).unwrap_or_default()
    }
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Request> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        data.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&data).into_owned();
        let Some(split) = text.find("\r\n\r\n") else { continue };
        let mut lines = text[..split].lines();
        let mut first = lines.next()?.split_whitespace();
        let method = first.next()?.to_owned();
        let target = first.next()?.to_owned();
        let headers: BTreeMap<String, String> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_lowercase(), value.trim().to_owned()))
            .collect();
        let length: usize = headers
            .get("content-length")
            .and_then(|value| value.parse().ok())
            .unwrap_or(0);
        if data.len() >= split + 4 + length {
            let body = String::from_utf8_lossy(&data[split + 4..split + 4 + length]).into_owned();
            return Some(Request {
                method,
                target,
                headers,
                body,
            });
        }
    }
}

pub fn bearer(request: &Request) -> &str {
    request
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default()
}

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

/// Sentry: one cheap call per scope; a token without `event:write` is answered 403 there.
pub async fn sentry_stand_in() -> std::io::Result<StandIn> {
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

/// How the Render deploy stand-in behaves.
#[derive(Debug, Clone)]
pub struct DeployScript {
    /// 201 (the deploy in the body) or 202 (queued, no body).
    pub trigger_status: u16,
    /// The statuses the deploy goes through, one per read after the first.
    pub statuses: Vec<&'static str>,
    /// Answer the first trigger with a 429 and `Ratelimit-Reset: 1`.
    pub rate_limit_first: bool,
    /// When not 0, every rollback is answered with this status and the contract's error body
    /// (a 429 with `Ratelimit-Reset` an hour away). Shared, so a test changes it between calls.
    pub rollback_fault: Arc<std::sync::atomic::AtomicU16>,
}

impl DeployScript {
    pub fn new(trigger_status: u16, statuses: &[&'static str]) -> Self {
        Self {
            trigger_status,
            statuses: statuses.to_vec(),
            rate_limit_first: false,
            rollback_fault: Arc::default(),
        }
    }

    pub fn rate_limited(mut self) -> Self {
        self.rate_limit_first = true;
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

/// Render's deploy endpoints for one image-backed service `srv-web` that runs
/// `image_path`: trigger (201 or 202), list with `createdAfter`, read, cancel; the service
/// itself, whose URL (`/site` on this server) answers 200; and rollback to an earlier deploy
/// (`POST …/rollback` with `deployId`: 201 with the new deploy, whose image is the source's;
/// 400 without `deployId`, 404 for a deploy the service does not have).
pub async fn render_deploy_stand_in(image_path: String, script: DeployScript) -> std::io::Result<StandIn> {
    let deploys: Mutex<Vec<DeployRecord>> = Mutex::new(Vec::new());
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
    let service_image = image_path.clone();
    StandIn::start(move |request| {
        let path = request.path().to_owned();
        if path == "/site" {
            return Response::json(200, json!({"status": "ok"}));
        }
        // The deploy hook: the key in the URL is the credential; it answers without a deploy id.
        if path == "/deploy/srv-web" {
            return match (request.query("key").as_deref(), request.query("imgURL")) {
                (Some("hk_good"), Some(image)) if image.contains("@sha256:") => Response::empty(200),
                (Some("hk_good"), _) => Response::json(400, json!({"message": "imgURL is required for an image-backed service"})),
                _ => Response::json(404, json!({"message": "Not Found"})),
            };
        }
        if bearer(request) != "rnd_good" {
            return Response::json(401, json!({"id": "unauthorized", "message": "unauthorized"}));
        }
        let Ok(mut deploys) = deploys.lock() else {
            return Response::json(500, json!({"message": "stand-in state lost"}));
        };
        match (request.method.as_str(), path.as_str()) {
            ("GET", "/v1/owners") => Response::json(
                200,
                json!([{"owner": {"id": "tea-1", "name": "Ann's team", "email": "ann@example.test", "type": "team"}, "cursor": "o1"}]),
            ),
            ("GET", "/v1/services/srv-web") => {
                let host = request.header("host").unwrap_or("127.0.0.1");
                Response::json(
                    200,
                    json!({"id": "srv-web", "name": "web", "type": "web_service",
                           "serviceDetails": {"url": format!("http://{host}/site"), "image": {"imagePath": service_image}}}),
                )
            }
            ("POST", "/v1/services/srv-web/deploys") => {
                let count = triggers.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if script.rate_limit_first && count == 0 {
                    return Response::json(429, json!({"id": "rate_limited", "message": "rate limit exceeded"}))
                        .with_header("Ratelimit-Limit", "10")
                        .with_header("Ratelimit-Remaining", "0")
                        .with_header("Ratelimit-Reset", "1");
                }
                let body: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
                if body["imageUrl"].as_str().is_none_or(|url| !url.contains("@sha256:")) {
                    return Response::json(400, json!({"id": "bad_request", "message": "imageUrl must name the image by digest"}));
                }
                let record = DeployRecord {
                    id: format!("dep-{}", deploys.len() + 1),
                    created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    reads: 0,
                    canceled: false,
                    image: body["imageUrl"].as_str().unwrap_or_default().to_owned(),
                    trigger: "api",
                };
                let answer = json_of(&record, &script);
                deploys.push(record);
                if script.trigger_status == 202 {
                    Response::empty(202)
                } else {
                    Response::json(201, answer)
                }
            }
            ("POST", "/v1/services/srv-web/rollback") if script.rollback_fault.load(std::sync::atomic::Ordering::SeqCst) != 0 => {
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
                        .with_header("Ratelimit-Reset", "3600")
                } else {
                    answer
                }
            }
            ("POST", "/v1/services/srv-web/rollback") => {
                let body: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
                let Some(source) = body["deployId"].as_str() else {
                    return Response::json(400, json!({"id": "bad_request", "message": "deployId is required"}));
                };
                let Some(image) = deploys.iter().find(|record| record.id == source).map(|record| record.image.clone()) else {
                    return Response::json(404, json!({"id": "not_found", "message": "deploy not found"}));
                };
                let record = DeployRecord {
                    id: format!("dep-{}", deploys.len() + 1),
                    created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    reads: 0,
                    canceled: false,
                    image,
                    trigger: "rollback",
                };
                let answer = json_of(&record, &script);
                deploys.push(record);
                Response::json(201, answer)
            }
            ("GET", "/v1/services/srv-web/deploys") => {
                let after = request.query("createdAfter").unwrap_or_default();
                let page: Vec<serde_json::Value> = deploys
                    .iter()
                    .filter(|record| record.created_at.as_str() > after.as_str())
                    .map(|record| json!({"deploy": json_of(record, &script), "cursor": record.id}))
                    .collect();
                Response::json(200, json!(page))
            }
            (method, other) if other.starts_with("/v1/services/srv-web/deploys/") => {
                let rest = &other["/v1/services/srv-web/deploys/".len()..];
                let (id, cancel) = match rest.strip_suffix("/cancel") {
                    Some(id) => (id, true),
                    None => (rest, false),
                };
                let Some(record) = deploys.iter_mut().find(|record| record.id == id) else {
                    return Response::json(404, json!({"id": "not_found", "message": "deploy not found"}));
                };
                match (method, cancel) {
                    ("POST", true) => record.canceled = true,
                    ("GET", false) => record.reads += 1,
                    _ => return Response::json(405, json!({"message": "method not allowed"})),
                }
                Response::json(200, json_of(record, &script))
            }
            _ => Response::json(404, json!({"id": "not_found", "message": "not found"})),
        }
    })
    .await
}
