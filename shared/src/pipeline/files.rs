//! Step 6, `files`: what the processes of the tree did to files, as [`FileRecord`]s.
//!
//! Processes use descriptors, not names, so the step replays each process's descriptor table
//! with the kernel's rules of [`crate::model::fds`] (the same the recorder follows): an open adds
//! `fd → file`, a write looks the fd up, a close removes it, a fork copies the parent's table,
//! an exec closes the close-on-exec fds; descriptors from the start-up snapshot
//! (`/proc/PID/fd` of processes that existed before the recorder) enter the table too. When a
//! write, close or dup names its file (the recorder resolved it, in the order the kernel's
//! streams describe), that name wins over the replay's, which goes by time.
//!
//! A record is one use of one file by one process: from the open (or the first use of an
//! inherited or snapshot descriptor) to the close of the last descriptor that refers to it. A
//! record never closed takes its task's exit time (`closed_at_exit`, counted in
//! `Repairs::close_from_exit`). Renames, unlinks, truncates, chmods and chowns by name are added
//! to the process's latest record of that path, or get a record of their own whose `opened` and
//! `closed` are both the time of the operation. Relative paths are resolved against the event's
//! cwd, else the process's; [`crate::pipeline::mounts`] maps the path through the container's
//! mounts and rootfs to its host path, upper-directory path and kind of filesystem.

use rustc_hash::FxHashMap;

use crate::model::event::DockerRole;
use crate::model::fds::{FdTable, O_ACCMODE, O_CLOEXEC, Slot};
use crate::model::investigation::{FileOp, FileRecord, ProcessNode};
use crate::model::text::ByteString;
use crate::model::time::Timestamp;
use crate::pipeline::fold::{ContainerMeta, Folded, NONE, Task, TaskId};
use crate::pipeline::input::{Op, Rec};
use crate::pipeline::mounts::{ContainerFs, Location, View, locate};
use crate::pipeline::paths::{absolute, is_rootfs, strip_rootfs};

/// An open file (the kernel's open file description) that several fds and processes may share:
/// what the process tables of [`crate::model::fds`] point to here.
#[derive(Debug)]
enum Ofd {
    /// Opened by a process of the tree: its record holds the path and where the file is.
    Record(u32),
    /// Known from a snapshot fd or a path the recorder resolved.
    Named { path: ByteString, at: Location },
}

struct Files<'a> {
    tasks: &'a [Task],
    task_node: &'a [u32],
    containers: &'a FxHashMap<String, ContainerMeta>,
    nodes: &'a mut [ProcessNode],
    /// Each node's descriptors, by the kernel's rules; each refers to an index in `ofds`.
    tables: Vec<FdTable<u32>>,
    ofds: Vec<Ofd>,
    /// The record of each (node, open file) the node has used.
    uses: FxHashMap<(u32, u32), u32>,
    records: Vec<FileRecord>,
    owners: Vec<TaskId>,
    /// Each node's program now: an index into its `execs` (`None` before its first exec).
    program: Vec<Option<usize>>,
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

/// Only names of files: the recorder also names pipes and sockets (`pipe:[..]`).
fn file_name(path: Option<ByteString>) -> Option<ByteString> {
    path.filter(|p| p.as_bytes().first() == Some(&b'/'))
}

