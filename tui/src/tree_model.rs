//! The process tree pane's model: which processes are open, the visible rows in order, the
//! cursor and the scroll offset. No terminal, no widget state: key handling is tested on it alone.
//!
//! Nothing is materialised for closed subtrees: the visible rows are recomputed (depth first
//! over open nodes) when a node opens or closes, and each frame hands tui-tree-widget only the
//! rows on screen plus at most [`MAX_INDENT`] ancestors (see `ui::tree`), so a frame costs the
//! same for ten processes or a hundred thousand open ones, and for a chain 100,000 deep. Every
//! operation on the model is linear in the number of visible rows or in a path's length.

use std::collections::HashSet;

use dockwatch_shared::model::investigation::{Investigation, NodeId};

/// Most rows opened automatically at start-up (the Docker daemon, containerd and the shims).
const AUTO_OPEN_LIMIT: usize = 5_000;

/// The deepest indentation the tree pane ever draws. Any container can fork a chain as deep as
/// it likes (fork, parent exits, repeat); drawn with its true nesting, every frame would hand
/// the widget the whole chain of ancestors. Rows deeper than the pane's limit (this, or less in
/// a narrow pane: see [`indent_limit`]) are drawn at the limit, below their ancestor just above
/// it, and say their true depth.
pub const MAX_INDENT: usize = 48;

/// The deepest indentation drawn in a pane `width` columns wide: each level takes two columns,
/// and a row keeps about 28 for its name, pid and marks.
pub fn indent_limit(width: u16) -> usize {
    (usize::from(width).saturating_sub(28) / 2).clamp(4, MAX_INDENT)
}

/// One visible row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// The process.
    pub node: NodeId,
    /// Its depth (0 for a root).
    pub depth: u32,
}

/// Open nodes, visible rows, cursor and scroll offset of the tree pane.
#[derive(Clone, Debug, Default)]
pub struct TreeModel {
    open: HashSet<NodeId>,
    visible: Vec<Row>,
    cursor: usize,
    offset: usize,
}

/// The path from a root down to `id`, following parent links.
pub fn path_to(inv: &Investigation, id: NodeId) -> Vec<NodeId> {
    let mut path = vec![id];
    let mut cur = id;
    while let Some(parent) = inv.processes.get(cur).and_then(|p| p.parent) {
        if path.len() > inv.processes.len() {
            break; // a parent cycle in bad input; stop rather than loop
        }
        path.push(parent);
        cur = parent;
    }
    path.reverse();
    path
}

impl TreeModel {
    /// The tree of `inv` with the Docker plumbing (daemon, containerd, shims) opened.
    pub fn new(inv: &Investigation) -> Self {
        let mut open = HashSet::new();
        let mut budget = AUTO_OPEN_LIMIT;
        let mut stack: Vec<NodeId> = inv.roots.clone();
        while let Some(id) = stack.pop() {
            let node = &inv.processes[id];
            let plumbing = node.role.is_some() || node.star || node.parent.is_none();
            if plumbing && !node.children.is_empty() && budget >= node.children.len() {
                budget -= node.children.len();
                open.insert(id);
                stack.extend_from_slice(&node.children);
            }
        }
        let mut model = Self {
            open,
            ..Self::default()
        };
        model.refresh(inv);
        model
    }

    /// Recomputes the visible rows, keeping the cursor on the same process (or its nearest
    /// visible ancestor).
    fn refresh(&mut self, inv: &Investigation) {
        let selected = self.selected();
        self.visible.clear();
        let mut stack: Vec<Row> = inv
            .roots
            .iter()
            .rev()
            .map(|&node| Row { node, depth: 0 })
            .collect();
        while let Some(row) = stack.pop() {
            if self.visible.len() > inv.processes.len() {
                break; // a cycle in bad input
            }
            self.visible.push(row);
            if self.open.contains(&row.node) {
                let depth = row.depth.saturating_add(1);
                stack.extend(
                    inv.processes[row.node]
                        .children
                        .iter()
                        .rev()
                        .map(|&node| Row { node, depth }),
                );
            }
        }
        if let Some(sel) = selected {
            // The deepest of its ancestors (or itself) still shown: down from the root, each
            // node is shown while its parent is open. One pass down the path, one over the rows.
            let path = path_to(inv, sel);
            let shown = path
                .iter()
                .skip(1)
                .zip(&path)
                .take_while(|&(_, parent)| self.open.contains(parent))
                .count();
            let target = path[shown];
            if let Some(i) = self.visible.iter().position(|r| r.node == target) {
                self.cursor = i;
                return;
            }
        }
        self.cursor = self.cursor.min(self.visible.len().saturating_sub(1));
    }

