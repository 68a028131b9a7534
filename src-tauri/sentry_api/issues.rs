//! Sentry's issues: the organization's list for one project (filtered, sorted, paged by the
//! `Link` header's cursors), an issue's events with their stack traces, and status changes
//! one at a time or in bulk.
//!
//! Events are read from `serde_json::Value`: the schema leaves `entries` untyped, and an
//! event without an exception (a logged message) must still show. Everything read passes
//! through the redactor: local variables and request data can hold secrets.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::SentryClient;
use crate::http::{page_link, ApiError};
use crate::redact::redact;

/// Which issues, as the Errors page and `slipway errors` ask.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct IssueQuery {
    /// `None` is unresolved, Sentry's default view.
    pub status: Option<IssueStatusFilter>,
    pub environment: Option<String>,
    /// Issues seen in this release.
    pub release: Option<String>,
    /// Issues that first appeared in this release (new since it).
    pub first_release: Option<String>,
    /// Free text in Sentry's search syntax, passed as it is.
    pub text: Option<String>,
    pub sort: Option<IssueSort>,
    /// `24h`, `14d`, … (Sentry's `statsPeriod`).
    pub period: Option<String>,
    /// A page's cursor from an earlier answer.
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum IssueStatusFilter {
    Unresolved,
    Resolved,
    Ignored,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum IssueSort {
    /// Last seen (Sentry's `date`).
    LastSeen,
    /// First seen (`new`).
    FirstSeen,
    /// Events (`freq`).
    Events,
    /// Users (`user`).
    Users,
}

impl IssueSort {
    fn as_query(self) -> &'static str {
        match self {
            IssueSort::LastSeen => "date",
            IssueSort::FirstSeen => "new",
            IssueSort::Events => "freq",
            IssueSort::Users => "user",
        }
    }
}

/// What to set an issue's status to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum IssueStatus {
    Resolved,
    Ignored,
    Unresolved,
}

impl IssueStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueStatus::Resolved => "resolved",
            IssueStatus::Ignored => "ignored",
            IssueStatus::Unresolved => "unresolved",
        }
    }
}

/// One issue as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SentryIssue {
    pub id: String,
    pub short_id: String,
    pub title: String,
    pub culprit: Option<String>,
    pub level: String,
    pub status: String,
    /// Events (Sentry sends a string).
    #[ts(type = "number")]
    pub count: u64,
    #[ts(type = "number")]
    pub user_count: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub permalink: Option<String>,
    /// The release it first appeared in, when Sentry says (the issue's detail does).
    pub first_release: Option<String>,
    pub is_unhandled: bool,
}

/// The issue a short id names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortIdMatch {
    /// The numeric id the issue endpoints take.
    pub issue_id: String,
    /// The slug of the Sentry project the issue belongs to.
    pub project: String,
}

/// True for an issue's numeric id (`4812`); anything else is a short id (`LETTINGS-WEB-P`), the
/// id lists print, which the issue endpoints do not take.
pub fn is_numeric_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|byte| byte.is_ascii_digit())
}

/// One page of issues and the cursors of the pages around it (`None`: there is none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct IssuePage {
    pub issues: Vec<SentryIssue>,
    pub next: Option<String>,
    pub previous: Option<String>,
}

