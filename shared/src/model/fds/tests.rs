//! The tracker fed the process connector's and audit's streams in every order they can arrive
//! in: the files behind each use, and the placement of each fork, must not change.

use super::*;
use crate::model::event::Pid;
use crate::model::time::Timestamp;
use proptest::prelude::*;

/// One input of a scenario: which stream it belongs to and what it is.
#[derive(Clone, Debug)]
enum Input {
    /// A process connector fork report.
    Fork {
        parent: Pid,
        child: Pid,
        tgid: Pid,
        ns_pids: Vec<Pid>,
        ns_known: bool,
    },
    /// An audit clone-family call.
    Clone {
        caller: Pid,
        ret: Pid,
        serial: u64,
        kind: CloneKind,
    },
    /// An audited step of a process (`ppid` as its record names it).
    Audit { step: Step<&'static str>, ppid: Pid },
}

fn fork(parent: Pid, child: Pid) -> Input {
    Input::Fork {
        parent,
        child,
        tgid: child,
        ns_pids: Vec::new(),
        ns_known: false,
    }
}

fn clone(caller: Pid, ret: Pid, serial: u64) -> Input {
    Input::Clone {
        caller,
        ret,
        serial,
        kind: CloneKind::Process,
    }
}

fn open(tgid: Pid, ppid: Pid, fd: i32, file: &'static str) -> Input {
    Input::Audit {
        step: Step::Open {
            tgid,
            fd,
            cloexec: false,
            file,
        },
        ppid,
    }
}

fn close(tgid: Pid, ppid: Pid, fd: i32) -> Input {
    Input::Audit {
        step: Step::Close { tgid, fd },
        ppid,
    }
}

fn write(tgid: Pid, ppid: Pid, fd: i32) -> Input {
    Input::Audit {
        step: Step::Use { tgid, fd },
        ppid,
    }
}

/// What came back: for each token (the input's index), the file and the placement.
type Outcome = Vec<(usize, Option<&'static str>, Option<Placement>)>;

/// Feeds `inputs` in order (all at one time: audit never settles on its own), then ticks
/// until nothing waits, and returns what came back, by input index.
fn run(tracker: &mut FdTracker<&'static str, usize>, inputs: &[Input]) -> Outcome {
    let mut out = Vec::new();
    let time = Timestamp(1_000_000);
    for (i, input) in inputs.iter().enumerate() {
        match input.clone() {
            Input::Fork {
                parent,
                child,
                tgid,
                ns_pids,
                ns_known,
            } => tracker.push(
                Step::Fork(ForkReport {
                    parent_tgid: parent,
                    child_pid: child,
                    child_tgid: tgid,
                    ns_pids,
                    ns_known,
                    clone_serial: None,
                }),
                Meta {
                    time,
                    audit: false,
                    ppid: None,
                },
                i,
                &mut out,
            ),
            Input::Clone {
                caller,
                ret,
                serial,
                kind,
            } => tracker.clone_call(
                CloneCall {
                    caller,
                    ret,
                    serial,
                    kind,
                },
                Meta {
                    time,
                    audit: true,
                    ppid: None,
                },
                &mut out,
            ),
            Input::Audit { step, ppid } => tracker.push(
                step,
                Meta {
                    time,
                    audit: true,
                    ppid: Some(ppid),
                },
                i,
                &mut out,
            ),
        }
    }
    let mut outcome: Outcome = out
        .into_iter()
        .map(|d| (d.token, d.file, d.placed))
        .collect();
    outcome.sort_by_key(|o| o.0);
    outcome
}

/// A tracker that knows parent 100 (started with an empty table, as the start-up snapshot
/// would have it).
fn live_with_parent() -> FdTracker<&'static str, usize> {
    let mut t = FdTracker::live();
    let mut out = Vec::new();
    for tgid in [1, 100] {
        t.push(
            Step::Snapshot {
                tgid,
                slots: Vec::new(),
            },
            Meta::default(),
            usize::MAX,
            &mut out,
        );
    }
    t
}

/// Every merge of `a` and `b` that keeps each one's own order.
fn merges<T: Clone>(a: &[T], b: &[T]) -> Vec<Vec<T>> {
    if a.is_empty() {
        return vec![b.to_vec()];
    }
    if b.is_empty() {
        return vec![a.to_vec()];
    }
    let mut out = Vec::new();
    for mut rest in merges(&a[1..], b) {
        rest.insert(0, a[0].clone());
        out.push(rest);
    }
    for mut rest in merges(a, &b[1..]) {
        rest.insert(0, b[0].clone());
        out.push(rest);
    }
    out
}

/// Inputs tagged with an id, so that the outcome can be compared whatever the order.
fn tagged(inputs: Vec<(u32, Input)>) -> (Vec<Input>, Vec<u32>) {
    let (tags, inputs) = inputs.into_iter().unzip();
    (inputs, tags)
}

/// The outcome keyed by the inputs' tags instead of their positions, files and placements
/// only, without the snapshot tokens.
fn by_tag(outcome: &Outcome, tags: &[u32]) -> Vec<(u32, Option<&'static str>, Option<Placement>)> {
    let mut v: Vec<_> = outcome
        .iter()
        .filter(|o| o.0 != usize::MAX)
        .map(|&(i, f, p)| (tags[i], f, p))
        .collect();
    v.sort_by_key(|o| o.0);
    v
}

/// The audit orders of one fork: the parent opens `f` as 5, clones the child and closes 5; the
/// child writes to 5. The child's write is queued after the parent's open (it runs after the
/// fork), anywhere relative to the clone call and the close.
fn audit_orders(ret: Pid) -> Vec<Vec<(u32, Input)>> {
    let open = (1, open(100, 1, 5, "/data/f"));
    let clone = (2, clone(100, ret, 11));
    let close = (3, close(100, 1, 5));
    let write = (4, write(200, 100, 5));
    vec![
        vec![open.clone(), clone.clone(), close.clone(), write.clone()],
        vec![open.clone(), clone.clone(), write.clone(), close.clone()],
        vec![open, write, clone, close],
    ]
}

/// The one-off race of the issue: the parent opens a file and forks at once; the child writes
/// through the inherited fd; the parent closes the fd right after the fork. Whatever the order
/// of the two streams (fork report before the open, between, after the close; the child's
/// write before the clone call or after the close), the write goes to the file, the parent's
/// close names it, and the fork is placed at its clone call.
#[test]
fn an_inherited_fd_is_the_childs_in_every_arrival_order() {
    // Host namespace (the call returns the host pid), a namespaced child whose pids were read,
    // and a namespaced child gone before they could be read (matched by order).
    let cases: [(Pid, Vec<Pid>, bool); 3] =
        [(200, vec![], true), (7, vec![7], true), (7, vec![], false)];
    for (ret, ns_pids, ns_known) in cases {
        let report = (
            0,
            Input::Fork {
                parent: 100,
                child: 200,
                tgid: 200,
                ns_pids: ns_pids.clone(),
                ns_known,
            },
        );
        let mut seen = None;
        for audit in audit_orders(ret) {
            for order in merges(std::slice::from_ref(&report), &audit) {
                let (inputs, tags) = tagged(order.clone());
                let got = by_tag(&run(&mut live_with_parent(), &inputs), &tags);
                assert_eq!(
                    got,
                    [
                        (0, None, Some(Placement::CloneCall { serial: 11 })),
                        (1, None, None),
                        (3, Some("/data/f"), None),
                        (4, Some("/data/f"), None),
                    ],
                    "ret {ret}, order {:?}",
                    order.iter().map(|o| o.0).collect::<Vec<_>>()
                );
                seen = Some(got);
            }
        }
        assert!(seen.is_some());
    }
}

/// A burst: the parent forks three children in a row, reusing fd 3 for each child's own file
/// and closing it after each fork; the children are namespaced and gone before their pids
/// could be read, so only order ties each clone call to its report. Every interleaving of the
/// streams gives each child its own file.
#[test]
fn a_burst_of_forks_reusing_one_fd_gives_each_child_its_file() {
    let files = ["/out/a-0", "/out/a-1", "/out/a-2"];
    let mut parent = Vec::new();
    let mut reports = Vec::new();
    let mut children = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let i = i as i32;
        let tag = 10 * (i as u32 + 1);
        parent.push((tag, open(100, 1, 3, file)));
        parent.push((tag + 1, clone(100, 7 + i, 20 + i as u64)));
        parent.push((tag + 2, close(100, 1, 3)));
        reports.push((tag + 3, fork(100, 200 + i)));
        children.push((tag, (tag + 4, write(200 + i, 100, 3))));
    }
    // Each child's write goes after its parent's open, anywhere after that in audit's order.
    let mut audits = vec![parent.clone()];
    for (after, w) in &children {
        let mut next = Vec::new();
        for a in &audits {
            let start = a.iter().position(|(t, _)| t == after).unwrap_or(0) + 1;
            for at in start..=a.len() {
                let mut v = a.clone();
                v.insert(at, w.clone());
                next.push(v);
            }
        }
        audits = next;
    }
    let mut runs = 0;
    for audit in &audits {
        // Every place of the three reports among the audit records would be too many orders
        // for a unit test (over a million): take the report stream before, in the middle of and
        // after each audit order, and three shifted mixes.
        let n = audit.len();
        for cut in [0, 2, n / 2, n - 3, n] {
            let mut order = audit.clone();
            for (k, r) in reports.iter().enumerate() {
                order.insert((cut + 3 * k).min(order.len()), r.clone());
            }
            let (inputs, tags) = tagged(order);
            let got = by_tag(&run(&mut live_with_parent(), &inputs), &tags);
            for (i, file) in files.iter().enumerate() {
                let tag = 10 * (i as u32 + 1);
                let write = got.iter().find(|g| g.0 == tag + 4).map(|g| g.1);
                assert_eq!(write, Some(Some(*file)), "child {i}: {got:?}");
                let fork = got.iter().find(|g| g.0 == tag + 3).map(|g| g.2);
                assert_eq!(
                    fork,
                    Some(Some(Placement::CloneCall {
                        serial: 20 + i as u64
                    }))
                );
            }
            runs += 1;
        }
    }
    assert!(runs > 100, "{runs} orders tried");
}

