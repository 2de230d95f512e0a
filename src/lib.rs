//! shelflife: deletes watched movies and TV after a grace period, safely, through Radarr and Sonarr.
//!
//! Data flows one way: config → inventory (I/O: Jellyfin, Radarr, Sonarr) →
//! [`library::Library`] → [`policy::plan`] (pure) → [`plan::Plan`] → apply (I/O, dry run by
//! default), journaled in the state file. `docs/ARCHITECTURE.md` has the picture, the layers
//! the modules below are grouped in (bottom to top: a module uses only what lies under it, which
//! `tests/layers.rs` checks) and where to add a server, a check or a rule.

// Foundations: plain types and edges every layer may use.
pub mod cli;
pub mod exit;
pub mod library;
pub mod logging;
pub mod rules;
pub mod systemd;
pub mod units;

// Decisions: pure.
pub mod plan;
pub mod policy;

// Servers and host: HTTP clients, the inventory read through them, the health checks.
pub mod clients;
pub mod health;
pub mod inventory;
pub mod notify;

// Records and settings.
pub mod config;
pub mod defaults;
pub mod state;

// Acting: deleting, and journaling what is deleted.
pub mod apply;
pub mod notice;
pub mod record;
pub mod seerr;

// Reporting: how a pass ended, what people read, what Prometheus scrapes.
pub mod metrics;
pub mod outcome;
pub mod output;

// Running: the monitor's loop and one pass end to end.
pub mod drift;
pub mod monitor;
pub mod pass;
