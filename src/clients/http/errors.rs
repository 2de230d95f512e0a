//! What can go wrong: a client that cannot be built, and a request that failed, named by what
//! the caller does next.

use std::fmt;

use reqwest::{Method, StatusCode};

use super::Server;

/// How much of a response body an error message quotes.
pub(super) const SNIPPET_CHARS: usize = 200;

/// A client that cannot be built: the configuration is wrong, no request was made.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot set up the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    #[error("the {service} URL {url:?} is not usable: {reason}")]
    BadUrl {
        service: Server,
        url: String,
        reason: String,
    },
    #[error("the {service} API key is empty or contains characters not allowed in an HTTP header")]
    BadKey { service: Server },
}

/// A request as error messages name it: method and path below the base URL, no query string
/// (queries carry ids, never secrets, but they make messages long and unstable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub method: Method,
    pub path: String,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Why the last attempt of a request that is given up on failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The server answered with this (5xx or 429) status.
    Status(StatusCode),
    /// No connection could be made.
    Connect,
    /// The attempt did not finish within [`HttpSettings::timeout`](super::HttpSettings::timeout).
    Timeout,
    /// The connection broke while sending or reading.
    Transport,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Status(s) => write!(f, "it answered {s}"),
            Cause::Connect => f.write_str("cannot connect"),
            Cause::Timeout => f.write_str("no complete answer within the timeout"),
            Cause::Transport => f.write_str("the connection failed"),
        }
    }
}

/// A failed request, named by what the caller does next. Every variant names the service and the
/// endpoint, and the status when there was one.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401/403: the key is wrong or lacks rights. Fix the configuration; retrying cannot help.
    #[error("{service} answered {status} for {endpoint}: check the API key")]
    Unauthorized {
        service: Server,
        endpoint: Endpoint,
        status: StatusCode,
    },
    /// 404: the server does not know the item (any more).
    #[error("{service} answered {status} for {endpoint}: no such item")]
    NotFound {
        service: Server,
        endpoint: Endpoint,
        status: StatusCode,
    },
    /// 409: the *arr says the root folder is missing or empty. The storage is not there: stop
    /// the pass, delete nothing more.
    #[error("{service} answered {status} for {endpoint}: its root folder is missing or empty, so the storage is not there (body starts: {snippet})")]
    Conflict {
        service: Server,
        endpoint: Endpoint,
        status: StatusCode,
        snippet: String,
    },
    /// Any other 4xx: the server refused this request; a retry would be refused the same way.
    #[error("{service} rejected {endpoint} with {status}: {snippet}")]
    Rejected {
        service: Server,
        endpoint: Endpoint,
        status: StatusCode,
        snippet: String,
    },
    /// 5xx, 429, no connection or a timeout, still so after the retries. Try again later.
    #[error("{service} is unavailable for {endpoint} after {attempts} attempt(s): {cause}")]
    Unavailable {
        service: Server,
        endpoint: Endpoint,
        attempts: u32,
        cause: Cause,
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The body is not the JSON the API documents describe.
    #[error("{service} sent a response to {endpoint} that is not the expected JSON: {source}; body starts: {snippet}")]
    Protocol {
        service: Server,
        endpoint: Endpoint,
        status: StatusCode,
        snippet: String,
        #[source]
        source: serde_json::Error,
    },
    /// The body exceeded [`HttpSettings::max_body_bytes`](super::HttpSettings::max_body_bytes).
    #[error(
        "{service} sent a response to {endpoint} ({status}) larger than the limit of {limit} bytes"
    )]
    TooLarge {
        service: Server,
        endpoint: Endpoint,
        status: StatusCode,
        limit: usize,
    },
    /// A paged list could not be read whole: it kept changing between its pages (offset paging
    /// over a list that changes shifts records past the reader), or it did not end. A partial
    /// list would make the caller decide on records that are missing; try again later.
    #[error("{service} could not be read whole at {endpoint} after {readings} reading(s): {why}")]
    Incomplete {
        service: Server,
        endpoint: Endpoint,
        readings: usize,
        why: String,
    },
    /// shelflife refused to send a request that the server is known to mishandle (such as an
    /// empty bulk delete). A bug in the caller; nothing was sent.
    #[error("{endpoint} was not sent to {service}: {reason}")]
    NotSent {
        service: Server,
        endpoint: Endpoint,
        reason: &'static str,
    },
}

impl ApiError {
    /// True when the same request may succeed later (the server was down, slow or overloaded,
    /// or a list changed while it was read).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ApiError::Unavailable { .. } | ApiError::Incomplete { .. }
        )
    }

    /// For a write: true when the server may have carried it out, in part or whole, although
    /// no success came back: the answer never came (a timeout, a broken connection), or the
    /// server failed midway (a 5xx other than 503). The caller must look before acting again.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            ApiError::Unavailable { cause, .. } => match cause {
                Cause::Timeout | Cause::Transport => true,
                Cause::Status(s) => s.is_server_error() && *s != StatusCode::SERVICE_UNAVAILABLE,
                Cause::Connect => false,
            },
            _ => false,
        }
    }

    /// The server that failed.
    pub fn service(&self) -> Server {
        match self {
            ApiError::Unauthorized { service, .. }
            | ApiError::NotFound { service, .. }
            | ApiError::Conflict { service, .. }
            | ApiError::Rejected { service, .. }
            | ApiError::Unavailable { service, .. }
            | ApiError::Protocol { service, .. }
            | ApiError::TooLarge { service, .. }
            | ApiError::Incomplete { service, .. }
            | ApiError::NotSent { service, .. } => *service,
        }
    }

    /// The HTTP status of the last answer, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Unauthorized { status, .. }
            | ApiError::NotFound { status, .. }
            | ApiError::Conflict { status, .. }
            | ApiError::Rejected { status, .. }
            | ApiError::Protocol { status, .. }
            | ApiError::TooLarge { status, .. } => Some(*status),
            ApiError::Unavailable {
                cause: Cause::Status(s),
                ..
            } => Some(*s),
            ApiError::Unavailable { .. }
            | ApiError::Incomplete { .. }
            | ApiError::NotSent { .. } => None,
        }
    }
}

/// The first [`SNIPPET_CHARS`] characters of a body, lossily decoded, for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    let head = &body[..body.len().min(SNIPPET_CHARS * 4)];
    let text = String::from_utf8_lossy(head);
    let mut s: String = text.chars().take(SNIPPET_CHARS).collect();
    if text.chars().count() > SNIPPET_CHARS || head.len() < body.len() {
        s.push('…');
    }
    if s.is_empty() {
        s.push_str("(empty)");
    }
    s
}

/// The error of a final answer with `status` that is neither a success nor transient: what the
/// caller does next depends on which.
pub(super) fn status_error(
    service: Server,
    endpoint: Endpoint,
    status: StatusCode,
    body: &[u8],
) -> ApiError {
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ApiError::Unauthorized {
            service,
            endpoint,
            status,
        },
        StatusCode::NOT_FOUND => ApiError::NotFound {
            service,
            endpoint,
            status,
        },
        StatusCode::CONFLICT => ApiError::Conflict {
            service,
            endpoint,
            status,
            snippet: snippet(body),
        },
        _ => ApiError::Rejected {
            service,
            endpoint,
            status,
            snippet: snippet(body),
        },
    }
}
