//! Seerr after a deletion, over HTTP against the simulated Seerr: a deleted movie's media
//! record and requests go, so it can be requested again; a deleted season leaves only its own
//! request; a series that goes whole loses its record; Seerr down changes no deletion and is
//! cleaned up at the next pass; `/media/{id}/file` is never called.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::days::Days;
use jiff::Timestamp;
use shelflife::plan::Verdict;
use shelflife_sim::{
    MovieSpec, SeerrMediaType, SeriesSpec, Service, World, SEERR_KEY, SEERR_OWNER,
};

const HEAT: i32 = 949;
const DARK_TMDB: i32 = 70523;
const DARK_TVDB: i32 = 334824;

fn world() -> World {
    World::new(Timestamp::now())
        .user("alice")
        .movie(
            MovieSpec::new("Heat", 1995)
                .tmdb(HEAT)
                .watched("alice", 20.0),
        )
        .movie(MovieSpec::new("Alien", 1979).tmdb(348))
}

/// Asks the simulated Seerr for a new request, as someone in the house would: its status.
async fn request_again(days: &Days, body: serde_json::Value) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/api/v1/request", days.stack.seerr_url()))
        .header("X-Api-Key", SEERR_KEY)
        .json(&body)
        .send()
        .await
        .expect("Seerr answers")
        .status()
        .as_u16()
}

fn movie_request(tmdb: i32) -> serde_json::Value {
    serde_json::json!({"mediaType": "movie", "mediaId": tmdb, "is4k": false})
}

