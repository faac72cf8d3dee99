//! The error screens: what went wrong and what to do about it.

use dockwatch_shared::presentation::sanitize::for_terminal;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::loader::Failure;

/// Draws the error screen.
pub fn draw(frame: &mut Frame, area: Rect, f: &Failure) {
    let body = Rect {
        height: area.height.saturating_sub(2),
        ..area
    };
    let popup = super::centered(body, 76, 14);
    let text = vec![
        Line::styled(
            f.title(),
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        Line::raw(""),
        Line::raw(for_terminal(&f.detail).into_owned()),
        Line::raw(""),
        Line::styled(
            for_terminal(&f.hint).into_owned(),
            Style::default().fg(Color::Yellow),
        ),
    ];
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: true }).block(
            Block::bordered()
                .title(" dockwatch ")
                .border_style(Style::default().fg(Color::Red)),
        ),
        popup,
    );
}
