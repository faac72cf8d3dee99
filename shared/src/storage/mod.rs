//! Where events and investigations live.
//!
//! * [`store`]: the MongoDB event log (and the boots it holds);
//! * [`capture`]: capture files (JSON lines, zstd-compressed or not), read past damage;
//! * [`cooked`]: storing an investigation in the cooked database (and reading it back);
//! * [`lines`]: reading text lines with a length limit checked while reading;
//! * [`output`]: creating output files privately, never through a link nor onto an input.

pub mod capture;
pub mod checkpoint;
pub mod cooked;
pub mod lines;
pub mod output;
pub mod store;
