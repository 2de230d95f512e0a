//! `config show`: the effective config as TOML, defaults filled in, secrets redacted.

use std::fmt::Write;
use std::time::Duration;

use super::Config;
use crate::clients::http::HttpSettings;
use crate::notify::Via;
use crate::rules::{SeriesMode, WatchedBy};

impl Config {
    /// The effective config (defaults filled in) as TOML, every secret replaced by where it came
    /// from. This is what `config show` prints.
    pub fn to_redacted_toml(&self) -> String {
        let mut out = String::new();
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let d = |d: Duration| q(&humantime::format_duration(d).to_string());
        let _ = writeln!(out, "# {}", self.source.display());
        let _ = writeln!(out, "dry_run = {}", self.dry_run);
        let _ = writeln!(out, "\n[jellyfin]");
        let _ = writeln!(out, "url = {}", q(&self.jellyfin.url));
        let _ = writeln!(out, "api_key = {}", q(&self.jellyfin.api_key.to_string()));
        let users: Vec<String> = self.jellyfin.users.iter().map(|u| q(u)).collect();
        let _ = writeln!(out, "users = [{}]", users.join(", "));
        let watched_by = match self.rules.watched_by {
            WatchedBy::Any => "any",
            WatchedBy::All => "all",
        };
        let _ = writeln!(out, "watched_by = {}", q(watched_by));
        http_lines(&mut out, &self.jellyfin.http);
        for (service, arrs) in [("radarr", &self.radarr), ("sonarr", &self.sonarr)] {
            // One instance named after its service is written as it always was: `[radarr]`.
            let single = matches!(arrs.as_slice(), [only] if only.name == service);
            if arrs.is_empty() {
                let _ = writeln!(out, "\n# [{service}] is not configured: left alone");
            }
            for arr in arrs.iter() {
                if single {
                    let _ = writeln!(out, "\n[{service}]");
                } else {
                    let _ = writeln!(out, "\n[[{service}]]");
                    let _ = writeln!(out, "name = {}", q(&arr.name));
                }
                let _ = writeln!(out, "url = {}", q(&arr.url));
                let _ = writeln!(out, "api_key = {}", q(&arr.api_key.to_string()));
                if service == "radarr" {
                    let _ = writeln!(out, "add_import_exclusion = {}", arr.add_import_exclusion);
                }
                http_lines(&mut out, &arr.http);
            }
        }
        let r = &self.rules;
        let _ = writeln!(out, "\n[rules]");
        let _ = writeln!(out, "grace_days = {}", r.grace_days);
        let _ = writeln!(out, "notice_days = {}", r.notice_days);
        let tags: Vec<String> = r.keep_tags.iter().map(|t| q(t)).collect();
        let _ = writeln!(out, "keep_tags = [{}]", tags.join(", "));
        let _ = writeln!(out, "keep_favorites = {}", r.keep_favorites);
        let _ = writeln!(out, "keep_lossless = {}", r.keep_lossless);
        let mode = match r.series_mode {
            SeriesMode::Episode => "episode",
            SeriesMode::Season => "season",
            SeriesMode::Hybrid => "hybrid",
        };
        let _ = writeln!(out, "series_mode = {}", q(mode));
        let _ = writeln!(
            out,
            "partial_season_threshold = {:?}",
            r.partial_season_threshold
        );
        let _ = writeln!(out, "protect_latest_season = {}", r.protect_latest_season);
        let _ = writeln!(out, "max_deletions_per_run = {}", r.max_deletions_per_run);
        let _ = writeln!(out, "copies = {}", q(r.copies.as_str()));
        self.notice_lines(&mut out);
        match &self.seerr {
            None => {
                let _ = writeln!(out, "\n# [seerr] is not configured: left alone");
            }
            Some(s) => {
                let _ = writeln!(out, "\n[seerr]");
                let _ = writeln!(out, "url = {}", q(&s.url));
                let _ = writeln!(out, "api_key = {}", q(&s.api_key.to_string()));
                let _ = writeln!(
                    out,
                    "request_protection_days = {}",
                    s.request_protection_days
                );
                let _ = writeln!(
                    out,
                    "keep_until_requester_watched = {}",
                    s.keep_until_requester_watched
                );
                http_lines(&mut out, &s.http);
            }
        }
        for m in &self.path_map {
            let _ = writeln!(out, "\n[[path_map]]");
            let _ = writeln!(out, "jellyfin = {}", q(&m.jellyfin));
            let _ = writeln!(out, "arr = {}", q(&m.arr));
        }
        let _ = writeln!(out, "\n[health]");
        let h = &self.health;
        let _ = writeln!(out, "interval = {}", d(h.interval));
        if let Some(window) = h.require_healthy_for {
            let _ = writeln!(out, "require_healthy_for = {}", d(window));
        }
        let _ = writeln!(
            out,
            "on_degraded_array = {}",
            q(h.policy.on_degraded_array.as_str())
        );
        let _ = writeln!(out, "on_low_space = {}", q(h.policy.on_low_space.as_str()));
        let _ = writeln!(
            out,
            "mdstat = {}",
            q(&h.arrays.mdstat.display().to_string())
        );
        let _ = writeln!(out, "zpool = {}", q(&h.arrays.zpool.display().to_string()));
        let _ = writeln!(
            out,
            "btrfs_sysfs = {}",
            q(&h.arrays.btrfs_sysfs.display().to_string())
        );
        for m in &self.health.mounts {
            let _ = writeln!(out, "\n[[health.mounts]]");
            let _ = writeln!(out, "path = {}", q(&m.path.display().to_string()));
            if let Some(fstype) = &m.fstype {
                let _ = writeln!(out, "fstype = {}", q(fstype));
            }
            if let Some(canary) = &m.canary {
                let _ = writeln!(out, "canary = {}", q(canary));
            }
            let _ = writeln!(out, "timeout = {}", d(m.timeout));
            let _ = writeln!(out, "allow_readonly = {}", m.allow_readonly);
            let _ = writeln!(out, "min_free_percent = {:?}", m.min_free_percent);
            let _ = writeln!(out, "min_free_bytes = {}", m.min_free_bytes);
            if !m.root_folders.is_empty() {
                let folders: Vec<String> = m.root_folders.iter().map(|f| q(f)).collect();
                let _ = writeln!(out, "root_folders = [{}]", folders.join(", "));
            }
            if !m.grace_tiers.is_empty() {
                let tiers: Vec<String> = m
                    .grace_tiers
                    .iter()
                    .map(|t| {
                        format!(
                            "{{ below_free_percent = {:?}, grace_days = {} }}",
                            t.below_free_percent, t.grace_days
                        )
                    })
                    .collect();
                let _ = writeln!(out, "grace_tiers = [{}]", tiers.join(", "));
            }
            if let Some(target) = &m.target {
                let _ = writeln!(out, "space_mode = \"when_low\"");
                if let Some(p) = target.free_percent {
                    let _ = writeln!(out, "target_free_percent = {p:?}");
                }
                if let Some(b) = target.free_bytes {
                    let _ = writeln!(out, "target_free_bytes = {b}");
                }
            }
        }
        let _ = writeln!(out, "\n[state]");
        let _ = writeln!(out, "path = {}", q(&self.state.path.display().to_string()));
        let _ = writeln!(out, "\n[metrics]");
        match &self.metrics.textfile {
            Some(p) => {
                let _ = writeln!(out, "textfile = {}", q(&p.display().to_string()));
            }
            None => {
                let _ = writeln!(out, "# textfile is not set: no metrics file");
            }
        }
        out
    }
}

