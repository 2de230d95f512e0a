//! `shelflife drift`: the places where Jellyfin, Radarr and Sonarr disagree. Each leads either
//! to a download again (an *arr wants a file it has not got) or to an item a pass must keep
//! because it cannot tie it to one *arr entry.
//!
//! One fixed handful of list requests, like a pass but without the users: every Jellyfin movie
//! and episode (no user: the API key sees every library) and every Series item; each Radarr's
//! movies; each Sonarr's series and its calendar (every episode with an air date, with its file).
//! They are matched by the pass's own [`Joiner`], so what `drift` calls unmatched is what a
//! pass would. Sonarr's calendar leaves out episodes without an air date (most specials): of a
//! series it does not cover whole, a Jellyfin episode that is not in it is counted as not
//! checked rather than as unknown, and such episodes' files are not checked either.
//!
//! The counting is pure ([`Drift::wanted_files`], [`Drift::not_shared`]); [`collect`] does the
//! fetching.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;

use crate::clients::http::ApiError;
use crate::clients::jellyfin::{Item, ItemFilter, ItemKind};
use crate::clients::{radarr, sonarr, Sources};
use crate::inventory::{
    covers, library_episode, Inventory, InventoryOptions, Joiner, QualityTable, RadarrData,
    SonarrData,
};
use crate::library::{Library, Season, UserView, Views};

/// A kind of disagreement, in the order the report lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A monitored Radarr movie without a file: Radarr will download it again.
    RadarrMissingFile,
    /// A monitored episode of a monitored Sonarr series that has aired and has no file.
    SonarrMissingFile,
    /// A Jellyfin movie or episode that no *arr entry matches.
    JellyfinUnmatched,
    /// An *arr file that Jellyfin does not show (not scanned yet, or outside its libraries).
    NotInJellyfin,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::RadarrMissingFile,
        Kind::SonarrMissingFile,
        Kind::JellyfinUnmatched,
        Kind::NotInJellyfin,
    ];

    /// The label of the `shelflife_drift_items` gauge and the JSON's `kind`.
    pub fn code(self) -> &'static str {
        match self {
            Kind::RadarrMissingFile => "radarr_missing_file",
            Kind::SonarrMissingFile => "sonarr_missing_file",
            Kind::JellyfinUnmatched => "jellyfin_unmatched",
            Kind::NotInJellyfin => "not_in_jellyfin",
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Kind::RadarrMissingFile => "Radarr movies monitored without a file (Radarr will download them again)",
            Kind::SonarrMissingFile => "Sonarr episodes monitored, aired, without a file (Sonarr will download them again)",
            Kind::JellyfinUnmatched => "Jellyfin items no Radarr or Sonarr entry matches (a pass keeps them)",
            Kind::NotInJellyfin => "Radarr and Sonarr files Jellyfin does not show (not scanned, or outside its libraries)",
        }
    }
}

/// One disagreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub kind: Kind,
    /// The *arr instance, for what an *arr holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Why it matched nothing, for a Jellyfin item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// Everything `drift` found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Drift {
    pub entries: Vec<Entry>,
    /// What could not be checked, and why.
    pub unchecked: Vec<String>,
}

/// A Sonarr episode that should have a file, as the calendar listed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub instance: usize,
    pub series_id: i32,
    pub season: i32,
    pub episode: i32,
}

impl Drift {
    /// The report of `entries`, in the order it lists them: by kind, then by title.
    pub fn new(mut entries: Vec<Entry>, unchecked: Vec<String>) -> Drift {
        entries.sort_by(|a, b| (a.kind, &a.title).cmp(&(b.kind, &b.title)));
        Drift { entries, unchecked }
    }

