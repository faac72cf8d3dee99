//! Tests of the whole pipeline on small hand-built logs.

use super::*;
use crate::EventKind;
use crate::model::investigation::Investigation;
use crate::pipeline::testkit::*;

fn run(events: Vec<Event>) -> Investigation {
    investigate(events, HOST, BOOT, t(1_000_000), &mut |_| {})
}

#[test]
fn a_container_run_becomes_a_tree_with_its_files_and_stats() {
    let root = "/var/lib/docker/overlay2/abc/merged";
    let inv = run(vec![
        snapshot(1, 1, 0, &["/sbin/init"]),
        snapshot(2, 100, 1, &["/usr/bin/dockerd", "-H", "fd://"]),
        snapshot(3, 110, 100, &["/usr/bin/containerd"]),
        fork(10, 110, 110, 120),
        exec(11, 120, &["/usr/bin/containerd-shim-runc-v2", "-id", CID]),
        in_container(fork(20, 120, 120, 130), CID),
        pivot_root(21, 130, root),
        in_container(exec(22, 130, &["/bin/sh", "-c", "echo hi > /tmp/x"]), CID),
        open(23, 130, 130, "/tmp/x", 3),
        write(24, 130, 130, 3, 1),
        close(25, 130, 130, 3),
        container(26, CID, "demo", "dockwatch-busybox:latest"),
        gap(27, 5, 9, 3),
        exit(30, 130),
        fork(40, 1, 1, 999),
    ]);
    assert_eq!(inv.host, HOST);
    assert_eq!(inv.boot_id, BOOT);
    assert_eq!(inv.generated_at, t(1_000_000));
    assert_eq!(inv.roots, vec![0]);
    let pids: Vec<_> = inv.processes.iter().map(|p| p.pid).collect();
    assert_eq!(pids, vec![100, 110, 120, 130]);
    let sh = &inv.processes[3];
    assert_eq!(sh.container_name.as_deref(), Some("demo"));
    assert_eq!(sh.rootfs.as_ref().unwrap().as_bytes(), root.as_bytes());
    assert_eq!(sh.files.len(), 1);
    assert_eq!(
        inv.files[0].host_path.as_ref().unwrap().as_bytes(),
        b"/var/lib/docker/overlay2/abc/merged/tmp/x"
    );
    assert_eq!(inv.gaps.len(), 1);
    assert_eq!(inv.stats.events, 15);
    assert_eq!(inv.stats.processes, 6);
    assert_eq!(inv.stats.tree_processes, 4);
    assert_eq!(inv.stats.files, 1);
    assert_eq!(inv.stats.gaps, 1);
    for (i, p) in inv.processes.iter().enumerate() {
        assert_eq!(p.id, i);
        for &c in &p.children {
            assert_eq!(inv.processes[c].parent, Some(i));
        }
    }
}

#[test]
fn the_same_events_in_another_order_give_the_same_investigation() {
    let events = vec![
        snapshot(2, 100, 1, &["/usr/bin/dockerd"]),
        fork(10, 100, 100, 200),
        exec(11, 200, &["/bin/sh"]),
        open(12, 200, 200, "/tmp/a", 3),
        write(13, 200, 200, 3, 1),
        exit(20, 200),
    ];
    let numbered: Vec<Event> = events
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            e.seq = i as u64;
            e
        })
        .collect();
    let mut reversed = numbered.clone();
    reversed.reverse();
    assert_eq!(run(numbered), run(reversed));
}

#[test]
fn progress_names_every_step_in_order_and_ends_done() {
    let mut steps = Vec::new();
    investigate(
        vec![snapshot(1, 100, 1, &["/usr/bin/dockerd"])],
        HOST,
        BOOT,
        t(0),
        &mut |p| {
            if steps.last() != Some(&p.step) {
                steps.push(p.step);
            }
            assert!(p.fraction() <= 1.0);
        },
    );
    assert_eq!(steps.first(), Some(&Step::Sort));
    assert_eq!(steps.last(), Some(&Step::Done));
    assert!(steps.contains(&Step::Files));
    let mut sorted = steps.clone();
    sorted.sort_by_key(|s| s.index());
    assert_eq!(steps, sorted);
}

#[test]
fn no_docker_in_the_events_gives_no_roots() {
    let inv = run(vec![snapshot(1, 1, 0, &["/sbin/init"]), fork(2, 1, 1, 2)]);
    assert!(inv.roots.is_empty());
    assert!(inv.processes.is_empty());
    assert_eq!(inv.stats.processes, 2);
}

#[test]
fn an_exec_sorted_before_its_fork_keeps_its_args() {
    // Audit stamps events with a coarse clock, so the child's exec (audit) can sort before the
    // process connector's fork of it; the fork's view of the child (the parent's program, read
    // before the exec) must not replace what the exec said.
    let mut f = in_container(fork(20, 110, 110, 130), CID);
    if let EventKind::Fork(x) = &mut f.kind {
        let child = x.child.get_or_insert_with(Default::default);
        child.comm = Some("sh".into());
        child.args = vec!["/bin/sh".into(), "-c".into(), "echo x | tr x y".into()];
    }
    let inv = run(vec![
        snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
        snapshot(2, 110, 100, &["/bin/sh", "-c", "echo x | tr x y"]),
        in_container(exec(18, 130, &["tr", "x", "y"]), CID),
        f,
    ]);
    let tr = inv.processes.iter().find(|p| p.pid == 130).expect("tr");
    let args: Vec<&[u8]> = tr.args.iter().map(|a| a.as_bytes()).collect();
    assert_eq!(args, [&b"tr"[..], b"x", b"y"]);
    assert_eq!(tr.container_id.as_deref(), Some(CID));
}

