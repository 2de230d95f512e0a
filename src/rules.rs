//! The retention rules, as validated settings (the `[rules]` table plus `watched_by`).
//!
//! `config` builds these from the TOML file; `policy` reads them. They hold real types only: no
//! `Option` left to interpret, no strings to parse.

use serde::Serialize;

/// Whose plays count when more than one Jellyfin user is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WatchedBy {
    /// Watched when any counted user has played it.
    Any,
    /// Watched only when every counted user has played it.
    All,
}

/// How series are cut into deletable pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeriesMode {
    /// Watched episodes go one by one.
    Episode,
    /// Only whole seasons go.
    Season,
    /// Ended series by season, continuing series by episode.
    Hybrid,
}

/// Whether the copies of one movie in several Radarrs (HD and 4K) are watched together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Copies {
    /// Watching any copy watches the title: every copy goes once it is past grace.
    Together,
    /// Each copy goes when it was watched itself.
    Separate,
}

impl Copies {
    pub fn as_str(self) -> &'static str {
        match self {
            Copies::Together => "together",
            Copies::Separate => "separate",
        }
    }
}

/// A shorter grace period for the files of a mount while its free space is low: below
/// `below_free_percent` % free, files there go `grace_days` after their last play (when that is
/// shorter than the rules' grace).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GraceTier {
    pub below_free_percent: f64,
    pub grace_days: u32,
}

impl GraceTier {
    /// The grace that `tiers` give at `free_percent` % free: the shortest of the tiers below
    /// whose threshold the free space is; `None` when no tier applies.
    pub fn grace_at(tiers: &[GraceTier], free_percent: f64) -> Option<u32> {
        tiers
            .iter()
            .filter(|t| free_percent < t.below_free_percent)
            .map(|t| t.grace_days)
            .min()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rules {
    pub watched_by: WatchedBy,
    /// Whole days after the last play before an item may go.
    pub grace_days: u32,
    /// Whole days an item is announced (the "Leaving Soon" collection, a `scheduled`
    /// notification) before it may go, counted from when it was first found eligible. 0: it
    /// goes as soon as it is eligible, unannounced.
    pub notice_days: u32,
    /// Tag labels that keep a movie or series; compared case-insensitively.
    pub keep_tags: Vec<String>,
    /// A favourite of any counted user keeps the item.
    pub keep_favorites: bool,
    /// A file whose main audio track is lossless (TrueHD, DTS-HD MA, DTS:X, FLAC, PCM) is
    /// kept: a lossy download could not give it back.
    pub keep_lossless: bool,
    pub series_mode: SeriesMode,
    /// Share (0 < t ≤ 1) of a season's episodes with files that must be watched and past grace
    /// before the season goes whole.
    pub partial_season_threshold: f64,
    /// Never touch the newest season of a continuing series.
    pub protect_latest_season: bool,
    /// A plan deleting more files than this is refused whole.
    pub max_deletions_per_run: u32,
    /// How the copies of a movie held by several Radarrs are watched. Whatever this says, a
    /// keep tag or a favourite on any copy keeps every copy.
    pub copies: Copies,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_tier_the_free_space_is_under_gives_the_grace() {
        let tiers = [
            GraceTier {
                below_free_percent: 15.0,
                grace_days: 3,
            },
            GraceTier {
                below_free_percent: 5.0,
                grace_days: 1,
            },
        ];
        assert_eq!(GraceTier::grace_at(&tiers, 40.0), None);
        assert_eq!(
            GraceTier::grace_at(&tiers, 15.0),
            None,
            "at the threshold is not below"
        );
        assert_eq!(GraceTier::grace_at(&tiers, 14.9), Some(3));
        assert_eq!(GraceTier::grace_at(&tiers, 4.0), Some(1));
        assert_eq!(GraceTier::grace_at(&[], 1.0), None);
    }
}
