//! What a retention pass decided: every watched item with a verdict and a human reason.
//!
//! `policy` produces a [`Plan`]; `apply` carries out its deletions; the CLI prints it. A plan is plain
//! data and serializes to the `plan --json` format.

use std::fmt;
use std::num::NonZeroI64;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::library::{known_year, Instance, JellyfinId, Qualities, Quality, QualityId, Unmatched};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Movie,
    Season,
    Episode,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Movie => "movie",
            Kind::Season => "season",
            Kind::Episode => "episode",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Delete,
    Keep,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Delete => "delete",
            Verdict::Keep => "keep",
        }
    }
}

/// What the *arr would be asked to do for a decision, and which instance of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "service", rename_all = "lowercase")]
pub enum Target {
    /// `DELETE /api/v3/movie/{radarr_id}?deleteFiles=true`.
    Radarr { instance: Instance, movie_id: i32 },
    /// Unmonitor `episode_ids`, then delete `episode_file_ids`; all of one series (Sonarr's bulk
    /// delete must not mix series).
    Sonarr {
        instance: Instance,
        series_id: i32,
        season: i32,
        episode_ids: Ids,
        episode_file_ids: Ids,
    },
}

/// A Sonarr target's episode or file ids. A decision on an episode holds one of each, inline:
/// a plan of tens of thousands of them then allocates nothing for its ids, and each list costs
/// 16 bytes. A season's (or a multi-episode file's) list is boxed.
#[derive(Clone, PartialEq, Eq)]
pub struct Ids(Held);

#[derive(Clone, PartialEq, Eq)]
enum Held {
    Empty,
    One([i32; 1]),
    // Two or more (so that equal lists hold alike), in a `Vec` boxed so that the enum stays two
    // words: `Box<[i32]>` alone is two.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<i32>>),
}

impl Ids {
    pub fn new() -> Ids {
        Ids(Held::Empty)
    }

    pub fn push(&mut self, id: i32) {
        match &mut self.0 {
            Held::Empty => self.0 = Held::One([id]),
            Held::Many(ids) => ids.push(id),
            Held::One([first]) => self.0 = Held::Many(Box::new(vec![*first, id])),
        }
    }
}

impl Default for Ids {
    fn default() -> Ids {
        Ids::new()
    }
}

impl std::ops::Deref for Ids {
    type Target = [i32];

    fn deref(&self) -> &[i32] {
        match &self.0 {
            Held::Empty => &[],
            Held::One(one) => one,
            Held::Many(ids) => ids,
        }
    }
}

impl<'a> IntoIterator for &'a Ids {
    type Item = &'a i32;
    type IntoIter = std::slice::Iter<'a, i32>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<i32> for Ids {
    fn from_iter<I: IntoIterator<Item = i32>>(iter: I) -> Ids {
        let mut ids = Ids::new();
        for id in iter {
            ids.push(id);
        }
        ids
    }
}

impl From<Vec<i32>> for Ids {
    fn from(ids: Vec<i32>) -> Ids {
        match ids[..] {
            [] => Ids(Held::Empty),
            [one] => Ids(Held::One([one])),
            _ => Ids(Held::Many(Box::new(ids))),
        }
    }
}

impl fmt::Debug for Ids {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Ids {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Ids {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Ids, D::Error> {
        Vec::<i32>::deserialize(deserializer).map(Ids::from)
    }
}

impl Target {
    /// How many files deleting this target removes (the unit of `max_deletions_per_run`).
    pub fn file_count(&self) -> usize {
        match self {
            Target::Radarr { .. } => 1,
            Target::Sonarr {
                episode_file_ids, ..
            } => episode_file_ids.len(),
        }
    }

    /// The id shown as `ARR_ID`: the movie id, or the series id.
    pub fn arr_id(&self) -> i32 {
        match self {
            Target::Radarr { movie_id, .. } => *movie_id,
            Target::Sonarr { series_id, .. } => *series_id,
        }
    }

