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

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Mutex;

pub use base_url::{parse_base_url, BadBaseUrl};
pub use client::{Answer, RequestStats, ServiceClient};
pub(crate) use errors::snippet;
pub use errors::{ApiError, BuildError, Cause, Endpoint};
pub use lists::{too_many_malformed, Grouped, Malformed};
pub use pool::Http;
pub use settings::{Class, HttpSettings};

/// The servers shelflife talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    Jellyfin,
    Radarr,
    Sonarr,
    /// Seerr or Jellyseerr (the request manager), whose records of a deleted title are removed
    /// so that it can be requested again.
    Seerr,
}

impl Service {
    /// Every service, in the order shelflife lists them.
    pub const ALL: [Service; 4] = [
        Service::Jellyfin,
        Service::Radarr,
        Service::Sonarr,
        Service::Seerr,
    ];

    /// Its name in the config file's tables, metric labels and log fields.
    pub fn key(self) -> &'static str {
        match self {
            Service::Jellyfin => "jellyfin",
            Service::Radarr => "radarr",
            Service::Sonarr => "sonarr",
            Service::Seerr => "seerr",
        }
    }
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

/// One configured server: which service it is, and the name the config gives it (`radarr`,
/// `4k`, `anime`). Errors, log fields and metrics carry it, so it is `Copy`: a name is interned
/// once per process (a config names a handful of servers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Server {
    pub service: Service,
    /// Unique among the configured servers; the service's own key for a single `[radarr]` or
    /// `[sonarr]` table, and always for Jellyfin.
    pub name: &'static str,
}

impl Server {
    pub fn new(service: Service, name: &str) -> Server {
        Server {
            service,
            name: intern(name),
        }
    }

    /// Its key in the journal and the stored metrics: the service's key (`radarr`) for the
    /// server named after its service, `radarr@4k` otherwise.
    pub fn key(self) -> String {
        if self.has_default_name() {
            self.service.key().to_owned()
        } else {
            format!("{}@{}", self.service.key(), self.name)
        }
    }

    /// True when its name is the service's own (`radarr` for a Radarr): the server of a config
    /// with a single table for that service, named as it always was.
    pub fn has_default_name(self) -> bool {
        self.name == self.service.key()
    }
}

impl From<Service> for Server {
    /// The server of a config with one table for `service`.
    fn from(service: Service) -> Server {
        Server {
            service,
            name: service.key(),
        }
    }
}

impl fmt::Display for Server {
    /// `Radarr` for the server named after its service, `Radarr 4k` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.has_default_name() {
            write!(f, "{}", self.service)
        } else {
            write!(f, "{} {}", self.service, self.name)
        }
    }
}

/// The one `&'static` copy of `name`. Each distinct name is leaked once: a process sees only the
/// few names its configs give.
fn intern(name: &str) -> &'static str {
    static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut names = NAMES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}
