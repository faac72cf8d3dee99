//! The process tree pane's model: [`TreeItem`]s built from an [`Investigation`] on demand.
//!
//! Only opened nodes are materialised: a closed node with children holds one placeholder child
//! (so the widget draws it as closable) until it is opened, so a tree of 100,000 processes costs
//! only what the analyst has unfolded. Identifiers are [`NodeId`]s, unique in the whole tree.
//!
//! Navigation (cursor, paging, open/close, revealing a search hit) works on the flattened list
//! of visible rows kept here, so it needs no terminal and no previous frame: tui-tree-widget's own
//! `key_down` and friends only work after a render. The widget's [`TreeState`] is kept in step;
//! it is lent to the drawing code for each frame (the widget records its scroll offset there).

use std::collections::HashSet;

use dockwatch_shared::investigation::{Investigation, NodeId, ProcessNode};
use dockwatch_shared::sanitize::for_terminal;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use tui_tree_widget::{TreeItem, TreeState};

/// The identifier of the stand-in child of a closed, not yet materialised node.
const PLACEHOLDER: NodeId = NodeId::MAX;

/// Most rows opened automatically at start-up (the Docker daemon, containerd and the shims).
const AUTO_OPEN_LIMIT: usize = 5_000;

/// The tree pane's items, visible rows, cursor and widget state.
#[derive(Debug, Default)]
pub struct TreeModel {
    items: Vec<TreeItem<'static, NodeId>>,
    state: TreeState<NodeId>,
    visible: Vec<Vec<NodeId>>,
    cursor: usize,
}

/// What the tree shows for a process: the line, and whether it is dimmed by the time filter.
fn label(node: &ProcessNode, active: bool) -> Line<'static> {
    let comm = node
        .comm
        .as_ref()
        .map(|c| c.display_safe().into_owned())
        .or_else(|| node.args.first().map(|a| a.display_safe().into_owned()))
        .unwrap_or_else(|| "?".to_owned());
    let base = if active {
        Style::default()
    } else {
        Style::default().add_modifier(Modifier::DIM)
    };
    let mut spans = vec![
        Span::styled(
            comm,
            if node.star {
                base.add_modifier(Modifier::BOLD).fg(Color::Yellow)
            } else {
                base.add_modifier(Modifier::BOLD)
            },
        ),
        Span::styled(format!(" {}", node.pid), base),
    ];
    if let Some(container) = container_label(node) {
        spans.push(Span::styled(
            format!(" [{container}]"),
            base.fg(Color::Cyan),
        ));
    }
    if !node.files.is_empty() {
        spans.push(Span::styled(" ✎", base.fg(Color::Yellow)));
    }
    match (node.exit, node.exit_code, node.signal) {
        (_, Some(code), _) if code != 0 => {
            spans.push(Span::styled(format!(" ✗{code}"), base.fg(Color::Red)));
        }
        (_, _, Some(sig)) => {
            spans.push(Span::styled(format!(" ✗sig{sig}"), base.fg(Color::Red)));
        }
        (Some(_), _, _) => spans.push(Span::styled(" †", base.fg(Color::DarkGray))),
        _ => {}
    }
    Line::from(spans)
}

/// The container's name, else its short id; sanitised.
pub fn container_label(node: &ProcessNode) -> Option<String> {
    node.container_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .map(|n| for_terminal(n).into_owned())
        .or_else(|| {
            node.container_id
                .as_deref()
                .map(|id| for_terminal(&id.chars().take(12).collect::<String>()).into_owned())
        })
}

