//! Movies: one decision per watched Radarr movie.
//!
//! A movie goes through `DELETE /movie/{id}?deleteFiles=true`, which removes Radarr's whole movie
//! folder, so both the file and that folder must lie inside its own Radarr's root folders.
//!
//! The same movie in several Radarrs (HD and 4K, by TMDB id) is one title with several copies:
//! a keep tag, a favourite or a play now on any copy keeps every copy, and with
//! `copies = "together"` the title is watched when any copy was.

use std::borrow::Cow;

use jiff::Timestamp;

use crate::library::{path_is_under, Movie, Views};
use crate::plan::{Decision, Kind, Reason, Target, Title, Verdict};
use crate::rules::Copies;

use super::{copies, other_copy, title_ranks, Collector, Ctx, Played, SortKey};

pub(super) fn decide(ctx: &Ctx, movies: &[Movie], out: &mut Collector) {
    let ranks = title_ranks(movies.iter().map(|m| (m.title.as_str(), m.radarr_id)));
    let copies = copies(movies, |m| m.tmdb_id, |m| &m.instance);
    for (i, (movie, rank)) in movies.iter().zip(ranks).enumerate() {
        let others = copies.get(&i).map_or(&[][..], Vec::as_slice);
        let views = match ctx.rules.copies {
            Copies::Together if !others.is_empty() => {
                let mut merged = movie.views.clone();
                for other in others {
                    merge(&mut merged, &other.views);
                }
                Cow::Owned(merged)
            }
            _ => Cow::Borrowed(&movie.views),
        };
        let Some(played) = ctx.watch(&views) else {
            out.unwatched.movies += 1;
            continue;
        };
        let (verdict, reason, watched_at) = match verdict(ctx, movie, others, played) {
            Ok((at, days_ago)) => (
                Verdict::Delete,
                Reason::Watched { days_ago },
                Some(at.as_second()),
            ),
            Err(reason) => (Verdict::Keep, reason, None),
        };
        let key = SortKey::movie(rank);
        out.decisions.push((
            key,
            Decision {
                verdict,
                kind: Kind::Movie,
                title: Title::movie(&movie.title, movie.year),
                target: Target::Radarr {
                    instance: movie.instance.clone(),
                    movie_id: movie.radarr_id,
                },
                bytes: movie.file.as_ref().map_or(0, |f| f.size),
                reason,
                watched_at: watched_at.into(),
                jellyfin_id: movie.jellyfin_id,
                quality: Ctx::quality(movie.file.as_ref()),
            },
        ));
    }
}

fn merge(into: &mut Views, from: &Views) {
    into.merge_from(from, from.0.len());
}

/// `Ok((watched_at, days_ago))` when the movie may go, else the first reason that keeps it, in
/// rule order:
/// its own playing, keep tag and favourite, then those of its other copies, then its file (none,
/// outside the root folders, lossless audio), then its watch state. Lossless audio keeps this
/// copy only: it is the file's, not the title's.
fn verdict(
    ctx: &Ctx,
    movie: &Movie,
    others: &[&Movie],
    played: Played,
) -> Result<(Timestamp, u32), Reason> {
    if let Some(reason) = kept_itself(ctx, movie) {
        return Err(reason);
    }
    for other in others {
        if let Some(reason) = kept_itself(ctx, other) {
            return Err(other_copy(&other.instance, reason));
        }
    }
    let Some(file) = &movie.file else {
        return Err(Reason::NoFile);
    };
    let roots = ctx.roots(&movie.instance);
    for path in [&*file.path, movie.path.as_str()] {
        if !roots.iter().any(|root| path_is_under(path, root)) {
            return Err(Reason::OutsideRootFolder { path: path.into() });
        }
    }
    if let Some(reason) = ctx.lossless(file) {
        return Err(reason);
    }
    ctx.watch_verdict(played, &file.path)
}

