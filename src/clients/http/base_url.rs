//! A server's base URL: validated once, then joined with each request's path and query.

use reqwest::Url;

/// A base URL that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the URL {shown:?} is not usable: {reason}")]
pub struct BadBaseUrl {
    /// The URL as given, without its password should it carry one: safe for a message.
    pub shown: String,
    pub reason: String,
}

/// The base URL of a server (scheme, host and a path prefix such as a reverse proxy's), checked
/// and without a trailing `/`: an `http` or `https` URL with a host and without a query or a
/// fragment. Surrounding whitespace is ignored. The one check both the configuration and the
/// clients apply.
pub fn parse_base_url(base_url: &str) -> Result<String, BadBaseUrl> {
    let bad = |reason: &str| {
        // A URL with a password would put it in the message: show it without.
        let shown = match Url::parse(base_url) {
            Ok(mut u) => {
                let _ = u.set_password(None);
                u.to_string()
            }
            Err(_) => base_url.to_owned(),
        };
        BadBaseUrl {
            shown,
            reason: reason.to_owned(),
        }
    };
    let url = Url::parse(base_url.trim()).map_err(|e| bad(&e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(bad("the scheme must be http or https"));
    }
    if url.host_str().is_none() {
        return Err(bad("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it must not have a query or fragment"));
    }
    let mut s = url.to_string();
    while s.ends_with('/') {
        s.pop();
    }
    Ok(s)
}

/// `base` (as [`parse_base_url`] left it) joined with `path` and `query`.
pub(super) fn request_url(base: &str, path: &str, query: &[(&str, String)]) -> Option<Url> {
    // `base` was validated as a URL and `path` is one of the clients' API paths with numeric
    // ids, so this parses; should it not, nothing is sent.
    let mut url = Url::parse(&format!("{base}{path}")).ok()?;
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in query {
            pairs.append_pair(k, v);
        }
    }
    Some(url)
}
