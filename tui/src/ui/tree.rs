//! The process tree pane, drawn with tui-tree-widget.
//!
//! The widget flattens every open item on each frame, which with 100,000 open processes costs
//! more than a frame. So each frame it gets only the rows on screen and their ancestors,
//! rendered into a scratch buffer tall enough for both, and the rows on screen are copied into
//! the pane: the cost depends on the pane's height, not on the tree. Nesting is drawn down to
//! [`MAX_INDENT`]; deeper rows are drawn at that depth and say their true one, so a chain
//! 100,000 deep costs a frame at most `MAX_INDENT` ancestors (and the widget's open paths at
//! most `MAX_INDENT` ids each): memory and time per frame are bounded by the pane's height and
//! `MAX_INDENT`, whatever the depth.

use dockwatch_shared::model::investigation::{Investigation, NodeId, ProcessNode};
use dockwatch_shared::presentation::sanitize::for_terminal;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, StatefulWidget};
use tui_tree_widget::{Tree, TreeItem, TreeState};

use crate::app::Browser;
use crate::tree_model::{MAX_INDENT, indent_limit};

/// The identifier of the stand-in child that makes a node draw as openable.
const PLACEHOLDER: NodeId = NodeId::MAX;

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

/// One process's line: comm, pid, container, marks (`⚠` when events were lost while it lived);
/// dimmed when inactive in the time window. A row drawn shallower than it is (deeper than the
/// pane's `limit`, see [`indent_limit`]) starts with its true depth.
pub fn label(
    node: &ProcessNode,
    active: bool,
    in_gap: bool,
    depth: usize,
    limit: usize,
) -> Line<'static> {
    // The program it ran last (argv[0]'s last part; a busybox applet's exe is busybox), else
    // its comm: a comm read before a late exec can still name the program it replaced.
    let last_exec = node
        .execs
        .last()
        .and_then(|e| e.args.first().or(e.exe.as_ref()));
    let comm = last_exec
        .map(|a| {
            let bytes = a.as_bytes();
            let start = bytes.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
            dockwatch_shared::ByteString::from_bytes(bytes[start..].to_vec())
                .display_safe()
                .into_owned()
        })
        .or_else(|| node.comm.as_ref().map(|c| c.display_safe().into_owned()))
        .or_else(|| node.args.first().map(|a| a.display_safe().into_owned()))
        .unwrap_or_else(|| "?".to_owned());
    let base = if active {
        Style::default()
    } else {
        Style::default().add_modifier(Modifier::DIM)
    };
    let bold = base.add_modifier(Modifier::BOLD);
    let mut spans = Vec::new();
    if depth > limit {
        spans.push(Span::styled(
            format!("[depth {depth}] "),
            base.fg(Color::Magenta),
        ));
    }
    spans.extend([
        Span::styled(
            comm,
            if node.star {
                bold.fg(Color::Yellow)
            } else {
                bold
            },
        ),
        Span::styled(format!(" {}", node.pid), base),
    ]);
    if let Some(container) = container_label(node) {
        spans.push(Span::styled(
            format!(" [{container}]"),
            base.fg(Color::Cyan),
        ));
    }
    if !node.files.is_empty() {
        spans.push(Span::styled(" ✎", base.fg(Color::Yellow)));
    }
    if in_gap {
        spans.push(Span::styled(" ⚠", base.fg(Color::Magenta)));
    }
    match (node.exit, node.exit_code, node.signal) {
        (_, Some(code), _) if code != 0 => {
            spans.push(Span::styled(format!(" ✗{code}"), base.fg(Color::Red)));
        }
        (_, _, Some(sig)) => spans.push(Span::styled(format!(" ✗sig{sig}"), base.fg(Color::Red))),
        (Some(_), _, _) => spans.push(Span::styled(" †", base.fg(Color::DarkGray))),
        _ => {}
    }
    Line::from(spans)
}

/// An item under construction: its node, true depth and children so far.
struct Partial {
    node: NodeId,
    depth: usize,
    children: Vec<TreeItem<'static, NodeId>>,
}

