//! The simulated Sonarr: series, episodes, episode files, the calendar, monitoring and deletes.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::arr::{
    arr_date, health_json, media_info_out, quality_out, root_folders_json, root_of, status_json,
    tags_json, tail_id, MediaInfoOut, QualityModelOut,
};
use super::server::{
    flag, ok, param, params, status, typed_json, Answer, DeleteEvent, Effects, Request,
};
use super::world::{Episode, EpisodeFile, Series, World};
use crate::service::Service;

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
    #[serde(skip_serializing_if = "Option::is_none")]
    quality: Option<QualityModelOut<'w>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    media_info: Option<MediaInfoOut<'w>>,
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
        quality: f.media.as_deref().map(|m| quality_out(m, false)),
        media_info: f.media.as_deref().map(media_info_out),
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

pub(super) fn sonarr(world: &mut World, r: &Request<'_>, effects: &mut Effects) -> Answer {
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
        (&Method::GET, "/api/v3/episode") => get_episodes(world, r),
        (&Method::GET, "/api/v3/episodefile") => get_episode_files(world, r),
        (&Method::GET, p) if tail_id(p, "/api/v3/episodefile/").is_some() => {
            let id = tail_id(p, "/api/v3/episodefile/").unwrap_or(0);
            // RestController.GetResourceByIdWithErrorHandler: a bare 404 for a missing row.
            match find_file(world, id) {
                Some((si, fi)) => {
                    let s = &world.series[si];
                    let date_added = arr_date(world.now);
                    typed_json(
                        StatusCode::OK,
                        &episode_file_out(s, &s.files[fi], &date_added),
                    )
                }
                None => Answer::empty(StatusCode::NOT_FOUND),
            }
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
        (&Method::PUT, "/api/v3/episode/monitor") => set_monitored(world, r),
        (&Method::DELETE, "/api/v3/episodefile/bulk") => delete_files(world, r, &mut effects.event),
        (&Method::DELETE, p) if tail_id(p, "/api/v3/episodefile/").is_some() => {
            let id = tail_id(p, "/api/v3/episodefile/").unwrap_or(0);
            let Some((owner, _)) = find_file(world, id) else {
                return not_found("EpisodeFile", id);
            };
            if let Some(refused) = root_folder_missing(world, owner) {
                return refused;
            }
            let removed = remove_files(world, owner, &[id]);
            effects.event = Some(DeleteEvent {
                service: Service::Sonarr,
                path: r.path.to_string(),
                removed,
            });
            Answer::empty(StatusCode::OK)
        }
        _ => Answer::empty(StatusCode::NOT_FOUND),
    }
}

// Sonarr's errors, as its error pipeline (SonarrErrorPipeline) writes them.

/// `ModelNotFoundException` (`BasicRepository.Get(id)`): 404.
fn not_found(model: &str, id: i32) -> Answer {
    let message = format!("{model} with ID {id} does not exist");
    Answer::json(
        StatusCode::NOT_FOUND,
        &json!({"message": message,
            "description": format!("NzbDrone.Core.Datastore.ModelNotFoundException: {message}")}),
    )
}

/// The `ApplicationException` of `BasicRepository.Get(ids)` when a row is missing: 500.
fn rows_missing(asked: usize, found: usize) -> Answer {
    let message = format!("Expected query to return {asked} rows but returned {found}");
    Answer::json(
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({"message": message,
            "description": format!("System.ApplicationException: {message}")}),
    )
}

/// An unhandled exception other than the ones the pipeline maps: 500.
fn exception(kind: &str, message: &str) -> Answer {
    Answer::json(
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({"message": message, "description": format!("{kind}: {message}")}),
    )
}

/// Where the episode file with this id is in the world (series index, file index), if Sonarr
/// has it.
fn find_file(world: &World, id: i32) -> Option<(usize, usize)> {
    world.series.iter().enumerate().find_map(|(si, s)| {
        let fi = s.files.iter().position(|f| f.id == id)?;
        s.in_sonarr.then_some((si, fi))
    })
}

fn find_episode(world: &World, id: i32) -> Option<(usize, usize)> {
    world.series.iter().enumerate().find_map(|(si, s)| {
        let ei = s.episodes.iter().position(|e| e.sonarr_id == id)?;
        s.in_sonarr.then_some((si, ei))
    })
}

