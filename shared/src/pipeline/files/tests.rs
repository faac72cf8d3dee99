//! Tests of `files`.

use crate::model::event::Event;
use crate::model::investigation::{FileOp, FileRecord, Investigation};
use crate::pipeline::investigate;
use crate::pipeline::testkit::*;

fn run(events: Vec<Event>) -> Investigation {
    let events = events.into_iter().enumerate().map(|(i, mut e)| {
        e.seq = i as u64;
        e
    });
    investigate(events, HOST, BOOT, t(1_000_000), &mut |_| {})
}

fn files_of(inv: &Investigation, pid: i32) -> Vec<&FileRecord> {
    inv.files.iter().filter(|f| f.pid == pid).collect()
}

fn dockerd() -> Event {
    snapshot(1, 100, 1, &["/usr/bin/dockerd"])
}

#[test]
fn open_write_close_is_one_record_with_its_times() {
    let inv = run(vec![
        dockerd(),
        fork(10, 100, 100, 200),
        open(11, 200, 200, "/tmp/a", 3),
        write(12, 200, 200, 3, 2),
        write(15, 200, 200, 3, 1),
        close(20, 200, 200, 3),
    ]);
    let f = files_of(&inv, 200);
    assert_eq!(f.len(), 1);
    let f = f[0];
    assert_eq!(f.path.as_bytes(), b"/tmp/a");
    assert_eq!(f.host_path.as_ref().unwrap().as_bytes(), b"/tmp/a");
    assert_eq!(f.fd, Some(3));
    assert_eq!(f.opened, Some(t(11)));
    assert_eq!(f.first_write, Some(t(12)));
    assert_eq!(f.last_write, Some(t(25)));
    assert_eq!(f.writes, 3);
    assert_eq!(f.closed, Some(t(20)));
    assert!(!f.closed_at_exit);
    assert_eq!(
        f.ops,
        vec![FileOp::Open, FileOp::Create, FileOp::Write, FileOp::Close]
    );
    assert_eq!(inv.processes[f.node].files, vec![0]);
}

#[test]
fn a_write_through_a_dupd_fd_belongs_to_the_file() {
    // `echo x > /tmp/out` in a shell: open, dup2 onto stdout, close, write to fd 1.
    let inv = run(vec![
        dockerd(),
        fork(10, 100, 100, 200),
        open(11, 200, 200, "/tmp/out", 3),
        dup(12, 200, 3, 1),
        close(13, 200, 200, 3),
        write(14, 200, 200, 1, 1),
        exit(30, 200),
    ]);
    let f = files_of(&inv, 200);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].writes, 1);
    assert_eq!(
        f[0].closed,
        Some(t(30)),
        "fd 1 still held it until the exit"
    );
    assert!(f[0].closed_at_exit);
}

#[test]
fn a_write_through_an_inherited_fd_is_the_childs_use_of_the_file() {
    let inv = run(vec![
        dockerd(),
        fork(10, 100, 100, 200),
        open(11, 200, 200, "/var/log/app.log", 5),
        fork(12, 200, 200, 300),
        write(13, 300, 300, 5, 4),
        close(14, 300, 300, 5),
    ]);
    let child = files_of(&inv, 300);
    assert_eq!(child.len(), 1);
    assert_eq!(child[0].path.as_bytes(), b"/var/log/app.log");
    assert_eq!(child[0].writes, 4);
    assert_eq!(child[0].opened, None);
    assert_eq!(child[0].closed, Some(t(14)));
    let parent = files_of(&inv, 200);
    assert_eq!(parent[0].writes, 0);
    assert_eq!(
        parent[0].closed, None,
        "the parent never closed it and never exited"
    );
}