    /// True when its instance is named after its service: the one of a single `[radarr]` or
    /// `[sonarr]` table, which text output does not name.
    pub fn has_default_instance(&self) -> bool {
        match self {
            Target::Radarr { instance, .. } => &**instance == "radarr",
            Target::Sonarr { instance, .. } => &**instance == "sonarr",
        }
    }

    /// The instance it goes to (shown as `ARR`).
    pub fn instance(&self) -> &str {
        match self {
            Target::Radarr { instance, .. } | Target::Sonarr { instance, .. } => instance,
        }
    }
}

/// Why an item is kept or deleted. `Display` gives the words a person reads; [`Reason::code`] gives
/// a stable label for metrics, JSON and the journal.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    // ---- kept ----
    /// The movie or series carries one of the keep tags.
    KeepTag { tag: Box<str> },
    /// A counted user marked the item (or its season or series) as a favourite.
    Favorite { user: Box<str> },
    /// Someone is playing it right now.
    Playing,
    /// `watched_by = "all"` and this user has not played it.
    NotWatchedBy { user: Box<str> },
    /// Played, but Jellyfin has no LastPlayedDate, so its age is unknown.
    NoLastPlayed,
    /// Watched, but the grace period has not run out.
    WithinGrace { days_left: u32 },
    /// The *arr has no file for it; there is nothing to delete.
    NoFile,
    /// The file lies outside every root folder of the *arr.
    OutsideRootFolder { path: Box<str> },
    /// The newest season of a continuing series, protected by `protect_latest_season`.
    LatestSeason,
    /// Not enough of the season is watched (and past grace) to let it go.
    PartialSeason { watched: u32, total: u32 },
    /// A multi-episode file holds an episode that is not yet eligible.
    SharedFile { episode: Box<str> },
    /// What the servers said about it came in part only (a favourites listing that changed
    /// while it was read, an episode record that could not be read): it may be protected.
    Incomplete { why: Box<str> },
    /// A deletion of it sent by an interrupted pass may still be under way, or could not be
    /// settled; a later pass looks again.
    InDoubt { why: Box<str> },
    /// A mount short of space would free nothing by deleting it: another hard link (a torrent
    /// client seeding it) holds its blocks.
    FreesNothing { why: Box<str> },
    /// Eligible, but its mount does not need the space: it is above its target, or older files
    /// bring it there.
    SpaceNotNeeded { why: Box<str> },
    /// Eligible, and announced in the notice period: it goes on `due` if it is still eligible
    /// then.
    Scheduled { due: jiff::civil::Date },
    /// Someone took it out of the "Leaving Soon" collection by hand: kept while it stays
    /// eligible.
    KeptByHand,
    /// Requested in Seerr fewer than `request_protection_days` ago.
    Requested { by: Box<str>, days_ago: i32 },
    /// Requested in Seerr by someone who has not watched it yet (`keep_until_requester_watched`).
    RequesterNotWatched { by: Box<str> },
    /// Requested in Seerr by someone who matches no Jellyfin user, by id or by name: whether
    /// they watched it cannot be told (`keep_until_requester_watched`).
    RequesterUnknown { by: Box<str> },
    /// Due, but it could not be taken out of the "Leaving Soon" collection first (or the
    /// collection could not be read): a later pass tries again.
    Postponed { why: Box<str> },
    /// Its main audio track is lossless (`keep_lossless`): a lossy download could not give it
    /// back.
    LosslessAudio { codec: Box<str> },
    /// Another copy of the same movie (in another Radarr) is kept for `reason`, which keeps
    /// every copy.
    OtherCopy(Box<OtherCopy>),
    // ---- deleted ----
    /// Eligible, and its mount is below its free-space target. Boxed: a plan holds a reason
    /// per decision, and this one is rare and large.
    Space(Box<ForSpace>),
    /// Watched by the counted users, last play `days_ago` days ago, past grace.
    Watched { days_ago: u32 },
    /// Every episode with a file is watched and past grace.
    SeasonComplete { days_ago: u32 },
    /// The watched share reached `partial_season_threshold`.
    SeasonThreshold {
        watched: u32,
        total: u32,
        days_ago: u32,
    },
}

impl Reason {
    /// A stable snake_case label (`keep_tag`, `within_grace`, `season_complete` …).
    pub fn code(&self) -> &'static str {
        match self {
            Reason::KeepTag { .. } => "keep_tag",
            Reason::Favorite { .. } => "favorite",
            Reason::Playing => "playing",
            Reason::NotWatchedBy { .. } => "not_watched_by",
            Reason::NoLastPlayed => "no_last_played",
            Reason::WithinGrace { .. } => "within_grace",
            Reason::NoFile => "no_file",
            Reason::OutsideRootFolder { .. } => "outside_root_folder",
            Reason::LatestSeason => "latest_season",
            Reason::PartialSeason { .. } => "partial_season",
            Reason::SharedFile { .. } => "shared_file",
            Reason::Incomplete { .. } => "incomplete",
            Reason::InDoubt { .. } => "in_doubt",
            Reason::FreesNothing { .. } => "frees_nothing",
            Reason::Scheduled { .. } => "scheduled",
            Reason::KeptByHand => "kept_by_hand",
            Reason::Requested { .. } => "requested",
            Reason::RequesterNotWatched { .. } => "requester_not_watched",
            Reason::RequesterUnknown { .. } => "requester_unknown",
            Reason::Postponed { .. } => "postponed",
            Reason::SpaceNotNeeded { .. } => "space_not_needed",
            Reason::LosslessAudio { .. } => "lossless_audio",
            // Counted by what keeps the copy it comes from.
            Reason::OtherCopy(copy) => copy.reason.code(),
            Reason::Space(_) => "space",
            Reason::Watched { .. } => "watched",
            Reason::SeasonComplete { .. } => "season_complete",
            Reason::SeasonThreshold { .. } => "season_threshold",
        }
    }
}

