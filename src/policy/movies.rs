//! Movies: one decision per watched Radarr movie.
//!
//! A movie goes through `DELETE /movie/{id}?deleteFiles=true`, which removes Radarr's whole movie
//! folder, so both the file and that folder must lie inside Radarr's root folders.

use crate::library::{path_is_under, Movie};
use crate::plan::{Decision, Kind, Reason, Target, Verdict};

use super::{title_ranks, Collector, Ctx, Played, SortKey};

pub(super) fn decide(ctx: &Ctx, movies: &[Movie], out: &mut Collector) {
    let ranks = title_ranks(movies.iter().map(|m| (m.title.as_str(), m.radarr_id)));
    for (movie, rank) in movies.iter().zip(ranks) {
        let Some(played) = ctx.watch(&movie.views) else {
            out.unwatched.movies += 1;
            continue;
        };
        let (verdict, reason) = match verdict(ctx, movie, played) {
            Ok(days_ago) => (Verdict::Delete, Reason::Watched { days_ago }),
            Err(reason) => (Verdict::Keep, reason),
        };
        let key = SortKey {
            group: 0,
            rank,
            season: 0,
            episode: 0,
        };
        out.decisions.push((
            key,
            Decision {
                verdict,
                kind: Kind::Movie,
                title: title(movie),
                target: Target::Radarr {
                    movie_id: movie.radarr_id,
                },
                bytes: movie.file.as_ref().map_or(0, |f| f.size),
                reason,
            },
        ));
    }
}

/// `Ok(days_ago)` when the movie may go, else the first reason that keeps it, in rule order.
fn verdict(ctx: &Ctx, movie: &Movie, played: Played) -> Result<u32, Reason> {
    if movie.playing {
        return Err(Reason::Playing);
    }
    if let Some(reason) = ctx.keep_tag(&movie.tags) {
        return Err(reason);
    }
    if let Some(reason) = ctx.favorite(&movie.views) {
        return Err(reason);
    }
    let Some(file) = &movie.file else {
        return Err(Reason::NoFile);
    };
    for path in [&*file.path, movie.path.as_str()] {
        if !ctx
            .radarr_roots
            .iter()
            .any(|root| path_is_under(path, root))
        {
            return Err(Reason::OutsideRootFolder {
                path: path.to_owned(),
            });
        }
    }
    ctx.watch_verdict(played).map(|(_, days_ago)| days_ago)
}

