//! Matching Jellyfin items to Radarr movies.

use super::*;

#[test]
fn movie_matches_by_tmdb_even_when_paths_differ() {
    let mut f = fetched(1);
    radarr(&mut f).movies = vec![movie(1, 603, "", "/movies/Matrix"), movie(2, 604, "", "/x")];
    f.touched.add_all(
        0,
        vec![played(
            with_path(
                with_ids(item("a", "Movie"), &[("tmdb", "603")]),
                "/elsewhere/m.mkv",
            ),
            T1,
        )],
    );
    let inv = join(f.clone(), &opts());
    let v = movie_views(&inv, 1);
    assert!(v.0[0].played());
    assert_eq!(v.0[0].last_played(), Some(ts(T1)));
    assert!(!movie_views(&inv, 2).any_played());
    assert!(inv.library.unmatched.is_empty());
}

#[test]
fn movie_matches_by_imdb_when_tmdb_finds_nothing() {
    let mut f = fetched(1);
    radarr(&mut f).movies = vec![movie(1, 603, "tt0133093", "/movies/Matrix")];
    f.touched.add_all(
        0,
        vec![played(
            with_ids(
                item("a", "Movie"),
                &[("Tmdb", "999"), ("IMDB", "TT0133093")],
            ),
            T1,
        )],
    );
    let inv = join(f.clone(), &opts());
    assert!(movie_views(&inv, 1).any_played());
}

#[test]
fn movie_matches_by_mapped_file_path_or_folder() {
    let mut f = fetched(1);
    radarr(&mut f).movies = vec![
        movie(1, 603, "", "/movies/A"),
        movie(2, 604, "", "/movies/B"),
    ];
    f.touched.add_all(
        0,
        vec![
            played(
                with_path(item("a", "Movie"), "/media/movies/A/file.mkv"),
                T1,
            ),
            // Not Radarr's file name, but inside Radarr's folder of movie 2.
            played(
                with_path(item("b", "Movie"), "/media/movies/B/other.mkv"),
                T1,
            ),
        ],
    );
    let inv = join(f.clone(), &with_map(&[("/media/movies/", "/movies")]));
    assert!(movie_views(&inv, 1).any_played());
    assert!(movie_views(&inv, 2).any_played());
    assert!(inv.library.unmatched.is_empty());

    // Without the mapping nothing matches, and both are reported with the path tried.
    let inv = join(f.clone(), &opts());
    assert!(!movie_views(&inv, 1).any_played());
    assert_eq!(inv.library.unmatched.len(), 2);
    let u = &inv.library.unmatched[0];
    assert_eq!(u.kind, "Movie");
    assert_eq!(u.path.as_deref(), Some("/media/movies/A/file.mkv"));
    assert_eq!(u.why, "no Radarr movie with path /media/movies/A/file.mkv");
}

#[test]
fn a_movie_folder_high_above_the_file_does_not_match() {
    let mut f = fetched(1);
    // A Radarr entry whose folder is the whole root, by mistake.
    radarr(&mut f).movies = vec![movie(1, 1, "", "/movies")];
    f.touched.add_all(
        0,
        vec![
            played(with_path(item("a", "Movie"), "/movies/X (2000)/x.mkv"), T1),
            played(with_path(item("b", "Movie"), "/movies/y.mkv"), T1),
        ],
    );
    let inv = join(f.clone(), &opts());
    // The file directly in the folder matches; the one two levels down does not.
    assert_eq!(inv.library.unmatched.len(), 1);
    assert_eq!(inv.library.unmatched[0].title, "name-a");
}

#[test]
fn ambiguous_movie_is_unmatched_and_never_guessed() {
    let mut f = fetched(1);
    radarr(&mut f).movies = vec![movie(1, 603, "", "/m/a"), movie(2, 603, "", "/m/b")];
    f.touched.add_all(
        0,
        vec![played(
            with_path(
                with_ids(item("a", "Movie"), &[("Tmdb", "603")]),
                "/m/a/file.mkv",
            ),
            T1,
        )],
    );
    let inv = join(f.clone(), &opts());
    assert!(!movie_views(&inv, 1).any_played());
    assert!(!movie_views(&inv, 2).any_played());
    assert_eq!(inv.library.unmatched.len(), 1);
    assert_eq!(
        inv.library.unmatched[0].why,
        "2 Radarr movies match tmdb 603"
    );
    assert_eq!(inv.library.unmatched[0].title, "name-a");
}

#[test]
fn unmatched_reports_what_was_tried_and_skips_unwatched_favourites() {
    let mut f = fetched(1);
    radarr(&mut f).movies = vec![movie(1, 1, "", "/m/a")];
    f.touched.add_all(
        0,
        vec![played(
            with_path(
                with_ids(item("a", "Movie"), &[("Tmdb", "603"), ("Imdb", "tt1")]),
                "/m/z.mkv",
            ),
            T1,
        )],
    );
    f.touched.add_all(
        0,
        vec![fav(with_ids(item("b", "Movie"), &[("Tmdb", "77")]))],
    );
    let inv = join(f.clone(), &opts());
    assert_eq!(
        inv.library.unmatched.len(),
        1,
        "{:?}",
        inv.library.unmatched
    );
    assert_eq!(
        inv.library.unmatched[0].why,
        "no Radarr movie with tmdb 603, imdb tt1, path /m/z.mkv"
    );
}