fn finish(inv: &Investigation, b: &Browser, p: Partial, limit: usize) -> TreeItem<'static, NodeId> {
    let node = &inv.processes[p.node];
    let active = b.active.get(p.node).copied().unwrap_or(true);
    let in_gap = b.in_gap.get(p.node).copied().unwrap_or(false);
    let mut text = label(node, active, in_gap, p.depth, limit);
    let has_children = !b.tree.shape().children(p.node).is_empty();
    if p.depth >= limit && has_children {
        // Drawn without nesting: say whether its children are shown below it.
        let mark = if b.tree.is_open(p.node) {
            "▾ "
        } else {
            "▸ "
        };
        text.spans.insert(0, Span::raw(mark));
    }
    let mut children = p.children;
    if children.is_empty() && has_children && p.depth < limit {
        children.push(TreeItem::new_leaf(PLACEHOLDER, ""));
    }
    // Children are distinct processes (NodeIds are unique in the tree); fall back to a leaf
    // rather than fail if bad input ever repeats one.
    TreeItem::new(p.node, text.clone(), children)
        .unwrap_or_else(|_| TreeItem::new_leaf(p.node, text))
}

/// The items for rows `start..start + height`, preceded by the ancestors of the first of them
/// (at most `limit`, itself at most [`MAX_INDENT`]), and the widget state that opens and
/// selects them as the model does. Returns the number of ancestor rows drawn before the window.
pub fn window_items(
    b: &Browser,
    start: usize,
    height: usize,
    limit: usize,
) -> (Vec<TreeItem<'static, NodeId>>, TreeState<NodeId>, usize) {
    let limit = limit.min(MAX_INDENT);
    let inv = &b.inv;
    let rows = b.tree.rows();
    let end = (start + height).min(rows.len());
    let Some(first) = rows.get(start) else {
        return (Vec::new(), TreeState::default(), 0);
    };
    let path = b.tree.shape().path_to(first.node);
    // The ancestors drawn above the window: those at the depths that are drawn.
    let prefix = (path.len() - 1).min(limit);
    // Depth-first order, each with its true depth: the ancestors, then the window rows.
    let order = path[..prefix]
        .iter()
        .enumerate()
        .map(|(depth, &node)| (node, depth))
        .chain(rows[start..end].iter().map(|r| (r.node, r.depth as usize)));
    let mut state = TreeState::default();
    let mut roots = Vec::new();
    let mut stack: Vec<Partial> = Vec::new();
    let mut ids: Vec<NodeId> = Vec::new();
    let selected = b.tree.selected();
    for (node, depth) in order {
        let drawn = depth.min(limit);
        while stack.len() > drawn {
            let done = stack.pop().map(|p| finish(inv, b, p, limit));
            ids.pop();
            if let Some(item) = done {
                match stack.last_mut() {
                    Some(parent) => parent.children.push(item),
                    None => roots.push(item),
                }
            }
        }
        ids.push(node);
        // A row drawn at the deepest indentation shows no children of its own: the rows below
        // it are drawn beside it.
        if b.tree.is_open(node) && drawn < limit {
            state.open(ids.clone());
        }
        if Some(node) == selected {
            state.select(ids.clone());
        }
        stack.push(Partial {
            node,
            depth,
            children: Vec::new(),
        });
    }
    while let Some(p) = stack.pop() {
        let item = finish(inv, b, p, limit);
        match stack.last_mut() {
            Some(parent) => parent.children.push(item),
            None => roots.push(item),
        }
    }
    (roots, state, prefix)
}

