//! The simulated Jellyfin's collections (BoxSets): `POST /Collections`, adding items to one and
//! removing them, and what `/Items` lists of them.
//!
//! As Jellyfin 10.11's `CollectionController`, `CollectionManager`, `ItemsController` and
//! `Folder` do it (12.0 where it differs is said):
//!
//! - `POST /Collections?name=&ids=` answers 200 `{"Id": …}`. Jellyfin derives a BoxSet's id from
//!   its folder, `<name> [boxset]`, so a second create with the same name (case-sensitive ids by
//!   default) answers the same id. The collection is made before `ids` are looked at: an id that
//!   is not a GUID (`new Guid(x)`, a 500) or not an item (a 400) leaves it made and empty. A
//!   second create with `ids` leaves the collection with just those (12.0 rewrites the links of
//!   the new BoxSet it saves over the old one; 10.11 may lose the old links too), without keeps
//!   what it had. No `name` is a 500 (`GetValidFilename(null)`).
//! - `POST /Collections/{id}/Items?ids=` answers 204. An id that is no item of the library (never
//!   was, or was forgotten at a rescan) fails the whole request with a 400 and nothing is added;
//!   an id already there is skipped; one given twice is added once (as 12.0 stores it).
//! - `DELETE /Collections/{id}/Items?ids=` answers 204; an id that is not in the collection is
//!   skipped (Jellyfin logs a warning).
//! - A collection id that names no BoxSet is a 400 (`ArgumentException`), not a 404; one that is
//!   not a GUID is ASP.NET's 400 with a validation problem. Unparseable `ids` are dropped by
//!   `CommaDelimitedCollectionModelBinder` before Jellyfin sees them; none at all is a 204 that
//!   does nothing.
//! - `GET /Items?includeItemTypes=BoxSet` lists the collections whatever `parentId` says;
//!   `searchTerm` matches part of the name, without case.
//! - `GET /Items?parentId=<collection>` lists the items that still exist in the library. Without
//!   a user (an API key alone) a BoxSet has no children of its own: only `recursive=true` lists
//!   its linked items. With a user and `recursive=true`, a series in the collection brings its
//!   seasons and episodes along. A `parentId` that names nothing is a 400 (`GetParentItem`).

use std::collections::HashSet;

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::order::sort_name;
use crate::server::{param, params, Answer, Query};
use crate::world::World;

/// Jellyfin's answer to an `ArgumentException` in production: a 400 in plain text.
pub(super) fn bad_request() -> Answer {
    Answer::text(StatusCode::BAD_REQUEST, "Error processing request.")
}

/// Jellyfin's answer to any other exception.
fn server_error() -> Answer {
    Answer::text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Error processing request.",
    )
}

/// ASP.NET's answer to a route or query value that does not bind (`[ApiController]`).
pub(super) fn invalid_value(name: &str, value: &str) -> Answer {
    Answer::json(
        StatusCode::BAD_REQUEST,
        &json!({
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title": "One or more validation errors occurred.",
            "status": 400,
            "errors": { name: [format!("The value '{value}' is not valid.")] }
        }),
    )
}

/// A GUID in any form .NET's `Guid.Parse` takes (32 digits, dashed, in braces or parentheses),
/// as the 32 lowercase hex digits the simulated ids are.
pub(super) fn parse_guid(text: &str) -> Option<String> {
    let t = text.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .or_else(|| t.strip_prefix('(').and_then(|t| t.strip_suffix(')')))
        .unwrap_or(t);
    let digits: String = match t.len() {
        32 => t.to_string(),
        36 if [8, 13, 18, 23].iter().all(|&i| t.as_bytes()[i] == b'-') => {
            t.chars().filter(|c| *c != '-').collect()
        }
        _ => return None,
    };
    (digits.len() == 32 && digits.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| digits.to_ascii_lowercase())
}

