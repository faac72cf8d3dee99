//! The progress screen of a running job.

use dockwatch_shared::presentation::sanitize::for_terminal;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Gauge, Paragraph};

use crate::app::Loading;
use crate::loader::Progress;

const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

/// What the job is doing and how far it is, as text and a ratio when known.
pub fn describe(p: Option<&Progress>) -> (String, Option<f64>) {
    match p {
        None => ("starting".to_owned(), None),
        Some(Progress::Connecting(addr)) => (format!("connecting to {}", for_terminal(addr)), None),
        Some(Progress::ListingBoots) => ("listing hosts and boots".to_owned(), None),
        Some(Progress::Reading {
            read,
            total: Some(total),
        }) => (
            format!("reading events: {read} of {total}"),
            Some(if *total == 0 {
                1.0
            } else {
                (*read as f64 / *total as f64).min(1.0)
            }),
        ),
        Some(Progress::Reading { read, total: None }) => (format!("reading events: {read}"), None),
        Some(Progress::Step { name, done, of }) => (
            format!(
                "pipeline step {}/{}: {}",
                (done + 1).min(*of),
                of,
                for_terminal(name)
            ),
            Some(if *of == 0 {
                1.0
            } else {
                *done as f64 / *of as f64
            }),
        ),
        Some(Progress::StoringCooked) => ("storing the cooked result".to_owned(), None),
    }
}

/// Draws the progress screen.
pub fn draw(frame: &mut Frame, area: Rect, l: &Loading, ticks: u64) {
    let body = Rect {
        height: area.height.saturating_sub(2),
        ..area
    };
    let popup = super::centered(body, 70, 7);
    let block = Block::bordered().title(" dockwatch: loading ");
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [what, step, gauge] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(Line::raw(format!("from {}", for_terminal(&l.what)))),
        what,
    );
    let (text, ratio) = describe(l.progress.as_ref());
    let spin = SPINNER[(ticks % 4) as usize];
    frame.render_widget(Paragraph::new(format!("{spin} {text}")), step);
    let gauge_widget = match ratio {
        Some(r) => Gauge::default().ratio(r.clamp(0.0, 1.0)),
        None => Gauge::default().ratio(0.0).label("…"),
    };
    frame.render_widget(
        gauge_widget.gauge_style(Style::default().fg(Color::Cyan)),
        gauge,
    );
}
