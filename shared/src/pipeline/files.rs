//! Step 6, `files`: what the processes of the tree did to files, as [`FileRecord`]s.
//!
//! Processes use descriptors, not names, so the step replays each process's descriptor table the
//! way the kernel keeps it:
//!
//! * an open adds `fd → file`; a write looks the fd up; a close removes it, and the file's record
//!   is closed when no other descriptor of the process still refers to it (after
//!   `dup2(3, 1); close(3)` writes through fd 1 still belong to the file);
//! * a process fork copies the parent's table, so writes through inherited fds are attributed to
//!   the file (in a record of the child's own); fds marked close-on-exec are closed by an exec;
//! * descriptors from the start-up snapshot (`/proc/PID/fd` of processes that existed before the
//!   recorder) enter the table too, so a write through one is attributed to its file.
//!
//! A record is one use of one file by one process: from the open (or the first use of an
//! inherited or snapshot descriptor) to the close. A record never closed takes its task's exit
//! time (`closed_at_exit`, counted in `Repairs::close_from_exit`). Renames, unlinks, truncates,
//! chmods and chowns by name are added to the process's latest record of that path, or get a
//! record of their own whose `opened` and `closed` are both the time of the operation. Relative
//! paths are resolved against the event's cwd, else the process's; `host_path` maps the path
//! through the process's rootfs.

use rustc_hash::FxHashMap;

use crate::event::DockerRole;
use crate::investigation::{FileOp, FileRecord, ProcessNode};
use crate::pipeline::fold::{NONE, Task, TaskId};
use crate::pipeline::input::{Op, Rec};
use crate::pipeline::paths::{absolute, host_path, split_host_path};
use crate::text::ByteString;
use crate::time::Timestamp;

const O_ACCMODE: u32 = 0o3;
const O_CLOEXEC: u32 = 0o2_000_000;

#[derive(Copy, Clone, Debug)]
struct FdEntry {
    /// The open file it refers to, in `Files::ofds`.
    ofd: u32,
    /// This process's record of that file, or [`NONE`] until the process uses it.
    record: u32,
    cloexec: bool,
}

/// An open file (the kernel's open file description) several fds and processes may share.
#[derive(Debug)]
enum Ofd {
    /// Opened by the process that owns this record: its path and host path.
    Record(u32),
    /// Known from a snapshot fd or a recorder-supplied path.
    Named {
        path: ByteString,
        host: Option<ByteString>,
    },
}

struct Files<'a> {
    tasks: &'a [Task],
    task_node: &'a [u32],
    nodes: &'a mut [ProcessNode],
    tables: Vec<FxHashMap<i32, FdEntry>>,
    ofds: Vec<Ofd>,
    records: Vec<FileRecord>,
    owners: Vec<TaskId>,
}

/// True when the process sees a container's filesystem, not the host's: it has a container id
/// and is not a shim or runc, which carry their container's id (from their arguments) but run
/// on the host. (A child forked from dockerd keeps dockerd's role until it execs, so only these
/// two roles are taken as proof of running on the host.)
fn in_container_fs(n: &ProcessNode) -> bool {
    n.container_id.is_some()
        && !matches!(n.role, Some(DockerRole::ContainerdShim | DockerRole::Runc))
}

fn add_op(r: &mut FileRecord, op: FileOp) {
    if !r.ops.contains(&op) {
        r.ops.push(op);
    }
}

