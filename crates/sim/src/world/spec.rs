//! What a test asks for: a movie or a series, its files, tags and who watched what.

use std::ops::RangeInclusive;
use std::sync::Arc;

use super::FileMedia;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum WatchSpec {
    Played(f64),
    PlayedUndated,
    Favorite,
}

/// A movie to add to a [`World`].
#[derive(Debug, Clone)]
pub struct MovieSpec {
    pub(super) title: String,
    pub(super) year: i32,
    pub(super) size: Option<u64>,
    pub(super) tmdb_id: Option<i32>,
    pub(super) tags: Vec<String>,
    pub(super) watch: Vec<(String, WatchSpec)>,
    pub(super) playing: Vec<String>,
    pub(super) in_radarr: bool,
    pub(super) in_jellyfin: bool,
    pub(super) jellyfin_has_ids: bool,
    pub(super) path_only_in_media_sources: bool,
    /// The root folder it lies in; [`MOVIES_ROOT`](super::MOVIES_ROOT) unless set.
    pub(super) root: Option<String>,
    pub(super) media: Option<Arc<FileMedia>>,
}

impl MovieSpec {
    /// A movie with an 8 GB file ([`FileMedia::movie_default`]: 1080p Blu-ray, AC3 5.1), in
    /// Radarr and Jellyfin, that nobody has watched.
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
            root: None,
            media: Some(Arc::new(FileMedia::movie_default())),
        }
    }
    /// Its folder lies under `root` instead of `/movies` (a second Radarr's root folder).
    pub fn root(mut self, root: &str) -> Self {
        self.root = Some(root.to_string());
        self
    }
    /// Its file's quality and media info, as Radarr serves them.
    pub fn media(mut self, media: FileMedia) -> Self {
        self.media = Some(Arc::new(media));
        self
    }
    /// Radarr's record of its file has neither `quality` nor `mediaInfo`.
    pub fn no_media(mut self) -> Self {
        self.media = None;
        self
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
pub(super) struct SeasonSpec {
    pub(super) number: i32,
    pub(super) episodes: i32,
}

#[derive(Debug, Clone)]
pub(super) struct WatchedRange {
    pub(super) user: String,
    pub(super) season: i32,
    pub(super) episodes: RangeInclusive<i32>,
    pub(super) how: WatchSpec,
}

/// A series to add to a [`World`].
#[derive(Debug, Clone)]
pub struct SeriesSpec {
    pub(super) title: String,
    pub(super) ended: bool,
    pub(super) tags: Vec<String>,
    pub(super) seasons: Vec<SeasonSpec>,
    pub(super) watched: Vec<WatchedRange>,
    pub(super) no_file: Vec<(i32, RangeInclusive<i32>)>,
    pub(super) unaired: Vec<(i32, RangeInclusive<i32>)>,
    pub(super) favorite: Vec<(String, WatchSpec)>,
    pub(super) season_favorites: Vec<(String, i32)>,
    pub(super) playing: Vec<(String, i32, i32)>,
    pub(super) episode_size: u64,
    pub(super) in_sonarr: bool,
    pub(super) in_jellyfin: bool,
    /// (season, episode) whose Jellyfin item has its path only in `MediaSources`.
    pub(super) path_only_in_media_sources: Vec<(i32, i32)>,
    /// The root folder it lies in; [`TV_ROOT`](super::TV_ROOT) unless set.
    pub(super) root: Option<String>,
    pub(super) tvdb_id: Option<i32>,
    pub(super) media: Option<Arc<FileMedia>>,
}

impl SeriesSpec {
    /// A series (`ended` or continuing) with 1.5 GB episodes ([`FileMedia::episode_default`]:
    /// 1080p web downloads, EAC3 5.1), in Sonarr and Jellyfin.
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
            root: None,
            tvdb_id: None,
            media: Some(Arc::new(FileMedia::episode_default())),
        }
    }
    /// The quality and media info of every episode file, as Sonarr serves them.
    pub fn media(mut self, media: FileMedia) -> Self {
        self.media = Some(Arc::new(media));
        self
    }
    /// Sonarr's records of its files have neither `quality` nor `mediaInfo`.
    pub fn no_media(mut self) -> Self {
        self.media = None;
        self
    }
    /// Its folder lies under `root` instead of `/tv` (a second Sonarr's root folder).
    pub fn root(mut self, root: &str) -> Self {
        self.root = Some(root.to_string());
        self
    }
    /// Its TVDB id, instead of one made from its id in the world (to have the same series in
    /// two worlds).
    pub fn tvdb(mut self, id: i32) -> Self {
        self.tvdb_id = Some(id);
        self
    }
    /// Jellyfin does not list it, nor its seasons and episodes.
    pub fn not_in_jellyfin(mut self) -> Self {
        self.in_jellyfin = false;
        self
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