impl Config {
    /// `[leaving_soon]` and every `[[notify]]` target, tokens redacted.
    fn notice_lines(&self, out: &mut String) {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let _ = writeln!(out, "\n[leaving_soon]");
        if self.rules.notice_days == 0 {
            let _ = writeln!(out, "# unused while [rules] notice_days is 0");
        }
        match &self.leaving_soon.collection {
            Some(name) => {
                let _ = writeln!(out, "enabled = true");
                let _ = writeln!(out, "collection = {}", q(name));
            }
            None => {
                let _ = writeln!(out, "enabled = false");
            }
        }
        if self.notify.is_empty() {
            let _ = writeln!(out, "\n# [[notify]] is not configured: no notifications");
        }
        for target in &self.notify {
            let _ = writeln!(out, "\n[[notify]]");
            let _ = writeln!(out, "name = {}", q(&target.name));
            let (kind, url, token) = match &target.via {
                Via::Webhook { url, token } => ("webhook", Some(url), token.as_ref()),
                Via::Ntfy { url, token } => ("ntfy", Some(url), token.as_ref()),
                Via::Command { .. } => ("command", None, None),
            };
            let _ = writeln!(out, "kind = {}", q(kind));
            if let Some(url) = url {
                let _ = writeln!(out, "url = {}", q(&hide_url_path(url)));
            }
            if let Via::Command { argv } = &target.via {
                let argv: Vec<String> = argv.iter().map(|a| q(&hide_password(a))).collect();
                let _ = writeln!(out, "command = [{}]", argv.join(", "));
            }
            let events: Vec<String> = target.events.iter().map(|e| q(e.as_str())).collect();
            let _ = writeln!(out, "events = [{}]", events.join(", "));
            let timeout = humantime::format_duration(target.timeout).to_string();
            let _ = writeln!(out, "timeout = {}", q(&timeout));
            match (token, self.notify_token_origins.get(&target.name)) {
                (Some(_), Some(origin)) => {
                    let _ = writeln!(out, "token = {}", q(&format!("<redacted: from {origin}>")));
                }
                (Some(_), None) => {
                    let _ = writeln!(out, "token = {}", q("<redacted>"));
                }
                (None, _) if url.is_some() => {
                    let _ = writeln!(out, "# no token");
                }
                (None, _) => {}
            }
        }
    }
}

