//! Collecting from a scripted stack, the users, the doubts and the calendar's coverage.

use std::time::Duration;

use super::*;
use crate::clients::http::{Http, HttpSettings};
use crate::clients::test_server::{start, Reply, Seen, Server};
use crate::clients::{JellyfinClient, RadarrClient, SonarrClient};

fn user(id: &str, name: &str) -> jellyfin::User {
    jellyfin::User {
        id: id.into(),
        name: name.into(),
    }
}

#[test]
fn a_favourites_listing_read_in_part_is_a_doubt_a_played_one_is_not() {
    let changed = jellyfin::Listing {
        inconsistent: Some("its total went from 3 to 2".into()),
        ..Default::default()
    };
    let unreadable = jellyfin::Listing {
        malformed: 1,
        unreadable: 1,
        ..Default::default()
    };
    let malformed_only = jellyfin::Listing {
        malformed: 1,
        ..Default::default()
    };
    let Some(Doubt::Favorites { why }) = listing_doubt("ann", ItemFilter::Favorite, &changed)
    else {
        panic!("no doubt");
    };
    assert!(
        why.contains("favourites of ann") && why.contains("from 3 to 2"),
        "{why}"
    );
    assert!(listing_doubt("ann", ItemFilter::Favorite, &unreadable).is_some());
    // An item whose UserData was bad is still known to be a favourite.
    assert!(listing_doubt("ann", ItemFilter::Favorite, &malformed_only).is_none());
    for listing in [&changed, &unreadable] {
        assert!(listing_doubt("ann", ItemFilter::Played, listing).is_none());
    }
}

#[test]
fn episode_records_that_cannot_be_read_doubt_their_series_once() {
    let malformed = |element: serde_json::Value| Malformed {
        error: "invalid type".into(),
        element: Some(element),
    };
    let doubts = series_doubts(
        &[
            malformed(serde_json::json!({"seriesId": 7, "episodeFileId": "x"})),
            malformed(serde_json::json!({"seriesId": 7, "id": "y"})),
            malformed(serde_json::json!({"seriesId": 8, "id": "z"})),
        ],
        "sonarr".into(),
        None,
        "the calendar",
    )
    .expect("attributable");
    let ids: Vec<i32> = doubts
        .iter()
        .filter_map(|d| match d {
            Doubt::Series { sonarr_id, .. } => Some(*sonarr_id),
            Doubt::Favorites { .. } => None,
        })
        .collect();
    assert_eq!(ids, [7, 8]);
    // A record without a series cannot be set aside: the pass fails.
    let err = series_doubts(
        &[malformed(serde_json::json!({"id": 1}))],
        "sonarr".into(),
        None,
        "the calendar",
    )
    .unwrap_err();
    assert!(err.to_string().contains("names no series"), "{err}");
    // From a series' own list, the series is known.
    let doubts = series_doubts(
        &[malformed(serde_json::json!({}))],
        "anime".into(),
        Some(9),
        "its list",
    );
    assert!(matches!(
        doubts.as_deref(),
        Ok([Doubt::Series { sonarr_id: 9, instance, .. }]) if &**instance == "anime"
    ));
}

#[test]
fn users_resolve_case_insensitively_in_configured_order() {
    let existing = [user("1", "Admin"), user("2", "alice")];
    let got = resolve_users(&["ALICE".into(), "admin".into()], &existing).unwrap();
    let ids: Vec<&str> = got.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["2", "1"]);
}

#[test]
fn unknown_users_are_named_with_the_existing_ones() {
    let existing = [user("1", "Admin"), user("2", "alice")];
    let err = resolve_users(&["admin".into(), "bob".into()], &existing).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Jellyfin has no user named \"bob\"; its users are: \"Admin\", \"alice\""
    );
}

