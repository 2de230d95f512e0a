//! `[leaving_soon]` and `[[notify]]`: how the items due to go are announced, and where the
//! events of a pass are sent. Both are checked here; what they do lives in `crate::notify` and
//! the pass.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::build::Invalid;
use super::raw::{self, RawNotify, Tables};
use super::values::{duration, plain_name, url};
use super::{secrets, ConfigError, Env, LeavingSoonConfig};
use crate::defaults;
use crate::notify::{Event, Target, Token, Via};
use crate::rules::Rules;

/// Longest name a collection may have: Jellyfin shows it as a library tile.
const MAX_COLLECTION: usize = 100;

/// The bounds of `[[notify]] timeout`: a notification must not hold a pass up for long.
const MIN_NOTIFY_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_NOTIFY_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// `[leaving_soon]`, which matters only while `[rules] notice_days` is above 0 (and says so).
pub(super) fn leaving_soon(
    raw: Option<raw::RawLeavingSoon>,
    rules: &Rules,
    source: &Path,
    warnings: &mut Vec<String>,
    invalid: Invalid,
) -> Result<LeavingSoonConfig, ConfigError> {
    let raw = raw.unwrap_or_default();
    // A key set, not the bare header: a generated file (the NixOS module) writes the table empty.
    let written = raw.enabled.is_some() || raw.collection.is_some();
    let collection = match raw.collection {
        None => defaults::LEAVING_SOON_COLLECTION.to_owned(),
        Some(name) => collection_name(name, invalid)?,
    };
    if written && rules.notice_days == 0 {
        warnings.push(format!(
            "{}: [leaving_soon] is set, but [rules] notice_days is 0: items go as soon as they \
             are eligible, so none is ever shown as leaving soon; set notice_days to announce \
             them first",
            source.display()
        ));
    }
    let enabled = raw.enabled.unwrap_or(defaults::LEAVING_SOON_ENABLED);
    Ok(LeavingSoonConfig {
        collection: enabled.then_some(collection),
    })
}

/// A Jellyfin collection's name as people would type it in Jellyfin.
fn collection_name(name: String, invalid: Invalid) -> Result<String, ConfigError> {
    let key = "leaving_soon.collection";
    if name.trim().is_empty() {
        return Err(invalid(key, "must not be empty".into()));
    }
    if name.trim() != name {
        return Err(invalid(
            key,
            format!("must not start or end with spaces, not {name:?}"),
        ));
    }
    if name.chars().count() > MAX_COLLECTION {
        return Err(invalid(
            key,
            format!("must be at most {MAX_COLLECTION} characters long"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(
            key,
            format!("must not hold control characters (tabs, newlines…), not {name:?}"),
        ));
    }
    Ok(name)
}

/// The kinds of target, as the file spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Webhook,
    Ntfy,
    Command,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Webhook => "webhook",
            Kind::Ntfy => "ntfy",
            Kind::Command => "command",
        }
    }
}

/// `[notify]` or `[[notify]]`, in the order of the file, with where each token came from (by
/// target name) for `config show`.
pub(super) fn targets(
    raw: Option<Tables<RawNotify>>,
    source: &Path,
    env: &Env,
    invalid: Invalid,
) -> Result<(Vec<Target>, BTreeMap<String, String>), ConfigError> {
    let Some(tables) = raw else {
        return Ok((Vec::new(), BTreeMap::new()));
    };
    let several = tables.items.len() > 1;
    let mut targets: Vec<Target> = Vec::with_capacity(tables.items.len());
    let mut origins = BTreeMap::new();
    for (i, n) in tables.items.into_iter().enumerate() {
        // The key of this table in messages: `notify`, or `notify[2]` in an array.
        let table = if tables.array {
            format!("notify[{}]", i + 1)
        } else {
            "notify".to_owned()
        };
        let key = |k: &str| format!("{table}.{k}");
        let kind = kind(n.kind.as_deref(), &key("kind"), invalid)?;
        let name = match n.name {
            Some(name) => plain_name(name, &key("name"), invalid)?,
            None if several => {
                return Err(invalid(
                    &key("name"),
                    "is required when there are several [[notify]] targets: it names the \
                     target in logs and its token's credential"
                        .into(),
                ))
            }
            None => kind.as_str().to_owned(),
        };
        unique(&targets, &name, &key("name"), invalid)?;
        let only_for_servers = |k: &str| {
            invalid(
                &key(k),
                "is for webhook and ntfy targets; a command target runs its `command`, which \
                 reads what it needs itself"
                    .into(),
            )
        };
        let via = match kind {
            Kind::Command => {
                if n.url.is_some() {
                    return Err(only_for_servers("url"));
                }
                if n.token.is_some() {
                    return Err(only_for_servers("token"));
                }
                if n.token_file.is_some() {
                    return Err(only_for_servers("token_file"));
                }
                Via::Command {
                    argv: argv(n.command, &key("command"), invalid)?,
                }
            }
            Kind::Webhook | Kind::Ntfy => {
                if n.command.is_some() {
                    return Err(invalid(
                        &key("command"),
                        format!(
                            "is for command targets; a {} target posts to its `url`",
                            kind.as_str()
                        ),
                    ));
                }
                if n.url.is_none() {
                    let example = match kind {
                        Kind::Ntfy => "https://ntfy.sh/my-shelflife",
                        _ => "https://example.org/hooks/shelflife",
                    };
                    return Err(invalid(
                        &key("url"),
                        format!(
                            "is required for a {} target (e.g. {example:?})",
                            kind.as_str()
                        ),
                    ));
                }
                let url = url(n.url.as_deref(), &key("url"), invalid)?;
                let secret = secrets::token(&name, &table, n.token, n.token_file, source, env)?;
                let token = secret.map(|s| {
                    origins.insert(name.clone(), s.origin().to_owned());
                    Token::new(s.expose().to_owned())
                });
                match kind {
                    Kind::Ntfy => Via::Ntfy { url, token },
                    _ => Via::Webhook { url, token },
                }
            }
        };
        let timeout = duration(
            n.timeout.as_deref(),
            defaults::NOTIFY_TIMEOUT,
            &key("timeout"),
            invalid,
        )?;
        if !(MIN_NOTIFY_TIMEOUT..=MAX_NOTIFY_TIMEOUT).contains(&timeout) {
            return Err(invalid(
                &key("timeout"),
                format!(
                    "must be between {} and {}, not {}",
                    humantime::format_duration(MIN_NOTIFY_TIMEOUT),
                    humantime::format_duration(MAX_NOTIFY_TIMEOUT),
                    humantime::format_duration(timeout)
                ),
            ));
        }
        targets.push(Target {
            events: events(n.events, &key("events"), invalid)?,
            name,
            via,
            timeout,
        });
    }
    Ok((targets, origins))
}

