//! The paths of items that came without one, asked for on their own: the first of each item's
//! `MediaSources` that has a path.

use std::collections::HashMap;

use reqwest::Method;
use serde::Deserialize;

use super::item::first_media_path;
use super::{Item, ItemKind, JellyfinClient};
use crate::clients::http::{ApiError, Class};

/// Ids per targeted `/Items?ids=` request: long URLs fail at proxies.
const IDS_PER_REQUEST: usize = 50;

impl JellyfinClient {
    /// Gives the movies and episodes of `items` that came without a `Path` the path of their
    /// first media source, asked for on their own (a few ids a request).
    pub(super) async fn fill_media_paths(
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
}
