//! The plain data that retention decisions are made on.
//!
//! `inventory` builds a [`Library`] from Jellyfin, Radarr and Sonarr; `policy` reads it and never does
//! I/O. Everything here is owned, cheap to construct in tests, and says nothing about HTTP.
//!
//! Watch state is kept per counted user (the `[jellyfin] users` of the config, in that order) so that
//! `watched_by = "any" | "all"` is decided by policy, not by the fetcher.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use smallvec::SmallVec;

mod quality;

pub use quality::{
    audio_label, is_lossless_codec, quality_label, Channels, Qualities, Quality, QualityId,
};

/// One counted Jellyfin user's view of an item, in 8 bytes: a library holds one per touched
/// episode and counted user. Jellyfin's `UserData.LastPlayedDate` is held in nanoseconds since
/// the Unix epoch, `i64::MIN` when absent, in the upper 62 bits; the two lowest bits, which
/// Jellyfin's 100 ns ticks never set, say played and favourite. Moments outside 1677–2262 are
/// clamped to those years: still long past or far ahead.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct UserView(i64);

const PLAYED: i64 = 1;
const FAVORITE: i64 = 2;
const FLAGS: i64 = PLAYED | FAVORITE;
/// No last play. Its flag bits are clear, so a view's moment is its bits without them.
const NEVER: i64 = i64::MIN;

impl Default for UserView {
    /// Untouched: not played, not a favourite, never played.
    fn default() -> Self {
        UserView(NEVER)
    }
}

impl std::fmt::Debug for UserView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserView")
            .field("played", &self.played())
            .field("favorite", &self.favorite())
            .field("last_played", &self.last_played())
            .finish()
    }
}

impl UserView {
    pub fn new(played: bool, last_played: Option<Timestamp>, favorite: bool) -> Self {
        let nanos = last_played.map_or(NEVER, |t| {
            let n = t
                .as_nanosecond()
                .clamp(i128::from(NEVER + 4), i128::from(i64::MAX));
            i64::try_from(n).unwrap_or(i64::MAX) & !FLAGS
        });
        let mut view = UserView(nanos);
        view.set_played(played);
        view.set_favorite(favorite);
        view
    }

    /// Jellyfin's `UserData.Played`.
    pub fn played(self) -> bool {
        self.0 & PLAYED != 0
    }

    /// Jellyfin's `UserData.IsFavorite`.
    pub fn favorite(self) -> bool {
        self.0 & FAVORITE != 0
    }

    pub fn set_played(&mut self, played: bool) {
        self.set(PLAYED, played);
    }

    pub fn set_favorite(&mut self, favorite: bool) {
        self.set(FAVORITE, favorite);
    }

    fn set(&mut self, flag: i64, on: bool) {
        self.0 = if on { self.0 | flag } else { self.0 & !flag };
    }

    /// The moment's bits: the view without its flags.
    fn moment(self) -> i64 {
        self.0 & !FLAGS
    }

    /// Jellyfin's `UserData.LastPlayedDate`; absent when Jellyfin has none.
    pub fn last_played(self) -> Option<Timestamp> {
        (self.moment() != NEVER)
            .then(|| Timestamp::from_nanosecond(i128::from(self.moment())).ok())
            .flatten()
    }

    /// Both views in one: played or favourite by either, last played at the later moment.
    pub fn merge(&mut self, other: UserView) {
        // Absent is the smallest value, so the later moment wins over none.
        let flags = (self.0 | other.0) & FLAGS;
        self.0 = self.moment().max(other.moment()) | flags;
    }
}

/// The views of every counted user on one item, indexed like [`Library::users`].
/// An item a user has never touched has a default (unplayed, not favourite) view, and the list
/// may end before the users do: the users past its end have not touched the item, and an item
/// nobody touched holds none. With one counted user (the usual case) the view is held inline; a
/// library holds one of these per episode, most of them untouched.
#[derive(Debug, Clone, Default, Eq)]
pub struct Views(pub SmallVec<[UserView; 1]>);

impl PartialEq for Views {
    /// Equal when every user's view is: a list that ends early equals one padded with
    /// untouched views.
    fn eq(&self, other: &Self) -> bool {
        let n = self.0.len().max(other.0.len());
        (0..n).all(|i| self.get(i) == other.get(i))
    }
}

impl From<Vec<UserView>> for Views {
    fn from(views: Vec<UserView>) -> Self {
        Views(SmallVec::from_vec(views))
    }
}

impl Views {
    /// Views for `n` users, none of whom has touched the item: none held.
    pub fn untouched(_n: usize) -> Self {
        Views(SmallVec::new())
    }

    /// The view of the user at `i`.
    pub fn get(&self, i: usize) -> UserView {
        self.0.get(i).copied().unwrap_or_default()
    }

