//! The process tree pane's model: which processes are open, the visible rows in order, the
//! cursor and the scroll offset. No terminal, no widget state: key handling is tested on it alone.
//!
//! Nothing is materialised for closed subtrees: the visible rows are recomputed (depth first
//! over open nodes) when a node opens or closes, and each frame hands tui-tree-widget only the
//! rows on screen plus at most [`MAX_INDENT`] ancestors (see `ui::tree`), so a frame costs the
//! same for ten processes or a hundred thousand open ones, and for a chain 100,000 deep. Every
//! operation on the model is linear in the number of visible rows or in a path's length.

use std::collections::HashSet;

use dockwatch_shared::model::event::Pid;
use dockwatch_shared::model::investigation::{Investigation, NodeId, ProcessKey, ProcessNode};

use crate::tree_shape::TreeShape;

/// Most rows opened automatically at start-up (the containers' workload, or the runtime when
/// it is shown).
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
    shape: TreeShape,
    /// The narrowing filter's processes (by node id), when one is set.
    keep: Option<Vec<bool>>,
    /// The analyst chose to show or hide the runtime (`p`); otherwise it is shown only while
    /// no container's workload is there to show.
    plumbing_chosen: bool,
    open: HashSet<NodeId>,
    visible: Vec<Row>,
    cursor: usize,
    offset: usize,
}

impl TreeModel {
    /// The tree of `inv` with the runtime hidden and the containers' workload opened; when
    /// nothing but the runtime ran, with the runtime shown and opened.
    pub fn new(inv: &Investigation) -> Self {
        let mut shape = TreeShape::new(inv, false);
        if shape.roots().is_empty() {
            shape = TreeShape::new(inv, true);
        }
        let mut model = Self {
            shape,
            ..Self::default()
        };
        model.open_by_default(inv);
        model.refresh(inv);
        model
    }

    /// Opens, breadth first within [`AUTO_OPEN_LIMIT`] rows, the workload (runtime hidden) or
    /// the runtime (runtime shown), so the containers' processes are on screen at once.
    fn open_by_default(&mut self, inv: &Investigation) {
        let mut budget = AUTO_OPEN_LIMIT;
        let mut queue: std::collections::VecDeque<NodeId> =
            self.shape.roots().iter().copied().collect();
        let plumbing = self.shape.plumbing();
        while let Some(id) = queue.pop_front() {
            let node = &inv.processes[id];
            let runtime = node.role.is_some() || node.star || node.parent.is_none();
            let children = self.shape.children(id);
            if (!plumbing || runtime) && !children.is_empty() && budget >= children.len() {
                budget -= children.len();
                self.open.insert(id);
                queue.extend(children.iter().copied());
            }
        }
    }

    /// This tree carried over to `new`, a later investigation of the same recording (one being
    /// followed): the runtime shown or hidden as here, narrowed to `keep`, the same processes
    /// open (new ones opened as at start-up), and the cursor on the same process at the same
    /// line of the pane. Processes are matched by [`ProcessKey`], else by a pid only one
    /// process has (a process's key can change when its fork arrives late).
    pub fn carried_to(
        &self,
        old: &Investigation,
        new: &Investigation,
        keep: Option<Vec<bool>>,
        height: usize,
    ) -> TreeModel {
        let matching = Matching::new(new);
        let to_new = |id: NodeId| old.processes.get(id).and_then(|p| matching.find(p));
        // What start-up would show: the runtime hidden once there is a workload, unless the
        // analyst chose; opened by default.
        let fresh = if self.plumbing_chosen {
            let mut chosen = Self {
                shape: TreeShape::new(new, self.shape.plumbing()),
                ..Self::default()
            };
            chosen.open_by_default(new);
            chosen
        } else {
            Self::new(new)
        };
        // Processes that had children already keep the analyst's choice (open or closed);
        // the others open as at start-up.
        let had_children: HashSet<NodeId> = (0..old.processes.len())
            .filter(|&id| !self.shape.children(id).is_empty())
            .filter_map(to_new)
            .collect();
        let mut model = Self {
            shape: TreeShape::narrowed(new, fresh.shape.plumbing(), keep.as_deref()),
            keep,
            plumbing_chosen: self.plumbing_chosen,
            ..Self::default()
        };
        model.open = self.open.iter().filter_map(|&id| to_new(id)).collect();
        model
            .open
            .extend(fresh.open.iter().filter(|id| !had_children.contains(id)));
        if model.keep.is_some() {
            let shape = &model.shape;
            model
                .open
                .extend((0..new.processes.len()).filter(|&id| !shape.children(id).is_empty()));
        }
        model.refresh(new);
        let line = self.cursor.saturating_sub(self.window_start(height));
        match self
            .selected()
            .and_then(to_new)
            .filter(|&id| model.shape.is_shown(id))
        {
            Some(id) => {
                model.reveal(new, id, height);
                // The same line, unless that leaves rows above hidden with room below.
                let last_window = model.visible.len().saturating_sub(height.max(1));
                model.offset = model.cursor.saturating_sub(line).min(last_window);
            }
            None => model.set_cursor(self.cursor, height),
        }
        model.offset = model.window_start(height);
        model
    }

