//! Jellyfin: users, per-user watched and favourite items, sessions, library refresh.
//!
//! Jellyfin writes PascalCase JSON and omits nulls, so every optional field here is an `Option`
//! or has a default. An API key has no user of its own: per-user state (`UserData`) only comes
//! back when `userId` is passed, which [`JellyfinClient::items`] does. `Path` and `ProviderIds`
//! come only when asked for in `fields`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use reqwest::Method;
use serde::Deserialize;

use super::http::{
    too_many_malformed, ApiError, BuildError, Class, Http, HttpSettings, RequestStats, Service,
    ServiceClient,
};

/// Items per `/Items` page. Large pages keep the request count low; Jellyfin has no maximum.
pub const PAGE_SIZE: usize = 1000;

/// A bound on `/Items` pages per query, against a server that never stops sending full pages.
const MAX_PAGES: usize = 10_000;

/// The item fields inventory needs; Jellyfin leaves them out unless asked. Not `MediaSources`:
/// on a real server each source carries its `MediaStreams` (codecs, languages, subtitles), a few
/// kilobytes per item, megabytes per page. The few items without a `Path` get their sources
/// asked for on their own ([`JellyfinClient::media_paths`]).
const ITEM_FIELDS: &str = "Path,ProviderIds";

/// A stable order for offset paging: by when the item was added, then by name. Items added while
/// a listing is read go to its end instead of pushing others onto the next page. (Jellyfin has
/// no sort by id; removals still shift items, which the paging notices.)
const ITEM_ORDER: &str = "DateCreated,SortName";

/// Times a listing is read from the start when it changed while it was paged.
const LISTING_READS: usize = 3;

/// Ids per targeted `/Items?ids=` request: long URLs fail at proxies.
const IDS_PER_REQUEST: usize = 50;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

/// `UserItemDataDto`: one user's state on one item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserData {
    #[serde(default)]
    pub played: bool,
    #[serde(default)]
    pub last_played_date: Option<Timestamp>,
    #[serde(default)]
    pub is_favorite: bool,
}

/// The provider ids matching uses, out of Jellyfin's `ProviderIds` map (`{"Tmdb": "603", …}`,
/// keys in any case, empty values meaning none). Boxed, and only when there is one: a pass holds
/// tens of thousands of items, most of them episodes, whose own ids matching never reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderIds(Option<Box<Ids>>);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ids {
    tmdb: Option<Box<str>>,
    imdb: Option<Box<str>>,
    tvdb: Option<Box<str>>,
}

impl ProviderIds {
    /// `pairs` of provider name and id, as Jellyfin would send them.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut ids = ProviderIds::default();
        for (key, value) in pairs {
            ids.set(key, value);
        }
        ids
    }

    /// The id of `provider` (`"Tmdb"`, `"imdb"`, `"Tvdb"`), named without regard to case.
    pub fn get(&self, provider: &str) -> Option<&str> {
        let ids = self.0.as_deref()?;
        let id = if provider.eq_ignore_ascii_case("tmdb") {
            &ids.tmdb
        } else if provider.eq_ignore_ascii_case("imdb") {
            &ids.imdb
        } else if provider.eq_ignore_ascii_case("tvdb") {
            &ids.tvdb
        } else {
            return None;
        };
        id.as_deref()
    }

    fn set(&mut self, key: &str, value: &str) {
        let value = value.trim();
        let known = ["tmdb", "imdb", "tvdb"]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(key));
        if value.is_empty() || !known {
            return;
        }
        let ids = self.0.get_or_insert_with(Box::default);
        let slot = if key.eq_ignore_ascii_case("tmdb") {
            &mut ids.tmdb
        } else if key.eq_ignore_ascii_case("imdb") {
            &mut ids.imdb
        } else {
            &mut ids.tvdb
        };
        *slot = Some(value.into());
    }
}

impl<'de> Deserialize<'de> for ProviderIds {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ProviderIds;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of provider ids, or null")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<ProviderIds, E> {
                Ok(ProviderIds::default())
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<ProviderIds, E> {
                Ok(ProviderIds::default())
            }
            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<ProviderIds, D::Error> {
                d.deserialize_map(self)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ProviderIds, A::Error> {
                let mut ids = ProviderIds::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let value: Option<std::borrow::Cow<'de, str>> = map.next_value()?;
                    if let Some(value) = value {
                        ids.set(&key, &value);
                    }
                }
                Ok(ids)
            }
        }
        deserializer.deserialize_option(Visitor)
    }
}

/// The path of the first of an item's `MediaSources` that has one; the rest of each source
/// (streams, codecs: most of its JSON) is skipped.
fn first_media_path<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct MediaSource {
        #[serde(default)]
        path: Option<String>,
    }
    let sources: Option<Vec<MediaSource>> = Option::deserialize(d)?;
    Ok(sources.unwrap_or_default().into_iter().find_map(|m| m.path))
}

/// Jellyfin's item types that matter here; `BaseItemKind` has dozens more.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ItemKind {
    Movie,
    Episode,
    Series,
    Season,
    #[default]
    Other,
}

