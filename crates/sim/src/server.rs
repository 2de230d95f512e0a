//! The HTTP side of the simulated stack: auth, fault injection, the request log, and one handler
//! per service that answers the way the API documents say the real server does (Seerr's
//! handler does its own auth, see `seerr`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{json, Value};
use tokio::sync::watch;

use super::world::World;
use super::{jellyfin, radarr, seerr, sonarr};
use crate::service::Service;

/// One request as a server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Raw query string ("" when none).
    pub query: String,
    pub body: String,
    /// Bytes of the response body (what the client had to receive and parse).
    pub response_bytes: usize,
}

/// A successful delete, as passed to an `on_delete` hook when the request takes effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteEvent {
    pub service: Service,
    pub path: String,
    /// Paths of the files the delete removes. A Radarr movie's files are listed here when its
    /// record goes; they leave the disk a moment later (see `SimStack::movie_file_lag`).
    pub removed: Vec<String>,
}

/// See [`crate::SimStack::fail_path`].
pub(super) struct PathFault {
    pub service: Service,
    pub method: Method,
    pub prefix: String,
    pub status: u16,
    pub left: usize,
}

pub type DeleteHook = Arc<dyn Fn(&DeleteEvent, &mut World) + Send + Sync>;
pub type RequestHook = Arc<dyn Fn(&Recorded, &mut World) + Send + Sync>;
pub type RewriteHook = Arc<dyn Fn(&Recorded, String) -> String + Send + Sync>;

pub(super) struct Faults {
    pub fail_next: HashMap<Service, VecDeque<u16>>,
    /// Failures for the next requests of one method to paths that start with a prefix
    /// (Jellyfin paths lowercase), whatever comes between them.
    pub fail_path: Vec<PathFault>,
    pub garbage: HashMap<Service, bool>,
    pub delete_delay: Duration,
    pub on_delete: Option<DeleteHook>,
    pub legacy_auth: bool,
    /// How long after its answer a Radarr movie DELETE removes the movie's files.
    pub movie_file_lag: Duration,
    /// Paths whose answers start this long after the request came in (Jellyfin paths lowercase).
    pub slow_paths: HashMap<(Service, String), Duration>,
    pub on_request: Option<RequestHook>,
    pub rewrite: HashMap<Service, RewriteHook>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            fail_next: HashMap::new(),
            fail_path: Vec::new(),
            garbage: HashMap::new(),
            delete_delay: Duration::ZERO,
            on_delete: None,
            legacy_auth: false,
            movie_file_lag: DEFAULT_MOVIE_FILE_LAG,
            slow_paths: HashMap::new(),
            on_request: None,
            rewrite: HashMap::new(),
        }
    }
}

/// The key of a path in [`Faults::slow_paths`]: Jellyfin's routes ignore case.
pub(super) fn path_key(service: Service, path: &str) -> (Service, String) {
    match service {
        Service::Jellyfin => (service, path.to_ascii_lowercase()),
        Service::Radarr | Service::Sonarr | Service::Seerr => (service, path.to_string()),
    }
}

/// Radarr deletes a movie's folder on an event handler after the request has been answered.
pub(super) const DEFAULT_MOVIE_FILE_LAG: Duration = Duration::from_millis(100);

pub(super) struct Inner {
    pub world: World,
    /// Counts the changes the world may have had: what is derived from it (Jellyfin's order of
    /// `/Items`) is valid for one generation. Whoever takes the world to change it bumps this.
    pub generation: u64,
    pub jellyfin_orders: jellyfin::Orders,
    pub log: Vec<Logged>,
    /// The number the next request gets in the log.
    pub next_request: u64,
    pub faults: Faults,
    pub keys: HashMap<Service, String>,
}

/// One entry of the request log. Requests finish out of order (a delayed DELETE, a cleared log),
/// so the one that finishes finds its entry by number, not by position.
pub(super) struct Logged {
    pub number: u64,
    pub service: Service,
    pub recorded: Recorded,
}

impl Inner {
    /// The world, to change it.
    pub fn world_mut(&mut self) -> &mut World {
        self.generation += 1;
        &mut self.world
    }

