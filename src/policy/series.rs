//! Series: each Sonarr series is cut into units — whole seasons, or the files of single episodes —
//! and each unit that someone has played gets one decision.
//!
//! Which cut applies is `series_mode` (hybrid: ended series by season, others by episode); specials
//! (season 0) always go by episode. The newest season of a series that is not ended stays whole
//! while `protect_latest_season` holds.
//!
//! Sonarr deletes files, and several episodes can share one file, so the unit of deletion is the
//! file: a file goes only when every episode in it may go. A last guard per series turns back any
//! deletion that would take a file still holding an episode not deleted with it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;

use crate::library::{path_is_under, Episode, MediaFile, QualityId, Season, Series, SeriesStatus};
use crate::plan::{Decision, Ids, Kind, Reason, Target, Title, Verdict};
use crate::rules::SeriesMode;

use super::{copies, other_copy, title_ranks, Collector, Ctx, Played, SortKey};

/// A season decision sorts before the episode decisions of the same season.
const SEASON_POSITION: i32 = i32::MIN;

pub(super) fn decide(ctx: &Ctx, all: &[Series], out: &mut Collector) {
    let ranks = title_ranks(all.iter().map(|s| (s.title.as_str(), s.sonarr_id)));
    // The same series in two Sonarrs (by TVDB id): a keep tag or a favourite of the series on
    // either copy keeps both. Their episodes are decided each on its own.
    let copies = copies(all, |s| s.tvdb_id, |s| &s.instance);
    for (i, (series, rank)) in all.iter().zip(ranks).enumerate() {
        let others = copies.get(&i).map_or(&[][..], Vec::as_slice);
        let on_a_copy = |reason: &dyn Fn(&Series) -> Option<Reason>| {
            reason(series).or_else(|| {
                others
                    .iter()
                    .find_map(|o| reason(o).map(|r| other_copy(&o.instance, r)))
            })
        };
        let show = Show {
            series,
            name: series.title.as_str().into(),
            rank,
            keep_tag: on_a_copy(&|s| ctx.keep_tag(&s.tags)),
            favorite: on_a_copy(&|s| ctx.favorite(&s.views)),
        };
        let mut decisions = Vec::new();
        decide_series(ctx, &show, &mut decisions, out);
        guard_shared_files(series, &mut decisions);
        out.decisions.extend(decisions);
    }
}

/// What holds for the whole series, worked out once.
struct Show<'a> {
    series: &'a Series,
    /// Its title, shared by the titles of its decisions.
    name: Arc<str>,
    rank: usize,
    keep_tag: Option<Reason>,
    favorite: Option<Reason>,
}

/// One episode, judged on its own.
struct Judged<'a> {
    ep: &'a Episode,
    played: Option<Played>,
    verdict: EpVerdict,
}

enum EpVerdict {
    /// Watched, dated, past grace, and nothing keeps it.
    Ready { at: Timestamp, days_ago: u32 },
    /// The first reason, in rule order, that keeps it.
    Kept(Reason),
    /// Nobody played it and nothing else keeps it.
    Unplayed,
}

type Decisions = Vec<(SortKey, Decision)>;

fn decide_series(ctx: &Ctx, show: &Show, decisions: &mut Decisions, out: &mut Collector) {
    let series = show.series;
    let by_season = match ctx.rules.series_mode {
        SeriesMode::Episode => false,
        SeriesMode::Season => true,
        SeriesMode::Hybrid => series.status == SeriesStatus::Ended,
    };
    // Sonarr's newest season, even one with no files yet: that is the one still airing.
    let latest = series
        .seasons
        .iter()
        .map(|s| s.number)
        .filter(|&n| n > 0)
        .max();
    let protect = ctx.rules.protect_latest_season && series.status != SeriesStatus::Ended;

    for season in &series.seasons {
        if protect && Some(season.number) == latest {
            let played = season
                .episodes
                .iter()
                .filter(|e| ctx.watch(&e.views).is_some())
                .count();
            out.unwatched.episodes += season.episodes.len() - played;
            if played > 0 {
                let (verdict, reason) = (Verdict::Keep, Reason::LatestSeason);
                decisions.push(season_decision(ctx, show, season, verdict, reason));
            }
            continue;
        }
        let season_fav = ctx.favorite(&season.views);
        let judged: Vec<Judged> = season
            .episodes
            .iter()
            .map(|ep| judge(ctx, show, season_fav.as_ref(), ep))
            .collect();
        out.unwatched.episodes += judged.iter().filter(|j| j.played.is_none()).count();
        if by_season && season.number != 0 {
            decide_whole_season(ctx, show, season, &judged, decisions);
        } else {
            decide_by_file(show, season, &judged, decisions);
        }
    }
}

fn judge<'a>(ctx: &Ctx, show: &Show, season_fav: Option<&Reason>, ep: &'a Episode) -> Judged<'a> {
    let played = ctx.watch(&ep.views);
    let verdict = match (blocker(ctx, show, season_fav, ep), played) {
        (Some(reason), _) => EpVerdict::Kept(reason),
        (None, None) => EpVerdict::Unplayed,
        // No blocker: the episode has a file (a missing one is `NoFile`).
        (None, Some(played)) => match ctx.watch_verdict(played, ep_path(ep)) {
            Ok((at, days_ago)) => EpVerdict::Ready { at, days_ago },
            Err(reason) => EpVerdict::Kept(reason),
        },
    };
    Judged {
        ep,
        played,
        verdict,
    }
}

/// What keeps an episode regardless of its watch state, in rule order.
fn blocker(ctx: &Ctx, show: &Show, season_fav: Option<&Reason>, ep: &Episode) -> Option<Reason> {
    if ep.playing {
        return Some(Reason::Playing);
    }
    let favorite = || {
        show.favorite
            .clone()
            .or_else(|| season_fav.cloned())
            .or_else(|| ctx.favorite(&ep.views))
    };
    show.keep_tag
        .clone()
        .or_else(favorite)
        .or_else(|| match &ep.file {
            None => Some(Reason::NoFile),
            Some(file) => outside_root(ctx, show, file).or_else(|| ctx.lossless(file)),
        })
}

