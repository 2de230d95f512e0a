//! Clients for Jellyfin, Radarr, Sonarr and Seerr on one shared HTTP client.
//!
//! [`http`] does the wire work (auth, timeouts, bounded bodies, retries, typed errors); the
//! service modules are thin typed wrappers around the few endpoints shelflife uses, with compact
//! DTOs that keep only the fields inventory and apply need. [`arr`] holds what Radarr and Sonarr
//! share, [`media`] the quality and media info of their files (read leniently); [`radarr`] and
//! [`sonarr`] only what is their own. [`seerr`] reads Seerr's requests
//! and media records and removes them after a deletion, never files.

pub mod arr;
pub mod http;
pub mod jellyfin;
pub mod media;
pub mod radarr;
pub mod seerr;
pub mod sonarr;
mod sources;
pub mod stream;

/// A scripted HTTP server for the client and inventory tests.
#[cfg(test)]
pub(crate) mod test_server;

pub use arr::{ArrClient, HealthItem, RootFolder, Tag};
pub use http::{parse_base_url, ApiError, BuildError, Http, HttpSettings, RequestStats, Service};
pub use jellyfin::JellyfinClient;
pub use radarr::RadarrClient;
pub use seerr::SeerrClient;
pub use sonarr::SonarrClient;
pub use sources::{RootFolders, Sources};
