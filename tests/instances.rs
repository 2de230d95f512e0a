//! Several Radarrs and Sonarrs, over real HTTP, as two simulated stacks (`common::two`): a
//! request sent to the wrong instance would find something to delete there, since both number
//! their titles from 1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::two::{Two, ANIME_ROOT, UHD_ROOT};
use common::{assert_killed_in_flight, history, now, Harness};
use shelflife_sim::{MovieSpec, SeriesSpec, Service, SimStack, World};

const DUNE_TMDB: i32 = 438_631;

/// Jellyfin (in A) sees Dune twice, HD and 4K; A's Radarr holds the HD copy, B's the 4K one.
/// Heat, in A's Radarr, is nobody's watch, and has the id B gives its Dune.
fn dune_worlds(hd: MovieSpec, uhd: MovieSpec) -> (World, World) {
    let a = World::new(now())
        .user("alice")
        .movie(hd.tmdb(DUNE_TMDB))
        .movie(uhd.clone().tmdb(DUNE_TMDB).root(UHD_ROOT).not_in_radarr());
    let b = World::new(now())
        .user("alice")
        .movie(uhd.tmdb(DUNE_TMDB).root(UHD_ROOT).not_in_jellyfin());
    (a, b)
}

/// Inception, watched, only in the 4K Radarr (its movie 1); Heat is the HD Radarr's movie 1.
async fn inception_only_in_4k() -> Two {
    let inception = || {
        MovieSpec::new("Inception", 2010)
            .tmdb(27_205)
            .root(UHD_ROOT)
    };
    let a = World::new(now())
        .user("alice")
        .movie(MovieSpec::new("Heat", 1995))
        .movie(inception().watched("alice", 10.0).not_in_radarr());
    let b = World::new(now())
        .user("alice")
        .movie(inception().not_in_jellyfin());
    Two::start(a, b, "").await
}

fn dune() -> MovieSpec {
    MovieSpec::new("Dune", 2021)
}

