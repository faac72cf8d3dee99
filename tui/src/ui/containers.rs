//! The `c` container view, drawn over the browser: the containers of the recording, or one
//! container's changed paths with their writers.

use dockwatch_shared::ByteString;
use dockwatch_shared::model::investigation::{Investigation, NodeId};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Cell, Clear, Row};

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
    let time = |t: Option<dockwatch_shared::Timestamp>| {
        t.map(short_time).unwrap_or_else(|| "-".to_owned())
    };
    let inner = usize::from(popup.width.saturating_sub(2));
    let wide = inner >= 110;
    let (title, header, widths, rows, cursor): (String, Row, Vec<Constraint>, Vec<Row>, usize) =
        match &view.opened {
            None => {
                // Narrow screens keep the name, image, exit and counts; wide ones add the id
                // and the start.
                let header: Vec<&str> = if wide {
                    vec![
                        "name",
                        "image",
                        "id",
                        "start",
                        "exit",
                        "processes",
                        "changed",
                    ]
                } else {
                    vec!["name", "image", "exit", "procs", "changed"]
                };
                let widths = if wide {
                    vec![
                        Constraint::Fill(2),
                        Constraint::Fill(2),
                        Constraint::Length(12),
                        Constraint::Length(12),
                        Constraint::Length(12),
                        Constraint::Length(9),
                        Constraint::Length(7),
                    ]
                } else {
                    vec![
                        Constraint::Fill(3),
                        Constraint::Fill(2),
                        Constraint::Length(12),
                        Constraint::Length(5),
                        Constraint::Length(7),
                    ]
                };
                let rows = view
                    .list
                    .iter()
                    .map(|c| {
                        let exit = match (c.exit, c.exit_code) {
                            (Some(_), Some(code)) => format!("{code}"),
                            (Some(t), None) => time(Some(t)),
                            (None, _) => "running".to_owned(),
                        };
                        let mut cells = vec![
                            Cell::from(safe(c.name.as_deref())),
                            Cell::from(safe(c.image.as_deref())),
                        ];
                        if wide {
                            cells.extend([
                                Cell::from(c.id.get(..12).unwrap_or(&c.id).to_owned()),
                                Cell::from(time(c.start)),
                            ]);
                        }
                        cells.extend([
                            Cell::from(exit),
                            Cell::from(c.processes.to_string()),
                            Cell::from(c.changed_paths.to_string()),
                        ]);
                        Row::new(cells)
                    })
                    .collect();
                (
                    format!(
                        " Containers: {} (Enter: its changes · Esc closes) ",
                        view.list.len()
                    ),
                    Row::new(header).style(header_style),
                    widths,
                    rows,
                    view.cursor,
                )
            }
            Some(o) => {
                let c = &view.list[o.container];
                // Narrow screens keep the path, what became of it and who; wide ones add the
                // times and the host path. Paths are cut in the middle to their column.
                let fixed = if wide { 18 + 12 + 12 + 5 } else { 18 + 2 };
                let flexible = inner.saturating_sub(fixed);
                let (path_width, state_width, host_width) = if wide {
                    (flexible * 2 / 8, flexible * 3 / 8, flexible * 3 / 8)
                } else {
                    (flexible * 3 / 5, flexible * 2 / 5, 0)
                };
                let header: Vec<&str> = if wide {
                    vec![
                        "path",
                        "what became of it",
                        "by",
                        "first",
                        "last",
                        "host path",
                    ]
                } else {
                    vec!["path", "what became of it", "by"]
                };
                let mut widths = vec![
                    Constraint::Length(path_width as u16),
                    Constraint::Length(state_width as u16),
                    Constraint::Length(18),
                ];
                if wide {
                    widths.extend([
                        Constraint::Length(12),
                        Constraint::Length(12),
                        Constraint::Length(host_width as u16),
                    ]);
                }
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
                    Row::new(header).style(header_style),
                    widths,
                    o.changes
                        .iter()
                        .map(|ch| {
                            let by: Vec<String> = ch
                                .writers
                                .iter()
                                .map(|&n| writer_name(inv, n, &ch.path))
                                .collect();
                            let mut cells = vec![
                                Cell::from(super::middle_cut(&ch.path.display_safe(), path_width)),
                                Cell::from(ch.state.describe()),
                                Cell::from(by.join(", ")),
                            ];
                            if wide {
                                cells.extend([
                                    Cell::from(time(ch.first)),
                                    Cell::from(time(ch.last)),
                                    Cell::from(match (&ch.host_path, ch.fs) {
                                        (Some(h), _) => {
                                            super::middle_cut(&h.display_safe(), host_width)
                                        }
                                        (None, Some(fs)) => format!("none ({})", fs.name()),
                                        (None, None) => "-".to_owned(),
                                    }),
                                ]);
                            }
                            Row::new(cells)
                        })
                        .collect(),
                    o.cursor,
                )
            }
        };
    let selected = (!view.is_empty()).then_some(cursor);
    let mut block = ratatui::widgets::Block::bordered().title(title);
    // Where the selected change is on the host, whole: the path through the container's mounts
    // and the overlay's upper dir, where the changed bytes are.
    if let Some(ch) = view.opened.as_ref().and_then(|o| o.changes.get(o.cursor)) {
        let place = super::place_on_host(ch.host_path.as_ref(), ch.fs, ch.upper_path.as_ref());
        block = block.title_bottom(place);
    }
    super::list_table(frame, popup, block, header, widths, rows, selected);
}

/// The program and pid of a process that changed `path`: the program it ran when it made the
/// change (a shell that wrote and then exec'd `sleep` wrote as `sh`).
fn writer_name(inv: &Investigation, n: NodeId, path: &ByteString) -> String {
    let p = &inv.processes[n];
    let program = p
        .files
        .iter()
        .map(|&f| &inv.files[f])
        .find(|r| r.path == *path || r.renamed_to.as_ref() == Some(path))
        .map(|r| super::files::program_name(inv, r))
        .or_else(|| p.comm.as_ref().map(|c| c.display_safe().into_owned()))
        .unwrap_or_else(|| "?".to_owned());
    format!("{program} {}", p.pid)
}

/// Text from the Docker API (names, images) made safe for a terminal.
fn safe(text: Option<&str>) -> String {
    dockwatch_shared::presentation::sanitize::for_terminal(text.unwrap_or("?")).into_owned()
}
