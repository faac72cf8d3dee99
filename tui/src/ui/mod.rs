//! Drawing: one module per pane or screen. Drawing reads the [`App`] and changes nothing in it
//! (scroll offsets live in the models and are updated by `App::update`).
//!
//! Every string that came from outside (names, arguments, paths, error texts) goes through
//! `dockwatch_shared::presentation::sanitize` before it reaches a cell.

pub mod details;
pub mod error;
pub mod files;
pub mod gaps;
pub mod help;
pub mod loading;
pub mod picker;
pub mod prompt;
pub mod status;
pub mod title;
pub mod tree;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use crate::layout::layout;
use ratatui::style::{Color, Style};

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
            let areas = layout(area);
            title::draw(frame, areas.title, b);
            tree::draw(frame, areas.tree, b, b.focus == Pane::Tree);
            details::draw(frame, areas.details, b, b.focus == Pane::Details);
            files::draw(frame, areas.files, b, b.focus == Pane::Files);
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
        None => {}
    }
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
