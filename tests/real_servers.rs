//! shelflife against servers that behave like the real ones, not like friendly fakes: Sonarr's
//! `Get(ids)` that fails a whole call over one stale id, requests that are carried out after
//! their client died, lists that change while they are paged, and big lists that take longer to
//! build than a small request may take. Over real HTTP, with the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{assert_killed_in_flight, history, now, Harness};
use shelflife_sim::{MovieSpec, SeriesSpec, Service, World};

/// How many DELETEs each target got: `movie <id>` and `episode file <id>`.
fn deletes_per_target(h: &Harness) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (service, r) in h.stack.writes() {
        if r.method != "DELETE" {
            continue;
        }
        match service {
            Service::Radarr => {
                let id = r.path.rsplit('/').next().unwrap_or("?").to_owned();
                *counts.entry(format!("movie {id}")).or_insert(0) += 1;
            }
            Service::Sonarr => {
                let body: serde_json::Value =
                    serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null);
                for id in body["episodeFileIds"].as_array().into_iter().flatten() {
                    *counts.entry(format!("episode file {id}")).or_insert(0) += 1;
                }
            }
            Service::Jellyfin | Service::Seerr => {}
        }
    }
    counts
}

fn one_season() -> World {
    World::new(now())
        .user("alice")
        .series(
            SeriesSpec::new("Show", true)
                .season(1, 3)
                .watched("alice", 1, 1..=3, 20.0),
        )
}

fn season_files_left(h: &Harness, title: &str) -> usize {
    h.stack.with_world(|w| season_files(w, title))
}

/// The pass is killed while Sonarr carries out its bulk delete; Sonarr finishes it anyway. The
/// next pass must not be jammed by Sonarr's 500 for a list of ids of which some are gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_killed_during_a_bulk_delete_is_settled_and_the_passes_after_it_succeed() {
    let h = Harness::start(one_season(), "").await;
    h.quick_limits("");
    h.stack.delay_deletes(Duration::from_millis(800));
    let removed = Arc::new(Mutex::new(Vec::new()));
    let carried_out = Arc::new(AtomicUsize::new(0));
    let (log, count) = (removed.clone(), carried_out.clone());
    h.stack.on_delete(move |event, _| {
        log.lock().expect("log").extend(event.removed.clone());
        count.fetch_add(1, Ordering::SeqCst);
    });
    let mut child = h.spawn(&["run", "--apply"]);
    h.until_deletes(Some(Service::Sonarr), 1, Duration::from_secs(30))
        .await;
    let received = h.deletes_received(Some(Service::Sonarr));
    child.kill().expect("SIGKILL");
    assert_killed_in_flight(received, carried_out.load(Ordering::SeqCst));
    let killed = Harness::wait(child).await;
    assert_eq!(killed.code, -1, "{killed:?}");

    // At once, while Sonarr is still deleting.
    let next = h.run(&["run", "--apply"]).await;
    assert_eq!(next.code, 0, "{next:?}");
    assert!(
        next.stderr.contains("had gone through; recorded as done"),
        "{next:?}"
    );
    let after = h.run(&["run", "--apply"]).await;
    assert_eq!(after.code, 0, "{after:?}");

    h.stack.idle().await;
    assert_eq!(season_files_left(&h, "Show"), 0);
    let titles = history(&h.run(&["history", "--json"]).await);
    assert_eq!(titles, ["Show S01"]);
    let removed = removed.lock().expect("log").clone();
    assert_eq!(removed.len(), 3, "each file once: {removed:?}");
    assert!(deletes_per_target(&h).values().all(|&n| n == 1));
    let status = h.run(&["status"]).await;
    assert!(status.stdout.contains("No actions pending"), "{status:?}");
}