/// `{id}` of `/collections/{id}/items` (the path already lower case, as Jellyfin's routes match).
pub(super) fn items_route(path: &str) -> Option<&str> {
    let id = path.strip_prefix("/collections/")?.strip_suffix("/items")?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

/// The ids `GetItemById` finds: the items Jellyfin lists (not those it forgot at a rescan) and
/// the collections themselves.
fn library_ids(world: &World) -> HashSet<&str> {
    let mut ids = HashSet::new();
    for m in world.movies.iter().filter(|m| m.in_jellyfin) {
        ids.insert(m.jellyfin_id.as_str());
    }
    for s in world.series.iter().filter(|s| s.in_jellyfin) {
        ids.insert(s.jellyfin_id.as_str());
        ids.extend(s.seasons.iter().map(|x| x.jellyfin_id.as_str()));
        ids.extend(
            s.episodes
                .iter()
                .filter(|e| e.in_jellyfin)
                .map(|e| e.jellyfin_id.as_str()),
        );
    }
    ids.extend(world.collections.iter().map(|c| c.id.as_str()));
    ids
}

/// True when `id` names something Jellyfin knows.
pub(super) fn in_library(world: &World, id: &str) -> bool {
    library_ids(world).contains(id)
}

/// Adds `ids` to the collection at `at` (to nothing when `replace`), all or none: `Err`, and
/// the collection as it was, when one is not in the library.
fn add_ids(world: &mut World, at: usize, ids: &[String], replace: bool) -> Result<(), ()> {
    let known = library_ids(world);
    if ids.iter().any(|id| !known.contains(id.as_str())) {
        return Err(());
    }
    let items = &mut world.collections[at].items;
    if replace {
        items.clear();
    }
    for id in ids {
        if !items.contains(id) {
            items.push(id.clone());
        }
    }
    Ok(())
}

fn position(world: &World, id: &str) -> Option<usize> {
    let id = parse_guid(id)?;
    world.collections.iter().position(|c| c.id == id)
}

/// `POST /Collections?name=&ids=`.
pub(super) fn create(world: &mut World, q: &Query) -> Answer {
    let Some(name) = param(q, "name") else {
        return server_error();
    };
    let again = world.collections.iter().position(|c| c.name == name);
    let at = match again {
        Some(at) => at,
        None => {
            world.add_collection(name);
            world.collections.len() - 1
        }
    };
    let id = world.collections[at].id.clone();
    let given = params(q, "ids");
    if !given.is_empty() {
        let Some(ids) = given
            .iter()
            .map(|x| parse_guid(x))
            .collect::<Option<Vec<_>>>()
        else {
            return server_error();
        };
        if add_ids(world, at, &ids, again.is_some()).is_err() {
            return bad_request();
        }
    }
    Answer::json(StatusCode::OK, &json!({ "Id": id }))
}

/// The ids of a `?ids=` list that bind as GUIDs; the others are dropped, as Jellyfin's binder
/// drops them.
fn bound_ids(q: &Query) -> Vec<String> {
    params(q, "ids")
        .iter()
        .filter_map(|x| parse_guid(x))
        .collect()
}

/// `POST /Collections/{id}/Items?ids=`.
pub(super) fn add(world: &mut World, collection: &str, q: &Query) -> Answer {
    if parse_guid(collection).is_none() {
        return invalid_value("collectionId", collection);
    }
    let Some(at) = position(world, collection) else {
        return bad_request();
    };
    match add_ids(world, at, &bound_ids(q), false) {
        Ok(()) => Answer::empty(StatusCode::NO_CONTENT),
        Err(()) => bad_request(),
    }
}

/// `DELETE /Collections/{id}/Items?ids=`.
pub(super) fn remove(world: &mut World, collection: &str, q: &Query) -> Answer {
    if parse_guid(collection).is_none() {
        return invalid_value("collectionId", collection);
    }
    let Some(at) = position(world, collection) else {
        return bad_request();
    };
    let ids = bound_ids(q);
    world.collections[at].items.retain(|i| !ids.contains(i));
    Answer::empty(StatusCode::NO_CONTENT)
}

/// The ids `/Items?parentId=<collection>` may list (each still has to be in the library), or
/// `None` when `collection` is no collection. `user` is whether a user is named, `recursive`
/// the query's flag.
pub(super) fn members(
    world: &World,
    collection: &str,
    user: bool,
    recursive: bool,
) -> Option<HashSet<String>> {
    let c = world.collections.iter().find(|c| c.id == collection)?;
    // Without a user Jellyfin reads a BoxSet's `Children`, which are empty; its linked items
    // come only through the recursive listing.
    if !user && !recursive {
        return Some(HashSet::new());
    }
    let mut ids: HashSet<String> = c.items.iter().cloned().collect();
    if user && recursive {
        // `AddChildren` walks into linked folders: a series' seasons and episodes, a season's
        // episodes.
        for s in &world.series {
            let whole = ids.contains(&s.jellyfin_id);
            for season in &s.seasons {
                if whole || c.items.contains(&season.jellyfin_id) {
                    ids.insert(season.jellyfin_id.clone());
                    ids.extend(
                        s.episodes
                            .iter()
                            .filter(|e| e.season == season.number)
                            .map(|e| e.jellyfin_id.clone()),
                    );
                }
            }
        }
    }
    Some(ids)
}

/// `GET /Items?includeItemTypes=BoxSet`: the collections (those whose name contains
/// `searchTerm`, without case), by sort name and then the order they were made (Jellyfin puts
/// `SortName` first when there is a search term; other sorts are not simulated), one page.
pub(super) fn list(world: &World, q: &Query, user: bool, path: bool) -> Answer {
    let term = param(q, "searchTerm")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase);
    let mut found: Vec<(String, usize)> = world
        .collections
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            term.as_ref()
                .is_none_or(|t| c.name.to_lowercase().contains(t.as_str()))
        })
        .map(|(i, c)| (sort_name(&c.name), i))
        .collect();
    found.sort();
    let total = found.len();
    let start = param(q, "startIndex")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let limit = param(q, "limit")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let items: Vec<Value> = found
        .iter()
        .skip(start)
        .take(limit)
        .map(|(_, i)| {
            let c = &world.collections[*i];
            let mut item = json!({
                "Name": c.name, "ServerId": super::ServerId::ID, "Id": c.id, "Type": "BoxSet",
                "IsFolder": true, "LocationType": "FileSystem"
            });
            if path {
                item["Path"] = json!(format!("/config/data/collections/{} [boxset]", c.name));
            }
            if user {
                item["UserData"] = json!({
                    "PlaybackPositionTicks": 0, "PlayCount": 0, "IsFavorite": false,
                    "Played": false, "Key": c.id, "ItemId": "00000000000000000000000000000000"
                });
            }
            item
        })
        .collect();
    Answer::json(
        StatusCode::OK,
        &json!({ "Items": items, "TotalRecordCount": total, "StartIndex": start }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_in_the_forms_dotnet_parses() {
        let n = "0123456789abcdef0123456789ABCDEF";
        let want = Some(n.to_ascii_lowercase());
        assert_eq!(parse_guid(n), want);
        assert_eq!(parse_guid("01234567-89ab-cdef-0123-456789abcdef"), want);
        assert_eq!(parse_guid("{01234567-89ab-cdef-0123-456789abcdef}"), want);
        assert_eq!(parse_guid(" (0123456789abcdef0123456789abcdef) "), want);
        assert_eq!(parse_guid("0123456789abcdef0123456789abcdeg"), None);
        assert_eq!(parse_guid("01234567-89ab-cdef-0123-456789abcde"), None);
        assert_eq!(parse_guid("1"), None);
    }

    #[test]
    fn the_items_route() {
        assert_eq!(items_route("/collections/abc/items"), Some("abc"));
        assert_eq!(items_route("/collections//items"), None);
        assert_eq!(items_route("/collections/a/b/items"), None);
        assert_eq!(items_route("/collections"), None);
    }
}
