//! Tests of `fold`.

use super::*;
use crate::pipeline::testkit::*;

fn run(events: Vec<crate::model::event::Event>) -> (Vec<Rec>, Folded) {
    let mut recs = recs_of(events);
    let folded = fold(&mut recs, &mut |_| {});
    (recs, folded)
}

fn tasks_of(folded: &Folded, pid: Pid) -> Vec<&Task> {
    folded.tasks.iter().filter(|t| t.pid == pid).collect()
}

#[test]
fn two_processes_with_the_same_pid_in_one_boot_are_two_tasks() {
    let (_, folded) = run(vec![
        snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
        fork(10, 100, 100, 500),
        exec(11, 500, &["/bin/first"]),
        exit(20, 500),
        fork(30, 100, 100, 500),
        exec(31, 500, &["/bin/second"]),
    ]);
    let tasks = tasks_of(&folded, 500);
    assert_eq!(tasks.len(), 2, "{tasks:#?}");
    assert_eq!(tasks[0].info.args[0].as_bytes(), b"/bin/first");
    assert_eq!(tasks[0].exit, Some(t(20)));
    assert_eq!(tasks[1].info.args[0].as_bytes(), b"/bin/second");
    assert_eq!(tasks[1].start, t(30));
    assert_eq!(tasks[1].exit, None);
}

#[test]
fn an_exec_after_the_exit_of_its_pid_starts_a_new_task() {
    let (_, folded) = run(vec![
        fork(10, 1, 1, 500),
        exit(20, 500),
        exec(5_000, 500, &["/bin/later"]),
    ]);
    let tasks = tasks_of(&folded, 500);
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[1].origin, Origin::Seen);
    assert_eq!(tasks[1].start, t(5_000));
}

#[test]
fn an_audit_exec_sorting_just_before_its_fork_is_one_task() {
    // The audit exec carries a millisecond time (truncated) and sorts before the fork.
    let (_, folded) = run(vec![
        snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
        exec(2_000, 500, &["/bin/sh"]),
        fork(2_400, 100, 100, 500),
    ]);
    let tasks = tasks_of(&folded, 500);
    assert_eq!(tasks.len(), 1, "{tasks:#?}");
    assert_eq!(tasks[0].origin, Origin::Fork);
    assert_eq!(tasks[0].start, t(2_400));
    assert_eq!(tasks[0].fork_parent, Some(0));
    assert_eq!(tasks[0].info.args[0].as_bytes(), b"/bin/sh");
}

#[test]
fn a_fork_reported_by_audit_and_by_the_connector_is_one_task() {
    // Audit stamps the clone at syscall entry, 12 ms before the connector's fork.
    let (_, folded) = run(vec![
        snapshot(1, 100, 1, &["/usr/bin/containerd"]),
        audit_fork(10_000, 100, 500),
        fork(22_000, 100, 100, 500),
        exec(23_000, 500, &["/usr/bin/containerd-shim-runc-v2"]),
    ]);
    let tasks = tasks_of(&folded, 500);
    assert_eq!(tasks.len(), 1, "{tasks:#?}");
    assert_eq!(tasks[0].start, t(22_000), "the connector's time is exact");
    assert!(tasks[0].kernel_fork);
}

#[test]
fn an_audit_fork_guessed_seconds_early_is_confirmed_by_the_connectors_fork() {
    // The assembler matched a thread's clone call of containerd, 600 ms before the real fork,
    // and named the wrong parent (a shim) for it.
    let (_, folded) = run(vec![
        snapshot(1, 100, 1, &["/usr/bin/containerd"]),
        snapshot(2, 200, 100, &["/usr/bin/containerd-shim-runc-v2"]),
        audit_fork(10_000, 200, 500),
        exec(600_000, 500, &["runc", "start"]),
        fork(605_000, 100, 100, 500),
        exit(620_000, 500),
    ]);
    let tasks = tasks_of(&folded, 500);
    assert_eq!(tasks.len(), 1, "{tasks:#?}");
    assert_eq!(tasks[0].start, t(605_000));
    assert_eq!(
        tasks[0].fork_parent,
        Some(0),
        "containerd, as the connector says"
    );
    assert_eq!(tasks[0].exit, Some(t(620_000)));
    assert_eq!(tasks[0].info.args[0].as_bytes(), b"runc");
}

#[test]
fn an_audit_fork_of_a_live_connector_forked_process_is_not_a_new_process() {
    // runc init is re-parented to its shim when runc exits; the assembler takes the new
    // parent plus a clone call of the shim for a fork.
    let (_, folded) = run(vec![
        snapshot(1, 200, 1, &["/usr/bin/containerd-shim-runc-v2"]),
        fork(10, 200, 200, 300),
        fork(20, 300, 300, 500),
        exit(30, 300),
        audit_fork(650_000, 200, 500),
        exec(651_000, 500, &["/bin/sh", "-c", "job"]),
        exit(700_000, 500),
    ]);
    let tasks = tasks_of(&folded, 500);
    assert_eq!(tasks.len(), 1, "{tasks:#?}");
    assert_eq!(tasks[0].start, t(20));
    assert_eq!(
        folded.tasks[tasks[0].fork_parent.unwrap() as usize].pid,
        300
    );
    assert_eq!(tasks[0].info.args[0].as_bytes(), b"/bin/sh");
    assert_eq!(tasks[0].exit, Some(t(700_000)));
}

