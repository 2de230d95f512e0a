//! Notifications against a receiver on 127.0.0.1: what each kind of target sends, and errors
//! that name the target and the host but never a token or a URL's path.

use std::time::{Duration, Instant};

use super::*;
use crate::clients::test_server::{start, Reply, Seen};

const TOKEN: &str = "tok-very-secret";
/// A path like those of chat services' webhooks, where the secret is.
const SECRET_PATH: &str = "/hooks/s3cr3t-path";

fn at() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_000_000).unwrap()
}

fn date(s: &str) -> jiff::civil::Date {
    s.parse().unwrap()
}

fn item(title: &str, bytes: u64, due: Option<&str>) -> Item {
    Item {
        title: title.to_owned(),
        kind: "movie".to_owned(),
        bytes,
        due: due.map(date),
        reason: None,
    }
}

fn message() -> Message {
    Message::scheduled(
        "nas".to_owned(),
        "run-1".to_owned(),
        at(),
        vec![
            item("Alien", 2_000_000_000, Some("2026-03-05")),
            item("Heat", 3_000_000_000, Some("2026-03-02")),
        ],
    )
}

fn target(via: Via) -> Target {
    Target {
        name: "home".to_owned(),
        via,
        events: Event::ALL.to_vec(),
        timeout: Duration::from_secs(5),
    }
}

fn webhook(url: String, token: Option<&str>) -> Target {
    target(Via::Webhook {
        url,
        token: token.map(|t| Token::new(t.to_owned())),
    })
}

fn ntfy(url: String, token: Option<&str>) -> Target {
    target(Via::Ntfy {
        url,
        token: token.map(|t| Token::new(t.to_owned())),
    })
}

fn command(argv: &[&str]) -> Target {
    target(Via::Command {
        argv: argv.iter().map(|s| s.to_string()).collect(),
    })
}

async fn send_to(target: &Target) -> Result<(), SendError> {
    send(&reqwest::Client::new(), target, &message()).await
}

fn authorization(seen: &Seen) -> Option<String> {
    (seen.headers.get("authorization")).map(|v| v.to_str().unwrap().to_owned())
}

/// `err`'s text, after checking that it shows neither the token nor the secret path.
fn shown(err: &SendError) -> String {
    let text = err.to_string();
    assert!(!text.contains(TOKEN), "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(!text.contains("/hooks"), "{text}");
    text
}

/// A port on 127.0.0.1 that nothing listens on (it was free a moment ago).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

// Webhook.

#[tokio::test]
async fn a_webhook_posts_the_message_as_json_with_its_token() {
    let srv = start(|_, _| Reply::status(204)).await;
    let url = format!("{}{SECRET_PATH}", srv.url);
    send_to(&webhook(url, Some(TOKEN))).await.unwrap();
    let seen = srv.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, SECRET_PATH);
    assert_eq!(seen[0].json(), serde_json::to_value(message()).unwrap());
    assert_eq!(
        seen[0].headers.get("content-type").unwrap(),
        "application/json"
    );
    assert_eq!(authorization(&seen[0]), Some(format!("Bearer {TOKEN}")));
}

#[tokio::test]
async fn a_webhook_without_a_token_sends_no_authorization() {
    let srv = start(|_, _| Reply::status(200)).await;
    send_to(&webhook(format!("{}/hook", srv.url), None))
        .await
        .unwrap();
    let seen = srv.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].json(), serde_json::to_value(message()).unwrap());
    assert_eq!(authorization(&seen[0]), None);
}

#[test]
fn the_webhook_body_reads_back_as_the_message() {
    let m = message();
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["event"], "scheduled");
    assert_eq!(json["host"], "nas");
    assert_eq!(json["run_id"], "run-1");
    assert_eq!(json["total_bytes"], 5_000_000_000_u64);
    assert_eq!(json["items"][0]["due"], "2026-03-05");
    // Absent, not null: `reason` is for deleted items.
    assert!(json["items"][0].get("reason").is_none());
    let back: Message = serde_json::from_value(json).unwrap();
    assert_eq!(back, m);
}

// ntfy.

