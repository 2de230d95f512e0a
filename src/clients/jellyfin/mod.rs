//! Jellyfin: users, per-user watched and favourite items, sessions, library refresh, collections.
//!
//! Jellyfin writes PascalCase JSON and omits nulls, so every optional field here is an `Option`
//! or has a default. An API key has no user of its own: per-user state (`UserData`) only comes
//! back when `userId` is passed, which [`JellyfinClient::items`] does. `Path` and `ProviderIds`
//! come only when asked for in `fields`.
//!
//! [`JellyfinClient`] is here with the small calls; the items are in `item` (with their
//! provider ids in `provider_ids`), the paged reading of a listing in `listing`, the paths
//! asked for on their own in `media_paths`, and the collections (BoxSets: find, create, read,
//! add, remove) in `collections`.

mod collections;
mod item;
mod listing;
mod media_paths;
mod provider_ids;

#[cfg(test)]
mod collections_tests;
#[cfg(test)]
mod tests;

use reqwest::Method;
use serde::Deserialize;

use super::http::{ApiError, BuildError, Http, HttpSettings, RequestStats, Service, ServiceClient};

pub use collections::COLLECTION_BATCH;
pub use item::{Item, ItemKind, UserData};
pub use listing::{ItemFilter, Listing};
pub use provider_ids::ProviderIds;

/// Items per `/Items` page. Large pages keep the request count low; Jellyfin has no maximum.
/// A page is held whole while it is read (about 0.6 kB an item), so the pages in flight are
/// what this costs: 1250 with three in flight reads a 12k-item history in 10 pages and holds
/// no more than 1000 with four did.
pub const PAGE_SIZE: usize = 1250;

/// Pages of `/Items` one client asks for at once. Jellyfin builds each page whole before it
/// sends it: a few at once keep a slow server busy without piling work on it.
pub const PAGES_IN_FLIGHT: usize = 3;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

/// `SessionInfoDto`: only what tells which item is playing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Session {
    #[serde(default)]
    pub user_name: Option<String>,
    /// Absent when the session is idle. Carries `Id`, `Path` and, for episodes, `SeriesId` and
    /// the season and episode numbers.
    #[serde(default)]
    pub now_playing_item: Option<Item>,
}

/// Typed Jellyfin client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct JellyfinClient {
    api: ServiceClient,
    page_size: usize,
    /// Pages of `/Items` in flight at once, across every listing of this client and its clones.
    pages: std::sync::Arc<tokio::sync::Semaphore>,
}

impl JellyfinClient {
    /// A client for the Jellyfin at `base_url` (a path prefix such as `http://host/jellyfin` and a
    /// trailing `/` are fine), authenticating with `Authorization: MediaBrowser Token="…"`.
    /// Nothing is sent until the first call.
    pub fn new(
        http: &Http,
        base_url: &str,
        api_key: &str,
        settings: HttpSettings,
    ) -> Result<Self, BuildError> {
        Ok(JellyfinClient {
            api: ServiceClient::new(http, Service::Jellyfin.into(), base_url, api_key, settings)?,
            page_size: PAGE_SIZE,
            pages: std::sync::Arc::new(tokio::sync::Semaphore::new(PAGES_IN_FLIGHT)),
        })
    }

    /// The same client with another `/Items` page size (tests, or a server that struggles with
    /// big pages).
    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    pub fn stats(&self) -> RequestStats {
        self.api.stats()
    }

    /// The server it talks to.
    pub fn server(&self) -> crate::clients::http::Server {
        self.api.server()
    }

    /// The limits its requests are sent with.
    pub fn settings(&self) -> &HttpSettings {
        self.api.settings()
    }

    /// `GET /Users`.
    pub async fn users(&self) -> Result<Vec<User>, ApiError> {
        self.api.get_json("/Users", &[]).await
    }

    /// `GET /Sessions`.
    pub async fn sessions(&self) -> Result<Vec<Session>, ApiError> {
        self.api.get_json("/Sessions", &[]).await
    }

    /// `POST /Library/Refresh`: start a library scan (answers 204 at once; the scan is
    /// asynchronous). Sent once, never retried.
    pub async fn refresh_library(&self) -> Result<(), ApiError> {
        self.api
            .send(Method::POST, "/Library/Refresh", &[], None::<&()>)
            .await
            .map(drop)
    }
}