#[test]
fn views_are_per_counted_user_in_order_and_merged_across_lists() {
    let mut f = fetched(2);
    radarr(&mut f).movies = vec![
        movie(1, 1, "", "/m/1"),
        movie(2, 2, "", "/m/2"),
        movie(3, 3, "", "/m/3"),
    ];
    let m = |id: &str, tmdb: &str| with_ids(item(id, "Movie"), &[("Tmdb", tmdb)]);
    // Movie 1: both users played it (so "all" holds); movie 2: only the second user.
    f.touched.add_all(0, vec![played(m("a", "1"), T1)]);
    f.touched
        .add_all(1, vec![played(m("a", "1"), T2), played(m("b", "2"), T1)]);
    // The same item in the played and the favourite list of one user: both flags.
    f.touched.add_all(
        1,
        vec![{
            let mut i = fav(m("b", "2"));
            i.user_data.as_mut().unwrap().played = true;
            i
        }],
    );
    let inv = join(f.clone(), &opts());
    assert_eq!(inv.library.users, ["user0", "user1"]);
    let v1 = movie_views(&inv, 1);
    assert!((0..2).all(|i| v1.get(i).played()));
    assert_eq!(v1.get(0).last_played(), Some(ts(T1)));
    assert_eq!(v1.get(1).last_played(), Some(ts(T2)));
    let v2 = movie_views(&inv, 2);
    assert_eq!(v2.get(0), UserView::default());
    assert!(v2.get(1).played() && v2.get(1).favorite());
    assert_eq!(v2.get(1).last_played(), Some(ts(T1)));
    assert_eq!(movie_views(&inv, 3), &Views::untouched(2));
}

#[test]
fn two_jellyfin_copies_of_one_movie_merge_their_views() {
    let mut f = fetched(2);
    radarr(&mut f).movies = vec![movie(1, 1, "", "/m/1")];
    let m = |id: &str| with_ids(item(id, "Movie"), &[("Tmdb", "1")]);
    f.touched.add_all(0, vec![played(m("a"), T1)]);
    f.touched.add_all(1, vec![played(m("b"), T2)]);
    let inv = join(f.clone(), &opts());
    assert!((0..2).all(|i| movie_views(&inv, 1).get(i).played()));
}

#[test]
fn movie_fields_tags_year_and_file() {
    let mut f = fetched(1);
    let mut m = movie(1, 1, "", "/m/1");
    m.tags = vec![1, 2, 9];
    m.year = Some(0);
    let mut no_file = movie(2, 2, "", "/m/2");
    no_file.movie_file = None;
    no_file.title = None;
    radarr(&mut f).movies = vec![m, no_file];
    radarr(&mut f).tags = vec![
        Tag {
            id: 1,
            label: Some("Keep".into()),
        },
        Tag {
            id: 2,
            label: Some("kids".into()),
        },
    ];
    let inv = join(f.clone(), &opts());
    let m = &inv.library.movies[0];
    assert_eq!(m.tags, ["Keep", "kids"]);
    assert_eq!(m.year, None);
    assert_eq!(
        m.file,
        Some(MediaFile {
            id: 10,
            path: "/m/1/file.mkv".into(),
            size: 1000,
            quality: Default::default(),
        })
    );
    assert_eq!(m.path, "/m/1");
    assert_eq!(inv.library.movies[1].file, None);
    assert_eq!(inv.library.movies[1].title, "Radarr movie 2");
}

#[test]
fn playing_movie_by_session_id_or_mapped_path() {
    let mut f = fetched(1);
    radarr(&mut f).movies = vec![
        movie(1, 1, "", "/movies/1"),
        movie(2, 2, "", "/movies/2"),
        movie(3, 3, "", "/movies/3"),
    ];
    f.touched.add_all(
        0,
        vec![played(with_ids(item("a", "Movie"), &[("Tmdb", "1")]), T1)],
    );
    f.sessions = vec![
        Session::default(),
        Session {
            user_name: None,
            now_playing_item: Some(item("a", "Movie")),
        },
        Session {
            user_name: Some("guest".into()),
            now_playing_item: Some(with_path(item("zz", "Movie"), "/media/2/file.mkv")),
        },
    ];
    let inv = join(f.clone(), &with_map(&[("/media", "/movies")]));
    let playing: Vec<bool> = inv.library.movies.iter().map(|m| m.playing).collect();
    assert_eq!(playing, [true, true, false]);
}

#[test]
fn an_unconfigured_service_contributes_nothing() {
    let mut f = fetched(1);
    f.radarr.clear();
    f.sonarr.clear();
    f.touched.add_all(
        0,
        vec![
            played(with_ids(item("a", "Movie"), &[("Tmdb", "1")]), T1),
            played(episode_item("e", "s", 1, 1), T1),
        ],
    );
    let inv = join(f.clone(), &opts());
    assert!(inv.library.movies.is_empty() && inv.library.series.is_empty());
    assert!(inv.library.unmatched.is_empty());
    assert!(inv.root_folders.is_empty());
    assert!(candidate_series(&f, &opts()).is_empty());
}
