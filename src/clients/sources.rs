//! The servers a pass, a check or the monitor talks to, each built once.

use super::{JellyfinClient, RadarrClient, SonarrClient};

/// The servers to read from and delete through. An absent *arr means its media is left alone:
/// nothing of it is read, matched or deleted.
#[derive(Debug, Clone)]
pub struct Sources {
    pub jellyfin: JellyfinClient,
    pub radarr: Option<RadarrClient>,
    pub sonarr: Option<SonarrClient>,
}
