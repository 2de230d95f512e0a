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

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The servers shelflife talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Jellyfin,
    Radarr,
    Sonarr,
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

/// Limits applied to every request of one service.
///
/// Requests come in three kinds ([`Class`]), because the servers treat them differently. A small
/// read (tags, root folders, one item) answers in milliseconds and gets [`HttpSettings::timeout`].
/// A big list (Radarr's movies, Sonarr's series or calendar, a page of Jellyfin items) is built
/// whole before its first byte is sent, which on a Raspberry Pi with a large library takes
/// minutes: it gets [`HttpSettings::list_timeout`] for its first byte. A write (a delete, an
/// unmonitor) is carried out by the server even when its client has gone, so it is resent only
/// when it surely did not arrive; otherwise the caller looks at what happened instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Deadline of one small request or write, from connecting to the last byte of the body;
    /// between two chunks of a list's body, the longest pause.
    pub timeout: Duration,
    /// Deadline for the first byte of a big list's answer. The whole attempt may take twice this.
    pub list_timeout: Duration,
    /// Deadline for the TCP (and TLS) connection: a server that is down is known quickly.
    pub connect_timeout: Duration,
    /// A response body longer than this is refused ([`ApiError::TooLarge`]). A Radarr library of
    /// 10k movies is about 50 MB of JSON, hence the generous default.
    pub max_body_bytes: usize,
    /// Extra attempts after the first for transient failures of small reads, and for writes that
    /// were refused before the server acted (no connection, 429, 503). A list is retried once.
    pub retries: u32,
    /// Delay before the first retry; doubles on each further one, with jitter.
    pub backoff_base: Duration,
}

/// What a request is, for its deadlines and for whether it may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A small read: short deadline, retried on any transient failure.
    Small,
    /// A big list, built whole by the server before it answers: a long deadline for the first
    /// byte, retried at most once (a list that timed out twice will not come a third time).
    List,
    /// A write (DELETE, PUT, POST): resent only when it surely did not reach the server or was
    /// refused before any work (no connection, 429, 503). A timeout or a 500 may hide a change
    /// that happened: the caller finds out by reading, never by sending it again.
    Write,
}

impl HttpSettings {
    /// The longest one request of `class` can take: every attempt to its deadline, and the
    /// longest wait between attempts. What a caller with its own deadline (the monitor's round,
    /// a pass waiting for a killed pass's last write) must allow.
    pub fn longest(&self, class: Class) -> Duration {
        let attempts = self.attempts(class);
        let per_attempt = match class {
            Class::List => self.list_timeout.saturating_mul(2),
            Class::Small | Class::Write => self.timeout,
        };
        // The connection is part of each attempt's deadline.
        per_attempt.saturating_mul(attempts) + MAX_DELAY.saturating_mul(attempts - 1)
    }

    /// [`HttpSettings::longest`] of a small read: what the monitor's checks send.
    pub fn longest_request(&self) -> Duration {
        self.longest(Class::Small)
    }

    /// How many times a request of `class` may be sent in all.
    fn attempts(&self, class: Class) -> u32 {
        match class {
            Class::List => 1 + self.retries.min(1),
            Class::Small | Class::Write => 1 + self.retries,
        }
    }
}

/// The longest wait between attempts, whatever the backoff or a `Retry-After` asks for: a pass is
/// a short batch job, and a server that wants minutes of quiet is better left to the next pass.
const MAX_DELAY: Duration = Duration::from_secs(30);

/// How much of a response body an error message quotes.
const SNIPPET_CHARS: usize = 200;

/// The process's HTTP clients. Build it once; clones share the connection pools.
///
/// reqwest sets the connect deadline per client, not per request, so there is one client per
/// connect deadline in use (in practice one, or one per service).
#[derive(Debug, Clone, Default)]
pub struct Http {
    clients: Arc<std::sync::Mutex<HashMap<Duration, reqwest::Client>>>,
}

impl Http {
    pub fn new() -> Result<Self, BuildError> {
        let http = Http::default();
        // Fail early on a TLS setup that cannot work, before any service is built.
        http.client(HttpSettings::default().connect_timeout)?;
        Ok(http)
    }

    /// The client whose connections give up after `connect_timeout`.
    fn client(&self, connect_timeout: Duration) -> Result<reqwest::Client, BuildError> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = clients.get(&connect_timeout) {
            return Ok(client.clone());
        }
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(concat!("shelflife/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(connect_timeout)
            // The *arrs and Jellyfin never legitimately redirect API calls; following one could
            // carry the key header to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(BuildError::Client)?;
        clients.insert(connect_timeout, client.clone());
        Ok(client)
    }
}

/// A client that cannot be built: the configuration is wrong, no request was made.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot set up the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    #[error("the {service} URL {url:?} is not usable: {reason}")]
    BadUrl {
        service: Service,
        url: String,
        reason: String,
    },
    #[error("the {service} API key is empty or contains characters not allowed in an HTTP header")]
    BadKey { service: Service },
}

/// A request as error messages name it: method and path below the base URL, no query string
/// (queries carry ids, never secrets, but they make messages long and unstable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub method: Method,
    pub path: String,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Why the last attempt of a request that is given up on failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The server answered with this (5xx or 429) status.
    Status(StatusCode),
    /// No connection could be made.
    Connect,
    /// The attempt did not finish within [`HttpSettings::timeout`].
    Timeout,
    /// The connection broke while sending or reading.
    Transport,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Status(s) => write!(f, "it answered {s}"),
            Cause::Connect => f.write_str("cannot connect"),
            Cause::Timeout => f.write_str("no complete answer within the timeout"),
            Cause::Transport => f.write_str("the connection failed"),
        }
    }
}

