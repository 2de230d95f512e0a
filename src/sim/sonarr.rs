//! The simulated Sonarr: series, episodes, episode files, the calendar, monitoring and deletes.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::arr::{
    arr_date, health_json, root_folders_json, root_of, status_json, tags_json, tail_id,
};
use super::server::{flag, ok, param, params, status, typed_json, Answer, DeleteEvent, Request};
use super::world::{Episode, EpisodeFile, Series, World};
use crate::clients::http::Service;

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
    f: &'w EpisodeFile,
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

pub(super) fn sonarr(
    world: &mut World,
    r: &Request<'_>,
    event: &mut Option<DeleteEvent>,
) -> Answer {
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
            Answer::empty(StatusCode::OK)
        }
        _ => Answer::empty(StatusCode::NOT_FOUND),
    }
}
