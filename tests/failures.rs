//! What goes wrong on the wire, and what shelflife does then: clear errors, exit codes, and
//! nothing deleted that should not be.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{now, Harness};
use shelflife_sim::{MovieSpec, SeriesSpec, Service, World};

fn small_world() -> World {
    World::new(now())
        .user("alice")
        .movie(MovieSpec::new("Old", 2001).watched("alice", 20.0))
        .movie(MovieSpec::new("Older", 2002).watched("alice", 30.0))
        .series(
            SeriesSpec::new("Show", true)
                .season(1, 3)
                .watched("alice", 1, 1..=3, 20.0),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_key_is_a_clear_error_and_nothing_is_deleted() {
    let h = Harness::start(small_world(), "").await;
    let text = std::fs::read_to_string(&h.config).expect("read");
    h.write_config(&text.replacen("sim-radarr-key", "wrong-key", 1));
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("Radarr answered 401 Unauthorized for GET /api/v3/")
            && run.stderr.contains("check the API key"),
        "{run:?}"
    );
    assert!(
        !run.stderr.contains("wrong-key"),
        "the key is never printed"
    );
    assert!(h.stack.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_5xx_is_retried_then_the_pass_succeeds() {
    let h = Harness::start(small_world(), "").await;
    h.stack.fail_next(Service::Jellyfin, 503, 2);
    h.stack.fail_next(Service::Sonarr, 500, 1);
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("deleted 3"), "{run:?}");
    h.stack
        .with_world(|w| assert!(!w.episode_file_exists("Show", 1, 1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_5xx_fails_the_pass_before_any_delete() {
    let h = Harness::start(small_world(), "").await;
    h.stack.fail_next(Service::Sonarr, 500, 50);
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("Sonarr is unavailable"), "{run:?}");
    assert!(
        h.stack.writes().is_empty(),
        "a pass with a partial inventory deletes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_body_names_the_service_and_endpoint() {
    let h = Harness::start(small_world(), "").await;
    h.stack.garbage(Service::Radarr, true);
    let run = h.run(&["plan"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("Radarr sent a response to GET /api/v3/")
            && run.stderr.contains("not the expected JSON"),
        "{run:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_down_is_a_clear_error() {
    let mut h = Harness::start(small_world(), "").await;
    h.stack.shutdown().await;
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("cannot connect"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_over_the_blast_radius_is_refused_whole() {
    let h = Harness::start(small_world(), "[rules]\nmax_deletions_per_run = 4\n").await;
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(
            "refused: the plan would delete 5 files, more than max_deletions_per_run = 4"
        ),
        "{run:?}"
    );
    assert!(h.stack.writes().is_empty(), "{:?}", h.stack.writes());
    let plan = h.run(&["plan"]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout.contains("`run` would refuse this plan"),
        "{plan:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inaccessible_root_folder_pauses_before_any_delete() {
    let h = Harness::start(small_world().sonarr_root_inaccessible(), "").await;
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 75, "{run:?}");
    assert!(
        run.stdout
            .contains("paused: the storage is not healthy: Sonarr root folder /tv"),
        "{run:?}"
    );
    assert!(h.stack.writes().is_empty(), "{:?}", h.stack.writes());
    let status = h.run(&["status"]).await;
    assert!(status.stdout.contains("paused"), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflict_on_delete_stops_the_pass() {
    let show = |title: &str| {
        SeriesSpec::new(title, true)
            .season(1, 3)
            .watched("alice", 1, 1..=3, 20.0)
    };
    let world = World::new(now())
        .user("alice")
        .series(show("Alpha"))
        .series(show("Beta"))
        .series(show("Gamma"));
    let h = Harness::start(world, "").await;
    // The storage goes away after the first series is deleted: Sonarr answers 409 from then on.
    h.stack.on_delete(|_, world| {
        for root in &mut world.sonarr_root_folders {
            root.accessible = false;
        }
    });
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 75, "{run:?}");
    assert!(
        run.stdout
            .contains("stopped: Sonarr storage is not available"),
        "{run:?}"
    );
    assert!(run.stdout.contains("409 Conflict"), "{run:?}");
    let bulk_deletes = h
        .stack
        .writes()
        .into_iter()
        .filter(|(_, r)| r.method == "DELETE")
        .count();
    assert_eq!(bulk_deletes, 2, "the pass stops at the first 409");
    let series_with_files = h.stack.with_world(|w| {
        ["Alpha", "Beta", "Gamma"]
            .into_iter()
            .filter(|t| w.episode_file_exists(t, 1, 1))
            .count()
    });
    assert_eq!(
        series_with_files, 2,
        "only the series deleted before the 409 is gone"
    );
}