/// A failed request, named by what the caller does next. Every variant names the service and the
/// endpoint, and the status when there was one.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401/403: the key is wrong or lacks rights. Fix the configuration; retrying cannot help.
    #[error("{service} answered {status} for {endpoint}: check the API key")]
    Unauthorized {
        service: Service,
        endpoint: Endpoint,
        status: StatusCode,
    },
    /// 404: the server does not know the item (any more).
    #[error("{service} answered {status} for {endpoint}: no such item")]
    NotFound {
        service: Service,
        endpoint: Endpoint,
        status: StatusCode,
    },
    /// 409: the *arr says the root folder is missing or empty. The storage is not there: stop
    /// the pass, delete nothing more.
    #[error("{service} answered {status} for {endpoint}: its root folder is missing or empty, so the storage is not there (body starts: {snippet})")]
    Conflict {
        service: Service,
        endpoint: Endpoint,
        status: StatusCode,
        snippet: String,
    },
    /// Any other 4xx: the server refused this request; a retry would be refused the same way.
    #[error("{service} rejected {endpoint} with {status}: {snippet}")]
    Rejected {
        service: Service,
        endpoint: Endpoint,
        status: StatusCode,
        snippet: String,
    },
    /// 5xx, 429, no connection or a timeout, still so after the retries. Try again later.
    #[error("{service} is unavailable for {endpoint} after {attempts} attempt(s): {cause}")]
    Unavailable {
        service: Service,
        endpoint: Endpoint,
        attempts: u32,
        cause: Cause,
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The body is not the JSON the API documents describe.
    #[error("{service} sent a response to {endpoint} that is not the expected JSON: {source}; body starts: {snippet}")]
    Protocol {
        service: Service,
        endpoint: Endpoint,
        status: StatusCode,
        snippet: String,
        #[source]
        source: serde_json::Error,
    },
    /// The body exceeded [`HttpSettings::max_body_bytes`].
    #[error(
        "{service} sent a response to {endpoint} ({status}) larger than the limit of {limit} bytes"
    )]
    TooLarge {
        service: Service,
        endpoint: Endpoint,
        status: StatusCode,
        limit: usize,
    },
    /// shelflife refused to send a request that the server is known to mishandle (such as an
    /// empty bulk delete). A bug in the caller; nothing was sent.
    #[error("{endpoint} was not sent to {service}: {reason}")]
    NotSent {
        service: Service,
        endpoint: Endpoint,
        reason: &'static str,
    },
}

impl ApiError {
    /// True when the same request may succeed later (the server was down, slow or overloaded).
    pub fn is_transient(&self) -> bool {
        matches!(self, ApiError::Unavailable { .. })
    }

    /// For a write: true when the server may have carried it out, in part or whole, although
    /// no success came back: the answer never came (a timeout, a broken connection), or the
    /// server failed midway (a 5xx other than 503). The caller must look before acting again.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            ApiError::Unavailable { cause, .. } => match cause {
                Cause::Timeout | Cause::Transport => true,
                Cause::Status(s) => s.is_server_error() && *s != StatusCode::SERVICE_UNAVAILABLE,
                Cause::Connect => false,
            },
            _ => false,
        }
    }

    pub fn service(&self) -> Service {
        match self {
            ApiError::Unauthorized { service, .. }
            | ApiError::NotFound { service, .. }
            | ApiError::Conflict { service, .. }
            | ApiError::Rejected { service, .. }
            | ApiError::Unavailable { service, .. }
            | ApiError::Protocol { service, .. }
            | ApiError::TooLarge { service, .. }
            | ApiError::NotSent { service, .. } => *service,
        }
    }

    /// The HTTP status of the last answer, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Unauthorized { status, .. }
            | ApiError::NotFound { status, .. }
            | ApiError::Conflict { status, .. }
            | ApiError::Rejected { status, .. }
            | ApiError::Protocol { status, .. }
            | ApiError::TooLarge { status, .. } => Some(*status),
            ApiError::Unavailable {
                cause: Cause::Status(s),
                ..
            } => Some(*s),
            ApiError::Unavailable { .. } | ApiError::NotSent { .. } => None,
        }
    }
}

/// Requests made to one service since its client was built, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// HTTP requests sent, each retry counted.
    pub requests: u64,
    /// Of those, the ones that failed: no answer, or a status other than 2xx.
    pub errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    errors: AtomicU64,
}

/// A successful (2xx) answer, body fully read.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

/// One attempt's result before it is judged.
enum Attempt {
    Answered {
        status: StatusCode,
        retry_after: Option<Duration>,
        body: Vec<u8>,
    },
    Failed {
        cause: Cause,
        source: Option<reqwest::Error>,
    },
    TooLarge {
        status: StatusCode,
    },
    /// A streamed body was not what the caller expected.
    Malformed {
        status: StatusCode,
        error: serde_json::Error,
        snippet: String,
    },
}

/// Where a 2xx body goes when it is read as it arrives instead of whole ([`ServiceClient::get_filtered`]).
trait BodySink: Send {
    /// Starts over: a retry is about to send the body again.
    fn reset(&mut self);
    fn feed(&mut self, chunk: &[u8]) -> Result<(), serde_json::Error>;
    /// The body ended.
    fn finish(&mut self) -> Result<(), serde_json::Error>;
}

/// An element of a list that could not be read as what the API documents describe (a date
/// without an offset, an id of the wrong type). One such element does not fail the list: the
/// caller leaves what it describes alone. Too many of them do ([`too_many_malformed`]).
#[derive(Debug, Clone)]
pub struct Malformed {
    /// Why it could not be read.
    pub error: String,
    /// The element as JSON, when it is JSON at all: to name it in the log, and for a caller
    /// to see what it belonged to (an episode's `seriesId`).
    pub element: Option<serde_json::Value>,
}

impl Malformed {
    fn new(bytes: &[u8], error: &serde_json::Error) -> Self {
        Malformed {
            error: error.to_string(),
            element: serde_json::from_slice(bytes).ok(),
        }
    }

