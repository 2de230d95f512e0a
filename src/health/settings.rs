//! What the health checks are asked to check: the `[health]` table and its `[[health.mounts]]`,
//! validated. `config` builds them; the checks read them.

use std::path::PathBuf;
use std::time::Duration;

use super::arrays::ArraySources;
use super::gate::GatePolicy;
use crate::rules::GraceTier;

/// The `[health]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthConfig {
    /// `monitor`: time between check rounds.
    pub interval: Duration,
    /// `run` proceeds only when the monitor's samples show the storage healthy this long.
    pub require_healthy_for: Option<Duration>,
    pub policy: GatePolicy,
    pub arrays: ArraySources,
    pub mounts: Vec<MountConfig>,
}

/// One `[[health.mounts]]` entry: a mount that must be fit before anything is deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct MountConfig {
    pub path: PathBuf,
    pub fstype: Option<String>,
    pub canary: Option<String>,
    pub timeout: Duration,
    pub allow_readonly: bool,
    /// Free space and free inodes below this share are degraded.
    pub min_free_percent: f64,
    /// Free space below this many bytes is degraded.
    pub min_free_bytes: u64,
    /// The *arr root folders (as the *arrs see them) whose files lie on this mount: what its
    /// grace tiers apply to.
    pub root_folders: Vec<String>,
    /// Shorter grace periods while the mount's free space is low.
    pub grace_tiers: Vec<GraceTier>,
    /// `space_mode = "when_low"`: files on this mount are deleted only while its free space is
    /// below this target, oldest-watched first, and only as many as bring it back up.
    pub target: Option<SpaceTarget>,
}

/// The free space a `when_low` mount is kept at: the larger of the two where both are set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpaceTarget {
    pub free_percent: Option<f64>,
    pub free_bytes: Option<u64>,
}

impl SpaceTarget {
    /// The free bytes this asks of a filesystem of `total` bytes.
    pub fn bytes_of(&self, total: u64) -> u64 {
        let by_share = self
            .free_percent
            .map_or(0, |p| (total as f64 * p / 100.0).ceil() as u64);
        by_share.max(self.free_bytes.unwrap_or(0))
    }
}
