//! External programs some tests run for real: `systemd-analyze`, `promtool`,
//! `prometheus-node-exporter`, `systemd-journald`. CI installs them (`.ci/run`) and sets
//! `SHELFLIFE_REQUIRE_TOOLS=1`, so a missing one fails there; on a developer's machine without
//! them the test says it was skipped and passes.

use std::path::{Path, PathBuf};

/// The program `name` from PATH (or an absolute path), or `None` when it is missing and tools
/// are not required.
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
        let required = std::env::var("SHELFLIFE_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{name} is required (SHELFLIFE_REQUIRE_TOOLS=1) but not installed; \
             .ci/run shows what to apt-get install"
        );
        eprintln!("SKIPPED: {name} is not installed");
    }
    found
}
