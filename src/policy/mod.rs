//! Pure retention rules: a [`Library`] snapshot, the [`Rules`] and a clock value in, a [`Plan`] out.
//!
//! Nothing here does I/O or reads the clock; the caller passes `now`. Every watched item gets one
//! [`Decision`] carrying its reason; items nobody watched are only counted.
//!
//! - `movies` decides Radarr movies one by one, the copies of one movie in several Radarrs
//!   together.
//! - `series` cuts each Sonarr series into seasons or files (by `series_mode`) and decides those.
//! - `space` keeps what a mount kept at a free-space target does not need to give up.
//!
//! The checks shared by both live here: whose plays count (`watched_by`), the grace period, keep
//! tags and favourites. Every check leans towards keeping: an unknown age, a missing file, a path
//! outside the *arr's root folders all keep the item.

mod movies;
mod series;
pub mod space;

use std::collections::HashMap;

use jiff::Timestamp;

use crate::library::{path_is_under, Doubt, Library, MediaFile, QualityId, UserView, Views};
use crate::plan::{Decision, LowSpace, Plan, Reason, Target, Unwatched, Verdict};
use crate::rules::{GraceTier, Rules, WatchedBy};

const DAY_NANOS: i128 = 86_400 * 1_000_000_000;

/// No mount's free space shortens any grace.
static NO_PRESSURE: SpacePressure = SpacePressure { mounts: Vec::new() };

/// Decide, for every watched item of `library`, whether it goes or stays, and why.
///
/// Deletions come first, then kept items; each group is ordered movies by title, then series by
/// title, season and episode.
pub fn plan(library: &Library, rules: &Rules, now: Timestamp) -> Plan {
    plan_under(library, rules, &SpacePressure::default(), now)
}

/// [`plan`], with the grace periods that the mounts' free space (`pressure`) shortens.
pub fn plan_under(
    library: &Library,
    rules: &Rules,
    pressure: &SpacePressure,
    now: Timestamp,
) -> Plan {
    let ctx = Ctx::new(library, rules, now).under(pressure);
    let mut out = Collector::default();
    movies::decide(&ctx, &library.movies, &mut out);
    series::decide(&ctx, &library.series, &mut out);
    out.keep_what_doubts_cover(&library.doubts, rules);
    let mut plan = out.into_plan(library.unmatched.clone());
    plan.low_space = pressure.notes(rules.grace_days);
    plan.qualities = library.qualities.clone();
    plan
}

/// How full the mounts with grace tiers or a free-space target are, measured before planning:
/// their tiers shorten the grace of the files under their root folders, and [`space::limit`]
/// keeps what a mount with a target does not need to give up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpacePressure {
    pub mounts: Vec<MountPressure>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MountPressure {
    /// The mount point, for people.
    pub mount: String,
    /// The *arr root folders (as the *arrs see them) whose files lie on it.
    pub root_folders: Vec<String>,
    /// Its free and total bytes; `None` when they could not be measured, and then no tier
    /// applies and nothing is deleted for space: a failed measurement is never taken for low
    /// space, nor for enough.
    pub free: Option<(u64, u64)>,
    pub tiers: Vec<GraceTier>,
    /// `space_mode = "when_low"`: the free bytes to keep, with its files deleted only below.
    pub target_bytes: Option<u64>,
}

impl MountPressure {
    /// Its free space in percent, when it was measured and has a size.
    pub fn free_percent(&self) -> Option<f64> {
        let (free, total) = self.free?;
        (total > 0).then(|| free as f64 * 100.0 / total as f64)
    }
}

impl SpacePressure {
    /// The mount whose root folders hold the file at *arr path `path`, by index.
    pub fn mount_of(&self, path: &str) -> Option<usize> {
        self.mounts
            .iter()
            .position(|m| m.root_folders.iter().any(|root| path_is_under(path, root)))
    }

    /// The grace for a file at *arr path `path`: `grace_days`, or the shorter one of the tier
    /// its mount is in now.
    fn grace_for(&self, path: &str, grace_days: u32) -> u32 {
        self.mount_of(path)
            .and_then(|m| {
                let mount = &self.mounts[m];
                GraceTier::grace_at(&mount.tiers, mount.free_percent()?)
            })
            .map_or(grace_days, |tier| tier.min(grace_days))
    }

    /// The mounts whose tier shortens the grace now.
    fn notes(&self, grace_days: u32) -> Vec<LowSpace> {
        self.mounts
            .iter()
            .filter_map(|m| {
                let free_percent = m.free_percent()?;
                let tier = GraceTier::grace_at(&m.tiers, free_percent)?;
                (tier < grace_days).then(|| LowSpace {
                    mount: m.mount.clone(),
                    free_percent,
                    grace_days: tier,
                })
            })
            .collect()
    }
}