impl ItemKind {
    /// Jellyfin's `Type` (`"Movie"` …), read without regard to case.
    pub fn parse(kind: &str) -> Self {
        [
            ("Movie", ItemKind::Movie),
            ("Episode", ItemKind::Episode),
            ("Series", ItemKind::Series),
            ("Season", ItemKind::Season),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(kind))
        .map_or(ItemKind::Other, |(_, k)| k)
    }
}

/// `BaseItemDto`, reduced to what matching needs, in as little memory as it fits: a pass holds
/// every item a counted user played or favourited (tens of thousands on a large library).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(from = "RawItem")]
pub struct Item {
    /// Shared with the index that finds the item by id (see `inventory::Touches`).
    pub id: Arc<str>,
    pub name: Option<Box<str>>,
    pub kind: ItemKind,
    /// The item's file or folder: `Path`, else the first media source's path.
    pub path: Option<Box<str>>,
    /// Look them up with [`Item::provider_id`].
    pub provider_ids: ProviderIds,
    /// On episodes and seasons: the Series item. Shared (see `inventory::Touches`): every
    /// episode of a series names the same one.
    pub series_id: Option<Arc<str>>,
    pub series_name: Option<Arc<str>>,
    /// On episodes: the season number (0 = specials).
    pub parent_index_number: Option<i32>,
    /// On episodes: the episode number; on seasons: the season number.
    pub index_number: Option<i32>,
    /// On multi-episode files: the last episode number the file holds.
    pub index_number_end: Option<i32>,
    pub user_data: Option<UserData>,
}

/// `BaseItemDto` as it comes off the wire, before [`Item`] compacts it.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawItem {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "Type")]
    kind: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    provider_ids: ProviderIds,
    #[serde(
        default,
        rename = "MediaSources",
        deserialize_with = "first_media_path"
    )]
    media_path: Option<String>,
    #[serde(default)]
    series_id: Option<String>,
    #[serde(default)]
    series_name: Option<String>,
    #[serde(default)]
    parent_index_number: Option<i32>,
    #[serde(default)]
    index_number: Option<i32>,
    #[serde(default)]
    index_number_end: Option<i32>,
    #[serde(default)]
    user_data: Option<UserData>,
}

impl From<RawItem> for Item {
    fn from(raw: RawItem) -> Self {
        let kind = raw.kind.as_deref().map_or(ItemKind::Other, ItemKind::parse);
        Item {
            id: raw.id.into(),
            name: raw.name.map(Into::into),
            kind,
            path: raw.path.or(raw.media_path).map(Into::into),
            // An episode's own ids are never matched on: episodes match by their series' id
            // and their numbers, or by path.
            provider_ids: if kind == ItemKind::Episode {
                ProviderIds::default()
            } else {
                raw.provider_ids
            },
            series_id: raw.series_id.map(Into::into),
            series_name: raw.series_name.map(Into::into),
            parent_index_number: raw.parent_index_number,
            index_number: raw.index_number,
            index_number_end: raw.index_number_end,
            user_data: raw.user_data,
        }
    }
}

/// The paging key of a read element.
fn key_of(read: &Read) -> ItemKey {
    match read {
        Read::Item(item) | Read::WithoutUserData(item, _) => ItemKey::of(&item.id),
        Read::Unreadable(key, ..) => *key,
    }
}

impl Item {
    /// A provider id (`"Tmdb"`, `"imdb"`, `"Tvdb"`), named without regard to case.
    pub fn provider_id(&self, provider: &str) -> Option<&str> {
        self.provider_ids.get(provider)
    }

    /// The item's file path: `Path`, else the first media source's.
    pub fn file_path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    pub fn is_kind(&self, kind: ItemKind) -> bool {
        self.kind == kind
    }
}

/// A page of `/Items` as it comes off the wire: each item kept as its raw JSON, so that one
/// item that cannot be read spoils only itself.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPage<'a> {
    #[serde(default, borrow)]
    items: Vec<&'a serde_json::value::RawValue>,
    /// Absent only when a server ignores `enableTotalRecordCount`; paging then goes on while
    /// pages come back full.
    #[serde(default)]
    total_record_count: Option<usize>,
}

/// What reading one listing of items came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Distinct items handed over.
    pub items: usize,
    /// Items whose fields could not all be read; what they are is left alone (see
    /// [`JellyfinClient::items_each`]).
    pub malformed: usize,
    /// Items of which not even the identity could be read: whatever they stand for is unknown.
    pub unreadable: usize,
    /// Set when no consistent reading could be had: why. The items of every reading were
    /// handed over; some may be missing.
    pub inconsistent: Option<String>,
}

/// An item's identity for the paging checks: its id as 128 bits (Jellyfin's ids are 32 hex
/// digits), or a hash of whatever it sent instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ItemKey(u128);

impl ItemKey {
    fn of(id: &str) -> ItemKey {
        let hex: String = id.chars().filter(|c| *c != '-').collect();
        match u128::from_str_radix(&hex, 16) {
            Ok(n) if hex.len() == 32 => ItemKey(n),
            _ => {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                id.hash(&mut h);
                // Out of the hex ids' way: no 32-digit id has these top bits and this form.
                ItemKey((u128::from(h.finish()) << 1) | 1 | (1 << 127))
            }
        }
    }
}

