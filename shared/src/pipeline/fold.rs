//! Step 1, `fold`: the event log becomes one [`Task`] record per task (kernel pid) life.
//!
//! The key of a task is its pid *and* its life: a fork of a pid, or an event of a pid whose task
//! already exited, starts a new task, so pid reuse within one boot gives two records, never one
//! merged record. Processes from the start-up snapshot start at their `/proc` start time.
//!
//! Sources disagree on time and on forks. Audit events carry millisecond times while the
//! process connector carries microseconds, so an exec seen by audit can sort just before the
//! fork of its own process. Worse, audit has no fork record: `godo`'s audit assembler *infers* a
//! fork when a pid first shows up (or shows up under a new parent right after a clone call) and
//! stamps it with the time of a clone call of the parent that it guesses made the child. On a
//! real host (`assets/demo.jsonl.zst`) that guess is often a thread's clone, up to seconds
//! earlier, or a re-parenting to a subreaper that is no fork at all. The connector, when it runs,
//! reports every fork exactly once with its real parent. So the fold trusts forks by source:
//!
//! * a **connector** fork of a pid whose live task came only from an audit fork adopts that task
//!   if it started at most [`AUDIT_FORK_SLACK`] earlier (the assembler's clone-matching window),
//!   and its time and parent replace the audit guesses; one whose live task came from a first
//!   sighting adopts it within [`FORK_ADOPT_WINDOW`]; one whose live task already had a connector
//!   fork is pid reuse after a lost exit (the connector never reports a fork twice);
//! * an **audit** fork of a pid whose live task had a connector fork adopts it when that task's
//!   parent has exited (the assembler takes a re-parenting to a subreaper for a fork) or when it
//!   follows within [`FORK_ADOPT_WINDOW`]; while the parent lives no re-parenting can have
//!   happened, so it is a new process whose predecessor's exit was lost. An audit fork of a
//!   snapshot process never starts a new one; otherwise it adopts a live task created within
//!   [`FORK_ADOPT_WINDOW`] (an offline audit import has no connector);
//! * a snapshot adopts a live task whose start lies within [`SNAPSHOT_SLACK`] of its `/proc`
//!   start time (which has clock tick resolution).
//!
//! The fold also records, for every [`Rec`], the task it belongs to (`rec_task`), so the `files`
//! step can attribute file events without repeating the pid bookkeeping.

use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::model::event::{Pid, ProcessInfo};
use crate::model::investigation::ExecRecord;
use crate::model::mounts::Mount;
use crate::model::text::ByteString;
use crate::model::time::Timestamp;
use crate::pipeline::input::{Op, Rec};

mod program;

pub use program::{Info, Inherited};
use program::{is_slash, record_exec};

/// Index of a task in [`Folded::tasks`].
pub type TaskId = u32;

/// "No task" / "no node" in the index vectors of the pipeline.
pub const NONE: u32 = u32::MAX;

/// How close (µs) a fork may follow the first sighting of its child for both to be one task.
pub const SAME_TASK_SLACK: i64 = 1_000;

/// How long (µs) after a fork-created or first-seen task a second fork report of its pid is
/// still taken as the same fork rather than pid reuse after a lost exit.
pub const FORK_ADOPT_WINDOW: i64 = 100_000;

/// How much earlier (µs) than the connector's fork an audit-inferred fork of the same child may
/// be stamped: `godo`'s assembler matches clone calls up to 10 s old.
pub const AUDIT_FORK_SLACK: i64 = 10_000_000;

/// How close (µs) a snapshot's start time must be to a live task's start for both to be one task.
pub const SNAPSHOT_SLACK: i64 = 20_000;

/// How a task first appeared in the log.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A fork (or clone) event created it.
    Fork,
    /// The start-up snapshot listed it.
    Snapshot,
    /// Another event (exec, file, exit) named a pid that had no live task.
    Seen,
}