#[test]
fn events_with_impossible_times_keep_their_place_in_the_tree() {
    use crate::pipeline::synthetic;
    let events: Vec<Event> = synthetic::events(600).collect();
    let whole = synthetic::investigate(events.clone());
    let tree = |inv: &crate::model::investigation::Investigation| {
        let mut pids: Vec<(crate::Pid, Option<crate::Pid>, usize)> = inv
            .processes
            .iter()
            .map(|p| (p.pid, p.ppid, p.files.len()))
            .collect();
        pids.sort_unstable();
        pids
    };
    assert!(whole.processes.len() > 20);
    for bad in [
        0,
        -1,
        -1_000_000_000,
        i64::MIN,
        i64::MAX,
        Timestamp::LATEST.0 + 1,
    ] {
        let mut damaged = events.clone();
        let mut hit = 0;
        for (i, e) in damaged.iter_mut().enumerate() {
            // Every fork, and every 5th other event: processes' first sightings included.
            if matches!(e.kind, EventKind::Fork(_)) || i % 5 == 0 {
                e.time = Timestamp(bad);
                hit += 1;
            }
        }
        let inv = synthetic::investigate(damaged);
        assert_eq!(tree(&inv), tree(&whole), "times of {bad}");
        assert_eq!(
            inv.stats.repairs.times_from_neighbours, hit,
            "times of {bad}"
        );
        for p in &inv.processes {
            assert!(
                p.start.is_none_or(Timestamp::is_plausible),
                "{bad}: {:?}",
                p.start
            );
        }
    }
    assert_eq!(whole.stats.repairs.times_from_neighbours, 0);
}

#[test]
fn file_times_a_clock_tick_before_their_process_start_are_moved_to_it() {
    // Audit's coarse clock reads the child's records up to a tick before the connector's
    // precise fork time; 50 ms before is no clock effect and stays as recorded.
    let inv = run(vec![
        snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
        fork(20_000, 100, 100, 130),
        open(17_000, 130, 130, "/tmp/early", 3),
        write(18_000, 130, 130, 3, 1),
        close(19_000, 130, 130, 3),
        open(25_000, 130, 130, "/tmp/later", 4),
        fork(100_000, 100, 100, 140),
        rename(50_000, 140, "/tmp/a", "/tmp/b"),
    ]);
    let file = |path: &str| {
        inv.files
            .iter()
            .find(|f| f.path.as_bytes() == path.as_bytes())
            .unwrap_or_else(|| panic!("{path} in {:?}", inv.files))
    };
    let early = file("/tmp/early");
    assert_eq!(
        (
            early.opened,
            early.first_write,
            early.last_write,
            early.closed
        ),
        (
            Some(t(20_000)),
            Some(t(20_000)),
            Some(t(20_000)),
            Some(t(20_000))
        )
    );
    assert_eq!(file("/tmp/later").opened, Some(t(25_000)), "untouched");
    assert_eq!(
        file("/tmp/a").opened,
        Some(t(50_000)),
        "too far: as recorded"
    );
    assert_eq!(inv.stats.repairs.file_times_to_start, 1);
}

#[test]
fn every_exec_is_kept_and_each_file_operation_belongs_to_the_program_that_made_it() {
    // `sh -c 'echo x > /tmp/b.txt; sleep 3'`: the shell writes b.txt, then execs sleep in the
    // same millisecond. Each exec is reported twice (audit, then the connector a tick later).
    let mut events = vec![
        snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
        fork(1_000, 100, 100, 130),
        exec(
            2_000,
            130,
            &["/bin/sh", "-c", "echo x > /tmp/b.txt; sleep 3"],
        ),
        with_source(exec(
            5_000,
            130,
            &["/bin/sh", "-c", "echo x > /tmp/b.txt; sleep 3"],
        )),
        open(9_000, 130, 130, "/tmp/b.txt", 3),
        write(9_000, 130, 130, 3, 1),
        close(9_000, 130, 130, 3),
        exec(9_000, 130, &["sleep", "3"]),
        with_source(exec(12_000, 130, &["sleep", "3"])),
        // The connector's report of the shell's exec at its exact time, with what /proc showed
        // when it was read: already the next program.
        with_source(exec(4_000, 130, &["sleep", "3"])),
        open(13_000, 130, 130, "/tmp/after", 4),
        exit(3_100_000, 130),
    ];
    for (seq, e) in events.iter_mut().enumerate() {
        e.seq = seq as u64;
    }
    let inv = run(events);
    let p = inv
        .processes
        .iter()
        .find(|p| p.pid == 130)
        .expect("the child");
    let programs: Vec<(String, i64)> = p
        .execs
        .iter()
        .map(|e| (e.args[0].to_str_lossy().into_owned(), e.time.0 - t(0).0))
        .collect();
    assert_eq!(
        programs,
        [("/bin/sh".to_owned(), 2_000), ("sleep".to_owned(), 9_000)]
    );
    assert_eq!(
        p.args[0].to_str_lossy(),
        "sleep",
        "the process shows its last program"
    );
    let exec_of = |path: &str| {
        inv.files
            .iter()
            .find(|f| f.path.to_str_lossy() == path)
            .map(|f| f.exec)
            .unwrap_or_else(|| panic!("{path}"))
    };
    assert_eq!(
        exec_of("/tmp/b.txt"),
        Some(0),
        "written by sh, not by sleep"
    );
    assert_eq!(exec_of("/tmp/after"), Some(1));
}

/// The same event as reported by the process connector.
fn with_source(mut e: Event) -> Event {
    e.source = crate::Source::Connector;
    e
}