/// One element of a page, read as well as it can be.
enum Read {
    Item(Item),
    /// The item without its `UserData`, which could not be read; with why.
    WithoutUserData(Item, String),
    /// Not even its identity could be read: its key (from the raw text), and why.
    Unreadable(ItemKey, String, String),
}

fn read_item(raw: &serde_json::value::RawValue) -> Read {
    let error = match serde_json::from_str::<Item>(raw.get()) {
        Ok(item) => return Read::Item(item),
        Err(e) => e.to_string(),
    };
    // A bad `UserData` (a date without an offset, say) leaves the item itself readable.
    if let Ok(mut value) = serde_json::from_str::<serde_json::Value>(raw.get()) {
        if let Some(object) = value.as_object_mut() {
            object.remove("UserData");
        }
        if let Ok(item) = serde_json::from_value::<Item>(value) {
            return Read::WithoutUserData(item, error);
        }
    }
    let shown = snippet_of(raw.get());
    Read::Unreadable(ItemKey::of(raw.get()), error, shown)
}

fn snippet_of(text: &str) -> String {
    let mut s: String = text.chars().take(200).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

/// `SessionInfoDto`: only what tells which item is playing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Session {
    #[serde(default)]
    pub user_name: Option<String>,
    /// Absent when the session is idle. Carries `Id`, `Path` and, for episodes, `SeriesId` and
    /// the season and episode numbers.
    #[serde(default)]
    pub now_playing_item: Option<Item>,
}

/// Which of a user's items `/Items` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemFilter {
    /// Every item of the kinds asked for.
    All,
    /// `isPlayed=true`: items the user has watched.
    Played,
    /// `isFavorite=true`: the user's favourites.
    Favorite,
}

/// Typed Jellyfin client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct JellyfinClient {
    api: ServiceClient,
    page_size: usize,
}

impl JellyfinClient {
    /// A client for the Jellyfin at `base_url` (a path prefix such as `http://host/jellyfin` and a
    /// trailing `/` are fine), authenticating with `Authorization: MediaBrowser Token="…"`.
    /// Nothing is sent until the first call.
    pub fn new(
        http: &Http,
        base_url: &str,
        api_key: &str,
        settings: HttpSettings,
    ) -> Result<Self, BuildError> {
        Ok(JellyfinClient {
            api: ServiceClient::new(http, Service::Jellyfin, base_url, api_key, settings)?,
            page_size: PAGE_SIZE,
        })
    }

    /// The same client with another `/Items` page size (tests, or a server that struggles with
    /// big pages).
    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    pub fn stats(&self) -> RequestStats {
        self.api.stats()
    }

    /// The limits its requests are sent with.
    pub fn settings(&self) -> &HttpSettings {
        self.api.settings()
    }

    /// `GET /Users`.
    pub async fn users(&self) -> Result<Vec<User>, ApiError> {
        self.api.get_json("/Users", &[]).await
    }

    /// `GET /Items` of the given kinds (`Movie`, `Episode` …), recursively, every page.
    /// With `user_id` the items carry that user's `UserData` and `filter` applies to that user;
    /// without it (an API key sees every library) `filter` should be [`ItemFilter::All`].
    pub async fn items(
        &self,
        user_id: Option<&str>,
        kinds: &[&str],
        filter: ItemFilter,
    ) -> Result<(Vec<Item>, Listing), ApiError> {
        let mut all = Vec::new();
        let listing = self
            .items_each(user_id, kinds, filter, |page| all.extend(page))
            .await?;
        all.shrink_to_fit();
        Ok((all, listing))
    }

