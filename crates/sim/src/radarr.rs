//! The simulated Radarr: movies, and deleting them with their folder.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::arr::{
    arr_date, health_json, media_info_out, quality_out, root_folders_json, root_of, status_json,
    tags_json, tail_id,
};
use super::server::{flag, ok, param, status, Answer, DeleteEvent, Effects, Request};
use super::world::{Movie, World};
use crate::service::Service;

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
        if let Some(media) = &f.media {
            v["movieFile"]["quality"] = json!(quality_out(media, true));
            v["movieFile"]["mediaInfo"] = json!(media_info_out(media));
        }
    }
    v
}

pub(super) fn radarr(world: &mut World, r: &Request<'_>, effects: &mut Effects) -> Answer {
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
            // MovieService.DeleteMovie drops the record and publishes MoviesDeletedEvent; the
            // folder goes in MediaFileDeletionService.HandleAsync, after the answer.
            m.in_radarr = false;
            let folder = m.path.clone();
            let tmdb = m.tmdb_id;
            let mut removed = Vec::new();
            if flag(r.query, "deleteFiles") {
                removed = files_in(world, &folder);
                effects.remove_folder = Some(folder);
            }
            if flag(r.query, "addImportExclusion") {
                world.import_exclusions.push(tmdb);
            }
            effects.event = Some(DeleteEvent {
                service: Service::Radarr,
                path: r.path.to_string(),
                removed,
            });
            Answer::empty(StatusCode::OK)
        }
        _ => Answer::empty(StatusCode::NOT_FOUND),
    }
}

/// The files under a movie folder.
pub(super) fn files_in(world: &World, folder: &str) -> Vec<String> {
    let prefix = format!("{folder}/");
    world
        .files
        .iter()
        .filter(|f| f.starts_with(&prefix))
        .cloned()
        .collect()
}

/// Deletes a movie folder, as Radarr's RecycleBinProvider.DeleteFolder does: whatever is in it
/// at that moment.
pub(super) fn remove_folder(world: &mut World, folder: &str) {
    for f in files_in(world, folder) {
        world.remove_file(&f);
    }
}
