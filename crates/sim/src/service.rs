//! Which simulated server a request went to.
//!
//! shelflife's clients have an enum of their own with the same four names; this crate does not
//! depend on shelflife (shelflife's demo depends on it), so the simulator keeps this copy.

use std::fmt;

/// The servers the stack simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Jellyfin,
    Radarr,
    Sonarr,
    /// Seerr (Jellyseerr's successor): requests, not files.
    Seerr,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Jellyfin => "Jellyfin",
            Service::Radarr => "Radarr",
            Service::Sonarr => "Sonarr",
            Service::Seerr => "Seerr",
        })
    }
}
