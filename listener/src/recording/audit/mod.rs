//! Kernel audit: from the text of audit records to the model's events.
//!
//! * [`record`]: parses one record (an auditd log line or a netlink datagram body);
//! * [`assembler`]: groups records by serial into kernel events and emits the model's events
//!   (with the process tree from pid/ppid and fork-family calls);
//! * [`serials`]: watches each node's serial numbers for losses, reboots and damaged serials;
//! * [`convert`]: the pure mapping from one kernel event's records to one model event;
//! * [`syscalls`]: syscall numbers to names for x86_64 and i386.
//!
//! All of it is pure (no I/O), so it runs the same on a live socket and on an `audit.log`.

pub mod assembler;
pub mod convert;
pub mod record;
pub mod serials;
pub mod syscalls;
mod tables;

pub use assembler::{Assembler, Counters, Output};
pub use record::{ParseError, Record, parse_log_line, parse_netlink};
