//! The plain values that go into and come out of the state database.
//!
//! These types are the state module's own (it depends on no other module of the crate): the caller
//! converts its plan into [`NewAction`]s and reads back rows. Every enum has a stable lowercase text
//! form, which is what the database stores and what `CHECK` constraints in the schema allow.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

/// Defines a closed enum stored as lowercase text, with `as_str`, `Display` and `FromStr`.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text stored in the database and shown to users.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                value
                    .as_str()?
                    .parse()
                    .map_err(|e| FromSqlError::Other(Box::new(e)))
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        what: stringify!($name),
                        value: s.to_owned(),
                        expected: &[$($text),+],
                    }),
                }
            }
        }
    };
}

/// A text value that names none of an enum's variants (a CLI typo, or a damaged row).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?} (expected one of: {})", expected.join(", "))]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static [&'static str],
}

text_enum! {
    /// Whether a pass only pretended (`dry-run`) or called the *arrs (`live`).
    Mode { DryRun => "dry-run", Live => "live" }
}

text_enum! {
    /// How a pass ended. `None` in a [`RunRow`] means it has not ended (or never recorded its end).
    Outcome {
        Completed => "completed",
        Failed => "failed",
        /// Storage was unhealthy; the pass stopped deleting and will resume later.
        Paused => "paused",
        /// The pass died without recording its end; a later pass found it and marked it.
        Interrupted => "interrupted",
        /// The pass refused to start deleting (e.g. a plan over `max_deletions_per_run`).
        Refused => "refused",
    }
}

text_enum! {
    /// Which *arr an action goes through.
    Service { Radarr => "radarr", Sonarr => "sonarr" }
}

text_enum! {
    /// What an action deletes.
    ActionKind { Movie => "movie", Season => "season", Episode => "episode" }
}

text_enum! {
    /// Where an action is in its life: `planned → started → done | failed | skipped`, or
    /// `planned → skipped`. See [`ActionState::can_become`].
    ActionState {
        Planned => "planned",
        /// The intent is on disk and the *arr call may have been sent: after a crash the outcome is
        /// unknown and must be settled by asking the *arr, never by repeating the call.
        Started => "started",
        Done => "done",
        Failed => "failed",
        Skipped => "skipped",
    }
}

impl ActionState {
    /// The allowed transitions. `started → skipped` exists so that a started action of an
    /// interrupted pass whose target is still present can be closed while a new pass retries it.
    pub fn can_become(self, next: ActionState) -> bool {
        use ActionState::*;
        matches!(
            (self, next),
            (Planned, Started) | (Planned, Skipped) | (Started, Done | Failed | Skipped)
        )
    }

    /// Whether no further transition is possible.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ActionState::Done | ActionState::Failed | ActionState::Skipped
        )
    }
}

/// The database id of a run (pass).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub i64);

/// The database id of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run {}", self.0)
    }
}

impl fmt::Display for ActionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "action {}", self.0)
    }
}

/// Identifies what an action deletes, so that a later pass can tell "already done" apart.
///
/// Text form (stored in `actions.target_key`), for an instance named after its service (a
/// single `[radarr]` table, as every key before several instances were possible):
/// - `radarr:movie:<movie id>`: Radarr never reuses a movie id, and re-adding a movie makes a new one.
/// - `sonarr:season:<series id>:<file ids>` and `sonarr:episode:<series id>:<file ids>`, with the
///   episode file ids sorted, deduplicated and comma-separated. Keying by *file* ids means a
///   re-downloaded episode (a new file id) is a new target, and the kind is part of the key so a
///   season and an episode of the same series never collide.
///
/// Another instance's name follows its service: `radarr@4k:movie:<movie id>`, since ids of two
/// instances mean different things.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetKey {
    service: Service,
    /// The instance's name; `None` for the one named after its service (a single table's), so
    /// that the usual key costs no allocation.
    instance: Option<Box<str>>,
    kind: ActionKind,
    target_id: i64,
    file_ids: Vec<i64>,
}

impl TargetKey {
    /// A Radarr movie (deleted with its files).
    pub fn radarr_movie(movie_id: i64) -> TargetKey {
        TargetKey {
            service: Service::Radarr,
            instance: None,
            kind: ActionKind::Movie,
            target_id: movie_id,
            file_ids: Vec::new(),
        }
    }

    /// A whole Sonarr season: the episode files of `series_id` it deletes.
    pub fn sonarr_season(series_id: i64, episode_file_ids: &[i64]) -> TargetKey {
        TargetKey::sonarr(ActionKind::Season, series_id, episode_file_ids)
    }

    /// Single Sonarr episodes (usually one file) of `series_id`.
    pub fn sonarr_episode(series_id: i64, episode_file_ids: &[i64]) -> TargetKey {
        TargetKey::sonarr(ActionKind::Episode, series_id, episode_file_ids)
    }

