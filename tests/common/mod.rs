//! Shared test harness: a simulated stack, a config file pointing at it, and the real binary.

#![allow(dead_code)]

pub mod days;
pub mod notify;
pub mod two;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Output;

use std::time::{Duration, Instant};

use jiff::Timestamp;
use shelflife_sim::{MovieSpec, SeriesSpec, Service, SimStack, World};

/// A fixed "now" for worlds; the binary reads the real clock, so worlds are built relative to
/// the real now (see [`now`]).
pub fn now() -> Timestamp {
    Timestamp::now()
}

/// A small library that exercises every kind of decision: two watched movies and a watched
/// season of an ended series to delete, and a watched movie with a keep tag.
pub fn small_library() -> World {
    World::new(now())
        .user("alice")
        .movie(MovieSpec::new("Alien", 1979).watched("alice", 20.0))
        .movie(MovieSpec::new("Heat", 1995).watched("alice", 20.0))
        .movie(
            MovieSpec::new("Arrival", 2016)
                .watched("alice", 20.0)
                .tag("keep"),
        )
        .series(
            SeriesSpec::new("Dark", true)
                .season(1, 3)
                .watched("alice", 1, 1..=3, 20.0),
        )
}

/// `shelflife --config <config> <args>`, with none of the caller's systemd environment.
pub fn shelflife(config: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_shelflife"));
    cmd.arg("--config").arg(config).args(args);
    cmd.env_remove("SHELFLIFE_CONFIG")
        .env_remove("JOURNAL_STREAM")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("STATE_DIRECTORY")
        .env("NO_COLOR", "1");
    cmd
}

pub struct Harness {
    pub stack: SimStack,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Harness {
    /// Starts the stack for `world` and writes a config for it with `extra` TOML appended.
    pub async fn start(world: World, extra: &str) -> Harness {
        let stack = SimStack::start(world)
            .await
            .expect("simulated stack starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("config.toml");
        let state = dir.path().join("state.db");
        let text = format!(
            "{}\n[state]\npath = {:?}\n",
            stack.config_toml(extra),
            state.display().to_string()
        );
        std::fs::write(&config, text).expect("write config");
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        Harness { stack, dir, config }
    }

    /// Gives Radarr and Sonarr short request deadlines and no resending, so that a pass after a
    /// killed one waits only a few seconds for the dead pass's last request to be over (its
    /// deadline is one attempt of `timeout`), and appends `extra`.
    pub fn quick_limits(&self, extra: &str) {
        const QUICK: &str = "timeout = \"2s\"\nretries = 0\n";
        let text = std::fs::read_to_string(&self.config).expect("read config");
        let text = text
            .replacen("[radarr]\n", &format!("[radarr]\n{QUICK}"), 1)
            .replacen("[sonarr]\n", &format!("[sonarr]\n{QUICK}"), 1);
        self.write_config(&format!("{text}\n{extra}"));
    }

    /// Replaces the config file's text.
    pub fn write_config(&self, text: &str) {
        std::fs::write(&self.config, text).expect("write config");
    }

    /// `shelflife --config <config> <args>`, with none of the caller's systemd environment.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        shelflife(&self.config, args)
    }

    /// Starts the binary without waiting for it; its output is captured.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary starts")
    }

    /// Waits for a spawned binary while the stack keeps serving.
    pub async fn wait(child: std::process::Child) -> Run {
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .expect("join")
            .expect("the binary ran");
        Run::from(output)
    }

    /// The DELETEs `service` (every service, for `None`) has received so far, whether or not
    /// they have been carried out yet.
    pub fn deletes_received(&self, service: Option<Service>) -> usize {
        self.stack
            .writes()
            .iter()
            .filter(|(s, r)| r.method == "DELETE" && service.is_none_or(|want| *s == want))
            .count()
    }

