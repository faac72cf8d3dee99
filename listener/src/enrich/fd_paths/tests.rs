//! Tests of `fd_paths`.

use super::*;
use dockwatch_shared::Timestamp;
use dockwatch_shared::model::event::{Close, Dup, Exec, Exit, Fork, Open, OpenFd, Snapshot};

fn ev(t: i64, kind: EventKind) -> Event {
    Event {
        host: "h".into(),
        boot_id: "b".into(),
        run: String::new(),
        seq: 0,
        time: Timestamp(t),
        source: Source::Audit,
        audit: None,
        kind,
    }
}
fn open(t: i64, tgid: Pid, path: &str, fd: i32, flags: u32) -> Event {
    ev(
        t,
        EventKind::Open(Open {
            pid: tgid,
            tgid,
            path: path.into(),
            flags: Some(flags),
            fd: Some(fd),
            ..Default::default()
        }),
    )
}
fn write(t: i64, pid: Pid, tgid: Pid, fd: i32) -> Event {
    ev(
        t,
        EventKind::Write(Write {
            pid,
            tgid,
            fd,
            path: None,
            count: 1,
            first: Timestamp(t),
            last: Timestamp(t),
            bytes: Some(2),
        }),
    )
}
fn dup(t: i64, tgid: Pid, old_fd: i32, new_fd: i32) -> Event {
    ev(
        t,
        EventKind::Dup(Dup {
            pid: tgid,
            tgid,
            old_fd,
            new_fd,
            path: None,
            cloexec: false,
        }),
    )
}
fn close(t: i64, tgid: Pid, fd: i32) -> Event {
    ev(
        t,
        EventKind::Close(Close {
            pid: tgid,
            tgid,
            fd,
            path: None,
        }),
    )
}
fn exit(t: i64, pid: Pid, tgid: Pid) -> Event {
    ev(
        t,
        EventKind::Exit(Exit {
            pid,
            tgid,
            exit_code: Some(0),
            signal: None,
        }),
    )
}
fn fork(t: i64, parent: Pid, child_pid: Pid, child_tgid: Pid) -> Event {
    ev(
        t,
        EventKind::Fork(Fork {
            parent_pid: parent,
            parent_tgid: parent,
            child_pid,
            child_tgid,
            child: None,
            fd_from: None,
            clone_serial: None,
        }),
    )
}
fn feed(ft: &mut FdPaths, evs: Vec<Event>) -> Vec<Event> {
    let mut out = Vec::new();
    for e in evs {
        ft.process(e, &mut out);
    }
    out
}
fn writes(out: &[Event]) -> Vec<&Write> {
    out.iter()
        .filter_map(|e| match &e.kind {
            EventKind::Write(w) => Some(w),
            _ => None,
        })
        .collect()
}

#[test]
fn shell_redirection_is_attributed_to_the_file() {
    // sh -c 'echo x > /tmp/f': open as 3, dup2(3, 1), close(3), write(1), exit.
    let mut ft = FdPaths::replay(1 << 16);
    let out = feed(
        &mut ft,
        vec![
            open(1, 50, "/tmp/f", 3, 0o1101),
            dup(2, 50, 3, 1),
            close(3, 50, 3),
            write(4, 50, 50, 1),
            exit(5, 50, 50),
        ],
    );
    let kinds: Vec<&str> = out.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds, ["open", "dup", "close", "write", "exit"]);
    let w = writes(&out);
    assert_eq!(
        w[0].path.as_ref().map(|p| p.as_bytes()),
        Some(&b"/tmp/f"[..])
    );
    assert_eq!(w[0].fd, 1);
    match &out[2].kind {
        EventKind::Close(c) => assert_eq!(c.path, Some("/tmp/f".into())),
        k => panic!("{k:?}"),
    }
    match &out[1].kind {
        EventKind::Dup(d) => assert_eq!(d.path, Some("/tmp/f".into())),
        k => panic!("{k:?}"),
    }
    assert_eq!(
        ft.processes(),
        1,
        "kept for the exited process's late audit records"
    );
    ft.flush(&mut Vec::new());
    assert_eq!(ft.processes(), 1, "kept until the second flush");
    ft.flush(&mut Vec::new());
    assert_eq!(ft.processes(), 1, "and until audit has gone past the exit");
    feed(&mut ft, vec![write(2_000_000, 51, 51, 1)]);
    ft.flush(&mut Vec::new());
    assert_eq!(ft.processes(), 0, "the exited process's table is dropped");
}

