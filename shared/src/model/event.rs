//! The append-only event log: one [`Event`] document per thing the kernel told `godo`.
//!
//! `godo` only ever inserts these documents; it never updates one. The pipeline folds them into
//! processes and files. Every event carries the `host` and `boot_id` it was recorded on, because
//! many hosts write to one database and pids restart at every boot, and a `(run, seq)` pair that
//! is unique per event, so a retried insert never stores an event twice.
//!
//! The same serde form is used for BSON (MongoDB) and JSON (capture files), so both have the same
//! field names. Field by field documentation is below; `docs/schema.md` has the overview.
//!
//! Conventions:
//! * `pid` is the kernel task id (a thread id), `tgid` the process id. Audit records only know the
//!   process (`pid=` in an audit record is the tgid), so audit-sourced events set both to it.
//! * Optional fields are left out of the document when unknown, never stored as `null`.
//! * Times are [`Timestamp`]s (microseconds since the epoch); bytes from outside are
//!   [`ByteString`]s.

use serde::{Deserialize, Serialize};

use crate::model::mounts::Mount;
use crate::model::text::ByteString;
use crate::model::time::Timestamp;

/// Kernel process or thread id (`pid_t`).
pub type Pid = i32;

/// A name from a fixed vocabulary (record types, syscalls, architectures): the recorder's
/// names are borrowed from its static tables, so an event costs no allocation for them; names
/// read back from a document are owned.
pub type Name = std::borrow::Cow<'static, str>;

/// One recorded event: the common header, then the fields of its `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Host name of the machine the event happened on.
    pub host: String,
    /// Kernel boot id (`/proc/sys/kernel/random/boot_id`) of that machine at that time.
    pub boot_id: String,
    /// Id of the recorder run that wrote the event (one run of `godo`, or one import).
    pub run: String,
    /// Position of the event in its run: strictly increasing, starting at 0. `(run, seq)` is unique.
    pub seq: u64,
    /// When it happened. Audit events use the record's own timestamp.
    pub time: Timestamp,
    /// Which part of the kernel (or which API) reported it.
    pub source: Source,
    /// For audit-sourced events: the kernel's serial number and record types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditOrigin>,
    /// What happened; its name is stored as the `kind` field beside its own fields.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The origin of an event.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The kernel audit subsystem (netlink socket, or an `audit.log` imported offline).
    Audit,
    /// The netlink process connector (cn_proc): fork, exec, exit.
    Connector,
    /// The start-up walk of `/proc` (processes that existed before `godo` started).
    Procfs,
    /// The Docker Engine API (container names and images).
    Docker,
    /// The recorder itself (for example a gap when its own backlog overflowed).
    Recorder,
}

/// Where an audit-sourced event came from in the kernel's own words.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditOrigin {
    /// The audit serial number shared by all records of the kernel event.
    pub serial: u64,
    /// The record types that made up the event, in arrival order (e.g. `SYSCALL`, `CWD`, `PATH`).
    pub records: Vec<Name>,
    /// The SYSCALL record's context, when the event had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syscall: Option<SyscallInfo>,
}

/// The context of the syscall behind an audit event (from its SYSCALL record).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyscallInfo {
    /// Syscall name, resolved from its number for the record's architecture (`openat`).
    pub name: Name,
    /// Syscall number as the kernel gave it.
    pub nr: u32,
    /// Architecture (`x86_64`, `i386`, or the raw `arch=` value when unknown).
    pub arch: Name,
    /// Whether the syscall succeeded (`success=yes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    /// The syscall's return value (`exit=`): an fd, a pid, or a negative errno.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<i64>,
    /// Parent process id at the time of the syscall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppid: Option<Pid>,
    /// Real user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Audit (login) user id; `4294967295` means unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auid: Option<u32>,
    /// Audit session id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ses: Option<u32>,
    /// The task's `comm` (at most 15 bytes, chosen by the process).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comm: Option<ByteString>,
    /// The executable's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<ByteString>,
}