    /// A field of the element (`"seriesId"`, `"Id"`), when it is there and readable as text or
    /// a number.
    pub fn field(&self, name: &str) -> Option<String> {
        match self.element.as_ref()?.get(name)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The element, shortened for a log line.
    pub fn snippet(&self) -> String {
        let text = self
            .element
            .as_ref()
            .map_or_else(|| "(not JSON)".to_owned(), |v| v.to_string());
        snippet(text.as_bytes())
    }
}

/// Up to this many malformed elements are tolerated in one list, and no more than one in twenty
/// (one in a short list, never all): beyond that the list is not the API shelflife knows (a new
/// server version, a proxy's page), and a pass that read it would decide on noise.
const MAX_MALFORMED: usize = 10;

/// Whether `malformed` of `elements` is more than a list may have and still be trusted.
pub fn too_many_malformed(malformed: usize, elements: usize) -> bool {
    malformed > MAX_MALFORMED
        || malformed > (elements / 20).max(1)
        || (malformed > 0 && malformed >= elements)
}

/// A list read with [`ServiceClient::get_grouped`]: the kept values by group, and the elements
/// that could not be read.
#[derive(Debug)]
pub struct Grouped<K, V> {
    pub groups: HashMap<K, Vec<V>>,
    pub malformed: Vec<Malformed>,
}

/// A JSON array's elements of type `T`, parsed one at a time and each turned into a group key
/// and a value, or dropped.
struct GroupedArray<T, K, V, F> {
    splitter: super::stream::ArraySplitter,
    max_element: usize,
    group: F,
    groups: HashMap<K, Vec<V>>,
    elements: usize,
    malformed: Vec<Malformed>,
    element: std::marker::PhantomData<fn() -> T>,
}

impl<T, K, V, F> BodySink for GroupedArray<T, K, V, F>
where
    T: DeserializeOwned,
    K: Hash + Eq + Send,
    V: Send,
    F: FnMut(T) -> Option<(K, V)> + Send,
{
    fn reset(&mut self) {
        self.splitter = super::stream::ArraySplitter::new(self.max_element);
        self.groups.clear();
        self.elements = 0;
        self.malformed.clear();
    }

    fn feed(&mut self, chunk: &[u8]) -> Result<(), serde_json::Error> {
        let (group, groups) = (&mut self.group, &mut self.groups);
        let (elements, malformed) = (&mut self.elements, &mut self.malformed);
        self.splitter.feed(chunk, |bytes: &[u8]| {
            *elements += 1;
            let item: T = match serde_json::from_slice(bytes) {
                Ok(item) => item,
                Err(error) => {
                    malformed.push(Malformed::new(bytes, &error));
                    if malformed.len() > MAX_MALFORMED {
                        return Err(error);
                    }
                    return Ok(());
                }
            };
            if let Some((key, value)) = group(item) {
                let values = groups.entry(key).or_default();
                if values.len() == values.capacity() {
                    // By a quarter, not double: on a large calendar these groups are most of
                    // what a pass holds, and doubling leaves up to half of them unused.
                    values.reserve_exact((values.len() / 4).max(4));
                }
                values.push(value);
            }
            Ok(())
        })
    }

    fn finish(&mut self) -> Result<(), serde_json::Error> {
        self.splitter.finish().map_err(serde_json::Error::from)?;
        if too_many_malformed(self.malformed.len(), self.elements) {
            let first = self.malformed.first().map_or("", |m| m.error.as_str());
            return Err(<serde_json::Error as serde::de::Error>::custom(format!(
                "{} of its {} elements could not be read, too many to trust the rest (the first: {first})",
                self.malformed.len(),
                self.elements
            )));
        }
        for values in self.groups.values_mut() {
            values.shrink_to_fit();
        }
        Ok(())
    }
}

impl From<super::stream::SplitError> for serde_json::Error {
    fn from(err: super::stream::SplitError) -> Self {
        <serde_json::Error as serde::de::Error>::custom(err)
    }
}

/// The HTTP client of one service: base URL, auth header, limits and counters. Cheap to clone;
/// clones share the connection pool and the counters.
#[derive(Clone)]
pub struct ServiceClient {
    client: reqwest::Client,
    service: Service,
    /// Scheme, host and path prefix (reverse proxy), without a trailing `/`.
    base: String,
    auth: (HeaderName, HeaderValue),
    settings: HttpSettings,
    counters: Arc<Counters>,
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
        service: Service,
        base_url: &str,
        api_key: &str,
        settings: HttpSettings,
    ) -> Result<Self, BuildError> {
        let base = normalize_base(service, base_url)?;
        let auth = auth_header(service, api_key)?;
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

    fn endpoint(&self, method: &Method, path: &str) -> Endpoint {
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

    /// `GET path?query` of a big list whose answer is a JSON array, read element by element as
    /// it arrives: the elements `keep` accepts are kept, the others dropped at once. The body is
    /// never in memory, only one element at a time. An element that cannot be read is logged and
    /// left out (see [`Malformed`]); too many of them fail the list.
    pub async fn get_filtered<T: DeserializeOwned + Send>(
        &self,
        path: &str,
        query: &[(&str, String)],
        keep: impl Fn(&T) -> bool + Send,
    ) -> Result<Vec<T>, ApiError> {
        let mut listed = self
            .get_grouped(path, query, move |item: T| {
                keep(&item).then_some(((), item))
            })
            .await?;
        for m in &listed.malformed {
            self.log_malformed(path, m);
        }
        Ok(listed.groups.remove(&()).unwrap_or_default())
    }

    /// Every readable element of the big JSON array at `GET path?query`, read as it arrives: a
    /// large list is never in memory twice (as a body and as values).
    pub async fn get_list<T: DeserializeOwned + Send>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, ApiError> {
        self.get_filtered(path, query, |_| true).await
    }

    /// Logs an element of `path`'s answer that could not be read, and that is left alone.
    pub fn log_malformed(&self, path: &str, m: &Malformed) {
        tracing::warn!(
            service = %self.service,
            endpoint = path,
            "{} sent an element of GET {path} that cannot be read; what it describes is left              alone: {}; element: {}",
            self.service,
            m.error,
            m.snippet()
        );
    }

    /// [`ServiceClient::get_filtered`], with the elements sorted into groups as they arrive:
    /// `group` turns an element into its group's key and the value to keep (usually something
    /// smaller), or `None` to drop it. The values of a group keep the order of the answer. The
    /// elements that could not be read come back for the caller to judge.
    pub async fn get_grouped<T, K, V>(
        &self,
        path: &str,
        query: &[(&str, String)],
        group: impl FnMut(T) -> Option<(K, V)> + Send,
    ) -> Result<Grouped<K, V>, ApiError>
    where
        T: DeserializeOwned,
        K: Hash + Eq + Send,
        V: Send,
    {
        let mut sink = GroupedArray {
            splitter: super::stream::ArraySplitter::new(self.settings.max_body_bytes),
            max_element: self.settings.max_body_bytes,
            group,
            groups: HashMap::new(),
            elements: 0,
            malformed: Vec::new(),
            element: std::marker::PhantomData,
        };
        self.send_into(
            Method::GET,
            path,
            query,
            None::<&()>,
            Some(&mut sink),
            Class::List,
        )
        .await?;
        Ok(Grouped {
            groups: sink.groups,
            malformed: sink.malformed,
        })
    }

    /// [`ServiceClient::send`], with a 2xx body going to `sink` (when given) as it arrives.
    async fn send_into<'s, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        mut sink: Option<&mut (dyn BodySink + 's)>,
        class: Class,
    ) -> Result<Answer, ApiError> {
        let url = self.url(&method, path, query)?;
        // A body is serialized once, before any attempt; this cannot fail for the plain structs
        // the clients send, but a failure is still reported rather than unwrapped.
        let body = match body.map(serde_json::to_vec).transpose() {
            Ok(b) => b,
            Err(_) => {
                return Err(ApiError::NotSent {
                    service: self.service,
                    endpoint: self.endpoint(&method, path),
                    reason: "the request body could not be serialized",
                })
            }
        };
        let attempts_allowed = self.settings.attempts(class);
        let mut attempt_no = 0;
        loop {
            attempt_no += 1;
            if let Some(sink) = sink.as_deref_mut() {
                sink.reset();
            }
            let started = std::time::Instant::now();
            let outcome = self
                .attempt(&method, &url, body.as_deref(), sink.as_deref_mut(), class)
                .await;
            let ok = matches!(&outcome, Attempt::Answered { status, .. } if status.is_success());
            tracing::debug!(
                service = %self.service,
                endpoint = %self.endpoint(&method, path),
                ok,
                ms = started.elapsed().as_millis() as u64,
                "request"
            );
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            if !ok {
                self.counters.errors.fetch_add(1, Ordering::Relaxed);
            }
            let (delay_hint, cause, source) = match outcome {
                Attempt::Answered { status, body, .. } if status.is_success() => {
                    return Ok(Answer { status, body })
                }
                Attempt::Answered {
                    status,
                    retry_after,
                    body,
                } => {
                    if !is_transient_status(status) {
                        return Err(self.status_error(&method, path, status, &body));
                    }
                    (retry_after, Cause::Status(status), None)
                }
                Attempt::Failed { cause, source } => (None, cause, source),
                Attempt::Malformed {
                    status,
                    error,
                    snippet,
                } => {
                    return Err(ApiError::Protocol {
                        service: self.service,
                        endpoint: self.endpoint(&method, path),
                        status,
                        snippet,
                        source: error,
                    })
                }
                Attempt::TooLarge { status } => {
                    return Err(ApiError::TooLarge {
                        service: self.service,
                        endpoint: self.endpoint(&method, path),
                        status,
                        limit: self.settings.max_body_bytes,
                    })
                }
            };
            if attempt_no >= attempts_allowed || !may_resend(class, &cause) {
                return Err(ApiError::Unavailable {
                    service: self.service,
                    endpoint: self.endpoint(&method, path),
                    attempts: attempt_no,
                    cause,
                    source,
                });
            }
            let delay = backoff(self.settings.backoff_base, attempt_no, delay_hint);
            tracing::debug!(
                service = %self.service,
                endpoint = %self.endpoint(&method, path),
                attempt = attempt_no,
                cause = %cause,
                delay_ms = delay.as_millis() as u64,
                "retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    fn url(&self, method: &Method, path: &str, query: &[(&str, String)]) -> Result<Url, ApiError> {
        // `base` was validated as a URL and `path` is one of the clients' API paths with numeric
        // ids, so this parses; should it not, nothing is sent.
        let mut url =
            Url::parse(&format!("{}{}", self.base, path)).map_err(|_| ApiError::NotSent {
                service: self.service,
                endpoint: self.endpoint(method, path),
                reason: "the request URL could not be formed",
            })?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// One request, bounded in time and body size (a body that goes to `sink` is not held, so
    /// only its elements are bounded). A small request or a write must be over within
    /// `timeout`; a list must start answering within `list_timeout`, may pause no longer than
    /// `timeout` between chunks, and must be over within twice `list_timeout`.
    async fn attempt<'s>(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
        mut sink: Option<&mut (dyn BodySink + 's)>,
        class: Class,
    ) -> Attempt {
        let settings = &self.settings;
        let (first_byte, whole) = match class {
            Class::List => (
                settings.list_timeout,
                settings.list_timeout.saturating_mul(2),
            ),
            Class::Small | Class::Write => (settings.timeout, settings.timeout),
        };
        let gap = settings.timeout;
        let mut req = self
            .client
            .request(method.clone(), url.clone())
            .header(self.auth.0.clone(), self.auth.1.clone())
            .header(ACCEPT, "application/json");
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_vec());
        }
        let limit = settings.max_body_bytes;
        let work = async {
            let mut resp = match tokio::time::timeout(first_byte, req.send()).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => return transport_failure(e),
                Err(_) => return timed_out(),
            };
            let status = resp.status();
            let retry_after = parse_retry_after(resp.headers().get(RETRY_AFTER));
            // An error answer is judged by its status; its body only feeds a snippet, so a
            // huge one is cut short rather than turned into `TooLarge`.
            let failed = !status.is_success();
            if let (false, Some(sink)) = (failed, sink.as_deref_mut()) {
                return stream_into(&mut resp, status, sink, gap).await;
            }
            if !failed && resp.content_length().is_some_and(|n| n > limit as u64) {
                return Attempt::TooLarge { status };
            }
            // Content-Length may be absent (chunked) or wrong: count what actually arrives.
            let mut buf = Vec::new();
            loop {
                match next_chunk(&mut resp, gap).await {
                    Ok(Some(chunk)) => {
                        if buf.len() + chunk.len() > limit {
                            if failed {
                                break;
                            }
                            return Attempt::TooLarge { status };
                        }
                        buf.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(failure) => return failure,
                }
            }
            Attempt::Answered {
                status,
                retry_after,
                body: buf,
            }
        };
        match tokio::time::timeout(whole, work).await {
            Ok(a) => a,
            Err(_) => timed_out(),
        }
    }

    fn status_error(
        &self,
        method: &Method,
        path: &str,
        status: StatusCode,
        body: &[u8],
    ) -> ApiError {
        let service = self.service;
        let endpoint = self.endpoint(method, path);
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ApiError::Unauthorized {
                service,
                endpoint,
                status,
            },
            StatusCode::NOT_FOUND => ApiError::NotFound {
                service,
                endpoint,
                status,
            },
            StatusCode::CONFLICT => ApiError::Conflict {
                service,
                endpoint,
                status,
                snippet: snippet(body),
            },
            _ => ApiError::Rejected {
                service,
                endpoint,
                status,
                snippet: snippet(body),
            },
        }
    }
}

