//! What was lost: a deletion's quality and audio, from the *arrs' own file records, in
//! `history` and `history --json`, and `keep_lossless` keeping what a lossy download could not
//! bring back. The real binary against the simulated stack over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{now, Harness};
use serde_json::Value;
use shelflife_sim::{FileMedia, MovieSpec, SeriesSpec, World};

/// A 64 GB 2160p Remux with TrueHD Atmos 7.1, a 1080p Blu-ray encode with AC3 5.1 (the
/// simulated Radarr's usual), a season of Blu-ray remuxes with DTS-HD MA and a season of web
/// downloads with EAC3 Atmos (lossy), all watched three weeks ago.
fn world() -> World {
    World::new(now())
        .user("alice")
        .movie(
            MovieSpec::new("Dune", 2021)
                .size_gb(64.0)
                .media(FileMedia::new("Remux-2160p", 2160).audio("TrueHD Atmos", 7.1))
                .watched("alice", 20.0),
        )
        .movie(MovieSpec::new("Heat", 1995).watched("alice", 20.0))
        .series(
            SeriesSpec::new("Dark", true)
                .season(1, 2)
                .media(FileMedia::new("Bluray-1080p Remux", 1080).audio("DTS-HD MA", 5.1))
                .watched("alice", 1, 1..=2, 20.0),
        )
        .series(
            SeriesSpec::new("Severance", true)
                .season(1, 2)
                .media(FileMedia::new("WEBDL-2160p", 2160).audio("EAC3 Atmos", 5.1))
                .watched("alice", 1, 1..=2, 20.0),
        )
}

fn by_title<'a>(rows: &'a Value, title: &str) -> &'a Value {
    rows.as_array()
        .expect("an array")
        .iter()
        .find(|r| r["title"] == title)
        .unwrap_or_else(|| panic!("{title} is not in {rows:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_says_what_each_deletion_took_away_and_flags_lossless_audio() {
    let h = Harness::start(world(), "").await;
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(h
        .stack
        .with_world(|w| !w.find_movie("Dune").unwrap().in_radarr));

    let text = h.run(&["history"]).await;
    assert_eq!(text.code, 0, "{text:?}");
    let line = |title: &str| {
        (text.stdout.lines())
            .find(|l| l.contains(title))
            .unwrap_or_else(|| panic!("{title} in {text:?}"))
            .to_owned()
    };
    let dune = line("Dune (2021)");
    assert!(
        dune.contains("Dune (2021) · 2160p Remux · TrueHD Atmos 7.1 · 64 GB · lossless  "),
        "{dune}"
    );
    assert!(
        line("Heat (1995)").contains("Heat (1995) · 1080p Bluray · AC3 5.1 · 8.0 GB  "),
        "{text:?}"
    );
    assert!(
        line("Dark S01")
            .contains("Dark S01 · 1080p Bluray Remux · DTS-HD MA 5.1 · 3.0 GB · lossless"),
        "{text:?}"
    );
    let severance = line("Severance S01");
    assert!(
        severance.contains("Severance S01 · 2160p WEBDL · EAC3 Atmos 5.1 · 3.0 GB  "),
        "lossy Atmos is not lossless: {severance}"
    );

    let json = h.run(&["history", "--json"]).await;
    assert_eq!(json.code, 0, "{json:?}");
    let rows: Value = serde_json::from_str(&json.stdout).expect("history --json is JSON");
    let dune = by_title(&rows, "Dune (2021)");
    assert_eq!(dune["quality"], "Remux-2160p");
    assert_eq!(dune["resolution"], 2160);
    assert_eq!(dune["video_resolution"], "3840x2160");
    assert_eq!(dune["audio_codec"], "TrueHD Atmos");
    assert_eq!(dune["audio_channels"], 7.1);
    assert_eq!(dune["lossless"], true);
    let heat = by_title(&rows, "Heat (1995)");
    assert_eq!(
        (&heat["audio_codec"], &heat["lossless"]),
        (&"AC3".into(), &false.into())
    );
    let dark = by_title(&rows, "Dark S01");
    assert_eq!(dark["audio_codec"], "DTS-HD MA");
    assert_eq!(dark["lossless"], true);
    assert_eq!(by_title(&rows, "Severance S01")["lossless"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_lossless_keeps_lossless_audio_and_lets_the_rest_go() {
    let h = Harness::start(world(), "[rules]\nkeep_lossless = true\n").await;
    let plan = h.run(&["plan", "--json"]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    let json: Value = serde_json::from_str(&plan.stdout).expect("plan --json is JSON");
    let decisions = &json["decisions"];
    for (title, verdict, code) in [
        ("Dune (2021)", "keep", "lossless_audio"),
        ("Dark S01", "keep", "lossless_audio"),
        ("Heat (1995)", "delete", "watched"),
        ("Severance S01", "delete", "season_complete"),
    ] {
        let d = by_title(decisions, title);
        assert_eq!(
            (d["verdict"].as_str(), d["reason"]["code"].as_str()),
            (Some(verdict), Some(code)),
            "{title}: {d:#}"
        );
    }
    let dune = by_title(decisions, "Dune (2021)");
    assert_eq!(dune["reason"]["text"], "lossless audio (TrueHD Atmos)");
    assert_eq!(
        (&dune["audio_codec"], &dune["lossless"]),
        (&"TrueHD Atmos".into(), &true.into())
    );

    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("lossless_audio 2"), "{run:?}");
    h.stack.with_world(|w| {
        assert!(w.find_movie("Dune").unwrap().in_radarr, "kept");
        assert!(!w.find_movie("Heat").unwrap().in_radarr, "deleted");
        assert!(w.episode_file_exists("Dark", 1, 1), "kept");
        assert!(!w.episode_file_exists("Severance", 1, 1), "deleted");
    });
    let history = h.run(&["history", "--json"]).await;
    let mut titles = common::history(&history);
    titles.sort();
    assert_eq!(titles, ["Heat (1995)", "Severance S01"]);
}