/// What keeps another copy of a movie, and which instance holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtherCopy {
    pub instance: Box<str>,
    pub reason: Reason,
}

/// Why a deletion is made for space: its mount, how full it was, and what made it eligible.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForSpace {
    pub mount: String,
    pub free_percent: f64,
    pub target_percent: f64,
    pub then: Reason,
}

fn days(n: u32) -> String {
    if n == 1 {
        "1 day".to_string()
    } else {
        format!("{n} days")
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::KeepTag { tag } => write!(f, "keep tag \"{tag}\""),
            Reason::Favorite { user } => write!(f, "favourite of {user}"),
            Reason::Playing => f.write_str("playing right now"),
            Reason::NotWatchedBy { user } => write!(f, "not watched by {user} yet"),
            Reason::NoLastPlayed => f.write_str("played, but Jellyfin has no last-played date"),
            Reason::WithinGrace { days_left } => {
                write!(f, "within grace, {} left", days(*days_left))
            }
            Reason::NoFile => f.write_str("no file on disk"),
            Reason::OutsideRootFolder { path } => {
                write!(f, "file outside the root folders: {path}")
            }
            Reason::LatestSeason => f.write_str("newest season of a continuing series"),
            Reason::PartialSeason { watched, total } => {
                write!(f, "season partly watched, {watched} of {total} episodes")
            }
            Reason::SharedFile { episode } => {
                write!(f, "file shared with {episode}, which is not eligible")
            }
            Reason::Incomplete { why } => write!(f, "known only in part: {why}"),
            Reason::InDoubt { why } => write!(f, "in doubt: {why}"),
            Reason::OtherCopy(copy) => {
                write!(f, "{} on the {} copy", copy.reason, copy.instance)
            }
            Reason::FreesNothing { why } => write!(f, "would free nothing: {why}"),
            Reason::Scheduled { due } => write!(f, "scheduled, goes on {due}"),
            Reason::KeptByHand => f.write_str("taken out of Leaving Soon by hand"),
            Reason::Requested { by, days_ago: 0 } => write!(f, "requested by {by} today"),
            Reason::Requested { by, days_ago: 1 } => write!(f, "requested by {by} 1 day ago"),
            Reason::Requested { by, days_ago } => {
                write!(f, "requested by {by} {days_ago} days ago")
            }
            Reason::RequesterNotWatched { by } => {
                write!(f, "requested by {by}, who has not watched it yet")
            }
            Reason::RequesterUnknown { by } => {
                write!(f, "requested by {by}, who matches no Jellyfin user")
            }
            Reason::Postponed { why } => write!(f, "postponed: {why}"),
            Reason::LosslessAudio { codec } => write!(f, "lossless audio ({codec})"),
            Reason::SpaceNotNeeded { why } => write!(f, "space not needed: {why}"),
            Reason::Space(s) => write!(
                f,
                "space: {} at {:.1} % free, target {:.1} %; {}",
                s.mount, s.free_percent, s.target_percent, s.then
            ),
            Reason::Watched { days_ago } => write!(f, "watched {} ago", days(*days_ago)),
            Reason::SeasonComplete { days_ago } => {
                write!(f, "season complete, watched {} ago", days(*days_ago))
            }
            Reason::SeasonThreshold {
                watched,
                total,
                days_ago,
            } => write!(
                f,
                "{watched} of {total} episodes watched, last {} ago",
                days(*days_ago)
            ),
        }
    }
}

