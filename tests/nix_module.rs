//! The NixOS module (`nix/module.nix`) against the rest of the repository, read as text (no Nix
//! needed): its typed `settings` options are exactly the keys of the config file
//! (`shelflife::config::schema()`), minus the secrets it must not offer; it takes its sandbox
//! from `systemd/hardening.conf` instead of a copy; and its units say what `systemd/` says.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Keys the module leaves out on purpose: settings land in the world-readable Nix store, so API
/// keys and notify tokens come through `credentialFiles` (LoadCredential=), and the module
/// refuses these.
const SECRETS: [&str; 4] = ["api_key", "api_key_file", "token", "token_file"];

/// The secrets of the servers' tables, and of a notify target's.
const API_KEYS: [&str; 2] = ["api_key", "api_key_file"];
const TOKENS: [&str; 2] = ["token", "token_file"];

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Table → typed keys, from the region between `# BEGIN typed settings` and `# END typed
/// settings` in module.nix. The module documents the shape: `typed = {`, then `<table> = {` …
/// `};` holding one `<key> = opt …;` or `<key> = req …;` per line. `top` is the top level. Any
/// other line is an error, so an option cannot hide from this check in an unexpected form.
fn typed_settings(module: &str) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let start = module
        .find("# BEGIN typed settings")
        .ok_or("no `# BEGIN typed settings` marker")?;
    let end = module
        .find("# END typed settings")
        .ok_or("no `# END typed settings` marker")?;
    let mut tables = BTreeMap::new();
    let mut depth = 0;
    let mut table: Option<String> = None;
    for line in module[start..end].lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_suffix(" = {") {
            let name = name.trim_matches('"').to_string();
            match depth {
                0 if name == "typed" => {}
                1 => {
                    if tables.insert(name.clone(), BTreeSet::new()).is_some() {
                        return Err(format!("table {name} declared twice"));
                    }
                    table = Some(name);
                }
                _ => return Err(format!("unexpected table: {line:?}")),
            }
            depth += 1;
        } else if line == "};" {
            if depth == 0 {
                return Err("`};` without a table".into());
            }
            depth -= 1;
            table = None;
        } else if let (2, Some(t)) = (depth, &table) {
            let (key, rest) = line
                .split_once(" = ")
                .ok_or_else(|| format!("not an option line in [{t}]: {line:?}"))?;
            if !(rest.starts_with("opt ") || rest.starts_with("req ")) || !line.ends_with(';') {
                return Err(format!(
                    "[{t}]: one `<key> = opt|req …;` per line, not {line:?}"
                ));
            }
            tables
                .get_mut(t)
                .expect("opened above")
                .insert(key.to_string());
        } else {
            return Err(format!("unexpected line: {line:?}"));
        }
    }
    if depth != 0 || tables.is_empty() {
        return Err(format!("unbalanced or empty region (depth {depth})"));
    }
    Ok(tables)
}

/// The schema's name for a module table: `top` is the top level, `""`.
fn schema_table(module_table: &str) -> &str {
    if module_table == "top" {
        ""
    } else {
        module_table
    }
}

/// Every difference between the module's typed options and the schema, in words.
fn drift(module: &str) -> Vec<String> {
    let typed = match typed_settings(module) {
        Ok(typed) => typed,
        Err(err) => return vec![format!("module.nix typed settings: {err}")],
    };
    let schema: BTreeMap<&str, &[&str]> = shelflife::config::schema().iter().copied().collect();
    let mut problems = Vec::new();

    // Every schema key is a typed option, or (for a table key such as `jellyfin` or
    // `health.mounts`) a typed table of its own.
    for (&table, &keys) in &schema {
        let module_table = if table.is_empty() { "top" } else { table };
        for &key in keys.iter().filter(|k| !SECRETS.contains(k)) {
            let subtable = if table.is_empty() {
                key.to_string()
            } else {
                format!("{table}.{key}")
            };
            let typed_key = typed.get(module_table).is_some_and(|t| t.contains(key));
            if !typed_key && !typed.contains_key(&subtable) {
                problems.push(format!(
                    "schema key `{key}` in table {table:?} has no typed option in module.nix"
                ));
            }
        }
    }
    // And nothing typed that shelflife would refuse as an unknown key.
    for (module_table, keys) in &typed {
        let Some(schema_keys) = schema.get(schema_table(module_table)) else {
            problems.push(format!(
                "module.nix types table `{module_table}`, which the schema does not have"
            ));
            continue;
        };
        for key in keys {
            if SECRETS.contains(&key.as_str()) {
                problems.push(format!(
                    "module.nix types the secret `{key}` in `{module_table}`: keys come through credentialFiles"
                ));
            } else if !schema_keys.contains(&key.as_str()) {
                problems.push(format!(
                    "module.nix types `{key}` in `{module_table}`, which the schema does not have"
                ));
            }
        }
    }
    problems
}

