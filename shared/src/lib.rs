//! The library shared by `godo` (the recorder) and `dockwatch-tui` (the analyst's tool).
//!
//! * [`event`]: the append-only event log `godo` writes (the schema; see `docs/schema.md`);
//! * [`text`] and [`time`]: lossless byte strings and microsecond timestamps used by the model;
//! * [`sanitize`]: making attacker-chosen text safe to show in a terminal;
//! * [`investigation`]: what the filter pipeline makes of an event log: the Docker process tree
//!   and the files it changed.
//!
//! I/O lives at the edges (store, capture files); the pipeline is pure: events in, an
//! investigation out.

pub mod capture;
pub mod event;
pub mod investigation;
pub mod sanitize;
pub mod store;
pub mod testing;
pub mod text;
pub mod time;

pub use event::{Event, EventKind, Pid, Source};
pub use text::ByteString;
pub use time::Timestamp;