    /// What the *arrs want and have not got: from their lists, and the Sonarr episodes that want
    /// a file (whose series must be monitored too).
    pub fn wanted_files(
        radarr: &[RadarrData],
        sonarr: &[SonarrData],
        wanted: &[Wanted],
    ) -> Vec<Entry> {
        let mut entries = Vec::new();
        for r in radarr {
            for m in r.movies.iter().filter(|m| m.wants_file()) {
                entries.push(Entry {
                    kind: Kind::RadarrMissingFile,
                    instance: Some(r.instance.to_string()),
                    title: movie_title(m),
                    path: m.path.clone(),
                    why: None,
                });
            }
        }
        let series: HashMap<(usize, i32), &sonarr::Series> = (sonarr.iter().enumerate())
            .flat_map(|(k, s)| s.series.iter().map(move |se| ((k, se.id), se)))
            .collect();
        for w in wanted {
            let Some(se) = series
                .get(&(w.instance, w.series_id))
                .filter(|se| se.monitored)
            else {
                continue;
            };
            entries.push(Entry {
                kind: Kind::SonarrMissingFile,
                instance: sonarr.get(w.instance).map(|s| s.instance.to_string()),
                title: format!(
                    "{} S{:02}E{:02}",
                    se.title.as_deref().unwrap_or("(untitled)"),
                    w.season,
                    w.episode
                ),
                path: se.path.clone(),
                why: None,
            });
        }
        entries
    }

    /// What Jellyfin and the *arrs do not share, in a library joined from every Jellyfin movie
    /// and episode (its `unmatched` the items that matched nothing).
    pub fn not_shared(library: &Library) -> Vec<Entry> {
        let mut entries = Vec::new();
        for u in &library.unmatched {
            entries.push(Entry {
                kind: Kind::JellyfinUnmatched,
                instance: None,
                title: u.title.clone(),
                path: u.path.clone(),
                why: Some(u.why.clone()),
            });
        }
        for m in &library.movies {
            if let (Some(file), None) = (&m.file, m.jellyfin_id) {
                entries.push(Entry {
                    kind: Kind::NotInJellyfin,
                    instance: Some(m.instance.to_string()),
                    title: m.titled(),
                    path: Some(file.path.to_string()),
                    why: None,
                });
            }
        }
        for s in &library.series {
            let episodes = || {
                s.seasons
                    .iter()
                    .flat_map(|x| x.episodes.iter().map(move |e| (x, e)))
            };
            // A file several episodes share is in Jellyfin when any of them is.
            let shown: HashSet<i32> = episodes()
                .filter(|(_, e)| e.jellyfin_id.is_some())
                .filter_map(|(_, e)| Some(e.file.as_ref()?.id))
                .collect();
            let mut reported = HashSet::new();
            for (season, e) in episodes() {
                let Some(file) = &e.file else { continue };
                if !shown.contains(&file.id) && reported.insert(file.id) {
                    entries.push(Entry {
                        kind: Kind::NotInJellyfin,
                        instance: Some(s.instance.to_string()),
                        title: format!("{} S{:02}E{:02}", s.title, season.number, e.number),
                        path: Some(file.path.to_string()),
                        why: None,
                    });
                }
            }
        }
        entries
    }

    /// How many disagreements of `kind` there are.
    pub fn count(&self, kind: Kind) -> usize {
        self.entries.iter().filter(|e| e.kind == kind).count()
    }

    /// The report for people: each kind with its count, then its items.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for kind in Kind::ALL {
            let n = self.count(kind);
            let _ = writeln!(out, "{} — {n}", kind.heading());
            for e in self.entries.iter().filter(|e| e.kind == kind) {
                let _ = write!(out, "  {}", e.title);
                if let Some(i) = &e.instance {
                    let _ = write!(out, " [{i}]");
                }
                if let Some(p) = &e.path {
                    let _ = write!(out, " · {p}");
                }
                if let Some(w) = &e.why {
                    let _ = write!(out, " · {w}");
                }
                out.push('\n');
            }
        }
        for note in &self.unchecked {
            let _ = writeln!(out, "not checked: {note}");
        }
        if self.entries.is_empty() {
            out.push_str("Jellyfin, Radarr and Sonarr agree.\n");
        }
        out
    }

    /// The report as JSON: counts by kind, the entries, what was not checked.
    pub fn json(&self) -> serde_json::Value {
        let counts: serde_json::Map<String, serde_json::Value> = Kind::ALL
            .iter()
            .map(|&k| (k.code().to_owned(), self.count(k).into()))
            .collect();
        serde_json::json!({
            "counts": counts,
            "entries": self.entries,
            "unchecked": self.unchecked,
        })
    }
}