#[tokio::test]
async fn ntfy_publishes_json_at_the_root_with_the_topic_inside() {
    let srv = start(|_, _| Reply::status(200)).await;
    let url = format!("{}/shelflife", srv.url);
    send_to(&ntfy(url, None)).await.unwrap();
    let seen = srv.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/");
    let m = message();
    assert_eq!(
        seen[0].json(),
        serde_json::json!({
            "topic": "shelflife",
            "title": m.title,
            "message": m.text,
            "tags": ["hourglass"],
        })
    );
    assert_eq!(authorization(&seen[0]), None);
}

#[tokio::test]
async fn ntfy_sends_its_token_as_a_bearer() {
    let srv = start(|_, _| Reply::status(200)).await;
    send_to(&ntfy(format!("{}/shelflife/", srv.url), Some(TOKEN)))
        .await
        .unwrap();
    let seen = srv.seen();
    assert_eq!(seen[0].path, "/");
    assert_eq!(seen[0].json()["topic"], "shelflife");
    assert_eq!(authorization(&seen[0]), Some(format!("Bearer {TOKEN}")));
}

#[test]
fn each_event_has_its_own_ntfy_tag() {
    let tags: Vec<&str> = Event::ALL.into_iter().map(tag).collect();
    assert_eq!(tags, ["hourglass", "wastebasket", "warning", "x"]);
}

#[test]
fn the_topic_is_the_last_segment_of_the_url() {
    let split = split_topic;
    assert_eq!(
        split("https://ntfy.example/shelflife"),
        ("https://ntfy.example/".to_owned(), "shelflife".to_owned())
    );
    assert_eq!(
        split("http://127.0.0.1:8080/shelflife/"),
        ("http://127.0.0.1:8080/".to_owned(), "shelflife".to_owned())
    );
    // ntfy behind a reverse proxy, under a path of its own.
    assert_eq!(
        split("https://example.org/ntfy/shelflife"),
        (
            "https://example.org/ntfy/".to_owned(),
            "shelflife".to_owned()
        )
    );
    // No topic: the host is not taken for one.
    assert_eq!(
        split("https://ntfy.example"),
        ("https://ntfy.example".to_owned(), String::new())
    );
    assert_eq!(
        split("https://ntfy.example/"),
        ("https://ntfy.example".to_owned(), String::new())
    );
    assert_eq!(
        split("http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080".to_owned(), String::new())
    );
}

#[test]
fn the_endpoint_keeps_scheme_host_and_port_only() {
    assert_eq!(
        endpoint("https://chat.example/hooks/s3cr3t-path?x=1#y"),
        "https://chat.example"
    );
    assert_eq!(
        endpoint("http://127.0.0.1:8080/hooks/s3cr3t-path"),
        "http://127.0.0.1:8080"
    );
    assert_eq!(
        endpoint("https://user:pa55@chat.example:8443/x"),
        "https://chat.example:8443"
    );
    // The scheme's own port is not written out.
    assert_eq!(
        endpoint("https://chat.example:443/x"),
        "https://chat.example"
    );
    assert_eq!(endpoint("not a url s3cr3t"), "its URL");
}

// Errors.

#[tokio::test]
async fn an_error_status_is_reported_without_the_path_or_the_token() {
    let srv = start(|_, _| Reply::status(500)).await;
    let url = format!("{}{SECRET_PATH}", srv.url);
    for t in [webhook(url.clone(), Some(TOKEN)), ntfy(url, Some(TOKEN))] {
        let err = send_to(&t).await.unwrap_err();
        match &err {
            SendError::Status {
                target,
                endpoint,
                status,
            } => {
                assert_eq!(target, "home");
                assert_eq!(endpoint, &srv.url);
                assert_eq!(*status, 500);
            }
            other => panic!("expected a status error, got {other:?}"),
        }
        let text = shown(&err);
        assert!(text.contains("home"), "{text}");
        assert!(text.contains("500"), "{text}");
        assert!(text.contains(&srv.url), "{text}");
    }
    assert_eq!(srv.count(), 2, "no retries here");
}

#[tokio::test]
async fn a_receiver_that_is_down_is_unreachable_without_the_path_or_the_token() {
    let url = format!("http://127.0.0.1:{}{SECRET_PATH}", closed_port());
    for t in [webhook(url.clone(), Some(TOKEN)), ntfy(url, Some(TOKEN))] {
        let err = send_to(&t).await.unwrap_err();
        assert!(
            matches!(&err, SendError::Unreachable { target, .. } if target == "home"),
            "{err:?}"
        );
        let text = shown(&err);
        assert!(text.contains("127.0.0.1"), "{text}");
        assert!(text.contains("connection failed"), "{text}");
    }
}

