//! Tests of the join: a batch driver over lists built by hand, the builders they are built
//! with, and the tests of the whole join; matching movies, series and items as they arrive have
//! files of their own.

use std::borrow::Cow;
use std::collections::HashMap;

use jiff::Timestamp;

use super::build::series_status;
use super::index::{lowercase, MultiIndex};
use super::*;
use crate::clients::jellyfin::UserData;
use crate::clients::{radarr, sonarr, RootFolder, Service, Tag};
use crate::inventory::{Inventory, QualityTable, RootFolderState};
use crate::library::{Episode, MediaFile, SeriesStatus, UserView};

mod arriving;
mod instances;
mod movies;
mod series;

/// Everything the batch join reads, as plain lists the tests build by hand: what a pass
/// fetches, the counted users' items (a pass matches them as their pages arrive instead), and
/// the episodes of every series (a pass loads only those of series someone touched).
#[derive(Debug, Clone, Default)]
struct Lists {
    /// The counted users, in order.
    users: Vec<String>,
    /// The counted users' items, each once, with every user's view of it.
    touched: Touches,
    /// Every Series item (for the series' provider ids).
    series_items: Vec<Item>,
    sessions: Vec<Session>,
    /// One per Radarr instance.
    radarr: Vec<RadarrData>,
    sonarr: Vec<SonarrData>,
    /// Episodes (with files) by Sonarr instance (its index) and series id; a series without an
    /// entry is not loaded.
    episodes: HashMap<(usize, i32), Vec<sonarr::Episode>>,
}

/// Joins `f` whole into a library and the root folder states: the batch form of what `collect`
/// does as pages arrive. Pure and deterministic. Takes the lists by value: the episodes move into
/// the library instead of being copied.
fn join(f: Lists, opts: &InventoryOptions) -> Inventory {
    let Lists {
        users,
        touched,
        series_items,
        sessions,
        radarr,
        sonarr,
        episodes,
    } = f;
    let n = users.len();
    let qualities = QualityTable::default();
    let mut joiner = Joiner::new(n, opts, &radarr, &sonarr, &sessions);
    joiner.learn_series(&series_items);
    joiner.learn_series(touched.iter().map(|(item, _)| item));
    for ((instance, series_id), eps) in episodes {
        joiner.load(instance, series_id, seasons_of(eps, n, &qualities));
    }
    for (item, views) in touched.into_items() {
        joiner.add(item, &views);
    }
    joiner.finish().build(users, radarr, sonarr, qualities)
}

