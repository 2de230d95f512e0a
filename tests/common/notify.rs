//! The socket systemd listens on for sd-notify messages (`NOTIFY_SOCKET`), bound by a test.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

/// One datagram, with when it came.
#[derive(Debug, Clone)]
pub struct Message {
    pub at: Instant,
    pub text: String,
}

pub struct Notify {
    socket: UnixDatagram,
    pub path: std::path::PathBuf,
    pub seen: Vec<Message>,
}

impl Notify {
    pub fn bind(dir: &std::path::Path) -> Notify {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        Notify {
            socket,
            path,
            seen: Vec::new(),
        }
    }

    /// Collects messages until `until` holds for one of them or `limit` passes; true if it held.
    pub fn collect_until(&mut self, limit: Duration, until: impl Fn(&str) -> bool) -> bool {
        let end = Instant::now() + limit;
        let mut buf = [0u8; 4096];
        while Instant::now() < end {
            if let Ok(n) = self.socket.recv(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                let hit = until(&text);
                self.seen.push(Message {
                    at: Instant::now(),
                    text,
                });
                if hit {
                    return true;
                }
            }
        }
        false
    }

    /// Collects messages until `done` holds for all of them so far (say, three pings seen) or
    /// `limit` passes; true if it held.
    pub fn collect_until_all(&mut self, limit: Duration, done: impl Fn(&Notify) -> bool) -> bool {
        let end = Instant::now() + limit;
        while !done(self) {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.collect_until(left.min(Duration::from_millis(100)), |_| true);
        }
        true
    }

    /// Everything already queued on the socket, without waiting.
    pub fn drain(&mut self) {
        self.socket.set_nonblocking(true).expect("nonblocking");
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.socket.recv(&mut buf) {
            self.seen.push(Message {
                at: Instant::now(),
                text: String::from_utf8_lossy(&buf[..n]).into_owned(),
            });
        }
        self.socket.set_nonblocking(false).expect("blocking");
    }

    /// The messages with a line starting with `line`.
    pub fn all(&self, line: &str) -> Vec<&Message> {
        self.seen
            .iter()
            .filter(|m| m.text.lines().any(|l| l.starts_with(line)))
            .collect()
    }

    /// The values of every `KEY=` line, in order.
    pub fn values(&self, key: &str) -> Vec<String> {
        let prefix = format!("{key}=");
        self.seen
            .iter()
            .flat_map(|m| m.text.lines())
            .filter_map(|l| l.strip_prefix(&prefix))
            .map(str::to_owned)
            .collect()
    }
}