    /// [`JellyfinClient::items`], handing each page to `each` as it arrives instead of
    /// collecting them, so a caller can fold them into something smaller.
    ///
    /// Offset paging over a list that changes is not a snapshot: an item removed from an
    /// earlier page moves every later one up a place, and one is never seen. So the listing is
    /// read in a stable order, each page after the first starts one item early and must begin
    /// with the item the last page ended with, `TotalRecordCount` must stay the same, and the
    /// distinct ids must come to it. When that fails, the listing is read again from the start
    /// (up to three times in all); after that, [`Listing::inconsistent`] says why, and the caller
    /// fails closed for whatever the listing protects. Items may reach `each` more than once
    /// across readings, never twice in one.
    ///
    /// An item with a field that cannot be read is logged and handed over without its
    /// `UserData` when only that is bad (in a favourites listing it is still a favourite, in a
    /// played one it counts as unplayed), or left out when not even its identity can be read
    /// ([`Listing::unreadable`]); more than a few such items fail the listing.
    pub async fn items_each(
        &self,
        user_id: Option<&str>,
        kinds: &[&str],
        filter: ItemFilter,
        mut each: impl FnMut(Vec<Item>) + Send,
    ) -> Result<Listing, ApiError> {
        let mut base: Vec<(&str, String)> = Vec::with_capacity(11);
        if let Some(u) = user_id {
            base.push(("userId", u.to_owned()));
        }
        base.push(("includeItemTypes", kinds.join(",")));
        base.push(("recursive", "true".into()));
        base.push(("fields", ITEM_FIELDS.into()));
        base.push(("enableImages", "false".into()));
        base.push(("sortBy", ITEM_ORDER.into()));
        base.push(("sortOrder", "Ascending".into()));
        match filter {
            ItemFilter::All => {}
            ItemFilter::Played => base.push(("isPlayed", "true".into())),
            ItemFilter::Favorite => base.push(("isFavorite", "true".into())),
        }
        let mut listing = Listing::default();
        for reading in 1..=LISTING_READS {
            let (read, why) = self.read_listing(user_id, &base, filter, &mut each).await?;
            listing.items = listing.items.max(read.items);
            listing.malformed = listing.malformed.max(read.malformed);
            listing.unreadable = listing.unreadable.max(read.unreadable);
            match why {
                None => {
                    listing.inconsistent = None;
                    return Ok(listing);
                }
                Some(why) => {
                    tracing::info!(
                        reading,
                        "Jellyfin's listing of {} changed while it was read ({why}); reading it again",
                        kinds.join(", ")
                    );
                    listing.inconsistent = Some(why);
                }
            }
        }
        if let Some(why) = &listing.inconsistent {
            tracing::warn!(
                "Jellyfin's listing of {} kept changing while it was read, {LISTING_READS} times: {why}",
                kinds.join(", ")
            );
        }
        Ok(listing)
    }

    /// One reading of a listing, page by page; `Some(why)` when it was not consistent.
    async fn read_listing(
        &self,
        user_id: Option<&str>,
        base: &[(&str, String)],
        filter: ItemFilter,
        each: &mut (impl FnMut(Vec<Item>) + Send),
    ) -> Result<(Listing, Option<String>), ApiError> {
        let mut listing = Listing::default();
        let mut seen: HashSet<ItemKey> = HashSet::new();
        let mut total: Option<usize> = None;
        let mut anchor: Option<ItemKey> = None;
        let mut offset = 0;
        for _ in 0..MAX_PAGES {
            let overlap = usize::from(anchor.is_some());
            let mut query = base.to_vec();
            query.push(("startIndex", (offset - overlap).to_string()));
            query.push(("limit", (self.page_size + overlap).to_string()));
            let answer = self.api.get("/Items", &query, Class::List).await?;
            let page: RawPage<'_> = serde_json::from_slice(&answer.body)
                .map_err(|e| self.api.protocol(&Method::GET, "/Items", &answer, e))?;
            if let Some(now) = page.total_record_count {
                match total {
                    Some(before) if before != now => {
                        let why = format!("its total went from {before} to {now}");
                        return Ok((listing, Some(why)));
                    }
                    _ => total = Some(now),
                }
            }
            let mut read: Vec<Read> = page.items.iter().map(|raw| read_item(raw)).collect();
            if let Some(expected) = anchor {
                match read.first().map(key_of) {
                    Some(first) if first == expected => {
                        read.remove(0);
                    }
                    _ => {
                        let why = "the items moved between two pages".to_owned();
                        return Ok((listing, Some(why)));
                    }
                }
            }
            let got = read.len();
            offset += got;
            anchor = read.last().map(key_of).or(anchor);
            let mut items = Vec::with_capacity(got);
            for r in read {
                if !seen.insert(key_of(&r)) {
                    continue;
                }
                match r {
                    Read::Item(item) => items.push(item),
                    Read::WithoutUserData(mut item, why) => {
                        tracing::warn!(
                            item = %item.id,
                            "Jellyfin sent item {} ({}) with UserData that cannot be read: {why}; \
                             it counts as {}",
                            item.id,
                            item.name.as_deref().unwrap_or("?"),
                            match filter {
                                ItemFilter::Favorite => "a favourite",
                                _ => "not played",
                            }
                        );
                        listing.malformed += 1;
                        // Its place in a favourites listing says what its UserData would.
                        item.user_data = (filter == ItemFilter::Favorite).then(|| UserData {
                            is_favorite: true,
                            ..UserData::default()
                        });
                        items.push(item);
                    }
                    Read::Unreadable(_, why, shown) => {
                        tracing::warn!(
                            "Jellyfin sent an item that cannot be read; what it stands for is left \
                             alone: {why}; item: {shown}"
                        );
                        listing.malformed += 1;
                        listing.unreadable += 1;
                    }
                }
            }
            if too_many_malformed(listing.malformed, total.unwrap_or(offset).max(offset)) {
                let source = <serde_json::Error as serde::de::Error>::custom(format!(
                    "{} of its items could not be read, too many to trust the rest",
                    listing.malformed
                ));
                return Err(self.api.protocol(&Method::GET, "/Items", &answer, source));
            }
            self.fill_media_paths(user_id, &mut items).await?;
            listing.items += items.len();
            each(items);
            let done = match total {
                Some(total) => offset >= total,
                None => got < self.page_size,
            };
            if got == 0 || done {
                let why = total
                    .filter(|&t| t != seen.len())
                    .map(|t| format!("it came to {} distinct items, not {t}", seen.len()));
                return Ok((listing, why));
            }
        }
        tracing::warn!(
            items = offset,
            "Jellyfin kept sending pages of /Items; stopped after {MAX_PAGES}"
        );
        Ok((
            listing,
            Some(format!("it did not end after {MAX_PAGES} pages")),
        ))
    }