fn title(movie: &Movie) -> String {
    match movie.year {
        Some(year) => format!("{} ({year})", movie.title),
        None => movie.title.clone(),
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::{Target, Unwatched};
    use crate::policy::plan;
    use crate::policy::testkit::*;
    use crate::rules::{Rules, WatchedBy};

    /// The one line the plan holds for a library of this single movie.
    fn decide_one(rules: &Rules, movie: crate::library::Movie) -> String {
        let plan = plan(&library(vec![movie], vec![]), rules, now());
        assert_eq!(plan.decisions.len(), 1, "{plan:#?}");
        lines(&plan).remove(0)
    }

    #[test]
    fn movie_rules() {
        let no_favs = Rules {
            keep_favorites: false,
            ..rules()
        };
        let shouty_tags = Rules {
            keep_tags: vec!["Keep".into(), "KIDS".into()],
            ..rules()
        };
        let m = || movie(1, "Heat").year(1995);
        #[rustfmt::skip]
        let cases = [
            ("watched past grace", rules(), m().watched(days(10)),
                "delete movie Heat (1995): watched 10 days ago"),
            ("no year", rules(), movie(1, "Heat").watched(days(10)),
                "delete movie Heat: watched 10 days ago"),
            ("exactly at grace", rules(), m().watched(days(5)),
                "delete movie Heat (1995): watched 5 days ago"),
            ("a second before grace ends", rules(), m().watched(days(5) - secs(1)),
                "keep movie Heat (1995): within grace, 1 day left"),
            ("days left round up", rules(), m().watched(days(1) + secs(1)),
                "keep movie Heat (1995): within grace, 4 days left"),
            ("no last-played date", rules(), m().views(vec![seen_undated()]),
                "keep movie Heat (1995): played, but Jellyfin has no last-played date"),
            ("keep tag, other case", rules(), m().watched(days(10)).tag("4k").tag("KEEP"),
                "keep movie Heat (1995): keep tag \"KEEP\""),
            ("keep tag, rule in other case", shouty_tags, m().watched(days(10)).tag("kids"),
                "keep movie Heat (1995): keep tag \"kids\""),
            ("a tag that is not a keep tag", rules(), m().watched(days(10)).tag("keeper"),
                "delete movie Heat (1995): watched 10 days ago"),
            ("favourite", rules(), m().watched(days(10)).fav(),
                "keep movie Heat (1995): favourite of ann"),
            ("favourite, favourites do not keep", no_favs, m().watched(days(10)).fav(),
                "delete movie Heat (1995): watched 10 days ago"),
            ("playing", rules(), m().watched(days(10)).playing(),
                "keep movie Heat (1995): playing right now"),
            ("no file", rules(), m().watched(days(10)).no_file(),
                "keep movie Heat (1995): no file on disk"),
            ("file outside the root folders", rules(),
                m().watched(days(10)).file_at("/movies2/Heat/Heat.mkv"),
                "keep movie Heat (1995): file outside the root folders: /movies2/Heat/Heat.mkv"),
            ("folder is the root folder itself", rules(), m().watched(days(10)).folder("/movies"),
                "keep movie Heat (1995): file outside the root folders: /movies"),
            // The first rule that applies names the reason.
            ("playing before keep tag", rules(), m().watched(days(10)).tag("keep").playing(),
                "keep movie Heat (1995): playing right now"),
            ("keep tag before favourite", rules(), m().watched(days(10)).fav().tag("keep"),
                "keep movie Heat (1995): keep tag \"keep\""),
            ("favourite before no file", rules(), m().watched(days(10)).fav().no_file(),
                "keep movie Heat (1995): favourite of ann"),
            ("no file before watch state", rules(), m().watched(days(1)).no_file(),
                "keep movie Heat (1995): no file on disk"),
            ("outside root before grace", rules(),
                m().watched(days(1)).file_at("/srv/Heat.mkv"),
                "keep movie Heat (1995): file outside the root folders: /srv/Heat.mkv"),
        ];
        for (case, rules, movie, expected) in cases {
            assert_eq!(decide_one(&rules, movie), expected, "{case}");
        }
    }

    #[test]
    fn watched_by_any_or_all_users() {
        let old = seen(at(days(12)));
        let recent = seen(at(days(8)));
        let all = Rules {
            watched_by: WatchedBy::All,
            ..rules()
        };
        #[rustfmt::skip]
        let cases = [
            (rules(), vec![old, unseen()], "delete movie Up: watched 12 days ago"),
            (rules(), vec![unseen(), old], "delete movie Up: watched 12 days ago"),
            (all.clone(), vec![old, unseen()], "keep movie Up: not watched by bob yet"),
            (all.clone(), vec![unseen(), old], "keep movie Up: not watched by ann yet"),
            // The latest play among the users dates the movie.
            (all.clone(), vec![old, recent], "delete movie Up: watched 8 days ago"),
            (rules(), vec![recent, old], "delete movie Up: watched 8 days ago"),
            (rules(), vec![old, seen(at(days(2)))], "keep movie Up: within grace, 3 days left"),
            (rules(), vec![old, seen_undated()], "keep movie Up: played, but Jellyfin has no last-played date"),
            (all, vec![seen_undated(), old], "keep movie Up: played, but Jellyfin has no last-played date"),
            (rules(), vec![old, fav()], "keep movie Up: favourite of bob"),
        ];
        for (rules, views, expected) in cases {
            let mut lib = library(vec![movie(7, "Up").views(views.clone())], vec![]);
            lib.users = vec!["ann".into(), "bob".into()];
            let plan = plan(&lib, &rules, now());
            assert_eq!(
                lines(&plan),
                vec![expected],
                "{:?} {views:?}",
                rules.watched_by
            );
        }
    }

    #[test]
    fn unplayed_movies_are_counted_not_decided() {
        let lib = library(
            vec![
                movie(1, "Alien").watched(days(9)),
                movie(2, "Brazil"),
                // A favourite nobody played is still unwatched.
                movie(3, "Cars").fav(),
                movie(4, "Dune").no_file(),
            ],
            vec![],
        );
        let plan = plan(&lib, &rules(), now());
        assert_eq!(lines(&plan), vec!["delete movie Alien: watched 9 days ago"]);
        assert_eq!(
            plan.unwatched,
            Unwatched {
                movies: 3,
                episodes: 0
            }
        );
    }

    #[test]
    fn movie_deletion_targets_radarr_with_file_size() {
        let plan = plan(
            &library(vec![movie(42, "Heat").watched(days(10))], vec![]),
            &rules(),
            now(),
        );
        let d = &plan.decisions[0];
        assert_eq!(d.target, Target::Radarr { movie_id: 42 });
        assert_eq!(d.bytes, 1000);
        assert_eq!(plan.bytes_to_delete(), 1000);
    }
}
