//! `POST /request`: server/routes/request.ts and `MediaRequest.request`
//! (server/entity/MediaRequest.ts), as far as deciding whether the request is made, then the
//! request subscriber's `afterInsert`.

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::edit::{int_member, tags_member};
use super::requests::not_found_entity;
use super::{member, message, render, subscriber, truthy_int};
use crate::server::Answer;
use crate::world::{
    SeerrMediaStatus as M, SeerrMediaType, SeerrRequest, SeerrRequestStatus as R, SeerrUser, World,
};

/// The seasons TMDB would list for a series (the simulator's stand-in: those of the simulated
/// Sonarr's series with the TVDB id, else those Seerr has recorded), specials included.
fn tmdb_seasons(world: &World, tvdb_id: Option<i32>, media_id: Option<i32>) -> Vec<i32> {
    if let Some(series) = tvdb_id.and_then(|t| world.series.iter().find(|s| s.tvdb_id == t)) {
        return series.seasons.iter().map(|s| s.number).collect();
    }
    (media_id.and_then(|id| world.seerr.media(id)))
        .map(|m| m.seasons.iter().map(|s| s.season_number).collect())
        .unwrap_or_default()
}

/// `POST /request`: `MediaRequest.request` as far as deciding whether the request is made.
pub(super) fn create(world: &mut World, user: &SeerrUser, body: &Value) -> Answer {
    let media_type = body.get("mediaType").and_then(Value::as_str);
    let Some(media_type) = media_type.and_then(SeerrMediaType::parse) else {
        // The validator lets only `movie` and `tv` through.
        return message(
            StatusCode::BAD_REQUEST,
            "request/body/mediaType must be movie or tv",
        );
    };
    let tmdb_id = (body.get("mediaId").and_then(Value::as_f64))
        .filter(|n| n.fract() == 0.0 && n.abs() <= f64::from(i32::MAX))
        .map(|n| n as i32);
    let Some(tmdb_id) = tmdb_id else {
        let text = "[TMDB] Failed to fetch details: Request failed with status code 404";
        return message(StatusCode::INTERNAL_SERVER_ERROR, text);
    };
    // `is4k` absent is `undefined`: falsy, and bound as NULL in `request.is4k = :is4k`.
    let is4k = body.get("is4k").and_then(Value::as_bool);
    let four_k = is4k == Some(true);
    let mut requester = user.clone();
    if let Some(user_id) = truthy_int(body, "userId") {
        if !user.has(
            &[SeerrUser::MANAGE_USERS, SeerrUser::MANAGE_REQUESTS],
            false,
        ) {
            let text = "You do not have permission to modify the request user.";
            return message(StatusCode::FORBIDDEN, text);
        }
        match i32::try_from(user_id)
            .ok()
            .and_then(|id| world.seerr.user(id))
        {
            Some(u) => requester = u.clone(),
            None => return not_found_entity("User", &json!({"where": {"id": user_id}})),
        }
    }
    let tv = media_type == SeerrMediaType::Tv;
    let (request_perms, approve_perms, what) = match (tv, four_k) {
        (false, false) => (
            [SeerrUser::REQUEST, SeerrUser::REQUEST_MOVIE],
            [SeerrUser::AUTO_APPROVE, SeerrUser::AUTO_APPROVE_MOVIE],
            "movie",
        ),
        (false, true) => (
            [SeerrUser::REQUEST_4K, SeerrUser::REQUEST_4K_MOVIE],
            [SeerrUser::AUTO_APPROVE_4K, SeerrUser::AUTO_APPROVE_4K_MOVIE],
            "movie",
        ),
        (true, false) => (
            [SeerrUser::REQUEST, SeerrUser::REQUEST_TV],
            [SeerrUser::AUTO_APPROVE, SeerrUser::AUTO_APPROVE_TV],
            "series",
        ),
        (true, true) => (
            [SeerrUser::REQUEST_4K, SeerrUser::REQUEST_4K_TV],
            [SeerrUser::AUTO_APPROVE_4K, SeerrUser::AUTO_APPROVE_4K_TV],
            "series",
        ),
    };
    if !requester.has(&request_perms, true) {
        let text = format!(
            "You do not have permission to make {}{what} requests.",
            if four_k { "4K " } else { "" }
        );
        return message(StatusCode::FORBIDDEN, &text);
    }
    let seerr = &world.seerr;
    let media = seerr.media_by_tmdb(media_type, tmdb_id);
    if media.is_some_and(|m| m.status == M::Blocklisted) {
        return message(StatusCode::FORBIDDEN, "This media is blocklisted.");
    }
    let media_id = media.map(|m| m.id);
    // The requests of the title with the same `is4k`, in the order SQLite returns them.
    let existing: Vec<&SeerrRequest> = (seerr.requests.iter())
        .filter(|r| Some(r.media_id) == media_id && is4k == Some(r.is4k))
        .collect();
    // Only the first counts: a movie is refused while its oldest request is not DECLINED or
    // COMPLETED, whatever the others are and whatever the media's status is.
    if !tv
        && existing
            .first()
            .is_some_and(|r| !matches!(r.status, R::Declined | R::Completed))
    {
        return message(
            StatusCode::CONFLICT,
            "Request for this media already exists.",
        );
    }
    if existing
        .iter()
        .any(|r| r.requested_by == requester.id && r.is_auto_request)
    {
        let text = "Auto-request for this media and user already exists.";
        return message(StatusCode::CONFLICT, text);
    }
    let approve = [
        approve_perms[0],
        approve_perms[1],
        SeerrUser::MANAGE_REQUESTS,
    ];
    let status = if user.has(&approve, true) {
        R::Approved
    } else {
        R::Pending
    };
    // `requestBody.tvdbId ?? tmdbMedia.external_ids.tvdb_id` (for a new media record).
    let tmdb_tvdb = world.seerr.tmdb_tvdb.get(&tmdb_id).copied();
    let tvdb_id = int_member(body, "tvdbId").or(tmdb_tvdb);
    let seasons = if tv {
        let asked: Vec<i32> = match body.get("seasons") {
            Some(Value::String(_)) => {
                let tvdb = tvdb_id.or(media.and_then(|m| m.tvdb_id));
                // TMDB's list of the series' seasons, less the specials.
                tmdb_seasons(world, tvdb, media_id)
                    .into_iter()
                    .filter(|n| *n != 0)
                    .collect()
            }
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_f64)
                .map(|n| n as i32)
                .collect(),
            _ => {
                let text = "Cannot read properties of undefined (reading 'filter')";
                return message(StatusCode::INTERNAL_SERVER_ERROR, text);
            }
        };
        // `enableSpecialEpisodes` is off by default: no season 0.
        let asked = asked.into_iter().filter(|n| *n > 0);
        let mut taken: Vec<i32> = Vec::new();
        if let Some(m) = media {
            // `request.is4k === requestBody.is4k`: an absent is4k matches no request here.
            taken.extend(
                (seerr.requests.iter())
                    .filter(|r| r.media_id == m.id && is4k == Some(r.is4k))
                    .filter(|r| !matches!(r.status, R::Declined | R::Completed))
                    .flat_map(|r| r.seasons.iter().map(|s| s.season_number)),
            );
            taken.extend(
                (m.seasons.iter())
                    .filter(|s| {
                        let status = if four_k { s.status4k } else { s.status };
                        !matches!(status, M::Unknown | M::Deleted)
                    })
                    .map(|s| s.season_number),
            );
        }
        let free: Vec<i32> = asked.filter(|n| !taken.contains(n)).collect();
        if free.is_empty() {
            return message(StatusCode::ACCEPTED, "No seasons available to request");
        }
        free
    } else {
        Vec::new()
    };
    let now = world.now;
    let seerr = &mut world.seerr;
    // A record that was there came with its eager seasons; a new one has none to write.
    let loaded = media_id.is_some();
    let media_id = match media_id {
        Some(id) => {
            if let Some(m) = seerr.media_mut(id) {
                if m.status == M::Unknown && !four_k {
                    m.status = M::Pending;
                }
                if m.status4k == M::Unknown && four_k {
                    m.status4k = M::Pending;
                }
            }
            id
        }
        None => {
            if tvdb_id.is_some() && seerr.media.iter().any(|m| m.tvdb_id == tvdb_id) {
                let text = "SQLITE_CONSTRAINT: UNIQUE constraint failed: media.tvdbId";
                return message(StatusCode::INTERNAL_SERVER_ERROR, text);
            }
            let (regular, uhd) = if four_k {
                (M::Unknown, M::Pending)
            } else {
                (M::Pending, M::Unknown)
            };
            seerr.add_media(media_type, tmdb_id, tvdb_id, regular, uhd, now)
        }
    };
    let seasons = (seasons.into_iter())
        .map(|n| seerr.season_request(n, status, now))
        .collect();
    let request = SeerrRequest {
        id: 0,
        status,
        media_id,
        media_type,
        is4k: four_k,
        requested_by: requester.id,
        modified_by: (status == R::Approved).then_some(user.id),
        created_at: now,
        updated_at: now,
        seasons,
        server_id: int_member(body, "serverId"),
        profile_id: int_member(body, "profileId"),
        root_folder: member(body, "rootFolder")
            .and_then(Value::as_str)
            .map(str::to_string),
        language_profile_id: if tv {
            int_member(body, "languageProfileId")
        } else {
            None
        },
        tags: tags_member(body),
        is_auto_request: false,
    };
    let id = seerr.add_request(request);
    // The answer is the entity as saved; the subscriber changes the media record afterwards.
    let mut answer = (seerr.request(id))
        .map(|r| render::request(seerr, r, loaded))
        .unwrap_or_default();
    if status == R::Pending {
        if let Some(fields) = answer.as_object_mut() {
            fields.remove("modifiedBy");
        }
    }
    // `afterInsert` runs inside the save; whatever it does, the answer is a 201.
    subscriber::after_save(world, id);
    Answer::json(StatusCode::CREATED, &answer)
}
