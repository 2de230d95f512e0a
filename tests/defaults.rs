//! The defaults are written down in three places people read: the shipped `example.toml`, the
//! README's config examples and the NixOS module's option descriptions. Each must say what
//! shelflife does when a key is left out, which is what `config show` prints for a config that
//! leaves everything out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use shelflife::config::{Config, Env, EXAMPLE};

/// `(table, key)`: `""` is the top level, `health.mounts` a `[[health.mounts]]` entry.
type Key = (String, String);

/// Keys whose value in the documents is an example to copy, not a default.
const EXAMPLES: &[(&str, &str)] = &[
    ("health.mounts", "min_free_bytes"),
    ("rules", "notice_days"),
];

/// What `config show` prints for a config that sets only what has no default.
fn effective_defaults() -> BTreeMap<Key, toml::Value> {
    let text = r#"
[jellyfin]
url = "http://127.0.0.1:8096"
users = ["alice"]
[radarr]
url = "http://127.0.0.1:7878"
[sonarr]
url = "http://127.0.0.1:8989"
[seerr]
url = "http://127.0.0.1:5055"
[[health.mounts]]
path = "/srv/media"
"#;
    let env = Env::from_pairs([
        ("SHELFLIFE_JELLYFIN_API_KEY", "k"),
        ("SHELFLIFE_RADARR_API_KEY", "k"),
        ("SHELFLIFE_SONARR_API_KEY", "k"),
        ("SHELFLIFE_SEERR_API_KEY", "k"),
    ]);
    let config = Config::parse(text, Path::new("minimal.toml"), &env)
        .expect("the minimal config is valid")
        .config;
    let shown: toml::Table = toml::from_str(&config.to_redacted_toml()).expect("show is TOML");
    let mut defaults = BTreeMap::new();
    for (name, value) in shown {
        match value {
            toml::Value::Table(table) => flatten(&name, table, &mut defaults),
            other => {
                defaults.insert((String::new(), name), other);
            }
        }
    }
    // What the minimal config set itself is not a default.
    for set in [
        ("jellyfin", "url"),
        ("jellyfin", "api_key"),
        ("jellyfin", "users"),
        ("radarr", "url"),
        ("radarr", "api_key"),
        ("sonarr", "url"),
        ("sonarr", "api_key"),
        ("seerr", "url"),
        ("seerr", "api_key"),
        ("health.mounts", "path"),
    ] {
        defaults.remove(&(set.0.to_owned(), set.1.to_owned()));
    }
    defaults
}

fn flatten(prefix: &str, table: toml::Table, out: &mut BTreeMap<Key, toml::Value>) {
    for (key, value) in table {
        match value {
            toml::Value::Table(inner) => flatten(&format!("{prefix}.{key}"), inner, out),
            toml::Value::Array(items) if items.iter().all(toml::Value::is_table) => {
                for item in items {
                    if let toml::Value::Table(inner) = item {
                        flatten(&format!("{prefix}.{key}"), inner, out);
                    }
                }
            }
            other => {
                out.insert((prefix.to_owned(), key), other);
            }
        }
    }
}

/// Every `key = value` line of a TOML text, commented out or not, with the table it is under
/// (a commented-out table header counts) and its line number. Prose in comments is skipped:
/// it does not parse as one TOML key.
fn settings(text: &str) -> Vec<(Key, toml::Value, usize)> {
    let mut table = String::new();
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        let line = line.strip_prefix('#').map_or(line, str::trim);
        if let Some(header) = line.strip_prefix('[') {
            let name = header.trim_start_matches('[');
            if let Some(end) = name.find(']') {
                table = name[..end].trim().to_owned();
            }
            continue;
        }
        let Ok(parsed) = toml::from_str::<toml::Table>(line) else {
            continue;
        };
        for (key, value) in parsed {
            if !value.is_table() {
                found.push(((table.clone(), key), value, n + 1));
            }
        }
    }
    found
}

