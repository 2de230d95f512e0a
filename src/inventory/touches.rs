//! The Jellyfin items the counted users played or favourited, each held once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::clients::jellyfin::{Item, UserData};
use crate::library::{UserView, Views};

/// Every Jellyfin item a counted user played or favourited, once, with each user's view of it.
///
/// Jellyfin answers per user, so five users who watched the same episode send it five times;
/// it is kept once, and the per-user part is a [`UserView`]. Pages are added as they arrive,
/// which bounds a pass's memory by the items touched, not by users × items. Series ids and
/// names, repeated by every episode of a series, are shared.
#[derive(Debug, Clone, Default)]
pub struct Touches {
    users: usize,
    items: Vec<Item>,
    /// Indexed like `items`; each has one view per counted user.
    views: Vec<Views>,
    by_id: HashMap<Arc<str>, usize>,
    shared: HashSet<Arc<str>>,
}

impl Touches {
    /// An empty table for `users` counted users.
    pub fn new(users: usize) -> Self {
        Touches {
            users,
            ..Touches::default()
        }
    }

    /// Adds what Jellyfin said of `item` for counted user `user` (an index into the users).
    /// An item seen before keeps its first copy; the user's view of it is merged in.
    pub fn add(&mut self, user: usize, item: Item) {
        if user >= self.users {
            return;
        }
        let view = view_of(item.user_data.as_ref());
        let k = self.slot(item);
        self.views[k].merge_one(user, view, self.users);
    }

    /// Adds `item` with every counted user's view of it, merged into what is known.
    pub fn add_views(&mut self, item: Item, views: &Views) {
        let k = self.slot(item);
        self.views[k].merge_from(views, self.users);
    }

    /// Where `item` is held: its first copy, or `item` itself when new.
    fn slot(&mut self, mut item: Item) -> usize {
        if let Some(&k) = self.by_id.get(&item.id) {
            return k;
        }
        item.series_id = item.series_id.map(|s| self.share(s));
        item.series_name = item.series_name.map(|s| self.share(s));
        item.season_id = item.season_id.map(|s| self.share(s));
        let k = self.items.len();
        self.by_id.insert(item.id.clone(), k);
        self.items.push(item);
        self.views.push(Views::untouched(self.users));
        k
    }

    /// [`Touches::add`] for each of `items`.
    pub fn add_all(&mut self, user: usize, items: impl IntoIterator<Item = Item>) {
        for item in items {
            self.add(user, item);
        }
    }

    /// The items with their views, in the order they were first seen.
    pub fn iter(&self) -> impl Iterator<Item = (&Item, &Views)> {
        self.items.iter().zip(&self.views)
    }

    /// The items with their views, in the order they were first seen.
    pub fn into_items(self) -> impl Iterator<Item = (Item, Views)> {
        self.items.into_iter().zip(self.views)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn share(&mut self, s: Arc<str>) -> Arc<str> {
        match self.shared.get(&s) {
            Some(known) => known.clone(),
            None => {
                self.shared.insert(s.clone());
                s
            }
        }
    }
}

pub(super) fn view_of(ud: Option<&UserData>) -> UserView {
    ud.map(|d| UserView::new(d.played, d.last_played_date, d.is_favorite))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::jellyfin::ItemKind;

    fn episode(id: &str, series: &str, played: Option<&str>, favorite: bool) -> Item {
        Item {
            id: id.into(),
            kind: ItemKind::Episode,
            series_id: Some(series.into()),
            series_name: Some(format!("name of {series}").into()),
            user_data: Some(UserData {
                played: played.is_some(),
                last_played_date: played.map(|t| t.parse().unwrap()),
                is_favorite: favorite,
            }),
            ..Item::default()
        }
    }

    #[test]
    fn an_item_of_several_users_is_held_once_with_each_users_view() {
        let mut t = Touches::new(3);
        t.add(0, episode("e1", "s", Some("2024-01-01T00:00:00Z"), false));
        t.add(2, episode("e1", "s", Some("2024-02-01T00:00:00Z"), false));
        t.add(2, episode("e1", "s", None, true)); // the same user's favourites list
        t.add(1, episode("e2", "s", None, true));
        assert_eq!(t.len(), 2);
        let all: Vec<_> = t.iter().collect();
        assert_eq!(&*all[0].0.id, "e1");
        let v = &all[0].1 .0;
        assert!(
            v[0].played() && !v[1].played() && v[2].played() && v[2].favorite() && !v[0].favorite()
        );
        assert_eq!(
            v[2].last_played(),
            Some("2024-02-01T00:00:00Z".parse().unwrap())
        );
        assert!(!all[1].1 .0[0].favorite() && all[1].1 .0[1].favorite());
    }

    #[test]
    fn episodes_of_one_series_share_its_id_and_name() {
        let mut t = Touches::new(1);
        t.add(0, episode("e1", "s", None, true));
        t.add(0, episode("e2", "s", None, true));
        let items: Vec<&Item> = t.iter().map(|(i, _)| i).collect();
        let (a, b) = (items[0], items[1]);
        assert!(Arc::ptr_eq(
            a.series_id.as_ref().unwrap(),
            b.series_id.as_ref().unwrap()
        ));
        assert!(Arc::ptr_eq(
            a.series_name.as_ref().unwrap(),
            b.series_name.as_ref().unwrap()
        ));
    }

    #[test]
    fn a_user_outside_the_counted_ones_is_ignored() {
        let mut t = Touches::new(1);
        t.add(1, episode("e1", "s", Some("2024-01-01T00:00:00Z"), false));
        assert!(t.is_empty());
    }
}
