//! What Radarr and Sonarr share: their v3 API's client, built on the key header `X-Api-Key`, with
//! the calls both answer alike (tags, root folders, health) and the request helpers both use.
//!
//! [`ArrClient`] is generic over which *arr it talks to; `radarr` and `sonarr` add the calls of
//! their own to `ArrClient<Radarr>` ([`RadarrClient`](super::RadarrClient)) and
//! `ArrClient<Sonarr>` ([`SonarrClient`](super::SonarrClient)).

use std::fmt;
use std::marker::PhantomData;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::http::ServiceClient;
use super::http::{ApiError, BuildError, Class, Http, HttpSettings, RequestStats, Server, Service};

/// Which *arr an [`ArrClient`] talks to.
pub trait Arr {
    const SERVICE: Service;
}

/// `TagResource` of Radarr and Sonarr.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    pub id: i32,
    #[serde(default)]
    pub label: Option<String>,
}

/// `RootFolderResource` of Radarr and Sonarr.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RootFolder {
    #[serde(default)]
    pub id: i32,
    #[serde(default)]
    pub path: String,
    /// Older *arr versions do not report it; they are taken at their word that the folder is
    /// there (the host's own mount checks still apply). An explicit `false` stops deletions.
    #[serde(default = "yes")]
    pub accessible: bool,
}

/// `HealthResource` of Radarr and Sonarr: one problem the *arr sees in itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthItem {
    /// The check that found it: `RootFolderCheck`, `MountCheck`, `IndexerStatusCheck`…
    #[serde(default)]
    pub source: Option<String>,
    /// `ok`, `notice`, `warning` or `error`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

fn yes() -> bool {
    true
}

/// Typed Radarr or Sonarr client (`A` says which). Cheap to clone.
pub struct ArrClient<A> {
    pub(super) api: ServiceClient,
    arr: PhantomData<A>,
}

// By hand: a derive would ask `A`, a marker that is never built, to be `Clone` and `Debug` too.
impl<A> Clone for ArrClient<A> {
    fn clone(&self) -> Self {
        ArrClient {
            api: self.api.clone(),
            arr: PhantomData,
        }
    }
}

impl<A> fmt::Debug for ArrClient<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArrClient").field("api", &self.api).finish()
    }
}

impl<A: Arr> ArrClient<A> {
    /// A client for the *arr at `base_url` (path prefix and trailing `/` allowed), sending the
    /// key as `X-Api-Key`. Nothing is sent until the first call.
    pub fn new(
        http: &Http,
        base_url: &str,
        api_key: &str,
        settings: HttpSettings,
    ) -> Result<Self, BuildError> {
        Self::named(http, A::SERVICE.key(), base_url, api_key, settings)
    }

    /// The same for the instance the config calls `name` (one of several Radarrs, say).
    pub fn named(
        http: &Http,
        name: &str,
        base_url: &str,
        api_key: &str,
        settings: HttpSettings,
    ) -> Result<Self, BuildError> {
        let server = Server::new(A::SERVICE, name);
        Ok(ArrClient {
            api: ServiceClient::new(http, server, base_url, api_key, settings)?,
            arr: PhantomData,
        })
    }

    /// The instance it talks to.
    pub fn server(&self) -> Server {
        self.api.server()
    }

    pub fn stats(&self) -> RequestStats {
        self.api.stats()
    }

    /// The limits its requests are sent with.
    pub fn settings(&self) -> &HttpSettings {
        self.api.settings()
    }

    /// `GET /api/v3/tag`.
    pub async fn tags(&self) -> Result<Vec<Tag>, ApiError> {
        self.api.get_json("/api/v3/tag", &[]).await
    }

    /// `GET /api/v3/rootfolder`.
    pub async fn root_folders(&self) -> Result<Vec<RootFolder>, ApiError> {
        self.api.get_json("/api/v3/rootfolder", &[]).await
    }

    /// `GET /api/v3/health`: the problems the server sees in itself.
    pub async fn health(&self) -> Result<Vec<HealthItem>, ApiError> {
        self.api.get_json("/api/v3/health", &[]).await
    }

    /// `GET path?query` as a request of `class`, decoded; `None` when the *arr does not know
    /// what it names (404).
    pub(super) async fn get_known<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        class: Class,
    ) -> Result<Option<T>, ApiError> {
        match self.api.get(path, query, class).await {
            Ok(answer) => self.api.decode(&Method::GET, path, answer).map(Some),
            Err(ApiError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A write whose answer is not read: any 2xx counts.
    pub(super) async fn write<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<(), ApiError> {
        self.api.send(method, path, query, body).await.map(drop)
    }
}
