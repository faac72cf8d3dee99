//! The pipeline on real captures recorded with `godo --write` on a real Docker host by
//! `assets/record-capture.sh` (see the scenario there). The assertions are what the containers
//! really did.

use std::path::PathBuf;

use dockwatch_shared::load::from_capture;
use dockwatch_shared::model::investigation::{Investigation, ProcessNode};
use dockwatch_shared::model::time::Timestamp;

fn busybox_scenario() -> Investigation {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/captures/busybox-scenario.jsonl.zst");
    from_capture(&path, None, None, Timestamp(0), &mut |_| {})
        .expect("the committed capture reads")
        .investigation
}

fn arg(p: &ProcessNode, i: usize) -> String {
    p.args
        .get(i)
        .map(|a| a.to_str_lossy().into_owned())
        .unwrap_or_default()
}

fn shell_running(inv: &Investigation, script_part: &str) -> ProcessNode {
    inv.processes
        .iter()
        .find(|p| arg(p, 0) == "/bin/sh" && arg(p, 2).contains(script_part))
        .unwrap_or_else(|| panic!("no shell running {script_part:?}"))
        .clone()
}

fn file_records<'a>(
    inv: &'a Investigation,
    container: &str,
    path: &str,
) -> Vec<&'a dockwatch_shared::model::investigation::FileRecord> {
    inv.files
        .iter()
        .filter(|f| {
            f.path.as_bytes() == path.as_bytes()
                && inv.processes[f.node].container_id.as_deref() == Some(container)
        })
        .collect()
}

#[test]
fn the_tree_is_rooted_at_the_starred_dockerd_with_containerd_below() {
    let inv = busybox_scenario();
    let root = &inv.processes[inv.roots[0]];
    assert!(root.star);
    assert_eq!(root.comm.as_ref().unwrap().as_bytes(), b"dockerd");
    assert!(
        root.children.iter().any(|&c| inv.processes[c]
            .comm
            .as_ref()
            .is_some_and(|c| c.as_bytes() == b"containerd")),
        "containerd runs under dockerd on this host"
    );
    // Every shell of the scenario is in the tree, below a containerd-shim.
    for part in [
        "echo hello > out.txt",
        "echo exec > /tmp/from-exec",
        "for i in 1 2 3",
    ] {
        let sh = shell_running(&inv, part);
        let mut up = sh.parent;
        let mut via_shim = false;
        while let Some(p) = up {
            via_shim |= arg(&inv.processes[p], 0).ends_with("containerd-shim-runc-v2");
            up = inv.processes[p].parent;
        }
        assert!(via_shim, "{part}: not below a shim");
    }
}

#[test]
fn the_writer_containers_files_have_their_host_paths_and_rename() {
    let inv = busybox_scenario();
    let sh = shell_running(&inv, "echo hello > out.txt");
    let cid = sh.container_id.clone().expect("container id");
    assert_eq!(sh.container_name.as_deref(), Some("dw-writer"));
    let rootfs = sh
        .rootfs
        .clone()
        .expect("rootfs from runc init's pivot_root");
    let rootfs = rootfs.to_str_lossy().into_owned();
    assert!(
        rootfs.starts_with("/var/lib/docker/overlay2/") && rootfs.ends_with("/merged"),
        "{rootfs}"
    );

    // `echo hello > out.txt` and `echo more >> out.txt`, relative to the cwd /work.
    let out = file_records(&inv, &cid, "/work/out.txt");
    let by_shell: Vec<_> = out.iter().filter(|f| f.node == sh.id).collect();
    let writes: u64 = by_shell.iter().map(|f| f.writes).sum();
    assert!(writes >= 2, "{out:#?}");
    for f in &by_shell {
        let host = f.host_path.as_ref().expect("host path");
        assert_eq!(host.to_str_lossy(), format!("{rootfs}/work/out.txt"));
    }
    // `mv out.txt result.txt`.
    assert!(
        out.iter().any(|f| f
            .renamed_to
            .as_ref()
            .is_some_and(|t| t.as_bytes() == b"/work/result.txt")),
        "{out:#?}"
    );
    // `touch gone && rm gone`.
    assert!(!file_records(&inv, &cid, "/work/gone").is_empty());
}

#[test]
fn a_docker_exec_process_gets_the_containers_rootfs() {
    let inv = busybox_scenario();
    // The sleeper's shell exec'd `sleep 30` after writing /tmp/started.
    let sleeper = inv
        .processes
        .iter()
        .find(|p| arg(p, 0) == "sleep" && arg(p, 1) == "30")
        .expect("the sleeper")
        .clone();
    assert_eq!(
        file_records(
            &inv,
            sleeper.container_id.as_deref().unwrap(),
            "/tmp/started"
        )
        .len(),
        1
    );
    let exec = shell_running(&inv, "echo exec > /tmp/from-exec");
    assert_eq!(exec.container_id, sleeper.container_id);
    assert!(exec.rootfs.is_some());
    assert_eq!(
        exec.rootfs, sleeper.rootfs,
        "propagated from the pivot_root of the first process"
    );
    let f = file_records(
        &inv,
        exec.container_id.as_deref().unwrap(),
        "/tmp/from-exec",
    );
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pid, exec.pid);
    assert_eq!(f[0].writes, 1);
    assert!(inv.stats.repairs.rootfs_propagated >= 1);
}

#[test]
fn the_kernels_lost_records_are_carried_as_gaps() {
    let inv = busybox_scenario();
    assert!(
        !inv.gaps.is_empty(),
        "the capture was recorded on a busy machine"
    );
    assert!(inv.gaps.iter().all(|g| g.from <= g.to));
    // The loop container ran in that window: its processes are there even where files are lost.
    for i in 1..=3 {
        shell_running(&inv, &format!("echo {i} > /tmp/n{i}"));
    }
}

