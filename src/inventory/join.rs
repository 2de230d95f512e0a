//! The pure half of inventory: match Jellyfin items to Radarr movies and Sonarr episodes and
//! build the [`Library`].
//!
//! A [`Joiner`] is built from the *arrs' lists first; then the counted users' items are added
//! to it one by one, as their pages arrive, and each is matched at once: its user's view goes
//! into the movie or episode it is, and the item itself is dropped. A pass thus never holds the
//! Jellyfin items, only the library. Only what does not match is kept, and tried once more at
//! the end, when everything is known (an episode of a series whose episodes came late).
//!
//! Every lookup goes through a hash map built once (by TMDB id, IMDB id, TVDB id, file path,
//! folder) or a binary search in a series' sorted episodes, so the join is linear in the size of
//! the library. Matching order: provider ids first, then the path mapped through `[[path_map]]`.
//! A match that is not unique is never resolved by guessing; the item goes to `unmatched` when
//! someone watched it.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use super::paths::{self_and_ancestors, trim_slash, PathMap};
use super::touches::{merge_view, view_of};
use super::{
    Fetched, Inventory, InventoryOptions, RadarrData, RootFolderState, SonarrData, Touches,
};
use crate::clients::http::Service;
use crate::clients::jellyfin::{Item, ItemKind, Session};
use crate::clients::{sonarr, RootFolder, Tag};
use crate::library::{
    Episode, Library, MediaFile, Movie, Season, Series, SeriesStatus, Unmatched, Views,
};

/// Join fetched lists into a [`Library`] and the root folder states. Pure and deterministic.
/// Takes the lists by value: the episodes (most of a large library) move into the library
/// instead of being copied.
pub fn join(f: Fetched, opts: &InventoryOptions) -> Inventory {
    let Fetched {
        users,
        touched,
        series_items,
        sessions,
        radarr,
        mut sonarr,
    } = f;
    let n = users.len();
    let episodes = sonarr
        .as_mut()
        .map(|s| std::mem::take(&mut s.episodes))
        .unwrap_or_default();
    let mut joiner = Joiner::new(n, opts, radarr.as_ref(), sonarr.as_ref(), &sessions);
    joiner.learn_series(&series_items);
    joiner.learn_series(touched.iter().map(|(item, _)| item));
    for (series_id, eps) in episodes {
        joiner.load(series_id, seasons_of(eps, n));
    }
    for (item, views) in touched.into_items() {
        joiner.add(item, &views);
    }
    joiner.finish().build(users, radarr, sonarr)
}

/// Sonarr's episode `e` as the library holds it, for `users` counted users none of whom has
/// touched it yet, and the number of its season.
pub fn library_episode(e: sonarr::Episode, users: usize) -> (i32, Episode) {
    let file = (e.episode_file_id > 0).then(|| match e.episode_file {
        Some(f) => file_of(f.id, f.path, f.size),
        None => file_of(e.episode_file_id, None, None),
    });
    let episode = Episode {
        sonarr_id: e.id,
        number: e.episode_number,
        file,
        views: Views::untouched(users),
        playing: false,
    };
    (e.season_number, episode)
}

/// A series' episodes `eps`, sorted into seasons.
pub fn seasons_of(eps: Vec<sonarr::Episode>, users: usize) -> Vec<Season> {
    let mut by_number: BTreeMap<i32, Vec<Episode>> = BTreeMap::new();
    for e in eps {
        let (season, episode) = library_episode(e, users);
        by_number.entry(season).or_default().push(episode);
    }
    by_number
        .into_iter()
        .map(|(number, episodes)| Season {
            number,
            views: Views::untouched(users),
            episodes,
        })
        .collect()
}

fn file_path(e: &Episode) -> Option<&str> {
    let path = &*e.file.as_ref()?.path;
    (!path.is_empty()).then_some(path)
}

/// An episode of a series: the index of its season in the series, its index in the season.
type EpisodeAt = (usize, usize);

/// A lookup's outcome; the strings say why there is no single match.
enum Found<T> {
    One(T),
    Ambiguous(String),
    Missing(String),
}

/// Matches Jellyfin items, as they come, into the *arrs' movies and episodes.
pub struct Joiner<'a> {
    users: usize,
    map: PathMap,
    movies: Option<MovieSide<'a>>,
    series: Option<SeriesSide<'a>>,
    /// Jellyfin Series id → the series' TVDB id (an episode's own `Tvdb` is the episode's).
    series_tvdb: HashMap<Box<str>, i32>,
    sessions: &'a [Session],
    /// Ids of the items playing now: their matches are remembered for the sessions.
    playing_ids: HashSet<&'a str>,
    /// Movies and episodes that matched nothing (yet), with everyone's views of them.
    held: Touches,
}

struct MovieSide<'a> {
    idx: MovieIndex<'a>,
    views: Vec<Views>,
    /// Matches of the items playing now.
    playing: HashMap<&'a str, usize>,
}