fn ep_path(ep: &Episode) -> &str {
    ep.file.as_ref().map_or("", |f| &f.path)
}

fn outside_root(ctx: &Ctx, show: &Show, file: &MediaFile) -> Option<Reason> {
    let inside = ctx
        .roots(&show.series.instance)
        .iter()
        .any(|r| path_is_under(&file.path, r));
    (!inside).then(|| Reason::OutsideRootFolder {
        path: file.path.clone(),
    })
}

/// Season granularity: the season goes whole when enough of it is ready and nothing in it is
/// kept for a reason stronger than its watch state.
fn decide_whole_season(
    ctx: &Ctx,
    show: &Show,
    season: &Season,
    judged: &[Judged],
    decisions: &mut Decisions,
) {
    let with_file: Vec<&Judged> = judged.iter().filter(|j| j.ep.file.is_some()).collect();
    let total = with_file.len();
    if total == 0 {
        return;
    }
    let threshold = ctx.rules.partial_season_threshold;
    let reached = |n: usize| n > 0 && n as f64 / total as f64 >= threshold;
    // The latest watch among the ready episodes dates the season.
    let mut ready = 0;
    let mut latest: Option<(Timestamp, u32)> = None;
    for j in &with_file {
        if let EpVerdict::Ready { at, days_ago } = j.verdict {
            ready += 1;
            if latest.is_none_or(|(t, _)| at > t) {
                latest = Some((at, days_ago));
            }
        }
    }
    let blocked = season_blocker(ctx, show, season, judged);
    let (verdict, reason) = match (blocked, latest) {
        (Some(reason), _) => (Verdict::Keep, reason),
        (None, Some((_, days_ago))) if reached(ready) => {
            let reason = if ready == total {
                Reason::SeasonComplete { days_ago }
            } else {
                Reason::SeasonThreshold {
                    watched: count(ready),
                    total: count(total),
                    days_ago,
                }
            };
            (Verdict::Delete, reason)
        }
        (None, _) => (Verdict::Keep, watch_reason(&with_file, ready, reached)),
    };
    if verdict == Verdict::Keep && !judged.iter().any(|j| j.played.is_some()) {
        return;
    }
    decisions.push(season_decision(ctx, show, season, verdict, reason));
}

/// A reason that keeps the whole season whatever its watch state: something in it is playing,
/// tagged, a favourite, outside the root folders, or (with `keep_lossless`) has lossless audio.
fn season_blocker(ctx: &Ctx, show: &Show, season: &Season, judged: &[Judged]) -> Option<Reason> {
    if judged.iter().any(|j| j.ep.playing) {
        return Some(Reason::Playing);
    }
    show.keep_tag
        .clone()
        .or_else(|| show.favorite.clone())
        .or_else(|| ctx.favorite(&season.views))
        .or_else(|| judged.iter().find_map(|j| ctx.favorite(&j.ep.views)))
        .or_else(|| {
            judged
                .iter()
                .find_map(|j| j.ep.file.as_ref().and_then(|f| outside_root(ctx, show, f)))
        })
        .or_else(|| {
            judged
                .iter()
                .find_map(|j| j.ep.file.as_ref().and_then(|f| ctx.lossless(f)))
        })
}

/// Why a season with no blocker is not ready to go: grace still running on enough watched
/// episodes, else plays that do not count yet, else too little watched.
fn watch_reason(with_file: &[&Judged], ready: usize, reached: impl Fn(usize) -> bool) -> Reason {
    let mut dated = 0;
    let mut most_left: Option<u32> = None;
    let mut undecided: Vec<&Reason> = Vec::new();
    for j in with_file {
        match (&j.played, &j.verdict) {
            (Some(Played::At(_)), EpVerdict::Kept(Reason::WithinGrace { days_left })) => {
                dated += 1;
                most_left = most_left.max(Some(*days_left));
            }
            (Some(Played::At(_)), _) => dated += 1,
            (Some(_), EpVerdict::Kept(reason)) => undecided.push(reason),
            _ => {}
        }
    }
    if let (true, Some(days_left)) = (reached(dated), most_left) {
        return Reason::WithinGrace { days_left };
    }
    if let Some(first) = undecided.first() {
        if reached(dated + undecided.len()) {
            return (*first).clone();
        }
    }
    Reason::PartialSeason {
        watched: count(ready),
        total: count(with_file.len()),
    }
}

/// One decision for a whole season. Its target names every episode of the season, also those
/// without a file, so that Sonarr unmonitors them and does not fetch them again.
fn season_decision(
    ctx: &Ctx,
    show: &Show,
    season: &Season,
    verdict: Verdict,
    reason: Reason,
) -> (SortKey, Decision) {
    let mut seen = HashSet::new();
    let mut file_ids = Ids::new();
    let mut bytes = 0;
    let mut files = Vec::new();
    for file in season.episodes.iter().filter_map(|e| e.file.as_ref()) {
        if seen.insert(file.id) {
            file_ids.push(file.id);
            bytes += file.size;
            files.push(file);
        }
    }
    // The latest play among the episodes that let it go.
    let watched_at = (verdict == Verdict::Delete)
        .then(|| {
            season
                .episodes
                .iter()
                .filter_map(|e| e.views.0.iter().filter_map(|v| v.last_played()).max())
                .max()
        })
        .flatten()
        .map(|t| t.as_second())
        .into();
    let decision = Decision {
        watched_at,
        verdict,
        kind: Kind::Season,
        title: Title::season(&show.name, season.number),
        target: Target::Sonarr {
            instance: show.series.instance.clone(),
            series_id: show.series.sonarr_id,
            season: season.number,
            episode_ids: season.episodes.iter().map(|e| e.sonarr_id).collect(),
            episode_file_ids: file_ids,
        },
        bytes,
        reason,
        // The season's own item; an episode of it when Jellyfin did not name the season.
        jellyfin_id: season
            .jellyfin_id
            .or_else(|| season.episodes.iter().find_map(|e| e.jellyfin_id)),
        quality: season_quality(ctx, &files),
    };
    (key(show, season.number, SEASON_POSITION), decision)
}