fn history(days: &Days) -> Vec<serde_json::Value> {
    serde_json::from_str(&days.cli(&["history", "--json"])).expect("history --json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_movie_can_be_requested_again() {
    let mut world = world();
    let bob = world.seerr_user("bob", None);
    let heat = world.seerr_movie_request(HEAT, bob, 30.0);
    let alien = world.seerr_movie_request(348, SEERR_OWNER, 30.0);
    let mut days = Days::start_with_seerr(world, "").await;
    assert_eq!(
        request_again(&days, movie_request(HEAT)).await,
        409,
        "requested already, before the pass"
    );

    let day0 = days.live(0).await;
    assert_eq!(day0.plan.deletions().count(), 1);
    assert!(!days.movie_exists("Heat"));
    days.stack.with_world(|w| {
        assert!(
            w.seerr.media(heat.media).is_none(),
            "the media record is gone"
        );
        assert!(w.seerr.request(heat.request).is_none(), "and its request");
        assert!(
            w.seerr.media(alien.media).is_some(),
            "the other title is left alone"
        );
    });
    // The record went by Seerr's own id, not the TMDB id.
    let deletes: Vec<String> = (days.stack.writes().into_iter())
        .filter(|(s, r)| *s == Service::Seerr && r.method == "DELETE")
        .map(|(_, r)| r.path)
        .collect();
    assert_eq!(deletes, [format!("/api/v1/media/{}", heat.media)]);
    // Two lists read once each (a page apiece here), then the one write: nothing per title.
    let reads: Vec<String> = (days.stack.requests(Service::Seerr).into_iter())
        .filter(|r| r.method == "GET")
        .map(|r| r.path)
        .collect();
    assert_eq!(reads, ["/api/v1/request", "/api/v1/media"]);
    assert_eq!(request_again(&days, movie_request(HEAT)).await, 201);

    let rows = history(&days);
    assert_eq!(rows[0]["seerr"], "cleaned", "{rows:#?}");
    assert!(days.cli(&["history"]).contains("seerr: cleaned"));
    assert!(days.stack.seerr_violations().is_empty());

    // A pass with nothing to clean up asks Seerr nothing.
    days.stack.clear_log();
    days.live(1).await;
    assert_eq!(days.stack.count(Service::Seerr), 0);
}

/// Dark: an ended series with three seasons; season 1 watched.
fn dark(world: World) -> World {
    world.series(
        SeriesSpec::new("Dark", true)
            .tvdb(DARK_TVDB)
            .season(1, 2)
            .season(2, 2)
            .season(3, 2)
            .watched("alice", 1, 1..=2, 20.0),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_season_leaves_only_its_request() {
    let mut world = dark(World::new(Timestamp::now()).user("alice"));
    let bob = world.seerr_user("bob", None);
    let first = world.seerr_tv_request(DARK_TMDB, Some(DARK_TVDB), &[1], bob, 30.0);
    let second = world.seerr_tv_request(DARK_TMDB, Some(DARK_TVDB), &[2], SEERR_OWNER, 30.0);
    let both = world.seerr_tv_request(DARK_TMDB, Some(DARK_TVDB), &[1, 3], SEERR_OWNER, 30.0);
    let mut days = Days::start_with_seerr(world, "").await;

    let day0 = days.live(0).await;
    assert_eq!(day0.plan.deletions().count(), 1, "season 1 only");
    days.stack.with_world(|w| {
        assert!(
            w.seerr.request(first.request).is_none(),
            "season 1's own request went"
        );
        assert!(
            w.seerr.request(second.request).is_some(),
            "season 2's stays"
        );
        let seasons: Vec<i32> = (w.seerr.request(both.request).expect("kept").seasons.iter())
            .map(|s| s.season_number)
            .collect();
        assert_eq!(
            seasons,
            [3],
            "season 1 left the request that held it with 3"
        );
        assert!(
            w.seerr.media(first.media).is_some(),
            "the series' record stays"
        );
        assert!(w.seerr.sent_to_arr.is_empty(), "{:?}", w.seerr.sent_to_arr);
    });
    assert!(days.stack.seerr_violations().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_that_goes_whole_loses_its_record() {
    let world = World::new(Timestamp::now()).user("alice").series(
        SeriesSpec::new("Dark", true)
            .tvdb(DARK_TVDB)
            .season(1, 2)
            .season(2, 2)
            .watched("alice", 1, 1..=2, 20.0)
            .watched("alice", 2, 1..=2, 20.0),
    );
    let mut world = world;
    let ids = world.seerr_tv_request(DARK_TMDB, Some(DARK_TVDB), &[1, 2], SEERR_OWNER, 30.0);
    let mut days = Days::start_with_seerr(world, "").await;

    let day0 = days.live(0).await;
    assert_eq!(day0.plan.deletions().count(), 2);
    days.stack.with_world(|w| {
        assert!(
            w.seerr.media(ids.media).is_none(),
            "gone as a movie would be"
        );
        assert!(w
            .seerr
            .media_by_tmdb(SeerrMediaType::Tv, DARK_TMDB)
            .is_none());
    });
    let seerr_writes = (days.stack.writes().into_iter())
        .filter(|(s, _)| *s == Service::Seerr)
        .count();
    assert_eq!(
        seerr_writes, 1,
        "one DELETE for the record, none per season"
    );
    assert!(days.stack.seerr_violations().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seerr_down_changes_no_deletion_and_is_cleaned_up_next_time() {
    let mut world = world();
    let heat = world.seerr_movie_request(HEAT, SEERR_OWNER, 30.0);
    let mut days = Days::start_with_seerr(world, "").await;
    days.stack.fail_next(Service::Seerr, 503, 50);

    let day0 = days.live(0).await;
    assert_eq!(day0.plan.deletions().count(), 1);
    assert!(!days.movie_exists("Heat"), "deleted whatever Seerr says");
    assert!(days
        .stack
        .with_world(|w| w.seerr.media(heat.media).is_some()));
    let rows = history(&days);
    assert_eq!(rows[0]["seerr"], "waiting", "{rows:#?}");

    // Seerr is back: the next pass, with nothing to delete, cleans up.
    days.stack.heal(Service::Seerr);
    let day1 = days.live(1).await;
    assert_eq!(day1.plan.deletions().count(), 0);
    assert!(
        days.stack
            .with_world(|w| w.seerr.media(heat.media).is_none()),
        "cleaned up at the next pass"
    );
    assert_eq!(history(&days)[0]["seerr"], "cleaned");
    assert!(days.stack.seerr_violations().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_seerr_configured_nothing_is_asked_of_it() {
    let mut world = world();
    world.seerr_movie_request(HEAT, SEERR_OWNER, 30.0);
    let mut days = Days::start(world, "").await;
    days.live(0).await;
    assert!(!days.movie_exists("Heat"));
    assert_eq!(days.stack.count(Service::Seerr), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_says_whether_seerr_takes_the_key() {
    let days = Days::start_with_seerr(world(), "").await;
    let report = days.cli(&["check"]);
    assert!(
        report.contains("Seerr") && report.contains("the key acts as user 1"),
        "{report}"
    );

    let config = days.dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace(SEERR_KEY, "wrong-key")).unwrap();
    let out = common::shelflife(&config, &["check"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains("Seerr"))
        .unwrap_or_default();
    assert!(
        line.contains("403") || line.to_lowercase().contains("key"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("wrong-key"),
        "the key is never shown: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recent_request_keeps_the_title_and_names_the_requester() {
    let mut world = dark(
        World::new(Timestamp::now())
            .user("alice")
            .movie(
                MovieSpec::new("Heat", 1995)
                    .tmdb(HEAT)
                    .watched("alice", 20.0),
            )
            .movie(
                MovieSpec::new("Alien", 1979)
                    .tmdb(348)
                    .watched("alice", 20.0),
            ),
    );
    let bob = world.seerr_user("bob", None);
    world.seerr_movie_request(HEAT, bob, 3.0);
    world.seerr_movie_request(348, bob, 40.0);
    world.seerr_tv_request(DARK_TMDB, Some(DARK_TVDB), &[1], bob, 1.0);
    let mut days = Days::start_with_seerr(world, "request_protection_days = 14\n").await;

    let plan = days.cli(&["plan"]);
    assert!(plan.contains("requested by bob 3 days ago"), "{plan}");
    days.stack.clear_log();
    let day0 = days.live(0).await;
    let reason = |title: &str| {
        (day0.plan.decisions.iter())
            .find(|d| d.title.to_string().contains(title))
            .map(|d| d.reason.to_string())
            .unwrap_or_default()
    };
    assert_eq!(reason("Heat"), "requested by bob 3 days ago");
    assert_eq!(reason("Dark S01"), "requested by bob 1 day ago");
    assert!(days.movie_exists("Heat"), "requested lately");
    assert!(!days.movie_exists("Alien"), "requested long ago: it goes");
    // One paged read of the requests while planning, whatever the library's size.
    let reads = (days.stack.requests(Service::Seerr).into_iter())
        .filter(|r| r.method == "GET" && r.path == "/api/v1/request")
        .count();
    assert_eq!(reads, 2, "one for the plan, one for Alien's cleanup");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_request_protection_seerr_down_keeps_everything() {
    let mut world = world();
    world.seerr_movie_request(348, SEERR_OWNER, 40.0);
    let mut days =
        Days::start_with_seerr(world, "request_protection_days = 14\nretries = 0\n").await;
    days.stack.fail_next(Service::Seerr, 503, 10);
    let day0 = days.live(0).await;
    assert_eq!(day0.plan.deletions().count(), 0);
    assert!(
        days.movie_exists("Heat"),
        "any request could have protected it"
    );
    let heat = (day0.plan.decisions.iter())
        .find(|d| d.title.to_string().contains("Heat"))
        .unwrap();
    assert!(
        heat.reason
            .to_string()
            .contains("Seerr's requests could not be read"),
        "{}",
        heat.reason
    );
}

/// How many pages of `user`'s played items Jellyfin was asked for.
fn played_pages_of(days: &Days, user_id: &str) -> usize {
    (days.stack.requests(Service::Jellyfin).into_iter())
        .filter(|r| {
            r.path.ends_with("/Items")
                && r.query.contains(&format!("userId={user_id}"))
                && r.query.contains("isPlayed=true")
        })
        .count()
}

/// `name` has played movie `title`, `days_ago` days before the world's start.
fn watch_movie(days: &Days, title: &str, name: &str, days_ago: i64) {
    let at = days.at(-days_ago);
    days.stack.with_world(|w| {
        let movie = w.movies.iter_mut().find(|m| m.title == title).expect(title);
        let watch = movie.watch.entry(name.to_owned()).or_default();
        (watch.played, watch.last_played) = (true, Some(at));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_title_waits_for_its_requester_to_watch_it() {
    let mut world = World::new(Timestamp::now())
        .user("alice")
        .guest("bob")
        .guest("dave")
        .movie(
            MovieSpec::new("Heat", 1995)
                .tmdb(HEAT)
                .watched("alice", 20.0),
        )
        .movie(
            MovieSpec::new("Alien", 1979)
                .tmdb(348)
                .watched("alice", 20.0)
                .watched("bob", 5.0),
        )
        .movie(
            MovieSpec::new("Dune", 2021)
                .tmdb(438631)
                .watched("alice", 20.0),
        )
        .movie(
            MovieSpec::new("Up", 2009)
                .tmdb(14160)
                .watched("alice", 20.0),
        )
        .movie(
            MovieSpec::new("Brazil", 1985)
                .tmdb(68)
                .watched("alice", 20.0)
                .watched("dave", 3.0),
        );
    let (alice_id, bob_id) = (world.user_id("alice"), world.user_id("bob"));
    // Bob signs in to Seerr with Jellyfin: Seerr has his Jellyfin id, and the name he had in
    // Jellyfin when he first signed in. Dave is known by name alone; Carol is a Seerr account
    // of her own, with no Jellyfin user.
    let bob = world.seerr_user("bobby", bob_id.as_deref());
    let dave = world.seerr_user("Dave", None);
    let carol = world.seerr_user("carol", None);
    let alice = world.seerr_owner("alice", alice_id.as_deref());
    world.seerr_movie_request(HEAT, bob, 40.0);
    world.seerr_movie_request(348, bob, 40.0);
    world.seerr_movie_request(438631, carol, 40.0);
    world.seerr_movie_request(14160, alice, 40.0);
    world.seerr_movie_request(68, dave, 40.0);
    let mut days = Days::start_with_seerr(world, "keep_until_requester_watched = true\n").await;

    let plan = days.cli(&["plan"]);
    assert!(
        plan.contains("requested by bobby, who has not watched it yet"),
        "{plan}"
    );
    days.stack.clear_log();
    let day0 = days.live(0).await;
    let reason = |title: &str| {
        (day0.plan.decisions.iter())
            .find(|d| d.title.to_string().contains(title))
            .map(|d| (d.verdict, d.reason.to_string()))
            .expect(title)
    };
    assert_eq!(
        reason("Heat"),
        (
            Verdict::Keep,
            "requested by bobby, who has not watched it yet".to_owned()
        ),
        "watched by the counted user, not by its requester"
    );
    assert_eq!(
        reason("Dune"),
        (
            Verdict::Keep,
            "requested by carol, who matches no Jellyfin user".to_owned()
        )
    );
    assert!(days.movie_exists("Heat") && days.movie_exists("Dune"));
    for gone in ["Alien", "Up", "Brazil"] {
        assert!(!days.movie_exists(gone), "{gone}: its requester watched it");
    }
    // The requests once, and one page of played items per requester who is not counted;
    // Alice's own views are in the library already.
    let reads = (days.stack.requests(Service::Seerr).into_iter())
        .filter(|r| r.method == "GET" && r.path == "/api/v1/request")
        .count();
    assert_eq!(reads, 2, "one for the plan, one for the cleanups");
    assert_eq!(played_pages_of(&days, bob_id.as_deref().unwrap()), 1);
    assert_eq!(played_pages_of(&days, alice_id.as_deref().unwrap()), 1);

    // Bob watches Heat: past the grace of the counted user already, it goes.
    watch_movie(&days, "Heat", "bob", 0);
    days.live(1).await;
    assert!(!days.movie_exists("Heat"), "its requester has watched it");
    assert!(days.movie_exists("Dune"), "still nobody to ask");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_season_waits_until_its_requester_has_watched_every_episode() {
    let mut world = World::new(Timestamp::now())
        .user("alice")
        .guest("bob")
        .series(
            SeriesSpec::new("Dark", true)
                .tvdb(DARK_TVDB)
                .season(1, 2)
                .season(2, 2)
                .watched("alice", 1, 1..=2, 20.0)
                .watched("bob", 1, 1..=1, 5.0),
        );
    let bob_id = world.user_id("bob");
    let bob = world.seerr_user("bob", bob_id.as_deref());
    world.seerr_tv_request(DARK_TMDB, Some(DARK_TVDB), &[1], bob, 40.0);
    let mut days = Days::start_with_seerr(world, "keep_until_requester_watched = true\n").await;
    let day0 = days.live(0).await;
    let s01 = (day0.plan.decisions.iter())
        .find(|d| d.title.to_string().contains("Dark S01"))
        .expect("Dark S01");
    assert_eq!(
        (s01.verdict, s01.reason.to_string()),
        (
            Verdict::Keep,
            "requested by bob, who has not watched it yet".to_owned()
        ),
        "bob has seen one episode of two"
    );
    days.stack.with_world(|w| {
        assert!(w.episode_file_exists("Dark", 1, 1) && w.episode_file_exists("Dark", 1, 2));
        let dark = w.series.iter_mut().find(|s| s.title == "Dark").unwrap();
        let e2 = (dark.episodes.iter_mut())
            .find(|e| e.season == 1 && e.number == 2)
            .unwrap();
        let watch = e2.watch.entry("bob".to_owned()).or_default();
        (watch.played, watch.last_played) = (true, Some(w.now));
    });
    days.live(1).await;
    days.stack.with_world(|w| {
        assert!(
            !w.episode_file_exists("Dark", 1, 1) && !w.episode_file_exists("Dark", 1, 2),
            "bob has seen the season"
        );
    });
}