/// What happened, with the fields that belong to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// A task created another (fork, vfork or clone; a thread too).
    Fork(Fork),
    /// A process replaced its program (execve, execveat).
    Exec(Exec),
    /// A task ended.
    Exit(Exit),
    /// A process that existed when `godo` started, read from `/proc`.
    Snapshot(Snapshot),
    /// A file was opened (or created) for writing.
    Open(Open),
    /// A task wrote through an fd; several writes to one fd are coalesced into one event.
    Write(Write),
    /// An fd was closed.
    Close(Close),
    /// An fd was duplicated (dup, dup2, dup3, fcntl F_DUPFD).
    Dup(Dup),
    /// A range of fds was closed or marked close-on-exec (close_range).
    CloseRange(CloseRange),
    /// A task changed its name.
    Comm(Comm),
    /// A file was renamed (rename, renameat, renameat2).
    Rename(Rename),
    /// A file or directory was removed (unlink, unlinkat, rmdir).
    Unlink(Unlink),
    /// A file was truncated (truncate, ftruncate).
    Truncate(Truncate),
    /// A file's mode changed (chmod, fchmod, fchmodat).
    Chmod(Chmod),
    /// A file's owner changed (chown, fchown, lchown, fchownat).
    Chown(Chown),
    /// A process changed its root filesystem (pivot_root: how a container enters its rootfs).
    PivotRoot(PivotRoot),
    /// Metadata of a container, from the Docker Engine API.
    Container(Container),
    /// Events were lost: when, how many, why.
    Gap(Gap),
}

impl EventKind {
    /// The `kind` name as stored (`fork`, `exec`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Fork(_) => "fork",
            EventKind::Exec(_) => "exec",
            EventKind::Exit(_) => "exit",
            EventKind::Snapshot(_) => "snapshot",
            EventKind::Open(_) => "open",
            EventKind::Write(_) => "write",
            EventKind::Close(_) => "close",
            EventKind::Dup(_) => "dup",
            EventKind::CloseRange(_) => "close_range",
            EventKind::Comm(_) => "comm",
            EventKind::Rename(_) => "rename",
            EventKind::Unlink(_) => "unlink",
            EventKind::Truncate(_) => "truncate",
            EventKind::Chmod(_) => "chmod",
            EventKind::Chown(_) => "chown",
            EventKind::PivotRoot(_) => "pivot_root",
            EventKind::Container(_) => "container",
            EventKind::Gap(_) => "gap",
        }
    }
}

/// What `godo` knows of a process from `/proc` or from an exec: shared by exec, snapshot and fork.
///
/// Short-lived processes are often gone before `/proc` is read; then the fields that could not be
/// read are absent and named in `missing`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessInfo {
    /// The task's `comm` name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comm: Option<ByteString>,
    /// Path of the executable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<ByteString>,
    /// Command-line arguments, `argv[0]` first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<ByteString>,
    /// Where `args` came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args_from: Option<ArgsSource>,
    /// The argument count the kernel reported (`argc=`); can exceed `args.len()` when arguments
    /// were cut (PROCTITLE keeps 128 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argc: Option<u32>,
    /// Working directory, as the process sees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<ByteString>,
    /// Root directory of the process, as the host sees it (a container's rootfs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<ByteString>,
    /// Docker container id (64 hex digits), when the process is in a container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// How `container_id` was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id_from: Option<ContainerIdSource>,
    /// The task's pid in each nested pid namespace it is in, outermost first (the last one is
    /// the pid it has inside its container), from `/proc/PID/status`; empty when it is in the
    /// host's namespace only, or when that could not be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ns_pids: Vec<Pid>,
    /// When the process started (from `/proc/PID/stat`, converted to wall-clock time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    /// Real user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// A Docker daemon process (`dockerd`): the "star" the process tree is rooted at.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub star: bool,
    /// The process's part in Docker, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<DockerRole>,
    /// The fields that could not be read (`args`, `cwd`, `root`, `exe`, `cgroup`, ...), usually
    /// because the process had already exited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

/// Where a process's arguments were read from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArgsSource {
    /// The audit EXECVE record: complete.
    Execve,
    /// The audit PROCTITLE record: cut by the kernel at 128 bytes.
    Proctitle,
    /// `/proc/PID/cmdline`.
    Procfs,
}

/// How a process's container id was found.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerIdSource {
    /// `/proc/PID/cgroup` (cgroup v1 `/docker/<id>` or v2 `docker-<id>.scope`).
    Cgroup,
    /// Inherited from the parent process (the child was gone or not yet in its cgroup).
    Parent,
    /// The `-id`/`-workdir` arguments of a containerd-shim or runc command line.
    ShimArgs,
}

/// The part a process plays in Docker.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DockerRole {
    /// The Docker daemon.
    Dockerd,
    /// containerd.
    Containerd,
    /// A containerd shim (one per container or pod).
    ContainerdShim,
    /// runc (creates the container's first process).
    Runc,
}

