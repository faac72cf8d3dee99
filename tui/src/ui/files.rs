//! The file table pane: only the rows on screen are built each frame.

use dockwatch_shared::ByteString;
use dockwatch_shared::model::investigation::{FileOp, FileRecord, Investigation};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Cell, Row, Table, TableState};

use crate::app::Browser;
use crate::file_table::{Scope, SortKey};
use crate::layout::visible_rows;

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

/// The program that made the operation: the exec it came after, or, before the process's
/// first exec, the program it was forked with (its parent's); the process's name when it never
/// exec'd. A process that ran `sh -c '… > f; sleep 3'` wrote `f` as `sh`, not as `sleep`.
pub(super) fn program_name(inv: &Investigation, r: &FileRecord) -> String {
    let p = &inv.processes[r.node];
    let last_part = |b: &ByteString| {
        let bytes = b.as_bytes();
        let start = bytes.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
        ByteString::from_bytes(bytes[start..].to_vec())
            .display_safe()
            .into_owned()
    };
    let name = match r.exec.and_then(|i| p.execs.get(i)) {
        // argv[0] names the program (a busybox applet's exe is busybox itself).
        Some(e) => e.args.first().or(e.exe.as_ref()).map(last_part),
        None if !p.execs.is_empty() => p.parent.and_then(|q| {
            inv.processes[q]
                .comm
                .as_ref()
                .map(|c| c.display_safe().into_owned())
        }),
        None => p.comm.as_ref().map(|c| c.display_safe().into_owned()),
    };
    name.unwrap_or_else(|| "?".to_owned())
}

fn path_text(r: &FileRecord) -> String {
    match &r.renamed_to {
        Some(to) => format!("{} → {}", r.path.display_safe(), to.display_safe()),
        None => r.path.display_safe().into_owned(),
    }
}

/// Cells of the host path column in a table `width` cells wide holding `columns` (two of the
/// five fill parts left after the fixed columns, the borders and the spacing): host paths are
/// cut in the middle to it, so paths with one long prefix stay told apart by their ends. The
/// whole path is under the table for the selected row.
fn host_path_cells(columns: &[Column], width: u16) -> usize {
    let fixed: u16 = columns
        .iter()
        .map(|c| match c.width() {
            Constraint::Length(n) => n,
            _ => 0,
        })
        .sum();
    let spacing = u16::try_from(columns.len().saturating_sub(1)).unwrap_or(u16::MAX);
    let rest = width.saturating_sub(2 + fixed + spacing);
    usize::from(rest) * 2 / 5
}

/// A column of the file table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Time,
    Pid,
    Process,
    Op,
    Path,
    HostPath,
    Writes,
    Closed,
}

impl Column {
    /// The columns that fit `width` cells: who and what always; the host path (also shown under
    /// the table for the selected row), the write count and the close time when there is room.
    fn fitting(width: u16) -> Vec<Column> {
        use Column::*;
        match width {
            0..100 => vec![Time, Pid, Process, Op, Path],
            100..140 => vec![Time, Pid, Process, Op, Path, Writes, Closed],
            _ => vec![Time, Pid, Process, Op, Path, HostPath, Writes, Closed],
        }
    }

    fn header(self) -> &'static str {
        match self {
            Column::Time => "time",
            Column::Pid => "pid",
            Column::Process => "process",
            Column::Op => "op",
            Column::Path => "path",
            Column::HostPath => "host path",
            Column::Writes => "writes",
            Column::Closed => "closed",
        }
    }

    fn width(self) -> Constraint {
        match self {
            Column::Time => Constraint::Length(12),
            Column::Pid => Constraint::Length(7),
            Column::Process => Constraint::Length(15),
            Column::Op => Constraint::Length(12),
            Column::Path => Constraint::Fill(3),
            Column::HostPath => Constraint::Fill(2),
            Column::Writes => Constraint::Length(6),
            Column::Closed => Constraint::Length(13),
        }
    }

    /// The cell of record `r` (sanitised: paths and names come from the recorded host).
    fn text(self, b: &Browser, r: &FileRecord, host_cells: usize) -> String {
        match self {
            Column::Time => r
                .first_time()
                .map(|t| b.clock.show(&b.inv, Some(r.node), t))
                .unwrap_or_else(|| "-".to_owned()),
            // The task that made the operation, as its source named it (audit: the process).
            Column::Pid => r.pid.to_string(),
            Column::Process => program_name(&b.inv, r),
            Column::Op => ops(r),
            Column::Path => path_text(r),
            Column::HostPath => r
                .host_path
                .as_ref()
                .map(|h| super::middle_cut(&h.display_safe(), host_cells))
                .unwrap_or_else(|| "-".to_owned()),
            Column::Writes => r.writes.to_string(),
            Column::Closed => match (r.closed, r.closed_at_exit) {
                (Some(c), false) => b.clock.show(&b.inv, Some(r.node), c),
                (Some(c), true) => format!("{}*", b.clock.show(&b.inv, Some(r.node), c)),
                (None, _) => "open".to_owned(),
            },
        }
    }
}

/// Draws the file table.
pub fn draw(frame: &mut Frame, area: Rect, b: &Browser, focused: bool) {
    let table = &b.files;
    let rows = table.rows();
    let sort = match table.sort {
        SortKey::Time => "time",
        SortKey::Path => "path",
    };
    let mut title = match &table.scope {
        Scope::Process => format!(" Files of the process: {} ", rows.len()),
        Scope::Subtree => format!(" Files of the subtree: {} ", rows.len()),
        Scope::Path(path) => format!(
            " Who touched {}: {} (s: back) ",
            path.display_safe(),
            rows.len()
        ),
    };
    if !b.filter.is_empty() {
        title.push_str(&format!(
            "of {} in {} ",
            table.unfiltered,
            b.filter.describe()
        ));
    }
    if table.hidden > 0 {
        title.push_str(&format!("· {} by the runtime hidden (p) ", table.hidden));
    }
    title.push_str(&format!("· by {sort} "));
    let mut block = Block::bordered()
        .title(title)
        .border_style(super::border(focused));
    if let Some(&f) = rows.get(table.cursor()) {
        // Where the selected file is on the host: its path there (through a volume or bind
        // mount when it was on one), the overlay's upper dir (where changed bytes are), or the
        // pseudo filesystem it lives on (no host path).
        let r = &b.inv.files[f];
        block = block.title_bottom(super::place_on_host(
            r.host_path.as_ref(),
            r.fs,
            r.upper_path.as_ref(),
        ));
    }
    let height = visible_rows(area);
    let start = table.offset().min(rows.len());
    let end = (start + height).min(rows.len());
    let columns = Column::fitting(area.width);
    let host_cells = host_path_cells(&columns, area.width);
    let body = rows[start..end].iter().map(|&f| {
        let r = &b.inv.files[f];
        Row::new(columns.iter().map(|c| Cell::from(c.text(b, r, host_cells))))
    });
    let header = Row::new(columns.iter().map(|c| c.header()))
        .style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let widths: Vec<Constraint> = columns.iter().map(|c| c.width()).collect();
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
