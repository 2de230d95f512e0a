//! Jellyfin collections (BoxSets): finding one by name, creating it, reading its items whole,
//! and adding or removing items a batch of at most [`COLLECTION_BATCH`] ids at a time. The
//! "Leaving Soon" collection is kept with these; deciding what goes in it is the caller's.
//!
//! What Jellyfin does with these requests, read in its source (10.11: `CollectionController`,
//! `CollectionManager`, `ItemsController`, `Folder`, `BoxSet`; 12.0 where it differs):
//!
//! - An API key may manage collections (`UserPermissionHandler` lets API keys through) and list
//!   a collection's items without a `userId`. None is sent: with one, Jellyfin would leave out
//!   the items that user's libraries do not hold, and (recursively) add a series' seasons and
//!   episodes to it.
//! - `POST /Collections?name=` answers 200 with a `CollectionCreationResult`, `{"Id": …}` (32
//!   hex digits). The id is derived from the collection's folder, `<name> [boxset]`, so creating
//!   the same name again answers the same id and saves a new, empty BoxSet over the old record;
//!   what becomes of the old items then differs between versions. Find before creating.
//! - Adding: an id already in the collection is skipped; an id that names no item (never did, or
//!   Jellyfin forgot the item at a library scan because its file is gone) fails the whole
//!   request with a 400 (`ArgumentException`) and nothing of it is added. So one stale id spoils
//!   its batch: the caller adds only what Jellyfin still lists.
//! - Removing: an id that is not in the collection is skipped (a warning in Jellyfin's log) and
//!   the answer is still 204. Removing an item Jellyfin forgot is therefore harmless.
//! - A collection id that names no collection is a 400 for all three, not a 404: Jellyfin
//!   throws `ArgumentException` (and `GetParentItem` does for the listing), which its exception
//!   middleware turns into a 400. A caller seeing [`ApiError::Rejected`] finds the collection
//!   again before it blames the items.
//! - `ids` that do not parse as GUIDs are dropped silently by `CommaDelimitedCollectionModelBinder`
//!   and the request "succeeds" without them, so this client refuses to send them
//!   ([`ApiError::NotSent`]). An id given twice in one add becomes two links in 10.11, and one
//!   remove then takes away only one of them: ids are sent once each.
//! - `GET /Items?parentId=<collection>` without a user lists nothing unless `recursive=true`:
//!   a BoxSet's own `Children` are empty, its items are linked children, which only the
//!   recursive listing walks. An item Jellyfin removed from its library is not listed (10.11
//!   keeps its link but cannot resolve it; 12.0 deletes the link with the item).
//! - `GET /Items?includeItemTypes=BoxSet` lists collections and ignores `parentId`; `searchTerm`
//!   matches part of the clean name (lower case, no diacritics) in 10.11 and goes through search
//!   providers in 12.0. Neither is an exact match, which is done here.

use std::collections::HashSet;

use reqwest::Method;
use serde::Deserialize;

use super::listing::LISTING_READS;
use super::JellyfinClient;
use crate::clients::http::{Answer, ApiError, Class, Endpoint};

/// Most item ids one collection request carries: ids go in the query string, and 50 GUIDs
/// (32 hex digits each, comma-separated) keep the URL well under common proxy limits.
pub const COLLECTION_BATCH: usize = 50;

/// A bound on pages per listing, against a server that never stops sending full pages.
const MAX_PAGES: usize = 10_000;

/// The order a collection's items are read in, a stable one for offset paging: when Jellyfin
/// added the item, then by name (as `listing` reads `/Items`).
const ORDER: &str = "DateCreated,SortName";

/// The order collections are listed in: by sort name, equal names oldest first, so that of
/// several collections with one name the same one is found every time.
const COLLECTION_ORDER: &str = "SortName,DateCreated";

/// `CollectionCreationResult`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Created {
    id: String,
}

/// A page of `/Items`, each item only as far as these calls need it.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Page {
    #[serde(default)]
    items: Vec<Entry>,
    #[serde(default)]
    total_record_count: Option<usize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    id: String,
    #[serde(default)]
    name: Option<String>,
}

