//! The config file's defaults, in one place: what a key left out of the file means. The config
//! builder reads these, and the `Default`s of the settings types it fills (rules, health
//! policy, array sources, request limits) are defined here rather than beside their types, so
//! that this is the one file to read or change.
//!
//! `tests/defaults.rs` checks that `example.toml`, the README's config and the NixOS module say
//! the same, and `config::tests` pins every value to a literal.

use std::path::PathBuf;
use std::time::Duration;

use crate::clients::http::HttpSettings;
use crate::health::arrays::ArraySources;
use crate::health::gate::{GatePolicy, OnDegraded};
use crate::notify::Event;
use crate::rules::{Copies, Rules, SeriesMode, WatchedBy};

/// A pass plans and logs, and deletes nothing.
pub const DRY_RUN: bool = true;

/// Radarr: do not add deleted movies to the import exclusions.
pub const ADD_IMPORT_EXCLUSION: bool = false;

/// Request limits of every service table.
pub const TIMEOUT: Duration = Duration::from_secs(30);
pub const LIST_TIMEOUT: Duration = Duration::from_secs(180);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const RETRIES: u32 = 3;

/// `[health]`: the monitor's time between rounds.
pub const HEALTH_INTERVAL: Duration = Duration::from_secs(60);

/// `[[health.mounts]]`.
pub const MOUNT_TIMEOUT: Duration = Duration::from_secs(5);
pub const ALLOW_READONLY: bool = false;
pub const MIN_FREE_PERCENT: f64 = 5.0;
pub const MIN_FREE_BYTES: u64 = 0;

/// `[leaving_soon]`: while `[rules] notice_days` is above 0, the items due to go are gathered in
/// a Jellyfin collection of this name.
pub const LEAVING_SOON_ENABLED: bool = true;
pub const LEAVING_SOON_COLLECTION: &str = "Leaving Soon";

/// `[seerr] request_protection_days`: 0, a request protects nothing.
pub const REQUEST_PROTECTION_DAYS: u32 = 0;
/// `[seerr] keep_until_requester_watched`: off, the counted users alone decide.
pub const KEEP_UNTIL_REQUESTER_WATCHED: bool = false;

/// `[[notify]]`: how long one notification may take (a request, or the command to exit).
pub const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// `[[notify]] events` left out: every event.
pub const NOTIFY_EVENTS: &[Event] = &Event::ALL;

/// `[state] path` when systemd gives no `STATE_DIRECTORY`.
pub const STATE_PATH: &str = "/var/lib/shelflife/state.db";

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            timeout: TIMEOUT,
            list_timeout: LIST_TIMEOUT,
            connect_timeout: CONNECT_TIMEOUT,
            // Not in the file: the largest answer read, and the first wait between attempts.
            max_body_bytes: 64 * 1024 * 1024,
            retries: RETRIES,
            backoff_base: Duration::from_millis(500),
        }
    }
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            watched_by: WatchedBy::Any,
            grace_days: 5,
            // No notice: an item goes as soon as it is eligible, as before notices existed.
            notice_days: 0,
            keep_tags: vec!["keep".to_string()],
            keep_favorites: true,
            // Lossless audio goes like any other: keeping it is a choice of disk space.
            keep_lossless: false,
            series_mode: SeriesMode::Hybrid,
            partial_season_threshold: 1.0,
            protect_latest_season: true,
            max_deletions_per_run: 50,
            copies: Copies::Together,
        }
    }
}

impl Default for GatePolicy {
    /// A degraded array pauses (a rebuild should not be stressed); low space proceeds with a
    /// warning (deleting is how space comes back).
    fn default() -> Self {
        GatePolicy {
            on_degraded_array: OnDegraded::Pause,
            on_low_space: OnDegraded::Proceed,
        }
    }
}

impl Default for ArraySources {
    fn default() -> Self {
        ArraySources {
            mdstat: PathBuf::from("/proc/mdstat"),
            zpool: PathBuf::from("zpool"),
            btrfs_sysfs: PathBuf::from("/sys/fs/btrfs"),
            zfs_module: PathBuf::from("/sys/module/zfs"),
            timeout: Duration::from_secs(10),
        }
    }
}
