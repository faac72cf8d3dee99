//! Step 5, `nodes`: the repaired processes of the tree become the investigation's
//! [`ProcessNode`]s, numbered in breadth-first order, with container names and images from the
//! Docker metadata. The program details are moved out of the leader tasks, not copied.

use rustc_hash::FxHashMap;

use crate::model::investigation::{NodeId, ProcessKey, ProcessNode};
use crate::pipeline::fold::{ContainerMeta, Task};
use crate::pipeline::group::Grouped;
use crate::pipeline::tree::{Tree, role_of};

/// One node per process of the tree; `node.files` is left empty for the `files` step.
pub fn nodes(
    tasks: &mut [Task],
    grouped: &Grouped,
    tree: &Tree,
    containers: &FxHashMap<String, ContainerMeta>,
) -> Vec<ProcessNode> {
    let mut nodes: Vec<ProcessNode> = Vec::with_capacity(tree.order.len());
    let empty = std::rc::Rc::new(crate::pipeline::fold::Info::default());
    for (id, &p) in tree.order.iter().enumerate() {
        let proc = &grouped.procs[p as usize];
        let threads = proc
            .threads
            .iter()
            .map(|&t| tasks[t as usize].pid)
            .collect();
        let leader = &mut tasks[proc.leader as usize];
        let info = std::rc::Rc::unwrap_or_clone(std::mem::replace(
            &mut leader.info,
            std::rc::Rc::clone(&empty),
        ));
        let role = role_of(&info);
        let meta = info
            .container_id
            .as_ref()
            .and_then(|cid| containers.get(cid));
        nodes.push(ProcessNode {
            id,
            key: ProcessKey {
                tgid: leader.tgid,
                start: leader.start,
            },
            pid: leader.pid,
            tgid: leader.tgid,
            ppid: leader.parent_pid(),
            threads,
            comm: info.comm,
            exe: info.exe,
            args: info.args,
            cwd: info.cwd,
            rootfs: info.root,
            container_name: meta.and_then(|m| m.name.clone()),
            image: meta.and_then(|m| m.image.clone()),
            inherited: leader.inherited.names(),
            container_id: info.container_id,
            star: info.star,
            role,
            start: Some(leader.start),
            exit: leader.exit,
            exit_code: leader.exit_code,
            signal: leader.signal,
            parent: tree.parent[id],
            children: Vec::new(),
            files: Vec::new(),
            execs: std::mem::take(&mut leader.execs),
        });
    }
    for id in 0..nodes.len() {
        if let Some(parent) = tree.parent[id] {
            nodes[parent].children.push(id as NodeId);
        }
    }
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::fold::fold;
    use crate::pipeline::group::group;
    use crate::pipeline::testkit::*;
    use crate::pipeline::tree::walk;

    #[test]
    fn nodes_carry_program_container_metadata_and_links() {
        let mut recs = recs_of(vec![
            snapshot(1, 100, 1, &["/usr/bin/dockerd", "-H", "fd://"]),
            in_container(fork(10, 100, 100, 200), CID),
            in_container(exec(11, 200, &["/bin/sh", "-c", "echo hi"]), CID),
            thread(12, 100, 200, 201),
            container(13, CID, "web", "busybox:latest"),
            exit(20, 200),
        ]);
        let mut folded = fold(&mut recs, &mut |_| {});
        let g = group(&folded.tasks);
        let tree = walk(&g, &folded.tasks);
        let nodes = nodes(&mut folded.tasks, &g, &tree, &folded.containers);
        assert_eq!(nodes.len(), 2);
        assert!(nodes[0].star);
        assert_eq!(nodes[0].children, vec![1]);
        let sh = &nodes[1];
        assert_eq!(sh.pid, 200);
        assert_eq!(sh.ppid, Some(100));
        assert_eq!(sh.parent, Some(0));
        assert_eq!(sh.threads, vec![201]);
        assert_eq!(sh.args.len(), 3);
        assert_eq!(sh.container_name.as_deref(), Some("web"));
        assert_eq!(sh.image.as_deref(), Some("busybox:latest"));
        assert_eq!(sh.key.start, t(10));
        assert_eq!(sh.exit, Some(t(20)));
        assert_eq!(sh.exit_code, Some(0));
    }
}