/// One task life.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    /// Kernel task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// Fork time, snapshot start time, or first sighting.
    pub start: Timestamp,
    /// How it appeared.
    pub origin: Origin,
    /// The kernel's process connector reported its fork (the fork's time and parent are exact).
    pub kernel_fork: bool,
    /// The leader task of its process (itself for a leader).
    pub leader: TaskId,
    /// The task that forked it (process forks only): the tree edge.
    pub fork_parent: Option<TaskId>,
    /// Parent process id as the fork reported it (for threads the kernel reports the process's
    /// parent at that moment, which is init when that parent had died: see `repair`).
    pub ppid: Option<Pid>,
    /// Live parent process id from the snapshot or an audit exec: a fallback only.
    pub live_ppid: Option<Pid>,
    /// When it ended.
    pub exit: Option<Timestamp>,
    /// Exit status.
    pub exit_code: Option<i32>,
    /// Killing signal.
    pub signal: Option<i32>,
    /// When it did pivot_root (its `info.root` holds the new root).
    pub pivot: Option<Timestamp>,
    /// Program details; meaningful on leaders. Shared with the parent until the child execs
    /// (most forks exec right away, so copying the parent's arguments would be wasted).
    pub info: Rc<Info>,
    /// The fields of `info` held from the parent at fork (on leaders).
    pub inherited: Inherited,
    /// `info.comm` was set by an exec or the snapshot; until then the process's renames and the
    /// name its audit records carry replace the one it inherited.
    pub named: bool,
    /// Every exec of the process, in order (on leaders).
    pub execs: Vec<ExecRecord>,
}

impl Task {
    /// True for the leader task of a process.
    pub fn is_leader(&self, id: TaskId) -> bool {
        self.leader == id
    }

    /// The parent process id to show: fork-time first, live as a fallback.
    pub fn parent_pid(&self) -> Option<Pid> {
        self.ppid.or(self.live_ppid)
    }
}

/// Container metadata from the Docker API.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerMeta {
    /// Container name.
    pub name: Option<String>,
    /// Image name.
    pub image: Option<String>,
    /// Root filesystem as the host sees it (the storage driver's merged directory).
    pub rootfs: Option<ByteString>,
    /// The storage driver's upper directory (where the container's changed bytes are).
    pub upper: Option<ByteString>,
    /// The container's mounts (binds, volumes, tmpfs, Docker's own files); empty when unknown.
    pub mounts: Vec<Mount>,
}

/// What the fold makes of the log.
#[derive(Debug, Default)]
pub struct Folded {
    /// Every task life, in order of first appearance.
    pub tasks: Vec<Task>,
    /// For every input record, its task ([`NONE`] for container metadata and gaps).
    pub rec_task: Vec<TaskId>,
    /// Container metadata by container id.
    pub containers: FxHashMap<String, ContainerMeta>,
    /// For every exec record, the entry of its process's exec history it went to (two reports
    /// of one exec go to one entry): by record index.
    pub exec_entry: FxHashMap<usize, usize>,
}

struct Folder {
    tasks: Vec<Task>,
    current: FxHashMap<Pid, TaskId>,
    /// The empty `Info` new tasks share until they learn something.
    empty: Rc<Info>,
    /// For a process whose exec audit reported (coarse clock, sorted early) before the process
    /// connector's exact report of it: what it ran before, and the exact time of the exec. A
    /// child it forked before that time inherits the program it was forked from.
    before_exec: FxHashMap<TaskId, (Rc<Info>, Timestamp)>,
}

