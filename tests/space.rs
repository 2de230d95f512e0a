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
