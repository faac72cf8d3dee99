//! The one-line prompt (search, time filter, export path).

use dockwatch_shared::presentation::sanitize::for_terminal;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::app::{Prompt, PromptKind};

/// Draws the prompt near the bottom of `area`.
pub fn draw(frame: &mut Frame, area: Rect, p: &Prompt) {
    let (title, help) = match p.kind {
        PromptKind::Search => (
            " Search ",
            "pid, comm, args, container, file path · ↑↓ history · Ctrl-U clears · empty clears the search",
        ),
        PromptKind::Time => (
            " Time filter FROM..TO ",
            "11:20..11:25 · -10m.. · +5m..+6m · RFC 3339 · ↑↓ history · empty clears the filter",
        ),
        PromptKind::Narrow => (
            " Filter the tree ",
            "keep processes matching a pid, comm, args, container or file path · ↑↓ history · empty shows all",
        ),
        PromptKind::Timeline => (
            " Filter the timeline ",
            "path prefixes and kinds: /data write unlink exec exit start · ↑↓ history · empty shows all",
        ),
        PromptKind::Export(_) => (
            " Export the subtree to JSON file ",
            "a file name (↑ suggests one) · Enter writes · Esc cancels",
        ),
    };
    let width = area.width.min(90);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.bottom().saturating_sub(7).max(area.y),
        width,
        height: area.height.min(5),
    };
    let mut lines = vec![
        Line::raw(format!("> {}▏", for_terminal(&p.text))),
        Line::styled(help, Style::default().fg(Color::DarkGray)),
    ];
    if let Some(e) = &p.error {
        lines.push(Line::styled(
            for_terminal(e).into_owned(),
            Style::default().fg(Color::Red),
        ));
    }
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(title)
                .border_style(Style::default().fg(Color::Yellow)),
        ),
        popup,
    );
}