fn kind(value: Option<&str>, key: &str, invalid: Invalid) -> Result<Kind, ConfigError> {
    match value {
        Some("webhook") => Ok(Kind::Webhook),
        Some("ntfy") => Ok(Kind::Ntfy),
        Some("command") => Ok(Kind::Command),
        None => Err(invalid(
            key,
            "is required: \"webhook\", \"ntfy\" or \"command\"".into(),
        )),
        Some(other) => Err(invalid(
            key,
            format!("must be \"webhook\", \"ntfy\" or \"command\", not {other:?}"),
        )),
    }
}

/// No two targets share a name, nor the environment variable of their token.
fn unique(targets: &[Target], name: &str, key: &str, invalid: Invalid) -> Result<(), ConfigError> {
    let var = secrets::token_var_of(name);
    let Some(first) = targets
        .iter()
        .find(|t| secrets::token_var_of(&t.name) == var)
    else {
        return Ok(());
    };
    let message = if first.name == name {
        format!("{name:?} names two notify targets; give each [[notify]] its own `name`")
    } else {
        format!(
            "{name:?} and {:?} would share the token variable ${var}; rename one",
            first.name
        )
    };
    Err(invalid(key, message))
}

/// A command target's `command`: the program and its arguments, run without a shell.
fn argv(
    value: Option<Vec<String>>,
    key: &str,
    invalid: Invalid,
) -> Result<Vec<String>, ConfigError> {
    let argv = value.unwrap_or_default();
    match argv.first() {
        None => Err(invalid(
            key,
            "is required for a command target: the program and its arguments, run without a \
             shell (e.g. [\"apprise\", \"-b\", \"…\"])"
                .into(),
        )),
        Some(program) if program.trim().is_empty() => Err(invalid(
            key,
            "must start with the program to run, not an empty string".into(),
        )),
        Some(_) if argv.iter().any(|a| a.contains('\0')) => Err(invalid(
            key,
            "must not hold a NUL character: no program can be given one".into(),
        )),
        Some(_) => Ok(argv),
    }
}

/// A target's `events`: every event unless it names some.
fn events(
    value: Option<Vec<String>>,
    key: &str,
    invalid: Invalid,
) -> Result<Vec<Event>, ConfigError> {
    let known = || {
        let names: Vec<String> = Event::ALL
            .iter()
            .map(|e| format!("{:?}", e.as_str()))
            .collect();
        names.join(", ")
    };
    let Some(names) = value else {
        return Ok(defaults::NOTIFY_EVENTS.to_vec());
    };
    if names.is_empty() {
        return Err(invalid(
            key,
            format!(
                "must name at least one event ({}); leave it out for all of them, or remove \
                 the target",
                known()
            ),
        ));
    }
    let mut events: Vec<Event> = Vec::with_capacity(names.len());
    for name in &names {
        let event: Event = name.parse().map_err(|_| {
            invalid(
                key,
                format!("has an unknown event {name:?}; the events are {}", known()),
            )
        })?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    Ok(events)
}