#[test]
fn typed_options_match_the_config_schema() {
    let problems = drift(&read("nix/module.nix"));
    assert!(
        problems.is_empty(),
        "nix/module.nix and shelflife::config::schema() disagree:\n  {}",
        problems.join("\n  ")
    );
}

/// The module leaves the secrets out (`drift` fails on a typed one); that means something only
/// while the schema still has them under these names.
#[test]
fn the_secrets_left_out_are_schema_keys() {
    let tables = [
        ("jellyfin", API_KEYS),
        ("radarr", API_KEYS),
        ("sonarr", API_KEYS),
        ("seerr", API_KEYS),
        ("notify", TOKENS),
    ];
    for (table, secrets) in tables {
        let keys = shelflife::config::schema()
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, k)| *k)
            .unwrap_or_else(|| panic!("schema has no {table} table"));
        for secret in secrets {
            assert!(keys.contains(&secret), "schema lost {table}.{secret}");
        }
    }
    assert!(SECRETS
        .iter()
        .all(|s| API_KEYS.contains(s) || TOKENS.contains(s)));
}

/// The check above is only worth something if it notices a renamed, added or dropped option.
#[test]
fn the_comparison_notices_drift() {
    let module = read("nix/module.nix");
    let renamed = module.replacen("grace_days = opt", "grace_dayz = opt", 1);
    assert_ne!(renamed, module, "module.nix types rules.grace_days");
    let problems = drift(&renamed);
    assert!(
        problems.iter().any(|p| p.contains("`grace_days`"))
            && problems.iter().any(|p| p.contains("`grace_dayz`")),
        "{problems:?}"
    );

    let secret = module.replacen(
        "    jellyfin = {\n",
        "    jellyfin = {\n      api_key = opt types.str \"no\";\n",
        1,
    );
    assert_ne!(secret, module, "module.nix has a jellyfin table");
    assert!(drift(&secret)
        .iter()
        .any(|p| p.contains("secret `api_key`")));

    let token = module.replacen(
        "    notify = {\n",
        "    notify = {\n      token = opt types.str \"no\";\n",
        1,
    );
    assert_ne!(token, module, "module.nix has a notify table");
    assert!(drift(&token).iter().any(|p| p.contains("secret `token`")));

    let odd = module.replacen("grace_days = opt", "grace_days = lib.mkOption", 1);
    assert!(drift(&odd)
        .iter()
        .any(|p| p.contains("one `<key> = opt|req")));
}

/// module.nix without comments, so a key named in an explanation does not count as set.
fn code(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| l.find(" #").map_or(l, |i| &l[..i]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `word` occurs in `text` as a whole identifier.
fn mentions(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// `(section, key, value)` of each assignment in a unit file.
fn unit_assignments(text: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else if let Some((k, v)) = line.split_once('=') {
            out.push((section.clone(), k.to_string(), v.to_string()));
        }
    }
    out
}

#[test]
fn module_reads_the_shared_hardening_list() {
    let module = code(&read("nix/module.nix"));
    assert!(
        module.contains("builtins.readFile ../systemd/hardening.conf"),
        "module.nix must take its sandbox from systemd/hardening.conf"
    );
    let keys: BTreeSet<String> = unit_assignments(&read("systemd/hardening.conf"))
        .into_iter()
        .map(|(_, k, _)| k)
        .collect();
    assert!(keys.len() > 20, "hardening.conf is read: {keys:?}");
    let copied: Vec<&String> = keys.iter().filter(|k| mentions(&module, k)).collect();
    assert!(
        copied.is_empty(),
        "module.nix sets hardening keys itself instead of reading hardening.conf: {copied:?}"
    );
}

#[test]
fn module_units_say_what_the_shipped_units_say() {
    let module = code(&read("nix/module.nix"));
    let hardening: BTreeSet<String> = unit_assignments(&read("systemd/hardening.conf"))
        .into_iter()
        .map(|(_, k, _)| k)
        .collect();
    // Where the module differs on purpose: the binary's path and the credentials' sources.
    let own = ["ExecStart", "LoadCredential"];
    for unit in ["shelflife.service", "shelflife-monitor.service"] {
        for (section, key, value) in unit_assignments(&read(&format!("systemd/{unit}"))) {
            if section != "Service" || hardening.contains(&key) || own.contains(&key.as_str()) {
                continue;
            }
            let line = format!("{key} = \"{value}\";");
            assert!(module.contains(&line), "{unit}: module.nix lacks `{line}`");
        }
    }
    let timer = read("systemd/shelflife.timer");
    for (section, key, value) in unit_assignments(&timer) {
        if section != "Timer" {
            continue;
        }
        let line = match key.as_str() {
            "OnCalendar" => format!("default = \"{value}\";"),
            "Persistent" => format!("Persistent = {value};"),
            _ => format!("{key} = \"{value}\";"),
        };
        assert!(
            module.contains(&line),
            "shelflife.timer: module.nix lacks `{line}`"
        );
    }
}
