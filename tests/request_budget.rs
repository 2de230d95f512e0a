//! The request budget of a dry run: a fixed handful per service plus Jellyfin's pages. Sonarr's
//! episodes come in one calendar request for the whole library; only a candidate series the
//! calendar cannot cover (specials without an air date) is fetched on its own. Never a request per
//! movie or per episode. Counts, not timings: this test fails when a change makes a pass chattier.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::days::{movies, Days};
use common::two::{Two, ANIME_ROOT, UHD_ROOT};
use common::{now, Harness};
use shelflife_sim::{MovieSpec, Recorded, SeriesSpec, Service, SyntheticSpec, World};

fn rootfolder_reads(requests: &[Recorded]) -> usize {
    requests
        .iter()
        .filter(|r| r.path == "/api/v3/rootfolder")
        .count()
}

fn paths(requests: &[Recorded]) -> Vec<String> {
    requests
        .iter()
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
        .collect()
}

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

    // Radarr: the health gate's root folders and health, then movies and tags; the inventory
    // takes the gate's root folders instead of reading them again.
    let radarr = h.stack.requests(Service::Radarr);
    assert_eq!(radarr.len(), 2 + 2, "{radarr:?}");
    assert_eq!(rootfolder_reads(&radarr), 1, "{:?}", paths(&radarr));
    // Sonarr: the same 2 + 2, then one calendar for every episode of the library: independent
    // of the number of series.
    let sonarr = h.stack.requests(Service::Sonarr);
    assert_eq!(sonarr.len(), 2 + 2 + 1, "{:?}", paths(&sonarr));
    assert_eq!(rootfolder_reads(&sonarr), 1, "{:?}", paths(&sonarr));
    assert_eq!(
        sonarr
            .iter()
            .filter(|r| r.path == "/api/v3/calendar")
            .count(),
        1
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_series_with_watched_specials_are_fetched_on_their_own() {
    // 30 series with a watched season; 3 of them also have a watched special, which has no air
    // date and so is not in the calendar.
    let mut world = World::new(now()).user("alice");
    for n in 0..30 {
        let mut series = SeriesSpec::new(&format!("Show {n}"), true)
            .season(1, 4)
            .watched("alice", 1, 1..=4, 20.0);
        if n % 10 == 0 {
            series = series.season(0, 2).watched("alice", 0, 1..=1, 20.0);
        }
        world = world.series(series);
    }
    let h = Harness::start(world, "[rules]\nmax_deletions_per_run = 1000\n").await;
    let run = h.run(&["run"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let sonarr = h.stack.requests(Service::Sonarr);
    let per_series: Vec<&Recorded> = sonarr
        .iter()
        .filter(|r| r.path == "/api/v3/episode")
        .collect();
    assert_eq!(per_series.len(), 3, "{:?}", paths(&sonarr));
    assert_eq!(sonarr.len(), 2 + 2 + 1 + 3, "{:?}", paths(&sonarr));
    // The specials are planned like any other watched episode.
    assert!(run.stdout.contains("would delete"), "{run:?}");
    let plan = h.run(&["plan", "--json"]).await;
    assert!(plan.stdout.contains("S00E01"), "{}", plan.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_instance_adds_its_fixed_handful_and_nothing_per_item() {
    // Two Radarrs and two Sonarrs, 40 watched movies and 20 watched seasons in each.
    let mut a = World::new(now()).user("alice");
    let mut b = World::new(now()).user("alice");
    for n in 0..40 {
        let title = format!("Movie {n}");
        a = a.movie(MovieSpec::new(&title, 2000).watched("alice", 20.0));
        let uhd = || MovieSpec::new(&format!("4K {n}"), 2000).root(UHD_ROOT);
        a = a.movie(uhd().watched("alice", 20.0).not_in_radarr());
        b = b.movie(uhd().not_in_jellyfin());
    }
    for n in 0..20 {
        a = a.series(
            SeriesSpec::new(&format!("Show {n}"), true)
                .season(1, 3)
                .watched("alice", 1, 1..=3, 20.0),
        );
        let anime = || {
            SeriesSpec::new(&format!("Anime {n}"), true)
                .season(1, 3)
                .tvdb(900_000 + n)
                .root(ANIME_ROOT)
        };
        a = a.series(anime().watched("alice", 1, 1..=3, 20.0).not_in_sonarr());
        b = b.series(anime().not_in_jellyfin());
    }
    let two = Two::start(a, b, "[rules]\nmax_deletions_per_run = 1000\n").await;
    let run = two.h.run(&["run"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("would delete 120"),
        "every title of both instances is planned: {run:?}"
    );
    // Each instance: the gate's root folders and health, then its lists (Radarr: movies, tags;
    // Sonarr: series, tags, the calendar), as with one.
    for stack in [&two.h.stack, &two.b] {
        let radarr = stack.requests(Service::Radarr);
        assert_eq!(radarr.len(), 2 + 2, "{:?}", paths(&radarr));
        let sonarr = stack.requests(Service::Sonarr);
        assert_eq!(sonarr.len(), 2 + 2 + 1, "{:?}", paths(&sonarr));
    }
    assert_eq!(
        two.b.count(Service::Jellyfin),
        0,
        "only A's Jellyfin is asked"
    );
}

/// The requests of a pass that touch the Leaving Soon collection: finding it (a BoxSet listing),
/// reading its items (`parentId=`), creating it, adding and removing.
fn collection_calls(requests: &[Recorded]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| {
            let path = r.path.to_lowercase();
            path.starts_with("/collections")
                || r.query.contains("includeItemTypes=BoxSet")
                || r.query.contains("parentId=")
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_period_adds_a_few_batched_collection_calls() {
    let titles: Vec<String> = (0..120).map(|i| format!("Movie {i}")).collect();
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
    let mut days = Days::start(
        movies(&titles),
        "[rules]\nnotice_days = 3\nmax_deletions_per_run = 1000\n",
    )
    .await;
    let batches = 120_usize.div_ceil(50);

    // Day 0: find (a search, and the whole list of collections before deciding there is none),
    // create, three adds of at most 50, one read back.
    days.live(0).await;
    let calls = collection_calls(&days.stack.requests(Service::Jellyfin));
    assert_eq!(calls.len(), 2 + 1 + batches + 1, "{calls:#?}");
    let adds: Vec<Recorded> = (days.stack.requests(Service::Jellyfin).into_iter())
        .filter(|r| r.method == "POST" && r.path.contains("/Items"))
        .collect();
    assert_eq!(adds.len(), batches);
    for add in &adds {
        let ids = add.query.split("ids=").nth(1).unwrap_or("");
        assert!(ids.split("%2C").count() <= 50, "{}", add.query);
    }

    // Day 1, nothing to change: find and read, whatever the collection holds.
    days.stack.clear_log();
    days.live(1).await;
    let calls = collection_calls(&days.stack.requests(Service::Jellyfin));
    assert_eq!(calls.len(), 2, "{calls:#?}");
    let arr = days.stack.count(Service::Radarr);
    assert_eq!(arr, 2 + 2, "Radarr: the gate's 2 and the inventory's 2");

    // Day 3: find, read, three removals; then one DELETE per movie, which Radarr requires.
    days.stack.clear_log();
    days.live(3).await;
    let calls = collection_calls(&days.stack.requests(Service::Jellyfin));
    assert_eq!(calls.len(), 2 + batches, "{calls:#?}");
    assert_eq!(days.radarr_deletes(), 120);
}

/// Root folders the health gate could not read are read by the inventory, which needs them: a
/// file outside them is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_folders_the_gate_could_not_read_are_read_again() {
    let h = Harness::start(common::small_library(), "").await;
    // Every attempt of the gate's read (the first and its three retries) fails.
    h.stack
        .fail_path(Service::Radarr, "GET", "/api/v3/rootfolder", 503, 4);
    let run = h.run(&["run"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("would delete"), "{run:?}");
    let radarr = h.stack.requests(Service::Radarr);
    assert_eq!(rootfolder_reads(&radarr), 5, "{:?}", paths(&radarr));
    // Sonarr's answered the gate at once, and is read once.
    assert_eq!(rootfolder_reads(&h.stack.requests(Service::Sonarr)), 1);
}
