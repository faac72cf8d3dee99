//! What is recorded and what is made of it.
//!
//! * [`event`]: the append-only event log `godo` writes (the schema; see `docs/schema.md`);
//! * [`text`] and [`time`]: lossless byte strings and microsecond timestamps;
//! * [`mounts`]: a container's mounts, and the kind of filesystem a file's path was on;
//! * [`fds`]: the kernel's file-descriptor rules, and fork placement across the kernel's streams;
//! * [`investigation`]: what the filter pipeline makes of an event log: the Docker process tree
//!   and the files it changed.

pub mod event;
pub mod fds;
pub mod investigation;
pub mod mounts;
pub mod text;
pub mod time;

#[cfg(test)]
mod serde_tests;
