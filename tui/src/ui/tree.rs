//! The process tree pane (tui-tree-widget).

use dockwatch_shared::investigation::NodeId;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Paragraph};
use tui_tree_widget::{Tree, TreeState};

use crate::app::Browser;

/// Draws the tree pane.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    b: &Browser,
    focused: bool,
    state: &mut TreeState<NodeId>,
) {
    let title = format!(" Processes ({} shown) ", b.tree.rows());
    let block = Block::bordered()
        .title(title)
        .border_style(super::border(focused));
    match Tree::new(b.tree.items()) {
        Ok(tree) => {
            let tree = tree
                .block(block)
                .highlight_style(Style::default().add_modifier(Modifier::REVERSED))
                .highlight_symbol("");
            frame.render_stateful_widget(tree, area, state);
        }
        Err(e) => {
            frame.render_widget(
                Paragraph::new(format!("cannot draw the tree: {e}")).block(block),
                area,
            );
        }
    }
}