/// A notification URL as `config show` prints it: a webhook's path (Slack's, Discord's) and an
/// ntfy topic are as good as a password, so only `scheme://host[:port]/` is shown of it.
fn hide_url_path(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) if u.path() == "/" && u.query().is_none() && u.password().is_none() => url.to_owned(),
        Ok(u) => {
            let host = u.host_str().unwrap_or("");
            match u.port() {
                Some(port) => format!("{}://{host}:{port}/<redacted>", u.scheme()),
                None => format!("{}://{host}/<redacted>", u.scheme()),
            }
        }
        Err(_) => "<redacted>".to_owned(),
    }
}

/// A command argument with the password of a URL in it redacted (apprise's
/// `mailtos://user:password@host`); any other argument as it is.
fn hide_password(arg: &str) -> String {
    match reqwest::Url::parse(arg) {
        Ok(mut u) if u.password().is_some() => match u.set_password(Some("redacted")) {
            Ok(()) => u.to_string(),
            Err(()) => "<redacted>".to_owned(),
        },
        _ => arg.to_owned(),
    }
}

/// The `[jellyfin]`/`[radarr]`/`[sonarr]` lines of `config show` for `http`.
fn http_lines(out: &mut String, http: &HttpSettings) {
    let d = |d: Duration| format!("{:?}", humantime::format_duration(d).to_string());
    let _ = writeln!(out, "timeout = {}", d(http.timeout));
    let _ = writeln!(out, "list_timeout = {}", d(http.list_timeout));
    let _ = writeln!(out, "connect_timeout = {}", d(http.connect_timeout));
    let _ = writeln!(out, "retries = {}", http.retries);
}
