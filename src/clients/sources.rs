//! The servers a pass, a check or the monitor talks to, each built once.

use super::{HttpSettings, JellyfinClient, RadarrClient, RequestStats, Service, SonarrClient};

/// The servers to read from and delete through. An absent *arr means its media is left alone:
/// nothing of it is read, matched or deleted.
#[derive(Debug, Clone)]
pub struct Sources {
    pub jellyfin: JellyfinClient,
    pub radarr: Option<RadarrClient>,
    pub sonarr: Option<SonarrClient>,
}

impl Sources {
    /// The wire side of each configured server, in [`Service::ALL`] order: its limits and what
    /// it was sent so far.
    pub fn each(&self) -> Vec<(Service, &HttpSettings, RequestStats)> {
        Service::ALL
            .into_iter()
            .filter_map(|service| match service {
                Service::Jellyfin => {
                    Some((service, self.jellyfin.settings(), self.jellyfin.stats()))
                }
                Service::Radarr => self
                    .radarr
                    .as_ref()
                    .map(|c| (service, c.settings(), c.stats())),
                Service::Sonarr => self
                    .sonarr
                    .as_ref()
                    .map(|c| (service, c.settings(), c.stats())),
            })
            .collect()
    }
}