/// Draws guide lines in the indentation tui-tree-widget leaves blank (two cells per level):
/// `├─`/`└─` before a row (a later sibling follows, or not), `│` where an ancestor's later
/// sibling is still to come. The scratch buffer's lines are the window's ancestors (`prefix`)
/// then its rows. Rows deeper than the pane's `limit` say their depth instead. Each row costs
/// at most `limit` steps up its ancestry.
fn draw_guides(
    scratch: &mut Buffer,
    b: &Browser,
    start: usize,
    height: usize,
    prefix: usize,
    limit: usize,
) {
    let limit = limit.min(MAX_INDENT);
    let shape = b.tree.shape();
    let rows = b.tree.rows();
    let end = (start + height).min(rows.len());
    let has_later_sibling = |n: NodeId| {
        let siblings = match shape.parent(n) {
            Some(p) => shape.children(p),
            None => shape.roots(),
        };
        siblings.last() != Some(&n)
    };
    for (i, row) in rows[start..end].iter().enumerate() {
        let depth = row.depth as usize;
        if depth == 0 || depth > limit {
            continue;
        }
        let Ok(y) = u16::try_from(prefix + i) else {
            break;
        };
        // Up the ancestry: the row itself at its depth, then each ancestor one level up.
        let mut node = row.node;
        for level in (1..=depth).rev() {
            let x = u16::try_from(2 * (level - 1)).unwrap_or(u16::MAX);
            let later = has_later_sibling(node);
            let glyphs: &[&str] = match (level == depth, later) {
                (true, true) => &["├", "─"],
                (true, false) => &["└", "─"],
                (false, true) => &["│"],
                (false, false) => &[],
            };
            for (dx, g) in glyphs.iter().enumerate() {
                let pos = (x.saturating_add(dx as u16), y);
                if let Some(cell) = scratch.cell_mut(pos).filter(|c| c.symbol() == " ") {
                    cell.set_symbol(g);
                    cell.set_fg(Color::DarkGray);
                }
            }
            match shape.parent(node) {
                Some(p) => node = p,
                None => break,
            }
        }
    }
}

/// Draws the tree pane.
pub fn draw(frame: &mut Frame, area: Rect, b: &Browser, focused: bool) {
    let shape = b.tree.shape();
    // Short enough for an 80-column screen; the status line says which key toggles it.
    let runtime = match (shape.is_narrowed(), shape.plumbing(), shape.hidden()) {
        (true, ..) => " · filtered (f)",
        (false, false, 0) => "",
        (false, false, _) => " · runtime hidden",
        (false, true, _) => " · runtime shown",
    };
    let block = Block::bordered()
        .title(format!(" Processes {}{runtime} ", b.tree.rows().len()))
        .border_style(super::border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.is_empty() {
        return;
    }
    let height = usize::from(inner.height);
    let start = b.tree.window_start(height);
    let (items, mut state, prefix) = window_items(b, start, height, indent_limit(inner.width));
    let Ok(tree) = Tree::new(&items) else {
        return; // roots are distinct processes; nothing sensible to draw otherwise
    };
    let tree = tree
        .highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .highlight_symbol("");
    let prefix_rows = u16::try_from(prefix).unwrap_or(u16::MAX);
    let scratch_area = Rect::new(0, 0, inner.width, inner.height.saturating_add(prefix_rows));
    let mut scratch = Buffer::empty(scratch_area);
    StatefulWidget::render(tree, scratch_area, &mut scratch, &mut state);
    draw_guides(
        &mut scratch,
        b,
        start,
        height,
        prefix,
        indent_limit(inner.width),
    );
    let buf = frame.buffer_mut();
    for y in 0..inner.height {
        for x in 0..inner.width {
            if let Some(cell) = scratch.cell((x, y.saturating_add(prefix_rows))) {
                if let Some(target) = buf.cell_mut((inner.x + x, inner.y + y)) {
                    *target = cell.clone();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockwatch_shared::ByteString;
    use dockwatch_shared::model::investigation::ExecRecord;

    #[test]
    fn a_row_names_the_program_the_process_ran_last() {
        let mut node = crate::synthetic::demo().processes[0].clone();
        node.comm = Some(ByteString::from("exe")); // read from /proc before a late exec
        node.execs = ["/bin/sh", "sleep"]
            .into_iter()
            .map(|a| ExecRecord {
                time: dockwatch_shared::Timestamp::from_micros(0),
                exe: Some(ByteString::from("/bin/busybox")),
                args: vec![ByteString::from(a)],
            })
            .collect();
        let text: String = label(&node, true, false, 0, 8)
            .spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect();
        assert!(text.starts_with("sleep "), "{text}");
        node.execs.clear();
        let text: String = label(&node, true, false, 0, 8)
            .spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect();
        assert!(text.starts_with("exe "), "without execs, the comm: {text}");
    }
}
