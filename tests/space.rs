//! Grace tiers on real mounts: the grace of the files under a mount's root folders shortens as
//! its free space (statvfs, as the mount checks read it) drops, and returns when it recovers; a
//! mount that cannot be measured shortens nothing, and the pass pauses. Needs root (tmpfs and
//! FUSE), as CI has.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{now, Harness, HungFuse};
use shelflife_sim::{MovieSpec, Service, World};
use shelflife_testkit::Tmpfs;

/// Heat, watched three days ago: within the usual five days' grace.
fn heat() -> World {
    World::new(now())
        .user("alice")
        .movie(MovieSpec::new("Heat", 1995).watched("alice", 3.0))
}

/// The media mount at `path` holds Radarr's /movies; below 15 % free its files go after a day.
fn tiered(path: &std::path::Path) -> String {
    format!(
        "[[health.mounts]]\npath = {:?}\ntimeout = \"1s\"\nmin_free_percent = 0.0\n\
         root_folders = [\"/movies\"]\n\
         grace_tiers = [{{ below_free_percent = 15, grace_days = 1 }}]\n",
        path.display().to_string()
    )
}

/// `bytes` of zeros at `path`: a tmpfs counts every one.
fn filler(path: &std::path::Path, bytes: usize) {
    std::fs::write(path, vec![0u8; bytes]).expect("write the filler");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grace_shortens_while_the_mount_is_short_of_space_and_returns_after() {
    let Some(disk) = Tmpfs::mount("16m") else {
        return;
    };
    let h = Harness::start(heat(), &tiered(disk.path())).await;
    let kept = h.run(&["plan"]).await;
    assert_eq!(kept.code, 0, "{kept:?}");
    assert!(
        kept.stdout.contains("within grace, 2 days left"),
        "{kept:?}"
    );
    assert!(!kept.stdout.contains("low space"), "{kept:?}");

    // 15 of 16 MiB taken: under the tier's 15 %.
    let fill = disk.path().join("filler");
    filler(&fill, 15 << 20);
    let low = h.run(&["plan", "--json"]).await;
    let plan: serde_json::Value = serde_json::from_str(&low.stdout).expect("JSON");
    assert_eq!(plan["decisions"][0]["verdict"], "delete", "{plan}");
    let low_space = &plan["low_space"][0];
    assert_eq!(low_space["grace_days"], 1, "{plan}");
    assert_eq!(
        low_space["mount"].as_str(),
        Some(disk.path().display().to_string().as_str())
    );
    assert!(low_space["free_percent"].as_f64().unwrap() < 15.0, "{plan}");
    let text = h.run(&["plan"]).await;
    assert!(text.stdout.contains("low space: "), "{text:?}");

    // Room again: the usual grace is back.
    std::fs::remove_file(&fill).expect("remove the filler");
    let back = h.run(&["plan"]).await;
    assert!(
        back.stdout.contains("within grace, 2 days left"),
        "{back:?}"
    );

    // Short of space once more, a live pass deletes it.
    filler(&fill, 15 << 20);
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let deletes: Vec<String> = h
        .stack
        .writes()
        .into_iter()
        .filter(|(s, _)| *s == Service::Radarr)
        .map(|(_, r)| r.method)
        .collect();
    assert_eq!(deletes, ["DELETE"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mount_that_cannot_be_measured_shortens_nothing_and_the_pass_pauses() {
    let Some(hung) = HungFuse::mount() else {
        return;
    };
    let h = Harness::start(heat(), &tiered(&hung.path())).await;
    let plan = h.run(&["plan"]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout.contains("within grace, 2 days left"),
        "{plan:?}"
    );
    assert!(!plan.stdout.contains("low space"), "{plan:?}");
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 75, "{run:?}");
    assert!(h.stack.writes().is_empty(), "{:?}", h.stack.writes());
}

const MIB: u64 = 1 << 20;

/// Ten watched movies of 10 MiB under `root` (watched 11 to 20 days ago, "Movie 0" the most
/// recently), their files real on disk below `disk` (`/` when `root` is a path of this host).
fn ten_movies(root: &str, disk: &std::path::Path) -> World {
    let mut world = (0..10).fold(World::new(now()).user("alice"), |w, i| {
        w.movie(
            MovieSpec::new(&format!("Movie {i}"), 2000 + i)
                .size_gb(10.0 * MIB as f64 / 1e9)
                .root(root)
                .watched("alice", 11.0 + f64::from(i)),
        )
    });
    world.radarr_root_folders[0].path = root.to_owned();
    world.on_disk(disk).expect("the files are written");
    world
}

/// Fills `disk` until `percent` % of it is free.
fn fill_to(disk: &Tmpfs, percent: f64) -> std::path::PathBuf {
    let stats = nix::sys::statvfs::statvfs(disk.path()).expect("statvfs");
    let total = stats.blocks() as f64 * stats.fragment_size() as f64;
    let free = stats.blocks_available() as f64 * stats.fragment_size() as f64;
    let fill = disk.path().join("filler");
    filler(&fill, (free - total * percent / 100.0) as usize);
    fill
}

fn free_percent(disk: &Tmpfs) -> f64 {
    let stats = nix::sys::statvfs::statvfs(disk.path()).expect("statvfs");
    stats.blocks_available() as f64 * 100.0 / stats.blocks() as f64
}

/// The mount at `path` holding `root`, kept at 30 % free.
fn when_low(path: &std::path::Path, root: &str) -> String {
    format!(
        "[[health.mounts]]\npath = {:?}\ntimeout = \"1s\"\nmin_free_percent = 0.0\n\
         root_folders = [{root:?}]\nspace_mode = \"when_low\"\ntarget_free_percent = 30\n\
         [rules]\nmax_deletions_per_run = 100\n",
        path.display().to_string()
    )
}

/// The titles Radarr was asked to delete, oldest-watched first as the pass sends them.
fn deleted(h: &Harness) -> Vec<String> {
    let ids: Vec<String> = h
        .stack
        .writes()
        .into_iter()
        .filter(|(s, r)| *s == Service::Radarr && r.method == "DELETE")
        .map(|(_, r)| r.path)
        .collect();
    h.stack.with_world(|w| {
        ids.iter()
            .filter_map(|p| {
                let id: i32 = p.rsplit('/').next()?.parse().ok()?;
                Some(w.movies.iter().find(|m| m.radarr_id == id)?.title.clone())
            })
            .collect()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_as_many_of_the_oldest_watched_go_as_bring_the_mount_to_its_target() {
    let Some(disk) = Tmpfs::mount("128m") else {
        return;
    };
    let root = disk.path().join("movies").display().to_string();
    let h = Harness::start(
        ten_movies(&root, std::path::Path::new("/")),
        &when_low(disk.path(), &root),
    )
    .await;
    fill_to(&disk, 5.0);
    let before = free_percent(&disk);
    assert!((4.5..5.5).contains(&before), "{before}");

    let plan = h.run(&["plan"]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.contains("space: "), "{plan:?}");

    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    h.stack.idle().await;
    // 30 % of 128 MiB is 38.4 MiB; about 32 MiB were missing: four 10 MiB movies, the oldest.
    assert_eq!(deleted(&h), ["Movie 9", "Movie 8", "Movie 7", "Movie 6"]);
    let after = free_percent(&disk);
    assert!((30.0..40.0).contains(&after), "{after}");
    let history = h.run(&["history", "--json"]).await;
    let rows: serde_json::Value = serde_json::from_str(&history.stdout).expect("JSON");
    for row in rows.as_array().unwrap() {
        let reason = row["reason"].as_str().unwrap();
        assert!(reason.starts_with("space: "), "{reason}");
        assert!(reason.contains("target 30.0 %"), "{reason}");
    }

    // At the target, a second pass deletes nothing.
    h.stack.clear_log();
    let again = h.run(&["run", "--apply"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    assert!(deleted(&h).is_empty(), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn above_its_target_a_mount_gives_up_nothing_and_files_elsewhere_go_as_always() {
    // The ten files take a fifth of it.
    let Some(disk) = Tmpfs::mount("512m") else {
        return;
    };
    let root = disk.path().join("movies").display().to_string();
    let mut world = ten_movies(&root, std::path::Path::new("/"));
    // Heat lies on no managed mount: the space rule does not touch it.
    world = world.movie(MovieSpec::new("Heat", 1995).watched("alice", 30.0));
    world.radarr_root_folders.push(shelflife_sim::RootFolder {
        id: 2,
        path: "/movies".into(),
        accessible: true,
    });
    let h = Harness::start(world, &when_low(disk.path(), &root)).await;
    let before = h.run(&["plan"]).await;
    assert!(
        before
            .stdout
            .contains("space: 1 deletion on no mount kept at a target, deleted as always"),
        "{before:?}"
    );
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(deleted(&h), ["Heat"]);
    let plan = h.run(&["plan", "--json"]).await;
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).expect("JSON");
    assert_eq!(plan["space"][0]["needed_bytes"], 0, "{plan}");
    assert_eq!(plan["space"][0]["spared"], 10, "{plan}");
    // Reported, and with the reason it always had.
    assert!(
        plan.get("space_elsewhere").is_none(),
        "Heat is gone now: {plan}"
    );
    let history = h.run(&["history", "--json"]).await;
    assert!(
        history
            .stdout
            .contains("\"reason\": \"watched 30 days ago\""),
        "{history:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_a_torrent_client_still_links_are_skipped_and_said_so() {
    let Some(disk) = Tmpfs::mount("128m") else {
        return;
    };
    let root = disk.path().join("movies").display().to_string();
    let world = ten_movies(&root, std::path::Path::new("/"));
    let seeds = disk.path().join("seeding");
    std::fs::create_dir(&seeds).expect("dir");
    for (i, f) in world.files.iter().enumerate() {
        std::fs::hard_link(f, seeds.join(i.to_string())).expect("link");
    }
    let h = Harness::start(world, &when_low(disk.path(), &root)).await;
    fill_to(&disk, 5.0);
    let plan = h.run(&["plan"]).await;
    assert!(
        plan.stdout
            .contains("would free nothing: a file of it has 2 hard links"),
        "{plan:?}"
    );
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(deleted(&h).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_deleting_frees_nothing_the_pass_stops_deleting_for_space_and_says_why() {
    let Some(disk) = Tmpfs::mount("128m") else {
        return;
    };
    // The *arr's paths are not this host's: shelflife cannot count the links, only measure.
    let world = ten_movies("/sim-media/movies", disk.path());
    let seeds = disk.path().join("seeding");
    std::fs::create_dir(&seeds).expect("dir");
    for (i, f) in world.files.iter().enumerate() {
        let real = world.disk_path(f).expect("on disk");
        std::fs::hard_link(real, seeds.join(i.to_string())).expect("link");
    }
    let metrics = tempfile::tempdir().expect("tempdir");
    let textfile = metrics.path().join("shelflife.prom");
    let config = format!(
        "{}\n[metrics]\ntextfile = {:?}\n",
        when_low(disk.path(), "/sim-media/movies"),
        textfile.display().to_string()
    );
    let h = Harness::start(world, &config).await;
    h.stack.movie_file_lag(std::time::Duration::ZERO);
    fill_to(&disk, 5.0);
    let plan = h.run(&["plan"]).await;
    assert!(
        plan.stdout.contains("4 deletions free 42 MB of the"),
        "{plan:?}"
    );
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    // Two deletions gave nothing back; the other two planned were left.
    assert_eq!(deleted(&h), ["Movie 9", "Movie 8"]);
    assert!(run.stderr.contains("deleting frees nothing on"), "{run:?}");
    assert!(
        run.stdout.contains("space: deleting frees nothing on"),
        "{run:?}"
    );
    assert!(run.stdout.contains("; 2 deletions left"), "{run:?}");
    assert!(free_percent(&disk) < 6.0);
    // The metrics, status and the journal say so too.
    let text = std::fs::read_to_string(&textfile).expect("metrics written");
    let mount = disk.path().display().to_string();
    assert!(
        text.contains(&format!(
            "shelflife_space_frees_nothing{{mount=\"{mount}\"}} 1"
        )),
        "{text}"
    );
    let status = h.run(&["status"]).await;
    assert!(
        status
            .stdout
            .contains("nothing more is deleted there for space"),
        "{status:?}"
    );
    let state = shelflife::state::State::open(&h.dir.path().join("state.db")).expect("state");
    let last = state.last_run().expect("runs").expect("a run");
    let skipped: Vec<String> = state
        .run_actions(last.id)
        .expect("actions")
        .into_iter()
        .filter_map(|a| a.error)
        .collect();
    assert!(
        skipped
            .iter()
            .filter(|e| e.starts_with("deleting frees nothing on"))
            .count()
            == 2,
        "{skipped:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mount_kept_at_a_target_that_cannot_be_measured_pauses_the_pass() {
    let Some(hung) = HungFuse::mount() else {
        return;
    };
    let long_watched = World::new(now())
        .user("alice")
        .movie(MovieSpec::new("Heat", 1995).watched("alice", 30.0));
    let h = Harness::start(long_watched, &when_low(&hung.path(), "/movies")).await;
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 75, "{run:?}");
    assert!(h.stack.writes().is_empty(), "{:?}", h.stack.writes());
    let plan = h.run(&["plan"]).await;
    assert!(plan.stdout.contains("could not be measured"), "{plan:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seasons_go_for_space_like_movies_oldest_watched_first() {
    let Some(disk) = Tmpfs::mount("128m") else {
        return;
    };
    let root = disk.path().join("tv").display().to_string();
    // Three ended series of one 20 MiB season, watched 30, 20 and 10 days ago.
    let mut world = [("Old", 30.0), ("Middle", 20.0), ("New", 10.0)]
        .into_iter()
        .fold(World::new(now()).user("alice"), |w, (title, ago)| {
            w.series(
                shelflife_sim::SeriesSpec::new(title, true)
                    .season(1, 2)
                    .episode_size_mb(10)
                    .root(&root)
                    .watched("alice", 1, 1..=2, ago),
            )
        });
    world.sonarr_root_folders[0].path = root.clone();
    world.on_disk(std::path::Path::new("/")).expect("files");
    let h = Harness::start(world, &when_low(disk.path(), &root)).await;
    // 10 MB short of 30 %: the oldest season is enough.
    fill_to(&disk, 22.0);
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let gone = |title: &str| !h.stack.with_world(|w| w.episode_file_exists(title, 1, 1));
    assert!(gone("Old"), "{run:?}");
    assert!(!gone("Middle") && !gone("New"), "{run:?}");
    assert!(free_percent(&disk) >= 30.0, "{}", free_percent(&disk));
}