#[tokio::test]
async fn a_receiver_that_never_answers_times_out_at_the_target_timeout() {
    let srv = start(|_, _| Reply::status(200).delay(Duration::from_secs(30))).await;
    let mut t = webhook(format!("{}{SECRET_PATH}", srv.url), Some(TOKEN));
    t.timeout = Duration::from_millis(200);
    let started = Instant::now();
    let err = send_to(&t).await.unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(&err, SendError::Timeout { target, timeout }
            if target == "home" && *timeout == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(took >= Duration::from_millis(200), "{took:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert_eq!(srv.count(), 1, "the request did arrive");
    shown(&err);
}

// Command.

#[tokio::test]
async fn a_command_gets_the_message_json_on_its_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("message.json");
    let file_arg = file.to_str().unwrap();
    let t = command(&["sh", "-c", "cat > \"$1\"", "sh", file_arg]);
    send_to(&t).await.unwrap();
    let got: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(got, serde_json::to_value(message()).unwrap());
}

#[tokio::test]
async fn a_failing_command_says_its_status_and_its_stderr() {
    let t = command(&["sh", "-c", "echo boom >&2; exit 3"]);
    let err = send_to(&t).await.unwrap_err();
    let SendError::Command { target, why } = &err else {
        panic!("expected a command error, got {err:?}");
    };
    assert_eq!(target, "home");
    assert!(why.contains("boom"), "{why}");
    assert!(why.contains('3'), "{why}");
    assert!(err.to_string().contains("boom"), "{err}");
}

#[tokio::test]
async fn a_command_that_does_not_read_its_stdin_still_succeeds() {
    send_to(&command(&["true"])).await.unwrap();
}

#[tokio::test]
async fn a_command_without_a_program_is_an_error() {
    let err = send_to(&command(&[])).await.unwrap_err();
    assert!(
        matches!(&err, SendError::Command { target, why }
            if target == "home" && why.contains("no program")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_program_that_does_not_exist_is_an_error() {
    let t = command(&["/nonexistent/shelflife-notify-hook", "--flag"]);
    let err = send_to(&t).await.unwrap_err();
    assert!(
        matches!(&err, SendError::Command { why, .. }
            if why.contains("cannot start /nonexistent/shelflife-notify-hook")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_command_that_hangs_times_out_and_is_killed() {
    let mut t = command(&["sleep", "30"]);
    t.timeout = Duration::from_millis(200);
    let started = Instant::now();
    let err = send_to(&t).await.unwrap_err();
    assert!(matches!(err, SendError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
}

// Messages.

#[test]
fn a_scheduled_message_lists_its_items_and_adds_up_their_sizes() {
    let m = message();
    assert_eq!(m.version, 1);
    assert_eq!(m.event, Event::Scheduled);
    assert_eq!((m.host.as_str(), m.run_id.as_str()), ("nas", "run-1"));
    assert_eq!(m.at, at());
    assert_eq!(m.total_bytes, 5_000_000_000);
    assert_eq!(m.items.len(), 2);
    assert_eq!(m.reason, None);
    // The first date any of them goes.
    assert_eq!(
        m.title,
        "2 titles leaving Jellyfin from 2026-03-02 (5.0 GB)"
    );
    assert_eq!(
        m.text,
        "Alien · 2.0 GB · goes on 2026-03-05\nHeat · 3.0 GB · goes on 2026-03-02"
    );
}

#[test]
fn a_scheduled_message_without_dates_says_soon() {
    let m = Message::scheduled(
        "nas".into(),
        "r".into(),
        at(),
        vec![item("Heat", 700_000_000, None)],
    );
    assert_eq!(m.title, "1 title leaving Jellyfin soon (700 MB)");
    assert_eq!(m.text, "Heat · 700 MB");
}

#[test]
fn a_deleted_message_says_what_was_freed() {
    let mut gone = item("Heat", 3_000_000_000, None);
    gone.reason = Some("watched 30 days ago".into());
    let items = vec![gone, item("Alien", 1_500, None)];
    let m = Message::deleted("nas".into(), "r".into(), at(), items.clone());
    assert_eq!(m.event, Event::Deleted);
    assert_eq!(m.total_bytes, 3_000_001_500);
    assert_eq!(m.items, items);
    assert_eq!(m.title, "Deleted 2 titles, 3.0 GB freed");
    assert_eq!(m.text, "Heat · 3.0 GB\nAlien · 1.5 KB");
    assert_eq!(m.reason, None);
}

#[test]
fn paused_and_failed_messages_carry_their_reason() {
    let p = Message::paused(
        "nas".into(),
        "r".into(),
        at(),
        "/srv/media is not mounted".into(),
    );
    assert_eq!(p.event, Event::Paused);
    assert_eq!(p.reason.as_deref(), Some("/srv/media is not mounted"));
    assert!(p.text.contains("/srv/media is not mounted"), "{}", p.text);
    assert!(p.items.is_empty());
    assert_eq!(p.total_bytes, 0);

    let f = Message::failed("nas".into(), "r".into(), at(), "radarr answered 401".into());
    assert_eq!(f.event, Event::Failed);
    assert_eq!(f.reason.as_deref(), Some("radarr answered 401"));
    assert_eq!(f.text, "radarr answered 401");
    assert!(f.items.is_empty());
    assert_eq!(f.total_bytes, 0);
}

#[test]
fn the_text_lists_twenty_items_then_says_how_many_more() {
    let items = |n: usize| -> Vec<Item> {
        (1..=n)
            .map(|i| item(&format!("Movie {i}"), 1, None))
            .collect()
    };
    let twenty = Message::deleted("nas".into(), "r".into(), at(), items(20));
    assert_eq!(twenty.text.lines().count(), 20);
    assert!(!twenty.text.contains("more"), "{}", twenty.text);

    let m = Message::scheduled("nas".into(), "r".into(), at(), items(25));
    let lines: Vec<&str> = m.text.lines().collect();
    assert_eq!(lines.len(), 21);
    assert_eq!(lines[0], "Movie 1 · 1 B");
    assert_eq!(lines[19], "Movie 20 · 1 B");
    assert_eq!(lines[20], "and 5 more");
    // Only the text is cut short: the items and the total are all there.
    assert_eq!(m.items.len(), 25);
    assert_eq!(m.total_bytes, 25);
    assert_eq!(m.title, "25 titles leaving Jellyfin soon (25 B)");
}

// Tokens and events.

#[test]
fn a_token_never_shows_in_debug_or_display() {
    let token = Token::new(TOKEN.to_owned());
    assert_eq!(token.expose(), TOKEN);
    assert!(!format!("{token:?}").contains(TOKEN));
    assert!(!format!("{token}").contains(TOKEN));
    // Nor in the targets that hold it.
    let t = webhook("https://chat.example/x".into(), Some(TOKEN));
    assert!(!format!("{t:?}").contains(TOKEN), "{t:?}");
    let t = ntfy("https://ntfy.example/x".into(), Some(TOKEN));
    assert!(!format!("{t:#?}").contains(TOKEN), "{t:#?}");
}

#[test]
fn events_read_back_from_their_names() {
    for event in Event::ALL {
        assert_eq!(event.as_str().parse::<Event>(), Ok(event));
        // The JSON name is the same one.
        assert_eq!(
            serde_json::to_value(event).unwrap(),
            serde_json::Value::from(event.as_str())
        );
    }
    let names: Vec<&str> = Event::ALL.into_iter().map(Event::as_str).collect();
    assert_eq!(names, ["scheduled", "deleted", "paused", "failed"]);
}

#[test]
fn an_unknown_event_is_refused_with_the_known_ones() {
    for bad in ["started", "Scheduled", ""] {
        let err = bad.parse::<Event>().unwrap_err();
        assert!(err.contains(&format!("{bad:?}")), "{err}");
        assert!(
            err.contains("scheduled, deleted, paused or failed"),
            "{err}"
        );
    }
}

#[test]
fn a_target_wants_only_its_events() {
    let mut t = webhook("https://chat.example/x".into(), None);
    t.events = vec![Event::Deleted, Event::Failed];
    assert!(t.wants(Event::Deleted));
    assert!(t.wants(Event::Failed));
    assert!(!t.wants(Event::Scheduled));
    assert!(!t.wants(Event::Paused));
}
