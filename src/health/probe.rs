//! Probes that touch a mount, run in a forked child process with a deadline.
//!
//! A hard NFS mount whose server is gone, or a FUSE mount whose daemon hangs, blocks any thread
//! that calls `statvfs` or `stat` on it. A thread cannot be cancelled, and one stuck in the kernel
//! would keep the process from exiting. A child process can be killed: the parent waits for its
//! answer on a pipe until the deadline, then kills it and moves on. The waits of a hard NFS mount
//! and of FUSE are killable, so the child goes away; if it ever did not, it is only a zombie-to-be
//! that holds no file of ours (it closes them all first) and does not stop this process exiting.
//!
//! Between `fork` and `_exit` the child makes raw system calls only: no allocation, no locks,
//! nothing another thread of the parent may have held at the moment of the fork.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::libc;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, pipe2, ForkResult, Pid};
use tokio::io::AsyncReadExt;

/// What `statvfs` said about a filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsStats {
    /// The unit of the block counts (`f_frsize`).
    pub block_size: u64,
    pub blocks: u64,
    /// Blocks free for unprivileged users (`f_bavail`).
    pub blocks_available: u64,
    /// Inodes in all; 0 when the filesystem does not count them (btrfs, some FUSE).
    pub files: u64,
    pub files_available: u64,
    pub read_only: bool,
}

impl FsStats {
    pub fn bytes_total(&self) -> u64 {
        self.blocks.saturating_mul(self.block_size)
    }

    pub fn bytes_available(&self) -> u64 {
        self.blocks_available.saturating_mul(self.block_size)
    }
}

/// What the child saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probed {
    pub stats: Result<FsStats, Errno>,
    /// `access(path, W_OK)`: may this process write there?
    pub writable: Result<(), Errno>,
    /// `access(canary, F_OK)`, when a canary was asked for.
    pub canary: Option<Result<(), Errno>>,
    /// How long the child took, fork to answer.
    pub took: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("did not answer within {}", humantime::format_duration(*.0))]
    TimedOut(Duration),
    #[error("cannot start a probe process: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("the path cannot be probed: {0}")]
    BadPath(String),
    #[error("the probe process ended without an answer")]
    NoAnswer,
}

/// The answer as the child writes it: plain integers, so it needs no allocation.
/// Errno fields are 0 for success, -1 for "not asked".
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Wire {
    stats_errno: i64,
    writable_errno: i64,
    canary_errno: i64,
    frsize: u64,
    blocks: u64,
    bavail: u64,
    files: u64,
    favail: u64,
    flags: u64,
}

const WIRE_LEN: usize = std::mem::size_of::<Wire>();

/// Probes `path` (and `canary`, a full path, when given) in a child process; gives up after
/// `timeout`.
pub async fn probe(
    path: &Path,
    canary: Option<&Path>,
    timeout: Duration,
) -> Result<Probed, ProbeError> {
    let c_path = c_string(path)?;
    let c_canary = canary.map(c_string).transpose()?;
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).map_err(|e| ProbeError::Spawn(e.into()))?;
    let started = Instant::now();

    // SAFETY: the child runs `child_main` only, which makes async-signal-safe system calls on
    // memory prepared before the fork and ends with `_exit`; see the module docs.
    let child = match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            use std::os::fd::AsRawFd;
            child_main(write_end.as_raw_fd(), &c_path, c_canary.as_deref())
        }
        Ok(ForkResult::Parent { child }) => Reaper(child),
        Err(e) => return Err(ProbeError::Spawn(e.into())),
    };
    drop(write_end);

    let mut pipe =
        tokio::net::unix::pipe::Receiver::from_owned_fd(read_end).map_err(ProbeError::Spawn)?;
    let mut answer = Vec::with_capacity(WIRE_LEN);
    let read = tokio::time::timeout(timeout, pipe.read_to_end(&mut answer)).await;
    let took = started.elapsed();
    drop(child); // kills the child if it is still there, and reaps it
    match read {
        Err(_) => Err(ProbeError::TimedOut(timeout)),
        Ok(Err(e)) => Err(ProbeError::Spawn(e)),
        Ok(Ok(_)) => decode(&answer, took).ok_or(ProbeError::NoAnswer),
    }
}

