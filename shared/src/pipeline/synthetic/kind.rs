//! One-line builders of the event kinds the synthetic log and the pipeline's unit tests are made
//! of, with the fields a recorder leaves empty already empty. Each builds only the
//! [`EventKind`]; the caller wraps it in an [`Event`](crate::model::event::Event) with its time and
//! source.

use crate::model::event::{
    Chmod, Close, Container, Dup, EventKind, Exec, Exit, Fork, Open, OpenFd, Pid, PivotRoot,
    ProcessInfo, Rename, Snapshot, Unlink, Write,
};
use crate::model::text::ByteString;
use crate::model::time::Timestamp;

/// `parent` (task and process) forked `child_pid` of process `child_tgid` (a thread when they
/// differ); `child` is what `/proc` said of it.
pub fn fork(
    parent_pid: Pid,
    parent_tgid: Pid,
    child_pid: Pid,
    child_tgid: Pid,
    child: Option<ProcessInfo>,
) -> EventKind {
    EventKind::Fork(Fork {
        parent_pid,
        parent_tgid,
        child_pid,
        child_tgid,
        child,
        fd_from: None,
        clone_serial: None,
    })
}

/// Process `pid` ran the program `process` describes.
pub fn exec(pid: Pid, process: ProcessInfo) -> EventKind {
    EventKind::Exec(Exec {
        pid,
        tgid: pid,
        ppid: None,
        process,
    })
}

/// Task `pid` of process `tgid` ended with `code`.
pub fn exit(pid: Pid, tgid: Pid, code: Option<i32>) -> EventKind {
    EventKind::Exit(Exit {
        pid,
        tgid,
        exit_code: code,
        signal: None,
    })
}

/// A process that existed at start-up, with its open fds.
pub fn snapshot(pid: Pid, ppid: Pid, process: ProcessInfo, fds: Vec<OpenFd>) -> EventKind {
    EventKind::Snapshot(Snapshot {
        pid,
        tgid: pid,
        ppid,
        threads: vec![],
        process,
        fds,
    })
}

/// A successful open for writing that created `path` (relative to `cwd` when given) as `fd`.
pub fn open(pid: Pid, tgid: Pid, path: &str, cwd: Option<&str>, fd: i32) -> EventKind {
    EventKind::Open(Open {
        pid,
        tgid,
        path: path.into(),
        cwd: cwd.map(ByteString::from),
        resolved: None,
        flags: Some(0o1101),
        fd: Some(fd),
        created: true,
    })
}

/// `count` writes through `fd` between `first` and `last`.
pub fn write(
    pid: Pid,
    tgid: Pid,
    fd: i32,
    count: u64,
    (first, last): (Timestamp, Timestamp),
    bytes: Option<u64>,
) -> EventKind {
    EventKind::Write(Write {
        pid,
        tgid,
        fd,
        path: None,
        count,
        first,
        last,
        bytes,
    })
}

/// `fd` closed.
pub fn close(pid: Pid, tgid: Pid, fd: i32) -> EventKind {
    EventKind::Close(Close {
        pid,
        tgid,
        fd,
        path: None,
    })
}

/// `old_fd` duplicated onto `new_fd`.
pub fn dup(pid: Pid, old_fd: i32, new_fd: i32) -> EventKind {
    EventKind::Dup(Dup {
        pid,
        tgid: pid,
        old_fd,
        new_fd,
        path: None,
        cloexec: false,
    })
}

/// `from` renamed to `to` (relative to `cwd` when given).
pub fn rename(pid: Pid, from: &str, to: &str, cwd: Option<&str>) -> EventKind {
    EventKind::Rename(Rename {
        pid,
        tgid: pid,
        from: from.into(),
        to: to.into(),
        cwd: cwd.map(ByteString::from),
    })
}

/// `path` unlinked.
pub fn unlink(pid: Pid, path: &str) -> EventKind {
    EventKind::Unlink(Unlink {
        pid,
        tgid: pid,
        path: path.into(),
        cwd: None,
        dir: false,
    })
}

/// `path` chmod'ed to `mode`.
pub fn chmod(pid: Pid, path: &str, mode: u32) -> EventKind {
    EventKind::Chmod(Chmod {
        pid,
        tgid: pid,
        path: Some(path.into()),
        fd: None,
        mode,
    })
}

/// A pivot_root into `root` (as the host sees it), made from `cwd` when given.
pub fn pivot_root(pid: Pid, root: &str, cwd: Option<&str>) -> EventKind {
    EventKind::PivotRoot(PivotRoot {
        pid,
        tgid: pid,
        new_root: root.into(),
        put_old: cwd.map(|_| ".".into()),
        cwd: cwd.map(ByteString::from),
        new_root_dev: None,
    })
}

/// Docker's metadata of container `id`, whose first process is `pid` when given.
pub fn container(id: &str, name: &str, image: &str, pid: Option<Pid>) -> EventKind {
    EventKind::Container(Container {
        id: id.to_owned(),
        name: Some(name.to_owned()),
        image: Some(image.to_owned()),
        pid,
        ..Container::default()
    })
}
