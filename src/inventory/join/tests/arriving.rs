//! Adding items to a joiner as their pages arrive, with series loaded late or never.

use super::*;

#[test]
fn an_episode_whose_series_loads_late_matches_at_the_end() {
    let f = tv_world();
    let mut j = bare_joiner(&f);
    j.add_for(1, played(episode_item("e21", "jfS", 2, 1), T1));
    assert_eq!(j.waiting_series(), [(0, 10)]);
    j.load(0, 10, aired_of(&f, 10));
    let s = f.sonarr.clone();
    let inv = j
        .finish()
        .build(f.users.clone(), vec![], s, QualityTable::default());
    assert!(
        inv.library.unmatched.is_empty(),
        "{:?}",
        inv.library.unmatched
    );
    let e = episode(&inv, 201);
    assert!(e.views.get(1).played() && !e.views.get(0).played());
}

#[test]
fn an_episode_whose_series_never_loads_is_unmatched_and_says_so() {
    let f = tv_world();
    let mut j = bare_joiner(&f);
    j.add_for(0, played(episode_item("e21", "jfS", 2, 1), T1));
    let inv = j.finish().build(
        f.users.clone(),
        vec![],
        f.sonarr.clone(),
        QualityTable::default(),
    );
    let u = &inv.library.unmatched;
    assert_eq!(u.len(), 1);
    assert!(u[0].why.contains("were not loaded"), "{}", u[0].why);
}

#[test]
fn the_views_of_several_users_meet_on_one_episode() {
    let f = tv_world();
    let mut j = bare_joiner(&f);
    j.load(0, 10, aired_of(&f, 10));
    j.add_for(0, played(episode_item("e12", "jfS", 1, 2), T1));
    j.add_for(1, played(episode_item("e12", "jfS", 1, 2), T2));
    j.add_for(1, fav(episode_item("e12", "jfS", 1, 2)));
    j.add_for(7, played(episode_item("e13", "jfS", 1, 3), T1)); // not a counted user
    let inv = j.finish().build(
        f.users.clone(),
        vec![],
        f.sonarr.clone(),
        QualityTable::default(),
    );
    let v = &episode(&inv, 102).views.0;
    assert!(v[0].played() && v[1].played() && v[1].favorite() && !v[0].favorite());
    assert_eq!(v[1].last_played(), Some(ts(T2)));
    assert!(!episode(&inv, 103).views.any_played());
}

#[test]
fn only_series_someone_touched_keep_their_episodes() {
    let f = tv_world();
    let mut j = bare_joiner(&f);
    j.load(0, 10, aired_of(&f, 10));
    j.load(0, 11, aired_of(&f, 11));
    j.add_for(0, played(episode_item("e12", "jfS", 1, 2), T1));
    assert!(j.waiting_series().is_empty());
    j.unload_untouched();
    let inv = j.finish().build(
        f.users.clone(),
        vec![],
        f.sonarr.clone(),
        QualityTable::default(),
    );
    let counts: Vec<usize> = inv
        .library
        .series
        .iter()
        .map(|s| s.seasons.iter().map(|s| s.episodes.len()).sum())
        .collect();
    assert_eq!(counts, [4, 0]);
}