/// What every check needs to know besides the item itself.
struct Ctx<'a> {
    users: &'a [String],
    rules: &'a Rules,
    now: Timestamp,
    /// `rules.keep_tags`, lowercased once.
    keep_tags: Vec<String>,
    library: &'a Library,
    pressure: &'a SpacePressure,
}

/// The watch state of an item at least one counted user has played (an unplayed item is `None`
/// wherever a `Played` is expected: it needs no decision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Played {
    /// `watched_by = "all"` and the user at this index has not played it.
    NotWatchedBy(usize),
    /// Someone who played it has no last-played date, so its age is unknown.
    Undated,
    /// Watched; the latest last play among those who played it.
    At(Timestamp),
}

/// Where the grace period stands for a watched item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Age {
    /// Past grace; whole days since the last play.
    Past { days_ago: u32 },
    /// Still within grace; days until it runs out, rounded up, at least 1.
    Within { days_left: u32 },
}

impl<'a> Ctx<'a> {
    fn new(library: &'a Library, rules: &'a Rules, now: Timestamp) -> Self {
        Ctx {
            users: &library.users,
            rules,
            now,
            keep_tags: rules.keep_tags.iter().map(|t| t.to_lowercase()).collect(),
            library,
            pressure: &NO_PRESSURE,
        }
    }

    /// The same, with the grace periods `pressure` shortens.
    fn under(self, pressure: &'a SpacePressure) -> Self {
        Ctx { pressure, ..self }
    }

    /// The root folders of the *arr instance `instance`.
    fn roots(&self, instance: &str) -> &'a [String] {
        self.library.roots_of(instance)
    }

    /// The view of the counted user at `i`. A view list shorter than the user list (an inventory
    /// slip) reads as untouched, which can only keep more.
    fn view(views: &Views, i: usize) -> UserView {
        views.get(i)
    }

    /// `None` when no counted user has played the item.
    fn watch(&self, views: &Views) -> Option<Played> {
        let n = self.users.len();
        if !(0..n).any(|i| Self::view(views, i).played()) {
            return None;
        }
        if self.rules.watched_by == WatchedBy::All {
            if let Some(i) = (0..n).find(|&i| !Self::view(views, i).played()) {
                return Some(Played::NotWatchedBy(i));
            }
        }
        let mut latest: Option<Timestamp> = None;
        for i in 0..n {
            let view = Self::view(views, i);
            if !view.played() {
                continue;
            }
            match view.last_played() {
                None => return Some(Played::Undated),
                Some(t) => latest = Some(latest.map_or(t, |l| l.max(t))),
            }
        }
        Some(latest.map_or(Played::Undated, Played::At))
    }

    /// How `watched_at` stands against a grace of `grace_days`.
    fn age(&self, watched_at: Timestamp, grace_days: u32) -> Age {
        let elapsed = self.now.as_nanosecond() - watched_at.as_nanosecond();
        let grace = i128::from(grace_days) * DAY_NANOS;
        if elapsed >= grace {
            Age::Past {
                days_ago: saturate(elapsed / DAY_NANOS),
            }
        } else {
            // `left` is positive here; round up so "0.2 days left" reads as 1 day.
            let left = grace - elapsed;
            Age::Within {
                days_left: saturate((left + DAY_NANOS - 1) / DAY_NANOS).max(1),
            }
        }
    }

    /// `Ok((watched_at, days_ago))` when the watch state lets the item whose file is at `path`
    /// go (watched by the right users, dated, past the grace of that file's mount), else the
    /// reason it keeps it.
    fn watch_verdict(&self, played: Played, path: &str) -> Result<(Timestamp, u32), Reason> {
        match played {
            Played::NotWatchedBy(i) => Err(Reason::NotWatchedBy {
                user: self.user(i).into(),
            }),
            Played::Undated => Err(Reason::NoLastPlayed),
            Played::At(t) => {
                match self.age(t, self.pressure.grace_for(path, self.rules.grace_days)) {
                    Age::Past { days_ago } => Ok((t, days_ago)),
                    Age::Within { days_left } => Err(Reason::WithinGrace { days_left }),
                }
            }
        }
    }

    fn user(&self, i: usize) -> String {
        self.users.get(i).cloned().unwrap_or_default()
    }

    /// The first of `tags` (as the *arr spells it) that is a keep tag.
    fn keep_tag(&self, tags: &[String]) -> Option<Reason> {
        tags.iter()
            .find(|t| {
                let lower = t.to_lowercase();
                self.keep_tags.contains(&lower)
            })
            .map(|tag| Reason::KeepTag {
                tag: tag.as_str().into(),
            })
    }

    /// `LosslessAudio` when `keep_lossless` holds and `file`'s main audio track is lossless.
    fn lossless(&self, file: &MediaFile) -> Option<Reason> {
        if !self.rules.keep_lossless {
            return None;
        }
        let quality = self.library.qualities.get(file.quality);
        (quality.lossless() == Some(true)).then(|| Reason::LosslessAudio {
            codec: quality.audio_codec.as_deref().unwrap_or_default().into(),
        })
    }

    /// What `file` is, for its decision: unknown without a file.
    fn quality(file: Option<&MediaFile>) -> QualityId {
        file.map_or(QualityId::UNKNOWN, |f| f.quality)
    }

    /// `Favorite` naming the first counted user with the favourite, when favourites keep.
    fn favorite(&self, views: &Views) -> Option<Reason> {
        if !self.rules.keep_favorites {
            return None;
        }
        (0..self.users.len())
            .find(|&i| Self::view(views, i).favorite())
            .map(|i| Reason::Favorite {
                user: self.user(i).into(),
            })
    }
}

