//! Finding the Sonarr series a Jellyfin item belongs to (by TVDB id, then folder), and the
//! episodes of it the item is (by season and episode numbers, then file path).

use std::collections::HashMap;

use super::index::{instances_of, names_of};
use super::{EpisodeAt, Found};
use crate::clients::jellyfin::Item;
use crate::clients::sonarr;
use crate::inventory::paths::{self_and_ancestors, trim_slash, PathMap};
use crate::inventory::SonarrData;
use crate::library::{Episode, Season};

/// How far up from a Jellyfin episode path its Sonarr series folder may be: the file, its
/// season folder, the series folder.
const SERIES_FOLDER_DEPTH: usize = 3;

/// The series of every Sonarr instance, numbered in one sequence: instance by instance.
pub(super) struct SeriesIndex<'a> {
    /// Each series, with its instance (an index into `names`).
    series: Vec<(u16, &'a sonarr::Series)>,
    names: Vec<&'a str>,
    by_tvdb: HashMap<i32, Vec<usize>>,
    by_folder: HashMap<&'a str, Vec<usize>>,
}

impl<'a> SeriesIndex<'a> {
    pub(super) fn new(sonarrs: &'a [SonarrData]) -> Self {
        let mut idx = SeriesIndex {
            series: Vec::new(),
            names: sonarrs.iter().map(|s| &*s.instance).collect(),
            by_tvdb: HashMap::new(),
            by_folder: HashMap::new(),
        };
        let all = sonarrs
            .iter()
            .enumerate()
            .flat_map(|(k, s)| s.series.iter().map(move |se| (k, se)));
        for (i, (k, se)) in all.enumerate() {
            idx.series.push((u16::try_from(k).unwrap_or(u16::MAX), se));
            if let Some(t) = se.tvdb_id.filter(|&t| t > 0) {
                idx.by_tvdb.entry(t).or_default().push(i);
            }
            if let Some(p) = se.path.as_deref().map(trim_slash).filter(|p| !p.is_empty()) {
                idx.by_folder.entry(p).or_default().push(i);
            }
        }
        idx
    }

