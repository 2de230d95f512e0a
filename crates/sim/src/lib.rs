//! A simulated Jellyfin, Radarr, Sonarr and Seerr over real HTTP on 127.0.0.1, for tests, the
//! benchmark and `shelflife demo`.
//!
//! The fakes are stateful and follow the API documents in `shared/api-specs/` independently of
//! shelflife's clients (PascalCase and 7-digit dates for Jellyfin, camelCase and fraction-less
//! dates for the *arrs, nulls omitted, auth, paging, status codes, Sonarr's bulk-delete and
//! monitor behaviour), so a client mistake shows up as a test failure.
//!
//! They are as strict as the real servers where those are unkind, as their source shows:
//! Sonarr reads id lists through `BasicRepository.Get(ids)` (one stale id is a 500); a request
//! is carried out even when its client has gone ([`SimStack::idle`] waits for it); Radarr
//! removes a deleted movie's files a moment after answering ([`SimStack::movie_file_lag`]);
//! Jellyfin sorts `/Items` like `BaseItemRepository.ApplyOrder` and pages by offset over the
//! order of the moment, and its `MediaSources` weigh kilobytes. Tests can slow a path down
//! ([`SimStack::slow_path`]), change the world between requests ([`SimStack::on_request`]) and
//! rewrite answers ([`SimStack::rewrite`]).
//!
//! Seerr answers as seerr-team/seerr's routes, entities and request validator do (a media
//! record's id is its own, not the TMDB id; deleting it takes its requests along; a deleted
//! request resets the record's status unless it is AVAILABLE); the call that would make Seerr
//! delete files itself is recorded ([`SimStack::seerr_violations`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use shelflife_sim::{MovieSpec, SimStack, World};
//! let now = jiff::Timestamp::now();
//! let world = World::new(now).user("alice").movie(MovieSpec::new("Heat", 1995).watched("alice", 9.0));
//! let stack = SimStack::start(world).await?;
//! println!("Jellyfin at {}", stack.jellyfin_url());
//! assert!(stack.writes().is_empty());
//! # Ok(()) }
//! ```

mod arr;
mod jellyfin;
mod radarr;
mod seerr;
mod server;
mod service;
mod sonarr;
mod world;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use server::{DeleteEvent, Recorded};
pub use world::{
    Collection, Episode, EpisodeFile, FileMedia, Movie, MovieFile, MovieSpec, RootFolder, Season,
    SeerrIds, SeerrMedia, SeerrMediaStatus, SeerrMediaType, SeerrRequest, SeerrRequestStatus,
    SeerrSeason, SeerrSeasonRequest, SeerrUser, SeerrWorld, Series, SeriesSpec, Session,
    SyntheticSpec, User, Watch, World, MOVIES_ROOT, SEERR_FIRST_MEDIA_ID, SEERR_OWNER, TV_ROOT,
};

use server::{Faults, Inner, Shared};
pub use service::Service;

/// The keys the simulated servers accept.
pub const JELLYFIN_KEY: &str = "sim-jellyfin-key";
pub const RADARR_KEY: &str = "sim-radarr-key";
pub const SONARR_KEY: &str = "sim-sonarr-key";
pub const SEERR_KEY: &str = "sim-seerr-key";

/// The four servers, in the order of [`SimStack::start_on_with_seerr`]'s ports.
const SERVICES: [Service; 4] = [
    Service::Jellyfin,
    Service::Radarr,
    Service::Sonarr,
    Service::Seerr,
];

/// Four running servers sharing one [`World`]. [`SimStack::shutdown`] stops them and waits
/// until they have; dropping the stack only tells them to stop.
pub struct SimStack {
    shared: Shared,
    urls: HashMap<Service, String>,
    servers: Vec<Running>,
}

