//! Step 1, `fold`: the event log becomes one [`Task`] record per task (kernel pid) life.
//!
//! The key of a task is its pid *and* its life: a fork of a pid, or an event of a pid whose task
//! already exited, starts a new task, so pid reuse within one boot gives two records, never one
//! merged record. Processes from the start-up snapshot start at their `/proc` start time.
//!
//! Sources disagree slightly on time: audit events carry millisecond times while the process
//! connector carries microseconds, so an exec seen by audit can sort just before the fork of its
//! own process, and audit's clone record (stamped at syscall entry) can precede the connector's
//! fork of the same child by many milliseconds. A fork therefore adopts a live task of the same
//! pid created up to [`FORK_ADOPT_WINDOW`] earlier (a pid cannot be forked twice while its task
//! lives) instead of starting a new one, and a snapshot adopts a live
//! task whose start lies within [`SNAPSHOT_SLACK`] of its `/proc` start time (which has clock
//! tick resolution).
//!
//! The fold also records, for every [`Rec`], the task it belongs to (`rec_task`), so the `files`
//! step can attribute file events without repeating the pid bookkeeping.

use rustc_hash::FxHashMap;

use crate::event::{DockerRole, Pid, ProcessInfo};
use crate::pipeline::input::{Op, Rec};
use crate::text::ByteString;
use crate::time::Timestamp;

/// Index of a task in [`Folded::tasks`].
pub type TaskId = u32;

/// "No task" / "no node" in the index vectors of the pipeline.
pub const NONE: u32 = u32::MAX;

/// How close (µs) a fork may follow the first sighting of its child for both to be one task.
pub const SAME_TASK_SLACK: i64 = 1_000;

/// How long (µs) after a fork-created or first-seen task a second fork report of its pid is
/// still taken as the same fork rather than pid reuse after a lost exit.
pub const FORK_ADOPT_WINDOW: i64 = 100_000;

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

/// What is known of a process's program; kept on the leader task of each process.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Info {
    /// `comm`.
    pub comm: Option<ByteString>,
    /// Executable path.
    pub exe: Option<ByteString>,
    /// Arguments.
    pub args: Vec<ByteString>,
    /// Working directory.
    pub cwd: Option<ByteString>,
    /// Root directory as the host sees it.
    pub root: Option<ByteString>,
    /// Docker container id.
    pub container_id: Option<String>,
    /// The Docker daemon.
    pub star: bool,
    /// Its part in Docker.
    pub role: Option<DockerRole>,
}

fn is_slash(root: &ByteString) -> bool {
    root.as_bytes() == b"/"
}

impl Info {
    /// What a forked child has of its parent before it execs: everything but the Docker role,
    /// which belongs to the program the parent was started as.
    pub fn inherited(&self) -> Info {
        Info {
            star: false,
            role: None,
            ..self.clone()
        }
    }

    /// Takes what `p` knows: every field it has replaces ours, except that a root of `/` (what
    /// `/proc` shows for a process inside another mount namespace) never hides a known rootfs.
    pub fn apply(&mut self, p: ProcessInfo) {
        if p.comm.is_some() {
            self.comm = p.comm;
        }
        if p.exe.is_some() {
            self.exe = p.exe;
        }
        if !p.args.is_empty() {
            self.args = p.args;
        }
        if p.cwd.is_some() {
            self.cwd = p.cwd;
        }
        if let Some(root) = p.root {
            let hides_rootfs = is_slash(&root) && self.root.as_ref().is_some_and(|r| !is_slash(r));
            if !hides_rootfs {
                self.root = Some(root);
            }
        }
        if p.container_id.is_some() {
            self.container_id = p.container_id;
        }
        self.star |= p.star;
        if p.role.is_some() {
            self.role = p.role;
        }
    }

    /// Applies a fork's view of a child to a task already seen through the child's own events:
    /// the program (comm, exe, args) that an exec already named is kept, since the fork's view
    /// may have been read before that exec; the rest is applied as by [`Info::apply`].
    pub fn apply_fork_view(&mut self, p: ProcessInfo) {
        let (comm, exe, args) = (
            self.comm.take(),
            self.exe.take(),
            std::mem::take(&mut self.args),
        );
        self.apply(p);
        if comm.is_some() {
            self.comm = comm;
        }
        if exe.is_some() {
            self.exe = exe;
        }
        if !args.is_empty() {
            self.args = args;
        }
    }
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
    /// Program details; meaningful on leaders.
    pub info: Info,
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
}

struct Folder {
    tasks: Vec<Task>,
    current: FxHashMap<Pid, TaskId>,
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
            leader,
            fork_parent: None,
            ppid: None,
            live_ppid: None,
            exit: None,
            exit_code: None,
            signal: None,
            pivot: None,
            info: Info::default(),
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