/// What a decision is called, held as its parts and written out when shown: "The Matrix
/// (1999)", "Dark S01", "Dark S01E05", "Dark S01E05-E06". Every decision on a series shares its
/// name: a plan of tens of thousands of episodes holds no sentence for each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title {
    name: Arc<str>,
    part: Part,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// A title as it is: a movie without a year, or anything named by hand.
    Whole,
    /// A movie: "Title (year)".
    Year(i32),
    /// "Title S01"; 0 is specials.
    Season(i32),
    /// "Title S01E05", or "Title S01E05-E06" for a file that holds several.
    Episodes { season: i32, first: i32, last: i32 },
}

impl Title {
    /// A movie's title with its year, as [`crate::library::movie_title`] writes it.
    pub fn movie(name: &str, year: Option<i32>) -> Title {
        Title {
            name: name.into(),
            part: known_year(year).map_or(Part::Whole, Part::Year),
        }
    }

    /// Season `season` of the series called `name`.
    pub fn season(name: &Arc<str>, season: i32) -> Title {
        Title {
            name: name.clone(),
            part: Part::Season(season),
        }
    }

    /// Episodes `first` to `last` of a season of the series called `name`.
    pub fn episodes(name: &Arc<str>, season: i32, first: i32, last: i32) -> Title {
        Title {
            name: name.clone(),
            part: Part::Episodes {
                season,
                first,
                last,
            },
        }
    }
}

impl From<&str> for Title {
    fn from(name: &str) -> Title {
        Title {
            name: name.into(),
            part: Part::Whole,
        }
    }
}

impl From<String> for Title {
    fn from(name: String) -> Title {
        Title::from(name.as_str())
    }
}

impl fmt::Display for Title {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match self.part {
            Part::Whole => f.write_str(name),
            Part::Year(year) => write!(f, "{name} ({year})"),
            Part::Season(season) => write!(f, "{name} S{season:02}"),
            Part::Episodes {
                season,
                first,
                last,
            } => {
                write!(f, "{name} S{season:02}E{first:02}")?;
                if last != first {
                    write!(f, "-E{last:02}")?;
                }
                Ok(())
            }
        }
    }
}

impl Serialize for Title {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One verdict on one item (a movie, a season, an episode or the episodes of one file).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub verdict: Verdict,
    pub kind: Kind,
    /// "The Matrix (1999)", "Breaking Bad S01", "Breaking Bad S03E05".
    pub title: Title,
    pub target: Target,
    /// Bytes the deletion frees (or would free, for a kept item).
    pub bytes: u64,
    pub reason: Reason,
    /// The last play that made a deletion eligible, in Unix seconds: what orders the deletions
    /// of a mount that is short of space, oldest first. Not part of the plan's JSON.
    #[serde(skip)]
    pub watched_at: LastPlay,
    /// The Jellyfin item that shows it in a "Leaving Soon" collection: the movie, the season, or
    /// the (first) episode of the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jellyfin_id: Option<JellyfinId>,
    /// What its file is (a season's: see `policy::series`), in [`Plan::qualities`]. `plan
    /// --json` gives its fields (`quality`, `audio_codec`, `lossless` …) beside the others.
    #[serde(skip)]
    pub quality: QualityId,
}

