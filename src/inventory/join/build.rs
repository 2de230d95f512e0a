//! The library a join leaves: the *arrs' lists as the library holds them, with the views and
//! play flags the joiner found.

use std::collections::{BTreeMap, HashMap};

use crate::clients::http::{Server, Service};
use crate::clients::{sonarr, RootFolder, Tag};
use crate::inventory::{Inventory, QualityTable, RadarrData, RootFolderState, SonarrData};
use crate::library::{
    Episode, JellyfinId, Library, MediaFile, Movie, QualityId, Season, Series, SeriesStatus,
    Unmatched, Views,
};

/// Sonarr's episode `e` as the library holds it, for `users` counted users none of whom has
/// touched it yet, and the number of its season. Its file's quality goes into `qualities`.
pub fn library_episode(
    e: sonarr::Episode,
    users: usize,
    qualities: &QualityTable,
) -> (i32, Episode) {
    let file = (e.episode_file_id > 0).then(|| match e.episode_file {
        Some(f) => {
            let quality = qualities.intern(f.quality, f.media_info);
            file_of(f.id, f.path, f.size, quality)
        }
        None => file_of(e.episode_file_id, None, None, QualityId::UNKNOWN),
    });
    let episode = Episode {
        sonarr_id: e.id,
        number: e.episode_number,
        file,
        views: Views::untouched(users),
        playing: false,
        jellyfin_id: None,
    };
    (e.season_number, episode)
}

/// A series' episodes `eps`, sorted into seasons.
pub fn seasons_of(
    eps: Vec<sonarr::Episode>,
    users: usize,
    qualities: &QualityTable,
) -> Vec<Season> {
    let mut by_number: BTreeMap<i32, Vec<Episode>> = BTreeMap::new();
    for e in eps {
        let (season, episode) = library_episode(e, users, qualities);
        by_number.entry(season).or_default().push(episode);
    }
    by_number
        .into_iter()
        .map(|(number, episodes)| Season {
            number,
            views: Views::untouched(users),
            jellyfin_id: None,
            episodes,
        })
        .collect()
}

/// What a [`Joiner`](super::Joiner) found: views and play flags by *arr entry, and what matched nothing.
pub struct Joined {
    pub(super) movies: Option<MoviesJoined>,
    pub(super) series: Option<SeriesJoined>,
    pub(super) unmatched: Vec<Unmatched>,
}

/// What a [`Joiner`](super::Joiner) found of the movies: views, play flags and Jellyfin items,
/// indexed like `RadarrData::movies` (every instance's, one after the other).
pub(super) struct MoviesJoined {
    pub(super) views: Vec<Views>,
    pub(super) playing: Vec<bool>,
    pub(super) ids: Vec<Option<JellyfinId>>,
}

/// What a [`Joiner`](super::Joiner) found of the series, indexed like `SonarrData::series`.
pub(super) struct SeriesJoined {
    /// Each series' seasons with their episodes, when they were loaded.
    pub(super) seasons: Vec<Option<Vec<Season>>>,
    pub(super) series_views: Vec<Views>,
    /// By series index and season number.
    pub(super) season_views: HashMap<(usize, i32), Views>,
}

impl Joined {
    /// The library of the counted `users`, from the lists of every instance the joiner was
    /// built on, with the `qualities` of the episode files loaded into it (and then of the
    /// movie files).
    pub fn build(
        self,
        users: Vec<String>,
        radarr: Vec<RadarrData>,
        sonarr: Vec<SonarrData>,
        qualities: QualityTable,
    ) -> Inventory {
        let n = users.len();
        let mut library = Library {
            users,
            unmatched: self.unmatched,
            ..Library::default()
        };
        let mut root_folders = Vec::new();
        if let Some(joined) = self.movies {
            let mut views = joined.views.into_iter();
            let mut playing = joined.playing.into_iter();
            let mut ids = joined.ids.into_iter();
            for r in radarr {
                let server = Server::new(Service::Radarr, &r.instance);
                let roots = roots(server, &r.root_folders, &mut root_folders);
                library.root_folders.insert(r.instance.clone(), roots);
                let count = r.movies.len();
                let views = views.by_ref().take(count);
                let playing = playing.by_ref().take(count);
                let ids = ids.by_ref().take(count);
                let movies = build_movies(r, views, playing, ids, &qualities);
                library.movies.extend(movies);
            }
        }
        if let Some(mut joined) = self.series {
            let mut first = 0;
            for s in sonarr {
                let server = Server::new(Service::Sonarr, &s.instance);
                let roots = roots(server, &s.root_folders, &mut root_folders);
                library.root_folders.insert(s.instance.clone(), roots);
                let count = s.series.len();
                library
                    .series
                    .extend(build_series(s, &mut joined, first, n));
                first += count;
            }
        }
        library.qualities = qualities.into_qualities();
        Inventory {
            library,
            root_folders,
            users: Vec::new(),
            missing: Default::default(),
        }
    }
}

