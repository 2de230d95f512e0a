//! Fixtures shared by shelflife's unit tests (`src/**`) and its integration tests (`tests/`):
//! a size-limited tmpfs ([`Tmpfs`]) and the external programs some tests run ([`tool`]).
//!
//! Both follow one policy for what a machine may lack (root, a program): a test that cannot run
//! here says `SKIPPED: <why>` on stderr and passes, unless `SHELFLIFE_REQUIRE_TOOLS=1` (CI sets
//! it, see `.ci/run`), where it fails instead. [`skip`] is that policy.

mod tmpfs;
mod tools;

pub use tmpfs::Tmpfs;
pub use tools::{required, skip, tool};