/// For each item that other instances hold too (by index), its other copies. Copies are
/// told by provider id (`id`: TMDB for movies, TVDB for series), each in another instance
/// (`instance`); should one instance list an id twice, none of those entries is taken for a copy
/// of anything (odd input: each is decided alone).
fn copies<T>(
    items: &[T],
    id: impl Fn(&T) -> Option<i32>,
    instance: impl Fn(&T) -> &str,
) -> HashMap<usize, Vec<&T>> {
    let mut by_id: HashMap<i32, Vec<usize>> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(id) = id(item).filter(|&t| t > 0) {
            by_id.entry(id).or_default().push(i);
        }
    }
    let mut copies = HashMap::new();
    for group in by_id.into_values().filter(|g| g.len() > 1) {
        let mut instances: Vec<&str> = group.iter().map(|&i| instance(&items[i])).collect();
        instances.sort_unstable();
        instances.dedup();
        if instances.len() != group.len() {
            continue;
        }
        for &i in &group {
            let others = group.iter().filter(|&&j| j != i).map(|&j| &items[j]);
            copies.insert(i, others.collect());
        }
    }
    copies
}

/// `reason`, found on the copy in `instance`, as what keeps this one.
fn other_copy(instance: &str, reason: Reason) -> Reason {
    Reason::OtherCopy(Box::new(crate::plan::OtherCopy {
        instance: instance.into(),
        reason,
    }))
}

fn saturate(n: i128) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// Where a decision sorts inside its verdict group: movies before series, then by the item's
/// title rank, season and episode. 16 bytes: a plan holds one beside each decision until it
/// is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct SortKey {
    /// The title rank, with [`SortKey::SERIES`] set for a series.
    rank: u32,
    season: i32,
    episode: i32,
    /// Where the decision was made: what orders decisions whose other fields are equal. Set
    /// by [`Collector::into_plan`].
    seq: u32,
}

impl SortKey {
    const SERIES: u32 = 1 << 31;

    fn movie(rank: usize) -> SortKey {
        SortKey {
            rank: Self::rank(rank),
            season: 0,
            episode: 0,
            seq: 0,
        }
    }

    fn series(rank: usize, season: i32, episode: i32) -> SortKey {
        SortKey {
            rank: Self::SERIES | Self::rank(rank),
            season,
            episode,
            seq: 0,
        }
    }

    /// A rank below the series bit (no library has two billion titles).
    fn rank(rank: usize) -> u32 {
        u32::try_from(rank).map_or(Self::SERIES - 1, |r| r.min(Self::SERIES - 1))
    }
}

/// Ranks of items by title (case-insensitive, then as spelled, then by id), so decisions sort by
/// integers instead of comparing strings again and again.
fn title_ranks<'t>(items: impl Iterator<Item = (&'t str, i32)>) -> Vec<usize> {
    let mut keyed: Vec<(String, &str, i32, usize)> = items
        .enumerate()
        .map(|(i, (title, id))| (title.to_lowercase(), title, id, i))
        .collect();
    keyed.sort_unstable();
    let mut ranks = vec![0; keyed.len()];
    for (rank, (_, _, _, i)) in keyed.into_iter().enumerate() {
        ranks[i] = rank;
    }
    ranks
}

/// Decisions as they are made, with their sort keys, and the unwatched counts.
#[derive(Default)]
struct Collector {
    decisions: Vec<(SortKey, Decision)>,
    unwatched: Unwatched,
}

impl Collector {
    /// Turns every deletion a doubt could cover into a keep with that doubt as its reason.
    fn keep_what_doubts_cover(&mut self, doubts: &[Doubt], rules: &Rules) {
        for (_, d) in &mut self.decisions {
            if d.verdict != Verdict::Delete {
                continue;
            }
            let covering = doubts.iter().find_map(|doubt| match doubt {
                Doubt::Favorites { why } if rules.keep_favorites => Some(why),
                Doubt::Series {
                    instance,
                    sonarr_id,
                    why,
                } => match &d.target {
                    Target::Sonarr {
                        instance: of,
                        series_id,
                        ..
                    } if series_id == sonarr_id && of == instance => Some(why),
                    _ => None,
                },
                Doubt::Favorites { .. } => None,
            });
            if let Some(why) = covering {
                d.verdict = Verdict::Keep;
                d.reason = Reason::Incomplete {
                    why: why.as_str().into(),
                };
            }
        }
    }

