//! The simulated Seerr (Jellyseerr's successor, v3.1.0): status, requests and media under
//! `/api/v1`, answered as seerr-team/seerr's Express server does.
//!
//! A request passes the stages of `server/index.ts` in their order: `express.json()` (a
//! malformed JSON body is a 400 on any path), express-openapi-validator against `seerr-api.yml`
//! (a path the spec lacks is a 404, a method it lacks a 405, no `X-Api-Key` header and no
//! session cookie a 401, an unknown query parameter or a value of the wrong type a 400, a body
//! that is not JSON a 415), then `checkUser` (server/middleware/auth.ts: the right key acts as
//! user 1, or as the user `X-API-User` names) and `isAuthenticated` (no user: a 403), then the
//! route. A wrong key is therefore a 403, a missing one a 401.
//!
//! The routes are in `requests`, `create` and `edit` (server/routes/request.ts with
//! `MediaRequest.request`) and `media` (server/routes/media.ts); what the request subscriber
//! does after a save or a removal is in `subscriber`, the JSON they write in `render`.
//! Seerr's own settings are taken as one default Radarr and one default Sonarr (server id 0,
//! as Seerr numbers the first), the simulated ones, and no 4K servers, quotas or override
//! rules; TMDB is asked nothing: every TMDB id exists, a series' TVDB id is
//! `SeerrWorld::tmdb_tvdb`'s, and its seasons are what the world knows of it.

mod create;
mod edit;
mod media;
mod render;
mod requests;
mod subscriber;
mod validate;

use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};

use super::server::{ok, Answer, Effects, Request};
use super::world::{SeerrUser, World, SEERR_OWNER};

/// What `GET /api/v1/status` says (the version of the API documents in `api-specs/`).
const VERSION: &str = "3.1.0";
const COMMIT_TAG: &str = "94a70bb5fc9a4486857071a6fc048c8081fa7ca9";

