//! Fetch everything a pass needs from Jellyfin, Radarr and Sonarr, then join it into a
//! [`Library`].
//!
//! Fetching ([`collect`]) is a fixed, small number of list requests, run concurrently with a
//! bound: Jellyfin users; the *arrs' movies or series, tags and root folders; every episode that
//! has an air date, across all series, with its file, in one calendar request; the Series items
//! (their TVDB ids) and the sessions; then per counted user the played and the favourite items,
//! in pages. A series someone touched that the calendar did not cover whole (its season
//! statistics count more episodes: specials or announced episodes without an air date; or its
//! files were not embedded, on the Sonarr v3 app) is fetched on its own, one or two requests.
//! Never one request per episode or per movie, and none per series when the calendar covers it.
//!
//! Joining ([`Joiner`]) matches Jellyfin items to *arr
//! entries by provider ids first (TMDB, then IMDB for movies; the series' TVDB id plus season and
//! episode number for TV), then by path through `[[path_map]]`. Anything ambiguous or unmatched
//! that a counted user watched goes to [`Library::unmatched`] with the reason, and is never
//! guessed at. A service that is not configured contributes nothing, not even unmatched items.

mod join;
mod paths;
mod touches;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::clients::http::{ApiError, Malformed, Service};
use crate::clients::jellyfin::{self, ItemFilter};
use crate::clients::{radarr, sonarr, RootFolder, Sources, Tag};
use crate::library::{Doubt, Episode, Library, Season, Views};

pub use join::{library_episode, seasons_of, Joined, Joiner};
pub use paths::PathMap;
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
}

impl Default for InventoryOptions {
    fn default() -> Self {
        InventoryOptions {
            users: Vec::new(),
            path_map: Vec::new(),
            concurrency: 4,
        }
    }
}

/// One *arr root folder and whether the *arr can reach it. An inaccessible root folder means
/// its storage is missing: nothing should be deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootFolderState {
    pub service: Service,
    pub path: String,
    pub accessible: bool,
}

/// The result of a pass's fetching and joining.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    pub library: Library,
    pub root_folders: Vec<RootFolderState>,
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

#[derive(Debug, Clone, Default)]
pub struct RadarrData {
    pub movies: Vec<radarr::Movie>,
    pub tags: Vec<Tag>,
    pub root_folders: Vec<RootFolder>,
}

#[derive(Debug, Clone, Default)]
pub struct SonarrData {
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
    pub radarr: Option<RadarrData>,
    pub sonarr: Option<SonarrData>,
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
    if let Some(r) = &sources.radarr {
        let c = r.clone();
        tasks.spawn(async move { Ok(Got::Movies(c.movies().await?)) });
        let c = r.clone();
        tasks.spawn(async move { Ok(Got::RadarrTags(c.tags().await?)) });
        let c = r.clone();
        tasks.spawn(async move { Ok(Got::RadarrRoots(c.root_folders().await?)) });
    }
    if let Some(s) = &sources.sonarr {
        let c = s.clone();
        tasks.spawn(async move { Ok(Got::Series(c.series().await?)) });
        let c = s.clone();
        tasks.spawn(async move { Ok(Got::SonarrTags(c.tags().await?)) });
        let c = s.clone();
        tasks.spawn(async move { Ok(Got::SonarrRoots(c.root_folders().await?)) });
        let c = s.clone();
        tasks.spawn(async move {
            // Converted as they stream in: the library form is what the pass holds.
            let mut without_files = HashSet::new();
            let aired = c
                .aired_episodes(|e| {
                    if sonarr::needs_file(&e) {
                        without_files.insert(e.series_id);
                    }
                    Some(library_episode(e, n).1)
                })
                .await?;
            Ok(Got::Aired(aired.groups, without_files, aired.malformed))
        });
    }
    let mut lists = Fetched {
        users: counted.iter().map(|u| u.name.clone()).collect(),
        radarr: sources.radarr.as_ref().map(|_| RadarrData::default()),
        sonarr: sources.sonarr.as_ref().map(|_| SonarrData::default()),
        ..Fetched::default()
    };
    let (mut aired, mut without_files) = (HashMap::new(), HashSet::new());
    let mut doubts = Vec::new();
    for got in tasks.finish().await? {
        match got {
            Got::Aired(a, w, malformed) => {
                (aired, without_files) = (by_series(a, n), w);
                doubts.extend(series_doubts(&malformed, None, "the calendar")?);
            }
            got => lists.store(got),
        }
    }

