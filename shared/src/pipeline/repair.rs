//! Step 4, `repair`: data cleaning (a rootfs, a thread's parent, an exit time filled in from what
//! the rest of the tree knows), applied to the processes of the tree and counted.
//!
//! * **rootfs**: only one process per container does pivot_root (the container's first
//!   process); every other process of that container id (a `docker exec`, say) gets its rootfs.
//!   When no pivot_root named it (audit shows runc's `pivot_root(".", ".")` relative to the new
//!   root), the root filesystem Docker named for the container is taken.
//!   A process whose root is unknown or shows as `/` is repaired.
//! * **thread parent**: when a thread is created after its process's parent died, the kernel
//!   reports the adopting init as its parent; every thread takes the parent of its tgid leader.
//! * **exit**: a task without an exit record takes the exit time of its tgid leader.
//!
//! * **file times**: audit stamps records with the kernel's coarse clock (updated once per
//!   tick, 1 to 10 ms, and cut to milliseconds), the process connector stamps forks and execs
//!   with its precise one. So a child's first record can read up to a tick *before* its own
//!   fork. A file record's times earlier than its process's start by at most
//!   [`AUDIT_CLOCK_SLACK`] are moved to the start (the better estimate: the operation cannot
//!   precede the process); larger differences are left as recorded.
//!
//! The count of files closed at exit is made by the `files` step.

use rustc_hash::FxHashMap;

use crate::model::event::DockerRole;
use crate::model::investigation::{FileRecord, ProcessNode, Repairs};
use crate::model::text::ByteString;
use crate::model::time::Timestamp;
use crate::pipeline::AUDIT_CLOCK_SLACK;
use crate::pipeline::fold::{ContainerMeta, Inherited, Task};
use crate::pipeline::group::Grouped;
use crate::pipeline::tree::Tree;

/// Moves the times of file records that read up to [`AUDIT_CLOCK_SLACK`] before their
/// process's start to that start; returns how many records were moved.
pub fn file_times_after_start(files: &mut [FileRecord], processes: &[ProcessNode]) -> u64 {
    let mut moved = 0;
    for f in files.iter_mut() {
        let Some(start) = processes.get(f.node).and_then(|p| p.start) else {
            continue;
        };
        let mut changed = false;
        for t in [
            &mut f.opened,
            &mut f.first_write,
            &mut f.last_write,
            &mut f.closed,
        ]
        .into_iter()
        .flatten()
        {
            if *t < start && start.0 - t.0 <= AUDIT_CLOCK_SLACK.0 {
                *t = start;
                changed = true;
            }
        }
        moved += u64::from(changed);
    }
    moved
}

