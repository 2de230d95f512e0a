//! Jellyfin's items (`BaseItemDto`) and a user's state on them, compacted as they are read.

use std::sync::Arc;

use jiff::Timestamp;
use serde::Deserialize;

use super::ProviderIds;

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
    /// On episodes: the Season item (`SeasonId`), which a "Leaving Soon" collection holds for a
    /// season that goes whole. Shared like `series_id`.
    pub season_id: Option<Arc<str>>,
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
    season_id: Option<String>,
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
            season_id: raw.season_id.map(Into::into),
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

/// The path of the first of an item's `MediaSources` that has one; the rest of each source
/// (streams, codecs: most of its JSON) is skipped.
pub(super) fn first_media_path<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct MediaSource {
        #[serde(default)]
        path: Option<String>,
    }
    let sources: Option<Vec<MediaSource>> = Option::deserialize(d)?;
    Ok(sources.unwrap_or_default().into_iter().find_map(|m| m.path))
}
