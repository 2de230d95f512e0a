#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use super::*;
use crate::clients::seerr::Request;
use crate::library::{Episode, MediaFile, Movie, Season, Series, SeriesStatus, UserView, Views};
use crate::plan::Reason;
use jiff::Timestamp;

fn file(id: i32) -> Option<MediaFile> {
    Some(MediaFile {
        id,
        path: format!("/media/{id}.mkv").into(),
        size: 1,
        quality: Default::default(),
    })
}

fn movie(radarr_id: i32, tmdb: Option<i32>) -> Movie {
    Movie {
        instance: "radarr".into(),
        radarr_id,
        tmdb_id: tmdb,
        title: format!("Movie {radarr_id}"),
        year: None,
        tags: Vec::new(),
        file: file(radarr_id),
        path: format!("/movies/{radarr_id}"),
        views: Views::untouched(1),
        playing: false,
        jellyfin_id: None,
    }
}

/// Series 7 (TVDB 81189) with a file in each of `seasons`, and season 9 without any.
fn series(seasons: &[i32]) -> Series {
    let mut all: Vec<Season> = (seasons.iter())
        .map(|&n| Season {
            number: n,
            views: Views::untouched(1),
            jellyfin_id: None,
            episodes: vec![Episode {
                sonarr_id: n * 10,
                number: 1,
                file: file(n * 100),
                views: Views::untouched(1),
                playing: false,
                jellyfin_id: None,
            }],
        })
        .collect();
    all.push(Season {
        number: 9,
        views: Views::untouched(1),
        jellyfin_id: None,
        episodes: Vec::new(),
    });
    Series {
        instance: "sonarr".into(),
        sonarr_id: 7,
        tvdb_id: Some(81189),
        title: "Dark".to_owned(),
        status: SeriesStatus::Ended,
        tags: Vec::new(),
        path: "/tv/Dark".to_owned(),
        views: Views::untouched(1),
        seasons: all,
    }
}

fn delete(kind: Kind, target: Target) -> Decision {
    Decision {
        verdict: Verdict::Delete,
        kind,
        title: "t".into(),
        target,
        bytes: 1,
        reason: Reason::Watched { days_ago: 9 },
        watched_at: crate::plan::LastPlay::NONE,
        jellyfin_id: None,
        quality: Default::default(),
    }
}

fn radarr(movie_id: i32) -> Decision {
    delete(
        Kind::Movie,
        Target::Radarr {
            instance: "radarr".into(),
            movie_id,
        },
    )
}

fn sonarr(kind: Kind, season: i32) -> Decision {
    delete(
        kind,
        Target::Sonarr {
            instance: "sonarr".into(),
            series_id: 7,
            season,
            episode_ids: [season * 10].into_iter().collect(),
            episode_file_ids: [season * 100].into_iter().collect(),
        },
    )
}

fn cleanups(library: &Library, decisions: Vec<Decision>) -> Vec<NewCleanup> {
    let plan = Plan {
        decisions,
        ..Plan::default()
    };
    let (indexes, _) = crate::record::new_actions(&plan);
    let ids: Vec<ActionId> = (0..indexes.len() as i64).map(|i| ActionId(i + 1)).collect();
    Titles::of(library, &plan).cleanups(&plan, &indexes, &ids)
}

fn kinds(c: &[NewCleanup]) -> Vec<(CleanupKind, Option<i32>)> {
    c.iter().map(|c| (c.kind, c.season)).collect()
}

#[test]
fn a_movie_is_cleaned_up_by_its_tmdb_id() {
    let library = Library {
        movies: vec![movie(1, Some(603)), movie(2, None)],
        ..Library::default()
    };
    let c = cleanups(&library, vec![radarr(1), radarr(2)]);
    assert_eq!(
        c.len(),
        1,
        "a movie without a TMDB id cannot be found: {c:?}"
    );
    assert_eq!(
        (c[0].kind, c[0].tmdb_id, c[0].action),
        (CleanupKind::Movie, Some(603), ActionId(1))
    );
}

