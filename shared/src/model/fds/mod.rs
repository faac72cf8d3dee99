//! File descriptors, the way the kernel keeps them: written once, used by the recorder (live),
//! the offline import and the pipeline's replay, so all three attribute a write to the same
//! file.
//!
//! * [`table`]: one process's table and the kernel's rules for it (open, dup, close,
//!   close_range, exec, fork);
//! * [`tracker`]: every process's table on a host, with forks placed at the right point of the
//!   parent's syscalls whatever order the process connector and audit arrive in.
//!
//! Pure: no I/O, no clock; time comes with the inputs and ticks from the caller.
//!
//! Not followed, and why: descriptors received over a unix socket (`SCM_RIGHTS`): `recvmsg`
//! returns a byte count, and no audit record names the descriptors it installed, so a use of
//! one has no file (and is not attributed to what the number meant before, see [`table`]); and
//! tables shared between processes (`clone(CLONE_FILES)` without `CLONE_THREAD`), since audit
//! does not show `clone3`'s flags and the connector does not report them.

mod steps;
pub mod table;
mod tables;
pub mod tracker;

#[cfg(test)]
mod tests;

pub use steps::{CloneCall, CloneKind, Done, ForkReport, Meta, Mode, Placement, Stats, Step};
pub use table::{Duped, FdTable, Slot};
pub use tracker::FdTracker;

/// `O_CLOEXEC` on Linux (x86_64 and i386).
pub const O_CLOEXEC: u32 = 0o2_000_000;
/// `O_ACCMODE`: the access mode bits of the open flags.
pub const O_ACCMODE: u32 = 0o3;
/// `close_range` flag: mark the range close-on-exec instead of closing it.
pub const CLOSE_RANGE_CLOEXEC: u64 = 1 << 2;
