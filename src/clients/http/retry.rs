//! Sending a request until it is answered or given up on: the loop over attempts, which
//! failures may be sent again, and how long to wait before the next attempt.

use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use serde::Serialize;

use super::attempt::{Attempt, BodySink};
use super::errors::status_error;
use super::settings::MAX_DELAY;
use super::{Answer, ApiError, Cause, Class, ServiceClient};

impl ServiceClient {
    /// [`ServiceClient::send`], with a 2xx body going to `sink` (when given) as it arrives.
    pub(super) async fn send_into<'s, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        mut sink: Option<&mut (dyn BodySink + 's)>,
        class: Class,
    ) -> Result<Answer, ApiError> {
        let url = self.url(&method, path, query)?;
        // A body is serialized once, before any attempt; this cannot fail for the plain structs
        // the clients send, but a failure is still reported rather than unwrapped.
        let body = match body.map(serde_json::to_vec).transpose() {
            Ok(b) => b,
            Err(_) => {
                return Err(ApiError::NotSent {
                    service: self.service,
                    endpoint: self.endpoint(&method, path),
                    reason: "the request body could not be serialized",
                })
            }
        };
        let attempts_allowed = self.settings.attempts(class);
        let mut attempt_no = 0;
        loop {
            attempt_no += 1;
            if let Some(sink) = sink.as_deref_mut() {
                sink.reset();
            }
            let started = std::time::Instant::now();
            let outcome = self
                .attempt(&method, &url, body.as_deref(), sink.as_deref_mut(), class)
                .await;
            let ok = matches!(&outcome, Attempt::Answered { status, .. } if status.is_success());
            tracing::debug!(
                service = %self.service,
                endpoint = %self.endpoint(&method, path),
                ok,
                ms = started.elapsed().as_millis() as u64,
                "request"
            );
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            if !ok {
                self.counters.errors.fetch_add(1, Ordering::Relaxed);
            }
            let (delay_hint, cause, source) = match outcome {
                Attempt::Answered { status, body, .. } if status.is_success() => {
                    return Ok(Answer { status, body })
                }
                Attempt::Answered {
                    status,
                    retry_after,
                    body,
                } => {
                    if !is_transient_status(status) {
                        return Err(status_error(
                            self.service,
                            self.endpoint(&method, path),
                            status,
                            &body,
                        ));
                    }
                    (retry_after, Cause::Status(status), None)
                }
                Attempt::Failed { cause, source } => (None, cause, source),
                Attempt::Malformed {
                    status,
                    error,
                    snippet,
                } => {
                    return Err(ApiError::Protocol {
                        service: self.service,
                        endpoint: self.endpoint(&method, path),
                        status,
                        snippet,
                        source: error,
                    })
                }
                Attempt::TooLarge { status } => {
                    return Err(ApiError::TooLarge {
                        service: self.service,
                        endpoint: self.endpoint(&method, path),
                        status,
                        limit: self.settings.max_body_bytes,
                    })
                }
            };
            if attempt_no >= attempts_allowed || !may_resend(class, &cause) {
                return Err(ApiError::Unavailable {
                    service: self.service,
                    endpoint: self.endpoint(&method, path),
                    attempts: attempt_no,
                    cause,
                    source,
                });
            }
            let delay = backoff(self.settings.backoff_base, attempt_no, delay_hint);
            tracing::debug!(
                service = %self.service,
                endpoint = %self.endpoint(&method, path),
                attempt = attempt_no,
                cause = %cause,
                delay_ms = delay.as_millis() as u64,
                "retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }
}

/// Whether a request of `class` that failed with `cause` may be sent again. A read may; a list
/// too (its attempts are fewer); a write only when the server surely did not act on it.
fn may_resend(class: Class, cause: &Cause) -> bool {
    match class {
        Class::Small | Class::List => true,
        Class::Write => match cause {
            Cause::Connect => true,
            Cause::Status(s) => {
                *s == StatusCode::TOO_MANY_REQUESTS || *s == StatusCode::SERVICE_UNAVAILABLE
            }
            Cause::Timeout | Cause::Transport => false,
        },
    }
}

fn is_transient_status(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

/// `Retry-After` in seconds. The HTTP-date form is ignored: the servers here send seconds if any.
pub(super) fn parse_retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    let secs: u64 = value?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
}

/// Delay before attempt `failed + 1`: `base * 2^(failed-1)`, scaled by a random factor in
/// [0.5, 1.5) so that several clients do not retry in step; at least what `Retry-After` asked
/// for; never more than [`MAX_DELAY`].
pub(super) fn backoff(base: Duration, failed: u32, retry_after: Option<Duration>) -> Duration {
    let exp = base.saturating_mul(1u32 << failed.saturating_sub(1).min(16));
    let jittered = exp.mul_f64(0.5 + fastrand::f64());
    jittered.max(retry_after.unwrap_or_default()).min(MAX_DELAY)
}