proptest! {
    /// Many children of two parents, streams merged at random: every child's write is to its
    /// own file, and every fork is placed at its clone call.
    #[test]
    fn random_merges_of_two_busy_parents(picks in proptest::collection::vec(any::<bool>(), 400)) {
        let mut audit = Vec::new();
        let mut reports = Vec::new();
        let mut expect = Vec::new();
        let names: Vec<&'static str> = (0..40)
            .map(|i| &*Box::leak(format!("/out/f-{i}").into_boxed_str()))
            .collect();
        for (i, &file) in names.iter().enumerate() {
            let parent = if i % 2 == 0 { 100 } else { 101 };
            let child = 1000 + i as Pid;
            let tag = 10 * i as u32;
            audit.push((tag, open(parent, 1, 3, file)));
            audit.push((tag + 1, clone(parent, 50 + i as Pid, 500 + i as u64)));
            // The child writes right away, before its parent's close.
            audit.push((tag + 4, write(child, parent, 3)));
            audit.push((tag + 2, close(parent, 1, 3)));
            reports.push((tag + 3, fork(parent, child)));
            expect.push((tag + 4, file, tag + 3, 500 + i as u64));
        }
        // Merge the report stream into the audit stream as the picks say.
        let (mut a, mut r) = (audit.into_iter().peekable(), reports.into_iter().peekable());
        let mut order = Vec::new();
        for take_report in picks {
            let next = if take_report { r.next().or_else(|| a.next()) } else { a.next().or_else(|| r.next()) };
            match next {
                Some(x) => order.push(x),
                None => break,
            }
        }
        order.extend(a);
        order.extend(r);
        let mut t = live_with_parent();
        let mut out = Vec::new();
        t.push(Step::Snapshot { tgid: 101, slots: Vec::new() }, Meta::default(), usize::MAX, &mut out);
        let (inputs, tags) = tagged(order);
        let got = by_tag(&run(&mut t, &inputs), &tags);
        for (write, file, fork, serial) in expect {
            let w = got.iter().find(|g| g.0 == write).map(|g| g.1);
            prop_assert_eq!(w, Some(Some(file)));
            let f = got.iter().find(|g| g.0 == fork).map(|g| g.2);
            prop_assert_eq!(f, Some(Some(Placement::CloneCall { serial })));
        }
    }
}

