//! The pure half of inventory: match Jellyfin items to Radarr movies and Sonarr episodes and
//! build the [`Library`](crate::library::Library).
//!
//! A [`Joiner`] is built from the *arrs' lists first; then the counted users' items are added
//! to it one by one, as their pages arrive, and each is matched at once: its user's view goes
//! into the movie or episode it is, and the item itself is dropped. A pass thus never holds the
//! Jellyfin items, only the library. Only what does not match is kept, and tried once more at
//! the end, when everything is known (an episode of a series whose episodes came late).
//!
//! The entries of every instance of an *arr are numbered in one index. Every lookup goes through
//! a map built once (by TMDB id, IMDB id, TVDB id, file path, folder) or a binary search in a
//! series' sorted episodes, so the join is linear in the size of the library. Matching order: a
//! movie's file path, then provider ids, then the path mapped through `[[path_map]]`; where an id
//! is held by several instances, the path picks the one whose folder holds the file. A match
//! that is not unique is never resolved by guessing; the item goes to `unmatched` when someone
//! watched it.
//!
//! The joiner is here; the indexes it looks movies up in are in `movies`, series and their
//! episodes in `series` (both over the sorted index of `index`), and the library it leaves is
//! built in `build`.

mod build;
mod index;
mod movies;
mod series;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use super::paths::PathMap;
use super::touches::view_of;
use super::{InventoryOptions, RadarrData, SonarrData, Touches};
use crate::clients::jellyfin::{Item, ItemKind, Session};
use crate::library::{JellyfinId, Season, Unmatched, UserView, Views};

pub use build::{library_episode, seasons_of, Joined};
use build::{MoviesJoined, SeriesJoined};
use index::parse_id;
use movies::MovieIndex;
use series::{find_episodes, SeriesIndex};

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
    /// The Jellyfin item each movie was found to be.
    ids: Vec<Option<JellyfinId>>,
    /// Matches of the items playing now.
    playing: HashMap<&'a str, usize>,
}