/// What keeps `movie` and, being on one copy, every copy of it.
fn kept_itself(ctx: &Ctx, movie: &Movie) -> Option<Reason> {
    if movie.playing {
        return Some(Reason::Playing);
    }
    ctx.keep_tag(&movie.tags)
        .or_else(|| ctx.favorite(&movie.views))
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
        assert_eq!(
            d.target,
            Target::Radarr {
                instance: "radarr".into(),
                movie_id: 42
            }
        );
        assert_eq!(d.bytes, 1000);
        assert_eq!(plan.bytes_to_delete(), 1000);
    }

    /// Dune in the HD Radarr (`radarr`, /movies) and in the 4K one (`4k`, /movies4k).
    fn two_copies(hd: Movie, uhd: Movie) -> crate::library::Library {
        let mut lib = library(vec![hd, uhd], vec![]);
        lib.root_folders
            .insert("4k".into(), vec!["/movies4k".to_string()]);
        lib
    }

    fn hd() -> Movie {
        movie(1, "Dune").year(2021).tmdb(438631)
    }

    fn uhd() -> Movie {
        let mut m = movie(1, "Dune").year(2021).tmdb(438631);
        m.instance = "4k".into();
        m.path = "/movies4k/Dune".into();
        if let Some(f) = &mut m.file {
            f.path = "/movies4k/Dune/Dune.mkv".into();
        }
        m
    }

    /// Each decision as "verdict instance: reason".
    fn by_instance(plan: &crate::plan::Plan) -> Vec<String> {
        let mut lines: Vec<String> = plan
            .decisions
            .iter()
            .map(|d| {
                format!(
                    "{} {}: {}",
                    d.verdict.as_str(),
                    d.target.instance(),
                    d.reason
                )
            })
            .collect();
        lines.sort();
        lines
    }

    use crate::library::Movie;
    use crate::rules::Copies;

    #[test]
    fn copies_together_go_together_and_separate_copies_alone() {
        let lib = two_copies(hd().watched(days(10)), uhd());
        let plan_together = plan(&lib, &rules(), now());
        assert_eq!(
            by_instance(&plan_together),
            [
                "delete 4k: watched 10 days ago",
                "delete radarr: watched 10 days ago"
            ]
        );
        let separate = Rules {
            copies: Copies::Separate,
            ..rules()
        };
        let plan_separate = plan(&lib, &separate, now());
        assert_eq!(
            by_instance(&plan_separate),
            ["delete radarr: watched 10 days ago"]
        );
        assert_eq!(plan_separate.unwatched.movies, 1);
    }

    #[test]
    fn a_keep_on_any_copy_keeps_every_copy() {
        let separate = Rules {
            copies: Copies::Separate,
            ..rules()
        };
        #[rustfmt::skip]
        let cases = [
            ("keep tag on the 4K copy", rules(), hd().watched(days(10)), uhd().watched(days(10)).tag("keep"),
                vec!["keep 4k: keep tag \"keep\"", "keep radarr: keep tag \"keep\" on the 4k copy"]),
            ("keep tag on the 4K copy, copies apart", separate.clone(), hd().watched(days(10)), uhd().tag("keep"),
                vec!["keep radarr: keep tag \"keep\" on the 4k copy"]),
            ("favourite on the HD copy", rules(), hd().fav(), uhd().watched(days(10)),
                vec!["keep 4k: favourite of ann on the radarr copy", "keep radarr: favourite of ann"]),
            ("the 4K copy playing now", rules(), hd().watched(days(10)), uhd().playing(),
                vec!["keep 4k: playing right now", "keep radarr: playing right now on the 4k copy"]),
            ("within grace on one copy dates the title", rules(), hd().watched(days(10)), uhd().watched(days(1)),
                vec!["keep 4k: within grace, 4 days left", "keep radarr: within grace, 4 days left"]),
            ("within grace on one copy, copies apart", separate, hd().watched(days(10)), uhd().watched(days(1)),
                vec!["keep 4k: within grace, 4 days left", "delete radarr: watched 10 days ago"]),
        ];
        for (case, rules, hd, uhd, expected) in cases {
            let mut expected = expected;
            expected.sort();
            assert_eq!(
                by_instance(&plan(&two_copies(hd, uhd), &rules, now())),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn only_the_same_movie_in_another_instance_is_a_copy() {
        // Another movie in the 4K Radarr, and the same TMDB id twice in one Radarr.
        let mut other = uhd().tag("keep");
        other.tmdb_id = Some(1);
        let lib = two_copies(hd().watched(days(10)), other);
        assert_eq!(
            by_instance(&plan(&lib, &rules(), now())),
            ["delete radarr: watched 10 days ago"]
        );
        let twin = hd().tag("keep");
        let lib = library(vec![hd().watched(days(10)), twin], vec![]);
        assert_eq!(
            by_instance(&plan(&lib, &rules(), now())),
            ["delete radarr: watched 10 days ago"]
        );
    }

    #[test]
    fn a_copy_must_lie_in_its_own_instances_root_folders() {
        // The 4K Radarr's movie with its file under the HD Radarr's root folder.
        let mut stray = hd().watched(days(10));
        stray.instance = "4k".into();
        let lib = two_copies(movie(2, "Heat"), stray);
        assert_eq!(
            by_instance(&plan(&lib, &rules(), now())),
            ["keep 4k: file outside the root folders: /movies/Dune/Dune.mkv"]
        );
        let mut lost = uhd().watched(days(10));
        lost.instance = "8k".into();
        let lib = two_copies(movie(2, "Heat"), lost);
        assert!(by_instance(&plan(&lib, &rules(), now()))[0].starts_with("keep 8k: file outside"));
    }

    /// Movies under /movies sit on /srv/media, at `free` % free (or unmeasured), whose tiers
    /// are 3 days below 15 % and 1 day below 5 %.
    fn pressed(free: Option<f64>) -> crate::policy::SpacePressure {
        use crate::rules::GraceTier;
        crate::policy::SpacePressure {
            mounts: vec![crate::policy::MountPressure {
                mount: "/srv/media".into(),
                root_folders: vec!["/movies".into()],
                free: free.map(|f: f64| ((f * 10.0) as u64, 1000)),
                target_bytes: None,
                tiers: vec![
                    GraceTier {
                        below_free_percent: 15.0,
                        grace_days: 3,
                    },
                    GraceTier {
                        below_free_percent: 5.0,
                        grace_days: 1,
                    },
                ],
            }],
        }
    }

    #[test]
    fn the_grace_shortens_as_the_free_space_of_the_files_mount_drops() {
        use crate::policy::plan_under;
        let lib = || library(vec![movie(1, "Heat").watched(days(2))], vec![]);
        #[rustfmt::skip]
        let cases = [
            (None, "keep movie Heat: within grace, 3 days left"),
            (Some(40.0), "keep movie Heat: within grace, 3 days left"),
            (Some(10.0), "keep movie Heat: within grace, 1 day left"),
            (Some(4.0), "delete movie Heat: watched 2 days ago"),
        ];
        for (free, expected) in cases {
            let plan = plan_under(&lib(), &rules(), &pressed(free), now());
            assert_eq!(lines(&plan), [expected], "{free:?}");
            assert_eq!(
                plan.low_space
                    .iter()
                    .map(|l| l.grace_days)
                    .collect::<Vec<_>>(),
                match free {
                    Some(f) if f < 5.0 => vec![1],
                    Some(f) if f < 15.0 => vec![3],
                    _ => vec![],
                },
                "{free:?}"
            );
        }
        // A file on no mount with tiers keeps the rules' grace.
        let mut elsewhere = movie(2, "Ran").watched(days(2));
        elsewhere.file = elsewhere.file.map(|mut f| {
            f.path = "/movies2/Ran/Ran.mkv".into();
            f
        });
        let mut lib = library(vec![elsewhere], vec![]);
        lib.root_folders
            .insert("radarr".into(), vec!["/movies".into(), "/movies2".into()]);
        lib.movies[0].path = "/movies2/Ran".into();
        let plan = plan_under(&lib, &rules(), &pressed(Some(1.0)), now());
        assert_eq!(lines(&plan), ["keep movie Ran: within grace, 3 days left"]);
        // A tier longer than the rules' grace does not lengthen it.
        let long = Rules {
            grace_days: 1,
            ..rules()
        };
        let plan = plan_under(
            &library(vec![movie(1, "Heat").watched(days(2))], vec![]),
            &long,
            &pressed(Some(10.0)),
            now(),
        );
        assert_eq!(lines(&plan), ["delete movie Heat: watched 2 days ago"]);
        assert!(plan.low_space.is_empty());
    }

    #[test]
    fn keep_lossless_keeps_a_lossless_track_and_only_when_asked() {
        let keep = Rules {
            keep_lossless: true,
            ..rules()
        };
        #[rustfmt::skip]
        let cases = [
            ("TrueHD Atmos", &keep, "keep movie Dune: lossless audio (TrueHD Atmos)"),
            ("DTS-HD MA", &keep, "keep movie Dune: lossless audio (DTS-HD MA)"),
            ("DTS-X", &keep, "keep movie Dune: lossless audio (DTS-X)"),
            ("FLAC", &keep, "keep movie Dune: lossless audio (FLAC)"),
            ("PCM", &keep, "keep movie Dune: lossless audio (PCM)"),
            ("DTS-HD HRA", &keep, "delete movie Dune: watched 10 days ago"),
            ("DTS", &keep, "delete movie Dune: watched 10 days ago"),
            ("EAC3 Atmos", &keep, "delete movie Dune: watched 10 days ago"),
            ("TrueHD Atmos", &rules(), "delete movie Dune: watched 10 days ago"),
        ];
        for (codec, rules, expected) in cases {
            let mut lib = library(vec![movie(1, "Dune").watched(days(10))], vec![]);
            set_audio(&mut lib, codec, "/Dune/");
            let plan = plan(&lib, rules, now());
            assert_eq!(lines(&plan), [expected], "{codec}");
            assert_eq!(plan.decisions[0].reason.code(), reason_code(expected));
            // The decision says what the file is, kept or deleted.
            let q = plan.decisions[0].quality(&plan);
            assert_eq!(q.audio_codec.as_deref(), Some(codec));
        }
        // A file Radarr told nothing about is not known to be lossless.
        let lib = library(vec![movie(1, "Dune").watched(days(10))], vec![]);
        let plan = plan(&lib, &keep, now());
        assert_eq!(lines(&plan), ["delete movie Dune: watched 10 days ago"]);
        assert!(plan.decisions[0].quality(&plan).is_unknown());
    }

    fn reason_code(line: &str) -> &'static str {
        if line.contains("lossless") {
            "lossless_audio"
        } else {
            "watched"
        }
    }

    #[test]
    fn lossless_audio_keeps_its_copy_not_the_other() {
        let keep = Rules {
            keep_lossless: true,
            ..rules()
        };
        let mut lib = two_copies(hd().watched(days(10)), uhd());
        set_audio(&mut lib, "TrueHD Atmos", "/movies4k/");
        assert_eq!(
            by_instance(&plan(&lib, &keep, now())),
            [
                "delete radarr: watched 10 days ago",
                "keep 4k: lossless audio (TrueHD Atmos)"
            ]
        );
    }

    #[test]
    fn lossless_audio_comes_after_what_keeps_whatever_the_file() {
        let keep = Rules {
            keep_lossless: true,
            ..rules()
        };
        let cases = [
            (
                movie(1, "Dune").watched(days(10)).tag("keep"),
                "keep movie Dune: keep tag \"keep\"",
            ),
            (
                movie(1, "Dune")
                    .watched(days(10))
                    .file_at("/srv/Dune/Dune.mkv"),
                "keep movie Dune: file outside the root folders: /srv/Dune/Dune.mkv",
            ),
            // Before the grace: it stays past the grace as well.
            (
                movie(1, "Dune").watched(days(1)),
                "keep movie Dune: lossless audio (TrueHD)",
            ),
        ];
        for (movie, expected) in cases {
            let mut lib = library(vec![movie], vec![]);
            set_audio(&mut lib, "TrueHD", "/Dune/");
            assert_eq!(lines(&plan(&lib, &keep, now())), [expected]);
        }
    }
}