/// No clone call comes for the fork (lost, or the caller is not audited): once audit has gone
/// a second past the report, the child takes its parent's table as it was at the report, and
/// the fork says so.
#[test]
fn without_a_clone_call_the_fork_report_places_the_child() {
    let mut t = live_with_parent();
    let mut out = Vec::new();
    let at = |us| Meta {
        time: Timestamp(us),
        audit: true,
        ppid: Some(100),
    };
    t.push(
        Step::Open {
            tgid: 100,
            fd: 4,
            cloexec: false,
            file: "/var/log/app",
        },
        at(1_000_000),
        0,
        &mut out,
    );
    t.push(
        Step::Fork(ForkReport {
            parent_tgid: 100,
            child_pid: 200,
            child_tgid: 200,
            ..ForkReport::default()
        }),
        Meta {
            time: Timestamp(1_000_100),
            ..Meta::default()
        },
        1,
        &mut out,
    );
    t.push(Step::Use { tgid: 200, fd: 4 }, at(1_000_200), 2, &mut out);
    t.push(Step::Close { tgid: 100, fd: 4 }, at(1_500_000), 3, &mut out);
    assert_eq!(t.held(), 1, "the child's write waits for the clone call");
    // Another process's record, well after the fork: the call is not coming.
    t.push(Step::Use { tgid: 1, fd: 1 }, at(2_200_000), 4, &mut out);
    let got: Vec<_> = out.iter().map(|d| (d.token, d.file, d.placed)).collect();
    assert_eq!(
        got,
        [
            (0, None, None),
            (3, Some("/var/log/app"), None),
            (1, None, Some(Placement::ForkReport)),
            (2, Some("/var/log/app"), None),
            (4, None, None),
        ]
    );
    assert_eq!(t.stats().by_fork_report, 1);
    assert_eq!(t.held(), 0);
}

