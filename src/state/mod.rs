//! SQLite state (work in progress).