    fn into_plan(mut self, unmatched: Vec<crate::library::Unmatched>) -> Plan {
        // Unstable, so in place: a stable sort takes a buffer of up to 8 MB, which on a plan of
        // tens of thousands of decisions is a good part of a pass's peak. With where each
        // decision was made as the last key, no two keys tie, and the order is a stable sort's.
        for (seq, (key, _)) in self.decisions.iter_mut().enumerate() {
            key.seq = u32::try_from(seq).unwrap_or(u32::MAX);
        }
        self.decisions
            .sort_unstable_by_key(|(key, d)| (d.verdict == Verdict::Keep, *key));
        Plan {
            decisions: self.decisions.into_iter().map(|(_, d)| d).collect(),
            unmatched,
            unwatched: self.unwatched,
            low_space: Vec::new(),
            space: Vec::new(),
            space_elsewhere: 0,
            qualities: Default::default(),
        }
    }
}

#[cfg(test)]
pub(crate) mod testkit {
    //! Builders so that each test reads like the case it checks. One counted user, "ann", unless a
    //! test says otherwise; Radarr's root is `/movies`, Sonarr's `/tv`; grace is 5 days.

    use jiff::Timestamp;

    use crate::library::{
        Channels, Episode, Library, MediaFile, Movie, Quality, Season, Series, SeriesStatus,
        UserView, Views,
    };
    use crate::plan::{Plan, Target};
    use crate::rules::Rules;

    pub fn now() -> Timestamp {
        "2024-06-01T12:00:00Z".parse().unwrap()
    }

    pub const fn secs(n: i64) -> i64 {
        n
    }

    pub const fn days(n: i64) -> i64 {
        n * 86_400
    }

    /// The moment `ago` seconds before [`now`].
    pub fn at(ago: i64) -> Timestamp {
        Timestamp::from_second(now().as_second() - ago).unwrap()
    }

    pub fn seen(t: Timestamp) -> UserView {
        UserView::new(true, Some(t), false)
    }

    pub fn seen_undated() -> UserView {
        UserView::new(true, None, false)
    }

    pub fn unseen() -> UserView {
        UserView::default()
    }

    pub fn fav() -> UserView {
        UserView::new(false, None, true)
    }

    pub fn rules() -> Rules {
        Rules::default()
    }

    pub fn library(movies: Vec<Movie>, series: Vec<Series>) -> Library {
        Library {
            users: vec!["ann".to_string()],
            movies,
            series,
            root_folders: [
                ("radarr".into(), vec!["/movies".to_string()]),
                ("sonarr".into(), vec!["/tv/".to_string()]),
            ]
            .into(),
            unmatched: Vec::new(),
            doubts: Vec::new(),
            qualities: Default::default(),
        }
    }

    /// Gives every file of `lib` whose path contains `path` a 1080p quality with a `codec`
    /// track (7.1), interned in the library's table.
    pub fn set_audio(lib: &mut Library, codec: &str, path: &str) {
        let id = lib.qualities.intern(Quality {
            name: Some("Bluray-1080p".into()),
            resolution: Some(1080),
            video_resolution: None,
            audio_codec: Some(codec.into()),
            audio_channels: Channels::from_f64(7.1),
        });
        let movies = lib.movies.iter_mut().filter_map(|m| m.file.as_mut());
        let episodes = (lib.series.iter_mut())
            .flat_map(|s| s.seasons.iter_mut())
            .flat_map(|s| s.episodes.iter_mut())
            .filter_map(|e| e.file.as_mut());
        for file in movies.chain(episodes).filter(|f| f.path.contains(path)) {
            file.quality = id;
        }
    }

    /// The plan as lines a person reads: "delete season Breaking Bad S01: season complete, …".
    pub fn lines(plan: &Plan) -> Vec<String> {
        plan.decisions
            .iter()
            .map(|d| {
                let verdict = d.verdict.as_str();
                format!("{verdict} {} {}: {}", d.kind, d.title, d.reason)
            })
            .collect()
    }

    /// `(episode_ids, episode_file_ids)` of a Sonarr target.
    pub fn sonarr_ids(target: &Target) -> (Vec<i32>, Vec<i32>) {
        match target {
            Target::Sonarr {
                episode_ids,
                episode_file_ids,
                ..
            } => (episode_ids.to_vec(), episode_file_ids.to_vec()),
            Target::Radarr { .. } => panic!("not a Sonarr target: {target:?}"),
        }
    }

    /// An unwatched movie with a 1000-byte file in `/movies/<title>/`.
    pub fn movie(id: i32, title: &str) -> Movie {
        Movie {
            instance: "radarr".into(),
            radarr_id: id,
            tmdb_id: None,
            title: title.to_string(),
            year: None,
            tags: Vec::new(),
            file: Some(MediaFile {
                id,
                path: format!("/movies/{title}/{title}.mkv").into(),
                size: 1000,
                quality: Default::default(),
            }),
            path: format!("/movies/{title}"),
            views: Views::from(vec![unseen()]),
            playing: false,
            jellyfin_id: None,
        }
    }