/// A process whose own records come first and whose fork is never reported (the connector
/// lost it) is placed after a few ticks with the table of the parent its records name.
#[test]
fn a_process_never_reported_is_placed_from_its_named_parent_after_a_few_ticks() {
    let mut t = live_with_parent();
    let mut out = Vec::new();
    let inputs = [
        open(100, 1, 6, "/srv/log"),
        write(300, 100, 6),
        close(300, 100, 6),
    ];
    let got = run(&mut t, &inputs);
    assert_eq!(got.len(), 1, "only the parent's open is done: {got:?}");
    for _ in 0..tracker::HOLD_TICKS {
        t.tick(&mut out);
    }
    let got: Vec<_> = out.iter().map(|d| (d.token, d.file)).collect();
    assert_eq!(got, [(1, Some("/srv/log")), (2, Some("/srv/log"))]);
    assert_eq!(t.stats().unreported, 1);
}

/// A child that forks a grandchild before its own clone call arrived: the grandchild is
/// placed from the child's table once the child's is known.
#[test]
fn a_grandchild_of_a_waiting_child_inherits_through_it() {
    let inputs = [
        fork(100, 200),
        open(100, 1, 3, "/a"),
        fork(200, 300),
        clone(200, 300, 31),
        write(300, 200, 3),
        clone(100, 200, 30),
        close(100, 1, 3),
    ];
    let got = run(&mut live_with_parent(), &inputs);
    // The parent's open comes after the child's report in this order, but before its clone
    // call: the child, and so the grandchild, have fd 3.
    let write = got.iter().find(|g| g.0 == 4).map(|g| g.1);
    assert_eq!(write, Some(Some("/a")));
    let forks: Vec<_> = got.iter().filter_map(|g| g.2.map(|p| (g.0, p))).collect();
    assert_eq!(
        forks,
        [
            (0, Placement::CloneCall { serial: 30 }),
            (2, Placement::CloneCall { serial: 31 })
        ]
    );
}

/// Threads share their process's table and consume their own clone calls, so that a clone3
/// that made a thread is not taken for the next process's.
#[test]
fn a_thread_takes_its_own_clone_call_out_of_the_way() {
    let inputs = [
        open(100, 1, 3, "/a"),
        // clone3 of a thread (its tid 101 is not a process), then of a process (ns pid 9).
        Input::Clone {
            caller: 100,
            ret: 101,
            serial: 40,
            kind: CloneKind::Either,
        },
        Input::Clone {
            caller: 100,
            ret: 9,
            serial: 41,
            kind: CloneKind::Either,
        },
        close(100, 1, 3),
        Input::Fork {
            parent: 1,
            child: 101,
            tgid: 100,
            ns_pids: Vec::new(),
            ns_known: false,
        },
        fork(100, 200),
        write(200, 100, 3),
        write(100, 1, 3),
    ];
    let got = run(&mut live_with_parent(), &inputs);
    let placed: Vec<_> = got.iter().filter_map(|g| g.2.map(|p| (g.0, p))).collect();
    assert_eq!(
        placed,
        [
            (4, Placement::Thread),
            (5, Placement::CloneCall { serial: 41 })
        ]
    );
    assert_eq!(got.iter().find(|g| g.0 == 6).map(|g| g.1), Some(Some("/a")));
    assert_eq!(
        got.iter().find(|g| g.0 == 7).map(|g| g.1),
        Some(None),
        "the parent closed it"
    );
}