    let mut joiner = Joiner::new(
        n,
        opts,
        lists.radarr.as_ref(),
        lists.sonarr.as_ref(),
        &lists.sessions,
    );
    joiner.learn_series(&lists.series_items);
    if let Some(s) = &lists.sonarr {
        for series in &s.series {
            // A series the calendar did not cover whole stays unloaded until someone touched it.
            let seasons = aired.remove(&series.id).unwrap_or_default();
            if covers(series, &seasons, &without_files) {
                joiner.load(series.id, seasons);
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

    if let Some(s) = &sources.sonarr {
        let mut tasks = Tasks::new(sem);
        for series_id in joiner.waiting_series() {
            let c = s.clone();
            tasks.spawn(async move { Ok(Got::Episodes(series_id, c.episodes(series_id).await?)) });
        }
        for got in tasks.finish().await? {
            if let Got::Episodes(id, listed) = got {
                doubts.extend(series_doubts(
                    &listed.malformed,
                    Some(id),
                    "its episode list",
                )?);
                joiner.load(id, seasons_of(listed.episodes, n));
            }
        }
        joiner.unload_untouched();
    }
    let joined = joiner.finish();
    let mut inventory = joined.build(lists.users, lists.radarr, lists.sonarr);
    inventory.library.doubts = doubts;
    Ok(inventory)
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

/// The series that Sonarr episode records which could not be read belong to (`series`, when
/// the list was of one series; else the record's own `seriesId`): none of them is deleted.
/// A record that names no readable series cannot be set aside, and fails the pass.
fn series_doubts(
    malformed: &[Malformed],
    series: Option<i32>,
    list: &str,
) -> Result<Vec<Doubt>, InventoryError> {
    let mut doubts = Vec::new();
    for m in malformed {
        let id = series.or_else(|| m.field("seriesId")?.parse().ok());
        let Some(sonarr_id) = id else {
            return Err(InventoryError::Unreadable(format!(
                "Sonarr sent an episode record in {list} that names no series ({}): {}",
                m.error,
                m.snippet()
            )));
        };
        tracing::warn!(
            series_id = sonarr_id,
            "Sonarr sent an episode record of series {sonarr_id} in {list} that cannot be \
             read; nothing of that series is deleted this pass: {}; record: {}",
            m.error,
            m.snippet()
        );
        if !doubts
            .iter()
            .any(|d| matches!(d, Doubt::Series { sonarr_id: s, .. } if *s == sonarr_id))
        {
            doubts.push(Doubt::Series {
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
            episodes,
        });
    }
    by_series
}

/// One finished fetch.
enum Got {
    /// A counted user's listing was read (its items went to the joiner as they came).
    Listed(String, ItemFilter, jellyfin::Listing),
    SeriesItems(Vec<jellyfin::Item>),
    Sessions(Vec<jellyfin::Session>),
    Movies(Vec<radarr::Movie>),
    RadarrTags(Vec<Tag>),
    RadarrRoots(Vec<RootFolder>),
    Series(Vec<sonarr::Series>),
    SonarrTags(Vec<Tag>),
    SonarrRoots(Vec<RootFolder>),
    Episodes(i32, sonarr::SeriesEpisodes),
    /// The calendar's episodes by series and season, the series with files not embedded, and
    /// the records that could not be read.
    Aired(
        HashMap<(i32, i32), Vec<Episode>>,
        HashSet<i32>,
        Vec<Malformed>,
    ),
}

impl Fetched {
    fn store(&mut self, got: Got) {
        match got {
            Got::Listed(..) => {}
            Got::SeriesItems(items) => self.series_items = items,
            Got::Sessions(s) => self.sessions = s,
            Got::Movies(m) => self.radarr_mut().movies = m,
            Got::RadarrTags(t) => self.radarr_mut().tags = t,
            Got::RadarrRoots(r) => self.radarr_mut().root_folders = r,
            Got::Series(s) => self.sonarr_mut().series = s,
            Got::SonarrTags(t) => self.sonarr_mut().tags = t,
            Got::SonarrRoots(r) => self.sonarr_mut().root_folders = r,
            // Kept apart by `collect`: the episodes go to the joiner.
            Got::Episodes(..) | Got::Aired(..) => {}
        }
    }

    // Only reached for a configured service, whose data `fetch` created up front.
    fn radarr_mut(&mut self) -> &mut RadarrData {
        self.radarr.get_or_insert_with(RadarrData::default)
    }

    fn sonarr_mut(&mut self) -> &mut SonarrData {
        self.sonarr.get_or_insert_with(SonarrData::default)
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