    fn fork(
        &mut self,
        time: Timestamp,
        parent_pid: Pid,
        parent_tgid: Pid,
        child_pid: Pid,
        child_tgid: Pid,
        child: Option<Box<ProcessInfo>>,
    ) -> TaskId {
        let thread = child_pid != child_tgid;
        // A pid cannot be forked again while its task lives, so a live task of the child pid is
        // this same fork reported twice (audit's clone, stamped at syscall entry, can precede the
        // connector's fork by many milliseconds), or the child seen by an event that sorted just
        // before its fork. Only a task much older than the fork (its exit was lost) is not.
        let adopted = self.live(child_pid).filter(|&t| {
            let task = &self.tasks[t as usize];
            let age = time.as_micros() - task.start.as_micros();
            match task.origin {
                // The snapshot saw it alive: a later fork report of its pid is bogus (a recorder
                // synthesising a fork for a process it met late), not a new process.
                Origin::Snapshot => age >= -SNAPSHOT_SLACK,
                Origin::Fork | Origin::Seen => {
                    (-SAME_TASK_SLACK..=FORK_ADOPT_WINDOW).contains(&age)
                }
            }
        });
        let id = match adopted {
            Some(t) => t,
            None => self.new_task(child_pid, child_tgid, time, Origin::Fork),
        };
        let parent = self
            .current
            .get(&parent_pid)
            .or_else(|| self.current.get(&parent_tgid))
            .copied()
            .filter(|&p| p != id);
        let inherited = match (thread, parent, adopted) {
            (false, Some(p), None) => {
                let leader = self.tasks[p as usize].leader;
                Some(self.tasks[leader as usize].info.inherited())
            }
            _ => None,
        };
        let task = &mut self.tasks[id as usize];
        if task.origin == Origin::Seen {
            task.origin = Origin::Fork;
            task.start = time;
        } else if task.origin == Origin::Fork && time < task.start {
            task.start = time;
        }
        task.ppid.get_or_insert(parent_tgid);
        if !thread && task.fork_parent.is_none() {
            task.fork_parent = parent;
        }
        if let Some(info) = inherited {
            task.info = info;
        }
        if let Some(child) = child.filter(|_| !thread) {
            // An adopted task was seen first: audit's coarse clock can sort the child's exec
            // before its fork, and the program the exec named is newer than the fork's view.
            if adopted.is_some() {
                task.info.apply_fork_view(*child);
            } else {
                task.info.apply(*child);
            }
        }
        id
    }

    fn snapshot(&mut self, time: Timestamp, snap: &mut crate::event::Snapshot) -> TaskId {
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
        self.tasks[leader as usize].info.apply(info);
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
    };
    let mut rec_task = Vec::with_capacity(recs.len());
    let mut containers: FxHashMap<String, ContainerMeta> = FxHashMap::default();
    for (i, rec) in recs.iter_mut().enumerate() {
        if i % 65_536 == 0 {
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
            } => f.fork(
                time,
                *parent_pid,
                *parent_tgid,
                *child_pid,
                *child_tgid,
                child.take(),
            ),
            Op::Exec {
                pid,
                tgid,
                ppid,
                info,
            } => {
                let t = f.task_for(*pid, *tgid, time);
                let leader = f.tasks[t as usize].leader;
                let task = &mut f.tasks[leader as usize];
                if ppid.is_some() {
                    task.live_ppid = *ppid;
                }
                task.info.apply(std::mem::take(&mut **info));
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
                // runc does `chdir(rootfs); pivot_root(".", ".")`: when the recorder could only
                // say "/" (or a relative name), the rootfs is the directory the process was in.
                let useful = |p: &ByteString| p.as_bytes().first() == Some(&b'/') && !is_slash(p);
                let root = if useful(new_root) {
                    Some(std::mem::take(new_root))
                } else {
                    task.info.cwd.clone().filter(useful)
                };
                if let Some(root) = root {
                    task.info.root = Some(root);
                    task.pivot.get_or_insert(time);
                }
                t
            }
            Op::Open { pid, tgid, .. }
            | Op::Write { pid, tgid, .. }
            | Op::Close { pid, tgid, .. }
            | Op::Dup { pid, tgid, .. }
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testkit::*;

    fn run(events: Vec<crate::event::Event>) -> (Vec<Rec>, Folded) {
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
            fork(10_000, 100, 100, 500),
            fork(22_000, 100, 100, 500),
            exec(23_000, 500, &["/usr/bin/containerd-shim-runc-v2"]),
        ]);
        let tasks = tasks_of(&folded, 500);
        assert_eq!(tasks.len(), 1, "{tasks:#?}");
        assert_eq!(tasks[0].start, t(10_000));
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
        if let crate::event::EventKind::Snapshot(s) = &mut snap.kind {
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
        if let crate::event::EventKind::Exit(e) = &mut second.kind {
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
}
