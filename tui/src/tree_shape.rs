//! Which processes the tree pane shows, and under which parent.
//!
//! The recorded tree is the runtime's: dockerd, containerd, a shim per container, runc and its
//! stages, and only then the container's workload. An analyst asks about the workload; the
//! runtime's processes (see [`is_plumbing`]) are hidden by default and their children are shown
//! in their place, under the nearest shown ancestor (a container's first process becomes a
//! root). One key shows the runtime again, with the recorded parents.
//!
//! A narrowing filter (`f`) keeps only the processes it names (and their ancestors, for
//! context); the others are left out the same way.

use dockwatch_shared::model::investigation::{Investigation, NodeId};
use dockwatch_shared::presentation::containers::is_plumbing;

/// The tree as the pane shows it: roots, children and parents of the shown processes.
#[derive(Clone, Debug, Default)]
pub struct TreeShape {
    plumbing: bool,
    narrowed: bool,
    roots: Vec<NodeId>,
    children: Vec<Vec<NodeId>>,
    parent: Vec<Option<NodeId>>,
    shown: Vec<bool>,
    hidden: usize,
}

impl TreeShape {
    /// The shape of `inv`: with `plumbing`, the recorded tree; without, the runtime's processes
    /// left out and their children moved up to the nearest shown ancestor. Linear in the number
    /// of processes.
    pub fn new(inv: &Investigation, plumbing: bool) -> Self {
        Self::narrowed(inv, plumbing, None)
    }

    /// Like [`TreeShape::new`], keeping only the processes `keep` marks (by node id) when given.
    pub fn narrowed(inv: &Investigation, plumbing: bool, keep: Option<&[bool]>) -> Self {
        let n = inv.processes.len();
        let mut shape = Self {
            plumbing,
            narrowed: keep.is_some(),
            roots: Vec::new(),
            children: vec![Vec::new(); n],
            parent: vec![None; n],
            shown: vec![false; n],
            hidden: 0,
        };
        // Depth first, children in their recorded order, each with its nearest shown ancestor.
        let mut stack: Vec<(NodeId, Option<NodeId>)> =
            inv.roots.iter().rev().map(|&r| (r, None)).collect();
        let mut visited = 0usize;
        while let Some((id, above)) = stack.pop() {
            visited += 1;
            if visited > n {
                break; // a parent cycle in bad input
            }
            let node = &inv.processes[id];
            let kept = keep.is_none_or(|k| k.get(id).copied().unwrap_or(false));
            let below = if kept && (plumbing || !is_plumbing(node)) {
                shape.shown[id] = true;
                shape.parent[id] = above;
                match above {
                    Some(p) => shape.children[p].push(id),
                    None => shape.roots.push(id),
                }
                Some(id)
            } else {
                shape.hidden += 1;
                above
            };
            stack.extend(node.children.iter().rev().map(|&c| (c, below)));
        }
        shape
    }

    /// True when the runtime's processes are shown.
    pub fn plumbing(&self) -> bool {
        self.plumbing
    }

    /// True when a narrowing filter leaves processes out.
    pub fn is_narrowed(&self) -> bool {
        self.narrowed
    }

    /// The top-level rows.
    pub fn roots(&self) -> &[NodeId] {
        &self.roots
    }

    /// The shown children of `id`, in start order.
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        self.children.get(id).map_or(&[], Vec::as_slice)
    }

    /// The shown parent of `id`.
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.parent.get(id).copied().flatten()
    }

    /// True when `id` is in the pane's tree.
    pub fn is_shown(&self, id: NodeId) -> bool {
        self.shown.get(id).copied().unwrap_or(false)
    }

    /// How many processes are hidden.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// The path from a root down to `id`, following shown parents (just `id` when it is
    /// hidden).
    pub fn path_to(&self, id: NodeId) -> Vec<NodeId> {
        let mut path = vec![id];
        let mut cur = id;
        while let Some(parent) = self.parent(cur) {
            if path.len() > self.parent.len() {
                break; // a parent cycle in bad input
            }
            path.push(parent);
            cur = parent;
        }
        path.reverse();
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;

    fn pids(inv: &Investigation, ids: &[NodeId]) -> Vec<i32> {
        ids.iter().map(|&i| inv.processes[i].pid).collect()
    }

    #[test]
    fn without_the_runtime_each_container_starts_at_its_first_process() {
        let inv = synthetic::demo();
        let all = TreeShape::new(&inv, true);
        assert_eq!(pids(&inv, all.roots()), [812]);
        assert_eq!(all.hidden(), 0);
        let work = TreeShape::new(&inv, false);
        // dockerd 812, containerd 830 and the shims 1201, 1402 are the runtime.
        assert_eq!(pids(&inv, work.roots()), [1220, 1420]);
        assert_eq!(work.hidden(), 4);
        let nginx = work.roots()[0];
        assert_eq!(work.parent(nginx), None);
        assert_eq!(work.path_to(nginx), [nginx]);
        for &c in work.children(nginx) {
            assert_eq!(work.parent(c), Some(nginx));
            assert_eq!(work.path_to(c), [nginx, c]);
        }
        let shim = inv.processes.iter().find(|p| p.pid == 1201).unwrap().id;
        assert!(!work.is_shown(shim) && all.is_shown(shim));
    }
}
