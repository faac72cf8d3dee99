//! [`Investigation`]: what the filter pipeline makes of one (host, boot) event log.
//!
//! It is flat and indexed for the analyst's tool: processes live in one `Vec` and point to each
//! other by [`NodeId`]; files live in another and point to their process. The nested JSON of the
//! report and the export (`{host, boot_id, generated_at, roots: [node], gaps, stats}`) is built
//! from it by `crate::presentation::report`.

use serde::{Deserialize, Serialize};

use crate::model::event::{DockerRole, GapReason, Pid};
use crate::model::mounts::FsKind;
use crate::model::text::ByteString;
use crate::model::time::Timestamp;

/// Index of a process in [`Investigation::processes`].
pub type NodeId = usize;

/// Index of a file record in [`Investigation::files`].
pub type FileId = usize;

/// The Docker process tree of one boot of one host and the files it changed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Investigation {
    /// The recording host's name, as godo saw it (or as `--host` named it).
    pub host: String,
    /// The host's boot the events are of (the kernel's `boot_id`, with `-2`, `-3`... for
    /// reboots found inside one audit log).
    pub boot_id: String,
    /// When the pipeline ran.
    pub generated_at: Timestamp,
    /// Every process of the tree; `processes[i].id == i`.
    pub processes: Vec<ProcessNode>,
    /// The roots of the tree: dockerd, and containerd/shims not below it.
    pub roots: Vec<NodeId>,
    /// Every file record of a process in the tree.
    pub files: Vec<FileRecord>,
    /// Lost events, carried from the input.
    pub gaps: Vec<GapRecord>,
    /// Counts and repairs.
    pub stats: Stats,
}

/// Identity of a process within one boot: pid reuse gives two different keys.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct ProcessKey {
    /// Process id (tgid).
    pub tgid: Pid,
    /// Start time (fork time, else first sighting), microseconds since the epoch.
    pub start: Timestamp,
}

/// One process (a thread group, keyed by its tgid) with its threads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessNode {
    /// Its index in [`Investigation::processes`].
    pub id: NodeId,
    /// Its identity.
    pub key: ProcessKey,
    /// Process id of the leader task.
    pub pid: Pid,
    /// Process id (equal to `pid` for the leader).
    pub tgid: Pid,
    /// Parent process id at fork time (repaired; the live ppid only as a fallback).
    pub ppid: Option<Pid>,
    /// Thread ids other than the leader.
    pub threads: Vec<Pid>,
    /// The kernel's short name of the task (`comm`, at most 15 bytes).
    pub comm: Option<ByteString>,
    /// Executable path.
    pub exe: Option<ByteString>,
    /// Arguments of the last exec (or of the snapshot).
    pub args: Vec<ByteString>,
    /// Working directory.
    pub cwd: Option<ByteString>,
    /// Root filesystem as the host sees it (propagated within a container).
    pub rootfs: Option<ByteString>,
    /// The Docker container the process ran in (from its cgroup), when it did.
    pub container_id: Option<String>,
    /// Container name, from Docker metadata.
    pub container_name: Option<String>,
    /// Container image, from Docker metadata.
    pub image: Option<String>,
    /// The fields (`comm`, `exe`, `args`, `cwd`, `rootfs`, `container_id`) it holds from its
    /// parent at fork rather than from its own exec, `/proc` or records: a forked child that
    /// never exec'd, or that was gone before `/proc` could be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherited: Vec<String>,
    /// The Docker daemon.
    pub star: bool,
    /// Its part in Docker.
    pub role: Option<DockerRole>,
    /// Start time.
    pub start: Option<Timestamp>,
    /// Exit time (inherited from the leader when a thread had none).
    pub exit: Option<Timestamp>,
    /// Exit code when known.
    pub exit_code: Option<i32>,
    /// Signal that killed it, when known.
    pub signal: Option<i32>,
    /// Parent node in the tree (None for roots).
    pub parent: Option<NodeId>,
    /// Child processes in the tree, by start time.
    pub children: Vec<NodeId>,
    /// The files this process changed, by time.
    pub files: Vec<FileId>,
    /// Every program the process ran, in order: one entry per exec (a process that never
    /// exec'd, such as a forked busybox applet, has none and runs its parent's program).
    #[serde(default)]
    pub execs: Vec<ExecRecord>,
}

/// One exec of a process: the program it ran from then on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecRecord {
    /// When the exec happened (the earliest of its reports: audit's coarse clock is the one
    /// its file operations are stamped with).
    pub time: Timestamp,
    /// The program's path, when a report named it.
    pub exe: Option<ByteString>,
    /// Its arguments, `argv[0]` first (empty when no report had them).
    pub args: Vec<ByteString>,
}

/// What was done to a file.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileOp {
    /// Opened for writing.
    Open,
    /// Created by the open.
    Create,
    /// Written.
    Write,
    /// Closed.
    Close,
    /// Renamed (see `renamed_to`).
    Rename,
    /// Removed.
    Unlink,
    /// Truncated.
    Truncate,
    /// Mode changed.
    Chmod,
    /// Owner changed.
    Chown,
}

impl FileOp {
    /// Every op, in the order of the enum.
    pub const ALL: [FileOp; 9] = [
        FileOp::Open,
        FileOp::Create,
        FileOp::Write,
        FileOp::Close,
        FileOp::Rename,
        FileOp::Unlink,
        FileOp::Truncate,
        FileOp::Chmod,
        FileOp::Chown,
    ];