struct SeriesSide<'a> {
    data: &'a SonarrData,
    idx: SeriesIndex<'a>,
    /// Sonarr series id → its index in `data.series` (the first, should ids repeat).
    by_id: HashMap<i32, usize>,
    /// Per series, once loaded: its seasons by number, each with its episodes by number. They
    /// move into the library as they are.
    seasons: Vec<Option<Vec<Season>>>,
    /// Some counted user's episode item was found to be of the series.
    touched: Vec<bool>,
    series_views: Vec<Views>,
    season_views: HashMap<(usize, i32), Views>,
    /// Matches of the items playing now: series and episode indices.
    playing: HashMap<&'a str, (usize, Vec<EpisodeAt>)>,
}

impl<'a> Joiner<'a> {
    /// A joiner for `users` counted users over the *arrs' lists (none for a service that is not
    /// configured: its media is left alone, and nothing is reported unmatched against it).
    /// No series has episodes until they are [loaded](Joiner::load).
    pub fn new(
        users: usize,
        opts: &InventoryOptions,
        radarr: Option<&'a RadarrData>,
        sonarr: Option<&'a SonarrData>,
        sessions: &'a [Session],
    ) -> Self {
        let movies = radarr.map(|data| MovieSide {
            idx: MovieIndex::new(data),
            views: vec![Views::untouched(users); data.movies.len()],
            playing: HashMap::new(),
        });
        let series = sonarr.map(|data| {
            let count = data.series.len();
            let mut by_id = HashMap::with_capacity(count);
            for (i, se) in data.series.iter().enumerate() {
                by_id.entry(se.id).or_insert(i);
            }
            SeriesSide {
                data,
                idx: SeriesIndex::new(data),
                by_id,
                seasons: (0..count).map(|_| None).collect(),
                touched: vec![false; count],
                series_views: vec![Views::untouched(users); count],
                season_views: HashMap::new(),
                playing: HashMap::new(),
            }
        });
        Joiner {
            users,
            map: PathMap::new(&opts.path_map),
            movies,
            series,
            series_tvdb: HashMap::new(),
            sessions,
            playing_ids: sessions
                .iter()
                .filter_map(|s| Some(&*s.now_playing_item.as_ref()?.id))
                .collect(),
            held: Touches::new(users),
        }
    }