    pub trait MovieExt: Sized {
        fn year(self, year: i32) -> Self;
        fn tmdb(self, id: i32) -> Self;
        /// Played by ann `ago` seconds before now.
        fn watched(self, ago: i64) -> Self;
        fn views(self, views: Vec<UserView>) -> Self;
        fn tag(self, tag: &str) -> Self;
        fn fav(self) -> Self;
        fn playing(self) -> Self;
        fn no_file(self) -> Self;
        fn file_at(self, path: &str) -> Self;
        fn folder(self, path: &str) -> Self;
    }

    impl MovieExt for Movie {
        fn tmdb(mut self, id: i32) -> Self {
            self.tmdb_id = Some(id);
            self
        }
        fn year(mut self, year: i32) -> Self {
            self.year = Some(year);
            self
        }
        fn watched(mut self, ago: i64) -> Self {
            let favorite = self.views.get(0).favorite();
            *self.views.get_mut(0) = UserView::new(true, Some(at(ago)), favorite);
            self
        }
        fn views(mut self, views: Vec<UserView>) -> Self {
            self.views = Views::from(views);
            self
        }
        fn tag(mut self, tag: &str) -> Self {
            self.tags.push(tag.to_string());
            self
        }
        fn fav(mut self) -> Self {
            self.views.get_mut(0).set_favorite(true);
            self
        }
        fn playing(mut self) -> Self {
            self.playing = true;
            self
        }
        fn no_file(mut self) -> Self {
            self.file = None;
            self
        }
        fn file_at(mut self, path: &str) -> Self {
            if let Some(f) = &mut self.file {
                f.path = path.into();
            }
            self
        }
        fn folder(mut self, path: &str) -> Self {
            self.path = path.into();
            self
        }
    }

    /// A series with no seasons yet; add them with [`SeriesExt::season`].
    pub fn series(id: i32, title: &str, status: SeriesStatus) -> Series {
        Series {
            instance: "sonarr".into(),
            sonarr_id: id,
            tvdb_id: None,
            title: title.to_string(),
            status,
            tags: Vec::new(),
            path: format!("/tv/{title}"),
            views: Views::from(vec![unseen()]),
            seasons: Vec::new(),
        }
    }

    pub trait SeriesExt: Sized {
        /// Adds the season, giving its episodes and files ids unique to this series.
        fn season(self, season: Season) -> Self;
        fn tag(self, tag: &str) -> Self;
        fn fav(self) -> Self;
    }

    impl SeriesExt for Series {
        fn season(mut self, mut season: Season) -> Self {
            let offset = self.sonarr_id * 100_000;
            for ep in &mut season.episodes {
                ep.sonarr_id += offset;
                if let Some(f) = &mut ep.file {
                    f.id += offset;
                    f.path = f
                        .path
                        .replacen("/tv/show/", &format!("{}/", self.path), 1)
                        .into();
                }
            }
            self.seasons.push(season);
            self
        }
        fn tag(mut self, tag: &str) -> Self {
            self.tags.push(tag.to_string());
            self
        }
        fn fav(mut self) -> Self {
            self.views.get_mut(0).set_favorite(true);
            self
        }
    }

    /// Season `number` with `count` unwatched episodes, each with its own 100-byte file.
    /// Episode and file ids are `number * 1000 + episode` (plus the series offset).
    pub fn season(number: i32, count: i32) -> Season {
        let episodes = (1..=count)
            .map(|e| Episode {
                sonarr_id: number * 1000 + e,
                number: e,
                file: Some(MediaFile {
                    id: number * 1000 + e,
                    path: format!("/tv/show/S{number:02}E{e:02}.mkv").into(),
                    size: 100,
                    quality: Default::default(),
                }),
                views: Views::from(vec![unseen()]),
                playing: false,
                jellyfin_id: None,
            })
            .collect();
        Season {
            number,
            views: Views::from(vec![unseen()]),
            jellyfin_id: None,
            episodes,
        }
    }

    pub trait SeasonExt: Sized {
        /// Ann played these episodes `ago` seconds before now.
        fn watched(self, eps: impl IntoIterator<Item = i32>, ago: i64) -> Self;
        fn played_undated(self, eps: impl IntoIterator<Item = i32>) -> Self;
        fn views(self, ep: i32, views: Vec<UserView>) -> Self;
        fn no_file(self, eps: impl IntoIterator<Item = i32>) -> Self;
        fn fav_episode(self, ep: i32) -> Self;
        fn fav(self) -> Self;
        fn playing(self, ep: i32) -> Self;
        fn file_at(self, ep: i32, path: &str) -> Self;
        /// These episodes share the file of the first of them (a multi-episode file).
        fn shared(self, eps: &[i32]) -> Self;
        fn ep(&mut self, n: i32) -> &mut Episode;
    }