/// The recorder's own children and kernel threads are not audited: placed at once.
#[test]
fn forks_of_unaudited_callers_are_placed_at_once() {
    let mut t = live_with_parent();
    t.set_unaudited([100]);
    let got = run(
        &mut t,
        &[open(100, 1, 3, "/x"), fork(100, 200), fork(2, 201)],
    );
    let placed: Vec<_> = got.iter().filter_map(|g| g.2.map(|p| (g.0, p))).collect();
    assert_eq!(
        placed,
        [(1, Placement::ForkReport), (2, Placement::ForkReport)]
    );
    assert_eq!(t.file(200, 3), Some(&"/x"));
    assert_eq!(t.held(), 0);
}

/// An offline import: the assembler infers the fork when the child's first record shows up,
/// after the parent's close; the fork names its clone call, whose table was kept.
#[test]
fn replay_places_an_inferred_fork_at_the_clone_call_it_names() {
    let mut t: FdTracker<&str, usize> = FdTracker::replay(1024);
    let mut out = Vec::new();
    let meta = Meta {
        time: Timestamp(5),
        audit: true,
        ppid: None,
    };
    t.push(
        Step::Open {
            tgid: 100,
            fd: 5,
            cloexec: false,
            file: "/inherited.txt",
        },
        meta,
        0,
        &mut out,
    );
    t.clone_call(
        CloneCall {
            caller: 100,
            ret: 7,
            serial: 60,
            kind: CloneKind::Process,
        },
        meta,
        &mut out,
    );
    t.push(Step::Close { tgid: 100, fd: 5 }, meta, 1, &mut out);
    t.push(
        Step::Fork(ForkReport {
            parent_tgid: 100,
            child_pid: 300,
            child_tgid: 300,
            clone_serial: Some(60),
            ..ForkReport::default()
        }),
        meta,
        2,
        &mut out,
    );
    t.push(Step::Use { tgid: 300, fd: 5 }, meta, 3, &mut out);
    // A fork with no clone call (a process from before the log) takes the current table.
    t.push(
        Step::Fork(ForkReport {
            parent_tgid: 100,
            child_pid: 301,
            child_tgid: 301,
            ..ForkReport::default()
        }),
        meta,
        4,
        &mut out,
    );
    t.push(Step::Use { tgid: 301, fd: 5 }, meta, 5, &mut out);
    let got: Vec<_> = out.iter().map(|d| (d.token, d.file, d.placed)).collect();
    assert_eq!(
        got,
        [
            (0, None, None),
            (1, Some("/inherited.txt"), None),
            (2, None, Some(Placement::CloneCall { serial: 60 })),
            (3, Some("/inherited.txt"), None),
            (4, None, Some(Placement::ForkReport)),
            (5, None, None),
        ]
    );
}

/// Exec drops close-on-exec descriptors at its place in the process's steps, and a use held
/// back with its process is replayed before the exec that follows it.
#[test]
fn exec_and_close_range_follow_the_kernel_in_order() {
    let mut t = live_with_parent();
    let inputs = [
        fork(100, 200),
        Input::Audit {
            step: Step::Open {
                tgid: 200,
                fd: 3,
                cloexec: true,
                file: "/lock",
            },
            ppid: 100,
        },
        open(200, 100, 4, "/keep"),
        open(200, 100, 5, "/gone"),
        write(200, 100, 3),
        Input::Audit {
            step: Step::CloseRange {
                tgid: 200,
                first: 5,
                last: i32::MAX,
                cloexec_only: false,
            },
            ppid: 100,
        },
        Input::Audit {
            step: Step::Exec { tgid: 200 },
            ppid: 100,
        },
        write(200, 100, 3),
        write(200, 100, 4),
        write(200, 100, 5),
        clone(100, 200, 70),
    ];
    let got = run(&mut t, &inputs);
    let writes: Vec<_> = got
        .iter()
        .filter(|g| [4, 7, 8, 9].contains(&g.0))
        .map(|g| g.1)
        .collect();
    assert_eq!(writes, [Some("/lock"), None, Some("/keep"), None]);
}

