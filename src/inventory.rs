//! Fetch everything a pass needs from Jellyfin, Radarr and Sonarr, then join it into a
//! [`Library`].
//!
//! Fetching ([`collect`]) is a fixed, small number of list requests, run concurrently with a
//! bound: Jellyfin users; the *arrs' movies or series, tags and root folders (unless the health
//! gate has just read them); every episode that has an air date, across all series, with its
//! file, in one calendar request; the Series items (their TVDB ids) and the sessions; then per
//! counted user the played and the favourite items, in pages. A series someone touched that the
//! calendar did not cover whole (its season statistics count more episodes: specials or
//! announced episodes without an air date; or its files were not embedded, on the Sonarr v3
//! app) is fetched on its own, one or two requests.
//! Never one request per episode or per movie, and none per series when the calendar covers it.
//!
//! Every configured instance of each *arr is fetched alike, concurrently, and its lists keep its
//! name. Joining ([`Joiner`]) matches Jellyfin items to *arr entries of all instances: a movie by
//! its file's path first, then by TMDB and IMDB id, then by folder; an episode by its series'
//! TVDB id plus season and episode number, then by path; paths through `[[path_map]]`. Where
//! several instances hold the title, the item's folder tells which. Anything ambiguous or
//! unmatched that a counted user watched goes to [`Library::unmatched`] with the reason, and is
//! never guessed at. A service that is not configured contributes nothing, not even unmatched
//! items.

mod join;
mod paths;
mod qualities;
mod touches;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::clients::arr::{Arr, ArrClient};
use crate::clients::http::{ApiError, Malformed, Server};
use crate::clients::jellyfin::{self, ItemFilter};
use crate::clients::{radarr, sonarr, RootFolder, RootFolders, Sources, Tag};
use crate::library::{Doubt, Episode, Instance, Library, Season, Views};

pub use join::{library_episode, seasons_of, Joined, Joiner};
pub use paths::PathMap;
pub use qualities::QualityTable;
pub use touches::Touches;

/// What [`collect`] needs to know beyond the servers.
#[derive(Debug, Clone)]
pub struct InventoryOptions {
    /// The counted Jellyfin users, by name (case-insensitive). Each must exist.
    pub users: Vec<String>,
    /// `(jellyfin prefix, arr prefix)` pairs: how Jellyfin's paths appear to the *arrs.
    pub path_map: Vec<(String, String)>,
    /// How many requests may be in flight at once.
    pub concurrency: usize,
    /// When the pass runs: an episode that has aired by then and has no file is missing.
    pub now: Timestamp,
    /// Root folders already read this pass (by the health gate, a moment before): not asked
    /// for again. An instance without them is asked.
    pub root_folders: RootFolders,
}

impl Default for InventoryOptions {
    fn default() -> Self {
        InventoryOptions {
            users: Vec::new(),
            path_map: Vec::new(),
            concurrency: 4,
            // Nothing has aired by then: a caller that counts what is missing says when it is.
            now: Timestamp::UNIX_EPOCH,
            root_folders: RootFolders::default(),
        }
    }
}

/// One *arr root folder and whether the *arr can reach it. An inaccessible root folder means
/// its storage is missing: nothing should be deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootFolderState {
    pub server: Server,
    pub path: String,
    pub accessible: bool,
}

/// The result of a pass's fetching and joining.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    pub library: Library,
    pub root_folders: Vec<RootFolderState>,
    /// Every Jellyfin user, counted or not: Seerr's requesters are found among them.
    pub users: Vec<jellyfin::User>,
    /// What the *arrs want and have not got, as far as the lists fetched show it.
    pub missing: Missing,
}

/// Files the *arrs will download again, counted from the lists a pass fetches anyway: monitored
/// movies without a file, and monitored episodes of monitored series that have aired and have no
/// file (as Sonarr's calendar lists them: episodes without an air date are not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Missing {
    pub movies: u64,
    pub episodes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// A configured user does not exist in Jellyfin: fix `[jellyfin] users`.
    #[error("Jellyfin has no user named {}; its users are: {}", quoted(.missing), quoted(.existing))]
    UnknownUsers {
        missing: Vec<String>,
        existing: Vec<String>,
    },
    /// A server's answer could not be read well enough to set anything aside safely.
    #[error("{0}; nothing was planned")]
    Unreadable(String),
    #[error(transparent)]
    Api(#[from] ApiError),
}

