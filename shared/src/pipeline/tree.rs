//! Step 3, `roots` and `walk`: which processes make up the Docker process tree.
//!
//! The roots are the starred dockerd processes, then containerd and then containerd-shim
//! processes that are not already below a root (containerd running as its own service, as on
//! many production hosts; or a shim whose containerd was never seen). From each root, in that
//! order and by start time, a breadth-first walk along the fork-lineage edges of `group` collects
//! every process of the tree, orphans adopted by init included (their edge is their fork
//! parent). A process belongs to the first tree that reaches it; cycles in damaged input end the
//! walk, not the program.

use std::collections::VecDeque;

use crate::model::event::DockerRole;
use crate::model::investigation::NodeId;
use crate::model::text::ByteString;
use crate::pipeline::fold::{Info, NONE, Task};
use crate::pipeline::group::{Grouped, ProcId};

/// The processes of the Docker tree.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tree {
    /// The roots, in the order they were taken.
    pub roots: Vec<ProcId>,
    /// Every process of the tree in breadth-first order (roots first); its index is its
    /// [`NodeId`] in the investigation.
    pub order: Vec<ProcId>,
    /// For every process, its node id, or [`NONE`] when it is not in the tree.
    pub node_of: Vec<u32>,
    /// For every node, its parent node (`None` for roots).
    pub parent: Vec<Option<NodeId>>,
}

fn basename(path: &ByteString) -> &[u8] {
    let b = path.as_bytes();
    match b.iter().rposition(|&c| c == b'/') {
        Some(i) => &b[i + 1..],
        None => b,
    }
}

/// The Docker part a process plays: what the recorder said, else its star, else the name of its
/// executable (or `comm`) for input from sources that do not set roles (an imported audit log).
pub fn role_of(info: &Info) -> Option<DockerRole> {
    if info.star {
        return Some(DockerRole::Dockerd);
    }
    if info.role.is_some() {
        return info.role;
    }
    let name = info
        .exe
        .as_ref()
        .or(info.comm.as_ref())
        .map(basename)
        .unwrap_or_default();
    match name {
        b"dockerd" => Some(DockerRole::Dockerd),
        b"containerd" => Some(DockerRole::Containerd),
        n if n.starts_with(b"containerd-shim") => Some(DockerRole::ContainerdShim),
        _ => None,
    }
}

/// The root candidates in the order they are taken: dockerd, containerd, shims; each by start.
pub fn roots(grouped: &Grouped, tasks: &[Task]) -> Vec<ProcId> {
    let mut candidates: Vec<(u8, ProcId)> = grouped
        .procs
        .iter()
        .enumerate()
        .filter_map(|(p, proc)| {
            let rank = match role_of(&tasks[proc.leader as usize].info)? {
                DockerRole::Dockerd => 0,
                DockerRole::Containerd => 1,
                DockerRole::ContainerdShim => 2,
                DockerRole::Runc => return None,
            };
            Some((rank, p as ProcId))
        })
        .collect();
    candidates.sort_by_key(|&(rank, p)| {
        (
            rank,
            tasks[grouped.procs[p as usize].leader as usize].start,
            p,
        )
    });
    candidates.into_iter().map(|(_, p)| p).collect()
}

