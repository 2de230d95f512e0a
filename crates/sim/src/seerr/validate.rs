//! What runs before a Seerr route: `express.json()`, and express-openapi-validator's checks of
//! the query and the body against `seerr-api.yml` for the operations the simulator knows.
//!
//! The validator rejects a query parameter its operation does not declare (Seerr does not set
//! `allowUnknownQueryParameters`), coerces query values to their declared types (a nullable
//! one may be empty), and does not coerce the body: `"mediaId": "603"` is a 400.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::Route;
use crate::server::{Answer, Query, Request};

#[derive(Clone, Copy)]
enum Kind {
    Number,
    Bool,
    OneOf(&'static [&'static str]),
}

/// A declared query parameter: name, type, nullable.
type Param = (&'static str, Kind, bool);

/// `GET /request` (seerr-api.yml `#/paths/~1request/get/parameters`).
const REQUEST_LIST: &[Param] = &[
    ("take", Kind::Number, true),
    ("skip", Kind::Number, true),
    (
        "filter",
        Kind::OneOf(&[
            "all",
            "approved",
            "available",
            "pending",
            "processing",
            "unavailable",
            "failed",
            "deleted",
            "completed",
        ]),
        true,
    ),
    ("sort", Kind::OneOf(&["added", "modified"]), false),
    ("sortDirection", Kind::OneOf(&["asc", "desc"]), true),
    ("requestedBy", Kind::Number, true),
    ("mediaType", Kind::OneOf(&["movie", "tv", "all"]), true),
];

/// `GET /media` (`#/paths/~1media/get/parameters`).
const MEDIA_LIST: &[Param] = &[
    ("take", Kind::Number, true),
    ("skip", Kind::Number, true),
    (
        "filter",
        Kind::OneOf(&[
            "all",
            "available",
            "partial",
            "allavailable",
            "processing",
            "pending",
            "deleted",
        ]),
        true,
    ),
    (
        "sort",
        Kind::OneOf(&["added", "modified", "mediaAdded"]),
        false,
    ),
];

/// `DELETE /media/{mediaId}/file`.
const MEDIA_FILE: &[Param] = &[("is4k", Kind::Bool, false)];

/// The validator's error, as Seerr's error handler writes it.
pub(super) fn error(status: StatusCode, path: &str, message: &str) -> Answer {
    Answer::json(
        status,
        &json!({"message": message, "errors": [{"path": path, "message": message}]}),
    )
}

fn invalid(at: &str, problem: &str) -> Answer {
    Answer::json(
        StatusCode::BAD_REQUEST,
        &json!({"message": format!("request/{at} {problem}"),
            "errors": [{"path": format!("/{at}"), "message": problem}]}),
    )
}

/// The media type of the request body, lowercase, without its parameters.
fn content_type(r: &Request<'_>) -> Option<String> {
    let value = r.headers.get("content-type")?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or("").trim();
    Some(essence.to_ascii_lowercase())
}

/// `express.json()`: a JSON body is parsed (strictly: an object or an array) on every path,
/// and a malformed one is a 400 before routing. `None` when there is nothing it parsed.
pub(super) fn json_body(r: &Request<'_>) -> Result<Option<Value>, Answer> {
    if content_type(r).as_deref() != Some("application/json") || r.body.trim().is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Value>(r.body) {
        Ok(v) if v.is_object() || v.is_array() => Ok(Some(v)),
        Ok(_) => Err(super::message(
            StatusCode::BAD_REQUEST,
            "Unexpected token in JSON at position 0",
        )),
        Err(e) => Err(super::message(
            StatusCode::BAD_REQUEST,
            &format!(
                "Unexpected token in JSON at line {} column {}",
                e.line(),
                e.column()
            ),
        )),
    }
}

/// The validator's checks of the query and the body of `r`, a request to `route`.
pub(super) fn request(
    route: Route<'_>,
    r: &Request<'_>,
    body: Option<&Value>,
) -> Result<(), Answer> {
    let declared: &[Param] = match (route, r.method) {
        (Route::Requests, &Method::GET) => REQUEST_LIST,
        (Route::Media, _) => MEDIA_LIST,
        (Route::MediaFile(_), _) => MEDIA_FILE,
        _ => &[],
    };
    query(r.query, declared)?;
    let with_body = matches!(
        (route, r.method),
        (Route::Requests, &Method::POST) | (Route::Request(_), &Method::PUT)
    );
    if !with_body {
        return Ok(());
    }
    // The spec's request bodies are `required: true`, `application/json` only.
    match content_type(r).as_deref() {
        Some("application/json") => {}
        None => {
            return Err(error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                r.path,
                "media type not specified",
            ))
        }
        Some(other) => {
            let message = format!("unsupported media type {other}");
            return Err(error(StatusCode::UNSUPPORTED_MEDIA_TYPE, r.path, &message));
        }
    }
    let empty = json!({});
    let body = body.unwrap_or(&empty);
    if r.method == Method::POST {
        request_body(body, &["mediaType", "mediaId"], true)
    } else {
        request_body(body, &["mediaType"], false)
    }
}

