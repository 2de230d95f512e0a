//! Seerr's requests listed, read and removed (server/routes/request.ts); a new one is in
//! `create`, an edit in `edit`, what follows a save or a removal in `subscriber`.

use std::cmp::Reverse;

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::{js_int, message, render, subscriber};
use crate::server::{ok, Answer, DeleteEvent, Effects, Query, Request};
use crate::service::Service;
use crate::world::{
    SeerrMediaStatus as M, SeerrMediaType, SeerrRequest, SeerrRequestStatus as R, SeerrUser, World,
};

/// A query parameter by its exact name (the validator has checked its type); empty is absent.
pub(super) fn query_value<'q>(query: &'q Query, name: &str) -> Option<&'q str> {
    (query.iter().find(|(k, _)| k == name))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// `req.query.x ? Number(req.query.x) : default` for a count (0 is falsy: the default).
pub(super) fn count_param(query: &Query, name: &str, default: usize) -> usize {
    query_value(query, name)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|n| *n > 0.0)
        .map_or(default, |n| n as usize)
}

/// TypeORM's `EntityNotFoundError` from a `findOneOrFail`, which the routes pass on as a 500.
pub(super) fn not_found_entity(entity: &str, criteria: &Value) -> Answer {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    let _ = serde::Serialize::serialize(criteria, &mut ser);
    let criteria = String::from_utf8_lossy(&out);
    let text = format!("Could not find any entity of type \"{entity}\" matching: {criteria}");
    message(StatusCode::INTERNAL_SERVER_ERROR, &text)
}

/// `GET /request`: filtered by request status and by the status of the media for the
/// request's quality (the default leaves out BLOCKLISTED media), sorted by id or `updatedAt`,
/// paged with `take` (10) and `skip`.
pub(super) fn list(world: &World, user: &SeerrUser, query: &Query) -> Answer {
    let seerr = &world.seerr;
    let page_size = count_param(query, "take", 10);
    let skip = count_param(query, "skip", 0);
    let requested_by = count_param(query, "requestedBy", 0);
    let requested_by = (requested_by > 0).then_some(requested_by as i32);
    let filter = query_value(query, "filter").unwrap_or("");
    let statuses: &[R] = match filter {
        "approved" | "processing" => &[R::Approved],
        "pending" => &[R::Pending],
        "unavailable" => &[R::Pending, R::Approved],
        "failed" => &[R::Failed],
        "completed" | "available" | "deleted" => &[R::Completed],
        _ => &[
            R::Pending,
            R::Approved,
            R::Declined,
            R::Failed,
            R::Completed,
        ],
    };
    let media_statuses: &[M] = match filter {
        "available" => &[M::Available],
        "processing" | "unavailable" => {
            &[M::Unknown, M::Pending, M::Processing, M::PartiallyAvailable]
        }
        "deleted" => &[M::Deleted],
        _ => &[
            M::Unknown,
            M::Pending,
            M::Processing,
            M::PartiallyAvailable,
            M::Available,
            M::Deleted,
        ],
    };
    let by = if user.has(&[SeerrUser::MANAGE_REQUESTS, SeerrUser::REQUEST_VIEW], true) {
        requested_by
    } else {
        if requested_by.is_some_and(|id| id != user.id) {
            let text = "You do not have permission to view this user's requests.";
            return message(StatusCode::FORBIDDEN, text);
        }
        Some(user.id)
    };
    let media_type = query_value(query, "mediaType").and_then(SeerrMediaType::parse);
    let mut found: Vec<&SeerrRequest> = (seerr.requests.iter())
        .filter(|r| statuses.contains(&r.status))
        .filter(|r| {
            (seerr.media(r.media_id))
                .is_some_and(|m| media_statuses.contains(&m.status_for(r.is4k)))
        })
        .filter(|r| by.is_none_or(|id| r.requested_by == id))
        .filter(|r| media_type.is_none_or(|t| r.media_type == t))
        .collect();
    let ascending = query_value(query, "sortDirection") == Some("asc");
    match (query_value(query, "sort") == Some("modified"), ascending) {
        (true, true) => found.sort_by_key(|r| r.updated_at),
        (true, false) => found.sort_by_key(|r| Reverse(r.updated_at)),
        (false, true) => found.sort_by_key(|r| r.id),
        (false, false) => found.sort_by_key(|r| Reverse(r.id)),
    }
    let manages = user.has(&[SeerrUser::MANAGE_REQUESTS], false);
    let results = (found.iter().skip(skip).take(page_size))
        .map(|r| {
            let mut v = render::request(seerr, r, false);
            if manages {
                // Whether the request's Radarr/Sonarr (server 0; no 4K one) holds the title.
                let service = seerr.media(r.media_id).and_then(|m| m.service_id);
                v["canRemove"] = json!(!r.is4k && service == Some(0));
            }
            v
        })
        .collect();
    let mut page = render::page(results, found.len(), skip, page_size);
    page["serviceErrors"] = json!({"radarr": [], "sonarr": []});
    ok(page)
}

/// `GET /request/{id}`.
pub(super) fn get(world: &World, user: &SeerrUser, id: &str) -> Answer {
    let Some(r) = js_int(id).and_then(|id| world.seerr.request(id)) else {
        return message(StatusCode::NOT_FOUND, "Request not found.");
    };
    if r.requested_by != user.id
        && !user.has(&[SeerrUser::MANAGE_REQUESTS, SeerrUser::REQUEST_VIEW], true)
    {
        return message(
            StatusCode::FORBIDDEN,
            "You do not have permission to view this request.",
        );
    }
    ok(render::request(&world.seerr, r, true))
}

/// `DELETE /request/{id}`: the request and its seasons go, then `handleRemoveParentUpdate`.
pub(super) fn delete(
    world: &mut World,
    user: &SeerrUser,
    id: &str,
    r: &Request<'_>,
    effects: &mut Effects,
) -> Answer {
    let seerr = &mut world.seerr;
    // A failed `findOneOrFail` lands in the route's catch, which says 404.
    let Some(index) = js_int(id).and_then(|id| seerr.requests.iter().position(|q| q.id == id))
    else {
        return message(StatusCode::NOT_FOUND, "Request not found.");
    };
    let request = &seerr.requests[index];
    if !user.has(&[SeerrUser::MANAGE_REQUESTS], false)
        && request.requested_by != user.id
        && request.status != R::Pending
    {
        let text = "You do not have permission to delete this request.";
        return message(StatusCode::UNAUTHORIZED, text);
    }
    let removed = seerr.requests.remove(index);
    subscriber::after_remove(seerr, removed.media_id);
    effects.event = Some(DeleteEvent {
        service: Service::Seerr,
        path: r.path.to_string(),
        removed: Vec::new(),
    });
    Answer::empty(StatusCode::NO_CONTENT)
}
