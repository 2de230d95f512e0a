//! The simulated media world: what Jellyfin, Radarr, Sonarr and Seerr know, and which files
//! exist.
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
//!
//! This module holds the model the four servers read and change; [`MovieSpec`] and
//! [`SeriesSpec`] (`spec`) say what to add, `build` turns them into items with ids, paths and
//! files, and `seeds` has the ready-made worlds (the demo's library, the benchmark's synthetic
//! one); `seerr` holds Seerr's own records and the builders of its requests.

mod build;
mod media;
mod seeds;
mod seerr;
mod spec;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;

pub use media::FileMedia;
pub use seeds::SyntheticSpec;
pub use seerr::{
    SeerrIds, SeerrMedia, SeerrMediaStatus, SeerrMediaType, SeerrRequest, SeerrRequestStatus,
    SeerrSeason, SeerrSeasonRequest, SeerrUser, SeerrWorld, SEERR_FIRST_MEDIA_ID, SEERR_OWNER,
};
pub use spec::{MovieSpec, SeriesSpec};

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
    /// Named in the config's `users` by [`SimStack::config_toml`](crate::SimStack::config_toml);
    /// a guest is not.
    pub counted: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MovieFile {
    pub id: i32,
    pub path: String,
    pub size: u64,
    /// Its quality and media info; `None` leaves both out of its record.
    pub media: Option<Arc<FileMedia>>,
}

#[derive(Debug, Clone, PartialEq)]
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

#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeFile {
    pub id: i32,
    pub season: i32,
    pub path: String,
    pub relative_path: String,
    pub size: u64,
    /// Its quality and media info; `None` leaves both out of its record. Shared by the files
    /// of a series.
    pub media: Option<Arc<FileMedia>>,
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

#[derive(Debug, Clone, PartialEq)]
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

/// A Jellyfin collection (a `BoxSet`), as `POST /Collections` makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    /// 32 lowercase hex digits, like every simulated Jellyfin id.
    pub id: String,
    pub name: String,
    /// The ids of its items, in the order they were added, each once. An item Jellyfin has
    /// forgotten stays here (as Jellyfin 10.11 keeps its `LinkedChild`) but is not listed.
    pub items: Vec<String>,
}

/// A Jellyfin playback session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub item_id: String,
}

/// Everything the four servers know.
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
    /// Jellyfin's collections, in the order they were created.
    pub collections: Vec<Collection>,
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
    /// Where the files are real ([`World::on_disk`]): each *arr path below this directory.
    pub disk: Option<PathBuf>,
    /// Seerr's users, media records and requests (its ids are its own).
    pub seerr: SeerrWorld,
    next_id: i32,
}

fn under(dir: &Path, path: &str) -> PathBuf {
    dir.join(path.trim_start_matches('/'))
}

/// `size` bytes of zeros at `path`, its folders made as needed.
fn write_file(path: &Path, size: u64) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::File::create(path)?;
    let block = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = usize::try_from(left.min(block.len() as u64)).unwrap_or(block.len());
        file.write_all(&block[..n])?;
        left -= n as u64;
    }
    file.sync_all()
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
            collections: Vec::new(),
            jellyfin_prefix: Vec::new(),
            files: BTreeSet::new(),
            left_on_disk: Vec::new(),
            import_exclusions: Vec::new(),
            refreshes: 0,
            disk: None,
            seerr: SeerrWorld::new(now),
            next_id: 1,
        }
    }

    fn id(&mut self) -> i32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Adds an empty collection called `name` and returns its id, drawn like the other ids.
    pub fn add_collection(&mut self, name: &str) -> String {
        let id = guid(self.id(), 0x05);
        self.collections.push(Collection {
            id: id.clone(),
            name: name.to_string(),
            items: Vec::new(),
        });
        id
    }

    /// The collection called exactly `name`, for assertions.
    pub fn find_collection(&self, name: &str) -> Option<&Collection> {
        self.collections.iter().find(|c| c.name == name)
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

    /// Makes every file real: each *arr path `p` becomes `dir/p`, written whole with its size
    /// (zeros, so a tmpfs counts every byte), and each delete removes it. For tests that watch a
    /// filesystem's free space go up.
    pub fn on_disk(&mut self, dir: &Path) -> std::io::Result<()> {
        let sizes: Vec<(String, u64)> = self
            .movies
            .iter()
            .filter_map(|m| m.file.as_ref().map(|f| (f.path.clone(), f.size)))
            .chain(
                self.series
                    .iter()
                    .flat_map(|s| s.files.iter().map(|f| (f.path.clone(), f.size))),
            )
            .filter(|(p, _)| self.files.contains(p))
            .collect();
        for (path, size) in sizes {
            write_file(&under(dir, &path), size)?;
        }
        self.disk = Some(dir.to_path_buf());
        Ok(())
    }

    /// Where the file at *arr path `path` is on disk, when the files are real.
    pub fn disk_path(&self, path: &str) -> Option<PathBuf> {
        self.disk.as_deref().map(|dir| under(dir, path))
    }

    /// Deletes the file at *arr path `path`: from the world, and from the disk when it is real.
    pub(crate) fn remove_file(&mut self, path: &str) {
        self.files.remove(path);
        if let Some(real) = self.disk_path(path) {
            // Already gone is gone; the world is what the tests assert on.
            let _ = std::fs::remove_file(real);
        }
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