#[test]
fn pid_reuse_after_a_lost_exit_seen_first_by_audit_starts_the_new_process_there() {
    // 500's exit was lost; 5 s later its pid is reused by a child of the same live shell:
    // audit infers the fork, the exec follows, then the connector's fork arrives.
    let (_, folded) = run(vec![
        snapshot(1, 100, 1, &["/bin/sh"]),
        fork(10, 100, 100, 500),
        exec(11, 500, &["/bin/first"]),
        audit_fork(5_000_000, 100, 500),
        exec(5_000_500, 500, &["/bin/second"]),
        fork(5_001_000, 100, 100, 500),
    ]);
    let tasks = tasks_of(&folded, 500);
    assert_eq!(tasks.len(), 2, "{tasks:#?}");
    assert_eq!(tasks[0].info.args[0].as_bytes(), b"/bin/first");
    assert_eq!(tasks[1].info.args[0].as_bytes(), b"/bin/second");
    assert_eq!(tasks[1].start, t(5_001_000));
}

#[test]
fn a_second_connector_fork_of_a_live_pid_is_pid_reuse_even_soon_after() {
    let (_, folded) = run(vec![fork(10, 1, 1, 500), fork(50_000, 1, 1, 500)]);
    assert_eq!(tasks_of(&folded, 500).len(), 2);
}

#[test]
fn a_fork_report_for_a_live_snapshot_process_is_not_a_new_process() {
    let (_, folded) = run(vec![
        snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
        snapshot(2, 110, 100, &["/usr/bin/containerd"]),
        fork(60_000_000, 100, 100, 110),
    ]);
    let tasks = tasks_of(&folded, 110);
    assert_eq!(tasks.len(), 1, "{tasks:#?}");
    assert_eq!(tasks[0].info.args[0].as_bytes(), b"/usr/bin/containerd");
}

#[test]
fn a_fork_long_after_a_lost_exit_is_pid_reuse() {
    let (_, folded) = run(vec![fork(10, 1, 1, 500), fork(5_000_000, 1, 1, 500)]);
    assert_eq!(tasks_of(&folded, 500).len(), 2);
}

#[test]
fn snapshot_tasks_start_at_their_start_time() {
    let mut snap = snapshot(1_000_000, 100, 1, &["/usr/bin/dockerd"]);
    if let crate::model::event::EventKind::Snapshot(s) = &mut snap.kind {
        s.process.start_time = Some(t(42));
        s.threads = vec![101, 102];
    }
    let (_, folded) = run(vec![snap]);
    assert_eq!(folded.tasks.len(), 3);
    assert!(folded.tasks.iter().all(|task| task.start == t(42)));
    assert!(folded.tasks.iter().all(|task| task.leader == 0));
    assert!(folded.tasks[0].info.star);
}

#[test]
fn a_forked_child_inherits_its_parents_program_until_it_execs() {
    let (_, folded) = run(vec![
        snapshot(1, 100, 1, &["/usr/bin/dockerd", "-H", "fd://"]),
        fork(10, 100, 100, 200),
    ]);
    let child = tasks_of(&folded, 200)[0];
    assert_eq!(child.info.args.len(), 3);
    assert!(
        !child.info.star,
        "the star belongs to dockerd's own process"
    );
    assert_eq!(child.info.role, None);
    assert_eq!(child.fork_parent, Some(0));
    assert_eq!(child.ppid, Some(100));
}

#[test]
fn a_thread_joins_its_leader_and_records_the_reported_parent() {
    let (_, folded) = run(vec![fork(10, 1, 1, 300), thread(20, 1, 300, 301)]);
    let th = tasks_of(&folded, 301)[0];
    let leader = tasks_of(&folded, 300)[0];
    assert_eq!(folded.tasks[th.leader as usize].pid, 300);
    assert_eq!(th.fork_parent, None);
    assert_eq!(th.ppid, Some(1));
    assert_eq!(leader.fork_parent, None, "pid 1 was never seen");
}

#[test]
fn file_records_are_attributed_to_the_task_alive_at_their_time() {
    let (recs, folded) = run(vec![
        fork(10, 1, 1, 500),
        open(11, 500, 500, "/a", 3),
        exit(20, 500),
        fork(30, 1, 1, 500),
        open(31, 500, 500, "/b", 3),
    ]);
    let open_tasks: Vec<_> = recs
        .iter()
        .zip(&folded.rec_task)
        .filter(|(r, _)| matches!(r.op, Op::Open { .. }))
        .map(|(_, &t)| t)
        .collect();
    assert_eq!(open_tasks.len(), 2);
    assert_ne!(open_tasks[0], open_tasks[1]);
}

