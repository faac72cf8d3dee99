//! The `c` container view, drawn over the browser: the containers of the recording, or one
//! container's changed paths with their writers.

use dockwatch_shared::model::investigation::Investigation;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Cell, Clear, Row, Table, TableState};

use crate::containers_view::ContainersView;
use crate::timefilter::short_time;

/// Draws the view over `area`.
pub fn draw(frame: &mut Frame, area: Rect, inv: &Investigation, view: &ContainersView) {
    let popup = super::centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(4),
    );
    frame.render_widget(Clear, popup);
    let header_style = Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    // The host path column's share of the popup (3 of 8 fill parts, after the fixed columns).
    let host_width = usize::from(popup.width.saturating_sub(2 + 18 + 12 + 12 + 5)) * 3 / 8;
    let time = |t: Option<dockwatch_shared::Timestamp>| {
        t.map(short_time).unwrap_or_else(|| "-".to_owned())
    };
    let (title, header, widths, rows, cursor): (String, Row, Vec<Constraint>, Vec<Row>, usize) =
        match &view.opened {
            None => (
                format!(
                    " Containers: {} (Enter: its changes · Esc closes) ",
                    view.list.len()
                ),
                Row::new([
                    "name",
                    "image",
                    "id",
                    "start",
                    "exit",
                    "processes",
                    "changed",
                ])
                .style(header_style),
                vec![
                    Constraint::Fill(2),
                    Constraint::Fill(2),
                    Constraint::Length(12),
                    Constraint::Length(12),
                    Constraint::Length(12),
                    Constraint::Length(9),
                    Constraint::Length(7),
                ],
                view.list
                    .iter()
                    .map(|c| {
                        let exit = match (c.exit, c.exit_code) {
                            (Some(_), Some(code)) => format!("{code}"),
                            (Some(t), None) => time(Some(t)),
                            (None, _) => "running".to_owned(),
                        };
                        Row::new(vec![
                            Cell::from(safe(c.name.as_deref())),
                            Cell::from(safe(c.image.as_deref())),
                            Cell::from(c.id.get(..12).unwrap_or(&c.id).to_owned()),
                            Cell::from(time(c.start)),
                            Cell::from(exit),
                            Cell::from(c.processes.to_string()),
                            Cell::from(c.changed_paths.to_string()),
                        ])
                    })
                    .collect(),
                view.cursor,
            ),
            Some(o) => {
                let c = &view.list[o.container];
                (
                    format!(
                        " {}: {} changed paths{} (Enter: the writer · p: {} the runtime's · Esc: back) ",
                        safe(c.name.as_deref()),
                        o.changes.len(),
                        if view.plumbing {
                            ", runtime's included"
                        } else {
                            ""
                        },
                        if view.plumbing { "hide" } else { "show" }
                    ),
                    Row::new([
                        "path",
                        "what became of it",
                        "by",
                        "first",
                        "last",
                        "host path",
                    ])
                    .style(header_style),
                    vec![
                        Constraint::Fill(2),
                        Constraint::Fill(3),
                        Constraint::Length(18),
                        Constraint::Length(12),
                        Constraint::Length(12),
                        Constraint::Fill(3),
                    ],
                    o.changes
                        .iter()
                        .map(|ch| {
                            let by: Vec<String> = ch
                                .writers
                                .iter()
                                .map(|&n| {
                                    let p = &inv.processes[n];
                                    let comm = p
                                        .comm
                                        .as_ref()
                                        .map(|c| c.display_safe().into_owned())
                                        .unwrap_or_else(|| "?".to_owned());
                                    format!("{comm} {}", p.pid)
                                })
                                .collect();
                            Row::new(vec![
                                Cell::from(ch.path.display_safe().into_owned()),
                                Cell::from(ch.state.describe()),
                                Cell::from(by.join(", ")),
                                Cell::from(time(ch.first)),
                                Cell::from(time(ch.last)),
                                Cell::from(
                                    ch.host_path
                                        .as_ref()
                                        .map(|h| super::middle_cut(&h.display_safe(), host_width))
                                        .unwrap_or_else(|| "-".to_owned()),
                                ),
                            ])
                        })
                        .collect(),
                    o.cursor,
                )
            }
        };
    let table = Table::new(rows, widths)
        .header(header)
        .block(Block::bordered().title(title))
        .column_spacing(1)
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default();
    if !view.is_empty() {
        state.select(Some(cursor));
    }
    frame.render_stateful_widget(table, popup, &mut state);
}

/// Text from the Docker API (names, images) made safe for a terminal.
fn safe(text: Option<&str>) -> String {
    dockwatch_shared::presentation::sanitize::for_terminal(text.unwrap_or("?")).into_owned()
}
