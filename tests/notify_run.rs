//! `shelflife run` under a test NOTIFY_SOCKET, as the oneshot unit runs it (`NotifyAccess=main`):
//! a `STATUS=` at each phase and before each delete, each with `EXTEND_TIMEOUT_USEC=`, and a last
//! status that says how the pass ended.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::notify::Notify;
use common::{small_library, Harness};
use shelflife_testkit::Tmpfs;

/// Runs `shelflife <args>` with NOTIFY_SOCKET set and returns the exit code and every message.
async fn run_notified(h: &Harness, args: &[&str]) -> (i32, Notify) {
    let mut notify = Notify::bind(h.dir.path());
    let child = h
        .command(args)
        .env("NOTIFY_SOCKET", &notify.path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let run = Harness::wait(child).await;
    // A datagram is queued on the socket when it is sent: after the exit, all of them are there.
    notify.drain();
    (run.code, notify)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_pass_reports_each_phase_and_each_delete() {
    let h = Harness::start(small_library(), "").await;
    let (code, notify) = run_notified(&h, &["run", "--apply"]).await;
    assert_eq!(code, 0, "{:?}", notify.seen);

    let statuses = notify.values("STATUS");
    let expected_in_order = [
        "checking storage",
        "reading the library",
        "planning: 3 to delete",
        "deleting 1/3: Alien (1979)",
        "deleting 2/3: Heat (1995)",
        "deleting 3/3: Dark S01",
    ];
    let mut at = 0;
    for want in expected_in_order {
        let found = statuses[at..].iter().position(|s| s == want);
        let Some(offset) = found else {
            panic!("no {want:?} after {:?} in {statuses:?}", statuses.get(at));
        };
        at += offset + 1;
    }
    let last = statuses.last().expect("a status");
    assert!(
        last.starts_with("done: ") && last.contains("deleted 3"),
        "{statuses:?}"
    );

    // Every status extends the start timeout: the pass is alive.
    let extend = format!(
        "EXTEND_TIMEOUT_USEC={}",
        shelflife::systemd::PROGRESS_GRACE.as_micros()
    );
    for message in notify.all("STATUS=") {
        assert!(message.text.contains(&extend), "{:?}", message.text);
    }
    assert!(
        notify.all("READY=1").is_empty(),
        "a oneshot never says READY"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_reports_the_plan_but_no_deletes() {
    let h = Harness::start(small_library(), "").await;
    let (code, notify) = run_notified(&h, &["run"]).await;
    assert_eq!(code, 0, "{:?}", notify.seen);
    let statuses = notify.values("STATUS");
    assert!(
        statuses.iter().any(|s| s == "planning: 3 to delete"),
        "{statuses:?}"
    );
    assert!(
        !statuses.iter().any(|s| s.starts_with("deleting")),
        "{statuses:?}"
    );
    assert!(
        statuses
            .last()
            .is_some_and(|s| s.contains("would delete 3")),
        "{statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_pass_says_why_in_its_last_status() {
    let Some(disk) = Tmpfs::mount("1m") else {
        return;
    };
    let extra = format!(
        "[[health.mounts]]\npath = {:?}\ncanary = \".shelflife-canary\"\ntimeout = \"1s\"\n",
        disk.path().display().to_string()
    );
    let h = Harness::start(small_library(), &extra).await;
    let (code, notify) = run_notified(&h, &["run", "--apply"]).await;
    assert_eq!(code, 75, "{:?}", notify.seen);
    let statuses = notify.values("STATUS");
    let last = statuses.last().expect("a status");
    assert!(
        last.starts_with("paused: ") && last.contains("canary .shelflife-canary is missing"),
        "{statuses:?}"
    );
    assert!(h.stack.writes().is_empty());
}
