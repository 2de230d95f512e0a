//! The request budget of a dry run: a fixed handful per service plus Jellyfin's pages and one
//! Sonarr request per series that has a candidate. Never one per movie or per episode. Counts,
//! not timings: this test fails when a change makes a pass chattier.

mod common;

use common::{now, Harness};
use shelflife::sim::{Service, SyntheticSpec, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_over_100k_episodes_makes_no_per_item_request() {
    let spec = SyntheticSpec {
        movies: 1_000,
        episodes: 100_000,
        users: 1,
        watched_share: 0.4,
        seed: 7,
    };
    let world = World::synthetic(now(), spec);
    let series_with_watched_episodes = world
        .series
        .iter()
        .filter(|s| s.episodes.iter().any(|e| !e.watch.is_empty()))
        .count();
    let played_items = world.movies.iter().filter(|m| !m.watch.is_empty()).count()
        + world
            .series
            .iter()
            .flat_map(|s| &s.episodes)
            .filter(|e| !e.watch.is_empty())
            .count();
    // A limit above the plan, so the dry run goes all the way.
    let h = Harness::start(world, "[rules]\nmax_deletions_per_run = 1000000\n").await;

    let run = h.run(&["run"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("would delete"), "{run:?}");
    assert!(h.stack.writes().is_empty(), "a dry run writes nothing");

    // Radarr: the health gate's root folders and health, then movies, tags, root folders.
    let radarr = h.stack.requests(Service::Radarr);
    assert_eq!(radarr.len(), 2 + 3, "{radarr:?}");
    // Sonarr: the same 2 + 3, then the episodes of each series with a candidate.
    let sonarr = h.stack.requests(Service::Sonarr);
    assert_eq!(sonarr.len(), 2 + 3 + series_with_watched_episodes);
    assert!(
        sonarr
            .iter()
            .filter(|r| r.path == "/api/v3/episode")
            .all(|r| r.query.contains("seriesId=")),
        "episodes are fetched per series, never per episode"
    );
    // Jellyfin: users, sessions, the Series items, and per user the played and favourite pages.
    let page = 1_000;
    let played_pages = played_items.div_ceil(page).max(1);
    let jellyfin = h.stack.requests(Service::Jellyfin);
    assert!(
        jellyfin.len() <= 3 + played_pages + 1 + 2,
        "{} Jellyfin requests for {played_items} played items",
        jellyfin.len()
    );
    for r in h.stack.requests(Service::Radarr).iter().chain(&sonarr) {
        let tail = r.path.rsplit('/').next().unwrap_or("");
        assert!(
            tail.parse::<u64>().is_err(),
            "no request addresses one item: {} {}",
            r.method,
            r.path
        );
    }
    println!(
        "requests for a dry run over 1000 movies / 100000 episodes: Jellyfin {}, Radarr {}, Sonarr {}",
        jellyfin.len(),
        radarr.len(),
        sonarr.len()
    );
}