/// Audit's coarse clock puts a parent's syscalls around a fork at one millisecond, all
/// before the connector's exact fork time: by time, the child would inherit the parent's
/// fd 3 as it stood after its next open. The recorder resolved the child's write in the
/// order of the audit stream: its path wins.
#[test]
fn the_recorders_path_wins_over_a_replay_by_time() {
    let mut w = write(12, 300, 300, 3, 1);
    if let crate::model::event::EventKind::Write(w) = &mut w.kind {
        w.path = Some("/out/a-0".into());
    }
    let inv = run(vec![
        dockerd(),
        fork(5, 100, 100, 200),
        open(10, 200, 200, "/out/a-0", 3),
        close(10, 200, 200, 3),
        open(10, 200, 200, "/out/a-1", 3),
        fork(11, 200, 200, 300),
        w,
    ]);
    let child = files_of(&inv, 300);
    assert_eq!(child.len(), 1, "{child:#?}");
    assert_eq!(child[0].path.as_bytes(), b"/out/a-0");
    assert_eq!(child[0].writes, 1);
}

#[test]
fn a_write_through_an_fd_from_the_start_up_snapshot_is_attributed() {
    let inv = run(vec![
        snapshot_fds(
            dockerd(),
            &[(7, "/var/lib/docker/state.json"), (8, "pipe:[123]")],
        ),
        write(20, 100, 100, 7, 1),
        write(21, 100, 100, 8, 1),
    ]);
    let f = files_of(&inv, 100);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].path.as_bytes(), b"/var/lib/docker/state.json");
    assert_eq!(f[0].fd, Some(7));
    assert_eq!(f[0].writes, 1);
}

#[test]
fn writes_to_pipes_and_sockets_named_by_the_recorder_are_not_files() {
    let mut w = write(20, 100, 100, 6, 1);
    if let crate::model::event::EventKind::Write(w) = &mut w.kind {
        w.path = Some("pipe:[17645]".into());
    }
    let mut named = write(21, 100, 100, 7, 1);
    if let crate::model::event::EventKind::Write(w) = &mut named.kind {
        w.path = Some("/var/lib/docker/volumes/metadata.db".into());
    }
    let inv = run(vec![with_cwd(dockerd(), "/srv"), w, named]);
    let f = files_of(&inv, 100);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].path.as_bytes(), b"/var/lib/docker/volumes/metadata.db");
}

#[test]
fn a_file_never_closed_closes_at_its_tasks_exit() {
    let inv = run(vec![
        dockerd(),
        fork(10, 100, 100, 200),
        thread(11, 100, 200, 201),
        open(12, 201, 200, "/tmp/t", 4),
        write(13, 201, 200, 4, 1),
        exit(40, 200),
    ]);
    let f = files_of(&inv, 201);
    assert_eq!(f.len(), 1);
    // The process's record, naming the thread that made it.
    assert_eq!(inv.processes[f[0].node].pid, 200);
    assert_eq!(f[0].pid, 201, "the thread's tid");
    assert_eq!(
        f[0].closed,
        Some(t(40)),
        "the thread's exit came from its leader"
    );
    assert!(f[0].closed_at_exit);
    assert_eq!(inv.stats.repairs.close_from_exit, 1);
    assert_eq!(inv.stats.repairs.exit_from_leader, 1);
}

#[test]
fn a_relative_path_resolves_under_the_cwd_of_the_event_or_the_process() {
    let inv = run(vec![
        dockerd(),
        fork(10, 100, 100, 200),
        with_cwd(exec(11, 200, &["/bin/sh"]), "/srv/app"),
        open_rel(12, 200, 200, "logs/../out.txt", "/work", 3),
        open(13, 200, 200, "data.bin", 4),
    ]);
    let f = files_of(&inv, 200);
    assert_eq!(f[0].path.as_bytes(), b"/work/out.txt");
    assert_eq!(f[1].path.as_bytes(), b"/srv/app/data.bin");
}

