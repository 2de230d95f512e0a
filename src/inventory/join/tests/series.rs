//! Matching Jellyfin items to Sonarr series, seasons and episodes.

use super::*;

#[test]
fn episode_matches_by_series_tvdb_and_season_episode_numbers() {
    let mut f = tv_world();
    f.touched.add_all(
        0,
        vec![played(
            with_ids(episode_item("e12", "jfS", 1, 2), &[("Tvdb", "349232")]),
            T1,
        )],
    );
    let inv = join(f.clone(), &opts());
    let e = episode(&inv, 102);
    assert!(e.views.get(0).played() && !e.views.get(1).played());
    assert_eq!(e.views.get(0).last_played(), Some(ts(T1)));
    assert!(
        !episode(&inv, 901).views.any_played(),
        "episode TVDB id used as series id"
    );
    assert!(!episode(&inv, 101).views.any_played());
    assert!(inv.library.unmatched.is_empty());
    assert_eq!(candidate_series(&f, &opts()), [(0, 10)]);
}

#[test]
fn episode_matches_by_mapped_path_without_series_ids() {
    let mut f = tv_world();
    let mut e = item("x", "Episode");
    e.series_id = Some("unknown-series".into());
    f.touched
        .add_all(0, vec![played(with_path(e, "/data/tv/BB/S02/e1.mkv"), T1)]);
    let o = with_map(&[("/data/tv", "/tv")]);
    assert_eq!(candidate_series(&f, &o), [(0, 10)]);
    let inv = join(f.clone(), &o);
    assert!(episode(&inv, 201).views.any_played());
    assert!(inv.library.unmatched.is_empty());
}

#[test]
fn series_found_only_by_folder_needs_the_exact_file() {
    let mut f = tv_world();
    // No series TVDB id; the numbers exist in Sonarr but the file is not Sonarr's.
    let mut e = episode_item("x", "unknown", 1, 1);
    e.path = Some("/tv/BB/S01/some-other-file.mkv".into());
    f.touched.add_all(0, vec![played(e, T1)]);
    let inv = join(f.clone(), &opts());
    assert!(!episode(&inv, 101).views.any_played());
    assert_eq!(inv.library.unmatched.len(), 1);
    assert_eq!(
        inv.library.unmatched[0].why,
        "Sonarr series \"series-10\" (found by its folder, no TVDB id) has no episode file at /tv/BB/S01/some-other-file.mkv"
    );
}

#[test]
fn multi_episode_item_marks_every_episode_it_holds() {
    let mut f = tv_world();
    let mut e = episode_item("e", "jfS", 1, 2);
    e.index_number_end = Some(3);
    f.touched.add_all(1, vec![played(e, T2)]);
    let inv = join(f.clone(), &opts());
    assert!(episode(&inv, 102).views.get(1).played());
    assert!(episode(&inv, 103).views.get(1).played());
    assert!(!episode(&inv, 101).views.any_played());
}

#[test]
fn episode_sonarr_does_not_have_is_unmatched_with_reason() {
    let mut f = tv_world();
    f.touched.add_all(
        0,
        vec![played(
            with_path(episode_item("e", "jfS", 1, 9), "/tv/BB/S01/e9.mkv"),
            T1,
        )],
    );
    let inv = join(f.clone(), &opts());
    assert_eq!(inv.library.unmatched.len(), 1);
    let u = &inv.library.unmatched[0];
    assert_eq!(u.kind, "Episode");
    assert_eq!(u.title, "Show S01E09 name-e");
    assert_eq!(
        u.why,
        "Sonarr series \"series-10\" has no S01E09 and no episode file at /tv/BB/S01/e9.mkv"
    );
}

#[test]
fn episode_of_unknown_or_ambiguous_series_is_unmatched() {
    let mut f = tv_world();
    let dup = series(12, 81189, "/tv/BB2", "ended", &[1]);
    sonarr(&mut f).series.push(dup);
    f.series_items
        .push(with_ids(item("jfOther", "Series"), &[("Tvdb", "5")]));
    f.touched.add_all(
        0,
        vec![
            played(episode_item("a", "jfS", 1, 1), T1),
            played(episode_item("b", "jfOther", 1, 1), T1),
        ],
    );
    let inv = join(f.clone(), &opts());
    let whys: Vec<&str> = inv
        .library
        .unmatched
        .iter()
        .map(|u| u.why.as_str())
        .collect();
    assert_eq!(
        whys,
        [
            "2 Sonarr series match tvdb 81189",
            "no Sonarr series with series tvdb 5"
        ]
    );
    assert!(candidate_series(&f, &opts()).is_empty());
}

#[test]
fn favourites_at_series_season_and_episode_level() {
    let mut f = tv_world();
    let mut season2 = item("jfS2", "Season");
    season2.series_id = Some("jfS".into());
    season2.index_number = Some(2);
    f.touched.add_all(
        1,
        vec![
            fav(with_ids(item("jfS", "Series"), &[("Tvdb", "81189")])),
            fav(season2),
            fav(episode_item("e11", "jfS", 1, 1)),
        ],
    );
    let inv = join(f.clone(), &opts());
    let bb = &inv.library.series[0];
    assert_eq!(bb.sonarr_id, 10);
    assert!(bb.views.get(1).favorite() && !bb.views.get(0).favorite());
    let fav_seasons: Vec<i32> = bb
        .seasons
        .iter()
        .filter(|s| s.views.any_favorite())
        .map(|s| s.number)
        .collect();
    assert_eq!(fav_seasons, [2]);
    let e = episode(&inv, 101);
    assert!(e.views.get(1).favorite() && !e.views.get(1).played());
    assert!(!inv.library.series[1].views.any_favorite());
    // A favourite episode makes its series a candidate even when nothing was played.
    assert_eq!(candidate_series(&f, &opts()), [(0, 10)]);
}