/// The routes of `seerr-api.yml` the simulator knows, with their path parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route<'a> {
    Status,
    /// `GET /auth/me`: the user the key acts as (routes/auth.ts).
    Me,
    Requests,
    Request(&'a str),
    Media,
    MediaItem(&'a str),
    MediaFile(&'a str),
}

impl<'a> Route<'a> {
    /// The route of a path below `/api/v1`; `None` for paths the simulator does not know.
    fn of(path: &'a str) -> Option<Route<'a>> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match segments[..] {
            ["status"] => Some(Route::Status),
            ["auth", "me"] => Some(Route::Me),
            ["request"] => Some(Route::Requests),
            ["request", id] if !id.is_empty() => Some(Route::Request(id)),
            ["media"] => Some(Route::Media),
            ["media", id] if !id.is_empty() => Some(Route::MediaItem(id)),
            ["media", id, "file"] if !id.is_empty() => Some(Route::MediaFile(id)),
            _ => None,
        }
    }

    /// The methods the spec has for the route (others are a 405 from the validator).
    fn methods(self) -> &'static [Method] {
        match self {
            Route::Status | Route::Me | Route::Media => &[Method::GET],
            Route::Requests => &[Method::GET, Method::POST],
            Route::Request(_) => &[Method::GET, Method::PUT, Method::DELETE],
            Route::MediaItem(_) | Route::MediaFile(_) => &[Method::DELETE],
        }
    }
}

/// One request to Seerr; `key` is the API key it accepts.
pub(super) fn seerr(
    world: &mut World,
    key: &str,
    r: &Request<'_>,
    effects: &mut Effects,
) -> Answer {
    let route = r.path.strip_prefix("/api/v1").and_then(Route::of);
    if r.method == Method::DELETE && matches!(route, Some(Route::MediaFile(_))) {
        // It makes Seerr delete the title through Radarr/Sonarr: recorded whatever its answer.
        let query = if r.query.is_empty() {
            String::new()
        } else {
            format!("?{}", raw_query(r))
        };
        world
            .seerr
            .violations
            .push(format!("DELETE {}{query}", r.path));
    }
    // express.json() runs before anything else.
    let body = match validate::json_body(r) {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let Some(route) = route else {
        if r.path.starts_with("/api/v1/") || r.path == "/api/v1" {
            return validate::error(StatusCode::NOT_FOUND, r.path, "not found");
        }
        // Next.js answers what is not the API with its 404 page.
        return Answer {
            status: StatusCode::NOT_FOUND,
            content_type: Some("text/html; charset=utf-8"),
            body: "<!DOCTYPE html><html><body><h1>404</h1></body></html>".to_string(),
        };
    };
    if !route.methods().contains(r.method) {
        let message = format!("{} method not allowed", r.method);
        return validate::error(StatusCode::METHOD_NOT_ALLOWED, r.path, &message);
    }
    // `security: []` on /status only; elsewhere the spec's cookieAuth or apiKey must be
    // present (the validator checks presence, not the value; its first error is the cookie's).
    if route != Route::Status && !has_credentials(r.headers) {
        return validate::error(
            StatusCode::UNAUTHORIZED,
            r.path,
            "cookie 'connect.sid' required",
        );
    }
    if let Err(answer) = validate::request(route, r, body.as_ref()) {
        return answer;
    }
    if route == Route::Status {
        return ok(json!({"version": VERSION, "commitTag": COMMIT_TAG,
            "updateAvailable": false, "commitsBehind": 0, "restartRequired": false}));
    }
    let Some(user) = acting_user(world, key, r.headers) else {
        return forbidden();
    };
    let body = body.unwrap_or_else(|| json!({}));
    match (route, r.method) {
        (Route::Me, _) => ok(render::user(&user)),
        (Route::Requests, &Method::GET) => requests::list(world, &user, r.query),
        (Route::Requests, _) => create::create(world, &user, &body),
        (Route::Request(id), &Method::GET) => requests::get(world, &user, id),
        (Route::Request(id), &Method::PUT) => edit::update(world, &user, id, &body),
        (Route::Request(id), _) => requests::delete(world, &user, id, r, effects),
        (Route::Media, _) => media::list(world, r.query),
        (Route::MediaItem(id), _) => media::delete(world, &user, id, r, effects),
        (Route::MediaFile(id), _) => media::delete_file(world, &user, id, r, effects),
        (Route::Status, _) => forbidden(),
    }
}

fn raw_query(r: &Request<'_>) -> String {
    (r.query.iter())
        .map(|(k, v)| {
            if v.is_empty() {
                k.clone()
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// An `X-Api-Key` header or a `connect.sid` cookie, whatever their value.
fn has_credentials(headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    header("x-api-key").is_some_and(|v| !v.is_empty())
        || header("cookie").is_some_and(|c| {
            c.split(';')
                .filter_map(|kv| kv.trim().split_once('='))
                .any(|(k, v)| k == "connect.sid" && !v.is_empty())
        })
}

/// `checkUser`: the right key acts as the owner, or as the user `X-API-User` names (a name
/// that is no user's id, or no user: nobody). The simulator has no sessions.
fn acting_user(world: &World, key: &str, headers: &HeaderMap) -> Option<SeerrUser> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("x-api-key") != Some(key) {
        return None;
    }
    let id = match header("x-api-user") {
        // `Number(header)` when the header is truthy: garbage is NaN, no user's id.
        Some(v) if !v.is_empty() => js_int(v)?,
        _ => SEERR_OWNER,
    };
    world.seerr.user(id).cloned()
}

/// `isAuthenticated`'s refusal (no user, or without the permission the route needs).
fn forbidden() -> Answer {
    Answer::json(
        StatusCode::FORBIDDEN,
        &json!({"status": 403, "error": "You do not have permission to access this endpoint"}),
    )
}

/// `next({ status, message })` through Seerr's error handler: `{message}` (its `errors` is
/// undefined, so absent).
fn message(status: StatusCode, message: &str) -> Answer {
    Answer::json(status, &json!({ "message": message }))
}

/// `Number(s)` for an id in a path or a header, when it is an integer (NaN finds nothing).
fn js_int(s: &str) -> Option<i32> {
    let s = s.trim();
    if s.is_empty() {
        return Some(0);
    }
    let n: f64 = s.parse().ok()?;
    (n.fract() == 0.0 && n.abs() <= f64::from(i32::MAX)).then_some(n as i32)
}

/// A body member, absent and `null` alike.
fn member<'v>(body: &'v Value, name: &str) -> Option<&'v Value> {
    body.get(name).filter(|v| !v.is_null())
}

/// A numeric body member that JavaScript finds truthy (present, not 0).
fn truthy_int(body: &Value, name: &str) -> Option<i64> {
    member(body, name)
        .and_then(Value::as_f64)
        .filter(|n| *n != 0.0)
        .map(|n| n as i64)
}

#[cfg(test)]
mod tests {
    use super::{js_int, Route};

    #[test]
    fn routes_and_ids() {
        assert_eq!(Route::of("/request/12"), Some(Route::Request("12")));
        assert_eq!(Route::of("/media/7/file"), Some(Route::MediaFile("7")));
        assert_eq!(Route::of("/media/7/watch_data"), None);
        assert_eq!(js_int("12"), Some(12));
        assert_eq!(js_int("12abc"), None);
        assert_eq!(js_int("1.5"), None);
    }
}