/// Live, the connector's exit of a background child can arrive before the audit records of
/// its last syscalls: its redirected write still gets the file's path.
#[test]
fn audit_records_arriving_after_the_exit_still_find_the_table() {
    let mut ft = FdPaths::replay(1 << 16);
    let out = feed(
        &mut ft,
        vec![
            open(1, 60, "/tmp/late", 3, 0o1101),
            exit(5, 60, 60),
            dup(2, 60, 3, 1),
            close(3, 60, 3),
            write(4, 60, 60, 1),
        ],
    );
    let mut out = out;
    ft.flush(&mut out);
    let w = writes(&out);
    assert_eq!(w.len(), 1);
    assert_eq!(
        w[0].path.as_ref().map(|p| p.as_bytes()),
        Some(&b"/tmp/late"[..])
    );
    // A new process reusing the tgid before the drop keeps its own table.
    feed(
        &mut ft,
        vec![
            exit(6, 60, 60),
            fork(7, 1, 60, 60),
            open(8, 60, "/tmp/new", 4, 0o1101),
        ],
    );
    ft.flush(&mut Vec::new());
    ft.flush(&mut Vec::new());
    ft.flush(&mut Vec::new());
    assert_eq!(ft.path_of(60, 4), Some(&b"/tmp/new"[..]));
}

fn from_child_of(mut ev: Event, ppid: Pid) -> Event {
    ev.audit = Some(dockwatch_shared::model::event::AuditOrigin {
        syscall: Some(dockwatch_shared::model::event::SyscallInfo {
            ppid: Some(ppid),
            ..Default::default()
        }),
        ..Default::default()
    });
    ev
}

fn connector(mut ev: Event) -> Event {
    ev.source = Source::Connector;
    ev
}

/// Live: `echo x | tr a b > /tmp/piped` with a helper that keeps a log open across the fork.
/// The child's own records (its redirection) come first, then the connector's report of its
/// fork, then the parent's clone call with the child's pid: the child's writes get their
/// paths, through its own fd 1 and through fd 2 inherited from the parent, and the fork
/// says it was placed at that call.
#[test]
fn live_a_childs_records_before_its_fork_report_and_clone_call_keep_their_paths() {
    let mut ft = FdPaths::live();
    let snap = ev(
        0,
        EventKind::Snapshot(Snapshot {
            pid: 50,
            tgid: 50,
            ppid: 1,
            ..Default::default()
        }),
    );
    let mut out = feed(
        &mut ft,
        vec![
            snap,
            open(1, 50, "/dev/null", 1, 1),
            open(2, 50, "/var/log/err", 2, 1),
            from_child_of(open(3, 60, "/tmp/piped", 3, 0o1101), 50),
            from_child_of(dup(4, 60, 3, 1), 50),
            from_child_of(close(5, 60, 3), 50),
            connector(fork(6, 50, 60, 60)),
            from_child_of(write(7, 60, 60, 1), 50),
            from_child_of(write(8, 60, 60, 2), 50),
        ],
    );
    assert!(writes(&out).is_empty());
    assert_eq!(ft.held(), 5, "the child's steps wait for its clone call");
    ft.clone_call(
        Timestamp(2),
        CloneCall {
            caller: 50,
            ret: 60,
            serial: 99,
            kind: dockwatch_shared::model::fds::CloneKind::Process,
        },
        &mut out,
    );
    ft.flush(&mut out);
    let paths: Vec<Option<&[u8]>> = writes(&out)
        .iter()
        .map(|w| w.path.as_ref().map(|p| p.as_bytes()))
        .collect();
    assert_eq!(
        paths,
        [Some(&b"/tmp/piped"[..]), Some(&b"/var/log/err"[..])]
    );
    let fork = out.iter().find_map(|e| match &e.kind {
        EventKind::Fork(f) => Some(f),
        _ => None,
    });
    assert_eq!(
        fork.map(|f| (f.fd_from, f.clone_serial)),
        Some((Some(FdFrom::CloneCall), Some(99)))
    );
    assert_eq!(ft.path_of(50, 1), Some(&b"/dev/null"[..]));
}

