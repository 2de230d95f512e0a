//! The state disk full or read-only, on real size-limited tmpfs mounts (skipped with a note where
//! mounting is not permitted).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::process::Command;

use super::*;

/// A tmpfs mounted on a temporary directory, unmounted on drop.
struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "shelflife-test",
            ])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            Ok(o) => {
                eprintln!(
                    "skipping: cannot mount a tmpfs: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipping: cannot run mount: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount_read_only(&self) {
        let status = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(self.path())
            .status()
            .unwrap();
        assert!(status.success(), "remount,ro failed");
    }

    /// Writes a filler file until the filesystem refuses.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&filler)
            .unwrap();
        let chunk = [0u8; 4096];
        loop {
            match file.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("filling the tmpfs: {e}"),
            }
        }
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(self.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(self.path()).status();
        }
    }
}

fn assert_write_error(err: &StateError, path: &Path, cause: &str) {
    assert!(matches!(err, StateError::Write { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "cannot write the state database {}: ",
            path.display()
        )),
        "{msg}"
    );
    assert!(msg.contains(cause), "{msg}");
    assert!(
        msg.ends_with("nothing will be deleted without a record"),
        "{msg}"
    );
}

#[test]
fn a_full_state_disk_refuses_the_write_and_records_nothing() {
    let Some(fs) = Tmpfs::mount("256k") else {
        return;
    };
    let path = fs.path().join("state.db");
    let mut state = State::open(&path).unwrap();
    let run = state.begin_run("r1", Mode::Live, at(0), 1).unwrap();
    let filler = fs.fill();
    let big = NewAction {
        title: "x".repeat(64 * 1024),
        ..movie(1, "A")
    };
    let err = state
        .plan_actions(run, &[big, movie(2, "B")], at(1))
        .unwrap_err();
    assert_write_error(&err, &path, "database or disk is full");

    fs::remove_file(filler).unwrap();
    assert!(
        state.run_actions(run).unwrap().is_empty(),
        "a partial plan was recorded"
    );
    state.plan_actions(run, &[movie(1, "A")], at(2)).unwrap();
    drop(state);
}

#[test]
fn a_state_directory_on_a_full_disk_cannot_be_opened_for_writing() {
    let Some(fs) = Tmpfs::mount("64k") else {
        return;
    };
    let path = fs.path().join("state.db");
    fs.fill();
    let err = State::open(&path).unwrap_err();
    assert_write_error(&err, &path, "database or disk is full");
}

#[test]
fn a_read_only_state_disk_refuses_writes() {
    let Some(fs) = Tmpfs::mount("1m") else {
        return;
    };
    let path = fs.path().join("state.db");
    let mut state = State::open(&path).unwrap();
    state.begin_run("r1", Mode::Live, at(0), 1).unwrap();
    drop(state);
    fs.remount_read_only();
    let result = State::open(&path).and_then(|mut s| s.begin_run("r2", Mode::Live, at(1), 1));
    assert_write_error(&result.unwrap_err(), &path, "Read-only file system");
}