    fn logged_mut(&mut self, number: u64) -> Option<&mut Recorded> {
        self.log
            .iter_mut()
            .rev()
            .find(|l| l.number == number)
            .map(|l| &mut l.recorded)
    }
}

/// The world and the log behind one lock, and a count of the work still under way.
pub(super) struct State {
    inner: Mutex<Inner>,
    /// Requests being carried out plus background file removals: [`Shared::idle`] waits for 0.
    pending: watch::Sender<usize>,
}

#[derive(Clone)]
pub(super) struct Shared(Arc<State>);

impl Shared {
    pub fn new(inner: Inner) -> Shared {
        Shared(Arc::new(State {
            inner: Mutex::new(inner),
            pending: watch::Sender::new(0),
        }))
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread may poison the lock; the data is still what the test needs.
        self.0
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts one piece of work as under way until the guard is dropped.
    pub fn busy(&self) -> Busy {
        self.0.pending.send_modify(|n| *n += 1);
        Busy(self.clone())
    }

    /// Waits until no work is under way.
    pub async fn idle(&self) {
        let mut pending = self.0.pending.subscribe();
        // The sender lives as long as `self`, so this only ends when the count is 0.
        let _ = pending.wait_for(|n| *n == 0).await;
    }
}

/// Work under way (see [`Shared::busy`]).
pub(super) struct Busy(Shared);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0 .0.pending.send_modify(|n| *n = n.saturating_sub(1));
    }
}

pub(super) type Query = Vec<(String, String)>;

/// The entry point of every request to `service`.
///
/// A real server carries out a request whether or not its client is still there: once the
/// request is in, its work (after any configured delay) runs on a task of its own, which this
/// future only waits for. A client that gives up drops this future, not the work.
pub(super) async fn handle(
    shared: Shared,
    service: Service,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let raw_query = uri.query().unwrap_or("").to_string();
    let query: Query = serde_urlencoded_pairs(&raw_query);
    let body_text = String::from_utf8_lossy(&body).into_owned();

    let arrived = tokio::time::Instant::now();
    let recorded = Recorded {
        method: method.to_string(),
        path: path.clone(),
        query: raw_query,
        body: body_text.clone(),
        response_bytes: 0,
    };
    let busy = shared.busy();
    let (number, early, delay, slow) = {
        let mut inner = shared.lock();
        let number = inner.next_request;
        inner.next_request += 1;
        inner.log.push(Logged {
            number,
            service,
            recorded: recorded.clone(),
        });
        let early = refusal(&mut inner, service, &method, &path, &headers, &query);
        let delay = if method == Method::DELETE {
            inner.faults.delete_delay
        } else {
            Duration::ZERO
        };
        let slow = inner
            .faults
            .slow_paths
            .get(&path_key(service, &path))
            .copied()
            .unwrap_or_default();
        (number, early, delay, slow)
    };
    let answer = match early {
        Some(answer) => {
            let answer = finish(&shared, service, number, recorded, answer);
            drop(busy);
            answer
        }
        None => {
            let work = shared.clone();
            let task = tokio::spawn(async move {
                let _busy = busy;
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let request = Request {
                    method: &method,
                    path: &path,
                    query: &query,
                    headers: &headers,
                    body: &body_text,
                };
                let answer = carry_out(&work, service, &request);
                finish(&work, service, number, recorded, answer)
            });
            task.await.unwrap_or_else(|_| {
                Answer::text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "simulated server panicked",
                )
            })
        }
    };
    // A server that builds a big answer whole sends nothing, not even the status line, before
    // it is done. The wait holds no lock.
    if !slow.is_zero() {
        tokio::time::sleep_until(arrived + slow).await;
    }
    answer.into_response()
}

