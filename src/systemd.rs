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

/// When the work loop last showed it was alive. The loop beats; the pinger reads.
#[derive(Debug)]
pub struct Heartbeat {
    origin: Instant,
    /// Milliseconds after `origin` of the last beat.
    last: AtomicU64,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat {
            origin: Instant::now(),
            last: AtomicU64::new(0),
        }
    }
}

impl Heartbeat {
    pub fn beat(&self) {
        let now = self.origin.elapsed().as_millis() as u64;
        self.last.store(now, Ordering::Relaxed);
    }

    /// Time since the last beat.
    pub fn age(&self) -> Duration {
        let now = self.origin.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.last.load(Ordering::Relaxed)))
    }
}

/// Starts a thread that calls `ping` every half `watchdog`, but only while `heartbeat` is younger
/// than `watchdog`: a loop that stops beating stops the pings, and systemd restarts the service.
/// A plain thread rather than a task, so a wedged async runtime cannot ping on the loop's behalf
/// either. The thread lives as long as the process.
pub fn spawn_pinger(
    heartbeat: Arc<Heartbeat>,
    watchdog: Duration,
    ping: impl Fn() + Send + 'static,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || loop {
            std::thread::sleep(watchdog / 2);
            if heartbeat.age() < watchdog {
                ping();
            } else {
                tracing::warn!(
                    "the check loop has not moved for {}; not pinging the watchdog",
                    humantime::format_duration(heartbeat.age())
                );
            }
        })
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn pings_only_while_the_heartbeat_is_fresh() {
        let heartbeat = Arc::new(Heartbeat::default());
        heartbeat.beat();
        let pings = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&pings);
        spawn_pinger(
            Arc::clone(&heartbeat),
            Duration::from_millis(200),
            move || {
                counter.fetch_add(1, Ordering::SeqCst);
            },
        )
        .expect("thread");
        // Beating keeps the pings coming.
        for _ in 0..10 {
            std::thread::sleep(Duration::from_millis(50));
            heartbeat.beat();
        }
        let while_beating = pings.load(Ordering::SeqCst);
        assert!(while_beating >= 2, "{while_beating} pings in 500 ms");
        // A loop that stops beating: after at most one more ping, none.
        std::thread::sleep(Duration::from_millis(300));
        let settled = pings.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(
            pings.load(Ordering::SeqCst),
            settled,
            "pinged for a stale loop"
        );
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
        let heartbeat = Heartbeat::default();
        std::thread::sleep(Duration::from_millis(30));
        assert!(heartbeat.age() >= Duration::from_millis(30));
        heartbeat.beat();
        assert!(heartbeat.age() < Duration::from_millis(30));
    }
}