/// Walks the tree from every root candidate not yet reached.
pub fn walk(grouped: &Grouped, tasks: &[Task]) -> Tree {
    let mut tree = Tree {
        node_of: vec![NONE; grouped.procs.len()],
        ..Tree::default()
    };
    let mut queue = VecDeque::new();
    for root in roots(grouped, tasks) {
        if tree.node_of[root as usize] != NONE {
            continue;
        }
        tree.roots.push(root);
        tree.node_of[root as usize] = tree.order.len() as u32;
        tree.order.push(root);
        tree.parent.push(None);
        queue.push_back(root);
        while let Some(p) = queue.pop_front() {
            let parent_node = tree.node_of[p as usize] as NodeId;
            for &c in &grouped.procs[p as usize].children {
                if tree.node_of[c as usize] == NONE {
                    tree.node_of[c as usize] = tree.order.len() as u32;
                    tree.order.push(c);
                    tree.parent.push(Some(parent_node));
                    queue.push_back(c);
                }
            }
        }
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::Pid;
    use crate::pipeline::fold::fold;
    use crate::pipeline::group::group;
    use crate::pipeline::testkit::*;

    fn walked(events: Vec<crate::model::event::Event>) -> (Vec<Task>, Grouped, Tree) {
        let mut recs = recs_of(events);
        let folded = fold(&mut recs, &mut |_| {});
        let g = group(&folded.tasks);
        let tree = walk(&g, &folded.tasks);
        (folded.tasks, g, tree)
    }

    fn pids(tasks: &[Task], g: &Grouped, procs: &[ProcId]) -> Vec<Pid> {
        procs
            .iter()
            .map(|&p| tasks[g.procs[p as usize].leader as usize].pid)
            .collect()
    }

    #[test]
    fn the_tree_is_dockerd_and_everything_forked_below_it_breadth_first() {
        let (tasks, g, tree) = walked(vec![
            snapshot(1, 1, 0, &["/sbin/init"]),
            snapshot(2, 50, 1, &["/usr/sbin/sshd"]),
            snapshot(3, 100, 1, &["/usr/bin/dockerd"]),
            fork(10, 100, 100, 110),
            exec(11, 110, &["/usr/bin/containerd"]),
            fork(20, 110, 110, 120),
            exec(21, 120, &["/usr/bin/containerd-shim-runc-v2"]),
            fork(30, 120, 120, 130),
            exec(31, 130, &["/bin/sh"]),
            fork(32, 50, 50, 60),
        ]);
        assert_eq!(pids(&tasks, &g, &tree.roots), vec![100]);
        assert_eq!(pids(&tasks, &g, &tree.order), vec![100, 110, 120, 130]);
        assert_eq!(tree.parent, vec![None, Some(0), Some(1), Some(2)]);
    }

    #[test]
    fn containerd_as_a_separate_service_is_a_second_root() {
        let (tasks, g, tree) = walked(vec![
            snapshot(1, 1, 0, &["/sbin/init"]),
            snapshot(2, 100, 1, &["/usr/bin/dockerd"]),
            snapshot(3, 90, 1, &["/usr/bin/containerd"]),
            snapshot(4, 120, 1, &["/usr/bin/containerd-shim-runc-v2"]),
            fork(10, 90, 90, 121),
            exec(11, 121, &["/usr/bin/containerd-shim-runc-v2"]),
            fork(12, 121, 121, 130),
            exec(13, 130, &["/bin/sh"]),
        ]);
        // 120's shim was adopted by init before godo started: a root of its own.
        assert_eq!(pids(&tasks, &g, &tree.roots), vec![100, 90, 120]);
        assert_eq!(pids(&tasks, &g, &tree.order), vec![100, 90, 121, 130, 120]);
    }

    #[test]
    fn a_shim_below_dockerds_containerd_is_not_a_root() {
        let (tasks, g, tree) = walked(vec![
            snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
            snapshot(2, 110, 100, &["/usr/bin/containerd"]),
            snapshot(3, 120, 110, &["/usr/bin/containerd-shim-runc-v2"]),
        ]);
        assert_eq!(pids(&tasks, &g, &tree.roots), vec![100]);
        assert_eq!(tree.order.len(), 3);
    }

    #[test]
    fn no_docker_at_all_gives_an_empty_tree() {
        let (_, _, tree) = walked(vec![snapshot(1, 1, 0, &["/sbin/init"]), fork(2, 1, 1, 5)]);
        assert!(tree.roots.is_empty());
        assert!(tree.order.is_empty());
    }

    #[test]
    fn roles_fall_back_to_the_executable_name() {
        let info = Info {
            exe: Some("/usr/local/bin/containerd-shim-runc-v2".into()),
            ..Info::default()
        };
        assert_eq!(role_of(&info), Some(DockerRole::ContainerdShim));
        let info = Info {
            comm: Some("dockerd".into()),
            ..Info::default()
        };
        assert_eq!(role_of(&info), Some(DockerRole::Dockerd));
        assert_eq!(role_of(&Info::default()), None);
    }
}
