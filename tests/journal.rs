//! The journal seen from outside: a pass killed at any moment resumes without deleting anything
//! twice, two passes never overlap, and the records feed `status`, `history` and `db`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{assert_killed_in_flight, history, now, Harness};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use shelflife_sim::{MovieSpec, SeriesSpec, Service, World};

/// Four movies to delete; an ended series whose two seasons go whole; a continuing one whose
/// first season goes episode by episode (hybrid mode) and whose newest season stays; a kept movie.
/// Six DELETE calls: one per movie, one bulk call per series.
fn world() -> World {
    World::new(now())
        .user("alice")
        .movie(MovieSpec::new("Alien", 1979).watched("alice", 20.0))
        .movie(MovieSpec::new("Brazil", 1985).watched("alice", 21.0))
        .movie(MovieSpec::new("Casablanca", 1942).watched("alice", 22.0))
        .movie(MovieSpec::new("Dune", 2021).watched("alice", 23.0))
        .movie(
            MovieSpec::new("Kept", 2000)
                .watched("alice", 20.0)
                .tag("keep"),
        )
        .series(
            SeriesSpec::new("Ended", true)
                .season(1, 3)
                .season(2, 3)
                .watched("alice", 1, 1..=3, 20.0)
                .watched("alice", 2, 1..=3, 20.0),
        )
        .series(
            SeriesSpec::new("Airing", false)
                .season(1, 4)
                .season(2, 4)
                .watched("alice", 1, 1..=4, 20.0),
        )
}

fn files(h: &Harness) -> BTreeSet<String> {
    h.stack.with_world(|w| w.files.clone())
}

/// The files an uninterrupted live pass deletes from [`world`].
async fn files_a_clean_pass_deletes() -> BTreeSet<String> {
    let h = Harness::start(world(), "").await;
    let before = files(&h);
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    // Radarr removes a movie's files a moment after it answered.
    h.stack.idle().await;
    before.difference(&files(&h)).cloned().collect()
}

/// Records every file each DELETE removed, across passes, and how many DELETEs were carried out;
/// optionally kills `pid` right after the `kill_at`-th delete was carried out, before its answer
/// reaches shelflife.
struct Deletions {
    removed: Arc<Mutex<Vec<String>>>,
    carried_out: Arc<AtomicUsize>,
    pid: Arc<AtomicU32>,
}

impl Deletions {
    fn watch(h: &Harness, kill_at: Option<usize>) -> Deletions {
        let removed = Arc::new(Mutex::new(Vec::new()));
        let pid = Arc::new(AtomicU32::new(0));
        let carried_out = Arc::new(AtomicUsize::new(0));
        let (log, count, target) = (removed.clone(), carried_out.clone(), pid.clone());
        h.stack.on_delete(move |event, _| {
            log.lock()
                .expect("log")
                .extend(event.removed.iter().cloned());
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            let pid = target.load(Ordering::SeqCst);
            if Some(n) == kill_at && pid != 0 {
                let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            }
        });
        Deletions {
            removed,
            carried_out,
            pid,
        }
    }

    fn carried_out(&self) -> usize {
        self.carried_out.load(Ordering::SeqCst)
    }

    fn times_removed(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for path in self.removed.lock().expect("log").iter() {
            *counts.entry(path.clone()).or_insert(0) += 1;
        }
        counts
    }
}

/// What the *arrs still know: Radarr movie ids and Sonarr episode file ids.
#[derive(Debug)]
struct Known {
    movies: BTreeSet<i32>,
    episode_files: BTreeSet<i32>,
}

fn known(h: &Harness) -> Known {
    h.stack.with_world(|w| Known {
        movies: w.movies.iter().map(|m| m.radarr_id).collect(),
        episode_files: w
            .series
            .iter()
            .flat_map(|s| s.files.iter().map(|f| f.id))
            .collect(),
    })
}

/// The DELETE requests logged since `before` was taken that addressed something already gone.
fn deletes_of_gone_targets(h: &Harness, before: &Known) -> Vec<String> {
    let mut wrong = Vec::new();
    for (service, r) in h.stack.writes() {
        if r.method != "DELETE" {
            continue;
        }
        match service {
            Service::Radarr => {
                let id = r.path.rsplit('/').next().and_then(|t| t.parse().ok());
                if !id.is_some_and(|id| before.movies.contains(&id)) {
                    wrong.push(format!("{} {}", r.method, r.path));
                }
            }
            Service::Sonarr => {
                let body: serde_json::Value =
                    serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null);
                for id in body["episodeFileIds"].as_array().into_iter().flatten() {
                    let id = id.as_i64().and_then(|id| i32::try_from(id).ok());
                    if !id.is_some_and(|id| before.episode_files.contains(&id)) {
                        wrong.push(format!("{} {} file {id:?}", r.method, r.path));
                    }
                }
            }
            Service::Jellyfin | Service::Seerr => {}
        }
    }
    wrong
}

