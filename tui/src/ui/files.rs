//! The file table pane: only the rows on screen are built each frame.

use dockwatch_shared::model::investigation::{FileOp, FileRecord};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table, TableState};

use crate::app::Browser;
use crate::file_table::{Scope, SortKey};
use crate::layout::visible_rows;
use crate::timefilter::short_time;

/// The ops of a record, e.g. `create,write`; open and close are implied by the columns.
pub fn ops(r: &FileRecord) -> String {
    let shown: Vec<&str> = r
        .ops
        .iter()
        .filter(|o| !matches!(o, FileOp::Open | FileOp::Close))
        .map(|&o| o.name())
        .collect();
    if shown.is_empty() {
        r.ops
            .iter()
            .map(|&o| o.name())
            .collect::<Vec<_>>()
            .join(",")
    } else {
        shown.join(",")
    }
}

fn path_text(r: &FileRecord) -> String {
    match &r.renamed_to {
        Some(to) => format!("{} → {}", r.path.display_safe(), to.display_safe()),
        None => r.path.display_safe().into_owned(),
    }
}

/// Draws the file table.
pub fn draw(frame: &mut Frame, area: Rect, b: &Browser, focused: bool) {
    let table = &b.files;
    let rows = table.rows();
    let scope = match table.scope {
        Scope::Process => "process",
        Scope::Subtree => "subtree",
    };
    let sort = match table.sort {
        SortKey::Time => "time",
        SortKey::Path => "path",
    };
    let mut title = format!(" Files of the {scope}: {} ", rows.len());
    if !b.filter.is_empty() {
        title.push_str(&format!(
            "of {} in {} ",
            table.unfiltered,
            b.filter.describe()
        ));
    }
    title.push_str(&format!("· by {sort} "));
    let mut block = Block::bordered()
        .title(title)
        .border_style(super::border(focused));
    if let Some(&f) = rows.get(table.cursor()) {
        let r = &b.inv.files[f];
        let host = r
            .host_path
            .as_ref()
            .map(|h| h.display_safe().into_owned())
            .unwrap_or_else(|| "-".to_owned());
        block = block.title_bottom(Line::from(vec![
            Span::styled(" host path ", Style::default().fg(Color::DarkGray)),
            Span::raw(format!("{host} ")),
        ]));
    }
    let height = visible_rows(area);
    let start = table.offset().min(rows.len());
    let end = (start + height).min(rows.len());
    let body = rows[start..end].iter().map(|&f| {
        let r = &b.inv.files[f];
        let t = r
            .first_time()
            .map(short_time)
            .unwrap_or_else(|| "-".to_owned());
        let closed = match (r.closed, r.closed_at_exit) {
            (Some(c), false) => short_time(c),
            (Some(c), true) => format!("{}*", short_time(c)),
            (None, _) => "open".to_owned(),
        };
        let host = r
            .host_path
            .as_ref()
            .map(|h| h.display_safe().into_owned())
            .unwrap_or_else(|| "-".to_owned());
        Row::new(vec![
            Cell::from(t),
            Cell::from(ops(r)),
            Cell::from(path_text(r)),
            Cell::from(host),
            Cell::from(r.writes.to_string()),
            Cell::from(closed),
        ])
    });
    let header = Row::new(["time", "op", "path", "host path", "writes", "closed"])
        .style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let widths = [
        Constraint::Length(12),
        Constraint::Length(12),
        Constraint::Fill(3),
        Constraint::Fill(2),
        Constraint::Length(6),
        Constraint::Length(13),
    ];
    let widget = Table::new(body, widths)
        .header(header)
        .block(block)
        .column_spacing(1)
        .row_highlight_style(if focused {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        });
    let mut state = TableState::default();
    if !rows.is_empty() {
        state.select(Some(table.cursor().saturating_sub(start)));
    }
    frame.render_stateful_widget(widget, area, &mut state);
}