    /// The visible rows.
    pub fn rows(&self) -> &[Row] {
        &self.visible
    }

    /// The cursor's row.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The selected process.
    pub fn selected(&self) -> Option<NodeId> {
        self.visible.get(self.cursor).map(|r| r.node)
    }

    /// True when the process's children are shown.
    pub fn is_open(&self, id: NodeId) -> bool {
        self.open.contains(&id)
    }

    /// The first row shown in a pane of `height` rows: the stored offset, moved just enough to
    /// show the cursor (so a resize never hides it).
    pub fn window_start(&self, height: usize) -> usize {
        let height = height.max(1);
        let mut start = self.offset.min(self.visible.len().saturating_sub(1));
        if self.cursor < start {
            start = self.cursor;
        } else if self.cursor >= start + height {
            start = self.cursor + 1 - height;
        }
        start
    }

    fn set_cursor(&mut self, index: usize, height: usize) {
        self.cursor = index.min(self.visible.len().saturating_sub(1));
        self.offset = self.window_start(height);
    }

    /// Moves the cursor by `delta` rows, clamped; `height` is the pane's.
    pub fn move_by(&mut self, delta: isize, height: usize) {
        self.set_cursor(self.cursor.saturating_add_signed(delta), height);
    }

    /// Moves the cursor to the first row.
    pub fn home(&mut self, height: usize) {
        self.set_cursor(0, height);
    }

    /// Moves the cursor to the last row.
    pub fn end(&mut self, height: usize) {
        self.set_cursor(usize::MAX, height);
    }

    /// Opens the selected node.
    pub fn expand(&mut self, inv: &Investigation, height: usize) {
        if let Some(id) = self.selected() {
            if !inv.processes[id].children.is_empty() && self.open.insert(id) {
                self.refresh(inv);
                self.set_cursor(self.cursor, height);
            }
        }
    }

    /// Closes the selected node, or moves to its parent when it is closed already.
    pub fn collapse(&mut self, inv: &Investigation, height: usize) {
        let Some(id) = self.selected() else { return };
        if self.open.remove(&id) {
            self.refresh(inv);
        } else if let Some(parent) = inv.processes[id].parent {
            if let Some(i) = self.visible[..self.cursor]
                .iter()
                .rposition(|r| r.node == parent)
            {
                self.cursor = i;
            }
        }
        self.set_cursor(self.cursor, height);
    }

    /// Opens the selected node and every process below it (all of a container's processes at
    /// once). Linear in the subtree's size.
    pub fn expand_all(&mut self, inv: &Investigation, height: usize) {
        self.set_subtree(inv, height, true);
    }

    /// Closes the selected node and every process below it, so opening it again shows its
    /// children only.
    pub fn collapse_all(&mut self, inv: &Investigation, height: usize) {
        self.set_subtree(inv, height, false);
    }

    /// Opens (or closes) every node of the selected subtree that has children.
    fn set_subtree(&mut self, inv: &Investigation, height: usize, open: bool) {
        let Some(id) = self.selected() else { return };
        let mut stack = vec![id];
        let mut seen = 0usize;
        while let Some(n) = stack.pop() {
            seen += 1;
            if seen > inv.processes.len() {
                break; // a cycle in bad input
            }
            let children = &inv.processes[n].children;
            if children.is_empty() {
                continue;
            }
            if open {
                self.open.insert(n);
            } else {
                self.open.remove(&n);
            }
            stack.extend_from_slice(children);
        }
        self.refresh(inv);
        self.set_cursor(self.cursor, height);
    }

    /// Opens or closes the selected node.
    pub fn toggle(&mut self, inv: &Investigation, height: usize) {
        match self.selected() {
            Some(id) if self.open.contains(&id) => self.collapse(inv, height),
            Some(_) => self.expand(inv, height),
            None => {}
        }
    }

