//! The README is part of the contract: what it lists for alerting and dashboards must be what the
//! program emits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use shelflife::exit::Exit;
use shelflife::health::{Category, Finding, Report};
use shelflife::logging::message_id;
use shelflife::metrics::{render, HealthMetrics, PassMetrics};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md")
}

#[test]
fn every_message_id_is_listed_with_its_meaning() {
    let readme = readme();
    for (meaning, id) in message_id::ALL {
        let row = readme
            .lines()
            .find(|l| l.starts_with('|') && l.contains(id))
            .unwrap_or_else(|| panic!("{meaning} ({id}) is not in the README"));
        assert!(row.contains(meaning), "{id} is listed as {row:?}");
    }
}

#[test]
fn every_metric_family_is_documented() {
    let readme = readme();
    let report = Report {
        findings: vec![Finding::ok(Category::State, "state directory", "fine")],
    };
    let mounts = [std::path::PathBuf::from("/srv/media")];
    let text = render(
        Some(&PassMetrics::default()),
        Some(&HealthMetrics {
            report: &report,
            checked_at: jiff::Timestamp::now(),
            mounts: &mounts,
        }),
    );
    let families: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert!(families.len() > 10, "{families:?}");
    for family in families {
        assert!(
            readme.contains(&format!("`{family}`")),
            "{family} is not documented in the README"
        );
    }
}

/// The config a newcomer copies checks the storage: no warning that nothing does.
#[test]
fn the_smallest_config_checks_a_mount_with_a_canary() {
    let readme = readme();
    let start = readme
        .find("The smallest useful config")
        .expect("the README shows the smallest useful config");
    let block = readme[start..]
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a toml block follows");
    assert!(
        block.contains("[[health.mounts]]") && block.contains("canary"),
        "{block}"
    );
    // The keys come inline here: the files it names do not exist on a test machine.
    let text: String = block
        .lines()
        .map(|l| {
            if l.starts_with("api_key_file") {
                "api_key = \"k\"\n".to_owned()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let env = shelflife::config::Env::default();
    let loaded =
        shelflife::config::Config::parse(&text, Path::new("/etc/shelflife/config.toml"), &env)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

/// One row of the README's exit-code table: its commands, and each code with the words after it.
#[derive(Debug)]
struct ExitRow {
    commands: Vec<String>,
    codes: Vec<(u8, String)>,
}

/// Splits `text` at the commas and semicolons that are not inside parentheses.
fn split_outside_parens(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' | ';' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The table under `| command | exit codes |`.
fn exit_table(readme: &str) -> Vec<ExitRow> {
    let mut lines = readme
        .lines()
        .skip_while(|l| l.trim() != "| command | exit codes |");
    assert!(lines.next().is_some(), "the README has no exit-code table");
    lines
        .skip(1) // |---|---|
        .take_while(|l| l.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let [_, commands, codes, _] = cells[..] else {
                panic!("not a two-column row: {line:?}");
            };
            let commands = commands
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect();
            let codes = split_outside_parens(codes)
                .into_iter()
                .map(|entry| {
                    let entry = entry.trim();
                    let digits =
                        entry.len() - entry.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                    let code = entry[..digits].parse().unwrap_or_else(|_| {
                        panic!("{entry:?} in {line:?} does not start with a code")
                    });
                    (code, entry[digits..].trim().to_owned())
                })
                .collect();
            ExitRow { commands, codes }
        })
        .collect()
}

/// Where the README documents each exit: the command whose row names it and the words after its
/// number there. The exits documented under `run` are the ones every command shares.
fn documented(exit: Exit) -> (&'static str, &'static str) {
    match exit {
        Exit::Ok => ("run", "done"),
        Exit::Failed => ("run", "failed"),
        Exit::Usage => ("run", "config or usage error"),
        Exit::Paused => ("run", "paused"),
        Exit::CheckDegraded => ("check", "degraded"),
        Exit::CheckUnhealthy => ("check", "unhealthy"),
        Exit::CheckConfig => ("check", "config error"),
    }
}

#[test]
fn every_exit_code_is_in_the_readme_table_and_the_table_has_no_other() {
    let table = exit_table(&readme());
    assert!(table.len() >= 5, "{table:?}");
    let row = |command: &str| {
        table
            .iter()
            .find(|r| r.commands.iter().any(|c| c == command))
            .unwrap_or_else(|| panic!("no row for `{command}` in {table:?}"))
    };
    // The code's exits are in the table, with their numbers and meanings.
    for &exit in Exit::ALL {
        let (command, words) = documented(exit);
        let listed = &row(command).codes;
        assert!(
            listed
                .iter()
                .any(|(code, text)| *code == exit.code() && text.starts_with(words)),
            "{exit:?} is exit {} \"{words}\", but the README's `{command}` row says {listed:?}",
            exit.code()
        );
    }
    // Every code in the table is one of the code's exits: the row's own where it has some with
    // that number (and the same meaning), else one every command shares.
    let shared: Vec<u8> = Exit::ALL
        .iter()
        .filter(|e| documented(**e).0 == "run")
        .map(|e| e.code())
        .collect();
    for r in &table {
        for (code, text) in &r.codes {
            let own: Vec<Exit> = Exit::ALL
                .iter()
                .copied()
                .filter(|e| r.commands.iter().any(|c| c == documented(*e).0) && e.code() == *code)
                .collect();
            match own.as_slice() {
                [] => assert!(
                    shared.contains(code),
                    "the README gives {:?} exit {code} ({text:?}); the program has no such exit",
                    r.commands
                ),
                exits => assert!(
                    exits.iter().any(|e| text.starts_with(documented(*e).1)),
                    "the README says {:?} exit {code} means {text:?}; the program's is {:?}",
                    r.commands,
                    exits.iter().map(|e| documented(*e).1).collect::<Vec<_>>()
                ),
            }
        }
    }
}
