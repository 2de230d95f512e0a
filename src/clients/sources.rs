//! The servers a pass, a check or the monitor talks to, each built once.

use super::arr::RootFolder;
use super::http::Server;
use super::{HttpSettings, JellyfinClient, RadarrClient, RequestStats, SonarrClient};

/// The servers to read from and delete through: Jellyfin, and every configured instance of
/// each *arr, in the order of the config. No instance of an *arr means its media is left
/// alone: nothing of it is read, matched or deleted.
#[derive(Debug, Clone)]
pub struct Sources {
    pub jellyfin: JellyfinClient,
    pub radarr: Vec<RadarrClient>,
    pub sonarr: Vec<SonarrClient>,
}

impl Sources {
    /// The wire side of each configured server, Jellyfin first: its limits and what it was
    /// sent so far.
    pub fn each(&self) -> Vec<(Server, &HttpSettings, RequestStats)> {
        let mut each = vec![(
            self.jellyfin.server(),
            self.jellyfin.settings(),
            self.jellyfin.stats(),
        )];
        each.extend(
            self.radarr
                .iter()
                .map(|c| (c.server(), c.settings(), c.stats())),
        );
        each.extend(
            self.sonarr
                .iter()
                .map(|c| (c.server(), c.settings(), c.stats())),
        );
        each
    }

    /// The Radarr instance called `name`.
    pub fn radarr_named(&self, name: &str) -> Option<&RadarrClient> {
        self.radarr.iter().find(|c| c.server().name == name)
    }

    /// The Sonarr instance called `name`.
    pub fn sonarr_named(&self, name: &str) -> Option<&SonarrClient> {
        self.sonarr.iter().find(|c| c.server().name == name)
    }
}

/// The root folders each *arr instance listed, by position in the config (`None`: not read, or
/// the read failed). What one read serves twice in a pass: the health gate checks them, and the
/// inventory keeps the files outside them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RootFolders {
    pub radarr: Vec<Option<Vec<RootFolder>>>,
    pub sonarr: Vec<Option<Vec<RootFolder>>>,
}
