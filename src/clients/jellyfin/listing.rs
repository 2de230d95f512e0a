//! Reading a listing of `/Items` page by page, in a stable order, and reading it again when it
//! changed while it was read. Items that cannot be read whole are set aside, not the listing.

use futures_util::stream::{FuturesOrdered, StreamExt};
use reqwest::Method;
use serde::Deserialize;

use super::{Item, JellyfinClient, UserData};
use crate::clients::http::{too_many_malformed, Answer, ApiError, Class};

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

/// Pages of one listing asked for ahead of the one being read, once the total is known.
pub(super) const PAGES_AHEAD: usize = 2;

/// Times a listing is read from the start when it changed while it was paged.
pub(super) const LISTING_READS: usize = 3;

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

/// An item's identity for the paging checks: its id folded to 64 bits (Jellyfin's ids are 32
/// hex digits, from a hash, so any 64 of them are as good as all 128), or a hash of whatever it
/// sent instead. Eight bytes: several users' listings are read at once, each with every id it
/// has seen ([`SeenIds`]). Two ids of one listing that fold alike (about one chance in 10^10 for
/// 50,000 items) make it look changed, which only reads it again and then keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct ItemKey(u64);

/// The ids one reading of a listing has seen, sorted: 8 bytes an id, where a hash set takes 13
/// and, growing, twice that for a moment. A large history is 45,000 ids, and several listings
/// are read at once.
#[derive(Debug, Default)]
struct SeenIds(Vec<ItemKey>);

impl SeenIds {
    fn len(&self) -> usize {
        self.0.len()
    }

    /// Takes in the keys of a page, in its order; true for each that had not been seen, neither
    /// earlier in the page nor on a page before.
    fn admit(&mut self, keys: &[ItemKey]) -> Vec<bool> {
        let mut order: Vec<usize> = (0..keys.len()).collect();
        // Stable: of equal keys, the one that comes first in the page is the one admitted.
        order.sort_by_key(|&i| keys[i]);
        let mut fresh = vec![false; keys.len()];
        let mut added: Vec<ItemKey> = Vec::with_capacity(keys.len());
        for i in order {
            let key = keys[i];
            if added.last() == Some(&key) || self.0.binary_search(&key).is_ok() {
                continue;
            }
            fresh[i] = true;
            added.push(key);
        }
        self.merge(&added);
        fresh
    }

    /// Merges the sorted `added`, none of them held yet, in place from the back.
    fn merge(&mut self, added: &[ItemKey]) {
        let mut held = self.0.len();
        self.0.extend_from_slice(added);
        let mut to = self.0.len();
        for &key in added.iter().rev() {
            while held > 0 && self.0[held - 1] > key {
                to -= 1;
                held -= 1;
                self.0[to] = self.0[held];
            }
            to -= 1;
            self.0[to] = key;
        }
    }
}

impl ItemKey {
    fn of(id: &str) -> ItemKey {
        let hex: String = id.chars().filter(|c| *c != '-').collect();
        match u128::from_str_radix(&hex, 16) {
            // The two halves, folded (`as` truncates, as meant).
            Ok(n) if hex.len() == 32 => ItemKey((n as u64) ^ ((n >> 64) as u64)),
            _ => {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                id.hash(&mut h);
                ItemKey(h.finish())
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

/// The paging key of a read element.
fn key_of(read: &Read) -> ItemKey {
    match read {
        Read::Item(item) | Read::WithoutUserData(item, _) => ItemKey::of(&item.id),
        Read::Unreadable(key, ..) => *key,
    }
}

impl JellyfinClient {
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
    ///
    /// Once the first page has given the total, the pages after the one being read are asked
    /// for ahead ([`PAGES_AHEAD`] of them, at most [`super::PAGES_IN_FLIGHT`] of the client's
    /// pages in flight at once), as if every page came back full. They are read in order and
    /// checked as one by one: each must begin with the item the one before ended with, whenever
    /// each was answered. A page that comes back short before the end leaves the pages asked
    /// for ahead out of line: they are dropped, and the listing goes on from where it is.
    async fn read_listing(
        &self,
        user_id: Option<&str>,
        base: &[(&str, String)],
        filter: ItemFilter,
        each: &mut (impl FnMut(Vec<Item>) + Send),
    ) -> Result<(Listing, Option<String>), ApiError> {
        let mut listing = Listing::default();
        let mut seen = SeenIds::default();
        let mut total: Option<usize> = None;
        let mut anchor: Option<ItemKey> = None;
        let mut offset = 0;
        // The pages asked for, by the offset of their first new item, in order.
        let mut ahead = FuturesOrdered::new();
        let mut next = 0;
        for _ in 0..MAX_PAGES {
            if ahead.is_empty() {
                next = offset;
            }
            let depth = if total.is_some() { 1 + PAGES_AHEAD } else { 1 };
            while ahead.is_empty() || (ahead.len() < depth && total.is_some_and(|t| next < t)) {
                ahead.push_back(self.page(base, next));
                next += self.page_size;
            }
            let Some((at, answer)) = ahead.next().await else {
                continue;
            };
            if at != offset {
                ahead = FuturesOrdered::new();
                continue;
            }
            let answer = answer?;
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
            let keys: Vec<ItemKey> = read.iter().map(key_of).collect();
            for (r, fresh) in read.into_iter().zip(seen.admit(&keys)) {
                if !fresh {
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

    /// The page of the listing `base` whose first new item is at `offset`: after the first page
    /// it starts one item early, on the item the page before ended with. With its offset.
    async fn page(
        &self,
        base: &[(&str, String)],
        offset: usize,
    ) -> (usize, Result<Answer, ApiError>) {
        let overlap = usize::from(offset > 0);
        let mut query = base.to_vec();
        query.push(("startIndex", (offset - overlap).to_string()));
        query.push(("limit", (self.page_size + overlap).to_string()));
        // The semaphore is never closed, so acquiring only waits.
        let _permit = self.pages.acquire().await;
        (offset, self.api.get("/Items", &query, Class::List).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ks: &[u64]) -> Vec<ItemKey> {
        ks.iter().map(|&k| ItemKey(k)).collect()
    }

    #[test]
    fn seen_ids_admit_each_id_once_in_page_order() {
        let mut seen = SeenIds::default();
        // The first of two equal ids in a page is the one admitted.
        assert_eq!(seen.admit(&keys(&[9, 3, 9, 5])), [true, true, false, true]);
        // Ids of earlier pages are not admitted again; new ones fall between them.
        assert_eq!(
            seen.admit(&keys(&[4, 5, 1, 12, 4, 3])),
            [true, false, true, true, false, false]
        );
        assert_eq!(seen.len(), 6);
        assert_eq!(seen.0, keys(&[1, 3, 4, 5, 9, 12]));
        assert_eq!(seen.admit(&[]), Vec::<bool>::new());
        // A long history, page by page in an order of its own: every id once, kept sorted.
        let mut seen = SeenIds::default();
        let ids: Vec<u64> = (0..5_000u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        for page in ids.chunks(1250) {
            assert!(seen.admit(&keys(page)).iter().all(|&f| f));
        }
        for page in ids.chunks(700) {
            assert!(seen.admit(&keys(page)).iter().all(|&f| !f));
        }
        assert_eq!(seen.len(), 5_000);
        assert!(seen.0.windows(2).all(|w| w[0] < w[1]));
    }
}