fn demo() -> Investigation {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/demo.jsonl.zst");
    from_capture(&path, None, None, Timestamp(0), &mut |_| {})
        .expect("the demo capture reads")
        .investigation
}

/// Regression: audit's inferred forks (a guessed clone call seconds early, or a re-parenting to
/// the shim taken for a fork) used to give runc, runc init and the job's children a second row
/// each with the same pid, one of them never ending.
#[test]
fn the_demo_has_one_row_per_process_life() {
    let inv = demo();
    let mut by_pid: std::collections::BTreeMap<i32, Vec<&ProcessNode>> = Default::default();
    for p in &inv.processes {
        by_pid.entry(p.pid).or_default().push(p);
    }
    for (pid, lives) in &by_pid {
        for (i, a) in lives.iter().enumerate() {
            for b in &lives[i + 1..] {
                let ends = |p: &ProcessNode| p.exit.unwrap_or(Timestamp(i64::MAX));
                let overlap = a.start < Some(ends(b)) && b.start < Some(ends(a));
                assert!(
                    !overlap,
                    "pid {pid}: two rows overlap: {:?} {:?}..{:?} and {:?} {:?}..{:?}",
                    a.args, a.start, a.exit, b.args, b.start, b.exit
                );
            }
        }
    }
    // The job's shell is the process runc init became: one row (its forked subshells below it
    // carry its arguments too), with its exit status and its children below it.
    let job = |p: &ProcessNode| arg(p, 0) == "/bin/sh" && arg(p, 2).contains("mkdir -p /out");
    let shells: Vec<_> = inv
        .processes
        .iter()
        .filter(|p| job(p) && !p.parent.is_some_and(|q| job(&inv.processes[q])))
        .collect();
    assert_eq!(shells.len(), 1, "{shells:#?}");
    let sh = shells[0];
    assert_eq!(sh.exit_code, Some(3), "the script ends with exit 3");
    assert_eq!(
        arg(&inv.processes[sh.parent.expect("a parent")], 0),
        "runc",
        "forked by runc create"
    );
    let cats: Vec<_> = inv
        .processes
        .iter()
        .filter(|p| arg(p, 0) == "cat" && arg(p, 1) == "/etc/passwd")
        .collect();
    assert_eq!(cats.len(), 1);
    assert_eq!(cats[0].parent, Some(sh.id));
    assert!(cats[0].exit.is_some());
    // Every `runc start` and `runc delete [--force]` command ran once per container, and ended.
    for verb in ["start", "delete"] {
        let runs: Vec<_> = inv
            .processes
            .iter()
            .filter(|p| {
                arg(p, 0) == "runc" && p.args.iter().any(|a| a.as_bytes() == verb.as_bytes())
            })
            .collect();
        assert!(!runs.is_empty());
        assert!(
            runs.iter().all(|p| p.exit.is_some()),
            "runc {verb}: {runs:#?}"
        );
        let mut commands: Vec<_> = runs.iter().map(|p| p.args.clone()).collect();
        commands.sort();
        let n = commands.len();
        commands.dedup();
        assert_eq!(commands.len(), n, "the same runc {verb} command twice");
    }
}

/// Cause before effect: in both real recordings, no file operation of a process reads earlier
/// than that process's start (audit's coarse clock is reconciled with the connector's).
#[test]
fn no_file_operation_precedes_its_process() {
    for inv in [busybox_scenario(), demo()] {
        let early: Vec<String> = inv
            .files
            .iter()
            .filter_map(|f| {
                let start = inv.processes[f.node].start?;
                let first = f.first_time()?;
                (first < start).then(|| {
                    format!(
                        "{} of pid {}: {first} < {start}",
                        f.path.to_str_lossy(),
                        inv.processes[f.node].pid
                    )
                })
            })
            .collect();
        assert!(early.is_empty(), "{}: {early:?}", inv.host);
    }
}

/// The container view on real recordings: each container's changes, as `docker diff` with the
/// writer, and none of the runtime's own (runc init's mounts, devices and `/proc` settings).
#[test]
fn each_container_lists_exactly_the_paths_its_workload_changed() {
    use dockwatch_shared::presentation::containers::{changes, containers};
    let of = |inv: &Investigation, name: &str| -> (i32, Vec<(String, String)>, usize) {
        let c = containers(inv)
            .into_iter()
            .find(|c| c.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("container {name}"));
        let list = changes(inv, &c.id, false)
            .iter()
            .map(|ch| (ch.path.to_str_lossy().into_owned(), ch.state.describe()))
            .collect();
        let with_runtime = changes(inv, &c.id, true).len();
        (c.exit_code.unwrap_or(-1), list, with_runtime)
    };
    let owned = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    };
    let (code, list, all) = of(&demo(), "dw-demo-job");
    assert_eq!(code, 3);
    assert_eq!(
        list,
        owned(&[
            ("/etc/passwd", "created"),
            ("/out/root.txt", "renamed → /out/report.txt"),
            ("/tmp/scratch", "created, deleted"),
            ("/out/report.txt", "renamed from /out/root.txt"),
            ("/out/late.txt", "created"),
        ])
    );
    assert!(
        all > list.len(),
        "the runtime's changes are there when asked for"
    );
    let (code, list, _) = of(&busybox_scenario(), "dw-writer");
    assert_eq!(code, 0);
    assert_eq!(
        list,
        owned(&[("/work/out.txt", "created"), ("/work/gone", "deleted")])
    );
}