#[test]
fn series_fields_seasons_status_tags_and_unloaded_episodes() {
    let mut f = tv_world();
    f.episodes.remove(&(0, 11));
    sonarr(&mut f).series[0].tags = vec![3];
    sonarr(&mut f).tags = vec![Tag {
        id: 3,
        label: Some("keep".into()),
    }];
    for (status, _) in [("upcoming", 0), ("deleted", 0)] {
        let mut s = series(20, 1, "/tv/x", status, &[]);
        s.title = None;
        sonarr(&mut f).series.push(s);
    }
    let inv = join(f.clone(), &opts());
    let s = &inv.library.series;
    assert_eq!(
        s.iter().map(|s| s.status).collect::<Vec<_>>(),
        [
            SeriesStatus::Continuing,
            SeriesStatus::Ended,
            SeriesStatus::Upcoming,
            SeriesStatus::Other
        ]
    );
    assert_eq!(s[0].tags, ["keep"]);
    assert_eq!(s[0].path, "/tv/BB");
    assert_eq!(s[2].title, "Sonarr series 20");
    let numbers: Vec<i32> = s[0].seasons.iter().map(|x| x.number).collect();
    assert_eq!(
        numbers,
        [0, 1, 2],
        "every season Sonarr knows, even empty ones"
    );
    assert!(s[0].seasons[0].episodes.is_empty());
    let s1: Vec<i32> = s[0].seasons[1].episodes.iter().map(|e| e.number).collect();
    assert_eq!(s1, [1, 2, 3]);
    let e = &s[0].seasons[1].episodes[0];
    assert_eq!(
        e.file,
        Some(MediaFile {
            id: 1010,
            path: "/tv/BB/S01/e1.mkv".into(),
            size: 500,
            quality: Default::default(),
        })
    );
    // Series 11 was no candidate: its seasons are there, its episodes are not.
    assert_eq!(s[1].seasons.len(), 1);
    assert!(s[1].seasons[0].episodes.is_empty());
}

#[test]
fn episode_files_without_a_path_are_kept_out_of_every_root() {
    let mut f = tv_world();
    let eps = f.episodes.get_mut(&(0, 10)).unwrap();
    eps[0].episode_file = None;
    eps[1].episode_file_id = 0;
    eps[1].episode_file = None;
    let inv = join(f.clone(), &opts());
    assert_eq!(
        episode(&inv, 101).file,
        Some(MediaFile {
            id: 1010,
            path: "".into(),
            size: 0,
            quality: Default::default(),
        })
    );
    assert_eq!(episode(&inv, 102).file, None);
}

#[test]
fn playing_episode_by_session_id_or_path() {
    let mut f = tv_world();
    f.touched
        .add_all(0, vec![played(episode_item("e11", "jfS", 1, 1), T1)]);
    f.sessions = vec![
        Session {
            user_name: None,
            now_playing_item: Some(item("e11", "Episode")),
        },
        Session {
            user_name: None,
            now_playing_item: Some(with_path(item("other", "Episode"), "/tv/BB/S02/e1.mkv")),
        },
    ];
    let inv = join(f.clone(), &opts());
    assert!(episode(&inv, 101).playing);
    assert!(episode(&inv, 201).playing);
    assert!(!episode(&inv, 102).playing);
}

#[test]
fn movie_and_episode_files_share_one_table_of_qualities() {
    use crate::clients::media::{MediaInfo, QualityModel, QualityResource};
    let remux = || {
        (
            Some(QualityModel {
                quality: Some(QualityResource {
                    name: Some("Remux-2160p".into()),
                    resolution: Some(2160),
                }),
            }),
            Some(MediaInfo {
                audio_codec: Some("TrueHD Atmos".into()),
                audio_channels: Some(7.1),
                resolution: Some("3840x2160".into()),
            }),
        )
    };
    let mut f = tv_world();
    for e in f.episodes.get_mut(&(0, 10)).unwrap() {
        let file = e.episode_file.as_mut().unwrap();
        (file.quality, file.media_info) = remux();
    }
    let mut m = movie(1, 1, "", "/m/1");
    let file = m.movie_file.as_mut().unwrap();
    let (quality, media) = remux();
    (file.quality, file.media_info) = (quality.map(Box::new), media.map(Box::new));
    radarr(&mut f).movies = vec![m, movie(2, 2, "", "/m/2")];
    let inv = join(f, &opts());
    let lib = &inv.library;
    let movie_quality = lib.movies[0].file.as_ref().unwrap().quality;
    assert_eq!(
        episode(&inv, 101).file.as_ref().unwrap().quality,
        movie_quality
    );
    assert_eq!(
        episode(&inv, 102).file.as_ref().unwrap().quality,
        movie_quality
    );
    let q = lib.qualities.get(movie_quality);
    assert_eq!(q.label().as_deref(), Some("2160p Remux"));
    assert_eq!(q.audio().as_deref(), Some("TrueHD Atmos 7.1"));
    assert_eq!(q.lossless(), Some(true));
    // A file without a quality has the unknown one; the table holds each quality once.
    let plain = lib.movies[1].file.as_ref().unwrap().quality;
    assert!(lib.qualities.get(plain).is_unknown());
    assert_eq!(lib.qualities.len(), 2);
}
