//! Sending one notification to one target: a webhook (the JSON body, POSTed), ntfy (title and
//! text, published as JSON to the server's root so that any title survives), or a command (the
//! JSON body on its stdin, no shell). No retries here: the pass keeps what failed in its outbox.
//!
//! Errors name the target and say what went wrong; they never carry a token, nor the path,
//! query or user info of a URL (webhook URLs of chat services hold their secret in the path).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use crate::units::format_bytes;

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    Scheduled,
    Deleted,
    Paused,
    Failed,
}

impl Event {
    pub const ALL: [Event; 4] = [
        Event::Scheduled,
        Event::Deleted,
        Event::Paused,
        Event::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Scheduled => "scheduled",
            Event::Deleted => "deleted",
            Event::Paused => "paused",
            Event::Failed => "failed",
        }
    }
}

impl FromStr for Event {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Event::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| {
                format!("unknown event {s:?} (expected scheduled, deleted, paused or failed)")
            })
    }
}

/// A target's token. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(token: String) -> Self {
        Token(token)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How a target is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Webhook { url: String, token: Option<Token> },
    Ntfy { url: String, token: Option<Token> },
    Command { argv: Vec<String> },
}

/// One `[[notify]]` target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub via: Via,
    pub events: Vec<Event>,
    pub timeout: Duration,
}

impl Target {
    pub fn wants(&self, event: Event) -> bool {
        self.events.contains(&event)
    }
}

/// One item of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub title: String,
    /// `movie`, `season` or `episode`.
    pub kind: String,
    pub bytes: u64,
    /// When it goes (scheduled items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<jiff::civil::Date>,
    /// Why it went (deleted items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The JSON body every target gets (a webhook as its request body, a command on its stdin):
///
/// - `version`: 1;
/// - `event`: `scheduled`, `deleted`, `paused` or `failed`;
/// - `host`: the machine's name; `run_id`: the pass's id in the logs; `at`: when (RFC 3339);
/// - `title`: one line; `text`: a few lines for a person;
/// - `items`: for `scheduled` and `deleted`, each with `title`, `kind`, `bytes`, and `due`
///   (`YYYY-MM-DD`) or `reason`;
/// - `total_bytes`: the items' sizes added up;
/// - `reason`: for `paused` and `failed`, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub version: u32,
    pub event: Event,
    pub host: String,
    pub run_id: String,
    pub at: jiff::Timestamp,
    pub title: String,
    pub text: String,
    pub items: Vec<Item>,
    pub total_bytes: u64,
    pub reason: Option<String>,
}

/// Lines of items a message's text lists before it says how many more there are.
const TEXT_ITEMS: usize = 20;

impl Message {
    fn new(event: Event, host: String, run_id: String, at: jiff::Timestamp) -> Message {
        Message {
            version: 1,
            event,
            host,
            run_id,
            at,
            title: String::new(),
            text: String::new(),
            items: Vec::new(),
            total_bytes: 0,
            reason: None,
        }
    }

    pub fn scheduled(
        host: String,
        run_id: String,
        at: jiff::Timestamp,
        items: Vec<Item>,
    ) -> Message {
        let mut m = Message::new(Event::Scheduled, host, run_id, at);
        m.total_bytes = items.iter().map(|i| i.bytes).sum();
        let first = items.iter().filter_map(|i| i.due).min();
        m.title = match first {
            Some(due) => format!(
                "{} leaving Jellyfin from {due} ({})",
                count(items.len()),
                format_bytes(m.total_bytes)
            ),
            None => format!(
                "{} leaving Jellyfin soon ({})",
                count(items.len()),
                format_bytes(m.total_bytes)
            ),
        };
        m.text = lines(&items, |i| match i.due {
            Some(due) => format!("{} · {} · goes on {due}", i.title, format_bytes(i.bytes)),
            None => format!("{} · {}", i.title, format_bytes(i.bytes)),
        });
        m.items = items;
        m
    }

    pub fn deleted(host: String, run_id: String, at: jiff::Timestamp, items: Vec<Item>) -> Message {
        let mut m = Message::new(Event::Deleted, host, run_id, at);
        m.total_bytes = items.iter().map(|i| i.bytes).sum();
        m.title = format!(
            "Deleted {}, {} freed",
            count(items.len()),
            format_bytes(m.total_bytes)
        );
        m.text = lines(&items, |i| {
            format!("{} · {}", i.title, format_bytes(i.bytes))
        });
        m.items = items;
        m
    }

    pub fn paused(host: String, run_id: String, at: jiff::Timestamp, reason: String) -> Message {
        let mut m = Message::new(Event::Paused, host, run_id, at);
        m.title = "shelflife paused: the storage is not healthy".to_owned();
        m.text = format!("Nothing is deleted until it is: {reason}");
        m.reason = Some(reason);
        m
    }

