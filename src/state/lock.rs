//! The run lock: one pass at a time.
//!
//! An exclusive `flock(2)` on a lock file next to the database (`state.db.lock`). The kernel drops
//! the lock when the holder's descriptor closes, including when the process dies, so a lock left by
//! a killed pass is taken over without any staleness guess. The file keeps the holder's pid and start
//! time so the loser can say who holds it. The file is never deleted: unlinking a lock file lets
//! two processes lock two different inodes under one name.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// Why the run lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another pass is running: exit now, non-zero.
    #[error("another pass ({holder}) holds the lock {}", path.display())]
    Held { path: PathBuf, holder: Holder },

    /// The lock file could not be created, locked or written.
    #[error("cannot use the lock file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Who holds the lock, as far as its file says (it may be mid-write, hence the options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: Option<u32>,
    pub since: Option<Timestamp>,
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pid {
            Some(pid) => write!(f, "pid {pid}")?,
            None => f.write_str("pid unknown")?,
        }
        if let Some(since) = self.since {
            write!(f, ", started {since}")?;
        }
        Ok(())
    }
}

/// The held lock; dropping it releases it.
#[derive(Debug)]
pub struct RunLock {
    _file: Flock<File>,
    path: PathBuf,
}

impl RunLock {
    /// The conventional lock file of a database: `state.db` → `state.db.lock`.
    pub fn path_for(db: &Path) -> PathBuf {
        let mut name = db.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the lock without waiting, recording this process and `now` in the file.
    pub fn acquire(lock_path: &Path, now: Timestamp) -> Result<RunLock, LockError> {
        let io_err = |source| LockError::Io {
            path: lock_path.to_path_buf(),
            source,
        };
        // No truncation on open: the file may belong to the running holder.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock_path)
            .map_err(io_err)?;
        let mut file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(locked) => locked,
            Err((mut file, Errno::EWOULDBLOCK)) => {
                let holder = read_holder(&mut file);
                return Err(LockError::Held {
                    path: lock_path.to_path_buf(),
                    holder,
                });
            }
            Err((_, errno)) => return Err(io_err(errno.into())),
        };
        write_holder(&mut file, std::process::id(), now).map_err(io_err)?;
        Ok(RunLock {
            _file: file,
            path: lock_path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn write_holder(file: &mut File, pid: u32, now: Timestamp) -> io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(holder_text(pid, now).as_bytes())?;
    file.flush()
}

fn holder_text(pid: u32, now: Timestamp) -> String {
    // Whole seconds: the message is for people.
    let since = Timestamp::from_second(now.as_second()).unwrap_or(now);
    format!("pid={pid}\nsince={since}\n")
}

fn read_holder(file: &mut File) -> Holder {
    let mut text = String::new();
    // An unreadable file still means "held"; the message just lacks the details.
    let _ = file
        .seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_string(&mut text));
    parse_holder(&text)
}

fn parse_holder(text: &str) -> Holder {
    let mut holder = Holder {
        pid: None,
        since: None,
    };
    for line in text.lines() {
        match line.split_once('=') {
            Some(("pid", v)) => holder.pid = v.trim().parse().ok(),
            Some(("since", v)) => holder.since = v.trim().parse().ok(),
            _ => {}
        }
    }
    holder
}

#[cfg(test)]
mod tests {
    use std::process::{Child, Command};
    use std::time::{Duration, Instant};

    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn holder_text_parses_back() {
        let now = at("2026-11-23T03:00:12.5Z");
        let holder = parse_holder(&holder_text(1234, now));
        assert_eq!(holder.pid, Some(1234));
        assert_eq!(holder.since, Some(at("2026-11-23T03:00:12Z")));
        assert_eq!(
            parse_holder(""),
            Holder {
                pid: None,
                since: None
            }
        );
    }

    #[test]
    fn the_path_sits_next_to_the_database() {
        assert_eq!(
            RunLock::path_for(Path::new("/var/lib/shelflife/state.db")),
            Path::new("/var/lib/shelflife/state.db.lock")
        );
    }

    #[test]
    fn a_second_pass_is_refused_with_the_holders_pid_and_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db.lock");
        let first = RunLock::acquire(&path, at("2026-11-23T03:00:12Z")).unwrap();
        // flock locks belong to the open file description, so a second open in this process
        // contends exactly like another process would.
        let err = RunLock::acquire(&path, at("2026-11-23T03:05:00Z")).unwrap_err();
        let LockError::Held { holder, .. } = &err else {
            panic!("expected Held, got {err:?}");
        };
        assert_eq!(holder.pid, Some(std::process::id()));
        assert_eq!(
            err.to_string(),
            format!(
                "another pass (pid {}, started 2026-11-23T03:00:12Z) holds the lock {}",
                std::process::id(),
                path.display()
            )
        );
        drop(first);
        let second = RunLock::acquire(&path, at("2026-11-23T03:06:00Z")).unwrap();
        let text = std::fs::read_to_string(second.path()).unwrap();
        assert!(text.contains("since=2026-11-23T03:06:00Z"), "{text}");
    }

    /// A child process that holds the lock: the shell opens the file, `flock` locks that open file
    /// description, and the shell becomes `sleep`, which keeps it.
    /// `None` (the testkit said why) without `sh` and `flock(1)`.
    fn spawn_holder(path: &Path) -> Option<Child> {
        let sh = shelflife_testkit::tool("sh")?;
        shelflife_testkit::tool("flock")?;
        let child = Command::new(sh)
            .arg("-c")
            .arg(r#"exec 9<>"$0" && flock -xn 9 && exec sleep 30"#)
            .arg(path)
            .spawn()
            .expect("sh starts");
        Some(child)
    }

    #[test]
    fn the_lock_of_a_killed_pass_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db.lock");
        let Some(mut child) = spawn_holder(&path) else {
            return;
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match RunLock::acquire(&path, Timestamp::UNIX_EPOCH) {
                Err(LockError::Held { .. }) => break,
                Ok(lock) => {
                    drop(lock);
                    if let Ok(Some(status)) = child.try_wait() {
                        panic!("the lock holder exited early ({status})");
                    }
                    assert!(Instant::now() < deadline, "the child never took the lock");
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("{e}"),
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        RunLock::acquire(&path, Timestamp::UNIX_EPOCH).expect("the dead holder's lock is free");
    }
}