    impl SeasonExt for Season {
        fn watched(mut self, eps: impl IntoIterator<Item = i32>, ago: i64) -> Self {
            for n in eps {
                let view = self.ep(n).views.get_mut(0);
                *view = UserView::new(true, Some(at(ago)), view.favorite());
            }
            self
        }
        fn played_undated(mut self, eps: impl IntoIterator<Item = i32>) -> Self {
            for n in eps {
                *self.ep(n).views.get_mut(0) = seen_undated();
            }
            self
        }
        fn views(mut self, ep: i32, views: Vec<UserView>) -> Self {
            self.ep(ep).views = Views::from(views);
            self
        }
        fn no_file(mut self, eps: impl IntoIterator<Item = i32>) -> Self {
            for n in eps {
                self.ep(n).file = None;
            }
            self
        }
        fn fav_episode(mut self, ep: i32) -> Self {
            self.ep(ep).views.get_mut(0).set_favorite(true);
            self
        }
        fn fav(mut self) -> Self {
            self.views.get_mut(0).set_favorite(true);
            self
        }
        fn playing(mut self, ep: i32) -> Self {
            self.ep(ep).playing = true;
            self
        }
        fn file_at(mut self, ep: i32, path: &str) -> Self {
            if let Some(f) = &mut self.ep(ep).file {
                f.path = path.into();
            }
            self
        }
        fn shared(mut self, eps: &[i32]) -> Self {
            let file = self.ep(eps[0]).file.clone();
            for &n in &eps[1..] {
                self.ep(n).file = file.clone();
            }
            self
        }
        fn ep(&mut self, n: i32) -> &mut Episode {
            self.episodes.iter_mut().find(|e| e.number == n).unwrap()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::testkit::*;
    use super::*;
    use crate::library::{SeriesStatus, Unmatched};
    use crate::rules::SeriesMode;

    #[test]
    fn a_doubt_keeps_everything_it_could_cover_and_nothing_more() {
        let library = |doubts: Vec<Doubt>| Library {
            doubts,
            ..library(
                vec![movie(1, "Alien").watched(days(20))],
                vec![
                    series(7, "Dark", SeriesStatus::Ended)
                        .season(season(1, 2).watched(1..=2, days(20))),
                    series(8, "Lost", SeriesStatus::Ended)
                        .season(season(1, 2).watched(1..=2, days(20))),
                ],
            )
        };
        let deleted = |lib: &Library, rules: &Rules| -> Vec<String> {
            plan(lib, rules, now())
                .deletions()
                .map(|d| d.title.to_string())
                .collect()
        };
        let rules = rules();
        assert_eq!(deleted(&library(Vec::new()), &rules).len(), 3);

        // Sonarr could not tell all of Dark: only Dark stays.
        let lib = library(vec![Doubt::Series {
            instance: "sonarr".into(),
            sonarr_id: 7,
            why: "an episode record could not be read".into(),
        }]);
        assert_eq!(deleted(&lib, &rules), ["Alien", "Lost S01"]);
        let p = plan(&lib, &rules, now());
        let dark = p
            .kept()
            .find(|d| d.title.to_string().starts_with("Dark"))
            .expect("Dark is kept");
        assert_eq!(dark.reason.code(), "incomplete");
        assert!(dark.reason.to_string().contains("could not be read"));

        // Favourites unknown: everything a favourite could protect stays...
        let lib = library(vec![Doubt::Favorites {
            why: "the favourites of ann could not be read whole".into(),
        }]);
        assert!(deleted(&lib, &rules).is_empty());
        assert!(plan(&lib, &rules, now())
            .kept()
            .all(|d| d.reason.code() == "incomplete"));
        // ...unless favourites do not keep anything.
        let ignore = Rules {
            keep_favorites: false,
            ..Rules::default()
        };
        assert_eq!(deleted(&lib, &ignore).len(), 3);
    }

    #[test]
    fn grace_boundary() {
        // (grace_days, watched this long before now, expected age)
        let cases = [
            (5, days(5), Age::Past { days_ago: 5 }),
            (5, days(5) - secs(1), Age::Within { days_left: 1 }),
            (5, days(4) + secs(1), Age::Within { days_left: 1 }),
            (5, days(4), Age::Within { days_left: 1 }),
            (5, days(4) - secs(1), Age::Within { days_left: 2 }),
            (5, days(1), Age::Within { days_left: 4 }),
            (5, days(9) + days(1) - secs(1), Age::Past { days_ago: 9 }),
            (0, 0, Age::Past { days_ago: 0 }),
            // A last play in the future (clock skew) waits the whole grace and more.
            (5, -days(1), Age::Within { days_left: 6 }),
        ];
        for (grace_days, ago, expected) in cases {
            let rules = Rules {
                grace_days,
                ..Rules::default()
            };
            let lib = Library::default();
            let ctx = Ctx::new(&lib, &rules, now());
            assert_eq!(
                ctx.age(at(ago), grace_days),
                expected,
                "grace {grace_days}, ago {ago}s"
            );
        }
    }

    #[test]
    fn watch_any_and_all() {
        let users = ["ann", "bob"];
        // (watched_by, views of ann and bob, expected)
        let t1 = at(days(3));
        let t2 = at(days(1));
        let cases = [
            (WatchedBy::Any, [unseen(), unseen()], None),
            (WatchedBy::All, [unseen(), unseen()], None),
            (WatchedBy::Any, [seen(t1), unseen()], Some(Played::At(t1))),
            (
                WatchedBy::All,
                [seen(t1), unseen()],
                Some(Played::NotWatchedBy(1)),
            ),
            (
                WatchedBy::All,
                [unseen(), seen(t1)],
                Some(Played::NotWatchedBy(0)),
            ),
            (WatchedBy::All, [seen(t1), seen(t2)], Some(Played::At(t2))),
            (WatchedBy::Any, [seen(t2), seen(t1)], Some(Played::At(t2))),
            (
                WatchedBy::Any,
                [seen_undated(), seen(t1)],
                Some(Played::Undated),
            ),
            (
                WatchedBy::Any,
                [seen(t1), seen_undated()],
                Some(Played::Undated),
            ),
            (
                WatchedBy::All,
                [seen_undated(), seen(t1)],
                Some(Played::Undated),
            ),
            // A favourite alone is not a play.
            (WatchedBy::Any, [fav(), unseen()], None),
        ];
        for (watched_by, views, expected) in cases {
            let rules = Rules {
                watched_by,
                ..Rules::default()
            };
            let lib = Library {
                users: users.iter().map(|u| u.to_string()).collect(),
                ..Library::default()
            };
            let ctx = Ctx::new(&lib, &rules, now());
            assert_eq!(
                ctx.watch(&Views::from(views.to_vec())),
                expected,
                "{watched_by:?} {views:?}"
            );
        }
    }

    #[test]
    fn title_ranks_ignore_case_then_spelling_then_id() {
        let items = [("b", 1), ("A", 2), ("a", 3), ("a", 1), ("C", 9)];
        let ranks = title_ranks(items.iter().copied());
        assert_eq!(ranks, vec![3, 0, 2, 1, 4]);
    }

    #[test]
    fn plan_orders_deletions_first_then_by_title_season_episode() {
        let mut zed = series(1, "zed", SeriesStatus::Continuing)
            .season(season(2, 1).watched([1], days(10)))
            .season(season(1, 2).watched(1..=2, days(10)));
        zed.seasons[1].episodes.reverse();
        let alpha = series(2, "Alpha", SeriesStatus::Ended)
            .season(season(2, 1).watched([1], days(10)))
            .season(season(1, 1).watched([1], days(10)))
            .season(season(0, 1).watched([1], days(10)));
        let movies = vec![
            movie(1, "c").watched(days(10)),
            movie(2, "B").watched(days(1)),
            movie(3, "a").watched(days(10)),
        ];
        let mut lib = library(movies, vec![zed, alpha]);
        lib.unmatched = vec![Unmatched {
            kind: "Movie".into(),
            title: "Ghost".into(),
            path: None,
            why: "no Radarr movie with tmdb 1".into(),
        }];
        let plan = plan(&lib, &rules(), now());
        let titles: Vec<String> = plan
            .decisions
            .iter()
            .map(|d| format!("{} {}", d.verdict.as_str(), d.title))
            .collect();
        assert_eq!(
            titles,
            vec![
                "delete a",
                "delete c",
                "delete Alpha S00E01",
                "delete Alpha S01",
                "delete Alpha S02",
                "delete zed S01E01",
                "delete zed S01E02",
                "keep B",
                "keep zed S02",
            ]
        );
        assert_eq!(plan.unmatched, lib.unmatched);
    }

    #[test]
    fn unwatched_items_are_counted_everywhere() {
        let show = series(1, "Dark", SeriesStatus::Continuing)
            .season(season(0, 2))
            .season(season(1, 3).watched([1], days(10)))
            .season(season(2, 4).no_file(3..=4).watched([1], days(1)));
        let lib = library(
            vec![movie(1, "a"), movie(2, "b").watched(days(1))],
            vec![show],
        );
        let plan = plan(&lib, &rules(), now());
        assert_eq!(
            plan.unwatched,
            Unwatched {
                movies: 1,
                episodes: 2 + 2 + 3
            }
        );
        assert_eq!(plan.decisions.len(), 3, "{:#?}", lines(&plan));
    }

    /// Random libraries full of shared files, favourites, odd paths and mixed watch states, under
    /// random rules: no deletion may take a file that holds an episode not deleted with it, and no
    /// file may be both deleted and kept.
    #[test]
    fn no_deletion_takes_a_file_of_a_kept_episode() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut deletions = 0;
        for round in 0..400 {
            let (lib, rules) = random_case(&mut rng);
            let plan = plan(&lib, &rules, now());
            deletions += plan.deletions().count();
            for show in &lib.series {
                let mine = |d: &&Decision| d.target.arr_id() == show.sonarr_id;
                let ids = |verdict| {
                    let mut eps = HashSet::new();
                    let mut files = HashSet::new();
                    for d in plan
                        .decisions
                        .iter()
                        .filter(mine)
                        .filter(|d| d.verdict == verdict)
                    {
                        let (e, f) = sonarr_ids(&d.target);
                        eps.extend(e);
                        files.extend(f);
                    }
                    (eps, files)
                };
                let (deleted_eps, deleted_files) = ids(Verdict::Delete);
                let (_, kept_files) = ids(Verdict::Keep);
                let both: Vec<_> = deleted_files.intersection(&kept_files).collect();
                assert!(both.is_empty(), "round {round}: {both:?} deleted and kept");
                for s in &show.seasons {
                    for e in &s.episodes {
                        let Some(f) = &e.file else { continue };
                        assert!(
                            !deleted_files.contains(&f.id) || deleted_eps.contains(&e.sonarr_id),
                            "round {round}: file {} deleted, S{}E{} not: {:#?}",
                            f.id,
                            s.number,
                            e.number,
                            lines(&plan)
                        );
                    }
                }
            }
        }
        // The property means little if nothing was ever deleted.
        assert!(deletions > 200, "only {deletions} deletions");
    }