/// The disagreements a pass counts from what it fetched anyway, for the `shelflife_drift_items`
/// gauge: what the *arrs will download again, and the counted users' played and favourite items
/// that match nothing. What Jellyfin does not show needs every Jellyfin item, which only `drift`
/// reads.
pub fn of_pass(inventory: &Inventory) -> Vec<(Kind, u64)> {
    vec![
        (Kind::RadarrMissingFile, inventory.missing.movies),
        (Kind::SonarrMissingFile, inventory.missing.episodes),
        (
            Kind::JellyfinUnmatched,
            inventory.library.unmatched.len() as u64,
        ),
    ]
}

fn movie_title(m: &radarr::Movie) -> String {
    crate::library::movie_title(m.title.as_deref().unwrap_or("(untitled)"), m.year)
}

/// Reads every server once and reports where they disagree. `path_map` is the config's
/// `(jellyfin prefix, arr prefix)` pairs. Any server that cannot be read fails the report.
pub async fn collect(
    sources: &Sources,
    path_map: &[(String, String)],
    now: Timestamp,
) -> Result<Drift, ApiError> {
    let jf = &sources.jellyfin;
    let items = jf.items(None, &["Movie", "Episode"], ItemFilter::All);
    let series_items = jf.items(None, &["Series"], ItemFilter::All);
    let radarr = in_turn(sources.radarr.iter().map(|c| async move {
        Ok::<_, ApiError>(RadarrData {
            instance: c.server().name.into(),
            movies: c.movies().await?,
            ..RadarrData::default()
        })
    }));
    // Drift reads no quality, but the library it builds holds its files' like a pass's.
    let qualities = QualityTable::default();
    let table = &qualities;
    let sonarr = in_turn(sources.sonarr.iter().enumerate().map(|(k, c)| async move {
        let (series, aired) = tokio::join!(c.series(), async {
            let mut wanted = Vec::new();
            let aired = c
                .aired_episodes(|e| {
                    if sonarr::wants_file(&e, now) {
                        wanted.push(Wanted {
                            instance: k,
                            series_id: e.series_id,
                            season: e.season_number,
                            episode: e.episode_number,
                        });
                    }
                    Some(library_episode(e, 1, table).1)
                })
                .await?;
            Ok::<_, ApiError>((aired, wanted))
        });
        let (aired, wanted) = aired?;
        let data = SonarrData {
            instance: c.server().name.into(),
            series: series?,
            ..SonarrData::default()
        };
        Ok::<_, ApiError>((data, aired, wanted))
    }));
    let (items, series_items, radarr, sonarr) = tokio::join!(items, series_items, radarr, sonarr);
    let ((items, items_listing), (series_items, _)) = (items?, series_items?);
    let radarr: Vec<RadarrData> = radarr.into_iter().collect::<Result<_, _>>()?;
    let mut lists = Vec::new();
    let mut wanted = Vec::new();
    let mut calendars = Vec::new();
    for got in sonarr {
        let (data, aired, w) = got?;
        lists.push(data);
        wanted.extend(w);
        calendars.push(aired);
    }
    let mut unchecked = Vec::new();
    if let Some(why) = &items_listing.inconsistent {
        unchecked.push(format!(
            "Jellyfin's list of movies and episodes changed while it was read ({why}): some may be missing"
        ));
    }
    for aired in &calendars {
        if !aired.malformed.is_empty() {
            unchecked.push(format!(
                "{} of Sonarr's calendar records could not be read",
                aired.malformed.len()
            ));
        }
    }

    let opts = InventoryOptions {
        users: vec![String::new()],
        path_map: path_map.to_vec(),
        ..InventoryOptions::default()
    };
    let sessions = Vec::new();
    let mut joiner = Joiner::new(1, &opts, &radarr, &lists, &sessions);
    joiner.learn_series(&series_items);
    // The calendar's episodes of the series it does not cover whole, by TVDB id: a Jellyfin
    // episode of such a series that the calendar lacks is not checked.
    let mut partial: HashMap<i32, HashSet<(i32, i32)>> = HashMap::new();
    for (k, aired) in calendars.into_iter().enumerate() {
        let mut by_series: HashMap<i32, Vec<Season>> = HashMap::new();
        for ((series, number), episodes) in aired.groups {
            by_series.entry(series).or_default().push(Season {
                number,
                views: Views::untouched(1),
                jellyfin_id: None,
                episodes,
            });
        }
        let Some(list) = lists.get(k) else { continue };
        for series in &list.series {
            let seasons = by_series.remove(&series.id).unwrap_or_default();
            if !covers(series, &seasons, &HashSet::new()) {
                if let Some(tvdb) = series.tvdb_id {
                    let known = partial.entry(tvdb).or_default();
                    for s in &seasons {
                        known.extend(s.episodes.iter().map(|e| (s.number, e.number)));
                    }
                }
            }
            joiner.load(k, series.id, seasons);
        }
    }
    let tvdb_of: HashMap<&str, i32> = (series_items.iter())
        .filter(|i| i.is_kind(ItemKind::Series))
        .filter_map(|i| Some((&*i.id, i.provider_id("Tvdb")?.trim().parse().ok()?)))
        .collect();
    // Every item counts as seen, so that what matches nothing is reported, as a pass reports
    // what a counted user watched.
    let seen = Views::from(vec![UserView::new(true, None, false)]);
    let mut skipped = 0usize;
    for item in items {
        if outside_calendar(&item, &tvdb_of, &partial) {
            skipped += 1;
            continue;
        }
        joiner.add(item, &seen);
    }
    if skipped > 0 {
        unchecked.push(format!(
            "{skipped} Jellyfin episodes of series whose episodes without an air date Sonarr's \
             calendar leaves out"
        ));
    }
    let mut entries = Drift::wanted_files(&radarr, &lists, &wanted);
    let joined = joiner.finish();
    // The lists go into the library whole: the *arrs' entries were read from them first.
    let inventory = joined.build(opts.users, radarr, lists, qualities);
    entries.extend(Drift::not_shared(&inventory.library));
    Ok(Drift::new(entries, unchecked))
}

/// True for a Jellyfin episode of a series the calendar does not cover whole, when the calendar
/// does not list that episode: it may well be in Sonarr.
fn outside_calendar(
    item: &Item,
    tvdb_of: &HashMap<&str, i32>,
    partial: &HashMap<i32, HashSet<(i32, i32)>>,
) -> bool {
    if !item.is_kind(ItemKind::Episode) {
        return false;
    }
    let Some(known) = (item.series_id.as_deref())
        .and_then(|id| tvdb_of.get(id))
        .and_then(|tvdb| partial.get(tvdb))
    else {
        return false;
    };
    match (item.parent_index_number, item.index_number) {
        (Some(season), Some(episode)) => !known.contains(&(season, episode)),
        _ => true,
    }
}

/// The outputs of `futures`, awaited one after another: one per configured instance of an
/// *arr, which are few, and each is a list request the server builds whole anyway.
async fn in_turn<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut out = Vec::new();
    for f in futures {
        out.push(f.await);
    }
    out
}
