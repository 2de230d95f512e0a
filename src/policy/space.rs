//! When space is needed: a mount with `space_mode = "when_low"` gives up files only while it is
//! below its free-space target, oldest-watched first, and only as many as bring it back up (by
//! their sizes; the pass measures again after each delete and stops at the target). A file that
//! another hard link holds would free nothing, and stays.
//!
//! Pure: the pass says which deletions lie on which mount and how many links their files have.

use crate::plan::{ForSpace, Plan, Reason, SpaceBudget, Verdict};

use super::SpacePressure;

/// A deletion of the plan whose files lie on a `when_low` mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Its index in `Plan::decisions`.
    pub decision: usize,
    /// Its mount, by index in [`SpacePressure::mounts`].
    pub mount: usize,
    /// The most hard links any of its files has, where shelflife could see them.
    pub links: Option<u64>,
}

/// Keeps what the `when_low` mounts of `pressure` do not need to give up, and gives every
/// deletion made for space its reason; the plan's `space` says what each mount gives.
pub fn limit(plan: &mut Plan, pressure: &SpacePressure, candidates: &[Candidate]) {
    for (m, mount) in pressure.mounts.iter().enumerate() {
        let Some(target) = mount.target_bytes else {
            continue;
        };
        let mut mine: Vec<usize> = candidates
            .iter()
            .filter(|c| c.mount == m && plan.decisions[c.decision].verdict == Verdict::Delete)
            .map(|c| c.decision)
            .collect();
        // Oldest watched first; an undated one (none should be eligible) last.
        mine.sort_by_key(|&d| {
            (
                plan.decisions[d].watched_at.get().is_none(),
                plan.decisions[d].watched_at,
                d,
            )
        });
        let links = |d: usize| {
            candidates
                .iter()
                .find(|c| c.decision == d)
                .and_then(|c| c.links)
                .unwrap_or(1)
        };
        let Some((free, total)) = mount.free else {
            for d in mine {
                keep(
                    plan,
                    d,
                    Reason::Incomplete {
                        why: format!("the free space of {} could not be measured", mount.mount)
                            .into(),
                    },
                );
            }
            continue;
        };
        let mut budget = SpaceBudget {
            mount: mount.mount.clone(),
            free_bytes: free,
            total_bytes: total,
            target_bytes: target,
            needed_bytes: target.saturating_sub(free),
            ..SpaceBudget::default()
        };
        for d in mine {
            let n = links(d);
            if n > 1 {
                budget.frees_nothing += 1;
                let why = format!(
                    "a file of it has {n} hard links (a torrent client seeding it, or a copy), \
                     so deleting it gives {} no space",
                    mount.mount
                );
                keep(plan, d, Reason::FreesNothing { why: why.into() });
            } else if budget.planned_bytes < budget.needed_bytes {
                budget.planned += 1;
                budget.planned_bytes += plan.decisions[d].bytes;
                let decision = &mut plan.decisions[d];
                let then = std::mem::replace(&mut decision.reason, Reason::NoFile);
                decision.reason = Reason::Space(Box::new(ForSpace {
                    mount: mount.mount.clone(),
                    free_percent: budget.free_percent(),
                    target_percent: budget.target_percent(),
                    then,
                }));
            } else {
                budget.spared += 1;
                let why = if budget.needed_bytes == 0 {
                    format!(
                        "{} is at {:.1} % free, above its target of {:.1} %",
                        mount.mount,
                        budget.free_percent(),
                        budget.target_percent()
                    )
                } else {
                    format!("older files bring {} to its target", mount.mount)
                };
                keep(plan, d, Reason::SpaceNotNeeded { why: why.into() });
            }
        }
        plan.space.push(budget);
    }
    // Kept items sort after the deletions, as everywhere in a plan; the deletions for space
    // come last and oldest first, so that a pass that reaches the target stops sparing the
    // newest.
    let (delete, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut plan.decisions)
        .into_iter()
        .partition(|d| d.verdict == Verdict::Delete);
    let (mut for_space, other): (Vec<_>, Vec<_>) = delete
        .into_iter()
        .partition(|d| matches!(d.reason, Reason::Space(_)));
    for_space.sort_by_key(|d| d.watched_at);
    plan.decisions = other.into_iter().chain(for_space).chain(keep).collect();
}