    /// The view of the user at `i`, to change; the list grows to hold it.
    pub fn get_mut(&mut self, i: usize) -> &mut UserView {
        self.slot(i, i + 1)
    }

    /// The view of the user at `i` of `users`, to change. A list that outgrows its inline
    /// place is given room for every user at once: users' listings arrive one after another,
    /// and growing by one view each time would move it (and leave a hole) once per user.
    fn slot(&mut self, i: usize, users: usize) -> &mut UserView {
        if self.0.len() <= i {
            if i >= self.0.inline_size() {
                // Exactly: a library holds one per touched episode.
                self.0.reserve_exact(users.max(i + 1) - self.0.len());
            }
            self.0.resize(i + 1, UserView::default());
        }
        &mut self.0[i]
    }

    /// Merges `view` into the view of the user at `i` of `users` ([`UserView::merge`]).
    pub fn merge_one(&mut self, i: usize, view: UserView, users: usize) {
        if view != UserView::default() {
            self.slot(i, users).merge(view);
        }
    }

    /// Merges each user's view in `from` into this one's, of `users` ([`UserView::merge`]).
    pub fn merge_from(&mut self, from: &Views, users: usize) {
        for (i, v) in from.0.iter().enumerate() {
            self.merge_one(i, *v, users);
        }
    }

    /// True when at least one counted user marked the item as a favourite.
    pub fn any_favorite(&self) -> bool {
        self.0.iter().any(|v| v.favorite())
    }

    /// True when at least one counted user has played the item.
    pub fn any_played(&self) -> bool {
        self.0.iter().any(|v| v.played())
    }
}

/// A file as the *arr sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    /// The *arr's id of the file (`movieFile.id` / `episodeFile.id`).
    pub id: i32,
    /// Absolute path as the *arr sees it (already mapped from Jellyfin's view where that differs).
    /// Boxed: a library holds one per episode, and never changes it.
    pub path: Box<str>,
    pub size: u64,
    /// Its quality and audio, in [`Library::qualities`]: two bytes, which fit in what the
    /// struct pads anyway.
    pub quality: QualityId,
}

/// A Jellyfin item id: a GUID, which Jellyfin writes as 32 hex digits (dashes are accepted on
/// the way in). Held as its 16 bytes: a library holds one per watched episode, and a "Leaving
/// Soon" collection is kept by these ids.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JellyfinId([u8; 16]);

impl JellyfinId {
    /// The id in Jellyfin's text, with or without dashes, in either case; `None` for anything
    /// else (an id the server made up in another shape is then simply not known).
    pub fn parse(text: &str) -> Option<JellyfinId> {
        let mut bytes = [0u8; 16];
        let mut digits = text.bytes().filter(|&b| b != b'-');
        for byte in &mut bytes {
            let hi = hex_value(digits.next()?)?;
            let lo = hex_value(digits.next()?)?;
            *byte = hi << 4 | lo;
        }
        digits.next().is_none().then_some(JellyfinId(bytes))
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for JellyfinId {
    /// 32 lowercase hex digits, as Jellyfin writes ids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for JellyfinId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JellyfinId({self})")
    }
}

impl Serialize for JellyfinId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The name of the *arr instance an entry belongs to (`radarr`, `4k`): deletions go to it and
/// to no other.
pub type Instance = Arc<str>;

/// A Radarr movie joined with its Jellyfin watch state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movie {
    /// The Radarr instance that holds it.
    pub instance: Instance,
    pub radarr_id: i32,
    /// Radarr's TMDB id: the same movie in two instances (HD and 4K) is one title with two
    /// copies, and the copies are decided together.
    pub tmdb_id: Option<i32>,
    pub title: String,
    pub year: Option<i32>,
    /// Labels of the movie's Radarr tags (resolved from ids), as Radarr spells them.
    pub tags: Vec<String>,
    /// `None` when Radarr has no file for the movie: there is nothing to delete.
    pub file: Option<MediaFile>,
    /// Radarr's movie folder; `DELETE /movie/{id}?deleteFiles=true` removes this whole folder.
    pub path: String,
    pub views: Views,
    /// Someone is playing it in Jellyfin right now.
    pub playing: bool,
    /// Jellyfin's item for it, when a counted user's listing showed it (every watched movie).
    pub jellyfin_id: Option<JellyfinId>,
}

impl Movie {
    /// Its title as people read it: `The Matrix (1999)`.
    pub fn titled(&self) -> String {
        movie_title(&self.title, self.year)
    }
}

/// A movie's year, when Radarr knows it (it writes 0 for none).
pub fn known_year(year: Option<i32>) -> Option<i32> {
    year.filter(|&y| y > 0)
}

