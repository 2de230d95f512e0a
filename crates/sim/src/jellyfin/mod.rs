//! The simulated Jellyfin: users, items (filtered, paged), sessions, library refresh,
//! collections.
//!
//! This file routes the requests and answers `/Items`; the collections (BoxSets) and what
//! `/Items` lists of them are in `collections`, the items' media sources in `media`, the order
//! of `/Items` in `order`.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

mod collections;
mod media;
mod order;

use media::{MediaSourceOut, Probed};
pub(super) use order::Orders;
use order::{season_name, ItemRef};

use super::server::{
    flag, jellyfin_date, ok, param, params, status, typed_json, Answer, Query, Request,
};
use super::world::{Episode, Movie, Series, Watch, World};

/// One request to Jellyfin. `orders` caches the order of `/Items` while `generation` (the
/// world's) stays the same.
pub(super) fn jellyfin(
    world: &mut World,
    orders: &mut Orders,
    generation: u64,
    r: &Request<'_>,
) -> Answer {
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
        (&Method::GET, "/items") => jellyfin_items(world, orders, generation, r.query),
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
            Answer::empty(StatusCode::NO_CONTENT)
        }
        (&Method::POST, "/collections") => collections::create(world, r.query),
        // The route exists for another method: ASP.NET answers 405, not 404.
        (_, "/collections") => Answer::empty(StatusCode::METHOD_NOT_ALLOWED),
        (method, path) => match collections::items_route(path) {
            Some(id) if method == Method::POST => collections::add(world, id, r.query),
            Some(id) if method == Method::DELETE => collections::remove(world, id, r.query),
            Some(_) => Answer::empty(StatusCode::METHOD_NOT_ALLOWED),
            None => Answer::empty(StatusCode::NOT_FOUND),
        },
    }
}

#[derive(Default)]
struct Fields {
    path: bool,
    provider_ids: bool,
    media_sources: bool,
}

/// `GET /Items`: the items that pass the filters, in the order asked for, one page of them. The
/// order and the page are computed at the moment of the request.
fn jellyfin_items(world: &World, orders: &mut Orders, generation: u64, q: &Query) -> Answer {
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
    // `includeItemTypes=BoxSet` alone lists the collections, whatever `parentId` says.
    if kinds.len() == 1 && kinds[0].eq_ignore_ascii_case("BoxSet") {
        return collections::list(world, q, user.is_some(), fields.path);
    }
    // A collection as the parent: only its items. Another item as the parent is not simulated
    // (the query lists as if there were none); an id that names nothing is GetParentItem's 400.
    let within = match param(q, "parentId") {
        None => None,
        Some(raw) => match collections::parse_guid(raw) {
            None => return collections::invalid_value("parentId", raw),
            Some(id) => {
                match collections::members(world, &id, user.is_some(), flag(q, "recursive")) {
                    Some(members) => Some(members),
                    None if collections::in_library(world, &id) => None,
                    None => return collections::bad_request(),
                }
            }
        },
    };
    let is_played = param(q, "isPlayed").map(|v| v.eq_ignore_ascii_case("true"));
    let is_favorite = param(q, "isFavorite").map(|v| v.eq_ignore_ascii_case("true"));
    let ids = params(q, "ids");
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

    let Ok(keys) = order::ordering(&params(q, "sortBy"), &params(q, "sortOrder")) else {
        // GetOrderBy indexes past the end of sortBy; ExceptionMiddleware answers in plain text.
        return Answer::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error processing request.",
        );
    };
    let wants_movies = wants("Movie");
    let wants_series = wants("Series");
    let wants_seasons = wants("Season");
    let wants_episodes = wants("Episode");
    let ids: Vec<String> = ids.iter().map(|id| id.replace('-', "")).collect();
    let admit = |at: ItemRef| {
        let Some((candidate, watch)) = candidate(world, at) else {
            return false;
        };
        let wanted = match candidate {
            Candidate::Movie(_) => wants_movies,
            Candidate::Series(_) => wants_series,
            Candidate::Season(..) => wants_seasons,
            Candidate::Episode(..) => wants_episodes,
        };
        wanted
            && passes(watch_of(watch).as_ref())
            && (ids.is_empty() || ids.iter().any(|id| id.eq_ignore_ascii_case(candidate.id())))
            && within.as_ref().is_none_or(|m| m.contains(candidate.id()))
    };
    let matching = orders.matching(world, generation, list_key(q), &keys, admit);
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
        .filter_map(|at| candidate(world, *at))
        .map(|(c, _)| c.to_out(world, user.as_deref(), &fields))
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

/// What decides which items a query matches: all of it but the page.
fn list_key(q: &Query) -> String {
    let mut key = String::new();
    for (k, v) in q {
        if !k.eq_ignore_ascii_case("startIndex") && !k.eq_ignore_ascii_case("limit") {
            key.push_str(k);
            key.push('=');
            key.push_str(v);
            key.push('&');
        }
    }
    key
}

/// The item at `at` with its watch state, if Jellyfin lists it.
fn candidate(world: &World, at: ItemRef) -> Option<(Candidate<'_>, &BTreeMap<String, Watch>)> {
    let series = |i: u32| world.series.get(i as usize).filter(|s| s.in_jellyfin);
    match at {
        ItemRef::Movie(i) => {
            let m = world.movies.get(i as usize).filter(|m| m.in_jellyfin)?;
            Some((Candidate::Movie(m), &m.watch))
        }
        ItemRef::Series(i) => {
            let s = series(i)?;
            Some((Candidate::Series(s), &s.watch))
        }
        ItemRef::Season(i, j) => {
            let s = series(i)?;
            let season = s.seasons.get(j as usize)?;
            Some((Candidate::Season(s, j as usize), &season.watch))
        }
        ItemRef::Episode(i, j) => {
            let s = series(i)?;
            let e = s.episodes.get(j as usize).filter(|e| e.in_jellyfin)?;
            Some((Candidate::Episode(s, e), &e.watch))
        }
    }
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
        let media = |id: &'w str, path: &str, size: u64, movie: bool| {
            fields.media_sources.then(|| {
                [Box::new(MediaSourceOut::new(Probed {
                    id,
                    path: path.to_owned(),
                    size,
                    movie,
                }))]
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
                    media_sources: path
                        .as_deref()
                        .and_then(|p| media(&m.jellyfin_id, p, size, true)),
                    path: path.filter(|_| fields.path && !m.path_only_in_media_sources),
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
                    name: season_name(season.number),
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
                        .and_then(|(f, p)| media(&e.jellyfin_id, p, f.size, false)),
                    path: path.filter(|_| fields.path && !e.path_only_in_media_sources),
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
    media_sources: Option<[Box<MediaSourceOut<'w>>; 1]>,
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

fn jellyfin_sessions(world: &World) -> Answer {
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