#[test]
fn container_paths_map_to_host_paths_through_the_rootfs() {
    let root = "/var/lib/docker/overlay2/abc/merged";
    let inv = run(vec![
        dockerd(),
        in_container(fork(10, 100, 100, 200), CID),
        pivot_root(11, 200, root),
        in_container(exec(12, 200, &["/bin/sh"]), CID),
        open(13, 200, 200, "/tmp/x", 3),
        // A `docker exec` process of the same container, repaired to the same rootfs.
        in_container(fork(20, 100, 100, 300), CID),
        open(21, 300, 300, "/etc/passwd", 3),
    ]);
    assert_eq!(
        files_of(&inv, 200)[0]
            .host_path
            .as_ref()
            .unwrap()
            .as_bytes(),
        b"/var/lib/docker/overlay2/abc/merged/tmp/x"
    );
    assert_eq!(
        files_of(&inv, 300)[0]
            .host_path
            .as_ref()
            .unwrap()
            .as_bytes(),
        b"/var/lib/docker/overlay2/abc/merged/etc/passwd"
    );
}

#[test]
fn files_opened_before_pivot_root_keep_their_host_paths() {
    let root = "/var/lib/docker/overlay2/abc/merged";
    let inv = run(vec![
        dockerd(),
        in_container(fork(10, 100, 100, 200), CID),
        // runc init, still on the host's filesystem, prepares the container.
        open(
            11,
            200,
            200,
            "/var/lib/docker/overlay2/abc/merged/etc/hosts",
            3,
        ),
        pivot_root(12, 200, root),
        in_container(exec(13, 200, &["/bin/sh"]), CID),
        open(14, 200, 200, "/tmp/x", 4),
    ]);
    let hosts: Vec<&[u8]> = files_of(&inv, 200)
        .iter()
        .map(|f| f.host_path.as_ref().unwrap().as_bytes())
        .collect();
    assert_eq!(
        hosts,
        [
            &b"/var/lib/docker/overlay2/abc/merged/etc/hosts"[..],
            b"/var/lib/docker/overlay2/abc/merged/tmp/x"
        ]
    );
}

#[test]
fn a_container_process_without_a_rootfs_has_no_host_path() {
    let inv = run(vec![
        dockerd(),
        in_container(fork(10, 100, 100, 200), CID),
        open(11, 200, 200, "/tmp/x", 3),
    ]);
    assert_eq!(files_of(&inv, 200)[0].host_path, None);
}

#[test]
fn a_shim_carrying_a_container_id_writes_host_paths() {
    let inv = run(vec![
        dockerd(),
        fork(10, 100, 100, 200),
        in_container(
            exec(11, 200, &["/usr/bin/containerd-shim-runc-v2", "-id", CID]),
            CID,
        ),
        open(12, 200, 200, "/run/containerd/s/abc", 3),
    ]);
    assert_eq!(
        files_of(&inv, 200)[0]
            .host_path
            .as_ref()
            .map(crate::model::text::ByteString::as_bytes),
        Some(&b"/run/containerd/s/abc"[..])
    );
}

#[test]
fn a_rename_links_the_old_name_to_the_new() {
    let inv = run(vec![
        dockerd(),
        fork(10, 100, 100, 200),
        open(11, 200, 200, "/etc/app.conf.tmp", 3),
        write(12, 200, 200, 3, 1),
        close(13, 200, 200, 3),
        rename(14, 200, "/etc/app.conf.tmp", "/etc/app.conf"),
        rename(15, 200, "/etc/other", "/etc/other.bak"),
        unlink(16, 200, "/etc/old"),
    ]);
    let f = files_of(&inv, 200);
    assert_eq!(f.len(), 3);
    assert_eq!(
        f[0].renamed_to.as_ref().unwrap().as_bytes(),
        b"/etc/app.conf"
    );
    assert_eq!(f[0].ops.last(), Some(&FileOp::Rename));
    assert_eq!(f[1].path.as_bytes(), b"/etc/other");
    assert_eq!(
        f[1].renamed_to.as_ref().unwrap().as_bytes(),
        b"/etc/other.bak"
    );
    assert_eq!((f[1].opened, f[1].closed), (Some(t(15)), Some(t(15))));
    assert_eq!(f[2].ops, vec![FileOp::Unlink]);
}