/// Reads a 2xx body into `sink` as it arrives.
async fn stream_into<'s>(
    resp: &mut reqwest::Response,
    status: StatusCode,
    sink: &mut (dyn BodySink + 's),
    gap: Duration,
) -> Attempt {
    // The last chunk (a cheap handle, not a copy), for the snippet of a body that ends badly.
    let mut last = None;
    let malformed = |error, last: &[u8]| Attempt::Malformed {
        status,
        error,
        snippet: snippet(last),
    };
    loop {
        match next_chunk(resp, gap).await {
            Ok(Some(chunk)) => {
                if let Err(error) = sink.feed(&chunk) {
                    return malformed(error, &chunk);
                }
                last = Some(chunk);
            }
            Ok(None) => break,
            Err(failure) => return failure,
        }
    }
    match sink.finish() {
        Ok(()) => Attempt::Answered {
            status,
            retry_after: None,
            body: Vec::new(),
        },
        Err(error) => malformed(error, last.as_deref().unwrap_or_default()),
    }
}

/// The next chunk of a body, when it comes within `gap` of the last one.
async fn next_chunk(
    resp: &mut reqwest::Response,
    gap: Duration,
) -> Result<Option<bytes::Bytes>, Attempt> {
    match tokio::time::timeout(gap, resp.chunk()).await {
        Ok(Ok(chunk)) => Ok(chunk),
        Ok(Err(e)) => Err(transport_failure(e)),
        Err(_) => Err(timed_out()),
    }
}

