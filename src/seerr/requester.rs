//! `keep_until_requester_watched`: a title someone asked for in Seerr stays until they have
//! watched it, even when the counted users have.
//!
//! The requester is the Jellyfin user whose id Seerr has for them (users who sign in with
//! Jellyfin), else the Jellyfin user of their name. A counted requester's views are in the
//! library already; another requester's played items are read from Jellyfin in pages, once per
//! pass for each requester of something the plan deletes, never once per title, and matched by
//! Jellyfin item id (what a counted user played carries the id of its item). Whatever cannot be
//! told (Seerr unread, a requester with no Jellyfin user, a played list that failed) keeps the
//! title, and says why.
//!
//! The I/O is [`keep_until_watched`]; what it decides is in the pure [`asked`], [`identify`]
//! and [`judge`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{keep_every_deletion, requester_name, Titles};
use crate::clients::jellyfin::{self, ItemFilter, JellyfinClient};
use crate::clients::seerr::{MediaType, Request, RequestStatus, SeerrUser};
use crate::library::{Episode, JellyfinId, Library, Movie, Series, Views};
use crate::plan::{Decision, Plan, Reason, Target, Verdict};

/// How many requesters' played lists are read at once.
const READS_AT_ONCE: usize = 4;

/// The requesters of the plan's deletions: for each deletion a request covers (by its index in
/// the plan), the Seerr users who asked for it, each once, oldest request first.
#[derive(Debug, Default)]
pub struct Asked<'r> {
    pub deletions: Vec<(usize, Vec<&'r SeerrUser>)>,
}

impl<'r> Asked<'r> {
    /// Every requester of a deletion, each once.
    pub fn requesters(&self) -> Vec<&'r SeerrUser> {
        let mut seen = HashSet::new();
        (self.deletions.iter())
            .flat_map(|(_, users)| users.iter().copied())
            .filter(|u| seen.insert(u.id))
            .collect()
    }
}

/// Who a Seerr requester is in Jellyfin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// The `i`-th counted user: the library holds their views.
    Counted(usize),
    /// Another Jellyfin user, by id: their played items must be read.
    Other { id: String, name: String },
    /// No Jellyfin user has Seerr's Jellyfin id for them, nor their name.
    Unknown,
}

/// What a requester has watched, as far as it could be learnt.
#[derive(Debug)]
pub enum Say {
    Counted(usize),
    /// The Jellyfin items they have played.
    Played(HashSet<JellyfinId>),
    Unknown,
    /// Their played items could not be read: why.
    Unreadable(String),
}

/// Keeps each deletion of `plan` that a request in Seerr covers until every requester of it
/// has watched it. `requests` unread keeps every deletion: any of them may have a requester.
pub async fn keep_until_watched(
    plan: &mut Plan,
    library: &Library,
    titles: &Titles,
    requests: Result<&[Request], String>,
    jellyfin: &JellyfinClient,
    users: &[jellyfin::User],
) {
    let requests = match requests {
        Ok(requests) => requests,
        Err(why) => {
            let why = format!(
                "Seerr's requests could not be read, and a requester may not have watched it: \
                 {why}"
            );
            keep_every_deletion(plan, &why);
            return;
        }
    };
    let asked = asked(plan, titles, requests);
    let mut says: HashMap<i64, Say> = HashMap::new();
    let mut reads = JoinSet::new();
    // As many lists at once as the inventory reads: a Jellyfin on a Pi builds each whole.
    let bound = Arc::new(Semaphore::new(READS_AT_ONCE));
    for requester in asked.requesters() {
        let say = match identify(requester, users, &library.users) {
            Who::Counted(i) => Say::Counted(i),
            Who::Unknown => {
                tracing::warn!(
                    seerr_user = requester.id,
                    "Seerr's requester {} matches no Jellyfin user by id or by name; what they \
                     asked for is kept",
                    requester_name(requester)
                );
                Say::Unknown
            }
            Who::Other { id, name } => {
                let (jellyfin, seerr_id, bound) = (jellyfin.clone(), requester.id, bound.clone());
                reads.spawn(async move {
                    let _turn = bound.acquire_owned().await;
                    (seerr_id, played(&jellyfin, &id, &name).await)
                });
                continue;
            }
        };
        says.insert(requester.id, say);
    }
    while let Some(read) = reads.join_next().await {
        match read {
            Ok((seerr_id, say)) => {
                says.insert(seerr_id, say);
            }
            // A read that panicked leaves its requester out of `says`: judged unreadable.
            Err(e) => tracing::error!("reading a requester's played items failed: {e}"),
        }
    }
    judge(plan, library, &asked, &says);
}