    /// Waits until `service` (any, for `None`) has received `n` DELETEs; panics after `limit`.
    pub async fn until_deletes(&self, service: Option<Service>, n: usize, limit: Duration) {
        let start = Instant::now();
        while self.deletes_received(service) < n {
            assert!(
                start.elapsed() < limit,
                "{service:?} did not get {n} DELETEs within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Runs `shelflife --config <config> <args>` while the stack keeps serving.
    pub async fn run(&self, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        let output = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("join")
            .expect("the binary runs");
        Run::from(output)
    }
}

/// A kill meant to land while a DELETE is in flight did: the servers had received more DELETEs
/// before the kill (`received`) than they had carried out after it (`carried_out`). Otherwise the
/// test would pass without having killed anything mid-request.
#[track_caller]
pub fn assert_killed_in_flight(received: usize, carried_out: usize) {
    assert!(
        carried_out < received,
        "no DELETE was in flight at the kill: {received} received before it, {carried_out} \
         carried out after it"
    );
}

/// The titles `history --json` printed, newest first (dry runs, which have none, left out).
pub fn history(run: &Run) -> Vec<String> {
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).expect("history is JSON");
    rows.as_array()
        .expect("an array")
        .iter()
        .filter(|r| r["event"] != "dry_run")
        .map(|r| r["title"].as_str().unwrap_or("").to_owned())
        .collect()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A FUSE mount whose daemon never answers: every call into it waits, killably, like a hard NFS
/// mount whose server is gone. This process holds the `/dev/fuse` descriptor (close-on-exec, so
/// the binaries under test do not) and never reads it. Dropping it closes the descriptor, which
/// aborts the connection and releases every waiter, then detaches the mount.
///
/// Never stat the mount point while it is mounted; read `/proc/self/mountinfo` instead.
pub struct HungFuse {
    /// Taken and closed first on drop: that aborts the connection and frees the waiters.
    fuse: Option<std::os::fd::OwnedFd>,
    parent: tempfile::TempDir,
}

impl HungFuse {
    /// `None`, after saying why, where FUSE cannot be mounted (not root, no `/dev/fuse`): the
    /// testkit's policy, so under `SHELFLIFE_REQUIRE_TOOLS=1` that fails the test.
    pub fn mount() -> Option<HungFuse> {
        use nix::fcntl::{open, OFlag};
        use nix::mount::{mount, MsFlags};
        use nix::sys::stat::Mode;
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

        if !nix::unistd::geteuid().is_root() {
            shelflife_testkit::skip("mounting a FUSE filesystem needs root");
            return None;
        }
        let parent = tempfile::tempdir().expect("tempdir");
        let point = parent.path().join("hung");
        std::fs::create_dir(&point).expect("mount point");
        let raw = match open("/dev/fuse", OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty()) {
            Ok(raw) => raw,
            Err(err) => {
                shelflife_testkit::skip(format!("cannot open /dev/fuse: {err}"));
                return None;
            }
        };
        // SAFETY: `open` just returned this descriptor and nothing else owns it.
        let fuse = unsafe { OwnedFd::from_raw_fd(raw) };
        let options = format!(
            "fd={},rootmode=40000,user_id=0,group_id=0",
            fuse.as_raw_fd()
        );
        if let Err(err) = mount(
            Some("shelflife-hang"),
            &point,
            Some("fuse"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some(options.as_str()),
        ) {
            shelflife_testkit::skip(format!("cannot mount a FUSE filesystem: {err}"));
            return None;
        }
        let hung = HungFuse {
            fuse: Some(fuse),
            parent,
        };
        let table = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
        assert!(
            table.contains(&format!(" {} ", hung.path().display())),
            "the FUSE mount is not in the mount table"
        );
        Some(hung)
    }

    pub fn path(&self) -> std::path::PathBuf {
        self.parent.path().join("hung")
    }
}

impl Drop for HungFuse {
    fn drop(&mut self) {
        drop(self.fuse.take());
        let _ = nix::mount::umount2(&self.path(), nix::mount::MntFlags::MNT_DETACH);
    }
}