/// `id` as Jellyfin writes ids, 32 lowercase hex digits: dashes taken out, case folded. `None`
/// when it is not a GUID.
fn normalized(id: &str) -> Option<String> {
    let hex: String = id.trim().chars().filter(|c| *c != '-').collect();
    (hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// The id of the collection called `name` among `entries` (in Jellyfin's order): the first
/// whose name is exactly `name`, else the first whose name is `name` but for case.
fn pick(entries: &[(String, Option<String>)], name: &str) -> Option<String> {
    let exact = entries.iter().find(|(_, n)| n.as_deref() == Some(name));
    let lower = name.to_lowercase();
    exact
        .or_else(|| {
            entries
                .iter()
                .find(|(_, n)| n.as_deref().is_some_and(|n| n.to_lowercase() == lower))
        })
        .map(|(id, _)| id.clone())
}

impl JellyfinClient {
    /// The id of the collection (BoxSet) called `name`, if there is one: the first in Jellyfin's
    /// order (by sort name, then oldest first) whose name is exactly `name`, else the first whose
    /// name differs from it only in case.
    ///
    /// Asked with `searchTerm` first. A search that finds no such name is not trusted to mean
    /// there is none (Jellyfin's search is a fuzzy match that differs between versions): all
    /// collections are listed before the answer is `None`, since creating the name again would
    /// save an empty collection over the one that exists.
    pub async fn find_collection(&self, name: &str) -> Result<Option<String>, ApiError> {
        let searched = self.collections(Some(name)).await?;
        if let Some(id) = pick(&searched, name) {
            return Ok(Some(id));
        }
        let all = self.collections(None).await?;
        Ok(pick(&all, name))
    }

    /// Every collection (`includeItemTypes=BoxSet`), or those `searchTerm` finds: ids and names.
    async fn collections(
        &self,
        search: Option<&str>,
    ) -> Result<Vec<(String, Option<String>)>, ApiError> {
        let mut base = vec![
            ("includeItemTypes", "BoxSet".to_owned()),
            ("recursive", "true".to_owned()),
        ];
        if let Some(term) = search {
            base.push(("searchTerm", term.to_owned()));
        }
        base.push(("sortBy", COLLECTION_ORDER.to_owned()));
        self.read_whole(base).await
    }

    /// `POST /Collections?name=`: creates an empty collection called `name` and returns its id
    /// (lowercase, 32 hex digits). A POST is sent again only when it surely did not arrive (see
    /// [`Class::Write`]); creating the same name twice answers the same id, but do not rely on
    /// it (see the module's notes): find first. An empty or blank name is not sent.
    pub async fn create_collection(&self, name: &str) -> Result<String, ApiError> {
        let path = "/Collections";
        if name.trim().is_empty() {
            return Err(self.not_sent(Method::POST, path, "a collection needs a name"));
        }
        let answer = self
            .api
            .send(
                Method::POST,
                path,
                &[("name", name.to_owned())],
                None::<&()>,
            )
            .await?;
        let created: Created = serde_json::from_slice(&answer.body)
            .map_err(|e| self.api.protocol(&Method::POST, path, &answer, e))?;
        normalized(&created.id)
            .ok_or_else(|| self.not_an_id(&Method::POST, path, &answer, &created.id))
    }

    /// The ids of every item in the collection that Jellyfin still has in its library
    /// (lowercase, 32 hex digits, each once), read page by page.
    ///
    /// Read recursively and without a user (see the module's notes). When the listing changes
    /// while it is read (its total moves, or its distinct ids do not come to it), it is read
    /// again from the start, up to three times; after that the ids of every reading are
    /// returned, which may still hold one that was removed meanwhile (removing it again is
    /// skipped by Jellyfin; one that belongs there is added on the next pass). A collection that
    /// does not exist is a 400 ([`ApiError::Rejected`]), never the whole library.
    pub async fn collection_items(&self, collection_id: &str) -> Result<Vec<String>, ApiError> {
        let Some(collection) = normalized(collection_id) else {
            return Err(self.not_sent(
                Method::GET,
                "/Items",
                "the collection id is not a Jellyfin id",
            ));
        };
        let base = vec![
            ("parentId", collection),
            ("recursive", "true".to_owned()),
            ("sortBy", ORDER.to_owned()),
        ];
        let items = self.read_whole(base).await?;
        Ok(items.into_iter().map(|(id, _)| id).collect())
    }

    /// `POST /Collections/{id}/Items?ids=a,b`: adds the items in one request. Ids may have
    /// dashes and any case; each is sent once. At most [`COLLECTION_BATCH`] ids: more, or one
    /// that is not a GUID, is a caller's bug and nothing is sent ([`ApiError::NotSent`]). No ids
    /// at all is done without a request. An id Jellyfin does not know fails the whole request
    /// with a 400 and adds nothing ([`ApiError::Rejected`]).
    pub async fn add_to_collection(
        &self,
        collection_id: &str,
        ids: &[String],
    ) -> Result<(), ApiError> {
        self.change_collection(Method::POST, collection_id, ids)
            .await
    }

    /// `DELETE /Collections/{id}/Items?ids=a,b`: removes the items in one request, under the
    /// rules of [`JellyfinClient::add_to_collection`]. An id that is not in the collection is
    /// skipped by Jellyfin.
    pub async fn remove_from_collection(
        &self,
        collection_id: &str,
        ids: &[String],
    ) -> Result<(), ApiError> {
        self.change_collection(Method::DELETE, collection_id, ids)
            .await
    }

    async fn change_collection(
        &self,
        method: Method,
        collection_id: &str,
        ids: &[String],
    ) -> Result<(), ApiError> {
        let path = format!("/Collections/{collection_id}/Items");
        let Some(collection) = normalized(collection_id) else {
            return Err(self.not_sent(method, &path, "the collection id is not a Jellyfin id"));
        };
        let path = format!("/Collections/{collection}/Items");
        if ids.len() > COLLECTION_BATCH {
            return Err(self.not_sent(
                method,
                &path,
                "more item ids than one collection request carries",
            ));
        }
        let mut seen = HashSet::with_capacity(ids.len());
        let mut batch = Vec::with_capacity(ids.len());
        for id in ids {
            // Jellyfin would drop it without a word and answer 204 for the rest.
            let Some(id) = normalized(id) else {
                return Err(self.not_sent(method, &path, "an item id is not a Jellyfin id"));
            };
            if seen.insert(id.clone()) {
                batch.push(id);
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        self.api
            .send(method, &path, &[("ids", batch.join(","))], None::<&()>)
            .await
            .map(drop)
    }

    /// Every item of the `/Items` listing `base` asks for, page by page, ids normalized, each
    /// once; read again when it changed while it was read (see
    /// [`JellyfinClient::collection_items`]).
    async fn read_whole(
        &self,
        mut base: Vec<(&'static str, String)>,
    ) -> Result<Vec<(String, Option<String>)>, ApiError> {
        base.push(("sortOrder", "Ascending".to_owned()));
        base.push(("enableUserData", "false".to_owned()));
        base.push(("enableImages", "false".to_owned()));
        base.push(("enableTotalRecordCount", "true".to_owned()));
        let mut union: Vec<(String, Option<String>)> = Vec::new();
        let mut in_union: HashSet<String> = HashSet::new();
        for reading in 1..=LISTING_READS {
            let (items, why) = self.read_once(&base).await?;
            let Some(why) = why else {
                return Ok(items);
            };
            tracing::info!(
                reading,
                "a Jellyfin collection listing changed while it was read ({why})"
            );
            for item in items {
                if in_union.insert(item.0.clone()) {
                    union.push(item);
                }
            }
        }
        tracing::warn!(
            "a Jellyfin collection listing kept changing while it was read, {LISTING_READS} times; \
             using every id seen"
        );
        Ok(union)
    }

    /// One reading of a listing; `Some(why)` when it was not consistent.
    async fn read_once(
        &self,
        base: &[(&'static str, String)],
    ) -> Result<(Vec<(String, Option<String>)>, Option<String>), ApiError> {
        let mut items = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut total: Option<usize> = None;
        let mut offset = 0;
        for _ in 0..MAX_PAGES {
            let mut query = base.to_vec();
            query.push(("startIndex", offset.to_string()));
            query.push(("limit", self.page_size.to_string()));
            let answer = self.api.get("/Items", &query, Class::List).await?;
            let page: Page = serde_json::from_slice(&answer.body)
                .map_err(|e| self.api.protocol(&Method::GET, "/Items", &answer, e))?;
            if let Some(now) = page.total_record_count {
                match total {
                    Some(before) if before != now => {
                        return Ok((
                            items,
                            Some(format!("its total went from {before} to {now}")),
                        ))
                    }
                    _ => total = Some(now),
                }
            }
            let got = page.items.len();
            offset += got;
            for entry in page.items {
                let Some(id) = normalized(&entry.id) else {
                    return Err(self.not_an_id(&Method::GET, "/Items", &answer, &entry.id));
                };
                if seen.insert(id.clone()) {
                    items.push((id, entry.name));
                }
            }
            let done = match total {
                Some(total) => offset >= total,
                None => got < self.page_size,
            };
            if got == 0 || done {
                let why = total
                    .filter(|&t| t != items.len())
                    .map(|t| format!("it came to {} distinct items, not {t}", items.len()));
                return Ok((items, why));
            }
        }
        Ok((
            items,
            Some(format!("it did not end after {MAX_PAGES} pages")),
        ))
    }

    /// The [`ApiError::NotSent`] of a request this client refuses to make.
    fn not_sent(&self, method: Method, path: &str, reason: &'static str) -> ApiError {
        ApiError::NotSent {
            service: self.api.server(),
            endpoint: Endpoint {
                method,
                path: path.to_owned(),
            },
            reason,
        }
    }

    /// The [`ApiError::Protocol`] of an answer that carries something other than an id where
    /// Jellyfin writes one.
    fn not_an_id(&self, method: &Method, path: &str, answer: &Answer, id: &str) -> ApiError {
        let source = <serde_json::Error as serde::de::Error>::custom(format!(
            "{id:?} is not a Jellyfin id (32 hex digits)"
        ));
        self.api.protocol(method, path, answer, source)
    }
}
