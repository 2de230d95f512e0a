//! Translating Jellyfin's paths into the *arrs' view, and walking a path's folders.
//!
//! Jellyfin and the *arrs often run in containers that mount the same storage at different
//! places (`/media/movies` in Jellyfin, `/movies` in Radarr). `[[path_map]]` says how one prefix
//! becomes the other; prefixes match whole path components only.

use std::borrow::Cow;

/// The configured prefix pairs, normalized (no trailing `/`), longest Jellyfin prefix first so
/// that the most specific mapping wins.
#[derive(Debug, Clone, Default)]
pub struct PathMap {
    pairs: Vec<(String, String)>,
}

impl PathMap {
    pub fn new(pairs: &[(String, String)]) -> Self {
        let mut pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(jf, arr)| (trim_slash(jf).to_owned(), trim_slash(arr).to_owned()))
            .collect();
        pairs.sort_by_key(|(jf, _)| std::cmp::Reverse(jf.len()));
        PathMap { pairs }
    }

    /// `path` as the *arrs see it: the longest matching Jellyfin prefix replaced by its *arr
    /// prefix; unchanged when no prefix matches (both sides see the same paths).
    pub fn to_arr<'a>(&self, path: &'a str) -> Cow<'a, str> {
        for (jf, arr) in &self.pairs {
            if let Some(rest) = strip_component_prefix(path, jf) {
                let mapped = format!("{arr}{rest}");
                return Cow::Owned(if mapped.is_empty() {
                    "/".into()
                } else {
                    mapped
                });
            }
        }
        Cow::Borrowed(path)
    }
}

/// The rest of `path` after `prefix` (starting with `/`, or empty), when `prefix` is a whole-
/// component prefix of it. `prefix` has no trailing `/`; the empty prefix is the root.
fn strip_component_prefix<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// `path` without trailing slashes (`/` itself becomes the empty string, the root).
pub fn trim_slash(path: &str) -> &str {
    path.trim_end_matches('/')
}

/// `path` itself, then each folder above it, deepest first, without trailing slashes; the root
/// is not included. `/tv/Show/S01/e.mkv` → `/tv/Show/S01/e.mkv`, `/tv/Show/S01`, `/tv/Show`, `/tv`.
pub fn self_and_ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(trim_slash(path));
    std::iter::from_fn(move || {
        let current = next.filter(|p| !p.is_empty())?;
        next = current.rfind('/').map(|i| &current[..i]);
        Some(current)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> PathMap {
        PathMap::new(
            &pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn maps_whole_components_and_prefers_the_longest_prefix() {
        let m = map(&[("/media/", "/data"), ("/media/movies", "/movies/")]);
        assert_eq!(m.to_arr("/media/movies/A/a.mkv"), "/movies/A/a.mkv");
        assert_eq!(m.to_arr("/media/tv/B/b.mkv"), "/data/tv/B/b.mkv");
        assert_eq!(m.to_arr("/media/movies"), "/movies");
        assert_eq!(m.to_arr("/media/movies2/x.mkv"), "/data/movies2/x.mkv");
        assert_eq!(m.to_arr("/mediafiles/x.mkv"), "/mediafiles/x.mkv");
        assert_eq!(m.to_arr("/other/x.mkv"), "/other/x.mkv");
    }

    #[test]
    fn root_prefixes() {
        assert_eq!(map(&[("/", "/mnt")]).to_arr("/tv/x.mkv"), "/mnt/tv/x.mkv");
        assert_eq!(map(&[("/data", "/")]).to_arr("/data/tv/x.mkv"), "/tv/x.mkv");
        assert_eq!(map(&[("/data", "/")]).to_arr("/data"), "/");
    }

    #[test]
    fn ancestors_deepest_first() {
        let got: Vec<_> = self_and_ancestors("/tv/Show/S01/e.mkv").collect();
        assert_eq!(
            got,
            ["/tv/Show/S01/e.mkv", "/tv/Show/S01", "/tv/Show", "/tv"]
        );
        let got: Vec<_> = self_and_ancestors("/tv/Show/").collect();
        assert_eq!(got, ["/tv/Show", "/tv"]);
        assert_eq!(self_and_ancestors("/").count(), 0);
    }
}
