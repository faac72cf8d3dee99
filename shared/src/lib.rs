//! The library shared by `godo` (the recorder) and `dockwatch-tui` (the analyst's tool).
//!
//! * [`event`]: the append-only event log `godo` writes (the schema; see `docs/schema.md`);
//! * [`fds`]: the kernel's file-descriptor rules, and fork placement across the kernel's streams;
//! * [`lines`]: reading text lines with a length limit checked while reading;
//! * [`output`]: creating output files privately, never through a link nor onto an input;
//! * [`text`] and [`time`]: lossless byte strings and microsecond timestamps used by the model;
//! * [`sanitize`]: making attacker-chosen text safe to show in a terminal;
//! * [`completeness`]: what is missing from, or repeated in, an event stream read from a file;
//! * [`investigation`]: what the filter pipeline makes of an event log: the Docker process tree
//!   and the files it changed;
//! * [`pipeline`]: the pure filter pipeline (events of one boot in, an investigation out);
//! * [`load`]: feeding the pipeline from the store or a capture file, choosing the boot;
//! * [`cooked`]: storing an investigation in the cooked database (and reading it back);
//! * [`report`]: the JSON export and the text report of an investigation.
//!
//! I/O lives at the edges (store, capture files); the pipeline is pure: events in, an
//! investigation out.

pub mod capture;
pub mod completeness;
pub mod cooked;
pub mod event;
pub mod fds;
pub mod investigation;
pub mod lines;
pub mod load;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod sanitize;
pub mod store;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod text;
pub mod throttle;
pub mod time;

pub use event::{Event, EventKind, Pid, Source};
pub use text::ByteString;
pub use time::Timestamp;

#[cfg(test)]
mod serde_tests;
