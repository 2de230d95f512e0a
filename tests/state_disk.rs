//! No delete without a record: when the state file cannot be written (a full disk), the pass
//! deletes nothing and says why. Real size-limited tmpfs mounts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{now, Harness};
use shelflife_sim::{MovieSpec, World};
use shelflife_testkit::Tmpfs;

fn world() -> World {
    World::new(now())
        .user("alice")
        .movie(MovieSpec::new("Old", 2001).watched("alice", 20.0))
}

fn with_state_at(h: &Harness, db: &std::path::Path) {
    let text = std::fs::read_to_string(&h.config).expect("config");
    let default = h.dir.path().join("state.db");
    h.write_config(&text.replace(&default.display().to_string(), &db.display().to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_directory_on_a_full_disk_deletes_nothing() {
    let Some(disk) = Tmpfs::mount("256k") else {
        return;
    };
    // A state file fits on an empty disk of this size, so what refuses it below is the filler.
    let roomy = Tmpfs::mount("256k").expect("the first tmpfs was mounted");
    drop(shelflife::state::State::open(&roomy.path().join("fits.db")).expect("a state file fits"));
    disk.fill();
    let h = Harness::start(world(), "").await;
    let db = disk.path().join("state.db");
    with_state_at(&h, &db);
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&disk.path().display().to_string()),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("No space left on device") || run.stderr.contains("full"),
        "{run:?}"
    );
    assert!(h.stack.writes().is_empty(), "{:?}", h.stack.writes());
    h.stack
        .with_world(|w| assert!(w.movies.iter().any(|m| m.title == "Old")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_disk_that_fills_up_between_passes_stops_the_next_one() {
    let Some(disk) = Tmpfs::mount("1m") else {
        return;
    };
    let h = Harness::start(world(), "").await;
    let db = disk.path().join("state.db");
    with_state_at(&h, &db);
    let dry = h.run(&["run"]).await;
    assert_eq!(
        dry.code, 0,
        "the journal works while there is room: {dry:?}"
    );

    disk.fill();
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("cannot write the state database")
            && run
                .stderr
                .contains("nothing will be deleted without a record"),
        "{run:?}"
    );
    assert!(h.stack.writes().is_empty(), "{:?}", h.stack.writes());
    h.stack
        .with_world(|w| assert!(w.movies.iter().any(|m| m.title == "Old")));
}
