//! The library shared by `godo` (the recorder) and `dockwatch-tui` (the analyst's tool), in four
//! layers:
//!
//! * [`model`]: what is recorded and what is made of it: the event log `godo` writes (the
//!   schema; see `docs/schema.md`), lossless byte strings and microsecond timestamps, the
//!   kernel's file-descriptor rules, and the investigation (the Docker process tree and the
//!   files it changed);
//! * [`storage`]: where events live: the MongoDB store, capture files, the cooked database, and
//!   the rules for reading lines and creating output files safely;
//! * [`pipeline`]: the pure filter pipeline (events of one boot in, an investigation out), and
//!   the ledger of what is missing from, or repeated in, an event stream;
//! * [`presentation`]: the JSON export and the text report, making attacker-chosen text safe to
//!   show, and the pace of progress reports.
//!
//! [`load`] is the seam: it feeds the pipeline from the store or a capture file. I/O lives at
//! the edges (storage, load); the pipeline is pure: events in, an investigation out.

pub mod load;
pub mod model;
pub mod pipeline;
pub mod presentation;
pub mod storage;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;

pub use model::event::{Event, EventKind, Pid, Source};
pub use model::text::ByteString;
pub use model::time::Timestamp;
