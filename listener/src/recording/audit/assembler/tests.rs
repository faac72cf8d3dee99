//! Tests of `assembler`.

use super::*;
use crate::recording::audit::record::parse_log_line;

fn rec(serial: u64, ms: u64, rest: &str) -> Record {
    let line = format!("type={rest}");
    let line = line.replacen(
        "HDR",
        &format!("msg=audit({}.{:03}:{serial}):", 1000 + ms / 1000, ms % 1000),
        1,
    );
    parse_log_line(line.as_bytes()).unwrap()
}

fn write(serial: u64, ms: u64, pid: i32) -> [Record; 2] {
    [
        rec(
            serial,
            ms,
            &format!(
                "SYSCALL HDR arch=c000003e syscall=1 success=yes exit=1 a0=1 a1=0 a2=1 a3=0 items=0 ppid=1 pid={pid}"
            ),
        ),
        rec(serial, ms, "PROCTITLE HDR proctitle=78"),
    ]
}

fn gaps(out: &[Event]) -> Vec<(GapReason, Option<u64>, String)> {
    out.iter()
        .filter_map(|e| match &e.kind {
            EventKind::Gap(g) => Some((g.reason, g.lost, g.detail.clone().unwrap_or_default())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_late_serial_fills_its_hole_and_a_missing_one_is_a_gap() {
    let mut a = Assembler::new("h", "b").with_window(6);
    let mut out: Vec<Event> = Vec::new();
    for serial in [10, 11, 13, 12, 16] {
        for r in write(serial, 3_700_000 + serial * 10, 5) {
            a.push(r, &mut out);
        }
    }
    assert!(gaps(&out).is_empty(), "not yet given up");
    // A window's worth of records later (whatever their time: here an hour earlier, a
    // clock stepped back), 14 and 15 are declared lost.
    for serial in [17, 18, 19, 20] {
        for r in write(serial, 100_000, 5) {
            a.push(r, &mut out);
        }
    }
    assert_eq!(
        gaps(&out),
        [(
            GapReason::AuditSerialJump,
            Some(2),
            "audit serials 14..=15 never arrived".into()
        )]
    );
    a.finish(&mut out);
    assert_eq!(a.counters().lost_serials, 2);
    assert_eq!(a.counters().gaps, 1);
    assert_eq!(
        out.iter().filter(|e| e.kind.name() == "write").count(),
        9,
        "every write, the ones stamped an hour back too"
    );
}

#[test]
fn a_counter_restart_is_not_a_loss_and_daemon_records_are_ignored() {
    let mut a = Assembler::new("h", "b");
    let mut out: Vec<Event> = Vec::new();
    for r in write(500_000_000, 0, 5) {
        a.push(r, &mut out);
    }
    a.push(rec(7, 1, "DAEMON_START HDR op=start"), &mut out);
    for r in write(1, 2, 5) {
        a.push(r, &mut out);
    }
    for r in write(2, 3, 5) {
        a.push(r, &mut out);
    }
    a.finish(&mut out);
    assert!(gaps(&out).is_empty(), "{:?}", gaps(&out));
}

#[test]
fn eoe_completes_and_incomplete_events_wait_for_input_positions_not_record_time() {
    let mut a = Assembler::new("h", "b").with_window(3);
    let mut out: Vec<Event> = Vec::new();
    let close = |serial, ms, fd| {
        rec(
            serial,
            ms,
            &format!("SYSCALL HDR arch=c000003e syscall=3 success=yes exit=0 a0={fd} ppid=1 pid=9"),
        )
    };
    a.push(close(1, 0, 4), &mut out);
    assert_eq!(a.pending(), 1);
    a.push(rec(1, 0, "EOE HDR"), &mut out);
    assert_eq!(
        (a.pending(), out.len()),
        (0, 2),
        "fork of pid 9, then its close"
    );
    a.push(close(2, 10, 5), &mut out);
    // A record stamped a day later, and one stamped a day earlier: serial 2 still waits.
    a.push(close(3, 86_400_000, 6), &mut out);
    a.push(close(4, 0, 7), &mut out);
    assert_eq!(a.pending(), 3, "three records have come, not more");
    for serial in [5, 6] {
        a.push(
            rec(serial, 20, "USER_END HDR pid=1 msg='op=x res=success'"),
            &mut out,
        );
    }
    assert_eq!(a.pending(), 2, "serial 2 gave up after the window");
    assert_eq!(a.counters().timed_out, 1);
    // Live, a quiet stream: what waited from before a time is completed.
    a.flush_older_than(Timestamp(1_001_000_000), &mut out);
    assert_eq!(a.pending(), 1, "the record stamped a day later still waits");
    a.finish(&mut out);
    assert_eq!(out.iter().filter(|e| e.kind.name() == "close").count(), 4);
}

#[test]
fn consecutive_bad_lines_make_one_gap() {
    let mut a = Assembler::new("h", "b");
    let mut out: Vec<Event> = Vec::new();
    for r in write(1, 0, 5) {
        a.push(r, &mut out);
    }
    let e = ParseError::MissingType;
    a.parse_error(&e, "line 3");
    a.parse_error(&e, "line 4");
    for r in write(2, 5, 5) {
        a.push(r, &mut out);
    }
    a.parse_error(&e, "line 7");
    a.finish(&mut out);
    let g = gaps(&out);
    assert_eq!(g.len(), 2);
    assert_eq!((g[0].0, g[0].1), (GapReason::ParseError, Some(2)));
    assert!(g[0].2.starts_with("line 3: "), "{}", g[0].2);
    assert_eq!(a.counters().parse_errors, 3);
}

/// Assembles successful syscalls (`(serial, ms, fields)`) and returns the fork event of
/// pid 5000.
fn fork_of_5000(calls: &[(u64, u64, &str)]) -> Event {
    let mut a = Assembler::new("h", "b");
    let mut out: Vec<Event> = Vec::new();
    for &(serial, ms, fields) in calls {
        let syscall = format!("SYSCALL HDR arch=c000003e success=yes {fields}");
        a.push(rec(serial, ms, &syscall), &mut out);
        a.push(rec(serial, ms, "PROCTITLE HDR proctitle=78"), &mut out);
    }
    out.into_iter()
        .find(|e| matches!(&e.kind, EventKind::Fork(f) if f.child_pid == 5000))
        .expect("a fork of pid 5000")
}

#[test]
fn a_child_is_matched_to_a_clone_before_a_clone3_that_may_have_made_a_thread() {
    // Pid 60 in a container (its children's pids in its namespace are not host pids):
    // pthread_create (clone3, a thread: never shows up), then fork (clone), then the child.
    let fork = fork_of_5000(&[
        (1, 0, "syscall=1 exit=1 a0=1 ppid=1 pid=60"),
        (2, 1, "syscall=435 exit=7 a0=7ffc a1=58 ppid=1 pid=60"),
        (3, 2, "syscall=56 exit=8 a0=1200011 ppid=1 pid=60"),
        (4, 3, "syscall=1 exit=1 a0=1 ppid=60 pid=5000"),
    ]);
    assert_eq!(
        fork.audit.unwrap().serial,
        3,
        "the clone's, not the clone3's"
    );
}

#[test]
fn among_clone3_calls_a_child_is_matched_to_the_latest_before_it() {
    // Pid 60 in a container starts two threads (pthread_create: clone3, never shows up),
    // then posix_spawn (clone3 too) makes a process, which shows up at once.
    let fork = fork_of_5000(&[
        (1, 0, "syscall=1 exit=1 a0=1 ppid=1 pid=60"),
        (2, 100, "syscall=435 exit=7 a0=7ffc a1=58 ppid=1 pid=60"),
        (3, 2000, "syscall=435 exit=8 a0=7ffc a1=58 ppid=1 pid=60"),
        (4, 5000, "syscall=435 exit=9 a0=7ffc a1=58 ppid=1 pid=60"),
        (5, 5001, "syscall=59 exit=0 a0=1 ppid=60 pid=5000"),
    ]);
    assert_eq!(fork.time, Timestamp(1_005_000_000));
    assert_eq!(
        fork.audit.unwrap().serial,
        4,
        "posix_spawn's clone3, not a thread's"
    );
}

#[test]
fn after_auditds_start_record_a_small_drop_is_a_reboot_too() {
    let mut a = Assembler::new("h", "b");
    let mut out: Vec<Event> = Vec::new();
    let push = |a: &mut Assembler, out: &mut Vec<Event>, serials: &[(u64, u64)]| {
        for &(serial, ms) in serials {
            for r in write(serial, ms, 5) {
                a.push(r, out);
            }
        }
    };
    // A short boot: 300 serials. Records arriving a few serials late, and a drop of 250
    // without auditd's start record, are still the same boot.
    push(&mut a, &mut out, &[(300, 100), (290, 110), (50, 120)]);
    assert_eq!(a.counters().reboots, 0);
    // auditd restarted alone: the serials go on, a few out of order.
    a.push(rec(9, 130, "DAEMON_START HDR op=start"), &mut out);
    push(&mut a, &mut out, &[(295, 140), (301, 150)]);
    assert_eq!(a.counters().reboots, 0);
    // A reboot: auditd's start record, then the counter from the start again, 250 below.
    a.push(rec(10, 5000, "DAEMON_START HDR op=start"), &mut out);
    push(&mut a, &mut out, &[(51, 5100), (52, 5200)]);
    assert_eq!(a.counters().reboots, 1);
    // Only the first kernel record after the start record counts: a late record of the
    // new boot after that is no second reboot.
    push(&mut a, &mut out, &[(40, 5300)]);
    a.finish(&mut out);
    assert_eq!(a.counters().reboots, 1);
    // A log that starts with auditd's start record: the rule is for the record after it
    // only, which here sets the first serial; a later drop of 100 is a late record.
    let mut b = Assembler::new("h", "b");
    let mut ignored = Vec::new();
    b.push(rec(1, 0, "DAEMON_START HDR op=start"), &mut ignored);
    push(&mut b, &mut ignored, &[(300, 10), (200, 20)]);
    assert_eq!(b.counters().reboots, 0);
    // Each boot: pid 5 appears (a fork), then its writes.
    let got: Vec<(&str, &str)> = out
        .iter()
        .map(|e| (e.boot_id.as_str(), e.kind.name()))
        .collect();
    let mut want = vec![("b", "fork")];
    want.extend([("b", "write"); 5]);
    want.push(("b-2", "fork"));
    want.extend([("b-2", "write"); 3]);
    assert_eq!(got, want);
}

#[test]
fn the_serial_counter_starting_again_is_a_reboot_but_going_back_in_time_is_not() {
    let mut a = Assembler::new("h", "b");
    let mut out: Vec<Event> = Vec::new();
    let boots = |out: &[Event]| out.iter().map(|e| e.boot_id.clone()).collect::<Vec<_>>();
    let push = |a: &mut Assembler, out: &mut Vec<Event>, serials: &[(u64, u64)]| {
        for &(serial, ms) in serials {
            for r in write(serial, ms, 5) {
                a.push(r, out);
            }
        }
    };
    push(&mut a, &mut out, &[(50_000, 1000)]);
    // An older part of the log pasted after: serials and time both go back. (Only the
    // SYSCALL record: the event stays open.)
    for r in write(40_000, 500, 5).into_iter().take(1) {
        a.push(r, &mut out);
    }
    assert_eq!(a.counters().reboots, 0);
    // A reboot: the counter starts again, time goes on, and the next serials go on from
    // there. The open event of the old boot is completed with its boot id, and pid 5 is
    // a new process.
    push(&mut a, &mut out, &[(3, 2003), (4, 2004), (5, 2005)]);
    assert_eq!(a.counters().reboots, 1);
    // Serials 6 to 4,999 are lost in the second boot (the serials after 5,000 confirm it),
    // then a third boot starts.
    push(
        &mut a,
        &mut out,
        &[(5000, 9000), (5001, 9001), (5002, 9002)],
    );
    push(&mut a, &mut out, &[(2, 9500), (3, 9501), (4, 9502)]);
    a.finish(&mut out);
    assert_eq!(a.counters().reboots, 2);
    assert_eq!(a.counters().lost_serials, 4_994);
    let got: Vec<(String, &str)> = boots(&out)
        .into_iter()
        .zip(out.iter().map(|e| e.kind.name()))
        .collect();
    let want: Vec<(String, &str)> = [
        ("b", "fork"),
        ("b", "write"),
        ("b", "write"),
        ("b-2", "fork"),
        ("b-2", "write"),
        ("b-2", "write"),
        ("b-2", "write"),
        ("b-2", "write"),
        ("b-2", "write"),
        ("b-2", "write"),
        ("b-2", "gap"),
        ("b-3", "fork"),
        ("b-3", "write"),
        ("b-3", "write"),
        ("b-3", "write"),
    ]
    .into_iter()
    .map(|(b, k)| (b.to_owned(), k))
    .collect();
    assert_eq!(got, want);
}

/// One record whose serial was damaged (one digit changed, down or up) is neither a reboot
/// nor a loss: the records after it come back near the counter.
#[test]
fn one_damaged_serial_splits_no_boot_and_loses_nothing() {
    for bad in [5_434, 905_434] {
        let mut a = Assembler::new("h", "b");
        let mut out: Vec<Event> = Vec::new();
        for serial in 105_430..105_434 {
            for r in write(serial, serial - 105_000, 5) {
                a.push(r, &mut out);
            }
        }
        // Event 105434: its SYSCALL record's serial damaged, its PROCTITLE's intact.
        let [sys, title] = write(105_434, 434, 5);
        let line = format!(
            "type=SYSCALL msg=audit(1000.434:{bad}): arch=c000003e syscall=1 success=yes exit=1 a0=1 a1=0 a2=1 a3=0 items=0 ppid=1 pid=5"
        );
        drop(sys);
        a.push(parse_log_line(line.as_bytes()).unwrap(), &mut out);
        a.push(title, &mut out);
        for serial in 105_435..105_440 {
            for r in write(serial, serial - 105_000, 5) {
                a.push(r, &mut out);
            }
        }
        a.finish(&mut out);
        assert_eq!(a.counters().reboots, 0, "{bad}");
        assert!(gaps(&out).is_empty(), "{bad}: {:?}", gaps(&out));
        assert!(out.iter().all(|e| e.boot_id == "b"), "{bad}");
        assert_eq!(
            out.iter().filter(|e| e.kind.name() == "write").count(),
            10,
            "{bad}: the damaged event's write is kept"
        );
    }
}

#[test]
fn after_exit_group_the_same_pid_and_parent_is_a_new_process() {
    let mut a = Assembler::new("h", "b");
    let mut out: Vec<Event> = Vec::new();
    for r in write(1, 0, 50) {
        a.push(r, &mut out);
    }
    a.push(
        rec(
            2,
            1,
            "SYSCALL HDR arch=c000003e syscall=231 a0=0 items=0 ppid=1 pid=50",
        ),
        &mut out,
    );
    a.push(rec(2, 1, "PROCTITLE HDR proctitle=78"), &mut out);
    for r in write(3, 2, 50) {
        a.push(r, &mut out);
    }
    let kinds: Vec<&str> = out.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds, ["fork", "write", "exit", "fork", "write"]);
}

#[test]
fn pid_reuse_with_a_new_parent_is_a_new_process_but_reparenting_is_not() {
    let mut a = Assembler::new("h", "b");
    let mut out: Vec<Event> = Vec::new();
    let forks = |out: &[Event]| {
        out.iter()
            .filter_map(|e| match &e.kind {
                EventKind::Fork(f) => Some((f.parent_pid, f.child_pid)),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    for r in write(1, 0, 50) {
        a.push(r, &mut out);
    }
    // Re-parented to 1 (its parent died): no new fork.
    a.push(
        rec(
            2,
            1,
            "SYSCALL HDR arch=c000003e syscall=1 success=yes exit=1 a0=1 ppid=77 pid=50",
        ),
        &mut out,
    );
    a.push(rec(2, 1, "PROCTITLE HDR proctitle=78"), &mut out);
    // 60 forks (pid 60 in its namespace), then pid 50 shows up as its child: pid reuse.
    a.push(
        rec(
            3,
            2,
            "SYSCALL HDR arch=c000003e syscall=57 success=yes exit=60 a0=0 ppid=1 pid=60",
        ),
        &mut out,
    );
    a.push(rec(3, 2, "PROCTITLE HDR proctitle=78"), &mut out);
    a.push(
        rec(
            4,
            3,
            "SYSCALL HDR arch=c000003e syscall=1 success=yes exit=1 a0=1 ppid=60 pid=50",
        ),
        &mut out,
    );
    a.push(rec(4, 3, "PROCTITLE HDR proctitle=78"), &mut out);
    assert_eq!(forks(&out), [(1, 50), (1, 60), (60, 50)]);
    let reuse = out
        .iter()
        .rev()
        .find(|e| matches!(e.kind, EventKind::Fork(_)))
        .unwrap();
    assert_eq!(
        reuse.audit.as_ref().unwrap().serial,
        3,
        "the fork is the clone call's"
    );
}