#[test]
fn a_duplicate_exit_keeps_the_first_time_and_fills_the_code() {
    let mut second = exit(20_500, 500);
    if let crate::model::event::EventKind::Exit(e) = &mut second.kind {
        e.exit_code = Some(3);
    }
    let (_, folded) = run(vec![
        fork(10, 1, 1, 500),
        exit_task(20_000, 500, 500),
        second,
    ]);
    let task = tasks_of(&folded, 500)[0];
    assert_eq!(task.exit, Some(t(20_000)));
    assert_eq!(task.exit_code, Some(3));
}

#[test]
fn pivot_root_sets_the_root_and_container_metadata_is_kept() {
    let (_, folded) = run(vec![
        fork(10, 1, 1, 500),
        pivot_root(11, 500, "/var/lib/docker/overlay2/abc/merged"),
        container(12, CID, "web", "busybox"),
    ]);
    let task = tasks_of(&folded, 500)[0];
    assert_eq!(task.pivot, Some(t(11)));
    assert_eq!(
        task.info.root.as_ref().unwrap().as_bytes(),
        b"/var/lib/docker/overlay2/abc/merged"
    );
    assert_eq!(folded.containers[CID].name.as_deref(), Some("web"));
}

#[test]
fn a_pivot_root_into_dot_takes_the_directory_the_process_was_in() {
    let (_, folded) = run(vec![
        fork(10, 1, 1, 500),
        with_cwd(
            exec(11, 500, &["runc", "init"]),
            "/var/lib/docker/overlay2/abc/merged",
        ),
        pivot_root(12, 500, "/"),
    ]);
    let task = tasks_of(&folded, 500)[0];
    assert_eq!(task.pivot, Some(t(12)));
    assert_eq!(
        task.info.root.as_ref().unwrap().as_bytes(),
        b"/var/lib/docker/overlay2/abc/merged"
    );
}

#[test]
fn a_slash_root_does_not_hide_a_known_rootfs() {
    let mut info = Info {
        root: Some("/merged".into()),
        ..Info::default()
    };
    info.apply(ProcessInfo {
        root: Some("/".into()),
        ..ProcessInfo::default()
    });
    assert_eq!(info.root.unwrap().as_bytes(), b"/merged");
}

#[test]
fn a_child_forked_just_before_its_parent_s_exec_inherits_the_program_it_was_forked_from() {
    // A shell forks a child, then execs `sleep`: audit's coarse clock stamps the exec a tick
    // early, before the child's (exact) fork; the connector's exec report has the exact time.
    let connector_exec = |time, pid, args: &[&str]| {
        let mut e = exec(time, pid, args);
        e.source = crate::model::event::Source::Connector;
        e
    };
    let (_, folded) = run(vec![
        snapshot(1, 100, 1, &["/usr/bin/containerd-shim"]),
        fork(1_000, 100, 100, 500),
        exec(1_100, 500, &["/bin/sh", "-c", "script"]),
        connector_exec(1_150, 500, &["/bin/sh", "-c", "script"]),
        exec(2_000, 500, &["sleep", "2"]),
        fork(2_500, 500, 500, 501),
        connector_exec(3_000, 500, &["sleep", "2"]),
        fork(3_500, 500, 500, 502),
    ]);
    let args = |pid| {
        tasks_of(&folded, pid)[0].info.args[0]
            .to_str_lossy()
            .into_owned()
    };
    assert_eq!(args(500), "sleep");
    assert_eq!(args(501), "/bin/sh", "forked before the exec");
    assert_eq!(args(502), "sleep", "forked after it");
    // Whatever order the two exec reports come in.
    let (_, folded) = run(vec![
        snapshot(1, 100, 1, &["/usr/bin/containerd-shim"]),
        fork(1_000, 100, 100, 500),
        exec(1_100, 500, &["/bin/sh", "-c", "script"]),
        connector_exec(1_900, 500, &["sleep", "2"]),
        exec(2_000, 500, &["sleep", "2"]),
        fork(2_500, 500, 500, 501),
    ]);
    let args = |pid| {
        tasks_of(&folded, pid)[0].info.args[0]
            .to_str_lossy()
            .into_owned()
    };
    assert_eq!(args(501), "sleep", "the exact exec came first");
    // Two execs in a row (runc init becomes the script's shell, which soon execs sleep), both
    // audit reports sorting before the first one's exact report (recorded so).
    let (_, folded) = run(vec![
        snapshot(1, 100, 1, &["/usr/bin/containerd-shim"]),
        fork(1_000, 100, 100, 500),
        exec(855_000, 500, &["/bin/sh", "-c", "script"]),
        exec(859_000, 500, &["sleep", "2"]),
        connector_exec(859_455, 500, &["runc"]),
        fork(860_140, 500, 500, 501),
        connector_exec(863_521, 500, &["sleep", "2"]),
        fork(864_000, 500, 500, 502),
    ]);
    let args = |pid| {
        tasks_of(&folded, pid)[0].info.args[0]
            .to_str_lossy()
            .into_owned()
    };
    assert_eq!(args(501), "/bin/sh", "forked before sleep's exact exec");
    assert_eq!(args(502), "sleep");
}