/// The answer a request gets before any handler sees it: an injected failure, a missing key,
/// or the garbage a misconfigured proxy sends.
fn refusal(
    inner: &mut Inner,
    service: Service,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    query: &Query,
) -> Option<Answer> {
    if let Some(status) = inner
        .faults
        .fail_next
        .get_mut(&service)
        .and_then(VecDeque::pop_front)
    {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Some(Answer::text(status, "simulated failure"));
    }
    let key = path_key(service, path);
    if let Some(fault) = (inner.faults.fail_path.iter_mut()).find(|f| {
        f.left > 0 && f.service == service && f.method == *method && key.1.starts_with(&f.prefix)
    }) {
        fault.left -= 1;
        let status =
            StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Some(Answer::text(status, "simulated failure"));
    }
    if !authorized(inner, service, path, headers, query) {
        return Some(Answer::empty(StatusCode::UNAUTHORIZED));
    }
    if method == Method::GET && inner.faults.garbage.get(&service).copied().unwrap_or(false) {
        return Some(Answer::text(
            StatusCode::OK,
            "<html><body>Welcome to nginx!</body></html>",
        ));
    }
    None
}

/// What a handler leaves to be done besides its answer.
#[derive(Default)]
pub(super) struct Effects {
    /// For the `on_delete` hook.
    pub event: Option<DeleteEvent>,
    /// A Radarr movie folder to delete a moment after the answer.
    pub remove_folder: Option<String>,
}

/// Runs the service's handler under the world lock, then the `on_delete` hook, and schedules
/// what the handler left for later.
fn carry_out(shared: &Shared, service: Service, request: &Request<'_>) -> Answer {
    let mut guard = shared.lock();
    let inner = &mut *guard;
    // Only GETs leave the world as it is.
    if request.method != Method::GET {
        inner.generation += 1;
    }
    let mut effects = Effects::default();
    let answer = match service {
        Service::Jellyfin => jellyfin::jellyfin(
            &mut inner.world,
            &mut inner.jellyfin_orders,
            inner.generation,
            request,
        ),
        Service::Radarr => radarr::radarr(&mut inner.world, request, &mut effects),
        Service::Sonarr => sonarr::sonarr(&mut inner.world, request, &mut effects),
        Service::Seerr => {
            let key = inner.keys.get(&Service::Seerr).map_or("", String::as_str);
            seerr::seerr(&mut inner.world, key, request, &mut effects)
        }
    };
    if let (Some(event), Some(hook)) = (&effects.event, inner.faults.on_delete.clone()) {
        hook(event, inner.world_mut());
    }
    if let Some(folder) = effects.remove_folder {
        let lag = inner.faults.movie_file_lag;
        if lag.is_zero() {
            radarr::remove_folder(inner.world_mut(), &folder);
        } else {
            let busy = shared.busy();
            let shared = shared.clone();
            tokio::spawn(async move {
                let _busy = busy;
                tokio::time::sleep(lag).await;
                radarr::remove_folder(shared.lock().world_mut(), &folder);
            });
        }
    }
    answer
}

/// The last steps of every request: a test's `rewrite` of the body (outside the lock, it may be
/// big), its size into the log, then the `on_request` hook with the world.
fn finish(
    shared: &Shared,
    service: Service,
    number: u64,
    mut recorded: Recorded,
    mut answer: Answer,
) -> Answer {
    let rewrite = shared.lock().faults.rewrite.get(&service).cloned();
    if let Some(rewrite) = rewrite {
        answer.body = rewrite(&recorded, std::mem::take(&mut answer.body));
    }
    recorded.response_bytes = answer.body.len();
    let mut inner = shared.lock();
    if let Some(logged) = inner.logged_mut(number) {
        logged.response_bytes = recorded.response_bytes;
    }
    if let Some(hook) = inner.faults.on_request.clone() {
        hook(&recorded, inner.world_mut());
    }
    answer
}

