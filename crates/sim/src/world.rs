//! The simulated media world: what Jellyfin, Radarr and Sonarr know, and which files exist.
//!
//! Built with short builders so a test scenario reads like a sentence:
//!
//! ```
//! use shelflife_sim::{World, MovieSpec, SeriesSpec};
//! let now = jiff::Timestamp::from_second(1_700_000_000).unwrap();
//! let world = World::new(now)
//!     .user("alice")
//!     .movie(MovieSpec::new("The Matrix", 1999).watched("alice", 12.0))
//!     .series(SeriesSpec::new("Dark", false).season(1, 10).watched("alice", 1, 1..=10, 9.0));
//! assert_eq!(world.movies.len(), 1);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use jiff::{SignedDuration, Timestamp};

/// Where the *arrs keep movies and TV in every simulated world.
pub const MOVIES_ROOT: &str = "/movies";
pub const TV_ROOT: &str = "/tv";

/// One user's state on one item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Watch {
    pub played: bool,
    pub last_played: Option<Timestamp>,
    pub favorite: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Jellyfin user id: 32 lowercase hex digits.
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovieFile {
    pub id: i32,
    pub path: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movie {
    pub radarr_id: i32,
    /// When Jellyfin added it, as an order (its `DateCreated`): items built later have larger
    /// numbers.
    pub created: i32,
    pub jellyfin_id: String,
    pub title: String,
    pub year: i32,
    pub tmdb_id: i32,
    pub imdb_id: Option<String>,
    /// Radarr's movie folder.
    pub path: String,
    pub file: Option<MovieFile>,
    pub tags: Vec<i32>,
    pub monitored: bool,
    pub in_radarr: bool,
    pub in_jellyfin: bool,
    /// Jellyfin identified it (has its TMDB/IMDB ids); an unidentified item matches by path only.
    pub jellyfin_has_ids: bool,
    /// Jellyfin's item has no `Path`, only its `MediaSources` have one.
    pub path_only_in_media_sources: bool,
    /// Per user name.
    pub watch: BTreeMap<String, Watch>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpisodeFile {
    pub id: i32,
    pub season: i32,
    pub path: String,
    pub relative_path: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    pub sonarr_id: i32,
    /// When Jellyfin added it, as an order (its `DateCreated`): items built later have larger
    /// numbers.
    pub created: i32,
    pub jellyfin_id: String,
    pub season: i32,
    pub number: i32,
    pub title: String,
    pub tvdb_id: i32,
    /// `yyyy-MM-dd`; `None` for episodes without an air date (TBA, many specials).
    pub air_date: Option<String>,
    pub monitored: bool,
    /// 0 when there is no file, like Sonarr's `episodeFileId`.
    pub file_id: i32,
    /// Jellyfin lists the episode (it had a file when Jellyfin last scanned).
    pub in_jellyfin: bool,
    /// Jellyfin's item has no `Path`, only its `MediaSources` have one.
    pub path_only_in_media_sources: bool,
    pub watch: BTreeMap<String, Watch>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Season {
    pub number: i32,
    /// When Jellyfin added it, as an order (its `DateCreated`): items built later have larger
    /// numbers.
    pub created: i32,
    pub monitored: bool,
    pub jellyfin_id: String,
    pub watch: BTreeMap<String, Watch>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub sonarr_id: i32,
    /// When Jellyfin added it, as an order (its `DateCreated`): items built later have larger
    /// numbers.
    pub created: i32,
    pub jellyfin_id: String,
    pub title: String,
    pub tvdb_id: i32,
    /// Sonarr's lowercase status: `continuing` or `ended`.
    pub status: String,
    pub path: String,
    pub tags: Vec<i32>,
    pub in_sonarr: bool,
    pub in_jellyfin: bool,
    pub watch: BTreeMap<String, Watch>,
    pub seasons: Vec<Season>,
    pub episodes: Vec<Episode>,
    pub files: Vec<EpisodeFile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootFolder {
    pub id: i32,
    pub path: String,
    pub accessible: bool,
}

/// A Jellyfin playback session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub item_id: String,
}

/// Everything the three servers know.
#[derive(Debug, Clone)]
pub struct World {
    /// The clock the builders count "days ago" from.
    pub now: Timestamp,
    pub users: Vec<User>,
    pub movies: Vec<Movie>,
    pub series: Vec<Series>,
    pub radarr_tags: Vec<(i32, String)>,
    pub sonarr_tags: Vec<(i32, String)>,
    pub radarr_root_folders: Vec<RootFolder>,
    pub sonarr_root_folders: Vec<RootFolder>,
    pub sessions: Vec<Session>,
    /// `(arr prefix, jellyfin prefix)`: Jellyfin sees `/media/tv/…` where Sonarr sees `/tv/…`.
    pub jellyfin_prefix: Vec<(String, String)>,
    /// Paths of the files that exist, as the *arrs see them.
    pub files: BTreeSet<String>,
    /// Files Sonarr forgot without deleting (its bulk delete with several series).
    pub left_on_disk: Vec<String>,
    /// Radarr import exclusions added by deletes (tmdb ids).
    pub import_exclusions: Vec<i32>,
    /// How often Jellyfin was asked to rescan.
    pub refreshes: u32,
    next_id: i32,
}

fn guid(n: i32, kind: u8) -> String {
    format!("{:02x}{:030x}", kind, n)
}

impl World {
    pub fn new(now: Timestamp) -> Self {
        World {
            now,
            users: Vec::new(),
            movies: Vec::new(),
            series: Vec::new(),
            radarr_tags: Vec::new(),
            sonarr_tags: Vec::new(),
            radarr_root_folders: vec![RootFolder {
                id: 1,
                path: MOVIES_ROOT.to_string(),
                accessible: true,
            }],
            sonarr_root_folders: vec![RootFolder {
                id: 1,
                path: TV_ROOT.to_string(),
                accessible: true,
            }],
            sessions: Vec::new(),
            jellyfin_prefix: Vec::new(),
            files: BTreeSet::new(),
            left_on_disk: Vec::new(),
            import_exclusions: Vec::new(),
            refreshes: 0,
            next_id: 1,
        }
    }

    fn id(&mut self) -> i32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn user(mut self, name: &str) -> Self {
        let n = self.users.len() as i32 + 1;
        self.users.push(User {
            id: guid(n, 0xaa),
            name: name.to_string(),
        });
        self
    }

    /// Jellyfin sees `arr_prefix/…` as `jellyfin_prefix/…` (a container mount).
    pub fn jellyfin_sees(mut self, arr_prefix: &str, jellyfin_prefix: &str) -> Self {
        self.jellyfin_prefix
            .push((arr_prefix.to_string(), jellyfin_prefix.to_string()));
        self
    }

    fn ago(&self, days: f64) -> Timestamp {
        let secs = (days * 86_400.0).round() as i64;
        self.now
            .checked_sub(SignedDuration::from_secs(secs))
            .unwrap_or(self.now)
    }

    fn tag_id(tags: &mut Vec<(i32, String)>, label: &str) -> i32 {
        if let Some((id, _)) = tags.iter().find(|(_, l)| l == label) {
            return *id;
        }
        let id = tags.len() as i32 + 1;
        tags.push((id, label.to_string()));
        id
    }

    fn watches(&self, spec: &[(String, WatchSpec)]) -> BTreeMap<String, Watch> {
        let mut out: BTreeMap<String, Watch> = BTreeMap::new();
        for (user, w) in spec {
            let entry = out.entry(user.clone()).or_default();
            match w {
                WatchSpec::Played(days) => {
                    entry.played = true;
                    entry.last_played = Some(self.ago(*days));
                }
                WatchSpec::PlayedUndated => entry.played = true,
                WatchSpec::Favorite => entry.favorite = true,
            }
        }
        out
    }

    pub fn movie(mut self, spec: MovieSpec) -> Self {
        let id = self.id();
        let folder = format!("{MOVIES_ROOT}/{} ({})", spec.title, spec.year);
        let file = spec.size.map(|size| MovieFile {
            id: self.id(),
            path: format!("{folder}/{} ({}).mkv", spec.title, spec.year),
            size,
        });
        if let Some(f) = &file {
            self.files.insert(f.path.clone());
        }
        let tags = spec
            .tags
            .iter()
            .map(|t| Self::tag_id(&mut self.radarr_tags, t))
            .collect();
        let jellyfin_id = guid(id, 0x01);
        for user in &spec.playing {
            self.sessions.push(Session {
                user: user.clone(),
                item_id: jellyfin_id.clone(),
            });
        }
        let watch = self.watches(&spec.watch);
        self.movies.push(Movie {
            radarr_id: id,
            created: id,
            jellyfin_id,
            title: spec.title,
            year: spec.year,
            tmdb_id: spec.tmdb_id.unwrap_or(10_000 + id),
            imdb_id: Some(format!("tt{:07}", 100_000 + id)),
            path: folder,
            file,
            tags,
            monitored: true,
            in_radarr: spec.in_radarr,
            in_jellyfin: spec.in_jellyfin && spec.size.is_some(),
            jellyfin_has_ids: spec.jellyfin_has_ids,
            path_only_in_media_sources: spec.path_only_in_media_sources,
            watch,
        });
        self
    }

    pub fn series(mut self, spec: SeriesSpec) -> Self {
        let sid = self.id();
        let folder = format!("{TV_ROOT}/{}", spec.title);
        let tags = spec
            .tags
            .iter()
            .map(|t| Self::tag_id(&mut self.sonarr_tags, t))
            .collect();
        let mut series = Series {
            sonarr_id: sid,
            created: sid,
            jellyfin_id: guid(sid, 0x02),
            title: spec.title.clone(),
            tvdb_id: 70_000 + sid,
            status: if spec.ended { "ended" } else { "continuing" }.to_string(),
            path: folder.clone(),
            tags,
            in_sonarr: spec.in_sonarr,
            in_jellyfin: spec.in_jellyfin,
            watch: self.watches(&spec.favorite),
            seasons: Vec::new(),
            episodes: Vec::new(),
            files: Vec::new(),
        };
        for s in &spec.seasons {
            let season_id = self.id();
            let season_favs: Vec<(String, WatchSpec)> = spec
                .season_favorites
                .iter()
                .filter(|(_, n)| *n == s.number)
                .map(|(u, _)| (u.clone(), WatchSpec::Favorite))
                .collect();
            series.seasons.push(Season {
                number: s.number,
                created: season_id,
                monitored: true,
                jellyfin_id: guid(season_id, 0x03),
                watch: self.watches(&season_favs),
            });
            for e in 1..=s.episodes {
                let eid = self.id();
                let unaired = spec
                    .unaired
                    .iter()
                    .any(|(n, r)| *n == s.number && r.contains(&e));
                let no_file = unaired
                    || spec
                        .no_file
                        .iter()
                        .any(|(n, r)| *n == s.number && r.contains(&e));
                let file_id = if no_file {
                    0
                } else {
                    let fid = self.id();
                    let relative = format!(
                        "Season {:02}/{} - S{:02}E{:02}.mkv",
                        s.number, spec.title, s.number, e
                    );
                    let path = format!("{folder}/{relative}");
                    self.files.insert(path.clone());
                    series.files.push(EpisodeFile {
                        id: fid,
                        season: s.number,
                        path,
                        relative_path: relative,
                        size: spec.episode_size,
                    });
                    fid
                };
                let watch_spec: Vec<(String, WatchSpec)> = spec
                    .watched
                    .iter()
                    .filter(|w| w.season == s.number && w.episodes.contains(&e))
                    .map(|w| (w.user.clone(), w.how))
                    .collect();
                let jellyfin_id = guid(eid, 0x04);
                if spec
                    .playing
                    .iter()
                    .any(|(_, n, ep)| *n == s.number && *ep == e)
                {
                    for (user, _, _) in spec
                        .playing
                        .iter()
                        .filter(|(_, n, ep)| *n == s.number && *ep == e)
                    {
                        self.sessions.push(Session {
                            user: user.clone(),
                            item_id: jellyfin_id.clone(),
                        });
                    }
                }
                let air_date = (!unaired && s.number > 0).then(|| {
                    let aired = self.ago(400.0 - f64::from(s.number * 30 + e));
                    aired.strftime("%Y-%m-%d").to_string()
                });
                series.episodes.push(Episode {
                    sonarr_id: eid,
                    created: eid,
                    jellyfin_id,
                    season: s.number,
                    number: e,
                    title: format!("Episode {e}"),
                    tvdb_id: 900_000 + eid,
                    air_date,
                    monitored: true,
                    file_id,
                    in_jellyfin: spec.in_jellyfin && file_id != 0,
                    path_only_in_media_sources: spec
                        .path_only_in_media_sources
                        .contains(&(s.number, e)),
                    watch: self.watches(&watch_spec),
                });
            }
        }
        self.series.push(series);
        self
    }

    /// A Radarr root folder that Radarr cannot reach (its storage is gone).
    pub fn radarr_root_inaccessible(mut self) -> Self {
        for r in &mut self.radarr_root_folders {
            r.accessible = false;
        }
        self
    }

    /// A Sonarr root folder that Sonarr cannot reach (its storage is gone).
    pub fn sonarr_root_inaccessible(mut self) -> Self {
        for r in &mut self.sonarr_root_folders {
            r.accessible = false;
        }
        self
    }

    /// The path Jellyfin shows for an *arr path.
    pub fn jellyfin_path(&self, arr_path: &str) -> String {
        for (arr, jf) in &self.jellyfin_prefix {
            if let Some(rest) = arr_path.strip_prefix(arr.as_str()) {
                if rest.is_empty() || rest.starts_with('/') {
                    return format!("{jf}{rest}");
                }
            }
        }
        arr_path.to_string()
    }

    /// The movie with this title, for assertions.
    pub fn find_movie(&self, title: &str) -> Option<&Movie> {
        self.movies.iter().find(|m| m.title == title)
    }

    /// The series with this title, for assertions.
    pub fn find_series(&self, title: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.title == title)
    }

    /// Does the episode `SxxEyy` of `series` still have its file on disk?
    pub fn episode_file_exists(&self, series: &str, season: i32, episode: i32) -> bool {
        let Some(s) = self.find_series(series) else {
            return false;
        };
        s.episodes
            .iter()
            .find(|e| e.season == season && e.number == episode)
            .and_then(|e| s.files.iter().find(|f| f.id == e.file_id))
            .is_some_and(|f| self.files.contains(&f.path))
    }

    /// Is the episode `SxxEyy` of `series` still monitored in Sonarr?
    pub fn episode_monitored(&self, series: &str, season: i32, episode: i32) -> Option<bool> {
        self.find_series(series)?
            .episodes
            .iter()
            .find(|e| e.season == season && e.number == episode)
            .map(|e| e.monitored)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum WatchSpec {
    Played(f64),
    PlayedUndated,
    Favorite,
}

/// A movie to add to a [`World`].
#[derive(Debug, Clone)]
pub struct MovieSpec {
    title: String,
    year: i32,
    size: Option<u64>,
    tmdb_id: Option<i32>,
    tags: Vec<String>,
    watch: Vec<(String, WatchSpec)>,
    playing: Vec<String>,
    in_radarr: bool,
    in_jellyfin: bool,
    jellyfin_has_ids: bool,
    path_only_in_media_sources: bool,
}

impl MovieSpec {
    /// A movie with an 8 GB file, in Radarr and Jellyfin, that nobody has watched.
    pub fn new(title: &str, year: i32) -> Self {
        MovieSpec {
            title: title.to_string(),
            year,
            size: Some(8_000_000_000),
            tmdb_id: None,
            tags: Vec::new(),
            watch: Vec::new(),
            playing: Vec::new(),
            in_radarr: true,
            in_jellyfin: true,
            jellyfin_has_ids: true,
            path_only_in_media_sources: false,
        }
    }
    /// Jellyfin did not identify it: no provider ids, only its path.
    pub fn unidentified_in_jellyfin(mut self) -> Self {
        self.jellyfin_has_ids = false;
        self
    }
    /// Jellyfin's item has no `Path` even when asked for; its `MediaSources` have the path.
    pub fn path_only_in_media_sources(mut self) -> Self {
        self.path_only_in_media_sources = true;
        self
    }
    pub fn size_gb(mut self, gb: f64) -> Self {
        self.size = Some((gb * 1e9) as u64);
        self
    }
    pub fn no_file(mut self) -> Self {
        self.size = None;
        self
    }
    pub fn tmdb(mut self, id: i32) -> Self {
        self.tmdb_id = Some(id);
        self
    }
    pub fn tag(mut self, label: &str) -> Self {
        self.tags.push(label.to_string());
        self
    }
    /// `user` last played it `days_ago` days before the world's `now`.
    pub fn watched(mut self, user: &str, days_ago: f64) -> Self {
        self.watch
            .push((user.to_string(), WatchSpec::Played(days_ago)));
        self
    }
    /// Played, but Jellyfin has no LastPlayedDate.
    pub fn watched_undated(mut self, user: &str) -> Self {
        self.watch
            .push((user.to_string(), WatchSpec::PlayedUndated));
        self
    }
    pub fn favorite(mut self, user: &str) -> Self {
        self.watch.push((user.to_string(), WatchSpec::Favorite));
        self
    }
    pub fn playing(mut self, user: &str) -> Self {
        self.playing.push(user.to_string());
        self
    }
    /// Jellyfin has it, Radarr does not (a home video, or a movie added by hand).
    pub fn not_in_radarr(mut self) -> Self {
        self.in_radarr = false;
        self
    }
    pub fn not_in_jellyfin(mut self) -> Self {
        self.in_jellyfin = false;
        self
    }
}

#[derive(Debug, Clone)]
struct SeasonSpec {
    number: i32,
    episodes: i32,
}

#[derive(Debug, Clone)]
struct WatchedRange {
    user: String,
    season: i32,
    episodes: RangeInclusive<i32>,
    how: WatchSpec,
}

/// A series to add to a [`World`].
#[derive(Debug, Clone)]
pub struct SeriesSpec {
    title: String,
    ended: bool,
    tags: Vec<String>,
    seasons: Vec<SeasonSpec>,
    watched: Vec<WatchedRange>,
    no_file: Vec<(i32, RangeInclusive<i32>)>,
    unaired: Vec<(i32, RangeInclusive<i32>)>,
    favorite: Vec<(String, WatchSpec)>,
    season_favorites: Vec<(String, i32)>,
    playing: Vec<(String, i32, i32)>,
    episode_size: u64,
    in_sonarr: bool,
    in_jellyfin: bool,
    /// (season, episode) whose Jellyfin item has its path only in `MediaSources`.
    path_only_in_media_sources: Vec<(i32, i32)>,
}

impl SeriesSpec {
    /// A series (`ended` or continuing) with 1.5 GB episodes, in Sonarr and Jellyfin.
    pub fn new(title: &str, ended: bool) -> Self {
        SeriesSpec {
            title: title.to_string(),
            ended,
            tags: Vec::new(),
            seasons: Vec::new(),
            watched: Vec::new(),
            no_file: Vec::new(),
            unaired: Vec::new(),
            favorite: Vec::new(),
            season_favorites: Vec::new(),
            playing: Vec::new(),
            episode_size: 1_500_000_000,
            in_sonarr: true,
            in_jellyfin: true,
            path_only_in_media_sources: Vec::new(),
        }
    }
    /// Season `number` (0 = specials) with `episodes` episodes, each with a file.
    pub fn season(mut self, number: i32, episodes: i32) -> Self {
        self.seasons.push(SeasonSpec { number, episodes });
        self
    }
    pub fn tag(mut self, label: &str) -> Self {
        self.tags.push(label.to_string());
        self
    }
    pub fn watched(
        mut self,
        user: &str,
        season: i32,
        episodes: RangeInclusive<i32>,
        days_ago: f64,
    ) -> Self {
        self.watched.push(WatchedRange {
            user: user.to_string(),
            season,
            episodes,
            how: WatchSpec::Played(days_ago),
        });
        self
    }
    pub fn favorite_episode(mut self, user: &str, season: i32, episode: i32) -> Self {
        self.watched.push(WatchedRange {
            user: user.to_string(),
            season,
            episodes: episode..=episode,
            how: WatchSpec::Favorite,
        });
        self
    }
    pub fn favorite_season(mut self, user: &str, season: i32) -> Self {
        self.season_favorites.push((user.to_string(), season));
        self
    }
    pub fn favorite(mut self, user: &str) -> Self {
        self.favorite.push((user.to_string(), WatchSpec::Favorite));
        self
    }
    pub fn playing(mut self, user: &str, season: i32, episode: i32) -> Self {
        self.playing.push((user.to_string(), season, episode));
        self
    }
    /// These episodes have no file (missing).
    pub fn no_file(mut self, season: i32, episodes: RangeInclusive<i32>) -> Self {
        self.no_file.push((season, episodes));
        self
    }
    /// These episodes have not aired: no file and no air date.
    pub fn unaired(mut self, season: i32, episodes: RangeInclusive<i32>) -> Self {
        self.unaired.push((season, episodes));
        self
    }
    pub fn episode_size_mb(mut self, mb: u64) -> Self {
        self.episode_size = mb * 1_000_000;
        self
    }
    pub fn not_in_sonarr(mut self) -> Self {
        self.in_sonarr = false;
        self
    }
    /// Jellyfin's item for episode `SxxEyy` has no `Path` even when asked for; its
    /// `MediaSources` have the path.
    pub fn path_only_in_media_sources(mut self, season: i32, episode: i32) -> Self {
        self.path_only_in_media_sources.push((season, episode));
        self
    }
}

/// The seeds' Breaking Bad, as `alice` watched it.
fn breaking_bad_spec() -> SeriesSpec {
    SeriesSpec::new("Breaking Bad", false)
        .season(1, 7)
        .season(2, 13)
        .season(3, 13)
        .season(4, 13)
        .season(5, 16)
        .unaired(5, 9..=16)
        .watched("alice", 1, 1..=7, 10.0)
        .watched("alice", 2, 1..=13, 7.0)
        .watched("alice", 3, 1..=5, 6.0)
        .watched("alice", 5, 1..=2, 1.0)
}

/// Sizes of a generated library, for the benchmark and request-budget tests.
#[derive(Debug, Clone, Copy)]
pub struct SyntheticSpec {
    pub movies: usize,
    pub episodes: usize,
    pub users: usize,
    /// Share of items watched, 0..=1.
    pub watched_share: f64,
    pub seed: u64,
}

impl World {
    /// A believable small library for `shelflife demo`.
    pub fn demo(now: Timestamp) -> World {
        World::new(now)
            .user("alice")
            .user("bob")
            .movie(
                MovieSpec::new("The Matrix", 1999)
                    .size_gb(8.1)
                    .watched("alice", 12.0),
            )
            .movie(
                MovieSpec::new("Heat", 1995)
                    .size_gb(11.2)
                    .watched("alice", 30.0)
                    .tag("keep"),
            )
            .movie(
                MovieSpec::new("Arrival", 2016)
                    .size_gb(6.4)
                    .watched("bob", 2.0),
            )
            .movie(
                MovieSpec::new("Amélie", 2001)
                    .size_gb(5.0)
                    .watched("alice", 40.0)
                    .favorite("alice"),
            )
            .movie(MovieSpec::new("Dune", 2021).size_gb(14.8))
            .movie(
                MovieSpec::new("Paddington 2", 2017)
                    .size_gb(4.2)
                    .watched("bob", 20.0)
                    .playing("bob"),
            )
            .movie(
                MovieSpec::new("Alien", 1979)
                    .size_gb(7.7)
                    .watched("alice", 9.0)
                    .watched("bob", 8.0),
            )
            .movie(
                MovieSpec::new("Holiday 2019", 2019)
                    .size_gb(2.1)
                    .watched("alice", 60.0)
                    .not_in_radarr(),
            )
            .series(breaking_bad_spec())
            .series(
                SeriesSpec::new("Chernobyl", true)
                    .season(1, 5)
                    .watched("bob", 1, 1..=5, 21.0),
            )
            .series(
                SeriesSpec::new("Severance", false)
                    .season(1, 9)
                    .season(2, 10)
                    .unaired(2, 8..=10)
                    .watched("alice", 1, 1..=9, 15.0)
                    .watched("alice", 2, 1..=7, 1.0),
            )
    }

    /// The seeds' example: a continuing series, S1 watched 10 days ago, S2 7 days ago, S3 5 of 13
    /// watched 6 days ago, S4 untouched, S5 airing (8 aired with files, 2 watched a day ago).
    pub fn breaking_bad(now: Timestamp) -> World {
        World::new(now).user("alice").series(breaking_bad_spec())
    }

    /// A deterministic large library: `movies` movies, `episodes` episodes in series of 5 seasons
    /// of 10 episodes (the last series may be shorter), about `watched_share` of everything
    /// watched by every user, 30 days ago.
    pub fn synthetic(now: Timestamp, spec: SyntheticSpec) -> World {
        let mut rng = fastrand::Rng::with_seed(spec.seed);
        let mut world = World::new(now);
        for u in 0..spec.users.max(1) {
            world = world.user(&format!("user{u}"));
        }
        let users: Vec<String> = world.users.iter().map(|u| u.name.clone()).collect();
        for m in 0..spec.movies {
            let mut movie = MovieSpec::new(&format!("Movie {m}"), 1950 + (m % 75) as i32)
                .size_gb(1.0 + rng.f64() * 10.0);
            if rng.f64() < spec.watched_share {
                for u in &users {
                    movie = movie.watched(u, 30.0);
                }
            }
            world = world.movie(movie);
        }
        let mut left = spec.episodes;
        let mut n = 0;
        while left > 0 {
            let count = left.min(50);
            left -= count;
            let mut series = SeriesSpec::new(&format!("Show {n}"), n % 2 == 0);
            let mut e = count as i32;
            let mut season = 1;
            while e > 0 {
                let in_season = e.min(10);
                series = series.season(season, in_season);
                if rng.f64() < spec.watched_share {
                    for u in &users {
                        series = series.watched(u, season, 1..=in_season, 30.0);
                    }
                }
                e -= in_season;
                season += 1;
            }
            world = world.series(series);
            n += 1;
        }
        world
    }
}