/// Equal as the config reads them: durations by length ("60s" is "1m"), the rest as values.
fn same(documented: &toml::Value, default: &toml::Value) -> bool {
    if let (Some(a), Some(b)) = (documented.as_str(), default.as_str()) {
        if let (Ok(a), Ok(b)) = (humantime::parse_duration(a), humantime::parse_duration(b)) {
            return a == b;
        }
    }
    documented == default
}

/// The disagreements of `text` (named `name`) with the defaults.
fn disagreements(name: &str, text: &str, defaults: &BTreeMap<Key, toml::Value>) -> Vec<String> {
    settings(text)
        .into_iter()
        .filter(|((table, key), _, _)| !EXAMPLES.contains(&(table.as_str(), key.as_str())))
        .filter_map(|(key, value, line)| {
            let default = defaults.get(&key)?;
            (!same(&value, default)).then(|| {
                format!(
                    "{name}:{line}: {}.{} = {value}, but the default is {default}",
                    key.0, key.1
                )
            })
        })
        .collect()
}

/// The TOML blocks of a Markdown text, each with a newline per line before it so that line
/// numbers stay the file's.
fn toml_blocks(markdown: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            inside = line.trim_start() == "```toml";
            out.push('\n');
            continue;
        }
        out.push_str(if inside { line } else { "" });
        out.push('\n');
    }
    out
}

#[test]
fn example_toml_states_every_default_as_it_is() {
    let defaults = effective_defaults();
    assert!(
        defaults.len() > 25,
        "the defaults were not read: {defaults:?}"
    );
    let wrong = disagreements("example.toml", EXAMPLE, &defaults);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // And it explains every key that has one (the request limits once, for every service).
    let documented: Vec<Key> = settings(EXAMPLE).into_iter().map(|(k, _, _)| k).collect();
    let missing: Vec<&Key> = defaults
        .keys()
        .filter(|(table, key)| {
            let shared = ["timeout", "list_timeout", "connect_timeout", "retries"];
            let as_jellyfin = (table == "radarr" || table == "sonarr")
                && shared.contains(&key.as_str())
                && documented.contains(&("jellyfin".to_owned(), key.clone()));
            !as_jellyfin && !documented.contains(&(table.clone(), key.clone()))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "example.toml does not show: {missing:?}"
    );
}

#[test]
fn the_readme_config_states_the_defaults() {
    let defaults = effective_defaults();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let blocks = toml_blocks(&readme);
    assert!(
        settings(&blocks).len() > 20,
        "the README's config was not found"
    );
    let wrong = disagreements("README.md", &blocks, &defaults);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_nixos_module_states_the_defaults_it_names() {
    let defaults = effective_defaults();
    let module = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/nix/module.nix"))
        .expect("nix/module.nix");
    let mut table = None;
    let mut named = 0;
    let mut wrong = Vec::new();
    for (n, line) in module.lines().enumerate() {
        // The typed options: `    <table> = {` holding `      <key> = opt <type> "<text>";`.
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_suffix(" = {") {
            let name = name.trim_matches('"');
            table = Some(if name == "top" { "" } else { name }.to_owned());
            continue;
        }
        let (Some(table), Some((key, rest))) = (&table, trimmed.split_once(" = opt ")) else {
            continue;
        };
        let Some(said) = rest.split("default is ").nth(1) else {
            continue;
        };
        named += 1;
        let said = said
            .split([';', ',', ' ', '"'])
            .next()
            .unwrap_or_default()
            .trim_end_matches('.');
        let value: toml::Value = toml::from_str::<toml::Table>(&format!("v = {said}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(said.to_owned()));
        match defaults.get(&(table.clone(), key.to_owned())) {
            Some(default) if same(&value, default) => {}
            other => wrong.push(format!(
                "nix/module.nix:{}: {table}.{key}: says {said}, the default is {other:?}",
                n + 1
            )),
        }
    }
    assert!(named > 0, "the module names no default any more");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