    /// Shows or hides the runtime's processes, keeping the cursor on the same process (or its
    /// nearest shown ancestor).
    pub fn set_plumbing(&mut self, inv: &Investigation, plumbing: bool, height: usize) {
        self.plumbing_chosen = true;
        if plumbing == self.shape.plumbing() {
            return;
        }
        let selected = self.selected();
        self.shape = TreeShape::narrowed(inv, plumbing, self.keep.as_deref());
        if plumbing {
            self.open_by_default(inv);
        }
        self.refresh(inv);
        if let Some(id) = selected.filter(|&id| self.shape.is_shown(id)) {
            self.reveal(inv, id, height);
        }
        self.set_cursor(self.cursor, height);
    }

    /// Narrows the tree to the processes `keep` marks (by node id), every one of them opened;
    /// `None` shows every process again. The cursor stays on its process when it is still
    /// shown.
    pub fn narrow(&mut self, inv: &Investigation, keep: Option<Vec<bool>>, height: usize) {
        let selected = self.selected();
        self.keep = keep;
        self.shape = TreeShape::narrowed(inv, self.shape.plumbing(), self.keep.as_deref());
        if self.keep.is_some() {
            let shape = &self.shape;
            self.open
                .extend((0..inv.processes.len()).filter(|&id| !shape.children(id).is_empty()));
        }
        self.refresh(inv);
        match selected.filter(|&id| self.shape.is_shown(id)) {
            Some(id) => self.reveal(inv, id, height),
            None => self.set_cursor(0, height),
        }
    }

    /// Which processes are shown, and under which parent.
    pub fn shape(&self) -> &TreeShape {
        &self.shape
    }