struct SeriesSide<'a> {
    idx: SeriesIndex<'a>,
    /// (instance, Sonarr series id) → the series' number in `idx` (the first, should ids
    /// repeat).
    by_id: HashMap<(usize, i32), usize>,
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
    /// A joiner for `users` counted users over the lists of every instance of the *arrs (none
    /// for a service that is not configured: its media is left alone, and nothing is reported
    /// unmatched against it). No series has episodes until they are [loaded](Joiner::load).
    pub fn new(
        users: usize,
        opts: &InventoryOptions,
        radarr: &'a [RadarrData],
        sonarr: &'a [SonarrData],
        sessions: &'a [Session],
    ) -> Self {
        let movies = (!radarr.is_empty()).then(|| {
            let idx = MovieIndex::new(radarr);
            MovieSide {
                views: vec![Views::untouched(users); idx.len()],
                ids: vec![None; idx.len()],
                idx,
                playing: HashMap::new(),
            }
        });
        let series = (!sonarr.is_empty()).then(|| {
            let idx = SeriesIndex::new(sonarr);
            let count = idx.all().len();
            let mut by_id = HashMap::with_capacity(count);
            for (i, (k, se)) in idx.all().iter().enumerate() {
                by_id.entry((usize::from(*k), se.id)).or_insert(i);
            }
            SeriesSide {
                idx,
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

    /// Gives series `series_id` of the `instance`-th Sonarr its seasons with their episodes
    /// (each season number once); those it had are replaced.
    pub fn load(&mut self, instance: usize, series_id: i32, mut seasons: Vec<Season>) {
        let Some(side) = &mut self.series else {
            return;
        };
        if let Some(&si) = side.by_id.get(&(instance, series_id)) {
            seasons.sort_by_key(|s| s.number);
            for season in &mut seasons {
                // Stable: episodes Sonarr lists twice keep their order, and stay ambiguous.
                season.episodes.sort_by_key(|e| e.number);
                season.episodes.shrink_to_fit();
            }
            side.seasons[si] = Some(seasons);
        }
    }

    /// The Sonarr series (instance, series id) with a counted user's episode whose episodes are
    /// not loaded: load them before [`Joiner::finish`], or those episodes end up unmatched.
    pub fn waiting_series(&self) -> Vec<(usize, i32)> {
        let Some(side) = &self.series else {
            return Vec::new();
        };
        let all = side.idx.all();
        let mut ids: Vec<(usize, i32)> = (0..side.seasons.len())
            .filter(|&si| side.touched[si] && side.seasons[si].is_none())
            .map(|si| (usize::from(all[si].0), all[si].1.id))
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
        let seen = Seen::One(user, view_of(item.user_data.as_ref()));
        if self.try_add(&item, seen).is_err() {
            self.held.add(user, item);
        }
    }

    /// Adds `item` with every counted user's view of it.
    pub fn add(&mut self, item: Item, views: &Views) {
        if self.try_add(&item, Seen::All(views)).is_err() {
            self.held.add_views(item, views);
        }
    }

    /// Puts what was seen of `item` on what it is; why not when a movie or an episode matches
    /// nothing.
    fn try_add(&mut self, item: &Item, views: Seen<'_>) -> Result<(), String> {
        let n = self.users;
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
                        merge_views(&mut side.series_views[si], views, n);
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
                        let v = side
                            .season_views
                            .entry((si, number))
                            .or_insert_with(|| Views::untouched(n));
                        merge_views(v, views, n);
                    }
                }
                Ok(())
            }
            ItemKind::Other => Ok(()),
        }
    }

    fn add_movie(&mut self, item: &Item, views: Seen<'_>) -> Result<(), String> {
        let Some(side) = &mut self.movies else {
            return Ok(());
        };
        match side.idx.find(item, &self.map) {
            Found::One(m) => {
                merge_views(&mut side.views[m], views, self.users);
                side.ids[m] = side.ids[m].or_else(|| JellyfinId::parse(&item.id));
                if let Some(&id) = self.playing_ids.get(&*item.id) {
                    side.playing.insert(id, m);
                }
                Ok(())
            }
            Found::Ambiguous(why) | Found::Missing(why) => Err(why),
        }
    }

    fn add_episode(&mut self, item: &Item, views: Seen<'_>) -> Result<(), String> {
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
                let season_id = item.season_id.as_deref().and_then(JellyfinId::parse);
                for &(s, e) in &found {
                    let episode = &mut seasons[s].episodes[e];
                    merge_views(&mut episode.views, views, self.users);
                    episode.jellyfin_id =
                        episode.jellyfin_id.or_else(|| JellyfinId::parse(&item.id));
                    seasons[s].jellyfin_id = seasons[s].jellyfin_id.or(season_id);
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
            let Err(why) = self.try_add(&item, Seen::All(&views)) else {
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
            movies: self.movies.map(|side| MoviesJoined {
                views: side.views,
                playing: movies_playing,
                ids: side.ids,
            }),
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

/// What a listing told of an item: one counted user's view of it, or (an item held back and
/// added again) every user's.
#[derive(Clone, Copy)]
enum Seen<'a> {
    One(usize, UserView),
    All(&'a Views),
}

/// Merges what was seen into the views of one of `users` counted users' items.
fn merge_views(into: &mut Views, seen: Seen<'_>, users: usize) {
    match seen {
        Seen::One(user, view) => into.merge_one(user, view, users),
        Seen::All(from) => into.merge_from(from, users),
    }
}

fn unmatched(kind: &str, title: String, item: &Item, why: String) -> Unmatched {
    Unmatched {
        kind: kind.to_owned(),
        title,
        path: item.file_path().map(str::to_owned),
        why,
    }
}

fn episode_title(item: &Item) -> String {
    let name = item.name.as_deref().unwrap_or(&item.id);
    let series = item.series_name.as_deref().unwrap_or("?");
    match item.parent_index_number.zip(item.index_number) {
        Some((s, e)) => format!("{series} S{s:02}E{e:02} {name}"),
        None => format!("{series} {name}"),
    }
}
