//! The order of `/Items`, as Jellyfin's `BaseItemRepository.ApplyOrder` makes it, and a cache
//! of it.
//!
//! Paging is offset paging over this order, computed anew for every request (so an item that
//! leaves an earlier page moves every later item up one place). Sorting a large library for every
//! page would make the simulated Jellyfin the slowest part of a benchmarked pass, so the order of
//! the whole library is kept per sort, and what a query matched per query, until the world
//! changes.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::world::World;

/// The sorts the simulator honours. Other `ItemSortBy` names are valid and change nothing here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortBy {
    /// The item's `SortName` (see [`sort_name`]).
    SortName,
    /// `ItemSortBy.Name` sorts by `CleanName` (see [`clean_name`]).
    Name,
    /// The raw `Name`, which ApplyOrder puts right after a first `SortName`.
    RawName,
    DateCreated,
    ProductionYear,
    Ignored,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    by: SortBy,
    descending: bool,
}

/// `ItemSortBy`'s names (jellyfin-openapi.json). Jellyfin's CommaDelimitedCollectionModelBinder
/// drops a value that is not one of them (or of `SortOrder`'s), before the two lists are paired.
const ITEM_SORT_BY: [&str; 30] = [
    "Default",
    "AiredEpisodeOrder",
    "Album",
    "AlbumArtist",
    "Artist",
    "DateCreated",
    "OfficialRating",
    "DatePlayed",
    "PremiereDate",
    "StartDate",
    "SortName",
    "Name",
    "Random",
    "Runtime",
    "CommunityRating",
    "ProductionYear",
    "PlayCount",
    "CriticRating",
    "IsFolder",
    "IsUnplayed",
    "IsPlayed",
    "SeriesSortName",
    "VideoBitRate",
    "AirTime",
    "Studio",
    "IsFavoriteOrLiked",
    "DateLastContentAdded",
    "SeriesDatePlayed",
    "ParentIndexNumber",
    "IndexNumber",
];

/// The ordering of a request's `sortBy` and `sortOrder` values. `Err` where Jellyfin's
/// RequestHelpers.GetOrderBy indexes past the end of `sortBy` (more orders than sorts) and the
/// request fails with a 500.
pub(crate) fn ordering(sort_by: &[String], sort_order: &[String]) -> Result<Vec<Key>, ()> {
    let sorts: Vec<Option<SortBy>> = sort_by
        .iter()
        .map(|v| v.trim())
        .filter_map(|v| ITEM_SORT_BY.iter().find(|n| n.eq_ignore_ascii_case(v)))
        .map(|name| match *name {
            "Default" => None,
            "SortName" => Some(SortBy::SortName),
            "Name" => Some(SortBy::Name),
            "DateCreated" => Some(SortBy::DateCreated),
            "ProductionYear" => Some(SortBy::ProductionYear),
            _ => Some(SortBy::Ignored),
        })
        .collect();
    let orders: Vec<bool> = sort_order
        .iter()
        .map(|v| v.trim())
        .filter_map(|v| {
            if v.eq_ignore_ascii_case("Ascending") {
                Some(false)
            } else if v.eq_ignore_ascii_case("Descending") {
                Some(true)
            } else {
                None
            }
        })
        .collect();
    if !sorts.is_empty() && orders.len() > sorts.len() {
        return Err(());
    }
    // Sorts without an order of their own take the first order given, else ascending.
    let fallback = orders.first().copied().unwrap_or(false);
    let asked: Vec<Key> = sorts
        .iter()
        .enumerate()
        .filter_map(|(i, by)| {
            by.map(|by| Key {
                by,
                descending: orders.get(i).copied().unwrap_or(fallback),
            })
        })
        .collect();
    let Some(first) = asked.first().copied() else {
        return Ok(vec![Key {
            by: SortBy::SortName,
            descending: false,
        }]);
    };
    let mut keys = vec![first];
    if first.by == SortBy::SortName {
        keys.push(Key {
            by: SortBy::RawName,
            descending: first.descending,
        });
    }
    keys.extend(asked.iter().skip(1).copied());
    // SortName is the last tie-breaker unless a name sort was asked for.
    if asked
        .iter()
        .all(|k| !matches!(k.by, SortBy::SortName | SortBy::Name))
    {
        keys.push(Key {
            by: SortBy::SortName,
            descending: false,
        });
    }
    Ok(keys)
}

/// One item of the library by its place in the world: movie, series, (series, season) or
/// (series, episode) indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemRef {
    Movie(u32),
    Series(u32),
    Season(u32, u32),
    Episode(u32, u32),
}

