//! Drawing: one module per pane or screen. Drawing reads the [`App`] and changes nothing in it
//! (scroll offsets live in the models and are updated by `App::update`).
//!
//! Every string that came from outside (names, arguments, paths, error texts) goes through
//! `dockwatch_shared::presentation::sanitize` before it reaches a cell.

pub mod containers;
pub mod details;
pub mod error;
pub mod files;
pub mod gaps;
pub mod help;
pub mod loading;
pub mod picker;
pub mod prompt;
pub mod status;
pub mod timeline;
pub mod title;
pub mod tree;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use crate::layout::layout;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Row, Table, TableState};

use dockwatch_shared::ByteString;
use dockwatch_shared::model::mounts::FsKind;

use crate::app::{App, Overlay, Pane, Screen};

/// The border style of a pane: highlighted when focused.
pub fn border(focused: bool) -> Style {
    if focused {
        Style::default().fg(Color::Cyan)
    } else {
        Style::default().fg(Color::DarkGray)
    }
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    match &app.screen {
        Screen::Loading(l) => loading::draw(frame, area, l, app.ticks),
        Screen::Picker(p) => picker::draw(frame, area, p),
        Screen::Error(f) => error::draw(frame, area, f),
        Screen::Browse(b) => {
            let areas = layout(area, app.zoomed());
            title::draw(frame, areas.title, b, app.live.as_ref());
            // A zoomed pane takes the body; the others have no area and are not drawn.
            if !areas.tree.is_empty() {
                tree::draw(frame, areas.tree, b, b.focus == Pane::Tree);
            }
            if !areas.details.is_empty() {
                details::draw(frame, areas.details, b, b.focus == Pane::Details);
            }
            if !areas.files.is_empty() {
                files::draw(frame, areas.files, b, b.focus == Pane::Files);
            }
            status::draw_message(frame, areas.message, app, Some(b));
        }
    }
    if !matches!(app.screen, Screen::Browse(_)) {
        let [_, message, _] = Layout::vertical([
            Constraint::Min(0),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
        status::draw_message(frame, message, app, None);
    }
    let keys_line = Rect {
        y: area.bottom().saturating_sub(1),
        height: area.height.min(1),
        ..area
    };
    status::draw_keys(frame, keys_line, app.context());
    match &app.overlay {
        Some(Overlay::Help(scroll)) => help::draw(frame, area, *scroll),
        Some(Overlay::Gaps(scroll)) => {
            if let Some(b) = app.browser() {
                gaps::draw(frame, area, &b.inv.gaps, *scroll);
            }
        }
        Some(Overlay::Prompt(p)) => prompt::draw(frame, area, p),
        Some(Overlay::Timeline) => {
            if let Some((b, t)) = app
                .browser()
                .and_then(|b| b.timeline.as_ref().map(|t| (b, t)))
            {
                timeline::draw(frame, area, &b.inv, &b.clock, t);
            }
        }
        Some(Overlay::Containers(view)) => {
            if let Some(b) = app.browser() {
                containers::draw(frame, area, &b.inv, view);
            }
        }
        None => {}
    }
}

/// `text` in at most `max` characters, cut in the middle (`/var/lib/do…/merged/out/x.txt`):
/// paths that share a long prefix stay told apart by their ends.
pub fn middle_cut(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max || max < 5 {
        return text.to_owned();
    }
    let head = max / 3;
    let tail = max - head - 1;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// Draws a view's list over `area`: a table in `block` with a header and the row `selected`
/// highlighted.
pub fn list_table(
    frame: &mut Frame,
    area: Rect,
    block: Block<'_>,
    header: Row<'_>,
    widths: Vec<Constraint>,
    rows: Vec<Row<'_>>,
    selected: Option<usize>,
) {
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(1)
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default();
    state.select(selected);
    frame.render_stateful_widget(table, area, &mut state);
}

/// Where a file is on the host, for the line under a table: its host path (through a volume or
/// bind mount when it was on one) with the kind of file system, or the pseudo file system it
/// lives on when it has no host path; and the overlay's upper dir, where the changed bytes are.
pub fn place_on_host(
    host: Option<&ByteString>,
    fs: Option<FsKind>,
    upper: Option<&ByteString>,
) -> Line<'static> {
    let dim = Style::default().fg(Color::DarkGray);
    let mut spans = vec![Span::styled(" host path ", dim)];
    spans.push(Span::raw(match (host, fs) {
        (Some(h), _) => format!("{} ", h.display_safe()),
        (None, Some(fs)) => format!("none ({}) ", fs.name()),
        (None, None) => "- ".to_owned(),
    }));
    if let Some(fs) = fs.filter(|_| host.is_some()) {
        spans.push(Span::styled(format!("[{}] ", fs.name()), dim));
    }
    if let Some(upper) = upper {
        spans.push(Span::styled("· upper ", dim));
        spans.push(Span::raw(format!("{} ", upper.display_safe())));
    }
    Line::from(spans)
}

/// A rectangle of at most `width` x `height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

#[cfg(test)]
mod tests {
    use super::middle_cut;

    #[test]
    fn long_paths_are_cut_in_the_middle_and_keep_their_ends() {
        let a = "/var/lib/docker/overlay2/0123456789abcdef/merged/data/a.txt";
        let b = "/var/lib/docker/overlay2/0123456789abcdef/merged/data/b.txt";
        let (ca, cb) = (middle_cut(a, 30), middle_cut(b, 30));
        assert_eq!(ca.chars().count(), 30);
        assert!(
            ca.starts_with("/var/lib/") && ca.ends_with("/merged/data/a.txt"),
            "{ca}"
        );
        assert_ne!(ca, cb, "told apart by their ends");
        assert_eq!(middle_cut("/short", 30), "/short");
    }
}
