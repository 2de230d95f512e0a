//! The library's modules form layers that only point down (docs/ARCHITECTURE.md): a module may
//! use a module of a lower layer, or one listed before it in its own layer, and nothing else.
//! This reads every non-test line of `src/` that names `crate::<module>` and fails on an
//! import the layers do not allow, so a cycle or an upward import cannot come back unseen.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Bottom to top. Within a layer, a module may use the ones listed before it.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundations",
        &[
            "units", "exit", "rules", "library", "systemd", "logging", "cli",
        ],
    ),
    ("decisions", &["plan", "policy"]),
    (
        "servers and host",
        &["clients", "inventory", "health", "notify"],
    ),
    ("records and settings", &["state", "defaults", "config"]),
    ("acting", &["apply", "record", "notice", "seerr"]),
    ("reporting", &["outcome", "output", "metrics", "drift"]),
    ("running", &["monitor", "pass"]),
];

/// The position of `module`: its layer, then its place in the layer.
fn rank(module: &str) -> Option<(usize, usize)> {
    LAYERS.iter().enumerate().find_map(|(layer, (_, modules))| {
        modules
            .iter()
            .position(|m| *m == module)
            .map(|place| (layer, place))
    })
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            // A `tests` directory holds a module's unit tests: they may use anything.
            if path.file_name().is_some_and(|n| n != "tests") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(path);
        }
    }
}

/// The lines of `text` outside `#[cfg(test)]` items (rustfmt closes an item with a `}` at its
/// own indentation; a one-line item ends with `;`).
fn non_test_lines(text: &str) -> Vec<(usize, &str)> {
    let mut lines = Vec::new();
    let mut skipping: Option<String> = None;
    let mut after_cfg: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        if let Some(indent) = &skipping {
            if line == format!("{indent}}}") {
                skipping = None;
            }
            continue;
        }
        if let Some(indent) = after_cfg.take() {
            if !line.trim_end().ends_with(';') {
                skipping = Some(indent);
            }
            continue;
        }
        if line.trim() == "#[cfg(test)]" {
            let indent = &line[..line.len() - line.trim_start().len()];
            after_cfg = Some(indent.to_owned());
            continue;
        }
        lines.push((n + 1, line));
    }
    lines
}

/// Every `crate::<name>` on a line, with `<name>`.
fn crate_paths(line: &str) -> Vec<&str> {
    let code = line.split("//").next().unwrap_or_default();
    code.match_indices("crate::")
        .filter(|(at, _)| {
            // `shelflife_crate::x` or `$crate::` are not ours.
            !code[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$')
        })
        .filter_map(|(at, _)| {
            let rest = &code[at + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (end > 0).then(|| &rest[..end])
        })
        .collect()
}

/// The top-level module a file of `src/` belongs to.
fn owner(file: &Path) -> String {
    let rel = file.strip_prefix(src()).expect("under src");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_owned()
}

#[test]
fn every_module_has_a_layer() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("lib.rs");
    let declared: BTreeSet<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    let layered: BTreeSet<&str> = LAYERS.iter().flat_map(|(_, m)| m.iter().copied()).collect();
    assert_eq!(
        declared, layered,
        "lib.rs's modules and the layers of docs/ARCHITECTURE.md differ"
    );
}

#[test]
fn imports_only_point_down() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut wrong = Vec::new();
    let mut seen = 0;
    for file in &files {
        let module = owner(file);
        let Some(own) = rank(&module) else {
            continue; // lib.rs, main.rs and the binary's own modules
        };
        let text = std::fs::read_to_string(file).expect("read");
        for (n, line) in non_test_lines(&text) {
            for used in crate_paths(line) {
                if used == module {
                    continue;
                }
                seen += 1;
                let allowed = rank(used).is_some_and(|(layer, place)| {
                    layer < own.0 || (layer == own.0 && place < own.1)
                });
                if !allowed {
                    wrong.push(format!(
                        "{}:{n}: `{module}` uses `{used}`, which is not below it",
                        file.strip_prefix(src()).unwrap_or(file).display()
                    ));
                }
            }
        }
    }
    assert!(
        seen > 50,
        "too few imports found ({seen}): is the reader broken?"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_reader_sees_what_it_must() {
    let text =
        "use crate::a::B;\n#[cfg(test)]\nuse crate::t;\nfn f() { crate::b::g(); } // crate::c\n\
                #[cfg(test)]\nmod tests {\n    use crate::d;\n}\nuse crate::e;\n";
    let paths: Vec<&str> = non_test_lines(text)
        .into_iter()
        .flat_map(|(_, l)| crate_paths(l))
        .collect();
    assert_eq!(paths, ["a", "b", "e"]);
}