fn timed_out() -> Attempt {
    Attempt::Failed {
        cause: Cause::Timeout,
        source: None,
    }
}

/// Whether a request of `class` that failed with `cause` may be sent again. A read may; a list
/// too (its attempts are fewer); a write only when the server surely did not act on it.
fn may_resend(class: Class, cause: &Cause) -> bool {
    match class {
        Class::Small | Class::List => true,
        Class::Write => match cause {
            Cause::Connect => true,
            Cause::Status(s) => {
                *s == StatusCode::TOO_MANY_REQUESTS || *s == StatusCode::SERVICE_UNAVAILABLE
            }
            Cause::Timeout | Cause::Transport => false,
        },
    }
}

fn transport_failure(e: reqwest::Error) -> Attempt {
    let cause = if e.is_timeout() {
        Cause::Timeout
    } else if e.is_connect() {
        Cause::Connect
    } else {
        Cause::Transport
    };
    Attempt::Failed {
        cause,
        // The URL is dropped so that no error ever carries more than the endpoint.
        source: Some(e.without_url()),
    }
}

fn is_transient_status(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

/// `Retry-After` in seconds. The HTTP-date form is ignored: the servers here send seconds if any.
fn parse_retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    let secs: u64 = value?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
}

/// Delay before attempt `failed + 1`: `base * 2^(failed-1)`, scaled by a random factor in
/// [0.5, 1.5) so that several clients do not retry in step; at least what `Retry-After` asked
/// for; never more than [`MAX_DELAY`].
fn backoff(base: Duration, failed: u32, retry_after: Option<Duration>) -> Duration {
    let exp = base.saturating_mul(1u32 << failed.saturating_sub(1).min(16));
    let jittered = exp.mul_f64(0.5 + fastrand::f64());
    jittered.max(retry_after.unwrap_or_default()).min(MAX_DELAY)
}

/// The first [`SNIPPET_CHARS`] characters of a body, lossily decoded, for error messages.
fn snippet(body: &[u8]) -> String {
    let head = &body[..body.len().min(SNIPPET_CHARS * 4)];
    let text = String::from_utf8_lossy(head);
    let mut s: String = text.chars().take(SNIPPET_CHARS).collect();
    if text.chars().count() > SNIPPET_CHARS || head.len() < body.len() {
        s.push('…');
    }
    if s.is_empty() {
        s.push_str("(empty)");
    }
    s
}

