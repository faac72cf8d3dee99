//! Hand-built events for the pipeline's unit tests: short constructors so a test reads like the
//! scenario it checks. Times are microseconds after a fixed base.

use crate::model::event::{Event, EventKind, Gap, GapReason, OpenFd, Pid, ProcessInfo, Source};
use crate::model::time::Timestamp;
use crate::pipeline::input::{Input, Rec};
use crate::pipeline::synthetic::kind;

pub const HOST: &str = "host-a";
pub const BOOT: &str = "boot-1";
pub const CID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub const CID2: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
pub const BASE: i64 = 1_764_000_000_000_000;

pub fn t(us: i64) -> Timestamp {
    Timestamp(BASE + us)
}

pub fn ev(time: i64, source: Source, kind: EventKind) -> Event {
    Event {
        host: HOST.into(),
        boot_id: BOOT.into(),
        run: "run0".into(),
        seq: 0,
        time: t(time),
        source,
        audit: None,
        kind,
    }
}

pub fn info(args: &[&str]) -> ProcessInfo {
    crate::pipeline::synthetic::info(args, None)
}

pub fn snapshot(time: i64, pid: Pid, ppid: Pid, args: &[&str]) -> Event {
    let mut process = info(args);
    process.start_time = Some(t(time));
    ev(
        time,
        Source::Procfs,
        kind::snapshot(pid, ppid, process, vec![]),
    )
}

pub fn snapshot_fds(mut event: Event, fds: &[(i32, &str)]) -> Event {
    if let EventKind::Snapshot(s) = &mut event.kind {
        s.fds = fds
            .iter()
            .map(|&(fd, target)| OpenFd {
                fd,
                target: target.into(),
                flags: Some(0o1),
            })
            .collect();
    }
    event
}

pub fn fork(time: i64, parent_pid: Pid, parent_tgid: Pid, child: Pid) -> Event {
    let fork = kind::fork(parent_pid, parent_tgid, child, child, None);
    ev(time, Source::Connector, fork)
}

/// A fork as `godo`'s audit assembler infers it (from a clone call of the parent).
pub fn audit_fork(time: i64, parent: Pid, child: Pid) -> Event {
    let mut e = fork(time, parent, parent, child);
    e.source = Source::Audit;
    e
}

/// A thread `tid` of process `tgid`; the kernel reports the process's parent (`reported`).
pub fn thread(time: i64, reported: Pid, tgid: Pid, tid: Pid) -> Event {
    let fork = kind::fork(reported, reported, tid, tgid, None);
    ev(time, Source::Connector, fork)
}

pub fn exec(time: i64, pid: Pid, args: &[&str]) -> Event {
    ev(time, Source::Audit, kind::exec(pid, info(args)))
}

/// Sets the container id (and optionally cwd) of an exec, snapshot or fork child.
pub fn in_container(mut event: Event, cid: &str) -> Event {
    let p = match &mut event.kind {
        EventKind::Exec(e) => &mut e.process,
        EventKind::Snapshot(s) => &mut s.process,
        EventKind::Fork(f) => f.child.get_or_insert_with(ProcessInfo::default),
        other => panic!("no process info in {other:?}"),
    };
    p.container_id = Some(cid.into());
    event
}

pub fn with_cwd(mut event: Event, cwd: &str) -> Event {
    let p = match &mut event.kind {
        EventKind::Exec(e) => &mut e.process,
        EventKind::Snapshot(s) => &mut s.process,
        other => panic!("no process info in {other:?}"),
    };
    p.cwd = Some(cwd.into());
    event
}

/// Sets the live ppid an audit exec reports.
pub fn with_ppid(mut event: Event, ppid: Pid) -> Event {
    if let EventKind::Exec(e) = &mut event.kind {
        e.ppid = Some(ppid);
    }
    event
}

pub fn exit(time: i64, pid: Pid) -> Event {
    ev(time, Source::Connector, kind::exit(pid, pid, Some(0)))
}

pub fn exit_task(time: i64, pid: Pid, tgid: Pid) -> Event {
    ev(time, Source::Connector, kind::exit(pid, tgid, None))
}

pub fn open(time: i64, pid: Pid, tgid: Pid, path: &str, fd: i32) -> Event {
    ev(time, Source::Audit, kind::open(pid, tgid, path, None, fd))
}

pub fn open_rel(time: i64, pid: Pid, tgid: Pid, path: &str, cwd: &str, fd: i32) -> Event {
    let mut e = open(time, pid, tgid, path, fd);
    if let EventKind::Open(o) = &mut e.kind {
        o.cwd = Some(cwd.into());
        o.created = false;
    }
    e
}

pub fn write(time: i64, pid: Pid, tgid: Pid, fd: i32, count: u64) -> Event {
    let span = (t(time), t(time + 10));
    ev(
        time,
        Source::Audit,
        kind::write(pid, tgid, fd, count, span, None),
    )
}

pub fn close(time: i64, pid: Pid, tgid: Pid, fd: i32) -> Event {
    ev(time, Source::Audit, kind::close(pid, tgid, fd))
}

pub fn dup(time: i64, pid: Pid, old_fd: i32, new_fd: i32) -> Event {
    ev(time, Source::Audit, kind::dup(pid, old_fd, new_fd))
}

pub fn rename(time: i64, pid: Pid, from: &str, to: &str) -> Event {
    ev(time, Source::Audit, kind::rename(pid, from, to, None))
}

pub fn unlink(time: i64, pid: Pid, path: &str) -> Event {
    ev(time, Source::Audit, kind::unlink(pid, path))
}

pub fn pivot_root(time: i64, pid: Pid, root: &str) -> Event {
    ev(time, Source::Audit, kind::pivot_root(pid, root, None))
}

pub fn container(time: i64, id: &str, name: &str, image: &str) -> Event {
    ev(time, Source::Docker, kind::container(id, name, image, None))
}

pub fn gap(time: i64, from: i64, to: i64, lost: u64) -> Event {
    ev(
        time,
        Source::Recorder,
        EventKind::Gap(Gap {
            reason: GapReason::BacklogFull,
            lost: Some(lost),
            from: t(from),
            to: t(to),
            detail: None,
        }),
    )
}

/// The compact records of `events`, in order, as the pipeline's later steps see them.
pub fn recs_of(events: Vec<Event>) -> Vec<Rec> {
    let mut input = Input::new(HOST, BOOT);
    for (seq, mut e) in events.into_iter().enumerate() {
        e.seq = seq as u64;
        input.push(e);
    }
    input.into_sorted()
}