fn build_item(
    inv: &Investigation,
    id: NodeId,
    path: &mut Vec<NodeId>,
    opened: &HashSet<Vec<NodeId>>,
    active: &[bool],
) -> TreeItem<'static, NodeId> {
    let node = &inv.processes[id];
    let text = label(node, active.get(id).copied().unwrap_or(true));
    path.push(id);
    let children = if node.children.is_empty() {
        Vec::new()
    } else if opened.contains(path.as_slice()) {
        node.children
            .iter()
            .map(|&c| build_item(inv, c, path, opened, active))
            .collect()
    } else {
        vec![TreeItem::new_leaf(PLACEHOLDER, "…")]
    };
    path.pop();
    // Children are distinct NodeIds (or the single placeholder), so this cannot fail; fall back
    // to a leaf rather than panic if an input ever repeats a child.
    match TreeItem::new(id, text.clone(), children) {
        Ok(item) => item,
        Err(_) => TreeItem::new_leaf(id, text),
    }
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
    pub fn new(inv: &Investigation, active: &[bool]) -> Self {
        let mut state = TreeState::default();
        let mut budget = AUTO_OPEN_LIMIT;
        let mut stack: Vec<Vec<NodeId>> = inv.roots.iter().map(|&r| vec![r]).collect();
        while let Some(path) = stack.pop() {
            let Some(&id) = path.last() else { continue };
            let node = &inv.processes[id];
            if node.role.is_some() || node.star || node.parent.is_none() {
                if budget < node.children.len() {
                    continue;
                }
                budget -= node.children.len();
                for &c in &node.children {
                    let mut p = path.clone();
                    p.push(c);
                    stack.push(p);
                }
                state.open(path);
            }
        }
        let mut model = Self {
            state,
            ..Self::default()
        };
        model.rebuild(inv, active);
        model.set_cursor(0);
        model
    }

    /// Rebuilds every materialised item (after the time filter changed what is dimmed).
    pub fn rebuild(&mut self, inv: &Investigation, active: &[bool]) {
        let opened = self.state.opened().clone();
        let mut path = Vec::new();
        self.items = inv
            .roots
            .iter()
            .map(|&r| build_item(inv, r, &mut path, &opened, active))
            .collect();
        self.refresh_visible();
    }

    fn refresh_visible(&mut self) {
        let selected = self.visible.get(self.cursor).cloned();
        self.visible = self
            .state
            .flatten(&self.items)
            .into_iter()
            .map(|f| f.identifier)
            .filter(|p| p.last() != Some(&PLACEHOLDER))
            .collect();
        if let Some(sel) = selected {
            // Keep the cursor on the same node, or on its nearest visible ancestor.
            let mut sel = sel;
            loop {
                if let Some(i) = self.visible.iter().position(|p| *p == sel) {
                    self.set_cursor(i);
                    return;
                }
                if sel.pop().is_none() || sel.is_empty() {
                    break;
                }
            }
        }
        self.set_cursor(self.cursor);
    }

    fn set_cursor(&mut self, index: usize) {
        self.cursor = index.min(self.visible.len().saturating_sub(1));
        match self.visible.get(self.cursor) {
            Some(path) => {
                self.state.select(path.clone());
            }
            None => {
                self.state.select(Vec::new());
            }
        }
    }

    /// The items, for the widget.
    pub fn items(&self) -> &[TreeItem<'static, NodeId>] {
        &self.items
    }

    /// Number of visible rows.
    pub fn rows(&self) -> usize {
        self.visible.len()
    }

    /// The cursor's row.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The selected process.
    pub fn selected(&self) -> Option<NodeId> {
        self.visible
            .get(self.cursor)
            .and_then(|p| p.last().copied())
    }

    /// Moves the cursor by `delta` rows, clamped.
    pub fn move_by(&mut self, delta: isize) {
        let target = self.cursor.saturating_add_signed(delta);
        self.set_cursor(target);
    }

    /// Moves the cursor to the first row.
    pub fn home(&mut self) {
        self.set_cursor(0);
    }

    /// Moves the cursor to the last row.
    pub fn end(&mut self) {
        self.set_cursor(usize::MAX);
    }

    fn item_mut(&mut self, path: &[NodeId]) -> Option<&mut TreeItem<'static, NodeId>> {
        let (first, rest) = path.split_first()?;
        let mut item = self.items.iter_mut().find(|i| i.identifier() == first)?;
        for id in rest {
            let index = item.children().iter().position(|c| c.identifier() == id)?;
            item = item.child_mut(index)?;
        }
        Some(item)
    }

    fn open_path(&mut self, inv: &Investigation, path: &[NodeId], active: &[bool]) {
        let Some(&id) = path.last() else { return };
        if inv.processes[id].children.is_empty() {
            return;
        }
        self.state.open(path.to_vec());
        let opened = self.state.opened().clone();
        let Some(item) = self.item_mut(path) else {
            return;
        };
        let placeholder = item
            .children()
            .first()
            .is_some_and(|c| *c.identifier() == PLACEHOLDER);
        if placeholder {
            let mut parent_path = path[..path.len() - 1].to_vec();
            *item = build_item(inv, id, &mut parent_path, &opened, active);
        }
    }

    /// Opens the selected node (materialising its children).
    pub fn expand(&mut self, inv: &Investigation, active: &[bool]) {
        if let Some(path) = self.visible.get(self.cursor).cloned() {
            self.open_path(inv, &path, active);
            self.refresh_visible();
        }
    }

    /// Closes the selected node, or moves to its parent when it is closed already.
    pub fn collapse(&mut self) {
        let Some(path) = self.visible.get(self.cursor).cloned() else {
            return;
        };
        if self.state.close(&path) {
            self.refresh_visible();
        } else if path.len() > 1 {
            let parent = &path[..path.len() - 1];
            if let Some(i) = self.visible.iter().position(|p| p == parent) {
                self.set_cursor(i);
            }
        }
    }

    /// Opens or closes the selected node.
    pub fn toggle(&mut self, inv: &Investigation, active: &[bool]) {
        let Some(path) = self.visible.get(self.cursor).cloned() else {
            return;
        };
        if self.state.opened().contains(&path) {
            self.state.close(&path);
            self.refresh_visible();
        } else {
            self.expand(inv, active);
        }
    }

    /// Opens every ancestor of `id` and puts the cursor on it.
    pub fn reveal(&mut self, inv: &Investigation, id: NodeId, active: &[bool]) {
        let path = path_to(inv, id);
        for depth in 1..path.len() {
            if !self.state.opened().contains(&path[..depth]) {
                self.open_path(inv, &path[..depth], active);
            }
        }
        self.refresh_visible();
        if let Some(i) = self.visible.iter().position(|p| *p == path) {
            self.set_cursor(i);
        }
    }

    /// Puts the cursor on the row with this path (a mouse click), toggling it when it was there.
    pub fn click(&mut self, inv: &Investigation, path: &[NodeId], active: &[bool]) {
        if let Some(i) = self.visible.iter().position(|p| p == path) {
            if i == self.cursor {
                self.toggle(inv, active);
            } else {
                self.set_cursor(i);
            }
        }
    }

    /// True when the node at this path is open.
    pub fn is_open(&self, path: &[NodeId]) -> bool {
        self.state.opened().contains(path)
    }

    /// Lends the widget state to the drawing code for one frame; give it back with
    /// [`TreeModel::put_state`].
    pub fn take_state(&mut self) -> TreeState<NodeId> {
        std::mem::take(&mut self.state)
    }

    /// Takes the widget state back after a frame.
    pub fn put_state(&mut self, state: TreeState<NodeId>) {
        self.state = state;
    }

    /// The widget state (for hit-testing mouse clicks against the last frame).
    pub fn state(&self) -> &TreeState<NodeId> {
        &self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;

    fn names(inv: &Investigation, m: &TreeModel) -> Vec<String> {
        m.visible
            .iter()
            .map(|p| {
                let n = &inv.processes[*p.last().unwrap()];
                format!("{}{}", " ".repeat(p.len() - 1), n.pid)
            })
            .collect()
    }

    #[test]
    fn starts_with_the_docker_plumbing_open_and_containers_closed() {
        let inv = synthetic::demo();
        let m = TreeModel::new(&inv, &[]);
        assert_eq!(
            names(&inv, &m),
            ["812", " 830", "  1201", "   1220", "  1402", "   1420"]
        );
        assert_eq!(m.selected(), Some(0));
    }

    #[test]
    fn opening_materialises_children_and_closing_hides_them() {
        let inv = synthetic::demo();
        let mut m = TreeModel::new(&inv, &[]);
        m.end(); // the batch job
        assert_eq!(inv.processes[m.selected().unwrap()].pid, 1420);
        m.toggle(&inv, &[]);
        assert_eq!(m.rows(), 12);
        assert_eq!(inv.processes[m.selected().unwrap()].pid, 1420);
        m.move_by(1);
        assert_eq!(inv.processes[m.selected().unwrap()].pid, 1421);
        m.collapse(); // a leaf: go to the parent
        assert_eq!(inv.processes[m.selected().unwrap()].pid, 1420);
        m.collapse();
        assert_eq!(m.rows(), 6);
    }

    #[test]
    fn reveal_opens_the_ancestors_of_a_deep_node() {
        let inv = synthetic::large(20, 50, 0);
        let mut m = TreeModel::new(&inv, &[]);
        let deep = inv.processes.len() - 1;
        m.reveal(&inv, deep, &[]);
        assert_eq!(m.selected(), Some(deep));
    }

    #[test]
    fn only_opened_nodes_are_materialised() {
        let inv = synthetic::large(100, 1000, 0);
        let m = TreeModel::new(&inv, &[]);
        fn count(items: &[TreeItem<'static, NodeId>]) -> usize {
            items.iter().map(|i| 1 + count(i.children())).sum()
        }
        // dockerd, containerd, 100 shims with their main process, each with one placeholder.
        assert!(count(m.items()) < 400, "{}", count(m.items()));
    }
}
