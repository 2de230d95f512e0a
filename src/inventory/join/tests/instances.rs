//! Several Radarrs and Sonarrs: every item is matched to the instance whose file it is.

use super::*;

/// Two Radarrs, `hd` (/movies) and `4k` (/movies4k), whose movie ids overlap, as two real
/// instances' ids do.
fn two_radarrs() -> Lists {
    let mut f = fetched(1);
    f.radarr = vec![
        RadarrData {
            instance: "hd".into(),
            movies: vec![
                movie(1, 438631, "tt1160419", "/movies/Dune (2021)"),
                movie(2, 603, "", "/movies/Matrix (1999)"),
            ],
            ..RadarrData::default()
        },
        RadarrData {
            instance: "4k".into(),
            movies: vec![
                movie(2, 438631, "tt1160419", "/movies4k/Dune (2021)"),
                movie(1, 27205, "", "/movies4k/Inception (2010)"),
            ],
            ..RadarrData::default()
        },
    ];
    f
}

/// The views the library holds for movie `radarr_id` of `instance`.
fn views_in<'a>(inv: &'a Inventory, instance: &str, radarr_id: i32) -> &'a Views {
    &inv.library
        .movies
        .iter()
        .find(|m| &*m.instance == instance && m.radarr_id == radarr_id)
        .unwrap()
        .views
}

fn dune(id: &str, path: &str) -> Item {
    with_path(
        with_ids(
            item(id, "Movie"),
            &[("Tmdb", "438631"), ("Imdb", "tt1160419")],
        ),
        path,
    )
}

#[test]
fn each_copy_of_a_movie_gets_the_views_of_its_own_file() {
    let mut f = two_radarrs();
    f.touched.add_all(
        0,
        vec![
            played(dune("a", "/movies/Dune (2021)/file.mkv"), T1),
            fav(dune("b", "/movies4k/Dune (2021)/file.mkv")),
        ],
    );
    let inv = join(f, &opts());
    assert!(
        inv.library.unmatched.is_empty(),
        "{:?}",
        inv.library.unmatched
    );
    let hd = views_in(&inv, "hd", 1).0[0];
    let uhd = views_in(&inv, "4k", 2).0[0];
    assert!(hd.played() && !hd.favorite(), "{hd:?}");
    assert!(uhd.favorite() && !uhd.played(), "{uhd:?}");
    // The same ids in the other instance are other movies, and untouched.
    assert!(!views_in(&inv, "hd", 2).any_played());
    assert!(!views_in(&inv, "4k", 1).any_played());
    // The copies keep their TMDB id, which the policy groups them by.
    let tmdb: Vec<(&str, Option<i32>)> = inv
        .library
        .movies
        .iter()
        .map(|m| (&*m.instance, m.tmdb_id))
        .collect();
    assert_eq!(
        tmdb,
        [
            ("hd", Some(438631)),
            ("hd", Some(603)),
            ("4k", Some(438631)),
            ("4k", Some(27205))
        ]
    );
}

#[test]
fn the_folder_tells_the_copies_apart_and_nothing_else_guesses() {
    let mut f = two_radarrs();
    f.touched.add_all(
        0,
        vec![
            // Another file name in the 4K copy's folder: still that copy.
            played(dune("a", "/movies4k/Dune (2021)/Dune.2160p.mkv"), T1),
            // A path in neither instance: which copy it is cannot be told.
            played(dune("b", "/elsewhere/Dune.mkv"), T1),
            // No path at all: the same.
            played(with_ids(item("c", "Movie"), &[("Tmdb", "438631")]), T1),
        ],
    );
    let inv = join(f, &opts());
    assert!(views_in(&inv, "4k", 2).any_played());
    assert!(!views_in(&inv, "hd", 1).any_played());
    let why: Vec<&str> = inv
        .library
        .unmatched
        .iter()
        .map(|u| u.why.as_str())
        .collect();
    assert_eq!(
        why,
        [
            "the movie with tmdb 438631 is in 2 Radarrs (hd, 4k) and its path \
             /elsewhere/Dune.mkv tells not which copy it is",
            "the movie with tmdb 438631 is in 2 Radarrs (hd, 4k) and its path (none) tells not \
             which copy it is",
        ]
    );
}

#[test]
fn a_movie_one_instance_holds_is_matched_there_by_id_or_by_file() {
    let mut f = two_radarrs();
    f.touched.add_all(
        0,
        vec![
            // Only the 4K Radarr has Inception; Jellyfin's path for it is its own.
            played(
                with_path(
                    with_ids(item("a", "Movie"), &[("Tmdb", "27205")]),
                    "/media/inception.mkv",
                ),
                T1,
            ),
            // Jellyfin names the wrong TMDB id, but the file is the HD Matrix's own.
            played(
                with_path(
                    with_ids(item("b", "Movie"), &[("Tmdb", "27205")]),
                    "/movies/Matrix (1999)/file.mkv",
                ),
                T1,
            ),
        ],
    );
    let inv = join(f, &opts());
    assert!(
        inv.library.unmatched.is_empty(),
        "{:?}",
        inv.library.unmatched
    );
    assert!(views_in(&inv, "4k", 1).any_played(), "Inception, in 4k");
    assert!(
        views_in(&inv, "hd", 2).any_played(),
        "the Matrix, by its file"
    );
    assert!(!views_in(&inv, "hd", 1).any_played() && !views_in(&inv, "4k", 2).any_played());
}

