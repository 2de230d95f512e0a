//! The client of one service: what it is built from, and its requests of small answers and
//! writes. Big lists are read by [`lists`](super::lists).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::errors::snippet;
use super::{
    auth, base_url, ApiError, BuildError, Class, Endpoint, Http, HttpSettings, Server, Service,
};

/// Requests made to one service since its client was built, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// HTTP requests sent, each retry counted.
    pub requests: u64,
    /// Of those, the ones that failed: no answer, or a status other than 2xx.
    pub errors: u64,
}

/// What [`RequestStats`] counts, shared by a client's clones.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) requests: AtomicU64,
    pub(super) errors: AtomicU64,
}

/// A successful (2xx) answer, body fully read.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

/// The HTTP client of one service: base URL, auth header, limits and counters. Cheap to clone;
/// clones share the connection pool and the counters.
#[derive(Clone)]
pub struct ServiceClient {
    pub(super) client: reqwest::Client,
    pub(super) service: Server,
    /// Scheme, host and path prefix (reverse proxy), without a trailing `/`.
    pub(super) base: String,
    pub(super) auth: (HeaderName, HeaderValue),
    pub(super) settings: HttpSettings,
    pub(super) counters: Arc<Counters>,
}

impl fmt::Debug for ServiceClient {
    // Hand-written so that the key can never end up in a `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceClient")
            .field("service", &self.service)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl ServiceClient {
    /// A client for `service` at `base_url` (which may carry a path prefix and end with `/`),
    /// authenticating the way that service expects.
    pub fn new(
        http: &Http,
        service: Server,
        base_url: &str,
        api_key: &str,
        settings: HttpSettings,
    ) -> Result<Self, BuildError> {
        let base = base_url::parse_base_url(base_url).map_err(|bad| BuildError::BadUrl {
            service,
            url: bad.shown,
            reason: bad.reason,
        })?;
        let auth = auth::header(service, api_key)?;
        Ok(ServiceClient {
            client: http.client(settings.connect_timeout)?,
            service,
            base,
            auth,
            settings,
            counters: Arc::default(),
        })
    }

    pub fn service(&self) -> Service {
        self.service.service
    }

    /// The server it talks to, as errors and logs name it.
    pub fn server(&self) -> Server {
        self.service
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    pub fn stats(&self) -> RequestStats {
        RequestStats {
            requests: self.counters.requests.load(Ordering::Relaxed),
            errors: self.counters.errors.load(Ordering::Relaxed),
        }
    }

    pub(super) fn endpoint(&self, method: &Method, path: &str) -> Endpoint {
        Endpoint {
            method: method.clone(),
            path: path.to_owned(),
        }
    }

    /// `GET path?query` of a small answer, decoded from JSON.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let answer = self.get(path, query, Class::Small).await?;
        self.decode(&Method::GET, path, answer)
    }

    /// `GET path?query` as a request of `class`, the 2xx body read whole (bounded).
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        class: Class,
    ) -> Result<Answer, ApiError> {
        self.send_into(Method::GET, path, query, None::<&()>, None, class)
            .await
    }

    /// Send a write and decode its JSON answer.
    pub async fn send_json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        let answer = self.send(method.clone(), path, query, body).await?;
        self.decode(&method, path, answer)
    }

    /// Decode a 2xx body as `T`, or explain in a [`ApiError::Protocol`] why not.
    pub fn decode<T: DeserializeOwned>(
        &self,
        method: &Method,
        path: &str,
        answer: Answer,
    ) -> Result<T, ApiError> {
        serde_json::from_slice(&answer.body)
            .map_err(|source| self.protocol(method, path, &answer, source))
    }

    /// The [`ApiError::Protocol`] of a 2xx `answer` that is not what was expected.
    pub fn protocol(
        &self,
        method: &Method,
        path: &str,
        answer: &Answer,
        source: serde_json::Error,
    ) -> ApiError {
        ApiError::Protocol {
            service: self.service,
            endpoint: self.endpoint(method, path),
            status: answer.status,
            snippet: snippet(&answer.body),
            source,
        }
    }

    /// The URL of `path?query` below the base URL; a [`ApiError::NotSent`] when none can be
    /// formed.
    pub(super) fn url(
        &self,
        method: &Method,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Url, ApiError> {
        base_url::request_url(&self.base, path, query).ok_or_else(|| ApiError::NotSent {
            service: self.service,
            endpoint: self.endpoint(method, path),
            reason: "the request URL could not be formed",
        })
    }

    /// Send a request and return the 2xx answer with its body read (bounded). A GET is a small
    /// read; any other method a write ([`Class`] says what is retried). Any other outcome is an
    /// [`ApiError`].
    pub async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<Answer, ApiError> {
        let class = if method == Method::GET {
            Class::Small
        } else {
            Class::Write
        };
        self.send_into(method, path, query, body, None, class).await
    }
}