/// A last play in Unix seconds, or none: what `Option<i64>` says in 8 bytes instead of 16,
/// ordered as it is (none first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LastPlay(Option<NonZeroI64>);

impl LastPlay {
    pub const NONE: LastPlay = LastPlay(None);

    pub fn get(self) -> Option<i64> {
        self.0.map(NonZeroI64::get)
    }
}

impl From<Option<i64>> for LastPlay {
    fn from(secs: Option<i64>) -> LastPlay {
        // A play at the very second of the epoch is held as the second before it: Jellyfin
        // reports none so early, and a second is not what the space ordering turns on.
        LastPlay(secs.and_then(|s| NonZeroI64::new(s).or(NonZeroI64::new(-1))))
    }
}

impl Decision {
    /// What its file is, as `plan` holds it.
    pub fn quality<'p>(&self, plan: &'p Plan) -> &'p Quality {
        plan.qualities.get(self.quality)
    }
}

/// The outcome of `policy::plan`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    /// Deletions first, then kept items; each group in a stable order (movies by title, then
    /// series by title, season and episode).
    pub decisions: Vec<Decision>,
    /// Watched Jellyfin items with no *arr match; always kept.
    pub unmatched: Vec<Unmatched>,
    /// Items that no counted user has played; they need no decision.
    pub unwatched: Unwatched,
    /// The mounts whose low free space shortened the grace of their files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub low_space: Vec<LowSpace>,
    /// The mounts that give up files only when space is needed, and what the plan takes from
    /// each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub space: Vec<SpaceBudget>,
    /// Where mounts are kept at a target: the deletions whose files lie on none of them, which
    /// go as always.
    #[serde(skip_serializing_if = "is_zero")]
    pub space_elsewhere: usize,
    /// The library's qualities, which [`Decision::quality`] points into.
    #[serde(skip)]
    pub qualities: Qualities,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A `space_mode = "when_low"` mount as the plan saw it, and what the plan takes from it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SpaceBudget {
    pub mount: String,
    pub free_bytes: u64,
    pub total_bytes: u64,
    pub target_bytes: u64,
    /// How far the mount is below its target (0 when it is not).
    pub needed_bytes: u64,
    /// What the deletions chosen for space free, by their sizes, and how many they are.
    pub planned_bytes: u64,
    pub planned: usize,
    /// Eligible deletions left for later: the mount does not need them.
    pub spared: usize,
    /// Eligible deletions that would free nothing (another hard link holds the file).
    pub frees_nothing: usize,
}

impl SpaceBudget {
    fn percent(&self, bytes: u64) -> f64 {
        if self.total_bytes == 0 {
            return 0.0;
        }
        bytes as f64 * 100.0 / self.total_bytes as f64
    }

    pub fn free_percent(&self) -> f64 {
        self.percent(self.free_bytes)
    }

    pub fn target_percent(&self) -> f64 {
        self.percent(self.target_bytes)
    }
}

/// A mount short of space: the files on it went `grace_days` after their last play, not the
/// rules' grace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LowSpace {
    pub mount: String,
    pub free_percent: f64,
    pub grace_days: u32,
}

impl fmt::Display for LowSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is at {:.1} % free: its files go {} after their last play",
            self.mount,
            self.free_percent,
            days(self.grace_days)
        )
    }
}

/// Counts of what nobody has watched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Unwatched {
    pub movies: usize,
    pub episodes: usize,
}

impl Plan {
    pub fn deletions(&self) -> impl Iterator<Item = &Decision> {
        self.decisions
            .iter()
            .filter(|d| d.verdict == Verdict::Delete)
    }