    fn random_case(rng: &mut fastrand::Rng) -> (Library, Rules) {
        let pick_view = |rng: &mut fastrand::Rng| {
            UserView::new(
                rng.u8(..4) > 0,
                [None, Some(1), Some(4), Some(6), Some(10), Some(20)][rng.usize(..6)]
                    .map(|d| at(days(d))),
                rng.u8(..20) == 0,
            )
        };
        let mut shows = Vec::new();
        for id in 1..=rng.i32(1..4) {
            let status = [SeriesStatus::Continuing, SeriesStatus::Ended][rng.usize(..2)];
            let mut show = series(id, &format!("Show {id}"), status);
            for number in 0..rng.i32(1..5) {
                let mut s = season(number, rng.i32(1..7));
                for n in 1..=s.episodes.len() as i32 {
                    let ep = s.ep(n);
                    ep.views = Views::from(vec![pick_view(rng), pick_view(rng)]);
                    ep.playing = rng.u8(..30) == 0;
                    if rng.u8(..20) == 0 {
                        ep.file = None;
                    }
                    if rng.u8(..30) == 0 {
                        if let Some(f) = &mut ep.file {
                            f.path = "/tv2/x.mkv".into();
                        }
                    }
                    if n > 1 && rng.u8(..4) == 0 {
                        s = s.shared(&[n - 1, n]);
                    }
                }
                s.views.get_mut(0).set_favorite(rng.u8(..30) == 0);
                show = show.season(s);
            }
            // Now and then a file shared across two seasons, which Sonarr should never have.
            if show.seasons.len() > 1 && rng.u8(..5) == 0 {
                let file = show.seasons[0].episodes[0].file.clone();
                show.seasons[1].episodes[0].file = file;
            }
            if rng.u8(..20) == 0 {
                show = show.tag("keep");
            }
            shows.push(show);
        }
        let mut lib = library(vec![], shows);
        lib.users = vec!["ann".into(), "bob".into()];
        let rules = Rules {
            watched_by: [WatchedBy::Any, WatchedBy::All][rng.usize(..2)],
            keep_favorites: rng.bool(),
            series_mode: [SeriesMode::Episode, SeriesMode::Season, SeriesMode::Hybrid]
                [rng.usize(..3)],
            partial_season_threshold: [0.3, 0.5, 1.0][rng.usize(..3)],
            protect_latest_season: rng.bool(),
            ..rules()
        };
        (lib, rules)
    }

    /// 10k movies and 100k episodes, all watched: the plan is complete at that size. (Its speed
    /// is measured by the benchmark, not here.)
    #[test]
    fn a_large_library_plans_completely() {
        let movies: Vec<_> = (0..10_000)
            .map(|i| movie(i, &format!("Movie {i}")).watched(days(10)))
            .collect();
        let shows: Vec<_> = (1..=1_000)
            .map(|id| {
                let mut show = series(id, &format!("Show {id}"), SeriesStatus::Continuing);
                for n in 1..=5 {
                    show = show.season(season(n, 20).watched(1..=20, days(10)));
                }
                show
            })
            .collect();
        let lib = library(movies, shows);
        let rules = Rules {
            series_mode: SeriesMode::Episode,
            ..rules()
        };
        let plan = plan(&lib, &rules, now());
        // Per show: 4 seasons × 20 episode deletions, the newest season kept whole.
        assert_eq!(plan.deletions().count(), 10_000 + 1_000 * 80);
        assert_eq!(plan.kept().count(), 1_000);
    }
}