fn keep(plan: &mut Plan, d: usize, reason: Reason) {
    let decision = &mut plan.decisions[d];
    decision.verdict = Verdict::Keep;
    decision.reason = reason;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Decision, Kind, Target};
    use crate::policy::MountPressure;

    const MB: u64 = 1 << 20;

    /// Movie `id` of 10 MiB, watched `days` ago (by the epoch's clock).
    fn movie(id: i32, days: i64) -> Decision {
        Decision {
            verdict: Verdict::Delete,
            kind: Kind::Movie,
            title: format!("Movie {id}").into(),
            target: Target::Radarr {
                instance: "radarr".into(),
                movie_id: id,
            },
            bytes: 10 * MB,
            reason: Reason::Watched {
                days_ago: days as u32,
            },
            watched_at: Some(1_000_000_000 - days * 86_400).into(),
            jellyfin_id: None,
            quality: Default::default(),
        }
    }

    /// A 128 MiB mount with `free` MiB free and a 30 % target.
    fn media(free: Option<u64>) -> SpacePressure {
        SpacePressure {
            mounts: vec![MountPressure {
                mount: "/srv/media".into(),
                root_folders: vec!["/movies".into()],
                free: free.map(|f| (f * MB, 128 * MB)),
                tiers: Vec::new(),
                target_bytes: Some((128 * MB * 3).div_ceil(10)),
            }],
        }
    }

    fn run(free: Option<u64>, links: &[(usize, u64)]) -> (Vec<String>, Plan) {
        // Watched 1 to 10 days ago, listed newest first.
        let mut plan = Plan {
            decisions: (1..=10).map(|n| movie(n, i64::from(n))).collect(),
            ..Plan::default()
        };
        let candidates: Vec<Candidate> = (0..10)
            .map(|d| Candidate {
                decision: d,
                mount: 0,
                links: links.iter().find(|(i, _)| *i == d).map(|(_, n)| *n),
            })
            .collect();
        limit(&mut plan, &media(free), &candidates);
        let lines = plan
            .decisions
            .iter()
            .map(|d| format!("{} {}: {}", d.verdict.as_str(), d.title, d.reason))
            .collect();
        (lines, plan)
    }

    #[test]
    fn only_as_many_of_the_oldest_as_reach_the_target_go() {
        // 6.4 MiB free of 128: 32 MiB short of 38.4 MiB; four 10 MiB movies.
        let (lines, plan) = run(Some(6), &[]);
        let deleted: Vec<String> = plan.deletions().map(|d| d.title.to_string()).collect();
        assert_eq!(deleted, ["Movie 10", "Movie 9", "Movie 8", "Movie 7"]);
        assert!(
            lines[0].starts_with("delete Movie 10: space: /srv/media at 4.7 % free, target 30.0 %; watched 10 days ago"),
            "{lines:?}"
        );
        assert!(
            lines[4].ends_with("space not needed: older files bring /srv/media to its target"),
            "{lines:?}"
        );
        let budget = &plan.space[0];
        assert_eq!(
            (
                budget.needed_bytes,
                budget.planned,
                budget.planned_bytes,
                budget.spared
            ),
            ((128 * MB * 3).div_ceil(10) - 6 * MB, 4, 40 * MB, 6)
        );
    }

    #[test]
    fn above_the_target_nothing_goes() {
        let (lines, plan) = run(Some(60), &[]);
        assert_eq!(plan.deletions().count(), 0);
        assert!(
            lines[0].ends_with(
                "space not needed: /srv/media is at 46.9 % free, above its target of 30.0 %"
            ),
            "{lines:?}"
        );
        assert_eq!(plan.space[0].spared, 10);
    }

    #[test]
    fn files_held_by_another_link_are_skipped_and_the_next_oldest_go() {
        // The two oldest are seeding.
        let (lines, plan) = run(Some(6), &[(9, 2), (8, 3)]);
        let deleted: Vec<String> = plan.deletions().map(|d| d.title.to_string()).collect();
        assert_eq!(deleted, ["Movie 8", "Movie 7", "Movie 6", "Movie 5"]);
        assert_eq!(plan.space[0].frees_nothing, 2);
        assert!(
            lines.iter().any(|l| l
                .starts_with("keep Movie 10: would free nothing: a file of it has 2 hard links")),
            "{lines:?}"
        );
    }

    #[test]
    fn an_unmeasured_mount_gives_up_nothing() {
        let (lines, plan) = run(None, &[]);
        assert_eq!(plan.deletions().count(), 0);
        assert!(plan.space.is_empty());
        assert!(
            lines[0].ends_with(
                "known only in part: the free space of /srv/media could not be measured"
            ),
            "{lines:?}"
        );
    }
}