/// What a season's files are, in one: the quality that holds the most of its bytes among the
/// files with lossless audio when there are any (what a lossy download could not give back),
/// else among all its files. Files the *arr told nothing about do not count.
fn season_quality(ctx: &Ctx, files: &[&MediaFile]) -> QualityId {
    // A season has a quality or two: a list in the order they are met is enough.
    let mut bytes: Vec<(QualityId, u64)> = Vec::new();
    for file in files.iter().filter(|f| f.quality != QualityId::UNKNOWN) {
        match bytes.iter_mut().find(|(id, _)| *id == file.quality) {
            Some((_, n)) => *n += file.size,
            None => bytes.push((file.quality, file.size)),
        }
    }
    let qualities = &ctx.library.qualities;
    let rank = |&(id, n): &(QualityId, u64)| (qualities.get(id).lossless() == Some(true), n);
    // The first of the best, so that the choice follows the episodes' order.
    let best = bytes
        .iter()
        .fold(None, |best: Option<&(QualityId, u64)>, q| match best {
            Some(b) if rank(b) >= rank(q) => Some(b),
            _ => Some(q),
        });
    best.map_or(QualityId::UNKNOWN, |&(id, _)| id)
}

/// Episode granularity: one decision per file that holds a played episode, and one per played
/// episode without a file.
fn decide_by_file(show: &Show, season: &Season, judged: &[Judged], decisions: &mut Decisions) {
    let mut group_of: HashMap<i32, usize> = HashMap::new();
    let mut groups: Vec<(&MediaFile, Vec<&Judged>)> = Vec::new();
    for j in judged {
        match &j.ep.file {
            Some(file) => {
                let next = groups.len();
                let at = *group_of.entry(file.id).or_insert(next);
                if at == next {
                    groups.push((file, Vec::new()));
                }
                groups[at].1.push(j);
            }
            None if j.played.is_some() => {
                let reason = match &j.verdict {
                    EpVerdict::Kept(reason) => reason.clone(),
                    _ => Reason::NoFile,
                };
                decisions.push(file_decision(
                    show,
                    season,
                    &[j],
                    None,
                    Verdict::Keep,
                    reason,
                ));
            }
            None => {}
        }
    }
    for (file, mut group) in groups {
        if !group.iter().any(|j| j.played.is_some()) {
            continue;
        }
        group.sort_by_key(|j| j.ep.number);
        let (verdict, reason) = file_verdict(season.number, &group);
        decisions.push(file_decision(
            show,
            season,
            &group,
            Some(file),
            verdict,
            reason,
        ));
    }
}

/// A file goes only when every episode in it is ready. When one is not, the reason is a played
/// episode's own, else the episode that blocks the shared file.
fn file_verdict(season: i32, group: &[&Judged]) -> (Verdict, Reason) {
    let newest = group
        .iter()
        .map(|j| match j.verdict {
            EpVerdict::Ready { days_ago, .. } => Some(days_ago),
            _ => None,
        })
        .try_fold(u32::MAX, |acc, d| d.map(|d| acc.min(d)));
    if let Some(days_ago) = newest {
        return (Verdict::Delete, Reason::Watched { days_ago });
    }
    let own = group.iter().find_map(|j| match (&j.played, &j.verdict) {
        (Some(_), EpVerdict::Kept(reason)) => Some(reason.clone()),
        _ => None,
    });
    let reason = own.unwrap_or_else(|| {
        let blocking = group
            .iter()
            .find(|j| !matches!(j.verdict, EpVerdict::Ready { .. }))
            .map_or(0, |j| j.ep.number);
        Reason::SharedFile {
            episode: episode_label(season, blocking).into(),
        }
    });
    (Verdict::Keep, reason)
}

/// A decision on the episodes of one file (`episodes` sorted by number, at least one).
fn file_decision(
    show: &Show,
    season: &Season,
    episodes: &[&Judged],
    file: Option<&MediaFile>,
    verdict: Verdict,
    reason: Reason,
) -> (SortKey, Decision) {
    let first = episodes.first().map_or(0, |j| j.ep.number);
    let last = episodes.last().map_or(0, |j| j.ep.number);
    let title = Title::episodes(&show.name, season.number, first, last);
    let watched_at = episodes
        .iter()
        .filter_map(|j| match j.verdict {
            EpVerdict::Ready { at, .. } => Some(at.as_second()),
            _ => None,
        })
        .max()
        .filter(|_| verdict == Verdict::Delete)
        .into();
    let decision = Decision {
        watched_at,
        verdict,
        kind: Kind::Episode,
        title,
        target: Target::Sonarr {
            instance: show.series.instance.clone(),
            series_id: show.series.sonarr_id,
            season: season.number,
            episode_ids: episodes.iter().map(|j| j.ep.sonarr_id).collect(),
            episode_file_ids: file.map(|f| f.id).into_iter().collect(),
        },
        bytes: file.map_or(0, |f| f.size),
        reason,
        jellyfin_id: episodes.iter().find_map(|j| j.ep.jellyfin_id),
        quality: Ctx::quality(file),
    };
    (key(show, season.number, first), decision)
}

