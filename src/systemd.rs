//! The systemd edge: sd-notify messages and the watchdog pinger. Everything is a no-op when the
//! process was not started by systemd (no `NOTIFY_SOCKET`), and a failed notify is logged, never
//! fatal: systemd is told how things go, it does not decide whether they go.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use sd_notify::NotifyState;

/// Sends `states` to the service manager, if there is one.
pub fn notify(states: &[NotifyState]) {
    if let Err(err) = sd_notify::notify(states) {
        tracing::warn!("cannot notify systemd: {err}");
    }
}

/// `STATUS=`: one line shown by `systemctl status`.
pub fn status(text: &str) {
    notify(&[NotifyState::Status(text)]);
}

/// How long a pass may go from one progress report to the next before systemd's start timeout
/// (`TimeoutStartSec=` of the unit) may stop it: longer than any one request takes, retries
/// included; the longest is a big list on a slow server (the config refuses settings that let
/// one take longer).
pub const PROGRESS_GRACE: std::time::Duration = std::time::Duration::from_secs(20 * 60);

/// `STATUS=` with `EXTEND_TIMEOUT_USEC=`: the pass is alive and at `text`.
pub fn progress(text: &str) {
    let grace = u32::try_from(PROGRESS_GRACE.as_micros()).unwrap_or(u32::MAX);
    notify(&[
        NotifyState::Status(text),
        NotifyState::ExtendTimeoutUsec(grace),
    ]);
}

/// The watchdog interval systemd expects pings within (`WATCHDOG_USEC`), when it expects any.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled().filter(|d| !d.is_zero())
}

/// When the work loop last showed it was alive. The loop beats; the pinger reads. Both pass the
/// time in (they read the clock at the edge), so what follows from a beat is tested without
/// waiting for it.
#[derive(Debug)]
pub struct Heartbeat {
    origin: Instant,
    /// Milliseconds after `origin` of the last beat.
    last: AtomicU64,
}

impl Heartbeat {
    /// A heartbeat whose first beat is at `now`.
    pub fn new(now: Instant) -> Self {
        Heartbeat {
            origin: now,
            last: AtomicU64::new(0),
        }
    }

    /// The loop is alive at `now`. A `now` before the last beat changes nothing.
    pub fn beat(&self, now: Instant) {
        self.last.fetch_max(self.millis(now), Ordering::Relaxed);
    }

    /// Time from the last beat to `now`.
    pub fn age(&self, now: Instant) -> Duration {
        let last = self.last.load(Ordering::Relaxed);
        Duration::from_millis(self.millis(now).saturating_sub(last))
    }

    fn millis(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_millis()).unwrap_or(u64::MAX)
    }
}

/// The pinger's rule: ping at `now` only while `heartbeat` is younger than `watchdog`.
fn fresh(heartbeat: &Heartbeat, watchdog: Duration, now: Instant) -> bool {
    heartbeat.age(now) < watchdog
}

/// Starts a thread that calls `ping` every half `watchdog`, but only while `heartbeat` is younger
/// than `watchdog` (`fresh`): a loop that stops beating stops the pings, and systemd restarts
/// the service. A plain thread rather than a task, so a wedged async runtime cannot ping on the
/// loop's behalf either. The thread lives as long as the process.
pub fn spawn_pinger(
    heartbeat: Arc<Heartbeat>,
    watchdog: Duration,
    ping: impl Fn() + Send + 'static,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || loop {
            std::thread::sleep(watchdog / 2);
            let now = Instant::now();
            if fresh(&heartbeat, watchdog, now) {
                ping();
            } else {
                tracing::warn!(
                    "the check loop has not moved for {}; not pinging the watchdog",
                    humantime::format_duration(heartbeat.age(now))
                );
            }
        })
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pinger's ticks (every half watchdog) against a loop that beats for a while and then
    /// stops: pings while it beats, at most one more, then none.
    #[test]
    fn pings_only_while_the_heartbeat_is_fresh() {
        let watchdog = Duration::from_millis(200);
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let heartbeat = Heartbeat::new(t0);
        let mut pings = Vec::new();
        // The loop beats every 50 ms for 500 ms, then stops; the pinger ticks every 100 ms.
        for ms in (0..=1500).step_by(50) {
            if ms <= 500 {
                heartbeat.beat(at(ms));
            }
            if ms > 0 && ms % 100 == 0 && fresh(&heartbeat, watchdog, at(ms)) {
                pings.push(ms);
            }
        }
        assert_eq!(pings, [100, 200, 300, 400, 500, 600], "pinged at these ms");
    }

    #[test]
    fn a_heartbeat_exactly_one_watchdog_old_is_stale() {
        let watchdog = Duration::from_secs(3);
        let t0 = Instant::now();
        let heartbeat = Heartbeat::new(t0);
        assert!(fresh(
            &heartbeat,
            watchdog,
            t0 + Duration::from_millis(2999)
        ));
        assert!(!fresh(&heartbeat, watchdog, t0 + watchdog));
    }

    #[test]
    fn progress_grace_outlasts_the_slowest_request() {
        let slowest = crate::clients::http::HttpSettings::default()
            .longest(crate::clients::http::Class::List);
        assert!(
            PROGRESS_GRACE > slowest,
            "{PROGRESS_GRACE:?} vs {slowest:?}"
        );
        assert!(PROGRESS_GRACE.as_micros() <= u128::from(u32::MAX));
    }

    #[test]
    fn age_counts_from_the_last_beat() {
        let t0 = Instant::now();
        let heartbeat = Heartbeat::new(t0);
        assert_eq!(heartbeat.age(t0), Duration::ZERO);
        assert_eq!(
            heartbeat.age(t0 + Duration::from_secs(7)),
            Duration::from_secs(7)
        );
        heartbeat.beat(t0 + Duration::from_secs(5));
        assert_eq!(
            heartbeat.age(t0 + Duration::from_secs(7)),
            Duration::from_secs(2)
        );
        // A late reading of the clock does not move the beat back.
        heartbeat.beat(t0 + Duration::from_secs(1));
        assert_eq!(
            heartbeat.age(t0 + Duration::from_secs(7)),
            Duration::from_secs(2)
        );
        // A `now` before the first beat is no age, not an underflow.
        assert_eq!(
            Heartbeat::new(t0 + Duration::from_secs(1)).age(t0),
            Duration::ZERO
        );
    }
}