/// An event as the detail shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SentryEvent {
    pub id: String,
    pub title: String,
    /// The logged message, for an event without an exception (or beside it).
    pub message: Option<String>,
    pub date: Option<String>,
    pub release: Option<String>,
    pub environment: Option<String>,
    /// Innermost last, as Sentry lists chained exceptions.
    pub exceptions: Vec<ExceptionView>,
    pub breadcrumbs: Vec<Breadcrumb>,
    pub request: Option<RequestView>,
    pub tags: Vec<KeyValue>,
    pub previous_event_id: Option<String>,
    pub next_event_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionView {
    pub kind: String,
    pub value: Option<String>,
    /// Oldest call first, the failing one last (Sentry's order).
    pub frames: Vec<FrameView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FrameView {
    pub filename: Option<String>,
    pub function: Option<String>,
    pub module: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// The project's own code (open by default), not a library's.
    pub in_app: bool,
    pub context: Vec<ContextLine>,
    pub vars: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ContextLine {
    pub line: u32,
    pub text: String,
    /// The line that failed.
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Breadcrumb {
    pub timestamp: Option<String>,
    pub category: Option<String>,
    pub level: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RequestView {
    pub method: Option<String>,
    pub url: Option<String>,
    pub query: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// Percent-encodes a query or path value (Sentry's search text has spaces, colons, quotes).
pub(super) fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The `query` parameter: the status, release filters and the person's own text.
pub fn search_text(query: &IssueQuery) -> String {
    let mut terms = Vec::new();
    match query.status.unwrap_or(IssueStatusFilter::Unresolved) {
        IssueStatusFilter::Unresolved => terms.push("is:unresolved".to_owned()),
        IssueStatusFilter::Resolved => terms.push("is:resolved".to_owned()),
        IssueStatusFilter::Ignored => terms.push("is:ignored".to_owned()),
        IssueStatusFilter::All => {}
    }
    let quoted = |value: &str| {
        if value.contains(char::is_whitespace) {
            format!("\"{}\"", value.replace('"', ""))
        } else {
            value.to_owned()
        }
    };
    if let Some(release) = query.release.as_deref().filter(|value| !value.is_empty()) {
        terms.push(format!("release:{}", quoted(release)));
    }
    if let Some(release) = query.first_release.as_deref().filter(|value| !value.is_empty()) {
        terms.push(format!("firstRelease:{}", quoted(release)));
    }
    if let Some(text) = query.text.as_deref().map(str::trim).filter(|text| !text.is_empty()) {
        terms.push(text.to_owned());
    }
    terms.join(" ")
}

fn text(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(text) => Some(redact(text).into_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn number(value: &Value, key: &str) -> u64 {
    match value.get(key) {
        Some(Value::Number(number)) => number.as_u64().unwrap_or(0),
        Some(Value::String(text)) => text.parse().unwrap_or(0),
        _ => 0,
    }
}

/// An issue from the list or the detail; `None` when it has no id.
pub fn issue_from(value: &Value) -> Option<SentryIssue> {
    Some(SentryIssue {
        id: text(value, "id")?,
        short_id: text(value, "shortId").unwrap_or_default(),
        title: text(value, "title").unwrap_or_else(|| "(no title)".to_owned()),
        culprit: text(value, "culprit").filter(|culprit| !culprit.is_empty()),
        level: text(value, "level").unwrap_or_else(|| "error".to_owned()),
        status: text(value, "status").unwrap_or_else(|| "unresolved".to_owned()),
        count: number(value, "count"),
        user_count: number(value, "userCount"),
        first_seen: text(value, "firstSeen"),
        last_seen: text(value, "lastSeen"),
        permalink: text(value, "permalink"),
        // An object (`{version, …}`) in the detail; some servers send the version alone.
        first_release: value
            .get("firstRelease")
            .and_then(|release| text(release, "version").or_else(|| release.as_str().map(str::to_owned))),
        is_unhandled: value.get("isUnhandled").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// The entries of `kind` (`exception`, `breadcrumbs`, `request`, `message`) of an event.
fn entries<'a>(event: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    event
        .get("entries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |entry| entry.get("type").and_then(Value::as_str) == Some(kind))
        .filter_map(|entry| entry.get("data"))
}

fn frame_from(frame: &Value) -> FrameView {
    let line = frame.get("lineNo").and_then(Value::as_u64).map(|n| n as u32);
    let context = frame
        .get("context")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|pair| {
            let pair = pair.as_array()?;
            let number = pair.first()?.as_u64()? as u32;
            let text = pair.get(1).and_then(Value::as_str).unwrap_or_default();
            Some(ContextLine {
                line: number,
                text: redact(text).into_owned(),
                current: Some(number) == line,
            })
        })
        .collect();
    let vars = frame
        .get("vars")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(key, value)| KeyValue {
            key: key.clone(),
            value: redact_var(key, value),
        })
        .collect();
    FrameView {
        filename: text(frame, "filename").or_else(|| text(frame, "absPath")),
        function: text(frame, "function"),
        module: text(frame, "module"),
        line,
        column: frame.get("colNo").and_then(Value::as_u64).map(|n| n as u32),
        in_app: frame.get("inApp").and_then(Value::as_bool).unwrap_or(false),
        context,
        vars,
    }
}

/// A local variable as text, hidden when its name says it is a secret (the redactor only
/// knows values it was told about, and the app's own secrets are not Slipway's).
fn redact_var(key: &str, value: &Value) -> String {
    let lower = key.to_ascii_lowercase();
    let secret_name = [
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "authorization",
        "cookie",
    ]
    .iter()
    .any(|word| lower.contains(word));
    if secret_name {
        return crate::redact::REDACTED.to_owned();
    }
    let shown = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let shown: String = shown.chars().take(500).collect();
    redact(&shown).into_owned()
}

/// An event from `events/latest/` or `events/{id}/`, read defensively.
pub fn event_from(event: &Value) -> SentryEvent {
    let exceptions = entries(event, "exception")
        .flat_map(|data| {
            data.get("values")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .map(|exception| ExceptionView {
            kind: text(&exception, "type").unwrap_or_else(|| "Error".to_owned()),
            value: text(&exception, "value"),
            frames: exception
                .get("stacktrace")
                .and_then(|trace| trace.get("frames"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(frame_from)
                .collect(),
        })
        .collect();
    let breadcrumbs = entries(event, "breadcrumbs")
        .flat_map(|data| {
            data.get("values")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .map(|crumb| Breadcrumb {
            timestamp: text(&crumb, "timestamp"),
            category: text(&crumb, "category"),
            level: text(&crumb, "level"),
            message: text(&crumb, "message"),
        })
        .collect();
    let request = entries(event, "request").next().map(|data| RequestView {
        method: text(data, "method"),
        url: text(data, "url"),
        query: match data.get("query") {
            Some(Value::String(query)) => Some(redact(query).into_owned()),
            Some(Value::Array(pairs)) if !pairs.is_empty() => {
                Some(redact(&Value::Array(pairs.clone()).to_string()).into_owned())
            }
            _ => None,
        },
    });
    let message = entries(event, "message")
        .find_map(|data| text(data, "formatted").or_else(|| text(data, "message")))
        .or_else(|| text(event, "message").filter(|message| !message.is_empty()));
    let tags: Vec<KeyValue> = event
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tag| {
            Some(KeyValue {
                key: text(tag, "key")?,
                value: text(tag, "value").unwrap_or_default(),
            })
        })
        .collect();
    let environment = tags
        .iter()
        .find(|tag| tag.key == "environment")
        .map(|tag| tag.value.clone());
    SentryEvent {
        id: text(event, "eventID").or_else(|| text(event, "id")).unwrap_or_default(),
        title: text(event, "title").unwrap_or_default(),
        message,
        date: text(event, "dateCreated").or_else(|| text(event, "dateReceived")),
        release: event
            .get("release")
            .and_then(|release| text(release, "version").or_else(|| release.as_str().map(str::to_owned))),
        environment,
        exceptions,
        breadcrumbs,
        request,
        tags,
        previous_event_id: text(event, "previousEventID"),
        next_event_id: text(event, "nextEventID"),
    }
}

impl SentryClient {
    /// One page of the project's issues (the organization's list, filtered to the project).
    pub async fn issues(
        &self,
        organization: &str,
        project_id: &str,
        query: &IssueQuery,
    ) -> Result<IssuePage, ApiError> {
        let mut path = format!(
            "/organizations/{organization}/issues/?project={}&query={}&limit={}",
            encode(project_id),
            encode(&search_text(query)),
            query.limit.unwrap_or(25).clamp(1, 100)
        );
        if let Some(sort) = query.sort {
            path.push_str(&format!("&sort={}", sort.as_query()));
        }
        if let Some(environment) = query.environment.as_deref().filter(|value| !value.is_empty()) {
            path.push_str(&format!("&environment={}", encode(environment)));
        }
        if let Some(period) = query.period.as_deref().filter(|value| !value.is_empty()) {
            path.push_str(&format!("&statsPeriod={}", encode(period)));
        }
        if let Some(cursor) = query.cursor.as_deref().filter(|value| !value.is_empty()) {
            path.push_str(&format!("&cursor={}", encode(cursor)));
        }
        let (page, headers) = self
            .api
            .get_json::<Vec<Value>>(&path, &format!("organization {organization}"))
            .await?;
        Ok(IssuePage {
            issues: page.iter().filter_map(issue_from).collect(),
            next: page_link(&headers, "next").and_then(|link| link.cursor),
            previous: page_link(&headers, "previous").and_then(|link| link.cursor),
        })
    }

    /// One issue, with the release it first appeared in.
    pub async fn issue(&self, organization: &str, issue_id: &str) -> Result<SentryIssue, ApiError> {
        let (issue, _) = self
            .api
            .get_json::<Value>(
                &format!("/organizations/{organization}/issues/{}/", encode(issue_id)),
                &format!("issue {issue_id}"),
            )
            .await?;
        issue_from(&issue).ok_or_else(|| ApiError::Unreadable {
            service: "Sentry",
            detail: "the issue has no id".to_owned(),
        })
    }

    /// An event of the issue: `latest`, or an id from a previous or next link.
    pub async fn event(&self, organization: &str, issue_id: &str, event_id: &str) -> Result<SentryEvent, ApiError> {
        let (event, _) = self
            .api
            .get_json::<Value>(
                &format!(
                    "/organizations/{organization}/issues/{}/events/{}/",
                    encode(issue_id),
                    encode(event_id)
                ),
                &format!("event {event_id} of issue {issue_id}"),
            )
            .await?;
        Ok(event_from(&event))
    }

    /// The issue a short id names (`GET organizations/{org}/shortids/{short_id}/`), or `None`
    /// when no issue of the organization has it.
    pub async fn short_id(&self, organization: &str, short_id: &str) -> Result<Option<ShortIdMatch>, ApiError> {
        let found = self
            .api
            .get_json::<Value>(
                &format!("/organizations/{organization}/shortids/{}/", encode(short_id)),
                &format!("issue {short_id}"),
            )
            .await;
        let (found, _) = match found {
            Ok(found) => found,
            Err(ApiError::NotFound { .. }) => return Ok(None),
            Err(error) => return Err(error),
        };
        let field = |key: &str| found.get(key).and_then(Value::as_str).map(str::to_owned);
        match (field("groupId"), field("projectSlug")) {
            (Some(issue_id), Some(project)) => Ok(Some(ShortIdMatch { issue_id, project })),
            _ => Err(ApiError::Unreadable {
                service: "Sentry",
                detail: format!("the answer for {short_id} has no groupId or projectSlug"),
            }),
        }
    }

    /// Sets the status of one or several issues at once (the bulk `PUT` on the list).
    pub async fn set_status(
        &self,
        organization: &str,
        issue_ids: &[String],
        status: IssueStatus,
    ) -> Result<(), ApiError> {
        if issue_ids.is_empty() {
            return Ok(());
        }
        // Numeric ids only (`is_numeric_id`): Sentry answers 400 to a short id here.
        let ids: Vec<String> = issue_ids.iter().map(|id| format!("id={}", encode(id))).collect();
        let path = format!("/organizations/{organization}/issues/?{}", ids.join("&"));
        let body = serde_json::json!({ "status": status.as_str() });
        let response = self.api.send(reqwest::Method::PUT, &path, Some(&body)).await?;
        self.api.check(response, "such issue").await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_says_status_releases_and_the_persons_text() {
        let query = IssueQuery {
            release: Some("abc123".into()),
            first_release: Some("v 2".into()),
            text: Some(" TypeError ".into()),
            ..IssueQuery::default()
        };
        assert_eq!(
            search_text(&query),
            "is:unresolved release:abc123 firstRelease:\"v 2\" TypeError"
        );
        let all = IssueQuery {
            status: Some(IssueStatusFilter::All),
            ..IssueQuery::default()
        };
        assert_eq!(search_text(&all), "");
    }

    #[test]
    fn an_event_without_an_exception_keeps_its_message_and_odd_entries_are_skipped() {
        let event = serde_json::json!({
            "eventID": "e1", "title": "Something logged",
            "entries": [
                {"type": "message", "data": {"formatted": "Disk almost full"}},
                {"type": "exception", "data": "not an object"},
                {"type": "unknown-kind", "data": {"values": 3}},
                "not even an object"
            ],
            "tags": [{"key": "environment", "value": "production"}, {"nokey": 1}]
        });
        let shown = event_from(&event);
        assert_eq!(shown.message.as_deref(), Some("Disk almost full"));
        assert!(shown.exceptions.is_empty());
        assert_eq!(shown.environment.as_deref(), Some("production"));
        assert_eq!(shown.tags.len(), 1);
    }

    #[test]
    fn frames_mark_the_failing_line_and_hide_secret_variables() {
        let event = serde_json::json!({
            "eventID": "e2",
            "entries": [{"type": "exception", "data": {"values": [{
                "type": "KeyError", "value": "'rooms'",
                "stacktrace": {"frames": [{
                    "filename": "lettings/views.py", "function": "detail", "lineNo": 12, "inApp": true,
                    "context": [[11, "    room = get(id)"], [12, "    return room['rooms']"]],
                    "vars": {"password": "hunter2", "id": 7}
                }]}
            }]}}]
        });
        let shown = event_from(&event);
        let frame = &shown.exceptions[0].frames[0];
        assert_eq!(shown.exceptions[0].kind, "KeyError");
        assert!(frame.in_app);
        assert_eq!(frame.context.iter().filter(|line| line.current).count(), 1);
        assert!(frame.context[1].current);
        let password = frame
            .vars
            .iter()
            .find(|var| var.key == "password")
            .map(|var| var.value.as_str());
        assert_eq!(password, Some(crate::redact::REDACTED));
        assert_eq!(
            frame
                .vars
                .iter()
                .find(|var| var.key == "id")
                .map(|var| var.value.as_str()),
            Some("7")
        );
    }

    #[test]
    fn numeric_ids_are_told_from_short_ids() {
        assert!(is_numeric_id("4812"));
        for short in ["LETTINGS-WEB-P", "WEB-1", "", "12a"] {
            assert!(!is_numeric_id(short), "{short}");
        }
    }

    #[test]
    fn an_issue_reads_its_count_as_sentry_sends_it() -> Result<(), &'static str> {
        let issue = issue_from(&serde_json::json!({
            "id": "42", "shortId": "WEB-1", "title": "TypeError", "count": "1234", "userCount": 5,
            "firstRelease": {"version": "abc123"}
        }))
        .ok_or("the issue has an id")?;
        assert_eq!(issue.count, 1234);
        assert_eq!(issue.user_count, 5);
        assert_eq!(issue.first_release.as_deref(), Some("abc123"));
        assert!(issue_from(&serde_json::json!({"title": "no id"})).is_none());
        Ok(())
    }
}
