//! The details pane: everything known about the selected process.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::app::Browser;
use crate::content::details::lines;

/// Draws the details pane.
pub fn draw(frame: &mut Frame, area: Rect, b: &Browser, focused: bool) {
    let block = Block::bordered()
        .title(" Details ")
        .border_style(super::border(focused));
    let text = match b.selected() {
        Some(id) => lines(&b.inv, id),
        None => vec![Line::from("no process selected")],
    };
    frame.render_widget(
        Paragraph::new(text)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((b.details_scroll, 0)),
        area,
    );
}