/// A container's pids are not the host's: a clone call that returned the container pid 5242
/// is not the call that made the host's pid 5242 (another child, whose own pids were not read).
#[test]
fn a_namespace_pid_is_never_taken_for_a_host_pid() {
    let inputs = [
        open(100, 1, 3, "/out/a"),
        // Child host pid 5242, gone before its namespace pids were read.
        fork(100, 5242),
        // Child host pid 6000, whose namespace pid is 5242.
        Input::Fork {
            parent: 100,
            child: 6000,
            tgid: 6000,
            ns_pids: vec![5242],
            ns_known: true,
        },
        // The first call (which made 5242 as namespace pid 10) was lost; the second made 6000
        // as namespace pid 5242.
        clone(100, 5242, 2),
        write(5242, 100, 3),
        write(6000, 100, 3),
    ];
    let mut t = live_with_parent();
    let mut got = run(&mut t, &inputs);
    let mut out = Vec::new();
    t.finish(&mut out);
    got.extend(out.into_iter().map(|d| (d.token, d.file, d.placed)));
    let mut placed: Vec<_> = got.iter().filter_map(|g| g.2.map(|p| (g.0, p))).collect();
    placed.sort_by_key(|p| p.0);
    assert_eq!(
        placed,
        [
            (1, Placement::ForkReport),
            (2, Placement::CloneCall { serial: 2 })
        ]
    );
}

/// Live, audit can lag seconds behind the connector under load: an exited process's table is
/// kept until audit has gone past its exit, so its last writes still find their file.
#[test]
fn an_exited_table_waits_for_audit_to_catch_up() {
    let mut t = live_with_parent();
    let mut out = Vec::new();
    let audit = |us| Meta {
        time: Timestamp(us),
        audit: true,
        ppid: Some(1),
    };
    t.push(
        Step::Open {
            tgid: 100,
            fd: 3,
            cloexec: false,
            file: "/var/log/late",
        },
        audit(1_000_000),
        0,
        &mut out,
    );
    // The connector reports the exit at 1.5 s; audit is still at 1.0 s.
    let exit = Meta {
        time: Timestamp(1_500_000),
        ..Meta::default()
    };
    t.push(Step::Exit { tgid: 100 }, exit, 1, &mut out);
    for _ in 0..3 {
        t.retire();
    }
    t.push(
        Step::Use { tgid: 100, fd: 3 },
        audit(1_400_000),
        2,
        &mut out,
    );
    assert_eq!(out.last().map(|d| d.file), Some(Some("/var/log/late")));
    // Audit passes the exit by more than a second: the table goes at the next retire.
    t.push(Step::Nothing, audit(2_600_000), 3, &mut out);
    t.retire();
    assert_eq!(t.table(100), None);
}

proptest! {
    /// Whatever arrives, in whatever order (forks of reused pids, calls that never come,
    /// processes never reported), every token comes back exactly once: nothing recorded is ever
    /// dropped by fd tracking.
    #[test]
    fn every_token_comes_back_once(script in proptest::collection::vec((0u8..7, 0i32..6, 0i32..4), 1..200)) {
        let mut t = live_with_parent();
        let mut out = Vec::new();
        let mut pushed = 0usize;
        for (i, &(what, pid, fd)) in script.iter().enumerate() {
            let child = 200 + pid;
            let meta = Meta { time: Timestamp(1_000_000 + i as i64 * 300_000), audit: what != 0, ppid: Some(100) };
            match what {
                0 => t.push(Step::Fork(ForkReport { parent_tgid: 100, child_pid: child, child_tgid: child, ..ForkReport::default() }), meta, i, &mut out),
                1 => { t.clone_call(CloneCall { caller: 100, ret: 50 + pid, serial: i as u64, kind: CloneKind::Process }, meta, &mut out); continue; }
                2 => t.push(Step::Open { tgid: child, fd, cloexec: false, file: "/f" }, meta, i, &mut out),
                3 => t.push(Step::Use { tgid: child, fd }, meta, i, &mut out),
                4 => t.push(Step::Close { tgid: child, fd }, meta, i, &mut out),
                5 => t.push(Step::Exit { tgid: child }, meta, i, &mut out),
                _ => { t.tick(&mut out); continue; }
            }
            pushed += 1;
        }
        t.finish(&mut out);
        let mut tokens: Vec<usize> = out.iter().map(|d| d.token).filter(|&x| x != usize::MAX).collect();
        tokens.sort_unstable();
        let before = tokens.len();
        tokens.dedup();
        prop_assert_eq!(before, tokens.len(), "a token came back twice");
        prop_assert_eq!(tokens.len(), pushed);
        prop_assert_eq!(t.held(), 0);
    }
}
