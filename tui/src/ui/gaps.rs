//! The `!` gap list, drawn over the browser.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use dockwatch_shared::model::investigation::GapRecord;

use crate::content::gaps::lines;

/// Draws the gap list over `area`.
pub fn draw(frame: &mut Frame, area: Rect, gaps: &[GapRecord], scroll: u16) {
    let text = lines(gaps);
    let height = u16::try_from(text.len() + 2).unwrap_or(u16::MAX);
    let popup = super::centered(area, area.width.saturating_sub(4), height);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(format!(" {} gaps (Esc closes) ", gaps.len())))
            .scroll((scroll, 0)),
        popup,
    );
}
