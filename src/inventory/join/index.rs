//! A sorted index of values by key, and the key forms matching compares.

use std::borrow::Cow;

/// Values by key in two sorted vectors: an index of thousands of keys with one value each costs
/// two allocations, not one (or more) per key as a map of vectors would. The values of one key
/// keep the order they came in.
pub(super) struct MultiIndex<K, T> {
    keys: Vec<K>,
    values: Vec<T>,
}

impl<K: Ord, T> MultiIndex<K, T> {
    pub(super) fn new(mut pairs: Vec<(K, T)>) -> Self {
        // Stable: equal keys keep their order.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let (keys, values) = pairs.into_iter().unzip();
        MultiIndex { keys, values }
    }

    pub(super) fn get<Q: Ord + ?Sized>(&self, key: &Q) -> &[T]
    where
        K: std::borrow::Borrow<Q>,
    {
        let start = self.keys.partition_point(|k| k.borrow() < key);
        let len = self.keys[start..].partition_point(|k| k.borrow() <= key);
        &self.values[start..start + len]
    }
}

/// `s` in ASCII lowercase, copied only when it has an uppercase letter.
pub(super) fn lowercase(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// A positive numeric provider id (`"603"`); anything else is no id.
pub(super) fn parse_id(v: Option<&str>) -> Option<i32> {
    v?.parse().ok().filter(|&n: &i32| n > 0)
}

/// The instances (by index) the entries `hits`, which share a provider id, lie in, each once and
/// in order; `None` when two of them lie in one instance: a muddle of that instance, which no
/// path settles.
pub(super) fn instances_of(hits: &[usize], instance: impl Fn(usize) -> u16) -> Option<Vec<u16>> {
    let mut instances: Vec<u16> = hits.iter().map(|&i| instance(i)).collect();
    instances.sort_unstable();
    instances.dedup();
    (instances.len() == hits.len()).then_some(instances)
}

/// The names of `instances` (indexes into `names`), comma-separated, for messages.
pub(super) fn names_of(instances: &[u16], names: &[&str]) -> String {
    let names: Vec<&str> = instances
        .iter()
        .map(|&k| names.get(usize::from(k)).copied().unwrap_or("?"))
        .collect();
    names.join(", ")
}