#[test]
fn files_of_processes_outside_the_tree_are_dropped() {
    let inv = run(vec![
        dockerd(),
        snapshot(2, 50, 1, &["/usr/sbin/cron"]),
        open(10, 50, 50, "/tmp/cron", 3),
        fork(11, 100, 100, 200),
        open(12, 200, 200, "/tmp/docker", 3),
    ]);
    assert_eq!(inv.files.len(), 1);
    assert_eq!(inv.files[0].path.as_bytes(), b"/tmp/docker");
}

#[test]
fn close_on_exec_fds_close_at_exec_and_others_survive_it() {
    let mut cloexec = open(11, 200, 200, "/tmp/lock", 3);
    if let crate::model::event::EventKind::Open(o) = &mut cloexec.kind {
        o.flags = Some(0o2_000_101);
    }
    let inv = run(vec![
        dockerd(),
        fork(10, 100, 100, 200),
        cloexec,
        open(12, 200, 200, "/tmp/keep", 4),
        exec(13, 200, &["/bin/true"]),
        write(14, 200, 200, 3, 1),
        write(15, 200, 200, 4, 1),
    ]);
    let f = files_of(&inv, 200);
    assert_eq!(f[0].closed, Some(t(13)));
    assert_eq!(f[0].writes, 0);
    assert_eq!(f[1].writes, 1);
}

#[test]
fn a_reused_pid_does_not_write_into_the_old_processs_file() {
    let inv = run(vec![
        dockerd(),
        fork(10, 100, 100, 200),
        open(11, 200, 200, "/tmp/first", 3),
        exit(12, 200),
        fork(20, 100, 100, 200),
        write(21, 200, 200, 3, 1),
    ]);
    let f = files_of(&inv, 200);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].writes, 0);
    assert_eq!(f[0].closed, Some(t(12)));
}

#[test]
fn pseudo_files_of_a_container_never_get_a_path_under_its_rootfs() {
    use crate::model::mounts::FsKind;
    let root = "/var/lib/docker/overlay2/abc/merged";
    let inv = run(vec![
        dockerd(),
        in_container(fork(10, 100, 100, 200), CID),
        // runc init, before pivot_root, on the host's filesystem: host paths, marked.
        open(11, 200, 200, "/proc/self/attr/exec", 3),
        pivot_root(12, 200, root),
        in_container(exec(13, 200, &["/bin/sh"]), CID),
        // No mount facts (a recording without the Docker API): the pseudo marks still hold.
        open(14, 200, 200, "/dev/null", 4),
        open(15, 200, 200, "/sys/fs/cgroup/x", 5),
        open(16, 200, 200, "/tmp/x", 6),
    ]);
    let got: Vec<(String, Option<String>, Option<FsKind>)> = files_of(&inv, 200)
        .iter()
        .map(|f| {
            (
                f.path.to_str_lossy().into_owned(),
                f.host_path.as_ref().map(|h| h.to_str_lossy().into_owned()),
                f.fs,
            )
        })
        .collect();
    let want = |p: &str, h: Option<&str>, fs| (p.to_owned(), h.map(str::to_owned), fs);
    assert_eq!(
        got,
        [
            want(
                "/proc/self/attr/exec",
                Some("/proc/self/attr/exec"),
                Some(FsKind::Proc)
            ),
            want("/dev/null", None, Some(FsKind::Dev)),
            want("/sys/fs/cgroup/x", None, Some(FsKind::Sysfs)),
            want(
                "/tmp/x",
                Some("/var/lib/docker/overlay2/abc/merged/tmp/x"),
                Some(FsKind::Rootfs)
            ),
        ]
    );
    assert!(files_of(&inv, 200).iter().all(|f| f.upper_path.is_none()));
}