fn quoted(names: &[String]) -> String {
    if names.is_empty() {
        return "(none)".into();
    }
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one Radarr instance listed.
#[derive(Debug, Clone, Default)]
pub struct RadarrData {
    /// The instance's name.
    pub instance: Instance,
    pub movies: Vec<radarr::Movie>,
    pub tags: Vec<Tag>,
    pub root_folders: Vec<RootFolder>,
}

/// What one Sonarr instance listed.
#[derive(Debug, Clone, Default)]
pub struct SonarrData {
    pub instance: Instance,
    pub series: Vec<sonarr::Series>,
    pub tags: Vec<Tag>,
    pub root_folders: Vec<RootFolder>,
}

/// The lists one pass fetches besides the counted users' items, which are matched as they
/// arrive and never held whole: what a [`Joiner`] is built on.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    /// The counted users as Jellyfin spells them, in the order of the configuration.
    pub users: Vec<String>,
    /// Every Series item (for the series' provider ids).
    pub series_items: Vec<jellyfin::Item>,
    pub sessions: Vec<jellyfin::Session>,
    /// One per configured Radarr instance, in the order of the config.
    pub radarr: Vec<RadarrData>,
    pub sonarr: Vec<SonarrData>,
}

/// The Jellyfin users named in `wanted` (case-insensitive), in that order; an error naming every
/// missing name and the existing users otherwise.
pub fn resolve_users(
    wanted: &[String],
    existing: &[jellyfin::User],
) -> Result<Vec<jellyfin::User>, InventoryError> {
    let mut found = Vec::with_capacity(wanted.len());
    let mut missing = Vec::new();
    for name in wanted {
        match existing
            .iter()
            .find(|u| u.name.eq_ignore_ascii_case(name.trim()))
        {
            Some(u) => found.push(u.clone()),
            None => missing.push(name.clone()),
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(InventoryError::UnknownUsers {
            missing,
            existing: existing.iter().map(|u| u.name.clone()).collect(),
        })
    }
}

/// Fetch from every configured server and join into an [`Inventory`], in three rounds:
///
/// 1. everything the Jellyfin items are matched against: the *arrs' lists, every aired episode
///    (one calendar request), the Series items and the sessions;
/// 2. the counted users' played and favourite items, page by page, each page matched as it
///    arrives and then dropped, so that a pass holds the library but never the items;
/// 3. the episodes of the series someone touched that the calendar did not cover whole.
pub async fn collect(
    sources: &Sources,
    opts: &InventoryOptions,
) -> Result<Inventory, InventoryError> {
    let all_users = sources.jellyfin.users().await?;
    let counted = resolve_users(&opts.users, &all_users)?;
    let n = counted.len();
    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    // The qualities of every file, filled by every Sonarr's calendar as it streams in, then by
    // the series fetched on their own and the movies.
    let qualities = QualityTable::default();

    let mut tasks = Tasks::new(sem.clone());
    let jf = sources.jellyfin.clone();
    tasks.spawn(async move {
        let (items, listing) = jf.items(None, &["Series"], ItemFilter::All).await?;
        if let Some(why) = &listing.inconsistent {
            // A series missed here only leaves its episodes unmatched, and so kept.
            tracing::warn!("Jellyfin's list of series changed while it was read: {why}");
        }
        Ok(Got::SeriesItems(items))
    });
    let jf = sources.jellyfin.clone();
    tasks.spawn(async move { Ok(Got::Sessions(jf.sessions().await?)) });
    for (k, r) in sources.radarr.iter().enumerate() {
        let c = r.clone();
        let qualities = qualities.clone();
        tasks.spawn(async move {
            let movies = c.movies_with(|mut m| {
                if let Some(f) = &mut m.movie_file {
                    let (quality, media) = (f.quality.take(), f.media_info.take());
                    f.interned = Some(qualities.intern(quality.map(|q| *q), media.map(|m| *m)));
                }
                m
            });
            Ok(Got::Movies(k, movies.await?))
        });
        let c = r.clone();
        tasks.spawn(async move { Ok(Got::RadarrTags(k, c.tags().await?)) });
        let c = r.clone();
        let known = opts.root_folders.radarr.get(k).cloned().flatten();
        tasks.spawn(async move { Ok(Got::RadarrRoots(k, root_folders(known, &c).await?)) });
    }
    let now = opts.now;
    for (k, s) in sources.sonarr.iter().enumerate() {
        let c = s.clone();
        tasks.spawn(async move { Ok(Got::Series(k, c.series().await?)) });
        let c = s.clone();
        tasks.spawn(async move { Ok(Got::SonarrTags(k, c.tags().await?)) });
        let c = s.clone();
        let known = opts.root_folders.sonarr.get(k).cloned().flatten();
        tasks.spawn(async move { Ok(Got::SonarrRoots(k, root_folders(known, &c).await?)) });
        let c = s.clone();
        let qualities = qualities.clone();
        tasks.spawn(async move {
            // Converted as they stream in: the library form is what the pass holds.
            let (mut without_files, mut missing) = (HashSet::new(), HashMap::new());
            let aired = c
                .aired_episodes(|e| {
                    if sonarr::needs_file(&e) {
                        without_files.insert(e.series_id);
                    }
                    if sonarr::wants_file(&e, now) {
                        *missing.entry(e.series_id).or_insert(0u64) += 1;
                    }
                    Some(library_episode(e, n, &qualities).1)
                })
                .await?;
            Ok(Got::Aired(Calendar {
                instance: k,
                groups: aired.groups,
                without_files,
                missing,
                malformed: aired.malformed,
            }))
        });
    }
    let instance = |server: Server| -> Instance { server.name.into() };
    let mut lists = Fetched {
        users: counted.iter().map(|u| u.name.clone()).collect(),
        radarr: (sources.radarr.iter())
            .map(|c| RadarrData {
                instance: instance(c.server()),
                ..RadarrData::default()
            })
            .collect(),
        sonarr: (sources.sonarr.iter())
            .map(|c| SonarrData {
                instance: instance(c.server()),
                ..SonarrData::default()
            })
            .collect(),
        ..Fetched::default()
    };
    // By Sonarr instance: the calendar's seasons by series, and the series whose files it did
    // not embed.
    let mut aired: Vec<HashMap<i32, Vec<Season>>> = vec![HashMap::new(); sources.sonarr.len()];
    let mut without_files: Vec<HashSet<i32>> = vec![HashSet::new(); sources.sonarr.len()];
    let mut missing_episodes = vec![HashMap::new(); sources.sonarr.len()];
    let mut doubts = Vec::new();
    for got in tasks.finish().await? {
        match got {
            Got::Aired(c) => {
                let k = c.instance;
                if let (Some(into), Some(without), Some(missing)) = (
                    aired.get_mut(k),
                    without_files.get_mut(k),
                    missing_episodes.get_mut(k),
                ) {
                    (*into, *without, *missing) =
                        (by_series(c.groups, n), c.without_files, c.missing);
                }
                let name = lists.sonarr.get(k).map(|s| s.instance.clone());
                doubts.extend(series_doubts(
                    &c.malformed,
                    name.unwrap_or_default(),
                    None,
                    "the calendar",
                )?);
            }
            got => lists.store(got),
        }
    }

    let mut joiner = Joiner::new(n, opts, &lists.radarr, &lists.sonarr, &lists.sessions);
    joiner.learn_series(&lists.series_items);
    for (k, s) in lists.sonarr.iter().enumerate() {
        let (Some(aired), Some(without_files)) = (aired.get_mut(k), without_files.get(k)) else {
            continue;
        };
        for series in &s.series {
            // A series the calendar did not cover whole stays unloaded until someone touched it.
            let seasons = aired.remove(&series.id).unwrap_or_default();
            if covers(series, &seasons, without_files) {
                joiner.load(k, series.id, seasons);
            }
        }
    }
    drop(aired);

    let (pages, mut arriving) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = Tasks::new(sem.clone());
    for (i, user) in counted.iter().enumerate() {
        for (kinds, filter) in [
            (&["Movie", "Episode"][..], ItemFilter::Played),
            (
                &["Movie", "Episode", "Series", "Season"][..],
                ItemFilter::Favorite,
            ),
        ] {
            let (jf, id, pages) = (sources.jellyfin.clone(), user.id.clone(), pages.clone());
            let name = user.name.clone();
            tasks.spawn(async move {
                let listing = jf
                    .items_each(Some(&id), kinds, filter, |page| {
                        // The receiver lives until every fetch has ended.
                        let _ = pages.send((i, page));
                    })
                    .await?;
                Ok(Got::Listed(name, filter, listing))
            });
        }
    }
    drop(pages);
    while let Some((user, page)) = arriving.recv().await {
        for item in page {
            joiner.add_for(user, item);
        }
    }
    for got in tasks.finish().await? {
        if let Got::Listed(user, filter, listing) = got {
            doubts.extend(listing_doubt(&user, filter, &listing));
        }
    }

    if !sources.sonarr.is_empty() {
        let mut tasks = Tasks::new(sem);
        for (k, series_id) in joiner.waiting_series() {
            let Some(c) = sources.sonarr.get(k).cloned() else {
                continue;
            };
            tasks.spawn(
                async move { Ok(Got::Episodes(k, series_id, c.episodes(series_id).await?)) },
            );
        }
        for got in tasks.finish().await? {
            if let Got::Episodes(k, id, listed) = got {
                let name = lists.sonarr.get(k).map(|s| s.instance.clone());
                doubts.extend(series_doubts(
                    &listed.malformed,
                    name.unwrap_or_default(),
                    Some(id),
                    "its episode list",
                )?);
                joiner.load(k, id, seasons_of(listed.episodes, n, &qualities));
            }
        }
        joiner.unload_untouched();
    }
    let missing = Missing {
        movies: (lists.radarr.iter().flat_map(|r| &r.movies))
            .filter(|m| m.wants_file())
            .count() as u64,
        episodes: (lists.sonarr.iter().zip(&missing_episodes))
            .flat_map(|(s, missing)| {
                (s.series.iter().filter(|se| se.monitored)).filter_map(|se| missing.get(&se.id))
            })
            .sum(),
    };
    let joined = joiner.finish();
    let mut inventory = joined.build(lists.users, lists.radarr, lists.sonarr, qualities);
    inventory.missing = missing;
    inventory.library.doubts = doubts;
    inventory.users = all_users;
    Ok(inventory)
}

/// The root folders the health gate has just read (`known`), else `c`'s, read now.
async fn root_folders<A: Arr>(
    known: Option<Vec<RootFolder>>,
    c: &ArrClient<A>,
) -> Result<Vec<RootFolder>, ApiError> {
    match known {
        Some(roots) => Ok(roots),
        None => c.root_folders().await,
    }
}

/// What a counted user's listing that could not be read whole leaves in doubt. Favourites
/// protect: a favourites listing that changed while it was read, or that held an item that
/// could not be read, leaves everything in doubt (with `keep_favorites`). A played listing only
/// lets items go: what it missed is simply kept.
fn listing_doubt(user: &str, filter: ItemFilter, listing: &jellyfin::Listing) -> Option<Doubt> {
    let why = match (&listing.inconsistent, listing.unreadable) {
        (Some(why), _) => format!("it changed while it was read ({why})"),
        (None, 0) => return None,
        (None, n) => format!("{n} of its items could not be read"),
    };
    match filter {
        ItemFilter::Favorite => {
            tracing::warn!(
                user,
                "the favourites of {user} could not be read whole: {why}; nothing that a \
                 favourite could protect is deleted this pass"
            );
            Some(Doubt::Favorites {
                why: format!("the favourites of {user} could not be read whole: {why}"),
            })
        }
        ItemFilter::Played | ItemFilter::All => {
            tracing::warn!(
                user,
                "the played items of {user} could not be read whole: {why}; what was missed is kept"
            );
            None
        }
    }
}

/// The series that Sonarr `instance`'s episode records which could not be read belong to
/// (`series`, when the list was of one series; else the record's own `seriesId`): none of them
/// is deleted. A record that names no readable series cannot be set aside, and fails the pass.
fn series_doubts(
    malformed: &[Malformed],
    instance: Instance,
    series: Option<i32>,
    list: &str,
) -> Result<Vec<Doubt>, InventoryError> {
    let mut doubts = Vec::new();
    for m in malformed {
        let id = series.or_else(|| m.field("seriesId")?.parse().ok());
        let Some(sonarr_id) = id else {
            return Err(InventoryError::Unreadable(format!(
                "Sonarr {instance} sent an episode record in {list} that names no series ({}): {}",
                m.error,
                m.snippet()
            )));
        };
        tracing::warn!(
            arr = &*instance,
            series_id = sonarr_id,
            "Sonarr {instance} sent an episode record of series {sonarr_id} in {list} that \
             cannot be read; nothing of that series is deleted this pass: {}; record: {}",
            m.error,
            m.snippet()
        );
        if !doubts
            .iter()
            .any(|d| matches!(d, Doubt::Series { sonarr_id: s, .. } if *s == sonarr_id))
        {
            doubts.push(Doubt::Series {
                instance: instance.clone(),
                sonarr_id,
                why: format!(
                    "Sonarr sent an episode record of it that cannot be read ({})",
                    m.error
                ),
            });
        }
    }
    Ok(doubts)
}

/// How many episodes Sonarr's season statistics count for `series`; `None` when a season has
/// no statistics.
fn expected_episodes(series: &sonarr::Series) -> Option<usize> {
    series
        .seasons
        .iter()
        .map(|season| {
            let stats = season.statistics.as_ref()?;
            usize::try_from(stats.total_episode_count).ok()
        })
        .sum()
}

/// True when the calendar's `seasons` of `series` hold all of its episodes: as many as its
/// season statistics count, every file embedded (none of the series is `without_files`).
/// Otherwise the series must be fetched on its own.
pub fn covers(series: &sonarr::Series, seasons: &[Season], without_files: &HashSet<i32>) -> bool {
    let count = seasons.iter().map(|s| s.episodes.len()).sum();
    expected_episodes(series) == Some(count) && !without_files.contains(&series.id)
}

/// The calendar's episodes by series and season number, as seasons by series.
fn by_series(aired: HashMap<(i32, i32), Vec<Episode>>, users: usize) -> HashMap<i32, Vec<Season>> {
    let mut by_series: HashMap<i32, Vec<Season>> = HashMap::new();
    for ((series, number), episodes) in aired {
        by_series.entry(series).or_default().push(Season {
            number,
            views: Views::untouched(users),
            jellyfin_id: None,
            episodes,
        });
    }
    by_series
}

/// One finished fetch; the `usize` is the index of the *arr instance it came from.
enum Got {
    /// A counted user's listing was read (its items went to the joiner as they came).
    Listed(String, ItemFilter, jellyfin::Listing),
    SeriesItems(Vec<jellyfin::Item>),
    Sessions(Vec<jellyfin::Session>),
    Movies(usize, Vec<radarr::Movie>),
    RadarrTags(usize, Vec<Tag>),
    RadarrRoots(usize, Vec<RootFolder>),
    Series(usize, Vec<sonarr::Series>),
    SonarrTags(usize, Vec<Tag>),
    SonarrRoots(usize, Vec<RootFolder>),
    Episodes(usize, i32, sonarr::SeriesEpisodes),
    Aired(Calendar),
}

/// What one Sonarr instance's calendar gave.
struct Calendar {
    instance: usize,
    /// Its episodes by series and season.
    groups: HashMap<(i32, i32), Vec<Episode>>,
    /// The series with files it did not embed.
    without_files: HashSet<i32>,
    /// Aired, monitored episodes without a file, by series.
    missing: HashMap<i32, u64>,
    /// The records that could not be read.
    malformed: Vec<Malformed>,
}

impl Fetched {
    fn store(&mut self, got: Got) {
        match got {
            Got::Listed(..) => {}
            Got::SeriesItems(items) => self.series_items = items,
            Got::Sessions(s) => self.sessions = s,
            Got::Movies(k, m) => {
                if let Some(r) = self.radarr.get_mut(k) {
                    r.movies = m;
                }
            }
            Got::RadarrTags(k, t) => {
                if let Some(r) = self.radarr.get_mut(k) {
                    r.tags = t;
                }
            }
            Got::RadarrRoots(k, roots) => {
                if let Some(r) = self.radarr.get_mut(k) {
                    r.root_folders = roots;
                }
            }
            Got::Series(k, series) => {
                if let Some(s) = self.sonarr.get_mut(k) {
                    s.series = series;
                }
            }
            Got::SonarrTags(k, t) => {
                if let Some(s) = self.sonarr.get_mut(k) {
                    s.tags = t;
                }
            }
            Got::SonarrRoots(k, roots) => {
                if let Some(s) = self.sonarr.get_mut(k) {
                    s.root_folders = roots;
                }
            }
            // Kept apart by `collect`: the episodes go to the joiner.
            Got::Episodes(..) | Got::Aired(..) => {}
        }
    }
}

/// Fetches running concurrently, at most as many in flight as the semaphore allows.
struct Tasks {
    set: JoinSet<Result<Got, ApiError>>,
    sem: Arc<Semaphore>,
}

impl Tasks {
    fn new(sem: Arc<Semaphore>) -> Self {
        Tasks {
            set: JoinSet::new(),
            sem,
        }
    }

    fn spawn(&mut self, fetch: impl Future<Output = Result<Got, ApiError>> + Send + 'static) {
        let sem = self.sem.clone();
        self.set.spawn(async move {
            // The semaphore is never closed, so acquiring only waits.
            let _permit = sem.acquire_owned().await;
            fetch.await
        });
    }

    /// Every result, or the first error (the other fetches are then cancelled).
    async fn finish(mut self) -> Result<Vec<Got>, ApiError> {
        let mut out = Vec::with_capacity(self.set.len());
        while let Some(joined) = self.set.join_next().await {
            match joined {
                Ok(result) => out.push(result?),
                // A fetch only ends abnormally by panicking; carry the panic on.
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