    pub fn failed(host: String, run_id: String, at: jiff::Timestamp, reason: String) -> Message {
        let mut m = Message::new(Event::Failed, host, run_id, at);
        m.title = "shelflife: a pass failed".to_owned();
        m.text = reason.clone();
        m.reason = Some(reason);
        m
    }
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 title".to_owned()
    } else {
        format!("{n} titles")
    }
}

fn lines(items: &[Item], line: impl Fn(&Item) -> String) -> String {
    let mut out: Vec<String> = items.iter().take(TEXT_ITEMS).map(line).collect();
    if items.len() > TEXT_ITEMS {
        out.push(format!("and {} more", items.len() - TEXT_ITEMS));
    }
    out.join("\n")
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("notify target {target}: {endpoint} answered {status}")]
    Status {
        target: String,
        endpoint: String,
        status: u16,
    },
    #[error("notify target {target}: cannot reach {endpoint}: {why}")]
    Unreachable {
        target: String,
        endpoint: String,
        why: String,
    },
    #[error("notify target {target}: no answer within {timeout:?}")]
    Timeout { target: String, timeout: Duration },
    #[error("notify target {target}: {why}")]
    Command { target: String, why: String },
}

/// Sends `message` to `target` once, within `target.timeout`.
pub async fn send(
    client: &reqwest::Client,
    target: &Target,
    message: &Message,
) -> Result<(), SendError> {
    let timeout = target.timeout;
    let work = async {
        match &target.via {
            Via::Webhook { url, token } => {
                let mut req = client.post(url).json(message);
                if let Some(token) = token {
                    req = req.bearer_auth(token.expose());
                }
                http(target, url, req).await
            }
            Via::Ntfy { url, token } => {
                let (root, topic) = split_topic(url);
                let body = serde_json::json!({
                    "topic": topic,
                    "title": message.title,
                    "message": message.text,
                    "tags": [tag(message.event)],
                });
                let mut req = client.post(root).json(&body);
                if let Some(token) = token {
                    req = req.bearer_auth(token.expose());
                }
                http(target, url, req).await
            }
            Via::Command { argv } => command(target, argv, message).await,
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| {
            Err(SendError::Timeout {
                target: target.name.clone(),
                timeout,
            })
        })
}

fn tag(event: Event) -> &'static str {
    match event {
        Event::Scheduled => "hourglass",
        Event::Deleted => "wastebasket",
        Event::Paused => "warning",
        Event::Failed => "x",
    }
}

/// ntfy publishes JSON at its root with the topic inside, which carries any title (headers
/// cannot hold arbitrary UTF-8): `https://ntfy.example/shelflife` → root and `shelflife`.
fn split_topic(url: &str) -> (String, String) {
    let trimmed = url.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some((root, topic)) if !root.ends_with('/') && !root.ends_with(':') => {
            (format!("{root}/"), topic.to_owned())
        }
        _ => (trimmed.to_owned(), String::new()),
    }
}

/// `scheme://host[:port]` of `url`: what an error may show of it.
fn endpoint(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{}://{h}:{p}", u.scheme()),
            (Some(h), None) => format!("{}://{h}", u.scheme()),
            _ => u.scheme().to_owned(),
        },
        Err(_) => "its URL".to_owned(),
    }
}

async fn http(target: &Target, url: &str, req: reqwest::RequestBuilder) -> Result<(), SendError> {
    let answer = req.send().await.map_err(|e| SendError::Unreachable {
        target: target.name.clone(),
        endpoint: endpoint(url),
        // Without the URL: reqwest's message names it.
        why: if e.is_connect() {
            "connection failed".to_owned()
        } else {
            "request failed".to_owned()
        },
    })?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(SendError::Status {
            target: target.name.clone(),
            endpoint: endpoint(url),
            status: status.as_u16(),
        })
    }
}

async fn command(target: &Target, argv: &[String], message: &Message) -> Result<(), SendError> {
    let fail = |why: String| SendError::Command {
        target: target.name.clone(),
        why,
    };
    let Some((program, args)) = argv.split_first() else {
        return Err(fail("no program given".to_owned()));
    };
    let body = serde_json::to_vec(message).map_err(|e| fail(e.to_string()))?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| fail(format!("cannot start {program}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A program that does not read its input is its own business.
        let _ = stdin.write_all(&body).await;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let snippet: String = stderr.trim().chars().take(200).collect();
    Err(fail(format!(
        "{program} exited with {}: {snippet}",
        out.status
    )))
}

#[cfg(test)]
mod tests;