    fn sonarr(kind: ActionKind, series_id: i64, episode_file_ids: &[i64]) -> TargetKey {
        let mut file_ids = episode_file_ids.to_vec();
        file_ids.sort_unstable();
        file_ids.dedup();
        TargetKey {
            service: Service::Sonarr,
            instance: None,
            kind,
            target_id: series_id,
            file_ids,
        }
    }

    /// The same target in the instance called `instance`.
    pub fn on(mut self, instance: &str) -> TargetKey {
        self.instance = (instance != self.service.as_str()).then(|| instance.into());
        self
    }

    pub fn service(&self) -> Service {
        self.service
    }

    /// The name of the instance it is deleted through.
    pub fn instance(&self) -> &str {
        self.instance.as_deref().unwrap_or(self.service.as_str())
    }

    pub fn kind(&self) -> ActionKind {
        self.kind
    }

    /// The movie id (Radarr) or the series id (Sonarr).
    pub fn target_id(&self) -> i64 {
        self.target_id
    }

    /// The episode file ids (Sonarr), sorted; empty for a movie.
    pub fn file_ids(&self) -> &[i64] {
        &self.file_ids
    }
}

impl fmt::Display for TargetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.service.as_str())?;
        if let Some(instance) = &self.instance {
            write!(f, "@{instance}")?;
        }
        write!(f, ":{}:{}", self.kind, self.target_id)?;
        if self.service == Service::Sonarr {
            let ids: Vec<String> = self.file_ids.iter().map(i64::to_string).collect();
            write!(f, ":{}", ids.join(","))?;
        }
        Ok(())
    }
}

impl ToSql for TargetKey {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.to_string()))
    }
}

impl FromSql for TargetKey {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// A target key text that does not parse (only a damaged database has one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed target key {0:?}")]
pub struct BadTargetKey(pub String);

impl FromStr for TargetKey {
    type Err = BadTargetKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadTargetKey(s.to_owned());
        let mut parts: Vec<&str> = s.split(':').collect();
        let id = |t: &str| t.parse::<i64>().map_err(|_| bad());
        let instance = match parts.first().and_then(|p| p.split_once('@')) {
            None => None,
            Some((service, instance)) if !instance.is_empty() => {
                parts[0] = service;
                Some(instance.to_owned())
            }
            Some(_) => return Err(bad()),
        };
        let key = match parts.as_slice() {
            ["radarr", "movie", movie] => TargetKey::radarr_movie(id(movie)?),
            ["sonarr", kind @ ("season" | "episode"), series, files] => {
                let file_ids = if files.is_empty() {
                    Vec::new()
                } else {
                    files.split(',').map(id).collect::<Result<Vec<_>, _>>()?
                };
                let kind = kind.parse().map_err(|_| bad())?;
                TargetKey::sonarr(kind, id(series)?, &file_ids)
            }
            _ => return Err(bad()),
        };
        Ok(match instance {
            Some(instance) => key.on(&instance),
            None => key,
        })
    }
}

/// What a pass counted; stored on its run when it finishes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub planned: u64,
    pub deleted: u64,
    pub failed: u64,
    pub kept: u64,
    pub bytes_deleted: u64,
}

/// An action to record as planned: [`crate::state::State::plan_actions`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewAction {
    pub target: TargetKey,
    pub title: String,
    pub reason: String,
    pub bytes: u64,
    /// The full target as the caller will send it (episode ids, file ids ...), serialized by the
    /// caller; stored verbatim so a later pass can settle the action without the old plan.
    pub target_json: String,
    /// What its file is: what `history` says was lost.
    pub lost: LostMedia,
}

/// What a deletion takes away, as the *arr described the file: its quality and main audio
/// track. Every part may be unknown (an *arr that never scanned the file, an action recorded
/// before these were).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LostMedia {
    /// The *arr's quality name: `Remux-2160p`, `WEBDL-1080p`.
    pub quality: Option<String>,
    /// The quality's resolution: 2160, 1080 …
    pub resolution: Option<u32>,
    /// The video's size as the *arr's scan measured it: `3840x2160`.
    pub video_resolution: Option<String>,
    /// `TrueHD Atmos`, `DTS-HD MA`, `EAC3` …
    pub audio_codec: Option<String>,
    /// 7.1, 5.1, 2.
    pub audio_channels: Option<f64>,
    /// Whether that track is lossless, which a lossy download cannot bring back; `None` when
    /// its codec is not known.
    pub lossless: Option<bool>,
}