#[test]
fn root_folders_are_kept_per_instance() {
    let mut f = two_radarrs();
    f.radarr[1].root_folders = vec![RootFolder {
        id: 1,
        path: "/movies4k".into(),
        accessible: false,
    }];
    let inv = join(f, &opts());
    assert_eq!(inv.library.roots_of("4k"), ["/movies4k"]);
    assert!(inv.library.roots_of("hd").is_empty());
    assert_eq!(
        inv.root_folders,
        [RootFolderState {
            server: crate::clients::http::Server::new(Service::Radarr, "4k"),
            path: "/movies4k".into(),
            accessible: false
        }]
    );
}

/// Two Sonarrs, `tv` (/tv) and `anime` (/anime), each with a series numbered 10; both hold the
/// series with TVDB 5000.
fn two_sonarrs() -> Lists {
    let mut f = fetched(1);
    let show = series(10, 1000, "/tv/Show", "ended", &[1]);
    let shared_tv = series(11, 5000, "/tv/Shared", "ended", &[1]);
    let anime = series(10, 2000, "/anime/Frieren", "ended", &[1]);
    let shared_anime = series(12, 5000, "/anime/Shared", "ended", &[1]);
    let tv_eps = vec![ep(1, &show, 1, 1), ep(2, &shared_tv, 1, 1)];
    let anime_eps = vec![ep(1, &anime, 1, 1), ep(3, &shared_anime, 1, 1)];
    f.sonarr = vec![
        SonarrData {
            instance: "tv".into(),
            series: vec![show, shared_tv],
            ..SonarrData::default()
        },
        SonarrData {
            instance: "anime".into(),
            series: vec![anime, shared_anime],
            ..SonarrData::default()
        },
    ];
    for (k, eps) in [(0, tv_eps), (1, anime_eps)] {
        for e in eps {
            f.episodes.entry((k, e.series_id)).or_default().push(e);
        }
    }
    f.series_items = vec![
        with_ids(item("jfShow", "Series"), &[("Tvdb", "1000")]),
        with_ids(item("jfFrieren", "Series"), &[("Tvdb", "2000")]),
        with_ids(item("jfShared", "Series"), &[("Tvdb", "5000")]),
    ];
    f
}

fn episode_in<'a>(inv: &'a Inventory, instance: &str, series_id: i32) -> &'a Episode {
    let series = inv
        .library
        .series
        .iter()
        .find(|s| &*s.instance == instance && s.sonarr_id == series_id)
        .unwrap();
    &series.seasons[0].episodes[0]
}

#[test]
fn each_series_goes_to_its_own_sonarr_and_a_shared_one_by_its_folder_only() {
    let mut f = two_sonarrs();
    let at = |mut i: Item, path: &str| {
        i.path = Some(path.into());
        i
    };
    f.touched.add_all(
        0,
        vec![
            played(
                at(episode_item("s", "jfShow", 1, 1), "/tv/Show/S01/e1.mkv"),
                T1,
            ),
            played(
                at(
                    episode_item("f", "jfFrieren", 1, 1),
                    "/anime/Frieren/S01/e1.mkv",
                ),
                T1,
            ),
            // Shared is in both Sonarrs: the file's folder says which.
            played(
                at(
                    episode_item("x", "jfShared", 1, 1),
                    "/anime/Shared/S01/e1.mkv",
                ),
                T1,
            ),
        ],
    );
    let inv = join(f, &opts());
    assert!(
        inv.library.unmatched.is_empty(),
        "{:?}",
        inv.library.unmatched
    );
    assert!(episode_in(&inv, "tv", 10).views.any_played(), "Show, in tv");
    assert!(
        episode_in(&inv, "anime", 10).views.any_played(),
        "Frieren, in anime"
    );
    assert!(episode_in(&inv, "anime", 12).views.any_played());
    assert!(!episode_in(&inv, "tv", 11).views.any_played());
}

#[test]
fn an_episode_of_a_series_in_both_sonarrs_whose_path_tells_neither_is_ambiguous() {
    let mut f = two_sonarrs();
    let mut shared = episode_item("x", "jfShared", 1, 1);
    shared.path = Some("/media/Shared/S01/e1.mkv".into());
    f.touched.add_all(0, vec![played(shared, T1)]);
    let inv = join(f, &opts());
    assert!(!episode_in(&inv, "tv", 11).views.any_played());
    assert!(!episode_in(&inv, "anime", 12).views.any_played());
    let u = &inv.library.unmatched;
    assert_eq!(u.len(), 1, "{u:?}");
    assert_eq!(
        u[0].why,
        "the series with tvdb 5000 is in 2 Sonarrs (tv, anime) and the path \
         /media/Shared/S01/e1.mkv tells not which it belongs to"
    );
}

#[test]
fn the_series_waiting_for_their_episodes_are_named_with_their_sonarr() {
    let mut f = two_sonarrs();
    f.episodes.clear();
    let mut frieren = episode_item("f", "jfFrieren", 1, 1);
    frieren.path = Some("/anime/Frieren/S01/e1.mkv".into());
    f.touched.add_all(0, vec![played(frieren, T1)]);
    // Series 10 of the anime Sonarr, not the TV Sonarr's series 10.
    assert_eq!(candidate_series(&f, &opts()), [(1, 10)]);
}