impl Files<'_> {
    fn new_record(
        &mut self,
        node: usize,
        task: TaskId,
        path: ByteString,
        at: Location,
        fd: Option<i32>,
    ) -> u32 {
        let id = self.records.len() as u32;
        self.records.push(FileRecord {
            path,
            host_path: at.host,
            upper_path: at.upper,
            fs: at.fs,
            node,
            pid: self.tasks[task as usize].pid,
            fd,
            exec: self.program[node],
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
        (path, at): (ByteString, Location),
        time: Timestamp,
    ) -> u32 {
        let id = self.new_record(node, task, path, at, None);
        let r = &mut self.records[id as usize];
        r.opened = Some(time);
        r.closed = Some(time);
        id
    }

    /// Where the file `path` (absolute, as the process of `node` saw it) is. A process in a
    /// container (or with a root filesystem of its own) sees its rootfs and its container's
    /// mounts; a process on the host, and one that had not yet done pivot_root (runc init
    /// preparing the container), sees the host's filesystem, where its paths are host paths
    /// already.
    fn location(&self, node: usize, before_pivot: bool, path: &ByteString) -> Location {
        let n = &self.nodes[node];
        let in_container = in_container_fs(n);
        if before_pivot || !(in_container || is_rootfs(n.rootfs.as_ref())) {
            return locate(View::Host, path);
        }
        let meta = n
            .container_id
            .as_ref()
            .filter(|_| in_container)
            .and_then(|cid| self.containers.get(cid));
        let fs = ContainerFs {
            rootfs: n.rootfs.as_ref(),
            upper: meta.and_then(|m| m.upper.as_ref()),
            mounts: meta.map_or(&[], |m| &m.mounts),
        };
        locate(View::Container(fs), path)
    }

    /// The absolute path of `path` and where the file is, for `task` at `time`.
    fn resolve(
        &self,
        node: usize,
        task: TaskId,
        time: Timestamp,
        path: ByteString,
        cwd: Option<&ByteString>,
    ) -> (ByteString, Location) {
        let abs = absolute(path, cwd.or(self.nodes[node].cwd.as_ref()));
        let leader = self.tasks[task as usize].leader;
        let before_pivot = self.tasks[leader as usize]
            .pivot
            .is_some_and(|pivot| time < pivot);
        let at = self.location(node, before_pivot, &abs);
        (abs, at)
    }

    fn ofd_path(&self, ofd: u32) -> &ByteString {
        match &self.ofds[ofd as usize] {
            Ofd::Record(r) => &self.records[*r as usize].path,
            Ofd::Named { path, .. } => path,
        }
    }

    fn named_ofd(&mut self, path: ByteString, at: Location) -> u32 {
        self.ofds.push(Ofd::Named { path, at });
        (self.ofds.len() - 1) as u32
    }

    /// The open file behind `fd` of `node`. The recorder resolved the path of the fd's uses
    /// with the audit stream's order (a child's table as its parent's stood at the clone call);
    /// this replay goes by time, where a parent's syscalls around a fork can sort either side
    /// of it. So when the event names the file, that name wins over a different one in this
    /// table, and names an fd this table does not know.
    fn ofd_for_use(
        &mut self,
        node: usize,
        task: TaskId,
        time: Timestamp,
        fd: i32,
        recorded: Option<ByteString>,
    ) -> Option<u32> {
        let known = self.tables[node].file(fd).copied();
        let Some(path) = file_name(recorded) else {
            return known;
        };
        let (path, at) = self.resolve(node, task, time, path, None);
        if known.is_some_and(|ofd| *self.ofd_path(ofd) == path) {
            return known;
        }
        let ofd = self.named_ofd(path, at);
        let cloexec = self.tables[node].get(fd).is_some_and(|s| s.cloexec);
        self.tables[node].open(fd, cloexec, ofd);
        Some(ofd)
    }

    /// This process's record of the open file `ofd`, created on its first use (of an inherited,
    /// snapshot or recorder-named fd).
    fn record_of(&mut self, node: usize, task: TaskId, ofd: u32, fd: i32) -> u32 {
        if let Some(&r) = self.uses.get(&(node as u32, ofd)) {
            return r;
        }
        let (path, at) = match &self.ofds[ofd as usize] {
            Ofd::Record(r) => {
                let r = &self.records[*r as usize];
                let at = Location {
                    host: r.host_path.clone(),
                    upper: r.upper_path.clone(),
                    fs: r.fs,
                };
                (r.path.clone(), at)
            }
            Ofd::Named { path, at } => (path.clone(), at.clone()),
        };
        let id = self.new_record(node, task, path, at, Some(fd));
        self.uses.insert((node as u32, ofd), id);
        id
    }

    /// Descriptors of `node` the kernel closed: a file's record is closed when no descriptor of
    /// the process refers to it any more (after `dup2(3, 1); close(3)` writes through fd 1
    /// still belong to the file).
    fn closed(&mut self, node: usize, slots: impl IntoIterator<Item = Slot<u32>>, time: Timestamp) {
        for slot in slots {
            let Some(ofd) = slot.file else { continue };
            if self.tables[node]
                .slots()
                .iter()
                .any(|s| s.file == Some(ofd))
            {
                continue;
            }
            if let Some(r) = self.uses.remove(&(node as u32, ofd)) {
                let r = &mut self.records[r as usize];
                r.closed = Some(time);
                add_op(r, FileOp::Close);
            }
        }
    }

    fn find_by_path(&self, node: usize, path: &ByteString) -> Option<u32> {
        self.nodes[node]
            .files
            .iter()
            .rev()
            .map(|&r| r as u32)
            .find(|&r| self.records[r as usize].path == *path)
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
                let parent = self.tables[parent as usize].fork();
                if self.tables[node].is_empty() {
                    self.tables[node] = parent;
                } else {
                    // The child's own syscalls sorted before its fork: they stand; the parent's
                    // other descriptors come in beside them.
                    for s in parent.slots() {
                        if self.tables[node].get(s.fd).is_none() {
                            if let Some(ofd) = s.file {
                                self.tables[node].open(s.fd, s.cloexec, ofd);
                            }
                        }
                    }
                }
            }
            Op::Exec { .. } => {
                let closed = self.tables[node].exec();
                self.closed(node, closed, time);
            }
            Op::Snapshot(snap) => {
                let rootfs = self.nodes[node].rootfs.clone();
                for fd in snap.fds {
                    let writable = fd.flags.is_none_or(|f| f & O_ACCMODE != 0);
                    if !writable || fd.target.as_bytes().first() != Some(&b'/') {
                        continue;
                    }
                    if self.tables[node].get(fd.fd).is_some() {
                        continue;
                    }
                    // A running process's fd: it did pivot_root long ago.
                    let path = strip_rootfs(fd.target, rootfs.as_ref());
                    let at = self.location(node, false, &path);
                    let ofd = self.named_ofd(path, at);
                    let cloexec = fd.flags.is_some_and(|f| f & O_CLOEXEC != 0);
                    self.tables[node].open(fd.fd, cloexec, ofd);
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
                let (path, at) = self.resolve(node, task, time, path, cwd.as_ref());
                let id = self.new_record(node, task, path, at, Some(fd));
                let r = &mut self.records[id as usize];
                r.opened = Some(time);
                r.ops.push(FileOp::Open);
                if created {
                    r.ops.push(FileOp::Create);
                }
                self.ofds.push(Ofd::Record(id));
                let ofd = (self.ofds.len() - 1) as u32;
                self.uses.insert((node as u32, ofd), id);
                // A tracked fd reused without a close we saw: its file was closed by then.
                let replaced = self.tables[node].open(fd, flags & O_CLOEXEC != 0, ofd);
                self.closed(node, replaced, time);
            }
            Op::Write {
                fd,
                count,
                first,
                last,
                path,
                ..
            } => {
                let Some(ofd) = self.ofd_for_use(node, task, time, fd, path) else {
                    return;
                };
                let id = self.record_of(node, task, ofd, fd);
                let r = &mut self.records[id as usize];
                r.writes += count;
                r.first_write = Some(r.first_write.map_or(first, |f| f.min(first)));
                r.last_write = Some(r.last_write.map_or(last, |l| l.max(last)));
                add_op(r, FileOp::Write);
            }
            Op::Close { fd, .. } => {
                let closed = self.tables[node].close(fd);
                self.closed(node, closed, time);
            }
            Op::CloseRange {
                first,
                last,
                cloexec,
                ..
            } => {
                let closed = self.tables[node].close_range(first, last, cloexec);
                self.closed(node, closed, time);
            }
            Op::Dup {
                old_fd,
                new_fd,
                path,
                cloexec,
                ..
            } => {
                if old_fd == new_fd {
                    return;
                }
                // The recorder's name of the old fd, when this table does not know it.
                self.ofd_for_use(node, task, time, old_fd, path);
                let duped = self.tables[node].dup(old_fd, new_fd, cloexec);
                self.closed(node, duped.replaced, time);
            }
            Op::Rename(r) => {
                let (to, to_at) = self.resolve(node, task, time, r.to, r.cwd.as_ref());
                let from = self.resolve(node, task, time, r.from, r.cwd.as_ref());
                let id = match self.find_by_path(node, &from.0) {
                    Some(id) => id,
                    None => self.path_record(node, task, from, time),
                };
                let rec = &mut self.records[id as usize];
                rec.renamed_to = Some(to);
                rec.renamed_host_path = to_at.host;
                rec.renamed_upper_path = to_at.upper;
                add_op(rec, FileOp::Rename);
            }
            Op::Change {
                op, path, fd, cwd, ..
            } => {
                let by_fd = match fd {
                    Some(fd) => self
                        .ofd_for_use(node, task, time, fd, path.clone())
                        .map(|ofd| self.record_of(node, task, ofd, fd)),
                    None => None,
                };
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
            Op::Exit { .. }
            | Op::PivotRoot { .. }
            | Op::Name { .. }
            | Op::Container(_)
            | Op::Gap(_) => {}
        }
    }
}

/// Replays the file records of the tree's tasks into [`FileRecord`]s, appending each record's id
/// to its node's `files`. `folded` gives each record's task, each exec's entry, the tasks, and
/// each container's upper directory and mounts; `task_node` maps every task to its node (or
/// [`NONE`] outside the tree). Returns the records and how many were closed at their task's
/// exit. `progress` is called with the number of records done now and then.
pub fn files(
    recs: Vec<Rec>,
    folded: &Folded,
    task_node: &[u32],
    nodes: &mut [ProcessNode],
    progress: &mut dyn FnMut(u64),
) -> (Vec<FileRecord>, u64) {
    let Folded {
        tasks,
        rec_task,
        containers,
        exec_entry,
    } = folded;
    let mut f = Files {
        tasks,
        task_node,
        containers,
        tables: vec![FdTable::new(); nodes.len()],
        program: vec![None; nodes.len()],
        nodes,
        ofds: Vec::new(),
        uses: FxHashMap::default(),
        records: Vec::new(),
        owners: Vec::new(),
    };
    let total = recs.len();
    for (i, rec) in recs.into_iter().enumerate() {
        if crate::presentation::throttle::progress_due(i as u64) {
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
        if let Some(&entry) = exec_entry.get(&i) {
            // The program the node runs from this exec on. A late second report of an earlier
            // exec (see `fold::record_exec`) does not take the node back to it.
            let program = &mut f.program[node as usize];
            *program = Some(program.map_or(entry, |p| p.max(entry)));
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
mod tests;
