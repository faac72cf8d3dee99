//! The (host, boot) picker.

use dockwatch_shared::presentation::sanitize::for_terminal;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Row, Table, TableState};

use crate::app::Picker;

fn when(t: dockwatch_shared::Timestamp) -> String {
    t.to_datetime().map_or_else(
        || t.to_rfc3339(),
        |d| d.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

/// Draws the picker.
pub fn draw(frame: &mut Frame, area: Rect, p: &Picker) {
    let body = Rect {
        height: area.height.saturating_sub(2),
        ..area
    };
    let rows = p.boots.iter().map(|b| {
        Row::new(vec![
            for_terminal(&b.host).into_owned(),
            for_terminal(&b.boot_id).into_owned(),
            b.events.to_string(),
            when(b.first),
            when(b.last),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Min(12),
            Constraint::Length(36),
            Constraint::Length(9),
            Constraint::Length(19),
            Constraint::Length(19),
        ],
    )
    .header(
        Row::new(["host", "boot id", "events", "first (UTC)", "last (UTC)"])
            .style(Style::default().add_modifier(Modifier::BOLD)),
    )
    .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
    .block(Block::bordered().title(format!(
        " {} recordings: choose a host and boot ",
        p.boots.len()
    )));
    let mut state = TableState::default().with_selected(Some(p.cursor));
    frame.render_stateful_widget(table, body, &mut state);
}
