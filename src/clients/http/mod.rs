//! The one HTTP layer under every client: auth, timeouts, bounded bodies, retries, typed errors.
//!
//! [`Http`] holds the single `reqwest::Client` of the process (rustls, connection pool); it is
//! cloned cheaply into one [`ServiceClient`] per server. A `ServiceClient` knows its service, base
//! URL and key, and turns every outcome into an [`ApiError`] named by what the caller does next:
//! fix the key ([`ApiError::Unauthorized`]), treat the item as gone ([`ApiError::NotFound`]), stop
//! the pass because the storage is missing ([`ApiError::Conflict`]), try again later
//! ([`ApiError::Unavailable`]) and so on. Transient failures of idempotent requests (GET, PUT,
//! DELETE) are retried with exponential backoff and jitter before they become `Unavailable`; a
//! POST is sent once.
//!
//! The API key travels only in a header marked sensitive. It never appears in a URL, a log line or
//! an error message, and errors from reqwest are stripped of their URL before they are kept.
//!
//! One concern a file: `settings` (limits and kinds of request), `pool` (the shared `reqwest`
//! clients), `base_url` and `auth` (what a service client is built from), `client` (small reads
//! and writes), `lists` (big lists read as they arrive), `retry` (the loop over attempts and its
//! rules), `attempt` (one attempt on the wire) and `errors`.

mod attempt;
mod auth;
mod base_url;
mod client;
mod errors;
mod lists;
mod pool;
mod retry;
mod settings;

#[cfg(test)]
mod tests;

use std::fmt;

pub use base_url::{parse_base_url, BadBaseUrl};
pub use client::{Answer, RequestStats, ServiceClient};
pub use errors::{ApiError, BuildError, Cause, Endpoint};
pub use lists::{too_many_malformed, Grouped, Malformed};
pub use pool::Http;
pub use settings::{Class, HttpSettings};

/// The servers shelflife talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Jellyfin,
    Radarr,
    Sonarr,
}

impl Service {
    /// Every service, in the order shelflife lists them.
    pub const ALL: [Service; 3] = [Service::Jellyfin, Service::Radarr, Service::Sonarr];

    /// Its name in the config file's tables, metric labels and log fields.
    pub fn key(self) -> &'static str {
        match self {
            Service::Jellyfin => "jellyfin",
            Service::Radarr => "radarr",
            Service::Sonarr => "sonarr",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Jellyfin => "Jellyfin",
            Service::Radarr => "Radarr",
            Service::Sonarr => "Sonarr",
        })
    }
}