/// For each audit exec record whose process connector report follows within
/// [`AUDIT_CLOCK_SLACK`](crate::pipeline::AUDIT_CLOCK_SLACK): that report's exact time, by the
/// audit record's index. Audit stamps records with a coarse clock a tick (1–10 ms) behind, so
/// its exec can sort before forks the process made just before it. Two execs in a row can
/// both sort before the first one's connector report: reports pair in order.
fn exact_exec_times(recs: &[Rec]) -> FxHashMap<usize, Timestamp> {
    let slack = crate::pipeline::AUDIT_CLOCK_SLACK.as_micros();
    let mut pending: FxHashMap<Pid, std::collections::VecDeque<(usize, Timestamp)>> =
        FxHashMap::default();
    let mut exact = FxHashMap::default();
    for (i, rec) in recs.iter().enumerate() {
        let Op::Exec { pid, kernel, .. } = &rec.op else {
            continue;
        };
        let queue = pending.entry(*pid).or_default();
        if !*kernel {
            queue.push_back((i, rec.time));
            continue;
        }
        // Audit reports too old to be this one's are of execs the connector did not report.
        while let Some(&(audit, at)) = queue.front() {
            queue.pop_front();
            if (0..=slack).contains(&(rec.time.as_micros() - at.as_micros())) {
                exact.insert(audit, rec.time);
                break;
            }
        }
    }
    exact
}

impl Folder {
    fn live(&self, pid: Pid) -> Option<TaskId> {
        self.current
            .get(&pid)
            .copied()
            .filter(|&t| self.tasks[t as usize].exit.is_none())
    }

    fn new_task(&mut self, pid: Pid, tgid: Pid, start: Timestamp, origin: Origin) -> TaskId {
        let id = self.tasks.len() as TaskId;
        let leader = if pid == tgid {
            id
        } else {
            self.leader_for(tgid, start)
        };
        self.tasks.push(Task {
            pid,
            tgid,
            start,
            origin,
            kernel_fork: false,
            leader,
            fork_parent: None,
            ppid: None,
            live_ppid: None,
            exit: None,
            exit_code: None,
            signal: None,
            pivot: None,
            info: Rc::clone(&self.empty),
            inherited: Inherited::default(),
            named: false,
            execs: Vec::new(),
        });
        self.current.insert(pid, id);
        id
    }

    /// The live leader of `tgid`, or a leader task first seen now.
    fn leader_for(&mut self, tgid: Pid, time: Timestamp) -> TaskId {
        match self.live(tgid) {
            Some(t) => self.tasks[t as usize].leader,
            None => self.new_task(tgid, tgid, time, Origin::Seen),
        }
    }

