//! Tests of `convert`.

use super::*;
use crate::recording::audit::record::parse_log_line;

fn recs(lines: &[&str]) -> Vec<Record> {
    lines
        .iter()
        .map(|l| parse_log_line(l.as_bytes()).unwrap())
        .collect()
}

#[test]
fn resolves_lexically() {
    let r = |c: Option<&str>, p: &str, rel| {
        resolve(c.map(str::as_bytes), p.as_bytes(), rel).map(|b| b.to_str_lossy().into_owned())
    };
    assert_eq!(r(Some("/tmp"), "a b", true).as_deref(), Some("/tmp/a b"));
    assert_eq!(
        r(Some("/tmp/x"), "../y/./z", true).as_deref(),
        Some("/tmp/y/z")
    );
    assert_eq!(
        r(None, "/etc//passwd", true).as_deref(),
        Some("/etc/passwd")
    );
    assert_eq!(r(Some("/"), "..", true).as_deref(), Some("/"));
    assert_eq!(r(None, "rel", true), None);
    assert_eq!(r(Some("/tmp"), "rel", false), None);
}

// Hand-written: the kernel here produced no execve with an argument split over chunks
// (that needs an argument longer than the record budget); the format is the kernel's
// audit_log_single_execve_arg.
#[test]
fn execve_chunks_and_empty_arguments_keep_argc_honest() {
    let r = recs(&[
        "type=SYSCALL msg=audit(1.000:5): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=1 ppid=1 pid=9 uid=0 comm=\"x\" exe=\"/bin/x\"",
        "type=EXECVE msg=audit(1.000:5): argc=5 a0=\"x\" a1=\"\" a2_len=6 a2[0]=616263 a2[1]=\"def\"",
        "type=EXECVE msg=audit(1.000:5): a3=20 a4=\"last\"",
        "type=PROCTITLE msg=audit(1.000:5): proctitle=78",
    ]);
    let c = convert(&r);
    let Some(EventKind::Exec(e)) = c.kind else {
        panic!("{:?}", c.kind)
    };
    let args: Vec<_> = e
        .process
        .args
        .iter()
        .map(|a| a.as_bytes().to_vec())
        .collect();
    assert_eq!(
        args,
        vec![
            b"x".to_vec(),
            b"".to_vec(),
            b"abcdef".to_vec(),
            b" ".to_vec(),
            b"last".to_vec()
        ]
    );
    assert_eq!(e.process.argc, Some(5));
    assert_eq!(e.process.args_from, Some(ArgsSource::Execve));
    assert_eq!(
        c.origin.records,
        ["SYSCALL", "EXECVE", "EXECVE", "PROCTITLE"]
    );

    // Missing arguments stop the list; argc stays what the kernel said.
    let r = recs(&[
        "type=SYSCALL msg=audit(1.000:6): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=9",
        "type=EXECVE msg=audit(1.000:6): argc=4 a0=\"x\" a1=\"y\" a3=\"w\"",
    ]);
    let Some(EventKind::Exec(e)) = convert(&r).kind else {
        panic!()
    };
    assert_eq!(e.process.args.len(), 2);
    assert_eq!(e.process.argc, Some(4));
}

#[test]
fn exit_group_ends_the_process_though_it_has_no_success_field() {
    // Hand-written: the rules of this project's fixtures do not audit exit_group. The
    // kernel's audit_log_exit leaves out success= and exit= for a call that never returned.
    let r = recs(&[
        "type=SYSCALL msg=audit(1.000:9): arch=c000003e syscall=231 a0=103 a1=3c a2=0 a3=0 items=0 ppid=1 pid=9 comm=\"sh\" exe=\"/bin/sh\"",
        "type=PROCTITLE msg=audit(1.000:9): proctitle=7368",
    ]);
    let c = convert(&r);
    assert_eq!(
        c.kind,
        Some(EventKind::Exit(Exit {
            pid: 9,
            tgid: 9,
            exit_code: Some(3),
            signal: None
        }))
    );
    // Plain exit (one thread) is not an event.
    let r = recs(&[
        "type=SYSCALL msg=audit(1.000:10): arch=c000003e syscall=60 a0=0 items=0 ppid=1 pid=9",
    ]);
    assert_eq!(convert(&r).kind, None);
}

#[test]
fn proctitle_is_the_fallback_for_args() {
    let r = recs(&[
        "type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=9",
        "type=PROCTITLE msg=audit(1.000:7): proctitle=2F62696E2F7368002D6300",
    ]);
    let Some(EventKind::Exec(e)) = convert(&r).kind else {
        panic!()
    };
    assert_eq!(e.process.args_from, Some(ArgsSource::Proctitle));
    assert_eq!(e.process.args[0].as_bytes(), b"/bin/sh");
    assert_eq!(e.process.args[1].as_bytes(), b"-c");
    assert_eq!(e.process.argc, None);
}

