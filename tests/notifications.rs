//! `[[notify]]` over real HTTP and a real program: a webhook receiver on 127.0.0.1 gets one
//! digest per pass of newly scheduled items, one summary of what a pass deleted, and one
//! message per storage outage; a receiver that is down changes nothing about the deletions and
//! gets its messages at a later pass; a `command` target gets the same JSON on its stdin.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::State as Extract;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use common::days::{movies, Days};
use serde_json::Value;
use shelflife_testkit::Tmpfs;

const CANARY: &str = ".shelflife-canary";

/// One POST a receiver got: its `Authorization` header and its JSON body.
type Received = (Option<String>, Value);

/// What a receiver got.
#[derive(Clone, Default)]
struct Inbox(Arc<Mutex<Vec<Received>>>);

impl Inbox {
    fn bodies(&self) -> Vec<Value> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }

    fn events(&self) -> Vec<String> {
        (self.bodies().iter())
            .map(|b| b["event"].as_str().unwrap_or("?").to_owned())
            .collect()
    }
}

/// A webhook receiver on `listener`, answering 204 to every POST to `/hook`.
fn receive(listener: tokio::net::TcpListener) -> Inbox {
    let inbox = Inbox::default();
    let app = Router::new()
        .route(
            "/hook",
            post(
                |Extract(inbox): Extract<Inbox>, headers: HeaderMap, body: String| async move {
                    let auth = (headers.get("authorization"))
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
                    inbox.0.lock().unwrap().push((auth, body));
                    axum::http::StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(inbox.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    inbox
}

async fn listener(port: u16) -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind a receiver")
}

fn webhook(port: u16) -> String {
    format!(
        "[[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{port}/hook\"\n\
         token = \"hook-secret\"\ntimeout = \"2s\"\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_gets_one_digest_one_summary_and_one_message_per_outage() {
    let Some(disk) = Tmpfs::mount("4m") else {
        return;
    };
    let canary = disk.path().join(CANARY);
    std::fs::write(&canary, b"").unwrap();
    let receiver = listener(0).await;
    let port = receiver.local_addr().unwrap().port();
    let inbox = receive(receiver);
    let config = format!(
        "[rules]\nnotice_days = 3\n\n{}\n[[health.mounts]]\npath = {:?}\ncanary = \"{CANARY}\"\n\
         timeout = \"1s\"\n",
        webhook(port),
        disk.path().display().to_string()
    );
    let mut days = Days::start(movies(&["Alien", "Heat", "Arrival"]), &config).await;

    // Day 0: one digest of the three items, with their sizes and due dates.
    days.live(0).await;
    assert_eq!(inbox.events(), ["scheduled"]);
    let digest = &inbox.bodies()[0];
    let items = digest["items"].as_array().expect("items");
    assert_eq!(items.len(), 3, "{digest:#}");
    let due = days.at(3).to_zoned(jiff::tz::TimeZone::system()).date();
    for item in items {
        assert_eq!(item["due"], due.to_string(), "{item:#}");
        assert!(item["bytes"].as_u64().unwrap() > 0, "{item:#}");
    }
    let sizes: u64 = items.iter().map(|i| i["bytes"].as_u64().unwrap()).sum();
    assert_eq!(digest["total_bytes"], sizes);
    assert!(
        digest["text"].as_str().unwrap().contains("Alien"),
        "{digest:#}"
    );
    let auth = inbox.0.lock().unwrap()[0].0.clone();
    assert_eq!(auth.as_deref(), Some("Bearer hook-secret"));

    // Day 1: the same items, still scheduled: nothing new to say.
    days.live(1).await;
    assert_eq!(inbox.events(), ["scheduled"]);

    // Day 2: the canary is gone: one message for the outage, however many passes it lasts.
    std::fs::remove_file(&canary).unwrap();
    let paused = days.live(2).await;
    assert!(paused.paused.is_some(), "the pass paused");
    days.live(2).await;
    assert_eq!(inbox.events(), ["scheduled", "paused"]);
    let reason = inbox.bodies()[1]["reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("canary"), "{reason}");

    // Day 3: back and due: one summary of the three deletions.
    std::fs::write(&canary, b"").unwrap();
    let day3 = days.live(3).await;
    assert_eq!(day3.plan.deletions().count(), 3);
    assert_eq!(inbox.events(), ["scheduled", "paused", "deleted"]);
    let summary = &inbox.bodies()[2];
    assert_eq!(summary["items"].as_array().unwrap().len(), 3, "{summary:#}");

    // A second outage is a second message.
    std::fs::remove_file(&canary).unwrap();
    days.live(4).await;
    assert_eq!(inbox.events(), ["scheduled", "paused", "deleted", "paused"]);
    assert!(days.state.outbox().unwrap().is_empty(), "all delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_is_down_changes_no_deletion_and_is_told_later() {
    // A port with nothing listening on it, for now.
    let port = listener(0).await.local_addr().unwrap().port();
    let mut days = Days::start(movies(&["Alien", "Heat"]), &webhook(port)).await;

    let day0 = days.live(0).await;
    assert_eq!(day0.plan.deletions().count(), 2);
    assert!(!days.movie_exists("Alien") && !days.movie_exists("Heat"));
    let waiting = days.state.outbox().unwrap();
    assert_eq!(waiting.len(), 1, "the summary waits");
    assert_eq!(waiting[0].event, "deleted");
    assert_eq!(waiting[0].attempts, 1);
    let error = waiting[0].last_error.clone().unwrap_or_default();
    assert!(!error.is_empty());
    assert!(
        !error.contains("hook-secret") && !error.contains("/hook"),
        "no secret and no path in {error:?}"
    );

    // The receiver is up at the next pass, which has nothing to delete: the summary arrives.
    let inbox = receive(listener(port).await);
    days.live(1).await;
    assert_eq!(inbox.events(), ["deleted"]);
    let titles: Vec<String> = (inbox.bodies()[0]["items"].as_array().unwrap().iter())
        .filter_map(|i| i["title"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(days.state.outbox().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_target_gets_the_same_json_on_stdin() {
    let receiver = listener(0).await;
    let port = receiver.local_addr().unwrap().port();
    let inbox = receive(receiver);
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("message.json");
    let config = format!(
        "{}\n[[notify]]\nname = \"script\"\nkind = \"command\"\n\
         command = [\"sh\", \"-c\", \"cat > \\\"$0\\\"\", {:?}]\n",
        webhook(port),
        file.display().to_string()
    );
    let mut days = Days::start(movies(&["Alien"]), &config).await;

    days.live(0).await;
    let stdin: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("the command ran"))
            .expect("JSON on stdin");
    assert_eq!(
        inbox.bodies(),
        std::slice::from_ref(&stdin),
        "the same message both ways"
    );
    assert_eq!(stdin["event"], "deleted");
    assert_eq!(stdin["version"], 1);
}