impl Files<'_> {
    fn new_record(
        &mut self,
        node: usize,
        task: TaskId,
        path: ByteString,
        host_path: Option<ByteString>,
        fd: Option<i32>,
    ) -> u32 {
        let id = self.records.len() as u32;
        self.records.push(FileRecord {
            path,
            host_path,
            node,
            pid: self.tasks[task as usize].pid,
            fd,
            ..FileRecord::default()
        });
        self.owners.push(task);
        self.nodes[node].files.push(id as usize);
        id
    }

    /// A record of a one-off change by name (rename, unlink, ...): opened and closed at `time`.
    fn path_record(
        &mut self,
        node: usize,
        task: TaskId,
        (path, host): (ByteString, Option<ByteString>),
        time: Timestamp,
    ) -> u32 {
        let id = self.new_record(node, task, path, host, None);
        let r = &mut self.records[id as usize];
        r.opened = Some(time);
        r.closed = Some(time);
        id
    }

    /// The absolute path of `path` and its host name, for `task` at `time`. Before its process
    /// did pivot_root (runc init preparing the container) the process saw the host's
    /// filesystem, so its paths are host paths already.
    fn resolve(
        &self,
        node: usize,
        task: TaskId,
        time: Timestamp,
        path: ByteString,
        cwd: Option<&ByteString>,
    ) -> (ByteString, Option<ByteString>) {
        let n = &self.nodes[node];
        let abs = absolute(path, cwd.or(n.cwd.as_ref()));
        let leader = self.tasks[task as usize].leader;
        let before_pivot = self.tasks[leader as usize]
            .pivot
            .is_some_and(|pivot| time < pivot);
        let host = if before_pivot {
            host_path(None, false, &abs)
        } else {
            host_path(n.rootfs.as_ref(), in_container_fs(n), &abs)
        };
        (abs, host)
    }

    /// This process's record for `fd`, created on the first use of an inherited or snapshot fd.
    fn record_for_fd(&mut self, node: usize, task: TaskId, fd: i32) -> Option<u32> {
        let entry = *self.tables[node].get(&fd)?;
        if entry.record != NONE {
            return Some(entry.record);
        }
        let (path, host) = match &self.ofds[entry.ofd as usize] {
            Ofd::Record(r) => {
                let r = &self.records[*r as usize];
                (r.path.clone(), r.host_path.clone())
            }
            Ofd::Named { path, host } => (path.clone(), host.clone()),
        };
        let id = self.new_record(node, task, path, host, Some(fd));
        for e in self.tables[node].values_mut() {
            if e.ofd == entry.ofd && e.record == NONE {
                e.record = id;
            }
        }
        Some(id)
    }

    fn close_fd(&mut self, node: usize, fd: i32, time: Timestamp) {
        let table = &mut self.tables[node];
        let Some(entry) = table.remove(&fd) else {
            return;
        };
        if entry.record != NONE && !table.values().any(|e| e.record == entry.record) {
            let r = &mut self.records[entry.record as usize];
            r.closed = Some(time);
            add_op(r, FileOp::Close);
        }
    }

    fn insert_fd(&mut self, node: usize, fd: i32, entry: FdEntry, time: Timestamp) {
        // A tracked fd reused without a close we saw: its file was closed by then at the latest.
        self.close_fd(node, fd, time);
        self.tables[node].insert(fd, entry);
    }

    fn find_by_path(&self, node: usize, path: &ByteString) -> Option<u32> {
        self.nodes[node]
            .files
            .iter()
            .rev()
            .map(|&r| r as u32)
            .find(|&r| self.records[r as usize].path == *path)
    }

    fn named_ofd(&mut self, path: ByteString, host: Option<ByteString>) -> u32 {
        self.ofds.push(Ofd::Named { path, host });
        (self.ofds.len() - 1) as u32
    }

    fn apply(&mut self, task: TaskId, node: usize, time: Timestamp, op: Op) {
        match op {
            Op::Fork { .. } => {
                let t = &self.tasks[task as usize];
                let Some(fp) = t.fork_parent.filter(|_| t.is_leader(task)) else {
                    return;
                };
                let parent = self.task_node[fp as usize];
                if parent == NONE || parent as usize == node {
                    return;
                }
                let parent = parent as usize;
                let inherited: Vec<(i32, FdEntry)> = self.tables[parent]
                    .iter()
                    .map(|(&fd, e)| (fd, FdEntry { record: NONE, ..*e }))
                    .collect();
                for (fd, e) in inherited {
                    self.tables[node].entry(fd).or_insert(e);
                }
            }
            Op::Exec { .. } => {
                let closing: Vec<i32> = self.tables[node]
                    .iter()
                    .filter(|(_, e)| e.cloexec)
                    .map(|(&fd, _)| fd)
                    .collect();
                for fd in closing {
                    self.close_fd(node, fd, time);
                }
            }
            Op::Snapshot(snap) => {
                let (rootfs, in_container) = {
                    let n = &self.nodes[node];
                    (n.rootfs.clone(), in_container_fs(n))
                };
                for fd in snap.fds {
                    let writable = fd.flags.is_none_or(|f| f & O_ACCMODE != 0);
                    if !writable || fd.target.as_bytes().first() != Some(&b'/') {
                        continue;
                    }
                    if self.tables[node].contains_key(&fd.fd) {
                        continue;
                    }
                    let (path, host) = split_host_path(fd.target, rootfs.as_ref(), in_container);
                    let ofd = self.named_ofd(path, host);
                    let cloexec = fd.flags.is_some_and(|f| f & O_CLOEXEC != 0);
                    self.tables[node].insert(
                        fd.fd,
                        FdEntry {
                            ofd,
                            record: NONE,
                            cloexec,
                        },
                    );
                }
            }
            Op::Open {
                fd,
                flags,
                created,
                path,
                cwd,
                ..
            } => {
                let (path, host) = self.resolve(node, task, time, path, cwd.as_ref());
                let id = self.new_record(node, task, path, host, Some(fd));
                let r = &mut self.records[id as usize];
                r.opened = Some(time);
                r.ops.push(FileOp::Open);
                if created {
                    r.ops.push(FileOp::Create);
                }
                self.ofds.push(Ofd::Record(id));
                let entry = FdEntry {
                    ofd: (self.ofds.len() - 1) as u32,
                    record: id,
                    cloexec: flags & O_CLOEXEC != 0,
                };
                self.insert_fd(node, fd, entry, time);
            }
            Op::Write {
                fd,
                count,
                first,
                last,
                path,
                ..
            } => {
                // Only names of files: the recorder also names pipes and sockets (`pipe:[..]`).
                let path = path.filter(|p| p.as_bytes().first() == Some(&b'/'));
                let id = match (self.record_for_fd(node, task, fd), path) {
                    (Some(id), _) => id,
                    (None, Some(path)) => {
                        let (path, host) = self.resolve(node, task, time, path, None);
                        let ofd = self.named_ofd(path, host);
                        let entry = FdEntry {
                            ofd,
                            record: NONE,
                            cloexec: false,
                        };
                        self.tables[node].insert(fd, entry);
                        match self.record_for_fd(node, task, fd) {
                            Some(id) => id,
                            None => return,
                        }
                    }
                    (None, None) => return,
                };
                let r = &mut self.records[id as usize];
                r.writes += count;
                r.first_write = Some(r.first_write.map_or(first, |f| f.min(first)));
                r.last_write = Some(r.last_write.map_or(last, |l| l.max(last)));
                add_op(r, FileOp::Write);
            }
            Op::Close { fd, .. } => self.close_fd(node, fd, time),
            Op::Dup {
                old_fd,
                new_fd,
                path,
                ..
            } => {
                if old_fd == new_fd {
                    return;
                }
                let path = path.filter(|p| p.as_bytes().first() == Some(&b'/'));
                let entry = match (self.tables[node].get(&old_fd).copied(), path) {
                    (Some(e), _) => e,
                    (None, Some(path)) => {
                        let (path, host) = self.resolve(node, task, time, path, None);
                        let e = FdEntry {
                            ofd: self.named_ofd(path, host),
                            record: NONE,
                            cloexec: false,
                        };
                        self.tables[node].insert(old_fd, e);
                        e
                    }
                    // dup2 onto a tracked fd closes it even when the source is not tracked.
                    (None, None) => return self.close_fd(node, new_fd, time),
                };
                let entry = FdEntry {
                    cloexec: false,
                    ..entry
                };
                self.insert_fd(node, new_fd, entry, time);
            }
            Op::Rename(r) => {
                let to = self.resolve(node, task, time, r.to, r.cwd.as_ref()).0;
                let from = self.resolve(node, task, time, r.from, r.cwd.as_ref());
                let id = match self.find_by_path(node, &from.0) {
                    Some(id) => id,
                    None => self.path_record(node, task, from, time),
                };
                let rec = &mut self.records[id as usize];
                rec.renamed_to = Some(to);
                add_op(rec, FileOp::Rename);
            }
            Op::Change {
                op, path, fd, cwd, ..
            } => {
                let by_fd = fd.and_then(|fd| self.record_for_fd(node, task, fd));
                let id = match (by_fd, path) {
                    (Some(id), _) => id,
                    (None, Some(path)) => {
                        let named = self.resolve(node, task, time, path, cwd.as_ref());
                        match self.find_by_path(node, &named.0) {
                            Some(id) => id,
                            None => self.path_record(node, task, named, time),
                        }
                    }
                    (None, None) => return,
                };
                add_op(&mut self.records[id as usize], op);
            }
            Op::Exit { .. } | Op::PivotRoot { .. } | Op::Container(_) | Op::Gap(_) => {}
        }
    }
}