#[test]
fn writes_are_coalesced_per_fd_with_exact_counts() {
    let mut ft = FdPaths::replay(1 << 16);
    let mut evs = vec![open(1, 7, "/data/log", 4, 1)];
    for i in 0..1000 {
        // Two threads of one process write through the shared table.
        evs.push(write(10 + i, if i % 2 == 0 { 7 } else { 8 }, 7, 4));
    }
    evs.push(open(2000, 7, "/other", 5, 1));
    evs.push(write(2001, 7, 7, 5));
    let out = feed(&mut ft, evs);
    assert!(writes(&out).is_empty(), "held back until a flush");
    assert_eq!(ft.pending_writes(), 2);
    let mut out2 = Vec::new();
    ft.flush(&mut out2);
    let w = writes(&out2);
    assert_eq!(w.len(), 2);
    assert_eq!(
        (w[0].count, w[0].first, w[0].last, w[0].bytes),
        (1000, Timestamp(10), Timestamp(1009), Some(2000))
    );
    assert_eq!(w[0].path, Some("/data/log".into()));
    assert_eq!(w[1].path, Some("/other".into()));
    assert_eq!(
        out2[0].time,
        Timestamp(10),
        "the event keeps its first write's time"
    );
    // After a flush, new writes start a new run.
    let out3 = feed(&mut ft, vec![write(3000, 7, 7, 4), close(3001, 7, 4)]);
    let w = writes(&out3);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].count, 1);
    assert_eq!(
        out3[1].kind.name(),
        "close",
        "the write is recorded before the close"
    );
}

#[test]
fn fork_inherits_threads_share_exec_drops_cloexec() {
    let mut ft = FdPaths::replay(1 << 16);
    let out = feed(
        &mut ft,
        vec![
            open(1, 10, "/a", 3, 1),
            open(2, 10, "/secret", 4, 1 | O_CLOEXEC),
            fork(3, 10, 11, 11), // new process: copy
            fork(4, 10, 12, 10), // thread: same table
            // A thread of 10 made after 10's parent died: the kernel names init as parent.
            ev(
                4,
                EventKind::Fork(Fork {
                    parent_pid: 1,
                    parent_tgid: 1,
                    child_pid: 13,
                    child_tgid: 10,
                    child: None,
                    fd_from: None,
                    clone_serial: None,
                }),
            ),
            ev(
                5,
                EventKind::Exec(Exec {
                    pid: 11,
                    tgid: 11,
                    ..Default::default()
                }),
            ),
            write(6, 11, 11, 3),
            write(7, 11, 11, 4),
            write(8, 12, 10, 4),
            exit(9, 11, 11),
        ],
    );
    let w = writes(&out);
    assert_eq!(w.len(), 2, "{out:#?}");
    assert_eq!((w[0].fd, w[0].path.clone()), (3, Some("/a".into())));
    assert_eq!(
        (w[1].fd, w[1].path.clone()),
        (4, None),
        "close-on-exec fd dropped by exec"
    );
    let mut rest = Vec::new();
    ft.flush(&mut rest);
    let w = writes(&rest);
    assert_eq!(
        (w[0].pid, w[0].tgid, w[0].path.clone()),
        (12, 10, Some("/secret".into()))
    );
}

