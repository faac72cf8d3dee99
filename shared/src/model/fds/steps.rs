//! What [`FdTracker`](super::FdTracker) takes and gives back: the steps of the two kernel
//! streams (descriptor uses, fork reports, clone calls, exits), and each step's result with the
//! file behind its descriptor and how the process's table was placed.

use super::table::Slot;
use crate::model::event::Pid;
use crate::model::time::Timestamp;

/// How the tracker is fed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Both kernel streams, as they arrive: forks and unknown processes wait for their clone
    /// calls and fork reports.
    Live,
    /// One stream in order (an audit log): nothing waits.
    Replay,
}

/// What an event does to descriptors.
#[derive(Clone, Debug, PartialEq)]
pub enum Step<F> {
    /// The start-up walk of `/proc` found these descriptors.
    Snapshot {
        /// Process id.
        tgid: Pid,
        /// Its descriptors.
        slots: Vec<Slot<F>>,
    },
    /// An open returned `fd` for `file`.
    Open {
        /// Process id.
        tgid: Pid,
        /// The descriptor returned.
        fd: i32,
        /// `O_CLOEXEC` was given.
        cloexec: bool,
        /// The file opened.
        file: F,
    },
    /// A dup made `new` refer to what `old` refers to.
    Dup {
        /// Process id.
        tgid: Pid,
        /// Source descriptor.
        old: i32,
        /// New descriptor.
        new: i32,
        /// The copy is close-on-exec.
        cloexec: bool,
    },
    /// `close(fd)`.
    Close {
        /// Process id.
        tgid: Pid,
        /// Descriptor.
        fd: i32,
    },
    /// `close_range(first, last, flags)`.
    CloseRange {
        /// Process id.
        tgid: Pid,
        /// First descriptor of the range.
        first: i32,
        /// Last descriptor of the range (inclusive).
        last: i32,
        /// `CLOSE_RANGE_CLOEXEC`: mark close-on-exec instead of closing.
        cloexec_only: bool,
    },
    /// A use of `fd` that changes no descriptor (write, ftruncate, fchmod, fchown): the tracker
    /// says which file it went to.
    Use {
        /// Process id.
        tgid: Pid,
        /// Descriptor.
        fd: i32,
    },
    /// The process ran a new program.
    Exec {
        /// Process id.
        tgid: Pid,
    },
    /// The process ended (its last task).
    Exit {
        /// Process id.
        tgid: Pid,
    },
    /// A fork was reported.
    Fork(ForkReport),
    /// Nothing happens to descriptors; the token is handed back at once.
    Nothing,
}

impl<F> Step<F> {
    /// The process whose table the step needs, for the steps that wait with their process.
    pub(super) fn owner(&self) -> Option<Pid> {
        match self {
            Step::Open { tgid, .. }
            | Step::Dup { tgid, .. }
            | Step::Close { tgid, .. }
            | Step::CloseRange { tgid, .. }
            | Step::Use { tgid, .. }
            | Step::Exec { tgid }
            | Step::Exit { tgid } => Some(*tgid),
            Step::Snapshot { .. } | Step::Fork(_) | Step::Nothing => None,
        }
    }

    /// Whether the step reads or changes a table (an exit does neither).
    pub(super) fn needs_table(&self) -> bool {
        !matches!(
            self,
            Step::Exit { .. } | Step::Snapshot { .. } | Step::Fork(_) | Step::Nothing
        )
    }
}

/// A fork, as reported.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ForkReport {
    /// The parent process as reported (for a thread, the kernel names its process's parent).
    pub parent_tgid: Pid,
    /// The new task.
    pub child_pid: Pid,
    /// The new task's process (`parent`'s process again when a thread was made).
    pub child_tgid: Pid,
    /// The new task's pids in the nested pid namespaces its caller is in, from `/proc`: empty
    /// when the caller is in the host's namespace (its clone call returns the host's pid).
    pub ns_pids: Vec<Pid>,
    /// Whether the pid the call returned is known: the caller is in the host's namespace, or
    /// `ns_pids` could be read (when not, the child was gone, and only order ties its clone
    /// call to this report).
    pub ns_known: bool,
    /// The serial of the audited clone call that made the child, when the reporter knows it
    /// (the offline import's assembler matched it).
    pub clone_serial: Option<u64>,
}

impl ForkReport {
    pub(super) fn is_thread(&self) -> bool {
        self.child_pid != self.child_tgid
    }

    /// The process that made the call: a new thread's own process, a new process's parent.
    pub(super) fn caller(&self) -> Pid {
        if self.is_thread() {
            self.child_tgid
        } else {
            self.parent_tgid
        }
    }
}

/// What an audited clone-family call made.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CloneKind {
    /// A process (`fork`, `vfork`, `clone` without `CLONE_THREAD`).
    Process,
    /// A thread (`clone` with `CLONE_THREAD`).
    Thread,
    /// Either (`clone3`, whose flags audit does not show).
    Either,
}

impl CloneKind {
    pub(super) fn fits(self, thread: bool) -> bool {
        match self {
            CloneKind::Either => true,
            CloneKind::Process => !thread,
            CloneKind::Thread => thread,
        }
    }
}

/// A successful clone-family call, from its audit record.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CloneCall {
    /// The calling process (audit's `pid=`).
    pub caller: Pid,
    /// The return value: the new task's pid in the caller's pid namespace.
    pub ret: Pid,
    /// The record's serial.
    pub serial: u64,
    /// What it made.
    pub kind: CloneKind,
}

/// Where a step came from.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// The event's time.
    pub time: Timestamp,
    /// It came from audit (whose records arrive in each task's syscall order).
    pub audit: bool,
    /// The parent process its audit record named (`ppid=`).
    pub ppid: Option<Pid>,
}

/// How a forked child's table was chosen.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// The parent's table at its audited clone call with this serial: exact.
    CloneCall {
        /// The call's audit serial.
        serial: u64,
    },
    /// No audited clone call was found (lost, or the parent is not audited): the parent's table
    /// when the fork was reported.
    ForkReport,
    /// A thread: it shares its process's table.
    Thread,
}

/// A token handed back, with what the tracker knows of its step.
#[derive(Clone, Debug, PartialEq)]
pub struct Done<F, T> {
    /// The token pushed with the step.
    pub token: T,
    /// For a use, a dup (its old descriptor) and a close: the file behind the descriptor, when
    /// known.
    pub file: Option<F>,
    /// For a fork: how the child's table was chosen.
    pub placed: Option<Placement>,
}

impl<F, T> Done<F, T> {
    pub(super) fn plain(token: T) -> Self {
        Self {
            token,
            file: None,
            placed: None,
        }
    }
}

/// What the tracker has done so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Children placed at their audited clone call.
    pub by_clone_call: u64,
    /// Children placed from their fork report, no clone call having been found.
    pub by_fork_report: u64,
    /// Processes first met through their own steps and placed without a fork report.
    pub unreported: u64,
    /// Times too many steps were held and everything waiting was placed at once.
    pub forced: u64,
    /// Uses, closes and dups of a process without a table.
    pub without_table: u64,
}