/// A movie's title with its year, `The Matrix (1999)`; the title alone without a year (Radarr
/// writes 0 for none).
pub fn movie_title(title: &str, year: Option<i32>) -> String {
    match known_year(year) {
        Some(year) => format!("{title} ({year})"),
        None => title.to_owned(),
    }
}

/// Sonarr's notion of whether more episodes are coming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesStatus {
    Continuing,
    Ended,
    /// Announced, not yet aired.
    Upcoming,
    /// Sonarr's `deleted` (removed from TVDB) or anything unknown. Treated like `Continuing` where
    /// that is the safer choice.
    Other,
}

/// A Sonarr series joined with its Jellyfin watch state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// The Sonarr instance that holds it.
    pub instance: Instance,
    pub sonarr_id: i32,
    /// Sonarr's TVDB id: the same series in two instances (HD and 4K) is one title with two
    /// copies, and a keep tag or a favourite on one keeps both.
    pub tvdb_id: Option<i32>,
    pub title: String,
    pub status: SeriesStatus,
    /// Labels of the series' Sonarr tags.
    pub tags: Vec<String>,
    /// Series folder as Sonarr sees it.
    pub path: String,
    /// Favourite flags on the Jellyfin Series item (played state of a series is not used).
    pub views: Views,
    /// Every season Sonarr knows of, including those with no files and those not yet aired,
    /// so that "the newest season" is Sonarr's newest, not the newest one on disk.
    pub seasons: Vec<Season>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Season {
    /// 0 is specials.
    pub number: i32,
    /// Favourite flags on the Jellyfin Season item.
    pub views: Views,
    /// Jellyfin's Season item, as its episodes name it (`SeasonId`).
    pub jellyfin_id: Option<JellyfinId>,
    /// Episodes of the season as Sonarr lists them. Empty when inventory did not load them because
    /// the series had no candidate (nothing watched): such a season cannot produce a deletion.
    pub episodes: Vec<Episode>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    pub sonarr_id: i32,
    pub number: i32,
    /// `None` when Sonarr has no file for this episode. Several episodes may share one file
    /// (multi-episode files); they then carry the same file id.
    pub file: Option<MediaFile>,
    pub views: Views,
    pub playing: bool,
    /// Jellyfin's item for it, when a counted user's listing showed it.
    pub jellyfin_id: Option<JellyfinId>,
}

/// Something shelflife saw but could not tie to exactly one *arr entry. It is always kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmatched {
    /// `Movie`, `Episode`, `Series` … as Jellyfin calls it.
    pub kind: String,
    pub title: String,
    /// Jellyfin's path for it, when known.
    pub path: Option<String>,
    /// Why no match was made ("no Radarr movie with tmdb 603 or path /movies/…", "2 Radarr movies
    /// match imdb tt0133093").
    pub why: String,
}

/// Everything one retention pass decides on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Library {
    /// Names of the counted Jellyfin users, in the order of every [`Views`].
    pub users: Vec<String>,
    pub movies: Vec<Movie>,
    pub series: Vec<Series>,
    /// The root folders of each *arr instance; a file outside all of its own instance's root
    /// folders is never deleted.
    pub root_folders: BTreeMap<Instance, Vec<String>>,
    /// Watched Jellyfin items that match no *arr entry; reported and kept.
    pub unmatched: Vec<Unmatched>,
    /// What the servers told only in part: whatever it may protect is kept.
    pub doubts: Vec<Doubt>,
    /// The distinct qualities of its files, which [`MediaFile::quality`] points into.
    pub qualities: Qualities,
}

/// A part of the library that the servers described incompletely. Safety first: the policy
/// keeps everything such a doubt could cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Doubt {
    /// A counted user's favourites could not be read whole (the listing kept changing, or
    /// items in it could not be read): with `keep_favorites`, nothing can be proven unprotected.
    Favorites { why: String },
    /// Sonarr's answer about this series was incomplete (an episode record that could not be
    /// read): none of it is deleted.
    Series {
        instance: Instance,
        sonarr_id: i32,
        why: String,
    },
}

impl Library {
    /// The root folders of `instance`; none for an instance it does not know.
    pub fn roots_of(&self, instance: &str) -> &[String] {
        self.root_folders.get(instance).map_or(&[], Vec::as_slice)
    }
}

