//! Seerr's media records: server/routes/media.ts.

use std::cmp::Reverse;

use axum::http::StatusCode;

use super::requests::count_param;
use super::{forbidden, js_int, message, render};
use crate::radarr;
use crate::server::{ok, Answer, DeleteEvent, Effects, Query, Request};
use crate::service::Service;
use crate::world::{SeerrMediaStatus as M, SeerrMediaType, SeerrUser, World};

fn query_value<'q>(query: &'q Query, name: &str) -> Option<&'q str> {
    (query.iter().find(|(k, _)| k == name)).map(|(_, v)| v.as_str())
}

/// `GET /media`: paged with `take` (20, not the 10 of `/request`) and `skip`, filtered on
/// `status` only (never `status4k`; `deleted` and `all` filter nothing), newest id first or
/// by `updatedAt` / `mediaAddedAt`, with each record's seasons and without its requests.
pub(super) fn list(world: &World, query: &Query) -> Answer {
    let page_size = count_param(query, "take", 20);
    let skip = count_param(query, "skip", 0);
    let wanted: Option<&[M]> = match query_value(query, "filter") {
        Some("available") => Some(&[M::Available]),
        Some("partial") => Some(&[M::PartiallyAvailable]),
        Some("allavailable") => Some(&[M::Available, M::PartiallyAvailable]),
        Some("processing") => Some(&[M::Processing]),
        Some("pending") => Some(&[M::Pending]),
        _ => None,
    };
    let mut found: Vec<_> = (world.seerr.media.iter())
        .filter(|m| wanted.is_none_or(|w| w.contains(&m.status)))
        .collect();
    match query_value(query, "sort") {
        Some("modified") => found.sort_by_key(|m| Reverse(m.updated_at)),
        // SQLite puts NULLs first in ascending order, so last here.
        Some("mediaAdded") => found.sort_by_key(|m| Reverse(m.media_added_at)),
        _ => found.sort_by_key(|m| Reverse(m.id)),
    }
    let results = (found.iter().skip(skip).take(page_size))
        .map(|m| render::media(m, true))
        .collect();
    ok(render::page(results, found.len(), skip, page_size))
}

/// `DELETE /media/{id}` (MANAGE_REQUESTS): the record goes, and with it (by the database's
/// `ON DELETE CASCADE`, so no request subscriber runs) its requests, their seasons and its
/// seasons. A BLOCKLISTED record stays: only its service data is reset.
pub(super) fn delete(
    world: &mut World,
    user: &SeerrUser,
    id: &str,
    r: &Request<'_>,
    effects: &mut Effects,
) -> Answer {
    if !user.has(&[SeerrUser::MANAGE_REQUESTS], false) {
        return forbidden();
    }
    let seerr = &mut world.seerr;
    let Some(id) = js_int(id).filter(|id| seerr.media(*id).is_some()) else {
        return message(StatusCode::NOT_FOUND, "Media not found");
    };
    match seerr.media_mut(id) {
        Some(m) if m.status == M::Blocklisted => m.reset_service_data(),
        _ => {
            seerr.media.retain(|m| m.id != id);
            seerr.requests.retain(|q| q.media_id != id);
        }
    }
    effects.event = Some(DeleteEvent {
        service: Service::Seerr,
        path: r.path.to_string(),
        removed: Vec::new(),
    });
    Answer::empty(StatusCode::NO_CONTENT)
}

/// `DELETE /media/{id}/file` (MANAGE_REQUESTS): Seerr deletes the title itself, a movie
/// through Radarr (`removeMovie`: `DELETE /movie/{id}?deleteFiles=true`) and a series whole
/// through Sonarr (`removeSeries`), and leaves its own record as it is. Any failure on the way
/// (no such record, not in Radarr/Sonarr, no TVDB id) is the route's 404. The call is recorded
/// in `World.seerr.violations` before any of this.
pub(super) fn delete_file(
    world: &mut World,
    user: &SeerrUser,
    id: &str,
    r: &Request<'_>,
    effects: &mut Effects,
) -> Answer {
    if !user.has(&[SeerrUser::MANAGE_REQUESTS], false) {
        return forbidden();
    }
    let not_found = || message(StatusCode::NOT_FOUND, "Media not found");
    let Some(media) = js_int(id).and_then(|id| world.seerr.media(id)).cloned() else {
        return not_found();
    };
    if query_value(r.query, "is4k") == Some("true") {
        // Seerr finds no default 4K server, logs a warning and returns without answering: the
        // client waits until it gives up. The simulator says so instead of hanging.
        let text = "simulated Seerr: no 4K server; the real one never answers this request";
        return message(StatusCode::INTERNAL_SERVER_ERROR, text);
    }
    let removed = match media.media_type {
        SeerrMediaType::Movie => {
            let Some(movie) =
                (world.movies.iter_mut()).find(|m| m.in_radarr && m.tmdb_id == media.tmdb_id)
            else {
                return not_found();
            };
            movie.in_radarr = false;
            let folder = movie.path.clone();
            let removed = radarr::files_in(world, &folder);
            effects.remove_folder = Some(folder);
            removed
        }
        SeerrMediaType::Tv => {
            // TMDB's TVDB id first, then the record's; neither is 'TVDB ID not found'.
            let tmdb_tvdb = world.seerr.tmdb_tvdb.get(&media.tmdb_id).copied();
            let tvdb = tmdb_tvdb.or(media.tvdb_id);
            let Some(series) =
                (world.series.iter_mut()).find(|s| s.in_sonarr && Some(s.tvdb_id) == tvdb)
            else {
                return not_found();
            };
            series.in_sonarr = false;
            let paths: Vec<String> = series.files.iter().map(|f| f.path.clone()).collect();
            let removed: Vec<String> = (paths.into_iter())
                .filter(|p| world.files.contains(p))
                .collect();
            for path in &removed {
                world.remove_file(path);
            }
            removed
        }
    };
    effects.event = Some(DeleteEvent {
        service: Service::Seerr,
        path: r.path.to_string(),
        removed,
    });
    Answer::empty(StatusCode::NO_CONTENT)
}