/// One server task and the signal that starts its graceful shutdown.
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl SimStack {
    /// Binds Jellyfin, Radarr, Sonarr and Seerr on 127.0.0.1 with ports the kernel picks, and
    /// serves `world` until the stack is dropped. Must be called inside a tokio runtime.
    pub async fn start(world: World) -> std::io::Result<SimStack> {
        SimStack::start_on_with_seerr(world, [0, 0, 0, 0]).await
    }

    /// [`SimStack::start`] on fixed ports (Jellyfin, Radarr, Sonarr; 0 lets the kernel pick);
    /// Seerr gets a port the kernel picks.
    pub async fn start_on(world: World, ports: [u16; 3]) -> std::io::Result<SimStack> {
        let [jellyfin, radarr, sonarr] = ports;
        SimStack::start_on_with_seerr(world, [jellyfin, radarr, sonarr, 0]).await
    }

    /// [`SimStack::start`] on fixed ports (Jellyfin, Radarr, Sonarr, Seerr; 0 lets the kernel
    /// pick).
    pub async fn start_on_with_seerr(world: World, ports: [u16; 4]) -> std::io::Result<SimStack> {
        let keys = HashMap::from([
            (Service::Jellyfin, JELLYFIN_KEY.to_string()),
            (Service::Radarr, RADARR_KEY.to_string()),
            (Service::Sonarr, SONARR_KEY.to_string()),
            (Service::Seerr, SEERR_KEY.to_string()),
        ]);
        let shared = Shared::new(Inner {
            world,
            generation: 0,
            jellyfin_orders: jellyfin::Orders::default(),
            log: Vec::new(),
            next_request: 0,
            faults: Faults::default(),
            keys,
        });
        let mut urls = HashMap::new();
        let mut servers = Vec::new();
        for (service, port) in SERVICES.into_iter().zip(ports) {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
            let addr = listener.local_addr()?;
            urls.insert(service, format!("http://{addr}"));
            let app = Router::new()
                .fallback(
                    move |State(shared): State<Shared>,
                          method: Method,
                          uri: Uri,
                          headers: HeaderMap,
                          body: axum::body::Bytes| {
                        server::handle(shared, service, method, uri, headers, body)
                    },
                )
                .with_state(shared.clone());
            let (stop, stopped) = oneshot::channel::<()>();
            let task = tokio::spawn(async move {
                // A dropped sender (the stack dropped) stops the server as a sent () does.
                let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                    let _ = stopped.await;
                });
                if let Err(err) = serve.await {
                    tracing::warn!("simulated {service} stopped: {err}");
                }
            });
            servers.push(Running { stop, task });
        }
        Ok(SimStack {
            shared,
            urls,
            servers,
        })
    }

    pub fn url(&self, service: Service) -> &str {
        self.urls.get(&service).map(String::as_str).unwrap_or("")
    }
    pub fn jellyfin_url(&self) -> &str {
        self.url(Service::Jellyfin)
    }
    pub fn radarr_url(&self) -> &str {
        self.url(Service::Radarr)
    }
    pub fn sonarr_url(&self) -> &str {
        self.url(Service::Sonarr)
    }
    pub fn seerr_url(&self) -> &str {
        self.url(Service::Seerr)
    }

    /// A config file for this stack (keys inline, everything else default) plus `extra` TOML
    /// appended (e.g. a `[rules]` table).
    pub fn config_toml(&self, extra: &str) -> String {
        let users: Vec<String> = self.with_world(|w| {
            (w.users.iter())
                .filter(|u| u.counted)
                .map(|u| format!("{:?}", u.name))
                .collect()
        });
        format!(
            "[jellyfin]\nurl = \"{}\"\napi_key = \"{JELLYFIN_KEY}\"\nusers = [{}]\n\n\
             [radarr]\nurl = \"{}\"\napi_key = \"{RADARR_KEY}\"\n\n\
             [sonarr]\nurl = \"{}\"\napi_key = \"{SONARR_KEY}\"\n\n{extra}",
            self.jellyfin_url(),
            users.join(", "),
            self.radarr_url(),
            self.sonarr_url(),
        )
    }

    /// A `[seerr]` table for this stack's Seerr (key inline), to append to
    /// [`SimStack::config_toml`], which leaves Seerr out.
    pub fn seerr_toml(&self) -> String {
        format!(
            "[seerr]\nurl = \"{}\"\napi_key = \"{SEERR_KEY}\"\n",
            self.seerr_url()
        )
    }

    /// Every `DELETE /api/v1/media/{id}/file` Seerr received, answered or refused (it deletes
    /// the title through Radarr/Sonarr itself; shelflife must never call it), as
    /// `DELETE <path>[?<query>]`. One answered by [`SimStack::fail_next`] or
    /// [`SimStack::fail_path`] never reached Seerr and is not listed.
    pub fn seerr_violations(&self) -> Vec<String> {
        self.shared.lock().world.seerr.violations.clone()
    }

    /// Reads or changes the world under its lock.
    pub fn with_world<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        f(self.shared.lock().world_mut())
    }

    /// Every request `service` received, in order.
    pub fn requests(&self, service: Service) -> Vec<Recorded> {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|l| l.service == service)
            .map(|l| l.recorded.clone())
            .collect()
    }

    pub fn count(&self, service: Service) -> usize {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|l| l.service == service)
            .count()
    }

    /// Every request that is not a GET, in order, across services.
    pub fn writes(&self) -> Vec<(Service, Recorded)> {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|l| l.recorded.method != "GET")
            .map(|l| (l.service, l.recorded.clone()))
            .collect()
    }

    /// Forgets the request log (between passes of one test).
    pub fn clear_log(&self) {
        self.shared.lock().log.clear();
    }

    /// The next `n` requests to `service` get `status` instead of an answer.
    pub fn fail_next(&self, service: Service, status: u16, n: usize) {
        let mut inner = self.shared.lock();
        let queue = inner.faults.fail_next.entry(service).or_default();
        queue.extend(std::iter::repeat_n(status, n));
    }

    /// Ends the failures [`SimStack::fail_next`] and [`SimStack::fail_path`] left for
    /// `service`: it is back up.
    pub fn heal(&self, service: Service) {
        let mut inner = self.shared.lock();
        inner.faults.fail_next.remove(&service);
        inner.faults.fail_path.retain(|f| f.service != service);
    }

    /// The next `n` `method` requests to `service` whose path starts with `prefix` (Jellyfin's
    /// compared without case, as its routes are) get `status`; other requests are answered as
    /// usual meanwhile.
    pub fn fail_path(&self, service: Service, method: &str, prefix: &str, status: u16, n: usize) {
        let Ok(method) = Method::from_bytes(method.as_bytes()) else {
            return;
        };
        let prefix = server::path_key(service, prefix).1;
        self.shared.lock().faults.fail_path.push(server::PathFault {
            service,
            method,
            prefix,
            status,
            left: n,
        });
    }

    /// While on, GET requests to `service` get a 200 with an HTML body.
    pub fn garbage(&self, service: Service, on: bool) {
        self.shared.lock().faults.garbage.insert(service, on);
    }

    /// Waits until the servers have finished every request they received (including those whose
    /// client gave up) and every background file removal.
    pub async fn idle(&self) {
        self.shared.idle().await;
    }

    /// Every DELETE waits this long before it is carried out. It is carried out even when the
    /// client stops waiting for it ([`SimStack::idle`] waits for it).
    pub fn delay_deletes(&self, delay: Duration) {
        self.shared.lock().faults.delete_delay = delay;
    }

    /// Runs `hook` after each successful DELETE, with the world it may change (the world lock is
    /// held, so the next request sees the change).
    pub fn on_delete(&self, hook: impl Fn(&DeleteEvent, &mut World) + Send + Sync + 'static) {
        self.shared.lock().faults.on_delete = Some(Arc::new(hook));
    }

    /// How long after answering a `DELETE /api/v3/movie/{id}?deleteFiles=true` Radarr removes
    /// the movie's files (it drops the record at once and deletes the folder on an event handler
    /// afterwards). 100 ms unless set; `Duration::ZERO` removes them before the answer.
    pub fn movie_file_lag(&self, lag: Duration) {
        self.shared.lock().faults.movie_file_lag = lag;
    }

    /// Every request to exactly `path` on `service` (ignoring case for Jellyfin, whose routes do)
    /// gets its first byte, status line included, no sooner than `delay` after it came in: a
    /// Sonarr on a Raspberry Pi builds the whole `/api/v3/calendar` before it answers. Several
    /// paths may be slow at once; `Duration::ZERO` makes `path` quick again.
    pub fn slow_path(&self, service: Service, path: &str, delay: Duration) {
        let key = server::path_key(service, path);
        let mut inner = self.shared.lock();
        if delay.is_zero() {
            inner.faults.slow_paths.remove(&key);
        } else {
            inner.faults.slow_paths.insert(key, delay);
        }
    }

    /// Runs `hook` after each request (to any service, refused ones included) has been answered,
    /// before the answer is sent, with the world under its lock: a test can change the world
    /// between two pages of `/Items`. `Recorded::response_bytes` is filled in. Replaces the
    /// previous hook.
    pub fn on_request(&self, hook: impl Fn(&Recorded, &mut World) + Send + Sync + 'static) {
        self.shared.lock().faults.on_request = Some(Arc::new(hook));
    }

    /// Passes every answer body of `service` through `hook` before it is sent (to inject, say,
    /// a malformed item); the request log counts the rewritten body. The `Recorded` has no
    /// `response_bytes` yet. Replaces the previous rewrite of `service`.
    pub fn rewrite(
        &self,
        service: Service,
        hook: impl Fn(&Recorded, String) -> String + Send + Sync + 'static,
    ) {
        self.shared
            .lock()
            .faults
            .rewrite
            .insert(service, Arc::new(hook));
    }

    /// Accept Jellyfin's legacy auth forms (X-Emby-Token, api_key=), as 10.11 does by default;
    /// off by default, as in Jellyfin 12.
    pub fn allow_legacy_auth(&self, on: bool) {
        self.shared.lock().faults.legacy_auth = on;
    }

    /// Stops the four servers and returns when they have stopped: their ports are closed (a
    /// connect is refused) and every request they had received has been answered. A request
    /// still slowed down by [`SimStack::slow_path`] is waited for. Work a request left running
    /// after its answer (Radarr's late file removal, a delete whose client gave up) is not:
    /// [`SimStack::idle`] waits for that. The world stays readable. A second call does nothing.
    pub async fn shutdown(&mut self) {
        let servers = std::mem::take(&mut self.servers);
        let mut tasks = Vec::with_capacity(servers.len());
        for Running { stop, task } in servers {
            let _ = stop.send(());
            tasks.push(task);
        }
        for task in tasks {
            if let Err(err) = task.await {
                if err.is_panic() {
                    std::panic::resume_unwind(err.into_panic());
                }
            }
        }
    }
}

impl Drop for SimStack {
    /// Tells the servers to stop, without waiting (a drop cannot): the ports close a moment
    /// later. Await [`SimStack::shutdown`] to know they have.
    fn drop(&mut self) {
        for server in self.servers.drain(..) {
            let _ = server.stop.send(());
        }
    }
}