/// Runs the pass again after a killed one and checks the whole story: the dead pass is marked
/// interrupted, no DELETE goes to a target already gone, every file a clean pass deletes is
/// deleted exactly once over both passes, `history` lists each deletion once, nothing is pending.
async fn resume_and_check(
    h: &Harness,
    deletions: &Deletions,
    expected: &BTreeSet<String>,
    case: &str,
) {
    let before = known(h);
    h.stack.clear_log();
    let resumed = h.run(&["run", "--apply"]).await;
    assert_eq!(resumed.code, 0, "{case}: {resumed:?}");
    assert!(
        resumed
            .stderr
            .contains("never finished; marking it interrupted"),
        "{case}: {resumed:?}"
    );
    let wrong = deletes_of_gone_targets(h, &before);
    assert!(
        wrong.is_empty(),
        "{case}: DELETEs of gone targets: {wrong:?}"
    );

    let counts = deletions.times_removed();
    let deleted: BTreeSet<String> = counts.keys().cloned().collect();
    assert_eq!(&deleted, expected, "{case}: the same files as a clean pass");
    assert!(
        counts.values().all(|&n| n == 1),
        "{case}: a file deleted twice: {counts:?}"
    );

    let titles = history(&h.run(&["history", "--json"]).await);
    let unique: BTreeSet<&String> = titles.iter().collect();
    assert_eq!(
        unique.len(),
        titles.len(),
        "{case}: history repeats: {titles:?}"
    );
    // Four movies, Ended S01 and S02, and Airing S01E01–E04.
    assert_eq!(titles.len(), 10, "{case}: {titles:?}");
    // Every interrupted DELETE was settled by asking the *arr, not left hanging.
    let status = h.run(&["status"]).await;
    assert!(
        status.stdout.contains("No actions pending"),
        "{case}: {status:?}"
    );
}

