//! Big lists, read element by element as they arrive: kept, dropped or grouped one at a time,
//! with the elements that cannot be read set aside instead of failing the list.

use std::collections::HashMap;
use std::hash::Hash;

use reqwest::Method;
use serde::de::DeserializeOwned;

use super::attempt::BodySink;
use super::errors::snippet;
use super::{ApiError, Class, ServiceClient};
use crate::clients::stream::{ArraySplitter, SplitError};

/// An element of a list that could not be read as what the API documents describe (a date
/// without an offset, an id of the wrong type). One such element does not fail the list: the
/// caller leaves what it describes alone. Too many of them do ([`too_many_malformed`]).
#[derive(Debug, Clone)]
pub struct Malformed {
    /// Why it could not be read.
    pub error: String,
    /// The element as JSON, when it is JSON at all: to name it in the log, and for a caller
    /// to see what it belonged to (an episode's `seriesId`).
    pub element: Option<serde_json::Value>,
}

impl Malformed {
    fn new(bytes: &[u8], error: &serde_json::Error) -> Self {
        Malformed {
            error: error.to_string(),
            element: serde_json::from_slice(bytes).ok(),
        }
    }

    /// A field of the element (`"seriesId"`, `"Id"`), when it is there and readable as text or
    /// a number.
    pub fn field(&self, name: &str) -> Option<String> {
        match self.element.as_ref()?.get(name)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The element, shortened for a log line.
    pub fn snippet(&self) -> String {
        let text = self
            .element
            .as_ref()
            .map_or_else(|| "(not JSON)".to_owned(), |v| v.to_string());
        snippet(text.as_bytes())
    }
}

/// Up to this many malformed elements are tolerated in one list, and no more than one in twenty
/// (one in a short list, never all): beyond that the list is not the API shelflife knows (a new
/// server version, a proxy's page), and a pass that read it would decide on noise.
const MAX_MALFORMED: usize = 10;

/// Whether `malformed` of `elements` is more than a list may have and still be trusted.
pub fn too_many_malformed(malformed: usize, elements: usize) -> bool {
    malformed > MAX_MALFORMED
        || malformed > (elements / 20).max(1)
        || (malformed > 0 && malformed >= elements)
}

/// A list read with [`ServiceClient::get_grouped`]: the kept values by group, and the elements
/// that could not be read.
#[derive(Debug)]
pub struct Grouped<K, V> {
    pub groups: HashMap<K, Vec<V>>,
    pub malformed: Vec<Malformed>,
}

/// A JSON array's elements of type `T`, parsed one at a time and each turned into a group key
/// and a value, or dropped.
struct GroupedArray<T, K, V, F> {
    splitter: ArraySplitter,
    max_element: usize,
    group: F,
    groups: HashMap<K, Vec<V>>,
    elements: usize,
    malformed: Vec<Malformed>,
    element: std::marker::PhantomData<fn() -> T>,
}

impl<T, K, V, F> BodySink for GroupedArray<T, K, V, F>
where
    T: DeserializeOwned,
    K: Hash + Eq + Send,
    V: Send,
    F: FnMut(T) -> Option<(K, V)> + Send,
{
    fn reset(&mut self) {
        self.splitter = ArraySplitter::new(self.max_element);
        self.groups.clear();
        self.elements = 0;
        self.malformed.clear();
    }

    fn feed(&mut self, chunk: &[u8]) -> Result<(), serde_json::Error> {
        let (group, groups) = (&mut self.group, &mut self.groups);
        let (elements, malformed) = (&mut self.elements, &mut self.malformed);
        self.splitter.feed(chunk, |bytes: &[u8]| {
            *elements += 1;
            let item: T = match serde_json::from_slice(bytes) {
                Ok(item) => item,
                Err(error) => {
                    malformed.push(Malformed::new(bytes, &error));
                    if malformed.len() > MAX_MALFORMED {
                        return Err(error);
                    }
                    return Ok(());
                }
            };
            if let Some((key, value)) = group(item) {
                let values = groups.entry(key).or_default();
                if values.len() == values.capacity() {
                    // By a quarter, not double: on a large calendar these groups are most of
                    // what a pass holds, and doubling leaves up to half of them unused.
                    values.reserve_exact((values.len() / 4).max(4));
                }
                values.push(value);
            }
            Ok(())
        })
    }

    fn finish(&mut self) -> Result<(), serde_json::Error> {
        self.splitter.finish().map_err(serde_json::Error::from)?;
        if too_many_malformed(self.malformed.len(), self.elements) {
            let first = self.malformed.first().map_or("", |m| m.error.as_str());
            return Err(<serde_json::Error as serde::de::Error>::custom(format!(
                "{} of its {} elements could not be read, too many to trust the rest (the first: {first})",
                self.malformed.len(),
                self.elements
            )));
        }
        for values in self.groups.values_mut() {
            values.shrink_to_fit();
        }
        Ok(())
    }
}

impl From<SplitError> for serde_json::Error {
    fn from(err: SplitError) -> Self {
        <serde_json::Error as serde::de::Error>::custom(err)
    }
}

impl ServiceClient {
    /// `GET path?query` of a big list whose answer is a JSON array, read element by element as
    /// it arrives: the elements `keep` accepts are kept, the others dropped at once. The body is
    /// never in memory, only one element at a time. An element that cannot be read is logged and
    /// left out (see [`Malformed`]); too many of them fail the list.
    pub async fn get_filtered<T: DeserializeOwned + Send>(
        &self,
        path: &str,
        query: &[(&str, String)],
        keep: impl Fn(&T) -> bool + Send,
    ) -> Result<Vec<T>, ApiError> {
        self.get_mapped(path, query, move |item: T| keep(&item).then_some(item))
            .await
    }

