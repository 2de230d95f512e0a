//! Writes the man pages and shell completions of `shelflife` into a directory, from the same clap
//! definitions the binary parses with, so they cannot fall behind. Used by `packaging/build-deb`.
//!
//! `gendocs OUTDIR` → `OUTDIR/man/shelflife.1`, `shelflife-<command>.1` …, and
//! `OUTDIR/completions/shelflife.bash`, `_shelflife` (zsh), `shelflife.fish`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;
use shelflife::cli::Cli;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).ok_or("usage: gendocs OUTDIR")?);
    let man = out.join("man");
    let completions = out.join("completions");
    std::fs::create_dir_all(&man)?;
    std::fs::create_dir_all(&completions)?;

    let cmd = Cli::command();
    write_man(&cmd, "shelflife", &man)?;
    for sub in cmd.get_subcommands() {
        let sub = sub
            .clone()
            .bin_name(format!("shelflife {}", sub.get_name()));
        write_man(&sub, &format!("shelflife-{}", sub.get_name()), &man)?;
    }
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut Cli::command(), "shelflife", &completions)?;
    }
    Ok(())
}

/// One page, named `name` (`shelflife-run` for `shelflife run`).
fn write_man(cmd: &clap::Command, name: &str, dir: &Path) -> std::io::Result<()> {
    let cmd = cmd.clone().name(name.to_owned());
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .date("2026-11-23")
        .source(format!("shelflife {}", env!("CARGO_PKG_VERSION")))
        .manual("shelflife manual")
        .render(&mut page)?;
    std::fs::write(dir.join(format!("{name}.1")), page)
}