    pub fn kept(&self) -> impl Iterator<Item = &Decision> {
        self.decisions.iter().filter(|d| d.verdict == Verdict::Keep)
    }

    /// Files the plan deletes: what `max_deletions_per_run` limits.
    pub fn files_to_delete(&self) -> usize {
        self.deletions().map(|d| d.target.file_count()).sum()
    }

    pub fn bytes_to_delete(&self) -> u64 {
        self.deletions().map(|d| d.bytes).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_is_written_out_from_its_parts() {
        let dark: Arc<str> = "Dark".into();
        let shown = [
            Title::movie("Dune", Some(2021)),
            Title::movie("Dune", Some(0)),
            Title::movie("Dune", None),
            Title::season(&dark, 0),
            Title::episodes(&dark, 1, 5, 5),
            Title::episodes(&dark, 1, 5, 6),
            Title::from("Home Video"),
        ]
        .map(|t| t.to_string());
        assert_eq!(
            shown,
            [
                "Dune (2021)",
                "Dune",
                "Dune",
                "Dark S00",
                "Dark S01E05",
                "Dark S01E05-E06",
                "Home Video"
            ]
        );
        let json = serde_json::to_string(&Title::episodes(&dark, 2, 1, 1)).unwrap();
        assert_eq!(json, r#""Dark S02E01""#);
    }

    #[test]
    fn a_decision_stays_small() {
        // A plan holds one per watched item, tens of thousands on a large library: the rare,
        // large reasons are boxed so that they do not make every decision larger, and the
        // words of the others are boxed strings. The title (its series' name, shared, and
        // numbers) and an episode's ids are held inside, so that a decision on an episode
        // allocates nothing of its own.
        assert_eq!(std::mem::size_of::<Reason>(), 24);
        assert_eq!(std::mem::size_of::<Title>(), 32);
        assert_eq!(std::mem::size_of::<Ids>(), 16);
        let episode = Target::Sonarr {
            instance: "sonarr".into(),
            series_id: 1,
            season: 1,
            episode_ids: [7].into_iter().collect(),
            episode_file_ids: vec![70].into(),
        };
        let Target::Sonarr {
            episode_ids,
            episode_file_ids,
            ..
        } = &episode
        else {
            unreachable!()
        };
        assert!(matches!(episode_ids.0, Held::One([7])));
        assert!(matches!(episode_file_ids.0, Held::One([70])));
        assert_eq!(std::mem::size_of::<Target>(), 56);
        assert!(
            std::mem::size_of::<Decision>() <= 152,
            "{}",
            std::mem::size_of::<Decision>()
        );
    }

    #[test]
    fn another_copys_reason_is_written_beside_its_instance() {
        let reason = Reason::OtherCopy(Box::new(OtherCopy {
            instance: "radarr4k".into(),
            reason: Reason::Favorite { user: "ann".into() },
        }));
        assert_eq!(
            serde_json::to_value(&reason).unwrap(),
            serde_json::json!({
                "code": "other_copy",
                "instance": "radarr4k",
                "reason": {"code": "favorite", "user": "ann"}
            })
        );
        assert_eq!(reason.code(), "favorite");
        assert_eq!(reason.to_string(), "favourite of ann on the radarr4k copy");
    }

    #[test]
    fn ids_read_as_the_list_they_were_given() {
        for list in [vec![], vec![5], vec![1, 2, 3]] {
            let collected: Ids = list.iter().copied().collect();
            let converted = Ids::from(list.clone());
            assert_eq!(&collected[..], &list[..]);
            assert_eq!(collected, converted);
            let json = serde_json::to_string(&collected).unwrap();
            assert_eq!(json, serde_json::to_string(&list).unwrap());
            let back: Ids = serde_json::from_str(&json).unwrap();
            assert_eq!(&back[..], &list[..]);
            assert_eq!(format!("{collected:?}"), format!("{list:?}"));
        }
        let mut ids = Ids::new();
        ids.push(4);
        ids.push(9);
        assert_eq!(&ids[..], [4, 9]);
    }
}