fn file_of(stack: &SimStack, root: &str) -> bool {
    stack.with_world(|w| w.files.iter().any(|f| f.starts_with(root)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_copies_of_a_watched_movie_go_with_copies_together() {
    let (a, b) = dune_worlds(dune().watched("alice", 10.0), dune());
    let two = Two::start(a, b, "").await;
    let plan = two.h.run(&["plan"]).await;
    assert!(plan.stdout.contains("Dune (2021) [4k]"), "{plan:?}");
    let (a_id, b_id) = (
        two.h.stack.with_world(|w| w.movies[0].radarr_id),
        two.b.with_world(|w| w.movies[0].radarr_id),
    );
    assert_eq!(a_id, b_id, "the two Radarrs number their Dune alike");

    let run = two.h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    two.h.stack.idle().await;
    two.b.idle().await;
    let delete = format!("DELETE /api/v3/movie/{a_id}");
    assert_eq!(
        Two::writes(&two.h.stack, Service::Radarr),
        [delete.as_str()]
    );
    assert_eq!(Two::writes(&two.b, Service::Radarr), [delete.as_str()]);
    assert!(!file_of(&two.b, UHD_ROOT), "the 4K file is gone from B");
    assert!(
        !two.h
            .stack
            .with_world(|w| w.files.iter().any(|f| f.starts_with("/movies/"))),
        "the HD file is gone from A"
    );

    // The journal knows which instance deleted which.
    let all = two.h.run(&["history", "--json"]).await;
    let rows: serde_json::Value = serde_json::from_str(&all.stdout).expect("JSON");
    let mut instances: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["instance"].as_str().unwrap())
        .collect();
    instances.sort_unstable();
    assert_eq!(instances, ["4k", "hd"]);
    let uhd = two.h.run(&["history", "--json", "--instance", "4k"]).await;
    assert_eq!(history(&uhd), ["Dune (2021)"]);
    let text = two.h.run(&["history"]).await;
    assert!(text.stdout.contains("Dune (2021) [hd]"), "{text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_copies_separate_only_the_watched_copy_goes() {
    let (a, b) = dune_worlds(dune().watched("alice", 10.0), dune());
    let two = Two::start(a, b, "[rules]\ncopies = \"separate\"\n").await;
    let run = two.h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    two.h.stack.idle().await;
    assert_eq!(Two::writes(&two.h.stack, Service::Radarr).len(), 1);
    assert!(two.b.writes().is_empty(), "{:?}", two.b.writes());
    assert!(file_of(&two.b, UHD_ROOT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keep_tag_on_the_4k_copy_keeps_both() {
    let (a, b) = dune_worlds(
        dune().watched("alice", 10.0),
        dune().watched("alice", 10.0).tag("keep"),
    );
    let two = Two::start(a, b, "").await;
    let plan = two.h.run(&["plan", "--json"]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).expect("JSON");
    let reasons: Vec<(String, String)> = plan["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["target"]["instance"].as_str().unwrap().to_owned(),
                d["reason"]["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("hd".into(), "keep tag \"keep\" on the 4k copy".into()),
            ("4k".into(), "keep tag \"keep\"".into())
        ]
    );
    let run = two.h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(two.h.stack.writes().is_empty() && two.b.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_movie_only_the_4k_radarr_holds_is_deleted_there_and_nothing_goes_to_the_hd_one() {
    let two = inception_only_in_4k().await;
    assert_eq!(
        two.h.stack.with_world(|w| w.movies[0].radarr_id),
        two.b.with_world(|w| w.movies[0].radarr_id)
    );
    let run = two.h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    two.b.idle().await;
    // Neither *arr of stack A heard a write (its Jellyfin is asked to rescan).
    for service in [Service::Radarr, Service::Sonarr] {
        assert!(Two::writes(&two.h.stack, service).is_empty(), "{service}");
    }
    assert_eq!(Two::writes(&two.b, Service::Radarr).len(), 1);
    assert!(!file_of(&two.b, UHD_ROOT));
    assert!(two
        .h
        .stack
        .with_world(|w| w.find_movie("Heat").unwrap().in_radarr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_series_goes_through_its_own_sonarr() {
    let frieren = || {
        SeriesSpec::new("Frieren", true)
            .season(1, 2)
            .tvdb(424_536)
            .root(ANIME_ROOT)
    };
    let a = World::new(now())
        .user("alice")
        .series(
            SeriesSpec::new("Dark", true)
                .season(1, 2)
                .watched("alice", 1, 1..=2, 10.0),
        )
        .series(frieren().watched("alice", 1, 1..=2, 10.0).not_in_sonarr());
    let b = World::new(now())
        .user("alice")
        .series(frieren().not_in_jellyfin());
    let two = Two::start(a, b, "").await;
    let run = two.h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!two
        .h
        .stack
        .with_world(|w| w.episode_file_exists("Dark", 1, 1)));
    assert!(!two.b.with_world(|w| w.episode_file_exists("Frieren", 1, 2)));
    assert_eq!(
        two.b.with_world(|w| w.episode_monitored("Frieren", 1, 1)),
        Some(false)
    );
    // Each Sonarr heard of its own series only: one unmonitor and one bulk delete each.
    for stack in [&two.h.stack, &two.b] {
        let writes = Two::writes(stack, Service::Sonarr);
        assert_eq!(
            writes,
            [
                "PUT /api/v3/episode/monitor",
                "DELETE /api/v3/episodefile/bulk"
            ],
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_season_both_sonarrs_hold_is_kept_and_reported_ambiguous() {
    // Jellyfin sees the files under /media/tv, which no path map ties to either Sonarr.
    let shared = || SeriesSpec::new("Shared", true).season(1, 2).tvdb(5_000);
    let a = World::new(now())
        .user("alice")
        .jellyfin_sees("/tv", "/media/tv")
        .series(shared().watched("alice", 1, 1..=2, 10.0));
    let b = World::new(now())
        .user("alice")
        .series(shared().root(ANIME_ROOT).not_in_jellyfin());
    let two = Two::start(a, b, "").await;
    let plan = two.h.run(&["plan", "--json"]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).expect("JSON");
    assert!(plan["decisions"].as_array().unwrap().is_empty(), "{plan}");
    let why: Vec<&str> = plan["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["why"].as_str().unwrap())
        .collect();
    assert_eq!(why.len(), 2, "{why:?}");
    assert!(
        why.iter()
            .all(|w| w.contains("is in 2 Sonarrs (tv, anime)")),
        "{why:?}"
    );
    let run = two.h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(two.h.stack.writes().is_empty() && two.b.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_down_fails_the_pass_before_anything_is_deleted() {
    // The 4K copy could carry the keep tag: with its Radarr unreachable, nothing may go.
    let (a, b) = dune_worlds(dune().watched("alice", 10.0), dune());
    let mut two = Two::start(a, b, "").await;
    two.b.shutdown().await;
    let run = two.h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    // Whichever of stack B's servers was asked first is named.
    assert!(
        run.stderr.contains("Radarr 4k is unavailable")
            || run.stderr.contains("Sonarr anime is unavailable"),
        "{run:?}"
    );
    assert!(
        two.h.stack.writes().is_empty(),
        "{:?}",
        two.h.stack.writes()
    );
    assert!(file_of(&two.h.stack, "/movies/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_table_and_an_array_of_one_plan_and_journal_alike() {
    let world = || common::small_library();
    let single = Harness::start(world(), "").await;
    let array = Harness::start(world(), "").await;
    let text = std::fs::read_to_string(&array.config).expect("config");
    array.write_config(
        &text
            .replace("[radarr]\n", "[[radarr]]\nname = \"radarr\"\n")
            .replace("[sonarr]\n", "[[sonarr]]\n"),
    );
    let plans = [
        single.run(&["plan", "--json"]).await,
        array.run(&["plan", "--json"]).await,
    ];
    assert_eq!(plans[0].code, 0, "{:?}", plans[0]);
    assert_eq!(plans[0].stdout, plans[1].stdout);
    assert!(plans[0].stdout.contains("\"instance\": \"radarr\""));
    for h in [&single, &array] {
        let run = h.run(&["run", "--apply"]).await;
        assert_eq!(run.code, 0, "{run:?}");
    }
    // The journal keys are those every earlier version wrote.
    let keys = |h: &Harness| -> Vec<String> {
        let state = shelflife::state::State::open(&h.dir.path().join("state.db")).expect("state");
        let mut keys: Vec<String> = state
            .history(None, None, None)
            .expect("history")
            .iter()
            .map(|r| r.target.to_string())
            .collect();
        keys.sort();
        keys
    };
    let single_keys = keys(&single);
    assert_eq!(single_keys, keys(&array));
    assert_eq!(single_keys.len(), 3, "{single_keys:?}");
    assert!(
        single_keys
            .iter()
            .all(|k| k.starts_with("radarr:movie:") || k.starts_with("sonarr:season:")),
        "{single_keys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_instance_is_checked_and_an_unhealthy_one_pauses_the_pass() {
    let (a, b) = dune_worlds(dune().watched("alice", 10.0), dune());
    let two = Two::start(a, b, "").await;
    let check = two.h.run(&["check", "--json"]).await;
    let report: serde_json::Value = serde_json::from_str(&check.stdout).expect("JSON");
    let checks: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    for name in [
        "Radarr hd",
        "Radarr 4k",
        "Sonarr tv",
        "Sonarr anime",
        "Radarr 4k root folder /movies4k",
        "Sonarr anime root folder /anime",
    ] {
        assert!(checks.contains(&name), "{name} in {checks:?}");
    }
    assert_eq!(check.code, 0, "{check:?}");

    // The 4K Radarr loses its storage: the pass pauses, and nothing goes from either.
    two.b
        .with_world(|w| w.radarr_root_folders[0].accessible = false);
    let check = two.h.run(&["check"]).await;
    assert_eq!(check.code, 2, "{check:?}");
    assert!(
        check.stdout.contains("Radarr 4k root folder /movies4k"),
        "{check:?}"
    );
    let run = two.h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 75, "{run:?}");
    assert!(two.h.stack.writes().is_empty() && two.b.writes().is_empty());
    let status = two.h.run(&["status"]).await;
    assert!(status.stdout.contains("Radarr 4k"), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_cut_short_in_one_instance_is_settled_by_asking_that_instance() {
    let two = inception_only_in_4k().await;
    two.quick_limits();
    two.b.delay_deletes(std::time::Duration::from_millis(400));
    let child = two.h.spawn(&["run", "--apply"]);
    let start = std::time::Instant::now();
    while Two::writes(&two.b, Service::Radarr).is_empty() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "no DELETE"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let mut child = child;
    child.kill().expect("SIGKILL");
    let gone = two.b.with_world(|w| !w.movies[0].in_radarr);
    assert_killed_in_flight(1, usize::from(gone));
    let killed = Harness::wait(child).await;
    assert_eq!(killed.code, -1, "{killed:?}");
    // The 4K Radarr carries the delete out although its client died.
    two.b.idle().await;
    two.b.delay_deletes(std::time::Duration::ZERO);
    two.h.stack.clear_log();
    two.b.clear_log();

    let run = two.h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let asked = |stack: &SimStack| -> Vec<String> {
        stack
            .requests(Service::Radarr)
            .into_iter()
            .filter(|r| r.path == "/api/v3/movie/1")
            .map(|r| r.method)
            .collect()
    };
    assert_eq!(
        asked(&two.b),
        ["GET"],
        "the 4K Radarr is asked, and not sent a second delete"
    );
    assert!(
        asked(&two.h.stack).is_empty(),
        "the HD Radarr is not asked about its movie 1"
    );
    let rows = two.h.run(&["history", "--json", "--instance", "4k"]).await;
    assert_eq!(history(&rows), ["Inception (2010)"]);
    assert!(two
        .h
        .stack
        .with_world(|w| w.find_movie("Heat").unwrap().in_radarr));
}