#[test]
fn a_bounded_table_drops_the_least_recently_used_processes_and_counts() {
    let mut ft = FdPaths::replay(8);
    let mut evs = Vec::new();
    for pid in 1..=8 {
        evs.push(open(pid as i64, pid, "/f", 3, 1));
    }
    // Process 1 is used again, so 2 and 3 are now the least recently used.
    evs.push(write(9, 1, 1, 3));
    evs.push(open(10, 9, "/f", 3, 1)); // the ninth table: keep 7, drop the 2 oldest
    let _ = feed(&mut ft, evs);
    assert_eq!(ft.processes(), 7, "8 - 8/8 kept");
    assert_eq!(ft.dropped(), 2);
    assert_eq!(ft.path_of(1, 3), Some(&b"/f"[..]));
    assert_eq!(ft.path_of(2, 3), None);
    assert_eq!(ft.path_of(3, 3), None);
    assert_eq!(ft.path_of(9, 3), Some(&b"/f"[..]));
    assert_eq!(ft.without_table(), 0);
    let mut out = feed(&mut ft, vec![write(11, 2, 2, 3), close(12, 3, 3)]);
    ft.flush(&mut out);
    assert_eq!(ft.without_table(), 2);
    let w = writes(&out);
    assert!(w.iter().any(|w| w.tgid == 2));
    assert!(w.iter().filter(|w| w.tgid == 2).all(|w| w.path.is_none()));
}

#[test]
fn only_quiet_runs_are_flushed_by_flush_idle() {
    let mut ft = FdPaths::replay(1 << 16);
    let out = feed(
        &mut ft,
        vec![
            open(1, 7, "/a", 3, 1),
            open(2, 8, "/b", 3, 1),
            write(10, 8, 8, 3),
            write(20, 7, 7, 3),
            write(30, 7, 7, 3), // 7's run goes on
        ],
    );
    assert!(writes(&out).is_empty());
    let mut out = Vec::new();
    ft.flush_idle(Timestamp(25), &mut out);
    let w = writes(&out);
    assert_eq!(w.len(), 1, "only 8's run is quiet since 25");
    assert_eq!((w[0].tgid, w[0].count), (8, 1));
    // 7's run keeps coalescing after the sweep.
    let mut out = feed(&mut ft, vec![write(40, 7, 7, 3)]);
    ft.flush_idle(Timestamp(41), &mut out);
    let w = writes(&out);
    assert_eq!(
        (w[0].tgid, w[0].count, w[0].first, w[0].last),
        (7, 3, Timestamp(20), Timestamp(40))
    );
    assert_eq!(ft.pending_writes(), 0);
}

#[test]
fn snapshot_seeds_and_dup_replaces_and_reuse_starts_afresh() {
    let mut ft = FdPaths::replay(1 << 16);
    let snap = ev(
        0,
        EventKind::Snapshot(Snapshot {
            pid: 20,
            tgid: 20,
            ppid: 1,
            fds: vec![OpenFd {
                fd: 2,
                target: "/var/log/daemon.log".into(),
                flags: Some(1),
            }],
            ..Default::default()
        }),
    );
    let out = feed(
        &mut ft,
        vec![
            snap,
            write(1, 20, 20, 2),
            open(2, 20, "/x", 5, 1),
            dup(3, 20, 5, 2), // replaces fd 2: the held write is recorded first
            write(4, 20, 20, 2),
            exit(5, 21, 20), // a thread exit does not drop the table
            close(6, 20, 2),
        ],
    );
    let w = writes(&out);
    assert_eq!(w[0].path, Some("/var/log/daemon.log".into()));
    assert_eq!(w[1].path, Some("/x".into()));
    let kinds: Vec<&str> = out.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        kinds,
        ["snapshot", "open", "write", "dup", "exit", "write", "close"]
    );
    // Same path coalesces; a write whose fd path changed without a close splits.
    let out = feed(
        &mut ft,
        vec![
            open(7, 30, "/p", 3, 1),
            write(8, 30, 30, 3),
            open(9, 30, "/q", 3, 1),
            write(10, 30, 30, 3),
        ],
    );
    let w = writes(&out);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].path, Some("/p".into()));
    // Unknown process: the write still records, without a path.
    let mut out = feed(&mut ft, vec![write(11, 99, 99, 1)]);
    ft.flush(&mut out);
    assert!(
        writes(&out)
            .iter()
            .any(|w| w.tgid == 99 && w.path.is_none())
    );
}