    /// Opens every ancestor of `id` and puts the cursor on it.
    pub fn reveal(&mut self, inv: &Investigation, id: NodeId, height: usize) {
        let path = path_to(inv, id);
        let mut changed = false;
        for &a in &path[..path.len() - 1] {
            changed |= self.open.insert(a);
        }
        if changed {
            self.refresh(inv);
        }
        if let Some(i) = self.visible.iter().position(|r| r.node == id) {
            self.set_cursor(i, height);
        }
    }

    /// A click on the `line`-th row of the pane: selects it, or toggles it when selected.
    pub fn click(&mut self, inv: &Investigation, line: usize, height: usize) {
        let index = self.window_start(height) + line;
        if index >= self.visible.len() {
            return;
        }
        if index == self.cursor {
            self.toggle(inv, height);
        } else {
            self.set_cursor(index, height);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;

    const H: usize = 20;

    fn names(inv: &Investigation, m: &TreeModel) -> Vec<String> {
        m.rows()
            .iter()
            .map(|r| {
                format!(
                    "{}{}",
                    " ".repeat(r.depth as usize),
                    inv.processes[r.node].pid
                )
            })
            .collect()
    }

    fn pid(inv: &Investigation, m: &TreeModel) -> i32 {
        inv.processes[m.selected().unwrap()].pid
    }

    #[test]
    fn starts_with_the_docker_plumbing_open_and_containers_closed() {
        let inv = synthetic::demo();
        let m = TreeModel::new(&inv);
        assert_eq!(
            names(&inv, &m),
            ["812", " 830", "  1201", "   1220", "  1402", "   1420"]
        );
        assert_eq!(m.selected(), Some(0));
    }

    #[test]
    fn opening_shows_children_and_closing_hides_them() {
        let inv = synthetic::demo();
        let mut m = TreeModel::new(&inv);
        m.end(H);
        assert_eq!(pid(&inv, &m), 1420);
        m.toggle(&inv, H);
        assert_eq!(m.rows().len(), 12);
        assert_eq!(pid(&inv, &m), 1420);
        m.move_by(1, H);
        assert_eq!(pid(&inv, &m), 1421);
        m.collapse(&inv, H); // a leaf: go to the parent
        assert_eq!(pid(&inv, &m), 1420);
        m.collapse(&inv, H);
        assert_eq!(m.rows().len(), 6);
    }

    #[test]
    fn expand_all_opens_the_whole_subtree_and_collapse_all_closes_it() {
        let inv = synthetic::demo();
        let mut m = TreeModel::new(&inv);
        m.home(H);
        m.collapse_all(&inv, H);
        assert_eq!(names(&inv, &m), ["812"]);
        m.expand_all(&inv, H);
        assert_eq!(m.rows().len(), inv.processes.len(), "every process shown");
        assert_eq!(pid(&inv, &m), 812, "the cursor stays");
        // Collapsed below, opening the root again shows its children only.
        m.collapse_all(&inv, H);
        m.toggle(&inv, H);
        assert_eq!(names(&inv, &m), ["812", " 830"]);
    }

    #[test]
    fn reveal_opens_the_ancestors_of_a_deep_node() {
        let inv = synthetic::large(20, 50, 0);
        let mut m = TreeModel::new(&inv);
        let deep = inv.processes.len() - 1;
        m.reveal(&inv, deep, H);
        assert_eq!(m.selected(), Some(deep));
        let start = m.window_start(H);
        assert!(start <= m.cursor() && m.cursor() < start + H);
    }

    #[test]
    fn the_window_follows_the_cursor_and_survives_a_resize() {
        let inv = synthetic::large(100, 3, 0);
        let mut m = TreeModel::new(&inv);
        m.move_by(50, 10);
        assert_eq!(m.window_start(10), 41);
        m.move_by(-5, 10);
        assert_eq!(
            m.window_start(10),
            41,
            "moving inside the window does not scroll"
        );
        assert_eq!(
            m.window_start(3),
            43,
            "a smaller pane still shows the cursor"
        );
        m.click(&inv, 0, 10);
        assert_eq!(m.cursor(), 41);
    }
}