fn query(query: &Query, declared: &[Param]) -> Result<(), Answer> {
    for (name, value) in query {
        let Some((_, kind, nullable)) = declared.iter().find(|(n, _, _)| n == name) else {
            let problem = format!("Unknown query parameter '{name}'");
            return Err(Answer::json(
                StatusCode::BAD_REQUEST,
                &json!({"message": problem,
                    "errors": [{"path": format!("/query/{name}"), "message": problem}]}),
            ));
        };
        if value.is_empty() && *nullable {
            continue;
        }
        let at = format!("query/{name}");
        match kind {
            Kind::Number => {
                if !value.trim().parse::<f64>().is_ok_and(f64::is_finite) {
                    return Err(invalid(&at, "must be number"));
                }
            }
            Kind::Bool => {
                if value != "true" && value != "false" {
                    return Err(invalid(&at, "must be boolean"));
                }
            }
            Kind::OneOf(allowed) => {
                if !allowed.contains(&value.as_str()) {
                    let problem = format!(
                        "must be equal to one of the allowed values: {}",
                        allowed.join(", ")
                    );
                    return Err(invalid(&at, &problem));
                }
            }
        }
    }
    Ok(())
}

/// The bodies of `POST /request` and `PUT /request/{requestId}` (`seasons` may be `"all"` in
/// the first only).
fn request_body(body: &Value, required: &[&str], seasons_all: bool) -> Result<(), Answer> {
    let Some(object) = body.as_object() else {
        return Err(invalid("body", "must be object"));
    };
    for name in required {
        if !object.contains_key(*name) {
            return Err(invalid(
                "body",
                &format!("must have required property '{name}'"),
            ));
        }
    }
    for (name, value) in object {
        let at = format!("body/{name}");
        let fine = match name.as_str() {
            "mediaType" => matches!(value.as_str(), Some("movie" | "tv")),
            "mediaId" | "tvdbId" | "serverId" | "profileId" | "languageProfileId" => {
                value.is_number()
            }
            "is4k" => value.is_boolean(),
            "rootFolder" => value.is_string(),
            "userId" => value.is_number() || value.is_null(),
            "seasons" => {
                let numbers = value
                    .as_array()
                    .is_some_and(|a| a.iter().all(|n| n.as_f64().is_some_and(|n| n >= 0.0)));
                numbers || (seasons_all && value.as_str() == Some("all"))
            }
            _ => true,
        };
        if !fine {
            let problem = match name.as_str() {
                "mediaType" => "must be equal to one of the allowed values: movie, tv",
                "is4k" => "must be boolean",
                "rootFolder" => "must be string",
                "seasons" if seasons_all => "must match exactly one schema in oneOf",
                "seasons" => "must be array of numbers >= 0",
                _ => "must be number",
            };
            return Err(invalid(&at, problem));
        }
    }
    Ok(())
}
