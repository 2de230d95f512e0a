//! The process's `reqwest` clients, one per connect deadline, shared by every service.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::{BuildError, HttpSettings};

/// The process's HTTP clients. Build it once; clones share the connection pools.
///
/// reqwest sets the connect deadline per client, not per request, so there is one client per
/// connect deadline in use (in practice one, or one per service).
#[derive(Debug, Clone, Default)]
pub struct Http {
    clients: Arc<std::sync::Mutex<HashMap<Duration, reqwest::Client>>>,
}

impl Http {
    pub fn new() -> Result<Self, BuildError> {
        let http = Http::default();
        // Fail early on a TLS setup that cannot work, before any service is built.
        http.client(HttpSettings::default().connect_timeout)?;
        Ok(http)
    }

    /// The client whose connections give up after `connect_timeout`.
    pub(super) fn client(&self, connect_timeout: Duration) -> Result<reqwest::Client, BuildError> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = clients.get(&connect_timeout) {
            return Ok(client.clone());
        }
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(concat!("shelflife/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(connect_timeout)
            // The *arrs and Jellyfin never legitimately redirect API calls; following one could
            // carry the key header to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(BuildError::Client)?;
        clients.insert(connect_timeout, client.clone());
        Ok(client)
    }
}