/// A task created another.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fork {
    /// Task id of the parent (the task that called fork/clone).
    pub parent_pid: Pid,
    /// Process id of the parent.
    pub parent_tgid: Pid,
    /// Task id of the new task.
    pub child_pid: Pid,
    /// Process id of the new task (equal to `parent_tgid` when a thread was created).
    pub child_tgid: Pid,
    /// What `/proc` said of the new task right after the fork.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child: Option<ProcessInfo>,
    /// How the recorder chose the new process's descriptor table (left out for threads, which
    /// share their process's, and by recorders older than this field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fd_from: Option<FdFrom>,
    /// The audit serial of the parent's clone-family call that made the child, when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone_serial: Option<u64>,
}

/// How a forked child's descriptor table was chosen.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FdFrom {
    /// The parent's table at its audited clone, fork or vfork call (`clone_serial`), among the
    /// parent's other syscalls: exact.
    CloneCall,
    /// No audited call was found for the fork (lost, or the parent is not audited: a kernel
    /// thread, the recorder itself): the parent's table when the fork was reported.
    ForkReport,
}

/// A process ran a new program.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Exec {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// Parent process id, when the source knows it (audit's `ppid=`; the connector does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppid: Option<Pid>,
    /// The process after the exec.
    #[serde(flatten)]
    pub process: ProcessInfo,
}

/// A task ended.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Exit {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// Exit status (`exit(N)`), when the task exited normally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The signal that killed the task, when it was killed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
}

/// A process that already existed when `godo` started.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// Parent process id (the live ppid).
    pub ppid: Pid,
    /// Threads of the process other than its leader.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threads: Vec<Pid>,
    /// What `/proc` said of it.
    #[serde(flatten)]
    pub process: ProcessInfo,
    /// Its open file descriptors, so writes through them can be attributed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fds: Vec<OpenFd>,
}

/// An open file descriptor found in `/proc/PID/fd`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenFd {
    /// The descriptor number.
    pub fd: i32,
    /// What it points to (`/proc/PID/fd/N` link target: a path, `pipe:[..]`, `socket:[..]`).
    pub target: ByteString,
    /// Open flags from `/proc/PID/fdinfo/N`, when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<u32>,
}

/// A file was opened for writing (or created).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Open {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// The path as the process passed it (may be relative).
    pub path: ByteString,
    /// The process's working directory at the time (to resolve a relative `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<ByteString>,
    /// `path` resolved against `cwd`, as the process sees it (inside its root), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<ByteString>,
    /// The `open(2)` flags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<u32>,
    /// The descriptor returned; absent when the open failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fd: Option<i32>,
    /// True when the open created the file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub created: bool,
}

/// Writes through one fd, coalesced: `count` writes between `first` and `last`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Write {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// The descriptor written to.
    pub fd: i32,
    /// The file behind the fd, when the recorder knew it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<ByteString>,
    /// How many write calls this event stands for (at least 1).
    pub count: u64,
    /// Time of the first of them.
    pub first: Timestamp,
    /// Time of the last of them.
    pub last: Timestamp,
    /// Bytes written in all, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

/// An fd was closed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Close {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// The descriptor closed.
    pub fd: i32,
    /// The file behind the fd, when the recorder knew it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<ByteString>,
}

/// An fd was duplicated.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Dup {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// The descriptor duplicated.
    pub old_fd: i32,
    /// The new descriptor (now the same open file as `old_fd`).
    pub new_fd: i32,
    /// The file behind `old_fd`, when the recorder knew it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<ByteString>,
    /// The new descriptor is close-on-exec (`dup3(O_CLOEXEC)`, `F_DUPFD_CLOEXEC`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cloexec: bool,
}

/// A range of descriptors was closed, or marked close-on-exec (`close_range`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CloseRange {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// First descriptor of the range.
    pub first: i32,
    /// Last descriptor of the range (inclusive; `2147483647` for "all above `first`").
    pub last: i32,
    /// `CLOSE_RANGE_CLOEXEC`: the descriptors stay open and are closed by the next exec.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cloexec: bool,
}

/// A task changed its name (`comm`): `prctl(PR_SET_NAME)`, a write to `/proc/PID/comm`, or a
/// program that names itself (busybox applets run without exec).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Comm {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// The new name (at most 15 bytes).
    pub comm: ByteString,
}

/// A file was renamed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Rename {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// The old name, as the process passed it.
    pub from: ByteString,
    /// The new name, as the process passed it.
    pub to: ByteString,
    /// The working directory, to resolve relative names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<ByteString>,
}