/// Gives episode `episode` of season 1 of `title` a new file, as a quality upgrade does: the
/// old file (and its id) is gone.
fn upgrade(w: &mut World, title: &str, episode: i32) {
    let next_id = w
        .series
        .iter()
        .flat_map(|s| s.files.iter().map(|f| f.id))
        .max()
        .unwrap_or(0)
        + 1000;
    let Some(s) = w.series.iter_mut().find(|s| s.title == title) else {
        return;
    };
    let Some(e) = s
        .episodes
        .iter_mut()
        .find(|e| e.season == 1 && e.number == episode)
    else {
        return;
    };
    let Some(file) = s.files.iter_mut().find(|f| f.id == e.file_id) else {
        return;
    };
    let old = file.path.clone();
    file.id = next_id;
    file.path = format!("{old}.2160p.mkv");
    file.relative_path = format!("{}.2160p.mkv", file.relative_path);
    e.file_id = next_id;
    let new = file.path.clone();
    w.files.remove(&old);
    w.files.insert(new);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_episode_file_replaced_between_the_plan_and_the_delete_is_left_to_the_next_pass() {
    let world = one_season().series(SeriesSpec::new("Other", true).season(1, 2).watched(
        "alice",
        1,
        1..=2,
        20.0,
    ));
    let h = Harness::start(world, "").await;
    h.quick_limits("");
    // Right after Show is unmonitored, before its files are deleted, episode 2 is upgraded.
    let show = h
        .stack
        .with_world(|w| w.find_series("Show").map(|s| s.sonarr_id));
    let done = Arc::new(AtomicBool::new(false));
    let once = done.clone();
    h.stack.on_request(move |r, w| {
        let of_show = w
            .series
            .iter()
            .find(|s| Some(s.sonarr_id) == show)
            .is_some_and(|s| {
                s.episodes
                    .iter()
                    .any(|e| r.body.contains(&format!("{}", e.sonarr_id)))
            });
        if r.path == "/api/v3/episode/monitor" && of_show && !once.swap(true, Ordering::SeqCst) {
            upgrade(w, "Show", 2);
        }
    });

    let first = h.run(&["run", "--apply"]).await;
    assert_eq!(first.code, 0, "a stale id is not a failed pass: {first:?}");
    assert!(
        done.load(Ordering::SeqCst),
        "the file was replaced mid-pass"
    );
    assert!(
        first.stderr.contains("has another file") && first.stderr.contains("replaced since"),
        "{first:?}"
    );
    // The other series went on.
    assert_eq!(season_files_left(&h, "Other"), 0);
    // The doomed bulk delete was not resent as it was.
    let bulk_bodies: Vec<String> = h
        .stack
        .writes()
        .into_iter()
        .filter(|(_, r)| r.path == "/api/v3/episodefile/bulk")
        .map(|(_, r)| r.body)
        .collect();
    let unique: BTreeSet<&String> = bulk_bodies.iter().collect();
    assert_eq!(unique.len(), bulk_bodies.len(), "{bulk_bodies:?}");

    let second = h.run(&["run", "--apply"]).await;
    assert_eq!(second.code, 0, "{second:?}");
    h.stack.idle().await;
    assert_eq!(season_files_left(&h, "Show"), 0, "gone by the next pass");
    h.stack.with_world(|w| {
        assert!(w.left_on_disk.is_empty(), "orphaned: {:?}", w.left_on_disk);
        let show = w.find_series("Show").expect("Show");
        assert!(show.files.is_empty(), "{:?}", show.files);
        assert!(
            !w.files.iter().any(|f| f.contains("/Show/")),
            "{:?}",
            w.files
        );
    });
    let mut titles = history(&h.run(&["history", "--json"]).await);
    titles.sort();
    assert_eq!(titles, ["Other S01", "Show S01"]);
    let third = h.run(&["run", "--apply"]).await;
    assert_eq!(third.code, 0, "{third:?}");
}

/// A thousand favourites fill the first page; three more, each protecting something watched (a
/// movie, a series, a season), come after them. Three of the first page are un-favourited while
/// the second page is asked for: offset paging then skips the three that follow. (The names put
/// them in that order both by creation and by Jellyfin's SortName, which pads digit runs and sorts
/// a season by its number.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_favourite_removed_while_later_pages_are_read_leaves_no_favourite_unprotected() {
    let mut world = World::new(now()).user("alice");
    for i in 0..1000 {
        world = world.movie(MovieSpec::new(&format!("0 Filler {i:04}"), 2000).favorite("alice"));
    }
    let world = world
        .series(
            SeriesSpec::new("Zz Seasons", true)
                .season(1, 2)
                .watched("alice", 1, 1..=2, 20.0)
                .favorite_season("alice", 1),
        )
        .movie(
            MovieSpec::new("Zz Kept", 2001)
                .watched("alice", 20.0)
                .favorite("alice"),
        )
        .series(
            SeriesSpec::new("Zz Show", true)
                .season(1, 2)
                .watched("alice", 1, 1..=2, 20.0)
                .favorite("alice"),
        );
    let h = Harness::start(world, "[rules]\nmax_deletions_per_run = 5000\n").await;
    let changed = Arc::new(AtomicBool::new(false));
    let once = changed.clone();
    h.stack.on_request(move |r, w| {
        if r.path.eq_ignore_ascii_case("/Items")
            && r.query.contains("isFavorite=true")
            && !once.swap(true, Ordering::SeqCst)
        {
            for m in w.movies.iter_mut().take(3) {
                if let Some(watch) = m.watch.get_mut("alice") {
                    watch.favorite = false;
                }
            }
        }
    });
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(changed.load(Ordering::SeqCst), "the list changed mid-read");
    let writes: Vec<String> = h
        .stack
        .writes()
        .iter()
        .filter(|(_, r)| r.method == "DELETE")
        .map(|(s, r)| format!("{s} {} {}", r.path, r.body))
        .collect();
    assert!(writes.is_empty(), "favourites were deleted: {writes:?}");
    h.stack.with_world(|w| {
        assert!(w.find_movie("Zz Kept").is_some_and(|m| m.in_radarr));
        assert_eq!(season_files(w, "Zz Show"), 2);
        assert_eq!(season_files(w, "Zz Seasons"), 2);
    });
}