/// The library's orders per sort and the items queries matched, valid for one generation of
/// the world.
#[derive(Default)]
pub(crate) struct Orders {
    generation: u64,
    sorted: Vec<(Vec<Key>, Vec<ItemRef>)>,
    /// Per query (all of it but the page).
    lists: Vec<(String, Vec<ItemRef>)>,
}

/// Sorts and lists a cache keeps at once (a pass asks for a few, one page after another).
const KEPT: usize = 8;

impl Orders {
    fn refresh(&mut self, generation: u64) {
        if self.generation != generation {
            self.sorted.clear();
            self.lists.clear();
            self.generation = generation;
        }
    }

    /// Every item of `world` (Jellyfin's or not, of every kind) in the order of `keys`.
    /// `generation` changes whenever the world may have.
    fn sorted(&mut self, world: &World, generation: u64, keys: &[Key]) -> &[ItemRef] {
        self.refresh(generation);
        let at = match self.sorted.iter().position(|(k, _)| k == keys) {
            Some(at) => at,
            None => {
                if self.sorted.len() >= KEPT {
                    self.sorted.remove(0);
                }
                self.sorted.push((keys.to_vec(), sort(world, keys)));
                self.sorted.len() - 1
            }
        };
        &self.sorted[at].1
    }

    /// The items `admit` lets through, in the order of `keys`: what `query` matches in the world
    /// of this `generation`.
    pub fn matching(
        &mut self,
        world: &World,
        generation: u64,
        query: String,
        keys: &[Key],
        admit: impl Fn(ItemRef) -> bool,
    ) -> &[ItemRef] {
        self.refresh(generation);
        let at = match self.lists.iter().position(|(q, _)| *q == query) {
            Some(at) => at,
            None => {
                let list: Vec<ItemRef> = self
                    .sorted(world, generation, keys)
                    .iter()
                    .copied()
                    .filter(|at| admit(*at))
                    .collect();
                if self.lists.len() >= KEPT {
                    self.lists.remove(0);
                }
                self.lists.push((query, list));
                self.lists.len() - 1
            }
        };
        &self.lists[at].1
    }
}

/// What an item is sorted by.
struct Row<'w> {
    at: ItemRef,
    name: Cow<'w, str>,
    sort_name: String,
    clean_name: String,
    created: i32,
    year: Option<i32>,
}

/// Which of the costly keys a sort needs.
#[derive(Clone, Copy)]
struct Needs {
    sort_name: bool,
    clean_name: bool,
}

impl<'w> Row<'w> {
    fn new(
        at: ItemRef,
        name: Cow<'w, str>,
        sort_name: impl FnOnce() -> String,
        (created, year): (i32, Option<i32>),
        needs: Needs,
    ) -> Row<'w> {
        Row {
            at,
            sort_name: if needs.sort_name {
                sort_name()
            } else {
                String::new()
            },
            clean_name: if needs.clean_name {
                clean_name(&name)
            } else {
                String::new()
            },
            name,
            created,
            year,
        }
    }
}

fn sort(world: &World, keys: &[Key]) -> Vec<ItemRef> {
    let needs = Needs {
        sort_name: keys.iter().any(|k| k.by == SortBy::SortName),
        clean_name: keys.iter().any(|k| k.by == SortBy::Name),
    };
    // World order (movies, series, seasons, episodes) settles the ties.
    let mut rows: Vec<Row<'_>> = Vec::new();
    for (i, m) in (0u32..).zip(&world.movies) {
        rows.push(Row::new(
            ItemRef::Movie(i),
            Cow::Borrowed(&m.title),
            || sort_name(&m.title),
            (m.created, Some(m.year)),
            needs,
        ));
    }
    for (i, s) in (0u32..).zip(&world.series) {
        rows.push(Row::new(
            ItemRef::Series(i),
            Cow::Borrowed(&s.title),
            || sort_name(&s.title),
            (s.created, None),
            needs,
        ));
    }
    for (i, s) in (0u32..).zip(&world.series) {
        for (j, season) in (0u32..).zip(&s.seasons) {
            // Season.CreateSortName: the number, four digits.
            rows.push(Row::new(
                ItemRef::Season(i, j),
                Cow::Owned(season_name(season.number)),
                || format!("{:04}", season.number),
                (season.created, None),
                needs,
            ));
        }
    }
    for (i, s) in (0u32..).zip(&world.series) {
        for (j, e) in (0u32..).zip(&s.episodes) {
            // Episode.CreateSortName: "season - episode - name", not the series.
            rows.push(Row::new(
                ItemRef::Episode(i, j),
                Cow::Borrowed(&e.title),
                || format!("{:03} - {:04} - {}", e.season, e.number, e.title),
                (e.created, None),
                needs,
            ));
        }
    }
    rows.sort_by(|a, b| compare(a, b, keys));
    rows.into_iter().map(|r| r.at).collect()
}