/// The hard-link count of each of `paths` (`lstat`'s `st_nlink`; `None` for a path that cannot
/// be read), in a child process as [`probe`] does, so a mount that hangs costs `timeout`.
pub async fn links(paths: &[&Path], timeout: Duration) -> Result<Vec<Option<u64>>, ProbeError> {
    let c_paths = paths
        .iter()
        .map(|p| c_string(p))
        .collect::<Result<Vec<_>, _>>()?;
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).map_err(|e| ProbeError::Spawn(e.into()))?;
    // SAFETY: as in `probe`: the child makes async-signal-safe system calls on memory prepared
    // before the fork, and ends with `_exit`.
    let child = match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            use std::os::fd::AsRawFd;
            links_child(write_end.as_raw_fd(), &c_paths)
        }
        Ok(ForkResult::Parent { child }) => Reaper(child),
        Err(e) => return Err(ProbeError::Spawn(e.into())),
    };
    drop(write_end);
    let mut pipe =
        tokio::net::unix::pipe::Receiver::from_owned_fd(read_end).map_err(ProbeError::Spawn)?;
    let mut answer = Vec::with_capacity(paths.len() * 8);
    let read = tokio::time::timeout(timeout, pipe.read_to_end(&mut answer)).await;
    drop(child);
    match read {
        Err(_) => Err(ProbeError::TimedOut(timeout)),
        Ok(Err(e)) => Err(ProbeError::Spawn(e)),
        Ok(Ok(_)) if answer.len() == paths.len() * 8 => Ok(answer
            .chunks_exact(8)
            .map(|c| {
                let mut n = [0u8; 8];
                n.copy_from_slice(c);
                Some(u64::from_ne_bytes(n)).filter(|&n| n > 0)
            })
            .collect()),
        Ok(Ok(_)) => Err(ProbeError::NoAnswer),
    }
}

/// The child of [`links`]: `st_nlink` of each path (0 when it cannot be read), then exit.
fn links_child(pipe: libc::c_int, paths: &[CString]) -> ! {
    // SAFETY: raw system calls on valid pointers to memory owned by the (copied) address space.
    unsafe {
        let pipe = keep_only(pipe);
        for path in paths {
            let mut st: libc::stat = std::mem::zeroed();
            let n: u64 = if libc::lstat(path.as_ptr(), &mut st) == 0 {
                st.st_nlink as u64
            } else {
                0
            };
            let bytes = n.to_ne_bytes();
            let mut written = 0;
            while written < bytes.len() {
                let w = libc::write(
                    pipe,
                    bytes.as_ptr().add(written).cast(),
                    bytes.len() - written,
                );
                if w <= 0 {
                    libc::_exit(1);
                }
                written += w as usize;
            }
        }
        libc::_exit(0)
    }
}

fn c_string(path: &Path) -> Result<CString, ProbeError> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| ProbeError::BadPath(format!("{} holds a NUL byte", path.display())))
}

fn decode(bytes: &[u8], took: Duration) -> Option<Probed> {
    if bytes.len() != WIRE_LEN {
        return None;
    }
    // SAFETY: `Wire` is plain integers, every bit pattern is valid, and the length matches.
    let wire: Wire = unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<Wire>()) };
    let result = |errno: i64| match errno {
        0 => Ok(()),
        e => Err(Errno::from_raw(e as i32)),
    };
    let stats = result(wire.stats_errno).map(|()| FsStats {
        block_size: wire.frsize,
        blocks: wire.blocks,
        blocks_available: wire.bavail,
        files: wire.files,
        files_available: wire.favail,
        read_only: wire.flags & libc::ST_RDONLY != 0,
    });
    Some(Probed {
        stats,
        writable: result(wire.writable_errno),
        canary: (wire.canary_errno >= 0).then(|| result(wire.canary_errno)),
        took,
    })
}

/// The child: close every inherited file but the pipe (a child stuck in the kernel must not hold
/// the run lock or the database), probe, write the answer, exit.
fn child_main(pipe: libc::c_int, path: &CString, canary: Option<&std::ffi::CStr>) -> ! {
    // SAFETY: raw system calls on valid pointers to memory owned by this (copied) stack frame.
    unsafe {
        let pipe_fd = keep_only(pipe);
        let errno = || i64::from(*libc::__errno_location());
        let mut wire = Wire::default();
        let mut st: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(path.as_ptr(), &mut st) == 0 {
            wire.frsize = st.f_frsize as u64;
            wire.blocks = st.f_blocks as u64;
            wire.bavail = st.f_bavail as u64;
            wire.files = st.f_files as u64;
            wire.favail = st.f_favail as u64;
            wire.flags = st.f_flag as u64;
        } else {
            wire.stats_errno = errno();
        }
        wire.writable_errno = if libc::access(path.as_ptr(), libc::W_OK) == 0 {
            0
        } else {
            errno()
        };
        wire.canary_errno = match canary {
            None => -1,
            Some(c) if libc::access(c.as_ptr(), libc::F_OK) == 0 => 0,
            Some(_) => errno(),
        };
        let bytes = std::ptr::addr_of!(wire).cast::<u8>();
        let mut written = 0;
        while written < WIRE_LEN {
            let n = libc::write(pipe_fd, bytes.add(written).cast(), WIRE_LEN - written);
            if n <= 0 {
                libc::_exit(1);
            }
            written += n as usize;
        }
        libc::_exit(0)
    }
}