/// `BasicRepository.Get(ids)`: the rows with these ids, ascending by id as SQLite returns them,
/// or the 500 Sonarr answers when their number differs from the number of ids (a missing or a
/// repeated id). `rows` lists every row as (id, where it is).
fn get_ids(
    ids: &[i32],
    rows: impl Iterator<Item = (i32, (usize, usize))>,
) -> Result<Vec<(usize, usize)>, Answer> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: std::collections::HashSet<i32> = ids.iter().copied().collect();
    let mut found: Vec<(i32, (usize, usize))> =
        rows.filter(|(id, _)| wanted.contains(id)).collect();
    if found.len() != ids.len() {
        return Err(rows_missing(ids.len(), found.len()));
    }
    found.sort_by_key(|(id, _)| *id);
    Ok(found.into_iter().map(|(_, at)| at).collect())
}

fn file_rows(world: &World) -> impl Iterator<Item = (i32, (usize, usize))> + '_ {
    world
        .series
        .iter()
        .enumerate()
        .filter(|(_, s)| s.in_sonarr)
        .flat_map(|(si, s)| {
            s.files
                .iter()
                .enumerate()
                .map(move |(fi, f)| (f.id, (si, fi)))
        })
}

fn episode_rows(world: &World) -> impl Iterator<Item = (i32, (usize, usize))> + '_ {
    world
        .series
        .iter()
        .enumerate()
        .filter(|(_, s)| s.in_sonarr)
        .flat_map(|(si, s)| {
            s.episodes
                .iter()
                .enumerate()
                .map(move |(ei, e)| (e.sonarr_id, (si, ei)))
        })
}

fn ids_param(r: &Request<'_>, name: &str) -> Vec<i32> {
    params(r.query, name)
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect()
}

/// `GET /api/v3/episode`: by series (an unknown series has no episodes), else by ids through
/// `Get(ids)`.
fn get_episodes(world: &World, r: &Request<'_>) -> Answer {
    let series_id = param(r.query, "seriesId").and_then(|v| v.parse::<i32>().ok());
    let episode_ids = ids_param(r, "episodeIds");
    let include = flag(r.query, "includeEpisodeFile");
    let date_added = arr_date(world.now);
    let out: Vec<EpisodeOut<'_>> = if let Some(series_id) = series_id {
        world
            .series
            .iter()
            .filter(|s| s.in_sonarr && s.sonarr_id == series_id)
            .flat_map(|s| s.episodes.iter().map(move |e| (s, e)))
            .map(|(s, e)| episode_out(s, e, include, &date_added))
            .collect()
    } else if !episode_ids.is_empty() {
        match get_ids(&episode_ids, episode_rows(world)) {
            Ok(found) => found
                .into_iter()
                .map(|(si, ei)| {
                    let s = &world.series[si];
                    episode_out(s, &s.episodes[ei], include, &date_added)
                })
                .collect(),
            Err(refused) => return refused,
        }
    } else {
        return status(
            StatusCode::BAD_REQUEST,
            "seriesId or episodeIds must be provided",
        );
    };
    typed_json(StatusCode::OK, &out)
}

/// `GET /api/v3/episodefile`: `seriesId` wins (an unknown series is a 404, `GetSeries`
/// throws); else the ids through `Get(ids)`, grouped by series.
fn get_episode_files(world: &World, r: &Request<'_>) -> Answer {
    let series_id = param(r.query, "seriesId").and_then(|v| v.parse::<i32>().ok());
    let ids = ids_param(r, "episodeFileIds");
    let date_added = arr_date(world.now);
    let out: Vec<EpisodeFileOut<'_>> = if let Some(series_id) = series_id {
        let Some(s) = world
            .series
            .iter()
            .find(|s| s.in_sonarr && s.sonarr_id == series_id)
        else {
            return not_found("Series", series_id);
        };
        s.files
            .iter()
            .map(|f| episode_file_out(s, f, &date_added))
            .collect()
    } else if !ids.is_empty() {
        let mut found = match get_ids(&ids, file_rows(world)) {
            Ok(found) => found,
            Err(refused) => return refused,
        };
        // GroupBy(SeriesId): the series in the order their first file came.
        let mut order: Vec<usize> = Vec::new();
        for (si, _) in &found {
            if !order.contains(si) {
                order.push(*si);
            }
        }
        found.sort_by_key(|(si, _)| order.iter().position(|o| o == si));
        found
            .into_iter()
            .map(|(si, fi)| {
                let s = &world.series[si];
                episode_file_out(s, &s.files[fi], &date_added)
            })
            .collect()
    } else {
        return status(
            StatusCode::BAD_REQUEST,
            "seriesId or episodeFileIds must be provided",
        );
    };
    typed_json(StatusCode::OK, &out)
}