    /// The live task of `pid`, or a new one first seen now (pid reuse after an exit).
    fn task_for(&mut self, pid: Pid, tgid: Pid, time: Timestamp) -> TaskId {
        match self.live(pid) {
            Some(t) => t,
            None => self.new_task(pid, tgid, time, Origin::Seen),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn fork(
        &mut self,
        time: Timestamp,
        parent_pid: Pid,
        parent_tgid: Pid,
        child_pid: Pid,
        child_tgid: Pid,
        child: Option<Box<ProcessInfo>>,
        kernel: bool,
    ) -> TaskId {
        let thread = child_pid != child_tgid;
        // A pid cannot be forked again while its task lives, so a live task of the child pid is
        // this same fork reported twice or inferred early (see the module documentation), unless
        // its exit was lost: the rules by source tell which.
        let adopted = self.live(child_pid).filter(|&t| {
            let task = &self.tasks[t as usize];
            let age = time.as_micros() - task.start.as_micros();
            let in_window = (-SAME_TASK_SLACK..=FORK_ADOPT_WINDOW).contains(&age);
            match (task.origin, kernel, task.kernel_fork) {
                // The snapshot saw it alive: a later fork report of its pid is bogus (a recorder
                // synthesising a fork for a process it met late), not a new process.
                (Origin::Snapshot, _, _) => age >= -SNAPSHOT_SLACK,
                // The connector reports each fork once: a second one is pid reuse.
                (_, true, true) => false,
                // An audit guess, confirmed by the connector.
                (Origin::Fork, true, false) => (-SAME_TASK_SLACK..=AUDIT_FORK_SLACK).contains(&age),
                // The connector saw this task's fork, so audit's inference is a late guess or a
                // re-parenting to a subreaper, which needs the parent gone. While the parent
                // lives, it is a new process whose predecessor's exit was lost.
                (_, false, true) => match task.fork_parent {
                    Some(p) => {
                        let parent_leader = self.tasks[p as usize].leader;
                        self.tasks[parent_leader as usize].exit.is_some() || in_window
                    }
                    None => in_window,
                },
                (Origin::Fork | Origin::Seen, _, false) => in_window,
            }
        });
        let id = match adopted {
            Some(t) => t,
            None => self.new_task(child_pid, child_tgid, time, Origin::Fork),
        };
        // Only the connector's report may change what an audit inference said of the fork.
        let authoritative = adopted.is_none() || (kernel && !self.tasks[id as usize].kernel_fork);
        let parent = self
            .current
            .get(&parent_pid)
            .or_else(|| self.current.get(&parent_tgid))
            .copied()
            .filter(|&p| p != id);
        let parent_info = match (thread, parent) {
            (false, Some(p)) => {
                let leader = self.tasks[p as usize].leader;
                // Forked before the parent's exec (whose audit report sorted first): the
                // program it was forked from.
                match self.before_exec.get(&leader) {
                    Some((before, exact)) if time < *exact => Some(Rc::clone(before)),
                    _ => Some(Rc::clone(&self.tasks[leader as usize].info)),
                }
            }
            _ => None,
        };
        let task = &mut self.tasks[id as usize];
        let seen_first = adopted.is_some() && task.origin == Origin::Seen;
        // The connector's time is exact; among audit guesses the earliest clone call is kept.
        let better_start = task.origin == Origin::Seen
            || (task.origin == Origin::Fork && !task.kernel_fork && (kernel || time < task.start));
        if better_start {
            task.origin = Origin::Fork;
            task.start = time;
        }
        if authoritative && task.origin == Origin::Fork {
            task.ppid = Some(parent_tgid);
            if !thread && parent.is_some() {
                task.fork_parent = parent;
            }
        } else {
            task.ppid.get_or_insert(parent_tgid);
            if !thread && task.fork_parent.is_none() {
                task.fork_parent = parent;
            }
        }
        task.kernel_fork |= kernel;
        if let (Some(parent), None) = (&parent_info, adopted) {
            task.info = Info::inherited(parent);
            task.inherited = Inherited::default();
            task.inherited.add(Inherited::known_in(parent));
            task.named = false;
        }
        if let Some(child) = child.filter(|_| !thread) {
            task.inherited.clear(Inherited::told_by(&child));
            // A task first seen through its own events (audit's coarse clock can sort the
            // child's exec before its fork): the program its exec named is newer than the
            // fork's view of the child. A task an earlier fork guess made holds only what it
            // inherited, which the fork's view replaces.
            if seen_first {
                Rc::make_mut(&mut task.info).apply_fork_view(*child);
            } else {
                Info::apply_shared(&mut task.info, *child);
            }
        }
        if let (Some(parent), true) = (&parent_info, seen_first) {
            // What neither its own events nor the fork's view told, it has from its parent.
            let filled = Rc::make_mut(&mut task.info).fill_from(parent);
            task.inherited.add(filled);
        }
        id
    }

    fn snapshot(&mut self, time: Timestamp, snap: &mut crate::model::event::Snapshot) -> TaskId {
        let start = snap.process.start_time.unwrap_or(time);
        let adopted = self.live(snap.pid).filter(|&t| {
            (self.tasks[t as usize].start.as_micros() - start.as_micros()).abs() <= SNAPSHOT_SLACK
        });
        let id = match adopted {
            Some(t) => t,
            None => self.new_task(snap.pid, snap.tgid, start, Origin::Snapshot),
        };
        let leader = self.tasks[id as usize].leader;
        self.tasks[id as usize].live_ppid = Some(snap.ppid);
        let info = std::mem::take(&mut snap.process);
        let lead = &mut self.tasks[leader as usize];
        lead.inherited.clear(Inherited::told_by(&info));
        lead.named |= info.comm.is_some();
        Info::apply_shared(&mut lead.info, info);
        for &tid in &snap.threads {
            let known = self
                .live(tid)
                .is_some_and(|t| self.tasks[t as usize].leader == leader);
            if !known {
                let t = self.new_task(tid, snap.tgid, start, Origin::Snapshot);
                let task = &mut self.tasks[t as usize];
                task.leader = leader;
                task.live_ppid = Some(snap.ppid);
            }
        }
        id
    }

    fn exit(
        &mut self,
        time: Timestamp,
        pid: Pid,
        code: Option<i32>,
        signal: Option<i32>,
    ) -> TaskId {
        let Some(&t) = self.current.get(&pid) else {
            return NONE;
        };
        let task = &mut self.tasks[t as usize];
        match task.exit {
            None => task.exit = Some(time),
            // A second report of the same exit (audit exit_group and the connector).
            Some(at) if (time.as_micros() - at.as_micros()).abs() <= SAME_TASK_SLACK => {}
            Some(_) => return NONE,
        }
        if task.exit_code.is_none() {
            task.exit_code = code;
        }
        if task.signal.is_none() {
            task.signal = signal;
        }
        t
    }
}

/// Folds the records (in time order) into tasks. Takes the process details out of exec and
/// snapshot records (the `files` step does not need them). `progress` is called with the number
/// of records done now and then.
pub fn fold(recs: &mut [Rec], progress: &mut dyn FnMut(u64)) -> Folded {
    let mut f = Folder {
        tasks: Vec::new(),
        current: FxHashMap::default(),
        empty: Rc::new(Info::default()),
        before_exec: FxHashMap::default(),
    };
    let exact_exec = exact_exec_times(recs);
    let mut rec_task = Vec::with_capacity(recs.len());
    let mut containers: FxHashMap<String, ContainerMeta> = FxHashMap::default();
    let mut exec_entry: FxHashMap<usize, usize> = FxHashMap::default();
    for (i, rec) in recs.iter_mut().enumerate() {
        if crate::presentation::throttle::progress_due(i as u64) {
            progress(i as u64);
        }
        let time = rec.time;
        let task = match &mut rec.op {
            Op::Fork {
                parent_pid,
                parent_tgid,
                child_pid,
                child_tgid,
                child,
                kernel,
            } => f.fork(
                time,
                *parent_pid,
                *parent_tgid,
                *child_pid,
                *child_tgid,
                child.take(),
                *kernel,
            ),
            Op::Exec {
                pid,
                tgid,
                ppid,
                info,
                kernel,
            } => {
                let t = f.task_for(*pid, *tgid, time);
                let leader = f.tasks[t as usize].leader;
                match exact_exec.get(&i) {
                    Some(&exact) if exact > time => {
                        let before = Rc::clone(&f.tasks[leader as usize].info);
                        f.before_exec.insert(leader, (before, exact));
                    }
                    // The exact report of the exec being waited for: from now on, the process
                    // runs the new program.
                    _ if *kernel
                        && f.before_exec
                            .get(&leader)
                            .is_some_and(|&(_, at)| at <= time) =>
                    {
                        f.before_exec.remove(&leader);
                    }
                    _ => {}
                }
                let task = &mut f.tasks[leader as usize];
                if ppid.is_some() {
                    task.live_ppid = *ppid;
                }
                task.inherited.clear(Inherited::told_by(info));
                task.named |= info.comm.is_some();
                let entry = record_exec(
                    &mut task.execs,
                    ExecRecord {
                        time,
                        exe: info.exe.clone(),
                        args: info.args.clone(),
                    },
                    *kernel,
                );
                exec_entry.insert(i, entry);
                Info::apply_shared(&mut task.info, std::mem::take(&mut **info));
                t
            }
            Op::Name {
                pid,
                tgid,
                comm,
                exe,
                from_audit,
            } => {
                let t = f.task_for(*pid, *tgid, time);
                let leader = f.tasks[t as usize].leader;
                let task = &mut f.tasks[leader as usize];
                // A thread renaming itself does not rename its process, and the name its exec
                // (or the snapshot) gave stays: the log keeps every rename, and the program that
                // ran is what names a process in the tree. A process that never exec'd is named
                // by its latest rename or audit record.
                let take_comm = (*from_audit || pid == tgid) && !task.named;
                let take_exe =
                    *from_audit && (task.info.exe.is_none() || task.inherited.has(Inherited::EXE));
                let comm = comm.take().filter(|_| take_comm);
                let exe = exe.take().filter(|_| take_exe);
                if comm.is_some() || exe.is_some() {
                    task.inherited.clear(
                        if comm.is_some() { Inherited::COMM } else { 0 }
                            | if exe.is_some() { Inherited::EXE } else { 0 },
                    );
                    Info::apply_shared(
                        &mut task.info,
                        ProcessInfo {
                            comm,
                            exe,
                            ..ProcessInfo::default()
                        },
                    );
                }
                t
            }
            Op::Exit {
                pid, code, signal, ..
            } => f.exit(time, *pid, *code, *signal),
            Op::Snapshot(snap) => f.snapshot(time, snap),
            Op::PivotRoot {
                pid,
                tgid,
                new_root,
            } => {
                let t = f.task_for(*pid, *tgid, time);
                let leader = f.tasks[t as usize].leader;
                let task = &mut f.tasks[leader as usize];
                // runc does `chdir(rootfs); pivot_root(".", ".")`, and audit then names the
                // directory relative to the new root ("/"): the rootfs is the directory the
                // process was in, when that is its own (read from `/proc`, not inherited from
                // runc at the fork). Else the container's metadata names it (see `repair`).
                let useful = |p: &ByteString| p.as_bytes().first() == Some(&b'/') && !is_slash(p);
                let root = if useful(new_root) {
                    Some(std::mem::take(new_root))
                } else if task.inherited.has(Inherited::CWD) {
                    None
                } else {
                    task.info.cwd.clone().filter(useful)
                };
                if let Some(root) = root {
                    Rc::make_mut(&mut task.info).root = Some(root);
                    task.inherited.clear(Inherited::ROOT);
                }
                task.pivot.get_or_insert(time);
                t
            }
            Op::Open { pid, tgid, .. }
            | Op::Write { pid, tgid, .. }
            | Op::Close { pid, tgid, .. }
            | Op::Dup { pid, tgid, .. }
            | Op::CloseRange { pid, tgid, .. }
            | Op::Change { pid, tgid, .. } => f.task_for(*pid, *tgid, time),
            Op::Rename(r) => f.task_for(r.pid, r.tgid, time),
            Op::Container(c) => {
                let meta = containers.entry(std::mem::take(&mut c.id)).or_default();
                if c.name.is_some() {
                    meta.name = c.name.take();
                }
                if c.image.is_some() {
                    meta.image = c.image.take();
                }
                if c.rootfs.is_some() {
                    meta.rootfs = c.rootfs.take();
                }
                if c.upper_dir.is_some() {
                    meta.upper = c.upper_dir.take();
                }
                if !c.mounts.is_empty() {
                    meta.mounts = std::mem::take(&mut c.mounts);
                }
                NONE
            }
            Op::Gap(_) => NONE,
        };
        rec_task.push(task);
    }
    progress(recs.len() as u64);
    Folded {
        tasks: f.tasks,
        rec_task,
        containers,
        exec_entry,
    }
}

#[cfg(test)]
mod tests;
