//! Judging a Sonarr target, the ids of a series' deletions, and how a step is named.

use std::collections::HashMap;

use super::series::{ids_of, judge, Now};
use super::*;
use crate::plan::Target;

fn season(episodes: Vec<i32>, files: Vec<i32>) -> Target {
    Target::Sonarr {
        instance: "sonarr".into(),
        series_id: 3,
        season: 1,
        episode_ids: episodes.into(),
        episode_file_ids: files.into(),
    }
}

#[test]
fn a_sonarr_target_is_intact_gone_or_changed() {
    let now = |pairs: &[(i32, i32)]| pairs.iter().copied().collect::<HashMap<i32, i32>>();
    let target = season(vec![1, 2], vec![10, 20]);
    assert_eq!(judge(&target, &now(&[(1, 10), (2, 20)])), Now::Intact);
    assert_eq!(judge(&target, &now(&[(1, 0), (2, 0)])), Now::Gone);
    // An episode gone from Sonarr, the other without its file: gone as well.
    assert_eq!(judge(&target, &now(&[(2, 0)])), Now::Gone);
    // Episode 2's file was replaced by an upgrade (a new id): not what was planned.
    let Now::Changed(why) = judge(&target, &now(&[(1, 10), (2, 21)])) else {
        panic!("not changed");
    };
    assert!(why.contains("episode 2 has another file (id 21)"), "{why}");
    // Half deleted by someone else: not the planned season any more.
    assert!(matches!(
        judge(&target, &now(&[(1, 10), (2, 0)])),
        Now::Changed(_)
    ));
    // Two episodes in one file.
    let double = season(vec![1, 2], vec![10]);
    assert_eq!(judge(&double, &now(&[(1, 10), (2, 10)])), Now::Intact);
}

#[test]
fn ids_of_the_live_targets_sorted_and_once() {
    let a = season(vec![2, 1], vec![20, 10]);
    let b = season(vec![3, 2], vec![30, 20]);
    let targets = [&a, &b];
    assert_eq!(ids_of(&targets, &[0, 1]), (vec![1, 2, 3], vec![10, 20, 30]));
    assert_eq!(ids_of(&targets, &[1]), (vec![2, 3], vec![20, 30]));
}

#[test]
fn a_step_names_its_place_and_what_goes() {
    let one = Step {
        number: 3,
        total: 12,
        title: &"The Matrix (1999)".into(),
        more: 0,
    };
    assert_eq!(one.to_string(), "3/12: The Matrix (1999)");
    let series = Step {
        number: 5,
        total: 12,
        title: &"Dark S01".into(),
        more: 2,
    };
    assert_eq!(series.to_string(), "5-7/12: Dark S01 and 2 more");
}