fn serde_urlencoded_pairs(raw: &str) -> Query {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match bytes[i] {
            b'+' => Some((b' ', 1)),
            b'%' => bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .map(|b| (b, 3)),
            _ => None,
        };
        match decoded {
            Some((b, len)) => {
                out.push(b);
                i += len;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query parameter lookup, case-insensitive like ASP.NET model binding.
pub(super) fn param<'a>(query: &'a Query, name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Every value of a parameter, repeated or comma-separated.
pub(super) fn params(query: &Query, name: &str) -> Vec<String> {
    query
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|v| !v.is_empty())
        .collect()
}

pub(super) fn flag(query: &Query, name: &str) -> bool {
    param(query, name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn authorized(
    inner: &Inner,
    service: Service,
    path: &str,
    headers: &HeaderMap,
    query: &Query,
) -> bool {
    let Some(key) = inner.keys.get(&service) else {
        return false;
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match service {
        Service::Jellyfin => {
            if path.eq_ignore_ascii_case("/System/Info/Public") {
                return true;
            }
            let from_authorization = header("authorization").and_then(mediabrowser_token);
            if from_authorization.as_deref() == Some(key.as_str()) {
                return true;
            }
            // `ApiKey=` is current; `api_key=` and the X-Emby headers are legacy, off in Jellyfin 12.
            if query.iter().any(|(k, v)| k == "ApiKey" && v == key) {
                return true;
            }
            inner.faults.legacy_auth
                && (header("x-emby-token") == Some(key)
                    || header("x-mediabrowser-token") == Some(key)
                    || query.iter().any(|(k, v)| k == "api_key" && v == key))
        }
        Service::Radarr | Service::Sonarr => {
            header("x-api-key") == Some(key.as_str())
                || param(query, "apikey") == Some(key.as_str())
        }
        // Seerr's refusals depend on the route (a 404 or 405 comes first, then a 401 for no
        // credentials, a 403 for wrong ones): its handler answers for them.
        Service::Seerr => true,
    }
}

/// The token of `Authorization: MediaBrowser Token="…", Client="…"`.
fn mediabrowser_token(value: &str) -> Option<String> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("MediaBrowser") {
        return None;
    }
    rest.split(',').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("Token")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

pub(super) struct Request<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: &'a Query,
    /// Seerr reads its own: `X-Api-Key`, `X-API-User`, `Content-Type`, the session cookie.
    pub headers: &'a HeaderMap,
    pub body: &'a str,
}

/// An answer before it is sent. The body stays a string so the log can count it.
pub(super) struct Answer {
    pub status: StatusCode,
    pub content_type: Option<&'static str>,
    pub body: String,
}

const JSON: &str = "application/json; charset=utf-8";

impl Answer {
    /// A status with no body.
    pub fn empty(status: StatusCode) -> Answer {
        Answer {
            status,
            content_type: None,
            body: String::new(),
        }
    }

    pub fn text(status: StatusCode, body: &str) -> Answer {
        Answer {
            status,
            content_type: Some("text/plain; charset=utf-8"),
            body: body.to_string(),
        }
    }

    pub fn json(status: StatusCode, value: &Value) -> Answer {
        Answer {
            status,
            content_type: Some(JSON),
            body: value.to_string(),
        }
    }

    fn into_response(self) -> Response {
        match self.content_type {
            Some(content_type) => {
                (self.status, [("content-type", content_type)], self.body).into_response()
            }
            None => (self.status, self.body).into_response(),
        }
    }
}

pub(super) fn ok(value: Value) -> Answer {
    Answer::json(StatusCode::OK, &value)
}

pub(super) fn status(code: StatusCode, message: &str) -> Answer {
    Answer::json(code, &json!({ "message": message }))
}

/// A typed body, serialized without building a `Value` first (big lists stay quick).
pub(super) fn typed_json(status: StatusCode, value: &impl serde::Serialize) -> Answer {
    match serde_json::to_string(value) {
        Ok(body) => Answer {
            status,
            content_type: Some(JSON),
            body,
        },
        Err(_) => Answer::text(StatusCode::INTERNAL_SERVER_ERROR, "serialization failed"),
    }
}

/// Jellyfin writes 7 fractional digits when the milliseconds are zero (JsonDateTimeConverter).
pub(super) fn jellyfin_date(t: Timestamp) -> String {
    if t.subsec_nanosecond() == 0 {
        t.strftime("%Y-%m-%dT%H:%M:%S.0000000Z").to_string()
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b+c%2Cd"), "a b c,d");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
