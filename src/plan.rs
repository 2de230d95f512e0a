//! What a retention pass decided: every watched item with a verdict and a human reason.
//!
//! `policy` produces a [`Plan`]; `apply` carries out its deletions; the CLI prints it. A plan is plain
//! data and serializes to the `plan --json` format.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

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

/// A Sonarr target's episode or file ids, up to four held inline: a plan of tens of thousands of
/// episode deletions would otherwise hold two small allocations for each.
pub type Ids = SmallVec<[i32; 4]>;

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
    KeepTag { tag: String },
    /// A counted user marked the item (or its season or series) as a favourite.
    Favorite { user: String },
    /// Someone is playing it right now.
    Playing,
    /// `watched_by = "all"` and this user has not played it.
    NotWatchedBy { user: String },
    /// Played, but Jellyfin has no LastPlayedDate, so its age is unknown.
    NoLastPlayed,
    /// Watched, but the grace period has not run out.
    WithinGrace { days_left: u32 },
    /// The *arr has no file for it; there is nothing to delete.
    NoFile,
    /// The file lies outside every root folder of the *arr.
    OutsideRootFolder { path: String },
    /// The newest season of a continuing series, protected by `protect_latest_season`.
    LatestSeason,
    /// Not enough of the season is watched (and past grace) to let it go.
    PartialSeason { watched: u32, total: u32 },
    /// A multi-episode file holds an episode that is not yet eligible.
    SharedFile { episode: String },
    /// What the servers said about it came in part only (a favourites listing that changed
    /// while it was read, an episode record that could not be read): it may be protected.
    Incomplete { why: String },
    /// A deletion of it sent by an interrupted pass may still be under way, or could not be
    /// settled; a later pass looks again.
    InDoubt { why: String },
    /// A mount short of space would free nothing by deleting it: another hard link (a torrent
    /// client seeding it) holds its blocks.
    FreesNothing { why: String },
    /// Eligible, but its mount does not need the space: it is above its target, or older files
    /// bring it there.
    SpaceNotNeeded { why: String },
    /// Eligible, and announced in the notice period: it goes on `due` if it is still eligible
    /// then.
    Scheduled { due: jiff::civil::Date },
    /// Someone took it out of the "Leaving Soon" collection by hand: kept while it stays
    /// eligible.
    KeptByHand,
    /// Requested in Seerr fewer than `request_protection_days` ago.
    Requested { by: String, days_ago: i64 },
    /// Requested in Seerr by someone who has not watched it yet (`keep_until_requester_watched`).
    RequesterNotWatched { by: String },
    /// Requested in Seerr by someone who matches no Jellyfin user, by id or by name: whether
    /// they watched it cannot be told (`keep_until_requester_watched`).
    RequesterUnknown { by: String },
    /// Due, but it could not be taken out of the "Leaving Soon" collection first (or the
    /// collection could not be read): a later pass tries again.
    Postponed { why: String },
    /// Its main audio track is lossless (`keep_lossless`): a lossy download could not give it
    /// back.
    LosslessAudio { codec: String },
    /// Another copy of the same movie (in another Radarr) is kept for `reason`, which keeps
    /// every copy.
    OtherCopy {
        instance: Box<str>,
        reason: Box<Reason>,
    },
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
            Reason::OtherCopy { reason, .. } => reason.code(),
            Reason::Space(_) => "space",
            Reason::Watched { .. } => "watched",
            Reason::SeasonComplete { .. } => "season_complete",
            Reason::SeasonThreshold { .. } => "season_threshold",
        }
    }
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
            Reason::OtherCopy { instance, reason } => write!(f, "{reason} on the {instance} copy"),
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
    pub watched_at: Option<i64>,
    /// The Jellyfin item that shows it in a "Leaving Soon" collection: the movie, the season, or
    /// the (first) episode of the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jellyfin_id: Option<JellyfinId>,
    /// What its file is (a season's: see `policy::series`), in [`Plan::qualities`]. `plan
    /// --json` gives its fields (`quality`, `audio_codec`, `lossless` …) beside the others.
    #[serde(skip)]
    pub quality: QualityId,
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
        // large reasons are boxed so that they do not make every decision larger. The Jellyfin
        // item a "Leaving Soon" collection shows costs 17 bytes. The title (its series' name,
        // shared, and numbers) and a Sonarr target's ids are held inside, so that a decision on
        // an episode allocates nothing of its own (it did three times, 90 bytes, before).
        assert_eq!(std::mem::size_of::<Reason>(), 32);
        assert_eq!(std::mem::size_of::<Title>(), 32);
        let episode = Target::Sonarr {
            instance: "sonarr".into(),
            series_id: 1,
            season: 1,
            episode_ids: [7, 8, 9, 10].into_iter().collect(),
            episode_file_ids: [70].into_iter().collect(),
        };
        let Target::Sonarr {
            episode_ids,
            episode_file_ids,
            ..
        } = &episode
        else {
            unreachable!()
        };
        assert!(!episode_ids.spilled() && !episode_file_ids.spilled());
        assert!(
            std::mem::size_of::<Decision>() <= 184,
            "{}",
            std::mem::size_of::<Decision>()
        );
    }
}
