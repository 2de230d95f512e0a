//! The whole rule set end to end: the real binary against the simulated stack over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::{now, Harness};
use serde_json::Value;
use shelflife_sim::{MovieSpec, SeriesSpec, Service, World};

/// One movie or series per rule, relative to the real clock (the binary reads it).
fn rule_world() -> World {
    let mut world = World::new(now())
        .user("alice")
        .user("bob")
        .movie(MovieSpec::new("Watched Long Ago", 2001).watched("alice", 20.0))
        .movie(MovieSpec::new("Fresh", 2002).watched("alice", 1.0))
        .movie(
            MovieSpec::new("Tagged", 2003)
                .watched("alice", 20.0)
                .tag("Keep"),
        )
        .movie(
            MovieSpec::new("Loved", 2004)
                .watched("alice", 20.0)
                .favorite("bob"),
        )
        .movie(
            MovieSpec::new("Now Playing", 2005)
                .watched("alice", 20.0)
                .playing("bob"),
        )
        .movie(MovieSpec::new("Undated", 2006).watched_undated("alice"))
        .movie(
            MovieSpec::new("Home Video", 2007)
                .watched("alice", 20.0)
                .not_in_radarr(),
        )
        .movie(MovieSpec::new("Elsewhere", 2008).watched("alice", 20.0))
        .movie(MovieSpec::new("Unwatched", 2009))
        .series(
            SeriesSpec::new("Ended Show", true)
                .season(1, 4)
                .season(2, 4)
                .watched("alice", 1, 1..=4, 20.0)
                .watched("bob", 2, 1..=2, 20.0),
        )
        .series(
            SeriesSpec::new("Ongoing", false)
                .season(1, 3)
                .season(2, 3)
                .watched("alice", 1, 1..=3, 20.0)
                .watched("alice", 2, 1..=3, 20.0),
        )
        .series(
            SeriesSpec::new("Tagged Show", true)
                .tag("keep")
                .season(1, 2)
                .watched("alice", 1, 1..=2, 20.0),
        )
        .series(
            SeriesSpec::new("Doctor Who", true)
                .season(0, 2)
                .season(1, 2)
                .watched("bob", 0, 1..=1, 20.0),
        );
    // A Radarr movie whose files lie outside every root folder (moved by hand).
    let m = world
        .movies
        .iter_mut()
        .find(|m| m.title == "Elsewhere")
        .expect("movie");
    m.path = "/elsewhere/Elsewhere (2008)".into();
    if let Some(f) = m.file.as_mut() {
        f.path = "/elsewhere/Elsewhere (2008)/Elsewhere (2008).mkv".into();
        world.files.insert(f.path.clone());
    }
    world
}