/// `PUT /api/v3/episode/monitor` (EpisodeController.SetEpisodesMonitored): one id goes through
/// `Get(id)` (404 when unknown, nothing changed); several are updated blindly first and read back
/// through `Get(ids)`, so one unknown id makes it a 500 after the known ones changed.
fn set_monitored(world: &mut World, r: &Request<'_>) -> Answer {
    let Ok(body) = serde_json::from_str::<MonitorBody>(r.body) else {
        return status(StatusCode::BAD_REQUEST, "invalid body");
    };
    if let [id] = body.episode_ids[..] {
        let Some((si, ei)) = find_episode(world, id) else {
            return not_found("Episode", id);
        };
        world.series[si].episodes[ei].monitored = body.monitored;
    } else {
        let wanted: std::collections::HashSet<i32> = body.episode_ids.iter().copied().collect();
        for s in world.series.iter_mut().filter(|s| s.in_sonarr) {
            for e in s
                .episodes
                .iter_mut()
                .filter(|e| wanted.contains(&e.sonarr_id))
            {
                e.monitored = body.monitored;
            }
        }
    }
    match get_ids(&body.episode_ids, episode_rows(world)) {
        Ok(found) => {
            let out: Vec<EpisodeOut<'_>> = found
                .into_iter()
                .map(|(si, ei)| {
                    let s = &world.series[si];
                    episode_out(s, &s.episodes[ei], false, "")
                })
                .collect();
            typed_json(StatusCode::ACCEPTED, &out)
        }
        Err(refused) => refused,
    }
}

/// `DELETE /api/v3/episodefile/bulk` (EpisodeFileController.DeleteEpisodeFiles): the ids go
/// through `Get(ids)` first (one unknown id: 500, nothing deleted); the series of the first row
/// (the lowest id) is used for every file, so files of another series lose their row but stay on
/// disk; a missing root folder is a 409 before anything goes.
fn delete_files(world: &mut World, r: &Request<'_>, event: &mut Option<DeleteEvent>) -> Answer {
    let Ok(body) = serde_json::from_str::<BulkBody>(r.body) else {
        return status(StatusCode::BAD_REQUEST, "invalid body");
    };
    let found = match get_ids(&body.episode_file_ids, file_rows(world)) {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    // `episodeFiles.First()` of an empty list. (Sonarr's newest source maps this
    // InvalidOperationException to a 400; released versions answer 500.)
    let Some(&(series_index, _)) = found.first() else {
        return exception(
            "System.InvalidOperationException",
            "Sequence contains no elements",
        );
    };
    if let Some(refused) = root_folder_missing(world, series_index) {
        return refused;
    }
    let mut removed = Vec::new();
    let ids: Vec<(usize, i32)> = found
        .iter()
        .map(|&(si, fi)| (si, world.series[si].files[fi].id))
        .collect();
    for (owner, id) in ids {
        if owner == series_index {
            removed.extend(remove_files(world, owner, &[id]));
        } else {
            // Joined onto the first series' folder, the path points nowhere: the row goes, the
            // file stays.
            let forgotten = forget_files(&mut world.series[owner], &[id]);
            world.left_on_disk.extend(forgotten);
        }
    }
    *event = Some(DeleteEvent {
        service: Service::Sonarr,
        path: r.path.to_string(),
        removed,
    });
    ok(json!({}))
}

/// The 409 of MediaFileDeletionService.DeleteEpisodeFile when the series' root folder is not
/// there.
fn root_folder_missing(world: &World, series_index: usize) -> Option<Answer> {
    let path = &world.series.get(series_index)?.path;
    match root_of(&world.sonarr_root_folders, path) {
        Some(root) if root.accessible => None,
        Some(root) => Some(status(
            StatusCode::CONFLICT,
            &format!("Series' root folder ({}) doesn't exist.", root.path),
        )),
        // RootFolderService.GetBestRootFolderPath falls back to the series' parent folder.
        None => Some(status(
            StatusCode::CONFLICT,
            &format!(
                "Series' root folder ({}) doesn't exist.",
                path.rsplit_once('/').map_or("", |(parent, _)| parent)
            ),
        )),
    }
}

/// Drops the rows of these files from the series (its episodes lose their file) and returns
/// their paths.
fn forget_files(series: &mut Series, ids: &[i32]) -> Vec<String> {
    let mut paths = Vec::new();
    series.files.retain(|f| {
        let go = ids.contains(&f.id);
        if go {
            paths.push(f.path.clone());
        }
        !go
    });
    for e in &mut series.episodes {
        if ids.contains(&e.file_id) {
            e.file_id = 0;
        }
    }
    paths
}

/// Drops the rows and deletes the files; returns the paths deleted.
fn remove_files(world: &mut World, series_index: usize, ids: &[i32]) -> Vec<String> {
    let Some(series) = world.series.get_mut(series_index) else {
        return Vec::new();
    };
    let paths = forget_files(series, ids);
    for p in &paths {
        world.remove_file(p);
    }
    paths
}