    /// [`ServiceClient::get_filtered`], each element turned by `map` into what is kept (usually
    /// something smaller), or `None` to drop it, as soon as it is read.
    pub async fn get_mapped<T, V>(
        &self,
        path: &str,
        query: &[(&str, String)],
        mut map: impl FnMut(T) -> Option<V> + Send,
    ) -> Result<Vec<V>, ApiError>
    where
        T: DeserializeOwned,
        V: Send,
    {
        let mut listed = self
            .get_grouped(path, query, move |item: T| map(item).map(|v| ((), v)))
            .await?;
        for m in &listed.malformed {
            self.log_malformed(path, m);
        }
        Ok(listed.groups.remove(&()).unwrap_or_default())
    }

    /// Every readable element of the big JSON array at `GET path?query`, read as it arrives: a
    /// large list is never in memory twice (as a body and as values).
    pub async fn get_list<T: DeserializeOwned + Send>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, ApiError> {
        self.get_filtered(path, query, |_| true).await
    }

    /// Logs an element of `path`'s answer that could not be read, and that is left alone.
    pub fn log_malformed(&self, path: &str, m: &Malformed) {
        tracing::warn!(
            service = %self.service,
            endpoint = path,
            "{} sent an element of GET {path} that cannot be read; what it describes is left              alone: {}; element: {}",
            self.service,
            m.error,
            m.snippet()
        );
    }

    /// [`ServiceClient::get_filtered`], with the elements sorted into groups as they arrive:
    /// `group` turns an element into its group's key and the value to keep (usually something
    /// smaller), or `None` to drop it. The values of a group keep the order of the answer. The
    /// elements that could not be read come back for the caller to judge.
    pub async fn get_grouped<T, K, V>(
        &self,
        path: &str,
        query: &[(&str, String)],
        group: impl FnMut(T) -> Option<(K, V)> + Send,
    ) -> Result<Grouped<K, V>, ApiError>
    where
        T: DeserializeOwned,
        K: Hash + Eq + Send,
        V: Send,
    {
        let mut sink = GroupedArray {
            splitter: ArraySplitter::new(self.settings.max_body_bytes),
            max_element: self.settings.max_body_bytes,
            group,
            groups: HashMap::new(),
            elements: 0,
            malformed: Vec::new(),
            element: std::marker::PhantomData,
        };
        self.send_into(
            Method::GET,
            path,
            query,
            None::<&()>,
            Some(&mut sink),
            Class::List,
        )
        .await?;
        Ok(Grouped {
            groups: sink.groups,
            malformed: sink.malformed,
        })
    }
}
