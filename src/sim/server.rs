//! The HTTP side of the simulated stack: auth, fault injection, the request log, and one handler
//! per service that answers the way the API documents say the real server does.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{json, Value};

use super::world::{Episode, Movie, Series, Watch, World};
use crate::clients::http::Service;

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

/// A successful delete, as passed to an `on_delete` hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteEvent {
    pub service: Service,
    pub path: String,
    /// Paths of the files the delete removed.
    pub removed: Vec<String>,
}

pub type DeleteHook = Arc<dyn Fn(&DeleteEvent, &mut World) + Send + Sync>;

#[derive(Default)]
pub(super) struct Faults {
    pub fail_next: HashMap<Service, VecDeque<u16>>,
    pub garbage: HashMap<Service, bool>,
    pub delete_delay: Duration,
    pub on_delete: Option<DeleteHook>,
    pub legacy_auth: bool,
}

pub(super) struct Inner {
    pub world: World,
    pub log: Vec<(Service, Recorded)>,
    pub faults: Faults,
    pub keys: HashMap<Service, String>,
}

#[derive(Clone)]
pub(super) struct Shared(pub Arc<Mutex<Inner>>);

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread may poison the lock; the data is still what the test needs.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

type Query = Vec<(String, String)>;

/// The entry point of every request to `service`.
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

    let (delay, entry) = {
        let mut inner = shared.lock();
        inner.log.push((
            service,
            Recorded {
                method: method.to_string(),
                path: path.clone(),
                query: raw_query.clone(),
                body: body_text.clone(),
                response_bytes: 0,
            },
        ));
        let entry = inner.log.len() - 1;
        if let Some(status) = inner
            .faults
            .fail_next
            .get_mut(&service)
            .and_then(VecDeque::pop_front)
        {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, "simulated failure").into_response();
        }
        if !authorized(&inner, service, &path, &headers, &query) {
            return (StatusCode::UNAUTHORIZED, "").into_response();
        }
        if method == Method::GET && inner.faults.garbage.get(&service).copied().unwrap_or(false) {
            return (
                StatusCode::OK,
                "<html><body>Welcome to nginx!</body></html>",
            )
                .into_response();
        }
        (
            (method == Method::DELETE).then_some(inner.faults.delete_delay),
            entry,
        )
    };
    if let Some(delay) = delay.filter(|d| !d.is_zero()) {
        tokio::time::sleep(delay).await;
    }

    let mut inner = shared.lock();
    {
        let request = Request {
            method: &method,
            path: &path,
            query: &query,
            body: &body_text,
        };
        let mut event = None;
        let answer = match service {
            Service::Jellyfin => jellyfin(&mut inner.world, &request),
            Service::Radarr => radarr(&mut inner.world, &request, &mut event),
            Service::Sonarr => sonarr(&mut inner.world, &request, &mut event),
        };
        if let (Some(event), Some(hook)) = (event, inner.faults.on_delete.clone()) {
            hook(&event, &mut inner.world);
        }
        use axum::body::HttpBody;
        let bytes = answer.body().size_hint().exact().unwrap_or(0);
        if let Some((_, recorded)) = inner.log.get_mut(entry) {
            recorded.response_bytes = bytes as usize;
        }
        answer
    }
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
fn param<'a>(query: &'a Query, name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Every value of a parameter, repeated or comma-separated.
fn params(query: &Query, name: &str) -> Vec<String> {
    query
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|v| !v.is_empty())
        .collect()
}

fn flag(query: &Query, name: &str) -> bool {
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

struct Request<'a> {
    method: &'a Method,
    path: &'a str,
    query: &'a Query,
    body: &'a str,
}

fn json_response(status: StatusCode, value: Value) -> Response {
    (
        status,
        [("content-type", "application/json; charset=utf-8")],
        value.to_string(),
    )
        .into_response()
}

fn ok(value: Value) -> Response {
    json_response(StatusCode::OK, value)
}

fn status(code: StatusCode, message: &str) -> Response {
    json_response(code, json!({ "message": message }))
}

/// Jellyfin writes 7 fractional digits when the milliseconds are zero (JsonDateTimeConverter).
fn jellyfin_date(t: Timestamp) -> String {
    if t.subsec_nanosecond() == 0 {
        t.strftime("%Y-%m-%dT%H:%M:%S.0000000Z").to_string()
    } else {
        t.to_string()
    }
}