#[test]
fn seasons_are_cleaned_up_one_by_one_unless_the_series_goes_whole() {
    let library = Library {
        series: vec![series(&[1, 2])],
        ..Library::default()
    };
    let one = cleanups(&library, vec![sonarr(Kind::Season, 1)]);
    assert_eq!(kinds(&one), [(CleanupKind::Season, Some(1))]);
    assert_eq!(one[0].tvdb_id, Some(81189));
    assert_eq!(one[0].series_key.as_deref(), Some("sonarr:7"));

    // Every season with a file goes (season 9 has none): the whole series.
    let both = cleanups(
        &library,
        vec![sonarr(Kind::Season, 1), sonarr(Kind::Season, 2)],
    );
    assert_eq!(
        kinds(&both),
        [
            (CleanupKind::Series, Some(1)),
            (CleanupKind::Series, Some(2))
        ]
    );

    // Episodes leave Seerr alone: it requests by season.
    assert!(cleanups(&library, vec![sonarr(Kind::Episode, 1)]).is_empty());
    // With specials still on disk, the series is not gone.
    let with_specials = Library {
        series: vec![series(&[0, 1])],
        ..Library::default()
    };
    assert_eq!(
        kinds(&cleanups(&with_specials, vec![sonarr(Kind::Season, 1)])),
        [(CleanupKind::Season, Some(1))]
    );
}

/// A request as Seerr lists it: `status` 2 (approved) or 3 (declined), made `days_ago` days
/// before `at(0)`.
fn seerr_request(movie: bool, id: i64, status: i32, seasons: &[i32], days_ago: i64) -> Request {
    let created = at(-days_ago * 86_400);
    let seasons: Vec<serde_json::Value> = (seasons.iter())
        .map(|n| serde_json::json!({"id": 100 + n, "seasonNumber": n, "status": 2}))
        .collect();
    serde_json::from_value(serde_json::json!({
        "id": 1, "status": status, "createdAt": created.to_string(), "is4k": false,
        "media": {"id": 1001, "mediaType": if movie { "movie" } else { "tv" }, "tmdbId": id,
                  "tvdbId": if movie { serde_json::Value::Null } else { id.into() },
                  "status": 5, "status4k": 1},
        "seasons": seasons,
        "requestedBy": {"id": 3, "jellyfinUsername": "bob", "displayName": "Bob"},
    }))
    .expect("a request as Seerr writes it")
}

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_795_000_000 + secs).unwrap()
}

fn reasons(plan: &Plan) -> Vec<String> {
    plan.decisions
        .iter()
        .map(|d| d.reason.to_string())
        .collect()
}

#[test]
fn a_request_newer_than_the_protection_keeps_its_title() {
    let library = Library {
        movies: vec![movie(1, Some(603)), movie(2, Some(604))],
        series: vec![series(&[1, 2])],
        ..Library::default()
    };
    let plan = || Plan {
        decisions: vec![
            radarr(1),
            radarr(2),
            sonarr(Kind::Season, 1),
            sonarr(Kind::Season, 2),
        ],
        ..Plan::default()
    };
    let requests = [
        seerr_request(true, 603, 2, &[], 3),
        seerr_request(true, 604, 2, &[], 40),
        seerr_request(false, 81189, 2, &[2], 0),
        // Declined: it protects nothing.
        seerr_request(false, 81189, 3, &[1], 0),
    ];
    let titles = Titles::of(&library, &plan());
    let mut p = plan();
    protect(&mut p, &titles, Ok(&requests), at(0), 14);
    assert_eq!(
        reasons(&p),
        [
            "requested by bob 3 days ago",
            "watched 9 days ago",
            "watched 9 days ago",
            "requested by bob today"
        ]
    );
    assert_eq!(p.deletions().count(), 2);

    // Off: nothing changes, and nothing is asked.
    let mut off = plan();
    protect(&mut off, &titles, Ok(&requests), at(0), 0);
    assert_eq!(off, plan());

    // Unreadable: every deletion is kept.
    let mut unknown = plan();
    protect(&mut unknown, &titles, Err("503".to_owned()), at(0), 14);
    assert_eq!(unknown.deletions().count(), 0);
    assert!(reasons(&unknown)[0].contains("Seerr's requests could not be read"));
}

fn seerr_user(id: i64, jellyfin_id: Option<&str>, name: Option<&str>) -> SeerrUser {
    serde_json::from_value(serde_json::json!({
        "id": id, "jellyfinUserId": jellyfin_id, "jellyfinUsername": name,
        "displayName": name.unwrap_or("someone@example.org"),
    }))
    .expect("a user as Seerr writes it")
}

fn jellyfin_user(id: &str, name: &str) -> crate::clients::jellyfin::User {
    crate::clients::jellyfin::User {
        id: id.to_owned(),
        name: name.to_owned(),
    }
}