/// Kills a live pass right after its `k`-th delete went through (the *arr did it, shelflife
/// never heard back), then runs again.
async fn kill_after_delete_then_resume(k: usize, expected: &BTreeSet<String>) {
    let h = Harness::start(world(), "").await;
    h.quick_limits("");
    let deletions = Deletions::watch(&h, Some(k));
    let child = h.spawn(&["run", "--apply"]);
    deletions.pid.store(child.id(), Ordering::SeqCst);
    let killed = Harness::wait(child).await;
    assert_eq!(
        killed.code, -1,
        "killed by SIGKILL after delete {k}: {killed:?}"
    );
    deletions.pid.store(0, Ordering::SeqCst);
    // The hook killed it, at delete k: the pass waited on that answer, so none came after it.
    assert_eq!(
        deletions.carried_out(),
        k,
        "deletes carried out before the kill"
    );

    let status = h.run(&["status"]).await;
    assert!(
        status.stdout.contains("not finished"),
        "after delete {k}: {status:?}"
    );

    resume_and_check(
        &h,
        &deletions,
        expected,
        &format!("killed after delete {k}"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_killed_after_any_delete_resumes_and_deletes_each_item_exactly_once() {
    let expected = files_a_clean_pass_deletes().await;
    assert!(!expected.is_empty());
    // Movies are deleted one by one (deletes 1–4), then one bulk call per series (5, 6).
    for k in [1, 2, 4, 5, 6] {
        kill_after_delete_then_resume(k, &expected).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_killed_while_a_delete_is_in_flight_resumes_cleanly() {
    let expected = files_a_clean_pass_deletes().await;
    for in_flight in [1, 5] {
        let h = Harness::start(world(), "").await;
        h.quick_limits("");
        let deletions = Deletions::watch(&h, None);
        h.stack.delay_deletes(Duration::from_millis(400));
        let mut child = h.spawn(&["run", "--apply"]);
        // Once the `in_flight`-th DELETE has reached the server, kill mid-request.
        h.until_deletes(None, in_flight, Duration::from_secs(30))
            .await;
        let received = h.deletes_received(None);
        child.kill().expect("SIGKILL");
        assert_killed_in_flight(received, deletions.carried_out());
        let killed = Harness::wait(child).await;
        assert_eq!(killed.code, -1, "{killed:?}");
        // The server carries out the request it was holding.
        h.stack.idle().await;
        h.stack.delay_deletes(Duration::ZERO);

        let case = format!("killed during DELETE {in_flight}");
        resume_and_check(&h, &deletions, &expected, &case).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_passes_at_once_one_refuses_and_nothing_is_deleted_twice() {
    let expected = files_a_clean_pass_deletes().await;
    let h = Harness::start(world(), "").await;
    let deletions = Deletions::watch(&h, None);
    h.stack.delay_deletes(Duration::from_millis(200));
    let first = h.spawn(&["run", "--apply"]);
    let first_pid = first.id();
    h.until_deletes(None, 1, Duration::from_secs(30)).await;
    let second = h.run(&["run", "--apply"]).await;
    assert_eq!(second.code, 1, "{second:?}");
    assert!(
        second
            .stderr
            .contains(&format!("another pass (pid {first_pid}, started ")),
        "{second:?}"
    );
    assert!(second.stderr.contains("holds the lock"), "{second:?}");

    let first = Harness::wait(first).await;
    assert_eq!(first.code, 0, "{first:?}");
    let counts = deletions.times_removed();
    assert_eq!(counts.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_history_and_db_commands_read_the_journal() {
    let h = Harness::start(world(), "").await;
    let status = h.run(&["status"]).await;
    assert_eq!(status.code, 0, "{status:?}");
    assert!(status.stdout.contains("No pass recorded yet"), "{status:?}");

    let dry = h.run(&["run"]).await;
    assert_eq!(dry.code, 0, "{dry:?}");
    let history_after_dry = h.run(&["history", "--json"]).await;
    assert!(
        history(&history_after_dry).is_empty(),
        "a dry run deletes nothing"
    );
    // It records its counts and figures, not a row per would-be deletion, and status and
    // history still say what it found.
    let state = shelflife::state::State::open(&h.dir.path().join("state.db")).expect("state");
    let run = state.last_run().expect("runs").expect("the dry run");
    assert_eq!(run.counts.planned, 10, "{run:?}");
    assert!(state.run_actions(run.id).expect("actions").is_empty());
    drop(state);
    let status = h.run(&["status"]).await;
    assert!(status.stdout.contains("(dry-run): completed"), "{status:?}");
    assert!(
        status.stdout.contains("  would delete 10 items, "),
        "{status:?}"
    );
    let events: serde_json::Value =
        serde_json::from_str(&history_after_dry.stdout).expect("history is JSON");
    let dry_runs: Vec<&serde_json::Value> = (events.as_array().expect("an array").iter())
        .filter(|e| e["event"] == "dry_run")
        .collect();
    assert_eq!(dry_runs.len(), 1, "{events:#}");
    assert_eq!(dry_runs[0]["would_delete"], 10);
    assert!(
        dry_runs[0]["bytes"].as_u64().is_some_and(|b| b > 0),
        "{events:#}"
    );
    let text = h.run(&["history"]).await;
    assert!(
        text.stdout.contains("Dry runs (nothing deleted):"),
        "{text:?}"
    );
    assert!(text.stdout.contains("would delete 10 items, "), "{text:?}");
    let movies = h.run(&["history", "--json", "--kind", "movie"]).await;
    assert!(movies.stdout.contains("\"would_delete\": 4"), "{movies:?}");

    let live = h.run(&["run", "--apply"]).await;
    assert_eq!(live.code, 0, "{live:?}");
    let status = h.run(&["status"]).await;
    assert!(status.stdout.contains("(live): completed"), "{status:?}");
    assert!(status.stdout.contains("deleted 10"), "{status:?}");
    assert!(status.stdout.contains("No actions pending"), "{status:?}");

    let all = h.run(&["history"]).await;
    assert_eq!(all.code, 0, "{all:?}");
    assert!(all.stdout.contains("Alien (1979)"), "{all:?}");
    assert!(all.stdout.contains("10 deletions"), "{all:?}");
    let movies = history(&h.run(&["history", "--json", "--kind", "movie"]).await);
    assert_eq!(movies.len(), 4, "{movies:?}");
    assert!(movies.iter().all(|t| !t.contains(" S0")), "{movies:?}");
    let recent = history(&h.run(&["history", "--json", "--since", "1h"]).await);
    assert_eq!(recent.len(), 10);
    let bad = h.run(&["history", "--since", "last tuesday"]).await;
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("not a duration"), "{bad:?}");

    let backup = h.dir.path().join("backup.db");
    let run = h
        .run(&["db", "backup", backup.to_str().expect("utf-8 path")])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let copy = shelflife::state::State::open(&backup).expect("the backup opens");
    assert_eq!(copy.history(None, None, None).expect("history").len(), 10);

    let prune = h.run(&["db", "prune", "--older-than", "180d"]).await;
    assert_eq!(prune.code, 0, "{prune:?}");
    assert!(prune.stdout.contains("pruned 0 passes"), "{prune:?}");
    assert_eq!(history(&h.run(&["history", "--json"]).await).len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_or_foreign_state_file_is_refused_and_nothing_is_deleted() {
    let h = Harness::start(world(), "").await;
    let db = h.dir.path().join("state.db");
    std::fs::write(
        &db,
        "these are not the pages you are looking for\n".repeat(200),
    )
    .expect("write");
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("damaged or not a database"), "{run:?}");
    assert!(h.stack.writes().is_empty());

    std::fs::remove_file(&db).expect("rm");
    let other = rusqlite::Connection::open(&db).expect("sqlite");
    other
        .execute_batch("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT);")
        .expect("foreign schema");
    drop(other);
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("of another program"), "{run:?}");
    assert!(h.stack.writes().is_empty());
}
