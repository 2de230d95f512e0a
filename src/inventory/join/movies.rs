//! Finding the Radarr movie a Jellyfin item is: by TMDB id, IMDB id, then file or folder path.

use std::borrow::Cow;

use super::index::{lowercase, parse_id, MultiIndex};
use super::Found;
use crate::clients::jellyfin::Item;
use crate::inventory::paths::{self_and_ancestors, trim_slash, PathMap};
use crate::inventory::RadarrData;

/// How far up from a Jellyfin movie path its Radarr folder may be: the path itself, its parent.
const MOVIE_FOLDER_DEPTH: usize = 2;

pub(super) struct MovieIndex<'a> {
    by_tmdb: MultiIndex<i32, usize>,
    by_imdb: MultiIndex<Cow<'a, str>, usize>,
    by_file: MultiIndex<&'a str, usize>,
    by_folder: MultiIndex<&'a str, usize>,
}

impl<'a> MovieIndex<'a> {
    pub(super) fn new(r: &'a RadarrData) -> Self {
        let (mut tmdb, mut imdb, mut file, mut folder) = (vec![], vec![], vec![], vec![]);
        for (i, m) in r.movies.iter().enumerate() {
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
            if let Some(p) = m.movie_file.as_ref().and_then(|f| f.path.as_deref()) {
                file.push((p, i));
            }
            if let Some(p) = m.path.as_deref().map(trim_slash).filter(|p| !p.is_empty()) {
                folder.push((p, i));
            }
        }
        MovieIndex {
            by_tmdb: MultiIndex::new(tmdb),
            by_imdb: MultiIndex::new(imdb),
            by_file: MultiIndex::new(file),
            by_folder: MultiIndex::new(folder),
        }
    }

    pub(super) fn find(&self, item: &Item, map: &PathMap) -> Found<usize> {
        let mut tried = Vec::new();
        if let Some(tmdb) = parse_id(item.provider_id("Tmdb")) {
            match self.by_tmdb.get(&tmdb) {
                [one] => return Found::One(*one),
                [] => tried.push(format!("tmdb {tmdb}")),
                many => {
                    return Found::Ambiguous(format!(
                        "{} Radarr movies match tmdb {tmdb}",
                        many.len()
                    ))
                }
            }
        }
        if let Some(imdb) = item.provider_id("Imdb") {
            match self.by_imdb.get(&*lowercase(imdb)) {
                [one] => return Found::One(*one),
                [] => tried.push(format!("imdb {imdb}")),
                many => {
                    return Found::Ambiguous(format!(
                        "{} Radarr movies match imdb {imdb}",
                        many.len()
                    ))
                }
            }
        }
        if let Some(path) = item.file_path() {
            let mapped = map.to_arr(path);
            let by_file = self.by_file.get(mapped.as_ref());
            let found = if by_file.is_empty() {
                // Only the item itself (a disc folder) or the folder holding the file: a movie
                // whose "folder" is higher up (a root folder by mistake) must not absorb it.
                self_and_ancestors(&mapped)
                    .take(MOVIE_FOLDER_DEPTH)
                    .map(|folder| self.by_folder.get(folder))
                    .find(|h| !h.is_empty())
                    .unwrap_or(&[])
            } else {
                by_file
            };
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
}