/// Replays the file records of the tree's tasks into [`FileRecord`]s, appending each record's id
/// to its node's `files`. `task_node` maps every task to its node (or [`NONE`] outside the tree).
/// Returns the records and how many were closed at their task's exit. `progress` is called with
/// the number of records done now and then.
pub fn files(
    recs: Vec<Rec>,
    rec_task: &[TaskId],
    tasks: &[Task],
    task_node: &[u32],
    nodes: &mut [ProcessNode],
    progress: &mut dyn FnMut(u64),
) -> (Vec<FileRecord>, u64) {
    let mut f = Files {
        tasks,
        task_node,
        tables: (0..nodes.len()).map(|_| FxHashMap::default()).collect(),
        nodes,
        ofds: Vec::new(),
        records: Vec::new(),
        owners: Vec::new(),
    };
    let total = recs.len();
    for (i, rec) in recs.into_iter().enumerate() {
        if i % 65_536 == 0 {
            progress(i as u64);
        }
        let task = rec_task[i];
        if task == NONE {
            continue;
        }
        let node = task_node[task as usize];
        if node == NONE {
            continue;
        }
        f.apply(task, node as usize, rec.time, rec.op);
    }
    progress(total as u64);

    let mut closed_at_exit = 0;
    for (r, &owner) in f.records.iter_mut().zip(&f.owners) {
        if r.fd.is_none() || r.closed.is_some() {
            continue;
        }
        let task = &tasks[owner as usize];
        if let Some(exit) = task.exit.or(tasks[task.leader as usize].exit) {
            r.closed = Some(exit);
            r.closed_at_exit = true;
            closed_at_exit += 1;
        }
    }
    (f.records, closed_at_exit)
}

#[cfg(test)]
mod tests {
    use crate::event::Event;
    use crate::investigation::{FileOp, FileRecord, Investigation};
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
        if let crate::event::EventKind::Write(w) = &mut w.kind {
            w.path = Some("pipe:[17645]".into());
        }
        let mut named = write(21, 100, 100, 7, 1);
        if let crate::event::EventKind::Write(w) = &mut named.kind {
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
                .map(crate::text::ByteString::as_bytes),
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
        if let crate::event::EventKind::Open(o) = &mut cloexec.kind {
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
}
