//! shelflife: deletes watched movies and TV after a grace period, safely, through Radarr and Sonarr.
//!
//! Data flows one way (see `DESIGN.md` of the project for the picture):
//! config → inventory (I/O: Jellyfin, Radarr, Sonarr) → [`library::Library`] →
//! [`policy::plan`] (pure) → [`plan::Plan`] → apply (I/O, dry run by default).

pub mod apply;
pub mod cli;
pub mod clients;
pub mod config;
pub mod defaults;
pub mod exit;
pub mod health;
pub mod inventory;
pub mod library;
pub mod logging;
pub mod metrics;
pub mod monitor;
pub mod outcome;
pub mod output;
pub mod pass;
pub mod plan;
pub mod policy;
pub mod record;
pub mod rules;
pub mod state;
pub mod systemd;
pub mod units;
