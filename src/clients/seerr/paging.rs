//! Reading one of Seerr's paged lists (`/request`, `/media`) whole: page by page in a stable
//! order, checked, and read again from the start when it changed while it was read. A list that
//! will not hold still is an error, never a part of it.
//!
//! Seerr pages with `take` and `skip` over a database query (TypeORM `take`/`skip`), and answers
//! each page with `pageInfo.results`, the number of records the whole query matches now. Offset
//! paging over a list that changes is not a snapshot: a record removed from an earlier page
//! moves every later one up a place, and one is never seen; one added before the reader's
//! position moves them down, and one is seen twice. So:
//!
//! - the order is a total one, by id (unique), and for requests the one that new records go to
//!   the end of (see `SeerrClient::requests`);
//! - each page after the first starts one record early and must begin with the record the last
//!   page ended with: a shift in either direction shows there, even when a removal and an
//!   addition leave the total as it was;
//! - `pageInfo.results` must be the same on every page, and the distinct ids must come to it;
//! - records are kept once each by id.
//!
//! When a check fails, the list is read again from the start, [`LIST_READS`] times in all; then
//! the reading fails with [`ApiError::Incomplete`].

use std::collections::HashSet;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Media, Request, SeerrClient};
use crate::clients::http::{snippet, Answer, ApiError, Class, Endpoint};

/// Times a list is read from the start when it changed while it was paged.
pub(super) const LIST_READS: usize = 3;

/// A bound on pages per reading, against a server that never stops sending records: a million
/// records at the default page size, far beyond any home server's requests.
const MAX_PAGES: usize = 10_000;

/// A record of a paged list, known by its id.
pub(super) trait Record: DeserializeOwned {
    fn id(&self) -> i64;
}

impl Record for Request {
    fn id(&self) -> i64 {
        self.id
    }
}

impl Record for Media {
    fn id(&self) -> i64 {
        self.id
    }
}

/// A page as it comes off the wire: each record kept as its raw JSON, read one at a time so
/// that an error names the record it is about.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPage<'a> {
    /// Required: without its total a page cannot be checked.
    page_info: PageInfo,
    #[serde(borrow)]
    results: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct PageInfo {
    /// How many records the whole query matches, at the time of this page.
    results: usize,
}

/// One reading of a list.
enum Reading<T> {
    Whole(Vec<T>),
    /// It changed while it was read: why.
    Changed(String),
}

impl SeerrClient {
    /// Every record of `GET path?query` (without `take` and `skip`, which are added here),
    /// read as the module describes.
    pub(super) async fn read_all<T: Record>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, ApiError> {
        let mut why = String::new();
        for reading in 1..=LIST_READS {
            match self.read_once(path, query).await? {
                Reading::Whole(records) => return Ok(records),
                Reading::Changed(changed) => {
                    tracing::info!(
                        service = %self.api.server(),
                        endpoint = path,
                        reading,
                        "Seerr's list at GET {path} changed while it was read ({changed}); \
                         reading it again"
                    );
                    why = changed;
                }
            }
        }
        Err(ApiError::Incomplete {
            service: self.api.server(),
            endpoint: endpoint(path),
            readings: LIST_READS,
            why: format!("it kept changing while it was read; the last time {why}"),
        })
    }

    /// One reading, page by page.
    async fn read_once<T: Record>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Reading<T>, ApiError> {
        let mut records: Vec<T> = Vec::new();
        let mut seen: HashSet<i64> = HashSet::new();
        let mut total: Option<usize> = None;
        let mut anchor: Option<i64> = None;
        let mut offset = 0;
        for _ in 0..MAX_PAGES {
            let overlap = usize::from(anchor.is_some());
            let mut paged = query.to_vec();
            paged.push(("take", (self.page_size + overlap).to_string()));
            paged.push(("skip", (offset - overlap).to_string()));
            let answer = self.api.get(path, &paged, Class::List).await?;
            let page: RawPage<'_> = serde_json::from_slice(&answer.body)
                .map_err(|e| self.api.protocol(&Method::GET, path, &answer, e))?;
            let now = page.page_info.results;
            match total {
                Some(before) if before != now => {
                    return Ok(Reading::Changed(format!(
                        "its total went from {before} to {now}"
                    )))
                }
                _ => total = Some(now),
            }
            let mut read = page
                .results
                .iter()
                .map(|raw| self.record(path, &answer, raw))
                .collect::<Result<Vec<T>, ApiError>>()?;
            if let Some(expected) = anchor {
                match read.first() {
                    Some(first) if first.id() == expected => {
                        read.remove(0);
                    }
                    _ => {
                        return Ok(Reading::Changed(
                            "its records moved between two pages".to_owned(),
                        ))
                    }
                }
            }
            let got = read.len();
            offset += got;
            anchor = read.last().map(Record::id).or(anchor);
            for record in read {
                if seen.insert(record.id()) {
                    records.push(record);
                }
            }
            if got == 0 || offset >= now {
                if seen.len() != now {
                    return Ok(Reading::Changed(format!(
                        "it came to {} distinct records, not {now}",
                        seen.len()
                    )));
                }
                return Ok(Reading::Whole(records));
            }
        }
        // Not a change that reading again would get past: a list this long is not Seerr's.
        Err(ApiError::Incomplete {
            service: self.api.server(),
            endpoint: endpoint(path),
            readings: 1,
            why: format!("it did not end after {MAX_PAGES} pages"),
        })
    }

    /// One record of a page; a record that cannot be read fails the whole list (see the
    /// module's notes on why none is left out).
    fn record<T: Record>(
        &self,
        path: &str,
        answer: &Answer,
        raw: &RawValue,
    ) -> Result<T, ApiError> {
        serde_json::from_str(raw.get()).map_err(|source| ApiError::Protocol {
            service: self.api.server(),
            endpoint: endpoint(path),
            status: answer.status,
            snippet: snippet(raw.get().as_bytes()),
            source,
        })
    }
}

fn endpoint(path: &str) -> Endpoint {
    Endpoint {
        method: Method::GET,
        path: path.to_owned(),
    }
}