/// The *arrs write dates without a fraction.
fn arr_date(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

// ---------------------------------------------------------------------------------------------
// Jellyfin

fn jellyfin(world: &mut World, r: &Request<'_>) -> Response {
    let path = r.path.to_ascii_lowercase();
    match (r.method, path.as_str()) {
        (&Method::GET, "/system/info/public") => ok(json!({
            "ServerName": "sim", "Version": "10.11.0", "Id": "0123456789abcdef0123456789abcdef",
            "StartupWizardCompleted": true
        })),
        (&Method::GET, "/users") => ok(Value::Array(
            world
                .users
                .iter()
                .map(|u| {
                    json!({"Id": u.id, "Name": u.name, "HasPassword": true,
                       "Policy": {"IsAdministrator": false, "IsDisabled": false, "IsHidden": false}})
                })
                .collect(),
        )),
        (&Method::GET, "/items") => jellyfin_items(world, r.query),
        (&Method::GET, "/sessions") => jellyfin_sessions(world),
        (&Method::POST, "/library/refresh") => {
            world.refreshes += 1;
            // Jellyfin forgets items whose files are gone when it rescans.
            let files = &world.files;
            for m in &mut world.movies {
                if m.file.as_ref().is_none_or(|f| !files.contains(&f.path)) {
                    m.in_jellyfin = false;
                }
            }
            for s in &mut world.series {
                for e in &mut s.episodes {
                    let has = s.files.iter().any(|f| f.id == e.file_id && files.contains(&f.path));
                    if !has {
                        e.in_jellyfin = false;
                    }
                }
            }
            StatusCode::NO_CONTENT.into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

#[derive(Default)]
struct Fields {
    path: bool,
    provider_ids: bool,
    media_sources: bool,
}

fn jellyfin_items(world: &World, q: &Query) -> Response {
    let user = match param(q, "userId") {
        None => None,
        Some(id) => match world
            .users
            .iter()
            .find(|u| u.id.eq_ignore_ascii_case(&id.replace('-', "")))
        {
            Some(u) => Some(u.name.clone()),
            None => return status(StatusCode::NOT_FOUND, "User not found"),
        },
    };
    let kinds: Vec<String> = params(q, "includeItemTypes");
    let wants = |k: &str| kinds.is_empty() || kinds.iter().any(|x| x.eq_ignore_ascii_case(k));
    let fields_list = params(q, "fields");
    let has_field = |f: &str| fields_list.iter().any(|x| x.eq_ignore_ascii_case(f));
    let fields = Fields {
        path: has_field("Path"),
        provider_ids: has_field("ProviderIds"),
        media_sources: has_field("MediaSources"),
    };
    let is_played = param(q, "isPlayed").map(|v| v.eq_ignore_ascii_case("true"));
    let is_favorite = param(q, "isFavorite").map(|v| v.eq_ignore_ascii_case("true"));
    let ids: Vec<String> = params(q, "ids");
    let filters = params(q, "filters");
    let is_played = is_played.or_else(|| filters.iter().any(|f| f == "IsPlayed").then_some(true));
    let is_favorite =
        is_favorite.or_else(|| filters.iter().any(|f| f == "IsFavorite").then_some(true));
    if (is_played.is_some() || is_favorite.is_some()) && user.is_none() {
        // Without a user the server has no UserData to filter on; real Jellyfin returns nothing.
        return ok(json!({"Items": [], "TotalRecordCount": 0, "StartIndex": 0}));
    }
    let passes = |watch: Option<&Watch>| {
        let w = watch.copied().unwrap_or_default();
        is_played.is_none_or(|p| w.played == p) && is_favorite.is_none_or(|f| w.favorite == f)
    };
    let watch_of = |m: &BTreeMap<String, Watch>| user.as_ref().and_then(|u| m.get(u)).copied();

    // Stable order: movies, series, seasons, episodes, as the world lists them.
    let mut matching: Vec<Candidate<'_>> = Vec::new();
    if wants("Movie") {
        for m in world.movies.iter().filter(|m| m.in_jellyfin) {
            if passes(watch_of(&m.watch).as_ref()) {
                matching.push(Candidate::Movie(m));
            }
        }
    }
    for s in world.series.iter().filter(|s| s.in_jellyfin) {
        if wants("Series") && passes(watch_of(&s.watch).as_ref()) {
            matching.push(Candidate::Series(s));
        }
    }
    if wants("Season") {
        for s in world.series.iter().filter(|s| s.in_jellyfin) {
            for (i, season) in s.seasons.iter().enumerate() {
                if passes(watch_of(&season.watch).as_ref()) {
                    matching.push(Candidate::Season(s, i));
                }
            }
        }
    }
    if wants("Episode") {
        for s in world.series.iter().filter(|s| s.in_jellyfin) {
            for e in s.episodes.iter().filter(|e| e.in_jellyfin) {
                if passes(watch_of(&e.watch).as_ref()) {
                    matching.push(Candidate::Episode(s, e));
                }
            }
        }
    }
    if !ids.is_empty() {
        matching.retain(|c| {
            ids.iter()
                .any(|id| id.replace('-', "").eq_ignore_ascii_case(c.id()))
        });
    }
    let total = matching.len();
    let start = param(q, "startIndex")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let limit = param(q, "limit")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let items = matching
        .iter()
        .skip(start)
        .take(limit)
        .map(|c| c.to_out(world, user.as_deref(), &fields))
        .collect();
    typed_json(
        StatusCode::OK,
        &ItemPageOut {
            items,
            total_record_count: total,
            start_index: start,
        },
    )
}

enum Candidate<'a> {
    Movie(&'a Movie),
    Series(&'a Series),
    Season(&'a Series, usize),
    Episode(&'a Series, &'a Episode),
}

impl<'w> Candidate<'w> {
    fn id(&self) -> &str {
        match self {
            Candidate::Movie(m) => &m.jellyfin_id,
            Candidate::Series(s) => &s.jellyfin_id,
            Candidate::Season(s, i) => &s.seasons[*i].jellyfin_id,
            Candidate::Episode(_, e) => &e.jellyfin_id,
        }
    }

    fn to_out(&self, world: &'w World, user: Option<&str>, fields: &Fields) -> ItemOut<'w> {
        let watch = |m: &BTreeMap<String, Watch>| user.and_then(|u| m.get(u)).copied();
        let media = |id: &'w str, path: &str, size: u64| {
            fields.media_sources.then(|| {
                [MediaSourceOut {
                    protocol: "File",
                    id,
                    path: path.to_owned(),
                    kind: "Default",
                    container: "mkv",
                    size,
                }]
            })
        };
        match self {
            Candidate::Movie(m) => {
                let path = m.file.as_ref().map(|f| world.jellyfin_path(&f.path));
                let size = m.file.as_ref().map_or(0, |f| f.size);
                let mut ids = BTreeMap::new();
                if fields.provider_ids && m.jellyfin_has_ids {
                    ids.insert("Tmdb", m.tmdb_id.to_string());
                    if let Some(imdb) = &m.imdb_id {
                        ids.insert("Imdb", imdb.clone());
                    }
                }
                ItemOut {
                    name: m.title.clone(),
                    id: &m.jellyfin_id,
                    kind: "Movie",
                    production_year: Some(m.year),
                    is_folder: false,
                    media_type: Some("Video"),
                    provider_ids: (!ids.is_empty()).then_some(ids),
                    media_sources: path.as_deref().and_then(|p| media(&m.jellyfin_id, p, size)),
                    path: path.filter(|_| fields.path),
                    user_data: user
                        .map(|_| UserDataOut::new(watch(&m.watch), m.tmdb_id.to_string())),
                    ..ItemOut::default()
                }
            }
            Candidate::Series(s) => ItemOut {
                name: s.title.clone(),
                id: &s.jellyfin_id,
                kind: "Series",
                is_folder: true,
                status: Some(if s.status == "ended" {
                    "Ended"
                } else {
                    "Continuing"
                }),
                provider_ids: fields
                    .provider_ids
                    .then(|| BTreeMap::from([("Tvdb", s.tvdb_id.to_string())])),
                path: fields.path.then(|| world.jellyfin_path(&s.path)),
                user_data: user.map(|_| UserDataOut::new(watch(&s.watch), s.tvdb_id.to_string())),
                ..ItemOut::default()
            },
            Candidate::Season(s, i) => {
                let season = &s.seasons[*i];
                ItemOut {
                    name: if season.number == 0 {
                        "Specials".to_string()
                    } else {
                        format!("Season {}", season.number)
                    },
                    id: &season.jellyfin_id,
                    kind: "Season",
                    index_number: Some(season.number),
                    series_id: Some(&s.jellyfin_id),
                    series_name: Some(&s.title),
                    is_folder: true,
                    path: fields.path.then(|| {
                        world.jellyfin_path(&format!("{}/Season {:02}", s.path, season.number))
                    }),
                    user_data: user.map(|_| {
                        UserDataOut::new(watch(&season.watch), season.jellyfin_id.clone())
                    }),
                    ..ItemOut::default()
                }
            }
            Candidate::Episode(s, e) => {
                let season_id = s
                    .seasons
                    .iter()
                    .find(|x| x.number == e.season)
                    .map_or("", |x| x.jellyfin_id.as_str());
                let file = s.files.iter().find(|f| f.id == e.file_id);
                let path = file.map(|f| world.jellyfin_path(&f.path));
                ItemOut {
                    name: e.title.clone(),
                    id: &e.jellyfin_id,
                    kind: "Episode",
                    index_number: Some(e.number),
                    parent_index_number: Some(e.season),
                    series_id: Some(&s.jellyfin_id),
                    series_name: Some(&s.title),
                    season_id: Some(season_id),
                    is_folder: false,
                    media_type: Some("Video"),
                    provider_ids: fields
                        .provider_ids
                        .then(|| BTreeMap::from([("Tvdb", e.tvdb_id.to_string())])),
                    media_sources: file
                        .zip(path.as_deref())
                        .and_then(|(f, p)| media(&e.jellyfin_id, p, f.size)),
                    path: path.filter(|_| fields.path),
                    user_data: user
                        .map(|_| UserDataOut::new(watch(&e.watch), e.tvdb_id.to_string())),
                    ..ItemOut::default()
                }
            }
        }
    }
}

/// Jellyfin's `BaseItemDto`, as much of it as the simulated library has. Typed rather than a
/// `Value`, so that paging through a large library is quick (see [`EpisodeOut`]).
#[derive(serde::Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ItemOut<'w> {
    name: String,
    id: &'w str,
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    production_year: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index_number: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_index_number: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    series_id: Option<&'w str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    series_name: Option<&'w str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    season_id: Option<&'w str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    is_folder: bool,
    location_type: LocationType,
    #[serde(skip_serializing_if = "Option::is_none")]
    media_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider_ids: Option<BTreeMap<&'static str, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    media_sources: Option<[MediaSourceOut<'w>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_data: Option<UserDataOut>,
    server_id: ServerId,
}

/// Every simulated item lives on the file system of one server.
#[derive(serde::Serialize, Default)]
enum LocationType {
    #[default]
    FileSystem,
}

#[derive(Default)]
struct ServerId;

impl ServerId {
    const ID: &'static str = "0123456789abcdef0123456789abcdef";
}

impl serde::Serialize for ServerId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(Self::ID)
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct MediaSourceOut<'w> {
    protocol: &'static str,
    id: &'w str,
    path: String,
    #[serde(rename = "Type")]
    kind: &'static str,
    container: &'static str,
    size: u64,
}

/// `UserItemDataDto`.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct UserDataOut {
    playback_position_ticks: u64,
    play_count: u32,
    is_favorite: bool,
    played: bool,
    key: String,
    item_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_played_date: Option<String>,
}

impl UserDataOut {
    fn new(watch: Option<Watch>, key: String) -> Self {
        let w = watch.unwrap_or_default();
        UserDataOut {
            playback_position_ticks: 0,
            play_count: u32::from(w.played),
            is_favorite: w.favorite,
            played: w.played,
            key,
            item_id: "00000000000000000000000000000000",
            last_played_date: w.last_played.map(jellyfin_date),
        }
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct ItemPageOut<'w> {
    items: Vec<ItemOut<'w>>,
    total_record_count: usize,
    start_index: usize,
}

fn jellyfin_sessions(world: &World) -> Response {
    let mut sessions = Vec::new();
    for (i, session) in world.sessions.iter().enumerate() {
        let Some(user) = world.users.iter().find(|u| u.name == session.user) else {
            continue;
        };
        let item = world
            .movies
            .iter()
            .find(|m| m.jellyfin_id == session.item_id)
            .map(|m| {
                json!({"Id": m.jellyfin_id, "Name": m.title, "Type": "Movie",
                    "Path": m.file.as_ref().map(|f| world.jellyfin_path(&f.path))})
            })
            .or_else(|| {
                world.series.iter().find_map(|s| {
                    s.episodes
                        .iter()
                        .find(|e| e.jellyfin_id == session.item_id)
                        .map(|e| {
                            let path = s
                                .files
                                .iter()
                                .find(|f| f.id == e.file_id)
                                .map(|f| world.jellyfin_path(&f.path));
                            json!({"Id": e.jellyfin_id, "Name": e.title, "Type": "Episode",
                            "SeriesId": s.jellyfin_id, "ParentIndexNumber": e.season,
                            "IndexNumber": e.number, "Path": path})
                        })
                })
            });
        let mut s = json!({"Id": format!("session{i}"), "UserId": user.id, "UserName": user.name,
            "Client": "Jellyfin Web", "DeviceName": "Firefox",
            "LastActivityDate": jellyfin_date(world.now),
            "PlayState": {"IsPaused": false, "PositionTicks": 12_000_000_000_i64}});
        if let Some(mut item) = item {
            if item["Path"].is_null() {
                if let Some(obj) = item.as_object_mut() {
                    obj.remove("Path");
                }
            }
            s["NowPlayingItem"] = item;
        }
        sessions.push(s);
    }
    // An idle session, as a TV left on the home screen has: no NowPlayingItem.
    sessions.push(
        json!({"Id": "idle", "Client": "Android TV", "DeviceName": "Living room",
        "LastActivityDate": jellyfin_date(world.now), "PlayState": {"IsPaused": false}}),
    );
    ok(Value::Array(sessions))
}

// ---------------------------------------------------------------------------------------------
// Radarr and Sonarr, shared

fn tags_json(tags: &[(i32, String)]) -> Response {
    ok(Value::Array(
        tags.iter()
            .map(|(id, label)| json!({"id": id, "label": label}))
            .collect(),
    ))
}

fn root_folders_json(folders: &[super::world::RootFolder]) -> Response {
    ok(Value::Array(
        folders
            .iter()
            .map(|r| {
                json!({"id": r.id, "path": r.path, "accessible": r.accessible,
                    "freeSpace": 1_000_000_000_000_i64, "unmappedFolders": []})
            })
            .collect(),
    ))
}

fn health_json(folders: &[super::world::RootFolder]) -> Response {
    ok(Value::Array(
        folders
            .iter()
            .filter(|r| !r.accessible)
            .map(|r| {
                json!({"source": "RootFolderCheck", "type": "error",
                    "message": format!("Missing root folder: {}", r.path),
                    "wikiUrl": "https://wiki.servarr.com/"})
            })
            .collect(),
    ))
}

fn status_json(app: &str) -> Response {
    ok(
        json!({"appName": app, "instanceName": app, "version": "4.0.19.2802",
        "isDocker": false, "urlBase": "", "branch": "main"}),
    )
}

fn root_of<'a>(
    folders: &'a [super::world::RootFolder],
    path: &str,
) -> Option<&'a super::world::RootFolder> {
    folders.iter().find(|r| {
        path.strip_prefix(r.path.trim_end_matches('/'))
            .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// The numeric id at the end of `/api/v3/<what>/<id>`.
fn tail_id(path: &str, prefix: &str) -> Option<i32> {
    path.strip_prefix(prefix)?.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// Radarr

fn movie_json(world: &World, m: &Movie) -> Value {
    let root = root_of(&world.radarr_root_folders, &m.path)
        .map(|r| r.path.clone())
        .unwrap_or_default();
    let size = m.file.as_ref().map(|f| f.size).unwrap_or(0);
    let mut v = json!({"id": m.radarr_id, "title": m.title, "year": m.year, "tmdbId": m.tmdb_id,
        "path": m.path, "rootFolderPath": root, "monitored": m.monitored, "status": "released",
        "hasFile": m.file.is_some(), "movieFileId": m.file.as_ref().map(|f| f.id).unwrap_or(0),
        "sizeOnDisk": size, "tags": m.tags, "added": arr_date(world.now),
        "statistics": {"movieFileCount": i32::from(m.file.is_some()), "sizeOnDisk": size}});
    if let Some(imdb) = &m.imdb_id {
        v["imdbId"] = json!(imdb);
    }
    if let Some(f) = &m.file {
        let relative = f.path.rsplit('/').next().unwrap_or("");
        v["movieFile"] = json!({"id": f.id, "movieId": m.radarr_id, "path": f.path,
            "relativePath": relative, "size": f.size, "dateAdded": arr_date(world.now)});
    }
    v
}

fn radarr(world: &mut World, r: &Request<'_>, event: &mut Option<DeleteEvent>) -> Response {
    match (r.method, r.path) {
        (&Method::GET, "/api/v3/movie") => {
            let tmdb = param(r.query, "tmdbId").and_then(|v| v.parse::<i32>().ok());
            ok(Value::Array(
                world
                    .movies
                    .iter()
                    .filter(|m| m.in_radarr && tmdb.is_none_or(|t| m.tmdb_id == t))
                    .map(|m| movie_json(world, m))
                    .collect(),
            ))
        }
        (&Method::GET, "/api/v3/tag") => tags_json(&world.radarr_tags),
        (&Method::GET, "/api/v3/rootfolder") => root_folders_json(&world.radarr_root_folders),
        (&Method::GET, "/api/v3/health") => health_json(&world.radarr_root_folders),
        (&Method::GET, "/api/v3/system/status") => status_json("Radarr"),
        (&Method::GET, p) if tail_id(p, "/api/v3/movie/").is_some() => {
            let id = tail_id(p, "/api/v3/movie/");
            match world
                .movies
                .iter()
                .find(|m| m.in_radarr && Some(m.radarr_id) == id)
            {
                Some(m) => ok(movie_json(world, m)),
                None => status(StatusCode::NOT_FOUND, "NotFound"),
            }
        }
        (&Method::DELETE, p) if tail_id(p, "/api/v3/movie/").is_some() => {
            let id = tail_id(p, "/api/v3/movie/");
            let Some(m) = world
                .movies
                .iter_mut()
                .find(|m| m.in_radarr && Some(m.radarr_id) == id)
            else {
                return status(StatusCode::NOT_FOUND, "NotFound");
            };
            m.in_radarr = false;
            let folder = format!("{}/", m.path);
            let tmdb = m.tmdb_id;
            let mut removed = Vec::new();
            if flag(r.query, "deleteFiles") {
                removed = world
                    .files
                    .iter()
                    .filter(|f| f.starts_with(&folder))
                    .cloned()
                    .collect();
                for f in &removed {
                    world.files.remove(f);
                }
            }
            if flag(r.query, "addImportExclusion") {
                world.import_exclusions.push(tmdb);
            }
            *event = Some(DeleteEvent {
                service: Service::Radarr,
                path: r.path.to_string(),
                removed,
            });
            StatusCode::OK.into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// Sonarr

fn series_json(world: &World, s: &Series) -> Value {
    let root = root_of(&world.sonarr_root_folders, &s.path)
        .map(|r| r.path.clone())
        .unwrap_or_default();
    let seasons: Vec<Value> = s
        .seasons
        .iter()
        .map(|season| {
            let eps: Vec<&Episode> = s.episodes.iter().filter(|e| e.season == season.number).collect();
            let files: Vec<_> = s.files.iter().filter(|f| f.season == season.number).collect();
            let size: u64 = files.iter().map(|f| f.size).sum();
            let aired = eps.iter().filter(|e| e.air_date.is_some()).count();
            let with_file = eps.iter().filter(|e| e.file_id != 0).count();
            json!({"seasonNumber": season.number, "monitored": season.monitored,
                "statistics": {"episodeFileCount": files.len(), "episodeCount": aired,
                    "totalEpisodeCount": eps.len(), "sizeOnDisk": size,
                    "percentOfEpisodes": if aired == 0 { 0.0 } else { 100.0 * with_file as f64 / aired as f64 }}})
        })
        .collect();
    let size: u64 = s.files.iter().map(|f| f.size).sum();
    json!({"id": s.sonarr_id, "title": s.title, "status": s.status, "ended": s.status == "ended",
        "tvdbId": s.tvdb_id, "tmdbId": 0, "path": s.path, "rootFolderPath": root, "tags": s.tags,
        "monitored": true, "monitorNewItems": "all", "seriesType": "standard",
        "added": arr_date(world.now), "seasons": seasons,
        "statistics": {"seasonCount": s.seasons.iter().filter(|x| x.number > 0).count(),
            "episodeFileCount": s.files.len(), "sizeOnDisk": size}})
}

/// Sonarr's `EpisodeFileResource`, as much of it as clients read.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct EpisodeFileOut<'w> {
    id: i32,
    series_id: i32,
    season_number: i32,
    path: &'w str,
    relative_path: &'w str,
    size: u64,
    date_added: &'w str,
}

/// Sonarr's `EpisodeResource`. Typed rather than a `Value`: the calendar of a large library is
/// a hundred thousand of these, and building maps for them made the simulated Sonarr the
/// slowest part of a benchmarked pass.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct EpisodeOut<'w> {
    id: i32,
    series_id: i32,
    tvdb_id: i32,
    season_number: i32,
    episode_number: i32,
    title: &'w str,
    episode_file_id: i32,
    has_file: bool,
    monitored: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    air_date: Option<&'w str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    air_date_utc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    episode_file: Option<EpisodeFileOut<'w>>,
}

fn episode_file_out<'w>(
    s: &'w Series,
    f: &'w super::world::EpisodeFile,
    date_added: &'w str,
) -> EpisodeFileOut<'w> {
    EpisodeFileOut {
        id: f.id,
        series_id: s.sonarr_id,
        season_number: f.season,
        path: &f.path,
        relative_path: &f.relative_path,
        size: f.size,
        date_added,
    }
}

/// `date_added` is [`arr_date`] of the world's time, formatted once per response.
fn episode_out<'w>(
    s: &'w Series,
    e: &'w Episode,
    include_file: bool,
    date_added: &'w str,
) -> EpisodeOut<'w> {
    let file = include_file
        .then(|| s.files.iter().find(|f| f.id == e.file_id))
        .flatten();
    EpisodeOut {
        id: e.id(),
        series_id: s.sonarr_id,
        tvdb_id: e.tvdb_id,
        season_number: e.season,
        episode_number: e.number,
        title: &e.title,
        episode_file_id: e.file_id,
        has_file: e.file_id != 0,
        monitored: e.monitored,
        air_date: e.air_date.as_deref(),
        air_date_utc: e.air_date.as_ref().map(|date| format!("{date}T02:00:00Z")),
        episode_file: file.map(|f| episode_file_out(s, f, date_added)),
    }
}

fn typed_json(status: StatusCode, value: &impl serde::Serialize) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => (
            status,
            [("content-type", "application/json; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "serialization failed").into_response(),
    }
}

impl Episode {
    fn id(&self) -> i32 {
        self.sonarr_id
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct MonitorBody {
    episode_ids: Vec<i32>,
    monitored: bool,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct BulkBody {
    episode_file_ids: Vec<i32>,
}

fn sonarr(world: &mut World, r: &Request<'_>, event: &mut Option<DeleteEvent>) -> Response {
    match (r.method, r.path) {
        (&Method::GET, "/api/v3/series") => ok(Value::Array(
            world
                .series
                .iter()
                .filter(|s| s.in_sonarr)
                .map(|s| series_json(world, s))
                .collect(),
        )),
        (&Method::GET, "/api/v3/tag") => tags_json(&world.sonarr_tags),
        (&Method::GET, "/api/v3/rootfolder") => root_folders_json(&world.sonarr_root_folders),
        (&Method::GET, "/api/v3/health") => health_json(&world.sonarr_root_folders),
        (&Method::GET, "/api/v3/system/status") => status_json("Sonarr"),
        (&Method::GET, "/api/v3/episode") => {
            let series_id = param(r.query, "seriesId").and_then(|v| v.parse::<i32>().ok());
            let episode_ids: Vec<i32> = params(r.query, "episodeIds")
                .iter()
                .filter_map(|v| v.parse().ok())
                .collect();
            if series_id.is_none() && episode_ids.is_empty() {
                return status(
                    StatusCode::BAD_REQUEST,
                    "seriesId or episodeIds must be provided",
                );
            }
            let include = flag(r.query, "includeEpisodeFile");
            let date_added = arr_date(world.now);
            let mut out = Vec::new();
            for s in world.series.iter().filter(|s| s.in_sonarr) {
                if series_id.is_some_and(|id| id != s.sonarr_id) {
                    continue;
                }
                for e in &s.episodes {
                    if episode_ids.is_empty() || episode_ids.contains(&e.sonarr_id) {
                        out.push(episode_out(s, e, include, &date_added));
                    }
                }
            }
            typed_json(StatusCode::OK, &out)
        }
        (&Method::GET, "/api/v3/episodefile") => {
            let series_id = param(r.query, "seriesId").and_then(|v| v.parse::<i32>().ok());
            let ids: Vec<i32> = params(r.query, "episodeFileIds")
                .iter()
                .filter_map(|v| v.parse().ok())
                .collect();
            if series_id.is_none() && ids.is_empty() {
                return status(
                    StatusCode::BAD_REQUEST,
                    "seriesId or episodeFileIds must be provided",
                );
            }
            let date_added = arr_date(world.now);
            let mut out = Vec::new();
            for s in world.series.iter().filter(|s| s.in_sonarr) {
                for f in &s.files {
                    if series_id.is_some_and(|id| id == s.sonarr_id) || ids.contains(&f.id) {
                        out.push(episode_file_out(s, f, &date_added));
                    }
                }
            }
            typed_json(StatusCode::OK, &out)
        }
        (&Method::GET, "/api/v3/calendar") => {
            let start = param(r.query, "start")
                .unwrap_or("0000-00-00")
                .get(..10)
                .unwrap_or("")
                .to_string();
            let end = param(r.query, "end")
                .unwrap_or("9999-99-99")
                .get(..10)
                .unwrap_or("")
                .to_string();
            let unmonitored = flag(r.query, "unmonitored");
            let include = flag(r.query, "includeEpisodeFile");
            let date_added = arr_date(world.now);
            let mut out = Vec::new();
            for s in world.series.iter().filter(|s| s.in_sonarr) {
                for e in &s.episodes {
                    let Some(date) = &e.air_date else { continue };
                    if date.as_str() >= start.as_str()
                        && date.as_str() <= end.as_str()
                        && (unmonitored || e.monitored)
                    {
                        out.push(episode_out(s, e, include, &date_added));
                    }
                }
            }
            typed_json(StatusCode::OK, &out)
        }
        (&Method::PUT, "/api/v3/episode/monitor") => {
            let Ok(body) = serde_json::from_str::<MonitorBody>(r.body) else {
                return status(StatusCode::BAD_REQUEST, "invalid body");
            };
            let mut changed = Vec::new();
            for s in &mut world.series {
                for e in &mut s.episodes {
                    if body.episode_ids.contains(&e.sonarr_id) {
                        e.monitored = body.monitored;
                        changed.push((s.sonarr_id, e.sonarr_id));
                    }
                }
            }
            let out: Vec<EpisodeOut<'_>> = changed
                .iter()
                .filter_map(|(sid, eid)| {
                    let s = world.series.iter().find(|s| s.sonarr_id == *sid)?;
                    let e = s.episodes.iter().find(|e| e.sonarr_id == *eid)?;
                    Some(episode_out(s, e, false, ""))
                })
                .collect();
            typed_json(StatusCode::ACCEPTED, &out)
        }
        (&Method::DELETE, "/api/v3/episodefile/bulk") => {
            let Ok(body) = serde_json::from_str::<BulkBody>(r.body) else {
                return status(StatusCode::BAD_REQUEST, "invalid body");
            };
            // Sonarr takes the series of the first file for every file (EpisodeFileController).
            let Some(first) = body.episode_file_ids.first() else {
                return status(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Sequence contains no elements",
                );
            };
            let Some(series_index) = world
                .series
                .iter()
                .position(|s| s.files.iter().any(|f| f.id == *first))
            else {
                return status(StatusCode::NOT_FOUND, "Episode file not found");
            };
            let series_path = world.series[series_index].path.clone();
            if root_of(&world.sonarr_root_folders, &series_path).is_none_or(|r| !r.accessible) {
                return status(
                    StatusCode::CONFLICT,
                    "Series root folder does not exist or is empty",
                );
            }
            let mut removed = Vec::new();
            for id in &body.episode_file_ids {
                let Some(owner) = world
                    .series
                    .iter()
                    .position(|s| s.files.iter().any(|f| f.id == *id))
                else {
                    continue;
                };
                let series = &mut world.series[owner];
                let Some(pos) = series.files.iter().position(|f| f.id == *id) else {
                    continue;
                };
                let file = series.files.remove(pos);
                for e in &mut series.episodes {
                    if e.file_id == file.id {
                        e.file_id = 0;
                    }
                }
                if owner == series_index {
                    world.files.remove(&file.path);
                    removed.push(file.path);
                } else {
                    // Joined onto the first series' folder, the path points nowhere: the row goes,
                    // the file stays.
                    world.left_on_disk.push(file.path);
                }
            }
            *event = Some(DeleteEvent {
                service: Service::Sonarr,
                path: r.path.to_string(),
                removed,
            });
            ok(json!({}))
        }
        (&Method::DELETE, p) if tail_id(p, "/api/v3/episodefile/").is_some() => {
            let id = tail_id(p, "/api/v3/episodefile/").unwrap_or(0);
            let Some(owner) = world
                .series
                .iter()
                .position(|s| s.files.iter().any(|f| f.id == id))
            else {
                return status(StatusCode::NOT_FOUND, "Episode file not found");
            };
            let series_path = world.series[owner].path.clone();
            if root_of(&world.sonarr_root_folders, &series_path).is_none_or(|r| !r.accessible) {
                return status(
                    StatusCode::CONFLICT,
                    "Series root folder does not exist or is empty",
                );
            }
            let series = &mut world.series[owner];
            let pos = series.files.iter().position(|f| f.id == id).unwrap_or(0);
            let file = series.files.remove(pos);
            for e in &mut series.episodes {
                if e.file_id == file.id {
                    e.file_id = 0;
                }
            }
            world.files.remove(&file.path);
            *event = Some(DeleteEvent {
                service: Service::Sonarr,
                path: r.path.to_string(),
                removed: vec![file.path],
            });
            StatusCode::OK.into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
pub(super) fn decode_for_tests(s: &str) -> String {
    percent_decode(s)
}