    /// Learns the TVDB ids of the Jellyfin Series among `items`, by which episodes find their
    /// Sonarr series. Every Series item should be learnt before episodes are added.
    pub fn learn_series<'i>(&mut self, items: impl IntoIterator<Item = &'i Item>) {
        for item in items.into_iter().filter(|i| i.is_kind(ItemKind::Series)) {
            if let Some(tvdb) = parse_id(item.provider_id("Tvdb")) {
                self.series_tvdb.insert(item.id.as_ref().into(), tvdb);
            }
        }
    }

    /// Gives Sonarr series `series_id` its seasons with their episodes (each season number
    /// once); those it had are replaced.
    pub fn load(&mut self, series_id: i32, mut seasons: Vec<Season>) {
        let Some(side) = &mut self.series else {
            return;
        };
        if let Some(&si) = side.by_id.get(&series_id) {
            seasons.sort_by_key(|s| s.number);
            for season in &mut seasons {
                // Stable: episodes Sonarr lists twice keep their order, and stay ambiguous.
                season.episodes.sort_by_key(|e| e.number);
                season.episodes.shrink_to_fit();
            }
            side.seasons[si] = Some(seasons);
        }
    }

    /// The Sonarr series with a counted user's episode whose episodes are not loaded: load them
    /// before [`Joiner::finish`], or those episodes end up unmatched.
    pub fn waiting_series(&self) -> Vec<i32> {
        let Some(side) = &self.series else {
            return Vec::new();
        };
        let mut ids: Vec<i32> = (0..side.seasons.len())
            .filter(|&si| side.touched[si] && side.seasons[si].is_none())
            .map(|si| side.data.series[si].id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Drops the episodes of every series that no counted user touched: they cannot produce a
    /// deletion, and a pass need not hold them.
    pub fn unload_untouched(&mut self) {
        if let Some(side) = &mut self.series {
            for (seasons, touched) in side.seasons.iter_mut().zip(&side.touched) {
                if !touched {
                    *seasons = None;
                }
            }
        }
    }

    /// Adds what Jellyfin said of `item` for counted user `user` (an index into the users).
    pub fn add_for(&mut self, user: usize, item: Item) {
        if user >= self.users {
            return;
        }
        let mut views = Views::untouched(self.users);
        views.0[user] = view_of(item.user_data.as_ref());
        self.add(item, &views);
    }

    /// Adds `item` with every counted user's view of it.
    pub fn add(&mut self, item: Item, views: &Views) {
        if self.try_add(&item, views).is_err() {
            self.held.add_views(item, views);
        }
    }

    /// Puts `views` on what `item` is; why not when a movie or an episode matches nothing.
    fn try_add(&mut self, item: &Item, views: &Views) -> Result<(), String> {
        match item.kind {
            ItemKind::Movie => self.add_movie(item, views),
            ItemKind::Episode => self.add_episode(item, views),
            ItemKind::Series => {
                self.learn_series([item]);
                if let Some(side) = &mut self.series {
                    let tvdb = parse_id(item.provider_id("Tvdb"));
                    if let Found::One((si, _)) =
                        side.idx.find(tvdb, item.path.as_deref(), &self.map)
                    {
                        merge_views(&mut side.series_views[si], views);
                    }
                }
                Ok(())
            }
            ItemKind::Season => {
                let tvdb = self.series_tvdb_of(item);
                if let (Some(side), Some(number)) = (&mut self.series, item.index_number) {
                    if let Found::One((si, _)) =
                        side.idx.find(tvdb, item.path.as_deref(), &self.map)
                    {
                        let n = self.users;
                        let v = side
                            .season_views
                            .entry((si, number))
                            .or_insert_with(|| Views::untouched(n));
                        merge_views(v, views);
                    }
                }
                Ok(())
            }
            ItemKind::Other => Ok(()),
        }
    }

    fn add_movie(&mut self, item: &Item, views: &Views) -> Result<(), String> {
        let Some(side) = &mut self.movies else {
            return Ok(());
        };
        match side.idx.find(item, &self.map) {
            Found::One(m) => {
                merge_views(&mut side.views[m], views);
                if let Some(&id) = self.playing_ids.get(&*item.id) {
                    side.playing.insert(id, m);
                }
                Ok(())
            }
            Found::Ambiguous(why) | Found::Missing(why) => Err(why),
        }
    }

    fn add_episode(&mut self, item: &Item, views: &Views) -> Result<(), String> {
        let tvdb = self.series_tvdb_of(item);
        let Some(side) = &mut self.series else {
            return Ok(());
        };
        let (si, by_path) = match side.idx.find(tvdb, item.file_path(), &self.map) {
            Found::One(hit) => hit,
            Found::Ambiguous(why) | Found::Missing(why) => return Err(why),
        };
        side.touched[si] = true;
        let title = || side.idx.title(si);
        let Some(seasons) = &mut side.seasons[si] else {
            return Err(format!(
                "the episodes of Sonarr series {:?} were not loaded",
                title()
            ));
        };
        match find_episodes(seasons, by_path, item, &self.map, &title) {
            Found::One(found) => {
                for &(s, e) in &found {
                    merge_views(&mut seasons[s].episodes[e].views, views);
                }
                if let Some(&id) = self.playing_ids.get(&*item.id) {
                    side.playing.insert(id, (si, found));
                }
                Ok(())
            }
            Found::Ambiguous(why) | Found::Missing(why) => Err(why),
        }
    }

    fn series_tvdb_of(&self, item: &Item) -> Option<i32> {
        self.series_tvdb.get(item.series_id.as_deref()?).copied()
    }

    /// Tries what did not match once more, now that everything is known, reports what still
    /// does not (when someone played it), and marks what is playing now.
    pub fn finish(mut self) -> Joined {
        let mut unmatched_movies = Vec::new();
        let mut unmatched_episodes = Vec::new();
        for (item, views) in std::mem::take(&mut self.held).into_items() {
            let Err(why) = self.try_add(&item, &views) else {
                continue;
            };
            if !views.any_played() {
                continue;
            }
            if item.is_kind(ItemKind::Movie) {
                let title = item.name.as_deref().unwrap_or(&item.id).to_owned();
                unmatched_movies.push(unmatched("Movie", title, &item, why));
            } else {
                unmatched_episodes.push(unmatched("Episode", episode_title(&item), &item, why));
            }
        }
        unmatched_movies.append(&mut unmatched_episodes);
        let mut movies_playing = vec![false; self.movies.as_ref().map_or(0, |m| m.views.len())];
        for item in self
            .sessions
            .iter()
            .filter_map(|s| s.now_playing_item.as_ref())
        {
            if item.is_kind(ItemKind::Episode) {
                self.mark_episode_playing(item);
            } else if let Some(m) = self.movie_playing(item) {
                movies_playing[m] = true;
            }
        }
        Joined {
            movies: self.movies.map(|side| (side.views, movies_playing)),
            series: self.series.map(|side| SeriesJoined {
                seasons: side.seasons,
                series_views: side.series_views,
                season_views: side.season_views,
            }),
            unmatched: unmatched_movies,
        }
    }

    fn movie_playing(&self, item: &Item) -> Option<usize> {
        let side = self.movies.as_ref()?;
        if let Some(&m) = side.playing.get(&*item.id) {
            return Some(m);
        }
        match side.idx.find(item, &self.map) {
            Found::One(m) => Some(m),
            _ => None,
        }
    }

    fn mark_episode_playing(&mut self, item: &Item) {
        let tvdb = self.series_tvdb_of(item);
        let Some(side) = &mut self.series else {
            return;
        };
        let (si, found) = match side.playing.remove(&*item.id) {
            Some(hit) => hit,
            None => {
                let Found::One((si, by_path)) = side.idx.find(tvdb, item.file_path(), &self.map)
                else {
                    return;
                };
                let Some(seasons) = &side.seasons[si] else {
                    return;
                };
                match find_episodes(seasons, by_path, item, &self.map, &String::new) {
                    Found::One(found) => (si, found),
                    _ => return,
                }
            }
        };
        if let Some(seasons) = &mut side.seasons[si] {
            for (s, e) in found {
                seasons[s].episodes[e].playing = true;
            }
        }
    }
}

/// What a [`Joiner`] found: views and play flags by *arr entry, and what matched nothing.
pub struct Joined {
    /// Views and play flags, indexed like `RadarrData::movies`.
    movies: Option<(Vec<Views>, Vec<bool>)>,
    series: Option<SeriesJoined>,
    unmatched: Vec<Unmatched>,
}

struct SeriesJoined {
    seasons: Vec<Option<Vec<Season>>>,
    series_views: Vec<Views>,
    season_views: HashMap<(usize, i32), Views>,
}

impl Joined {
    /// The library of the counted `users`, from the lists the joiner was built on.
    pub fn build(
        self,
        users: Vec<String>,
        radarr: Option<RadarrData>,
        sonarr: Option<SonarrData>,
    ) -> Inventory {
        let n = users.len();
        let mut library = Library {
            users,
            unmatched: self.unmatched,
            ..Library::default()
        };
        let mut root_folders = Vec::new();
        if let (Some(r), Some((views, playing))) = (radarr, self.movies) {
            library.radarr_root_folders =
                roots(Service::Radarr, &r.root_folders, &mut root_folders);
            library.movies = build_movies(r, views, playing);
        }
        if let (Some(s), Some(joined)) = (sonarr, self.series) {
            library.sonarr_root_folders =
                roots(Service::Sonarr, &s.root_folders, &mut root_folders);
            library.series = build_series(s, joined, n);
        }
        Inventory {
            library,
            root_folders,
        }
    }
}

/// Values by key in two sorted vectors: an index of thousands of keys with one value each costs
/// two allocations, not one (or more) per key as a map of vectors would. The values of one key
/// keep the order they came in.
struct MultiIndex<K, T> {
    keys: Vec<K>,
    values: Vec<T>,
}

impl<K: Ord, T> MultiIndex<K, T> {
    fn new(mut pairs: Vec<(K, T)>) -> Self {
        // Stable: equal keys keep their order.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let (keys, values) = pairs.into_iter().unzip();
        MultiIndex { keys, values }
    }

    fn get<Q: Ord + ?Sized>(&self, key: &Q) -> &[T]
    where
        K: std::borrow::Borrow<Q>,
    {
        let start = self.keys.partition_point(|k| k.borrow() < key);
        let len = self.keys[start..].partition_point(|k| k.borrow() <= key);
        &self.values[start..start + len]
    }
}

/// `s` in ASCII lowercase, copied only when it has an uppercase letter.
fn lowercase(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

fn merge_views(into: &mut Views, from: &Views) {
    for (a, b) in into.0.iter_mut().zip(&from.0) {
        merge_view(a, *b);
    }
}

/// A positive numeric provider id (`"603"`); anything else is no id.
fn parse_id(v: Option<&str>) -> Option<i32> {
    v?.parse().ok().filter(|&n: &i32| n > 0)
}

fn hits<T: Copy>(found: Option<&Vec<T>>) -> &[T] {
    found.map(Vec::as_slice).unwrap_or(&[])
}

fn file_of(id: i32, path: Option<String>, size: Option<i64>) -> MediaFile {
    MediaFile {
        id,
        // A file the *arr lists without a path lies in no root folder, so the path guard
        // keeps it rather than deleting blind.
        path: path.unwrap_or_default().into(),
        size: size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
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

fn roots(service: Service, folders: &[RootFolder], out: &mut Vec<RootFolderState>) -> Vec<String> {
    let mut paths = Vec::new();
    for rf in folders.iter().filter(|rf| !rf.path.is_empty()) {
        paths.push(rf.path.clone());
        out.push(RootFolderState {
            service,
            path: rf.path.clone(),
            accessible: rf.accessible,
        });
    }
    paths
}

fn unmatched(kind: &str, title: String, item: &Item, why: String) -> Unmatched {
    Unmatched {
        kind: kind.to_owned(),
        title,
        path: item.file_path().map(str::to_owned),
        why,
    }
}

// ---------------------------------------------------------------------------------------------
// Movies

/// How far up from a Jellyfin movie path its Radarr folder may be: the path itself, its parent.
const MOVIE_FOLDER_DEPTH: usize = 2;

/// How far up from a Jellyfin episode path its Sonarr series folder may be: the file, its
/// season folder, the series folder.
const SERIES_FOLDER_DEPTH: usize = 3;

struct MovieIndex<'a> {
    by_tmdb: MultiIndex<i32, usize>,
    by_imdb: MultiIndex<Cow<'a, str>, usize>,
    by_file: MultiIndex<&'a str, usize>,
    by_folder: MultiIndex<&'a str, usize>,
}

impl<'a> MovieIndex<'a> {
    fn new(r: &'a RadarrData) -> Self {
        let (mut tmdb, mut imdb, mut file, mut folder) = (vec![], vec![], vec![], vec![]);
        for (i, m) in r.movies.iter().enumerate() {
            if let Some(t) = m.tmdb_id.filter(|&t| t > 0) {
                tmdb.push((t, i));
            }
            if let Some(id) = m
                .imdb_id
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                imdb.push((lowercase(id), i));
            }
            if let Some(p) = m.movie_file.as_ref().and_then(|f| f.path.as_deref()) {
                file.push((p, i));
            }
            if let Some(p) = m.path.as_deref().map(trim_slash).filter(|p| !p.is_empty()) {
                folder.push((p, i));
            }
        }
        MovieIndex {
            by_tmdb: MultiIndex::new(tmdb),
            by_imdb: MultiIndex::new(imdb),
            by_file: MultiIndex::new(file),
            by_folder: MultiIndex::new(folder),
        }
    }

    fn find(&self, item: &Item, map: &PathMap) -> Found<usize> {
        let mut tried = Vec::new();
        if let Some(tmdb) = parse_id(item.provider_id("Tmdb")) {
            match self.by_tmdb.get(&tmdb) {
                [one] => return Found::One(*one),
                [] => tried.push(format!("tmdb {tmdb}")),
                many => {
                    return Found::Ambiguous(format!(
                        "{} Radarr movies match tmdb {tmdb}",
                        many.len()
                    ))
                }
            }
        }
        if let Some(imdb) = item.provider_id("Imdb") {
            match self.by_imdb.get(&*lowercase(imdb)) {
                [one] => return Found::One(*one),
                [] => tried.push(format!("imdb {imdb}")),
                many => {
                    return Found::Ambiguous(format!(
                        "{} Radarr movies match imdb {imdb}",
                        many.len()
                    ))
                }
            }
        }
        if let Some(path) = item.file_path() {
            let mapped = map.to_arr(path);
            let by_file = self.by_file.get(mapped.as_ref());
            let found = if by_file.is_empty() {
                // Only the item itself (a disc folder) or the folder holding the file: a movie
                // whose "folder" is higher up (a root folder by mistake) must not absorb it.
                self_and_ancestors(&mapped)
                    .take(MOVIE_FOLDER_DEPTH)
                    .map(|folder| self.by_folder.get(folder))
                    .find(|h| !h.is_empty())
                    .unwrap_or(&[])
            } else {
                by_file
            };
            match found {
                [one] => return Found::One(*one),
                [] => tried.push(format!("path {mapped}")),
                many => {
                    return Found::Ambiguous(format!(
                        "{} Radarr movies match path {mapped}",
                        many.len()
                    ))
                }
            }
        }
        Found::Missing(if tried.is_empty() {
            "Jellyfin gave no TMDB or IMDB id and no path for it".to_owned()
        } else {
            format!("no Radarr movie with {}", tried.join(", "))
        })
    }
}

fn build_movies(r: RadarrData, views: Vec<Views>, playing: Vec<bool>) -> Vec<Movie> {
    let labels = label_map(r.tags);
    r.movies
        .into_iter()
        .zip(views)
        .zip(playing)
        .map(|((m, views), playing)| Movie {
            radarr_id: m.id,
            title: m.title.unwrap_or_else(|| format!("Radarr movie {}", m.id)),
            year: m.year.filter(|&y| y > 0),
            tags: tag_labels(&m.tags, &labels),
            file: m.movie_file.map(|f| file_of(f.id, f.path, f.size)),
            path: m.path.unwrap_or_default(),
            views,
            playing,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Series and episodes

struct SeriesIndex<'a> {
    data: &'a SonarrData,
    by_tvdb: HashMap<i32, Vec<usize>>,
    by_folder: HashMap<&'a str, Vec<usize>>,
}

impl<'a> SeriesIndex<'a> {
    fn new(s: &'a SonarrData) -> Self {
        let mut idx = SeriesIndex {
            data: s,
            by_tvdb: HashMap::new(),
            by_folder: HashMap::new(),
        };
        for (i, se) in s.series.iter().enumerate() {
            if let Some(t) = se.tvdb_id.filter(|&t| t > 0) {
                idx.by_tvdb.entry(t).or_default().push(i);
            }
            if let Some(p) = se.path.as_deref().map(trim_slash).filter(|p| !p.is_empty()) {
                idx.by_folder.entry(p).or_default().push(i);
            }
        }
        idx
    }

    /// The series with this TVDB id, else the series whose folder holds `path`; the flag says
    /// the match was by path.
    fn find(&self, tvdb: Option<i32>, path: Option<&str>, map: &PathMap) -> Found<(usize, bool)> {
        let mut tried = Vec::new();
        if let Some(t) = tvdb {
            match hits(self.by_tvdb.get(&t)) {
                [one] => return Found::One((*one, false)),
                [] => tried.push(format!("series tvdb {t}")),
                many => {
                    return Found::Ambiguous(format!("{} Sonarr series match tvdb {t}", many.len()))
                }
            }
        }
        if let Some(p) = path {
            let mapped = map.to_arr(p);
            let found = self_and_ancestors(&mapped)
                .take(SERIES_FOLDER_DEPTH)
                .map(|folder| hits(self.by_folder.get(folder)))
                .find(|h| !h.is_empty())
                .unwrap_or(&[]);
            match found {
                [one] => return Found::One((*one, true)),
                [] => tried.push(format!("a series folder above {mapped}")),
                many => {
                    return Found::Ambiguous(format!(
                        "{} Sonarr series have the folder of {mapped}",
                        many.len()
                    ))
                }
            }
        }
        Found::Missing(if tried.is_empty() {
            "Jellyfin gave no series TVDB id and no path for it".to_owned()
        } else {
            format!("no Sonarr series with {}", tried.join(" or "))
        })
    }

    fn title(&self, i: usize) -> String {
        let se = &self.data.series[i];
        se.title
            .clone()
            .unwrap_or_else(|| format!("Sonarr series {}", se.id))
    }
}

/// The episodes among `seasons` (one series', sorted by number, their episodes too) that
/// Jellyfin's `item` is, as season and episode indices: by season and episode number (every
/// number of a multi-episode item), else by file path. Several episodes are one match when they
/// share the item's file. When the series itself was only found by its folder, numbers are not
/// trusted (they would pick an episode of whatever series holds the folder) and only the file
/// path counts.
fn find_episodes(
    seasons: &[Season],
    series_by_path: bool,
    item: &Item,
    map: &PathMap,
    series_title: &dyn Fn() -> String,
) -> Found<Vec<EpisodeAt>> {
    let sxe = item.parent_index_number.zip(item.index_number);
    if let Some((season, first)) = sxe.filter(|_| !series_by_path) {
        // A multi-episode item names its last episode; a bogus range is cut short.
        let last = item
            .index_number_end
            .filter(|&e| e >= first)
            .unwrap_or(first)
            .min(first.saturating_add(50));
        let mut out = Vec::new();
        if let Ok(s) = seasons.binary_search_by_key(&season, |s| s.number) {
            let eps = &seasons[s].episodes;
            for number in first..=last {
                let start = eps.partition_point(|e| e.number < number);
                let len = eps[start..].partition_point(|e| e.number <= number);
                match len {
                    0 => {}
                    1 => out.push((s, start)),
                    many => {
                        return Found::Ambiguous(format!(
                            "{many} episodes of Sonarr series {:?} are S{season:02}E{number:02}",
                            series_title()
                        ))
                    }
                }
            }
        }
        if !out.is_empty() {
            return Found::One(out);
        }
    }
    let mapped = item.file_path().map(|p| map.to_arr(p));
    if let Some(p) = &mapped {
        // Rarely needed, and within one series: a scan beats holding an index of every path.
        let same_file: Vec<EpisodeAt> = seasons
            .iter()
            .enumerate()
            .flat_map(|(s, season)| {
                season
                    .episodes
                    .iter()
                    .enumerate()
                    .map(move |(e, ep)| ((s, e), ep))
            })
            .filter(|(_, ep)| file_path(ep) == Some(p.as_ref()))
            .map(|(at, _)| at)
            .collect();
        if !same_file.is_empty() {
            return Found::One(same_file);
        }
    }
    let file = match &mapped {
        Some(p) => format!("no episode file at {p}"),
        None => "no path from Jellyfin".to_owned(),
    };
    let series_title = series_title();
    Found::Missing(match sxe {
        _ if series_by_path => format!(
            "Sonarr series {series_title:?} (found by its folder, no TVDB id) has {file}"
        ),
        Some((s, e)) => {
            format!("Sonarr series {series_title:?} has no S{s:02}E{e:02} and {file}")
        }
        None => format!(
            "Jellyfin gave no season and episode number, and Sonarr series {series_title:?} has {file}"
        ),
    })
}

fn episode_title(item: &Item) -> String {
    let name = item.name.as_deref().unwrap_or(&item.id);
    let series = item.series_name.as_deref().unwrap_or("?");
    match item.parent_index_number.zip(item.index_number) {
        Some((s, e)) => format!("{series} S{s:02}E{e:02} {name}"),
        None => format!("{series} {name}"),
    }
}

fn series_status(status: Option<&str>) -> SeriesStatus {
    match status.map(str::to_ascii_lowercase).as_deref() {
        Some("continuing") => SeriesStatus::Continuing,
        Some("ended") => SeriesStatus::Ended,
        Some("upcoming") => SeriesStatus::Upcoming,
        _ => SeriesStatus::Other,
    }
}

fn build_series(s: SonarrData, mut joined: SeriesJoined, n: usize) -> Vec<Series> {
    let labels = label_map(s.tags);
    s.series
        .into_iter()
        .enumerate()
        .map(|(si, se)| {
            let loaded = joined.seasons.get_mut(si).and_then(Option::take);
            let views = std::mem::take(&mut joined.series_views[si]);
            let seasons = build_seasons(si, &se, loaded.unwrap_or_default(), &mut joined, n);
            Series {
                sonarr_id: se.id,
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
                episodes: Vec::new(),
            });
            if let Some(views) = joined.season_views.remove(&(si, number)) {
                season.views = views;
            }
            season
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use jiff::Timestamp;

    use super::*;

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

    use crate::clients::jellyfin::Session;
    use crate::clients::jellyfin::UserData;
    use crate::clients::radarr;
    use crate::library::UserView;

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
            movie_file: Some(radarr::MovieFile {
                id: id * 10,
                path: Some(format!("{folder}/file.mkv")),
                size: Some(1000),
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
            episode_file: Some(sonarr::EpisodeFile {
                id: id * 10,
                series_id: series.id,
                season_number: s,
                path: Some(format!("{folder}/S{s:02}/e{e}.mkv")),
                size: Some(500),
            }),
        }
    }

    fn fetched(users: usize) -> Fetched {
        Fetched {
            users: (0..users).map(|i| format!("user{i}")).collect(),
            touched: crate::inventory::Touches::new(users),
            radarr: Some(RadarrData::default()),
            sonarr: Some(SonarrData::default()),
            ..Fetched::default()
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

    fn radarr(f: &mut Fetched) -> &mut RadarrData {
        f.radarr.as_mut().unwrap()
    }

    fn sonarr(f: &mut Fetched) -> &mut SonarrData {
        f.sonarr.as_mut().unwrap()
    }

    /// Load every series' episodes, as `fetch` does for candidates.
    fn load_episodes(f: &mut Fetched, eps: Vec<sonarr::Episode>) {
        let s = sonarr(f);
        for e in eps {
            s.episodes.entry(e.series_id).or_default().push(e);
        }
    }

    /// The series whose episodes a pass fetches when nothing is loaded yet: those with an
    /// episode of a counted user, as `collect` asks the joiner.
    fn candidate_series(f: &Fetched, o: &InventoryOptions) -> Vec<i32> {
        let n = f.users.len();
        let mut j = Joiner::new(n, o, f.radarr.as_ref(), f.sonarr.as_ref(), &f.sessions);
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

    // ---- movies -------------------------------------------------------------------------

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
        assert!(v.0[0].played);
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
        assert!(v1.0.iter().all(|u| u.played));
        assert_eq!(v1.0[0].last_played(), Some(ts(T1)));
        assert_eq!(v1.0[1].last_played(), Some(ts(T2)));
        let v2 = movie_views(&inv, 2);
        assert_eq!(v2.0[0], UserView::default());
        assert!(v2.0[1].played && v2.0[1].favorite);
        assert_eq!(v2.0[1].last_played(), Some(ts(T1)));
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
        assert!(movie_views(&inv, 1).0.iter().all(|u| u.played));
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
                size: 1000
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
        f.radarr = None;
        f.sonarr = None;
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

    // ---- series -------------------------------------------------------------------------

    /// Jellyfin knows series "jfS" with TVDB 81189; Sonarr has it as series 10. Sonarr also has
    /// a series whose TVDB id equals an episode's own TVDB id, which must not be used.
    fn tv_world() -> Fetched {
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
        assert!(e.views.0[0].played && !e.views.0[1].played);
        assert_eq!(e.views.0[0].last_played(), Some(ts(T1)));
        assert!(
            !episode(&inv, 901).views.any_played(),
            "episode TVDB id used as series id"
        );
        assert!(!episode(&inv, 101).views.any_played());
        assert!(inv.library.unmatched.is_empty());
        assert_eq!(candidate_series(&f, &opts()), [10]);
    }

    #[test]
    fn episode_matches_by_mapped_path_without_series_ids() {
        let mut f = tv_world();
        let mut e = item("x", "Episode");
        e.series_id = Some("unknown-series".into());
        f.touched
            .add_all(0, vec![played(with_path(e, "/data/tv/BB/S02/e1.mkv"), T1)]);
        let o = with_map(&[("/data/tv", "/tv")]);
        assert_eq!(candidate_series(&f, &o), [10]);
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
        assert!(episode(&inv, 102).views.0[1].played);
        assert!(episode(&inv, 103).views.0[1].played);
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
        assert!(bb.views.0[1].favorite && !bb.views.0[0].favorite);
        let fav_seasons: Vec<i32> = bb
            .seasons
            .iter()
            .filter(|s| s.views.any_favorite())
            .map(|s| s.number)
            .collect();
        assert_eq!(fav_seasons, [2]);
        let e = episode(&inv, 101);
        assert!(e.views.0[1].favorite && !e.views.0[1].played);
        assert!(!inv.library.series[1].views.any_favorite());
        // A favourite episode makes its series a candidate even when nothing was played.
        assert_eq!(candidate_series(&f, &opts()), [10]);
    }

    #[test]
    fn series_fields_seasons_status_tags_and_unloaded_episodes() {
        let mut f = tv_world();
        sonarr(&mut f).episodes.remove(&11);
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
                size: 500
            })
        );
        // Series 11 was no candidate: its seasons are there, its episodes are not.
        assert_eq!(s[1].seasons.len(), 1);
        assert!(s[1].seasons[0].episodes.is_empty());
    }

    #[test]
    fn episode_files_without_a_path_are_kept_out_of_every_root() {
        let mut f = tv_world();
        let eps = sonarr(&mut f).episodes.get_mut(&10).unwrap();
        eps[0].episode_file = None;
        eps[1].episode_file_id = 0;
        eps[1].episode_file = None;
        let inv = join(f.clone(), &opts());
        assert_eq!(
            episode(&inv, 101).file,
            Some(MediaFile {
                id: 1010,
                path: "".into(),
                size: 0
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
        assert_eq!(inv.library.radarr_root_folders, ["/movies"]);
        assert_eq!(inv.library.sonarr_root_folders, ["/tv", "/tv2"]);
        assert_eq!(
            inv.root_folders[1],
            RootFolderState {
                service: Service::Sonarr,
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
            .filter(|e| e.views.0.iter().all(|v| v.played))
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

    // ---- adding items as they arrive ------------------------------------------------------

    /// A joiner over `tv_world`'s lists with nothing loaded, as `collect` builds it.
    fn bare_joiner(f: &Fetched) -> Joiner<'_> {
        let mut j = Joiner::new(
            2,
            &InventoryOptions::default(),
            None,
            f.sonarr.as_ref(),
            &[],
        );
        j.learn_series(&f.series_items);
        j
    }

    fn aired_of(f: &Fetched, series_id: i32) -> Vec<Season> {
        seasons_of(f.sonarr.as_ref().unwrap().episodes[&series_id].clone(), 2)
    }

    #[test]
    fn an_episode_whose_series_loads_late_matches_at_the_end() {
        let f = tv_world();
        let mut j = bare_joiner(&f);
        j.add_for(1, played(episode_item("e21", "jfS", 2, 1), T1));
        assert_eq!(j.waiting_series(), [10]);
        j.load(10, aired_of(&f, 10));
        let mut s = f.sonarr.clone().unwrap();
        s.episodes.clear();
        let inv = j.finish().build(f.users.clone(), None, Some(s));
        assert!(
            inv.library.unmatched.is_empty(),
            "{:?}",
            inv.library.unmatched
        );
        let e = episode(&inv, 201);
        assert!(e.views.0[1].played && !e.views.0[0].played);
    }

    #[test]
    fn an_episode_whose_series_never_loads_is_unmatched_and_says_so() {
        let f = tv_world();
        let mut j = bare_joiner(&f);
        j.add_for(0, played(episode_item("e21", "jfS", 2, 1), T1));
        let inv = j.finish().build(f.users.clone(), None, f.sonarr.clone());
        let u = &inv.library.unmatched;
        assert_eq!(u.len(), 1);
        assert!(u[0].why.contains("were not loaded"), "{}", u[0].why);
    }

    #[test]
    fn the_views_of_several_users_meet_on_one_episode() {
        let f = tv_world();
        let mut j = bare_joiner(&f);
        j.load(10, aired_of(&f, 10));
        j.add_for(0, played(episode_item("e12", "jfS", 1, 2), T1));
        j.add_for(1, played(episode_item("e12", "jfS", 1, 2), T2));
        j.add_for(1, fav(episode_item("e12", "jfS", 1, 2)));
        j.add_for(7, played(episode_item("e13", "jfS", 1, 3), T1)); // not a counted user
        let inv = j.finish().build(f.users.clone(), None, f.sonarr.clone());
        let v = &episode(&inv, 102).views.0;
        assert!(v[0].played && v[1].played && v[1].favorite && !v[0].favorite);
        assert_eq!(v[1].last_played(), Some(ts(T2)));
        assert!(!episode(&inv, 103).views.any_played());
    }

    #[test]
    fn only_series_someone_touched_keep_their_episodes() {
        let f = tv_world();
        let mut j = bare_joiner(&f);
        j.load(10, aired_of(&f, 10));
        j.load(11, aired_of(&f, 11));
        j.add_for(0, played(episode_item("e12", "jfS", 1, 2), T1));
        assert!(j.waiting_series().is_empty());
        j.unload_untouched();
        let inv = j.finish().build(f.users.clone(), None, f.sonarr.clone());
        let counts: Vec<usize> = inv
            .library
            .series
            .iter()
            .map(|s| s.seasons.iter().map(|s| s.episodes.len()).sum())
            .collect();
        assert_eq!(counts, [4, 0]);
    }
}
