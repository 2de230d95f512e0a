//! The provider ids of an item that matching uses (TMDB, IMDB, TVDB), read without regard to
//! case and held in as little memory as they fit.

use serde::Deserialize;

/// The provider ids matching uses, out of Jellyfin's `ProviderIds` map (`{"Tmdb": "603", …}`,
/// keys in any case, empty values meaning none). Boxed, and only when there is one: a pass holds
/// tens of thousands of items, most of them episodes, whose own ids matching never reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderIds(Option<Box<Ids>>);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ids {
    tmdb: Option<Box<str>>,
    imdb: Option<Box<str>>,
    tvdb: Option<Box<str>>,
}

impl ProviderIds {
    /// `pairs` of provider name and id, as Jellyfin would send them.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut ids = ProviderIds::default();
        for (key, value) in pairs {
            ids.set(key, value);
        }
        ids
    }

    /// The id of `provider` (`"Tmdb"`, `"imdb"`, `"Tvdb"`), named without regard to case.
    pub fn get(&self, provider: &str) -> Option<&str> {
        let ids = self.0.as_deref()?;
        let id = if provider.eq_ignore_ascii_case("tmdb") {
            &ids.tmdb
        } else if provider.eq_ignore_ascii_case("imdb") {
            &ids.imdb
        } else if provider.eq_ignore_ascii_case("tvdb") {
            &ids.tvdb
        } else {
            return None;
        };
        id.as_deref()
    }

    fn set(&mut self, key: &str, value: &str) {
        let value = value.trim();
        let known = ["tmdb", "imdb", "tvdb"]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(key));
        if value.is_empty() || !known {
            return;
        }
        let ids = self.0.get_or_insert_with(Box::default);
        let slot = if key.eq_ignore_ascii_case("tmdb") {
            &mut ids.tmdb
        } else if key.eq_ignore_ascii_case("imdb") {
            &mut ids.imdb
        } else {
            &mut ids.tvdb
        };
        *slot = Some(value.into());
    }
}

impl<'de> Deserialize<'de> for ProviderIds {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ProviderIds;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of provider ids, or null")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<ProviderIds, E> {
                Ok(ProviderIds::default())
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<ProviderIds, E> {
                Ok(ProviderIds::default())
            }
            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<ProviderIds, D::Error> {
                d.deserialize_map(self)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ProviderIds, A::Error> {
                let mut ids = ProviderIds::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let value: Option<std::borrow::Cow<'de, str>> = map.next_value()?;
                    if let Some(value) = value {
                        ids.set(&key, &value);
                    }
                }
                Ok(ids)
            }
        }
        deserializer.deserialize_option(Visitor)
    }
}