    /// Recomputes the visible rows, keeping the cursor on the same process (or its nearest
    /// visible ancestor).
    fn refresh(&mut self, inv: &Investigation) {
        let selected = self.selected();
        self.visible.clear();
        let mut stack: Vec<Row> = self
            .shape
            .roots()
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
                    self.shape
                        .children(row.node)
                        .iter()
                        .rev()
                        .map(|&node| Row { node, depth }),
                );
            }
        }
        if let Some(sel) = selected {
            // The deepest of its ancestors (or itself) still shown: down from the root, each
            // node is shown while its parent is open. One pass down the path, one over the rows.
            let path = self.shape.path_to(sel);
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
            if !self.shape.children(id).is_empty() && self.open.insert(id) {
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
        } else if let Some(parent) = self.shape.parent(id) {
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
            let children = self.shape.children(n);
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

    /// Opens every ancestor of `id` and puts the cursor on it (showing the runtime first when
    /// `id` is one of its processes).
    pub fn reveal(&mut self, inv: &Investigation, id: NodeId, height: usize) {
        if !self.shape.is_shown(id) && id < inv.processes.len() && self.keep.is_some() {
            self.narrow(inv, None, height);
        }
        if !self.shape.is_shown(id) && id < inv.processes.len() {
            self.set_plumbing(inv, true, height);
        }
        let path = self.shape.path_to(id);
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

/// Finds a process of one investigation in another of the same recording.
struct Matching {
    by_key: std::collections::HashMap<ProcessKey, NodeId>,
    /// Pids held by one process only (`None`: by several).
    by_pid: std::collections::HashMap<Pid, Option<NodeId>>,
}

impl Matching {
    fn new(inv: &Investigation) -> Self {
        let mut by_pid = std::collections::HashMap::new();
        for p in &inv.processes {
            by_pid
                .entry(p.tgid)
                .and_modify(|slot| *slot = None)
                .or_insert(Some(p.id));
        }
        Self {
            by_key: inv.processes.iter().map(|p| (p.key, p.id)).collect(),
            by_pid,
        }
    }

    fn find(&self, p: &ProcessNode) -> Option<NodeId> {
        self.by_key
            .get(&p.key)
            .copied()
            .or_else(|| self.by_pid.get(&p.tgid).copied().flatten())
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
    fn starts_with_the_workload_open_and_the_runtime_hidden() {
        let inv = synthetic::demo();
        let m = TreeModel::new(&inv);
        assert_eq!(
            names(&inv, &m),
            [
                "1220", " 1301", "1420", " 1421", " 1422", " 1423", " 1424", " 1425", " 1426"
            ]
        );
        assert_eq!(pid(&inv, &m), 1220);
        assert!(!m.shape().plumbing());
    }

    #[test]
    fn showing_the_runtime_puts_the_workload_back_under_its_shim() {
        let inv = synthetic::demo();
        let mut m = TreeModel::new(&inv);
        m.move_by(3, H);
        assert_eq!(pid(&inv, &m), 1421);
        m.set_plumbing(&inv, true, H);
        assert_eq!(
            names(&inv, &m),
            [
                "812", " 830", "  1201", "   1220", "    1301", "  1402", "   1420", "    1421",
                "    1422", "    1423", "    1424", "    1425", "    1426"
            ]
        );
        assert_eq!(pid(&inv, &m), 1421, "the cursor stays on its process");
        m.home(H);
        m.set_plumbing(&inv, false, H);
        assert_eq!(
            pid(&inv, &m),
            1220,
            "a hidden selection moves to the first row"
        );
        // Revealing a runtime process shows the runtime.
        let shim = inv.processes.iter().position(|p| p.pid == 1402).unwrap();
        m.reveal(&inv, shim, H);
        assert!(m.shape().plumbing());
        assert_eq!(pid(&inv, &m), 1402);
    }

    #[test]
    fn a_recording_of_the_runtime_alone_shows_the_runtime() {
        let mut inv = synthetic::demo();
        for p in &mut inv.processes {
            p.star = true;
        }
        let m = TreeModel::new(&inv);
        assert!(m.shape().plumbing());
        assert_eq!(pid(&inv, &m), 812);
        assert!(m.rows().len() > 1, "opened");
    }

    #[test]
    fn opening_shows_children_and_closing_hides_them() {
        let inv = synthetic::demo();
        let mut m = TreeModel::new(&inv);
        m.end(H);
        assert_eq!(pid(&inv, &m), 1426);
        m.collapse(&inv, H); // a leaf: go to the parent
        assert_eq!(pid(&inv, &m), 1420);
        m.toggle(&inv, H);
        assert_eq!(names(&inv, &m), ["1220", " 1301", "1420"]);
        m.toggle(&inv, H);
        assert_eq!(m.rows().len(), 9);
        m.move_by(1, H);
        assert_eq!(pid(&inv, &m), 1421);
    }

    #[test]
    fn expand_all_opens_the_whole_subtree_and_collapse_all_closes_it() {
        let mut inv = synthetic::demo();
        let mut m = TreeModel::new(&inv);
        m.set_plumbing(&inv, true, H);
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
        inv.roots.clear(); // nothing to show: no row, no panic
        let empty = TreeModel::new(&inv);
        assert_eq!(empty.selected(), None);
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