/// Repairs the tasks of the tree's processes in place and counts what it did into `repairs`.
pub fn repair(
    tasks: &mut [Task],
    grouped: &Grouped,
    tree: &Tree,
    containers: &FxHashMap<String, ContainerMeta>,
    repairs: &mut Repairs,
) {
    // The rootfs of the earliest pivot_root of each container, else the one Docker named.
    let mut rootfs: FxHashMap<String, (Timestamp, ByteString)> = containers
        .iter()
        .filter_map(|(cid, meta)| Some((cid.clone(), (Timestamp(i64::MAX), meta.rootfs.clone()?))))
        .collect();
    for &p in &tree.order {
        let leader = &tasks[grouped.procs[p as usize].leader as usize];
        let (Some(at), Some(cid), Some(root)) =
            (leader.pivot, &leader.info.container_id, &leader.info.root)
        else {
            continue;
        };
        // A root the pivot_root did not name (still the host's `/`, or its parent's).
        if root.as_bytes() == b"/" || leader.inherited.has(Inherited::ROOT) {
            continue;
        }
        match rootfs.get(cid) {
            Some((earlier, _)) if *earlier <= at => {}
            _ => {
                rootfs.insert(cid.clone(), (at, root.clone()));
            }
        }
    }

    for &p in &tree.order {
        let proc = &grouped.procs[p as usize];
        let leader_id = proc.leader as usize;
        let leader = &mut tasks[leader_id];
        // Shims and runc carry their container's id (from their arguments) but run on the host (the
        // role the recorder gave them; a name alone is not trusted here).
        let host_side = leader.info.star
            || matches!(
                leader.info.role,
                Some(
                    DockerRole::ContainerdShim
                        | DockerRole::Runc
                        | DockerRole::Containerd
                        | DockerRole::Dockerd
                )
            );
        if let Some((_, root)) = leader
            .info
            .container_id
            .as_ref()
            .filter(|_| !host_side)
            .and_then(|cid| rootfs.get(cid))
        {
            let known = leader
                .info
                .root
                .as_ref()
                .is_some_and(|r| r.as_bytes() != b"/");
            if !known {
                std::rc::Rc::make_mut(&mut leader.info).root = Some(root.clone());
                repairs.rootfs_propagated += 1;
            }
        }

        let ppid = leader.parent_pid();
        let exit = leader.exit;
        for &th in &proc.threads {
            let task = &mut tasks[th as usize];
            if ppid.is_some() && task.ppid != ppid {
                task.ppid = ppid;
                repairs.ppid_from_leader += 1;
            }
            if task.exit.is_none() && exit.is_some() {
                task.exit = exit;
                repairs.exit_from_leader += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::Pid;
    use crate::pipeline::fold::fold;
    use crate::pipeline::group::group;
    use crate::pipeline::testkit::*;
    use crate::pipeline::tree::walk;

    fn repaired(events: Vec<crate::model::event::Event>) -> (Vec<Task>, Repairs) {
        let mut recs = recs_of(events);
        let mut folded = fold(&mut recs, &mut |_| {});
        let g = group(&folded.tasks);
        let tree = walk(&g, &folded.tasks);
        let mut repairs = Repairs::default();
        repair(
            &mut folded.tasks,
            &g,
            &tree,
            &folded.containers,
            &mut repairs,
        );
        (folded.tasks, repairs)
    }

    fn task(tasks: &[Task], pid: Pid) -> &Task {
        tasks.iter().find(|t| t.pid == pid).unwrap()
    }

    const ROOTFS: &str = "/var/lib/docker/overlay2/abc/merged";

    #[test]
    fn a_containers_only_pivot_root_from_its_first_process_reaches_the_others() {
        let (tasks, repairs) = repaired(vec![
            snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
            snapshot(2, 120, 100, &["/usr/bin/containerd-shim-runc-v2"]),
            // The container's first process: runc init, pivot_root, exec of the entrypoint.
            in_container(fork(10, 120, 120, 200), CID),
            pivot_root(11, 200, ROOTFS),
            in_container(exec(12, 200, &["/bin/sh", "-c", "sleep 5"]), CID),
            // A `docker exec` into the same container: setns, no pivot_root.
            in_container(fork(20, 120, 120, 300), CID),
            in_container(exec(21, 300, &["/bin/sh"]), CID),
            // A child forked by the first process after its pivot_root inherits it anyway.
            fork(30, 200, 200, 400),
        ]);
        assert_eq!(
            task(&tasks, 300).info.root.as_ref().unwrap().as_bytes(),
            ROOTFS.as_bytes()
        );
        assert_eq!(
            task(&tasks, 400).info.root.as_ref().unwrap().as_bytes(),
            ROOTFS.as_bytes()
        );
        assert_eq!(repairs.rootfs_propagated, 1, "only 300 needed repair");
    }

    #[test]
    fn a_shim_with_the_containers_id_stays_on_the_host() {
        let (tasks, repairs) = repaired(vec![
            snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
            in_container(fork(10, 100, 100, 200), CID),
            pivot_root(11, 200, ROOTFS),
            in_container(fork(20, 100, 100, 300), CID),
            in_container(
                exec(21, 300, &["/usr/bin/containerd-shim-runc-v2", "-id", CID]),
                CID,
            ),
        ]);
        assert_eq!(task(&tasks, 300).info.root, None);
        assert_eq!(repairs.rootfs_propagated, 0);
    }

    #[test]
    fn another_containers_processes_keep_their_own_rootfs() {
        let (tasks, repairs) = repaired(vec![
            snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
            in_container(fork(10, 100, 100, 200), CID),
            pivot_root(11, 200, ROOTFS),
            in_container(fork(20, 100, 100, 300), CID2),
        ]);
        assert_eq!(task(&tasks, 300).info.root, None);
        assert_eq!(repairs.rootfs_propagated, 0);
    }

    #[test]
    fn a_thread_created_after_its_parent_died_takes_its_leaders_parent() {
        let (tasks, repairs) = repaired(vec![
            snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
            fork(10, 100, 100, 200),
            fork(11, 200, 200, 300),
            exit(12, 200),
            // Created after 300's parent (200) died: the kernel names init as the parent.
            thread(13, 1, 300, 301),
        ]);
        assert_eq!(task(&tasks, 301).ppid, Some(200));
        assert_eq!(task(&tasks, 300).ppid, Some(200));
        assert_eq!(repairs.ppid_from_leader, 1);
    }

    #[test]
    fn a_task_without_an_exit_takes_its_leaders_exit_time() {
        let (tasks, repairs) = repaired(vec![
            snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
            fork(10, 100, 100, 200),
            thread(11, 100, 200, 201),
            thread(12, 100, 200, 202),
            exit_task(20, 202, 200),
            exit(30, 200),
        ]);
        assert_eq!(task(&tasks, 201).exit, Some(t(30)));
        assert_eq!(task(&tasks, 202).exit, Some(t(20)), "its own exit is kept");
        assert_eq!(repairs.exit_from_leader, 1);
    }

    #[test]
    fn processes_outside_the_tree_are_not_repaired() {
        let (tasks, repairs) = repaired(vec![
            snapshot(1, 50, 1, &["/usr/sbin/cron"]),
            thread(2, 1, 50, 51),
            exit(3, 50),
        ]);
        assert_eq!(task(&tasks, 51).exit, None);
        assert_eq!(repairs, Repairs::default());
    }
}