    /// Every series with the index of its instance, in number order.
    pub(super) fn all(&self) -> &[(u16, &'a sonarr::Series)] {
        &self.series
    }

    /// The series with this TVDB id (where several instances have it, the one whose folder
    /// holds `path`), else the series whose folder holds `path`; the flag says the match was by
    /// path alone.
    pub(super) fn find(
        &self,
        tvdb: Option<i32>,
        path: Option<&str>,
        map: &PathMap,
    ) -> Found<(usize, bool)> {
        let mut tried = Vec::new();
        let mapped = path.map(|p| map.to_arr(p));
        if let Some(t) = tvdb {
            match hits(self.by_tvdb.get(&t)) {
                [one] => return Found::One((*one, false)),
                [] => tried.push(format!("series tvdb {t}")),
                many => return self.copy_at(many, mapped.as_deref(), t),
            }
        }
        if let Some(mapped) = &mapped {
            let found = self_and_ancestors(mapped)
                .take(SERIES_FOLDER_DEPTH)
                .map(|folder| hits(self.by_folder.get(folder)))
                .find(|h| !h.is_empty())
                .unwrap_or(&[]);
            match found {
                [one] => return Found::One((*one, true)),
                [] => tried.push(format!("a series folder above {mapped}")),
                many => {
                    return Found::Ambiguous(format!(
                        "{} Sonarr series have the folder of {mapped}",
                        many.len()
                    ))
                }
            }
        }
        Found::Missing(if tried.is_empty() {
            "Jellyfin gave no series TVDB id and no path for it".to_owned()
        } else {
            format!("no Sonarr series with {}", tried.join(" or "))
        })
    }

    /// Of the series `hits` with TVDB id `tvdb`, the one whose folder holds `path`: which of
    /// several instances' copies of the series the item belongs to. Two hits in one instance
    /// are a muddle of that instance, and stay ambiguous.
    fn copy_at(&self, hits: &[usize], path: Option<&str>, tvdb: i32) -> Found<(usize, bool)> {
        let Some(instances) = instances_of(hits, |i| self.series[i].0) else {
            return Found::Ambiguous(format!("{} Sonarr series match tvdb {tvdb}", hits.len()));
        };
        let holding: Vec<usize> = match path {
            None => Vec::new(),
            Some(path) => hits
                .iter()
                .copied()
                .filter(|&i| {
                    let folder = self.series[i].1.path.as_deref().map(trim_slash);
                    folder.is_some_and(|folder| {
                        !folder.is_empty()
                            && self_and_ancestors(path)
                                .take(SERIES_FOLDER_DEPTH)
                                .any(|p| p == folder)
                    })
                })
                .collect(),
        };
        match holding.as_slice() {
            [one] => Found::One((*one, false)),
            _ => Found::Ambiguous(format!(
                "the series with tvdb {tvdb} is in {} Sonarrs ({}) and the path {} tells not \
                 which it belongs to",
                hits.len(),
                names_of(&instances, &self.names),
                path.unwrap_or("(none)")
            )),
        }
    }

    pub(super) fn title(&self, i: usize) -> String {
        let Some((_, se)) = self.series.get(i) else {
            return String::new();
        };
        se.title
            .clone()
            .unwrap_or_else(|| format!("Sonarr series {}", se.id))
    }
}

/// The episodes among `seasons` (one series', sorted by number, their episodes too) that
/// Jellyfin's `item` is, as season and episode indices: by season and episode number (every
/// number of a multi-episode item), else by file path. Several episodes are one match when they
/// share the item's file. When the series itself was only found by its folder, numbers are not
/// trusted (they would pick an episode of whatever series holds the folder) and only the file
/// path counts.
pub(super) fn find_episodes(
    seasons: &[Season],
    series_by_path: bool,
    item: &Item,
    map: &PathMap,
    series_title: &dyn Fn() -> String,
) -> Found<Vec<EpisodeAt>> {
    let sxe = item.parent_index_number.zip(item.index_number);
    if let Some((season, first)) = sxe.filter(|_| !series_by_path) {
        // A multi-episode item names its last episode; a bogus range is cut short.
        let last = item
            .index_number_end
            .filter(|&e| e >= first)
            .unwrap_or(first)
            .min(first.saturating_add(50));
        let mut out = Vec::new();
        if let Ok(s) = seasons.binary_search_by_key(&season, |s| s.number) {
            let eps = &seasons[s].episodes;
            for number in first..=last {
                let start = eps.partition_point(|e| e.number < number);
                let len = eps[start..].partition_point(|e| e.number <= number);
                match len {
                    0 => {}
                    1 => out.push((s, start)),
                    many => {
                        return Found::Ambiguous(format!(
                            "{many} episodes of Sonarr series {:?} are S{season:02}E{number:02}",
                            series_title()
                        ))
                    }
                }
            }
        }
        if !out.is_empty() {
            return Found::One(out);
        }
    }
    let mapped = item.file_path().map(|p| map.to_arr(p));
    if let Some(p) = &mapped {
        // Rarely needed, and within one series: a scan beats holding an index of every path.
        let same_file: Vec<EpisodeAt> = seasons
            .iter()
            .enumerate()
            .flat_map(|(s, season)| {
                season
                    .episodes
                    .iter()
                    .enumerate()
                    .map(move |(e, ep)| ((s, e), ep))
            })
            .filter(|(_, ep)| file_path(ep) == Some(p.as_ref()))
            .map(|(at, _)| at)
            .collect();
        if !same_file.is_empty() {
            return Found::One(same_file);
        }
    }
    let file = match &mapped {
        Some(p) => format!("no episode file at {p}"),
        None => "no path from Jellyfin".to_owned(),
    };
    let series_title = series_title();
    Found::Missing(match sxe {
        _ if series_by_path => format!(
            "Sonarr series {series_title:?} (found by its folder, no TVDB id) has {file}"
        ),
        Some((s, e)) => {
            format!("Sonarr series {series_title:?} has no S{s:02}E{e:02} and {file}")
        }
        None => format!(
            "Jellyfin gave no season and episode number, and Sonarr series {series_title:?} has {file}"
        ),
    })
}

fn file_path(e: &Episode) -> Option<&str> {
    let path = &*e.file.as_ref()?.path;
    (!path.is_empty()).then_some(path)
}

fn hits<T: Copy>(found: Option<&Vec<T>>) -> &[T] {
    found.map(Vec::as_slice).unwrap_or(&[])
}
