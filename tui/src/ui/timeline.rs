//! The `T` timeline, drawn over the browser: one line per thing the subtree did, in time
//! order, with its process; gaps in red. Only the page with the cursor is built.

use dockwatch_shared::model::investigation::Investigation;
use dockwatch_shared::presentation::sanitize::for_terminal;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Cell, Clear, Row};

use crate::clock::Clock;
use crate::timefilter::short_time;
use crate::timeline::{Entry, Timeline, What};

/// The columns: time, pid, process, what, and the rest of the line.
fn cells(inv: &Investigation, clock: &Clock, e: Entry) -> (Vec<Cell<'static>>, Style) {
    let time = clock.show(inv, e.node, e.time);
    let Some(n) = e.node else {
        let What::Gap(i) = e.what else {
            return (Vec::new(), Style::default());
        };
        let g = &inv.gaps[i];
        let lost = g
            .lost
            .map_or_else(|| "an unknown number of".to_owned(), |n| n.to_string());
        let reason = serde_json::to_value(g.reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let text = format!("{lost} events lost until {} ({reason})", short_time(g.to));
        let style = Style::default().fg(Color::Red).add_modifier(Modifier::BOLD);
        let row = vec![
            Cell::from(time),
            Cell::from(""),
            Cell::from(""),
            Cell::from("⚠ gap"),
            Cell::from(for_terminal(&text).into_owned()),
        ];
        return (row, style);
    };
    let p = &inv.processes[n];
    // The program running at the time: a file's, by the exec it came after.
    let comm = match e.what {
        What::File(f) => super::files::program_name(inv, &inv.files[f]),
        _ => p
            .comm
            .as_ref()
            .map(|c| c.display_safe().into_owned())
            .unwrap_or_else(|| "?".to_owned()),
    };
    let (what, detail, style) = match e.what {
        What::Start => {
            let parent = p.ppid.map_or_else(|| "-".to_owned(), |q| q.to_string());
            (
                "start".to_owned(),
                format!("from {parent}"),
                Style::default(),
            )
        }
        What::Exec(i) => {
            let x = &p.execs[i];
            let args: Vec<String> = x
                .args
                .iter()
                .map(|a| a.display_safe().into_owned())
                .collect();
            let line = if args.is_empty() {
                x.exe
                    .as_ref()
                    .map(|e| e.display_safe().into_owned())
                    .unwrap_or_default()
            } else {
                args.join(" ")
            };
            ("exec".to_owned(), line, Style::default().fg(Color::Cyan))
        }
        What::Exit => {
            let how = match (p.exit_code, p.signal) {
                (_, Some(sig)) => format!("signal {sig}"),
                (Some(code), None) => format!("code {code}"),
                (None, None) => "-".to_owned(),
            };
            ("exit".to_owned(), how, Style::default().fg(Color::DarkGray))
        }
        What::File(f) => {
            let r = &inv.files[f];
            let ops: Vec<&str> = r
                .ops
                .iter()
                .filter(|op| !matches!(op, dockwatch_shared::model::investigation::FileOp::Open))
                .map(|op| op.name())
                .collect();
            let mut path = r.path.display_safe().into_owned();
            if let Some(to) = &r.renamed_to {
                path.push_str(" → ");
                path.push_str(&to.display_safe());
            }
            let ops = if ops.is_empty() {
                "open".to_owned()
            } else {
                ops.join(",")
            };
            (ops, path, Style::default().fg(Color::Yellow))
        }
        What::Gap(_) => (String::new(), String::new(), Style::default()),
    };
    let row = vec![
        Cell::from(time),
        Cell::from(e.node.map_or(String::new(), |_| p.pid.to_string())),
        Cell::from(comm),
        Cell::from(what),
        Cell::from(detail),
    ];
    (row, style)
}

/// Draws the timeline over `area`.
pub fn draw(frame: &mut Frame, area: Rect, inv: &Investigation, clock: &Clock, t: &Timeline) {
    let popup = super::centered(
        area,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    frame.render_widget(Clear, popup);
    let root = &inv.processes[t.root];
    let comm = root
        .comm
        .as_ref()
        .map(|c| c.display_safe().into_owned())
        .unwrap_or_else(|| "?".to_owned());
    let filter = if t.filter.is_empty() {
        String::new()
    } else {
        format!(" · filter {:?}", for_terminal(&t.filter))
    };
    let gaps = t
        .shown
        .iter()
        .filter(|&&i| matches!(t.entries[i].what, What::Gap(_)))
        .count();
    let gaps = if gaps > 0 {
        format!(" · ⚠ {gaps} gaps")
    } else {
        String::new()
    };
    let title = format!(
        " Timeline of {comm} {} and its subtree: {} of {}{filter}{gaps} ({} · Enter: the process · /: filter · Esc) ",
        root.pid,
        t.shown.len(),
        t.entries.len(),
        if clock.relative {
            "since the container's start"
        } else {
            "UTC"
        }
    );
    let height = usize::from(popup.height.saturating_sub(3)).max(1);
    let start = t.cursor / height * height;
    let end = (start + height).min(t.shown.len());
    let rows: Vec<Row> = t.shown[start..end]
        .iter()
        .map(|&i| {
            let (cells, style) = cells(inv, clock, t.entries[i]);
            Row::new(cells).style(style)
        })
        .collect();
    let header = Row::new(["time", "pid", "process", "what", "path, program or detail"])
        .style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let widths = [
        Constraint::Length(12),
        Constraint::Length(7),
        Constraint::Length(15),
        Constraint::Length(18),
        Constraint::Fill(1),
    ];
    let selected = (!t.shown.is_empty()).then(|| t.cursor - start);
    let block = ratatui::widgets::Block::bordered().title(title);
    super::list_table(frame, popup, block, header, widths.to_vec(), rows, selected);
}
