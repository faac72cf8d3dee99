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

/// The panes of the browser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pane {
    /// The process tree.
    #[default]
    Tree,
    /// The selected process's details.
    Details,
    /// The file table.
    Files,
}

impl Pane {
    /// The pane after this one (Tab).
    pub fn next(self) -> Self {
        match self {
            Self::Tree => Self::Details,
            Self::Details => Self::Files,
            Self::Files => Self::Tree,
        }
    }

    /// The pane before this one (Shift-Tab).
    pub fn prev(self) -> Self {
        self.next().next()
    }
}

/// The browser's layout; with `zoomed`, that pane takes the whole body and the others none.
pub fn layout(area: Rect, zoomed: Option<Pane>) -> Areas {
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
    let (tree, details, files) = match zoomed {
        None => (tree, details, files),
        Some(Pane::Tree) => (body, Rect::default(), Rect::default()),
        Some(Pane::Details) => (Rect::default(), body, Rect::default()),
        Some(Pane::Files) => (Rect::default(), Rect::default(), body),
    };
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