/// The items a Jellyfin user who is not counted has played.
async fn played(jellyfin: &JellyfinClient, id: &str, name: &str) -> Say {
    let mut ids = HashSet::new();
    let listing = jellyfin
        .items_each(
            Some(id),
            &["Movie", "Episode"],
            ItemFilter::Played,
            |page| {
                // An item whose UserData could not be read counts as unplayed, as for the
                // counted users.
                ids.extend(
                    (page.iter())
                        .filter(|item| item.user_data.as_ref().is_some_and(|u| u.played))
                        .filter_map(|item| JellyfinId::parse(&item.id)),
                );
            },
        )
        .await;
    match listing {
        // A listing that changed while it was read misses some played items: those are kept.
        Ok(_) => Say::Played(ids),
        Err(e) => {
            tracing::warn!(
                user = name,
                "the played items of {name} could not be read: {e}; what they asked for is kept"
            );
            Say::Unreadable(format!("the played items of {name} could not be read: {e}"))
        }
    }
}

/// For each deletion of `plan`, the users of the requests that cover it: a movie's by its TMDB
/// id, a season's or an episode's by its series' TVDB id and season number. A declined request
/// asked for nothing.
pub fn asked<'r>(plan: &Plan, titles: &Titles, requests: &'r [Request]) -> Asked<'r> {
    let mut movies: HashMap<i64, Vec<&SeerrUser>> = HashMap::new();
    let mut seasons: HashMap<(i64, i32), Vec<&SeerrUser>> = HashMap::new();
    for r in requests
        .iter()
        .filter(|r| r.status != RequestStatus::Declined)
    {
        let add = |users: &mut Vec<&'r SeerrUser>| {
            if !users.iter().any(|u| u.id == r.requested_by.id) {
                users.push(&r.requested_by);
            }
        };
        match (r.media.media_type, r.media.tvdb_id) {
            (MediaType::Movie, _) => add(movies.entry(r.media.tmdb_id).or_default()),
            (MediaType::Tv, Some(tvdb)) => {
                for s in &r.seasons {
                    add(seasons.entry((tvdb, s.season_number)).or_default());
                }
            }
            // Without a TVDB id, Sonarr's series cannot be told; Seerr fills it for nearly all.
            (MediaType::Tv, None) => {}
        }
    }
    let mut asked = Asked::default();
    for (i, d) in plan.decisions.iter().enumerate() {
        if d.verdict != Verdict::Delete {
            continue;
        }
        if let Some(users) = titles.requested(&d.target, &movies, &seasons) {
            asked.deletions.push((i, users.clone()));
        }
    }
    asked
}

/// The Jellyfin user Seerr's `requester` is: the one of Seerr's Jellyfin user id, else the one
/// of their Jellyfin name, username or display name (case-insensitive). `counted` are the
/// counted users as Jellyfin spells them.
pub fn identify(requester: &SeerrUser, users: &[jellyfin::User], counted: &[String]) -> Who {
    let by_id = (requester.jellyfin_user_id.as_deref())
        .and_then(JellyfinId::parse)
        .and_then(|id| users.iter().find(|u| JellyfinId::parse(&u.id) == Some(id)));
    let by_name = || {
        [
            &requester.jellyfin_username,
            &requester.username,
            &requester.display_name,
        ]
        .into_iter()
        .flatten()
        .find_map(|name| (users.iter()).find(|u| u.name.eq_ignore_ascii_case(name.trim())))
    };
    match by_id.or_else(by_name) {
        None => Who::Unknown,
        Some(user) => match counted.iter().position(|c| *c == user.name) {
            Some(i) => Who::Counted(i),
            None => Who::Other {
                id: user.id.clone(),
                name: user.name.clone(),
            },
        },
    }
}