fn season_files(w: &World, title: &str) -> usize {
    w.find_series(title)
        .map_or(0, |s| s.episodes.iter().filter(|e| e.file_id != 0).count())
}

/// Sonarr on a Pi builds its whole calendar before it sends a byte. With the default settings,
/// a pass waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calendar_that_takes_forty_seconds_is_waited_for() {
    let h = Harness::start(one_season(), "").await;
    h.stack
        .slow_path(Service::Sonarr, "/api/v3/calendar", Duration::from_secs(40));
    let started = Instant::now();
    let run = h.run(&["run"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(started.elapsed() >= Duration::from_secs(40));
    assert!(run.stdout.contains("would delete 1"), "{run:?}");
    let calendars = h
        .stack
        .requests(Service::Sonarr)
        .iter()
        .filter(|r| r.path == "/api/v3/calendar")
        .count();
    assert_eq!(calendars, 1, "asked once, and waited for");
}

/// The *arr cannot say whether an interrupted deletion happened: that action stays pending and
/// its target is left alone, and the pass goes on; the next one settles it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settle_that_cannot_decide_holds_its_target_and_lets_the_pass_go_on() {
    let world = one_season().movie(MovieSpec::new("Alien", 1979).watched("alice", 20.0));
    let h = Harness::start(world, "").await;
    h.quick_limits("");
    h.stack.delay_deletes(Duration::from_millis(800));
    let sonarr_done = Arc::new(AtomicUsize::new(0));
    let count = sonarr_done.clone();
    h.stack.on_delete(move |event, _| {
        if event.service == Service::Sonarr {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    let mut child = h.spawn(&["run", "--apply"]);
    // Movies go first, then the series: kill during Sonarr's bulk delete.
    h.until_deletes(Some(Service::Sonarr), 1, Duration::from_secs(30))
        .await;
    let received = h.deletes_received(Some(Service::Sonarr));
    child.kill().expect("SIGKILL");
    assert_killed_in_flight(received, sonarr_done.load(Ordering::SeqCst));
    let killed = Harness::wait(child).await;
    assert_eq!(killed.code, -1, "{killed:?}");
    h.stack.idle().await;
    h.stack.delay_deletes(Duration::ZERO);
    // The settling pass's first Sonarr request (listing the series' episodes) fails.
    h.stack.fail_next(Service::Sonarr, 500, 1);
    let next = h.run(&["run", "--apply"]).await;
    assert_eq!(next.code, 0, "{next:?}");
    assert!(
        next.stderr
            .contains("cannot settle the interrupted deletion of Show S01"),
        "{next:?}"
    );
    let status = h.run(&["status"]).await;
    assert!(
        status.stdout.contains("Show S01"),
        "still pending: {status:?}"
    );
    let after = h.run(&["run", "--apply"]).await;
    assert_eq!(after.code, 0, "{after:?}");
    let mut titles = history(&h.run(&["history", "--json"]).await);
    titles.sort();
    assert_eq!(titles, ["Alien (1979)", "Show S01"]);
    let status = h.run(&["status"]).await;
    assert!(status.stdout.contains("No actions pending"), "{status:?}");
}

/// The soak: twenty passes, each killed at a random moment while Radarr and Sonarr carry out
/// slowed deletes (which complete after the kill), each followed at once by the next. Replay a
/// failure with `SHELFLIFE_SOAK_SEED=<seed> cargo test --test real_servers soak`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_twenty_passes_killed_at_random_moments() {
    let seed: u64 = std::env::var("SHELFLIFE_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5e1f_11fe);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut world = World::new(now()).user("alice");
    for i in 0..30 {
        world =
            world.movie(MovieSpec::new(&format!("Movie {i:02}"), 1990 + i).watched("alice", 20.0));
    }
    for i in 0..6 {
        world = world.series(
            SeriesSpec::new(&format!("Series {i}"), true)
                .season(1, 3)
                .season(2, 3)
                .watched("alice", 1, 1..=3, 20.0)
                .watched("alice", 2, 1..=3, 20.0),
        );
    }
    let h = Harness::start(world, "").await;
    h.quick_limits("[rules]\nmax_deletions_per_run = 500\n");
    h.stack.delay_deletes(Duration::from_millis(300));

    let mut outcomes = Vec::new();
    for pass in 0..20 {
        let deletes_before = h
            .stack
            .writes()
            .iter()
            .filter(|(_, r)| r.method == "DELETE")
            .count();
        let more = rng.usize(1..=4);
        let extra = Duration::from_millis(rng.u64(0..400));
        let mut child = h.spawn(&["run", "--apply"]);
        let started = Instant::now();
        let killed = loop {
            if let Ok(Some(_)) = child.try_wait() {
                break false;
            }
            let sent = h
                .stack
                .writes()
                .iter()
                .filter(|(_, r)| r.method == "DELETE")
                .count();
            if sent >= deletes_before + more || started.elapsed() > Duration::from_secs(30) {
                tokio::time::sleep(extra).await;
                break child.kill().is_ok();
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        let run = Harness::wait(child).await;
        if run.code != -1 {
            // It ended before the kill landed: it must have ended well.
            assert_eq!(run.code, 0, "seed {seed:#x}, pass {pass}: {run:?}");
        }
        outcomes.push((pass, killed && run.code == -1, run.code));
    }
    // Then passes nobody kills, until there is nothing left to do: the first settles the last
    // killed pass, the second what stayed in doubt.
    h.stack.delay_deletes(Duration::ZERO);
    for pass in 20..23 {
        let run = h.run(&["run", "--apply"]).await;
        assert_eq!(run.code, 0, "seed {seed:#x}, pass {pass}: {run:?}");
    }
    h.stack.idle().await;

    let counts = deletes_per_target(&h);
    let twice: Vec<(&String, &usize)> = counts.iter().filter(|(_, &n)| n > 1).collect();
    assert!(
        twice.is_empty(),
        "seed {seed:#x}: second DELETEs: {twice:?} ({outcomes:?})"
    );
    // Everything went, and each deletion is in the history once.
    let (movies_left, seasons_left) = h.stack.with_world(|w| {
        (
            w.movies.iter().filter(|m| m.in_radarr).count(),
            w.series
                .iter()
                .flat_map(|s| s.episodes.iter())
                .filter(|e| e.file_id != 0)
                .count(),
        )
    });
    assert_eq!((movies_left, seasons_left), (0, 0), "seed {seed:#x}");
    let titles = history(&h.run(&["history", "--json"]).await);
    let unique: BTreeSet<&String> = titles.iter().collect();
    assert_eq!(
        unique.len(),
        titles.len(),
        "seed {seed:#x}: history repeats: {titles:?}"
    );
    assert_eq!(titles.len(), 30 + 12, "seed {seed:#x}: {titles:?}");
    let status = h.run(&["status"]).await;
    assert!(
        status.stdout.contains("No actions pending"),
        "seed {seed:#x}: {status:?}"
    );
    assert!(
        outcomes.iter().filter(|(_, killed, _)| *killed).count() >= 10,
        "most passes were killed mid-way: {outcomes:?}"
    );
}

/// Rewrites the JSON `body` of a listing: `change` gets each element (each item of a Jellyfin
/// page, each record of an *arr list).
fn rewrite_each(body: String, change: impl FnMut(&mut serde_json::Value)) -> String {
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&body) else {
        return body;
    };
    let list = match value.get_mut("Items") {
        Some(items) => items,
        None => &mut value,
    };
    if let Some(elements) = list.as_array_mut() {
        elements.iter_mut().for_each(change);
    }
    value.to_string()
}

fn three_movies() -> World {
    World::new(now())
        .user("alice")
        .movie(MovieSpec::new("Alien", 1979).watched("alice", 20.0))
        .movie(MovieSpec::new("Heat", 1995).watched("alice", 20.0))
        .movie(MovieSpec::new("Odd", 2000).watched("alice", 20.0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_item_with_a_bad_date_is_kept_and_the_pass_goes_on() {
    let h = Harness::start(three_movies(), "").await;
    // A last-played date without an offset: no moment anyone can compare.
    h.stack.rewrite(Service::Jellyfin, |r, body| {
        if !r.query.contains("isPlayed=true") {
            return body;
        }
        rewrite_each(body, |item| {
            if item["Name"] == "Odd" {
                item["UserData"]["LastPlayedDate"] = "2024-01-01T00:00:00".into();
            }
        })
    });
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("deleted 2"), "{run:?}");
    assert!(
        run.stderr.contains("with UserData that cannot be read"),
        "the item is named in the log: {run:?}"
    );
    h.stack.with_world(|w| {
        assert!(w.find_movie("Odd").is_some_and(|m| m.in_radarr), "kept");
        assert!(w.find_movie("Alien").is_some_and(|m| !m.in_radarr));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_of_mostly_bad_items_fails_the_pass_and_deletes_nothing() {
    let h = Harness::start(three_movies(), "").await;
    h.stack.rewrite(Service::Jellyfin, |r, body| {
        if !r.query.contains("isPlayed=true") {
            return body;
        }
        rewrite_each(body, |item| {
            item["UserData"]["LastPlayedDate"] = "2024-01-01T00:00:00".into();
        })
    });
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("too many to trust the rest"), "{run:?}");
    assert!(h.stack.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sonarr_record_that_cannot_be_read_keeps_its_series_and_only_it() {
    let world = one_season().series(SeriesSpec::new("Broken", true).season(1, 2).watched(
        "alice",
        1,
        1..=2,
        20.0,
    ));
    let h = Harness::start(world, "").await;
    let broken = h
        .stack
        .with_world(|w| w.find_series("Broken").map(|s| s.sonarr_id))
        .expect("Broken");
    // One episode of Broken with an id of the wrong type, wherever Sonarr lists episodes.
    h.stack.rewrite(Service::Sonarr, move |r, body| {
        if r.path != "/api/v3/calendar" && r.path != "/api/v3/episode" {
            return body;
        }
        let mut first = true;
        rewrite_each(body, |e| {
            if e["seriesId"] == broken && std::mem::take(&mut first) {
                e["episodeFileId"] = "x".into();
            }
        })
    });
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("deleted 1"), "{run:?}");
    assert!(
        run.stderr
            .contains("that cannot be read; nothing of that series is deleted"),
        "{run:?}"
    );
    assert_eq!(season_files_left(&h, "Show"), 0);
    assert_eq!(season_files_left(&h, "Broken"), 2, "kept whole");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_check_and_check_say_when_nothing_checks_the_storage() {
    let h = Harness::start(one_season(), "").await;
    let check = h.run(&["config", "check"]).await;
    assert_eq!(check.code, 0, "{check:?}");
    assert!(
        check.stdout.contains("warning:") && check.stdout.contains("no [[health.mounts]]"),
        "{check:?}"
    );
    let health = h.run(&["check", "--json"]).await;
    let report: serde_json::Value = serde_json::from_str(&health.stdout).expect("JSON");
    let warnings = report["warnings"].as_array().expect("warnings");
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains("canary"))),
        "{report}"
    );
    let text = h.run(&["check"]).await;
    assert!(text.stdout.contains("no [[health.mounts]]"), "{text:?}");
    // With a mount to check (a canary in place), nothing to say.
    let media = tempfile::tempdir().expect("tempdir");
    std::fs::write(media.path().join(".shelflife-canary"), "").expect("canary");
    let config = std::fs::read_to_string(&h.config).expect("config");
    h.write_config(&format!(
        "{config}\n[[health.mounts]]\npath = {:?}\ncanary = \".shelflife-canary\"\nallow_readonly = true\n",
        media.path().display().to_string()
    ));
    let check = h.run(&["config", "check"]).await;
    assert!(!check.stdout.contains("warning"), "{check:?}");
}