/// A file or directory was removed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Unlink {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// The name removed, as the process passed it.
    pub path: ByteString,
    /// The working directory, to resolve a relative name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<ByteString>,
    /// True for a directory (rmdir, or unlinkat with AT_REMOVEDIR).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dir: bool,
}

/// A file was truncated, by name or through an fd.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Truncate {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// The file, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<ByteString>,
    /// The descriptor, for ftruncate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fd: Option<i32>,
    /// The new length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<i64>,
}

/// A file's mode changed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Chmod {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// The file, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<ByteString>,
    /// The descriptor, for fchmod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fd: Option<i32>,
    /// The new mode bits.
    pub mode: u32,
}

/// A file's owner changed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Chown {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// The file, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<ByteString>,
    /// The descriptor, for fchown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fd: Option<i32>,
    /// The new owner, when changed (`-1` means unchanged and is stored as absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// The new group, when changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
}

/// A process changed its root filesystem.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PivotRoot {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// The new root, as the host sees it when known (resolved against the cwd, or the mount
    /// point of the filesystem it is on when the recorder could see it: runtimes call
    /// `pivot_root(".", ".")`, which audit names relative to the new root), else as passed.
    pub new_root: ByteString,
    /// Where the old root was put, as passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub put_old: Option<ByteString>,
    /// The working directory at the time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<ByteString>,
    /// The device (`major:minor`, in hex as audit writes it) of the filesystem the new root is
    /// on, from audit's PATH record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_root_dev: Option<String>,
}

/// Metadata of a container from the Docker Engine API.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Container {
    /// Full container id (64 hex digits).
    pub id: String,
    /// Container name, without Docker's leading `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Image name as the container was started with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Image id (`sha256:...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// When Docker created the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// Host pid of the container's first process, when running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<Pid>,
    /// The container's root filesystem as the host sees it (the storage driver's merged
    /// directory), when Docker says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootfs: Option<ByteString>,
    /// The storage driver's upper directory (overlay's `UpperDir`): where the bytes the
    /// container changed in its root filesystem really are, when Docker says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper_dir: Option<ByteString>,
    /// The container's mounts: its binds, volumes and tmpfs mounts, and the files Docker binds
    /// into it itself (`/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname`). Empty when Docker
    /// did not say (and in events recorded before mounts were).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<Mount>,
}

/// Events were lost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// Why, or where, they were lost.
    pub reason: GapReason,
    /// How many were lost, when that is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost: Option<u64>,
    /// Start of the time range in which they were lost.
    pub from: Timestamp,
    /// End of that range.
    pub to: Timestamp,
    /// Details for the analyst (the serial numbers or sequence numbers around the gap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Why events were lost.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapReason {
    /// The kernel's audit `lost` counter rose.
    AuditLost,
    /// Audit serial numbers jumped.
    AuditSerialJump,
    /// The process connector's per-CPU sequence numbers jumped.
    ConnectorSeqJump,
    /// A netlink socket overflowed (ENOBUFS).
    SocketOverflow,
    /// The recorder's own backlog was full.
    BacklogFull,
    /// Input records could not be parsed (offline import).
    ParseError,
    /// The rest of an imported log could not be read (a truncated or corrupt file): what it
    /// held after this point is missing.
    InputUnreadable,
    /// Part of a capture file could not be read when it was investigated (a bad or overlong
    /// line, a corrupt zstd frame, a cut): the events it held are missing. Made by the reader,
    /// never stored.
    CaptureDamaged,
    /// A run's seq numbers jump in a capture file: events are missing from it without a trace
    /// of damage (a zstd frame or lines cut out). Made by the reader, never stored.
    CaptureSeqJump,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: EventKind) -> Event {
        Event {
            host: "h".into(),
            boot_id: "b".into(),
            run: "r".into(),
            seq: 7,
            time: Timestamp(1),
            source: Source::Audit,
            audit: None,
            kind,
        }
    }

    #[test]
    fn kind_is_a_flat_field_beside_the_header() {
        let ev = header(EventKind::Exit(Exit {
            pid: 5,
            tgid: 5,
            exit_code: Some(1),
            signal: None,
        }));
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["kind"], "exit");
        assert_eq!(v["pid"], 5);
        assert_eq!(v["exit_code"], 1);
        assert!(v.get("signal").is_none(), "unknown fields are left out");
        assert_eq!(ev.kind.name(), "exit");
    }
}