#[test]
fn a_requester_is_found_by_jellyfin_id_then_by_name() {
    let bob_id = "0123456789abcdef0123456789abcdef";
    let users = [
        jellyfin_user("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Alice"),
        jellyfin_user(bob_id, "Robert"),
    ];
    let counted = ["Alice".to_owned()];
    let robert = Who::Other {
        id: bob_id.to_owned(),
        name: "Robert".to_owned(),
    };
    // The id wins over a name that has changed since, with or without dashes.
    let by_id = seerr_user(3, Some(bob_id), Some("Alice"));
    assert_eq!(identify(&by_id, &users, &counted), robert);
    let dashed = seerr_user(3, Some("01234567-89AB-CDEF-0123-456789ABCDEF"), None);
    assert_eq!(identify(&dashed, &users, &counted), robert);
    // An id Jellyfin does not know: the name, in any case.
    let stale = seerr_user(4, Some("ffffffffffffffffffffffffffffffff"), Some("alice "));
    assert_eq!(identify(&stale, &users, &counted), Who::Counted(0));
    assert_eq!(
        identify(&seerr_user(5, None, Some("ROBERT")), &users, &counted),
        robert
    );
    assert_eq!(
        identify(&seerr_user(6, None, Some("carol")), &users, &counted),
        Who::Unknown
    );
}

/// Movie 1 (TMDB 603) and season 1 of Dark, both to be deleted; the requests of `users`.
fn requested_by(users: &[&SeerrUser], status: i32) -> (Library, Plan, Vec<Request>) {
    let mut m = movie(1, Some(603));
    m.jellyfin_id = crate::library::JellyfinId::parse("11111111111111111111111111111111");
    m.views = Views::from(vec![UserView::new(true, Some(at(-9 * 86_400)), false)]);
    let library = Library {
        users: vec!["alice".to_owned()],
        movies: vec![m],
        series: vec![series(&[1])],
        ..Library::default()
    };
    let plan = Plan {
        decisions: vec![radarr(1), sonarr(Kind::Season, 1)],
        ..Plan::default()
    };
    let mut requests = Vec::new();
    for u in users {
        for r in [
            seerr_request(true, 603, status, &[], 30),
            seerr_request(false, 81189, status, &[1], 30),
        ] {
            requests.push(Request {
                requested_by: (*u).clone(),
                ..r
            });
        }
    }
    (library, plan, requests)
}

#[test]
fn a_deletion_waits_for_every_requester() {
    let (alice, bob) = (
        seerr_user(1, None, Some("alice")),
        seerr_user(2, None, Some("bob")),
    );
    let (library, plan, requests) = requested_by(&[&alice, &bob], 2);
    let titles = Titles::of(&library, &plan);
    let asked = asked(&plan, &titles, &requests);
    assert_eq!(asked.deletions.len(), 2, "the movie and the season");
    let ids: Vec<i64> = asked.requesters().iter().map(|u| u.id).collect();
    assert_eq!(ids, [1, 2], "each requester once");

    let judged = |says: HashMap<i64, Say>| {
        let mut p = plan.clone();
        judge(&mut p, &library, &asked, &says);
        reasons(&p)
    };
    let movie_id = library.movies[0].jellyfin_id.unwrap();
    // Alice (counted) watched the movie, not the season; Bob watched the movie.
    let both = judged(HashMap::from([
        (1, Say::Counted(0)),
        (2, Say::Played(HashSet::from([movie_id]))),
    ]));
    assert_eq!(
        both,
        [
            "watched 9 days ago",
            "requested by alice, who has not watched it yet"
        ]
    );
    // Bob has not watched it: the movie waits for him, though Alice has.
    let bob_not = judged(HashMap::from([
        (1, Say::Counted(0)),
        (2, Say::Played(HashSet::new())),
    ]));
    assert_eq!(bob_not[0], "requested by bob, who has not watched it yet");
    // What cannot be told keeps it, and says why.
    let unknown = judged(HashMap::from([(1, Say::Counted(0)), (2, Say::Unknown)]));
    assert_eq!(unknown[0], "requested by bob, who matches no Jellyfin user");
    let unread = judged(HashMap::from([
        (1, Say::Counted(0)),
        (
            2,
            Say::Unreadable("the played items of bob could not be read: 500".to_owned()),
        ),
    ]));
    assert!(
        unread[0].contains("the played items of bob could not be read"),
        "{unread:?}"
    );
    let missing = judged(HashMap::from([(1, Say::Counted(0))]));
    assert!(missing[0].contains("could not be read"), "{missing:?}");

    // A declined request asked for nothing.
    let (library, plan, declined) = requested_by(&[&bob], 3);
    let titles = Titles::of(&library, &plan);
    assert!(super::asked(&plan, &titles, &declined).deletions.is_empty());
}