/// A tiny Jellyfin + Radarr + Sonarr on one port: two users, a watched movie, a watched
/// episode of series 10 (TVDB 81189); series 11 has nothing watched.
fn stack(s: &Seen, _: usize) -> Reply {
    let page = |items: &str| {
        let n = items.matches(r#""Id":"#).count();
        Reply::json(format!(r#"{{"Items":[{items}],"TotalRecordCount":{n}}}"#))
    };
    let uid = s.param("userId");
    match (s.path.as_str(), uid.as_deref()) {
        ("/Users", _) => Reply::json(
            r#"[{"Id":"u1","Name":"Admin"},{"Id":"u2","Name":"Kid"},{"Id":"u3","Name":"Guest"}]"#,
        ),
        ("/Sessions", _) => Reply::json("[]"),
        ("/Items", None) => page(r#"{"Id":"jfS","Type":"Series","ProviderIds":{"Tvdb":"81189"}}"#),
        ("/Items", Some("u1")) if s.param("isPlayed").is_some() => page(
            r#"{"Id":"m","Type":"Movie","Path":"/movies/M/m.mkv","ProviderIds":{"Tmdb":"603"},"UserData":{"Played":true,"LastPlayedDate":"2024-01-01T00:00:00.0000000Z"}},
               {"Id":"e","Type":"Episode","Path":"/tv/BB/e1.mkv","SeriesId":"jfS","ParentIndexNumber":1,"IndexNumber":1,
                "UserData":{"Played":true,"LastPlayedDate":"2024-01-02T00:00:00.12Z"}}"#,
        ),
        ("/Items", Some(_)) => Reply::json(r#"{"Items":[],"TotalRecordCount":0}"#),
        ("/api/v3/movie", _) => Reply::json(
            r#"[{"id":1,"title":"The Matrix","tmdbId":603,"path":"/movies/M","movieFile":{"id":5,"path":"/movies/M/m.mkv","size":7}}]"#,
        ),
        ("/api/v3/series", _) => Reply::json(
            r#"[{"id":10,"title":"BB","status":"continuing","tvdbId":81189,"path":"/tv/BB","seasons":[{"seasonNumber":1}]},
                {"id":11,"title":"Other","status":"ended","tvdbId":5,"path":"/tv/O","seasons":[{"seasonNumber":1}]}]"#,
        ),
        ("/api/v3/episode", _) => Reply::json(
            r#"[{"id":100,"seriesId":10,"seasonNumber":1,"episodeNumber":1,"episodeFileId":50,
                 "episodeFile":{"id":50,"path":"/tv/BB/e1.mkv","size":3}}]"#,
        ),
        // The seasons above carry no statistics, so the calendar cannot vouch for them.
        ("/api/v3/calendar", _) => Reply::json(
            r#"[{"id":100,"seriesId":10,"seasonNumber":1,"episodeNumber":1,"episodeFileId":50,
                 "episodeFile":{"id":50,"path":"/tv/BB/e1.mkv","size":3}},
                {"id":200,"seriesId":11,"seasonNumber":1,"episodeNumber":1}]"#,
        ),
        ("/api/v3/tag", _) => Reply::json(r#"[{"id":1,"label":"keep"}]"#),
        ("/api/v3/rootfolder", _) => Reply::json(r#"[{"id":1,"path":"/data","accessible":true}]"#),
        _ => Reply::status(404),
    }
}

fn sources(srv: &Server, radarr: bool, sonarr: bool) -> Sources {
    let http = Http::new().unwrap();
    let settings = HttpSettings {
        backoff_base: Duration::from_millis(5),
        ..HttpSettings::default()
    };
    let s = settings.clone();
    Sources {
        jellyfin: JellyfinClient::new(&http, &srv.url, "jk", s.clone()).unwrap(),
        radarr: (radarr.then(|| RadarrClient::new(&http, &srv.url, "rk", s.clone()).unwrap()))
            .into_iter()
            .collect(),
        sonarr: (sonarr.then(|| SonarrClient::new(&http, &srv.url, "sk", settings).unwrap()))
            .into_iter()
            .collect(),
    }
}

fn counted(names: &[&str]) -> InventoryOptions {
    InventoryOptions {
        users: names.iter().map(|n| n.to_string()).collect(),
        concurrency: 2,
        ..InventoryOptions::default()
    }
}

#[tokio::test]
async fn collect_makes_a_fixed_number_of_list_requests() {
    let srv = start(stack).await;
    let inv = collect(&sources(&srv, true, true), &counted(&["admin", "kid"]))
        .await
        .unwrap();
    let seen = srv.seen();
    let count = |path: &str| seen.iter().filter(|s| s.path == path).count();
    // Users 1; per counted user played + favourites 2×2; Series items 1; sessions 1.
    assert_eq!(count("/Users"), 1);
    assert_eq!(count("/Items"), 5);
    assert_eq!(count("/Sessions"), 1);
    // Each *arr list once, the calendar once; then the one series with a candidate on its
    // own, since its seasons report no episode count the calendar could be checked against.
    for p in [
        "/api/v3/movie",
        "/api/v3/series",
        "/api/v3/calendar",
        "/api/v3/episode",
    ] {
        assert_eq!(count(p), 1, "{p}");
    }
    assert_eq!(count("/api/v3/tag"), 2);
    assert_eq!(count("/api/v3/rootfolder"), 2);
    assert_eq!(seen.len(), 15);
    let ep_req = seen.iter().find(|s| s.path == "/api/v3/episode").unwrap();
    assert_eq!(ep_req.param("seriesId").as_deref(), Some("10"));
    // Guest is not counted: nobody asked for their items.
    assert!(seen
        .iter()
        .all(|s| s.param("userId").as_deref() != Some("u3")));

    let lib = &inv.library;
    assert_eq!(lib.users, ["Admin", "Kid"]);
    assert!(lib.movies[0].views.get(0).played() && !lib.movies[0].views.get(1).played());
    let bb = &lib.series[0];
    assert!(bb.seasons[0].episodes[0].views.get(0).played());
    assert!(lib.series[1].seasons[0].episodes.is_empty());
    assert_eq!(lib.roots_of("radarr"), ["/data"]);
    assert_eq!(inv.root_folders.len(), 2);
    assert!(lib.unmatched.is_empty());
}

fn series(id: i32, season_totals: &[Option<i32>]) -> sonarr::Series {
    sonarr::Series {
        id,
        seasons: season_totals
            .iter()
            .enumerate()
            .map(|(n, total)| sonarr::SeasonInfo {
                season_number: n as i32,
                statistics: total.map(|t| sonarr::SeasonStatistics {
                    total_episode_count: t,
                }),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn aired(series_id: i32, season: i32, n: i32, with_file: bool) -> sonarr::Episode {
    sonarr::Episode {
        id: series_id * 1000 + season * 100 + n,
        series_id,
        season_number: season,
        episode_number: n,
        episode_file_id: if with_file { n } else { 0 },
        episode_file: with_file.then(|| sonarr::EpisodeFile {
            id: n,
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn the_calendar_covers_a_series_only_when_every_episode_is_in_it() {
    let all = [
        // 1: two seasons of 2, all aired: covered.
        series(1, &[Some(2), Some(2)]),
        // 2: a special without an air date (season 0 counts 1, the calendar has none).
        series(2, &[Some(1), Some(2)]),
        // 3: no statistics: cannot tell.
        series(3, &[None]),
        // 4: the files were not embedded (the Sonarr v3 app).
        series(4, &[Some(1)]),
    ];
    let calendar = vec![
        aired(1, 0, 1, true),
        aired(1, 0, 2, false),
        aired(1, 1, 1, true),
        aired(1, 1, 2, true),
        aired(2, 1, 1, true),
        aired(2, 1, 2, true),
        aired(3, 0, 1, true),
        sonarr::Episode {
            episode_file: None,
            ..aired(4, 0, 1, true)
        },
    ];
    let mut aired: HashMap<(i32, i32), Vec<Episode>> = HashMap::new();
    let mut without_files = HashSet::new();
    for e in calendar {
        if sonarr::needs_file(&e) {
            without_files.insert(e.series_id);
        }
        let key = (e.series_id, e.season_number);
        aired
            .entry(key)
            .or_default()
            .push(library_episode(e, 1, &QualityTable::default()).1);
    }
    let seasons = by_series(aired, 1);
    let covered: Vec<bool> = all
        .iter()
        .map(|s| covers(s, &seasons[&s.id], &without_files))
        .collect();
    assert_eq!(covered, [true, false, false, false]);
    assert_eq!(seasons[&1].len(), 2);
    assert_eq!(expected_episodes(&all[0]), Some(4));
    assert_eq!(expected_episodes(&all[2]), None);
}

#[tokio::test]
async fn a_calendar_that_covers_the_candidates_needs_no_request_per_series() {
    fn with_statistics(s: &Seen, n: usize) -> Reply {
        match s.path.as_str() {
            "/api/v3/series" => Reply::json(
                r#"[{"id":10,"title":"BB","status":"continuing","tvdbId":81189,"path":"/tv/BB",
                     "seasons":[{"seasonNumber":1,"statistics":{"totalEpisodeCount":1}}]}]"#,
            ),
            _ => stack(s, n),
        }
    }
    let srv = start(with_statistics).await;
    let inv = collect(&sources(&srv, false, true), &counted(&["admin"]))
        .await
        .unwrap();
    let seen = srv.seen();
    assert_eq!(
        seen.iter().filter(|s| s.path == "/api/v3/calendar").count(),
        1
    );
    assert!(seen.iter().all(|s| s.path != "/api/v3/episode"), "{seen:?}");
    let calendar = seen.iter().find(|s| s.path == "/api/v3/calendar").unwrap();
    assert_eq!(calendar.param("unmonitored").as_deref(), Some("true"));
    assert_eq!(
        calendar.param("includeEpisodeFile").as_deref(),
        Some("true")
    );
    assert!(inv.library.series[0].seasons[0].episodes[0]
        .views
        .get(0)
        .played());
}

#[tokio::test]
async fn collect_without_arrs_asks_only_jellyfin() {
    let srv = start(stack).await;
    let inv = collect(&sources(&srv, false, false), &counted(&["admin"]))
        .await
        .unwrap();
    assert!(srv.seen().iter().all(|s| !s.path.starts_with("/api/")));
    assert!(inv.library.movies.is_empty() && inv.library.unmatched.is_empty());
}

#[tokio::test]
async fn collect_fails_on_an_unknown_user_before_fetching_items() {
    let srv = start(stack).await;
    let err = collect(&sources(&srv, true, true), &counted(&["admin", "nobody"]))
        .await
        .unwrap_err();
    assert!(matches!(err, InventoryError::UnknownUsers { .. }), "{err}");
    assert_eq!(srv.count(), 1);
}

#[tokio::test]
async fn collect_reports_the_failing_server() {
    let srv = start(|s, n| {
        if s.path == "/api/v3/movie" {
            Reply::status(401)
        } else {
            stack(s, n)
        }
    })
    .await;
    let err = collect(&sources(&srv, true, true), &counted(&["admin"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Radarr answered 401 Unauthorized for GET /api/v3/movie: check the API key"
    );
}