/// In a probe child: moves `pipe` to descriptor 3 and closes every other inherited descriptor
/// above 2 (a child stuck in the kernel must not hold the run lock or the database); returns 3.
///
/// # Safety
/// Only in a freshly forked child, before anything else runs there.
unsafe fn keep_only(pipe: libc::c_int) -> libc::c_int {
    const PIPE: libc::c_int = 3;
    if pipe != PIPE && libc::dup2(pipe, PIPE) < 0 {
        libc::_exit(1);
    }
    if libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32) != 0 {
        let max = libc::sysconf(libc::_SC_OPEN_MAX).clamp(1024, 65536) as libc::c_int;
        for fd in 4..max {
            libc::close(fd);
        }
    }
    PIPE
}

/// Owns a probe child: on drop it is killed (a no-op when it has exited) and reaped.
struct Reaper(Pid);

impl Drop for Reaper {
    fn drop(&mut self) {
        let pid = self.0;
        let _ = kill(pid, Signal::SIGKILL);
        if reaped(pid) {
            return;
        }
        // Dying takes the kernel a moment; reap in the background rather than wait here. Without
        // a runtime the process is short-lived and its exit reaps it.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                for _ in 0..600 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if reaped(pid) {
                        return;
                    }
                }
                tracing::warn!(%pid, "a probe process does not die; it is left behind");
            });
        }
    }
}

fn reaped(pid: Pid) -> bool {
    !matches!(
        waitpid(pid, Some(WaitPidFlag::WNOHANG)),
        Ok(WaitStatus::StillAlive)
    )
}

/// A person's words for what a failed probe call means on a mount.
pub fn describe_errno(errno: Errno) -> String {
    match errno {
        Errno::ESTALE => "stale file handle (ESTALE): the NFS server lost this export".into(),
        Errno::ENOTCONN => {
            "transport endpoint is not connected (ENOTCONN): the FUSE or network filesystem is gone"
                .into()
        }
        Errno::EIO => "input/output error (EIO)".into(),
        Errno::ENOENT => "does not exist".into(),
        Errno::EACCES => "permission denied".into(),
        other => format!("{} ({other:?})", other.desc()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn probes_a_directory_and_its_canary() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("canary"), b"").expect("write canary");
        let probed = probe(
            dir.path(),
            Some(&dir.path().join("canary")),
            Duration::from_secs(5),
        )
        .await
        .expect("probe answers");
        let stats = probed.stats.expect("statvfs works on a tempdir");
        assert!(stats.blocks > 0 && stats.block_size > 0);
        assert!(stats.blocks_available <= stats.blocks);
        assert_eq!(probed.writable, Ok(()));
        assert_eq!(probed.canary, Some(Ok(())));

        let missing = probe(
            dir.path(),
            Some(&dir.path().join("absent")),
            Duration::from_secs(5),
        )
        .await
        .expect("probe answers");
        assert_eq!(missing.canary, Some(Err(Errno::ENOENT)));

        let no_canary = probe(dir.path(), None, Duration::from_secs(5))
            .await
            .expect("probe answers");
        assert_eq!(no_canary.canary, None);
    }

    #[tokio::test]
    async fn a_missing_path_is_an_errno_not_a_failure() {
        let probed = probe(
            Path::new("/nonexistent/shelflife"),
            None,
            Duration::from_secs(5),
        )
        .await
        .expect("probe answers");
        assert_eq!(probed.stats, Err(Errno::ENOENT));
    }

    #[test]
    fn a_short_answer_is_rejected() {
        assert!(decode(&[0u8; 3], Duration::ZERO).is_none());
        let ok = decode(&[0u8; WIRE_LEN], Duration::ZERO).expect("full length decodes");
        assert_eq!(ok.canary, Some(Ok(())));
        assert!(ok.stats.is_ok());
    }

    #[test]
    fn errnos_read_as_words() {
        assert!(describe_errno(Errno::ESTALE).contains("stale"));
        assert!(describe_errno(Errno::ENOTCONN).contains("not connected"));
    }
}
