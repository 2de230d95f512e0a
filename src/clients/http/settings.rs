//! The limits of one service's requests, and the kinds of request they tell apart.

use std::time::Duration;

/// Limits applied to every request of one service.
///
/// Requests come in three kinds ([`Class`]), because the servers treat them differently. A small
/// read (tags, root folders, one item) answers in milliseconds and gets [`HttpSettings::timeout`].
/// A big list (Radarr's movies, Sonarr's series or calendar, a page of Jellyfin items) is built
/// whole before its first byte is sent, which on a Raspberry Pi with a large library takes
/// minutes: it gets [`HttpSettings::list_timeout`] for its first byte. A write (a delete, an
/// unmonitor) is carried out by the server even when its client has gone, so it is resent only
/// when it surely did not arrive; otherwise the caller looks at what happened instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Deadline of one small request or write, from connecting to the last byte of the body;
    /// between two chunks of a list's body, the longest pause.
    pub timeout: Duration,
    /// Deadline for the first byte of a big list's answer. The whole attempt may take twice this.
    pub list_timeout: Duration,
    /// Deadline for the TCP (and TLS) connection: a server that is down is known quickly.
    pub connect_timeout: Duration,
    /// A response body longer than this is refused ([`ApiError::TooLarge`](super::ApiError::TooLarge)). A Radarr library of
    /// 10k movies is about 50 MB of JSON, hence the generous default.
    pub max_body_bytes: usize,
    /// Extra attempts after the first for transient failures of small reads, and for writes that
    /// were refused before the server acted (no connection, 429, 503). A list is retried once.
    pub retries: u32,
    /// Delay before the first retry; doubles on each further one, with jitter.
    pub backoff_base: Duration,
}

/// What a request is, for its deadlines and for whether it may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A small read: short deadline, retried on any transient failure.
    Small,
    /// A big list, built whole by the server before it answers: a long deadline for the first
    /// byte, retried at most once (a list that timed out twice will not come a third time).
    List,
    /// A write (DELETE, PUT, POST): resent only when it surely did not reach the server or was
    /// refused before any work (no connection, 429, 503). A timeout or a 500 may hide a change
    /// that happened: the caller finds out by reading, never by sending it again.
    Write,
}

impl HttpSettings {
    /// The longest one request of `class` can take: every attempt to its deadline, and the
    /// longest wait between attempts. What a caller with its own deadline (the monitor's round,
    /// a pass waiting for a killed pass's last write) must allow.
    pub fn longest(&self, class: Class) -> Duration {
        let attempts = self.attempts(class);
        let per_attempt = match class {
            Class::List => self.list_timeout.saturating_mul(2),
            Class::Small | Class::Write => self.timeout,
        };
        // The connection is part of each attempt's deadline.
        per_attempt.saturating_mul(attempts) + MAX_DELAY.saturating_mul(attempts - 1)
    }

    /// [`HttpSettings::longest`] of a small read: what the monitor's checks send.
    pub fn longest_request(&self) -> Duration {
        self.longest(Class::Small)
    }

    /// How many times a request of `class` may be sent in all.
    pub(super) fn attempts(&self, class: Class) -> u32 {
        match class {
            Class::List => 1 + self.retries.min(1),
            Class::Small | Class::Write => 1 + self.retries,
        }
    }
}

/// The longest wait between attempts, whatever the backoff or a `Retry-After` asks for: a pass is
/// a short batch job, and a server that wants minutes of quiet is better left to the next pass.
pub(super) const MAX_DELAY: Duration = Duration::from_secs(30);