/// True when `path` lies inside `root`, comparing whole path components (so `/tv2/x` is not inside
/// `/tv`). Both are absolute *arr paths; a trailing `/` on the root does not matter.
pub fn path_is_under(path: &str, root: &str) -> bool {
    if path.split('/').any(|c| c == "..") {
        // A path that climbs out of its folder is not trusted to lie anywhere.
        return false;
    }
    let root = root.trim_end_matches('/');
    if root.is_empty() {
        // "/" (or an empty root) contains every absolute path.
        return path.starts_with('/');
    }
    match path.strip_prefix(root) {
        Some(rest) => rest.starts_with('/') && rest.len() > 1,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_under_root_compares_whole_components() {
        assert!(path_is_under("/tv/Show/S01/e1.mkv", "/tv"));
        assert!(path_is_under("/tv/Show/S01/e1.mkv", "/tv/"));
        assert!(!path_is_under("/tv2/Show/e1.mkv", "/tv"));
        assert!(!path_is_under("/tv", "/tv"));
        assert!(!path_is_under("/tv/", "/tv"));
        assert!(!path_is_under("/movies/x.mkv", "/tv"));
        assert!(path_is_under("/x.mkv", "/"));
        assert!(!path_is_under("/tv/../etc/passwd", "/tv"));
    }

    #[test]
    fn a_user_view_keeps_its_moment_and_merges_to_the_later_one() {
        assert_eq!(std::mem::size_of::<UserView>(), 8);
        let t: Timestamp = "2024-05-03T10:00:00.1234567Z".parse().unwrap();
        let early: Timestamp = "1001-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(UserView::new(true, Some(t), false).last_played(), Some(t));
        assert_eq!(UserView::new(true, None, false).last_played(), None);
        let clamped = UserView::new(true, Some(early), false)
            .last_played()
            .unwrap();
        assert!(clamped > early && clamped.as_second() < -9_000_000_000);
        let mut v = UserView::new(false, None, true);
        v.merge(UserView::new(true, Some(t), false));
        assert!(v.played() && v.favorite() && v.last_played() == Some(t));
        v.merge(UserView::new(true, Some(early), false));
        assert_eq!(v.last_played(), Some(t));
    }

    #[test]
    fn a_jellyfin_id_reads_both_spellings_and_writes_jellyfins() {
        let id = JellyfinId::parse("0123456789ABCDEF0123456789abcdef").unwrap();
        assert_eq!(id.to_string(), "0123456789abcdef0123456789abcdef");
        let dashed = JellyfinId::parse("01234567-89ab-cdef-0123-456789abcdef").unwrap();
        assert_eq!(dashed, id);
        assert_eq!(JellyfinId::parse("0123"), None);
        assert_eq!(JellyfinId::parse("0123456789abcdef0123456789abcdef0"), None);
        assert_eq!(JellyfinId::parse("g123456789abcdef0123456789abcdef"), None);
        assert_eq!(std::mem::size_of::<Option<JellyfinId>>(), 17);
    }

    #[test]
    fn a_file_stays_as_small_as_before_it_had_a_quality() {
        // A library holds one per episode: the quality's id lies in the padding after the id.
        assert_eq!(std::mem::size_of::<MediaFile>(), 32);
        assert_eq!(std::mem::size_of::<Option<MediaFile>>(), 32);
    }

    #[test]
    fn a_user_views_flags_and_moment_stay_apart() {
        let t: Timestamp = "2024-05-03T10:00:00.1234567Z".parse().unwrap();
        let mut v = UserView::new(true, Some(t), false);
        v.set_favorite(true);
        v.set_played(false);
        assert!(!v.played() && v.favorite() && v.last_played() == Some(t));
        let far: Timestamp = "9000-01-01T00:00:00Z".parse().unwrap();
        let v = UserView::new(true, Some(far), true);
        assert!(v.played() && v.favorite() && v.last_played().unwrap().as_second() > 0);
        assert_eq!(UserView::new(false, None, false), UserView::default());
    }

    #[test]
    fn views_that_outgrow_their_inline_place_make_room_for_every_user_at_once() {
        let seen = UserView::new(true, None, false);
        let mut v = Views::untouched(5);
        v.merge_one(0, seen, 5);
        assert!(!v.0.spilled());
        v.merge_one(2, seen, 5);
        assert_eq!((v.0.len(), v.0.capacity()), (3, 5));
        v.merge_one(4, seen, 5);
        assert_eq!((v.0.len(), v.0.capacity()), (5, 5));
        assert!(v.get(0).played() && !v.get(1).played() && v.get(4).played());
        // An untouched view adds nothing.
        let mut w = Views::untouched(5);
        w.merge_one(3, UserView::default(), 5);
        assert!(w.0.is_empty());
    }

    #[test]
    fn views_any() {
        let mut v = Views::untouched(2);
        assert!(!v.any_played() && !v.any_favorite());
        v.get_mut(1).set_played(true);
        v.get_mut(0).set_favorite(true);
        assert!(v.any_played() && v.any_favorite());
        assert_eq!((v.get(1).played(), v.get(5)), (true, UserView::default()));
    }
}