/// The last guard: a deletion may take a file only when every episode of the series held in that
/// file is deleted too. A deletion that fails this is turned into a keep. Turning one back can
/// uncover another, so it repeats until nothing changes.
fn guard_shared_files(series: &Series, decisions: &mut Decisions) {
    let mut holders: HashMap<i32, Vec<(i32, i32, i32)>> = HashMap::new();
    for season in &series.seasons {
        for ep in &season.episodes {
            if let Some(file) = &ep.file {
                holders
                    .entry(file.id)
                    .or_default()
                    .push((ep.sonarr_id, season.number, ep.number));
            }
        }
    }
    loop {
        let covered: HashSet<i32> = decisions
            .iter()
            .filter(|(_, d)| d.verdict == Verdict::Delete)
            .flat_map(|(_, d)| sonarr_ids(&d.target).0.iter().copied())
            .collect();
        let mut changed = false;
        for (_, d) in decisions.iter_mut() {
            if d.verdict != Verdict::Delete {
                continue;
            }
            let uncovered = sonarr_ids(&d.target)
                .1
                .iter()
                .flat_map(|fid| holders.get(fid).into_iter().flatten())
                .find(|(ep_id, _, _)| !covered.contains(ep_id));
            if let Some(&(_, season, number)) = uncovered {
                d.verdict = Verdict::Keep;
                d.reason = Reason::SharedFile {
                    episode: episode_label(season, number).into(),
                };
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// `(episode_ids, episode_file_ids)` of a Sonarr target; empty for anything else.
fn sonarr_ids(target: &Target) -> (&[i32], &[i32]) {
    match target {
        Target::Sonarr {
            episode_ids,
            episode_file_ids,
            ..
        } => (episode_ids, episode_file_ids),
        Target::Radarr { .. } => (&[], &[]),
    }
}

fn key(show: &Show, season: i32, episode: i32) -> SortKey {
    SortKey::series(show.rank, season, episode)
}

fn episode_label(season: i32, episode: i32) -> String {
    format!("S{season:02}E{episode:02}")
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use crate::library::{Series, SeriesStatus::*};
    use crate::plan::Plan;
    use crate::policy::plan;
    use crate::policy::testkit::*;
    use crate::rules::{Rules, SeriesMode, WatchedBy};

    fn mode(series_mode: SeriesMode) -> Rules {
        Rules {
            series_mode,
            ..rules()
        }
    }

    fn run(rules: &Rules, series: Vec<Series>) -> Plan {
        plan(&library(vec![], series), rules, now())
    }

    /// Lines for `verdict` on each episode of a range, one file per episode.
    fn each(
        verdict: &str,
        show: &str,
        season: i32,
        eps: std::ops::RangeInclusive<i32>,
        why: &str,
    ) -> Vec<String> {
        eps.map(|e| format!("{verdict} episode {show} S{season:02}E{e:02}: {why}"))
            .collect()
    }

    /// The seeds' example: a continuing series, grace 5 days. S1 fully watched 10 days ago, S2
    /// fully 7 days ago, S3 5 of 13 six days ago, S4 untouched, S5 airing: 16 episodes listed,
    /// 3 on disk, those watched yesterday.
    fn breaking_bad(status: crate::library::SeriesStatus) -> Series {
        series(1, "Breaking Bad", status)
            .season(season(1, 7).watched(1..=7, days(10)))
            .season(season(2, 13).watched(1..=13, days(7)))
            .season(season(3, 13).watched(1..=5, days(6)))
            .season(season(4, 13))
            .season(season(5, 16).no_file(4..=16).watched(1..=3, days(1)))
    }

    const S1_GONE: &str = "delete season Breaking Bad S01: season complete, watched 10 days ago";
    const S2_GONE: &str = "delete season Breaking Bad S02: season complete, watched 7 days ago";
    const S5_PROTECTED: &str = "keep season Breaking Bad S05: newest season of a continuing series";

    fn by_episode_expectation() -> Vec<String> {
        let mut expected = each("delete", "Breaking Bad", 1, 1..=7, "watched 10 days ago");
        expected.extend(each(
            "delete",
            "Breaking Bad",
            2,
            1..=13,
            "watched 7 days ago",
        ));
        expected.extend(each(
            "delete",
            "Breaking Bad",
            3,
            1..=5,
            "watched 6 days ago",
        ));
        expected.push(S5_PROTECTED.to_string());
        expected
    }

    #[test]
    fn breaking_bad_episode_mode() {
        let plan = run(&mode(SeriesMode::Episode), vec![breaking_bad(Continuing)]);
        assert_eq!(lines(&plan), by_episode_expectation());
        assert_eq!(plan.files_to_delete(), 25);
        // S3: 8 unwatched, S4: 13, S5: 13 listed but not played.
        assert_eq!(plan.unwatched.episodes, 34);
    }

    #[test]
    fn breaking_bad_hybrid_continuing_goes_by_episode() {
        let plan = run(&mode(SeriesMode::Hybrid), vec![breaking_bad(Continuing)]);
        assert_eq!(lines(&plan), by_episode_expectation());
    }

    #[test]
    fn breaking_bad_season_mode() {
        let plan = run(&mode(SeriesMode::Season), vec![breaking_bad(Continuing)]);
        assert_eq!(
            lines(&plan),
            vec![
                S1_GONE,
                S2_GONE,
                "keep season Breaking Bad S03: season partly watched, 5 of 13 episodes",
                S5_PROTECTED,
            ]
        );
        assert_eq!(plan.files_to_delete(), 20);
        assert_eq!(plan.bytes_to_delete(), 20 * 100);
        assert_eq!(plan.unwatched.episodes, 34);
    }

    #[test]
    fn breaking_bad_ended_hybrid_goes_by_season_without_protection() {
        let plan = run(&mode(SeriesMode::Hybrid), vec![breaking_bad(Ended)]);
        assert_eq!(
            lines(&plan),
            vec![
                S1_GONE,
                S2_GONE,
                "keep season Breaking Bad S03: season partly watched, 5 of 13 episodes",
                "keep season Breaking Bad S05: within grace, 4 days left",
            ]
        );
    }

    #[test]
    fn breaking_bad_season_mode_low_threshold_takes_s3_whole() {
        let rules = Rules {
            partial_season_threshold: 0.3,
            ..mode(SeriesMode::Season)
        };
        let plan = run(&rules, vec![breaking_bad(Continuing)]);
        assert_eq!(
            lines(&plan),
            vec![
                S1_GONE,
                S2_GONE,
                "delete season Breaking Bad S03: 5 of 13 episodes watched, last 6 days ago",
                S5_PROTECTED,
            ]
        );
        // The whole season goes: every episode is unmonitored, every file deleted.
        let (episode_ids, file_ids) = sonarr_ids(&plan.decisions[2].target);
        assert_eq!(
            episode_ids,
            (1..=13).map(|e| 100_000 + 3000 + e).collect::<Vec<_>>()
        );
        assert_eq!(file_ids.len(), 13);
    }

    #[test]
    fn breaking_bad_episode_mode_without_protection_waits_for_grace() {
        let rules = Rules {
            protect_latest_season: false,
            ..mode(SeriesMode::Episode)
        };
        let plan = run(&rules, vec![breaking_bad(Continuing)]);
        let mut expected = by_episode_expectation();
        expected.pop();
        expected.extend(each(
            "keep",
            "Breaking Bad",
            5,
            1..=3,
            "within grace, 4 days left",
        ));
        assert_eq!(lines(&plan), expected);
    }

    /// "Lost", ended, one season of four episodes all watched 10 days ago: a season that goes,
    /// unless the case changes something.
    fn lost(season1: crate::library::Season) -> Series {
        series(2, "Lost", Ended).season(season1)
    }

    fn s1() -> crate::library::Season {
        season(1, 4).watched(1..=4, days(10))
    }

    #[test]
    fn whole_season_rules() {
        let season_mode = mode(SeriesMode::Season);
        let no_favs = Rules {
            keep_favorites: false,
            ..season_mode.clone()
        };
        #[rustfmt::skip]
        let cases = [
            ("all watched past grace", &season_mode, lost(s1()),
                Some("delete season Lost S01: season complete, watched 10 days ago")),
            ("an episode is playing", &season_mode, lost(s1().playing(2)),
                Some("keep season Lost S01: playing right now")),
            ("keep tag on the series, any case", &season_mode, lost(s1()).tag("Keep"),
                Some("keep season Lost S01: keep tag \"Keep\"")),
            ("favourite series", &season_mode, lost(s1()).fav(),
                Some("keep season Lost S01: favourite of ann")),
            ("favourite season", &season_mode, lost(s1().fav()),
                Some("keep season Lost S01: favourite of ann")),
            ("favourite episode", &season_mode, lost(s1().fav_episode(3)),
                Some("keep season Lost S01: favourite of ann")),
            ("favourite unplayed episode", &season_mode,
                lost(season(1, 4).watched(1..=3, days(10)).fav_episode(4)),
                Some("keep season Lost S01: favourite of ann")),
            ("favourites do not keep", &no_favs, lost(s1().fav().fav_episode(1)).fav(),
                Some("delete season Lost S01: season complete, watched 10 days ago")),
            ("a file outside the root folders", &season_mode,
                lost(s1().file_at(3, "/tv2/Lost/S01E03.mkv")),
                Some("keep season Lost S01: file outside the root folders: /tv2/Lost/S01E03.mkv")),
            ("playing comes before the keep tag", &season_mode, lost(s1().playing(1)).tag("keep"),
                Some("keep season Lost S01: playing right now")),
            ("all watched, some within grace: the longest wait", &season_mode,
                lost(s1().watched([3], days(3)).watched([4], days(1))),
                Some("keep season Lost S01: within grace, 4 days left")),
            ("one unwatched", &season_mode, lost(season(1, 4).watched(1..=3, days(10))),
                Some("keep season Lost S01: season partly watched, 3 of 4 episodes")),
            ("one without a last-played date", &season_mode, lost(s1().played_undated([2])),
                Some("keep season Lost S01: played, but Jellyfin has no last-played date")),
            ("the unwatched episode has no file", &season_mode,
                lost(season(1, 4).watched(1..=3, days(10)).no_file([4])),
                Some("delete season Lost S01: season complete, watched 10 days ago")),
            ("the latest watch dates the season", &season_mode, lost(s1().watched([2], days(6))),
                Some("delete season Lost S01: season complete, watched 6 days ago")),
            ("played, but no file anywhere", &season_mode, lost(s1().no_file(1..=4)), None),
            ("nothing played, even with a blocker", &season_mode,
                lost(season(1, 4).playing(1).fav()), None),
        ];
        for (case, rules, show, expected) in cases {
            let plan = run(rules, vec![show]);
            assert_eq!(
                lines(&plan),
                expected.into_iter().collect::<Vec<_>>(),
                "{case}"
            );
        }
    }

    #[test]
    fn partial_season_threshold() {
        // 3 of 10 episodes watched past grace.
        let show = || lost(season(1, 10).watched(1..=3, days(8)));
        #[rustfmt::skip]
        let cases = [
            (1.0, "keep season Lost S01: season partly watched, 3 of 10 episodes"),
            (0.31, "keep season Lost S01: season partly watched, 3 of 10 episodes"),
            (0.3, "delete season Lost S01: 3 of 10 episodes watched, last 8 days ago"),
            (0.1, "delete season Lost S01: 3 of 10 episodes watched, last 8 days ago"),
        ];
        for (threshold, expected) in cases {
            let rules = Rules {
                partial_season_threshold: threshold,
                ..mode(SeriesMode::Season)
            };
            assert_eq!(
                lines(&run(&rules, vec![show()])),
                vec![expected],
                "{threshold}"
            );
        }
        // Enough watched, but not yet past grace: the reason is the wait, not the share.
        let rules = Rules {
            partial_season_threshold: 0.3,
            ..mode(SeriesMode::Season)
        };
        let waiting = lost(season(1, 10).watched(1..=2, days(8)).watched([3], days(2)));
        assert_eq!(
            lines(&run(&rules, vec![waiting])),
            vec!["keep season Lost S01: within grace, 3 days left"]
        );
    }

    #[test]
    fn season_deletion_unmonitors_episodes_without_files() {
        let show = lost(season(1, 6).watched(1..=4, days(10)).no_file([5, 6]));
        let plan = run(&mode(SeriesMode::Season), vec![show]);
        assert_eq!(
            lines(&plan),
            vec!["delete season Lost S01: season complete, watched 10 days ago"]
        );
        let (episode_ids, file_ids) = sonarr_ids(&plan.decisions[0].target);
        let ids =
            |r: std::ops::RangeInclusive<i32>| r.map(|e| 200_000 + 1000 + e).collect::<Vec<_>>();
        assert_eq!(episode_ids, ids(1..=6));
        assert_eq!(file_ids, ids(1..=4));
        assert_eq!(plan.decisions[0].bytes, 400);
    }

    #[test]
    fn season_counts_a_shared_file_once() {
        let show = lost(s1().shared(&[2, 3]));
        let plan = run(&mode(SeriesMode::Season), vec![show]);
        let (episode_ids, file_ids) = sonarr_ids(&plan.decisions[0].target);
        assert_eq!(episode_ids.len(), 4);
        assert_eq!(file_ids, vec![201_001, 201_002, 201_004]);
        assert_eq!(plan.decisions[0].bytes, 300);
    }

    #[test]
    fn specials_go_one_by_one_in_season_mode() {
        let show = lost(s1()).season(season(0, 3).watched(1..=2, days(10)));
        let plan = run(&mode(SeriesMode::Season), vec![show]);
        assert_eq!(
            lines(&plan),
            vec![
                "delete episode Lost S00E01: watched 10 days ago",
                "delete episode Lost S00E02: watched 10 days ago",
                "delete season Lost S01: season complete, watched 10 days ago",
            ]
        );
        assert_eq!(plan.unwatched.episodes, 1);
    }

    #[test]
    fn episode_rules() {
        let by_episode = mode(SeriesMode::Episode);
        let show = |s: crate::library::Season| series(3, "Dark", Ended).season(s);
        let s = || season(1, 2).watched(1..=2, days(10));
        #[rustfmt::skip]
        let cases: Vec<(&str, Series, Vec<&str>)> = vec![
            ("watched past grace", show(s()), vec![
                "delete episode Dark S01E01: watched 10 days ago",
                "delete episode Dark S01E02: watched 10 days ago"]),
            ("playing", show(s().playing(2)), vec![
                "delete episode Dark S01E01: watched 10 days ago",
                "keep episode Dark S01E02: playing right now"]),
            ("favourite episode", show(s().fav_episode(1)), vec![
                "delete episode Dark S01E02: watched 10 days ago",
                "keep episode Dark S01E01: favourite of ann"]),
            ("favourite season", show(s().fav()), vec![
                "keep episode Dark S01E01: favourite of ann",
                "keep episode Dark S01E02: favourite of ann"]),
            ("favourite series", show(s()).fav(), vec![
                "keep episode Dark S01E01: favourite of ann",
                "keep episode Dark S01E02: favourite of ann"]),
            ("keep tag on the series", show(s()).tag("KEEP"), vec![
                "keep episode Dark S01E01: keep tag \"KEEP\"",
                "keep episode Dark S01E02: keep tag \"KEEP\""]),
            ("no file", show(s().no_file([1])), vec![
                "delete episode Dark S01E02: watched 10 days ago",
                "keep episode Dark S01E01: no file on disk"]),
            ("outside the root folders", show(s().file_at(2, "/tv2/Dark/S01E02.mkv")), vec![
                "delete episode Dark S01E01: watched 10 days ago",
                "keep episode Dark S01E02: file outside the root folders: /tv2/Dark/S01E02.mkv"]),
            ("within grace", show(s().watched([2], days(4) + secs(1))), vec![
                "delete episode Dark S01E01: watched 10 days ago",
                "keep episode Dark S01E02: within grace, 1 day left"]),
            ("no last-played date", show(s().played_undated([1])), vec![
                "delete episode Dark S01E02: watched 10 days ago",
                "keep episode Dark S01E01: played, but Jellyfin has no last-played date"]),
            ("unwatched episodes get no decision", show(season(1, 2).watched([2], days(10))), vec![
                "delete episode Dark S01E02: watched 10 days ago"]),
        ];
        for (case, show, expected) in cases {
            assert_eq!(lines(&run(&by_episode, vec![show])), expected, "{case}");
        }
    }

    #[test]
    fn multi_episode_files() {
        let by_episode = mode(SeriesMode::Episode);
        let show = |s: crate::library::Season| series(3, "Dark", Ended).season(s.shared(&[2, 3]));
        #[rustfmt::skip]
        let cases = [
            ("both watched", season(1, 3).watched(2..=3, days(10)),
                "delete episode Dark S01E02-E03: watched 10 days ago"),
            ("the later watch dates the file", season(1, 3).watched([2], days(10)).watched([3], days(7)),
                "delete episode Dark S01E02-E03: watched 7 days ago"),
            ("only one watched", season(1, 3).watched([2], days(10)),
                "keep episode Dark S01E02-E03: file shared with S01E03, which is not eligible"),
            ("only the second watched", season(1, 3).watched([3], days(10)),
                "keep episode Dark S01E02-E03: file shared with S01E02, which is not eligible"),
            ("the other one is a favourite", season(1, 3).watched([2], days(10)).fav_episode(3),
                "keep episode Dark S01E02-E03: file shared with S01E03, which is not eligible"),
            ("a played one within grace", season(1, 3).watched([2], days(10)).watched([3], days(1)),
                "keep episode Dark S01E02-E03: within grace, 4 days left"),
            ("a played one is playing", season(1, 3).watched(2..=3, days(10)).playing(3),
                "keep episode Dark S01E02-E03: playing right now"),
        ];
        for (case, s, expected) in cases {
            let plan = run(&by_episode, vec![show(s)]);
            assert_eq!(lines(&plan), vec![expected], "{case}");
            let (episode_ids, file_ids) = sonarr_ids(&plan.decisions[0].target);
            assert_eq!(episode_ids, vec![301_002, 301_003], "{case}");
            assert_eq!(file_ids, vec![301_002], "{case}");
            assert_eq!(plan.decisions[0].bytes, 100, "{case}");
        }
    }

    #[test]
    fn protect_latest_season() {
        let hybrid = mode(SeriesMode::Hybrid);
        let unprotected = Rules {
            protect_latest_season: false,
            ..hybrid.clone()
        };
        let two_seasons = |status| {
            series(4, "Fargo", status)
                .season(season(1, 2).watched(1..=2, days(10)))
                .season(season(2, 2).watched(1..=2, days(10)))
        };
        const S1_EPS: [&str; 2] = [
            "delete episode Fargo S01E01: watched 10 days ago",
            "delete episode Fargo S01E02: watched 10 days ago",
        ];
        const S2_KEPT: &str = "keep season Fargo S02: newest season of a continuing series";
        #[rustfmt::skip]
        let cases: Vec<(&str, &Rules, Series, Vec<&str>)> = vec![
            ("continuing", &hybrid, two_seasons(Continuing), vec![S1_EPS[0], S1_EPS[1], S2_KEPT]),
            ("upcoming", &hybrid, two_seasons(Upcoming), vec![S1_EPS[0], S1_EPS[1], S2_KEPT]),
            ("unknown status", &hybrid, two_seasons(Other), vec![S1_EPS[0], S1_EPS[1], S2_KEPT]),
            ("protection off", &unprotected, two_seasons(Continuing), vec![
                S1_EPS[0], S1_EPS[1],
                "delete episode Fargo S02E01: watched 10 days ago",
                "delete episode Fargo S02E02: watched 10 days ago"]),
            ("ended", &hybrid, two_seasons(Ended), vec![
                "delete season Fargo S01: season complete, watched 10 days ago",
                "delete season Fargo S02: season complete, watched 10 days ago"]),
            ("the newest season is Sonarr's, even without files", &hybrid,
                two_seasons(Continuing).season(season(3, 0)), vec![
                S1_EPS[0], S1_EPS[1],
                "delete episode Fargo S02E01: watched 10 days ago",
                "delete episode Fargo S02E02: watched 10 days ago"]),
            ("specials are never the newest season", &hybrid,
                series(4, "Fargo", Continuing)
                    .season(season(1, 1).watched([1], days(10)))
                    .season(season(0, 1).watched([1], days(10))), vec![
                "delete episode Fargo S00E01: watched 10 days ago",
                "keep season Fargo S01: newest season of a continuing series"]),
            ("nothing played in the newest season", &hybrid,
                series(4, "Fargo", Continuing)
                    .season(season(1, 2).watched(1..=2, days(10)))
                    .season(season(2, 2)), vec![S1_EPS[0], S1_EPS[1]]),
        ];
        for (case, rules, show, expected) in cases {
            assert_eq!(lines(&run(rules, vec![show])), expected, "{case}");
        }
    }

    #[test]
    fn watched_by_all_users_on_series() {
        let both = |ep| (ep, vec![seen(at(days(10))), seen(at(days(9)))]);
        let ann_only = |ep| (ep, vec![seen(at(days(10))), unseen()]);
        let mut s = season(1, 2);
        for (ep, views) in [both(1), ann_only(2)] {
            s = s.views(ep, views);
        }
        let show = series(5, "Dark", Ended).season(s);
        let all = |series_mode| Rules {
            watched_by: WatchedBy::All,
            series_mode,
            ..rules()
        };
        let mut lib = library(vec![], vec![show]);
        lib.users = vec!["ann".into(), "bob".into()];
        let lines_for = |rules: &Rules| lines(&plan(&lib, rules, now()));
        assert_eq!(
            lines_for(&all(SeriesMode::Episode)),
            vec![
                "delete episode Dark S01E01: watched 9 days ago",
                "keep episode Dark S01E02: not watched by bob yet",
            ]
        );
        assert_eq!(
            lines_for(&all(SeriesMode::Season)),
            vec!["keep season Dark S01: not watched by bob yet"]
        );
        assert_eq!(
            lines_for(&mode(SeriesMode::Season)),
            vec!["delete season Dark S01: season complete, watched 9 days ago"]
        );
        let mut fav_of_bob = lib.clone();
        fav_of_bob.series[0].views = crate::library::Views::from(vec![unseen(), fav()]);
        assert_eq!(
            lines(&plan(&fav_of_bob, &mode(SeriesMode::Season), now())),
            vec!["keep season Dark S01: favourite of bob"]
        );
    }

    #[test]
    fn a_file_shared_across_seasons_is_not_deleted_with_one_of_them() {
        let mut show = lost(s1()).season(season(2, 2));
        let shared = show.seasons[0].episodes[3].file.clone();
        show.seasons[1].episodes[0].file = shared;
        let plan = run(&mode(SeriesMode::Season), vec![show]);
        assert_eq!(
            lines(&plan),
            vec!["keep season Lost S01: file shared with S02E01, which is not eligible"]
        );
        assert_eq!(plan.deletions().count(), 0);
    }

    /// Dark in two Sonarrs, `sonarr` and `4k`, its first season watched in both.
    fn dark_twice(
        tv: impl FnOnce(Series) -> Series,
        uhd: impl FnOnce(Series) -> Series,
    ) -> Vec<String> {
        let dark = |instance: &str| {
            let mut s = series(7, "Dark", Ended).season(season(1, 2).watched([1, 2], days(10)));
            s.instance = instance.into();
            s.tvdb_id = Some(5000);
            s
        };
        let mut lib = library(vec![], vec![tv(dark("sonarr")), uhd(dark("4k"))]);
        lib.root_folders.insert("4k".into(), vec!["/tv/".into()]);
        let plan = plan(&lib, &rules(), now());
        plan.decisions
            .iter()
            .map(|d| {
                format!(
                    "{} {}: {}",
                    d.verdict.as_str(),
                    d.target.instance(),
                    d.reason
                )
            })
            .collect()
    }

    #[test]
    fn a_keep_tag_or_favourite_on_a_series_copy_keeps_the_other() {
        let same = |s: Series| s;
        assert_eq!(
            dark_twice(same, same),
            [
                "delete sonarr: season complete, watched 10 days ago",
                "delete 4k: season complete, watched 10 days ago"
            ]
        );
        assert_eq!(
            dark_twice(same, |s| s.tag("keep")),
            [
                "keep sonarr: keep tag \"keep\" on the 4k copy",
                "keep 4k: keep tag \"keep\""
            ]
        );
        assert_eq!(
            dark_twice(|s| s.fav(), same),
            [
                "keep sonarr: favourite of ann",
                "keep 4k: favourite of ann on the sonarr copy"
            ]
        );
        // Without the TVDB id they are not known to be one series.
        let apart = |mut s: Series| {
            s.tvdb_id = None;
            s
        };
        assert_eq!(
            dark_twice(apart, |s| apart(s).tag("keep")),
            [
                "delete sonarr: season complete, watched 10 days ago",
                "keep 4k: keep tag \"keep\""
            ]
        );
    }

    #[test]
    fn low_space_on_the_episodes_mount_shortens_their_grace() {
        use crate::policy::{plan_under, MountPressure, SpacePressure};
        use crate::rules::GraceTier;
        let pressure = |free: f64| SpacePressure {
            mounts: vec![MountPressure {
                mount: "/srv/tv".into(),
                root_folders: vec!["/tv".into()],
                free: Some(((free * 10.0) as u64, 1000)),
                target_bytes: None,
                tiers: vec![GraceTier {
                    below_free_percent: 10.0,
                    grace_days: 1,
                }],
            }],
        };
        let lib = library(
            vec![],
            vec![series(7, "Dark", Ended).season(season(1, 2).watched([1, 2], days(2)))],
        );
        let season_mode = mode(SeriesMode::Season);
        assert_eq!(
            lines(&plan_under(&lib, &season_mode, &pressure(50.0), now())),
            ["keep season Dark S01: within grace, 3 days left"]
        );
        assert_eq!(
            lines(&plan_under(&lib, &season_mode, &pressure(5.0), now())),
            ["delete season Dark S01: season complete, watched 2 days ago"]
        );
    }

    #[test]
    fn keep_lossless_keeps_the_episode_or_its_whole_season() {
        let show = || series(1, "Lost", Ended).season(season(1, 3).watched(1..=3, days(10)));
        let lossless = |series_mode| Rules {
            keep_lossless: true,
            ..mode(series_mode)
        };
        let mut lib = library(vec![], vec![show()]);
        set_audio(&mut lib, "EAC3", "/S01E0");
        set_audio(&mut lib, "DTS-HD MA", "S01E02");

        let by_episode = plan(&lib, &lossless(SeriesMode::Episode), now());
        assert_eq!(
            lines(&by_episode),
            [
                "delete episode Lost S01E01: watched 10 days ago",
                "delete episode Lost S01E03: watched 10 days ago",
                "keep episode Lost S01E02: lossless audio (DTS-HD MA)",
            ]
        );
        let by_season = plan(&lib, &lossless(SeriesMode::Season), now());
        assert_eq!(
            lines(&by_season),
            ["keep season Lost S01: lossless audio (DTS-HD MA)"]
        );
        assert_eq!(by_season.decisions[0].reason.code(), "lossless_audio");
        // Without keep_lossless the season goes, and says it held lossless audio.
        let plain = plan(&lib, &mode(SeriesMode::Season), now());
        assert_eq!(
            lines(&plain),
            ["delete season Lost S01: season complete, watched 10 days ago"]
        );
        let q = plain.decisions[0].quality(&plain);
        assert_eq!(
            (q.audio_codec.as_deref(), q.lossless()),
            (Some("DTS-HD MA"), Some(true))
        );
    }

    #[test]
    fn a_season_is_described_by_the_quality_of_most_of_its_bytes() {
        let show = series(1, "Lost", Ended).season(season(1, 4).watched(1..=4, days(10)));
        let codec_of = |lib: &crate::library::Library| {
            let plan = plan(lib, &mode(SeriesMode::Season), now());
            let q = plan.decisions[0].quality(&plan).clone();
            q.audio_codec.map(String::from)
        };
        let mut lib = library(vec![], vec![show]);
        assert_eq!(codec_of(&lib), None, "no file has a quality");
        set_audio(&mut lib, "AC3", "S01E01");
        assert_eq!(
            codec_of(&lib).as_deref(),
            Some("AC3"),
            "unknown ones do not count"
        );
        set_audio(&mut lib, "AAC", "S01E02");
        assert_eq!(
            codec_of(&lib).as_deref(),
            Some("AC3"),
            "a tie goes to the first"
        );
        set_audio(&mut lib, "AAC", "S01E03");
        assert_eq!(codec_of(&lib).as_deref(), Some("AAC"));
        set_audio(&mut lib, "FLAC", "S01E04");
        assert_eq!(
            codec_of(&lib).as_deref(),
            Some("FLAC"),
            "lossless audio, whatever its share"
        );
    }
}