fn compare(a: &Row<'_>, b: &Row<'_>, keys: &[Key]) -> Ordering {
    for key in keys {
        let order = match key.by {
            SortBy::SortName => a.sort_name.cmp(&b.sort_name),
            SortBy::Name => a.clean_name.cmp(&b.clean_name),
            SortBy::RawName => a.name.cmp(&b.name),
            SortBy::DateCreated => a.created.cmp(&b.created),
            // SQLite puts NULLs first when ascending.
            SortBy::ProductionYear => a.year.cmp(&b.year),
            SortBy::Ignored => Ordering::Equal,
        };
        let order = if key.descending {
            order.reverse()
        } else {
            order
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

/// What Jellyfin calls a season.
pub(crate) fn season_name(number: i32) -> String {
    if number == 0 {
        "Specials".to_string()
    } else {
        format!("Season {number}")
    }
}

/// BaseItem.GetSortName with the default server configuration: lower case, the articles "the",
/// "a" and "an" removed as words, some punctuation removed or made a space, runs of digits padded
/// to ten places, diacritics removed.
pub(crate) fn sort_name(name: &str) -> String {
    let mut sortable = name.trim().to_lowercase();
    for word in ["the", "a", "an"] {
        if let Some(rest) = sortable.strip_prefix(&format!("{word} ")) {
            sortable = rest.to_string();
        }
        sortable = sortable.replace(&format!(" {word} "), " ");
        if let Some(rest) = sortable.strip_suffix(&format!(" {word}")) {
            sortable = rest.to_string();
        }
    }
    sortable.retain(|c| !matches!(c, ',' | '&' | '-' | '{' | '}' | '\''));
    let sortable: String = sortable
        .chars()
        .map(|c| if matches!(c, '.' | '+' | '%') { ' ' } else { c })
        .collect();
    // ModifySortChunks: every run of digits at least ten long.
    let mut out = String::with_capacity(sortable.len() + 10);
    let mut digits = String::new();
    for c in sortable.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            out.extend(std::iter::repeat_n(
                '0',
                10usize.saturating_sub(digits.len()),
            ));
            out.push_str(&digits);
            digits.clear();
        }
        if c != '\0' {
            out.push(fold(c));
        }
    }
    out
}

/// Jellyfin's `GetCleanValue` (what `ItemSortBy.Name` sorts by): lower case without
/// diacritics, punctuation made spaces, spaces collapsed.
pub(crate) fn clean_name(name: &str) -> String {
    let spaced: String = name
        .to_lowercase()
        .chars()
        .map(fold)
        .map(|c| {
            if c.is_alphanumeric() || c.is_whitespace() {
                c
            } else {
                ' '
            }
        })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// RemoveDiacritics, for the Latin letters a library's titles mostly have.
fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn sort_names_follow_jellyfin() {
        assert_eq!(sort_name("The Matrix"), "matrix");
        assert_eq!(sort_name("Alien 3"), "alien 0000000003");
        assert_eq!(sort_name("Amélie"), "amelie");
        assert_eq!(sort_name("Tom & Jerry: The Movie"), "tom  jerry: movie");
        assert_eq!(clean_name("Tom & Jerry: The Movie"), "tom jerry the movie");
    }

    #[test]
    fn orderings_follow_apply_order() {
        let key = |by, descending| Key { by, descending };
        assert_eq!(ordering(&[], &[]), Ok(vec![key(SortBy::SortName, false)]));
        assert_eq!(
            ordering(&strings(&["sortname"]), &strings(&["Descending"])),
            Ok(vec![
                key(SortBy::SortName, true),
                key(SortBy::RawName, true)
            ])
        );
        assert_eq!(
            ordering(
                &strings(&["DateCreated", "ProductionYear"]),
                &strings(&["Descending"])
            ),
            Ok(vec![
                key(SortBy::DateCreated, true),
                key(SortBy::ProductionYear, true),
                key(SortBy::SortName, false)
            ]),
            "a sort without an order takes the first order"
        );
        assert_eq!(
            ordering(&strings(&["Nonsense", "Name"]), &[]),
            Ok(vec![key(SortBy::Name, false)]),
            "an unknown name is dropped"
        );
        assert_eq!(
            ordering(&strings(&["Random"]), &[]),
            Ok(vec![
                key(SortBy::Ignored, false),
                key(SortBy::SortName, false)
            ])
        );
        assert_eq!(
            ordering(&strings(&["Name"]), &strings(&["Ascending", "Descending"])),
            Err(()),
            "more orders than sorts"
        );
        assert_eq!(
            ordering(&[], &strings(&["Descending"])),
            Ok(vec![key(SortBy::SortName, false)])
        );
    }
}
