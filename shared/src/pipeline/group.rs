//! Step 2, `group`: tasks become processes (thread groups, keyed by tgid), each with its threads, its
//! parent process and its child processes.
//!
//! A process is its leader task's life; threads join the leader that was alive when they
//! appeared (the fold decided that). The parent edge comes from fork lineage: the process of the
//! task that forked the leader. Only when no fork was seen (a process from the start-up snapshot,
//! or one first seen by an exec) does the live ppid decide: the process with that pid that had
//! started by then, the latest such.

use rustc_hash::FxHashMap;

use crate::model::event::Pid;
use crate::pipeline::fold::{NONE, Task, TaskId};

/// Index of a process in [`Grouped::procs`].
pub type ProcId = u32;

/// One process of the whole log (in or out of the Docker tree).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Proc {
    /// Its leader task.
    pub leader: TaskId,
    /// Its other tasks, in order of appearance.
    pub threads: Vec<TaskId>,
    /// Its parent process, from fork lineage (live ppid as a fallback).
    pub parent: Option<ProcId>,
    /// Its child processes, by start time.
    pub children: Vec<ProcId>,
}

/// Processes and the map from task to process.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grouped {
    /// Every process.
    pub procs: Vec<Proc>,
    /// For every task, its process.
    pub task_proc: Vec<ProcId>,
}

/// Groups tasks into processes and links parents and children.
pub fn group(tasks: &[Task]) -> Grouped {
    let mut procs: Vec<Proc> = Vec::new();
    let mut task_proc = vec![NONE; tasks.len()];
    for (id, task) in tasks.iter().enumerate() {
        if task.is_leader(id as TaskId) {
            task_proc[id] = procs.len() as ProcId;
            procs.push(Proc {
                leader: id as TaskId,
                ..Proc::default()
            });
        }
    }
    for (id, task) in tasks.iter().enumerate() {
        if !task.is_leader(id as TaskId) {
            let p = task_proc[task.leader as usize];
            task_proc[id] = p;
            procs[p as usize].threads.push(id as TaskId);
        }
    }

    // Processes by pid, for the live-ppid fallback.
    let mut by_pid: FxHashMap<Pid, Vec<ProcId>> = FxHashMap::default();
    for (p, proc) in procs.iter().enumerate() {
        by_pid
            .entry(tasks[proc.leader as usize].pid)
            .or_default()
            .push(p as ProcId);
    }
    for list in by_pid.values_mut() {
        list.sort_by_key(|&p| tasks[procs[p as usize].leader as usize].start);
    }

    for p in 0..procs.len() {
        let leader = &tasks[procs[p].leader as usize];
        let parent = match leader.fork_parent {
            Some(fp) => Some(task_proc[fp as usize]),
            None => leader.parent_pid().and_then(|ppid| {
                by_pid.get(&ppid).and_then(|list| {
                    list.iter()
                        .rev()
                        .find(|&&q| tasks[procs[q as usize].leader as usize].start <= leader.start)
                        .copied()
                })
            }),
        };
        procs[p].parent = parent.filter(|&q| q as usize != p);
    }
    for p in 0..procs.len() {
        if let Some(parent) = procs[p].parent {
            procs[parent as usize].children.push(p as ProcId);
        }
    }
    let starts: Vec<_> = procs
        .iter()
        .map(|p| tasks[p.leader as usize].start)
        .collect();
    for proc in &mut procs {
        proc.children.sort_by_key(|&c| (starts[c as usize], c));
    }
    Grouped { procs, task_proc }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::fold::fold;
    use crate::pipeline::testkit::*;

    fn grouped(events: Vec<crate::model::event::Event>) -> (Vec<Task>, Grouped) {
        let mut recs = recs_of(events);
        let folded = fold(&mut recs, &mut |_| {});
        let g = group(&folded.tasks);
        (folded.tasks, g)
    }

    fn proc_of(tasks: &[Task], g: &Grouped, pid: Pid) -> usize {
        g.procs
            .iter()
            .position(|p| tasks[p.leader as usize].pid == pid)
            .unwrap()
    }

    #[test]
    fn threads_join_their_process_and_children_follow_fork_lineage() {
        let (tasks, g) = grouped(vec![
            snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
            fork(10, 100, 100, 200),
            thread(11, 100, 200, 201),
            thread(12, 100, 200, 202),
            fork(13, 201, 200, 300),
        ]);
        assert_eq!(g.procs.len(), 3);
        let p200 = proc_of(&tasks, &g, 200);
        let threads: Vec<Pid> = g.procs[p200]
            .threads
            .iter()
            .map(|&t| tasks[t as usize].pid)
            .collect();
        assert_eq!(threads, vec![201, 202]);
        let p300 = proc_of(&tasks, &g, 300);
        assert_eq!(
            g.procs[p300].parent,
            Some(p200 as ProcId),
            "a fork from a thread belongs to the thread's process"
        );
        assert_eq!(
            g.procs[proc_of(&tasks, &g, 100)].children,
            vec![p200 as ProcId]
        );
    }

    #[test]
    fn an_orphan_adopted_by_init_stays_under_its_fork_parent() {
        let (tasks, g) = grouped(vec![
            snapshot(1, 1, 0, &["/sbin/init"]),
            snapshot(2, 100, 1, &["/usr/bin/containerd"]),
            fork(10, 100, 100, 200),
            fork(11, 200, 200, 300),
            exit(12, 200),
            // The kernel now reports pid 1 as 300's parent; the exec's live ppid says so too.
            with_ppid(exec(13, 300, &["/usr/bin/containerd-shim-runc-v2"]), 1),
        ]);
        let p300 = proc_of(&tasks, &g, 300);
        assert_eq!(
            g.procs[p300].parent,
            Some(proc_of(&tasks, &g, 200) as ProcId)
        );
    }

    #[test]
    fn the_live_ppid_is_a_fallback_that_respects_pid_reuse() {
        let (tasks, g) = grouped(vec![
            fork(10, 1, 1, 100),
            exit(20, 100),
            fork(30, 1, 1, 100),
            with_ppid(exec(40, 500, &["/bin/sh"]), 100),
        ]);
        let p500 = proc_of(&tasks, &g, 500);
        let parent = g.procs[p500].parent.unwrap();
        assert_eq!(tasks[g.procs[parent as usize].leader as usize].start, t(30));
    }

    #[test]
    fn children_are_sorted_by_start() {
        let (tasks, g) = grouped(vec![
            snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
            snapshot(5, 300, 100, &["/b"]),
            fork(10, 100, 100, 200),
        ]);
        let kids: Vec<Pid> = g.procs[proc_of(&tasks, &g, 100)]
            .children
            .iter()
            .map(|&c| tasks[g.procs[c as usize].leader as usize].pid)
            .collect();
        assert_eq!(kids, vec![300, 200]);
    }
}