#[test]
fn a_multi_index_finds_every_value_of_a_key_in_order() {
    let idx = MultiIndex::new(vec![(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (3, 'e')]);
    assert_eq!(idx.get(&3), ['a', 'c', 'e']);
    assert_eq!(idx.get(&1), ['b']);
    assert!(idx.get(&0).is_empty() && idx.get(&4).is_empty());
    let files = MultiIndex::new(vec![("/b", 1), ("/a", 2)]);
    assert_eq!(files.get("/a"), [2]);
    assert!(MultiIndex::<i32, i32>::new(Vec::new()).get(&1).is_empty());
}

#[test]
fn lowercase_copies_only_when_it_must() {
    assert!(matches!(lowercase("tt0133093"), Cow::Borrowed("tt0133093")));
    assert_eq!(lowercase("TT0133093"), "tt0133093");
}

// ---- builders -------------------------------------------------------------------------

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn item(id: &str, kind: &str) -> Item {
    Item {
        id: id.into(),
        name: Some(format!("name-{id}").into()),
        kind: ItemKind::parse(kind),
        ..Item::default()
    }
}

fn with_ids(mut i: Item, ids: &[(&str, &str)]) -> Item {
    i.provider_ids = crate::clients::jellyfin::ProviderIds::from_pairs(ids.iter().copied());
    i
}

fn with_path(mut i: Item, p: &str) -> Item {
    i.path = Some(p.into());
    i
}

fn played(mut i: Item, when: &str) -> Item {
    i.user_data = Some(UserData {
        played: true,
        last_played_date: Some(ts(when)),
        is_favorite: false,
    });
    i
}

fn fav(mut i: Item) -> Item {
    i.user_data = Some(UserData {
        played: false,
        last_played_date: None,
        is_favorite: true,
    });
    i
}

fn episode_item(id: &str, series: &str, s: i32, e: i32) -> Item {
    let mut i = item(id, "Episode");
    i.series_id = Some(series.into());
    i.series_name = Some("Show".into());
    i.parent_index_number = Some(s);
    i.index_number = Some(e);
    i
}

fn movie(id: i32, tmdb: i32, imdb: &str, folder: &str) -> radarr::Movie {
    radarr::Movie {
        id,
        title: Some(format!("movie-{id}")),
        year: Some(1999),
        tmdb_id: Some(tmdb),
        imdb_id: (!imdb.is_empty()).then(|| imdb.to_owned()),
        path: Some(folder.into()),
        tags: vec![],
        monitored: true,
        movie_file: Some(radarr::MovieFile {
            id: id * 10,
            path: Some(format!("{folder}/file.mkv")),
            size: Some(1000),
            ..radarr::MovieFile::default()
        }),
    }
}

fn series(id: i32, tvdb: i32, folder: &str, status: &str, seasons: &[i32]) -> sonarr::Series {
    sonarr::Series {
        id,
        title: Some(format!("series-{id}")),
        status: Some(status.into()),
        tvdb_id: Some(tvdb),
        path: Some(folder.into()),
        tags: vec![],
        monitored: true,
        seasons: seasons
            .iter()
            .map(|&n| sonarr::SeasonInfo {
                season_number: n,
                monitored: true,
                statistics: None,
            })
            .collect(),
    }
}

fn ep(id: i32, series: &sonarr::Series, s: i32, e: i32) -> sonarr::Episode {
    let folder = series.path.clone().unwrap();
    sonarr::Episode {
        id,
        series_id: series.id,
        season_number: s,
        episode_number: e,
        episode_file_id: id * 10,
        monitored: true,
        air_date_utc: None,
        episode_file: Some(sonarr::EpisodeFile {
            id: id * 10,
            series_id: series.id,
            season_number: s,
            path: Some(format!("{folder}/S{s:02}/e{e}.mkv")),
            size: Some(500),
            ..sonarr::EpisodeFile::default()
        }),
    }
}

fn fetched(users: usize) -> Lists {
    Lists {
        users: (0..users).map(|i| format!("user{i}")).collect(),
        touched: Touches::new(users),
        radarr: vec![RadarrData {
            instance: "radarr".into(),
            ..RadarrData::default()
        }],
        sonarr: vec![SonarrData {
            instance: "sonarr".into(),
            ..SonarrData::default()
        }],
        ..Lists::default()
    }
}

fn opts() -> InventoryOptions {
    InventoryOptions::default()
}

fn with_map(pairs: &[(&str, &str)]) -> InventoryOptions {
    InventoryOptions {
        path_map: pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        ..InventoryOptions::default()
    }
}

/// The first Radarr instance's lists.
fn radarr(f: &mut Lists) -> &mut RadarrData {
    &mut f.radarr[0]
}

fn sonarr(f: &mut Lists) -> &mut SonarrData {
    &mut f.sonarr[0]
}

/// Load every series' episodes, as `fetch` does for candidates.
fn load_episodes(f: &mut Lists, eps: Vec<sonarr::Episode>) {
    for e in eps {
        f.episodes.entry((0, e.series_id)).or_default().push(e);
    }
}

/// The series whose episodes a pass fetches when nothing is loaded yet: those with an
/// episode of a counted user, as `collect` asks the joiner.
fn candidate_series(f: &Lists, o: &InventoryOptions) -> Vec<(usize, i32)> {
    let n = f.users.len();
    let mut j = Joiner::new(n, o, &f.radarr, &f.sonarr, &f.sessions);
    j.learn_series(&f.series_items);
    for (item, views) in f.touched.clone().into_items() {
        j.add(item, &views);
    }
    j.waiting_series()
}

fn movie_views(inv: &Inventory, radarr_id: i32) -> &Views {
    &inv.library
        .movies
        .iter()
        .find(|m| m.radarr_id == radarr_id)
        .unwrap()
        .views
}

fn episode(inv: &Inventory, sonarr_id: i32) -> &Episode {
    inv.library
        .series
        .iter()
        .flat_map(|s| &s.seasons)
        .flat_map(|s| &s.episodes)
        .find(|e| e.sonarr_id == sonarr_id)
        .unwrap()
}

const T1: &str = "2024-05-01T10:00:00Z";
const T2: &str = "2024-05-03T10:00:00.1234567Z";

/// Jellyfin knows series "jfS" with TVDB 81189; Sonarr has it as series 10. Sonarr also has
/// a series whose TVDB id equals an episode's own TVDB id, which must not be used.
fn tv_world() -> Lists {
    let mut f = fetched(2);
    let bb = series(10, 81189, "/tv/BB", "continuing", &[0, 1, 2]);
    let trap = series(11, 349232, "/tv/Trap", "ended", &[1]);
    let eps = vec![
        ep(101, &bb, 1, 1),
        ep(102, &bb, 1, 2),
        ep(103, &bb, 1, 3),
        ep(201, &bb, 2, 1),
        ep(901, &trap, 1, 1),
    ];
    sonarr(&mut f).series = vec![bb, trap];
    load_episodes(&mut f, eps);
    f.series_items = vec![with_ids(item("jfS", "Series"), &[("Tvdb", "81189")])];
    f
}

#[test]
fn root_folders_are_listed_with_their_accessibility() {
    let mut f = fetched(1);
    radarr(&mut f).root_folders = vec![RootFolder {
        id: 1,
        path: "/movies".into(),
        accessible: true,
    }];
    sonarr(&mut f).root_folders = vec![
        RootFolder {
            id: 1,
            path: "/tv".into(),
            accessible: false,
        },
        RootFolder {
            id: 2,
            path: "/tv2".into(),
            accessible: true,
        },
    ];
    let inv = join(f.clone(), &opts());
    assert_eq!(inv.library.roots_of("radarr"), ["/movies"]);
    assert_eq!(inv.library.roots_of("sonarr"), ["/tv", "/tv2"]);
    assert_eq!(
        inv.root_folders[1],
        RootFolderState {
            server: Service::Sonarr.into(),
            path: "/tv".into(),
            accessible: false
        }
    );
    assert_eq!(inv.root_folders.len(), 3);
}

#[test]
fn hundred_thousand_episodes_join_fast() {
    let mut f = fetched(2);
    let mut all_eps = Vec::new();
    let mut played_items = Vec::new();
    for s in 0..1000 {
        let se = series(
            s,
            10_000 + s,
            &format!("/tv/s{s}"),
            "ended",
            &[1, 2, 3, 4, 5],
        );
        f.series_items.push(with_ids(
            item(&format!("jf{s}"), "Series"),
            &[("Tvdb", &(10_000 + s).to_string())],
        ));
        for k in 0..100 {
            let (season, number) = (k / 20 + 1, k % 20 + 1);
            all_eps.push(ep(s * 1000 + k, &se, season, number));
            if k % 2 == 0 {
                played_items.push(played(
                    episode_item(&format!("e{s}-{k}"), &format!("jf{s}"), season, number),
                    T1,
                ));
            }
        }
        sonarr(&mut f).series.push(se);
    }
    load_episodes(&mut f, all_eps);
    f.touched.add_all(0, played_items.clone());
    f.touched.add_all(1, played_items);
    // Timing belongs in the benchmark; this proves the join is complete at that size.
    let candidates = candidate_series(&f, &opts());
    let inv = join(f.clone(), &opts());
    assert_eq!(candidates.len(), 1000);
    let watched = inv
        .library
        .series
        .iter()
        .flat_map(|s| &s.seasons)
        .flat_map(|s| &s.episodes)
        .filter(|e| (0..2).all(|i| e.views.get(i).played()))
        .count();
    assert_eq!(watched, 50_000);
}

#[test]
fn series_status_is_case_insensitive() {
    assert_eq!(series_status(Some("Continuing")), SeriesStatus::Continuing);
    assert_eq!(series_status(None), SeriesStatus::Other);
}

#[test]
fn provider_id_values_must_be_positive_numbers() {
    assert_eq!(parse_id(Some("603")), Some(603));
    assert_eq!(parse_id(Some("0")), None);
    assert_eq!(parse_id(Some("tt1")), None);
    let _: HashMap<i32, i32> = HashMap::new();
}

/// A joiner over `tv_world`'s lists with nothing loaded, as `collect` builds it.
fn bare_joiner(f: &Lists) -> Joiner<'_> {
    let mut j = Joiner::new(2, &InventoryOptions::default(), &[], &f.sonarr, &[]);
    j.learn_series(&f.series_items);
    j
}

fn aired_of(f: &Lists, series_id: i32) -> Vec<Season> {
    seasons_of(
        f.episodes[&(0, series_id)].clone(),
        2,
        &QualityTable::default(),
    )
}