    /// The op's name, as the JSON documents, the text report and the TUI show it.
    pub const fn name(self) -> &'static str {
        match self {
            FileOp::Open => "open",
            FileOp::Create => "create",
            FileOp::Write => "write",
            FileOp::Close => "close",
            FileOp::Rename => "rename",
            FileOp::Unlink => "unlink",
            FileOp::Truncate => "truncate",
            FileOp::Chmod => "chmod",
            FileOp::Chown => "chown",
        }
    }
}

/// One use of one file by one process: from open (or first sighting) to close.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Path as the process saw it, resolved against its cwd.
    pub path: ByteString,
    /// The same file as the host sees it, when it has a known name there: through the
    /// container's mounts (a bind's or volume's source) or its rootfs (the merged directory);
    /// the path itself for a host process. Never a name under the rootfs for `/proc`, `/sys`
    /// and `/dev` of a container, nor for a tmpfs.
    pub host_path: Option<ByteString>,
    /// The file in the storage driver's upper directory (where the bytes a container changed
    /// in its root filesystem are), for a file of a container's root filesystem when Docker
    /// named the upper directory.
    #[serde(default)]
    pub upper_path: Option<ByteString>,
    /// The kind of filesystem the path was on, when known: the container's root filesystem, a
    /// bind, a volume, a tmpfs, or a pseudo filesystem (`/proc`, `/sys`, `/dev`, for host
    /// processes too); `None` for a host process's ordinary file, and when nothing is known.
    #[serde(default)]
    pub fs: Option<FsKind>,
    /// The process that used it.
    pub node: NodeId,
    /// The task that used it, as its source named it: audit's records name the process (the
    /// kernel logs the thread group id), never a thread.
    pub pid: Pid,
    /// The descriptor, when the use went through one.
    pub fd: Option<i32>,
    /// What was done, in order of first occurrence.
    pub ops: Vec<FileOp>,
    /// When it was opened.
    pub opened: Option<Timestamp>,
    /// When the first write to the file was seen.
    pub first_write: Option<Timestamp>,
    /// When the last write to the file was seen.
    pub last_write: Option<Timestamp>,
    /// Number of write calls.
    pub writes: u64,
    /// When it was closed (or the process's exit time when it was never closed).
    pub closed: Option<Timestamp>,
    /// True when `closed` is the process's exit time, not a recorded close.
    pub closed_at_exit: bool,
    /// New name, for a rename.
    pub renamed_to: Option<ByteString>,
    /// The new name as the host sees it, for a rename (like `host_path`; a rename never leaves
    /// its filesystem, so `fs` holds for the new name too).
    #[serde(default)]
    pub renamed_host_path: Option<ByteString>,
    /// The new name in the storage driver's upper directory, for a rename (like `upper_path`).
    #[serde(default)]
    pub renamed_upper_path: Option<ByteString>,
    /// The program that made the operation: an index into its process's `execs`; `None`
    /// before the process's first exec (the program it was forked or found running with).
    #[serde(default)]
    pub exec: Option<usize>,
}

impl FileRecord {
    /// The earliest time anything happened to the file in this record.
    pub fn first_time(&self) -> Option<Timestamp> {
        [self.opened, self.first_write, self.closed]
            .into_iter()
            .flatten()
            .min()
    }

    /// The latest time anything happened to the file in this record.
    pub fn last_time(&self) -> Option<Timestamp> {
        [self.opened, self.last_write, self.closed]
            .into_iter()
            .flatten()
            .max()
    }
}

/// Lost events in the input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GapRecord {
    /// What lost the events (the kernel, the recorder, a damaged capture...).
    pub reason: GapReason,
    /// How many, when known.
    pub lost: Option<u64>,
    /// The time of the last event known before the loss.
    pub from: Timestamp,
    /// The time of the first event known after it (`from` when nothing came after).
    pub to: Timestamp,
    /// Where and how, in words (a serial range, a byte offset of a capture...).
    pub detail: Option<String>,
}

/// Counts of what the pipeline read, built and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Events read.
    pub events: u64,
    /// Tasks (pids) after folding.
    pub tasks: u64,
    /// Processes (tgid nodes) in all.
    pub processes: u64,
    /// Processes in the Docker tree.
    pub tree_processes: u64,
    /// File records kept.
    pub files: u64,
    /// Gap records.
    pub gaps: u64,
    /// Repairs made to the data.
    pub repairs: Repairs,
}

/// How many of each repair the pipeline made.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repairs {
    /// Processes given their container's rootfs from the one that did pivot_root.
    pub rootfs_propagated: u64,
    /// Threads whose ppid was taken from their tgid leader.
    pub ppid_from_leader: u64,
    /// Tasks without an exit given their leader's exit time.
    pub exit_from_leader: u64,
    /// Files never closed given their task's exit time.
    pub close_from_exit: u64,
    /// Events whose time was impossible (at or before 1970-01-01, or beyond year 9999) given
    /// the time of their neighbour in their run.
    #[serde(default)]
    pub times_from_neighbours: u64,
    /// File records whose audit time was up to a clock tick before their process's start
    /// (audit's coarse clock behind the process connector's precise one), moved to the start.
    #[serde(default)]
    pub file_times_to_start: u64,
}

#[cfg(test)]
mod file_op_tests {
    use super::FileOp;

    #[test]
    fn every_op_is_named_as_its_json_form() {
        for op in FileOp::ALL {
            assert_eq!(
                serde_json::to_value(op).expect("an op encodes"),
                op.name(),
                "{op:?}"
            );
        }
    }
}