/// Keeps each deletion in `asked` that one of its requesters has not watched (a movie, or every
/// episode whose file it deletes), naming the first such requester. A requester missing from
/// `says` is taken as unreadable.
pub fn judge(plan: &mut Plan, library: &Library, asked: &Asked<'_>, says: &HashMap<i64, Say>) {
    let movies: HashMap<(&str, i32), &Movie> = (library.movies.iter())
        .map(|m| ((&*m.instance, m.radarr_id), m))
        .collect();
    let series: HashMap<(&str, i32), &Series> = (library.series.iter())
        .map(|s| ((&*s.instance, s.sonarr_id), s))
        .collect();
    for (i, requesters) in &asked.deletions {
        let Some(d) = plan.decisions.get_mut(*i) else {
            continue;
        };
        let seen = Seen::of(d, &movies, &series);
        let reason = requesters.iter().find_map(|r| {
            let by = requester_name(r);
            match says.get(&r.id) {
                Some(Say::Counted(u)) if seen.by(|views, _| counted_played(views, *u)) => None,
                Some(Say::Played(ids))
                    if seen.by(|_, id| id.is_some_and(|id| ids.contains(&id))) =>
                {
                    None
                }
                Some(Say::Counted(_) | Say::Played(_)) => {
                    Some(Reason::RequesterNotWatched { by: by.into() })
                }
                Some(Say::Unknown) => Some(Reason::RequesterUnknown { by: by.into() }),
                Some(Say::Unreadable(why)) => Some(Reason::Incomplete {
                    why: why.as_str().into(),
                }),
                None => Some(Reason::Incomplete {
                    why: format!("what {by}, who requested it, has watched could not be read")
                        .into(),
                }),
            }
        });
        if let Some(reason) = reason {
            d.verdict = Verdict::Keep;
            d.reason = reason;
        }
    }
}

fn counted_played(views: &Views, user: usize) -> bool {
    views.0.get(user).is_some_and(|v| v.played())
}

/// What a deletion removes, as the library knows it: a movie, or the episodes whose files go.
enum Seen<'l> {
    Movie(Option<&'l Movie>),
    Episodes(Vec<&'l Episode>),
}

impl<'l> Seen<'l> {
    fn of(
        d: &Decision,
        movies: &HashMap<(&str, i32), &'l Movie>,
        series: &HashMap<(&str, i32), &'l Series>,
    ) -> Seen<'l> {
        match &d.target {
            Target::Radarr { instance, movie_id } => {
                Seen::Movie(movies.get(&(&**instance, *movie_id)).copied())
            }
            Target::Sonarr {
                instance,
                series_id,
                episode_file_ids,
                ..
            } => Seen::Episodes(
                (series.get(&(&**instance, *series_id)).into_iter())
                    .flat_map(|s| s.seasons.iter())
                    .flat_map(|s| s.episodes.iter())
                    .filter(|e| (e.file.as_ref()).is_some_and(|f| episode_file_ids.contains(&f.id)))
                    .collect(),
            ),
        }
    }

    /// Whether `played` holds for all of it (by its views and its Jellyfin id); false for
    /// nothing at all, which the library should not have let be planned.
    fn by(&self, played: impl Fn(&Views, Option<JellyfinId>) -> bool) -> bool {
        match self {
            Seen::Movie(m) => m.is_some_and(|m| played(&m.views, m.jellyfin_id)),
            Seen::Episodes(eps) => {
                !eps.is_empty() && eps.iter().all(|e| played(&e.views, e.jellyfin_id))
            }
        }
    }
}
