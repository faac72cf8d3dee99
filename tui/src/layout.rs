//! Screen geometry: where each pane goes on a screen of a given size, and how many rows a pane
//! shows. Pure; the drawing code (`ui`) lays panes out with it and the app uses it for paging
//! and mouse hits.

use ratatui::layout::{Constraint, Layout, Rect};

/// Where each part of the browser goes on a screen of a given size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Areas {
    /// The title bar.
    pub title: Rect,
    /// The process tree.
    pub tree: Rect,
    /// The details of the selected process.
    pub details: Rect,
    /// The file table.
    pub files: Rect,
    /// The message / filter line.
    pub message: Rect,
    /// The key hints line.
    pub keys: Rect,
}

/// The browser's layout.
pub fn layout(area: Rect) -> Areas {
    let [title, body, message, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let [top, files] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
    let [tree, details] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(top);
    Areas {
        title,
        tree,
        details,
        files,
        message,
        keys,
    }
}

/// Table rows that fit in the pane's area (borders and header excluded).
pub fn visible_rows(area: Rect) -> usize {
    area.height.saturating_sub(3) as usize
}
