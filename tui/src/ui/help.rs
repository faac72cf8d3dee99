//! The `?` help: every binding from the table, and what the tree's marks mean.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::keys::{BINDINGS, Context};

fn where_(contexts: &[Context]) -> String {
    let browse = [Context::Tree, Context::Details, Context::Files];
    if browse.iter().all(|c| contexts.contains(c)) {
        let extra: Vec<String> = contexts
            .iter()
            .filter(|c| !browse.contains(c))
            .map(|c| format!("{c:?}").to_lowercase())
            .collect();
        if extra.is_empty() {
            return "panes".to_owned();
        }
        return format!("panes, {}", extra.join(", "));
    }
    contexts
        .iter()
        .map(|c| format!("{c:?}").to_lowercase())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The help's lines.
pub fn lines() -> Vec<Line<'static>> {
    let mut out = vec![Line::styled(
        "Keys",
        Style::default().add_modifier(Modifier::BOLD),
    )];
    for b in BINDINGS {
        out.push(Line::from(vec![
            Span::styled(
                format!(" {:<12}", b.shown),
                Style::default().fg(Color::Yellow),
            ),
            Span::raw(b.help),
            Span::styled(
                format!("  ({})", where_(b.contexts)),
                Style::default().fg(Color::DarkGray),
            ),
        ]));
    }
    out.push(Line::raw(""));
    out.push(Line::styled(
        "Tree marks",
        Style::default().add_modifier(Modifier::BOLD),
    ));
    out.push(Line::raw(
        " [name]  container name (or short id)     ✎  changed files",
    ));
    out.push(Line::raw(
        " ✗N      exited with code N (or signal)    †  exited",
    ));
    out.push(Line::raw(
        " dim     no activity in the time filter's window  ⚠  events lost while it lived",
    ));
    out.push(Line::raw(
        " [depth N] ▸/▾  a row deeper than the pane indents, its children hidden/shown below",
    ));
    out.push(Line::raw(
        " mouse   click selects / toggles, the wheel scrolls",
    ));
    out
}

/// Draws the help window over `area`.
pub fn draw(frame: &mut Frame, area: Rect, scroll: u16) {
    let text = lines();
    let popup = super::centered(area, 84, text.len() as u16 + 2);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(text)
            .block(Block::bordered().title(" Help (Esc closes) "))
            .scroll((scroll, 0)),
        popup,
    );
}
