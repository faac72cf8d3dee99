//! The two status lines: the message or the active filters, and the keys that work here (from
//! the binding table).

use dockwatch_shared::presentation::sanitize::for_terminal;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{App, Browser};
use crate::file_table::{Scope, SortKey};
use crate::keys::{self, Context};

/// Draws the message line: the last message, then the active filters.
pub fn draw_message(frame: &mut Frame, area: Rect, app: &App, b: Option<&Browser>) {
    let mut spans = Vec::new();
    if let Some(msg) = &app.message {
        spans.push(Span::styled(
            format!("{} ", for_terminal(msg)),
            Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        ));
    }
    if let Some(b) = b {
        let mut filters = Vec::new();
        if !b.filter.is_empty() {
            filters.push(format!("time {}", b.filter.describe()));
        }
        if let Some(s) = &b.search {
            filters.push(format!(
                "search {:?} {}/{}",
                for_terminal(&s.query),
                if s.hits.is_empty() { 0 } else { s.current + 1 },
                s.hits.len()
            ));
        }
        match &b.files.scope {
            Scope::Process => {}
            Scope::Subtree => filters.push("files: subtree".to_owned()),
            Scope::Path(_) => filters.push("files: who touched the path".to_owned()),
        }
        if b.files.sort == SortKey::Path {
            filters.push("files by path".to_owned());
        }
        if !filters.is_empty() {
            spans.push(Span::styled(
                format!("[{}]", filters.join(" · ")),
                Style::default().fg(Color::Cyan),
            ));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Draws the key hints for a context: as many as fit, chosen by [`keys::hint_rank`] (how to
/// get help and out always, then what the investigator does, then moving about) and shown in
/// the table's order.
pub fn draw_keys(frame: &mut Frame, area: Rect, context: Context) {
    let all: Vec<&keys::Binding> = keys::hint_bindings(context).collect();
    let width = |h: &str| h.chars().count() + 3;
    let mut by_rank: Vec<usize> = (0..all.len()).collect();
    by_rank.sort_by_key(|&i| (keys::hint_rank(all[i].action), i));
    let mut budget = usize::from(area.width);
    let mut keep = vec![false; all.len()];
    for i in by_rank {
        let w = width(all[i].hint);
        if keys::hint_rank(all[i].action) == 0 || w <= budget {
            budget = budget.saturating_sub(w);
            keep[i] = true;
        }
    }
    let shown = all
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(b, _)| b.hint);
    let mut spans = Vec::new();
    for hint in shown {
        let (key, what) = hint.split_once(' ').unwrap_or((hint, ""));
        spans.push(Span::styled(
            format!(" {key}"),
            Style::default().fg(Color::Black).bg(Color::Gray),
        ));
        spans.push(Span::raw(format!(" {what} ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
