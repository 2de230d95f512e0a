//! External programs some tests run for real: `systemd-analyze`, `promtool`,
//! `prometheus-node-exporter`, `systemd-journald`, `flock`. CI installs them (`.ci/run`) and sets
//! `SHELFLIFE_REQUIRE_TOOLS=1`, so a missing one fails there; on a developer's machine without
//! them the test says it was skipped and passes.

use std::fmt::Display;
use std::path::{Path, PathBuf};

/// Whether a test that cannot run here must fail rather than skip (`SHELFLIFE_REQUIRE_TOOLS=1`).
pub fn required() -> bool {
    std::env::var("SHELFLIFE_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// A test cannot run on this machine because of `why`: it fails when tools are [`required`],
/// else it prints `SKIPPED: <why>` and the caller returns.
#[track_caller]
pub fn skip(why: impl Display) {
    assert!(
        !required(),
        "{why}, and SHELFLIFE_REQUIRE_TOOLS=1 does not allow skipping; \
         .ci/run shows what to apt-get install (and it runs as root)"
    );
    eprintln!("SKIPPED: {why}");
}

/// The program `name` from PATH (or an absolute path), or `None` when it is missing and tools
/// are not required.
#[track_caller]
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = if Path::new(name).is_absolute() {
        Some(PathBuf::from(name)).filter(|p| p.exists())
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    };
    if found.is_none() {
        skip(format!("{name} is not installed"));
    }
    found
}
