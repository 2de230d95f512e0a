//! Finding the Radarr movie a Jellyfin item is, across every Radarr instance: by the file's path,
//! then by TMDB id, IMDB id (where several instances hold the movie, the path tells which copy
//! the item is), then by folder.

use std::borrow::Cow;

use super::index::{instances_of, lowercase, names_of, parse_id, MultiIndex};
use super::Found;
use crate::clients::jellyfin::Item;
use crate::inventory::paths::{self_and_ancestors, trim_slash, PathMap};
use crate::inventory::RadarrData;

/// How far up from a Jellyfin movie path its Radarr folder may be: the path itself, its parent.
const MOVIE_FOLDER_DEPTH: usize = 2;

/// The movies of every Radarr instance, numbered in one sequence: instance by instance, each
/// in its own order.
pub(super) struct MovieIndex<'a> {
    /// The instance of each movie (an index into `names`), by movie number.
    instance: Vec<u16>,
    names: Vec<&'a str>,
    files: Vec<Option<&'a str>>,
    folders: Vec<Option<&'a str>>,
    by_tmdb: MultiIndex<i32, usize>,
    by_imdb: MultiIndex<Cow<'a, str>, usize>,
    by_file: MultiIndex<&'a str, usize>,
    by_folder: MultiIndex<&'a str, usize>,
}

impl<'a> MovieIndex<'a> {
    pub(super) fn new(radarrs: &'a [RadarrData]) -> Self {
        let (mut tmdb, mut imdb, mut file, mut folder) = (vec![], vec![], vec![], vec![]);
        let mut index = MovieIndex {
            instance: Vec::new(),
            names: radarrs.iter().map(|r| &*r.instance).collect(),
            files: Vec::new(),
            folders: Vec::new(),
            by_tmdb: MultiIndex::new(vec![]),
            by_imdb: MultiIndex::new(vec![]),
            by_file: MultiIndex::new(vec![]),
            by_folder: MultiIndex::new(vec![]),
        };
        let movies = radarrs
            .iter()
            .enumerate()
            .flat_map(|(k, r)| r.movies.iter().map(move |m| (k, m)));
        for (i, (k, m)) in movies.enumerate() {
            // A config cannot name 65,536 instances; saturating keeps the index total anyway.
            index.instance.push(u16::try_from(k).unwrap_or(u16::MAX));
            if let Some(t) = m.tmdb_id.filter(|&t| t > 0) {
                tmdb.push((t, i));
            }
            if let Some(id) = m
                .imdb_id
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                imdb.push((lowercase(id), i));
            }
            let path = m.movie_file.as_ref().and_then(|f| f.path.as_deref());
            if let Some(p) = path {
                file.push((p, i));
            }
            index.files.push(path);
            let dir = m.path.as_deref().map(trim_slash).filter(|p| !p.is_empty());
            if let Some(p) = dir {
                folder.push((p, i));
            }
            index.folders.push(dir);
        }
        index.by_tmdb = MultiIndex::new(tmdb);
        index.by_imdb = MultiIndex::new(imdb);
        index.by_file = MultiIndex::new(file);
        index.by_folder = MultiIndex::new(folder);
        index
    }

    /// How many movies all instances hold together.
    pub(super) fn len(&self) -> usize {
        self.instance.len()
    }

    pub(super) fn find(&self, item: &Item, map: &PathMap) -> Found<usize> {
        let mut tried = Vec::new();
        let mapped = item.file_path().map(|p| map.to_arr(p));
        let tmdb = parse_id(item.provider_id("Tmdb"));
        let tmdb_hits = tmdb.map_or(&[][..], |t| self.by_tmdb.get(&t));
        let muddled = instances_of(tmdb_hits, |i| self.instance[i]).is_none();
        if let Some(t) = tmdb.filter(|_| muddled) {
            // A muddle inside one Radarr: not even the file says which entry is meant.
            return Found::Ambiguous(format!("{} Radarr movies match tmdb {t}", tmdb_hits.len()));
        }
        // The file is the surest sign of which instance's movie an item is.
        if let Some(path) = &mapped {
            match self.by_file.get(path.as_ref()) {
                [] => {}
                [one] => return Found::One(*one),
                many => {
                    return Found::Ambiguous(format!(
                        "{} Radarr movies have the file {path}",
                        many.len()
                    ))
                }
            }
        }
        if let Some(tmdb) = tmdb {
            match tmdb_hits {
                [one] => return Found::One(*one),
                [] => tried.push(format!("tmdb {tmdb}")),
                many => return self.copy_at(many, mapped.as_deref(), &format!("tmdb {tmdb}")),
            }
        }
        if let Some(imdb) = item.provider_id("Imdb") {
            match self.by_imdb.get(&*lowercase(imdb)) {
                [one] => return Found::One(*one),
                [] => tried.push(format!("imdb {imdb}")),
                many => return self.copy_at(many, mapped.as_deref(), &format!("imdb {imdb}")),
            }
        }
        if let Some(mapped) = &mapped {
            // Only the item itself (a disc folder) or the folder holding the file: a movie
            // whose "folder" is higher up (a root folder by mistake) must not absorb it.
            let found = self_and_ancestors(mapped)
                .take(MOVIE_FOLDER_DEPTH)
                .map(|folder| self.by_folder.get(folder))
                .find(|h| !h.is_empty())
                .unwrap_or(&[]);
            match found {
                [one] => return Found::One(*one),
                [] => tried.push(format!("path {mapped}")),
                many => {
                    return Found::Ambiguous(format!(
                        "{} Radarr movies match path {mapped}",
                        many.len()
                    ))
                }
            }
        }
        Found::Missing(if tried.is_empty() {
            "Jellyfin gave no TMDB or IMDB id and no path for it".to_owned()
        } else {
            format!("no Radarr movie with {}", tried.join(", "))
        })
    }

    /// Of the movies `hits` that share a provider id (`id`), the one whose folder holds the
    /// item's `path`: the copy in one of several instances that the item is. Two hits in one
    /// instance are a muddle of that instance, and stay ambiguous.
    fn copy_at(&self, hits: &[usize], path: Option<&str>, id: &str) -> Found<usize> {
        let Some(instances) = instances_of(hits, |i| self.instance[i]) else {
            return Found::Ambiguous(format!("{} Radarr movies match {id}", hits.len()));
        };
        let holding: Vec<usize> = match path {
            None => Vec::new(),
            Some(path) => hits
                .iter()
                .copied()
                .filter(|&i| self.holds(i, path))
                .collect(),
        };
        match holding.as_slice() {
            [one] => Found::One(*one),
            _ => Found::Ambiguous(format!(
                "the movie with {id} is in {} Radarrs ({}) and its path {} tells not which copy \
                 it is",
                hits.len(),
                names_of(&instances, &self.names),
                path.unwrap_or("(none)")
            )),
        }
    }

    /// True when movie `i`'s file is `path` or its folder holds it.
    fn holds(&self, i: usize, path: &str) -> bool {
        self.files[i] == Some(path)
            || self.folders[i].is_some_and(|folder| {
                self_and_ancestors(path)
                    .take(MOVIE_FOLDER_DEPTH)
                    .any(|p| p == folder)
            })
    }
}
