//! What the simulated Radarr and Sonarr share: tags, root folders, health, status, dates.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::server::{ok, Answer};
use super::world::RootFolder;

pub(super) fn tags_json(tags: &[(i32, String)]) -> Answer {
    ok(Value::Array(
        tags.iter()
            .map(|(id, label)| json!({"id": id, "label": label}))
            .collect(),
    ))
}

pub(super) fn root_folders_json(folders: &[RootFolder]) -> Answer {
    ok(Value::Array(
        folders
            .iter()
            .map(|r| {
                json!({"id": r.id, "path": r.path, "accessible": r.accessible,
                    "freeSpace": 1_000_000_000_000_i64, "unmappedFolders": []})
            })
            .collect(),
    ))
}

pub(super) fn health_json(folders: &[RootFolder]) -> Answer {
    ok(Value::Array(
        folders
            .iter()
            .filter(|r| !r.accessible)
            .map(|r| {
                json!({"source": "RootFolderCheck", "type": "error",
                    "message": format!("Missing root folder: {}", r.path),
                    "wikiUrl": "https://wiki.servarr.com/"})
            })
            .collect(),
    ))
}

pub(super) fn status_json(app: &str) -> Answer {
    ok(
        json!({"appName": app, "instanceName": app, "version": "4.0.19.2802",
        "isDocker": false, "urlBase": "", "branch": "main"}),
    )
}

pub(super) fn root_of<'a>(folders: &'a [RootFolder], path: &str) -> Option<&'a RootFolder> {
    folders.iter().find(|r| {
        path.strip_prefix(r.path.trim_end_matches('/'))
            .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// The numeric id at the end of `/api/v3/<what>/<id>`.
pub(super) fn tail_id(path: &str, prefix: &str) -> Option<i32> {
    path.strip_prefix(prefix)?.parse().ok()
}

/// The *arrs write dates without a fraction.
pub(super) fn arr_date(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