/// title → (verdict, reason code) from `plan --json`.
fn verdicts(plan: &Value) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for d in plan["decisions"].as_array().expect("decisions") {
        out.insert(
            d["title"].as_str().expect("title").to_string(),
            (
                d["verdict"].as_str().expect("verdict").to_string(),
                d["reason"]["code"].as_str().expect("code").to_string(),
            ),
        );
    }
    for u in plan["unmatched"].as_array().expect("unmatched") {
        out.insert(
            u["title"].as_str().expect("title").to_string(),
            ("keep".into(), "unmatched".into()),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_from_plan_to_live_deletes() {
    let h = Harness::start(rule_world(), "").await;

    let plan = h.run(&["plan", "--json"]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    let json: Value = serde_json::from_str(&plan.stdout).expect("plan --json is JSON");
    let got = verdicts(&json);
    let expected: BTreeMap<String, (String, String)> = [
        ("Watched Long Ago (2001)", "delete", "watched"),
        ("Fresh (2002)", "keep", "within_grace"),
        ("Tagged (2003)", "keep", "keep_tag"),
        ("Loved (2004)", "keep", "favorite"),
        ("Now Playing (2005)", "keep", "playing"),
        ("Undated (2006)", "keep", "no_last_played"),
        ("Home Video", "keep", "unmatched"),
        ("Elsewhere (2008)", "keep", "outside_root_folder"),
        ("Ended Show S01", "delete", "season_complete"),
        ("Ended Show S02", "keep", "partial_season"),
        ("Ongoing S01E01", "delete", "watched"),
        ("Ongoing S01E02", "delete", "watched"),
        ("Ongoing S01E03", "delete", "watched"),
        ("Ongoing S02", "keep", "latest_season"),
        ("Tagged Show S01", "keep", "keep_tag"),
        ("Doctor Who S00E01", "delete", "watched"),
    ]
    .into_iter()
    .map(|(t, v, r)| (t.to_string(), (v.to_string(), r.to_string())))
    .collect();
    assert_eq!(got, expected, "{}", plan.stdout);
    assert_eq!(json["unwatched"]["movies"], 1);

    // The readable table says the same, with reasons in words.
    let table = h.run(&["plan"]).await;
    assert_eq!(table.code, 0, "{table:?}");
    assert!(
        table.stdout.contains("keep tag \"Keep\""),
        "{}",
        table.stdout
    );
    assert!(table
        .stdout
        .contains("season complete, watched 20 days ago"));
    assert!(table.stdout.contains("6 to delete"), "{}", table.stdout);

    // A dry run (the default) walks the same path and writes nothing.
    let dry = h.run(&["run"]).await;
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(dry.stdout.contains("would delete 6"), "{dry:?}");
    assert!(
        h.stack.writes().is_empty(),
        "dry run wrote: {:?}",
        h.stack.writes()
    );
    assert!(
        dry.stderr.contains("action=\"delete\""),
        "decisions are logged: {dry:?}"
    );

    // --dry-run beats --apply.
    let both = h.run(&["run", "--apply", "--dry-run"]).await;
    assert_eq!(both.code, 0, "{both:?}");
    assert!(h.stack.writes().is_empty());

    let live = h.run(&["run", "--apply"]).await;
    assert_eq!(live.code, 0, "{live:?}");
    assert!(live.stdout.contains("deleted 6"), "{live:?}");
    // Radarr removes a movie's files a moment after it answered.
    h.stack.idle().await;
    h.stack.with_world(|w| {
        assert!(!w.files.iter().any(|f| f.contains("Watched Long Ago")));
        for kept in [
            "Fresh",
            "Tagged",
            "Loved",
            "Now Playing",
            "Undated",
            "Home Video",
            "Elsewhere",
            "Unwatched",
        ] {
            assert!(w.files.iter().any(|f| f.contains(kept)), "{kept} must stay");
        }
        for e in 1..=4 {
            assert!(!w.episode_file_exists("Ended Show", 1, e));
            assert!(w.episode_file_exists("Ended Show", 2, e));
            assert_eq!(w.episode_monitored("Ended Show", 1, e), Some(false));
        }
        for e in 1..=3 {
            assert!(!w.episode_file_exists("Ongoing", 1, e));
            assert_eq!(
                w.episode_monitored("Ongoing", 1, e),
                Some(false),
                "unmonitored"
            );
            assert!(
                w.episode_file_exists("Ongoing", 2, e),
                "latest season stays"
            );
            assert_eq!(w.episode_monitored("Ongoing", 2, e), Some(true));
        }
        assert!(!w.episode_file_exists("Doctor Who", 0, 1));
        assert!(
            w.episode_file_exists("Doctor Who", 0, 2),
            "specials go one by one"
        );
        assert!(w.episode_file_exists("Tagged Show", 1, 1));
        assert!(w.left_on_disk.is_empty(), "a bulk delete mixed series");
        assert_eq!(w.refreshes, 1, "Jellyfin is asked to rescan once");
        assert!(
            w.import_exclusions.is_empty(),
            "add_import_exclusion defaults to false"
        );
    });

    // Sonarr: per series, unmonitor first, then one bulk delete of that series' files only.
    let sonarr = h.stack.requests(Service::Sonarr);
    let writes: Vec<_> = sonarr.iter().filter(|r| r.method != "GET").collect();
    assert!(!writes.is_empty());
    let mut i = 0;
    while i < writes.len() {
        assert_eq!(
            (writes[i].method.as_str(), writes[i].path.as_str()),
            ("PUT", "/api/v3/episode/monitor"),
            "{writes:?}"
        );
        assert_eq!(
            (writes[i + 1].method.as_str(), writes[i + 1].path.as_str()),
            ("DELETE", "/api/v3/episodefile/bulk"),
            "{writes:?}"
        );
        i += 2;
    }
    assert_eq!(writes.len(), 6, "three series, two calls each: {writes:?}");
    let radarr_deletes: Vec<_> = h
        .stack
        .requests(Service::Radarr)
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(radarr_deletes.len(), 1);
    assert!(radarr_deletes[0].query.contains("deleteFiles=true"));
    assert!(radarr_deletes[0].query.contains("addImportExclusion=false"));

    // A second pass finds nothing more to delete and sends no delete.
    h.stack.clear_log();
    let again = h.run(&["run", "--apply"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        !h.stack.writes().iter().any(|(_, r)| r.method == "DELETE"),
        "{:?}",
        h.stack.writes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaking_bad_in_season_mode_live() {
    let h = Harness::start(
        World::breaking_bad(now()),
        "[rules]\nseries_mode = \"season\"\n",
    )
    .await;
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    h.stack.with_world(|w| {
        for e in 1..=7 {
            assert!(!w.episode_file_exists("Breaking Bad", 1, e));
        }
        for e in 1..=13 {
            assert!(!w.episode_file_exists("Breaking Bad", 2, e));
            assert!(
                w.episode_file_exists("Breaking Bad", 3, e),
                "S3 is partly watched"
            );
            assert!(w.episode_file_exists("Breaking Bad", 4, e));
        }
        for e in 1..=8 {
            assert!(w.episode_file_exists("Breaking Bad", 5, e), "S5 is airing");
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_by_all_waits_for_everyone() {
    let world = World::new(now())
        .user("alice")
        .user("bob")
        .movie(
            MovieSpec::new("Both", 2001)
                .watched("alice", 20.0)
                .watched("bob", 10.0),
        )
        .movie(MovieSpec::new("Only Alice", 2002).watched("alice", 20.0));
    let h = Harness::start(world, "").await;
    let text = std::fs::read_to_string(&h.config).expect("read");
    h.write_config(&text.replace(
        "users = [\"alice\", \"bob\"]",
        "users = [\"alice\", \"bob\"]\nwatched_by = \"all\"",
    ));
    let plan = h.run(&["plan", "--json"]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    let got = verdicts(&serde_json::from_str(&plan.stdout).expect("json"));
    assert_eq!(got["Both (2001)"], ("delete".into(), "watched".into()));
    assert_eq!(
        got["Only Alice (2002)"],
        ("keep".into(), "not_watched_by".into())
    );
    assert!(
        plan.stdout.contains("\"days_ago\": 10"),
        "age counts from the latest play"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unidentified_items_match_by_mapped_path_or_not_at_all() {
    let world = World::new(now())
        .user("alice")
        .jellyfin_sees("/movies", "/media/movies")
        .movie(
            MovieSpec::new("Mapped", 2001)
                .watched("alice", 20.0)
                .unidentified_in_jellyfin(),
        );
    let h = Harness::start(world, "").await;

    // Jellyfin has no provider ids and shows /media/movies/…: nothing ties it to Radarr.
    let unmapped = h.run(&["plan", "--json"]).await;
    assert_eq!(unmapped.code, 0, "{unmapped:?}");
    let got = verdicts(&serde_json::from_str(&unmapped.stdout).expect("json"));
    assert_eq!(got["Mapped"], ("keep".into(), "unmatched".into()));
    let live = h.run(&["run", "--apply"]).await;
    assert_eq!(live.code, 0, "{live:?}");
    assert!(h.stack.writes().is_empty(), "unmatched is never deleted");

    let text = std::fs::read_to_string(&h.config).expect("read");
    h.write_config(&format!(
        "{text}\n[[path_map]]\njellyfin = \"/media/movies\"\narr = \"/movies\"\n"
    ));
    let mapped = h.run(&["plan", "--json"]).await;
    assert_eq!(mapped.code, 0, "{mapped:?}");
    let got = verdicts(&serde_json::from_str(&mapped.stdout).expect("json"));
    assert_eq!(got["Mapped (2001)"], ("delete".into(), "watched".into()));
}
