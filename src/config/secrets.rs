//! API keys and notification tokens: where they come from, and how they stay out of logs and
//! messages.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::ConfigError;

/// An API key or a token. `Debug` and `Display` show where it came from, never the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: String,
    origin: String,
}

impl Secret {
    pub fn new(value: impl Into<String>, origin: impl Into<String>) -> Self {
        Secret {
            value: value.into(),
            origin: origin.into(),
        }
    }

    /// The key itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Where it was read from ("inline api_key", "/run/credentials/…/jellyfin", "$SHELFLIFE_…").
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<redacted: from {}>)", self.origin)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted: from {}>", self.origin)
    }
}

/// The process environment as the loader sees it. Tests build one from a map so they never
/// depend on (or change) the real environment.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
    /// systemd's credential store, where the shipped units load the keys from
    /// (`/etc/credstore/shelflife.<service>`). Read as a last resort, so that root can run
    /// `shelflife plan` or `check` by hand with the keys the services use.
    credstore: Option<PathBuf>,
}

impl Env {
    pub fn from_process() -> Self {
        Env {
            vars: std::env::vars().collect(),
            credstore: Some(PathBuf::from("/etc/credstore")),
        }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            credstore: None,
        }
    }

    /// The same, with `dir` as the credential store.
    pub fn with_credstore(mut self, dir: impl Into<PathBuf>) -> Self {
        self.credstore = Some(dir.into());
        self
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

/// Where one secret may be found.
struct Sources<'a> {
    /// Its credential's name: `jellyfin`, `4k`, `notify-ntfy`.
    credential: &'a str,
    /// Its table in messages: `radarr`, `radarr[2]`, `notify[1]`.
    table: &'a str,
    /// Its key in the table: `api_key` or `token` (the file's key adds `_file`).
    key: &'a str,
    /// The environment variable that may hold it.
    env_var: String,
    /// What it is, in messages: "the jellyfin API key".
    what: String,
}

/// The key of the server called `name` (`jellyfin`, `radarr`, `4k`…) from the first source
/// that has one: inline `api_key`, `api_key_file`, `$CREDENTIALS_DIRECTORY/<name>` (systemd
/// `LoadCredential=`), `SHELFLIFE_<NAME>_API_KEY`, `/etc/credstore/shelflife.<name>` (what the
/// units load, readable by root). `table` names its table in messages (`radarr`, `radarr[2]`).
pub(super) fn resolve(
    name: &str,
    table: &str,
    inline: Option<String>,
    file: Option<String>,
    source: &Path,
    env: &Env,
) -> Result<Secret, ConfigError> {
    let sources = Sources {
        credential: name,
        table,
        key: "api_key",
        env_var: env_var_of(name),
        what: format!("the {name} API key"),
    };
    match lookup(&sources, inline, file, source, env)? {
        Some(secret) => Ok(secret),
        None => Err(ConfigError::MissingSecret {
            path: source.to_path_buf(),
            service: name.to_owned(),
            tried: tried(&sources, env).join(", "),
        }),
    }
}

/// The token of notification target `name`, when it has one: inline `token`, `token_file`,
/// `$CREDENTIALS_DIRECTORY/notify-<name>`, `SHELFLIFE_NOTIFY_<NAME>_TOKEN`,
/// `/etc/credstore/shelflife.notify-<name>`. None of them: no token, which a server that asks
/// for none is content with. `table` names its table in messages (`notify`, `notify[2]`).
pub(super) fn token(
    name: &str,
    table: &str,
    inline: Option<String>,
    file: Option<String>,
    source: &Path,
    env: &Env,
) -> Result<Option<Secret>, ConfigError> {
    let credential = token_credential_of(name);
    let sources = Sources {
        credential: &credential,
        table,
        key: "token",
        env_var: token_var_of(name),
        what: format!("the token of notify target {name}"),
    };
    lookup(&sources, inline, file, source, env)
}