fn normalize_base(service: Service, base_url: &str) -> Result<String, BuildError> {
    let bad = |reason: &str| {
        // A URL with a password would put it in the message: show it without.
        let shown = match Url::parse(base_url) {
            Ok(mut u) => {
                let _ = u.set_password(None);
                u.to_string()
            }
            Err(_) => base_url.to_owned(),
        };
        BuildError::BadUrl {
            service,
            url: shown,
            reason: reason.to_owned(),
        }
    };
    let url = Url::parse(base_url.trim()).map_err(|e| bad(&e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(bad("the scheme must be http or https"));
    }
    if url.host_str().is_none() {
        return Err(bad("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it must not have a query or fragment"));
    }
    let mut s = url.to_string();
    while s.ends_with('/') {
        s.pop();
    }
    Ok(s)
}

fn auth_header(service: Service, api_key: &str) -> Result<(HeaderName, HeaderValue), BuildError> {
    let key = api_key.trim();
    // A quote would end Jellyfin's `Token="…"` early; control characters are not valid in headers.
    if key.is_empty() || key.contains('"') {
        return Err(BuildError::BadKey { service });
    }
    let (name, value) = match service {
        Service::Jellyfin => (AUTHORIZATION, format!("MediaBrowser Token=\"{key}\"")),
        Service::Radarr | Service::Sonarr => (HeaderName::from_static("x-api-key"), key.to_owned()),
    };
    let mut value = HeaderValue::from_str(&value).map_err(|_| BuildError::BadKey { service })?;
    value.set_sensitive(true);
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::test_server::{start, Reply};

    fn fast() -> HttpSettings {
        HttpSettings {
            timeout: Duration::from_secs(5),
            list_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: 1024,
            retries: 3,
            backoff_base: Duration::from_millis(10),
        }
    }

    fn client(service: Service, url: &str, settings: HttpSettings) -> ServiceClient {
        ServiceClient::new(&Http::new().unwrap(), service, url, "k", settings).unwrap()
    }

    #[tokio::test]
    async fn server_error_then_success_takes_two_requests() {
        let srv = start(|_, n| {
            if n == 0 {
                Reply::status(500)
            } else {
                Reply::json("[1,2]")
            }
        })
        .await;
        let c = client(Service::Radarr, &srv.url, fast());
        let v: Vec<i32> = c.get_json("/api/v3/tag", &[]).await.unwrap();
        assert_eq!(v, vec![1, 2]);
        assert_eq!(srv.count(), 2);
        assert_eq!(
            c.stats(),
            RequestStats {
                requests: 2,
                errors: 1
            }
        );
    }

    #[tokio::test]
    async fn too_many_requests_is_retried() {
        let srv = start(|_, n| {
            if n == 0 {
                Reply::status(429).header("retry-after", "0")
            } else {
                Reply::json("[]")
            }
        })
        .await;
        let c = client(Service::Sonarr, &srv.url, fast());
        let v: Vec<i32> = c.get_json("/api/v3/tag", &[]).await.unwrap();
        assert!(v.is_empty());
        assert_eq!(srv.count(), 2);
    }

    #[tokio::test]
    async fn a_filtered_list_keeps_only_what_is_asked_for() {
        let srv = start(|_, _| Reply::json(r#"[{"id":1},{"id":2},{"id":3},{"id":4}]"#)).await;
        let c = client(Service::Sonarr, &srv.url, fast());
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Id {
            id: i32,
        }
        let even: Vec<Id> = c
            .get_filtered("/api/v3/calendar", &[], |i: &Id| i.id % 2 == 0)
            .await
            .unwrap();
        assert_eq!(even, [Id { id: 2 }, Id { id: 4 }]);
    }

    #[tokio::test]
    async fn a_grouped_list_sorts_elements_into_groups_in_their_order_and_drops_the_rest() {
        let srv = start(|_, _| {
            Reply::json(
                r#"[{"s":1,"e":1},{"s":2,"e":1},{"s":1,"e":2},{"s":3,"e":1},{"s":2,"e":2},{"s":1,"e":3}]"#,
            )
        })
        .await;
        let c = client(Service::Sonarr, &srv.url, fast());
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Ep {
            s: i32,
            e: i32,
        }
        let groups = c
            .get_grouped("/api/v3/calendar", &[], |x: Ep| {
                (x.s != 3).then_some((x.s, x.e))
            })
            .await
            .unwrap();
        assert!(groups.malformed.is_empty());
        let groups = groups.groups;
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[&1], [1, 2, 3]);
        assert_eq!(groups[&2], [1, 2]);
    }

    #[tokio::test]
    async fn a_filtered_list_retried_after_a_500_keeps_each_element_once() {
        let srv = start(|_, n| {
            if n == 0 {
                Reply::status(500)
            } else {
                Reply::json("[1, 2, 3]")
            }
        })
        .await;
        let c = client(Service::Sonarr, &srv.url, fast());
        let all: Vec<i32> = c
            .get_filtered("/api/v3/calendar", &[], |_| true)
            .await
            .unwrap();
        assert_eq!(all, [1, 2, 3]);
        assert_eq!(srv.count(), 2);
    }

    #[tokio::test]
    async fn a_filtered_list_that_is_not_an_array_is_a_protocol_error() {
        for (body, why) in [
            ("<html>nginx</html>", "expected a JSON array"),
            ("[1, 2", "cut short"),
            (r#"[{"id": "x"}]"#, "invalid type"),
        ] {
            let srv = start(move |_, _| Reply::json(body)).await;
            let c = client(Service::Sonarr, &srv.url, fast());
            let err = c
                .get_filtered::<i32>("/api/v3/calendar", &[], |_| true)
                .await
                .unwrap_err();
            assert!(matches!(err, ApiError::Protocol { .. }), "{err:?}");
            let chain = format!("{err} {:?}", std::error::Error::source(&err));
            assert!(chain.contains(why), "{why}: {chain}");
            assert_eq!(
                srv.count(),
                1,
                "a body that is wrong is not asked for again"
            );
        }
    }

    #[test]
    fn the_longest_request_allows_every_attempt_and_every_wait() {
        let settings = HttpSettings::default();
        assert_eq!(
            settings.longest_request(),
            Duration::from_secs(4 * 30 + 3 * 30)
        );
        let once = HttpSettings {
            retries: 0,
            ..settings
        };
        assert_eq!(once.longest_request(), Duration::from_secs(30));
    }

    #[test]
    fn backoff_grows_honours_retry_after_and_is_capped() {
        let base = Duration::from_millis(100);
        for _ in 0..50 {
            let first = backoff(base, 1, None);
            assert!(first >= Duration::from_millis(50) && first < Duration::from_millis(150));
            let third = backoff(base, 3, None);
            assert!(third >= Duration::from_millis(200) && third < Duration::from_millis(600));
        }
        assert!(backoff(base, 1, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
        assert_eq!(backoff(base, 1, Some(Duration::from_secs(3600))), MAX_DELAY);
        assert_eq!(backoff(base, 40, None), MAX_DELAY);
        assert_eq!(
            parse_retry_after(Some(&HeaderValue::from_static(" 7 "))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after(Some(&HeaderValue::from_static(
                "Wed, 21 Oct 2015 07:28:00 GMT"
            ))),
            None
        );
    }

    #[tokio::test]
    async fn client_errors_are_not_retried() {
        let srv = start(|_, _| Reply::status(400).body("{\"message\":\"seriesId missing\"}")).await;
        let c = client(Service::Sonarr, &srv.url, fast());
        let err = c
            .get_json::<Vec<i32>>("/api/v3/episode", &[])
            .await
            .unwrap_err();
        assert_eq!(srv.count(), 1);
        assert!(matches!(err, ApiError::Rejected { .. }), "{err:?}");
        assert!(!err.is_transient());
        let msg = err.to_string();
        assert!(
            msg.contains("Sonarr rejected GET /api/v3/episode with 400 Bad Request")
                && msg.contains("seriesId missing"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn a_write_the_server_may_have_acted_on_is_sent_once() {
        for status in [500, 502, 504] {
            let srv = start(move |_, _| Reply::status(status)).await;
            let c = client(Service::Sonarr, &srv.url, fast());
            let err = c
                .send(Method::DELETE, "/api/v3/episodefile/bulk", &[], Some(&[1]))
                .await
                .unwrap_err();
            assert_eq!(srv.count(), 1, "{status}");
            assert!(
                matches!(err, ApiError::Unavailable { attempts: 1, .. }),
                "{err:?}"
            );
            assert!(err.outcome_unknown(), "{status}");
        }
        // No answer in time: the server may still be at it.
        let srv = start(|_, _| Reply::json("{}").delay(Duration::from_millis(500))).await;
        let settings = HttpSettings {
            timeout: Duration::from_millis(100),
            ..fast()
        };
        let c = client(Service::Radarr, &srv.url, settings);
        let err = c
            .send(Method::DELETE, "/api/v3/movie/3", &[], None::<&()>)
            .await
            .unwrap_err();
        assert_eq!(srv.count(), 1);
        assert!(err.outcome_unknown(), "{err:?}");
        // A POST too.
        let srv = start(|_, _| Reply::status(500)).await;
        let c = client(Service::Jellyfin, &srv.url, fast());
        c.send(Method::POST, "/Library/Refresh", &[], None::<&()>)
            .await
            .unwrap_err();
        assert_eq!(srv.count(), 1);
    }

    #[tokio::test]
    async fn a_write_refused_before_any_work_is_sent_again() {
        for status in [503, 429] {
            let srv = start(move |_, n| {
                if n == 0 {
                    Reply::status(status)
                } else {
                    Reply::json("{}")
                }
            })
            .await;
            let c = client(Service::Radarr, &srv.url, fast());
            c.send(Method::DELETE, "/api/v3/movie/3", &[], None::<&()>)
                .await
                .unwrap();
            assert_eq!(srv.count(), 2, "{status}");
        }
        let refused = start(|_, _| Reply::status(503)).await;
        let c = client(Service::Radarr, &refused.url, fast());
        let err = c
            .send(Method::DELETE, "/api/v3/movie/3", &[], None::<&()>)
            .await
            .unwrap_err();
        assert!(!err.outcome_unknown(), "a 503 did nothing: {err:?}");
    }

    #[tokio::test]
    async fn a_slow_list_waits_for_its_first_byte_and_is_retried_once() {
        // Slower than `timeout`, within `list_timeout`: the list comes.
        let srv = start(|_, _| Reply::json("[1]").delay(Duration::from_millis(400))).await;
        let settings = HttpSettings {
            timeout: Duration::from_millis(100),
            list_timeout: Duration::from_secs(5),
            ..fast()
        };
        let c = client(Service::Sonarr, &srv.url, settings.clone());
        let all: Vec<i32> = c.get_list("/api/v3/calendar", &[]).await.unwrap();
        assert_eq!(all, [1]);
        // A small read that slow times out.
        let err = c
            .get_json::<Vec<i32>>("/api/v3/tag", &[])
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ApiError::Unavailable {
                    cause: Cause::Timeout,
                    ..
                }
            ),
            "{err:?}"
        );
        // Slower than `list_timeout`: two attempts, not four.
        let srv = start(|_, _| Reply::json("[1]").delay(Duration::from_millis(400))).await;
        let c = client(
            Service::Sonarr,
            &srv.url,
            HttpSettings {
                list_timeout: Duration::from_millis(100),
                ..settings
            },
        );
        let err = c
            .get_list::<i32>("/api/v3/calendar", &[])
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ApiError::Unavailable {
                    cause: Cause::Timeout,
                    attempts: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(srv.count(), 2);
    }

    /// A list's body that stops flowing for longer than `timeout` is given up on, however long
    /// `list_timeout` is.
    #[tokio::test]
    async fn a_list_body_that_stalls_times_out() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = sock.read(&mut buf).await;
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n3\r\n[1,\r\n";
                    let _ = sock.write_all(head.as_bytes()).await;
                    tokio::time::sleep(Duration::from_millis(600)).await;
                    let _ = sock.write_all(b"2\r\n2]\r\n0\r\n\r\n").await;
                });
            }
        });
        let settings = HttpSettings {
            timeout: Duration::from_millis(150),
            list_timeout: Duration::from_secs(5),
            ..fast()
        };
        let c = client(Service::Sonarr, &format!("http://{addr}"), settings);
        let err = c
            .get_list::<i32>("/api/v3/calendar", &[])
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ApiError::Unavailable {
                    cause: Cause::Timeout,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn the_longest_of_each_kind_of_request() {
        let s = HttpSettings::default();
        assert_eq!(
            s.longest(Class::Small),
            Duration::from_secs(4 * 30 + 3 * 30)
        );
        assert_eq!(
            s.longest(Class::Write),
            Duration::from_secs(4 * 30 + 3 * 30)
        );
        // Two attempts of up to twice the first-byte deadline, one wait between.
        assert_eq!(s.longest(Class::List), Duration::from_secs(2 * 360 + 30));
        assert!(
            s.list_timeout >= Duration::from_secs(120),
            "a Pi builds big lists slowly"
        );
        let once = HttpSettings { retries: 0, ..s };
        assert_eq!(once.longest(Class::Write), Duration::from_secs(30));
        assert_eq!(once.longest(Class::List), Duration::from_secs(360));
    }

    #[tokio::test]
    async fn gives_up_after_the_retries_with_unavailable() {
        let srv = start(|_, _| Reply::status(503)).await;
        let settings = HttpSettings {
            retries: 2,
            ..fast()
        };
        let c = client(Service::Radarr, &srv.url, settings);
        let err = c
            .send(Method::DELETE, "/api/v3/movie/3", &[], None::<&()>)
            .await
            .unwrap_err();
        assert_eq!(srv.count(), 3);
        assert!(err.is_transient());
        assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(
            err.to_string(),
            "Radarr is unavailable for DELETE /api/v3/movie/3 after 3 attempt(s): it answered 503 Service Unavailable"
        );
        assert_eq!(c.stats().errors, 3);
    }

    #[tokio::test]
    async fn unauthorized_names_service_status_and_key() {
        let srv = start(|_, _| Reply::status(401)).await;
        let c = ServiceClient::new(
            &Http::new().unwrap(),
            Service::Jellyfin,
            &srv.url,
            "sekrit-key",
            fast(),
        )
        .unwrap();
        let err = c.get_json::<Vec<i32>>("/Users", &[]).await.unwrap_err();
        assert_eq!(srv.count(), 1, "401 is not retried");
        assert_eq!(
            err.to_string(),
            "Jellyfin answered 401 Unauthorized for GET /Users: check the API key"
        );
        assert!(!format!("{err:?}{c:?}").contains("sekrit"));
        let srv = start(|_, _| Reply::status(403)).await;
        let c = client(Service::Sonarr, &srv.url, fast());
        let err = c.get_json::<()>("/api/v3/series", &[]).await.unwrap_err();
        assert!(matches!(err, ApiError::Unauthorized { .. }));
    }

    #[tokio::test]
    async fn not_found_and_conflict_are_told_apart() {
        let srv = start(|s, _| {
            if s.path.ends_with("/1") {
                Reply::status(404)
            } else {
                Reply::status(409).body("Root folder missing")
            }
        })
        .await;
        let c = client(Service::Sonarr, &srv.url, fast());
        let nf = c
            .send(Method::DELETE, "/api/v3/episodefile/1", &[], None::<&()>)
            .await
            .unwrap_err();
        assert!(matches!(nf, ApiError::NotFound { .. }), "{nf:?}");
        let conflict = c
            .send(Method::DELETE, "/api/v3/episodefile/2", &[], None::<&()>)
            .await
            .unwrap_err();
        assert!(
            matches!(conflict, ApiError::Conflict { .. }),
            "{conflict:?}"
        );
        let msg = conflict.to_string();
        assert!(
            msg.starts_with("Sonarr answered 409 Conflict for DELETE /api/v3/episodefile/2")
                && msg.contains("Root folder missing"),
            "{msg}"
        );
        assert_eq!(srv.count(), 2);
    }

    #[tokio::test]
    async fn garbage_body_is_a_protocol_error_naming_service_and_endpoint() {
        let srv = start(|_, _| Reply::json("<html>login</html>")).await;
        let c = client(Service::Sonarr, &srv.url, fast());
        let err = c
            .get_json::<Vec<i32>>("/api/v3/series", &[])
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "Sonarr sent a response to GET /api/v3/series that is not the expected JSON: "
            ) && msg.ends_with("body starts: <html>login</html>"),
            "{msg}"
        );
        assert!(std::error::Error::source(&err).is_some());
    }

    #[tokio::test]
    async fn body_over_the_limit_is_too_large() {
        let srv = start(|_, _| Reply::json(format!("[{}0]", "0,".repeat(1000)))).await;
        let c = client(Service::Radarr, &srv.url, fast());
        let err = c
            .get_json::<Vec<i32>>("/api/v3/movie", &[])
            .await
            .unwrap_err();
        assert!(
            matches!(err, ApiError::TooLarge { limit: 1024, .. }),
            "{err:?}"
        );
        assert_eq!(srv.count(), 1, "a too large body is not retried");
    }

    #[tokio::test]
    async fn an_error_status_with_a_huge_body_is_still_judged_by_its_status() {
        let srv = start(|_, _| Reply::status(401).body("x".repeat(5000))).await;
        let c = client(Service::Radarr, &srv.url, fast());
        let err = c
            .get_json::<Vec<i32>>("/api/v3/movie", &[])
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
    }

    /// Content-Length absent (chunked): the limit must still hold while reading.
    #[tokio::test]
    async fn chunked_body_over_the_limit_is_too_large() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let mut out =
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                    .to_vec();
            for _ in 0..10 {
                let chunk = "x".repeat(500);
                out.extend_from_slice(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes());
            }
            out.extend_from_slice(b"0\r\n\r\n");
            let _ = sock.write_all(&out).await;
        });
        let c = client(Service::Radarr, &format!("http://{addr}"), fast());
        let err = c
            .get_json::<Vec<i32>>("/api/v3/movie", &[])
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::TooLarge { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn slow_server_times_out_as_unavailable() {
        let srv = start(|_, _| Reply::json("[]").delay(Duration::from_millis(800))).await;
        let settings = HttpSettings {
            timeout: Duration::from_millis(100),
            retries: 1,
            ..fast()
        };
        let c = client(Service::Jellyfin, &srv.url, settings);
        let err = c.get_json::<Vec<i32>>("/Sessions", &[]).await.unwrap_err();
        assert!(
            matches!(
                err,
                ApiError::Unavailable {
                    cause: Cause::Timeout,
                    attempts: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(srv.count(), 2);
    }

    #[tokio::test]
    async fn connection_refused_is_unavailable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let c = client(Service::Radarr, &format!("http://{addr}"), fast());
        let err = c
            .get_json::<Vec<i32>>("/api/v3/movie", &[])
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ApiError::Unavailable {
                    cause: Cause::Connect,
                    attempts: 4,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("cannot connect"), "{err}");
    }

    #[tokio::test]
    async fn auth_headers_per_service() {
        let srv = start(|_, _| Reply::json("[]")).await;
        client(Service::Jellyfin, &srv.url, fast())
            .get_json::<Vec<i32>>("/Users", &[])
            .await
            .unwrap();
        client(Service::Radarr, &srv.url, fast())
            .get_json::<Vec<i32>>("/api/v3/tag", &[])
            .await
            .unwrap();
        let seen = srv.seen();
        let jf = &seen[0].headers;
        assert_eq!(jf["authorization"], "MediaBrowser Token=\"k\"");
        for legacy in [
            "x-emby-token",
            "x-mediabrowser-token",
            "x-emby-authorization",
            "x-api-key",
        ] {
            assert!(
                !jf.contains_key(legacy),
                "Jellyfin request carries {legacy}"
            );
        }
        assert_eq!(seen[0].query, "", "no key in the query");
        let arr = &seen[1].headers;
        assert_eq!(arr["x-api-key"], "k");
        assert!(!arr.contains_key("authorization"));
        assert_eq!(seen[1].query, "");
    }

    #[tokio::test]
    async fn base_url_path_prefix_and_trailing_slash() {
        let srv = start(|_, _| Reply::json("[]")).await;
        let c = client(Service::Jellyfin, &format!("{}/jellyfin/", srv.url), fast());
        c.get_json::<Vec<i32>>("/Items", &[("limit", "5".into())])
            .await
            .unwrap();
        let seen = srv.seen();
        assert_eq!(seen[0].path, "/jellyfin/Items");
        assert_eq!(seen[0].param("limit").as_deref(), Some("5"));
    }

    #[test]
    fn bad_base_urls_and_keys_are_refused_without_leaking() {
        let http = Http::new().unwrap();
        let s = HttpSettings::default;
        for url in ["ftp://host", "not a url", "http://host/?x=1"] {
            let err = ServiceClient::new(&http, Service::Sonarr, url, "k", s()).unwrap_err();
            assert!(matches!(err, BuildError::BadUrl { .. }), "{url}: {err:?}");
        }
        let err = ServiceClient::new(&http, Service::Radarr, "ftp://u:pw@h", "k", s()).unwrap_err();
        assert!(!err.to_string().contains("pw"), "{err}");
        for key in ["", "  ", "a\"b", "a\nb"] {
            let err =
                ServiceClient::new(&http, Service::Jellyfin, "http://h", key, s()).unwrap_err();
            assert!(matches!(err, BuildError::BadKey { .. }), "{key:?}");
        }
    }

    #[test]
    fn snippets_are_bounded() {
        let long = "é".repeat(500);
        let s = snippet(long.as_bytes());
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(snippet(b"short"), "short");
        assert_eq!(snippet(b""), "(empty)");
    }
}