fn file_of(id: i32, path: Option<String>, size: Option<i64>, quality: QualityId) -> MediaFile {
    MediaFile {
        id,
        // A file the *arr lists without a path lies in no root folder, so the path guard
        // keeps it rather than deleting blind.
        path: path.unwrap_or_default().into(),
        size: size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
        quality,
    }
}

fn tag_labels(ids: &[i32], labels: &HashMap<i32, String>) -> Vec<String> {
    ids.iter()
        .filter_map(|id| labels.get(id).cloned())
        .collect()
}

fn label_map(tags: Vec<Tag>) -> HashMap<i32, String> {
    tags.into_iter()
        .filter_map(|t| Some((t.id, t.label?)))
        .collect()
}

fn roots(server: Server, folders: &[RootFolder], out: &mut Vec<RootFolderState>) -> Vec<String> {
    let mut paths = Vec::new();
    for rf in folders.iter().filter(|rf| !rf.path.is_empty()) {
        paths.push(rf.path.clone());
        out.push(RootFolderState {
            server,
            path: rf.path.clone(),
            accessible: rf.accessible,
        });
    }
    paths
}

fn build_movies<'q>(
    r: RadarrData,
    views: impl Iterator<Item = Views> + 'q,
    playing: impl Iterator<Item = bool> + 'q,
    ids: impl Iterator<Item = Option<JellyfinId>> + 'q,
    qualities: &'q QualityTable,
) -> impl Iterator<Item = Movie> + 'q {
    let labels = label_map(r.tags);
    let instance = r.instance;
    r.movies.into_iter().zip(views).zip(playing).zip(ids).map(
        move |(((m, views), playing), jellyfin_id)| Movie {
            instance: instance.clone(),
            radarr_id: m.id,
            tmdb_id: m.tmdb_id.filter(|&t| t > 0),
            title: m.title.unwrap_or_else(|| format!("Radarr movie {}", m.id)),
            year: m.year.filter(|&y| y > 0),
            tags: tag_labels(&m.tags, &labels),
            file: m.movie_file.map(|f| {
                let quality = (f.interned).unwrap_or_else(|| {
                    qualities.intern(f.quality.map(|q| *q), f.media_info.map(|m| *m))
                });
                file_of(f.id, f.path, f.size, quality)
            }),
            path: m.path.unwrap_or_default(),
            views,
            playing,
            jellyfin_id,
        },
    )
}

pub(super) fn series_status(status: Option<&str>) -> SeriesStatus {
    match status.map(str::to_ascii_lowercase).as_deref() {
        Some("continuing") => SeriesStatus::Continuing,
        Some("ended") => SeriesStatus::Ended,
        Some("upcoming") => SeriesStatus::Upcoming,
        _ => SeriesStatus::Other,
    }
}

/// The series of one Sonarr instance, whose first is number `first` among all instances'.
fn build_series(s: SonarrData, joined: &mut SeriesJoined, first: usize, n: usize) -> Vec<Series> {
    let labels = label_map(s.tags);
    let instance = s.instance;
    s.series
        .into_iter()
        .enumerate()
        .map(|(i, se)| {
            let si = first + i;
            let loaded = joined.seasons.get_mut(si).and_then(Option::take);
            let views = joined
                .series_views
                .get_mut(si)
                .map(std::mem::take)
                .unwrap_or_default();
            let seasons = build_seasons(si, &se, loaded.unwrap_or_default(), joined, n);
            Series {
                instance: instance.clone(),
                sonarr_id: se.id,
                tvdb_id: se.tvdb_id.filter(|&t| t > 0),
                title: se
                    .title
                    .unwrap_or_else(|| format!("Sonarr series {}", se.id)),
                status: series_status(se.status.as_deref()),
                tags: tag_labels(&se.tags, &labels),
                path: se.path.unwrap_or_default(),
                views,
                seasons,
            }
        })
        .collect()
}

/// Every season Sonarr lists for series `si`, with or without episodes: the `loaded` ones
/// (sorted by number) as they are, the others empty.
fn build_seasons(
    si: usize,
    se: &sonarr::Series,
    loaded: Vec<Season>,
    joined: &mut SeriesJoined,
    n: usize,
) -> Vec<Season> {
    let mut by_number: BTreeMap<i32, Option<Season>> =
        se.seasons.iter().map(|s| (s.season_number, None)).collect();
    for season in loaded {
        by_number.insert(season.number, Some(season));
    }
    by_number
        .into_iter()
        .map(|(number, season)| {
            let mut season = season.unwrap_or_else(|| Season {
                number,
                views: Views::untouched(n),
                jellyfin_id: None,
                episodes: Vec::new(),
            });
            if let Some(views) = joined.season_views.remove(&(si, number)) {
                season.views = views;
            }
            season
        })
        .collect()
}