/// The secret from the first of `sources` that has one, or `None`.
fn lookup(
    sources: &Sources,
    inline: Option<String>,
    file: Option<String>,
    source: &Path,
    env: &Env,
) -> Result<Option<Secret>, ConfigError> {
    let Sources {
        credential,
        table,
        key,
        ..
    } = *sources;
    let invalid = |message: String| ConfigError::Invalid {
        path: source.to_path_buf(),
        key: format!("{table}.{key}"),
        message,
    };
    let secret = match (inline, file) {
        (Some(_), Some(_)) => {
            return Err(invalid(format!(
                "and {key}_file are both set; keep one ({key}_file is safer)"
            )))
        }
        (Some(value), None) => Secret::new(value, format!("inline {table}.{key}")),
        (None, Some(file)) => read_key_file(&sources.what, Path::new(&file), source)?,
        (None, None) => {
            let loaded = credential_path(credential, env).filter(|p| p.exists());
            let stored = env
                .credstore
                .as_ref()
                .map(|dir| dir.join(format!("shelflife.{credential}")))
                .filter(|p| p.exists());
            match (loaded, env.var(&sources.env_var), stored) {
                (Some(path), _, _) => read_key_file(&sources.what, &path, source)?,
                (None, Some(value), _) => Secret::new(value, format!("${}", sources.env_var)),
                (None, None, Some(path)) => read_key_file(&sources.what, &path, source)?,
                (None, None, None) => return Ok(None),
            }
        }
    };
    if secret.expose().trim().is_empty() {
        return Err(invalid(format!("from {} is empty", secret.origin())));
    }
    Ok(Some(secret))
}

/// `$CREDENTIALS_DIRECTORY/<credential>`, when systemd gave the directory.
fn credential_path(credential: &str, env: &Env) -> Option<PathBuf> {
    env.var("CREDENTIALS_DIRECTORY")
        .filter(|d| !d.is_empty())
        .map(|d| PathBuf::from(d).join(credential))
}

/// Every place [`lookup`] looked, in its order, for a message.
fn tried(sources: &Sources, env: &Env) -> Vec<String> {
    let Sources {
        credential,
        table,
        key,
        ..
    } = *sources;
    let mut tried = vec![format!("{table}.{key}"), format!("{table}.{key}_file")];
    match credential_path(credential, env) {
        Some(path) => tried.push(path.display().to_string()),
        None => tried.push(format!(
            "$CREDENTIALS_DIRECTORY/{credential} (CREDENTIALS_DIRECTORY is not set)"
        )),
    }
    tried.push(format!("${}", sources.env_var));
    if let Some(dir) = &env.credstore {
        tried.push(
            dir.join(format!("shelflife.{credential}"))
                .display()
                .to_string(),
        );
    }
    tried
}

/// The environment variable that may hold the key of server `name`: `SHELFLIFE_4K_API_KEY`,
/// a `-` in the name written `_`.
pub fn env_var_of(name: &str) -> String {
    format!("SHELFLIFE_{}_API_KEY", upper(name))
}

/// The environment variable that may hold the token of notify target `name`:
/// `SHELFLIFE_NOTIFY_NTFY_TOKEN`, a `-` in the name written `_`.
pub fn token_var_of(name: &str) -> String {
    format!("SHELFLIFE_NOTIFY_{}_TOKEN", upper(name))
}

/// The credential that may hold the token of notify target `name` (`LoadCredential=` and
/// `/etc/credstore/shelflife.<credential>`): `notify-ntfy`.
pub fn token_credential_of(name: &str) -> String {
    format!("notify-{name}")
}

/// `name` as part of an environment variable's name.
fn upper(name: &str) -> String {
    name.to_uppercase().replace('-', "_")
}

/// The secret `what` ("the jellyfin API key") from `file`.
fn read_key_file(what: &str, file: &Path, source: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|err| ConfigError::SecretFile {
        path: source.to_path_buf(),
        what: what.to_owned(),
        file: file.to_path_buf(),
        source: err,
    })?;
    // Files written by `echo` end in a newline that is not part of the key.
    let key = text.trim_end_matches(['\n', '\r']).to_string();
    Ok(Secret::new(key, file.display().to_string()))
}

/// A warning when the file holds an inline `api_key` or `token` and group or others may read it.
pub(super) fn readable_inline_key_warning(path: &Path, text: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let inline = ["api_key", "token"].into_iter().find(|key| {
        text.lines().any(|line| {
            line.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
    })?;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o044 != 0).then(|| {
        format!(
            "{} holds an inline {inline} and other users can read it (mode {:o}): use {inline}_file or run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        )
    })
}
