//! One attempt of a request on the wire: its deadlines, its bounded body, a 2xx body streamed
//! into a sink as it arrives, and how the attempt ended.

use std::time::Duration;

use reqwest::header::{ACCEPT, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};

use super::errors::snippet;
use super::retry::parse_retry_after;
use super::{Cause, Class, ServiceClient};

/// One attempt's result before it is judged.
pub(super) enum Attempt {
    Answered {
        status: StatusCode,
        retry_after: Option<Duration>,
        body: Vec<u8>,
    },
    Failed {
        cause: Cause,
        source: Option<reqwest::Error>,
    },
    TooLarge {
        status: StatusCode,
    },
    /// A streamed body was not what the caller expected.
    Malformed {
        status: StatusCode,
        error: serde_json::Error,
        snippet: String,
    },
}

/// Where a 2xx body goes when it is read as it arrives instead of whole ([`ServiceClient::get_filtered`]).
pub(super) trait BodySink: Send {
    /// Starts over: a retry is about to send the body again.
    fn reset(&mut self);
    fn feed(&mut self, chunk: &[u8]) -> Result<(), serde_json::Error>;
    /// The body ended.
    fn finish(&mut self) -> Result<(), serde_json::Error>;
}

impl ServiceClient {
    /// One request, bounded in time and body size (a body that goes to `sink` is not held, so
    /// only its elements are bounded). A small request or a write must be over within
    /// `timeout`; a list must start answering within `list_timeout`, may pause no longer than
    /// `timeout` between chunks, and must be over within twice `list_timeout`.
    pub(super) async fn attempt<'s>(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
        mut sink: Option<&mut (dyn BodySink + 's)>,
        class: Class,
    ) -> Attempt {
        let settings = &self.settings;
        let (first_byte, whole) = match class {
            Class::List => (
                settings.list_timeout,
                settings.list_timeout.saturating_mul(2),
            ),
            Class::Small | Class::Write => (settings.timeout, settings.timeout),
        };
        let gap = settings.timeout;
        let mut req = self
            .client
            .request(method.clone(), url.clone())
            .header(self.auth.0.clone(), self.auth.1.clone())
            .header(ACCEPT, "application/json");
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_vec());
        }
        let limit = settings.max_body_bytes;
        let work = async {
            let mut resp = match tokio::time::timeout(first_byte, req.send()).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => return transport_failure(e),
                Err(_) => return timed_out(),
            };
            let status = resp.status();
            let retry_after = parse_retry_after(resp.headers().get(RETRY_AFTER));
            // An error answer is judged by its status; its body only feeds a snippet, so a
            // huge one is cut short rather than turned into `TooLarge`.
            let failed = !status.is_success();
            if let (false, Some(sink)) = (failed, sink.as_deref_mut()) {
                return stream_into(&mut resp, status, sink, gap).await;
            }
            if !failed && resp.content_length().is_some_and(|n| n > limit as u64) {
                return Attempt::TooLarge { status };
            }
            // Content-Length may be absent (chunked) or wrong: count what actually arrives.
            let mut buf = Vec::new();
            loop {
                match next_chunk(&mut resp, gap).await {
                    Ok(Some(chunk)) => {
                        if buf.len() + chunk.len() > limit {
                            if failed {
                                break;
                            }
                            return Attempt::TooLarge { status };
                        }
                        buf.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(failure) => return failure,
                }
            }
            Attempt::Answered {
                status,
                retry_after,
                body: buf,
            }
        };
        match tokio::time::timeout(whole, work).await {
            Ok(a) => a,
            Err(_) => timed_out(),
        }
    }
}

/// Reads a 2xx body into `sink` as it arrives.
async fn stream_into<'s>(
    resp: &mut reqwest::Response,
    status: StatusCode,
    sink: &mut (dyn BodySink + 's),
    gap: Duration,
) -> Attempt {
    // The last chunk (a cheap handle, not a copy), for the snippet of a body that ends badly.
    let mut last = None;
    let malformed = |error, last: &[u8]| Attempt::Malformed {
        status,
        error,
        snippet: snippet(last),
    };
    loop {
        match next_chunk(resp, gap).await {
            Ok(Some(chunk)) => {
                if let Err(error) = sink.feed(&chunk) {
                    return malformed(error, &chunk);
                }
                last = Some(chunk);
            }
            Ok(None) => break,
            Err(failure) => return failure,
        }
    }
    match sink.finish() {
        Ok(()) => Attempt::Answered {
            status,
            retry_after: None,
            body: Vec::new(),
        },
        Err(error) => malformed(error, last.as_deref().unwrap_or_default()),
    }
}

/// The next chunk of a body, when it comes within `gap` of the last one.
async fn next_chunk(
    resp: &mut reqwest::Response,
    gap: Duration,
) -> Result<Option<bytes::Bytes>, Attempt> {
    match tokio::time::timeout(gap, resp.chunk()).await {
        Ok(Ok(chunk)) => Ok(chunk),
        Ok(Err(e)) => Err(transport_failure(e)),
        Err(_) => Err(timed_out()),
    }
}

fn timed_out() -> Attempt {
    Attempt::Failed {
        cause: Cause::Timeout,
        source: None,
    }
}

fn transport_failure(e: reqwest::Error) -> Attempt {
    let cause = if e.is_timeout() {
        Cause::Timeout
    } else if e.is_connect() {
        Cause::Connect
    } else {
        Cause::Transport
    };
    Attempt::Failed {
        cause,
        // The URL is dropped so that no error ever carries more than the endpoint.
        source: Some(e.without_url()),
    }
}