// Hand-written: the real fixtures have i386's chown32, not the old 16-bit chown (nr 182).
#[test]
fn i386_calls_use_the_32_bit_table() {
    let r = recs(&[
        "type=SYSCALL msg=audit(1.000:8): arch=40000003 syscall=182 success=yes exit=0 a0=8000 a1=ffff a2=7 a3=0 items=1 ppid=1 pid=9",
        "type=PATH msg=audit(1.000:8): item=0 name=\"/f\" nametype=NORMAL",
    ]);
    let c = convert(&r);
    assert_eq!(c.origin.syscall.as_ref().unwrap().name, "chown");
    assert_eq!(c.origin.syscall.as_ref().unwrap().arch, "i386");
    let Some(EventKind::Chown(ch)) = c.kind else {
        panic!()
    };
    assert_eq!((ch.uid, ch.gid), (None, Some(7)));
}

#[test]
fn other_architectures_keep_auditds_name_or_the_number() {
    let r = recs(&[
        "type=SYSCALL msg=audit(1.000:9): arch=c00000b7 syscall=221 success=yes exit=0 ppid=1 pid=9\x1dARCH=aarch64 SYSCALL=execve",
    ]);
    let c = convert(&r);
    let sc = c.origin.syscall.unwrap();
    assert_eq!((&*sc.name, &*sc.arch), ("execve", "c00000b7"));
    assert!(c.kind.is_none(), "only x86_64 and i386 calls are mapped");
    let r = recs(&[
        "type=SYSCALL msg=audit(1.000:9): arch=c00000b7 syscall=221 success=yes exit=0 ppid=1 pid=9",
    ]);
    assert_eq!(convert(&r).origin.syscall.unwrap().name, "221");
}

// Hand-written: the runc and busybox of these machines close descriptors one by one; the
// format is the kernel's SYSCALL record for close_range(3, ~0U, CLOSE_RANGE_CLOEXEC).
#[test]
fn close_range_and_close_on_exec_dups_keep_their_flags() {
    let r = recs(&[
        "type=SYSCALL msg=audit(1.000:11): arch=c000003e syscall=436 success=yes exit=0 a0=3 a1=ffffffff a2=4 a3=0 items=0 ppid=1 pid=9",
    ]);
    assert_eq!(
        convert(&r).kind,
        Some(EventKind::CloseRange(CloseRange {
            pid: 9,
            tgid: 9,
            first: 3,
            last: i32::MAX,
            cloexec: true,
        }))
    );
    let r = recs(&[
        "type=SYSCALL msg=audit(1.000:12): arch=c000003e syscall=292 success=yes exit=5 a0=3 a1=5 a2=80000 a3=0 items=0 ppid=1 pid=9",
    ]);
    let Some(EventKind::Dup(d)) = convert(&r).kind else {
        panic!("a dup")
    };
    assert_eq!((d.old_fd, d.new_fd, d.cloexec), (3, 5, true));
    let r = recs(&[
        "type=SYSCALL msg=audit(1.000:13): arch=c000003e syscall=72 success=yes exit=10 a0=1 a1=406 a2=a a3=0 items=0 ppid=1 pid=9",
    ]);
    let Some(EventKind::Dup(d)) = convert(&r).kind else {
        panic!("an fcntl dup")
    };
    assert_eq!((d.old_fd, d.new_fd, d.cloexec), (1, 10, true));
}

#[test]
fn read_only_opens_and_failed_writes_are_not_events() {
    let r = recs(&[
        "type=SYSCALL msg=audit(1.000:9): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=1 a2=80000 a3=0 items=1 ppid=1 pid=9",
        "type=PATH msg=audit(1.000:9): item=0 name=\"/etc/hosts\" nametype=NORMAL",
    ]);
    assert!(convert(&r).kind.is_none());
    let r = recs(&[
        "type=SYSCALL msg=audit(1.000:9): arch=c000003e syscall=1 success=no exit=-9 a0=5 a1=1 a2=3 a3=0 items=0 ppid=1 pid=9",
    ]);
    assert!(convert(&r).kind.is_none());
}

// The shape of a busybox `chmod 600 keep.txt` run by a shell after `cd /data` (recorded here):
// the path is relative, and the event's CWD record says against what.
#[test]
fn a_relative_chmod_is_resolved_with_its_own_cwd_record() {
    let chmod = |syscall: u32, a0: &str, cwd: &str| {
        let r = recs(&[
            &format!(
                "type=SYSCALL msg=audit(1.000:6): arch=c000003e syscall={syscall} success=yes exit=0 a0={a0} a1=180 a2=180 a3=0 items=1 ppid=8 pid=9 uid=0 comm=\"chmod\" exe=\"/bin/busybox\""
            ),
            &format!("type=CWD msg=audit(1.000:6): cwd=\"{cwd}\""),
            "type=PATH msg=audit(1.000:6): item=0 name=\"keep.txt\" inode=5 dev=00:2d mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0",
            "type=PROCTITLE msg=audit(1.000:6): proctitle=63686D6F64",
        ]);
        match convert(&r).kind {
            Some(EventKind::Chmod(c)) => c.path.map(|p| p.to_str_lossy().into_owned()),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        chmod(90, "7ffd", "/data").as_deref(),
        Some("/data/keep.txt")
    );
    // fchmodat(AT_FDCWD, ...) is relative to the cwd; to another directory fd, it stays as is.
    assert_eq!(
        chmod(268, "ffffffffffffff9c", "/data").as_deref(),
        Some("/data/keep.txt")
    );
    assert_eq!(chmod(268, "3", "/data").as_deref(), Some("keep.txt"));
}
