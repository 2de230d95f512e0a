//! `PUT /request/{id}` (server/routes/request.ts).

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::requests::not_found_entity;
use super::{js_int, member, message, render, subscriber, truthy_int};
use crate::server::{ok, Answer};
use crate::world::{SeerrMediaType, SeerrRequest, SeerrRequestStatus as R, SeerrUser, World};

/// The fields `PUT /request/{id}` copies from the body. One the body leaves out becomes
/// `undefined`: TypeORM's save skips it (the stored value stays) and the answer lacks it.
const COPIED: [&str; 5] = [
    "serverId",
    "profileId",
    "rootFolder",
    "languageProfileId",
    "tags",
];

pub(super) fn int_member(body: &Value, name: &str) -> Option<i32> {
    member(body, name).and_then(Value::as_f64).map(|n| n as i32)
}

pub(super) fn tags_member(body: &Value) -> Option<Vec<i32>> {
    let tags = member(body, "tags")?.as_array()?;
    Some(
        tags.iter()
            .filter_map(Value::as_f64)
            .map(|n| n as i32)
            .collect(),
    )
}

/// Copies the fields the body has (`languageProfileId` only for TV).
fn copy_fields(request: &mut SeerrRequest, body: &Value, tv: bool) {
    if body.get("serverId").is_some() {
        request.server_id = int_member(body, "serverId");
    }
    if body.get("profileId").is_some() {
        request.profile_id = int_member(body, "profileId");
    }
    if body.get("rootFolder").is_some() {
        request.root_folder = member(body, "rootFolder")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    if tv && body.get("languageProfileId").is_some() {
        request.language_profile_id = int_member(body, "languageProfileId");
    }
    if body.get("tags").is_some() {
        request.tags = tags_member(body);
    }
}

/// `PUT /request/{id}`. For TV it needs `seasons`, keeps the seasons of this request that no
/// other active request of the same quality holds and are still asked for, and adds the asked
/// ones it lacks as PENDING (even one another request holds: the route compares the new ones
/// with this request only). An edit that changes the request's own row runs the subscriber:
/// an approved request of a title not AVAILABLE goes to Radarr/Sonarr again.
pub(super) fn update(world: &mut World, user: &SeerrUser, id: &str, body: &Value) -> Answer {
    let seerr = &mut world.seerr;
    let Some(stored) = js_int(id).and_then(|id| seerr.request(id)).cloned() else {
        return message(StatusCode::NOT_FOUND, "Request not found.");
    };
    let media_type = body.get("mediaType").and_then(Value::as_str).unwrap_or("");
    if (stored.requested_by != user.id
        || (media_type != "tv" && !user.has(&[SeerrUser::REQUEST_ADVANCED], false)))
        && !user.has(&[SeerrUser::MANAGE_REQUESTS], false)
    {
        let text = "You do not have permission to modify this request.";
        return message(StatusCode::FORBIDDEN, text);
    }
    let mut request = stored.clone();
    if let Some(user_id) = truthy_int(body, "userId") {
        if user_id != i64::from(stored.requested_by)
            && !user.has(
                &[SeerrUser::MANAGE_USERS, SeerrUser::MANAGE_REQUESTS],
                false,
            )
        {
            let text = "You do not have permission to modify the request user.";
            return message(StatusCode::FORBIDDEN, text);
        }
        match i32::try_from(user_id).ok().and_then(|id| seerr.user(id)) {
            Some(u) => request.requested_by = u.id,
            None => return not_found_entity("User", &json!({"where": {"id": user_id}})),
        }
    }
    match media_type {
        "movie" => copy_fields(&mut request, body, false),
        "tv" => {
            copy_fields(&mut request, body, true);
            let asked: Vec<i32> = (member(body, "seasons").and_then(Value::as_array))
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_f64)
                        .map(|n| n as i32)
                        .collect()
                })
                .unwrap_or_default();
            if asked.is_empty() {
                let text = "Missing seasons. \
                    If you want to cancel a series request, use the DELETE method.";
                return message(StatusCode::INTERNAL_SERVER_ERROR, text);
            }
            let tmdb_id = seerr.media(stored.media_id).map_or(0, |m| m.tmdb_id);
            let Some(media) = seerr.media_by_tmdb(SeerrMediaType::Tv, tmdb_id) else {
                let criteria = json!({"where": {"tmdbId": tmdb_id, "mediaType": "tv"},
                    "relations": {"requests": true}});
                return not_found_entity("Media", &criteria);
            };
            let held: Vec<i32> = (seerr.requests.iter())
                .filter(|r| r.media_id == media.id && r.is4k == stored.is4k && r.id != stored.id)
                .filter(|r| !matches!(r.status, R::Declined | R::Completed))
                .flat_map(|r| r.seasons.iter().map(|s| s.season_number))
                .collect();
            let free: Vec<i32> = asked
                .iter()
                .copied()
                .filter(|n| !held.contains(n))
                .collect();
            if free.is_empty() {
                return message(StatusCode::ACCEPTED, "No seasons available to request");
            }
            let new: Vec<i32> = (asked.iter().copied())
                .filter(|n| !stored.seasons.iter().any(|s| s.season_number == *n))
                .collect();
            request.seasons.retain(|s| free.contains(&s.season_number));
            let now = world.now;
            for n in new {
                let season = world.seerr.season_request(n, R::Pending, now);
                request.seasons.push(season);
            }
        }
        // Neither branch: nothing is saved, and the answer is the request as it was.
        _ => return ok(render::request(&world.seerr, &stored, true)),
    }
    // TypeORM updates the request's row (and so runs `afterUpdate`) when one of its columns
    // changed; new or dropped seasons are rows of their own.
    let row_changed = (request.server_id, request.profile_id, &request.root_folder)
        != (stored.server_id, stored.profile_id, &stored.root_folder)
        || (
            request.language_profile_id,
            &request.tags,
            request.requested_by,
        ) != (
            stored.language_profile_id,
            &stored.tags,
            stored.requested_by,
        );
    let seerr = &mut world.seerr;
    if let Some(slot) = seerr.request_mut(stored.id) {
        *slot = request.clone();
    }
    // The answer is the entity in memory: as saved, without what the body left undefined.
    let mut answer = render::request(seerr, &request, true);
    if let Some(fields) = answer.as_object_mut() {
        for name in COPIED {
            let copied = name != "languageProfileId" || media_type == "tv";
            if copied && body.get(name).is_none() {
                fields.remove(name);
            }
        }
    }
    if row_changed || seerr.resend_on_every_edit {
        subscriber::after_save(world, stored.id);
        // A TV save awaits the subscriber, which approves the seasons of an approved request
        // on the entity the answer is written from.
        let approved = request.status == R::Approved;
        if approved && media_type == "tv" && request.media_type == SeerrMediaType::Tv {
            for season in answer["seasons"].as_array_mut().into_iter().flatten() {
                season["status"] = json!(R::Approved.code());
            }
        }
    }
    ok(answer)
}
