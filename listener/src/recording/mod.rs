//! Kernel messages into events: audit records parsed and joined into syscalls ([`audit`]), and
//! the [`recorder`] that merges the streams, orders and numbers the events of a run.

pub mod audit;
pub mod recorder;
