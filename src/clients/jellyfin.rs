//! Jellyfin: users, per-user watched and favourite items, sessions, library refresh.
//!
//! Jellyfin writes PascalCase JSON and omits nulls, so every optional field here is an `Option`
//! or has a default. An API key has no user of its own: per-user state (`UserData`) only comes
//! back when `userId` is passed, which [`JellyfinClient::items`] does. `Path` and `ProviderIds`
//! come only when asked for in `fields`.

use std::sync::Arc;

use jiff::Timestamp;
use reqwest::Method;
use serde::Deserialize;

use super::http::{ApiError, BuildError, Http, HttpSettings, RequestStats, Service, ServiceClient};

/// Items per `/Items` page. Large pages keep the request count low; Jellyfin has no maximum.
pub const PAGE_SIZE: usize = 1000;

/// A bound on `/Items` pages per query, against a server that never stops sending full pages.
const MAX_PAGES: usize = 10_000;

/// The item fields inventory needs; Jellyfin leaves them out unless asked.
const ITEM_FIELDS: &str = "Path,ProviderIds,MediaSources";

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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ItemPage {
    #[serde(default)]
    items: Vec<Item>,
    /// Absent only when a server ignores `enableTotalRecordCount`; paging then goes on while
    /// pages come back full.
    #[serde(default)]
    total_record_count: Option<usize>,
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
    ) -> Result<Vec<Item>, ApiError> {
        let mut all = Vec::new();
        self.items_each(user_id, kinds, filter, |page| all.extend(page))
            .await?;
        all.shrink_to_fit();
        Ok(all)
    }

    /// [`JellyfinClient::items`], handing each page to `each` as it arrives instead of
    /// collecting them, so a caller can fold them into something smaller.
    pub async fn items_each(
        &self,
        user_id: Option<&str>,
        kinds: &[&str],
        filter: ItemFilter,
        mut each: impl FnMut(Vec<Item>) + Send,
    ) -> Result<(), ApiError> {
        let mut base: Vec<(&str, String)> = Vec::with_capacity(9);
        if let Some(u) = user_id {
            base.push(("userId", u.to_owned()));
        }
        base.push(("includeItemTypes", kinds.join(",")));
        base.push(("recursive", "true".into()));
        base.push(("fields", ITEM_FIELDS.into()));
        base.push(("enableImages", "false".into()));
        match filter {
            ItemFilter::All => {}
            ItemFilter::Played => base.push(("isPlayed", "true".into())),
            ItemFilter::Favorite => base.push(("isFavorite", "true".into())),
        }
        let mut seen = 0;
        for _ in 0..MAX_PAGES {
            let mut query = base.clone();
            query.push(("startIndex", seen.to_string()));
            query.push(("limit", self.page_size.to_string()));
            let page: ItemPage = self.api.get_json("/Items", &query).await?;
            let got = page.items.len();
            seen += got;
            // An empty page ends the walk even if the total says otherwise (items removed while
            // paging), so a confused server cannot keep us looping.
            let done = match page.total_record_count {
                Some(total) => seen >= total,
                None => got < self.page_size,
            };
            each(page.items);
            if got == 0 || done {
                return Ok(());
            }
        }
        tracing::warn!(
            items = seen,
            "Jellyfin kept sending pages of /Items; stopped after {MAX_PAGES}"
        );
        Ok(())
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

    /// Pages of `page` items out of `total`, as Jellyfin serves them.
    fn paged(total: usize) -> impl Fn(&crate::clients::test_server::Seen, usize) -> Reply {
        move |s, _| {
            let start: usize = s.param("startIndex").unwrap().parse().unwrap();
            let limit: usize = s.param("limit").unwrap().parse().unwrap();
            let items: Vec<String> = (start..(start + limit).min(total))
                .map(|i| format!(r#"{{"Id":"i{i}","Type":"Episode"}}"#))
                .collect();
            Reply::json(format!(
                r#"{{"Items":[{}],"TotalRecordCount":{total},"StartIndex":{start}}}"#,
                items.join(",")
            ))
        }
    }

    #[tokio::test]
    async fn items_pages_until_the_total_with_exact_request_count() {
        let srv = start(paged(2500)).await;
        let items = client(&srv.url)
            .items(Some("u1"), &["Movie", "Episode"], ItemFilter::Played)
            .await
            .unwrap();
        assert_eq!(items.len(), 2500);
        assert_eq!(&*items[2499].id, "i2499");
        let seen = srv.seen();
        assert_eq!(seen.len(), 3);
        let starts: Vec<_> = seen
            .iter()
            .map(|s| s.param("startIndex").unwrap())
            .collect();
        assert_eq!(starts, ["0", "1000", "2000"]);
        let q = &seen[0];
        assert_eq!(q.path, "/Items");
        assert_eq!(q.param("userId").as_deref(), Some("u1"));
        assert_eq!(
            q.param("includeItemTypes").as_deref(),
            Some("Movie,Episode")
        );
        assert_eq!(q.param("recursive").as_deref(), Some("true"));
        assert_eq!(
            q.param("fields").as_deref(),
            Some("Path,ProviderIds,MediaSources")
        );
        assert_eq!(q.param("enableImages").as_deref(), Some("false"));
        assert_eq!(q.param("isPlayed").as_deref(), Some("true"));
        assert_eq!(q.param("isFavorite"), None);
        assert_eq!(q.param("limit").as_deref(), Some("1000"));
    }

    #[tokio::test]
    async fn items_with_a_small_page_size_and_favourite_filter() {
        let srv = start(paged(5)).await;
        let items = client(&srv.url)
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

    #[tokio::test]
    async fn an_empty_page_ends_paging_even_below_the_total() {
        let srv = start(|_, _| Reply::json(r#"{"Items":[],"TotalRecordCount":50}"#)).await;
        let items = client(&srv.url)
            .items(Some("u"), &["Movie"], ItemFilter::All)
            .await
            .unwrap();
        assert!(items.is_empty());
        assert_eq!(srv.count(), 1);
    }

    #[tokio::test]
    async fn without_a_total_paging_goes_on_while_pages_are_full() {
        let srv = start(|s, _| {
            let start: usize = s.param("startIndex").unwrap().parse().unwrap();
            let n = if start < 4 { 2 } else { 1 };
            let items: Vec<String> = (start..start + n)
                .map(|i| format!(r#"{{"Id":"i{i}"}}"#))
                .collect();
            Reply::json(format!(r#"{{"Items":[{}]}}"#, items.join(",")))
        })
        .await;
        let items = client(&srv.url)
            .with_page_size(2)
            .items(Some("u"), &["Movie"], ItemFilter::All)
            .await
            .unwrap();
        assert_eq!(items.len(), 5);
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
            let items = client(&srv.url)
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
    async fn missing_date_is_none_and_malformed_date_is_a_protocol_error() {
        let srv = start(|_, _| {
            Reply::json(
                r#"{"Items":[{"Id":"a","UserData":{"Played":false}}],"TotalRecordCount":1}"#,
            )
        })
        .await;
        let items = client(&srv.url)
            .items(Some("u"), &["Movie"], ItemFilter::All)
            .await
            .unwrap();
        assert_eq!(items[0].user_data.as_ref().unwrap().last_played_date, None);

        let body = item_with_date("yesterday");
        let srv = start(move |_, _| Reply::json(body.clone())).await;
        let err = client(&srv.url)
            .items(Some("u"), &["Movie"], ItemFilter::All)
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::Protocol { .. }), "{err:?}");
        assert!(err
            .to_string()
            .starts_with("Jellyfin sent a response to GET /Items"));
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