#[cfg(test)]
impl LostMedia {
    /// What the tests' usual loss is: a 2160p Remux with lossless TrueHD Atmos 7.1.
    pub fn truehd_remux() -> LostMedia {
        LostMedia {
            quality: Some("Remux-2160p".into()),
            resolution: Some(2160),
            video_resolution: Some("3840x2160".into()),
            audio_codec: Some("TrueHD Atmos".into()),
            audio_channels: Some(7.1),
            lossless: Some(true),
        }
    }
}

/// One pass as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub id: RunId,
    /// The run id shown in logs (`RUN_ID`).
    pub run_key: String,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub mode: Mode,
    pub outcome: Option<Outcome>,
    pub reason: Option<String>,
    pub pid: u32,
    pub counts: RunCounts,
}

/// One action as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRow {
    pub id: ActionId,
    pub run_id: RunId,
    pub run_key: String,
    pub target: TargetKey,
    pub title: String,
    pub reason: String,
    pub bytes: u64,
    pub target_json: String,
    pub state: ActionState,
    pub error: Option<String>,
    pub planned_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

/// A deletion that happened, for `history`.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub action_id: ActionId,
    pub run_key: String,
    /// When the *arr confirmed the deletion.
    pub deleted_at: Timestamp,
    pub target: TargetKey,
    pub title: String,
    pub reason: String,
    pub bytes: u64,
    /// Where Seerr's cleanup of it stands (`waiting`, `cleaned`, `not_found`, `failed`);
    /// `None` when Seerr has nothing to do with it.
    pub seerr: Option<String>,
    /// What Seerr's cleanup did, or its last error.
    pub seerr_detail: Option<String>,
    /// What its file was.
    pub lost: LostMedia,
}

/// What [`crate::state::State::prune`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneCounts {
    pub runs: u64,
    pub actions: u64,
    /// Monitor samples and health transitions.
    pub health_rows: u64,
    /// What the notice period recorded (scheduled, rescued), for `history`.
    pub notice_events: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_text() {
        for m in Mode::ALL {
            assert_eq!(m.as_str().parse::<Mode>(), Ok(*m));
        }
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>(), Ok(*o));
        }
        for s in ActionState::ALL {
            assert_eq!(s.as_str().parse::<ActionState>(), Ok(*s));
        }
        assert_eq!(Mode::DryRun.as_str(), "dry-run");
        let err = "tv".parse::<ActionKind>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown ActionKind \"tv\" (expected one of: movie, season, episode)"
        );
    }

    #[test]
    fn transitions_follow_the_life_of_an_action() {
        use ActionState::*;
        let allowed: Vec<(ActionState, ActionState)> = ActionState::ALL
            .iter()
            .flat_map(|a| ActionState::ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Planned, Started),
                (Planned, Skipped),
                (Started, Done),
                (Started, Failed),
                (Started, Skipped)
            ]
        );
        assert!(ActionState::ALL
            .iter()
            .filter(|s| s.is_final())
            .all(|s| ActionState::ALL.iter().all(|n| !s.can_become(*n))));
    }

    #[test]
    fn target_keys_tell_seasons_episodes_and_movies_apart() {
        let season = TargetKey::sonarr_season(7, &[12, 11, 12]);
        let episode = TargetKey::sonarr_episode(7, &[11, 12]);
        assert_eq!(season.to_string(), "sonarr:season:7:11,12");
        assert_eq!(episode.to_string(), "sonarr:episode:7:11,12");
        assert_ne!(season, episode);
        assert_eq!(TargetKey::radarr_movie(7).to_string(), "radarr:movie:7");
        // The instance of a single table keeps the keys written before there were several.
        assert_eq!(
            TargetKey::radarr_movie(7).on("radarr").to_string(),
            "radarr:movie:7"
        );
        let in_4k = TargetKey::radarr_movie(7).on("4k");
        assert_eq!(in_4k.to_string(), "radarr@4k:movie:7");
        assert_ne!(in_4k, TargetKey::radarr_movie(7));
        assert_eq!(in_4k.instance(), "4k");
        assert_ne!(
            TargetKey::sonarr_episode(7, &[11]),
            TargetKey::sonarr_episode(7, &[13])
        );
    }

    #[test]
    fn target_keys_parse_back() {
        for key in [
            TargetKey::radarr_movie(42),
            TargetKey::sonarr_season(7, &[3, 1, 2]),
            TargetKey::sonarr_episode(7, &[]),
            TargetKey::radarr_movie(42).on("4k"),
            TargetKey::sonarr_season(7, &[3]).on("anime"),
        ] {
            assert_eq!(key.to_string().parse::<TargetKey>(), Ok(key));
        }
        for bad in [
            "",
            "radarr:movie",
            "radarr:season:1",
            "sonarr:movie:1:2",
            "sonarr:season:x:1",
            "sonarr:season:1:1,,2",
            "radarr@:movie:1",
        ] {
            assert!(bad.parse::<TargetKey>().is_err(), "{bad:?} parsed");
        }
    }
}
