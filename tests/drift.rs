//! `shelflife drift` against the simulated stack over HTTP: one disagreement of each kind is
//! found and named, a stack that agrees reports none, the report costs a fixed handful of
//! requests, and a server that cannot be read fails the command.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{now, small_library, Harness};
use shelflife_sim::{MovieSpec, SeriesSpec, Service, World};

/// One of each kind of drift: Tenet monitored without a file; Dark S01E02 aired without one;
/// Solaris in Jellyfin only (and watched, so a pass sees it too); Heat in Radarr only. Dark's special has no air date, so Sonarr's
/// calendar leaves it out: it is not checked, and not called unknown.
fn drifting() -> World {
    World::new(now())
        .user("alice")
        .movie(MovieSpec::new("Alien", 1979).watched("alice", 20.0))
        .movie(MovieSpec::new("Tenet", 2020).no_file())
        .movie(
            MovieSpec::new("Solaris", 1972)
                .not_in_radarr()
                .watched("alice", 20.0),
        )
        .movie(MovieSpec::new("Heat", 1995).not_in_jellyfin())
        .series(
            SeriesSpec::new("Dark", true)
                .season(0, 1)
                .season(1, 3)
                .no_file(1, 2..=2),
        )
}

fn counts(json: &serde_json::Value) -> Vec<(String, u64)> {
    let counts = json["counts"].as_object().expect("counts");
    counts
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().expect("a count")))
        .collect()
}

fn titles(json: &serde_json::Value, kind: &str) -> Vec<String> {
    (json["entries"].as_array().expect("entries").iter())
        .filter(|e| e["kind"] == kind)
        .map(|e| e["title"].as_str().expect("title").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_names_one_disagreement_of_each_kind() {
    let h = Harness::start(drifting(), "").await;
    let run = h.run(&["drift", "--json"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        counts(&json),
        [
            ("jellyfin_unmatched".to_owned(), 1),
            ("not_in_jellyfin".to_owned(), 1),
            ("radarr_missing_file".to_owned(), 1),
            ("sonarr_missing_file".to_owned(), 1),
        ],
        "{json:#}"
    );
    assert_eq!(titles(&json, "radarr_missing_file"), ["Tenet (2020)"]);
    assert_eq!(titles(&json, "sonarr_missing_file"), ["Dark S01E02"]);
    assert_eq!(titles(&json, "jellyfin_unmatched"), ["Solaris"]);
    assert_eq!(titles(&json, "not_in_jellyfin"), ["Heat (1995)"]);
    let unchecked = json["unchecked"].as_array().expect("unchecked");
    assert_eq!(unchecked.len(), 1, "{json:#}");
    assert!(
        unchecked[0]
            .as_str()
            .unwrap()
            .starts_with("1 Jellyfin episodes"),
        "{json:#}"
    );
    // A fixed handful: two Jellyfin listings, one Radarr list, Sonarr's series and calendar.
    assert_eq!(h.stack.count(Service::Jellyfin), 2);
    assert_eq!(h.stack.count(Service::Radarr), 1);
    assert_eq!(h.stack.count(Service::Sonarr), 2);
    assert!(h.stack.writes().is_empty(), "drift changes nothing");

    let text = h.run(&["drift"]).await;
    assert_eq!(text.code, 0, "{text:?}");
    for line in [
        "Radarr movies monitored without a file (Radarr will download them again) — 1",
        "  Tenet (2020) [radarr] · /movies/Tenet (2020)",
        "  Dark S01E02 [sonarr] · /tv/Dark",
        "  Heat (1995) [radarr] · /movies/Heat (1995)/Heat (1995).mkv",
    ] {
        assert!(
            text.stdout.lines().any(|l| l == line),
            "no {line:?} in\n{}",
            text.stdout
        );
    }
    assert!(text.stdout.contains("  Solaris · "), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_that_agrees_has_no_drift() {
    let h = Harness::start(small_library(), "").await;
    let run = h.run(&["drift", "--json"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert!(counts(&json).iter().all(|(_, n)| *n == 0), "{json:#}");
    assert_eq!(json["unchecked"], serde_json::json!([]));
    let text = h.run(&["drift"]).await;
    assert!(
        text.stdout
            .ends_with("Jellyfin, Radarr and Sonarr agree.\n"),
        "{}",
        text.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_fails_when_a_server_cannot_be_read() {
    let h = Harness::start(drifting(), "").await;
    h.stack.fail_next(Service::Sonarr, 500, 100);
    let run = h.run(&["drift"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("cannot read the servers for the drift report"),
        "{run:?}"
    );
    assert!(!run.stdout.contains("agree"), "{run:?}");
}

/// What a pass can count from what it fetches anyway goes in the metrics file; what Jellyfin does
/// not show needs every Jellyfin item, which a pass does not read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_writes_the_drift_it_saw_to_the_metrics_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let textfile = dir.path().join("shelflife.prom");
    let extra = format!(
        "[metrics]\ntextfile = {:?}\n",
        textfile.display().to_string()
    );
    let h = Harness::start(drifting(), &extra).await;
    let run = h.run(&["run"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let text = std::fs::read_to_string(&textfile).expect("the pass wrote the metrics");
    let drift: Vec<&str> = (text.lines())
        .filter(|l| l.starts_with("shelflife_drift_items{"))
        .collect();
    assert_eq!(
        drift,
        [
            "shelflife_drift_items{kind=\"jellyfin_unmatched\"} 1",
            "shelflife_drift_items{kind=\"radarr_missing_file\"} 1",
            "shelflife_drift_items{kind=\"sonarr_missing_file\"} 1",
        ],
        "{text}"
    );
}