    /// Gives the movies and episodes of `items` that came without a `Path` the path of their
    /// first media source, asked for on their own (a few ids a request).
    async fn fill_media_paths(
        &self,
        user_id: Option<&str>,
        items: &mut [Item],
    ) -> Result<(), ApiError> {
        let pathless: Vec<usize> = (0..items.len())
            .filter(|&i| {
                let item = &items[i];
                item.path.is_none() && matches!(item.kind, ItemKind::Movie | ItemKind::Episode)
            })
            .collect();
        for chunk in pathless.chunks(IDS_PER_REQUEST) {
            let ids: Vec<&str> = chunk.iter().map(|&i| &*items[i].id).collect();
            let paths = self.media_paths(user_id, &ids).await?;
            for &i in chunk {
                if let Some(path) = paths.get(&*items[i].id) {
                    items[i].path = Some(path.as_str().into());
                }
            }
        }
        Ok(())
    }

    /// The path of the first media source of each of `ids` that has one:
    /// `GET /Items?ids=…&fields=MediaSources`.
    pub async fn media_paths(
        &self,
        user_id: Option<&str>,
        ids: &[&str],
    ) -> Result<HashMap<String, String>, ApiError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Sourced {
            id: String,
            #[serde(
                default,
                rename = "MediaSources",
                deserialize_with = "first_media_path"
            )]
            media_path: Option<String>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Page<'a> {
            #[serde(default, borrow)]
            items: Vec<&'a serde_json::value::RawValue>,
        }
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut query: Vec<(&str, String)> = Vec::with_capacity(4);
        if let Some(u) = user_id {
            query.push(("userId", u.to_owned()));
        }
        query.push(("ids", ids.join(",")));
        query.push(("fields", "MediaSources".into()));
        query.push(("enableImages", "false".into()));
        let answer = self.api.get("/Items", &query, Class::Small).await?;
        let page: Page<'_> = serde_json::from_slice(&answer.body)
            .map_err(|e| self.api.protocol(&Method::GET, "/Items", &answer, e))?;
        // An item that cannot be read keeps no path, and so is matched by its ids or not at all.
        Ok(page
            .items
            .into_iter()
            .filter_map(|raw| serde_json::from_str::<Sourced>(raw.get()).ok())
            .filter_map(|i| Some((i.id, i.media_path?)))
            .collect())
    }

    /// `GET /Sessions`.
    pub async fn sessions(&self) -> Result<Vec<Session>, ApiError> {
        self.api.get_json("/Sessions", &[]).await
    }

    /// `POST /Library/Refresh`: start a library scan (answers 204 at once; the scan is
    /// asynchronous). Sent once, never retried.
    pub async fn refresh_library(&self) -> Result<(), ApiError> {
        self.api
            .send(Method::POST, "/Library/Refresh", &[], None::<&()>)
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn items_keep_only_the_provider_ids_and_the_path_matching_uses() {
        let item: Item = serde_json::from_str(
            r#"{"Id":"a","ProviderIds":{"TMDB":" 603 ","imdb":"","Tvdb":null,"Tvrage":"9"},
                "MediaSources":[{"Protocol":"File","MediaStreams":[{"Codec":"h264"}]},
                                {"Path":"/m/a.mkv","Size":7}]}"#,
        )
        .expect("parses");
        assert_eq!(item.provider_id("tmdb"), Some("603"));
        assert_eq!(item.provider_id("Imdb"), None, "an empty id is none");
        assert_eq!(item.provider_id("tvdb"), None);
        assert_eq!(item.provider_id("tvrage"), None, "not one matching uses");
        assert_eq!(item.file_path(), Some("/m/a.mkv"));
        let bare: Item =
            serde_json::from_str(r#"{"Id":"b","ProviderIds":null,"MediaSources":null}"#)
                .expect("nulls");
        assert_eq!(bare.provider_ids, ProviderIds::default());
        assert_eq!(bare.file_path(), None);
    }
    use crate::clients::test_server::{start, Reply};

    fn client(url: &str) -> JellyfinClient {
        let settings = HttpSettings {
            backoff_base: Duration::from_millis(10),
            ..HttpSettings::default()
        };
        JellyfinClient::new(&Http::new().unwrap(), url, "k", settings).unwrap()
    }

    /// A 32-hex-digit id, as Jellyfin writes them.
    fn id(i: usize) -> String {
        format!("{i:032x}")
    }

    /// Offset pages over `ids` (as they are at the moment of each request), as Jellyfin
    /// serves them.
    fn page_of(s: &crate::clients::test_server::Seen, ids: &[String]) -> Reply {
        let start: usize = s.param("startIndex").unwrap().parse().unwrap();
        let limit: usize = s.param("limit").unwrap().parse().unwrap();
        let items: Vec<String> = ids
            .iter()
            .skip(start)
            .take(limit)
            .map(|id| format!(r#"{{"Id":"{id}","Type":"Episode","Path":"/tv/{id}.mkv"}}"#))
            .collect();
        Reply::json(format!(
            r#"{{"Items":[{}],"TotalRecordCount":{},"StartIndex":{start}}}"#,
            items.join(","),
            ids.len()
        ))
    }

    fn paged(total: usize) -> impl Fn(&crate::clients::test_server::Seen, usize) -> Reply {
        let ids: Vec<String> = (0..total).map(id).collect();
        move |s, _| page_of(s, &ids)
    }

    #[tokio::test]
    async fn items_pages_in_a_stable_order_with_one_item_of_overlap() {
        let srv = start(paged(2500)).await;
        let (items, listing) = client(&srv.url)
            .items(Some("u1"), &["Movie", "Episode"], ItemFilter::Played)
            .await
            .unwrap();
        assert_eq!(items.len(), 2500);
        assert_eq!(&*items[2499].id, id(2499));
        assert_eq!(listing.items, 2500);
        assert_eq!(listing.inconsistent, None);
        let seen = srv.seen();
        assert_eq!(seen.len(), 3);
        let pages: Vec<(String, String)> = seen
            .iter()
            .map(|s| (s.param("startIndex").unwrap(), s.param("limit").unwrap()))
            .collect();
        // Each page after the first starts on the last item of the one before.
        assert_eq!(
            pages,
            [
                ("0".into(), "1000".into()),
                ("999".into(), "1001".into()),
                ("1999".into(), "1001".into())
            ]
        );
        let q = &seen[0];
        assert_eq!(q.path, "/Items");
        assert_eq!(q.param("userId").as_deref(), Some("u1"));
        assert_eq!(
            q.param("includeItemTypes").as_deref(),
            Some("Movie,Episode")
        );
        assert_eq!(q.param("recursive").as_deref(), Some("true"));
        assert_eq!(q.param("fields").as_deref(), Some("Path,ProviderIds"));
        assert_eq!(q.param("sortBy").as_deref(), Some("DateCreated,SortName"));
        assert_eq!(q.param("sortOrder").as_deref(), Some("Ascending"));
        assert_eq!(q.param("enableImages").as_deref(), Some("false"));
        assert_eq!(q.param("isPlayed").as_deref(), Some("true"));
        assert_eq!(q.param("isFavorite"), None);
    }

    #[tokio::test]
    async fn items_with_a_small_page_size_and_favourite_filter() {
        let srv = start(paged(5)).await;
        let (items, _) = client(&srv.url)
            .with_page_size(2)
            .items(None, &["Series"], ItemFilter::Favorite)
            .await
            .unwrap();
        assert_eq!(items.len(), 5);
        let seen = srv.seen();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].param("userId"), None);
        assert_eq!(seen[0].param("isFavorite").as_deref(), Some("true"));
    }

    /// The list changes once, after the first page: an item of the first page goes away.
    #[tokio::test]
    async fn an_item_removed_while_the_pages_are_read_makes_it_read_again_and_none_is_missed() {
        let srv = start(|s, n| {
            let mut ids: Vec<String> = (0..6).map(id).collect();
            if n >= 1 {
                ids.remove(0);
            }
            page_of(s, &ids)
        })
        .await;
        let (items, listing) = client(&srv.url)
            .with_page_size(2)
            .items(Some("u"), &["Movie"], ItemFilter::Favorite)
            .await
            .unwrap();
        assert_eq!(listing.inconsistent, None, "the second reading holds");
        let got: HashSet<String> = items.iter().map(|i| i.id.to_string()).collect();
        for i in 1..6 {
            assert!(got.contains(&id(i)), "item {i} was missed: {got:?}");
        }
        // Reading one broke off at its second page (the total changed); reading two took 3.
        assert_eq!(srv.count(), 2 + 3);
    }

    #[tokio::test]
    async fn a_shift_the_total_does_not_show_is_caught_by_the_overlap() {
        // One item goes and another comes after the first page: the total stays 6.
        let srv = start(|s, n| {
            let mut ids: Vec<String> = (0..6).map(id).collect();
            if n == 1 {
                ids.remove(0);
                ids.push(id(99));
            }
            page_of(s, &ids)
        })
        .await;
        let (_, listing) = client(&srv.url)
            .with_page_size(3)
            .items(Some("u"), &["Movie"], ItemFilter::Favorite)
            .await
            .unwrap();
        assert_eq!(listing.inconsistent, None);
        let starts: Vec<String> = srv
            .seen()
            .iter()
            .map(|s| s.param("startIndex").unwrap())
            .collect();
        assert_eq!(starts, ["0", "2", "0", "2"], "read again after the shift");
    }

    #[tokio::test]
    async fn a_listing_that_never_holds_still_is_reported_inconsistent() {
        let srv = start(|s, n| {
            let ids: Vec<String> = (0..(4 + n)).map(id).collect();
            page_of(s, &ids)
        })
        .await;
        let (_, listing) = client(&srv.url)
            .with_page_size(2)
            .items(Some("u"), &["Movie"], ItemFilter::Favorite)
            .await
            .unwrap();
        let why = listing.inconsistent.expect("inconsistent");
        assert!(why.contains("its total went from"), "{why}");
        assert_eq!(srv.count(), 2 * LISTING_READS);
    }

    #[tokio::test]
    async fn an_empty_page_below_the_total_is_inconsistent() {
        let srv = start(|_, _| Reply::json(r#"{"Items":[],"TotalRecordCount":50}"#)).await;
        let (items, listing) = client(&srv.url)
            .items(Some("u"), &["Movie"], ItemFilter::All)
            .await
            .unwrap();
        assert!(items.is_empty());
        assert!(listing.inconsistent.is_some());
        assert_eq!(srv.count(), LISTING_READS, "one page per reading");
    }

    #[tokio::test]
    async fn without_a_total_paging_goes_on_while_pages_are_full() {
        let srv = start(|s, _| {
            let start: usize = s.param("startIndex").unwrap().parse().unwrap();
            let limit: usize = s.param("limit").unwrap().parse().unwrap();
            let items: Vec<String> = (start..(start + limit).min(5))
                .map(|i| format!(r#"{{"Id":"{}"}}"#, id(i)))
                .collect();
            Reply::json(format!(r#"{{"Items":[{}]}}"#, items.join(",")))
        })
        .await;
        let (items, listing) = client(&srv.url)
            .with_page_size(2)
            .items(Some("u"), &["Movie"], ItemFilter::All)
            .await
            .unwrap();
        assert_eq!(items.len(), 5);
        assert_eq!(listing.inconsistent, None);
        assert_eq!(srv.count(), 3);
    }

    fn item_with_date(date: &str) -> String {
        format!(
            r#"{{"Items":[{{"Id":"a","Name":"M","Type":"Movie","Path":"/m/a.mkv",
               "ProviderIds":{{"Tmdb":"603","IMDB":"tt0133093","Tvdb":null}},
               "UserData":{{"Played":true,"IsFavorite":false,"LastPlayedDate":"{date}"}},
               "SomethingNew":{{"x":1}}}}],"TotalRecordCount":1}}"#
        )
    }

    #[tokio::test]
    async fn dates_with_seven_three_or_no_fraction_digits() {
        for (text, want) in [
            (
                "2024-03-01T12:00:00.1234567Z",
                "2024-03-01T12:00:00.1234567Z",
            ),
            ("2024-03-01T12:00:00.123Z", "2024-03-01T12:00:00.123Z"),
            ("2024-03-01T12:00:00Z", "2024-03-01T12:00:00Z"),
        ] {
            let body = item_with_date(text);
            let srv = start(move |_, _| Reply::json(body.clone())).await;
            let (items, _) = client(&srv.url)
                .items(Some("u"), &["Movie"], ItemFilter::Played)
                .await
                .unwrap();
            let ud = items[0].user_data.clone().unwrap();
            assert_eq!(ud.last_played_date, Some(want.parse().unwrap()), "{text}");
            assert!(ud.played);
            assert_eq!(items[0].provider_id("tmdb"), Some("603"));
            assert_eq!(items[0].provider_id("Imdb"), Some("tt0133093"));
            assert_eq!(items[0].provider_id("Tvdb"), None);
        }
    }

    #[tokio::test]
    async fn missing_date_is_none() {
        let srv = start(|_, _| {
            Reply::json(
                r#"{"Items":[{"Id":"a","UserData":{"Played":false}}],"TotalRecordCount":1}"#,
            )
        })
        .await;
        let (items, _) = client(&srv.url)
            .items(Some("u"), &["Movie"], ItemFilter::All)
            .await
            .unwrap();
        assert_eq!(items[0].user_data.as_ref().unwrap().last_played_date, None);
    }

    /// Twenty good items and one bad one, in one page.
    fn with_one_bad(bad: &str) -> String {
        let mut items: Vec<String> = (0..20)
            .map(|i| {
                format!(
                    r#"{{"Id":"{}","Type":"Movie","Path":"/m/{i}.mkv","UserData":{{"Played":true}}}}"#,
                    id(i)
                )
            })
            .collect();
        items.insert(7, bad.to_owned());
        format!(r#"{{"Items":[{}],"TotalRecordCount":21}}"#, items.join(","))
    }

    #[tokio::test]
    async fn an_item_with_a_bad_date_is_kept_out_of_the_played_and_still_a_favourite() {
        // A date without an offset: not a moment anyone can compare.
        let bad = format!(
            r#"{{"Id":"{}","Name":"Odd","Type":"Movie","Path":"/m/odd.mkv","UserData":{{"Played":true,"IsFavorite":true,"LastPlayedDate":"2024-03-01T12:00:00"}}}}"#,
            id(77)
        );
        let body = with_one_bad(&bad);
        let srv = start(move |_, _| Reply::json(body.clone())).await;
        let c = client(&srv.url);
        let (played, listing) = c
            .items(Some("u"), &["Movie"], ItemFilter::Played)
            .await
            .unwrap();
        assert_eq!(played.len(), 21);
        assert_eq!((listing.malformed, listing.unreadable), (1, 0));
        let odd = played.iter().find(|i| *i.id == id(77)).unwrap();
        assert_eq!(odd.user_data, None, "counts as not played");
        let (favs, _) = c
            .items(Some("u"), &["Movie"], ItemFilter::Favorite)
            .await
            .unwrap();
        let odd = favs.iter().find(|i| *i.id == id(77)).unwrap();
        assert!(odd
            .user_data
            .as_ref()
            .is_some_and(|u| u.is_favorite && !u.played));
    }

    #[tokio::test]
    async fn an_item_whose_identity_cannot_be_read_is_counted_unreadable() {
        let body = with_one_bad(r#"{"Id":12,"Type":"Movie"}"#);
        let srv = start(move |_, _| Reply::json(body.clone())).await;
        let (items, listing) = client(&srv.url)
            .items(Some("u"), &["Movie"], ItemFilter::Favorite)
            .await
            .unwrap();
        assert_eq!(items.len(), 20);
        assert_eq!((listing.malformed, listing.unreadable), (1, 1));
        assert_eq!(listing.inconsistent, None);
    }

    #[tokio::test]
    async fn many_bad_items_fail_the_listing() {
        let items: Vec<String> = (0..30)
            .map(|i| {
                format!(
                    r#"{{"Id":"{}","Type":"Movie","Path":"/m/x.mkv","UserData":{{"LastPlayedDate":"yesterday"}}}}"#,
                    id(i)
                )
            })
            .collect();
        let body = format!(r#"{{"Items":[{}],"TotalRecordCount":30}}"#, items.join(","));
        let srv = start(move |_, _| Reply::json(body.clone())).await;
        let err = client(&srv.url)
            .items(Some("u"), &["Movie"], ItemFilter::Played)
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::Protocol { .. }), "{err:?}");
        assert!(err
            .to_string()
            .starts_with("Jellyfin sent a response to GET /Items"));
        let chain = format!("{:?}", std::error::Error::source(&err));
        assert!(chain.contains("30 of its items"), "{chain}");
    }

    #[tokio::test]
    async fn an_item_without_a_path_gets_it_from_its_media_sources_asked_for_alone() {
        let srv = start(|s, _| {
            if s.param("ids").is_some() {
                return Reply::json(format!(
                    r#"{{"Items":[{{"Id":"{}","MediaSources":[{{"Path":"/m/b.mkv","MediaStreams":[{{"Codec":"h264"}}]}}]}}],"TotalRecordCount":1}}"#,
                    id(2)
                ));
            }
            Reply::json(format!(
                r#"{{"Items":[{{"Id":"{}","Type":"Movie","Path":"/m/a.mkv"}},{{"Id":"{}","Type":"Movie"}},{{"Id":"{}","Type":"Series"}}],"TotalRecordCount":3}}"#,
                id(1),
                id(2),
                id(3)
            ))
        })
        .await;
        let (items, _) = client(&srv.url)
            .items(Some("u"), &["Movie", "Series"], ItemFilter::Played)
            .await
            .unwrap();
        let paths: Vec<Option<&str>> = items.iter().map(|i| i.file_path()).collect();
        assert_eq!(paths, [Some("/m/a.mkv"), Some("/m/b.mkv"), None]);
        let seen = srv.seen();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1].param("ids"), Some(id(2)));
        assert_eq!(seen[1].param("fields").as_deref(), Some("MediaSources"));
        assert_eq!(seen[1].param("userId").as_deref(), Some("u"));
    }

    #[tokio::test]
    async fn users_sessions_and_refresh() {
        let srv = start(|s, _| match s.path.as_str() {
            "/Users" => Reply::json(r#"[{"Id":"0f1e","Name":"Admin","Policy":{"IsAdministrator":true}}]"#),
            "/Sessions" => Reply::json(
                r#"[{"UserName":"admin"},{"NowPlayingItem":{"Id":"x","Path":"/tv/a.mkv","SeriesId":"s","ParentIndexNumber":1,"IndexNumber":2}}]"#,
            ),
            "/Library/Refresh" => Reply::status(204),
            _ => Reply::status(404),
        })
        .await;
        let c = client(&srv.url);
        let users = c.users().await.unwrap();
        assert_eq!(
            (users[0].id.as_str(), users[0].name.as_str()),
            ("0f1e", "Admin")
        );
        let sessions = c.sessions().await.unwrap();
        assert!(sessions[0].now_playing_item.is_none());
        let playing = sessions[1].now_playing_item.as_ref().unwrap();
        assert_eq!(playing.file_path(), Some("/tv/a.mkv"));
        assert_eq!(playing.index_number, Some(2));
        c.refresh_library().await.unwrap();
        let seen = srv.seen();
        assert_eq!(seen[2].method, reqwest::Method::POST);
        assert_eq!(seen[2].path, "/Library/Refresh");
        assert_eq!(c.stats().requests, 3);
    }
}
