//! What Seerr's request subscriber (server/subscriber/MediaRequestSubscriber.ts) does after a
//! request is saved or removed: `sendToRadarr`/`sendToSonarr` and `updateParentStatus` after an
//! insert or an update, `handleRemoveParentUpdate` after a removal.
//!
//! Sending to the *arrs is carried out on the simulated Radarr and Sonarr as far as it changes
//! what is there (`RadarrAPI.addMovie` monitors a movie without a file again, `SonarrAPI.
//! addSeries` monitors the request's seasons and every unmonitored episode in them) and is
//! recorded in `SeerrWorld::sent_to_arr`; adding a title the *arr does not have is recorded
//! only, and the search that follows is not simulated.

use crate::world::{
    SeerrMediaStatus as M, SeerrMediaType, SeerrRequestStatus as R, SeerrWorld, World,
};

/// `handleRemoveParentUpdate`: with no non-4K request left the status goes back to UNKNOWN
/// unless it is AVAILABLE, and likewise `status4k` with no 4K request left, whichever request
/// went. (A title whose file was deleted keeps showing "Available".)
pub(super) fn after_remove(seerr: &mut SeerrWorld, media_id: i32) {
    let left =
        |four_k: bool| (seerr.requests.iter()).any(|r| r.media_id == media_id && r.is4k == four_k);
    let (regular, four_k) = (left(false), left(true));
    if let Some(m) = seerr.media_mut(media_id) {
        if !regular && m.status != M::Available {
            m.status = M::Unknown;
        }
        if !four_k && m.status4k != M::Available {
            m.status4k = M::Unknown;
        }
    }
}

/// `afterInsert` / `afterUpdate`: send to the *arr, then `updateParentStatus` (an approved
/// request makes the media PROCESSING unless it is already processing or (partly) available,
/// and approves its seasons).
pub(super) fn after_save(world: &mut World, request_id: i32) {
    send_to_arr(world, request_id);
    let seerr = &mut world.seerr;
    let Some(request) = seerr.request(request_id) else {
        // sendToSonarr removed it (no TVDB id).
        return;
    };
    if request.status != R::Approved {
        return;
    }
    let (media_id, four_k) = (request.media_id, request.is4k);
    if let Some(m) = seerr.media_mut(media_id) {
        let status = m.status_for(four_k);
        if !matches!(status, M::Available | M::PartiallyAvailable | M::Processing) {
            m.set_status_for(four_k, M::Processing);
        }
    }
    if let Some(request) = seerr.request_mut(request_id) {
        if request.media_type == SeerrMediaType::Tv {
            for season in &mut request.seasons {
                season.status = R::Approved;
            }
        }
    }
}

/// `sendToRadarr` / `sendToSonarr` for an approved request of a title that is not AVAILABLE,
/// to Seerr's default server (id 0; there is no 4K one, so a 4K request goes nowhere).
fn send_to_arr(world: &mut World, request_id: i32) {
    let Some(request) = world.seerr.request(request_id).cloned() else {
        return;
    };
    let other_server = request.server_id.is_some_and(|id| id > 0);
    if request.status != R::Approved || request.is4k || other_server {
        return;
    }
    let Some(media) = world.seerr.media(request.media_id).cloned() else {
        return;
    };
    if media.status == M::Available {
        return;
    }
    match request.media_type {
        SeerrMediaType::Movie => {
            let files = &world.files;
            let movie =
                (world.movies.iter_mut()).find(|m| m.in_radarr && m.tmdb_id == media.tmdb_id);
            let note = match movie {
                Some(m) if m.file.as_ref().is_some_and(|f| files.contains(&f.path)) => {
                    "has its file"
                }
                Some(m) => {
                    m.monitored = true;
                    "monitored"
                }
                None => "would be added",
            };
            let sent = format!(
                "radarr: movie tmdb {} {note} (request {request_id})",
                media.tmdb_id
            );
            world.seerr.sent_to_arr.push(sent);
        }
        SeerrMediaType::Tv => {
            let tmdb_tvdb = world.seerr.tmdb_tvdb.get(&media.tmdb_id).copied();
            let Some(tvdb) = tmdb_tvdb.or(media.tvdb_id) else {
                // "TVDB ID not found": Seerr removes the media record and the request.
                world.seerr.media.retain(|m| m.id != media.id);
                world.seerr.requests.retain(|r| r.media_id != media.id);
                let sent = format!(
                    "sonarr: no TVDB id, media {} and its requests removed",
                    media.id
                );
                world.seerr.sent_to_arr.push(sent);
                return;
            };
            let seasons: Vec<i32> = request.seasons.iter().map(|s| s.season_number).collect();
            let series = (world.series.iter_mut()).find(|s| s.in_sonarr && s.tvdb_id == tvdb);
            let note = match series {
                Some(series) => {
                    for season in &mut series.seasons {
                        if seasons.contains(&season.number) {
                            season.monitored = true;
                        }
                    }
                    for episode in &mut series.episodes {
                        if seasons.contains(&episode.season) {
                            episode.monitored = true;
                        }
                    }
                    "monitored"
                }
                None => "would be added",
            };
            let sent = format!(
                "sonarr: series tvdb {tvdb} seasons {seasons:?} {note} (request {request_id})"
            );
            world.seerr.sent_to_arr.push(sent);
        }
    }
}
